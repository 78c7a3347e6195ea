//! End-to-end use of the C ABI, as the C glue will drive it.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::panic,
    // Tests call the ABI with valid pointers throughout.
    clippy::undocumented_unsafe_blocks
)]

use super::*;
use std::ffi::CStr;

fn slice(bytes: &[u8]) -> umqtt_slice {
    umqtt_slice {
        ptr: bytes.as_ptr(),
        len: bytes.len(),
    }
}

const ABSENT: umqtt_slice = umqtt_slice {
    ptr: ptr::null(),
    len: 0,
};

fn new_session() -> Box<umqtt_session> {
    let mut storage = Box::new(umqtt_session {
        opaque: [0xA5A5_A5A5_A5A5_A5A5; 96],
    });
    unsafe { umqtt_session_init(&mut *storage, 1) };
    storage
}

fn options(keep_alive_s: u16) -> umqtt_connect_options {
    umqtt_connect_options {
        client_id: slice(b"qpy"),
        username: ABSENT,
        password: ABSENT,
        will_topic: ABSENT,
        will_payload: ABSENT,
        keep_alive_s,
        protocol_level: 4,
        will_qos: 0,
        will_retain: false,
        clean_session: true,
        ping_max_unanswered: 0,
    }
}

fn receive(
    s: &mut umqtt_session,
    bytes: &[u8],
    now: u32,
    reply: &mut [u8; 4],
) -> (i32, umqtt_event, usize) {
    receive_with(s, &mut [], bytes, now, reply)
}

fn receive_with(
    s: &mut umqtt_session,
    subs: &mut [u8],
    bytes: &[u8],
    now: u32,
    reply: &mut [u8; 4],
) -> (i32, umqtt_event, usize) {
    let mut ev = EMPTY_EVENT;
    let mut reply_len = 0;
    let status = unsafe {
        umqtt_receive(
            s,
            subs.as_mut_ptr(),
            subs.len(),
            bytes.as_ptr(),
            bytes.len(),
            now,
            &mut ev,
            reply.as_mut_ptr(),
            reply.len(),
            &mut reply_len,
        )
    };
    (status, ev, reply_len)
}

fn connect(s: &mut umqtt_session, keep_alive_s: u16, now: u32) {
    let mut out = [0u8; 64];
    let mut out_len = 0;
    let status = unsafe {
        umqtt_connect(
            s,
            &options(keep_alive_s),
            now,
            out.as_mut_ptr(),
            out.len(),
            &mut out_len,
        )
    };
    assert_eq!(status, 0);
    assert_eq!(
        &out[..out_len],
        &[
            0x10,
            15,
            0,
            4,
            b'M',
            b'Q',
            b'T',
            b'T',
            4,
            2,
            0,
            keep_alive_s as u8,
            0,
            3,
            b'q',
            b'p',
            b'y'
        ]
    );
    let mut reply = [0u8; 4];
    // CONNACK fed in two pieces: first the fixed header only.
    let (status, ev, _) = receive(s, &[0x20, 0x02], now, &mut reply);
    assert_eq!(
        (status, ev.kind, ev.needed, ev.packet_len),
        (0, UMQTT_EVENT_NEED_MORE as u8, 2, 4)
    );
    let (status, ev, _) = receive(s, &[0x20, 0x02, 0x00, 0x00], now, &mut reply);
    assert_eq!(
        (status, ev.kind, ev.consumed, ev.session_present),
        (0, UMQTT_EVENT_CONNACK as u8, 4, false)
    );
    assert_eq!(unsafe { umqtt_status(s) }, UMQTT_STA_CONNECTED);
}

fn no_info() -> umqtt_publish_info {
    umqtt_publish_info {
        len: 0,
        payload_included: false,
        packet_id: 0,
        slot: 0,
        queued: false,
    }
}

/// (status, len, packet id)
fn subscribe(
    s: &mut umqtt_session,
    subs: &mut [u8],
    filter: &[u8],
    qos: u8,
    out: &mut [u8],
) -> (i32, usize, u16) {
    let (mut len, mut packet_id) = (0usize, 0u16);
    let status = unsafe {
        umqtt_subscribe(
            s,
            subs.as_mut_ptr(),
            subs.len(),
            slice(filter),
            qos,
            0,
            out.as_mut_ptr(),
            out.len(),
            &mut len,
            &mut packet_id,
        )
    };
    (status, len, packet_id)
}

/// (status, len, packet id)
fn unsubscribe(
    s: &mut umqtt_session,
    subs: &mut [u8],
    filter: &[u8],
    out: &mut [u8],
) -> (i32, usize, u16) {
    let (mut len, mut packet_id) = (0usize, 0u16);
    let status = unsafe {
        umqtt_unsubscribe(
            s,
            subs.as_mut_ptr(),
            subs.len(),
            slice(filter),
            0,
            out.as_mut_ptr(),
            out.len(),
            &mut len,
            &mut packet_id,
        )
    };
    (status, len, packet_id)
}

/// (status, len, slot)
fn restore_next(s: &mut umqtt_session, subs: &mut [u8], out: &mut [u8]) -> (i32, usize, u8) {
    let (mut len, mut slot) = (0usize, 0u8);
    let status = unsafe {
        umqtt_restore_next(
            s,
            subs.as_mut_ptr(),
            subs.len(),
            0,
            out.as_mut_ptr(),
            out.len(),
            &mut len,
            &mut slot,
        )
    };
    (status, len, slot)
}

fn request_result(s: &mut umqtt_session, packet_id: u16) -> (i32, u8) {
    let mut granted = 0xEE;
    let result = unsafe { umqtt_request_result(s, packet_id, &mut granted) };
    (result, granted)
}

fn publish(
    s: &mut umqtt_session,
    topic: &[u8],
    payload: &[u8],
    qos: u8,
    out: &mut [u8],
) -> (i32, umqtt_publish_info) {
    let mut info = no_info();
    let status = unsafe {
        umqtt_publish(
            s,
            slice(topic),
            slice(payload),
            qos,
            false,
            4,
            0,
            out.as_mut_ptr(),
            out.len(),
            &mut info,
        )
    };
    (status, info)
}

