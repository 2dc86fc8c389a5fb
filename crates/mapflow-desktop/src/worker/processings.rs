//! Processing commands: estimates, creation, edits, polling, results and AOI files.

use super::files::FilePurpose;
use super::{Event, SavedResult, Worker};
use crate::api::{ApiError, ErrorKind, Page, Processing, ProcessingPageQuery, ProcessingRequest, ProjectId};
use chrono::{DateTime, Utc};
use std::path::PathBuf;
use std::sync::Arc;

/// How long after an unanswered create the server is asked what it made.
const LOOK_AFTER: std::time::Duration = std::time::Duration::from_secs(3);

/// How far before the request a processing it made may be dated (clocks differ).
const CLOCK_SLACK_SECS: i64 = 120;

/// Whether `p` is what `request` would have created, sent at `since`: same project and
/// name, created since then, and (when both are known) the same area within 2 %.
pub fn made_by(p: &Processing, request: &ProcessingRequest, since: DateTime<Utc>) -> bool {
    let created = p
        .created
        .as_deref()
        .and_then(crate::api::parse_api_time)
        .is_some_and(|t| t >= since - chrono::Duration::seconds(CLOCK_SLACK_SECS));
    let area = request
        .geometry
        .as_ref()
        .and_then(|g| crate::geo::parse_geojson(&g.to_string()).ok())
        .map(|a| a.total_area_m2());
    let same_area = match area {
        Some(a) if p.aoi_area > 0 => (p.aoi_area as f64 - a).abs() <= a * 0.02 + 1.0,
        _ => true,
    };
    p.project_id == request.project_id && p.name == request.name && created && same_area
}

/// How many pages of a name search are read at most when looking for a create.
const LOOK_PAGES: usize = 10;

/// The processing `request` made since `since`, if the server has one: the project's
/// processings whose name contains it (so "Block 1" also lists "Block 10"…), newest first,
/// page after page until they are older than the request could have made.
pub(super) async fn look_for_created(
    client: &crate::api::Client,
    request: &ProcessingRequest,
    since: DateTime<Utc>,
) -> Result<Option<Processing>, ApiError> {
    const PAGE: i64 = 50;
    let oldest = since - chrono::Duration::seconds(CLOCK_SLACK_SECS);
    for page_no in 0..LOOK_PAGES {
        let query = ProcessingPageQuery {
            limit: PAGE,
            offset: page_no as i64 * PAGE,
            terms: Some(request.name.clone()),
            sort_by: Some(crate::api::ProcessingSortBy::Created),
            sort_order: Some(crate::api::SortOrder::Desc),
        };
        let page = client.processings_page(&request.project_id, &query).await?;
        if let Some(found) = page.results.iter().find(|p| made_by(p, request, since)) {
            return Ok(Some(found.clone()));
        }
        let older = page
            .results
            .last()
            .and_then(|p| p.created.as_deref().and_then(crate::api::parse_api_time))
            .is_some_and(|t| t < oldest);
        if page.results.len() < PAGE as usize || older || (page_no as i64 + 1) * PAGE >= page.total {
            break;
        }
    }
    Ok(None)
}

/// What came of one create.
pub(super) enum CreateOutcome {
    Created(Processing),
    /// The server answered with this error: nothing was made.
    Refused(ApiError),
    /// No answer came (`error`); `found` is what the server made anyway, or why that could
    /// not be checked.
    Unanswered {
        error: ApiError,
        found: Result<Option<Processing>, ApiError>,
    },
}

/// Sends a create once, sent at `since`. When no answer comes (a timeout, a lost connection)
/// the server may still have made it and charged for it: it is looked for before anyone is
/// offered to send it again.
pub(super) async fn create_or_find(
    client: &crate::api::Client,
    request: &ProcessingRequest,
    since: DateTime<Utc>,
) -> CreateOutcome {
    match client.create_processing(request).await {
        Ok(p) => CreateOutcome::Created(p),
        Err(error) if unanswered(&error) => {
            // A request still on its way in is given a moment to land before looking.
            tokio::time::sleep(LOOK_AFTER.mul_f64(client.timeout_scale())).await;
            let mut found = look_for_created(client, request, since).await;
            // Not there yet may mean still on its way: "not made" only after a
            // second look, once a create could no longer be running.
            if matches!(found, Ok(None)) {
                tokio::time::sleep(crate::api::client::timeouts::CREATE.mul_f64(client.timeout_scale())).await;
                found = look_for_created(client, request, since).await;
            }
            CreateOutcome::Unanswered { error, found }
        }
        Err(error) => CreateOutcome::Refused(error),
    }
}

