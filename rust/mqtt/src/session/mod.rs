//! The client side of an MQTT connection as plain data: no I/O, no clock, no pointers.
//! The caller moves bytes and passes the time in milliseconds.

mod backoff;
mod error;
mod inflight;
mod keepalive;
pub mod link;
pub mod subs;

pub use backoff::{backoff_ms, refusal_is_permanent};
pub use error::SessionError;
pub use inflight::{
    Outgoing, OutgoingStage, RequestKind, RequestRecord, RequestState, Unacked, MAX_INBOUND_QOS2,
    MAX_INFLIGHT, MAX_REQUESTS, MAX_UNACKED,
};
pub use keepalive::{KeepAlive, KeepAliveAction};
pub use link::{Link, LinkStatus, LoginFailure, ReconnectPoll};
pub use subs::{SubEntry, SubState, MAX_SUBSCRIPTIONS, SUBS_MAX_BYTES};

use crate::codec::{
    decode_from_server, encode_ack, encode_connect, encode_empty, encode_publish, encode_subscribe,
    encode_unsubscribe, packet_len, publish_header_len, ConnAck, Connect, ConnectReturnCode,
    EncodeError, FieldError, LastWill, Packet, PacketType, Protocol, Publish, QoS, QosPid, Status,
    SubAck, SubackReturnCode, SubscribeTopic,
};
use heapless::Vec;
use inflight::OutgoingTable;

/// Largest reply [`Session::receive`] writes: PUBACK/PUBREC/PUBREL/PUBCOMP.
pub const REPLY_MAX: usize = 4;
/// MQTT 3.1 limits client ids to 23 bytes.
const V31_MAX_CLIENT_ID_LEN: usize = 23;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionState {
    Disconnected,
    /// CONNECT sent, CONNACK not yet received.
    Connecting,
    Connected,
}

/// What [`Session::connect`] puts in the CONNECT packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectOptions<'a> {
    pub protocol: Protocol,
    pub client_id: &'a str,
    pub username: Option<&'a str>,
    pub password: Option<&'a [u8]>,
    pub will: Option<LastWill<'a>>,
    /// Seconds; 0 disables keepalive.
    pub keep_alive_s: u16,
    pub clean_session: bool,
    /// Unanswered PINGREQs tolerated before the server counts as dead.
    pub ping_max_unanswered: u8,
}

/// A packet [`Session::receive`] consumed and what it means for the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event<'a> {
    /// The server accepted the connection.
    ConnAck {
        session_present: bool,
        /// This login was a background reconnect attempt.
        reconnected: bool,
    },
    /// A message to deliver, unless `duplicate` (QoS 2 redelivery before PUBREL).
    Publish {
        publish: Publish<'a>,
        duplicate: bool,
    },
    /// PUBACK or PUBCOMP finished an outgoing message; `slot` is free again.
    PublishDone {
        packet_id: u16,
        slot: u8,
    },
    /// Our QoS 2 message reached the server; the reply holds PUBREL.
    PubRec {
        packet_id: u16,
        slot: u8,
    },
    /// An inbound QoS 2 message was released; the reply holds PUBCOMP.
    PubRel {
        packet_id: u16,
    },
    SubAck {
        ack: SubAck<'a>,
    },
    UnsubAck {
        packet_id: u16,
    },
    PingResp,
    /// A well-formed ack for a packet id we are not waiting on.
    Ignored,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Received<'a> {
    pub event: Event<'a>,
    /// Bytes of the input the packet occupied.
    pub consumed: usize,
    /// Bytes of reply to send (0 when none).
    pub reply_len: usize,
}

/// Result of encoding a PUBLISH (or its PUBREL stand-in on retransmission).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublishOutcome {
    /// Bytes written.
    pub len: usize,
    /// `false`: only the header was written; the caller sends the payload after it.
    pub payload_included: bool,
    /// 0 for QoS 0.
    pub packet_id: u16,
    /// In-flight slot for QoS 1/2.
    pub slot: Option<u8>,
    /// Kept offline for sending after the next CONNACK; nothing was encoded.
    pub queued: bool,
}

