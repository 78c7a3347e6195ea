//! Certificate (X.509) devices on the TLS listener, and the bootstrap
//! (IoTDP) exchange.

mod common;

use std::path::PathBuf;
use std::sync::Arc;

use common::*;
use iotda_emulator::{tls, x509, DeviceConfig, TlsSource};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

const CERT_DEV: &str = "prod_certdev";
const BIND_DEV: &str = "prod_binddev";

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("iotda-x509-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// A TLS client config trusting `dir`'s CA, presenting `cert` if given.
fn client(dir: &std::path::Path, cert: Option<&x509::DeviceCert>) -> Arc<rustls::ClientConfig> {
    let Some(cert) = cert else {
        return tls::client_config(&dir.join("ca.pem")).unwrap();
    };
    let mut roots = rustls::RootCertStore::empty();
    let ca = std::fs::read(dir.join("ca.der")).unwrap();
    roots.add(CertificateDer::from(ca)).unwrap();
    let der = std::fs::read(&cert.cert_der).unwrap();
    let key = std::fs::read(&cert.key_der).unwrap();
    let cfg = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_client_auth_cert(
        vec![CertificateDer::from(der)],
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key)),
    )
    .unwrap();
    Arc::new(cfg)
}

/// What a certificate device sends: ClientId and username as for secrets,
/// no password.
fn cert_login(id: &str) -> ConnectOpts {
    let mut o = ConnectOpts::for_device(id, "", 0, now());
    o.password = None;
    o
}

#[tokio::test]
async fn certificate_devices_log_in_by_fingerprint() {
    let dir = tmp("login");
    // The test CA and two device certificates signed by it, before start.
    tls::generate(&dir, &[]).unwrap();
    let good = x509::generate_device_cert(&dir, CERT_DEV).unwrap();
    let other = x509::generate_device_cert(&dir, "someone_else").unwrap();
    assert_ne!(good.fingerprint, other.fingerprint);
    assert_eq!(
        good.fingerprint,
        x509::fingerprint(&std::fs::read(&good.cert_der).unwrap())
    );
    let mut cfg = test_config();
    cfg.mqtts = Some("127.0.0.1:0".parse().unwrap());
    cfg.tls = Some(TlsSource::Generate {
        dir: dir.clone(),
        names: vec![],
    });
    // Registered with the certificate's fingerprint in upper case with colons.
    let colons: Vec<String> = good
        .fingerprint
        .as_bytes()
        .chunks(2)
        .map(|c| String::from_utf8_lossy(c).to_uppercase())
        .collect();
    cfg.devices.push(DeviceConfig::with_certificate(
        CERT_DEV,
        Some(&colons.join(":")),
    ));
    cfg.devices
        .push(DeviceConfig::with_certificate(BIND_DEV, None));
    let emu = start_with(cfg).await;
    let a = emu.mqtts_addr().unwrap();
    let code = |tls, o| async move {
        Client::connect_tls(a, tls, "localhost", &o)
            .await
            .map(|(_, c)| c)
            .ok()
            .flatten()
    };
    // Its own certificate: accepted, without a password.
    let (mut c, got) = Client::connect_tls(
        a,
        client(&dir, Some(&good)),
        "localhost",
        &cert_login(CERT_DEV),
    )
    .await
    .unwrap();
    assert_eq!(got, Some(0), "certificate login");
    c.publish(&topic(CERT_DEV, "sys/messages/up"), b"x509", 1, 1)
        .await
        .unwrap();
    assert_eq!(c.recv(T).await, Some(In::PubAck(1)));
    let (_, d) = rest(
        emu.http_addr(),
        "GET",
        &format!("/v5/iot/local/devices/{CERT_DEV}"),
        None,
    )
    .await;
    assert_eq!(d["auth"], "CERTIFICATES", "{d}");
    assert_eq!(d["fingerprint"], good.fingerprint.as_str(), "{d}");
    // Another (valid, same CA) certificate: CONNACK 4.
    assert_eq!(
        code(client(&dir, Some(&other)), cert_login(CERT_DEV)).await,
        Some(4),
        "wrong certificate"
    );
    // No certificate over TLS, and plain MQTT: CONNACK 4.
    assert_eq!(
        code(client(&dir, None), cert_login(CERT_DEV)).await,
        Some(4),
        "no certificate"
    );
    assert_eq!(
        code_for(emu.mqtt_addr(), &cert_login(CERT_DEV)).await,
        Some(4),
        "plain MQTT"
    );
    // A certificate from another CA does not get through the handshake.
    let foreign = tmp("foreign");
    tls::generate(&foreign, &[]).unwrap();
    let stranger = x509::generate_device_cert(&foreign, CERT_DEV).unwrap();
    let mut mixed = (*client(&foreign, Some(&stranger))).clone();
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from(
            std::fs::read(dir.join("ca.der")).unwrap(),
        ))
        .unwrap();
    mixed = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_client_auth_cert(
        vec![CertificateDer::from(
            std::fs::read(&stranger.cert_der).unwrap(),
        )],
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
            std::fs::read(&stranger.key_der).unwrap(),
        )),
    )
    .unwrap_or(mixed);
    assert_eq!(
        code(Arc::new(mixed), cert_login(CERT_DEV)).await,
        None,
        "foreign CA"
    );
    // Secret devices still log in on the same listener without a certificate.
    let (_, got) = Client::connect_tls(
        a,
        client(&dir, None),
        "localhost",
        &ConnectOpts::for_device(DEV, SECRET, 0, now()),
    )
    .await
    .unwrap();
    assert_eq!(got, Some(0), "secret device over TLS");
    // Registered without a fingerprint: the first certificate is recorded.
    assert_eq!(
        code(client(&dir, Some(&other)), cert_login(BIND_DEV)).await,
        Some(0)
    );
    assert_eq!(
        code(client(&dir, Some(&good)), cert_login(BIND_DEV)).await,
        Some(4),
        "bound to the first"
    );
    assert_eq!(
        code(client(&dir, Some(&other)), cert_login(BIND_DEV)).await,
        Some(0)
    );
    // REST registration with Huawei's auth_info.
    let body = format!(
        r#"{{"node_id":"n9","device_id":"rest_cert","auth_info":{{"auth_type":"CERTIFICATES","fingerprint":"{}"}}}}"#,
        other.fingerprint
    );
    let (st, v) = rest(
        emu.http_addr(),
        "POST",
        "/v5/iot/local/devices",
        Some(&body),
    )
    .await;
    assert_eq!(st, 201, "{v}");
    assert_eq!(v["auth_info"]["auth_type"], "CERTIFICATES", "{v}");
    assert_eq!(
        code(client(&dir, Some(&other)), cert_login("rest_cert")).await,
        Some(0)
    );
    for bad in [
        r#"{"node_id":"n8","auth_info":{"auth_type":"CERTIFICATES","fingerprint":"abc"}}"#,
        r#"{"node_id":"n8","auth_info":{"auth_type":"SECRET","fingerprint":"abc"}}"#,
        r#"{"node_id":"n8","auth_info":{"auth_type":"CERTIFICATES","secret":"s"}}"#,
        r#"{"node_id":"n8","auth_info":{"auth_type":"X509"}}"#,
    ] {
        let (st, v) = rest(emu.http_addr(), "POST", "/v5/iot/local/devices", Some(bad)).await;
        assert_eq!(st, 400, "{bad}: {v}");
    }
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&foreign);
}

