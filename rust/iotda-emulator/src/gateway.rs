//! Gateways and their sub-devices (`$sub_device_manager`).
//!
//! Sources (Huawei IoTDA API reference, device side over MQTT):
//! - `iot_06_v5_3019` / `iot_06_v5_3020`: the platform notifies an online
//!   gateway of sub-devices added / deleted (`add_sub_device_notify`,
//!   `delete_sub_device_notify`) with the list's `version`.
//! - `iot_06_v5_3021`: `sub_device_sync_request` `{version?}`: the gateway
//!   catches up on the changes after `version`.
//! - `iot_06_v5_3022` / `iot_06_v5_30233`: `sub_device_update_status`
//!   (`device_statuses`, 1 to 100, ONLINE/OFFLINE) and its response
//!   (`successful_devices`, `failed_devices`).
//! - `iot_06_v5_30181` / `30182`: `add_sub_device_request` (up to 50;
//!   `node_id`, `product_id` mandatory; `device_id` defaults to
//!   `{product_id}_{node_id}`) and `add_sub_device_response` with the
//!   request's `event_id` (generated when the request had none).
//! - `iot_06_v5_30183` / `30184`: `delete_sub_device_request` (up to 50
//!   device ids) and `delete_sub_device_response` (`successful_devices`:
//!   ids; `failed_devices`: `{device_id, error_code, error_msg}`).
//! - REST `iot_06_v5_0046` (AddDevice with `gateway_id`: a child device),
//!   `iot_06_v5_0048` (ListDevices `?gateway_id=`: its children).
//!
//! Error codes in `failed_devices` are not listed by Huawei; the emulator
//! uses its REST codes (IOTDA.000006 bad input, IOTDA.010001 no such child,
//! IOTDA.010002 exists). A sub-device is a device of the platform without a
//! connection of its own: its status is what its gateway last reported.

use serde_json::{json, Value};

use crate::config::DeviceConfig;
use crate::log;
use crate::services::send_event;
use crate::state::{Device, Shared, State};

/// Devices per add / delete request; statuses per update.
pub const MAX_ADD: usize = 50;
pub const MAX_DELETE: usize = 50;
pub const MAX_STATUSES: usize = 100;

const SERVICE: &str = "$sub_device_manager";

/// What the platform knows of a sub-device beyond [`Device`].
#[derive(Debug, Clone)]
pub struct SubDevice {
    pub gateway_id: String,
    pub node_id: String,
    pub product_id: String,
    pub name: Option<String>,
    pub description: Option<String>,
    pub extension_info: Option<Value>,
    /// As the gateway last reported it (OFFLINE until then).
    pub status: &'static str,
}

/// One gateway's sub-device list history: every change gets the next version.
#[derive(Debug, Clone, Default)]
pub struct GatewayBook {
    pub version: u64,
    /// (version, added?, DeviceInfo) for `sub_device_sync_request`.
    pub changes: Vec<(u64, bool, Value)>,
}

impl SubDevice {
    /// The DeviceInfo of the notify and response events.
    pub fn info(&self, device_id: &str) -> Value {
        json!({"parent_device_id": self.gateway_id, "node_id": self.node_id,
               "device_id": device_id, "name": self.name, "description": self.description,
               "product_id": self.product_id, "extension_info": self.extension_info,
               "status": self.status})
    }
}

fn fail(key: &str, id: &str, code: &str, msg: impl Into<String>) -> Value {
    json!({key: id, "error_code": code, "error_msg": msg.into()})
}

/// The gateway a command or request for `device_id` goes through: its
/// gateway for a sub-device, itself otherwise.
pub fn route<'a>(st: &'a State, device_id: &'a str) -> &'a str {
    st.services
        .subs
        .get(device_id)
        .map(|s| s.gateway_id.as_str())
        .unwrap_or(device_id)
}

