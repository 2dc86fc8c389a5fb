//! Planned searches (search templates) in `AppState`: the open project's templates (polled
//! every 15 s while the user is inside one or while one is searching), the template the
//! user is inside (its AOIs with their processings, and the images it found), what is on
//! its way, and the one notice per template when new images arrive.

use super::remote::Remote;
use super::state::AppState;
use crate::api::{
    ApiError, CatalogImage, ProjectAction, ProjectId, Template, TemplateAoiInput, TemplateCreate, TemplateId,
    TemplateImagesPage, TemplateRun, TemplateSearchParams, TemplateWithResults,
};
use crate::worker::{Command, TemplateChange, TemplateCommand, TemplateEvent};
use rust_i18n::t;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often the templates are polled while the user is inside one or one is searching.
pub const TEMPLATE_POLL: Duration = Duration::from_secs(15);

#[derive(Debug)]
pub struct TemplatesState {
    /// The project the list is of; another open project starts afresh.
    pub project: Option<ProjectId>,
    /// The project's templates, short (no AOIs).
    pub list: Remote<Arc<Vec<Template>>>,
    /// The template the user is inside.
    pub inside: Option<TemplateId>,
    /// It in full: AOIs, their processings, what it found.
    pub open: Remote<Arc<TemplateWithResults>>,
    /// The processings started from it (the "no AOI" group are those no AOI lists).
    pub processings: Vec<crate::api::Processing>,
    /// Its AOIs as drawn on the map, with their names.
    pub map_aois: Vec<(crate::geo::Aoi, String)>,
    /// The first page of what it found, with the "new" marks.
    pub images: Remote<Arc<TemplateImagesPage>>,
    /// Found images picked to start a processing from.
    pub selected: BTreeSet<String>,
    /// The AOI of the template the processing is started over; its first when none.
    pub selected_aoi: Option<String>,
    /// The template a change is on its way for (its buttons wait for the answer).
    pub busy: Option<TemplateId>,
    /// Why the last change or start failed, shown in the pane.
    pub error: Option<String>,
    /// A create on its way.
    pub creating: bool,
    /// The new-image counts already announced, by template: a notice comes once per rise.
    pub announced: HashMap<TemplateId, i64>,
    /// When the list was last asked for.
    pub polled_at: Option<Instant>,
    /// How often to poll (15 s; tests shorten it).
    pub poll_every: Duration,
    /// The catalog search was refused as larger than `searchAreaLimit`: offer a planned search.
    pub offer_for_large_aoi: bool,
}

impl Default for TemplatesState {
    fn default() -> Self {
        Self {
            project: None,
            list: Remote::default(),
            inside: None,
            open: Remote::default(),
            processings: Vec::new(),
            map_aois: Vec::new(),
            images: Remote::default(),
            selected: BTreeSet::new(),
            selected_aoi: None,
            busy: None,
            error: None,
            creating: false,
            announced: HashMap::new(),
            polled_at: None,
            poll_every: TEMPLATE_POLL,
            offer_for_large_aoi: false,
        }
    }
}

impl TemplatesState {
    /// The template the user is inside, as last read in full.
    pub fn current(&self) -> Option<&Template> {
        self.open.value().map(|t| &t.template).filter(|t| Some(&t.id) == self.inside.as_ref())
    }

    /// A found image by id (from the page, else the template's results).
    pub fn image(&self, id: &str) -> Option<&CatalogImage> {
        let page = self.images.value().and_then(|p| p.results.iter().find(|r| r.id == id));
        let results = || self.open.value().and_then(|t| t.search_results.iter().find(|r| r.id == id));
        page.or_else(results).map(|r| &r.metadata)
    }
}

/// A template's status in words.
pub fn status_text(t: &Template) -> String {
    use crate::api::TemplateStatus as S;
    match &t.status {
        S::Searching => t!("templates.status_searching").into_owned(),
        S::Created => t!("templates.status_created").into_owned(),
        S::Updated => t!("templates.status_updated").into_owned(),
        S::Failed => t!("templates.status_failed").into_owned(),
        S::Inactive => t!("templates.status_inactive").into_owned(),
        S::Other(s) => s.clone(),
    }
}

