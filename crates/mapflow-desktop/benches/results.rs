//! How fast large processing results load and draw, and how much memory they take.
//!
//! Generates results of 100,000 and 1,000,000 buildings (quads and L-shapes on a 10 km city
//! grid, with the attributes Mapflow's building model writes; ~26 and ~260 MB of GeoJSON)
//! into files, then measures each in a fresh child process, so that its peak memory
//! (`VmHWM`) is the whole process's:
//! - `load_result_file` (streamed from disk into a drawable layer) against two baselines
//!   run the same way: reading the file through (the disk's floor) and parsing it into a
//!   `serde_json::Value` (what holding the result as JSON would cost);
//! - the attribute table: sorting the million rows by a numeric column, filtering them, and
//!   CPU per frame of the table scrolling through them;
//! - CPU per frame (an egui pass with a walkers map at 1280×800 plus tessellation) with the
//!   million-feature layer drawn, at every zoom, still and panning, against the empty map.
//!
//! Prints every figure with its ratio to its baseline and exits 1 when a target is missed.
//! Run with `cargo bench --bench results`.
#![allow(clippy::unwrap_used)]

mod common;
#[path = "common/frames.rs"]
mod frames;

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use frames::{CENTER, FRAMES, Frames, fit_zoom, ms, peak_rss};
use mapflow_desktop::results::table::{self, Query};
use mapflow_desktop::results::{DrawMode, load_result_file};
use walkers::lon_lat;

/// Sizes measured, with their load-time targets.
const SIZES: [(usize, Duration); 2] = [(100_000, Duration::from_millis(150)), (1_000_000, Duration::from_millis(1500))];
/// Peak memory of the whole process that loaded the million.
const MEMORY_LIMIT: u64 = 400 * 1024 * 1024;
const SORT_LIMIT: Duration = Duration::from_millis(300);
/// CPU of a frame of the attribute table over a million rows, worst of the scrolling frames.
const TABLE_FRAME_LIMIT: Duration = Duration::from_millis(4);
const FRAME_MEDIAN_LIMIT: Duration = Duration::from_millis(4);
const FRAME_WORST_LIMIT: Duration = Duration::from_millis(8);
/// Loads per size, the median kept.
const RUNS: usize = 3;

fn mb(bytes: u64) -> String {
    format!("{:.0} MB", bytes as f64 / 1024.0 / 1024.0)
}

fn verdict(ok: bool) -> &'static str {
    if ok { "PASS" } else { "FAIL" }
}

/// What a child printed: `key value` lines.
fn run_child(mode: &str, path: &Path) -> HashMap<String, String> {
    let exe = std::env::current_exe().unwrap();
    let out = Command::new(exe).args(["--child", mode]).arg(path).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "child {mode} failed: {text}\n{}", String::from_utf8_lossy(&out.stderr));
    text.lines().filter_map(|l| l.split_once(' ')).map(|(k, v)| (k.to_owned(), v.to_owned())).collect()
}

fn duration(values: &HashMap<String, String>, key: &str) -> Duration {
    Duration::from_secs_f64(values[key].parse::<f64>().unwrap())
}

fn bytes(values: &HashMap<String, String>, key: &str) -> u64 {
    values.get(key).and_then(|v| v.parse().ok()).unwrap_or(u64::MAX)
}

/// The child's side: one measurement of one file, printed.
fn child(mode: &str, path: &Path) {
    let start = Instant::now();
    match mode {
        "read" => {
            use std::io::Read as _;
            let mut file = std::fs::File::open(path).unwrap();
            let mut block = vec![0u8; 1 << 20];
            let mut total = 0usize;
            loop {
                let n = file.read(&mut block).unwrap();
                if n == 0 {
                    break;
                }
                total += n;
            }
            std::hint::black_box(total);
            println!("time {}", start.elapsed().as_secs_f64());
        }
        "value" => {
            let bytes = std::fs::read(path).unwrap();
            let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            println!("time {}", start.elapsed().as_secs_f64());
            std::hint::black_box(value);
        }
        "load" | "use" => {
            let layer = load_result_file(path).unwrap();
            println!("time {}", start.elapsed().as_secs_f64());
            println!("features {}", layer.feature_count());
            println!("layer_bytes {}", layer.heap_bytes());
            println!("peak {}", peak_rss().unwrap_or(u64::MAX));
            if mode == "use" {
                use_layer(&layer);
            }
        }
        other => panic!("unknown child mode {other}"),
    }
    if matches!(mode, "read" | "value") {
        println!("peak {}", peak_rss().unwrap_or(u64::MAX));
    }
}

