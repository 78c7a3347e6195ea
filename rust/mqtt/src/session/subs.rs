//! The subscription table, kept in a byte arena the caller owns (so the session
//! stays small and fixed-size). The layout is private to this module:
//!
//! ```text
//! [used: u16 LE]  bytes in use, header included; 0 (all-zero arena) = empty
//! entries, each: [state][qos][index][packet id: u16 LE][filter len: u16 LE][filter]
//! ```
//!
//! Bytes past `used` are ignored, so a caller may grow the arena without
//! clearing it. Parsing stops at the first malformed entry: garbage reads as a
//! shorter table, never as a panic.

use crate::codec::{validate, EncodeError, QoS};

use super::SessionError;

/// Filters the table holds at most.
pub const MAX_SUBSCRIPTIONS: usize = 64;
/// Arena bytes the table uses at most.
pub const SUBS_MAX_BYTES: usize = 65535;

const TABLE_HEADER: usize = 2;
const ENTRY_HEADER: usize = 7;

const TAG_ACTIVE: u8 = 1;
const TAG_REQUESTED: u8 = 2;
const TAG_TO_RESTORE: u8 = 3;
const TAG_REMOVING: u8 = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubState {
    /// The server granted it.
    Active,
    /// SUBSCRIBE `packet_id` sent; the entry's code is at `index` in its SUBACK.
    Requested { packet_id: u16, index: u8 },
    /// Added or kept while offline: the next login subscribes it.
    ToRestore,
    /// UNSUBSCRIBE `packet_id` sent.
    Removing { packet_id: u16 },
}

impl SubState {
    fn encode(self) -> (u8, u8, u16) {
        match self {
            SubState::Active => (TAG_ACTIVE, 0, 0),
            SubState::Requested { packet_id, index } => (TAG_REQUESTED, index, packet_id),
            SubState::ToRestore => (TAG_TO_RESTORE, 0, 0),
            SubState::Removing { packet_id } => (TAG_REMOVING, 0, packet_id),
        }
    }

    fn decode(tag: u8, index: u8, packet_id: u16) -> Option<Self> {
        Some(match tag {
            TAG_ACTIVE => SubState::Active,
            TAG_REQUESTED => SubState::Requested { packet_id, index },
            TAG_TO_RESTORE => SubState::ToRestore,
            TAG_REMOVING => SubState::Removing { packet_id },
            _ => return None,
        })
    }

    /// The packet id this entry waits on, if any.
    pub fn packet_id(self) -> Option<u16> {
        match self {
            SubState::Requested { packet_id, .. } | SubState::Removing { packet_id } => {
                Some(packet_id)
            }
            SubState::Active | SubState::ToRestore => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubEntry<'a> {
    /// Valid UTF-8 (checked when added; kept as bytes).
    pub filter: &'a [u8],
    /// Requested QoS.
    pub qos: QoS,
    pub state: SubState,
}

/// One parsed entry and where it lies.
#[derive(Debug, Clone, Copy)]
struct Located<'a> {
    offset: usize,
    len: usize,
    entry: SubEntry<'a>,
}

fn read_u16(arena: &[u8], at: usize) -> Option<u16> {
    let end = at.checked_add(2)?;
    match arena.get(at..end)? {
        [lo, hi] => Some(u16::from_le_bytes([*lo, *hi])),
        _ => None,
    }
}

fn write_u16(arena: &mut [u8], at: usize, value: u16) {
    if let Some(bytes) = at.checked_add(2).and_then(|end| arena.get_mut(at..end)) {
        bytes.copy_from_slice(&value.to_le_bytes());
    }
}

/// End of the region the header claims (clamped to the arena and the cap).
fn claimed_end(arena: &[u8]) -> usize {
    let claimed = read_u16(arena, 0).map_or(0, usize::from);
    let end = claimed.min(arena.len()).min(SUBS_MAX_BYTES);
    if end < TABLE_HEADER {
        TABLE_HEADER
    } else {
        end
    }
}

fn parse_at(arena: &[u8], offset: usize, end: usize) -> Option<Located<'_>> {
    let header_end = offset.checked_add(ENTRY_HEADER)?;
    if header_end > end {
        return None;
    }
    let header = arena.get(offset..header_end)?;
    let (&tag, &qos, &index) = (header.first()?, header.get(1)?, header.get(2)?);
    let packet_id = read_u16(arena, offset.checked_add(3)?)?;
    let filter_len = usize::from(read_u16(arena, offset.checked_add(5)?)?);
    let entry_end = header_end.checked_add(filter_len)?;
    if filter_len == 0 || entry_end > end {
        return None;
    }
    let filter = arena.get(header_end..entry_end)?;
    Some(Located {
        offset,
        len: entry_end.checked_sub(offset)?,
        entry: SubEntry {
            filter,
            qos: QoS::from_u8(qos).ok()?,
            state: SubState::decode(tag, index, packet_id)?,
        },
    })
}

