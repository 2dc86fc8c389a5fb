//! The rules of the Data API (`/rasters`): mosaics and the images uploaded into them, the
//! checks an upload passes, storage accounting, the files on disk, and the pictures made
//! from them (previews and the mosaics' map tiles).
//!
//! Uploads are streamed: the multipart body is parsed as it arrives and the `file` field
//! goes straight to a temporary file next to its final place, hashed on the way, so a
//! 1 GiB upload costs a few buffers of memory. The file is then judged from its tags only
//! ([`geotiff::read_info_path`]) and, once accepted, renamed into `<dir>/<image id>.tif`.
//! Metadata lives in the persisted state; files in `<data_dir>/rasters/` (a temporary
//! directory, removed with the sandbox, when the state is in memory).

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, StatusCode, header};
use chrono::{DateTime, Utc};
use futures_util::StreamExt as _;
use geo::BoundingRect as _;
use geo_types::{MultiPolygon, Polygon};
use lru::LruCache;
use md5::{Digest as _, Md5};
use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt as _;

use super::error::{ApiError, ApiResult};
use super::state::PersistedState;
use mapflow_api::{Memory, Mosaic, MosaicId, TileLayer};
use mapflow_geo::imagery::geotiff::{self, CrsTransform, GeoTiffError, GeoTiffInfo};
use mapflow_geo::mercator;

/// Side of the small preview, `GET /rasters/image/{id}/preview/s`.
pub(crate) const PREVIEW_SMALL: u32 = 256;
/// Side of the large preview, `…/preview/l`.
pub(crate) const PREVIEW_LARGE: u32 = 1024;
/// Side of the decimated copy of an image that its mosaic's map tiles are drawn from.
const TILE_SOURCE_SIDE: u32 = 2048;
/// How many decimated copies are kept for tiles (up to 16 MiB each).
const TILE_SOURCES_KEPT: NonZeroUsize = NonZeroUsize::new(6).expect("not zero");
/// How many encoded previews are kept.
const PREVIEWS_KEPT: NonZeroUsize = NonZeroUsize::new(32).expect("not zero");
/// How long a download link stays valid.
pub(crate) const DOWNLOAD_TTL: Duration = Duration::from_secs(3600);
/// Longest accepted multipart part header block.
const MAX_PART_HEADERS: usize = 16 * 1024;

/// The account's storage and upload limits. `None` is unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RasterLimits {
    /// Total bytes of imagery the account may store (`memoryLimit`).
    pub memory_limit: Option<u64>,
    /// Largest file accepted by an upload (`maxUploadFileSize`).
    pub max_upload_file_size: Option<u64>,
    /// Largest width and height, in pixels (`maxPixelCount`).
    pub max_pixel_count: Option<u32>,
}

impl Default for RasterLimits {
    /// 10 GiB of storage, 2 GiB per file, 30000 px per side, as the plugin assumes.
    fn default() -> Self {
        Self {
            memory_limit: u64::try_from(super::seed::MEMORY_LIMIT).ok(),
            max_upload_file_size: Some(2 * 1024 * 1024 * 1024),
            max_pixel_count: Some(30_000),
        }
    }
}

/// A mosaic as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct MosaicRecord {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub tags: Vec<String>,
    pub created_at: DateTime<Utc>,
}

/// An uploaded image as stored; its file is `<rasters dir>/<id>.tif`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ImageRecord {
    pub id: String,
    pub mosaic_id: String,
    /// The uploaded file's name (renamable).
    pub filename: String,
    pub file_size: u64,
    pub uploaded_at: DateTime<Utc>,
    /// MD5 of the file, hex.
    pub checksum: String,
    /// What the file's tags say.
    pub info: GeoTiffInfo,
}

/// The Image object of the Data API, every documented key present.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ImageJson {
    pub id: String,
    pub mosaic_id: String,
    pub filename: String,
    pub file_size: u64,
    pub uploaded_at: String,
    pub footprint: Option<String>,
    pub checksum: String,
    pub image_url: String,
    pub cog_link: String,
    pub preview_url_s: String,
    pub preview_url_l: String,
    pub available_for_download: bool,
    pub meta_data: ImageMetaJson,
}

/// `meta_data` of an Image.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ImageMetaJson {
    pub crs: Option<String>,
    pub count: u16,
    pub width: u32,
    pub height: u32,
    pub dtypes: Vec<String>,
    pub nodata: Option<f64>,
    pub pixel_size: [f64; 2],
}

/// A Data-API time: UTC with microseconds and no time zone, as the real service writes it.
pub(crate) fn data_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
}

// ---- Errors ----

/// A Data-API error `{"detail": {"code", "message", "parameters"}}`.
pub(crate) fn data_error(status: StatusCode, code: &str, message: &str) -> ApiError {
    ApiError::new(status, code, message).data_api()
}

/// A Data-API error `{"detail": "text"}`, for malformed requests.
pub(crate) fn detail(status: StatusCode, message: &str) -> ApiError {
    ApiError::new(status, "", message).data_api()
}

/// 404 `ItemNotFound` of a `"mosaic"` or an `"image"`.
pub(crate) fn not_found(instance_type: &str, uid: &str) -> ApiError {
    data_error(StatusCode::NOT_FOUND, "ItemNotFound", &format!("The {instance_type} {uid} was not found"))
        .param("instance_type", instance_type)
        .param("uid", uid)
}

