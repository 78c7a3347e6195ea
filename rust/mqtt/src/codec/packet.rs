//! The 14 MQTT 3.1.1 control packets, borrowing their strings and payloads.

use super::bytes::Reader;
use super::error::FieldError;

/// Control packet type, the high nibble of the first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacketType {
    Connect = 1,
    ConnAck = 2,
    Publish = 3,
    PubAck = 4,
    PubRec = 5,
    PubRel = 6,
    PubComp = 7,
    Subscribe = 8,
    SubAck = 9,
    Unsubscribe = 10,
    UnsubAck = 11,
    PingReq = 12,
    PingResp = 13,
    Disconnect = 14,
}

impl PacketType {
    /// `None` for the reserved values 0 and 15.
    pub fn from_nibble(nibble: u8) -> Option<Self> {
        Some(match nibble {
            1 => PacketType::Connect,
            2 => PacketType::ConnAck,
            3 => PacketType::Publish,
            4 => PacketType::PubAck,
            5 => PacketType::PubRec,
            6 => PacketType::PubRel,
            7 => PacketType::PubComp,
            8 => PacketType::Subscribe,
            9 => PacketType::SubAck,
            10 => PacketType::Unsubscribe,
            11 => PacketType::UnsubAck,
            12 => PacketType::PingReq,
            13 => PacketType::PingResp,
            14 => PacketType::Disconnect,
            _ => return None,
        })
    }

    /// Flag bits every packet type but PUBLISH must carry exactly.
    pub fn required_flags(self) -> Option<u8> {
        match self {
            PacketType::Publish => None,
            PacketType::PubRel | PacketType::Subscribe | PacketType::Unsubscribe => Some(0b0010),
            _ => Some(0),
        }
    }
}

/// Quality of service level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum QoS {
    AtMostOnce = 0,
    AtLeastOnce = 1,
    ExactlyOnce = 2,
}

impl QoS {
    pub fn from_u8(value: u8) -> Result<Self, FieldError> {
        match value {
            0 => Ok(QoS::AtMostOnce),
            1 => Ok(QoS::AtLeastOnce),
            2 => Ok(QoS::ExactlyOnce),
            _ => Err(FieldError::InvalidQos),
        }
    }

    pub fn as_u8(self) -> u8 {
        self as u8
    }
}

/// A PUBLISH's QoS together with its packet id, which exists only for QoS 1 and 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QosPid {
    AtMostOnce,
    AtLeastOnce(u16),
    ExactlyOnce(u16),
}

impl QosPid {
    pub fn qos(self) -> QoS {
        match self {
            QosPid::AtMostOnce => QoS::AtMostOnce,
            QosPid::AtLeastOnce(_) => QoS::AtLeastOnce,
            QosPid::ExactlyOnce(_) => QoS::ExactlyOnce,
        }
    }

    pub fn packet_id(self) -> Option<u16> {
        match self {
            QosPid::AtMostOnce => None,
            QosPid::AtLeastOnce(id) | QosPid::ExactlyOnce(id) => Some(id),
        }
    }

    /// Pairs `qos` with `packet_id` (ignored for QoS 0).
    pub fn new(qos: QoS, packet_id: u16) -> Self {
        match qos {
            QoS::AtMostOnce => QosPid::AtMostOnce,
            QoS::AtLeastOnce => QosPid::AtLeastOnce(packet_id),
            QoS::ExactlyOnce => QosPid::ExactlyOnce(packet_id),
        }
    }
}

/// Protocol name and level of a CONNECT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// MQTT 3.1: name "MQIsdp", level 3.
    V31,
    /// MQTT 3.1.1: name "MQTT", level 4.
    V311,
}

impl Protocol {
    pub fn from_level(level: u8) -> Result<Self, FieldError> {
        match level {
            3 => Ok(Protocol::V31),
            4 => Ok(Protocol::V311),
            _ => Err(FieldError::InvalidProtocol),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Protocol::V31 => "MQIsdp",
            Protocol::V311 => "MQTT",
        }
    }

    pub fn level(self) -> u8 {
        match self {
            Protocol::V31 => 3,
            Protocol::V311 => 4,
        }
    }
}

