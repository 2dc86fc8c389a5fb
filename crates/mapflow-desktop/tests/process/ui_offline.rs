//! The result cache: a result shown once is kept on disk and shown again with the server
//! gone; Settings says how much the cache holds and Clear cache empties it. The last projects
//! and processings lists stay browsable with the server gone, marked as saved then.

use crate::support;
use testkit::sandbox_setup::StrictSandbox;

use egui_kittest::kittest::{NodeT, Queryable};
use mapflow_desktop::api::ProcessingStatus;
use mapflow_desktop::sandbox::{SandboxConfig, seed};
use support::{TestApp, app, app_mut, wait_for};

const MARK: &str = "Offline: showing the list saved at";
const UNREACHABLE: &str = "Could not reach the server";

fn marks(h: &egui_kittest::Harness<'_, TestApp>) -> usize {
    h.query_all_by_label_contains(MARK).count()
}

/// Forgets every list and result held in memory, as a restart would: what is shown next
/// comes from the server, or from what was saved on disk.
fn forget_lists(h: &mut egui_kittest::Harness<'_, TestApp>) {
    let state = &mut app_mut(h).state;
    state.projects.reset();
    state.open_project.reset();
    state.processings.reset();
    state.selected_processing = None;
    state.results.clear();
}

/// A sandbox of the test's own (its data in the returned folder) and the app signed in to it.
fn signed_in_to_own_sandbox()
-> (tempfile::TempDir, SandboxConfig, StrictSandbox, egui_kittest::Harness<'static, TestApp>) {
    let data = tempfile::tempdir().unwrap();
    let config = SandboxConfig { data_dir: Some(data.path().to_owned()), ..SandboxConfig::default() };
    let sandbox = StrictSandbox::start(config.clone());
    let mut h = support::harness();
    support::sign_in_to(&mut h, &sandbox.base_url(), sandbox.token().expose());
    (data, config, sandbox, h)
}

#[test]
fn the_last_lists_stay_browsable_with_the_server_gone() {
    let _state = crate::exclusive();
    let (_data, config, sandbox, mut h) = signed_in_to_own_sandbox();
    let server = sandbox.base_url();
    let addr: std::net::SocketAddr = server.trim_start_matches("http://").split('/').next().unwrap().parse().unwrap();
    support::open_project(&mut h, seed::DEMO_PROJECT_NAME);
    let done = support::listed(&h, ProcessingStatus::Ok);
    // The rows in view (the table lays out only those).
    let runs: Vec<String> = app(&h).state.processings.value().unwrap().results.iter().map(|p| p.name.clone()).collect();
    let runs: Vec<String> = runs.into_iter().filter(|r| h.query_all_by_label(r).next().is_some()).collect();
    assert!(runs.len() >= 3 && runs.contains(&done.name), "{runs:?}");
    let cmd = app_mut(&mut h).state.show_result(&done.id).unwrap();
    app_mut(&mut h).state.follow_up.push(cmd);
    wait_for(&mut h, "the result", |h| app(h).state.results.get(&done.id).and_then(|v| v.layer()).is_some());
    let features = app(&h).state.results[&done.id].layer().unwrap().feature_count();
    assert_eq!(marks(&h), 0, "no mark while the server answers");
    let lists = h.state().dir.path().join("lists");
    assert!(lists.is_dir(), "the lists are saved beside the result cache");

    // The server goes away, and the app starts over from what it saved.
    drop(sandbox);
    forget_lists(&mut h);
    wait_for(&mut h, "the saved projects", |h| app(h).state.projects_saved_at.is_some());
    h.get_by_label(seed::DEFAULT_PROJECT_NAME);
    h.get_by_label(seed::DEMO_PROJECT_NAME);
    assert_eq!(marks(&h), 1, "the projects list is marked");
    assert!(h.query_all_by_label_contains(UNREACHABLE).next().is_some(), "and says why");

    // Retry asks again; still away, the saved list stays.
    h.get_by_label_contains(MARK).parent().unwrap().get_by_label("Retry").click();
    h.step();
    assert!(app(&h).state.projects.is_pending(), "Retry loads the list again");
    wait_for(&mut h, "the retry answered", |h| !app(h).state.projects.is_pending());
    assert!(app(&h).state.projects_saved_at.is_some());

    // A listed project opens, its saved processings are listed, and a finished one's result
    // comes from the result cache onto the map.
    h.get_by_label(seed::DEMO_PROJECT_NAME).click();
    wait_for(&mut h, "the project open", |h| {
        app(h).state.open_project.value().is_some_and(|p| p.name == seed::DEMO_PROJECT_NAME)
    });
    wait_for(&mut h, "the saved processings", |h| app(h).state.processings_saved_at.is_some());
    if std::env::var("DEBUG_SHOT").is_ok() {
        h.render().unwrap().save("/tmp/shots/offline-en-1280.png").unwrap();
        h.set_size(egui::vec2(1024.0, 680.0));
        mapflow_desktop::app::Language::Russian.activate();
        h.run_steps(4);
        h.render().unwrap().save("/tmp/shots/offline-ru-1024.png").unwrap();
        mapflow_desktop::app::Language::English.activate();
        h.set_size(egui::vec2(1280.0, 800.0));
        h.run_steps(4);
    }
    for run in &runs {
        assert!(h.query_all_by_label(run).next().is_some(), "{run} is listed");
    }
    assert_eq!(marks(&h), 2, "the processings table is marked too");
    h.get_all_by_label(&done.name).next().unwrap().click();
    h.run_steps(2);
    assert_eq!(app(&h).state.selected_processing.as_ref(), Some(&done.id));
    h.get_all_by_label("Show on map").next().unwrap().click();
    wait_for(&mut h, "the result from the cache", |h| {
        app(h).state.results.get(&done.id).and_then(|v| v.layer()).is_some_and(|l| l.feature_count() == features)
    });

    // The server comes back: the next answers replace the saved lists, and the marks go.
    let _back = StrictSandbox::start(SandboxConfig { addr, ..config });
    wait_for(&mut h, "the lists from the server", |h| {
        let s = &app(h).state;
        s.projects_saved_at.is_none() && s.processings_saved_at.is_none() && s.projects.error().is_none()
    });
    assert_eq!(marks(&h), 0);
    assert!(h.query_all_by_label(seed::DEMO_PROJECT_NAME).next().is_some());
    assert!(h.query_all_by_label(&done.name).next().is_some());
}

