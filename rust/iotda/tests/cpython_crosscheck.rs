//! Cross-check ClientId / Username / Password / event_time against CPython
//! (`hmac`, `hashlib`, `datetime`), an implementation that shares no code
//! with this crate.
//!
//! Cases are generated here (fixed boundary times plus a deterministic
//! pseudo-random sweep), sent to one `python3` process as JSON lines on stdin
//! (ids and secrets hex-encoded, so any bytes survive), and the results come
//! back as tab-separated hex lines that are compared byte for byte.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use iotda::{credentials, time, SignType};

const PY: &str = r#"
import sys, json, hmac, hashlib
from datetime import datetime, timezone
for line in sys.stdin:
    c = json.loads(line)
    dev = bytes.fromhex(c["id"]).decode("utf-8")
    secret = bytes.fromhex(c["secret"])
    dt = datetime.fromtimestamp(c["t"], timezone.utc)
    ts = dt.strftime("%Y%m%d%H")
    client_id = "{}_0_{}_{}".format(dev, c["sign"], ts)
    pw = hmac.new(ts.encode("ascii"), secret, hashlib.sha256).hexdigest()
    ev = dt.strftime("%Y%m%dT%H%M%SZ")
    print("\t".join([str(c["n"]), client_id.encode().hex(), dev.encode().hex(), pw, ev]))
"#;

struct Case {
    id: Vec<u8>,
    secret: Vec<u8>,
    t: i64,
    sign: SignType,
}

/// SplitMix64, deterministic so failures reproduce.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn cases() -> Vec<Case> {
    // Times straddling hour, day, year and leap-day boundaries.
    let anchors: &[i64] = &[
        0,
        1,
        3_599,
        3_600,
        1_532_454_980,   // 2018-07-24T17:56:20Z -> 2018072417 (reference)
        1_532_455_199,   // 2018-07-24T17:59:59Z
        1_532_455_200,   // 2018-07-24T18:00:00Z
        946_684_799,     // 1999-12-31T23:59:59Z
        946_684_800,     // 2000-01-01T00:00:00Z
        951_782_399,     // 2000-02-28T23:59:59Z
        951_782_400,     // 2000-02-29T00:00:00Z (400-year leap)
        951_868_800,     // 2000-03-01T00:00:00Z
        1_709_164_800,   // 2024-02-29
        1_709_251_199,   // 2024-02-29T23:59:59Z
        1_611_046_800,   // 2021-01-19T09:00:00Z (demo script hour)
        2_147_483_647,   // 2038-01-19T03:14:07Z
        2_147_483_648,   // 2038-01-19T03:14:08Z
        4_102_444_799,   // 2099-12-31T23:59:59Z
        4_107_542_399,   // 2100-02-28T23:59:59Z (2100 not leap)
        4_107_542_400,   // 2100-03-01T00:00:00Z
        253_402_297_200, // 9999-12-31T23:00:00Z
        253_402_300_799, // 9999-12-31T23:59:59Z (last)
    ];
    let ids: Vec<Vec<u8>> = vec![
        b"5fbbb784b4ec2202e982e643_868540050954037".to_vec(),
        b"d".to_vec(),
        "设备-é_1".as_bytes().to_vec(),
        vec![b'z'; 128],
        b"dev with spaces & 'quotes' \\ \"".to_vec(),
    ];
    let secrets: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"secret123".to_vec(),
        "密钥🔑".as_bytes().to_vec(),
        vec![b'k'; 64], // exactly one SHA-256 block
        vec![b'k'; 65],
        (0..=255u8).cycle().take(1000).collect(), // long, every byte value
    ];
    let mut out = Vec::new();
    for (i, &t) in anchors.iter().enumerate() {
        for (j, id) in ids.iter().enumerate() {
            let secret = secrets[(i + j) % secrets.len()].clone();
            let sign = if (i + j) % 2 == 0 {
                SignType::NoTimestampCheck
            } else {
                SignType::TimestampCheck
            };
            out.push(Case {
                id: id.clone(),
                secret,
                t,
                sign,
            });
        }
    }
    let mut rng = Rng(0x0010_da20_1807_2417);
    // Printable-ish alphabet for random ids, including multi-byte UTF-8.
    let alphabet: Vec<char> = "abcXYZ019_-.=:~ é设🔑".chars().collect();
    for k in 0..3000 {
        let len = 1 + rng.below(40) as usize;
        let mut id = String::new();
        while id.len() < len {
            id.push(alphabet[rng.below(alphabet.len() as u64) as usize]);
        }
        let slen = rng.below(if k % 10 == 0 { 300 } else { 40 }) as usize;
        let secret: Vec<u8> = if k % 3 == 0 {
            (0..slen).map(|_| rng.next() as u8).collect()
        } else {
            (0..slen)
                .map(|_| b"abcdefghijklmnopqrstuvwxyz0123456789"[rng.below(36) as usize])
                .collect()
        };
        let t = match k % 4 {
            // near an hour boundary
            0 => (rng.below(4_102_444_800 / 3600) as i64) * 3600 + rng.below(3) as i64 - 1,
            // anywhere in the supported range
            1 => rng.below(253_402_300_800) as i64,
            // the realistic range
            _ => 1_500_000_000 + rng.below(1_000_000_000) as i64,
        }
        .max(0);
        let sign = if rng.below(2) == 0 {
            SignType::NoTimestampCheck
        } else {
            SignType::TimestampCheck
        };
        out.push(Case {
            id: id.into_bytes(),
            secret,
            t,
            sign,
        });
    }
    out
}

