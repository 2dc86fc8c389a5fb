//! Data API (`/rasters`): mosaics, the images uploaded into them, storage accounting, and
//! uploads streamed from disk.
//!
//! Uploads never load the file into memory: the file is read in chunks while the request
//! body is being sent, each chunk is counted for the progress callback, and a cancellation
//! token aborts the request mid-body (the server then discards the partial file). An upload
//! is never retried on its own: a repeat could store the image twice.

use super::client::{Client, Idempotency, decode, path_segment, timeouts, to_body};
use super::error::{ApiError, ErrorKind};
use super::models::{ImageId, Memory, Mosaic, MosaicId, lenient_i64, lenient_opt_f64, lenient_opt_i64, null_default};
use futures_util::StreamExt as _;
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use std::path::Path;
use std::sync::{Arc, Mutex};
use tokio_util::sync::CancellationToken;

/// How much of the file is read (and handed to the connection) at a time. 1 MiB keeps the
/// per-chunk cost (a blocking-pool read, a write) low enough to match curl on loopback
/// (256 KiB measured ~0.8× curl), while memory stays a few MiB whatever the file size.
const UPLOAD_CHUNK: usize = 1024 * 1024;

// ---- Lenient decoding: the rules of `models.rs`, plus the shapes only the Data API sends. ----

/// A string that may arrive as a number (an id, a bare EPSG code); null stays `None`.
fn lenient_opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s),
        other => Some(other.to_string()),
    })
}

/// A list of strings; items that are not strings are dropped.
fn lenient_strings<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let v = Option::<Vec<serde_json::Value>>::deserialize(d)?.unwrap_or_default();
    Ok(v.into_iter()
        .filter_map(|item| match item {
            serde_json::Value::String(s) => Some(s),
            serde_json::Value::Null => None,
            other => Some(other.to_string()),
        })
        .collect())
}

/// A list of numbers (numeric strings accepted); anything else in it is dropped.
fn lenient_numbers<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
    let v = Option::<Vec<serde_json::Value>>::deserialize(d)?.unwrap_or_default();
    Ok(v.into_iter()
        .filter_map(|item| match item {
            serde_json::Value::Number(n) => n.as_f64(),
            serde_json::Value::String(s) => s.trim().parse().ok(),
            _ => None,
        })
        .collect())
}

/// Decodes a JSON array item by item: an item of an unexpected shape is logged and dropped,
/// so one odd image never hides the rest of a mosaic.
fn decode_list<T: DeserializeOwned>(status: u16, text: &str) -> Result<Vec<T>, ApiError> {
    let items: Vec<serde_json::Value> = decode(status, text)?;
    Ok(items
        .into_iter()
        .filter_map(|item| match serde_json::from_value(item) {
            Ok(t) => Some(t),
            Err(e) => {
                tracing::warn!("skipping a list item of an unexpected shape: {e}");
                None
            }
        })
        .collect())
}

// ---- Models ----

/// Raster properties of an uploaded image, as the service read them from the file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RasterMeta {
    /// The coordinate system, like `"EPSG:32637"`.
    #[serde(deserialize_with = "lenient_opt_string")]
    pub crs: Option<String>,
    /// Band count.
    #[serde(deserialize_with = "lenient_i64")]
    pub count: i64,
    #[serde(deserialize_with = "lenient_i64")]
    pub width: i64,
    #[serde(deserialize_with = "lenient_i64")]
    pub height: i64,
    /// One data type per band (`"uint8"`, …).
    #[serde(deserialize_with = "lenient_strings")]
    pub dtypes: Vec<String>,
    #[serde(deserialize_with = "lenient_opt_f64")]
    pub nodata: Option<f64>,
    /// `[x, y]` in CRS units per pixel.
    #[serde(deserialize_with = "lenient_numbers")]
    pub pixel_size: Vec<f64>,
}

impl RasterMeta {
    /// The EPSG code of `crs` (`"EPSG:32637"`, `"epsg:4326"` or a bare `"4326"`).
    pub fn epsg(&self) -> Option<u32> {
        parse_epsg(self.crs.as_deref()?)
    }

