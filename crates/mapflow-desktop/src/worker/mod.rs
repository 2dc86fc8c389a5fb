//! The background worker: a tokio runtime on a named thread that runs every request.
//!
//! The UI sends [`Command`]s (user intents) and receives [`Event`]s (results) over
//! channels; the worker asks egui to repaint after each event it sends.

pub mod batch;
pub mod cache;
mod catalog;
mod dialogs;
pub mod files;
mod imagery;
pub mod lists;
mod processings;
mod review;
mod templates;

pub use processings::save_as;
pub use review::MarkedFeatures;
pub use templates::{TEMPLATE_IMAGES_PAGE, TemplateChange, TemplateCommand, TemplateEvent};
mod session;

use crate::api::{
    ApiError, Page, Processing, ProcessingAoi, ProcessingEdit, ProcessingId, ProcessingPageQuery, ProcessingRequest,
    Project, ProjectEdit, ProjectId, ProjectPageQuery, Token, UserStatus,
};
use crate::platform::credentials::{CredentialStore, StoreLocation};
use crate::sandbox::SandboxConfig;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;
use tokio::sync::mpsc as tmpsc;

pub use imagery::{UploadStatus, UploadTarget};
pub use lists::Saved;
pub use session::{Session, SessionKind};

/// A user intent, sent by the UI. `Debug` never prints a token.
#[derive(Debug, Clone)]
pub enum Command {
    /// Sign in with the saved token, or start the embedded sandbox when there is none. Handler: `session::startup`.
    Startup,
    /// Check `token` against `server` and, on success, make it the session. Handler: `session::sign_in`.
    SignIn { server: String, token: Token, remember: bool },
    /// Forget the saved token and go back to the sandbox. Handler: `session::sign_out`.
    SignOut,
    /// Refresh the account (balance, models, providers). Handler: `Worker::refresh_status`.
    RefreshStatus,
    /// The result cache's cap, in bytes (evicts down to it), and a report of its size.
    SetCacheLimit { bytes: u64 },
    /// Empty the result cache.
    ClearCache,
    /// Open a local GIS file as a layer; with no path, ask for one.
    OpenLayer { path: Option<PathBuf> },
    /// The processing history of every project (`filter` as the API takes it).
    /// `serial` tags the answer, so only the latest request's is kept.
    LoadHistory { filter: Option<String>, serial: u64 },
    /// Save the history as the server's CSV; with no path, ask for one.
    SaveHistory { filter: Option<String>, path: Option<PathBuf> },
    /// Load one page of projects. Handler: `Worker::load_projects`.
    LoadProjects { query: ProjectPageQuery },
    /// Create a project. Handler: `Worker::spawn_call`.
    CreateProject { name: String, description: Option<String> },
    /// Rename a project. Handler: `Worker::spawn_call`.
    RenameProject { id: ProjectId, name: String },
    /// Delete a project. Handler: `Worker::spawn_call`.
    DeleteProject { id: ProjectId },
    /// Load a project to work in (its models become the ones offered). Handler: `Worker::spawn_call`.
    /// `serial` tags the answer, so only the latest request's is kept (click A, then B: B opens).
    OpenProject { id: ProjectId, serial: u64 },
    /// Show a project's processings and poll them while any is unfinished. Handler: `Worker::watch_processings`.
    WatchProcessings { project: ProjectId, query: ProcessingPageQuery },
    /// Estimate the cost of a processing. Handler: `Worker::spawn_call`.
    EstimateCost { request: ProcessingRequest },
    /// Start a processing (sent once, never repeated on its own). Handler: `Worker::spawn_call`.
    CreateProcessing { request: ProcessingRequest },
    /// After a create whose answer never came: look for the processing it may have made
    /// (same project, name and area, created since `since`). Handler: `Worker::find_created`.
    FindCreated { request: ProcessingRequest, since: chrono::DateTime<chrono::Utc> },
    /// Rename or move a processing. Handler: `Worker::spawn_call`.
    UpdateProcessing { id: ProcessingId, edit: ProcessingEdit },
    /// Delete a processing. Handler: `Worker::spawn_call`.
    DeleteProcessing { id: ProcessingId },
    /// Re-run the failed parts of a processing. Handler: `Worker::spawn_call`.
    RestartProcessing { id: ProcessingId },
    /// Rate a finished processing. Handler: `Worker::spawn_call`.
    RateProcessing { id: ProcessingId, rating: u8, feedback: String },
    /// Load the AOIs of a processing. Handler: `Worker::spawn_call`.
    LoadProcessingAois { id: ProcessingId },
    /// Accept the results of a processing in review. Handler: `Worker::accept`.
    AcceptProcessing { id: ProcessingId },
    /// A planned-search call. Handler: `templates::templates`.
    Templates(TemplateCommand),
    /// Reject the results of a processing in review, with a comment and the features marked
    /// as wrong. Handler: `Worker::reject`.
    RejectProcessing { id: ProcessingId, comment: String, marked: MarkedFeatures },
    /// Share a project with an email as `role`. Handler: `Worker::share`.
    ShareProject { project: ProjectId, email: String, role: crate::api::ProjectRole },
    /// Download and prepare a result for the map. Handler: `Worker::load_result`.
    /// `version` (the processing's `updated`) keys the cached copy: a run again elsewhere
    /// changes it, and the stale copy is not used.
    LoadResult { id: ProcessingId, version: Option<String> },
    /// Save a result as GeoJSON; with no path, ask for one. Handler: `Worker::save_result`.
    SaveResult { id: ProcessingId, name: String, path: Option<PathBuf> },
    /// Write some features of a loaded layer to a file, in the format its extension names,
    /// asking for the path first when there is none. Handler: `Worker::save_selection`;
    /// answered with `Event::ResultSaved`.
    SaveSelection {
        id: ProcessingId,
        name: String,
        features: crate::results::table::SelectedFeatures,
        path: Option<PathBuf>,
    },
    /// Write GeoJSON features (the AOI, catalog footprints) to a file, in the format its
    /// extension names, asking for the path first when there is none. Handler:
    /// `Worker::save_geojson`; answered with `Event::ResultSaved`.
    SaveGeoJson { name: String, geojson: crate::export::GeoJsonText, path: Option<PathBuf> },
    /// Read an AOI from a GeoJSON file; with no path, ask for one. Handler: `Worker::import_aoi`.
    ImportAoi { path: Option<PathBuf> },
    /// Search the imagery catalog. Handler: `Worker::search_catalog`.
    SearchCatalog { query: crate::api::CatalogQuery },
    /// Fetch and decode a preview or thumbnail (no credentials to foreign hosts). Handler: `Worker::fetch_preview`.
    FetchPreview { url: String },
    /// List the user's mosaics. Handler: `Worker::spawn_call`.
    LoadMosaics,
    /// Storage use and limits. Handler: `Worker::spawn_call`.
    LoadMemory,
    /// The images of a mosaic. Handler: `Worker::spawn_keyed`.
    LoadMosaicImages { id: crate::api::MosaicId },
    /// Create a mosaic. Handler: `Worker::imagery_change`.
    CreateMosaic { name: String, tags: Vec<String> },
    /// Rename or retag a mosaic. Handler: `Worker::imagery_change`.
    UpdateMosaic { id: crate::api::MosaicId, name: String, tags: Vec<String> },
    /// Delete mosaics with their images. Handler: `Worker::imagery_change`.
    DeleteMosaics { ids: Vec<crate::api::MosaicId> },
    /// Rename an image. Handler: `Worker::imagery_change`.
    RenameImage { id: crate::api::ImageId, name: String },
    /// Delete an image. Handler: `Worker::imagery_change`.
    DeleteImage { id: crate::api::ImageId },
    /// Check and upload GeoTIFFs one by one; with no paths, ask for them. Handler: `Worker::upload_queue`.
    Upload { target: UploadTarget, paths: Option<Vec<PathBuf>> },
    /// Stop the upload queue. Handler: `Worker::handle`.
    CancelUpload,
    /// Save an image's file to `path`; with no path, ask for one. Handler: `Worker::download_image`.
    DownloadImage { id: crate::api::ImageId, filename: String, path: Option<PathBuf> },
    /// Read a folder for the built-in file chooser. Handler: `Worker::list_folder`.
    ListFolder { path: PathBuf },
    /// Use the built-in file chooser even where the system has a dialog (or stop). Handler: `Worker::handle`.
    SetFileChooser { builtin: bool },
    /// Read a file of polygons for a batch; with no path, ask for one. Handler: `Worker::read_batch_file`.
    ReadBatchFile { path: Option<PathBuf> },
    /// Estimate each item of a batch (`key`, request). `serial` tags the answers, so only the
    /// latest plan's are kept. Handler: `Worker::estimate_batch`.
    EstimateBatch { serial: u64, requests: Vec<(String, ProcessingRequest)> },
    /// Start (or resume) a batch: saved, then its open items created one by one, each once.
    /// Handler: `Worker::run_batch`.
    RunBatch { record: Box<batch::BatchRecord> },
    /// Pause the running batch after its current item. Handler: `Worker::pause_batch`.
    PauseBatch,
    /// The unfinished batches of the session's account. Handler: `Worker::load_batches`.
    LoadBatches,
    /// Forget a batch (its processings stay). Handler: `Worker::discard_batch`.
    DiscardBatch { id: String },
}

