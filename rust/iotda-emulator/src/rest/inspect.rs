//! `/emulator/...`: what the platform saw (not part of Huawei's API).

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use serde_json::{json, Value};

use super::body::query_param;
use super::devices::DevicePath;
use super::error::{ok, ApiError, ApiResult};
use crate::state::{event_time_now, Delivery, Shared};

pub async fn devices(State(shared): State<Arc<Shared>>) -> ApiResult {
    let list = shared.lock().device_summaries();
    ok(StatusCode::OK, json!({"devices": list}))
}

pub async fn uplinks(
    State(shared): State<Arc<Shared>>,
    Path(p): Path<DevicePath>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let since: u64 = query_param(q.as_deref(), "since")
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let st = shared.lock();
    let d = st
        .devices
        .get(&p.device_id)
        .ok_or_else(|| ApiError::no_device(&p.device_id))?;
    let ups: Vec<Value> = d
        .uplinks
        .iter()
        .filter(|u| u.seq >= since)
        .map(|u| u.to_json())
        .collect();
    ok(
        StatusCode::OK,
        json!({"device_id": p.device_id, "count": d.uplink_count, "uplinks": ups}),
    )
}

pub async fn ota_version_query(
    State(shared): State<Arc<Shared>>,
    Path(p): Path<DevicePath>,
) -> ApiResult {
    let id = p.device_id;
    let body = json!({
        "object_device_id": id,
        "services": [{"service_id": "$ota", "event_type": "version_query",
                      "event_time": event_time_now(), "paras": {}}]
    });
    let topic = format!("$oc/devices/{id}/sys/events/down");
    let dl = shared.next_id();
    let mut st = shared.lock();
    if !st.devices.contains_key(&id) {
        return Err(ApiError::no_device(&id));
    }
    let d = st.deliver(dl, &id, &topic, body.to_string().into_bytes(), false);
    ok(StatusCode::OK, json!({"status": delivery_name(d)}))
}

pub async fn stats(State(shared): State<Arc<Shared>>) -> ApiResult {
    let st = shared.lock();
    let online = st.devices.values().filter(|d| d.conn.is_some()).count();
    let per: u64 = st.devices.values().map(|d| d.uplink_count).sum();
    ok(
        StatusCode::OK,
        json!({
            "devices": st.devices.len(),
            "online": online,
            "uplinks_total": shared.uplinks_total.load(Ordering::Relaxed),
            "uplinks_by_device_sum": per,
            "logins_total": shared.connections.load(Ordering::Relaxed),
            "uplinks_rejected": shared.rejected_total.load(Ordering::Relaxed),
            "uptime_ms": crate::state::now_ms() - shared.start_ms,
        }),
    )
}

pub fn delivery_name(d: Delivery) -> &'static str {
    match d {
        Delivery::Delivered => "DELIVERED",
        Delivery::Pending => "PENDING",
        Delivery::NotDelivered => "FAILED",
    }
}