/// Valid entries, in table order.
struct Entries<'a> {
    arena: &'a [u8],
    offset: usize,
    end: usize,
    count: usize,
}

impl<'a> Iterator for Entries<'a> {
    type Item = Located<'a>;

    fn next(&mut self) -> Option<Located<'a>> {
        if self.count >= MAX_SUBSCRIPTIONS {
            return None;
        }
        let located = parse_at(self.arena, self.offset, self.end)?;
        self.offset = self.offset.checked_add(located.len)?;
        self.count = self.count.saturating_add(1);
        Some(located)
    }
}

fn located(arena: &[u8]) -> Entries<'_> {
    let end = if arena.len() < TABLE_HEADER {
        0
    } else {
        claimed_end(arena)
    };
    Entries {
        arena,
        offset: TABLE_HEADER,
        end,
        count: 0,
    }
}

/// Table entries in order.
pub fn entries(arena: &[u8]) -> impl Iterator<Item = SubEntry<'_>> {
    located(arena).map(|located| located.entry)
}

/// (entry count, end of the last valid entry).
fn extent(arena: &[u8]) -> (usize, usize) {
    located(arena).fold((0, TABLE_HEADER), |(count, _), located| {
        (
            count.saturating_add(1),
            located.offset.saturating_add(located.len),
        )
    })
}

fn find<'a>(arena: &'a [u8], filter: &str) -> Option<Located<'a>> {
    located(arena).find(|located| located.entry.filter == filter.as_bytes())
}

/// Arena bytes needed so that `filter` can be added or updated.
pub fn reserve(arena: &[u8], filter: &str) -> Result<usize, SessionError> {
    validate::topic_filter(filter.as_bytes())
        .map_err(|error| SessionError::Encode(EncodeError::Field(error)))?;
    let (count, end) = extent(arena);
    if find(arena, filter).is_some() {
        return Ok(end);
    }
    let needed = end
        .checked_add(ENTRY_HEADER)
        .and_then(|n| n.checked_add(filter.len()))
        .ok_or(SessionError::TooManySubscriptions)?;
    if count >= MAX_SUBSCRIPTIONS || needed > SUBS_MAX_BYTES {
        return Err(SessionError::TooManySubscriptions);
    }
    Ok(needed)
}

/// Would [`upsert`] of `filter` succeed in this arena?
pub fn check_upsert(arena: &[u8], filter: &str) -> Result<(), SessionError> {
    if reserve(arena, filter)? > arena.len() {
        return Err(SessionError::TooManySubscriptions);
    }
    Ok(())
}

fn write_header(arena: &mut [u8], end: usize) {
    write_u16(arena, 0, u16::try_from(end).unwrap_or(0));
}

fn write_state(arena: &mut [u8], offset: usize, qos: QoS, state: SubState) {
    let (tag, index, packet_id) = state.encode();
    if let Some(bytes) = arena.get_mut(offset..offset.saturating_add(3)) {
        bytes.copy_from_slice(&[tag, qos.as_u8(), index]);
    }
    write_u16(arena, offset.saturating_add(3), packet_id);
}

