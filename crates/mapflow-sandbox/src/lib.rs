//! The sandbox: a local server that speaks the Mapflow API.
//!
//! It is the app's embedded default (with no token the app starts against it) and the
//! test double every test uses, so it is shaped exactly like the real service: the same
//! paths under `/rest`, field names, error bodies and status codes. State lives in memory
//! and, with a data directory, in the database `<data_dir>/sandbox.sqlite3` ([`store`]).
//!
//! Layout: [`state`] holds the shared and persisted state, [`seed`] the fixed account
//! data (models, providers), [`routes`] one module per resource group, [`processing`]
//! the rules of processings (checks, billing, progress with time), [`results`] their
//! deterministic results, [`faults`] the fault injection and request recording,
//! [`error`] the API error bodies, [`imagery`] the synthetic imagery and [`tiles`] its
//! cache, [`catalog`] the imagery catalog and its previews (served from a second port).
//! [`rasters`] holds the Data API's rules (uploads and their checks, storage, previews and
//! mosaic tiles drawn from the uploaded imagery). [`demo`] fills a fresh account's demo
//! project.

mod catalog;
mod demo;
mod error;
mod faults;
mod imagery;
mod members;
mod processing;
mod rasters;
mod results;
mod rng;
mod routes;
pub mod seed;
mod state;
mod store;
mod table;
mod templates;
mod text;
mod tiles;

use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

pub use faults::{Fault, FaultAction, Faults, UnexpectedRoutes};
pub use members::{SHARED_CONTRIBUTOR_PROJECT, SHARED_READONLY_PROJECT};
pub use rasters::RasterLimits;
pub use store::{LEGACY_STATE_FILE, SCHEMA_VERSION, STORE_FILE};

use state::Shared;

/// The email of the sandbox's demo account.
pub const DEMO_EMAIL: &str = "demo@sandbox.mapflow.local";
/// The API key of the sandbox's demo account.
pub const DEMO_KEY: &str = "sandbox-demo-key";

/// The token of the demo account, the one a default sandbox accepts.
pub fn demo_token() -> mapflow_api::Token {
    mapflow_api::Token::from_parts(DEMO_EMAIL, DEMO_KEY)
}

/// The email of the sandbox's second demo account: an enterprise team account with the
/// review workflow on, owning the projects shared with the demo account.
pub const TEAM_EMAIL: &str = "team@sandbox.mapflow.local";
/// The API key of the team account.
pub const TEAM_KEY: &str = "sandbox-team-key";

/// The token of the team account, the second one a default sandbox accepts.
pub fn team_token() -> mapflow_api::Token {
    mapflow_api::Token::from_parts(TEAM_EMAIL, TEAM_KEY)
}

/// How to run a sandbox.
#[derive(Clone, Debug)]
pub struct SandboxConfig {
    /// Where to listen; port 0 picks a free port. Default `127.0.0.1:0`.
    pub addr: SocketAddr,
    /// The main account's token; its email is the account's. Default [`demo_token`].
    pub token: mapflow_api::Token,
    /// The team account's token (review workflow on, owner of the shared demo projects).
    /// Default [`team_token`].
    pub team_token: mapflow_api::Token,
    /// `None` keeps the state in memory only (tests); `Some` persists it there.
    pub data_dir: Option<PathBuf>,
    /// How long a simulated processing takes, in seconds.
    pub processing_seconds: f64,
    /// How many seconds after a fresh account is seeded its demo processing that is still
    /// running finishes (see [`seed::DEMO_PROJECT_NAME`]); tests shorten it.
    pub demo_finish_seconds: f64,
    /// How long a planned search's search runs (the template is SEARCHING), in seconds.
    pub template_search_seconds: f64,
    /// How often a planned search checks for new imagery, in seconds: each check finds one
    /// more of the newest scenes its first search held back. Tests shorten it.
    pub template_check_seconds: f64,
    /// Whether requests are recorded for [`Sandbox::hits`], [`Sandbox::unexpected_requests`]
    /// and [`Sandbox::preview_requests`] (tests turn it on). Off by default, so a server
    /// anyone can reach does not keep a record of every path sent to it; bounded when on.
    pub record_requests: bool,
    /// Where requests no route matched are kept for a test that cannot reach the
    /// [`Sandbox`] itself (the app's embedded one); giving one turns recording on.
    pub unexpected_routes: Option<UnexpectedRoutes>,
    /// A database that cannot be read is set aside and the account starts afresh; without
    /// this the sandbox refuses to start and leaves the file as it is.
    pub reset_unreadable_state: bool,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            token: demo_token(),
            team_token: team_token(),
            data_dir: None,
            processing_seconds: 5.0,
            demo_finish_seconds: 75.0,
            template_search_seconds: 5.0,
            template_check_seconds: 60.0,
            record_requests: false,
            unexpected_routes: None,
            reset_unreadable_state: false,
        }
    }
}

