//! Batches: many processings started one by one from a file of polygons, their progress kept
//! on disk so that neither a retry nor a restart of the app ever starts one item twice.
//!
//! Each batch is one JSON file (`batches/<id>.json`, beside the result cache), written
//! atomically. An item is marked "sending" on disk *before* its create goes out; an item found
//! "sending" later (the app was closed, or the answer was lost) is first looked for on the
//! server (same project, name and area, created since the attempt), and created again only
//! when it is not there. Secrets (an imagery password) are never written: a batch that needs
//! one says so, and takes it from the form when resumed.

use super::processings::{CreateOutcome, create_or_find, look_for_created, not_signed_in};
use super::{Event, EventSink, Worker};
use crate::api::{ApiError, Processing, ProcessingId, ProcessingRequest, ProjectId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The format of a batch file; a file of another version is not read.
const VERSION: u32 = 1;

/// How many estimates are asked for at once.
const ESTIMATE_PARALLELISM: usize = 4;

/// What became of one item of a batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "camelCase")]
pub enum ItemState {
    /// Not sent yet.
    Waiting,
    /// Its create was sent at `since`; no answer has been recorded. Before it is sent again,
    /// the server is asked whether it made it.
    Sending { since: DateTime<Utc> },
    /// Started: the processing's id; `adopted` when found on the server after an answer was
    /// lost rather than answered.
    #[serde(rename_all = "camelCase")]
    Created { processing_id: ProcessingId, adopted: bool },
    /// Not started, and why: the checks before charging, the estimate, or the server's answer.
    Refused { reason: String },
    /// Left out by the user.
    Skipped,
}

impl ItemState {
    /// Still to do: waiting, or sent without an answer.
    pub fn is_open(&self) -> bool {
        matches!(self, Self::Waiting | Self::Sending { .. })
    }
}

/// One processing of a batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchItem {
    /// What identifies it within the batch: `feature:<index>` or `group:<value>`.
    pub key: String,
    pub name: String,
    /// The area processed, m².
    pub area_m2: f64,
    /// The estimate, in credits, when there is one.
    #[serde(default)]
    pub cost: Option<f64>,
    /// The create to send (`None` for an item refused before it was built).
    #[serde(default)]
    pub request: Option<ProcessingRequest>,
    pub state: ItemState,
}

/// A batch and its progress, as kept on disk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchRecord {
    pub version: u32,
    pub id: String,
    /// The server and account it runs on; another's batches are not offered.
    pub server: String,
    pub account: String,
    pub project_id: ProjectId,
    pub project_name: String,
    /// The file it was read from, as shown.
    pub file_name: String,
    pub created_at: DateTime<Utc>,
    /// The imagery needs a password, which is not kept on disk.
    #[serde(default)]
    pub password_withheld: bool,
    pub items: Vec<BatchItem>,
}

/// Counts of a batch's items by what became of them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchCounts {
    pub created: usize,
    pub refused: usize,
    pub skipped: usize,
    /// Still to do (waiting or sent without an answer).
    pub open: usize,
}

impl BatchRecord {
    /// A new batch's id: when it was made, unique enough on one machine.
    pub fn new_id() -> String {
        let now = Utc::now();
        format!("{}-{:09}", now.format("%Y%m%d-%H%M%S"), now.timestamp_subsec_nanos())
    }

    pub fn counts(&self) -> BatchCounts {
        let mut c = BatchCounts::default();
        for item in &self.items {
            match item.state {
                ItemState::Created { .. } => c.created += 1,
                ItemState::Refused { .. } => c.refused += 1,
                ItemState::Skipped => c.skipped += 1,
                ItemState::Waiting | ItemState::Sending { .. } => c.open += 1,
            }
        }
        c
    }

    /// Whether every item has come to an end.
    pub fn is_finished(&self) -> bool {
        !self.items.iter().any(|i| i.state.is_open())
    }

    /// The credits of the items still to do and those started.
    pub fn total_cost(&self) -> f64 {
        self.items
            .iter()
            .filter(|i| i.state.is_open() || matches!(i.state, ItemState::Created { .. }))
            .filter_map(|i| i.cost)
            .sum()
    }
}

/// The batches on disk, one file each.
#[derive(Debug, Clone)]
pub struct BatchStore {
    dir: PathBuf,
}

