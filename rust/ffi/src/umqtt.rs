//! `umqtt_*`: the MQTT client session ABI (see c_glue/qpy_rust.h).
//!
//! Every function tolerates NULL pointers and an uninitialised session by
//! returning `UMQTT_ERR_INVALID_ARGUMENT` instead of dereferencing them.
#![allow(non_camel_case_types)]

use core::ffi::c_char;
use core::mem::{align_of, size_of};
use core::ptr;

use mqtt_core::codec::{
    decode_fixed_header, DecodeError, EncodeError, FieldError, LastWill, PacketType, Protocol, QoS,
    Status, SubscribeTopic,
};
use mqtt_core::session::{
    self, ConnectOptions, Event, PublishOutcome, Session, SessionError, Tick,
};

/// Bytes C reserves for one session.
pub const UMQTT_SESSION_SIZE: usize = 768;
pub const UMQTT_SESSION_ALIGN: usize = 8;
/// Outgoing QoS 1/2 messages in flight.
pub const UMQTT_MAX_INFLIGHT: usize = 16;
/// Largest reply `umqtt_receive` writes.
pub const UMQTT_REPLY_MAX: usize = 4;

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

/// Status codes: 0 ok, negative error.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum umqtt_status {
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
}

use umqtt_status::*;

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
}

#[repr(C)]
pub struct umqtt_event {
    pub kind: u8,
    pub consumed: usize,
    pub needed: usize,
    pub packet_len: usize,
    pub session_present: bool,
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
    pub codes_offset: usize,
    pub codes_count: usize,
}

const NO_SLOT: u8 = 0xFF;

const EMPTY_EVENT: umqtt_event = umqtt_event {
    kind: UMQTT_EVENT_NEED_MORE as u8,
    consumed: 0,
    needed: 0,
    packet_len: 0,
    session_present: false,
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
    codes_offset: 0,
    codes_count: 0,
};

/// What actually lives in `umqtt_session`: a marker proving `umqtt_session_init`
/// ran (so garbage storage is refused, not interpreted), then the session.
#[repr(C)]
struct SessionStorage {
    magic: u64,
    session: Session,
}

/// "umqtt\0s1"
const SESSION_MAGIC: u64 = 0x756d_7174_7400_7331;

const _: () = assert!(size_of::<umqtt_session>() == UMQTT_SESSION_SIZE);
const _: () = assert!(align_of::<umqtt_session>() == UMQTT_SESSION_ALIGN);
const _: () = assert!(size_of::<Session>() <= UMQTT_SESSION_SIZE);
const _: () = assert!(size_of::<SessionStorage>() <= UMQTT_SESSION_SIZE);
const _: () = assert!(align_of::<SessionStorage>() <= UMQTT_SESSION_ALIGN);
const _: () = assert!(session::MAX_INFLIGHT == UMQTT_MAX_INFLIGHT);
const _: () = assert!(session::REPLY_MAX == UMQTT_REPLY_MAX);

type Result<T> = core::result::Result<T, umqtt_status>;

/// # Safety
/// `s` is NULL or points to a valid `umqtt_session` not otherwise borrowed.
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
    // SAFETY: the marker shows umqtt_session_init wrote a Session here.
    Ok(unsafe { &mut (*storage).session })
}

/// # Safety
/// As [`session_mut`], shared access.
unsafe fn session_ref<'a>(s: *const umqtt_session) -> Result<&'a Session> {
    // SAFETY: forwarded contract; the reference is only read.
    unsafe { session_mut(s.cast_mut()) }.map(|session| &*session)
}

/// # Safety
/// `slice.ptr` is NULL or valid for `slice.len` bytes.
unsafe fn optional_bytes<'a>(slice: umqtt_slice) -> Option<&'a [u8]> {
    if slice.ptr.is_null() {
        None
    } else {
        // SAFETY: caller contract.
        Some(unsafe { core::slice::from_raw_parts(slice.ptr, slice.len) })
    }
}

