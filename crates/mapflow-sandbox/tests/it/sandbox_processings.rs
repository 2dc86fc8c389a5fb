//! The sandbox's processings over real HTTP: create and estimate with every check,
//! the lifecycle in time, billing and refunds, results, AOIs, editing, rating, paging,
//! history, the v1 calls of the Python SDK, and persistence across a restart.

use sandbox_setup::StrictSandbox;
use testkit::sandbox_setup;

use std::time::{Duration, Instant};

use geo::Contains;
use geo_types::{Coord, LineString, Polygon};
use mapflow_sandbox::{Sandbox, SandboxConfig, seed};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A sandbox whose processings take one second.
fn start() -> StrictSandbox {
    StrictSandbox::start(SandboxConfig { processing_seconds: 1.0, ..SandboxConfig::default() })
}

fn start_in(dir: &std::path::Path) -> StrictSandbox {
    StrictSandbox::start(SandboxConfig {
        processing_seconds: 1.0,
        data_dir: Some(dir.to_owned()),
        ..SandboxConfig::default()
    })
}

fn req(sb: &Sandbox, method: Method, path: &str) -> reqwest::RequestBuilder {
    reqwest::Client::new()
        .request(method, format!("{}{path}", sb.base_url()))
        .header("Authorization", format!("Basic {}", sb.token().expose()))
}

/// Sends a request and reads the answer as JSON (`null` when empty).
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

async fn post(sb: &Sandbox, path: &str, body: Value) -> (StatusCode, Value) {
    call(sb, Method::POST, path, Some(body)).await
}

