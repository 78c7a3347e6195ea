//! Huawei Cloud IoTDA, device side: the protocol facts as allocation-free,
//! sans-IO functions.
//!
//! - [`time`]: UTC civil time from Unix seconds, the `YYYYMMDDHH` hour stamp
//!   and the `yyyyMMddTHHmmssZ` event time (and parsing them back).
//! - [`auth`]: secret authentication, ClientId / Username / Password
//!   (HMAC-SHA256, and HMAC-SM3 with SM3 for sign type 2).
//! - [`topic`]: every system topic, built into caller buffers and classified
//!   zero-copy.
//! - [`hash`]: SHA-256 and SM3 over one small frame, HMAC.
//! - [`sha256`]: incremental SHA-256 in a caller-owned state (OTA packages).
//! - [`validate`]: device ids, request ids and custom topic names that could
//!   produce an invalid or foreign topic are rejected.
//!
//! Every function writes into a buffer the caller lends and reports
//! [`Error::BufferTooSmall`] with the size it needed otherwise.
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

#[cfg(test)]
extern crate std;

pub mod auth;
mod error;
pub mod hash;
pub mod sha256;
pub mod sm3;
pub mod time;
pub mod topic;
pub mod validate;
mod write;

pub use auth::{
    credentials, credentials_for_hour, password, password_for, verify_password,
    verify_password_for, Credentials, SignType, PASSWORD_LEN,
};
pub use error::Error;
pub use time::{DateTime, TimeError};
pub use topic::{classify_for, parse, Kind, Subscription, Topic};
pub use validate::IdError;

/// Shortest MQTT keepalive IoTDA accepts, in seconds (CONNACK 2 below it).
pub const KEEPALIVE_MIN: u16 = 30;
/// Longest MQTT keepalive IoTDA accepts, in seconds (CONNACK 2 above it).
pub const KEEPALIVE_MAX: u16 = 1200;
