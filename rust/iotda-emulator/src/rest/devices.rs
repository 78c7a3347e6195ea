//! Device registration and listing: `POST/GET /devices`, `GET/DELETE /devices/{id}`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{json, Value};

use super::body::{json_object, opt_str};
use super::error::{ok, ApiError, ApiResult};
use crate::config::DeviceConfig;
use crate::log;
use crate::state::{ConnMsg, Device, Shared};

#[derive(Debug, Deserialize)]
pub struct DevicePath {
    pub device_id: String,
}

/// ListDevices; `?gateway_id=G`: G's sub-devices (iot_06_v5_0048).
pub async fn list(State(shared): State<Arc<Shared>>, RawQuery(q): RawQuery) -> ApiResult {
    let gateway = super::body::query_param(q.as_deref(), "gateway_id");
    let st = shared.lock();
    let mut list = st.device_summaries();
    list.iter_mut()
        .for_each(|d| crate::gateway::decorate(&st, d));
    if let Some(g) = gateway {
        list.retain(|d| d["gateway_id"] == g.as_str() && d["device_id"] != g.as_str());
    }
    let n = list.len();
    ok(
        StatusCode::OK,
        json!({"devices": list, "page": {"count": n}}),
    )
}

pub async fn show(State(shared): State<Arc<Shared>>, Path(p): Path<DevicePath>) -> ApiResult {
    let st = shared.lock();
    match st.devices.get(&p.device_id) {
        Some(d) => {
            let mut v = d.summary();
            crate::gateway::decorate(&st, &mut v);
            ok(StatusCode::OK, v)
        }
        None => Err(ApiError::no_device(&p.device_id)),
    }
}

pub async fn delete(State(shared): State<Arc<Shared>>, Path(p): Path<DevicePath>) -> ApiResult {
    let removed = {
        let mut st = shared.lock();
        match crate::gateway::detach(&mut st, &p.device_id) {
            Some(info) => {
                let gw = info["parent_device_id"].as_str().unwrap_or("").to_string();
                crate::gateway::notify(&mut st, &shared, &gw, false, info);
                Some(None)
            }
            None => st.devices.remove(&p.device_id).map(Some),
        }
    };
    match removed.map(|d| d.and_then(|d| d.conn)) {
        Some(conn) => {
            if let Some(c) = conn {
                let _ = c.tx.send(ConnMsg::Kick);
            }
            shared.trace_device_changed(&p.device_id);
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        None => Err(ApiError::no_device(&p.device_id)),
    }
}

fn random_secret(shared: &Shared) -> String {
    let mut pw = [0u8; 64];
    let seed = format!(
        "{}-{}-{:?}",
        shared.new_uuid(),
        crate::state::now_ms(),
        std::thread::current().id()
    );
    iotda::auth::password(b"1970010100", seed.as_bytes(), &mut pw);
    String::from_utf8_lossy(&pw[..32]).into_owned()
}

/// `POST /v5/iot/{project_id}/devices`: `{"device_id"?, "node_id", "product_id"?,
/// "auth_info": {"auth_type"?: "SECRET" | "CERTIFICATES", "secret"?, "fingerprint"?} }`;
/// extension: `auth_info.client_id` + `auth_info.password` for a fixed pair.
pub async fn add(State(shared): State<Arc<Shared>>, body: Bytes) -> ApiResult {
    let b = json_object(&body)?;
    let node_id = opt_str(&b, "node_id")?;
    let product_id = opt_str(&b, "product_id")?;
    let device_id = opt_str(&b, "device_id")?;
    let gateway_id = opt_str(&b, "gateway_id")?;
    let Some(node_id) = node_id else {
        return Err(ApiError::bad_request("node_id is required"));
    };
    let product_id = product_id.unwrap_or("emulator");
    let device_id = device_id
        .map(str::to_string)
        .unwrap_or_else(|| format!("{product_id}_{node_id}"));
    let auth = b.get("auth_info").cloned().unwrap_or(json!({}));
    if !auth.is_object() {
        return Err(ApiError::bad_request("auth_info must be an object"));
    }
    let secret = opt_str(&auth, "secret")?.map(str::to_string);
    let client_id = opt_str(&auth, "client_id")?.map(str::to_string);
    let password = opt_str(&auth, "password")?.map(str::to_string);
    let fingerprint = opt_str(&auth, "fingerprint")?.map(str::to_string);
    let certificate = match opt_str(&auth, "auth_type")? {
        None => fingerprint.is_some(),
        Some("SECRET") if fingerprint.is_some() => {
            return Err(ApiError::bad_request(
                "auth_info.fingerprint is for auth_type CERTIFICATES",
            ))
        }
        Some("SECRET") => false,
        Some("CERTIFICATES") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "auth_info.auth_type {other:?}: SECRET or CERTIFICATES"
            )))
        }
    };
    let generated = secret.is_none() && client_id.is_none() && !certificate;
    let secret = if generated {
        Some(random_secret(&shared))
    } else {
        secret
    };
    let mut cfg = DeviceConfig {
        device_id: device_id.clone(),
        secret: secret.clone(),
        client_id,
        password,
        certificate,
        fingerprint,
        node_id: Some(node_id.to_string()),
        product_id: Some(product_id.to_string()),
    };
    cfg.validate().map_err(ApiError::bad_request)?;
    let out = {
        let mut st = shared.lock();
        if st.devices.contains_key(&device_id) {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "IOTDA.010002",
                format!("device {device_id} already exists"),
            ));
        }
        if let Some(gw) = gateway_id {
            // A child device (iot_06_v5_0046): the gateway is told at once.
            if !st.devices.contains_key(gw) || st.services.subs.contains_key(gw) {
                return Err(ApiError::bad_request(format!(
                    "gateway_id {gw}: no such device, or a sub-device itself"
                )));
            }
            let sub = crate::gateway::SubDevice {
                gateway_id: gw.to_string(),
                node_id: node_id.to_string(),
                product_id: product_id.to_string(),
                name: opt_str(&b, "device_name")?.map(str::to_string),
                description: opt_str(&b, "description")?.map(str::to_string),
                extension_info: b.get("extension_info").cloned(),
                status: "OFFLINE",
            };
            let info = crate::gateway::attach(&mut st, &shared, &device_id, sub);
            crate::gateway::notify(&mut st, &shared, gw, true, info);
            let mut out = st.devices[&device_id].summary();
            crate::gateway::decorate(&st, &mut out);
            drop(st);
            shared.trace_device_changed(&device_id);
            log!("{device_id}: registered through REST under gateway {gw}");
            return ok(StatusCode::CREATED, out);
        }
        let dev = Device::from_config(&cfg);
        let mut out = dev.summary();
        if let Some(o) = out.as_object_mut() {
            // Huawei returns the secret it generated (the only time it is shown).
            let auth_type = if cfg.certificate {
                "CERTIFICATES"
            } else if cfg.client_id.is_some() && secret.is_none() {
                "FIXED_PAIR"
            } else {
                "SECRET"
            };
            o.insert(
                "auth_info".into(),
                json!({"auth_type": auth_type, "secret": if generated { secret.clone() } else { None },
                       "fingerprint": cfg.fingerprint}),
            );
        }
        st.devices.insert(device_id.clone(), dev);
        out
    };
    shared.trace_device_changed(&device_id);
    log!("{device_id}: registered through REST");
    ok(StatusCode::CREATED, out)
}

