//! Shared helpers of the UI tests: the real app in a kittest harness, on its own sandbox.
#![allow(clippy::unwrap_used, dead_code)]

use egui_kittest::Harness;
use mapflow_desktop::api::RetryPolicy;
use mapflow_desktop::app::credentials::CredentialStore;
use mapflow_desktop::app::{AppOptions, MapflowApp, Settings};
use mapflow_desktop::sandbox::SandboxConfig;
use mapflow_desktop::worker::{SessionKind, WorkerConfig};
use std::time::{Duration, Instant};

pub struct TestApp {
    pub app: Option<MapflowApp>,
    pub options: AppOptions,
    pub settings: Settings,
    pub dir: tempfile::TempDir,
}

pub fn options(dir: &std::path::Path) -> AppOptions {
    AppOptions {
        worker: WorkerConfig {
            credentials: CredentialStore::file_only(dir.join("credentials.json")),
            sandbox: SandboxConfig { data_dir: Some(dir.join("sandbox")), ..SandboxConfig::default() },
            retry: RetryPolicy {
                attempts: 2,
                base_delay: Duration::from_millis(5),
                max_delay: Duration::from_millis(10),
            },
            status_interval: Duration::from_secs(60),
        },
        online_tiles: false,
    }
}

pub fn harness() -> Harness<'static, TestApp> {
    let dir = tempfile::tempdir().unwrap();
    let state = TestApp { app: None, options: options(dir.path()), settings: Settings::default(), dir };
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

pub fn app<'a>(h: &'a Harness<'_, TestApp>) -> &'a MapflowApp {
    h.state().app.as_ref().unwrap()
}

/// Steps the UI until `what` holds, failing with its name after a few seconds.
pub fn wait_for(h: &mut Harness<'_, TestApp>, what: &str, cond: impl Fn(&Harness<'_, TestApp>) -> bool) {
    let start = Instant::now();
    loop {
        h.step();
        if h.state().app.is_some() && cond(h) {
            h.run_steps(2);
            return;
        }
        assert!(start.elapsed() < Duration::from_secs(15), "timed out waiting for: {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
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