/// NULL is accepted for an empty input only.
///
/// # Safety
/// `ptr` is NULL or valid for `len` bytes.
unsafe fn input_bytes<'a>(ptr: *const u8, len: usize) -> Result<&'a [u8]> {
    match (ptr.is_null(), len) {
        (true, 0) => Ok(&[]),
        (true, _) => Err(UMQTT_ERR_INVALID_ARGUMENT),
        // SAFETY: caller contract.
        (false, _) => Ok(unsafe { core::slice::from_raw_parts(ptr, len) }),
    }
}

/// # Safety
/// `ptr` is NULL or valid for writes of `cap` bytes.
unsafe fn output_bytes<'a>(ptr: *mut u8, cap: usize) -> Result<&'a mut [u8]> {
    match (ptr.is_null(), cap) {
        (true, 0) => Ok(&mut []),
        (true, _) => Err(UMQTT_ERR_INVALID_ARGUMENT),
        // SAFETY: caller contract.
        (false, _) => Ok(unsafe { core::slice::from_raw_parts_mut(ptr, cap) }),
    }
}

/// # Safety
/// `ptr` is NULL or valid for writes of a `T`.
unsafe fn out_param<'a, T>(ptr: *mut T) -> Result<&'a mut T> {
    // SAFETY: caller contract.
    unsafe { ptr.as_mut() }.ok_or(UMQTT_ERR_INVALID_ARGUMENT)
}

fn utf8(bytes: &[u8]) -> Result<&str> {
    core::str::from_utf8(bytes).map_err(|_| UMQTT_ERR_INVALID_UTF8)
}

