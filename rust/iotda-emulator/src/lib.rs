//! A local Huawei Cloud IoTDA: the device-side MQTT endpoint with IoTDA's
//! login rules and limits, and the application-side v5 REST API, so device
//! scripts can be tested on a desk.
//!
//! The MQTT wire format is `mqtt_core::codec` (the project's only MQTT
//! implementation); IoTDA's credentials, time stamps and topics are the
//! `iotda` crate's.

pub mod auth;
pub mod cli;
pub mod client;
pub mod config;
pub mod console;
pub mod files;
pub mod gateway;
pub mod mqtt;
pub mod ota;
pub mod rest;
pub mod services;
pub mod shadow;
pub mod state;
pub mod tls;
pub mod trace;
pub mod uplink;
pub mod x509;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use base64::Engine;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use config::{Config, DeviceConfig, Limits, TlsSource};
pub use state::Shared;

/// One log line on stdout, prefixed with the UTC time. Never pass secrets
/// or passwords.
#[macro_export]
macro_rules! log {
    ($($arg:tt)*) => {{
        let now = $crate::state::now_ms();
        let t = iotda::time::DateTime::from_unix(now / 1000)
            .map(|d| d.event_time())
            .unwrap_or([b'?'; 16]);
        println!("{}.{:03} {}", String::from_utf8_lossy(&t), now % 1000, format_args!($($arg)*));
    }};
}

pub fn b64_encode(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

pub fn b64_decode(s: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD.decode(s).ok()
}

/// A running emulator (its tasks live on the current tokio runtime).
pub struct Emulator {
    pub shared: Arc<Shared>,
    mqtt_addr: SocketAddr,
    mqtts_addr: Option<SocketAddr>,
    ca_path: Option<PathBuf>,
    http_addr: SocketAddr,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Emulator {
    /// Binds the listeners (port 0 picks a free port) and starts serving.
    pub async fn start(mut config: Config) -> std::io::Result<Emulator> {
        let bind = |what: &'static str, a: SocketAddr| async move {
            TcpListener::bind(a)
                .await
                .map_err(|e| std::io::Error::new(e.kind(), format!("{what} listener {a}: {e}")))
        };
        let mqtt = bind("MQTT", config.mqtt).await?;
        let http = bind("HTTP", config.http).await?;
        let (tls, ca_path) = match &config.tls {
            None => (None, None),
            Some(src) => {
                let (cert, key, ca) = match src {
                    TlsSource::Files { cert, key } => (cert.clone(), key.clone(), None),
                    TlsSource::Generate { dir, names } => {
                        let g = tls::generate(dir, names).map_err(std::io::Error::other)?;
                        for id in &config.cert_devices {
                            let d = x509::generate_device_cert(dir, id)
                                .map_err(std::io::Error::other)?;
                            config
                                .devices
                                .push(DeviceConfig::with_certificate(id, Some(&d.fingerprint)));
                        }
                        config.device_cas.push(g.ca.clone());
                        (g.cert, g.key, Some(g.ca))
                    }
                };
                let cfg = tls::server_config(&cert, &key, &config.device_cas)
                    .map_err(std::io::Error::other)?;
                (Some(tokio_rustls::TlsAcceptor::from(cfg)), ca)
            }
        };
        // Devices as given (fingerprints normalised) and the generated ones.
        config
            .validate()
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        let mqtts = match (config.mqtts, &tls) {
            (Some(a), Some(_)) => Some(bind("MQTTS", a).await?),
            _ => None,
        };
        let mqtt_addr = mqtt.local_addr()?;
        let http_addr = http.local_addr()?;
        let mqtts_addr = match &mqtts {
            Some(l) => Some(l.local_addr()?),
            None => None,
        };
        if config.bootstrap_address.is_none() {
            config.bootstrap_address = Some(mqtt_addr.to_string());
        }
        let shared = Shared::new(config);
        shared.ota().base_url = match http_addr {
            a if a.ip().is_unspecified() => format!("http://127.0.0.1:{}", a.port()),
            a => format!("http://{a}"),
        };
        shared.lock().services.http_addr = Some(http_addr);
        let stop = shared.stop.clone();
        let rx = stop.subscribe();
        let mut tasks = vec![
            tokio::spawn(mqtt::serve(shared.clone(), mqtt, None, rx.clone())),
            tokio::spawn(rest::serve(shared.clone(), http, rx.clone())),
            tokio::spawn(expire_messages(shared.clone(), rx.clone())),
        ];
        if let (Some(l), Some(acceptor)) = (mqtts, tls) {
            tasks.push(tokio::spawn(mqtt::serve(
                shared.clone(),
                l,
                Some(acceptor),
                rx,
            )));
        }
        Ok(Emulator {
            shared,
            mqtt_addr,
            mqtts_addr,
            ca_path,
            http_addr,
            stop,
            tasks,
        })
    }

    /// The TLS listener's address, if there is one.
    pub fn mqtts_addr(&self) -> Option<SocketAddr> {
        self.mqtts_addr
    }

    /// The generated test CA (`--tls-generate`).
    pub fn ca_path(&self) -> Option<&std::path::Path> {
        self.ca_path.as_deref()
    }

    pub fn mqtt_addr(&self) -> SocketAddr {
        self.mqtt_addr
    }

    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    /// Stops accepting, closes every device connection, waits for the
    /// listeners to end.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        {
            let st = self.shared.lock();
            for d in st.devices.values() {
                if let Some(c) = &d.conn {
                    let _ = c.tx.send(state::ConnMsg::Shutdown);
                }
            }
        }
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

/// Marks pending messages TIMEOUT once their TTL has passed.
async fn expire_messages(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let every = (shared.config.message_ttl / 4).clamp(
        std::time::Duration::from_millis(20),
        std::time::Duration::from_secs(1),
    );
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => shared.expire_messages(),
            _ = stop.changed() => break,
        }
    }
}
