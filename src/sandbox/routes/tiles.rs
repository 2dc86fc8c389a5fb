//! The providers' preview tiles: `GET /sandbox/tiles/{provider}/{z}/{x}/{y}.png`.
//!
//! Public (no auth), because map tile loaders cannot send headers; the real service's
//! preview URLs point at third-party hosts that need none either.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::sandbox::error::{ApiError, ApiResult};
use crate::sandbox::state::Shared;
use crate::sandbox::tiles::parse_tile;

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new().route("/sandbox/tiles/{provider}/{z}/{x}/{y}", get(tile))
}

/// A 256×256 PNG of synthetic imagery; the same address always gives the same picture.
async fn tile(
    State(shared): State<Arc<Shared>>,
    Path((provider, z, x, y)): Path<(String, String, String, String)>,
) -> ApiResult<Response> {
    let (z, x, y) = parse_tile(&z, &x, &y).ok_or_else(|| ApiError::not_found(format!("No such tile: {z}/{x}/{y}")))?;
    let png = tokio::task::spawn_blocking(move || shared.tiles.png(&provider, z, x, y))
        .await
        .map_err(|e| ApiError::internal(format!("Tile rendering failed: {e}")))?
        .map_err(|e| ApiError::internal(format!("Tile encoding failed: {e}")))?;
    Ok(([(header::CONTENT_TYPE, "image/png"), (header::CACHE_CONTROL, "public, max-age=86400")], png).into_response())
}
