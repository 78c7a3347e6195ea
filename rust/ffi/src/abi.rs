//! C ABI plumbing shared by `umqtt` and `iotda`: raw pointers to slices and
//! references (NULL checked), UTF-8, and `Result` to status code.
//!
//! Every pointer conversion is an `unsafe fn` whose contract the caller states
//! at its own narrow `unsafe` block; what follows is safe code.

use core::ffi::c_char;

/// A required pointer was NULL (or a NULL buffer came with a non-zero length).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NullPointer;

/// A status enum of one of the ABIs: 0 is success, errors are negative.
pub trait StatusCode: Copy {
    fn code(self) -> i32;
}

/// `Ok(())` is 0, an error its (negative) code.
pub fn status<E: StatusCode>(result: Result<(), E>) -> i32 {
    match result {
        Ok(()) => 0,
        Err(error) => error.code(),
    }
}

/// `Ok(value)` is the (non-negative) value, an error its (negative) code.
pub fn value_or_status<E: StatusCode>(result: Result<i32, E>) -> i32 {
    match result {
        Ok(value) => value,
        Err(error) => error.code(),
    }
}

/// Input bytes; NULL is accepted for an empty input only.
///
/// # Safety
/// `ptr` is NULL or valid for reads of `len` bytes for `'a`, not written meanwhile.
pub unsafe fn input<'a>(ptr: *const u8, len: usize) -> Result<&'a [u8], NullPointer> {
    match (ptr.is_null(), len) {
        (true, 0) => Ok(&[]),
        (true, _) => Err(NullPointer),
        // SAFETY: non-NULL, and the caller guarantees `len` readable bytes.
        (false, _) => Ok(unsafe { core::slice::from_raw_parts(ptr, len) }),
    }
}

/// Optional input bytes: NULL means absent.
///
/// # Safety
/// As [`input`].
pub unsafe fn optional<'a>(ptr: *const u8, len: usize) -> Option<&'a [u8]> {
    if ptr.is_null() {
        None
    } else {
        // SAFETY: non-NULL, and the caller guarantees `len` readable bytes.
        Some(unsafe { core::slice::from_raw_parts(ptr, len) })
    }
}

/// Output buffer; NULL is accepted for a zero capacity only.
///
/// # Safety
/// `ptr` is NULL or valid for reads and writes of `cap` bytes for `'a`, and
/// nothing else accesses them meanwhile.
pub unsafe fn output<'a>(ptr: *mut u8, cap: usize) -> Result<&'a mut [u8], NullPointer> {
    match (ptr.is_null(), cap) {
        (true, 0) => Ok(&mut []),
        (true, _) => Err(NullPointer),
        // SAFETY: non-NULL, and the caller guarantees `cap` exclusive bytes.
        (false, _) => Ok(unsafe { core::slice::from_raw_parts_mut(ptr, cap) }),
    }
}

/// Output array of exactly `N` bytes.
///
/// # Safety
/// `ptr` is NULL or valid for writes of `N` bytes for `'a`, not otherwise accessed.
pub unsafe fn out_array<'a, const N: usize>(ptr: *mut u8) -> Result<&'a mut [u8; N], NullPointer> {
    // SAFETY: [u8; N] has alignment 1; the caller guarantees N exclusive bytes.
    unsafe { ptr.cast::<[u8; N]>().as_mut() }.ok_or(NullPointer)
}

/// Out-parameter.
///
/// # Safety
/// `ptr` is NULL or valid and aligned for writes of a `T` for `'a`, not otherwise accessed.
pub unsafe fn out_param<'a, T>(ptr: *mut T) -> Result<&'a mut T, NullPointer> {
    // SAFETY: the caller guarantees a valid, exclusive `T` when non-NULL.
    unsafe { ptr.as_mut() }.ok_or(NullPointer)
}

