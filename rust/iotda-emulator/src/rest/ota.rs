//! OTA over REST (rules and sources: crate::ota):
//! - `POST/GET /v5/iot/{project_id}/ota-upgrades/packages`, `GET/DELETE
//!   .../packages/{package_id}`: CreateOtaPackage, ListOtaPackageInfo,
//!   ShowOtaPackage, DeleteOtaPackage;
//! - `POST/GET /v5/iot/{project_id}/batchtasks`, `GET .../batchtasks/{task_id}`:
//!   CreateBatchTask, ListBatchTasks, ShowBatchTask (upgrade tasks only);
//! - emulator only: `PUT /emulator/obs/{bucket}/{key}` (the stand-in for an
//!   OBS upload: the package's bytes), `GET /emulator/ota/files/{package_id}`
//!   (the download the event points to), `POST /emulator/ota/settings`
//!   (download URL base, token lifetime, download faults),
//!   `POST /emulator/devices/{device_id}/events/down` (any event, as given).

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Value};

use super::body::{json_object, opt_str, query_param};
use super::devices::DevicePath;
use super::error::{ok, ApiError, ApiResult};
use super::inspect::delivery_name;
use crate::log;
use crate::ota::{self, Detail, Package, SubStatus, Task};
use crate::state::{event_time_now, now_ms, Shared};

const UPLOAD_HINT: &str = "upload it first: PUT /emulator/obs/{bucket_name}/{object_key}";

fn no_package(id: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "IOTDA.014000",
        format!("OTA package {id} does not exist"),
    )
}

fn no_task(id: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "IOTDA.014000",
        format!("batch task {id} does not exist"),
    )
}

fn req_str<'a>(v: &'a Value, key: &str) -> Result<&'a str, ApiError> {
    opt_str(v, key)?.ok_or_else(|| ApiError::bad_request(format!("{key} is required")))
}

fn max_len(key: &str, s: Option<&str>, max: usize) -> Result<(), ApiError> {
    match s {
        Some(s) if s.chars().count() > max => Err(ApiError::bad_request(format!(
            "{key} is longer than {max} characters"
        ))),
        _ => Ok(()),
    }
}

fn is_id36(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 36
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
}

#[derive(Debug, Deserialize)]
pub struct ObjectPath {
    pub bucket: String,
    pub key: String,
}

/// `PUT /emulator/obs/{bucket}/{key}`: keeps the body as the object.
pub async fn put_object(
    State(shared): State<Arc<Shared>>,
    Path(p): Path<ObjectPath>,
    body: Bytes,
) -> ApiResult {
    let sha = ota::sha256_hex(&body);
    let size = body.len();
    shared
        .ota()
        .objects
        .insert((p.bucket.clone(), p.key.clone()), Arc::from(&body[..]));
    log!("obs stand-in: {}/{} ({size} bytes)", p.bucket, p.key);
    ok(
        StatusCode::OK,
        json!({"bucket_name": p.bucket, "object_key": p.key, "size": size, "sha256": sha}),
    )
}

/// CreateOtaPackage.
pub async fn create_package(State(shared): State<Arc<Shared>>, body: Bytes) -> ApiResult {
    let v = json_object(&body)?;
    let package_type = req_str(&v, "package_type")?;
    if !matches!(package_type, "softwarePackage" | "firmwarePackage") {
        return Err(ApiError::bad_request(
            "package_type must be softwarePackage or firmwarePackage",
        ));
    }
    let product_id = req_str(&v, "product_id")?;
    if !is_id36(product_id) {
        return Err(ApiError::bad_request(
            "product_id: at most 36 of letters, digits, _ and -",
        ));
    }
    let app_id = opt_str(&v, "app_id")?.unwrap_or("emulator");
    if !is_id36(app_id) {
        return Err(ApiError::bad_request(
            "app_id: at most 36 of letters, digits, _ and -",
        ));
    }
    let version = req_str(&v, "version")?;
    if !ota::is_version(version) {
        return Err(ApiError::bad_request(
            "version: at most 256 of letters, digits, _, - and .",
        ));
    }
    let mut sources = Vec::new();
    match v.get("support_source_versions") {
        None | Some(Value::Null) => {}
        Some(Value::Array(a)) if a.len() <= 20 => {
            for s in a {
                match s.as_str() {
                    Some(s) if ota::is_version(s) => sources.push(s.to_string()),
                    _ => {
                        return Err(ApiError::bad_request(
                            "support_source_versions: versions of letters, digits, _, - and .",
                        ))
                    }
                }
            }
        }
        Some(_) => {
            return Err(ApiError::bad_request(
                "support_source_versions: a list of at most 20 versions",
            ))
        }
    }
    let description = opt_str(&v, "description")?;
    max_len("description", description, 1024)?;
    let custom_info = opt_str(&v, "custom_info")?;
    max_len("custom_info", custom_info, 4096)?;
    let obs = v
        .get("file_location")
        .and_then(|f| f.get("obs_location"))
        .filter(|o| o.is_object())
        .ok_or_else(|| ApiError::bad_request("file_location.obs_location is required"))?;
    let region = req_str(obs, "region_name")?;
    let bucket = req_str(obs, "bucket_name")?;
    let key = req_str(obs, "object_key")?;
    let mut store = shared.ota();
    let data = store
        .objects
        .get(&(bucket.to_string(), key.to_string()))
        .cloned()
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "OBS object {bucket}/{key} does not exist ({UPLOAD_HINT})"
            ))
        })?;
    let pkg = Package {
        package_id: shared.new_uuid(),
        app_id: app_id.into(),
        package_type: package_type.into(),
        product_id: product_id.into(),
        version: version.into(),
        support_source_versions: sources,
        description: description.map(str::to_string),
        custom_info: custom_info.map(str::to_string),
        create_time: event_time_now(),
        region_name: region.into(),
        bucket_name: bucket.into(),
        object_key: key.into(),
        file_size: data.len(),
        sign: ota::sha256_hex(&data),
    };
    let out = pkg.to_json();
    log!(
        "ota package {} {} {} ({} bytes, sha256 {})",
        pkg.package_id,
        pkg.package_type,
        pkg.version,
        pkg.file_size,
        pkg.sign
    );
    store.packages.insert(pkg.package_id.clone(), pkg);
    ok(StatusCode::CREATED, out)
}

