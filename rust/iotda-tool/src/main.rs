//! `iotda-conninfo`: print the MQTT ClientId, Username and Password an IoTDA
//! device uses with secret authentication.
//!
//! ```text
//! iotda-conninfo --device-id ID (--secret SECRET | --secret-stdin)
//!                [--time UNIX_SECONDS | --hour YYYYMMDDHH]
//!                [--sign-type 0|1] [--format python|json]
//! ```
//! The secret is never printed. Exit status 2 on bad arguments.

use std::io::{BufRead, Write};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use iotda::auth::{HOUR_STAMP_LEN, MAX_CLIENT_ID_LEN};
use iotda::{credentials_for_hour, time, DateTime, SignType, PASSWORD_LEN};

const USAGE: &str = "\
usage: iotda-conninfo --device-id ID (--secret SECRET | --secret-stdin)
                      [--time UNIX_SECONDS | --hour YYYYMMDDHH]
                      [--sign-type 0|1] [--format python|json]

Prints the MQTT ClientId, Username and Password for Huawei Cloud IoTDA secret
authentication. The time defaults to now; it is always UTC. --sign-type
defaults to 0 (timestamp not checked by the platform). --secret-stdin reads
the secret from the first line of standard input (keeps it out of `ps`).";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Python,
    Json,
}

enum When {
    Now,
    Unix(i64),
    Hour([u8; HOUR_STAMP_LEN]),
}

struct Args {
    device_id: String,
    secret: Option<Vec<u8>>,
    secret_stdin: bool,
    when: When,
    sign_type: SignType,
    format: Format,
}

enum Outcome {
    Help,
    Run(Args),
}

fn parse_args(mut it: impl Iterator<Item = String>) -> Result<Outcome, String> {
    let mut device_id = None;
    let mut secret = None;
    let mut secret_stdin = false;
    let mut when = None;
    let mut sign_type = SignType::NoTimestampCheck;
    let mut format = Format::Python;
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(Outcome::Help),
            "--device-id" => device_id = Some(value("--device-id")?),
            "--secret" => secret = Some(value("--secret")?.into_bytes()),
            "--secret-stdin" => secret_stdin = true,
            "--time" => {
                if when.is_some() {
                    return Err("give at most one of --time and --hour".into());
                }
                let v = value("--time")?;
                let t: i64 = v
                    .parse()
                    .map_err(|_| format!("--time: not an integer number of seconds: {v:?}"))?;
                DateTime::from_unix(t).map_err(|e| format!("--time {t}: {e}"))?;
                when = Some(When::Unix(t));
            }
            "--hour" => {
                if when.is_some() {
                    return Err("give at most one of --time and --hour".into());
                }
                let v = value("--hour")?;
                let stamp: [u8; HOUR_STAMP_LEN] = v
                    .as_bytes()
                    .try_into()
                    .map_err(|_| format!("--hour: expected YYYYMMDDHH, got {v:?}"))?;
                time::parse_hour_stamp(&stamp)
                    .map_err(|e| format!("--hour {v:?}: {e} (expected YYYYMMDDHH, UTC)"))?;
                when = Some(When::Hour(stamp));
            }
            "--sign-type" => {
                let v = value("--sign-type")?;
                sign_type = match v.as_str() {
                    "0" => SignType::NoTimestampCheck,
                    "1" => SignType::TimestampCheck,
                    _ => return Err(format!("--sign-type: expected 0 or 1, got {v:?}")),
                };
            }
            "--format" => {
                let v = value("--format")?;
                format = match v.as_str() {
                    "python" => Format::Python,
                    "json" => Format::Json,
                    _ => return Err(format!("--format: expected python or json, got {v:?}")),
                };
            }
            _ => return Err(format!("unknown argument {arg:?}")),
        }
    }
    let device_id = device_id.ok_or("--device-id is required")?;
    if secret.is_some() == secret_stdin {
        return Err("give exactly one of --secret and --secret-stdin".into());
    }
    Ok(Outcome::Run(Args {
        device_id,
        secret,
        secret_stdin,
        when: when.unwrap_or(When::Now),
        sign_type,
        format,
    }))
}

