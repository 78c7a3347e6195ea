//! The client session driven by arbitrary call sequences and arbitrary inbound
//! bytes, with time passing (and wrapping). Invariants checked on the way:
//! no panic; replies fit REPLY_MAX; consumed bytes stay inside the input; the
//! in-flight table never exceeds MAX_INFLIGHT and never holds a packet id twice
//! or id 0; published QoS 1/2 ids are non-zero; the state is CONNECTED only
//! after a CONNACK accepted while connecting.
#![no_main]
use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use mqtt_core::codec::{LastWill, Protocol, QoS, Status, SubscribeTopic};
use mqtt_core::session::{
    ConnectOptions, ConnectionState, Event, Session, SessionError, Tick, MAX_INFLIGHT, REPLY_MAX,
};

#[derive(Arbitrary, Debug)]
enum Op {
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
    Publish { topic: String, payload: Vec<u8>, qos: u8, retain: bool, out_cap: u16 },
    Retransmit { slot: u8, topic: String, payload: Vec<u8>, out_cap: u16 },
    ReleaseSlot(u8),
    Subscribe { filters: Vec<(String, u8)>, out_cap: u16 },
    Unsubscribe { filters: Vec<String>, out_cap: u16 },
    Ping { out_cap: u8 },
    Disconnect { out_cap: u8 },
    BytesReceived,
    ConnectionLost,
    Tick { out_cap: u8 },
    /// Time passes (ms); wraps around u32.
    Advance(u32),
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
            body.extend(codes.iter().map(|c| match c % 4 {
                3 => 0x80,
                q => q,
            }));
            frame(0x90, &body)
        }
        Valid::UnsubAck(p) => id_packet(0xB0, *p),
        Valid::PingResp => vec![0xD0, 0],
        Valid::AckInflight { n, kind } => {
            let ids: Vec<u16> = s.inflight().map(|o| o.packet_id).collect();
            let pid = if ids.is_empty() {
                s.pending_requests().first().map(|r| r.packet_id).unwrap_or(1)
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
    }
}

fn check(s: &Session) {
    assert!(s.inflight_len() <= MAX_INFLIGHT);
    let mut seen = std::collections::HashSet::new();
    let mut slots = std::collections::HashSet::new();
    for o in s.inflight() {
        assert_ne!(o.packet_id, 0, "packet id 0 in flight");
        assert!(seen.insert(o.packet_id), "packet id {} twice in flight", o.packet_id);
        assert!((o.slot as usize) < MAX_INFLIGHT, "slot {} out of range", o.slot);
        assert!(slots.insert(o.slot), "slot {} twice", o.slot);
    }
    for r in s.pending_requests() {
        assert_ne!(r.packet_id, 0);
        assert!(!seen.contains(&r.packet_id), "request id {} also in flight", r.packet_id);
    }
}

fn receive_all(s: &mut Session, bytes: &[u8], now: u32, reply_cap: usize) {
    let mut rest = bytes;
    let mut reply = vec![0u8; reply_cap];
    for _ in 0..32 {
        if rest.is_empty() {
            break;
        }
        let was = s.state();
        match s.receive(rest, now, &mut reply) {
            Ok(Status::Complete(r)) => {
                assert!(r.consumed >= 2 && r.consumed <= rest.len());
                assert!(r.reply_len <= REPLY_MAX && r.reply_len <= reply_cap);
                if let Event::ConnAck { .. } = r.event {
                    assert_eq!(was, ConnectionState::Connecting);
                    assert_eq!(s.state(), ConnectionState::Connected);
                }
                if let Event::Publish { publish, .. } = r.event {
                    // Topic and payload borrow the input.
                    let range = rest.as_ptr_range();
                    assert!(range.contains(&publish.topic.as_ptr()) || publish.topic.is_empty());
                    assert!(
                        publish.payload.is_empty() || range.contains(&publish.payload.as_ptr())
                    );
                }
                rest = &rest[r.consumed..];
            }
            Ok(Status::Partial(n)) => {
                assert!(n > 0);
                break;
            }
            Err(e) => {
                if was != ConnectionState::Connected {
                    assert_ne!(s.state(), ConnectionState::Connected, "error {e:?} connected us");
                }
                // The caller drops the connection after any error.
                s.connection_lost();
                break;
            }
        }
        check(s);
    }
}

