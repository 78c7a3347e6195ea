//! `iotda_sha256_*`: incremental SHA-256 with its state in a buffer the
//! caller owns (`IOTDA_SHA256_STATE_LEN` bytes, any alignment), for checking
//! an OTA package's `sign` while it downloads (rust/iotda's `sha256`).
//!
//! A state the caller overwrote is refused with `IOTDA_ERR_INVALID_ARGUMENT`
//! (as is NULL, or more than 2^46 bytes in one digest).

use iotda::sha256::{self, Sha256Error};

use crate::abi;
use crate::iotda::iotda_status::{self, IOTDA_ERR_INVALID_ARGUMENT};

/// Bytes of a SHA-256 state.
pub const IOTDA_SHA256_STATE_LEN: usize = 104;
/// Length of the lowercase hex digest written by `iotda_sha256_hex`.
pub const IOTDA_SHA256_HEX_LEN: usize = 64;

const _: () = assert!(IOTDA_SHA256_STATE_LEN == sha256::STATE_LEN);
const _: () = assert!(IOTDA_SHA256_HEX_LEN == sha256::HEX_LEN);

impl From<Sha256Error> for iotda_status {
    fn from(_: Sha256Error) -> Self {
        IOTDA_ERR_INVALID_ARGUMENT
    }
}

/// Start a digest in `state`.
///
/// # Safety
/// `state` is NULL or valid for writing `IOTDA_SHA256_STATE_LEN` bytes.
#[no_mangle]
pub unsafe extern "C" fn iotda_sha256_init(state: *mut u8) -> i32 {
    // SAFETY: `state` is NULL or valid for writing IOTDA_SHA256_STATE_LEN bytes.
    let st = unsafe { abi::out_array::<IOTDA_SHA256_STATE_LEN>(state) };
    abi::status((|| -> Result<(), iotda_status> {
        sha256::init(st?);
        Ok(())
    })())
}

/// Hash `data_len` bytes of `data` into `state`.
///
/// # Safety
/// `state` is NULL or valid for reading and writing `IOTDA_SHA256_STATE_LEN`
/// bytes; `data` is NULL or valid for reading `data_len` bytes; the two do
/// not overlap.
#[no_mangle]
pub unsafe extern "C" fn iotda_sha256_update(
    state: *mut u8,
    data: *const u8,
    data_len: usize,
) -> i32 {
    // SAFETY: `state` is NULL or valid for IOTDA_SHA256_STATE_LEN exclusive bytes.
    let st = unsafe { abi::out_array::<IOTDA_SHA256_STATE_LEN>(state) };
    // SAFETY: `data` is NULL or valid for reading `data_len` bytes.
    let data = unsafe { abi::input(data, data_len) };
    abi::status((|| -> Result<(), iotda_status> {
        sha256::update(st?, data?)?;
        Ok(())
    })())
}

/// Write the lowercase hex digest of what `state` has hashed into `out`
/// (`IOTDA_SHA256_HEX_LEN` bytes, not NUL-terminated); `state` is unchanged.
///
/// # Safety
/// `state` is NULL or valid for reading `IOTDA_SHA256_STATE_LEN` bytes; `out`
/// is NULL or valid for writing `IOTDA_SHA256_HEX_LEN` bytes.
#[no_mangle]
pub unsafe extern "C" fn iotda_sha256_hex(state: *const u8, out: *mut u8) -> i32 {
    // SAFETY: `state` is NULL or valid for reading IOTDA_SHA256_STATE_LEN bytes
    // ([u8; N] has alignment 1).
    let st = unsafe { abi::in_param(state.cast::<[u8; IOTDA_SHA256_STATE_LEN]>()) };
    // SAFETY: `out` is NULL or valid for writing IOTDA_SHA256_HEX_LEN bytes.
    let out = unsafe { abi::out_array::<IOTDA_SHA256_HEX_LEN>(out) };
    abi::status((|| -> Result<(), iotda_status> {
        sha256::hex(st?, out?)?;
        Ok(())
    })())
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;
    use core::ptr;

    #[test]
    fn digest_through_the_abi() {
        let mut st = [0u8; IOTDA_SHA256_STATE_LEN];
        let mut out = [0u8; IOTDA_SHA256_HEX_LEN];
        // SAFETY: buffers of the documented sizes.
        unsafe {
            assert_eq!(iotda_sha256_init(st.as_mut_ptr()), 0);
            assert_eq!(iotda_sha256_update(st.as_mut_ptr(), b"ab".as_ptr(), 2), 0);
            assert_eq!(iotda_sha256_update(st.as_mut_ptr(), ptr::null(), 0), 0);
            assert_eq!(iotda_sha256_update(st.as_mut_ptr(), b"c".as_ptr(), 1), 0);
            assert_eq!(iotda_sha256_hex(st.as_ptr(), out.as_mut_ptr()), 0);
        }
        assert_eq!(
            &out[..],
            b"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn bad_inputs_are_refused() {
        let mut st = [0xffu8; IOTDA_SHA256_STATE_LEN];
        let mut out = [0u8; IOTDA_SHA256_HEX_LEN];
        let bad = IOTDA_ERR_INVALID_ARGUMENT as i32;
        // SAFETY: NULL pointers, or buffers of the documented sizes.
        unsafe {
            assert_eq!(iotda_sha256_init(ptr::null_mut()), bad);
            assert_eq!(iotda_sha256_update(st.as_mut_ptr(), b"x".as_ptr(), 1), bad);
            assert_eq!(iotda_sha256_hex(st.as_ptr(), out.as_mut_ptr()), bad);
            assert_eq!(iotda_sha256_update(st.as_mut_ptr(), ptr::null(), 3), bad);
            assert_eq!(iotda_sha256_hex(ptr::null(), out.as_mut_ptr()), bad);
        }
    }
}
