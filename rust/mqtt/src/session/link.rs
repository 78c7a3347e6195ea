//! Link state and reconnect policy: whether a login is in progress, whether the
//! link is up, and when the next background login attempt is due.
//! Times are u32 milliseconds that wrap; only differences are compared.

use super::backoff::{backoff_ms, refusal_is_permanent};

/// `get_mqttsta()` values, as QuecPython reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkStatus {
    Connected,
    /// A login is in progress (DNS/TCP/TLS/CONNECT/CONNACK).
    Connecting,
    /// The link was lost; with auto-reconnect an attempt is scheduled.
    ServerClosed,
    /// Never connected, closed by the script, or refused for good.
    Closed,
}

impl LinkStatus {
    pub fn as_i8(self) -> i8 {
        match self {
            LinkStatus::Connected => 0,
            LinkStatus::Connecting => 1,
            LinkStatus::ServerClosed => 2,
            LinkStatus::Closed => -1,
        }
    }
}

/// Outcome of a failed login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginFailure {
    /// Another attempt is scheduled (status `ServerClosed`).
    Retry,
    /// No attempt follows (status `Closed`).
    Stopped,
}

/// What [`Link::poll`] says about the next reconnect attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReconnectPoll {
    /// Nothing scheduled.
    None,
    /// Due in `wait_ms`.
    Wait { wait_ms: u32 },
    /// Begin a background login now.
    Due,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Closed,
    /// `due: None` means "as soon as auto-reconnect allows".
    Lost {
        due: Option<u32>,
    },
    Connecting {
        background: bool,
    },
    Connected,
}

/// Replaces a zero xorshift seed, which would stay zero forever.
const DEFAULT_SEED: u32 = 0x9E37_79B9;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Link {
    phase: Phase,
    auto_reconnect: bool,
    /// Failed background attempts since the last accepted login.
    attempt: u32,
    /// xorshift32 state for backoff jitter; never 0.
    rng: u32,
}

impl Default for Link {
    fn default() -> Self {
        Self::new(0)
    }
}

impl Link {
    pub const fn new(seed: u32) -> Self {
        Link {
            phase: Phase::Closed,
            auto_reconnect: false,
            attempt: 0,
            rng: if seed == 0 { DEFAULT_SEED } else { seed },
        }
    }

    pub fn status(&self) -> LinkStatus {
        match self.phase {
            Phase::Closed => LinkStatus::Closed,
            Phase::Lost { .. } => LinkStatus::ServerClosed,
            Phase::Connecting { .. } => LinkStatus::Connecting,
            Phase::Connected => LinkStatus::Connected,
        }
    }

    pub fn auto_reconnect(&self) -> bool {
        self.auto_reconnect
    }

    /// Failed background attempts since the last accepted login.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    pub fn set_auto_reconnect(&mut self, on: bool) {
        if on && !self.auto_reconnect {
            if let Phase::Lost { due } = &mut self.phase {
                // A schedule made long ago would compare wrongly after a wrap.
                *due = None;
            }
        }
        self.auto_reconnect = on;
    }

    /// True while a login that the session may answer with CONNACK is running.
    pub fn is_connecting(&self) -> bool {
        matches!(self.phase, Phase::Connecting { .. })
    }

    /// A login starts. Returns whether the old link was up (it now counts as lost).
    pub fn begin(&mut self, background: bool) -> Result<bool, Busy> {
        let was_connected = match self.phase {
            Phase::Connecting { .. } => return Err(Busy),
            Phase::Connected => true,
            Phase::Closed | Phase::Lost { .. } => false,
        };
        if !background {
            self.attempt = 0;
        }
        self.phase = Phase::Connecting { background };
        Ok(was_connected)
    }

    /// CONNACK accepted; returns whether this login was a background attempt.
    pub fn connected(&mut self) -> bool {
        let background = matches!(self.phase, Phase::Connecting { background: true });
        self.phase = Phase::Connected;
        self.attempt = 0;
        background
    }

    /// The login failed before CONNACK was accepted (`refusal_code` 0: not a
    /// refusal). Outside a login nothing changes: `Retry` while a reconnect is
    /// pending, else `Stopped`.
    pub fn failed(&mut self, refusal_code: u8, now_ms: u32) -> LoginFailure {
        let background = match self.phase {
            Phase::Connecting { background } => background,
            Phase::Lost { .. } if self.auto_reconnect => return LoginFailure::Retry,
            Phase::Lost { .. } | Phase::Closed | Phase::Connected => return LoginFailure::Stopped,
        };
        if background && self.auto_reconnect && !refusal_is_permanent(refusal_code) {
            let delay = backoff_ms(self.attempt, self.next_random());
            self.attempt = self.attempt.saturating_add(1);
            self.phase = Phase::Lost {
                due: Some(now_ms.wrapping_add(delay)),
            };
            LoginFailure::Retry
        } else {
            self.phase = Phase::Closed;
            LoginFailure::Stopped
        }
    }

    /// The transport died. Returns true when a reconnect cycle starts. Only a
    /// connected link can be lost: a login in progress ends with
    /// [`Link::failed`], and an offline link stays as it is.
    pub fn lost(&mut self) -> bool {
        match self.phase {
            Phase::Connected => {
                self.phase = Phase::Lost { due: None };
                self.attempt = 0;
                self.auto_reconnect
            }
            Phase::Connecting { .. } | Phase::Closed | Phase::Lost { .. } => false,
        }
    }

    /// The script closed the link: nothing scheduled.
    pub fn close(&mut self) {
        self.phase = Phase::Closed;
        self.attempt = 0;
    }

    pub fn poll(&self, now_ms: u32) -> ReconnectPoll {
        match self.phase {
            Phase::Lost { due } if self.auto_reconnect => match due {
                None => ReconnectPoll::Due,
                Some(due) => {
                    let remaining = due.wrapping_sub(now_ms);
                    // More than half the tick range ahead means the deadline passed.
                    if remaining == 0 || remaining > u32::MAX / 2 {
                        ReconnectPoll::Due
                    } else {
                        ReconnectPoll::Wait { wait_ms: remaining }
                    }
                }
            },
            _ => ReconnectPoll::None,
        }
    }

    fn next_random(&mut self) -> u32 {
        let mut x = self.rng;
        x ^= x.wrapping_shl(13);
        x ^= x.wrapping_shr(17);
        x ^= x.wrapping_shl(5);
        self.rng = if x == 0 { DEFAULT_SEED } else { x };
        self.rng
    }
}

