//! `umqtt_*`: the MQTT client session ABI (see c_glue/qpy_rust.h).
//!
//! Every function tolerates NULL pointers and an uninitialised session by
//! returning `UMQTT_ERR_INVALID_ARGUMENT` (or the documented neutral value)
//! instead of dereferencing them. Protocol state lives here, in the session and
//! in the subscription arena the caller owns; the glue only moves bytes.
#![allow(non_camel_case_types)]

use core::ffi::c_char;
use core::mem::{align_of, size_of};
use core::ptr;

use mqtt_core::codec::{
    decode_fixed_header, validate, DecodeError, EncodeError, FieldError, LastWill, PacketType,
    Protocol, QoS, Status, SubackReturnCode,
};
use mqtt_core::session::{
    self, subs, ConnectOptions, Event, LoginFailure, PublishOutcome, ReconnectPoll, RequestState,
    RestoreStep, Session, SessionError, Tick,
};

use crate::abi::{self, NullPointer, StatusCode};

/// Bytes C reserves for one session.
pub const UMQTT_SESSION_SIZE: usize = 768;
pub const UMQTT_SESSION_ALIGN: usize = 8;
/// Outgoing QoS 1/2 messages in flight.
pub const UMQTT_MAX_INFLIGHT: usize = 16;
/// Largest reply `umqtt_receive` writes.
pub const UMQTT_REPLY_MAX: usize = 4;
/// Filters the subscription table holds at most.
pub const UMQTT_MAX_SUBSCRIPTIONS: usize = 64;
/// Bytes the subscription arena needs at most (`umqtt_subs_reserve` tells the
/// size needed for one more filter).
pub const UMQTT_SUBS_MAX_BYTES: usize = 65535;

/// `umqtt_status` values (`get_mqttsta()`): connected.
pub const UMQTT_STA_CONNECTED: i8 = 0;
/// A login is in progress (DNS/TCP/TLS/CONNECT/CONNACK).
pub const UMQTT_STA_CONNECTING: i8 = 1;
/// The link was lost; with auto-reconnect an attempt is scheduled.
pub const UMQTT_STA_SERVER_CLOSED: i8 = 2;
/// Never connected, closed by the script, or refused for good.
pub const UMQTT_STA_CLOSED: i8 = -1;

/// `umqtt_login_failed`: another attempt is scheduled (status SERVER_CLOSED).
pub const UMQTT_RECONNECT_RETRY: i32 = 0;
/// `umqtt_login_failed`: no attempt follows (status CLOSED).
pub const UMQTT_RECONNECT_STOPPED: i32 = 1;

/// `umqtt_reconnect_poll`: nothing scheduled.
pub const UMQTT_RECONNECT_NONE: i32 = 0;
/// `umqtt_reconnect_poll`: an attempt is due in `*wait_ms`.
pub const UMQTT_RECONNECT_WAIT: i32 = 1;
/// `umqtt_reconnect_poll`: call `umqtt_login_begin(s, true)` and attempt now.
pub const UMQTT_RECONNECT_DUE: i32 = 2;

/// `umqtt_request_result`: no answer yet.
pub const UMQTT_REQUEST_PENDING: i32 = 0;
/// `umqtt_request_result`: answered; `*granted_qos` is the granted QoS
/// (SUBSCRIBE) or 0 (UNSUBSCRIBE).
pub const UMQTT_REQUEST_DONE: i32 = 1;
/// `umqtt_request_result`: SUBACK 0x80.
pub const UMQTT_REQUEST_REFUSED: i32 = 2;
/// `umqtt_request_result`: the link was lost first; the table keeps the
/// change and the next login restores it.
pub const UMQTT_REQUEST_LOST: i32 = 3;
/// `umqtt_request_result`: no such request.
pub const UMQTT_REQUEST_UNKNOWN: i32 = 4;

/// `umqtt_restore_next`: nothing (more) to restore.
pub const UMQTT_RESTORE_DONE: i32 = 0;
/// `umqtt_restore_next`: `out` holds `*len` bytes of SUBSCRIBE; write them.
pub const UMQTT_RESTORE_SEND: i32 = 1;
/// `umqtt_restore_next`: call `umqtt_retransmit(s, *slot, ...)` and write that.
pub const UMQTT_RESTORE_RETRANSMIT: i32 = 2;

/// Opaque storage for a session, living inside the MicroPython object.
#[repr(C, align(8))]
pub struct umqtt_session {
    // A literal: cbindgen 0.24 turns an expression length into an incomplete type.
    pub opaque: [u64; 96],
}

/// A borrowed byte string; `ptr == NULL` means absent.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct umqtt_slice {
    pub ptr: *const u8,
    pub len: usize,
}

/// Status codes: 0 ok, negative error. (Named `umqtt_status_code`, as
/// `umqtt_status` is the link-status function.)
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum umqtt_status_code {
    UMQTT_OK = 0,
    UMQTT_ERR_BUFFER_TOO_SMALL = -1,
    UMQTT_ERR_REMAINING_LENGTH = -2,
    UMQTT_ERR_RESERVED_FLAGS = -3,
    UMQTT_ERR_INVALID_UTF8 = -4,
    UMQTT_ERR_WILDCARD_IN_TOPIC = -5,
    UMQTT_ERR_UNEXPECTED_PACKET = -6,
    UMQTT_ERR_MALFORMED = -7,
    UMQTT_ERR_INVALID_QOS = -8,
    UMQTT_ERR_EMPTY_TOPIC = -9,
    UMQTT_ERR_TOPIC_TOO_LONG = -10,
    UMQTT_ERR_PAYLOAD_TOO_LARGE = -11,
    UMQTT_ERR_PASSWORD_WITHOUT_USER = -12,
    UMQTT_ERR_INVALID_PROTOCOL_LEVEL = -13,
    UMQTT_ERR_INFLIGHT_FULL = -14,
    UMQTT_ERR_NOT_CONNECTED = -15,
    UMQTT_ERR_REFUSED = -16,
    UMQTT_ERR_NO_SUCH_SLOT = -17,
    UMQTT_ERR_INVALID_KEEPALIVE = -18,
    UMQTT_ERR_CLIENT_ID_TOO_LONG = -19,
    UMQTT_ERR_INBOUND_FULL = -20,
    UMQTT_ERR_INVALID_TOPIC_FILTER = -21,
    /// Added to the spec: a required pointer was NULL (or a NULL buffer with a
    /// non-zero length), or the session was never initialised.
    UMQTT_ERR_INVALID_ARGUMENT = -22,
    /// The caller's limit of messages queued while offline is reached.
    UMQTT_ERR_QUEUE_FULL = -23,
    /// The subscription table would exceed `UMQTT_MAX_SUBSCRIPTIONS` filters or
    /// `UMQTT_SUBS_MAX_BYTES` bytes, or the arena passed is too small for it.
    UMQTT_ERR_TOO_MANY_SUBSCRIPTIONS = -24,
    /// A login is already in progress.
    UMQTT_ERR_BUSY = -25,
    /// Too many requests awaiting an answer: wait for other answers and retry.
    UMQTT_ERR_PENDING_FULL = -26,
}

