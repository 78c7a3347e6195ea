//! The platform's side of the device services beyond properties, messages
//! and commands: gateway sub-devices (`$sub_device_manager`, [`gateway`]),
//! files (`$file_manager`, [`files`]), device logs (`$log`), SDK info
//! (`$sdk_info`) and remote configuration (`$device_config`).
//!
//! Sources (Huawei IoTDA API reference, device side over MQTT):
//! - `iot_06_v5_1302` Device Reporting Log Content: `log_report` with
//!   `type` one of DEVICE_STATUS / DEVICE_PROPERTY / DEVICE_MESSAGE /
//!   DEVICE_COMMAND, `content` mandatory, `timestamp` optional; reported
//!   "when log collection is enabled".
//! - `iot_06_v5_1303` Platform Delivering a Log Collection Notification:
//!   `log_config` with `switch` on/off and `end_time` `yyyyMMdd'T'HHmmss'Z'`.
//! - `iot_0802` / `iot_0803` remote configuration: `config_update` with
//!   `config_content` (object) down, `config_update_response` with
//!   `result_code` (0 success) and `description` up.
//! - `$sdk_info` / `sdk_info_report` (`device_sdk_version`, `sw_version`,
//!   `fw_version`, `device_ip`): as Huawei's C and Python device SDKs send it.
//!
//! Huawei has no public REST resource for log collection, device logs or
//! remote configuration tasks (they are console features); the emulator
//! offers them under `/emulator/devices/{id}/...` (see [`routes`]).

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State as AxState};
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};

use crate::files::{self, StoredFile, UrlGrant};
use crate::gateway::{self, GatewayBook, SubDevice};
use crate::log;
use crate::rest::body::{json_object, opt_str};
use crate::rest::devices::DevicePath;
use crate::rest::error::{ok, ApiError, ApiResult};
use crate::state::{event_time_now, Delivery, Shared, State};

/// Log entries kept per device (oldest dropped).
pub const LOGS_KEPT: usize = 1000;

/// The documented log types (`iot_06_v5_1302`).
pub const LOG_TYPES: [&str; 4] = [
    "DEVICE_STATUS",
    "DEVICE_PROPERTY",
    "DEVICE_MESSAGE",
    "DEVICE_COMMAND",
];

/// One `log_report` as received.
#[derive(Debug, Clone)]
pub struct LogEntry {
    pub log_type: String,
    pub content: String,
    pub timestamp: Option<String>,
    pub received: String,
    /// Log collection was on for the device when it arrived.
    pub collecting: bool,
    /// Why it was refused (then `log_type`/`content` are what could be read).
    pub rejected: Option<String>,
}

/// What the platform told a device about log collection.
#[derive(Debug, Clone, Default)]
pub struct LogSwitch {
    pub on: bool,
    pub end_time: Option<String>,
}

/// A remote configuration pushed to a device and its answer.
#[derive(Debug, Clone)]
pub struct ConfigTask {
    pub content: Value,
    pub created: String,
    /// `None` until the device answers.
    pub result_code: Option<i64>,
    pub description: Option<String>,
}

/// The services' state (a field of [`State`]).
#[derive(Debug, Default)]
pub struct Services {
    /// Sub-device id -> its gateway and node information.
    pub subs: HashMap<String, SubDevice>,
    /// Gateway id -> version and change history of its sub-device list.
    pub gateways: HashMap<String, GatewayBook>,
    /// OBS stand-in: object name -> file.
    pub files: HashMap<String, StoredFile>,
    /// Temporary URL token -> what it grants.
    pub grants: HashMap<String, UrlGrant>,
    pub logs: HashMap<String, VecDeque<LogEntry>>,
    pub log_switch: HashMap<String, LogSwitch>,
    pub sdk_info: HashMap<String, Value>,
    pub configs: HashMap<String, ConfigTask>,
    /// The HTTP listener's address (for the file URLs).
    pub http_addr: Option<SocketAddr>,
}

