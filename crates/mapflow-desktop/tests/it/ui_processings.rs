//! Processings through the UI against the embedded sandbox: draw or import an AOI, see its
//! area and the cost, start, watch it finish, see the result on the map.

use crate::support;

use egui_kittest::kittest::{NodeT, Queryable};
use mapflow_desktop::api::ProcessingStatus;
use support::{app, app_mut, click_map, drop_file, harness, open_project, signed_in_to_sandbox, wait_for};

fn start_disabled(h: &egui_kittest::Harness<'_, support::TestApp>) -> bool {
    h.get_by_label("Start processing…").accesskit_node().is_disabled()
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn draw_estimate_start_watch_and_show_the_result() {
    let mut h = harness();
    signed_in_to_sandbox(&mut h);
    open_project(&mut h, "Default project");
    // A view about 1.3 km across, so four clicks make a sub-km² square.
    app_mut(&mut h).state.zoom_request = Some([37.610, 55.750, 37.630, 55.760]);
    h.run_steps(3);

    h.get_by_label("Draw polygon").click();
    h.run_steps(2);
    for (x, y) in [(0.2, 0.2), (0.8, 0.2), (0.8, 0.8), (0.2, 0.8)] {
        click_map(&mut h, x, y);
    }
    assert_eq!(app(&h).state.settings.aoi.drawing.as_ref().map(Vec::len), Some(4), "four clicks, four vertices");
    h.get_by_label("Finish polygon").click();
    h.run_steps(2);
    let aoi = app(&h).state.settings.aoi.aoi.clone();
    assert_eq!(aoi.polygons.len(), 1);
    let area_km2 = aoi.total_area_m2() / 1e6;
    assert!(area_km2 > 0.1 && area_km2 < 5.0, "over the provider minimum, under the limit: {area_km2} km²");
    h.get_by_label(&format!("Area: {area_km2:.2} km²"));

    h.get_by_label("Processing name").focus();
    h.run_steps(1);
    h.get_by_label("Processing name").type_text("Harbour buildings");
    h.run_steps(1);
    wait_for(&mut h, "the cost estimate", |h| {
        !app(h).state.cost.is_pending() && app(h).state.cost.value().is_some() && app(h).state.cost_request.is_some()
    });
    let cost = *app(&h).state.cost.value().unwrap();
    assert!(cost > 0.0);
    let balance_before = app(&h).state.status.value().unwrap().remaining_credits;
    assert!(h.query_all_by_label(&format!("{cost:.0} credits")).next().is_some());
    assert!(!start_disabled(&h));

    h.get_by_label("Start processing…").click();
    h.run_steps(2);
    h.get_by_label("Start").click();
    wait_for(&mut h, "the new processing in the table", |h| {
        app(h).state.processing(app(h).state.selected_processing.as_ref().unwrap_or(&Default::default())).is_some()
    });
    let id = app(&h).state.selected_processing.clone().unwrap();
    wait_for(&mut h, "the processing to finish", |h| {
        app(h).state.processing(&id).is_some_and(|p| p.status == ProcessingStatus::Ok)
    });
    h.get_by_label_contains("is finished");
    let p = app(&h).state.processing(&id).unwrap().clone();
    assert_eq!(p.cost as f64, cost.round(), "charged what was estimated");
    wait_for(&mut h, "the balance to drop", |h| {
        app(h).state.status.value().is_some_and(|s| s.remaining_credits == balance_before - p.cost)
    });

    h.get_all_by_label("Show on map").next().unwrap().click();
    wait_for(&mut h, "the result layer", |h| app(h).state.results.get(&id).and_then(|v| v.layer()).is_some());
    let n = app(&h).state.results[&id].layer().unwrap().feature_count();
    assert!(n > 100, "a city block AOI has many buildings: {n}");
    h.get_all_by_label(&format!("{n} features")).next().unwrap();
}

#[test]
fn imported_geojson_becomes_the_aoi() {
    let mut h = harness();
    signed_in_to_sandbox(&mut h);
    open_project(&mut h, "Default project");
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "field.geojson",
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":
            {"type":"Polygon","coordinates":[[[30.0,50.0],[30.01,50.0],[30.01,50.01],[30.0,50.01],[30.0,50.0]]]}}]}"#,
    );
    drop_file(&mut h, &file);
    wait_for(&mut h, "the imported AOI", |h| !app(h).state.settings.aoi.aoi.is_empty());
    h.get_by_label_contains("imported from field.geojson");
    let area = app(&h).state.settings.aoi.aoi.total_area_m2() / 1e6;
    assert!((area - 0.795).abs() < 0.01, "{area}");
    h.get_by_label(&format!("Area: {area:.2} km²"));
}

#[test]
fn a_broken_file_is_refused_and_the_aoi_kept() {
    let mut h = harness();
    signed_in_to_sandbox(&mut h);
    open_project(&mut h, "Default project");
    app_mut(&mut h).state.settings.aoi.replace(mapflow_desktop::geo::Aoi::from_bbox([30.0, 50.0, 30.01, 50.01]));
    h.run_steps(2);
    let before = app(&h).state.settings.aoi.aoi.clone();
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "broken.geojson", r#"{"type": "FeatureCollection", "features": [ {"type": "Feat"#);
    drop_file(&mut h, &file);
    wait_for(&mut h, "the import error", |h| app(h).state.aoi_import_error.is_some());
    h.get_by_label_contains("broken.geojson was not imported");
    assert_eq!(app(&h).state.settings.aoi.aoi, before, "the current AOI is untouched");

    // An empty file, likewise.
    let empty = write(dir.path(), "empty.geojson", "");
    drop_file(&mut h, &empty);
    wait_for(&mut h, "the second import error", |h| {
        app(h).state.aoi_import_error.as_deref().is_some_and(|e| e.contains("empty.geojson"))
    });
    assert_eq!(app(&h).state.settings.aoi.aoi, before);
}

#[test]
fn an_oversized_aoi_shows_the_limit_and_keeps_start_disabled() {
    let mut h = harness();
    signed_in_to_sandbox(&mut h);
    open_project(&mut h, "Default project");
    app_mut(&mut h).state.settings.form.name = "Too big".into();
    let dir = tempfile::tempdir().unwrap();
    // About 12,000 km², over the sandbox account's 100 km² limit.
    let file = write(
        dir.path(),
        "big.geojson",
        r#"{"type":"Polygon","coordinates":[[[10.0,0.0],[11.0,0.0],[11.0,1.0],[10.0,1.0],[10.0,0.0]]]}"#,
    );
    drop_file(&mut h, &file);
    wait_for(&mut h, "the imported AOI", |h| !app(h).state.settings.aoi.aoi.is_empty());
    h.run_steps(3);
    h.get_by_label_contains("100.00 km²");
    assert!(start_disabled(&h));
    // Nothing was estimated or started for it.
    assert!(app(&h).state.cost_request.is_none());
}
