//! The client side of an MQTT connection as plain data: no I/O, no clock, no pointers.
//! The caller moves bytes and passes the time in milliseconds.

mod backoff;
mod error;
mod inflight;
mod keepalive;

pub use backoff::{backoff_ms, refusal_is_permanent};
pub use error::SessionError;
pub use inflight::{
    Outgoing, OutgoingStage, PendingRequest, RequestKind, MAX_INBOUND_QOS2, MAX_INFLIGHT,
    MAX_PENDING_REQUESTS,
};
pub use keepalive::{KeepAlive, KeepAliveAction};

use crate::codec::{
    decode, encode_publish_header, publish_header_len, ConnAck, Connect, ConnectReturnCode,
    EncodeError, FieldError, LastWill, Packet, PacketType, Protocol, Publish, QoS, QosPid, Status,
    SubAck, Subscribe, SubscribeTopic, SubscribeTopics, Unsubscribe, UnsubscribeTopics,
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
    state: ConnectionState,
    keep_alive: KeepAlive,
    /// Next packet id to try; ids in use are skipped.
    next_packet_id: u16,
    outgoing: OutgoingTable,
    inbound_qos2: Vec<u16, MAX_INBOUND_QOS2>,
    pending: Vec<PendingRequest, MAX_PENDING_REQUESTS>,
}

impl Default for Session {
    fn default() -> Self {
        Self::new()
    }
}

