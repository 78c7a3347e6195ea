//! The client session driven by arbitrary call sequences and arbitrary inbound
//! bytes through reconnect cycles, with time passing (and wrapping): logins
//! (script and background), CONNECT, CONNACKs, refusals, failures with any
//! code, link loss, reconnect polls, subscriptions in a caller-owned arena of
//! arbitrary (growing) capacity, request records, the restore cursor with a
//! small output buffer, publish / offline queue, close.
//!
//! Invariants checked on the way: no panic; link status and protocol state
//! agree; reconnect polls stay within the backoff cap; replies fit REPLY_MAX;
//! consumed bytes stay inside the input; the in-flight table never exceeds
//! MAX_INFLIGHT and never holds a packet id twice or id 0; request and unacked
//! ids are unique and disjoint from in-flight ids; the subscription table
//! stays within its caps with unique filters, and every Requested/Removing
//! entry of a live link waits on a packet on the wire; failed calls change
//! nothing; restore terminates, restores each in-flight message at most once
//! and encodes SUBSCRIBE packets that decode; CONNECTED only via CONNACK
//! while connecting.
#![no_main]
use std::collections::HashSet;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use mqtt_core::codec::{LastWill, Packet, Protocol, QoS, Status};
use mqtt_core::session::{
    subs, ConnectOptions, ConnectionState, Event, LinkStatus, LoginFailure, OutgoingStage,
    ReconnectPoll, RequestKind, RequestState, RestoreStep, Session, SessionError, SubState, Tick, MAX_INFLIGHT,
    MAX_REQUESTS, MAX_SUBSCRIPTIONS, MAX_UNACKED, REPLY_MAX, SUBS_MAX_BYTES,
};

/// Longest reconnect delay (backoff cap).
const MAX_BACKOFF_MS: u32 = 30_000;

#[derive(Arbitrary, Debug)]
enum Op {
    SetAutoReconnect(bool),
    LoginBegin {
        background: bool,
    },
    Connect {
        v31: bool,
        client_id: String,
        user: Option<String>,
        password: Option<Vec<u8>>,
        will: Option<(String, Vec<u8>, u8, bool)>,
        keep_alive_s: u16,
        clean: bool,
        ping_max: u8,
        out_cap: u16,
    },
    /// Raw bytes from the server.
    Receive { bytes: Vec<u8>, reply_cap: u8 },
    /// A well-formed packet from the server (more likely to reach deep states).
    ReceiveValid(Valid),
    LoginFailed { code: u8 },
    LinkLost,
    Close,
    ReconnectPoll,
    /// The glue's reconnect loop: poll, and when due begin a background login
    /// and send CONNECT.
    ReconnectCycle { accept: Option<u8> },
    /// The glue's whole login when offline: login_begin, CONNECT, an accepted
    /// CONNACK; then the restore until DONE.
    Online { background: bool, present: bool, out_cap: u8 },
    /// The server answers everything in flight and on the wire (SUBACK codes
    /// from `codes`).
    AnswerAll { codes: Vec<u8> },
    /// Grow the arena to what `subs::reserve` asks for (or by `extra` bytes).
    SubsReserve { filter: String, extra: u8 },
    Subscribe { filter: String, qos: u8, out_cap: u16 },
    Unsubscribe { filter: String, out_cap: u16 },
    /// Known request (n-th) or an arbitrary id.
    RequestResult(Id),
    RequestForget(Id),
    /// restore_next until DONE (`all`) or one step, with a small buffer.
    Restore { out_cap: u8, all: bool },
    Publish { topic: String, payload: Vec<u8>, qos: u8, retain: bool, max_queued: u8, out_cap: u16 },
    PublishPending { id: Id, slot: u8 },
    Retransmit { slot: u8, topic: String, payload: Vec<u8>, out_cap: u16 },
    ReleaseSlot(u8),
    InboundForget(u16),
    Ping { out_cap: u8 },
    Disconnect { out_cap: u8 },
    BytesReceived,
    Tick { out_cap: u8 },
    /// Time passes (ms); wraps around u32.
    Advance(u32),
    /// What a C bug would do to the arena: must at worst read as a shorter table.
    Scribble { at: u16, byte: u8 },
}

#[derive(Arbitrary, Debug)]
enum Id {
    Known(u8),
    Raw(u16),
}

