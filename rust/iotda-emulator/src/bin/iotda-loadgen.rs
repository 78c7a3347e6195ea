//! `iotda-loadgen`: load test for the emulator. Starts `iotda-emulator` as a
//! child process with N registered devices, logs them all in (sign type 1),
//! has each report properties (QoS 1) at R messages/s for S seconds, then
//! checks every message was recorded by the platform and reports the
//! emulator's peak memory (VmHWM) and CPU time.
//!
//! usage: iotda-loadgen [--devices 1000] [--seconds 60] [--rate 1] [--tls]
//!                      [--emulator PATH] [--connect-concurrency 100]
//! `--tls`: every device connects to the emulator's TLS listener (a test CA
//! generated with `--tls-generate`), verifying its certificate.
//! Exit status 0 only if every device logged in and lost = 0.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use iotda_emulator::client::{http, Client, ConnectOpts, In};
use serde_json::Value;

/// Load test for iotda-emulator: N devices log in and report properties.
#[derive(Debug, Parser)]
#[command(name = "iotda-loadgen", version, about)]
struct Args {
    /// Devices logged in at once
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    devices: u64,
    /// Seconds of property reports
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    /// Reports per second and device (QoS 1)
    #[arg(long, default_value_t = 1.0, value_parser = positive)]
    rate: f64,
    /// The emulator binary [default: iotda-emulator next to this one]
    #[arg(long, value_name = "PATH")]
    emulator: Option<String>,
    /// Logins in flight at once
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..))]
    connect_concurrency: u64,
    /// Connect over TLS (the emulator generates a test CA; certificates verified)
    #[arg(long)]
    tls: bool,
}

fn positive(v: &str) -> Result<f64, String> {
    match v.parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 => Ok(x),
        _ => Err(format!("{v:?} is not a positive number")),
    }
}

fn default_emulator() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.join("iotda-emulator")))
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|| "iotda-emulator".into())
}

fn proc_field(pid: u32, key: &str) -> Option<String> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find(|l| l.starts_with(key))
        .map(|l| l[key.len()..].trim().to_string())
}

/// (user, system) CPU seconds of `pid`.
fn cpu_secs(pid: u32) -> Option<(f64, f64)> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = s.rsplit_once(')')?.1;
    let f: Vec<&str> = after.split_whitespace().collect();
    // After ")": state is field 3 of the full line, utime 14, stime 15.
    let ut: f64 = f.get(11)?.parse().ok()?;
    let st: f64 = f.get(12)?.parse().ok()?;
    let tck: f64 = Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0);
    Some((ut / tck, st / tck))
}

fn max_open_files() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/limits").ok()?;
    let l = s.lines().find(|l| l.starts_with("Max open files"))?;
    l.split_whitespace().nth(3)?.parse().ok()
}

async fn get_json(addr: SocketAddr, path: &str) -> Option<Value> {
    let (s, body) = http(addr, "GET", path, None).await.ok()?;
    (s == 200).then(|| serde_json::from_str(&body).ok())?
}

#[derive(Default)]
struct Counters {
    connected: AtomicU64,
    refused: AtomicU64,
    sent: AtomicU64,
    acked: AtomicU64,
    dropped_conns: AtomicU64,
    lat_us: std::sync::Mutex<Vec<u32>>,
}

