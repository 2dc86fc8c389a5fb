//! Local GIS files as layers: a dropped GeoPackage becomes a layer (in the layer list and the
//! attribute table like a result), then the AOI; a broken file says why and changes nothing.

use crate::support;

use egui_kittest::kittest::Queryable;
use mapflow_desktop::app::processings::local_layer_id;
use mapflow_desktop::export::{Dataset, Format, write};
use serde_json::json;
use support::{app, app_mut, harness, wait_for};

fn fields() -> Vec<u8> {
    let square = |x: f64| json!([[[x, 43.2], [x + 0.01, 43.2], [x + 0.01, 43.21], [x, 43.21], [x, 43.2]]]);
    serde_json::to_vec(&json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"field": "North", "crop": "wheat"}, "geometry": {"type": "Polygon", "coordinates": square(76.90)}},
        {"type": "Feature", "properties": {"field": "South", "crop": "barley"}, "geometry": {"type": "Polygon", "coordinates": square(76.92)}}
    ]}))
    .unwrap()
}

#[test]
fn a_dropped_geopackage_becomes_a_layer_then_the_aoi() {
    let mut h = harness();
    support::signed_in_to_sandbox(&mut h);
    // The first run's rows stop arriving before the layer list is clicked.
    support::first_run_settled(&mut h);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fields.gpkg");
    write(&Dataset::from_geojson(&fields(), "fields").unwrap(), Format::GeoPackage, &path).unwrap();

    support::drop_file(&mut h, &path);
    let id = local_layer_id(&path);
    wait_for(&mut h, "the layer", |h| app(h).state.results.get(&id).and_then(|v| v.layer()).is_some());
    let layer = app(&h).state.results[&id].layer().unwrap().clone();
    assert_eq!(layer.feature_count(), 2);
    h.run_steps(2);
    h.get_by_label_contains("Opened fields.gpkg: 2 features");
    // In the attribute table like a result.
    app_mut(&mut h).ui.attributes.layer = Some(id.clone());
    app_mut(&mut h).ui.show_pane(mapflow_desktop::app::layout::Pane::Attributes);
    wait_for(&mut h, "its rows", |h| app(h).ui.attributes.rows().is_some_and(|r| r.len() == 2));
    let mut columns = app(&h).ui.attributes.columns().to_vec();
    columns.sort();
    assert_eq!(columns, ["crop", "field"]);

    // Its polygons become the AOI.
    h.get_by_label("Use as AOI").click();
    wait_for(&mut h, "the AOI", |h| app(h).state.settings.aoi.aoi.polygons.len() == 2);

    // A broken file says why; the layer and the AOI stay.
    let broken = dir.path().join("broken.gpkg");
    std::fs::write(&broken, "not a geopackage at all, just some text that is long enough").unwrap();
    support::drop_file(&mut h, &broken);
    wait_for(&mut h, "the error", |h| {
        app(h).state.notices.iter().any(|n| n.is_error && n.text.contains("broken.gpkg"))
    });
    assert!(app(&h).state.results.contains_key(&id));
    assert_eq!(app(&h).state.settings.aoi.aoi.polygons.len(), 2);
    assert!(!app(&h).state.results.contains_key(&local_layer_id(&broken)));
}
