//! A start whose answer never comes, while the server does the work: the app finds the
//! processing it made and adopts it instead of offering a blind retry, so nothing is created
//! or charged twice; when it cannot even check, Start waits for a check that can.

use crate::support;
use testkit::sandbox_setup::StrictSandbox;

use egui_kittest::kittest::Queryable;
use mapflow_desktop::api::{Client, ClientConfig, ProcessingPageQuery};
use mapflow_desktop::sandbox::{Fault, FaultAction, Sandbox, SandboxConfig};
use std::time::Duration;
use support::{TestApp, app, app_mut, open_project, wait_for};

/// Timeouts a fifth of the real ones: a create gives up after 6 s.
const SCALE: f64 = 0.2;
const CREATE_PATH: &str = "/rest/processings/v2";

/// The app signed in to `sandbox` (not its embedded one), with the Default project open, an
/// AOI drawn, a name typed and the estimate in.
fn ready_to_start(sandbox: &Sandbox, name: &str) -> egui_kittest::Harness<'static, TestApp> {
    let mut h = support::harness_tuned(tempfile::tempdir().unwrap(), Default::default(), |o| {
        o.worker.timeout_scale = SCALE;
    });
    support::sign_in_to(&mut h, &sandbox.base_url(), sandbox.token().expose());
    open_project(&mut h, "Default project");
    app_mut(&mut h).state.settings.aoi.replace(mapflow_desktop::geo::Aoi::from_bbox([37.612, 55.752, 37.622, 55.758]));
    app_mut(&mut h).state.settings.form.name = name.into();
    wait_for(&mut h, "the estimate", |h| {
        let s = &app(h).state;
        s.cost_request.is_some() && !s.cost.is_pending() && s.cost.value().is_some()
    });
    h
}

fn start(h: &mut egui_kittest::Harness<'static, TestApp>) {
    h.get_by_label("Start processing…").click();
    h.run_steps(2);
    h.get_by_label("Start").click();
    h.run_steps(1);
}

/// The processings named `name` on the server, and the credits left, asked directly.
fn on_server(sandbox: &Sandbox, name: &str) -> (usize, i64) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let client = Client::new(ClientConfig::new(sandbox.base_url(), sandbox.token().clone())).unwrap();
        let project = client.default_project().await.unwrap();
        let page = client.processings_page(&project.id, &ProcessingPageQuery::default()).await.unwrap();
        let credits = client.user_status().await.unwrap().remaining_credits;
        (page.results.iter().filter(|p| p.name == name).count(), credits)
    })
}

fn wait_long(
    h: &mut egui_kittest::Harness<'static, TestApp>,
    what: &str,
    cond: impl Fn(&egui_kittest::Harness<'_, TestApp>) -> bool,
) {
    let start = std::time::Instant::now();
    while !cond(h) {
        assert!(start.elapsed() < Duration::from_secs(60), "timed out waiting for {what}");
        h.step();
        std::thread::sleep(Duration::from_millis(20));
    }
    h.run_steps(2);
}

#[test]
fn a_create_answered_too_late_is_adopted_not_repeated() {
    let sandbox = StrictSandbox::start(SandboxConfig { processing_seconds: 60.0, ..SandboxConfig::default() });
    let mut h = ready_to_start(&sandbox, "Late answer");
    let (_, credits_before) = on_server(&sandbox, "Late answer");
    let cost = app(&h).state.cost.value().copied().unwrap() as i64;
    sandbox.faults().inject(Fault::new("POST", CREATE_PATH, FaultAction::AnswerLate(Duration::from_secs(20))).times(1));
    start(&mut h);
    wait_long(&mut h, "the adopted processing", |h| {
        app(h).state.notices.iter().any(|n| n.text.contains("answered late, but it started \"Late answer\""))
    });
    let selected = app(&h).state.selected_processing.clone().expect("the run it found is selected");
    wait_for(&mut h, "it in the table", |h| app(h).state.processing(&selected).is_some());
    assert!(app(&h).state.create_error.is_none(), "{:?}", app(&h).state.create_error);
    assert_eq!(on_server(&sandbox, "Late answer"), (1, credits_before - cost), "made and charged once");
}

#[test]
fn a_create_that_cannot_be_checked_keeps_start_off_until_a_check_finds_it() {
    let sandbox = StrictSandbox::start(SandboxConfig { processing_seconds: 60.0, ..SandboxConfig::default() });
    let mut h = ready_to_start(&sandbox, "Unchecked");
    sandbox.faults().inject(Fault::new("POST", CREATE_PATH, FaultAction::AnswerLate(Duration::from_secs(20))).times(1));
    // Every page of processings fails while the app looks.
    sandbox.faults().inject(Fault::new("POST", "/rest/projects/*", FaultAction::Status(503)));
    start(&mut h);
    wait_long(&mut h, "the unsure answer", |h| app(h).state.create_unsure.is_some());
    assert!(
        h.query_all_by_label_contains("whether the server started it could not be checked").next().is_some(),
        "{:?}",
        app(&h).state.create_error
    );
    use egui_kittest::kittest::NodeT;
    assert!(h.get_by_label("Start processing…").accesskit_node().is_disabled(), "no blind second start");

    sandbox.faults().clear();
    assert_eq!(on_server(&sandbox, "Unchecked").0, 1, "the server did make it");
    h.get_by_label("Check again").click();
    wait_long(&mut h, "the check to find it", |h| app(h).state.create_unsure.is_none());
    assert!(app(&h).state.notices.iter().any(|n| n.text.contains("answered late, but it started \"Unchecked\"")));
    assert_eq!(on_server(&sandbox, "Unchecked").0, 1, "still one");
}
