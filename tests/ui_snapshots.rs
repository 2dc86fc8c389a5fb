//! Image snapshots of the main screen at 1280×800 in English and Russian, rendered with wgpu
//! (llvmpipe where there is no GPU). `UPDATE_SNAPSHOTS=1 cargo test --test ui_snapshots`
//! rewrites them under `tests/snapshots/`; look at the new PNGs before committing them.
#![allow(clippy::unwrap_used)]

mod support;

use mapflow_desktop::app::Language;
use support::{app, app_mut, harness, signed_in_to_sandbox, wait_for};

#[test]
fn the_main_screen_in_both_languages() {
    // The same renderer on every machine: OpenGL through EGL (llvmpipe without a GPU).
    if std::env::var_os("WGPU_BACKEND").is_none() {
        // SAFETY: the only test of this binary, before anything reads the environment.
        unsafe { std::env::set_var("WGPU_BACKEND", "gl") };
    }
    let mut h = harness();
    signed_in_to_sandbox(&mut h);
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
