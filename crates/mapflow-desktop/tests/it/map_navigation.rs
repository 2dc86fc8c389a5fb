//! Moving about the map in a kittest harness (no display, no network): the wheel zooms about
//! the pointer, keys zoom and pan, the scale bar and zoom level are shown, "Go to…" flies to
//! places, coordinates and bboxes, failing tiles are reported, and the sandbox's imagery is the
//! basemap while the session is the sandbox.

use crate::support;

use egui::{Key, Modifiers, MouseWheelSource, MouseWheelUnit, TouchPhase, vec2};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use mapflow_desktop::map::{
    Basemap, Gazetteer, MapSettings, MapView, basemap_ui, format_length, meters_per_point, scale_bar,
};
use std::time::{Duration, Instant};

/// The map in a central panel, as the app shows it.
fn map_harness(view: MapView) -> Harness<'static, MapView> {
    Harness::builder().with_size(vec2(900.0, 600.0)).build_ui_state(
        |ui, view: &mut MapView| {
            egui::CentralPanel::default().show(ui, |ui| {
                view.show(ui, Vec::new());
            });
        },
        view,
    )
}

/// Europe at zoom 4, no web tiles.
fn offline_view() -> MapView {
    MapView::new(&egui::Context::default(), &MapSettings::default(), false)
}

fn wheel(harness: &Harness<'_, MapView>, delta: egui::Vec2, modifiers: Modifiers) {
    harness.event(egui::Event::MouseWheel {
        unit: MouseWheelUnit::Point,
        delta,
        phase: TouchPhase::Move,
        source: MouseWheelSource::Wheel,
        modifiers,
    });
}

/// Screen points per degree of longitude at `zoom` (the same everywhere in Web Mercator).
fn points_per_degree(zoom: f64) -> f64 {
    256.0 * 2f64.powf(zoom) / 360.0
}

#[test]
fn wheel_zooms_in_keeping_the_ground_under_the_pointer() {
    let mut harness = map_harness(offline_view());
    harness.run();
    let rect = harness.state().map_rect().unwrap();
    let pointer = rect.center() + vec2(180.0, -120.0);
    harness.hover_at(pointer);
    harness.run();
    let before = harness.state().cursor.unwrap();
    let zoom_before = harness.state().memory.zoom();

    // Away from the user: zoom in.
    wheel(&harness, vec2(0.0, 80.0), Modifiers::NONE);
    harness.run_steps(8);
    harness.hover_at(pointer);
    harness.run();

    let zoom = harness.state().memory.zoom();
    assert!(zoom > zoom_before + 0.5, "{zoom_before} -> {zoom}");
    let after = harness.state().cursor.unwrap();
    let scale = points_per_degree(zoom);
    let dx = (after.x() - before.x()) * scale;
    // Latitude: compare in Mercator via the same scale near this latitude (cos-corrected).
    let dy = (after.y() - before.y()) * scale / before.y().to_radians().cos();
    assert!(dx.abs() < 3.0 && dy.abs() < 3.0, "ground moved by {dx:.1}, {dy:.1} points: {before:?} -> {after:?}");
    // The centre moved towards the pointer (north-east of it), as it must when zooming there.
    let center = harness.state().center();
    assert!(center.x() > 15.0 && center.y() > 50.0, "{center:?}");

    // Towards the user: zoom out again.
    wheel(&harness, vec2(0.0, -80.0), Modifiers::NONE);
    harness.run_steps(8);
    assert!(harness.state().memory.zoom() < zoom - 0.5);
}

#[test]
fn shift_wheel_pans_without_zooming() {
    let mut harness = map_harness(offline_view());
    harness.run();
    let rect = harness.state().map_rect().unwrap();
    harness.hover_at(rect.center());
    harness.run();
    let zoom = harness.state().memory.zoom();
    let center = harness.state().center();

    wheel(&harness, vec2(0.0, 100.0), Modifiers::SHIFT);
    harness.run_steps(8);
    assert_eq!(harness.state().memory.zoom(), zoom);
    let moved = harness.state().center();
    // The content moved right: the view went west.
    assert!(moved.x() < center.x() - 1.0, "{center:?} -> {moved:?}");
}