/// The longest a simulated processing (or the demo's running one) may take, in seconds:
/// a year, far beyond any test or demo, and well inside the dates the state can hold.
pub const MAX_PROCESSING_SECONDS: f64 = 365.0 * 24.0 * 3600.0;

/// Checks a duration setting: a finite number of seconds from 0 to
/// [`MAX_PROCESSING_SECONDS`]. `name` names the setting in the message.
pub fn check_seconds(name: &str, value: f64) -> Result<f64, String> {
    if value.is_finite() && (0.0..=MAX_PROCESSING_SECONDS).contains(&value) {
        Ok(value)
    } else {
        Err(format!("{name} must be a number of seconds from 0 to {MAX_PROCESSING_SECONDS}, not {value}"))
    }
}

impl SandboxConfig {
    /// Checks the settings a sandbox cannot run with: durations that are not a finite
    /// number of seconds within range (an infinite one would overflow every date computed
    /// from it and could not be saved).
    pub fn validate(&self) -> Result<(), String> {
        check_seconds("processing_seconds", self.processing_seconds)?;
        check_seconds("demo_finish_seconds", self.demo_finish_seconds)?;
        check_seconds("template_search_seconds", self.template_search_seconds)?;
        check_seconds("template_check_seconds", self.template_check_seconds)?;
        Ok(())
    }
}

/// [`SandboxConfig::validate`] as an I/O error, what starting a sandbox returns.
fn validate(config: &SandboxConfig) -> std::io::Result<()> {
    config.validate().map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))
}

/// How long in-flight requests may take to finish once a sandbox is asked to stop.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(2);

/// A running sandbox on its own named thread ("sandbox") with its own tokio runtime;
/// stops (and joins) on drop.
pub struct Sandbox {
    addr: SocketAddr,
    shared: Arc<Shared>,
    previews: Arc<catalog::Previews>,
    stop: Option<tokio::sync::watch::Sender<bool>>,
    thread: Option<JoinHandle<()>>,
}

impl Sandbox {
    /// Loads (or seeds) the state, binds the socket and starts serving. Returns once the
    /// socket is bound, so a port-0 address is usable right away.
    /// Refuses an invalid configuration ([`SandboxConfig::validate`]) with `InvalidInput`.
    pub fn start(config: SandboxConfig) -> std::io::Result<Sandbox> {
        validate(&config)?;
        let listener = std::net::TcpListener::bind(config.addr)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let (preview_listener, previews) = catalog::Previews::bind(addr, config.record_requests)?;
        let shared = Arc::new(Shared::new(config, addr)?);

        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("sandbox-worker")
            .enable_all()
            .build()?;
        let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
        let app_state = shared.clone();
        let app_previews = previews.clone();
        let thread = std::thread::Builder::new().name("sandbox".to_owned()).spawn(move || {
            runtime.block_on(async move {
                let listeners = tokio::net::TcpListener::from_std(listener)
                    .and_then(|l| Ok((l, tokio::net::TcpListener::from_std(preview_listener)?)));
                let (listener, preview_listener) = match listeners {
                    Ok(l) => l,
                    Err(e) => {
                        tracing::error!("sandbox: cannot use the bound socket: {e}");
                        return;
                    }
                };
                let mut signal = stop_rx.clone();
                let server = tokio::spawn(run(listener, preview_listener, app_state, app_previews, async move {
                    let _ = signal.wait_for(|stop| *stop).await;
                }));
                let _ = stop_rx.wait_for(|stop| *stop).await;
                if tokio::time::timeout(DRAIN_TIMEOUT, server).await.is_err() {
                    tracing::warn!("sandbox: requests still running at shutdown were dropped");
                }
            });
            runtime.shutdown_timeout(Duration::from_millis(200));
        })?;
        tracing::info!("sandbox listening on http://{addr}/rest");
        Ok(Sandbox { addr, shared, previews, stop: Some(stop_tx), thread: Some(thread) })
    }

    /// The bound address (with the real port when port 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The API base URL, `http://127.0.0.1:PORT/rest`: every API route lives under it.
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    /// The main account's token.
    pub fn token(&self) -> &mapflow_api::Token {
        &self.shared.config.token
    }

    /// The team account's token: the review workflow on, owner of the shared projects.
    pub fn team_token(&self) -> &mapflow_api::Token {
        &self.shared.config.team_token
    }

    /// The review decision on a processing as the sandbox keeps it, for tests: its
    /// status, the comment and the marked features (a FeatureCollection).
    pub fn review_decision(&self, id: &str) -> Option<(String, Option<String>, Option<serde_json::Value>)> {
        self.shared.read(|s| s.processing(id)?.review_decision.clone().map(|d| (d.status, d.comment, d.features)))
    }

    /// The fault injection of this sandbox.
    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    /// How many requests reached (method, path), e.g. `("POST", "/rest/projects")`,
    /// counting faulted and refused ones; recorded only with [`SandboxConfig::record_requests`].
    pub fn hits(&self, method: &str, path: &str) -> usize {
        self.shared.recorder.hits(method, path)
    }

