//! How fast a large processing result loads and draws.
//!
//! Generates a 100 000-building FeatureCollection (quads and L-shapes of 10–30 m on a 10 km
//! city grid, with the attributes Mapflow's building model writes), then measures:
//! - `load_result` against a bare `serde_json::Value` parse of the same bytes;
//! - CPU per frame (egui pass with a walkers map at 1280×800, plus tessellation of its shapes)
//!   with the layer drawn by `ResultPlugin`, against the same map without it.
//!
//! Run with `cargo bench --bench results`.
#![allow(clippy::unwrap_used)]

mod common;

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use egui::{CentralPanel, Context, RawInput, Rect, pos2, vec2};
use mapflow_desktop::results::{DrawCache, DrawMode, ResultLayer, ResultPlugin, ResultStyle, load_result};
use walkers::{Map, MapMemory, Position, lon_lat};

const FEATURES: usize = 100_000;
const CENTER: (f64, f64) = (37.62, 55.75);
const SCREEN: (f32, f32) = (1280.0, 800.0);
const FRAMES: usize = 30;
const LOAD_LIMIT: Duration = Duration::from_millis(1500);
const FRAME_LIMIT: Duration = Duration::from_millis(8);

/// The result file of [`FEATURES`] buildings (see `common::buildings`).
fn generate() -> Vec<u8> {
    common::buildings(FEATURES, CENTER)
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// A headless egui context drawing a walkers map, optionally with the result on it.
struct Frames {
    ctx: Context,
    memory: MapMemory,
    cache: DrawCache,
    style: ResultStyle,
    hovered: Option<usize>,
    time: f64,
}

impl Frames {
    fn new() -> Self {
        Self {
            ctx: Context::default(),
            memory: MapMemory::default(),
            cache: DrawCache::default(),
            style: ResultStyle::default(),
            hovered: None,
            time: 0.0,
        }
    }

    fn look_at(&mut self, position: Position, zoom: f64) {
        self.memory.center_at(position);
        self.memory.set_zoom(zoom).unwrap();
    }

    /// One frame: the egui pass and the tessellation of what it painted.
    fn frame(&mut self, layer: Option<&ResultLayer>) -> Duration {
        self.time += 1.0 / 60.0;
        let input = RawInput {
            screen_rect: Some(Rect::from_min_size(pos2(0.0, 0.0), vec2(SCREEN.0, SCREEN.1))),
            time: Some(self.time),
            ..RawInput::default()
        };
        let start = Instant::now();
        let memory = &mut self.memory;
        let (style, cache, hovered) = (&self.style, &mut self.cache, &mut self.hovered);
        let mut output = self.ctx.run_ui(input, |ui| {
            CentralPanel::default().show(ui, |ui| {
                let mut map = Map::new(None, &mut *memory, lon_lat(CENTER.0, CENTER.1));
                if let Some(layer) = layer {
                    map = map.with_plugin(ResultPlugin::new(layer, style, &mut *cache, &mut *hovered));
                }
                ui.add(map);
            });
        });
        let shapes = std::mem::take(&mut output.shapes);
        let primitives = self.ctx.tessellate(shapes, output.pixels_per_point);
        let elapsed = start.elapsed();
        std::hint::black_box(primitives);
        output.textures_delta.clear();
        elapsed
    }

    /// Median of [`FRAMES`] frames, each after `before` prepares it.
    fn measure(
        &mut self,
        layer: Option<&ResultLayer>,
        mut before: impl FnMut(&mut Self, usize),
    ) -> (Duration, Duration) {
        let mut samples = Vec::with_capacity(FRAMES);
        for n in 0..FRAMES {
            before(self, n);
            samples.push(self.frame(layer));
        }
        let worst = samples.iter().copied().max().unwrap_or_default();
        (median(samples), worst)
    }

    /// Draws until every tile in view is rasterized.
    fn settle(&mut self, layer: &ResultLayer) -> Settled {
        let mut settled = Settled::default();
        for n in 1..=300 {
            settled.worst = settled.worst.max(self.frame(Some(layer)));
            let stats = self.cache.stats();
            settled.frames = n;
            settled.tiles += stats.tiles_rendered;
            settled.raster_time += stats.raster_time;
            if stats.tiles_pending == 0 && n >= 3 {
                break;
            }
        }
        settled
    }
}

/// How the first frames of a new view went.
#[derive(Default)]
struct Settled {
    frames: usize,
    worst: Duration,
    tiles: usize,
    raster_time: Duration,
}

impl Settled {
    fn describe(&self) -> String {
        let mut text = format!("first view: {} frames, worst {}", self.frames, ms(self.worst));
        if self.tiles > 0 {
            let per_tile = self.raster_time / u32::try_from(self.tiles).unwrap();
            write!(text, ", {} tiles rasterized, {} each", self.tiles, ms(per_tile)).unwrap();
        }
        text
    }
}

/// The zoom at which the layer's bbox fills 90 % of the screen, as the map's fit does.
fn fit_zoom(bbox: [f64; 4]) -> f64 {
    let y = |lat: f64| (1.0 - lat.to_radians().tan().asinh() / std::f64::consts::PI) / 2.0;
    let width = (bbox[2] - bbox[0]) / 360.0;
    let height = y(bbox[1]) - y(bbox[3]);
    let fit_x = f64::from(SCREEN.0) * 0.9 / (width * 256.0);
    let fit_y = f64::from(SCREEN.1) * 0.9 / (height * 256.0);
    fit_x.min(fit_y).log2()
}

fn ms(duration: Duration) -> String {
    format!("{:.3} ms", duration.as_secs_f64() * 1e3)
}

fn verdict(ok: bool) -> &'static str {
    if ok { "PASS" } else { "FAIL" }
}