/// 400 `FileOpenError`: the file is not a readable TIFF.
fn file_open_error(filename: &str, why: &GeoTiffError) -> ApiError {
    data_error(StatusCode::BAD_REQUEST, "FileOpenError", &format!("Cannot open {filename} as a GeoTIFF: {why}"))
}

/// 400 `FileCheckFailed` naming the bad properties.
fn file_check_failed(filename: &str, bad: &[&str]) -> ApiError {
    let bad = bad.join(", ");
    data_error(StatusCode::BAD_REQUEST, "FileCheckFailed", &format!("The file {filename} has bad parameters: {bad}"))
        .param("bad_parameters", bad)
        .param("filename", filename)
}

// ---- Storage ----

/// The image files, the download links and the pictures made from the files.
pub(crate) struct RasterStore {
    dir: PathBuf,
    /// Owns the directory when the state is in memory; removed with the sandbox.
    _temp: Option<tempfile::TempDir>,
    limits: Mutex<RasterLimits>,
    /// Download token → (image id, expiry).
    downloads: Mutex<HashMap<String, (String, Instant)>>,
    previews: Mutex<Bounded<Bytes>>,
    tile_sources: Mutex<Bounded<Arc<TileSource>>>,
}

/// The decimated copy of an image for its mosaic's tiles, made once on first use; `None`
/// when the file could not be read.
type TileSource = OnceLock<Option<Arc<image::RgbaImage>>>;

/// A small map that forgets its oldest entries first (reading one does not renew it).
struct Bounded<V>(LruCache<String, V>);

impl<V: Clone> Bounded<V> {
    fn new(capacity: NonZeroUsize) -> Self {
        Self(LruCache::new(capacity))
    }

    fn get_or_insert_with(&mut self, key: &str, make: impl FnOnce() -> V) -> V {
        if let Some(v) = self.0.peek(key) {
            return v.clone();
        }
        let v = make();
        self.insert(key, v.clone());
        v
    }

    fn get(&self, key: &str) -> Option<V> {
        self.0.peek(key).cloned()
    }

    fn insert(&mut self, key: &str, v: V) {
        match self.0.peek_mut(key) {
            Some(old) => *old = v,
            None => {
                self.0.put(key.to_owned(), v);
            }
        }
    }

    /// Forgets every entry whose key starts with `prefix`.
    fn remove_prefix(&mut self, prefix: &str) {
        let keys: Vec<String> = self.0.iter().map(|(k, _)| k).filter(|k| k.starts_with(prefix)).cloned().collect();
        for key in keys {
            self.0.pop(&key);
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl RasterStore {
    /// The store under `<data_dir>/rasters` (made on the first upload), or in a fresh
    /// temporary directory. Leftovers of interrupted uploads are removed.
    pub fn new(data_dir: Option<&Path>) -> std::io::Result<Self> {
        let (dir, temp) = match data_dir {
            Some(d) => (d.join("rasters"), None),
            None => {
                let temp = tempfile::Builder::new().prefix("mapflow-sandbox-rasters-").tempdir()?;
                (temp.path().to_owned(), Some(temp))
            }
        };
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            if entry.file_name().to_string_lossy().starts_with(".upload-") {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        Ok(Self {
            dir,
            _temp: temp,
            limits: Mutex::new(RasterLimits::default()),
            downloads: Mutex::new(HashMap::new()),
            previews: Mutex::new(Bounded::new(PREVIEWS_KEPT)),
            tile_sources: Mutex::new(Bounded::new(TILE_SOURCES_KEPT)),
        })
    }

    pub fn limits(&self) -> RasterLimits {
        *lock(&self.limits)
    }

    pub fn set_limits(&self, limits: RasterLimits) {
        *lock(&self.limits) = limits;
    }

    /// Where the file of image `id` lives.
    /// Removes the image files no image of `state` owns (left by a crash between writing the
    /// file and the state), so that the storage counted is what is on disk; returns how many.
    pub(crate) fn remove_orphans(&self, state: &PersistedState) -> usize {
        let owned: std::collections::HashSet<String> = state.images.iter().map(|i| format!("{}.tif", i.id)).collect();
        let mut removed = 0;
        for entry in std::fs::read_dir(&self.dir).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".tif") && !name.starts_with('.') && !owned.contains(&name) {
                match std::fs::remove_file(entry.path()) {
                    Ok(()) => {
                        removed += 1;
                        tracing::info!("sandbox: removed {name}, an image file no image owns");
                    }
                    Err(e) => tracing::warn!("sandbox: could not remove the orphan image file {name}: {e}"),
                }
            }
        }
        removed
    }

    pub fn file_path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.tif"))
    }

    /// Deletes the file of image `id` and forgets what was made from it.
    pub fn remove_file(&self, id: &str) {
        let path = self.file_path(id);
        if let Err(e) = std::fs::remove_file(&path)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!("sandbox: could not delete {}: {e}", path.display());
        }
        lock(&self.previews).remove_prefix(&format!("{id}/"));
        lock(&self.tile_sources).remove_prefix(id);
        lock(&self.downloads).retain(|_, (image, _)| image != id);
    }

    /// A new download token for image `id`, valid for [`DOWNLOAD_TTL`].
    pub fn new_download(&self, id: &str) -> String {
        let token = uuid::Uuid::new_v4().simple().to_string();
        let now = Instant::now();
        let mut downloads = lock(&self.downloads);
        downloads.retain(|_, (_, expiry)| *expiry > now);
        downloads.insert(token.clone(), (id.to_owned(), now + DOWNLOAD_TTL));
        token
    }

