//! The area of interest: import from GeoJSON and WKT, measuring, validation against the
//! account's limits, export and triangulation.

use geo::{Area, TriangulateEarcut as _, Validation};
use geo_types::{LineString, Polygon, polygon};
use mapflow_geo::{
    Aoi, AoiError, AoiIssue, AoiLimits, parse_geojson, parse_geojson_bytes, parse_wkt_polygons, triangulate, validate,
};

/// A closed, counter-clockwise lon/lat square (not clamped to the valid range).
fn square(west: f64, south: f64, size: f64) -> Polygon<f64> {
    let (east, north) = (west + size, south + size);
    Polygon::new(
        LineString::from(vec![(west, south), (east, south), (east, north), (west, north), (west, south)]),
        vec![],
    )
}

fn aoi(polygons: Vec<Polygon<f64>>) -> Aoi {
    Aoi { polygons }
}

const POLYGON: &str = r#"{"type": "Polygon", "coordinates": [[[30, 10], [31, 10], [31, 11], [30, 11], [30, 10]]]}"#;

fn expected_polygon() -> Polygon<f64> {
    polygon![(x: 30.0, y: 10.0), (x: 31.0, y: 10.0), (x: 31.0, y: 11.0), (x: 30.0, y: 11.0), (x: 30.0, y: 10.0)]
}

// ---- import -------------------------------------------------------------------------------

#[test]
fn imports_a_bare_geometry() {
    let aoi = parse_geojson(POLYGON).unwrap();
    assert_eq!(aoi.polygons, vec![expected_polygon()]);
}

#[test]
fn imports_a_feature() {
    let text = format!(r#"{{"type": "Feature", "properties": {{"name": "field"}}, "geometry": {POLYGON}}}"#);
    assert_eq!(parse_geojson(&text).unwrap().polygons, vec![expected_polygon()]);
}

#[test]
fn imports_a_feature_collection_skipping_other_types() {
    let text = format!(
        r#"{{"type": "FeatureCollection", "features": [
            {{"type": "Feature", "properties": {{}}, "geometry": {{"type": "Point", "coordinates": [1, 2]}}}},
            {{"type": "Feature", "properties": {{}}, "geometry": {POLYGON}}},
            {{"type": "Feature", "properties": null, "geometry": null}},
            {{"type": "Feature", "properties": {{}}, "geometry": {{"type": "Polygon",
                "coordinates": [[[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]], [[0.5, 0.5], [1, 0.5], [1, 1], [0.5, 0.5]]]}}}}
        ]}}"#
    );
    let aoi = parse_geojson(&text).unwrap();
    assert_eq!(aoi.polygons.len(), 2);
    assert_eq!(aoi.polygons[0], expected_polygon());
    assert_eq!(aoi.polygons[1].interiors().len(), 1, "the hole is kept");
}

#[test]
fn a_multipolygon_becomes_several_polygons() {
    let text = r#"{"type": "MultiPolygon", "coordinates": [
        [[[0, 0], [1, 0], [1, 1], [0, 0]]],
        [[[5, 5], [6, 5], [6, 6], [5, 5]]]
    ]}"#;
    let aoi = parse_geojson(text).unwrap();
    assert_eq!(aoi.polygons.len(), 2);
    assert_eq!(aoi.polygons[1].exterior().0[0].x, 5.0);
}

#[test]
fn a_geometry_collection_gives_its_polygons() {
    let text = format!(
        r#"{{"type": "GeometryCollection", "geometries": [
            {POLYGON},
            {{"type": "LineString", "coordinates": [[0, 0], [1, 1]]}},
            {{"type": "MultiPolygon", "coordinates": [
                [[[0, 0], [1, 0], [1, 1], [0, 0]]],
                [[[5, 5], [6, 5], [6, 6], [5, 5]]]]}}
        ]}}"#
    );
    let aoi = parse_geojson(&text).unwrap();
    assert_eq!(aoi.polygons.len(), 3);
    assert_eq!(aoi.polygons[0], expected_polygon());
}

