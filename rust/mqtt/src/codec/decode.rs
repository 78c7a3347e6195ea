//! Resumable decoding: hand it whatever bytes have arrived; it either returns one
//! packet and how many bytes it used, or how many more bytes it needs.

use super::bytes::Reader;
use super::error::{DecodeError, FieldError};
use super::packet::{
    ConnAck, Connect, ConnectReturnCode, LastWill, Packet, PacketType, Protocol, Publish, QoS,
    QosPid, SubAck, SubackReturnCode, Subscribe, SubscribeTopics, Unsubscribe, UnsubscribeTopics,
    WireList,
};
use super::validate;
use super::varint;

/// Outcome of a decode attempt on a possibly incomplete buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status<T> {
    /// At least this many more bytes are needed; exact once the fixed header is complete.
    Partial(usize),
    Complete(T),
}

/// Smallest possible packet: type byte plus a one-byte remaining length of 0.
const MIN_PACKET_LEN: usize = 2;

/// First byte and remaining length of a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedHeader {
    pub packet_type: PacketType,
    /// Low nibble of the first byte.
    pub flags: u8,
    pub remaining_length: usize,
    /// Bytes of the fixed header itself (2..=5).
    pub header_len: usize,
}

impl FixedHeader {
    /// Total packet size; cannot overflow since both parts are bounded.
    pub fn packet_len(&self) -> usize {
        self.header_len.saturating_add(self.remaining_length)
    }
}

/// Parses and checks the fixed header, rejecting bad flag bits before the body arrives.
pub fn decode_fixed_header(buf: &[u8]) -> Result<Status<FixedHeader>, DecodeError> {
    let Some((&first, rest)) = buf.split_first() else {
        return Ok(Status::Partial(MIN_PACKET_LEN));
    };
    let packet_type = PacketType::from_nibble(first >> 4).ok_or(DecodeError::InvalidPacketType)?;
    let flags = first & 0x0F;
    check_flags(packet_type, flags)?;
    match varint::decode(rest)? {
        Status::Partial(needed) => Ok(Status::Partial(needed)),
        Status::Complete((remaining_length, length_bytes)) => {
            check_fixed_length(packet_type, remaining_length)?;
            Ok(Status::Complete(FixedHeader {
                packet_type,
                flags,
                remaining_length,
                header_len: length_bytes.saturating_add(1),
            }))
        }
    }
}

/// Packets whose body has one possible size must announce exactly that size:
/// a peer announcing more would otherwise leave the reader waiting for bytes
/// that never come.
fn check_fixed_length(packet_type: PacketType, remaining_length: usize) -> Result<(), DecodeError> {
    let required = match packet_type {
        PacketType::ConnAck
        | PacketType::PubAck
        | PacketType::PubRec
        | PacketType::PubRel
        | PacketType::PubComp
        | PacketType::UnsubAck => 2,
        PacketType::PingReq | PacketType::PingResp | PacketType::Disconnect => 0,
        _ => return Ok(()),
    };
    if remaining_length == required {
        Ok(())
    } else {
        Err(DecodeError::LengthMismatch)
    }
}

fn check_flags(packet_type: PacketType, flags: u8) -> Result<(), DecodeError> {
    match packet_type.required_flags() {
        Some(required) if required != flags => Err(DecodeError::ReservedFlags),
        Some(_) => Ok(()),
        None => {
            let qos = QoS::from_u8((flags >> 1) & 0b11)?;
            let dup = flags & 0b1000 != 0;
            if dup && qos == QoS::AtMostOnce {
                // [MQTT-3.3.1-2]: DUP must be 0 for QoS 0.
                Err(DecodeError::ReservedFlags)
            } else {
                Ok(())
            }
        }
    }
}

/// Decodes one packet from the start of `buf`.
///
/// Returns the packet and the bytes it occupied, or `Partial(n)`: feed at least
/// `n` more bytes (exactly `n` once the fixed header is complete) and call again.
pub fn decode(buf: &[u8]) -> Result<Status<(Packet<'_>, usize)>, DecodeError> {
    decode_with(buf, decode_body)
}

/// [`decode`] for a client: the packets a server sends; a type only clients
/// send (CONNECT, SUBSCRIBE, UNSUBSCRIBE, PINGREQ, DISCONNECT) is
/// [`DecodeError::UnexpectedPacket`] once its whole packet is in `buf`,
/// without parsing its body, so a client's build carries no parser for them.
pub fn decode_from_server(buf: &[u8]) -> Result<Status<(Packet<'_>, usize)>, DecodeError> {
    decode_with(buf, |header, body| match header.packet_type {
        t @ (PacketType::Connect
        | PacketType::Subscribe
        | PacketType::Unsubscribe
        | PacketType::PingReq
        | PacketType::Disconnect) => Err(DecodeError::UnexpectedPacket(t)),
        _ => decode_body(header, body),
    })
}

