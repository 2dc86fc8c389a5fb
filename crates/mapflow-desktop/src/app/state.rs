//! `AppState`: everything the UI draws, and the one place events change it.

use super::processings::ResultView;
use super::remote::Remote;
use super::settings::Settings;
use crate::api::{
    ApiError, Page, Processing, ProcessingId, ProcessingPageQuery, ProcessingRequest, ProcessingStatus, Project,
    ProjectId, ProjectPageQuery, UserStatus,
};
use crate::app::credentials::StoreLocation;
use crate::worker::{Command, Event, Saved, Session, SessionEpoch, Stamped};
use std::collections::{BTreeMap, HashMap};
use std::time::SystemTime;

/// A message for the user: a toast for a while (an error until dismissed), and a line of the
/// session's notification history.
#[derive(Debug, Clone)]
pub struct Notice {
    pub text: String,
    pub is_error: bool,
    /// When it was raised; a success's toast fades a few seconds later.
    pub at: std::time::Instant,
    /// The toast was closed (the notice stays in the history).
    pub dismissed: bool,
    /// How many times in a row it was raised.
    pub repeats: u32,
}

impl Notice {
    pub fn new(text: impl Into<String>, is_error: bool) -> Self {
        Self { text: text.into(), is_error, at: std::time::Instant::now(), dismissed: false, repeats: 1 }
    }

    /// Whether its toast is on screen, given how long successes stay.
    pub fn is_toast(&self, success_lasts: std::time::Duration) -> bool {
        !self.dismissed && (self.is_error || self.at.elapsed() < success_lasts)
    }
}

/// The sign-in dialog's fields.
#[derive(Debug, Clone, Default)]
pub struct SignInForm {
    pub open: bool,
    pub server: String,
    pub token: String,
    pub remember: bool,
    pub pending: bool,
    /// Why the last attempt failed, in the user's language.
    pub error: Option<String>,
}

/// Plain data drawn by the UI. Remote values change only in [`AppState::apply`].
#[derive(Default)]
pub struct AppState {
    pub settings: Settings,
    pub session: Option<Session>,
    /// The worker's number of the session shown: events stamped with an earlier one are
    /// answers for another server or account, dropped by [`Self::receive`].
    session_epoch: SessionEpoch,
    /// Set while the first session is being established.
    pub connecting: bool,
    pub status: Remote<UserStatus>,
    pub projects: Remote<Page<Project>>,
    /// The projects shown are the list saved then: the server could not be reached.
    /// `None` while they are the server's answer.
    pub projects_saved_at: Option<SystemTime>,
    pub project_query: ProjectPageQuery,
    pub open_project: Remote<Project>,
    /// The project asked for last; answers for any other are stale.
    pub opening_project: Option<ProjectId>,
    /// The serial of the last `Command::OpenProject`: only its answer is applied (a late one
    /// for an earlier click, or from the previous session, is dropped).
    pub open_serial: u64,
    pub sign_in: SignInForm,
    pub credentials: Option<Result<StoreLocation, String>>,
    pub notices: Vec<Notice>,
    /// Commands produced while applying events (follow-up loads), sent by the app.
    pub follow_up: Vec<Command>,
    /// The open project's processings, polled while any is unfinished.
    pub processings: Remote<Page<Processing>>,
    /// The processings shown are the list saved then: the server could not be reached.
    pub processings_saved_at: Option<SystemTime>,
    pub processing_query: ProcessingPageQuery,
    pub selected_processing: Option<ProcessingId>,
    /// The estimate of the request last sent for estimation.
    pub cost: Remote<f64>,
    pub cost_request: Option<ProcessingRequest>,
    /// A create request is on its way.
    pub creating: bool,
    /// Why the last start failed, shown in the form.
    pub create_error: Option<String>,
    /// A start that got no answer and could not be checked: sending it again could make and
    /// charge a second run, so Start waits until a check finds it or finds it absent.
    pub create_unsure: Option<(ProcessingRequest, chrono::DateTime<chrono::Utc>)>,
    /// The name of a project whose create failed, for the projects pane to put back in its
    /// field.
    pub unsent_project_name: Option<String>,
    /// Whether the session's server answers, shown in the top bar.
    pub reach: Option<crate::api::Reach>,
    /// Result layers on the map, by processing.
    pub results: BTreeMap<ProcessingId, ResultView>,
    /// The AOIs of processings the user asked to see.
    pub processing_aois: BTreeMap<ProcessingId, crate::geo::Aoi>,
    /// Last known status of each processing, to announce finishes once.
    pub known_status: HashMap<ProcessingId, ProcessingStatus>,
    /// Why the last AOI file was refused (the AOI itself is untouched).
    pub aoi_import_error: Option<String>,
    /// A lon/lat bbox the map should zoom to on its next frame.
    pub zoom_request: Option<[f64; 4]>,
    /// The processing whose AOI becomes the draft once loaded (a duplicate).
    pub duplicate_aoi_of: Option<ProcessingId>,
    /// The imagery catalog search.
    pub catalog: super::catalog::CatalogState,
    /// Bytes the result cache holds, as last reported (`None` before a report, or with no cache).
    pub cache_size: Option<u64>,
    /// The processing history (the History pane).
    pub history: super::history::HistoryState,
    /// The user's own imagery.
    pub imagery: super::imagery::ImageryState,
    /// The map's layers in the user's order.
    pub layers: super::layers::LayerList,
    /// The built-in file chooser's request and folder.
    pub files: super::files::FilesState,
    /// Why the form changed a value by itself (a zoom the model cannot use), shown beside it.
    pub form_note: Option<String>,
    /// The model and source `form_note` is about.
    pub form_note_about: Option<(Option<crate::api::WorkflowDefId>, super::form::SourceKind)>,
    /// On a first run, the project opened by itself: its newest result is shown once its
    /// processings arrive.
    pub first_look: Option<ProjectId>,
    /// On a first run, the processing whose result, once loaded, the catalog is searched over.
    pub first_look_search: Option<ProcessingId>,
    /// The result the map goes to once it has loaded; dropped when the user opens another
    /// project before then.
    pub zoom_on_load: Option<ProcessingId>,
    /// No project was saved from a last run: the first to open is the one with most results.
    pub first_run: bool,
    /// Review decisions and project shares on their way, and their outcomes.
    pub review: super::review::ReviewState,
    /// A batch of processings from a file: its plan, its progress, the unfinished ones found.
    pub batch: super::batch::BatchState,
    /// Planned searches (search templates) of the open project.
    pub templates: super::templates::TemplatesState,
}

