//! The C ABI (`umqtt_*` of rust/ffi/src/umqtt.rs) with arbitrary call
//! sequences, arbitrary input lengths, undersized and NULL buffers, NULL
//! out-parameters and an uninitialised session.
//!
//! The ffi crate is a staticlib only, so its module is compiled into this
//! target directly (#[path]); the functions exercised are the very source the
//! firmware links.
#![no_main]
#![allow(clippy::missing_safety_doc, dead_code, unused_imports)]

#[path = "../../rust/ffi/src/umqtt.rs"]
mod umqtt;

use arbitrary::Arbitrary;
use core::ptr;
use libfuzzer_sys::fuzz_target;
use umqtt::*;

#[derive(Arbitrary, Debug)]
enum Op {
    Init,
    Connect { opts: Opts, cap: u16, null_out: bool, null_len: bool, null_opts: bool },
    Receive { bytes: Vec<u8>, take: u16, reply_cap: u8, null_buf: bool, null_ev: bool },
    ReceiveConnAck(u8),
    Publish { topic: Slice, payload: Slice, qos: u8, retain: bool, cap: u16, null_info: bool },
    InflightSlots { cap: u8, null: bool },
    Retransmit { slot: u8, topic: Slice, payload: Slice, cap: u16 },
    ReleaseSlot(u8),
    Subscribe { filter: Slice, qos: u8, cap: u16 },
    Unsubscribe { filter: Slice, cap: u16 },
    Ping { cap: u8 },
    Disconnect { cap: u8 },
    Lost,
    BytesReceived,
    Tick { cap: u8 },
    Advance(u32),
    CheckTopic(Slice),
    Messages(i32, u8),
    Backoff(u32, u32),
    Corrupt { at: u16, byte: u8 },
}

#[derive(Arbitrary, Debug)]
struct Slice {
    bytes: Vec<u8>,
    /// NULL pointer with this length (0 = absent / empty).
    null_len: Option<u8>,
}

impl Slice {
    fn get(&self) -> umqtt_slice {
        match self.null_len {
            Some(len) => umqtt_slice { ptr: ptr::null(), len: len as usize },
            None => umqtt_slice { ptr: self.bytes.as_ptr(), len: self.bytes.len() },
        }
    }
}

#[derive(Arbitrary, Debug)]
struct Opts {
    client_id: Slice,
    username: Slice,
    password: Slice,
    will_topic: Slice,
    will_payload: Slice,
    keep_alive_s: u16,
    protocol_level: u8,
    will_qos: u8,
    will_retain: bool,
    clean_session: bool,
    ping_max_unanswered: u8,
}

fn buf(cap: usize) -> Vec<u8> {
    // Exactly `cap` bytes, so an overrun is an out-of-bounds write ASan sees.
    vec![0xAAu8; cap]
}

fn ok_or_err(st: i32) {
    assert!((-23..=0).contains(&st), "status {st} outside the documented range");
    let msg = umqtt_status_message(st);
    assert!(!msg.is_null());
}

