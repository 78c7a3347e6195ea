//! Configuration: a TOML file and/or command-line flags (flags win).
//!
//! ```toml
//! mqtt = "127.0.0.1:1883"          # device side (MQTT 3.1 / 3.1.1, plain TCP)
//! http = "127.0.0.1:8080"          # application side (v5 REST + /emulator)
//! project_id = "local"
//! sign1_tolerance_hours = 1        # sign type 1: |ClientId hour - now| <= this
//! sync_timeout_secs = 20           # commands / properties set+get
//!
//! [[device]]                       # secret authentication
//! device_id = "my_product_dev1"
//! secret = "s3cret"
//!
//! [[device]]                       # certificate (X.509) device
//! device_id = "my_product_dev2"
//! fingerprint = "3a7f...c1"         # SHA-256 of its certificate (or `certificate = true`:
//!                                   # the first certificate it logs in with is recorded)
//!
//! [[device]]                       # fixed pair copied from Huawei's tool
//! device_id = "5fbbb784b4ec2202e982e643_868540050954037"
//! client_id = "5fbbb784b4ec2202e982e643_868540050954037_0_0_2021011909"
//! password  = "8001a124...1d94"
//! ```

use std::net::SocketAddr;
use std::time::Duration;

use serde::Deserialize;

/// Largest PUBLISH payload accepted from a device (IoTDA: 1 MB).
pub const MAX_PAYLOAD: usize = 1024 * 1024;

/// IoTDA's documented device-side limits (sources in the crate's README).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// A PUBLISH payload over this is rejected (not recorded, no PUBACK).
    pub max_payload: usize,
    /// A property report over this is rejected (recorded, not applied).
    pub max_property_report: usize,
    /// Subscriptions per connection; SUBACK 0x80 beyond.
    pub max_subscriptions: usize,
    /// Uplinks per second and connection; the ones beyond are rejected.
    pub uplinks_per_sec: u32,
    /// Longest custom topic (publish rejected, SUBACK 0x80).
    pub max_custom_topic: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_payload: MAX_PAYLOAD,
            max_property_report: 64 * 1024,
            max_subscriptions: 100,
            uplinks_per_sec: 50,
            max_custom_topic: 128,
        }
    }
}

/// Where the TLS listener's certificate comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsSource {
    /// PEM files given by the user.
    Files {
        cert: std::path::PathBuf,
        key: std::path::PathBuf,
    },
    /// A test CA and server certificate generated into (or reused from) `dir`.
    Generate {
        dir: std::path::PathBuf,
        names: Vec<String>,
    },
}

/// One registered device.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct DeviceConfig {
    pub device_id: String,
    /// Device secret: the password is HMAC-SHA256(key = hour stamp, secret).
    pub secret: Option<String>,
    /// Fixed ClientId copied from Huawei's tool (needs `password`).
    pub client_id: Option<String>,
    /// Fixed password copied from Huawei's tool (needs `client_id`).
    pub password: Option<String>,
    /// A certificate (X.509) device (Huawei's auth_type CERTIFICATES): logs
    /// in over TLS with a client certificate, no password.
    #[serde(default)]
    pub certificate: bool,
    /// SHA-256 fingerprint of its certificate (hex, `:` allowed); without
    /// one the first certificate it logs in with is recorded.
    pub fingerprint: Option<String>,
    pub node_id: Option<String>,
    pub product_id: Option<String>,
}

impl DeviceConfig {
    /// A device with secret authentication.
    pub fn with_secret(device_id: &str, secret: &str) -> DeviceConfig {
        DeviceConfig {
            device_id: device_id.into(),
            secret: Some(secret.into()),
            client_id: None,
            password: None,
            certificate: false,
            fingerprint: None,
            node_id: None,
            product_id: None,
        }
    }

    /// A certificate device, with the SHA-256 fingerprint of its
    /// certificate (or `None`: the first login records it).
    pub fn with_certificate(device_id: &str, fingerprint: Option<&str>) -> DeviceConfig {
        DeviceConfig {
            certificate: true,
            fingerprint: fingerprint.map(str::to_string),
            secret: None,
            ..DeviceConfig::with_secret(device_id, "")
        }
    }

    /// Checks the device id and that exactly one usable credential form is
    /// present (a secret, a fixed ClientId/password pair, or both; or a
    /// certificate alone). Normalises the fingerprint.
    pub fn validate(&mut self) -> Result<(), String> {
        iotda::validate::device_id(self.device_id.as_bytes())
            .map_err(|e| format!("device_id {:?}: {e}", self.device_id))?;
        if let Some(f) = &self.fingerprint {
            self.certificate = true;
            self.fingerprint = Some(
                crate::x509::normalize_fingerprint(f)
                    .map_err(|e| format!("device {:?}: {e}", self.device_id))?,
            );
        }
        if self.certificate {
            if self.secret.is_some() || self.client_id.is_some() || self.password.is_some() {
                return Err(format!(
                    "device {:?}: a certificate device has no secret or client_id/password",
                    self.device_id
                ));
            }
            return Ok(());
        }
        match (&self.client_id, &self.password) {
            (Some(cid), Some(pw)) => {
                let parsed = crate::auth::parse_client_id(cid).ok_or_else(|| {
                    format!(
                        "device {:?}: client_id {cid:?} is not {{device_id}}_0_{{0|1}}_{{YYYYMMDDHH}}",
                        self.device_id
                    )
                })?;
                if parsed.device_id != self.device_id {
                    return Err(format!(
                        "device {:?}: client_id {cid:?} names device {:?}",
                        self.device_id, parsed.device_id
                    ));
                }
                if pw.is_empty() {
                    return Err(format!("device {:?}: empty password", self.device_id));
                }
            }
            (None, None) => {}
            _ => {
                return Err(format!(
                    "device {:?}: client_id and password go together",
                    self.device_id
                ))
            }
        }
        if self.secret.is_none() && self.client_id.is_none() {
            return Err(format!(
                "device {:?}: needs `secret` or `client_id` + `password`",
                self.device_id
            ));
        }
        if self.secret.as_deref() == Some("") {
            return Err(format!("device {:?}: empty secret", self.device_id));
        }
        Ok(())
    }
}

