//! Concatenation into a caller buffer, all-or-nothing on the length check.

use crate::Error;

/// Write `parts` one after the other at the start of `out`; return the total
/// length, or [`Error::BufferTooSmall`] (with nothing written) if it does not
/// fit.
pub(crate) fn concat(out: &mut [u8], parts: &[&[u8]]) -> Result<usize, Error> {
    let mut needed: usize = 0;
    for p in parts {
        needed = needed
            .checked_add(p.len())
            .ok_or(Error::BufferTooSmall { needed: usize::MAX })?;
    }
    let Some(mut rest) = out.get_mut(..needed) else {
        return Err(Error::BufferTooSmall { needed });
    };
    for p in parts {
        let (head, tail) = rest.split_at_mut(p.len());
        head.copy_from_slice(p);
        rest = tail;
    }
    Ok(needed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fits_exactly_and_too_small() {
        let mut b = [0u8; 5];
        assert_eq!(concat(&mut b, &[b"ab", b"", b"cde"]), Ok(5));
        assert_eq!(&b, b"abcde");
        let mut s = [b'x'; 4];
        assert_eq!(
            concat(&mut s, &[b"ab", b"cde"]),
            Err(Error::BufferTooSmall { needed: 5 })
        );
        assert_eq!(&s, b"xxxx");
    }
}