/// Publishes one event about `device_id` on its `sys/events/down` (its
/// gateway's for a sub-device).
/// `event`: service id, event type, event id.
pub fn send_event(
    st: &mut State,
    shared: &Shared,
    device_id: &str,
    event: (&str, &str, Option<&str>),
    paras: Value,
    keep: bool,
) -> Delivery {
    let (service_id, event_type, event_id) = event;
    let mut svc = json!({"service_id": service_id, "event_type": event_type,
                         "event_time": event_time_now(), "paras": paras});
    if let Some(e) = event_id {
        svc["event_id"] = json!(e);
    }
    let body = json!({"object_device_id": device_id, "services": [svc]});
    // A sub-device's events go down its gateway's topic, object_device_id naming it.
    let to = crate::gateway::route(st, device_id).to_string();
    let topic = format!("$oc/devices/{to}/sys/events/down");
    st.deliver(
        shared.next_id(),
        &to,
        &topic,
        body.to_string().into_bytes(),
        keep,
    )
}

/// One service entry of a device's `sys/events/up`. True if it belonged to
/// one of these services (handled, or refused with a log line).
pub fn on_event(shared: &Shared, device_id: &str, object_device_id: &str, s: &Value) -> bool {
    let sid = s.get("service_id").and_then(Value::as_str).unwrap_or("");
    let etype = s.get("event_type").and_then(Value::as_str).unwrap_or("");
    let event_id = s.get("event_id").and_then(Value::as_str);
    let empty = json!({});
    let paras = s.get("paras").unwrap_or(&empty);
    if !matches!(
        sid,
        "$sub_device_manager" | "$file_manager" | "$log" | "$sdk_info" | "$device_config"
    ) {
        return false;
    }
    let mut st = shared.lock();
    // A device speaks for itself, a gateway also for its children (iot_06_v5_3035 ...).
    if object_device_id != device_id
        && st
            .services
            .subs
            .get(object_device_id)
            .is_none_or(|s| s.gateway_id != device_id)
    {
        log!("{device_id}: {sid}/{etype} for {object_device_id:?} refused: not this device or one of its sub-devices");
        return true;
    }
    match sid {
        "$sub_device_manager" => {
            gateway::on_event(&mut st, shared, device_id, etype, event_id, paras)
        }
        "$file_manager" => files::on_event(&mut st, shared, object_device_id, etype, paras),
        "$log" if etype == "log_report" => {
            let entry = log_entry(&st.services, object_device_id, paras);
            match &entry.rejected {
                Some(why) => log!("{device_id}: $log log_report refused: {why}"),
                None => log!(
                    "{object_device_id}: log {} {:?}",
                    entry.log_type,
                    entry.content
                ),
            }
            let logs = st
                .services
                .logs
                .entry(object_device_id.to_string())
                .or_default();
            if logs.len() >= LOGS_KEPT {
                logs.pop_front();
            }
            logs.push_back(entry);
        }
        "$sdk_info" if etype == "sdk_info_report" => {
            log!("{object_device_id}: $sdk_info {paras}");
            st.services
                .sdk_info
                .insert(object_device_id.to_string(), paras.clone());
        }
        "$device_config" if etype == "config_update_response" => {
            let code = paras.get("result_code").and_then(Value::as_i64);
            let desc = paras.get("description").and_then(Value::as_str);
            match (st.services.configs.get_mut(object_device_id), code) {
                (Some(task), Some(code)) => {
                    task.result_code = Some(code);
                    task.description = desc.map(str::to_string);
                    log!("{object_device_id}: config_update_response {code} {desc:?}");
                }
                (None, _) => log!("{object_device_id}: config_update_response to no configuration"),
                (_, None) => log!(
                    "{object_device_id}: config_update_response without an integer result_code"
                ),
            }
        }
        _ => return false,
    }
    true
}

/// A `log_report`'s paras checked against `iot_06_v5_1302`.
fn log_entry(sv: &Services, device_id: &str, paras: &Value) -> LogEntry {
    let log_type = paras.get("type").and_then(Value::as_str);
    let content = paras.get("content").and_then(Value::as_str);
    let timestamp = paras.get("timestamp");
    let now = event_time_now();
    let rejected = if !paras.is_object() {
        Some("paras is not an object".to_string())
    } else if content.is_none() {
        Some("content (string) is mandatory".into())
    } else if !log_type.is_some_and(|t| LOG_TYPES.contains(&t)) {
        Some(format!("type must be one of {}", LOG_TYPES.join(", ")))
    } else if timestamp.is_some_and(|t| !t.is_string()) {
        Some("timestamp must be a string".into())
    } else {
        None
    };
    LogEntry {
        log_type: log_type.unwrap_or("").to_string(),
        content: content.unwrap_or("").to_string(),
        timestamp: timestamp.and_then(Value::as_str).map(str::to_string),
        collecting: sv
            .log_switch
            .get(device_id)
            .is_some_and(|s| s.on && s.end_time.as_ref().is_none_or(|e| now < *e)),
        received: now,
        rejected,
    }
}

