//! IoTDA's login rules and limits on the device side.

mod common;

use std::time::Duration;

use common::*;
use iotda_emulator::client::In;
use mqtt_core::codec::Protocol;

fn stamp_at(secs: i64) -> [u8; 10] {
    iotda::time::DateTime::from_unix(secs).unwrap().hour_stamp()
}

#[tokio::test]
async fn connack_codes() {
    let emu = start().await;
    let a = emu.mqtt_addr();
    let ok = ConnectOpts::for_device(DEV, SECRET, 0, now());
    assert_eq!(code_for(a, &ok).await, Some(0), "sign type 0, current hour");
    // Sign type 0: the stamp is not checked against the clock (any valid hour).
    let old = ConnectOpts::for_device_at(DEV, SECRET, 0, b"2018072417");
    assert_eq!(code_for(a, &old).await, Some(0), "sign type 0, old hour");
    // MQTT 3.1 accepted too.
    let mut v31 = ok.clone();
    v31.protocol = Protocol::V31;
    assert_eq!(code_for(a, &v31).await, Some(0), "MQTT 3.1");
    // Keepalive bounds 30..=1200.
    for (ka, want) in [(29, 2), (0, 2), (1201, 2), (30, 0), (1200, 0)] {
        let mut o = ok.clone();
        o.keepalive = ka;
        assert_eq!(code_for(a, &o).await, Some(want), "keepalive {ka}");
    }
    // Malformed ClientIds -> 0x02.
    for cid in [
        "prod_dev1",
        "prod_dev1_0_0_202101190",
        "prod_dev1_1_0_2021011909",
        "prod_dev1_0_3_2021011909",
        "prod_dev1_0_0_2021013224",
        "_0_0_2021011909",
        "",
    ] {
        let mut o = ok.clone();
        o.client_id = cid.into();
        assert_eq!(code_for(a, &o).await, Some(2), "client id {cid:?}");
    }
    // Unknown device -> 0x05.
    let unknown = ConnectOpts::for_device("nobody_here", SECRET, 0, now());
    assert_eq!(code_for(a, &unknown).await, Some(5), "unknown device");
    // Bad credentials -> 0x04.
    let mut o = ok.clone();
    o.username = Some(DEV2.into());
    assert_eq!(code_for(a, &o).await, Some(4), "username not the device id");
    let mut o = ok.clone();
    o.username = None;
    o.password = None;
    assert_eq!(code_for(a, &o).await, Some(4), "no username/password");
    let wrong = ConnectOpts::for_device(DEV, "wrong secret", 0, now());
    assert_eq!(code_for(a, &wrong).await, Some(4), "wrong secret");
    // Password made for another hour than the ClientId's.
    let mut o = ConnectOpts::for_device_at(DEV, SECRET, 0, b"2021011909");
    o.client_id = format!("{DEV}_0_0_2021011910");
    assert_eq!(code_for(a, &o).await, Some(4), "stamp/password mismatch");
    // Will -> refused with 0x05 (IoTDA has no will messages).
    let mut o = ok.clone();
    o.will = true;
    assert_eq!(code_for(a, &o).await, Some(5), "will flag");
    // Protocol level 5 (MQTT 5) -> 0x01 (this emulator speaks 3.1/3.1.1).
    let mut c = Client::tcp(a).await.unwrap();
    c.send_raw(&[0x10, 10, 0, 4, b'M', b'Q', b'T', b'T', 5, 2, 0, 60])
        .await
        .unwrap();
    assert_eq!(c.recv(T).await, Some(In::ConnAck(1)));
}

#[tokio::test]
async fn sign_type_1_hour_tolerance() {
    let mut cfg = test_config();
    cfg.sign1_tolerance_hours = 1;
    let emu = start_with(cfg).await;
    let a = emu.mqtt_addr();
    let t = now();
    for (off, want) in [(0, 0), (-1, 0), (1, 0), (-2, 4), (2, 4), (-24 * 365, 4)] {
        let o = ConnectOpts::for_device_at(DEV, SECRET, 1, &stamp_at(t + off * 3600));
        assert_eq!(code_for(a, &o).await, Some(want), "sign 1, {off} h");
    }
    // Tolerance 0: only the current hour (retry once across an hour edge).
    let mut cfg = test_config();
    cfg.sign1_tolerance_hours = 0;
    let emu = start_with(cfg).await;
    let a = emu.mqtt_addr();
    let prev = ConnectOpts::for_device_at(DEV, SECRET, 1, &stamp_at(now() - 3600));
    assert_eq!(code_for(a, &prev).await, Some(4));
    let cur = ConnectOpts::for_device(DEV, SECRET, 1, now());
    assert_eq!(code_for(a, &cur).await, Some(0));
}

