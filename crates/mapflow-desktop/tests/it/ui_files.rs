//! The built-in file chooser through the UI, as it opens where the desktop has no file dialog
//! (the settings force it here): import an AOI, save a result, confirm overwrites, pick several
//! GeoTIFFs, and see why a folder cannot be shown.

use crate::support;
use testkit::test_geotiff;

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use mapflow_desktop::api::{ProcessingId, ProcessingStatus};
use mapflow_desktop::app::Settings;
use std::path::Path;
use support::{TestApp, app, app_mut, go_to, harness_with, open_project, signed_in_to_sandbox, type_into, wait_for};

/// The app with the built-in chooser forced, signed in to its sandbox, the default project open.
fn chooser_app() -> Harness<'static, TestApp> {
    let mut h = harness_with(Settings { builtin_file_chooser: true, ..Settings::default() });
    signed_in_to_sandbox(&mut h);
    open_project(&mut h, "Default project");
    // The first run's demo result and catalog search may still be arriving: their rows would
    // move the buttons under a click.
    support::first_run_settled(&mut h);
    h
}

fn chooser_open(h: &Harness<'_, TestApp>) -> bool {
    app(h).ui.file_chooser.is_open()
}

const FIELD: &str = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":
    {"type":"Polygon","coordinates":[[[30.0,50.0],[30.01,50.0],[30.01,50.01],[30.0,50.01],[30.0,50.0]]]}}]}"#;

#[test]
fn a_geojson_aoi_is_imported_through_the_built_in_chooser() {
    let mut h = chooser_app();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("field.geojson"), FIELD).unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not an AOI").unwrap();
    std::fs::create_dir(dir.path().join("older")).unwrap();
    assert!(app(&h).state.settings.aoi.aoi.is_empty());

    h.get_by_label("Import GeoJSON…").click();
    wait_for(&mut h, "the chooser to open", chooser_open);
    assert!(
        !app(&h).state.notices.iter().any(|n| n.text.contains("No system file dialog")),
        "forced by the settings, so nothing to explain"
    );
    go_to(&mut h, dir.path());
    // Folders are listed, files only where the filter lets them through.
    h.get_by_label("📁 older");
    assert!(h.query_by_label("notes.txt").is_none(), "the GeoJSON filter hides other files");
    h.get_by_label("field.geojson").click();
    h.run_steps(1);
    h.get_by_label("Open").click();
    wait_for(&mut h, "the imported AOI", |h| !app(h).state.settings.aoi.aoi.is_empty());
    assert!(!chooser_open(&h));
    let area = app(&h).state.settings.aoi.aoi.total_area_m2() / 1e6;
    assert!((area - 0.795).abs() < 0.01, "{area}");
    h.get_by_label_contains("imported from field.geojson");
    let folder = dir.path().canonicalize().unwrap();
    assert_eq!(app(&h).state.settings.recent_folders.first(), Some(&folder), "the folder is a recent one now");

    // Next time it opens there, and "All files" shows the rest.
    h.get_by_label("Import GeoJSON…").click();
    wait_for(
        &mut h,
        "the chooser in the recent folder",
        |h| matches!(&app(h).state.files.listing, Some(Ok(l)) if l.folder == folder),
    );
    h.get_by_label("File type").click();
    h.run_steps(2);
    h.get_by_label("All files").click();
    h.run_steps(2);
    h.get_by_label("notes.txt");
    h.get_by_label("Cancel").click();
    h.run_steps(2);
    assert!(!chooser_open(&h));
}

/// Puts an AOI in place, starts a processing on the sandbox and waits for it to finish.
fn finished_processing(h: &mut Harness<'_, TestApp>) -> ProcessingId {
    let aoi = mapflow_desktop::geo::Aoi::from_bbox([37.610, 55.750, 37.620, 55.756]);
    app_mut(h).state.settings.aoi.replace(aoi);
    h.run_steps(2);
    type_into(h, "Processing name", "Harbour buildings", false);
    wait_for(h, "the cost estimate", |h| {
        !app(h).state.cost.is_pending() && app(h).state.cost.value().is_some() && app(h).state.cost_request.is_some()
    });
    h.get_by_label("Start processing…").click();
    h.run_steps(2);
    h.get_by_label("Start").click();
    wait_for(h, "the new processing", |h| {
        app(h).state.selected_processing.as_ref().is_some_and(|id| app(h).state.processing(id).is_some())
    });
    let id = app(h).state.selected_processing.clone().unwrap();
    wait_for(h, "the processing to finish", |h| {
        app(h).state.processing(&id).is_some_and(|p| p.status == ProcessingStatus::Ok)
    });
    id
}

