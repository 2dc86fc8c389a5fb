//! The sandbox's state: what routes share, and what survives a restart.
//!
//! [`PersistedState`] is everything the account owns (balance, projects, processings,
//! mosaics, images). It is held in memory and, with a data directory, in the database of
//! [`super::store`], which a write updates with the records it changed. Records are kept
//! there as JSON: new fields must carry `#[serde(default)]` so older rows still load.
//!
//! A processing's progress is not stored: it is computed from its start time whenever it
//! is read (see [`super::processing`]), so it keeps running across a restart. The one
//! side effect of time passing, the refund of a failed run, is applied by [`Shared`]
//! before every read or write ("settling"), and saved.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::SandboxConfig;
use super::error::ApiResult;
use super::faults::{Faults, Recorder};
use super::processing::{self, ProcessingRecord};
use super::rasters::{ImageRecord, MosaicRecord, RasterStore};
use super::seed;
use super::store::Store;
use super::table::{Row, Table};
use super::tiles::TileCache;

/// The account's own numbers.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct Account {
    /// The user's id, as shown in `project.user.id`.
    pub user_id: String,
    pub remaining_credits: i64,
    /// m² processed so far.
    pub processed_area: i64,
    /// The sandbox's other users (the team account), by email: their own numbers, kept in
    /// this one account row so the database needs no new table.
    pub others: std::collections::BTreeMap<String, Account>,
}

impl Default for Account {
    fn default() -> Self {
        Self {
            user_id: uuid::Uuid::new_v4().to_string(),
            remaining_credits: seed::INITIAL_CREDITS,
            processed_area: 0,
            others: std::collections::BTreeMap::new(),
        }
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
    /// The owner's email; `None` is the sandbox's main account (and every project saved
    /// before projects could be shared).
    #[serde(default)]
    pub owner: Option<String>,
    /// Who else the project is shared with, and as what.
    #[serde(default)]
    pub shared: Vec<super::members::ShareRecord>,
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
            owner: None,
            shared: Vec::new(),
        }
    }
}

/// Everything that survives a restart.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct PersistedState {
    pub account: Account,
    pub projects: Table<ProjectRecord>,
    /// Every processing of every project, oldest first.
    pub processings: Table<ProcessingRecord>,
    /// Data API mosaics, oldest first.
    pub mosaics: Table<MosaicRecord>,
    /// Images uploaded into the mosaics, oldest first; files under `<data_dir>/rasters/`.
    pub images: Table<ImageRecord>,
    /// Planned processings (search templates), oldest first.
    pub templates: Table<super::templates::TemplateRecord>,
}

impl Row for ProjectRecord {
    fn id(&self) -> &str {
        &self.id
    }
}

impl Row for ProcessingRecord {
    fn id(&self) -> &str {
        &self.id
    }
}

impl Row for MosaicRecord {
    fn id(&self) -> &str {
        &self.id
    }
}

impl Row for ImageRecord {
    fn id(&self) -> &str {
        &self.id
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
        super::members::populate_team(&mut state, config, now);
        state
    }

    /// Repairs what a hand-edited or older store may lack: exactly one default project of
    /// the main account, and at most one of each other user (the team account's is made
    /// when it is first asked for, see [`super::members::default_project_of`]).
    pub(crate) fn normalize(&mut self) {
        let mut seen_default: std::collections::HashSet<Option<String>> = std::collections::HashSet::new();
        self.projects.update_each(|project| {
            if !project.is_default {
                return false;
            }
            let first = seen_default.insert(project.owner.clone());
            project.is_default = first;
            !first
        });
        if !seen_default.contains(&None) {
            self.projects.push(ProjectRecord::new(seed::DEFAULT_PROJECT_NAME, None, true, Utc::now()));
        }
    }

    /// Notes every record as changed: a state the store does not hold yet.
    pub(crate) fn mark_all_changed(&mut self) {
        self.projects.mark_all();
        self.processings.mark_all();
        self.mosaics.mark_all();
        self.images.mark_all();
        self.templates.mark_all();
    }

    /// Forgets the changes once the store holds them.
    pub(crate) fn mark_saved(&mut self) {
        self.projects.saved();
        self.processings.saved();
        self.mosaics.saved();
        self.images.saved();
        self.templates.saved();
    }