/// In-parameter.
///
/// # Safety
/// `ptr` is NULL or valid and aligned for reads of a `T` for `'a`, not written meanwhile.
pub unsafe fn in_param<'a, T>(ptr: *const T) -> Result<&'a T, NullPointer> {
    // SAFETY: the caller guarantees a valid `T` when non-NULL.
    unsafe { ptr.as_ref() }.ok_or(NullPointer)
}

/// Text number `index` of `texts` (NUL-terminated texts one after another),
/// or the last text when there are fewer. One blob and a scan, not a match
/// over pointers: no pointer table on the device.
pub fn nth_text(texts: &'static [u8], index: usize) -> *const c_char {
    let mut rest = texts;
    for _ in 0..index {
        let next = rest
            .iter()
            .position(|&b| b == 0)
            .and_then(|end| rest.get(end.wrapping_add(1)..));
        match next {
            Some(next) if !next.is_empty() => rest = next,
            _ => break,
        }
    }
    rest.as_ptr().cast()
}

/// Index of a status code's text in a list starting at 0 (ok), -1, -2, ...;
/// `usize::MAX` (the list's last text) for a positive code.
pub fn status_index(status: i32) -> usize {
    usize::try_from(i64::from(status).wrapping_neg()).unwrap_or(usize::MAX)
}

/// Bytes that are not valid UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotUtf8;

/// Bytes as UTF-8 text, checked by the core's small validator (so the device
/// image carries no `core::str::from_utf8`).
pub fn utf8(bytes: &[u8]) -> Result<&str, NotUtf8> {
    if !mqtt_core::codec::validate::is_utf8(bytes) {
        return Err(NotUtf8);
    }
    // SAFETY: `is_utf8` accepts exactly the bytes `core::str::from_utf8`
    // accepts (property-tested against it in mqtt_core), so `bytes` is UTF-8.
    Ok(unsafe { core::str::from_utf8_unchecked(bytes) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::ptr;

    #[test]
    fn null_is_empty_only_with_zero_length() {
        // SAFETY: NULL pointers only.
        unsafe {
            assert_eq!(input(ptr::null(), 0), Ok(&[][..]));
            assert_eq!(input(ptr::null(), 1), Err(NullPointer));
            assert_eq!(optional(ptr::null(), 5), None);
            assert!(output(ptr::null_mut(), 0).is_ok());
            assert_eq!(output(ptr::null_mut(), 3), Err(NullPointer));
            assert_eq!(out_param::<u32>(ptr::null_mut()), Err(NullPointer));
            assert_eq!(in_param::<u32>(ptr::null()), Err(NullPointer));
            assert_eq!(out_array::<4>(ptr::null_mut()), Err(NullPointer));
        }
    }

    #[test]
    fn status_codes() {
        #[derive(Clone, Copy)]
        struct Minus(i32);
        impl StatusCode for Minus {
            fn code(self) -> i32 {
                self.0
            }
        }
        assert_eq!(status::<Minus>(Ok(())), 0);
        assert_eq!(status(Err(Minus(-3))), -3);
        assert_eq!(value_or_status::<Minus>(Ok(2)), 2);
        assert_eq!(value_or_status(Err(Minus(-9))), -9);
        assert!(utf8(b"\xff").is_err());
    }

    #[test]
    fn nth_text_falls_back_to_the_last() {
        let text = |i| {
            // SAFETY: nth_text points into the NUL-terminated static blob.
            unsafe { core::ffi::CStr::from_ptr(nth_text(b"a\0bc\0last\0", i)) }.to_bytes()
        };
        assert_eq!(text(0), b"a");
        assert_eq!(text(1), b"bc");
        assert_eq!(text(2), b"last");
        assert_eq!(text(3), b"last");
        assert_eq!(text(usize::MAX), b"last");
        assert_eq!(status_index(0), 0);
        assert_eq!(status_index(-26), 26);
        assert_eq!(status_index(1), usize::MAX);
        assert_eq!(status_index(i32::MIN), 1 << 31);
    }
}
