//! Device messages: CreateMessage (`POST .../messages`), ListDeviceMessages
//! (`GET .../messages`), ShowDeviceMessage (`GET .../messages/{message_id}`).
//!
//! Rules, from Huawei's API reference:
//! - iot_06_v5_0059 (CreateMessage): `message_id` is unique per device ("if
//!   the id is not unique under the device, the API returns an error"), at
//!   most 128 of `[A-Za-z0-9_-]`; `name` at most 128; `topic` and
//!   `topic_full_name` at most 128; `properties` (`correlation_data`,
//!   `response_topic`, `user_properties`, at most 20) for MQTT 5 devices.
//!   An offline device's message is PENDING: kept and sent after the
//!   device next reports data; not sent within the default time (1 day):
//!   TIMEOUT.
//! - iot_06_v5_0058 (ListDeviceMessages): the platform keeps 20 messages
//!   per device.
//! - iot_06_v5_0057 (ShowDeviceMessage): status PENDING, DELIVERED, FAILED
//!   or TIMEOUT, `finished_time` when DELIVERED or TIMEOUT.
//!
//! The emulator speaks MQTT 3.1/3.1.1, which has no PUBLISH properties:
//! `properties` are validated and stored (shown by ShowDeviceMessage), not
//! sent.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{json, Value};

use super::body::{json_object, opt_str};
use super::devices::{require_device, DevicePath};
use super::error::{ok, ApiError, ApiResult};
use crate::log;
use crate::state::{
    event_time_now, now_ms, Delivery, MessageRecord, MsgStatus, Shared, MESSAGES_KEPT,
};
use crate::trace::Kind;

const MAX_LEN: usize = 128;
const MAX_USER_PROPERTIES: usize = 20;

fn is_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_LEN
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
}

fn check_len(what: &str, s: &str) -> Result<(), ApiError> {
    if s.len() > MAX_LEN {
        Err(ApiError::bad_request(format!(
            "{what} is longer than {MAX_LEN} characters"
        )))
    } else {
        Ok(())
    }
}

/// Validates CreateMessage's `properties` (PropertiesDTO).
fn check_properties(p: &Value) -> Result<(), ApiError> {
    let Some(o) = p.as_object() else {
        return Err(ApiError::bad_request("properties must be an object"));
    };
    for k in o.keys() {
        if !matches!(
            k.as_str(),
            "correlation_data" | "response_topic" | "user_properties"
        ) {
            return Err(ApiError::bad_request(format!(
                "properties.{k} is not a field"
            )));
        }
    }
    if let Some(c) = opt_str(p, "correlation_data")? {
        if !is_id(c) {
            return Err(ApiError::bad_request(
                "properties.correlation_data: at most 128 of letters, digits, _ and -",
            ));
        }
    }
    if let Some(t) = opt_str(p, "response_topic")? {
        check_len("properties.response_topic", t)?;
    }
    match p.get("user_properties") {
        None | Some(Value::Null) => {}
        Some(Value::Array(list)) => {
            if list.len() > MAX_USER_PROPERTIES {
                return Err(ApiError::bad_request(format!(
                    "properties.user_properties: at most {MAX_USER_PROPERTIES}"
                )));
            }
            for u in list {
                let key = opt_str(u, "prop_key")?;
                let value = opt_str(u, "prop_value")?;
                match (key, value) {
                    (Some(k), Some(v)) if is_id(k) && v.len() <= MAX_LEN => {}
                    _ => return Err(ApiError::bad_request(
                        "each user property needs prop_key (id, <= 128) and prop_value (<= 128)",
                    )),
                }
            }
        }
        Some(_) => {
            return Err(ApiError::bad_request(
                "properties.user_properties must be an array",
            ))
        }
    }
    Ok(())
}

