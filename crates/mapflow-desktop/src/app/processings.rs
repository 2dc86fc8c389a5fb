//! The processings half of `AppState`: the table, the form's cost, results and AOI files.

use super::state::AppState;
use crate::api::{ApiError, Processing, ProcessingId, ProcessingRequest, ProcessingStatus};
use crate::results::{DrawCache, ResultLayer, ResultStyle};
use crate::worker::{Command, Event};
use rust_i18n::t;
use std::sync::Arc;

/// A result on the map: loading, ready, or why it is not there (a sentence: the download's
/// error or the file's).
pub type ResultState = super::Remote<Arc<ResultLayer>, String>;

/// One processing's result layer with its display options and draw cache.
pub struct ResultView {
    pub state: ResultState,
    pub style: ResultStyle,
    pub cache: DrawCache,
    pub hovered: Option<usize>,
    /// Name shown in the layer list.
    pub name: String,
    /// The imagery the processing used, as an XYZ template drawn under the result.
    pub raster_url: Option<String>,
}

/// The id a local file's layer is kept under beside the results (never a processing's:
/// those are UUIDs).
pub fn local_layer_id(path: &std::path::Path) -> crate::api::ProcessingId {
    crate::api::ProcessingId(format!("{LOCAL_PREFIX}{}", path.display()))
}

const LOCAL_PREFIX: &str = "file:";

/// The file of a local layer's id, `None` for a processing's result.
pub fn local_layer_path(id: &crate::api::ProcessingId) -> Option<std::path::PathBuf> {
    id.0.strip_prefix(LOCAL_PREFIX).map(std::path::PathBuf::from)
}

impl ResultView {
    pub fn layer(&self) -> Option<&Arc<ResultLayer>> {
        self.state.value()
    }
}

impl AppState {
    /// Starts (or restarts) watching the open project's processings.
    pub fn watch_processings(&mut self) -> Option<Command> {
        let project = self.open_project_id()?.clone();
        self.processings.start();
        Some(Command::WatchProcessings { project, query: self.processing_query.clone() })
    }

    fn rewatch(&mut self) {
        if let Some(cmd) = self.watch_processings() {
            self.follow_up.push(cmd);
        }
    }

    /// The processing with `id` in the current page.
    pub fn processing(&self, id: &ProcessingId) -> Option<&Processing> {
        self.processings.value().and_then(|p| p.results.iter().find(|x| &x.id == id))
    }

    /// Asks for a cost estimate of `request` unless that exact request is already estimated.
    pub fn estimate(&mut self, request: ProcessingRequest) -> Option<Command> {
        if self.cost_request.as_ref() == Some(&request) {
            return None;
        }
        self.cost_request = Some(request.clone());
        self.cost.start();
        Some(Command::EstimateCost { request })
    }

    /// Shows the result of `id` on the map, loading it first; the map goes to it once loaded.
    pub fn show_result(&mut self, id: &ProcessingId) -> Option<Command> {
        self.zoom_on_load = Some(id.clone());
        let raster_url = self
            .processing(id)
            .and_then(|p| p.raster_layer.as_ref())
            .map(|r| r.tile_url.clone())
            .filter(|u| !u.is_empty());
        if let Some(view) = self.results.get_mut(id) {
            view.style.visible = true;
            // Its imagery comes back too if the user had removed that layer.
            if view.raster_url.is_none() {
                view.raster_url = raster_url;
            }
            if view.state.is_pending() {
                return None;
            }
            if view.state.error().is_none()
                && let Some(layer) = view.state.value()
            {
                self.zoom_request = layer.bbox();
                self.zoom_on_load = None;
                return None;
            }
            view.state.start();
        } else {
            let processing = self.processing(id);
            let name = processing.map(|p| p.name.clone()).unwrap_or_else(|| id.0.clone());
            let raster_url =
                processing.and_then(|p| p.raster_layer.as_ref()).map(|r| r.tile_url.clone()).filter(|u| !u.is_empty());
            self.results.insert(
                id.clone(),
                ResultView {
                    state: ResultState::pending(),
                    style: ResultStyle::default(),
                    cache: DrawCache::default(),
                    hovered: None,
                    name,
                    raster_url,
                },
            );
        }
        let version = self.processing(id).and_then(|p| p.updated.clone());
        Some(Command::LoadResult { id: id.clone(), version })
    }

