//! The sandbox server over real HTTP: auth, account, projects, persistence, fault
//! injection, request recording and preview tiles.

use sandbox_setup::StrictSandbox;
use testkit::sandbox_setup;

use std::time::{Duration, Instant};

use mapflow_sandbox::{
    DEMO_EMAIL, Fault, FaultAction, LEGACY_STATE_FILE, STORE_FILE, Sandbox, SandboxConfig, demo_token, seed,
};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn start() -> StrictSandbox {
    StrictSandbox::start(SandboxConfig { record_requests: true, ..SandboxConfig::default() })
}

fn start_in(dir: &std::path::Path) -> StrictSandbox {
    StrictSandbox::start(SandboxConfig {
        data_dir: Some(dir.to_owned()),
        record_requests: true,
        ..SandboxConfig::default()
    })
}

/// A request to `path` (relative to the base URL) with the sandbox's token.
fn req(sb: &Sandbox, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
    reqwest::Client::new()
        .request(method, format!("{}{path}", sb.base_url()))
        .header("Authorization", format!("Basic {}", sb.token().expose()))
}

async fn get_json(sb: &Sandbox, path: &str) -> (StatusCode, Value) {
    let r = req(sb, reqwest::Method::GET, path).send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap())
}

async fn send_json(sb: &Sandbox, method: reqwest::Method, path: &str, body: Value) -> (StatusCode, Value) {
    let r = req(sb, method, path).json(&body).send().await.unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    let value = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() };
    (status, value)
}

