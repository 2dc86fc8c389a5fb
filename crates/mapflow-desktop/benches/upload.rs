//! How fast and how lean a large upload is through `Client::upload_image`.
//!
//! Generates a GeoTIFF of `UPLOAD_BENCH_MB` megabytes (default 1024) with
//! `write_test_geotiff` in a temp dir, serves the sandbox (with a temp data dir) from a child
//! process — so the client's memory figures are the client's alone — and uploads the file:
//! - through `Client::upload_image`, measuring MB/s and this process's resident memory
//!   (`VmRSS`) before, after and at its peak (a sampler thread reads `/proc/self/status`);
//! - with `curl -F file=@…` to the same endpoint, as the yardstick.
//!
//! The two alternate in ABBA order for `UPLOAD_BENCH_ROUNDS` rounds each (default 2) and
//! the best of each counts, since the machine's load drifts. Targets: client throughput
//! ≥ 70 % of curl's, resident memory growth < 64 MiB.
//! Run with `cargo bench --bench upload` (try `UPLOAD_BENCH_MB=64` first).
#![allow(clippy::unwrap_used)]

use testkit::test_geotiff;

use mapflow_desktop::api::{Client, ClientConfig, MosaicId, UploadError};
use mapflow_desktop::sandbox::{Sandbox, SandboxConfig, demo_token};
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use test_geotiff::write_test_geotiff;
use tokio_util::sync::CancellationToken;

const MIB: u64 = 1024 * 1024;
const RATIO_TARGET: f64 = 0.70;
const RSS_TARGET: u64 = 64 * MIB;
/// Set in the child process that serves the sandbox: its data directory.
const SERVE_ENV: &str = "UPLOAD_BENCH_SERVE";

fn main() {
    if let Ok(dir) = std::env::var(SERVE_ENV) {
        serve(Path::new(&dir));
        return;
    }
    let mb: u64 = match std::env::var("UPLOAD_BENCH_MB") {
        Ok(v) => {
            v.trim().parse().unwrap_or_else(|_| panic!("UPLOAD_BENCH_MB must be a number of megabytes, got {v:?}"))
        }
        Err(_) => 1024,
    };
    let work = tempfile::tempdir().unwrap();
    // The source file, the sandbox's copy and headroom.
    let needed = (3 * mb * MIB).max(3 * 1024 * MIB);
    match free_disk(work.path()) {
        Some(free) if free < needed => {
            println!(
                "SKIP upload bench: {:.1} GiB free in {}, {:.1} GiB needed",
                free as f64 / (1024 * MIB) as f64,
                work.path().display(),
                needed as f64 / (1024 * MIB) as f64
            );
            return;
        }
        Some(_) => {}
        None => println!("note: could not tell the free disk space (no `df`?); going on"),
    }

    // Three uint8 bands on a square: the sides stay within the service's 30000 px.
    let side = (((mb * MIB) as f64 / 3.0).sqrt().round() as u32).max(1);
    let path = work.path().join("bench.tif");
    let t = Instant::now();
    write_test_geotiff(&path, side, side, 3, 32637, [400_000.0, 6_200_000.0], [0.5, 0.5], true).unwrap();
    let size = std::fs::metadata(&path).unwrap().len();
    println!(
        "generated {} ({side}×{side}×3, {:.1} MiB) in {:.1} s",
        path.display(),
        size as f64 / MIB as f64,
        t.elapsed().as_secs_f64()
    );

    let (mut child, base) = start_server(&work.path().join("sandbox"));
    let token = demo_token();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let client = Client::new(ClientConfig::new(base.clone(), token.clone())).unwrap();

    let (mosaic, memory) = runtime.block_on(async {
        let mosaic = client.create_mosaic("Upload bench", &[]).await.unwrap();
        (mosaic, client.memory().await.unwrap())
    });
    println!(
        "sandbox at {base}: maxUploadFileSize {:?}, memoryFree {:?}",
        memory.max_upload_file_size, memory.memory_free
    );

    // Rounds in ABBA order (client, curl, curl, client, …) so drift in the machine's load
    // weighs on both alike; the best round of each counts.
    let rounds: usize = std::env::var("UPLOAD_BENCH_ROUNDS").ok().and_then(|v| v.trim().parse().ok()).unwrap_or(2);
    let mut client_best: Option<f64> = None;
    let mut curl_best: Option<f64> = None;
    let mut growth_peak = 0u64;
    let mut curl_missing = false;
    for round in 0..rounds.max(1) * 2 {
        let client_turn = (round % 4 == 0) || (round % 4 == 3);
        if client_turn {
            match client_round(&runtime, &client, &mosaic.id, &path, size) {
                Ok((mbs, growth)) => {
                    client_best = Some(client_best.map_or(mbs, |b: f64| b.max(mbs)));
                    growth_peak = growth_peak.max(growth);
                }
                Err(e) => {
                    println!("FAIL client upload: {e}");
                    finish(&mut child);
                    drop(work); // `exit` runs no destructors: remove the big file now.
                    std::process::exit(1);
                }
            }
        } else if !curl_missing {
            match curl_upload(&base, token.expose(), &mosaic.id, &path, size) {
                Some(mbs) => curl_best = Some(curl_best.map_or(mbs, |b: f64| b.max(mbs))),
                None => curl_missing = true,
            }
        }
        // Free the sandbox's storage (and disk) for the next copy.
        runtime.block_on(async {
            for image in client.mosaic_images(&mosaic.id).await.unwrap() {
                client.delete_image(&image.id).await.unwrap();
            }
        });
    }

    let mut failed = false;
    let client_mbs = client_best.unwrap_or_default();
    match curl_best {
        Some(curl_mbs) => {
            let ratio = client_mbs / curl_mbs;
            let pass = ratio >= RATIO_TARGET;
            failed |= !pass;
            println!(
                "{} throughput (best of {rounds}): client {client_mbs:.1} MiB/s / curl {curl_mbs:.1} MiB/s = {ratio:.2} (target ≥ {RATIO_TARGET:.2})",
                if pass { "PASS" } else { "FAIL" }
            );
        }
        None => println!("SKIP throughput ratio: no curl figure (client {client_mbs:.1} MiB/s)"),
    }
    let pass = growth_peak < RSS_TARGET;
    failed |= !pass;
    println!(
        "{} memory: peak RSS growth {:.1} MiB during the uploads (target < {:.0} MiB)",
        if pass { "PASS" } else { "FAIL" },
        mib(growth_peak),
        mib(RSS_TARGET)
    );
    finish(&mut child);
    drop(work);
    if failed {
        std::process::exit(1);
    }
}

