#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::arithmetic_side_effects
)]

use super::*;
use crate::codec::{DecodeError, FieldError, Subscribe, SubscribeTopics};

const NOW: u32 = 1_000;

fn options(keep_alive_s: u16) -> ConnectOptions<'static> {
    ConnectOptions {
        protocol: Protocol::V311,
        client_id: "dev1",
        username: None,
        password: None,
        will: None,
        keep_alive_s,
        clean_session: true,
        ping_max_unanswered: 0,
    }
}

fn receive_ok<'a>(session: &mut Session, buf: &'a [u8], reply: &mut [u8]) -> Received<'a> {
    match session.receive(&mut [], buf, NOW, reply).unwrap() {
        Status::Complete(received) => {
            assert_eq!(received.consumed, buf.len());
            received
        }
        Status::Partial(n) => panic!("partial {n}"),
    }
}

fn connected(keep_alive_s: u16) -> Session {
    let mut session = Session::new();
    let mut out = [0u8; 64];
    session
        .connect(&options(keep_alive_s), NOW, &mut out)
        .unwrap();
    assert_eq!(session.state(), ConnectionState::Connecting);
    let received = receive_ok(&mut session, &[0x20, 0x02, 0x00, 0x00], &mut [0u8; 4]);
    assert_eq!(
        received.event,
        Event::ConnAck {
            session_present: false,
            reconnected: false
        }
    );
    assert!(session.is_connected());
    session
}

#[test]
fn session_fits_the_c_reservation() {
    assert!(core::mem::size_of::<Session>() <= 768 - 8);
    assert!(core::mem::align_of::<Session>() <= 8);
}

#[test]
fn connect_encodes_connect_packet() {
    let mut session = Session::new();
    let mut out = [0u8; 64];
    let len = session.connect(&options(60), NOW, &mut out).unwrap();
    assert_eq!(
        &out[..len],
        &[0x10, 16, 0, 4, b'M', b'Q', b'T', b'T', 4, 0x02, 0, 60, 0, 4, b'd', b'e', b'v', b'1']
    );
}

#[test]
fn connect_refused_is_typed() {
    let mut session = Session::new();
    session.connect(&options(0), NOW, &mut [0u8; 64]).unwrap();
    assert_eq!(
        session.receive(&mut [], &[0x20, 0x02, 0x00, 0x05], NOW, &mut [0u8; 4]),
        Err(SessionError::Refused(ConnectReturnCode::NotAuthorized))
    );
    assert_eq!(session.state(), ConnectionState::Disconnected);
}

#[test]
fn client_id_limits() {
    let mut session = Session::new();
    let long = ConnectOptions {
        protocol: Protocol::V31,
        client_id: "123456789012345678901234",
        ..options(0)
    };
    assert_eq!(
        session.connect(&long, NOW, &mut [0u8; 128]),
        Err(SessionError::ClientIdTooLong)
    );
    let ok = ConnectOptions {
        client_id: "12345678901234567890123",
        ..long
    };
    let mut out = [0u8; 128];
    let len = session.connect(&ok, NOW, &mut out).unwrap();
    assert_eq!(&out[2..10], &[0, 6, b'M', b'Q', b'I', b's', b'd', b'p']);
    assert_eq!(out[10], 3);
    assert!(len > 23);
}

#[test]
fn unexpected_packets() {
    let mut session = connected(0);
    let mut reply = [0u8; 4];
    for bytes in [
        &[0xC0, 0x00][..],
        &[0xE0, 0x00],
        &[0x20, 0x02, 0x00, 0x00],
        &[0x82, 0x06, 0x00, 0x01, 0x00, 0x01, b'a', 0x00],
        &[0xA2, 0x05, 0x00, 0x01, 0x00, 0x01, b'a'],
    ] {
        assert!(matches!(
            session.receive(&mut [], bytes, NOW, &mut reply),
            Err(SessionError::UnexpectedPacket(_))
        ));
    }
    // Before CONNACK only CONNACK is acceptable.
    let mut connecting = Session::new();
    connecting
        .connect(&options(0), NOW, &mut [0u8; 64])
        .unwrap();
    assert_eq!(
        connecting.receive(&mut [], &[0xD0, 0x00], NOW, &mut reply),
        Err(SessionError::UnexpectedPacket(PacketType::PingResp))
    );
}

#[test]
fn publish_requires_connection() {
    let mut session = Session::new();
    assert_eq!(
        session.publish("a", b"x", QoS::AtMostOnce, false, NOW, &mut [0u8; 16]),
        Err(SessionError::NotConnected)
    );
}

#[test]
fn qos1_publish_and_puback() {
    let mut session = connected(0);
    let mut out = [0u8; 32];
    let outcome = session
        .publish("a/b", b"hi", QoS::AtLeastOnce, false, NOW, &mut out)
        .unwrap();
    assert_eq!(
        outcome,
        PublishOutcome {
            len: 11,
            payload_included: true,
            packet_id: 1,
            slot: Some(0),
            queued: false
        }
    );
    assert_eq!(
        &out[..11],
        &[0x32, 9, 0, 3, b'a', b'/', b'b', 0, 1, b'h', b'i']
    );
    let received = receive_ok(&mut session, &[0x40, 0x02, 0x00, 0x01], &mut [0u8; 4]);
    assert_eq!(
        received.event,
        Event::PublishDone {
            packet_id: 1,
            slot: 0
        }
    );
    assert_eq!(session.inflight_len(), 0);
    // A second PUBACK for the same id is harmless.
    let again = receive_ok(&mut session, &[0x40, 0x02, 0x00, 0x01], &mut [0u8; 4]);
    assert_eq!(again.event, Event::Ignored);
}

