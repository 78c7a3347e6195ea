//! The web console: its page and assets are served from the binary, and
//! `/emulator/events` streams the trace (kept events first, then live).

mod common;

use std::time::Duration;

use common::*;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// Reads `data:` lines of the event stream until `want` matches or timeout.
async fn wait_event(
    lines: &mut tokio::io::Lines<BufReader<TcpStream>>,
    want: impl Fn(&Value) -> bool,
) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let line = tokio::time::timeout_at(deadline, lines.next_line())
            .await
            .ok()?
            .ok()??;
        if let Some(data) = line.strip_prefix("data: ") {
            let v: Value = serde_json::from_str(data).ok()?;
            if want(&v) {
                return Some(v);
            }
        }
    }
}

#[tokio::test]
async fn page_and_assets_are_served_without_external_urls() {
    let emu = start().await;
    let h = emu.http_addr();
    let (s, page) = http(h, "GET", "/", None).await.unwrap();
    assert_eq!(s, 200);
    assert!(page.contains("<table id=\"devices\">") && page.contains("/console/app.js"));
    for path in ["/console/app.js", "/console/style.css"] {
        let (s, body) = http(h, "GET", path, None).await.unwrap();
        assert_eq!(s, 200, "{path}");
        assert!(body.len() > 500, "{path}");
        assert!(
            !body.contains("http://") && !body.contains("https://"),
            "{path} fetches nothing from elsewhere"
        );
    }
    assert!(!page.contains("https://"));
    let (s, v) = rest(h, "GET", "/emulator/info", None).await;
    assert_eq!((s, v["project_id"].as_str()), (200, Some("local")));
}

#[tokio::test]
async fn event_stream_replays_and_follows_the_trace() {
    let emu = start().await;
    let (a, h) = (emu.mqtt_addr(), emu.http_addr());
    // Before the console connects: a login and a report.
    let mut c = login(a, DEV, SECRET).await;
    c.publish(
        &topic(DEV, "sys/properties/report"),
        br#"{"services":[{"service_id":"S","properties":{"t":21}}]}"#,
        1,
        1,
    )
    .await
    .unwrap();
    assert_eq!(c.recv(T).await, Some(In::PubAck(1)));
    let mut s = TcpStream::connect(h).await.unwrap();
    s.write_all(b"GET /emulator/events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
        .await
        .unwrap();
    let mut lines = BufReader::new(s).lines();
    let online = wait_event(&mut lines, |v| v["kind"] == "online")
        .await
        .expect("online replayed");
    assert_eq!(online["device_id"], DEV);
    assert_eq!(online["summary"]["status"], "ONLINE");
    let up = wait_event(&mut lines, |v| v["kind"] == "uplink")
        .await
        .expect("uplink replayed");
    assert_eq!(up["topic"], topic(DEV, "sys/properties/report"));
    assert!(up["payload"].as_str().unwrap().contains("\"t\":21"));
    // Live: a downlink from the messages API.
    let down = topic(DEV, "sys/messages/down");
    assert_eq!(c.subscribe_wait(&[(&down, 0)], 2).await, Some(vec![0]));
    let (st, _) = rest(
        h,
        "POST",
        &format!("/v5/iot/local/devices/{DEV}/messages"),
        Some(r#"{"message":"live one"}"#),
    )
    .await;
    assert_eq!(st, 201);
    let dl = wait_event(&mut lines, |v| v["kind"] == "downlink")
        .await
        .expect("downlink live");
    assert_eq!(dl["topic"], down);
    assert!(dl["payload"].as_str().unwrap().contains("live one"));
    // Live uplinks too, numbered after everything before them.
    c.publish(&topic(DEV, "sys/messages/up"), b"live up", 1, 3)
        .await
        .unwrap();
    let up2 = wait_event(&mut lines, |v| {
        v["kind"] == "uplink" && v["payload"] == "live up"
    })
    .await
    .expect("uplink live");
    assert!(up2["seq"].as_u64() > dl["seq"].as_u64(), "{up2} after {dl}");
    assert_eq!(up2["uplink_seq"], 1);
    drop(c);
    let off = wait_event(&mut lines, |v| v["kind"] == "offline")
        .await
        .expect("offline live");
    assert_eq!(off["summary"]["status"], "OFFLINE");
    assert!(off["summary"]["last_logout"].is_string());
}
