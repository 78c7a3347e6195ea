//! Field rules shared by the decoder, the encoder and the session.

use super::error::FieldError;

/// Longest MQTT string or binary field (2-byte length prefix).
pub const MAX_FIELD_LEN: usize = 65_535;

/// An MQTT UTF-8 string: valid UTF-8, no U+0000, at most 65535 bytes.
pub fn utf8_string(bytes: &[u8]) -> Result<&str, FieldError> {
    if bytes.len() > MAX_FIELD_LEN {
        return Err(FieldError::StringTooLong);
    }
    let text = core::str::from_utf8(bytes).map_err(|_| FieldError::InvalidUtf8)?;
    string(text)?;
    Ok(text)
}

/// Same rules for a string that is already `&str` (so already valid UTF-8).
pub fn string(text: &str) -> Result<(), FieldError> {
    if text.len() > MAX_FIELD_LEN {
        return Err(FieldError::StringTooLong);
    }
    no_null(text.as_bytes())
}

/// The [`utf8_string`] rules over bytes, for fields the device keeps as
/// `&[u8]` (its image then carries no `core::str::from_utf8`).
pub fn string_bytes(bytes: &[u8]) -> Result<(), FieldError> {
    if bytes.len() > MAX_FIELD_LEN {
        return Err(FieldError::StringTooLong);
    }
    if !is_utf8(bytes) {
        return Err(FieldError::InvalidUtf8);
    }
    no_null(bytes)
}

// a plain loop, not `contains`: core's memchr costs flash and these strings are short
#[allow(clippy::manual_contains)]
fn no_null(bytes: &[u8]) -> Result<(), FieldError> {
    if bytes.iter().any(|&b| b == 0) {
        return Err(FieldError::NullCharacter);
    }
    Ok(())
}

/// Whether `bytes` is UTF-8 as `core::str::from_utf8` accepts it (RFC 3629:
/// no overlong forms, no surrogates, nothing above U+10FFFF); a short loop
/// instead of core's word-at-a-time validator, which costs more flash.
pub fn is_utf8(bytes: &[u8]) -> bool {
    let mut rest = bytes.iter();
    while let Some(&lead) = rest.next() {
        // continuation bytes after the lead, and the range of the first one
        // (narrowed where it rules out overlongs, surrogates, > U+10FFFF)
        let (count, low, high) = match lead {
            0x00..=0x7F => continue,
            0xC2..=0xDF => (1, 0x80, 0xBF),
            0xE0 => (2, 0xA0, 0xBF),
            0xED => (2, 0x80, 0x9F),
            0xE1..=0xEF => (2, 0x80, 0xBF),
            0xF0 => (3, 0x90, 0xBF),
            0xF1..=0xF3 => (3, 0x80, 0xBF),
            0xF4 => (3, 0x80, 0x8F),
            _ => return false,
        };
        if rest.next().is_none_or(|&b| !(low..=high).contains(&b)) {
            return false;
        }
        for _ in 1..count {
            if rest.next().is_none_or(|&b| b & 0xC0 != 0x80) {
                return false;
            }
        }
    }
    true
}

/// A binary field (will message, password): at most 65535 bytes.
pub fn binary(bytes: &[u8]) -> Result<(), FieldError> {
    if bytes.len() > MAX_FIELD_LEN {
        Err(FieldError::StringTooLong)
    } else {
        Ok(())
    }
}

/// A topic name a message is published to: non-empty, no wildcards.
pub fn topic_name(topic: &[u8]) -> Result<(), FieldError> {
    if topic.len() > MAX_FIELD_LEN {
        return Err(FieldError::StringTooLong);
    }
    if !is_utf8(topic) {
        return Err(FieldError::InvalidUtf8);
    }
    topic_name_rules(topic)
}

