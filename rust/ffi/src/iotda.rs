//! `iotda_*`: Huawei Cloud IoTDA device-side helpers (see c_glue/qpy_rust.h),
//! a thin C ABI over the `iotda` crate.
//!
//! Every function tolerates NULL pointers by returning
//! `IOTDA_ERR_INVALID_ARGUMENT` instead of dereferencing them (a NULL input
//! with length 0 is an empty string). Outputs are only meaningful when the
//! function returned `IOTDA_OK`.
#![allow(non_camel_case_types)]

use core::ffi::c_char;

use iotda::auth::{self, SignType};
use iotda::time::{self, TimeError};
use iotda::topic::{self, Kind, Subscription};
use iotda::{Error, IdError};

use crate::abi::{self, NullPointer, StatusCode};

/// Length of the hex password written by `iotda_credentials`.
pub const IOTDA_PASSWORD_LEN: usize = 64;
/// Length of an event time `yyyyMMddTHHmmssZ`.
pub const IOTDA_EVENT_TIME_LEN: usize = 16;
/// Longest device id, request id or custom topic name accepted.
const MAX_ID_LEN: usize = 128;
/// Largest ClientId for a valid device id (device id + `_0_S_YYYYMMDDHH`).
pub const IOTDA_MAX_CLIENT_ID_LEN: usize = 143;
/// A buffer of this size holds every topic and subscription filter built
/// from valid ids.
pub const IOTDA_MAX_TOPIC_LEN: usize = 320;

const _: () = assert!(IOTDA_PASSWORD_LEN == auth::PASSWORD_LEN);
const _: () = assert!(IOTDA_MAX_CLIENT_ID_LEN == auth::MAX_CLIENT_ID_LEN);
const _: () = assert!(MAX_ID_LEN == iotda::validate::MAX_DEVICE_ID_LEN);
const _: () = assert!(MAX_ID_LEN == iotda::validate::MAX_REQUEST_ID_LEN);
const _: () = assert!(MAX_ID_LEN == iotda::validate::MAX_TOPIC_NAME_LEN);

/// Status codes: 0 ok, negative error.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum iotda_status {
    IOTDA_OK = 0,
    /// A required pointer was NULL (or a NULL buffer with a non-zero length).
    IOTDA_ERR_INVALID_ARGUMENT = -1,
    /// The output buffer is too small; `*out_len` holds the size needed.
    IOTDA_ERR_BUFFER_TOO_SMALL = -2,
    IOTDA_ERR_DEVICE_ID_EMPTY = -3,
    IOTDA_ERR_DEVICE_ID_TOO_LONG = -4,
    /// The device id contains `/`, `+`, `#` or NUL.
    IOTDA_ERR_DEVICE_ID_FORBIDDEN = -5,
    IOTDA_ERR_DEVICE_ID_NOT_UTF8 = -6,
    IOTDA_ERR_REQUEST_ID_EMPTY = -7,
    IOTDA_ERR_REQUEST_ID_TOO_LONG = -8,
    /// The request id contains `/`, `+`, `#` or NUL.
    IOTDA_ERR_REQUEST_ID_FORBIDDEN = -9,
    IOTDA_ERR_REQUEST_ID_NOT_UTF8 = -10,
    IOTDA_ERR_TOPIC_NAME_EMPTY = -11,
    IOTDA_ERR_TOPIC_NAME_TOO_LONG = -12,
    /// The custom topic name contains `+`, `#`, NUL or an empty level.
    IOTDA_ERR_TOPIC_NAME_FORBIDDEN = -13,
    IOTDA_ERR_TOPIC_NAME_NOT_UTF8 = -14,
    /// The time is before 1970-01-01T00:00:00Z or after 9999-12-31T23:59:59Z.
    IOTDA_ERR_TIME_OUT_OF_RANGE = -15,
    IOTDA_ERR_TIME_MALFORMED = -16,
    /// Not an `iotda_kind` (or `IOTDA_KIND_NOT_OURS`), or not an
    /// `iotda_subscription_kind` (after `IOTDA_TOPIC_SUBSCRIPTION`).
    IOTDA_ERR_UNKNOWN_KIND = -17,
    /// Not an `iotda_sign_type`.
    IOTDA_ERR_UNKNOWN_SIGN_TYPE = -18,
}

use iotda_status::*;

/// Topic kinds (the codes of the `iotda` crate's `Kind`).
#[repr(u8)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum iotda_kind {
    /// `iotda_classify`: not a topic of this device.
    IOTDA_KIND_NOT_OURS = 0,
    IOTDA_KIND_MESSAGES_UP = 1,
    IOTDA_KIND_MESSAGES_DOWN = 2,
    IOTDA_KIND_PROPERTIES_REPORT = 3,
    IOTDA_KIND_GATEWAY_SUB_DEVICES_REPORT = 4,
    IOTDA_KIND_PROPERTIES_SET = 5,
    IOTDA_KIND_PROPERTIES_SET_RESPONSE = 6,
    IOTDA_KIND_PROPERTIES_GET = 7,
    IOTDA_KIND_PROPERTIES_GET_RESPONSE = 8,
    IOTDA_KIND_SHADOW_GET = 9,
    IOTDA_KIND_SHADOW_GET_RESPONSE = 10,
    IOTDA_KIND_COMMAND = 11,
    IOTDA_KIND_COMMAND_RESPONSE = 12,
    IOTDA_KIND_EVENTS_UP = 13,
    IOTDA_KIND_EVENTS_DOWN = 14,
    IOTDA_KIND_BOOTSTRAP_UP = 15,
    IOTDA_KIND_BOOTSTRAP_DOWN = 16,
    /// `$oc/devices/{id}/user/{name}`; the parameter is the name.
    IOTDA_KIND_USER = 17,
}

