//! Property tests: the session survives any bytes and any call sequence, and
//! its invariants hold after every call.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::arithmetic_side_effects
)]

use mqtt_core::codec::{Protocol, QoS, Status};
use mqtt_core::session::{
    subs, ConnectOptions, Event, LinkStatus, ReconnectPoll, RestoreStep, Session, SubState,
    MAX_INFLIGHT, MAX_REQUESTS, MAX_SUBSCRIPTIONS, SUBS_MAX_BYTES,
};
use proptest::prelude::*;

fn options(keep_alive_s: u16) -> ConnectOptions<'static> {
    ConnectOptions {
        protocol: Protocol::V311,
        client_id: "prop",
        username: None,
        password: None,
        will: None,
        keep_alive_s,
        clean_session: false,
        ping_max_unanswered: 1,
    }
}

const FILTERS: [&str; 6] = ["a/+", "a/#", "b", "c/d/e", "+/x", "#"];

#[derive(Debug, Clone)]
enum Call {
    Connect(u16),
    Receive(Vec<u8>),
    ConnAck(bool),
    Refuse(u8),
    Publish(u8, usize, bool, u8),
    Ack(u8, u16),
    InboundPublish(u8, u16),
    InboundForget(u16),
    Retransmit(u8, usize),
    Release(u8),
    Subscribe(usize, u8),
    Unsubscribe(usize),
    SubAck(u16, Vec<u8>),
    SubAckLast(u8),
    UnsubAck(u16),
    RequestResult(u16),
    RequestForget(u16),
    Restore(usize),
    Ping,
    Tick(u32),
    Disconnect,
    Close,
    Lost,
    LoginBegin(bool),
    LoginFailed(u8),
    AutoReconnect(bool),
    Poll,
}

fn call() -> impl Strategy<Value = Call> {
    prop_oneof![
        (0u16..5).prop_map(Call::Connect),
        prop::collection::vec(any::<u8>(), 0..24).prop_map(Call::Receive),
        any::<bool>().prop_map(Call::ConnAck),
        (1u8..6).prop_map(Call::Refuse),
        (0u8..4, 0usize..80, any::<bool>(), 0u8..4)
            .prop_map(|(q, cap, r, m)| Call::Publish(q, cap, r, m)),
        (4u8..8, 0u16..40).prop_map(|(t, id)| Call::Ack(t, id)),
        (0u8..3, 1u16..20).prop_map(|(q, id)| Call::InboundPublish(q, id)),
        (1u16..20).prop_map(Call::InboundForget),
        (0u8..20, 0usize..40).prop_map(|(s, cap)| Call::Retransmit(s, cap)),
        (0u8..20).prop_map(Call::Release),
        (0usize..6, 0u8..4).prop_map(|(f, q)| Call::Subscribe(f, q)),
        (0usize..6).prop_map(Call::Unsubscribe),
        (
            0u16..40,
            prop::collection::vec(prop_oneof![Just(0u8), Just(1), Just(2), Just(0x80)], 0..4)
        )
            .prop_map(|(id, c)| Call::SubAck(id, c)),
        prop_oneof![Just(0u8), Just(2), Just(0x80)].prop_map(Call::SubAckLast),
        (0u16..40).prop_map(Call::UnsubAck),
        (0u16..40).prop_map(Call::RequestResult),
        (0u16..40).prop_map(Call::RequestForget),
        (0usize..40).prop_map(Call::Restore),
        Just(Call::Ping),
        (0u32..40_000).prop_map(Call::Tick),
        Just(Call::Disconnect),
        Just(Call::Close),
        Just(Call::Lost),
        any::<bool>().prop_map(Call::LoginBegin),
        (0u8..6).prop_map(Call::LoginFailed),
        any::<bool>().prop_map(Call::AutoReconnect),
        Just(Call::Poll),
    ]
}

fn feed(session: &mut Session, table: &mut [u8], bytes: &[u8], now: u32) {
    let mut reply = [0u8; 4];
    if let Ok(Status::Complete(received)) = session.receive(table, bytes, now, &mut reply) {
        assert!(received.consumed <= bytes.len());
        assert!(received.reply_len <= reply.len());
        if let Event::PublishDone { slot, .. } = received.event {
            assert!(session.inflight().all(|entry| entry.slot != slot));
        }
    }
}