#[derive(Arbitrary, Debug)]
enum Valid {
    ConnAck { present: bool, code: u8 },
    Publish { qos: u8, dup: bool, retain: bool, pid: u16, topic: String, payload: Vec<u8> },
    PubAck(u16),
    PubRec(u16),
    PubRel(u16),
    PubComp(u16),
    SubAck { pid: u16, codes: Vec<u8> },
    UnsubAck(u16),
    PingResp,
    /// Ack the n-th in-flight message (ids the fuzzer cannot guess).
    AckInflight { n: u8, kind: u8 },
    /// Answer the n-th SUBSCRIBE/UNSUBSCRIBE on the wire, with the right
    /// number of codes (or one more/less).
    AckUnacked { n: u8, codes: Vec<u8>, miscount: bool },
}

fn frame(first: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![first];
    let mut len = body.len();
    loop {
        let mut b = (len % 128) as u8;
        len /= 128;
        if len > 0 {
            b |= 0x80;
        }
        v.push(b);
        if len == 0 {
            break;
        }
    }
    v.extend_from_slice(body);
    v
}

fn id_packet(first: u8, pid: u16) -> Vec<u8> {
    frame(first, &pid.to_be_bytes())
}

fn suback_code(c: u8) -> u8 {
    match c % 4 {
        3 => 0x80,
        q => q,
    }
}

/// PUBACK/PUBREC/PUBCOMP for every message in flight, SUBACK/UNSUBACK for
/// every packet on the wire.
fn answers(s: &Session, codes: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for o in s.inflight() {
        bytes.extend(match o.stage {
            OutgoingStage::AwaitPubAck => id_packet(0x40, o.packet_id),
            OutgoingStage::AwaitPubRec => id_packet(0x50, o.packet_id),
            OutgoingStage::AwaitPubComp => id_packet(0x70, o.packet_id),
        });
    }
    for (i, u) in s.unacked().iter().enumerate() {
        bytes.extend(match u.kind {
            RequestKind::Unsubscribe => id_packet(0xB0, u.packet_id),
            RequestKind::Subscribe => {
                let mut body = u.packet_id.to_be_bytes().to_vec();
                body.extend((0..usize::from(u.filter_count)).map(|j| {
                    suback_code(codes.get(i + j).copied().unwrap_or(1))
                }));
                frame(0x90, &body)
            }
        });
    }
    bytes
}

fn default_options() -> ConnectOptions<'static> {
    ConnectOptions {
        protocol: Protocol::V311,
        client_id: "fuzz",
        username: None,
        password: None,
        will: None,
        keep_alive_s: 30,
        clean_session: false,
        ping_max_unanswered: 1,
    }
}

fn valid_bytes(v: &Valid, s: &Session) -> Vec<u8> {
    match v {
        Valid::ConnAck { present, code } => frame(0x20, &[*present as u8, code % 7]),
        Valid::Publish { qos, dup, retain, pid, topic, payload } => {
            let qos = qos % 3;
            let mut body = Vec::new();
            let t = topic.as_bytes();
            body.extend_from_slice(&(t.len().min(65535) as u16).to_be_bytes());
            body.extend_from_slice(&t[..t.len().min(65535)]);
            if qos > 0 {
                body.extend_from_slice(&pid.to_be_bytes());
            }
            body.extend_from_slice(payload);
            let dup = *dup && qos > 0;
            frame(0x30 | (dup as u8) << 3 | qos << 1 | *retain as u8, &body)
        }
        Valid::PubAck(p) => id_packet(0x40, *p),
        Valid::PubRec(p) => id_packet(0x50, *p),
        Valid::PubRel(p) => id_packet(0x62, *p),
        Valid::PubComp(p) => id_packet(0x70, *p),
        Valid::SubAck { pid, codes } => {
            let mut body = pid.to_be_bytes().to_vec();
            body.extend(codes.iter().map(|&c| suback_code(c)));
            frame(0x90, &body)
        }
        Valid::UnsubAck(p) => id_packet(0xB0, *p),
        Valid::PingResp => vec![0xD0, 0],
        Valid::AckInflight { n, kind } => {
            let ids: Vec<u16> = s.inflight().map(|o| o.packet_id).collect();
            let pid = if ids.is_empty() {
                s.requests().first().map(|r| r.packet_id).unwrap_or(1)
            } else {
                ids[*n as usize % ids.len()]
            };
            match kind % 5 {
                0 => id_packet(0x40, pid),
                1 => id_packet(0x50, pid),
                2 => id_packet(0x70, pid),
                3 => frame(0x90, &[(pid >> 8) as u8, pid as u8, 1]),
                _ => id_packet(0xB0, pid),
            }
        }
        Valid::AckUnacked { n, codes, miscount } => {
            let unacked = s.unacked();
            let Some(u) = (!unacked.is_empty()).then(|| unacked[*n as usize % unacked.len()])
            else {
                return vec![0xD0, 0];
            };
            match u.kind {
                RequestKind::Unsubscribe => id_packet(0xB0, u.packet_id),
                RequestKind::Subscribe => {
                    let mut count = usize::from(u.filter_count);
                    if *miscount {
                        count = if codes.len() % 2 == 0 { count + 1 } else { count.saturating_sub(1) };
                    }
                    let mut body = u.packet_id.to_be_bytes().to_vec();
                    body.extend(
                        (0..count).map(|i| suback_code(codes.get(i).copied().unwrap_or(1))),
                    );
                    frame(0x90, &body)
                }
            }
        }
    }
}

