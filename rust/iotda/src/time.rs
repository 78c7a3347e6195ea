//! UTC civil time from Unix seconds, without a date library.
//!
//! IoTDA uses two UTC formats: the hour stamp `YYYYMMDDHH` (ClientId and
//! HMAC key) and the event time `yyyyMMddTHHmmssZ` (`event_time` fields).
//! Conversion uses Howard Hinnant's `civil_from_days` / `days_from_civil`
//! (<https://howardhinnant.github.io/date_algorithms.html>), restricted to
//! 1970-01-01T00:00:00Z ..= 9999-12-31T23:59:59Z so that every year has four
//! digits and every intermediate value is non-negative and small.

use core::fmt;

/// Unix seconds of 9999-12-31T23:59:59Z, the last representable instant.
pub const MAX_UNIX: i64 = 253_402_300_799;

const SECS_PER_DAY: u64 = 86_400;

/// Why a time could not be converted or parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeError {
    /// Before 1970-01-01T00:00:00Z or after 9999-12-31T23:59:59Z.
    OutOfRange,
    /// A stamp has the wrong length, a non-digit, or an impossible field
    /// (month 13, February 30, hour 24, ...).
    Malformed,
}

impl fmt::Display for TimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TimeError::OutOfRange => {
                f.write_str("time outside 1970-01-01T00:00:00Z..=9999-12-31T23:59:59Z")
            }
            TimeError::Malformed => f.write_str("malformed time stamp"),
        }
    }
}

impl core::error::Error for TimeError {}

/// A UTC date and time of day, 1970..=9999.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DateTime {
    pub year: u16,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
}

/// Gregorian leap year.
pub const fn is_leap(year: u16) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

/// Days in `month` (1..=12) of `year`; 0 for an invalid month.
pub const fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// `(year, month, day)` of `days` days after 1970-01-01 (Hinnant's
/// `civil_from_days`).
// Arithmetic is plain here on purpose: callers pass days <= 2_932_896
// (9999-12-31), so z < 3_700_000, era <= 25 and every intermediate value is
// a small non-negative integer; divisors are non-zero constants.
#[allow(clippy::arithmetic_side_effects)]
const fn civil_from_days(days: u32) -> (u16, u8, u8) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097; // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11], March = 0
    let day = doy - (153 * mp + 2) / 5 + 1; // [1, 31]
    let month = if mp < 10 { mp + 3 } else { mp - 9 }; // [1, 12]
    let year = yoe + era * 400 + if month <= 2 { 1 } else { 0 };
    (year as u16, month as u8, day as u8)
}

/// Days from 1970-01-01 to `year-month-day` (Hinnant's `days_from_civil`).
// Callers pass 1970 <= year <= 9999, 1 <= month <= 12, 1 <= day <= 31, so
// every intermediate value is a small non-negative integer.
#[allow(clippy::arithmetic_side_effects)]
const fn days_from_civil(year: u16, month: u8, day: u8) -> u32 {
    let (m, d) = (month as u32, day as u32);
    let y = year as u32 - if m <= 2 { 1 } else { 0 };
    let era = y / 400;
    let yoe = y - era * 400; // [0, 399]
    let mp = if m > 2 { m - 3 } else { m + 9 }; // March = 0
    let doy = (153 * mp + 2) / 5 + d - 1; // [0, 365]
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // [0, 146096]
    era * 146_097 + doe - 719_468
}

impl DateTime {
    /// The UTC date and time at `secs` seconds after the Unix epoch.
    pub fn from_unix(secs: i64) -> Result<Self, TimeError> {
        match u64::try_from(secs) {
            Ok(s) => Self::from_unix_u64(s),
            Err(_) => Err(TimeError::OutOfRange),
        }
    }

    /// [`DateTime::from_unix`] for unsigned seconds.
    pub fn from_unix_u64(secs: u64) -> Result<Self, TimeError> {
        if secs > MAX_UNIX.unsigned_abs() {
            return Err(TimeError::OutOfRange);
        }
        // Plain casts, each in range: secs <= MAX_UNIX < 2^38 makes the days
        // (< 2^22) and the second of the day (< 86400) fit u32, the hour,
        // minute and second u8 (no error branches that are never taken).
        let days = (secs / SECS_PER_DAY) as u32;
        let sod = (secs % SECS_PER_DAY) as u32;
        let (year, month, day) = civil_from_days(days);
        let hour = (sod / 3600) as u8;
        let minute = (sod % 3600 / 60) as u8;
        let second = (sod % 60) as u8;
        Ok(DateTime {
            year,
            month,
            day,
            hour,
            minute,
            second,
        })
    }

