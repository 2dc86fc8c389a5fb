//! A first start on a fresh sandbox: the demo project opens by itself with a result on the
//! map and the catalog searched over it; its failed run offers a duplicate to fix, not a
//! restart that would fail again; the project's summary follows a run that finishes.

use crate::support;

use egui_kittest::kittest::Queryable;
use mapflow_desktop::api::ProcessingStatus;
use mapflow_desktop::sandbox::seed::DEMO_PROJECT_NAME;
use support::{app, harness, wait_for};

#[test]
fn a_first_start_lands_in_the_demo_with_a_result_on_the_map() {
    let mut h = harness();
    wait_for(&mut h, "the demo project to open by itself", |h| {
        app(h).state.open_project.value().is_some_and(|p| p.name == DEMO_PROJECT_NAME)
    });
    wait_for(&mut h, "a result on the map", |h| {
        let s = &app(h).state;
        s.selected_processing.as_ref().and_then(|id| s.results.get(id)).and_then(|v| v.layer()).is_some()
    });
    let state = &app(&h).state;
    let id = state.selected_processing.clone().unwrap();
    assert_eq!(state.processing(&id).unwrap().status, ProcessingStatus::Ok);
    let layer = state.results[&id].layer().unwrap().clone();
    assert!(layer.feature_count() > 50, "{}", layer.feature_count());
    // The map went to the result.
    h.run_steps(3);
    let [w, s, e, n] = layer.bbox().unwrap();
    let center = app(&h).map.center();
    assert!(center.x() > w && center.x() < e && center.y() > s && center.y() < n, "{center:?} vs {w} {s} {e} {n}");
    assert!(app(&h).map.memory.zoom() >= 12.0, "zoomed in to city scale: {}", app(&h).map.memory.zoom());
    // Its legend is in the layers pane.
    assert!(h.query_all_by_label_contains(&format!("{} features", layer.feature_count())).next().is_some());
    // And the catalog was searched over that work.
    wait_for(&mut h, "catalog scenes over the demo", |h| {
        app(h).state.catalog.results.value().is_some_and(|p| !p.images.is_empty())
    });
}

#[test]
fn the_demos_failed_run_offers_a_duplicate_to_fix_instead_of_a_restart() {
    let mut h = harness();
    wait_for(&mut h, "the demo's processings", |h| {
        app(h).state.open_project.value().is_some_and(|p| p.name == DEMO_PROJECT_NAME)
            && app(h).state.processings.value().is_some()
    });
    let failed = support::listed(&h, ProcessingStatus::Failed);
    let fix = mapflow_desktop::app::guards::parameter_failure(&failed.messages).expect("a parameter failure");
    support::app_mut(&mut h).state.selected_processing = Some(failed.id.clone());
    h.run_steps(3);
    let button = format!("Duplicate to fix {}", fix.what());
    h.get_by_label(&button);
    assert!(h.query_by_label("Restart").is_none(), "a restart would fail the same way");
    assert!(h.query_all_by_label_contains("a restart would send the same request").next().is_some());
    h.get_by_label(&button).click();
    h.run_steps(3);
    let form = &app(&h).state.settings.form;
    assert_eq!(form.name, format!("{} (2)", failed.name));
    // The copy's zoom was raised to what the model runs at.
    assert!(form.provider_zoom >= 17, "{}", form.provider_zoom);
    wait_for(&mut h, "the failed run's AOI as the draft", |h| !app(h).state.settings.aoi.aoi.is_empty());
}