#[test]
fn qos2_publish_handshake() {
    let mut session = connected(0);
    let outcome = session
        .publish("t", b"", QoS::ExactlyOnce, true, NOW, &mut [0u8; 16])
        .unwrap();
    let pid = outcome.packet_id;
    let mut reply = [0u8; 4];
    // PUBCOMP before PUBREC is ignored.
    let bytes1 = [0x70, 0x02, 0x00, pid as u8];
    let early = receive_ok(&mut session, &bytes1, &mut reply);
    assert_eq!(early.event, Event::Ignored);
    let bytes2 = [0x50, 0x02, 0x00, pid as u8];
    let rec = receive_ok(&mut session, &bytes2, &mut reply);
    assert_eq!(
        rec.event,
        Event::PubRec {
            packet_id: pid,
            slot: 0
        }
    );
    assert_eq!(&reply[..rec.reply_len], &[0x62, 0x02, 0x00, pid as u8]);
    assert_eq!(session.inflight_len(), 1);
    let bytes3 = [0x70, 0x02, 0x00, pid as u8];
    let comp = receive_ok(&mut session, &bytes3, &mut reply);
    assert_eq!(
        comp.event,
        Event::PublishDone {
            packet_id: pid,
            slot: 0
        }
    );
    assert_eq!(session.inflight_len(), 0);
}

#[test]
fn inbound_qos1_and_qos2() {
    let mut session = connected(0);
    let mut reply = [0u8; 4];
    let qos1 = [0x32, 0x06, 0x00, 0x01, b'a', 0x00, 0x07, b'x'];
    let received = receive_ok(&mut session, &qos1, &mut reply);
    assert_eq!(&reply[..received.reply_len], &[0x40, 0x02, 0x00, 0x07]);

    let qos2 = [0x34, 0x06, 0x00, 0x01, b'a', 0x00, 0x09, b'y'];
    let first = receive_ok(&mut session, &qos2, &mut reply);
    let Event::Publish { publish, duplicate } = first.event else {
        panic!("not a publish")
    };
    assert!(!duplicate);
    assert_eq!((publish.topic, publish.payload), (&b"a"[..], &b"y"[..]));
    assert_eq!(&reply[..first.reply_len], &[0x50, 0x02, 0x00, 0x09]);

    let redelivered = [0x3C, 0x06, 0x00, 0x01, b'a', 0x00, 0x09, b'y'];
    let second = receive_ok(&mut session, &redelivered, &mut reply);
    assert!(matches!(
        second.event,
        Event::Publish {
            duplicate: true,
            ..
        }
    ));
    assert_eq!(&reply[..second.reply_len], &[0x50, 0x02, 0x00, 0x09]);

    let rel = receive_ok(&mut session, &[0x62, 0x02, 0x00, 0x09], &mut reply);
    assert_eq!(rel.event, Event::PubRel { packet_id: 9 });
    assert_eq!(&reply[..rel.reply_len], &[0x70, 0x02, 0x00, 0x09]);

    let third = receive_ok(&mut session, &qos2, &mut reply);
    assert!(matches!(
        third.event,
        Event::Publish {
            duplicate: false,
            ..
        }
    ));
}

#[test]
fn inbound_qos2_table_is_bounded() {
    let mut session = connected(0);
    let mut reply = [0u8; 4];
    for id in 1..=MAX_INBOUND_QOS2 as u16 {
        let [hi, lo] = id.to_be_bytes();
        receive_ok(
            &mut session,
            &[0x34, 0x05, 0x00, 0x01, b'a', hi, lo],
            &mut reply,
        );
    }
    assert_eq!(
        session.receive(
            &mut [],
            &[0x34, 0x05, 0x00, 0x01, b'a', 0x01, 0x00],
            NOW,
            &mut reply
        ),
        Err(SessionError::InboundFull)
    );
}

#[test]
fn small_reply_buffer_is_an_error_without_state_change() {
    let mut session = connected(0);
    let qos2 = [0x34, 0x05, 0x00, 0x01, b'a', 0x00, 0x09];
    assert_eq!(
        session.receive(&mut [], &qos2, NOW, &mut [0u8; 3]),
        Err(SessionError::Encode(EncodeError::BufferTooSmall {
            needed: 4
        }))
    );
    let received = receive_ok(&mut session, &qos2, &mut [0u8; 4]);
    assert!(matches!(
        received.event,
        Event::Publish {
            duplicate: false,
            ..
        }
    ));
}

#[test]
fn packet_ids_wrap_and_skip_ids_in_flight() {
    let mut session = connected(0);
    let mut out = [0u8; 32];
    session.next_packet_id = 65_535;
    let first = session
        .publish("t", b"", QoS::AtLeastOnce, false, NOW, &mut out)
        .unwrap();
    assert_eq!(first.packet_id, 65_535);
    let second = session
        .publish("t", b"", QoS::AtLeastOnce, false, NOW, &mut out)
        .unwrap();
    assert_eq!(second.packet_id, 1);
    // Wrap around again onto ids still in flight: they are skipped.
    session.next_packet_id = 65_535;
    let third = session
        .publish("t", b"", QoS::AtLeastOnce, false, NOW, &mut out)
        .unwrap();
    assert_eq!(third.packet_id, 2);
    let (_, sub_id) = session
        .subscribe(&mut [0u8; 64], "a", QoS::AtMostOnce, NOW, &mut out)
        .unwrap();
    assert_eq!(sub_id, 3);
}

