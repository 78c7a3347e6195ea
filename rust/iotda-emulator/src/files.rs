//! File upload and download (`$file_manager`), with the emulator itself
//! standing in for OBS.
//!
//! Sources (Huawei IoTDA):
//! - API reference `iot_06_v5_3033`..`3038`: `get_upload_url` /
//!   `get_download_url` (`file_name` mandatory, `file_attributes` optional
//!   object), the platform's `get_upload_url_response` /
//!   `get_download_url_response` (`url` mandatory; `bucket_name`,
//!   `object_name`, `expire` seconds, `file_attributes`), and the device's
//!   `upload_result_report` / `download_result_report` (`object_name`,
//!   `result_code` 0 success / 1 failure, `status_code`,
//!   `status_description`). The example object name is
//!   `{device_id}_{file_name}`.
//! - User manual `iot_01_0033` (File Uploads): the device PUTs the file to
//!   the URL (a body, no Content-Type needed), the URL is valid for
//!   `expire` seconds, one hour by default.
//! - OBS errors are XML `<Error><Code>..</Code><Message>..</Message></Error>`:
//!   403 AccessDenied (expired or wrong signature), 404 NoSuchKey.
//!
//! The URLs are `http://{emulator http}/obs/{bucket}/{object}?token=...`;
//! a token grants one method on one object until it expires. Bodies are
//! limited by the HTTP listener (4 MB).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State as AxState};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::log;
use crate::rest::body::query_param;
use crate::rest::error::{ok, ApiError, ApiResult};
use crate::services::send_event;
use crate::state::{event_time_now, now_ms, Shared, State};

/// The bucket name in the URLs and responses.
pub const BUCKET: &str = "iotda-emulator";
/// URL validity, seconds (IoTDA's default: one hour).
pub const EXPIRE_SECS: i64 = 3600;
/// Longest file name accepted.
pub const MAX_FILE_NAME: usize = 255;

/// A file in the OBS stand-in.
#[derive(Debug, Clone)]
pub struct StoredFile {
    pub device_id: String,
    pub data: Vec<u8>,
    pub stored: String,
    pub upload_result: Option<Value>,
    pub download_result: Option<Value>,
}

/// What a URL token allows.
#[derive(Debug, Clone)]
pub struct UrlGrant {
    pub object_name: String,
    pub device_id: String,
    pub upload: bool,
    pub expires_ms: i64,
}

/// `file_name`: 1..255 bytes, no path separators or control characters.
pub fn check_file_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > MAX_FILE_NAME {
        return Err(format!("file_name must be 1..{MAX_FILE_NAME} bytes"));
    }
    if name.contains(['/', '\\'])
        || name.chars().any(char::is_control)
        || name == "."
        || name == ".."
    {
        return Err(format!(
            "file_name {name:?}: no path separators or control characters"
        ));
    }
    Ok(())
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The `$file_manager` events a device sends up (`device_id`: the device
/// the event is about, a gateway's child or the device itself).
pub fn on_event(st: &mut State, shared: &Shared, device_id: &str, etype: &str, paras: &Value) {
    match etype {
        "get_upload_url" | "get_download_url" => {
            let upload = etype == "get_upload_url";
            let name = paras.get("file_name").and_then(Value::as_str).unwrap_or("");
            if let Err(e) = check_file_name(name) {
                log!("{device_id}: $file_manager {etype} refused (no URL sent): {e}");
                return;
            }
            let object_name = format!("{device_id}_{name}");
            let token = shared.new_uuid();
            // a listener on 0.0.0.0 is reached on loopback here
            let addr = match st.services.http_addr.unwrap_or(shared.config.http) {
                a if a.ip().is_unspecified() => format!("127.0.0.1:{}", a.port()),
                a => a.to_string(),
            };
            let url = format!(
                "http://{addr}/obs/{BUCKET}/{}?token={token}",
                encode(&object_name)
            );
            let now = now_ms();
            st.services.grants.retain(|_, g| now < g.expires_ms); // expired URLs are gone for good
            st.services.grants.insert(
                token,
                UrlGrant {
                    object_name: object_name.clone(),
                    device_id: device_id.to_string(),
                    upload,
                    expires_ms: now + EXPIRE_SECS * 1000,
                },
            );
            let mut p = json!({"url": url, "bucket_name": BUCKET, "object_name": object_name,
                               "expire": EXPIRE_SECS});
            if let Some(a) = paras.get("file_attributes") {
                p["file_attributes"] = a.clone();
            }
            log!("{device_id}: $file_manager {etype} {object_name}");
            let rtype = if upload {
                "get_upload_url_response"
            } else {
                "get_download_url_response"
            };
            send_event(
                st,
                shared,
                device_id,
                ("$file_manager", rtype, None),
                p,
                false,
            );
        }
        "upload_result_report" | "download_result_report" => {
            let object = paras
                .get("object_name")
                .and_then(Value::as_str)
                .unwrap_or("");
            let code = paras.get("result_code").and_then(Value::as_i64);
            let Some(code) = code.filter(|_| !object.is_empty()) else {
                log!("{device_id}: $file_manager {etype} refused: object_name and result_code (integer) are mandatory");
                return;
            };
            log!("{device_id}: $file_manager {etype} {object} result_code={code}");
            let mut r = paras.clone();
            r["reported"] = json!(event_time_now());
            let f = st
                .services
                .files
                .entry(object.to_string())
                .or_insert_with(|| StoredFile {
                    device_id: device_id.to_string(),
                    data: Vec::new(),
                    stored: String::new(),
                    upload_result: None,
                    download_result: None,
                });
            if etype == "upload_result_report" {
                f.upload_result = Some(r);
            } else {
                f.download_result = Some(r);
            }
        }
        _ => log!("{device_id}: $file_manager {etype}: not an event a device sends (ignored)"),
    }
}

/// OBS's error body.
fn obs_error(status: StatusCode, code: &str, msg: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>{msg}</Message></Error>"
    );
    (status, [(header::CONTENT_TYPE, "application/xml")], body).into_response()
}