#[test]
fn full_client_flow() {
    let mut s = new_session();
    let s = &mut *s;
    connect(s, 10, 0);
    let mut reply = [0u8; 4];

    // Subscribe; the broker refuses it with 0x80.
    let mut out = [0u8; 64];
    let mut subs = [0u8; 64];
    let (status, out_len, packet_id) = subscribe(s, &mut subs, b"a/+", 1, &mut out);
    assert_eq!((status, packet_id), (0, 1));
    assert_eq!(&out[..out_len], &[0x82, 8, 0, 1, 0, 3, b'a', b'/', b'+', 1]);
    assert_eq!(request_result(s, 1), (UMQTT_REQUEST_PENDING, 0));
    let suback = [0x90, 0x03, 0x00, 0x01, 0x80];
    let (status, ev, _) = receive_with(s, &mut subs, &suback, 0, &mut reply);
    assert_eq!(
        (status, ev.kind, ev.packet_id, ev.refused),
        (0, UMQTT_EVENT_SUBACK as u8, 1, 1)
    );
    assert_eq!(request_result(s, 1), (UMQTT_REQUEST_REFUSED, 0));
    assert_eq!(request_result(s, 1), (UMQTT_REQUEST_UNKNOWN, 0));

    // QoS 1 publish occupies slot 0 until its PUBACK.
    let (status, info) = publish(s, b"t", b"hello", 1, &mut out);
    assert_eq!(
        (status, info.packet_id, info.slot, info.payload_included),
        (0, 2, 0, true)
    );
    assert_eq!(
        &out[..info.len],
        &[0x32, 10, 0, 1, b't', 0, 2, b'h', b'e', b'l', b'l', b'o']
    );
    assert!(unsafe { umqtt_publish_pending(s, 0, 2) });
    assert!(!unsafe { umqtt_publish_pending(s, 0, 3) });
    let (status, ev, reply_len) = receive(s, &[0x40, 0x02, 0x00, 0x02], 0, &mut reply);
    assert_eq!(
        (status, ev.kind, ev.packet_id, ev.slot, reply_len),
        (0, UMQTT_EVENT_PUBLISH_DONE as u8, 2, 0, 0)
    );
    assert!(!unsafe { umqtt_publish_pending(s, 0, 2) });

    // Inbound QoS 1 message: offsets into buf and a PUBACK reply.
    let inbound = [0x32, 0x08, 0x00, 0x03, b'x', b'/', b'y', 0x00, 0x05, b'!'];
    let (status, ev, reply_len) = receive(s, &inbound, 0, &mut reply);
    assert_eq!(
        (status, ev.kind, ev.qos, ev.packet_id),
        (0, UMQTT_EVENT_PUBLISH as u8, 1, 5)
    );
    assert_eq!(
        &inbound[ev.topic_offset..ev.topic_offset + ev.topic_len],
        b"x/y"
    );
    assert_eq!(
        &inbound[ev.payload_offset..ev.payload_offset + ev.payload_len],
        b"!"
    );
    assert_eq!(&reply[..reply_len], &[0x40, 0x02, 0x00, 0x05]);

    // A publish in flight survives a lost connection and goes out again with DUP.
    let (status, info) = publish(s, b"t", b"again", 1, &mut out);
    assert_eq!(status, 0);
    assert!(!unsafe { umqtt_link_lost(s, 900) }, "auto-reconnect is off");
    assert_eq!(unsafe { umqtt_status(s) }, UMQTT_STA_SERVER_CLOSED);
    let (status, _) = publish(s, b"t", b"x", 0, &mut out);
    assert_eq!(status, UMQTT_ERR_NOT_CONNECTED as i32);
    connect(s, 10, 1_000);
    let (status, _, slot) = restore_next(s, &mut [], &mut out);
    assert_eq!(status, UMQTT_RESTORE_RETRANSMIT);
    let mut again = no_info();
    let status = unsafe {
        umqtt_retransmit(
            s,
            slot,
            slice(b"t"),
            slice(b"again"),
            1_000,
            out.as_mut_ptr(),
            out.len(),
            &mut again,
        )
    };
    assert_eq!(status, 0);
    assert_eq!(again.packet_id, info.packet_id);
    assert_eq!(out[0], 0x3A, "PUBLISH QoS 1 with DUP");
    assert_eq!(restore_next(s, &mut [], &mut out).0, UMQTT_RESTORE_DONE);

    // Keepalive 10 s: PINGREQ at 7.5 s after the last send, dead 5 s later.
    let (mut out_len, mut wait) = (0usize, 0u32);
    let action = unsafe {
        umqtt_tick(
            s,
            1_000,
            out.as_mut_ptr(),
            out.len(),
            &mut out_len,
            &mut wait,
        )
    };
    assert_eq!((action, wait), (UMQTT_TICK_IDLE as i32, 7_500));
    let action = unsafe {
        umqtt_tick(
            s,
            8_500,
            out.as_mut_ptr(),
            out.len(),
            &mut out_len,
            &mut wait,
        )
    };
    assert_eq!(
        (action, out_len, wait),
        (umqtt_tick_action::UMQTT_TICK_SEND as i32, 2, 5_000)
    );
    assert_eq!(&out[..2], &[0xC0, 0x00]);
    let action = unsafe {
        umqtt_tick(
            s,
            13_500,
            out.as_mut_ptr(),
            out.len(),
            &mut out_len,
            &mut wait,
        )
    };
    assert_eq!(action, umqtt_tick_action::UMQTT_TICK_DEAD as i32);
}

use umqtt_tick_action::UMQTT_TICK_IDLE;

