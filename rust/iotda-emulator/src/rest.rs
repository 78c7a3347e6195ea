//! Application side: Huawei's v5 REST paths and bodies, plus `/emulator/...`
//! inspection endpoints. Errors are `{"error_code": "...", "error_msg": "..."}`.
//!
//! | status | error_code | when |
//! |---|---|---|
//! | 400 | IOTDA.000006 | body not JSON, missing / wrong field, bad query |
//! | 404 | IOTDA.000002 | unknown path or project id |
//! | 404 | IOTDA.010001 | unknown device |
//! | 405 | IOTDA.000005 | method not allowed on the path |
//! | 409 | IOTDA.010002 | device already registered |
//! | 409 | IOTDA.014016 | synchronous call to a device that is offline |
//! | 409 | IOTDA.014017 | shadow version mismatch |
//! | 408 | IOTDA.014111 | the device did not answer within the sync timeout (20 s) |

// Handlers return `Result<_, Response>` so an error is the reply itself;
// responses are built once per request, their size does not matter.
#![allow(clippy::result_large_err)]

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{json, Map, Value};
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};

use crate::config::DeviceConfig;
use crate::log;
use crate::state::{event_time_now, Delivery, Device, Shared};

type Resp = Response<Full<Bytes>>;

pub async fn serve(shared: Arc<Shared>, listener: TcpListener, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            r = listener.accept() => match r {
                Ok((stream, _)) => {
                    let shared = shared.clone();
                    tokio::spawn(async move {
                        let svc = hyper::service::service_fn(move |req| {
                            let shared = shared.clone();
                            async move { Ok::<_, Infallible>(handle(shared, req).await) }
                        });
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), svc)
                            .await;
                    });
                }
                Err(e) => {
                    log!("http accept error: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            },
            _ = stop.changed() => break,
        }
    }
}

fn respond(status: StatusCode, body: &Value) -> Resp {
    let mut r = Response::new(Full::new(Bytes::from(body.to_string())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    r
}

fn error(status: StatusCode, code: &str, msg: impl Into<String>) -> Resp {
    respond(
        status,
        &json!({"error_code": code, "error_msg": msg.into()}),
    )
}

fn bad_request(msg: impl Into<String>) -> Resp {
    error(StatusCode::BAD_REQUEST, "IOTDA.000006", msg)
}

fn no_device(id: &str) -> Resp {
    error(
        StatusCode::NOT_FOUND,
        "IOTDA.010001",
        format!("device {id} does not exist"),
    )
}

fn not_allowed() -> Resp {
    error(
        StatusCode::METHOD_NOT_ALLOWED,
        "IOTDA.000005",
        "method not allowed",
    )
}

fn query_param(q: Option<&str>, key: &str) -> Option<String> {
    q?.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        (k == key).then(|| percent_decode(v))
    })
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => match s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                Some(v) => {
                    out.push(v);
                    i += 3;
                    continue;
                }
                None => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn body_json(req: Request<Incoming>) -> Result<Value, Resp> {
    let body = Limited::new(req.into_body(), 4 * 1024 * 1024)
        .collect()
        .await
        .map_err(|e| bad_request(format!("could not read the body: {e}")))?
        .to_bytes();
    if body.is_empty() {
        return Err(bad_request("a JSON body is required"));
    }
    let v: Value = serde_json::from_slice(&body)
        .map_err(|e| bad_request(format!("body is not valid JSON: {e}")))?;
    if !v.is_object() {
        return Err(bad_request("body must be a JSON object"));
    }
    Ok(v)
}

fn opt_str<'a>(v: &'a Value, key: &str) -> Result<Option<&'a str>, Resp> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(bad_request(format!("{key} must be a string"))),
    }
}

async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Resp {
    let path = req.uri().path().to_string();
    let query = req.uri().query().map(str::to_string);
    let method = req.method().clone();
    let method_name = method.to_string();
    let segs: Vec<String> = path
        .trim_matches('/')
        .split('/')
        .map(percent_decode)
        .collect();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    let r = match segs.as_slice() {
        ["v5", "iot", project, rest @ ..] => {
            if *project != shared.config.project_id {
                return error(
                    StatusCode::NOT_FOUND,
                    "IOTDA.000002",
                    format!(
                        "project {project} not found (this emulator's project_id is {})",
                        shared.config.project_id
                    ),
                );
            }
            v5(&shared, method, rest, query.as_deref(), req).await
        }
        ["emulator", rest @ ..] => emulator(&shared, method, rest, query.as_deref()).await,
        _ => error(
            StatusCode::NOT_FOUND,
            "IOTDA.000002",
            format!("no such path {path}"),
        ),
    };
    log!("http {method_name} {path} -> {}", r.status().as_u16());
    r
}

