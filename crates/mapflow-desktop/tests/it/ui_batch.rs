//! A batch from a file of polygons: one processing per feature (or per group), each started
//! exactly once, across a lost answer and a restart of the app; invalid areas refused before
//! anything is charged, with the reason.

use crate::support;
use testkit::sandbox_setup::StrictSandbox;

use egui_kittest::kittest::{NodeT as _, Queryable};
use mapflow_desktop::api::{Client, ClientConfig, ProcessingPageQuery};
use mapflow_desktop::sandbox::{Fault, FaultAction, Sandbox, SandboxConfig};
use mapflow_desktop::worker::Command;
use std::collections::BTreeMap;
use std::time::Duration;
use support::{TestApp, app, app_mut, open_project};

type H = egui_kittest::Harness<'static, TestApp>;

const CREATE_PATH: &str = "/rest/processings/v2";

fn square(x: f64, y: f64, side: f64) -> serde_json::Value {
    serde_json::json!({"type": "Polygon", "coordinates": [[[x, y], [x + side, y], [x + side, y + side], [x, y + side], [x, y]]]})
}

/// A GeoJSON file of `features` (name, district, geometry) in `dir`.
fn write_file(dir: &std::path::Path, features: &[(String, &str, serde_json::Value)]) -> std::path::PathBuf {
    let features: Vec<serde_json::Value> = features
        .iter()
        .map(|(name, district, geometry)| {
            serde_json::json!({"type": "Feature", "properties": {"name": name, "district": district}, "geometry": geometry})
        })
        .collect();
    let path = dir.join("blocks.geojson");
    let text = serde_json::json!({"type": "FeatureCollection", "features": features});
    std::fs::write(&path, text.to_string()).unwrap();
    path
}

/// `n` blocks of about 1.6 km² in Moscow, named "Block 01"…, in districts A, B, C in turn.
fn blocks(n: usize) -> Vec<(String, &'static str, serde_json::Value)> {
    (0..n)
        .map(|i| {
            let (x, y) = (37.50 + 0.02 * (i % 5) as f64, 55.70 + 0.02 * (i / 5) as f64);
            (format!("Block {:02}", i + 1), ["A", "B", "C"][i % 3], square(x, y, 0.015))
        })
        .collect()
}

/// The processings of the Default project on `sandbox` by name, with how many have each,
/// asked over loopback.
fn on_server(sandbox: &Sandbox) -> BTreeMap<String, usize> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let client = Client::new(ClientConfig::new(sandbox.base_url(), sandbox.token().clone())).unwrap();
        let project = client.default_project().await.unwrap();
        let query = ProcessingPageQuery { limit: 200, ..ProcessingPageQuery::default() };
        let page = client.processings_page(&project.id, &query).await.unwrap();
        let mut names = BTreeMap::new();
        for p in page.results {
            *names.entry(p.name).or_insert(0) += 1;
        }
        names
    })
}

fn batch_names(m: &BTreeMap<String, usize>) -> BTreeMap<String, usize> {
    m.iter().filter(|(k, _)| k.starts_with("Block") || k.len() == 1).map(|(k, v)| (k.clone(), *v)).collect()
}