#[test]
fn refused_connack_reports_code() {
    let mut s = new_session();
    let mut out = [0u8; 64];
    let mut out_len = 0;
    assert_eq!(
        unsafe {
            umqtt_connect(
                &mut *s,
                &options(0),
                0,
                out.as_mut_ptr(),
                out.len(),
                &mut out_len,
            )
        },
        0
    );
    let (status, ev, _) = receive(&mut s, &[0x20, 0x02, 0x00, 0x04], 0, &mut [0u8; 4]);
    assert_eq!(
        (status, ev.return_code, ev.consumed),
        (UMQTT_ERR_REFUSED as i32, 4, 4)
    );
    assert_eq!(unsafe { umqtt_status(&*s) }, UMQTT_STA_CONNECTING);
    assert_eq!(
        unsafe { umqtt_login_failed(&mut *s, ev.return_code, 0) },
        UMQTT_RECONNECT_STOPPED
    );
    assert_eq!(unsafe { umqtt_status(&*s) }, UMQTT_STA_CLOSED);
}

/// Found by fuzz/fuzz_targets/ffi.rs (fuzz/regressions/ffi/
/// refused-connack-long-remaining-length): a refused CONNACK whose remaining
/// length is encoded in more bytes than needed reported `consumed` 4, so the
/// glue would have skipped only part of it.
#[test]
fn refused_connack_consumes_the_whole_packet() {
    let cases: [&[u8]; 4] = [
        &[0x20, 0x02, 0x00, 0x03],
        &[0x20, 0x82, 0x00, 0x00, 0x03],
        &[0x20, 0x82, 0x80, 0x00, 0x00, 0x03],
        &[0x20, 0x82, 0x80, 0x80, 0x00, 0x00, 0x03],
    ];
    for bytes in cases {
        let mut s = new_session();
        let mut out = [0u8; 64];
        let mut out_len = 0;
        let st = unsafe {
            umqtt_connect(
                &mut *s,
                &options(0),
                0,
                out.as_mut_ptr(),
                out.len(),
                &mut out_len,
            )
        };
        assert_eq!(st, 0);
        let mut input = bytes.to_vec();
        input.extend_from_slice(&[0xD0, 0x00]);
        let (status, ev, _) = receive(&mut s, &input, 0, &mut [0u8; 4]);
        assert_eq!(
            (status, ev.kind, ev.return_code, ev.consumed),
            (
                UMQTT_ERR_REFUSED as i32,
                UMQTT_EVENT_CONNACK as u8,
                3,
                bytes.len()
            ),
            "{bytes:02x?}"
        );
    }
}

#[test]
fn connect_option_validation() {
    let mut s = new_session();
    let mut out = [0u8; 128];
    let out_len = std::cell::Cell::new(0usize);
    let mut call = |opts: &umqtt_connect_options, cap: usize| unsafe {
        umqtt_connect(&mut *s, opts, 0, out.as_mut_ptr(), cap, out_len.as_ptr())
    };
    let password_only = umqtt_connect_options {
        password: slice(b"pw"),
        ..options(0)
    };
    assert_eq!(
        call(&password_only, 128),
        UMQTT_ERR_PASSWORD_WITHOUT_USER as i32
    );
    let level5 = umqtt_connect_options {
        protocol_level: 5,
        ..options(0)
    };
    assert_eq!(call(&level5, 128), UMQTT_ERR_INVALID_PROTOCOL_LEVEL as i32);
    let long_v31 = umqtt_connect_options {
        protocol_level: 3,
        client_id: slice(&[b'a'; 24]),
        ..options(0)
    };
    assert_eq!(call(&long_v31, 128), UMQTT_ERR_CLIENT_ID_TOO_LONG as i32);
    let bad_will = umqtt_connect_options {
        will_topic: slice(b"w/#"),
        ..options(0)
    };
    assert_eq!(call(&bad_will, 128), UMQTT_ERR_WILDCARD_IN_TOPIC as i32);
    let will_qos3 = umqtt_connect_options {
        will_topic: slice(b"w"),
        will_qos: 3,
        ..options(0)
    };
    assert_eq!(call(&will_qos3, 128), UMQTT_ERR_INVALID_QOS as i32);
    let null_client = umqtt_connect_options {
        client_id: ABSENT,
        ..options(0)
    };
    assert_eq!(call(&null_client, 4), UMQTT_ERR_BUFFER_TOO_SMALL as i32);
    assert_eq!(out_len.get(), 14, "needed bytes reported");
    assert_eq!(call(&null_client, 128), 0);
}

#[test]
fn publish_errors_and_header_only() {
    let mut s = new_session();
    connect(&mut s, 0, 0);
    let mut out = [0u8; 9];
    let (status, info) = publish(&mut s, b"a/b", &[1u8; 100], 2, &mut out);
    assert_eq!(
        (status, info.payload_included, info.len, info.slot),
        (0, false, 9, 0)
    );
    let (status, info) = publish(&mut s, b"a/b", &[1u8; 100], 1, &mut out[..5]);
    assert_eq!((status, info.len), (UMQTT_ERR_BUFFER_TOO_SMALL as i32, 9));
    let mut big = [0u8; 64];
    assert_eq!(
        publish(&mut s, b"a/#", b"", 0, &mut big).0,
        UMQTT_ERR_WILDCARD_IN_TOPIC as i32
    );
    assert_eq!(
        publish(&mut s, b"", b"", 0, &mut big).0,
        UMQTT_ERR_EMPTY_TOPIC as i32
    );
    assert_eq!(
        publish(&mut s, &[0xFF], b"", 0, &mut big).0,
        UMQTT_ERR_INVALID_UTF8 as i32
    );
    assert_eq!(
        publish(&mut s, b"t", b"", 3, &mut big).0,
        UMQTT_ERR_INVALID_QOS as i32
    );
    let (status, info) = publish(&mut s, b"t", b"", 0, &mut big);
    assert_eq!((status, info.slot, info.packet_id), (0, 0xFF, 0));
}

