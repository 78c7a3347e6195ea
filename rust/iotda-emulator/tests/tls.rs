//! The TLS listener: a client verifying against the generated test CA
//! logs in; a client trusting another CA, or expecting another host name,
//! does not get through the handshake.

mod common;

use std::path::PathBuf;

use common::*;
use iotda_emulator::{tls, TlsSource};

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("iotda-tls-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

async fn start_tls(dir: &std::path::Path) -> iotda_emulator::Emulator {
    let mut cfg = test_config();
    cfg.mqtts = Some("127.0.0.1:0".parse().unwrap());
    cfg.tls = Some(TlsSource::Generate {
        dir: dir.to_path_buf(),
        names: vec!["iot-mqtts.example.test".into()],
    });
    start_with(cfg).await
}

#[tokio::test]
async fn verified_login_over_tls_and_wrong_ca_or_name_fail() {
    let dir = tmp("ok");
    let emu = start_tls(&dir).await;
    let addr = emu.mqtts_addr().expect("TLS listener");
    assert_eq!(emu.ca_path(), Some(dir.join("ca.pem").as_path()));
    let ca = tls::client_config(&dir.join("ca.pem")).unwrap();
    // Right CA, each name in the certificate.
    let mut kept = Vec::new();
    for name in ["localhost", "127.0.0.1", "iot-mqtts.example.test"] {
        let o = ConnectOpts::for_device(DEV, SECRET, 0, now());
        let (mut c, code) = Client::connect_tls(addr, ca.clone(), name, &o)
            .await
            .unwrap_or_else(|e| panic!("TLS to {name}: {e}"));
        assert_eq!(code, Some(0), "{name}");
        c.publish(&topic(DEV, "sys/messages/up"), b"over tls", 1, 1)
            .await
            .unwrap();
        assert_eq!(c.recv(T).await, Some(In::PubAck(1)));
        kept.push(c);
    }
    let (_, d) = rest(
        emu.http_addr(),
        "GET",
        &format!("/v5/iot/local/devices/{DEV}"),
        None,
    )
    .await;
    assert_eq!(d["tls"], true, "{d}");
    // Another CA: the handshake fails.
    let other = tmp("other");
    tls::generate(&other, &[]).unwrap();
    let wrong = tls::client_config(&other.join("ca.pem")).unwrap();
    let r = Client::tls(addr, wrong, "localhost").await;
    assert!(r.is_err(), "a client trusting another CA must not connect");
    // A name not in the certificate: fails too.
    let r = Client::tls(addr, ca.clone(), "example.com").await;
    assert!(r.is_err(), "wrong host name must not verify");
    // Plain MQTT still on its own port; plain bytes on the TLS port fail.
    let _ = login(emu.mqtt_addr(), DEV2, "other-secret").await;
    let (_, code) = Client::connect(
        addr,
        &ConnectOpts::for_device(DEV2, "other-secret", 0, now()),
    )
    .await
    .unwrap();
    assert_eq!(code, None, "no CONNACK for plain MQTT on the TLS port");
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&other);
}

#[tokio::test]
async fn generated_ca_is_reused_and_files_can_be_given() {
    let dir = tmp("reuse");
    let first = tls::generate(&dir, &[]).unwrap();
    let ca1 = std::fs::read_to_string(&first.ca).unwrap();
    assert!(ca1.starts_with("-----BEGIN CERTIFICATE-----"));
    let again = tls::generate(&dir, &[]).unwrap();
    assert_eq!(std::fs::read_to_string(&again.ca).unwrap(), ca1);
    // The same files through --tls-cert / --tls-key.
    let mut cfg = test_config();
    cfg.mqtts = Some("127.0.0.1:0".parse().unwrap());
    cfg.tls = Some(TlsSource::Files {
        cert: first.cert.clone(),
        key: first.key.clone(),
    });
    let emu = start_with(cfg).await;
    let ca = tls::client_config(&first.ca).unwrap();
    let o = ConnectOpts::for_device(DEV, SECRET, 1, now());
    let (_, code) = Client::connect_tls(emu.mqtts_addr().unwrap(), ca, "localhost", &o)
        .await
        .unwrap();
    assert_eq!(code, Some(0));
    // A missing key file is an error at start.
    let mut cfg = test_config();
    cfg.mqtts = Some("127.0.0.1:0".parse().unwrap());
    cfg.tls = Some(TlsSource::Files {
        cert: first.cert,
        key: dir.join("missing.key"),
    });
    let err = iotda_emulator::Emulator::start(cfg).await.err().unwrap();
    assert!(err.to_string().contains("missing.key"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
