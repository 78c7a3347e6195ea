//! Secret authentication: ClientId, Username and Password.
//!
//! - ClientId = `{device_id}_0_{sign_type}_{YYYYMMDDHH}` (UTC hour)
//! - Username = `{device_id}`
//! - Password = lowercase hex of HMAC(key = `YYYYMMDDHH`, message = secret),
//!   HMAC-SHA256 for sign types 0 and 1, HMAC-SM3 for sign type 2 (as
//!   Huawei's C device SDK signs with `EN_IOTA_CFG_CHECK_STAMP_SM3`)
//!
//! [`credentials`] derives the hour stamp once and uses it for both the
//! ClientId and the HMAC key, so the two can never straddle an hour boundary.

use crate::hash::Algorithm;
use crate::time::DateTime;
use crate::validate;
use crate::write::concat;
use crate::Error;

/// Length of the hex password.
pub const PASSWORD_LEN: usize = 64;
/// Length of the hour stamp.
pub const HOUR_STAMP_LEN: usize = 10;
/// Bytes the ClientId adds to the device id: `_0_`, sign digit, `_`, stamp.
pub const CLIENT_ID_OVERHEAD: usize = 15;
/// Largest ClientId for a valid device id.
pub const MAX_CLIENT_ID_LEN: usize = validate::MAX_DEVICE_ID_LEN + CLIENT_ID_OVERHEAD;

/// The `sign_type` field of the ClientId: which HMAC, and whether the
/// platform checks the hour stamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum SignType {
    /// HMAC-SHA256; the platform does not check the timestamp (still the
    /// HMAC key). For devices without a trustworthy clock.
    NoTimestampCheck = 0,
    /// HMAC-SHA256; the platform checks the timestamp against its clock.
    TimestampCheck = 1,
    /// HMAC-SM3 (GB/T 32905), timestamp checked: Huawei's C SDK's
    /// `EN_IOTA_CFG_CHECK_STAMP_SM3 = 2`.
    HmacSm3 = 2,
}

impl SignType {
    /// The ASCII digit used in the ClientId.
    pub const fn digit(self) -> u8 {
        match self {
            SignType::NoTimestampCheck => b'0',
            SignType::TimestampCheck => b'1',
            SignType::HmacSm3 => b'2',
        }
    }

    /// Whether the platform checks the hour stamp against its clock.
    pub const fn checks_timestamp(self) -> bool {
        !matches!(self, SignType::NoTimestampCheck)
    }
}

impl TryFrom<u8> for SignType {
    type Error = u8;
    fn try_from(v: u8) -> Result<Self, u8> {
        match v {
            0 => Ok(SignType::NoTimestampCheck),
            1 => Ok(SignType::TimestampCheck),
            2 => Ok(SignType::HmacSm3),
            other => Err(other),
        }
    }
}

/// Lengths written by [`credentials`]; the password is always
/// [`PASSWORD_LEN`] bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Credentials {
    pub client_id_len: usize,
    pub username_len: usize,
    /// The hour stamp used for both the ClientId and the password.
    pub timestamp: [u8; HOUR_STAMP_LEN],
}

/// Compute ClientId, Username and Password for `unix_secs` (UTC).
///
/// The hour stamp is computed once. `client_id` needs `device_id.len() + 15`
/// bytes, `username` `device_id.len()`; on [`Error::BufferTooSmall`] the
/// outputs must be ignored.
pub fn credentials(
    device_id: &[u8],
    secret: &[u8],
    unix_secs: i64,
    sign_type: SignType,
    client_id: &mut [u8],
    username: &mut [u8],
    password_out: &mut [u8; PASSWORD_LEN],
) -> Result<Credentials, Error> {
    let stamp = DateTime::from_unix(unix_secs)?.hour_stamp();
    // a stamp made from a valid time: no need to parse it back
    write_credentials(
        device_id,
        secret,
        &stamp,
        sign_type,
        client_id,
        username,
        password_out,
    )
}

/// [`credentials`] for an explicit hour stamp `YYYYMMDDHH` (validated).
pub fn credentials_for_hour(
    device_id: &[u8],
    secret: &[u8],
    timestamp: &[u8; HOUR_STAMP_LEN],
    sign_type: SignType,
    client_id: &mut [u8],
    username: &mut [u8],
    password_out: &mut [u8; PASSWORD_LEN],
) -> Result<Credentials, Error> {
    validate::device_id(device_id).map_err(Error::DeviceId)?;
    crate::time::parse_hour_stamp(timestamp)?;
    write_credentials(
        device_id,
        secret,
        timestamp,
        sign_type,
        client_id,
        username,
        password_out,
    )
}

