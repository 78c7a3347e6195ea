//! The application REST API end to end, with a raw MQTT device.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{json, Value};

fn p(rest: &str) -> String {
    format!("/v5/iot/local/devices/{DEV}/{rest}")
}

#[tokio::test]
async fn messages_standard_raw_base64_custom_topic_and_pending() {
    let emu = start().await;
    let (a, h) = (emu.mqtt_addr(), emu.http_addr());
    let down = topic(DEV, "sys/messages/down");
    // Offline: kept as PENDING, delivered after the device's next uplink.
    let (s, v) = rest(h, "POST", &p("messages"), Some(r#"{"message":"early"}"#)).await;
    assert_eq!(s, 201);
    assert_eq!(v["result"]["status"], "PENDING");
    let mut c = login(a, DEV, SECRET).await;
    let custom = topic(DEV, "user/ctl");
    assert_eq!(
        c.subscribe_wait(&[(&down, 0), (&custom, 0)], 1).await,
        Some(vec![0, 0])
    );
    assert_eq!(
        c.recv_publish(Duration::from_millis(300)).await,
        None,
        "not before the device reports"
    );
    c.publish(
        &topic(DEV, "sys/properties/report"),
        br#"{"services":[]}"#,
        0,
        0,
    )
    .await
    .unwrap();
    let (t, payload, ..) = publish_parts(c.recv_publish(T).await.unwrap());
    assert_eq!(t, down);
    assert_eq!(json_of(&payload)["content"], "early");
    // Standard format: wrapped.
    let body = json!({"message_id": "m-1", "name": "greeting", "message": {"a": 1}});
    let (s, v) = rest(h, "POST", &p("messages"), Some(&body.to_string())).await;
    assert_eq!(s, 201);
    assert_eq!(v["message_id"], "m-1");
    assert_eq!(v["result"]["status"], "DELIVERED");
    let (t, payload, ..) = publish_parts(c.recv_publish(T).await.unwrap());
    assert_eq!(t, down);
    assert_eq!(
        json_of(&payload),
        json!({"object_device_id": DEV, "name": "greeting", "id": "m-1", "content": {"a": 1}})
    );
    // Raw: the message itself.
    let (s, _) = rest(
        h,
        "POST",
        &p("messages"),
        Some(r#"{"message":"plain text","payload_format":"raw"}"#),
    )
    .await;
    assert_eq!(s, 201);
    let (_, payload, ..) = publish_parts(c.recv_publish(T).await.unwrap());
    assert_eq!(payload, b"plain text");
    // Raw + base64: decoded bytes.
    let (s, _) = rest(
        h,
        "POST",
        &p("messages"),
        Some(r#"{"message":"/wAB","payload_format":"raw","encoding":"base64"}"#),
    )
    .await;
    assert_eq!(s, 201);
    let (_, payload, ..) = publish_parts(c.recv_publish(T).await.unwrap());
    assert_eq!(payload, vec![0xff, 0, 1]);
    // Custom topic, short and full names.
    let (s, _) = rest(
        h,
        "POST",
        &p("messages"),
        Some(r#"{"message":"x","topic":"ctl","payload_format":"raw"}"#),
    )
    .await;
    assert_eq!(s, 201);
    let (t, ..) = publish_parts(c.recv_publish(T).await.unwrap());
    assert_eq!(t, custom);
    let body = json!({"message": "y", "topic_full_name": custom, "payload_format": "raw"});
    let (s, _) = rest(h, "POST", &p("messages"), Some(&body.to_string())).await;
    assert_eq!(s, 201);
    let (t, payload, ..) = publish_parts(c.recv_publish(T).await.unwrap());
    assert_eq!(
        (t.as_str(), payload.as_slice()),
        (custom.as_str(), &b"y"[..])
    );
}

/// A device answering commands and property requests like an SDK would.
async fn responder(mut c: Client, id: &'static str) {
    while let Some(pkt) = c.recv_publish(Duration::from_secs(30)).await {
        let In::Publish { topic, payload, .. } = pkt else {
            return;
        };
        let req: Value = serde_json::from_slice(&payload).unwrap_or(Value::Null);
        let rid = topic.rsplit("request_id=").next().unwrap().to_string();
        let (resp_topic, body) = if topic.contains("/sys/commands/") {
            if req["command_name"] == "ignore" {
                continue;
            }
            (
                format!("$oc/devices/{id}/sys/commands/response/request_id={rid}"),
                json!({"result_code": 0, "response_name": "ok", "paras": {"echo": req["paras"]}}),
            )
        } else if topic.contains("/sys/properties/set/") {
            (
                format!("$oc/devices/{id}/sys/properties/set/response/request_id={rid}"),
                json!({"result_code": 0, "result_desc": format!("set {}", req["services"][0]["service_id"])}),
            )
        } else if topic.contains("/sys/properties/get/") {
            (
                format!("$oc/devices/{id}/sys/properties/get/response/request_id={rid}"),
                json!({"services": [{"service_id": req["service_id"], "properties": {"temp": 21.5}, "event_time": "20240101T000000Z"}]}),
            )
        } else {
            continue;
        };
        c.publish(&resp_topic, body.to_string().as_bytes(), 0, 0)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn commands_and_properties_synchronous() {
    let mut cfg = test_config();
    cfg.sync_timeout = Duration::from_millis(1500);
    let emu = start_with(cfg).await;
    let (a, h) = (emu.mqtt_addr(), emu.http_addr());
    // Offline device: an error at once.
    let (s, v) = rest(h, "POST", &p("commands"), Some(r#"{"paras":{}}"#)).await;
    assert_eq!((s, v["error_code"].as_str()), (409, Some("IOTDA.014016")));
    let mut c = login(a, DEV, SECRET).await;
    let subs = [
        topic(DEV, "sys/commands/#"),
        topic(DEV, "sys/properties/set/#"),
        topic(DEV, "sys/properties/get/#"),
    ];
    let filters: Vec<(&str, u8)> = subs.iter().map(|s| (s.as_str(), 0)).collect();
    assert_eq!(c.subscribe_wait(&filters, 1).await, Some(vec![0, 0, 0]));
    tokio::spawn(responder(c, DEV));
    // Command answered.
    let body = json!({"service_id": "Pump", "command_name": "start", "paras": {"speed": 3}});
    let (s, v) = rest(h, "POST", &p("commands"), Some(&body.to_string())).await;
    assert_eq!(s, 200, "{v}");
    assert!(v["command_id"].is_string());
    assert_eq!(v["response"]["result_code"], 0);
    assert_eq!(v["response"]["paras"]["echo"], json!({"speed": 3}));
    // Command not answered: 408 after the (test) timeout of 1.5 s.
    let t0 = std::time::Instant::now();
    let body = json!({"service_id": "Pump", "command_name": "ignore", "paras": {}});
    let (s, v) = rest(h, "POST", &p("commands"), Some(&body.to_string())).await;
    assert_eq!((s, v["error_code"].as_str()), (408, Some("IOTDA.014111")));
    assert!(t0.elapsed() >= Duration::from_millis(1400));
    // Properties set.
    let body = json!({"services": [{"service_id": "Pump", "properties": {"speed": 5}}]});
    let (s, v) = rest(h, "PUT", &p("properties"), Some(&body.to_string())).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["response"]["result_desc"], "set \"Pump\"");
    // Properties get.
    let (s, v) = rest(h, "GET", &p("properties?service_id=Pump"), None).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["response"]["services"][0]["service_id"], "Pump");
    assert_eq!(v["response"]["services"][0]["properties"]["temp"], 21.5);
    // The uplinks endpoint shows the responses.
    let (_, v) = rest(h, "GET", &format!("/emulator/devices/{DEV}/uplinks"), None).await;
    let topics: Vec<String> = v["uplinks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["topic"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(topics.len(), 3);
    assert!(topics[0].contains("/sys/commands/response/request_id="));
    assert!(topics[1].contains("/sys/properties/set/response/request_id="));
    assert!(topics[2].contains("/sys/properties/get/response/request_id="));
}

#[tokio::test]
async fn shadow_desired_and_reported() {
    let emu = start().await;
    let (a, h) = (emu.mqtt_addr(), emu.http_addr());
    let (s, v) = rest(h, "GET", &p("shadow"), None).await;
    assert_eq!((s, v["shadow"].clone()), (200, json!([])));
    let mut c = login(a, DEV, SECRET).await;
    let report = json!({"services": [{"service_id": "Meter", "properties": {"level": 7, "on": true}, "event_time": "20240102T030405Z"}]});
    c.publish(
        &topic(DEV, "sys/properties/report"),
        report.to_string().as_bytes(),
        1,
        1,
    )
    .await
    .unwrap();
    assert_eq!(c.recv(T).await, Some(In::PubAck(1)));
    let (_, v) = rest(h, "GET", &p("shadow"), None).await;
    let m = &v["shadow"][0];
    assert_eq!(m["service_id"], "Meter");
    assert_eq!(m["reported"]["properties"], json!({"level": 7, "on": true}));
    assert_eq!(m["reported"]["event_time"], "20240102T030405Z");
    assert_eq!(m["version"], 1);
    // Desired, with a version check.
    let body = json!({"shadow": [{"service_id": "Meter", "desired": {"level": 9}, "version": 1}]});
    let (s, v) = rest(h, "PUT", &p("shadow"), Some(&body.to_string())).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["shadow"][0]["desired"]["properties"], json!({"level": 9}));
    assert_eq!(v["shadow"][0]["reported"]["properties"]["level"], 7);
    assert_eq!(v["shadow"][0]["version"], 2);
    let (s, v) = rest(h, "PUT", &p("shadow"), Some(&body.to_string())).await;
    assert_eq!((s, v["error_code"].as_str()), (409, Some("IOTDA.014017")));
    // Reported update; malformed event_time replaced by the receive time.
    let report = json!({"services": [{"service_id": "Meter", "properties": {"level": 9}, "event_time": "bad"}]});
    c.publish(
        &topic(DEV, "sys/properties/report"),
        report.to_string().as_bytes(),
        1,
        2,
    )
    .await
    .unwrap();
    assert_eq!(c.recv(T).await, Some(In::PubAck(2)));
    let (_, v) = rest(h, "GET", &p("shadow"), None).await;
    let m = &v["shadow"][0];
    assert_eq!(m["reported"]["properties"], json!({"level": 9, "on": true}));
    assert_ne!(m["reported"]["event_time"], "bad");
    // The device asks for its shadow.
    let resp = topic(DEV, "sys/shadow/get/response/#");
    assert_eq!(c.subscribe_wait(&[(&resp, 0)], 3).await, Some(vec![0]));
    c.publish(
        &topic(DEV, "sys/shadow/get/request_id=abc"),
        json!({"object_device_id": DEV, "service_id": "Meter"})
            .to_string()
            .as_bytes(),
        0,
        0,
    )
    .await
    .unwrap();
    let (t, payload, ..) = publish_parts(c.recv_publish(T).await.unwrap());
    assert_eq!(t, topic(DEV, "sys/shadow/get/response/request_id=abc"));
    let v = json_of(&payload);
    assert_eq!(v["shadow"][0]["desired"]["properties"]["level"], 9);
}

#[tokio::test]
async fn time_sync_and_ota_events() {
    let emu = start().await;
    let (a, h) = (emu.mqtt_addr(), emu.http_addr());
    let mut c = login(a, DEV, SECRET).await;
    let down = topic(DEV, "sys/events/down");
    assert_eq!(c.subscribe_wait(&[(&down, 1)], 1).await, Some(vec![1]));
    let req = json!({"object_device_id": DEV, "services": [{"service_id": "$time_sync", "event_type": "time_sync_request", "event_time": "20240101T000000Z", "paras": {"device_send_time": 1_700_000_000_000_i64}}]});
    let before = iotda_emulator::state::now_ms();
    c.publish(
        &topic(DEV, "sys/events/up"),
        req.to_string().as_bytes(),
        0,
        0,
    )
    .await
    .unwrap();
    let (t, payload, qos, pid, _) = publish_parts(c.recv_publish(T).await.unwrap());
    assert_eq!((t.as_str(), qos), (down.as_str(), 1));
    c.send(&mqtt_core::codec::Packet::PubAck(pid.unwrap()))
        .await
        .unwrap();
    let v = json_of(&payload);
    let s = &v["services"][0];
    assert_eq!(s["service_id"], "$time_sync");
    assert_eq!(s["event_type"], "time_sync_response");
    assert_eq!(s["paras"]["device_send_time"], 1_700_000_000_000_i64);
    let recv = s["paras"]["server_recv_time"].as_i64().unwrap();
    let send = s["paras"]["server_send_time"].as_i64().unwrap();
    assert!(recv >= before && send >= recv && send - before < 5000);
    // $ota: version query sent on request, version report stored.
    let (st, v) = rest(
        h,
        "POST",
        &format!("/emulator/devices/{DEV}/ota/version_query"),
        None,
    )
    .await;
    assert_eq!((st, v["status"].as_str()), (200, Some("DELIVERED")));
    let (_, payload, ..) = publish_parts(c.recv_publish(T).await.unwrap());
    let v = json_of(&payload);
    assert_eq!(v["services"][0]["service_id"], "$ota");
    assert_eq!(v["services"][0]["event_type"], "version_query");
    let rep = json!({"object_device_id": DEV, "services": [{"service_id": "$ota", "event_type": "version_report", "event_time": "20240101T000000Z", "paras": {"sw_version": "1.2.3", "fw_version": "fw9"}}]});
    c.publish(
        &topic(DEV, "sys/events/up"),
        rep.to_string().as_bytes(),
        1,
        4,
    )
    .await
    .unwrap();
    loop {
        match c.recv(T).await {
            Some(In::PubAck(4)) => break,
            Some(In::Publish { .. }) => continue,
            other => panic!("{other:?}"),
        }
    }
    let (_, v) = rest(h, "GET", &format!("/v5/iot/local/devices/{DEV}"), None).await;
    assert_eq!(
        (v["sw_version"].as_str(), v["fw_version"].as_str()),
        (Some("1.2.3"), Some("fw9"))
    );
}

#[tokio::test]
async fn register_devices_through_rest() {
    let emu = start().await;
    let (a, h) = (emu.mqtt_addr(), emu.http_addr());
    let body = json!({"node_id": "n1", "product_id": "prodA", "auth_info": {"secret": "abcdefgh"}});
    let (s, v) = rest(h, "POST", "/v5/iot/local/devices", Some(&body.to_string())).await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["device_id"], "prodA_n1");
    assert!(
        v["auth_info"]["secret"].is_null(),
        "a given secret is not echoed"
    );
    let _ = login(a, "prodA_n1", "abcdefgh").await;
    let (s, v) = rest(h, "POST", "/v5/iot/local/devices", Some(&body.to_string())).await;
    assert_eq!((s, v["error_code"].as_str()), (409, Some("IOTDA.010002")));
    // Generated secret, returned once.
    let body = json!({"device_id": "gen_1", "node_id": "n2"});
    let (s, v) = rest(h, "POST", "/v5/iot/local/devices", Some(&body.to_string())).await;
    assert_eq!(s, 201);
    let secret = v["auth_info"]["secret"].as_str().unwrap().to_string();
    let _ = login(a, "gen_1", &secret).await;
    // Fixed pair (emulator extension of auth_info).
    let body = json!({"device_id": GUIDE_ID.replace("5fbb", "6fbb"), "node_id": "n3",
                      "auth_info": {"client_id": GUIDE_CID.replace("5fbb", "6fbb"), "password": GUIDE_PW}});
    let (s, v) = rest(h, "POST", "/v5/iot/local/devices", Some(&body.to_string())).await;
    assert_eq!(s, 201, "{v}");
    let o = ConnectOpts::new(
        &GUIDE_CID.replace("5fbb", "6fbb"),
        &GUIDE_ID.replace("5fbb", "6fbb"),
        GUIDE_PW,
    );
    assert_eq!(code_for(a, &o).await, Some(0));
    // Listing never shows secrets.
    let (_, v) = rest(h, "GET", "/emulator/devices", None).await;
    let text = v.to_string();
    assert!(!text.contains("abcdefgh") && !text.contains(&secret) && !text.contains(GUIDE_PW));
    assert_eq!(v["devices"].as_array().unwrap().len(), 6);
}

#[tokio::test]
async fn bad_requests_get_clear_errors() {
    let emu = start().await;
    let h = emu.http_addr();
    let cases: &[(&str, String, Option<&str>, u16, &str)] = &[
        ("POST", p("messages"), Some("not json"), 400, "IOTDA.000006"),
        ("POST", p("messages"), None, 400, "IOTDA.000006"),
        ("POST", p("messages"), Some("[1]"), 400, "IOTDA.000006"),
        (
            "POST",
            p("messages"),
            Some(r#"{"name":"x"}"#),
            400,
            "IOTDA.000006",
        ),
        (
            "POST",
            p("messages"),
            Some(r#"{"message":"x","payload_format":"xml"}"#),
            400,
            "IOTDA.000006",
        ),
        (
            "POST",
            p("messages"),
            Some(r#"{"message":"%%","payload_format":"raw","encoding":"base64"}"#),
            400,
            "IOTDA.000006",
        ),
        (
            "POST",
            p("messages"),
            Some(r#"{"message":"x","topic":"a/+/b"}"#),
            400,
            "IOTDA.000006",
        ),
        (
            "POST",
            p("commands"),
            Some(r#"{"service_id":"S"}"#),
            400,
            "IOTDA.000006",
        ),
        (
            "POST",
            p("commands"),
            Some(r#"{"paras":[]}"#),
            400,
            "IOTDA.000006",
        ),
        (
            "PUT",
            p("properties"),
            Some(r#"{"services":{}}"#),
            400,
            "IOTDA.000006",
        ),
        (
            "PUT",
            p("properties"),
            Some(r#"{"services":[{"service_id":"S"}]}"#),
            400,
            "IOTDA.000006",
        ),
        ("GET", p("properties"), None, 400, "IOTDA.000006"),
        (
            "PUT",
            p("shadow"),
            Some(r#"{"shadow":[{"service_id":"S"}]}"#),
            400,
            "IOTDA.000006",
        ),
        (
            "POST",
            "/v5/iot/local/devices".into(),
            Some(r#"{"device_id":"a/b","node_id":"n"}"#),
            400,
            "IOTDA.000006",
        ),
        (
            "POST",
            "/v5/iot/local/devices".into(),
            Some(r#"{"product_id":"p"}"#),
            400,
            "IOTDA.000006",
        ),
        (
            "POST",
            "/v5/iot/local/devices/nobody/messages".into(),
            Some(r#"{"message":"x"}"#),
            404,
            "IOTDA.010001",
        ),
        (
            "GET",
            "/v5/iot/local/devices/nobody/shadow".into(),
            None,
            404,
            "IOTDA.010001",
        ),
        (
            "GET",
            "/emulator/devices/nobody/uplinks".into(),
            None,
            404,
            "IOTDA.010001",
        ),
        (
            "POST",
            format!("/v5/iot/other/devices/{DEV}/messages"),
            Some(r#"{"message":"x"}"#),
            401,
            "IOTDA.000002",
        ),
        // Huawei's API gateway: no API at this path or with this method.
        ("DELETE", p("messages"), None, 404, "APIG.0101"),
        ("GET", "/nothing".into(), None, 404, "APIG.0101"),
        ("GET", "/v5/iot/local/things".into(), None, 404, "APIG.0101"),
    ];
    for (m, path, body, status, code) in cases {
        let (s, v) = rest(h, m, path, *body).await;
        assert_eq!(s, *status, "{m} {path} {body:?}: {v}");
        assert_eq!(v["error_code"], *code, "{m} {path} {body:?}: {v}");
        assert!(!v["error_msg"].as_str().unwrap().is_empty());
    }
}
