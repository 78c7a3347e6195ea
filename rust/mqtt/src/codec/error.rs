//! Typed codec errors.

/// A field whose value breaks an MQTT rule, whichever direction it travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldError {
    /// String bytes are not UTF-8.
    InvalidUtf8,
    /// String contains U+0000, which MQTT forbids.
    NullCharacter,
    /// String or binary field longer than 65535 bytes.
    StringTooLong,
    /// PUBLISH / will topic is empty.
    EmptyTopic,
    /// `+` or `#` in a topic name (only filters may hold them).
    WildcardInTopic,
    /// Topic filter empty, `#` not last, or a wildcard not a whole level.
    InvalidTopicFilter,
    /// Packet identifier 0 where one is required.
    ZeroPacketId,
    /// QoS value 3.
    InvalidQos,
    /// CONNACK return code above 5, or SUBACK code not 0, 1, 2 or 0x80.
    InvalidReturnCode,
    /// CONNECT carries a password but no user name.
    PasswordWithoutUser,
    /// CONNECT protocol name/level not ("MQTT", 4) or ("MQIsdp", 3).
    InvalidProtocol,
    /// SUBSCRIBE / UNSUBSCRIBE / SUBACK without a single entry.
    NoTopics,
}

/// Why bytes could not be decoded as an MQTT packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeError {
    /// Remaining length needs more than 4 bytes.
    RemainingLength,
    /// Packet type 0 or 15.
    InvalidPacketType,
    /// Fixed-header flag bits wrong for the packet type.
    ReservedFlags,
    /// Reserved bits set in CONNECT flags, CONNACK ack flags or subscription options.
    ReservedBits,
    /// Field lengths disagree with the remaining length (truncated or trailing bytes).
    LengthMismatch,
    /// Will QoS or will retain set without the will flag.
    WillFlags,
    /// A field's value is invalid.
    Field(FieldError),
    /// A packet type the decoding side never receives (a client-only type
    /// given to [`super::decode_from_server`]); its body was not parsed.
    UnexpectedPacket(super::PacketType),
}

impl From<FieldError> for DecodeError {
    fn from(error: FieldError) -> Self {
        DecodeError::Field(error)
    }
}

/// Why a packet could not be encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncodeError {
    /// The output slice is too short; `needed` is the full encoded size.
    BufferTooSmall { needed: usize },
    /// The packet would exceed the 268435455-byte remaining length limit.
    PacketTooLarge,
    /// DUP set on a QoS 0 PUBLISH, which [MQTT-3.3.1-2] forbids.
    DupWithQos0,
    /// A field's value is invalid.
    Field(FieldError),
}

impl From<FieldError> for EncodeError {
    fn from(error: FieldError) -> Self {
        EncodeError::Field(error)
    }
}