/// An AOI's name, or "AOI n" (1-based) for an unnamed one.
pub fn aoi_label(aoi: &crate::api::AoiFeature, index: usize) -> String {
    match aoi.properties.name.as_deref().filter(|n| !n.trim().is_empty()) {
        Some(name) => name.to_owned(),
        None => t!("templates.unnamed_aoi", n = index + 1).into_owned(),
    }
}

impl AppState {
    /// Starts afresh when another project is open; returns the poll to send when one is
    /// due: the list every [`TemplatesState::poll_every`] while inside a template or while
    /// one searches (and once, when the project is first seen).
    pub fn templates_poll(&mut self, now: Instant) -> Option<Command> {
        let project = self.open_project_id().cloned();
        if project != self.templates.project {
            let poll_every = self.templates.poll_every;
            self.templates = TemplatesState { project: project.clone(), poll_every, ..TemplatesState::default() };
        }
        let project = project?;
        let searching = self.templates.list.value().is_some_and(|l| l.iter().any(Template::is_searching));
        let first = !self.templates.list.is_requested();
        let due = self.templates.polled_at.is_none_or(|at| now.duration_since(at) >= self.templates.poll_every);
        if self.templates.list.is_pending() || !(first || ((searching || self.templates.inside.is_some()) && due)) {
            return None;
        }
        Some(self.reload_templates(project, now))
    }

    fn reload_templates(&mut self, project: ProjectId, now: Instant) -> Command {
        self.templates.polled_at = Some(now);
        self.templates.list.start();
        Command::Templates(TemplateCommand::List { project })
    }

    /// Asks for the list now (the Refresh button), and the template the user is inside.
    pub fn refresh_templates(&mut self) -> Vec<Command> {
        let mut out = Vec::new();
        if let Some(project) = self.templates.project.clone() {
            out.push(self.reload_templates(project, Instant::now()));
        }
        if let Some(id) = self.templates.inside.clone() {
            out.extend(self.open_template(id));
        }
        out
    }

    /// Enters a template: reads it in full and its found images.
    pub fn open_template(&mut self, id: TemplateId) -> Vec<Command> {
        if self.templates.inside.as_ref() != Some(&id) {
            self.templates.busy = None;
            self.templates.open.reset();
            self.templates.images.reset();
            self.templates.selected.clear();
            self.templates.selected_aoi = None;
        }
        self.templates.inside = Some(id.clone());
        self.templates.error = None;
        self.templates.open.start();
        self.templates.images.start();
        vec![
            Command::Templates(TemplateCommand::Open { id: id.clone() }),
            Command::Templates(TemplateCommand::Images { id }),
        ]
    }

    /// Leaves the template (back to the list).
    pub fn leave_template(&mut self) {
        self.templates.inside = None;
        self.templates.processings.clear();
        self.templates.map_aois.clear();
        self.templates.open.reset();
        self.templates.images.reset();
        self.templates.selected.clear();
        self.templates.error = None;
        // A change still on its way is the left template's: no other template's buttons wait.
        self.templates.busy = None;
    }

    /// Why a planned search cannot be made over the current AOI, or `None`.
    pub fn template_refusal(&mut self) -> Option<String> {
        if let Some(reason) = self.refusal(ProjectAction::StartProcessing) {
            return Some(reason);
        }
        let limits = self.aoi_limits();
        let (aoi, _) = self.settings.aoi.checked(&limits);
        if aoi.is_empty() {
            return Some(t!("templates.no_aoi").into_owned());
        }
        let area = aoi.total_area_m2();
        let limit = self.status.value().and_then(|s| s.template_area_limit).filter(|l| *l > 0);
        if let Some(limit) = limit
            && area > limit as f64
        {
            return Some(
                t!(
                    "templates.too_large",
                    area = super::messages::km2_text(area),
                    limit = super::messages::km2_text(limit as f64)
                )
                .into_owned(),
            );
        }
        None
    }