#[inline(always)]
fn decode_with<'a>(
    buf: &'a [u8],
    body: impl FnOnce(&FixedHeader, &'a [u8]) -> Result<Packet<'a>, DecodeError>,
) -> Result<Status<(Packet<'a>, usize)>, DecodeError> {
    let header = match decode_fixed_header(buf)? {
        Status::Partial(needed) => return Ok(Status::Partial(needed)),
        Status::Complete(header) => header,
    };
    let total = header.packet_len();
    let Some(packet_bytes) = buf.get(..total) else {
        return Ok(Status::Partial(total.saturating_sub(buf.len())));
    };
    let body_bytes = packet_bytes
        .get(header.header_len..)
        .ok_or(DecodeError::LengthMismatch)?;
    let packet = body(&header, body_bytes)?;
    Ok(Status::Complete((packet, total)))
}

#[inline(always)]
fn decode_body<'a>(header: &FixedHeader, body: &'a [u8]) -> Result<Packet<'a>, DecodeError> {
    let mut reader = Reader::new(body);
    let packet = match header.packet_type {
        PacketType::Connect => Packet::Connect(connect(&mut reader)?),
        PacketType::ConnAck => Packet::ConnAck(connack(&mut reader)?),
        PacketType::Publish => Packet::Publish(publish(header.flags, &mut reader)?),
        PacketType::PubAck => Packet::PubAck(packet_id(&mut reader)?),
        PacketType::PubRec => Packet::PubRec(packet_id(&mut reader)?),
        PacketType::PubRel => Packet::PubRel(packet_id(&mut reader)?),
        PacketType::PubComp => Packet::PubComp(packet_id(&mut reader)?),
        PacketType::Subscribe => Packet::Subscribe(subscribe(&mut reader)?),
        PacketType::SubAck => Packet::SubAck(suback(&mut reader)?),
        PacketType::Unsubscribe => Packet::Unsubscribe(unsubscribe(&mut reader)?),
        PacketType::UnsubAck => Packet::UnsubAck(packet_id(&mut reader)?),
        PacketType::PingReq => Packet::PingReq,
        PacketType::PingResp => Packet::PingResp,
        PacketType::Disconnect => Packet::Disconnect,
    };
    if reader.is_empty() {
        Ok(packet)
    } else {
        Err(DecodeError::LengthMismatch)
    }
}

fn u8_field(reader: &mut Reader<'_>) -> Result<u8, DecodeError> {
    reader.u8().ok_or(DecodeError::LengthMismatch)
}

fn u16_field(reader: &mut Reader<'_>) -> Result<u16, DecodeError> {
    reader.u16().ok_or(DecodeError::LengthMismatch)
}

fn binary_field<'a>(reader: &mut Reader<'a>) -> Result<&'a [u8], DecodeError> {
    reader.binary().ok_or(DecodeError::LengthMismatch)
}

fn string_field<'a>(reader: &mut Reader<'a>) -> Result<&'a str, DecodeError> {
    Ok(validate::utf8_string(binary_field(reader)?)?)
}

fn packet_id(reader: &mut Reader<'_>) -> Result<u16, DecodeError> {
    Ok(validate::packet_id(u16_field(reader)?)?)
}

const FLAG_CLEAN_SESSION: u8 = 0b0000_0010;
const FLAG_WILL: u8 = 0b0000_0100;
const FLAG_WILL_RETAIN: u8 = 0b0010_0000;
const FLAG_PASSWORD: u8 = 0b0100_0000;
const FLAG_USERNAME: u8 = 0b1000_0000;
const FLAG_RESERVED: u8 = 0b0000_0001;

