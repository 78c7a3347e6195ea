//! `iotda-conninfo`: print the MQTT ClientId, Username and Password an IoTDA
//! device uses with secret authentication.
//!
//! ```text
//! iotda-conninfo --device-id ID (--secret SECRET | --secret-stdin)
//!                [--time UNIX_SECONDS | --hour YYYYMMDDHH]
//!                [--sign-type 0|1|2] [--format python|json]
//! ```
//! The secret is never printed. Exit status 2 on bad arguments.

use std::io::{BufRead, Write};

use clap::{ArgGroup, Parser, ValueEnum};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use iotda::auth::{HOUR_STAMP_LEN, MAX_CLIENT_ID_LEN};
use iotda::{credentials_for_hour, time, DateTime, SignType, PASSWORD_LEN};

/// Prints the MQTT ClientId, Username and Password for Huawei Cloud IoTDA
/// secret authentication. The time defaults to now; it is always UTC.
#[derive(Debug, Parser)]
#[command(
    name = "iotda-conninfo",
    version,
    help_template = "{about}\n\nusage: {usage}\n\n{all-args}",
    group(ArgGroup::new("secret_source").required(true).args(["secret", "secret_stdin"])),
    group(ArgGroup::new("when").args(["time", "hour"]))
)]
struct Cli {
    /// The device id (as registered on IoTDA)
    #[arg(long, value_name = "ID")]
    device_id: String,
    /// The device secret (prefer --secret-stdin: keeps it out of `ps`)
    #[arg(long, value_name = "SECRET")]
    secret: Option<String>,
    /// Read the secret from the first line of standard input
    #[arg(long)]
    secret_stdin: bool,
    /// UTC time to sign for, in Unix seconds
    #[arg(long, value_name = "UNIX_SECONDS", value_parser = parse_time, allow_hyphen_values = true)]
    time: Option<i64>,
    /// UTC hour to sign for
    #[arg(long, value_name = "YYYYMMDDHH", value_parser = parse_hour)]
    hour: Option<[u8; HOUR_STAMP_LEN]>,
    /// 0: HMAC-SHA256, the platform does not check the time stamp; 1: it
    /// does; 2: HMAC-SM3, checked (Huawei's C SDK)
    #[arg(long, value_name = "0|1|2", default_value = "0", value_parser = parse_sign_type)]
    sign_type: SignType,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Python)]
    format: Format,
}

fn parse_time(v: &str) -> Result<i64, String> {
    let t: i64 = v
        .parse()
        .map_err(|_| format!("not an integer number of seconds: {v:?}"))?;
    DateTime::from_unix(t).map_err(|e| format!("{t}: {e}"))?;
    Ok(t)
}

fn parse_hour(v: &str) -> Result<[u8; HOUR_STAMP_LEN], String> {
    let stamp: [u8; HOUR_STAMP_LEN] = v
        .as_bytes()
        .try_into()
        .map_err(|_| format!("expected YYYYMMDDHH, got {v:?}"))?;
    time::parse_hour_stamp(&stamp).map_err(|e| format!("{v:?}: {e} (expected YYYYMMDDHH, UTC)"))?;
    Ok(stamp)
}

fn parse_sign_type(v: &str) -> Result<SignType, String> {
    match v {
        "0" => Ok(SignType::NoTimestampCheck),
        "1" => Ok(SignType::TimestampCheck),
        "2" => Ok(SignType::HmacSm3),
        _ => Err(format!("expected 0, 1 or 2, got {v:?}")),
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, ValueEnum)]
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
    when: When,
    sign_type: SignType,
    format: Format,
}

impl From<Cli> for Args {
    fn from(c: Cli) -> Args {
        Args {
            device_id: c.device_id,
            secret: c.secret.map(String::into_bytes),
            when: match (c.time, c.hour) {
                (Some(t), _) => When::Unix(t),
                (None, Some(h)) => When::Hour(h),
                (None, None) => When::Now,
            },
            sign_type: c.sign_type,
            format: c.format,
        }
    }
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
    let secret = match args.secret {
        Some(s) => s,
        None => {
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
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) if !e.use_stderr() => {
            // --help, --version
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            let text = e.render().to_string();
            let text = text.strip_prefix("error: ").unwrap_or(&text);
            eprint!("iotda-conninfo: error: {text}");
            return ExitCode::from(2);
        }
    };
    match run(Args::from(cli)) {
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