/// Subscription filters (the codes of the `iotda` crate's `Subscription`).
#[repr(u8)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum iotda_subscription_kind {
    /// `T/sys/messages/down`
    IOTDA_SUB_MESSAGES_DOWN = 1,
    /// `T/sys/commands/#`
    IOTDA_SUB_COMMANDS = 2,
    /// `T/sys/properties/set/#`
    IOTDA_SUB_PROPERTIES_SET = 3,
    /// `T/sys/properties/get/#`
    IOTDA_SUB_PROPERTIES_GET = 4,
    /// `T/sys/shadow/get/response/#`
    IOTDA_SUB_SHADOW_GET_RESPONSE = 5,
    /// `T/sys/events/down`
    IOTDA_SUB_EVENTS_DOWN = 6,
    /// `T/sys/bootstrap/down` (bootstrap server only)
    IOTDA_SUB_BOOTSTRAP_DOWN = 7,
}

/// The `sign_type` digit of the ClientId.
#[repr(u8)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum iotda_sign_type {
    /// HMAC-SHA256, timestamp not checked by the platform.
    IOTDA_SIGN_NO_TIMESTAMP_CHECK = 0,
    /// HMAC-SHA256, timestamp checked against the platform's clock.
    IOTDA_SIGN_TIMESTAMP_CHECK = 1,
    /// HMAC-SM3, timestamp checked (Huawei's C SDK's sign type 2).
    IOTDA_SIGN_HMAC_SM3 = 2,
}

/// The subscriptions a device makes on a normal connection, in order
/// (`IOTDA_SUB_MESSAGES_DOWN` .. `IOTDA_SUB_EVENTS_DOWN`).
pub const IOTDA_DEVICE_SUBSCRIPTIONS: u8 = 6;

const _: () = assert!(Subscription::DEVICE_DEFAULT.len() == IOTDA_DEVICE_SUBSCRIPTIONS as usize);

type Result<T> = core::result::Result<T, iotda_status>;

impl StatusCode for iotda_status {
    fn code(self) -> i32 {
        self as i32
    }
}

impl From<NullPointer> for iotda_status {
    fn from(_: NullPointer) -> Self {
        IOTDA_ERR_INVALID_ARGUMENT
    }
}

fn id_status(e: IdError, base: iotda_status) -> iotda_status {
    // the four id families are laid out identically: EMPTY, TOO_LONG,
    // FORBIDDEN, NOT_UTF8
    let (empty, too_long, forbidden, not_utf8) = match base {
        IOTDA_ERR_REQUEST_ID_EMPTY => (
            IOTDA_ERR_REQUEST_ID_EMPTY,
            IOTDA_ERR_REQUEST_ID_TOO_LONG,
            IOTDA_ERR_REQUEST_ID_FORBIDDEN,
            IOTDA_ERR_REQUEST_ID_NOT_UTF8,
        ),
        IOTDA_ERR_TOPIC_NAME_EMPTY => (
            IOTDA_ERR_TOPIC_NAME_EMPTY,
            IOTDA_ERR_TOPIC_NAME_TOO_LONG,
            IOTDA_ERR_TOPIC_NAME_FORBIDDEN,
            IOTDA_ERR_TOPIC_NAME_NOT_UTF8,
        ),
        _ => (
            IOTDA_ERR_DEVICE_ID_EMPTY,
            IOTDA_ERR_DEVICE_ID_TOO_LONG,
            IOTDA_ERR_DEVICE_ID_FORBIDDEN,
            IOTDA_ERR_DEVICE_ID_NOT_UTF8,
        ),
    };
    match e {
        IdError::Empty => empty,
        IdError::TooLong { .. } => too_long,
        IdError::Forbidden { .. } => forbidden,
        IdError::NotUtf8 => not_utf8,
    }
}

fn time_status(e: TimeError) -> iotda_status {
    match e {
        TimeError::OutOfRange => IOTDA_ERR_TIME_OUT_OF_RANGE,
        _ => IOTDA_ERR_TIME_MALFORMED,
    }
}

/// Maps a crate error; `BufferTooSmall` also reports the size needed.
fn error_status(e: Error, needed: &mut usize) -> iotda_status {
    match e {
        Error::BufferTooSmall { needed: n } => {
            *needed = n;
            IOTDA_ERR_BUFFER_TOO_SMALL
        }
        Error::DeviceId(e) => id_status(e, IOTDA_ERR_DEVICE_ID_EMPTY),
        Error::RequestId(e) => id_status(e, IOTDA_ERR_REQUEST_ID_EMPTY),
        Error::TopicName(e) => id_status(e, IOTDA_ERR_TOPIC_NAME_EMPTY),
        Error::Time(e) => time_status(e),
        Error::NotBuildable => IOTDA_ERR_UNKNOWN_KIND,
    }
}

fn status_code(result: Result<()>) -> i32 {
    abi::status(result)
}

/// The texts of iotda_status_message, in code order (0, -1, -2, ...), the fallback last.
const STATUS_TEXTS: &[u8] = b"\
ok\0\
invalid argument\0\
buffer too small\0\
invalid device id: empty\0\
invalid device id: longer than 128 bytes\0\
invalid device id: contains '/', '+', '#' or NUL\0\
invalid device id: not valid UTF-8\0\
invalid request id: empty\0\
invalid request id: longer than 128 bytes\0\
invalid request id: contains '/', '+', '#' or NUL\0\
invalid request id: not valid UTF-8\0\
invalid custom topic name: empty\0\
invalid custom topic name: longer than 128 bytes\0\
invalid custom topic name: contains '+', '#', NUL or an empty level\0\
invalid custom topic name: not valid UTF-8\0\
time out of range (1970..9999 UTC)\0\
malformed time stamp\0\
unknown topic kind\0\
unknown sign type (0, 1 or 2)\0\
unknown error\0";

/// Static, NUL-terminated message for a status code.
#[no_mangle]
pub extern "C" fn iotda_status_message(status: i32) -> *const c_char {
    abi::nth_text(STATUS_TEXTS, abi::status_index(status))
}