    /// The image a download token names, while it is valid.
    pub fn download(&self, token: &str) -> Option<String> {
        lock(&self.downloads).get(token).filter(|(_, expiry)| *expiry > Instant::now()).map(|(id, _)| id.clone())
    }

    /// The PNG preview of image `id` at most `side` px, cached. Blocking.
    pub fn preview_png(&self, id: &str, side: u32) -> Result<Bytes, String> {
        let key = format!("{id}/{side}");
        if let Some(png) = lock(&self.previews).get(&key) {
            return Ok(png);
        }
        let img = geotiff::read_preview(&self.file_path(id), side).map_err(|e| e.to_string())?;
        let png = Bytes::from(super::imagery::encode_png(&img).map_err(|e| e.to_string())?);
        lock(&self.previews).insert(&key, png.clone());
        Ok(png)
    }

    /// The decimated copy of image `id` its mosaic's tiles are drawn from; made once (other
    /// callers wait for it), `None` when the file cannot be read. Blocking.
    fn tile_source(&self, id: &str) -> Option<Arc<image::RgbaImage>> {
        let cell = lock(&self.tile_sources).get_or_insert_with(id, || Arc::new(OnceLock::new()));
        cell.get_or_init(|| match geotiff::read_preview(&self.file_path(id), TILE_SOURCE_SIDE) {
            Ok(img) => Some(Arc::new(img)),
            Err(e) => {
                tracing::warn!("sandbox: cannot read image {id} for tiles: {e}");
                None
            }
        })
        .clone()
    }
}

// ---- Accounting and the API shapes ----

/// Bytes stored by the account.
pub(crate) fn memory_used(state: &PersistedState) -> u64 {
    state.images.iter().map(|i| i.file_size).sum()
}

/// `GET /rasters/memory`.
pub(crate) fn memory(limits: RasterLimits, state: &PersistedState) -> Memory {
    let used = memory_used(state);
    let int = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    Memory {
        memory_limit: limits.memory_limit.map(int),
        memory_used: int(used),
        memory_free: limits.memory_limit.map(|l| int(l.saturating_sub(used))),
        max_upload_file_size: limits.max_upload_file_size.map(int),
        max_pixel_count: limits.max_pixel_count.map(i64::from),
    }
}

/// The tile URL template of a mosaic (public: map tile loaders send no headers).
pub(crate) fn tile_url(base_url: &str, mosaic_id: &str) -> String {
    format!("{base_url}/sandbox/mosaic-tiles/{mosaic_id}/{{z}}/{{x}}/{{y}}.png")
}

/// The TileJSON URL of a mosaic.
pub(crate) fn tile_json_url(base_url: &str, mosaic_id: &str) -> String {
    format!("{base_url}/sandbox/mosaic-tilejson/{mosaic_id}.json")
}

/// The images of a mosaic, in upload order.
pub(crate) fn images_of<'a>(state: &'a PersistedState, mosaic_id: &'a str) -> impl Iterator<Item = &'a ImageRecord> {
    state.images.iter().filter(move |i| i.mosaic_id == mosaic_id)
}

/// The union of the footprints of a mosaic's images; `None` without images.
fn mosaic_footprint(state: &PersistedState, mosaic_id: &str) -> Option<MultiPolygon<f64>> {
    let polygons: Vec<Polygon<f64>> =
        images_of(state, mosaic_id).filter_map(|i| geotiff::footprint_lonlat(&i.info).ok()).collect();
    if polygons.is_empty() {
        return None;
    }
    let union = geo::unary_union(&polygons);
    Some(if union.0.is_empty() { MultiPolygon::new(polygons) } else { union })
}

/// The Mosaic object of the Data API.
pub(crate) fn mosaic_json(base_url: &str, state: &PersistedState, m: &MosaicRecord) -> Mosaic {
    let size: u64 = images_of(state, &m.id).map(|i| i.file_size).sum();
    Mosaic {
        id: MosaicId(m.id.clone()),
        name: m.name.clone(),
        tags: m.tags.clone(),
        created_at: Some(data_time(m.created_at)),
        footprint: mosaic_footprint(state, &m.id).map(|mp| geotiff::multipolygon_wkt(&mp)),
        size_in_bytes: i64::try_from(size).unwrap_or(i64::MAX),
        raster_layer: Some(TileLayer {
            id: Some(m.id.clone()),
            name: Some(m.name.clone()),
            tile_url: tile_url(base_url, &m.id),
            tile_json_url: Some(tile_json_url(base_url, &m.id)),
        }),
    }
}

/// The Image object of the Data API.
pub(crate) fn image_json(base_url: &str, i: &ImageRecord) -> ImageJson {
    let storage = format!("s3://mapflow-sandbox/rasters/{}/{}", i.mosaic_id, i.id);
    ImageJson {
        id: i.id.clone(),
        mosaic_id: i.mosaic_id.clone(),
        filename: i.filename.clone(),
        file_size: i.file_size,
        uploaded_at: data_time(i.uploaded_at),
        footprint: geotiff::footprint_wkt(&i.info).ok(),
        checksum: i.checksum.clone(),
        image_url: format!("{storage}.tif"),
        cog_link: format!("{storage}/cog.tif"),
        preview_url_s: format!("{base_url}/rasters/image/{}/preview/s", i.id),
        preview_url_l: format!("{base_url}/rasters/image/{}/preview/l", i.id),
        available_for_download: true,
        meta_data: ImageMetaJson {
            crs: i.info.crs_name(),
            count: i.info.bands,
            width: i.info.width,
            height: i.info.height,
            dtypes: i.info.dtypes.clone(),
            // JSON has no NaN: a NaN no-data value is written as null.
            nodata: i.info.nodata.filter(|v| v.is_finite()),
            pixel_size: i.info.pixel_size,
        },
    }
}