use umqtt_status_code::*;

impl StatusCode for umqtt_status_code {
    fn code(self) -> i32 {
        self as i32
    }
}

impl From<NullPointer> for umqtt_status_code {
    fn from(_: NullPointer) -> Self {
        UMQTT_ERR_INVALID_ARGUMENT
    }
}

impl From<abi::NotUtf8> for umqtt_status_code {
    fn from(_: abi::NotUtf8) -> Self {
        UMQTT_ERR_INVALID_UTF8
    }
}

#[repr(u8)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum umqtt_event_kind {
    UMQTT_EVENT_NEED_MORE = 0,
    UMQTT_EVENT_CONNACK = 1,
    UMQTT_EVENT_PUBLISH = 2,
    UMQTT_EVENT_PUBLISH_DONE = 3,
    UMQTT_EVENT_PUBREC = 4,
    UMQTT_EVENT_PUBREL = 5,
    UMQTT_EVENT_SUBACK = 6,
    UMQTT_EVENT_UNSUBACK = 7,
    UMQTT_EVENT_PINGRESP = 8,
    UMQTT_EVENT_IGNORED = 9,
}

use umqtt_event_kind::*;

#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum umqtt_tick_action {
    UMQTT_TICK_IDLE = 0,
    /// A PINGREQ is in `out`.
    UMQTT_TICK_SEND = 1,
    UMQTT_TICK_DEAD = 2,
}

#[repr(C)]
pub struct umqtt_connect_options {
    pub client_id: umqtt_slice,
    pub username: umqtt_slice,
    pub password: umqtt_slice,
    pub will_topic: umqtt_slice,
    pub will_payload: umqtt_slice,
    pub keep_alive_s: u16,
    pub protocol_level: u8,
    pub will_qos: u8,
    pub will_retain: bool,
    pub clean_session: bool,
    pub ping_max_unanswered: u8,
}

#[repr(C)]
pub struct umqtt_publish_info {
    pub len: usize,
    pub payload_included: bool,
    pub packet_id: u16,
    pub slot: u8,
    /// Kept offline (auto-reconnect pending): nothing encoded, `len` is 0;
    /// `umqtt_restore_next` hands the slot out after the next CONNACK.
    pub queued: bool,
}

#[repr(C)]
pub struct umqtt_event {
    pub kind: u8,
    pub consumed: usize,
    pub needed: usize,
    pub packet_len: usize,
    pub session_present: bool,
    /// CONNACK: this login was a background reconnect attempt.
    pub reconnected: bool,
    pub return_code: u8,
    pub topic_offset: usize,
    pub topic_len: usize,
    pub payload_offset: usize,
    pub payload_len: usize,
    pub qos: u8,
    pub retain: bool,
    pub dup: bool,
    pub duplicate: bool,
    pub packet_id: u16,
    pub slot: u8,
    /// SUBACK: how many of its return codes were 0x80 (refused).
    pub refused: u8,
}

const NO_SLOT: u8 = 0xFF;

const EMPTY_EVENT: umqtt_event = umqtt_event {
    kind: UMQTT_EVENT_NEED_MORE as u8,
    consumed: 0,
    needed: 0,
    packet_len: 0,
    session_present: false,
    reconnected: false,
    return_code: 0,
    topic_offset: 0,
    topic_len: 0,
    payload_offset: 0,
    payload_len: 0,
    qos: 0,
    retain: false,
    dup: false,
    duplicate: false,
    packet_id: 0,
    slot: NO_SLOT,
    refused: 0,
};

/// What actually lives in `umqtt_session`: a marker proving `umqtt_session_init`
/// ran (so garbage storage is refused, not interpreted), then the session.
#[repr(C)]
struct SessionStorage {
    magic: u64,
    session: Session,
}

/// "umqtt\0s2"
const SESSION_MAGIC: u64 = 0x756d_7174_7400_7332;

const _: () = assert!(size_of::<umqtt_session>() == UMQTT_SESSION_SIZE);
const _: () = assert!(align_of::<umqtt_session>() == UMQTT_SESSION_ALIGN);
const _: () = assert!(size_of::<SessionStorage>() <= UMQTT_SESSION_SIZE);
const _: () = assert!(align_of::<SessionStorage>() <= UMQTT_SESSION_ALIGN);
const _: () = assert!(session::MAX_INFLIGHT == UMQTT_MAX_INFLIGHT);
const _: () = assert!(session::REPLY_MAX == UMQTT_REPLY_MAX);
const _: () = assert!(session::MAX_SUBSCRIPTIONS == UMQTT_MAX_SUBSCRIPTIONS);
const _: () = assert!(session::SUBS_MAX_BYTES == UMQTT_SUBS_MAX_BYTES);

type Result<T> = core::result::Result<T, umqtt_status_code>;

/// # Safety
/// `s` is NULL or points to `UMQTT_SESSION_SIZE` bytes aligned to 8, not
/// otherwise accessed for `'a`.
unsafe fn session_mut<'a>(s: *mut umqtt_session) -> Result<&'a mut Session> {
    let storage = s.cast::<SessionStorage>();
    if storage.is_null() {
        return Err(UMQTT_ERR_INVALID_ARGUMENT);
    }
    // SAFETY: non-NULL and sized/aligned for SessionStorage (asserted above); the
    // marker is a plain u64, valid for any bit pattern.
    let magic = unsafe { ptr::addr_of!((*storage).magic).read() };
    if magic != SESSION_MAGIC {
        return Err(UMQTT_ERR_INVALID_ARGUMENT);
    }
    // SAFETY: the marker shows umqtt_session_init wrote a Session here; the
    // caller guarantees exclusive access.
    Ok(unsafe { &mut (*storage).session })
}

/// # Safety
/// As [`session_mut`], with shared access.
unsafe fn session_ref<'a>(s: *const umqtt_session) -> Result<&'a Session> {
    // SAFETY: forwarded contract; the reference is only read.
    unsafe { session_mut(s.cast_mut()) }.map(|session| &*session)
}

fn status(result: Result<()>) -> i32 {
    abi::status(result)
}

fn value(result: Result<i32>) -> i32 {
    abi::value_or_status(result)
}

fn text(bytes: &[u8]) -> Result<&str> {
    Ok(abi::utf8(bytes)?)
}

fn field_status(error: FieldError) -> umqtt_status_code {
    match error {
        FieldError::InvalidUtf8 | FieldError::NullCharacter => UMQTT_ERR_INVALID_UTF8,
        FieldError::StringTooLong => UMQTT_ERR_TOPIC_TOO_LONG,
        FieldError::EmptyTopic => UMQTT_ERR_EMPTY_TOPIC,
        FieldError::WildcardInTopic => UMQTT_ERR_WILDCARD_IN_TOPIC,
        FieldError::InvalidTopicFilter => UMQTT_ERR_INVALID_TOPIC_FILTER,
        FieldError::InvalidQos => UMQTT_ERR_INVALID_QOS,
        FieldError::PasswordWithoutUser => UMQTT_ERR_PASSWORD_WITHOUT_USER,
        FieldError::InvalidProtocol => UMQTT_ERR_INVALID_PROTOCOL_LEVEL,
        FieldError::ZeroPacketId | FieldError::InvalidReturnCode | FieldError::NoTopics => {
            UMQTT_ERR_MALFORMED
        }
    }
}

