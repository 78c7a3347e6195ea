//! The crate-wide error type.

use core::fmt;

use crate::time::TimeError;
use crate::validate::IdError;

/// Why an IoTDA value could not be produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// The caller's buffer is shorter than `needed` bytes; nothing useful was
    /// written.
    BufferTooSmall { needed: usize },
    /// The device id cannot be used in a ClientId or topic.
    DeviceId(IdError),
    /// The request id cannot be used in a topic.
    RequestId(IdError),
    /// The custom (`user/...`) topic name cannot be used.
    TopicName(IdError),
    /// The time is outside 1970-01-01T00:00:00Z..=9999-12-31T23:59:59Z or a
    /// stamp is malformed.
    Time(TimeError),
    /// [`crate::Topic::NotOurs`] was passed to a builder.
    NotBuildable,
}

impl From<TimeError> for Error {
    fn from(e: TimeError) -> Self {
        Error::Time(e)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::BufferTooSmall { needed } => {
                write!(f, "buffer too small: {needed} bytes needed")
            }
            Error::DeviceId(e) => write!(f, "invalid device id: {e}"),
            Error::RequestId(e) => write!(f, "invalid request id: {e}"),
            Error::TopicName(e) => write!(f, "invalid custom topic name: {e}"),
            Error::Time(e) => write!(f, "{e}"),
            Error::NotBuildable => f.write_str("this topic cannot be built"),
        }
    }
}

impl core::error::Error for Error {}
