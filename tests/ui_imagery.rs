//! My imagery through the UI against the sandbox: create a mosaic, upload a GeoTIFF into it,
//! see its footprint and metadata, rename and delete it.
#![allow(clippy::unwrap_used)]

mod support;
#[path = "common/test_geotiff.rs"]
mod test_geotiff;

use egui_kittest::kittest::Queryable;
use mapflow_desktop::worker::UploadStatus;
use support::{app, drop_file, harness, signed_in_to_sandbox, wait_for};

#[test]
fn create_upload_inspect_rename_delete() {
    let mut h = harness();
    signed_in_to_sandbox(&mut h);
    support::new_mosaic(&mut h, "Drone survey");

    // A small GeoTIFF in UTM zone 37N, dropped onto the window.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("field.tif");
    test_geotiff::write_test_geotiff(&path, 300, 200, 3, 32637, [400_000.0, 6_180_000.0], [0.5, 0.5], true).unwrap();
    drop_file(&mut h, &path);
    wait_for(&mut h, "the upload to finish", |h| {
        !app(h).state.imagery.uploading && !app(h).state.imagery.uploads.is_empty()
    });
    assert_eq!(app(&h).state.imagery.uploads[0].1, UploadStatus::Done, "{:?}", app(&h).state.imagery.uploads);
    wait_for(&mut h, "the uploaded image", |h| app(h).state.imagery.images.value().is_some_and(|i| i.len() == 1));
    h.get_by_label("field.tif");
    h.get_by_label_contains("EPSG:32637, 300×200 px, 3 band(s)");
    // Its footprint is drawn on the map.
    let footprint = mapflow_desktop::ui::imagery::footprints(&app(&h).state);
    assert_eq!(footprint.polygons.len(), 1);
    let [w, s, e, n] = footprint.bbox().unwrap();
    assert!(w > 37.0 && e < 39.0 && s > 55.0 && n < 56.5, "{w} {s} {e} {n}");

    // The seeded "Demo mosaic" is listed above: bring the image's buttons into view (the
    // pane scrolls with an animation).
    h.get_by_label("Rename file…").scroll_to_me();
    h.run_steps(30);
    h.get_by_label("Rename file…").click();
    h.run_steps(2);
    h.get_by_label("File name").focus();
    h.run_steps(1);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.get_by_label("File name").type_text("north-field.tif");
    h.run_steps(1);
    h.get_by_label("Save").click();
    wait_for(&mut h, "the renamed image", |h| {
        app(h).state.imagery.images.value().is_some_and(|i| i.iter().any(|i| i.filename == "north-field.tif"))
    });

    h.get_by_label("Delete file…").scroll_to_me();
    h.run_steps(30);
    h.get_by_label("Delete file…").click();
    h.run_steps(2);
    h.get_by_label_contains("Delete “north-field.tif” from the mosaic?");
    h.get_by_label("Delete").click();
    wait_for(&mut h, "the image to go", |h| app(h).state.imagery.images.value().is_some_and(|i| i.is_empty()));
}