/// Sign type 2 (HMAC-SM3, as Huawei's C SDK signs it): the password is
/// HMAC-SM3(stamp, secret) and the stamp is checked like sign type 1's.
#[tokio::test]
async fn sign_type_2_hmac_sm3() {
    let emu = start().await;
    let a = emu.mqtt_addr();
    let t = now();
    let sm3 = ConnectOpts::for_device(DEV, SECRET, 2, t);
    assert!(sm3.client_id.contains("_0_2_"), "{}", sm3.client_id);
    assert_eq!(code_for(a, &sm3).await, Some(0), "HMAC-SM3 login");
    // An HMAC-SHA256 password under sign type 2, and the SM3 one under 1: refused.
    let mut sha = ConnectOpts::for_device(DEV, SECRET, 1, t);
    sha.client_id = sha.client_id.replace("_0_1_", "_0_2_");
    assert_eq!(code_for(a, &sha).await, Some(4), "SHA-256 password, sign 2");
    let mut swapped = sm3.clone();
    swapped.client_id = swapped.client_id.replace("_0_2_", "_0_1_");
    assert_eq!(code_for(a, &swapped).await, Some(4), "SM3 password, sign 1");
    let wrong = ConnectOpts::for_device(DEV, "wrong secret", 2, t);
    assert_eq!(code_for(a, &wrong).await, Some(4), "wrong secret");
    // The hour stamp is checked (tolerance 1 h by default).
    let old = ConnectOpts::for_device_at(DEV, SECRET, 2, &stamp_at(t - 3 * 3600));
    assert_eq!(code_for(a, &old).await, Some(4), "sign 2, 3 h old");
    // The known vector: hmac.new(b"2018072417", b"secret123", "sm3") (CPython).
    let v = ConnectOpts::for_device_at("d", "secret123", 2, b"2018072417");
    assert_eq!(
        v.password.as_deref(),
        Some("4709b9d490c792f0d53199c71c5b59314f9a84953b617a839aaf38c3f8f3f7cc")
    );
}

#[tokio::test]
async fn fixed_pair_from_huaweis_tool() {
    let emu = start().await;
    let a = emu.mqtt_addr();
    let mut o = ConnectOpts::new(GUIDE_CID, GUIDE_ID, GUIDE_PW);
    o.keepalive = 30;
    assert_eq!(code_for(a, &o).await, Some(0));
    let mut wrong = o.clone();
    wrong.password = Some(GUIDE_PW.replace('8', "9"));
    assert_eq!(code_for(a, &wrong).await, Some(4));
    let mut other_hour = o.clone();
    other_hour.client_id = GUIDE_CID.replace("2021011909", "2021011910");
    assert_eq!(code_for(a, &other_hour).await, Some(4));
}

