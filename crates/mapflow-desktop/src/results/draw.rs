//! Drawing a [`ResultLayer`] on the walkers map: [`ResultPlugin`], its frame-to-frame
//! [`DrawCache`] and the UI-owned [`ResultStyle`].
//!
//! Two ways to draw, picked per frame:
//! - **Tiles** when the features are small on screen (whole city in view) or too many are in
//!   view: the layer is rasterized into 256-pixel tiles of the Web Mercator grid at the nearest
//!   integer zoom, cached as textures and drawn as one textured quad each, scaled for fractional
//!   zooms and moved on pan. Tiles missing after a zoom change are rasterized within a time
//!   budget per frame, nearest first, with the cached parent or children shown meanwhile.
//! - **Meshes** when zoomed in: the features in view (found with the R-tree, with a margin so
//!   that a pan rarely queries again) are emitted as one mesh of fills (their cached
//!   triangulation) and feathered outlines, rebuilt only when the view or the style changes.
//!
//! The hovered feature is picked with the R-tree and highlighted over either.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use egui::epaint::Vertex;
use egui::{Color32, Mesh, Pos2, Rect, Response, Shape, TextureHandle, TextureOptions, Ui, Vec2};
use egui::{pos2, vec2};
use rstar::AABB;
use walkers::{MapMemory, Plugin, Projector};

use super::layer::{ResultLayer, WORLD_METERS};
use super::raster::{FillRule, Rasterizer, premultiplied};

/// Side of a raster tile, in points (walkers' tile size, so zoom levels match). Tiles are
/// rasterized at the screen's pixel density.
const TILE_SIZE: usize = 256;

/// Deepest zoom level tiles are rasterized at.
const MAX_TILE_ZOOM: f64 = 24.0;

/// Time a frame may spend rasterizing tiles; a tile not finished by then goes on in the next
/// frames, where it left off.
const RASTER_BUDGET: Duration = Duration::from_millis(4);

/// Texture memory the cached tiles may take; the least recently drawn are dropped first.
const MAX_TILE_BYTES: usize = 64 << 20;

/// Tiles kept whatever their size: enough for a large view and its stand-ins.
const MIN_CACHED_TILES: usize = 48;

/// Below this typical feature size (pixels) the layer is drawn as tiles: outlines would be
/// noise and triangles smaller than a pixel flicker.
const MESH_MIN_FEATURE_PX: f64 = 6.0;

/// Most outline points in view that are drawn as meshes; denser views are drawn as tiles.
const MESH_POINT_BUDGET: usize = 20_000;

/// Polygons smaller than this (pixels) get no outline in meshes.
const OUTLINE_MIN_PX: f32 = 3.0;

/// Fill alpha of polygons before the style's opacity.
const FILL_ALPHA: f32 = 0.45;

/// Polygon outline width, pixels.
const OUTLINE_WIDTH: f32 = 1.0;

/// Road width, pixels.
const LINE_WIDTH: f32 = 2.5;

/// Pixels around the pointer within which a line is hovered.
const HOVER_TOLERANCE_PX: f64 = 4.0;

/// Fill alpha of polygons in tiles, where they are too small for outlines.
const TILE_FILL_ALPHA: f32 = 0.7;

/// Polygons at least this large (pixels) get an outline in tiles.
const TILE_OUTLINE_MIN_PX: f32 = 6.0;

/// Road half width in tiles, pixels.
const TILE_LINE_HALF_WIDTH: f32 = 0.9;

/// Tile alpha at opacity 0: tiles stand for the outlines too, which opacity does not fade.
const TILE_MIN_ALPHA: f32 = 0.35;

/// Per-layer display options the UI owns.
#[derive(Clone, Debug, PartialEq)]
pub struct ResultStyle {
    /// Whether the layer is drawn (and hovered) at all.
    pub visible: bool,
    /// Fill alpha multiplier, 0..1: at 0 only outlines and roads remain.
    pub opacity: f32,
    /// Legend keys ([`super::LegendEntry::key`]) of the classes not drawn.
    pub hidden_classes: BTreeSet<String>,
    /// The feature whose attributes the user pinned, highlighted like the hovered one.
    pub pinned: Option<usize>,
    /// The features selected (in the table or on the map), drawn in the selection colour.
    pub selected: Option<std::sync::Arc<super::table::FeatureSet>>,
}

impl Default for ResultStyle {
    fn default() -> Self {
        Self { visible: true, opacity: 1.0, hidden_classes: BTreeSet::new(), pinned: None, selected: None }
    }
}

/// At most this many selected features are outlined in a frame (the ones in view).
const MAX_SELECTED_DRAWN: usize = 5000;

/// The selection colour, as GIS tools use it.
const SELECTION: Color32 = Color32::from_rgb(0xff, 0xe1, 0x00);

/// How the last frame drew the layer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DrawMode {
    /// Nothing drawn: hidden, empty, or out of view.
    #[default]
    Nothing,
    /// Cached raster tiles.
    Tiles,
    /// Meshes of the features in view.
    Meshes,
}

