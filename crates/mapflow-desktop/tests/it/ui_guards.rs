//! The form's guard rails through the UI against the embedded sandbox: a zoom the model
//! cannot use is corrected and cannot be chosen, a coarse scene cannot be sent to Buildings,
//! an AOI beyond the uploaded image is clipped with the areas shown, and the cost's
//! breakdown on screen sums to the server's estimate.

use crate::support;
use testkit::test_geotiff;

use egui_kittest::kittest::{NodeT, Queryable};
use mapflow_desktop::app::Settings;
use mapflow_desktop::app::form::SourceKind;
use mapflow_desktop::geo::Aoi;
use support::{app, app_mut, drop_file, harness, harness_with, open_project, signed_in_to_sandbox, wait_for};

fn start_disabled(h: &egui_kittest::Harness<'_, support::TestApp>) -> bool {
    h.get_by_label("Start processing…").accesskit_node().is_disabled()
}

/// Some text on screen contains `text` (a wrapped label and its text runs may all match).
fn shown(h: &egui_kittest::Harness<'_, support::TestApp>, text: &str) {
    assert!(h.query_all_by_label_contains(text).next().is_some(), "not on screen: {text}");
}

fn estimated(h: &egui_kittest::Harness<'_, support::TestApp>) -> bool {
    let s = &app(h).state;
    s.cost_request.is_some() && !s.cost.is_pending() && s.cost.value().is_some()
}

#[test]
fn a_saved_zoom_too_low_for_buildings_is_corrected_and_cannot_be_chosen() {
    let mut settings = Settings::default();
    settings.form.provider_zoom = 12;
    settings.form.name = "Low zoom".into();
    let mut h = harness_with(settings);
    signed_in_to_sandbox(&mut h);
    open_project(&mut h, "Default project");
    h.run_steps(2);
    let form = &app(&h).state.settings.form;
    assert!(form.model(&app(&h).state.models()).is_some_and(|m| m.name.contains("Buildings")));
    assert_eq!(form.provider_zoom, 17, "zoom 12 from the last run is raised to Buildings' minimum");
    shown(&h, "Zoom changed from 12 to 17");
    shown(&h, "m/px · 17–18");

    let zoom = h.get_by_label("Zoom");
    assert_eq!(zoom.accesskit_node().min_numeric_value(), Some(17.0), "the field stops at 17");
    assert_eq!(zoom.accesskit_node().max_numeric_value(), Some(18.0), "Mapbox goes up to 18");
    zoom.focus();
    h.run_steps(1);
    for _ in 0..3 {
        h.key_press(egui::Key::ArrowDown);
        h.run_steps(1);
    }
    assert_eq!(app(&h).state.settings.form.provider_zoom, 17, "arrow keys cannot go below 17");

    // The aerial model needs zoom 19, which Mapbox does not have: said, and Start stays off.
    app_mut(&mut h).state.settings.aoi.replace(Aoi::from_bbox([37.612, 55.752, 37.622, 55.758]));
    let aerial = app(&h).state.models().into_iter().find(|m| m.name.contains("Aerial")).unwrap();
    app_mut(&mut h).state.settings.form.model = Some(aerial.id);
    h.run_steps(3);
    shown(&h, "imagery goes up to zoom 18, but Buildings (Aerial) needs zoom 19");
    assert!(start_disabled(&h));
}

#[test]
fn a_ten_metre_scene_cannot_be_sent_to_buildings() {
    let mut h = harness();
    signed_in_to_sandbox(&mut h);
    open_project(&mut h, "Default project");
    let aoi = Aoi::from_bbox([37.58, 55.74, 37.63, 55.767]);
    app_mut(&mut h).state.settings.aoi.replace(aoi.clone());
    h.get_by_label("Catalog").click();
    h.run_steps(2);
    h.get_by_label("Search").click();
    wait_for(&mut h, "catalog results", |h| app(h).state.catalog.results.value().is_some_and(|p| !p.images.is_empty()));
    let page = app(&h).state.catalog.results.value().unwrap().clone();
    let coarse = page.images.iter().find(|i| i.pixel_resolution.is_some_and(|r| r >= 10.0)).expect("a Sentinel-2 tile");
    let actual = coarse.pixel_resolution.unwrap();
    app_mut(&mut h).state.catalog.selected.insert(coarse.id.clone());
    h.run_steps(2);
    h.get_by_label("Process selected (1)…").click();
    h.run_steps(2);
    shown(&h, &format!("The images picked are {actual:.2} m per pixel"));
    shown(&h, "needs 1.2 m per pixel or finer");
    assert_ne!(app(&h).state.settings.form.source, SourceKind::Catalog, "the form is not switched to it");
    assert_eq!(app(&h).state.settings.aoi.aoi, aoi, "nor the AOI clipped");

    // A fine scene goes through.
    let fine = page.images.iter().find(|i| i.pixel_resolution.is_some_and(|r| r <= 0.5)).expect("a fine scene");
    app_mut(&mut h).state.catalog.selected.clear();
    app_mut(&mut h).state.catalog.selected.insert(fine.id.clone());
    h.run_steps(2);
    h.get_by_label("Process selected (1)…").click();
    h.run_steps(2);
    assert_eq!(app(&h).state.settings.form.source, SourceKind::Catalog);
}