    /// Creates a planned search named `name` over the current AOI with the catalog filters.
    pub fn create_template(&mut self, name: &str) -> Option<Command> {
        if let Some(reason) = self.template_refusal() {
            self.templates.error = Some(reason);
            return None;
        }
        let project = self.open_project_id()?.clone();
        let aoi = self.settings.aoi.aoi.clone();
        let geometry = serde_json::to_value(aoi.to_geometry()).ok()?;
        let query = self.settings.catalog.query(geometry.clone(), 0);
        let mut search_params = TemplateSearchParams::from_query(&query);
        search_params.aoi_details = Some(crate::api::AoiDetails::from_aois([(geometry, None)]));
        let name = if name.trim().is_empty() {
            t!("templates.default_name", time = chrono::Local::now().format("%Y-%m-%d %H:%M").to_string()).into_owned()
        } else {
            name.trim().to_owned()
        };
        self.templates.creating = true;
        self.templates.error = None;
        self.templates.offer_for_large_aoi = false;
        let create =
            TemplateCreate { name, search_params, processing_params: None, project_id: project, active_until: None };
        Some(Command::Templates(TemplateCommand::Create { create: Box::new(create) }))
    }

    /// A change to the template the user is inside (pause, AOIs, seen marks, …).
    pub fn change_template(&mut self, command: TemplateCommand) -> Command {
        self.templates.busy = self.templates.inside.clone();
        self.templates.error = None;
        Command::Templates(command)
    }

    /// Adds the current AOI to the template the user is inside, named `name`.
    pub fn add_aoi_to_template(&mut self, name: &str) -> Option<Command> {
        let id = self.templates.inside.clone()?;
        let aoi = self.settings.aoi.aoi.clone();
        if aoi.is_empty() {
            self.templates.error = Some(t!("templates.no_aoi").into_owned());
            return None;
        }
        let geometry = serde_json::to_value(aoi.to_geometry()).ok()?;
        let name = (!name.trim().is_empty()).then(|| name.trim().to_owned());
        Some(self.change_template(TemplateCommand::AddAoi { id, aoi: TemplateAoiInput { geometry, name } }))
    }

    /// Starts a processing from the picked images over the chosen AOI (the template's first
    /// when none), with the model and options of the New processing form.
    pub fn start_from_template(&mut self) -> Result<Command, String> {
        let template = self.templates.current().cloned().ok_or_else(|| t!("templates.enter_first").into_owned())?;
        let images: Vec<CatalogImage> =
            self.templates.selected.iter().filter_map(|id| self.templates.image(id)).cloned().collect();
        if images.is_empty() {
            return Err(t!("templates.select_images").into_owned());
        }
        let providers: BTreeSet<String> = images.iter().filter_map(|i| i.provider_name.clone()).collect();
        if providers.len() != 1 {
            return Err(t!("catalog.one_provider").into_owned());
        }
        let aoi = template
            .aois()
            .iter()
            .find(|a| a.id().is_some() && a.id() == self.templates.selected_aoi.as_deref())
            .or_else(|| template.aois().first())
            .ok_or_else(|| t!("templates.no_aois").into_owned())?;
        let aoi = crate::geo::parse_geojson(&aoi.geometry.to_string()).map_err(|e| e.to_string())?;
        let footprints: Vec<geo_types::Polygon<f64>> = images
            .iter()
            .filter_map(|i| i.footprint.as_ref())
            .filter_map(|f| crate::geo::parse_geojson(&f.to_string()).ok())
            .flat_map(|a| a.polygons)
            .collect();
        let covered = crate::geo::clip_to(&aoi, &footprints);
        if covered.is_empty() {
            return Err(t!("catalog.no_overlap").into_owned());
        }
        let models = self.models();
        let form = &self.settings.form;
        let model =
            form.model(&models).or_else(|| models.first()).ok_or_else(|| t!("templates.no_model").into_owned())?;
        // Scenes too coarse for the model would be charged and then fail, as from the catalog.
        let pixel_size = images.iter().filter_map(|i| i.pixel_resolution).reduce(f64::max);
        if let Some(why) = super::guards::coarse_imagery(model, pixel_size) {
            return Err(why);
        }
        let blocks = model
            .blocks
            .iter()
            .filter(|b| b.optional)
            .map(|b| crate::api::BlockToggle { name: b.name.clone(), enabled: form.enabled_blocks.contains(&b.name) })
            .collect();
        let date = images[0].acquisition_date.clone().unwrap_or_default();
        let name = if form.name.trim().is_empty() {
            format!("{}: {}", template.name, date.get(..10).unwrap_or(&date))
        } else {
            form.name.trim().to_owned()
        };
        let zoom = images.iter().filter_map(|i| i.zoom).min().and_then(|z| u8::try_from(z).ok());
        let run = TemplateRun {
            name,
            description: None,
            wd_name: None,
            wd_id: Some(model.id.clone()),
            geometry: serde_json::to_value(covered.to_geometry()).map_err(|e| e.to_string())?,
            params: crate::api::ProcessingParams {
                source_params: crate::api::SourceParams::ImagerySearch {
                    data_provider: providers.into_iter().next().unwrap_or_default(),
                    image_ids: images.iter().map(|i| i.id.clone()).collect(),
                    zoom,
                },
                inference_params: None,
            },
            meta: Some(crate::api::app_meta()),
            blocks,
            update_template_geometry: false,
        };
        Ok(self.change_template(TemplateCommand::Run { id: template.id, run: Box::new(run) }))
    }

