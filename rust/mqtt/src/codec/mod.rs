//! MQTT 3.1.1 wire format: all 14 control packets, both directions.

mod bytes;
pub mod decode;
pub mod encode;
pub mod error;
pub mod packet;
pub mod validate;
pub mod varint;

pub use decode::{decode, decode_fixed_header, decode_from_server, FixedHeader, Status};
pub use encode::{
    encode_ack, encode_connect, encode_empty, encode_publish, encode_publish_header,
    encode_subscribe, encode_unsubscribe, packet_len, publish_header_len,
};
pub use error::{DecodeError, EncodeError, FieldError};
pub use packet::{
    ConnAck, Connect, ConnectReturnCode, LastWill, Packet, PacketType, Protocol, Publish, QoS,
    QosPid, SubAck, SubackReturnCode, Subscribe, SubscribeTopic, SubscribeTopics, Unsubscribe,
    UnsubscribeTopics,
};