    /// `pixel_size` as `[x, y]` (absolute values); a single number means square pixels.
    pub fn pixel_size_xy(&self) -> Option<[f64; 2]> {
        match self.pixel_size.as_slice() {
            [x, y, ..] => Some([x.abs(), y.abs()]),
            [s] => Some([s.abs(), s.abs()]),
            [] => None,
        }
    }
}

/// The EPSG code named by a CRS string: `"EPSG:32637"`, `"epsg:4326"`, or a bare number.
pub fn parse_epsg(crs: &str) -> Option<u32> {
    let s = crs.trim();
    let code = match s.get(..5) {
        Some(prefix) if prefix.eq_ignore_ascii_case("EPSG:") => &s[5..],
        _ => s,
    };
    code.trim().parse().ok()
}

/// An image uploaded into a mosaic.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RasterImage {
    #[serde(deserialize_with = "null_default")]
    pub id: ImageId,
    #[serde(deserialize_with = "null_default")]
    pub mosaic_id: MosaicId,
    #[serde(deserialize_with = "null_default")]
    pub filename: String,
    /// Bytes.
    #[serde(deserialize_with = "lenient_i64")]
    pub file_size: i64,
    /// ISO-8601, often without a time zone (then UTC): see [`RasterImage::uploaded_at_utc`].
    pub uploaded_at: Option<String>,
    /// The image's outline as WKT (`POLYGON((lon lat, …))`), in EPSG:4326.
    pub footprint: Option<String>,
    pub checksum: Option<String>,
    pub image_url: Option<String>,
    pub cog_link: Option<String>,
    /// 256 px preview; on the API's own host, so it needs auth: use [`Client::image_preview`].
    pub preview_url_s: Option<String>,
    /// 1024 px preview.
    pub preview_url_l: Option<String>,
    #[serde(deserialize_with = "null_default")]
    pub available_for_download: bool,
    #[serde(deserialize_with = "null_default")]
    pub meta_data: RasterMeta,
}

impl RasterImage {
    /// `uploaded_at` as UTC; a time without a zone is taken as UTC, as the service means it.
    pub fn uploaded_at_utc(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        parse_api_time(self.uploaded_at.as_deref()?)
    }
}

/// An API time as UTC; a time without a zone is taken as UTC, as the service means it.
pub fn parse_api_time(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let s = s.trim();
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&chrono::Utc))
        .ok()
        .or_else(|| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f").ok().map(|n| n.and_utc()))
}

/// The answer to an upload: a message and the mosaic, not the image (list the mosaic's
/// images to see it).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct UploadAnswer {
    #[serde(deserialize_with = "null_default")]
    pub message: String,
    #[serde(deserialize_with = "null_default")]
    pub mosaic_id: MosaicId,
}

/// A short-lived link to an image's original file. The URL is presigned or foreign: fetch
/// it without the Mapflow credentials.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DownloadLink {
    #[serde(deserialize_with = "null_default")]
    pub download_url: String,
    #[serde(deserialize_with = "null_default")]
    pub filename: String,
    /// Seconds the link stays valid.
    #[serde(deserialize_with = "lenient_opt_i64")]
    pub expires_in: Option<i64>,
}

/// Body of `POST /rasters/mosaic` and `PUT /rasters/mosaic/{id}`; absent fields are not sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
struct MosaicEdit<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tags: Option<&'a [String]>,
}

// ---- Errors ----

/// Why an upload did not complete.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum UploadError {
    /// The caller's cancellation token fired; the request was aborted mid-body.
    #[error("the upload was cancelled")]
    Cancelled,
    /// The service refused the file, could not be reached, or the local file could not be
    /// read (then `InvalidArgument` naming the file).
    #[error(transparent)]
    Api(#[from] ApiError),
}

impl UploadError {
    /// The API error, unless the upload was cancelled.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Self::Cancelled => None,
            Self::Api(e) => Some(e),
        }
    }
}