#[test]
fn inflight_table_fills_up() {
    let mut session = connected(0);
    let mut out = [0u8; 32];
    for slot in 0..MAX_INFLIGHT as u8 {
        let outcome = session
            .publish("t", b"", QoS::AtLeastOnce, false, NOW, &mut out)
            .unwrap();
        assert_eq!(outcome.slot, Some(slot));
    }
    assert_eq!(
        session.publish("t", b"", QoS::ExactlyOnce, false, NOW, &mut out),
        Err(SessionError::InflightFull)
    );
    // QoS 0 needs no slot.
    assert!(session
        .publish("t", b"", QoS::AtMostOnce, false, NOW, &mut out)
        .is_ok());
    session.release_slot(3).unwrap();
    assert_eq!(session.release_slot(3), Err(SessionError::NoSuchSlot));
    let reused = session
        .publish("t", b"", QoS::AtLeastOnce, false, NOW, &mut out)
        .unwrap();
    assert_eq!(reused.slot, Some(3));
    let order: std::vec::Vec<u8> = session.inflight().map(|entry| entry.slot).collect();
    assert_eq!(order[..3], [0, 1, 2]);
    assert_eq!(order[15], 3);
}

#[test]
fn retransmission_sets_dup_or_resends_pubrel() {
    let mut session = connected(0);
    let mut out = [0u8; 32];
    let qos1 = session
        .publish("t", b"p", QoS::AtLeastOnce, true, NOW, &mut out)
        .unwrap();
    let qos2 = session
        .publish("t", b"p", QoS::ExactlyOnce, false, NOW, &mut out)
        .unwrap();
    receive_ok(
        &mut session,
        &[0x50, 0x02, 0x00, qos2.packet_id as u8],
        &mut [0u8; 4],
    );
    session.link_lost(NOW);
    assert_eq!(
        session.retransmit(0, "t", b"p", NOW, &mut out),
        Err(SessionError::NotConnected)
    );
    session.connect(&options(0), NOW, &mut out).unwrap();
    receive_ok(&mut session, &[0x20, 0x02, 0x01, 0x00], &mut [0u8; 4]);
    let slots: std::vec::Vec<u8> = session.inflight().map(|entry| entry.slot).collect();
    assert_eq!(slots, [0, 1]);
    let again = session.retransmit(0, "t", b"p", NOW, &mut out).unwrap();
    assert_eq!(again.packet_id, qos1.packet_id);
    assert_eq!(&out[..again.len], &[0x3B, 6, 0, 1, b't', 0, 1, b'p']);
    let rel = session.retransmit(1, "", b"", NOW, &mut out).unwrap();
    assert_eq!(&out[..rel.len], &[0x62, 0x02, 0x00, qos2.packet_id as u8]);
    assert_eq!(
        session.retransmit(7, "t", b"p", NOW, &mut out),
        Err(SessionError::NoSuchSlot)
    );
}

#[test]
fn publish_header_only_when_payload_does_not_fit() {
    let mut session = connected(0);
    let payload = [0xAAu8; 300];
    let mut out = [0u8; 16];
    let outcome = session
        .publish("a/b", &payload, QoS::AtLeastOnce, false, NOW, &mut out)
        .unwrap();
    assert!(!outcome.payload_included);
    assert_eq!(outcome.len, 10);
    assert_eq!(&out[..3], &[0x32, 0xB3, 0x02]);
    // Too small even for the header: nothing changes.
    assert_eq!(
        session.publish("a/b", &payload, QoS::AtLeastOnce, false, NOW, &mut out[..9]),
        Err(SessionError::Encode(EncodeError::BufferTooSmall {
            needed: 10
        }))
    );
    assert_eq!(session.inflight_len(), 1);
}

#[test]
fn publish_topic_validation() {
    let mut session = connected(0);
    let mut out = [0u8; 16];
    assert_eq!(
        session.publish("a/#", b"", QoS::AtMostOnce, false, NOW, &mut out),
        Err(SessionError::Encode(EncodeError::Field(
            FieldError::WildcardInTopic
        )))
    );
    assert_eq!(
        session.publish("", b"", QoS::AtLeastOnce, false, NOW, &mut out),
        Err(SessionError::Encode(EncodeError::Field(
            FieldError::EmptyTopic
        )))
    );
    assert_eq!(session.inflight_len(), 0);
}

#[test]
fn subscribe_and_suback_codes() {
    let mut session = connected(0);
    let mut out = [0u8; 32];
    let (len, packet_id) = session
        .subscribe(&mut [0u8; 64], "a/+", QoS::ExactlyOnce, NOW, &mut out)
        .unwrap();
    assert_eq!(&out[..len], &[0x82, 8, 0, 1, 0, 3, b'a', b'/', b'+', 2]);
    let bytes4 = [0x90, 0x03, 0x00, packet_id as u8, 0x80];
    let received = receive_ok(&mut session, &bytes4, &mut [0u8; 4]);
    let Event::SubAck { ack } = received.event else {
        panic!("not a suback")
    };
    assert_eq!(ack.return_codes, &[0x80]);
    assert!(session.unacked().is_empty());

    let (_, packet_id) = session
        .subscribe(&mut [0u8; 64], "b", QoS::AtMostOnce, NOW, &mut out)
        .unwrap();
    assert_eq!(
        session.receive(
            &mut [],
            &[0x90, 0x04, 0x00, packet_id as u8, 0x00, 0x01],
            NOW,
            &mut [0u8; 4]
        ),
        Err(SessionError::SubackCountMismatch)
    );
    assert_eq!(
        session.subscribe(&mut [0u8; 64], "a/b#", QoS::AtMostOnce, NOW, &mut out),
        Err(SessionError::Encode(EncodeError::Field(
            FieldError::InvalidTopicFilter
        )))
    );
}

#[test]
fn unsubscribe_and_unsuback() {
    let mut session = connected(0);
    let mut out = [0u8; 32];
    let (len, packet_id) = session.unsubscribe(&mut [], "a/#", NOW, &mut out).unwrap();
    assert_eq!(&out[..len], &[0xA2, 7, 0, 1, 0, 3, b'a', b'/', b'#']);
    let bytes5 = [0xB0, 0x02, 0x00, packet_id as u8];
    let received = receive_ok(&mut session, &bytes5, &mut [0u8; 4]);
    assert_eq!(received.event, Event::UnsubAck { packet_id });
    let unknown = receive_ok(&mut session, &[0xB0, 0x02, 0x00, 0x63], &mut [0u8; 4]);
    assert_eq!(unknown.event, Event::Ignored);
}