/// A login is already in progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::arithmetic_side_effects, clippy::panic)]
mod tests {
    use super::*;

    fn lost_link(auto: bool) -> Link {
        let mut link = Link::new(1);
        link.set_auto_reconnect(auto);
        link.begin(false).unwrap();
        assert!(!link.connected());
        link
    }

    #[test]
    fn starts_closed_with_nothing_scheduled() {
        let link = Link::new(0);
        assert_eq!(link.status(), LinkStatus::Closed);
        assert_eq!(link.status().as_i8(), -1);
        assert_eq!(link.poll(0), ReconnectPoll::None);
        assert!(!link.auto_reconnect());
    }

    #[test]
    fn one_login_at_a_time() {
        let mut link = Link::new(7);
        assert_eq!(link.begin(false), Ok(false));
        assert_eq!(link.status(), LinkStatus::Connecting);
        assert_eq!(link.begin(true), Err(Busy));
        assert_eq!(link.begin(false), Err(Busy));
        link.connected();
        assert_eq!(link.status().as_i8(), 0);
        // connect() again while connected: allowed, old link lost.
        assert_eq!(link.begin(false), Ok(true));
        assert_eq!(link.status().as_i8(), 1);
    }

    #[test]
    fn loss_with_auto_reconnect_is_due_now_then_backs_off() {
        let mut link = lost_link(true);
        assert!(link.lost());
        assert_eq!(link.status(), LinkStatus::ServerClosed);
        assert_eq!(link.status().as_i8(), 2);
        assert_eq!(link.poll(100), ReconnectPoll::Due);
        // Idempotent.
        assert!(!link.lost());
        link.begin(true).unwrap();
        assert_eq!(link.poll(100), ReconnectPoll::None);
        assert_eq!(link.failed(3, 1_000), LoginFailure::Retry);
        assert_eq!(link.attempt(), 1);
        let ReconnectPoll::Wait { wait_ms } = link.poll(1_000) else {
            panic!("{:?}", link.poll(1_000));
        };
        assert!((500..=1_000).contains(&wait_ms), "{wait_ms}");
        assert_eq!(link.poll(1_000 + wait_ms), ReconnectPoll::Due);
        assert_eq!(link.poll(1_000 + wait_ms + 5), ReconnectPoll::Due);
        link.begin(true).unwrap();
        assert_eq!(link.failed(0, 5_000), LoginFailure::Retry);
        let ReconnectPoll::Wait { wait_ms } = link.poll(5_000) else {
            panic!();
        };
        assert!((1_000..=2_000).contains(&wait_ms), "{wait_ms}");
        link.begin(true).unwrap();
        assert!(link.connected(), "a background login reports reconnected");
        assert_eq!(link.attempt(), 0);
    }