async fn answer(c: &mut Client) -> (String, Vec<u8>) {
    match c.recv_publish(T).await {
        Some(In::Publish { topic, payload, .. }) => (topic, payload),
        other => panic!("no bootstrap answer: {other:?}"),
    }
}

#[tokio::test]
async fn bootstrap_answers_the_configured_address() {
    let emu = start().await;
    let a = emu.mqtt_addr();
    let mut c = login(a, DEV, SECRET).await;
    let down = format!("$oc/devices/{DEV}/sys/bootstrap/down");
    assert_eq!(c.subscribe_wait(&[(&down, 1)], 1).await, Some(vec![1]));
    // Default: the emulator's own MQTT address.
    c.publish(&topic(DEV, "sys/bootstrap/up"), b"", 1, 2)
        .await
        .unwrap();
    let got = answer(&mut c).await;
    assert_eq!(got.0, down);
    let v: serde_json::Value = serde_json::from_slice(&got.1).unwrap();
    assert_eq!(v["address"], a.to_string(), "{v}");
    // Set through the emulator's endpoint, with an initConfig.
    let path = format!("/emulator/devices/{DEV}/bootstrap");
    let (st, _) = rest(
        emu.http_addr(),
        "PUT",
        &path,
        Some(r#"{"address":"iot.example.test:8883","init_config":"{\"init\":23}"}"#),
    )
    .await;
    assert_eq!(st, 200);
    c.publish(
        &topic(DEV, "sys/bootstrap/up"),
        br#"{"baseStrategyKeyword":"k"}"#,
        1,
        3,
    )
    .await
    .unwrap();
    let got = answer(&mut c).await;
    let v: serde_json::Value = serde_json::from_slice(&got.1).unwrap();
    assert_eq!(v["address"], "iot.example.test:8883");
    assert_eq!(v["initConfig"], "{\"init\":23}");
    // Clear errors: unknown device, bad address.
    let (st, v) = rest(
        emu.http_addr(),
        "PUT",
        "/emulator/devices/nobody/bootstrap",
        Some(r#"{"address":"h:1"}"#),
    )
    .await;
    assert_eq!(st, 404, "{v}");
    for bad in [
        r#"{"address":"nohost"}"#,
        r#"{"address":":1"}"#,
        r#"{"address":"h:0"}"#,
        r#"{}"#,
    ] {
        assert_eq!(
            rest(emu.http_addr(), "PUT", &path, Some(bad)).await.0,
            400,
            "{bad}"
        );
    }
    // An unknown device cannot log in to bootstrap at all: CONNACK 5.
    let unknown = ConnectOpts::for_device("nobody_here", SECRET, 0, now());
    assert_eq!(code_for(a, &unknown).await, Some(5));
}
