//! Export speed against GDAL: a generated result of `EXPORT_BENCH_FEATURES` buildings
//! (default 1,000,000, ~300 MB of GeoJSON) converted to GeoPackage and FlatGeobuf by the app
//! (`export::convert_file`, what Save results and `results save` run) and by `ogr2ogr` on
//! the same file, side by side, best of 3 each in ABAB order. Target: the app within 1.5×
//! of ogr2ogr's time for each format. Needs `ogr2ogr` (package `gdal-bin`).
//!
//! Run with `cargo bench --bench export`; it exits non-zero when a target is missed.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use mapflow_desktop::export::{Format, convert_file};

const RATIO_TARGET: f64 = 1.5;
const ROUNDS: usize = 3;

fn ogr2ogr(driver: &str, input: &Path, output: &Path) -> Duration {
    let _ = std::fs::remove_file(output);
    let started = Instant::now();
    let out = Command::new("ogr2ogr").args(["-f", driver]).arg(output).arg(input).output().unwrap();
    let took = started.elapsed();
    assert!(out.status.success(), "ogr2ogr: {}", String::from_utf8_lossy(&out.stderr));
    took
}

fn app(format: Format, input: &Path, output: &Path) -> Duration {
    let _ = std::fs::remove_file(output);
    let started = Instant::now();
    let written = convert_file(input, "buildings", Some(format), output).unwrap();
    let took = started.elapsed();
    assert!(written.features > 0);
    took
}

fn main() {
    if !Command::new("ogr2ogr").arg("--version").output().is_ok_and(|o| o.status.success()) {
        eprintln!("the export bench compares with ogr2ogr: install gdal-bin");
        std::process::exit(2);
    }
    let features: usize = std::env::var("EXPORT_BENCH_FEATURES").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("buildings.geojson");
    std::fs::write(&input, common::buildings(features, (37.62, 55.75))).unwrap();
    let mb = std::fs::metadata(&input).unwrap().len() as f64 / 1e6;
    println!("export bench: {features} buildings, {mb:.1} MB of GeoJSON, best of {ROUNDS}");
    let mut failed = false;
    for (format, driver) in [(Format::GeoPackage, "GPKG"), (Format::FlatGeobuf, "FlatGeobuf")] {
        let (mut ours, mut gdal) = (Duration::MAX, Duration::MAX);
        for _ in 0..ROUNDS {
            ours = ours.min(app(format, &input, &dir.path().join(format!("app.{}", format.extension()))));
            gdal = gdal.min(ogr2ogr(driver, &input, &dir.path().join(format!("gdal.{}", format.extension()))));
        }
        let ratio = ours.as_secs_f64() / gdal.as_secs_f64();
        let pass = ratio <= RATIO_TARGET;
        failed |= !pass;
        println!(
            "{:<11} app {:>7.0} ms   ogr2ogr {:>7.0} ms   {ratio:.2}x  {} (target <= {RATIO_TARGET}x)",
            format.name(),
            ours.as_secs_f64() * 1e3,
            gdal.as_secs_f64() * 1e3,
            if pass { "PASS" } else { "FAIL" }
        );
    }
    if failed {
        std::process::exit(1);
    }
}
