//! Encoding into a caller's buffer. Every field is validated first, so whatever
//! encodes successfully also decodes.
//!
//! One function per packet both validates and writes its body; run over an
//! empty [`Writer`] it only counts (and validates), so sizing and writing
//! cannot disagree and the device carries one body encoder, not two. Every
//! write follows a count of the same packet, so the costly checks (UTF-8,
//! topic rules) run on the counting pass only, once per packet.

use super::bytes::Writer;
use super::error::{EncodeError, FieldError};
use super::packet::{
    Connect, Packet, PacketType, Publish, QosPid, SubackReturnCode, SubscribeTopic,
    SubscribeTopics, UnsubscribeTopics,
};
use super::validate;
use super::varint;

/// First byte plus length bytes plus body; rejects bodies over the 4-byte limit.
pub fn packet_len(body_len: usize) -> Result<usize, EncodeError> {
    let length_bytes = varint::encoded_len(body_len).ok_or(EncodeError::PacketTooLarge)?;
    body_len
        .checked_add(length_bytes)
        .and_then(|len| len.checked_add(1))
        .ok_or(EncodeError::PacketTooLarge)
}

impl Packet<'_> {
    /// Bytes [`Packet::encode`] would write; validates the packet.
    pub fn encoded_len(&self) -> Result<usize, EncodeError> {
        packet_len(self.body_len()?)
    }

    /// Encodes into `out`, returning the bytes written.
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, EncodeError> {
        encode_frame(self.first_byte(), &|writer| self.write_body(writer), out)
    }

    fn first_byte(&self) -> u8 {
        let packet_type = self.packet_type();
        let flags = match self {
            Packet::Publish(publish) => publish_flags(publish),
            _ => packet_type.required_flags().unwrap_or(0),
        };
        ((packet_type as u8) << 4) | flags
    }

    /// Validates the packet and counts its body.
    fn body_len(&self) -> Result<usize, EncodeError> {
        let mut counter = Writer::counter();
        self.write_body(&mut counter)?;
        Ok(counter.position())
    }

    /// Validates and writes (or counts) the body.
    fn write_body(&self, writer: &mut Writer<'_>) -> Result<(), EncodeError> {
        match self {
            Packet::Publish(publish) => write_publish_body(writer, publish),
            _ => Ok(self.write_fields(writer)?),
        }
    }

    /// The body's fields in wire order, each validated before it is written
    /// (PUBLISH aside: [`write_publish_body`]).
    fn write_fields(&self, writer: &mut Writer<'_>) -> Result<(), FieldError> {
        match self {
            Packet::Connect(connect) => write_connect(writer, connect),
            Packet::ConnAck(ack) => {
                writer.u8(u8::from(ack.session_present));
                writer.u8(ack.code.as_u8());
                Ok(())
            }
            Packet::Publish(publish) => {
                write_publish_variable_header(writer, publish)?;
                writer.bytes(publish.payload);
                Ok(())
            }
            Packet::PubAck(id)
            | Packet::PubRec(id)
            | Packet::PubRel(id)
            | Packet::PubComp(id)
            | Packet::UnsubAck(id) => {
                writer.u16(validate::packet_id(*id)?);
                Ok(())
            }
            Packet::Subscribe(subscribe) => match subscribe.topics {
                SubscribeTopics::Wire(list) => {
                    writer.u16(validate::packet_id(subscribe.packet_id)?);
                    writer.bytes(list.as_bytes());
                    Ok(())
                }
                SubscribeTopics::Slice(topics) => {
                    write_subscribe(writer, subscribe.packet_id, topics)
                }
            },
            Packet::SubAck(suback) => {
                writer.u16(validate::packet_id(suback.packet_id)?);
                if suback.return_codes.is_empty() {
                    return Err(FieldError::NoTopics);
                }
                for &code in suback.return_codes {
                    SubackReturnCode::from_u8(code)?;
                }
                writer.bytes(suback.return_codes);
                Ok(())
            }
            Packet::Unsubscribe(unsubscribe) => match unsubscribe.topics {
                UnsubscribeTopics::Wire(list) => {
                    writer.u16(validate::packet_id(unsubscribe.packet_id)?);
                    writer.bytes(list.as_bytes());
                    Ok(())
                }
                UnsubscribeTopics::Slice(filters) => {
                    write_unsubscribe(writer, unsubscribe.packet_id, filters)
                }
            },
            Packet::PingReq | Packet::PingResp | Packet::Disconnect => Ok(()),
        }
    }
}

