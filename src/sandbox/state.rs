//! The sandbox's state: what routes share, and what survives a restart.
//!
//! [`PersistedState`] is everything the account owns (balance, projects, processings;
//! later mosaics, images). It is one JSON document, `sandbox-state.json` in the data
//! directory, read at start and rewritten atomically after every change. New fields must
//! carry `#[serde(default)]` so older files still load.
//!
//! A processing's progress is not stored: it is computed from its start time whenever it
//! is read (see [`super::processing`]), so it keeps running across a restart. The one
//! side effect of time passing, the refund of a failed run, is applied by [`Shared`]
//! before every read or write ("settling"), and saved.

use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::SandboxConfig;
use super::error::ApiResult;
use super::faults::{Faults, Recorder};
use super::processing::{self, ProcessingRecord};
use super::rasters::{ImageRecord, MosaicRecord, RasterStore};
use super::seed;
use super::tiles::TileCache;

/// The name of the state file inside the data directory.
pub const STATE_FILE: &str = "sandbox-state.json";

/// Version of the state file's layout, for migrations.
const STATE_VERSION: u32 = 1;

/// The account's own numbers.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct Account {
    /// The user's id, as shown in `project.user.id`.
    pub user_id: String,
    pub remaining_credits: i64,
    /// m² processed so far.
    pub processed_area: i64,
}

impl Default for Account {
    fn default() -> Self {
        Self { user_id: uuid::Uuid::new_v4().to_string(), remaining_credits: seed::INITIAL_CREDITS, processed_area: 0 }
    }
}

/// A project as stored; the API shape is built from it by the project routes.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ProjectRecord {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub is_default: bool,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
}

impl ProjectRecord {
    /// A new project with a fresh id, created now.
    pub fn new(name: &str, description: Option<String>, is_default: bool, created: DateTime<Utc>) -> Self {
        Self {
            id: uuid::Uuid::new_v4().to_string(),
            name: name.to_owned(),
            description,
            is_default,
            created,
            updated: created,
        }
    }
}

/// Everything that survives a restart.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct PersistedState {
    pub version: u32,
    pub account: Account,
    pub projects: Vec<ProjectRecord>,
    /// Every processing of every project, oldest first.
    pub processings: Vec<ProcessingRecord>,
    /// Data API mosaics, oldest first.
    #[serde(default)]
    pub mosaics: Vec<MosaicRecord>,
    /// Images uploaded into the mosaics, oldest first; files under `<data_dir>/rasters/`.
    #[serde(default)]
    pub images: Vec<ImageRecord>,
}

impl Default for PersistedState {
    fn default() -> Self {
        Self {
            version: STATE_VERSION,
            account: Account::default(),
            projects: Vec::new(),
            processings: Vec::new(),
            mosaics: Vec::new(),
            images: Vec::new(),
        }
    }
}

impl PersistedState {
    /// The projects of a fresh account: the default project and the (empty) demo project.
    pub fn seed() -> Self {
        let now = Utc::now();
        let mut state = Self::default();
        state.projects.push(ProjectRecord::new(seed::DEFAULT_PROJECT_NAME, None, true, now - Duration::days(2)));
        state.projects.push(ProjectRecord::new(
            seed::DEMO_PROJECT_NAME,
            Some(seed::DEMO_PROJECT_DESCRIPTION.to_owned()),
            false,
            now - Duration::days(1),
        ));
        state
    }

    /// A fresh account as a new sandbox starts with it: the two projects of [`Self::seed`],
    /// the demo project filled (see [`super::demo`]), and the demo mosaic in `rasters`.
    pub fn fresh(config: &SandboxConfig, rasters: &RasterStore, now: DateTime<Utc>) -> Self {
        let mut state = Self::seed();
        super::demo::populate(&mut state, rasters, config.demo_finish_seconds, now);
        state
    }

    /// Repairs what a hand-edited or older file may lack: exactly one default project.
    fn normalize(&mut self) {
        self.version = STATE_VERSION;
        let mut seen_default = false;
        for project in &mut self.projects {
            if project.is_default {
                project.is_default = !seen_default;
                seen_default = true;
            }
        }
        if !seen_default {
            let default = ProjectRecord::new(seed::DEFAULT_PROJECT_NAME, None, true, Utc::now());
            self.projects.insert(0, default);
        }
    }