async fn create_project(sb: &Sandbox, name: &str) -> Value {
    let (status, body) = send_json(sb, reqwest::Method::POST, "/projects", json!({"name": name})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

fn names(page: &Value) -> Vec<String> {
    page["results"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_owned()).collect()
}

/// Asserts that `obj` has every key in `keys` (a `null` value counts as present).
fn assert_keys(obj: &Value, keys: &[&str], what: &str) {
    let map = obj.as_object().unwrap_or_else(|| panic!("{what} is not an object: {obj}"));
    for key in keys {
        assert!(map.contains_key(*key), "{what} lacks the key `{key}`: {obj}");
    }
}

fn assert_api_error(body: &Value, code: &str) {
    assert_eq!(body["code"], code, "{body}");
    assert!(body["message"].is_string(), "{body}");
    assert!(body["params"].is_object(), "{body}");
}

fn assert_iso_micros(value: &Value) {
    let s = value.as_str().unwrap();
    assert!(s.ends_with('Z'), "{s}");
    let fraction = s.rsplit_once('.').unwrap().1;
    assert_eq!(fraction.len(), 7, "six digits and Z: {s}");
    chrono::DateTime::parse_from_rfc3339(s).unwrap();
}

#[test]
fn public_api_defaults() {
    let sb = start();
    assert!(sb.addr().ip().is_loopback());
    assert_ne!(sb.addr().port(), 0);
    assert_eq!(sb.base_url(), format!("http://127.0.0.1:{}/rest", sb.addr().port()));
    assert_eq!(sb.token(), &demo_token());
    assert_eq!(sb.token().email(), DEMO_EMAIL);
    let config = SandboxConfig::default();
    assert!(config.data_dir.is_none());
    assert_eq!(config.processing_seconds, 5.0);
}

#[tokio::test]
async fn refuses_missing_and_wrong_tokens() {
    let sb = start();
    let url = format!("{}/user/status", sb.base_url());
    let client = reqwest::Client::new();

    let r = client.get(&url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_api_error(&r.json().await.unwrap(), "UNAUTHORIZED");

    let wrong = mapflow_api::Token::from_parts(DEMO_EMAIL, "wrong-key");
    let r = client.get(&url).header("Authorization", format!("Basic {}", wrong.expose())).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let body: Value = r.json().await.unwrap();
    assert_api_error(&body, "UNAUTHORIZED");
    assert_eq!(body["params"], json!({}));

    // The right token under another scheme is not accepted either.
    let r = client.get(&url).header("Authorization", format!("Bearer {}", sb.token().expose())).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    let (status, body) = get_json(&sb, "/user/status").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["email"], DEMO_EMAIL);

    // A custom token is the only one accepted, and its email is the account's.
    let custom = mapflow_api::Token::from_parts("someone@example.com", "k");
    let other = StrictSandbox::start(SandboxConfig { token: custom.clone(), ..SandboxConfig::default() });
    let (status, body) = get_json(&other, "/user/status").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["email"], "someone@example.com");
    let r = client
        .get(format!("{}/user/status", other.base_url()))
        .header("Authorization", format!("Basic {}", demo_token().expose()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn user_status_has_every_key() {
    let sb = start();
    let (status, body) = get_json(&sb, "/user/status").await;
    assert_eq!(status, StatusCode::OK);
    assert_keys(
        &body,
        &[
            "email",
            "billingType",
            "remainingCredits",
            "remainingArea",
            "processedArea",
            "areaLimit",
            "aoiAreaLimit",
            "templateAreaLimit",
            "searchAreaLimit",
            "maxAoisPerProcessing",
            "memoryLimit",
            "reviewWorkflowEnabled",
            "teams",
            "models",
            "dataProviders",
            "searchDataProviders",
        ],
        "user status",
    );
    assert_eq!(body["billingType"], "CREDITS");
    assert_eq!(body["remainingCredits"], 5000);
    assert_eq!(body["aoiAreaLimit"], 100_000_000);
    assert_eq!(body["searchAreaLimit"], 2_500_000_000i64);
    assert_eq!(body["maxAoisPerProcessing"], 10);
    assert_eq!(body["memoryLimit"], 10_737_418_240i64);
    assert_eq!(body["reviewWorkflowEnabled"], false);
    assert_eq!(body["teams"], json!([]));

    let models = body["models"].as_array().unwrap();
    let model_names: Vec<&str> = models.iter().map(|m| m["name"].as_str().unwrap()).collect();
    assert_eq!(model_names, ["🏠 Buildings", "🏠 Buildings (Aerial)", "🌲 Forest", "🚗 Roads", "🏗️ Construction"]);
    for m in models {
        assert_keys(
            m,
            &["id", "name", "description", "pricePerSqKm", "created", "updated", "styleName", "blocks"],
            "model",
        );
        uuid::Uuid::parse_str(m["id"].as_str().unwrap()).unwrap();
        let required: f64 = m["blocks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|b| b["optional"] == false)
            .map(|b| b["price"].as_f64().unwrap())
            .sum();
        assert_eq!(m["pricePerSqKm"].as_f64().unwrap(), required, "{m}");
        for b in m["blocks"].as_array().unwrap() {
            assert_keys(b, &["name", "displayName", "description", "price", "optional"], "block");
        }
    }
    let buildings = &models[0];
    assert_eq!(buildings["id"], seed::BUILDINGS_ID);
    assert_eq!(buildings["pricePerSqKm"].as_f64().unwrap(), 5.0);
    let blocks: Vec<&str> =
        buildings["blocks"].as_array().unwrap().iter().map(|b| b["name"].as_str().unwrap()).collect();
    assert_eq!(blocks, ["Segmentation", "Simplification", "Classification", "OSM", "Heights"]);

    let providers = body["dataProviders"].as_array().unwrap();
    assert!(providers.len() >= 2);
    for p in providers {
        assert_keys(
            p,
            &["id", "name", "displayName", "price", "previewUrl", "previewUrlMaxZoom", "minAreaSqKm"],
            "provider",
        );
        let url = p["previewUrl"].as_str().unwrap();
        assert_eq!(
            url,
            format!("{}/sandbox/tiles/{}/{{z}}/{{x}}/{{y}}.png", sb.base_url(), p["name"].as_str().unwrap())
        );
        assert_eq!(p["previewUrlMaxZoom"], 20);
        assert_keys(&p["price"][0], &["zoom", "priceSqKm"], "provider price");
    }
    assert_eq!(providers[0]["name"], "Mapbox");
    assert_eq!(providers[0]["displayName"], "Mapbox Satellite");
    let search = body["searchDataProviders"].as_array().unwrap();
    assert_eq!(search.len(), 2);
    for p in search {
        // Documented keys without a value are present as null.
        assert_keys(p, &["id", "name", "displayName", "price", "previewUrl", "minAreaSqKm"], "search provider");
        assert!(p["previewUrl"].is_null());
    }

    // The lenient model reads it back.
    let parsed: mapflow_api::UserStatus = serde_json::from_value(body).unwrap();
    assert_eq!(parsed.models.len(), 5);
}

#[tokio::test]
async fn project_has_every_key() {
    let sb = start();
    let (status, project) = get_json(&sb, "/projects/default").await;
    assert_eq!(status, StatusCode::OK);
    assert_keys(
        &project,
        &[
            "id",
            "name",
            "description",
            "isDefault",
            "created",
            "updated",
            "workflowDefs",
            "shareProject",
            "user",
            "processingCounts",
            "templatesCount",
        ],
        "project",
    );
    assert_eq!(project["name"], "Default project");
    assert_eq!(project["isDefault"], true);
    assert!(project["description"].is_null(), "the default project has no description: {project}");
    uuid::Uuid::parse_str(project["id"].as_str().unwrap()).unwrap();
    assert_iso_micros(&project["created"]);
    assert_iso_micros(&project["updated"]);
    assert_eq!(project["workflowDefs"].as_array().unwrap().len(), 5);
    assert_eq!(project["shareProject"], json!({"owners": [{"email": DEMO_EMAIL, "role": "owner"}], "users": []}));
    assert_keys(
        &project["user"],
        &["id", "email", "role", "areaLimit", "aoiAreaLimit", "processedArea", "reviewWorkflowEnabled"],
        "project user",
    );
    assert_eq!(project["user"]["email"], DEMO_EMAIL);
    assert_eq!(project["user"]["role"], "owner");
    assert_eq!(project["user"]["aoiAreaLimit"], 100_000_000);
    assert_eq!(
        project["processingCounts"],
        json!({"succeeded": 0, "failed": 0, "inProgress": 0, "unprocessed": 0, "total": 0})
    );
    assert_eq!(project["templatesCount"], 0);

    // The seed: the default project and a demo project, then the two the team account
    // shares with this one.
    let (_, list) = get_json(&sb, "/projects").await;
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 4);
    assert_eq!(list[0]["id"], project["id"]);
    assert_eq!(list[1]["name"], "Demo: Almaty");
    assert_eq!(list[2]["name"], "Shared: Almaty survey");
    assert_eq!(list[3]["name"], "Shared: team work");
    assert!(list[1]["description"].is_string());
    let (status, same) = get_json(&sb, &format!("/projects/{}", project["id"].as_str().unwrap())).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(same, project);
    let _: Vec<mapflow_api::Project> = serde_json::from_value(Value::Array(list.clone())).unwrap();
}

#[tokio::test]
async fn project_create_update_delete() {
    let sb = start();
    use reqwest::Method;

    let (status, body) = send_json(&sb, Method::POST, "/projects", json!({"name": "   "})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_api_error(&body, "BAD_REQUEST");
    let (status, body) = send_json(&sb, Method::POST, "/projects", json!({"description": "no name"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_api_error(&body, "BAD_REQUEST");
    let r = req(&sb, Method::POST, "/projects").body("{not json").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_api_error(&r.json().await.unwrap(), "BAD_REQUEST");

    let (status, created) =
        send_json(&sb, Method::POST, "/projects", json!({"name": "Field survey", "description": "North"})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(created["name"], "Field survey");
    assert_eq!(created["description"], "North");
    assert_eq!(created["isDefault"], false);
    let id = created["id"].as_str().unwrap().to_owned();

    tokio::time::sleep(Duration::from_millis(5)).await;
    let (status, renamed) =
        send_json(&sb, Method::PUT, &format!("/projects/{id}"), json!({"name": "Field survey 2"})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(renamed["name"], "Field survey 2");
    assert_eq!(renamed["description"], "North", "an absent description is left as it was");
    assert_eq!(renamed["created"], created["created"]);
    assert!(renamed["updated"].as_str().unwrap() > created["updated"].as_str().unwrap());
    let (status, body) = send_json(&sb, Method::PUT, &format!("/projects/{id}"), json!({"name": ""})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_api_error(&body, "BAD_REQUEST");
    let (status, body) = send_json(&sb, Method::PUT, "/projects/nope", json!({"name": "x"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_api_error(&body, "NOT_FOUND");

    let (status, body) = get_json(&sb, "/projects/00000000-0000-4000-8000-000000000000").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_api_error(&body, "NOT_FOUND");

    let (_, default) = get_json(&sb, "/projects/default").await;
    let r = req(&sb, Method::DELETE, &format!("/projects/{}", default["id"].as_str().unwrap())).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_api_error(&r.json().await.unwrap(), "BAD_REQUEST");

    let r = req(&sb, Method::DELETE, &format!("/projects/{id}")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (status, _) = get_json(&sb, &format!("/projects/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let r = req(&sb, Method::DELETE, &format!("/projects/{id}")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn projects_page_filters_sorts_and_pages() {
    let sb = start();
    use reqwest::Method;
    for name in ["Alpha site", "beta", "Gamma ALPHA", "delta"] {
        create_project(&sb, name).await;
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    let page = |body: Value| {
        let sb = &sb;
        async move {
            let (status, page) = send_json(sb, Method::POST, "/projects/page", body).await;
            assert_eq!(status, StatusCode::OK, "{page}");
            assert_keys(&page, &["results", "total", "count"], "page");
            page
        }
    };

    let all = page(json!({"limit": 50, "offset": 0, "sortBy": "NAME", "sortOrder": "ASC"})).await;
    assert_eq!(all["total"], 8);
    assert_eq!(all["count"], 8);
    assert_eq!(
        names(&all),
        [
            "Alpha site",
            "beta",
            "Default project",
            "delta",
            "Demo: Almaty",
            "Gamma ALPHA",
            "Shared: Almaty survey",
            "Shared: team work"
        ]
    );

    let filtered =
        page(json!({"limit": 50, "offset": 0, "filter": "alpha", "sortBy": "NAME", "sortOrder": "DESC"})).await;
    assert_eq!(names(&filtered), ["Gamma ALPHA", "Alpha site"]);
    assert_eq!(filtered["total"], 2);

    let newest = page(json!({"limit": 2, "offset": 0, "sortBy": "CREATED", "sortOrder": "DESC"})).await;
    assert_eq!(names(&newest), ["delta", "Gamma ALPHA"]);
    assert_eq!(newest["total"], 8);
    assert_eq!(newest["count"], 2);
    let next = page(json!({"limit": 2, "offset": 2, "sortBy": "CREATED", "sortOrder": "DESC"})).await;
    assert_eq!(names(&next), ["beta", "Alpha site"]);
    let oldest = page(json!({"limit": 2, "offset": 0, "sortBy": "CREATED", "sortOrder": "ASC"})).await;
    // The shared projects are the team's older ones.
    assert_eq!(names(&oldest), ["Shared: Almaty survey", "Shared: team work"]);
    let beyond = page(json!({"limit": 10, "offset": 100, "sortBy": "NAME", "sortOrder": "ASC"})).await;
    assert_eq!(beyond["total"], 8);
    assert_eq!(beyond["count"], 0);

    // Renaming makes a project the most recently updated.
    let list = page(json!({"limit": 50, "offset": 0, "filter": "beta"})).await;
    let beta_id = list["results"][0]["id"].as_str().unwrap().to_owned();
    let (status, _) = send_json(&sb, Method::PUT, &format!("/projects/{beta_id}"), json!({"description": "d"})).await;
    assert_eq!(status, StatusCode::OK);
    let updated = page(json!({"limit": 1, "offset": 0, "sortBy": "UPDATED", "sortOrder": "DESC"})).await;
    assert_eq!(names(&updated), ["beta"]);

    // The client's own query type is accepted as is.
    let query = mapflow_api::ProjectPageQuery { filter: Some("DEMO".into()), ..Default::default() };
    let typed = page(serde_json::to_value(query).unwrap()).await;
    assert_eq!(names(&typed), ["Demo: Almaty"]);

    let (status, body) =
        send_json(&sb, Method::POST, "/projects/page", json!({"limit": 5, "offset": 0, "sortBy": "SIZE"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_api_error(&body, "BAD_REQUEST");
    let (status, body) = send_json(&sb, Method::POST, "/projects/page", json!({"limit": -1, "offset": 0})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_api_error(&body, "BAD_REQUEST");
}

#[tokio::test]
async fn state_persists_across_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (kept_id, demo_id) = {
        let sb = start_in(dir.path());
        let created = create_project(&sb, "Kept").await;
        let id = created["id"].as_str().unwrap().to_owned();
        let (status, _) =
            send_json(&sb, reqwest::Method::PUT, &format!("/projects/{id}"), json!({"description": "saved"})).await;
        assert_eq!(status, StatusCode::OK);
        let (_, list) = get_json(&sb, "/projects").await;
        let demo = list.as_array().unwrap().iter().find(|p| p["name"] == "Demo: Almaty").unwrap().clone();
        let demo_id = demo["id"].as_str().unwrap().to_owned();
        let r = req(&sb, reqwest::Method::DELETE, &format!("/projects/{demo_id}")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        (id, demo_id)
    };
    // The account is in the database, one row per record: Default and Kept, and the team
    // account's three (its default and the two it shares).
    let file = dir.path().join(STORE_FILE);
    {
        let db = rusqlite::Connection::open(&file).unwrap();
        let projects: i64 = db.query_row("SELECT count(*) FROM projects", [], |r| r.get(0)).unwrap();
        assert_eq!(projects, 5);
    }

    let sb = start_in(dir.path());
    let (status, kept) = get_json(&sb, &format!("/projects/{kept_id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(kept["name"], "Kept");
    assert_eq!(kept["description"], "saved");
    let (status, _) = get_json(&sb, &format!("/projects/{demo_id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, list) = get_json(&sb, "/projects").await;
    assert_eq!(list.as_array().unwrap().len(), 4, "Default, Kept and the two shared ones");
    // Nothing but the database (with its journal while it is open) and the images.
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with(STORE_FILE) && n != "rasters")
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // `rasters/` holds the demo mosaic's image, and nothing half-written.
    let images: Vec<String> = std::fs::read_dir(dir.path().join("rasters"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(images.len(), 1, "{images:?}");
    assert!(images[0].ends_with(".tif") && !images[0].starts_with('.'), "{images:?}");
}

#[test]
fn an_unreadable_database_stops_the_start_and_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(STORE_FILE);
    let garbage = "this is not a database, it is a text file of some length ".repeat(20);
    std::fs::write(&file, &garbage).unwrap();
    let err = Sandbox::start(SandboxConfig { data_dir: Some(dir.path().to_owned()), ..SandboxConfig::default() })
        .err()
        .expect("no silent start over an unreadable account");
    let text = err.to_string();
    assert!(text.contains(&file.display().to_string()) && text.contains("--reset-state"), "{text}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), garbage, "left as it was");
    assert!(!dir.path().join(format!("{STORE_FILE}.corrupt")).exists());
}

#[test]
fn an_unreadable_legacy_state_file_stops_the_start_and_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(LEGACY_STATE_FILE);
    std::fs::write(&file, "{\"projects\": [ this is not json").unwrap();
    let err = Sandbox::start(SandboxConfig { data_dir: Some(dir.path().to_owned()), ..SandboxConfig::default() })
        .err()
        .expect("no silent start over an unreadable account");
    let text = err.to_string();
    assert!(text.contains(&file.display().to_string()) && text.contains("--reset-state"), "{text}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "{\"projects\": [ this is not json", "left as it was");
}

#[tokio::test]
async fn an_account_kept_by_an_earlier_version_is_imported_once() {
    let dir = tempfile::tempdir().unwrap();
    // The layout earlier versions wrote: one JSON document.
    let legacy = json!({
        "version": 1,
        "account": {"userId": "u-legacy", "remainingCredits": 1234, "processedArea": 5},
        "projects": [
            {"id": "p-default", "name": "Default", "isDefault": true,
             "created": "2026-01-01T00:00:00Z", "updated": "2026-01-01T00:00:00Z"},
            {"id": "p-old", "name": "Old fields", "description": "from the JSON file",
             "created": "2026-01-02T00:00:00Z", "updated": "2026-01-02T00:00:00Z"}
        ],
        "processings": []
    });
    std::fs::write(dir.path().join(LEGACY_STATE_FILE), legacy.to_string()).unwrap();
    for round in 0..2 {
        let sb = start_in(dir.path());
        let (status, project) = get_json(&sb, "/projects/p-old").await;
        assert_eq!(status, StatusCode::OK, "round {round}");
        assert_eq!(project["description"], "from the JSON file");
        let (_, user) = get_json(&sb, "/user/status").await;
        assert_eq!(user["remainingCredits"], 1234);
        let (_, list) = get_json(&sb, "/projects").await;
        assert_eq!(list.as_array().unwrap().len(), 2, "no demo seeded over an imported account");
    }
    assert!(!dir.path().join(LEGACY_STATE_FILE).exists());
    assert!(dir.path().join(format!("{LEGACY_STATE_FILE}.imported")).exists());
}

#[test]
fn leftover_temporary_state_files_are_removed_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let leftover = dir.path().join(".sandbox-state.Xy12ab.tmp");
    std::fs::write(&leftover, "half a write").unwrap();
    let _sb = start_in(dir.path());
    assert!(!leftover.exists());
    assert!(dir.path().join(STORE_FILE).exists());
}

#[tokio::test]
async fn an_unreadable_database_is_set_aside_when_told() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(STORE_FILE);
    let garbage = "not a database ".repeat(100);
    std::fs::write(&file, &garbage).unwrap();
    let sb = StrictSandbox::start(SandboxConfig {
        data_dir: Some(dir.path().to_owned()),
        record_requests: true,
        reset_unreadable_state: true,
        ..SandboxConfig::default()
    });
    let aside = dir.path().join(format!("{STORE_FILE}.corrupt"));
    assert_eq!(std::fs::read_to_string(&aside).unwrap(), garbage);
    let (status, list) = get_json(&sb, "/projects").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list.as_array().unwrap().len(), 4, "started from the seed, with the two shared projects");
    // A new, valid database replaced the corrupt one: the main account's two projects, the
    // team account's three.
    let db = rusqlite::Connection::open(&file).unwrap();
    let projects: i64 = db.query_row("SELECT count(*) FROM projects", [], |r| r.get(0)).unwrap();
    assert_eq!(projects, 5);
}

#[tokio::test]
async fn fault_times_then_normal() {
    let sb = start();
    sb.faults().inject(Fault::new("GET", "/rest/user/status", FaultAction::Status(500)).times(1));
    let r = req(&sb, reqwest::Method::GET, "/user/status").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_api_error(&r.json().await.unwrap(), "INTERNAL_SERVER_ERROR");
    let (status, _) = get_json(&sb, "/user/status").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(sb.hits("GET", "/rest/user/status"), 2);

    // Faults apply before auth: even a request without a token gets the fault.
    sb.faults().inject(Fault::new("*", "/rest/projects*", FaultAction::Status(503)));
    let r = reqwest::Client::new().get(format!("{}/projects", sb.base_url())).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let r = req(&sb, reqwest::Method::POST, "/projects/page").json(&json!({})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    sb.faults().clear();
    let (status, _) = get_json(&sb, "/projects").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(sb.hits("GET", "/rest/projects"), 2);
    assert_eq!(sb.hits("post", "/rest/projects/page"), 1);
    assert_eq!(sb.hits("DELETE", "/rest/projects"), 0);
}

#[tokio::test]
async fn fault_bodies() {
    let sb = start();
    sb.faults().inject(Fault::new("GET", "/rest/user/status", FaultAction::MalformedJson).times(1));
    let r = req(&sb, reqwest::Method::GET, "/user/status").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let text = r.text().await.unwrap();
    assert!(serde_json::from_str::<Value>(&text).is_err(), "{text}");

    sb.faults().inject(Fault::new("GET", "/rest/projects/default", FaultAction::Html(502)).times(1));
    let r = req(&sb, reqwest::Method::GET, "/projects/default").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_GATEWAY);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let text = r.text().await.unwrap();
    assert!(text.contains("<html>") && text.contains("502 Bad Gateway") && text.contains("nginx"), "{text}");

    let exact = json!({"code": "TOO_LARGE_PROCESSING", "message": "Too large", "params": {"aoiAreaLimit": "100"}});
    sb.faults().inject(Fault::new("POST", "/rest/projects", FaultAction::Json(400, exact.clone())).times(1));
    let (status, body) = send_json(&sb, reqwest::Method::POST, "/projects", json!({"name": "x"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, exact);
    // Used up: the route behaves normally again.
    let (status, _) = send_json(&sb, reqwest::Method::POST, "/projects", json!({"name": "x"})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(sb.hits("POST", "/rest/projects"), 2);
}

#[tokio::test]
async fn fault_delay() {
    let sb = start();
    sb.faults()
        .inject(Fault::new("GET", "/rest/user/status", FaultAction::Pass).delay(Duration::from_millis(300)).times(1));
    let started = Instant::now();
    let (status, body) = get_json(&sb, "/user/status").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["email"], DEMO_EMAIL);
    assert!(started.elapsed() >= Duration::from_millis(300));

    // A delay longer than the client's timeout looks like a hung server.
    sb.faults().inject(Fault::new("GET", "/rest/projects", FaultAction::Pass).delay(Duration::from_secs(5)));
    let client = reqwest::Client::builder().timeout(Duration::from_millis(200)).build().unwrap();
    let err = client
        .get(format!("{}/projects", sb.base_url()))
        .header("Authorization", format!("Basic {}", sb.token().expose()))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");
    // Dropping the sandbox with a request still delayed does not hang.
    let stopped = Instant::now();
    drop(sb);
    assert!(stopped.elapsed() < Duration::from_secs(4));
}

#[tokio::test]
async fn unknown_routes_are_recorded() {
    let mut sb = start();
    // Unknown routes are what this test sends.
    sb.allow_unexpected_routes();
    let (status, body) = get_json(&sb, "/no/such/thing").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_api_error(&body, "NOT_FOUND");
    assert_eq!(body["message"], "No such route: GET /rest/no/such/thing");
    let r = reqwest::Client::new().post(format!("http://{}/elsewhere", sb.addr())).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // A known path with the wrong method.
    let r = req(&sb, reqwest::Method::PATCH, "/user/status").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(sb.unexpected_requests(), ["GET /rest/no/such/thing", "POST /elsewhere", "PATCH /rest/user/status"]);
    assert_eq!(sb.hits("GET", "/rest/no/such/thing"), 1);
    // Known routes are not recorded.
    let (status, _) = get_json(&sb, "/user/status").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(sb.unexpected_requests().len(), 3);
}

#[tokio::test]
async fn provider_tile_is_a_png_without_auth() {
    let sb = start();
    let (_, status_body) = get_json(&sb, "/user/status").await;
    let template = status_body["dataProviders"][0]["previewUrl"].as_str().unwrap().to_owned();
    let url = template.replace("{z}", "15").replace("{x}", "19300").replace("{y}", "9800");
    let client = reqwest::Client::new();
    let r = client.get(&url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "image/png");
    let bytes = r.bytes().await.unwrap();
    let img = image::load_from_memory_with_format(&bytes, image::ImageFormat::Png).unwrap();
    assert_eq!((img.width(), img.height()), (256, 256));
    // Deterministic: the same tile again is the same picture.
    let again = client.get(&url).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(bytes, again);
    // Not a flat colour.
    let rgb = img.to_rgb8();
    assert!(rgb.pixels().any(|p| p != rgb.get_pixel(0, 0)));

    let r = client.get(format!("{}/sandbox/tiles/Mapbox/2/9/0.png", sb.base_url())).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_api_error(&r.json().await.unwrap(), "NOT_FOUND");
    assert_eq!(sb.hits("GET", "/rest/sandbox/tiles/Mapbox/15/19300/9800.png"), 2);
}

#[tokio::test]
async fn serve_runs_on_the_current_runtime() {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let server = tokio::spawn(mapflow_sandbox::serve(SandboxConfig::default(), move |addr| {
        let _ = tx.send(addr);
    }));
    let addr = rx.await.unwrap();
    let r = reqwest::Client::new()
        .get(format!("http://{addr}/rest/user/status"))
        .header("Authorization", format!("Basic {}", demo_token().expose()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    server.abort();
}

#[tokio::test]
async fn image_files_no_image_owns_are_removed_at_start_and_storage_matches_the_disk() {
    let dir = tempfile::tempdir().unwrap();
    drop(start_in(dir.path()));
    let rasters = dir.path().join("rasters");
    let orphan = rasters.join("0b7e5c1a-0000-4c55-9d0b-2a1c3e4f5a6b.tif");
    std::fs::write(&orphan, vec![0u8; 4096]).unwrap();
    let sb = start_in(dir.path());
    assert!(!orphan.exists(), "the orphan is gone");
    let on_disk: u64 = std::fs::read_dir(&rasters)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tif"))
        .map(|e| e.metadata().unwrap().len())
        .sum();
    let (status, memory) = get_json(&sb, "/rasters/memory").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(memory["memoryUsed"].as_u64().unwrap(), on_disk, "{memory}");
    assert!(on_disk > 0, "the demo mosaic's image stays");
}