/// The TileJSON of a mosaic: its tiles and the bounds of its images.
pub(crate) fn tile_json(base_url: &str, state: &PersistedState, m: &MosaicRecord) -> serde_json::Value {
    let rect = mosaic_footprint(state, &m.id).and_then(|mp| mp.bounding_rect());
    let bounds =
        rect.map_or([-180.0, -85.051_128_78, 180.0, 85.051_128_78], |r| [r.min().x, r.min().y, r.max().x, r.max().y]);
    // Deep enough to see the image's own pixels.
    let maxzoom = images_of(state, &m.id)
        .map(|i| {
            let metres =
                if i.info.epsg == Some(4326) { i.info.pixel_size[0] * 111_320.0 } else { i.info.pixel_size[0] };
            (mercator::WORLD_METRES / (f64::from(TILE) * metres.max(0.01))).log2().ceil()
        })
        .fold(0.0f64, f64::max)
        .clamp(0.0, 22.0) as u8;
    serde_json::json!({
        "tilejson": "2.2.0",
        "name": m.name,
        "scheme": "xyz",
        "tiles": [tile_url(base_url, &m.id)],
        "bounds": bounds,
        "center": [(bounds[0] + bounds[2]) / 2.0, (bounds[1] + bounds[3]) / 2.0, maxzoom.saturating_sub(3)],
        "minzoom": 0,
        "maxzoom": maxzoom.max(1),
    })
}

// ---- Uploads ----

/// A file received from a multipart upload, still in its temporary place.
pub(crate) struct Received {
    pub file: tempfile::NamedTempFile,
    pub filename: String,
    pub size: u64,
    pub md5: String,
}

/// An upload that passed the checks of the file alone, waiting to be added to a mosaic.
pub(crate) struct Accepted {
    pub received: Received,
    pub info: GeoTiffInfo,
}

/// Reads the multipart body of an upload, streaming the `file` field to a temporary file
/// in the store and hashing it on the way; other fields are skipped. A field bigger than
/// `maxUploadFileSize` is read to its end but not kept (answering before the client has
/// sent everything would break its connection), then refused with `FileTooBig`.
pub(crate) async fn receive(store: &RasterStore, headers: &HeaderMap, body: Body) -> ApiResult<Received> {
    let mut stream = body.into_data_stream();
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let Some(boundary) = boundary(content_type) else {
        drain(stream).await;
        return Err(detail(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Expected a multipart/form-data body with a `file` field",
        ));
    };
    let max = store.limits().max_upload_file_size;
    let io_error = |e: std::io::Error| ApiError::internal(format!("Cannot store the upload: {e}"));
    let temp = match std::fs::create_dir_all(&store.dir)
        .and_then(|()| tempfile::Builder::new().prefix(".upload-").suffix(".part").tempfile_in(&store.dir))
    {
        Ok(temp) => temp,
        Err(e) => {
            drain(stream).await;
            return Err(io_error(e));
        }
    };
    let mut out = match temp.reopen() {
        Ok(f) => tokio::io::BufWriter::with_capacity(1 << 20, tokio::fs::File::from_std(f)),
        Err(e) => {
            drain(stream).await;
            return Err(io_error(e));
        }
    };

    let read = read_file_field(&mut stream, &boundary, &mut out, max).await;
    let Some(field) = read? else {
        return Err(detail(StatusCode::UNPROCESSABLE_ENTITY, "Field required: file"));
    };
    let filename = sanitize_filename(&field.filename);
    if field.too_big {
        return Err(file_too_big(&filename, field.size, max.unwrap_or_default()));
    }
    out.flush().await.map_err(io_error)?;
    out.into_inner().sync_all().await.map_err(io_error)?;
    Ok(Received { file: temp, filename, size: field.size, md5: field.md5 })
}

/// A file the sandbox made itself (the demo imagery of a fresh account), stored and
/// hashed as [`receive`] stores an upload's `file` field, so that it then passes the same
/// checks ([`check_file`], [`commit`]) as an upload.
pub(crate) fn receive_bytes(store: &RasterStore, filename: &str, bytes: &[u8]) -> std::io::Result<Received> {
    use std::io::Write as _;
    std::fs::create_dir_all(&store.dir)?;
    let mut file = tempfile::Builder::new().prefix(".upload-").suffix(".part").tempfile_in(&store.dir)?;
    file.write_all(bytes)?;
    file.flush()?;
    Ok(Received { file, filename: sanitize_filename(filename), size: bytes.len() as u64, md5: hex(Md5::digest(bytes)) })
}

/// A digest as lowercase hex, as the service writes an image's `checksum`.
fn hex(digest: impl AsRef<[u8]>) -> String {
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Reads a request body to its end, discarding it: answering before the client has sent
/// everything would break its connection instead of showing it the answer.
pub(crate) async fn drain<T, E>(mut stream: impl futures_util::Stream<Item = Result<T, E>> + Unpin) {
    while let Some(Ok(_)) = stream.next().await {}
}

/// 400 `FileTooBig`.
fn file_too_big(filename: &str, size: u64, max: u64) -> ApiError {
    data_error(
        StatusCode::BAD_REQUEST,
        "FileTooBig",
        &format!("The file {filename} is {size} bytes; at most {max} bytes may be uploaded"),
    )
    .param("actual_file_size", size)
    .param("max_file_size", max)
}

/// The last path component of an uploaded file's name, never empty.
fn sanitize_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default().trim();
    if base.is_empty() { "image.tif".to_owned() } else { base.to_owned() }
}

