//! Gateways, files, logs and remote configuration end to end, with a raw
//! MQTT device (rules and sources in src/gateway.rs, src/files.rs,
//! src/services.rs).

mod common;

use common::*;
use serde_json::{json, Value};

fn events_up(id: &str, sid: &str, etype: &str, paras: Value) -> Vec<u8> {
    json!({"object_device_id": id, "services": [
        {"service_id": sid, "event_type": etype, "event_id": "ev-1", "paras": paras}]})
    .to_string()
    .into_bytes()
}

/// The next events/down service entry.
async fn next_event(c: &mut Client) -> Value {
    let (t, payload, ..) = publish_parts(c.recv_publish(T).await.expect("an event"));
    assert!(t.ends_with("/sys/events/down"), "{t}");
    json_of(&payload)["services"][0].clone()
}

async fn device(emu: &iotda_emulator::Emulator) -> Client {
    let mut c = login(emu.mqtt_addr(), DEV, SECRET).await;
    let f = topic(DEV, "sys/events/down");
    assert_eq!(c.subscribe_wait(&[(&f, 0)], 1).await, Some(vec![0]));
    c
}

#[tokio::test]
async fn gateway_requests_and_rest_children() {
    let emu = start().await;
    let h = emu.http_addr();
    let mut c = device(&emu).await;
    let up = topic(DEV, "sys/events/up");
    let add = json!({"devices": [{"node_id": "n1", "product_id": "p"}, {"node_id": "n2"}]});
    c.publish(
        &up,
        &events_up(DEV, "$sub_device_manager", "add_sub_device_request", add),
        0,
        0,
    )
    .await
    .unwrap();
    let e = next_event(&mut c).await;
    assert_eq!(e["event_type"], "add_sub_device_response");
    assert_eq!(e["event_id"], "ev-1", "the request's event id comes back");
    assert_eq!(e["paras"]["successful_devices"][0]["device_id"], "p_n1");
    assert_eq!(
        e["paras"]["failed_devices"][0]["error_code"],
        "IOTDA.000006"
    );

    // REST: a child under the gateway, listed, notified, deleted.
    let (s, v) = rest(
        h,
        "POST",
        "/v5/iot/local/devices",
        Some(&json!({"node_id": "n3", "product_id": "p", "gateway_id": DEV}).to_string()),
    )
    .await;
    assert_eq!((s, v["gateway_id"].as_str()), (201, Some(DEV)));
    let e = next_event(&mut c).await;
    assert_eq!(e["event_type"], "add_sub_device_notify");
    assert_eq!(e["paras"]["devices"][0]["device_id"], "p_n3");
    assert_eq!(e["paras"]["version"], 2);
    let (_, v) = rest(
        h,
        "GET",
        &format!("/v5/iot/local/devices?gateway_id={DEV}"),
        None,
    )
    .await;
    let ids: Vec<&str> = v["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["device_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["p_n1", "p_n3"]);
    let (_, v) = rest(h, "GET", &format!("/v5/iot/local/devices/{DEV}"), None).await;
    assert_eq!(v["node_type"], "GATEWAY");
    let (s, _) = rest(h, "DELETE", "/v5/iot/local/devices/p_n3", None).await;
    assert_eq!(s, 204);
    let e = next_event(&mut c).await;
    assert_eq!(e["event_type"], "delete_sub_device_notify");
    assert_eq!(e["paras"]["version"], 3);
    // A child of a child, and an unknown gateway: 400.
    for gw in ["p_n1", "nope"] {
        let (s, v) = rest(
            h,
            "POST",
            "/v5/iot/local/devices",
            Some(&json!({"node_id": "n4", "product_id": "p", "gateway_id": gw}).to_string()),
        )
        .await;
        assert_eq!(
            (s, v["error_code"].as_str()),
            (400, Some("IOTDA.000006")),
            "{gw}"
        );
    }
    // Commands to the child go down the gateway's topic, answered there.
    let cmd = topic(DEV, "sys/commands/#");
    assert_eq!(c.subscribe_wait(&[(&cmd, 0)], 2).await, Some(vec![0]));
    let call = tokio::spawn(rest(
        h,
        "POST",
        "/v5/iot/local/devices/p_n1/commands",
        Some(r#"{"paras":{}}"#),
    ));
    let (t, payload, ..) = publish_parts(c.recv_publish(T).await.unwrap());
    assert!(
        t.starts_with(&topic(DEV, "sys/commands/request_id=")),
        "{t}"
    );
    assert_eq!(json_of(&payload)["object_device_id"], "p_n1");
    let rid = t.rsplit('=').next().unwrap();
    c.publish(
        &topic(DEV, &format!("sys/commands/response/request_id={rid}")),
        br#"{"result_code":0}"#,
        0,
        0,
    )
    .await
    .unwrap();
    let (s, v) = call.await.unwrap();
    assert_eq!((s, v["response"]["result_code"].as_i64()), (200, Some(0)));
    // Sync from version 0: one add and one delete notification.
    c.publish(
        &up,
        &events_up(
            DEV,
            "$sub_device_manager",
            "sub_device_sync_request",
            json!({"version": 0}),
        ),
        0,
        0,
    )
    .await
    .unwrap();
    let a = next_event(&mut c).await;
    let d = next_event(&mut c).await;
    assert_eq!(
        (a["event_type"].as_str(), d["event_type"].as_str()),
        (
            Some("add_sub_device_notify"),
            Some("delete_sub_device_notify")
        )
    );
    assert_eq!(a["paras"]["devices"].as_array().unwrap().len(), 2);
    assert_eq!(d["paras"]["version"], 3);
    // Events about a child go down the gateway's topic, naming the child.
    let (s, _) = rest(
        h,
        "POST",
        "/emulator/devices/p_n1/config",
        Some(r#"{"config_content":{"k":2}}"#),
    )
    .await;
    assert_eq!(s, 200);
    let (t, payload, ..) = publish_parts(c.recv_publish(T).await.unwrap());
    assert_eq!(t, topic(DEV, "sys/events/down"));
    assert_eq!(json_of(&payload)["object_device_id"], "p_n1");
    let url_req = json!({"object_device_id": "p_n1", "services": [{"service_id": "$file_manager",
        "event_type": "get_upload_url", "paras": {"file_name": "c.txt"}}]});
    c.publish(&up, url_req.to_string().as_bytes(), 0, 0)
        .await
        .unwrap();
    let (t, payload, ..) = publish_parts(c.recv_publish(T).await.unwrap());
    assert_eq!(t, topic(DEV, "sys/events/down"));
    let v = json_of(&payload);
    assert_eq!(
        (
            v["object_device_id"].as_str(),
            v["services"][0]["paras"]["object_name"].as_str()
        ),
        (Some("p_n1"), Some("p_n1_c.txt"))
    );
}

#[tokio::test]
async fn file_urls_and_the_obs_stand_in() {
    let emu = start().await;
    let h = emu.http_addr();
    let mut c = device(&emu).await;
    let up = topic(DEV, "sys/events/up");
    c.publish(
        &up,
        &events_up(
            DEV,
            "$file_manager",
            "get_upload_url",
            json!({"file_name": "a b.txt"}),
        ),
        0,
        0,
    )
    .await
    .unwrap();
    let e = next_event(&mut c).await;
    assert_eq!(e["event_type"], "get_upload_url_response");
    let obj = format!("{DEV}_a b.txt");
    assert_eq!(e["paras"]["object_name"], obj.as_str());
    assert_eq!(e["paras"]["expire"], 3600);
    let url = e["paras"]["url"].as_str().unwrap();
    let path = &url[url.find("/obs/").unwrap()..];
    assert!(path.contains("a%20b.txt?token="), "{path}");
    let (s, _) = http(h, "PUT", path, Some("hello")).await.unwrap();
    assert_eq!(s, 200);
    let (s, body) = http(
        h,
        "GET",
        &format!("/emulator/files/{}", obj.replace(' ', "%20")),
        None,
    )
    .await
    .unwrap();
    assert_eq!((s, body.as_str()), (200, "hello"));
    // The upload URL does not read, a changed token does not match, no token is denied.
    let (s, body) = http(h, "GET", path, None).await.unwrap();
    assert!(
        s == 403 && body.contains("SignatureDoesNotMatch"),
        "{s} {body}"
    );
    let (s, _) = http(h, "PUT", &path.replace("token=", "token=x"), Some("x"))
        .await
        .unwrap();
    assert_eq!(s, 403);
    let (s, body) = http(h, "PUT", path.split('?').next().unwrap(), Some("x"))
        .await
        .unwrap();
    assert!(s == 403 && body.contains("AccessDenied"), "{s} {body}");
    // A download URL for a missing object: 404 NoSuchKey.
    c.publish(
        &up,
        &events_up(
            DEV,
            "$file_manager",
            "get_download_url",
            json!({"file_name": "none.bin"}),
        ),
        0,
        0,
    )
    .await
    .unwrap();
    let e = next_event(&mut c).await;
    let url = e["paras"]["url"].as_str().unwrap();
    let (s, body) = http(h, "GET", &url[url.find("/obs/").unwrap()..], None)
        .await
        .unwrap();
    assert!(s == 404 && body.contains("NoSuchKey"), "{s} {body}");
    // A file name with a path gets no URL; results are recorded.
    c.publish(
        &up,
        &events_up(
            DEV,
            "$file_manager",
            "get_upload_url",
            json!({"file_name": "../x"}),
        ),
        0,
        0,
    )
    .await
    .unwrap();
    assert_eq!(
        c.recv_publish(std::time::Duration::from_millis(300)).await,
        None
    );
    let res = json!({"object_name": obj, "result_code": 0, "status_code": 200});
    c.publish(
        &up,
        &events_up(DEV, "$file_manager", "upload_result_report", res),
        1,
        7,
    )
    .await
    .unwrap();
    c.recv(T).await; // PUBACK
    let (_, v) = rest(h, "GET", "/emulator/files", None).await;
    assert_eq!(v["files"][0]["upload_result"]["result_code"], 0);
    assert_eq!(v["files"][0]["size"], 5);
}

#[tokio::test]
async fn logs_sdk_info_and_remote_configuration() {
    let emu = start().await;
    let h = emu.http_addr();
    let mut c = device(&emu).await;
    let up = topic(DEV, "sys/events/up");
    let base = format!("/emulator/devices/{DEV}");
    for (body, code) in [
        (r#"{"switch":"yes"}"#, 400),
        (r#"{"switch":"on","end_time":"tomorrow"}"#, 400),
    ] {
        assert_eq!(
            rest(h, "POST", &format!("{base}/log_config"), Some(body))
                .await
                .0,
            code
        );
    }
    let (s, v) = rest(
        h,
        "POST",
        "/emulator/devices/nope/log_config",
        Some(r#"{"switch":"on"}"#),
    )
    .await;
    assert_eq!((s, v["error_code"].as_str()), (404, Some("IOTDA.010001")));
    let log = |t: &str, content: &str| {
        events_up(
            DEV,
            "$log",
            "log_report",
            json!({"type": t, "content": content}),
        )
    };
    c.publish(&up, &log("DEVICE_STATUS", "before"), 0, 0)
        .await
        .unwrap();
    let (s, _) = rest(
        h,
        "POST",
        &format!("{base}/log_config"),
        Some(r#"{"switch":"on"}"#),
    )
    .await;
    assert_eq!(s, 200);
    let e = next_event(&mut c).await;
    assert_eq!(
        (e["service_id"].as_str(), e["paras"]["switch"].as_str()),
        (Some("$log"), Some("on"))
    );
    c.publish(&up, &log("DEVICE_STATUS", "during"), 0, 0)
        .await
        .unwrap();
    c.publish(&up, &log("DEVICE_MOOD", "bad type"), 0, 0)
        .await
        .unwrap();
    c.publish(
        &up,
        &events_up(
            "someone_else",
            "$log",
            "log_report",
            json!({"type": "DEVICE_STATUS", "content": "x"}),
        ),
        0,
        0,
    )
    .await
    .unwrap();
    c.publish(
        &up,
        &events_up(
            DEV,
            "$sdk_info",
            "sdk_info_report",
            json!({"device_sdk_version": "v9"}),
        ),
        1,
        3,
    )
    .await
    .unwrap();
    c.recv(T).await; // PUBACK: everything before it was handled
    let (_, v) = rest(h, "GET", &format!("{base}/logs"), None).await;
    let got: Vec<(bool, bool)> = v["logs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["collecting"].as_bool().unwrap(), l["rejected"].is_null()))
        .collect();
    assert_eq!(got, [(false, true), (true, true), (true, false)], "{v}");
    let (_, v) = rest(h, "GET", &format!("{base}/sdk_info"), None).await;
    assert_eq!(v["sdk_info"]["device_sdk_version"], "v9");

    assert_eq!(
        rest(
            h,
            "POST",
            &format!("{base}/config"),
            Some(r#"{"config_content":[1]}"#)
        )
        .await
        .0,
        400
    );
    let (s, v) = rest(
        h,
        "POST",
        &format!("{base}/config"),
        Some(r#"{"config_content":{"k":1}}"#),
    )
    .await;
    assert_eq!((s, v["delivery"].as_str()), (200, Some("DELIVERED")));
    let e = next_event(&mut c).await;
    assert_eq!(e["paras"]["config_content"], json!({"k": 1}));
    assert_eq!(
        rest(h, "GET", &format!("{base}/config"), None).await.1["status"],
        "WAITING"
    );
    let r = events_up(
        DEV,
        "$device_config",
        "config_update_response",
        json!({"result_code": 3, "description": "no"}),
    );
    c.publish(&up, &r, 1, 4).await.unwrap();
    c.recv(T).await;
    let (_, v) = rest(h, "GET", &format!("{base}/config"), None).await;
    assert_eq!(
        (v["status"].as_str(), v["result_code"].as_i64()),
        (Some("FAILED"), Some(3))
    );
}

#[tokio::test]
async fn file_urls_name_loopback_for_a_listener_on_every_address() {
    let mut cfg = test_config();
    cfg.http = "0.0.0.0:0".parse().unwrap();
    let emu = start_with(cfg).await;
    let mut c = device(&emu).await;
    let up = topic(DEV, "sys/events/up");
    let req = events_up(
        DEV,
        "$file_manager",
        "get_download_url",
        json!({"file_name": "x"}),
    );
    c.publish(&up, &req, 0, 0).await.unwrap();
    let e = next_event(&mut c).await;
    let want = format!("http://127.0.0.1:{}/obs/", emu.http_addr().port());
    assert!(
        e["paras"]["url"].as_str().unwrap().starts_with(&want),
        "{e}"
    );
}