    /// Applies the events about processings, results and AOI files.
    pub(super) fn apply_processing_event(&mut self, event: Event) {
        match event {
            Event::Processings { project, query, result, saved } => {
                if Some(&project) != self.open_project_id() || query != self.processing_query {
                    return;
                }
                if let Ok(page) = &result {
                    self.announce_changes(page.results.as_slice());
                }
                super::state::finish_list(&mut self.processings, &mut self.processings_saved_at, result, saved);
                self.take_first_look(&project);
            }
            Event::Cost { request, result } => {
                if self.cost_request.as_ref() == Some(&*request) {
                    self.cost.finish(result);
                }
            }
            Event::ProcessingCreated(result) => {
                self.creating = false;
                match result {
                    Ok(p) => {
                        self.notify(t!("processings.started", name = p.name));
                        self.created(&p);
                    }
                    Err(e) => self.create_error = Some(super::messages::error_text(&e)),
                }
            }
            Event::CreateUnanswered { request, since, error, found } => {
                self.creating = false;
                let reason = match &error.kind {
                    crate::api::ErrorKind::Timeout => t!("create.timeout").into_owned(),
                    crate::api::ErrorKind::Network(detail) => t!("create.lost", detail = detail).into_owned(),
                    _ => super::messages::error_text(&error),
                };
                match found {
                    Ok(Some(p)) => {
                        self.create_unsure = None;
                        self.create_error = None;
                        self.notify(t!("create.found", name = p.name));
                        self.created(&p);
                    }
                    Ok(None) => {
                        self.create_unsure = None;
                        self.create_error = Some(t!("create.not_made", name = request.name, reason = reason).into());
                    }
                    Err(check) => {
                        let check = super::messages::error_text(&check);
                        self.create_error =
                            Some(t!("create.unknown", name = request.name, reason = reason, check = check).into());
                        self.create_unsure = Some((*request, since));
                    }
                }
            }
            Event::ProcessingUpdated { id, result } => match result {
                Ok(p) => {
                    let moved = self.open_project_id().is_some_and(|open| &p.project_id != open);
                    self.notify(if moved {
                        t!("processings.moved", name = p.name)
                    } else {
                        t!("processings.updated", name = p.name)
                    });
                    if let Some(view) = self.results.get_mut(&id) {
                        view.name = p.name.clone();
                    }
                    self.rewatch();
                }
                Err(e) => self.notify_processing_error(&e),
            },
            Event::ProcessingDeleted { id, result } => match result {
                Ok(()) => {
                    self.notify(t!("processings.deleted"));
                    self.refresh_summary();
                    self.results.remove(&id);
                    if self.selected_processing.as_ref() == Some(&id) {
                        self.selected_processing = None;
                    }
                    self.rewatch();
                }
                Err(e) => self.notify_processing_error(&e),
            },
            Event::ProcessingRestarted { id, result } => match result {
                Ok(()) => {
                    self.notify(t!("processings.restarted"));
                    self.known_status.insert(id, ProcessingStatus::InProgress);
                    self.refresh_summary();
                    self.rewatch();
                }
                Err(e) => self.notify_processing_error(&e),
            },
            Event::ProcessingRated { id: _, result } => match result {
                Ok(()) => {
                    self.notify(t!("processings.rated"));
                    self.rewatch();
                }
                Err(e) => self.notify_processing_error(&e),
            },
            Event::ProcessingAois { id, result } => {
                if let Ok(aois) = &result {
                    let polygons = aois
                        .iter()
                        .filter_map(|a| a.geometry.as_ref())
                        .filter_map(|g| crate::geo::parse_geojson(&g.to_string()).ok())
                        .flat_map(|a| a.polygons)
                        .collect();
                    let aoi = crate::geo::Aoi { polygons };
                    self.zoom_request = aoi.bbox();
                    if self.duplicate_aoi_of.as_ref() == Some(&id) {
                        self.duplicate_aoi_of = None;
                        self.settings.aoi.replace(aoi);
                    } else {
                        self.processing_aois.insert(id, aoi);
                    }
                } else if let Err(e) = &result {
                    self.notify_processing_error(e);
                }
            }
            Event::ResultLoaded { id, result } => {
                let mut search_over = None;
                if let Some(view) = self.results.get_mut(&id) {
                    match result {
                        Ok(layer) => {
                            if view.style.visible && self.zoom_on_load.as_ref() == Some(&id) {
                                self.zoom_on_load = None;
                                self.zoom_request = layer.bbox();
                            }
                            // A first run also shows what the catalog has over that work.
                            if self.first_look_search.as_ref() == Some(&id) {
                                self.first_look_search = None;
                                search_over = layer.bbox();
                            }
                            view.state.finish(Ok(layer));
                        }
                        Err(e) => view.state.finish(Err(e)),
                    }
                }
                if let Some(bbox) = search_over
                    && let Some(cmd) = self.search_catalog_over(&crate::geo::Aoi::from_bbox(bbox), 0)
                {
                    self.follow_up.push(cmd);
                }
            }
            Event::ResultSaved { id: _, path, result } => match result {
                Ok(saved) => {
                    let size = format!("{:.1}", saved.bytes as f64 / 1_048_576.0);
                    let path = path.display().to_string();
                    match saved.features {
                        None => self.notify(t!("processings.saved", path = path, size = size)),
                        Some(count) => self.notify(t!(
                            "processings.saved_as",
                            path = path,
                            format = saved.format,
                            count = count,
                            size = size
                        )),
                    }
                    if saved.left_out > 0 {
                        self.notify(t!("processings.saved_left_out", count = saved.left_out));
                    }
                }
                Err(e) => self.notify_error(t!("processings.save_failed", reason = e)),
            },
            Event::LayerOpened { path, result } => match result {
                Ok(layer) => {
                    let id = local_layer_id(&path);
                    self.zoom_request = layer.bbox();
                    self.notify(t!("layers.opened", file = file_name(&path), n = layer.feature_count()));
                    self.results.insert(
                        id,
                        ResultView {
                            state: ResultState::ready(layer),
                            style: ResultStyle::default(),
                            cache: DrawCache::default(),
                            hovered: None,
                            name: file_name(&path),
                            raster_url: None,
                        },
                    );
                }
                Err(e) => self.notify_error(t!("layers.open_failed", file = file_name(&path), reason = e)),
            },
            Event::AoiImported { path, result } => match result {
                Ok(aoi) => {
                    self.aoi_import_error = None;
                    self.zoom_request = aoi.bbox();
                    self.settings.aoi.replace(aoi);
                    self.notify(t!("aoi.imported", file = file_name(&path)));
                }
                Err(e) => {
                    self.aoi_import_error =
                        Some(t!("aoi.import_failed", file = file_name(&path), reason = e).into_owned());
                }
            },
            other => tracing::error!("event not handled here: {other:?}"),
        }
    }