impl BatchStore {
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    /// The store beside the result cache in `cache_dir`: its sibling folder `batches`.
    pub fn beside(cache_dir: &Path) -> Self {
        let parent = cache_dir.parent().filter(|p| !p.as_os_str().is_empty());
        Self::new(parent.map_or_else(|| cache_dir.join("batches"), |p| p.join("batches")))
    }

    fn path(&self, id: &str) -> PathBuf {
        // Ids are made here, but a file's is checked all the same: no path out of the folder.
        let safe: String = id.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').collect();
        self.dir.join(format!("{safe}.json"))
    }

    /// Writes `record` atomically (a temporary file renamed over the old one), without
    /// any secret it holds.
    pub fn save(&self, record: &BatchRecord) -> std::io::Result<()> {
        use std::io::Write as _;
        std::fs::create_dir_all(&self.dir)?;
        let mut value = serde_json::to_value(record).map_err(std::io::Error::other)?;
        super::lists::scrub(&mut value);
        let bytes = serde_json::to_vec(&value).map_err(std::io::Error::other)?;
        let mut tmp = tempfile::Builder::new().prefix(".batch-").suffix(".tmp").tempfile_in(&self.dir)?;
        tmp.write_all(&bytes)?;
        tmp.as_file().sync_all()?;
        tmp.persist(self.path(&record.id)).map_err(|e| e.error)?;
        Ok(())
    }

    /// The batch `id`, if it is on disk.
    pub fn load(&self, id: &str) -> std::io::Result<Option<BatchRecord>> {
        match std::fs::read(self.path(id)) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(std::io::Error::other),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The unfinished batches of `account` on `server`, oldest first, and the files that could
    /// not be read (each a sentence), which are reported, not skipped in silence.
    pub fn unfinished(&self, server: &str, account: &str) -> (Vec<BatchRecord>, Vec<String>) {
        let (mut out, mut problems) = (Vec::new(), Vec::new());
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (out, problems),
            Err(e) => return (out, vec![format!("{}: {e}", self.dir.display())]),
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let read = std::fs::read(&path)
                .map_err(|e| e.to_string())
                .and_then(|b| serde_json::from_slice::<BatchRecord>(&b).map_err(|e| e.to_string()));
            match read {
                Ok(r) if r.version == VERSION && r.server == server && r.account == account && !r.is_finished() => {
                    out.push(r);
                }
                Ok(_) => {}
                Err(e) => problems.push(format!("{}: {e}", path.display())),
            }
        }
        out.sort_by_key(|r| r.created_at);
        (out, problems)
    }