#[test]
fn wheel_elsewhere_does_nothing() {
    let mut harness = map_harness(offline_view());
    harness.run();
    harness.remove_cursor();
    harness.run();
    let zoom = harness.state().memory.zoom();
    wheel(&harness, vec2(0.0, 80.0), Modifiers::NONE);
    harness.run_steps(8);
    assert_eq!(harness.state().memory.zoom(), zoom);
}

#[test]
fn keys_zoom_and_pan_while_the_pointer_is_over_the_map() {
    let mut harness = map_harness(offline_view());
    harness.run();
    let rect = harness.state().map_rect().unwrap();
    harness.hover_at(rect.center());
    harness.run();
    let zoom = harness.state().memory.zoom();

    harness.key_press(Key::Plus);
    harness.run();
    assert_eq!(harness.state().memory.zoom(), zoom + 1.0);
    harness.key_press(Key::Equals);
    harness.run();
    assert_eq!(harness.state().memory.zoom(), zoom + 2.0);
    harness.key_press(Key::Minus);
    harness.run();
    assert_eq!(harness.state().memory.zoom(), zoom + 1.0);

    let center = harness.state().center();
    harness.key_press(Key::ArrowRight);
    harness.run();
    let east = harness.state().center();
    assert!(east.x() > center.x() + 1.0 && (east.y() - center.y()).abs() < 1e-6, "{center:?} -> {east:?}");
    harness.key_press(Key::ArrowUp);
    harness.run();
    let north = harness.state().center();
    assert!(north.y() > east.y() + 0.5 && (north.x() - east.x()).abs() < 1e-6, "{east:?} -> {north:?}");
    harness.key_press(Key::ArrowLeft);
    harness.key_press(Key::ArrowDown);
    harness.run();
    let back = harness.state().center();
    assert!((back.x() - center.x()).abs() < 1e-6 && (back.y() - center.y()).abs() < 1e-6, "{back:?}");

    // Off the map (and the map not focused), keys are left alone.
    harness.remove_cursor();
    harness.run();
    harness.key_press(Key::Plus);
    harness.run();
    assert_eq!(harness.state().memory.zoom(), zoom + 1.0);
}

#[test]
fn home_shows_the_home_extent_or_the_world() {
    let mut harness = map_harness(offline_view());
    harness.run();
    let rect = harness.state().map_rect().unwrap();
    harness.hover_at(rect.center());
    harness.state_mut().set_home_bbox(Some([35.1, 54.2, 40.2, 56.9]));
    harness.run();

    harness.key_press(Key::Home);
    harness.run();
    let [west, south, east, north] = harness.state().visible_bbox().unwrap();
    assert!(west <= 35.1 && east >= 40.2 && south <= 54.2 && north >= 56.9, "{west} {south} {east} {north}");
    assert!(harness.state().memory.zoom() > 5.0);

    harness.state_mut().set_home_bbox(None);
    harness.key_press(Key::Home);
    harness.run();
    assert!(harness.state().memory.zoom() < 2.5, "{}", harness.state().memory.zoom());
    assert!(harness.state().center().x().abs() < 1.0);
}