/// The checks of an uploaded file on its own, in the service's order: size, storage,
/// readable TIFF, georeferencing, pixel count, CRS, extent. Blocking (reads the tags).
pub(crate) fn check_file(limits: RasterLimits, used: u64, received: Received) -> ApiResult<Accepted> {
    let name = received.filename.clone();
    let size = received.size;
    if let Some(max) = limits.max_upload_file_size
        && size > max
    {
        return Err(file_too_big(&name, size, max));
    }
    check_memory(limits, used, size)?;
    let info = match geotiff::read_info_path(received.file.path()) {
        Ok(info) => info,
        Err(GeoTiffError::NotGeoreferenced) => return Err(file_check_failed(&name, &["crs", "transform"])),
        Err(GeoTiffError::NoCrs) => return Err(file_check_failed(&name, &["crs"])),
        Err(e) => return Err(file_open_error(&name, &e)),
    };
    if let Some(max) = limits.max_pixel_count {
        let bad: Vec<&str> = [("width", info.width), ("height", info.height)]
            .into_iter()
            .filter(|(_, v)| *v > max)
            .map(|(n, _)| n)
            .collect();
        if !bad.is_empty() {
            return Err(file_check_failed(&name, &bad));
        }
    }
    let footprint = match geotiff::footprint_lonlat(&info) {
        Ok(fp) => fp,
        Err(GeoTiffError::NoCrs | GeoTiffError::UnsupportedCrs(_)) => return Err(file_check_failed(&name, &["crs"])),
        Err(_) => return Err(out_of_bounds(&name)),
    };
    let inside =
        footprint.exterior().0.iter().all(|c| (-180.0..=180.0).contains(&c.x) && (-90.0..=90.0).contains(&c.y));
    if !inside {
        return Err(out_of_bounds(&name));
    }
    Ok(Accepted { received, info })
}

fn out_of_bounds(name: &str) -> ApiError {
    data_error(
        StatusCode::BAD_REQUEST,
        "ImageOutOfBounds",
        &format!("The extent of {name} is outside the valid coordinate range"),
    )
}

/// `MemoryLimitExceeded` when `size` more bytes do not fit the account's storage.
fn check_memory(limits: RasterLimits, used: u64, size: u64) -> ApiResult<()> {
    let Some(limit) = limits.memory_limit else { return Ok(()) };
    let free = limit.saturating_sub(used);
    if size > free {
        return Err(data_error(
            StatusCode::BAD_REQUEST,
            "MemoryLimitExceeded",
            &format!("Not enough storage: {size} bytes requested, {free} bytes free"),
        )
        .param("available_memory", free)
        .param("memory_requested", size));
    }
    Ok(())
}

/// Whether two pixel sizes are the same (to a millionth, for float noise in the tags).
fn same_pixel_size(a: [f64; 2], b: [f64; 2]) -> bool {
    a.iter().zip(b).all(|(x, y)| (x - y).abs() <= 1e-6 * x.abs().max(y.abs()))
}

/// Adds an accepted upload to mosaic `mosaic_id` (created from `new_mosaic` when given):
/// checks storage again (other uploads may have finished meanwhile) and that the file
/// matches the mosaic's images (`FileValidationFailed` naming `crs`, `count` or
/// `pixel_size`), then moves the file into place and records it. Runs under the state
/// lock, and changes nothing unless everything succeeds. Returns the image's id.
pub(crate) fn commit(
    store: &RasterStore,
    state: &mut PersistedState,
    mosaic_id: &str,
    new_mosaic: Option<MosaicRecord>,
    accepted: Accepted,
) -> ApiResult<String> {
    if new_mosaic.is_none() && !state.mosaics.iter().any(|m| m.id == mosaic_id) {
        return Err(not_found("mosaic", mosaic_id));
    }
    let Accepted { received, info } = accepted;
    check_memory(store.limits(), memory_used(state), received.size)?;
    if let Some(first) = images_of(state, mosaic_id).next() {
        let mismatch = |param: &str, expected: String, got: String| {
            data_error(
                StatusCode::BAD_REQUEST,
                "FileValidationFailed",
                &format!(
                    "The file {} does not match the mosaic {mosaic_id}: {param} is {got}, expected {expected}",
                    received.filename
                ),
            )
            .param("expected_param", expected)
            .param("filename", &received.filename)
            .param("got_param", got)
            .param("mosaic_id", mosaic_id)
            .param("param_name", param)
        };
        let crs = |i: &GeoTiffInfo| i.crs_name().unwrap_or_else(|| "unknown".to_owned());
        if first.info.epsg != info.epsg {
            return Err(mismatch("crs", crs(&first.info), crs(&info)));
        }
        if first.info.bands != info.bands {
            return Err(mismatch("count", first.info.bands.to_string(), info.bands.to_string()));
        }
        if !same_pixel_size(first.info.pixel_size, info.pixel_size) {
            let show = |p: [f64; 2]| format!("[{}, {}]", p[0], p[1]);
            return Err(mismatch("pixel_size", show(first.info.pixel_size), show(info.pixel_size)));
        }
    }
    let id = uuid::Uuid::new_v4().to_string();
    received
        .file
        .persist(store.file_path(&id))
        .map_err(|e| ApiError::internal(format!("Cannot store the upload: {}", e.error)))?;
    if let Some(m) = new_mosaic {
        state.mosaics.push(m);
    }
    state.images.push(ImageRecord {
        id: id.clone(),
        mosaic_id: mosaic_id.to_owned(),
        filename: received.filename,
        file_size: received.size,
        uploaded_at: Utc::now(),
        checksum: received.md5,
        info,
    });
    Ok(id)
}