/// What [`Session::restore_next`] wants sent next after a CONNACK.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestoreStep {
    /// Nothing (more) to restore.
    Done,
    /// `len` bytes of SUBSCRIBE restoring table entries are in the output buffer.
    Send { len: usize },
    /// Resend in-flight `slot` with [`Session::retransmit`].
    Retransmit { slot: u8 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RestorePhase {
    Subscriptions,
    Messages,
    Done,
}

/// In-flight slots as a bit set (`MAX_INFLIGHT` <= 16).
fn slot_bit(slot: u8) -> u16 {
    1u16.checked_shl(u32::from(slot)).unwrap_or(0)
}

/// What [`Session::tick`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tick {
    Idle {
        wait_ms: u32,
    },
    /// A PINGREQ of `len` bytes is in the output buffer.
    SendPing {
        len: usize,
        wait_ms: u32,
    },
    Dead,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Protocol state of the current transport.
    state: ConnectionState,
    /// Login and reconnect policy.
    link: Link,
    keep_alive: KeepAlive,
    /// Next packet id to try; ids in use are skipped.
    next_packet_id: u16,
    outgoing: OutgoingTable,
    inbound_qos2: Vec<u16, MAX_INBOUND_QOS2>,
    /// SUBSCRIBE/UNSUBSCRIBE on the wire of the current link.
    unacked: Vec<Unacked, MAX_UNACKED>,
    /// Requests callers wait on.
    requests: Vec<RequestRecord, MAX_REQUESTS>,
    restore: RestorePhase,
    /// In-flight slots the current restore already resent (or sent new).
    restored_slots: u16,
}

impl Default for Session {
    fn default() -> Self {
        Self::new()
    }
}

impl Session {
    pub const fn new() -> Self {
        Self::with_seed(0)
    }

    /// `seed` drives the reconnect jitter (0 is replaced by a constant).
    pub const fn with_seed(seed: u32) -> Self {
        Session {
            state: ConnectionState::Disconnected,
            link: Link::new(seed),
            keep_alive: KeepAlive::new(),
            next_packet_id: 1,
            outgoing: OutgoingTable::new(),
            inbound_qos2: Vec::new(),
            unacked: Vec::new(),
            requests: Vec::new(),
            restore: RestorePhase::Done,
            restored_slots: 0,
        }
    }

    /// Link status as `get_mqttsta()` reports it.
    pub fn status(&self) -> LinkStatus {
        self.link.status()
    }

    pub fn link(&self) -> &Link {
        &self.link
    }

    pub fn set_auto_reconnect(&mut self, on: bool) {
        self.link.set_auto_reconnect(on);
    }

    /// A login starts (`background`: a reconnect attempt, else the script's
    /// `connect()`, which resets the attempt counter). One at a time; a link
    /// that is up counts as lost.
    pub fn login_begin(&mut self, background: bool) -> Result<(), SessionError> {
        self.link
            .begin(background)
            .map_err(|link::Busy| SessionError::Busy)?;
        self.drop_link();
        Ok(())
    }

    /// The login failed before a CONNACK accepted it (`refusal_code` 0 for
    /// anything but a refusal). Outside a login nothing changes.
    pub fn login_failed(&mut self, refusal_code: u8, now_ms: u32) -> LoginFailure {
        if self.link.is_connecting() {
            self.drop_link();
        }
        self.link.failed(refusal_code, now_ms)
    }

    /// The transport died: pending requests become `Lost`, pings are
    /// forgotten, in-flight messages are kept. Returns true when a reconnect
    /// cycle starts (the first attempt is due now). `now_ms` is unused today:
    /// the first attempt is immediate.
    pub fn link_lost(&mut self, now_ms: u32) -> bool {
        let _ = now_ms;
        self.drop_link();
        self.link.lost()
    }

    /// The script closed the link: nothing is scheduled.
    pub fn close(&mut self) {
        self.drop_link();
        self.link.close();
    }

    /// Is a background login attempt due?
    pub fn reconnect_poll(&self, now_ms: u32) -> ReconnectPoll {
        self.link.poll(now_ms)
    }

    fn drop_link(&mut self) {
        self.state = ConnectionState::Disconnected;
        self.keep_alive.clear_pings();
        self.unacked.clear();
        for request in &mut self.requests {
            if request.state == RequestState::Pending {
                request.state = RequestState::Lost;
            }
        }
        self.restore = RestorePhase::Done;
        self.restored_slots = 0;
    }

    pub fn state(&self) -> ConnectionState {
        self.state
    }

    pub fn is_connected(&self) -> bool {
        self.state == ConnectionState::Connected
    }

    pub fn keep_alive(&self) -> &KeepAlive {
        &self.keep_alive
    }

    /// Outgoing messages in flight, in first-send order.
    pub fn inflight(&self) -> impl Iterator<Item = &Outgoing> {
        self.outgoing.iter()
    }

    pub fn inflight_len(&self) -> usize {
        self.outgoing.len()
    }

    /// Requests callers wait on.
    pub fn requests(&self) -> &[RequestRecord] {
        &self.requests
    }

    /// SUBSCRIBE/UNSUBSCRIBE packets of the current link awaiting their ack.
    pub fn unacked(&self) -> &[Unacked] {
        &self.unacked
    }

