//! decode -> encode -> decode: whatever the decoder accepts, the encoder
//! reproduces, and the re-encoded bytes decode to the same packet.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mqtt_core::codec::{decode, Status};

fuzz_target!(|data: &[u8]| {
    let Ok(Status::Complete((packet, used))) = decode(data) else {
        return;
    };
    let len = packet
        .encoded_len()
        .unwrap_or_else(|e| panic!("decoded {packet:?} but cannot size it: {e:?}"));
    let mut buf = vec![0u8; len];
    let written = packet
        .encode(&mut buf)
        .unwrap_or_else(|e| panic!("decoded {packet:?} but cannot encode it: {e:?}"));
    assert_eq!(written, len, "encoded_len disagrees with encode");
    // A too-small buffer is refused, never overrun.
    if len > 0 {
        let mut short = vec![0u8; len - 1];
        assert!(packet.encode(&mut short).is_err(), "encode fitted {len} bytes into {}", len - 1);
    }
    match decode(&buf) {
        Ok(Status::Complete((again, used2))) => {
            assert_eq!(used2, len);
            assert_eq!(again, packet, "decode(encode(p)) != p");
        }
        other => panic!("re-encoded {packet:?} as {buf:?} decodes to {other:?}"),
    }
    // The encoding is canonical up to the remaining-length form: the input's
    // body (after the fixed header) must match ours byte for byte.
    let body_in = &data[used - body_len(&buf)..used];
    let body_out = &buf[len - body_len(&buf)..];
    assert_eq!(body_in, body_out, "body bytes differ after round trip");
    assert_eq!(data[0], buf[0], "first byte differs after round trip");
});

/// Bytes after the fixed header of a well-formed packet.
fn body_len(packet: &[u8]) -> usize {
    let mut i = 1;
    while packet[i] & 0x80 != 0 {
        i += 1;
    }
    packet.len() - i - 1
}
