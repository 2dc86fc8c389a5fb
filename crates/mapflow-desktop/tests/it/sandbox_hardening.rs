//! The sandbox against hostile or careless requests: crafted image headers, nonsense
//! configuration, floods of unknown paths, huge geometries and malformed requests. Each
//! is refused with the API's error body while the server keeps answering others.

use std::time::{Duration, Instant};
use testkit::sandbox_setup::StrictSandbox;

use testkit::crafted_tiff;
use testkit::detailed_aoi;

use crafted_tiff::stripped;
use detailed_aoi::circle;
use mapflow_desktop::sandbox::{Sandbox, SandboxConfig};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn start() -> StrictSandbox {
    StrictSandbox::start(SandboxConfig::default())
}

/// A request to `path` (relative to the base URL) with the sandbox's token.
fn req(sb: &Sandbox, method: Method, path: &str) -> reqwest::RequestBuilder {
    reqwest::Client::new()
        .request(method, format!("{}{path}", sb.base_url()))
        .header("Authorization", format!("Basic {}", sb.token().expose()))
}

/// The status and JSON body of an answer; a body that is not JSON fails the test.
async fn answer(r: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let r = r.send().await.unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    let value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{status}: not JSON ({e}): {text:?}"));
    (status, value)
}

/// Asserts the Processing API's error shape `{code, message, params}`.
fn assert_processing_error(body: &Value) {
    assert!(body["code"].is_string(), "{body}");
    assert!(body["message"].is_string(), "{body}");
    assert!(body["params"].is_object(), "{body}");
}

/// The text of a Data-API error `{"detail": …}`: the message of a coded one, else the text.
fn data_error_text(body: &Value) -> String {
    match &body["detail"] {
        Value::String(s) => s.clone(),
        Value::Object(o) => o["message"].as_str().unwrap_or_else(|| panic!("{body}")).to_owned(),
        _ => panic!("not a Data-API error: {body}"),
    }
}

