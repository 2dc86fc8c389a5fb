//! Processing results: loading, the legend, picking, errors, and the map plugin under kittest.

use std::collections::BTreeSet;

use egui_kittest::Harness;
use mapflow_desktop::results::{DrawCache, DrawMode, ResultError, ResultLayer, ResultPlugin, ResultStyle, load_result};
use serde_json::{Value, json};
use walkers::{Map, MapMemory, MercatorProjection, Position, Projector, lon_lat};

const CENTER: (f64, f64) = (37.62, 55.75);
const METERS_PER_LAT: f64 = 111_320.0;

/// Lon/lat of a point `east`, `north` metres from [`CENTER`].
fn at(east: f64, north: f64) -> (f64, f64) {
    let meters_per_lon = METERS_PER_LAT * CENTER.1.to_radians().cos();
    (CENTER.0 + east / meters_per_lon, CENTER.1 + north / METERS_PER_LAT)
}

/// A closed square ring of `size` metres centred `east`, `north` metres from [`CENTER`].
fn square(east: f64, north: f64, size: f64) -> Value {
    let half = size / 2.0;
    let corners = [(-half, -half), (half, -half), (half, half), (-half, half), (-half, -half)];
    Value::Array(
        corners
            .iter()
            .map(|(dx, dy)| {
                let (lon, lat) = at(east + dx, north + dy);
                json!([lon, lat])
            })
            .collect(),
    )
}

fn polygon(east: f64, north: f64, size: f64, properties: Value) -> Value {
    json!({
        "type": "Feature",
        "properties": properties,
        "geometry": {"type": "Polygon", "coordinates": [square(east, north, size)]}
    })
}

/// A road along the x axis, 100 m south of the centre, from 200 m west to 200 m east.
fn road() -> Value {
    let (west, east) = (at(-200.0, -100.0), at(200.0, -100.0));
    json!({
        "type": "Feature",
        "properties": {"name": "Main street"},
        "geometry": {"type": "LineString", "coordinates": [[west.0, west.1], [east.0, east.1]]}
    })
}

/// Index of the building at the centre in [`sample`].
const CENTRE_BUILDING: usize = 4;
/// Index of the road in [`sample`].
const ROAD: usize = 9;

/// Nine 20 m buildings on a 40 m grid (classes 101, 101, 102, …), a road, a forest patch, a
/// feature of an unknown class, a feature with null geometry and one with broken coordinates.
fn sample() -> Value {
    let mut features = Vec::new();
    let classes = [101, 101, 102, 103, 101, 104, 105, 102, 101];
    for (n, class_id) in classes.iter().enumerate() {
        let east = (n % 3) as f64 * 40.0 - 40.0;
        let north = (n / 3) as f64 * 40.0 - 40.0;
        features.push(polygon(east, north, 20.0, json!({"class_id": class_id, "building_height": 9.5})));
    }
    features.push(road());
    features.push(polygon(300.0, 300.0, 50.0, json!({"class_id": "04m-10m", "object_type": "forest"})));
    features.push(polygon(-300.0, 300.0, 30.0, json!({"object_type": "greenhouse"})));
    features.push(json!({"type": "Feature", "properties": {"class_id": 101}, "geometry": null}));
    features.push(json!({"type": "Feature", "properties": {"class_id": 101},
        "geometry": {"type": "Polygon", "coordinates": [[[1.0, "x"], [2.0, 2.0]]]}}));
    json!({"type": "FeatureCollection", "features": features})
}

fn load(value: &Value) -> ResultLayer {
    load_result(&serde_json::to_vec(value).unwrap()).unwrap()
}