/// What a change to the user's imagery did, to confirm it in words.
#[derive(Debug, Clone, PartialEq)]
pub enum ImageryChange {
    MosaicCreated(String),
    MosaicUpdated(String),
    MosaicsDeleted(usize),
    ImageRenamed(String),
    ImageDeleted,
}

/// What saving a result wrote.
#[derive(Clone, Debug, PartialEq)]
pub struct SavedResult {
    /// The format's name (GeoJSON, GeoPackage, …).
    pub format: &'static str,
    /// Bytes written, over every file.
    pub bytes: u64,
    /// Features written, when the result was converted (a GeoJSON is saved as it came).
    pub features: Option<usize>,
    /// Features the format could not hold.
    pub left_out: usize,
}

/// A result, sent by the worker and applied to `AppState` in one place.
#[derive(Debug, Clone)]
pub enum Event {
    /// The answer to a planned-search call.
    Templates(TemplateEvent),
    /// A session began (after startup, sign-in or sign-out) with the account as it answered.
    SignedIn {
        session: Session,
        status: UserStatus,
    },
    /// The saved server did not answer at start: the session is on it all the same, with
    /// the lists saved last shown until it answers (then `Event::Reach` says so).
    SignedInOffline {
        session: Session,
        error: crate::api::ApiError,
    },
    /// A sign-in attempt failed; the previous session, if any, goes on.
    SignInFailed {
        server: String,
        error: ApiError,
    },
    /// The saved token was stored (or could not be).
    CredentialsStored(Result<StoreLocation, String>),
    /// The embedded sandbox could not start.
    SandboxFailed(String),
    /// The server of the session `server` started or stopped answering.
    Reach {
        server: String,
        reach: crate::api::Reach,
    },
    /// A fresh `/user/status`.
    Status(Result<UserStatus, ApiError>),
    /// A page of projects for `query`. When the server could not be reached (`result` says
    /// why), `saved` is the list it gave last, if one was kept.
    Projects {
        query: ProjectPageQuery,
        result: Result<Page<Project>, ApiError>,
        saved: Option<Saved<Page<Project>>>,
    },
    /// The answer to a create; `name` is the name asked for, given back to the field when
    /// the create failed so nothing typed is lost.
    ProjectCreated {
        name: String,
        result: Result<Project, ApiError>,
    },
    ProjectRenamed {
        id: ProjectId,
        result: Result<Project, ApiError>,
    },
    ProjectDeleted {
        id: ProjectId,
        result: Result<(), ApiError>,
    },
    /// The answer to `Command::OpenProject { id, serial }`.
    ProjectOpened {
        id: ProjectId,
        serial: u64,
        result: Result<Project, ApiError>,
    },
    /// A page of a project's processings (a poll or a reload). When the server could not be
    /// reached (`result` says why), `saved` is the list it gave last, if one was kept.
    Processings {
        project: ProjectId,
        query: ProcessingPageQuery,
        result: Result<Page<Processing>, ApiError>,
        saved: Option<Saved<Page<Processing>>>,
    },
    /// A cost estimate for `request`, in credits.
    Cost {
        request: Box<ProcessingRequest>,
        result: Result<f64, ApiError>,
    },
    ProcessingCreated(Result<Processing, ApiError>),
    /// A create got no answer (`error`: a timeout or a lost connection); `found` says whether
    /// the server made the processing anyway, or why that could not be checked.
    CreateUnanswered {
        request: Box<ProcessingRequest>,
        since: chrono::DateTime<chrono::Utc>,
        error: ApiError,
        found: Result<Option<Processing>, ApiError>,
    },
    ProcessingUpdated {
        id: ProcessingId,
        result: Result<Processing, ApiError>,
    },
    ProcessingDeleted {
        id: ProcessingId,
        result: Result<(), ApiError>,
    },
    ProcessingRestarted {
        id: ProcessingId,
        result: Result<(), ApiError>,
    },
    ProcessingRated {
        id: ProcessingId,
        result: Result<(), ApiError>,
    },
    ProcessingAois {
        id: ProcessingId,
        result: Result<Vec<ProcessingAoi>, ApiError>,
    },
    /// The answer to an acceptance (`accepted`) or a rejection.
    ProcessingReviewed {
        id: ProcessingId,
        accepted: bool,
        result: Result<(), ApiError>,
    },
    /// The answer to `Command::ShareProject`.
    ProjectShared {
        project: ProjectId,
        email: String,
        role: crate::api::ProjectRole,
        result: Result<(), ApiError>,
    },
    /// A result ready to draw, or why not (in the user's language).
    ResultLoaded {
        id: ProcessingId,
        result: Result<Arc<crate::results::ResultLayer>, String>,
    },
    /// How many bytes the result cache holds (`None`: there is no cache).
    CacheSize(Option<u64>),
    LayerOpened {
        path: PathBuf,
        result: Result<Arc<crate::results::ResultLayer>, String>,
    },
    History {
        serial: u64,
        result: Result<Vec<crate::api::HistoryRow>, ApiError>,
    },
    HistorySaved {
        path: PathBuf,
        result: Result<u64, String>,
    },
    ResultSaved {
        id: ProcessingId,
        path: PathBuf,
        result: Result<SavedResult, String>,
    },
    /// A page of catalog results for `query`.
    CatalogResults {
        query: Box<crate::api::CatalogQuery>,
        result: Result<crate::api::CatalogPage, ApiError>,
    },
    /// A decoded preview, or why there is none.
    Preview {
        url: String,
        result: Result<Arc<egui::ColorImage>, String>,
    },
    Mosaics(Result<Vec<crate::api::Mosaic>, ApiError>),
    Memory(Result<crate::api::Memory, ApiError>),
    MosaicImages {
        id: crate::api::MosaicId,
        result: Result<Vec<crate::api::RasterImage>, ApiError>,
    },
    /// A mosaic or image was created, changed or deleted (or could not be).
    ImageryChanged {
        change: ImageryChange,
        result: Result<(), ApiError>,
    },
    /// One file of the upload queue moved on.
    Upload {
        path: PathBuf,
        status: UploadStatus,
    },
    UploadsFinished,
    /// The files chosen for an upload (none when the dialog was dismissed).
    UploadFilesPicked {
        target: UploadTarget,
        paths: Vec<PathBuf>,
    },
    ImageDownloaded {
        result: Result<(PathBuf, u64), String>,
    },
    /// An AOI read from a file, or why it was refused (the current AOI is untouched).
    AoiImported {
        path: PathBuf,
        result: Result<crate::geo::Aoi, String>,
    },
    /// The built-in file chooser is to open for `purpose`: the settings ask for it (`reason` is
    /// `None`) or the system has no dialog (`reason` says why). Answered with the command that
    /// asked, its path filled in.
    ChooseFile {
        purpose: files::FilePurpose,
        reason: Option<String>,
    },
    /// The entries of a folder asked for with `Command::ListFolder { path }`, or why not.
    FolderListing {
        path: PathBuf,
        result: Result<Arc<files::FolderListing>, String>,
    },
    /// A batch file was chosen and is being read.
    BatchFileReading {
        path: PathBuf,
    },
    /// A batch file's features, or why it could not be read.
    BatchFileRead {
        path: PathBuf,
        result: batch::BatchFile,
    },
    /// The estimate of one item of the batch plan `serial`.
    BatchCost {
        serial: u64,
        key: String,
        result: Result<f64, ApiError>,
    },
    /// A batch moved on (as saved); `stop` says it stopped before its end, and why.
    BatchProgress {
        record: Arc<batch::BatchRecord>,
        stop: Option<batch::BatchStop>,
    },
    /// The unfinished batches of this account, and the batch files that could not be read.
    BatchesFound {
        records: Vec<batch::BatchRecord>,
        problems: Vec<String>,
    },
    /// A batch was forgotten (or could not be).
    BatchDiscarded {
        id: String,
        result: Result<(), String>,
    },
}