impl Worker {
    /// Creates a processing, sent once. When no answer comes (a timeout, a lost connection)
    /// the server may still have made it and charged for it: the app looks before anyone
    /// is offered to send it again.
    pub(super) fn create_processing(&self, request: ProcessingRequest) {
        let sink = self.sink.clone();
        let Some(client) = self.client.clone() else {
            sink.send(Event::ProcessingCreated(Err(not_signed_in())));
            return;
        };
        tokio::spawn(async move {
            let since = Utc::now();
            match create_or_find(&client, &request, since).await {
                CreateOutcome::Created(p) => sink.send(Event::ProcessingCreated(Ok(p))),
                CreateOutcome::Refused(e) => sink.send(Event::ProcessingCreated(Err(e))),
                CreateOutcome::Unanswered { error, found } => {
                    sink.send(Event::CreateUnanswered { request: Box::new(request), since, error, found });
                }
            }
        });
    }

    /// Looks again for what an unanswered create may have made.
    pub(super) fn find_created(&self, request: ProcessingRequest, since: DateTime<Utc>) {
        let sink = self.sink.clone();
        let client = self.client.clone();
        tokio::spawn(async move {
            let found = match &client {
                Some(c) => look_for_created(c, &request, since).await,
                None => Err(not_signed_in()),
            };
            let error = ApiError::new(ErrorKind::Timeout);
            sink.send(Event::CreateUnanswered { request: Box::new(request), since, error, found });
        });
    }

    /// Polls the project's processings page while any is unfinished; a new watch replaces
    /// the old one, and polling stops by itself once everything is finished.
    pub(super) fn watch_processings(&mut self, project: ProjectId, query: ProcessingPageQuery) {
        if let Some(t) = self.processing_poll.take() {
            t.abort();
        }
        let Some(client) = self.client.clone() else {
            self.sink.send(Event::Processings { project, query, result: Err(not_signed_in()), saved: None });
            return;
        };
        let (sink, every, lists) = (self.sink.clone(), self.config.processing_poll, self.lists.clone());
        self.processing_poll = Some(tokio::spawn(async move {
            let list = super::lists::List::Processings(project.clone());
            loop {
                let result: Result<Page<Processing>, ApiError> = client.processings_page(&project, &query).await;
                let unfinished = match &result {
                    Ok(page) => page.results.iter().any(|p| !p.status.is_terminal()),
                    // A failed poll is shown, and polling goes on: the service may come back.
                    Err(e) => e.is_retryable(),
                };
                let saved = super::lists::keep_or_recall(lists.clone(), &client, list.clone(), &result).await;
                sink.send(Event::Processings { project: project.clone(), query: query.clone(), result, saved });
                if !unfinished {
                    break;
                }
                tokio::time::sleep(every).await;
            }
        }));
    }

    /// Runs `job` on the cache off the worker's loop, then reports its size.
    pub(super) fn cache_job(&self, job: impl FnOnce(&super::cache::ResultCache) + Send + 'static) {
        let (sink, cache) = (self.sink.clone(), self.cache.clone());
        tokio::task::spawn_blocking(move || {
            let size = cache.map(|c| {
                job(&c);
                c.size()
            });
            sink.send(Event::CacheSize(size));
        });
    }