async fn v5(
    shared: &Arc<Shared>,
    method: Method,
    rest: &[&str],
    query: Option<&str>,
    req: Request<Incoming>,
) -> Resp {
    match rest {
        ["devices"] => match method {
            Method::POST => match body_json(req).await {
                Ok(b) => add_device(shared, &b),
                Err(r) => r,
            },
            Method::GET => {
                let st = shared.lock();
                let mut devs: Vec<&Device> = st.devices.values().collect();
                devs.sort_by(|a, b| a.device_id.cmp(&b.device_id));
                let list: Vec<Value> = devs.iter().map(|d| d.summary()).collect();
                respond(
                    StatusCode::OK,
                    &json!({"devices": list, "page": {"count": list.len()}}),
                )
            }
            _ => not_allowed(),
        },
        ["devices", id] => match method {
            Method::GET => match shared.lock().devices.get(*id) {
                Some(d) => respond(StatusCode::OK, &d.summary()),
                None => no_device(id),
            },
            Method::DELETE => {
                let removed = shared.lock().devices.remove(*id);
                match removed {
                    Some(d) => {
                        if let Some(c) = d.conn {
                            let _ = c.tx.send(crate::state::ConnMsg::Kick);
                        }
                        Response::builder()
                            .status(StatusCode::NO_CONTENT)
                            .body(Full::new(Bytes::new()))
                            .unwrap_or_else(|_| respond(StatusCode::NO_CONTENT, &json!({})))
                    }
                    None => no_device(id),
                }
            }
            _ => not_allowed(),
        },
        ["devices", id, op] => {
            if !shared.lock().devices.contains_key(*id) {
                return no_device(id);
            }
            match (*op, method) {
                ("messages", Method::POST) => match body_json(req).await {
                    Ok(b) => message(shared, id, &b),
                    Err(r) => r,
                },
                ("commands", Method::POST) => match body_json(req).await {
                    Ok(b) => command(shared, id, &b).await,
                    Err(r) => r,
                },
                ("properties", Method::PUT) => match body_json(req).await {
                    Ok(b) => properties_set(shared, id, &b).await,
                    Err(r) => r,
                },
                ("properties", Method::GET) => properties_get(shared, id, query).await,
                ("shadow", Method::GET) => {
                    let shadow = shared.lock().shadow_json(id, None).unwrap_or_default();
                    respond(StatusCode::OK, &json!({"device_id": id, "shadow": shadow}))
                }
                ("shadow", Method::PUT) => match body_json(req).await {
                    Ok(b) => shadow_put(shared, id, &b),
                    Err(r) => r,
                },
                ("messages" | "commands" | "properties" | "shadow", _) => not_allowed(),
                _ => error(StatusCode::NOT_FOUND, "IOTDA.000002", "no such path"),
            }
        }
        _ => error(StatusCode::NOT_FOUND, "IOTDA.000002", "no such path"),
    }
}

