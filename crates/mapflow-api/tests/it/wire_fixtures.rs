//! The client and the sandbox against the wire fixtures of `tests/fixtures/wire/`: request
//! and response bodies written by hand from the API's text, not from the app's types.
//!
//! - The client reads every field of a response fixture (decoded and written back, each value
//!   is kept), except the fields listed here as not modelled; it writes its requests exactly
//!   as the request fixtures do.
//! - The sandbox answers with every key of a response fixture, of the same JSON type (or
//!   null), and accepts the request fixtures.
//!
//! A wrong wire name on either side fails here.

use mapflow_api as api;
use mapflow_sandbox::{SandboxConfig, seed};
use reqwest::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use testkit::sandbox_setup::StrictSandbox;

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/wire/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A datetime string as an instant (UTC when it names no zone), for comparing two spellings.
fn instant(text: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.to_utc())
        .ok()
        .or_else(|| chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").ok().map(|t| t.and_utc()))
}

/// Differences between what was sent (`want`) and what came back (`got`) at `path`; the
/// paths in `skip` are not compared (and `skipped` notes them).
fn compare(
    want: &Value,
    got: Option<&Value>,
    path: &str,
    skip: &[&str],
    skipped: &mut Vec<String>,
    out: &mut Vec<String>,
) {
    if skip.contains(&path) {
        skipped.push(path.to_owned());
        return;
    }
    match (want, got) {
        (Value::Null, None | Some(Value::Null)) => {}
        (_, None) => out.push(format!("{path}: missing")),
        (Value::Object(w), Some(Value::Object(g))) => {
            for (k, v) in w {
                let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                compare(v, g.get(k), &p, skip, skipped, out);
            }
        }
        (Value::Array(w), Some(Value::Array(g))) => {
            if w.len() != g.len() {
                out.push(format!("{path}: {} items, not {}", g.len(), w.len()));
            }
            for (i, (wv, gv)) in w.iter().zip(g).enumerate() {
                compare(wv, Some(gv), &format!("{path}[{i}]"), skip, skipped, out);
            }
        }
        (Value::Number(w), Some(Value::Number(g))) if (w.as_f64().unwrap() - g.as_f64().unwrap()).abs() > 1e-9 => {
            out.push(format!("{path}: {g}, not {w}"));
        }
        (Value::Number(_), Some(Value::Number(_))) => {}
        (Value::String(w), Some(Value::String(g))) if w != g && (instant(w).is_none() || instant(w) != instant(g)) => {
            out.push(format!("{path}: {g:?}, not {w:?}"));
        }
        (w, Some(g)) if w != g => out.push(format!("{path}: {g}, not {w}")),
        _ => {}
    }
}

/// Decodes a response fixture with the client's type and writes it back: every value must be
/// kept, but for the paths in `not_modelled`, which must be exactly those the client drops.
fn client_reads<T: DeserializeOwned + Serialize>(name: &str, not_modelled: &[&str]) {
    let want = fixture(name);
    let model: T =
        serde_json::from_value(want.clone()).unwrap_or_else(|e| panic!("{name}: the client refuses it: {e}"));
    let got = serde_json::to_value(&model).unwrap();
    let (mut skipped, mut out) = (Vec::new(), Vec::new());
    compare(&want, Some(&got), "", not_modelled, &mut skipped, &mut out);
    assert!(out.is_empty(), "{name}: the client loses or changes fields:\n{}", out.join("\n"));
    for path in not_modelled {
        assert!(
            skipped.iter().any(|s| s == path),
            "{name}: {path} is listed as not modelled but the fixture has no such field"
        );
    }
}

/// Decodes a request fixture with the client's type and writes it back: it must come out the
/// same, key for key (the client sends what the API reads).
fn client_writes<T: DeserializeOwned + Serialize>(name: &str) {
    let want = fixture(name);
    let model: T = serde_json::from_value(want.clone()).unwrap_or_else(|e| panic!("{name}: {e}"));
    let got = serde_json::to_value(&model).unwrap();
    let (mut skipped, mut out) = (Vec::new(), Vec::new());
    compare(&want, Some(&got), "", &[], &mut skipped, &mut out);
    // And nothing the fixture does not have.
    compare(&got, Some(&want), "", &[], &mut skipped, &mut out);
    assert!(out.is_empty(), "{name}: the client writes it otherwise:\n{}", out.join("\n"));
}