/// "Save results…" sits low in the narrow details pane, where a pointer click at its centre
/// can land on a neighbour; activated the way a keyboard or screen reader does it instead.
fn click_save_results(h: &mut Harness<'_, TestApp>) {
    h.get_by_label("Save results…").scroll_to_me();
    h.run_steps(2);
    h.get_by_label("Save results…").click_accesskit();
}

fn is_feature_collection(path: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(path) else { return false };
    serde_json::from_str::<serde_json::Value>(&text).is_ok_and(|v| v["type"] == "FeatureCollection")
}

#[test]
fn a_result_is_saved_to_a_new_file_through_the_built_in_chooser() {
    let mut h = chooser_app();
    finished_processing(&mut h);
    let dir = tempfile::tempdir().unwrap();

    click_save_results(&mut h);
    wait_for(&mut h, "the chooser to open", chooser_open);
    assert_eq!(h.get_by_label("File name").value().as_deref(), Some("Harbour buildings.geojson"));
    go_to(&mut h, dir.path());
    type_into(&mut h, "File name", "harbour.geojson", false);
    h.get_by_label("Save").click();
    let target = dir.path().join("harbour.geojson");
    wait_for(&mut h, "the saved result", |h| {
        app(h).state.notices.iter().any(|n| n.text.contains("harbour.geojson")) && target.exists()
    });
    assert!(!chooser_open(&h));
    assert!(is_feature_collection(&target), "{:?}", std::fs::read_to_string(&target));
}

#[test]
fn a_result_is_saved_as_a_geopackage_by_its_extension() {
    let mut h = chooser_app();
    finished_processing(&mut h);
    let dir = tempfile::tempdir().unwrap();

    click_save_results(&mut h);
    wait_for(&mut h, "the chooser to open", chooser_open);
    go_to(&mut h, dir.path());
    type_into(&mut h, "File name", "harbour.gpkg", false);
    h.get_by_label("Save").click();
    let target = dir.path().join("harbour.gpkg");
    wait_for(&mut h, "the GeoPackage", |h| {
        app(h).state.notices.iter().any(|n| n.text.contains("harbour.gpkg") && n.text.contains("GeoPackage"))
    });
    h.run_steps(2);
    h.get_by_label_contains("as GeoPackage");
    // A GeoPackage with the features of the result, and no leftover download beside it.
    let db = rusqlite::Connection::open(&target).unwrap();
    let table: String =
        db.query_row("SELECT table_name FROM gpkg_contents WHERE data_type = 'features'", [], |r| r.get(0)).unwrap();
    let count: i64 = db.query_row(&format!("SELECT count(*) FROM \"{table}\""), [], |r| r.get(0)).unwrap();
    assert!(count > 0, "{table} holds {count} features");
    let names: Vec<String> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["harbour.gpkg"]);
}

#[test]
fn saving_over_a_file_asks_first_and_cancel_keeps_it() {
    let mut h = chooser_app();
    finished_processing(&mut h);
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("harbour.geojson");
    std::fs::write(&target, "the original").unwrap();

    click_save_results(&mut h);
    wait_for(&mut h, "the chooser to open", chooser_open);
    go_to(&mut h, dir.path());
    // Clicking the file takes its name.
    h.get_by_label("harbour.geojson").click();
    h.run_steps(1);
    assert_eq!(h.get_by_label("File name").value().as_deref(), Some("harbour.geojson"));
    h.get_by_label("Save").click();
    h.run_steps(2);
    h.get_by_label("harbour.geojson already exists. Replace it?");
    h.get_by_label("Cancel").click();
    h.run_steps(2);
    assert!(chooser_open(&h), "cancelling the replace goes back to the chooser");
    assert!(h.query_by_label("harbour.geojson already exists. Replace it?").is_none());
    // Nothing is written while waiting either.
    for _ in 0..20 {
        h.step();
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "the original");

    h.get_by_label("Save").click();
    h.run_steps(2);
    h.get_by_label("Replace").click();
    wait_for(&mut h, "the result over the old file", |_| is_feature_collection(&target));
    assert!(!chooser_open(&h));
}