#[derive(Debug, Deserialize)]
struct ObjectPath {
    bucket: String,
    object: String,
}

/// OBS's refusal: status, code, message.
type Refusal = (StatusCode, &'static str, &'static str);

/// The grant of `token` for `object`, or OBS's 403.
fn grant(st: &State, q: Option<&str>, p: &ObjectPath, upload: bool) -> Result<UrlGrant, Refusal> {
    let mismatch = (
        StatusCode::FORBIDDEN,
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided.",
    );
    let Some(token) = query_param(q, "token") else {
        return Err((
            StatusCode::FORBIDDEN,
            "AccessDenied",
            "Request without a signature (token)",
        ));
    };
    let Some(g) = st.services.grants.get(&token) else {
        return Err(mismatch);
    };
    if p.bucket != BUCKET || g.object_name != p.object || g.upload != upload {
        return Err(mismatch);
    }
    // valid before `expires_ms`, expired from it on (as the OTA tokens)
    if now_ms() >= g.expires_ms {
        return Err((StatusCode::FORBIDDEN, "AccessDenied", "Request has expired"));
    }
    Ok(g.clone())
}

async fn obs_put(
    AxState(shared): AxState<Arc<Shared>>,
    Path(p): Path<ObjectPath>,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Response {
    let mut st = shared.lock();
    let g = match grant(&st, q.as_deref(), &p, true) {
        Ok(g) => g,
        Err((status, code, msg)) => return obs_error(status, code, msg),
    };
    let n = body.len();
    st.services.files.insert(
        g.object_name.clone(),
        StoredFile {
            device_id: g.device_id.clone(),
            data: body.to_vec(),
            stored: event_time_now(),
            upload_result: None,
            download_result: None,
        },
    );
    drop(st);
    log!("{}: uploaded {} ({n} bytes)", g.device_id, g.object_name);
    (StatusCode::OK, [(header::ETAG, format!("\"{n:x}\""))]).into_response()
}

async fn obs_get(
    AxState(shared): AxState<Arc<Shared>>,
    Path(p): Path<ObjectPath>,
    RawQuery(q): RawQuery,
) -> Response {
    let st = shared.lock();
    if let Err((status, code, msg)) = grant(&st, q.as_deref(), &p, false) {
        return obs_error(status, code, msg);
    }
    match st
        .services
        .files
        .get(&p.object)
        .filter(|f| !f.stored.is_empty())
    {
        Some(f) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/octet-stream")],
            f.data.clone(),
        )
            .into_response(),
        None => obs_error(
            StatusCode::NOT_FOUND,
            "NoSuchKey",
            "The specified key does not exist.",
        ),
    }
}

#[derive(Debug, Deserialize)]
struct FilePath {
    object: String,
}

fn file_json(name: &str, f: &StoredFile) -> Value {
    json!({"object_name": name, "device_id": f.device_id, "size": f.data.len(),
           "stored": if f.stored.is_empty() { None } else { Some(&f.stored) },
           "upload_result": f.upload_result, "download_result": f.download_result})
}