/// ClientId, and Password for Huawei IoTDA secret authentication at Unix
/// time `unix_s` (UTC). The hour stamp is computed once and used for both.
/// The Username is the device id itself.
///
/// `client_id` needs `device_id_len + 15` bytes (at most
/// `IOTDA_MAX_CLIENT_ID_LEN`); `*client_id_len` gets the length written (or
/// needed, with `IOTDA_ERR_BUFFER_TOO_SMALL`). `password` receives
/// `IOTDA_PASSWORD_LEN` lowercase hex characters, not NUL-terminated.
///
/// # Safety
/// Each pointer is NULL or valid for its length (`password`:
/// `IOTDA_PASSWORD_LEN` bytes); `client_id_len` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn iotda_credentials(
    device_id: *const u8,
    device_id_len: usize,
    secret: *const u8,
    secret_len: usize,
    unix_s: i64,
    sign_type: u8,
    client_id: *mut u8,
    client_id_cap: usize,
    client_id_len: *mut usize,
    password: *mut u8,
) -> i32 {
    // SAFETY: `device_id` is NULL or valid for reading `device_id_len` bytes.
    let id = unsafe { abi::input(device_id, device_id_len) };
    // SAFETY: `secret` is NULL or valid for reading `secret_len` bytes.
    let secret = unsafe { abi::input(secret, secret_len) };
    // SAFETY: `client_id` is NULL or valid for writing `client_id_cap` bytes.
    let out = unsafe { abi::output(client_id, client_id_cap) };
    // SAFETY: `client_id_len` is NULL or valid for writing a size_t.
    let out_len = unsafe { abi::out_param(client_id_len) };
    // SAFETY: `password` is NULL or valid for writing IOTDA_PASSWORD_LEN bytes.
    let password = unsafe { abi::out_array::<IOTDA_PASSWORD_LEN>(password) };
    status_code((|| {
        let (id, secret, out, out_len, password) = (id?, secret?, out?, out_len?, password?);
        let sign = SignType::try_from(sign_type).map_err(|_| IOTDA_ERR_UNKNOWN_SIGN_TYPE)?;
        // the username is the device id: the caller has it already
        *out_len = 0;
        *out_len = auth::client_id_and_password(id, secret, unix_s, sign, out, password)
            .map_err(|e| error_status(e, out_len))?;
        Ok(())
    })())
}

/// Write the topic of `kind` for `device_id` into `out`. `param` is the
/// request id (request/response kinds) or the custom topic name
/// (`IOTDA_KIND_USER`), ignored by the other kinds (may be NULL then).
/// `*out_len` gets the length written (or needed). A `kind` of
/// `IOTDA_TOPIC_SUBSCRIPTION` + an `iotda_subscription_kind` writes that
/// subscription filter instead (as `iotda_subscription`).
///
/// # Safety
/// Each pointer is NULL or valid for its length; `out_len` is NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn iotda_topic(
    device_id: *const u8,
    device_id_len: usize,
    kind: u8,
    param: *const u8,
    param_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> i32 {
    // SAFETY: `device_id` is NULL or valid for reading `device_id_len` bytes.
    let id = unsafe { abi::input(device_id, device_id_len) };
    // SAFETY: `param` is NULL or valid for reading `param_len` bytes.
    let param = unsafe { abi::input(param, param_len) };
    // SAFETY: `out` is NULL or valid for writing `out_cap` bytes.
    let out = unsafe { abi::output(out, out_cap) };
    // SAFETY: `out_len` is NULL or valid for writing a size_t.
    let out_len = unsafe { abi::out_param(out_len) };
    status_code((|| {
        let (id, param, out, out_len) = (id?, param?, out?, out_len?);
        *out_len = 0;
        let built = match kind.checked_sub(IOTDA_TOPIC_SUBSCRIPTION) {
            Some(which) => {
                let sub = subscription_from_code(which).ok_or(IOTDA_ERR_UNKNOWN_KIND)?;
                topic::build_subscription(id, sub, out)
            }
            None => {
                let kind = Kind::from_code(kind).ok_or(IOTDA_ERR_UNKNOWN_KIND)?;
                topic::build_kind(id, kind, param, out)
            }
        };
        *out_len = built.map_err(|e| error_status(e, out_len))?;
        Ok(())
    })())
}

/// `iotda_topic`'s kind for a subscription filter: this plus an
/// `iotda_subscription_kind` (the parameter is ignored). One entry point for
/// topics and filters: the firmware links one argument-checking wrapper.
pub const IOTDA_TOPIC_SUBSCRIPTION: u8 = 0x80;

/// Write the subscription filter `which` (an `iotda_subscription_kind`) for
/// `device_id` into `out`: `iotda_topic` of `IOTDA_TOPIC_SUBSCRIPTION +
/// which`.
///
/// # Safety
/// Each pointer is NULL or valid for its length; `out_len` is NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn iotda_subscription(
    device_id: *const u8,
    device_id_len: usize,
    which: u8,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> i32 {
    // 0x80 and up are no subscription codes: `which` 0 stands in (unknown)
    let kind = IOTDA_TOPIC_SUBSCRIPTION
        | if which < IOTDA_TOPIC_SUBSCRIPTION {
            which
        } else {
            0
        };
    // SAFETY: the caller's guarantees are iotda_topic's, without a parameter.
    unsafe {
        iotda_topic(
            device_id,
            device_id_len,
            kind,
            core::ptr::null(),
            0,
            out,
            out_cap,
            out_len,
        )
    }
}

fn subscription_from_code(which: u8) -> Option<Subscription> {
    Some(match which {
        1 => Subscription::MessagesDown,
        2 => Subscription::Commands,
        3 => Subscription::PropertiesSet,
        4 => Subscription::PropertiesGet,
        5 => Subscription::ShadowGetResponse,
        6 => Subscription::EventsDown,
        7 => Subscription::BootstrapDown,
        _ => return None,
    })
}

