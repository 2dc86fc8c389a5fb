//! The imagery catalog: `POST /catalog/meta`, and the preview origin (a second listener
//! without auth) that serves the found images' previews, `GET /preview/{id}.png` and the
//! tiles `GET /xyz/{id}/{z}/{x}/{y}.png` (and `/tms/…` with the rows flipped).
//!
//! The search itself, the images and their pictures are in [`crate::catalog`].

use std::future::Future;
use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde_json::Value;

use super::JsonBody;
use crate::catalog::{self, Filters, Previews};
use crate::error::{ApiError, ApiResult};
use crate::seed;
use crate::state::Shared;
use crate::tiles::parse_tile;
use mapflow_api::{CatalogPage, CatalogQuery, CatalogSortBy, SortOrder};
use mapflow_geo::Aoi;

/// The page size when the request names none.
const DEFAULT_LIMIT: i64 = 100;
/// The largest page; larger asks are cut to it.
const MAX_LIMIT: i64 = 500;

/// The catalog route; `previews` gives the preview URLs of the images.
pub(super) fn routes(previews: Arc<Previews>) -> Router<Arc<Shared>> {
    Router::new().route("/catalog/meta", post(meta)).layer(Extension(previews))
}

/// Searches the catalog: every filter of the request is applied here, and `total`
/// counts every match, not only this page. Without `sortBy` the newest come first; with
/// it, `sortOrder` defaults to `DESC`. An AOI over the account's `searchAreaLimit` is a
/// 400 `BAD_REQUEST` with the limit and the area (m²) as params, since the service has
/// no dedicated code for it.
async fn meta(Extension(previews): Extension<Arc<Previews>>, JsonBody(body): JsonBody<Value>) -> ApiResult<Response> {
    let query = parse_query(body)?;
    let geometry = query.aoi.clone();
    let aoi = super::blocking(move || parse_aoi(&geometry)).await?;
    let area = aoi.total_area_m2();
    let limit = seed::SEARCH_AREA_LIMIT;
    if area > limit as f64 {
        return Err(ApiError::bad_request(format!(
            "The search area is {:.1} km², more than the account's search area limit of {:.1} km²",
            area / 1e6,
            limit as f64 / 1e6
        ))
        .param("searchAreaLimit", limit)
        .param("area", area.round() as i64));
    }
    let filters = filters(&query)?;
    let (by, order) = match query.sort_by {
        Some(by) => (by, query.sort_order.unwrap_or_default()),
        None => (CatalogSortBy::AcquisitionDate, query.sort_order.unwrap_or(SortOrder::Desc)),
    };
    let found = tokio::task::spawn_blocking(move || {
        catalog::search(&aoi, &filters).map(|mut found| {
            catalog::sort(&mut found, by, order);
            found
        })
    })
    .await
    .map_err(|e| ApiError::internal(format!("The catalog search failed: {e}")))?
    .map_err(ApiError::bad_request)?;

    let page_limit = query.limit.min(MAX_LIMIT);
    let images = found
        .iter()
        .skip(usize::try_from(query.offset).unwrap_or(usize::MAX))
        .take(usize::try_from(page_limit).unwrap_or(0))
        .map(|f| f.scene.to_image(&previews, f.intersection_percent))
        .collect();
    let page = CatalogPage { images, total: found.len() as i64, limit: page_limit, offset: query.offset };
    Ok(Json(page).into_response())
}

/// Reads the body as the client's [`CatalogQuery`], `limit` and `offset` defaulting to
/// 100 and 0; a page that cannot be is a 400.
fn parse_query(body: Value) -> ApiResult<CatalogQuery> {
    let Value::Object(mut map) = body else {
        return Err(ApiError::bad_request("The request body must be a JSON object"));
    };
    for (key, default) in [("limit", DEFAULT_LIMIT), ("offset", 0)] {
        if map.get(key).is_none_or(Value::is_null) {
            map.insert(key.to_owned(), Value::from(default));
        }
    }
    if map.get("aoi").is_none_or(Value::is_null) {
        return Err(ApiError::bad_request("aoi is required: a GeoJSON Polygon or MultiPolygon"));
    }
    let query: CatalogQuery = serde_json::from_value(Value::Object(map))
        .map_err(|e| ApiError::bad_request(format!("Malformed request body: {e}")))?;
    if query.limit < 1 {
        return Err(
            ApiError::bad_request(format!("limit must be at least 1, not {}", query.limit)).param("limit", query.limit)
        );
    }
    if query.offset < 0 {
        return Err(ApiError::bad_request(format!("offset must not be negative, not {}", query.offset))
            .param("offset", query.offset));
    }
    Ok(query)
}

/// Reads the search area: a Polygon or MultiPolygon in lon/lat, each polygon valid and
/// with an area; anything else is `geometry.Invalid` ([`processing::parse_aoi`]).
fn parse_aoi(geometry: &Value) -> ApiResult<Aoi> {
    crate::processing::parse_aoi(geometry, "search area")
}

