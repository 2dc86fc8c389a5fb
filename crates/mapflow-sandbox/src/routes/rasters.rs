//! The Data API, `/rasters`: mosaics, uploads, images, previews, download links and the
//! storage accounting; plus the public (unauthenticated) routes its URLs point at: the
//! image files behind download links and the mosaics' XYZ tiles and TileJSON.
//!
//! Errors are in the Data-API shape, `{"detail": {"code", "message", "parameters"}}` (or
//! `{"detail": "text"}` for a malformed request); the rules live in
//! [`crate::rasters`].

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult};
use crate::rasters::{
    self, DOWNLOAD_TTL, ImageJson, ImageRecord, MosaicRecord, PREVIEW_LARGE, PREVIEW_SMALL, detail, not_found,
};
use crate::state::Shared;
use crate::tiles::parse_tile;
use mapflow_api::{Memory, Mosaic};

/// Longest mosaic name accepted.
const MAX_NAME_CHARS: usize = 255;

/// The routes that need the token.
pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/rasters/memory", get(memory))
        .route("/rasters/mosaic", get(list_mosaics).post(create_mosaic))
        .route("/rasters/mosaic/image", post(create_and_upload))
        .route("/rasters/mosaic/{id}", get(one_mosaic).put(update_mosaic).delete(delete_mosaic))
        .route("/rasters/mosaic/{id}/image", get(mosaic_images).post(upload))
        .route("/rasters/image/{id}", get(one_image).put(rename_image).delete(delete_image))
        .route("/rasters/image/{id}/preview/{size}", get(preview))
        .route("/rasters/image/{id}/download", get(download))
}

/// The routes fetched without headers: download links and map tiles.
pub(super) fn public_routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/sandbox/files/{token}", get(file))
        .route("/sandbox/mosaic-tiles/{id}/{z}/{x}/{y}", get(tile))
        .route("/sandbox/mosaic-tilejson/{file}", get(tile_json))
}

// ---- Storage ----

/// `GET /rasters/memory`.
async fn memory(State(shared): State<Arc<Shared>>) -> Json<Memory> {
    let limits = shared.rasters.limits();
    Json(shared.read(|s| rasters::memory(limits, s)))
}

// ---- Mosaics ----

/// The body of `POST /rasters/mosaic` and `PUT /rasters/mosaic/{id}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct MosaicBody {
    name: Option<String>,
    tags: Option<Vec<String>>,
}

/// Parses a mosaic body; a malformed one is a 422 `{"detail": "…"}`, as FastAPI answers.
fn mosaic_body(bytes: &[u8]) -> ApiResult<MosaicBody> {
    let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) { b"{}" } else { bytes };
    serde_json::from_slice(bytes)
        .map_err(|e| detail(StatusCode::UNPROCESSABLE_ENTITY, &format!("Malformed request body: {e}")))
}

/// A trimmed, non-empty mosaic name of at most [`MAX_NAME_CHARS`].
fn valid_name(name: Option<&str>) -> ApiResult<String> {
    let name = name.map(str::trim).unwrap_or_default();
    if name.is_empty() {
        return Err(detail(StatusCode::UNPROCESSABLE_ENTITY, "Field required: name"));
    }
    if let Some(why) = crate::text::refusal(name, false, MAX_NAME_CHARS) {
        return Err(detail(StatusCode::UNPROCESSABLE_ENTITY, &format!("The name {why}")));
    }
    Ok(name.to_owned())
}

/// Tags trimmed, without empties and duplicates, in their order.
fn clean_tags(tags: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for tag in tags {
        let tag = tag.trim().to_owned();
        if !tag.is_empty() && !out.contains(&tag) {
            out.push(tag);
        }
    }
    out
}

/// The values of `key` in a query: repeated keys and comma-separated lists both count.
fn query_list(pairs: &[(String, String)], key: &str) -> Vec<String> {
    clean_tags(pairs.iter().filter(|(k, _)| k == key).flat_map(|(_, v)| v.split(',').map(str::to_owned)))
}