/// What the last frame did, for diagnostics and benchmarks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DrawStats {
    pub mode: DrawMode,
    /// Features in the mesh (mesh mode).
    pub features: usize,
    /// Vertices in the mesh (mesh mode).
    pub vertices: usize,
    /// Whether the mesh was rebuilt this frame.
    pub rebuilt: bool,
    /// Tiles drawn, counting stand-ins for missing ones (tile mode).
    pub tiles: usize,
    /// Tiles finished rasterizing this frame.
    pub tiles_rendered: usize,
    /// Tiles still to rasterize in later frames.
    pub tiles_pending: usize,
    /// Time spent on tiles this frame.
    pub raster_time: Duration,
}

/// A tile of the Web Mercator grid: zoom, x, y.
type TileKey = (u8, u32, u32);

struct CachedTile {
    /// `None` for a tile without any feature.
    texture: Option<TextureHandle>,
    last_used: u64,
}

/// What the cached mesh shows; it is rebuilt when any of it changes.
#[derive(Clone, Copy, Debug, PartialEq)]
struct MeshKey {
    rect: Rect,
    zoom: f64,
    center: [f64; 2],
    opacity: f32,
    generation: u64,
}

/// Frame-to-frame cache owned by the UI, one per drawn layer, so that a frame does little work:
/// raster tiles, the features near the view and the mesh of the last view.
#[derive(Default)]
pub struct DrawCache {
    /// Id of the layer the cache holds; another layer clears it.
    layer: u64,
    hidden: BTreeSet<String>,
    /// Per legend class: hidden or not.
    hidden_flags: Vec<bool>,
    /// Bumped whenever the hidden classes change, so that derived data is redone.
    generation: u64,
    frame: u64,
    tiles: HashMap<TileKey, CachedTile>,
    /// Tiles painted before the hidden classes changed, shown until the new ones are ready.
    stale: HashMap<TileKey, CachedTile>,
    /// Side of a tile in pixels: [`TILE_SIZE`] times the pixels per point.
    tile_pixels: usize,
    rasterizer: Option<Rasterizer>,
    ids: Vec<u32>,
    /// Local-metre rect whose features are in `candidates`, sorted in drawing order.
    query: Option<[f32; 4]>,
    candidates: Vec<u32>,
    /// The zoom of the last view found too dense for meshes: views at this zoom or below stay
    /// tiles (a pan does not count features again), closer ones are checked again.
    dense_zoom: Option<f64>,
    mesh_key: Option<MeshKey>,
    mesh: Arc<Mesh>,
    /// Features in `mesh`.
    mesh_features: usize,
    /// The tile being rasterized; its features are in `ids`.
    job: Option<TileJob>,
    scratch: Vec<Pos2>,
    stats: DrawStats,
}

impl DrawCache {
    /// What the last frame did.
    pub fn stats(&self) -> DrawStats {
        self.stats
    }

    /// Forgets everything derived from `layer` and `style` when they changed.
    fn sync(&mut self, layer: &ResultLayer, style: &ResultStyle) {
        if self.layer != layer.id {
            *self = Self {
                layer: layer.id,
                generation: self.generation + 1,
                rasterizer: self.rasterizer.take(),
                ..Self::default()
            };
            self.hidden_flags = vec![false; layer.legend().len()];
        }
        if self.hidden != style.hidden_classes || self.hidden_flags.len() != layer.legend().len() {
            self.hidden.clone_from(&style.hidden_classes);
            self.hidden_flags = layer.legend().iter().map(|entry| style.hidden_classes.contains(&entry.key)).collect();
            self.generation += 1;
            self.stale = std::mem::take(&mut self.tiles);
            self.job = None;
            self.mesh_key = None;
        }
    }

    fn is_hidden(&self, layer: &ResultLayer, feature: usize) -> bool {
        layer
            .features
            .get(feature)
            .is_none_or(|geom| self.hidden_flags.get(geom.class as usize).copied().unwrap_or(false))
    }

    /// Draws `layer` for one frame and sets `hovered` to the feature under the pointer.
    fn draw(
        &mut self,
        ui: &Ui,
        response: &Response,
        projector: &Projector,
        layer: &ResultLayer,
        style: &ResultStyle,
        hovered: &mut Option<usize>,
    ) {
        self.sync(layer, style);
        self.frame += 1;
        self.stats = DrawStats::default();
        if !style.visible || layer.feature_count() == 0 {
            *hovered = None;
            return;
        }
        let view = View::new(layer, projector);
        let painter = ui.painter_at(view.rect);

        *hovered = response.hover_pos().filter(|pos| view.rect.contains(*pos)).and_then(|pos| {
            let at = projector.unproject(pos.to_vec2());
            let metres_per_pixel = 1.0 / f64::from(projector.scale_pixel_per_meter(at));
            let tolerance = HOVER_TOLERANCE_PX * metres_per_pixel;
            layer.pick_where(at.x(), at.y(), tolerance, |feature| !self.is_hidden(layer, feature))
        });

        let in_view = layer.extent.is_some_and(|extent| intersects(extent, view.visible));
        if in_view {
            let feature_px = f64::from(layer.typical_size) * view.px_per_m;
            if feature_px >= MESH_MIN_FEATURE_PX && self.find_candidates(layer, &view) {
                self.draw_meshes(&painter, layer, style, &view);
            } else {
                self.draw_tiles(ui, &painter, layer, style, &view);
            }
        }
        if let Some(selected) = style.selected.as_deref().filter(|s| !s.is_empty()) {
            self.draw_selection(&painter, layer, &view, selected);
        }
        if let Some(feature) = style.pinned {
            self.draw_highlight(&painter, layer, &view, feature);
        }
        if let Some(feature) = *hovered
            && style.pinned != Some(feature)
        {
            self.draw_highlight(&painter, layer, &view, feature);
        }
    }