#[test]
fn scale_bar_and_zoom_level_are_shown() {
    let mut harness = map_harness(offline_view());
    harness.run();
    // Zoom 4 at 50° N: 6.3 km a point, so 100 points are 629 km and the bar shows 500 km.
    harness.get_by_label("500 km");
    harness.get_by_label("z 4.0");
    let (meters, points) = scale_bar(meters_per_point(50.0, 4.0), 100.0);
    assert_eq!(format_length(meters), "500 km");
    assert!((70.0..=100.0).contains(&points), "{points}");

    harness.get_by_label("Zoom in").click();
    harness.run();
    harness.get_by_label("z 5.0");
    harness.get_by_label("200 km");
    assert!(harness.query_by_label("500 km").is_none());

    // The scale bar sits above the cursor position, both at the bottom left.
    let rect = harness.state().map_rect().unwrap();
    harness.hover_at(rect.center());
    harness.run();
    let readout = harness.get_by_label_contains("° N, ").rect();
    let zoom_label = harness.get_by_label("z 5.0").rect();
    assert!(zoom_label.bottom() <= readout.top() + 1.0, "{zoom_label:?} over {readout:?}");
    assert!(zoom_label.left() < rect.center().x && readout.bottom() > rect.center().y);
}

/// Waits (really) for the gazetteer, so that the search answers at once.
fn gazetteer_loaded() {
    assert!(Gazetteer::shared().len() > 30_000);
}

/// Opens "Go to…" with the button, types `text`, presses Enter and lets the flight land.
fn go_to(harness: &mut Harness<'_, MapView>, text: &str) {
    gazetteer_loaded();
    harness.get_by_label("Go to…").click();
    harness.run();
    assert!(harness.state().goto_open());
    harness.get_by_label("Place or coordinates").focus();
    harness.run();
    harness.get_by_label("Place or coordinates").type_text(text);
    harness.run();
    harness.key_press(Key::Enter);
    harness.run();
    harness.run();
}

fn assert_center(harness: &Harness<'_, MapView>, lat: f64, lon: f64) {
    let center = harness.state().center();
    assert!((center.y() - lat).abs() < 0.05 && (center.x() - lon).abs() < 0.05, "centre {center:?}, not {lat}, {lon}");
}

#[test]
fn go_to_a_place_by_english_or_russian_name() {
    let mut harness = map_harness(offline_view());
    harness.run();
    go_to(&mut harness, "Moscow");
    assert_center(&harness, 55.752, 37.618);
    assert!(!harness.state().goto_open());
    assert!(!harness.state().flying());
    assert!(harness.state().memory.zoom() >= 9.0);

    harness.state_mut().zoom_to_bbox([0.0, 40.0, 10.0, 50.0]);
    harness.run();
    go_to(&mut harness, "Москва");
    assert_center(&harness, 55.752, 37.618);
}

#[test]
fn go_to_coordinates_in_decimal_and_dms() {
    let mut harness = map_harness(offline_view());
    harness.run();
    go_to(&mut harness, "55.75, 37.62");
    assert_center(&harness, 55.75, 37.62);

    go_to(&mut harness, "-33.8688 151.2093");
    assert_center(&harness, -33.8688, 151.2093);

    // ASCII marks: the default fonts have no ′ and ″ (the parser's unit tests cover those).
    go_to(&mut harness, "55°45'07\"N 37°37'12\"E");
    assert_center(&harness, 55.752, 37.62);

    go_to(&mut harness, "43 15 N, 76 55 E");
    assert_center(&harness, 43.25, 76.9167);
}

#[test]
fn go_to_a_bbox_fits_it() {
    let mut harness = map_harness(offline_view());
    harness.run();
    go_to(&mut harness, "35.1, 54.2, 40.2, 56.9");
    let [west, south, east, north] = harness.state().visible_bbox().unwrap();
    assert!(west <= 35.1 && east >= 40.2 && south <= 54.2 && north >= 56.9, "{west} {south} {east} {north}");
    // The centre is the bbox's middle in Web Mercator.
    let mercator = |lat: f64| lat.to_radians().tan().asinh();
    let middle = ((mercator(54.2) + mercator(56.9)) / 2.0).sinh().atan().to_degrees();
    assert_center(&harness, middle, 37.65);
}