async fn emulator(
    shared: &Arc<Shared>,
    method: Method,
    rest: &[&str],
    query: Option<&str>,
) -> Resp {
    if method != Method::GET && !matches!(rest, [_, _, "ota", "version_query"]) {
        return not_allowed();
    }
    match rest {
        ["devices"] => {
            let st = shared.lock();
            let mut devs: Vec<&Device> = st.devices.values().collect();
            devs.sort_by(|a, b| a.device_id.cmp(&b.device_id));
            let list: Vec<Value> = devs.iter().map(|d| d.summary()).collect();
            respond(StatusCode::OK, &json!({"devices": list}))
        }
        ["devices", id, "uplinks"] => {
            let since: u64 = query_param(query, "since")
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            let st = shared.lock();
            match st.devices.get(*id) {
                Some(d) => {
                    let ups: Vec<Value> = d
                        .uplinks
                        .iter()
                        .filter(|u| u.seq >= since)
                        .map(|u| u.to_json())
                        .collect();
                    respond(
                        StatusCode::OK,
                        &json!({"device_id": id, "count": d.uplink_count, "uplinks": ups}),
                    )
                }
                None => no_device(id),
            }
        }
        ["devices", id, "ota", "version_query"] => {
            if method != Method::POST {
                return not_allowed();
            }
            let body = json!({
                "object_device_id": id,
                "services": [{"service_id": "$ota", "event_type": "version_query",
                              "event_time": event_time_now(), "paras": {}}]
            });
            let topic = format!("$oc/devices/{id}/sys/events/down");
            let dl = shared.next_id();
            let mut st = shared.lock();
            if !st.devices.contains_key(*id) {
                return no_device(id);
            }
            let d = st.deliver(dl, id, &topic, body.to_string().into_bytes(), false);
            respond(StatusCode::OK, &json!({"status": delivery_name(d)}))
        }
        ["stats"] => {
            let st = shared.lock();
            let online = st.devices.values().filter(|d| d.conn.is_some()).count();
            let per: u64 = st.devices.values().map(|d| d.uplink_count).sum();
            respond(
                StatusCode::OK,
                &json!({
                    "devices": st.devices.len(),
                    "online": online,
                    "uplinks_total": shared.uplinks_total.load(std::sync::atomic::Ordering::Relaxed),
                    "uplinks_by_device_sum": per,
                    "logins_total": shared.connections.load(std::sync::atomic::Ordering::Relaxed),
                    "uptime_ms": crate::state::now_ms() - shared.start_ms,
                }),
            )
        }
        _ => error(StatusCode::NOT_FOUND, "IOTDA.000002", "no such path"),
    }
}

