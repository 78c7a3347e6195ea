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
    pub node_id: Option<String>,
    pub product_id: Option<String>,
}

impl DeviceConfig {
    /// Checks the device id and that exactly one usable credential form is
    /// present (a secret, a fixed ClientId/password pair, or both).
    pub fn validate(&self) -> Result<(), String> {
        iotda::validate::device_id(self.device_id.as_bytes())
            .map_err(|e| format!("device_id {:?}: {e}", self.device_id))?;
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
    pub devices: Vec<DeviceConfig>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            mqtt: SocketAddr::from(([127, 0, 0, 1], 1883)),
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
            devices: Vec::new(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    mqtt: Option<String>,
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

fn secs(what: &str, v: f64) -> Result<Duration, String> {
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

    /// Checks devices (each valid, ids unique).
    pub fn validate(&self) -> Result<(), String> {
        let mut seen = std::collections::HashSet::new();
        for d in &self.devices {
            d.validate()?;
            if !seen.insert(d.device_id.as_str()) {
                return Err(format!("device {:?} registered twice", d.device_id));
            }
        }
        Ok(())
    }

    /// Builds the configuration from command-line arguments (without the
    /// program name). `Ok(None)` means `--help` was asked for.
    pub fn from_args<I: IntoIterator<Item = String>>(args: I) -> Result<Option<Config>, String> {
        let mut cfg = Config::default();
        let args: Vec<String> = args.into_iter().collect();
        // The config file first, so that flags override it wherever they are.
        let mut i = 0;
        while i < args.len() {
            if args[i] == "--config" {
                let path = args.get(i + 1).ok_or("--config needs a file name")?.clone();
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| format!("config file {path}: {e}"))?;
                cfg.apply_toml(&text)
                    .map_err(|e| format!("config file {path}: {e}"))?;
                i += 1;
            }
            i += 1;
        }
        let mut it = args.into_iter();
        while let Some(flag) = it.next() {
            let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
            match flag.as_str() {
                "-h" | "--help" => return Ok(None),
                "--config" => {
                    value("--config")?;
                }
                "--mqtt" => cfg.mqtt = addr("--mqtt", &value("--mqtt")?)?,
                "--http" => cfg.http = addr("--http", &value("--http")?)?,
                "--project-id" => cfg.project_id = project_id(&value("--project-id")?)?,
                "--sign1-tolerance-hours" => {
                    let v = value("--sign1-tolerance-hours")?;
                    cfg.sign1_tolerance_hours = v
                        .parse()
                        .map_err(|_| format!("--sign1-tolerance-hours: {v:?} is not a number"))?;
                }
                "--sync-timeout-secs" => {
                    let v = value("--sync-timeout-secs")?;
                    let n = v
                        .parse()
                        .map_err(|_| format!("--sync-timeout-secs: {v:?} is not a number"))?;
                    cfg.sync_timeout = secs("--sync-timeout-secs", n)?;
                }
                "--keepalive-scale" => {
                    let v = value("--keepalive-scale")?;
                    let n: f64 = v
                        .parse()
                        .map_err(|_| format!("--keepalive-scale: {v:?} is not a number"))?;
                    if !(n.is_finite() && n > 0.0 && n <= 1.0) {
                        return Err("--keepalive-scale must be in (0, 1]".into());
                    }
                    cfg.keepalive_scale = n;
                }
                "--redelivery-interval-ms" => {
                    let v = value("--redelivery-interval-ms")?;
                    let n: u64 = v
                        .parse()
                        .map_err(|_| format!("--redelivery-interval-ms: {v:?} is not a number"))?;
                    cfg.redelivery_interval = Duration::from_millis(n.max(10));
                }
                "--device" => {
                    let v = value("--device")?;
                    let (id, secret) = v
                        .split_once('=')
                        .ok_or_else(|| format!("--device {v:?}: expected DEVICE_ID=SECRET"))?;
                    cfg.devices.push(DeviceConfig {
                        device_id: id.into(),
                        secret: Some(secret.into()),
                        client_id: None,
                        password: None,
                        node_id: None,
                        product_id: None,
                    });
                }
                "--quiet" => cfg.log_uplinks = false,
                other => return Err(format!("unknown argument {other:?} (see --help)")),
            }
        }
        cfg.validate()?;
        Ok(Some(cfg))
    }
}

fn project_id(p: &str) -> Result<String, String> {
    if p.is_empty() || p.contains('/') || p.contains('?') {
        Err(format!(
            "project_id {p:?}: must be non-empty, without '/' or '?'"
        ))
    } else {
        Ok(p.to_string())
    }
}

pub const USAGE: &str = "\
iotda-emulator: a local Huawei Cloud IoTDA (device MQTT + application REST API)

usage: iotda-emulator [--config FILE] [options]

  --config FILE               TOML file (addresses, project_id, [[device]] list)
  --mqtt ADDR                 device MQTT listener      (default 127.0.0.1:1883)
  --http ADDR                 REST listener             (default 127.0.0.1:8080)
  --project-id ID             {project_id} in /v5/iot/{project_id}/... (default local)
  --sign1-tolerance-hours N   sign type 1: accepted hours off the UTC clock (default 1)
  --sync-timeout-secs S       commands / properties wait for the device (default 20)
  --device ID=SECRET          register a device (repeatable)
  --quiet                     no log line per uplink
  --redelivery-interval-ms N  QoS 1 downlink redelivery interval (default 2000)
  --keepalive-scale F         TEST ONLY: silence limit = 1.5 x keepalive x F, 0<F<=1

Config file and flag errors exit with status 2.
";