/// Adds `sub` under `gateway_id` (the caller checked the ids): registers the
/// device, records the change. Returns the DeviceInfo.
pub fn attach(st: &mut State, shared: &Shared, device_id: &str, sub: SubDevice) -> Value {
    let mut cfg = DeviceConfig::with_secret(device_id, &shared.new_uuid());
    cfg.node_id = Some(sub.node_id.clone());
    cfg.product_id = Some(sub.product_id.clone());
    st.devices
        .insert(device_id.to_string(), Device::from_config(&cfg));
    let info = sub.info(device_id);
    let book = st
        .services
        .gateways
        .entry(sub.gateway_id.clone())
        .or_default();
    book.version += 1;
    book.changes.push((book.version, true, info.clone()));
    st.services.subs.insert(device_id.to_string(), sub);
    info
}

/// Removes sub-device `device_id`; its DeviceInfo (`None` if it is not one).
pub fn detach(st: &mut State, device_id: &str) -> Option<Value> {
    let sub = st.services.subs.remove(device_id)?;
    st.devices.remove(device_id);
    let info = json!({"parent_device_id": sub.gateway_id, "node_id": sub.node_id,
                      "device_id": device_id});
    let book = st
        .services
        .gateways
        .entry(sub.gateway_id.clone())
        .or_default();
    book.version += 1;
    book.changes.push((book.version, false, info.clone()));
    Some(info)
}

/// Tells gateway `gw` of a change made through REST (it syncs later if offline).
pub fn notify(st: &mut State, shared: &Shared, gw: &str, added: bool, info: Value) {
    let version = st.services.gateways.get(gw).map_or(0, |b| b.version);
    let etype = if added {
        "add_sub_device_notify"
    } else {
        "delete_sub_device_notify"
    };
    send_event(
        st,
        shared,
        gw,
        (SERVICE, etype, None),
        json!({"devices": [info], "version": version}),
        false,
    );
}

/// Adds the fields ShowDevice / ListDevices have for gateways and children.
pub fn decorate(st: &State, v: &mut Value) {
    let Some(id) = v
        .get("device_id")
        .and_then(Value::as_str)
        .map(str::to_string)
    else {
        return;
    };
    let Some(o) = v.as_object_mut() else { return };
    match st.services.subs.get(&id) {
        Some(sub) => {
            o.insert("gateway_id".into(), json!(sub.gateway_id));
            o.insert("node_type".into(), json!("ENDPOINT"));
            o.insert("status".into(), json!(sub.status));
            o.insert("online".into(), json!(sub.status == "ONLINE"));
        }
        None => {
            let is_gw = st.services.subs.values().any(|s| s.gateway_id == id);
            o.insert("gateway_id".into(), json!(id));
            o.insert(
                "node_type".into(),
                json!(if is_gw { "GATEWAY" } else { "ENDPOINT" }),
            );
        }
    }
}

/// The `$sub_device_manager` events a gateway sends up.
pub fn on_event(
    st: &mut State,
    shared: &Shared,
    gw: &str,
    etype: &str,
    event_id: Option<&str>,
    paras: &Value,
) {
    let event_id = event_id
        .map(str::to_string)
        .unwrap_or_else(|| shared.new_uuid());
    let reply = match etype {
        "add_sub_device_request" => Some((
            "add_sub_device_response",
            add_request(st, shared, gw, paras),
        )),
        "delete_sub_device_request" => {
            Some(("delete_sub_device_response", delete_request(st, gw, paras)))
        }
        "sub_device_update_status" => Some((
            "sub_device_update_status_response",
            update_status(st, gw, paras),
        )),
        "sub_device_sync_request" => {
            sync(st, shared, gw, paras);
            None
        }
        _ => {
            log!("{gw}: $sub_device_manager {etype}: not an event a gateway sends (ignored)");
            None
        }
    };
    if let Some((rtype, r)) = reply {
        log!("{gw}: $sub_device_manager {etype} -> {r}");
        send_event(st, shared, gw, (SERVICE, rtype, Some(&event_id)), r, false);
    }
}

fn devices_list(paras: &Value, max: usize) -> Result<&Vec<Value>, String> {
    match paras.get("devices").and_then(Value::as_array) {
        None => Err("paras.devices must be a list".into()),
        Some(l) if l.is_empty() => Err("paras.devices is empty".into()),
        Some(l) if l.len() > max => Err(format!("at most {max} devices per request")),
        Some(l) => Ok(l),
    }
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

/// `node_id`: 1..64 of letters, digits, `_` and `-` (AddDevice's rule).
fn is_node_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
}

