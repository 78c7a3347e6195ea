//! The `iotda-emulator` binary: config errors exit 2 with a message, a good
//! config serves, SIGTERM stops it cleanly.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_iotda-emulator");

fn tmp(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("iotda-emu-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn run_bad(args: &[&str]) -> String {
    let out = Command::new(BIN).args(args).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{args:?}");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(err.starts_with("iotda-emulator: "), "{err}");
    err
}

#[test]
fn bad_config_exits_2_with_a_message() {
    let cases: &[(&str, &str)] = &[
        ("syntax.toml", "mqtt = \"127.0.0.1:1883\"\n[[device]\n"),
        ("unknown.toml", "mqttt = \"127.0.0.1:1\"\n"),
        ("addr.toml", "mqtt = \"localhost\"\n"),
        ("nosecret.toml", "[[device]]\ndevice_id = \"d1\"\n"),
        ("badid.toml", "[[device]]\ndevice_id = \"a/b\"\nsecret = \"s\"\n"),
        ("dup.toml", "[[device]]\ndevice_id = \"d\"\nsecret = \"s\"\n[[device]]\ndevice_id = \"d\"\nsecret = \"t\"\n"),
        ("halfpair.toml", "[[device]]\ndevice_id = \"d\"\nclient_id = \"d_0_0_2021011909\"\n"),
        ("badcid.toml", "[[device]]\ndevice_id = \"d\"\nclient_id = \"e_0_0_2021011909\"\npassword = \"p\"\n"),
        ("devfield.toml", "[[device]]\ndevice_id = \"d\"\nsecret = \"s\"\ncolour = 1\n"),
    ];
    let mut msgs = Vec::new();
    for (name, text) in cases {
        let p = tmp(name, text);
        let err = run_bad(&["--config", p.to_str().unwrap()]);
        assert!(err.contains(name), "message names the file: {err}");
        msgs.push(err);
    }
    assert!(msgs[1].contains("mqttt"), "{}", msgs[1]);
    assert!(msgs[3].contains("secret"), "{}", msgs[3]);
    assert!(msgs[5].contains("twice"), "{}", msgs[5]);
    let e = run_bad(&["--config", "/nonexistent/iotda.toml"]);
    assert!(e.contains("/nonexistent/iotda.toml"));
    run_bad(&["--bogus"]);
    run_bad(&["--mqtt"]);
    run_bad(&["--device", "no-equals-sign"]);
    run_bad(&["--sync-timeout-secs", "-1"]);
}

#[test]
fn serves_from_config_and_stops_on_sigterm() {
    let cfg = tmp(
        "good.toml",
        "mqtt = \"127.0.0.1:0\"\nhttp = \"127.0.0.1:0\"\nproject_id = \"proj\"\n[[device]]\ndevice_id = \"d1\"\nsecret = \"topsecret\"\n",
    );
    let mut child = Command::new(BIN)
        .args([
            "--config",
            cfg.to_str().unwrap(),
            "--sync-timeout-secs",
            "2",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut http = None;
    for _ in 0..5 {
        let l = lines.next().unwrap().unwrap();
        if let Some(a) = l.split("http listening on ").nth(1) {
            http = Some(a.trim().to_string());
            break;
        }
    }
    let http = http.expect("http address printed");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (s, body) = rt
        .block_on(iotda_emulator::client::http(
            http.parse().unwrap(),
            "GET",
            "/v5/iot/proj/devices/d1",
            None,
        ))
        .unwrap();
    assert_eq!(s, 200, "{body}");
    assert!(body.contains("\"OFFLINE\""));
    assert!(!body.contains("topsecret"));
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let t0 = Instant::now();
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            assert!(st.success(), "exit status {st:?}");
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(5),
            "did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(rest.iter().any(|l| l.contains("SIGTERM")), "{rest:?}");
}

#[test]
fn tls_generate_flag_serves_mqtts() {
    run_bad(&["--mqtts", "127.0.0.1:0"]);
    run_bad(&["--tls-cert", "/x.pem"]);
    let dir = std::env::temp_dir().join(format!("iotda-emu-tlsgen-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut child = Command::new(BIN)
        .args(["--mqtt", "127.0.0.1:0", "--http", "127.0.0.1:0"])
        .args(["--mqtts", "127.0.0.1:0", "--tls-generate"])
        .arg(&dir)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    for _ in 0..6 {
        seen.push(lines.next().unwrap().unwrap());
    }
    let _ = child.kill();
    let _ = child.wait();
    let all = seen.join("\n");
    assert!(all.contains("mqtts listening on 127.0.0.1:"), "{all}");
    assert!(
        all.contains(&format!(
            "test CA certificate {}",
            dir.join("ca.pem").display()
        )),
        "{all}"
    );
    assert!(all.contains("console http://127.0.0.1:"), "{all}");
    for f in ["ca.pem", "ca.der", "ca.key", "server.pem", "server.key"] {
        assert!(dir.join(f).is_file(), "{f}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