/// Classify `topic` as seen by `device_id`, zero-copy. `*kind` gets an
/// `iotda_kind` (`IOTDA_KIND_NOT_OURS` for another device's topic, an
/// unknown path or a malformed request id / name); for request/response
/// kinds and `IOTDA_KIND_USER`, the request id / name is
/// `topic[*param_offset .. *param_offset + *param_len]`, as is the request
/// id of a `?request_id=` suffix on a kind without one of its own
/// (`.../sys/properties/report?request_id=42`); else both are 0.
///
/// Returns an error only for NULL arguments or an invalid `device_id`.
///
/// # Safety
/// Each pointer is NULL or valid for its length; the out pointers are NULL
/// or writable.
#[no_mangle]
pub unsafe extern "C" fn iotda_classify(
    device_id: *const u8,
    device_id_len: usize,
    topic: *const u8,
    topic_len: usize,
    kind: *mut u8,
    param_offset: *mut usize,
    param_len: *mut usize,
) -> i32 {
    // SAFETY: `device_id` is NULL or valid for reading `device_id_len` bytes.
    let id = unsafe { abi::input(device_id, device_id_len) };
    // SAFETY: `topic` is NULL or valid for reading `topic_len` bytes.
    let topic = unsafe { abi::input(topic, topic_len) };
    // SAFETY: `kind` is NULL or valid for writing a u8.
    let kind = unsafe { abi::out_param(kind) };
    // SAFETY: `param_offset` is NULL or valid for writing a size_t.
    let param_offset = unsafe { abi::out_param(param_offset) };
    // SAFETY: `param_len` is NULL or valid for writing a size_t.
    let param_len = unsafe { abi::out_param(param_len) };
    status_code((|| {
        let (id, topic) = (id?, topic?);
        let (kind, param_offset, param_len) = (kind?, param_offset?, param_len?);
        *kind = iotda_kind::IOTDA_KIND_NOT_OURS as u8;
        *param_offset = 0;
        *param_len = 0;
        iotda::validate::device_id(id).map_err(|e| id_status(e, IOTDA_ERR_DEVICE_ID_EMPTY))?;
        if let Some((k, p)) = topic::classify_kind(id, topic) {
            *kind = k as u8;
            if !p.is_empty() {
                // p borrows from `topic`: its offset is the pointer difference
                *param_offset = (p.as_ptr() as usize).wrapping_sub(topic.as_ptr() as usize);
                *param_len = p.len();
            }
        }
        Ok(())
    })())
}

/// Write the event time `yyyyMMddTHHmmssZ` (UTC) of Unix time `unix_s` into
/// `out` (`IOTDA_EVENT_TIME_LEN` bytes, not NUL-terminated).
///
/// # Safety
/// `out` is NULL or valid for writes of `IOTDA_EVENT_TIME_LEN` bytes.
#[no_mangle]
pub unsafe extern "C" fn iotda_event_time(unix_s: i64, out: *mut u8) -> i32 {
    // SAFETY: `out` is NULL or valid for writing IOTDA_EVENT_TIME_LEN bytes.
    let out = unsafe { abi::out_array::<IOTDA_EVENT_TIME_LEN>(out) };
    status_code(
        out.map_err(iotda_status::from)
            .and_then(|out| time::write_event_time(unix_s, out).map_err(time_status)),
    )
}

/// The device's UTC time in milliseconds at `device_recv` from a
/// `$time_sync` response (`iotda::time::time_sync`): `(server_recv +
/// server_send + device_recv - device_send) / 2`, saturated to the `int64`
/// range (division rounds toward negative infinity).
#[no_mangle]
pub extern "C" fn iotda_time_sync_ms(
    device_send: i64,
    server_recv: i64,
    server_send: i64,
    device_recv: i64,
) -> i64 {
    time::time_sync(device_send, server_recv, server_send, device_recv).utc_ms
}

/// The clock offset (UTC minus the device clock, ms) learnt from the same
/// `$time_sync` response: `iotda_time_sync_ms(...) - device_recv`,
/// saturated (`iotda::time::time_sync`).
#[no_mangle]
pub extern "C" fn iotda_time_sync_offset_ms(
    device_send: i64,
    server_recv: i64,
    server_send: i64,
    device_recv: i64,
) -> i64 {
    time::time_sync(device_send, server_recv, server_send, device_recv).offset_ms
}

/// What `iotda_check_id` validates.
#[repr(u8)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum iotda_id_kind {
    IOTDA_ID_DEVICE = 0,
    IOTDA_ID_REQUEST = 1,
    /// A custom topic name (`$oc/devices/{id}/user/{name}`).
    IOTDA_ID_TOPIC_NAME = 2,
}

/// Validate a device id, request id or custom topic name: `IOTDA_OK`, or
/// the status naming what is wrong with it.
///
/// # Safety
/// `id` is NULL or valid for reading `id_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn iotda_check_id(which: u8, id: *const u8, id_len: usize) -> i32 {
    // SAFETY: `id` is NULL or valid for reading `id_len` bytes.
    let id = unsafe { abi::input(id, id_len) };
    status_code((|| {
        let id = id?;
        match which {
            0 => iotda::validate::device_id(id)
                .map(drop)
                .map_err(|e| id_status(e, IOTDA_ERR_DEVICE_ID_EMPTY)),
            1 => iotda::validate::request_id(id)
                .map(drop)
                .map_err(|e| id_status(e, IOTDA_ERR_REQUEST_ID_EMPTY)),
            2 => iotda::validate::topic_name(id)
                .map(drop)
                .map_err(|e| id_status(e, IOTDA_ERR_TOPIC_NAME_EMPTY)),
            _ => Err(IOTDA_ERR_UNKNOWN_KIND),
        }
    })())
}

/// IoTDA's keepalive range in seconds (`iotda::KEEPALIVE_MIN..=KEEPALIVE_MAX`).
pub const IOTDA_KEEPALIVE_MIN: u16 = 30;
/// See `IOTDA_KEEPALIVE_MIN`.
pub const IOTDA_KEEPALIVE_MAX: u16 = 1200;
const _: () = assert!(IOTDA_KEEPALIVE_MIN == iotda::KEEPALIVE_MIN);
const _: () = assert!(IOTDA_KEEPALIVE_MAX == iotda::KEEPALIVE_MAX);

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    // Tests call the ABI with valid pointers throughout.
    clippy::undocumented_unsafe_blocks
)]
mod tests {
    use super::*;
    use core::ffi::CStr;
    use core::ptr;

    const ID: &[u8] = b"5fbbb784b4ec2202e982e643_868540050954037";