#[test]
fn with_no_saved_list_the_failure_is_shown_as_before() {
    let _state = crate::shared();
    let sandbox = StrictSandbox::start(SandboxConfig::default());
    let mut h = support::harness();
    support::sign_in_to(&mut h, &sandbox.base_url(), sandbox.token().expose());
    support::open_project(&mut h, seed::DEFAULT_PROJECT_NAME);
    // Nothing saved (the files are gone); the Default project has no unfinished run, so
    // nothing polls and saves its list again.
    let lists = h.state().dir.path().join("lists");
    assert!(lists.is_dir());
    std::fs::remove_dir_all(&lists).unwrap();

    drop(sandbox);
    forget_lists(&mut h);
    wait_for(&mut h, "the failure", |h| app(h).state.projects.error().is_some() && !app(h).state.projects.is_pending());
    assert!(app(&h).state.projects_saved_at.is_none());
    assert!(app(&h).state.projects.value().is_none());
    assert_eq!(marks(&h), 0, "nothing to mark");
    assert!(h.query_all_by_label_contains(UNREACHABLE).next().is_some(), "the error is shown where the list was");
    assert!(h.query_by_label(seed::DEFAULT_PROJECT_NAME).is_none());
}

#[test]
fn a_result_seen_once_opens_again_with_the_server_gone() {
    let _state = crate::shared();
    let sandbox = StrictSandbox::start(SandboxConfig::default());
    let mut h = support::harness();
    support::sign_in_to(&mut h, &sandbox.base_url(), sandbox.token().expose());
    support::open_project(&mut h, seed::DEMO_PROJECT_NAME);
    let id = support::listed(&h, ProcessingStatus::Ok).id;
    let cmd = app_mut(&mut h).state.show_result(&id).unwrap();
    app_mut(&mut h).state.follow_up.push(cmd);
    wait_for(&mut h, "the result", |h| app(h).state.results.get(&id).and_then(|v| v.layer()).is_some());
    let features = app(&h).state.results[&id].layer().unwrap().feature_count();

    // The server goes away; the result, removed from the map, comes back from the cache.
    drop(sandbox);
    app_mut(&mut h).state.results.remove(&id);
    let cmd = app_mut(&mut h).state.show_result(&id).unwrap();
    app_mut(&mut h).state.follow_up.push(cmd);
    wait_for(&mut h, "the result from the cache", |h| {
        app(h).state.results.get(&id).and_then(|v| v.layer()).is_some_and(|l| l.feature_count() == features)
    });

    // Settings shows what the cache holds; Clear cache empties it.
    app_mut(&mut h).state.follow_up.push(mapflow_desktop::worker::Command::SetCacheLimit { bytes: 1 << 30 });
    wait_for(&mut h, "the cache's size", |h| app(h).state.cache_size.is_some_and(|s| s > 0));
    app_mut(&mut h).ui.settings_open = true;
    h.run_steps(2);
    h.get_by_label_contains("MB held");
    h.get_by_label("Clear cache").click();
    wait_for(&mut h, "an empty cache", |h| app(h).state.cache_size == Some(0));
    // Now the result cannot come back: it says why instead.
    app_mut(&mut h).state.results.remove(&id);
    let cmd = app_mut(&mut h).state.show_result(&id).unwrap();
    app_mut(&mut h).state.follow_up.push(cmd);
    wait_for(&mut h, "the failure", |h| app(h).state.results.get(&id).is_some_and(|v| v.state.error().is_some()));
}

#[test]
fn started_again_with_the_saved_server_gone_the_app_stays_on_it_with_its_saved_lists() {
    let _state = crate::shared();
    let (_data, _config, sandbox, mut h) = signed_in_to_own_sandbox();
    let server = sandbox.base_url();
    support::open_project(&mut h, seed::DEMO_PROJECT_NAME);
    wait_for(&mut h, "the token remembered", |h| app(h).state.session.as_ref().is_some_and(|s| s.stored.is_some()));

    // The app quits, the server goes away, the app starts again on the same data.
    let dir = std::mem::replace(&mut h.state_mut().dir, tempfile::tempdir().unwrap());
    drop(h);
    drop(sandbox);
    let mut h = support::harness_in(dir, mapflow_desktop::app::Settings::default());
    wait_for(&mut h, "a session", |h| app(h).state.session.is_some());
    let session = app(&h).state.session.clone().unwrap();
    assert_eq!(session.server, server, "still on the saved server, not the sandbox");
    assert!(matches!(app(&h).state.reach, Some(mapflow_desktop::api::Reach::NotAnswering { .. })));
    wait_for(&mut h, "the saved projects", |h| app(h).state.projects_saved_at.is_some());
    h.get_by_label(seed::DEMO_PROJECT_NAME);
    // The projects list is marked; so is the last project's processings table when it has
    // reopened from its saved list by now.
    assert!(marks(&h) >= 1, "marked as saved");
    assert!(app(&h).state.notices.iter().any(|n| n.text.contains("is not answering")), "and said why");
}