/// One upload through `Client::upload_image`: prints and returns its MiB/s and this
/// process's peak resident-memory growth during it.
fn client_round(
    runtime: &tokio::runtime::Runtime,
    client: &Client,
    mosaic: &MosaicId,
    path: &Path,
    size: u64,
) -> Result<(f64, u64), UploadError> {
    let rss_before = rss().unwrap_or(0);
    let peak = Arc::new(AtomicU64::new(rss_before));
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, stop) = (Arc::clone(&peak), Arc::clone(&stop));
        std::thread::Builder::new()
            .name("rss-sampler".into())
            .spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    if let Some(v) = rss() {
                        peak.fetch_max(v, Ordering::Relaxed);
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
            })
            .unwrap()
    };
    let last_progress = Arc::new(AtomicU64::new(0));
    let progress = {
        let last = Arc::clone(&last_progress);
        move |n: u64| last.store(n, Ordering::Relaxed)
    };
    let t = Instant::now();
    let answer = runtime.block_on(client.upload_image(mosaic, path, progress, CancellationToken::new()));
    let secs = t.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    sampler.join().unwrap();
    let rss_after = rss().unwrap_or(0);
    // The sampler may have slept through the last moments.
    peak.fetch_max(rss_after, Ordering::Relaxed);
    answer?;
    let mbs = size as f64 / MIB as f64 / secs;
    let peak = peak.load(Ordering::Relaxed);
    let growth = peak.saturating_sub(rss_before);
    println!(
        "client: {:.1} MiB in {secs:.2} s = {mbs:.1} MiB/s (progress reached {} of {size} bytes); \
         RSS before {:.1} MiB, peak {:.1} MiB, after {:.1} MiB → growth {:.1} MiB",
        mib(size),
        last_progress.load(Ordering::Relaxed),
        mib(rss_before),
        mib(peak),
        mib(rss_after),
        mib(growth)
    );
    Ok((mbs, growth))
}

/// The child process: serves the sandbox with `dir` as its data directory, prints its base
/// URL, and stops when the parent closes stdin.
fn serve(dir: &Path) {
    let sandbox = Sandbox::start(SandboxConfig { data_dir: Some(dir.to_owned()), ..SandboxConfig::default() }).unwrap();
    let mut out = std::io::stdout();
    writeln!(out, "{}", sandbox.base_url()).unwrap();
    out.flush().unwrap();
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
    drop(sandbox);
}

/// Starts this binary again as the sandbox server and reads its base URL.
fn start_server(dir: &Path) -> (std::process::Child, String) {
    std::fs::create_dir_all(dir).unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .env(SERVE_ENV, dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let base = line.trim().to_owned();
    assert!(base.starts_with("http"), "the sandbox child said {line:?}");
    (child, base)
}

/// Closes the child's stdin (it stops) and waits for it.
fn finish(child: &mut std::process::Child) {
    drop(child.stdin.take());
    let _ = child.wait();
}

/// `curl -F file=@path` into the mosaic; MiB/s, or `None` (with the reason printed).
fn curl_upload(base: &str, token: &str, mosaic: &MosaicId, path: &Path, size: u64) -> Option<f64> {
    if Command::new("curl").arg("--version").stdout(Stdio::null()).status().is_err() {
        println!("SKIP curl: `curl` is not installed");
        return None;
    }
    let url = format!("{base}/rasters/mosaic/{mosaic}/image");
    let t = Instant::now();
    let out = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-H"])
        .arg(format!("Authorization: Basic {token}"))
        .arg("-F")
        .arg(format!("file=@{}", path.display()))
        .arg(&url)
        .output()
        .ok()?;
    let secs = t.elapsed().as_secs_f64();
    let code = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if !code.starts_with('2') {
        println!("FAIL curl upload: HTTP {code} ({})", String::from_utf8_lossy(&out.stderr).trim());
        return None;
    }
    let mbs = size as f64 / MIB as f64 / secs;
    println!("curl:   {:.1} MiB in {secs:.2} s = {mbs:.1} MiB/s", size as f64 / MIB as f64);
    Some(mbs)
}

/// This process's resident set size in bytes, from `/proc/self/status`.
fn rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Free bytes on the file system of `dir`, from `df -Pk`.
fn free_disk(dir: &Path) -> Option<u64> {
    let out = Command::new("df").arg("-Pk").arg(dir).output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let kb: u64 = text.lines().nth(1)?.split_whitespace().nth(3)?.parse().ok()?;
    Some(kb * 1024)
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / MIB as f64
}