pub async fn create(
    State(shared): State<Arc<Shared>>,
    Path(p): Path<DevicePath>,
    body: Bytes,
) -> ApiResult {
    let id = p.device_id;
    require_device(&shared, &id)?;
    let b = json_object(&body)?;
    let Some(message) = b.get("message").cloned() else {
        return Err(ApiError::bad_request("message is required"));
    };
    let message_id = opt_str(&b, "message_id")?;
    let name = opt_str(&b, "name")?;
    let encoding = opt_str(&b, "encoding")?.unwrap_or("none");
    let format = opt_str(&b, "payload_format")?.unwrap_or("standard");
    let topic = opt_str(&b, "topic")?;
    let full = opt_str(&b, "topic_full_name")?;
    if let Some(m) = message_id {
        if !is_id(m) {
            return Err(ApiError::bad_request(
                "message_id: at most 128 of letters, digits, _ and -",
            ));
        }
    }
    if let Some(n) = name {
        check_len("name", n)?;
    }
    let properties = match b.get("properties") {
        None | Some(Value::Null) => None,
        Some(v) => {
            check_properties(v)?;
            Some(v.clone())
        }
    };
    let raw = match format {
        "standard" => false,
        "raw" => true,
        other => {
            return Err(ApiError::bad_request(format!(
                "payload_format {other:?}: standard or raw"
            )))
        }
    };
    let base64 = match encoding {
        "none" => false,
        "base64" => true,
        other => {
            return Err(ApiError::bad_request(format!(
                "encoding {other:?}: none or base64"
            )))
        }
    };
    let topic = match (topic, full) {
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request(
                "give topic or topic_full_name, not both",
            ))
        }
        (Some(t), None) => {
            check_len("topic", t)?;
            iotda::validate::topic_name(t.as_bytes())
                .map_err(|e| ApiError::bad_request(format!("topic {t:?}: {e}")))?;
            format!("$oc/devices/{id}/user/{t}")
        }
        (None, Some(t)) => {
            check_len("topic_full_name", t)?;
            if t.is_empty() || t.contains(['+', '#', '\0']) {
                return Err(ApiError::bad_request(format!(
                    "topic_full_name {t:?} is not a topic name"
                )));
            }
            t.to_string()
        }
        (None, None) => format!("$oc/devices/{id}/sys/messages/down"),
    };
    let message_id = message_id
        .map(str::to_string)
        .unwrap_or_else(|| shared.new_uuid());
    let payload: Vec<u8> = if raw {
        match &message {
            Value::String(s) if base64 => crate::b64_decode(s)
                .ok_or_else(|| ApiError::bad_request("message is not valid base64"))?,
            Value::String(s) => s.clone().into_bytes(),
            other => other.to_string().into_bytes(),
        }
    } else {
        json!({
            "object_device_id": id,
            "name": name,
            "id": message_id,
            "content": message,
        })
        .to_string()
        .into_bytes()
    };
    let record = {
        let mut st = shared.lock();
        let dev = st
            .devices
            .get_mut(&id)
            .ok_or_else(|| ApiError::no_device(&id))?;
        if !dev.message_ids.insert(message_id.clone()) {
            return Err(ApiError::bad_request(format!(
                "message_id {message_id} is already used for device {id}"
            )));
        }
        let created = event_time_now();
        if dev.messages.len() >= MESSAGES_KEPT {
            dev.messages.pop_front();
        }
        dev.messages.push_back(MessageRecord {
            message_id: message_id.clone(),
            name: name.map(str::to_string),
            message,
            encoding: encoding.to_string(),
            payload_format: format.to_string(),
            topic: topic.clone(),
            properties,
            status: MsgStatus::Pending,
            created_time: created,
            created_ms: now_ms(),
            finished_time: None,
        });
        let dl = shared.next_id();
        let d = st.deliver_message(dl, &id, &topic, payload, true, Some(message_id.clone()));
        if d == Delivery::Delivered {
            st.mark_delivered(&id, &message_id);
        }
        st.devices
            .get(&id)
            .and_then(|dev| {
                dev.messages
                    .iter()
                    .rev()
                    .find(|m| m.message_id == message_id)
            })
            .cloned()
    };
    let Some(record) = record else {
        return Err(ApiError::no_device(&id));
    };
    log!(
        "{id}: message {message_id} -> {topic}: {}",
        record.status.name()
    );
    shared.trace.emit(
        Kind::Device,
        &id,
        json!({"message_id": message_id, "message_status": record.status.name()}),
    );
    ok(
        StatusCode::CREATED,
        json!({"message_id": message_id, "result": record.result_json()}),
    )
}

pub async fn list(State(shared): State<Arc<Shared>>, Path(p): Path<DevicePath>) -> ApiResult {
    shared.expire_messages();
    let st = shared.lock();
    let dev = st
        .devices
        .get(&p.device_id)
        .ok_or_else(|| ApiError::no_device(&p.device_id))?;
    let list: Vec<Value> = dev.messages.iter().map(MessageRecord::to_json).collect();
    ok(
        StatusCode::OK,
        json!({"device_id": p.device_id, "messages": list}),
    )
}

#[derive(Debug, Deserialize)]
pub struct MessagePath {
    pub device_id: String,
    pub message_id: String,
}

pub async fn show(State(shared): State<Arc<Shared>>, Path(p): Path<MessagePath>) -> ApiResult {
    shared.expire_messages();
    let st = shared.lock();
    let dev = st
        .devices
        .get(&p.device_id)
        .ok_or_else(|| ApiError::no_device(&p.device_id))?;
    match dev.messages.iter().find(|m| m.message_id == p.message_id) {
        Some(m) => {
            let mut v = m.to_json();
            v["device_id"] = json!(p.device_id);
            ok(StatusCode::OK, v)
        }
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "IOTDA.014107",
            format!(
                "message {} of device {} not found",
                p.message_id, p.device_id
            ),
        )),
    }
}