#[test]
fn a_missing_folder_or_a_file_shows_why_in_the_window() {
    let mut h = chooser_app();
    let before = app(&h).state.settings.aoi.aoi.clone();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("field.geojson");
    std::fs::write(&file, FIELD).unwrap();

    h.get_by_label("Import GeoJSON…").click();
    wait_for(&mut h, "the chooser to open", chooser_open);
    let missing = dir.path().join("no such folder");
    type_into(&mut h, "Folder", &missing.display().to_string(), true);
    wait_for(&mut h, "the error", |h| matches!(app(h).state.files.listing, Some(Err(_))));
    h.get_by_label_contains(&format!("Cannot open {}", missing.display()));
    assert!(chooser_open(&h), "the error is shown in the chooser, which stays open");

    // A file is not a folder either.
    type_into(&mut h, "Folder", &file.display().to_string(), true);
    wait_for(
        &mut h,
        "the second error",
        |h| matches!(&app(h).state.files.listing, Some(Err(e)) if e.contains("field.geojson")),
    );
    h.get_by_label_contains(&format!("Cannot open {}", file.display()));

    // The parent folder button goes back to where the file is.
    h.get_by_label("Parent folder").click();
    let folder = dir.path().canonicalize().unwrap();
    wait_for(
        &mut h,
        "the parent's listing",
        |h| matches!(&app(h).state.files.listing, Some(Ok(l)) if l.folder == folder),
    );
    h.get_by_label("field.geojson");

    // Cancel leaves everything as it was.
    h.get_by_label("Cancel").click();
    h.run_steps(3);
    assert!(!chooser_open(&h));
    assert_eq!(app(&h).state.settings.aoi.aoi, before);
    assert!(app(&h).state.settings.recent_folders.is_empty(), "nothing was picked, so no recent folder");
}

#[test]
fn several_geotiffs_are_picked_for_one_upload() {
    let mut h = harness_with(Settings { builtin_file_chooser: true, ..Settings::default() });
    signed_in_to_sandbox(&mut h);
    support::new_mosaic(&mut h, "Drone survey");

    let dir = tempfile::tempdir().unwrap();
    for (name, x) in [("north.tif", 400_000.0), ("south.tif", 400_200.0)] {
        test_geotiff::write_test_geotiff(
            &dir.path().join(name),
            100,
            100,
            3,
            32637,
            [x, 6_180_000.0],
            [0.5, 0.5],
            true,
        )
        .unwrap();
    }
    std::fs::write(dir.path().join("field.geojson"), FIELD).unwrap();

    h.get_by_label("Upload GeoTIFFs…").click();
    wait_for(&mut h, "the chooser to open", chooser_open);
    go_to(&mut h, dir.path());
    assert!(h.query_by_label("field.geojson").is_none(), "only GeoTIFFs are offered");
    h.get_by_label("north.tif").click();
    h.run_steps(1);
    h.get_by_label("south.tif").click_modifiers(egui::Modifiers::COMMAND);
    h.run_steps(1);
    h.get_by_label("2 files selected");
    h.get_by_label("Open").click();
    wait_for(&mut h, "both uploads to finish", |h| {
        !app(h).state.imagery.uploading && app(h).state.imagery.uploads.len() == 2
    });
    let uploads = &app(&h).state.imagery.uploads;
    assert!(uploads.iter().all(|(_, s)| *s == mapflow_desktop::worker::UploadStatus::Done), "{uploads:?}");
    wait_for(&mut h, "the two images", |h| app(h).state.imagery.images.value().is_some_and(|i| i.len() == 2));
}