    /// How many request records this sandbox keeps (counted paths, unmatched requests and
    /// preview-origin requests); always 0 unless [`SandboxConfig::record_requests`].
    pub fn recorded_entries(&self) -> usize {
        self.shared.recorder.kept() + self.previews.kept()
    }

    /// How many request records were not kept because the bound was reached.
    pub fn unrecorded_requests(&self) -> usize {
        self.shared.recorder.dropped()
    }

    /// Requests that matched no route, as `"METHOD PATH"`.
    pub fn unexpected_requests(&self) -> Vec<String> {
        self.shared.recorder.unexpected()
    }

    /// The storage and upload limits `/rasters` enforces and reports (default: 10 GiB,
    /// 2 GiB per file, 30000 px per side).
    pub fn raster_limits(&self) -> RasterLimits {
        self.shared.rasters.limits()
    }

    /// Changes the limits of `/rasters`, e.g. to test the refusals of large files.
    pub fn set_raster_limits(&self, limits: RasterLimits) {
        self.shared.rasters.set_limits(limits);
    }

    /// The preview origin, `http://127.0.0.1:PORT2`: another port, so that catalog
    /// previews are a foreign host to the client, as on the real service.
    pub fn preview_base_url(&self) -> String {
        self.previews.base_url().to_owned()
    }

    /// Every request the preview origin got, oldest first, as (path, whether it carried
    /// an `Authorization` header): the client must never send its token there.
    pub fn preview_requests(&self) -> Vec<(String, bool)> {
        self.previews.requests()
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(true);
        }
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("sandbox: the server thread panicked");
        }
    }
}

/// Runs a sandbox on the current tokio runtime until ctrl-c: the headless CLI's entry
/// point. `ready` is called with the bound address once the socket is listening.
pub async fn serve(config: SandboxConfig, ready: impl FnOnce(SocketAddr) + Send) -> std::io::Result<()> {
    validate(&config)?;
    let listener = tokio::net::TcpListener::bind(config.addr).await?;
    let addr = listener.local_addr()?;
    let (preview_listener, previews) = catalog::Previews::bind(addr, config.record_requests)?;
    let preview_listener = tokio::net::TcpListener::from_std(preview_listener)?;
    tracing::info!("sandbox: catalog previews on {}", previews.base_url());
    let shared = Arc::new(Shared::new(config, addr)?);
    ready(addr);
    run(listener, preview_listener, shared, previews, async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!("sandbox: cannot wait for ctrl-c: {e}");
            std::future::pending::<()>().await;
        }
        tracing::info!("sandbox: stopping");
    })
    .await
}

/// Serves the API on `listener` and the catalog previews on `preview_listener` until
/// `shutdown` completes; both drain together.
async fn run(
    listener: tokio::net::TcpListener,
    preview_listener: tokio::net::TcpListener,
    shared: Arc<Shared>,
    previews: Arc<catalog::Previews>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stop_previews, mut previews_stopped) = tokio::sync::watch::channel(false);
    let preview_server = tokio::spawn(routes::serve_previews(preview_listener, previews.clone(), async move {
        // Also stops when the sender is gone (the API server ended).
        let _ = previews_stopped.wait_for(|stop| *stop).await;
    }));
    let app = routes::router(shared, previews);
    let shutdown = async move {
        shutdown.await;
        let _ = stop_previews.send(true);
    };
    let result = axum::serve(routes::JsonErrorListener(listener), app).with_graceful_shutdown(shutdown).await;
    let _ = preview_server.await;
    if let Err(e) = &result {
        tracing::error!("sandbox: server error: {e}");
    }
    result
}

/// The fuzz entry of the sandbox's request decoding (the desktop crate's `fuzzing`): the
/// first byte picks a decoder, the rest is its input.
#[doc(hidden)]
pub fn fuzz_requests(data: &[u8]) {
    use processing::Purpose;
    static STATE: std::sync::OnceLock<state::PersistedState> = std::sync::OnceLock::new();
    let Some((&selector, input)) = data.split_first() else { return };
    if selector % 4 == 0 {
        rasters::fuzz_multipart(input);
        return;
    }
    if selector % 4 == 1 {
        let text = String::from_utf8_lossy(input);
        let _ = text::refusal(&text, selector & 0x10 != 0, 200);
        let _ = text::checked_description("description", Some(text.into_owned()));
        return;
    }
    let Ok(body) = serde_json::from_slice::<serde_json::Value>(input) else { return };
    let state = STATE.get_or_init(state::PersistedState::seed);
    let _ = processing::parse_aoi(&body, "geometry");
    let purpose = if selector % 4 == 2 { Purpose::Create } else { Purpose::Estimate };
    let _ = processing::plan(body.clone(), purpose, state);
    if let Ok(v2) = processing::v1_to_v2(body, state) {
        let _ = processing::plan(v2, purpose, state);
    }
}
