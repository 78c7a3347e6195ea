//! A local Huawei Cloud IoTDA: the device-side MQTT endpoint with IoTDA's
//! login rules and limits, and the application-side v5 REST API, so device
//! scripts can be tested on a desk.
//!
//! The MQTT wire format is `mqtt_core::codec` (the project's only MQTT
//! implementation); IoTDA's credentials, time stamps and topics are the
//! `iotda` crate's.

pub mod auth;
pub mod client;
pub mod config;
pub mod mqtt;
pub mod rest;
pub mod state;

use std::net::SocketAddr;
use std::sync::Arc;

use base64::Engine;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use config::{Config, DeviceConfig};
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
    http_addr: SocketAddr,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Emulator {
    /// Binds both listeners (port 0 picks a free port) and starts serving.
    pub async fn start(config: Config) -> std::io::Result<Emulator> {
        let mqtt = TcpListener::bind(config.mqtt).await.map_err(|e| {
            std::io::Error::new(e.kind(), format!("MQTT listener {}: {e}", config.mqtt))
        })?;
        let http = TcpListener::bind(config.http).await.map_err(|e| {
            std::io::Error::new(e.kind(), format!("HTTP listener {}: {e}", config.http))
        })?;
        let mqtt_addr = mqtt.local_addr()?;
        let http_addr = http.local_addr()?;
        let shared = Shared::new(config);
        let (stop, rx) = watch::channel(false);
        let tasks = vec![
            tokio::spawn(mqtt::serve(shared.clone(), mqtt, rx.clone())),
            tokio::spawn(rest::serve(shared.clone(), http, rx)),
        ];
        Ok(Emulator {
            shared,
            mqtt_addr,
            http_addr,
            stop,
            tasks,
        })
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
