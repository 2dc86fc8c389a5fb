//! Every export format read back by GDAL (`ogr2ogr`, package `gdal-bin`): the feature
//! count, geometry types, attribute names, types and values, and the extent, for a result
//! with polygons (one with a hole), lines, a multipolygon and a null geometry.
//!
//! Without `ogr2ogr` on the PATH the test says so and passes, unless
//! `MAPFLOW_REQUIRE_GDAL=1` (as CI sets, after installing `gdal-bin`) makes it fail.

use std::path::Path;
use std::process::Command;

use mapflow_geo::export::{Dataset, Format, write};
use serde_json::{Value, json};

fn gdal_present() -> bool {
    let found = Command::new("ogr2ogr").arg("--version").output().is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var("MAPFLOW_REQUIRE_GDAL").is_err(),
            "MAPFLOW_REQUIRE_GDAL is set but ogr2ogr cannot be run: install gdal-bin"
        );
        eprintln!("export_gdal: ogr2ogr not found (apt install gdal-bin); the GDAL round trips did not run");
    }
    found
}

/// A result as the processing API gives it, from the text of a real one's properties.
fn result() -> Value {
    json!({"type": "FeatureCollection", "features": [
        {"type": "Feature",
         "properties": {"class_id": 101, "building_height": 12.5, "name": "Дом", "flag": true, "meta": {"a": [1, 2]}},
         "geometry": {"type": "Polygon", "coordinates": [
             [[76.9, 43.2], [76.92, 43.2], [76.92, 43.22], [76.9, 43.22], [76.9, 43.2]],
             [[76.905, 43.205], [76.91, 43.205], [76.91, 43.21], [76.905, 43.205]]]}},
        {"type": "Feature",
         "properties": {"class_id": 102, "building_height": 7, "name": "road", "flag": false},
         "geometry": {"type": "LineString", "coordinates": [[76.9, 43.2], [76.95, 43.25]]}},
        {"type": "Feature", "properties": {"class_id": 103, "building_height": null, "name": null}, "geometry": null},
        {"type": "Feature", "properties": {"class_id": 104},
         "geometry": {"type": "MultiPolygon", "coordinates": [[[[77.0, 43.0], [77.01, 43.0], [77.01, 43.01], [77.0, 43.0]]]]}}
    ]})
}