fn main() {
    let total = Instant::now();
    let bytes = generate();
    println!(
        "results bench: {FEATURES} buildings, {:.1} MB of GeoJSON, {} cores",
        bytes.len() as f64 / 1e6,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );

    let mut parse_times = Vec::new();
    let mut load_times = Vec::new();
    let mut layer = None;
    for _ in 0..3 {
        let start = Instant::now();
        let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        parse_times.push(start.elapsed());
        drop(value);
        let start = Instant::now();
        let loaded = load_result(&bytes).unwrap();
        load_times.push(start.elapsed());
        layer = Some(loaded);
    }
    let layer = layer.unwrap();
    assert_eq!(layer.feature_count(), FEATURES);
    let parse = median(parse_times);
    let load = median(load_times);
    let load_ok = load <= LOAD_LIMIT;
    println!();
    println!("{:<44} {:>10} {:>8}  limit", "load (median of 3)", "time", "ratio");
    println!("{:<44} {:>10} {:>8}", "serde_json::Value parse (baseline)", ms(parse), "1.00");
    println!(
        "{:<44} {:>10} {:>8.2}  {} (<= {})",
        "load_result",
        ms(load),
        load.as_secs_f64() / parse.as_secs_f64(),
        verdict(load_ok),
        ms(LOAD_LIMIT)
    );

    let bbox = layer.bbox().unwrap();
    let whole_zoom = fit_zoom(bbox);
    let center = lon_lat((bbox[0] + bbox[2]) / 2.0, (bbox[1] + bbox[3]) / 2.0);
    // About 40 screen pixels of longitude at a zoom, for panning.
    let pan_step = |zoom: f64| 40.0 / (256.0 * 2f64.powf(zoom)) * 360.0;

    let mut frames = Frames::new();
    frames.look_at(center, whole_zoom);
    for _ in 0..10 {
        frames.frame(None);
    }
    let (empty, _) = frames.measure(None, |_, _| {});

    let mut rows: Vec<(String, Duration, Duration, String)> = Vec::new();
    let mut all_ok = true;
    let scenario = |frames: &mut Frames,
                    name: String,
                    zoom: f64,
                    pan: bool,
                    rows: &mut Vec<(String, Duration, Duration, String)>| {
        frames.look_at(center, zoom);
        let settled = frames.settle(&layer);
        let step = pan_step(zoom);
        let (median, worst) = frames.measure(Some(&layer), |frames, n| {
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
        let detail = format!("{detail}; {}", settled.describe());
        rows.push((name, median, worst, detail));
    };
    scenario(&mut frames, format!("whole result in view (zoom {whole_zoom:.1})"), whole_zoom, false, &mut rows);
    scenario(&mut frames, "whole result, panning 40 px/frame".to_owned(), whole_zoom, true, &mut rows);
    scenario(&mut frames, "zoom 14".to_owned(), 14.0, false, &mut rows);
    scenario(&mut frames, "zoom 14, panning".to_owned(), 14.0, true, &mut rows);
    scenario(&mut frames, "zoom 15".to_owned(), 15.0, false, &mut rows);
    scenario(&mut frames, "zoom 15, panning".to_owned(), 15.0, true, &mut rows);
    scenario(&mut frames, "zoom 16".to_owned(), 16.0, false, &mut rows);
    scenario(&mut frames, "zoom 16, panning".to_owned(), 16.0, true, &mut rows);
    scenario(&mut frames, "zoom 18".to_owned(), 18.0, false, &mut rows);
    scenario(&mut frames, "zoom 18, panning".to_owned(), 18.0, true, &mut rows);

    // Zooming in by a level leaves no tile cached: the frames right after are the slowest.
    frames.look_at(center, whole_zoom);
    frames.settle(&layer);
    frames.look_at(center, whole_zoom + 1.0);
    let (zoom_median, zoom_worst) = frames.measure(Some(&layer), |_, _| {});
    rows.push((
        "frames right after zooming in one level".to_owned(),
        zoom_median,
        zoom_worst,
        "tiles rasterized within a 4 ms budget per frame".to_owned(),
    ));

    println!();
    println!(
        "{:<44} {:>10} {:>10} {:>8}  result",
        "frame: egui pass + tessellation (30 frames)", "median", "worst", "× empty"
    );
    println!("{:<44} {:>10} {:>10} {:>8}", "empty map (baseline)", ms(empty), "-", "1.00");
    for (name, median, worst, detail) in &rows {
        let ok = *median <= FRAME_LIMIT;
        all_ok &= ok;
        println!(
            "{:<44} {:>10} {:>10} {:>8.2}  {}  {}",
            name,
            ms(*median),
            ms(*worst),
            median.as_secs_f64() / empty.as_secs_f64().max(1e-9),
            verdict(ok),
            detail
        );
    }
    println!();
    println!(
        "overall: {} (load <= {}, median frame <= {}), bench took {:.1} s",
        verdict(load_ok && all_ok),
        ms(LOAD_LIMIT),
        ms(FRAME_LIMIT),
        total.elapsed().as_secs_f64()
    );
    if !(load_ok && all_ok) {
        std::process::exit(1);
    }
}