    fn creds(id: &[u8], secret: &[u8], t: i64, sign: u8) -> (i32, String, String) {
        let mut cid = [0u8; IOTDA_MAX_CLIENT_ID_LEN];
        let mut n = 0usize;
        let mut pw = [0u8; IOTDA_PASSWORD_LEN];
        let st = unsafe {
            iotda_credentials(
                id.as_ptr(),
                id.len(),
                secret.as_ptr(),
                secret.len(),
                t,
                sign,
                cid.as_mut_ptr(),
                cid.len(),
                &mut n,
                pw.as_mut_ptr(),
            )
        };
        (
            st,
            String::from_utf8_lossy(&cid[..n]).into_owned(),
            String::from_utf8_lossy(&pw).into_owned(),
        )
    }

    fn topic_of(id: &[u8], kind: u8, param: &[u8]) -> core::result::Result<String, i32> {
        let mut buf = [0u8; IOTDA_MAX_TOPIC_LEN];
        let mut n = 0usize;
        let st = unsafe {
            iotda_topic(
                id.as_ptr(),
                id.len(),
                kind,
                param.as_ptr(),
                param.len(),
                buf.as_mut_ptr(),
                buf.len(),
                &mut n,
            )
        };
        if st == 0 {
            Ok(String::from_utf8(buf[..n].to_vec()).unwrap())
        } else {
            Err(st)
        }
    }

    fn classify(id: &[u8], topic: &[u8]) -> (i32, u8, Option<Vec<u8>>) {
        let (mut kind, mut off, mut len) = (99u8, 99usize, 99usize);
        let st = unsafe {
            iotda_classify(
                id.as_ptr(),
                id.len(),
                topic.as_ptr(),
                topic.len(),
                &mut kind,
                &mut off,
                &mut len,
            )
        };
        let param = (len > 0).then(|| topic[off..off + len].to_vec());
        (st, kind, param)
    }

    #[test]
    fn check_id_kinds() {
        let ok = |w: u8, id: &[u8]| unsafe { iotda_check_id(w, id.as_ptr(), id.len()) };
        assert_eq!(ok(0, ID), 0);
        assert_eq!(ok(0, b""), IOTDA_ERR_DEVICE_ID_EMPTY as i32);
        assert_eq!(ok(0, b"a/b"), IOTDA_ERR_DEVICE_ID_FORBIDDEN as i32);
        assert_eq!(ok(1, b"a+b"), IOTDA_ERR_REQUEST_ID_FORBIDDEN as i32);
        assert_eq!(ok(2, b"a/b"), 0);
        assert_eq!(ok(2, b"a//b"), IOTDA_ERR_TOPIC_NAME_FORBIDDEN as i32);
        assert_eq!(ok(3, b"x"), IOTDA_ERR_UNKNOWN_KIND as i32);
        assert_eq!(unsafe { iotda_check_id(0, ptr::null(), 1) }, -1);
        assert_eq!(iotda_time_sync_ms(1_000, 11_050, 11_060, 1_110), 11_110);
        assert_eq!(
            iotda_time_sync_offset_ms(1_000, 11_050, 11_060, 1_110),
            10_000
        );
    }

    #[test]
    fn credentials_vectors() {
        // Expected values computed independently with CPython:
        //   hmac.new(b"2018072417", b"secret123", hashlib.sha256).hexdigest()
        let (st, cid, pw) = creds(ID, b"secret123", 1_532_454_980, 0);
        assert_eq!(st, 0);
        assert_eq!(
            cid,
            "5fbbb784b4ec2202e982e643_868540050954037_0_0_2018072417"
        );
        assert_eq!(
            pw,
            "d176a0593be4ec4b0b6ee7059aa0f475b2c5feb75cb4829199c33fa014de277c"
        );
        // hmac.new(b"2023123123", b"s3cr3t", hashlib.sha256).hexdigest() and
        // the next second, 2024010100
        let (_, cid, pw) = creds(b"d", b"s3cr3t", 1_704_067_199, 0);
        assert_eq!(cid, "d_0_0_2023123123");
        assert_eq!(
            pw,
            "47f6deb526ca84bebe68559db8b4426450b30f08b56e7a91ba7b74f892291af1"
        );
        let (_, cid, pw) = creds(b"d", b"s3cr3t", 1_704_067_200, 0);
        assert_eq!(cid, "d_0_0_2024010100");
        assert_eq!(
            pw,
            "87577b923cea0d462367bed05ba3d3d0a1dacb7b3861de1e448778c466d95349"
        );
        let (st, cid, _) = creds(b"d", b"s", 1_532_454_980, 1);
        assert_eq!(st, 0);
        assert_eq!(cid, "d_0_1_2018072417");
        // sign type 2: hmac.new(b"2018072417", b"secret123", "sm3").hexdigest()
        let (st, cid, pw) = creds(b"d", b"secret123", 1_532_454_980, 2);
        assert_eq!(st, 0);
        assert_eq!(cid, "d_0_2_2018072417");
        assert_eq!(
            pw,
            "4709b9d490c792f0d53199c71c5b59314f9a84953b617a839aaf38c3f8f3f7cc"
        );
    }