impl AppState {
    pub fn new(settings: Settings) -> Self {
        let sign_in = SignInForm { server: settings.server_url.clone(), remember: true, ..SignInForm::default() };
        let builtin = settings.builtin_file_chooser;
        let first_run = settings.last_project.is_none();
        let mut state = Self { settings, sign_in, connecting: true, first_run, ..Self::default() };
        state.restore_catalog();
        if builtin {
            state.follow_up.push(Command::SetFileChooser { builtin });
        }
        let bytes = state.settings.cache_limit_mb.saturating_mul(1024 * 1024);
        state.follow_up.push(Command::SetCacheLimit { bytes });
        state
    }

    pub fn notify_error(&mut self, text: impl Into<String>) {
        self.push_notice(Notice::new(text, true));
    }

    pub fn notify(&mut self, text: impl Into<String>) {
        self.push_notice(Notice::new(text, false));
    }

    /// Keeps the newest notices only, so a long session never piles them up; the same notice
    /// raised again while its toast is up is counted, not repeated.
    fn push_notice(&mut self, notice: Notice) {
        const KEEP: usize = 100;
        if let Some(last) = self.notices.last_mut()
            && last.text == notice.text
            && last.is_error == notice.is_error
        {
            last.repeats += 1;
            last.at = notice.at;
            last.dismissed = false;
            return;
        }
        self.notices.push(notice);
        if self.notices.len() > KEEP {
            self.notices.remove(0);
        }
    }

    /// The id of the open project, if any.
    pub fn open_project_id(&self) -> Option<&ProjectId> {
        self.open_project.value().map(|p| &p.id)
    }

    /// Marks the project as the one being opened (a late answer for another is dropped) and
    /// returns the command that opens it.
    pub fn open_project_command(&mut self, id: ProjectId) -> Command {
        // The share form's last outcome was about the project left.
        self.review.share_outcome = None;
        self.open_project.start();
        self.opening_project = Some(id.clone());
        self.open_serial += 1;
        Command::OpenProject { id, serial: self.open_serial }
    }

    /// The models offered: the open project's, else the account's.
    pub fn models(&self) -> Vec<crate::api::WorkflowDef> {
        models_of(&self.open_project, &self.status).to_vec()
    }

    /// The imagery providers a processing can use.
    pub fn providers(&self) -> Vec<crate::api::Provider> {
        providers_of(&self.status).to_vec()
    }

    /// Fills what the form lacks and moves values the model or imagery cannot use (a zoom
    /// saved for another model, say) into range, saying so beside the field. Called every
    /// frame the form is drawn, so it borrows the lists rather than copying them.
    pub fn correct_form(&mut self) {
        let (models, providers) = (models_of(&self.open_project, &self.status), providers_of(&self.status));
        if models.is_empty() {
            return;
        }
        let form = &mut self.settings.form;
        form.fill_defaults(models, providers);
        // A note about another model or source no longer applies.
        let about = (form.model.clone(), form.source);
        if self.form_note_about.as_ref() != Some(&about) {
            self.form_note = None;
        }
        if let Some(old) = form.correct_zoom(models, providers)
            && let Ok(Some(range)) = form.zoom_range(models, providers)
        {
            let model = form.model(models).map(|m| super::guards::plain_name(&m.name)).unwrap_or_default();
            self.form_note_about = Some(about);
            self.form_note = Some(
                rust_i18n::t!(
                    "guards.zoom_corrected",
                    old = old,
                    new = form.zoom().unwrap_or_default(),
                    model = model,
                    min = range.start(),
                    max = range.end()
                )
                .into_owned(),
            );
        }
    }

    /// With nothing open and nothing to reopen (a first run, another server), opens the
    /// project with the most results (the default one when none has any) to show its work.
    fn open_first_project(&mut self) {
        if self.open_project.is_requested() || self.settings.last_project.is_some() {
            return;
        }
        if self.projects.value().is_none() {
            return;
        }
        // Later (the open project deleted, another server), the default project.
        let first_run = std::mem::take(&mut self.first_run);
        let first = self.projects.value().and_then(|p| {
            if first_run {
                // The user's own work first: a project shared with them is someone else's.
                p.results.iter().max_by_key(|p| {
                    let own = p.my_role() == crate::api::ProjectRole::Owner;
                    (own, p.processing_counts.get("succeeded").copied().unwrap_or(0), p.is_default)
                })
            } else {
                p.results.iter().find(|p| p.is_default).or(p.results.first())
            }
        });
        let Some(first) = first else { return };
        let (id, has_results) = (first.id.clone(), first.processing_counts.get("succeeded").is_some_and(|n| *n > 0));
        if has_results && first_run {
            self.first_look = Some(id.clone());
        }
        let cmd = self.open_project_command(id);
        self.follow_up.push(cmd);
    }

    /// The project with `id` as last seen: open, else in the projects list.
    fn last_seen_project(&self, id: &ProjectId) -> Option<&Project> {
        let open = self.open_project.value().filter(|p| &p.id == id);
        open.or_else(|| self.projects.value().and_then(|p| p.results.iter().find(|p| &p.id == id)))
    }

