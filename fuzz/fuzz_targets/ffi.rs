//! The C ABI (`umqtt_*` of rust/ffi/src/umqtt.rs) with arbitrary call
//! sequences through reconnect cycles, arbitrary input lengths, undersized
//! and NULL buffers, NULL out-parameters, a subscription arena of arbitrary
//! (growing, sometimes understated, sometimes NULL) capacity, and an
//! uninitialised or corrupted session.
//!
//! The ffi crate is a staticlib only, so its modules are compiled into this
//! target directly (#[path]); the functions exercised are the very source the
//! firmware links.
#![no_main]
#![allow(clippy::missing_safety_doc, dead_code, unused_imports)]

#[path = "../../rust/ffi/src/abi.rs"]
mod abi;
#[path = "../../rust/ffi/src/umqtt.rs"]
mod umqtt;

use arbitrary::Arbitrary;
use core::ptr;
use libfuzzer_sys::fuzz_target;
use mqtt_core::codec::{decode_fixed_header, Status};
use umqtt::*;

#[derive(Arbitrary, Debug)]
enum Op {
    Init(u32),
    Status,
    SetAutoReconnect(bool),
    LoginBegin(bool),
    LoginFailed(u8),
    LinkLost,
    Close,
    ReconnectPoll { null_wait: bool },
    Connect { opts: Opts, cap: u16, null_out: bool, null_len: bool, null_opts: bool },
    Receive { bytes: Vec<u8>, take: u16, reply_cap: u8, null_buf: bool, null_ev: bool, subs: Arena },
    /// CONNACK, with its remaining length (2) in 1 to 4 bytes: longer
    /// encodings than needed are legal to the decoder.
    ReceiveConnAck { code: u8, present: bool, pad: u8 },
    /// The glue's login when offline (login_begin, CONNECT, accepted
    /// CONNACK), then restore_next until DONE, retransmitting each slot.
    Online { background: bool, present: bool },
    /// The server answers a packet id the ABI handed out.
    Answer { id: Id, kind: u8, code: u8 },
    SubsReserve { filter: Slice, subs: Arena, null_needed: bool, grow: bool },
    Subscribe { filter: Slice, qos: u8, cap: u16, subs: Arena, null_len: bool, null_pid: bool },
    Unsubscribe { filter: Slice, cap: u16, subs: Arena, null_len: bool, null_pid: bool },
    RequestResult { id: Id, null_qos: bool },
    RequestForget(Id),
    RestoreNext { cap: u8, subs: Arena, null_len: bool, null_slot: bool, all: bool },
    Publish { topic: Slice, payload: Slice, qos: u8, retain: bool, max_queued: u8, cap: u16, null_info: bool },
    PublishPending { slot: u8, id: Id },
    Retransmit { slot: u8, topic: Slice, payload: Slice, cap: u16, null_info: bool },
    InboundForget(u16),
    Ping { cap: u8 },
    Disconnect { cap: u8 },
    BytesReceived,
    Tick { cap: u8, null_wait: bool },
    Advance(u32),
    CheckTopic(Slice),
    NextIsPublish(Slice),
    Messages(i32, u8),
    Corrupt { at: u16, byte: u8 },
    ScribbleArena { at: u16, byte: u8 },
}

/// A packet id the ABI handed out (n-th), or any.
#[derive(Arbitrary, Debug)]
enum Id {
    Known(u8),
    Raw(u16),
}