#[test]
fn receive_errors_map_to_statuses() {
    let mut s = new_session();
    connect(&mut s, 0, 0);
    let mut reply = [0u8; 4];
    let cases: [(&[u8], umqtt_status_code); 6] = [
        (&[0xC0, 0x00], UMQTT_ERR_UNEXPECTED_PACKET),
        (&[0x30, 0xFF, 0xFF, 0xFF, 0xFF], UMQTT_ERR_REMAINING_LENGTH),
        (&[0x41, 0x02, 0x00, 0x01], UMQTT_ERR_RESERVED_FLAGS),
        (&[0x36, 0x00], UMQTT_ERR_INVALID_QOS),
        (&[0x30, 0x03, 0x00, 0x01, b'+'], UMQTT_ERR_WILDCARD_IN_TOPIC),
        (&[0x40, 0x02, 0x00, 0x00], UMQTT_ERR_MALFORMED),
    ];
    for (bytes, expected) in cases {
        assert_eq!(
            receive(&mut s, bytes, 0, &mut reply).0,
            expected as i32,
            "{bytes:02X?}"
        );
    }
    let (status, ev, _) = receive(&mut s, &[], 0, &mut reply);
    assert_eq!(
        (status, ev.kind, ev.needed),
        (0, UMQTT_EVENT_NEED_MORE as u8, 2)
    );
}

#[test]
fn null_pointers_and_uninitialised_sessions_are_errors() {
    let invalid = UMQTT_ERR_INVALID_ARGUMENT as i32;
    let mut out = [0u8; 16];
    let mut out_len = 0usize;
    let mut packet_id = 0u16;
    let mut slot = 0u8;
    let mut wait = 0u32;
    let mut granted = 0u8;
    let mut subs = [0u8; 16];
    let null = ptr::null_mut::<umqtt_session>();
    unsafe {
        // NULL sessions: errors or neutral values, never dereferenced.
        umqtt_session_init(null, 7);
        umqtt_set_auto_reconnect(null, true);
        umqtt_close(null);
        umqtt_request_forget(null, 1);
        umqtt_inbound_forget(null, 1);
        umqtt_bytes_received(null, 0);
        assert_eq!(umqtt_status(null), UMQTT_STA_CLOSED);
        assert!(!umqtt_link_lost(null, 0));
        assert!(!umqtt_publish_pending(null, 0, 1));
        assert_eq!(umqtt_login_begin(null, false), invalid);
        assert_eq!(umqtt_login_failed(null, 0, 0), invalid);
        assert_eq!(umqtt_reconnect_poll(null, 0, &mut wait), invalid);
        assert_eq!(umqtt_request_result(null, 1, &mut granted), invalid);
        assert_eq!(
            umqtt_restore_next(
                null,
                subs.as_mut_ptr(),
                16,
                0,
                out.as_mut_ptr(),
                16,
                &mut out_len,
                &mut slot
            ),
            invalid
        );
        assert_eq!(
            umqtt_connect(null, &options(0), 0, out.as_mut_ptr(), 16, &mut out_len),
            invalid
        );
        assert_eq!(
            umqtt_ping(null, 0, out.as_mut_ptr(), 16, &mut out_len),
            invalid
        );

        // Storage never initialised: refused, not interpreted.
        let mut garbage = umqtt_session {
            opaque: [0x1234_5678_9ABC_DEF0; 96],
        };
        assert_eq!(
            umqtt_ping(&mut garbage, 0, out.as_mut_ptr(), 16, &mut out_len),
            invalid
        );
        assert_eq!(umqtt_status(&garbage), UMQTT_STA_CLOSED);
        assert_eq!(umqtt_login_begin(&mut garbage, true), invalid);

        let mut s = new_session();
        let s = &mut *s;
        assert_eq!(umqtt_reconnect_poll(s, 0, ptr::null_mut()), invalid);
        assert_eq!(umqtt_request_result(s, 1, ptr::null_mut()), invalid);
        assert_eq!(
            umqtt_restore_next(
                s,
                subs.as_mut_ptr(),
                16,
                0,
                out.as_mut_ptr(),
                16,
                ptr::null_mut(),
                &mut slot
            ),
            invalid
        );
        assert_eq!(
            umqtt_restore_next(
                s,
                subs.as_mut_ptr(),
                16,
                0,
                out.as_mut_ptr(),
                16,
                &mut out_len,
                ptr::null_mut()
            ),
            invalid
        );
        assert_eq!(
            umqtt_restore_next(
                s,
                ptr::null_mut(),
                16,
                0,
                out.as_mut_ptr(),
                16,
                &mut out_len,
                &mut slot
            ),
            invalid
        );
        assert_eq!(
            umqtt_subs_reserve(ptr::null(), 8, slice(b"a"), &mut out_len),
            invalid
        );
        assert_eq!(
            umqtt_subs_reserve(ptr::null(), 0, slice(b"a"), ptr::null_mut()),
            invalid
        );
        assert_eq!(
            umqtt_subs_reserve(ptr::null(), 0, ABSENT, &mut out_len),
            UMQTT_ERR_INVALID_TOPIC_FILTER as i32
        );
        assert_eq!(
            umqtt_connect(s, ptr::null(), 0, out.as_mut_ptr(), 16, &mut out_len),
            invalid
        );
        assert_eq!(
            umqtt_connect(s, &options(0), 0, ptr::null_mut(), 16, &mut out_len),
            invalid
        );
        assert_eq!(
            umqtt_connect(s, &options(0), 0, out.as_mut_ptr(), 16, ptr::null_mut()),
            invalid
        );
        // NULL buffer with zero capacity is merely too small.
        assert_eq!(
            umqtt_connect(s, &options(0), 0, ptr::null_mut(), 0, &mut out_len),
            UMQTT_ERR_BUFFER_TOO_SMALL as i32
        );
        let mut ev = EMPTY_EVENT;
        let mut reply = [0u8; 4];
        assert_eq!(
            umqtt_receive(
                s,
                ptr::null_mut(),
                0,
                ptr::null(),
                5,
                0,
                &mut ev,
                reply.as_mut_ptr(),
                4,
                &mut out_len
            ),
            invalid
        );
        assert_eq!(
            umqtt_receive(
                s,
                ptr::null_mut(),
                4,
                [0xD0, 0].as_ptr(),
                2,
                0,
                &mut ev,
                reply.as_mut_ptr(),
                4,
                &mut out_len
            ),
            invalid,
            "NULL arena with a capacity"
        );
        assert_eq!(
            umqtt_receive(
                s,
                ptr::null_mut(),
                0,
                ptr::null(),
                0,
                0,
                ptr::null_mut(),
                reply.as_mut_ptr(),
                4,
                &mut out_len
            ),
            invalid
        );
        for (len, id) in [
            (ptr::null_mut(), &mut packet_id as *mut u16),
            (&mut out_len as *mut usize, ptr::null_mut()),
        ] {
            assert_eq!(
                umqtt_subscribe(
                    s,
                    subs.as_mut_ptr(),
                    16,
                    slice(b"a"),
                    0,
                    0,
                    out.as_mut_ptr(),
                    16,
                    len,
                    id
                ),
                invalid
            );
            assert_eq!(
                umqtt_unsubscribe(
                    s,
                    subs.as_mut_ptr(),
                    16,
                    slice(b"a"),
                    0,
                    out.as_mut_ptr(),
                    16,
                    len,
                    id
                ),
                invalid
            );
        }
        assert_eq!(
            umqtt_subscribe(
                s,
                ptr::null_mut(),
                16,
                slice(b"a"),
                0,
                0,
                out.as_mut_ptr(),
                16,
                &mut out_len,
                &mut packet_id
            ),
            invalid
        );
        assert_eq!(
            umqtt_tick(s, 0, out.as_mut_ptr(), 16, &mut out_len, ptr::null_mut()),
            invalid
        );
        assert_eq!(
            umqtt_tick(s, 0, out.as_mut_ptr(), 16, &mut out_len, &mut wait),
            UMQTT_TICK_IDLE as i32
        );
        assert_eq!(wait, u32::MAX);
        let mut info = no_info();
        assert_eq!(
            umqtt_publish(
                s,
                ABSENT,
                ABSENT,
                0,
                false,
                0,
                0,
                out.as_mut_ptr(),
                16,
                ptr::null_mut()
            ),
            invalid
        );
        assert_eq!(
            umqtt_retransmit(s, 0, ABSENT, ABSENT, 0, out.as_mut_ptr(), 16, &mut info),
            UMQTT_ERR_NOT_CONNECTED as i32
        );
        assert_eq!(
            umqtt_restore_next(
                s,
                subs.as_mut_ptr(),
                16,
                0,
                out.as_mut_ptr(),
                16,
                &mut out_len,
                &mut slot
            ),
            UMQTT_ERR_NOT_CONNECTED as i32
        );
        assert_eq!(slot, 0xFF);
    }
}