fn connect<'a>(reader: &mut Reader<'a>) -> Result<Connect<'a>, DecodeError> {
    let name = binary_field(reader)?;
    let protocol = Protocol::from_level(u8_field(reader)?)?;
    if name != protocol.name().as_bytes() {
        return Err(FieldError::InvalidProtocol.into());
    }
    let flags = u8_field(reader)?;
    if flags & FLAG_RESERVED != 0 {
        return Err(DecodeError::ReservedBits);
    }
    let has_will = flags & FLAG_WILL != 0;
    let will_qos = QoS::from_u8((flags >> 3) & 0b11)?;
    let will_retain = flags & FLAG_WILL_RETAIN != 0;
    if !has_will && (will_qos != QoS::AtMostOnce || will_retain) {
        return Err(DecodeError::WillFlags);
    }
    let has_username = flags & FLAG_USERNAME != 0;
    let has_password = flags & FLAG_PASSWORD != 0;
    if has_password && !has_username {
        return Err(FieldError::PasswordWithoutUser.into());
    }
    let keep_alive = u16_field(reader)?;
    let client_id = string_field(reader)?;
    let will = if has_will {
        let topic = string_field(reader)?;
        validate::topic_name(topic.as_bytes())?;
        let message = binary_field(reader)?;
        Some(LastWill {
            topic,
            message,
            qos: will_qos,
            retain: will_retain,
        })
    } else {
        None
    };
    let username = if has_username {
        Some(string_field(reader)?)
    } else {
        None
    };
    let password = if has_password {
        Some(binary_field(reader)?)
    } else {
        None
    };
    Ok(Connect {
        protocol,
        clean_session: flags & FLAG_CLEAN_SESSION != 0,
        keep_alive,
        client_id,
        will,
        username,
        password,
    })
}

fn connack(reader: &mut Reader<'_>) -> Result<ConnAck, DecodeError> {
    let ack_flags = u8_field(reader)?;
    if ack_flags & 0xFE != 0 {
        return Err(DecodeError::ReservedBits);
    }
    let code = ConnectReturnCode::from_u8(u8_field(reader)?)?;
    Ok(ConnAck {
        session_present: ack_flags & 1 != 0,
        code,
    })
}

fn publish<'a>(flags: u8, reader: &mut Reader<'a>) -> Result<Publish<'a>, DecodeError> {
    let qos = QoS::from_u8((flags >> 1) & 0b11)?;
    // bytes, as the device keeps them; the string rules first, as for
    // every other string field
    let topic = binary_field(reader)?;
    validate::string_bytes(topic)?;
    validate::topic_name_rules(topic)?;
    let qos_pid = match qos {
        QoS::AtMostOnce => QosPid::AtMostOnce,
        QoS::AtLeastOnce => QosPid::AtLeastOnce(packet_id(reader)?),
        QoS::ExactlyOnce => QosPid::ExactlyOnce(packet_id(reader)?),
    };
    let payload = reader.remaining();
    let _ = reader.take(payload.len());
    Ok(Publish {
        dup: flags & 0b1000 != 0,
        qos_pid,
        retain: flags & 1 != 0,
        topic,
        payload,
    })
}

/// Validates a run of filters, each optionally followed by a subscription-options byte.
fn filter_list<'a>(
    reader: &mut Reader<'a>,
    with_options: bool,
) -> Result<WireList<'a>, DecodeError> {
    let bytes = reader.remaining();
    let mut count = 0usize;
    while !reader.is_empty() {
        validate::topic_filter(binary_field(reader)?)?;
        if with_options {
            let options = u8_field(reader)?;
            if options & 0xFC != 0 {
                return Err(DecodeError::ReservedBits);
            }
            QoS::from_u8(options)?;
        }
        count = count.saturating_add(1);
    }
    if count == 0 {
        return Err(FieldError::NoTopics.into());
    }
    Ok(WireList { bytes })
}

fn subscribe<'a>(reader: &mut Reader<'a>) -> Result<Subscribe<'a>, DecodeError> {
    let packet_id = packet_id(reader)?;
    let list = filter_list(reader, true)?;
    Ok(Subscribe {
        packet_id,
        topics: SubscribeTopics::Wire(list),
    })
}

fn unsubscribe<'a>(reader: &mut Reader<'a>) -> Result<Unsubscribe<'a>, DecodeError> {
    let packet_id = packet_id(reader)?;
    let list = filter_list(reader, false)?;
    Ok(Unsubscribe {
        packet_id,
        topics: UnsubscribeTopics::Wire(list),
    })
}