fuzz_target!(|ops: Vec<Op>| {
    let mut storage = Box::new(umqtt_session { opaque: [0x5A5A_5A5A_5A5A_5A5A; 96] });
    let s: *mut umqtt_session = &mut *storage;
    let mut now: u32 = 0;
    unsafe {
        for op in ops.iter().take(200) {
            match op {
                Op::Init => umqtt_session_init(s),
                Op::Connect { opts, cap, null_out, null_len, null_opts } => {
                    let o = umqtt_connect_options {
                        client_id: opts.client_id.get(),
                        username: opts.username.get(),
                        password: opts.password.get(),
                        will_topic: opts.will_topic.get(),
                        will_payload: opts.will_payload.get(),
                        keep_alive_s: opts.keep_alive_s,
                        protocol_level: opts.protocol_level,
                        will_qos: opts.will_qos,
                        will_retain: opts.will_retain,
                        clean_session: opts.clean_session,
                        ping_max_unanswered: opts.ping_max_unanswered,
                    };
                    // NULL slices with a non-zero length mean "absent" to
                    // optional_bytes: never dereferenced.
                    let mut out = buf(*cap as usize);
                    let mut len = usize::MAX;
                    let st = umqtt_connect(
                        s,
                        if *null_opts { ptr::null() } else { &o },
                        now,
                        if *null_out { ptr::null_mut() } else { out.as_mut_ptr() },
                        *cap as usize,
                        if *null_len { ptr::null_mut() } else { &mut len },
                    );
                    ok_or_err(st);
                    if st == 0 {
                        assert!(len <= *cap as usize);
                    }
                }
                Op::Receive { bytes, take, reply_cap, null_buf, null_ev } => {
                    let n = (*take as usize).min(bytes.len());
                    let input = bytes[..n].to_vec(); // exact-size copy for ASan
                    let mut ev: umqtt_event = core::mem::zeroed();
                    let mut reply = buf(*reply_cap as usize);
                    let mut reply_len = usize::MAX;
                    let st = umqtt_receive(
                        s,
                        if *null_buf { ptr::null() } else { input.as_ptr() },
                        n,
                        now,
                        if *null_ev { ptr::null_mut() } else { &mut ev },
                        reply.as_mut_ptr(),
                        *reply_cap as usize,
                        &mut reply_len,
                    );
                    ok_or_err(st);
                    if st == 0 && !*null_ev {
                        assert!(ev.consumed <= n, "consumed {} of {n}", ev.consumed);
                        assert!(reply_len <= *reply_cap as usize);
                        if ev.kind == 2 {
                            // The C glue copies topic and payload from these offsets.
                            assert!(ev.topic_offset.checked_add(ev.topic_len).unwrap() <= n);
                            assert!(ev.payload_offset.checked_add(ev.payload_len).unwrap() <= n);
                            assert!(ev.payload_offset + ev.payload_len <= ev.consumed);
                        }
                        if ev.kind == 6 {
                            assert!(ev.codes_offset + ev.codes_count <= n);
                            assert!(ev.codes_count > 0);
                        }
                        if ev.kind == 0 {
                            assert!(ev.needed > 0);
                            assert!(ev.packet_len == 0 || ev.packet_len > n);
                        }
                    }
                    if st == -16 && !*null_ev {
                        // REFUSED: the glue skips ev.consumed bytes.
                        assert!(ev.consumed <= n, "refused consumed {} of {n}", ev.consumed);
                    }
                }
                Op::ReceiveConnAck(code) => {
                    let input = [0x20u8, 2, 0, code % 7];
                    let mut ev: umqtt_event = core::mem::zeroed();
                    let mut reply = [0u8; 4];
                    let mut reply_len = 0;
                    ok_or_err(umqtt_receive(s, input.as_ptr(), 4, now, &mut ev, reply.as_mut_ptr(), 4, &mut reply_len));
                }
                Op::Publish { topic, payload, qos, retain, cap, null_info } => {
                    let mut out = buf(*cap as usize);
                    let mut info: umqtt_publish_info = core::mem::zeroed();
                    let st = umqtt_publish(
                        s, topic.get(), payload.get(), *qos, *retain, now,
                        out.as_mut_ptr(), *cap as usize,
                        if *null_info { ptr::null_mut() } else { &mut info },
                    );
                    ok_or_err(st);
                    if st == 0 {
                        assert!(info.len <= *cap as usize);
                        if *qos > 0 {
                            assert!((info.slot as usize) < UMQTT_MAX_INFLIGHT);
                            assert_ne!(info.packet_id, 0);
                        }
                    }
                }
                Op::InflightSlots { cap, null } => {
                    let mut out = buf(*cap as usize);
                    let n = umqtt_inflight_slots(
                        s,
                        if *null { ptr::null_mut() } else { out.as_mut_ptr() },
                        *cap as usize,
                    );
                    assert!(n <= *cap as usize && n <= UMQTT_MAX_INFLIGHT);
                }
                Op::Retransmit { slot, topic, payload, cap } => {
                    let mut out = buf(*cap as usize);
                    let mut info: umqtt_publish_info = core::mem::zeroed();
                    let st = umqtt_retransmit(s, *slot, topic.get(), payload.get(), now, out.as_mut_ptr(), *cap as usize, &mut info);
                    ok_or_err(st);
                    if st == 0 {
                        assert!(info.len <= *cap as usize);
                    }
                }
                Op::ReleaseSlot(slot) => ok_or_err(umqtt_release_slot(s, *slot)),
                Op::Subscribe { filter, qos, cap } => {
                    let mut out = buf(*cap as usize);
                    let (mut len, mut pid) = (0usize, 0u16);
                    let st = umqtt_subscribe(s, filter.get(), *qos, now, out.as_mut_ptr(), *cap as usize, &mut len, &mut pid);
                    ok_or_err(st);
                    if st == 0 {
                        assert!(len <= *cap as usize);
                    }
                }
                Op::Unsubscribe { filter, cap } => {
                    let mut out = buf(*cap as usize);
                    let (mut len, mut pid) = (0usize, 0u16);
                    let st = umqtt_unsubscribe(s, filter.get(), now, out.as_mut_ptr(), *cap as usize, &mut len, &mut pid);
                    ok_or_err(st);
                    if st == 0 {
                        assert!(len <= *cap as usize);
                    }
                }
                Op::Ping { cap } => {
                    let mut out = buf(*cap as usize);
                    let mut len = 0;
                    ok_or_err(umqtt_ping(s, now, out.as_mut_ptr(), *cap as usize, &mut len));
                }
                Op::Disconnect { cap } => {
                    let mut out = buf(*cap as usize);
                    let mut len = 0;
                    ok_or_err(umqtt_disconnect(s, out.as_mut_ptr(), *cap as usize, &mut len));
                }
                Op::Lost => umqtt_connection_lost(s),
                Op::BytesReceived => umqtt_bytes_received(s, now),
                Op::Tick { cap } => {
                    let mut out = buf(*cap as usize);
                    let (mut len, mut wait) = (0usize, 0u32);
                    let r = umqtt_tick(s, now, out.as_mut_ptr(), *cap as usize, &mut len, &mut wait);
                    assert!((-23..=2).contains(&r));
                    // the ABI's contract: out_len is what was written, or the
                    // size needed when the buffer was too small
                    assert!(len <= *cap as usize || r == umqtt_status::UMQTT_ERR_BUFFER_TOO_SMALL as i32);
                }
                Op::Advance(ms) => now = now.wrapping_add(*ms),
                Op::CheckTopic(t) => ok_or_err(umqtt_check_topic_name(t.get())),
                Op::Messages(st, code) => {
                    assert!(!umqtt_status_message(*st).is_null());
                    assert!(!umqtt_connack_message(*code).is_null());
                }
                Op::Backoff(a, r) => {
                    let _ = umqtt_backoff_ms(*a, *r);
                    let _ = umqtt_refusal_is_permanent(*a as u8);
                }
                Op::Corrupt { at, byte } => {
                    // Scribbling over the session's storage (what a C bug
                    // would do) must at worst be refused, never crash... but
                    // only the magic word is checked, so restrict this to the
                    // magic word itself.
                    let bytes = s.cast::<u8>();
                    let i = (*at as usize) % 8;
                    *bytes.add(i) = *byte;
                }
            }
            // NULL session everywhere.
            ok_or_err(umqtt_release_slot(ptr::null_mut(), 0));
            assert!(!umqtt_is_connected(ptr::null()));
        }
    }
});
