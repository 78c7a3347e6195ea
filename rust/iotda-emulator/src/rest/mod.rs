//! Application side on axum: Huawei's v5 REST paths and bodies
//! (`/v5/iot/{project_id}/...`), the `/emulator/...` inspection endpoints
//! and the web console. Error replies: see [`error`].

pub mod body;
pub mod calls;
pub mod devices;
pub mod error;
pub mod inspect;
pub mod messages;
pub mod ota;
pub mod shadow;

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, OriginalUri, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::log;
use crate::state::Shared;
use error::ApiError;

/// Largest request body read.
const MAX_BODY: usize = 4 * 1024 * 1024;

/// Every route of the HTTP listener.
pub fn router(shared: Arc<Shared>) -> Router {
    let v5 = Router::new()
        .route("/devices", get(devices::list).post(devices::add))
        .route(
            "/devices/{device_id}",
            get(devices::show).delete(devices::delete),
        )
        .route(
            "/devices/{device_id}/messages",
            post(messages::create).get(messages::list),
        )
        .route(
            "/devices/{device_id}/messages/{message_id}",
            get(messages::show),
        )
        .route("/devices/{device_id}/commands", post(calls::command))
        .route(
            "/devices/{device_id}/properties",
            get(calls::properties_get).put(calls::properties_set),
        )
        .route(
            "/devices/{device_id}/shadow",
            get(shadow::show).put(shadow::update),
        )
        .route(
            "/ota-upgrades/packages",
            post(ota::create_package).get(ota::list_packages),
        )
        .route(
            "/ota-upgrades/packages/{package_id}",
            get(ota::show_package).delete(ota::delete_package),
        )
        .route("/batchtasks", post(ota::create_task).get(ota::list_tasks))
        .route("/batchtasks/{task_id}", get(ota::show_task))
        .route_layer(middleware::from_fn_with_state(
            shared.clone(),
            check_project,
        ));
    let emulator = Router::new()
        .route("/devices", get(inspect::devices))
        .route("/devices/{device_id}/uplinks", get(inspect::uplinks))
        .route(
            "/devices/{device_id}/bootstrap",
            axum::routing::put(devices::set_bootstrap),
        )
        .route(
            "/devices/{device_id}/ota/version_query",
            post(inspect::ota_version_query),
        )
        .route("/stats", get(inspect::stats))
        .route("/devices/{device_id}/events/down", post(ota::push_event))
        .route("/obs/{bucket}/{*key}", put(ota::put_object))
        .route("/ota/files/{package_id}", get(ota::download))
        .route("/ota/settings", post(ota::settings));
    Router::new()
        .nest("/v5/iot/{project_id}", v5)
        .nest("/emulator", emulator)
        .merge(crate::console::router())
        .merge(crate::services::routes())
        .fallback(no_api)
        .method_not_allowed_fallback(no_api)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(middleware::from_fn(log_request))
        .with_state(shared)
}

pub async fn serve(shared: Arc<Shared>, listener: TcpListener, mut stop: watch::Receiver<bool>) {
    let app = router(shared);
    let r = axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            let _ = stop.changed().await;
        })
        .await;
    if let Err(e) = r {
        log!("http server error: {e}");
    }
}

async fn no_api() -> Response {
    ApiError::no_api().into_response()
}

/// `/v5/iot/{project_id}/...` with another project id: 401 IOTDA.000002, as
/// a token scoped to another project gets (modelled).
async fn check_project(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    // Nested routers see the path without their prefix: use the original.
    let path = req
        .extensions()
        .get::<OriginalUri>()
        .map(|u| u.path().to_string())
        .unwrap_or_else(|| req.uri().path().to_string());
    let project = path.split('/').nth(3).unwrap_or("");
    if project != shared.config.project_id {
        return ApiError::new(
            StatusCode::UNAUTHORIZED,
            "IOTDA.000002",
            format!(
                "Authentication failed: project {project} is not this emulator's ({})",
                shared.config.project_id
            ),
        )
        .into_response();
    }
    next.run(req).await
}

async fn log_request(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let r = next.run(req).await;
    if !path.starts_with("/console/") && path != "/" {
        log!("http {method} {path} -> {}", r.status().as_u16());
    }
    r
}