    /// Prepares a result for drawing off the UI thread: from the cache when it is there (no
    /// connection needed), else downloaded and kept in the cache.
    pub(super) fn load_result(&self, id: crate::api::ProcessingId, version: Option<String>) {
        let Some(client) = self.client.clone() else {
            return self
                .sink
                .send(Event::ResultLoaded { id, result: Err(crate::messages::error_text(&not_signed_in())) });
        };
        let (sink, cache) = (self.sink.clone(), self.cache.clone());
        tokio::spawn(async move {
            let server = client.base_url().to_owned();
            let key = super::cache::entry_key(&id.0, version.as_deref());
            let cached = match cache.clone() {
                Some(c) => {
                    let (s, k) = (server.clone(), key.clone());
                    tokio::task::spawn_blocking(move || c.lookup(&s, &k)).await.ok().flatten()
                }
                None => None,
            };
            // A cached copy that does not load (a damaged file) is dropped and fetched again.
            if let Some(path) = cached {
                let loaded = tokio::task::spawn_blocking(move || crate::results::load_result_file(&path)).await;
                if let Ok(Ok(layer)) = loaded {
                    return sink.send(Event::ResultLoaded { id, result: Ok(Arc::new(layer)) });
                }
                if let Some(c) = cache.clone() {
                    let (s, k) = (server.clone(), key.clone());
                    tokio::task::spawn_blocking(move || c.remove(&s, &k));
                }
            }
            // Streamed into the cache and read from there: never held whole in memory.
            let slot = match cache.clone() {
                Some(c) => {
                    let (s, k) = (server.clone(), key.clone());
                    match tokio::task::spawn_blocking(move || c.slot(&s, &k)).await {
                        Ok(Ok(path)) => Some(path),
                        Ok(Err(e)) => {
                            tracing::warn!("the result cache cannot keep a result: {e}");
                            None
                        }
                        Err(_) => None,
                    }
                }
                None => None,
            };
            let result = match (slot, cache) {
                (Some(path), Some(c)) => match client.download_result(&id, &path, |_| {}).await {
                    Ok(_) => tokio::task::spawn_blocking(move || {
                        let loaded = crate::results::load_result_file(&path);
                        c.trim();
                        loaded
                    })
                    .await
                    .map_err(|e| e.to_string())
                    .and_then(|r| r.map(Arc::new).map_err(|e| e.message())),
                    Err(e) => Err(crate::messages::error_text(&e)),
                },
                _ => match client.result_bytes(&id).await {
                    Ok(bytes) => tokio::task::spawn_blocking(move || crate::results::load_result(&bytes))
                        .await
                        .map_err(|e| e.to_string())
                        .and_then(|r| r.map(Arc::new).map_err(|e| e.message())),
                    Err(e) => Err(crate::messages::error_text(&e)),
                },
            };
            sink.send(Event::ResultLoaded { id, result });
        });
    }

    /// Streams a result to `path` (atomically), asking for the path first when there is none.
    pub(super) fn save_result(&self, id: crate::api::ProcessingId, name: String, path: Option<PathBuf>) {
        let Some(client) = self.client.clone() else { return };
        let (sink, dialogs) = (self.sink.clone(), self.dialogs.clone());
        let layer = crate::export::layer_name(&name);
        tokio::spawn(async move {
            let purpose = FilePurpose::SaveResult { id: id.clone(), name };
            let Some(path) = dialogs.path(&sink, path, purpose).await else { return };
            let result = save_as(&client, &id, &layer, &path).await;
            sink.send(Event::ResultSaved { id, path, result });
        });
    }

    /// Writes selected features of a layer to `path` (atomically), asking for it first when
    /// there is none.
    pub(super) fn save_selection(
        &self,
        id: crate::api::ProcessingId,
        name: String,
        features: crate::results::table::SelectedFeatures,
        path: Option<PathBuf>,
    ) {
        let (sink, dialogs) = (self.sink.clone(), self.dialogs.clone());
        tokio::spawn(async move {
            let layer_name = crate::export::layer_name(&name);
            let purpose = FilePurpose::SaveSelection { id: id.clone(), name, features: features.clone() };
            let Some(path) = dialogs.path(&sink, path, purpose).await else { return };
            let out = path.clone();
            let result = tokio::task::spawn_blocking(move || {
                let dataset =
                    crate::export::Dataset::from_layer(&features.layer, features.features.as_slice(), &layer_name);
                write_dataset(&dataset, &out)
            })
            .await
            .map_err(|e| e.to_string())
            .and_then(|r| r);
            sink.send(Event::ResultSaved { id, path, result });
        });
    }

