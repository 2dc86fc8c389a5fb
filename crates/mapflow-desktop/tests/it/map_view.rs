//! The map module without a display or the network: tile URL templates, the offline world, and
//! `MapView` driven through egui_kittest (always `online == false`).

use egui::{Pos2, Rect, vec2};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use mapflow_desktop::map::{Basemap, ESRI_TEMPLATE, MapSettings, MapView, OfflineWorld, TemplateSource, basemap_ui};
use walkers::TileId;
use walkers::sources::TileSource as _;

fn tile(zoom: u8, x: u32, y: u32) -> TileId {
    TileId { x, y, zoom }
}

#[test]
fn xyz_template_fills_in_zoom_column_and_row() {
    let source = TemplateSource::parse("https://tile.example.com/{z}/{x}/{y}.png", "Example").unwrap();
    assert_eq!(source.url(tile(3, 2, 5)), "https://tile.example.com/3/2/5.png");
    assert_eq!(source.tile_url(tile(0, 0, 0)), "https://tile.example.com/0/0/0.png");
    assert_eq!(source.attribution().text, "Example");
}

#[test]
fn tms_template_flips_the_row() {
    let source = TemplateSource::parse("http://tms.example.com/{z}/{x}/{-y}.png", "").unwrap();
    assert_eq!(source.url(tile(3, 1, 2)), "http://tms.example.com/3/1/5.png");
    assert_eq!(source.url(tile(0, 0, 0)), "http://tms.example.com/0/0/0.png");
}

#[test]
fn quadkey_template_uses_bing_digits() {
    let source = TemplateSource::parse("https://t0.example.net/tiles/a{q}.jpeg?g=1", "").unwrap();
    assert_eq!(source.url(tile(3, 3, 5)), "https://t0.example.net/tiles/a213.jpeg?g=1");
}

#[test]
fn esri_template_puts_the_row_before_the_column() {
    let source = TemplateSource::parse(ESRI_TEMPLATE, "Esri").unwrap();
    assert!(source.url(tile(4, 8, 5)).ends_with("/tile/4/5/8"));
}

#[test]
fn bad_templates_are_rejected() {
    for template in [
        "",
        "https://tile.example.com/tile.png",
        "https://tile.example.com/{z}/{x}.png",
        "ftp://tile.example.com/{z}/{x}/{y}.png",
        "tile.example.com/{z}/{x}/{y}.png",
        "file:///tiles/{z}/{x}/{y}.png",
        "https:///{z}/{x}/{y}.png",
        "https://tile.example.com/{z}/{x}/{y}.png?key={apikey}",
        "https://tile.example.com/{z}/{x}/{y.png",
    ] {
        let result = TemplateSource::parse(template, "");
        assert!(result.is_err(), "{template:?} was accepted");
        assert!(!result.err().unwrap().is_empty());
    }
    let unknown = TemplateSource::parse("https://t.example.com/{z}/{x}/{y}?k={apikey}", "");
    assert!(unknown.err().unwrap().contains("{apikey}"));
    assert!(TemplateSource::parse("https://{s}.tile.example.com/{z}/{x}/{y}.png", "").is_ok());
}

#[test]
fn offline_world_has_every_country_triangulated() {
    let world = OfflineWorld::load();
    assert_eq!(world.country_count(), 177);
    assert!(world.triangle_count() > 1000, "{}", world.triangle_count());
    assert!(world.city_count() > 200);
}