#[test]
fn the_client_reads_every_documented_field() {
    client_reads::<api::UserStatus>("user_status", &[]);
    client_reads::<api::Project>("project", &["processingCounts", "templatesCount"]);
    client_reads::<api::Processing>("processing", &[]);
    client_reads::<api::CatalogImage>("catalog_image", &[]);
    client_reads::<api::Mosaic>("mosaic", &[]);
    client_reads::<api::RasterImage>("raster_image", &[]);
    client_reads::<api::Memory>("memory", &[]);
    client_reads::<api::Project>("project_shared", &["processingCounts", "templatesCount"]);
    client_reads::<api::Processing>("processing_in_review", &[]);
}

#[test]
fn the_client_writes_its_requests_as_the_api_reads_them() {
    for name in [
        "processing_create_provider",
        "processing_create_user_defined",
        "processing_create_imagery_search",
        "processing_create_my_imagery",
    ] {
        client_writes::<api::ProcessingRequest>(name);
    }
    client_writes::<api::CatalogQuery>("catalog_meta_request");
    client_writes::<api::ProjectPageQuery>("projects_page_request");
    client_writes::<api::Rejection>("processing_rejection_request");
    client_writes::<api::ShareRequest>("project_share_request");
}

/// The JSON type of a value, numbers as one.
fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Maps whose keys are the data's, not the API's (a message's parameters, `meta`).
const FREE_FORM: [&str; 3] = ["messages[0].parameters", "meta", "params.inferenceParams"];

/// Keys of `want` missing from `got`, or of another JSON type (null on either side is fine);
/// arrays are compared by their first items.
fn shape(want: &Value, got: &Value, path: &str, out: &mut Vec<String>) {
    if FREE_FORM.contains(&path) {
        if !got.is_object() && !got.is_null() {
            out.push(format!("{path}: {} ({got}), not an object", kind(got)));
        }
        return;
    }
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => {
            for (k, v) in w {
                let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                match g.get(k) {
                    None => out.push(format!("{p}: missing")),
                    Some(gv) => shape(v, gv, &p, out),
                }
            }
        }
        (Value::Array(w), Value::Array(g)) => {
            if let (Some(wv), Some(gv)) = (w.first(), g.first()) {
                shape(wv, gv, &format!("{path}[0]"), out);
            }
        }
        (Value::Null, _) | (_, Value::Null) => {}
        (w, g) if kind(w) != kind(g) => out.push(format!("{path}: {} ({g}), not {}", kind(g), kind(w))),
        _ => {}
    }
}

fn assert_shape(name: &str, got: &Value) {
    let mut out = Vec::new();
    shape(&fixture(name), got, "", &mut out);
    assert!(out.is_empty(), "the sandbox's answer differs from {name}.json:\n{}\n{got:#}", out.join("\n"));
}

struct Api {
    sandbox: StrictSandbox,
    http: reqwest::Client,
}

impl Api {
    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        self.call_as(self.sandbox.token(), method, path, body).await
    }

    async fn call_as(&self, token: &api::Token, method: Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self
            .http
            .request(method.clone(), format!("{}{path}", self.sandbox.base_url()))
            .header("Authorization", format!("Basic {}", token.expose()));
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        assert!(status.is_success(), "{method} {path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{method} {path}: {e}: {text}"))
    }
}

