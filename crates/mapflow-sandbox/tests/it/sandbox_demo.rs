//! What a new user finds in a fresh sandbox, over real HTTP with raw JSON: the demo
//! project over Almaty with finished, failed and running processings and a mosaic of
//! uploaded imagery, seeded once per data directory; and a catalog that answers the API
//! reference's example search over Almaty with sub-metre images.

use std::time::{Duration, Instant};
use testkit::sandbox_setup::StrictSandbox;

use geo::Intersects;
use geo_types::{LineString, Polygon};
use mapflow_geo::parse_wkt_polygons;
use mapflow_sandbox::{Sandbox, SandboxConfig};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A sandbox on `dir` whose running demo processing finishes `finish` seconds after a
/// fresh start.
fn start_in(dir: &std::path::Path, finish: f64) -> StrictSandbox {
    StrictSandbox::start(SandboxConfig {
        data_dir: Some(dir.to_owned()),
        demo_finish_seconds: finish,
        ..SandboxConfig::default()
    })
}

fn req(sb: &Sandbox, method: Method, path: &str) -> reqwest::RequestBuilder {
    reqwest::Client::new()
        .request(method, format!("{}{path}", sb.base_url()))
        .header("Authorization", format!("Basic {}", sb.token().expose()))
}

async fn call(sb: &Sandbox, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    let mut r = req(sb, method, path);
    if let Some(body) = body {
        r = r.json(&body);
    }
    let r = r.send().await.unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    let value = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() };
    (status, value)
}

async fn get(sb: &Sandbox, path: &str) -> Value {
    let (status, body) = call(sb, Method::GET, path, None).await;
    assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
    body
}

/// The demo project as `GET /projects` lists it.
async fn demo_project(sb: &Sandbox) -> Value {
    let projects = get(sb, "/projects").await;
    projects.as_array().unwrap().iter().find(|p| p["name"] == "Demo: Almaty").cloned().expect("the demo project")
}

/// `[w, s, e, n]` of every coordinate pair under `value` (nested GeoJSON arrays).
fn bbox_of(value: &Value) -> [f64; 4] {
    fn walk(v: &Value, b: &mut [f64; 4]) {
        match v.as_array() {
            Some(a) if a.len() >= 2 && a[0].is_number() && a[1].is_number() => {
                let (x, y) = (a[0].as_f64().unwrap(), a[1].as_f64().unwrap());
                *b = [b[0].min(x), b[1].min(y), b[2].max(x), b[3].max(y)];
            }
            Some(a) => a.iter().for_each(|c| walk(c, b)),
            None => {}
        }
    }
    let mut b = [f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY];
    walk(value, &mut b);
    b
}

fn inside(b: [f64; 4], outer: [f64; 4], tolerance: f64) -> bool {
    b[0] >= outer[0] - tolerance
        && b[1] >= outer[1] - tolerance
        && b[2] <= outer[2] + tolerance
        && b[3] <= outer[3] + tolerance
}

/// `{succeeded, failed, inProgress, unprocessed, total}` counted from processings.
fn counts_of(processings: &[Value]) -> Value {
    let n = |s: &str| processings.iter().filter(|p| p["status"] == s).count();
    json!({
        "succeeded": n("OK"),
        "failed": n("FAILED"),
        "inProgress": n("IN_PROGRESS"),
        "unprocessed": n("UNPROCESSED"),
        "total": processings.len(),
    })
}

/// The value of a result attribute, as a number or a numeric string.
fn number(v: &Value) -> Option<f64> {
    v.as_f64().or_else(|| v.as_str()?.parse().ok())
}