/// The emulator's settings.
#[derive(Debug, Clone)]
pub struct Config {
    pub mqtt: SocketAddr,
    /// The TLS listener (needs `tls`).
    pub mqtts: Option<SocketAddr>,
    pub tls: Option<TlsSource>,
    pub http: SocketAddr,
    pub project_id: String,
    /// Sign type 1: largest accepted distance, in hours, between the
    /// ClientId's hour stamp and the emulator's UTC hour.
    pub sign1_tolerance_hours: u32,
    /// How long commands / properties set / properties get wait for the
    /// device (IoTDA: 20 s).
    pub sync_timeout: Duration,
    /// TEST ONLY: the silence limit is `1.5 x keepalive x scale` (1.0 in
    /// production). Lets a test with keepalive 30 be dropped in a second.
    pub keepalive_scale: f64,
    /// QoS 1 downlinks without PUBACK: resent every interval, this many times.
    pub redelivery_interval: Duration,
    pub redelivery_count: u32,
    /// A connection that sends no CONNECT within this is closed.
    pub connect_timeout: Duration,
    /// Print one line per uplink on stdout.
    pub log_uplinks: bool,
    /// Uplinks kept per device for the inspection endpoint (oldest dropped;
    /// counters stay exact).
    pub uplink_history: usize,
    /// Messages (CreateMessage) not delivered within this are TIMEOUT.
    pub message_ttl: Duration,
    pub limits: Limits,
    pub devices: Vec<DeviceConfig>,
    /// Device CA certificates (PEM) the TLS listener verifies client
    /// certificates against (the generated test CA is added by itself).
    pub device_cas: Vec<std::path::PathBuf>,
    /// Certificate devices to register with a certificate generated by the
    /// test CA (needs `TlsSource::Generate`).
    pub cert_devices: Vec<String>,
    /// The `address` of the bootstrap answer for devices without their own
    /// (default: the plain MQTT listener's address).
    pub bootstrap_address: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            mqtt: SocketAddr::from(([127, 0, 0, 1], 1883)),
            mqtts: None,
            tls: None,
            http: SocketAddr::from(([127, 0, 0, 1], 8080)),
            project_id: "local".into(),
            sign1_tolerance_hours: 1,
            sync_timeout: Duration::from_secs(20),
            keepalive_scale: 1.0,
            redelivery_interval: Duration::from_secs(2),
            redelivery_count: 3,
            connect_timeout: Duration::from_secs(10),
            log_uplinks: true,
            uplink_history: 10_000,
            message_ttl: Duration::from_secs(24 * 3600),
            limits: Limits::default(),
            devices: Vec::new(),
            device_cas: Vec::new(),
            cert_devices: Vec::new(),
            bootstrap_address: None,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    mqtt: Option<String>,
    mqtts: Option<String>,
    http: Option<String>,
    project_id: Option<String>,
    sign1_tolerance_hours: Option<u32>,
    sync_timeout_secs: Option<f64>,
    #[serde(default)]
    device: Vec<DeviceConfig>,
}

fn addr(what: &str, s: &str) -> Result<SocketAddr, String> {
    s.parse()
        .map_err(|_| format!("{what}: {s:?} is not an address like 127.0.0.1:1883"))
}

pub(crate) fn secs(what: &str, v: f64) -> Result<Duration, String> {
    if v.is_finite() && v > 0.0 && v < 1e6 {
        Ok(Duration::from_secs_f64(v))
    } else {
        Err(format!("{what}: {v} is not a positive number of seconds"))
    }
}

impl Config {
    /// Applies a TOML document (the contents of `--config FILE`).
    pub fn apply_toml(&mut self, text: &str) -> Result<(), String> {
        let file: FileConfig = toml::from_str(text).map_err(|e| e.to_string())?;
        if let Some(s) = &file.mqtt {
            self.mqtt = addr("mqtt", s)?;
        }
        if let Some(s) = &file.mqtts {
            self.mqtts = Some(addr("mqtts", s)?);
        }
        if let Some(s) = &file.http {
            self.http = addr("http", s)?;
        }
        if let Some(p) = file.project_id {
            self.project_id = project_id(&p)?;
        }
        if let Some(h) = file.sign1_tolerance_hours {
            self.sign1_tolerance_hours = h;
        }
        if let Some(s) = file.sync_timeout_secs {
            self.sync_timeout = secs("sync_timeout_secs", s)?;
        }
        self.devices.extend(file.device);
        self.validate()
    }

    /// Checks devices (each valid, ids unique; fingerprints normalised).
    pub fn validate(&mut self) -> Result<(), String> {
        let mut seen = std::collections::HashSet::new();
        for d in &mut self.devices {
            d.validate()?;
            if !seen.insert(d.device_id.as_str()) {
                return Err(format!("device {:?} registered twice", d.device_id));
            }
        }
        Ok(())
    }
}

pub(crate) fn project_id(p: &str) -> Result<String, String> {
    if p.is_empty() || p.contains('/') || p.contains('?') {
        Err(format!(
            "project_id {p:?}: must be non-empty, without '/' or '?'"
        ))
    } else {
        Ok(p.to_string())
    }
}