fuzz_target!(|input: (u32, Vec<Op>)| {
    let (mut now, ops) = input;
    let mut s = Session::new();
    for op in ops.iter().take(256) {
        match op {
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
                let mut out = vec![0u8; *out_cap as usize];
                if let Ok(n) = s.connect(&opts, now, &mut out) {
                    assert!(n <= out.len());
                    assert_eq!(s.state(), ConnectionState::Connecting);
                    // What we send must be a CONNECT our own decoder accepts.
                    match mqtt_core::decode(&out[..n]) {
                        Ok(Status::Complete((mqtt_core::Packet::Connect(c), used))) => {
                            assert_eq!(used, n);
                            assert_eq!(c.client_id, client_id.as_str());
                        }
                        other => panic!("our CONNECT does not decode: {other:?}"),
                    }
                }
            }
            Op::Receive { bytes, reply_cap } => receive_all(&mut s, bytes, now, *reply_cap as usize),
            Op::ReceiveValid(v) => {
                let bytes = valid_bytes(v, &s);
                receive_all(&mut s, &bytes, now, REPLY_MAX);
            }
            Op::Publish { topic, payload, qos, retain, out_cap } => {
                let before = s.inflight_len();
                let mut out = vec![0u8; *out_cap as usize];
                let Ok(qos) = QoS::from_u8(qos % 3) else { continue };
                match s.publish(topic, payload, qos, *retain, now, &mut out) {
                    Ok(o) => {
                        assert!(o.len <= out.len());
                        assert!(s.is_connected());
                        if qos != QoS::AtMostOnce {
                            assert_ne!(o.packet_id, 0);
                            assert!(o.slot.is_some());
                            assert_eq!(s.inflight_len(), before + 1);
                        }
                        if o.payload_included {
                            match mqtt_core::decode(&out[..o.len]) {
                                Ok(Status::Complete((mqtt_core::Packet::Publish(p), _))) => {
                                    assert_eq!(p.payload, payload.as_slice());
                                    assert_eq!(p.topic, topic.as_str());
                                }
                                other => panic!("our PUBLISH does not decode: {other:?}"),
                            }
                        }
                    }
                    Err(_) => assert_eq!(s.inflight_len(), before, "failed publish changed state"),
                }
            }
            Op::Retransmit { slot, topic, payload, out_cap } => {
                let mut out = vec![0u8; *out_cap as usize];
                if let Ok(o) = s.retransmit(*slot, topic, payload, now, &mut out) {
                    assert!(o.len <= out.len());
                    if o.payload_included {
                        match mqtt_core::decode(&out[..o.len]) {
                            Ok(Status::Complete((mqtt_core::Packet::Publish(p), _))) => assert!(p.dup),
                            Ok(Status::Complete((mqtt_core::Packet::PubRel(_), _))) => {}
                            other => panic!("retransmission does not decode: {other:?}"),
                        }
                    }
                }
            }
            Op::ReleaseSlot(slot) => {
                let _ = s.release_slot(*slot);
            }
            Op::Subscribe { filters, out_cap } => {
                let topics: Vec<SubscribeTopic<'_>> = filters
                    .iter()
                    .take(8)
                    .map(|(f, q)| SubscribeTopic { filter: f, qos: QoS::from_u8(q % 3).unwrap() })
                    .collect();
                let mut out = vec![0u8; *out_cap as usize];
                if let Ok((n, pid)) = s.subscribe(&topics, now, &mut out) {
                    assert!(n <= out.len());
                    assert_ne!(pid, 0);
                }
            }
            Op::Unsubscribe { filters, out_cap } => {
                let f: Vec<&str> = filters.iter().take(8).map(|s| s.as_str()).collect();
                let mut out = vec![0u8; *out_cap as usize];
                if let Ok((n, pid)) = s.unsubscribe(&f, now, &mut out) {
                    assert!(n <= out.len());
                    assert_ne!(pid, 0);
                }
            }
            Op::Ping { out_cap } => {
                let mut out = vec![0u8; *out_cap as usize];
                let _ = s.ping(now, &mut out);
            }
            Op::Disconnect { out_cap } => {
                let mut out = vec![0u8; *out_cap as usize];
                let inflight = s.inflight_len();
                if s.disconnect(&mut out).is_ok() {
                    assert_eq!(s.state(), ConnectionState::Disconnected);
                    assert_eq!(s.inflight_len(), inflight, "disconnect dropped in-flight messages");
                }
            }
            Op::BytesReceived => s.bytes_received(now),
            Op::ConnectionLost => {
                let inflight = s.inflight_len();
                s.connection_lost();
                assert_eq!(s.inflight_len(), inflight);
                assert!(!s.is_connected());
            }
            Op::Tick { out_cap } => {
                let mut out = vec![0u8; *out_cap as usize];
                match s.tick(now, &mut out) {
                    Ok(Tick::SendPing { len, .. }) => assert_eq!(&out[..len], &[0xC0, 0]),
                    Ok(_) => {}
                    Err(SessionError::Encode(_)) => {}
                    Err(e) => panic!("tick error {e:?}"),
                }
            }
            Op::Advance(ms) => now = now.wrapping_add(*ms),
        }
        check(&s);
    }
});