#[test]
fn pending_requests_are_bounded() {
    let mut session = connected(0);
    let mut out = [0u8; 32];
    for _ in 0..MAX_REQUESTS {
        session.unsubscribe(&mut [], "a", NOW, &mut out).unwrap();
    }
    assert_eq!(
        session.unsubscribe(&mut [], "a", NOW, &mut out),
        Err(SessionError::PendingFull)
    );
}

#[test]
fn keepalive_ping_then_dead() {
    let mut session = connected(10);
    let mut out = [0u8; 4];
    assert_eq!(
        session.tick(NOW, &mut out),
        Ok(Tick::Idle { wait_ms: 7_500 })
    );
    assert_eq!(
        session.tick(NOW + 7_500, &mut out),
        Ok(Tick::SendPing {
            len: 2,
            wait_ms: 5_000
        })
    );
    assert_eq!(&out[..2], &[0xC0, 0x00]);
    assert_eq!(
        session.tick(NOW + 12_499, &mut out),
        Ok(Tick::Idle { wait_ms: 1 })
    );
    assert_eq!(session.tick(NOW + 12_500, &mut out), Ok(Tick::Dead));
}

#[test]
fn new_bytes_answer_a_ping() {
    let mut session = connected(10);
    let mut out = [0u8; 4];
    session.ping(NOW, &mut out).unwrap();
    assert_eq!(session.keep_alive().unanswered_pings(), 1);
    // Bytes the transport delivered are proof of life, parsed or not.
    session.bytes_received(NOW + 100);
    assert_eq!(session.keep_alive().unanswered_pings(), 0);
    assert_eq!(session.keep_alive().last_receive_ms(), NOW + 100);
}

#[test]
fn a_stalled_half_packet_is_not_proof_of_life() {
    let mut session = connected(10);
    let mut out = [0u8; 4];
    session.ping(NOW, &mut out).unwrap();
    // The same partial packet parsed again and again proves nothing.
    for t in [100, 2_000, 4_000] {
        assert_eq!(
            session.receive(&mut [], &[0x30], NOW + t, &mut [0u8; 4]),
            Ok(Status::Partial(1))
        );
    }
    assert_eq!(session.keep_alive().unanswered_pings(), 1);
    // A whole packet does.
    session
        .receive(&mut [], &[0xD0, 0x00], NOW + 4_100, &mut [0u8; 4])
        .unwrap();
    assert_eq!(session.keep_alive().unanswered_pings(), 0);
}

#[test]
fn tick_is_idle_when_not_connected() {
    let mut session = Session::new();
    assert_eq!(
        session.tick(0, &mut [0u8; 4]),
        Ok(Tick::Idle { wait_ms: u32::MAX })
    );
}

#[test]
fn disconnect_keeps_inflight() {
    let mut session = connected(0);
    let mut out = [0u8; 32];
    session
        .publish("t", b"", QoS::AtLeastOnce, false, NOW, &mut out)
        .unwrap();
    assert_eq!(session.disconnect(&mut out), Ok(2));
    assert_eq!(&out[..2], &[0xE0, 0x00]);
    assert!(!session.is_connected());
    assert_eq!(session.inflight_len(), 1);
}

#[test]
fn decode_errors_surface() {
    let mut session = connected(0);
    assert_eq!(
        session.receive(&mut [], &[0x40, 0x02, 0x00, 0x00], NOW, &mut [0u8; 4]),
        Err(SessionError::Decode(DecodeError::Field(
            FieldError::ZeroPacketId
        )))
    );
}

#[test]
fn messages_queued_offline_go_out_in_order_without_dup_then_with_dup() {
    let mut session = Session::new();
    // Offline: accepted up to the caller's limit, nothing encoded.
    let first = session
        .queue("t/a", b"one", QoS::AtLeastOnce, false, 2)
        .unwrap();
    let second = session
        .queue("t/b", b"two", QoS::ExactlyOnce, true, 2)
        .unwrap();
    assert_ne!(first.0, second.0);
    assert_eq!(
        session.queue("t/c", b"three", QoS::AtLeastOnce, false, 2),
        Err(SessionError::QueueFull)
    );
    assert!(matches!(
        session.queue("t/+", b"x", QoS::AtLeastOnce, false, 8),
        Err(SessionError::Encode(_))
    ));
    assert!(session
        .queue("t/a", b"x", QoS::AtMostOnce, false, 8)
        .is_err());

    // Connected: both are resent in queue order; the first transmission has no DUP.
    let mut session = {
        let mut out = [0u8; 64];
        session.connect(&options(0), NOW, &mut out).unwrap();
        receive_ok(&mut session, &[0x20, 0x02, 0x00, 0x00], &mut [0u8; 4]);
        session
    };
    let order: std::vec::Vec<u8> = session.inflight().map(|e| e.slot).collect();
    assert_eq!(order, [first.1, second.1]);
    let mut out = [0u8; 64];
    let sent = session
        .retransmit(first.1, "t/a", b"one", NOW, &mut out)
        .unwrap();
    assert_eq!(out[0], 0x32, "QoS 1, no DUP");
    assert_eq!(sent.packet_id, first.0);
    session
        .retransmit(second.1, "t/b", b"two", NOW, &mut out)
        .unwrap();
    assert_eq!(out[0], 0x35, "QoS 2, retain, no DUP");
    // A second transmission (after another reconnect) is flagged DUP.
    session
        .retransmit(first.1, "t/a", b"one", NOW, &mut out)
        .unwrap();
    assert_eq!(out[0], 0x3A, "QoS 1, DUP");
    // Sent messages no longer count against the offline limit.
    assert!(session
        .queue("t/d", b"four", QoS::AtLeastOnce, false, 1)
        .is_ok());
}

