//! OTA upgrades: packages (CreateOtaPackage and friends), upgrade tasks
//! (CreateBatchTask with `firmwareUpgrade` / `softwareUpgrade`), the
//! `$ota` upgrade event pushed to the devices, the package download, and
//! the per-device subtask status the device's reports drive.
//!
//! Sources:
//! - api CreateOtaPackage / ShowOtaPackage / ListOtaPackageInfo /
//!   DeleteOtaPackage: the package body (`package_type` softwarePackage |
//!   firmwarePackage, `product_id`, `version` at most 256 of
//!   `[A-Za-z0-9_.-]`, `description` at most 1024, `custom_info` at most
//!   4096, `support_source_versions` at most 20, `file_location.obs_location`
//!   {region_name, bucket_name, object_key}); 201 on creation.
//! - api iot_06_v5_0045 (CreateBatchTask): `task_name`, `task_type`,
//!   `targets` (device ids), `document.package_id` for upgrade tasks; the
//!   reply is the task (status Initializing .. Success | Fail |
//!   PartialSuccess, `task_progress` counters).
//! - api iot_06_v5_0017 (ShowBatchTask): `{batchtask, task_details[], page}`,
//!   a detail is `{target, status, output, error{error_code, error_msg}}`,
//!   statuses Waitting, Processing, Success, Fail, FailWaitRetry, Stopped.
//! - api iot_06_v5_3030 (upgrade event): `firmware_upgrade` /
//!   `software_upgrade` paras `version, url, file_size, file_name,
//!   access_token, expires, sign` (the package's SHA-256), `custom_info`.
//! - api iot_06_v5_3031/3032 (device reports): `upgrade_progress_report`
//!   `{result_code, progress, version, description}`, `version_report`.
//! - Huawei's C device SDK downloads with `Authorization: Bearer {token}`.
//!
//! Modelled (not documented by Huawei): in place of OBS the emulator keeps
//! uploaded objects itself (`PUT /emulator/obs/{bucket}/{key}`) and serves
//! the package at `/emulator/ota/files/{package_id}`; the access token is
//! per (task, device), valid `expires` seconds; a wrong, missing or expired
//! token gets 401; ranges as RFC 9110 (one `bytes=` range, 206, 416).
//! A subtask is Success when the device reports result_code 0 for the
//! package's version at 100 % (or reports that version), Fail on a non-zero
//! result_code. A target offline at creation is Waitting and gets the event
//! when it next reports its version.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde_json::{json, Value};

use crate::state::{event_time_now, now_ms, Shared};

/// Seconds an access token is valid by default (`expires` in the event).
pub const TOKEN_TTL_SECS: i64 = 86_400;

#[derive(Debug, Clone)]
pub struct Package {
    pub package_id: String,
    pub app_id: String,
    pub package_type: String,
    pub product_id: String,
    pub version: String,
    pub support_source_versions: Vec<String>,
    pub description: Option<String>,
    pub custom_info: Option<String>,
    pub create_time: String,
    pub region_name: String,
    pub bucket_name: String,
    pub object_key: String,
    /// Size of the object when the package was created.
    pub file_size: usize,
    /// Lowercase hex SHA-256 of the object when the package was created:
    /// the event's `sign`. The download serves the object as it is now (as
    /// OBS would): overwriting it makes a tampered package.
    pub sign: String,
}

impl Package {
    pub fn to_json(&self) -> Value {
        json!({
            "package_id": self.package_id,
            "app_id": self.app_id,
            "package_type": self.package_type,
            "product_id": self.product_id,
            "version": self.version,
            "support_source_versions": self.support_source_versions,
            "description": self.description,
            "custom_info": self.custom_info,
            "create_time": self.create_time,
            "file_location": {"obs_location": {
                "region_name": self.region_name,
                "bucket_name": self.bucket_name,
                "object_key": self.object_key,
            }},
        })
    }

    /// The package file's name: the object key's last part.
    pub fn file_name(&self) -> &str {
        self.object_key
            .rsplit('/')
            .next()
            .unwrap_or(&self.object_key)
    }
}