fn suback<'a>(reader: &mut Reader<'a>) -> Result<SubAck<'a>, DecodeError> {
    let packet_id = packet_id(reader)?;
    let return_codes = reader.remaining();
    let _ = reader.take(return_codes.len());
    if return_codes.is_empty() {
        return Err(FieldError::NoTopics.into());
    }
    for &code in return_codes {
        SubackReturnCode::from_u8(code)?;
    }
    Ok(SubAck {
        packet_id,
        return_codes,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn from_server_refuses_client_packets_without_parsing_them() {
        // CONNECT (well formed), SUBSCRIBE with a body that would not parse,
        // PINGREQ, DISCONNECT, UNSUBSCRIBE: each refused by type
        let connect = [0x10, 0x0c, 0, 4, b'M', b'Q', b'T', b'T', 4, 2, 0, 60, 0, 0];
        assert!(matches!(decode(&connect), Ok(Status::Complete(_))));
        let cases: [(&[u8], PacketType); 5] = [
            (&connect, PacketType::Connect),
            (&[0x82, 0x02, 0xff, 0xff], PacketType::Subscribe),
            (&[0xc0, 0x00], PacketType::PingReq),
            (&[0xe0, 0x00], PacketType::Disconnect),
            (&[0xa2, 0x02, 0, 1], PacketType::Unsubscribe),
        ];
        for (buf, t) in cases {
            assert_eq!(
                decode_from_server(buf).err(),
                Some(DecodeError::UnexpectedPacket(t))
            );
        }
        // only once the whole packet is there (it is skipped whole)
        assert_eq!(decode_from_server(&connect[..5]), Ok(Status::Partial(9)));
        // what a server sends decodes as with decode()
        let puback = [0x40, 0x02, 0, 7];
        assert_eq!(decode_from_server(&puback), decode(&puback));
    }

    fn complete(buf: &[u8]) -> Packet<'_> {
        match decode(buf).unwrap() {
            Status::Complete((packet, used)) => {
                assert_eq!(used, buf.len());
                packet
            }
            Status::Partial(n) => panic!("partial {n}"),
        }
    }

    #[test]
    fn simple_packets() {
        assert_eq!(complete(&[0xC0, 0x00]), Packet::PingReq);
        assert_eq!(complete(&[0xD0, 0x00]), Packet::PingResp);
        assert_eq!(complete(&[0xE0, 0x00]), Packet::Disconnect);
        assert_eq!(complete(&[0x40, 0x02, 0x12, 0x34]), Packet::PubAck(0x1234));
        assert_eq!(complete(&[0x62, 0x02, 0x00, 0x01]), Packet::PubRel(1));
    }

    #[test]
    fn partial_reports_needed_bytes() {
        assert_eq!(decode(&[]), Ok(Status::Partial(2)));
        assert_eq!(decode(&[0x30]), Ok(Status::Partial(1)));
        assert_eq!(decode(&[0x30, 0x05, 0x00]), Ok(Status::Partial(4)));
        assert_eq!(decode(&[0x30, 0x80]), Ok(Status::Partial(1)));
    }

    #[test]
    fn reserved_flags() {
        assert_eq!(decode(&[0x60, 0x02, 0, 1]), Err(DecodeError::ReservedFlags));
        assert_eq!(decode(&[0x80, 0x05]), Err(DecodeError::ReservedFlags));
        assert_eq!(decode(&[0xA0]), Err(DecodeError::ReservedFlags));
        assert_eq!(decode(&[0xC1, 0x00]), Err(DecodeError::ReservedFlags));
        assert_eq!(decode(&[0x38]), Err(DecodeError::ReservedFlags));
        assert_eq!(decode(&[0x00, 0x00]), Err(DecodeError::InvalidPacketType));
        assert_eq!(decode(&[0xF0, 0x00]), Err(DecodeError::InvalidPacketType));
    }

    #[test]
    fn publish_qos3_is_rejected() {
        assert_eq!(
            decode(&[0x36, 0x00]),
            Err(DecodeError::Field(FieldError::InvalidQos))
        );
    }

    #[test]
    fn publish_topic_rules() {
        assert_eq!(
            decode(&[0x30, 0x03, 0x00, 0x01, b'#']),
            Err(FieldError::WildcardInTopic.into())
        );
        assert_eq!(
            decode(&[0x30, 0x02, 0x00, 0x00]),
            Err(FieldError::EmptyTopic.into())
        );
        assert_eq!(
            decode(&[0x30, 0x03, 0x00, 0x01, 0xFF]),
            Err(FieldError::InvalidUtf8.into())
        );
        assert_eq!(
            decode(&[0x30, 0x03, 0x00, 0x01, 0x00]),
            Err(FieldError::NullCharacter.into())
        );
        // QoS 1 with packet id 0.
        assert_eq!(
            decode(&[0x32, 0x05, 0x00, 0x01, b'a', 0x00, 0x00]),
            Err(FieldError::ZeroPacketId.into())
        );
        // Topic length runs past the remaining length.
        assert_eq!(
            decode(&[0x30, 0x03, 0x00, 0x05, b'a']),
            Err(DecodeError::LengthMismatch)
        );
    }

    #[test]
    fn connack_checks() {
        assert_eq!(
            complete(&[0x20, 0x02, 0x01, 0x00]),
            Packet::ConnAck(ConnAck {
                session_present: true,
                code: ConnectReturnCode::Accepted
            })
        );
        assert_eq!(
            decode(&[0x20, 0x02, 0x02, 0x00]),
            Err(DecodeError::ReservedBits)
        );
        assert_eq!(
            decode(&[0x20, 0x02, 0x00, 0x06]),
            Err(FieldError::InvalidReturnCode.into())
        );
        assert_eq!(
            decode(&[0x20, 0x03, 0x00, 0x00, 0x00]),
            Err(DecodeError::LengthMismatch)
        );
    }

    #[test]
    fn suback_codes() {
        let packet = complete(&[0x90, 0x05, 0x00, 0x07, 0x00, 0x02, 0x80]);
        let Packet::SubAck(ack) = packet else {
            panic!("not a suback")
        };
        assert_eq!(ack.packet_id, 7);
        let codes: [SubackReturnCode; 3] = [
            SubackReturnCode::Success(QoS::AtMostOnce),
            SubackReturnCode::Success(QoS::ExactlyOnce),
            SubackReturnCode::Failure,
        ];
        assert!(ack.codes().eq(codes.iter().copied()));
        assert_eq!(
            decode(&[0x90, 0x03, 0x00, 0x07, 0x03]),
            Err(FieldError::InvalidReturnCode.into())
        );
        assert_eq!(
            decode(&[0x90, 0x02, 0x00, 0x07]),
            Err(FieldError::NoTopics.into())
        );
    }

    #[test]
    fn subscribe_checks() {
        let good = [0x82, 0x06, 0x00, 0x01, 0x00, 0x01, b'#', 0x01];
        let Packet::Subscribe(sub) = complete(&good) else {
            panic!("not a subscribe")
        };
        let first = sub.topics.iter().next().unwrap();
        assert_eq!((first.filter, first.qos), (&b"#"[..], QoS::AtLeastOnce));
        let mut bad_options = good;
        bad_options[7] = 0x05;
        assert_eq!(decode(&bad_options), Err(DecodeError::ReservedBits));
        let mut qos3 = good;
        qos3[7] = 0x03;
        assert_eq!(decode(&qos3), Err(FieldError::InvalidQos.into()));
        let bad_filter = [0x82, 0x07, 0x00, 0x01, 0x00, 0x02, b'#', b'a', 0x01];
        assert_eq!(
            decode(&bad_filter),
            Err(FieldError::InvalidTopicFilter.into())
        );
        assert_eq!(
            decode(&[0x82, 0x02, 0x00, 0x01]),
            Err(FieldError::NoTopics.into())
        );
    }

    #[test]
    fn trailing_bytes_are_rejected() {
        assert_eq!(
            decode(&[0xC0, 0x01, 0x00]),
            Err(DecodeError::LengthMismatch)
        );
        assert_eq!(
            decode(&[0x40, 0x03, 0x00, 0x01, 0x00]),
            Err(DecodeError::LengthMismatch)
        );
        assert_eq!(
            decode(&[0x40, 0x01, 0x00]),
            Err(DecodeError::LengthMismatch)
        );
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod fixed_length_tests {
    use super::*;

    /// A fixed-size packet announcing a longer body is rejected from its
    /// header: waiting for the announced bytes would stall the client
    /// (found by the hostile-broker suite: CONNACK/PUBACK announcing 100).
    #[test]
    fn fixed_size_packets_must_announce_their_size() {
        for header in [
            [0x20u8, 0x64],
            [0x40, 0x64],
            [0x50, 0x03],
            [0x62, 0x01],
            [0x70, 0x00],
            [0xB0, 0x04],
        ] {
            assert_eq!(
                decode(&header),
                Err(DecodeError::LengthMismatch),
                "{header:02x?}"
            );
            assert_eq!(
                decode_fixed_header(&header),
                Err(DecodeError::LengthMismatch)
            );
        }
        for header in [[0xC0u8, 0x01], [0xD0, 0x02], [0xE0, 0x7F]] {
            assert_eq!(
                decode(&header),
                Err(DecodeError::LengthMismatch),
                "{header:02x?}"
            );
        }
        // the right sizes still wait for their body or decode
        assert_eq!(decode(&[0x20, 0x02, 0x00]), Ok(Status::Partial(1)));
        assert!(matches!(
            decode(&[0xD0, 0x00]),
            Ok(Status::Complete((Packet::PingResp, 2)))
        ));
    }
}
