//! Planned processings (search templates) over real HTTP: every endpoint with the field
//! names of the API, the search finding new images as time passes, pause and resume,
//! AOIs, seen marks, processings started from a template under their AOI, the area limit,
//! roles, and persistence across a restart.

use sandbox_setup::StrictSandbox;
use testkit::sandbox_setup;

use std::time::{Duration, Instant};

use mapflow_sandbox::{Sandbox, SandboxConfig, seed};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A sandbox whose searches take 0.3 s and whose checks come every 0.4 s.
fn config() -> SandboxConfig {
    SandboxConfig {
        processing_seconds: 1.0,
        template_search_seconds: 0.3,
        template_check_seconds: 0.4,
        ..SandboxConfig::default()
    }
}

async fn call_as(
    sb: &Sandbox,
    token: &mapflow_api::Token,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut r = reqwest::Client::new()
        .request(method, format!("{}{path}", sb.base_url()))
        .header("Authorization", format!("Basic {}", token.expose()));
    if let Some(body) = body {
        r = r.json(&body);
    }
    let r = r.send().await.unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    let value = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() };
    (status, value)
}

async fn call(sb: &Sandbox, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    call_as(sb, sb.token(), method, path, body).await
}

async fn ok(sb: &Sandbox, method: Method, path: &str, body: Option<Value>) -> Value {
    let (status, value) = call(sb, method.clone(), path, body).await;
    assert!(status.is_success(), "{method} {path}: {status} {value}");
    value
}

/// A square of `side` degrees at (lon, lat), as rings.
fn square(lon: f64, lat: f64, side: f64) -> Value {
    json!([[[lon, lat], [lon + side, lat], [lon + side, lat + side], [lon, lat + side], [lon, lat]]])
}

fn polygon(lon: f64, lat: f64, side: f64) -> Value {
    json!({"type": "Polygon", "coordinates": square(lon, lat, side)})
}

/// The create body of the API's text: two named Polygon AOIs over Almaty.
fn create_body(project: &str) -> Value {
    json!({
        "name": "Almaty watch",
        "projectId": project,
        "activeUntil": "2099-01-01T00:00:00Z",
        "searchParams": {
            "maxCloudCover": 60,
            "productTypes": ["IMAGE"],
            "aoiDetails": {"type": "FeatureCollection", "features": [
                {"type": "Feature", "geometry": polygon(76.90, 43.22, 0.03), "properties": {"name": "Centre"}},
                {"type": "Feature", "geometry": polygon(76.95, 43.25, 0.03), "properties": {"name": null}},
            ]}
        },
        "processingParams": {"wdName": seed::BUILDINGS, "params": {"sourceParams": {"dataProvider": {"providerName": "Mapbox", "zoom": 18}}}}
    })
}

async fn default_project(sb: &Sandbox) -> String {
    ok(sb, Method::GET, "/projects/default", None).await["id"].as_str().unwrap().to_owned()
}