impl Session {
    pub const fn new() -> Self {
        Session {
            state: ConnectionState::Disconnected,
            keep_alive: KeepAlive::new(),
            next_packet_id: 1,
            outgoing: OutgoingTable::new(),
            inbound_qos2: Vec::new(),
            pending: Vec::new(),
        }
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

    pub fn pending_requests(&self) -> &[PendingRequest] {
        &self.pending
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
        let connect = Packet::Connect(Connect {
            protocol: options.protocol,
            clean_session: options.clean_session,
            keep_alive: options.keep_alive_s,
            client_id: options.client_id,
            will: options.will,
            username: options.username,
            password: options.password,
        });
        let len = connect.encode(out)?;
        self.state = ConnectionState::Connecting;
        self.keep_alive
            .start(now_ms, options.keep_alive_s, options.ping_max_unanswered);
        self.pending.clear();
        Ok(len)
    }

    /// Handles at most one packet from the start of `buf`, writing any reply into `reply`.
    /// After an error the caller must drop the connection.
    pub fn receive<'a>(
        &mut self,
        buf: &'a [u8],
        now_ms: u32,
        reply: &mut [u8],
    ) -> Result<Status<Received<'a>>, SessionError> {
        // Only a whole packet proves the server alive: a stalled half packet
        // parsed again and again must not (new bytes count via `bytes_received`).
        let (packet, consumed) = match decode(buf)? {
            Status::Partial(needed) => return Ok(Status::Partial(needed)),
            Status::Complete(decoded) => decoded,
        };
        self.keep_alive.on_receive(now_ms);
        let (event, reply_len) = self.handle(packet, reply)?;
        Ok(Status::Complete(Received {
            event,
            consumed,
            reply_len,
        }))
    }

    fn handle<'a>(
        &mut self,
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
            Packet::ConnAck(ack) => self.on_connack(ack).map(|event| (event, 0)),
            Packet::Publish(publish) => self.on_publish(publish, reply),
            Packet::PubAck(packet_id) => Ok((self.on_puback(packet_id), 0)),
            Packet::PubRec(packet_id) => self.on_pubrec(packet_id, reply),
            Packet::PubRel(packet_id) => self.on_pubrel(packet_id, reply),
            Packet::PubComp(packet_id) => Ok((self.on_pubcomp(packet_id), 0)),
            Packet::SubAck(ack) => self.on_suback(ack).map(|event| (event, 0)),
            Packet::UnsubAck(packet_id) => Ok((self.on_unsuback(packet_id), 0)),
            Packet::PingResp => Ok((Event::PingResp, 0)),
            Packet::Connect(_)
            | Packet::Subscribe(_)
            | Packet::Unsubscribe(_)
            | Packet::PingReq
            | Packet::Disconnect => Err(SessionError::UnexpectedPacket(packet_type)),
        }
    }

    fn on_connack(&mut self, ack: ConnAck) -> Result<Event<'static>, SessionError> {
        if ack.code != ConnectReturnCode::Accepted {
            self.state = ConnectionState::Disconnected;
            return Err(SessionError::Refused(ack.code));
        }
        self.state = ConnectionState::Connected;
        if !ack.session_present {
            // The server forgot its half of any inbound QoS 2 exchange.
            self.inbound_qos2.clear();
        }
        Ok(Event::ConnAck {
            session_present: ack.session_present,
        })
    }

    fn on_publish<'a>(
        &mut self,
        publish: Publish<'a>,
        reply: &mut [u8],
    ) -> Result<(Event<'a>, usize), SessionError> {
        match publish.qos_pid {
            QosPid::AtMostOnce => Ok((
                Event::Publish {
                    publish,
                    duplicate: false,
                },
                0,
            )),
            QosPid::AtLeastOnce(packet_id) => {
                let reply_len = Packet::PubAck(packet_id).encode(reply)?;
                Ok((
                    Event::Publish {
                        publish,
                        duplicate: false,
                    },
                    reply_len,
                ))
            }
            QosPid::ExactlyOnce(packet_id) => {
                let duplicate = self.inbound_qos2.contains(&packet_id);
                if !duplicate && self.inbound_qos2.is_full() {
                    return Err(SessionError::InboundFull);
                }
                let reply_len = Packet::PubRec(packet_id).encode(reply)?;
                if !duplicate {
                    self.inbound_qos2
                        .push(packet_id)
                        .map_err(|_| SessionError::InboundFull)?;
                }
                Ok((Event::Publish { publish, duplicate }, reply_len))
            }
        }
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
        let slot = match self.outgoing.by_packet_id_mut(packet_id) {
            // A repeated PUBREC (our PUBREL was lost) is answered again.
            Some(entry)
                if matches!(
                    entry.stage,
                    OutgoingStage::AwaitPubRec | OutgoingStage::AwaitPubComp
                ) =>
            {
                entry.slot
            }
            _ => return Ok((Event::Ignored, 0)),
        };
        let reply_len = Packet::PubRel(packet_id).encode(reply)?;
        if let Some(entry) = self.outgoing.by_slot_mut(slot) {
            entry.stage = OutgoingStage::AwaitPubComp;
        }
        Ok((Event::PubRec { packet_id, slot }, reply_len))
    }

    fn on_pubrel(
        &mut self,
        packet_id: u16,
        reply: &mut [u8],
    ) -> Result<(Event<'static>, usize), SessionError> {
        // PUBCOMP even for an unknown id, so a server retrying PUBREL can finish.
        let reply_len = Packet::PubComp(packet_id).encode(reply)?;
        self.inbound_qos2.retain(|&id| id != packet_id);
        Ok((Event::PubRel { packet_id }, reply_len))
    }

    fn take_pending(&mut self, packet_id: u16, kind: RequestKind) -> Option<PendingRequest> {
        let request = self
            .pending
            .iter()
            .find(|request| request.packet_id == packet_id && request.kind == kind)
            .copied()?;
        self.pending.retain(|other| other.packet_id != packet_id);
        Some(request)
    }

    fn on_suback<'a>(&mut self, ack: SubAck<'a>) -> Result<Event<'a>, SessionError> {
        let Some(request) = self
            .pending
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
        self.take_pending(ack.packet_id, RequestKind::Subscribe);
        Ok(Event::SubAck { ack })
    }

    fn on_unsuback(&mut self, packet_id: u16) -> Event<'static> {
        match self.take_pending(packet_id, RequestKind::Unsubscribe) {
            Some(_) => Event::UnsubAck { packet_id },
            None => Event::Ignored,
        }
    }

    fn packet_id_in_use(&self, packet_id: u16) -> bool {
        self.outgoing.contains_packet_id(packet_id)
            || self
                .pending
                .iter()
                .any(|request| request.packet_id == packet_id)
    }

    /// The next free packet id at or after `next_packet_id`, wrapping 65535 -> 1.
    /// At most 24 ids are in use, so the search ends after a few steps.
    fn free_packet_id(&self) -> u16 {
        let mut candidate = self.next_packet_id;
        for _ in 0..=u16::MAX {
            if candidate != 0 && !self.packet_id_in_use(candidate) {
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
                (self.free_packet_id(), Some(slot))
            }
        };
        let publish = Publish {
            dup: false,
            qos_pid: QosPid::new(qos, packet_id),
            retain,
            topic,
            payload,
        };
        let (len, payload_included) = encode_publish_into(&publish, out)?;
        if let Some(slot) = slot {
            let stage = if qos == QoS::AtLeastOnce {
                OutgoingStage::AwaitPubAck
            } else {
                OutgoingStage::AwaitPubRec
            };
            self.outgoing
                .push(Outgoing {
                    slot,
                    packet_id,
                    stage,
                    retain,
                    sent: true,
                })
                .map_err(|_| SessionError::InflightFull)?;
            self.commit_packet_id(packet_id);
        }
        self.keep_alive.on_send(now_ms);
        Ok(PublishOutcome {
            len,
            payload_included,
            packet_id,
            slot,
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
        let stage = match qos {
            QoS::AtMostOnce => return Err(EncodeError::Field(FieldError::InvalidQos).into()),
            QoS::AtLeastOnce => OutgoingStage::AwaitPubAck,
            QoS::ExactlyOnce => OutgoingStage::AwaitPubRec,
        };
        if self.outgoing.unsent() >= usize::from(max_unsent) {
            return Err(SessionError::QueueFull);
        }
        let slot = self
            .outgoing
            .free_slot()
            .ok_or(SessionError::InflightFull)?;
        let packet_id = self.free_packet_id();
        // Validate now, so a queued message can always be encoded later.
        publish_header_len(&Publish {
            dup: false,
            qos_pid: QosPid::new(qos, packet_id),
            retain,
            topic,
            payload,
        })?;
        self.outgoing
            .push(Outgoing {
                slot,
                packet_id,
                stage,
                retain,
                sent: false,
            })
            .map_err(|_| SessionError::InflightFull)?;
        self.commit_packet_id(packet_id);
        Ok((packet_id, slot))
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
            OutgoingStage::AwaitPubComp => (Packet::PubRel(entry.packet_id).encode(out)?, true),
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
                    topic,
                    payload,
                };
                encode_publish_into(&publish, out)?
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
        })
    }

    /// Gives up on an in-flight message.
    pub fn release_slot(&mut self, slot: u8) -> Result<(), SessionError> {
        self.outgoing
            .remove_slot(slot)
            .map(|_| ())
            .ok_or(SessionError::NoSuchSlot)
    }

    /// Encodes SUBSCRIBE for `topics`; returns bytes written and the packet id,
    /// which stays pending until its SUBACK.
    pub fn subscribe(
        &mut self,
        topics: &[SubscribeTopic<'_>],
        now_ms: u32,
        out: &mut [u8],
    ) -> Result<(usize, u16), SessionError> {
        let packet_id = self.prepare_request()?;
        let filter_count = u16::try_from(topics.len()).map_err(|_| EncodeError::PacketTooLarge)?;
        let len = Packet::Subscribe(Subscribe {
            packet_id,
            topics: SubscribeTopics::Slice(topics),
        })
        .encode(out)?;
        self.add_pending(packet_id, RequestKind::Subscribe, filter_count, now_ms)?;
        Ok((len, packet_id))
    }

    /// Encodes UNSUBSCRIBE for `filters`; pending until its UNSUBACK.
    pub fn unsubscribe(
        &mut self,
        filters: &[&str],
        now_ms: u32,
        out: &mut [u8],
    ) -> Result<(usize, u16), SessionError> {
        let packet_id = self.prepare_request()?;
        let filter_count = u16::try_from(filters.len()).map_err(|_| EncodeError::PacketTooLarge)?;
        let len = Packet::Unsubscribe(Unsubscribe {
            packet_id,
            topics: UnsubscribeTopics::Slice(filters),
        })
        .encode(out)?;
        self.add_pending(packet_id, RequestKind::Unsubscribe, filter_count, now_ms)?;
        Ok((len, packet_id))
    }

    fn prepare_request(&self) -> Result<u16, SessionError> {
        self.require_connected()?;
        if self.pending.is_full() {
            return Err(SessionError::PendingFull);
        }
        Ok(self.free_packet_id())
    }

    fn add_pending(
        &mut self,
        packet_id: u16,
        kind: RequestKind,
        filter_count: u16,
        now_ms: u32,
    ) -> Result<(), SessionError> {
        self.pending
            .push(PendingRequest {
                packet_id,
                kind,
                filter_count,
            })
            .map_err(|_| SessionError::PendingFull)?;
        self.commit_packet_id(packet_id);
        self.keep_alive.on_send(now_ms);
        Ok(())
    }

    /// Encodes PINGREQ on request; it counts as an unanswered ping until bytes arrive.
    pub fn ping(&mut self, now_ms: u32, out: &mut [u8]) -> Result<usize, SessionError> {
        self.require_connected()?;
        let len = Packet::PingReq.encode(out)?;
        self.keep_alive.on_ping_sent(now_ms);
        Ok(len)
    }

    /// Encodes DISCONNECT and goes offline; in-flight messages are kept.
    pub fn disconnect(&mut self, out: &mut [u8]) -> Result<usize, SessionError> {
        let len = Packet::Disconnect.encode(out)?;
        self.connection_lost();
        Ok(len)
    }

    /// New bytes arrived from the server (not yet parsed): proof of life.
    pub fn bytes_received(&mut self, now_ms: u32) {
        self.keep_alive.on_receive(now_ms);
    }

    /// The transport is gone: offline, ping and request state forgotten, in-flight kept.
    pub fn connection_lost(&mut self) {
        self.state = ConnectionState::Disconnected;
        self.keep_alive.clear_pings();
        self.pending.clear();
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
                let len = Packet::PingReq.encode(out)?;
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

/// Whole packet if it fits, else the header alone if that fits.
fn encode_publish_into(
    publish: &Publish<'_>,
    out: &mut [u8],
) -> Result<(usize, bool), SessionError> {
    match Packet::Publish(*publish).encode(out) {
        Ok(len) => Ok((len, true)),
        Err(EncodeError::BufferTooSmall { .. }) => {
            let header_len = publish_header_len(publish)?;
            if out.len() < header_len {
                return Err(EncodeError::BufferTooSmall { needed: header_len }.into());
            }
            Ok((encode_publish_header(publish, out)?, false))
        }
        Err(other) => Err(other.into()),
    }
}

#[cfg(test)]
mod tests;
