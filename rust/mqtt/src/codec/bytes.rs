//! Bounds-checked cursor types, so the codec needs neither indexing nor raw arithmetic.

use super::error::FieldError;

/// Reads big-endian fields from a borrowed slice.
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Reader { rest: bytes }
    }

    pub(crate) fn remaining(&self) -> &'a [u8] {
        self.rest
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    pub(crate) fn take(&mut self, count: usize) -> Option<&'a [u8]> {
        let (head, tail) = self.rest.split_at_checked(count)?;
        self.rest = tail;
        Some(head)
    }

    pub(crate) fn u8(&mut self) -> Option<u8> {
        let (&first, tail) = self.rest.split_first()?;
        self.rest = tail;
        Some(first)
    }

    pub(crate) fn u16(&mut self) -> Option<u16> {
        let bytes = self.take(2)?;
        let pair: [u8; 2] = bytes.try_into().ok()?;
        Some(u16::from_be_bytes(pair))
    }

    /// A 2-byte length prefix followed by that many bytes.
    pub(crate) fn binary(&mut self) -> Option<&'a [u8]> {
        let len = self.u16()?;
        self.take(usize::from(len))
    }
}

/// Writes into a caller's slice, or only counts: every field advances the
/// position (saturating: a size past `usize::MAX` is too large for any packet
/// anyway), and its bytes are stored only where they fit. One body function
/// thus both sizes a packet (over an empty slice) and writes it (over a slice
/// checked to be large enough), never panicking either way.
pub(crate) struct Writer<'a> {
    out: &'a mut [u8],
    position: usize,
    counting: bool,
}

impl<'a> Writer<'a> {
    pub(crate) fn new(out: &'a mut [u8]) -> Self {
        Writer {
            out,
            position: 0,
            counting: false,
        }
    }

    /// A writer with nowhere to write: it only counts.
    pub(crate) fn counter() -> Self {
        Writer {
            out: &mut [],
            position: 0,
            counting: true,
        }
    }

    /// Whether this is the counting pass, the one that runs a packet's
    /// field checks (see `codec::encode`).
    pub(crate) fn counting(&self) -> bool {
        self.counting
    }

    pub(crate) fn position(&self) -> usize {
        self.position
    }

    pub(crate) fn bytes(&mut self, bytes: &[u8]) {
        let end = self.position.saturating_add(bytes.len());
        if let Some(target) = self.out.get_mut(self.position..end) {
            target.copy_from_slice(bytes);
        }
        self.position = end;
    }

    pub(crate) fn u8(&mut self, value: u8) {
        self.bytes(&[value]);
    }

    pub(crate) fn u16(&mut self, value: u16) {
        self.bytes(&value.to_be_bytes());
    }

    /// Length-prefixed field: at most 65535 bytes, else `StringTooLong`.
    pub(crate) fn binary(&mut self, bytes: &[u8]) -> Result<(), FieldError> {
        let len = u16::try_from(bytes.len()).map_err(|_| FieldError::StringTooLong)?;
        self.u16(len);
        self.bytes(bytes);
        Ok(())
    }
}