/// `yyyyMMdd'T'HHmmss'Z'` (16 characters, digits where digits go).
pub fn is_event_time(t: &str) -> bool {
    let b = t.as_bytes();
    b.len() == 16
        && b[8] == b'T'
        && b[15] == b'Z'
        && b[..8].iter().chain(&b[9..15]).all(u8::is_ascii_digit)
}

/// The emulator's HTTP routes for these services: the OBS stand-in
/// (`/obs/...`) and the inspection / control endpoints.
pub fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .merge(files::routes())
        .route("/emulator/devices/{device_id}/logs", get(logs))
        .route(
            "/emulator/devices/{device_id}/log_config",
            axum::routing::post(log_config),
        )
        .route(
            "/emulator/devices/{device_id}/config",
            get(config_show).post(config_push),
        )
        .route("/emulator/devices/{device_id}/sdk_info", get(sdk_info))
}

fn require(st: &State, id: &str) -> Result<(), ApiError> {
    if st.devices.contains_key(id) {
        Ok(())
    } else {
        Err(ApiError::no_device(id))
    }
}

fn delivery_name(d: Delivery) -> &'static str {
    match d {
        Delivery::Delivered => "DELIVERED",
        Delivery::Pending => "PENDING",
        Delivery::NotDelivered => "NOT_DELIVERED",
    }
}

/// `GET /emulator/devices/{id}/logs`: what the device logged, and the switch.
async fn logs(AxState(shared): AxState<Arc<Shared>>, Path(p): Path<DevicePath>) -> ApiResult {
    let st = shared.lock();
    require(&st, &p.device_id)?;
    let sw = st
        .services
        .log_switch
        .get(&p.device_id)
        .cloned()
        .unwrap_or_default();
    let logs: Vec<Value> = st
        .services
        .logs
        .get(&p.device_id)
        .map(|l| {
            l.iter()
                .map(|e| {
                    json!({"type": e.log_type, "content": e.content, "timestamp": e.timestamp,
                           "received": e.received, "collecting": e.collecting, "rejected": e.rejected})
                })
                .collect()
        })
        .unwrap_or_default();
    ok(
        StatusCode::OK,
        json!({"device_id": p.device_id, "switch": if sw.on { "on" } else { "off" },
               "end_time": sw.end_time, "logs": logs}),
    )
}

/// `POST /emulator/devices/{id}/log_config` `{"switch": "on"|"off", "end_time"?}`:
/// sends `$log`/`log_config` (kept until the device's next uplink if offline).
async fn log_config(
    AxState(shared): AxState<Arc<Shared>>,
    Path(p): Path<DevicePath>,
    body: Bytes,
) -> ApiResult {
    let id = p.device_id;
    let b = json_object(&body)?;
    let on = match opt_str(&b, "switch")? {
        Some("on") => true,
        Some("off") => false,
        _ => return Err(ApiError::bad_request("switch must be \"on\" or \"off\"")),
    };
    let end_time = opt_str(&b, "end_time")?;
    if end_time.is_some_and(|t| !is_event_time(t)) {
        return Err(ApiError::bad_request(
            "end_time must be yyyyMMdd'T'HHmmss'Z'",
        ));
    }
    let mut st = shared.lock();
    require(&st, &id)?;
    let mut paras = json!({"switch": if on { "on" } else { "off" }});
    if let Some(t) = end_time {
        paras["end_time"] = json!(t);
    }
    st.services.log_switch.insert(
        id.clone(),
        LogSwitch {
            on,
            end_time: end_time.map(str::to_string),
        },
    );
    let d = send_event(
        &mut st,
        &shared,
        &id,
        ("$log", "log_config", None),
        paras.clone(),
        true,
    );
    log!("{id}: log collection {} ({})", paras, delivery_name(d));
    ok(
        StatusCode::OK,
        json!({"device_id": id, "paras": paras, "delivery": delivery_name(d)}),
    )
}