// --- link state, requests, subscription table, restore -------------------

const CONNACK: [u8; 4] = [0x20, 0x02, 0x00, 0x00];

fn login(session: &mut Session, subs: &mut [u8], background: bool) -> Event<'static> {
    session.login_begin(background).unwrap();
    session.connect(&options(0), NOW, &mut [0u8; 64]).unwrap();
    match session.receive(subs, &CONNACK, NOW, &mut [0u8; 4]).unwrap() {
        Status::Complete(received) => match received.event {
            Event::ConnAck {
                session_present,
                reconnected,
            } => Event::ConnAck {
                session_present,
                reconnected,
            },
            other => panic!("{other:?}"),
        },
        Status::Partial(n) => panic!("partial {n}"),
    }
}

fn suback(session: &mut Session, subs: &mut [u8], packet_id: u16, codes: &[u8]) -> Event<'static> {
    let mut bytes = std::vec![0x90, 2 + codes.len() as u8];
    bytes.extend_from_slice(&packet_id.to_be_bytes());
    bytes.extend_from_slice(codes);
    match session.receive(subs, &bytes, NOW, &mut [0u8; 4]).unwrap() {
        Status::Complete(received) => match received.event {
            Event::SubAck { ack } => {
                assert_eq!(ack.return_codes, codes);
                Event::UnsubAck {
                    packet_id: ack.packet_id,
                }
            }
            Event::Ignored => Event::Ignored,
            other => panic!("{other:?}"),
        },
        Status::Partial(n) => panic!("partial {n}"),
    }
}

fn table(subs: &[u8]) -> std::vec::Vec<(std::string::String, QoS, SubState)> {
    subs::entries(subs)
        .map(|e| {
            (
                std::string::String::from_utf8(e.filter.to_vec()).unwrap(),
                e.qos,
                e.state,
            )
        })
        .collect()
}

#[test]
fn status_follows_logins_and_losses() {
    let mut session = Session::with_seed(5);
    let mut subs = [0u8; 64];
    assert_eq!(session.status(), LinkStatus::Closed);
    session.set_auto_reconnect(true);
    assert_eq!(
        login(&mut session, &mut subs, false),
        Event::ConnAck {
            session_present: false,
            reconnected: false
        }
    );
    assert_eq!(session.status(), LinkStatus::Connected);
    assert_eq!(session.login_begin(false), Ok(()));
    assert_eq!(session.login_begin(true), Err(SessionError::Busy));
    assert!(!session.is_connected());
    session.connect(&options(0), NOW, &mut [0u8; 64]).unwrap();
    session
        .receive(&mut subs, &CONNACK, NOW, &mut [0u8; 4])
        .unwrap();
    assert!(session.link_lost(NOW));
    assert!(!session.link_lost(NOW));
    assert_eq!(session.status(), LinkStatus::ServerClosed);
    assert_eq!(session.reconnect_poll(NOW), ReconnectPoll::Due);
    assert_eq!(
        login(&mut session, &mut subs, true),
        Event::ConnAck {
            session_present: false,
            reconnected: true
        }
    );
    session.close();
    assert_eq!(session.status(), LinkStatus::Closed);
    assert_eq!(session.reconnect_poll(NOW), ReconnectPoll::None);
}

#[test]
fn refused_background_logins_retry_unless_permanent() {
    let mut session = Session::new();
    session.set_auto_reconnect(true);
    login(&mut session, &mut [], false);
    session.link_lost(NOW);
    session.login_begin(true).unwrap();
    session.connect(&options(0), NOW, &mut [0u8; 64]).unwrap();
    assert_eq!(
        session.receive(&mut [], &[0x20, 0x02, 0x00, 0x03], NOW, &mut [0u8; 4]),
        Err(SessionError::Refused(ConnectReturnCode::ServerUnavailable))
    );
    assert_eq!(session.status(), LinkStatus::Connecting);
    assert_eq!(session.login_failed(3, NOW), LoginFailure::Retry);
    assert_eq!(session.status(), LinkStatus::ServerClosed);
    assert!(matches!(
        session.reconnect_poll(NOW),
        ReconnectPoll::Wait { .. }
    ));
    session.login_begin(true).unwrap();
    assert_eq!(session.login_failed(4, NOW), LoginFailure::Stopped);
    assert_eq!(session.status(), LinkStatus::Closed);
    // The script's own login never retries.
    session.login_begin(false).unwrap();
    assert_eq!(session.login_failed(0, NOW), LoginFailure::Stopped);
}

#[test]
fn connect_without_login_begin_is_a_script_login() {
    let mut session = Session::new();
    session.connect(&options(0), NOW, &mut [0u8; 64]).unwrap();
    assert_eq!(session.status(), LinkStatus::Connecting);
    assert_eq!(session.login_begin(false), Err(SessionError::Busy));
}

