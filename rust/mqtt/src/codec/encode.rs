//! Encoding into a caller's buffer. Every field is validated first, so whatever
//! encodes successfully also decodes.

use super::bytes::Writer;
use super::error::{EncodeError, FieldError};
use super::packet::{
    Connect, Packet, Publish, QosPid, SubAck, SubackReturnCode, SubscribeTopics, UnsubscribeTopics,
};
use super::validate;
use super::varint;

fn add(total: usize, more: usize) -> Result<usize, EncodeError> {
    total.checked_add(more).ok_or(EncodeError::PacketTooLarge)
}

/// A length-prefixed field's size on the wire.
fn field_len(bytes: &[u8]) -> Result<usize, EncodeError> {
    validate::binary(bytes)?;
    add(bytes.len(), 2)
}

/// First byte plus length bytes plus body; rejects bodies over the 4-byte limit.
fn packet_len(body_len: usize) -> Result<usize, EncodeError> {
    let length_bytes = varint::encoded_len(body_len).ok_or(EncodeError::PacketTooLarge)?;
    add(add(body_len, length_bytes)?, 1)
}

/// Writer failures mean our own length accounting is wrong; report the space we asked for.
fn overflow(needed: usize) -> EncodeError {
    EncodeError::BufferTooSmall { needed }
}

impl Packet<'_> {
    /// Bytes [`Packet::encode`] would write; validates the packet.
    pub fn encoded_len(&self) -> Result<usize, EncodeError> {
        packet_len(self.body_len()?)
    }

    /// Encodes into `out`, returning the bytes written.
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, EncodeError> {
        let body_len = self.body_len()?;
        let total = packet_len(body_len)?;
        if out.len() < total {
            return Err(EncodeError::BufferTooSmall { needed: total });
        }
        let mut writer = Writer::new(out);
        write_fixed_header(&mut writer, self.first_byte(), body_len).ok_or(overflow(total))?;
        self.write_body(&mut writer).ok_or(overflow(total))?;
        Ok(writer.position())
    }

    fn first_byte(&self) -> u8 {
        let packet_type = self.packet_type();
        let flags = match self {
            Packet::Publish(publish) => publish_flags(publish),
            _ => packet_type.required_flags().unwrap_or(0),
        };
        ((packet_type as u8) << 4) | flags
    }

    fn body_len(&self) -> Result<usize, EncodeError> {
        match self {
            Packet::Connect(connect) => connect_body_len(connect),
            Packet::ConnAck(_) => Ok(2),
            Packet::Publish(publish) => {
                add(publish_variable_header_len(publish)?, publish.payload.len())
            }
            Packet::PubAck(id)
            | Packet::PubRec(id)
            | Packet::PubRel(id)
            | Packet::PubComp(id)
            | Packet::UnsubAck(id) => {
                validate::packet_id(*id)?;
                Ok(2)
            }
            Packet::Subscribe(subscribe) => {
                validate::packet_id(subscribe.packet_id)?;
                add(subscribe_list_len(&subscribe.topics)?, 2)
            }
            Packet::SubAck(suback) => suback_body_len(suback),
            Packet::Unsubscribe(unsubscribe) => {
                validate::packet_id(unsubscribe.packet_id)?;
                add(unsubscribe_list_len(&unsubscribe.topics)?, 2)
            }
            Packet::PingReq | Packet::PingResp | Packet::Disconnect => Ok(0),
        }
    }

    /// Assumes `body_len` validated the packet.
    fn write_body(&self, writer: &mut Writer<'_>) -> Option<()> {
        match self {
            Packet::Connect(connect) => write_connect(writer, connect),
            Packet::ConnAck(ack) => {
                writer.u8(u8::from(ack.session_present))?;
                writer.u8(ack.code.as_u8())
            }
            Packet::Publish(publish) => {
                write_publish_variable_header(writer, publish)?;
                writer.bytes(publish.payload)
            }
            Packet::PubAck(id)
            | Packet::PubRec(id)
            | Packet::PubRel(id)
            | Packet::PubComp(id)
            | Packet::UnsubAck(id) => writer.u16(*id),
            Packet::Subscribe(subscribe) => {
                writer.u16(subscribe.packet_id)?;
                match subscribe.topics {
                    SubscribeTopics::Wire(list) => writer.bytes(list.as_bytes()),
                    SubscribeTopics::Slice(topics) => topics.iter().try_for_each(|topic| {
                        writer.binary(topic.filter.as_bytes())?;
                        writer.u8(topic.qos.as_u8())
                    }),
                }
            }
            Packet::SubAck(suback) => {
                writer.u16(suback.packet_id)?;
                writer.bytes(suback.return_codes)
            }
            Packet::Unsubscribe(unsubscribe) => {
                writer.u16(unsubscribe.packet_id)?;
                match unsubscribe.topics {
                    UnsubscribeTopics::Wire(list) => writer.bytes(list.as_bytes()),
                    UnsubscribeTopics::Slice(filters) => filters
                        .iter()
                        .try_for_each(|filter| writer.binary(filter.as_bytes())),
                }
            }
            Packet::PingReq | Packet::PingResp | Packet::Disconnect => Some(()),
        }
    }
}