/// What the harness knows besides the session.
struct World {
    s: Session,
    arena: Vec<u8>,
    now: u32,
    /// The arena was scribbled over: table invariants no longer apply.
    scribbled: bool,
    /// The login in progress is a background one.
    login_background: Option<bool>,
    /// Milliseconds since the last RETRY, and its delay bound (for reconnect polls).
    since_retry: Option<u64>,
}

fn check(w: &World) {
    let s = &w.s;
    // Protocol state and link status agree.
    let status = s.status();
    assert!((-1..=2).contains(&status.as_i8()));
    match s.state() {
        ConnectionState::Connected => assert_eq!(status, LinkStatus::Connected),
        ConnectionState::Connecting => assert_eq!(status, LinkStatus::Connecting),
        ConnectionState::Disconnected => assert_ne!(status, LinkStatus::Connected),
    }
    if status != LinkStatus::Connecting {
        assert!(!s.link().is_connecting());
    }
    // Reconnect schedule.
    match s.reconnect_poll(w.now) {
        ReconnectPoll::None => {}
        ReconnectPoll::Due | ReconnectPoll::Wait { .. } => {
            assert_eq!(status, LinkStatus::ServerClosed);
            assert!(s.link().auto_reconnect());
        }
    }
    if let ReconnectPoll::Wait { wait_ms } = s.reconnect_poll(w.now) {
        assert!(wait_ms > 0 && wait_ms <= u32::MAX / 2);
        if let Some(elapsed) = w.since_retry {
            if elapsed < u64::from(u32::MAX / 2) {
                assert!(wait_ms <= MAX_BACKOFF_MS, "wait {wait_ms} over the cap");
            }
        }
    }
    if status != LinkStatus::ServerClosed || !s.link().auto_reconnect() {
        assert_eq!(s.reconnect_poll(w.now), ReconnectPoll::None);
    }
    // In-flight table.
    assert!(s.inflight_len() <= MAX_INFLIGHT);
    let mut seen = HashSet::new();
    let mut slots = HashSet::new();
    for o in s.inflight() {
        assert_ne!(o.packet_id, 0, "packet id 0 in flight");
        assert!(seen.insert(o.packet_id), "packet id {} twice in flight", o.packet_id);
        assert!((o.slot as usize) < MAX_INFLIGHT, "slot {} out of range", o.slot);
        assert!(slots.insert(o.slot), "slot {} twice", o.slot);
        assert!(s.publish_pending(o.slot, o.packet_id));
    }
    // Requests and packets on the wire.
    assert!(s.requests().len() <= MAX_REQUESTS);
    assert!(s.unacked().len() <= MAX_UNACKED);
    let mut requests = HashSet::new();
    for r in s.requests() {
        assert_ne!(r.packet_id, 0);
        assert!(requests.insert(r.packet_id), "request id {} twice", r.packet_id);
        assert!(!seen.contains(&r.packet_id), "request id {} also in flight", r.packet_id);
        if r.state == RequestState::Pending {
            assert!(s.is_connected(), "pending request {} without a link", r.packet_id);
            assert!(
                s.unacked().iter().any(|u| u.packet_id == r.packet_id && u.kind == r.kind),
                "pending request {} not on the wire",
                r.packet_id
            );
        }
    }
    let mut unacked = HashSet::new();
    for u in s.unacked() {
        assert!(s.is_connected(), "packet {} on the wire without a link", u.packet_id);
        assert_ne!(u.packet_id, 0);
        assert!(unacked.insert(u.packet_id), "unacked id {} twice", u.packet_id);
        assert!(!seen.contains(&u.packet_id), "unacked id {} also in flight", u.packet_id);
        assert!(u.filter_count > 0 && usize::from(u.filter_count) <= MAX_SUBSCRIPTIONS);
    }
    // Subscription table.
    let entries: Vec<_> = subs::entries(&w.arena).collect();
    assert!(entries.len() <= MAX_SUBSCRIPTIONS);
    if !w.scribbled {
        if w.arena.len() >= 2 {
            let used = usize::from(u16::from_le_bytes([w.arena[0], w.arena[1]]));
            assert!(used <= SUBS_MAX_BYTES && used <= w.arena.len(), "used {used}");
        }
        let mut filters = HashSet::new();
        for e in &entries {
            assert!(filters.insert(e.filter), "filter {:?} twice", e.filter);
            if let Some(pid) = e.state.packet_id() {
                assert_ne!(pid, 0);
                if s.is_connected() {
                    assert!(
                        s.unacked().iter().any(|u| u.packet_id == pid),
                        "entry {e:?} waits on a packet not on the wire"
                    );
                }
            }
        }
    }
}