fn field_status(error: FieldError) -> umqtt_status {
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

fn decode_status(error: DecodeError) -> umqtt_status {
    match error {
        DecodeError::RemainingLength => UMQTT_ERR_REMAINING_LENGTH,
        DecodeError::ReservedFlags => UMQTT_ERR_RESERVED_FLAGS,
        DecodeError::InvalidPacketType
        | DecodeError::ReservedBits
        | DecodeError::LengthMismatch
        | DecodeError::WillFlags => UMQTT_ERR_MALFORMED,
        DecodeError::Field(field) => field_status(field),
    }
}

fn encode_status(error: EncodeError) -> umqtt_status {
    match error {
        EncodeError::BufferTooSmall { .. } => UMQTT_ERR_BUFFER_TOO_SMALL,
        EncodeError::PacketTooLarge => UMQTT_ERR_PAYLOAD_TOO_LARGE,
        EncodeError::DupWithQos0 => UMQTT_ERR_RESERVED_FLAGS,
        EncodeError::Field(field) => field_status(field),
    }
}

fn session_status(error: SessionError) -> umqtt_status {
    match error {
        SessionError::Decode(error) => decode_status(error),
        SessionError::Encode(error) => encode_status(error),
        SessionError::UnexpectedPacket(_) => UMQTT_ERR_UNEXPECTED_PACKET,
        SessionError::NotConnected => UMQTT_ERR_NOT_CONNECTED,
        SessionError::Refused(_) => UMQTT_ERR_REFUSED,
        SessionError::InflightFull | SessionError::PendingFull => UMQTT_ERR_INFLIGHT_FULL,
        SessionError::QueueFull => UMQTT_ERR_QUEUE_FULL,
        SessionError::InboundFull => UMQTT_ERR_INBOUND_FULL,
        SessionError::NoSuchSlot => UMQTT_ERR_NO_SUCH_SLOT,
        SessionError::ClientIdTooLong => UMQTT_ERR_CLIENT_ID_TOO_LONG,
        SessionError::SubackCountMismatch => UMQTT_ERR_MALFORMED,
    }
}

/// The size a caller must provide when its buffer was too small.
fn needed_len(error: &SessionError) -> Option<usize> {
    match error {
        SessionError::Encode(EncodeError::BufferTooSmall { needed }) => Some(*needed),
        _ => None,
    }
}

fn status_code(result: Result<()>) -> i32 {
    match result {
        Ok(()) => UMQTT_OK as i32,
        Err(status) => status as i32,
    }
}

/// Stores the written length, or the needed length on `BufferTooSmall`.
fn report_len(
    result: core::result::Result<usize, SessionError>,
    out_len: &mut usize,
) -> Result<()> {
    match result {
        Ok(len) => {
            *out_len = len;
            Ok(())
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
    match result {
        Ok(outcome) => {
            *info = umqtt_publish_info {
                len: outcome.len,
                payload_included: outcome.payload_included,
                packet_id: outcome.packet_id,
                slot: outcome.slot.unwrap_or(NO_SLOT),
            };
            Ok(())
        }
        Err(error) => {
            info.len = needed_len(&error).unwrap_or(0);
            Err(session_status(error))
        }
    }
}

/// The out-parameter, topic and payload every PUBLISH entry point takes: the
/// info is reset (slot as given) before anything can fail.
///
/// # Safety
/// Pointers are NULL or valid for their stated sizes.
unsafe fn publish_inputs<'a>(
    info: *mut umqtt_publish_info,
    slot: u8,
    topic: umqtt_slice,
    payload: umqtt_slice,
) -> Result<(&'a mut umqtt_publish_info, &'a str, &'a [u8])> {
    // SAFETY: caller contract for every pointer.
    let info = unsafe { out_param(info) }?;
    *info = umqtt_publish_info {
        len: 0,
        payload_included: false,
        packet_id: 0,
        slot,
    };
    // SAFETY: caller contract.
    let topic = utf8(unsafe { input_bytes(topic.ptr, topic.len) }?)?;
    // SAFETY: caller contract.
    let payload = unsafe { input_bytes(payload.ptr, payload.len) }?;
    Ok((info, topic, payload))
}

const fn message(text: &'static [u8]) -> *const c_char {
    text.as_ptr().cast()
}

/// Static NUL-terminated English message for a status.
#[no_mangle]
pub extern "C" fn umqtt_status_message(status: i32) -> *const c_char {
    message(match status {
        0 => b"ok\0",
        -1 => b"buffer too small\0",
        -2 => b"remaining length too large\0",
        -3 => b"reserved flag bits wrong for packet type\0",
        -4 => b"invalid UTF-8 string\0",
        -5 => b"wildcard in topic name\0",
        -6 => b"unexpected packet\0",
        -7 => b"malformed packet\0",
        -8 => b"invalid QoS\0",
        -9 => b"empty topic\0",
        -10 => b"topic too long\0",
        -11 => b"payload too large\0",
        -12 => b"password without user name\0",
        -13 => b"invalid protocol level\0",
        -14 => b"too many messages in flight\0",
        -15 => b"not connected\0",
        -16 => b"connection refused\0",
        -17 => b"no such in-flight slot\0",
        -18 => b"invalid keepalive\0",
        -19 => b"client id too long\0",
        -20 => b"too many inbound QoS 2 messages\0",
        -21 => b"invalid topic filter\0",
        -22 => b"invalid argument\0",
        -23 => b"offline queue full\0",
        _ => b"unknown error\0",
    })
}

/// Static message for a CONNACK return code.
#[no_mangle]
pub extern "C" fn umqtt_connack_message(code: u8) -> *const c_char {
    message(match code {
        0 => b"connection accepted\0",
        1 => b"unacceptable protocol version\0",
        2 => b"identifier rejected\0",
        3 => b"server unavailable\0",
        4 => b"bad user name or password\0",
        5 => b"not authorized\0",
        _ => b"unknown\0",
    })
}

/// Fresh, disconnected session with an empty in-flight table. NULL is ignored.
///
/// # Safety
/// `s` is NULL or points to writable storage of `UMQTT_SESSION_SIZE` bytes, aligned to 8.
#[no_mangle]
pub unsafe extern "C" fn umqtt_session_init(s: *mut umqtt_session) {
    let storage = s.cast::<SessionStorage>();
    if storage.is_null() {
        return;
    }
    // SAFETY: caller contract; size and alignment asserted at compile time.
    unsafe {
        storage.write(SessionStorage {
            magic: SESSION_MAGIC,
            session: Session::new(),
        });
    }
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
                topic: utf8(topic)?,
                message,
                qos: QoS::from_u8(opts.will_qos).map_err(field_status)?,
                retain: opts.will_retain,
            })
        }
    };
    Ok(ConnectOptions {
        protocol,
        client_id: utf8(client_id.unwrap_or(&[]))?,
        username: username.map(utf8).transpose()?,
        password,
        will,
        keep_alive_s: opts.keep_alive_s,
        clean_session: opts.clean_session,
        ping_max_unanswered: opts.ping_max_unanswered,
    })
}