#[tokio::test]
async fn a_fresh_data_dir_holds_the_demo_project() {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let sb = start_in(dir.path(), 3.0);
    eprintln!("a fresh sandbox with its demo started in {:?}", started.elapsed());
    let project = demo_project(&sb).await;
    let id = project["id"].as_str().unwrap().to_owned();
    let description = project["description"].as_str().unwrap();
    for hint in ["result", "building", "failed", "catalog", "Demo mosaic", "My imagery", "area of interest"] {
        assert!(description.contains(hint), "the description says nothing of {hint}: {description}");
    }
    assert_eq!(get(&sb, "/user/status").await["remainingCredits"], 5000, "the demo is paid from a grant");

    let processings = get(&sb, &format!("/projects/{id}/processings/v2")).await.as_array().unwrap().clone();
    let project = get(&sb, &format!("/projects/{id}")).await;
    assert_eq!(project["processingCounts"], counts_of(&processings));
    let with = |status: &str| processings.iter().filter(|p| p["status"] == status).cloned().collect::<Vec<_>>();
    let (ok, failed, running) = (with("OK"), with("FAILED"), with("IN_PROGRESS"));
    assert!(ok.len() >= 3, "{processings:#?}");
    assert_eq!(failed.len(), 1, "{processings:#?}");
    assert_eq!(running.len(), 1, "{processings:#?}");

    // Every finished run has a non-empty result inside its AOI.
    let mut area = [f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY];
    let mut models = Vec::new();
    for p in &ok {
        let pid = p["id"].as_str().unwrap();
        let aois = get(&sb, &format!("/processings/{pid}/aois")).await;
        let aoi = bbox_of(&Value::Array(
            aois.as_array().unwrap().iter().map(|a| a["geometry"]["coordinates"].clone()).collect(),
        ));
        area = [area[0].min(aoi[0]), area[1].min(aoi[1]), area[2].max(aoi[2]), area[3].max(aoi[3])];
        // A few km² each, in Almaty.
        assert!(inside(aoi, [76.8, 43.1, 77.1, 43.35], 0.0), "{aoi:?}");
        let km2 = p["aoiArea"].as_f64().unwrap() / 1e6;
        assert!((1.0..=10.0).contains(&km2), "{km2} km²");
        let result = get(&sb, &format!("/processings/{pid}/result")).await;
        assert_eq!(result["type"], "FeatureCollection");
        let features = result["features"].as_array().unwrap();
        assert!(!features.is_empty(), "{} has an empty result", p["name"]);
        for f in features {
            assert!(inside(bbox_of(&f["geometry"]["coordinates"]), aoi, 1e-6), "{} outside {aoi:?}", f["geometry"]);
        }
        let model = p["workflowDef"]["name"].as_str().unwrap().to_owned();
        let props = |key: &'static str| features.iter().map(move |f| &f["properties"][key]);
        if model.contains("Buildings") {
            assert!(props("class_id").all(|c| number(c).is_some_and(|c| (101.0..=105.0).contains(&c))), "class_id");
            assert!(props("building_height").all(|h| number(h).is_some_and(|h| h > 0.0)), "building_height");
        } else if model.contains("Forest") {
            assert!(props("object_type").all(Value::is_string));
            assert!(props("class_id").all(|c| ["00m-04m", "04m-10m", "10m-99m"].contains(&c.as_str().unwrap_or(""))));
        }
        models.push(model);
    }
    for wanted in ["Buildings", "Forest", "Roads"] {
        assert!(models.iter().any(|m| m.contains(wanted)), "no finished {wanted} run: {models:?}");
    }

    // The failed run says why, with string parameters, and holds no credits.
    let messages = failed[0]["messages"].as_array().unwrap();
    assert!(!messages.is_empty());
    assert_eq!(messages[0]["code"], "source-validator.TooLowZoom");
    assert_eq!(messages[0]["parameters"], json!({"actual_zoom": "15", "min_zoom": "17", "level": "error"}));

    // The mosaic's image lies in the demo area, with a preview drawn from its pixels.
    let mosaics = get(&sb, "/rasters/mosaic").await;
    let mosaic = mosaics.as_array().unwrap().iter().find(|m| m["name"] == "Demo mosaic").expect("Demo mosaic").clone();
    let images = get(&sb, &format!("/rasters/mosaic/{}/image", mosaic["id"].as_str().unwrap())).await;
    let images = images.as_array().unwrap();
    assert!(!images.is_empty());
    for image in images {
        for polygon in parse_wkt_polygons(image["footprint"].as_str().unwrap()).unwrap() {
            for c in polygon.exterior().coords() {
                assert!(inside([c.x, c.y, c.x, c.y], area, 0.0), "{c:?} is outside the demo area {area:?}");
            }
        }
        assert_eq!(image["meta_data"]["crs"], "EPSG:3857");
        let r = req(&sb, Method::GET, &format!("/rasters/image/{}/preview/s", image["id"].as_str().unwrap()))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let preview = image::load_from_memory(&r.bytes().await.unwrap()).unwrap().to_rgb8();
        let colours: std::collections::HashSet<[u8; 3]> = preview.pixels().map(|p| p.0).collect();
        assert!(colours.len() > 50, "a flat preview: {} colours", colours.len());
    }

    // The running one finishes by itself, and the counts follow.
    let running_id = running[0]["id"].as_str().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let p = get(&sb, &format!("/processings/{running_id}/v2")).await;
        if p["status"] == "OK" {
            break;
        }
        assert_eq!(p["status"], "IN_PROGRESS", "{p}");
        assert!(Instant::now() < deadline, "the running demo processing never finished: {p}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let processings = get(&sb, &format!("/projects/{id}/processings/v2")).await.as_array().unwrap().clone();
    assert_eq!(get(&sb, &format!("/projects/{id}")).await["processingCounts"], counts_of(&processings));
    assert_eq!(counts_of(&processings)["inProgress"], 0);

    // A data dir with state is never seeded again: what the user removed stays removed.
    let gone = ok[0]["id"].as_str().unwrap().to_owned();
    let (status, _) = call(&sb, Method::DELETE, &format!("/processings/{gone}"), None).await;
    assert_eq!(status, StatusCode::OK);
    drop(sb);
    let sb = start_in(dir.path(), 3.0);
    assert_eq!(demo_project(&sb).await["id"], id);
    let again = get(&sb, &format!("/projects/{id}/processings/v2")).await.as_array().unwrap().clone();
    assert_eq!(again.len(), processings.len() - 1);
    assert!(again.iter().all(|p| p["id"] != gone.as_str()));
    let mosaics = get(&sb, "/rasters/mosaic").await;
    assert_eq!(mosaics.as_array().unwrap().iter().filter(|m| m["name"] == "Demo mosaic").count(), 1);
}

/// The exterior of a GeoJSON Polygon.
fn polygon(geometry: &Value) -> Polygon<f64> {
    let ring: Vec<(f64, f64)> = geometry["coordinates"][0]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c[0].as_f64().unwrap(), c[1].as_f64().unwrap()))
        .collect();
    Polygon::new(LineString::from(ring), vec![])
}

