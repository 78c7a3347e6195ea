//! The packet decoder on arbitrary bytes: never panics, never reads past its
//! input, and what it accepts stays within the input.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mqtt_core::codec::{decode, decode_fixed_header, varint, Status};

fuzz_target!(|data: &[u8]| {
    // Fixed header alone.
    if let Ok(Status::Complete(h)) = decode_fixed_header(data) {
        assert!(h.packet_len() >= 2);
    }
    let _ = varint::decode(data);

    // Walk the input as a stream of packets, as the client's receive buffer does.
    let mut rest = data;
    let mut guard = 0;
    while !rest.is_empty() && guard < 64 {
        guard += 1;
        match decode(rest) {
            Ok(Status::Complete((packet, used))) => {
                assert!(used >= 2 && used <= rest.len(), "consumed {used} of {}", rest.len());
                // The fixed header must agree with what decode consumed.
                match decode_fixed_header(rest) {
                    Ok(Status::Complete(h)) => assert_eq!(h.packet_len(), used),
                    other => panic!("decode ok but fixed header {other:?}"),
                }
                let _ = packet.packet_type();
                rest = &rest[used..];
            }
            Ok(Status::Partial(needed)) => {
                assert!(needed > 0, "Partial(0)");
                // Giving it more bytes of anything must not change the verdict
                // into a panic either.
                break;
            }
            Err(_) => break,
        }
    }
});