/// [`credentials`] without the Username (it is the device id itself):
/// ClientId and Password only; returns the ClientId's length. A caller
/// that already has the device id skips copying it (the C ABI).
pub fn client_id_and_password(
    device_id: &[u8],
    secret: &[u8],
    unix_secs: i64,
    sign_type: SignType,
    client_id: &mut [u8],
    password_out: &mut [u8; PASSWORD_LEN],
) -> Result<usize, Error> {
    let stamp = DateTime::from_unix(unix_secs)?.hour_stamp();
    write_client_id_and_password(
        device_id,
        secret,
        &stamp,
        sign_type,
        client_id,
        password_out,
    )
}

/// ClientId and Password for a valid hour stamp: the ClientId's length.
fn write_client_id_and_password(
    device_id: &[u8],
    secret: &[u8],
    timestamp: &[u8; HOUR_STAMP_LEN],
    sign_type: SignType,
    client_id: &mut [u8],
    password_out: &mut [u8; PASSWORD_LEN],
) -> Result<usize, Error> {
    let id = validate::device_id(device_id).map_err(Error::DeviceId)?;
    let client_id_len = concat(
        client_id,
        &[id, b"_0_", &[sign_type.digit()], b"_", timestamp],
    )?;
    password_for(sign_type, timestamp, secret, password_out);
    Ok(client_id_len)
}

/// [`credentials_for_hour`] once the hour stamp is known to be valid.
fn write_credentials(
    device_id: &[u8],
    secret: &[u8],
    timestamp: &[u8; HOUR_STAMP_LEN],
    sign_type: SignType,
    client_id: &mut [u8],
    username: &mut [u8],
    password_out: &mut [u8; PASSWORD_LEN],
) -> Result<Credentials, Error> {
    let client_id_len = write_client_id_and_password(
        device_id,
        secret,
        timestamp,
        sign_type,
        client_id,
        password_out,
    )?;
    // the device id, validated above
    let username_len = concat(username, &[device_id])?;
    Ok(Credentials {
        client_id_len,
        username_len,
        timestamp: *timestamp,
    })
}

/// Password = lowercase hex of HMAC-SHA256(key = `timestamp`, message =
/// `secret`): sign types 0 and 1.
pub fn password(timestamp: &[u8; HOUR_STAMP_LEN], secret: &[u8], out: &mut [u8; PASSWORD_LEN]) {
    let digest = crate::sha256::hmac_sha256(timestamp, secret);
    hex_lower(&digest, out);
}

/// The password for `sign_type`: HMAC-SHA256 for 0 and 1, HMAC-SM3 for 2
/// (both digests are 32 bytes, so the password is 64 hex digits either way).
pub fn password_for(
    sign_type: SignType,
    timestamp: &[u8; HOUR_STAMP_LEN],
    secret: &[u8],
    out: &mut [u8; PASSWORD_LEN],
) {
    let algorithm = match sign_type {
        SignType::HmacSm3 => Algorithm::Sm3,
        SignType::NoTimestampCheck | SignType::TimestampCheck => Algorithm::Sha256,
    };
    hex_lower(&crate::hash::hmac(algorithm, timestamp, secret), out);
}

/// Whether `candidate` is the HMAC-SHA256 password for (`timestamp`,
/// `secret`), compared in constant time over the 64 bytes (only the length
/// is not hidden).
pub fn verify_password(timestamp: &[u8; HOUR_STAMP_LEN], secret: &[u8], candidate: &[u8]) -> bool {
    verify_password_for(SignType::TimestampCheck, timestamp, secret, candidate)
}

/// [`verify_password`] with the HMAC of `sign_type`.
pub fn verify_password_for(
    sign_type: SignType,
    timestamp: &[u8; HOUR_STAMP_LEN],
    secret: &[u8],
    candidate: &[u8],
) -> bool {
    let mut expected = [0u8; PASSWORD_LEN];
    password_for(sign_type, timestamp, secret, &mut expected);
    if candidate.len() != PASSWORD_LEN {
        return false;
    }
    let diff = expected
        .iter()
        .zip(candidate)
        .fold(0u8, |acc, (a, b)| acc | (a ^ b));
    // Keep the optimiser from turning the fold into an early exit.
    core::hint::black_box(diff) == 0
}