/// The request's filters, checked: dates must parse, product types be known.
pub(crate) fn filters(q: &CatalogQuery) -> ApiResult<Filters> {
    let date = |name: &str, value: &Option<String>, end: bool| -> ApiResult<Option<DateTime<Utc>>> {
        value
            .as_deref()
            .map(|v| {
                instant(v, end).ok_or_else(|| {
                    ApiError::bad_request(format!("{name} must be an ISO 8601 date or datetime, not `{v}`"))
                        .param(name, v)
                })
            })
            .transpose()
    };
    let (mut images, mut mosaics) = (q.product_types.is_none(), q.product_types.is_none());
    for t in q.product_types.iter().flatten() {
        match t.trim().to_ascii_uppercase().as_str() {
            "IMAGE" | "SCENE" => images = true,
            "MOSAIC" => mosaics = true,
            _ => {
                return Err(ApiError::bad_request(format!("Unknown product type `{t}`: use MOSAIC or IMAGE"))
                    .param("productType", t));
            }
        }
    }
    Ok(Filters {
        date_from: date("acquisitionDateFrom", &q.acquisition_date_from, false)?,
        date_to: date("acquisitionDateTo", &q.acquisition_date_to, true)?,
        min_resolution: q.min_resolution,
        max_resolution: q.max_resolution,
        max_cloud_cover: q.max_cloud_cover,
        min_off_nadir: q.min_off_nadir_angle,
        max_off_nadir: q.max_off_nadir_angle,
        min_intersection_percent: q.min_aoi_intersection_percent,
        images,
        mosaics,
        providers: q.data_providers.clone(),
        hide_unavailable: q.hide_unavailable.unwrap_or(false),
    })
}

/// An ISO 8601 datetime (with an offset, or taken as UTC without one) or a date; a date
/// bound means the day's start, or with `end_of_day` its last microsecond (so a "to"
/// date includes that day).
pub(crate) fn instant(text: &str, end_of_day: bool) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text, format) {
            return Some(t.and_utc());
        }
    }
    let day = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    let t = if end_of_day { day.and_hms_micro_opt(23, 59, 59, 999_999)? } else { day.and_hms_opt(0, 0, 0)? };
    Some(t.and_utc())
}

/// The preview origin's app: the pictures and tiles of catalog images, no auth, every
/// request recorded with whether it carried an `Authorization` header.
fn preview_router(previews: Arc<Previews>) -> Router {
    Router::new()
        .route("/preview/{file}", get(preview))
        .route("/xyz/{id}/{z}/{x}/{y}", get(xyz))
        .route("/tms/{id}/{z}/{x}/{y}", get(tms))
        .fallback(|| async { (StatusCode::NOT_FOUND, "Not found") })
        .layer(middleware::from_fn_with_state(previews, record))
}

/// Serves the preview origin on `listener` until `stop` turns true (or its sender is gone).
pub(crate) async fn serve_previews(
    listener: tokio::net::TcpListener,
    previews: Arc<Previews>,
    stop: impl Future<Output = ()> + Send + 'static,
) {
    if let Err(e) = axum::serve(listener, preview_router(previews)).with_graceful_shutdown(stop).await {
        tracing::error!("sandbox: preview server error: {e}");
    }
}

/// Records the request's path and whether it carried credentials.
async fn record(State(previews): State<Arc<Previews>>, request: Request, next: Next) -> Response {
    let had_auth = request.headers().contains_key(header::AUTHORIZATION);
    previews.record(request.uri().path().to_owned(), had_auth);
    next.run(request).await
}

fn not_found(what: &str) -> Response {
    (StatusCode::NOT_FOUND, format!("No such {what}")).into_response()
}

fn png(bytes: Vec<u8>) -> Response {
    ([(header::CONTENT_TYPE, "image/png"), (header::CACHE_CONTROL, "public, max-age=86400")], bytes).into_response()
}

/// Renders off the async workers, then encodes; a failure is a 500.
async fn render(job: impl FnOnce() -> Result<Vec<u8>, image::ImageError> + Send + 'static) -> Response {
    match tokio::task::spawn_blocking(job).await {
        Ok(Ok(bytes)) => png(bytes),
        Ok(Err(e)) => (StatusCode::INTERNAL_SERVER_ERROR, format!("Encoding failed: {e}")).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("Rendering failed: {e}")).into_response(),
    }
}

/// `GET /preview/{id}.png`: the picture of an image, to lay over its footprint.
async fn preview(Path(file): Path<String>) -> Response {
    let Some(scene) = file.strip_suffix(".png").and_then(catalog::find) else { return not_found("preview") };
    render(move || {
        let img = catalog::render_preview(&scene);
        crate::imagery::encode_png(&img)
    })
    .await
}

/// `GET /xyz/{id}/{z}/{x}/{y}.png`: a tile of an image, rows counted from the north.
async fn xyz(Path((id, z, x, y)): Path<(String, String, String, String)>) -> Response {
    tile(&id, &z, &x, &y, false).await
}

/// `GET /tms/{id}/{z}/{x}/{y}.png`: the same tiles with rows counted from the south
/// (what a `{-y}` template asks for).
async fn tms(Path((id, z, x, y)): Path<(String, String, String, String)>) -> Response {
    tile(&id, &z, &x, &y, true).await
}

async fn tile(id: &str, z: &str, x: &str, y: &str, flip: bool) -> Response {
    let (Some(scene), Some((z, x, y))) = (catalog::find(id), parse_tile(z, x, y)) else {
        return not_found("tile");
    };
    let y = if flip { (1u32 << z) - 1 - y } else { y };
    render(move || crate::imagery::encode_png(&catalog::render_xyz(&scene, z, x, y))).await
}