/// How the subscription arena is passed.
#[derive(Arbitrary, Debug)]
enum Arena {
    /// The whole arena.
    Whole,
    /// Less than its real size (the glue passing a stale capacity).
    Short(u16),
    /// NULL with capacity 0.
    Null,
    /// NULL with a non-zero capacity: refused.
    NullWithCap(u8),
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

const INVALID_ARGUMENT: i32 = umqtt_status_code::UMQTT_ERR_INVALID_ARGUMENT as i32;
const BUFFER_TOO_SMALL: i32 = umqtt_status_code::UMQTT_ERR_BUFFER_TOO_SMALL as i32;

fn ok_or_err(st: i32) {
    assert!((-26..=0).contains(&st), "status {st} outside the documented range");
    let msg = umqtt_status_message(st);
    assert!(!msg.is_null());
}

/// A value-or-status return: `lo..=hi` or an error status.
fn value_or_err(r: i32, hi: i32) {
    assert!((-26..=hi).contains(&r), "return {r} outside -26..={hi}");
}

struct World {
    /// The arena exactly as large as the glue allocated it (ASan sees overruns).
    arena: Vec<u8>,
    /// Packet ids the ABI handed out.
    ids: Vec<u16>,
    now: u32,
}

impl World {
    /// (pointer, capacity) as the op says.
    fn arena(&mut self, how: &Arena) -> (*mut u8, usize) {
        match how {
            Arena::Whole => (self.arena.as_mut_ptr(), self.arena.len()),
            Arena::Short(n) => {
                (self.arena.as_mut_ptr(), usize::from(*n).min(self.arena.len()))
            }
            Arena::Null => (ptr::null_mut(), 0),
            Arena::NullWithCap(n) => (ptr::null_mut(), usize::from(*n).max(1)),
        }
    }

    fn id(&self, id: &Id) -> u16 {
        match id {
            Id::Known(n) if !self.ids.is_empty() => self.ids[*n as usize % self.ids.len()],
            Id::Known(n) => u16::from(*n),
            Id::Raw(p) => *p,
        }
    }