/// Why an image's download link was not given. The three refusals of
/// `GET /rasters/image/{id}/download` mean different things to the user, so they are apart.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ImageDownloadError {
    /// 404: the image does not exist or this account has no access to it.
    #[error("no access to the image (it may have been deleted): {0}")]
    NoAccess(ApiError),
    /// 403: the image exists but its original may not be downloaded.
    #[error("the image is not available for download: {0}")]
    NotDownloadable(ApiError),
    /// 409: the image is still being processed; try again later.
    #[error("the image is not ready for download yet: {0}")]
    NotReady(ApiError),
    /// Anything else (401, server errors, network).
    #[error(transparent)]
    Api(ApiError),
}

impl ImageDownloadError {
    /// The underlying API error.
    pub fn api(&self) -> &ApiError {
        match self {
            Self::NoAccess(e) | Self::NotDownloadable(e) | Self::NotReady(e) | Self::Api(e) => e,
        }
    }

    fn classify(e: ApiError) -> Self {
        match e.status {
            Some(404) => Self::NoAccess(e),
            Some(403) => Self::NotDownloadable(e),
            Some(409) => Self::NotReady(e),
            _ => Self::Api(e),
        }
    }
}

// ---- Calls ----

/// What a query value keeps as it is: RFC 3986's unreserved characters.
const QUERY_VALUE: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// Percent-encodes a query value (everything but the unreserved characters).
fn encode_query(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, QUERY_VALUE).to_string()
}

/// `?k=v&k=v…` (empty when there are no pairs); repeated keys carry lists (`tags`).
fn query_string(pairs: &[(&str, &str)]) -> String {
    if pairs.is_empty() {
        return String::new();
    }
    let joined = pairs.iter().map(|(k, v)| format!("{k}={}", encode_query(v))).collect::<Vec<_>>().join("&");
    format!("?{joined}")
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorKind::InvalidArgument(message.into()))
}

fn trimmed_name(name: &str) -> Result<&str, ApiError> {
    let name = name.trim();
    if name.is_empty() { Err(invalid("a name is required")) } else { Ok(name) }
}

impl Client {
    /// `GET /rasters/mosaic[?tags=a&tags=b]`: the user's mosaics, optionally those with any
    /// of the given tags.
    pub async fn mosaics(&self, tags: Option<&[String]>) -> Result<Vec<Mosaic>, ApiError> {
        let pairs: Vec<(&str, &str)> = tags.unwrap_or_default().iter().map(|t| ("tags", t.as_str())).collect();
        let path = format!("/rasters/mosaic{}", query_string(&pairs));
        let (status, text) = self.send_raw(Method::GET, &path, None, timeouts::DEFAULT, Idempotency::Safe).await?;
        decode_list(status, &text)
    }

    /// `GET /rasters/mosaic/{id}`.
    pub async fn mosaic(&self, id: &MosaicId) -> Result<Mosaic, ApiError> {
        let path = format!("/rasters/mosaic/{}", path_segment(&id.0)?);
        self.call(Method::GET, &path, None, timeouts::DEFAULT, Idempotency::Safe).await
    }

    /// `POST /rasters/mosaic {name, tags}`: an empty mosaic. Never retried on its own.
    pub async fn create_mosaic(&self, name: &str, tags: &[String]) -> Result<Mosaic, ApiError> {
        let body = to_body(&MosaicEdit { name: Some(trimmed_name(name)?), tags: Some(tags) })?;
        self.call(Method::POST, "/rasters/mosaic", Some(&body), timeouts::CREATE, Idempotency::Once).await
    }

    /// `PUT /rasters/mosaic/{id} {name?, tags?}`: renames and/or replaces the tags; what is
    /// `None` is left as it is.
    pub async fn update_mosaic(
        &self,
        id: &MosaicId,
        name: Option<&str>,
        tags: Option<&[String]>,
    ) -> Result<Mosaic, ApiError> {
        if name.is_none() && tags.is_none() {
            return Err(invalid("nothing to change: give a name or tags"));
        }
        let name = name.map(trimmed_name).transpose()?;
        let path = format!("/rasters/mosaic/{}", path_segment(&id.0)?);
        let body = to_body(&MosaicEdit { name, tags })?;
        self.call(Method::PUT, &path, Some(&body), timeouts::DEFAULT, Idempotency::Once).await
    }