#[test]
fn subscribe_filter_validation_and_unsubscribe() {
    let mut s = new_session();
    connect(&mut s, 0, 0);
    let mut out = [0u8; 32];
    let mut subs = [0u8; 64];
    assert_eq!(
        subscribe(&mut s, &mut subs, b"a/#/b", 0, &mut out).0,
        UMQTT_ERR_INVALID_TOPIC_FILTER as i32
    );
    assert_eq!(
        subscribe(&mut s, &mut subs, b"", 0, &mut out).0,
        UMQTT_ERR_INVALID_TOPIC_FILTER as i32
    );
    assert_eq!(
        subscribe(&mut s, &mut subs, b"\xff", 0, &mut out).0,
        UMQTT_ERR_INVALID_UTF8 as i32
    );
    assert_eq!(
        subscribe(&mut s, &mut subs, b"a", 3, &mut out).0,
        UMQTT_ERR_INVALID_QOS as i32
    );
    assert_eq!(subs, [0u8; 64], "nothing changes on error");
    let (status, len, packet_id) = subscribe(&mut s, &mut subs, b"a/#", 2, &mut out[..4]);
    assert_eq!(
        (status, len, packet_id),
        (UMQTT_ERR_BUFFER_TOO_SMALL as i32, 10, 0)
    );
    let (status, _, sub_id) = subscribe(&mut s, &mut subs, b"a/#", 2, &mut out);
    assert_eq!(status, 0);
    let (status, _, packet_id) = unsubscribe(&mut s, &mut subs, b"a/#", &mut out);
    assert_eq!(status, 0);
    assert_eq!(
        &out[..9],
        &[0xA2, 7, 0, packet_id as u8, 0, 3, b'a', b'/', b'#']
    );
    // The SUBACK of the earlier request still answers its waiter.
    let (status, ev, _) = receive_with(
        &mut s,
        &mut subs,
        &[0x90, 0x03, 0x00, sub_id as u8, 0x02],
        0,
        &mut [0u8; 4],
    );
    assert_eq!(
        (status, ev.kind, ev.refused),
        (0, UMQTT_EVENT_SUBACK as u8, 0)
    );
    assert_eq!(request_result(&mut s, sub_id), (UMQTT_REQUEST_DONE, 2));
    let (status, ev, _) = receive_with(
        &mut s,
        &mut subs,
        &[0xB0, 0x02, 0x00, packet_id as u8],
        0,
        &mut [0u8; 4],
    );
    assert_eq!((status, ev.kind), (0, UMQTT_EVENT_UNSUBACK as u8));
    assert_eq!(request_result(&mut s, packet_id), (UMQTT_REQUEST_DONE, 0));
    // Nothing left to restore: the table is empty.
    assert_eq!(mqtt_core::session::subs::entries(&subs).count(), 0);
    let mut out_len = 0;
    assert_eq!(
        unsafe { umqtt_disconnect(&mut *s, out.as_mut_ptr(), 32, &mut out_len) },
        0
    );
    assert_eq!(&out[..out_len], &[0xE0, 0x00]);
    assert_eq!(unsafe { umqtt_status(&*s) }, UMQTT_STA_CLOSED);
}