// ---- Mosaic tiles ----

/// The side of a map tile, px.
const TILE: u32 = 256;
/// Tile pixels are reprojected exactly on a grid every this many pixels and interpolated
/// in between (the error is far below a pixel at any zoom that shows the image).
const GRID_STEP: u32 = 16;

/// Renders XYZ tile (z, x, y) of a mosaic from its images' decimated copies: each tile
/// pixel centre is reprojected into the image's CRS and its pixel there is drawn; later
/// uploads are drawn over earlier ones; transparent where there is no image. Blocking.
pub(crate) fn render_tile(store: &RasterStore, images: &[ImageRecord], z: u8, x: u32, y: u32) -> image::RgbaImage {
    let mut out = image::RgbaImage::new(TILE, TILE);
    let (x0, y0) = mercator::tile_origin_metres(z, x, y);
    let pixel = mercator::tile_metres(z) / f64::from(TILE);
    let lonlat = |px: f64, py: f64| mercator::metres_to_lon_lat(x0 + px * pixel, y0 - py * pixel);
    let (west, north) = lonlat(0.0, 0.0);
    let (east, south) = lonlat(f64::from(TILE), f64::from(TILE));

    for image in images {
        let Ok(footprint) = geotiff::footprint_lonlat(&image.info) else { continue };
        let Some(rect) = footprint.bounding_rect() else { continue };
        if rect.max().x < west || rect.min().x > east || rect.max().y < south || rect.min().y > north {
            continue;
        }
        let Some(epsg) = image.info.epsg else { continue };
        let Ok(crs) = CrsTransform::from_epsg(epsg) else { continue };
        let Some(source) = store.tile_source(&image.id) else { continue };
        // Image pixel positions of the grid points.
        let n = (TILE / GRID_STEP + 1) as usize;
        let mut grid = vec![(f64::NAN, f64::NAN); n * n];
        for gy in 0..n {
            for gx in 0..n {
                let (lon, lat) = lonlat((gx as u32 * GRID_STEP) as f64, (gy as u32 * GRID_STEP) as f64);
                if let Ok((cx, cy)) = crs.from_lonlat(lon, lat)
                    && let Some(p) = image.info.crs_to_pixel(cx, cy)
                {
                    grid[gy * n + gx] = p;
                }
            }
        }
        let (w, h) = (f64::from(image.info.width), f64::from(image.info.height));
        let (sx, sy) = (f64::from(source.width()) / w, f64::from(source.height()) / h);
        for (px, py, dst) in out.enumerate_pixels_mut() {
            // The pixel centre inside its grid cell.
            let (fx, fy) = ((f64::from(px) + 0.5) / f64::from(GRID_STEP), (f64::from(py) + 0.5) / f64::from(GRID_STEP));
            let (cx, cy) = ((fx as usize).min(n - 2), (fy as usize).min(n - 2));
            let (tx, ty) = (fx - cx as f64, fy - cy as f64);
            let at = |dx: usize, dy: usize| grid[(cy + dy) * n + cx + dx];
            let (a, b, c, d) = (at(0, 0), at(1, 0), at(0, 1), at(1, 1));
            let col = (a.0 * (1.0 - tx) + b.0 * tx) * (1.0 - ty) + (c.0 * (1.0 - tx) + d.0 * tx) * ty;
            let row = (a.1 * (1.0 - tx) + b.1 * tx) * (1.0 - ty) + (c.1 * (1.0 - tx) + d.1 * tx) * ty;
            if !(col >= 0.0 && col < w && row >= 0.0 && row < h) {
                continue;
            }
            let s = source
                .get_pixel(((col * sx) as u32).min(source.width() - 1), ((row * sy) as u32).min(source.height() - 1));
            if s[3] == 255 || dst[3] == 0 {
                if s[3] > 0 {
                    *dst = *s;
                }
            } else if s[3] > 0 {
                // Source-over for partly transparent pixels.
                let (sa, da) = (f32::from(s[3]) / 255.0, f32::from(dst[3]) / 255.0);
                let oa = sa + da * (1.0 - sa);
                for k in 0..3 {
                    let v = (f32::from(s[k]) * sa + f32::from(dst[k]) * da * (1.0 - sa)) / oa;
                    dst[k] = v.round().clamp(0.0, 255.0) as u8;
                }
                dst[3] = (oa * 255.0).round() as u8;
            }
        }
    }
    out
}

// ---- Multipart ----

/// Most bytes read outside part data at a time (a preamble, a delimiter and a part's
/// headers, with a network chunk or two read ahead), so headers that never end are not
/// held in memory.
const MAX_OUTSIDE_DATA: usize = MAX_PART_HEADERS + (1 << 20);

/// The boundary of a `multipart/form-data` content type.
fn boundary(content_type: &str) -> Option<String> {
    multer::parse_boundary(content_type).ok().filter(|b| !b.is_empty() && b.len() <= 200)
}

/// The `file` field of an upload as received.
#[derive(Debug)]
struct FileField {
    filename: String,
    size: u64,
    /// MD5 of the bytes written, hex.
    md5: String,
    /// Over the size limit: read to its end, nothing written.
    too_big: bool,
}