#[test]
fn counts_features_and_classes() {
    let layer = load(&sample());
    assert_eq!(layer.feature_count(), 12);
    assert_eq!(layer.skipped_count(), 2);
    assert_eq!(layer.skipped().null_geometry, 1);
    assert_eq!(layer.skipped().broken_geometry, 1);

    let legend: Vec<(&str, &str, usize, bool)> = layer
        .legend()
        .iter()
        .map(|entry| (entry.key.as_str(), entry.label.as_str(), entry.count, entry.is_line))
        .collect();
    assert_eq!(
        legend,
        [
            ("class_id=101", "Residential", 4, false),
            ("class_id=102", "Apartment buildings", 2, false),
            ("class_id=103", "Industrial", 1, false),
            ("class_id=104", "Commercial", 1, false),
            ("class_id=105", "Other buildings", 1, false),
            ("class_id=04m-10m", "Trees 4–10 m", 1, false),
            ("object_type=roads", "Roads", 1, true),
            ("object_type=greenhouse", "Greenhouse", 1, false),
        ]
    );
    let colors: BTreeSet<[u8; 4]> = layer.legend().iter().map(|entry| entry.color.to_array()).collect();
    assert_eq!(colors.len(), layer.legend().len(), "every class has its own colour");

    assert_eq!(layer.attributes(CENTRE_BUILDING).get("class_id").to_json(), json!(101));
    assert_eq!(layer.attributes(ROAD).get("name").to_json(), json!("Main street"));
    assert!(layer.attributes(1000).is_empty());
    assert_eq!(layer.class_of(ROAD).unwrap().key, "object_type=roads");

    let [west, south, east, north] = layer.bbox().unwrap();
    let (expected_west, expected_south) = at(-315.0, -100.0);
    let (expected_east, expected_north) = at(325.0, 325.0);
    assert!((west - expected_west).abs() < 1e-6, "{west} vs {expected_west}");
    assert!((south - expected_south).abs() < 1e-6, "{south} vs {expected_south}");
    assert!((east - expected_east).abs() < 1e-6, "{east} vs {expected_east}");
    assert!((north - expected_north).abs() < 1e-6, "{north} vs {expected_north}");
}

#[test]
fn picks_buildings_and_roads() {
    let layer = load(&sample());
    let (lon, lat) = at(0.0, 0.0);
    assert_eq!(layer.pick(lon, lat, 0.0), Some(CENTRE_BUILDING));
    // Just inside a corner of the north-east building, and in the gap between buildings.
    let (lon, lat) = at(49.0, 49.0);
    assert_eq!(layer.pick(lon, lat, 0.0), Some(8));
    let (lon, lat) = at(20.0, 0.0);
    assert_eq!(layer.pick(lon, lat, 5.0), None, "polygons are picked only inside");

    let (lon, lat) = at(50.0, -97.0);
    assert_eq!(layer.pick(lon, lat, 5.0), Some(ROAD));
    assert_eq!(layer.pick(lon, lat, 1.0), None, "3 m from the road");
    let (lon, lat) = at(250.0, -100.0);
    assert_eq!(layer.pick(lon, lat, 5.0), None, "beyond the road's end");
}

#[test]
fn topmost_feature_wins() {
    let collection = json!({"type": "FeatureCollection", "features": [
        polygon(0.0, 0.0, 100.0, json!({"object_type": "forest"})),
        polygon(0.0, 0.0, 20.0, json!({"class_id": 101})),
    ]});
    let layer = load(&collection);
    let (lon, lat) = at(0.0, 0.0);
    assert_eq!(layer.pick(lon, lat, 0.0), Some(1));
    let (lon, lat) = at(30.0, 0.0);
    assert_eq!(layer.pick(lon, lat, 0.0), Some(0));
}

#[test]
fn polygons_with_holes_and_multipolygons() {
    let outer = square(0.0, 0.0, 100.0);
    let hole = square(0.0, 0.0, 40.0);
    let collection = json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": {"type": "MultiPolygon", "coordinates": [
            [outer, hole], [square(200.0, 0.0, 20.0)]
        ]}},
    ]});
    let layer = load(&collection);
    assert_eq!(layer.feature_count(), 1);
    assert_eq!(layer.legend()[0].key, "unclassified");
    let pick = |east, north| {
        let (lon, lat) = at(east, north);
        layer.pick(lon, lat, 0.0)
    };
    assert_eq!(pick(35.0, 0.0), Some(0));
    assert_eq!(pick(0.0, 0.0), None, "inside the hole");
    assert_eq!(pick(200.0, 0.0), Some(0), "the second part");
    // 100² − 40² + 20² = 8800 m² on the ground, whatever the Mercator scale at 55.75° N.
    let area = layer.feature_area_m2(0);
    assert!((area - 8800.0).abs() < 8800.0 * 0.01, "area {area}");
    assert!((layer.legend()[0].area_m2 - area).abs() < 1e-6, "the class total is the feature's area");
}