#[test]
fn points_only_is_no_polygons_naming_point() {
    let text = r#"{"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [1, 2]}},
        {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [3, 4]}}
    ]}"#;
    let err = parse_geojson(text).unwrap_err();
    assert_eq!(err, AoiError::NoPolygons { found: vec!["Point".to_owned()] });
    assert!(err.message().contains("Point"), "{}", err.message());
}

#[test]
fn an_empty_feature_collection_has_no_polygons() {
    let err = parse_geojson(r#"{"type": "FeatureCollection", "features": []}"#).unwrap_err();
    assert_eq!(err, AoiError::NoPolygons { found: vec![] });
}

#[test]
fn empty_and_blank_files_are_empty() {
    assert_eq!(parse_geojson_bytes(b""), Err(AoiError::Empty));
    assert_eq!(parse_geojson_bytes(b" \n\t\r\n "), Err(AoiError::Empty));
    assert_eq!(parse_geojson(""), Err(AoiError::Empty));
    assert_eq!(parse_geojson("   \n"), Err(AoiError::Empty));
    assert_eq!(parse_geojson_bytes(b"\xEF\xBB\xBF  "), Err(AoiError::Empty));
}

#[test]
fn invalid_json_says_line_and_column() {
    let text = "{\n  \"type\": \"Polygon\",\n  \"coordinates\": [[[0, 0], [1, 0] [1, 1]]]\n}";
    let err = parse_geojson(text).unwrap_err();
    let AoiError::Json { line, column, .. } = &err else {
        panic!("expected a JSON error, got {err:?}");
    };
    // The missing comma: line 3, at the `[` of `[1, 1]` (column 35).
    assert_eq!((*line, *column), (3, 35));
    let message = err.message();
    assert!(message.contains("line 3, column 35"), "{message}");
}

#[test]
fn bytes_that_are_not_utf8_are_refused() {
    assert_eq!(parse_geojson_bytes(b"{\"type\": \"\xFF\"}"), Err(AoiError::NotUtf8));
    // Latin-1 text (é as one byte).
    assert_eq!(parse_geojson_bytes(b"{\"name\": \"caf\xE9\"}"), Err(AoiError::NotUtf8));
}

#[test]
fn a_png_is_refused_as_not_text() {
    let png: &[u8] = &[
        0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00,
        0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4, 0x89,
    ];
    let err = parse_geojson_bytes(png).unwrap_err();
    assert_eq!(err, AoiError::NotUtf8);
    assert!(!err.message().is_empty());
}

#[test]
fn a_utf8_bom_is_stripped() {
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice(POLYGON.as_bytes());
    assert_eq!(parse_geojson_bytes(&bytes).unwrap().polygons, vec![expected_polygon()]);
}

#[test]
fn json_that_is_not_geojson_is_refused() {
    assert!(matches!(parse_geojson(r#"{"name": "x"}"#), Err(AoiError::NotGeoJson(_))));
    assert!(matches!(parse_geojson(r#"{"type": "Polygon"}"#), Err(AoiError::NotGeoJson(_))));
    assert!(matches!(parse_geojson("42"), Err(AoiError::NotGeoJson(_))));
}

#[test]
fn an_unclosed_ring_is_closed() {
    let text = r#"{"type": "Polygon", "coordinates": [[[30, 10], [31, 10], [31, 11], [30, 11]]]}"#;
    let aoi = parse_geojson(text).unwrap();
    assert_eq!(aoi.polygons, vec![expected_polygon()]);
    let ring = &aoi.polygons[0].exterior().0;
    assert_eq!(ring.len(), 5);
    assert_eq!(ring.first(), ring.last());
}

#[test]
fn a_ring_of_two_points_is_too_few() {
    let text = format!(
        r#"{{"type": "GeometryCollection", "geometries": [{POLYGON},
            {{"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [0, 0]]]}}]}}"#
    );
    let err = parse_geojson(&text).unwrap_err();
    assert_eq!(err, AoiError::TooFewPoints { polygon: 1 });
    assert!(err.message().contains('2'), "numbered from 1: {}", err.message());
}

#[test]
fn hostile_input_does_not_panic() {
    let deep = "[".repeat(100_000);
    for text in [
        deep.as_str(),
        r#"{"type": "Polygon", "coordinates": 5}"#,
        r#"{"type": "Polygon", "coordinates": [5]}"#,
        r#"{"type": "Polygon", "coordinates": [[5, 6]]}"#,
        r#"{"type": "Polygon", "coordinates": [[[1]]]}"#,
        r#"{"type": "Polygon", "coordinates": [[[1e999, 0], [1, 0], [1, 1]]]}"#,
        r#"{"type": "FeatureCollection", "features": {}}"#,
        r#"{"type": "Feature"}"#,
        r#"{"type": "MultiPolygon", "coordinates": [[]]}"#,
    ] {
        assert!(parse_geojson(text).is_err(), "{text:?} was accepted");
    }
}

// ---- measuring ----------------------------------------------------------------------------

#[test]
fn a_degree_square_at_the_equator_is_about_12308_km2() {
    let ccw = aoi(vec![square(0.0, 0.0, 1.0)]);
    let km2 = ccw.total_area_m2() / 1e6;
    assert!((km2 - 12_308.0).abs() / 12_308.0 < 0.005, "{km2} km²");

    // A clockwise exterior (common in files) measures the same, not the rest of the Earth.
    let text = r#"{"type": "Polygon", "coordinates": [[[0, 0], [0, 1], [1, 1], [1, 0], [0, 0]]]}"#;
    let cw = parse_geojson(text).unwrap();
    assert!((cw.total_area_m2() - ccw.total_area_m2()).abs() < 1.0);
}

#[test]
fn holes_are_subtracted_and_areas_listed_per_polygon() {
    let outer = square(0.0, 0.0, 1.0);
    let hole = square(0.25, 0.25, 0.5).exterior().clone();
    let with_hole = Polygon::new(outer.exterior().clone(), vec![hole]);
    let two = aoi(vec![with_hole, square(10.0, 0.0, 1.0)]);
    let areas = two.areas_m2();
    assert_eq!(areas.len(), 2);
    let full = aoi(vec![outer]).total_area_m2();
    // The hole is a quarter of the square (to well under 1 %, so near the equator).
    assert!((areas[0] / full - 0.75).abs() < 0.01, "{}", areas[0] / full);
    assert!((two.total_area_m2() - (areas[0] + areas[1])).abs() < 1e-6);
}

#[test]
fn bbox_and_emptiness() {
    assert_eq!(Aoi::default().bbox(), None);
    assert!(Aoi::default().is_empty());
    let two = aoi(vec![square(-10.0, 5.0, 1.0), square(20.0, -3.0, 2.0)]);
    assert!(!two.is_empty());
    assert_eq!(two.bbox(), Some([-10.0, -3.0, 22.0, 6.0]));
    let rect = Aoi::from_bbox([1.0, 2.0, 3.0, 4.0]);
    assert_eq!(rect.polygons.len(), 1);
    assert_eq!(rect.bbox(), Some([1.0, 2.0, 3.0, 4.0]));
    assert!(rect.polygons[0].is_valid());
}

// ---- validation ---------------------------------------------------------------------------

fn blocking(issues: &[AoiIssue]) -> bool {
    issues.iter().any(AoiIssue::blocks_start)
}

fn generous() -> AoiLimits {
    AoiLimits { aoi_area_limit_m2: Some(1e12), max_aois: Some(10), provider_min_area_km2: Some(0.5) }
}

#[test]
fn a_valid_small_aoi_has_no_blocking_issue() {
    let small = aoi(vec![square(37.0, 55.0, 0.05), square(37.1, 55.0, 0.05)]);
    let (fixed, issues) = validate(&small, &generous());
    assert_eq!(issues, vec![]);
    assert_eq!(fixed, small, "a valid AOI is returned unchanged");
}

#[test]
fn an_empty_aoi_blocks() {
    let (_, issues) = validate(&Aoi::default(), &generous());
    assert_eq!(issues, vec![AoiIssue::Empty]);
    assert!(blocking(&issues));
}

#[test]
fn a_bow_tie_is_repaired_into_two_polygons() {
    let bowtie: Polygon<f64> =
        polygon![(x: 0.0, y: 0.0), (x: 0.0, y: 1.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0), (x: 0.0, y: 0.0)];
    assert!(!bowtie.is_valid());
    let (fixed, issues) = validate(&aoi(vec![bowtie]), &generous());
    assert_eq!(issues, vec![AoiIssue::Repaired { polygon: 0 }]);
    assert!(!blocking(&issues), "a repair is a notice");
    assert!(!issues[0].message().is_empty());
    assert_eq!(fixed.polygons.len(), 2);
    assert!(fixed.polygons.iter().all(Validation::is_valid));
    // The two triangles make half of the unit square.
    let planar: f64 = fixed.polygons.iter().map(Area::unsigned_area).sum();
    assert!((planar - 0.5).abs() < 1e-6, "{planar}");
}

#[test]
fn out_of_range_coordinates_block() {
    // Web Mercator metres in a file that claims to be lon/lat.
    let mercator = Polygon::new(
        LineString::from(vec![(4_187_000.0, 7_508_000.0), (4_188_000.0, 7_508_000.0), (4_188_000.0, 7_509_000.0)]),
        vec![],
    );
    let (_, issues) = validate(&aoi(vec![square(0.0, 0.0, 0.1), mercator]), &generous());
    assert_eq!(issues, vec![AoiIssue::OutOfRange { polygon: 1 }]);
    assert!(blocking(&issues));
    assert!(issues[0].message().contains("4326"), "{}", issues[0].message());

    let (_, issues) = validate(&aoi(vec![square(179.5, 0.0, 1.0)]), &generous());
    assert_eq!(issues, vec![AoiIssue::OutOfRange { polygon: 0 }]);
    let (_, issues) = validate(&aoi(vec![square(0.0, 89.5, 1.0)]), &generous());
    assert_eq!(issues, vec![AoiIssue::OutOfRange { polygon: 0 }]);
}

#[test]
fn the_total_area_limit_blocks() {
    // Two ~123 km² squares, each within 200 km², together above it.
    let two = aoi(vec![square(0.0, 0.0, 0.1), square(1.0, 0.0, 0.1)]);
    let limits = AoiLimits { aoi_area_limit_m2: Some(200e6), ..AoiLimits::default() };
    let (_, issues) = validate(&two, &limits);
    assert_eq!(issues.len(), 1, "{issues:?}");
    let AoiIssue::TotalTooLarge { area_m2, limit_m2 } = issues[0] else {
        panic!("{issues:?}");
    };
    assert!((area_m2 - two.total_area_m2()).abs() < 1.0);
    assert_eq!(limit_m2, 200e6);
    assert!(blocking(&issues));
    let message = issues[0].message();
    assert!(message.contains("200.00") && message.contains(&format!("{:.2}", area_m2 / 1e6)), "{message}");

    // Within the limit once it is raised.
    let raised = AoiLimits { aoi_area_limit_m2: Some(300e6), ..AoiLimits::default() };
    assert_eq!(validate(&two, &raised).1, vec![]);
}

#[test]
fn the_per_polygon_area_limit_blocks() {
    let big = aoi(vec![square(5.0, 5.0, 0.1), square(0.0, 0.0, 1.0)]);
    let limits = AoiLimits { aoi_area_limit_m2: Some(10_000e6), ..AoiLimits::default() };
    let (_, issues) = validate(&big, &limits);
    assert!(
        matches!(issues[0], AoiIssue::PolygonTooLarge { polygon: 1, limit_m2, .. } if limit_m2 == 10_000e6),
        "{issues:?}"
    );
    assert!(issues[0].blocks_start());
    let message = issues[0].message();
    assert!(message.contains("10000.00") && message.contains("12308"), "{message}");

    // One polygon: its own check says it all, no separate total.
    let one = aoi(vec![square(0.0, 0.0, 1.0)]);
    let (_, issues) = validate(&one, &limits);
    assert!(matches!(issues.as_slice(), [AoiIssue::PolygonTooLarge { polygon: 0, .. }]), "{issues:?}");
}

#[test]
fn the_polygon_count_limit_blocks() {
    let three = aoi(vec![square(0.0, 0.0, 0.01), square(1.0, 0.0, 0.01), square(2.0, 0.0, 0.01)]);
    let limits = AoiLimits { max_aois: Some(2), ..AoiLimits::default() };
    let (_, issues) = validate(&three, &limits);
    assert_eq!(issues, vec![AoiIssue::TooManyPolygons { count: 3, max: 2 }]);
    assert!(blocking(&issues));
    assert!(issues[0].message().contains('3') && issues[0].message().contains('2'));
    let three_allowed = AoiLimits { max_aois: Some(3), ..AoiLimits::default() };
    assert_eq!(validate(&three, &three_allowed).1, vec![]);
}

#[test]
fn a_repaired_bow_tie_counts_as_two_polygons() {
    let bowtie: Polygon<f64> = polygon![(x: 0.0, y: 0.0), (x: 0.0, y: 0.1), (x: 0.1, y: 0.0), (x: 0.1, y: 0.1)];
    let limits = AoiLimits { max_aois: Some(1), ..AoiLimits::default() };
    let (_, issues) = validate(&aoi(vec![bowtie]), &limits);
    assert_eq!(issues, vec![AoiIssue::Repaired { polygon: 0 }, AoiIssue::TooManyPolygons { count: 2, max: 1 }]);
}

#[test]
fn the_provider_minimum_blocks() {
    // ~1.23 km², below a 5 km² minimum.
    let tiny = aoi(vec![square(0.0, 0.0, 0.01)]);
    let limits = AoiLimits { provider_min_area_km2: Some(5.0), ..AoiLimits::default() };
    let (_, issues) = validate(&tiny, &limits);
    assert!(
        matches!(issues.as_slice(), [AoiIssue::BelowProviderMinimum { min_km2, .. }] if *min_km2 == 5.0),
        "{issues:?}"
    );
    assert!(blocking(&issues));
    let message = issues[0].message();
    assert!(message.contains("5.00") && message.contains("1.23"), "{message}");
    let one = AoiLimits { provider_min_area_km2: Some(1.0), ..AoiLimits::default() };
    assert_eq!(validate(&tiny, &one).1, vec![]);
}

#[test]
fn issues_come_in_a_stable_order() {
    let bowtie: Polygon<f64> = polygon![(x: 0.0, y: 0.0), (x: 0.0, y: 1.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0)];
    let out = square(200.0, 0.0, 1.0);
    let limits = AoiLimits { max_aois: Some(1), ..generous() };
    let (fixed, issues) = validate(&aoi(vec![bowtie, out.clone()]), &limits);
    assert_eq!(
        issues,
        vec![
            AoiIssue::Repaired { polygon: 0 },
            AoiIssue::OutOfRange { polygon: 2 },
            AoiIssue::TooManyPolygons { count: 3, max: 1 },
        ]
    );
    assert_eq!(fixed.polygons[2], out, "a broken polygon is kept for the user to see");
}

// ---- export -------------------------------------------------------------------------------

#[test]
fn to_geometry_round_trips() {
    let one = aoi(vec![expected_polygon()]);
    let geometry = one.to_geometry();
    assert_eq!(geometry.value.type_name(), "Polygon");
    assert_eq!(parse_geojson(&geometry.to_string()).unwrap(), one);

    let holed = Polygon::new(square(0.0, 0.0, 1.0).exterior().clone(), vec![square(0.2, 0.2, 0.1).exterior().clone()]);
    let two = aoi(vec![holed, square(5.0, 5.0, 0.5)]);
    let geometry = two.to_geometry();
    assert_eq!(geometry.value.type_name(), "MultiPolygon");
    let json: serde_json::Value = serde_json::from_str(&geometry.to_string()).unwrap();
    assert_eq!(json["type"], "MultiPolygon");
    assert_eq!(parse_geojson(&geometry.to_string()).unwrap(), two);
}

#[test]
fn the_geojson_export_reads_back() {
    let two = aoi(vec![square(0.0, 0.0, 1.0), square(5.0, 5.0, 0.5)]);
    let text = two.to_geojson_string();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["type"], "FeatureCollection");
    assert_eq!(json["features"].as_array().unwrap().len(), 2);
    let km2 = json["features"][0]["properties"]["area_km2"].as_f64().unwrap();
    assert!((km2 - 12_308.0).abs() < 62.0, "{km2}");
    assert_eq!(parse_geojson(&text).unwrap(), two);
}

#[test]
fn aoi_serde_round_trips() {
    let two = aoi(vec![square(0.0, 0.0, 1.0), square(5.0, 5.0, 0.5)]);
    let text = serde_json::to_string(&two).unwrap();
    assert_eq!(serde_json::from_str::<Aoi>(&text).unwrap(), two);
}

// ---- triangulation ------------------------------------------------------------------------

fn triangles_area(vertices: &[[f64; 2]], indices: &[u32]) -> f64 {
    indices
        .chunks_exact(3)
        .map(|t| {
            let [a, b, c] = [t[0], t[1], t[2]].map(|i| vertices[i as usize]);
            ((b[0] - a[0]) * (c[1] - a[1]) - (c[0] - a[0]) * (b[1] - a[1])).abs() / 2.0
        })
        .sum()
}

#[test]
fn triangulating_a_square_with_a_hole_covers_its_area() {
    let outer = LineString::from(vec![(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0), (0.0, 0.0)]);
    let hole = LineString::from(vec![(4.0, 4.0), (6.0, 4.0), (6.0, 6.0), (4.0, 6.0), (4.0, 4.0)]);
    let polygon = Polygon::new(outer, vec![hole]);
    let (vertices, indices) = triangulate(&polygon);
    assert_eq!(vertices.len(), 8, "each ring's vertices once, without the closing one");
    assert_eq!(indices.len() % 3, 0);
    assert!(indices.len() >= 3 * 8, "a square with a hole needs at least 8 triangles");
    assert!(indices.iter().all(|&i| (i as usize) < vertices.len()));
    let area = triangles_area(&vertices, &indices);
    assert!((area - polygon.unsigned_area()).abs() < 1e-9, "{area} vs {}", polygon.unsigned_area());
    assert!((area - 96.0).abs() < 1e-9);
    // The same triangles as geo's own earcut.
    assert_eq!(indices.len() / 3, polygon.earcut_triangles().len());
}

#[test]
fn triangulating_an_unclosed_ring_works_and_a_line_gives_nothing() {
    let open = Polygon::new(LineString::from(vec![(0.0, 0.0), (2.0, 0.0), (2.0, 2.0), (0.0, 2.0)]), vec![]);
    let (vertices, indices) = triangulate(&open);
    assert!((triangles_area(&vertices, &indices) - 4.0).abs() < 1e-12);
    let line = Polygon::new(LineString::from(vec![(0.0, 0.0), (2.0, 0.0)]), vec![]);
    assert_eq!(triangulate(&line).1, Vec::<u32>::new());
}

// ---- WKT ----------------------------------------------------------------------------------

#[test]
fn wkt_polygon_with_a_hole() {
    let polygons =
        parse_wkt_polygons("POLYGON ((30 10, 40 40, 20 40, 10 20, 30 10), (20 30, 35 35, 30 20, 20 30))").unwrap();
    assert_eq!(polygons.len(), 1);
    assert_eq!(
        polygons[0].exterior(),
        &LineString::from(vec![(30.0, 10.0), (40.0, 40.0), (20.0, 40.0), (10.0, 20.0), (30.0, 10.0)])
    );
    assert_eq!(polygons[0].interiors().len(), 1);
    assert_eq!(polygons[0].interiors()[0].0[1].x, 35.0);
}

#[test]
fn wkt_multipolygon_like_a_data_api_footprint() {
    let wkt = "MULTIPOLYGON(((37.5 55.7,37.6 55.7,37.6 55.8,37.5 55.8,37.5 55.7)),((-0.1 51.5,0.1 51.5,0.1 51.6,-1.5e-1 51.6)))";
    let polygons = parse_wkt_polygons(wkt).unwrap();
    assert_eq!(polygons.len(), 2);
    assert_eq!(polygons[0].exterior().0[1].x, 37.6);
    let second = &polygons[1].exterior().0;
    assert_eq!(second.len(), 5, "the unclosed ring is closed");
    assert_eq!(second[3].x, -0.15);
    assert_eq!(second.first(), second.last());
    // Lower case and extra spaces are fine too.
    let same = parse_wkt_polygons(&wkt.to_lowercase().replace(',', " , ")).unwrap();
    assert_eq!(same, polygons);
}

#[test]
fn wkt_errors_are_reported() {
    assert!(parse_wkt_polygons("POINT (1 2)").is_err());
    assert!(parse_wkt_polygons("POLYGON ((1 2, 3 4").is_err());
    assert!(parse_wkt_polygons("POLYGON ((1 2, 3 4, 5 6))garbage").is_err());
}

// ---- performance --------------------------------------------------------------------------

/// A wavy ring of `n` vertices around (37, 55), ~0.1° across: like a detailed field boundary.
fn wavy_ring(n: usize) -> Polygon<f64> {
    let ring: Vec<(f64, f64)> = (0..n)
        .map(|i| {
            let a = i as f64 / n as f64 * std::f64::consts::TAU;
            let r = 0.1 + 0.01 * (a * 50.0).sin();
            (37.0 + r * a.cos(), 55.0 + r * a.sin())
        })
        .collect();
    Polygon::new(LineString::from(ring), vec![])
}

#[test]
fn validating_a_detailed_outline_is_fast() {
    // geo's own Validation compares every segment with every other: ~2 minutes for this ring.
    let detailed = aoi(vec![wavy_ring(20_000)]);
    let started = std::time::Instant::now();
    let (fixed, issues) = validate(&detailed, &generous());
    assert_eq!(issues, vec![]);
    assert_eq!(fixed, detailed);

    // A local self-intersection (two neighbouring vertices swapped) is found and repaired.
    let mut crossed = detailed.polygons[0].clone();
    crossed.exterior_mut(|r| r.0.swap(10, 11));
    let (fixed, issues) = validate(&aoi(vec![crossed]), &generous());
    assert_eq!(issues, vec![AoiIssue::Repaired { polygon: 0 }]);
    assert_eq!(fixed.polygons.len(), 1, "the crossing's sliver is dropped");
    let (before, after) = (detailed.total_area_m2(), fixed.total_area_m2());
    assert!((after - before).abs() / before < 1e-3, "{before} m² became {after} m²");
    let elapsed = started.elapsed();
    assert!(elapsed.as_secs_f64() < 10.0, "took {elapsed:?}");
}