#[test]
fn messages_are_static_c_strings() {
    for status in -30..=5 {
        let text = unsafe { CStr::from_ptr(umqtt_status_message(status)) };
        assert!(!text.to_bytes().is_empty());
    }
    let text = |p| unsafe { CStr::from_ptr(p) }.to_str().unwrap();
    assert_eq!(text(umqtt_status_message(-16)), "connection refused");
    assert_eq!(text(umqtt_status_message(99)), "unknown error");
    assert_eq!(text(umqtt_connack_message(0)), "connection accepted");
    assert_eq!(text(umqtt_connack_message(4)), "bad user name or password");
    assert_eq!(text(umqtt_connack_message(6)), "unknown");
    // each code to its own text: the ends of the list, around and past them
    assert_eq!(text(umqtt_status_message(0)), "ok");
    assert_eq!(text(umqtt_status_message(-1)), "buffer too small");
    assert_eq!(text(umqtt_status_message(-13)), "invalid protocol level");
    assert_eq!(
        text(umqtt_status_message(-26)),
        "too many requests awaiting an answer"
    );
    assert_eq!(text(umqtt_status_message(-27)), "unknown error");
    assert_eq!(text(umqtt_status_message(1)), "unknown error");
    assert_eq!(text(umqtt_status_message(i32::MIN)), "unknown error");
    assert_eq!(text(umqtt_status_message(i32::MAX)), "unknown error");
    assert_eq!(text(umqtt_connack_message(5)), "not authorized");
    assert_eq!(text(umqtt_connack_message(255)), "unknown");
}

#[test]
fn check_topic_name_accepts_names_and_rejects_filters() {
    let check = |t: &[u8]| unsafe {
        umqtt_check_topic_name(umqtt_slice {
            ptr: t.as_ptr(),
            len: t.len(),
        })
    };
    assert_eq!(check(b"$oc/devices/d/sys/messages/up"), UMQTT_OK as i32);
    assert_eq!(check(b"a/+/b"), UMQTT_ERR_WILDCARD_IN_TOPIC as i32);
    assert_eq!(check(b"a/#"), UMQTT_ERR_WILDCARD_IN_TOPIC as i32);
    assert_eq!(check(b""), UMQTT_ERR_EMPTY_TOPIC as i32);
    assert_eq!(check(b"a\xffb"), UMQTT_ERR_INVALID_UTF8 as i32);
    assert_eq!(check(b"a\0b"), UMQTT_ERR_INVALID_UTF8 as i32);
    let null = umqtt_slice {
        ptr: core::ptr::null(),
        len: 3,
    };
    assert_eq!(
        unsafe { umqtt_check_topic_name(null) },
        UMQTT_ERR_INVALID_ARGUMENT as i32
    );
}

#[test]
fn publish_queues_while_reconnecting_then_restore_hands_it_out() {
    let mut s = new_session();
    let s = &mut *s;
    let mut out = [0u8; 32];
    let mut info = no_info();
    let publish_q = |s: &mut umqtt_session, info: &mut umqtt_publish_info, qos: u8, max: u8| unsafe {
        let mut out = [0u8; 32];
        umqtt_publish(
            s,
            slice(b"t/q"),
            slice(b"hi"),
            qos,
            false,
            max,
            0,
            out.as_mut_ptr(),
            out.len(),
            info,
        )
    };
    // Never connected: nothing to reconnect to.
    assert_eq!(
        publish_q(s, &mut info, 1, 4),
        UMQTT_ERR_NOT_CONNECTED as i32
    );
    unsafe { umqtt_set_auto_reconnect(s, true) };
    connect(s, 0, 0);
    assert!(unsafe { umqtt_link_lost(s, 0) });
    assert_eq!(publish_q(s, &mut info, 1, 1), UMQTT_OK as i32);
    assert_eq!((info.len, info.packet_id, info.queued), (0, 1, true));
    let slot = info.slot;
    assert!(unsafe { umqtt_publish_pending(s, slot, 1) });
    assert_eq!(publish_q(s, &mut info, 1, 1), UMQTT_ERR_QUEUE_FULL as i32);
    let msg = unsafe { CStr::from_ptr(umqtt_status_message(UMQTT_ERR_QUEUE_FULL as i32)) };
    assert_eq!(msg.to_str().unwrap(), "offline queue full");
    assert_eq!(
        publish_q(s, &mut info, 0, 4),
        UMQTT_ERR_NOT_CONNECTED as i32
    );
    assert_eq!(unsafe { umqtt_login_begin(s, true) }, UMQTT_OK as i32);
    connect(s, 0, 0);
    let (status, _, restore_slot) = restore_next(s, &mut [], &mut out);
    assert_eq!((status, restore_slot), (UMQTT_RESTORE_RETRANSMIT, slot));
    assert_eq!(
        unsafe {
            umqtt_retransmit(
                s,
                slot,
                slice(b"t/q"),
                slice(b"hi"),
                0,
                out.as_mut_ptr(),
                out.len(),
                &mut info,
            )
        },
        UMQTT_OK as i32
    );
    assert_eq!(
        &out[..info.len],
        &[0x32, 0x09, 0x00, 0x03, b't', b'/', b'q', 0x00, 0x01, b'h', b'i']
    );
    assert_eq!(restore_next(s, &mut [], &mut out).0, UMQTT_RESTORE_DONE);
    assert_eq!(restore_next(s, &mut [], &mut out).0, UMQTT_RESTORE_DONE);
}