    #[test]
    fn backoff_is_capped() {
        let mut link = lost_link(true);
        link.lost();
        for _ in 0..40 {
            link.begin(true).unwrap();
            assert_eq!(link.failed(0, 0), LoginFailure::Retry);
            let ReconnectPoll::Wait { wait_ms } = link.poll(0) else {
                panic!();
            };
            assert!(wait_ms <= 30_000);
        }
    }

    #[test]
    fn tick_wrap_around() {
        let mut link = lost_link(true);
        link.lost();
        link.begin(true).unwrap();
        link.failed(0, u32::MAX - 100);
        let ReconnectPoll::Wait { wait_ms } = link.poll(u32::MAX - 100) else {
            panic!();
        };
        assert!(wait_ms >= 500);
        // The deadline lies past the wrap.
        let due = (u32::MAX - 100).wrapping_add(wait_ms);
        assert!(due < 2_000);
        assert_eq!(
            link.poll(u32::MAX),
            ReconnectPoll::Wait {
                wait_ms: wait_ms - 100
            }
        );
        assert_eq!(link.poll(due), ReconnectPoll::Due);
        assert_eq!(link.poll(due.wrapping_add(10)), ReconnectPoll::Due);
    }

    #[test]
    fn permanent_refusals_stop() {
        for code in [1, 2, 4, 5] {
            let mut link = lost_link(true);
            link.lost();
            link.begin(true).unwrap();
            assert_eq!(link.failed(code, 0), LoginFailure::Stopped);
            assert_eq!(link.status(), LinkStatus::Closed);
            assert_eq!(link.poll(0), ReconnectPoll::None);
        }
        let mut link = lost_link(true);
        link.lost();
        link.begin(true).unwrap();
        assert_eq!(link.failed(3, 0), LoginFailure::Retry);
    }

    #[test]
    fn script_logins_never_retry() {
        let mut link = Link::new(3);
        link.set_auto_reconnect(true);
        link.begin(false).unwrap();
        assert_eq!(link.failed(3, 0), LoginFailure::Stopped);
        assert_eq!(link.status(), LinkStatus::Closed);
        // A script login resets the attempt counter.
        let mut link = lost_link(true);
        link.lost();
        for _ in 0..3 {
            link.begin(true).unwrap();
            link.failed(0, 0);
        }
        assert_eq!(link.attempt(), 3);
        link.begin(false).unwrap();
        assert_eq!(link.attempt(), 0);
        assert!(!link.connected());
    }

    #[test]
    fn without_auto_reconnect_nothing_is_scheduled() {
        let mut link = lost_link(false);
        assert!(!link.lost());
        assert_eq!(link.status(), LinkStatus::ServerClosed);
        assert_eq!(link.poll(0), ReconnectPoll::None);
        link.begin(true).unwrap();
        assert_eq!(link.failed(0, 0), LoginFailure::Stopped);
        // Turning it on while lost makes an attempt due.
        let mut link = lost_link(false);
        link.lost();
        link.set_auto_reconnect(true);
        assert_eq!(link.poll(123), ReconnectPoll::Due);
        link.set_auto_reconnect(false);
        assert_eq!(link.poll(123), ReconnectPoll::None);
    }

    #[test]
    fn close_and_loss_while_connecting() {
        let mut link = lost_link(true);
        link.close();
        assert_eq!(link.status(), LinkStatus::Closed);
        assert!(!link.lost());
        assert_eq!(link.poll(0), ReconnectPoll::None);
        // A loss during a login changes nothing; the login's failure does.
        let mut link = lost_link(true);
        link.lost();
        link.begin(true).unwrap();
        assert!(!link.lost());
        assert_eq!(link.status(), LinkStatus::Connecting);
        assert_eq!(link.failed(0, 0), LoginFailure::Retry);
        // Reported twice: the second report changes nothing.
        assert_eq!(link.failed(0, 0), LoginFailure::Retry);
        assert!(matches!(link.poll(0), ReconnectPoll::Wait { .. }));
        link.set_auto_reconnect(false);
        assert_eq!(link.failed(0, 0), LoginFailure::Stopped);
        assert_eq!(link.status(), LinkStatus::ServerClosed);
        let mut link = Link::new(1);
        link.begin(false).unwrap();
        link.connected();
        assert_eq!(link.failed(3, 0), LoginFailure::Stopped);
        assert_eq!(link.status(), LinkStatus::Connected, "no login to fail");
    }

    #[test]
    fn zero_seed_still_jitters() {
        let mut link = Link::new(0);
        let a = link.next_random();
        let b = link.next_random();
        assert_ne!(a, 0);
        assert_ne!(a, b);
    }
}
