//! Synchronous calls that wait for the device's answer: commands
//! (CreateCommand), properties set (UpdateProperties) and get (ListProperties).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use serde_json::{json, Value};
use tokio::sync::oneshot;

use super::body::{json_object, opt_str, query_param};
use super::devices::{require_device, DevicePath};
use super::error::{ok, ApiError, ApiResult};
use crate::log;
use crate::state::Shared;

/// Sends a request downlink and waits for the device's response.
async fn sync_call(
    shared: &Shared,
    id: &str,
    topic_path: &str,
    request_id: &str,
    payload: Value,
) -> Result<Value, ApiError> {
    let (tx, rx) = oneshot::channel();
    // A sub-device's requests go down its gateway's topics (object_device_id names it).
    let route = crate::gateway::route(&shared.lock(), id).to_string();
    let key = (route.clone(), request_id.to_string());
    {
        let id = route.as_str();
        let mut st = shared.lock();
        let online = st.devices.get(id).is_some_and(|d| d.conn.is_some());
        if !online {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "IOTDA.014016",
                format!("device {id} is not online"),
            ));
        }
        st.waiters.insert(key.clone(), tx);
        let topic = format!("$oc/devices/{id}/{topic_path}{request_id}");
        let dl = shared.next_id();
        st.deliver(dl, id, &topic, payload.to_string().into_bytes(), false);
    }
    match tokio::time::timeout(shared.config.sync_timeout, rx).await {
        Ok(Ok(bytes)) => Ok(serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))),
        _ => {
            shared.lock().waiters.remove(&key);
            log!(
                "{id}: no response to {request_id} within {:?}",
                shared.config.sync_timeout
            );
            Err(ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "IOTDA.014111",
                format!(
                    "the device did not respond within {} s",
                    shared.config.sync_timeout.as_secs_f64()
                ),
            ))
        }
    }
}

pub async fn command(
    State(shared): State<Arc<Shared>>,
    Path(p): Path<DevicePath>,
    body: Bytes,
) -> ApiResult {
    let id = p.device_id;
    require_device(&shared, &id)?;
    let b = json_object(&body)?;
    let service_id = opt_str(&b, "service_id")?;
    let command_name = opt_str(&b, "command_name")?;
    let Some(paras) = b.get("paras") else {
        return Err(ApiError::bad_request("paras is required"));
    };
    if !paras.is_object() {
        return Err(ApiError::bad_request("paras must be an object"));
    }
    let command_id = shared.new_uuid();
    let payload = json!({
        "object_device_id": id,
        "service_id": service_id,
        "command_name": command_name,
        "paras": paras,
    });
    let resp = sync_call(
        &shared,
        &id,
        "sys/commands/request_id=",
        &command_id,
        payload,
    )
    .await?;
    ok(
        StatusCode::OK,
        json!({"command_id": command_id, "response": resp}),
    )
}

pub async fn properties_set(
    State(shared): State<Arc<Shared>>,
    Path(p): Path<DevicePath>,
    body: Bytes,
) -> ApiResult {
    let id = p.device_id;
    require_device(&shared, &id)?;
    let b = json_object(&body)?;
    let Some(services) = b.get("services") else {
        return Err(ApiError::bad_request("services is required"));
    };
    let Some(list) = services.as_array() else {
        return Err(ApiError::bad_request("services must be an array"));
    };
    for s in list {
        if s.get("service_id").and_then(Value::as_str).is_none()
            || !s.get("properties").is_some_and(Value::is_object)
        {
            return Err(ApiError::bad_request(
                "each service needs service_id (string) and properties (object)",
            ));
        }
    }
    let request_id = shared.new_uuid();
    let payload = json!({"object_device_id": id, "services": services});
    let resp = sync_call(
        &shared,
        &id,
        "sys/properties/set/request_id=",
        &request_id,
        payload,
    )
    .await?;
    ok(
        StatusCode::OK,
        json!({"request_id": request_id, "response": resp}),
    )
}

pub async fn properties_get(
    State(shared): State<Arc<Shared>>,
    Path(p): Path<DevicePath>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let id = p.device_id;
    require_device(&shared, &id)?;
    let Some(service_id) = query_param(q.as_deref(), "service_id").filter(|s| !s.is_empty()) else {
        return Err(ApiError::bad_request(
            "query parameter service_id is required",
        ));
    };
    let request_id = shared.new_uuid();
    let payload = json!({"object_device_id": id, "service_id": service_id});
    let resp = sync_call(
        &shared,
        &id,
        "sys/properties/get/request_id=",
        &request_id,
        payload,
    )
    .await?;
    ok(
        StatusCode::OK,
        json!({"request_id": request_id, "response": resp}),
    )
}