#[test]
fn concurrent_waiters_get_their_own_answers() {
    let mut session = connected(0);
    let mut subs = [0u8; 128];
    let mut out = [0u8; 32];
    let (_, a) = session
        .subscribe(&mut subs, "a", QoS::AtLeastOnce, NOW, &mut out)
        .unwrap();
    let (_, b) = session
        .subscribe(&mut subs, "b", QoS::ExactlyOnce, NOW, &mut out)
        .unwrap();
    let (_, c) = session.unsubscribe(&mut subs, "z", NOW, &mut out).unwrap();
    assert!(a != b && b != c && a != c);
    assert_eq!(session.request_result(a), Some(RequestState::Pending));
    suback(&mut session, &mut subs, b, &[0x80]);
    assert_eq!(session.request_result(a), Some(RequestState::Pending));
    assert_eq!(session.request_result(b), Some(RequestState::Refused));
    assert_eq!(session.request_result(b), None, "consumed");
    suback(&mut session, &mut subs, a, &[1]);
    assert_eq!(session.request_result(a), Some(RequestState::Done(1)));
    let unsuback = [0xB0, 0x02, 0x00, c as u8];
    let received = receive_ok(&mut session, &unsuback, &mut [0u8; 4]);
    assert_eq!(received.event, Event::UnsubAck { packet_id: c });
    assert_eq!(session.request_result(c), Some(RequestState::Done(0)));
    // The refusal removed "b"; "a" is active.
    assert_eq!(
        table(&subs),
        [("a".into(), QoS::AtLeastOnce, SubState::Active)]
    );
    assert_eq!(session.request_result(999), None);
}

#[test]
fn link_loss_makes_pending_requests_lost_and_forget_drops_them() {
    let mut session = connected(0);
    let mut subs = [0u8; 128];
    let mut out = [0u8; 32];
    let (_, a) = session
        .subscribe(&mut subs, "a", QoS::AtMostOnce, NOW, &mut out)
        .unwrap();
    let (_, b) = session
        .subscribe(&mut subs, "b", QoS::AtMostOnce, NOW, &mut out)
        .unwrap();
    session.request_forget(b);
    assert_eq!(session.request_result(b), None);
    // The forgotten request's answer still updates the table.
    suback(&mut session, &mut subs, b, &[0]);
    assert_eq!(table(&subs)[1].2, SubState::Active);
    session.link_lost(NOW);
    assert_eq!(session.request_result(a), Some(RequestState::Lost));
    // The table keeps the change; it is restored at the next login.
    assert_eq!(table(&subs).len(), 2);
}

#[test]
fn request_records_are_bounded_and_ids_never_shared() {
    let mut session = connected(0);
    let mut subs = [0u8; 512];
    let mut out = [0u8; 32];
    let mut ids = std::vec::Vec::new();
    for i in 0..MAX_REQUESTS {
        let name = std::format!("f/{i}");
        let (_, id) = session
            .subscribe(&mut subs, &name, QoS::AtMostOnce, NOW, &mut out)
            .unwrap();
        ids.push(id);
    }
    assert_eq!(
        session.subscribe(&mut subs, "one/more", QoS::AtMostOnce, NOW, &mut out),
        Err(SessionError::PendingFull)
    );
    assert!(subs::entries(&subs).all(|e| e.filter != b"one/more"));
    let p = session
        .publish("t", b"", QoS::AtLeastOnce, false, NOW, &mut out)
        .unwrap();
    ids.push(p.packet_id);
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), ids.len());
    // A finished but untaken record still holds its id.
    suback(&mut session, &mut subs, ids[0], &[0]);
    session.next_packet_id = ids[0];
    let p = session
        .publish("t", b"", QoS::AtLeastOnce, false, NOW, &mut out)
        .unwrap();
    assert_ne!(p.packet_id, ids[0]);
    assert_eq!(session.request_result(ids[0]), Some(RequestState::Done(0)));
}

#[test]
fn subscription_table_upserts_and_works_offline() {
    let mut session = Session::new();
    let mut subs = [0u8; 128];
    let mut out = [0u8; 32];
    // Offline: recorded for restoring, nothing encoded.
    assert_eq!(
        session.subscribe(&mut subs, "a/+", QoS::AtMostOnce, NOW, &mut out),
        Ok((0, 0))
    );
    assert_eq!(
        session.subscribe(&mut subs, "a/+", QoS::ExactlyOnce, NOW, &mut out),
        Ok((0, 0))
    );
    session
        .subscribe(&mut subs, "b", QoS::AtLeastOnce, NOW, &mut out)
        .unwrap();
    assert_eq!(
        table(&subs),
        [
            ("a/+".into(), QoS::ExactlyOnce, SubState::ToRestore),
            ("b".into(), QoS::AtLeastOnce, SubState::ToRestore)
        ]
    );
    assert_eq!(
        session.unsubscribe(&mut subs, "b", NOW, &mut out),
        Ok((0, 0))
    );
    assert_eq!(table(&subs).len(), 1);
    // Errors change nothing.
    let before = subs;
    assert_eq!(
        session.subscribe(&mut subs, "a/#/b", QoS::AtMostOnce, NOW, &mut out),
        Err(SessionError::Encode(EncodeError::Field(
            FieldError::InvalidTopicFilter
        )))
    );
    assert_eq!(
        session.subscribe(&mut subs[..12], "zz", QoS::AtMostOnce, NOW, &mut out),
        Err(SessionError::TooManySubscriptions)
    );
    assert_eq!(subs, before);
    // Online: a second subscribe replaces the QoS.
    login(&mut session, &mut subs, false);
    let (len, id) = session
        .subscribe(&mut subs, "a/+", QoS::AtLeastOnce, NOW, &mut out)
        .unwrap();
    assert_eq!(
        &out[..len],
        &[0x82, 8, 0, id as u8, 0, 3, b'a', b'/', b'+', 1]
    );
    assert_eq!(
        table(&subs),
        [(
            "a/+".into(),
            QoS::AtLeastOnce,
            SubState::Requested {
                packet_id: id,
                index: 0
            }
        )]
    );
    let before = subs;
    assert!(matches!(
        session.subscribe(&mut subs, "c", QoS::AtMostOnce, NOW, &mut [0u8; 4]),
        Err(SessionError::Encode(EncodeError::BufferTooSmall {
            needed: 8
        }))
    ));
    assert_eq!(subs, before);
    let (_, un) = session
        .unsubscribe(&mut subs, "a/+", NOW, &mut out)
        .unwrap();
    assert_eq!(table(&subs)[0].2, SubState::Removing { packet_id: un });
}

