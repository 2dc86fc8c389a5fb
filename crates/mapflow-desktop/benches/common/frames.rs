//! Headless frames of a walkers map with a result drawn on it, for the benches.
#![allow(clippy::unwrap_used, dead_code)]

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use egui::{CentralPanel, Context, RawInput, Rect, pos2, vec2};
use mapflow_desktop::results::{DrawCache, ResultLayer, ResultPlugin, ResultStyle};
use walkers::{Map, MapMemory, Position, lon_lat};

pub const SCREEN: (f32, f32) = (1280.0, 800.0);
pub const FRAMES: usize = 30;
pub const CENTER: (f64, f64) = (37.62, 55.75);

pub fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// A headless egui context drawing a walkers map, optionally with the result on it.
pub struct Frames {
    pub ctx: Context,
    pub memory: MapMemory,
    pub cache: DrawCache,
    pub style: ResultStyle,
    pub hovered: Option<usize>,
    pub time: f64,
}

impl Frames {
    pub fn new() -> Self {
        Self {
            ctx: Context::default(),
            memory: MapMemory::default(),
            cache: DrawCache::default(),
            style: ResultStyle::default(),
            hovered: None,
            time: 0.0,
        }
    }

    pub fn look_at(&mut self, position: Position, zoom: f64) {
        self.memory.center_at(position);
        self.memory.set_zoom(zoom).unwrap();
    }

    /// One frame: the egui pass and the tessellation of what it painted.
    pub fn frame(&mut self, layer: Option<&ResultLayer>) -> Duration {
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
    pub fn measure(
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
    pub fn settle(&mut self, layer: &ResultLayer) -> Settled {
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
pub struct Settled {
    pub frames: usize,
    pub worst: Duration,
    pub tiles: usize,
    pub raster_time: Duration,
}

impl Settled {
    pub fn describe(&self) -> String {
        let mut text = format!("first view: {} frames, worst {}", self.frames, ms(self.worst));
        if self.tiles > 0 {
            let per_tile = self.raster_time / u32::try_from(self.tiles).unwrap();
            write!(text, ", {} tiles rasterized, {} each", self.tiles, ms(per_tile)).unwrap();
        }
        text
    }
}

/// The zoom at which the layer's bbox fills 90 % of the screen, as the map's fit does.
pub fn fit_zoom(bbox: [f64; 4]) -> f64 {
    let y = |lat: f64| (1.0 - lat.to_radians().tan().asinh() / std::f64::consts::PI) / 2.0;
    let width = (bbox[2] - bbox[0]) / 360.0;
    let height = y(bbox[1]) - y(bbox[3]);
    let fit_x = f64::from(SCREEN.0) * 0.9 / (width * 256.0);
    let fit_y = f64::from(SCREEN.1) * 0.9 / (height * 256.0);
    fit_x.min(fit_y).log2()
}

pub fn ms(duration: Duration) -> String {
    format!("{:.3} ms", duration.as_secs_f64() * 1e3)
}

impl Default for Frames {
    fn default() -> Self {
        Self::new()
    }
}

/// The peak resident memory of this process so far (`VmHWM`), in bytes; `None` where the
/// system does not say (then a memory target cannot be checked, and the bench fails).
pub fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.trim_start_matches("VmHWM:").trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kb * 1024)
}