    /// `DELETE /rasters/mosaic/{id}`: the mosaic and every image in it.
    pub async fn delete_mosaic(&self, id: &MosaicId) -> Result<(), ApiError> {
        let path = format!("/rasters/mosaic/{}", path_segment(&id.0)?);
        self.call_unit(Method::DELETE, &path, None, timeouts::DEFAULT, Idempotency::Once).await
    }

    /// `GET /rasters/mosaic/{id}/image`: the mosaic's images with their metadata.
    pub async fn mosaic_images(&self, id: &MosaicId) -> Result<Vec<RasterImage>, ApiError> {
        let path = format!("/rasters/mosaic/{}/image", path_segment(&id.0)?);
        let (status, text) = self.send_raw(Method::GET, &path, None, timeouts::DEFAULT, Idempotency::Safe).await?;
        decode_list(status, &text)
    }

    /// `GET /rasters/image/{id}`.
    pub async fn raster_image(&self, id: &ImageId) -> Result<RasterImage, ApiError> {
        let path = format!("/rasters/image/{}", path_segment(&id.0)?);
        self.call(Method::GET, &path, None, timeouts::DEFAULT, Idempotency::Safe).await
    }

    /// `PUT /rasters/image/{id}?name=`: renames the image and returns it as it is now. When
    /// the answer is not the image (some versions answer a message), it is fetched.
    pub async fn rename_image(&self, id: &ImageId, name: &str) -> Result<RasterImage, ApiError> {
        let name = trimmed_name(name)?;
        let path = format!("/rasters/image/{}{}", path_segment(&id.0)?, query_string(&[("name", name)]));
        let (status, text) = self.send_raw(Method::PUT, &path, None, timeouts::DEFAULT, Idempotency::Once).await?;
        match decode::<RasterImage>(status, &text) {
            Ok(image) if !image.id.0.is_empty() => Ok(image),
            _ => self.raster_image(id).await,
        }
    }

    /// `DELETE /rasters/image/{id}`.
    pub async fn delete_image(&self, id: &ImageId) -> Result<(), ApiError> {
        let path = format!("/rasters/image/{}", path_segment(&id.0)?);
        self.call_unit(Method::DELETE, &path, None, timeouts::DEFAULT, Idempotency::Once).await
    }

    /// `GET /rasters/image/{id}/download`: a link to the original file. 404 (no access),
    /// 403 (not downloadable) and 409 (not ready yet) come back as their own variants and
    /// are never retried; server errors and time-outs are.
    pub async fn image_download(&self, id: &ImageId) -> Result<DownloadLink, ImageDownloadError> {
        let path = format!("/rasters/image/{}/download", path_segment(&id.0).map_err(ImageDownloadError::Api)?);
        let attempts = self.config().retry.attempts.max(1);
        // A 4xx is an answer, even when its body was not recognisable: never retried.
        let retry =
            |e: &ApiError| e.is_retryable() && !matches!(e.status, Some(s) if (400..500).contains(&s) && s != 429);
        let answer = self
            .with_retries(attempts, &format!("GET {path}"), retry, || {
                self.send_raw(Method::GET, &path, None, timeouts::DEFAULT, Idempotency::Once)
            })
            .await;
        match answer {
            Ok((status, text)) => decode(status, &text).map_err(ImageDownloadError::Api),
            Err(e) => Err(ImageDownloadError::classify(e)),
        }
    }

    /// `GET /rasters/memory`: storage used and the upload limits.
    pub async fn memory(&self) -> Result<Memory, ApiError> {
        self.call(Method::GET, "/rasters/memory", None, timeouts::DEFAULT, Idempotency::Safe).await
    }