fn decode_status(error: DecodeError) -> umqtt_status_code {
    match error {
        DecodeError::RemainingLength => UMQTT_ERR_REMAINING_LENGTH,
        DecodeError::ReservedFlags => UMQTT_ERR_RESERVED_FLAGS,
        DecodeError::InvalidPacketType
        | DecodeError::ReservedBits
        | DecodeError::LengthMismatch
        | DecodeError::WillFlags => UMQTT_ERR_MALFORMED,
        DecodeError::Field(field) => field_status(field),
        DecodeError::UnexpectedPacket(_) => UMQTT_ERR_UNEXPECTED_PACKET,
    }
}

fn encode_status(error: EncodeError) -> umqtt_status_code {
    match error {
        EncodeError::BufferTooSmall { .. } => UMQTT_ERR_BUFFER_TOO_SMALL,
        EncodeError::PacketTooLarge => UMQTT_ERR_PAYLOAD_TOO_LARGE,
        EncodeError::DupWithQos0 => UMQTT_ERR_RESERVED_FLAGS,
        EncodeError::Field(field) => field_status(field),
    }
}

fn session_status(error: SessionError) -> umqtt_status_code {
    match error {
        SessionError::Decode(error) => decode_status(error),
        SessionError::Encode(error) => encode_status(error),
        SessionError::UnexpectedPacket(_) => UMQTT_ERR_UNEXPECTED_PACKET,
        SessionError::NotConnected => UMQTT_ERR_NOT_CONNECTED,
        SessionError::Refused(_) => UMQTT_ERR_REFUSED,
        SessionError::InflightFull => UMQTT_ERR_INFLIGHT_FULL,
        SessionError::PendingFull => UMQTT_ERR_PENDING_FULL,
        SessionError::QueueFull => UMQTT_ERR_QUEUE_FULL,
        SessionError::InboundFull => UMQTT_ERR_INBOUND_FULL,
        SessionError::NoSuchSlot => UMQTT_ERR_NO_SUCH_SLOT,
        SessionError::ClientIdTooLong => UMQTT_ERR_CLIENT_ID_TOO_LONG,
        SessionError::SubackCountMismatch => UMQTT_ERR_MALFORMED,
        SessionError::TooManySubscriptions => UMQTT_ERR_TOO_MANY_SUBSCRIPTIONS,
        SessionError::Busy => UMQTT_ERR_BUSY,
    }
}

impl From<SessionError> for umqtt_status_code {
    fn from(error: SessionError) -> Self {
        session_status(error)
    }
}

/// The size a caller must provide when its buffer was too small.
fn needed_len(error: &SessionError) -> Option<usize> {
    match error {
        SessionError::Encode(EncodeError::BufferTooSmall { needed }) => Some(*needed),
        _ => None,
    }
}

/// Stores the written length, or the needed length on `BufferTooSmall`.
fn report_len<T>(
    result: core::result::Result<T, SessionError>,
    out_len: &mut usize,
    len_of: impl FnOnce(&T) -> usize,
) -> Result<T> {
    match result {
        Ok(value) => {
            *out_len = len_of(&value);
            Ok(value)
        }
        Err(error) => {
            *out_len = needed_len(&error).unwrap_or(0);
            Err(session_status(error))
        }
    }
}

fn report_publish(
    result: core::result::Result<PublishOutcome, SessionError>,
    info: &mut umqtt_publish_info,
) -> Result<()> {
    let outcome = report_len(result, &mut info.len, |outcome| outcome.len)?;
    *info = umqtt_publish_info {
        len: outcome.len,
        payload_included: outcome.payload_included,
        packet_id: outcome.packet_id,
        slot: outcome.slot.unwrap_or(NO_SLOT),
        queued: outcome.queued,
    };
    Ok(())
}

/// Resets the info (slot as given) before anything can fail.
fn reset_info(
    info: core::result::Result<&mut umqtt_publish_info, NullPointer>,
    slot: u8,
) -> Result<&mut umqtt_publish_info> {
    let info = info?;
    *info = umqtt_publish_info {
        len: 0,
        payload_included: false,
        packet_id: 0,
        slot,
        queued: false,
    };
    Ok(info)
}

/// Clears an out-parameter before anything can fail.
fn cleared<T>(param: core::result::Result<&mut T, NullPointer>, value: T) -> Result<&mut T> {
    let param = param?;
    *param = value;
    Ok(param)
}

fn qos(value: u8) -> Result<QoS> {
    QoS::from_u8(value).map_err(field_status)
}

/// The texts of umqtt_status_message, in code order (0, -1, -2, ...), the fallback last.
const STATUS_TEXTS: &[u8] = b"\
ok\0\
buffer too small\0\
remaining length too large\0\
reserved flag bits wrong for packet type\0\
invalid UTF-8 string\0\
wildcard in topic name\0\
unexpected packet\0\
malformed packet\0\
invalid QoS\0\
empty topic\0\
topic too long\0\
payload too large\0\
password without user name\0\
invalid protocol level\0\
too many messages in flight\0\
not connected\0\
connection refused\0\
no such in-flight slot\0\
invalid keepalive\0\
client id too long\0\
too many inbound QoS 2 messages\0\
invalid topic filter\0\
invalid argument\0\
offline queue full\0\
too many subscriptions\0\
a login is already in progress\0\
too many requests awaiting an answer\0\
unknown error\0";

/// Static NUL-terminated English message for a status.
#[no_mangle]
pub extern "C" fn umqtt_status_message(status: i32) -> *const c_char {
    abi::nth_text(STATUS_TEXTS, abi::status_index(status))
}

/// The texts of umqtt_connack_message, in code order (0, 1, 2, ...), the fallback last.
const CONNACK_TEXTS: &[u8] = b"\
connection accepted\0\
unacceptable protocol version\0\
identifier rejected\0\
server unavailable\0\
bad user name or password\0\
not authorized\0\
unknown\0";

/// Static message for a CONNACK return code.
#[no_mangle]
pub extern "C" fn umqtt_connack_message(code: u8) -> *const c_char {
    abi::nth_text(CONNACK_TEXTS, usize::from(code))
}

/// Fresh session: status CLOSED, auto-reconnect off, empty tables.
/// `random_seed` drives the reconnect jitter (xorshift32; 0 is replaced by a
/// constant). NULL is ignored.
///
/// # Safety
/// `s` is NULL or points to writable storage of `UMQTT_SESSION_SIZE` bytes, aligned to 8.
#[no_mangle]
pub unsafe extern "C" fn umqtt_session_init(s: *mut umqtt_session, random_seed: u32) {
    let storage = s.cast::<SessionStorage>();
    if storage.is_null() {
        return;
    }
    // SAFETY: the caller provides writable storage; size and alignment are
    // asserted at compile time.
    unsafe {
        storage.write(SessionStorage {
            magic: SESSION_MAGIC,
            session: Session::with_seed(random_seed),
        });
    }
}