    /// Marks the projects list as loading and returns the command that loads it.
    pub fn reload_projects(&mut self) -> Command {
        self.projects.start();
        Command::LoadProjects { query: self.project_query.clone() }
    }

    /// Applies one event from the worker, unless it answers a request of an earlier session
    /// (made on another server or account before a sign-in): those are dropped here, so no
    /// list, account or result of the last server ever shows on the new one.
    pub fn receive(&mut self, stamped: Stamped) {
        let Stamped { session, event } = stamped;
        if session < self.session_epoch && (event.opens_session() || event.is_session_bound()) {
            tracing::debug!(?session, current = ?self.session_epoch, "dropped an answer of an earlier session");
            return;
        }
        if event.opens_session() {
            self.session_epoch = session;
        }
        self.apply(event);
    }

    /// Applies one worker event. The only place remote data changes.
    pub fn apply(&mut self, event: Event) {
        match event {
            Event::SignedIn { session, status } => self.begin_session(session, Ok(status)),
            Event::SignedInOffline { session, error } => {
                let server = session.server.clone();
                self.notify_error(rust_i18n::t!(
                    "signin.offline",
                    server = server,
                    reason = super::messages::error_text(&error)
                ));
                self.begin_session(session, Err(error.clone()));
                self.reach = Some(crate::api::Reach::NotAnswering { since: chrono::Utc::now(), error });
            }
            Event::SignInFailed { server, error } => {
                self.connecting = false;
                let text = super::messages::error_text(&error);
                if self.sign_in.pending || self.sign_in.open {
                    self.sign_in.pending = false;
                    self.sign_in.open = true;
                    self.sign_in.error = Some(text);
                } else {
                    self.notify_error(rust_i18n::t!("signin.failed_at", server = server, reason = text));
                }
            }
            Event::CredentialsStored(result) => {
                if let Err(e) = &result {
                    self.notify_error(rust_i18n::t!("signin.store_failed", reason = e));
                }
                self.credentials = Some(result.clone());
                if let (Some(s), Ok(loc)) = (&mut self.session, result) {
                    s.stored = Some(loc);
                }
            }
            Event::SandboxFailed(reason) => {
                self.connecting = false;
                self.notify_error(rust_i18n::t!("sandbox.failed", reason = reason));
            }
            Event::Status(result) => self.apply_status(result),
            Event::Reach { server, reach } => {
                // The previous session's client may still report; only the current one counts.
                if self.session.as_ref().is_some_and(|s| s.server == server) {
                    if reach == crate::api::Reach::Answering
                        && matches!(self.reach, Some(crate::api::Reach::NotAnswering { .. }))
                    {
                        self.notify(rust_i18n::t!("reach.back"));
                        // What failed while the server was away is asked for again.
                        self.follow_up.push(Command::RefreshStatus);
                        if self.projects_saved_at.is_some() || self.projects.error().is_some() {
                            let cmd = self.reload_projects();
                            self.follow_up.push(cmd);
                        }
                        if self.open_project.error().is_some()
                            && let Some(id) = self.open_project_id().cloned()
                        {
                            let cmd = self.open_project_command(id);
                            self.follow_up.push(cmd);
                        }
                        if let Some(cmd) = self.watch_processings() {
                            self.follow_up.push(cmd);
                        }
                    }
                    self.reach = Some(reach);
                }
            }
            Event::Projects { query, result, saved } => {
                // An answer to an older query is stale; the newer one is on its way.
                if query == self.project_query {
                    finish_list(&mut self.projects, &mut self.projects_saved_at, result, saved);
                    self.open_first_project();
                }
            }
            Event::ProjectCreated { name, result } => match result {
                Ok(p) => {
                    self.notify(rust_i18n::t!("projects.created", name = p.name));
                    let cmd = self.reload_projects();
                    self.follow_up.push(cmd);
                }
                Err(e) => {
                    self.notify_api_error(&e);
                    self.unsent_project_name = Some(name);
                }
            },
            Event::ProjectRenamed { id, result } => match result {
                Ok(p) => {
                    self.notify(rust_i18n::t!("projects.renamed", name = p.name));
                    if let Some(page) = self.projects.value_mut()
                        && let Some(item) = page.results.iter_mut().find(|x| x.id == id)
                    {
                        *item = p.clone();
                    }
                    if self.open_project_id() == Some(&id) {
                        self.open_project.finish(Ok(p));
                    }
                }
                Err(e) => self.notify_api_error(&e),
            },
            Event::ProjectDeleted { id, result } => match result {
                Ok(()) => {
                    self.notify(rust_i18n::t!("projects.deleted"));
                    if self.open_project_id() == Some(&id) {
                        self.open_project.reset();
                        self.settings.last_project = None;
                    }
                    let cmd = self.reload_projects();
                    self.follow_up.push(cmd);
                }
                Err(e) => self.notify_api_error(&e),
            },
            Event::ProjectOpened { id, serial, result } => {
                // Only the answer to the last open counts: one for a project the user has since
                // moved away from (or clicked again since), or from the previous session, is
                // dropped.
                if serial != self.open_serial || self.opening_project.as_ref() != Some(&id) {
                    return;
                }
                // With no connection, a project opens (or stays open) as last seen, to browse.
                let (result, unreachable) = match result {
                    Err(e) if e.is_unreachable() => match self.last_seen_project(&id).cloned() {
                        Some(listed) => (Ok(listed), Some(e)),
                        None => (Err(e), None),
                    },
                    other => (other, None),
                };
                if let Err(e) = &result {
                    // A project saved from the last run that is gone is simply not reopened.
                    let saved_and_gone = self.settings.last_project.as_ref() == Some(&id)
                        && matches!(e.kind, crate::api::ErrorKind::NotFound | crate::api::ErrorKind::Forbidden);
                    if self.settings.last_project.as_ref() == Some(&id) {
                        self.settings.last_project = None;
                    }
                    if !saved_and_gone {
                        self.notify_api_error(e);
                    }
                    // A project that cannot be opened leaves nothing open rather than a stale one.
                    self.open_project.reset();
                    if saved_and_gone {
                        self.open_first_project();
                    }
                    return;
                }
                let changed = self.open_project_id() != Some(&id);
                // The user went elsewhere before the first look was taken: it is dropped.
                if changed {
                    if self.first_look.as_ref().is_some_and(|first| first != &id) {
                        self.first_look = None;
                    }
                    self.first_look_search = None;
                    self.zoom_on_load = None;
                }
                self.settings.last_project = Some(id);
                self.open_project.finish(result);
                if let Some(error) = unreachable {
                    // Failed over the listed project: asked for again once the server answers.
                    self.open_project.finish(Err(error));
                }
                if changed {
                    self.processings.reset();
                    self.processings_saved_at = None;
                    self.processing_query.offset = 0;
                    self.selected_processing = None;
                    self.cost_request = None;
                }
                if let Some(cmd) = self.watch_processings() {
                    self.follow_up.push(cmd);
                }
                self.correct_form();
            }
            e @ (Event::CatalogResults { .. } | Event::Preview { .. }) => self.apply_catalog_event(e),
            e @ (Event::Mosaics(_)
            | Event::Memory(_)
            | Event::MosaicImages { .. }
            | Event::ImageryChanged { .. }
            | Event::Upload { .. }
            | Event::UploadsFinished
            | Event::UploadFilesPicked { .. }
            | Event::ImageDownloaded { .. }) => self.apply_imagery_event(e),
            e @ (Event::ChooseFile { .. } | Event::FolderListing { .. }) => self.apply_files_event(e),
            e @ (Event::History { .. } | Event::HistorySaved { .. }) => self.apply_history_event(e),
            Event::CacheSize(size) => self.cache_size = size,
            e @ (Event::ProcessingReviewed { .. } | Event::ProjectShared { .. }) => self.apply_review_event(e),
            e @ (Event::BatchFileReading { .. }
            | Event::BatchFileRead { .. }
            | Event::BatchCost { .. }
            | Event::BatchProgress { .. }
            | Event::BatchesFound { .. }
            | Event::BatchDiscarded { .. }) => self.apply_batch_event(e),
            Event::Templates(e) => self.apply_templates_event(e),
            processing_event => self.apply_processing_event(processing_event),
        }
    }