    /// Writes GeoJSON features to `path` in the format its extension names (atomically),
    /// asking for it first when there is none.
    pub(super) fn save_geojson(&self, name: String, geojson: crate::export::GeoJsonText, path: Option<PathBuf>) {
        let (sink, dialogs) = (self.sink.clone(), self.dialogs.clone());
        tokio::spawn(async move {
            let layer_name = crate::export::layer_name(&name);
            let purpose = FilePurpose::SaveGeoJson { name, geojson: geojson.clone() };
            let Some(path) = dialogs.path(&sink, path, purpose).await else { return };
            let out = path.clone();
            let result = tokio::task::spawn_blocking(move || {
                let dataset = crate::export::Dataset::from_geojson(geojson.0.as_bytes(), &layer_name)
                    .map_err(|e| e.to_string())?;
                write_dataset(&dataset, &out)
            })
            .await
            .map_err(|e| e.to_string())
            .and_then(|r| r);
            sink.send(Event::ResultSaved { id: crate::api::ProcessingId::default(), path, result });
        });
    }

    /// Writes the history as the server's CSV to `path` (atomically), asking for the path
    /// first when there is none.
    pub(super) fn save_history(&self, filter: Option<String>, path: Option<PathBuf>) {
        let Some(client) = self.client.clone() else { return };
        let (sink, dialogs) = (self.sink.clone(), self.dialogs.clone());
        tokio::spawn(async move {
            let purpose = FilePurpose::SaveHistory { filter: filter.clone() };
            let Some(path) = dialogs.path(&sink, path, purpose).await else { return };
            let result = match client.processing_history_csv(filter.as_deref()).await {
                Ok(csv) => {
                    let target = path.clone();
                    tokio::task::spawn_blocking(move || write_atomically(&target, csv.as_bytes()))
                        .await
                        .map_err(|e| e.to_string())
                        .and_then(|r| r.map_err(|e| format!("{}: {e}", path.display())))
                }
                Err(e) => Err(crate::messages::error_text(&e)),
            };
            sink.send(Event::HistorySaved { path, result });
        });
    }

    /// Reads a local GIS file into a drawable layer, asking for it first when there is no path.
    pub(super) fn open_layer(&self, path: Option<PathBuf>) {
        let (sink, dialogs) = (self.sink.clone(), self.dialogs.clone());
        tokio::spawn(async move {
            let Some(path) = dialogs.path(&sink, path, FilePurpose::OpenLayer).await else { return };
            let file = path.clone();
            let result = tokio::task::spawn_blocking(move || {
                let bytes = crate::export::read::to_geojson(&file).map_err(|e| format!("{}: {e}", file.display()))?;
                crate::results::load_result(&bytes).map(Arc::new).map_err(|e| e.message())
            })
            .await
            .map_err(|e| e.to_string())
            .and_then(|r| r);
            sink.send(Event::LayerOpened { path, result });
        });
    }

    /// Reads an AOI file (GeoJSON), asking for it first when there is no path.
    pub(super) fn import_aoi(&self, path: Option<PathBuf>) {
        let (sink, dialogs) = (self.sink.clone(), self.dialogs.clone());
        tokio::spawn(async move {
            let Some(path) = dialogs.path(&sink, path, FilePurpose::ImportAoi).await else { return };
            let result = read_aoi_file(&path).await;
            sink.send(Event::AoiImported { path, result });
        });
    }
}