/// A subtask's status, as ShowBatchTask spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubStatus {
    Waitting,
    Processing,
    Success,
    Fail,
}

impl SubStatus {
    pub fn name(self) -> &'static str {
        match self {
            SubStatus::Waitting => "Waitting",
            SubStatus::Processing => "Processing",
            SubStatus::Success => "Success",
            SubStatus::Fail => "Fail",
        }
    }

    pub fn parse(s: &str) -> Option<SubStatus> {
        [
            SubStatus::Waitting,
            SubStatus::Processing,
            SubStatus::Success,
            SubStatus::Fail,
        ]
        .into_iter()
        .find(|x| x.name() == s)
    }
}

#[derive(Debug, Clone)]
pub struct Detail {
    pub target: String,
    pub status: SubStatus,
    pub output: Option<String>,
    pub error: Option<(String, String)>,
}

impl Detail {
    pub fn to_json(&self) -> Value {
        let mut v =
            json!({"target": self.target, "status": self.status.name(), "output": self.output});
        if let Some((code, msg)) = &self.error {
            v["error"] = json!({"error_code": code, "error_msg": msg});
        }
        v
    }
}

#[derive(Debug, Clone)]
pub struct Task {
    pub task_id: String,
    pub task_name: String,
    pub task_type: String,
    pub package_id: String,
    pub create_time: String,
    pub details: Vec<Detail>,
}

impl Task {
    /// The batch status from the subtasks.
    pub fn status(&self) -> &'static str {
        let count = |s| self.details.iter().filter(|d| d.status == s).count();
        let (ok, fail) = (count(SubStatus::Success), count(SubStatus::Fail));
        if ok + fail < self.details.len() {
            "Processing"
        } else if fail == 0 {
            "Success"
        } else if ok == 0 {
            "Fail"
        } else {
            "PartialSuccess"
        }
    }

    pub fn to_json(&self) -> Value {
        let count = |s| self.details.iter().filter(|d| d.status == s).count();
        json!({
            "task_id": self.task_id,
            "task_name": self.task_name,
            "task_type": self.task_type,
            "targets": self.details.iter().map(|d| d.target.clone()).collect::<Vec<_>>(),
            "targets_filter": {},
            "document": {"package_id": self.package_id},
            "task_policy": {},
            "status": self.status(),
            "status_desc": "",
            "task_progress": {
                "total": self.details.len(),
                "processing": count(SubStatus::Processing),
                "success": count(SubStatus::Success),
                "fail": count(SubStatus::Fail),
                "waitting": count(SubStatus::Waitting),
                "fail_wait_retry": 0,
                "stopped": 0,
            },
            "create_time": self.create_time,
        })
    }

    /// Whether a firmware (not software) upgrade.
    pub fn firmware(&self) -> bool {
        self.task_type == "firmwareUpgrade"
    }
}

/// An access token handed to one device for one task.
#[derive(Debug, Clone)]
pub struct Token {
    pub package_id: String,
    pub expires_ms: i64,
}

/// Download faults and token lifetime (`POST /emulator/ota/settings`).
#[derive(Debug, Clone, Copy)]
pub struct Faults {
    /// The next `count` downloads stop after `drop_after` body bytes (the
    /// connection is closed mid-body).
    pub drop_after: u64,
    pub count: u32,
    /// Validity of the access tokens handed out from now on.
    pub token_ttl_secs: i64,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            drop_after: 0,
            count: 0,
            token_ttl_secs: TOKEN_TTL_SECS,
        }
    }
}

/// The OTA side of the platform.
#[derive(Debug, Default)]
pub struct Store {
    /// `http://host:port` of the emulator's HTTP listener (download URLs).
    pub base_url: String,
    /// The stand-in for OBS: (bucket, key) -> bytes.
    pub objects: HashMap<(String, String), Arc<[u8]>>,
    pub packages: BTreeMap<String, Package>,
    pub tasks: BTreeMap<String, Task>,
    pub tokens: HashMap<String, Token>,
    pub faults: Faults,
}