/// Why the body stream stopped, as multer is told.
#[derive(Debug, thiserror::Error)]
enum Feed {
    #[error("{0}")]
    Body(String),
    #[error("multipart part headers are too long")]
    HeadersTooLong,
}

/// What the body stream did, shared with the reader.
#[derive(Default)]
struct Gate {
    /// Multer is inside a part's data (not counted against [`MAX_OUTSIDE_DATA`]).
    in_data: AtomicBool,
    /// Bytes read since the last part's data ended.
    outside: AtomicUsize,
    ended: AtomicBool,
    broken: AtomicBool,
}

/// A body stream as multer reads it, refusing more than [`MAX_OUTSIDE_DATA`] between parts.
struct Gated<'a, S> {
    body: &'a mut S,
    gate: Arc<Gate>,
}

impl<S, E> futures_util::Stream for Gated<'_, S>
where
    S: futures_util::Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    type Item = Result<Bytes, Feed>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let Poll::Ready(item) = this.body.poll_next_unpin(cx) else { return Poll::Pending };
        let gate = &this.gate;
        Poll::Ready(match item {
            Some(Ok(bytes)) => {
                let outside = if gate.in_data.load(Ordering::Relaxed) {
                    0
                } else {
                    gate.outside.fetch_add(bytes.len(), Ordering::Relaxed) + bytes.len()
                };
                Some(if outside > MAX_OUTSIDE_DATA { Err(Feed::HeadersTooLong) } else { Ok(bytes) })
            }
            Some(Err(e)) => {
                gate.broken.store(true, Ordering::Relaxed);
                Some(Err(Feed::Body(e.to_string())))
            }
            None => {
                gate.ended.store(true, Ordering::Relaxed);
                None
            }
        })
    }
}

/// Why reading the parts stopped.
enum Stop {
    Parse(multer::Error),
    Write(std::io::Error),
}

/// Reads a multipart body to its end, writing the first `file` field to `out` and hashing
/// it on the way; other fields are skipped. After a failure the rest of the body is still
/// read (answering before the client has sent everything would break its connection).
async fn read_file_field<S, E, W>(
    body: &mut S,
    boundary: &str,
    out: &mut W,
    max: Option<u64>,
) -> ApiResult<Option<FileField>>
where
    S: futures_util::Stream<Item = Result<Bytes, E>> + Unpin + Send,
    E: std::fmt::Display,
    W: tokio::io::AsyncWrite + Unpin,
{
    let gate = Arc::new(Gate::default());
    let read = {
        let mut parts = multer::Multipart::new(Gated { body: &mut *body, gate: Arc::clone(&gate) }, boundary);
        read_parts(&mut parts, &gate, out, max).await
    };
    let (ended, broken) = (gate.ended.load(Ordering::Relaxed), gate.broken.load(Ordering::Relaxed));
    if !ended && !broken {
        drain(&mut *body).await;
    }
    read.map_err(|stop| match stop {
        Stop::Write(e) => ApiError::internal(format!("Cannot store the upload: {e}")),
        Stop::Parse(multer::Error::StreamReadFailed(e)) => match e.downcast::<Feed>().map(|feed| *feed) {
            Ok(Feed::HeadersTooLong) => detail(StatusCode::UNPROCESSABLE_ENTITY, &Feed::HeadersTooLong.to_string()),
            Ok(Feed::Body(e)) => detail(StatusCode::BAD_REQUEST, &format!("The upload was interrupted: {e}")),
            Err(e) => detail(StatusCode::BAD_REQUEST, &format!("The upload was interrupted: {e}")),
        },
        Stop::Parse(
            multer::Error::IncompleteStream
            | multer::Error::IncompleteFieldData { .. }
            | multer::Error::IncompleteHeaders,
        ) if ended => detail(StatusCode::BAD_REQUEST, "The multipart body ended early: the upload was interrupted"),
        Stop::Parse(e) => detail(StatusCode::UNPROCESSABLE_ENTITY, &e.to_string()),
    })
}

/// The parts of [`read_file_field`], read until the closing delimiter.
async fn read_parts<W: tokio::io::AsyncWrite + Unpin>(
    parts: &mut multer::Multipart<'_>,
    gate: &Gate,
    out: &mut W,
    max: Option<u64>,
) -> Result<Option<FileField>, Stop> {
    let mut file: Option<FileField> = None;
    let mut md5 = Md5::new();
    loop {
        gate.in_data.store(false, Ordering::Relaxed);
        gate.outside.store(0, Ordering::Relaxed);
        let Some(mut field) = parts.next_field().await.map_err(Stop::Parse)? else { break };
        gate.in_data.store(true, Ordering::Relaxed);
        let is_file = file.is_none() && field.name() == Some("file");
        if is_file {
            let filename = part_filename(&field).unwrap_or_else(|| "image.tif".to_owned());
            file = Some(FileField { filename, size: 0, md5: String::new(), too_big: false });
        }
        while let Some(bytes) = field.chunk().await.map_err(Stop::Parse)? {
            let Some(f) = file.as_mut().filter(|_| is_file) else { continue };
            f.size += bytes.len() as u64;
            f.too_big |= max.is_some_and(|m| f.size > m);
            if !f.too_big {
                md5.update(&bytes);
                out.write_all(&bytes).await.map_err(Stop::Write)?;
            }
        }
    }
    Ok(file.map(|f| FileField { md5: hex(md5.finalize()), ..f }))
}