    /// A session begins (signed in, or on a saved server that does not answer yet).
    fn begin_session(&mut self, session: Session, status: Result<UserStatus, ApiError>) {
        self.connecting = false;
        let same_account =
            self.session.as_ref().is_some_and(|s| s.server == session.server && s.email == session.email);
        if self.sign_in.pending {
            self.sign_in = SignInForm { server: self.sign_in.server.clone(), remember: true, ..SignInForm::default() };
        }
        let first_session = self.session.is_none();
        self.session = Some(session);
        self.reach = Some(crate::api::Reach::Answering);
        self.status.finish(status);
        // Answers to what was in flight are the last session's and are dropped (`receive`):
        // nothing may go on waiting for them. A batch that was running is offered again from
        // its file (the worker paused it), and the plan is estimated afresh.
        self.review.deciding = None;
        self.review.sharing = None;
        self.review.share_outcome = None;
        if self.batch.running {
            self.batch.running = false;
            self.batch.record = None;
            self.batch.stop = None;
        }
        self.batch.plan_key = None;
        if !same_account {
            self.projects.reset();
            self.projects_saved_at = None;
            self.open_project.reset();
            // An open still on its way is the other account's.
            self.opening_project = None;
            self.open_serial += 1;
            self.project_query.offset = 0;
            // Another account's results, AOIs, first look and unsure start are not this one's.
            self.create_unsure = None;
            self.create_error = None;
            self.creating = false;
            self.form_note = None;
            // Local files stay: they are nobody's account.
            self.results.retain(|id, _| super::processings::local_layer_path(id).is_some());
            self.processing_aois.clear();
            self.known_status.clear();
            self.selected_processing = None;
            self.first_look = None;
            self.first_look_search = None;
            self.zoom_on_load = None;
            // Asked again, for this account, when the History pane is shown.
            self.history.rows.reset();
            // An answer still on its way is the other account's.
            self.history.asked += 1;
            // Another account's batch is not this one's (the worker has stopped it).
            self.batch = super::batch::BatchState::default();
        }
        let cmd = self.reload_projects();
        self.follow_up.push(cmd);
        // The project saved from the last run belongs to the server the app starts on;
        // after a switch to another, that server's own first project opens instead.
        if !same_account && !first_session {
            self.settings.last_project = None;
        }
        let reopen = self
            .open_project_id()
            .cloned()
            .or_else(|| if same_account { None } else { self.settings.last_project.clone() });
        if let Some(id) = reopen {
            let cmd = self.open_project_command(id);
            self.follow_up.push(cmd);
        }
    }

    fn apply_status(&mut self, result: Result<UserStatus, ApiError>) {
        if let Err(e) = &result
            && e.is_unauthorized()
        {
            self.notify_error(rust_i18n::t!("signin.revoked"));
            self.sign_in.open = true;
        }
        self.status.finish(result);
        self.correct_form();
    }

    fn notify_api_error(&mut self, error: &ApiError) {
        if error.is_unauthorized() {
            self.sign_in.open = true;
        }
        self.notify_error(super::messages::error_text(error));
    }
}