#[test]
fn reconnect_cycle_through_the_abi() {
    let mut s = new_session();
    let s = &mut *s;
    let mut wait = 0u32;
    let poll =
        |s: &umqtt_session, now: u32, wait: &mut u32| unsafe { umqtt_reconnect_poll(s, now, wait) };
    assert_eq!(unsafe { umqtt_status(s) }, UMQTT_STA_CLOSED);
    assert_eq!(poll(s, 0, &mut wait), UMQTT_RECONNECT_NONE);
    assert_eq!(wait, u32::MAX);
    unsafe { umqtt_set_auto_reconnect(s, true) };
    assert_eq!(unsafe { umqtt_login_begin(s, false) }, UMQTT_OK as i32);
    assert_eq!(unsafe { umqtt_status(s) }, UMQTT_STA_CONNECTING);
    assert_eq!(unsafe { umqtt_login_begin(s, true) }, UMQTT_ERR_BUSY as i32);
    connect(s, 0, 0);
    assert!(unsafe { umqtt_link_lost(s, u32::MAX - 10) });
    assert!(!unsafe { umqtt_link_lost(s, u32::MAX - 10) }, "idempotent");
    assert_eq!(unsafe { umqtt_status(s) }, UMQTT_STA_SERVER_CLOSED);
    assert_eq!(poll(s, u32::MAX - 10, &mut wait), UMQTT_RECONNECT_DUE);
    assert_eq!(wait, 0);
    assert_eq!(unsafe { umqtt_login_begin(s, true) }, UMQTT_OK as i32);
    assert_eq!(poll(s, u32::MAX - 10, &mut wait), UMQTT_RECONNECT_NONE);
    // A transient failure schedules the next attempt across the tick wrap.
    assert_eq!(
        unsafe { umqtt_login_failed(s, 0, u32::MAX - 10) },
        UMQTT_RECONNECT_RETRY
    );
    assert_eq!(poll(s, u32::MAX - 10, &mut wait), UMQTT_RECONNECT_WAIT);
    assert!((500..=1_000).contains(&wait), "{wait}");
    let due = (u32::MAX - 10).wrapping_add(wait);
    assert_eq!(
        poll(s, due.wrapping_sub(1), &mut wait),
        UMQTT_RECONNECT_WAIT
    );
    assert_eq!(wait, 1);
    assert_eq!(poll(s, due, &mut wait), UMQTT_RECONNECT_DUE);
    // The CONNACK of a background login reports `reconnected`.
    assert_eq!(unsafe { umqtt_login_begin(s, true) }, UMQTT_OK as i32);
    let mut out = [0u8; 64];
    let mut out_len = 0;
    assert_eq!(
        unsafe { umqtt_connect(s, &options(0), 0, out.as_mut_ptr(), 64, &mut out_len) },
        0
    );
    let (status, ev, _) = receive(s, &[0x20, 0x02, 0x01, 0x00], 0, &mut [0u8; 4]);
    assert_eq!(
        (status, ev.kind, ev.session_present, ev.reconnected),
        (0, UMQTT_EVENT_CONNACK as u8, true, true)
    );
    // A permanent refusal stops.
    unsafe { umqtt_link_lost(s, 0) };
    assert_eq!(unsafe { umqtt_login_begin(s, true) }, UMQTT_OK as i32);
    assert_eq!(
        unsafe { umqtt_login_failed(s, 5, 0) },
        UMQTT_RECONNECT_STOPPED
    );
    assert_eq!(unsafe { umqtt_status(s) }, UMQTT_STA_CLOSED);
    assert_eq!(poll(s, 0, &mut wait), UMQTT_RECONNECT_NONE);
    // The script closes: nothing scheduled.
    connect(s, 0, 0);
    unsafe { umqtt_close(s) };
    assert_eq!(unsafe { umqtt_status(s) }, UMQTT_STA_CLOSED);
    assert!(!unsafe { umqtt_link_lost(s, 0) });
}

#[test]
fn requests_table_and_restore_through_the_abi() {
    let mut s = new_session();
    let s = &mut *s;
    let mut out = [0u8; 64];
    // Offline subscribes go into the table only; the arena grows on demand.
    let mut needed = 0usize;
    assert_eq!(
        unsafe { umqtt_subs_reserve(ptr::null(), 0, slice(b"a/1"), &mut needed) },
        0
    );
    assert_eq!(needed, 12);
    let mut subs = vec![0u8; needed];
    assert_eq!(
        subscribe(s, &mut subs, b"a/1", 1, &mut out),
        (UMQTT_OK as i32, 0, 0)
    );
    assert_eq!(
        subscribe(s, &mut subs[..needed - 1], b"a/2", 1, &mut out).0,
        UMQTT_ERR_TOO_MANY_SUBSCRIPTIONS as i32
    );
    assert_eq!(
        unsafe { umqtt_subs_reserve(subs.as_ptr(), subs.len(), slice(b"a/2"), &mut needed) },
        0
    );
    assert_eq!(needed, 22);
    subs.resize(64, 0xAA);
    assert_eq!(subscribe(s, &mut subs, b"a/2", 0, &mut out).0, 0);
    assert_eq!(subscribe(s, &mut subs, b"gone", 0, &mut out).0, 0);
    assert_eq!(unsubscribe(s, &mut subs, b"gone", &mut out), (0, 0, 0));
    // Login: the restore sends both filters, then DONE.
    connect(s, 0, 0);
    let (status, len, _) = restore_next(s, &mut subs, &mut out[..8]);
    assert_eq!((status, len), (UMQTT_ERR_BUFFER_TOO_SMALL as i32, 10));
    let (status, len, slot) = restore_next(s, &mut subs, &mut out);
    assert_eq!((status, len, slot), (UMQTT_RESTORE_SEND, 16, 0xFF));
    assert_eq!(
        &out[..len],
        &[0x82, 14, 0, 1, 0, 3, b'a', b'/', b'1', 1, 0, 3, b'a', b'/', b'2', 0]
    );
    assert_eq!(restore_next(s, &mut subs, &mut out).0, UMQTT_RESTORE_DONE);
    // No waiter for restored entries.
    assert_eq!(request_result(s, 1), (UMQTT_REQUEST_UNKNOWN, 0));
    let (_, ev, _) = receive_with(s, &mut subs, &[0x90, 4, 0, 1, 1, 0x80], 0, &mut [0u8; 4]);
    assert_eq!((ev.kind, ev.refused), (UMQTT_EVENT_SUBACK as u8, 1));
    // Concurrent waiters; one gives up, one is lost with the link.
    let (_, _, a) = subscribe(s, &mut subs, b"b", 0, &mut out);
    let (_, _, b) = subscribe(s, &mut subs, b"c", 0, &mut out);
    assert_ne!(a, b);
    unsafe { umqtt_request_forget(s, a) };
    assert_eq!(request_result(s, a), (UMQTT_REQUEST_UNKNOWN, 0));
    assert_eq!(request_result(s, b), (UMQTT_REQUEST_PENDING, 0));
    unsafe { umqtt_link_lost(s, 0) };
    assert_eq!(request_result(s, b), (UMQTT_REQUEST_LOST, 0));
    assert_eq!(request_result(s, b), (UMQTT_REQUEST_UNKNOWN, 0));
    // Caps: the 33rd filter is refused.
    let mut big = vec![0u8; UMQTT_SUBS_MAX_BYTES];
    for i in 0..UMQTT_MAX_SUBSCRIPTIONS {
        let name = format!("f/{i}");
        assert_eq!(subscribe(s, &mut big, name.as_bytes(), 0, &mut out).0, 0);
    }
    assert_eq!(
        subscribe(s, &mut big, b"f/x", 0, &mut out).0,
        UMQTT_ERR_TOO_MANY_SUBSCRIPTIONS as i32
    );
    assert_eq!(
        unsafe { umqtt_subs_reserve(big.as_ptr(), big.len(), slice(b"f/x"), &mut needed) },
        UMQTT_ERR_TOO_MANY_SUBSCRIPTIONS as i32
    );
}