/// Validates options, encodes CONNECT, enters CONNECTING.
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
    // SAFETY: caller contract for every pointer.
    status_code(unsafe {
        (|| {
            let session = session_mut(s)?;
            let out_len = out_param(out_len)?;
            *out_len = 0;
            let opts = opts.as_ref().ok_or(UMQTT_ERR_INVALID_ARGUMENT)?;
            let out = output_bytes(out, out_cap)?;
            let strings = [
                optional_bytes(opts.client_id),
                optional_bytes(opts.username),
                optional_bytes(opts.password),
                optional_bytes(opts.will_topic),
                optional_bytes(opts.will_payload),
            ];
            let options = connect_options(opts, strings)?;
            report_len(session.connect(&options, now_ms, out), out_len)
        })()
    })
}

fn offset_in(buf: &[u8], part: &[u8]) -> usize {
    (part.as_ptr() as usize).wrapping_sub(buf.as_ptr() as usize)
}

fn fill_event(ev: &mut umqtt_event, buf: &[u8], event: &Event<'_>) {
    let kind = match *event {
        Event::ConnAck { session_present } => {
            ev.session_present = session_present;
            UMQTT_EVENT_CONNACK
        }
        Event::Publish { publish, duplicate } => {
            ev.topic_offset = offset_in(buf, publish.topic.as_bytes());
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
            ev.codes_offset = offset_in(buf, ack.return_codes);
            ev.codes_count = ack.return_codes.len();
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

/// Parses at most one packet from `buf` and writes any reply.
///
/// # Safety
/// Pointers are NULL or valid for their stated sizes.
#[no_mangle]
pub unsafe extern "C" fn umqtt_receive(
    s: *mut umqtt_session,
    buf: *const u8,
    len: usize,
    now_ms: u32,
    ev: *mut umqtt_event,
    reply: *mut u8,
    reply_cap: usize,
    reply_len: *mut usize,
) -> i32 {
    // SAFETY: caller contract for every pointer.
    status_code(unsafe {
        (|| {
            let session = session_mut(s)?;
            let ev = out_param(ev)?;
            *ev = EMPTY_EVENT;
            let reply_len = out_param(reply_len)?;
            *reply_len = 0;
            let input = input_bytes(buf, len)?;
            let reply = output_bytes(reply, reply_cap)?;
            match session.receive(input, now_ms, reply) {
                Ok(Status::Partial(needed)) => {
                    ev.needed = needed;
                    if let Ok(Status::Complete(header)) = decode_fixed_header(input) {
                        ev.packet_len = header.packet_len();
                    }
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
                    // A CONNACK is always 4 bytes.
                    ev.consumed = 4;
                    Err(UMQTT_ERR_REFUSED)
                }
                Err(error) => Err(session_status(error)),
            }
        })()
    })
}

/// QoS 0/1/2 PUBLISH.
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
    now_ms: u32,
    out: *mut u8,
    out_cap: usize,
    info: *mut umqtt_publish_info,
) -> i32 {
    // SAFETY: caller contract for every pointer.
    status_code(unsafe {
        (|| {
            let session = session_mut(s)?;
            let (info, topic, payload) = publish_inputs(info, NO_SLOT, topic, payload)?;
            let qos = QoS::from_u8(qos).map_err(field_status)?;
            let out = output_bytes(out, out_cap)?;
            report_publish(
                session.publish(topic, payload, qos, retain, now_ms, out),
                info,
            )
        })()
    })
}

/// Keeps a QoS 1/2 message while offline: it takes a packet id and a slot and is
/// sent by `umqtt_retransmit` after the next CONNACK, in order, without DUP. At
/// most `max_unsent` such messages wait at once (`UMQTT_ERR_QUEUE_FULL`).
/// `info->len` is 0: nothing is encoded now.
///
/// # Safety
/// Pointers are NULL or valid for their stated sizes.
#[no_mangle]
pub unsafe extern "C" fn umqtt_queue(
    s: *mut umqtt_session,
    topic: umqtt_slice,
    payload: umqtt_slice,
    qos: u8,
    retain: bool,
    max_unsent: u8,
    info: *mut umqtt_publish_info,
) -> i32 {
    // SAFETY: caller contract for every pointer.
    status_code(unsafe {
        (|| {
            let session = session_mut(s)?;
            let (info, topic, payload) = publish_inputs(info, NO_SLOT, topic, payload)?;
            let qos = QoS::from_u8(qos).map_err(field_status)?;
            let (packet_id, slot) = session
                .queue(topic, payload, qos, retain, max_unsent)
                .map_err(session_status)?;
            info.packet_id = packet_id;
            info.slot = slot;
            Ok(())
        })()
    })
}

/// Slots in flight in first-send order; returns how many were written.
///
/// # Safety
/// `s` is NULL or a valid session; `slots_out` is NULL or valid for `cap` bytes.
#[no_mangle]
pub unsafe extern "C" fn umqtt_inflight_slots(
    s: *const umqtt_session,
    slots_out: *mut u8,
    cap: usize,
) -> usize {
    // SAFETY: caller contract.
    let (Ok(session), Ok(out)) = (unsafe { session_ref(s) }, unsafe {
        output_bytes(slots_out, cap)
    }) else {
        return 0;
    };
    let mut written = 0;
    for (target, entry) in out.iter_mut().zip(session.inflight()) {
        *target = entry.slot;
        written += 1;
    }
    written
}

/// Re-encodes in-flight `slot` after a reconnect (PUBLISH with DUP, or PUBREL).
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
    // SAFETY: caller contract for every pointer.
    status_code(unsafe {
        (|| {
            let session = session_mut(s)?;
            let (info, topic, payload) = publish_inputs(info, slot, topic, payload)?;
            let out = output_bytes(out, out_cap)?;
            report_publish(session.retransmit(slot, topic, payload, now_ms, out), info)
        })()
    })
}

/// Drops an in-flight slot.
///
/// # Safety
/// `s` is NULL or a valid session.
#[no_mangle]
pub unsafe extern "C" fn umqtt_release_slot(s: *mut umqtt_session, slot: u8) -> i32 {
    // SAFETY: caller contract.
    status_code(
        unsafe { session_mut(s) }
            .and_then(|session| session.release_slot(slot).map_err(session_status)),
    )
}

/// SUBSCRIBE one filter.
///
/// # Safety
/// Pointers are NULL or valid for their stated sizes.
#[no_mangle]
pub unsafe extern "C" fn umqtt_subscribe(
    s: *mut umqtt_session,
    filter: umqtt_slice,
    qos: u8,
    now_ms: u32,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
    packet_id: *mut u16,
) -> i32 {
    // SAFETY: caller contract for every pointer.
    status_code(unsafe {
        (|| {
            let session = session_mut(s)?;
            let out_len = out_param(out_len)?;
            *out_len = 0;
            let packet_id = out_param(packet_id)?;
            *packet_id = 0;
            let filter = utf8(input_bytes(filter.ptr, filter.len)?)?;
            let qos = QoS::from_u8(qos).map_err(field_status)?;
            let out = output_bytes(out, out_cap)?;
            let topics = [SubscribeTopic { filter, qos }];
            let result = session.subscribe(&topics, now_ms, out).map(|(len, id)| {
                *packet_id = id;
                len
            });
            report_len(result, out_len)
        })()
    })
}

/// UNSUBSCRIBE one filter.
///
/// # Safety
/// Pointers are NULL or valid for their stated sizes.
#[no_mangle]
pub unsafe extern "C" fn umqtt_unsubscribe(
    s: *mut umqtt_session,
    filter: umqtt_slice,
    now_ms: u32,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
    packet_id: *mut u16,
) -> i32 {
    // SAFETY: caller contract for every pointer.
    status_code(unsafe {
        (|| {
            let session = session_mut(s)?;
            let out_len = out_param(out_len)?;
            *out_len = 0;
            let packet_id = out_param(packet_id)?;
            *packet_id = 0;
            let filter = utf8(input_bytes(filter.ptr, filter.len)?)?;
            let out = output_bytes(out, out_cap)?;
            let result = session
                .unsubscribe(&[filter], now_ms, out)
                .map(|(len, id)| {
                    *packet_id = id;
                    len
                });
            report_len(result, out_len)
        })()
    })
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
    // SAFETY: caller contract for every pointer.
    status_code(unsafe {
        (|| {
            let session = session_mut(s)?;
            let out_len = out_param(out_len)?;
            *out_len = 0;
            let out = output_bytes(out, out_cap)?;
            report_len(session.ping(now_ms, out), out_len)
        })()
    })
}

/// DISCONNECT; state becomes disconnected, in-flight kept.
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
    // SAFETY: caller contract for every pointer.
    status_code(unsafe {
        (|| {
            let session = session_mut(s)?;
            let out_len = out_param(out_len)?;
            *out_len = 0;
            let out = output_bytes(out, out_cap)?;
            report_len(session.disconnect(out), out_len)
        })()
    })
}