    /// Makes `candidates` hold the features near the view, unless there are too many for
    /// meshes; returns whether meshes should be drawn.
    fn find_candidates(&mut self, layer: &ResultLayer, view: &View) -> bool {
        if self.query.is_some_and(|query| contains(query, view.visible)) {
            return true;
        }
        if self.dense_zoom.is_some_and(|zoom| view.zoom <= zoom) {
            return false;
        }
        // A margin around the view saves querying again on every pan; the budget grows with
        // the area, as only what is in view is drawn.
        let [min_x, min_y, max_x, max_y] = view.visible;
        let (width, height) = (max_x - min_x, max_y - min_y);
        for (margin, area) in [(0.5, 4.0), (0.25, 2.25), (0.0, 1.0)] {
            let rect =
                [min_x - width * margin, min_y - height * margin, max_x + width * margin, max_y + height * margin];
            let budget = (MESH_POINT_BUDGET as f64 * area) as usize;
            if collect(layer, rect, budget, &mut self.candidates) {
                self.query = Some(rect);
                self.mesh_key = None;
                return true;
            }
        }
        self.query = None;
        self.candidates.clear();
        self.dense_zoom = Some(view.zoom);
        false
    }

    fn draw_meshes(&mut self, painter: &egui::Painter, layer: &ResultLayer, style: &ResultStyle, view: &View) {
        let key = MeshKey {
            rect: view.rect,
            zoom: view.zoom,
            center: view.center,
            opacity: style.opacity,
            generation: self.generation,
        };
        let rebuilt = self.mesh_key != Some(key);
        if rebuilt {
            // Reuse last frame's buffers once egui has let go of them.
            let mut mesh = match Arc::get_mut(&mut self.mesh) {
                Some(mesh) => std::mem::take(mesh),
                None => Mesh::default(),
            };
            mesh.clear();
            let features = build_mesh(
                &mut mesh,
                &mut self.scratch,
                layer,
                view,
                style.opacity,
                &self.candidates,
                &self.hidden_flags,
            );
            self.mesh_features = features;
            self.mesh = Arc::new(mesh);
            self.mesh_key = Some(key);
        }
        self.stats.mode = DrawMode::Meshes;
        self.stats.rebuilt = rebuilt;
        self.stats.features = self.mesh_features;
        self.stats.vertices = self.mesh.vertices.len();
        if !self.mesh.is_empty() {
            painter.add(Shape::Mesh(Arc::clone(&self.mesh)));
        }
    }