    /// Forgets batch `id`.
    pub fn remove(&self, id: &str) -> std::io::Result<()> {
        match std::fs::remove_file(self.path(id)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

/// A new record at [`VERSION`] for `server` and `account`.
#[allow(clippy::too_many_arguments)]
pub fn new_record(
    server: &str,
    account: &str,
    project_id: ProjectId,
    project_name: String,
    file_name: String,
    password_withheld: bool,
    items: Vec<BatchItem>,
) -> BatchRecord {
    BatchRecord {
        version: VERSION,
        id: BatchRecord::new_id(),
        server: server.to_owned(),
        account: account.to_owned(),
        project_id,
        project_name,
        file_name,
        created_at: Utc::now(),
        password_withheld,
        items,
    }
}

/// Why a batch stopped before its end.
#[derive(Debug, Clone, PartialEq)]
pub enum BatchStop {
    /// The user paused it.
    Paused,
    /// It cannot go on without the user (the server does not answer, progress cannot be
    /// kept): the sentence says why.
    Failed(String),
}

/// A read batch file: its features, or why it could not be read.
pub type BatchFile = Result<Arc<Vec<crate::geo::batch::SourceFeature>>, String>;

/// The biggest batch file read.
const MAX_BATCH_FILE: u64 = 256 * 1024 * 1024;

impl Worker {
    /// Reads a file of polygons for a batch, asking for it first when there is no path.
    pub(super) fn read_batch_file(&self, path: Option<PathBuf>) {
        let (sink, dialogs) = (self.sink.clone(), self.dialogs.clone());
        tokio::spawn(async move {
            let purpose = super::files::FilePurpose::BatchFile;
            let Some(path) = dialogs.path(&sink, path, purpose).await else { return };
            sink.send(Event::BatchFileReading { path: path.clone() });
            let file = path.clone();
            let result = tokio::task::spawn_blocking(move || read_file(&file))
                .await
                .map_err(|e| e.to_string())
                .and_then(|r| r.map(Arc::new));
            sink.send(Event::BatchFileRead { path, result });
        });
    }

    /// Estimates every item, a few at a time, each answered on its own.
    pub(super) fn estimate_batch(&self, serial: u64, requests: Vec<(String, ProcessingRequest)>) {
        let (sink, client) = (self.sink.clone(), self.client.clone());
        tokio::spawn(async move {
            let permits = Arc::new(tokio::sync::Semaphore::new(ESTIMATE_PARALLELISM));
            let mut tasks = tokio::task::JoinSet::new();
            for (key, request) in requests {
                let (sink, client, permits) = (sink.clone(), client.clone(), permits.clone());
                tasks.spawn(async move {
                    let Ok(_permit) = permits.acquire_owned().await else { return };
                    let result = match client {
                        Some(c) => c.processing_cost(&request).await,
                        None => Err(not_signed_in()),
                    };
                    sink.send(Event::BatchCost { serial, key, result });
                });
            }
            while tasks.join_next().await.is_some() {}
        });
    }

    /// Runs (or resumes) `record`: saved first, then its open items one by one.
    pub(super) fn run_batch(&mut self, record: BatchRecord) {
        // A paused run finishes its current item first: until its task has ended, no other
        // run starts (it could send that item again).
        if let Some((id, _, task)) = &self.batch_run
            && !task.is_finished()
        {
            tracing::warn!("a batch ({id}) is still finishing an item; another was not started");
            let reason = rust_i18n::t!("batch.still_finishing").into_owned();
            return self
                .sink
                .send(Event::BatchProgress { record: Arc::new(record), stop: Some(BatchStop::Failed(reason)) });
        }
        let sink = self.sink.clone();
        let Some(store) = self.batches.clone() else {
            let reason = rust_i18n::t!("batch.no_store").into_owned();
            return sink.send(Event::BatchProgress { record: Arc::new(record), stop: Some(BatchStop::Failed(reason)) });
        };
        let Some(client) = self.client.clone() else {
            let reason = crate::messages::error_text(&not_signed_in());
            return sink.send(Event::BatchProgress { record: Arc::new(record), stop: Some(BatchStop::Failed(reason)) });
        };
        let token = tokio_util::sync::CancellationToken::new();
        let id = record.id.clone();
        let task = tokio::spawn(run(client, store, record, token.clone(), sink));
        self.batch_run = Some((id, token, task));
    }

    /// Pauses the running batch once its current item has its answer.
    pub(super) fn pause_batch(&mut self) {
        if let Some((_, token, _)) = &self.batch_run {
            token.cancel();
        }
    }

    /// The unfinished batches of this session's account.
    pub(super) fn load_batches(&self) {
        let (sink, store, client) = (self.sink.clone(), self.batches.clone(), self.client.clone());
        let (Some(store), Some(client)) = (store, client) else {
            return sink.send(Event::BatchesFound { records: Vec::new(), problems: Vec::new() });
        };
        let (server, account) = (client.base_url().to_owned(), client.token().email().to_owned());
        tokio::task::spawn_blocking(move || {
            let (records, problems) = store.unfinished(&server, &account);
            sink.send(Event::BatchesFound { records, problems });
        });
    }

    /// Forgets a batch (its processings stay).
    pub(super) fn discard_batch(&self, id: String) {
        let (sink, store) = (self.sink.clone(), self.batches.clone());
        tokio::task::spawn_blocking(move || {
            let result = store.map_or(Ok(()), |s| s.remove(&id)).map_err(|e| e.to_string());
            sink.send(Event::BatchDiscarded { id, result });
        });
    }
}

fn read_file(path: &Path) -> Result<Vec<crate::geo::batch::SourceFeature>, String> {
    let shown = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let meta = std::fs::metadata(path).map_err(|e| shown(&e))?;
    if meta.len() > MAX_BATCH_FILE {
        return Err(rust_i18n::t!("aoi.file_too_big", size = meta.len() / (1024 * 1024)).into_owned());
    }
    let bytes = match crate::export::Format::from_path(path) {
        Some(crate::export::Format::GeoJson) | None => std::fs::read(path).map_err(|e| shown(&e))?,
        Some(_) => crate::export::read::to_geojson(path).map_err(|e| shown(&e))?,
    };
    crate::geo::batch::read_features(&bytes).map_err(|e| e.message())
}

/// Saves `record` off the async threads.
async fn save(store: &BatchStore, record: &BatchRecord) -> Result<(), String> {
    let (store, copy) = (store.clone(), record.clone());
    tokio::task::spawn_blocking(move || store.save(&copy))
        .await
        .map_err(|e| e.to_string())
        .and_then(|r| r.map_err(|e| e.to_string()))
        .map_err(|e| rust_i18n::t!("batch.not_kept", reason = e).into_owned())
}

/// What happened to one item's create.
enum Step {
    Done(ItemState),
    /// The batch must stop here: the item's state to keep, and why.
    Stop(ItemState, String),
}

async fn run(
    client: crate::api::Client,
    store: BatchStore,
    mut record: BatchRecord,
    token: tokio_util::sync::CancellationToken,
    sink: EventSink,
) {
    let send = |record: &BatchRecord, stop: Option<BatchStop>| {
        sink.send(Event::BatchProgress { record: Arc::new(record.clone()), stop });
    };
    let fail = |record: &BatchRecord, reason: String| {
        token.cancel();
        send(record, Some(BatchStop::Failed(reason)));
    };
    // What is on disk is what happened: an earlier run may have moved on since the app's copy
    // was made. Its states win; the requests (with a password the file never holds) are the
    // app's.
    let (saved_store, id) = (store.clone(), record.id.clone());
    match tokio::task::spawn_blocking(move || saved_store.load(&id)).await {
        Ok(Ok(Some(saved))) => {
            for item in &mut record.items {
                if let Some(kept) = saved.items.iter().find(|kept| kept.key == item.key) {
                    item.state = kept.state.clone();
                }
            }
        }
        Ok(Ok(None)) => {}
        Ok(Err(e)) => return fail(&record, rust_i18n::t!("batch.not_kept", reason = e.to_string()).into_owned()),
        Err(e) => return fail(&record, rust_i18n::t!("batch.not_kept", reason = e.to_string()).into_owned()),
    }
    if let Err(reason) = save(&store, &record).await {
        return fail(&record, reason);
    }
    send(&record, None);
    while let Some(at) = record.items.iter().position(|i| i.state.is_open()) {
        if token.is_cancelled() {
            return send(&record, Some(BatchStop::Paused));
        }
        let Some(request) = record.items[at].request.clone() else {
            record.items[at].state = ItemState::Refused { reason: rust_i18n::t!("batch.nothing_to_send").into_owned() };
            continue;
        };
        let step = match record.items[at].state.clone() {
            // Sent before without an answer: it may be there already.
            ItemState::Sending { since } => match look_for_created(&client, &request, since).await {
                Ok(Some(p)) => Step::Done(created(&p, true)),
                Ok(None) => send_one(&client, &store, &mut record, at, &request, &send).await,
                Err(e) => Step::Stop(
                    ItemState::Sending { since },
                    rust_i18n::t!("batch.cannot_check", name = request.name, reason = crate::messages::error_text(&e))
                        .into_owned(),
                ),
            },
            _ => send_one(&client, &store, &mut record, at, &request, &send).await,
        };
        match step {
            Step::Done(state) => {
                record.items[at].state = state;
                if let Err(reason) = save(&store, &record).await {
                    return fail(&record, reason);
                }
                send(&record, None);
            }
            Step::Stop(state, reason) => {
                record.items[at].state = state;
                if let Err(kept) = save(&store, &record).await {
                    return fail(&record, format!("{reason} {kept}"));
                }
                return fail(&record, reason);
            }
        }
    }
    token.cancel();
    send(&record, None);
}

fn created(p: &Processing, adopted: bool) -> ItemState {
    ItemState::Created { processing_id: p.id.clone(), adopted }
}

/// Marks item `at` as sending on disk, then sends its create once.
async fn send_one(
    client: &crate::api::Client,
    store: &BatchStore,
    record: &mut BatchRecord,
    at: usize,
    request: &ProcessingRequest,
    send: &impl Fn(&BatchRecord, Option<BatchStop>),
) -> Step {
    let since = Utc::now();
    let before = std::mem::replace(&mut record.items[at].state, ItemState::Sending { since });
    if let Err(reason) = save(store, record).await {
        return Step::Stop(before, reason);
    }
    send(record, None);
    match create_or_find(client, request, since).await {
        CreateOutcome::Created(p) => Step::Done(created(&p, false)),
        CreateOutcome::Unanswered { found: Ok(Some(p)), .. } => Step::Done(created(&p, true)),
        // Not found yet, but a create still on its way may land after the look: it stays
        // "sending", so a resume looks for it again before sending anything.
        CreateOutcome::Unanswered { error, found: Ok(None) } => Step::Stop(
            ItemState::Sending { since },
            rust_i18n::t!("batch.no_answer", name = request.name, reason = crate::messages::error_text(&error))
                .into_owned(),
        ),
        // Made or not, nobody knows: it stays "sending", looked for again on resume.
        CreateOutcome::Unanswered { error: _, found: Err(check) } => Step::Stop(
            ItemState::Sending { since },
            rust_i18n::t!("batch.cannot_check", name = request.name, reason = crate::messages::error_text(&check))
                .into_owned(),
        ),
        // The server may have made it before failing (a 5xx), or made it and answered what
        // cannot be read: looked for on resume, never simply sent again.
        CreateOutcome::Refused(error) if may_have_made_it(&error) => Step::Stop(
            ItemState::Sending { since },
            rust_i18n::t!("batch.server_trouble", name = request.name, reason = crate::messages::error_text(&error))
                .into_owned(),
        ),
        CreateOutcome::Refused(error) if stops_the_batch(&error) => Step::Stop(
            ItemState::Waiting,
            rust_i18n::t!("batch.server_trouble", name = request.name, reason = crate::messages::error_text(&error))
                .into_owned(),
        ),
        CreateOutcome::Refused(error) => Step::Done(ItemState::Refused { reason: crate::messages::error_text(&error) }),
    }
}

/// An answered failure that would fail every item after it the same way (the service is
/// down, the session is over, the role does not allow starting): the batch stops, the item
/// still to do.
fn stops_the_batch(error: &ApiError) -> bool {
    use crate::api::ErrorKind;
    error.is_retryable()
        || matches!(error.kind, ErrorKind::Unauthorized | ErrorKind::Forbidden)
        || error.status == Some(403)
}

/// A failed create the server may have carried out all the same: a server error (it can
/// fail after committing), or a success whose body could not be read.
fn may_have_made_it(error: &ApiError) -> bool {
    use crate::api::ErrorKind;
    error.status.is_some_and(|s| s >= 500)
        || (matches!(error.kind, ErrorKind::Decode { .. }) && error.status.is_none_or(|s| (200..300).contains(&s)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_create_the_server_may_have_carried_out_is_looked_for_not_sent_again() {
        // Server errors can come after the processing was made; an unreadable success was made.
        for status in [500, 502, 503] {
            assert!(may_have_made_it(&ApiError::from_status(status, "")), "{status}");
        }
        let unreadable = ApiError {
            status: Some(200),
            ..ApiError::new(crate::api::ErrorKind::Decode { path: "id".into(), message: "missing".into() })
        };
        assert!(may_have_made_it(&unreadable));
        // A refusal made nothing.
        for status in [400, 401, 403, 404, 429] {
            assert!(!may_have_made_it(&ApiError::from_status(status, "")), "{status}");
        }
        // What would fail every item the same way stops the batch: the role, the session, a
        // busy server; a refusal of one area does not.
        for status in [401, 403, 429] {
            assert!(stops_the_batch(&ApiError::from_status(status, "")), "{status}");
        }
        assert!(!stops_the_batch(&ApiError::from_status(400, r#"{"code":"AOI_TOO_BIG","message":"too big"}"#)));
    }

    fn item(key: &str, state: ItemState) -> BatchItem {
        BatchItem { key: key.into(), name: format!("Field {key}"), area_m2: 1e6, cost: Some(2.0), request: None, state }
    }

    fn record(items: Vec<BatchItem>) -> BatchRecord {
        new_record(
            "http://127.0.0.1:1/rest",
            "demo@example.com",
            ProjectId("p".into()),
            "Fields".into(),
            "fields.geojson".into(),
            false,
            items,
        )
    }

    #[test]
    fn a_batch_survives_a_reload_with_each_items_state() {
        let dir = tempfile::tempdir().unwrap();
        let store = BatchStore::beside(&dir.path().join("results"));
        let since = Utc::now();
        let rec = record(vec![
            item("feature:0", ItemState::Created { processing_id: ProcessingId("a".into()), adopted: false }),
            item("feature:1", ItemState::Sending { since }),
            item("feature:2", ItemState::Waiting),
            item("feature:3", ItemState::Refused { reason: "too big".into() }),
            item("feature:4", ItemState::Skipped),
        ]);
        store.save(&rec).unwrap();
        assert!(dir.path().join("batches").join(format!("{}.json", rec.id)).is_file());
        assert_eq!(store.load(&rec.id).unwrap().as_ref(), Some(&rec));
        assert_eq!(rec.counts(), BatchCounts { created: 1, refused: 1, skipped: 1, open: 2 });
        assert_eq!(rec.total_cost(), 6.0, "the started and the open, not the refused or skipped");
        assert_eq!(store.unfinished(&rec.server, &rec.account), (vec![rec.clone()], vec![]));
        assert!(store.unfinished(&rec.server, "other@example.com").0.is_empty(), "another account's");
        assert!(store.unfinished("http://elsewhere/rest", &rec.account).0.is_empty(), "another server's");

        // Finished: no longer offered; removed: gone.
        let mut done = rec.clone();
        for i in &mut done.items {
            if i.state.is_open() {
                i.state = ItemState::Skipped;
            }
        }
        store.save(&done).unwrap();
        assert!(store.unfinished(&rec.server, &rec.account).0.is_empty());
        store.remove(&rec.id).unwrap();
        assert_eq!(store.load(&rec.id).unwrap(), None);
        store.remove(&rec.id).unwrap();
    }

    #[test]
    fn an_imagery_password_is_never_written() {
        let dir = tempfile::tempdir().unwrap();
        let store = BatchStore::new(dir.path().to_owned());
        let mut it = item("feature:0", ItemState::Waiting);
        it.request = Some(ProcessingRequest {
            name: "Field".into(),
            description: None,
            project_id: ProjectId("p".into()),
            wd_id: None,
            wd_name: None,
            geometry: None,
            area_sq_km: None,
            params: crate::api::ProcessingParams {
                source_params: crate::api::SourceParams::UserDefined {
                    source_type: crate::api::UserSourceType::Xyz,
                    url: "https://tiles.example/{z}/{x}/{y}.png".into(),
                    zoom: Some(18),
                    crs: "epsg:3857".into(),
                    raster_login: Some("me".into()),
                    raster_password: Some(crate::api::Secret::new("hunter2")),
                },
                inference_params: None,
            },
            blocks: Vec::new(),
            meta: None,
        });
        let rec = record(vec![it]);
        store.save(&rec).unwrap();
        let text = std::fs::read_to_string(dir.path().join(format!("{}.json", rec.id))).unwrap();
        assert!(!text.contains("hunter2"), "{text}");
        let back = store.load(&rec.id).unwrap().unwrap();
        let Some(crate::api::SourceParams::UserDefined { raster_password, raster_login, .. }) =
            back.items[0].request.as_ref().map(|r| r.params.source_params.clone())
        else {
            panic!("the source is kept")
        };
        assert_eq!((raster_password.is_none(), raster_login.as_deref()), (true, Some("me")));
    }

    #[test]
    fn a_damaged_file_is_reported_and_an_id_cannot_leave_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let store = BatchStore::new(dir.path().to_owned());
        std::fs::write(dir.path().join("broken.json"), b"{").unwrap();
        let rec = record(vec![item("feature:0", ItemState::Waiting)]);
        store.save(&rec).unwrap();
        let (found, problems) = store.unfinished(&rec.server, &rec.account);
        assert_eq!(found, vec![rec], "the readable one is still offered");
        assert!(problems.len() == 1 && problems[0].contains("broken.json"), "{problems:?}");
        assert_eq!(store.path("../../etc/passwd"), dir.path().join("etcpasswd.json"));
    }
}