#[tokio::test]
async fn the_sandbox_answers_with_every_documented_key_and_takes_the_documented_requests() {
    let dir = tempfile::tempdir().unwrap();
    let config =
        SandboxConfig { data_dir: Some(dir.path().to_owned()), record_requests: true, ..SandboxConfig::default() };
    let api = Api { sandbox: StrictSandbox::start(config), http: reqwest::Client::new() };

    let status = api.call(Method::GET, "/user/status", None).await;
    assert_shape("user_status", &status);
    let project = api.call(Method::GET, "/projects/default", None).await;
    assert_shape("project", &project);
    let page = api.call(Method::POST, "/projects/page", Some(fixture("projects_page_request"))).await;
    assert!(page["results"].is_array() && page["total"].is_number(), "{page}");

    // The demo project's processings, and its mosaic with its image.
    let projects = api.call(Method::GET, "/projects", None).await;
    let demo = projects.as_array().unwrap().iter().find(|p| p["name"] == seed::DEMO_PROJECT_NAME).unwrap();
    let processings =
        api.call(Method::GET, &format!("/projects/{}/processings/v2", demo["id"].as_str().unwrap()), None).await;
    let failed = processings.as_array().unwrap().iter().find(|p| p["status"] == "FAILED").unwrap();
    assert_shape("processing", failed);
    let mosaics = api.call(Method::GET, "/rasters/mosaic", None).await;
    let mosaic = &mosaics.as_array().unwrap()[0];
    assert_shape("mosaic", mosaic);
    let mosaic_id = mosaic["id"].as_str().unwrap().to_owned();
    let images = api.call(Method::GET, &format!("/rasters/mosaic/{mosaic_id}/image"), None).await;
    assert_shape("raster_image", &images.as_array().unwrap()[0]);
    assert_shape("memory", &api.call(Method::GET, "/rasters/memory", None).await);

    // The catalog: the documented query (its provider one the sandbox has), and an image.
    let provider = status["searchDataProviders"][0]["name"].as_str().unwrap().to_owned();
    let mut query = fixture("catalog_meta_request");
    let searched = query["aoi"].clone();
    query["dataProviders"] = json!([provider]);
    query["maxResolution"] = json!(1.0);
    query["minResolution"] = json!(0.0);
    query["maxCloudCover"] = json!(100);
    query["minAoiIntersectionPercent"] = json!(0);
    query["acquisitionDateFrom"] = json!("2015-01-01T00:00:00Z");
    query["acquisitionDateTo"] = json!("2026-01-01T00:00:00Z");
    let found = api.call(Method::POST, "/catalog/meta", Some(query)).await;
    let image = &found["images"].as_array().filter(|i| !i.is_empty()).unwrap_or_else(|| panic!("no image: {found}"))[0];
    assert_shape("catalog_image", image);

    // Every kind of source, as documented, estimated for the default project.
    let model = |name: &str| {
        status["models"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"].as_str().unwrap().contains(name))
            .cloned()
            .unwrap()
    };
    let data_provider = status["dataProviders"][0]["name"].as_str().unwrap().to_owned();
    for (name, fill) in [
        ("processing_create_provider", json!({"dataProvider": {"providerName": data_provider, "zoom": 18}})),
        ("processing_create_user_defined", Value::Null),
        (
            "processing_create_imagery_search",
            json!({"imagerySearch": {"dataProvider": image["providerName"], "imageIds": [image["id"]], "zoom": 18}}),
        ),
        ("processing_create_my_imagery", json!({"myImagery": {"mosaicId": mosaic_id}})),
    ] {
        let mut body = fixture(name);
        body["projectId"] = project["id"].clone();
        // The searched area: over the found image, and above every provider's minimum.
        body["geometry"] = searched.clone();
        if body.get("wdId").is_some() {
            body["wdId"] = model("Buildings")["id"].clone();
        } else {
            let wanted = if name.contains("user_defined") { "Roads" } else { "Buildings" };
            body["wdName"] = model(wanted)["name"].clone();
        }
        if !fill.is_null() {
            body["params"]["sourceParams"] = fill;
        }
        if let Some(blocks) = body["blocks"].as_array_mut() {
            blocks.retain(|b| {
                model("Buildings")["blocks"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|m| m["name"] == b["name"] && m["optional"] == true)
            });
        }
        let cost = api.call(Method::POST, "/processing/cost/v2", Some(body)).await;
        assert!(cost.as_f64().is_some_and(|c| c >= 0.0), "{name}: the estimate is a bare number: {cost}");
    }
    assert_eq!(api.sandbox.unexpected_requests(), Vec::<String>::new());
}

/// The enterprise shapes: a project shared with the demo account read-only (its role, the
/// owner's limits, the members), a processing in review, and the review and share requests
/// as documented, sent by the team account that owns the project.
#[tokio::test]
async fn the_sandbox_answers_shared_projects_and_reviews_as_documented() {
    let config = SandboxConfig { record_requests: true, ..SandboxConfig::default() };
    let api = Api { sandbox: StrictSandbox::start(config), http: reqwest::Client::new() };
    let team = api.sandbox.team_token().clone();

    let projects = api.call(Method::GET, "/projects", None).await;
    let shared = projects
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == mapflow_sandbox::SHARED_READONLY_PROJECT)
        .unwrap()
        .clone();
    assert_shape("project_shared", &shared);
    assert_eq!(shared["user"]["role"], "readonly");
    assert_eq!(shared["user"]["email"], api.sandbox.token().email());
    assert_eq!(shared["user"]["aoiAreaLimit"], 25_000_000, "the owner's limit");
    assert_eq!(shared["user"]["reviewWorkflowEnabled"], true, "the owner's review workflow");
    assert_eq!(shared["shareProject"]["owners"], json!([{"email": team.email(), "role": "owner"}]));
    assert_eq!(shared["shareProject"]["users"], json!([{"email": api.sandbox.token().email(), "role": "readonly"}]));
    let id = shared["id"].as_str().unwrap().to_owned();

    let processings = api.call(Method::GET, &format!("/projects/{id}/processings/v2"), None).await;
    let in_review: Vec<&Value> =
        processings.as_array().unwrap().iter().filter(|p| p["reviewStatus"]["reviewStatus"] == "IN_REVIEW").collect();
    assert_eq!(in_review.len(), 2, "{processings:#}");
    assert_shape("processing_in_review", in_review[0]);
    assert!(in_review[0]["reviewStatus"]["inReviewUntil"].is_string());
    for state in ["ACCEPTED", "REFUNDED"] {
        assert!(processings.as_array().unwrap().iter().any(|p| p["reviewStatus"]["reviewStatus"] == state), "{state}");
    }

    // The owner rejects one with the documented body, accepts the other.
    let rejected = in_review[0]["id"].as_str().unwrap().to_owned();
    let accepted = in_review[1]["id"].as_str().unwrap().to_owned();
    let body = fixture("processing_rejection_request");
    let answer =
        api.call_as(&team, Method::PUT, &format!("/processings/{rejected}/rejection"), Some(body.clone())).await;
    assert_eq!(answer["reviewStatus"]["reviewStatus"], "NOT_ACCEPTED");
    let (status, comment, features) = api.sandbox.review_decision(&rejected).unwrap();
    assert_eq!(status, "NOT_ACCEPTED");
    assert_eq!(comment.as_deref(), body["comment"].as_str());
    assert_eq!(features.unwrap(), body["features"], "the marked features are kept as sent");
    let answer = api.call_as(&team, Method::PUT, &format!("/processings/{accepted}/acceptation"), None).await;
    assert_eq!(answer["reviewStatus"]["reviewStatus"], "ACCEPTED");

    // The documented share request, for the team's project.
    let mut share = fixture("project_share_request");
    share["projectId"] = json!(id);
    let answer = api.call_as(&team, Method::POST, "/projects/share", Some(share)).await;
    assert_shape("project", &answer);
    assert!(
        answer["shareProject"]["users"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["email"] == "editor@example.com" && m["role"] == "maintainer"),
        "{answer:#}"
    );
    // The team account's own status: the review workflow on.
    let status = api.call_as(&team, Method::GET, "/user/status", None).await;
    assert_shape("user_status", &status);
    assert_eq!(status["reviewWorkflowEnabled"], true);
    assert_eq!(api.call(Method::GET, "/user/status", None).await["reviewWorkflowEnabled"], false);
    assert_eq!(api.sandbox.unexpected_requests(), Vec::<String>::new());
}