#[tokio::test]
async fn second_login_kicks_the_first() {
    let emu = start().await;
    let a = emu.mqtt_addr();
    let mut first = login(a, DEV, SECRET).await;
    let mut second = login(a, DEV, SECRET).await;
    assert!(first.closed_within(T).await, "first connection dropped");
    // The second stays usable.
    second
        .send(&mqtt_core::codec::Packet::PingReq)
        .await
        .unwrap();
    assert_eq!(second.recv(T).await, Some(In::PingResp));
    let (_, devs) = rest(emu.http_addr(), "GET", "/emulator/devices", None).await;
    let d = devs["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["device_id"] == DEV)
        .unwrap()
        .clone();
    assert_eq!(d["online"], true);
    assert_eq!(d["logins"], 2);
}

#[tokio::test]
async fn publish_limits_disconnect() {
    let emu = start().await;
    let a = emu.mqtt_addr();
    let report = topic(DEV, "sys/properties/report");
    // QoS 2 publish.
    let mut c = login(a, DEV, SECRET).await;
    c.publish(&report, b"{}", 2, 7).await.unwrap();
    assert!(c.closed_within(T).await, "QoS 2 PUBLISH closes");
    // Retain.
    let mut c = login(a, DEV, SECRET).await;
    c.send(&mqtt_core::codec::Packet::Publish(
        mqtt_core::codec::Publish {
            dup: false,
            qos_pid: mqtt_core::codec::QosPid::AtMostOnce,
            retain: true,
            topic: report.as_bytes(),
            payload: b"{}",
        },
    ))
    .await
    .unwrap();
    assert!(c.closed_within(T).await, "retained PUBLISH closes");
    // Foreign topics.
    for t in [
        topic(DEV2, "sys/properties/report"),
        "$oc/devices/prod_dev1x/sys/messages/up".to_string(),
        "$oc/other/topic".to_string(),
    ] {
        let mut c = login(a, DEV, SECRET).await;
        c.publish(&t, b"x", 1, 1).await.unwrap();
        assert!(c.closed_within(T).await, "PUBLISH on {t} closes");
    }
    // Exactly 1 MB is accepted (PUBACK); over 1 MB: platform_rules.rs.
    let mut c = login(a, DEV, SECRET).await;
    let big = vec![b'a'; 1024 * 1024];
    c.publish(&topic(DEV, "sys/messages/up"), &big, 1, 3)
        .await
        .unwrap();
    assert_eq!(c.recv(Duration::from_secs(10)).await, Some(In::PubAck(3)));
    // Only the accepted 1 MB message was recorded.
    let (_, ups) = rest(
        emu.http_addr(),
        "GET",
        &format!("/emulator/devices/{DEV}/uplinks"),
        None,
    )
    .await;
    assert_eq!(ups["count"], 1);
}

#[tokio::test]
async fn subscribe_limits_suback_0x80() {
    let emu = start().await;
    let mut c = login(emu.mqtt_addr(), DEV, SECRET).await;
    let own = topic(DEV, "sys/messages/down");
    let own_wild = topic(DEV, "sys/commands/#");
    let foreign = topic(DEV2, "sys/messages/down");
    let codes = c
        .subscribe_wait(
            &[
                (&own, 1),
                (&own_wild, 0),
                (&own, 2),
                (&foreign, 0),
                ("$oc/devices/+/sys/messages/down", 0),
                ("#", 0),
            ],
            5,
        )
        .await
        .unwrap();
    assert_eq!(codes, vec![1, 0, 0x80, 0x80, 0x80, 0x80]);
    // Still connected.
    c.send(&mqtt_core::codec::Packet::PingReq).await.unwrap();
    assert_eq!(c.recv(T).await, Some(In::PingResp));
}

#[tokio::test]
async fn keepalive_silence_drops() {
    // TEST ONLY knob: silence limit = 1.5 x 30 s x 0.02 = 0.9 s.
    let mut cfg = test_config();
    cfg.keepalive_scale = 0.02;
    let emu = start_with(cfg).await;
    let a = emu.mqtt_addr();
    let mut o = ConnectOpts::for_device(DEV, SECRET, 0, now());
    o.keepalive = 30;
    // Pinging every 0.3 s keeps it alive for 2 s.
    let (mut c, code) = Client::connect(a, &o).await.unwrap();
    assert_eq!(code, Some(0));
    for _ in 0..7 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        c.send(&mqtt_core::codec::Packet::PingReq).await.unwrap();
        assert_eq!(c.recv(T).await, Some(In::PingResp));
    }
    // Then silence: dropped after ~0.9 s, not before 0.8 s.
    let t0 = std::time::Instant::now();
    assert!(c.closed_within(Duration::from_secs(3)).await);
    let took = t0.elapsed();
    assert!(
        took >= Duration::from_millis(800),
        "dropped too early: {took:?}"
    );
}

#[tokio::test]
async fn malformed_bytes_close_only_that_connection() {
    let emu = start().await;
    let a = emu.mqtt_addr();
    let mut good = login(a, DEV2, "other-secret").await;
    // Garbage before CONNECT.
    let mut c = Client::tcp(a).await.unwrap();
    c.send_raw(&[0xff, 0xff, 0xff, 0xff, 0xff, 0x01])
        .await
        .unwrap();
    assert!(c.closed_within(T).await);
    // Garbage after login (reserved packet type 0; then a bad varint).
    let mut c = login(a, DEV, SECRET).await;
    c.send_raw(&[0x00, 0x00]).await.unwrap();
    assert!(c.closed_within(T).await);
    let mut c = login(a, DEV, SECRET).await;
    c.send_raw(&[0x30, 0xff, 0xff, 0xff, 0xff, 0x7f])
        .await
        .unwrap();
    assert!(c.closed_within(T).await);
    // A SUBSCRIBE claiming 200 MB is refused from its header (an oversized
    // PUBLISH is skipped instead: platform_rules.rs).
    let mut c = login(a, DEV, SECRET).await;
    c.send_raw(&[0x82, 0x80, 0x80, 0x80, 0x64]).await.unwrap();
    assert!(c.closed_within(T).await);
    // PUBREL (QoS 2 flow) and server packets close too.
    let mut c = login(a, DEV, SECRET).await;
    c.send_raw(&[0x62, 0x02, 0x00, 0x01]).await.unwrap();
    assert!(c.closed_within(T).await);
    // Something other than CONNECT first.
    let mut c = Client::tcp(a).await.unwrap();
    c.send(&mqtt_core::codec::Packet::PingReq).await.unwrap();
    assert!(c.closed_within(T).await);
    // The other device and the emulator are fine.
    good.send(&mqtt_core::codec::Packet::PingReq).await.unwrap();
    assert_eq!(good.recv(T).await, Some(In::PingResp));
    let _ = login(a, DEV, SECRET).await;
}