    fn draw_tiles(&mut self, ui: &Ui, painter: &egui::Painter, layer: &ResultLayer, style: &ResultStyle, view: &View) {
        self.stats.mode = DrawMode::Tiles;
        let Some(extent) = layer.extent else {
            return;
        };
        let tile_pixels = (TILE_SIZE as f32 * ui.ctx().pixels_per_point()).round().clamp(64.0, 1024.0) as usize;
        if tile_pixels != self.tile_pixels {
            self.tile_pixels = tile_pixels;
            self.tiles.clear();
            self.stale.clear();
            self.job = None;
            self.rasterizer = None;
        }
        let level = view.zoom.round().clamp(0.0, MAX_TILE_ZOOM) as u8;
        let tiles_across = 2f64.powi(i32::from(level));
        let wanted = overlap(extent, view.visible);
        let norm = |x: f32, y: f32| {
            [layer.origin[0] + f64::from(x) / WORLD_METERS, layer.origin[1] + f64::from(y) / WORLD_METERS]
        };
        let low = norm(wanted[0], wanted[1]);
        let high = norm(wanted[2], wanted[3]);
        let last = tiles_across - 1.0;
        let column = |value: f64| (value * tiles_across).floor().clamp(0.0, last) as u32;
        let center = view.center_norm(layer);
        let mut keys: Vec<(f64, TileKey)> = Vec::new();
        for x in column(low[0])..=column(high[0]) {
            for y in column(low[1])..=column(high[1]) {
                let middle = [(f64::from(x) + 0.5) / tiles_across, (f64::from(y) + 0.5) / tiles_across];
                let distance = (middle[0] - center[0]).powi(2) + (middle[1] - center[1]).powi(2);
                // The tile being rasterized goes first, so that no work is thrown away.
                let first = self.job.as_ref().is_some_and(|job| job.key == (level, x, y));
                keys.push((if first { -1.0 } else { distance }, (level, x, y)));
            }
        }
        keys.sort_by(|a, b| a.0.total_cmp(&b.0));
        if self.job.as_ref().is_some_and(|job| keys.first().is_none_or(|(_, key)| *key != job.key)) {
            self.job = None;
        }

        let tint = Color32::from_white_alpha(
            ((TILE_MIN_ALPHA + (1.0 - TILE_MIN_ALPHA) * style.opacity.clamp(0.0, 1.0)) * 255.0).round() as u8,
        );
        let started = Instant::now();
        let deadline = started + RASTER_BUDGET;
        let mut shapes = Vec::with_capacity(keys.len());
        // Every frame makes some progress, however short the budget.
        let mut worked = false;
        for (_, key) in keys {
            let ready = self.tiles.contains_key(&key)
                || ((!worked || Instant::now() < deadline) && {
                    worked = true;
                    self.rasterize(ui, layer, key, deadline)
                });
            if let Some(tile) = self.tiles.get_mut(&key).filter(|_| ready) {
                tile.last_used = self.frame;
                if let Some(texture) = &tile.texture {
                    shapes.push(Shape::image(texture.id(), view.tile_rect(layer, key), FULL_UV, tint));
                    self.stats.tiles += 1;
                }
            } else {
                self.stats.tiles_pending += 1;
                if let Some(stale) = self.stale.get(&key) {
                    if let Some(texture) = &stale.texture {
                        shapes.push(Shape::image(texture.id(), view.tile_rect(layer, key), FULL_UV, tint));
                        self.stats.tiles += 1;
                    }
                } else {
                    self.stats.tiles += self.stand_in(&mut shapes, layer, view, key, tint);
                }
            }
        }
        if self.stats.tiles_pending == 0 {
            self.stale.clear();
        }
        self.stats.raster_time = started.elapsed();
        painter.extend(shapes);
        if self.stats.tiles_pending > 0 {
            ui.ctx().request_repaint();
        }
        self.evict();
    }

    /// Rasterizes (more of) the tile `key` until `deadline`; returns whether it is done and
    /// cached.
    fn rasterize(&mut self, ui: &Ui, layer: &ResultLayer, key: TileKey, deadline: Instant) -> bool {
        let pixels = self.tile_pixels;
        let rasterizer = self.rasterizer.get_or_insert_with(|| Rasterizer::new(pixels, pixels));
        let tile = TileFrame::new(layer, key, pixels);
        if self.job.as_ref().is_none_or(|job| job.key != key) {
            tile.features(layer, &mut self.ids);
            rasterizer.clear();
            self.job = Some(TileJob { key, next: 0 });
        }
        let Some(job) = self.job.as_mut() else {
            return false;
        };
        if !tile.paint(layer, &self.hidden_flags, rasterizer, &self.ids, &mut job.next, deadline) {
            return false;
        }
        self.job = None;
        self.stats.tiles_rendered += 1;
        let texture = (!rasterizer.is_blank()).then(|| {
            let (zoom, x, y) = key;
            ui.ctx().load_texture(
                format!("result-{}-{zoom}-{x}-{y}", layer.id),
                rasterizer.image(),
                TextureOptions::LINEAR,
            )
        });
        self.tiles.insert(key, CachedTile { texture, last_used: self.frame });
        true
    }

    /// Draws what the cache has in place of a missing tile: a part of an ancestor, or the
    /// children. Returns the number of images drawn.
    fn stand_in(
        &self,
        shapes: &mut Vec<Shape>,
        layer: &ResultLayer,
        view: &View,
        key: TileKey,
        tint: Color32,
    ) -> usize {
        let (level, x, y) = key;
        for up in 1..=3u8.min(level) {
            let Some(tile) = self.tiles.get(&(level - up, x >> up, y >> up)) else {
                continue;
            };
            let Some(texture) = &tile.texture else {
                return 0;
            };
            let part = 1.0 / f32::from(1u8 << up);
            let mask = (1u32 << up) - 1;
            let uv = Rect::from_min_size(pos2((x & mask) as f32 * part, (y & mask) as f32 * part), vec2(part, part));
            shapes.push(Shape::image(texture.id(), view.tile_rect(layer, key), uv, tint));
            return 1;
        }
        if f64::from(level) >= MAX_TILE_ZOOM {
            return 0;
        }
        let children = [(0, 0), (1, 0), (0, 1), (1, 1)].map(|(dx, dy)| (level + 1, x * 2 + dx, y * 2 + dy));
        if !children.iter().all(|child| self.tiles.contains_key(child)) {
            return 0;
        }
        let mut drawn = 0;
        for child in children {
            if let Some(texture) = self.tiles.get(&child).and_then(|tile| tile.texture.as_ref()) {
                shapes.push(Shape::image(texture.id(), view.tile_rect(layer, child), FULL_UV, tint));
                drawn += 1;
            }
        }
        drawn
    }