/// Applies the answer for a list: the server's, or, when it could not be reached, the one
/// saved last, over the error; `saved_at` says which is shown.
pub(super) fn finish_list<T>(
    remote: &mut Remote<T>,
    saved_at: &mut Option<SystemTime>,
    result: Result<T, ApiError>,
    saved: Option<Saved<T>>,
) {
    match (result, saved) {
        (Err(error), Some(saved)) => {
            remote.fail_showing(error, saved.value);
            *saved_at = Some(saved.saved_at);
        }
        (result, _) => {
            if result.is_ok() {
                *saved_at = None;
            }
            remote.finish(result);
        }
    }
}

/// The models offered: the open project's, else the account's.
fn models_of<'a>(project: &'a Remote<Project>, status: &'a Remote<UserStatus>) -> &'a [crate::api::WorkflowDef] {
    match project.value() {
        Some(p) if !p.workflow_defs.is_empty() => &p.workflow_defs,
        _ => status.value().map_or(&[], |s| s.models.as_slice()),
    }
}

/// The imagery providers a processing can use.
fn providers_of(status: &Remote<UserStatus>) -> &[crate::api::Provider] {
    status.value().map_or(&[], |s| s.data_providers.as_slice())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(id: &str) -> Project {
        Project { id: ProjectId(id.to_owned()), name: id.to_owned(), ..Project::default() }
    }

    /// The serial an open command tags its answer with.
    fn serial_of(command: &Command) -> u64 {
        match command {
            Command::OpenProject { serial, .. } => *serial,
            other => panic!("not an open: {other:?}"),
        }
    }

    fn on(server: &str) -> Session {
        Session {
            kind: crate::worker::SessionKind::Remote,
            server: server.into(),
            email: "me@example.com".into(),
            stored: None,
        }
    }

    fn stamped(session: u64, event: Event) -> Stamped {
        Stamped { session: SessionEpoch(session), event }
    }

    #[test]
    fn answers_of_an_earlier_session_are_dropped_after_a_switch() {
        let mut state = AppState::default();
        let status = |credits: i64| UserStatus { remaining_credits: credits, ..UserStatus::default() };
        state.receive(stamped(1, Event::SignedIn { session: on("http://a/rest"), status: status(10) }));
        let query = state.project_query.clone();
        state.receive(stamped(
            1,
            Event::Projects { query: query.clone(), result: Ok(page(vec![project("a1")])), saved: None },
        ));
        assert_eq!(state.projects.value().map(|p| p.results.len()), Some(1));

        // Signed in to B; A's answers still on their way arrive after.
        state.receive(stamped(2, Event::SignedIn { session: on("http://b/rest"), status: status(99) }));
        let _ = state.reload_projects();
        state.receive(stamped(1, Event::Status(Ok(status(10)))));
        state.receive(stamped(
            1,
            Event::Projects { query: query.clone(), result: Ok(page(vec![project("a1"), project("a2")])), saved: None },
        ));
        state.receive(stamped(1, Event::Mosaics(Ok(vec![crate::api::Mosaic::default()]))));
        state.receive(stamped(1, Event::Memory(Err(offline()))));
        let late_open = serial_of(&state.open_project_command(ProjectId("a1".into())));
        state.receive(stamped(
            1,
            Event::ProjectOpened { id: ProjectId("a1".into()), serial: late_open, result: Ok(project("a1")) },
        ));
        // A stale sign-in cannot take the session back either.
        state.receive(stamped(1, Event::SignedIn { session: on("http://a/rest"), status: status(10) }));

        assert_eq!(state.session.as_ref().map(|s| s.server.as_str()), Some("http://b/rest"));
        assert_eq!(state.status.value().map(|s| s.remaining_credits), Some(99), "A's account is not shown on B");
        assert!(
            state.projects.is_pending() && state.projects.value().is_none_or(|p| p.results.is_empty()),
            "{:?}",
            state.projects.value().map(|p| p.results.len())
        );
        assert!(state.imagery.mosaics.value().is_none() && state.imagery.memory.error().is_none());
        assert!(state.open_project.value().is_none(), "a project of A does not open on B");
        assert!(
            state.notices.is_empty(),
            "nothing of A is reported: {:?}",
            state.notices.iter().map(|n| &n.text).collect::<Vec<_>>()
        );

        // B's own answers apply.
        state.receive(stamped(2, Event::Projects { query, result: Ok(page(vec![project("b1")])), saved: None }));
        assert_eq!(state.projects.value().map(|p| p.results[0].name.as_str()), Some("b1"));
        state.receive(stamped(2, Event::Status(Ok(status(98)))));
        assert_eq!(state.status.value().map(|s| s.remaining_credits), Some(98));
    }

    #[test]
    fn a_new_session_leaves_nothing_waiting_for_the_last_ones_answers() {
        let mut state = AppState::default();
        state.receive(stamped(1, Event::SignedIn { session: on("http://a/rest"), status: UserStatus::default() }));
        state.review.deciding = Some(ProcessingId("p".into()));
        state.review.sharing = Some(ProjectId("a".into()));
        state.batch.running = true;
        // Signed in again to the same account: the answers to those are dropped (stamped 1).
        state.receive(stamped(2, Event::SignedIn { session: on("http://a/rest"), status: UserStatus::default() }));
        assert!(state.review.deciding.is_none() && state.review.sharing.is_none(), "Accept and Share are usable again");
        assert!(!state.batch.running, "the batch is offered again, not shown running forever");
    }

    #[test]
    fn what_is_true_in_any_session_is_applied_whenever_it_arrives() {
        let mut state = AppState::default();
        state.receive(stamped(2, Event::SignedIn { session: on("http://b/rest"), status: UserStatus::default() }));
        // A file read during session 1 is still the user's file.
        let square =
            crate::geo::parse_wkt_polygons("POLYGON((30 50, 30.01 50, 30.01 50.01, 30 50.01, 30 50))").unwrap();
        state.receive(stamped(
            1,
            Event::AoiImported { path: "field.geojson".into(), result: Ok(crate::geo::Aoi { polygons: square }) },
        ));
        assert!(state.zoom_request.is_some() && state.aoi_import_error.is_none(), "the imported AOI is kept");
        // And a sign-in that failed is said, whichever session asked.
        let before = state.notices.len();
        state.receive(stamped(1, Event::SignInFailed { server: "http://c/rest".into(), error: offline() }));
        assert_eq!(state.notices.len(), before + 1);
    }

    #[test]
    fn a_late_answer_for_a_project_no_longer_wanted_is_dropped() {
        let mut state = AppState::default();
        let a = serial_of(&state.open_project_command(ProjectId("a".into())));
        let b = serial_of(&state.open_project_command(ProjectId("b".into())));
        state.apply(Event::ProjectOpened { id: ProjectId("b".into()), serial: b, result: Ok(project("b")) });
        state.apply(Event::ProjectOpened { id: ProjectId("a".into()), serial: a, result: Ok(project("a")) });
        assert_eq!(state.open_project_id(), Some(&ProjectId("b".into())), "the click on B wins");
        assert_eq!(state.settings.last_project, Some(ProjectId("b".into())));
    }

    fn offline() -> ApiError {
        ApiError::new(crate::api::ErrorKind::Network("connection refused".into()))
    }

    fn page<T>(results: Vec<T>) -> Page<T> {
        Page { total: results.len() as i64, count: results.len() as i64, results }
    }

    fn saved<T>(value: T, secs_ago: u64) -> Option<Saved<T>> {
        Some(Saved { value, saved_at: SystemTime::now() - std::time::Duration::from_secs(secs_ago) })
    }

    #[test]
    fn the_saved_lists_are_browsed_offline_until_the_server_answers() {
        let mut state = AppState {
            session: Some(Session {
                kind: crate::worker::SessionKind::Remote,
                server: "http://s/rest".into(),
                email: "me@example.com".into(),
                stored: None,
            }),
            ..AppState::default()
        };
        let query = state.project_query.clone();
        let listed = page(vec![project("a"), project("b")]);

        // Unreachable, with a copy: the copy is shown, marked, with the reason kept.
        let _ = state.reload_projects();
        state.apply(Event::Projects { query: query.clone(), result: Err(offline()), saved: saved(listed.clone(), 60) });
        assert_eq!(state.projects.value(), Some(&listed));
        assert!(state.projects_saved_at.is_some());
        assert_eq!(state.projects.error(), Some(&offline()));

        // Another failure with no copy keeps the copy shown, and its mark.
        state.apply(Event::Projects { query: query.clone(), result: Err(offline()), saved: None });
        assert_eq!(state.projects.value(), Some(&listed));
        assert!(state.projects_saved_at.is_some());

        // A listed project opens with no connection, and its saved processings are shown.
        let serial = serial_of(&state.open_project_command(ProjectId("b".into())));
        state.follow_up.clear();
        state.apply(Event::ProjectOpened { id: ProjectId("b".into()), serial, result: Err(offline()) });
        assert_eq!(state.open_project_id(), Some(&ProjectId("b".into())));
        assert!(state.notices.is_empty(), "the marks say it; no error toast");
        assert!(state.follow_up.iter().any(|c| matches!(c, Command::WatchProcessings { .. })));
        let run = Processing { id: ProcessingId("r".into()), name: "Run".into(), ..Processing::default() };
        let (project, query_p) = (ProjectId("b".into()), state.processing_query.clone());
        let runs = page(vec![run]);
        let result = Err(offline());
        state.apply(Event::Processings {
            project: project.clone(),
            query: query_p.clone(),
            result,
            saved: saved(runs.clone(), 5),
        });
        assert_eq!(state.processings.value(), Some(&runs));
        assert!(state.processings_saved_at.is_some());

        // The server answers again: what was shown from the saved copies is asked for again.
        state.follow_up.clear();
        state.apply(Event::Reach {
            server: "http://s/rest".into(),
            reach: crate::api::Reach::NotAnswering { since: chrono::Utc::now(), error: offline() },
        });
        state.apply(Event::Reach { server: "http://s/rest".into(), reach: crate::api::Reach::Answering });
        assert!(state.follow_up.iter().any(|c| matches!(c, Command::LoadProjects { .. })));
        assert!(state.follow_up.iter().any(|c| matches!(c, Command::OpenProject { id, .. } if id.0 == "b")));
        assert!(state.follow_up.iter().any(|c| matches!(c, Command::WatchProcessings { .. })));

        // Their answers take the marks away.
        state.apply(Event::Projects { query, result: Ok(listed.clone()), saved: None });
        assert!(state.projects_saved_at.is_none() && state.projects.error().is_none());
        state.apply(Event::Processings { project, query: query_p, result: Ok(runs), saved: None });
        assert!(state.processings_saved_at.is_none() && state.processings.error().is_none());
    }

    #[test]
    fn only_no_connection_opens_a_project_from_the_list() {
        let mut state = AppState::default();
        let query = state.project_query.clone();
        state.apply(Event::Projects { query, result: Ok(page(vec![project("a")])), saved: None });
        let serial = serial_of(&state.open_project_command(ProjectId("a".into())));
        let refused = ApiError::from_status(403, "");
        state.apply(Event::ProjectOpened { id: ProjectId("a".into()), serial, result: Err(refused) });
        assert!(state.open_project_id().is_none(), "a refusal is an answer");
        assert!(state.notices.iter().any(|n| n.is_error));
        // Not listed: nothing to open it from.
        let serial = serial_of(&state.open_project_command(ProjectId("z".into())));
        state.apply(Event::ProjectOpened { id: ProjectId("z".into()), serial, result: Err(offline()) });
        assert!(state.open_project_id().is_none());
    }

    fn session(server: &str, email: &str) -> Session {
        Session { kind: crate::worker::SessionKind::Remote, server: server.into(), email: email.into(), stored: None }
    }

    fn listed_project(id: &str, default: bool) -> Project {
        Project { is_default: default, ..project(id) }
    }

    fn run(id: &str) -> Processing {
        Processing { id: ProcessingId(id.into()), name: id.into(), ..Processing::default() }
    }

    /// The commands applying events asked for, taken out.
    fn sent(state: &mut AppState) -> Vec<Command> {
        std::mem::take(&mut state.follow_up)
    }

    /// The serial of the open of `id` among `commands`.
    fn open_of(commands: &[Command], id: &str) -> u64 {
        commands
            .iter()
            .find_map(|c| match c {
                Command::OpenProject { id: p, serial } if p.0 == id => Some(*serial),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no open of {id} in {commands:?}"))
    }

    /// A state signed in to `server`, its projects listed and `open` open.
    fn signed_in_with_open(server: &str, open: &str) -> AppState {
        let mut state = AppState::default();
        state.apply(Event::SignedIn { session: session(server, "me@example.com"), status: UserStatus::default() });
        let query = state.project_query.clone();
        let list = page(vec![listed_project(open, true), listed_project("other", false)]);
        state.apply(Event::Projects { query, result: Ok(list), saved: None });
        let serial = open_of(&sent(&mut state), open);
        state.apply(Event::ProjectOpened { id: ProjectId(open.into()), serial, result: Ok(project(open)) });
        sent(&mut state);
        state
    }

    #[test]
    fn a_sign_in_lists_the_projects_then_opens_the_default_and_watches_it() {
        let mut state = AppState::default();
        state.apply(Event::SignedIn {
            session: session("http://s/rest", "me@example.com"),
            status: UserStatus::default(),
        });
        assert!(!state.connecting);
        assert!(state.projects.is_pending(), "the projects are asked for");
        let asked = sent(&mut state);
        assert!(matches!(asked.as_slice(), [Command::LoadProjects { .. }]), "{asked:?}");

        let query = state.project_query.clone();
        let list = page(vec![listed_project("a", false), listed_project("d", true)]);
        state.apply(Event::Projects { query, result: Ok(list.clone()), saved: None });
        assert_eq!(state.projects.value(), Some(&list));
        let asked = sent(&mut state);
        let serial = open_of(&asked, "d");
        assert!(state.open_project.is_pending());

        state.apply(Event::ProjectOpened { id: ProjectId("d".into()), serial, result: Ok(project("d")) });
        assert_eq!(state.open_project_id(), Some(&ProjectId("d".into())));
        assert_eq!(state.settings.last_project, Some(ProjectId("d".into())));
        let asked = sent(&mut state);
        assert!(
            asked.iter().any(|c| matches!(c, Command::WatchProcessings { project, .. } if project.0 == "d")),
            "{asked:?}"
        );
    }

    #[test]
    fn a_late_open_of_a_after_b_was_asked_is_dropped_whichever_comes_first() {
        // A's answer before B's.
        let mut state = signed_in_with_open("http://s/rest", "start");
        let a = serial_of(&state.open_project_command(ProjectId("a".into())));
        let b = serial_of(&state.open_project_command(ProjectId("b".into())));
        state.apply(Event::ProjectOpened { id: ProjectId("a".into()), serial: a, result: Ok(project("a")) });
        assert_eq!(state.open_project_id(), Some(&ProjectId("start".into())), "A's answer is not applied");
        assert!(state.open_project.is_pending(), "B is still on its way");
        state.apply(Event::ProjectOpened { id: ProjectId("b".into()), serial: b, result: Ok(project("b")) });
        assert_eq!(state.open_project_id(), Some(&ProjectId("b".into())));

        // A, B, then A again: only the last click's answer counts, even for the same project.
        let a1 = serial_of(&state.open_project_command(ProjectId("a".into())));
        let b = serial_of(&state.open_project_command(ProjectId("b".into())));
        let a2 = serial_of(&state.open_project_command(ProjectId("a".into())));
        state.apply(Event::ProjectOpened { id: ProjectId("a".into()), serial: a1, result: Err(offline()) });
        assert!(state.notices.is_empty(), "the first A's failure is stale: {:?}", state.notices);
        state.apply(Event::ProjectOpened { id: ProjectId("b".into()), serial: b, result: Ok(project("b")) });
        assert!(state.open_project.is_pending(), "B's answer is stale too");
        let renamed = Project { name: "A, renamed".into(), ..project("a") };
        state.apply(Event::ProjectOpened { id: ProjectId("a".into()), serial: a2, result: Ok(renamed) });
        assert_eq!(state.open_project.value().map(|p| p.name.as_str()), Some("A, renamed"));
        // A stale failure of B after that leaves A open.
        state.apply(Event::ProjectOpened { id: ProjectId("b".into()), serial: b, result: Err(offline()) });
        assert_eq!(state.open_project_id(), Some(&ProjectId("a".into())));
    }

    #[test]
    fn processings_pages_answered_out_of_order_keep_the_page_asked_last() {
        let mut state = signed_in_with_open("http://s/rest", "p");
        let first = state.processing_query.clone();
        let second = ProcessingPageQuery { offset: 20, ..first.clone() };
        state.processing_query = second.clone();
        let project = ProjectId("p".into());
        // The second page's answer, then the first's, late.
        state.apply(Event::Processings {
            project: project.clone(),
            query: second,
            result: Ok(page(vec![run("on-page-2")])),
            saved: None,
        });
        state.apply(Event::Processings {
            project: project.clone(),
            query: first,
            result: Ok(page(vec![run("on-page-1")])),
            saved: None,
        });
        let shown: Vec<_> = state.processings.value().unwrap().results.iter().map(|p| p.id.0.clone()).collect();
        assert_eq!(shown, ["on-page-2"]);
        // A poll of another project (the one open before) is not this one's list.
        state.apply(Event::Processings {
            project: ProjectId("other".into()),
            query: state.processing_query.clone(),
            result: Ok(page(vec![run("elsewhere")])),
            saved: None,
        });
        assert_eq!(state.processings.value().unwrap().results[0].id.0, "on-page-2");
    }

    #[test]
    fn a_result_for_a_layer_no_longer_wanted_is_dropped_and_does_not_move_the_map() {
        let mut state = signed_in_with_open("http://s/rest", "p");
        let (a, b) = (ProcessingId("a".into()), ProcessingId("b".into()));
        assert!(matches!(state.show_result(&a), Some(Command::LoadResult { .. })));
        // The user removes A's layer before it loads, and shows B meanwhile.
        state.results.remove(&a);
        assert!(state.show_result(&b).is_some());
        let layer = std::sync::Arc::new(
            crate::results::load_result(br#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[10.0,20.0],[10.1,20.0],[10.1,20.1],[10.0,20.0]]]}}]}"#)
                .unwrap(),
        );
        state.apply(Event::ResultLoaded { id: a.clone(), result: Ok(layer.clone()) });
        assert!(!state.results.contains_key(&a), "a removed layer does not come back");
        assert!(state.zoom_request.is_none(), "the map does not go to A");
        assert_eq!(state.zoom_on_load, Some(b.clone()));
        // B's answer is applied, and the map goes to it.
        state.apply(Event::ResultLoaded { id: b.clone(), result: Ok(layer) });
        assert!(state.results[&b].layer().is_some());
        assert!(state.zoom_request.is_some());
    }

    #[test]
    fn a_failure_keeps_the_previous_value_beside_the_error() {
        let mut state = signed_in_with_open("http://s/rest", "p");
        let account = UserStatus { email: "me@example.com".into(), remaining_credits: 42, ..UserStatus::default() };
        state.apply(Event::Status(Ok(account.clone())));
        state.apply(Event::Status(Err(ApiError::from_status(500, "down"))));
        assert_eq!(state.status.value().map(|s| s.remaining_credits), Some(42), "the balance stays shown");
        assert!(state.status.error().is_some(), "and the failure is said");

        let listed = state.projects.value().cloned().unwrap();
        let _ = state.reload_projects();
        let query = state.project_query.clone();
        state.apply(Event::Projects { query, result: Err(ApiError::from_status(500, "down")), saved: None });
        assert_eq!(state.projects.value(), Some(&listed), "the list stays shown");
        assert!(state.projects.error().is_some());
        assert!(state.projects_saved_at.is_none(), "it is the server's last answer, not a saved copy");

        let runs = page(vec![run("r")]);
        let (project, query) = (ProjectId("p".into()), state.processing_query.clone());
        state.apply(Event::Processings {
            project: project.clone(),
            query: query.clone(),
            result: Ok(runs.clone()),
            saved: None,
        });
        state.apply(Event::Processings { project, query, result: Err(ApiError::from_status(502, "")), saved: None });
        assert_eq!(state.processings.value(), Some(&runs));
        assert!(state.processings.error().is_some());
    }

    #[test]
    fn answers_from_the_previous_session_are_dropped_after_a_switch() {
        let mut state = signed_in_with_open("http://old/rest", "p");
        // Still on the old server: an open of another of its projects is on its way.
        let late = serial_of(&state.open_project_command(ProjectId("other".into())));
        let old_query = state.processing_query.clone();

        // The user signs in to another server (another account).
        state.apply(Event::SignedIn {
            session: session("http://new/rest", "you@example.com"),
            status: UserStatus::default(),
        });
        sent(&mut state);
        assert!(state.open_project_id().is_none());

        // The old server's answers arrive after the switch: none of them lands.
        state.apply(Event::ProjectOpened { id: ProjectId("other".into()), serial: late, result: Ok(project("other")) });
        assert!(state.open_project_id().is_none(), "the old server's project is not opened");
        assert!(state.settings.last_project.is_none(), "nor remembered for the new server");
        state.apply(Event::Processings {
            project: ProjectId("p".into()),
            query: old_query,
            result: Ok(page(vec![run("old-run")])),
            saved: None,
        });
        assert!(state.processings.value().is_none(), "the old project's processings are not shown");
        state.apply(Event::ResultLoaded { id: ProcessingId("old-run".into()), result: Err("late".into()) });
        assert!(state.results.is_empty(), "the old account's result is not added");
        state.apply(Event::Reach {
            server: "http://old/rest".into(),
            reach: crate::api::Reach::NotAnswering { since: chrono::Utc::now(), error: offline() },
        });
        assert_eq!(state.reach, Some(crate::api::Reach::Answering), "the old server's reach is not this session's");

        // The new server's own answers do.
        let query = state.project_query.clone();
        state.apply(Event::Projects { query, result: Ok(page(vec![listed_project("n", true)])), saved: None });
        let serial = open_of(&sent(&mut state), "n");
        state.apply(Event::ProjectOpened { id: ProjectId("n".into()), serial, result: Ok(project("n")) });
        assert_eq!(state.open_project_id(), Some(&ProjectId("n".into())));
    }

    #[test]
    fn notices_repeat_once_with_a_count_and_successes_fade() {
        let mut state = AppState::default();
        state.notify("Saved");
        state.notify("Saved");
        state.notify_error("Broken");
        assert_eq!(state.notices.len(), 2);
        assert_eq!(state.notices[0].repeats, 2);
        let lasts = std::time::Duration::from_millis(1);
        std::thread::sleep(std::time::Duration::from_millis(5));
        assert!(!state.notices[0].is_toast(lasts), "a success fades");
        assert!(state.notices[1].is_toast(lasts), "an error stays until closed");
    }
}