#[test]
fn ctrl_g_opens_go_to_and_a_suggestion_can_be_clicked() {
    gazetteer_loaded();
    let mut harness = map_harness(offline_view());
    harness.run();
    harness.key_press_modifiers(Modifiers::COMMAND, Key::G);
    harness.run();
    assert!(harness.state().goto_open());
    harness.get_by_label("Place or coordinates").focus();
    harness.run();
    harness.get_by_label("Place or coordinates").type_text("Алматы");
    harness.run();
    harness.get_by_label_contains("Almaty, KZ").click();
    harness.run();
    harness.run();
    assert_center(&harness, 43.2525, 76.9115);
}

#[test]
fn unknown_names_and_bad_coordinates_say_so() {
    gazetteer_loaded();
    let mut harness = map_harness(offline_view());
    harness.run();
    let center = harness.state().center();
    go_to(&mut harness, "Xqzwvplace");
    harness.get_by_label("No place or coordinates match “Xqzwvplace”");
    assert!(harness.state().goto_open());
    assert_eq!(harness.state().center(), center);

    // Escape closes the window.
    harness.key_press(Key::Escape);
    harness.run();
    assert!(!harness.state().goto_open());

    go_to(&mut harness, "95.5, 37.6");
    harness.get_by_label_contains("Latitude 95.5 is beyond ±90°");
    assert_eq!(harness.state().center(), center);
}

#[test]
fn keys_go_to_the_text_field_not_the_map_while_it_has_focus() {
    let mut harness = map_harness(offline_view());
    harness.run();
    let rect = harness.state().map_rect().unwrap();
    harness.hover_at(rect.center() + vec2(0.0, 150.0));
    harness.get_by_label("Go to…").click();
    harness.run();
    harness.get_by_label("Place or coordinates").focus();
    harness.run();
    let (zoom, center) = (harness.state().memory.zoom(), harness.state().center());
    harness.key_press(Key::ArrowRight);
    harness.key_press(Key::Minus);
    harness.run();
    assert_eq!(harness.state().memory.zoom(), zoom);
    assert_eq!(harness.state().center(), center);
}

#[test]
fn failing_tiles_are_reported_over_the_map() {
    // A closed port on the loopback interface: every tile fails at once, with no network.
    let settings = MapSettings {
        basemap: Basemap::Custom,
        custom_url: "http://127.0.0.1:1/{z}/{x}/{y}.png".to_owned(),
        ..MapSettings::default()
    };
    let ctx = egui::Context::default();
    let mut harness = map_harness(MapView::new(&ctx, &settings, true));
    harness.step();
    let message = "Map tiles are not loading: offline or blocked";
    assert!(harness.query_by_label(message).is_none());

    let started = Instant::now();
    while !harness.state().tiles_failing() {
        assert!(started.elapsed() < Duration::from_secs(30), "the failing tiles were not noticed");
        harness.step();
        std::thread::sleep(Duration::from_millis(20));
    }
    harness.step();
    harness.get_by_label(message);
    // Said once, not once per tile.
    assert_eq!(harness.query_all_by_label(message).count(), 1);

    // Without web tiles there is nothing to fail.
    harness.state_mut().set_basemap(&ctx, Basemap::OfflineOnly, String::new());
    harness.step();
    harness.step();
    assert!(!harness.state().tiles_failing());
    assert!(harness.query_by_label(message).is_none());
}

const SANDBOX_TILES: &str = "http://127.0.0.1:9/sandbox/tiles/mapbox/{z}/{x}/{y}.png";