pub(crate) fn hex_lower(bytes: &[u8], out: &mut [u8; PASSWORD_LEN]) {
    let digit = |nibble: u8| {
        if nibble < 10 {
            b'0'.wrapping_add(nibble)
        } else {
            b'a'.wrapping_add(nibble.wrapping_sub(10))
        }
    };
    for (pair, b) in out.as_chunks_mut::<2>().0.iter_mut().zip(bytes) {
        *pair = [digit(b >> 4), digit(b & 0x0f)];
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // Computed with CPython:
    // hmac.new(b"2018072417", b"secret123", hashlib.sha256).hexdigest()
    const PW_2018072417_SECRET123: &[u8; 64] =
        b"d176a0593be4ec4b0b6ee7059aa0f475b2c5feb75cb4829199c33fa014de277c";

    #[test]
    fn full_credentials() {
        let mut cid = [0u8; 64];
        let mut user = [0u8; 64];
        let mut pw = [0u8; 64];
        // 2018-07-24T17:56:20Z
        let c = credentials(
            b"dev_1",
            b"secret123",
            1_532_454_980,
            SignType::NoTimestampCheck,
            &mut cid,
            &mut user,
            &mut pw,
        )
        .unwrap();
        assert_eq!(&cid[..c.client_id_len], b"dev_1_0_0_2018072417");
        assert_eq!(&user[..c.username_len], b"dev_1");
        assert_eq!(&c.timestamp, b"2018072417");
        let mut direct = [0u8; 64];
        password(b"2018072417", b"secret123", &mut direct);
        assert_eq!(pw, direct);
        assert!(pw
            .iter()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c)));
    }

    #[test]
    fn known_password() {
        let mut pw = [0u8; 64];
        password(b"2018072417", b"secret123", &mut pw);
        assert_eq!(&pw, PW_2018072417_SECRET123);
    }

    #[test]
    fn sign_type_digit_and_errors() {
        let mut cid = [0u8; 20];
        let mut user = [0u8; 5];
        let mut pw = [0u8; 64];
        let c = credentials_for_hour(
            b"dev_1",
            b"",
            b"2021011909",
            SignType::TimestampCheck,
            &mut cid,
            &mut user,
            &mut pw,
        )
        .unwrap();
        assert_eq!(&cid[..c.client_id_len], b"dev_1_0_1_2021011909");
        assert_eq!(
            credentials_for_hour(
                b"dev_12",
                b"",
                b"2021011909",
                SignType::TimestampCheck,
                &mut cid,
                &mut user,
                &mut pw
            ),
            Err(Error::BufferTooSmall { needed: 21 })
        );
        assert_eq!(
            credentials(
                b"a/b",
                b"",
                0,
                SignType::TimestampCheck,
                &mut cid,
                &mut user,
                &mut pw
            ),
            Err(Error::DeviceId(crate::IdError::Forbidden {
                byte: b'/',
                at: 1
            }))
        );
        assert_eq!(
            credentials(
                b"a",
                b"",
                -1,
                SignType::TimestampCheck,
                &mut cid,
                &mut user,
                &mut pw
            ),
            Err(Error::Time(crate::TimeError::OutOfRange))
        );
        assert_eq!(
            credentials_for_hour(
                b"a",
                b"",
                b"2021011924",
                SignType::TimestampCheck,
                &mut cid,
                &mut user,
                &mut pw
            ),
            Err(Error::Time(crate::TimeError::Malformed))
        );
        assert_eq!(SignType::try_from(1), Ok(SignType::TimestampCheck));
        assert_eq!(SignType::try_from(2), Ok(SignType::HmacSm3));
        assert_eq!(SignType::try_from(3), Err(3));
    }

    #[test]
    fn verify() {
        assert!(verify_password(
            b"2018072417",
            b"secret123",
            PW_2018072417_SECRET123
        ));
        let mut wrong = *PW_2018072417_SECRET123;
        wrong[63] = b'0';
        assert!(!verify_password(b"2018072417", b"secret123", &wrong));
        assert!(!verify_password(
            b"2018072418",
            b"secret123",
            PW_2018072417_SECRET123
        ));
        assert!(!verify_password(
            b"2018072417",
            b"secret123",
            &PW_2018072417_SECRET123[..63]
        ));
        let upper = PW_2018072417_SECRET123.to_ascii_uppercase();
        assert!(!verify_password(b"2018072417", b"secret123", &upper));
    }

    #[test]
    fn long_secret_is_hashed_not_truncated() {
        let mut a = [0u8; 64];
        let mut b = [0u8; 64];
        let long = [b'x'; 1000];
        password(b"2018072417", &long, &mut a);
        password(b"2018072417", &long[..999], &mut b);
        assert_ne!(a, b);
    }

    use crate::sm3::sm3;

    fn hex(b: &[u8]) -> std::string::String {
        b.iter().map(|x| std::format!("{x:02x}")).collect()
    }

    #[test]
    fn sm3_standard_vectors() {
        // GB/T 32905-2016, appendix A: examples 1 ("abc") and 2 (64 bytes).
        assert_eq!(
            hex(&sm3(b"abc")),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        );
        assert_eq!(
            hex(&sm3(&b"abcd".repeat(16))),
            "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
        );
        // Empty message, as OpenSSL's `openssl dgst -sm3` and CPython's
        // hashlib.new("sm3") give it.
        assert_eq!(
            hex(&sm3(b"")),
            "1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b"
        );
    }

    #[test]
    fn hmac_sm3_vectors() {
        // Independent: CPython over OpenSSL,
        //   hmac.new(b"2018072417", b"secret123", "sm3").hexdigest()
        let cases: [(&[u8; 10], &[u8], &str); 3] = [
            (
                b"2018072417",
                b"secret123",
                "4709b9d490c792f0d53199c71c5b59314f9a84953b617a839aaf38c3f8f3f7cc",
            ),
            (
                b"2021011909",
                b"",
                "e7f776a2fcdd287f97f73d89685f2e11028a2fdbbc04e7dfa9feabf2ea81d651",
            ),
            // a secret longer than the block is hashed, not truncated
            (
                b"2018072417",
                &[b'x'; 1000],
                "078af1f3bc4f9979ad28c6aaaceb74bd79f3134ddb123c38535043f1f2873241",
            ),
        ];
        for (stamp, secret, want) in cases {
            let mut pw = [0u8; 64];
            password_for(SignType::HmacSm3, stamp, secret, &mut pw);
            assert_eq!(&pw[..], want.as_bytes());
            assert!(verify_password_for(SignType::HmacSm3, stamp, secret, &pw));
            // the SHA-256 check refuses an SM3 password and vice versa
            assert!(!verify_password(stamp, secret, &pw));
        }
        assert!(!verify_password_for(
            SignType::HmacSm3,
            b"2018072417",
            b"secret123",
            PW_2018072417_SECRET123
        ));
    }

    #[test]
    fn sm3_credentials() {
        let mut cid = [0u8; 64];
        let mut user = [0u8; 64];
        let mut pw = [0u8; 64];
        let c = credentials(
            b"dev_1",
            b"secret123",
            1_532_454_980,
            SignType::HmacSm3,
            &mut cid,
            &mut user,
            &mut pw,
        )
        .unwrap();
        assert_eq!(&cid[..c.client_id_len], b"dev_1_0_2_2018072417");
        assert_eq!(
            &pw,
            b"4709b9d490c792f0d53199c71c5b59314f9a84953b617a839aaf38c3f8f3f7cc"
        );
        assert!(SignType::HmacSm3.checks_timestamp());
        assert!(SignType::TimestampCheck.checks_timestamp());
        assert!(!SignType::NoTimestampCheck.checks_timestamp());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        #[test]
        fn never_panics(id in proptest::collection::vec(any::<u8>(), 0..150),
                        secret in proptest::collection::vec(any::<u8>(), 0..100),
                        t in any::<i64>(), cap in 0usize..160) {
            let mut cid = [0u8; 160];
            let mut user = [0u8; 160];
            let mut pw = [0u8; 64];
            let r = credentials(&id, &secret, t, SignType::TimestampCheck,
                                &mut cid[..cap], &mut user[..cap], &mut pw);
            if let Ok(c) = r {
                prop_assert_eq!(c.client_id_len, id.len() + CLIENT_ID_OVERHEAD);
                prop_assert!(verify_password(&c.timestamp, &secret, &pw));
            }
        }

        // `credentials` skips parsing its own hour stamp back: it must still
        // agree with `credentials_for_hour` on every outcome.
        #[test]
        fn credentials_agree_with_credentials_for_hour(
            id in proptest::collection::vec(any::<u8>(), 0..150),
            secret in proptest::collection::vec(any::<u8>(), 0..100),
            t in -1i64..=crate::time::MAX_UNIX + 1, sign in 0u8..3, cap in 0usize..160) {
            let sign = SignType::try_from(sign).unwrap();
            let (mut cid, mut user, mut pw) = ([0u8; 160], [0u8; 160], [0u8; 64]);
            let r = credentials(&id, &secret, t, sign, &mut cid[..cap], &mut user[..cap], &mut pw);
            // the ClientId and Password alone (the C ABI's call): the same outcome
            let (mut cid3, mut pw3) = ([0u8; 160], [0u8; 64]);
            let r3 = client_id_and_password(&id, &secret, t, sign, &mut cid3[..cap], &mut pw3);
            prop_assert_eq!(r3, r.map(|c| c.client_id_len));
            if r.is_ok() {
                prop_assert_eq!((cid3, pw3), (cid, pw));
            }
            match crate::time::DateTime::from_unix(t) {
                Err(e) => prop_assert_eq!(r, Err(e.into())),
                Ok(time) => {
                    let stamp = time.hour_stamp();
                    let (mut cid2, mut user2, mut pw2) = ([0u8; 160], [0u8; 160], [0u8; 64]);
                    let r2 = credentials_for_hour(&id, &secret, &stamp, sign,
                                                  &mut cid2[..cap], &mut user2[..cap], &mut pw2);
                    prop_assert_eq!(r, r2);
                    if r.is_ok() {
                        prop_assert_eq!((cid, user, pw), (cid2, user2, pw2));
                    }
                }
            }
        }
    }
}
