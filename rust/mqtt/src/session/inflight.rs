//! Bounded tables of protocol exchanges that still await the server.

use heapless::Vec;

/// Outgoing QoS 1/2 messages that may be in flight at once.
pub const MAX_INFLIGHT: usize = 16;
/// Inbound QoS 2 packet ids remembered until their PUBREL.
pub const MAX_INBOUND_QOS2: usize = 32;
/// Request records (callers waiting on a SUBACK/UNSUBACK).
pub const MAX_REQUESTS: usize = 16;
/// SUBSCRIBE/UNSUBSCRIBE packets awaiting their ack on one link: one per
/// restored filter at worst, plus the waiters' requests.
pub const MAX_UNACKED: usize = super::subs::MAX_SUBSCRIPTIONS + MAX_REQUESTS;

/// Where an outgoing QoS 1/2 message is in its handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutgoingStage {
    /// QoS 1 PUBLISH sent.
    AwaitPubAck,
    /// QoS 2 PUBLISH sent.
    AwaitPubRec,
    /// QoS 2 PUBREC received, PUBREL sent.
    AwaitPubComp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outgoing {
    /// Stable handle the C side uses to keep the topic and payload for resending.
    pub slot: u8,
    pub packet_id: u16,
    pub stage: OutgoingStage,
    pub retain: bool,
    /// False while queued offline: its first transmission carries no DUP.
    pub sent: bool,
}

/// Outgoing messages in the order they were first sent, which is the order a
/// reconnect must resend them in.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OutgoingTable {
    entries: Vec<Outgoing, MAX_INFLIGHT>,
}

impl OutgoingTable {
    pub const fn new() -> Self {
        OutgoingTable {
            entries: Vec::new(),
        }
    }

    #[cfg(test)]
    pub fn is_full(&self) -> bool {
        self.entries.is_full()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Lowest slot number not in use.
    pub fn free_slot(&self) -> Option<u8> {
        (0..u8::try_from(MAX_INFLIGHT).unwrap_or(u8::MAX))
            .find(|&slot| self.by_slot(slot).is_none())
    }

    pub fn push(&mut self, entry: Outgoing) -> Result<(), Outgoing> {
        self.entries.push(entry)
    }

    pub fn by_slot(&self, slot: u8) -> Option<&Outgoing> {
        self.entries.iter().find(|entry| entry.slot == slot)
    }

    pub fn by_slot_mut(&mut self, slot: u8) -> Option<&mut Outgoing> {
        self.entries.iter_mut().find(|entry| entry.slot == slot)
    }

    pub fn by_packet_id_mut(&mut self, packet_id: u16) -> Option<&mut Outgoing> {
        self.entries
            .iter_mut()
            .find(|entry| entry.packet_id == packet_id)
    }

    pub fn contains_packet_id(&self, packet_id: u16) -> bool {
        self.entries
            .iter()
            .any(|entry| entry.packet_id == packet_id)
    }

    /// Removes the slot, keeping the others in first-send order.
    pub fn remove_slot(&mut self, slot: u8) -> Option<Outgoing> {
        let removed = self.by_slot(slot).copied()?;
        self.entries.retain(|entry| entry.slot != slot);
        Some(removed)
    }

    /// Messages queued while offline and not transmitted yet.
    pub fn unsent(&self) -> usize {
        self.entries.iter().filter(|entry| !entry.sent).count()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Outgoing> {
        self.entries.iter()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    Subscribe,
    Unsubscribe,
}

/// A SUBSCRIBE/UNSUBSCRIBE sent on the current link and not yet answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unacked {
    pub packet_id: u16,
    pub kind: RequestKind,
    /// Filters in the request, which is how many codes its SUBACK must carry.
    pub filter_count: u8,
}

/// How a request a caller waits on ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestState {
    Pending,
    /// Granted QoS for SUBSCRIBE, 0 for UNSUBSCRIBE.
    Done(u8),
    /// SUBACK 0x80.
    Refused,
    /// The link was lost before the answer.
    Lost,
}

/// A request some caller waits on (`Session::request_result`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestRecord {
    pub packet_id: u16,
    pub kind: RequestKind,
    pub state: RequestState,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn entry(slot: u8, packet_id: u16) -> Outgoing {
        Outgoing {
            slot,
            packet_id,
            stage: OutgoingStage::AwaitPubAck,
            retain: false,
            sent: true,
        }
    }

    #[test]
    fn slots_are_reused_lowest_first_and_order_is_kept() {
        let mut table = OutgoingTable::new();
        for slot in 0..3 {
            table.push(entry(slot, u16::from(slot) + 100)).unwrap();
        }
        assert_eq!(table.free_slot(), Some(3));
        assert_eq!(table.remove_slot(1).map(|e| e.packet_id), Some(101));
        assert_eq!(table.free_slot(), Some(1));
        table.push(entry(1, 200)).unwrap();
        let order: std::vec::Vec<u8> = table.iter().map(|e| e.slot).collect();
        assert_eq!(order, [0, 2, 1]);
        assert!(table.contains_packet_id(200));
        assert_eq!(table.remove_slot(9), None);
    }

    #[test]
    fn full_table_has_no_free_slot() {
        let mut table = OutgoingTable::new();
        for slot in 0..16u8 {
            table.push(entry(slot, u16::from(slot) + 1)).unwrap();
        }
        assert!(table.is_full());
        assert_eq!(table.free_slot(), None);
        assert!(table.push(entry(16, 99)).is_err());
    }
}