    /// Drops the least recently drawn tiles beyond [`MAX_TILE_BYTES`].
    fn evict(&mut self) {
        let most = (MAX_TILE_BYTES / (self.tile_pixels.max(1).pow(2) * 4)).max(MIN_CACHED_TILES);
        if self.tiles.len() <= most {
            return;
        }
        let mut ages: Vec<(u64, TileKey)> = self
            .tiles
            .iter()
            .filter(|(_, tile)| tile.last_used < self.frame)
            .map(|(key, tile)| (tile.last_used, *key))
            .collect();
        ages.sort_unstable();
        let excess = self.tiles.len() - most;
        for (_, key) in ages.into_iter().take(excess) {
            self.tiles.remove(&key);
        }
    }

    fn draw_highlight(&mut self, painter: &egui::Painter, layer: &ResultLayer, view: &View, feature: usize) {
        let Some(geom) = layer.features.get(feature) else {
            return;
        };
        let color = layer.legend().get(geom.class as usize).map_or(Color32::WHITE, |entry| super::color32(entry.color));
        let mut mesh = Mesh::default();
        let widths = if geom.is_line { [LINE_WIDTH + 3.0, LINE_WIDTH + 1.0] } else { [3.5, 1.5] };
        self.outline_into(
            &mut mesh,
            layer,
            view,
            feature,
            Color32::from_white_alpha(70),
            [(widths[0], Color32::WHITE), (widths[1], color)],
        );
        painter.add(Shape::mesh(mesh));
    }

    /// Outlines the selected features in view (at most [`MAX_SELECTED_DRAWN`]).
    fn draw_selection(
        &mut self,
        painter: &egui::Painter,
        layer: &ResultLayer,
        view: &View,
        selected: &super::table::FeatureSet,
    ) {
        let mut in_view: Vec<usize> = if selected.len() <= 4 * MAX_SELECTED_DRAWN {
            selected
                .as_slice()
                .iter()
                .map(|&f| f as usize)
                .filter(|&f| layer.features.get(f).is_some_and(|g| intersects(g.bbox, view.visible)))
                .take(MAX_SELECTED_DRAWN)
                .collect()
        } else {
            let [x0, y0, x1, y1] = view.visible;
            let envelope = AABB::from_corners([x0, y0], [x1, y1]);
            layer
                .index
                .locate_in_envelope_intersecting(&envelope)
                .map(|b| b.feature as usize)
                .filter(|&f| selected.contains(f))
                .take(MAX_SELECTED_DRAWN)
                .collect()
        };
        in_view.sort_unstable();
        let mut mesh = Mesh::default();
        let fill = Color32::from_rgba_unmultiplied(0xff, 0xe1, 0x00, 70);
        for feature in in_view {
            let line = layer.features[feature].is_line;
            let widths = if line { [LINE_WIDTH + 2.5, LINE_WIDTH + 0.5] } else { [3.0, 1.6] };
            self.outline_into(
                &mut mesh,
                layer,
                view,
                feature,
                fill,
                [(widths[0], Color32::from_black_alpha(150)), (widths[1], SELECTION)],
            );
        }
        painter.add(Shape::mesh(mesh));
    }

    /// Adds a feature's fill (`overlay`, for polygons) and its outline, as strokes of the
    /// given widths and colours drawn in turn, to `mesh`.
    fn outline_into(
        &mut self,
        mesh: &mut Mesh,
        layer: &ResultLayer,
        view: &View,
        feature: usize,
        overlay: Color32,
        strokes: [(f32, Color32); 2],
    ) {
        let Some(geom) = layer.features.get(feature) else {
            return;
        };
        if !geom.is_line {
            let base = mesh_index(mesh.vertices.len());
            let first = layer.rings[geom.rings[0] as usize][0];
            let last = layer.rings[geom.rings[1] as usize - 1][1];
            for point in &layer.points[first as usize..last as usize] {
                mesh.vertices.push(Vertex { pos: view.to_screen(*point), uv: egui::epaint::WHITE_UV, color: overlay });
            }
            for &index in &layer.triangles[geom.triangles[0] as usize..geom.triangles[1] as usize] {
                mesh.indices.push(base + index - first);
            }
        }
        for (width, stroke_color) in strokes {
            for ring in &layer.rings[geom.rings[0] as usize..geom.rings[1] as usize] {
                self.scratch.clear();
                self.scratch.extend(
                    layer.points[ring[0] as usize..ring[1] as usize].iter().map(|point| view.to_screen(*point)),
                );
                stroke(mesh, &self.scratch, !geom.is_line, width, stroke_color);
            }
        }
    }
}

const FULL_UV: Rect = Rect::from_min_max(pos2(0.0, 0.0), pos2(1.0, 1.0));

/// The view of one frame: where the map is on screen and what part of the layer it shows.
struct View {
    rect: Rect,
    zoom: f64,
    /// Screen pixels per local metre.
    px_per_m: f64,
    /// Local metres at the centre of the map.
    center: [f64; 2],
    /// Local-metre rect the map shows.
    visible: [f32; 4],
    /// For [`Self::to_screen`], in `f32`.
    center_f32: [f32; 2],
    scale: f32,
    screen_center: Pos2,
}