/// Saves result `id` to `path` in the format its extension names: a GeoJSON is streamed
/// to it as the server sends it; another format is converted from a download kept in a
/// temporary file beside it.
pub async fn save_as(
    client: &crate::api::Client,
    id: &crate::api::ProcessingId,
    layer: &str,
    path: &std::path::Path,
) -> Result<SavedResult, String> {
    use crate::export::Format;
    let format = Format::from_path(path).unwrap_or(Format::GeoJson);
    if format == Format::GeoJson {
        let bytes = client.download_result(id, path, |_| {}).await.map_err(|e| crate::messages::error_text(&e))?;
        return Ok(SavedResult { format: format.name(), bytes, features: None, left_out: 0 });
    }
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    let download = tempfile::Builder::new()
        .prefix(".mapflow-result-")
        .suffix(".geojson")
        .tempfile_in(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .into_temp_path();
    client.download_result(id, &download, |_| {}).await.map_err(|e| crate::messages::error_text(&e))?;
    let (layer, out) = (layer.to_owned(), path.to_owned());
    let written = tokio::task::spawn_blocking(move || {
        let written = crate::export::convert_file(&download, &layer, Some(format), &out);
        drop(download);
        written
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| e.to_string())?;
    let bytes = written.files.iter().filter_map(|f| std::fs::metadata(f).ok()).map(|m| m.len()).sum();
    Ok(SavedResult { format: format.name(), bytes, features: Some(written.features), left_out: written.left_out })
}

/// Writes `dataset` to `path` in the format its extension names (GeoJSON for another).
fn write_dataset(dataset: &crate::export::Dataset, path: &std::path::Path) -> Result<SavedResult, String> {
    use crate::export::Format;
    let format = Format::from_path(path).unwrap_or(Format::GeoJson);
    let written = crate::export::write(dataset, format, path).map_err(|e| e.to_string())?;
    let bytes = written.files.iter().filter_map(|f| std::fs::metadata(f).ok()).map(|m| m.len()).sum();
    Ok(SavedResult { format: format.name(), bytes, features: Some(written.features), left_out: written.left_out })
}

/// Writes `bytes` to `path` through a temporary file beside it; the bytes written.
fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<u64> {
    use std::io::Write as _;
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    let mut tmp = tempfile::Builder::new().prefix(".mapflow-").suffix(".tmp").tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(bytes.len() as u64)
}

/// The biggest AOI file read; anything larger is surely not an AOI.
const MAX_AOI_FILE: u64 = 64 * 1024 * 1024;

async fn read_aoi_file(path: &std::path::Path) -> Result<crate::geo::Aoi, String> {
    let meta = tokio::fs::metadata(path).await.map_err(|e| format!("{}: {e}", path.display()))?;
    if meta.len() > MAX_AOI_FILE {
        return Err(rust_i18n::t!("aoi.file_too_big", size = meta.len() / (1024 * 1024)).into_owned());
    }
    let file = path.to_owned();
    // GeoJSON as it is; a GeoPackage, FlatGeobuf or Shapefile through its reader.
    let bytes = match crate::export::Format::from_path(path) {
        Some(crate::export::Format::GeoJson) | None => {
            tokio::fs::read(path).await.map_err(|e| format!("{}: {e}", path.display()))?
        }
        Some(_) => tokio::task::spawn_blocking(move || crate::export::read::to_geojson(&file))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| format!("{}: {e}", path.display()))?,
    };
    tokio::task::spawn_blocking(move || crate::geo::parse_geojson_bytes(&bytes).map_err(|e| e.message()))
        .await
        .map_err(|e| e.to_string())?
}

pub(super) fn not_signed_in() -> ApiError {
    ApiError::new(ErrorKind::InvalidArgument("not signed in".into()))
}

/// A failure after which the request may still have reached the server and been done.
fn unanswered(error: &ApiError) -> bool {
    error.is_unreachable()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ProcessingParams;

    fn request(bbox: [f64; 4]) -> ProcessingRequest {
        let aoi = crate::geo::Aoi::from_bbox(bbox);
        ProcessingRequest {
            name: "Run".into(),
            description: None,
            project_id: ProjectId("p".into()),
            wd_id: None,
            wd_name: None,
            geometry: Some(serde_json::to_value(aoi.to_geometry()).unwrap()),
            area_sq_km: None,
            params: ProcessingParams {
                source_params: crate::api::SourceParams::DataProvider { provider_name: "Mapbox".into(), zoom: None },
                inference_params: None,
            },
            blocks: Vec::new(),
            meta: None,
        }
    }

    #[test]
    fn only_a_run_of_this_request_since_it_was_sent_is_adopted() {
        let bbox = [37.6, 55.75, 37.61, 55.756];
        let req = request(bbox);
        let area = crate::geo::Aoi::from_bbox(bbox).total_area_m2() as i64;
        let since = Utc::now();
        let p = Processing {
            name: "Run".into(),
            project_id: ProjectId("p".into()),
            aoi_area: area,
            created: Some(since.to_rfc3339()),
            ..Processing::default()
        };
        assert!(made_by(&p, &req, since));
        assert!(!made_by(&Processing { name: "Other".into(), ..p.clone() }, &req, since));
        assert!(!made_by(&Processing { project_id: ProjectId("q".into()), ..p.clone() }, &req, since));
        assert!(!made_by(&Processing { aoi_area: area * 2, ..p.clone() }, &req, since));
        let old = (since - chrono::Duration::hours(1)).to_rfc3339();
        assert!(
            !made_by(&Processing { created: Some(old), ..p.clone() }, &req, since),
            "an older run of the same name"
        );
        assert!(!made_by(&Processing { created: None, ..p }, &req, since));
    }
}