    /// The project with this id.
    pub fn project(&self, id: &str) -> Option<&ProjectRecord> {
        self.projects.get(id)
    }

    /// The project with this id, to change it.
    pub fn project_mut(&mut self, id: &str) -> Option<&mut ProjectRecord> {
        self.projects.get_mut(id)
    }

    /// The main account's default project (there is always one after loading).
    pub fn default_project(&self) -> Option<&ProjectRecord> {
        self.projects.iter().find(|p| p.is_default && p.owner.is_none())
    }

    /// The processing with this id.
    pub fn processing(&self, id: &str) -> Option<&ProcessingRecord> {
        self.processings.get(id)
    }

    /// The processing with this id, to change it.
    pub fn processing_mut(&mut self, id: &str) -> Option<&mut ProcessingRecord> {
        self.processings.get_mut(id)
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
    inner: Mutex<Inner>,
}

/// The state and its database, behind one lock so writes reach the database in order.
struct Inner {
    state: PersistedState,
    store: Option<Store>,
}

impl Shared {
    /// Loads (or seeds) the state for a server bound to `addr`.
    pub fn new(config: SandboxConfig, addr: SocketAddr) -> std::io::Result<Self> {
        let rasters = RasterStore::new(config.data_dir.as_deref())?;
        let (store, loaded) = match config.data_dir.as_deref() {
            Some(dir) => {
                let (store, state) = Store::open(dir, config.reset_unreadable_state)?;
                (Some(store), state)
            }
            None => (None, None),
        };
        // Orphans only against a state that was read: a fresh one (no database, or one set
        // aside by --reset-state) must not delete uploads the old one may be restored with.
        if let Some(state) = &loaded {
            rasters.remove_orphans(state);
        }
        let fresh = loaded.is_none();
        let mut state = loaded.unwrap_or_else(|| PersistedState::fresh(&config, &rasters, Utc::now()));
        let mut store = store;
        if let Some(store) = &mut store {
            if fresh {
                state.mark_all_changed();
            }
            store.save(&mut state).map_err(|e| std::io::Error::other(format!("{}: {e}", store.path().display())))?;
        }
        Ok(Self {
            base_url: base_url(addr),
            recorder: Recorder::new(config.record_requests, config.unexpected_routes.clone()),
            config,
            faults: Faults::default(),
            tiles: TileCache::default(),
            rasters,
            inner: Mutex::new(Inner { state, store }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reads the state, once time has been settled (see [`processing::settle`]).
    pub fn read<R>(&self, f: impl FnOnce(&PersistedState) -> R) -> R {
        let mut inner = self.lock();
        if processing::settle(&mut inner.state, Utc::now()) {
            // A refund that cannot be saved now is saved with the next write.
            let _ = inner.save();
        }
        f(&inner.state)
    }

    /// Changes the state, once time has been settled, and saves it when `f` succeeds. `f`
    /// must check everything before it changes anything, so an error leaves the state as
    /// it was. A change that cannot be saved is answered as a server error and undone (the
    /// state is read back from the database), so what was refused is not there either.
    pub fn write<R>(&self, f: impl FnOnce(&mut PersistedState) -> ApiResult<R>) -> ApiResult<R> {
        let mut inner = self.lock();
        let settled = processing::settle(&mut inner.state, Utc::now());
        let result = f(&mut inner.state);
        if settled || result.is_ok() {
            inner.save()?;
        }
        result
    }
}

impl Inner {
    /// Saves what changed, if there is a database.
    fn save(&mut self) -> ApiResult<()> {
        let Some(store) = &mut self.store else { return Ok(()) };
        let Err(e) = store.save(&mut self.state) else { return Ok(()) };
        tracing::error!("sandbox: could not save the account to {}: {e}", store.path().display());
        // Memory goes back to what is stored: a client told "not saved" must not find it there.
        match store.reload() {
            Ok(Some(stored)) => self.state = stored,
            Ok(None) => {}
            Err(reason) => tracing::error!("sandbox: could not read the account back either: {reason}"),
        }
        Err(super::error::ApiError::internal("The change could not be saved"))
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
        let second = twice.projects[1].id.clone();
        twice.projects.get_mut(&second).unwrap().is_default = true;
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
