//! The web console at `/`: devices with their online state and last login,
//! a live trace of uplinks and downlinks (server-sent events from
//! `/emulator/events`), forms for a message, a command (with the device's
//! reply), a property set / get, and the shadow. Plain HTML, JS and CSS
//! built into the binary (`include_str!`), nothing fetched from elsewhere.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::header;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use futures_util::stream::{self, Stream};
use serde_json::{json, Value};
use tokio::sync::broadcast::error::RecvError;

use crate::state::Shared;

const INDEX: &str = include_str!("console/index.html");
const APP_JS: &str = include_str!("console/app.js");
const STYLE: &str = include_str!("console/style.css");

pub fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/", get(index))
        .route("/console/app.js", get(app_js))
        .route("/console/style.css", get(style))
        .route("/emulator/events", get(events))
        .route("/emulator/info", get(info))
}

async fn index() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], INDEX)
}

async fn app_js() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        APP_JS,
    )
}

async fn style() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLE)
}

async fn info(State(shared): State<Arc<Shared>>) -> Json<Value> {
    Json(json!({
        "project_id": shared.config.project_id,
        "limits": {
            "max_payload": shared.config.limits.max_payload,
            "max_property_report": shared.config.limits.max_property_report,
            "max_subscriptions": shared.config.limits.max_subscriptions,
            "uplinks_per_sec": shared.config.limits.uplinks_per_sec,
            "max_custom_topic": shared.config.limits.max_custom_topic,
        },
        "sync_timeout_secs": shared.config.sync_timeout.as_secs_f64(),
    }))
}

/// State of one event stream: kept events first, then live ones.
struct Feed {
    replay: std::vec::IntoIter<Value>,
    last_seq: u64,
    rx: tokio::sync::broadcast::Receiver<Value>,
    stop: tokio::sync::watch::Receiver<bool>,
}

fn sse_event(v: &Value) -> Event {
    Event::default().data(v.to_string())
}

/// `GET /emulator/events`: every trace event as `data: {json}`.
async fn events(
    State(shared): State<Arc<Shared>>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    // The kept events and the receiver are taken under one lock: nothing
    // is missed or sent twice (`last_seq` is only a second guard).
    let (recent, rx) = shared.trace.follow();
    let feed = Feed {
        replay: recent.into_iter(),
        last_seq: 0,
        rx,
        stop: shared.stop.subscribe(),
    };
    let s = stream::unfold(feed, |mut f| async move {
        if let Some(v) = f.replay.next() {
            f.last_seq = v["seq"].as_u64().unwrap_or(f.last_seq);
            return Some((Ok(sse_event(&v)), f));
        }
        loop {
            if *f.stop.borrow() {
                return None;
            }
            tokio::select! {
                r = f.rx.recv() => match r {
                    Ok(v) => {
                        let seq = v["seq"].as_u64().unwrap_or(0);
                        if seq > f.last_seq {
                            f.last_seq = seq;
                            return Some((Ok(sse_event(&v)), f));
                        }
                    }
                    Err(RecvError::Lagged(n)) => {
                        let v = json!({"kind": "lagged", "missed": n});
                        return Some((Ok(sse_event(&v)), f));
                    }
                    Err(RecvError::Closed) => return None,
                },
                _ = f.stop.changed() => return None,
            }
        }
    });
    Sse::new(s).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