impl World {
    /// What the glue does after `receive` fails: end the login or the link.
    fn drop_after_error(&mut self, error: &SessionError) {
        match error {
            SessionError::Refused(code) => {
                let was = self.s.status();
                let r = self.s.login_failed(code.as_u8(), self.now);
                self.after_login_failed(was, r, code.as_u8());
            }
            _ if self.s.status() == LinkStatus::Connecting => {
                let was = self.s.status();
                let r = self.s.login_failed(0, self.now);
                self.after_login_failed(was, r, 0);
            }
            _ => self.link_lost(),
        }
    }

    fn after_login_failed(&mut self, was: LinkStatus, r: LoginFailure, code: u8) {
        let s = &self.s;
        assert!(!s.is_connected() || was == LinkStatus::Connected);
        if was == LinkStatus::Connecting {
            match r {
                LoginFailure::Retry => {
                    assert_eq!(s.status(), LinkStatus::ServerClosed);
                    assert_eq!(self.login_background, Some(true), "a script login retried");
                    assert!(!matches!(code, 1 | 2 | 4 | 5), "permanent refusal {code} retried");
                    self.since_retry = Some(0);
                }
                LoginFailure::Stopped => assert_eq!(s.status(), LinkStatus::Closed),
            }
            self.login_background = None;
            assert!(s.requests().iter().all(|r| r.state != RequestState::Pending));
        } else {
            assert_eq!(s.status(), was, "a failure outside a login changed the status");
            assert_eq!(
                r == LoginFailure::Retry,
                was == LinkStatus::ServerClosed && s.link().auto_reconnect()
            );
        }
    }

    fn link_lost(&mut self) {
        let was = self.s.status();
        let inflight = self.s.inflight_len();
        let started = self.s.link_lost(self.now);
        assert_eq!(self.s.inflight_len(), inflight, "link loss dropped in-flight messages");
        if was == LinkStatus::Connected {
            assert_eq!(self.s.status(), LinkStatus::ServerClosed);
            assert_eq!(started, self.s.link().auto_reconnect());
            if started {
                assert_eq!(self.s.reconnect_poll(self.now), ReconnectPoll::Due);
            }
            self.since_retry = None;
        } else {
            assert!(!started);
            assert_eq!(self.s.status(), was);
        }
        if self.s.status() != LinkStatus::Connecting {
            assert!(!self.s.is_connected());
            assert!(self.s.unacked().is_empty());
            assert!(self.s.requests().iter().all(|r| r.state != RequestState::Pending));
        }
    }

    fn login_begin(&mut self, background: bool) {
        let was = self.s.status();
        match self.s.login_begin(background) {
            Ok(()) => {
                assert_ne!(was, LinkStatus::Connecting);
                assert_eq!(self.s.status(), LinkStatus::Connecting);
                assert_eq!(self.s.state(), ConnectionState::Disconnected);
                assert!(self.s.unacked().is_empty());
                assert!(self.s.requests().iter().all(|r| r.state != RequestState::Pending));
                if !background {
                    assert_eq!(self.s.link().attempt(), 0);
                }
                self.login_background = Some(background);
            }
            Err(SessionError::Busy) => assert_eq!(was, LinkStatus::Connecting),
            Err(e) => panic!("login_begin: {e:?}"),
        }
    }

    fn connect(&mut self, opts: &ConnectOptions<'_>, out_cap: usize) {
        let mut out = vec![0u8; out_cap];
        let was = self.s.status();
        match self.s.connect(opts, self.now, &mut out) {
            Ok(n) => {
                assert!(n <= out.len());
                assert_eq!(self.s.state(), ConnectionState::Connecting);
                assert_eq!(self.s.status(), LinkStatus::Connecting);
                if was != LinkStatus::Connecting {
                    self.login_background = Some(false);
                }
                // What we send must be a CONNECT our own decoder accepts.
                match mqtt_core::decode(&out[..n]) {
                    Ok(Status::Complete((Packet::Connect(c), used))) => {
                        assert_eq!(used, n);
                        assert_eq!(c.client_id, opts.client_id);
                    }
                    other => panic!("our CONNECT does not decode: {other:?}"),
                }
            }
            Err(_) => assert_eq!(self.s.status(), was, "failed connect changed the status"),
        }
    }