fn write_fixed_header(writer: &mut Writer<'_>, first_byte: u8, body_len: usize) -> Option<()> {
    writer.u8(first_byte)?;
    let (length, length_bytes) = varint::encode(body_len)?;
    writer.bytes(length.get(..length_bytes)?)
}

fn connect_body_len(connect: &Connect<'_>) -> Result<usize, EncodeError> {
    // Protocol name field, level, flags, keep alive.
    let mut len = add(field_len(connect.protocol.name().as_bytes())?, 4)?;
    validate::string(connect.client_id)?;
    len = add(len, field_len(connect.client_id.as_bytes())?)?;
    if let Some(will) = &connect.will {
        validate::topic_name(will.topic)?;
        len = add(len, field_len(will.topic.as_bytes())?)?;
        len = add(len, field_len(will.message)?)?;
    }
    if let Some(username) = connect.username {
        validate::string(username)?;
        len = add(len, field_len(username.as_bytes())?)?;
    }
    if let Some(password) = connect.password {
        if connect.username.is_none() {
            return Err(FieldError::PasswordWithoutUser.into());
        }
        len = add(len, field_len(password)?)?;
    }
    Ok(len)
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

fn write_connect(writer: &mut Writer<'_>, connect: &Connect<'_>) -> Option<()> {
    writer.binary(connect.protocol.name().as_bytes())?;
    writer.u8(connect.protocol.level())?;
    writer.u8(connect_flags(connect))?;
    writer.u16(connect.keep_alive)?;
    writer.binary(connect.client_id.as_bytes())?;
    if let Some(will) = &connect.will {
        writer.binary(will.topic.as_bytes())?;
        writer.binary(will.message)?;
    }
    if let Some(username) = connect.username {
        writer.binary(username.as_bytes())?;
    }
    if let Some(password) = connect.password {
        writer.binary(password)?;
    }
    Some(())
}

fn publish_flags(publish: &Publish<'_>) -> u8 {
    (u8::from(publish.dup) << 3) | (publish.qos_pid.qos().as_u8() << 1) | u8::from(publish.retain)
}

/// Topic field plus packet id, validated.
fn publish_variable_header_len(publish: &Publish<'_>) -> Result<usize, EncodeError> {
    validate::topic_name(publish.topic)?;
    let topic_len = field_len(publish.topic.as_bytes())?;
    match publish.qos_pid {
        QosPid::AtMostOnce if publish.dup => Err(EncodeError::DupWithQos0),
        QosPid::AtMostOnce => Ok(topic_len),
        QosPid::AtLeastOnce(id) | QosPid::ExactlyOnce(id) => {
            validate::packet_id(id)?;
            add(topic_len, 2)
        }
    }
}

fn write_publish_variable_header(writer: &mut Writer<'_>, publish: &Publish<'_>) -> Option<()> {
    writer.binary(publish.topic.as_bytes())?;
    match publish.qos_pid.packet_id() {
        Some(id) => writer.u16(id),
        None => Some(()),
    }
}

/// Size of a PUBLISH without its payload: fixed header, topic, packet id.
pub fn publish_header_len(publish: &Publish<'_>) -> Result<usize, EncodeError> {
    let variable = publish_variable_header_len(publish)?;
    let total = packet_len(add(variable, publish.payload.len())?)?;
    Ok(total.saturating_sub(publish.payload.len()))
}

/// Writes a PUBLISH up to (not including) its payload, so a large payload can be
/// sent straight from where it lies. Returns the header bytes written.
pub fn encode_publish_header(publish: &Publish<'_>, out: &mut [u8]) -> Result<usize, EncodeError> {
    let header_len = publish_header_len(publish)?;
    if out.len() < header_len {
        return Err(EncodeError::BufferTooSmall { needed: header_len });
    }
    let body_len = add(publish_variable_header_len(publish)?, publish.payload.len())?;
    let mut writer = Writer::new(out);
    write_fixed_header(
        &mut writer,
        Packet::Publish(*publish).first_byte(),
        body_len,
    )
    .ok_or(overflow(header_len))?;
    write_publish_variable_header(&mut writer, publish).ok_or(overflow(header_len))?;
    Ok(writer.position())
}

fn subscribe_list_len(topics: &SubscribeTopics<'_>) -> Result<usize, EncodeError> {
    match topics {
        SubscribeTopics::Wire(list) => Ok(list.as_bytes().len()),
        SubscribeTopics::Slice(topics) => {
            if topics.is_empty() {
                return Err(FieldError::NoTopics.into());
            }
            topics.iter().try_fold(0usize, |len, topic| {
                validate::topic_filter(topic.filter)?;
                add(len, add(field_len(topic.filter.as_bytes())?, 1)?)
            })
        }
    }
}

fn unsubscribe_list_len(topics: &UnsubscribeTopics<'_>) -> Result<usize, EncodeError> {
    match topics {
        UnsubscribeTopics::Wire(list) => Ok(list.as_bytes().len()),
        UnsubscribeTopics::Slice(filters) => {
            if filters.is_empty() {
                return Err(FieldError::NoTopics.into());
            }
            filters.iter().try_fold(0usize, |len, filter| {
                validate::topic_filter(filter)?;
                add(len, field_len(filter.as_bytes())?)
            })
        }
    }
}

fn suback_body_len(suback: &SubAck<'_>) -> Result<usize, EncodeError> {
    validate::packet_id(suback.packet_id)?;
    if suback.return_codes.is_empty() {
        return Err(FieldError::NoTopics.into());
    }
    for &code in suback.return_codes {
        SubackReturnCode::from_u8(code)?;
    }
    add(suback.return_codes.len(), 2)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;
    use crate::codec::packet::{ConnAck, ConnectReturnCode, Protocol, QoS, SubscribeTopic};

    fn encode_to_vec<'b>(packet: &Packet<'_>, buf: &'b mut [u8]) -> &'b [u8] {
        let len = packet.encode(buf).unwrap();
        assert_eq!(packet.encoded_len(), Ok(len));
        &buf[..len]
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
            topic: "a/+",
            payload: b"",
        };
        assert_eq!(
            Packet::Publish(publish).encode(&mut buf),
            Err(FieldError::WildcardInTopic.into())
        );
        let dup0 = Publish {
            dup: true,
            topic: "a",
            ..publish
        };
        assert_eq!(
            Packet::Publish(dup0).encode(&mut buf),
            Err(EncodeError::DupWithQos0)
        );
        let topics = [SubscribeTopic {
            filter: "a/#/b",
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
            topic: "a/b",
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
}
