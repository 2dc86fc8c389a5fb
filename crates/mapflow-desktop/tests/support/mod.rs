//! Shared helpers of the UI tests: the real app in a kittest harness, on its own sandbox.
#![allow(clippy::unwrap_used, dead_code)]

use egui_kittest::Harness;
use mapflow_desktop::api::RetryPolicy;
use mapflow_desktop::app::Settings;
use mapflow_desktop::app::credentials::CredentialStore;
use mapflow_desktop::sandbox::{SandboxConfig, UnexpectedRoutes};
use mapflow_desktop::worker::{SessionKind, WorkerConfig};
use mapflow_desktop::{AppOptions, MapflowApp};
use std::time::{Duration, Instant};

pub struct TestApp {
    pub app: Option<MapflowApp>,
    pub options: AppOptions,
    pub settings: Settings,
    pub dir: tempfile::TempDir,
    /// Requests the app sent its embedded sandbox that no route matched: a wrong path in the
    /// client, or a route the sandbox lacks. The test fails on drop if there are any.
    pub unexpected: UnexpectedRoutes,
    /// Set by a test that sends unknown paths on purpose.
    pub allow_unexpected_routes: bool,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Stop the app (and its sandbox) first, so every request it sent has been answered.
        self.app = None;
        let unexpected = self.unexpected.list();
        if !std::thread::panicking() && !self.allow_unexpected_routes {
            assert!(unexpected.is_empty(), "the app sent requests no sandbox route matched: {unexpected:?}");
        }
    }
}

pub fn options(dir: &std::path::Path) -> AppOptions {
    AppOptions {
        worker: WorkerConfig {
            credentials: CredentialStore::file_only(dir.join("credentials.json")),
            sandbox: SandboxConfig {
                data_dir: Some(dir.join("sandbox")),
                processing_seconds: 1.5,
                ..SandboxConfig::default()
            },
            retry: RetryPolicy {
                attempts: 2,
                base_delay: Duration::from_millis(5),
                max_delay: Duration::from_millis(10),
            },
            status_interval: Duration::from_secs(60),
            processing_poll: Duration::from_millis(200),
            timeout_scale: 1.0,
            cache_dir: Some(dir.join("cache")),
        },
        online_tiles: false,
    }
}

pub fn harness() -> Harness<'static, TestApp> {
    harness_with(Settings::default())
}

/// The app in a harness, starting from `settings` (as if restored from a previous run).
pub fn harness_with(settings: Settings) -> Harness<'static, TestApp> {
    harness_in(tempfile::tempdir().unwrap(), settings)
}

/// The app in a harness whose sandbox and credentials live in `dir` (reused across restarts).
pub fn harness_in(dir: tempfile::TempDir, settings: Settings) -> Harness<'static, TestApp> {
    harness_tuned(dir, settings, |_| {})
}

/// The app in a harness with its options changed by `tune` (shorter timeouts, say).
pub fn harness_tuned(
    dir: tempfile::TempDir,
    settings: Settings,
    tune: impl FnOnce(&mut AppOptions),
) -> Harness<'static, TestApp> {
    let mut options = options(dir.path());
    let unexpected = UnexpectedRoutes::default();
    options.worker.sandbox.unexpected_routes = Some(unexpected.clone());
    tune(&mut options);
    let state = TestApp { app: None, options, settings, dir, unexpected, allow_unexpected_routes: false };
    Harness::builder().with_size(egui::vec2(1280.0, 800.0)).build_ui_state(
        |ui, t: &mut TestApp| {
            let app =
                t.app.get_or_insert_with(|| MapflowApp::new(ui.ctx(), t.settings.clone(), t.options.clone()).unwrap());
            app.pump();
            app.show(ui);
        },
        state,
    )
}

pub fn app_mut<'a>(h: &'a mut Harness<'_, TestApp>) -> &'a mut MapflowApp {
    h.state_mut().app.as_mut().unwrap()
}

pub fn app<'a>(h: &'a Harness<'_, TestApp>) -> &'a MapflowApp {
    h.state().app.as_ref().unwrap()
}

/// How long [`step_until`] waits.
fn step_limit() -> Duration {
    Duration::from_secs(if cfg!(debug_assertions) { 30 } else { 15 })
}