/// How the worker is set up: where tokens are kept and how the embedded sandbox runs.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub credentials: CredentialStore,
    pub sandbox: SandboxConfig,
    pub retry: crate::api::RetryPolicy,
    /// How often the account is refreshed while signed in.
    pub status_interval: Duration,
    /// How often unfinished processings are polled.
    pub processing_poll: Duration,
    /// A multiplier for every request's timeout (tests shorten them).
    pub timeout_scale: f64,
    /// Where downloaded results are kept (`None`: not kept); the last projects and
    /// processings lists are kept beside it, in `../lists`.
    pub cache_dir: Option<PathBuf>,
}

impl WorkerConfig {
    /// The user's own setup: keychain, sandbox state in the user's data dir.
    pub fn user_default() -> Self {
        let data_dir = crate::platform::project_dirs().map(|d| d.data_dir().join("sandbox"));
        Self {
            credentials: CredentialStore::user_default(),
            sandbox: SandboxConfig { data_dir, ..SandboxConfig::default() },
            retry: crate::api::RetryPolicy::default(),
            status_interval: Duration::from_secs(30),
            processing_poll: Duration::from_secs(6),
            timeout_scale: 1.0,
            cache_dir: crate::platform::project_dirs().map(|d| d.cache_dir().join("results")),
        }
    }
}