/// `ogr2ogr` of every layer of `path` as one GeoJSON document, and `ogrinfo`'s summary.
fn read_back(path: &Path) -> (Vec<Value>, String) {
    let out = Command::new("ogr2ogr").args(["-f", "GeoJSON", "/vsistdout/"]).arg(path).output().unwrap();
    assert!(out.status.success(), "ogr2ogr {}: {}", path.display(), String::from_utf8_lossy(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let info = Command::new("ogrinfo").args(["-al", "-so"]).arg(path).output().unwrap();
    assert!(info.status.success(), "{}", String::from_utf8_lossy(&info.stderr));
    (doc["features"].as_array().unwrap().clone(), String::from_utf8_lossy(&info.stdout).into_owned())
}

fn by_class(features: &[Value], class: i64) -> &Value {
    features.iter().find(|f| f["properties"]["class_id"].as_f64() == Some(class as f64)).unwrap()
}

#[test]
fn every_format_reads_back_in_gdal() {
    if !gdal_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let bytes = serde_json::to_vec(&result()).unwrap();
    let dataset = Dataset::from_geojson(&bytes, "buildings").unwrap();
    for format in [Format::GeoJson, Format::GeoPackage, Format::FlatGeobuf] {
        let path = dir.path().join(format!("result.{}", format.extension()));
        let written = write(&dataset, format, &path).unwrap();
        assert_eq!(written.features, 4, "{format:?}");
        let (features, info) = read_back(&path);
        assert_eq!(features.len(), 4, "{format:?}: {features:#?}");
        assert!(info.contains("Feature Count: 4"), "{format:?}: {info}");
        assert!(info.contains("Extent: (76.900000, 43.000000) - (77.010000, 43.250000)"), "{format:?}: {info}");
        assert!(info.contains("WGS 84"), "{format:?} has its CRS: {info}");
        // Types kept: integer, real, string, boolean-ish, JSON as text.
        for (field, kind) in [("class_id", "Integer"), ("building_height", "Real"), ("name", "String")] {
            assert!(
                info.lines().any(|l| l.starts_with(&format!("{field}: {kind}"))),
                "{format:?}: {field} should be {kind}: {info}"
            );
        }
        let house = by_class(&features, 101);
        assert_eq!(house["geometry"]["type"], "Polygon", "{format:?}");
        assert_eq!(house["geometry"]["coordinates"].as_array().unwrap().len(), 2, "{format:?}: the hole is kept");
        assert_eq!(house["properties"]["building_height"], 12.5);
        assert_eq!(house["properties"]["name"], "Дом");
        // A JSON property: stored as text (GDAL's GeoJSON output may show it as JSON again).
        let meta = &house["properties"]["meta"];
        let meta = meta.as_str().map_or(meta.clone(), |text| serde_json::from_str(text).unwrap());
        assert_eq!(meta, json!({"a": [1, 2]}), "{format:?}");
        if format != Format::GeoJson {
            assert!(info.lines().any(|l| l.starts_with("meta: String")), "{format:?}: {info}");
        }
        let road = by_class(&features, 102);
        assert_eq!(road["geometry"]["type"], "LineString", "{format:?}");
        assert_eq!(road["properties"]["building_height"].as_f64(), Some(7.0));
        let none = by_class(&features, 103);
        if format == Format::FlatGeobuf {
            // The flatgeobuf writer has no null geometry: it writes an empty line.
            let g = &none["geometry"];
            assert!(g.is_null() || (g["type"] == "LineString" && g["coordinates"] == json!([])), "{none}");
        } else {
            assert!(none["geometry"].is_null(), "{format:?}: the null geometry stays null: {none}");
        }
        assert!(none["properties"]["name"].is_null());
        assert_eq!(by_class(&features, 104)["geometry"]["type"], "MultiPolygon", "{format:?}");
        // Nothing left but the file itself.
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(names.iter().all(|n| !n.starts_with(".mapflow-export")), "{names:?}");
    }

    // GDAL finds the GeoPackage's spatial index, and a box query through it picks the
    // features there (the house and the road lie north-west of 77.005, 43.005).
    let gpkg = dir.path().join("result.gpkg");
    // The one integer value a query's one row holds, as ogrinfo prints it (`name (Integer) = 1`).
    let sql = |query: &str| -> Option<i64> {
        let out = Command::new("ogrinfo").arg(&gpkg).args(["-sql", query]).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.lines().filter(|l| l.starts_with("  ")).find_map(|l| l.split_once("(Integer) = ")?.1.trim().parse().ok())
    };
    assert_eq!(sql("SELECT HasSpatialIndex('buildings', 'geom')"), Some(1));
    let near = "SELECT count(*) FROM rtree_buildings_geom WHERE minx <= 77.005 AND maxx >= 77.005 AND miny <= 43.005 AND maxy >= 43.005";
    assert_eq!(sql(near), Some(1), "only the multipolygon's box holds that point");

    // A shapefile holds one kind of geometry: polygons and lines go to two, the null
    // geometry is left out and said to be.
    let path = dir.path().join("result.shp");
    let written = write(&dataset, Format::Shapefile, &path).unwrap();
    assert_eq!((written.features, written.left_out), (3, 1));
    let polygons = dir.path().join("result_polygons.shp");
    let lines = dir.path().join("result_lines.shp");
    assert_eq!(written.files[0], polygons);
    let (features, info) = read_back(&polygons);
    assert_eq!(features.len(), 2, "{info}");
    assert!(info.contains("Geometry: Polygon") && info.contains("WGS 84"), "{info}");
    let house = by_class(&features, 101);
    assert_eq!(house["properties"]["name"], "Дом", "UTF-8 text through the .cpg");
    assert_eq!(house["properties"]["building_h"], 12.5, "field names cut to 10 characters");
    assert_eq!(house["geometry"]["coordinates"].as_array().unwrap().len(), 2, "the hole is kept");
    let (features, info) = read_back(&lines);
    assert_eq!(features.len(), 1, "{info}");
    assert!(info.contains("Geometry: Line String"), "{info}");
}

#[test]
fn the_format_follows_the_extension_and_a_bad_file_is_refused() {
    assert_eq!(Format::from_path(Path::new("a/b.GPKG")), Some(Format::GeoPackage));
    assert_eq!(Format::from_path(Path::new("b.fgb")), Some(Format::FlatGeobuf));
    assert_eq!(Format::from_path(Path::new("b.shp")), Some(Format::Shapefile));
    assert_eq!(Format::from_path(Path::new("b.json")), Some(Format::GeoJson));
    assert_eq!(Format::from_path(Path::new("b.kml")), None);
    assert!(Dataset::from_geojson(b"{\"type\": \"FeatureCollection\", \"features\": [", "x").is_err());
    assert!(Dataset::from_geojson(b"\xff\xfe", "x").is_err());
}

#[test]
fn every_format_the_app_writes_it_reads_back_as_a_layer() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = serde_json::to_vec(&result()).unwrap();
    let dataset = Dataset::from_geojson(&bytes, "buildings").unwrap();
    for format in [Format::GeoJson, Format::GeoPackage, Format::FlatGeobuf, Format::Shapefile] {
        let path = dir.path().join(format!("back.{}", format.extension()));
        let written = write(&dataset, format, &path).unwrap();
        let main = written.files[0].clone();
        let back = mapflow_geo::export::read::to_geojson(&main).unwrap();
        let doc: Value = serde_json::from_slice(&back).unwrap();
        let features = doc["features"].as_array().unwrap();
        let expected = if format == Format::Shapefile { 2 } else { 4 };
        assert_eq!(features.len(), expected, "{format:?}: {doc}");
        let house = by_class(features, 101);
        assert_eq!(house["properties"]["name"], "Дом", "{format:?}");
        // A shapefile's polygons come back as multipolygons (its one polygon type).
        let kind = if format == Format::Shapefile { "MultiPolygon" } else { "Polygon" };
        assert_eq!(house["geometry"]["type"], kind, "{format:?}");
        // And the app draws it.
        let layer = mapflow_geo::results::load_result(&back).unwrap();
        assert!(layer.feature_count() >= 2, "{format:?}");
    }
    let err = mapflow_geo::export::read::to_geojson(&dir.path().join("x.kml")).unwrap_err();
    assert!(err.to_string().contains(".gpkg"), "{err}");
}