#[test]
fn sandbox_imagery_is_the_basemap_only_in_the_sandbox() {
    let ctx = egui::Context::default();
    let mut view = offline_view();
    assert_eq!(view.basemap(), &Basemap::OpenStreetMap);

    view.set_sandbox_imagery(&ctx, Some(SANDBOX_TILES.to_owned()));
    assert_eq!(view.basemap(), &Basemap::SandboxImagery);
    assert_eq!(view.settings().basemap, Basemap::SandboxImagery);
    assert!(view.tiles_error().is_none());

    // Leaving the sandbox falls back to OpenStreetMap; coming back restores the imagery.
    view.set_sandbox_imagery(&ctx, None);
    assert_eq!(view.basemap(), &Basemap::OpenStreetMap);
    view.set_sandbox_imagery(&ctx, Some(SANDBOX_TILES.to_owned()));
    assert_eq!(view.basemap(), &Basemap::SandboxImagery);

    // A basemap the user picked stays when the sandbox starts.
    let mut esri =
        MapView::new(&ctx, &MapSettings { basemap: Basemap::EsriWorldImagery, ..MapSettings::default() }, false);
    esri.set_sandbox_imagery(&ctx, Some(SANDBOX_TILES.to_owned()));
    assert_eq!(esri.basemap(), &Basemap::EsriWorldImagery);

    // Persisted settings keep it, and older ones still load.
    let json = serde_json::to_string(&view.settings()).unwrap();
    assert_eq!(serde_json::from_str::<MapSettings>(&json).unwrap().basemap, Basemap::SandboxImagery);
    let restored: MapSettings = serde_json::from_str(r#"{"basemap": "SandboxImagery"}"#).unwrap();
    let mut restored = MapView::new(&ctx, &restored, false);
    assert_eq!(restored.basemap(), &Basemap::SandboxImagery);
    // Restored outside the sandbox: OpenStreetMap.
    restored.set_sandbox_imagery(&ctx, None);
    assert_eq!(restored.basemap(), &Basemap::OpenStreetMap);
}

#[test]
fn the_chooser_offers_sandbox_imagery_only_in_the_sandbox() {
    let mut harness = Harness::builder().with_size(vec2(700.0, 300.0)).build_ui_state(
        |ui, view: &mut MapView| {
            egui::CentralPanel::default().show(ui, |ui| basemap_ui(ui, view));
        },
        offline_view(),
    );
    harness.run();
    harness.get_by_label("Basemap").click();
    harness.run();
    assert!(harness.query_by_label("Sandbox imagery").is_none());
    harness.key_press(Key::Escape);
    harness.run();

    harness.state_mut().set_sandbox_imagery(&egui::Context::default(), Some(SANDBOX_TILES.to_owned()));
    harness.run();
    harness.get_by_label("Basemap").click();
    harness.run();
    harness.get_by_label("OpenStreetMap").click();
    harness.run();
    assert_eq!(harness.state().basemap(), &Basemap::OpenStreetMap);
    harness.get_by_label("Basemap").click();
    harness.run();
    harness.get_by_label("Sandbox imagery").click();
    harness.run();
    assert_eq!(harness.state().basemap(), &Basemap::SandboxImagery);
}

#[test]
fn the_app_shows_sandbox_imagery_in_the_sandbox() {
    let mut harness = support::harness();
    support::signed_in_to_sandbox(&mut harness);
    support::wait_for(&mut harness, "the sandbox imagery", |h| {
        support::app(h).map.basemap() == &Basemap::SandboxImagery
    });
    let template = support::app(&harness).map.sandbox_imagery().unwrap().to_owned();
    assert!(template.contains("/sandbox/tiles/") && template.contains("{z}"), "{template}");
}

/// A flight is under way for [`mapflow_desktop::map::FLIGHT_SECONDS`], then lands exactly.
#[test]
fn flights_land_exactly() {
    let mut harness = map_harness(offline_view());
    harness.run();
    harness.state_mut().fly_to(walkers::lon_lat(2.35, 48.85), 12.0);
    assert!(harness.state().flying());
    harness.step();
    // Under way: not there yet.
    assert!((harness.state().center().x() - 2.35).abs() > 0.01);
    harness.run();
    assert!(!harness.state().flying());
    assert_center(&harness, 48.85, 2.35);
    assert_eq!(harness.state().memory.zoom(), 12.0);
}