/// `GET /rasters/mosaic[?tags=a,b]`: every mosaic, oldest first; with tags, those having
/// any of them.
async fn list_mosaics(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<Vec<(String, String)>>,
) -> Json<Vec<Mosaic>> {
    let wanted = query_list(&query, "tags");
    Json(shared.read(|s| {
        s.mosaics
            .iter()
            .filter(|m| wanted.is_empty() || m.tags.iter().any(|t| wanted.contains(t)))
            .map(|m| rasters::mosaic_json(&shared.base_url, s, m))
            .collect()
    }))
}

/// `POST /rasters/mosaic {name, tags}`: an empty mosaic.
async fn create_mosaic(State(shared): State<Arc<Shared>>, body: axum::body::Bytes) -> ApiResult<Json<Mosaic>> {
    let body = mosaic_body(&body)?;
    let record = MosaicRecord {
        id: uuid::Uuid::new_v4().to_string(),
        name: valid_name(body.name.as_deref())?,
        tags: clean_tags(body.tags.unwrap_or_default()),
        created_at: Utc::now(),
    };
    shared.write(|s| {
        s.mosaics.push(record.clone());
        Ok(Json(rasters::mosaic_json(&shared.base_url, s, &record)))
    })
}

/// `GET /rasters/mosaic/{id}`.
async fn one_mosaic(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> ApiResult<Json<Mosaic>> {
    shared.read(|s| {
        let m = s.mosaics.iter().find(|m| m.id == id).ok_or_else(|| not_found("mosaic", &id))?;
        Ok(Json(rasters::mosaic_json(&shared.base_url, s, m)))
    })
}

/// `PUT /rasters/mosaic/{id} {name?, tags?}`: what is given replaces what was.
async fn update_mosaic(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Json<Mosaic>> {
    let body = mosaic_body(&body)?;
    let name = body.name.as_deref().map(|n| valid_name(Some(n))).transpose()?;
    let tags = body.tags.map(clean_tags);
    shared.write(|s| {
        let m = s.mosaics.get_mut(&id).ok_or_else(|| not_found("mosaic", &id))?;
        if let Some(name) = name {
            m.name = name;
        }
        if let Some(tags) = tags {
            m.tags = tags;
        }
        let m = m.clone();
        Ok(Json(rasters::mosaic_json(&shared.base_url, s, &m)))
    })
}

/// `DELETE /rasters/mosaic/{id}`: the mosaic, its images and their files.
async fn delete_mosaic(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> ApiResult<()> {
    let removed: Vec<String> = shared.write(|s| {
        s.mosaics.remove(&id).ok_or_else(|| not_found("mosaic", &id))?;
        let images = rasters::images_of(s, &id).map(|i| i.id.clone()).collect();
        s.images.retain(|i| i.mosaic_id != id);
        Ok(images)
    })?;
    for image in removed {
        shared.rasters.remove_file(&image);
    }
    Ok(())
}

// ---- Uploads ----

/// Checks an upload's file on its own (off the async workers: it reads the file's tags).
async fn check(shared: &Arc<Shared>, received: rasters::Received) -> ApiResult<rasters::Accepted> {
    let limits = shared.rasters.limits();
    let used = shared.read(rasters::memory_used);
    tokio::task::spawn_blocking(move || rasters::check_file(limits, used, received))
        .await
        .map_err(|e| ApiError::internal(format!("The upload check failed: {e}")))?
}

/// The answer to an upload: a message and the mosaic (not the image).
fn uploaded(filename: &str, mosaic_id: &str) -> Json<Value> {
    Json(json!({"message": format!("The image {filename} was uploaded"), "mosaic_id": mosaic_id}))
}

/// `POST /rasters/mosaic/{id}/image`, multipart field `file`: streams the file to disk,
/// checks it (see [`rasters::check_file`] and [`rasters::commit`]) and adds it.
async fn upload(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<Value>> {
    if !shared.read(|s| s.mosaics.iter().any(|m| m.id == id)) {
        rasters::drain(body.into_data_stream()).await;
        return Err(not_found("mosaic", &id));
    }
    let received = rasters::receive(&shared.rasters, &headers, body).await?;
    let accepted = check(&shared, received).await?;
    let filename = accepted.received.filename.clone();
    shared.write(|s| rasters::commit(&shared.rasters, s, &id, None, accepted))?;
    Ok(uploaded(&filename, &id))
}

/// `POST /rasters/mosaic/image?name=&tags=`: creates a mosaic and uploads into it in one
/// call; a refused file creates no mosaic. Without a name, the file's name is used.
async fn create_and_upload(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<Value>> {
    let name = query.iter().find(|(k, _)| k == "name").map(|(_, v)| v.trim()).filter(|v| !v.is_empty());
    if let Some(Err(e)) = name.map(|n| valid_name(Some(n))) {
        rasters::drain(body.into_data_stream()).await;
        return Err(e);
    }
    let tags = query_list(&query, "tags");
    let name = name.map(str::to_owned);
    let received = rasters::receive(&shared.rasters, &headers, body).await?;
    let accepted = check(&shared, received).await?;
    let filename = accepted.received.filename.clone();
    let record = MosaicRecord {
        id: uuid::Uuid::new_v4().to_string(),
        name: name.unwrap_or_else(|| {
            let stem = filename.rsplit_once('.').map_or(filename.as_str(), |(stem, _)| stem);
            if stem.trim().is_empty() { filename.clone() } else { stem.to_owned() }
        }),
        tags,
        created_at: Utc::now(),
    };
    let id = record.id.clone();
    shared.write(|s| rasters::commit(&shared.rasters, s, &id, Some(record), accepted))?;
    Ok(uploaded(&filename, &id))
}

// ---- Images ----

/// `GET /rasters/mosaic/{id}/image`: the mosaic's images, in upload order.
async fn mosaic_images(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> ApiResult<Json<Vec<ImageJson>>> {
    shared.read(|s| {
        if !s.mosaics.iter().any(|m| m.id == id) {
            return Err(not_found("mosaic", &id));
        }
        Ok(Json(rasters::images_of(s, &id).map(|i| rasters::image_json(&shared.base_url, i)).collect()))
    })
}

/// The stored image `id`.
fn image(shared: &Shared, id: &str) -> ApiResult<ImageRecord> {
    shared.read(|s| s.images.iter().find(|i| i.id == id).cloned().ok_or_else(|| not_found("image", id)))
}

/// `GET /rasters/image/{id}`.
async fn one_image(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> ApiResult<Json<ImageJson>> {
    let record = image(&shared, &id)?;
    Ok(Json(rasters::image_json(&shared.base_url, &record)))
}

/// `PUT /rasters/image/{id}?name=`: renames the image (its `filename`); returns it.
async fn rename_image(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
) -> ApiResult<Json<ImageJson>> {
    let name = valid_name(query.iter().find(|(k, _)| k == "name").map(|(_, v)| v.as_str()))?;
    shared.write(|s| {
        let i = s.images.get_mut(&id).ok_or_else(|| not_found("image", &id))?;
        i.filename = name;
        Ok(Json(rasters::image_json(&shared.base_url, i)))
    })
}

/// `DELETE /rasters/image/{id}`: the image and its file.
async fn delete_image(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> ApiResult<()> {
    shared.write(|s| {
        s.images.remove(&id).ok_or_else(|| not_found("image", &id))?;
        Ok(())
    })?;
    shared.rasters.remove_file(&id);
    Ok(())
}

/// `GET /rasters/image/{id}/preview/{s|l}`: a PNG of at most 256 or 1024 px drawn from
/// the image's own pixels.
async fn preview(State(shared): State<Arc<Shared>>, Path((id, size)): Path<(String, String)>) -> ApiResult<Response> {
    let side = match size.as_str() {
        "s" => PREVIEW_SMALL,
        "l" => PREVIEW_LARGE,
        other => {
            return Err(detail(
                StatusCode::UNPROCESSABLE_ENTITY,
                &format!("The preview size must be s or l, not {other}"),
            ));
        }
    };
    image(&shared, &id)?;
    let png = tokio::task::spawn_blocking(move || shared.rasters.preview_png(&id, side))
        .await
        .map_err(|e| ApiError::internal(format!("Preview rendering failed: {e}")))?
        .map_err(|e| ApiError::internal(format!("Cannot make the preview: {e}")).data_api())?;
    Ok(([(header::CONTENT_TYPE, "image/png"), (header::CACHE_CONTROL, "private, max-age=3600")], png).into_response())
}

/// `GET /rasters/image/{id}/download`: a link to the original file that works without the
/// credentials for an hour, like the real service's presigned links.
async fn download(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let record = image(&shared, &id)?;
    let token = shared.rasters.new_download(&record.id);
    Ok(Json(json!({
        "download_url": format!("{}/sandbox/files/{token}", shared.base_url),
        "filename": record.filename,
        "expires_in": DOWNLOAD_TTL.as_secs(),
    })))
}

// ---- Public routes ----

/// `GET /sandbox/files/{token}`: the file behind a download link, streamed.
async fn file(State(shared): State<Arc<Shared>>, Path(token): Path<String>) -> ApiResult<Response> {
    let gone = || detail(StatusCode::NOT_FOUND, "The link has expired or never existed");
    let id = shared.rasters.download(&token).ok_or_else(gone)?;
    let record = image(&shared, &id).map_err(|_| gone())?;
    let file = tokio::fs::File::open(shared.rasters.file_path(&id)).await.map_err(|_| gone())?;
    let length = file.metadata().await.map(|m| m.len()).unwrap_or(record.file_size);
    let body = Body::from_stream(tokio_util::io::ReaderStream::with_capacity(file, 256 * 1024));
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/tiff"));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    let ascii: String = record
        .filename
        .chars()
        .map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' })
        .collect();
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{ascii}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

/// `GET /sandbox/mosaic-tiles/{id}/{z}/{x}/{y}.png`: a 256 px PNG drawn from the mosaic's
/// uploaded imagery, transparent where it has none.
async fn tile(
    State(shared): State<Arc<Shared>>,
    Path((id, z, x, y)): Path<(String, String, String, String)>,
) -> ApiResult<Response> {
    let (z, x, y) = parse_tile(&z, &x, &y).ok_or_else(|| ApiError::not_found(format!("No such tile: {z}/{x}/{y}")))?;
    let images: Vec<ImageRecord> = shared.read(|s| {
        if !s.mosaics.iter().any(|m| m.id == id) {
            return Err(not_found("mosaic", &id));
        }
        Ok(rasters::images_of(s, &id).cloned().collect())
    })?;
    let png = tokio::task::spawn_blocking(move || {
        crate::imagery::encode_png(&rasters::render_tile(&shared.rasters, &images, z, x, y))
    })
    .await
    .map_err(|e| ApiError::internal(format!("Tile rendering failed: {e}")))?
    .map_err(|e| ApiError::internal(format!("Tile encoding failed: {e}")))?;
    Ok(([(header::CONTENT_TYPE, "image/png"), (header::CACHE_CONTROL, "no-cache")], png).into_response())
}

/// `GET /sandbox/mosaic-tilejson/{id}.json`: the mosaic's tiles and bounds.
async fn tile_json(State(shared): State<Arc<Shared>>, Path(file): Path<String>) -> ApiResult<Json<Value>> {
    let id = file.strip_suffix(".json").unwrap_or(&file);
    shared.read(|s| {
        let m = s.mosaics.iter().find(|m| m.id == id).ok_or_else(|| not_found("mosaic", id))?;
        Ok(Json(rasters::tile_json(&shared.base_url, s, m)))
    })
}