/// `add_sub_device_request`: the response's paras.
pub fn add_request(st: &mut State, shared: &Shared, gw: &str, paras: &Value) -> Value {
    let mut ok = Vec::new();
    let mut failed = Vec::new();
    let list = match devices_list(paras, MAX_ADD) {
        Ok(l) => l.clone(),
        Err(e) => {
            failed.push(json!({"node_id": null, "product_id": null, "error_code": "IOTDA.000006", "error_msg": e}));
            Vec::new()
        }
    };
    if st.services.subs.contains_key(gw) {
        // IoTDA: two levels at most; the emulator keeps one (a child is no gateway).
        let msg = "a sub-device cannot be a gateway in the emulator";
        return json!({"successful_devices": [], "failed_devices": [fail("node_id", "", "IOTDA.000006", msg)]});
    }
    for d in &list {
        let node_id = text(d, "node_id");
        let product_id = text(d, "product_id");
        let mut f = |code: &str, msg: String| {
            failed.push(json!({"node_id": node_id, "product_id": product_id,
                               "error_code": code, "error_msg": msg}))
        };
        let (Some(node), Some(product)) = (node_id.clone(), product_id.clone()) else {
            f(
                "IOTDA.000006",
                "node_id and product_id (strings) are mandatory".into(),
            );
            continue;
        };
        if !is_node_id(&node) {
            f(
                "IOTDA.000006",
                format!("node_id {node:?}: 1..64 of letters, digits, _ and -"),
            );
            continue;
        }
        let device_id = text(d, "device_id").unwrap_or_else(|| format!("{product}_{node}"));
        if let Err(e) = iotda::validate::device_id(device_id.as_bytes()) {
            f("IOTDA.000006", format!("device_id {device_id:?}: {e}"));
            continue;
        }
        if let Some(parent) = text(d, "parent_device_id").filter(|p| p != gw) {
            f(
                "IOTDA.000006",
                format!("parent_device_id {parent:?} is not this gateway"),
            );
            continue;
        }
        if st.devices.contains_key(&device_id) {
            f("IOTDA.010002", format!("device {device_id} already exists"));
            continue;
        }
        let sub = SubDevice {
            gateway_id: gw.to_string(),
            node_id: node,
            product_id: product,
            name: text(d, "name"),
            description: text(d, "description"),
            extension_info: d.get("extension_info").cloned(),
            status: "OFFLINE",
        };
        ok.push(attach(st, shared, &device_id, sub));
    }
    json!({"successful_devices": ok, "failed_devices": failed})
}

/// `delete_sub_device_request`: the response's paras.
pub fn delete_request(st: &mut State, gw: &str, paras: &Value) -> Value {
    let mut ok = Vec::new();
    let mut failed = Vec::new();
    match devices_list(paras, MAX_DELETE) {
        Err(e) => failed.push(fail("device_id", "", "IOTDA.000006", e)),
        Ok(list) => {
            for d in list {
                let Some(id) = d.as_str() else {
                    failed.push(fail(
                        "device_id",
                        "",
                        "IOTDA.000006",
                        "each device is a device id (string)",
                    ));
                    continue;
                };
                if st.services.subs.get(id).is_none_or(|s| s.gateway_id != gw) {
                    failed.push(fail(
                        "device_id",
                        id,
                        "IOTDA.010001",
                        format!("{id} is not a sub-device of {gw}"),
                    ));
                    continue;
                }
                detach(st, id);
                ok.push(json!(id));
            }
        }
    }
    json!({"successful_devices": ok, "failed_devices": failed})
}