/// Which session an event belongs to: the worker counts sessions up from 0 (before any
/// sign-in), one more each time a server becomes the session's. An answer to a request of an
/// earlier session (another server, another account) carries that session's number, so
/// `AppState::receive` can drop it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct SessionEpoch(pub u64);

/// An event with the session it belongs to.
#[derive(Debug)]
pub struct Stamped {
    pub session: SessionEpoch,
    pub event: Event,
}

impl Event {
    /// An event that opens a session: the session it carries becomes the current one.
    pub fn opens_session(&self) -> bool {
        matches!(self, Self::SignedIn { .. } | Self::SignedInOffline { .. })
    }

    /// An answer from the server of the session the request was made in, wrong for any
    /// later session: its projects, processings, account, catalog, imagery. The rest (a sign-in
    /// failing, files read or written, uploads and downloads under way, the cache, the file
    /// chooser) stays true whatever the session is now.
    pub fn is_session_bound(&self) -> bool {
        !matches!(
            self,
            Self::SignedIn { .. }
                | Self::SignedInOffline { .. }
                | Self::SignInFailed { .. }
                | Self::CredentialsStored(_)
                | Self::SandboxFailed(_)
                | Self::Reach { .. }
                | Self::CacheSize(_)
                | Self::LayerOpened { .. }
                | Self::HistorySaved { .. }
                | Self::ResultSaved { .. }
                | Self::Upload { .. }
                | Self::UploadsFinished
                | Self::UploadFilesPicked { .. }
                | Self::ImageDownloaded { .. }
                | Self::AoiImported { .. }
                | Self::ChooseFile { .. }
                | Self::FolderListing { .. }
                | Self::BatchFileReading { .. }
                | Self::BatchFileRead { .. }
                | Self::BatchDiscarded { .. }
        )
    }
}