    /// How the request `packet_id` ended; `None` when there is no such record.
    /// A finished record (anything but `Pending`) is consumed.
    pub fn request_result(&mut self, packet_id: u16) -> Option<RequestState> {
        let state = self
            .requests
            .iter()
            .find(|request| request.packet_id == packet_id)?
            .state;
        if state != RequestState::Pending {
            self.request_forget(packet_id);
        }
        Some(state)
    }

    /// The waiter gave up; an answer still updates the subscription table.
    pub fn request_forget(&mut self, packet_id: u16) {
        self.requests
            .retain(|request| request.packet_id != packet_id);
    }

    /// True while the message in `slot` with `packet_id` awaits PUBACK/PUBCOMP.
    pub fn publish_pending(&self, slot: u8, packet_id: u16) -> bool {
        self.outgoing
            .by_slot(slot)
            .is_some_and(|entry| entry.packet_id == packet_id)
    }

    /// An inbound QoS 2 message could not be delivered and its PUBREC was not
    /// sent: forget its id so the redelivery is delivered, not dropped.
    pub fn inbound_forget(&mut self, packet_id: u16) {
        self.inbound_qos2.retain(|&id| id != packet_id);
    }

    /// Encodes CONNECT and starts connecting. The in-flight table survives for
    /// retransmission; requests awaiting acks do not (their acks died with the old
    /// connection).
    pub fn connect(
        &mut self,
        options: &ConnectOptions<'_>,
        now_ms: u32,
        out: &mut [u8],
    ) -> Result<usize, SessionError> {
        let client_id_limit = match options.protocol {
            Protocol::V31 => V31_MAX_CLIENT_ID_LEN,
            Protocol::V311 => crate::codec::validate::MAX_FIELD_LEN,
        };
        if options.client_id.len() > client_id_limit {
            return Err(SessionError::ClientIdTooLong);
        }
        let connect = Connect {
            protocol: options.protocol,
            clean_session: options.clean_session,
            keep_alive: options.keep_alive_s,
            client_id: options.client_id,
            will: options.will,
            username: options.username,
            password: options.password,
        };
        let len = encode_connect(&connect, out)?;
        if !self.link.is_connecting() {
            // No login_begin: this is the script's own login.
            let _ = self.link.begin(false);
        }
        self.drop_link();
        self.state = ConnectionState::Connecting;
        self.keep_alive
            .start(now_ms, options.keep_alive_s, options.ping_max_unanswered);
        Ok(len)
    }

