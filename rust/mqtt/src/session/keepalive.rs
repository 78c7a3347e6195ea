//! Keepalive clock: decides when a PINGREQ is due and when the server is dead.
//! Times are u32 milliseconds that wrap; only differences are ever compared.

/// What the keepalive clock wants done now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeepAliveAction {
    /// Nothing due; the next deadline is `wait_ms` away (`u32::MAX`: none).
    Idle { wait_ms: u32 },
    /// Send a PINGREQ now.
    SendPing,
    /// Too many pings went unanswered: drop the connection.
    Dead,
}

/// Shortest time a PINGREQ is given to be answered.
const MIN_ANSWER_TIMEOUT_MS: u32 = 1_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeepAlive {
    interval_ms: u32,
    max_unanswered: u8,
    last_send_ms: u32,
    last_receive_ms: u32,
    last_ping_ms: u32,
    unanswered: u8,
}

impl KeepAlive {
    pub const fn new() -> Self {
        KeepAlive {
            interval_ms: 0,
            max_unanswered: 0,
            last_send_ms: 0,
            last_receive_ms: 0,
            last_ping_ms: 0,
            unanswered: 0,
        }
    }

    /// Starts a connection's clock; the CONNECT counts as the last send.
    pub fn start(&mut self, now_ms: u32, keep_alive_s: u16, max_unanswered: u8) {
        *self = KeepAlive {
            // 65535 s * 1000 fits comfortably in u32.
            interval_ms: u32::from(keep_alive_s).saturating_mul(1_000),
            max_unanswered,
            last_send_ms: now_ms,
            last_receive_ms: now_ms,
            last_ping_ms: now_ms,
            unanswered: 0,
        };
    }

    pub fn on_send(&mut self, now_ms: u32) {
        self.last_send_ms = now_ms;
    }

    /// Any received byte proves the server alive.
    pub fn on_receive(&mut self, now_ms: u32) {
        self.last_receive_ms = now_ms;
        self.unanswered = 0;
    }

    pub fn on_ping_sent(&mut self, now_ms: u32) {
        self.on_send(now_ms);
        self.last_ping_ms = now_ms;
        self.unanswered = self.unanswered.saturating_add(1);
    }

    /// Forgets outstanding pings (the connection they were sent on is gone).
    pub fn clear_pings(&mut self) {
        self.unanswered = 0;
    }

    pub fn unanswered_pings(&self) -> u8 {
        self.unanswered
    }

    pub fn last_receive_ms(&self) -> u32 {
        self.last_receive_ms
    }

    /// PINGREQ is due once 3/4 of the keepalive passed since the last send.
    fn ping_interval_ms(&self) -> u32 {
        self.interval_ms.saturating_sub(self.interval_ms / 4)
    }

    /// How long a PINGREQ may stay unanswered: keepalive/2, at least 1 s.
    fn answer_timeout_ms(&self) -> u32 {
        (self.interval_ms / 2).max(MIN_ANSWER_TIMEOUT_MS)
    }

    pub fn poll(&self, now_ms: u32) -> KeepAliveAction {
        if self.interval_ms == 0 {
            return KeepAliveAction::Idle { wait_ms: u32::MAX };
        }
        let until_ping = self
            .ping_interval_ms()
            .saturating_sub(now_ms.wrapping_sub(self.last_send_ms));
        if self.unanswered == 0 {
            return if until_ping == 0 {
                KeepAliveAction::SendPing
            } else {
                KeepAliveAction::Idle {
                    wait_ms: until_ping,
                }
            };
        }
        let until_answer_timeout = self
            .answer_timeout_ms()
            .saturating_sub(now_ms.wrapping_sub(self.last_ping_ms));
        let tolerance_exceeded = self.unanswered > self.max_unanswered;
        match (until_answer_timeout, tolerance_exceeded) {
            (0, true) => KeepAliveAction::Dead,
            (wait_ms, true) => KeepAliveAction::Idle { wait_ms },
            // Within tolerance: the next ping waits for both the ping interval and
            // the previous ping's answer window.
            (wait_for_answer, false) => match wait_for_answer.max(until_ping) {
                0 => KeepAliveAction::SendPing,
                wait_ms => KeepAliveAction::Idle { wait_ms },
            },
        }
    }
}

impl Default for KeepAlive {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn started(now: u32, keep_alive_s: u16, max_unanswered: u8) -> KeepAlive {
        let mut clock = KeepAlive::new();
        clock.start(now, keep_alive_s, max_unanswered);
        clock
    }

    #[test]
    fn disabled_keepalive_never_acts() {
        let clock = started(0, 0, 0);
        assert_eq!(
            clock.poll(u32::MAX),
            KeepAliveAction::Idle { wait_ms: u32::MAX }
        );
    }

    #[test]
    fn ping_at_three_quarters_then_dead_after_half() {
        let mut clock = started(0, 60, 0);
        assert_eq!(clock.poll(0), KeepAliveAction::Idle { wait_ms: 45_000 });
        assert_eq!(clock.poll(44_999), KeepAliveAction::Idle { wait_ms: 1 });
        assert_eq!(clock.poll(45_000), KeepAliveAction::SendPing);
        clock.on_ping_sent(45_000);
        assert_eq!(
            clock.poll(45_000),
            KeepAliveAction::Idle { wait_ms: 30_000 }
        );
        assert_eq!(clock.poll(75_000), KeepAliveAction::Dead);
    }

    #[test]
    fn answer_resets() {
        let mut clock = started(0, 60, 0);
        clock.on_ping_sent(45_000);
        clock.on_receive(46_000);
        assert_eq!(
            clock.poll(75_000),
            KeepAliveAction::Idle { wait_ms: 15_000 }
        );
        assert_eq!(clock.unanswered_pings(), 0);
    }

    #[test]
    fn tolerates_configured_unanswered_pings() {
        let mut clock = started(0, 4, 1);
        clock.on_ping_sent(3_000);
        // One unanswered is tolerated: the next ping is due 3 s after the first.
        assert_eq!(clock.poll(5_000), KeepAliveAction::Idle { wait_ms: 1_000 });
        assert_eq!(clock.poll(6_000), KeepAliveAction::SendPing);
        clock.on_ping_sent(6_000);
        assert_eq!(clock.poll(7_999), KeepAliveAction::Idle { wait_ms: 1 });
        assert_eq!(clock.poll(8_000), KeepAliveAction::Dead);
    }

    #[test]
    fn short_keepalive_uses_one_second_answer_window() {
        let mut clock = started(0, 1, 0);
        assert_eq!(clock.poll(750), KeepAliveAction::SendPing);
        clock.on_ping_sent(750);
        assert_eq!(clock.poll(1_749), KeepAliveAction::Idle { wait_ms: 1 });
        assert_eq!(clock.poll(1_750), KeepAliveAction::Dead);
    }

    #[test]
    fn clock_wraps() {
        let start = u32::MAX - 10_000;
        let clock = started(start, 60, 0);
        assert_eq!(
            clock.poll(start.wrapping_add(44_000)),
            KeepAliveAction::Idle { wait_ms: 1_000 }
        );
        assert_eq!(
            clock.poll(start.wrapping_add(45_000)),
            KeepAliveAction::SendPing
        );
    }
}