/// The UI's end of the worker: send commands, drain events.
pub struct WorkerHandle {
    commands: tmpsc::UnboundedSender<Command>,
    events: mpsc::Receiver<Stamped>,
    _thread: std::thread::JoinHandle<()>,
}

impl WorkerHandle {
    /// Starts the worker thread. `repaint` is called after every event (egui's `request_repaint`).
    #[allow(
        clippy::disallowed_methods,
        reason = "the UI must never wait to send a command, nor the worker to hand over an event; the UI drains every event each frame"
    )]
    pub fn spawn(config: WorkerConfig, repaint: impl Fn() + Send + Sync + 'static) -> std::io::Result<Self> {
        let (cmd_tx, cmd_rx) = tmpsc::unbounded_channel();
        let (ev_tx, ev_rx) = mpsc::channel();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("mapflow-io")
            .enable_all()
            .build()?;
        let thread = std::thread::Builder::new().name("mapflow-worker".into()).spawn(move || {
            let sink = EventSink { tx: ev_tx, repaint: std::sync::Arc::new(repaint), session: SessionEpoch::default() };
            runtime.block_on(Worker::new(config, sink).run(cmd_rx));
            runtime.shutdown_timeout(Duration::from_secs(1));
        })?;
        Ok(Self { commands: cmd_tx, events: ev_rx, _thread: thread })
    }

    /// Sends a command; never blocks. A worker that has stopped is logged, not fatal.
    pub fn send(&self, command: Command) {
        if self.commands.send(command).is_err() {
            tracing::error!("the worker has stopped; the command was dropped");
        }
    }

    /// Every event that has arrived, without waiting, with the session it belongs to.
    pub fn try_recv(&self) -> Option<Stamped> {
        self.events.try_recv().ok()
    }
}