    #[test]
    fn credentials_errors() {
        assert_eq!(creds(b"", b"s", 0, 0).0, IOTDA_ERR_DEVICE_ID_EMPTY as i32);
        assert_eq!(
            creds(b"a/b", b"s", 0, 0).0,
            IOTDA_ERR_DEVICE_ID_FORBIDDEN as i32
        );
        assert_eq!(
            creds(&[b'a'; 129], b"s", 0, 0).0,
            IOTDA_ERR_DEVICE_ID_TOO_LONG as i32
        );
        assert_eq!(
            creds(&[0xff], b"s", 0, 0).0,
            IOTDA_ERR_DEVICE_ID_NOT_UTF8 as i32
        );
        assert_eq!(
            creds(b"d", b"s", -1, 0).0,
            IOTDA_ERR_TIME_OUT_OF_RANGE as i32
        );
        assert_eq!(
            creds(b"d", b"s", 0, 3).0,
            IOTDA_ERR_UNKNOWN_SIGN_TYPE as i32
        );
        // an empty secret is legal (NULL with length 0 too)
        let mut cid = [0u8; 32];
        let mut n = 0;
        let mut pw = [0u8; 64];
        let st = unsafe {
            iotda_credentials(
                b"d".as_ptr(),
                1,
                ptr::null(),
                0,
                0,
                0,
                cid.as_mut_ptr(),
                cid.len(),
                &mut n,
                pw.as_mut_ptr(),
            )
        };
        assert_eq!(st, 0);
        assert_eq!(&cid[..n], b"d_0_0_1970010100");
        // hmac.new(b"1970010100", b"", hashlib.sha256).hexdigest()
        assert_eq!(
            &pw[..],
            b"b77a2879fcc65853e0e8857155bae8c5c728d8bacff2fe1bf10f6458629402d0"
        );
        // NULLs
        let null_cases = unsafe {
            [
                iotda_credentials(
                    ptr::null(),
                    1,
                    ptr::null(),
                    0,
                    0,
                    0,
                    cid.as_mut_ptr(),
                    32,
                    &mut n,
                    pw.as_mut_ptr(),
                ),
                iotda_credentials(
                    b"d".as_ptr(),
                    1,
                    ptr::null(),
                    3,
                    0,
                    0,
                    cid.as_mut_ptr(),
                    32,
                    &mut n,
                    pw.as_mut_ptr(),
                ),
                iotda_credentials(
                    b"d".as_ptr(),
                    1,
                    ptr::null(),
                    0,
                    0,
                    0,
                    ptr::null_mut(),
                    32,
                    &mut n,
                    pw.as_mut_ptr(),
                ),
                iotda_credentials(
                    b"d".as_ptr(),
                    1,
                    ptr::null(),
                    0,
                    0,
                    0,
                    cid.as_mut_ptr(),
                    32,
                    ptr::null_mut(),
                    pw.as_mut_ptr(),
                ),
                iotda_credentials(
                    b"d".as_ptr(),
                    1,
                    ptr::null(),
                    0,
                    0,
                    0,
                    cid.as_mut_ptr(),
                    32,
                    &mut n,
                    ptr::null_mut(),
                ),
            ]
        };
        for st in null_cases {
            assert_eq!(st, IOTDA_ERR_INVALID_ARGUMENT as i32);
        }
        // too small: reports the size needed
        let st = unsafe {
            iotda_credentials(
                ID.as_ptr(),
                ID.len(),
                ptr::null(),
                0,
                0,
                0,
                cid.as_mut_ptr(),
                cid.len(),
                &mut n,
                pw.as_mut_ptr(),
            )
        };
        assert_eq!(st, IOTDA_ERR_BUFFER_TOO_SMALL as i32);
        assert_eq!(n, ID.len() + 15);
    }

    #[test]
    fn every_topic_kind() {
        let cases: &[(iotda_kind, &[u8], &str)] = &[
            (iotda_kind::IOTDA_KIND_MESSAGES_UP, b"", "sys/messages/up"),
            (
                iotda_kind::IOTDA_KIND_MESSAGES_DOWN,
                b"",
                "sys/messages/down",
            ),
            (
                iotda_kind::IOTDA_KIND_PROPERTIES_REPORT,
                b"",
                "sys/properties/report",
            ),
            (
                iotda_kind::IOTDA_KIND_GATEWAY_SUB_DEVICES_REPORT,
                b"",
                "sys/gateway/sub_devices/properties/report",
            ),
            (
                iotda_kind::IOTDA_KIND_PROPERTIES_SET,
                b"r1",
                "sys/properties/set/request_id=r1",
            ),
            (
                iotda_kind::IOTDA_KIND_PROPERTIES_SET_RESPONSE,
                b"r1",
                "sys/properties/set/response/request_id=r1",
            ),
            (
                iotda_kind::IOTDA_KIND_PROPERTIES_GET,
                b"r2",
                "sys/properties/get/request_id=r2",
            ),
            (
                iotda_kind::IOTDA_KIND_PROPERTIES_GET_RESPONSE,
                b"r2",
                "sys/properties/get/response/request_id=r2",
            ),
            (
                iotda_kind::IOTDA_KIND_SHADOW_GET,
                b"s",
                "sys/shadow/get/request_id=s",
            ),
            (
                iotda_kind::IOTDA_KIND_SHADOW_GET_RESPONSE,
                b"s",
                "sys/shadow/get/response/request_id=s",
            ),
            (
                iotda_kind::IOTDA_KIND_COMMAND,
                b"c",
                "sys/commands/request_id=c",
            ),
            (
                iotda_kind::IOTDA_KIND_COMMAND_RESPONSE,
                b"c",
                "sys/commands/response/request_id=c",
            ),
            (iotda_kind::IOTDA_KIND_EVENTS_UP, b"", "sys/events/up"),
            (iotda_kind::IOTDA_KIND_EVENTS_DOWN, b"", "sys/events/down"),
            (iotda_kind::IOTDA_KIND_BOOTSTRAP_UP, b"", "sys/bootstrap/up"),
            (
                iotda_kind::IOTDA_KIND_BOOTSTRAP_DOWN,
                b"",
                "sys/bootstrap/down",
            ),
            (iotda_kind::IOTDA_KIND_USER, b"a/b", "user/a/b"),
        ];
        for &(kind, param, suffix) in cases {
            let t = topic_of(ID, kind as u8, param).unwrap();
            assert_eq!(
                t,
                format!("$oc/devices/{}/{suffix}", core::str::from_utf8(ID).unwrap())
            );
            // the Rust crate's codes are the ABI's
            assert_eq!(
                Kind::from_code(kind as u8).map(|k| k as u8),
                Some(kind as u8)
            );
            let (st, k, p) = classify(ID, t.as_bytes());
            assert_eq!(st, 0);
            assert_eq!(k, kind as u8);
            assert_eq!(p.as_deref(), (!param.is_empty()).then_some(param));
        }
        // the largest topic fits IOTDA_MAX_TOPIC_LEN
        let long_id = [b'i'; 128];
        let long_req = [b'r'; 128];
        for k in 1..=17u8 {
            let t = topic_of(&long_id, k, &long_req).unwrap();
            assert!(t.len() <= IOTDA_MAX_TOPIC_LEN);
        }
    }