    fn receive_all(&mut self, bytes: &[u8], reply_cap: usize) {
        let mut rest = bytes;
        let mut reply = vec![0u8; reply_cap];
        for _ in 0..128 {
            if rest.is_empty() {
                break;
            }
            let was = self.s.state();
            let was_background = self.login_background;
            match self.s.receive(&mut self.arena, rest, self.now, &mut reply) {
                Ok(Status::Complete(r)) => {
                    assert!(r.consumed >= 2 && r.consumed <= rest.len());
                    assert!(r.reply_len <= REPLY_MAX && r.reply_len <= reply_cap);
                    match r.event {
                        Event::ConnAck { reconnected, .. } => {
                            assert_eq!(was, ConnectionState::Connecting);
                            assert_eq!(self.s.state(), ConnectionState::Connected);
                            assert_eq!(self.s.status(), LinkStatus::Connected);
                            assert_eq!(Some(reconnected), was_background);
                            assert_eq!(self.s.link().attempt(), 0);
                            self.login_background = None;
                            self.since_retry = None;
                            if !self.scribbled {
                                // Everything kept waits for the restore.
                                assert!(subs::entries(&self.arena)
                                    .all(|e| e.state == SubState::ToRestore));
                            }
                        }
                        Event::Publish { publish, .. } => {
                            // Topic and payload borrow the input.
                            let range = rest.as_ptr_range();
                            assert!(
                                range.contains(&publish.topic.as_ptr()) || publish.topic.is_empty()
                            );
                            assert!(
                                publish.payload.is_empty()
                                    || range.contains(&publish.payload.as_ptr())
                            );
                        }
                        Event::PublishDone { packet_id, slot } => {
                            assert!(!self.s.publish_pending(slot, packet_id));
                        }
                        _ => {}
                    }
                    rest = &rest[r.consumed..];
                }
                Ok(Status::Partial(n)) => {
                    assert!(n > 0);
                    break;
                }
                Err(e) => {
                    if was != ConnectionState::Connected {
                        assert_ne!(self.s.state(), ConnectionState::Connected, "error {e:?} connected us");
                    }
                    // The caller drops the connection after any error.
                    self.drop_after_error(&e);
                    break;
                }
            }
            check(self);
        }
    }

    /// restore_next until DONE (or one step); returns the steps taken.
    fn restore(&mut self, out_cap: usize, all: bool) {
        let mut out = vec![0u8; out_cap];
        let mut slots = HashSet::new();
        let mut grown = false;
        // Each SEND takes at least one ToRestore entry, each RETRANSMIT one slot.
        let bound = MAX_SUBSCRIPTIONS + MAX_INFLIGHT + 2;
        for step in 0.. {
            assert!(step <= bound, "restore does not terminate");
            let before = self.s.inflight_len();
            match self.s.restore_next(&mut self.arena, self.now, &mut out) {
                Ok(RestoreStep::Done) => {
                    // Repeatable.
                    assert_eq!(
                        self.s.restore_next(&mut self.arena, self.now, &mut out),
                        Ok(RestoreStep::Done)
                    );
                    if !self.scribbled {
                        assert!(subs::entries(&self.arena).all(|e| e.state != SubState::ToRestore));
                    }
                    break;
                }
                Ok(RestoreStep::Send { len }) => {
                    assert!(len > 0 && len <= out.len());
                    match mqtt_core::decode(&out[..len]) {
                        Ok(Status::Complete((Packet::Subscribe(sub), used))) => {
                            assert_eq!(used, len);
                            assert!(self
                                .s
                                .unacked()
                                .iter()
                                .any(|u| u.packet_id == sub.packet_id));
                            for t in sub.topics.iter() {
                                let e = subs::entries(&self.arena).find(|e| e.filter == t.filter);
                                assert!(e.is_some(), "restored {:?} not in the table", t.filter);
                            }
                        }
                        other => panic!("restore SUBSCRIBE does not decode: {other:?}"),
                    }
                }
                Ok(RestoreStep::Retransmit { slot }) => {
                    assert!(slots.insert(slot), "slot {slot} restored twice");
                    assert!(self.s.inflight().any(|o| o.slot == slot));
                    let mut buf = vec![0u8; 64];
                    let _ = self.s.retransmit(slot, "t", b"p", self.now, &mut buf);
                }
                Err(SessionError::Encode(mqtt_core::EncodeError::BufferTooSmall { needed })) => {
                    assert!(needed > out.len());
                    if grown || !all {
                        break;
                    }
                    // The glue retries with a buffer that fits one entry.
                    grown = true;
                    out = vec![0u8; needed];
                }
                Err(SessionError::NotConnected) => {
                    assert!(!self.s.is_connected());
                    break;
                }
                // Requests forgotten by their waiters keep their packets on the wire.
                Err(SessionError::PendingFull) if self.s.unacked().len() == MAX_UNACKED => break,
                // Garbage may read as an entry that cannot be encoded.
                Err(_) if self.scribbled => break,
                Err(e) => panic!("restore_next: {e:?}"),
            }
            assert_eq!(self.s.inflight_len(), before);
            check(self);
            if !all {
                break;
            }
        }
    }
}