fn main() {
    let args = Args::parse();
    let n = args.devices as usize;
    if let Some(n) = max_open_files() {
        if n < args.devices + 200 {
            eprintln!(
                "iotda-loadgen: open-file limit {n} is too low for {} devices (raise `ulimit -n`)",
                args.devices
            );
            std::process::exit(2);
        }
    }
    let dir = std::env::temp_dir().join(format!("iotda-loadgen-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let cfg_path = dir.join("devices.toml");
    let mut toml = String::from("mqtt = \"127.0.0.1:0\"\nhttp = \"127.0.0.1:0\"\n");
    for i in 0..n {
        toml.push_str(&format!(
            "[[device]]\ndevice_id = \"load_{i:05}\"\nsecret = \"secret-{i}\"\n"
        ));
    }
    if let Err(e) = std::fs::write(&cfg_path, toml) {
        eprintln!("iotda-loadgen: {}: {e}", cfg_path.display());
        std::process::exit(1);
    }
    let emulator = args.emulator.clone().unwrap_or_else(default_emulator);
    let mut cmd = Command::new(&emulator);
    cmd.arg("--config").arg(&cfg_path).stdout(Stdio::piped());
    let tls_dir = dir.join("tls");
    if args.tls {
        cmd.args(["--mqtts", "127.0.0.1:0", "--tls-generate"])
            .arg(&tls_dir);
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("iotda-loadgen: cannot start {emulator}: {e}");
            std::process::exit(1);
        }
    };
    let pid = child.id();
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    let log_lines = Arc::new(AtomicU64::new(0));
    let ll = log_lines.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            ll.fetch_add(1, Ordering::Relaxed);
            for (key, tag) in [
                ("mqtt listening on ", 'm'),
                ("mqtts listening on ", 's'),
                ("http listening on ", 'h'),
            ] {
                if let Some(a) = line.split(key).nth(1) {
                    let _ = tx.send((tag, a.trim().to_string()));
                }
            }
        }
    });
    let (mut mqtt, mut mqtts, mut web) = (None, None, None);
    while mqtt.is_none() || web.is_none() || (args.tls && mqtts.is_none()) {
        match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(('m', a)) => mqtt = a.parse::<SocketAddr>().ok(),
            Ok(('s', a)) => mqtts = a.parse::<SocketAddr>().ok(),
            Ok((_, a)) => web = a.parse::<SocketAddr>().ok(),
            Err(_) => {
                eprintln!("iotda-loadgen: the emulator did not print its addresses");
                let _ = child.kill();
                std::process::exit(1);
            }
        }
    }
    let (Some(mqtt), Some(web)) = (mqtt, web) else {
        eprintln!("iotda-loadgen: bad addresses from the emulator");
        let _ = child.kill();
        std::process::exit(1);
    };
    let target = match (args.tls, mqtts) {
        (true, Some(a)) => match iotda_emulator::tls::client_config(&tls_dir.join("ca.pem")) {
            Ok(cfg) => Target::Tls(a, cfg),
            Err(e) => {
                eprintln!("iotda-loadgen: {e}");
                let _ = child.kill();
                std::process::exit(1);
            }
        },
        _ => Target::Plain(mqtt),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let ok = rt.block_on(run(&args, target, web, pid));
    let hwm = proc_field(pid, "VmHWM:").unwrap_or_default();
    let rss = proc_field(pid, "VmRSS:").unwrap_or_default();
    let cpu = cpu_secs(pid);
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let status = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    println!("emulator peak memory (VmHWM): {hwm}, at end (VmRSS): {rss}");
    if let Some((u, s)) = cpu {
        println!(
            "emulator CPU time: {u:.2} s user + {s:.2} s system = {:.2} s",
            u + s
        );
    }
    println!(
        "emulator log lines: {}, exit after SIGTERM: {:?}",
        log_lines.load(Ordering::Relaxed),
        status.map(|s| s.code())
    );
    std::process::exit(if ok { 0 } else { 1 });
}

/// Where devices connect.
#[derive(Clone)]
enum Target {
    Plain(SocketAddr),
    /// TLS listener, certificates verified against the generated CA.
    Tls(SocketAddr, Arc<rustls::ClientConfig>),
}

impl Target {
    async fn connect(&self, o: &ConnectOpts) -> std::io::Result<(Client, Option<u8>)> {
        match self {
            Target::Plain(a) => Client::connect(*a, o).await,
            Target::Tls(a, cfg) => Client::connect_tls(*a, cfg.clone(), "localhost", o).await,
        }
    }

    fn describe(&self) -> String {
        match self {
            Target::Plain(a) => format!("mqtt {a}"),
            Target::Tls(a, _) => format!("mqtts {a}, TLS verified against the test CA"),
        }
    }
}