/// Adds `filter` or updates its QoS and state. Nothing changes on error.
pub fn upsert(
    arena: &mut [u8],
    filter: &str,
    qos: QoS,
    state: SubState,
) -> Result<(), SessionError> {
    check_upsert(arena, filter)?;
    let (_, end) = extent(arena);
    if let Some(found) = find(arena, filter) {
        let offset = found.offset;
        write_header(arena, end);
        write_state(arena, offset, qos, state);
        return Ok(());
    }
    let filter_len = u16::try_from(filter.len()).map_err(|_| SessionError::TooManySubscriptions)?;
    let text_start = end.saturating_add(ENTRY_HEADER);
    let new_end = text_start.saturating_add(filter.len());
    let text = arena
        .get_mut(text_start..new_end)
        .ok_or(SessionError::TooManySubscriptions)?;
    text.copy_from_slice(filter.as_bytes());
    write_state(arena, end, qos, state);
    write_u16(arena, end.saturating_add(5), filter_len);
    write_header(arena, new_end);
    Ok(())
}

/// What [`update`] does with an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Update {
    Keep,
    Set(SubState),
    Remove,
}

/// Applies `decide` to every entry, in order.
pub fn update(arena: &mut [u8], mut decide: impl FnMut(&SubEntry<'_>) -> Update) {
    update_with(arena, &mut decide);
}

/// [`update`]'s walk, compiled once: a `dyn` callback, not one copy of the
/// walk per caller's closure (six on the device).
fn update_with(arena: &mut [u8], decide: &mut dyn FnMut(&SubEntry<'_>) -> Update) {
    let (mut count, mut end) = extent(arena);
    let mut offset = TABLE_HEADER;
    // Entries are removed in place, so the walk re-parses at the same offset.
    while count > 0 {
        let Some(found) = parse_at(arena, offset, end) else {
            break;
        };
        count = count.saturating_sub(1);
        let (len, qos, action) = (found.len, found.entry.qos, decide(&found.entry));
        match action {
            Update::Keep => offset = offset.saturating_add(len),
            Update::Set(state) => {
                write_state(arena, offset, qos, state);
                offset = offset.saturating_add(len);
            }
            Update::Remove => {
                let next = offset.saturating_add(len);
                arena.copy_within(next..end, offset);
                end = end.saturating_sub(len);
            }
        }
    }
    if arena.len() >= TABLE_HEADER {
        write_header(arena, end);
    }
}

/// Removes `filter`; returns whether it was there.
pub fn remove(arena: &mut [u8], filter: &str) -> bool {
    let mut removed = false;
    update(arena, |entry| {
        if entry.filter == filter.as_bytes() {
            removed = true;
            Update::Remove
        } else {
            Update::Keep
        }
    });
    removed
}

/// Sets the state of `filter`, if present.
pub fn set_state(arena: &mut [u8], filter: &str, state: SubState) {
    update(arena, |entry| {
        if entry.filter == filter.as_bytes() {
            Update::Set(state)
        } else {
            Update::Keep
        }
    });
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use std::vec::Vec;

    fn list(arena: &[u8]) -> Vec<(std::string::String, QoS, SubState)> {
        entries(arena)
            .map(|e| {
                (
                    std::string::String::from_utf8(e.filter.to_vec()).unwrap(),
                    e.qos,
                    e.state,
                )
            })
            .collect()
    }

    #[test]
    fn empty_arenas() {
        assert_eq!(entries(&[]).count(), 0);
        assert_eq!(entries(&[0u8; 64]).count(), 0);
        assert_eq!(entries(&[0u8; 1]).count(), 0);
        assert_eq!(reserve(&[], "a/b").unwrap(), 2 + 7 + 3);
        assert_eq!(
            upsert(&mut [], "a", QoS::AtMostOnce, SubState::Active),
            Err(SessionError::TooManySubscriptions)
        );
    }

    #[test]
    fn upsert_replaces_qos_and_state() {
        let mut arena = [0u8; 64];
        upsert(&mut arena, "a/+", QoS::AtLeastOnce, SubState::ToRestore).unwrap();
        upsert(&mut arena, "b", QoS::AtMostOnce, SubState::Active).unwrap();
        let used = read_u16(&arena, 0).unwrap();
        assert_eq!(reserve(&arena, "a/+").unwrap(), usize::from(used));
        upsert(
            &mut arena,
            "a/+",
            QoS::ExactlyOnce,
            SubState::Requested {
                packet_id: 9,
                index: 0,
            },
        )
        .unwrap();
        assert_eq!(read_u16(&arena, 0).unwrap(), used);
        assert_eq!(
            list(&arena),
            [
                (
                    "a/+".into(),
                    QoS::ExactlyOnce,
                    SubState::Requested {
                        packet_id: 9,
                        index: 0
                    }
                ),
                ("b".into(), QoS::AtMostOnce, SubState::Active),
            ]
        );
        assert!(remove(&mut arena, "a/+"));
        assert!(!remove(&mut arena, "a/+"));
        assert_eq!(
            list(&arena),
            [("b".into(), QoS::AtMostOnce, SubState::Active)]
        );
    }

    #[test]
    fn garbage_past_used_is_ignored_and_growth_copies() {
        let mut arena = [0xAAu8; 32];
        arena[0] = 0;
        arena[1] = 0;
        upsert(&mut arena, "x", QoS::AtMostOnce, SubState::Active).unwrap();
        assert_eq!(entries(&arena).count(), 1);
        let mut bigger = [0x55u8; 64];
        bigger[..32].copy_from_slice(&arena);
        upsert(&mut bigger, "y", QoS::AtMostOnce, SubState::Active).unwrap();
        assert_eq!(entries(&bigger).count(), 2);
    }

    #[test]
    fn caps() {
        let mut arena = [0u8; SUBS_MAX_BYTES + 100];
        let mut names = Vec::new();
        for i in 0..MAX_SUBSCRIPTIONS {
            names.push(std::format!("t/{i}"));
        }
        for name in &names {
            upsert(&mut arena, name, QoS::AtMostOnce, SubState::Active).unwrap();
        }
        assert_eq!(
            reserve(&arena, "one/more"),
            Err(SessionError::TooManySubscriptions)
        );
        // Updating an existing one is still fine.
        upsert(&mut arena, "t/3", QoS::ExactlyOnce, SubState::Active).unwrap();
        let long = "x".repeat(SUBS_MAX_BYTES - 2 - 7);
        let mut arena = [0u8; SUBS_MAX_BYTES + 100];
        assert_eq!(reserve(&arena, &long).unwrap(), SUBS_MAX_BYTES);
        let longer = "x".repeat(SUBS_MAX_BYTES - 2 - 6);
        assert_eq!(
            reserve(&arena, &longer),
            Err(SessionError::TooManySubscriptions)
        );
        upsert(&mut arena, &long, QoS::AtMostOnce, SubState::Active).unwrap();
        assert_eq!(
            reserve(&arena, "a"),
            Err(SessionError::TooManySubscriptions)
        );
    }

    #[test]
    fn invalid_filters_are_refused() {
        assert!(matches!(
            reserve(&[], "a/#/b"),
            Err(SessionError::Encode(_))
        ));
        assert!(matches!(reserve(&[], ""), Err(SessionError::Encode(_))));
    }

    #[test]
    fn arbitrary_bytes_read_as_a_shorter_table() {
        let mut arena = [0u8; 40];
        for seed in 0u8..=255 {
            for (i, b) in arena.iter_mut().enumerate() {
                *b = seed.wrapping_mul(31).wrapping_add(i as u8);
            }
            let _ = entries(&arena).count();
            let _ = upsert(&mut arena, "z", QoS::AtMostOnce, SubState::Active);
            update(&mut arena, |_| Update::Remove);
            assert_eq!(entries(&arena).count(), 0);
        }
    }
}