/// Sends events to the UI and wakes it. Each clone stamps its events with the session it was
/// made in: a task spawned before a switch keeps the old stamp.
#[derive(Clone)]
pub(crate) struct EventSink {
    tx: mpsc::Sender<Stamped>,
    repaint: std::sync::Arc<dyn Fn() + Send + Sync>,
    session: SessionEpoch,
}

impl EventSink {
    pub(crate) fn send(&self, event: Event) {
        if self.tx.send(Stamped { session: self.session, event }).is_ok() {
            (self.repaint)();
        }
    }

    /// The sink of the next session; the tasks holding this one go on stamping the old one.
    fn next_session(&self) -> Self {
        Self { session: SessionEpoch(self.session.0 + 1), ..self.clone() }
    }
}

/// The worker's state, owned by its thread.
pub(crate) struct Worker {
    config: WorkerConfig,
    sink: EventSink,
    client: Option<crate::api::Client>,
    sandbox: Option<crate::sandbox::Sandbox>,
    status_timer: Option<tokio::task::JoinHandle<()>>,
    processing_poll: Option<tokio::task::JoinHandle<()>>,
    preview_permits: Arc<tokio::sync::Semaphore>,
    upload_cancel: Option<tokio_util::sync::CancellationToken>,
    dialogs: dialogs::Dialogs,
    cache: Option<Arc<cache::ResultCache>>,
    lists: Option<Arc<lists::ListStore>>,
    /// Where batches keep their progress (`None`: nowhere, and none can run).
    batches: Option<batch::BatchStore>,
    /// The batch running (or last run), and its stop switch.
    batch_run: Option<(String, tokio_util::sync::CancellationToken, tokio::task::JoinHandle<()>)>,
}

impl Worker {
    fn new(config: WorkerConfig, sink: EventSink) -> Self {
        let cache = config.cache_dir.clone().map(|dir| Arc::new(cache::ResultCache::new(dir, cache::DEFAULT_LIMIT)));
        let lists = config.cache_dir.as_deref().map(|dir| Arc::new(lists::ListStore::beside(dir)));
        let batches = config.cache_dir.as_deref().map(batch::BatchStore::beside);
        Self {
            cache,
            lists,
            batches,
            batch_run: None,
            config,
            sink,
            client: None,
            sandbox: None,
            status_timer: None,
            processing_poll: None,
            preview_permits: Arc::new(tokio::sync::Semaphore::new(catalog::PREVIEW_PARALLELISM)),
            upload_cancel: None,
            dialogs: dialogs::Dialogs::default(),
        }
    }

    async fn run(mut self, mut commands: tmpsc::UnboundedReceiver<Command>) {
        // Find out now whether a system file dialog exists, so the first one opens at once.
        tokio::spawn(self.dialogs.clone().check());
        while let Some(command) = commands.recv().await {
            tracing::debug!(?command, "command");
            self.handle(command).await;
        }
        for t in [self.status_timer.take(), self.processing_poll.take()].into_iter().flatten() {
            t.abort();
        }
    }