    /// Announces new images once per template and rise of its count.
    fn announce_new_images(&mut self, templates: &[Template]) {
        for t in templates {
            let before = self.templates.announced.get(&t.id).copied();
            match before {
                // The first sight of a template sets what is known; a rise is announced.
                Some(known) if t.new_images_count > known => {
                    self.notify(t!("templates.new_images", name = t.name.clone(), count = t.new_images_count));
                }
                None if t.new_images_count > 0 && self.templates.list.value().is_some() => {
                    self.notify(t!("templates.new_images", name = t.name.clone(), count = t.new_images_count));
                }
                _ => {}
            }
            self.templates.announced.insert(t.id.clone(), t.new_images_count);
        }
    }

    fn template_failed(&mut self, e: &ApiError) {
        if e.is_unauthorized() {
            self.sign_in.open = true;
        }
        let text = super::messages::error_text(e);
        self.templates.error = Some(text.clone());
        self.notify_error(t!("templates.failed", reason = text));
    }

    /// Applies the answers of the planned-search calls; those for another project or a
    /// template the user has left are dropped.
    pub(super) fn apply_templates_event(&mut self, event: TemplateEvent) {
        match event {
            TemplateEvent::Listed { project, result } => {
                if self.templates.project.as_ref() != Some(&project) {
                    return;
                }
                if let Ok(list) = &result {
                    self.announce_new_images(list);
                    // A rise while inside a template: its images are read again (unless a
                    // read of it is already on its way).
                    if let Some(inside) = self.templates.inside.clone().filter(|_| !self.templates.open.is_pending()) {
                        let fresh =
                            list.iter().find(|t| t.id == inside).map(|t| (t.new_images_count, t.status.clone()));
                        let shown = self.templates.current().map(|t| (t.new_images_count, t.status.clone()));
                        if fresh.is_some() && fresh != shown {
                            let cmds = self.open_template(inside);
                            self.follow_up.extend(cmds);
                        }
                    }
                }
                self.templates.list.finish(result.map(Arc::new));
            }
            TemplateEvent::Opened { id, result } => {
                if self.templates.inside.as_ref() != Some(&id) {
                    return;
                }
                let result = result.map(|(template, processings)| {
                    self.templates.processings = processings;
                    self.templates.map_aois = template
                        .template
                        .aois()
                        .iter()
                        .enumerate()
                        // One entry per AOI, in its order, so the list can find an AOI's
                        // outline by its place (one that cannot be read draws nothing).
                        .map(|(n, a)| {
                            let aoi = crate::geo::parse_geojson(&a.geometry.to_string()).unwrap_or_default();
                            (aoi, aoi_label(a, n))
                        })
                        .collect();
                    Arc::new(template)
                });
                self.templates.open.finish(result);
            }
            TemplateEvent::Images { id, result } => {
                if self.templates.inside.as_ref() == Some(&id) {
                    if let Ok(page) = &result {
                        let ids: BTreeSet<&str> = page.results.iter().map(|r| r.id.as_str()).collect();
                        self.templates.selected.retain(|s| ids.contains(s.as_str()));
                    }
                    self.templates.images.finish(result.map(Arc::new));
                }
            }
            TemplateEvent::Created { name, result } => {
                self.templates.creating = false;
                match result {
                    Ok(created) => {
                        self.notify(t!("templates.created", name = name));
                        let project = created.template.project_id.clone();
                        if project.is_some() && project == self.templates.project {
                            self.templates.announced.insert(created.template.id.clone(), 0);
                            // Entered, and the list read again (the template itself is read
                            // by the entering, once).
                            let cmds = self.open_template(created.template.id.clone());
                            self.follow_up.extend(cmds);
                            if let Some(project) = project {
                                let cmd = self.reload_templates(project, Instant::now());
                                self.follow_up.push(cmd);
                            }
                        }
                    }
                    Err(e) => self.template_failed(&e),
                }
            }
            TemplateEvent::Changed { id, result } => {
                let inside = self.templates.inside.as_ref() == Some(&id);
                if self.templates.busy.as_ref() == Some(&id) {
                    self.templates.busy = None;
                }
                match result {
                    Ok(change) => {
                        match change {
                            TemplateChange::Deleted => {
                                self.notify(t!("templates.deleted"));
                                if inside {
                                    self.leave_template();
                                }
                            }
                            TemplateChange::Started(p) => {
                                self.notify(t!("templates.started", name = p.name.clone()));
                                self.templates.selected.clear();
                                if let Some(cmd) = self.watch_processings() {
                                    self.follow_up.push(cmd);
                                }
                            }
                            TemplateChange::AoiAdded(_) => self.notify(t!("templates.aoi_added")),
                            TemplateChange::Paused(_)
                            | TemplateChange::Resumed(_)
                            | TemplateChange::AoiRenamed(_)
                            | TemplateChange::AoiDeleted(_)
                            | TemplateChange::Seen(_)
                            | TemplateChange::SeenAll => {}
                        }
                        let cmds = self.refresh_templates();
                        self.follow_up.extend(cmds);
                    }
                    Err(e) if inside => self.template_failed(&e),
                    // About a template the user has left: said, not shown in another's pane.
                    Err(e) => self.notify_error(t!("templates.failed", reason = super::messages::error_text(&e))),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ProjectId;

    fn with_template(id: &str, project: &ProjectId) -> TemplateWithResults {
        TemplateWithResults {
            template: Template { id: TemplateId(id.into()), project_id: Some(project.clone()), ..Template::default() },
            search_results: Vec::new(),
        }
    }

    fn in_project() -> (AppState, ProjectId) {
        let project = ProjectId("p".into());
        let mut state = AppState::default();
        state.templates.project = Some(project.clone());
        (state, project)
    }

    #[test]
    fn a_change_answered_after_leaving_leaves_no_template_waiting() {
        let (mut state, _) = in_project();
        let _ = state.open_template(TemplateId("a".into()));
        let _ = state.change_template(TemplateCommand::Pause { id: TemplateId("a".into()) });
        assert!(state.templates.busy.is_some());
        state.leave_template();
        let _ = state.open_template(TemplateId("b".into()));
        assert!(state.templates.busy.is_none(), "b's buttons do not wait for a's pause");
        // A's answer, late and failed: said, not shown as b's error, and nothing waits.
        let refused = crate::api::ApiError::from_status(500, "");
        state.apply_templates_event(TemplateEvent::Changed { id: TemplateId("a".into()), result: Err(refused) });
        assert!(state.templates.busy.is_none() && state.templates.error.is_none());
        assert!(!state.notices.is_empty());
    }

    #[test]
    fn a_created_template_is_read_once_and_the_list_once() {
        let (mut state, project) = in_project();
        state.templates.creating = true;
        state.apply_templates_event(TemplateEvent::Created {
            name: "Fields".into(),
            result: Ok(with_template("t", &project)),
        });
        let count = |pick: fn(&TemplateCommand) -> bool| {
            state.follow_up.iter().filter(|c| matches!(c, Command::Templates(t) if pick(t))).count()
        };
        assert_eq!(count(|t| matches!(t, TemplateCommand::List { .. })), 1);
        assert_eq!(count(|t| matches!(t, TemplateCommand::Open { .. })), 1);
        assert_eq!(count(|t| matches!(t, TemplateCommand::Images { .. })), 1);
        // The list arriving while the template is still being read asks for nothing more.
        state.follow_up.clear();
        let listed = vec![Template { new_images_count: 3, ..with_template("t", &project).template }];
        state.apply_templates_event(TemplateEvent::Listed { project, result: Ok(listed) });
        assert!(state.follow_up.is_empty(), "{:?}", state.follow_up);
    }
}