/// Packet ids are unique across every exchange still in progress.
fn check_invariants(session: &Session, table: &[u8]) -> Result<(), TestCaseError> {
    prop_assert!(session.inflight_len() <= MAX_INFLIGHT);
    prop_assert!(session.requests().len() <= MAX_REQUESTS);
    let entries: Vec<_> = subs::entries(table).collect();
    prop_assert!(entries.len() <= MAX_SUBSCRIPTIONS);
    let mut filters: Vec<&[u8]> = entries.iter().map(|e| e.filter).collect();
    filters.sort_unstable();
    filters.dedup();
    prop_assert_eq!(filters.len(), entries.len(), "filters are unique");
    // Distinct exchanges never share a packet id: in-flight messages, packets
    // on the wire, records, and (while connected) table entries.
    let mut ids: Vec<u16> = session.inflight().map(|entry| entry.packet_id).collect();
    let wire: Vec<u16> = session.unacked().iter().map(|u| u.packet_id).collect();
    ids.extend(&wire);
    let count = ids.len();
    ids.sort_unstable();
    ids.dedup();
    prop_assert_eq!(ids.len(), count, "packet ids in use must be unique");
    prop_assert!(!ids.contains(&0));
    let inflight: Vec<u16> = session.inflight().map(|entry| entry.packet_id).collect();
    for record in session.requests() {
        prop_assert!(!inflight.contains(&record.packet_id));
    }
    if session.is_connected() {
        for entry in &entries {
            if let Some(id) = entry.state.packet_id() {
                prop_assert!(!inflight.contains(&id), "entry id {} also in flight", id);
            }
        }
    } else {
        prop_assert!(session.unacked().is_empty());
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic_in_receive(
        connected: bool,
        bytes in prop::collection::vec(any::<u8>(), 0..64),
        table in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        let mut table = table;
        let mut session = Session::new();
        if connected {
            session.connect(&options(10), 0, &mut [0u8; 64]).unwrap();
            feed(&mut session, &mut table, &[0x20, 0x02, 0x00, 0x00], 0);
        }
        let mut reply = [0u8; 4];
        let _ = session.receive(&mut table, &bytes, 7, &mut reply);
        prop_assert!(subs::entries(&table).count() <= MAX_SUBSCRIPTIONS);
    }

    #[test]
    fn arbitrary_call_sequences_never_panic(
        calls in prop::collection::vec(call(), 0..80),
        seed: u32,
        table_cap in prop_oneof![Just(0usize), 0usize..48, Just(256usize)],
    ) {
        let mut session = Session::with_seed(seed);
        let mut table = vec![0u8; table_cap];
        let payload = [0x55u8; 50];
        let mut now: u32 = u32::MAX - 20_000;
        let mut last_sub_id: u16 = 0;
        for call in calls {
            now = now.wrapping_add(37);
            let mut out = [0u8; 80];
            match call {
                Call::Connect(keep_alive) => { let _ = session.connect(&options(keep_alive), now, &mut out); }
                Call::Receive(bytes) => feed(&mut session, &mut table, &bytes, now),
                Call::ConnAck(present) => {
                    let was_connecting = session.status() == LinkStatus::Connecting;
                    feed(&mut session, &mut table, &[0x20, 0x02, u8::from(present), 0x00], now);
                    if was_connecting && session.is_connected() {
                        // Everything kept awaits restoring.
                        prop_assert!(subs::entries(&table).all(|e| e.state == SubState::ToRestore));
                    }
                }
                Call::Refuse(code) => {
                    feed(&mut session, &mut table, &[0x20, 0x02, 0x00, code], now);
                    let _ = session.login_failed(code, now);
                }
                Call::Publish(qos, cap, retain, max_queued) => {
                    let before = session.inflight_len();
                    if let Ok(qos) = QoS::from_u8(qos) {
                        match session.publish_or_queue("t/x", &payload, qos, retain, max_queued, now, &mut out[..cap]) {
                            Ok(outcome) => {
                                prop_assert!(outcome.len <= cap);
                                prop_assert_eq!(outcome.slot.is_some(), qos != QoS::AtMostOnce);
                                prop_assert!(outcome.packet_id != 0 || qos == QoS::AtMostOnce);
                                prop_assert_eq!(outcome.queued, !session.is_connected());
                                if let Some(slot) = outcome.slot {
                                    prop_assert!(session.publish_pending(slot, outcome.packet_id));
                                }
                            }
                            Err(_) => prop_assert_eq!(session.inflight_len(), before),
                        }
                    }
                }
                Call::Ack(packet_type, id) => {
                    let [hi, lo] = id.to_be_bytes();
                    let first = (packet_type << 4) | if packet_type == 6 { 2 } else { 0 };
                    feed(&mut session, &mut table, &[first, 0x02, hi, lo], now);
                }
                Call::InboundPublish(qos, id) => {
                    let [hi, lo] = id.to_be_bytes();
                    feed(&mut session, &mut table, &[0x30 | (qos << 1), 0x05, 0x00, 0x01, b'a', hi, lo], now);
                }
                Call::InboundForget(id) => session.inbound_forget(id),
                Call::Retransmit(slot, cap) => { let _ = session.retransmit(slot, "t/x", &payload, now, &mut out[..cap]); }
                Call::Release(slot) => { let _ = session.release_slot(slot); }
                Call::Subscribe(filter, qos) => {
                    if let Ok(qos) = QoS::from_u8(qos) {
                        let before = table.clone();
                        match session.subscribe(&mut table, FILTERS[filter], qos, now, &mut out) {
                            Ok((_, id)) => {
                                if id != 0 { last_sub_id = id; }
                                prop_assert!(subs::entries(&table).any(|e| e.filter == FILTERS[filter].as_bytes() && e.qos == qos));
                            }
                            Err(_) => prop_assert_eq!(&table, &before, "nothing changes on error"),
                        }
                    }
                }
                Call::Unsubscribe(filter) => {
                    if let Ok((_, id)) = session.unsubscribe(&mut table, FILTERS[filter], now, &mut out) {
                        if id != 0 { last_sub_id = id; }
                    }
                }
                Call::SubAck(id, codes) => {
                    let [hi, lo] = id.to_be_bytes();
                    let mut bytes = vec![0x90, (2 + codes.len()) as u8, hi, lo];
                    bytes.extend_from_slice(&codes);
                    feed(&mut session, &mut table, &bytes, now);
                }
                Call::SubAckLast(code) => {
                    let [hi, lo] = last_sub_id.to_be_bytes();
                    feed(&mut session, &mut table, &[0x90, 0x03, hi, lo, code], now);
                }
                Call::UnsubAck(id) => {
                    let [hi, lo] = id.to_be_bytes();
                    feed(&mut session, &mut table, &[0xB0, 0x02, hi, lo], now);
                }
                Call::RequestResult(id) => { let _ = session.request_result(id); }
                Call::RequestForget(id) => session.request_forget(id),
                Call::Restore(cap) => {
                    match session.restore_next(&mut table, now, &mut out[..cap]) {
                        Ok(RestoreStep::Send { len }) => {
                            prop_assert!(len > 0 && len <= cap);
                            last_sub_id = u16::from_be_bytes([out[2], out[3]]);
                        }
                        Ok(RestoreStep::Retransmit { slot }) => {
                            prop_assert!(session.inflight().any(|e| e.slot == slot));
                        }
                        Ok(RestoreStep::Done) | Err(_) => {}
                    }
                }
                Call::Ping => { let _ = session.ping(now, &mut out); }
                Call::Tick(advance) => {
                    now = now.wrapping_add(advance);
                    let _ = session.tick(now, &mut out);
                }
                Call::Disconnect => { let _ = session.disconnect(&mut out); }
                Call::Close => session.close(),
                Call::Lost => { let _ = session.link_lost(now); }
                Call::LoginBegin(background) => {
                    let connecting = session.status() == LinkStatus::Connecting;
                    prop_assert_eq!(session.login_begin(background).is_err(), connecting);
                    prop_assert_eq!(session.status(), LinkStatus::Connecting);
                }
                Call::LoginFailed(code) => { let _ = session.login_failed(code, now); }
                Call::AutoReconnect(on) => session.set_auto_reconnect(on),
                Call::Poll => {
                    let poll = session.reconnect_poll(now);
                    if session.status() != LinkStatus::ServerClosed || !session.link().auto_reconnect() {
                        prop_assert_eq!(poll, ReconnectPoll::None);
                    }
                    if let ReconnectPoll::Wait { wait_ms } = poll {
                        prop_assert!(wait_ms <= 30_000);
                    }
                }
            }
            prop_assert!(table.len() < 2 || usize::from(u16::from_le_bytes([table[0], table[1]])) <= SUBS_MAX_BYTES);
            check_invariants(&session, &table)?;
        }
    }
}