    #[test]
    fn topic_errors() {
        let k = iotda_kind::IOTDA_KIND_COMMAND_RESPONSE as u8;
        assert_eq!(topic_of(b"d", 0, b""), Err(IOTDA_ERR_UNKNOWN_KIND as i32));
        assert_eq!(topic_of(b"d", 18, b""), Err(IOTDA_ERR_UNKNOWN_KIND as i32));
        assert_eq!(
            topic_of(b"d/x", 1, b""),
            Err(IOTDA_ERR_DEVICE_ID_FORBIDDEN as i32)
        );
        assert_eq!(
            topic_of(b"d", k, b""),
            Err(IOTDA_ERR_REQUEST_ID_EMPTY as i32)
        );
        assert_eq!(
            topic_of(b"d", k, b"a+"),
            Err(IOTDA_ERR_REQUEST_ID_FORBIDDEN as i32)
        );
        assert_eq!(
            topic_of(b"d", k, b"a/b"),
            Err(IOTDA_ERR_REQUEST_ID_FORBIDDEN as i32)
        );
        assert_eq!(
            topic_of(b"d", k, &[b'1'; 129]),
            Err(IOTDA_ERR_REQUEST_ID_TOO_LONG as i32)
        );
        assert_eq!(
            topic_of(b"d", k, &[0xc3]),
            Err(IOTDA_ERR_REQUEST_ID_NOT_UTF8 as i32)
        );
        assert_eq!(
            topic_of(b"d", 17, b"a//b"),
            Err(IOTDA_ERR_TOPIC_NAME_FORBIDDEN as i32)
        );
        assert_eq!(
            topic_of(b"d", 17, b""),
            Err(IOTDA_ERR_TOPIC_NAME_EMPTY as i32)
        );
        // parameterless kinds ignore a NULL param
        let mut buf = [0u8; 64];
        let mut n = 0;
        let st = unsafe {
            iotda_topic(
                b"d".as_ptr(),
                1,
                1,
                ptr::null(),
                0,
                buf.as_mut_ptr(),
                64,
                &mut n,
            )
        };
        assert_eq!(st, 0);
        assert_eq!(&buf[..n], b"$oc/devices/d/sys/messages/up");
        // too small reports the size needed
        let st = unsafe {
            iotda_topic(
                b"d".as_ptr(),
                1,
                1,
                ptr::null(),
                0,
                buf.as_mut_ptr(),
                5,
                &mut n,
            )
        };
        assert_eq!(st, IOTDA_ERR_BUFFER_TOO_SMALL as i32);
        assert_eq!(n, 29);
        // NULLs
        let sts = unsafe {
            [
                iotda_topic(
                    ptr::null(),
                    1,
                    1,
                    ptr::null(),
                    0,
                    buf.as_mut_ptr(),
                    64,
                    &mut n,
                ),
                iotda_topic(
                    b"d".as_ptr(),
                    1,
                    11,
                    ptr::null(),
                    2,
                    buf.as_mut_ptr(),
                    64,
                    &mut n,
                ),
                iotda_topic(
                    b"d".as_ptr(),
                    1,
                    1,
                    ptr::null(),
                    0,
                    ptr::null_mut(),
                    64,
                    &mut n,
                ),
                iotda_topic(
                    b"d".as_ptr(),
                    1,
                    1,
                    ptr::null(),
                    0,
                    buf.as_mut_ptr(),
                    64,
                    ptr::null_mut(),
                ),
            ]
        };
        for st in sts {
            assert_eq!(st, IOTDA_ERR_INVALID_ARGUMENT as i32);
        }
    }

    #[test]
    fn subscriptions() {
        let want = [
            "sys/messages/down",
            "sys/commands/#",
            "sys/properties/set/#",
            "sys/properties/get/#",
            "sys/shadow/get/response/#",
            "sys/events/down",
            "sys/bootstrap/down",
        ];
        let mut buf = [0u8; 128];
        let mut n = 0;
        for (i, w) in want.iter().enumerate() {
            let st = unsafe {
                iotda_subscription(b"d".as_ptr(), 1, i as u8 + 1, buf.as_mut_ptr(), 128, &mut n)
            };
            assert_eq!(st, 0);
            assert_eq!(&buf[..n], format!("$oc/devices/d/{w}").as_bytes());
        }
        for (which, id, want) in [
            (0u8, &b"d"[..], IOTDA_ERR_UNKNOWN_KIND),
            (8, b"d", IOTDA_ERR_UNKNOWN_KIND),
            (1, b"d#", IOTDA_ERR_DEVICE_ID_FORBIDDEN),
            (1, b"", IOTDA_ERR_DEVICE_ID_EMPTY),
        ] {
            let st = unsafe {
                iotda_subscription(id.as_ptr(), id.len(), which, buf.as_mut_ptr(), 128, &mut n)
            };
            assert_eq!(st, want as i32);
        }
        // the same filters through iotda_topic (the firmware's call): the
        // parameter is ignored; codes past the last subscription are unknown
        for (i, w) in want.iter().enumerate() {
            let kind = IOTDA_TOPIC_SUBSCRIPTION + i as u8 + 1;
            let st = unsafe {
                iotda_topic(
                    b"d".as_ptr(),
                    1,
                    kind,
                    b"x".as_ptr(),
                    1,
                    buf.as_mut_ptr(),
                    128,
                    &mut n,
                )
            };
            assert_eq!(st, 0);
            assert_eq!(&buf[..n], format!("$oc/devices/d/{w}").as_bytes());
        }
        for kind in [IOTDA_TOPIC_SUBSCRIPTION, IOTDA_TOPIC_SUBSCRIPTION + 8, 255] {
            let st = unsafe {
                iotda_topic(
                    b"d".as_ptr(),
                    1,
                    kind,
                    ptr::null(),
                    0,
                    buf.as_mut_ptr(),
                    128,
                    &mut n,
                )
            };
            assert_eq!(st, IOTDA_ERR_UNKNOWN_KIND as i32, "kind {kind}");
        }
        for which in [0x81u8, 0xff] {
            let st = unsafe {
                iotda_subscription(b"d".as_ptr(), 1, which, buf.as_mut_ptr(), 128, &mut n)
            };
            assert_eq!(st, IOTDA_ERR_UNKNOWN_KIND as i32, "which {which}");
        }
        let st = unsafe { iotda_subscription(b"d".as_ptr(), 1, 1, ptr::null_mut(), 128, &mut n) };
        assert_eq!(st, IOTDA_ERR_INVALID_ARGUMENT as i32);
        let st = unsafe { iotda_subscription(b"d".as_ptr(), 1, 1, buf.as_mut_ptr(), 4, &mut n) };
        assert_eq!(st, IOTDA_ERR_BUFFER_TOO_SMALL as i32);
        assert_eq!(n, "$oc/devices/d/sys/messages/down".len());
    }