#[test]
fn broken_json_is_an_error() {
    let mut bytes = serde_json::to_vec(&sample()).unwrap();
    bytes.truncate(bytes.len() / 2);
    let err = load_result(&bytes).unwrap_err();
    assert!(matches!(err, ResultError::Json { line: 1, .. }), "{err:?}");
    assert!(err.message().contains("not valid JSON"), "{}", err.message());
    assert!(matches!(load_result(b"").unwrap_err(), ResultError::Json { .. }));
    assert!(matches!(load_result(b"<html>502</html>").unwrap_err(), ResultError::Json { .. }));
}

#[test]
fn other_json_is_not_a_collection() {
    let feature = polygon(0.0, 0.0, 20.0, json!({"class_id": 101}));
    for (value, found) in [
        (feature, "type Feature"),
        (json!([1, 2, 3]), "invalid type"),
        (json!({"features": []}), "no type"),
        (json!({"type": "FeatureCollection", "features": []}), ""),
    ] {
        let result = load_result(&serde_json::to_vec(&value).unwrap());
        if found.is_empty() {
            let layer = result.unwrap();
            assert_eq!(layer.feature_count(), 0);
            assert!(layer.bbox().is_none());
            assert!(layer.legend().is_empty());
            continue;
        }
        let err = result.unwrap_err();
        match &err {
            ResultError::NotFeatureCollection { found: what } => {
                assert!(what.contains(found), "{what} lacks {found}");
            }
            other => panic!("{value}: {other:?}"),
        }
        assert!(err.message().contains("not a GeoJSON FeatureCollection"), "{}", err.message());
    }
}

#[test]
fn features_without_usable_geometry_are_skipped() {
    let collection = json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"class_id": 101}, "geometry": null},
        {"type": "Feature", "properties": {"class_id": 101}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [37.6, 55.7]}},
        {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[[37.6, 55.7], [37.7, 55.7], [37.6, 55.7]]]}},
        {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": "nope"}},
        {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[[37.6, 55.7], [37.7, 55.7], [37.7, 55.8], [37.6, 55.7]]]}, "properties": 17},
        42,
    ]});
    let layer = load(&collection);
    assert_eq!(layer.feature_count(), 1);
    assert!(layer.attributes(0).is_empty());
    let skipped = layer.skipped();
    assert_eq!(skipped.null_geometry, 2);
    assert_eq!(skipped.unsupported_geometry, 1);
    assert_eq!(skipped.broken_geometry, 3, "degenerate ring, string coordinates, not an object");
    assert_eq!(layer.skipped_count(), 6);
}

#[test]
fn many_features_keep_their_order_across_chunks() {
    // More features than one chunk holds, so several threads prepare them.
    let features: Vec<Value> = (0..5000)
        .map(|n| {
            let east = (n % 100) as f64 * 30.0;
            let north = (n / 100) as f64 * 30.0;
            polygon(east, north, 10.0, json!({"n": n, "class_id": 101 + n % 5}))
        })
        .collect();
    let layer = load(&json!({"type": "FeatureCollection", "features": features}));
    assert_eq!(layer.feature_count(), 5000);
    for n in [0usize, 2047, 2048, 4999] {
        let (lon, lat) = at((n % 100) as f64 * 30.0, (n / 100) as f64 * 30.0);
        assert_eq!(layer.pick(lon, lat, 0.0), Some(n));
        assert_eq!(layer.attributes(n).get("n").to_json(), json!(n));
    }
    assert!(layer.legend().iter().all(|entry| entry.count == 1000));
}

/// What the kittest UI keeps between frames.
struct MapState {
    layer: ResultLayer,
    style: ResultStyle,
    cache: DrawCache,
    memory: MapMemory,
    hovered: Option<usize>,
    rect: Option<egui::Rect>,
}

