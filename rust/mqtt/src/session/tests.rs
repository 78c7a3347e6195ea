#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use super::*;
use crate::codec::{DecodeError, FieldError};

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
    match session.receive(buf, NOW, reply).unwrap() {
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
            session_present: false
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
        session.receive(&[0x20, 0x02, 0x00, 0x05], NOW, &mut [0u8; 4]),
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
            session.receive(bytes, NOW, &mut reply),
            Err(SessionError::UnexpectedPacket(_))
        ));
    }
    // Before CONNACK only CONNACK is acceptable.
    let mut connecting = Session::new();
    connecting
        .connect(&options(0), NOW, &mut [0u8; 64])
        .unwrap();
    assert_eq!(
        connecting.receive(&[0xD0, 0x00], NOW, &mut reply),
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
            slot: Some(0)
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
    assert_eq!((publish.topic, publish.payload), ("a", &b"y"[..]));
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
        session.receive(&[0x34, 0x05, 0x00, 0x01, b'a', 0x01, 0x00], NOW, &mut reply),
        Err(SessionError::InboundFull)
    );
}

#[test]
fn small_reply_buffer_is_an_error_without_state_change() {
    let mut session = connected(0);
    let qos2 = [0x34, 0x05, 0x00, 0x01, b'a', 0x00, 0x09];
    assert_eq!(
        session.receive(&qos2, NOW, &mut [0u8; 3]),
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
        .subscribe(
            &[SubscribeTopic {
                filter: "a",
                qos: QoS::AtMostOnce,
            }],
            NOW,
            &mut out,
        )
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
    session.connection_lost();
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
        .subscribe(
            &[SubscribeTopic {
                filter: "a/+",
                qos: QoS::ExactlyOnce,
            }],
            NOW,
            &mut out,
        )
        .unwrap();
    assert_eq!(&out[..len], &[0x82, 8, 0, 1, 0, 3, b'a', b'/', b'+', 2]);
    let bytes4 = [0x90, 0x03, 0x00, packet_id as u8, 0x80];
    let received = receive_ok(&mut session, &bytes4, &mut [0u8; 4]);
    let Event::SubAck { ack } = received.event else {
        panic!("not a suback")
    };
    assert_eq!(ack.return_codes, &[0x80]);
    assert!(session.pending_requests().is_empty());

    let (_, packet_id) = session
        .subscribe(
            &[SubscribeTopic {
                filter: "b",
                qos: QoS::AtMostOnce,
            }],
            NOW,
            &mut out,
        )
        .unwrap();
    assert_eq!(
        session.receive(
            &[0x90, 0x04, 0x00, packet_id as u8, 0x00, 0x01],
            NOW,
            &mut [0u8; 4]
        ),
        Err(SessionError::SubackCountMismatch)
    );
    assert_eq!(
        session.subscribe(
            &[SubscribeTopic {
                filter: "a/b#",
                qos: QoS::AtMostOnce
            }],
            NOW,
            &mut out
        ),
        Err(SessionError::Encode(EncodeError::Field(
            FieldError::InvalidTopicFilter
        )))
    );
}

#[test]
fn unsubscribe_and_unsuback() {
    let mut session = connected(0);
    let mut out = [0u8; 32];
    let (len, packet_id) = session.unsubscribe(&["a/#"], NOW, &mut out).unwrap();
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
    for _ in 0..MAX_PENDING_REQUESTS {
        session.unsubscribe(&["a"], NOW, &mut out).unwrap();
    }
    assert_eq!(
        session.unsubscribe(&["a"], NOW, &mut out),
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
            session.receive(&[0x30], NOW + t, &mut [0u8; 4]),
            Ok(Status::Partial(1))
        );
    }
    assert_eq!(session.keep_alive().unanswered_pings(), 1);
    // A whole packet does.
    session
        .receive(&[0xD0, 0x00], NOW + 4_100, &mut [0u8; 4])
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
        session.receive(&[0x40, 0x02, 0x00, 0x00], NOW, &mut [0u8; 4]),
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