/// Link status, as `get_mqttsta()`: `UMQTT_STA_*`. NULL / uninitialised:
/// `UMQTT_STA_CLOSED`.
///
/// # Safety
/// `s` is NULL or a valid session.
#[no_mangle]
pub unsafe extern "C" fn umqtt_status(s: *const umqtt_session) -> i8 {
    // SAFETY: `s` is NULL or a valid session not written meanwhile.
    let session = unsafe { session_ref(s) };
    session.map_or(UMQTT_STA_CLOSED, |session| session.status().as_i8())
}

/// Auto-reconnect (`reconn=`); off after `umqtt_session_init`. NULL is ignored.
///
/// # Safety
/// `s` is NULL or a valid session.
#[no_mangle]
pub unsafe extern "C" fn umqtt_set_auto_reconnect(s: *mut umqtt_session, on: bool) {
    // SAFETY: `s` is NULL or a valid session not otherwise accessed.
    if let Ok(session) = unsafe { session_mut(s) } {
        session.set_auto_reconnect(on);
    }
}

/// A login starts; status becomes CONNECTING. `background` false: the
/// script's `connect()` (resets the attempt counter); true: a reconnect
/// attempt. `UMQTT_ERR_BUSY` while another login is in progress. From
/// CONNECTED the old link counts as lost.
///
/// # Safety
/// `s` is NULL or a valid session.
#[no_mangle]
pub unsafe extern "C" fn umqtt_login_begin(s: *mut umqtt_session, background: bool) -> i32 {
    // SAFETY: `s` is NULL or a valid session not otherwise accessed.
    let session = unsafe { session_mut(s) };
    status(session.and_then(|session| Ok(session.login_begin(background)?)))
}

/// The login failed before a CONNACK accepted it; `refusal_code` is the
/// CONNACK return code, or 0 for any other failure. `UMQTT_RECONNECT_RETRY`
/// (status SERVER_CLOSED, next attempt scheduled with backoff) for a
/// background attempt with auto-reconnect on and a transient refusal; else
/// `UMQTT_RECONNECT_STOPPED` (status CLOSED). Outside a login (e.g. reported
/// twice) nothing changes: RETRY while a reconnect is pending, else STOPPED.
///
/// # Safety
/// `s` is NULL or a valid session.
#[no_mangle]
pub unsafe extern "C" fn umqtt_login_failed(
    s: *mut umqtt_session,
    refusal_code: u8,
    now_ms: u32,
) -> i32 {
    // SAFETY: `s` is NULL or a valid session not otherwise accessed.
    let session = unsafe { session_mut(s) };
    value(
        session.map(|session| match session.login_failed(refusal_code, now_ms) {
            LoginFailure::Retry => UMQTT_RECONNECT_RETRY,
            LoginFailure::Stopped => UMQTT_RECONNECT_STOPPED,
        }),
    )
}

/// The transport died while connected: pending requests become LOST, pings
/// are cleared, in-flight messages kept; status SERVER_CLOSED and, with
/// auto-reconnect, the first attempt is due now. True when a reconnect cycle
/// starts; false when already offline (idempotent; a login in progress is
/// ended by `umqtt_login_failed`, not by this) or auto-reconnect is off.
/// NULL: false.
///
/// # Safety
/// `s` is NULL or a valid session.
#[no_mangle]
pub unsafe extern "C" fn umqtt_link_lost(s: *mut umqtt_session, now_ms: u32) -> bool {
    // SAFETY: `s` is NULL or a valid session not otherwise accessed.
    let session = unsafe { session_mut(s) };
    session.is_ok_and(|session| session.link_lost(now_ms))
}

/// The script closed the link: status CLOSED, nothing scheduled, pending
/// requests LOST. NULL is ignored.
///
/// # Safety
/// `s` is NULL or a valid session.
#[no_mangle]
pub unsafe extern "C" fn umqtt_close(s: *mut umqtt_session) {
    // SAFETY: `s` is NULL or a valid session not otherwise accessed.
    if let Ok(session) = unsafe { session_mut(s) } {
        session.close();
    }
}

/// Is a reconnect attempt due? `UMQTT_RECONNECT_NONE` (`*wait_ms` =
/// UINT32_MAX), `UMQTT_RECONNECT_WAIT` (`*wait_ms` until due) or
/// `UMQTT_RECONNECT_DUE` (`*wait_ms` = 0). Ticks wrap.
///
/// # Safety
/// `s` is NULL or a valid session; `wait_ms` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn umqtt_reconnect_poll(
    s: *const umqtt_session,
    now_ms: u32,
    wait_ms: *mut u32,
) -> i32 {
    // SAFETY: `s` is NULL or a valid session not written meanwhile.
    let session = unsafe { session_ref(s) };
    // SAFETY: `wait_ms` is NULL or valid for writing a u32.
    let wait_ms = unsafe { abi::out_param(wait_ms) };
    value((|| {
        let session = session?;
        let wait_ms = cleared(wait_ms, u32::MAX)?;
        Ok(match session.reconnect_poll(now_ms) {
            ReconnectPoll::None => UMQTT_RECONNECT_NONE,
            ReconnectPoll::Wait { wait_ms: wait } => {
                *wait_ms = wait;
                UMQTT_RECONNECT_WAIT
            }
            ReconnectPoll::Due => {
                *wait_ms = 0;
                UMQTT_RECONNECT_DUE
            }
        })
    })())
}

fn connect_options<'a>(
    opts: &umqtt_connect_options,
    strings: [Option<&'a [u8]>; 5],
) -> Result<ConnectOptions<'a>> {
    let [client_id, username, password, will_topic, will_payload] = strings;
    let protocol = Protocol::from_level(opts.protocol_level).map_err(field_status)?;
    let will = match will_topic {
        None => None,
        Some(topic) => {
            let message = will_payload.unwrap_or(&[]);
            if message.len() > usize::from(u16::MAX) {
                return Err(UMQTT_ERR_PAYLOAD_TOO_LARGE);
            }
            Some(LastWill {
                topic: text(topic)?,
                message,
                qos: QoS::from_u8(opts.will_qos).map_err(field_status)?,
                retain: opts.will_retain,
            })
        }
    };
    Ok(ConnectOptions {
        protocol,
        client_id: text(client_id.unwrap_or(&[]))?,
        username: username.map(text).transpose()?,
        password,
        will,
        keep_alive_s: opts.keep_alive_s,
        clean_session: opts.clean_session,
        ping_max_unanswered: opts.ping_max_unanswered,
    })
}

