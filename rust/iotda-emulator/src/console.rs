//! The web console (placeholder).

use std::sync::Arc;

use axum::Router;

use crate::state::Shared;

pub fn router() -> Router<Arc<Shared>> {
    Router::new()
}
