//! IoTDA's login rules for a CONNECT, in the order the emulator applies them.
//!
//! | rule | CONNACK |
//! |---|---|
//! | protocol not MQTT 3.1 / 3.1.1 | 0x01 (sent by the connection, before this) |
//! | will flag set (IoTDA has no will messages) | 0x05 |
//! | keepalive outside 30..=1200 s | 0x02 |
//! | ClientId not `{device_id}_0_{0\|1\|2}_{YYYYMMDDHH}` | 0x02 |
//! | device id unknown | 0x05 |
//! | username != device id | 0x04 |
//! | certificate device: no TLS client certificate, or not the registered fingerprint | 0x04 |
//! | secret device: password missing | 0x04 |
//! | sign type 1 or 2 and hour stamp more than the tolerance away from UTC now | 0x04 |
//! | password not HMAC(stamp, secret) (SHA-256 for sign types 0/1, SM3 for 2; constant time) and not the fixed pair | 0x04 |

use iotda::time::{parse_hour_stamp, DateTime};
use mqtt_core::codec::{Connect, ConnectReturnCode};

use crate::state::DeviceAuth;

pub use iotda::{KEEPALIVE_MAX, KEEPALIVE_MIN};

/// The parts of a ClientId.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientId<'a> {
    pub device_id: &'a str,
    pub sign_type: u8,
    pub stamp: [u8; 10],
}

/// Parses `{device_id}_0_{0|1|2}_{YYYYMMDDHH}` (device ids may hold `_`, so
/// the fixed 15-byte suffix is taken from the right).
pub fn parse_client_id(cid: &str) -> Option<ClientId<'_>> {
    let split = cid.len().checked_sub(15)?;
    if !cid.is_char_boundary(split) {
        return None;
    }
    let (id, suffix) = cid.split_at(split);
    let s = suffix.as_bytes();
    if s.get(..3)? != b"_0_" || s.get(4)? != &b'_' {
        return None;
    }
    let sign_type = match s.get(3)? {
        b'0' => 0,
        b'1' => 1,
        b'2' => 2,
        _ => return None,
    };
    let stamp: [u8; 10] = s.get(5..)?.try_into().ok()?;
    parse_hour_stamp(&stamp).ok()?;
    iotda::validate::device_id(id.as_bytes()).ok()?;
    Some(ClientId {
        device_id: id,
        sign_type,
        stamp,
    })
}

/// Hours between an hour stamp and `now_secs`' UTC hour.
pub fn hours_off(stamp: &[u8; 10], now_secs: i64) -> Option<i64> {
    let t = parse_hour_stamp(stamp).ok()?.to_unix().ok()?;
    let now_hour = DateTime::from_unix(now_secs).ok()?.to_unix().ok()? / 3600;
    Some((t / 3600 - now_hour).abs())
}

fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// Checks a CONNECT's rules that need no device (will, keepalive, ClientId).
pub fn precheck<'a>(c: &Connect<'a>) -> Result<ClientId<'a>, (ConnectReturnCode, String)> {
    if c.will.is_some() {
        return Err((
            ConnectReturnCode::NotAuthorized,
            "will message (not supported by IoTDA)".into(),
        ));
    }
    if !(KEEPALIVE_MIN..=KEEPALIVE_MAX).contains(&c.keep_alive) {
        return Err((
            ConnectReturnCode::IdentifierRejected,
            format!("keepalive {} outside 30..1200", c.keep_alive),
        ));
    }
    parse_client_id(c.client_id).ok_or_else(|| {
        (
            ConnectReturnCode::IdentifierRejected,
            "ClientId is not {device_id}_0_{0|1|2}_{YYYYMMDDHH}".into(),
        )
    })
}

/// Checks username, hour stamp and password (or, for a certificate device,
/// the SHA-256 fingerprint `peer_cert` of the TLS client certificate) for a
/// known device.
pub fn check_credentials(
    c: &Connect<'_>,
    cid: &ClientId<'_>,
    auth: &DeviceAuth,
    peer_cert: Option<&str>,
    now_secs: i64,
    tolerance_hours: u32,
) -> Result<(), (ConnectReturnCode, String)> {
    let bad = |why: &str| Err((ConnectReturnCode::BadUserNameOrPassword, why.to_string()));
    if c.username != Some(cid.device_id) {
        return bad("username is not the device id");
    }
    if auth.certificate {
        // The certificate is the credential (Huawei: no password for
        // CERTIFICATES devices); the hour stamp signs nothing, so it is not
        // checked.
        return match (peer_cert, &auth.fingerprint) {
            (None, _) => bad("certificate device without a TLS client certificate"),
            (Some(_), None) => Ok(()), // first login binds the fingerprint
            (Some(got), Some(want)) if ct_eq(got.as_bytes(), want.as_bytes()) => Ok(()),
            (Some(got), Some(_)) => bad(&format!(
                "client certificate SHA-256 {got} is not the device's registered fingerprint"
            )),
        };
    }
    let Some(password) = c.password else {
        return bad("no password");
    };
    let Ok(sign) = iotda::SignType::try_from(cid.sign_type) else {
        return bad("unknown sign type");
    };
    if sign.checks_timestamp() {
        match hours_off(&cid.stamp, now_secs) {
            Some(h) if h <= i64::from(tolerance_hours) => {}
            _ => {
                return bad(&format!(
                    "sign type {}: hour stamp more than {tolerance_hours} h away from the emulator's UTC clock",
                    cid.sign_type
                ))
            }
        }
    }
    let by_secret = auth
        .secret
        .as_ref()
        .is_some_and(|s| iotda::verify_password_for(sign, &cid.stamp, s.as_bytes(), password));
    let by_pair = auth.fixed.as_ref().is_some_and(|(fcid, fpw)| {
        // Both compared in full, in constant time.
        ct_eq(fcid.as_bytes(), c.client_id.as_bytes()) & ct_eq(fpw.as_bytes(), password)
    });
    if by_secret || by_pair {
        Ok(())
    } else {
        bad("password does not match")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_ids() {
        let c = parse_client_id("a_b_0_1_2021011909").unwrap();
        assert_eq!(c.device_id, "a_b");
        assert_eq!(c.sign_type, 1);
        assert_eq!(&c.stamp, b"2021011909");
        assert_eq!(parse_client_id("a_0_2_2021011909").unwrap().sign_type, 2);
        assert!(parse_client_id("a_0_3_2021011909").is_none());
        assert!(parse_client_id("a_1_0_2021011909").is_none());
        assert!(parse_client_id("_0_0_2021011909").is_none());
        assert!(parse_client_id("a_0_0_2021011924").is_none());
        assert!(parse_client_id("a_0_0_202101190").is_none());
        assert!(parse_client_id("").is_none());
        assert!(parse_client_id("a/b_0_0_2021011909").is_none());
        assert!(parse_client_id("é_0_0_2021011909").is_some());
        assert!(parse_client_id("x0_0_2021011909é").is_none());
    }

    #[test]
    fn hours() {
        // 2018-07-24T17:56:20Z
        assert_eq!(hours_off(b"2018072417", 1_532_454_980), Some(0));
        assert_eq!(hours_off(b"2018072416", 1_532_454_980), Some(1));
        assert_eq!(hours_off(b"2018072419", 1_532_454_980), Some(2));
    }
}