/// The table and the map over a loaded layer.
fn use_layer(layer: &mapflow_desktop::results::ResultLayer) {
    let sort = Query { sort: Some(("building_height".to_owned(), false)), ..Query::default() };
    let start = Instant::now();
    let rows = table::rows(layer, &sort).unwrap();
    println!("sort {}", start.elapsed().as_secs_f64());
    assert_eq!(rows.features.len(), layer.feature_count());
    let filter = Query { filter: "class_id = 101 and building_height > 20".to_owned(), ..Query::default() };
    let start = Instant::now();
    let rows = table::rows(layer, &filter).unwrap();
    println!("filter {}", start.elapsed().as_secs_f64());
    println!("filtered {}", rows.features.len());

    table_frames(layer);

    let bbox = layer.bbox().unwrap();
    let whole = fit_zoom(bbox);
    let center = lon_lat((bbox[0] + bbox[2]) / 2.0, (bbox[1] + bbox[3]) / 2.0);
    // About 40 screen pixels of longitude at a zoom, for panning.
    let pan_step = |zoom: f64| 40.0 / (256.0 * 2f64.powf(zoom)) * 360.0;
    let mut frames = Frames::new();
    frames.look_at(center, whole);
    for _ in 0..10 {
        frames.frame(None);
    }
    let (empty, _) = frames.measure(None, |_, _| {});
    println!("frame_empty {}", empty.as_secs_f64());
    let mut n = 0;
    let mut scenario = |frames: &mut Frames, name: String, zoom: f64, pan: bool| {
        frames.look_at(center, zoom);
        let settled = frames.settle(layer);
        let step = pan_step(zoom);
        let (median, worst) = frames.measure(Some(layer), |frames, n| {
            if pan {
                // Back and forth across the centre, so each frame is a new view.
                let offset = (n as f64 - FRAMES as f64 / 2.0) * step;
                frames.memory.center_at(lon_lat(center.x() + offset, center.y()));
            }
        });
        let stats = frames.cache.stats();
        let detail = match stats.mode {
            DrawMode::Tiles => format!("{} tiles", stats.tiles),
            DrawMode::Meshes => format!("{} features, {} vertices", stats.features, stats.vertices),
            DrawMode::Nothing => "nothing".to_owned(),
        };
        // The first frames of a view rasterize its tiles: they count as the worst.
        let worst = worst.max(settled.worst);
        println!(
            "frame{n:02} {} {} {name}|{detail}; {}",
            median.as_secs_f64(),
            worst.as_secs_f64(),
            settled.describe()
        );
        n += 1;
    };
    scenario(&mut frames, format!("whole result (zoom {whole:.1})"), whole, false);
    scenario(&mut frames, "whole result, panning 40 px/frame".to_owned(), whole, true);
    scenario(&mut frames, "zoom in one level".to_owned(), whole + 1.0, false);
    for zoom in [14.0, 15.0, 16.0, 17.0, 18.0] {
        scenario(&mut frames, format!("zoom {zoom}"), zoom, false);
        scenario(&mut frames, format!("zoom {zoom}, panning"), zoom, true);
    }
}