    fn remember(&mut self, id: u16) {
        if id != 0 {
            if self.ids.len() >= 32 {
                self.ids.remove(0);
            }
            self.ids.push(id);
        }
    }
}

unsafe fn receive(s: *mut umqtt_session, w: &mut World, input: &[u8], n: usize, reply_cap: usize, null_buf: bool, null_ev: bool, subs: &Arena) {
    let (arena, arena_cap) = w.arena(subs);
    let mut ev: umqtt_event = core::mem::zeroed();
    let mut reply = buf(reply_cap);
    let mut reply_len = usize::MAX;
    let st = umqtt_receive(
        s,
        arena,
        arena_cap,
        if null_buf { ptr::null() } else { input.as_ptr() },
        n,
        w.now,
        if null_ev { ptr::null_mut() } else { &mut ev },
        reply.as_mut_ptr(),
        reply_cap,
        &mut reply_len,
    );
    ok_or_err(st);
    if arena.is_null() && arena_cap > 0 || null_buf && n > 0 || null_ev {
        assert_eq!(st, INVALID_ARGUMENT);
    }
    if st == 0 {
        assert!(ev.consumed <= n, "consumed {} of {n}", ev.consumed);
        assert!(reply_len <= reply_cap && reply_len <= UMQTT_REPLY_MAX);
        assert!(ev.kind <= 9);
        if ev.kind == 2 {
            // The C glue copies topic and payload from these offsets.
            assert!(ev.topic_offset.checked_add(ev.topic_len).unwrap() <= n);
            assert!(ev.payload_offset.checked_add(ev.payload_len).unwrap() <= n);
            assert!(ev.payload_offset + ev.payload_len <= ev.consumed);
            assert!(ev.qos <= 2);
        }
        if ev.kind == 0 {
            assert!(ev.needed > 0);
            assert!(ev.packet_len == 0 || ev.packet_len > n);
            assert_eq!(ev.consumed, 0);
        } else {
            assert!(ev.consumed >= 2);
        }
        if ev.kind == 1 {
            assert_eq!(umqtt_status(s), UMQTT_STA_CONNECTED);
        }
        if ev.kind == 3 || ev.kind == 4 {
            assert!((ev.slot as usize) < UMQTT_MAX_INFLIGHT);
        }
        if ev.kind == 3 {
            assert!(!umqtt_publish_pending(s, ev.slot, ev.packet_id));
        }
    }
    if st == umqtt_status_code::UMQTT_ERR_REFUSED as i32 {
        // REFUSED: the glue skips ev.consumed bytes: exactly the CONNACK.
        assert_eq!(ev.kind, 1);
        assert!((1..=255).contains(&ev.return_code));
        let Ok(Status::Complete(header)) = decode_fixed_header(&input[..n]) else {
            panic!("refused without a CONNACK header");
        };
        assert_eq!(ev.consumed, header.packet_len(), "refused CONNACK length");
        assert!(ev.consumed <= n);
        assert_ne!(umqtt_status(s), UMQTT_STA_CONNECTED);
    }
}

/// One `umqtt_restore_next`: (return, *len).
unsafe fn restore_next(s: *mut umqtt_session, w: &mut World, cap: usize, subs: &Arena, null_len: bool, null_slot: bool) -> (i32, usize) {
    let (arena, arena_cap) = w.arena(subs);
    let mut out = buf(cap);
    let (mut len, mut slot) = (usize::MAX, 0u8);
    let r = umqtt_restore_next(
        s,
        arena,
        arena_cap,
        w.now,
        out.as_mut_ptr(),
        cap,
        if null_len { ptr::null_mut() } else { &mut len },
        if null_slot { ptr::null_mut() } else { &mut slot },
    );
    value_or_err(r, 2);
    if null_len || null_slot || arena.is_null() && arena_cap > 0 {
        assert_eq!(r, INVALID_ARGUMENT);
    }
    match r {
        UMQTT_RESTORE_DONE => assert_eq!((len, slot), (0, 0xFF)),
        UMQTT_RESTORE_SEND => {
            assert!(len > 0 && len <= cap);
            assert_eq!(slot, 0xFF);
            assert_eq!(out[0], 0x82, "restore sends SUBSCRIBE");
        }
        UMQTT_RESTORE_RETRANSMIT => {
            assert!((slot as usize) < UMQTT_MAX_INFLIGHT);
            assert_eq!(len, 0);
        }
        BUFFER_TOO_SMALL => assert!(len > cap),
        _ => {}
    }
    (r, len)
}

fuzz_target!(|ops: Vec<Op>| {
    let mut storage = Box::new(umqtt_session { opaque: [0x5A5A_5A5A_5A5A_5A5A; 96] });
    let s: *mut umqtt_session = &mut *storage;
    let mut w = World { arena: Vec::new(), ids: Vec::new(), now: 0 };
    unsafe {
        for op in ops.iter().take(200) {
            match op {
                Op::Init(seed) => {
                    umqtt_session_init(s, *seed);
                    assert_eq!(umqtt_status(s), UMQTT_STA_CLOSED);
                }
                Op::Status => {
                    let st = umqtt_status(s);
                    assert!((-1..=2).contains(&st));
                }
                Op::SetAutoReconnect(on) => umqtt_set_auto_reconnect(s, *on),
                Op::LoginBegin(background) => {
                    let was = umqtt_status(s);
                    let st = umqtt_login_begin(s, *background);
                    ok_or_err(st);
                    if st == 0 {
                        assert_eq!(umqtt_status(s), UMQTT_STA_CONNECTING);
                    } else if st != INVALID_ARGUMENT {
                        assert_eq!(st, umqtt_status_code::UMQTT_ERR_BUSY as i32);
                        assert_eq!(was, UMQTT_STA_CONNECTING);
                    }
                }
                Op::LoginFailed(code) => {
                    let was = umqtt_status(s);
                    let r = umqtt_login_failed(s, *code, w.now);
                    assert!(r == UMQTT_RECONNECT_RETRY || r == UMQTT_RECONNECT_STOPPED || r == INVALID_ARGUMENT, "{r}");
                    if was == UMQTT_STA_CONNECTING {
                        let expect = if r == UMQTT_RECONNECT_RETRY { UMQTT_STA_SERVER_CLOSED } else { UMQTT_STA_CLOSED };
                        assert_eq!(umqtt_status(s), expect);
                    } else if r != INVALID_ARGUMENT {
                        assert_eq!(umqtt_status(s), was);
                    }
                }
                Op::LinkLost => {
                    let was = umqtt_status(s);
                    let started = umqtt_link_lost(s, w.now);
                    if was == UMQTT_STA_CONNECTED {
                        assert_eq!(umqtt_status(s), UMQTT_STA_SERVER_CLOSED);
                    } else {
                        assert!(!started);
                        assert_eq!(umqtt_status(s), was);
                    }
                    if started {
                        let mut wait = 7;
                        assert_eq!(umqtt_reconnect_poll(s, w.now, &mut wait), UMQTT_RECONNECT_DUE);
                        assert_eq!(wait, 0);
                    }
                }
                Op::Close => {
                    umqtt_close(s);
                    assert_eq!(umqtt_status(s), UMQTT_STA_CLOSED);
                }
                Op::ReconnectPoll { null_wait } => {
                    let mut wait = 7u32;
                    let r = umqtt_reconnect_poll(s, w.now, if *null_wait { ptr::null_mut() } else { &mut wait });
                    value_or_err(r, 2);
                    match r {
                        UMQTT_RECONNECT_NONE => assert_eq!(wait, u32::MAX),
                        UMQTT_RECONNECT_WAIT => {
                            assert!(wait > 0 && wait <= u32::MAX / 2);
                            assert_eq!(umqtt_status(s), UMQTT_STA_SERVER_CLOSED);
                        }
                        UMQTT_RECONNECT_DUE => {
                            assert_eq!(wait, 0);
                            assert_eq!(umqtt_status(s), UMQTT_STA_SERVER_CLOSED);
                        }
                        _ => assert_eq!(r, INVALID_ARGUMENT),
                    }
                }
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
                        w.now,
                        if *null_out { ptr::null_mut() } else { out.as_mut_ptr() },
                        *cap as usize,
                        if *null_len { ptr::null_mut() } else { &mut len },
                    );
                    ok_or_err(st);
                    if st == 0 {
                        assert!(len <= *cap as usize);
                        assert_eq!(umqtt_status(s), UMQTT_STA_CONNECTING);
                    }
                }
                Op::Receive { bytes, take, reply_cap, null_buf, null_ev, subs } => {
                    let n = (*take as usize).min(bytes.len());
                    let input = bytes[..n].to_vec(); // exact-size copy for ASan
                    receive(s, &mut w, &input, n, *reply_cap as usize, *null_buf, *null_ev, subs);
                }
                Op::ReceiveConnAck { code, present, pad } => {
                    let mut input = vec![0x20u8];
                    let pad = usize::from(pad % 4);
                    input.extend((0..=pad).map(|i| match (i == 0, i == pad) {
                        (true, true) => 2,
                        (true, false) => 0x82,
                        (false, true) => 0,
                        (false, false) => 0x80,
                    }));
                    input.extend([*present as u8, code % 7]);
                    let n = input.len();
                    receive(s, &mut w, &input, n, 4, false, false, &Arena::Whole);
                }
                Op::Online { background, present } => {
                    if umqtt_status(s) != UMQTT_STA_CONNECTED {
                        if umqtt_status(s) != UMQTT_STA_CONNECTING {
                            ok_or_err(umqtt_login_begin(s, *background));
                        }
                        let o = umqtt_connect_options {
                            client_id: umqtt_slice { ptr: b"fuzz".as_ptr(), len: 4 },
                            username: umqtt_slice { ptr: ptr::null(), len: 0 },
                            password: umqtt_slice { ptr: ptr::null(), len: 0 },
                            will_topic: umqtt_slice { ptr: ptr::null(), len: 0 },
                            will_payload: umqtt_slice { ptr: ptr::null(), len: 0 },
                            keep_alive_s: 30,
                            protocol_level: 4,
                            will_qos: 0,
                            will_retain: false,
                            clean_session: false,
                            ping_max_unanswered: 1,
                        };
                        let mut out = buf(64);
                        let mut len = 0;
                        ok_or_err(umqtt_connect(s, &o, w.now, out.as_mut_ptr(), 64, &mut len));
                        let input = [0x20u8, 2, *present as u8, 0];
                        receive(s, &mut w, &input, 4, 4, false, false, &Arena::Whole);
                    }
                    if umqtt_status(s) == UMQTT_STA_CONNECTED {
                        for step in 0.. {
                            assert!(step <= UMQTT_MAX_SUBSCRIPTIONS + UMQTT_MAX_INFLIGHT + 2, "restore does not terminate");
                            let mut out = buf(256);
                            let (mut len, mut slot) = (0usize, 0u8);
                            let (arena, arena_cap) = w.arena(&Arena::Whole);
                            let r = umqtt_restore_next(s, arena, arena_cap, w.now, out.as_mut_ptr(), 256, &mut len, &mut slot);
                            value_or_err(r, 2);
                            match r {
                                UMQTT_RESTORE_SEND => assert!(len > 0 && len <= 256),
                                UMQTT_RESTORE_RETRANSMIT => {
                                    let mut info: umqtt_publish_info = core::mem::zeroed();
                                    let t = b"t";
                                    let st = umqtt_retransmit(s, slot, umqtt_slice { ptr: t.as_ptr(), len: 1 }, umqtt_slice { ptr: t.as_ptr(), len: 1 }, w.now, out.as_mut_ptr(), 256, &mut info);
                                    assert_eq!(st, 0);
                                    assert!(info.len > 0 && info.len <= 256 && info.slot == slot);
                                }
                                _ => break,
                            }
                        }
                    }
                }
                Op::Answer { id, kind, code } => {
                    let pid = w.id(id).to_be_bytes();
                    let input: Vec<u8> = match kind % 5 {
                        0 => vec![0x40, 2, pid[0], pid[1]],
                        1 => vec![0x50, 2, pid[0], pid[1]],
                        2 => vec![0x70, 2, pid[0], pid[1]],
                        3 => vec![0x90, 3, pid[0], pid[1], if code % 4 == 3 { 0x80 } else { code % 4 }],
                        _ => vec![0xB0, 2, pid[0], pid[1]],
                    };
                    let n = input.len();
                    receive(s, &mut w, &input, n, 4, false, false, &Arena::Whole);
                }
                Op::SubsReserve { filter, subs, null_needed, grow } => {
                    let (arena, arena_cap) = w.arena(subs);
                    let mut needed = usize::MAX;
                    let st = umqtt_subs_reserve(arena, arena_cap, filter.get(), if *null_needed { ptr::null_mut() } else { &mut needed });
                    ok_or_err(st);
                    if st == 0 {
                        assert!(needed >= 2 && needed <= UMQTT_SUBS_MAX_BYTES);
                        if *grow && needed > w.arena.len() {
                            // realloc: the old bytes move, the new tail is garbage.
                            // A header appearing only now starts zeroed (empty table).
                            let mut bigger = vec![0xC3u8; needed];
                            bigger[..2].fill(0);
                            bigger[..w.arena.len()].copy_from_slice(&w.arena);
                            w.arena = bigger;
                        }
                    } else if !*null_needed {
                        assert_eq!(needed, 0);
                    }
                }
                Op::Subscribe { filter, qos, cap, subs, null_len, null_pid } => {
                    let (arena, arena_cap) = w.arena(subs);
                    let before = w.arena.clone();
                    let mut out = buf(*cap as usize);
                    let (mut len, mut pid) = (usize::MAX, u16::MAX);
                    let st = umqtt_subscribe(
                        s, arena, arena_cap, filter.get(), *qos, w.now, out.as_mut_ptr(), *cap as usize,
                        if *null_len { ptr::null_mut() } else { &mut len },
                        if *null_pid { ptr::null_mut() } else { &mut pid },
                    );
                    ok_or_err(st);
                    if st == 0 {
                        assert!(len <= *cap as usize);
                        if umqtt_status(s) == UMQTT_STA_CONNECTED {
                            assert!(len > 0 && pid != 0);
                        } else {
                            assert_eq!((len, pid), (0, 0));
                        }
                        w.remember(pid);
                    } else {
                        assert_eq!(w.arena, before, "failed subscribe changed the arena");
                        if st == BUFFER_TOO_SMALL {
                            assert!(len > *cap as usize);
                        }
                    }
                }
                Op::Unsubscribe { filter, cap, subs, null_len, null_pid } => {
                    let (arena, arena_cap) = w.arena(subs);
                    let before = w.arena.clone();
                    let mut out = buf(*cap as usize);
                    let (mut len, mut pid) = (usize::MAX, u16::MAX);
                    let st = umqtt_unsubscribe(
                        s, arena, arena_cap, filter.get(), w.now, out.as_mut_ptr(), *cap as usize,
                        if *null_len { ptr::null_mut() } else { &mut len },
                        if *null_pid { ptr::null_mut() } else { &mut pid },
                    );
                    ok_or_err(st);
                    if st == 0 {
                        assert!(len <= *cap as usize);
                        w.remember(pid);
                    } else {
                        assert_eq!(w.arena, before, "failed unsubscribe changed the arena");
                    }
                }
                Op::RequestResult { id, null_qos } => {
                    let mut q = 9u8;
                    let r = umqtt_request_result(s, w.id(id), if *null_qos { ptr::null_mut() } else { &mut q });
                    value_or_err(r, 4);
                    if r >= 0 && !*null_qos {
                        if r == UMQTT_REQUEST_DONE {
                            assert!(q <= 2);
                        } else {
                            assert_eq!(q, 0);
                        }
                    }
                }
                Op::RequestForget(id) => {
                    let pid = w.id(id);
                    umqtt_request_forget(s, pid);
                    let mut q = 0u8;
                    let r = umqtt_request_result(s, pid, &mut q);
                    assert!(r == UMQTT_REQUEST_UNKNOWN || r == INVALID_ARGUMENT);
                }
                Op::RestoreNext { cap, subs, null_len, null_slot, all } => {
                    let cap = usize::from(*cap % 64);
                    if *all {
                        // Until DONE; a buffer too small is retried once at the size asked.
                        let mut cap = cap;
                        let mut grown = false;
                        for step in 0.. {
                            assert!(step <= UMQTT_MAX_SUBSCRIPTIONS + UMQTT_MAX_INFLIGHT + 2, "restore does not terminate");
                            let (r, len) = restore_next(s, &mut w, cap, subs, *null_len, *null_slot);
                            if r == BUFFER_TOO_SMALL && !grown {
                                grown = true;
                                cap = len;
                                continue;
                            }
                            if r == UMQTT_RESTORE_RETRANSMIT {
                                continue;
                            }
                            if r != UMQTT_RESTORE_SEND {
                                break;
                            }
                        }
                    } else {
                        restore_next(s, &mut w, cap, subs, *null_len, *null_slot);
                    }
                }
                Op::Publish { topic, payload, qos, retain, max_queued, cap, null_info } => {
                    let mut out = buf(*cap as usize);
                    let mut info: umqtt_publish_info = core::mem::zeroed();
                    let st = umqtt_publish(
                        s, topic.get(), payload.get(), *qos, *retain, *max_queued, w.now,
                        out.as_mut_ptr(), *cap as usize,
                        if *null_info { ptr::null_mut() } else { &mut info },
                    );
                    ok_or_err(st);
                    if st == 0 {
                        assert!(info.len <= *cap as usize);
                        if *qos > 0 {
                            assert!((info.slot as usize) < UMQTT_MAX_INFLIGHT);
                            assert_ne!(info.packet_id, 0);
                            assert!(umqtt_publish_pending(s, info.slot, info.packet_id));
                            w.remember(info.packet_id);
                        } else {
                            assert_eq!(info.slot, 0xFF);
                        }
                        if info.queued {
                            assert_eq!(info.len, 0);
                            assert_ne!(umqtt_status(s), UMQTT_STA_CONNECTED);
                        }
                    } else if st == BUFFER_TOO_SMALL {
                        assert!(info.len > *cap as usize);
                    }
                }
                Op::PublishPending { slot, id } => {
                    let _ = umqtt_publish_pending(s, *slot, w.id(id));
                }
                Op::Retransmit { slot, topic, payload, cap, null_info } => {
                    let mut out = buf(*cap as usize);
                    let mut info: umqtt_publish_info = core::mem::zeroed();
                    let st = umqtt_retransmit(
                        s, *slot, topic.get(), payload.get(), w.now, out.as_mut_ptr(), *cap as usize,
                        if *null_info { ptr::null_mut() } else { &mut info },
                    );
                    ok_or_err(st);
                    if st == 0 {
                        assert!(info.len <= *cap as usize);
                        assert_eq!(info.slot, *slot);
                    }
                }
                Op::InboundForget(pid) => umqtt_inbound_forget(s, *pid),
                Op::Ping { cap } => {
                    let mut out = buf(*cap as usize);
                    let mut len = 0;
                    ok_or_err(umqtt_ping(s, w.now, out.as_mut_ptr(), *cap as usize, &mut len));
                }
                Op::Disconnect { cap } => {
                    let mut out = buf(*cap as usize);
                    let mut len = 0;
                    let st = umqtt_disconnect(s, out.as_mut_ptr(), *cap as usize, &mut len);
                    ok_or_err(st);
                    if st == 0 {
                        assert_eq!(umqtt_status(s), UMQTT_STA_CLOSED);
                    }
                }
                Op::BytesReceived => umqtt_bytes_received(s, w.now),
                Op::Tick { cap, null_wait } => {
                    let mut out = buf(*cap as usize);
                    let (mut len, mut wait) = (0usize, 0u32);
                    let r = umqtt_tick(s, w.now, out.as_mut_ptr(), *cap as usize, &mut len, if *null_wait { ptr::null_mut() } else { &mut wait });
                    value_or_err(r, 2);
                    // the ABI's contract: out_len is what was written, or the
                    // size needed when the buffer was too small
                    assert!(len <= *cap as usize || r == BUFFER_TOO_SMALL);
                }
                Op::Advance(ms) => w.now = w.now.wrapping_add(*ms),
                Op::CheckTopic(t) => ok_or_err(umqtt_check_topic_name(t.get())),
                Op::NextIsPublish(b) => {
                    let sl = b.get();
                    let is = umqtt_next_is_publish(sl.ptr, sl.len);
                    if sl.ptr.is_null() {
                        assert!(!is);
                    }
                }
                Op::Messages(st, code) => {
                    assert!(!umqtt_status_message(*st).is_null());
                    assert!(!umqtt_connack_message(*code).is_null());
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
                Op::ScribbleArena { at, byte } => {
                    // The arena's layout must survive garbage: a shorter table.
                    if !w.arena.is_empty() {
                        let i = usize::from(*at) % w.arena.len();
                        w.arena[i] = *byte;
                    }
                }
            }
            // NULL session everywhere.
            assert_eq!(umqtt_status(ptr::null()), UMQTT_STA_CLOSED);
            assert_eq!(umqtt_login_begin(ptr::null_mut(), false), INVALID_ARGUMENT);
            assert_eq!(umqtt_login_failed(ptr::null_mut(), 3, 0), INVALID_ARGUMENT);
            assert!(!umqtt_link_lost(ptr::null_mut(), 0));
            umqtt_close(ptr::null_mut());
            umqtt_set_auto_reconnect(ptr::null_mut(), true);
            umqtt_request_forget(ptr::null_mut(), 1);
            umqtt_inbound_forget(ptr::null_mut(), 1);
            assert!(!umqtt_publish_pending(ptr::null(), 0, 1));
            let mut wait = 0;
            assert_eq!(umqtt_reconnect_poll(ptr::null(), 0, &mut wait), INVALID_ARGUMENT);
            let mut q = 0;
            assert_eq!(umqtt_request_result(ptr::null_mut(), 1, &mut q), INVALID_ARGUMENT);
        }
    }
});