/// `sub_device_update_status`: the response's paras.
pub fn update_status(st: &mut State, gw: &str, paras: &Value) -> Value {
    let mut ok = Vec::new();
    let mut failed = Vec::new();
    let list = paras.get("device_statuses").and_then(Value::as_array);
    match list {
        None => failed.push(fail(
            "device_id",
            "",
            "IOTDA.000006",
            "paras.device_statuses must be a list",
        )),
        Some(l) if l.is_empty() || l.len() > MAX_STATUSES => failed.push(fail(
            "device_id",
            "",
            "IOTDA.000006",
            format!("device_statuses: 1 to {MAX_STATUSES} entries"),
        )),
        Some(l) => {
            for d in l {
                let id = text(d, "device_id").unwrap_or_default();
                let status = match d.get("status").and_then(Value::as_str) {
                    Some("ONLINE") => "ONLINE",
                    Some("OFFLINE") => "OFFLINE",
                    _ => {
                        failed.push(fail(
                            "device_id",
                            &id,
                            "IOTDA.000006",
                            "status must be ONLINE or OFFLINE",
                        ));
                        continue;
                    }
                };
                match st.services.subs.get_mut(&id).filter(|s| s.gateway_id == gw) {
                    Some(sub) => {
                        sub.status = status;
                        ok.push(json!({"device_id": id, "status": status}));
                    }
                    None => failed.push(fail(
                        "device_id",
                        &id,
                        "IOTDA.010001",
                        format!("{id:?} is not a sub-device of {gw}"),
                    )),
                }
            }
        }
    }
    json!({"successful_devices": ok, "failed_devices": failed})
}

/// `sub_device_sync_request`: the changes after the gateway's `version`, as
/// one add and one delete notification (only those with something in them).
fn sync(st: &mut State, shared: &Shared, gw: &str, paras: &Value) {
    let since = paras.get("version").and_then(Value::as_u64).unwrap_or(0);
    let book = st.services.gateways.get(gw).cloned().unwrap_or_default();
    for added in [true, false] {
        let devs: Vec<Value> = book
            .changes
            .iter()
            .filter(|(v, a, _)| *v > since && *a == added)
            .map(|(_, _, info)| info.clone())
            .collect();
        if !devs.is_empty() {
            let etype = if added {
                "add_sub_device_notify"
            } else {
                "delete_sub_device_notify"
            };
            let p = json!({"devices": devs, "version": book.version});
            send_event(st, shared, gw, (SERVICE, etype, None), p, false);
        }
    }
    log!(
        "{gw}: sub_device_sync_request from version {since} (now {})",
        book.version
    );
}

