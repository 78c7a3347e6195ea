//! Property tests: round trips, arbitrary stream splits, no panics on garbage.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::arithmetic_side_effects
)]

use mqtt_core::codec::{
    decode, ConnAck, Connect, ConnectReturnCode, LastWill, Packet, Protocol, Publish, QoS, QosPid,
    Status, SubAck, Subscribe, SubscribeTopic, SubscribeTopics, Unsubscribe, UnsubscribeTopics,
};
use proptest::prelude::*;

/// Owned stand-in for `Packet`, since generated data must outlive the borrow.
#[derive(Debug, Clone)]
enum Owned {
    Connect {
        v311: bool,
        clean: bool,
        keep_alive: u16,
        client_id: String,
        will: Option<(String, Vec<u8>, QoS, bool)>,
        credentials: Option<(String, Option<Vec<u8>>)>,
    },
    ConnAck(bool, u8),
    Publish {
        dup: bool,
        qos: QoS,
        pid: u16,
        retain: bool,
        topic: String,
        payload: Vec<u8>,
    },
    Ack(u8, u16),
    Subscribe(u16, Vec<(String, QoS)>),
    SubAck(u16, Vec<u8>),
    Unsubscribe(u16, Vec<String>),
    Empty(u8),
}

impl Owned {
    fn with_packet<R>(&self, f: impl FnOnce(Packet<'_>) -> R) -> R {
        match self {
            Owned::Connect {
                v311,
                clean,
                keep_alive,
                client_id,
                will,
                credentials,
            } => f(Packet::Connect(Connect {
                protocol: if *v311 { Protocol::V311 } else { Protocol::V31 },
                clean_session: *clean,
                keep_alive: *keep_alive,
                client_id,
                will: will.as_ref().map(|(topic, message, qos, retain)| LastWill {
                    topic,
                    message,
                    qos: *qos,
                    retain: *retain,
                }),
                username: credentials.as_ref().map(|(user, _)| user.as_str()),
                password: credentials.as_ref().and_then(|(_, pass)| pass.as_deref()),
            })),
            Owned::ConnAck(session_present, code) => f(Packet::ConnAck(ConnAck {
                session_present: *session_present,
                code: ConnectReturnCode::from_u8(*code).unwrap(),
            })),
            Owned::Publish {
                dup,
                qos,
                pid,
                retain,
                topic,
                payload,
            } => f(Packet::Publish(Publish {
                dup: *dup && *qos != QoS::AtMostOnce,
                qos_pid: QosPid::new(*qos, *pid),
                retain: *retain,
                topic: topic.as_bytes(),
                payload,
            })),
            Owned::Ack(kind, id) => f(match kind {
                0 => Packet::PubAck(*id),
                1 => Packet::PubRec(*id),
                2 => Packet::PubRel(*id),
                3 => Packet::PubComp(*id),
                _ => Packet::UnsubAck(*id),
            }),
            Owned::Subscribe(packet_id, topics) => {
                let topics: Vec<SubscribeTopic<'_>> = topics
                    .iter()
                    .map(|(filter, qos)| SubscribeTopic {
                        filter: filter.as_bytes(),
                        qos: *qos,
                    })
                    .collect();
                f(Packet::Subscribe(Subscribe {
                    packet_id: *packet_id,
                    topics: SubscribeTopics::Slice(&topics),
                }))
            }
            Owned::SubAck(packet_id, codes) => f(Packet::SubAck(SubAck {
                packet_id: *packet_id,
                return_codes: codes,
            })),
            Owned::Unsubscribe(packet_id, filters) => {
                let filters: Vec<&str> = filters.iter().map(String::as_str).collect();
                f(Packet::Unsubscribe(Unsubscribe {
                    packet_id: *packet_id,
                    topics: UnsubscribeTopics::Slice(&filters),
                }))
            }
            Owned::Empty(kind) => f(match kind {
                0 => Packet::PingReq,
                1 => Packet::PingResp,
                _ => Packet::Disconnect,
            }),
        }
    }

    fn encode(&self) -> Vec<u8> {
        self.with_packet(|packet| {
            let len = packet.encoded_len().unwrap();
            let mut out = vec![0u8; len];
            assert_eq!(packet.encode(&mut out), Ok(len));
            out
        })
    }
}

fn qos() -> impl Strategy<Value = QoS> {
    prop_oneof![
        Just(QoS::AtMostOnce),
        Just(QoS::AtLeastOnce),
        Just(QoS::ExactlyOnce)
    ]
}

fn text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 /é€😀_-]{0,20}"
}

fn topic() -> impl Strategy<Value = String> {
    "[a-z0-9é/]{1,20}"
}

fn filter() -> impl Strategy<Value = String> {
    prop_oneof![
        topic(),
        Just("#".to_string()),
        "[a-z]{1,5}/\\+/[a-z]{0,5}/#",
        Just("+".to_string()),
    ]
}

fn pid() -> impl Strategy<Value = u16> {
    1..=u16::MAX
}

fn payload() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..300)
}

