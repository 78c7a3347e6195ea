//! Allocation-free, sans-IO MQTT 3.1 / 3.1.1 codec and client session.
//!
//! The caller owns all buffers and the socket: [`codec::decode`] parses bytes it
//! was handed, [`Packet::encode`] writes into a slice it was lent, and
//! [`session::Session`] turns packets into protocol state transitions.
#![no_std]
#![forbid(unsafe_code)]
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::unreachable,
    clippy::todo
)]

pub mod codec;
pub mod session;

#[cfg(test)]
extern crate std;

pub use codec::{
    decode, decode_fixed_header, DecodeError, EncodeError, FieldError, FixedHeader, Packet, Status,
};
pub use session::{Session, SessionError};