/// A part's file name: RFC 5987's `filename*=charset'lang'percent-encoded` where given,
/// else `filename`.
fn part_filename(field: &multer::Field<'_>) -> Option<String> {
    let extended = field
        .headers()
        .get(header::CONTENT_DISPOSITION)
        .and_then(|v| std::str::from_utf8(v.as_bytes()).ok())
        .and_then(|v| {
            v.split(';').find_map(|p| {
                let (k, v) = p.split_once('=')?;
                k.trim().eq_ignore_ascii_case("filename*").then(|| v.trim().trim_matches('"'))
            })
        })
        .map(|v| {
            let encoded = v.splitn(3, '\'').nth(2).unwrap_or(v);
            percent_encoding::percent_decode_str(encoded).decode_utf8_lossy().into_owned()
        });
    extended.or_else(|| field.file_name().map(str::to_owned))
}

/// The fuzz entry of the upload reader: the first byte sets the size of the pieces the
/// rest arrives in. It must never write more than came in.
pub(crate) fn fuzz_multipart(data: &[u8]) {
    use futures_util::FutureExt as _;
    let Some((&step, body)) = data.split_first() else { return };
    let pieces: Vec<Result<Bytes, std::convert::Infallible>> =
        body.chunks(usize::from(step % 64) + 1).map(|p| Ok(Bytes::copy_from_slice(p))).collect();
    let mut stream = futures_util::stream::iter(pieces);
    let mut out = Vec::new();
    // Every piece is ready at once, so the reader never waits.
    if let Some(Ok(Some(field))) = read_file_field(&mut stream, "fuzz-Boundary_01", &mut out, None).now_or_never() {
        assert!(
            field.size == out.len() as u64 && out.len() <= body.len(),
            "wrote {} bytes of {}",
            out.len(),
            body.len()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_are_md5_in_hex() {
        assert_eq!(hex(Md5::digest(b"")), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(hex(Md5::digest(b"abc")), "900150983cd24fb0d6963f7d28e17f72");
    }

    /// Feeds `body` to the upload reader in pieces of `step` bytes: the file field and
    /// what was written of it.
    fn parse(body: &[u8], boundary: &str, step: usize) -> ApiResult<Option<(FileField, Vec<u8>)>> {
        use futures_util::FutureExt as _;
        let pieces: Vec<Result<Bytes, std::convert::Infallible>> =
            body.chunks(step).map(|p| Ok(Bytes::copy_from_slice(p))).collect();
        let mut stream = futures_util::stream::iter(pieces);
        let mut out = Vec::new();
        let field = read_file_field(&mut stream, boundary, &mut out, None).now_or_never().expect("ready")?;
        Ok(field.map(|f| (f, out)))
    }

    #[test]
    fn multipart_in_any_pieces() {
        let payload: Vec<u8> = (0..5000u32).map(|i| (i * 7 % 256) as u8).chain(*b"\r\n--Xb\r\n--X").collect();
        let mut body =
            b"preamble\r\n--XbX\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n--XbX\r\n".to_vec();
        body.extend_from_slice(
            b"Content-Disposition: form-data; name=\"file\"; filename=\"dir/a \\\"b\\\".tif\"\r\nContent-Type: image/tiff\r\n\r\n",
        );
        body.extend_from_slice(&payload);
        body.extend_from_slice(b"\r\n--XbX--\r\n");
        for step in [1, 2, 3, 7, 64, 1000, body.len()] {
            let (field, written) = parse(&body, "XbX", step).expect("parse").expect("a file field");
            assert_eq!(field.filename, "dir/a \"b\".tif");
            assert_eq!(written, payload, "step {step}");
            assert_eq!((field.size, field.md5.as_str()), (payload.len() as u64, hex(Md5::digest(&payload)).as_str()));
        }
        assert_eq!(sanitize_filename("dir/a \"b\".tif"), "a \"b\".tif");
        let cut = parse(&body[..body.len() - 12], "XbX", 5).expect_err("a cut body");
        assert_eq!(cut.status, StatusCode::BAD_REQUEST, "{cut:?}");

        let note = b"--XbX\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n--XbX--\r\n";
        assert!(parse(note, "XbX", 3).expect("parse").is_none());
        let extended = b"--XbX\r\nContent-Disposition: form-data; name=\"file\"; filename*=UTF-8''%D0%BA%D0%B0%D1%80%D1%82%D0%B0.tif\r\n\r\nII*\r\n--XbX--\r\n";
        assert_eq!(parse(extended, "XbX", 4).expect("parse").expect("a file field").0.filename, "карта.tif");
        let mut endless = b"--XbX\r\nContent-Disposition: form-data; name=\"file\"\r\nX-Pad: ".to_vec();
        endless.resize(MAX_OUTSIDE_DATA + 10, b'a');
        let refused = parse(&endless, "XbX", 4096).expect_err("endless headers");
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{refused:?}");
    }

    #[test]
    fn boundaries() {
        assert_eq!(boundary("multipart/form-data; boundary=abc").as_deref(), Some("abc"));
        assert_eq!(boundary("Multipart/Form-Data;boundary=\"a b\"").as_deref(), Some("a b"));
        assert_eq!(boundary("application/json"), None);
        assert_eq!(boundary("multipart/form-data"), None);
    }

    #[test]
    fn data_times_have_no_zone() {
        let t = DateTime::parse_from_rfc3339("2023-01-26T13:58:32.122099Z").expect("time").with_timezone(&Utc);
        assert_eq!(data_time(t), "2023-01-26T13:58:32.122099");
    }
}
