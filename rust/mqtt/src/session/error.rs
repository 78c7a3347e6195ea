//! Errors of the client session.

use crate::codec::{ConnectReturnCode, DecodeError, EncodeError, PacketType};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionError {
    /// Received bytes are not a valid packet.
    Decode(DecodeError),
    /// An outgoing packet was invalid or did not fit the caller's buffer.
    Encode(EncodeError),
    /// A packet a client must never receive, or one that does not fit the
    /// connection state (anything before CONNACK, CONNACK when not connecting).
    UnexpectedPacket(PacketType),
    /// Publish/subscribe/ping/retransmit before a CONNACK accepted the connection.
    NotConnected,
    /// The server refused the connection.
    Refused(ConnectReturnCode),
    /// All outgoing QoS 1/2 slots are taken.
    InflightFull,
    /// The caller's limit of messages queued while offline is reached.
    QueueFull,
    /// Too many SUBSCRIBE/UNSUBSCRIBE requests awaiting their ack, or the
    /// request records (waiters) are full: wait for answers and retry.
    PendingFull,
    /// The subscription table would exceed its filter count or byte cap, or
    /// the caller's arena is too small for it.
    TooManySubscriptions,
    /// A login is already in progress.
    Busy,
    /// Too many inbound QoS 2 messages awaiting PUBREL.
    InboundFull,
    /// No outgoing message occupies this slot.
    NoSuchSlot,
    /// Client id over 23 bytes with MQTT 3.1, or over 65535 bytes.
    ClientIdTooLong,
    /// A SUBACK's return-code count differs from the filters we subscribed.
    SubackCountMismatch,
}

impl From<DecodeError> for SessionError {
    fn from(error: DecodeError) -> Self {
        match error {
            DecodeError::UnexpectedPacket(t) => SessionError::UnexpectedPacket(t),
            other => SessionError::Decode(other),
        }
    }
}

impl From<EncodeError> for SessionError {
    fn from(error: EncodeError) -> Self {
        SessionError::Encode(error)
    }
}