#[test]
fn credentials_match_cpython() {
    let cases = cases();
    let mut child = match Command::new("python3")
        .args(["-I", "-c", PY])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => panic!(
            "the CPython cross-check needs `python3` on PATH (with the standard \
             library's hmac, hashlib, datetime, json), but it could not be started: {e}"
        ),
    };
    let mut stdin = child.stdin.take().unwrap();
    let input: String = cases
        .iter()
        .enumerate()
        .map(|(n, c)| {
            format!(
                "{{\"n\":{n},\"id\":\"{}\",\"secret\":\"{}\",\"t\":{},\"sign\":{}}}\n",
                hex(&c.id),
                hex(&c.secret),
                c.t,
                c.sign as u8
            )
        })
        .collect();
    // Write from a thread so a full stdout pipe cannot deadlock us.
    let writer = std::thread::spawn(move || {
        stdin.write_all(input.as_bytes()).unwrap();
    });
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let lines: Vec<String> = stdout.lines().map(Result::unwrap).collect();
    writer.join().unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "python3 failed: {status}");
    assert_eq!(lines.len(), cases.len(), "python3 answered too few cases");

    let mut checked = 0;
    for (n, (case, line)) in cases.iter().zip(&lines).enumerate() {
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(f.len(), 5, "bad python line {line:?}");
        assert_eq!(f[0], n.to_string());
        let mut cid = [0u8; 200];
        let mut user = [0u8; 200];
        let mut pw = [0u8; 64];
        let c = credentials(
            &case.id,
            &case.secret,
            case.t,
            case.sign,
            &mut cid,
            &mut user,
            &mut pw,
        )
        .unwrap_or_else(|e| panic!("case {n} (t={}): {e}", case.t));
        let ctx = || {
            format!(
                "case {n}: id={:?} secret_hex={} t={} sign={}",
                String::from_utf8_lossy(&case.id),
                hex(&case.secret),
                case.t,
                case.sign as u8
            )
        };
        assert_eq!(hex(&cid[..c.client_id_len]), f[1], "ClientId, {}", ctx());
        assert_eq!(hex(&user[..c.username_len]), f[2], "Username, {}", ctx());
        assert_eq!(
            std::str::from_utf8(&pw).unwrap(),
            f[3],
            "Password, {}",
            ctx()
        );
        let mut ev = [0u8; 16];
        time::write_event_time(case.t, &mut ev).unwrap();
        assert_eq!(
            std::str::from_utf8(&ev).unwrap(),
            f[4],
            "event_time, {}",
            ctx()
        );
        checked += 1;
    }
    assert!(checked > 3000);

    // The reference vector, independently of Python.
    let mut h = [0u8; 10];
    time::write_hour_stamp(1_532_454_980, &mut h).unwrap();
    assert_eq!(&h, b"2018072417");
}