/// Validates options, encodes CONNECT, enters CONNECTING (a script login
/// when `umqtt_login_begin` was not called).
///
/// # Safety
/// Pointers are NULL or valid for their stated sizes; slices in `opts` likewise.
#[no_mangle]
pub unsafe extern "C" fn umqtt_connect(
    s: *mut umqtt_session,
    opts: *const umqtt_connect_options,
    now_ms: u32,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> i32 {
    // SAFETY: `s` is NULL or a valid session not otherwise accessed.
    let session = unsafe { session_mut(s) };
    // SAFETY: `out_len` is NULL or valid for writing a size_t.
    let out_len = unsafe { abi::out_param(out_len) };
    // SAFETY: `opts` is NULL or a valid options struct.
    let opts = unsafe { abi::in_param(opts) };
    // SAFETY: `out` is NULL or valid for writing `out_cap` bytes.
    let out = unsafe { abi::output(out, out_cap) };
    status((|| {
        let session = session?;
        let out_len = cleared(out_len, 0)?;
        let opts = opts?;
        let out = out?;
        // The caller guarantees every slice in `opts` is NULL (absent) or valid
        // for reading its length.
        let strings = [
            // SAFETY: `opts.client_id` is NULL or valid for its length.
            unsafe { abi::optional(opts.client_id.ptr, opts.client_id.len) },
            // SAFETY: `opts.username` is NULL or valid for its length.
            unsafe { abi::optional(opts.username.ptr, opts.username.len) },
            // SAFETY: `opts.password` is NULL or valid for its length.
            unsafe { abi::optional(opts.password.ptr, opts.password.len) },
            // SAFETY: `opts.will_topic` is NULL or valid for its length.
            unsafe { abi::optional(opts.will_topic.ptr, opts.will_topic.len) },
            // SAFETY: `opts.will_payload` is NULL or valid for its length.
            unsafe { abi::optional(opts.will_payload.ptr, opts.will_payload.len) },
        ];
        let options = connect_options(opts, strings)?;
        report_len(session.connect(&options, now_ms, out), out_len, |len| *len)?;
        Ok(())
    })())
}

fn offset_in(buf: &[u8], part: &[u8]) -> usize {
    (part.as_ptr() as usize).wrapping_sub(buf.as_ptr() as usize)
}

fn fill_event(ev: &mut umqtt_event, buf: &[u8], event: &Event<'_>) {
    let kind = match *event {
        Event::ConnAck {
            session_present,
            reconnected,
        } => {
            ev.session_present = session_present;
            ev.reconnected = reconnected;
            UMQTT_EVENT_CONNACK
        }
        Event::Publish { publish, duplicate } => {
            ev.topic_offset = offset_in(buf, publish.topic);
            ev.topic_len = publish.topic.len();
            ev.payload_offset = offset_in(buf, publish.payload);
            ev.payload_len = publish.payload.len();
            ev.qos = publish.qos_pid.qos().as_u8();
            ev.retain = publish.retain;
            ev.dup = publish.dup;
            ev.duplicate = duplicate;
            ev.packet_id = publish.qos_pid.packet_id().unwrap_or(0);
            UMQTT_EVENT_PUBLISH
        }
        Event::PublishDone { packet_id, slot } => {
            ev.packet_id = packet_id;
            ev.slot = slot;
            UMQTT_EVENT_PUBLISH_DONE
        }
        Event::PubRec { packet_id, slot } => {
            ev.packet_id = packet_id;
            ev.slot = slot;
            UMQTT_EVENT_PUBREC
        }
        Event::PubRel { packet_id } => {
            ev.packet_id = packet_id;
            UMQTT_EVENT_PUBREL
        }
        Event::SubAck { ack } => {
            ev.packet_id = ack.packet_id;
            let refused = ack
                .return_codes
                .iter()
                .filter(|&&code| code == SubackReturnCode::FAILURE)
                .count();
            ev.refused = u8::try_from(refused).unwrap_or(u8::MAX);
            UMQTT_EVENT_SUBACK
        }
        Event::UnsubAck { packet_id } => {
            ev.packet_id = packet_id;
            UMQTT_EVENT_UNSUBACK
        }
        Event::PingResp => UMQTT_EVENT_PINGRESP,
        Event::Ignored => UMQTT_EVENT_IGNORED,
    };
    ev.kind = kind as u8;
}

/// Size of the packet starting `input` once its fixed header is complete, else 0.
fn packet_len(input: &[u8]) -> usize {
    match decode_fixed_header(input) {
        Ok(Status::Complete(header)) => header.packet_len(),
        _ => 0,
    }
}

/// Parses at most one packet from `buf` and writes any reply. SUBACK and
/// UNSUBACK update the subscription table in `subs` and the request records;
/// an accepted CONNACK starts the restore (`umqtt_restore_next`). A refused
/// CONNACK returns `UMQTT_ERR_REFUSED` with `ev->return_code`; then call
/// `umqtt_login_failed`.
///
/// # Safety
/// Pointers are NULL or valid for their stated sizes; `subs` is NULL (with
/// `subs_cap` 0) or the caller's arena of `subs_cap` bytes.
#[no_mangle]
pub unsafe extern "C" fn umqtt_receive(
    s: *mut umqtt_session,
    subs: *mut u8,
    subs_cap: usize,
    buf: *const u8,
    len: usize,
    now_ms: u32,
    ev: *mut umqtt_event,
    reply: *mut u8,
    reply_cap: usize,
    reply_len: *mut usize,
) -> i32 {
    // SAFETY: `s` is NULL or a valid session not otherwise accessed.
    let session = unsafe { session_mut(s) };
    // SAFETY: `ev` is NULL or valid for writing an event.
    let ev = unsafe { abi::out_param(ev) };
    // SAFETY: `reply_len` is NULL or valid for writing a size_t.
    let reply_len = unsafe { abi::out_param(reply_len) };
    // SAFETY: `subs` is NULL or the caller's arena of `subs_cap` bytes.
    let subs = unsafe { abi::output(subs, subs_cap) };
    // SAFETY: `buf` is NULL or valid for reading `len` bytes.
    let input = unsafe { abi::input(buf, len) };
    // SAFETY: `reply` is NULL or valid for writing `reply_cap` bytes.
    let reply = unsafe { abi::output(reply, reply_cap) };
    status((|| {
        let session = session?;
        let ev = cleared(ev, EMPTY_EVENT)?;
        let reply_len = cleared(reply_len, 0)?;
        let (subs, input, reply) = (subs?, input?, reply?);
        match session.receive(subs, input, now_ms, reply) {
            Ok(Status::Partial(needed)) => {
                ev.needed = needed;
                ev.packet_len = packet_len(input);
                Ok(())
            }
            Ok(Status::Complete(received)) => {
                fill_event(ev, input, &received.event);
                ev.consumed = received.consumed;
                *reply_len = received.reply_len;
                Ok(())
            }
            Err(SessionError::Refused(code)) => {
                ev.kind = UMQTT_EVENT_CONNACK as u8;
                ev.return_code = code.as_u8();
                // The whole CONNACK: 4 bytes, or more when its remaining
                // length takes more bytes than needed (the decoder accepts that).
                ev.consumed = packet_len(input);
                Err(UMQTT_ERR_REFUSED)
            }
            Err(error) => Err(session_status(error)),
        }
    })())
}

/// QoS 0/1/2 PUBLISH. Offline with auto-reconnect on and status
/// SERVER_CLOSED or CONNECTING, a QoS 1/2 message is queued instead: it takes
/// a packet id and slot, `info->len` is 0, `info->queued` is true, and
/// `umqtt_restore_next` hands it out after the next CONNACK; at most
/// `max_queued` such unsent messages (`UMQTT_ERR_QUEUE_FULL`). QoS 0 offline,
/// or offline without auto-reconnect: `UMQTT_ERR_NOT_CONNECTED`.
///
/// # Safety
/// Pointers are NULL or valid for their stated sizes.
#[no_mangle]
pub unsafe extern "C" fn umqtt_publish(
    s: *mut umqtt_session,
    topic: umqtt_slice,
    payload: umqtt_slice,
    qos: u8,
    retain: bool,
    max_queued: u8,
    now_ms: u32,
    out: *mut u8,
    out_cap: usize,
    info: *mut umqtt_publish_info,
) -> i32 {
    // SAFETY: `s` is NULL or a valid session not otherwise accessed.
    let session = unsafe { session_mut(s) };
    // SAFETY: `info` is NULL or valid for writing a umqtt_publish_info.
    let info = unsafe { abi::out_param(info) };
    // SAFETY: `topic` is NULL or valid for reading its length.
    let topic = unsafe { abi::input(topic.ptr, topic.len) };
    // SAFETY: `payload` is NULL or valid for reading its length.
    let payload = unsafe { abi::input(payload.ptr, payload.len) };
    // SAFETY: `out` is NULL or valid for writing `out_cap` bytes.
    let out = unsafe { abi::output(out, out_cap) };
    status((|| {
        let session = session?;
        let info = reset_info(info, NO_SLOT)?;
        let (topic, payload, out) = (text(topic?)?, payload?, out?);
        let qos = self::qos(qos)?;
        report_publish(
            session.publish_or_queue(topic, payload, qos, retain, max_queued, now_ms, out),
            info,
        )
    })())
}

/// True while the message in `slot` with `packet_id` is in flight (not yet
/// PUBACK/PUBCOMP). NULL / uninitialised: false.
///
/// # Safety
/// `s` is NULL or a valid session.
#[no_mangle]
pub unsafe extern "C" fn umqtt_publish_pending(
    s: *const umqtt_session,
    slot: u8,
    packet_id: u16,
) -> bool {
    // SAFETY: `s` is NULL or a valid session not written meanwhile.
    let session = unsafe { session_ref(s) };
    session.is_ok_and(|session| session.publish_pending(slot, packet_id))
}

/// Re-encodes in-flight `slot` after a reconnect (PUBLISH with DUP, without
/// for a message queued offline, or PUBREL).
///
/// # Safety
/// Pointers are NULL or valid for their stated sizes.
#[no_mangle]
pub unsafe extern "C" fn umqtt_retransmit(
    s: *mut umqtt_session,
    slot: u8,
    topic: umqtt_slice,
    payload: umqtt_slice,
    now_ms: u32,
    out: *mut u8,
    out_cap: usize,
    info: *mut umqtt_publish_info,
) -> i32 {
    // SAFETY: `s` is NULL or a valid session not otherwise accessed.
    let session = unsafe { session_mut(s) };
    // SAFETY: `info` is NULL or valid for writing a umqtt_publish_info.
    let info = unsafe { abi::out_param(info) };
    // SAFETY: `topic` is NULL or valid for reading its length.
    let topic = unsafe { abi::input(topic.ptr, topic.len) };
    // SAFETY: `payload` is NULL or valid for reading its length.
    let payload = unsafe { abi::input(payload.ptr, payload.len) };
    // SAFETY: `out` is NULL or valid for writing `out_cap` bytes.
    let out = unsafe { abi::output(out, out_cap) };
    status((|| {
        let session = session?;
        let info = reset_info(info, slot)?;
        let (topic, payload, out) = (text(topic?)?, payload?, out?);
        report_publish(session.retransmit(slot, topic, payload, now_ms, out), info)
    })())
}

/// Arena capacity needed so that `filter` can be added to (or updated in) the
/// subscription table: `UMQTT_OK` and `*needed`, or the filter's validation
/// error, or `UMQTT_ERR_TOO_MANY_SUBSCRIPTIONS`.
///
/// # Safety
/// `subs` is NULL (with `subs_cap` 0) or the caller's arena of `subs_cap`
/// bytes; `filter` is NULL or valid for its length; `needed` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn umqtt_subs_reserve(
    subs: *const u8,
    subs_cap: usize,
    filter: umqtt_slice,
    needed: *mut usize,
) -> i32 {
    // SAFETY: `subs` is NULL or valid for reading `subs_cap` bytes.
    let subs = unsafe { abi::input(subs, subs_cap) };
    // SAFETY: `filter` is NULL or valid for reading its length.
    let filter = unsafe { abi::input(filter.ptr, filter.len) };
    // SAFETY: `needed` is NULL or valid for writing a size_t.
    let needed = unsafe { abi::out_param(needed) };
    status((|| {
        let needed = cleared(needed, 0)?;
        let (subs, filter) = (subs?, text(filter?)?);
        *needed = subs::reserve(subs, filter)?;
        Ok(())
    })())
}

