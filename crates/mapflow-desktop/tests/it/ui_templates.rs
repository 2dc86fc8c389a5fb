//! Planned searches through the UI against the sandbox: a planned search made over the AOI,
//! new images appearing as (simulated) time passes and announced once, and a processing
//! started from a found image listed under its AOI.

use crate::support;

use egui_kittest::kittest::Queryable;
use support::{app, app_mut, open_project, signed_in_to_sandbox, wait_for};

#[test]
fn plan_a_search_see_new_images_and_start_a_processing_under_its_aoi() {
    let mut h = support::harness_tuned(tempfile::tempdir().unwrap(), Default::default(), |o| {
        o.worker.sandbox.template_search_seconds = 0.3;
        o.worker.sandbox.template_check_seconds = 0.6;
    });
    signed_in_to_sandbox(&mut h);
    open_project(&mut h, "Default project");
    app_mut(&mut h).state.templates.poll_every = std::time::Duration::from_millis(200);
    // About 3 km a side over Almaty, where the sandbox catalog has scenes.
    let aoi = mapflow_desktop::geo::Aoi::from_bbox([76.90, 43.22, 76.93, 43.25]);
    app_mut(&mut h).state.settings.aoi.replace(aoi);
    h.run_steps(2);

    h.get_by_label("Planned searches").click();
    h.run_steps(2);
    h.get_by_label("No planned searches in this project yet.");
    h.get_by_label("Plan a search over the AOI").click();
    wait_for(&mut h, "the planned search's first images", |h| {
        app(h).state.templates.current().is_some()
            && app(h).state.templates.images.value().is_some_and(|p| !p.results.is_empty())
    });
    let first = app(&h).state.templates.images.value().unwrap().total;
    assert!(app(&h).state.templates.images.value().unwrap().results.iter().all(|r| r.is_new == Some(true)));
    h.get_by_label("Areas of interest");
    assert!(!h.query_all_by_label("New").collect::<Vec<_>>().is_empty(), "the found images are marked new");

    // Time passes: a check finds more, the poll brings them in, one notice says so.
    wait_for(&mut h, "a check to find more images", |h| {
        app(h).state.templates.images.value().is_some_and(|p| p.total > first)
    });
    wait_for(&mut h, "the notice of new images", |h| {
        app(h).state.notices.iter().any(|n| n.text.contains("found new images"))
    });

    // Pick a found image fine enough for the model and start a processing from it.
    let fine = app(&h)
        .state
        .templates
        .images
        .value()
        .unwrap()
        .results
        .iter()
        .find(|r| r.metadata.pixel_resolution.is_some_and(|p| p <= 1.2))
        .map(|r| r.id.clone())
        .expect("a sub-metre image");
    app_mut(&mut h).state.templates.selected.insert(fine);
    h.run_steps(2);
    h.get_by_label("Start processing from picked (1)").click();
    h.run_steps(2);
    assert_eq!(app(&h).state.templates.error, None, "the start was refused");
    wait_for(&mut h, "the processing under its AOI", |h| {
        app(h).state.templates.current().is_some_and(|t| t.aois().first().is_some_and(|a| !a.processings().is_empty()))
    });
    let t = app(&h).state.templates.current().unwrap().clone();
    let run = &t.aois()[0].processings()[0];
    assert!(run.processing_name.contains(&t.name), "named from the plan: {}", run.processing_name);
    h.run_steps(3);
    assert!(
        h.query_all_by_label_contains(&run.processing_name).next().is_some(),
        "the processing is listed under its AOI in the pane"
    );
    assert!(app(&h).state.notices.iter().any(|n| n.text.contains("was started from the planned search")));
}
