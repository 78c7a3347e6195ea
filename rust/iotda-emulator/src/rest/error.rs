//! Error replies in Huawei's shape: `{"error_code": "...", "error_msg": "..."}`.
//!
//! | status | error_code | when | source |
//! |---|---|---|---|
//! | 400 | IOTDA.000006 | body not JSON, missing / wrong field, bad query, duplicate message_id | API reference, error codes (iot_06_v5_0018); CreateMessage (iot_06_v5_0059) |
//! | 401 | IOTDA.000002 | project id in the path is not the emulator's (a token for another project) | iot_06_v5_0018 (modelled) |
//! | 404 | APIG.0101 | no API at this path, or not with this method | API Gateway FAQ apig-faq-180307001 / apig-faq-19123002 |
//! | 404 | IOTDA.010001 | unknown device (modelled) | |
//! | 409 | IOTDA.010002 | device already registered (modelled) | |
//! | 409 | IOTDA.014016 | synchronous call to a device that is offline (modelled) | |
//! | 409 | IOTDA.014017 | shadow version mismatch (modelled) | |
//! | 408 | IOTDA.014111 | no device answer within the sync timeout (modelled) | |

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

/// An error reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub msg: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, msg: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            msg: msg.into(),
        }
    }

    pub fn bad_request(msg: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "IOTDA.000006", msg)
    }

    pub fn no_device(id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "IOTDA.010001",
            format!("device {id} does not exist"),
        )
    }

    /// What Huawei's API gateway answers for a path (or method) with no API.
    pub fn no_api() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "APIG.0101",
            "The API does not exist or has not been published in the environment.",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({"error_code": self.code, "error_msg": self.msg})),
        )
            .into_response()
    }
}

pub type ApiResult = Result<Response, ApiError>;

/// A JSON reply.
pub fn ok(status: StatusCode, v: serde_json::Value) -> ApiResult {
    Ok((status, Json(v)).into_response())
}
