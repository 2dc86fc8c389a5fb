//! My imagery through the UI against the sandbox: create a mosaic, upload a GeoTIFF into it,
//! see its footprint and metadata, rename and delete it.

use crate::support;
use testkit::test_geotiff;

use egui_kittest::kittest::Queryable;
use mapflow_desktop::worker::UploadStatus;
use support::{app, app_mut, drop_file, harness, signed_in_to_sandbox, wait_for};

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
    // Its footprint is drawn on the map: with the map over Moscow, the footprints' outline is
    // among what the last frame painted, inside the map, and where the image is (a 150 × 100 m
    // patch of UTM zone 37N near 37.4° E, 55.8° N).
    app_mut(&mut h).state.zoom_request = Some([37.0, 55.5, 38.0, 56.1]);
    h.run_steps(3);
    let color = mapflow_desktop::ui::IMAGE_FOOTPRINT_COLOR;
    let points: Vec<egui::Pos2> = support::painted_shapes(&h)
        .into_iter()
        .filter_map(|shape| match shape {
            egui::Shape::LineSegment { points, stroke } if stroke.color == color => Some(points),
            _ => None,
        })
        .flatten()
        .collect();
    assert!(!points.is_empty(), "no outline of the footprint's colour was painted");
    let map = app(&h).map.map_rect().unwrap();
    assert!(points.iter().all(|p| map.contains(*p)), "the outline is inside the map");
    let [w, s, e, n] = support::map_bbox_of(&h, &points);
    assert!(w > 37.0 && e < 39.0 && s > 55.0 && n < 56.5, "{w} {s} {e} {n}");
    assert!(e - w < 0.01 && n - s < 0.01, "the outline is the image's, not a larger area: {w} {s} {e} {n}");

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