#[test]
fn the_client_reads_and_writes_planned_searches_as_documented() {
    client_reads::<api::TemplateWithResults>("template_with_results", &[]);
    client_reads::<api::Template>("template_short", &[]);
    client_reads::<api::TemplateImagesPage>("template_images_page", &[]);
    client_reads::<api::AoisAdded>("template_aois_added", &[]);
    client_reads::<api::AoisDeleted>("template_aois_deleted", &[]);
    client_reads::<api::Processing>("template_processing_v1", &[]);
    client_writes::<api::TemplateCreate>("template_create_request");
    client_writes::<api::TemplateUpdate>("template_update_request");
    client_writes::<api::TemplateRun>("template_run_request");
    client_writes::<api::TemplateAoiInput>("template_aoi_request");
    client_writes::<api::TemplateAoisInput>("template_aois_request");
    client_writes::<api::TemplateAoiUpdate>("template_aoi_update_request");
    client_writes::<api::TemplateAoisDelete>("template_aoi_delete_request");
    client_writes::<api::TemplateImagesQuery>("template_images_request");
}

/// Replaces the placeholders of a request fixture (`"PROJECT_ID"`, …) with real values.
fn filled(name: &str, values: &[(&str, &str)]) -> Value {
    let mut text = fixture(name).to_string();
    for (from, to) in values {
        text = text.replace(&format!("\"{from}\""), &format!("\"{to}\""));
    }
    serde_json::from_str(&text).unwrap()
}

