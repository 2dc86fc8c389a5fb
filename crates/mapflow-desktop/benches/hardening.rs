//! The hardening probe, automated: the headless sandbox (`mapflow-desktop sandbox`, a child
//! process, so its memory is its own) under the inputs that once crashed, froze or bloated
//! it. Linux only (memory is read from `/proc/<pid>/status`).
//!
//! - **Crafted and big GeoTIFFs**: the probe's crafted headers (absurd sample counts and
//!   sizes, truncated strips) uploaded, then a real 6000 × 6000 RGB raster (108 MB)
//!   uploaded and previewed at both sizes and drawn as tiles. Target: the server's
//!   resident memory stays under 300 MB throughout (sampled every 5 ms, and its VmHWM).
//! - **A 50,000-vertex AOI** sent for an estimate while `/user/status` is polled. Targets:
//!   answered within 1 s; the slowest `/user/status` meanwhile under 100 ms (its idle
//!   median, measured first, is the baseline printed beside it).
//! - **12,000 unknown 2,000-character paths**, unauthenticated. Target: resident memory
//!   grows by less than 20 MB.
//! - **Small writes against a larger account**: the median time of a project rename with
//!   100 projects (the baseline) and with 2,000 projects of 4,000-character descriptions.
//!   Target: within 2× of the baseline (a write saves what changed, not the account).
//!
//! Run with `cargo bench --bench hardening`; it exits non-zero when a target is missed.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Child;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use testkit::crafted_tiff;
use testkit::detailed_aoi;
use testkit::headless;
use testkit::test_geotiff;

use crafted_tiff::stripped;
use detailed_aoi::circle;
use mapflow_desktop::sandbox::{demo_token, seed};
use serde_json::{Value, json};
use test_geotiff::write_test_geotiff;

const MB: u64 = 1_000_000;

fn main() {
    if !cfg!(target_os = "linux") {
        eprintln!("the hardening bench reads /proc/<pid>/status: it runs on Linux only");
        std::process::exit(2);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let failures = runtime.block_on(probe());
    if failures.is_empty() {
        println!("hardening: every target met");
    } else {
        for f in &failures {
            println!("FAIL {f}");
        }
        std::process::exit(1);
    }
}

struct Server {
    child: Child,
    url: String,
    http: reqwest::Client,
}

impl Server {
    fn start(dir: &Path) -> Self {
        let (child, url) = headless::start(std::path::Path::new(env!("CARGO_BIN_EXE_mapflow-desktop")), dir, "error");
        let http = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(120)).build().unwrap();
        Self { child, url, http }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.url))
            .header("authorization", format!("Basic {}", demo_token().expose()))
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> (u16, Value) {
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let bytes = response.bytes().await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    async fn status_time(&self) -> Duration {
        let started = Instant::now();
        let (status, _) = self.send(self.req(reqwest::Method::GET, "/user/status")).await;
        assert_eq!(status, 200);
        started.elapsed()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `/proc/<pid>/status` field in bytes (`VmRSS`, `VmHWM`).
fn proc_kb(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':')?.trim().strip_suffix("kB")?.trim().parse::<u64>().ok())
        .unwrap_or(0)
        * 1024
}

