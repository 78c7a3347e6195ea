//! Reconnect pacing.

const FIRST_DELAY_MS: u32 = 1_000;
const MAX_DELAY_MS: u32 = 30_000;

/// Capped exponential backoff with jitter: `base = min(1000 << attempt, 30000)`,
/// result in `[base / 2, base]`, chosen by `random` so clients do not reconnect in step.
pub fn backoff_ms(attempt: u32, random: u32) -> u32 {
    // 1000 << 5 already exceeds the cap; larger shifts would drop bits.
    let base = if attempt >= 5 {
        MAX_DELAY_MS
    } else {
        FIRST_DELAY_MS
            .checked_shl(attempt)
            .map_or(MAX_DELAY_MS, |delay| delay.min(MAX_DELAY_MS))
    };
    let half = base / 2;
    let spread = half.saturating_add(1);
    let jitter = random.checked_rem(spread).unwrap_or(0);
    half.saturating_add(jitter)
}

/// CONNACK codes a retry cannot fix (1, 2, 4, 5). 3 ("server unavailable") is
/// transient; 0 is success and others are not refusals MQTT defines.
pub fn refusal_is_permanent(code: u8) -> bool {
    matches!(code, 1 | 2 | 4 | 5)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_then_caps() {
        assert_eq!(backoff_ms(0, 500), 1_000);
        assert_eq!(backoff_ms(0, 0), 500);
        assert_eq!(backoff_ms(1, 1_000), 2_000);
        assert_eq!(backoff_ms(4, 8_000), 16_000);
        assert_eq!(backoff_ms(5, 15_000), 30_000);
        assert_eq!(backoff_ms(u32::MAX, 0), 15_000);
    }

    #[test]
    fn always_within_half_and_full_base() {
        for attempt in 0..40 {
            for random in [0, 1, 7, 499, 500, 501, 12_345, u32::MAX / 3, u32::MAX] {
                let base = if attempt >= 5 {
                    30_000
                } else {
                    (1_000u32 << attempt).min(30_000)
                };
                let delay = backoff_ms(attempt, random);
                assert!(
                    delay >= base / 2 && delay <= base,
                    "{attempt} {random} {delay}"
                );
            }
        }
    }

    #[test]
    fn permanent_refusals() {
        assert!(refusal_is_permanent(1));
        assert!(refusal_is_permanent(2));
        assert!(!refusal_is_permanent(3));
        assert!(refusal_is_permanent(4));
        assert!(refusal_is_permanent(5));
        assert!(!refusal_is_permanent(0));
    }
}