#[test]
fn cancelling_an_upload_pick_frees_the_upload_button() {
    let mut h = harness_with(Settings { builtin_file_chooser: true, ..Settings::default() });
    signed_in_to_sandbox(&mut h);
    h.get_by_label("My imagery").click();
    wait_for(&mut h, "the storage figures", |h| app(h).state.imagery.memory.value().is_some());
    type_into(&mut h, "Mosaic name", "Empty", false);
    h.get_by_label("Create and upload GeoTIFFs…").click();
    wait_for(&mut h, "the chooser to open", chooser_open);
    assert!(app(&h).state.imagery.uploading);
    h.key_press(egui::Key::Escape);
    h.run_steps(2);
    assert!(!chooser_open(&h));
    assert!(!app(&h).state.imagery.uploading, "no upload waits for files any more");
}

/// Whether this machine surely has no system file dialog: no zenity and no session bus for a
/// portal. Elsewhere the test below would open a real dialog, so it checks nothing there.
fn no_system_dialog_here() -> bool {
    let zenity = std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join("zenity").exists()));
    let bus = std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some()
        || std::env::var_os("XDG_RUNTIME_DIR").is_some_and(|dir| Path::new(&dir).join("bus").exists());
    !zenity && !bus
}

#[test]
fn without_a_system_dialog_the_built_in_one_opens_and_says_why_once() {
    if !no_system_dialog_here() {
        eprintln!("skipped: this machine may have a system file dialog");
        return;
    }
    let mut h = support::harness();
    signed_in_to_sandbox(&mut h);
    open_project(&mut h, "Default project");
    let why = "No system file dialog is available here; using the built-in one";
    let dir = tempfile::tempdir().unwrap();
    let field = dir.path().join("field.geojson");
    std::fs::write(&field, FIELD).unwrap();
    for round in 0..2 {
        h.get_by_label("Import GeoJSON…").click();
        wait_for(&mut h, "the built-in chooser", chooser_open);
        h.get_by_label_contains("System file dialog: no zenity on PATH");
        h.get_by_label("Cancel").click();
        h.run_steps(2);
        assert!(!chooser_open(&h));
        if round == 0 {
            // Another notice in between, so a second one would not be merged with the first.
            support::drop_file(&mut h, &field);
            wait_for(&mut h, "the dropped AOI", |h| !app(h).state.settings.aoi.aoi.is_empty());
        }
    }
    let told = app(&h).state.notices.iter().filter(|n| n.text == why).count();
    assert_eq!(told, 1, "said once per session: {:?}", app(&h).state.notices);
}

#[test]
fn the_history_is_exported_as_csv_through_the_built_in_chooser() {
    let mut h = chooser_app();
    app_mut(&mut h).ui.show_pane(mapflow_desktop::app::layout::Pane::History);
    wait_for(&mut h, "the history", |h| app(h).state.history.rows.value().is_some_and(|r| !r.is_empty()));
    let runs = app(&h).state.history.rows.value().unwrap().len();
    let dir = tempfile::tempdir().unwrap();

    h.get_by_label("Export CSV…").click();
    wait_for(&mut h, "the chooser to open", chooser_open);
    assert_eq!(h.get_by_label("File name").value().as_deref(), Some("mapflow-history.csv"));
    go_to(&mut h, dir.path());
    h.get_by_label("Save").click();
    let target = dir.path().join("mapflow-history.csv");
    wait_for(&mut h, "the saved history", |h| {
        app(h).state.notices.iter().any(|n| n.text.contains("mapflow-history.csv")) && target.exists()
    });
    let csv = std::fs::read_to_string(&target).unwrap();
    assert!(csv.starts_with("id,name,projectId"), "{csv}");
    assert_eq!(csv.lines().count(), runs + 1, "{csv}");
}

