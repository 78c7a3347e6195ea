//! The emulator's command line (clap). Flags override the `--config` file.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

use crate::config::{project_id, secs, Config, DeviceConfig};

/// A local Huawei Cloud IoTDA (device MQTT + application REST API + web console).
#[derive(Debug, Parser)]
#[command(name = "iotda-emulator", version, about)]
pub struct Args {
    /// TOML file (addresses, project_id, [[device]] list); flags override it
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Device MQTT listener, plain TCP [default: 127.0.0.1:1883]
    #[arg(long, value_name = "ADDR")]
    pub mqtt: Option<SocketAddr>,
    /// Device MQTT listener over TLS (needs --tls-cert/--tls-key or --tls-generate)
    #[arg(long, value_name = "ADDR")]
    pub mqtts: Option<SocketAddr>,
    /// REST API and web console listener [default: 127.0.0.1:8080]
    #[arg(long, value_name = "ADDR")]
    pub http: Option<SocketAddr>,
    /// {project_id} in /v5/iot/{project_id}/... [default: local]
    #[arg(long, value_name = "ID")]
    pub project_id: Option<String>,
    /// Sign type 1: accepted hours off the UTC clock [default: 1]
    #[arg(long, value_name = "N")]
    pub sign1_tolerance_hours: Option<u32>,
    /// Commands / properties wait this long for the device [default: 20]
    #[arg(long, value_name = "S")]
    pub sync_timeout_secs: Option<f64>,
    /// Register a device (repeatable)
    #[arg(long = "device", value_name = "ID=SECRET", value_parser = parse_device)]
    pub devices: Vec<(String, String)>,
    /// No log line per uplink
    #[arg(long)]
    pub quiet: bool,
    /// QoS 1 downlink redelivery interval [default: 2000]
    #[arg(long, value_name = "N")]
    pub redelivery_interval_ms: Option<u64>,
    /// Pending messages (CreateMessage) time out after this [default: 86400, one day]
    #[arg(long, value_name = "S")]
    pub message_ttl_secs: Option<f64>,
    /// Uplinks accepted per second and connection [default: 50]
    #[arg(long, value_name = "N")]
    pub uplink_rate: Option<u32>,
    /// Server certificate chain (PEM) for --mqtts
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// Server private key (PEM) for --mqtts
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Write a test CA and a server certificate for localhost into DIR (kept if present) and use them
    #[arg(long, value_name = "DIR", conflicts_with_all = ["tls_cert", "tls_key"])]
    pub tls_generate: Option<PathBuf>,
    /// Extra host name for the generated server certificate (repeatable)
    #[arg(long = "tls-name", value_name = "NAME")]
    pub tls_names: Vec<String>,
    /// Device CA certificate (PEM) for certificate devices' client certificates (repeatable)
    #[arg(long = "device-ca", value_name = "FILE")]
    pub device_cas: Vec<PathBuf>,
    /// Register a certificate device with a certificate the test CA signs, written to the --tls-generate DIR as ID.crt/ID.der/ID.key/ID.key.der (repeatable)
    #[arg(long = "cert-device", value_name = "ID", requires = "tls_generate")]
    pub cert_devices: Vec<String>,
    /// Bootstrap answer's address for devices without their own [default: the --mqtt address]
    #[arg(long, value_name = "HOST:PORT")]
    pub bootstrap_address: Option<String>,
    /// TEST ONLY: silence limit = 1.5 x keepalive x F, 0 < F <= 1
    #[arg(long, value_name = "F")]
    pub keepalive_scale: Option<f64>,
}

fn parse_device(v: &str) -> Result<(String, String), String> {
    let (id, secret) = v
        .split_once('=')
        .ok_or_else(|| format!("{v:?}: expected DEVICE_ID=SECRET"))?;
    Ok((id.to_string(), secret.to_string()))
}

impl Args {
    /// The configuration: defaults, then the file, then the flags.
    pub fn into_config(self) -> Result<Config, String> {
        let mut cfg = Config::default();
        if let Some(path) = &self.config {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("config file {}: {e}", path.display()))?;
            cfg.apply_toml(&text)
                .map_err(|e| format!("config file {}: {e}", path.display()))?;
        }
        if let Some(a) = self.mqtt {
            cfg.mqtt = a;
        }
        if let Some(a) = self.mqtts {
            cfg.mqtts = Some(a);
        }
        if let Some(a) = self.http {
            cfg.http = a;
        }
        if let Some(p) = &self.project_id {
            cfg.project_id = project_id(p)?;
        }
        if let Some(h) = self.sign1_tolerance_hours {
            cfg.sign1_tolerance_hours = h;
        }
        if let Some(s) = self.sync_timeout_secs {
            cfg.sync_timeout = secs("--sync-timeout-secs", s)?;
        }
        if let Some(s) = self.message_ttl_secs {
            cfg.message_ttl = secs("--message-ttl-secs", s)?;
        }
        if let Some(n) = self.uplink_rate {
            if n == 0 {
                return Err("--uplink-rate must be positive".into());
            }
            cfg.limits.uplinks_per_sec = n;
        }
        if let Some(n) = self.keepalive_scale {
            if !(n.is_finite() && n > 0.0 && n <= 1.0) {
                return Err("--keepalive-scale must be in (0, 1]".into());
            }
            cfg.keepalive_scale = n;
        }
        if let Some(n) = self.redelivery_interval_ms {
            cfg.redelivery_interval = Duration::from_millis(n.max(10));
        }
        if self.quiet {
            cfg.log_uplinks = false;
        }
        for (id, secret) in self.devices {
            cfg.devices.push(DeviceConfig::with_secret(&id, &secret));
        }
        cfg.device_cas.extend(self.device_cas);
        cfg.cert_devices.extend(self.cert_devices);
        if let Some(a) = self.bootstrap_address {
            cfg.bootstrap_address = Some(a);
        }
        cfg.tls = match (self.tls_cert, self.tls_key, self.tls_generate) {
            (Some(cert), Some(key), _) => Some(crate::config::TlsSource::Files { cert, key }),
            (_, _, Some(dir)) => Some(crate::config::TlsSource::Generate {
                dir,
                names: self.tls_names,
            }),
            _ => cfg.tls,
        };
        if cfg.mqtts.is_some() && cfg.tls.is_none() {
            return Err("--mqtts needs --tls-cert and --tls-key, or --tls-generate DIR".into());
        }
        if cfg.tls.is_some() && cfg.mqtts.is_none() {
            cfg.mqtts = Some(SocketAddr::from(([127, 0, 0, 1], 8883)));
        }
        cfg.validate()?;
        Ok(cfg)
    }
}