#[test]
fn settings_survive_a_round_trip() {
    let settings = MapSettings {
        basemap: Basemap::Custom,
        custom_url: "https://tile.example.com/{z}/{x}/{y}.png".to_owned(),
        center_lon: 37.6173,
        center_lat: 55.7558,
        zoom: 9.0,
    };
    let view = MapView::new(&egui::Context::default(), &settings, false);
    assert_eq!(view.settings(), settings);
    assert_eq!(view.basemap(), &Basemap::Custom);

    let json = serde_json::to_string(&settings).unwrap();
    assert_eq!(serde_json::from_str::<MapSettings>(&json).unwrap(), settings);
    // Older or partial settings fall back to the defaults field by field.
    let partial: MapSettings = serde_json::from_str(r#"{"zoom": 7.0}"#).unwrap();
    assert_eq!(partial.basemap, Basemap::OpenStreetMap);
    assert_eq!(partial.zoom, 7.0);
}

#[test]
fn invalid_custom_template_leaves_the_offline_world() {
    let settings =
        MapSettings { basemap: Basemap::Custom, custom_url: "not a url".to_owned(), ..MapSettings::default() };
    let mut view = MapView::new(&egui::Context::default(), &settings, false);
    assert!(view.tiles_error().is_some());
    view.set_basemap(&egui::Context::default(), Basemap::OfflineOnly, String::new());
    assert!(view.tiles_error().is_none());
}

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

fn offline_view() -> MapView {
    MapView::new(&egui::Context::default(), &MapSettings::default(), false)
}

#[test]
fn attribution_is_always_shown() {
    let mut harness = map_harness(offline_view());
    harness.run();
    harness.get_by_label_contains("Made with Natural Earth");
    harness.get_by_label_contains("OpenStreetMap contributors");

    harness.state_mut().set_basemap(&egui::Context::default(), Basemap::OfflineOnly, String::new());
    harness.run();
    harness.get_by_label_contains("Made with Natural Earth");
    assert!(harness.query_by_label_contains("OpenStreetMap contributors").is_none());
}

#[test]
fn zoom_buttons_change_the_zoom_by_one() {
    let mut harness = map_harness(offline_view());
    harness.run();
    let before = harness.state().memory.zoom();

    harness.get_by_label("Zoom in").click();
    harness.run();
    assert_eq!(harness.state().memory.zoom(), before + 1.0);

    harness.get_by_label("Zoom out").click();
    harness.run();
    harness.get_by_label("Zoom out").click();
    harness.run();
    assert_eq!(harness.state().memory.zoom(), before - 1.0);
}

#[test]
fn hovering_shows_the_cursor_position() {
    let mut harness = map_harness(offline_view());
    harness.run();
    assert!(harness.state().cursor.is_none());

    let rect = harness.state().map_rect().unwrap();
    harness.hover_at(rect.center() + vec2(40.0, 30.0));
    harness.run();

    let cursor = harness.state().cursor.expect("no cursor while hovering");
    let [west, south, east, north] = harness.state().visible_bbox().unwrap();
    assert!((west..=east).contains(&cursor.x()), "{cursor:?}");
    assert!((south..=north).contains(&cursor.y()), "{cursor:?}");
    // South-east of the centre (15° E, 50° N).
    assert!(cursor.x() > 15.0 && cursor.y() < 50.0, "{cursor:?}");
    harness.get_by_label_contains("° N, ");

    harness.remove_cursor();
    harness.run();
    assert!(harness.state().cursor.is_none());
}

#[test]
fn zoom_to_bbox_shows_the_whole_bbox() {
    let mut harness = map_harness(offline_view());
    harness.run();

    // Moscow region: [w, s, e, n].
    let bbox = [35.1, 54.2, 40.2, 56.9];
    harness.state_mut().zoom_to_bbox(bbox);
    harness.run();

    let view = harness.state();
    let [west, south, east, north] = view.visible_bbox().unwrap();
    assert!(west <= bbox[0] && east >= bbox[2], "{:?}", view.visible_bbox());
    assert!(south <= bbox[1] && north >= bbox[3], "{:?}", view.visible_bbox());
    // Tight: the bbox takes most of the width or of the height.
    let width_share = (bbox[2] - bbox[0]) / (east - west);
    let height_share = (bbox[3] - bbox[1]) / (north - south);
    assert!(width_share.max(height_share) > 0.5, "{width_share} {height_share}");
    assert!(view.memory.zoom() > 5.0);
}

#[test]
fn zoom_to_a_point_stops_at_a_street_zoom() {
    let mut view = offline_view();
    view.zoom_to_bbox([2.35, 48.85, 2.35, 48.85]);
    assert!(view.memory.zoom() <= 18.0);
    let center = view.center();
    assert!((center.x() - 2.35).abs() < 1e-6 && (center.y() - 48.85).abs() < 1e-6);
}

#[test]
fn zoom_to_bbox_across_the_antimeridian() {
    let mut view = offline_view();
    // Fiji, from 177° E to 178° W.
    view.zoom_to_bbox([177.0, -19.0, -178.0, -16.0]);
    let center = view.center();
    assert!(center.x().abs() > 179.0, "{center:?}");
    assert!(view.memory.zoom() > 4.0);
}

/// Paints one magenta square in the middle of the map, as an overlay would.
struct Marker;

impl walkers::Plugin for Marker {
    fn run(
        self: Box<Self>,
        ui: &mut egui::Ui,
        _response: &egui::Response,
        projector: &walkers::Projector,
        _memory: &walkers::MapMemory,
    ) {
        let center = projector.clip_rect().center();
        ui.painter().rect_filled(
            Rect::from_center_size(center, vec2(10.0, 10.0)),
            0.0,
            egui::Color32::from_rgb(255, 0, 255),
        );
    }
}

#[test]
fn world_is_painted_under_the_overlays() {
    let mut harness = Harness::builder().with_size(vec2(900.0, 600.0)).build_ui_state(
        |ui, view: &mut MapView| {
            view.show(ui, vec![Box::new(Marker)]);
        },
        offline_view(),
    );
    harness.run();
    let shapes = &harness.output().shapes;

    // Land and borders: many vertices, even with no tiles at all.
    let meshes: Vec<(usize, usize)> = shapes
        .iter()
        .enumerate()
        .filter_map(|(index, clipped)| match &clipped.shape {
            egui::Shape::Mesh(mesh) => Some((index, mesh.vertices.len())),
            _ => None,
        })
        .collect();
    let vertices: usize = meshes.iter().map(|(_, count)| count).sum();
    assert!(vertices > 1000, "only {vertices} vertices painted");

    // The world's shapes were reserved before the map painted anything, so they come first.
    let marker = shapes
        .iter()
        .position(|clipped| {
            matches!(&clipped.shape, egui::Shape::Rect(rect)
                if rect.fill == egui::Color32::from_rgb(255, 0, 255))
        })
        .expect("the overlay did not paint");
    assert!(meshes.iter().all(|(index, _)| *index < marker));
}

#[test]
fn cities_are_labelled_from_zoom_five() {
    let mut view = offline_view();
    view.memory.center_at(walkers::lon_lat(37.6173, 55.7558));
    view.memory.set_zoom(6.0).unwrap();
    let mut harness = map_harness(view);
    harness.run();
    let has_moscow = harness.output().shapes.iter().any(|clipped| match &clipped.shape {
        egui::Shape::Vec(shapes) => {
            shapes.iter().any(|shape| matches!(shape, egui::Shape::Text(text) if text.galley.text() == "Moscow"))
        }
        _ => false,
    });
    assert!(has_moscow);
}

/// Focuses the text field labelled `label` and types `text` at the end of what it holds.
fn type_into(harness: &mut Harness<'_, MapView>, label: &str, text: &str) {
    harness.get_by_label(label).focus();
    harness.run();
    harness.key_press(egui::Key::End);
    harness.get_by_label(label).type_text(text);
    harness.run();
}

#[test]
fn custom_basemap_needs_a_valid_template() {
    let mut harness = Harness::builder().with_size(vec2(700.0, 200.0)).build_ui_state(
        |ui, view: &mut MapView| {
            egui::CentralPanel::default().show(ui, |ui| basemap_ui(ui, view));
        },
        offline_view(),
    );
    harness.run();

    harness.get_by_label("Basemap").click();
    harness.run();
    harness.get_by_label("Custom XYZ…").click();
    harness.run();
    // Nothing typed yet: still the old basemap.
    assert_eq!(harness.state().basemap(), &Basemap::OpenStreetMap);

    type_into(&mut harness, "Tile URL", "https://tile.example.com/tiles.png");
    harness.get_by_label("Apply").click();
    harness.run();
    assert_eq!(harness.state().basemap(), &Basemap::OpenStreetMap);
    harness.get_by_label_contains("{z}");

    type_into(&mut harness, "Tile URL", "?z={z}&x={x}&y={y}");
    harness.get_by_label("Apply").click();
    harness.run();
    assert_eq!(harness.state().basemap(), &Basemap::Custom);
    assert_eq!(harness.state().settings().custom_url, "https://tile.example.com/tiles.png?z={z}&x={x}&y={y}");
}

#[test]
fn clicks_reach_overlays_through_the_map() {
    struct Probe<'a>(&'a mut bool);
    impl walkers::Plugin for Probe<'_> {
        fn run(
            self: Box<Self>,
            _ui: &mut egui::Ui,
            response: &egui::Response,
            _projector: &walkers::Projector,
            _memory: &walkers::MapMemory,
        ) {
            *self.0 |= response.clicked();
        }
    }

    let mut clicked = false;
    {
        let mut harness = Harness::builder().with_size(vec2(600.0, 400.0)).build_ui_state(
            |ui, (view, clicked): &mut (MapView, bool)| {
                view.show(ui, vec![Box::new(Probe(clicked))]);
            },
            (offline_view(), false),
        );
        harness.run();
        let at = Rect::from_min_size(Pos2::ZERO, vec2(600.0, 400.0)).center();
        harness.event(egui::Event::PointerMoved(at));
        harness.drag_at(at);
        harness.drop_at(at);
        harness.run();
        clicked |= harness.state().1;
    }
    assert!(clicked);
}