#[test]
fn a_geopackage_opens_as_a_layer_through_the_built_in_chooser() {
    use mapflow_desktop::export::{Dataset, Format, write};
    let mut h = chooser_app();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("field.gpkg");
    write(&Dataset::from_geojson(FIELD.as_bytes(), "field").unwrap(), Format::GeoPackage, &path).unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not a layer").unwrap();

    h.get_by_label("Open layer…").click();
    wait_for(&mut h, "the chooser to open", chooser_open);
    go_to(&mut h, dir.path());
    assert!(h.query_by_label("notes.txt").is_none(), "only GIS files are offered");
    h.get_by_label("field.gpkg").click();
    h.run_steps(1);
    h.get_by_label("Open").click();
    let id = mapflow_desktop::app::processings::local_layer_id(&dir.path().canonicalize().unwrap().join("field.gpkg"));
    wait_for(&mut h, "the layer", |h| app(h).state.results.get(&id).and_then(|v| v.layer()).is_some());
    assert!(!chooser_open(&h));
    h.get_by_label_contains("Opened field.gpkg: 1 features");
}

/// Clicks `button`, saves as `name` in `folder` through the chooser, and waits for the notice
/// naming the file and its format.
fn save_through_chooser(h: &mut Harness<'_, TestApp>, button: &str, folder: &Path, name: &str, format: &str) {
    h.get_by_label(button).click();
    wait_for(h, "the chooser to open", chooser_open);
    go_to(h, folder);
    type_into(h, "File name", name, false);
    h.get_by_label("Save").click();
    wait_for(h, "the file saved", |h| {
        app(h).state.notices.iter().any(|n| n.text.contains(name) && n.text.contains(format))
    });
}

/// The AOI and the catalog's footprints save in any format through the chooser, and read back.
#[test]
fn the_aoi_and_the_catalog_footprints_are_saved_as_gis_files() {
    use mapflow_desktop::app::layout::Pane;
    let mut h = chooser_app();
    let dir = tempfile::tempdir().unwrap();
    let aoi = mapflow_desktop::geo::parse_geojson(FIELD).unwrap();
    app_mut(&mut h).state.settings.aoi.aoi = aoi.clone();
    app_mut(&mut h).state.settings.aoi.generation += 1;
    app_mut(&mut h).ui.show_pane(Pane::Layers);
    h.run_steps(2);
    save_through_chooser(&mut h, "Save AOI…", dir.path(), "field.fgb", "FlatGeobuf");
    let back = mapflow_desktop::export::read::to_geojson(&dir.path().join("field.fgb")).unwrap();
    let back = mapflow_desktop::geo::parse_geojson_bytes(&back).unwrap();
    assert_eq!(back.polygons.len(), 1);
    let (a, b) = (aoi.areas_m2()[0], back.areas_m2()[0]);
    assert!((a - b).abs() < a * 1e-6, "{a} vs {b}");

    // The catalog searched over the AOI: its footprints, with their metadata.
    let cmd = app_mut(&mut h).state.search_catalog(0).unwrap();
    app_mut(&mut h).state.follow_up.push(cmd);
    wait_for(&mut h, "the catalog's images", |h| app(h).state.catalog.results.value().is_some());
    let images = app(&h).state.catalog.results.value().unwrap().images.clone();
    assert!(!images.is_empty());
    app_mut(&mut h).ui.show_pane(Pane::CatalogResults);
    h.run_steps(2);
    save_through_chooser(&mut h, "Save footprints…", dir.path(), "scenes.gpkg", "GeoPackage");
    let db = rusqlite::Connection::open(dir.path().join("scenes.gpkg")).unwrap();
    let table: String =
        db.query_row("SELECT table_name FROM gpkg_contents WHERE data_type = 'features'", [], |r| r.get(0)).unwrap();
    let ids: Vec<String> = db
        .prepare(&format!("SELECT id FROM \"{table}\" ORDER BY fid"))
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let expected: Vec<String> = images.iter().filter(|i| i.footprint.is_some()).map(|i| i.id.clone()).collect();
    assert_eq!(ids, expected, "a row per footprint, with the image's id");
    let cloud: Option<f64> =
        db.query_row(&format!("SELECT cloudCover FROM \"{table}\" WHERE fid = 1"), [], |r| r.get(0)).unwrap();
    assert_eq!(cloud, images[0].cloud_cover);
}