    /// The project with this id.
    pub fn project(&self, id: &str) -> Option<&ProjectRecord> {
        self.projects.iter().find(|p| p.id == id)
    }

    /// The project with this id, to change it.
    pub fn project_mut(&mut self, id: &str) -> Option<&mut ProjectRecord> {
        self.projects.iter_mut().find(|p| p.id == id)
    }

    /// The default project (there is always one after loading).
    pub fn default_project(&self) -> Option<&ProjectRecord> {
        self.projects.iter().find(|p| p.is_default)
    }

    /// The processing with this id.
    pub fn processing(&self, id: &str) -> Option<&ProcessingRecord> {
        self.processings.iter().find(|p| p.id == id)
    }

    /// The processing with this id, to change it.
    pub fn processing_mut(&mut self, id: &str) -> Option<&mut ProcessingRecord> {
        self.processings.iter_mut().find(|p| p.id == id)
    }
}

/// The state file in a data directory.
struct Store {
    dir: PathBuf,
    path: PathBuf,
}

impl Store {
    fn new(dir: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let store = Self { dir: dir.to_owned(), path: dir.join(STATE_FILE) };
        store.remove_leftovers();
        Ok(store)
    }

    /// Removes the temporary files of writes a crash interrupted (the state file itself is
    /// always whole: it is replaced by a rename).
    fn remove_leftovers(&self) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else { return };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(".sandbox-state.") && name.ends_with(".tmp") {
                match std::fs::remove_file(entry.path()) {
                    Ok(()) => tracing::info!("sandbox: removed {name}, left by an interrupted write"),
                    Err(e) => tracing::warn!("sandbox: could not remove {name}: {e}"),
                }
            }
        }
    }

    /// Reads the state file; a missing one gives `None` (a fresh account). One that cannot
    /// be read is an error that names it and leaves it untouched, unless `reset` says to
    /// rename it aside to `sandbox-state.json.corrupt` and start afresh (`None`). A state
    /// that was read is never seeded again.
    fn load(&self, reset: bool) -> std::io::Result<Option<PersistedState>> {
        let bytes = match std::fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        match serde_json::from_slice::<PersistedState>(&bytes) {
            Ok(mut state) => {
                state.normalize();
                tracing::info!("sandbox: loaded state from {}", self.path.display());
                Ok(Some(state))
            }
            Err(e) if !reset => Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "the sandbox's state file {} cannot be read ({e}); it was left as it is. Move it \
                     away to start with a new demo account, or start the headless sandbox with \
                     --reset-state to set it aside",
                    self.path.display()
                ),
            )),
            Err(e) => {
                let aside = self.dir.join(format!("{STATE_FILE}.corrupt"));
                tracing::warn!(
                    "sandbox: the state file {} is corrupt ({e}); moving it to {} and starting afresh",
                    self.path.display(),
                    aside.display()
                );
                if let Err(e) = std::fs::rename(&self.path, &aside) {
                    tracing::warn!("sandbox: could not move the corrupt state file aside: {e}");
                }
                Ok(None)
            }
        }
    }

    /// Writes the state atomically: a temporary file in the same directory, synced,
    /// then renamed over the old one, so a crash leaves either the old or the new state.
    fn save(&self, state: &PersistedState) -> std::io::Result<()> {
        let bytes = serde_json::to_vec_pretty(state)?;
        let mut tmp = tempfile::Builder::new().prefix(".sandbox-state.").suffix(".tmp").tempfile_in(&self.dir)?;
        tmp.write_all(&bytes)?;
        tmp.as_file().sync_all()?;
        tmp.persist(&self.path).map_err(|e| e.error)?;
        // Make the rename itself durable (best effort; not possible on every platform).
        #[cfg(unix)]
        if let Ok(dir) = std::fs::File::open(&self.dir) {
            let _ = dir.sync_all();
        }
        Ok(())
    }
}

/// What every route shares.
pub(crate) struct Shared {
    pub config: SandboxConfig,
    /// `http://HOST:PORT/rest`, for the URLs the sandbox hands out.
    pub base_url: String,
    pub faults: Faults,
    pub recorder: Recorder,
    pub tiles: TileCache,
    /// Uploaded imagery files and what is made from them.
    pub rasters: RasterStore,
    state: Mutex<PersistedState>,
    store: Option<Store>,
}

