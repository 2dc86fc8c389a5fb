//! Catalog search through the UI against the sandbox: search over an AOI, rows and
//! footprints, a selected row highlighted, and "Process selected…" filling the form.
#![allow(clippy::unwrap_used)]

mod support;

use egui_kittest::kittest::Queryable;
use mapflow_desktop::app::form::SourceKind;
use support::{app, app_mut, harness, open_project, signed_in_to_sandbox, wait_for};

#[test]
fn search_select_and_process_selected() {
    let mut h = harness();
    signed_in_to_sandbox(&mut h);
    open_project(&mut h, "Default project");
    // A 3 km square over Moscow, where the sandbox catalog has scenes.
    let aoi = mapflow_desktop::geo::Aoi::from_bbox([37.58, 55.74, 37.63, 55.767]);
    app_mut(&mut h).state.settings.aoi.replace(aoi.clone());
    h.run_steps(2);

    h.get_by_label("Catalog").click();
    h.run_steps(2);
    h.get_by_label("Search").click();
    wait_for(&mut h, "catalog results", |h| app(h).state.catalog.results.value().is_some_and(|p| !p.images.is_empty()));
    let page = app(&h).state.catalog.results.value().unwrap().clone();
    h.get_by_label(&format!("{} found", page.total));
    // Every row is in the table, with its id.
    let first = page.images[0].id.clone();
    h.get_by_label(&first);

    // Clicking a row's id highlights its footprint and zooms the map to it.
    h.get_by_label(&first).click();
    h.run_steps(3);
    assert_eq!(app(&h).state.catalog.focused.as_deref(), Some(first.as_str()));

    // A filter change greys out rows without a new search.
    let searches = app(&h).state.catalog.query.clone();
    app_mut(&mut h).state.settings.catalog.max_cloud = 0.0;
    h.run_steps(2);
    assert_eq!(app(&h).state.catalog.query, searches, "no new request");
    app_mut(&mut h).state.settings.catalog.max_cloud = 100.0;
    h.run_steps(2);

    // Select the first image fine enough for Buildings and process it.
    let fine = page.images.iter().find(|i| i.pixel_resolution.is_some_and(|r| r <= 1.2)).unwrap();
    let (first, provider) = (fine.id.clone(), fine.provider_name.clone().unwrap());
    app_mut(&mut h).state.catalog.selected.insert(first.clone());
    h.run_steps(2);
    h.get_by_label("Process selected (1)…").click();
    h.run_steps(3);
    let form = &app(&h).state.settings.form;
    assert_eq!(form.source, SourceKind::Catalog);
    assert_eq!(form.catalog.image_ids, vec![first.clone()]);
    assert_eq!(form.catalog.provider, provider);
    let clipped = app(&h).state.settings.aoi.aoi.total_area_m2();
    assert!(clipped > 0.0 && clipped <= aoi.total_area_m2() * 1.0001, "the AOI is clipped to the footprint");
    // The form is shown with the catalog source.
    h.get_by_label_contains("image(s) from");
}

#[test]
fn an_aoi_over_the_search_limit_is_refused_before_the_request() {
    let mut h = harness();
    signed_in_to_sandbox(&mut h);
    // About 12,000 km², over the sandbox's 2,500 km² search limit.
    app_mut(&mut h).state.settings.aoi.replace(mapflow_desktop::geo::Aoi::from_bbox([10.0, 0.0, 11.0, 1.0]));
    h.run_steps(2);
    h.get_by_label("Catalog").click();
    h.run_steps(2);
    h.get_by_label("Search").click();
    h.run_steps(2);
    h.get_by_label_contains("the limit for a catalog search is 2500.00 km²");
    assert!(app(&h).state.catalog.query.is_none(), "nothing was sent");
}
