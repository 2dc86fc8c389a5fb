//! The result cache: a result shown once is kept on disk and shown again with the server
//! gone; Settings says how much the cache holds and Clear cache empties it.
#![allow(clippy::unwrap_used)]

mod support;

use egui_kittest::kittest::Queryable;
use mapflow_desktop::api::ProcessingStatus;
use mapflow_desktop::sandbox::{Sandbox, SandboxConfig, seed};
use support::{app, app_mut, wait_for};

#[test]
fn a_result_seen_once_opens_again_with_the_server_gone() {
    let sandbox = Sandbox::start(SandboxConfig::default()).unwrap();
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
    wait_for(&mut h, "the failure", |h| {
        app(h)
            .state
            .results
            .get(&id)
            .is_some_and(|v| matches!(v.state, mapflow_desktop::app::processings::ResultState::Failed(_)))
    });
}