/// SUBSCRIBE one filter. Online: encodes it (`*len` bytes), records a request
/// to wait on (`*packet_id`, see `umqtt_request_result`) and sets the table
/// entry to Requested. Offline (any status but CONNECTED): the entry is
/// ToRestore (subscribed at the next login), `*len` and `*packet_id` are 0.
/// `UMQTT_ERR_BUFFER_TOO_SMALL`: `*len` is the size needed.
/// `UMQTT_ERR_TOO_MANY_SUBSCRIPTIONS`: over the caps, or the arena is too small
/// (see `umqtt_subs_reserve`). `UMQTT_ERR_PENDING_FULL`: wait for other
/// answers and retry. On any error nothing changes.
///
/// # Safety
/// Pointers are NULL or valid for their stated sizes; `subs` is NULL (with
/// `subs_cap` 0) or the caller's arena of `subs_cap` bytes.
#[no_mangle]
pub unsafe extern "C" fn umqtt_subscribe(
    s: *mut umqtt_session,
    subs: *mut u8,
    subs_cap: usize,
    filter: umqtt_slice,
    qos: u8,
    now_ms: u32,
    out: *mut u8,
    out_cap: usize,
    len: *mut usize,
    packet_id: *mut u16,
) -> i32 {
    // SAFETY: forwarded contract (`umqtt_subscribe`'s is `request`'s).
    unsafe {
        request(
            s,
            subs,
            subs_cap,
            filter,
            Some(qos),
            now_ms,
            out,
            out_cap,
            len,
            packet_id,
        )
    }
}