    /// `GET /rasters/image/{id}/preview/{s|l}`: the preview picture's bytes (JPEG or PNG,
    /// 256 or 1024 px). It is on the API's own host, so the request carries the credentials.
    pub async fn image_preview(&self, id: &ImageId, large: bool) -> Result<Vec<u8>, ApiError> {
        let size = if large { "l" } else { "s" };
        let path = format!("/rasters/image/{}/preview/{size}", path_segment(&id.0)?);
        let mut resp = self.get_stream(&path, timeouts::DOWNLOAD).await?;
        let mut out = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| ApiError::from_reqwest(&e))? {
            out.extend_from_slice(&chunk);
        }
        Ok(out)
    }

    /// `POST /rasters/mosaic/{id}/image`: uploads the file at `path` into the mosaic.
    ///
    /// The file is streamed from disk as the multipart field `file`; `progress` gets the
    /// bytes handed to the connection so far (rising to the file size); `cancel` aborts the
    /// request and yields [`UploadError::Cancelled`]. Timeout 3600 s; never retried. Run
    /// `imagery::check::check_upload` first: the service's own checks only run after the
    /// whole file has been sent.
    pub async fn upload_image(
        &self,
        mosaic: &MosaicId,
        path: &Path,
        progress: impl Fn(u64) + Send + Sync + 'static,
        cancel: CancellationToken,
    ) -> Result<UploadAnswer, UploadError> {
        let route = format!("/rasters/mosaic/{}/image", path_segment(&mosaic.0)?);
        self.upload(&route, path, progress, cancel).await
    }

    /// `POST /rasters/mosaic/image?name=&tags=`: creates a mosaic and uploads the file into
    /// it in one request. Streaming, progress, cancellation and timeout as in
    /// [`Client::upload_image`]; the answer names the new mosaic.
    pub async fn create_mosaic_and_upload(
        &self,
        name: &str,
        tags: &[String],
        path: &Path,
        progress: impl Fn(u64) + Send + Sync + 'static,
        cancel: CancellationToken,
    ) -> Result<UploadAnswer, UploadError> {
        let mut pairs = vec![("name", trimmed_name(name)?)];
        pairs.extend(tags.iter().map(|t| ("tags", t.as_str())));
        let route = format!("/rasters/mosaic/image{}", query_string(&pairs));
        self.upload(&route, path, progress, cancel).await
    }

    /// The shared upload: one streamed multipart POST, raced against the cancellation token.
    async fn upload(
        &self,
        route: &str,
        path: &Path,
        progress: impl Fn(u64) + Send + Sync + 'static,
        cancel: CancellationToken,
    ) -> Result<UploadAnswer, UploadError> {
        if cancel.is_cancelled() {
            return Err(UploadError::Cancelled);
        }
        let file_error = |e: &dyn std::fmt::Display| invalid(format!("{}: {e}", path.display()));
        let file = tokio::fs::File::open(path).await.map_err(|e| file_error(&e))?;
        let meta = file.metadata().await.map_err(|e| file_error(&e))?;
        if !meta.is_file() {
            return Err(file_error(&"not a file").into());
        }
        let length = meta.len();
        let filename =
            path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "image.tif".to_owned());

        // A read error mid-body reaches the caller as a connection error; keep the real cause.
        let read_error: Arc<Mutex<Option<String>>> = Arc::default();
        let read_error_in = Arc::clone(&read_error);
        let token = cancel.clone();
        let mut sent = 0u64;
        let chunks = tokio_util::io::ReaderStream::with_capacity(file, UPLOAD_CHUNK).map(move |chunk| match chunk {
            // Stop pulling the file once cancelled, so the body ends short and the server
            // drops it, even if the response would otherwise have raced the cancellation.
            Ok(_) if token.is_cancelled() => {
                Err(std::io::Error::new(std::io::ErrorKind::Interrupted, "upload cancelled"))
            }
            Ok(bytes) => {
                sent += bytes.len() as u64;
                progress(sent);
                Ok(bytes)
            }
            Err(e) => {
                if let Ok(mut slot) = read_error_in.lock() {
                    *slot = Some(e.to_string());
                }
                Err(e)
            }
        });
        let part = reqwest::multipart::Part::stream_with_length(reqwest::Body::wrap_stream(chunks), length)
            .file_name(filename)
            .mime_str("image/tiff")
            .map_err(|e| self.transport_error(&e))?;
        let form = reqwest::multipart::Form::new().part("file", part);
        let timeout = timeouts::UPLOAD.mul_f64(self.config().timeout_scale.max(0.001));
        let request = self
            .http()
            .post(format!("{}{route}", self.base_url()))
            .header(reqwest::header::AUTHORIZATION, format!("Basic {}", self.token().expose()))
            .header(reqwest::header::ACCEPT, "application/json")
            .timeout(timeout)
            .multipart(form);
        let exchange = async {
            let resp = request.send().await.map_err(|e| self.transport_error(&e))?;
            let status = resp.status().as_u16();
            let text = resp.text().await.map_err(|e| ApiError::from_reqwest(&e))?;
            if (200..300).contains(&status) {
                decode::<UploadAnswer>(status, &text)
            } else {
                Err(ApiError::from_status(status, &text))
            }
        };
        tokio::select! {
            biased;
            () = cancel.cancelled() => Err(UploadError::Cancelled),
            result = exchange => result.map_err(|e| {
                match read_error.lock().ok().and_then(|mut slot| slot.take()) {
                    Some(cause) => UploadError::Api(file_error(&cause)),
                    None => UploadError::Api(e),
                }
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_image() {
        let image: RasterImage = decode(
            200,
            r#"{"id":"i1","mosaic_id":null,"filename":"a.tif","file_size":"1024","uploaded_at":"2023-01-26T13:58:32.122099",
                "footprint":"POLYGON((0 0,1 0,1 1,0 1,0 0))","available_for_download":null,"extra":[1],
                "meta_data":{"crs":"EPSG:32637","count":3,"width":"10","height":20.0,"dtypes":["uint8",null,"uint8"],
                "nodata":null,"pixel_size":[0.5,"-0.5"]}}"#,
        )
        .unwrap();
        assert_eq!(image.file_size, 1024);
        assert_eq!(image.mosaic_id.0, "");
        assert!(!image.available_for_download);
        assert_eq!(image.meta_data.epsg(), Some(32637));
        assert_eq!(image.meta_data.width, 10);
        assert_eq!(image.meta_data.dtypes, ["uint8", "uint8"]);
        assert_eq!(image.meta_data.pixel_size_xy(), Some([0.5, 0.5]));
        let t = image.uploaded_at_utc().unwrap();
        assert_eq!(t.to_rfc3339(), "2023-01-26T13:58:32.122099+00:00");
        let empty: RasterImage = decode(200, r#"{"meta_data": null}"#).unwrap();
        assert_eq!(empty, RasterImage::default());
    }

    #[test]
    fn odd_list_items_are_dropped() {
        let list: Vec<RasterImage> = decode_list(200, r#"[{"id":"a"}, 5, {"id":"b","file_size":[1]}]"#).unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].id.0, "a");
    }

    #[test]
    fn queries_and_epsg() {
        assert_eq!(query_string(&[]), "");
        assert_eq!(query_string(&[("name", "My survey/1"), ("tags", "a&b")]), "?name=My%20survey%2F1&tags=a%26b");
        assert_eq!(query_string(&[("name", "Снимок")]), "?name=%D0%A1%D0%BD%D0%B8%D0%BC%D0%BE%D0%BA");
        assert_eq!(parse_epsg("EPSG:4326"), Some(4326));
        assert_eq!(parse_epsg("epsg:32637"), Some(32637));
        assert_eq!(parse_epsg("3857"), Some(3857));
        assert_eq!(parse_epsg("WGS 84"), None);
    }

    #[test]
    fn download_errors_are_told_apart() {
        let e = |s| ImageDownloadError::classify(ApiError::from_status(s, ""));
        assert!(matches!(e(404), ImageDownloadError::NoAccess(_)));
        assert!(matches!(e(403), ImageDownloadError::NotDownloadable(_)));
        assert!(matches!(e(409), ImageDownloadError::NotReady(_)));
        assert!(matches!(e(401), ImageDownloadError::Api(_)));
    }
}
