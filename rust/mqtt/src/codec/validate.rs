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
    // a plain loop: core's memchr costs flash and these strings are short
    if text.bytes().any(|b| b == 0) {
        return Err(FieldError::NullCharacter);
    }
    Ok(())
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
pub fn topic_name(topic: &str) -> Result<(), FieldError> {
    if topic.len() > MAX_FIELD_LEN {
        return Err(FieldError::StringTooLong);
    }
    if topic.is_empty() {
        return Err(FieldError::EmptyTopic);
    }
    // One pass (this runs for every publish): U+0000 and the wildcards are
    // single ASCII bytes, never part of a multi-byte UTF-8 sequence.
    for byte in topic.bytes() {
        match byte {
            0 => return Err(FieldError::NullCharacter),
            b'+' | b'#' => return Err(FieldError::WildcardInTopic),
            _ => {}
        }
    }
    Ok(())
}

/// A subscription filter: non-empty; `+` and `#` occupy a whole level; `#` only last.
pub fn topic_filter(filter: &str) -> Result<(), FieldError> {
    string(filter)?;
    if filter.is_empty() {
        return Err(FieldError::InvalidTopicFilter);
    }
    // One pass over the bytes (the wildcards and `/` are single ASCII bytes,
    // never part of a multi-byte UTF-8 sequence).
    let mut prev = b'/';
    let mut bytes = filter.bytes().peekable();
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
mod tests {
    use super::*;

    #[test]
    fn topic_names() {
        assert_eq!(topic_name("a/b"), Ok(()));
        assert_eq!(topic_name("/"), Ok(()));
        assert_eq!(topic_name(""), Err(FieldError::EmptyTopic));
        assert_eq!(topic_name("a/+"), Err(FieldError::WildcardInTopic));
        assert_eq!(topic_name("a/#"), Err(FieldError::WildcardInTopic));
        assert_eq!(topic_name("a\0b"), Err(FieldError::NullCharacter));
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
            proptest::prop_assert_eq!(topic_filter(&filter).is_ok(), filter_by_levels(&filter), "{}", filter);
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
            assert_eq!(topic_filter(good), Ok(()), "{good}");
        }
        for bad in ["", "a#", "a/#/b", "a+", "+a/b", "#/a", "a/b#"] {
            assert_eq!(
                topic_filter(bad),
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

    #[test]
    fn packet_ids() {
        assert_eq!(packet_id(0), Err(FieldError::ZeroPacketId));
        assert_eq!(packet_id(65_535), Ok(65_535));
    }
}