impl Shared {
    /// Loads (or seeds) the state for a server bound to `addr`.
    pub fn new(config: SandboxConfig, addr: SocketAddr) -> std::io::Result<Self> {
        let store = config.data_dir.as_deref().map(Store::new).transpose()?;
        let rasters = RasterStore::new(config.data_dir.as_deref())?;
        let mut loaded = false;
        let state = match &store {
            Some(store) => {
                let state = match store.load(config.reset_unreadable_state)? {
                    Some(state) => {
                        loaded = true;
                        state
                    }
                    None => PersistedState::fresh(&config, &rasters, Utc::now()),
                };
                store.save(&state)?;
                state
            }
            None => PersistedState::fresh(&config, &rasters, Utc::now()),
        };
        // Only against a state that was read: a fresh one (no file, or one set aside by
        // --reset-state) must not delete uploads the old state may still be restored with.
        if loaded {
            rasters.remove_orphans(&state);
        }
        Ok(Self {
            base_url: base_url(addr),
            recorder: Recorder::new(config.record_requests),
            config,
            faults: Faults::default(),
            tiles: TileCache::default(),
            rasters,
            state: Mutex::new(state),
            store,
        })
    }

    /// The account's email: the one the accepted token encodes.
    pub fn email(&self) -> &str {
        self.config.token.email()
    }

    fn lock(&self) -> MutexGuard<'_, PersistedState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reads the state, once time has been settled (see [`processing::settle`]).
    pub fn read<R>(&self, f: impl FnOnce(&PersistedState) -> R) -> R {
        let mut state = self.lock();
        if processing::settle(&mut state, Utc::now()) {
            self.save(&state);
        }
        f(&state)
    }

    /// Changes the state, once time has been settled, and saves it when `f` succeeds. `f`
    /// must check everything before it changes anything, so an error leaves the state as
    /// it was.
    pub fn write<R>(&self, f: impl FnOnce(&mut PersistedState) -> ApiResult<R>) -> ApiResult<R> {
        let mut state = self.lock();
        let settled = processing::settle(&mut state, Utc::now());
        let result = f(&mut state);
        if settled || result.is_ok() {
            self.save(&state);
        }
        result
    }

    /// Saves the state, if there is a data directory. Called under the lock, so
    /// concurrent writes reach the file in order.
    fn save(&self, state: &PersistedState) {
        if let Some(store) = &self.store
            && let Err(e) = store.save(state)
        {
            tracing::error!("sandbox: could not save the state to {}: {e}", store.path.display());
        }
    }
}

/// The base URL clients should use for a server bound to `addr`: an unspecified
/// address (`0.0.0.0`) is reached through the loopback.
fn base_url(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}/rest", SocketAddr::new(ip, addr.port()))
}

/// A datetime as the Processing API writes it: UTC with microseconds and `Z`.
pub(crate) fn iso(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_uses_loopback_for_unspecified() {
        assert_eq!(base_url("0.0.0.0:8080".parse().expect("addr")), "http://127.0.0.1:8080/rest");
        assert_eq!(base_url("[::]:81".parse().expect("addr")), "http://[::1]:81/rest");
        assert_eq!(base_url("127.0.0.1:9".parse().expect("addr")), "http://127.0.0.1:9/rest");
    }

    #[test]
    fn normalize_keeps_one_default() {
        let mut state = PersistedState::default();
        state.normalize();
        assert_eq!(state.projects.iter().filter(|p| p.is_default).count(), 1);
        let mut twice = PersistedState::seed();
        twice.projects[1].is_default = true;
        twice.normalize();
        assert_eq!(twice.projects.iter().filter(|p| p.is_default).count(), 1);
        assert!(twice.projects[0].is_default);
    }

    #[test]
    fn iso_has_micros_and_z() {
        let t = DateTime::parse_from_rfc3339("2024-01-02T03:04:05.5Z").expect("time").with_timezone(&Utc);
        assert_eq!(iso(t), "2024-01-02T03:04:05.500000Z");
    }
}
