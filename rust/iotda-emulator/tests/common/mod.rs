#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

pub use iotda_emulator::client::{http, Client, ConnectOpts, In};
use iotda_emulator::{Config, DeviceConfig, Emulator};
use serde_json::Value;

pub const DEV: &str = "prod_dev1";
pub const SECRET: &str = "s3cret-123";
pub const DEV2: &str = "prod_dev2";
/// The guide's fixed pair (examples/huaweicloud_demo.py).
pub const GUIDE_ID: &str = "5fbbb784b4ec2202e982e643_868540050954037";
pub const GUIDE_CID: &str = "5fbbb784b4ec2202e982e643_868540050954037_0_0_2021011909";
pub const GUIDE_PW: &str = "8001a12405743199b3396943a2ed397286117a9ebab4f5dfda8dd6fafe341d94";

pub fn secret_device(id: &str, secret: &str) -> DeviceConfig {
    DeviceConfig {
        device_id: id.into(),
        secret: Some(secret.into()),
        client_id: None,
        password: None,
        certificate: false,
        fingerprint: None,
        node_id: None,
        product_id: None,
    }
}

pub fn test_config() -> Config {
    Config {
        mqtt: "127.0.0.1:0".parse().unwrap(),
        http: "127.0.0.1:0".parse().unwrap(),
        sync_timeout: Duration::from_secs(5),
        redelivery_interval: Duration::from_millis(200),
        log_uplinks: false,
        devices: vec![
            secret_device(DEV, SECRET),
            secret_device(DEV2, "other-secret"),
            DeviceConfig {
                device_id: GUIDE_ID.into(),
                secret: None,
                client_id: Some(GUIDE_CID.into()),
                password: Some(GUIDE_PW.into()),
                certificate: false,
                fingerprint: None,
                node_id: None,
                product_id: None,
            },
        ],
        ..Config::default()
    }
}

pub async fn start() -> Emulator {
    start_with(test_config()).await
}

pub async fn start_with(cfg: Config) -> Emulator {
    Emulator::start(cfg).await.expect("emulator starts")
}

pub fn now() -> i64 {
    iotda_emulator::state::now_secs()
}

/// A logged-in client for `id`/`secret` (sign type 0).
pub async fn login(addr: SocketAddr, id: &str, secret: &str) -> Client {
    let (c, code) = Client::connect(addr, &ConnectOpts::for_device(id, secret, 0, now()))
        .await
        .unwrap();
    assert_eq!(code, Some(0), "login of {id}");
    c
}

pub async fn code_for(addr: SocketAddr, o: &ConnectOpts) -> Option<u8> {
    Client::connect(addr, o).await.unwrap().1
}

pub async fn rest(addr: SocketAddr, method: &str, path: &str, body: Option<&str>) -> (u16, Value) {
    let (status, text) = http(addr, method, path, body).await.unwrap();
    let v = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, v)
}

pub fn topic(id: &str, rest: &str) -> String {
    format!("$oc/devices/{id}/{rest}")
}

pub const T: Duration = Duration::from_secs(3);

pub fn publish_parts(p: In) -> (String, Vec<u8>, u8, Option<u16>, bool) {
    match p {
        In::Publish {
            topic,
            payload,
            qos,
            pid,
            dup,
        } => (topic, payload, qos, pid, dup),
        other => panic!("expected PUBLISH, got {other:?}"),
    }
}

pub fn json_of(b: &[u8]) -> Value {
    serde_json::from_slice(b).unwrap()
}
