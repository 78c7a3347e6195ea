//! Property tests: the session survives any bytes and any call sequence.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::arithmetic_side_effects
)]

use mqtt_core::codec::{Protocol, QoS, Status, SubscribeTopic};
use mqtt_core::session::{ConnectOptions, Event, Session, MAX_INFLIGHT};
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

#[derive(Debug, Clone)]
enum Call {
    Connect(u16),
    Receive(Vec<u8>),
    ConnAck(bool),
    Publish(u8, usize, bool),
    Ack(u8, u16),
    InboundPublish(u8, u16),
    Retransmit(u8, usize),
    Release(u8),
    Subscribe(u8),
    Unsubscribe,
    SubAck(u16, Vec<u8>),
    Ping,
    Tick(u32),
    Disconnect,
    Lost,
}

fn call() -> impl Strategy<Value = Call> {
    prop_oneof![
        (0u16..5).prop_map(Call::Connect),
        prop::collection::vec(any::<u8>(), 0..24).prop_map(Call::Receive),
        any::<bool>().prop_map(Call::ConnAck),
        (0u8..4, 0usize..80, any::<bool>()).prop_map(|(q, cap, r)| Call::Publish(q, cap, r)),
        (4u8..8, 0u16..20).prop_map(|(t, id)| Call::Ack(t, id)),
        (0u8..3, 1u16..20).prop_map(|(q, id)| Call::InboundPublish(q, id)),
        (0u8..20, 0usize..40).prop_map(|(s, cap)| Call::Retransmit(s, cap)),
        (0u8..20).prop_map(Call::Release),
        (0u8..4).prop_map(Call::Subscribe),
        Just(Call::Unsubscribe),
        (0u16..20, prop::collection::vec(any::<u8>(), 0..3))
            .prop_map(|(id, c)| Call::SubAck(id, c)),
        Just(Call::Ping),
        (0u32..10_000).prop_map(Call::Tick),
        Just(Call::Disconnect),
        Just(Call::Lost),
    ]
}

fn feed(session: &mut Session, bytes: &[u8], now: u32) {
    let mut reply = [0u8; 4];
    if let Ok(Status::Complete(received)) = session.receive(bytes, now, &mut reply) {
        assert!(received.consumed <= bytes.len());
        assert!(received.reply_len <= reply.len());
        if let Event::PublishDone { slot, .. } = received.event {
            assert!(session.inflight().all(|entry| entry.slot != slot));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic_in_receive(connected: bool, bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let mut session = Session::new();
        if connected {
            session.connect(&options(10), 0, &mut [0u8; 64]).unwrap();
            feed(&mut session, &[0x20, 0x02, 0x00, 0x00], 0);
        }
        let mut reply = [0u8; 4];
        let _ = session.receive(&bytes, 7, &mut reply);
    }

    #[test]
    fn arbitrary_call_sequences_never_panic(calls in prop::collection::vec(call(), 0..60)) {
        let mut session = Session::new();
        let payload = [0x55u8; 50];
        let mut now: u32 = u32::MAX - 20_000;
        for call in calls {
            now = now.wrapping_add(37);
            let mut out = [0u8; 80];
            match call {
                Call::Connect(keep_alive) => { let _ = session.connect(&options(keep_alive), now, &mut out); }
                Call::Receive(bytes) => feed(&mut session, &bytes, now),
                Call::ConnAck(present) => feed(&mut session, &[0x20, 0x02, u8::from(present), 0x00], now),
                Call::Publish(qos, cap, retain) => {
                    let before = session.inflight_len();
                    if let Ok(qos) = QoS::from_u8(qos) {
                        match session.publish("t/x", &payload, qos, retain, now, &mut out[..cap]) {
                            Ok(outcome) => {
                                prop_assert!(outcome.len <= cap);
                                prop_assert_eq!(outcome.slot.is_some(), qos != QoS::AtMostOnce);
                                prop_assert!(outcome.packet_id != 0 || qos == QoS::AtMostOnce);
                            }
                            Err(_) => prop_assert_eq!(session.inflight_len(), before),
                        }
                    }
                }
                Call::Ack(packet_type, id) => {
                    let [hi, lo] = id.to_be_bytes();
                    let first = (packet_type << 4) | if packet_type == 6 { 2 } else { 0 };
                    feed(&mut session, &[first, 0x02, hi, lo], now);
                }
                Call::InboundPublish(qos, id) => {
                    let [hi, lo] = id.to_be_bytes();
                    feed(&mut session, &[0x30 | (qos << 1), 0x05, 0x00, 0x01, b'a', hi, lo], now);
                }
                Call::Retransmit(slot, cap) => { let _ = session.retransmit(slot, "t/x", &payload, now, &mut out[..cap]); }
                Call::Release(slot) => { let _ = session.release_slot(slot); }
                Call::Subscribe(qos) => {
                    if let Ok(qos) = QoS::from_u8(qos) {
                        let _ = session.subscribe(&[SubscribeTopic { filter: "a/+", qos }], now, &mut out);
                    }
                }
                Call::Unsubscribe => { let _ = session.unsubscribe(&["a/#"], now, &mut out); }
                Call::SubAck(id, codes) => {
                    let [hi, lo] = id.to_be_bytes();
                    let mut bytes = vec![0x90, (2 + codes.len()) as u8, hi, lo];
                    bytes.extend_from_slice(&codes);
                    feed(&mut session, &bytes, now);
                }
                Call::Ping => { let _ = session.ping(now, &mut out); }
                Call::Tick(advance) => {
                    now = now.wrapping_add(advance);
                    let _ = session.tick(now, &mut out);
                }
                Call::Disconnect => { let _ = session.disconnect(&mut out); }
                Call::Lost => session.connection_lost(),
            }
            prop_assert!(session.inflight_len() <= MAX_INFLIGHT);
            let mut ids: Vec<u16> = session.inflight().map(|entry| entry.packet_id).collect();
            ids.extend(session.pending_requests().iter().map(|request| request.packet_id));
            let count = ids.len();
            ids.sort_unstable();
            ids.dedup();
            prop_assert_eq!(ids.len(), count, "packet ids in use must be unique");
            prop_assert!(!ids.contains(&0));
        }
    }
}
