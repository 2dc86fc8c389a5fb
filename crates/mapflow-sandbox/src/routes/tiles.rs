//! The providers' preview tiles, `GET /sandbox/tiles/{provider}/{z}/{x}/{y}.png`, which
//! also show the imagery of a processing on a provider (its `rasterLayer`); the tiles of
//! a processing on uploaded images or catalog scenes, drawn from their pixels,
//! `GET /sandbox/raster-tiles/{rasterId}/{z}/{x}/{y}.png`; and a layer's TileJSON,
//! `GET /sandbox/tilejson/{rasterId}.json`.
//!
//! Public (no auth), because map tile loaders cannot send headers; the real service's
//! preview URLs point at third-party hosts that need none either.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use serde_json::Value;

use crate::catalog;
use crate::error::{ApiError, ApiResult};
use crate::imagery;
use crate::processing::{self, RasterSource};
use crate::rasters::{self, ImageRecord};
use crate::state::Shared;
use crate::tiles::parse_tile;

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/sandbox/tiles/{provider}/{z}/{x}/{y}", get(tile))
        .route("/sandbox/raster-tiles/{raster_id}/{z}/{x}/{y}", get(raster_tile))
        .route("/sandbox/tilejson/{file}", get(tile_json))
}

/// A 256×256 PNG of the imagery a processing ran on: its uploaded images' pixels (as
/// their mosaic's tiles draw them) or its catalog scenes' preview imagery within their
/// footprints; transparent where the imagery has none.
async fn raster_tile(
    State(shared): State<Arc<Shared>>,
    Path((raster_id, z, x, y)): Path<(String, String, String, String)>,
) -> ApiResult<Response> {
    let (z, x, y) = parse_tile(&z, &x, &y).ok_or_else(|| ApiError::not_found(format!("No such tile: {z}/{x}/{y}")))?;
    let source = shared.read(|s| {
        let p = s
            .processings
            .iter()
            .find(|p| p.raster_id == raster_id)
            .ok_or_else(|| ApiError::not_found(format!("No such raster layer: {raster_id}")))?;
        Ok(match &p.raster_source {
            Some(RasterSource::Images { ids }) => {
                Drawn::Images(s.images.iter().filter(|i| ids.contains(&i.id)).cloned().collect())
            }
            Some(RasterSource::Scenes { ids }) => {
                Drawn::Scenes(ids.iter().filter_map(|id| catalog::find(id)).collect())
            }
            None => Drawn::Provider(p.imagery.clone()),
        })
    })?;
    let png = tokio::task::spawn_blocking(move || match source {
        Drawn::Images(images) => {
            imagery::encode_png(&rasters::render_tile(&shared.rasters, &images, z, x, y)).map(axum::body::Bytes::from)
        }
        Drawn::Scenes(scenes) => {
            imagery::encode_png(&catalog::render_scenes_xyz(&scenes, z, x, y)).map(axum::body::Bytes::from)
        }
        Drawn::Provider(provider) => shared.tiles.png(&provider, z, x, y),
    })
    .await
    .map_err(|e| ApiError::internal(format!("Tile rendering failed: {e}")))?
    .map_err(|e| ApiError::internal(format!("Tile encoding failed: {e}")))?;
    Ok(([(header::CONTENT_TYPE, "image/png"), (header::CACHE_CONTROL, "no-cache")], png).into_response())
}

/// What a processing's raster tile is drawn from.
enum Drawn {
    Images(Vec<ImageRecord>),
    Scenes(Vec<catalog::Scene>),
    Provider(String),
}

/// The TileJSON of a processing's raster layer: its tile template and the AOI's bounds.
async fn tile_json(State(shared): State<Arc<Shared>>, Path(file): Path<String>) -> ApiResult<Json<Value>> {
    let raster_id = file.strip_suffix(".json").unwrap_or(&file);
    shared.read(|s| {
        let p = s
            .processings
            .iter()
            .find(|p| p.raster_id == raster_id)
            .ok_or_else(|| ApiError::not_found(format!("No such raster layer: {raster_id}")))?;
        Ok(Json(processing::tile_json(&shared.base_url, p)))
    })
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