    async fn handle(&mut self, command: Command) {
        match command {
            Command::Startup => self.startup().await,
            Command::SignIn { server, token, remember } => self.sign_in(server, token, remember).await,
            Command::SignOut => self.sign_out().await,
            Command::RefreshStatus => self.spawn_call(|c| async move { c.user_status().await }, Event::Status),
            Command::LoadHistory { filter, serial } => self.spawn_call(
                move |c| async move { c.processing_history(filter.as_deref()).await },
                move |result| Event::History { serial, result },
            ),
            Command::SaveHistory { filter, path } => self.save_history(filter, path),
            Command::OpenLayer { path } => self.open_layer(path),
            Command::SetCacheLimit { bytes } => self.cache_job(move |c| c.set_limit(bytes)),
            Command::ClearCache => self.cache_job(cache::ResultCache::clear),
            Command::LoadProjects { query } => self.load_projects(query),
            Command::CreateProject { name, description } => {
                let asked = name.clone();
                self.spawn_call(
                    move |c| async move { c.create_project(&name, description.as_deref()).await },
                    move |result| Event::ProjectCreated { name: asked, result },
                );
            }
            Command::RenameProject { id, name } => self.spawn_keyed(
                id,
                move |c, id| async move {
                    c.update_project(&id, &ProjectEdit { name: Some(name), description: None }).await
                },
                |id, result| Event::ProjectRenamed { id, result },
            ),
            Command::DeleteProject { id } => self.spawn_keyed(
                id,
                |c, id| async move { c.delete_project(&id).await },
                |id, result| Event::ProjectDeleted { id, result },
            ),
            Command::OpenProject { id, serial } => self.spawn_keyed(
                id,
                |c, id| async move { c.project(&id).await },
                move |id, result| Event::ProjectOpened { id, serial, result },
            ),
            Command::WatchProcessings { project, query } => self.watch_processings(project, query),
            Command::EstimateCost { request } => self.spawn_keyed(
                request,
                |c, r| async move { c.processing_cost(&r).await },
                |r, result| Event::Cost { request: Box::new(r), result },
            ),
            Command::CreateProcessing { request } => self.create_processing(request),
            Command::FindCreated { request, since } => self.find_created(request, since),
            Command::UpdateProcessing { id, edit } => self.spawn_keyed(
                id,
                move |c, id| async move { c.update_processing(&id, &edit).await },
                |id, result| Event::ProcessingUpdated { id, result },
            ),
            Command::DeleteProcessing { id } => self.spawn_keyed(
                id,
                |c, id| async move { c.delete_processing(&id).await },
                |id, result| Event::ProcessingDeleted { id, result },
            ),
            // A run again changes the processing's `updated`, and with it its result's cache key.
            Command::RestartProcessing { id } => self.spawn_keyed(
                id,
                |c, id| async move { c.restart_processing(&id).await },
                |id, result| Event::ProcessingRestarted { id, result },
            ),
            Command::RateProcessing { id, rating, feedback } => self.spawn_keyed(
                id,
                move |c, id| async move { c.rate_processing(&id, rating, &feedback).await },
                |id, result| Event::ProcessingRated { id, result },
            ),
            Command::LoadProcessingAois { id } => self.spawn_keyed(
                id,
                |c, id| async move { c.processing_aois(&id).await },
                |id, result| Event::ProcessingAois { id, result },
            ),
            Command::AcceptProcessing { id } => self.accept(id),
            Command::Templates(command) => self.templates(command),
            Command::RejectProcessing { id, comment, marked } => self.reject(id, comment, marked),
            Command::ShareProject { project, email, role } => self.share(project, email, role),
            Command::LoadResult { id, version } => self.load_result(id, version),
            Command::SaveResult { id, name, path } => self.save_result(id, name, path),
            Command::SaveSelection { id, name, features, path } => self.save_selection(id, name, features, path),
            Command::SaveGeoJson { name, geojson, path } => self.save_geojson(name, geojson, path),
            Command::ImportAoi { path } => self.import_aoi(path),
            Command::SearchCatalog { query } => self.search_catalog(query),
            Command::FetchPreview { url } => self.fetch_preview(url),
            Command::LoadMosaics => self.spawn_call(|c| async move { c.mosaics(None).await }, Event::Mosaics),
            Command::LoadMemory => self.spawn_call(|c| async move { c.memory().await }, Event::Memory),
            Command::LoadMosaicImages { id } => self.spawn_keyed(
                id,
                |c, id| async move { c.mosaic_images(&id).await },
                |id, result| Event::MosaicImages { id, result },
            ),
            Command::CreateMosaic { name, tags } => {
                let change = ImageryChange::MosaicCreated(name.clone());
                self.spawn_call(
                    move |c| async move { c.create_mosaic(&name, &tags).await.map(|_| ()) },
                    move |result| Event::ImageryChanged { change, result },
                );
            }
            Command::UpdateMosaic { id, name, tags } => {
                let change = ImageryChange::MosaicUpdated(name.clone());
                self.spawn_call(
                    move |c| async move { c.update_mosaic(&id, Some(&name), Some(&tags)).await.map(|_| ()) },
                    move |result| Event::ImageryChanged { change, result },
                );
            }
            Command::DeleteMosaics { ids } => {
                let change = ImageryChange::MosaicsDeleted(ids.len());
                self.spawn_call(
                    move |c| async move {
                        for id in &ids {
                            c.delete_mosaic(id).await?;
                        }
                        Ok(())
                    },
                    move |result| Event::ImageryChanged { change, result },
                );
            }
            Command::RenameImage { id, name } => {
                let change = ImageryChange::ImageRenamed(name.clone());
                self.spawn_call(
                    move |c| async move { c.rename_image(&id, &name).await.map(|_| ()) },
                    move |result| Event::ImageryChanged { change, result },
                );
            }
            Command::DeleteImage { id } => self.spawn_call(
                move |c| async move { c.delete_image(&id).await },
                |result| Event::ImageryChanged { change: ImageryChange::ImageDeleted, result },
            ),
            Command::Upload { target, paths: Some(paths) } => self.upload_queue(target, paths),
            Command::Upload { target, paths: None } => {
                // The dialog runs on its own task, so the worker goes on while it is open.
                let (sink, dialogs) = (self.sink.clone(), self.dialogs.clone());
                tokio::spawn(async move {
                    let purpose = files::FilePurpose::Upload { target: target.clone() };
                    let native = || rfd::AsyncFileDialog::new().add_filter("GeoTIFF", &["tif", "tiff"]).pick_files();
                    let paths = match dialogs.pick(&sink, purpose, native).await {
                        dialogs::Picked::Chosen(files) => files.iter().map(|f| f.path().to_owned()).collect(),
                        dialogs::Picked::Dismissed => Vec::new(),
                        dialogs::Picked::Builtin => return,
                    };
                    sink.send(Event::UploadFilesPicked { target, paths });
                });
            }
            Command::CancelUpload => {
                if let Some(c) = &self.upload_cancel {
                    c.cancel();
                }
            }
            Command::DownloadImage { id, filename, path } => self.download_image(id, filename, path),
            Command::ListFolder { path } => self.list_folder(path),
            Command::SetFileChooser { builtin } => self.dialogs.builtin_only = builtin,
            Command::ReadBatchFile { path } => self.read_batch_file(path),
            Command::EstimateBatch { serial, requests } => self.estimate_batch(serial, requests),
            Command::RunBatch { record } => self.run_batch(*record),
            Command::PauseBatch => self.pause_batch(),
            Command::LoadBatches => self.load_batches(),
            Command::DiscardBatch { id } => self.discard_batch(id),
        }
    }

    /// Like [`Self::spawn_call`], for a call about one object (`key`) that its event names too.
    fn spawn_keyed<K, T, F, Fut>(
        &self,
        key: K,
        call: F,
        event: impl FnOnce(K, Result<T, ApiError>) -> Event + Send + 'static,
    ) where
        K: Clone + Send + 'static,
        T: Send + 'static,
        F: FnOnce(crate::api::Client, K) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = Result<T, ApiError>> + Send + 'static,
    {
        let for_event = key.clone();
        self.spawn_call(move |c| call(c, key), move |result| event(for_event, result));
    }

    /// Runs `call` with the current client on its own task and sends its result as an event.
    fn spawn_call<T, F, Fut>(&self, call: F, event: impl FnOnce(Result<T, ApiError>) -> Event + Send + 'static)
    where
        T: Send + 'static,
        F: FnOnce(crate::api::Client) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = Result<T, ApiError>> + Send + 'static,
    {
        let sink = self.sink.clone();
        let client = self.client.clone();
        tokio::spawn(async move {
            let result = match client {
                Some(c) => call(c).await,
                None => Err(processings::not_signed_in()),
            };
            sink.send(event(result));
        });
    }
}