/// Sizes and validates a packet by running `body` over a counting writer,
/// then writes its fixed header and runs `body` again over `out`. One frame
/// for every packet; `dyn`, so the device carries it once.
fn encode_frame(
    first_byte: u8,
    body: &dyn Fn(&mut Writer<'_>) -> Result<(), EncodeError>,
    out: &mut [u8],
) -> Result<usize, EncodeError> {
    encode_frame_upto(first_byte, body, out, 0, true).map(|(len, _)| len)
}

/// [`encode_frame`] for a body ending in `tail` bytes (a PUBLISH payload)
/// the caller can send itself: the whole packet when `whole_allowed` and it
/// fits `out`, else all but the tail (which is then only counted). The bytes
/// written and whether the tail is among them; `BufferTooSmall` names the
/// size without the tail.
fn encode_frame_upto(
    first_byte: u8,
    body: &dyn Fn(&mut Writer<'_>) -> Result<(), EncodeError>,
    out: &mut [u8],
    tail: usize,
    whole_allowed: bool,
) -> Result<(usize, bool), EncodeError> {
    let mut counter = Writer::counter();
    body(&mut counter)?;
    let body_len = counter.position();
    let total = packet_len(body_len)?;
    let head_len = total.saturating_sub(tail);
    let whole = whole_allowed && out.len() >= total;
    let len = if whole { total } else { head_len };
    let out = out
        .get_mut(..len)
        .ok_or(EncodeError::BufferTooSmall { needed: head_len })?;
    let mut writer = Writer::new(out);
    write_fixed_header(&mut writer, first_byte, body_len)?;
    body(&mut writer)?;
    Ok((len, whole))
}

// The packets a client sends, each encoded without going through [`Packet`]:
// the same bytes and errors as `Packet::encode`, but a client's build then
// carries no encoder for the packets only a server sends.

/// CONNECT, as `Packet::Connect(*connect).encode(out)`.
pub fn encode_connect(connect: &Connect<'_>, out: &mut [u8]) -> Result<usize, EncodeError> {
    encode_frame(0x10, &|writer| Ok(write_connect(writer, connect)?), out)
}

/// SUBSCRIBE of `topics`, as `Packet::Subscribe` with `SubscribeTopics::Slice`.
pub fn encode_subscribe(
    packet_id: u16,
    topics: &[SubscribeTopic<'_>],
    out: &mut [u8],
) -> Result<usize, EncodeError> {
    encode_frame(
        0x82,
        &|writer| Ok(write_subscribe(writer, packet_id, topics)?),
        out,
    )
}

/// UNSUBSCRIBE of `filters`, as `Packet::Unsubscribe` with `UnsubscribeTopics::Slice`.
pub fn encode_unsubscribe(
    packet_id: u16,
    filters: &[&str],
    out: &mut [u8],
) -> Result<usize, EncodeError> {
    encode_frame(
        0xA2,
        &|writer| Ok(write_unsubscribe(writer, packet_id, filters)?),
        out,
    )
}

/// PUBACK, PUBREC, PUBREL, PUBCOMP or UNSUBACK (`packet_type`) for
/// `packet_id`, as `Packet::encode` writes it.
pub fn encode_ack(
    packet_type: PacketType,
    packet_id: u16,
    out: &mut [u8],
) -> Result<usize, EncodeError> {
    let [high, low] = validate::packet_id(packet_id)?.to_be_bytes();
    let first = ((packet_type as u8) << 4) | packet_type.required_flags().unwrap_or(0);
    let out = out
        .get_mut(..4)
        .ok_or(EncodeError::BufferTooSmall { needed: 4 })?;
    out.copy_from_slice(&[first, 2, high, low]);
    Ok(4)
}

/// PINGREQ, PINGRESP or DISCONNECT (`packet_type`): no body.
pub fn encode_empty(packet_type: PacketType, out: &mut [u8]) -> Result<usize, EncodeError> {
    let out = out
        .get_mut(..2)
        .ok_or(EncodeError::BufferTooSmall { needed: 2 })?;
    out.copy_from_slice(&[(packet_type as u8) << 4, 0]);
    Ok(2)
}

fn write_subscribe(
    writer: &mut Writer<'_>,
    packet_id: u16,
    topics: &[SubscribeTopic<'_>],
) -> Result<(), FieldError> {
    writer.u16(validate::packet_id(packet_id)?);
    if topics.is_empty() {
        return Err(FieldError::NoTopics);
    }
    topics.iter().try_for_each(|topic| {
        if writer.counting() {
            validate::topic_filter(topic.filter)?;
        }
        writer.binary(topic.filter)?;
        writer.u8(topic.qos.as_u8());
        Ok(())
    })
}

fn write_unsubscribe(
    writer: &mut Writer<'_>,
    packet_id: u16,
    filters: &[&str],
) -> Result<(), FieldError> {
    writer.u16(validate::packet_id(packet_id)?);
    if filters.is_empty() {
        return Err(FieldError::NoTopics);
    }
    filters.iter().try_for_each(|filter| {
        if writer.counting() {
            validate::topic_filter(filter.as_bytes())?;
        }
        writer.binary(filter.as_bytes())
    })
}

fn write_fixed_header(
    writer: &mut Writer<'_>,
    first_byte: u8,
    body_len: usize,
) -> Result<(), EncodeError> {
    writer.u8(first_byte);
    let (length, length_bytes) = varint::encode(body_len).ok_or(EncodeError::PacketTooLarge)?;
    writer.bytes(length.get(..length_bytes).unwrap_or_default());
    Ok(())
}

fn connect_flags(connect: &Connect<'_>) -> u8 {
    let mut flags = 0u8;
    if connect.clean_session {
        flags |= 0b0000_0010;
    }
    if let Some(will) = &connect.will {
        flags |= 0b0000_0100 | (will.qos.as_u8() << 3);
        if will.retain {
            flags |= 0b0010_0000;
        }
    }
    if connect.password.is_some() {
        flags |= 0b0100_0000;
    }
    if connect.username.is_some() {
        flags |= 0b1000_0000;
    }
    flags
}

fn write_connect(writer: &mut Writer<'_>, connect: &Connect<'_>) -> Result<(), FieldError> {
    writer.binary(connect.protocol.name().as_bytes())?;
    writer.u8(connect.protocol.level());
    writer.u8(connect_flags(connect));
    writer.u16(connect.keep_alive);
    if writer.counting() {
        validate::string(connect.client_id)?;
    }
    writer.binary(connect.client_id.as_bytes())?;
    if let Some(will) = &connect.will {
        if writer.counting() {
            validate::topic_name(will.topic.as_bytes())?;
        }
        writer.binary(will.topic.as_bytes())?;
        writer.binary(will.message)?;
    }
    if let Some(username) = connect.username {
        if writer.counting() {
            validate::string(username)?;
        }
        writer.binary(username.as_bytes())?;
    }
    if let Some(password) = connect.password {
        if connect.username.is_none() {
            return Err(FieldError::PasswordWithoutUser);
        }
        writer.binary(password)?;
    }
    Ok(())
}

fn publish_flags(publish: &Publish<'_>) -> u8 {
    (u8::from(publish.dup) << 3) | (publish.qos_pid.qos().as_u8() << 1) | u8::from(publish.retain)
}

/// Topic field plus packet id, validated (DUP with QoS 0 is checked by
/// [`Packet::write_body`]).
fn write_publish_variable_header(
    writer: &mut Writer<'_>,
    publish: &Publish<'_>,
) -> Result<(), FieldError> {
    if writer.counting() {
        validate::topic_name(publish.topic)?;
    }
    writer.binary(publish.topic)?;
    if let Some(id) = publish.qos_pid.packet_id() {
        writer.u16(validate::packet_id(id)?);
    }
    Ok(())
}

/// Topic, packet id and payload, validated; DUP with QoS 0 after the
/// topic's checks, as the only field error of a QoS 0 PUBLISH is its topic's.
fn write_publish_body(writer: &mut Writer<'_>, publish: &Publish<'_>) -> Result<(), EncodeError> {
    write_publish_variable_header(writer, publish)?;
    writer.bytes(publish.payload);
    if publish.dup && publish.qos_pid == QosPid::AtMostOnce {
        return Err(EncodeError::DupWithQos0);
    }
    Ok(())
}

/// Validates a PUBLISH and counts its body.
fn publish_body_len(publish: &Publish<'_>) -> Result<usize, EncodeError> {
    let mut counter = Writer::counter();
    write_publish_body(&mut counter, publish)?;
    Ok(counter.position())
}

/// Size of a PUBLISH without its payload: fixed header, topic, packet id.
pub fn publish_header_len(publish: &Publish<'_>) -> Result<usize, EncodeError> {
    let total = packet_len(publish_body_len(publish)?)?;
    Ok(total.saturating_sub(publish.payload.len()))
}

/// Writes a PUBLISH up to (not including) its payload, so a large payload can be
/// sent straight from where it lies. Returns the header bytes written.
pub fn encode_publish_header(publish: &Publish<'_>, out: &mut [u8]) -> Result<usize, EncodeError> {
    encode_publish_upto(publish, out, false).map(|(len, _)| len)
}

/// Writes the whole PUBLISH if it fits `out`, else its header alone (as
/// [`encode_publish_header`]): the bytes written and whether the payload is
/// among them. `BufferTooSmall` names the header's size.
pub fn encode_publish(publish: &Publish<'_>, out: &mut [u8]) -> Result<(usize, bool), EncodeError> {
    encode_publish_upto(publish, out, true)
}

fn encode_publish_upto(
    publish: &Publish<'_>,
    out: &mut [u8],
    whole_allowed: bool,
) -> Result<(usize, bool), EncodeError> {
    encode_frame_upto(
        0x30 | publish_flags(publish),
        &|writer| write_publish_body(writer, publish),
        out,
        publish.payload.len(),
        whole_allowed,
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;
    use crate::codec::packet::{ConnAck, ConnectReturnCode, Protocol, QoS, SubscribeTopic};
    use std::string::String;
    use std::vec;
    use std::vec::Vec;

    fn encode_to_vec<'b>(packet: &Packet<'_>, buf: &'b mut [u8]) -> &'b [u8] {
        let len = packet.encode(buf).unwrap();
        assert_eq!(packet.encoded_len(), Ok(len));
        &buf[..len]
    }

    /// What `Packet::encode` returns and writes into a buffer of `cap` bytes.
    fn via_packet(packet: &Packet<'_>, cap: usize) -> (Result<usize, EncodeError>, Vec<u8>) {
        let mut buf = vec![0u8; cap];
        (packet.encode(&mut buf), buf)
    }

    fn via(
        encode: impl FnOnce(&mut [u8]) -> Result<usize, EncodeError>,
        cap: usize,
    ) -> (Result<usize, EncodeError>, Vec<u8>) {
        let mut buf = vec![0u8; cap];
        (encode(&mut buf), buf)
    }

    proptest::proptest! {
        /// The client's direct encoders write what `Packet::encode` writes,
        /// with the same errors, for any fields and buffer size.
        #[test]
        fn client_encoders_match_packet_encode(
            names in proptest::collection::vec("[a/+#\\x00é]{0,6}", 0..4),
            packet_id in proptest::prop_oneof![proptest::strategy::Just(0u16), 1u16..],
            qos in 0u8..3,
            flags in 0u8..32,
            payload in proptest::collection::vec(0u8.., 0..40),
            cap in 0usize..80,
        ) {
            let qos = QoS::from_u8(qos).unwrap();
            let topics: Vec<SubscribeTopic<'_>> =
                names.iter().map(|name| SubscribeTopic { filter: name.as_bytes(), qos }).collect();
            let filters: Vec<&str> = names.iter().map(|name| name.as_str()).collect();
            let subscribe = Packet::Subscribe(crate::codec::Subscribe {
                packet_id,
                topics: SubscribeTopics::Slice(&topics),
            });
            proptest::prop_assert_eq!(
                via(|out| encode_subscribe(packet_id, &topics, out), cap),
                via_packet(&subscribe, cap)
            );
            let unsubscribe = Packet::Unsubscribe(crate::codec::Unsubscribe {
                packet_id,
                topics: UnsubscribeTopics::Slice(&filters),
            });
            proptest::prop_assert_eq!(
                via(|out| encode_unsubscribe(packet_id, &filters, out), cap),
                via_packet(&unsubscribe, cap)
            );
            for (packet_type, packet) in [
                (PacketType::PubAck, Packet::PubAck(packet_id)),
                (PacketType::PubRec, Packet::PubRec(packet_id)),
                (PacketType::PubRel, Packet::PubRel(packet_id)),
                (PacketType::PubComp, Packet::PubComp(packet_id)),
                (PacketType::UnsubAck, Packet::UnsubAck(packet_id)),
            ] {
                proptest::prop_assert_eq!(
                    via(|out| encode_ack(packet_type, packet_id, out), cap),
                    via_packet(&packet, cap)
                );
            }
            for (packet_type, packet) in [
                (PacketType::PingReq, Packet::PingReq),
                (PacketType::PingResp, Packet::PingResp),
                (PacketType::Disconnect, Packet::Disconnect),
            ] {
                proptest::prop_assert_eq!(
                    via(|out| encode_empty(packet_type, out), cap),
                    via_packet(&packet, cap)
                );
            }
            let name = |i: usize| names.get(i).map(String::as_str);
            let connect = Connect {
                protocol: if flags & 1 == 0 { Protocol::V311 } else { Protocol::V31 },
                clean_session: flags & 2 != 0,
                keep_alive: packet_id,
                client_id: name(0).unwrap_or(""),
                will: name(1).filter(|_| flags & 4 != 0).map(|topic| crate::codec::LastWill {
                    topic,
                    message: &payload,
                    qos,
                    retain: flags & 8 != 0,
                }),
                username: name(2),
                password: Some(&payload[..]).filter(|_| flags & 16 != 0),
            };
            proptest::prop_assert_eq!(
                via(|out| encode_connect(&connect, out), cap),
                via_packet(&Packet::Connect(connect), cap)
            );
            let publish = Publish {
                dup: flags & 1 != 0,
                qos_pid: QosPid::new(qos, packet_id),
                retain: flags & 2 != 0,
                topic: name(0).unwrap_or("").as_bytes(),
                payload: &payload,
            };
            let mut whole = vec![0u8; cap];
            let encoded = encode_publish(&publish, &mut whole);
            let (expected, bytes) = via_packet(&Packet::Publish(publish), cap);
            match encoded {
                Ok((len, true)) => {
                    proptest::prop_assert_eq!(Ok(len), expected);
                    proptest::prop_assert_eq!(&whole, &bytes);
                }
                Ok((len, false)) => {
                    proptest::prop_assert_eq!(Ok(len), publish_header_len(&publish));
                    let total = Packet::Publish(publish).encoded_len().unwrap();
                    let mut full = vec![0u8; total];
                    Packet::Publish(publish).encode(&mut full).unwrap();
                    proptest::prop_assert_eq!(&whole[..len], &full[..len]);
                }
                Err(EncodeError::BufferTooSmall { needed }) => {
                    proptest::prop_assert_eq!(Ok(needed), publish_header_len(&publish));
                }
                Err(error) => proptest::prop_assert_eq!(Err(error), expected),
            }
        }
    }

    #[test]
    fn fixed_packets() {
        let mut buf = [0u8; 8];
        assert_eq!(encode_to_vec(&Packet::PingReq, &mut buf), &[0xC0, 0x00]);
        assert_eq!(encode_to_vec(&Packet::Disconnect, &mut buf), &[0xE0, 0x00]);
        assert_eq!(
            encode_to_vec(&Packet::PubRel(0x0102), &mut buf),
            &[0x62, 0x02, 0x01, 0x02]
        );
        let ack = Packet::ConnAck(ConnAck {
            session_present: true,
            code: ConnectReturnCode::Accepted,
        });
        assert_eq!(encode_to_vec(&ack, &mut buf), &[0x20, 0x02, 0x01, 0x00]);
    }

    #[test]
    fn buffer_too_small_reports_full_size() {
        let mut buf = [0u8; 3];
        assert_eq!(
            Packet::PubAck(1).encode(&mut buf),
            Err(EncodeError::BufferTooSmall { needed: 4 })
        );
    }

    #[test]
    fn invalid_fields_are_refused() {
        let mut buf = [0u8; 64];
        assert_eq!(
            Packet::PubAck(0).encode(&mut buf),
            Err(FieldError::ZeroPacketId.into())
        );
        let publish = Publish {
            dup: false,
            qos_pid: QosPid::AtMostOnce,
            retain: false,
            topic: b"a/+",
            payload: b"",
        };
        assert_eq!(
            Packet::Publish(publish).encode(&mut buf),
            Err(FieldError::WildcardInTopic.into())
        );
        let dup0 = Publish {
            dup: true,
            topic: b"a",
            ..publish
        };
        assert_eq!(
            Packet::Publish(dup0).encode(&mut buf),
            Err(EncodeError::DupWithQos0)
        );
        let topics = [SubscribeTopic {
            filter: b"a/#/b",
            qos: QoS::AtMostOnce,
        }];
        let subscribe = Packet::Subscribe(crate::codec::Subscribe {
            packet_id: 1,
            topics: SubscribeTopics::Slice(&topics),
        });
        assert_eq!(
            subscribe.encode(&mut buf),
            Err(FieldError::InvalidTopicFilter.into())
        );
        let connect = Packet::Connect(Connect {
            protocol: Protocol::V311,
            clean_session: true,
            keep_alive: 0,
            client_id: "c",
            will: None,
            username: None,
            password: Some(b"secret"),
        });
        assert_eq!(
            connect.encode(&mut buf),
            Err(FieldError::PasswordWithoutUser.into())
        );
    }

    #[test]
    fn publish_header_only() {
        let publish = Publish {
            dup: false,
            qos_pid: QosPid::AtLeastOnce(10),
            retain: true,
            topic: b"a/b",
            payload: &[7u8; 200],
        };
        let mut buf = [0u8; 16];
        let len = encode_publish_header(&publish, &mut buf).unwrap();
        // 0x33, length 207 as two bytes, topic (5), packet id (2).
        assert_eq!(
            &buf[..len],
            &[0x33, 0xCF, 0x01, 0x00, 0x03, b'a', b'/', b'b', 0x00, 0x0A]
        );
        assert_eq!(publish_header_len(&publish), Ok(10));
        assert_eq!(Packet::Publish(publish).encoded_len(), Ok(210));
    }

    #[test]
    fn publish_whole_else_header_else_too_small() {
        let publish = Publish {
            dup: false,
            qos_pid: QosPid::AtLeastOnce(10),
            retain: true,
            topic: b"a/b",
            payload: &[7u8; 200],
        };
        let mut whole = [0u8; 300];
        assert_eq!(encode_publish(&publish, &mut whole), Ok((210, true)));
        let mut expected = [0u8; 210];
        assert_eq!(Packet::Publish(publish).encode(&mut expected), Ok(210));
        assert_eq!(&whole[..210], &expected[..]);
        assert_eq!(whole[210], 0);
        // one byte short of the whole packet: the header alone, nothing after it
        let mut short = [0u8; 209];
        assert_eq!(encode_publish(&publish, &mut short), Ok((10, false)));
        assert_eq!(&short[..10], &expected[..10]);
        assert!(short[10..].iter().all(|&b| b == 0));
        let mut tiny = [0u8; 9];
        assert_eq!(
            encode_publish(&publish, &mut tiny),
            Err(EncodeError::BufferTooSmall { needed: 10 })
        );
        let bad = Publish {
            topic: b"a/#",
            ..publish
        };
        assert_eq!(
            encode_publish(&bad, &mut whole),
            Err(FieldError::WildcardInTopic.into())
        );
    }
}