fn map_harness(zoom: f64) -> Harness<'static, MapState> {
    let mut memory = MapMemory::default();
    let (lon, lat) = at(0.0, 0.0);
    memory.center_at(lon_lat(lon, lat));
    memory.set_zoom(zoom).unwrap();
    let state = MapState {
        layer: load(&sample()),
        style: ResultStyle::default(),
        cache: DrawCache::default(),
        memory,
        hovered: None,
        rect: None,
    };
    Harness::builder().with_size(egui::vec2(800.0, 600.0)).build_ui_state(
        |ui, state: &mut MapState| {
            let home = lon_lat(CENTER.0, CENTER.1);
            let plugin = ResultPlugin::new(&state.layer, &state.style, &mut state.cache, &mut state.hovered);
            let response = ui.add(Map::new(None, &mut state.memory, home).with_plugin(plugin));
            state.rect = Some(response.rect);
        },
        state,
    )
}

/// Where `east`, `north` metres from the centre are on the harness's screen.
fn screen_at(harness: &Harness<'_, MapState>, east: f64, north: f64) -> egui::Pos2 {
    let state = harness.state();
    let (lon, lat) = at(east, north);
    let projector =
        Projector::new(state.rect.unwrap(), &MercatorProjection, &state.memory, Position::new(CENTER.0, CENTER.1));
    projector.project(lon_lat(lon, lat)).to_pos2()
}

#[test]
fn hovering_a_building_on_the_map_reports_it() {
    let mut harness = map_harness(17.0);
    harness.run_steps(2);
    assert_eq!(harness.state().cache.stats().mode, DrawMode::Meshes);
    assert!(harness.state().cache.stats().features >= 9, "{:?}", harness.state().cache.stats());

    let pos = screen_at(&harness, 0.0, 0.0);
    harness.hover_at(pos);
    harness.run_steps(2);
    assert_eq!(harness.state().hovered, Some(CENTRE_BUILDING));

    let pos = screen_at(&harness, 40.0, 40.0);
    harness.hover_at(pos);
    harness.run_steps(2);
    assert_eq!(harness.state().hovered, Some(8));

    let pos = screen_at(&harness, 20.0, 20.0);
    harness.hover_at(pos);
    harness.run_steps(2);
    assert_eq!(harness.state().hovered, None, "between buildings");

    let pos = screen_at(&harness, 0.0, -100.0);
    harness.hover_at(pos);
    harness.run_steps(2);
    assert_eq!(harness.state().hovered, Some(ROAD));

    // A hidden class is neither drawn nor hovered.
    harness.state_mut().style.hidden_classes.insert("object_type=roads".to_owned());
    harness.run_steps(2);
    assert_eq!(harness.state().hovered, None);
    harness.state_mut().style.visible = false;
    let pos = screen_at(&harness, 0.0, 0.0);
    harness.hover_at(pos);
    harness.run_steps(2);
    assert_eq!(harness.state().hovered, None, "an invisible layer hovers nothing");
}

#[test]
fn zoomed_out_the_layer_is_drawn_as_tiles() {
    let mut harness = map_harness(13.0);
    harness.run_steps(3);
    let stats = harness.state().cache.stats();
    assert_eq!(stats.mode, DrawMode::Tiles, "{stats:?}");
    assert!(stats.tiles >= 1, "{stats:?}");
    assert_eq!(stats.tiles_pending, 0, "{stats:?}");
    // Hovering still works on the 3-pixel buildings.
    let pos = screen_at(&harness, 0.0, 0.0);
    harness.hover_at(pos);
    harness.run_steps(2);
    assert_eq!(harness.state().hovered, Some(CENTRE_BUILDING));

    // With every class hidden the tiles are painted again, empty.
    let all: BTreeSet<String> = harness.state().layer.legend().iter().map(|entry| entry.key.clone()).collect();
    harness.state_mut().style.hidden_classes = all;
    harness.run_steps(3);
    let stats = harness.state().cache.stats();
    assert_eq!((stats.tiles, stats.tiles_pending), (0, 0), "{stats:?}");
    assert_eq!(harness.state().hovered, None);
}