#[test]
fn unsuback_with_table_removes_the_entry() {
    let mut session = connected(0);
    let mut subs = [0u8; 64];
    let mut out = [0u8; 32];
    session
        .subscribe(&mut subs, "a", QoS::AtMostOnce, NOW, &mut out)
        .unwrap();
    let (_, un) = session.unsubscribe(&mut subs, "a", NOW, &mut out).unwrap();
    session
        .receive(&mut subs, &[0xB0, 0x02, 0x00, un as u8], NOW, &mut [0u8; 4])
        .unwrap();
    assert!(table(&subs).is_empty());
}

#[test]
fn restore_packs_entries_into_several_packets() {
    let mut session = Session::new();
    let mut subs = [0u8; 256];
    let mut out = [0u8; 64];
    for (i, name) in ["aaaa", "bbbb", "cccc", "dddd", "eeee"].iter().enumerate() {
        session
            .subscribe(
                &mut subs,
                name,
                QoS::from_u8((i % 3) as u8).unwrap(),
                NOW,
                &mut out,
            )
            .unwrap();
    }
    login(&mut session, &mut subs, false);
    // Header 2 + id 2 + 7 per entry: 2 entries fit in 20 bytes, 3 need 27.
    let mut small = [0u8; 20];
    let mut packets = std::vec::Vec::new();
    loop {
        match session.restore_next(&mut subs, NOW, &mut small).unwrap() {
            RestoreStep::Send { len } => packets.push(small[..len].to_vec()),
            RestoreStep::Retransmit { .. } => panic!("nothing in flight"),
            RestoreStep::Done => break,
        }
    }
    assert_eq!(packets.len(), 3);
    assert_eq!(packets[0].len(), 2 + 2 + 14);
    assert_eq!(&packets[0][4..11], &[0, 4, b'a', b'a', b'a', b'a', 0]);
    assert_eq!(&packets[2][4..], &[0, 4, b'e', b'e', b'e', b'e', 1]);
    assert_eq!(
        session.restore_next(&mut subs, NOW, &mut small),
        Ok(RestoreStep::Done)
    );
    let first_id = u16::from_be_bytes([packets[0][2], packets[0][3]]);
    assert_eq!(
        table(&subs)[1].2,
        SubState::Requested {
            packet_id: first_id,
            index: 1
        }
    );
    // One SUBACK for the first packet, with a refusal of the second entry.
    suback(&mut session, &mut subs, first_id, &[0, 0x80]);
    let names: std::vec::Vec<_> = table(&subs).into_iter().map(|e| e.0).collect();
    assert_eq!(names, ["aaaa", "cccc", "dddd", "eeee"]);
    assert_eq!(table(&subs)[0].2, SubState::Active);
    assert!(session.requests().is_empty(), "restores have no waiter");
}

#[test]
fn restore_reports_the_size_one_entry_needs() {
    let mut session = Session::new();
    let mut subs = [0u8; 64];
    session
        .subscribe(&mut subs, "abc", QoS::AtMostOnce, NOW, &mut [])
        .unwrap();
    login(&mut session, &mut subs, false);
    assert_eq!(
        session.restore_next(&mut subs, NOW, &mut [0u8; 8]),
        Err(SessionError::Encode(EncodeError::BufferTooSmall {
            needed: 10
        }))
    );
    assert!(matches!(
        session.restore_next(&mut subs, NOW, &mut [0u8; 10]),
        Ok(RestoreStep::Send { len: 10 })
    ));
}

#[test]
fn restore_after_a_loss_mid_restore_and_removing_dropped() {
    let mut session = connected(0);
    let mut subs = [0u8; 128];
    let mut out = [0u8; 64];
    for name in ["a", "b", "c"] {
        let (_, id) = session
            .subscribe(&mut subs, name, QoS::AtMostOnce, NOW, &mut out)
            .unwrap();
        suback(&mut session, &mut subs, id, &[0]);
        session.request_result(id);
    }
    session.unsubscribe(&mut subs, "b", NOW, &mut out).unwrap();
    let p = session
        .publish("t", b"x", QoS::AtLeastOnce, false, NOW, &mut out)
        .unwrap();
    session.link_lost(NOW);
    login(&mut session, &mut subs, true);
    // Removing "b" is dropped; "a" and "c" are restored.
    assert_eq!(
        table(&subs)
            .iter()
            .map(|e| (e.0.as_str(), e.2))
            .collect::<std::vec::Vec<_>>(),
        [("a", SubState::ToRestore), ("c", SubState::ToRestore)]
    );
    let mut tiny = [0u8; 8];
    assert!(matches!(
        session.restore_next(&mut subs, NOW, &mut tiny),
        Ok(RestoreStep::Send { len: 8 })
    ));
    // Lost mid-restore: the next CONNACK starts over with everything.
    session.link_lost(NOW);
    assert_eq!(
        session.restore_next(&mut subs, NOW, &mut out),
        Err(SessionError::NotConnected)
    );
    login(&mut session, &mut subs, true);
    let Ok(RestoreStep::Send { len }) = session.restore_next(&mut subs, NOW, &mut out) else {
        panic!()
    };
    assert_eq!(len, 2 + 2 + 4 + 4);
    assert_eq!(
        session.restore_next(&mut subs, NOW, &mut out),
        Ok(RestoreStep::Retransmit {
            slot: p.slot.unwrap()
        })
    );
    assert_eq!(
        session.restore_next(&mut subs, NOW, &mut out),
        Ok(RestoreStep::Done)
    );
}