    #[test]
    fn classify_not_ours_and_errors() {
        for t in [
            &b"$oc/devices/other/sys/messages/down"[..],
            b"$oc/devices/d/sys/unknown",
            b"$oc/devices/d/sys/commands/request_id=",
            b"$oc/devices/d/sys/commands/request_id=a/b",
            b"$oc/devices/d/user/",
            b"foo",
            b"",
            &[0xff, 0xfe],
        ] {
            let (st, k, p) = classify(b"d", t);
            assert_eq!(st, 0, "{t:?}");
            assert_eq!(k, 0, "{t:?}");
            assert_eq!(p, None);
        }
        assert_eq!(classify(b"", b"x").0, IOTDA_ERR_DEVICE_ID_EMPTY as i32);
        assert_eq!(
            classify(b"a+", b"x").0,
            IOTDA_ERR_DEVICE_ID_FORBIDDEN as i32
        );
        let (mut k, mut o, mut l) = (0u8, 0usize, 0usize);
        let sts = unsafe {
            [
                iotda_classify(ptr::null(), 1, b"x".as_ptr(), 1, &mut k, &mut o, &mut l),
                iotda_classify(b"d".as_ptr(), 1, ptr::null(), 1, &mut k, &mut o, &mut l),
                iotda_classify(
                    b"d".as_ptr(),
                    1,
                    b"x".as_ptr(),
                    1,
                    ptr::null_mut(),
                    &mut o,
                    &mut l,
                ),
                iotda_classify(
                    b"d".as_ptr(),
                    1,
                    b"x".as_ptr(),
                    1,
                    &mut k,
                    ptr::null_mut(),
                    &mut l,
                ),
                iotda_classify(
                    b"d".as_ptr(),
                    1,
                    b"x".as_ptr(),
                    1,
                    &mut k,
                    &mut o,
                    ptr::null_mut(),
                ),
            ]
        };
        for st in sts {
            assert_eq!(st, IOTDA_ERR_INVALID_ARGUMENT as i32);
        }
        // an empty topic given as NULL is not ours
        let st =
            unsafe { iotda_classify(b"d".as_ptr(), 1, ptr::null(), 0, &mut k, &mut o, &mut l) };
        assert_eq!((st, k), (0, 0));
    }

    #[test]
    fn event_time() {
        let mut out = [0u8; IOTDA_EVENT_TIME_LEN];
        assert_eq!(
            unsafe { iotda_event_time(1_532_454_980, out.as_mut_ptr()) },
            0
        );
        assert_eq!(&out, b"20180724T175620Z");
        assert_eq!(unsafe { iotda_event_time(0, out.as_mut_ptr()) }, 0);
        assert_eq!(&out, b"19700101T000000Z");
        assert_eq!(
            unsafe { iotda_event_time(-1, out.as_mut_ptr()) },
            IOTDA_ERR_TIME_OUT_OF_RANGE as i32
        );
        assert_eq!(
            unsafe { iotda_event_time(i64::MAX, out.as_mut_ptr()) },
            IOTDA_ERR_TIME_OUT_OF_RANGE as i32
        );
        assert_eq!(
            unsafe { iotda_event_time(0, ptr::null_mut()) },
            IOTDA_ERR_INVALID_ARGUMENT as i32
        );
    }

    #[test]
    fn time_sync() {
        // device sends at 1000 (its clock), server receives at 5000 and
        // answers at 5002, device receives at 1010: device time now is
        // 5000 + (5002 - 5000) ... (5000 + 5002 + 1010 - 1000) / 2 = 5006
        assert_eq!(iotda_time_sync_ms(1000, 5000, 5002, 1010), 5006);
        let t = 1_700_000_000_000i64;
        assert_eq!(iotda_time_sync_ms(0, t, t + 10, 20), t + 15);
        // no overflow in the intermediate sum
        assert_eq!(iotda_time_sync_ms(0, i64::MAX, i64::MAX, 0), i64::MAX);
        assert_eq!(
            iotda_time_sync_ms(i64::MAX, i64::MAX, 0, i64::MAX),
            i64::MAX / 2
        );
        assert_eq!(
            iotda_time_sync_ms(i64::MAX, i64::MIN, i64::MIN, 0),
            i64::MIN
        );
        assert_eq!(iotda_time_sync_ms(0, -1, 0, 0), -1);
    }

    #[test]
    fn status_messages() {
        for code in -18..=0 {
            let m = unsafe { CStr::from_ptr(iotda_status_message(code)) };
            assert_ne!(m.to_str().unwrap(), "unknown error", "{code}");
        }
        let m = unsafe { CStr::from_ptr(iotda_status_message(-19)) };
        assert_eq!(m.to_str().unwrap(), "unknown error");
        assert_eq!(iotda_status::IOTDA_ERR_UNKNOWN_SIGN_TYPE as i32, -18);
        let text = |code| {
            unsafe { CStr::from_ptr(iotda_status_message(code)) }
                .to_str()
                .unwrap()
        };
        assert_eq!(text(0), "ok");
        assert_eq!(text(-1), "invalid argument");
        assert_eq!(
            text(-13),
            "invalid custom topic name: contains '+', '#', NUL or an empty level"
        );
        assert_eq!(text(-18), "unknown sign type (0, 1 or 2)");
        assert_eq!(text(1), "unknown error");
        assert_eq!(text(i32::MIN), "unknown error");
    }
}