    /// Handles at most one packet from the start of `buf`, writing any reply into
    /// `reply`; SUBACK/UNSUBACK/CONNACK update the subscription table in `subs`.
    /// After an error the caller must drop the connection.
    pub fn receive<'a>(
        &mut self,
        subs: &mut [u8],
        buf: &'a [u8],
        now_ms: u32,
        reply: &mut [u8],
    ) -> Result<Status<Received<'a>>, SessionError> {
        // Only a whole packet proves the server alive: a stalled half packet
        // parsed again and again must not (new bytes count via `bytes_received`).
        let (packet, consumed) = match decode_from_server(buf)? {
            Status::Partial(needed) => return Ok(Status::Partial(needed)),
            Status::Complete(decoded) => decoded,
        };
        self.keep_alive.on_receive(now_ms);
        let (event, reply_len) = self.handle(subs, packet, reply)?;
        Ok(Status::Complete(Received {
            event,
            consumed,
            reply_len,
        }))
    }

    fn handle<'a>(
        &mut self,
        subs: &mut [u8],
        packet: Packet<'a>,
        reply: &mut [u8],
    ) -> Result<(Event<'a>, usize), SessionError> {
        let packet_type = packet.packet_type();
        let expected_now = match packet_type {
            PacketType::ConnAck => self.state == ConnectionState::Connecting,
            PacketType::Connect
            | PacketType::Subscribe
            | PacketType::Unsubscribe
            | PacketType::PingReq
            | PacketType::Disconnect => false,
            // The server's first packet must be CONNACK [MQTT-3.2.0-1].
            _ => self.state == ConnectionState::Connected,
        };
        if !expected_now {
            return Err(SessionError::UnexpectedPacket(packet_type));
        }
        match packet {
            Packet::ConnAck(ack) => self.on_connack(subs, ack).map(|event| (event, 0)),
            Packet::Publish(publish) => self.on_publish(publish, reply),
            Packet::PubAck(packet_id) => Ok((self.on_puback(packet_id), 0)),
            Packet::PubRec(packet_id) => self.on_pubrec(packet_id, reply),
            Packet::PubRel(packet_id) => self.on_pubrel(packet_id, reply),
            Packet::PubComp(packet_id) => Ok((self.on_pubcomp(packet_id), 0)),
            Packet::SubAck(ack) => self.on_suback(subs, ack).map(|event| (event, 0)),
            Packet::UnsubAck(packet_id) => Ok((self.on_unsuback(subs, packet_id), 0)),
            Packet::PingResp => Ok((Event::PingResp, 0)),
            Packet::Connect(_)
            | Packet::Subscribe(_)
            | Packet::Unsubscribe(_)
            | Packet::PingReq
            | Packet::Disconnect => Err(SessionError::UnexpectedPacket(packet_type)),
        }
    }

    fn on_connack(
        &mut self,
        subs: &mut [u8],
        ack: ConnAck,
    ) -> Result<Event<'static>, SessionError> {
        if ack.code != ConnectReturnCode::Accepted {
            // The link stays "connecting" until the caller reports the failure.
            self.state = ConnectionState::Disconnected;
            return Err(SessionError::Refused(ack.code));
        }
        self.state = ConnectionState::Connected;
        let reconnected = self.link.connected();
        if !ack.session_present {
            // The server forgot its half of any inbound QoS 2 exchange.
            self.inbound_qos2.clear();
        }
        // Everything kept is subscribed again; removals in progress are done.
        subs::update(subs, |entry| match entry.state {
            SubState::Removing { .. } => subs::Update::Remove,
            SubState::ToRestore => subs::Update::Keep,
            SubState::Active | SubState::Requested { .. } => subs::Update::Set(SubState::ToRestore),
        });
        self.restore = RestorePhase::Subscriptions;
        self.restored_slots = 0;
        Ok(Event::ConnAck {
            session_present: ack.session_present,
            reconnected,
        })
    }

    fn on_publish<'a>(
        &mut self,
        publish: Publish<'a>,
        reply: &mut [u8],
    ) -> Result<(Event<'a>, usize), SessionError> {
        // One Event built after the match, not one per QoS.
        let (duplicate, reply_len) = match publish.qos_pid {
            QosPid::AtMostOnce => (false, 0),
            QosPid::AtLeastOnce(packet_id) => {
                (false, encode_ack(PacketType::PubAck, packet_id, reply)?)
            }
            QosPid::ExactlyOnce(packet_id) => {
                let duplicate = self.inbound_qos2.contains(&packet_id);
                if !duplicate && self.inbound_qos2.is_full() {
                    return Err(SessionError::InboundFull);
                }
                let reply_len = encode_ack(PacketType::PubRec, packet_id, reply)?;
                if !duplicate {
                    // room was checked above
                    let _ = self.inbound_qos2.push(packet_id);
                }
                (duplicate, reply_len)
            }
        };
        Ok((Event::Publish { publish, duplicate }, reply_len))
    }

    fn on_puback(&mut self, packet_id: u16) -> Event<'static> {
        self.finish_outgoing(packet_id, OutgoingStage::AwaitPubAck)
    }

    fn on_pubcomp(&mut self, packet_id: u16) -> Event<'static> {
        self.finish_outgoing(packet_id, OutgoingStage::AwaitPubComp)
    }

    fn finish_outgoing(&mut self, packet_id: u16, expected: OutgoingStage) -> Event<'static> {
        let slot = match self.outgoing.by_packet_id_mut(packet_id) {
            Some(entry) if entry.stage == expected => entry.slot,
            _ => return Event::Ignored,
        };
        self.outgoing.remove_slot(slot);
        Event::PublishDone { packet_id, slot }
    }

    fn on_pubrec(
        &mut self,
        packet_id: u16,
        reply: &mut [u8],
    ) -> Result<(Event<'static>, usize), SessionError> {
        let entry = match self.outgoing.by_packet_id_mut(packet_id) {
            // A repeated PUBREC (our PUBREL was lost) is answered again.
            Some(entry)
                if matches!(
                    entry.stage,
                    OutgoingStage::AwaitPubRec | OutgoingStage::AwaitPubComp
                ) =>
            {
                entry
            }
            _ => return Ok((Event::Ignored, 0)),
        };
        let reply_len = encode_ack(PacketType::PubRel, packet_id, reply)?;
        entry.stage = OutgoingStage::AwaitPubComp;
        let slot = entry.slot;
        Ok((Event::PubRec { packet_id, slot }, reply_len))
    }

    fn on_pubrel(
        &mut self,
        packet_id: u16,
        reply: &mut [u8],
    ) -> Result<(Event<'static>, usize), SessionError> {
        // PUBCOMP even for an unknown id, so a server retrying PUBREL can finish.
        let reply_len = encode_ack(PacketType::PubComp, packet_id, reply)?;
        self.inbound_forget(packet_id);
        Ok((Event::PubRel { packet_id }, reply_len))
    }

    fn take_unacked(&mut self, packet_id: u16, kind: RequestKind) -> Option<Unacked> {
        let found = self
            .unacked
            .iter()
            .find(|request| request.packet_id == packet_id && request.kind == kind)
            .copied()?;
        self.unacked.retain(|other| other.packet_id != packet_id);
        Some(found)
    }

    fn finish_request(&mut self, packet_id: u16, kind: RequestKind, state: RequestState) {
        if let Some(request) = self.requests.iter_mut().find(|request| {
            request.packet_id == packet_id
                && request.kind == kind
                && request.state == RequestState::Pending
        }) {
            request.state = state;
        }
    }

    fn on_suback<'a>(
        &mut self,
        subs: &mut [u8],
        ack: SubAck<'a>,
    ) -> Result<Event<'a>, SessionError> {
        let Some(request) = self
            .unacked
            .iter()
            .find(|request| {
                request.packet_id == ack.packet_id && request.kind == RequestKind::Subscribe
            })
            .copied()
        else {
            return Ok(Event::Ignored);
        };
        if usize::from(request.filter_count) != ack.return_codes.len() {
            return Err(SessionError::SubackCountMismatch);
        }
        self.take_unacked(ack.packet_id, RequestKind::Subscribe);
        subs::update(subs, |entry| match entry.state {
            SubState::Requested { packet_id, index } if packet_id == ack.packet_id => {
                match ack.return_codes.get(usize::from(index)) {
                    Some(&SubackReturnCode::FAILURE) => subs::Update::Remove,
                    Some(_) => subs::Update::Set(SubState::Active),
                    None => subs::Update::Keep,
                }
            }
            _ => subs::Update::Keep,
        });
        let state = match ack.return_codes.first() {
            Some(&SubackReturnCode::FAILURE) | None => RequestState::Refused,
            Some(&granted) => RequestState::Done(granted),
        };
        self.finish_request(ack.packet_id, RequestKind::Subscribe, state);
        Ok(Event::SubAck { ack })
    }

    fn on_unsuback(&mut self, subs: &mut [u8], packet_id: u16) -> Event<'static> {
        if self
            .take_unacked(packet_id, RequestKind::Unsubscribe)
            .is_none()
        {
            return Event::Ignored;
        }
        subs::update(subs, |entry| match entry.state {
            SubState::Removing { packet_id: id } if id == packet_id => subs::Update::Remove,
            _ => subs::Update::Keep,
        });
        self.finish_request(packet_id, RequestKind::Unsubscribe, RequestState::Done(0));
        Event::UnsubAck { packet_id }
    }

    fn packet_id_in_use(&self, subs: &[u8], packet_id: u16) -> bool {
        self.outgoing.contains_packet_id(packet_id)
            || self
                .unacked
                .iter()
                .any(|request| request.packet_id == packet_id)
            || self
                .requests
                .iter()
                .any(|request| request.packet_id == packet_id)
            || subs::entries(subs).any(|entry| entry.state.packet_id() == Some(packet_id))
    }

    /// The next free packet id at or after `next_packet_id`, wrapping 65535 -> 1.
    /// At most a hundred ids are in use, so the search ends after a few steps.
    fn free_packet_id(&self, subs: &[u8]) -> u16 {
        let mut candidate = self.next_packet_id;
        for _ in 0..=u16::MAX {
            if candidate != 0 && !self.packet_id_in_use(subs, candidate) {
                return candidate;
            }
            candidate = candidate.wrapping_add(1);
        }
        candidate
    }

    fn commit_packet_id(&mut self, packet_id: u16) {
        self.next_packet_id = packet_id.wrapping_add(1).max(1);
    }

    fn require_connected(&self) -> Result<(), SessionError> {
        if self.is_connected() {
            Ok(())
        } else {
            Err(SessionError::NotConnected)
        }
    }

    /// Encodes a PUBLISH. QoS 1/2 take a packet id and an in-flight slot. The whole
    /// packet is written when it fits, else only the header (the caller sends the
    /// payload right after), else `BufferTooSmall { needed: header size }`.
    /// On error nothing changes.
    pub fn publish(
        &mut self,
        topic: &str,
        payload: &[u8],
        qos: QoS,
        retain: bool,
        now_ms: u32,
        out: &mut [u8],
    ) -> Result<PublishOutcome, SessionError> {
        self.require_connected()?;
        let (packet_id, slot) = match qos {
            QoS::AtMostOnce => (0, None),
            QoS::AtLeastOnce | QoS::ExactlyOnce => {
                let slot = self
                    .outgoing
                    .free_slot()
                    .ok_or(SessionError::InflightFull)?;
                (self.free_packet_id(&[]), Some(slot))
            }
        };
        let publish = Publish {
            dup: false,
            qos_pid: QosPid::new(qos, packet_id),
            retain,
            topic: topic.as_bytes(),
            payload,
        };
        let (len, payload_included) = encode_publish(&publish, out)?;
        if let Some(slot) = slot {
            self.track(slot, packet_id, qos, retain, true);
            // A message first sent during a restore is not resent by it.
            self.restored_slots |= slot_bit(slot);
        }
        self.keep_alive.on_send(now_ms);
        Ok(PublishOutcome {
            len,
            payload_included,
            packet_id,
            slot,
            queued: false,
        })
    }

    /// [`Session::publish`] when connected. Offline, with auto-reconnect on and
    /// a reconnect pending or in progress, a QoS 1/2 message is queued instead
    /// ([`Session::queue`], at most `max_queued` unsent): `len` 0, `queued`.
    #[allow(clippy::too_many_arguments)]
    pub fn publish_or_queue(
        &mut self,
        topic: &str,
        payload: &[u8],
        qos: QoS,
        retain: bool,
        max_queued: u8,
        now_ms: u32,
        out: &mut [u8],
    ) -> Result<PublishOutcome, SessionError> {
        if self.is_connected() {
            return self.publish(topic, payload, qos, retain, now_ms, out);
        }
        let reconnecting = self.link.auto_reconnect()
            && matches!(
                self.link.status(),
                LinkStatus::ServerClosed | LinkStatus::Connecting
            );
        if qos == QoS::AtMostOnce || !reconnecting {
            return Err(SessionError::NotConnected);
        }
        let (packet_id, slot) = self.queue(topic, payload, qos, retain, max_queued)?;
        Ok(PublishOutcome {
            len: 0,
            payload_included: false,
            packet_id,
            slot: Some(slot),
            queued: true,
        })
    }

    /// Keeps a QoS 1/2 message for sending once connected (an offline queue in the
    /// in-flight table): it takes a packet id and a slot now, and goes out, in
    /// order, through `retransmit` after the next CONNACK. At most `max_unsent`
    /// such messages wait at once. Works in any state; nothing is encoded.
    pub fn queue(
        &mut self,
        topic: &str,
        payload: &[u8],
        qos: QoS,
        retain: bool,
        max_unsent: u8,
    ) -> Result<(u16, u8), SessionError> {
        if qos == QoS::AtMostOnce {
            return Err(EncodeError::Field(FieldError::InvalidQos).into());
        }
        if self.outgoing.unsent() >= usize::from(max_unsent) {
            return Err(SessionError::QueueFull);
        }
        let slot = self
            .outgoing
            .free_slot()
            .ok_or(SessionError::InflightFull)?;
        let packet_id = self.free_packet_id(&[]);
        // Validate now, so a queued message can always be encoded later.
        publish_header_len(&Publish {
            dup: false,
            qos_pid: QosPid::new(qos, packet_id),
            retain,
            topic: topic.as_bytes(),
            payload,
        })?;
        self.track(slot, packet_id, qos, retain, false);
        Ok((packet_id, slot))
    }

    /// Records a new QoS 1/2 message in flight (`sent`, or queued offline) in
    /// `slot` and takes its packet id: shared by `publish` and `queue`. The
    /// push cannot fail: `slot` came from `free_slot`, and slots are unique,
    /// so a free one means the table has room.
    fn track(&mut self, slot: u8, packet_id: u16, qos: QoS, retain: bool, sent: bool) {
        let stage = if qos == QoS::AtLeastOnce {
            OutgoingStage::AwaitPubAck
        } else {
            OutgoingStage::AwaitPubRec
        };
        let _ = self.outgoing.push(Outgoing {
            slot,
            packet_id,
            stage,
            retain,
            sent,
        });
        self.commit_packet_id(packet_id);
    }

    /// Re-encodes an in-flight message after a reconnect: the PUBLISH with DUP set
    /// (clear for a message queued offline and never sent) and its original packet
    /// id, or PUBREL once PUBREC was received (the topic and payload are then
    /// unused).
    pub fn retransmit(
        &mut self,
        slot: u8,
        topic: &str,
        payload: &[u8],
        now_ms: u32,
        out: &mut [u8],
    ) -> Result<PublishOutcome, SessionError> {
        self.require_connected()?;
        let entry = *self
            .outgoing
            .by_slot(slot)
            .ok_or(SessionError::NoSuchSlot)?;
        let (len, payload_included) = match entry.stage {
            OutgoingStage::AwaitPubComp => {
                (encode_ack(PacketType::PubRel, entry.packet_id, out)?, true)
            }
            OutgoingStage::AwaitPubAck | OutgoingStage::AwaitPubRec => {
                let qos = if entry.stage == OutgoingStage::AwaitPubAck {
                    QoS::AtLeastOnce
                } else {
                    QoS::ExactlyOnce
                };
                let publish = Publish {
                    dup: entry.sent,
                    qos_pid: QosPid::new(qos, entry.packet_id),
                    retain: entry.retain,
                    topic: topic.as_bytes(),
                    payload,
                };
                encode_publish(&publish, out)?
            }
        };
        if let Some(sent) = self.outgoing.by_slot_mut(slot) {
            sent.sent = true;
        }
        self.keep_alive.on_send(now_ms);
        Ok(PublishOutcome {
            len,
            payload_included,
            packet_id: entry.packet_id,
            slot: Some(slot),
            queued: false,
        })
    }

    /// Gives up on an in-flight message.
    pub fn release_slot(&mut self, slot: u8) -> Result<(), SessionError> {
        self.outgoing
            .remove_slot(slot)
            .map(|_| ())
            .ok_or(SessionError::NoSuchSlot)
    }

    /// Subscribes one filter and records it in the table `subs`. Online: encodes
    /// SUBSCRIBE, records a request to wait on ([`Session::request_result`]) and
    /// returns (bytes, packet id); the entry is `Requested`. Offline: the entry
    /// is `ToRestore` (the next login subscribes it) and (0, 0) is returned.
    /// On error nothing changes.
    pub fn subscribe(
        &mut self,
        subs: &mut [u8],
        filter: &str,
        qos: QoS,
        now_ms: u32,
        out: &mut [u8],
    ) -> Result<(usize, u16), SessionError> {
        subs::check_upsert(subs, filter)?;
        if !self.is_connected() {
            subs::upsert(subs, filter, qos, SubState::ToRestore)?;
            return Ok((0, 0));
        }
        let packet_id = self.prepare_request(subs)?;
        let topics = [SubscribeTopic {
            filter: filter.as_bytes(),
            qos,
        }];
        let len = encode_subscribe(packet_id, &topics, out)?;
        subs::upsert(
            subs,
            filter,
            qos,
            SubState::Requested {
                packet_id,
                index: 0,
            },
        )?;
        self.add_request(packet_id, RequestKind::Subscribe, now_ms);
        Ok((len, packet_id))
    }

    /// Unsubscribes one filter. Online: encodes UNSUBSCRIBE, records a request
    /// and marks the entry (if any) `Removing`. Offline: the entry is removed
    /// and (0, 0) is returned.
    pub fn unsubscribe(
        &mut self,
        subs: &mut [u8],
        filter: &str,
        now_ms: u32,
        out: &mut [u8],
    ) -> Result<(usize, u16), SessionError> {
        crate::codec::validate::topic_filter(filter.as_bytes())
            .map_err(|error| SessionError::Encode(EncodeError::Field(error)))?;
        if !self.is_connected() {
            subs::remove(subs, filter);
            return Ok((0, 0));
        }
        let packet_id = self.prepare_request(subs)?;
        let filters = [filter];
        let len = encode_unsubscribe(packet_id, &filters, out)?;
        subs::set_state(subs, filter, SubState::Removing { packet_id });
        self.add_request(packet_id, RequestKind::Unsubscribe, now_ms);
        Ok((len, packet_id))
    }

    fn prepare_request(&self, subs: &[u8]) -> Result<u16, SessionError> {
        self.require_connected()?;
        if self.requests.is_full() || self.unacked.is_full() {
            return Err(SessionError::PendingFull);
        }
        Ok(self.free_packet_id(subs))
    }

    /// Room was checked by `prepare_request`.
    fn add_request(&mut self, packet_id: u16, kind: RequestKind, now_ms: u32) {
        let _ = self.unacked.push(Unacked {
            packet_id,
            kind,
            filter_count: 1,
        });
        let _ = self.requests.push(RequestRecord {
            packet_id,
            kind,
            state: RequestState::Pending,
        });
        self.commit_packet_id(packet_id);
        self.keep_alive.on_send(now_ms);
    }

    /// After each accepted CONNACK: first SUBSCRIBE packets restoring the table
    /// (as many entries per packet as fit `out`; `BufferTooSmall` with the size
    /// one entry needs), then every in-flight message in first-send order, then
    /// `Done` (repeatable).
    pub fn restore_next(
        &mut self,
        subs: &mut [u8],
        now_ms: u32,
        out: &mut [u8],
    ) -> Result<RestoreStep, SessionError> {
        self.require_connected()?;
        if self.restore == RestorePhase::Subscriptions {
            match self.restore_subscriptions(subs, now_ms, out)? {
                Some(len) => return Ok(RestoreStep::Send { len }),
                None => self.restore = RestorePhase::Messages,
            }
        }
        if self.restore == RestorePhase::Messages {
            let done = self.restored_slots;
            match self
                .outgoing
                .iter()
                .find(|entry| done & slot_bit(entry.slot) == 0)
            {
                Some(entry) => {
                    let slot = entry.slot;
                    self.restored_slots |= slot_bit(slot);
                    return Ok(RestoreStep::Retransmit { slot });
                }
                None => self.restore = RestorePhase::Done,
            }
        }
        Ok(RestoreStep::Done)
    }

    /// One SUBSCRIBE with the next `ToRestore` entries, or `None` when none is left.
    fn restore_subscriptions(
        &mut self,
        subs: &mut [u8],
        now_ms: u32,
        out: &mut [u8],
    ) -> Result<Option<usize>, SessionError> {
        let packet_id = self.free_packet_id(subs);
        let mut topics: Vec<SubscribeTopic<'_>, MAX_SUBSCRIPTIONS> = Vec::new();
        for entry in subs::entries(subs) {
            if entry.state == SubState::ToRestore {
                let _ = topics.push(SubscribeTopic {
                    filter: entry.filter,
                    qos: entry.qos,
                });
            }
        }
        if topics.is_empty() {
            return Ok(None);
        }
        if self.unacked.is_full() {
            return Err(SessionError::PendingFull);
        }
        // The most topics that fit; when not even one does, its size is the
        // error. Sized by sum (packet id, then length, filter and QoS byte per
        // topic): the table's filters were validated when added, and the
        // encoder below checks them again.
        let mut body_len: usize = 2;
        let mut count: usize = 0;
        for topic in &topics {
            body_len = body_len.saturating_add(topic.filter.len().saturating_add(3));
            let needed = packet_len(body_len)?;
            if needed > out.len() {
                if count == 0 {
                    return Err(EncodeError::BufferTooSmall { needed }.into());
                }
                break;
            }
            count = count.saturating_add(1);
        }
        let len = encode_subscribe(packet_id, topics.get(..count).unwrap_or(&[]), out)?;
        drop(topics);
        let mut index: u8 = 0;
        let limit = u8::try_from(count).unwrap_or(u8::MAX);
        subs::update(subs, |entry| {
            if entry.state == SubState::ToRestore && index < limit {
                let state = SubState::Requested { packet_id, index };
                index = index.saturating_add(1);
                subs::Update::Set(state)
            } else {
                subs::Update::Keep
            }
        });
        let _ = self.unacked.push(Unacked {
            packet_id,
            kind: RequestKind::Subscribe,
            filter_count: limit,
        });
        self.commit_packet_id(packet_id);
        self.keep_alive.on_send(now_ms);
        Ok(Some(len))
    }

    /// Encodes PINGREQ on request; it counts as an unanswered ping until bytes arrive.
    pub fn ping(&mut self, now_ms: u32, out: &mut [u8]) -> Result<usize, SessionError> {
        self.require_connected()?;
        let len = encode_empty(PacketType::PingReq, out)?;
        self.keep_alive.on_ping_sent(now_ms);
        Ok(len)
    }

    /// Encodes DISCONNECT and closes the link; in-flight messages are kept.
    pub fn disconnect(&mut self, out: &mut [u8]) -> Result<usize, SessionError> {
        let len = encode_empty(PacketType::Disconnect, out)?;
        self.close();
        Ok(len)
    }

    /// New bytes arrived from the server (not yet parsed): proof of life.
    pub fn bytes_received(&mut self, now_ms: u32) {
        self.keep_alive.on_receive(now_ms);
    }

    /// Keepalive clock; acts only while connected.
    pub fn tick(&mut self, now_ms: u32, out: &mut [u8]) -> Result<Tick, SessionError> {
        if !self.is_connected() {
            return Ok(Tick::Idle { wait_ms: u32::MAX });
        }
        match self.keep_alive.poll(now_ms) {
            KeepAliveAction::Idle { wait_ms } => Ok(Tick::Idle { wait_ms }),
            KeepAliveAction::Dead => Ok(Tick::Dead),
            KeepAliveAction::SendPing => {
                let len = encode_empty(PacketType::PingReq, out)?;
                self.keep_alive.on_ping_sent(now_ms);
                let wait_ms = match self.keep_alive.poll(now_ms) {
                    KeepAliveAction::Idle { wait_ms } => wait_ms,
                    KeepAliveAction::SendPing | KeepAliveAction::Dead => 0,
                };
                Ok(Tick::SendPing { len, wait_ms })
            }
        }
    }
}

#[cfg(test)]
mod tests;
