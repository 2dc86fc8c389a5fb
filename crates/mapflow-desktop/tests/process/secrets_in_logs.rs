//! Secrets stay out of the logs: the app's worker, at `trace`, signs in with a token, then
//! estimates and starts a processing on a custom tile service with a password, against a
//! sandbox on loopback in the same process; neither secret appears in anything logged.

use mapflow_desktop::api::{
    ProcessingParams, ProcessingRequest, RetryPolicy, Secret, SourceParams, Token, UserSourceType,
};
use mapflow_desktop::app::credentials::CredentialStore;
use mapflow_desktop::sandbox::SandboxConfig;
use mapflow_desktop::worker::{Command, Event, WorkerConfig, WorkerHandle};
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use testkit::sandbox_setup::StrictSandbox;

const KEY: &str = "k3y-that-must-never-be-logged";
const PASSWORD: &str = "raster-pa55word-never-logged";

/// Everything logged, in one buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn next_event(worker: &WorkerHandle, what: &str, want: impl Fn(&Event) -> bool) -> Event {
    let start = Instant::now();
    loop {
        while let Some(mapflow_desktop::worker::Stamped { event: e, .. }) = worker.try_recv() {
            if want(&e) {
                return e;
            }
        }
        assert!(start.elapsed() < Duration::from_secs(30), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn neither_the_token_nor_a_raster_password_is_ever_logged() {
    let _state = crate::exclusive();
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();

    let token = Token::from_parts("analyst@example.com", KEY);
    let sandbox = StrictSandbox::start(SandboxConfig {
        token: token.clone(),
        processing_seconds: 1.0,
        ..SandboxConfig::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let config = WorkerConfig {
        credentials: CredentialStore::file_only(dir.path().join("credentials.json")),
        sandbox: SandboxConfig { data_dir: Some(dir.path().join("embedded")), ..SandboxConfig::default() },
        retry: RetryPolicy { attempts: 2, base_delay: Duration::from_millis(5), max_delay: Duration::from_millis(10) },
        status_interval: Duration::from_secs(60),
        processing_poll: Duration::from_millis(200),
        timeout_scale: 1.0,
        cache_dir: Some(dir.path().join("cache")),
    };
    let worker = WorkerHandle::spawn(config, || {}).unwrap();
    worker.send(Command::SignIn { server: sandbox.base_url().clone(), token: token.clone(), remember: true });
    let Event::SignedIn { status, .. } = next_event(
        &worker,
        "the sign-in",
        |e| matches!(e, Event::SignedIn { session, .. } if session.email == "analyst@example.com"),
    ) else {
        unreachable!()
    };
    worker.send(Command::LoadProjects { query: Default::default() });
    let Event::Projects { result, .. } = next_event(&worker, "the projects", |e| matches!(e, Event::Projects { .. }))
    else {
        unreachable!()
    };
    let project = result.unwrap().results.into_iter().find(|p| p.is_default).unwrap();
    let model = status.models.iter().find(|m| m.name.contains("Buildings")).unwrap();
    let aoi = mapflow_desktop::geo::Aoi::from_bbox([37.60, 55.75, 37.61, 55.756]);
    let request = ProcessingRequest {
        name: "Own tiles".into(),
        description: None,
        project_id: project.id,
        wd_id: Some(model.id.clone()),
        wd_name: None,
        geometry: Some(serde_json::to_value(aoi.to_geometry()).unwrap()),
        area_sq_km: None,
        params: ProcessingParams {
            source_params: SourceParams::UserDefined {
                source_type: UserSourceType::Xyz,
                url: "https://tiles.example.com/{z}/{x}/{y}.png".into(),
                zoom: Some(18),
                crs: "epsg:3857".into(),
                raster_login: Some("surveyor".into()),
                raster_password: Some(Secret::new(PASSWORD)),
            },
            inference_params: None,
        },
        blocks: Vec::new(),
        meta: None,
    };
    assert!(!format!("{request:?}").contains(PASSWORD), "Debug of the request hides the password");
    worker.send(Command::EstimateCost { request: request.clone() });
    let Event::Cost { result, .. } = next_event(&worker, "the estimate", |e| matches!(e, Event::Cost { .. })) else {
        unreachable!()
    };
    assert!(result.unwrap() > 0.0);
    worker.send(Command::CreateProcessing { request });
    let Event::ProcessingCreated(created) =
        next_event(&worker, "the create", |e| matches!(e, Event::ProcessingCreated(_)))
    else {
        unreachable!()
    };
    let created = created.unwrap();
    assert!(!format!("{created:?}").contains(PASSWORD), "the server does not echo the password");
    // Let the polls of the new processing be logged too.
    std::thread::sleep(Duration::from_millis(600));
    while worker.try_recv().is_some() {}
    drop(worker);
    drop(sandbox);

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("command") && logs.contains("EstimateCost"), "the capture sees the worker's commands");
    for (name, secret) in [("API key", KEY), ("token", token.expose()), ("raster password", PASSWORD)] {
        assert!(!logs.contains(secret), "the {name} was logged:\n{}", context(&logs, secret));
    }
}

/// The log lines around the first occurrence of `secret`, for the failure message.
fn context(logs: &str, secret: &str) -> String {
    let at = logs.find(secret).unwrap_or(0);
    let start = logs[..at].rfind('\n').unwrap_or(0);
    logs[start..(at + 200).min(logs.len())].replace(secret, "<SECRET>")
}