    /// A processing was created: select it, clear the form's name, follow it.
    fn created(&mut self, p: &Processing) {
        self.known_status.insert(p.id.clone(), p.status.clone());
        self.selected_processing = Some(p.id.clone());
        self.settings.form.name.clear();
        self.cost_request = None;
        self.refresh_summary();
        self.rewatch();
    }

    /// On a first run, selects the newest finished processing of the project that opened by
    /// itself and shows its result (the map zooms to it), unless the user chose one already.
    fn take_first_look(&mut self, project: &crate::api::ProjectId) {
        if self.first_look.as_ref() != Some(project) {
            return;
        }
        self.first_look = None;
        if self.selected_processing.is_some() {
            return;
        }
        let newest = self.processings.value().and_then(|page| {
            page.results.iter().filter(|p| p.status == ProcessingStatus::Ok).max_by(|a, b| a.created.cmp(&b.created))
        });
        if let Some(id) = newest.map(|p| p.id.clone()) {
            self.selected_processing = Some(id.clone());
            if self.settings.catalog_last.is_none() {
                self.first_look_search = Some(id.clone());
            }
            if let Some(cmd) = self.show_result(&id) {
                self.follow_up.push(cmd);
            }
        }
    }

    /// The open project's counts and the balance change with every start, finish, failure,
    /// restart, deletion and refund: ask for both again.
    pub(super) fn refresh_summary(&mut self) {
        self.follow_up.push(Command::RefreshStatus);
        if let Some(id) = self.open_project_id().cloned() {
            let cmd = self.open_project_command(id);
            self.follow_up.push(cmd);
        }
    }

    /// Tells the user, once, that a processing finished or failed, and refreshes the summary.
    fn announce_changes(&mut self, processings: &[Processing]) {
        let mut ended = false;
        for p in processings {
            let before = self.known_status.insert(p.id.clone(), p.status.clone());
            let was_running = before.as_ref().is_some_and(|s| !s.is_terminal());
            if was_running && p.status.is_terminal() {
                ended = true;
                match p.status {
                    ProcessingStatus::Ok => self.notify(t!("processings.finished", name = p.name)),
                    ProcessingStatus::Failed => self.notify_error(t!("processings.failed", name = p.name)),
                    _ => self.notify(t!("processings.ended", name = p.name, status = p.status.as_str())),
                }
            }
        }
        if ended {
            self.refresh_summary();
        }
    }

    fn notify_processing_error(&mut self, error: &ApiError) {
        if error.is_unauthorized() {
            self.sign_in.open = true;
        }
        self.notify_error(super::messages::error_text(error));
    }
}

fn file_name(path: &std::path::Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string())
}
