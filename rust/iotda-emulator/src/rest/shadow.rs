//! `GET/PUT /devices/{id}/shadow` (ShowDeviceShadow / UpdateDeviceShadowDesiredData).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{json, Value};

use super::body::json_object;
use super::devices::DevicePath;
use super::error::{ok, ApiError, ApiResult};
use crate::shadow::{merge, push_desired};
use crate::state::{event_time_now, Shared};

pub async fn show(State(shared): State<Arc<Shared>>, Path(p): Path<DevicePath>) -> ApiResult {
    let id = p.device_id;
    match shared.lock().shadow_json(&id, None) {
        Some(shadow) => ok(StatusCode::OK, json!({"device_id": id, "shadow": shadow})),
        None => Err(ApiError::no_device(&id)),
    }
}

/// `{"shadow": [{"service_id", "desired": {...}, "version"?}]}`; a desired
/// property set to `null` is removed. An online device gets the desired
/// values that differ from its reported ones at once (iot_01_0049).
pub async fn update(
    State(shared): State<Arc<Shared>>,
    Path(p): Path<DevicePath>,
    body: Bytes,
) -> ApiResult {
    let id = p.device_id;
    super::devices::require_device(&shared, &id)?;
    let b = json_object(&body)?;
    let Some(list) = b.get("shadow").and_then(Value::as_array) else {
        return Err(ApiError::bad_request("shadow (array) is required"));
    };
    let shadow = {
        let mut st = shared.lock();
        let dev = st
            .devices
            .get_mut(&id)
            .ok_or_else(|| ApiError::no_device(&id))?;
        let mut updates = Vec::new();
        for s in list {
            let Some(sid) = s.get("service_id").and_then(Value::as_str) else {
                return Err(ApiError::bad_request(
                    "each shadow entry needs service_id (string)",
                ));
            };
            let Some(desired) = s.get("desired").and_then(Value::as_object) else {
                return Err(ApiError::bad_request(
                    "each shadow entry needs desired (object)",
                ));
            };
            if let Some(v) = s.get("version") {
                let Some(v) = v.as_u64() else {
                    return Err(ApiError::bad_request(
                        "version must be a non-negative integer",
                    ));
                };
                let current = dev.shadow.get(sid).map(|x| x.version).unwrap_or(0);
                if v != current {
                    return Err(ApiError::new(
                        StatusCode::CONFLICT,
                        "IOTDA.014017",
                        format!("shadow version {v} of {sid} is not the current {current}"),
                    ));
                }
            }
            updates.push((sid.to_string(), desired.clone()));
        }
        let now = event_time_now();
        for (sid, desired) in updates {
            let svc = dev.shadow.entry(sid).or_default();
            merge(&mut svc.desired, desired);
            svc.desired_time = Some(now.clone());
            svc.version += 1;
        }
        push_desired(&mut st, &shared, &id);
        st.shadow_json(&id, None).unwrap_or_default()
    };
    shared.trace_device_changed(&id);
    ok(StatusCode::OK, json!({"device_id": id, "shadow": shadow}))
}