fn delivery_name(d: Delivery) -> &'static str {
    match d {
        Delivery::Delivered => "DELIVERED",
        Delivery::Pending => "PENDING",
        Delivery::NotDelivered => "FAILED",
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
/// "auth_info": {"secret"?} }`; extension: `auth_info.client_id` + `auth_info.password`
/// for a fixed pair.
fn add_device(shared: &Shared, b: &Value) -> Resp {
    let get = |k: &str| opt_str(b, k);
    let (node_id, product_id, device_id) =
        match (get("node_id"), get("product_id"), get("device_id")) {
            (Ok(n), Ok(p), Ok(d)) => (n, p, d),
            (Err(r), _, _) | (_, Err(r), _) | (_, _, Err(r)) => return r,
        };
    let Some(node_id) = node_id else {
        return bad_request("node_id is required");
    };
    let product_id = product_id.unwrap_or("emulator");
    let device_id = device_id
        .map(str::to_string)
        .unwrap_or_else(|| format!("{product_id}_{node_id}"));
    let auth = b.get("auth_info").cloned().unwrap_or(json!({}));
    if !auth.is_object() {
        return bad_request("auth_info must be an object");
    }
    let (secret, client_id, password) = match (
        opt_str(&auth, "secret"),
        opt_str(&auth, "client_id"),
        opt_str(&auth, "password"),
    ) {
        (Ok(s), Ok(c), Ok(p)) => (
            s.map(str::to_string),
            c.map(str::to_string),
            p.map(str::to_string),
        ),
        (Err(r), _, _) | (_, Err(r), _) | (_, _, Err(r)) => return r,
    };
    let generated = secret.is_none() && client_id.is_none();
    let secret = if generated {
        Some(random_secret(shared))
    } else {
        secret
    };
    let cfg = DeviceConfig {
        device_id: device_id.clone(),
        secret: secret.clone(),
        client_id,
        password,
        node_id: Some(node_id.to_string()),
        product_id: Some(product_id.to_string()),
    };
    if let Err(e) = cfg.validate() {
        return bad_request(e);
    }
    let mut st = shared.lock();
    if st.devices.contains_key(&device_id) {
        return error(
            StatusCode::CONFLICT,
            "IOTDA.010002",
            format!("device {device_id} already exists"),
        );
    }
    let dev = Device::from_config(&cfg);
    let mut out = dev.summary();
    if let Some(o) = out.as_object_mut() {
        // Huawei returns the secret it generated (the only time it is shown).
        o.insert(
            "auth_info".into(),
            json!({"auth_type": if cfg.client_id.is_some() && secret.is_none() { "FIXED_PAIR" } else { "SECRET" },
                   "secret": if generated { secret.clone() } else { None }}),
        );
    }
    st.devices.insert(device_id.clone(), dev);
    log!("{device_id}: registered through REST");
    respond(StatusCode::CREATED, &out)
}

fn message(shared: &Shared, id: &str, b: &Value) -> Resp {
    let Some(message) = b.get("message") else {
        return bad_request("message is required");
    };
    let fields = (
        opt_str(b, "message_id"),
        opt_str(b, "name"),
        opt_str(b, "encoding"),
        opt_str(b, "payload_format"),
        opt_str(b, "topic"),
        opt_str(b, "topic_full_name"),
    );
    let (message_id, name, encoding, format, topic, full) = match fields {
        (Ok(a), Ok(b), Ok(c), Ok(d), Ok(e), Ok(f)) => (a, b, c, d, e, f),
        (Err(r), ..)
        | (_, Err(r), ..)
        | (_, _, Err(r), ..)
        | (_, _, _, Err(r), ..)
        | (.., Err(r), _)
        | (.., Err(r)) => return r,
    };
    let raw = match format.unwrap_or("standard") {
        "standard" => false,
        "raw" => true,
        other => return bad_request(format!("payload_format {other:?}: standard or raw")),
    };
    let base64 = match encoding.unwrap_or("none") {
        "none" => false,
        "base64" => true,
        other => return bad_request(format!("encoding {other:?}: none or base64")),
    };
    let topic = match (topic, full) {
        (Some(_), Some(_)) => return bad_request("give topic or topic_full_name, not both"),
        (Some(t), None) => {
            if let Err(e) = iotda::validate::topic_name(t.as_bytes()) {
                return bad_request(format!("topic {t:?}: {e}"));
            }
            format!("$oc/devices/{id}/user/{t}")
        }
        (None, Some(t)) => {
            if t.is_empty() || t.contains(['+', '#', '\0']) || t.len() > 65535 {
                return bad_request(format!("topic_full_name {t:?} is not a topic name"));
            }
            t.to_string()
        }
        (None, None) => format!("$oc/devices/{id}/sys/messages/down"),
    };
    let message_id = message_id
        .map(str::to_string)
        .unwrap_or_else(|| shared.new_uuid());
    let payload: Vec<u8> = if raw {
        match message {
            Value::String(s) if base64 => match crate::b64_decode(s) {
                Some(v) => v,
                None => return bad_request("message is not valid base64"),
            },
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
    let created = event_time_now();
    let dl = shared.next_id();
    let d = shared.lock().deliver(dl, id, &topic, payload, true);
    log!(
        "{id}: message {message_id} -> {topic}: {}",
        delivery_name(d)
    );
    let mut result = json!({"status": delivery_name(d), "created_time": created});
    if d == Delivery::Delivered {
        result["finished_time"] = json!(event_time_now());
    }
    respond(
        StatusCode::CREATED,
        &json!({"message_id": message_id, "result": result}),
    )
}

/// Sends a request downlink and waits for the device's response.
async fn sync_call(
    shared: &Shared,
    id: &str,
    topic_path: &str,
    request_id: &str,
    payload: Value,
) -> Result<Value, Resp> {
    let (tx, rx) = oneshot::channel();
    let key = (id.to_string(), request_id.to_string());
    {
        let mut st = shared.lock();
        let online = st.devices.get(id).is_some_and(|d| d.conn.is_some());
        if !online {
            return Err(error(
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
            Err(error(
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

async fn command(shared: &Shared, id: &str, b: &Value) -> Resp {
    let (service_id, command_name) = match (opt_str(b, "service_id"), opt_str(b, "command_name")) {
        (Ok(s), Ok(c)) => (s, c),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    let Some(paras) = b.get("paras") else {
        return bad_request("paras is required");
    };
    if !paras.is_object() {
        return bad_request("paras must be an object");
    }
    let command_id = shared.new_uuid();
    let payload = json!({
        "object_device_id": id,
        "service_id": service_id,
        "command_name": command_name,
        "paras": paras,
    });
    match sync_call(shared, id, "sys/commands/request_id=", &command_id, payload).await {
        Ok(resp) => respond(
            StatusCode::OK,
            &json!({"command_id": command_id, "response": resp}),
        ),
        Err(r) => r,
    }
}

async fn properties_set(shared: &Shared, id: &str, b: &Value) -> Resp {
    let Some(services) = b.get("services") else {
        return bad_request("services is required");
    };
    let Some(list) = services.as_array() else {
        return bad_request("services must be an array");
    };
    for s in list {
        if s.get("service_id").and_then(Value::as_str).is_none()
            || !s.get("properties").is_some_and(Value::is_object)
        {
            return bad_request("each service needs service_id (string) and properties (object)");
        }
    }
    let request_id = shared.new_uuid();
    let payload = json!({"object_device_id": id, "services": services});
    match sync_call(
        shared,
        id,
        "sys/properties/set/request_id=",
        &request_id,
        payload,
    )
    .await
    {
        Ok(resp) => respond(
            StatusCode::OK,
            &json!({"request_id": request_id, "response": resp}),
        ),
        Err(r) => r,
    }
}

async fn properties_get(shared: &Shared, id: &str, query: Option<&str>) -> Resp {
    let Some(service_id) = query_param(query, "service_id").filter(|s| !s.is_empty()) else {
        return bad_request("query parameter service_id is required");
    };
    let request_id = shared.new_uuid();
    let payload = json!({"object_device_id": id, "service_id": service_id});
    match sync_call(
        shared,
        id,
        "sys/properties/get/request_id=",
        &request_id,
        payload,
    )
    .await
    {
        Ok(resp) => respond(
            StatusCode::OK,
            &json!({"request_id": request_id, "response": resp}),
        ),
        Err(r) => r,
    }
}

/// `PUT .../shadow`: `{"shadow": [{"service_id", "desired": {...}, "version"?}]}`;
/// a desired property set to `null` is removed.
fn shadow_put(shared: &Shared, id: &str, b: &Value) -> Resp {
    let Some(list) = b.get("shadow").and_then(Value::as_array) else {
        return bad_request("shadow (array) is required");
    };
    let mut st = shared.lock();
    let Some(dev) = st.devices.get_mut(id) else {
        return no_device(id);
    };
    for s in list {
        let Some(sid) = s.get("service_id").and_then(Value::as_str) else {
            return bad_request("each shadow entry needs service_id (string)");
        };
        let Some(desired) = s.get("desired").and_then(Value::as_object) else {
            return bad_request("each shadow entry needs desired (object)");
        };
        let version = s.get("version");
        if let Some(v) = version {
            if !v.is_u64() {
                return bad_request("version must be a non-negative integer");
            }
        }
        let current = dev.shadow.get(sid).map(|x| x.version).unwrap_or(0);
        if let Some(v) = version.and_then(Value::as_u64) {
            if v != current {
                return error(
                    StatusCode::CONFLICT,
                    "IOTDA.014017",
                    format!("shadow version {v} of {sid} is not the current {current}"),
                );
            }
        }
        let _ = desired;
    }
    let now = event_time_now();
    for s in list {
        let sid = s.get("service_id").and_then(Value::as_str).unwrap_or("");
        let desired = s
            .get("desired")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let svc = dev.shadow.entry(sid.to_string()).or_default();
        merge(&mut svc.desired, desired);
        svc.desired_time = Some(now.clone());
        svc.version += 1;
    }
    let shadow = st.shadow_json(id, None).unwrap_or_default();
    respond(StatusCode::OK, &json!({"device_id": id, "shadow": shadow}))
}

fn merge(into: &mut Map<String, Value>, from: Map<String, Value>) {
    for (k, v) in from {
        if v.is_null() {
            into.remove(&k);
        } else {
            into.insert(k, v);
        }
    }
}

/// A property report feeds the shadow's reported side.
pub fn apply_report(dev: &mut Device, v: &Value) {
    let Some(services) = v.get("services").and_then(Value::as_array) else {
        return;
    };
    for s in services {
        let (Some(sid), Some(props)) = (
            s.get("service_id").and_then(Value::as_str),
            s.get("properties").and_then(Value::as_object),
        ) else {
            continue;
        };
        // event_time as given when well formed, else the receive time.
        let t = s
            .get("event_time")
            .and_then(Value::as_str)
            .filter(|t| iotda::time::parse_event_time(t.as_bytes()).is_ok())
            .map(str::to_string)
            .unwrap_or_else(event_time_now);
        let svc = dev.shadow.entry(sid.to_string()).or_default();
        merge(&mut svc.reported, props.clone());
        svc.reported_time = Some(t);
        svc.version += 1;
    }
}