/// `gateway/sub_devices/properties/report`: each listed child's report
/// feeds its shadow; others are logged and skipped.
pub fn sub_properties_report(st: &mut State, gw: &str, v: &Value) {
    let Some(devices) = v.get("devices").and_then(Value::as_array) else {
        log!("{gw}: sub-device properties report without a devices list");
        return;
    };
    for d in devices {
        let id = text(d, "device_id").unwrap_or_default();
        if st.services.subs.get(&id).is_none_or(|s| s.gateway_id != gw) {
            log!("{gw}: properties of {id:?} skipped: not a sub-device of this gateway");
            continue;
        }
        if let Some(dev) = st.devices.get_mut(&id) {
            crate::shadow::apply_report(
                dev,
                &json!({"services": d.get("services").cloned().unwrap_or(json!([]))}),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn platform() -> std::sync::Arc<Shared> {
        let mut cfg = Config::default();
        cfg.devices.push(DeviceConfig::with_secret("gw", "s"));
        cfg.devices.push(DeviceConfig::with_secret("other", "s"));
        Shared::new(cfg)
    }

    #[test]
    fn add_checks_each_device() {
        let sh = platform();
        let mut st = sh.lock();
        let r = add_request(
            &mut st,
            &sh,
            "gw",
            &json!({"devices": [
                {"node_id": "n1", "product_id": "p"},
                {"node_id": "n2", "product_id": "p", "device_id": "child-2", "name": "two"},
                {"node_id": "n1", "product_id": "p"},
                {"product_id": "p"},
                {"node_id": "bad/node", "product_id": "p"},
                {"node_id": "n3", "product_id": "p", "device_id": "other"},
                {"node_id": "n4", "product_id": "p", "parent_device_id": "other"},
            ]}),
        );
        let ok: Vec<&str> = r["successful_devices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["device_id"].as_str().unwrap())
            .collect();
        assert_eq!(ok, ["p_n1", "child-2"]);
        let codes: Vec<&str> = r["failed_devices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["error_code"].as_str().unwrap())
            .collect();
        assert_eq!(
            codes,
            [
                "IOTDA.010002",
                "IOTDA.000006",
                "IOTDA.000006",
                "IOTDA.010002",
                "IOTDA.000006"
            ]
        );
        assert_eq!(r["successful_devices"][0]["parent_device_id"], "gw");
        assert_eq!(st.services.gateways["gw"].version, 2);
        assert!(st.devices.contains_key("p_n1"));
        assert_eq!(route(&st, "p_n1"), "gw");
        assert_eq!(route(&st, "gw"), "gw");
        let too_many: Vec<Value> = (0..51)
            .map(|i| json!({"node_id": format!("m{i}"), "product_id": "p"}))
            .collect();
        let r = add_request(&mut st, &sh, "gw", &json!({"devices": too_many}));
        assert_eq!(r["successful_devices"], json!([]));
        assert!(r["failed_devices"][0]["error_msg"]
            .as_str()
            .unwrap()
            .contains("at most 50"));
        let r = add_request(
            &mut st,
            &sh,
            "p_n1",
            &json!({"devices": [{"node_id": "x", "product_id": "p"}]}),
        );
        assert_eq!(r["successful_devices"], json!([]));
    }

    #[test]
    fn status_and_delete_only_for_own_children() {
        let sh = platform();
        let mut st = sh.lock();
        add_request(
            &mut st,
            &sh,
            "gw",
            &json!({"devices": [{"node_id": "n1", "product_id": "p"}]}),
        );
        let r = update_status(
            &mut st,
            "gw",
            &json!({"device_statuses": [
            {"device_id": "p_n1", "status": "ONLINE"},
            {"device_id": "p_n1", "status": "SLEEPING"},
            {"device_id": "other", "status": "ONLINE"}]}),
        );
        assert_eq!(
            r["successful_devices"],
            json!([{"device_id": "p_n1", "status": "ONLINE"}])
        );
        assert_eq!(r["failed_devices"].as_array().unwrap().len(), 2);
        assert_eq!(st.services.subs["p_n1"].status, "ONLINE");
        let r = update_status(
            &mut st,
            "other",
            &json!({"device_statuses": [{"device_id": "p_n1", "status": "OFFLINE"}]}),
        );
        assert_eq!(r["failed_devices"][0]["error_code"], "IOTDA.010001");
        assert_eq!(st.services.subs["p_n1"].status, "ONLINE");
        let r = update_status(&mut st, "gw", &json!({"device_statuses": []}));
        assert_eq!(r["failed_devices"][0]["error_code"], "IOTDA.000006");

        let r = delete_request(&mut st, "other", &json!({"devices": ["p_n1"]}));
        assert_eq!(r["successful_devices"], json!([]));
        let r = delete_request(&mut st, "gw", &json!({"devices": ["p_n1", "nope", 5]}));
        assert_eq!(r["successful_devices"], json!(["p_n1"]));
        assert_eq!(r["failed_devices"].as_array().unwrap().len(), 2);
        assert!(!st.devices.contains_key("p_n1"));
        let book = &st.services.gateways["gw"];
        assert_eq!((book.version, book.changes.len()), (2, 2));
        assert!(!book.changes[1].1, "the second change is the deletion");
    }

    #[test]
    fn decorate_marks_gateways_and_children() {
        let sh = platform();
        let mut st = sh.lock();
        add_request(
            &mut st,
            &sh,
            "gw",
            &json!({"devices": [{"node_id": "n1", "product_id": "p"}]}),
        );
        let mut child = json!({"device_id": "p_n1", "status": "OFFLINE"});
        decorate(&st, &mut child);
        assert_eq!(child["gateway_id"], "gw");
        assert_eq!(child["node_type"], "ENDPOINT");
        let mut gw = json!({"device_id": "gw"});
        decorate(&st, &mut gw);
        assert_eq!(gw["node_type"], "GATEWAY");
    }
}