#[tokio::test]
async fn the_references_almaty_search_finds_sub_metre_images() {
    let dir = tempfile::tempdir().unwrap();
    let sb = start_in(dir.path(), 75.0);
    // The example of the API reference, as written there.
    let aoi = json!({
        "type": "Polygon",
        "coordinates": [[[76.6755,43.2234],[76.6755,43.4712],
                         [77.0163,43.4712],[77.0163,43.2234],
                         [76.6755,43.2234]]]
    });
    let body = json!({
        "aoi": aoi,
        "acquisitionDateFrom": "2024-01-01T00:00:00Z",
        "acquisitionDateTo": "2024-03-01T00:00:00Z",
        "maxCloudCover": 10.0,
        "maxResolution": 0.5,
        "limit": 10,
        "sortBy": "ACQUISITION_DATE",
        "sortOrder": "DESC"
    });
    let (status, page) = call(&sb, Method::POST, "/catalog/meta", Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let images = page["images"].as_array().unwrap();
    eprintln!("the reference's search finds {} images ({} in all)", images.len(), page["total"]);
    assert!(images.len() >= 3, "{page}");
    assert!(images.len() <= 10);
    assert!(page["total"].as_u64().unwrap() >= images.len() as u64);
    let area = polygon(&aoi);
    let from = chrono::DateTime::parse_from_rfc3339("2024-01-01T00:00:00Z").unwrap();
    let to = chrono::DateTime::parse_from_rfc3339("2024-03-01T00:00:00Z").unwrap();
    let mut dates = Vec::new();
    for image in images {
        let date = chrono::DateTime::parse_from_rfc3339(image["acquisitionDate"].as_str().unwrap()).unwrap();
        assert!(from <= date && date <= to, "{image}");
        assert!(image["cloudCover"].as_f64().unwrap() <= 10.0, "{image}");
        assert!(image["pixelResolution"].as_f64().unwrap() <= 0.5, "{image}");
        assert!(polygon(&image["footprint"]).intersects(&area), "{image}");
        assert!(image["previewUrl"].is_string() && image["providerName"].is_string(), "{image}");
        dates.push(date);
    }
    assert!(dates.windows(2).all(|w| w[0] >= w[1]), "not newest first: {dates:?}");
}

/// A square of `side_km` with its south-west corner at (lon, lat).
fn square(lon: f64, lat: f64, side_km: f64) -> Value {
    let dlat = side_km / 110.574;
    let dlon = side_km / (111.32 * f64::cos(lat.to_radians()));
    let (e, n) = (lon + dlon, lat + dlat);
    json!({"type": "Polygon", "coordinates": [[[lon, lat], [e, lat], [e, n], [lon, n], [lon, lat]]]})
}

#[tokio::test]
async fn small_areas_find_about_as_many_images_as_before() {
    let dir = tempfile::tempdir().unwrap();
    let sb = start_in(dir.path(), 75.0);
    // Away from cities the archive is as it was; over a city it is denser, within reason.
    for (name, lon, lat, range) in [
        ("the Kazakh steppe", 70.3, 48.2, 15..=45),
        ("the Siberian taiga", 100.3, 60.1, 15..=45),
        ("central Almaty", 76.90, 43.23, 20..=80),
        ("central Paris", 2.33, 48.84, 20..=80),
    ] {
        let (status, page) =
            call(&sb, Method::POST, "/catalog/meta", Some(json!({"aoi": square(lon, lat, 5.0)}))).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let total = page["total"].as_u64().unwrap();
        let images = page["images"].as_array().unwrap();
        let tasked = images.iter().filter(|i| i["id"].as_str().unwrap().starts_with("legion-tasked-")).count();
        eprintln!("{name}: {total} images over 5×5 km, {tasked} of them tasked over a city");
        assert!(range.contains(&total), "{name}: {total}");
    }
}