fn owned_packet() -> impl Strategy<Value = Owned> {
    prop_oneof![
        (
            any::<bool>(),
            any::<bool>(),
            any::<u16>(),
            text(),
            prop::option::of((topic(), payload(), qos(), any::<bool>())),
            prop::option::of((text(), prop::option::of(payload()))),
        )
            .prop_map(|(v311, clean, keep_alive, client_id, will, credentials)| {
                Owned::Connect {
                    v311,
                    clean,
                    keep_alive,
                    client_id,
                    will,
                    credentials,
                }
            }),
        (any::<bool>(), 0u8..=5).prop_map(|(sp, code)| Owned::ConnAck(sp, code)),
        (
            any::<bool>(),
            qos(),
            pid(),
            any::<bool>(),
            topic(),
            payload()
        )
            .prop_map(|(dup, qos, pid, retain, topic, payload)| Owned::Publish {
                dup,
                qos,
                pid,
                retain,
                topic,
                payload
            }),
        (0u8..5, pid()).prop_map(|(kind, id)| Owned::Ack(kind, id)),
        (pid(), prop::collection::vec((filter(), qos()), 1..5))
            .prop_map(|(id, t)| Owned::Subscribe(id, t)),
        (
            pid(),
            prop::collection::vec(prop_oneof![Just(0u8), Just(1), Just(2), Just(0x80)], 1..8)
        )
            .prop_map(|(id, codes)| Owned::SubAck(id, codes)),
        (pid(), prop::collection::vec(filter(), 1..5))
            .prop_map(|(id, f)| Owned::Unsubscribe(id, f)),
        (0u8..3).prop_map(Owned::Empty),
    ]
}

/// Decodes a whole stream feeding it in chunks that end at `cuts`, as a socket would.
fn decode_stream_in_chunks(stream: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
    let mut received: Vec<u8> = Vec::new();
    let mut packets = Vec::new();
    let mut fed = 0;
    let mut boundaries: Vec<usize> = cuts
        .iter()
        .copied()
        .filter(|&c| c <= stream.len())
        .collect();
    boundaries.push(stream.len());
    boundaries.sort_unstable();
    for end in boundaries {
        received.extend_from_slice(&stream[fed..end]);
        fed = end;
        loop {
            match decode(&received).unwrap() {
                Status::Complete((_, used)) => {
                    packets.push(received[..used].to_vec());
                    received.drain(..used);
                }
                Status::Partial(needed) => {
                    assert!(needed >= 1);
                    break;
                }
            }
        }
    }
    assert!(received.is_empty());
    packets
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn encode_then_decode_round_trips(owned in owned_packet()) {
        let bytes = owned.encode();
        owned.with_packet(|packet| {
            match decode(&bytes).unwrap() {
                Status::Complete((decoded, used)) => {
                    prop_assert_eq!(used, bytes.len());
                    prop_assert_eq!(decoded, packet);
                    // The decoded (wire-backed) form re-encodes to the same bytes.
                    let mut again = vec![0u8; bytes.len()];
                    prop_assert_eq!(decoded.encode(&mut again), Ok(bytes.len()));
                    prop_assert_eq!(&again, &bytes);
                }
                Status::Partial(n) => prop_assert!(false, "partial {}", n),
            }
            Ok(())
        })?;
    }

    #[test]
    fn truncated_packet_reports_exact_need(owned in owned_packet(), cut in any::<prop::sample::Index>()) {
        let bytes = owned.encode();
        let cut = cut.index(bytes.len());
        match decode(&bytes[..cut]).unwrap() {
            Status::Partial(needed) => {
                let header_complete = bytes[1..cut.max(1)].iter().any(|b| b & 0x80 == 0);
                if header_complete {
                    prop_assert_eq!(needed, bytes.len() - cut);
                } else {
                    prop_assert!(needed >= 1 && needed <= bytes.len() - cut);
                }
            }
            Status::Complete(_) => prop_assert!(false, "complete from a prefix"),
        }
    }

    #[test]
    fn any_split_of_a_stream_decodes_identically(
        owned in prop::collection::vec(owned_packet(), 1..6),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..8),
    ) {
        let encoded: Vec<Vec<u8>> = owned.iter().map(Owned::encode).collect();
        let stream: Vec<u8> = encoded.concat();
        let cuts: Vec<usize> = cuts.iter().map(|i| i.index(stream.len() + 1)).collect();
        prop_assert_eq!(&decode_stream_in_chunks(&stream, &cuts), &encoded);
        let every_byte: Vec<usize> = (0..=stream.len()).collect();
        prop_assert_eq!(&decode_stream_in_chunks(&stream, &every_byte), &encoded);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        if let Ok(Status::Complete((packet, used))) = decode(&bytes) {
            prop_assert!(used <= bytes.len());
            // Whatever decodes also encodes, to the same bytes.
            let mut out = vec![0u8; used];
            prop_assert_eq!(packet.encode(&mut out), Ok(used));
        }
    }

    #[test]
    fn mutated_packets_never_panic(owned in owned_packet(), flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4)) {
        let mut bytes = owned.encode();
        let len = bytes.len();
        for (index, value) in flips {
            bytes[index.index(len)] = value;
        }
        let _ = decode(&bytes);
    }
}