/// Message the server publishes if the client vanishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LastWill<'a> {
    pub topic: &'a str,
    pub message: &'a [u8],
    pub qos: QoS,
    pub retain: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Connect<'a> {
    pub protocol: Protocol,
    pub clean_session: bool,
    pub keep_alive: u16,
    pub client_id: &'a str,
    pub will: Option<LastWill<'a>>,
    pub username: Option<&'a str>,
    pub password: Option<&'a [u8]>,
}

/// CONNACK return code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectReturnCode {
    Accepted = 0,
    UnacceptableProtocolVersion = 1,
    IdentifierRejected = 2,
    ServerUnavailable = 3,
    BadUserNameOrPassword = 4,
    NotAuthorized = 5,
}

impl ConnectReturnCode {
    pub fn from_u8(code: u8) -> Result<Self, FieldError> {
        Ok(match code {
            0 => ConnectReturnCode::Accepted,
            1 => ConnectReturnCode::UnacceptableProtocolVersion,
            2 => ConnectReturnCode::IdentifierRejected,
            3 => ConnectReturnCode::ServerUnavailable,
            4 => ConnectReturnCode::BadUserNameOrPassword,
            5 => ConnectReturnCode::NotAuthorized,
            _ => return Err(FieldError::InvalidReturnCode),
        })
    }

    pub fn as_u8(self) -> u8 {
        self as u8
    }

    /// Refusals a retry cannot fix; "server unavailable" is worth retrying.
    pub fn is_permanent(self) -> bool {
        !matches!(
            self,
            ConnectReturnCode::Accepted | ConnectReturnCode::ServerUnavailable
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnAck {
    pub session_present: bool,
    pub code: ConnectReturnCode,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Publish<'a> {
    pub dup: bool,
    pub qos_pid: QosPid,
    pub retain: bool,
    /// Valid UTF-8 once decoded or encoded (checked then, kept as bytes).
    pub topic: &'a [u8],
    pub payload: &'a [u8],
}

impl<'a> Publish<'a> {
    /// The topic as `&str` (for std users; the device keeps bytes), `""`
    /// if a caller built this packet with a topic that is not UTF-8.
    pub fn topic_str(&self) -> &'a str {
        core::str::from_utf8(self.topic).unwrap_or_default()
    }
}

/// One SUBSCRIBE entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubscribeTopic<'a> {
    /// Valid UTF-8 once decoded or encoded (checked then, kept as bytes).
    pub filter: &'a [u8],
    pub qos: QoS,
}

impl<'a> SubscribeTopic<'a> {
    /// The filter as `&str` (for std users; the device keeps bytes), `""`
    /// if a caller built this entry with a filter that is not UTF-8.
    pub fn filter_str(&self) -> &'a str {
        core::str::from_utf8(self.filter).unwrap_or_default()
    }
}

/// SUBSCRIBE entries: either still on the wire (decoded, already validated) or
/// a caller's slice (to encode). Without an allocator neither form can become the other.
#[derive(Debug, Clone, Copy)]
pub enum SubscribeTopics<'a> {
    Wire(WireList<'a>),
    Slice(&'a [SubscribeTopic<'a>]),
}

/// UNSUBSCRIBE filters, in the same two forms as [`SubscribeTopics`].
#[derive(Debug, Clone, Copy)]
pub enum UnsubscribeTopics<'a> {
    Wire(WireList<'a>),
    Slice(&'a [&'a str]),
}

/// A validated run of length-prefixed strings, each followed by `trailer` bytes.
/// Only the decoder builds one, so iteration can trust the layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WireList<'a> {
    pub(crate) bytes: &'a [u8],
}

impl<'a> WireList<'a> {
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }
}

impl<'a> SubscribeTopics<'a> {
    pub fn iter(&self) -> SubscribeIter<'a> {
        match *self {
            SubscribeTopics::Wire(list) => {
                SubscribeIter(SubscribeSource::Wire(Reader::new(list.bytes)))
            }
            SubscribeTopics::Slice(topics) => SubscribeIter(SubscribeSource::Slice(topics.iter())),
        }
    }

    pub fn count(&self) -> usize {
        self.iter().count()
    }
}

impl<'a> UnsubscribeTopics<'a> {
    pub fn iter(&self) -> UnsubscribeIter<'a> {
        match *self {
            UnsubscribeTopics::Wire(list) => {
                UnsubscribeIter(UnsubscribeSource::Wire(Reader::new(list.bytes)))
            }
            UnsubscribeTopics::Slice(filters) => {
                UnsubscribeIter(UnsubscribeSource::Slice(filters.iter()))
            }
        }
    }

    pub fn count(&self) -> usize {
        self.iter().count()
    }
}