#[test]
fn request_records_fill_up_with_pending_full() {
    let mut s = new_session();
    connect(&mut s, 0, 0);
    let mut out = [0u8; 32];
    for _ in 0..16 {
        assert_eq!(unsubscribe(&mut s, &mut [], b"x", &mut out).0, 0);
    }
    assert_eq!(
        unsubscribe(&mut s, &mut [], b"x", &mut out).0,
        UMQTT_ERR_PENDING_FULL as i32
    );
    let text = unsafe { CStr::from_ptr(umqtt_status_message(-26)) };
    assert_eq!(
        text.to_str().unwrap(),
        "too many requests awaiting an answer"
    );
}

#[test]
fn inbound_forget_lets_a_redelivery_through() {
    let mut s = new_session();
    connect(&mut s, 0, 0);
    let qos2 = [0x34, 0x05, 0x00, 0x01, b'a', 0x00, 0x09];
    let (_, ev, _) = receive(&mut s, &qos2, 0, &mut [0u8; 4]);
    assert!(!ev.duplicate);
    let (_, ev, _) = receive(&mut s, &qos2, 0, &mut [0u8; 4]);
    assert!(ev.duplicate);
    unsafe { umqtt_inbound_forget(&mut *s, 9) };
    let (_, ev, _) = receive(&mut s, &qos2, 0, &mut [0u8; 4]);
    assert!(!ev.duplicate);
}

#[test]
fn next_is_publish_peeks_only_the_packet_type() {
    let peek = |b: &[u8]| unsafe { umqtt_next_is_publish(b.as_ptr(), b.len()) };
    assert!(peek(&[0x30, 0x05, 0x00]));
    assert!(peek(&[0x32, 0x80, 0x01]));
    assert!(!peek(&[0x40, 0x02, 0x00, 0x01]));
    assert!(!peek(&[0x30]));
    assert!(!peek(&[]));
    assert!(!peek(&[0x31 | 0x06, 0x00]));
    assert!(!unsafe { umqtt_next_is_publish(core::ptr::null(), 4) });
}

#[test]
fn a_login_failure_reported_twice_changes_nothing() {
    let mut s = new_session();
    let s = &mut *s;
    unsafe { umqtt_set_auto_reconnect(s, true) };
    connect(s, 0, 0);
    assert!(unsafe { umqtt_link_lost(s, 0) });
    assert_eq!(unsafe { umqtt_login_begin(s, true) }, 0);
    assert!(!unsafe { umqtt_link_lost(s, 0) });
    assert_eq!(unsafe { umqtt_status(s) }, UMQTT_STA_CONNECTING);
    assert_eq!(
        unsafe { umqtt_login_failed(s, 3, 0) },
        UMQTT_RECONNECT_RETRY
    );
    assert_eq!(
        unsafe { umqtt_login_failed(s, 0, 0) },
        UMQTT_RECONNECT_RETRY
    );
    assert_eq!(unsafe { umqtt_status(s) }, UMQTT_STA_SERVER_CLOSED);
}

#[test]
fn subs_entry_lists_remembered_filters() {
    let mut s = new_session();
    let s = &mut *s;
    let mut out = [0u8; 64];
    let mut subs = vec![0u8; 128];
    let mut filter = slice(b"x");
    // An empty (or absent) table has no entries.
    assert_eq!(
        unsafe { umqtt_subs_entry(ptr::null(), 0, 0, &mut filter) },
        UMQTT_ERR_NO_SUCH_SLOT as i32
    );
    assert_eq!((filter.ptr, filter.len), (ptr::null(), 0));
    assert_eq!(
        unsafe { umqtt_subs_entry(subs.as_ptr(), subs.len(), 0, ptr::null_mut()) },
        UMQTT_ERR_INVALID_ARGUMENT as i32
    );
    assert_eq!(subscribe(s, &mut subs, b"a/1", 1, &mut out).0, 0);
    assert_eq!(subscribe(s, &mut subs, b"b/#", 2, &mut out).0, 0);
    assert_eq!(subscribe(s, &mut subs, b"c", 0, &mut out).0, 0);
    let entry = |index: usize| {
        let mut f = slice(b"");
        let qos = unsafe { umqtt_subs_entry(subs.as_ptr(), subs.len(), index, &mut f) };
        let name = if f.len == 0 {
            Vec::new()
        } else {
            unsafe { std::slice::from_raw_parts(f.ptr, f.len) }.to_vec()
        };
        (qos, name)
    };
    assert_eq!(entry(0), (1, b"a/1".to_vec()));
    assert_eq!(entry(1), (2, b"b/#".to_vec()));
    assert_eq!(entry(2), (0, b"c".to_vec()));
    assert_eq!(entry(3), (UMQTT_ERR_NO_SUCH_SLOT as i32, Vec::new()));
    // Online, a filter being unsubscribed is no longer listed.
    connect(s, 0, 0);
    while restore_next(s, &mut subs, &mut out).0 != UMQTT_RESTORE_DONE {}
    let (st, len, _) = unsubscribe(s, &mut subs, b"b/#", &mut out);
    assert_eq!(st, 0);
    assert!(len > 0);
    let mut f = slice(b"");
    assert_eq!(
        unsafe { umqtt_subs_entry(subs.as_ptr(), subs.len(), 1, &mut f) },
        0
    );
    assert_eq!(unsafe { std::slice::from_raw_parts(f.ptr, f.len) }, b"c");
}