/// The sandbox takes every planned-search request fixture and answers with every key of the
/// response fixtures.
#[tokio::test]
async fn the_sandbox_answers_planned_searches_as_documented() {
    let config = SandboxConfig {
        record_requests: true,
        template_search_seconds: 0.2,
        template_check_seconds: 0.2,
        ..SandboxConfig::default()
    };
    let api = Api { sandbox: StrictSandbox::start(config), http: reqwest::Client::new() };
    let project = api.call(Method::GET, "/projects/default", None).await["id"].as_str().unwrap().to_owned();
    let created = api
        .call(
            Method::POST,
            "/processings/template",
            Some(filled("template_create_request", &[("PROJECT_ID", &project)])),
        )
        .await;
    let id = created["template"]["id"].as_str().unwrap().to_owned();
    let path = format!("/processings/template/{id}");
    // Wait for a check, so that every key has a value to compare.
    let start = std::time::Instant::now();
    let full = loop {
        let t = api.call(Method::GET, &path, None).await;
        if t["template"]["status"] == "UPDATED" {
            break t;
        }
        assert!(start.elapsed() < std::time::Duration::from_secs(10), "{t:#}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let image = full["searchResults"][0].clone();
    let provider = image["metadata"]["providerName"].as_str().unwrap().to_owned();
    let image_id = image["id"].as_str().unwrap().to_owned();
    let run = filled("template_run_request", &[("PROVIDER", &provider), ("IMAGE_ID", &image_id)]);
    api.call(Method::POST, &format!("{path}/v2"), Some(run)).await;
    let full = api.call(Method::GET, &path, None).await;
    assert_shape("template_with_results", &full);
    let short = api.call(Method::GET, &format!("/processings/template/project/{project}"), None).await;
    assert_shape("template_short", &short[0]);
    assert!(short[0].get("searchParams").is_none());
    let listed = api.call(Method::GET, "/processings/template", None).await;
    assert_shape("template_with_results", &json!({"template": listed[0], "searchResults": []}));

    let updated = api.call(Method::PUT, &path, Some(fixture("template_update_request"))).await;
    assert_eq!(updated["searchParams"]["maxCloudCover"], 20);
    let added = api.call(Method::POST, &format!("{path}/aoi"), Some(fixture("template_aoi_request"))).await;
    assert_shape("template_aois_added", &added);
    let added = api.call(Method::POST, &format!("{path}/aoi"), Some(fixture("template_aois_request"))).await;
    assert_eq!(added["addedCount"], 2);
    let aoi =
        full["template"]["searchParams"]["aoiDetails"]["features"][0]["properties"]["id"].as_str().unwrap().to_owned();
    let feature =
        api.call(Method::POST, &format!("{path}/aoi/{aoi}"), Some(fixture("template_aoi_update_request"))).await;
    assert_eq!(feature["properties"]["name"], "East side");
    let page = api
        .call(Method::POST, &format!("{path}/images"), Some(filled("template_images_request", &[("AOI_ID", &aoi)])))
        .await;
    assert!(page["results"].is_array() && page["total"].is_number(), "{page}");
    let page = api.call(Method::POST, &format!("{path}/images"), Some(json!({"limit": 5, "offset": 0}))).await;
    assert_shape("template_images_page", &page);
    let processings = api.call(Method::GET, &format!("{path}/processings"), None).await;
    assert_shape("template_processing_v1", &processings[0]);
    assert_eq!(processings[0]["params"]["zoom"], "18");
    let deleted = api
        .call(Method::DELETE, &format!("{path}/aoi"), Some(filled("template_aoi_delete_request", &[("AOI_ID", &aoi)])))
        .await;
    assert_shape("template_aois_deleted", &deleted);
    assert_eq!(deleted["deletedCount"], 1);
    assert_eq!(api.sandbox.unexpected_requests(), Vec::<String>::new());
}