/// `POST /emulator/devices/{id}/config` `{"config_content": {...}}`: a remote
/// configuration task for one device (`$device_config`/`config_update`).
async fn config_push(
    AxState(shared): AxState<Arc<Shared>>,
    Path(p): Path<DevicePath>,
    body: Bytes,
) -> ApiResult {
    let id = p.device_id;
    let b = json_object(&body)?;
    let Some(content) = b.get("config_content").filter(|c| c.is_object()) else {
        return Err(ApiError::bad_request("config_content (object) is required"));
    };
    let mut st = shared.lock();
    require(&st, &id)?;
    st.services.configs.insert(
        id.clone(),
        ConfigTask {
            content: content.clone(),
            created: event_time_now(),
            result_code: None,
            description: None,
        },
    );
    let paras = json!({"config_content": content});
    let d = send_event(
        &mut st,
        &shared,
        &id,
        ("$device_config", "config_update", None),
        paras,
        true,
    );
    log!("{id}: remote configuration sent ({})", delivery_name(d));
    ok(
        StatusCode::OK,
        json!({"device_id": id, "delivery": delivery_name(d)}),
    )
}

/// `GET /emulator/devices/{id}/config`: the last configuration and its result.
async fn config_show(
    AxState(shared): AxState<Arc<Shared>>,
    Path(p): Path<DevicePath>,
) -> ApiResult {
    let st = shared.lock();
    require(&st, &p.device_id)?;
    let task = st.services.configs.get(&p.device_id);
    let status = match task.map(|t| t.result_code) {
        None => "NONE",
        Some(None) => "WAITING",
        Some(Some(0)) => "SUCCESS",
        Some(Some(_)) => "FAILED",
    };
    ok(
        StatusCode::OK,
        json!({"device_id": p.device_id, "status": status,
               "config_content": task.map(|t| t.content.clone()),
               "created": task.map(|t| t.created.clone()),
               "result_code": task.and_then(|t| t.result_code),
               "description": task.and_then(|t| t.description.clone())}),
    )
}

/// `GET /emulator/devices/{id}/sdk_info`: the last `sdk_info_report`.
async fn sdk_info(AxState(shared): AxState<Arc<Shared>>, Path(p): Path<DevicePath>) -> ApiResult {
    let st = shared.lock();
    require(&st, &p.device_id)?;
    let info = st.services.sdk_info.get(&p.device_id).cloned();
    ok(
        StatusCode::OK,
        json!({"device_id": p.device_id, "sdk_info": info}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_time_format() {
        assert!(is_event_time("20151212T131212Z"));
        assert!(!is_event_time("2015-12-12T13:12:12Z"));
        assert!(!is_event_time("20151212T1312120"));
        assert!(!is_event_time("2015121xT131212Z"));
    }

    #[test]
    fn log_reports_are_checked() {
        let mut sv = Services::default();
        let ok_entry = log_entry(&sv, "d", &json!({"type": "DEVICE_STATUS", "content": "up"}));
        assert_eq!(ok_entry.rejected, None);
        assert!(
            !ok_entry.collecting,
            "collection is off until log_config says on"
        );
        sv.log_switch.insert(
            "d".into(),
            LogSwitch {
                on: true,
                end_time: None,
            },
        );
        assert!(log_entry(&sv, "d", &json!({"type": "DEVICE_STATUS", "content": "up"})).collecting);
        sv.log_switch.insert(
            "d".into(),
            LogSwitch {
                on: true,
                end_time: Some("20000101T000000Z".into()),
            },
        );
        assert!(
            !log_entry(&sv, "d", &json!({"type": "DEVICE_STATUS", "content": "up"})).collecting
        );
        let bad = |p: Value| log_entry(&sv, "d", &p).rejected.unwrap();
        assert!(bad(json!({"type": "OTHER", "content": "x"})).contains("type must be one of"));
        assert!(bad(json!({"type": "DEVICE_STATUS"})).contains("content"));
        assert!(
            bad(json!({"type": "DEVICE_STATUS", "content": "x", "timestamp": 5}))
                .contains("timestamp")
        );
        assert!(bad(json!("x")).contains("not an object"));
    }
}