/// UNSUBSCRIBE one filter. Online: encodes it, records a request and sets the
/// table entry (if any) to Removing. Offline: the entry is removed, `*len`
/// and `*packet_id` are 0.
///
/// # Safety
/// As `umqtt_subscribe`.
#[no_mangle]
pub unsafe extern "C" fn umqtt_unsubscribe(
    s: *mut umqtt_session,
    subs: *mut u8,
    subs_cap: usize,
    filter: umqtt_slice,
    now_ms: u32,
    out: *mut u8,
    out_cap: usize,
    len: *mut usize,
    packet_id: *mut u16,
) -> i32 {
    // SAFETY: forwarded contract (`umqtt_unsubscribe`'s is `request`'s).
    unsafe {
        request(
            s, subs, subs_cap, filter, None, now_ms, out, out_cap, len, packet_id,
        )
    }
}

/// `umqtt_subscribe` (`qos` given) and `umqtt_unsubscribe` (`None`): one body
/// for their shared argument handling.
///
/// # Safety
/// As `umqtt_subscribe`.
#[allow(clippy::too_many_arguments)]
#[inline(never)]
unsafe fn request(
    s: *mut umqtt_session,
    subs: *mut u8,
    subs_cap: usize,
    filter: umqtt_slice,
    qos: Option<u8>,
    now_ms: u32,
    out: *mut u8,
    out_cap: usize,
    len: *mut usize,
    packet_id: *mut u16,
) -> i32 {
    // SAFETY: `s` is NULL or a valid session not otherwise accessed.
    let session = unsafe { session_mut(s) };
    // SAFETY: `len` is NULL or valid for writing a size_t.
    let len = unsafe { abi::out_param(len) };
    // SAFETY: `packet_id` is NULL or valid for writing a u16.
    let packet_id = unsafe { abi::out_param(packet_id) };
    // SAFETY: `subs` is NULL or the caller's arena of `subs_cap` bytes.
    let subs = unsafe { abi::output(subs, subs_cap) };
    // SAFETY: `filter` is NULL or valid for reading its length.
    let filter = unsafe { abi::input(filter.ptr, filter.len) };
    // SAFETY: `out` is NULL or valid for writing `out_cap` bytes.
    let out = unsafe { abi::output(out, out_cap) };
    status((|| {
        let session = session?;
        let len = cleared(len, 0)?;
        let packet_id = cleared(packet_id, 0)?;
        let (subs, filter, out) = (subs?, text(filter?)?, out?);
        let result = match qos {
            Some(qos) => session.subscribe(subs, filter, self::qos(qos)?, now_ms, out),
            None => session.unsubscribe(subs, filter, now_ms, out),
        };
        (_, *packet_id) = report_len(result, len, |(written, _)| *written)?;
        Ok(())
    })())
}

/// The `index`-th filter the table remembers (being unsubscribed excluded),
/// in table order: its requested QoS, and `*filter` pointing into `subs`.
/// `UMQTT_ERR_NO_SUCH_SLOT` past the last one (`*filter` empty).
///
/// # Safety
/// `subs` is NULL (with `subs_cap` 0) or the caller's arena of `subs_cap`
/// bytes, not written while `*filter` is used; `filter` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn umqtt_subs_entry(
    subs: *const u8,
    subs_cap: usize,
    index: usize,
    filter: *mut umqtt_slice,
) -> i32 {
    // SAFETY: `subs` is NULL or valid for reading `subs_cap` bytes.
    let subs = unsafe { abi::input(subs, subs_cap) };
    // SAFETY: `filter` is NULL or valid for writing a umqtt_slice.
    let filter = unsafe { abi::out_param(filter) };
    value((|| {
        let empty = umqtt_slice {
            ptr: ptr::null(),
            len: 0,
        };
        let filter = cleared(filter, empty)?;
        let entry = subs::entries(subs?)
            .filter(|entry| !matches!(entry.state, subs::SubState::Removing { .. }))
            .nth(index)
            .ok_or(UMQTT_ERR_NO_SUCH_SLOT)?;
        *filter = umqtt_slice {
            ptr: entry.filter.as_ptr(),
            len: entry.filter.len(),
        };
        Ok(entry.qos as i32)
    })())
}

/// Result of the request `packet_id` a caller waits for: `UMQTT_REQUEST_*`
/// (`*granted_qos` is set for DONE, else 0). DONE, REFUSED and LOST consume
/// the record.
///
/// # Safety
/// `s` is NULL or a valid session; `granted_qos` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn umqtt_request_result(
    s: *mut umqtt_session,
    packet_id: u16,
    granted_qos: *mut u8,
) -> i32 {
    // SAFETY: `s` is NULL or a valid session not otherwise accessed.
    let session = unsafe { session_mut(s) };
    // SAFETY: `granted_qos` is NULL or valid for writing a u8.
    let granted_qos = unsafe { abi::out_param(granted_qos) };
    value((|| {
        let session = session?;
        let granted_qos = cleared(granted_qos, 0)?;
        Ok(match session.request_result(packet_id) {
            None => UMQTT_REQUEST_UNKNOWN,
            Some(RequestState::Pending) => UMQTT_REQUEST_PENDING,
            Some(RequestState::Done(granted)) => {
                *granted_qos = granted;
                UMQTT_REQUEST_DONE
            }
            Some(RequestState::Refused) => UMQTT_REQUEST_REFUSED,
            Some(RequestState::Lost) => UMQTT_REQUEST_LOST,
        })
    })())
}

/// The waiter gave up: its record is dropped (an answer, if one comes, still
/// updates the table). NULL is ignored.
///
/// # Safety
/// `s` is NULL or a valid session.
#[no_mangle]
pub unsafe extern "C" fn umqtt_request_forget(s: *mut umqtt_session, packet_id: u16) {
    // SAFETY: `s` is NULL or a valid session not otherwise accessed.
    if let Ok(session) = unsafe { session_mut(s) } {
        session.request_forget(packet_id);
    }
}

/// After each accepted CONNACK, call until `UMQTT_RESTORE_DONE`:
/// `UMQTT_RESTORE_SEND` (`out` holds `*len` bytes of SUBSCRIBE restoring table
/// entries, as many as fit `out_cap`), then `UMQTT_RESTORE_RETRANSMIT` for each
/// in-flight message in first-send order (`*slot`: call `umqtt_retransmit`),
/// then DONE (repeatable). `UMQTT_ERR_BUFFER_TOO_SMALL`: `*len` is the size one
/// entry needs. `*slot` is 0xFF unless RETRANSMIT.
///
/// # Safety
/// As `umqtt_subscribe`; `slot` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn umqtt_restore_next(
    s: *mut umqtt_session,
    subs: *mut u8,
    subs_cap: usize,
    now_ms: u32,
    out: *mut u8,
    out_cap: usize,
    len: *mut usize,
    slot: *mut u8,
) -> i32 {
    // SAFETY: `s` is NULL or a valid session not otherwise accessed.
    let session = unsafe { session_mut(s) };
    // SAFETY: `len` is NULL or valid for writing a size_t.
    let len = unsafe { abi::out_param(len) };
    // SAFETY: `slot` is NULL or valid for writing a u8.
    let slot = unsafe { abi::out_param(slot) };
    // SAFETY: `subs` is NULL or the caller's arena of `subs_cap` bytes.
    let subs = unsafe { abi::output(subs, subs_cap) };
    // SAFETY: `out` is NULL or valid for writing `out_cap` bytes.
    let out = unsafe { abi::output(out, out_cap) };
    value((|| {
        let session = session?;
        let len = cleared(len, 0)?;
        let slot = cleared(slot, NO_SLOT)?;
        let (subs, out) = (subs?, out?);
        let step = report_len(
            session.restore_next(subs, now_ms, out),
            len,
            |step| match step {
                RestoreStep::Send { len } => *len,
                RestoreStep::Retransmit { .. } | RestoreStep::Done => 0,
            },
        )?;
        Ok(match step {
            RestoreStep::Done => UMQTT_RESTORE_DONE,
            RestoreStep::Send { .. } => UMQTT_RESTORE_SEND,
            RestoreStep::Retransmit { slot: which } => {
                *slot = which;
                UMQTT_RESTORE_RETRANSMIT
            }
        })
    })())
}