/// Samples a process's resident memory every 5 ms until dropped; the highest seen.
struct Sampler {
    peak: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl Sampler {
    fn new(pid: u32) -> Self {
        let peak = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (p, s) = (peak.clone(), stop.clone());
        std::thread::Builder::new()
            .name("rss-sampler".into())
            .spawn(move || {
                while !s.load(Ordering::Relaxed) {
                    p.fetch_max(proc_kb(pid, "VmRSS"), Ordering::Relaxed);
                    std::thread::sleep(Duration::from_millis(5));
                }
            })
            .unwrap();
        Self { peak, stop }
    }

    fn peak(&self) -> u64 {
        self.peak.load(Ordering::Relaxed)
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

async fn upload(server: &Server, mosaic: &str, bytes: Vec<u8>, name: &str) -> (u16, Value) {
    let part = reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned());
    let form = reqwest::multipart::Form::new().part("file", part);
    server.send(server.req(reqwest::Method::POST, &format!("/rasters/mosaic/{mosaic}/image")).multipart(form)).await
}

async fn upload_file(server: &Server, mosaic: &str, path: &Path) -> (u16, Value) {
    let file = tokio::fs::File::open(path).await.unwrap();
    let len = file.metadata().await.unwrap().len();
    let body = reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::new(file));
    let part = reqwest::multipart::Part::stream_with_length(body, len).file_name("big.tif");
    let form = reqwest::multipart::Form::new().part("file", part);
    server.send(server.req(reqwest::Method::POST, &format!("/rasters/mosaic/{mosaic}/image")).multipart(form)).await
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

async fn probe() -> Vec<String> {
    let mut failures = Vec::new();
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let pid = server.pid();

    // ---- TIFFs ----
    let sampler = Sampler::new(pid);
    let (status, mosaic) =
        server.send(server.req(reqwest::Method::POST, "/rasters/mosaic").json(&json!({"name": "probe"}))).await;
    assert_eq!(status, 200, "{mosaic}");
    let mosaic = mosaic["id"].as_str().unwrap().to_owned();
    let cases = [
        ("samples.tif", stripped(30_000, 1, 65_535, 64, &[8], &[12_000])),
        ("row.tif", stripped(2_000_000, 1, 16, 64, &[8], &[12_000])),
        ("huge.tif", stripped(30_000, 30_000, 4, 64, &[8], &[12_000])),
        ("beyond.tif", stripped(100, 1, 1, 8, &[1_000_000], &[100])),
        ("short.tif", stripped(100, 1, 1, 8, &[8], &[10])),
        ("strips.tif", stripped(100, 10, 1, 8, &[8, 108], &[100, 100])),
    ];
    let mut refused = 0;
    for (name, bytes) in cases {
        let (status, body) = upload(&server, &mosaic, bytes, name).await;
        if status == 400 {
            refused += 1;
        } else {
            failures.push(format!("crafted {name}: answered {status} {body}"));
        }
    }
    let big = dir.path().join("big-source.tif");
    write_test_geotiff(&big, 6000, 6000, 3, 3857, [8_560_000.0, 5_350_000.0], [0.5, 0.5], true).unwrap();
    let big_mb = std::fs::metadata(&big).unwrap().len() as f64 / MB as f64;
    let started = Instant::now();
    let (status, image) = upload_file(&server, &mosaic, &big).await;
    let upload_time = started.elapsed();
    assert_eq!(status, 200, "{image}");
    let (_, images) = server.send(server.req(reqwest::Method::GET, &format!("/rasters/mosaic/{mosaic}/image"))).await;
    let image = images.as_array().unwrap().iter().find(|i| i["filename"] == "big.tif").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let started = Instant::now();
    for size in ["s", "l"] {
        let r =
            server.req(reqwest::Method::GET, &format!("/rasters/image/{image}/preview/{size}")).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200);
        r.bytes().await.unwrap();
    }
    let preview_time = started.elapsed();
    let mut tiles = 0;
    for (z, x, y) in [(10, 611, 343), (12, 2446, 1374), (14, 9785, 5497), (15, 19571, 10994)] {
        let url = format!("{}/sandbox/mosaic-tiles/{mosaic}/{z}/{x}/{y}", server.url);
        let r = server.http.get(url).send().await.unwrap();
        if r.status().is_success() {
            tiles += 1;
        }
        r.bytes().await.unwrap();
    }
    let tiff_peak = sampler.peak().max(proc_kb(pid, "VmHWM"));
    drop(sampler);
    println!(
        "GeoTIFFs: {refused} of 6 crafted files refused; a {big_mb:.0} MB 6000x6000 raster uploaded in {:.2} s, \
         previewed (s, l) in {:.2} s, {tiles} tiles drawn; server peak RSS {:.0} MB (target < 300 MB)",
        upload_time.as_secs_f64(),
        preview_time.as_secs_f64(),
        tiff_peak as f64 / MB as f64
    );
    if tiff_peak >= 300 * MB {
        failures.push(format!("GeoTIFF peak RSS {} MB >= 300 MB", tiff_peak / MB));
    }

    // ---- A 50,000-vertex AOI ----
    let mut idle = Vec::new();
    for _ in 0..50 {
        idle.push(server.status_time().await);
    }
    let idle = median(idle);
    let body = json!({
        "wdId": seed::BUILDINGS_ID,
        "geometry": circle(50_000),
        "params": {"sourceParams": {"dataProvider": {"providerName": seed::MAPBOX}}},
    });
    let started = Instant::now();
    let pending = tokio::spawn({
        let request = server.req(reqwest::Method::POST, "/processing/cost/v2").json(&body);
        async move { request.send().await.map(|r| r.status().as_u16()) }
    });
    let mut slowest = Duration::ZERO;
    let mut polls = 0;
    while !pending.is_finished() {
        slowest = slowest.max(server.status_time().await);
        polls += 1;
    }
    let answered = started.elapsed();
    let status = pending.await.unwrap().unwrap();
    println!(
        "50,000 vertices: answered {status} in {:.0} ms (target < 1000); /user/status meanwhile: slowest {:.1} ms \
         over {polls} polls (target < 100), idle median {:.2} ms ({:.1}x)",
        answered.as_secs_f64() * 1e3,
        slowest.as_secs_f64() * 1e3,
        idle.as_secs_f64() * 1e3,
        slowest.as_secs_f64() / idle.as_secs_f64()
    );
    if answered >= Duration::from_secs(1) {
        failures.push(format!("50,000-vertex AOI answered in {answered:?}"));
    }
    if slowest >= Duration::from_millis(100) {
        failures.push(format!("/user/status took {slowest:?} while the AOI was checked"));
    }

    // ---- Unknown long paths ----
    let before = proc_kb(pid, "VmRSS");
    let long = "x".repeat(2_000);
    let anonymous = reqwest::Client::builder().no_proxy().build().unwrap();
    let mut pending = Vec::new();
    for i in 0..12_000 {
        let url = format!("{}/no/such/{i}/{long}", server.url);
        let client = anonymous.clone();
        pending.push(async move { client.get(url).send().await.map(|r| r.status().as_u16()) });
        if pending.len() == 32 {
            for r in futures_util::future::join_all(pending.drain(..)).await {
                assert_eq!(r.unwrap(), 404);
            }
        }
    }
    for r in futures_util::future::join_all(pending).await {
        assert_eq!(r.unwrap(), 404);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after = proc_kb(pid, "VmRSS");
    let growth = after.saturating_sub(before);
    println!(
        "12,000 unknown 2,000-character paths: RSS {:.1} MB -> {:.1} MB, grew {:.1} MB (target < 20 MB)",
        before as f64 / MB as f64,
        after as f64 / MB as f64,
        growth as f64 / MB as f64
    );
    if growth >= 20 * MB {
        failures.push(format!("unknown paths grew memory by {} MB", growth / MB));
    }

    // ---- Small writes as the account grows ----
    let description = "d".repeat(4_000);
    let mut ids = Vec::new();
    let create = |count: usize| {
        let server = &server;
        let description = description.clone();
        async move {
            let mut made = Vec::new();
            for i in 0..count {
                let (status, body) = server
                    .send(
                        server
                            .req(reqwest::Method::POST, "/projects")
                            .json(&json!({"name": format!("grow {i}"), "description": description})),
                    )
                    .await;
                assert_eq!(status, 200, "{body}");
                made.push(body["id"].as_str().unwrap().to_owned());
            }
            made
        }
    };
    ids.extend(create(100).await);
    let rename_median = |ids: Vec<String>| {
        let server = &server;
        async move {
            let mut times = Vec::new();
            for (n, id) in ids.iter().cycle().take(40).enumerate() {
                let started = Instant::now();
                let (status, _) = server
                    .send(
                        server
                            .req(reqwest::Method::PUT, &format!("/projects/{id}"))
                            .json(&json!({"name": format!("r{n}")})),
                    )
                    .await;
                assert_eq!(status, 200);
                times.push(started.elapsed());
            }
            median(times)
        }
    };
    let small = rename_median(ids[..10].to_vec()).await;
    ids.extend(create(1_900).await);
    let large = rename_median(ids[1_000..1_010].to_vec()).await;
    let ratio = large.as_secs_f64() / small.as_secs_f64();
    let db = std::fs::metadata(dir.path().join(mapflow_desktop::sandbox::STORE_FILE)).map(|m| m.len()).unwrap_or(0)
        + std::fs::metadata(dir.path().join(format!("{}-wal", mapflow_desktop::sandbox::STORE_FILE)))
            .map(|m| m.len())
            .unwrap_or(0);
    println!(
        "a project rename: median {:.2} ms with 100 projects, {:.2} ms with 2,000 ({:.1} MB on disk): {ratio:.2}x (target <= 2x)",
        small.as_secs_f64() * 1e3,
        large.as_secs_f64() * 1e3,
        db as f64 / MB as f64
    );
    if ratio > 2.0 {
        failures.push(format!("a small write is {ratio:.2}x slower with 2,000 projects"));
    }
    failures
}