    /// Whether every field is in range (1970..=9999, a real calendar day,
    /// 00:00:00..=23:59:59).
    pub const fn is_valid(&self) -> bool {
        self.year >= 1970
            && self.year <= 9999
            && self.month >= 1
            && self.month <= 12
            && self.day >= 1
            && self.day <= days_in_month(self.year, self.month)
            && self.hour < 24
            && self.minute < 60
            && self.second < 60
    }

    /// Seconds since the Unix epoch.
    pub fn to_unix(&self) -> Result<i64, TimeError> {
        if !self.is_valid() {
            return Err(TimeError::Malformed);
        }
        let days = i64::from(days_from_civil(self.year, self.month, self.day));
        let sod = i64::from(self.hour)
            .checked_mul(3600)
            .and_then(|h| h.checked_add(i64::from(self.minute).checked_mul(60)?))
            .and_then(|hm| hm.checked_add(i64::from(self.second)));
        days.checked_mul(86_400)
            .zip(sod)
            .and_then(|(d, s)| d.checked_add(s))
            .ok_or(TimeError::OutOfRange)
    }

    /// The hour stamp `YYYYMMDDHH`.
    pub fn hour_stamp(&self) -> [u8; 10] {
        let mut out = [0u8; 10];
        let (date, h) = out.split_at_mut(8);
        put_digits(date, self.date_number());
        put_digits(h, u32::from(self.hour));
        out
    }

    /// The event time `yyyyMMddTHHmmssZ`.
    pub fn event_time(&self) -> [u8; 16] {
        // every byte but the 'T' is a digit or the final 'Z'
        let mut out = [b'Z'; 16];
        let (date, rest) = out.split_at_mut(8);
        put_digits(date, self.date_number());
        if let Some((t, rest)) = rest.split_first_mut() {
            *t = b'T';
            put_digits(rest.get_mut(..6).unwrap_or_default(), self.time_number());
        }
        out
    }

    /// `yyyyMMdd` as one number (at most 99991231: fits u32), so the date
    /// is written by one digit loop instead of three.
    #[allow(clippy::arithmetic_side_effects)]
    fn date_number(&self) -> u32 {
        u32::from(self.year) * 10_000 + u32::from(self.month) * 100 + u32::from(self.day)
    }

    /// `HHmmss` as one number.
    #[allow(clippy::arithmetic_side_effects)]
    fn time_number(&self) -> u32 {
        u32::from(self.hour) * 10_000 + u32::from(self.minute) * 100 + u32::from(self.second)
    }
}

fn put_digits(out: &mut [u8], mut n: u32) {
    for slot in out.iter_mut().rev() {
        // n % 10 < 10, so the narrowing and the addition cannot overflow.
        *slot = b'0'.wrapping_add((n % 10) as u8);
        n /= 10;
    }
}

/// Parse a run of ASCII digits.
fn digits(s: &[u8]) -> Option<u32> {
    s.iter().try_fold(0u32, |acc, &c| {
        if c.is_ascii_digit() {
            acc.checked_mul(10)?
                .checked_add(u32::from(c.wrapping_sub(b'0')))
        } else {
            None
        }
    })
}

fn field<T: TryFrom<u32>>(s: &[u8], at: usize, len: usize) -> Result<T, TimeError> {
    let end = at.checked_add(len).ok_or(TimeError::Malformed)?;
    let v = s
        .get(at..end)
        .and_then(digits)
        .ok_or(TimeError::Malformed)?;
    T::try_from(v).map_err(|_| TimeError::Malformed)
}

fn checked(dt: DateTime) -> Result<DateTime, TimeError> {
    if dt.is_valid() {
        Ok(dt)
    } else {
        Err(TimeError::Malformed)
    }
}

/// Parse an hour stamp `YYYYMMDDHH` (minute and second are 0).
pub fn parse_hour_stamp(s: &[u8]) -> Result<DateTime, TimeError> {
    if s.len() != 10 {
        return Err(TimeError::Malformed);
    }
    checked(DateTime {
        year: field(s, 0, 4)?,
        month: field(s, 4, 2)?,
        day: field(s, 6, 2)?,
        hour: field(s, 8, 2)?,
        minute: 0,
        second: 0,
    })
}