/// CPU per frame of the attribute table over every row of `layer`, in a 1280×300 pane:
/// scrolled a row at a time, then jumping across the table (every frame new rows).
fn table_frames(layer: &mapflow_desktop::results::ResultLayer) {
    use egui::{CentralPanel, Context, RawInput, Rect, pos2, vec2};
    use mapflow_desktop::ui::attributes::{AttributesUi, table_ui};
    let rows = table::rows(layer, &Query::default()).unwrap();
    let columns = table::columns(layer);
    let ctx = Context::default();
    let mut aui = AttributesUi::default();
    let total = rows.features.len();
    let mut frame = |n: usize, row: usize| -> Duration {
        let input = RawInput {
            screen_rect: Some(Rect::from_min_size(pos2(0.0, 0.0), vec2(1280.0, 300.0))),
            time: Some(n as f64 / 60.0),
            ..RawInput::default()
        };
        let start = Instant::now();
        let mut output = ctx.run_ui(input, |ui| {
            CentralPanel::default().show(ui, |ui| {
                table_ui(ui, &mut aui, layer, &columns, &rows.features, None, None, Some(row));
            });
        });
        let shapes = std::mem::take(&mut output.shapes);
        std::hint::black_box(ctx.tessellate(shapes, output.pixels_per_point));
        start.elapsed()
    };
    for n in 0..10 {
        frame(n, 0);
    }
    let mut line = |name: &str, key: &str, rows_at: &dyn Fn(usize) -> usize| {
        let samples: Vec<Duration> = (0..FRAMES * 2).map(|n| frame(100 + n, rows_at(n))).collect();
        let worst = samples.iter().copied().max().unwrap_or_default();
        println!("{key} {} {} {name}", frames::median(samples).as_secs_f64(), worst.as_secs_f64());
    };
    line("scrolling a row per frame", "table_scroll", &|n| total / 2 + n);
    line("jumping 16,000 rows per frame", "table_jump", &|n| (n * 16_000) % total);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--child") {
        child(&args[at + 1], Path::new(&args[at + 2]));
        return;
    }
    let total = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    println!(
        "results bench: {} cores; every figure from a fresh process",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let mut ok = true;
    let mut million = None;
    for (features, limit) in SIZES {
        let path = dir.path().join(format!("{features}.geojson"));
        std::fs::write(&path, common::buildings(features, CENTER)).unwrap();
        let size = std::fs::metadata(&path).unwrap().len();
        let read = run_child("read", &path);
        let value = run_child("value", &path);
        let mut loads: Vec<HashMap<String, String>> = (0..RUNS).map(|_| run_child("load", &path)).collect();
        loads.sort_by_key(|a| duration(a, "time"));
        let load = loads.swap_remove(RUNS / 2);
        assert_eq!(load["features"].parse::<usize>().unwrap(), features);
        let (read_t, value_t, load_t) = (duration(&read, "time"), duration(&value, "time"), duration(&load, "time"));
        let (read_m, value_m, load_m) = (bytes(&read, "peak"), bytes(&value, "peak"), bytes(&load, "peak"));
        let time_ok = load_t <= limit;
        let memory_ok = features < 1_000_000 || load_m <= MEMORY_LIMIT;
        ok &= time_ok && memory_ok;
        println!();
        println!("{features} buildings, {:.0} MB of GeoJSON", size as f64 / 1e6);
        println!("{:<40} {:>11} {:>9} {:>9} {:>9}", "", "time", "× read", "peak RSS", "× read");
        for (name, t, m) in [
            ("read the file through (baseline)", read_t, read_m),
            ("serde_json::Value of it (baseline)", value_t, value_m),
            ("load_result_file", load_t, load_m),
        ] {
            println!(
                "{name:<40} {:>11} {:>9.2} {:>9} {:>9.2}",
                ms(t),
                t.as_secs_f64() / read_t.as_secs_f64(),
                mb(m),
                m as f64 / read_m as f64
            );
        }
        println!(
            "  load {} (<= {}); layer holds {}; {:.2}× faster and {:.1}× smaller than the Value",
            verdict(time_ok),
            ms(limit),
            mb(bytes(&load, "layer_bytes")),
            value_t.as_secs_f64() / load_t.as_secs_f64(),
            value_m as f64 / load_m as f64
        );
        if features >= 1_000_000 {
            println!("  peak memory {} (<= {})", verdict(memory_ok), mb(MEMORY_LIMIT));
            million = Some(path);
        }
    }

    let path = million.unwrap();
    let used = run_child("use", &path);
    let sort = duration(&used, "sort");
    let sort_ok = sort <= SORT_LIMIT;
    ok &= sort_ok;
    println!();
    println!("attribute table over 1,000,000 rows");
    println!("  sort by building_height: {} {} (<= {})", ms(sort), verdict(sort_ok), ms(SORT_LIMIT));
    println!(
        "  filter class_id = 101 and building_height > 20: {} ({} rows)",
        ms(duration(&used, "filter")),
        used["filtered"]
    );
    for key in ["table_scroll", "table_jump"] {
        let mut parts = used[key].splitn(3, ' ');
        let median = Duration::from_secs_f64(parts.next().unwrap().parse().unwrap());
        let worst = Duration::from_secs_f64(parts.next().unwrap().parse().unwrap());
        let table_ok = worst <= TABLE_FRAME_LIMIT;
        ok &= table_ok;
        println!(
            "  table frame, {}: median {}, worst {} {} (<= {})",
            parts.next().unwrap(),
            ms(median),
            ms(worst),
            verdict(table_ok),
            ms(TABLE_FRAME_LIMIT)
        );
    }
    let empty = duration(&used, "frame_empty");
    println!();
    println!("{:<40} {:>10} {:>10} {:>8}  result", "frame with 1,000,000 features", "median", "worst", "× empty");
    println!("{:<40} {:>10} {:>10} {:>8}", "empty map (baseline)", ms(empty), "-", "1.00");
    let mut names: Vec<&String> = used.keys().filter(|k| k.starts_with("frame") && *k != "frame_empty").collect();
    names.sort();
    for key in names {
        let mut parts = used[key].splitn(3, ' ');
        let median: f64 = parts.next().unwrap().parse().unwrap();
        let worst: f64 = parts.next().unwrap().parse().unwrap();
        let (name, detail) = parts.next().unwrap().split_once('|').unwrap();
        let (median, worst) = (Duration::from_secs_f64(median), Duration::from_secs_f64(worst));
        let frame_ok = median <= FRAME_MEDIAN_LIMIT && worst <= FRAME_WORST_LIMIT;
        ok &= frame_ok;
        println!(
            "{name:<40} {:>10} {:>10} {:>8.2}  {}  {detail}",
            ms(median),
            ms(worst),
            median.as_secs_f64() / empty.as_secs_f64().max(1e-9),
            verdict(frame_ok)
        );
    }
    println!();
    println!(
        "overall: {} (load <= 150 ms / 1.5 s, peak <= {}, sort <= {}, table frame <= {}, map frames median <= {} worst <= {}); {:.1} s",
        verdict(ok),
        mb(MEMORY_LIMIT),
        ms(SORT_LIMIT),
        ms(TABLE_FRAME_LIMIT),
        ms(FRAME_MEDIAN_LIMIT),
        ms(FRAME_WORST_LIMIT),
        total.elapsed().as_secs_f64()
    );
    if !ok {
        std::process::exit(1);
    }
}
