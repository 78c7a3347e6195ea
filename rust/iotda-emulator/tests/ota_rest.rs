//! OTA over the REST API, with a raw MQTT device: packages, upgrade tasks,
//! the `$ota` event, the download (token, expiry, ranges, faults) and the
//! subtask status driven by the device's reports.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::*;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const PKG: &str = "/v5/iot/local/ota-upgrades/packages";
const TASKS: &str = "/v5/iot/local/batchtasks";
const DATA: &str = "0123456789abcdefghijklmnopqrstuvwxyz";
// hashlib.sha256(DATA.encode()).hexdigest()
const DATA_SHA256: &str = "74e7e5bb9d22d6db26bf76946d40fff3ea9f0346b884fd0694920fccfad15e33";

/// A request with extra header lines: (status, head, body bytes).
async fn raw(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &str,
    body: &[u8],
) -> (u16, String, Vec<u8>) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{headers}Content-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    s.write_all(body).await.unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out).await; // a cut connection ends the body early
    let at = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&out[..at]).to_ascii_lowercase();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, head, out[at + 4..].to_vec())
}

async fn upload(h: SocketAddr, key: &str, data: &[u8]) {
    let (s, _, _) = raw(h, "PUT", &format!("/emulator/obs/b1/{key}"), "", data).await;
    assert_eq!(s, 200);
}

fn package_body(kind: &str, version: &str, key: &str) -> String {
    json!({"app_id": "app1", "package_type": kind, "product_id": "prod1", "version": version,
           "custom_info": "fixes", "file_location": {"obs_location":
           {"region_name": "local", "bucket_name": "b1", "object_key": key}}})
    .to_string()
}

async fn create_package(h: SocketAddr, kind: &str, version: &str, key: &str) -> String {
    let (s, v) = rest(h, "POST", PKG, Some(&package_body(kind, version, key))).await;
    assert_eq!(s, 201, "{v}");
    v["package_id"].as_str().unwrap().to_string()
}

async fn create_task(h: SocketAddr, ty: &str, targets: &[&str], pkg: &str) -> (u16, Value) {
    let body = json!({"task_name": "t1", "task_type": ty, "targets": targets,
                      "document": {"package_id": pkg}});
    rest(h, "POST", TASKS, Some(&body.to_string())).await
}

async fn task(h: SocketAddr, id: &str) -> Value {
    let (s, v) = rest(h, "GET", &format!("{TASKS}/{id}"), None).await;
    assert_eq!(s, 200);
    v
}

/// A device logged in and subscribed to its events (QoS 0: no redelivery).
async fn device(a: SocketAddr) -> Client {
    let mut c = login(a, DEV, SECRET).await;
    assert_eq!(
        c.subscribe_wait(&[(&topic(DEV, "sys/events/down"), 0)], 1)
            .await,
        Some(vec![0])
    );
    c
}

async fn next_event(c: &mut Client) -> Value {
    let (t, payload, ..) = publish_parts(c.recv_publish(T).await.unwrap());
    assert_eq!(t, topic(DEV, "sys/events/down"));
    json_of(&payload)["services"][0].clone()
}

async fn report(c: &mut Client, event_type: &str, paras: Value) {
    let body =
        json!({"services": [{"service_id": "$ota", "event_type": event_type, "paras": paras}]});
    c.publish(
        &topic(DEV, "sys/events/up"),
        body.to_string().as_bytes(),
        0,
        0,
    )
    .await
    .unwrap();
}

