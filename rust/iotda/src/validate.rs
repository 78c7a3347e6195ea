//! Identifiers that end up inside a topic or the ClientId.
//!
//! A device id or request id containing `/`, `+`, `#` or NUL would produce an
//! invalid MQTT topic, a wildcard, or a topic in another device's tree
//! (`id = "other/sys"`), so they are rejected before anything is written.

use core::fmt;

/// Longest accepted device id, in bytes.
pub const MAX_DEVICE_ID_LEN: usize = 128;
/// Longest accepted request id, in bytes.
pub const MAX_REQUEST_ID_LEN: usize = 128;
/// Longest accepted custom topic name (the part after `user/`), in bytes.
pub const MAX_TOPIC_NAME_LEN: usize = 128;

/// Why an identifier was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdError {
    /// Zero length.
    Empty,
    /// Longer than `max` bytes.
    TooLong { len: usize, max: usize },
    /// Contains `byte` (one of `/ + # NUL`) at offset `at`.
    Forbidden { byte: u8, at: usize },
    /// Not valid UTF-8 (MQTT topics must be).
    NotUtf8,
}

impl fmt::Display for IdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IdError::Empty => f.write_str("empty"),
            IdError::TooLong { len, max } => write!(f, "{len} bytes, at most {max} allowed"),
            IdError::Forbidden { byte, at } => {
                write!(f, "forbidden byte 0x{byte:02x} at offset {at}")
            }
            IdError::NotUtf8 => f.write_str("not valid UTF-8"),
        }
    }
}

impl core::error::Error for IdError {}

fn check(id: &[u8], max: usize, allow_slash: bool) -> Result<&[u8], IdError> {
    if id.is_empty() {
        return Err(IdError::Empty);
    }
    if id.len() > max {
        return Err(IdError::TooLong { len: id.len(), max });
    }
    if let Some((at, &byte)) = id
        .iter()
        .enumerate()
        .find(|&(_, &b)| matches!(b, b'+' | b'#' | 0) || (b == b'/' && !allow_slash))
    {
        return Err(IdError::Forbidden { byte, at });
    }
    // bytes, not core::str::from_utf8: the device image then carries no copy of it
    if mqtt_core::codec::validate::is_utf8(id) {
        Ok(id)
    } else {
        Err(IdError::NotUtf8)
    }
}

/// A device id: 1..=128 bytes of UTF-8 without `/ + #` or NUL.
pub fn device_id(id: &[u8]) -> Result<&[u8], IdError> {
    check(id, MAX_DEVICE_ID_LEN, false)
}

/// A request id: 1..=128 bytes of UTF-8 without `/ + #` or NUL.
pub fn request_id(id: &[u8]) -> Result<&[u8], IdError> {
    check(id, MAX_REQUEST_ID_LEN, false)
}

/// A custom topic name (after `$oc/devices/{id}/user/`): 1..=128 bytes of
/// UTF-8 without `+ #` or NUL, where `/` separates levels but no level may be
/// empty (no leading, trailing or doubled `/`).
pub fn topic_name(name: &[u8]) -> Result<&[u8], IdError> {
    let s = check(name, MAX_TOPIC_NAME_LEN, true)?;
    if let Some(at) = empty_level(name) {
        return Err(IdError::Forbidden { byte: b'/', at });
    }
    Ok(s)
}

/// Offset of the `/` that starts or ends an empty level, if any.
fn empty_level(name: &[u8]) -> Option<usize> {
    let mut prev_slash = true; // a leading '/' makes an empty first level
    for (i, &b) in name.iter().enumerate() {
        if b == b'/' {
            if prev_slash {
                return Some(i);
            }
            prev_slash = true;
        } else {
            prev_slash = false;
        }
    }
    if prev_slash {
        // trailing '/' (name is non-empty, so the last byte is that slash)
        name.len().checked_sub(1)
    } else {
        None
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_ids() {
        assert_eq!(
            device_id(b"5fbbb784b4ec2202e982e643_868540050954037"),
            Ok(&b"5fbbb784b4ec2202e982e643_868540050954037"[..])
        );
        assert_eq!(request_id(b"abc-123=x"), Ok(&b"abc-123=x"[..]));
        assert_eq!(device_id("设备_1".as_bytes()), Ok("设备_1".as_bytes()));
        assert_eq!(device_id(&[b'a'; 128]).map(<[u8]>::len), Ok(128));
    }

    #[test]
    fn rejects_bad_ids() {
        assert_eq!(device_id(b""), Err(IdError::Empty));
        assert_eq!(
            device_id(&[b'a'; 129]),
            Err(IdError::TooLong { len: 129, max: 128 })
        );
        assert_eq!(
            device_id(b"a/b"),
            Err(IdError::Forbidden { byte: b'/', at: 1 })
        );
        assert_eq!(
            device_id(b"+"),
            Err(IdError::Forbidden { byte: b'+', at: 0 })
        );
        assert_eq!(
            request_id(b"x#"),
            Err(IdError::Forbidden { byte: b'#', at: 1 })
        );
        assert_eq!(
            request_id(b"x\0"),
            Err(IdError::Forbidden { byte: 0, at: 1 })
        );
        assert_eq!(device_id(&[0xff, b'a']), Err(IdError::NotUtf8));
        assert_eq!(
            request_id(&[b'1'; 129]),
            Err(IdError::TooLong { len: 129, max: 128 })
        );
    }

    #[test]
    fn topic_names() {
        assert_eq!(topic_name(b"a/b/c"), Ok(&b"a/b/c"[..]));
        assert_eq!(topic_name(b"temp"), Ok(&b"temp"[..]));
        for (bad, at) in [(&b"/a"[..], 0), (b"a/", 1), (b"a//b", 2), (b"/", 0)] {
            assert_eq!(
                topic_name(bad),
                Err(IdError::Forbidden { byte: b'/', at }),
                "{bad:?}"
            );
        }
        assert_eq!(
            topic_name(b"a/+"),
            Err(IdError::Forbidden { byte: b'+', at: 2 })
        );
        assert_eq!(topic_name(b""), Err(IdError::Empty));
    }
}