async fn assert_alive(sb: &Sandbox) {
    let (status, body) = answer(req(sb, Method::GET, "/user/status")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

// ---- Crafted GeoTIFF headers ----

async fn upload_bytes(sb: &Sandbox, mosaic: &str, bytes: Vec<u8>, filename: &str) -> (StatusCode, Value) {
    let part = reqwest::multipart::Part::bytes(bytes).file_name(filename.to_owned());
    let form = reqwest::multipart::Form::new().part("file", part);
    answer(req(sb, Method::POST, &format!("/rasters/mosaic/{mosaic}/image")).multipart(form)).await
}

#[tokio::test]
async fn crafted_geotiff_headers_are_refused_at_upload() {
    let sb = start();
    let (status, body) = answer(req(&sb, Method::POST, "/rasters/mosaic").json(&json!({"name": "crafted"}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mosaic = body["id"].as_str().unwrap().to_owned();

    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        // 30000 px × 1 row × 65535 float64 samples: 15.7 GB declared by 12 KB.
        ("samples.tif", stripped(30_000, 1, 65_535, 64, &[8], &[12_000]), "samples per pixel"),
        ("row.tif", stripped(2_000_000, 1, 16, 64, &[8], &[12_000]), "a row of the image"),
        ("bits.tif", stripped(100, 1, 1, 12, &[8], &[150]), "12-bit"),
        ("beyond.tif", stripped(100, 1, 1, 8, &[1_000_000], &[100]), "beyond the end of the file"),
        ("short.tif", stripped(100, 1, 1, 8, &[8], &[10]), "holds 10 bytes"),
        ("strips.tif", stripped(100, 10, 1, 8, &[8, 108], &[100, 100]), "inconsistent sizes"),
    ];
    for (name, bytes, reason) in cases {
        assert!(bytes.len() < 13_000, "{name} is {} bytes", bytes.len());
        let (status, body) = upload_bytes(&sb, &mosaic, bytes, name).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{name}: {body}");
        let text = data_error_text(&body);
        assert!(text.contains(name) && text.contains(reason), "{name}: {body}");
        assert_alive(&sb).await;
    }
    // Nothing was stored, so no later preview or tile can trip on it.
    let (status, images) = answer(req(&sb, Method::GET, &format!("/rasters/mosaic/{mosaic}/image"))).await;
    assert_eq!(status, StatusCode::OK, "{images}");
    assert_eq!(images.as_array().unwrap().len(), 0, "{images}");

    // A consistent file of the same kind is still accepted.
    let (status, body) = upload_bytes(&sb, &mosaic, stripped(100, 1, 1, 8, &[8], &[100]), "fine.tif").await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

// ---- Configuration ----

/// Runs `mapflow-desktop sandbox --processing-seconds <value>` on a free port with its
/// state in a temporary directory; returns its exit status and stderr, or fails the test
/// when it is still serving after 20 s (the value was accepted).
fn run_sandbox_with(value: &str) -> (std::process::ExitStatus, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_mapflow-desktop"))
        .args(["sandbox", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .args(["--processing-seconds", value])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(20) {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("--processing-seconds {value} was accepted: the sandbox is serving");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().unwrap();
    (output.status, String::from_utf8_lossy(&output.stderr).into_owned())
}

#[test]
fn the_command_line_refuses_nonsense_durations() {
    for value in ["inf", "nan", "-1", "-inf", "1e300", "soon"] {
        let (status, stderr) = run_sandbox_with(value);
        assert!(!status.success(), "{value}: {status}");
        assert!(stderr.contains("--processing-seconds"), "{value}: {stderr}");
    }
}

#[test]
fn a_sandbox_does_not_start_with_nonsense_durations() {
    for value in [f64::INFINITY, f64::NEG_INFINITY, f64::NAN, -1.0, 1e300] {
        let err = Sandbox::start(SandboxConfig { processing_seconds: value, ..SandboxConfig::default() })
            .err()
            .unwrap_or_else(|| panic!("processing_seconds {value} was accepted"));
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
        assert!(err.to_string().contains("processing_seconds"), "{err}");
        let err = Sandbox::start(SandboxConfig { demo_finish_seconds: value, ..SandboxConfig::default() })
            .err()
            .unwrap_or_else(|| panic!("demo_finish_seconds {value} was accepted"));
        assert!(err.to_string().contains("demo_finish_seconds"), "{err}");
    }
    // The limits themselves are fine.
    drop(StrictSandbox::start(SandboxConfig { processing_seconds: 0.0, ..SandboxConfig::default() }));
    let max = mapflow_desktop::sandbox::MAX_PROCESSING_SECONDS;
    drop(StrictSandbox::start(SandboxConfig { processing_seconds: max, ..SandboxConfig::default() }));
}

// ---- Request bookkeeping ----

/// `count` requests to distinct long paths no route matches, each checked for the API's
/// 404 body, over one connection pool.
async fn flood_unknown_paths(sb: &Sandbox, count: usize) {
    let client = reqwest::Client::new();
    let filler = "x".repeat(2000);
    for i in 0..count {
        let path = if i % 2 == 0 { format!("/rest/no/{i}/{filler}") } else { format!("/elsewhere/{i}/{filler}") };
        let r = client.get(format!("http://{}{path}", sb.addr())).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["code"], "NOT_FOUND", "{body}");
        assert_processing_error(&body);
        // The path is echoed cut short, with its length, not whole.
        let message = body["message"].as_str().unwrap();
        assert!(message.chars().count() < 300 && message.contains("characters)"), "{message}");
    }
}

#[tokio::test]
async fn unknown_paths_leave_no_records_by_default() {
    // A sandbox as users run it, not the tests' strict one: it must keep nothing.
    let sb = Sandbox::start(SandboxConfig::default()).unwrap();
    flood_unknown_paths(&sb, 2000).await;
    assert_eq!(sb.recorded_entries(), 0);
    assert!(sb.unexpected_requests().is_empty());
    assert_eq!(sb.hits("GET", "/rest/no/0/x"), 0);
    let r = reqwest::get(format!("{}/preview/nothing.png", sb.preview_base_url())).await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(sb.preview_requests().is_empty());
    assert_eq!(sb.recorded_entries(), 0);
    assert_alive(&sb).await;
}

#[tokio::test]
async fn recording_when_asked_is_bounded() {
    let mut sb = StrictSandbox::start(SandboxConfig { record_requests: true, ..SandboxConfig::default() });
    sb.allow_unexpected_routes();
    flood_unknown_paths(&sb, 1500).await;
    // Every request is a distinct path and an unmatched request: both are capped at 1024.
    assert_eq!(sb.recorded_entries(), 2 * 1024);
    assert_eq!(sb.unexpected_requests().len(), 1024);
    assert_eq!(sb.unrecorded_requests(), 2 * (1500 - 1024));
    // What is kept still counts.
    assert_eq!(sb.hits("GET", &format!("/rest/no/0/{}", "x".repeat(2000))), 1);
}

// ---- Detailed geometries ----

fn cost_body(geometry: Value) -> Value {
    json!({
        "wdId": mapflow_desktop::sandbox::seed::BUILDINGS_ID,
        "geometry": geometry,
        "params": {"sourceParams": {"dataProvider": {"providerName": mapflow_desktop::sandbox::seed::MAPBOX}}},
    })
}

/// Answers `GET /user/status` and says how long it took.
async fn status_time(sb: &Sandbox) -> Duration {
    let started = Instant::now();
    assert_alive(sb).await;
    started.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn detailed_geometries_do_not_hold_up_the_server() {
    let sb = start();

    // Over the vertex limit: refused at once, naming the limit.
    let huge = req(&sb, Method::POST, "/processing/cost/v2").json(&cost_body(circle(50_000)));
    let started = Instant::now();
    let pending = tokio::spawn(answer(huge));
    let status_wait = status_time(&sb).await;
    let (status, body) = pending.await.unwrap();
    let elapsed = started.elapsed();
    println!("50,000 vertices refused in {elapsed:?}; /user/status meanwhile in {status_wait:?}");
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_processing_error(&body);
    assert!(body["message"].as_str().unwrap().contains("20000"), "{body}");
    assert_eq!(body["params"]["maxVertices"], "20000", "{body}");
    assert_eq!(body["params"]["vertices"], "50001", "{body}",);
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
    assert!(status_wait < Duration::from_millis(500), "{status_wait:?}");

    // The catalog search refuses it the same way.
    let search = json!({"aoi": circle(50_000), "limit": 10});
    let (status, body) = answer(req(&sb, Method::POST, "/catalog/meta").json(&search)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["params"]["maxVertices"], "20000", "{body}");

    // Under the limit: checked without holding up other requests, and accepted.
    let detailed = req(&sb, Method::POST, "/processing/cost/v2").json(&cost_body(circle(19_000)));
    let started = Instant::now();
    let pending = tokio::spawn(answer(detailed));
    let mut slowest = status_time(&sb).await;
    while !pending.is_finished() {
        slowest = slowest.max(status_time(&sb).await);
    }
    let (status, body) = pending.await.unwrap();
    println!("19,000 vertices checked in {:?}; slowest /user/status meanwhile {slowest:?}", started.elapsed());
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.is_i64(), "{body}");
    assert!(slowest < Duration::from_millis(500), "{slowest:?}");
}

// ---- Malformed requests ----

/// Sends `GET <path>` over a raw connection (HTTP clients refuse URIs over 64 KiB, the
/// server must still answer them) and reads the answer to its end: status and body.
fn raw_get(sb: &Sandbox, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(sb.addr()).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Basic {}\r\nConnection: close\r\n\r\n",
        sb.addr(),
        sb.token().expose()
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or_else(|| panic!("no head: {answer:?}"));
    assert!(head.to_ascii_lowercase().contains("content-type: application/json"), "{head}");
    let status = head.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or_else(|| panic!("{head}"));
    (status, body.to_owned())
}

#[tokio::test]
async fn long_ids_are_refused_with_the_api_error_shape() {
    let sb = start();
    for len in [70_000, 200_000] {
        let path = format!("/rest/projects/{}", "a".repeat(len));
        // The sandbox serves on its own thread: a blocking client is fine here.
        let (status, body) = raw_get(&sb, &path);
        assert_eq!(status, 414, "{len}: {body}");
        let body: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{len}: {e}: {body:?}"));
        assert_eq!(body["code"], "URI_TOO_LONG", "{body}");
        assert_processing_error(&body);
        assert_alive(&sb).await;
    }
    // Shorter than that, a long id is simply not found.
    let (status, body) = answer(req(&sb, Method::GET, &format!("/projects/{}", "a".repeat(60_000)))).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_processing_error(&body);
}

#[tokio::test]
async fn paths_that_are_not_utf8_are_refused_with_the_api_error_shape() {
    let sb = start();
    let (status, body) = answer(req(&sb, Method::GET, "/projects/%FF")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_processing_error(&body);
    let (status, body) = answer(req(&sb, Method::GET, "/rasters/mosaic/%FF")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(!data_error_text(&body).is_empty(), "{body}");
    assert_alive(&sb).await;
}

#[tokio::test]
async fn bodies_over_the_limit_are_refused_with_413_in_the_api_error_shape() {
    let sb = start();
    let big = format!("{{\"name\": \"{}\"}}", "x".repeat(3 * 1024 * 1024));
    let post = |path: &str| req(&sb, Method::POST, path).header("Content-Type", "application/json").body(big.clone());
    let (status, body) = answer(post("/rasters/mosaic")).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert!(!data_error_text(&body).is_empty(), "{body}");
    for path in ["/projects", "/processing/cost/v2", "/catalog/meta"] {
        let (status, body) = answer(post(path)).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{path}: {body}");
        assert_processing_error(&body);
    }
    assert_alive(&sb).await;
}

#[tokio::test]
async fn names_with_control_or_bidi_characters_and_overlong_descriptions_are_refused() {
    let sb = start();
    for name in ["nul\u{0}inside", "invoice\u{202E}fdp.exe", "two\nlines"] {
        let (status, body) = answer(req(&sb, Method::POST, "/projects").json(&json!({"name": name}))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{name:?}: {body}");
        assert_processing_error(&body);
        assert!(body["message"].as_str().unwrap().contains("must not contain"), "{body}");
    }
    let long = "d".repeat(5_000);
    let (status, body) =
        answer(req(&sb, Method::POST, "/projects").json(&json!({"name": "Fine", "description": long}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["message"].as_str().unwrap().contains("4000"), "{body}");
    // A description may have several lines; a name in any script is fine.
    let (status, body) =
        answer(req(&sb, Method::POST, "/projects").json(&json!({"name": "Съёмка 2026 🏠", "description": "one\ntwo"})))
            .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let (status, body) =
        answer(req(&sb, Method::POST, "/rasters/mosaic").json(&json!({"name": "m\u{2066}x", "tags": []}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["detail"].is_string() || body["detail"].is_object(), "the Data API's shape: {body}");
}

#[tokio::test]
async fn an_aoi_across_the_antimeridian_is_refused_not_searched_the_long_way() {
    let sb = start();
    let aoi = json!({"type": "Polygon", "coordinates": [[[179.9, 0.0], [-179.9, 0.0], [-179.9, 0.1], [179.9, 0.1], [179.9, 0.0]]]});
    let (status, body) = answer(req(&sb, Method::POST, "/catalog/meta").json(&json!({"aoi": aoi, "limit": 10}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_processing_error(&body);
    assert!(body["message"].as_str().unwrap().contains("antimeridian"), "{body}");
}