async fn wait_status(h: SocketAddr, id: &str, want: &str) -> Value {
    for _ in 0..100 {
        let v = task(h, id).await;
        if v["task_details"][0]["status"] == want {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("subtask never {want}: {}", task(h, id).await);
}

fn path_of(url: &str) -> &str {
    &url[url.find("/emulator/").unwrap()..]
}

#[tokio::test]
async fn packages_created_listed_shown_deleted_with_huaweis_rules() {
    let emu = start().await;
    let h = emu.http_addr();
    // The object must be in the stand-in bucket first.
    let (s, v) = rest(
        h,
        "POST",
        PKG,
        Some(&package_body("firmwarePackage", "V2.0", "fw.bin")),
    )
    .await;
    assert_eq!(
        (s, v["error_code"].as_str()),
        (400, Some("IOTDA.000006")),
        "{v}"
    );
    upload(h, "dir/fw.bin", DATA.as_bytes()).await;
    let (s, v) = rest(
        h,
        "POST",
        PKG,
        Some(&package_body("firmwarePackage", "V2.0", "dir/fw.bin")),
    )
    .await;
    assert_eq!(s, 201);
    assert_eq!(v["version"], "V2.0");
    assert_eq!(v["package_type"], "firmwarePackage");
    assert_eq!(
        v["file_location"]["obs_location"]["object_key"],
        "dir/fw.bin"
    );
    assert!(v["package_id"].as_str().unwrap().len() <= 36);
    assert_eq!(v["create_time"].as_str().unwrap().len(), 16);
    let id = v["package_id"].as_str().unwrap().to_string();
    for (body, why) in [
        (
            package_body("modulePackage", "V2", "dir/fw.bin"),
            "package_type",
        ),
        (
            package_body("firmwarePackage", "V 2", "dir/fw.bin"),
            "version",
        ),
        (
            package_body("firmwarePackage", &"1".repeat(257), "dir/fw.bin"),
            "version",
        ),
        (
            json!({"package_type": "firmwarePackage", "product_id": "p", "version": "1"})
                .to_string(),
            "file_location",
        ),
        ("[1]".to_string(), "object"),
    ] {
        let (s, v) = rest(h, "POST", PKG, Some(&body)).await;
        assert_eq!(
            (s, v["error_code"].as_str()),
            (400, Some("IOTDA.000006")),
            "{why}: {v}"
        );
    }
    let (s, v) = rest(
        h,
        "GET",
        &format!("{PKG}?package_type=firmwarePackage"),
        None,
    )
    .await;
    assert_eq!((s, v["page"]["count"].as_u64()), (200, Some(1)));
    let (_, v) = rest(
        h,
        "GET",
        &format!("{PKG}?package_type=softwarePackage"),
        None,
    )
    .await;
    assert_eq!(v["page"]["count"], 0);
    let (s, v) = rest(h, "GET", &format!("{PKG}/{id}"), None).await;
    assert_eq!((s, v["package_id"].as_str()), (200, Some(id.as_str())));
    let (s, _) = rest(h, "DELETE", &format!("{PKG}/{id}"), None).await;
    assert_eq!(s, 204);
    let (s, v) = rest(h, "GET", &format!("{PKG}/{id}"), None).await;
    assert_eq!(s, 404, "{v}");
    emu.shutdown().await;
}

#[tokio::test]
async fn task_rules() {
    let emu = start().await;
    let h = emu.http_addr();
    upload(h, "fw.bin", DATA.as_bytes()).await;
    let fw = create_package(h, "firmwarePackage", "2.0", "fw.bin").await;
    for (ty, targets, pkg, why) in [
        (
            "createDevices",
            vec![DEV],
            fw.as_str(),
            "task type not emulated",
        ),
        (
            "softwareUpgrade",
            vec![DEV],
            fw.as_str(),
            "a firmware package for a software task",
        ),
        ("firmwareUpgrade", vec![], fw.as_str(), "no targets"),
        (
            "firmwareUpgrade",
            vec![DEV, DEV],
            fw.as_str(),
            "a repeated target",
        ),
        ("firmwareUpgrade", vec![DEV], "nope", "unknown package"),
    ] {
        let (s, v) = create_task(h, ty, &targets, pkg).await;
        assert_eq!(
            (s, v["error_code"].as_str()),
            (400, Some("IOTDA.000006")),
            "{why}: {v}"
        );
    }
    let (s, v) = rest(h, "GET", &format!("{TASKS}/0123456789abcdef01234567"), None).await;
    assert_eq!(s, 404, "{v}");
    // An unknown device's subtask fails at once; an offline one waits.
    let (s, v) = create_task(h, "firmwareUpgrade", &[DEV, "ghost"], &fw).await;
    assert_eq!(s, 201, "{v}");
    let id = v["task_id"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 24);
    assert!(id
        .bytes()
        .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)));
    assert_eq!(v["document"]["package_id"], fw);
    assert_eq!(v["status"], "Processing");
    assert_eq!(v["task_progress"]["waitting"], 1);
    assert_eq!(v["task_progress"]["fail"], 1);
    let v = task(h, &id).await;
    assert_eq!(v["task_details"][1]["status"], "Fail");
    assert_eq!(v["task_details"][1]["error"]["error_code"], "IOTDA.010001");
    let (_, v) = rest(
        h,
        "GET",
        &format!("{TASKS}/{id}?task_detail_status=Waitting"),
        None,
    )
    .await;
    assert_eq!(v["task_details"].as_array().unwrap().len(), 1);
    assert_eq!(v["task_details"][0]["target"], DEV);
    let (s, _) = rest(
        h,
        "GET",
        &format!("{TASKS}/{id}?task_detail_status=Done"),
        None,
    )
    .await;
    assert_eq!(s, 400);
    let (s, v) = rest(
        h,
        "GET",
        &format!("{TASKS}?task_type=firmwareUpgrade"),
        None,
    )
    .await;
    assert_eq!((s, v["page"]["count"].as_u64()), (200, Some(1)));
    let (s, _) = rest(h, "GET", TASKS, None).await;
    assert_eq!(s, 400, "task_type is required");
    emu.shutdown().await;
}