/// The transport is gone. NULL / uninitialised sessions are ignored.
///
/// # Safety
/// `s` is NULL or a valid session.
#[no_mangle]
pub unsafe extern "C" fn umqtt_connection_lost(s: *mut umqtt_session) {
    // SAFETY: caller contract.
    if let Ok(session) = unsafe { session_mut(s) } {
        session.connection_lost();
    }
}

/// New bytes arrived from the server, not parsed yet: proof of life for the
/// keepalive. NULL / uninitialised sessions are ignored.
///
/// # Safety
/// `s` is NULL or a valid session.
#[no_mangle]
pub unsafe extern "C" fn umqtt_bytes_received(s: *mut umqtt_session, now_ms: u32) {
    // SAFETY: caller contract.
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
    // SAFETY: caller contract for every pointer.
    let result = unsafe {
        (|| {
            let session = session_mut(s)?;
            let out_len = out_param(out_len)?;
            *out_len = 0;
            let wait_ms = out_param(wait_ms)?;
            *wait_ms = u32::MAX;
            let out = output_bytes(out, out_cap)?;
            match session.tick(now_ms, out) {
                Ok(Tick::Idle { wait_ms: wait }) => {
                    *wait_ms = wait;
                    Ok(umqtt_tick_action::UMQTT_TICK_IDLE)
                }
                Ok(Tick::SendPing { len, wait_ms: wait }) => {
                    *out_len = len;
                    *wait_ms = wait;
                    Ok(umqtt_tick_action::UMQTT_TICK_SEND)
                }
                Ok(Tick::Dead) => {
                    *wait_ms = 0;
                    Ok(umqtt_tick_action::UMQTT_TICK_DEAD)
                }
                Err(error) => {
                    *out_len = needed_len(&error).unwrap_or(0);
                    Err(session_status(error))
                }
            }
        })()
    };
    match result {
        Ok(action) => action as i32,
        Err(status) => status as i32,
    }
}

