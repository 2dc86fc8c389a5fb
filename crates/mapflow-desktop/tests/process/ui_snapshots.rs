//! Image snapshots of the main screen at 1280×800 in English and Russian, rendered with wgpu
//! (llvmpipe where there is no GPU). `UPDATE_SNAPSHOTS=1 cargo test --test ui_snapshots`
//! rewrites them under `tests/snapshots/`; look at the new PNGs before committing them.

use crate::support;

use egui_kittest::kittest::Queryable;
use mapflow_desktop::app::Language;
use support::{app, app_mut, signed_in_to_sandbox, wait_for};

#[test]
fn the_main_screen_in_both_languages() {
    let _state = crate::exclusive();
    // The same renderer on every machine: OpenGL through EGL (llvmpipe without a GPU).
    if std::env::var_os("WGPU_BACKEND").is_none() {
        // SAFETY: the only test of this binary, before anything reads the environment.
        unsafe { std::env::set_var("WGPU_BACKEND", "gl") };
    }
    // The map on the bundled world only, and the demo's running processing held at 0 %, so
    // no tile or clock changes the picture.
    let mut settings = mapflow_desktop::app::Settings::default();
    settings.map.basemap = mapflow_desktop::map::Basemap::OfflineOnly;
    let mut h = support::harness_tuned(tempfile::tempdir().unwrap(), settings, |o| {
        o.worker.sandbox.demo_finish_seconds = 1e7;
    });
    signed_in_to_sandbox(&mut h);
    // The first look: the demo's newest result on the map and the catalog over it.
    wait_for(&mut h, "the demo's result and its catalog scenes", |h| {
        let s = &app(h).state;
        s.selected_processing.as_ref().and_then(|id| s.results.get(id)).and_then(|v| v.layer()).is_some()
            && s.catalog.results.value().is_some_and(|p| !p.images.is_empty())
    });
    // Its imagery under it loads tile by tile; the layout is the point here, not the pixels.
    for view in app_mut(&mut h).state.results.values_mut() {
        view.raster_url = None;
    }
    // The default project, empty, keeps dates out of the table.
    h.get_by_label("Default project").click();
    wait_for(&mut h, "the default project open with its processings", |h| {
        let s = &app(h).state;
        s.open_project.value().is_some_and(|p| p.is_default) && s.processings.value().is_some()
    });
    // Nothing in flight, no toast: the screen is the same on every run.
    app_mut(&mut h).state.notices.clear();
    h.remove_cursor();
    for (language, name) in [(Language::English, "workbench_en"), (Language::Russian, "workbench_ru")] {
        app_mut(&mut h).state.settings.language = language;
        language.activate();
        h.run_steps(6);
        let options = egui_kittest::SnapshotOptions::new().threshold(1.0).max_failed_pixels(40);
        h.snapshot_options(name, &options);
    }
    Language::English.activate();
}
