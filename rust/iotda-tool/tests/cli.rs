//! Run the `iotda-conninfo` binary; expected values were computed with
//! CPython: `hmac.new(ts.encode(), secret, hashlib.sha256).hexdigest()`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_iotda-conninfo");
const DEV: &str = "5fbbb784b4ec2202e982e643_868540050954037";

fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

#[test]
fn python_format_fixed_hour() {
    let o = run(&[
        "--device-id",
        DEV,
        "--secret",
        "secret123",
        "--hour",
        "2021011909",
    ]);
    assert!(o.status.success(), "{o:?}");
    assert_eq!(
        stdout(&o),
        "# IoTDA secret auth, UTC hour 2021011909, sign type 0\n\
         CLIENT_ID = b'5fbbb784b4ec2202e982e643_868540050954037_0_0_2021011909'\n\
         USER = b'5fbbb784b4ec2202e982e643_868540050954037'\n\
         PASSWORD = b'd6096240b2addfefe9334bb30947915e21eb8a3f95fbe6439361b95f063fe306'\n"
    );
    assert!(o.stderr.is_empty());
}

#[test]
fn json_format_unix_time_sign_1() {
    // 2018-07-24T17:56:20Z -> 2018072417
    let o = run(&[
        "--device-id=dev_1",
        "--secret=secret123",
        "--time=1532454980",
        "--sign-type",
        "1",
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{o:?}");
    assert_eq!(
        stdout(&o),
        "{\"client_id\":\"dev_1_0_1_2018072417\",\"username\":\"dev_1\",\
         \"password\":\"d176a0593be4ec4b0b6ee7059aa0f475b2c5feb75cb4829199c33fa014de277c\",\
         \"timestamp\":\"2018072417\",\"sign_type\":1}\n"
    );
}

#[test]
fn sign_type_2_hmac_sm3() {
    // CPython: hmac.new(b"2018072417", b"secret123", "sm3").hexdigest()
    let o = run(&[
        "--device-id=dev_1",
        "--secret=secret123",
        "--hour=2018072417",
        "--sign-type=2",
        "--format=json",
    ]);
    assert!(o.status.success(), "{o:?}");
    assert_eq!(
        stdout(&o),
        "{\"client_id\":\"dev_1_0_2_2018072417\",\"username\":\"dev_1\",\
         \"password\":\"4709b9d490c792f0d53199c71c5b59314f9a84953b617a839aaf38c3f8f3f7cc\",\
         \"timestamp\":\"2018072417\",\"sign_type\":2}\n"
    );
}

#[test]
fn secret_from_stdin_utf8_and_escaping() {
    let mut child = Command::new(BIN)
        .args([
            "--device-id",
            "d'é",
            "--secret-stdin",
            "--hour",
            "2018072417",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all("密钥\n".as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success());
    let s = stdout(&o);
    assert!(
        s.contains("CLIENT_ID = b'd\\x27\\xc3\\xa9_0_0_2018072417'\n"),
        "{s}"
    );
    assert!(s.contains("USER = b'd\\x27\\xc3\\xa9'\n"), "{s}");
    assert!(
        s.contains(
            "PASSWORD = b'bd7425b59459bdafd055bbdc9c82415f87ecfc2422b1e8b212c543e375c99ac6'"
        ),
        "{s}"
    );
}

#[test]
fn default_time_is_now_and_secret_never_printed() {
    let o = run(&[
        "--device-id",
        "d",
        "--secret",
        "TOPSECRET",
        "--format",
        "json",
    ]);
    assert!(o.status.success());
    let s = stdout(&o);
    assert!(!s.contains("TOPSECRET"));
    assert!(s.starts_with("{\"client_id\":\"d_0_0_"), "{s}");
}

#[test]
fn errors_exit_2() {
    let bad: &[&[&str]] = &[
        &[],
        &["--secret", "s"],
        &["--device-id", "d"],
        &["--device-id", "d", "--secret", "s", "--secret-stdin"],
        &["--device-id", "a/b", "--secret", "s"],
        &["--device-id", "a+", "--secret", "s"],
        &["--device-id", "", "--secret", "s"],
        &["--device-id", "d", "--secret", "s", "--hour", "2021011924"],
        &["--device-id", "d", "--secret", "s", "--hour", "202101190"],
        &["--device-id", "d", "--secret", "s", "--time", "-1"],
        &["--device-id", "d", "--secret", "s", "--time", "x"],
        &[
            "--device-id",
            "d",
            "--secret",
            "s",
            "--time",
            "1",
            "--hour",
            "2021011909",
        ],
        &["--device-id", "d", "--secret", "s", "--sign-type", "3"],
        &["--device-id", "d", "--secret", "s", "--format", "yaml"],
        &["--device-id", "d", "--secret", "s", "--bogus"],
        &["--device-id"],
    ];
    for args in bad {
        let o = run(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(o.stdout.is_empty(), "{args:?}");
        let e = String::from_utf8(o.stderr).unwrap();
        assert!(e.starts_with("iotda-conninfo: error: "), "{args:?}: {e}");
        assert!(!e.contains("TOPSECRET"));
    }
    let long = "x".repeat(129);
    let o = run(&["--device-id", &long, "--secret", "s"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn help() {
    let o = run(&["--help"]);
    assert!(o.status.success());
    assert!(stdout(&o).contains("usage: iotda-conninfo"));
}