#[tokio::test]
async fn qos1_downlink_redelivery() {
    // Redelivery interval 200 ms in tests (2 s by default), 3 times.
    let emu = start().await;
    let (a, h) = (emu.mqtt_addr(), emu.http_addr());
    let down = topic(DEV, "sys/messages/down");
    let mut c = login(a, DEV, SECRET).await;
    assert_eq!(c.subscribe_wait(&[(&down, 1)], 1).await, Some(vec![1]));
    let (s, _) = rest(
        h,
        "POST",
        &format!("/v5/iot/local/devices/{DEV}/messages"),
        Some(r#"{"message":"hello","payload_format":"raw"}"#),
    )
    .await;
    assert_eq!(s, 201);
    let (t, p, q, pid, dup) = publish_parts(c.recv_publish(T).await.unwrap());
    assert_eq!(
        (t.as_str(), p.as_slice(), q, dup),
        (down.as_str(), &b"hello"[..], 1, false)
    );
    let pid = pid.unwrap();
    for n in 1..=3 {
        let (_, p, _, again, dup) = publish_parts(c.recv_publish(T).await.unwrap());
        assert_eq!(
            (p.as_slice(), again, dup),
            (&b"hello"[..], Some(pid), true),
            "redelivery {n}"
        );
    }
    assert_eq!(
        c.recv_publish(Duration::from_millis(800)).await,
        None,
        "only 3 redeliveries"
    );
    // After a reconnect it comes again; PUBACK ends it.
    drop(c);
    let mut c = login(a, DEV, SECRET).await;
    assert_eq!(c.subscribe_wait(&[(&down, 1)], 1).await, Some(vec![1]));
    let (_, p, q, pid, _) = publish_parts(c.recv_publish(T).await.unwrap());
    assert_eq!((p.as_slice(), q), (&b"hello"[..], 1));
    c.send(&mqtt_core::codec::Packet::PubAck(pid.unwrap()))
        .await
        .unwrap();
    assert_eq!(
        c.recv_publish(Duration::from_millis(700)).await,
        None,
        "acked: no redelivery"
    );
    drop(c);
    let mut c = login(a, DEV, SECRET).await;
    assert_eq!(c.subscribe_wait(&[(&down, 1)], 1).await, Some(vec![1]));
    assert_eq!(
        c.recv_publish(Duration::from_millis(500)).await,
        None,
        "acked: not after reconnect"
    );
}

#[tokio::test]
async fn uplinks_are_recorded_in_order_and_acked() {
    let emu = start().await;
    let (a, h) = (emu.mqtt_addr(), emu.http_addr());
    let mut c = login(a, DEV, SECRET).await;
    c.publish(&topic(DEV, "sys/messages/up"), b"first", 0, 0)
        .await
        .unwrap();
    c.publish(&topic(DEV, "user/custom/x"), &[0xff, 0x00, 0x01], 1, 9)
        .await
        .unwrap();
    assert_eq!(c.recv(T).await, Some(In::PubAck(9)));
    let (s, v) = rest(h, "GET", &format!("/emulator/devices/{DEV}/uplinks"), None).await;
    assert_eq!(s, 200);
    let ups = v["uplinks"].as_array().unwrap();
    assert_eq!(ups.len(), 2);
    assert_eq!(ups[0]["payload"], "first");
    assert_eq!(ups[0]["encoding"], "utf8");
    assert_eq!(ups[0]["qos"], 0);
    assert_eq!(ups[1]["topic"], topic(DEV, "user/custom/x"));
    assert_eq!(ups[1]["payload"], "/wAB");
    assert_eq!(ups[1]["encoding"], "base64");
    assert_eq!(ups[1]["qos"], 1);
    assert_eq!(ups[0]["time"].as_str().unwrap().len(), 16);
    let (_, v) = rest(
        h,
        "GET",
        &format!("/emulator/devices/{DEV}/uplinks?since=1"),
        None,
    )
    .await;
    assert_eq!(v["uplinks"].as_array().unwrap().len(), 1);
}
