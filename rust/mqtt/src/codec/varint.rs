//! The fixed header's "remaining length": 7 bits per byte, at most 4 bytes.

use super::decode::Status;
use super::error::DecodeError;

/// Largest value 4 length bytes can carry.
pub const MAX_REMAINING_LENGTH: usize = 268_435_455;
/// Most bytes a remaining length may take.
pub const MAX_LENGTH_BYTES: usize = 4;

/// Bytes needed to encode `value`, or `None` above [`MAX_REMAINING_LENGTH`].
pub fn encoded_len(value: usize) -> Option<usize> {
    match value {
        0..=127 => Some(1),
        128..=16_383 => Some(2),
        16_384..=2_097_151 => Some(3),
        2_097_152..=MAX_REMAINING_LENGTH => Some(4),
        _ => None,
    }
}

/// Encodes `value` into a stack buffer; returns it with the number of bytes used.
pub fn encode(value: usize) -> Option<([u8; MAX_LENGTH_BYTES], usize)> {
    let len = encoded_len(value)?;
    let mut bytes = [0u8; MAX_LENGTH_BYTES];
    let mut rest = value;
    for byte in bytes.iter_mut().take(len) {
        // Masking keeps the cast lossless.
        let low = (rest & 0x7F) as u8;
        rest >>= 7;
        *byte = if rest > 0 { low | 0x80 } else { low };
    }
    Some((bytes, len))
}

/// Decodes a remaining length at the start of `bytes`: the value and the bytes it used.
///
/// `Partial(1)` while the continuation bit says more length bytes follow.
pub fn decode(bytes: &[u8]) -> Result<Status<(usize, usize)>, DecodeError> {
    let mut value: usize = 0;
    for (index, &byte) in bytes.iter().take(MAX_LENGTH_BYTES).enumerate() {
        let shift = index.checked_mul(7).ok_or(DecodeError::RemainingLength)?;
        let digit = usize::from(byte & 0x7F)
            .checked_shl(u32::try_from(shift).map_err(|_| DecodeError::RemainingLength)?)
            .ok_or(DecodeError::RemainingLength)?;
        value |= digit;
        if byte & 0x80 == 0 {
            let used = index.checked_add(1).ok_or(DecodeError::RemainingLength)?;
            return Ok(Status::Complete((value, used)));
        }
    }
    if bytes.len() >= MAX_LENGTH_BYTES {
        // Fourth byte still had its continuation bit set.
        Err(DecodeError::RemainingLength)
    } else {
        Ok(Status::Partial(1))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn boundaries_from_the_spec_table() {
        let cases: [(usize, &[u8]); 8] = [
            (0, &[0x00]),
            (127, &[0x7F]),
            (128, &[0x80, 0x01]),
            (16_383, &[0xFF, 0x7F]),
            (16_384, &[0x80, 0x80, 0x01]),
            (2_097_151, &[0xFF, 0xFF, 0x7F]),
            (2_097_152, &[0x80, 0x80, 0x80, 0x01]),
            (268_435_455, &[0xFF, 0xFF, 0xFF, 0x7F]),
        ];
        for (value, wire) in cases {
            let (bytes, len) = encode(value).unwrap();
            assert_eq!(&bytes[..len], wire);
            assert_eq!(encoded_len(value), Some(wire.len()));
            assert_eq!(decode(wire), Ok(Status::Complete((value, wire.len()))));
        }
    }

    #[test]
    fn too_large_value_is_not_encodable() {
        assert_eq!(encode(MAX_REMAINING_LENGTH + 1), None);
    }

    #[test]
    fn five_length_bytes_are_rejected() {
        assert_eq!(
            decode(&[0xFF, 0xFF, 0xFF, 0xFF]),
            Err(DecodeError::RemainingLength)
        );
        assert_eq!(
            decode(&[0x80, 0x80, 0x80, 0x80, 0x01]),
            Err(DecodeError::RemainingLength)
        );
    }

    #[test]
    fn unfinished_length_asks_for_more() {
        assert_eq!(decode(&[]), Ok(Status::Partial(1)));
        assert_eq!(decode(&[0x80]), Ok(Status::Partial(1)));
        assert_eq!(decode(&[0x80, 0x80, 0x80]), Ok(Status::Partial(1)));
    }
}
