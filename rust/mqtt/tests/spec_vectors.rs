//! Known byte sequences from the MQTT 3.1.1 specification and common captures.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use mqtt_core::codec::{
    decode, Connect, LastWill, Packet, Protocol, QoS, QosPid, Status, SubscribeTopic,
};

fn decode_all(bytes: &[u8]) -> Packet<'_> {
    match decode(bytes).unwrap() {
        Status::Complete((packet, used)) => {
            assert_eq!(used, bytes.len());
            packet
        }
        Status::Partial(n) => panic!("partial {n}"),
    }
}

fn encode(packet: &Packet<'_>) -> Vec<u8> {
    let mut out = vec![0u8; packet.encoded_len().unwrap()];
    let len = packet.encode(&mut out).unwrap();
    out.truncate(len);
    out
}

#[test]
fn pingreq_pingresp_disconnect() {
    assert_eq!(encode(&Packet::PingReq), [0xC0, 0x00]);
    assert_eq!(encode(&Packet::PingResp), [0xD0, 0x00]);
    assert_eq!(encode(&Packet::Disconnect), [0xE0, 0x00]);
}

/// Spec figure 3.5-3.6 variable header: "MQTT", level 4, flags 0xCE, keep alive 10.
#[test]
fn connect_with_will_user_and_password() {
    let connect = Packet::Connect(Connect {
        protocol: Protocol::V311,
        clean_session: true,
        keep_alive: 10,
        client_id: "c",
        will: Some(LastWill {
            topic: "w",
            message: b"m",
            qos: QoS::AtLeastOnce,
            retain: false,
        }),
        username: Some("u"),
        password: Some(b"p"),
    });
    let bytes = [
        0x10, 0x19, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0xCE, 0x00, 0x0A, 0x00, 0x01, b'c',
        0x00, 0x01, b'w', 0x00, 0x01, b'm', 0x00, 0x01, b'u', 0x00, 0x01, b'p',
    ];
    assert_eq!(encode(&connect), bytes);
    assert_eq!(decode_all(&bytes), connect);
}

#[test]
fn mqtt31_connect() {
    let bytes = [
        0x10, 0x12, 0x00, 0x06, b'M', b'Q', b'I', b's', b'd', b'p', 0x03, 0x02, 0x00, 0x3C, 0x00,
        0x04, b'q', b'p', b'y', b'1',
    ];
    let Packet::Connect(connect) = decode_all(&bytes) else {
        panic!("not connect")
    };
    assert_eq!(connect.protocol, Protocol::V31);
    assert_eq!(connect.keep_alive, 60);
    assert_eq!(connect.client_id, "qpy1");
}

/// Spec 3.3.2.3 example: topic "a/b", packet id 10.
#[test]
fn publish_example() {
    let bytes = [
        0x32, 0x09, 0x00, 0x03, b'a', b'/', b'b', 0x00, 0x0A, b'h', b'i',
    ];
    let Packet::Publish(publish) = decode_all(&bytes) else {
        panic!("not publish")
    };
    assert_eq!(publish.topic, b"a/b");
    assert_eq!(publish.qos_pid, QosPid::AtLeastOnce(10));
    assert_eq!(publish.payload, b"hi");
}

/// Spec 3.8.3 example: "a/b" QoS 1, "c/d" QoS 2.
#[test]
fn subscribe_example() {
    let bytes = [
        0x82, 0x0E, 0x00, 0x0A, 0x00, 0x03, b'a', b'/', b'b', 0x01, 0x00, 0x03, b'c', b'/', b'd',
        0x02,
    ];
    let Packet::Subscribe(subscribe) = decode_all(&bytes) else {
        panic!("not subscribe")
    };
    let topics: Vec<SubscribeTopic<'_>> = subscribe.topics.iter().collect();
    assert_eq!(
        topics,
        [
            SubscribeTopic {
                filter: b"a/b",
                qos: QoS::AtLeastOnce
            },
            SubscribeTopic {
                filter: b"c/d",
                qos: QoS::ExactlyOnce
            },
        ]
    );
    assert_eq!(encode(&Packet::Subscribe(subscribe)), bytes);
}

/// Spec 3.9.3 example: codes 0, 2 and 0x80.
#[test]
fn suback_example() {
    let bytes = [0x90, 0x05, 0x00, 0x0A, 0x00, 0x02, 0x80];
    let Packet::SubAck(ack) = decode_all(&bytes) else {
        panic!("not suback")
    };
    assert_eq!(ack.return_codes, [0x00, 0x02, 0x80]);
}