impl View {
    fn new(layer: &ResultLayer, projector: &Projector) -> Self {
        let rect = projector.clip_rect();
        let at = projector.unproject(rect.center().to_vec2());
        let center = layer.local_of(at.x(), at.y());
        let zoom = projector.zoom();
        let px_per_m = TILE_SIZE as f64 * 2f64.powf(zoom) / WORLD_METERS;
        let half = [f64::from(rect.width()) / 2.0 / px_per_m, f64::from(rect.height()) / 2.0 / px_per_m];
        Self {
            rect,
            zoom,
            px_per_m,
            center,
            visible: [
                (center[0] - half[0]) as f32,
                (center[1] - half[1]) as f32,
                (center[0] + half[0]) as f32,
                (center[1] + half[1]) as f32,
            ],
            center_f32: [center[0] as f32, center[1] as f32],
            scale: px_per_m as f32,
            screen_center: rect.center(),
        }
    }

    #[inline]
    fn to_screen(&self, point: [f32; 2]) -> Pos2 {
        pos2(
            self.screen_center.x + (point[0] - self.center_f32[0]) * self.scale,
            self.screen_center.y + (point[1] - self.center_f32[1]) * self.scale,
        )
    }

    fn center_norm(&self, layer: &ResultLayer) -> [f64; 2] {
        [layer.origin[0] + self.center[0] / WORLD_METERS, layer.origin[1] + self.center[1] / WORLD_METERS]
    }

    /// Where a tile is on screen, computed in `f64` so that it lines up at any zoom.
    fn tile_rect(&self, layer: &ResultLayer, (level, x, y): TileKey) -> Rect {
        let tiles_across = 2f64.powi(i32::from(level));
        let world_px = self.px_per_m * WORLD_METERS;
        let center = self.center_norm(layer);
        let screen =
            |norm: f64, middle: f64, screen_middle: f32| (f64::from(screen_middle) + (norm - middle) * world_px) as f32;
        let (min_x, min_y) = (f64::from(x) / tiles_across, f64::from(y) / tiles_across);
        let size = 1.0 / tiles_across;
        Rect::from_min_max(
            pos2(screen(min_x, center[0], self.screen_center.x), screen(min_y, center[1], self.screen_center.y)),
            pos2(
                screen(min_x + size, center[0], self.screen_center.x),
                screen(min_y + size, center[1], self.screen_center.y),
            ),
        )
    }
}

fn intersects(a: [f32; 4], b: [f32; 4]) -> bool {
    a[0] <= b[2] && b[0] <= a[2] && a[1] <= b[3] && b[1] <= a[3]
}

/// Whether `outer` contains `inner`.
fn contains(outer: [f32; 4], inner: [f32; 4]) -> bool {
    outer[0] <= inner[0] && outer[1] <= inner[1] && inner[2] <= outer[2] && inner[3] <= outer[3]
}

fn overlap(a: [f32; 4], b: [f32; 4]) -> [f32; 4] {
    [a[0].max(b[0]), a[1].max(b[1]), a[2].min(b[2]), a[3].min(b[3])]
}

fn mesh_index(len: usize) -> u32 {
    u32::try_from(len).unwrap_or(u32::MAX)
}

/// Puts the features intersecting `rect` into `out` in drawing order, unless their outlines
/// have more than `budget` points in all; returns whether they fit.
fn collect(layer: &ResultLayer, rect: [f32; 4], budget: usize, out: &mut Vec<u32>) -> bool {
    out.clear();
    let envelope = AABB::from_corners([rect[0], rect[1]], [rect[2], rect[3]]);
    let mut points = 0usize;
    for found in layer.index.locate_in_envelope_intersecting(&envelope) {
        let geom = &layer.features[found.feature as usize];
        let first = layer.rings[geom.rings[0] as usize][0];
        let last = layer.rings[geom.rings[1] as usize - 1][1];
        points += (last - first) as usize;
        if points > budget {
            out.clear();
            return false;
        }
        out.push(found.feature);
    }
    out.sort_unstable();
    true
}