/// The ids of every processing of the account, sorted. A fresh sandbox has those of its
/// demo project.
async fn all_ids(sb: &Sandbox) -> Vec<String> {
    let mut ids: Vec<String> = get(sb, "/processings/v2")
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

async fn default_project(sb: &Sandbox) -> String {
    get(sb, "/projects/default").await["id"].as_str().unwrap().to_owned()
}

async fn credits(sb: &Sandbox) -> (i64, i64) {
    let status = get(sb, "/user/status").await;
    (status["remainingCredits"].as_i64().unwrap(), status["processedArea"].as_i64().unwrap())
}

/// The exterior ring of a square of `side` metres centred on (lon, lat), counter-clockwise.
fn square_ring(lon: f64, lat: f64, side: f64) -> Vec<[f64; 2]> {
    let dlat = side / 2.0 / 111_320.0;
    let dlon = side / 2.0 / (111_320.0 * lat.to_radians().cos());
    vec![
        [lon - dlon, lat - dlat],
        [lon + dlon, lat - dlat],
        [lon + dlon, lat + dlat],
        [lon - dlon, lat + dlat],
        [lon - dlon, lat - dlat],
    ]
}

fn square(lon: f64, lat: f64, side: f64) -> Value {
    json!({"type": "Polygon", "coordinates": [square_ring(lon, lat, side)]})
}

/// A processing request over `geometry` with Mapbox imagery at `zoom`.
fn request(project: &str, name: &str, model: &str, geometry: Value, zoom: Value) -> Value {
    json!({
        "name": name,
        "projectId": project,
        "wdName": model,
        "geometry": geometry,
        "params": {"sourceParams": {"dataProvider": {"providerName": seed::MAPBOX, "zoom": zoom}}},
        "meta": {"source-app": "sandbox-tests", "version": "1"},
    })
}

async fn create(sb: &Sandbox, body: Value) -> Value {
    let (status, p) = post(sb, "/processings/v2", body).await;
    assert_eq!(status, StatusCode::OK, "{p}");
    p
}

/// Polls the processing until it has `status`, failing after ten seconds.
async fn wait_for(sb: &Sandbox, id: &str, status: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let p = get(sb, &format!("/processings/{id}/v2")).await;
        if p["status"] == status {
            return p;
        }
        assert!(Instant::now() < deadline, "processing {id} never became {status}: {p}");
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
}

fn assert_api_error(body: &Value, code: &str) {
    assert_eq!(body["code"], code, "{body}");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    let params = body["params"].as_object().unwrap_or_else(|| panic!("params is not an object: {body}"));
    assert!(params.values().all(Value::is_string), "parameter values are strings: {body}");
}

fn assert_iso_micros(value: &Value) {
    let s = value.as_str().unwrap_or_else(|| panic!("not a time: {value}"));
    assert!(s.ends_with('Z'), "{s}");
    assert_eq!(s.rsplit_once('.').unwrap().1.len(), 7, "six digits and Z: {s}");
    chrono::DateTime::parse_from_rfc3339(s).unwrap();
}

fn polygon_of(rings: &Value) -> Polygon<f64> {
    let ring = |r: &Value| -> LineString<f64> {
        r.as_array()
            .unwrap()
            .iter()
            .map(|c| Coord { x: c[0].as_f64().unwrap(), y: c[1].as_f64().unwrap() })
            .collect::<Vec<_>>()
            .into()
    };
    let rings = rings.as_array().unwrap();
    Polygon::new(ring(&rings[0]), rings[1..].iter().map(ring).collect())
}

/// Asserts every feature is a Feature with an id and properties, lying within `aoi`.
fn assert_inside(fc: &Value, aoi: &Polygon<f64>) {
    assert_eq!(fc["type"], "FeatureCollection");
    for f in fc["features"].as_array().unwrap() {
        assert_eq!(f["type"], "Feature");
        assert!(f["id"].is_number(), "{f}");
        assert!(f["properties"].is_object(), "{f}");
        let g = &f["geometry"];
        match g["type"].as_str().unwrap() {
            "Polygon" => {
                let p = polygon_of(&g["coordinates"]);
                assert!(p.exterior().0.len() >= 4, "{f}");
                assert!(aoi.contains(&p), "outside the AOI: {f}");
            }
            "LineString" => {
                let line: LineString<f64> = g["coordinates"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| Coord { x: c[0].as_f64().unwrap(), y: c[1].as_f64().unwrap() })
                    .collect::<Vec<_>>()
                    .into();
                assert!(aoi.contains(&line), "outside the AOI: {f}");
            }
            other => panic!("unexpected geometry {other}: {f}"),
        }
    }
}

async fn result(sb: &Sandbox, id: &str, query: &str) -> (StatusCode, Vec<u8>) {
    let r = req(sb, Method::GET, &format!("/processings/{id}/result{query}")).send().await.unwrap();
    (r.status(), r.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn create_runs_to_ok_and_charges_exactly_the_estimate() {
    let sb = start();
    let project = default_project(&sb).await;
    let body = request(&project, "Downtown", seed::BUILDINGS, square(37.62, 55.75, 1000.0), json!(18));
    let (before_credits, before_area) = credits(&sb).await;

    // The estimate is a bare integer.
    let r = req(&sb, Method::POST, "/processing/cost/v2").json(&body).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let text = r.text().await.unwrap();
    let estimate: Value = serde_json::from_str(&text).unwrap();
    assert!(estimate.is_i64(), "a bare whole number: {text}");
    let estimate = estimate.as_i64().unwrap();
    // 1 km² × (Buildings with every block: 10 + Mapbox at zoom 18: 1) = 11.
    assert!((10..=12).contains(&estimate), "{estimate}");

    let created = create(&sb, body).await;
    assert_eq!(created["status"], "UNPROCESSED", "{created}");
    assert_eq!(created["percentCompleted"], 0);
    assert_eq!(created["cost"], estimate);
    let area = created["area"].as_i64().unwrap();
    assert!((990_000..=1_010_000).contains(&area), "{area}");
    assert_eq!(credits(&sb).await, (before_credits - estimate, before_area + area));

    // UNPROCESSED, then IN_PROGRESS with a rising percentage, then OK.
    let id = created["id"].as_str().unwrap().to_owned();
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let p = get(&sb, &format!("/processings/{id}/v2")).await;
        let status = p["status"].as_str().unwrap().to_owned();
        let percent = p["percentCompleted"].as_i64().unwrap();
        if seen.last() != Some(&(status.clone(), percent)) {
            seen.push((status.clone(), percent));
        }
        if status == "OK" {
            break;
        }
        assert!(Instant::now() < deadline, "never finished: {seen:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let percents: Vec<i64> = seen.iter().map(|s| s.1).collect();
    assert!(percents.windows(2).all(|w| w[0] <= w[1]), "percent never falls: {seen:?}");
    assert!(seen.iter().any(|s| s.0 == "IN_PROGRESS" && s.1 > 0 && s.1 < 100), "{seen:?}");
    assert_eq!(seen.last().unwrap(), &("OK".to_owned(), 100));
    let order = |s: &str| ["UNPROCESSED", "IN_PROGRESS", "OK"].iter().position(|x| *x == s).unwrap();
    assert!(seen.windows(2).all(|w| order(&w[0].0) <= order(&w[1].0)), "{seen:?}");
    // Finishing charges nothing more.
    assert_eq!(credits(&sb).await.0, before_credits - estimate);

    // The imagery layer: tiles and TileJSON, both without auth.
    let done = get(&sb, &format!("/processings/{id}/v2")).await;
    let layer = &done["rasterLayer"];
    let tile_url = layer["tileUrl"].as_str().unwrap();
    assert!(tile_url.starts_with(&format!("{}/sandbox/tiles/", sb.base_url())), "{tile_url}");
    assert!(tile_url.ends_with("/{z}/{x}/{y}.png"), "{tile_url}");
    assert!(layer["id"].is_string());
    let plain = reqwest::Client::new();
    let tile = plain.get(tile_url.replace("{z}/{x}/{y}", "16/39613/20483")).send().await.unwrap();
    assert_eq!(tile.status(), StatusCode::OK);
    assert_eq!(tile.headers()["content-type"], "image/png");
    let tile_json: Value =
        plain.get(layer["tileJsonUrl"].as_str().unwrap()).send().await.unwrap().json().await.unwrap();
    assert_eq!(tile_json["tilejson"], "2.2.0");
    assert_eq!(tile_json["tiles"][0], tile_url);
    assert_eq!(tile_json["minzoom"], 0);
    assert_eq!(tile_json["maxzoom"], 18);
    let ring = square_ring(37.62, 55.75, 1000.0);
    let bounds: Vec<f64> = tile_json["bounds"].as_array().unwrap().iter().map(|b| b.as_f64().unwrap()).collect();
    let expected = [ring[0][0], ring[0][1], ring[2][0], ring[2][1]];
    for (b, e) in bounds.iter().zip(expected) {
        assert!((b - e).abs() < 1e-9, "{bounds:?} vs {expected:?}");
    }
    let missing = plain.get(format!("{}/sandbox/tilejson/nope.json", sb.base_url())).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn every_documented_key_is_present() {
    let sb = start();
    let project = default_project(&sb).await;
    let mut body = request(&project, "Keys", seed::BUILDINGS, square(37.62, 55.75, 600.0), json!("18"));
    body["blocks"] = json!([{"name": "Heights", "enabled": false}, {"name": "Classification", "enabled": true}]);
    let created = create(&sb, body.clone()).await;
    let id = created["id"].as_str().unwrap().to_owned();
    let done = wait_for(&sb, &id, "OK").await;
    for p in [&created, &done] {
        let keys = [
            "id",
            "name",
            "description",
            "projectId",
            "status",
            "percentCompleted",
            "aoiCount",
            "aoiArea",
            "area",
            "cost",
            "workflowDef",
            "params",
            "blocks",
            "meta",
            "messages",
            "rasterLayer",
            "vectorLayer",
            "reviewStatus",
            "rating",
            "created",
            "updated",
        ];
        let map = p.as_object().unwrap();
        for key in keys {
            assert!(map.contains_key(key), "no `{key}`: {p}");
        }
        for key in ["aoiCount", "aoiArea", "area", "cost", "percentCompleted"] {
            assert!(p[key].is_i64(), "`{key}` is an integer: {p}");
        }
        for key in ["description", "vectorLayer", "reviewStatus", "rating"] {
            assert!(p[key].is_null(), "`{key}` is null: {p}");
        }
        assert_eq!(p["projectId"], project.as_str());
        assert_eq!(p["aoiCount"], 1);
        assert_eq!(p["workflowDef"]["name"], seed::BUILDINGS);
        assert_eq!(p["workflowDef"]["id"], seed::BUILDINGS_ID);
        assert_eq!(p["params"]["sourceParams"], body["params"]["sourceParams"], "params are echoed as sent");
        assert!(p["params"]["inferenceParams"].is_null(), "and every documented key is there: {p}");
        assert_eq!(p["meta"], body["meta"]);
        assert_eq!(p["messages"], json!([]));
        assert_iso_micros(&p["created"]);
        assert_iso_micros(&p["updated"]);
        let blocks = p["blocks"].as_array().unwrap();
        assert_eq!(blocks.len(), 5, "every block of the model: {p}");
        for b in blocks {
            assert!(b["name"].is_string() && b["enabled"].is_boolean() && b["displayName"].is_string(), "{b}");
        }
        let enabled = |name: &str| blocks.iter().find(|b| b["name"] == name).unwrap()["enabled"].clone();
        assert_eq!(enabled("Segmentation"), true);
        assert_eq!(enabled("Heights"), false);
        assert_eq!(enabled("Classification"), true);
        assert_eq!(enabled("OSM"), true, "optional blocks not listed are on");
    }
    assert!(created["rasterLayer"].is_null(), "no imagery before the run starts: {created}");
    assert!(done["rasterLayer"]["tileJsonUrl"].is_string());
    assert!(done["updated"].as_str() > created["updated"].as_str());

    // Heights off: no building_height; Classification on: class_id.
    let (status, bytes) = result(&sb, &id, "").await;
    assert_eq!(status, StatusCode::OK);
    let fc: Value = serde_json::from_slice(&bytes).unwrap();
    let props = &fc["features"][0]["properties"];
    assert!(props["class_id"].is_i64() && props.get("building_height").is_none(), "{props}");
}

#[tokio::test]
async fn building_results_are_dense_deterministic_and_inside() {
    let sb = start();
    let project = default_project(&sb).await;
    let geometry = square(37.62, 55.75, 1000.0);
    let aoi = polygon_of(&geometry["coordinates"]);
    let created = create(&sb, request(&project, "City", seed::BUILDINGS, geometry, json!(18))).await;
    let id = created["id"].as_str().unwrap().to_owned();

    // No result before OK.
    let (status, bytes) = result(&sb, &id, "").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_api_error(&serde_json::from_slice(&bytes).unwrap(), "BAD_REQUEST");

    wait_for(&sb, &id, "OK").await;
    let (status, first) = result(&sb, &id, "").await;
    assert_eq!(status, StatusCode::OK);
    let fc: Value = serde_json::from_slice(&first).unwrap();
    let features = fc["features"].as_array().unwrap();
    assert!(features.len() >= 2000, "thousands of buildings in 1 km², got {}", features.len());
    assert_inside(&fc, &aoi);
    let mut classes = std::collections::BTreeMap::new();
    for f in features {
        let class = f["properties"]["class_id"].as_i64().unwrap();
        assert!((101..=105).contains(&class), "{f}");
        *classes.entry(class).or_insert(0) += 1;
        let height = f["properties"]["building_height"].as_f64().unwrap();
        assert!(height > 1.0 && height < 100.0, "{f}");
    }
    let residential = classes[&101];
    assert!(classes.values().all(|&n| n <= residential), "residential is the most common: {classes:?}");
    let ids: std::collections::HashSet<i64> = features.iter().map(|f| f["id"].as_i64().unwrap()).collect();
    assert_eq!(ids.len(), features.len(), "ids are unique");

    // Building sides between 8 and 40 m (measured in metres; an L's inner sides are shorter).
    let (kx, ky) = (111_412.84 * 55.75f64.to_radians().cos(), 111_250.0);
    for f in features {
        let ring = f["geometry"]["coordinates"][0].as_array().unwrap();
        let pts: Vec<(f64, f64)> =
            ring.iter().map(|c| (c[0].as_f64().unwrap() * kx, c[1].as_f64().unwrap() * ky)).collect();
        let sides: Vec<f64> = pts.windows(2).map(|w| (w[1].0 - w[0].0).hypot(w[1].1 - w[0].1)).collect();
        let longest = sides.iter().copied().fold(0.0, f64::max);
        let shortest = sides.iter().copied().fold(f64::MAX, f64::min);
        assert!(longest <= 40.5, "{longest} m: {f}");
        if sides.len() == 4 {
            assert!(shortest >= 7.9, "{shortest} m: {f}");
        }
    }

    // The same bytes every time, and for its only AOI alone.
    let (_, second) = result(&sb, &id, "").await;
    assert!(first == second, "the result changed between calls");
    let aois = get(&sb, &format!("/processings/{id}/aois")).await;
    let aoi_id = aois[0]["id"].as_str().unwrap();
    let (status, alone) = result(&sb, &id, &format!("?aoiId={aoi_id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(alone == first);
    let (status, body) = result(&sb, &id, "?aoiId=nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_api_error(&serde_json::from_slice(&body).unwrap(), "NOT_FOUND");
    let (status, _) = result(&sb, "no-such-processing", "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn other_models_and_several_aois() {
    let sb = start();
    let project = default_project(&sb).await;
    // Two polygons: two AOIs.
    // Big enough that construction sites (a few blocks in a hundred) are always among them.
    let (a, b) = (square_ring(30.28, 59.93, 1500.0), square_ring(30.32, 59.93, 1000.0));
    let geometry = json!({"type": "MultiPolygon", "coordinates": [[a], [b]]});
    let polygons = [polygon_of(&json!([a])), polygon_of(&json!([b]))];
    let mut ids = Vec::new();
    for model in [seed::FOREST, seed::ROADS, seed::CONSTRUCTION] {
        let p = create(&sb, request(&project, model, model, geometry.clone(), json!(18))).await;
        assert_eq!(p["aoiCount"], 2);
        ids.push(p["id"].as_str().unwrap().to_owned());
    }
    let union = geo::MultiPolygon::new(polygons.to_vec());
    for (model, id) in [seed::FOREST, seed::ROADS, seed::CONSTRUCTION].into_iter().zip(&ids) {
        wait_for(&sb, id, "OK").await;
        let (status, bytes) = result(&sb, id, "").await;
        assert_eq!(status, StatusCode::OK);
        let fc: Value = serde_json::from_slice(&bytes).unwrap();
        let features = fc["features"].as_array().unwrap();
        assert!(!features.is_empty(), "{model} found nothing");
        for f in features {
            let g = polygon_or_line_inside(&f["geometry"], &union);
            assert!(g, "{model}: outside both AOIs: {f}");
            let props = &f["properties"];
            match model {
                seed::FOREST => {
                    assert!(["crown", "forest"].contains(&props["object_type"].as_str().unwrap()), "{f}");
                    assert!(["00m-04m", "04m-10m", "10m-99m"].contains(&props["class_id"].as_str().unwrap()), "{f}");
                    assert!(props["max_height"].as_f64().unwrap() > 0.0, "{f}");
                }
                seed::ROADS => {
                    assert_eq!(f["geometry"]["type"], "LineString");
                    assert_eq!(props["object_type"], "roads");
                    assert!(props["width"].as_f64().unwrap() >= 5.0, "{f}");
                }
                _ => {
                    assert_eq!(f["geometry"]["type"], "Polygon");
                    assert_eq!(props["object_type"], "construction");
                }
            }
        }
        // Each AOI alone: its features lie in its polygon, and together they are the whole.
        let aois = get(&sb, &format!("/processings/{id}/aois")).await;
        let aois = aois.as_array().unwrap();
        assert_eq!(aois.len(), 2);
        let mut parts = 0;
        for (aoi, polygon) in aois.iter().zip(&polygons) {
            assert_eq!(aoi["status"], "OK");
            assert_eq!(aoi["percentCompleted"], 100);
            assert!(aoi["area"].is_i64());
            assert_eq!(aoi["messages"], json!([]));
            assert_eq!(aoi["geometry"]["type"], "Polygon");
            let (_, bytes) = result(&sb, id, &format!("?aoiId={}", aoi["id"].as_str().unwrap())).await;
            let part: Value = serde_json::from_slice(&bytes).unwrap();
            let single = geo::MultiPolygon::new(vec![polygon.clone()]);
            for f in part["features"].as_array().unwrap() {
                assert!(polygon_or_line_inside(&f["geometry"], &single), "{model}: {f}");
            }
            parts += part["features"].as_array().unwrap().len();
        }
        assert_eq!(parts, features.len());
    }
}

fn polygon_or_line_inside(g: &Value, area: &geo::MultiPolygon<f64>) -> bool {
    if g["type"] == "Polygon" {
        area.contains(&polygon_of(&g["coordinates"]))
    } else {
        let line: LineString<f64> = g["coordinates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| Coord { x: c[0].as_f64().unwrap(), y: c[1].as_f64().unwrap() })
            .collect::<Vec<_>>()
            .into();
        area.contains(&line)
    }
}

#[tokio::test]
async fn requests_are_checked_like_the_real_service() {
    let sb = start();
    let seeded = all_ids(&sb).await;
    assert_eq!(seeded.len(), 5, "the demo project's processings");
    let project = default_project(&sb).await;
    let good = request(&project, "Check", seed::BUILDINGS, square(37.62, 55.75, 800.0), json!(18));
    let before = credits(&sb).await;

    let expect = |code: &'static str, status: StatusCode| {
        move |(s, body): (StatusCode, Value)| {
            assert_eq!(s, status, "{body}");
            assert_api_error(&body, code);
            body
        }
    };
    let bad = expect("BAD_REQUEST", StatusCode::BAD_REQUEST);
    for key in ["name", "projectId", "geometry"] {
        let mut body = good.clone();
        body.as_object_mut().unwrap().remove(key);
        bad(post(&sb, "/processings/v2", body).await);
    }
    let mut body = good.clone();
    body.as_object_mut().unwrap().remove("wdName");
    bad(post(&sb, "/processings/v2", body).await);
    let mut body = good.clone();
    body["name"] = json!("   ");
    bad(post(&sb, "/processings/v2", body).await);
    bad(call(&sb, Method::POST, "/processings/v2", Some(json!([1, 2]))).await);

    // Geometry: not a polygon, self-intersecting, out of range.
    let invalid = expect("geometry.Invalid", StatusCode::BAD_REQUEST);
    for geometry in [
        json!({"type": "Point", "coordinates": [37.6, 55.7]}),
        json!({"type": "Polygon", "coordinates": [[[37.60, 55.70], [37.61, 55.71], [37.61, 55.70], [37.60, 55.71], [37.60, 55.70]]]}),
        json!({"type": "Polygon", "coordinates": [[[200.0, 55.70], [201.0, 55.70], [201.0, 55.71], [200.0, 55.70]]]}),
        json!({"type": "Polygon", "coordinates": "nonsense"}),
    ] {
        let mut body = good.clone();
        body["geometry"] = geometry;
        invalid(post(&sb, "/processings/v2", body).await);
    }

    // Unknown project: 404; unknown model or provider: 400.
    let mut body = good.clone();
    body["projectId"] = json!("7d3c1a2b-0000-4000-8000-000000000000");
    expect("NOT_FOUND", StatusCode::NOT_FOUND)(post(&sb, "/processings/v2", body).await);
    let mut body = good.clone();
    body["wdName"] = json!("🛸 Flying saucers");
    bad(post(&sb, "/processings/v2", body).await);
    let mut body = good.clone();
    body.as_object_mut().unwrap().remove("wdName");
    body["wdId"] = json!("00000000-0000-4000-8000-000000000000");
    bad(post(&sb, "/processings/v2", body).await);
    let mut body = good.clone();
    body["params"]["sourceParams"]["dataProvider"]["providerName"] = json!("NoSuchProvider");
    bad(post(&sb, "/processings/v2", body).await);
    let mut body = good.clone();
    body["params"] = json!({"sourceParams": {"myImagery": {}}});
    bad(post(&sb, "/processings/v2", body).await);

    // More polygons than allowed.
    let many: Vec<Value> = (0..11).map(|k| json!([square_ring(37.0 + f64::from(k) * 0.02, 55.0, 400.0)])).collect();
    let mut body = good.clone();
    body["geometry"] = json!({"type": "MultiPolygon", "coordinates": many});
    let body = bad(post(&sb, "/processings/v2", body).await);
    assert!(body["message"].as_str().unwrap().contains("11"), "{body}");

    // Larger than aoiAreaLimit (100 km²).
    let mut body = good.clone();
    body["geometry"] = square(37.62, 55.75, 11_000.0);
    let body = expect("TOO_LARGE_PROCESSING", StatusCode::BAD_REQUEST)(post(&sb, "/processings/v2", body).await);
    assert_eq!(body["params"]["aoiAreaLimit"], seed::AOI_AREA_LIMIT.to_string());
    let area: i64 = body["params"]["area"].as_str().unwrap().parse().unwrap();
    assert!((120_000_000..122_000_000).contains(&area), "{area}");

    // Smaller than the provider's minimum (ArcGIS: 1 km²).
    let mut body = good.clone();
    body["geometry"] = square(37.62, 55.75, 700.0);
    body["params"]["sourceParams"]["dataProvider"]["providerName"] = json!(seed::ARCGIS);
    let body = expect("ProviderMinAreaError", StatusCode::BAD_REQUEST)(post(&sb, "/processings/v2", body).await);
    assert_eq!(body["params"]["providerName"], seed::ARCGIS);
    assert_eq!(body["params"]["providerMinArea"], "1.00");
    assert_eq!(body["params"]["aoiArea"], "0.49");

    // Nothing was charged or created by any of these.
    assert_eq!(credits(&sb).await, before);
    assert_eq!(all_ids(&sb).await, seeded);

    // The estimate makes the same checks, but needs no name and takes areaSqKm.
    let mut body = good.clone();
    body.as_object_mut().unwrap().remove("name");
    let (status, cost) = post(&sb, "/processing/cost/v2", body).await;
    assert_eq!(status, StatusCode::OK);
    assert!(cost.is_i64());
    let by_area = json!({"wdId": seed::BUILDINGS_ID, "areaSqKm": 1.5,
        "params": {"sourceParams": {"dataProvider": {"providerName": seed::MAPBOX}}}});
    let (status, cost) = post(&sb, "/processing/cost/v2", by_area.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(cost, json!(17), "1.5 km² × (10 + 1 at Mapbox's best zoom) = 16.5, rounded up");
    let mut blocks_off = by_area.clone();
    blocks_off["blocks"] = json!([{"name": "Classification", "enabled": false}, {"name": "Heights", "enabled": false}]);
    let (_, cost) = post(&sb, "/processing/cost/v2", blocks_off).await;
    assert_eq!(cost, json!(9), "1.5 × (5 + 1)");
    let mut too_large = by_area.clone();
    too_large["areaSqKm"] = json!(150);
    expect("TOO_LARGE_PROCESSING", StatusCode::BAD_REQUEST)(post(&sb, "/processing/cost/v2", too_large).await);
    let mut too_small = by_area.clone();
    too_small["areaSqKm"] = json!(0.05);
    expect("ProviderMinAreaError", StatusCode::BAD_REQUEST)(post(&sb, "/processing/cost/v2", too_small).await);
    bad(post(&sb, "/processing/cost/v2", json!({"wdId": seed::BUILDINGS_ID})).await);
}

#[tokio::test]
async fn credits_run_out() {
    let sb = start();
    let project = default_project(&sb).await;
    // 99 km² at 12 credits a km² (Buildings 10 + ArcGIS at zoom 19: 2) = 1188 each.
    let mut body = request(&project, "Big", seed::BUILDINGS, square(37.62, 55.75, 9_950.0), json!(19));
    body["params"]["sourceParams"]["dataProvider"]["providerName"] = json!(seed::ARCGIS);
    let (status, cost) = post(&sb, "/processing/cost/v2", body.clone()).await;
    assert_eq!(status, StatusCode::OK);
    let cost = cost.as_i64().unwrap();
    let mut runs = 0;
    loop {
        let (remaining, _) = credits(&sb).await;
        let (status, answer) = post(&sb, "/processings/v2", body.clone()).await;
        if remaining < cost {
            assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
            assert_api_error(&answer, "BAD_REQUEST");
            assert!(answer["message"].as_str().unwrap().contains("credits"), "{answer}");
            assert_eq!(answer["params"]["remainingCredits"], remaining.to_string());
            assert_eq!(credits(&sb).await.0, remaining, "a refused create charges nothing");
            break;
        }
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert_eq!(credits(&sb).await.0, remaining - cost);
        runs += 1;
        assert!(runs < 10);
    }
    assert_eq!(runs, seed::INITIAL_CREDITS / cost);
}

#[tokio::test]
async fn too_low_zoom_fails_is_refunded_and_can_be_restarted() {
    let sb = start();
    let project = default_project(&sb).await;
    let (credits_before, area_before) = credits(&sb).await;
    let created =
        create(&sb, request(&project, "Blurry", seed::BUILDINGS, square(37.62, 55.75, 600.0), json!("15"))).await;
    let id = created["id"].as_str().unwrap().to_owned();
    let cost = created["cost"].as_i64().unwrap();
    assert!(cost > 0);
    assert_eq!(created["messages"], json!([]));
    assert_eq!(credits(&sb).await.0, credits_before - cost);

    let failed = wait_for(&sb, &id, "FAILED").await;
    assert_eq!(
        failed["messages"],
        json!([{"code": "source-validator.TooLowZoom",
                "parameters": {"actual_zoom": "15", "min_zoom": "17", "level": "error"}}])
    );
    assert!(failed["rasterLayer"].is_null());
    assert_eq!(credits(&sb).await, (credits_before, area_before), "a failed run is refunded");
    let aois = get(&sb, &format!("/processings/{id}/aois")).await;
    assert_eq!(aois[0]["status"], "FAILED");
    assert_eq!(aois[0]["messages"], failed["messages"]);
    let (status, body) = result(&sb, &id, "").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_api_error(&serde_json::from_slice(&body).unwrap(), "BAD_REQUEST");
    let counts = get(&sb, &format!("/projects/{project}")).await["processingCounts"].clone();
    assert_eq!(counts["failed"], 1, "{counts}");

    // A restart runs (and pays) again, and fails again the same way.
    for path in ["restart/v2", "restart"] {
        let (status, restarted) = post(&sb, &format!("/processings/{id}/{path}"), json!({})).await;
        assert_eq!(status, StatusCode::OK, "{restarted}");
        assert_ne!(restarted["status"], "FAILED");
        assert_eq!(restarted["messages"], json!([]));
        assert_eq!(credits(&sb).await.0, credits_before - cost);
        let (status, body) = post(&sb, &format!("/processings/{id}/restart/v2"), json!({})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "only FAILED restarts: {body}");
        assert_api_error(&body, "BAD_REQUEST");
        let again = wait_for(&sb, &id, "FAILED").await;
        assert_eq!(again["messages"], failed["messages"]);
        assert_eq!(credits(&sb).await.0, credits_before);
    }

    // The aerial model wants zoom 19; a missing zoom means the provider's best (Mapbox: 18).
    let mut aerial = request(&project, "Aerial", seed::BUILDINGS_AERIAL, square(37.62, 55.75, 600.0), json!(null));
    aerial["params"]["sourceParams"]["dataProvider"].as_object_mut().unwrap().remove("zoom");
    let aerial = create(&sb, aerial).await;
    let failed = wait_for(&sb, aerial["id"].as_str().unwrap(), "FAILED").await;
    assert_eq!(failed["messages"][0]["parameters"]["actual_zoom"], "18");
    assert_eq!(failed["messages"][0]["parameters"]["min_zoom"], "19");

    // A zoom that is not a whole number fails the run too.
    let odd = create(&sb, request(&project, "Odd", seed::FOREST, square(37.62, 55.75, 600.0), json!("18.5"))).await;
    let failed = wait_for(&sb, odd["id"].as_str().unwrap(), "FAILED").await;
    assert_eq!(failed["messages"][0]["code"], "source-validator.ZoomMustBeInteger");

    // An OK processing cannot be restarted.
    let ok = create(&sb, request(&project, "Fine", seed::ROADS, square(37.62, 55.75, 600.0), json!(17))).await;
    let ok_id = ok["id"].as_str().unwrap();
    wait_for(&sb, ok_id, "OK").await;
    let (status, _) = post(&sb, &format!("/processings/{ok_id}/restart/v2"), json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = post(&sb, "/processings/nope/restart/v2", json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn rename_move_delete_and_project_counts() {
    let sb = start();
    let seeded = all_ids(&sb).await;
    let default = default_project(&sb).await;
    let (_, other) = post(&sb, "/projects", json!({"name": "Elsewhere"})).await;
    let other = other["id"].as_str().unwrap().to_owned();
    let p = create(&sb, request(&default, "First", seed::BUILDINGS, square(37.62, 55.75, 500.0), json!(18))).await;
    let id = p["id"].as_str().unwrap().to_owned();
    let counts = get(&sb, &format!("/projects/{default}")).await["processingCounts"].clone();
    assert_eq!(counts["total"], 1, "{counts}");
    assert_eq!(counts["unprocessed"].as_i64().unwrap() + counts["inProgress"].as_i64().unwrap(), 1, "{counts}");

    // Rename (v2).
    let (status, renamed) = call(
        &sb,
        Method::PUT,
        &format!("/processings/{id}/v2"),
        Some(json!({"name": "Renamed", "description": "Notes"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{renamed}");
    assert_eq!(renamed["name"], "Renamed");
    assert_eq!(renamed["description"], "Notes");
    let (status, body) = call(&sb, Method::PUT, &format!("/processings/{id}/v2"), Some(json!({"name": " "}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_api_error(&body, "BAD_REQUEST");

    // Move (v1 PUT), to an existing project only.
    let (status, body) =
        call(&sb, Method::PUT, &format!("/processings/{id}"), Some(json!({"projectId": "no-such-project"}))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_api_error(&body, "NOT_FOUND");
    let (status, moved) =
        call(&sb, Method::PUT, &format!("/processings/{id}"), Some(json!({"projectId": other}))).await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    assert_eq!(moved["projectId"], other.as_str());
    assert_eq!(moved["name"], "Renamed", "a move keeps the name");
    assert_eq!(get(&sb, &format!("/projects/{default}/processings/v2")).await, json!([]));
    let listed = get(&sb, &format!("/projects/{other}/processings/v2")).await;
    assert_eq!(listed[0]["id"], id.as_str());
    wait_for(&sb, &id, "OK").await;
    let counts = get(&sb, &format!("/projects/{other}")).await["processingCounts"].clone();
    assert_eq!(counts, json!({"succeeded": 1, "failed": 0, "inProgress": 0, "unprocessed": 0, "total": 1}));
    assert_eq!(get(&sb, &format!("/projects/{default}")).await["processingCounts"]["total"], 0);

    // Delete.
    let (status, _) = call(&sb, Method::DELETE, &format!("/processings/{id}"), None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = call(&sb, Method::GET, &format!("/processings/{id}/v2"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_api_error(&body, "NOT_FOUND");
    let (status, _) = call(&sb, Method::DELETE, &format!("/processings/{id}"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Deleting a project deletes its processings.
    let q = create(&sb, request(&other, "Second", seed::FOREST, square(37.62, 55.75, 500.0), json!(18))).await;
    let q_id = q["id"].as_str().unwrap().to_owned();
    let (status, _) = call(&sb, Method::DELETE, &format!("/projects/{other}"), None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call(&sb, Method::GET, &format!("/processings/{q_id}/v2"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(all_ids(&sb).await, seeded);
    let (status, _) = call(&sb, Method::GET, &format!("/projects/{other}/processings/v2"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn rating_only_when_ok() {
    let sb = start();
    let project = default_project(&sb).await;
    let p = create(&sb, request(&project, "Rate me", seed::ROADS, square(37.62, 55.75, 500.0), json!(18))).await;
    let id = p["id"].as_str().unwrap().to_owned();
    let path = format!("/processings/{id}/rate");
    let rate = |body: Value| call(&sb, Method::PUT, &path, Some(body));
    let (status, body) = rate(json!({"rating": 5, "feedback": "early"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "not OK yet: {body}");
    assert_api_error(&body, "BAD_REQUEST");
    wait_for(&sb, &id, "OK").await;
    for wrong in [json!({"rating": 0}), json!({"rating": 6, "feedback": "x"}), json!({"feedback": "no rating"})] {
        let (status, body) = rate(wrong).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_api_error(&body, "BAD_REQUEST");
    }
    let (status, body) = rate(json!({"rating": 4, "feedback": "Roads look right"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let p = get(&sb, &format!("/processings/{id}/v2")).await;
    assert_eq!(p["rating"], json!({"rating": 4, "feedback": "Roads look right"}));
}

#[tokio::test]
async fn project_page_filters_sorts_and_pages() {
    let sb = start();
    let seeded = all_ids(&sb).await.len();
    let (_, project) = post(&sb, "/projects", json!({"name": "Paging"})).await;
    let project = project["id"].as_str().unwrap().to_owned();
    let sizes = [("Alpha roads", 500.0), ("beta", 900.0), ("Gamma", 700.0), ("alpha two", 600.0)];
    for (name, side) in sizes {
        create(&sb, request(&project, name, seed::BUILDINGS, square(37.62, 55.75, side), json!(18))).await;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let path = format!("/projects/{project}/processings/v2/page");
    let page = |body: Value| post(&sb, &path, body);
    let names = |p: &Value| -> Vec<String> {
        p["results"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap().to_owned()).collect()
    };

    let (status, all) = page(json!({"limit": 10, "offset": 0})).await;
    assert_eq!(status, StatusCode::OK, "{all}");
    assert_eq!(all["total"], 4);
    assert_eq!(all["count"], 4);
    assert_eq!(names(&all), ["alpha two", "Gamma", "beta", "Alpha roads"], "newest first by default");

    let (_, alpha) =
        page(json!({"limit": 10, "offset": 0, "terms": "ALPHA", "sortBy": "NAME", "sortOrder": "ASC"})).await;
    assert_eq!(alpha["total"], 2);
    assert_eq!(names(&alpha), ["Alpha roads", "alpha two"]);

    let (_, by_area) = page(json!({"limit": 2, "offset": 1, "sortBy": "AREA", "sortOrder": "DESC"})).await;
    assert_eq!(by_area["total"], 4);
    assert_eq!(by_area["count"], 2);
    assert_eq!(names(&by_area), ["Gamma", "alpha two"]);

    let (_, by_cost) =
        page(json!({"limit": 10, "offset": 0, "sortBy": "cost", "sortOrder": "asc", "terms": null})).await;
    let costs: Vec<i64> = by_cost["results"].as_array().unwrap().iter().map(|r| r["cost"].as_i64().unwrap()).collect();
    assert!(costs.windows(2).all(|w| w[0] <= w[1]), "{costs:?}");
    for sort in ["CREATED", "UPDATED", "STATUS"] {
        let (status, p) = page(json!({"limit": 10, "offset": 0, "sortBy": sort})).await;
        assert_eq!(status, StatusCode::OK, "{sort}: {p}");
        assert_eq!(p["total"], 4);
    }

    let (status, body) = page(json!({"limit": 10, "offset": 0, "sortBy": "SIZE"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_api_error(&body, "BAD_REQUEST");
    let (status, body) = page(json!({"limit": -1, "offset": 0})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = post(&sb, "/projects/nope/processings/v2/page", json!({"limit": 10, "offset": 0})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_api_error(&body, "NOT_FOUND");

    let listed = get(&sb, &format!("/projects/{project}/processings/v2")).await;
    assert_eq!(listed.as_array().unwrap().len(), 4);
    assert_eq!(get(&sb, "/processings/v2").await.as_array().unwrap().len(), 4 + seeded);
}

#[tokio::test]
async fn history_as_json_and_csv() {
    let sb = start();
    let project = default_project(&sb).await;
    let first = create(
        &sb,
        request(&project, "First, quoted \"one\"", seed::BUILDINGS, square(37.62, 55.75, 500.0), json!(18)),
    )
    .await;
    wait_for(&sb, first["id"].as_str().unwrap(), "OK").await;
    let second = create(&sb, request(&project, "Second", seed::FOREST, square(37.62, 55.75, 500.0), json!(18))).await;

    // The account's whole history holds the demo project's runs too, older than these.
    let (status, all) =
        post(&sb, "/processings/stats?type=JSON", json!({"page": 1, "perPage": 10, "sort": "created:desc"})).await;
    assert_eq!(status, StatusCode::OK, "{all}");
    assert_eq!(all["total"], 2 + 5);
    assert_eq!(all["results"][2]["projectName"], "Demo: Almaty");
    let mine = format!("projectId={project}");
    let (status, all) = post(
        &sb,
        "/processings/stats?type=JSON",
        json!({"page": 1, "perPage": 10, "sort": "created:desc", "filter": mine}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{all}");
    assert_eq!(all["total"], 2);
    let rows = all["results"].as_array().unwrap();
    assert_eq!(rows[0]["id"], second["id"]);
    assert_eq!(rows[1]["id"], first["id"]);
    assert_eq!(rows[1]["status"], "OK");
    assert_eq!(rows[1]["model"], seed::BUILDINGS);
    assert_eq!(rows[1]["source"], seed::MAPBOX);
    assert_eq!(rows[1]["projectName"], "Default project");
    assert_eq!(rows[1]["cost"], first["cost"]);
    assert_eq!(rows[1]["area"], first["area"]);

    let filter = format!("status=OK&{mine}");
    let (_, ok) = post(&sb, "/processings/stats", json!({"page": 1, "perPage": 10, "filter": filter})).await;
    assert_eq!(ok["total"], 1);
    assert_eq!(ok["results"][0]["id"], first["id"]);
    let (_, paged) = post(
        &sb,
        "/processings/stats?type=json",
        json!({"page": 2, "perPage": 1, "sort": "created:asc", "filter": mine}),
    )
    .await;
    assert_eq!(paged["total"], 2);
    assert_eq!(paged["results"][0]["id"], second["id"]);
    let (status, body) = post(&sb, "/processings/stats", json!({"filter": "colour=red"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_api_error(&body, "BAD_REQUEST");

    let r = req(&sb, Method::POST, "/processings/stats?type=CSV")
        .json(&json!({"page": 1, "perPage": 10, "sort": "created:asc", "filter": mine}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let csv = r.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(lines[0].starts_with("id,name,projectId,"), "{csv}");
    assert!(
        lines[1].starts_with(&format!("{},\"First, quoted \"\"one\"\"\",", first["id"].as_str().unwrap())),
        "{csv}"
    );
    assert!(lines[2].contains(",Second,"), "{csv}");
}

#[tokio::test]
async fn v1_calls_of_the_python_sdk() {
    let sb = start();
    let seeded = all_ids(&sb).await.len();
    let project = default_project(&sb).await;
    let (status, p) = post(
        &sb,
        "/processings",
        json!({
            "name": "SDK run",
            "projectId": project,
            "wdName": seed::BUILDINGS,
            "geometry": square(37.62, 55.75, 500.0),
            "params": {"data_provider": seed::MAPBOX, "zoom": "18"},
        }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{p}");
    let id = p["id"].as_str().unwrap().to_owned();
    assert_eq!(p["status"], "UNPROCESSED");
    assert_eq!(p["params"]["sourceParams"]["dataProvider"]["providerName"], seed::MAPBOX);
    assert!(p["cost"].as_i64().unwrap() > 0);

    // A user tile service, with the model by id and no project (the default one).
    let (status, q) = post(
        &sb,
        "/processings",
        json!({
            "name": "XYZ run",
            "wdId": seed::FOREST_ID,
            "geometry": square(37.62, 55.75, 500.0),
            "params": {"url": "https://tiles.example.com/{z}/{x}/{y}.png", "source_type": "xyz", "zoom": 18},
        }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{q}");
    assert_eq!(q["projectId"], project.as_str());
    assert_eq!(q["params"]["sourceParams"]["userDefined"]["sourceType"], "XYZ");
    assert_eq!(q["params"]["sourceParams"]["userDefined"]["crs"], "epsg:3857");

    let (status, body) = post(
        &sb,
        "/processings",
        json!({"name": "x", "projectId": project, "wdName": seed::BUILDINGS, "geometry": square(37.62, 55.75, 500.0)}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_api_error(&body, "BAD_REQUEST");

    let one = get(&sb, &format!("/processings/{id}")).await;
    assert_eq!(one["id"], id.as_str());
    assert_eq!(one["name"], "SDK run");
    let all = get(&sb, "/processings").await;
    assert_eq!(all.as_array().unwrap().len(), 2 + seeded);
    let listed = get(&sb, &format!("/projects/{project}/processings")).await;
    assert_eq!(listed.as_array().unwrap().len(), 2);
    let done = wait_for(&sb, &id, "OK").await;
    assert_eq!(done["percentCompleted"], 100);
    let (status, _) = result(&sb, &id, "").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn processings_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (finished, running, failing, result_before, credits_before);
    {
        let sb = start_in(dir.path());
        let project = default_project(&sb).await;
        let ok = create(&sb, request(&project, "Done", seed::BUILDINGS, square(37.62, 55.75, 500.0), json!(18))).await;
        finished = ok["id"].as_str().unwrap().to_owned();
        wait_for(&sb, &finished, "OK").await;
        result_before = result(&sb, &finished, "").await.1;
        let p = create(&sb, request(&project, "Running", seed::FOREST, square(37.62, 55.75, 500.0), json!(18))).await;
        running = p["id"].as_str().unwrap().to_owned();
        let f = create(&sb, request(&project, "Doomed", seed::ROADS, square(37.62, 55.75, 500.0), json!(14))).await;
        failing = f["id"].as_str().unwrap().to_owned();
        let (status, _) =
            call(&sb, Method::PUT, &format!("/processings/{running}/v2"), Some(json!({"name": "Still running"}))).await;
        assert_eq!(status, StatusCode::OK);
        credits_before = credits(&sb).await;
    }
    let sb = start_in(dir.path());
    let ok = get(&sb, &format!("/processings/{finished}/v2")).await;
    assert_eq!(ok["status"], "OK");
    let (status, after) = result(&sb, &finished, "").await;
    assert_eq!(status, StatusCode::OK);
    assert!(after == result_before, "the same result after a restart");
    let p = wait_for(&sb, &running, "OK").await;
    assert_eq!(p["name"], "Still running");
    // The failing one fails, and is refunded, in the new sandbox.
    let f = wait_for(&sb, &failing, "FAILED").await;
    assert_eq!(f["messages"][0]["code"], "source-validator.TooLowZoom");
    let (credits_after, _) = credits(&sb).await;
    assert_eq!(credits_after, credits_before.0 + f["cost"].as_i64().unwrap());
    assert_eq!(get(&sb, "/processings/v2").await.as_array().unwrap().len(), 3 + 5, "and the demo's five");
}

/// The newest catalog image of `provider` over a 2 km square at (lon, lat) with a pixel
/// size within `resolution` (m), as the catalog answers it.
async fn catalog_image(sb: &Sandbox, provider: &str, lon: f64, lat: f64, resolution: (f64, f64)) -> Value {
    let body = json!({
        "aoi": square(lon, lat, 2000.0),
        "dataProviders": [provider],
        "productTypes": ["IMAGE"],
        "minResolution": resolution.0,
        "maxResolution": resolution.1,
        "limit": 1,
        "sortBy": "ACQUISITION_DATE",
        "sortOrder": "DESC",
    });
    let (status, page) = post(sb, "/catalog/meta", body).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["images"][0].clone()
}

/// A request over a 2 km square at (lon, lat) from `source` (a `sourceParams` value).
fn sourced(project: &str, model: &str, lon: f64, lat: f64, source: Value) -> Value {
    json!({
        "name": "Sourced",
        "projectId": project,
        "wdName": model,
        "geometry": square(lon, lat, 2000.0),
        "params": {"sourceParams": source},
    })
}

#[tokio::test]
async fn source_ids_are_checked_on_create_and_estimate() {
    let sb = start();
    let project = default_project(&sb).await;
    let (lon, lat) = (37.62, 55.75);
    let legion = catalog_image(&sb, seed::LEGION, lon, lat, (0.0, 0.5)).await;
    let sentinel = catalog_image(&sb, seed::SENTINEL_2, lon, lat, (0.0, 20.0)).await;
    let (legion_id, sentinel_id) = (legion["id"].as_str().unwrap(), sentinel["id"].as_str().unwrap());
    let unknown = "3f1b2c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d";
    let bad = [
        json!({"imagerySearch": {"dataProvider": "Legion", "imageIds": ["legion-1-2-999999"]}}),
        json!({"imagerySearch": {"dataProvider": "Legion", "imageIds": [legion_id, "no-such-image"]}}),
        json!({"imagerySearch": {"dataProvider": "Legion", "imageIds": [sentinel_id]}}),
        json!({"imagerySearch": {"dataProvider": "Sentinel-2", "imageIds": [legion_id]}}),
        json!({"myImagery": {"imageIds": [unknown]}}),
        json!({"myImagery": {"mosaicId": unknown}}),
    ];
    let before = credits(&sb).await;
    let listed = get(&sb, "/processings/v2").await.as_array().unwrap().len();
    for source in &bad {
        for path in ["/processings/v2", "/processing/cost/v2", "/processings"] {
            let (status, answer) = post(&sb, path, sourced(&project, "Buildings", lon, lat, source.clone())).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{path} with {source}: {answer}");
            assert_api_error(&answer, "BAD_REQUEST");
            assert!(!answer["params"].as_object().unwrap().is_empty(), "the id is named: {answer}");
        }
    }
    assert_eq!(credits(&sb).await, before, "nothing was charged");
    assert_eq!(get(&sb, "/processings/v2").await.as_array().unwrap().len(), listed, "nothing was created");

    // Ids the catalog and the account have are accepted.
    let mosaics = get(&sb, "/rasters/mosaic").await;
    let mosaic = mosaics[0]["id"].as_str().unwrap().to_owned();
    let image = get(&sb, &format!("/rasters/mosaic/{mosaic}/image")).await[0]["id"].as_str().unwrap().to_owned();
    let good = [
        json!({"imagerySearch": {"dataProvider": "Legion", "imageIds": [legion_id], "zoom": 18}}),
        json!({"myImagery": {"imageIds": [image]}}),
        json!({"myImagery": {"mosaicId": mosaic}}),
    ];
    for source in good {
        let (status, cost) =
            post(&sb, "/processing/cost/v2", sourced(&project, "Buildings", lon, lat, source.clone())).await;
        assert_eq!(status, StatusCode::OK, "{source}: {cost}");
        assert!(cost.as_f64().unwrap() > 0.0, "{cost}");
        let created = create(&sb, sourced(&project, "Buildings", lon, lat, source.clone())).await;
        assert_eq!(created["params"]["sourceParams"], source, "echoed: {created}");
    }
}

#[tokio::test]
async fn coarse_catalog_images_fail_the_pixel_size_check() {
    let sb = start();
    let project = default_project(&sb).await;
    let (lon, lat) = (37.62, 55.75);
    let before = credits(&sb).await;
    let cases =
        [(seed::SENTINEL_2, (5.0, 20.0), "Buildings", "1.2"), (seed::LEGION, (0.4, 0.5), "Buildings (Aerial)", "0.3")];
    for (provider, resolution, model, max_res) in cases {
        let scene = catalog_image(&sb, provider, lon, lat, resolution).await;
        let source = json!({"imagerySearch": {"dataProvider": provider, "imageIds": [scene["id"]]}});
        let created = create(&sb, sourced(&project, model, lon, lat, source)).await;
        let failed = wait_for(&sb, created["id"].as_str().unwrap(), "FAILED").await;
        let message = &failed["messages"][0];
        assert_eq!(message["code"], "source-validator.PixelSizeTooHigh", "{failed}");
        let parameters = message["parameters"].as_object().unwrap();
        assert_eq!(parameters.len(), 3, "{message}");
        assert_eq!(parameters["max_res"], max_res);
        assert_eq!(parameters["level"], "error");
        let actual: f64 = parameters["actual_res"].as_str().unwrap().parse().unwrap();
        assert!((actual - scene["pixelResolution"].as_f64().unwrap()).abs() < 1e-9, "{message} vs {scene}");
    }
    assert_eq!(credits(&sb).await, before, "the failed runs were refunded");

    // A sub-metre scene for the satellite model runs to the end, and its imagery layer
    // shows the scene's preview imagery, not a provider's.
    let scene = catalog_image(&sb, seed::LEGION, lon, lat, (0.0, 0.5)).await;
    let source = json!({"imagerySearch": {"dataProvider": "Legion", "imageIds": [scene["id"]]}});
    let created = create(&sb, sourced(&project, "Buildings", lon, lat, source)).await;
    let done = wait_for(&sb, created["id"].as_str().unwrap(), "OK").await;
    assert!(done["messages"].as_array().unwrap().is_empty(), "{done}");
    let template = done["rasterLayer"]["tileUrl"].as_str().unwrap();
    let z = 14u32;
    let n = f64::from(1u32 << z);
    let x = ((lon + 180.0) / 360.0 * n) as u32;
    let y =
        ((1.0 - (lat.to_radians().tan() + 1.0 / lat.to_radians().cos()).ln() / std::f64::consts::PI) / 2.0 * n) as u32;
    let fetch = |url: String| async move {
        let r = reqwest::get(url).await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        image::load_from_memory(&r.bytes().await.unwrap()).unwrap().to_rgba8()
    };
    let at = |t: &str| t.replace("{z}", &z.to_string()).replace("{x}", &x.to_string()).replace("{y}", &y.to_string());
    let tile = fetch(at(template)).await;
    let preview =
        fetch(format!("{}/xyz/{}/{z}/{x}/{y}.png", sb.preview_base_url(), scene["id"].as_str().unwrap())).await;
    assert_eq!(tile, preview, "the layer shows the scene's preview imagery");
    assert!(tile.pixels().any(|p| p[3] == 255), "the scene covers the AOI's tile");
    let provider = fetch(at(&seed::preview_url(&sb.base_url(), seed::MAPBOX))).await;
    assert_ne!(tile, provider);
    let tile_json: Value =
        reqwest::get(done["rasterLayer"]["tileJsonUrl"].as_str().unwrap()).await.unwrap().json().await.unwrap();
    assert_eq!(tile_json["tiles"][0], template);
}