impl PartialEq for SubscribeTopics<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for SubscribeTopics<'_> {}

impl PartialEq for UnsubscribeTopics<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for UnsubscribeTopics<'_> {}

/// Iterator over [`SubscribeTopics`].
pub struct SubscribeIter<'a>(SubscribeSource<'a>);

enum SubscribeSource<'a> {
    Wire(Reader<'a>),
    Slice(core::slice::Iter<'a, SubscribeTopic<'a>>),
}

impl<'a> Iterator for SubscribeIter<'a> {
    type Item = SubscribeTopic<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.0 {
            SubscribeSource::Wire(reader) => {
                let filter = reader.binary()?;
                let qos = QoS::from_u8(reader.u8()?).ok()?;
                Some(SubscribeTopic { filter, qos })
            }
            SubscribeSource::Slice(iter) => iter.next().copied(),
        }
    }
}

/// Iterator over [`UnsubscribeTopics`].
pub struct UnsubscribeIter<'a>(UnsubscribeSource<'a>);

enum UnsubscribeSource<'a> {
    Wire(Reader<'a>),
    Slice(core::slice::Iter<'a, &'a str>),
}

impl<'a> Iterator for UnsubscribeIter<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.0 {
            UnsubscribeSource::Wire(reader) => core::str::from_utf8(reader.binary()?).ok(),
            UnsubscribeSource::Slice(iter) => iter.next().copied(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subscribe<'a> {
    pub packet_id: u16,
    pub topics: SubscribeTopics<'a>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unsubscribe<'a> {
    pub packet_id: u16,
    pub topics: UnsubscribeTopics<'a>,
}

/// One SUBACK entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubackReturnCode {
    Success(QoS),
    Failure,
}

impl SubackReturnCode {
    pub const FAILURE: u8 = 0x80;

    pub fn from_u8(code: u8) -> Result<Self, FieldError> {
        match code {
            Self::FAILURE => Ok(SubackReturnCode::Failure),
            other => QoS::from_u8(other)
                .map(SubackReturnCode::Success)
                .map_err(|_| FieldError::InvalidReturnCode),
        }
    }

    pub fn as_u8(self) -> u8 {
        match self {
            SubackReturnCode::Success(qos) => qos.as_u8(),
            SubackReturnCode::Failure => Self::FAILURE,
        }
    }
}

/// SUBACK; its return codes are one byte each, so the wire bytes are the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubAck<'a> {
    pub packet_id: u16,
    /// Each byte 0, 1, 2 or 0x80 (checked by both decoder and encoder).
    pub return_codes: &'a [u8],
}

impl SubAck<'_> {
    pub fn codes(&self) -> impl Iterator<Item = SubackReturnCode> + '_ {
        self.return_codes
            .iter()
            .filter_map(|&code| SubackReturnCode::from_u8(code).ok())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Packet<'a> {
    Connect(Connect<'a>),
    ConnAck(ConnAck),
    Publish(Publish<'a>),
    PubAck(u16),
    PubRec(u16),
    PubRel(u16),
    PubComp(u16),
    Subscribe(Subscribe<'a>),
    SubAck(SubAck<'a>),
    Unsubscribe(Unsubscribe<'a>),
    UnsubAck(u16),
    PingReq,
    PingResp,
    Disconnect,
}

impl Packet<'_> {
    pub fn packet_type(&self) -> PacketType {
        match self {
            Packet::Connect(_) => PacketType::Connect,
            Packet::ConnAck(_) => PacketType::ConnAck,
            Packet::Publish(_) => PacketType::Publish,
            Packet::PubAck(_) => PacketType::PubAck,
            Packet::PubRec(_) => PacketType::PubRec,
            Packet::PubRel(_) => PacketType::PubRel,
            Packet::PubComp(_) => PacketType::PubComp,
            Packet::Subscribe(_) => PacketType::Subscribe,
            Packet::SubAck(_) => PacketType::SubAck,
            Packet::Unsubscribe(_) => PacketType::Unsubscribe,
            Packet::UnsubAck(_) => PacketType::UnsubAck,
            Packet::PingReq => PacketType::PingReq,
            Packet::PingResp => PacketType::PingResp,
            Packet::Disconnect => PacketType::Disconnect,
        }
    }
}
