//! Processing commands: estimates, creation, edits, polling, results and AOI files.

use super::dialogs::Picked;
use super::{Event, Worker};
use crate::api::{ApiError, ErrorKind, Page, Processing, ProcessingPageQuery, ProjectId};
use crate::app::files::FilePurpose;
use std::path::PathBuf;
use std::sync::Arc;

impl Worker {
    /// Polls the project's processings page while any is unfinished; a new watch replaces
    /// the old one, and polling stops by itself once everything is finished.
    pub(super) fn watch_processings(&mut self, project: ProjectId, query: ProcessingPageQuery) {
        if let Some(t) = self.processing_poll.take() {
            t.abort();
        }
        let Some(client) = self.client.clone() else {
            self.sink.send(Event::Processings { project, query, result: Err(not_signed_in()) });
            return;
        };
        let (sink, every) = (self.sink.clone(), self.config.processing_poll);
        self.processing_poll = Some(tokio::spawn(async move {
            loop {
                let result: Result<Page<Processing>, ApiError> = client.processings_page(&project, &query).await;
                let unfinished = match &result {
                    Ok(page) => page.results.iter().any(|p| !p.status.is_terminal()),
                    // A failed poll is shown, and polling goes on: the service may come back.
                    Err(e) => e.is_retryable(),
                };
                sink.send(Event::Processings { project: project.clone(), query: query.clone(), result });
                if !unfinished {
                    break;
                }
                tokio::time::sleep(every).await;
            }
        }));
    }

    /// Downloads a result and prepares it for drawing off the UI thread.
    pub(super) fn load_result(&self, id: crate::api::ProcessingId) {
        let Some(client) = self.client.clone() else {
            return self
                .sink
                .send(Event::ResultLoaded { id, result: Err(crate::app::messages::error_text(&not_signed_in())) });
        };
        let sink = self.sink.clone();
        tokio::spawn(async move {
            let result = match client.result_bytes(&id).await {
                Ok(bytes) => tokio::task::spawn_blocking(move || crate::results::load_result(&bytes))
                    .await
                    .map_err(|e| e.to_string())
                    .and_then(|r| r.map(Arc::new).map_err(|e| e.message())),
                Err(e) => Err(crate::app::messages::error_text(&e)),
            };
            sink.send(Event::ResultLoaded { id, result });
        });
    }

    /// Streams a result to `path` (atomically), asking for the path first when there is none.
    pub(super) fn save_result(&self, id: crate::api::ProcessingId, name: String, path: Option<PathBuf>) {
        let Some(client) = self.client.clone() else { return };
        let (sink, dialogs) = (self.sink.clone(), self.dialogs.clone());
        tokio::spawn(async move {
            let path = match path {
                Some(p) => p,
                None => {
                    let purpose = FilePurpose::SaveResult { id: id.clone(), name };
                    let suggested = purpose.suggested_name();
                    let native = || {
                        rfd::AsyncFileDialog::new()
                            .set_file_name(suggested)
                            .add_filter("GeoJSON", &["geojson", "json"])
                            .save_file()
                    };
                    match dialogs.pick(&sink, purpose, native).await {
                        Picked::Chosen(f) => f.path().to_owned(),
                        Picked::Dismissed | Picked::Builtin => return,
                    }
                }
            };
            let result =
                client.download_result(&id, &path, |_| {}).await.map_err(|e| crate::app::messages::error_text(&e));
            sink.send(Event::ResultSaved { id, path, result });
        });
    }

    /// Reads an AOI file (GeoJSON), asking for it first when there is no path.
    pub(super) fn import_aoi(&self, path: Option<PathBuf>) {
        let (sink, dialogs) = (self.sink.clone(), self.dialogs.clone());
        tokio::spawn(async move {
            let path = match path {
                Some(p) => p,
                None => {
                    let native = || {
                        rfd::AsyncFileDialog::new()
                            .add_filter("GeoJSON", &["geojson", "json"])
                            .add_filter(rust_i18n::t!("aoi.all_files"), &["*"])
                            .pick_file()
                    };
                    match dialogs.pick(&sink, FilePurpose::ImportAoi, native).await {
                        Picked::Chosen(f) => f.path().to_owned(),
                        Picked::Dismissed | Picked::Builtin => return,
                    }
                }
            };
            let result = read_aoi_file(&path).await;
            sink.send(Event::AoiImported { path, result });
        });
    }
}

/// The biggest AOI file read; anything larger is surely not an AOI.
const MAX_AOI_FILE: u64 = 64 * 1024 * 1024;

async fn read_aoi_file(path: &std::path::Path) -> Result<crate::geo::Aoi, String> {
    let meta = tokio::fs::metadata(path).await.map_err(|e| format!("{}: {e}", path.display()))?;
    if meta.len() > MAX_AOI_FILE {
        return Err(rust_i18n::t!("aoi.file_too_big", size = meta.len() / (1024 * 1024)).into_owned());
    }
    let bytes = tokio::fs::read(path).await.map_err(|e| format!("{}: {e}", path.display()))?;
    tokio::task::spawn_blocking(move || crate::geo::parse_geojson_bytes(&bytes).map_err(|e| e.message()))
        .await
        .map_err(|e| e.to_string())?
}

pub(super) fn not_signed_in() -> ApiError {
    ApiError::new(ErrorKind::InvalidArgument("not signed in".into()))
}