#[tokio::test]
async fn upgrade_event_download_and_status_from_the_device() {
    let emu = start().await;
    let (a, h) = (emu.mqtt_addr(), emu.http_addr());
    upload(h, "fw.bin", DATA.as_bytes()).await;
    let fw = create_package(h, "firmwarePackage", "2.0", "fw.bin").await;
    let mut c = device(a).await;
    let (s, v) = create_task(h, "firmwareUpgrade", &[DEV], &fw).await;
    assert_eq!(s, 201);
    let id = v["task_id"].as_str().unwrap().to_string();
    assert_eq!(v["task_progress"]["processing"], 1);
    let ev = next_event(&mut c).await;
    assert_eq!(ev["service_id"], "$ota");
    assert_eq!(ev["event_type"], "firmware_upgrade");
    let p = &ev["paras"];
    assert_eq!(p["version"], "2.0");
    assert_eq!(p["file_size"], DATA.len());
    assert_eq!(p["file_name"], "fw.bin");
    assert_eq!(p["sign"], DATA_SHA256);
    assert_eq!(p["custom_info"], "fixes");
    assert_eq!(p["expires"], 86400);
    let token = p["access_token"].as_str().unwrap().to_string();
    assert_eq!(token.len(), 64);
    let url = path_of(p["url"].as_str().unwrap()).to_string();
    // Token rules.
    let (s, _, _) = raw(h, "GET", &url, "", b"").await;
    assert_eq!(s, 401, "no token");
    let (s, _, body) = raw(
        h,
        "GET",
        &url,
        &format!("Authorization: Bearer {}\r\n", "0".repeat(64)),
        b"",
    )
    .await;
    assert_eq!(s, 401, "wrong token");
    assert_eq!(json_of(&body)["error_code"], "IOTDA.000002");
    let auth = format!("Authorization: Bearer {token}\r\n");
    // The token opens its own package only.
    upload(h, "other.bin", b"another product's package").await;
    let other = create_package(h, "firmwarePackage", "9.0", "other.bin").await;
    let (s, _, body) = raw(h, "GET", &url.replace(&fw, &other), &auth, b"").await;
    assert_eq!(s, 401, "a token of another package");
    assert_eq!(json_of(&body)["error_code"], "IOTDA.000002");
    let (s, head, body) = raw(h, "GET", &url, &auth, b"").await;
    assert_eq!((s, body.as_slice()), (200, DATA.as_bytes()));
    assert!(head.contains("accept-ranges: bytes"), "{head}");
    // Ranges.
    let (s, head, body) = raw(h, "GET", &url, &format!("{auth}Range: bytes=30-\r\n"), b"").await;
    assert_eq!((s, body.as_slice()), (206, &DATA.as_bytes()[30..]));
    assert!(head.contains("content-range: bytes 30-35/36"), "{head}");
    let (s, _, body) = raw(h, "GET", &url, &format!("{auth}Range: bytes=2-4\r\n"), b"").await;
    assert_eq!((s, body.as_slice()), (206, &b"234"[..]));
    let (s, head, _) = raw(h, "GET", &url, &format!("{auth}Range: bytes=36-\r\n"), b"").await;
    assert_eq!(s, 416);
    assert!(head.contains("content-range: bytes */36"), "{head}");
    // A cut connection: fewer bytes than Content-Length, then the next is whole.
    let (s, _) = rest(
        h,
        "POST",
        "/emulator/ota/settings",
        Some(r#"{"drop_after_bytes": 10}"#),
    )
    .await;
    assert_eq!(s, 200);
    let (s, head, body) = raw(h, "GET", &url, &auth, b"").await;
    assert_eq!(s, 200);
    assert!(head.contains("content-length: 36"), "{head}");
    assert_eq!(body.as_slice(), &DATA.as_bytes()[..10]);
    let (_, _, body) = raw(h, "GET", &url, &auth, b"").await;
    assert_eq!(body.len(), 36);
    // Progress keeps the subtask Processing; 100 % of the version: Success.
    report(
        &mut c,
        "upgrade_progress_report",
        json!({"result_code": 0, "version": "2.0", "progress": 50}),
    )
    .await;
    let v = wait_status(h, &id, "Processing").await;
    for _ in 0..100 {
        if task(h, &id).await["task_details"][0]["output"] == "progress 50%" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(v["batchtask"]["status"], "Processing");
    report(
        &mut c,
        "upgrade_progress_report",
        json!({"result_code": 0, "version": "2.0", "progress": 100}),
    )
    .await;
    let v = wait_status(h, &id, "Success").await;
    assert_eq!(v["batchtask"]["status"], "Success");
    assert_eq!(v["batchtask"]["task_progress"]["success"], 1);
    emu.shutdown().await;
}

#[tokio::test]
async fn failure_expiry_version_report_and_waiting_devices() {
    let emu = start().await;
    let (a, h) = (emu.mqtt_addr(), emu.http_addr());
    upload(h, "sw.bin", DATA.as_bytes()).await;
    let sw = create_package(h, "softwarePackage", "app-2", "sw.bin").await;
    // Offline at creation: Waitting, the event comes after its version report.
    let (_, v) = create_task(h, "softwareUpgrade", &[DEV], &sw).await;
    let id = v["task_id"].as_str().unwrap().to_string();
    assert_eq!(v["task_progress"]["waitting"], 1);
    let mut c = device(a).await;
    report(&mut c, "version_report", json!({"sw_version": "app-1"})).await;
    let ev = next_event(&mut c).await;
    assert_eq!(ev["event_type"], "software_upgrade");
    wait_status(h, &id, "Processing").await;
    // A version report of the package's version completes it.
    report(&mut c, "version_report", json!({"sw_version": "app-2"})).await;
    wait_status(h, &id, "Success").await;
    // A non-zero result code fails it, with the device's description.
    let (_, v) = create_task(h, "softwareUpgrade", &[DEV], &sw).await;
    let id = v["task_id"].as_str().unwrap().to_string();
    let _ = next_event(&mut c).await;
    report(
        &mut c,
        "upgrade_progress_report",
        json!({"result_code": 7, "version": "app-2", "description": "bad sign"}),
    )
    .await;
    let v = wait_status(h, &id, "Fail").await;
    assert_eq!(v["batchtask"]["status"], "Fail");
    assert_eq!(
        v["task_details"][0]["error"],
        json!({"error_code": "7", "error_msg": "bad sign"})
    );
    // Tokens valid 0 s: expired on arrival.
    let (_, f) = rest(
        h,
        "POST",
        "/emulator/ota/settings",
        Some(r#"{"token_ttl_secs": 0}"#),
    )
    .await;
    assert_eq!(f["token_ttl_secs"], 0);
    let (s, _) = rest(
        h,
        "POST",
        "/emulator/ota/settings",
        Some(r#"{"token_ttl_secs": -1}"#),
    )
    .await;
    assert_eq!(s, 400);
    // The URL base of the events can point elsewhere (an HTTPS front).
    for bad in ["ftp://x", "http://", "http://h/path", "https://h x"] {
        let body = json!({ "base_url": bad }).to_string();
        let (s, _) = rest(h, "POST", "/emulator/ota/settings", Some(&body)).await;
        assert_eq!(s, 400, "{bad}");
    }
    let body = json!({"base_url": "https://ota.example:8943"}).to_string();
    let (s, f) = rest(h, "POST", "/emulator/ota/settings", Some(&body)).await;
    assert_eq!(
        (s, f["base_url"].as_str()),
        (200, Some("https://ota.example:8943"))
    );
    create_task(h, "softwareUpgrade", &[DEV], &sw).await;
    let ev = next_event(&mut c).await;
    assert_eq!(ev["paras"]["expires"], 0);
    assert!(ev["paras"]["url"]
        .as_str()
        .unwrap()
        .starts_with("https://ota.example:8943/emulator/ota/files/"));
    let url = path_of(ev["paras"]["url"].as_str().unwrap()).to_string();
    let auth = format!(
        "Authorization: Bearer {}\r\n",
        ev["paras"]["access_token"].as_str().unwrap()
    );
    let (s, _, body) = raw(h, "GET", &url, &auth, b"").await;
    assert_eq!(s, 401);
    assert!(json_of(&body)["error_msg"]
        .as_str()
        .unwrap()
        .contains("expired"));
    emu.shutdown().await;
}