/// ListOtaPackageInfo (filters: package_type, product_id, version).
pub async fn list_packages(State(shared): State<Arc<Shared>>, RawQuery(q): RawQuery) -> ApiResult {
    let q = q.as_deref();
    let want = |k: &str| query_param(q, k);
    let (ty, prod, ver) = (want("package_type"), want("product_id"), want("version"));
    let store = shared.ota();
    let list: Vec<Value> = store
        .packages
        .values()
        .filter(|p| ty.as_ref().is_none_or(|t| *t == p.package_type))
        .filter(|p| prod.as_ref().is_none_or(|t| *t == p.product_id))
        .filter(|p| ver.as_ref().is_none_or(|t| *t == p.version))
        .map(Package::to_json)
        .collect();
    let n = list.len();
    ok(
        StatusCode::OK,
        json!({"packages": list, "page": {"count": n}}),
    )
}

#[derive(Debug, Deserialize)]
pub struct PackagePath {
    pub package_id: String,
}

/// ShowOtaPackage.
pub async fn show_package(
    State(shared): State<Arc<Shared>>,
    Path(p): Path<PackagePath>,
) -> ApiResult {
    match shared.ota().packages.get(&p.package_id) {
        Some(pkg) => ok(StatusCode::OK, pkg.to_json()),
        None => Err(no_package(&p.package_id)),
    }
}

/// DeleteOtaPackage.
pub async fn delete_package(
    State(shared): State<Arc<Shared>>,
    Path(p): Path<PackagePath>,
) -> ApiResult {
    match shared.ota().packages.remove(&p.package_id) {
        Some(_) => Ok(StatusCode::NO_CONTENT.into_response()),
        None => Err(no_package(&p.package_id)),
    }
}

