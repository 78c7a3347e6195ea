//! C ABI plumbing shared by `umqtt` and `iotda`: raw pointers to slices and
//! references (NULL checked), UTF-8, and `Result` to status code.
//!
//! Every pointer conversion is an `unsafe fn` whose contract the caller states
//! at its own narrow `unsafe` block; what follows is safe code.

use core::str::Utf8Error;

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

/// Bytes as UTF-8 text.
pub fn utf8(bytes: &[u8]) -> Result<&str, Utf8Error> {
    core::str::from_utf8(bytes)
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
}