async fn run(args: &Args, target: Target, web: SocketAddr, pid: u32) -> bool {
    let c = Arc::new(Counters::default());
    let n = args.devices as usize;
    println!(
        "iotda-loadgen: {n} devices, {} msg/s each, {} s, emulator pid {pid} ({}, http {web})",
        args.rate,
        args.seconds,
        target.describe()
    );
    // 1. Log everyone in.
    let t0 = Instant::now();
    let sem = Arc::new(tokio::sync::Semaphore::new(
        args.connect_concurrency as usize,
    ));
    let mut logins = Vec::with_capacity(n);
    for i in 0..n {
        let sem = sem.clone();
        let c = c.clone();
        let target = target.clone();
        logins.push(tokio::spawn(async move {
            let _permit = sem.acquire().await.ok()?;
            let id = format!("load_{i:05}");
            let mut o = ConnectOpts::for_device(
                &id,
                &format!("secret-{i}"),
                1,
                iotda_emulator::state::now_secs(),
            );
            o.keepalive = 120;
            match target.connect(&o).await {
                Ok((client, Some(0))) => {
                    c.connected.fetch_add(1, Ordering::Relaxed);
                    Some((id, client))
                }
                _ => {
                    c.refused.fetch_add(1, Ordering::Relaxed);
                    None
                }
            }
        }));
    }
    let mut clients = Vec::with_capacity(n);
    for l in logins {
        if let Ok(Some(x)) = l.await {
            clients.push(x);
        }
    }
    let login_time = t0.elapsed();
    let online = get_json(web, "/emulator/stats")
        .await
        .map(|v| v["online"].clone())
        .unwrap_or(Value::Null);
    println!(
        "logged in: {} of {n} in {:.2} s (refused/failed {}); platform says online = {online}",
        clients.len(),
        login_time.as_secs_f64(),
        c.refused.load(Ordering::Relaxed)
    );
    if clients.len() != n {
        return false;
    }
    // 2. Report properties.
    let per_device = (args.seconds as f64 * args.rate).round() as u64;
    let period = Duration::from_secs_f64(1.0 / args.rate);
    let start = tokio::time::Instant::now() + Duration::from_millis(200);
    let t_run = Instant::now();
    let mut tasks = Vec::with_capacity(n);
    for (i, (id, mut client)) in clients.into_iter().enumerate() {
        let c = c.clone();
        let phase = period.mul_f64(i as f64 / n as f64);
        tasks.push(tokio::spawn(async move {
            let topic = format!("$oc/devices/{id}/sys/properties/report");
            let mut sent_at = std::collections::HashMap::new();
            let mut acked = 0u64;
            for k in 0..per_device {
                let due = start + phase + period.mul_f64(k as f64);
                // Read PUBACKs until it is time to send.
                loop {
                    let left = due.saturating_duration_since(tokio::time::Instant::now());
                    if left.is_zero() {
                        break;
                    }
                    match client.recv(left).await {
                        None => break,
                        Some(In::PubAck(p)) => {
                            if let Some(t) = sent_at.remove(&p) {
                                acked += 1;
                                record_latency(&c, t);
                            }
                        }
                        Some(In::Closed) => {
                            c.dropped_conns.fetch_add(1, Ordering::Relaxed);
                            return (id, k, acked);
                        }
                        Some(_) => {}
                    }
                }
                let pid = (k % 65_535) as u16 + 1;
                let payload = format!(
                    "{{\"services\":[{{\"service_id\":\"Meter\",\"properties\":{{\"seq\":{k},\"level\":{}}},\"event_time\":\"{}\"}}]}}",
                    k % 100,
                    iotda_emulator::state::event_time_now()
                );
                if client.publish(&topic, payload.as_bytes(), 1, pid).await.is_err() {
                    c.dropped_conns.fetch_add(1, Ordering::Relaxed);
                    return (id, k, acked);
                }
                sent_at.insert(pid, Instant::now());
                c.sent.fetch_add(1, Ordering::Relaxed);
            }
            // Remaining PUBACKs.
            let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
            while !sent_at.is_empty() {
                let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                match client.recv(left).await {
                    Some(In::PubAck(p)) => {
                        if let Some(t) = sent_at.remove(&p) {
                            acked += 1;
                            record_latency(&c, t);
                        }
                    }
                    None | Some(In::Closed) => break,
                    Some(_) => {}
                }
            }
            c.acked.fetch_add(acked, Ordering::Relaxed);
            let _ = client
                .send(&mqtt_core::codec::Packet::Disconnect)
                .await;
            (id, per_device, acked)
        }));
    }
    let mut sent_by_device = std::collections::HashMap::new();
    for t in tasks {
        if let Ok((id, sent, _)) = t.await {
            sent_by_device.insert(id, sent);
        }
    }
    let run_time = t_run.elapsed();
    // 3. Account for every message at the platform.
    let stats = get_json(web, "/emulator/stats")
        .await
        .unwrap_or(Value::Null);
    let devs = get_json(web, "/emulator/devices")
        .await
        .unwrap_or(Value::Null);
    let mut mismatched = 0;
    for d in devs["devices"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
        let id = d["device_id"].as_str().unwrap_or("");
        let got = d["uplinks"].as_u64().unwrap_or(0);
        if sent_by_device.get(id).copied() != Some(got) {
            mismatched += 1;
        }
    }
    let sent = c.sent.load(Ordering::Relaxed);
    let acked = c.acked.load(Ordering::Relaxed);
    let received = stats["uplinks_total"].as_u64().unwrap_or(0);
    let lost = sent.saturating_sub(received);
    let mut lat = c.lat_us.lock().map(|l| l.clone()).unwrap_or_default();
    lat.sort_unstable();
    let q = |p: f64| {
        lat.get(((lat.len() as f64 - 1.0) * p).round() as usize)
            .map(|v| *v as f64 / 1000.0)
            .unwrap_or(f64::NAN)
    };
    println!(
        "run: {:.1} s; sent {sent}, PUBACKed {acked}, recorded by the platform {received}, lost {lost}; devices whose count differs: {mismatched}; dropped connections: {}",
        run_time.as_secs_f64(),
        c.dropped_conns.load(Ordering::Relaxed)
    );
    println!(
        "throughput: {:.0} msg/s; PUBACK latency ms: p50 {:.2}, p99 {:.2}, max {:.2}",
        sent as f64 / run_time.as_secs_f64(),
        q(0.5),
        q(0.99),
        q(1.0)
    );
    let expected = per_device * n as u64;
    sent == expected
        && acked == sent
        && received == sent
        && mismatched == 0
        && c.dropped_conns.load(Ordering::Relaxed) == 0
}

fn record_latency(c: &Counters, t: Instant) {
    let us = t.elapsed().as_micros().min(u32::MAX as u128) as u32;
    if let Ok(mut l) = c.lat_us.lock() {
        l.push(us);
    }
}