impl Store {
    /// Hand out `token` for `package_id` from `now_ms` for the configured
    /// lifetime; tokens that expired are forgotten here (a long-running
    /// emulator would otherwise keep every token it ever gave).
    pub fn add_token(&mut self, token: String, package_id: String, now_ms: i64) {
        self.tokens.retain(|_, t| !t.expired(now_ms));
        let expires_ms = now_ms.saturating_add(self.faults.token_ttl_secs.saturating_mul(1000));
        self.tokens.insert(
            token,
            Token {
                package_id,
                expires_ms,
            },
        );
    }
}

impl Token {
    /// Valid before `expires_ms`, expired from it on.
    pub fn expired(&self, now_ms: i64) -> bool {
        now_ms >= self.expires_ms
    }
}

/// A `$ota` upgrade event for one device (what `deliver` sends).
#[derive(Debug, Clone)]
pub struct Push {
    pub device_id: String,
    pub body: Value,
}

/// Lowercase hex SHA-256.
pub fn sha256_hex(data: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, data)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A fresh access token (64 hex digits from the system's random source).
fn new_token(shared: &Shared) -> String {
    use ring::rand::SecureRandom;
    let mut b = [0u8; 32];
    if ring::rand::SystemRandom::new().fill(&mut b).is_err() {
        // no random source: still unique, if guessable
        return sha256_hex(format!("{}-{}", shared.new_uuid(), now_ms()).as_bytes());
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The upgrade event of `task` for `device_id`, with a new token.
pub fn upgrade_event(
    shared: &Shared,
    store: &mut Store,
    task_id: &str,
    device_id: &str,
) -> Option<Push> {
    let task = store.tasks.get(task_id)?;
    let pkg = store.packages.get(&task.package_id)?;
    let token = new_token(shared);
    let event_type = if task.firmware() {
        "firmware_upgrade"
    } else {
        "software_upgrade"
    };
    let mut paras = json!({
        "version": pkg.version,
        "url": format!("{}/emulator/ota/files/{}", store.base_url, pkg.package_id),
        "file_size": pkg.file_size,
        "file_name": pkg.file_name(),
        "access_token": token,
        "expires": store.faults.token_ttl_secs,
        "sign": pkg.sign,
    });
    if let Some(c) = &pkg.custom_info {
        paras["custom_info"] = json!(c);
    }
    let package_id = pkg.package_id.clone();
    store.add_token(token, package_id, now_ms());
    Some(Push {
        device_id: device_id.to_string(),
        body: json!({
            "object_device_id": device_id,
            "services": [{"service_id": "$ota", "event_type": event_type,
                          "event_time": event_time_now(), "paras": paras}],
        }),
    })
}

/// Sends `$ota` events to the devices (outside the OTA lock): true for those
/// that were online.
pub fn deliver(shared: &Shared, pushes: Vec<Push>) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    for p in pushes {
        let topic = format!("$oc/devices/{}/sys/events/down", p.device_id);
        let dl = shared.next_id();
        let d = shared.lock().deliver(
            dl,
            &p.device_id,
            &topic,
            p.body.to_string().into_bytes(),
            false,
        );
        out.push((p.device_id, d == crate::state::Delivery::Delivered));
    }
    out
}

/// Starts the subtasks of a new task: events for the online targets (they
/// become Processing), the others stay Waitting.
pub fn start_task(shared: &Shared, task_id: &str) {
    let pushes: Vec<Push> = {
        let mut store = shared.ota();
        let targets: Vec<String> = match store.tasks.get(task_id) {
            Some(t) => t
                .details
                .iter()
                .filter(|d| d.status == SubStatus::Waitting)
                .map(|d| d.target.clone())
                .collect(),
            None => return,
        };
        targets
            .iter()
            .filter_map(|dev| upgrade_event(shared, &mut store, task_id, dev))
            .collect()
    };
    let sent = deliver(shared, pushes);
    let mut store = shared.ota();
    if let Some(t) = store.tasks.get_mut(task_id) {
        for (dev, online) in sent {
            if let Some(d) = t.details.iter_mut().find(|d| d.target == dev) {
                if online {
                    d.status = SubStatus::Processing;
                    d.output = Some("upgrade event sent".into());
                } else {
                    d.output = Some("device offline: waiting for its next version report".into());
                }
            }
        }
        crate::log!("ota task {task_id}: {}", t.to_json()["task_progress"]);
    }
}

/// The newest subtask of `device_id` in one of `states`: (task id, index).
fn find_subtask(store: &Store, device_id: &str, states: &[SubStatus]) -> Option<(String, usize)> {
    store.tasks.values().rev().find_map(|t| {
        t.details
            .iter()
            .position(|d| d.target == device_id && states.contains(&d.status))
            .map(|i| (t.task_id.clone(), i))
    })
}

/// `$ota upgrade_progress_report` from `device_id`.
pub fn on_progress(shared: &Shared, device_id: &str, paras: &Value) {
    let code = paras.get("result_code").and_then(Value::as_i64);
    let version = paras.get("version").and_then(Value::as_str).unwrap_or("");
    let progress = paras.get("progress").and_then(Value::as_i64);
    let desc = paras
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or("");
    let mut store = shared.ota();
    let Some((tid, i)) = find_subtask(&store, device_id, &[SubStatus::Processing]) else {
        crate::log!("{device_id}: upgrade_progress_report without a running OTA subtask");
        return;
    };
    let Some(pkg_version) = store
        .tasks
        .get(&tid)
        .and_then(|t| store.packages.get(&t.package_id))
        .map(|p| p.version.clone())
    else {
        return;
    };
    let Some(d) = store.tasks.get_mut(&tid).and_then(|t| t.details.get_mut(i)) else {
        return;
    };
    match code {
        Some(0) if version == pkg_version && progress.is_none_or(|p| p == 100) => {
            d.status = SubStatus::Success;
            d.output = Some(format!("upgraded to {version}"));
        }
        Some(0) => {
            d.output = Some(format!("progress {}%", progress.unwrap_or(0)));
        }
        Some(c) => {
            d.status = SubStatus::Fail;
            d.error = Some((c.to_string(), desc.to_string()));
            d.output = Some(format!("device reported result_code {c}"));
        }
        None => {
            crate::log!("{device_id}: upgrade_progress_report without an integer result_code");
            return;
        }
    }
    crate::log!(
        "{device_id}: ota task {tid}: {} ({})",
        d.status.name(),
        d.output.as_deref().unwrap_or("")
    );
}

/// `$ota version_report` from `device_id`: completes a running subtask whose
/// version the device now reports; starts a waiting one.
pub fn on_version(shared: &Shared, device_id: &str, sw: Option<&str>, fw: Option<&str>) {
    let waiting = {
        let mut store = shared.ota();
        if let Some((tid, i)) = find_subtask(&store, device_id, &[SubStatus::Processing]) {
            let reported = store
                .tasks
                .get(&tid)
                .map(|t| if t.firmware() { fw } else { sw });
            let pkg_version = store
                .tasks
                .get(&tid)
                .and_then(|t| store.packages.get(&t.package_id))
                .map(|p| p.version.clone());
            if let (Some(Some(r)), Some(v)) = (reported, pkg_version) {
                if r == v {
                    if let Some(d) = store.tasks.get_mut(&tid).and_then(|t| t.details.get_mut(i)) {
                        d.status = SubStatus::Success;
                        d.output = Some(format!("device reports version {v}"));
                    }
                }
            }
        }
        find_subtask(&store, device_id, &[SubStatus::Waitting]).map(|(tid, _)| tid)
    };
    if let Some(tid) = waiting {
        start_task(shared, &tid);
    }
}

/// Whether `s` is a package version / source version: 1..=256 of
/// `[A-Za-z0-9_.-]`.
pub fn is_version(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 256
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'))
}

/// A single `Range: bytes=` range over `len` bytes: `Ok(None)` without a
/// header, `Ok(Some((start, end_inclusive)))`, `Err(())` unsatisfiable (416).
#[allow(clippy::result_unit_err)]
pub fn parse_range(header: Option<&str>, len: u64) -> Result<Option<(u64, u64)>, ()> {
    let Some(h) = header else {
        return Ok(None);
    };
    let spec = h.trim().strip_prefix("bytes=").ok_or(())?;
    if spec.contains(',') {
        return Err(()); // one range only
    }
    let (a, b) = spec.split_once('-').ok_or(())?;
    let (a, b) = (a.trim(), b.trim());
    let (start, end) = if a.is_empty() {
        // suffix: the last n bytes
        let n: u64 = b.parse().map_err(|_| ())?;
        if n == 0 {
            return Err(());
        }
        (len.saturating_sub(n), len.saturating_sub(1))
    } else {
        let s: u64 = a.parse().map_err(|_| ())?;
        let e: u64 = if b.is_empty() {
            len.saturating_sub(1)
        } else {
            b.parse::<u64>().map_err(|_| ())?.min(len.saturating_sub(1))
        };
        (s, e)
    };
    if len == 0 || start >= len || end < start {
        return Err(());
    }
    Ok(Some((start, end)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expired_tokens_are_forgotten() {
        let mut store = Store::default();
        store.faults.token_ttl_secs = 10;
        store.add_token("a".into(), "p".into(), 1_000);
        store.add_token("b".into(), "p".into(), 5_000);
        assert_eq!(store.tokens.len(), 2, "both still valid");
        assert!(!store.tokens["a"].expired(10_999));
        assert!(store.tokens["a"].expired(11_000), "expired at its end");
        // "a" expired at 11,000: handing out "c" then forgets it
        store.add_token("c".into(), "p".into(), 11_000);
        let mut left: Vec<_> = store.tokens.keys().cloned().collect();
        left.sort();
        assert_eq!(left, ["b", "c"]);
    }

    #[test]
    fn ranges() {
        assert_eq!(parse_range(None, 10), Ok(None));
        assert_eq!(parse_range(Some("bytes=0-"), 10), Ok(Some((0, 9))));
        assert_eq!(parse_range(Some("bytes=4-"), 10), Ok(Some((4, 9))));
        assert_eq!(parse_range(Some("bytes=4-5"), 10), Ok(Some((4, 5))));
        assert_eq!(parse_range(Some("bytes=4-99"), 10), Ok(Some((4, 9))));
        assert_eq!(parse_range(Some("bytes=-3"), 10), Ok(Some((7, 9))));
        assert_eq!(parse_range(Some("bytes=10-"), 10), Err(()));
        assert_eq!(parse_range(Some("bytes=5-4"), 10), Err(()));
        assert_eq!(parse_range(Some("bytes=0-1,3-4"), 10), Err(()));
        assert_eq!(parse_range(Some("items=0-1"), 10), Err(()));
        assert_eq!(parse_range(Some("bytes=x-"), 10), Err(()));
        assert_eq!(parse_range(Some("bytes=0-"), 0), Err(()));
    }

    #[test]
    fn versions() {
        assert!(is_version("V2.0_rc-1"));
        assert!(!is_version(""));
        assert!(!is_version("v 2"));
        assert!(!is_version(&"1".repeat(257)));
    }

    fn task(states: &[SubStatus]) -> Task {
        Task {
            task_id: "t".into(),
            task_name: "n".into(),
            task_type: "firmwareUpgrade".into(),
            package_id: "p".into(),
            create_time: String::new(),
            details: states
                .iter()
                .enumerate()
                .map(|(i, s)| Detail {
                    target: format!("d{i}"),
                    status: *s,
                    output: None,
                    error: None,
                })
                .collect(),
        }
    }

    #[test]
    fn batch_status() {
        use SubStatus::*;
        assert_eq!(task(&[Success, Processing]).status(), "Processing");
        assert_eq!(task(&[Success, Waitting]).status(), "Processing");
        assert_eq!(task(&[Success, Success]).status(), "Success");
        assert_eq!(task(&[Fail, Fail]).status(), "Fail");
        assert_eq!(task(&[Success, Fail]).status(), "PartialSuccess");
        let v = task(&[Success, Fail, Waitting]).to_json();
        assert_eq!(
            v["task_progress"],
            json!({"total": 3, "processing": 0, "success": 1, "fail": 1, "waitting": 1,
                   "fail_wait_retry": 0, "stopped": 0})
        );
    }
}