/// The [`topic_name`] rules after the string rules: for a received topic the
/// decoder has already passed through [`string_bytes`] (its UTF-8 check is
/// not run twice per received message).
pub(crate) fn topic_name_rules(topic: &[u8]) -> Result<(), FieldError> {
    if topic.is_empty() {
        return Err(FieldError::EmptyTopic);
    }
    // One pass (this runs for every publish): U+0000 and the wildcards are
    // single ASCII bytes, never part of a multi-byte UTF-8 sequence.
    for &byte in topic {
        match byte {
            0 => return Err(FieldError::NullCharacter),
            b'+' | b'#' => return Err(FieldError::WildcardInTopic),
            _ => {}
        }
    }
    Ok(())
}

/// A subscription filter: non-empty; `+` and `#` occupy a whole level; `#` only last.
pub fn topic_filter(filter: &[u8]) -> Result<(), FieldError> {
    string_bytes(filter)?;
    if filter.is_empty() {
        return Err(FieldError::InvalidTopicFilter);
    }
    // One pass over the bytes (the wildcards and `/` are single ASCII bytes,
    // never part of a multi-byte UTF-8 sequence).
    let mut prev = b'/';
    let mut bytes = filter.iter().copied().peekable();
    while let Some(byte) = bytes.next() {
        if byte == b'+' || byte == b'#' {
            let next = bytes.peek().copied();
            let whole_level = prev == b'/' && matches!(next, None | Some(b'/'));
            if !whole_level || (byte == b'#' && next.is_some()) {
                return Err(FieldError::InvalidTopicFilter);
            }
        }
        prev = byte;
    }
    Ok(())
}