/// Parse an event time `yyyyMMddTHHmmssZ`.
pub fn parse_event_time(s: &[u8]) -> Result<DateTime, TimeError> {
    if s.len() != 16 || s.get(8) != Some(&b'T') || s.get(15) != Some(&b'Z') {
        return Err(TimeError::Malformed);
    }
    checked(DateTime {
        year: field(s, 0, 4)?,
        month: field(s, 4, 2)?,
        day: field(s, 6, 2)?,
        hour: field(s, 9, 2)?,
        minute: field(s, 11, 2)?,
        second: field(s, 13, 2)?,
    })
}

/// The result of a `$time_sync` exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeSync {
    /// UTC at `device_recv`, Unix milliseconds.
    pub utc_ms: i64,
    /// UTC minus the device clock, milliseconds: add it to the device clock.
    pub offset_ms: i64,
}

/// IoTDA's `$time_sync` formula: the device's UTC time when it received the
/// `time_sync_response` is `(server_recv + server_send + device_recv -
/// device_send) / 2` (all Unix milliseconds; the device times on the
/// device's clock). Computed without overflow, saturated to `i64`, division
/// rounding toward negative infinity.
pub fn time_sync(
    device_send: i64,
    server_recv: i64,
    server_send: i64,
    device_recv: i64,
) -> TimeSync {
    let sum = i128::from(server_recv)
        .saturating_add(i128::from(server_send))
        .saturating_add(i128::from(device_recv))
        .saturating_sub(i128::from(device_send));
    let half = sum.div_euclid(2);
    let utc_ms = i64::try_from(half).unwrap_or(if half < 0 { i64::MIN } else { i64::MAX });
    TimeSync {
        utc_ms,
        offset_ms: utc_ms.saturating_sub(device_recv),
    }
}

/// Write the hour stamp of `unix_secs` into `out`.
pub fn write_hour_stamp(unix_secs: i64, out: &mut [u8; 10]) -> Result<(), TimeError> {
    *out = DateTime::from_unix(unix_secs)?.hour_stamp();
    Ok(())
}

/// Write the event time of `unix_secs` into `out`.
pub fn write_event_time(unix_secs: i64, out: &mut [u8; 16]) -> Result<(), TimeError> {
    *out = DateTime::from_unix(unix_secs)?.event_time();
    Ok(())
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]
mod tests {
    use super::*;

    #[test]
    fn time_sync_formula() {
        // device clock 10 s behind: sent at 1000 (device), server got it at
        // 11_050 and answered at 11_060, device received at 1_110 (device)
        let t = time_sync(1_000, 11_050, 11_060, 1_110);
        assert_eq!(t.utc_ms, 11_110);
        assert_eq!(t.offset_ms, 10_000);
        let t = time_sync(i64::MIN, i64::MAX, i64::MAX, i64::MAX);
        assert_eq!(t.utc_ms, i64::MAX);
        assert_eq!(time_sync(0, -1, 0, 0).utc_ms, -1);
    }
    use proptest::prelude::*;

    fn dt(year: u16, month: u8, day: u8, hour: u8, minute: u8, second: u8) -> DateTime {
        DateTime {
            year,
            month,
            day,
            hour,
            minute,
            second,
        }
    }

    #[test]
    fn reference_vector() {
        // UTC 2018-07-24 17:56:20 -> 2018072417 (from the IoTDA guide)
        let t = 1_532_454_980;
        assert_eq!(DateTime::from_unix(t), Ok(dt(2018, 7, 24, 17, 56, 20)));
        let mut h = [0; 10];
        write_hour_stamp(t, &mut h).unwrap();
        assert_eq!(&h, b"2018072417");
        let mut e = [0; 16];
        write_event_time(t, &mut e).unwrap();
        assert_eq!(&e, b"20180724T175620Z");
    }

