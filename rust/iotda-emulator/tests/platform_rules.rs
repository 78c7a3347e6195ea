//! One test per platform rule of issue 14, each named after Huawei's rule
//! (the sources are listed in the crate README).

mod common;

use std::time::Duration;

use common::*;
use iotda_emulator::client::In;
use mqtt_core::codec::Packet;
use serde_json::{json, Value};

fn msgs(id: &str) -> String {
    format!("/v5/iot/local/devices/{id}/messages")
}

async fn uplinks(h: std::net::SocketAddr, id: &str) -> Value {
    rest(h, "GET", &format!("/emulator/devices/{id}/uplinks"), None)
        .await
        .1
}

async fn alive(c: &mut Client) -> bool {
    c.send(&Packet::PingReq).await.is_ok() && c.recv(T).await == Some(In::PingResp)
}

async fn shadow_of(h: std::net::SocketAddr, id: &str) -> Value {
    let (s, v) = rest(
        h,
        "GET",
        &format!("/v5/iot/local/devices/{id}/shadow"),
        None,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    v
}

fn report(service: &str, props: Value, event_time: Option<&str>) -> Vec<u8> {
    let mut s = json!({"service_id": service, "properties": props});
    if let Some(t) = event_time {
        s["event_time"] = json!(t);
    }
    json!({"services": [s]}).to_string().into_bytes()
}

#[tokio::test]
async fn publish_over_1_mb_is_rejected_and_the_connection_stays() {
    let emu = start().await;
    let (a, h) = (emu.mqtt_addr(), emu.http_addr());
    let mut c = login(a, DEV, SECRET).await;
    let up = topic(DEV, "sys/messages/up");
    // Just over 1 MB (decoded and refused) and 1.5 MB (skipped unread).
    for (pid, size) in [(1u16, 1024 * 1024 + 1), (2, 1536 * 1024)] {
        c.publish(&up, &vec![b'x'; size], 1, pid).await.unwrap();
        assert!(alive(&mut c).await, "{size} bytes: connection kept");
    }
    c.publish(&up, b"small", 1, 3).await.unwrap();
    assert_eq!(
        c.recv(T).await,
        Some(In::PubAck(3)),
        "no PUBACK for the big ones"
    );
    let v = uplinks(h, DEV).await;
    assert_eq!(v["count"], 1, "{v}");
    assert_eq!(v["uplinks"][0]["payload"], "small");
    let (_, st) = rest(h, "GET", "/emulator/stats", None).await;
    assert_eq!(st["uplinks_rejected"], 2);
}

#[tokio::test]
async fn property_report_over_64_kb_is_not_applied() {
    let emu = start().await;
    let (a, h) = (emu.mqtt_addr(), emu.http_addr());
    let mut c = login(a, DEV, SECRET).await;
    let rep = topic(DEV, "sys/properties/report");
    // A report of exactly 64 KB is applied.
    let base = report("S", json!({"v": 1, "pad": ""}), None).len();
    let pad = "p".repeat(64 * 1024 - base);
    let ok = report("S", json!({"v": 1, "pad": pad}), None);
    assert_eq!(ok.len(), 64 * 1024);
    c.publish(&rep, &ok, 1, 1).await.unwrap();
    assert_eq!(c.recv(T).await, Some(In::PubAck(1)));
    // One byte more: PUBACKed and recorded, not applied.
    let pad = "p".repeat(64 * 1024 - base + 1);
    let big = report("S", json!({"v": 2, "pad": pad}), None);
    c.publish(&rep, &big, 1, 2).await.unwrap();
    assert_eq!(c.recv(T).await, Some(In::PubAck(2)));
    let sh = shadow_of(h, DEV).await;
    assert_eq!(sh["shadow"][0]["reported"]["properties"]["v"], 1, "{sh}");
    let v = uplinks(h, DEV).await;
    assert_eq!(v["count"], 2);
    assert!(v["uplinks"][0]["rejected"].is_null());
    assert!(v["uplinks"][1]["rejected"]
        .as_str()
        .unwrap()
        .contains("65536"));
}

#[tokio::test]
async fn at_most_100_subscriptions_per_connection() {
    let emu = start().await;
    let mut c = login(emu.mqtt_addr(), DEV, SECRET).await;
    let filters: Vec<String> = (0..100)
        .map(|i| topic(DEV, &format!("user/t{i}")))
        .collect();
    let list: Vec<(&str, u8)> = filters.iter().map(|f| (f.as_str(), 0)).collect();
    let codes = c.subscribe_wait(&list, 1).await.unwrap();
    assert_eq!(codes, vec![0; 100]);
    let extra = topic(DEV, "user/one_more");
    // The 101st is refused; renewing one of the 100 is not a new one.
    let codes = c
        .subscribe_wait(&[(&extra, 0), (&filters[5], 1)], 2)
        .await
        .unwrap();
    assert_eq!(codes, vec![0x80, 1]);
    assert!(alive(&mut c).await);
}

#[tokio::test]
async fn uplinks_over_50_per_second_are_rejected() {
    let emu = start().await;
    let (a, h) = (emu.mqtt_addr(), emu.http_addr());
    let mut c = login(a, DEV, SECRET).await;
    let up = topic(DEV, "sys/messages/up");
    for pid in 1..=60u16 {
        c.publish(&up, b"burst", 1, pid).await.unwrap();
    }
    let mut acks = 0;
    while let Some(In::PubAck(_)) = c.recv(Duration::from_millis(500)).await {
        acks += 1;
    }
    assert_eq!(acks, 50, "50 accepted in the second");
    assert_eq!(uplinks(h, DEV).await["count"], 50);
    // The next second takes uplinks again.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    c.publish(&up, b"later", 1, 61).await.unwrap();
    assert_eq!(c.recv(T).await, Some(In::PubAck(61)));
}

#[tokio::test]
async fn custom_topics_are_at_most_128_bytes() {
    let emu = start().await;
    let (a, h) = (emu.mqtt_addr(), emu.http_addr());
    let mut c = login(a, DEV, SECRET).await;
    let prefix = topic(DEV, "user/");
    let t128 = format!("{prefix}{}", "a".repeat(128 - prefix.len()));
    let t129 = format!("{t128}b");
    assert_eq!(t128.len(), 128);
    c.publish(&t128, b"ok", 1, 1).await.unwrap();
    assert_eq!(c.recv(T).await, Some(In::PubAck(1)));
    c.publish(&t129, b"too long", 1, 2).await.unwrap();
    assert!(alive(&mut c).await, "rejected, not closed");
    let other = format!("/{}", "n".repeat(128));
    c.publish(&other, b"too long", 1, 3).await.unwrap();
    assert!(alive(&mut c).await);
    assert_eq!(uplinks(h, DEV).await["count"], 1);
    let codes = c
        .subscribe_wait(&[(&t128, 0), (&t129, 0), (&other, 0)], 4)
        .await
        .unwrap();
    assert_eq!(codes, vec![0, 0x80, 0x80]);
}

#[tokio::test]
async fn custom_topics_not_starting_with_oc_are_allowed() {
    let emu = start().await;
    let (a, h) = (emu.mqtt_addr(), emu.http_addr());
    let mut c = login(a, DEV, SECRET).await;
    assert_eq!(
        c.subscribe_wait(&[("/v1/test/hello", 1)], 1).await,
        Some(vec![1])
    );
    c.publish("/v1/test/up", b"custom", 1, 2).await.unwrap();
    assert_eq!(c.recv(T).await, Some(In::PubAck(2)));
    let v = uplinks(h, DEV).await;
    assert_eq!(v["uplinks"][0]["topic"], "/v1/test/up");
    let body = json!({"message": "to custom", "topic_full_name": "/v1/test/hello", "payload_format": "raw"});
    let (s, r) = rest(h, "POST", &msgs(DEV), Some(&body.to_string())).await;
    assert_eq!(
        (s, r["result"]["status"].as_str()),
        (201, Some("DELIVERED"))
    );
    let (t, p, ..) = publish_parts(c.recv_publish(T).await.unwrap());
    assert_eq!(
        (t.as_str(), p.as_slice()),
        ("/v1/test/hello", &b"to custom"[..])
    );
    // Another device's $oc tree stays closed.
    c.publish(&topic(DEV2, "sys/messages/up"), b"x", 0, 0)
        .await
        .unwrap();
    assert!(c.closed_within(T).await);
}

#[tokio::test]
async fn request_id_suffix_is_applied() {
    let emu = start().await;
    let (a, h) = (emu.mqtt_addr(), emu.http_addr());
    let mut c = login(a, DEV, SECRET).await;
    let rep = format!("{}?request_id=r-17", topic(DEV, "sys/properties/report"));
    c.publish(&rep, &report("Meter", json!({"level": 7}), None), 1, 1)
        .await
        .unwrap();
    assert_eq!(c.recv(T).await, Some(In::PubAck(1)));
    let sh = shadow_of(h, DEV).await;
    assert_eq!(
        sh["shadow"][0]["reported"]["properties"]["level"], 7,
        "{sh}"
    );
    let v = uplinks(h, DEV).await;
    assert_eq!(v["uplinks"][0]["request_id"], "r-17");
    assert_eq!(v["uplinks"][0]["topic"], rep);
}

#[tokio::test]
async fn millisecond_event_time_is_kept() {
    let emu = start().await;
    let (a, h) = (emu.mqtt_addr(), emu.http_addr());
    let mut c = login(a, DEV, SECRET).await;
    let rep = topic(DEV, "sys/properties/report");
    let t_ms = "2021-08-13T10:10:10.555Z";
    c.publish(&rep, &report("A", json!({"x": 1}), Some(t_ms)), 1, 1)
        .await
        .unwrap();
    c.publish(
        &rep,
        &report("B", json!({"x": 1}), Some("13/08/2021")),
        1,
        2,
    )
    .await
    .unwrap();
    assert_eq!(c.recv(T).await, Some(In::PubAck(1)));
    assert_eq!(c.recv(T).await, Some(In::PubAck(2)));
    let sh = shadow_of(h, DEV).await;
    assert_eq!(sh["shadow"][0]["reported"]["event_time"], t_ms);
    let b = sh["shadow"][1]["reported"]["event_time"].as_str().unwrap();
    assert_eq!(b.len(), 16, "malformed: receive time {b}");
    assert!(b.starts_with("20") && b.ends_with('Z'));
}

#[tokio::test]
async fn desired_shadow_is_pushed_on_login_and_after_reports() {
    let emu = start().await;
    let (a, h) = (emu.mqtt_addr(), emu.http_addr());
    let shadow = format!("/v5/iot/local/devices/{DEV}/shadow");
    let set = topic(DEV, "sys/properties/set/#");
    let put = json!({"shadow": [{"service_id": "Light", "desired": {"on": true, "level": 3}}]});
    let (s, _) = rest(h, "PUT", &shadow, Some(&put.to_string())).await;
    assert_eq!(s, 200);
    // Offline: sent once the device is online (and subscribed).
    let mut c = login(a, DEV, SECRET).await;
    assert_eq!(c.subscribe_wait(&[(&set, 0)], 1).await, Some(vec![0]));
    let (t, p, ..) = publish_parts(c.recv_publish(T).await.unwrap());
    assert!(
        t.starts_with(&topic(DEV, "sys/properties/set/request_id=")),
        "{t}"
    );
    assert_eq!(
        json_of(&p)["services"],
        json!([{"service_id": "Light", "properties": {"on": true, "level": 3}}])
    );
    // A report that leaves `level` different: only `level` again.
    let rep = topic(DEV, "sys/properties/report");
    c.publish(
        &rep,
        &report("Light", json!({"on": true, "level": 1}), None),
        0,
        0,
    )
    .await
    .unwrap();
    let (_, p, ..) = publish_parts(c.recv_publish(T).await.unwrap());
    assert_eq!(
        json_of(&p)["services"],
        json!([{"service_id": "Light", "properties": {"level": 3}}])
    );
    // A matching report: nothing more.
    c.publish(&rep, &report("Light", json!({"level": 3}), None), 0, 0)
        .await
        .unwrap();
    assert_eq!(c.recv_publish(Duration::from_millis(400)).await, None);
    // Online: a new desired value goes down at once.
    let put = json!({"shadow": [{"service_id": "Light", "desired": {"level": 9}}]});
    rest(h, "PUT", &shadow, Some(&put.to_string())).await;
    let (_, p, ..) = publish_parts(c.recv_publish(T).await.unwrap());
    assert_eq!(
        json_of(&p)["services"][0]["properties"],
        json!({"level": 9})
    );
}

#[tokio::test]
async fn message_id_must_be_unique_per_device() {
    let emu = start().await;
    let h = emu.http_addr();
    let body = r#"{"message":"a","message_id":"m-1"}"#;
    let (s, v) = rest(h, "POST", &msgs(DEV), Some(body)).await;
    assert_eq!((s, v["message_id"].as_str()), (201, Some("m-1")));
    let (s, v) = rest(h, "POST", &msgs(DEV), Some(body)).await;
    assert_eq!(
        (s, v["error_code"].as_str()),
        (400, Some("IOTDA.000006")),
        "{v}"
    );
    // Another device may use it.
    let (s, _) = rest(h, "POST", &msgs(DEV2), Some(body)).await;
    assert_eq!(s, 201);
    let (s, _) = rest(
        h,
        "POST",
        &msgs(DEV),
        Some(r#"{"message":"a","message_id":"bad id"}"#),
    )
    .await;
    assert_eq!(s, 400);
}

#[tokio::test]
async fn message_properties_are_validated_and_kept() {
    let emu = start().await;
    let h = emu.http_addr();
    let props = json!({"correlation_data": "c-1", "response_topic": "/reply/here",
                       "user_properties": [{"prop_key": "k", "prop_value": "v"}]});
    let body = json!({"message": "p", "message_id": "mp", "properties": props});
    let (s, v) = rest(h, "POST", &msgs(DEV), Some(&body.to_string())).await;
    assert_eq!(s, 201, "{v}");
    let (s, v) = rest(h, "GET", &format!("{}/mp", msgs(DEV)), None).await;
    assert_eq!(s, 200);
    assert_eq!(v["properties"], props);
    let too_many: Vec<Value> = (0..21)
        .map(|i| json!({"prop_key": format!("k{i}"), "prop_value": "v"}))
        .collect();
    for bad in [
        json!({"user_properties": too_many}),
        json!({"correlation_data": "has space"}),
        json!({"colour": "red"}),
        json!("not an object"),
    ] {
        let body = json!({"message": "p", "properties": bad});
        let (s, v) = rest(h, "POST", &msgs(DEV), Some(&body.to_string())).await;
        assert_eq!(
            (s, v["error_code"].as_str()),
            (400, Some("IOTDA.000006")),
            "{bad}"
        );
    }
}

#[tokio::test]
async fn pending_message_is_delivered_at_the_next_report() {
    let emu = start().await;
    let (a, h) = (emu.mqtt_addr(), emu.http_addr());
    let (s, v) = rest(
        h,
        "POST",
        &msgs(DEV),
        Some(r#"{"message":"later","message_id":"p1"}"#),
    )
    .await;
    assert_eq!((s, v["result"]["status"].as_str()), (201, Some("PENDING")));
    let mut c = login(a, DEV, SECRET).await;
    let down = topic(DEV, "sys/messages/down");
    assert_eq!(c.subscribe_wait(&[(&down, 0)], 1).await, Some(vec![0]));
    assert_eq!(c.recv_publish(Duration::from_millis(300)).await, None);
    let (_, v) = rest(h, "GET", &format!("{}/p1", msgs(DEV)), None).await;
    assert_eq!(v["status"], "PENDING");
    c.publish(&topic(DEV, "sys/messages/up"), b"hello", 0, 0)
        .await
        .unwrap();
    let (_, p, ..) = publish_parts(c.recv_publish(T).await.unwrap());
    assert_eq!(json_of(&p)["content"], "later");
    let (_, v) = rest(h, "GET", &format!("{}/p1", msgs(DEV)), None).await;
    assert_eq!(v["status"], "DELIVERED");
    assert_eq!(v["finished_time"].as_str().unwrap().len(), 16);
    let (_, v) = rest(h, "GET", &msgs(DEV), None).await;
    assert_eq!(v["messages"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn pending_message_times_out_after_the_ttl() {
    // One day on the platform; 300 ms here.
    let mut cfg = test_config();
    cfg.message_ttl = Duration::from_millis(300);
    let emu = start_with(cfg).await;
    let (a, h) = (emu.mqtt_addr(), emu.http_addr());
    let (s, _) = rest(
        h,
        "POST",
        &msgs(DEV),
        Some(r#"{"message":"stale","message_id":"t1"}"#),
    )
    .await;
    assert_eq!(s, 201);
    tokio::time::sleep(Duration::from_millis(700)).await;
    let (_, v) = rest(h, "GET", &format!("{}/t1", msgs(DEV)), None).await;
    assert_eq!(v["status"], "TIMEOUT", "{v}");
    assert!(v["finished_time"].is_string());
    let mut c = login(a, DEV, SECRET).await;
    let down = topic(DEV, "sys/messages/down");
    assert_eq!(c.subscribe_wait(&[(&down, 0)], 1).await, Some(vec![0]));
    c.publish(&topic(DEV, "sys/messages/up"), b"hi", 0, 0)
        .await
        .unwrap();
    assert_eq!(
        c.recv_publish(Duration::from_millis(500)).await,
        None,
        "a timed-out message is not delivered"
    );
}

#[tokio::test]
async fn unknown_paths_get_the_api_gateways_404() {
    let emu = start().await;
    let h = emu.http_addr();
    for (m, path) in [
        ("GET", "/v5/iot/local/devices/prod_dev1/nothing"),
        ("PATCH", "/v5/iot/local/devices"),
        ("GET", "/v3/iot/local/devices"),
    ] {
        let (s, v) = rest(h, m, path, None).await;
        assert_eq!(
            (s, v["error_code"].as_str()),
            (404, Some("APIG.0101")),
            "{m} {path}"
        );
    }
}