/// CreateBatchTask (firmwareUpgrade / softwareUpgrade).
pub async fn create_task(State(shared): State<Arc<Shared>>, body: Bytes) -> ApiResult {
    let v = json_object(&body)?;
    let name = req_str(&v, "task_name")?;
    if name.is_empty() || name.chars().count() > 128 {
        return Err(ApiError::bad_request("task_name: 1 to 128 characters"));
    }
    let task_type = req_str(&v, "task_type")?;
    let want_pkg = match task_type {
        "firmwareUpgrade" => "firmwarePackage",
        "softwareUpgrade" => "softwarePackage",
        other => {
            return Err(ApiError::bad_request(format!(
            "task_type {other}: the emulator runs firmwareUpgrade and softwareUpgrade tasks only"
        )))
        }
    };
    let targets: Vec<String> = match v.get("targets") {
        Some(Value::Array(a)) if !a.is_empty() && a.len() <= 30_000 => a
            .iter()
            .map(|t| t.as_str().map(str::to_string))
            .collect::<Option<_>>()
            .ok_or_else(|| ApiError::bad_request("targets: a list of device ids"))?,
        _ => {
            return Err(ApiError::bad_request(
                "targets: a non-empty list of device ids (targets_filter is not emulated)",
            ))
        }
    };
    let mut seen = std::collections::HashSet::new();
    if !targets.iter().all(|t| seen.insert(t)) {
        return Err(ApiError::bad_request("targets: a device id is repeated"));
    }
    let package_id = v
        .get("document")
        .and_then(|d| d.get("package_id"))
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::bad_request("document.package_id is required"))?;
    {
        let store = shared.ota();
        let pkg = store.packages.get(package_id).ok_or_else(|| {
            ApiError::bad_request(format!("document.package_id {package_id} does not exist"))
        })?;
        if pkg.package_type != want_pkg {
            return Err(ApiError::bad_request(format!(
                "a {task_type} task needs a {want_pkg}, {package_id} is a {}",
                pkg.package_type
            )));
        }
    }
    let known: Vec<bool> = {
        let st = shared.lock();
        targets.iter().map(|t| st.devices.contains_key(t)).collect()
    };
    let details = targets
        .iter()
        .zip(known)
        .map(|(t, known)| Detail {
            target: t.clone(),
            status: if known {
                SubStatus::Waitting
            } else {
                SubStatus::Fail
            },
            output: None,
            error: (!known).then(|| ("IOTDA.010001".into(), format!("device {t} does not exist"))),
        })
        .collect();
    // 24 lowercase hex digits, as the platform's task ids
    let task_id = format!(
        "{:012x}{:012x}",
        now_ms() as u64 & 0xffff_ffff_ffff,
        shared.next_id() & 0xffff_ffff_ffff
    );
    let task = Task {
        task_id: task_id.clone(),
        task_name: name.into(),
        task_type: task_type.into(),
        package_id: package_id.into(),
        create_time: event_time_now(),
        details,
    };
    shared.ota().tasks.insert(task_id.clone(), task);
    ota::start_task(&shared, &task_id);
    let out = shared.ota().tasks.get(&task_id).map(Task::to_json);
    ok(StatusCode::CREATED, out.unwrap_or(Value::Null))
}

/// ListBatchTasks (`task_type` required, as Huawei's).
pub async fn list_tasks(State(shared): State<Arc<Shared>>, RawQuery(q): RawQuery) -> ApiResult {
    let ty = query_param(q.as_deref(), "task_type")
        .ok_or_else(|| ApiError::bad_request("task_type is required"))?;
    let store = shared.ota();
    let list: Vec<Value> = store
        .tasks
        .values()
        .filter(|t| t.task_type == ty)
        .map(Task::to_json)
        .collect();
    let n = list.len();
    ok(
        StatusCode::OK,
        json!({"batchtasks": list, "page": {"count": n}}),
    )
}

#[derive(Debug, Deserialize)]
pub struct TaskPath {
    pub task_id: String,
}

/// ShowBatchTask (filters: task_detail_status, target).
pub async fn show_task(
    State(shared): State<Arc<Shared>>,
    Path(p): Path<TaskPath>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let q = q.as_deref();
    let status = match query_param(q, "task_detail_status") {
        None => None,
        Some(s) => Some(SubStatus::parse(&s).ok_or_else(|| {
            ApiError::bad_request(format!("task_detail_status {s} is not a subtask status"))
        })?),
    };
    let target = query_param(q, "target");
    let store = shared.ota();
    let t = store
        .tasks
        .get(&p.task_id)
        .ok_or_else(|| no_task(&p.task_id))?;
    let details: Vec<Value> = t
        .details
        .iter()
        .filter(|d| status.is_none_or(|s| s == d.status))
        .filter(|d| target.as_ref().is_none_or(|x| *x == d.target))
        .map(Detail::to_json)
        .collect();
    let n = details.len();
    ok(
        StatusCode::OK,
        json!({"batchtask": t.to_json(), "task_details": details, "page": {"count": n}}),
    )
}

fn unauthorized(msg: &str) -> Response {
    ApiError::new(StatusCode::UNAUTHORIZED, "IOTDA.000002", msg).into_response()
}