/// A Python bytes literal body: printable ASCII except `'` and `\` as is,
/// everything else as `\xNN`.
fn py_bytes(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len());
    for &c in b {
        if (0x20..0x7f).contains(&c) && c != b'\'' && c != b'\\' {
            s.push(char::from(c));
        } else {
            s.push_str(&format!("\\x{c:02x}"));
        }
    }
    s
}

/// A JSON string body (input is UTF-8: ids are validated as UTF-8).
fn json_str(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            c if u32::from(c) < 0x20 || c == '\u{7f}' => {
                o.push_str(&format!("\\u{:04x}", u32::from(c)))
            }
            c => o.push(c),
        }
    }
    o
}

fn run(args: Args) -> Result<String, String> {
    let secret = match (args.secret, args.secret_stdin) {
        (Some(s), _) => s,
        (None, _) => {
            let mut line = Vec::new();
            std::io::stdin()
                .lock()
                .read_until(b'\n', &mut line)
                .map_err(|e| format!("reading the secret from stdin: {e}"))?;
            if line.last() == Some(&b'\n') {
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
            }
            line
        }
    };
    let stamp = match args.when {
        When::Hour(h) => h,
        When::Unix(t) => DateTime::from_unix(t)
            .map_err(|e| format!("--time {t}: {e}"))?
            .hour_stamp(),
        When::Now => {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_err(|_| "system clock is before 1970".to_owned())?
                .as_secs();
            DateTime::from_unix_u64(now)
                .map_err(|e| format!("system clock: {e}"))?
                .hour_stamp()
        }
    };
    let mut cid = [0u8; MAX_CLIENT_ID_LEN];
    let mut user = [0u8; iotda::validate::MAX_DEVICE_ID_LEN];
    let mut pw = [0u8; PASSWORD_LEN];
    let c = credentials_for_hour(
        args.device_id.as_bytes(),
        &secret,
        &stamp,
        args.sign_type,
        &mut cid,
        &mut user,
        &mut pw,
    )
    .map_err(|e| format!("{e}"))?;
    let to_str = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let client_id = to_str(cid.get(..c.client_id_len).unwrap_or_default());
    let username = to_str(user.get(..c.username_len).unwrap_or_default());
    let password = to_str(&pw);
    let stamp = to_str(&stamp);
    let sign = args.sign_type as u8;
    Ok(match args.format {
        Format::Python => format!(
            "# IoTDA secret auth, UTC hour {stamp}, sign type {sign}\n\
             CLIENT_ID = b'{}'\nUSER = b'{}'\nPASSWORD = b'{}'\n",
            py_bytes(client_id.as_bytes()),
            py_bytes(username.as_bytes()),
            py_bytes(password.as_bytes()),
        ),
        Format::Json => format!(
            "{{\"client_id\":\"{}\",\"username\":\"{}\",\"password\":\"{}\",\
             \"timestamp\":\"{stamp}\",\"sign_type\":{sign}}}\n",
            json_str(&client_id),
            json_str(&username),
            json_str(&password),
        ),
    })
}

fn main() -> ExitCode {
    let outcome = parse_args(std::env::args().skip(1));
    let result = match outcome {
        Ok(Outcome::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Ok(Outcome::Run(args)) => run(args),
        Err(e) => Err(format!("{e}\n\n{USAGE}")),
    };
    match result {
        Ok(out) => {
            let mut stdout = std::io::stdout().lock();
            if stdout
                .write_all(out.as_bytes())
                .and_then(|()| stdout.flush())
                .is_err()
            {
                return ExitCode::from(1);
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("iotda-conninfo: error: {e}");
            ExitCode::from(2)
        }
    }
}