/// Reads the template until `until` holds of it (within 10 s).
async fn wait_for(sb: &Sandbox, id: &str, what: &str, until: impl Fn(&Value) -> bool) -> Value {
    let start = Instant::now();
    loop {
        let t = ok(sb, Method::GET, &format!("/processings/template/{id}"), None).await;
        if until(&t["template"]) {
            return t;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "{what}: {:#}", t["template"]);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_planned_search_finds_new_images_as_time_passes_and_lists_them_by_project() {
    let sb = StrictSandbox::start(config());
    let project = default_project(&sb).await;
    let created = ok(&sb, Method::POST, "/processings/template", Some(create_body(&project))).await;
    let t = &created["template"];
    for key in [
        "id",
        "name",
        "status",
        "isActive",
        "isArchived",
        "createdAt",
        "userId",
        "searchParams",
        "processingParams",
        "lastCheckedAt",
        "activeUntil",
        "searchResults",
        "projectId",
        "area",
        "newImagesCount",
    ] {
        assert!(t.get(key).is_some(), "template.{key} missing: {t:#}");
    }
    assert!(created["searchResults"].is_array());
    assert_eq!(t["status"], "SEARCHING");
    assert_eq!(t["isActive"], true);
    assert_eq!(t["projectId"], project.as_str());
    assert_eq!(t["newImagesCount"], 0);
    assert!(t["area"].as_i64().unwrap() > 10_000_000, "m²: {}", t["area"]);
    assert_eq!(t["searchParams"]["maxCloudCover"], 60);
    assert!(t["searchParams"].get("aoi").is_none());
    let features = t["searchParams"]["aoiDetails"]["features"].as_array().unwrap();
    assert_eq!(features.len(), 2);
    assert_eq!(features[0]["geometry"]["type"], "Polygon");
    assert_eq!(features[0]["properties"]["name"], "Centre");
    assert_eq!(features[1]["properties"]["name"], Value::Null);
    for f in features {
        assert!(f["properties"]["id"].is_string());
        assert_eq!(f["properties"]["processings"], json!([]));
        assert_eq!(f["properties"]["hasNewImages"], false);
    }
    let id = t["id"].as_str().unwrap().to_owned();

    // The search ends: CREATED, images found and new.
    let first = wait_for(&sb, &id, "the search ends", |t| t["status"] == "CREATED").await;
    let found = first["searchResults"].as_array().unwrap().len();
    assert!(found > 0, "{first:#}");
    assert_eq!(first["template"]["newImagesCount"], found);
    assert_eq!(first["template"]["lastCheckedAt"], Value::Null);
    let result = &first["searchResults"][0];
    assert!(result["id"].is_string() && result["metadata"]["footprint"].is_object(), "{result:#}");
    assert_eq!(result["metadata"]["id"], result["id"]);
    assert!(result["metadata"]["cloudCover"].as_f64().unwrap() <= 60.0);
    assert!(
        first["template"]["searchParams"]["aoiDetails"]["features"][0]["properties"]["hasNewImages"] == true
            || first["template"]["searchParams"]["aoiDetails"]["features"][1]["properties"]["hasNewImages"] == true
    );

    // A check finds more: UPDATED, lastCheckedAt set, the count up.
    let later = wait_for(&sb, &id, "a check finds more", |t| t["status"] == "UPDATED").await;
    assert!(later["template"]["lastCheckedAt"].is_string());
    assert!(later["searchResults"].as_array().unwrap().len() > found);
    assert!(later["template"]["newImagesCount"].as_u64().unwrap() > found as u64);

    // By project: short, no searchParams (nor searchResults); the list has them.
    let short = ok(&sb, Method::GET, &format!("/processings/template/project/{project}"), None).await;
    let short = &short.as_array().unwrap()[0];
    assert_eq!(short["id"], id.as_str());
    assert!(short.get("searchParams").is_none() && short.get("searchResults").is_none(), "{short:#}");
    for key in ["status", "newImagesCount", "area", "isActive", "lastCheckedAt", "name"] {
        assert!(short.get(key).is_some(), "{key}: {short:#}");
    }
    let all = ok(&sb, Method::GET, "/processings/template", None).await;
    let listed = all.as_array().unwrap().iter().find(|t| t["id"] == id.as_str()).unwrap();
    assert!(listed["searchParams"]["aoiDetails"]["features"].is_array());
    let user = listed["userId"].as_str().unwrap();
    let by_user = ok(&sb, Method::GET, &format!("/processings/template/user/{user}"), None).await;
    assert_eq!(by_user.as_array().unwrap().len(), 1);
    // The project counts it.
    assert_eq!(ok(&sb, Method::GET, &format!("/projects/{project}"), None).await["templatesCount"], 1);
}

#[tokio::test]
async fn update_merges_filters_refuses_geometry_and_pause_stops_the_search() {
    let sb = StrictSandbox::start(config());
    let project = default_project(&sb).await;
    let created = ok(&sb, Method::POST, "/processings/template", Some(create_body(&project))).await;
    let id = created["template"]["id"].as_str().unwrap().to_owned();
    let path = format!("/processings/template/{id}");

    let updated =
        ok(&sb, Method::PUT, &path, Some(json!({"name": "Renamed", "searchParams": {"maxCloudCover": 30}}))).await;
    assert_eq!(updated["name"], "Renamed");
    assert_eq!(updated["searchParams"]["maxCloudCover"], 30);
    assert_eq!(updated["searchParams"]["productTypes"], json!(["IMAGE"]), "merged, not replaced");
    assert_eq!(updated["searchParams"]["aoiDetails"]["features"].as_array().unwrap().len(), 2, "the AOIs kept");
    for geometry in
        [json!({"aoi": polygon(1.0, 1.0, 0.1)}), json!({"aoiDetails": {"type": "FeatureCollection", "features": []}})]
    {
        let (status, body) = call(&sb, Method::PUT, &path, Some(json!({"searchParams": geometry}))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["message"], "Geometry updates are not supported");
        assert_eq!(body["code"], "BAD_REQUEST");
    }

    let t = wait_for(&sb, &id, "the search ends", |t| t["status"] == "CREATED").await;
    assert!(
        t["searchResults"].as_array().unwrap().iter().all(|r| r["metadata"]["cloudCover"].as_f64().unwrap() <= 30.0)
    );
    let paused = ok(&sb, Method::POST, &format!("{path}/pause"), None).await;
    assert_eq!(paused["template"]["status"], "INACTIVE");
    assert_eq!(paused["template"]["isActive"], false);
    let count = paused["searchResults"].as_array().unwrap().len();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let still = ok(&sb, Method::GET, &path, None).await;
    assert_eq!(still["template"]["status"], "INACTIVE");
    assert_eq!(still["searchResults"].as_array().unwrap().len(), count, "a paused search finds nothing");
    let resumed = ok(&sb, Method::POST, &format!("{path}/resume"), None).await;
    assert_eq!(resumed["template"]["isActive"], true);
    assert_ne!(resumed["template"]["status"], "INACTIVE");
    wait_for(&sb, &id, "the checks go on after resume", |t| t["status"] == "UPDATED").await;

    let (status, _) = call(&sb, Method::DELETE, &path, None).await;
    assert!(status.is_success());
    let (status, body) = call(&sb, Method::GET, &path, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}

#[tokio::test]
async fn aois_are_added_renamed_and_deleted_and_images_are_paged_and_marked_seen() {
    let sb = StrictSandbox::start(config());
    let project = default_project(&sb).await;
    let created = ok(&sb, Method::POST, "/processings/template", Some(create_body(&project))).await;
    let id = created["template"]["id"].as_str().unwrap().to_owned();
    let path = format!("/processings/template/{id}");

    let one = ok(
        &sb,
        Method::POST,
        &format!("{path}/aoi"),
        Some(json!({"geometry": polygon(77.0, 43.3, 0.02), "name": "East"})),
    )
    .await;
    assert_eq!(one, json!({"addedCount": 1, "partitioningTriggered": false}));
    let multi =
        json!({"type": "MultiPolygon", "coordinates": [square(76.80, 43.20, 0.01), square(76.83, 43.20, 0.01)]});
    let many = ok(
        &sb,
        Method::POST,
        &format!("{path}/aoi"),
        Some(json!({"aois": [
            {"geometry": multi, "name": "Two parts"},
            {"geometry": polygon(76.86, 43.20, 0.01), "name": null},
        ]})),
    )
    .await;
    assert_eq!(many, json!({"addedCount": 3, "partitioningTriggered": true}));
    let (status, _) =
        call(&sb, Method::POST, &format!("{path}/aoi"), Some(json!({"geometry": polygon(1.0, 1.0, 0.1), "aois": []})))
            .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "exactly one of geometry or aois");
    let (status, body) = call(
        &sb,
        Method::POST,
        &format!("{path}/aoi"),
        Some(json!({"geometry": polygon(1.0, 1.0, 0.1), "name": "x".repeat(65)})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    let t = wait_for(&sb, &id, "the searches end", |t| t["status"] != "SEARCHING").await;
    let features = t["template"]["searchParams"]["aoiDetails"]["features"].as_array().unwrap().clone();
    assert_eq!(features.len(), 6);
    let east = features.iter().find(|f| f["properties"]["name"] == "East").unwrap();
    let east_id = east["properties"]["id"].as_str().unwrap().to_owned();
    let renamed = ok(&sb, Method::POST, &format!("{path}/aoi/{east_id}"), Some(json!({"name": "East side"}))).await;
    assert_eq!(renamed["properties"]["name"], "East side");
    assert_eq!(renamed["properties"]["id"], east_id.as_str());
    let (status, _) = call(&sb, Method::PUT, &format!("{path}/aoi/{east_id}"), Some(json!({"name": "no"}))).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "an AOI is updated with POST; PUT is 404");
    let reshaped =
        ok(&sb, Method::POST, &format!("{path}/aoi/{east_id}"), Some(json!({"geometry": polygon(77.01, 43.31, 0.01)})))
            .await;
    assert_eq!(reshaped["geometry"]["coordinates"][0][0], json!([77.01, 43.31]));

    // Images: paged, filtered by AOI, marked seen.
    let t = wait_for(&sb, &id, "the search ends", |t| t["status"] != "SEARCHING").await;
    let total = t["searchResults"].as_array().unwrap().len();
    assert!(total >= 3, "{total}");
    let page = ok(&sb, Method::POST, &format!("{path}/images"), Some(json!({"limit": 2, "offset": 0}))).await;
    assert_eq!(page["results"].as_array().unwrap().len(), 2);
    assert!(page["total"].as_u64().unwrap() >= 3);
    assert_eq!(page["limit"], 2);
    assert_eq!(page["offset"], 0);
    let image = &page["results"][0];
    assert!(
        image["metadata"]["footprint"].is_object() && image["isNew"] == true && image["aoiIds"].is_array(),
        "{image:#}"
    );
    let second = ok(&sb, Method::POST, &format!("{path}/images"), Some(json!({"limit": 2, "offset": 2}))).await;
    assert_ne!(second["results"][0]["id"], page["results"][0]["id"]);
    let centre_id = features.iter().find(|f| f["properties"]["name"] == "Centre").unwrap()["properties"]["id"].clone();
    let centre = ok(
        &sb,
        Method::POST,
        &format!("{path}/images"),
        Some(json!({"limit": 500, "offset": 0, "aoiIds": [centre_id]})),
    )
    .await;
    assert!(centre["results"].as_array().unwrap().iter().all(|r| r["aoiIds"].as_array().unwrap().contains(&centre_id)));
    let cloudy =
        ok(&sb, Method::POST, &format!("{path}/images"), Some(json!({"limit": 500, "offset": 0, "maxCloudCover": 5})))
            .await;
    assert!(cloudy["results"].as_array().unwrap().iter().all(|r| r["metadata"]["cloudCover"].as_f64().unwrap() <= 5.0));

    // Paused, so that no check finds more while the marks are counted.
    ok(&sb, Method::POST, &format!("{path}/pause"), None).await;
    let before = ok(&sb, Method::GET, &path, None).await["template"]["newImagesCount"].as_u64().unwrap();
    let image_id = image["id"].as_str().unwrap();
    ok(&sb, Method::POST, &format!("{path}/image/{image_id}/seen"), None).await;
    let after = ok(&sb, Method::GET, &path, None).await;
    assert_eq!(after["template"]["newImagesCount"].as_u64().unwrap(), before - 1);
    let marked = after["searchResults"].as_array().unwrap().iter().find(|r| r["id"] == image_id).unwrap().clone();
    assert_eq!(marked["isNew"], false);
    ok(&sb, Method::PUT, &format!("{path}/image/seenAll"), None).await;
    let after = ok(&sb, Method::GET, &path, None).await;
    assert_eq!(after["template"]["newImagesCount"], 0);
    assert!(
        after["template"]["searchParams"]["aoiDetails"]["features"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["properties"]["hasNewImages"] == false)
    );

    let ids: Vec<Value> = features
        .iter()
        .filter(|f| f["properties"]["name"] != "Centre")
        .map(|f| f["properties"]["id"].clone())
        .collect();
    let deleted = ok(&sb, Method::DELETE, &format!("{path}/aoi"), Some(json!({"aoiIds": ids}))).await;
    assert_eq!(deleted["deletedCount"], 5);
    let left = ok(&sb, Method::GET, &path, None).await;
    assert_eq!(left["template"]["searchParams"]["aoiDetails"]["features"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_processing_started_from_a_template_is_listed_under_its_aoi_and_in_the_v1_shape() {
    let sb = StrictSandbox::start(config());
    let project = default_project(&sb).await;
    let created = ok(&sb, Method::POST, "/processings/template", Some(create_body(&project))).await;
    let id = created["template"]["id"].as_str().unwrap().to_owned();
    let path = format!("/processings/template/{id}");
    let t = wait_for(&sb, &id, "the search ends", |t| t["status"] != "SEARCHING").await;
    let image = t["searchResults"][0]["metadata"].clone();

    // Over the first AOI, from a found image.
    let body = json!({
        "name": "From the plan",
        "description": null,
        "wdName": seed::BUILDINGS,
        "geometry": polygon(76.905, 43.225, 0.02),
        "params": {"sourceParams": {"imagerySearch": {"dataProvider": image["providerName"], "imageIds": [image["id"]], "zoom": 18}}},
        "meta": {"source-app": "test"},
        "blocks": [],
        "updateTemplateGeometry": false,
    });
    let run = ok(&sb, Method::POST, &format!("{path}/v2"), Some(body)).await;
    assert_eq!(run["projectId"], project.as_str(), "in the template's project");
    let run_id = run["id"].as_str().unwrap().to_owned();
    // The template's processingParams stand in for what the body leaves out; this one is
    // over no AOI.
    let outside = ok(
        &sb,
        Method::POST,
        &format!("{path}/v2"),
        Some(json!({"name": "Elsewhere", "geometry": polygon(76.70, 43.10, 0.01)})),
    )
    .await;
    let outside_id = outside["id"].as_str().unwrap().to_owned();

    let t = ok(&sb, Method::GET, &path, None).await;
    let features = t["template"]["searchParams"]["aoiDetails"]["features"].as_array().unwrap();
    let under = &features[0]["properties"]["processings"];
    assert_eq!(under.as_array().unwrap().len(), 1, "{under:#}");
    let link = &under[0];
    assert_eq!(link["processingId"], run_id.as_str());
    assert_eq!(link["processingName"], "From the plan");
    assert!(link["processingStatus"].is_string() && link["area"].as_i64().unwrap() > 0);
    assert_eq!(link["geometry"]["type"], "Polygon");
    assert_eq!(link["projectId"], project.as_str());
    assert_eq!(features[1]["properties"]["processings"], json!([]));
    assert!(
        !t.to_string().contains(&outside_id) || t["searchResults"].to_string().contains(&outside_id),
        "no AOI lists the other"
    );

    let v1 = ok(&sb, Method::GET, &format!("{path}/processings"), None).await;
    let v1 = v1.as_array().unwrap();
    assert_eq!(v1.len(), 2);
    let first = v1.iter().find(|p| p["id"] == run_id.as_str()).unwrap();
    assert_eq!(first["params"]["data_provider"], image["providerName"]);
    assert_eq!(first["params"]["zoom"], "18", "v1 params are strings");
    assert!(first["params"].get("sourceParams").is_none());
    let second = v1.iter().find(|p| p["id"] == outside_id.as_str()).unwrap();
    assert_eq!(second["params"]["data_provider"], "Mapbox");

    // updateTemplateGeometry takes the processed area out of the AOI.
    let before = t["template"]["area"].as_i64().unwrap();
    ok(
        &sb,
        Method::POST,
        &format!("{path}/v2"),
        Some(json!({"name": "Carve", "geometry": polygon(76.95, 43.25, 0.015), "updateTemplateGeometry": true})),
    )
    .await;
    let after = ok(&sb, Method::GET, &path, None).await["template"]["area"].as_i64().unwrap();
    assert!(after < before, "{after} < {before}");
}

#[tokio::test]
async fn the_template_area_limit_and_the_roles_are_enforced() {
    let sb = StrictSandbox::start(config());
    let project = default_project(&sb).await;
    let mut body = create_body(&project);
    // About 4 000 km², over the 500 km² limit.
    body["searchParams"]["aoiDetails"]["features"][0]["geometry"] = polygon(76.0, 43.0, 0.6);
    let (status, error) = call(&sb, Method::POST, "/processings/template", Some(body)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    assert_eq!(error["params"]["templateAreaLimit"], seed::TEMPLATE_AREA_LIMIT.to_string());
    let (status, _) = call(
        &sb,
        Method::POST,
        "/processings/template",
        Some(json!({"name": "x", "projectId": project, "searchParams": {}})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "no AOI");

    let projects = ok(&sb, Method::GET, "/projects", None).await;
    let find = |name: &str| {
        projects.as_array().unwrap().iter().find(|p| p["name"] == name).unwrap()["id"].as_str().unwrap().to_owned()
    };
    let readonly = find(mapflow_sandbox::SHARED_READONLY_PROJECT);
    let contributor = find(mapflow_sandbox::SHARED_CONTRIBUTOR_PROJECT);
    let (status, error) = call(&sb, Method::POST, "/processings/template", Some(create_body(&readonly))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{error}");
    assert_eq!(error["code"], "FORBIDDEN");
    ok(&sb, Method::POST, "/processings/template", Some(create_body(&contributor))).await;

    // The owner's template in the read-only project: seen, not changed.
    let team = sb.team_token().clone();
    let (status, owned) =
        call_as(&sb, &team, Method::POST, "/processings/template", Some(create_body(&readonly))).await;
    assert!(status.is_success(), "{owned}");
    let id = owned["template"]["id"].as_str().unwrap();
    let path = format!("/processings/template/{id}");
    ok(&sb, Method::GET, &path, None).await;
    ok(&sb, Method::POST, &format!("{path}/images"), Some(json!({"limit": 10, "offset": 0}))).await;
    let refused = [
        (Method::PUT, path.clone(), Some(json!({"name": "mine"}))),
        (Method::POST, format!("{path}/pause"), None),
        (Method::POST, format!("{path}/aoi"), Some(json!({"geometry": polygon(76.9, 43.2, 0.01)}))),
        (Method::DELETE, format!("{path}/aoi"), Some(json!({"aoiIds": []}))),
        (Method::POST, format!("{path}/v2"), Some(json!({"name": "run", "geometry": polygon(76.905, 43.225, 0.01)}))),
        (Method::DELETE, path.clone(), None),
    ];
    for (method, p, body) in refused {
        let (status, error) = call(&sb, method.clone(), &p, body).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {p}: {error}");
    }
    // The team's own default project is not the main account's to see.
    let team_default =
        call_as(&sb, &team, Method::GET, "/projects/default", None).await.1["id"].as_str().unwrap().to_owned();
    let (_, hidden) =
        call_as(&sb, &team, Method::POST, "/processings/template", Some(create_body(&team_default))).await;
    let hidden = hidden["template"]["id"].as_str().unwrap();
    let (status, _) = call(&sb, Method::GET, &format!("/processings/template/{hidden}"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn templates_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let id = {
        let sb = StrictSandbox::start(SandboxConfig { data_dir: Some(dir.path().to_owned()), ..config() });
        let project = default_project(&sb).await;
        let created = ok(&sb, Method::POST, "/processings/template", Some(create_body(&project))).await;
        created["template"]["id"].as_str().unwrap().to_owned()
    };
    let sb = StrictSandbox::start(SandboxConfig { data_dir: Some(dir.path().to_owned()), ..config() });
    let t = ok(&sb, Method::GET, &format!("/processings/template/{id}"), None).await;
    assert_eq!(t["template"]["name"], "Almaty watch");
    assert_eq!(t["template"]["searchParams"]["aoiDetails"]["features"].as_array().unwrap().len(), 2);
}