#[test]
fn an_aoi_beyond_the_uploaded_image_is_clipped_with_the_area_shown() {
    let mut h = harness();
    signed_in_to_sandbox(&mut h);
    open_project(&mut h, "Default project");
    support::new_mosaic(&mut h, "Survey");
    // 400 × 400 px of 0.5 m in UTM 37N: a 200 m square.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("block.tif");
    test_geotiff::write_test_geotiff(&path, 400, 400, 3, 32637, [400_000.0, 6_180_000.0], [0.5, 0.5], true).unwrap();
    drop_file(&mut h, &path);
    wait_for(&mut h, "the uploaded image", |h| app(h).state.imagery.images.value().is_some_and(|i| i.len() == 1));
    let footprint = mapflow_desktop::ui::imagery::footprints(&app(&h).state);
    let image_m2 = footprint.total_area_m2();
    assert!((image_m2 - 40_000.0).abs() < 2_000.0, "{image_m2}");

    // An AOI about 1 km across around the image.
    let [w, s, e, n] = footprint.bbox().unwrap();
    let aoi = Aoi::from_bbox([w - 0.005, s - 0.003, e + 0.005, n + 0.003]);
    app_mut(&mut h).state.settings.aoi.replace(aoi.clone());
    app_mut(&mut h).state.settings.form.name = "Block".into();
    h.get_by_label("Process this image").click();
    h.run_steps(2);
    h.get_by_label("New processing").click();
    h.run_steps(2);
    assert_eq!(app(&h).state.settings.form.source, SourceKind::MyImagery);
    shown(
        &h,
        &format!("The imagery covers {:.2} km² of the {:.2} km² drawn", image_m2 / 1e6, aoi.total_area_m2() / 1e6),
    );
    // The estimate is for the covered part only.
    wait_for(&mut h, "the estimate", estimated);
    let sent = app(&h).state.cost_request.as_ref().unwrap().geometry.clone().unwrap();
    let sent = mapflow_desktop::geo::parse_geojson(&sent.to_string()).unwrap();
    assert!((sent.total_area_m2() - image_m2).abs() < image_m2 * 0.01, "{} vs {image_m2}", sent.total_area_m2());
    assert!(!start_disabled(&h));

    // Trimming makes the drawn AOI the covered part.
    h.get_by_label("Trim AOI to imagery").click();
    h.run_steps(2);
    let trimmed = app(&h).state.settings.aoi.aoi.total_area_m2();
    assert!((trimmed - image_m2).abs() < image_m2 * 0.01, "{trimmed}");
    assert!(h.query_by_label("Trim AOI to imagery").is_none(), "nothing left to trim");

    // An AOI away from the image is refused.
    app_mut(&mut h).state.settings.aoi.replace(Aoi::from_bbox([e + 0.01, s, e + 0.02, n]));
    h.run_steps(3);
    shown(&h, "does not overlap the chosen imagery");
    assert!(start_disabled(&h));
}

#[test]
fn the_cost_breakdown_on_screen_sums_to_the_servers_estimate() {
    let mut h = harness();
    signed_in_to_sandbox(&mut h);
    open_project(&mut h, "Default project");
    let models = app(&h).state.models();
    let buildings = models.iter().find(|m| m.name == "🏠 Buildings").unwrap().clone();
    {
        let form = &mut app_mut(&mut h).state.settings.form;
        form.model = Some(buildings.id.clone());
        form.enabled_blocks = buildings.blocks.iter().filter(|b| b.optional).map(|b| b.name.clone()).collect();
        form.provider_zoom = 18;
    }
    // About 10.8 km² over Moscow: a fractional area, so the sum needs rounding up.
    app_mut(&mut h).state.settings.aoi.replace(Aoi::from_bbox([37.55, 55.73, 37.60, 55.759]));
    wait_for(&mut h, "the estimate", estimated);
    let total = *app(&h).state.cost.value().unwrap();
    h.get_by_label("Breakdown");
    let state = &app(&h).state;
    let status = state.status.value().unwrap();
    let area_km2 = state.settings.aoi.aoi.total_area_m2() / 1e6;
    let lines = mapflow_desktop::app::cost::breakdown(
        &state.settings.form,
        &models,
        &status.data_providers,
        &status.search_data_providers,
        area_km2,
        total,
    );
    let labels: Vec<String> = lines.iter().map(|l| l.label.clone()).collect();
    assert_eq!(
        labels,
        [
            "Segmentation",
            "Simplification",
            "Classification",
            "Merge with OSM",
            "Heights",
            "Imagery: Mapbox Satellite, zoom 18",
            "Rounded up to whole credits"
        ],
        "the model's blocks, the imagery, and only rounding: the listed prices explain the server's number"
    );
    let rounding = lines.last().unwrap().credits;
    assert!(rounding > 0.0 && rounding < 1.0, "{rounding}");
    let sum: f64 = lines.iter().map(|l| l.credits).sum();
    assert!((sum - total).abs() < 1e-6, "{sum} vs {total}");
    for line in &lines {
        h.get_by_label(&line.label);
        assert!(
            h.query_all_by_label(&format!("{:.2}", line.credits)).next().is_some(),
            "{} shows {:.2}",
            line.label,
            line.credits
        );
    }
    h.get_by_label("Total (the server's estimate)");
    assert!(h.query_all_by_label(&format!("{total:.0} credits")).next().is_some());
}