/// `GET /emulator/files`: every object and the results the devices reported.
async fn list(AxState(shared): AxState<Arc<Shared>>) -> ApiResult {
    let st = shared.lock();
    let mut names: Vec<&String> = st.services.files.keys().collect();
    names.sort();
    let files: Vec<Value> = names
        .iter()
        .map(|n| file_json(n, &st.services.files[*n]))
        .collect();
    ok(
        StatusCode::OK,
        json!({"bucket_name": BUCKET, "files": files}),
    )
}

/// `GET /emulator/files/{object}`: the object's bytes.
async fn content(
    AxState(shared): AxState<Arc<Shared>>,
    Path(p): Path<FilePath>,
) -> Result<Response, ApiError> {
    let st = shared.lock();
    match st
        .services
        .files
        .get(&p.object)
        .filter(|f| !f.stored.is_empty())
    {
        Some(f) => Ok((StatusCode::OK, f.data.clone()).into_response()),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "IOTDA.014107",
            format!("no object {}", p.object),
        )),
    }
}

/// `PUT /emulator/files/{object}`: places an object (a file for devices to download).
async fn place(
    AxState(shared): AxState<Arc<Shared>>,
    Path(p): Path<FilePath>,
    body: Bytes,
) -> ApiResult {
    check_file_name(&p.object).map_err(ApiError::bad_request)?;
    let mut st = shared.lock();
    let f = st
        .services
        .files
        .entry(p.object.clone())
        .or_insert_with(|| StoredFile {
            device_id: String::new(),
            data: Vec::new(),
            stored: String::new(),
            upload_result: None,
            download_result: None,
        });
    f.data = body.to_vec();
    f.stored = event_time_now();
    let v = file_json(&p.object, f);
    ok(StatusCode::CREATED, v)
}

pub fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/obs/{bucket}/{object}", get(obs_get).put(obs_put))
        .route("/emulator/files", get(list))
        .route("/emulator/files/{object}", get(content).put(place))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names() {
        assert!(check_file_name("log-1.txt").is_ok());
        assert!(check_file_name("a b.jpg").is_ok());
        assert!(check_file_name("").is_err());
        assert!(check_file_name("../etc/passwd").is_err());
        assert!(check_file_name("a\\b").is_err());
        assert!(check_file_name("a\nb").is_err());
        assert!(check_file_name(&"x".repeat(256)).is_err());
        assert!(check_file_name(&"x".repeat(255)).is_ok());
    }

    #[test]
    fn grants_check_token_object_method_and_expiry() {
        let sh = Shared::new(crate::config::Config::default());
        let mut st = sh.lock();
        let g = |object: &str, upload: bool, expires_ms: i64| UrlGrant {
            object_name: object.into(),
            device_id: "d".into(),
            upload,
            expires_ms,
        };
        st.services
            .grants
            .insert("t-ok".into(), g("d_a", true, now_ms() + 60_000));
        st.services
            .grants
            .insert("t-old".into(), g("d_a", true, now_ms() - 1));
        let path = |object: &str| ObjectPath {
            bucket: BUCKET.into(),
            object: object.into(),
        };
        let code =
            |q: Option<&str>, p: &ObjectPath, up: bool| grant(&st, q, p, up).err().map(|e| e.1);
        assert_eq!(code(Some("token=t-ok"), &path("d_a"), true), None);
        assert_eq!(
            code(Some("token=t-ok"), &path("d_b"), true),
            Some("SignatureDoesNotMatch")
        );
        assert_eq!(
            code(Some("token=t-ok"), &path("d_a"), false),
            Some("SignatureDoesNotMatch")
        );
        assert_eq!(
            code(Some("token=nope"), &path("d_a"), true),
            Some("SignatureDoesNotMatch")
        );
        assert_eq!(code(None, &path("d_a"), true), Some("AccessDenied"));
        let expired = grant(&st, Some("token=t-old"), &path("d_a"), true).unwrap_err();
        assert_eq!(
            (expired.1, expired.2),
            ("AccessDenied", "Request has expired")
        );
        let other_bucket = ObjectPath {
            bucket: "b".into(),
            object: "d_a".into(),
        };
        assert_eq!(
            code(Some("token=t-ok"), &other_bucket, true),
            Some("SignatureDoesNotMatch")
        );
    }

    #[test]
    fn url_encoding() {
        assert_eq!(encode("d_1_a b.jpg"), "d_1_a%20b.jpg");
        assert_eq!(encode("%?&"), "%25%3F%26");
    }
}