/// Steps the UI until `cond` holds; after a timeout, saves a screenshot of the window (its path
/// printed) and fails naming `description`, with the notices and the form's state.
pub fn step_until(h: &mut Harness<'_, TestApp>, description: &str, cond: impl Fn(&Harness<'_, TestApp>) -> bool) {
    let start = Instant::now();
    loop {
        h.step();
        if h.state().app.is_some() && cond(h) {
            h.run_steps(2);
            return;
        }
        if start.elapsed() > step_limit() {
            let shot = screenshot(h, description);
            let state = &h.state().app.as_ref().unwrap().state;
            let notices: Vec<_> = state.notices.iter().map(|n| n.text.clone()).collect();
            panic!(
                "timed out waiting for: {description}\nscreenshot: {shot}\nnotices: {notices:?}\ncost: {:?} for {:?}\ncreate error: {:?}",
                state.cost,
                state.cost_request.as_ref().map(|r| &r.name),
                state.create_error
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The same as [`step_until`] (the older name, kept for the tests that use it).
pub fn wait_for(h: &mut Harness<'_, TestApp>, what: &str, cond: impl Fn(&Harness<'_, TestApp>) -> bool) {
    step_until(h, what, cond);
}

/// Renders the window to a PNG under the target dir's test scratch space, named after the
/// test and `description`; returns its path, or why there is none.
pub fn screenshot(h: &mut Harness<'_, TestApp>, description: &str) -> String {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    let test = std::thread::current().name().unwrap_or("test").replace("::", "-");
    let slug: String =
        description.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    let path = dir.join(format!("{test}--{slug}.png"));
    let saved = std::fs::create_dir_all(&dir)
        .map_err(|e| e.to_string())
        .and_then(|()| h.render())
        .and_then(|image| image.save(&path).map_err(|e| e.to_string()));
    match saved {
        Ok(()) => {
            eprintln!("screenshot saved: {}", path.display());
            path.display().to_string()
        }
        Err(e) => format!("(none: {e})"),
    }
}

/// Every shape the last frame painted, groups flattened: what the map's plugins actually drew.
pub fn painted_shapes(h: &Harness<'_, TestApp>) -> Vec<egui::Shape> {
    fn flatten(shape: &egui::Shape, out: &mut Vec<egui::Shape>) {
        match shape {
            egui::Shape::Vec(shapes) => shapes.iter().for_each(|s| flatten(s, out)),
            s => out.push(s.clone()),
        }
    }
    let mut out = Vec::new();
    for clipped in &h.output().shapes {
        flatten(&clipped.shape, &mut out);
    }
    out
}

/// The lon/lat `[lon, lat]` under a screen position, from the view the map drew last (Web
/// Mercator: longitude and the Mercator ordinate are linear across the map rect).
pub fn map_lon_lat(h: &Harness<'_, TestApp>, pos: egui::Pos2) -> [f64; 2] {
    let rect = app(h).map.map_rect().expect("the map was drawn");
    let [w, s, e, n] = app(h).map.visible_bbox().expect("the map was drawn");
    let merc = |lat: f64| lat.to_radians().tan().asinh();
    let unmerc = |y: f64| y.sinh().atan().to_degrees();
    let fx = f64::from((pos.x - rect.left()) / rect.width());
    let fy = f64::from((pos.y - rect.top()) / rect.height());
    [w + fx * (e - w), unmerc(merc(n) + fy * (merc(s) - merc(n)))]
}

/// The lon/lat bbox `[w, s, e, n]` of screen points of the map.
pub fn map_bbox_of(h: &Harness<'_, TestApp>, points: &[egui::Pos2]) -> [f64; 4] {
    assert!(!points.is_empty(), "no points");
    points.iter().map(|p| map_lon_lat(h, *p)).fold([f64::MAX, f64::MAX, f64::MIN, f64::MIN], |b, [x, y]| {
        [b[0].min(x), b[1].min(y), b[2].max(x), b[3].max(y)]
    })
}

pub fn project_names(h: &Harness<'_, TestApp>) -> Vec<String> {
    app(h).state.projects.value().map(|p| p.results.iter().map(|p| p.name.clone()).collect()).unwrap_or_default()
}

pub fn signed_in_to_sandbox(h: &mut Harness<'_, TestApp>) {
    wait_for(h, "the sandbox session", |h| {
        app(h).state.session.as_ref().is_some_and(|s| s.kind == SessionKind::Sandbox)
    });
    wait_for(h, "the projects list", |h| project_names(h).iter().any(|n| n == "Default project"));
}

/// Waits until a first run's own steps are over: the demo project opened, its newest result
/// loaded and the catalog searched over it. Until then rows keep arriving in the layer list
/// and the panes, and a click aimed at a button can land on what has moved under it.
pub fn first_run_settled(h: &mut Harness<'_, TestApp>) {
    wait_for(h, "the first run's result and catalog search", |h| {
        let state = &app(h).state;
        state.first_look.is_none()
            && state.first_look_search.is_none()
            && state.results.values().all(|view| !view.state.is_pending())
            && !state.catalog.results.is_pending()
    });
    h.run_steps(2);
}

/// Signs in (from the embedded sandbox's session) to the server at `server` with `token`,
/// through the sign-in dialog, and waits for its projects.
#[allow(dead_code)] // not every test binary signs in elsewhere
pub fn sign_in_to(h: &mut Harness<'_, TestApp>, server: &str, token: &str) {
    use egui_kittest::kittest::Queryable;
    signed_in_to_sandbox(h);
    h.get_by_label("Sign in to Mapflow…").click();
    h.run_steps(2);
    app_mut(h).state.sign_in.server = server.to_owned();
    h.get_by_label("API token").focus();
    h.run_steps(1);
    h.get_by_label("API token").type_text(token);
    h.run_steps(1);
    h.get_by_label("Sign in").click();
    wait_for(h, "the session on the test's server", |h| {
        app(h).state.session.as_ref().is_some_and(|s| s.server == server)
    });
    wait_for(h, "its projects", |h| project_names(h).iter().any(|n| n == "Default project"));
}

/// The first processing of the open project's list with `status`.
#[allow(dead_code)] // not every test binary looks for one
pub fn listed(
    h: &Harness<'_, TestApp>,
    status: mapflow_desktop::api::ProcessingStatus,
) -> mapflow_desktop::api::Processing {
    let page = app(h).state.processings.value().expect("the processings are listed");
    page.results
        .iter()
        .find(|p| p.status == status)
        .cloned()
        .unwrap_or_else(|| panic!("no {status:?} processing listed"))
}

/// Opens the project named `name` by clicking it in the list.
pub fn open_project(h: &mut Harness<'_, TestApp>, name: &str) {
    use egui_kittest::kittest::Queryable;
    h.get_by_label(name).click();
    let name = name.to_owned();
    wait_for(h, "the project to open", |h| app(h).state.open_project.value().is_some_and(|p| p.name == name));
    wait_for(h, "its processings", |h| app(h).state.processings.value().is_some());
}

/// A file dropped onto the window.
#[derive(Debug)]
pub struct Dropped(pub std::path::PathBuf);

impl egui::DroppedFile for Dropped {
    fn path(&self) -> &std::path::Path {
        &self.0
    }
    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}

/// Drops `path` onto the window.
pub fn drop_file(h: &mut Harness<'_, TestApp>, path: &std::path::Path) {
    h.input_mut().dropped_files.push(std::sync::Arc::new(Dropped(path.to_owned())));
    h.step();
}

/// Clicks the map at a fraction of its rect (0..1 on each axis).
pub fn click_map(h: &mut Harness<'_, TestApp>, fx: f32, fy: f32) {
    click_map_with(h, fx, fy, egui::Modifiers::default());
}

/// Like [`click_map`], with keys held (Shift, Ctrl).
pub fn click_map_with(h: &mut Harness<'_, TestApp>, fx: f32, fy: f32, modifiers: egui::Modifiers) {
    let rect = map_rect(h);
    let pos = rect.lerp_inside(egui::vec2(fx, fy));
    h.hover_at(pos);
    h.step();
    h.event(egui::Event::ModifiersChanged(modifiers));
    h.event(egui::Event::PointerButton { pos, button: egui::PointerButton::Primary, pressed: true, modifiers });
    h.step();
    h.event(egui::Event::PointerButton { pos, button: egui::PointerButton::Primary, pressed: false, modifiers });
    h.step();
    h.event(egui::Event::ModifiersChanged(egui::Modifiers::default()));
    h.run_steps(2);
}

/// The map widget's rect (not its pane's tab, which has the same name).
pub fn map_rect(h: &Harness<'_, TestApp>) -> egui::Rect {
    use egui_kittest::kittest::{NodeT, Queryable};
    h.get_all_by_label("Map")
        .find(|n| n.accesskit_node().role() != egui::accesskit::Role::Button)
        .map(|n| n.rect())
        .unwrap()
}

/// Opens My imagery, creates a mosaic named `name` through its form and selects it, waiting
/// for its (empty) image list.
pub fn new_mosaic(h: &mut Harness<'_, TestApp>, name: &str) {
    use egui_kittest::kittest::Queryable;
    h.get_by_label("My imagery").click();
    wait_for(h, "the storage figures", |h| app(h).state.imagery.memory.value().is_some());
    h.get_by_label("Mosaic name").focus();
    h.run_steps(1);
    h.get_by_label("Mosaic name").type_text(name);
    h.run_steps(1);
    h.get_by_label("Create mosaic").click();
    let wanted = name.to_owned();
    wait_for(h, "the new mosaic", |h| {
        app(h).state.imagery.mosaics.value().is_some_and(|m| m.iter().any(|m| m.name == wanted))
    });
    h.get_by_label(name).click();
    wait_for(h, "the mosaic's images", |h| app(h).state.imagery.images.value().is_some());
}

/// Replaces the text of the field labelled `label` by typing, then presses Enter if asked.
pub fn type_into(h: &mut Harness<'_, TestApp>, label: &str, text: &str, enter: bool) {
    use egui_kittest::kittest::Queryable as _;
    h.get_by_label(label).focus();
    h.run_steps(1);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.get_by_label(label).type_text(text);
    h.run_steps(1);
    if enter {
        h.key_press(egui::Key::Enter);
        h.run_steps(1);
    }
}

/// Types `folder` into the folder field and waits for its listing.
pub fn go_to(h: &mut Harness<'_, TestApp>, folder: &std::path::Path) {
    use egui_kittest::kittest::Queryable as _;
    type_into(h, "Folder", &folder.display().to_string(), true);
    let want = folder.canonicalize().unwrap();
    wait_for(h, "the folder's listing", |h| matches!(&app(h).state.files.listing, Some(Ok(l)) if l.folder == want));
    assert_eq!(h.get_by_label("Folder").value().as_deref(), Some(want.display().to_string().as_str()));
}