/// Fills `mesh` with the fills and outlines of the visible `candidates`; returns how many
/// features it holds.
fn build_mesh(
    mesh: &mut Mesh,
    scratch: &mut Vec<Pos2>,
    layer: &ResultLayer,
    view: &View,
    opacity: f32,
    candidates: &[u32],
    hidden: &[bool],
) -> usize {
    // Strokes reach a few pixels beyond a feature's bbox.
    let margin = (LINE_WIDTH as f64 / view.px_per_m) as f32;
    let [min_x, min_y, max_x, max_y] = view.visible;
    let visible = [min_x - margin, min_y - margin, max_x + margin, max_y + margin];
    let fill_alpha = FILL_ALPHA * opacity.clamp(0.0, 1.0);
    let legend = layer.legend();
    let mut drawn = 0;
    for &feature in candidates {
        let geom = &layer.features[feature as usize];
        if !intersects(geom.bbox, visible) || hidden.get(geom.class as usize).copied().unwrap_or(false) {
            continue;
        }
        drawn += 1;
        let color = legend.get(geom.class as usize).map_or(Color32::GRAY, |entry| super::color32(entry.color));
        let rings = &layer.rings[geom.rings[0] as usize..geom.rings[1] as usize];
        if !geom.is_line && fill_alpha > 0.0 {
            let fill = color.gamma_multiply(fill_alpha);
            let first = rings[0][0];
            let last = rings[rings.len() - 1][1];
            let base = mesh_index(mesh.vertices.len());
            mesh.vertices.extend(layer.points[first as usize..last as usize].iter().map(|point| Vertex {
                pos: view.to_screen(*point),
                uv: egui::epaint::WHITE_UV,
                color: fill,
            }));
            mesh.indices.extend(
                layer.triangles[geom.triangles[0] as usize..geom.triangles[1] as usize]
                    .iter()
                    .map(|index| base + index - first),
            );
        }
        let size = (geom.bbox[2] - geom.bbox[0]).max(geom.bbox[3] - geom.bbox[1]) * view.scale;
        if geom.is_line || size >= OUTLINE_MIN_PX {
            let width = if geom.is_line { LINE_WIDTH } else { OUTLINE_WIDTH };
            for ring in rings {
                scratch.clear();
                scratch.extend(
                    layer.points[ring[0] as usize..ring[1] as usize].iter().map(|point| view.to_screen(*point)),
                );
                stroke(mesh, scratch, !geom.is_line, width, color);
            }
        }
    }
    drawn
}

/// Appends an anti-aliased stroke along `points` to `mesh`: a solid core with a one-pixel
/// feather either side (three vertices per point for hairlines, four for wider strokes).
fn stroke(mesh: &mut Mesh, points: &[Pos2], closed: bool, width: f32, color: Color32) {
    const FEATHER: f32 = 1.0;
    let count = points.len();
    if count < 2 {
        return;
    }
    let thin = width <= FEATHER;
    let (core, outer, core_color) = if thin {
        (0.0, FEATHER, color.gamma_multiply(width / FEATHER))
    } else {
        ((width - FEATHER) / 2.0, (width + FEATHER) / 2.0, color)
    };
    let per_point: u32 = if thin { 3 } else { 4 };
    let base = mesh_index(mesh.vertices.len());
    let vertex = |pos: Pos2, color: Color32| Vertex { pos, uv: egui::epaint::WHITE_UV, color };
    for i in 0..count {
        let point = points[i];
        let previous = match i {
            0 if closed => Some(points[count - 1]),
            0 => None,
            _ => Some(points[i - 1]),
        };
        let next = match i + 1 {
            next if next < count => Some(points[next]),
            _ if closed => Some(points[0]),
            _ => None,
        };
        let incoming = previous.map(|previous| unit_normal(previous, point));
        let outgoing = next.map(|next| unit_normal(point, next));
        let normal = match (incoming, outgoing) {
            (Some(a), Some(b)) => miter(a, b),
            (Some(a), None) => a,
            (None, Some(b)) => b,
            (None, None) => Vec2::ZERO,
        };
        mesh.vertices.push(vertex(point + normal * outer, Color32::TRANSPARENT));
        if thin {
            mesh.vertices.push(vertex(point, core_color));
        } else {
            mesh.vertices.push(vertex(point + normal * core, core_color));
            mesh.vertices.push(vertex(point - normal * core, core_color));
        }
        mesh.vertices.push(vertex(point - normal * outer, Color32::TRANSPARENT));
    }
    let segments = if closed { count } else { count - 1 };
    for i in 0..segments {
        let a = base + mesh_index(i) * per_point;
        let b = base + mesh_index((i + 1) % count) * per_point;
        for k in 0..per_point - 1 {
            mesh.indices.extend_from_slice(&[a + k, a + k + 1, b + k, a + k + 1, b + k + 1, b + k]);
        }
    }
}

fn unit_normal(from: Pos2, to: Pos2) -> Vec2 {
    let direction = to - from;
    let length = direction.length();
    if length < 1e-6 { Vec2::ZERO } else { vec2(-direction.y, direction.x) / length }
}

/// The offset direction at a joint, lengthened so the stroke keeps its width, within reason.
fn miter(a: Vec2, b: Vec2) -> Vec2 {
    if a == Vec2::ZERO {
        return b;
    }
    if b == Vec2::ZERO {
        return a;
    }
    let sum = a + b;
    let length = sum.length();
    if length < 1e-3 {
        return a;
    }
    let direction = sum / length;
    direction / direction.dot(a).max(0.5)
}

/// A tile being rasterized, over several frames if need be.
struct TileJob {
    key: TileKey,
    /// The next feature to paint, an index into the cache's `ids`.
    next: usize,
}

/// Where a tile is in local metres, and its scale.
struct TileFrame {
    /// Local metres of the tile's top left corner.
    origin: [f64; 2],
    /// Size of the tile in local metres.
    size: f64,
    /// Tile pixels per local metre.
    scale: f64,
    /// Tile pixels per point.
    density: f32,
}