fn wait_long(h: &mut H, what: &str, cond: impl Fn(&H) -> bool) {
    let start = std::time::Instant::now();
    while !cond(h) {
        if start.elapsed() > Duration::from_secs(90) {
            let shot = support::screenshot(h, what);
            let s = &app(h).state;
            let notices: Vec<_> = s.notices.iter().map(|n| n.text.clone()).collect();
            panic!("timed out waiting for {what}\nscreenshot: {shot}\nnotices: {notices:?}\nstop: {:?}", s.batch.stop);
        }
        h.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    h.run_steps(2);
}

/// The app signed in to `sandbox`, its data in `dir`, the Default project open.
fn signed_in(sandbox: &Sandbox, dir: tempfile::TempDir) -> H {
    let mut h = support::harness_in(dir, Default::default());
    support::sign_in_to(&mut h, &sandbox.base_url(), sandbox.token().expose());
    open_project(&mut h, "Default project");
    h
}

/// Opens `file` in the batch window and waits for every estimate.
fn plan(h: &mut H, file: &std::path::Path, rows: usize) {
    h.get_by_label("Batch from file…").click();
    h.run_steps(2);
    app_mut(h).state.follow_up.push(Command::ReadBatchFile { path: Some(file.to_owned()) });
    wait_long(h, "the plan", |h| app(h).state.batch.rows.len() == rows);
}

fn wait_estimates(h: &mut H) {
    wait_long(h, "every estimate", |h| {
        let b = &app(h).state.batch;
        !b.rows.is_empty() && b.totals(true).estimating == 0
    });
}

fn start(h: &mut H) {
    h.get_by_label("Start batch…").click();
    h.run_steps(2);
    h.get_by_label("Start batch").click();
    h.run_steps(2);
}

fn wait_finished(h: &mut H) {
    wait_long(h, "the batch to finish", |h| {
        let b = &app(h).state.batch;
        b.record.as_ref().is_some_and(|r| r.is_finished()) && !b.running
    });
}

fn sandbox() -> StrictSandbox {
    StrictSandbox::start(SandboxConfig { processing_seconds: 120.0, ..SandboxConfig::default() })
}

#[test]
fn a_batch_of_twenty_areas_starts_twenty_processings_once() {
    let sandbox = sandbox();
    let files = tempfile::tempdir().unwrap();
    let file = write_file(files.path(), &blocks(20));
    let mut h = signed_in(&sandbox, tempfile::tempdir().unwrap());
    plan(&mut h, &file, 20);
    wait_estimates(&mut h);
    let totals = app(&h).state.batch.totals(true);
    assert_eq!((totals.to_start, totals.refused, totals.skipped), (20, 0, 0));
    assert!(totals.cost > 0.0);
    let credits = app(&h).state.status.value().unwrap().remaining_credits;
    start(&mut h);
    wait_finished(&mut h);
    let record = app(&h).state.batch.record.clone().unwrap();
    assert_eq!(record.counts().created, 20);
    let names = batch_names(&on_server(&sandbox));
    assert_eq!(names.len(), 20, "{names:?}");
    assert!(names.values().all(|&n| n == 1), "each started once: {names:?}");
    assert!(names.contains_key("Block 01") && names.contains_key("Block 20"));
    assert!(h.query_all_by_label_contains("20 started, 0 refused, 0 skipped").next().is_some());
    // Charged the total shown, once.
    support::wait_for(&mut h, "the balance", |h| {
        app(h).state.status.value().is_some_and(|s| s.remaining_credits < credits)
    });
    app_mut(&mut h).state.follow_up.push(Command::RefreshStatus);
    support::wait_for(&mut h, "the balance after the batch", |h| {
        app(h).state.status.value().is_some_and(|s| (credits - s.remaining_credits) as f64 == totals.cost.round())
    });
}

#[test]
fn a_batch_resumed_after_a_crash_with_an_answer_lost_starts_none_twice() {
    let sandbox = sandbox();
    let files = tempfile::tempdir().unwrap();
    let file = write_file(files.path(), &blocks(20));
    let mut h = signed_in(&sandbox, tempfile::tempdir().unwrap());
    plan(&mut h, &file, 20);
    wait_estimates(&mut h);
    // Five creates answered, then one the server does but never answers in time.
    sandbox.faults().inject(Fault::new("POST", CREATE_PATH, FaultAction::Pass).times(5));
    sandbox
        .faults()
        .inject(Fault::new("POST", CREATE_PATH, FaultAction::AnswerLate(Duration::from_secs(120))).times(1));
    start(&mut h);
    wait_long(&mut h, "the sixth made on the server", |_| batch_names(&on_server(&sandbox)).len() == 6);
    wait_long(&mut h, "the sixth marked as sent", |h| {
        app(h).state.batch.record.as_ref().is_some_and(|r| {
            matches!(r.items[5].state, mapflow_desktop::worker::batch::ItemState::Sending { .. })
                && r.counts().created == 5
        })
    });

    // The app goes away mid-batch: a new one starts on the same data.
    let dir = std::mem::replace(&mut h.state_mut().dir, tempfile::tempdir().unwrap());
    h.state_mut().app = None;
    drop(h);
    let mut h = support::harness_in(dir, Default::default());
    wait_long(&mut h, "the unfinished batch offered", |h| !app(h).state.batch.found.is_empty());
    assert!(
        h.query_all_by_label_contains("5 of 20 started, 15 still to do").next().is_some(),
        "the offer says how far it got"
    );
    h.get_by_label("Resume batch").click();
    h.run_steps(2);
    wait_finished(&mut h);
    let record = app(&h).state.batch.record.clone().unwrap();
    assert_eq!(record.counts().created, 20);
    assert!(
        matches!(record.items[5].state, mapflow_desktop::worker::batch::ItemState::Created { adopted: true, .. }),
        "the one whose answer was lost was found, not sent again: {:?}",
        record.items[5].state
    );
    let names = batch_names(&on_server(&sandbox));
    assert_eq!(names.len(), 20, "{names:?}");
    assert!(names.values().all(|&n| n == 1), "none twice: {names:?}");

    // Restarted once more: nothing left to offer.
    let dir = std::mem::replace(&mut h.state_mut().dir, tempfile::tempdir().unwrap());
    h.state_mut().app = None;
    drop(h);
    let mut h = support::harness_in(dir, Default::default());
    support::wait_for(&mut h, "the session", |h| {
        app(h).state.session.as_ref().is_some_and(|s| s.server == sandbox.base_url())
    });
    h.run_steps(20);
    assert!(app(&h).state.batch.found.is_empty());
}

#[test]
fn invalid_areas_are_refused_before_charging_with_the_reason() {
    let sandbox = sandbox();
    let files = tempfile::tempdir().unwrap();
    let mut features = blocks(4);
    features.push(("Too big".into(), "A", square(37.0, 55.0, 0.3)));
    let bowtie = serde_json::json!({"type": "Polygon", "coordinates": [[[37.9, 55.9], [37.9, 55.92], [37.92, 55.9], [37.92, 55.92], [37.9, 55.9]]]});
    features.push(("Crossed".into(), "B", bowtie));
    let file = write_file(files.path(), &features);
    let mut h = signed_in(&sandbox, tempfile::tempdir().unwrap());
    plan(&mut h, &file, 6);
    wait_estimates(&mut h);
    let totals = app(&h).state.batch.totals(true);
    assert_eq!((totals.to_start, totals.refused), (4, 2));
    assert!(app(&h).state.batch.cost("feature:4").is_none(), "a refused item is not even estimated");
    assert!(h.query_all_by_label_contains("Refused, before anything is charged").next().is_some());
    assert!(h.query_all_by_label_contains("Too big: Polygon 1 covers").next().is_some(), "too big, and by how much");
    assert!(h.query_all_by_label_contains("Crossed: Polygon 1 crosses itself").next().is_some());
    start(&mut h);
    wait_finished(&mut h);
    let c = app(&h).state.batch.record.as_ref().unwrap().counts();
    assert_eq!((c.created, c.refused), (4, 2));
    let names = on_server(&sandbox);
    assert!(!names.contains_key("Too big") && !names.contains_key("Crossed"), "{names:?}");
    assert_eq!(batch_names(&names).len(), 4);
    assert!(
        h.query_all_by_label_contains("Crossed: Polygon 1 crosses itself").next().is_some(),
        "still named in the summary"
    );
}

#[test]
fn group_by_starts_one_processing_per_group() {
    let sandbox = sandbox();
    let files = tempfile::tempdir().unwrap();
    let file = write_file(files.path(), &blocks(6));
    let mut h = signed_in(&sandbox, tempfile::tempdir().unwrap());
    plan(&mut h, &file, 6);
    app_mut(&mut h).state.batch.group_by = Some("district".into());
    wait_long(&mut h, "the groups", |h| app(h).state.batch.rows.len() == 3);
    wait_estimates(&mut h);
    let rows = &app(&h).state.batch.rows;
    assert_eq!(rows.iter().map(|r| (r.name.as_str(), r.features)).collect::<Vec<_>>(), [("A", 2), ("B", 2), ("C", 2)]);
    start(&mut h);
    wait_finished(&mut h);
    let names = batch_names(&on_server(&sandbox));
    assert_eq!(names, BTreeMap::from([("A".into(), 1), ("B".into(), 1), ("C".into(), 1)]));
}

#[test]
fn a_file_dialog_closed_without_a_file_leaves_the_batch_window_usable() {
    let settings = mapflow_desktop::app::Settings { builtin_file_chooser: true, ..Default::default() };
    let mut h = support::harness_with(settings);
    support::signed_in_to_sandbox(&mut h);
    h.get_by_label("Batch from file…").click();
    h.run_steps(2);
    h.get_by_label("Choose file…").click();
    support::wait_for(&mut h, "the chooser to open", |h| app(h).ui.file_chooser.is_open());
    h.get_by_label("Cancel").click();
    support::wait_for(&mut h, "the chooser to close", |h| !app(h).ui.file_chooser.is_open());
    h.run_steps(2);
    assert!(!app(&h).state.batch.reading, "nothing is being read");
    let button = h.get_by_label("Choose file…");
    assert!(!button.accesskit_node().is_disabled(), "Choose file… is still usable");
    // And it opens the chooser again.
    button.click();
    support::wait_for(&mut h, "the chooser to open again", |h| app(h).ui.file_chooser.is_open());
}