/// Packet identifiers are 1..=65535.
pub fn packet_id(id: u16) -> Result<u16, FieldError> {
    if id == 0 {
        Err(FieldError::ZeroPacketId)
    } else {
        Ok(id)
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
mod tests {
    use super::*;

    #[test]
    fn topic_names() {
        assert_eq!(topic_name(b"a/b"), Ok(()));
        assert_eq!(topic_name(b"/"), Ok(()));
        assert_eq!(topic_name(b""), Err(FieldError::EmptyTopic));
        assert_eq!(topic_name(b"a/+"), Err(FieldError::WildcardInTopic));
        assert_eq!(topic_name(b"a/#"), Err(FieldError::WildcardInTopic));
        assert_eq!(topic_name(b"a\0b"), Err(FieldError::NullCharacter));
        assert_eq!(topic_name(b"a\xC3("), Err(FieldError::InvalidUtf8));
    }

    /// The rule as the spec words it, level by level (the reference for
    /// the one-pass scan).
    fn filter_by_levels(filter: &str) -> bool {
        let levels: std::vec::Vec<&str> = filter.split('/').collect();
        !filter.is_empty()
            && levels.iter().enumerate().all(|(i, level)| match *level {
                "+" => true,
                "#" => i == levels.len().saturating_sub(1),
                other => !other.contains(['+', '#']),
            })
    }

    proptest::proptest! {
        #[test]
        fn filter_scan_matches_the_level_rule(filter in "[a/+#]{0,10}") {
            proptest::prop_assert_eq!(topic_filter(filter.as_bytes()).is_ok(), filter_by_levels(&filter), "{}", filter);
        }
    }

    #[test]
    fn topic_filters() {
        for good in [
            "#",
            "+",
            "a/#",
            "+/b/+",
            "sport/tennis/#",
            "/",
            "+/+",
            "a//b",
        ] {
            assert_eq!(topic_filter(good.as_bytes()), Ok(()), "{good}");
        }
        for bad in ["", "a#", "a/#/b", "a+", "+a/b", "#/a", "a/b#"] {
            assert_eq!(
                topic_filter(bad.as_bytes()),
                Err(FieldError::InvalidTopicFilter),
                "{bad}"
            );
        }
    }

    #[test]
    fn strings() {
        assert_eq!(utf8_string(&[0xC3, 0x28]), Err(FieldError::InvalidUtf8));
        assert_eq!(utf8_string(b"ok"), Ok("ok"));
        // Surrogate halves encoded as UTF-8 are not UTF-8.
        assert_eq!(
            utf8_string(&[0xED, 0xA0, 0x80]),
            Err(FieldError::InvalidUtf8)
        );
    }

    /// Strings that are valid UTF-8 by construction, with multi-byte
    /// characters at the edges of every length class and of the surrogates.
    fn edge_chars() -> impl proptest::strategy::Strategy<Value = std::string::String> {
        use proptest::prelude::*;
        let edge = prop::sample::select(std::vec![
            '\0',
            '\u{7F}',
            '\u{80}',
            '\u{7FF}',
            '\u{800}',
            '\u{D7FF}',
            '\u{E000}',
            '\u{FFFF}',
            '\u{10000}',
            '\u{10FFFF}',
        ]);
        prop::collection::vec(prop_oneof![any::<char>(), edge], 0..12)
            .prop_map(|chars| chars.into_iter().collect())
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4096))]
        #[test]
        fn is_utf8_matches_core_on_random_bytes(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..16)) {
            proptest::prop_assert_eq!(is_utf8(&bytes), core::str::from_utf8(&bytes).is_ok(), "{:02x?}", bytes);
        }

        #[test]
        fn is_utf8_matches_core_on_mutated_strings(
            text in edge_chars(),
            at in proptest::prelude::any::<proptest::sample::Index>(),
            byte in proptest::prelude::any::<u8>(),
            cut in proptest::prelude::any::<proptest::sample::Index>(),
        ) {
            let bytes = text.as_bytes();
            proptest::prop_assert!(is_utf8(bytes));
            // one byte replaced, and the string cut short: mostly invalid
            // sequences one step from valid ones
            let mut changed = bytes.to_vec();
            if !changed.is_empty() {
                let i = at.index(changed.len());
                changed[i] = byte;
            }
            proptest::prop_assert_eq!(is_utf8(&changed), core::str::from_utf8(&changed).is_ok(), "{:02x?}", changed);
            let short = &bytes[..cut.index(bytes.len() + 1)];
            proptest::prop_assert_eq!(is_utf8(short), core::str::from_utf8(short).is_ok(), "{:02x?}", short);
        }
    }

    #[test]
    fn is_utf8_every_two_and_three_byte_prefix() {
        // every lead with every second byte, and every 3-byte sequence whose
        // third byte is a continuation or ASCII: all lead/range boundaries
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                let two = [a, b];
                assert_eq!(
                    is_utf8(&two),
                    core::str::from_utf8(&two).is_ok(),
                    "{two:02x?}"
                );
                for c in [0x41, 0x80, 0xBF, 0xC0] {
                    for d in [0x41, 0x80, 0xBF] {
                        let four = [a, b, c, d];
                        assert_eq!(
                            is_utf8(&four),
                            core::str::from_utf8(&four).is_ok(),
                            "{four:02x?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn string_bytes_rules() {
        assert_eq!(string_bytes(b"ok"), Ok(()));
        assert_eq!(string_bytes(&[0xC3, 0x28]), Err(FieldError::InvalidUtf8));
        assert_eq!(
            string_bytes(&[0xED, 0xA0, 0x80]),
            Err(FieldError::InvalidUtf8)
        );
        assert_eq!(string_bytes(b"a\0"), Err(FieldError::NullCharacter));
        assert_eq!(string_bytes(&[b'a'; MAX_FIELD_LEN]), Ok(()));
        assert_eq!(
            string_bytes(&[b'a'; MAX_FIELD_LEN + 1]),
            Err(FieldError::StringTooLong)
        );
    }

    #[test]
    fn packet_ids() {
        assert_eq!(packet_id(0), Err(FieldError::ZeroPacketId));
        assert_eq!(packet_id(65_535), Ok(65_535));
    }
}