/// The device must exist (404 IOTDA.010001 first, before the body is looked at).
pub fn require_device(shared: &Shared, id: &str) -> Result<(), ApiError> {
    if shared.lock().devices.contains_key(id) {
        Ok(())
    } else {
        Err(ApiError::no_device(id))
    }
}

/// For handlers that only need the summary list.
pub fn summaries(shared: &Shared) -> Vec<Value> {
    shared.lock().device_summaries()
}

/// `PUT /emulator/devices/{device_id}/bootstrap`: `{"address": "host:port",
/// "init_config"?: string}`, what the device's bootstrap request is
/// answered with (IoTDP's `address` and `initConfig`); emulator only.
pub async fn set_bootstrap(
    State(shared): State<Arc<Shared>>,
    Path(p): Path<DevicePath>,
    body: Bytes,
) -> ApiResult {
    require_device(&shared, &p.device_id)?;
    let b = json_object(&body)?;
    let Some(address) = opt_str(&b, "address")? else {
        return Err(ApiError::bad_request("address is required (host:port)"));
    };
    let port = address.rsplit_once(':').map(|(h, p)| (h, p.parse::<u16>()));
    if !matches!(port, Some((h, Ok(p))) if !h.is_empty() && p > 0) {
        return Err(ApiError::bad_request(format!(
            "address {address:?} is not host:port"
        )));
    }
    let init = opt_str(&b, "init_config")?.unwrap_or("").to_string();
    let out = json!({"device_id": p.device_id, "address": address, "init_config": init});
    match shared.lock().devices.get_mut(&p.device_id) {
        Some(d) => d.bootstrap = Some((address.to_string(), init)),
        None => return Err(ApiError::no_device(&p.device_id)),
    }
    log!("{}: bootstrap address set to {address}", p.device_id);
    ok(StatusCode::OK, out)
}