/// True while connected. NULL / uninitialised: false.
///
/// # Safety
/// `s` is NULL or a valid session.
#[no_mangle]
pub unsafe extern "C" fn umqtt_is_connected(s: *const umqtt_session) -> bool {
    // SAFETY: caller contract.
    unsafe { session_ref(s) }.is_ok_and(Session::is_connected)
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
    // SAFETY: caller contract.
    let Ok(bytes) = (unsafe { input_bytes(buf, len) }) else {
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
    // SAFETY: caller contract.
    let result = unsafe { input_bytes(topic.ptr, topic.len) }
        .and_then(utf8)
        .and_then(|name| mqtt_core::codec::validate::topic_name(name).map_err(field_status));
    match result {
        Ok(()) => UMQTT_OK as i32,
        Err(status) => status as i32,
    }
}

/// Reconnect delay for `attempt` (0-based), jittered by `random`.
#[no_mangle]
pub extern "C" fn umqtt_backoff_ms(attempt: u32, random: u32) -> u32 {
    session::backoff_ms(attempt, random)
}

/// CONNACK codes a retry cannot fix (1, 2, 4, 5).
#[no_mangle]
pub extern "C" fn umqtt_refusal_is_permanent(code: u8) -> bool {
    session::refusal_is_permanent(code)
}

#[cfg(test)]
mod tests;