#[test]
fn publish_queues_offline_only_while_reconnecting() {
    let mut session = Session::new();
    let mut out = [0u8; 64];
    assert_eq!(
        session.publish_or_queue("t", b"x", QoS::AtLeastOnce, false, 4, NOW, &mut out),
        Err(SessionError::NotConnected)
    );
    session.set_auto_reconnect(true);
    assert_eq!(
        session.publish_or_queue("t", b"x", QoS::AtLeastOnce, false, 4, NOW, &mut out),
        Err(SessionError::NotConnected),
        "closed: no reconnect pending"
    );
    login(&mut session, &mut [], false);
    let online = session
        .publish_or_queue("t", b"x", QoS::AtLeastOnce, false, 4, NOW, &mut out)
        .unwrap();
    assert!(!online.queued && online.len > 0);
    session.link_lost(NOW);
    let queued = session
        .publish_or_queue("t", b"y", QoS::ExactlyOnce, true, 1, NOW, &mut out)
        .unwrap();
    assert!(queued.queued);
    assert_eq!(queued.len, 0);
    assert!(session.publish_pending(queued.slot.unwrap(), queued.packet_id));
    assert!(!session.publish_pending(queued.slot.unwrap(), queued.packet_id + 1));
    assert_eq!(
        session.publish_or_queue("t", b"z", QoS::AtLeastOnce, false, 1, NOW, &mut out),
        Err(SessionError::QueueFull)
    );
    assert_eq!(
        session.publish_or_queue("t", b"z", QoS::AtMostOnce, false, 1, NOW, &mut out),
        Err(SessionError::NotConnected)
    );
    session.login_begin(true).unwrap();
    assert!(
        session
            .publish_or_queue("t", b"z", QoS::AtLeastOnce, false, 2, NOW, &mut out)
            .unwrap()
            .queued
    );
    session.set_auto_reconnect(false);
    assert_eq!(
        session.publish_or_queue("t", b"z", QoS::AtLeastOnce, false, 9, NOW, &mut out),
        Err(SessionError::NotConnected)
    );
    // Restore sends all three, in first-send order.
    session.connect(&options(0), NOW, &mut out).unwrap();
    session
        .receive(&mut [], &CONNACK, NOW, &mut [0u8; 4])
        .unwrap();
    let mut slots = std::vec::Vec::new();
    while let Ok(RestoreStep::Retransmit { slot }) = session.restore_next(&mut [], NOW, &mut out) {
        slots.push(slot);
    }
    assert_eq!(slots, [0, 1, 2]);
    // A message sent during a restore is not resent by it.
    session.link_lost(NOW);
    session.login_begin(false).unwrap();
    session.connect(&options(0), NOW, &mut out).unwrap();
    session
        .receive(&mut [], &CONNACK, NOW, &mut [0u8; 4])
        .unwrap();
    let fresh = session
        .publish("t", b"n", QoS::AtLeastOnce, false, NOW, &mut out)
        .unwrap();
    let mut slots = std::vec::Vec::new();
    while let Ok(RestoreStep::Retransmit { slot }) = session.restore_next(&mut [], NOW, &mut out) {
        slots.push(slot);
    }
    assert!(!slots.contains(&fresh.slot.unwrap()));
    assert_eq!(slots.len(), 3);
}

#[test]
fn inbound_forget_lets_the_redelivery_through() {
    let mut session = connected(0);
    let qos2 = [0x34, 0x05, 0x00, 0x01, b'a', 0x00, 0x07];
    let first = receive_ok(&mut session, &qos2, &mut [0u8; 4]);
    assert!(matches!(
        first.event,
        Event::Publish {
            duplicate: false,
            ..
        }
    ));
    let again = receive_ok(&mut session, &qos2, &mut [0u8; 4]);
    assert!(matches!(
        again.event,
        Event::Publish {
            duplicate: true,
            ..
        }
    ));
    session.inbound_forget(7);
    let redelivered = receive_ok(&mut session, &qos2, &mut [0u8; 4]);
    assert!(matches!(
        redelivered.event,
        Event::Publish {
            duplicate: false,
            ..
        }
    ));
}

/// The rule restore sized its packets by before summing: the most leading
/// entries whose SUBSCRIBE `encoded_len` fits `out`, else the size of one.
fn restore_by_encoded_len(topics: &[SubscribeTopic<'_>], cap: usize) -> Result<usize, usize> {
    let len = |count: usize| {
        Packet::Subscribe(Subscribe {
            packet_id: 1,
            topics: SubscribeTopics::Slice(&topics[..count]),
        })
        .encoded_len()
        .unwrap()
    };
    match (1..=topics.len()).take_while(|&n| len(n) <= cap).last() {
        Some(count) => Ok(len(count)),
        None => Err(len(1)),
    }
}

proptest::proptest! {
    #[test]
    fn restore_sizing_matches_encoded_len(
        names in proptest::collection::vec("[a-z/]{1,150}", 1..8),
        cap in 0usize..700,
    ) {
        let mut session = Session::new();
        let mut subs = [0u8; 2048];
        for name in &names {
            session.subscribe(&mut subs, name, QoS::AtLeastOnce, NOW, &mut []).unwrap();
        }
        login(&mut session, &mut subs, false);
        let entries: std::vec::Vec<_> = subs::entries(&subs)
            .map(|e| SubscribeTopic { filter: e.filter, qos: e.qos })
            .collect();
        let expected = restore_by_encoded_len(&entries, cap);
        let mut out = std::vec![0u8; cap];
        let got = match session.restore_next(&mut subs, NOW, &mut out) {
            Ok(RestoreStep::Send { len }) => Ok(len),
            Err(SessionError::Encode(EncodeError::BufferTooSmall { needed })) => Err(needed),
            other => panic!("{other:?}"),
        };
        proptest::prop_assert_eq!(got, expected);
    }
}