impl TileFrame {
    fn new(layer: &ResultLayer, (level, x, y): TileKey, pixels: usize) -> Self {
        let tiles_across = 2f64.powi(i32::from(level));
        let size = WORLD_METERS / tiles_across;
        Self {
            origin: [
                (f64::from(x) / tiles_across - layer.origin[0]) * WORLD_METERS,
                (f64::from(y) / tiles_across - layer.origin[1]) * WORLD_METERS,
            ],
            size,
            scale: pixels as f64 / size,
            density: pixels as f32 / TILE_SIZE as f32,
        }
    }

    /// Puts the features touching the tile into `ids`, in drawing order.
    fn features(&self, layer: &ResultLayer, ids: &mut Vec<u32>) {
        let margin = 2.0 * f64::from(self.density) / self.scale;
        let envelope = AABB::from_corners(
            [(self.origin[0] - margin) as f32, (self.origin[1] - margin) as f32],
            [(self.origin[0] + self.size + margin) as f32, (self.origin[1] + self.size + margin) as f32],
        );
        ids.clear();
        ids.extend(layer.index.locate_in_envelope_intersecting(&envelope).map(|found| found.feature));
        ids.sort_unstable();
    }

    /// Paints `ids[*next..]` until done (returns true) or past `deadline` (returns false, with
    /// `next` where to go on).
    fn paint(
        &self,
        layer: &ResultLayer,
        hidden: &[bool],
        rasterizer: &mut Rasterizer,
        ids: &[u32],
        next: &mut usize,
        deadline: Instant,
    ) -> bool {
        /// Features painted between two looks at the clock.
        const BATCH: usize = 64;
        let (origin_x, origin_y, scale) = (self.origin[0] as f32, self.origin[1] as f32, self.scale as f32);
        let pixel = |point: [f32; 2]| [(point[0] - origin_x) * scale, (point[1] - origin_y) * scale];
        let line_half_width = TILE_LINE_HALF_WIDTH * self.density;
        let outline_half_width = 0.5 * self.density;
        let outline_min = TILE_OUTLINE_MIN_PX * self.density;
        let legend = layer.legend();
        while *next < ids.len() {
            let batch = &ids[*next..ids.len().min(*next + BATCH)];
            *next += batch.len();
            for &feature in batch {
                let geom = &layer.features[feature as usize];
                if hidden.get(geom.class as usize).copied().unwrap_or(false) {
                    continue;
                }
                let color = legend.get(geom.class as usize).map_or(Color32::GRAY, |entry| super::color32(entry.color));
                let rings = &layer.rings[geom.rings[0] as usize..geom.rings[1] as usize];
                if geom.is_line {
                    for ring in rings {
                        for pair in layer.points[ring[0] as usize..ring[1] as usize].windows(2) {
                            rasterizer.segment(pixel(pair[0]), pixel(pair[1]), line_half_width);
                        }
                    }
                    rasterizer.fill(premultiplied(color, 1.0), FillRule::NonZero);
                    continue;
                }
                for ring in rings {
                    let ring = &layer.points[ring[0] as usize..ring[1] as usize];
                    let mut previous = pixel(ring[ring.len() - 1]);
                    for point in ring {
                        let current = pixel(*point);
                        rasterizer.edge(previous, current);
                        previous = current;
                    }
                }
                rasterizer.fill(premultiplied(color, TILE_FILL_ALPHA), FillRule::EvenOdd);
                let size = (geom.bbox[2] - geom.bbox[0]).max(geom.bbox[3] - geom.bbox[1]) * scale;
                if size >= outline_min {
                    for ring in rings {
                        let ring = &layer.points[ring[0] as usize..ring[1] as usize];
                        let mut previous = pixel(ring[ring.len() - 1]);
                        for point in ring {
                            let current = pixel(*point);
                            rasterizer.segment(previous, current, outline_half_width);
                            previous = current;
                        }
                    }
                    rasterizer.fill(premultiplied(color, 1.0), FillRule::NonZero);
                }
            }
            if *next < ids.len() && Instant::now() >= deadline {
                return false;
            }
        }
        true
    }
}

/// The walkers plugin: draws the layer under the current projection and reports the hovered
/// feature.
pub struct ResultPlugin<'a> {
    layer: &'a ResultLayer,
    style: &'a ResultStyle,
    cache: &'a mut DrawCache,
    hovered: &'a mut Option<usize>,
}

impl<'a> ResultPlugin<'a> {
    /// A plugin drawing `layer` as `style` says, with `cache` kept by the caller between frames
    /// (one per layer); `hovered` is set every frame to the feature under the pointer.
    pub fn new(
        layer: &'a ResultLayer,
        style: &'a ResultStyle,
        cache: &'a mut DrawCache,
        hovered: &'a mut Option<usize>,
    ) -> Self {
        Self { layer, style, cache, hovered }
    }
}

impl Plugin for ResultPlugin<'_> {
    fn run(self: Box<Self>, ui: &mut Ui, response: &Response, projector: &Projector, _map_memory: &MapMemory) {
        let Self { layer, style, cache, hovered } = *self;
        cache.draw(ui, response, projector, layer, style, hovered);
    }
}