/// Growth keeps the bytes; what lies past them is garbage, except that a
/// header (the first two bytes) appearing only now starts zeroed (empty).
fn grow(arena: &mut Vec<u8>, len: usize, fill: u8) {
    let old = arena.len();
    arena.resize(len, fill);
    for b in arena.iter_mut().take(2).skip(old) {
        *b = 0;
    }
}

fn pick_id(id: &Id, ids: &[u16]) -> u16 {
    match id {
        Id::Known(n) if !ids.is_empty() => ids[*n as usize % ids.len()],
        Id::Known(n) => u16::from(*n),
        Id::Raw(p) => *p,
    }
}

fuzz_target!(|input: (u32, u32, u16, Vec<Op>)| {
    let (now, seed, arena_cap, ops) = input;
    let mut w = World {
        s: Session::with_seed(seed),
        arena: vec![0u8; usize::from(arena_cap) % (SUBS_MAX_BYTES + 64)],
        now,
        scribbled: false,
        login_background: None,
        since_retry: None,
    };
    for op in ops.iter().take(256) {
        match op {
            Op::SetAutoReconnect(on) => {
                let was_on = w.s.link().auto_reconnect();
                w.s.set_auto_reconnect(*on);
                assert_eq!(w.s.link().auto_reconnect(), *on);
                if *on && !was_on {
                    w.since_retry = None;
                }
            }
            Op::LoginBegin { background } => w.login_begin(*background),
            Op::Connect { v31, client_id, user, password, will, keep_alive_s, clean, ping_max, out_cap } => {
                let will = will.as_ref().map(|(t, m, q, r)| LastWill {
                    topic: t.as_str(),
                    message: m.as_slice(),
                    qos: QoS::from_u8(q % 3).unwrap(),
                    retain: *r,
                });
                let opts = ConnectOptions {
                    protocol: if *v31 { Protocol::V31 } else { Protocol::V311 },
                    client_id,
                    username: user.as_deref(),
                    password: password.as_deref(),
                    will,
                    keep_alive_s: *keep_alive_s,
                    clean_session: *clean,
                    ping_max_unanswered: *ping_max,
                };
                w.connect(&opts, *out_cap as usize);
            }
            Op::Receive { bytes, reply_cap } => w.receive_all(bytes, *reply_cap as usize),
            Op::ReceiveValid(v) => {
                let bytes = valid_bytes(v, &w.s);
                w.receive_all(&bytes, REPLY_MAX);
            }
            Op::LoginFailed { code } => {
                let was = w.s.status();
                let r = w.s.login_failed(*code, w.now);
                w.after_login_failed(was, r, *code);
            }
            Op::LinkLost => w.link_lost(),
            Op::Close => {
                let inflight = w.s.inflight_len();
                w.s.close();
                assert_eq!(w.s.status(), LinkStatus::Closed);
                assert_eq!(w.s.reconnect_poll(w.now), ReconnectPoll::None);
                assert_eq!(w.s.inflight_len(), inflight);
                assert!(w.s.unacked().is_empty());
                w.login_background = None;
            }
            Op::ReconnectPoll => {
                let _ = w.s.reconnect_poll(w.now);
            }
            Op::ReconnectCycle { accept } => {
                if w.s.reconnect_poll(w.now) == ReconnectPoll::Due {
                    w.login_begin(true);
                    w.connect(&default_options(), 64);
                    if let Some(code) = accept {
                        let bytes = frame(0x20, &[0, code % 7]);
                        w.receive_all(&bytes, REPLY_MAX);
                        if w.s.is_connected() {
                            w.restore(48, true);
                        }
                    }
                }
            }
            Op::Online { background, present, out_cap } => {
                if !w.s.is_connected() {
                    if w.s.status() != LinkStatus::Connecting {
                        w.login_begin(*background);
                    }
                    w.connect(&default_options(), 64);
                    let bytes = frame(0x20, &[*present as u8, 0]);
                    w.receive_all(&bytes, REPLY_MAX);
                }
                if w.s.is_connected() {
                    w.restore(usize::from(*out_cap % 64), true);
                }
            }
            Op::AnswerAll { codes } => {
                let bytes = answers(&w.s, codes);
                w.receive_all(&bytes, REPLY_MAX);
            }
            Op::SubsReserve { filter, extra } => match subs::reserve(&w.arena, filter) {
                Ok(needed) => {
                    assert!(needed <= SUBS_MAX_BYTES);
                    if needed > w.arena.len() {
                        // Growth keeps the bytes; what lies past them is garbage.
                        grow(&mut w.arena, needed + usize::from(*extra), 0xA5);
                        assert!(subs::check_upsert(&w.arena, filter).is_ok());
                    }
                }
                Err(_) => {
                    if w.arena.len() < SUBS_MAX_BYTES + 64 {
                        let len = w.arena.len() + usize::from(*extra);
                        grow(&mut w.arena, len, 0x5A);
                    }
                }
            },
            Op::Subscribe { filter, qos, out_cap } => {
                let Ok(qos) = QoS::from_u8(qos % 3) else { continue };
                let mut out = vec![0u8; *out_cap as usize];
                let arena_before = w.arena.clone();
                let requests_before = w.s.requests().to_vec();
                let connected = w.s.is_connected();
                match w.s.subscribe(&mut w.arena, filter, qos, w.now, &mut out) {
                    Ok((n, pid)) => {
                        assert!(n <= out.len());
                        let e = subs::entries(&w.arena).find(|e| e.filter == filter.as_bytes());
                        let e = e.expect("subscribed filter not in the table");
                        assert_eq!(e.qos, qos);
                        if connected {
                            assert_ne!(pid, 0);
                            assert_eq!(e.state, SubState::Requested { packet_id: pid, index: 0 });
                            assert!(w
                                .s
                                .requests()
                                .iter()
                                .any(|r| r.packet_id == pid && r.state == RequestState::Pending));
                            match mqtt_core::decode(&out[..n]) {
                                Ok(Status::Complete((Packet::Subscribe(sub), used))) => {
                                    assert_eq!(used, n);
                                    assert_eq!(sub.packet_id, pid);
                                }
                                other => panic!("our SUBSCRIBE does not decode: {other:?}"),
                            }
                        } else {
                            assert_eq!((n, pid), (0, 0));
                            assert_eq!(e.state, SubState::ToRestore);
                        }
                    }
                    Err(_) => {
                        assert_eq!(w.arena, arena_before, "failed subscribe changed the table");
                        assert_eq!(w.s.requests(), requests_before.as_slice());
                    }
                }
            }
            Op::Unsubscribe { filter, out_cap } => {
                let mut out = vec![0u8; *out_cap as usize];
                let arena_before = w.arena.clone();
                let connected = w.s.is_connected();
                match w.s.unsubscribe(&mut w.arena, filter, w.now, &mut out) {
                    Ok((n, pid)) => {
                        assert!(n <= out.len());
                        let e = subs::entries(&w.arena).find(|e| e.filter == filter.as_bytes());
                        if connected {
                            assert_ne!(pid, 0);
                            if let Some(e) = e {
                                assert_eq!(e.state, SubState::Removing { packet_id: pid });
                            }
                        } else {
                            assert_eq!((n, pid), (0, 0));
                            assert!(e.is_none() || w.scribbled, "offline unsubscribe kept {e:?}");
                        }
                    }
                    Err(_) => assert_eq!(w.arena, arena_before, "failed unsubscribe changed the table"),
                }
            }
            Op::RequestResult(id) => {
                let ids: Vec<u16> = w.s.requests().iter().map(|r| r.packet_id).collect();
                let pid = pick_id(id, &ids);
                let known = w.s.requests().iter().find(|r| r.packet_id == pid).map(|r| r.state);
                let got = w.s.request_result(pid);
                assert_eq!(got, known);
                let still = w.s.requests().iter().any(|r| r.packet_id == pid);
                assert_eq!(still, got == Some(RequestState::Pending));
                if let Some(RequestState::Done(q)) = got {
                    assert!(q <= 2);
                }
            }
            Op::RequestForget(id) => {
                let ids: Vec<u16> = w.s.requests().iter().map(|r| r.packet_id).collect();
                let pid = pick_id(id, &ids);
                w.s.request_forget(pid);
                assert!(w.s.requests().iter().all(|r| r.packet_id != pid));
            }
            Op::Restore { out_cap, all } => w.restore(usize::from(*out_cap % 64), *all),
            Op::Publish { topic, payload, qos, retain, max_queued, out_cap } => {
                let before = w.s.inflight_len();
                let mut out = vec![0u8; *out_cap as usize];
                let Ok(qos) = QoS::from_u8(qos % 3) else { continue };
                let connected = w.s.is_connected();
                let status = w.s.status();
                match w.s.publish_or_queue(topic, payload, qos, *retain, *max_queued, w.now, &mut out) {
                    Ok(o) => {
                        assert!(o.len <= out.len());
                        if qos != QoS::AtMostOnce {
                            assert_ne!(o.packet_id, 0);
                            let slot = o.slot.expect("QoS 1/2 without a slot");
                            assert!(w.s.publish_pending(slot, o.packet_id));
                            assert_eq!(w.s.inflight_len(), before + 1);
                        }
                        if o.queued {
                            assert!(!connected && qos != QoS::AtMostOnce && o.len == 0);
                            assert!(w.s.link().auto_reconnect());
                            assert!(matches!(status, LinkStatus::ServerClosed | LinkStatus::Connecting));
                            let unsent = w.s.inflight().filter(|o| !o.sent).count();
                            assert!(unsent <= usize::from(*max_queued));
                        } else {
                            assert!(connected);
                        }
                        if o.payload_included {
                            match mqtt_core::decode(&out[..o.len]) {
                                Ok(Status::Complete((Packet::Publish(p), _))) => {
                                    assert_eq!(p.payload, payload.as_slice());
                                    assert_eq!(p.topic, topic.as_bytes());
                                }
                                other => panic!("our PUBLISH does not decode: {other:?}"),
                            }
                        }
                    }
                    Err(e) => {
                        assert_eq!(w.s.inflight_len(), before, "failed publish changed state");
                        if e == SessionError::NotConnected {
                            assert!(!connected);
                        }
                    }
                }
            }
            Op::PublishPending { id, slot } => {
                let ids: Vec<u16> = w.s.inflight().map(|o| o.packet_id).collect();
                let pid = pick_id(id, &ids);
                let expected = w.s.inflight().any(|o| o.slot == *slot && o.packet_id == pid);
                assert_eq!(w.s.publish_pending(*slot, pid), expected);
            }
            Op::Retransmit { slot, topic, payload, out_cap } => {
                let mut out = vec![0u8; *out_cap as usize];
                let before = w.s.inflight_len();
                if let Ok(o) = w.s.retransmit(*slot, topic, payload, w.now, &mut out) {
                    assert!(o.len <= out.len());
                    if o.payload_included {
                        match mqtt_core::decode(&out[..o.len]) {
                            Ok(Status::Complete((Packet::Publish(_), _))) => {}
                            Ok(Status::Complete((Packet::PubRel(_), _))) => {}
                            other => panic!("retransmission does not decode: {other:?}"),
                        }
                    }
                }
                assert_eq!(w.s.inflight_len(), before);
            }
            Op::ReleaseSlot(slot) => {
                let had = w.s.inflight().any(|o| o.slot == *slot);
                assert_eq!(w.s.release_slot(*slot).is_ok(), had);
            }
            Op::InboundForget(pid) => w.s.inbound_forget(*pid),
            Op::Ping { out_cap } => {
                let mut out = vec![0u8; *out_cap as usize];
                let _ = w.s.ping(w.now, &mut out);
            }
            Op::Disconnect { out_cap } => {
                let mut out = vec![0u8; *out_cap as usize];
                let inflight = w.s.inflight_len();
                if w.s.disconnect(&mut out).is_ok() {
                    assert_eq!(w.s.state(), ConnectionState::Disconnected);
                    assert_eq!(w.s.status(), LinkStatus::Closed);
                    assert_eq!(w.s.inflight_len(), inflight, "disconnect dropped in-flight messages");
                    w.login_background = None;
                }
            }
            Op::BytesReceived => w.s.bytes_received(w.now),
            Op::Tick { out_cap } => {
                let mut out = vec![0u8; *out_cap as usize];
                match w.s.tick(w.now, &mut out) {
                    Ok(Tick::SendPing { len, .. }) => assert_eq!(&out[..len], &[0xC0, 0]),
                    Ok(Tick::Dead) => w.link_lost(),
                    Ok(_) => {}
                    Err(SessionError::Encode(_)) => {}
                    Err(e) => panic!("tick error {e:?}"),
                }
            }
            Op::Advance(ms) => {
                w.now = w.now.wrapping_add(*ms);
                if let Some(t) = &mut w.since_retry {
                    *t = t.saturating_add(u64::from(*ms));
                }
            }
            Op::Scribble { at, byte } => {
                if !w.arena.is_empty() {
                    let i = usize::from(*at) % w.arena.len();
                    w.arena[i] = *byte;
                    w.scribbled = true;
                }
            }
        }
        check(&w);
    }
});