    #[test]
    fn boundaries() {
        let cases: &[(i64, &[u8; 16])] = &[
            (0, b"19700101T000000Z"),
            (946_684_799, b"19991231T235959Z"),
            (946_684_800, b"20000101T000000Z"),
            (951_782_400, b"20000229T000000Z"),
            (1_709_164_800, b"20240229T000000Z"),
            (2_147_483_647, b"20380119T031407Z"),
            (2_147_483_648, b"20380119T031408Z"),
            (4_107_542_400, b"21000301T000000Z"),
            (MAX_UNIX, b"99991231T235959Z"),
        ];
        for &(t, want) in cases {
            let d = DateTime::from_unix(t).unwrap();
            assert_eq!(&d.event_time(), want, "{t}");
            assert_eq!(d.to_unix(), Ok(t));
            assert_eq!(parse_event_time(want), Ok(d));
        }
        assert_eq!(DateTime::from_unix(-1), Err(TimeError::OutOfRange));
        assert_eq!(
            DateTime::from_unix(MAX_UNIX + 1),
            Err(TimeError::OutOfRange)
        );
        assert_eq!(DateTime::from_unix(i64::MIN), Err(TimeError::OutOfRange));
        assert_eq!(
            DateTime::from_unix_u64(u64::MAX),
            Err(TimeError::OutOfRange)
        );
    }

    #[test]
    fn parse_rejects_malformed() {
        for bad in [
            &b"2018072417"[..9],
            b"20180724170",
            b"2018132417",
            b"2018000117",
            b"2018073217",
            b"2019022900",
            b"2018072424",
            b"1969123123",
            b"2018-07-24",
            b"+018072417",
            b"201807241 ",
        ] {
            assert_eq!(parse_hour_stamp(bad), Err(TimeError::Malformed), "{bad:?}");
        }
        assert_eq!(
            parse_hour_stamp(b"2020022923"),
            Ok(dt(2020, 2, 29, 23, 0, 0))
        );
        for bad in [
            b"20180724 175620Z",
            b"20180724T175620z",
            b"20180724T176020Z",
            b"20180724T175660Z",
        ] {
            assert_eq!(parse_event_time(bad), Err(TimeError::Malformed));
        }
    }

    /// Reference computed differently: walk years and months one at a time.
    fn slow_civil(secs: i64) -> DateTime {
        let mut days = secs / 86_400;
        let sod = secs % 86_400;
        let mut year = 1970u16;
        loop {
            let len = if is_leap(year) { 366 } else { 365 };
            if days < len {
                break;
            }
            days -= len;
            year += 1;
        }
        let mut month = 1u8;
        loop {
            let len = i64::from(days_in_month(year, month));
            if days < len {
                break;
            }
            days -= len;
            month += 1;
        }
        dt(
            year,
            month,
            (days + 1) as u8,
            (sod / 3600) as u8,
            (sod % 3600 / 60) as u8,
            (sod % 60) as u8,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn matches_slow_reference(t in 0..=MAX_UNIX) {
            let d = DateTime::from_unix(t).unwrap();
            prop_assert_eq!(d, slow_civil(t));
            prop_assert_eq!(d.to_unix(), Ok(t));
            let h = d.hour_stamp();
            let p = parse_hour_stamp(&h).unwrap();
            prop_assert_eq!(p.to_unix().unwrap(), t - t % 3600);
            prop_assert_eq!(parse_event_time(&d.event_time()), Ok(d));
        }

        #[test]
        fn parsers_never_panic(s in proptest::collection::vec(any::<u8>(), 0..20)) {
            let _ = parse_hour_stamp(&s);
            let _ = parse_event_time(&s);
        }

        #[test]
        fn digit_strings_never_panic(s in "[0-9]{10}", e in "[0-9]{8}T[0-9]{6}Z") {
            if let Ok(d) = parse_hour_stamp(s.as_bytes()) {
                prop_assert_eq!(&d.hour_stamp()[..], s.as_bytes());
            }
            if let Ok(d) = parse_event_time(e.as_bytes()) {
                prop_assert_eq!(&d.event_time()[..], e.as_bytes());
            }
        }
    }

    #[test]
    fn every_day_matches_reference() {
        // Exhaustive over days, at noon, 1970..=9999 (2.9 M days, fast).
        let last = MAX_UNIX / 86_400;
        let (mut y, mut m, mut d) = (1970u16, 1u8, 1u8);
        for day in 0..=last {
            let got = civil_from_days(day as u32);
            assert_eq!(got, (y, m, d), "day {day}");
            assert_eq!(days_from_civil(y, m, d), day as u32);
            d += 1;
            if d > days_in_month(y, m) {
                d = 1;
                m += 1;
                if m > 12 {
                    m = 1;
                    y += 1;
                }
            }
        }
    }
}