/// The glue could not deliver an inbound QoS 2 PUBLISH and did not send its
/// PUBREC: forget its packet id so the broker's redelivery is delivered, not
/// dropped as a duplicate. NULL is ignored.
///
/// # Safety
/// `s` is NULL or a valid session.
#[no_mangle]
pub unsafe extern "C" fn umqtt_inbound_forget(s: *mut umqtt_session, packet_id: u16) {
    // SAFETY: `s` is NULL or a valid session not otherwise accessed.
    if let Ok(session) = unsafe { session_mut(s) } {
        session.inbound_forget(packet_id);
    }
}

/// PINGREQ now.
///
/// # Safety
/// Pointers are NULL or valid for their stated sizes.
#[no_mangle]
pub unsafe extern "C" fn umqtt_ping(
    s: *mut umqtt_session,
    now_ms: u32,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> i32 {
    // SAFETY: `s` is NULL or a valid session not otherwise accessed.
    let session = unsafe { session_mut(s) };
    // SAFETY: `out_len` is NULL or valid for writing a size_t.
    let out_len = unsafe { abi::out_param(out_len) };
    // SAFETY: `out` is NULL or valid for writing `out_cap` bytes.
    let out = unsafe { abi::output(out, out_cap) };
    status((|| {
        let session = session?;
        let out_len = cleared(out_len, 0)?;
        report_len(session.ping(now_ms, out?), out_len, |len| *len)?;
        Ok(())
    })())
}

/// DISCONNECT; the link is closed as by `umqtt_close`, in-flight kept.
///
/// # Safety
/// Pointers are NULL or valid for their stated sizes.
#[no_mangle]
pub unsafe extern "C" fn umqtt_disconnect(
    s: *mut umqtt_session,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> i32 {
    // SAFETY: `s` is NULL or a valid session not otherwise accessed.
    let session = unsafe { session_mut(s) };
    // SAFETY: `out_len` is NULL or valid for writing a size_t.
    let out_len = unsafe { abi::out_param(out_len) };
    // SAFETY: `out` is NULL or valid for writing `out_cap` bytes.
    let out = unsafe { abi::output(out, out_cap) };
    status((|| {
        let session = session?;
        let out_len = cleared(out_len, 0)?;
        report_len(session.disconnect(out?), out_len, |len| *len)?;
        Ok(())
    })())
}

/// New bytes arrived from the server, not parsed yet: proof of life for the
/// keepalive. NULL / uninitialised sessions are ignored.
///
/// # Safety
/// `s` is NULL or a valid session.
#[no_mangle]
pub unsafe extern "C" fn umqtt_bytes_received(s: *mut umqtt_session, now_ms: u32) {
    // SAFETY: `s` is NULL or a valid session not otherwise accessed.
    if let Ok(session) = unsafe { session_mut(s) } {
        session.bytes_received(now_ms);
    }
}

/// Keepalive clock: returns a `umqtt_tick_action` (>= 0) or a negative status.
///
/// # Safety
/// Pointers are NULL or valid for their stated sizes.
#[no_mangle]
pub unsafe extern "C" fn umqtt_tick(
    s: *mut umqtt_session,
    now_ms: u32,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
    wait_ms: *mut u32,
) -> i32 {
    // SAFETY: `s` is NULL or a valid session not otherwise accessed.
    let session = unsafe { session_mut(s) };
    // SAFETY: `out_len` is NULL or valid for writing a size_t.
    let out_len = unsafe { abi::out_param(out_len) };
    // SAFETY: `wait_ms` is NULL or valid for writing a u32.
    let wait_ms = unsafe { abi::out_param(wait_ms) };
    // SAFETY: `out` is NULL or valid for writing `out_cap` bytes.
    let out = unsafe { abi::output(out, out_cap) };
    value((|| {
        let session = session?;
        let out_len = cleared(out_len, 0)?;
        let wait_ms = cleared(wait_ms, u32::MAX)?;
        let tick = report_len(session.tick(now_ms, out?), out_len, |tick| match tick {
            Tick::SendPing { len, .. } => *len,
            Tick::Idle { .. } | Tick::Dead => 0,
        })?;
        let action = match tick {
            Tick::Idle { wait_ms: wait } => {
                *wait_ms = wait;
                umqtt_tick_action::UMQTT_TICK_IDLE
            }
            Tick::SendPing { wait_ms: wait, .. } => {
                *wait_ms = wait;
                umqtt_tick_action::UMQTT_TICK_SEND
            }
            Tick::Dead => {
                *wait_ms = 0;
                umqtt_tick_action::UMQTT_TICK_DEAD
            }
        };
        Ok(action as i32)
    })())
}

/// True when the first packet in `buf` (complete or not) is a PUBLISH: lets a
/// background thread handle acknowledgements but leave messages, and their
/// callbacks, to the script's thread. False for anything else, incomplete
/// headers and invalid bytes (the next `umqtt_receive` reports those).
///
/// # Safety
/// `buf` is NULL or valid for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn umqtt_next_is_publish(buf: *const u8, len: usize) -> bool {
    // SAFETY: `buf` is NULL or valid for reading `len` bytes.
    let Ok(bytes) = (unsafe { abi::input(buf, len) }) else {
        return false;
    };
    matches!(
        decode_fixed_header(bytes),
        Ok(Status::Complete(header)) if header.packet_type == PacketType::Publish
    )
}

/// Checks a topic name a message may be published to (non-empty UTF-8, no
/// wildcards, at most 65535 bytes): `UMQTT_OK` or the reason it is not.
/// Lets the glue reject a bad will topic when it is set, not at connect.
///
/// # Safety
/// `topic.ptr` is NULL or valid for `topic.len` bytes.
#[no_mangle]
pub unsafe extern "C" fn umqtt_check_topic_name(topic: umqtt_slice) -> i32 {
    // SAFETY: `topic` is NULL or valid for reading its length.
    let topic = unsafe { abi::input(topic.ptr, topic.len) };
    status((|| {
        let name = text(topic?)?;
        validate::topic_name(name.as_bytes()).map_err(field_status)
    })())
}

#[cfg(test)]
mod tests;