/// The package download: Bearer token, ranges, injected faults.
pub async fn download(
    State(shared): State<Arc<Shared>>,
    Path(p): Path<PackagePath>,
    headers: HeaderMap,
) -> Response {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let (data, drop_after) = {
        let mut store = shared.ota();
        let Some(token) = bearer else {
            return unauthorized("Authorization: Bearer {access_token} required");
        };
        let Some(t) = store.tokens.get(token) else {
            return unauthorized("access token not valid");
        };
        if t.package_id != p.package_id {
            return unauthorized("access token not valid for this package");
        }
        if t.expired(now_ms()) {
            return unauthorized("access token expired");
        }
        let Some(pkg) = store.packages.get(&p.package_id) else {
            return no_package(&p.package_id).into_response();
        };
        let object = (pkg.bucket_name.clone(), pkg.object_key.clone());
        let Some(data) = store.objects.get(&object).cloned() else {
            return no_package(&p.package_id).into_response();
        };
        let drop_after = if store.faults.count > 0 {
            store.faults.count -= 1;
            Some(store.faults.drop_after)
        } else {
            None
        };
        (data, drop_after)
    };
    let len = data.len() as u64;
    let range = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    let (status, start, end) = match ota::parse_range(range, len) {
        Ok(None) => (StatusCode::OK, 0, len.saturating_sub(1)),
        Ok(Some((s, e))) => (StatusCode::PARTIAL_CONTENT, s, e),
        Err(()) => {
            return Response::builder()
                .status(StatusCode::RANGE_NOT_SATISFIABLE)
                .header(header::CONTENT_RANGE, format!("bytes */{len}"))
                .body(Body::empty())
                .unwrap_or_default()
        }
    };
    let body_len = if len == 0 { 0 } else { end + 1 - start };
    let slice = Bytes::copy_from_slice(&data[start as usize..(start + body_len) as usize]);
    log!(
        "ota download {} bytes {start}-{end}/{len}{}",
        p.package_id,
        drop_after.map_or(String::new(), |n| format!(" (fault: cut after {n} bytes)"))
    );
    let body = match drop_after {
        Some(n) if n < body_len => {
            use futures_util::StreamExt;
            let head = slice.slice(..n as usize);
            // the error aborts the connection: give hyper time to send the
            // head first, as a link that dies mid-transfer would have
            let cut = futures_util::stream::once(async {
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                Err(std::io::Error::other("injected fault: connection dropped"))
            });
            Body::from_stream(futures_util::stream::once(async { Ok(head) }).chain(cut))
        }
        _ => Body::from(slice),
    };
    let mut b = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .header(header::CONTENT_LENGTH, body_len)
        .header(header::ACCEPT_RANGES, "bytes");
    if status == StatusCode::PARTIAL_CONTENT {
        b = b.header(header::CONTENT_RANGE, format!("bytes {start}-{end}/{len}"));
    }
    b.body(body).unwrap_or_default()
}

fn opt_u64(v: &Value, key: &str) -> Result<Option<u64>, ApiError> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(x) => x
            .as_u64()
            .map(Some)
            .ok_or_else(|| ApiError::bad_request(format!("{key}: an integer >= 0"))),
    }
}

/// `POST /emulator/ota/settings {"drop_after_bytes": N, "count": K,
/// "token_ttl_secs": S, "base_url": U}` (each optional): the next K
/// (default 1) downloads are cut after N body bytes; tokens handed out from
/// now on are valid S seconds (0: expired on arrival); events from now on
/// point to U + `/emulator/ota/files/...` (e.g. an HTTPS proxy in front of
/// the emulator). Answers the settings now in force.
pub async fn settings(State(shared): State<Arc<Shared>>, body: Bytes) -> ApiResult {
    let v = json_object(&body)?;
    let drop_after = opt_u64(&v, "drop_after_bytes")?;
    let count = opt_u64(&v, "count")?;
    let ttl = opt_u64(&v, "token_ttl_secs")?;
    let base = opt_str(&v, "base_url")?;
    if let Some(b) = base {
        let rest = b
            .strip_prefix("http://")
            .or_else(|| b.strip_prefix("https://"));
        if rest.is_none_or(|r| r.is_empty() || r.contains('/') || r.contains(char::is_whitespace)) {
            return Err(ApiError::bad_request(
                "base_url: http(s)://host[:port], no path",
            ));
        }
    }
    let mut store = shared.ota();
    if let Some(b) = base {
        store.base_url = b.to_string();
    }
    let base_url = store.base_url.clone();
    let f = &mut store.faults;
    if let Some(n) = drop_after {
        f.drop_after = n;
        f.count = count.unwrap_or(1).min(u32::MAX as u64) as u32;
    } else if let Some(c) = count {
        f.count = c.min(u32::MAX as u64) as u32;
    }
    if let Some(t) = ttl {
        f.token_ttl_secs = t.min(i64::MAX as u64 / 1000) as i64;
    }
    ok(
        StatusCode::OK,
        json!({"drop_after_bytes": f.drop_after, "count": f.count,
               "token_ttl_secs": f.token_ttl_secs, "base_url": base_url}),
    )
}

/// `POST /emulator/devices/{device_id}/events/down`: the body, as it is, on
/// the device's events/down topic (device-side error handling tests).
pub async fn push_event(
    State(shared): State<Arc<Shared>>,
    Path(p): Path<DevicePath>,
    body: Bytes,
) -> ApiResult {
    let topic = format!("$oc/devices/{}/sys/events/down", p.device_id);
    let dl = shared.next_id();
    let mut st = shared.lock();
    if !st.devices.contains_key(&p.device_id) {
        return Err(ApiError::no_device(&p.device_id));
    }
    let d = st.deliver(dl, &p.device_id, &topic, body.to_vec(), false);
    ok(StatusCode::OK, json!({"status": delivery_name(d)}))
}
