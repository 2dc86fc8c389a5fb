//! The offline world: Natural Earth land, borders and cities, drawn under the web tiles so the
//! map is never a blank field when the tile server cannot be reached.
//!
//! Everything expensive (parsing, clamping, antimeridian handling, triangulation, projection to
//! Web Mercator) happens once in [`OfflineWorld::load`]. A frame only scales and shifts the
//! cached vertices onto the screen, into meshes whose buffers are reused from frame to frame.

use std::ops::Range;
use std::sync::{Arc, OnceLock};

use egui::epaint::Vertex;
use egui::layers::ShapeIdx;
use egui::{Color32, FontId, Mesh, Painter, Pos2, Rect, Shape, Vec2, pos2, vec2};
use geo::{MapCoords as _, TriangulateEarcut as _};
use geo_types::{Coord, Geometry, LineString, Polygon};
use walkers::Projector;

use crate::geo::mercator::{self, MAX_LATITUDE, Norm};

const COUNTRIES: &str = include_str!("../../../../assets/naturalearth/countries-110m.geojson");
const CITIES: &str = include_str!("../../../../assets/naturalearth/cities.geojson");

/// Size of the whole world at zoom 0, in points, as walkers lays out its tiles.
pub(crate) const WORLD_SIZE_AT_ZOOM_0: f64 = 256.0;

/// Cities are shown from this zoom level on; below it they would cover the continents.
pub const CITY_MIN_ZOOM: f64 = 5.0;

/// Border vertices closer than this to the previous one (in points) are skipped, so that a
/// zoomed-out world does not cost a segment per sub-pixel step.
const MIN_SEGMENT: f32 = 1.5;

/// An axis-aligned box in normalized Web Mercator, for culling what is off screen.
#[derive(Clone, Copy, Debug)]
struct NormBox {
    min: Norm,
    max: Norm,
}

impl NormBox {
    const EMPTY: Self = Self { min: [f64::INFINITY, f64::INFINITY], max: [f64::NEG_INFINITY, f64::NEG_INFINITY] };

    fn include(&mut self, point: Norm) {
        self.min = [self.min[0].min(point[0]), self.min[1].min(point[1])];
        self.max = [self.max[0].max(point[0]), self.max[1].max(point[1])];
    }

    fn intersects(&self, other: &Self) -> bool {
        self.min[0] <= other.max[0]
            && other.min[0] <= self.max[0]
            && self.min[1] <= other.max[1]
            && other.min[1] <= self.max[1]
    }
}

/// One triangulated polygon: a range of the shared vertices, and its triangles as indices
/// relative to the first of them.
#[derive(Debug)]
struct LandPiece {
    vertices: Range<usize>,
    indices: Range<usize>,
    bounds: NormBox,
}

/// One stretch of border or coastline, a range of the shared border points.
#[derive(Debug)]
struct BorderRun {
    points: Range<usize>,
    bounds: NormBox,
}

#[derive(Debug)]
struct City {
    name: String,
    at: Norm,
}

/// The Natural Earth 1:110m world, parsed and triangulated once, ready to be drawn cheaply on
/// every frame.
///
/// Coordinates are kept in normalized Web Mercator. Polygons already split at ±180° (Russia,
/// Fiji) stay as they are, and their cut edges along the antimeridian or the clamped poles are
/// left out of the borders; a polygon that jumps across ±180° is unwrapped and drawn twice, once
/// on each side, so it never streaks across the map.
#[derive(Debug)]
pub struct OfflineWorld {
    country_count: usize,
    land_vertices: Vec<Norm>,
    land_indices: Vec<u32>,
    land: Vec<LandPiece>,
    border_points: Vec<Norm>,
    borders: Vec<BorderRun>,
    cities: Vec<City>,
}

impl OfflineWorld {
    /// Parses and triangulates the bundled Natural Earth data. Takes some milliseconds: prefer
    /// [`Self::shared`], which does it once per process.
    pub fn load() -> Self {
        let mut world = Self {
            country_count: 0,
            land_vertices: Vec::new(),
            land_indices: Vec::new(),
            land: Vec::new(),
            border_points: Vec::new(),
            borders: Vec::new(),
            cities: Vec::new(),
        };

        match COUNTRIES.parse::<geojson::FeatureCollection>() {
            Ok(countries) => {
                for feature in countries.features {
                    let Some(geometry) = feature.geometry else {
                        continue;
                    };
                    match Geometry::<f64>::try_from(geometry) {
                        Ok(Geometry::Polygon(polygon)) => {
                            world.add_polygon(&polygon);
                            world.country_count += 1;
                        }
                        Ok(Geometry::MultiPolygon(polygons)) => {
                            for polygon in &polygons {
                                world.add_polygon(polygon);
                            }
                            world.country_count += 1;
                        }
                        Ok(_) => {}
                        Err(err) => tracing::warn!("skipping a Natural Earth country: {err}"),
                    }
                }
            }
            Err(err) => tracing::error!("the bundled Natural Earth countries do not parse: {err}"),
        }

        match CITIES.parse::<geojson::FeatureCollection>() {
            Ok(cities) => {
                for feature in cities.features {
                    let name = feature
                        .properties
                        .as_ref()
                        .and_then(|properties| properties.get("name"))
                        .and_then(|name| name.as_str())
                        .map(str::to_owned);
                    let point = feature.geometry.map(Geometry::<f64>::try_from).and_then(Result::ok);
                    if let (Some(name), Some(Geometry::Point(point))) = (name, point) {
                        world.cities.push(City { name, at: mercator::lon_lat_to_normalized(point.x(), point.y()) });
                    }
                }
            }
            Err(err) => tracing::error!("the bundled Natural Earth cities do not parse: {err}"),
        }

        world
    }

    /// The world loaded once per process and shared by every map.
    pub fn shared() -> Arc<Self> {
        static WORLD: OnceLock<Arc<OfflineWorld>> = OnceLock::new();
        Arc::clone(WORLD.get_or_init(|| Arc::new(Self::load())))
    }

    /// Number of countries (Natural Earth Admin 0 features).
    pub fn country_count(&self) -> usize {
        self.country_count
    }

    /// Number of land triangles, copies across the antimeridian included.
    pub fn triangle_count(&self) -> usize {
        self.land_indices.len() / 3
    }

    /// Number of labelled cities.
    pub fn city_count(&self) -> usize {
        self.cities.len()
    }

    fn add_polygon(&mut self, polygon: &Polygon<f64>) {
        let clamped = polygon.map_coords(|coord| Coord { x: coord.x, y: coord.y.clamp(-MAX_LATITUDE, MAX_LATITUDE) });
        let polygon = if jumps_across_antimeridian(clamped.exterior()) { unwrap_longitudes(&clamped) } else { clamped };

        let (west, east) = polygon
            .exterior()
            .0
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(west, east), coord| (west.min(coord.x), east.max(coord.x)));
        // The copy on the other side of the antimeridian, for a polygon unwrapped beyond it.
        let mut shifts = vec![0.0];
        if east > 180.0 {
            shifts.push(-360.0);
        }
        if west < -180.0 {
            shifts.push(360.0);
        }

        let triangulation = polygon.earcut_triangles_raw();
        for shift in shifts {
            let vertices_start = self.land_vertices.len();
            let indices_start = self.land_indices.len();
            let mut bounds = NormBox::EMPTY;
            for &[lon, lat] in &triangulation.vertices {
                let at = mercator::lon_lat_to_normalized(lon + shift, lat);
                bounds.include(at);
                self.land_vertices.push(at);
            }
            self.land_indices
                .extend(triangulation.triangle_indices.iter().filter_map(|&index| u32::try_from(index).ok()));
            self.land.push(LandPiece {
                vertices: vertices_start..self.land_vertices.len(),
                indices: indices_start..self.land_indices.len(),
                bounds,
            });

            for ring in std::iter::once(polygon.exterior()).chain(polygon.interiors()) {
                self.add_border(ring, shift);
            }
        }
    }

    /// Adds the outline of `ring` as border runs, leaving out the edges that are only cuts.
    fn add_border(&mut self, ring: &LineString<f64>, shift: f64) {
        let mut start = self.border_points.len();
        let mut bounds = NormBox::EMPTY;
        for pair in ring.0.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            if is_cut(a, b) {
                self.finish_run(start, bounds);
                start = self.border_points.len();
                bounds = NormBox::EMPTY;
                continue;
            }
            if self.border_points.len() == start {
                let at = mercator::lon_lat_to_normalized(a.x + shift, a.y);
                bounds.include(at);
                self.border_points.push(at);
            }
            let at = mercator::lon_lat_to_normalized(b.x + shift, b.y);
            bounds.include(at);
            self.border_points.push(at);
        }
        self.finish_run(start, bounds);
    }

    fn finish_run(&mut self, start: usize, bounds: NormBox) {
        if self.border_points.len() - start >= 2 {
            self.borders.push(BorderRun { points: start..self.border_points.len(), bounds });
        } else {
            self.border_points.truncate(start);
        }
    }
}

fn on_antimeridian(coord: Coord<f64>) -> bool {
    let offset = (coord.x + 180.0).rem_euclid(360.0);
    !(1e-6..=360.0 - 1e-6).contains(&offset)
}

fn on_clamped_pole(coord: Coord<f64>) -> bool {
    coord.y.abs() >= MAX_LATITUDE - 1e-9
}

/// An edge that is not a real border: a cut along ±180° or along the clamped pole (Antarctica's
/// southern edge), or a jump from one side of the antimeridian to the other.
fn is_cut(a: Coord<f64>, b: Coord<f64>) -> bool {
    (on_antimeridian(a) && on_antimeridian(b))
        || (on_clamped_pole(a) && on_clamped_pole(b))
        || (b.x - a.x).abs() > 180.0
}

/// Whether the ring jumps across the antimeridian somewhere other than along the pole.
fn jumps_across_antimeridian(ring: &LineString<f64>) -> bool {
    ring.0
        .windows(2)
        .any(|pair| (pair[1].x - pair[0].x).abs() > 180.0 && !(on_clamped_pole(pair[0]) && on_clamped_pole(pair[1])))
}

/// Makes the longitudes continuous (no step over 180°), so the polygon may extend beyond ±180°.
fn unwrap_longitudes(polygon: &Polygon<f64>) -> Polygon<f64> {
    let reference = polygon.exterior().0.first().map_or(0.0, |coord| coord.x);
    let unwrap = |ring: &LineString<f64>| {
        let mut previous = reference;
        LineString::new(
            ring.0
                .iter()
                .map(|coord| {
                    let mut x = coord.x;
                    while x - previous > 180.0 {
                        x -= 360.0;
                    }
                    while x - previous < -180.0 {
                        x += 360.0;
                    }
                    previous = x;
                    Coord { x, y: coord.y }
                })
                .collect(),
        )
    };
    Polygon::new(unwrap(polygon.exterior()), polygon.interiors().iter().map(unwrap).collect())
}

/// Maps normalized Web Mercator onto the screen for one frame, in `f64` until the very end so
/// that the world lines up with the tiles at any zoom.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ScreenTransform {
    center_norm: Norm,
    center: [f64; 2],
    /// Points per unit of normalized Mercator: the size of the world on screen.
    scale: f64,
    half_size: [f64; 2],
}

impl ScreenTransform {
    pub(crate) fn new(projector: &Projector) -> Self {
        let rect = projector.clip_rect();
        let center = projector.unproject(rect.center().to_vec2());
        Self {
            center_norm: mercator::lon_lat_to_normalized_unclamped(center.x(), center.y()),
            center: [f64::from(rect.center().x), f64::from(rect.center().y)],
            scale: WORLD_SIZE_AT_ZOOM_0 * 2f64.powf(projector.zoom()),
            half_size: [f64::from(rect.width()) / 2.0, f64::from(rect.height()) / 2.0],
        }
    }

    #[inline]
    pub(crate) fn screen_pos(&self, at: Norm) -> Pos2 {
        pos2(
            (self.center[0] + (at[0] - self.center_norm[0]) * self.scale) as f32,
            (self.center[1] + (at[1] - self.center_norm[1]) * self.scale) as f32,
        )
    }

    /// What the screen shows, in normalized Mercator, with a margin for line widths and labels.
    fn visible(&self, margin: f64) -> NormBox {
        let half = [(self.half_size[0] + margin) / self.scale, (self.half_size[1] + margin) / self.scale];
        NormBox {
            min: [self.center_norm[0] - half[0], self.center_norm[1] - half[1]],
            max: [self.center_norm[0] + half[0], self.center_norm[1] + half[1]],
        }
    }
}

/// Colours of the offline world, following the light or dark theme.
#[derive(Clone, Copy, Debug)]
struct Palette {
    off_world: Color32,
    ocean: Color32,
    land: Color32,
    border: Color32,
    city: Color32,
    label: Color32,
}

impl Palette {
    fn new(dark_mode: bool) -> Self {
        if dark_mode {
            Self {
                off_world: Color32::from_rgb(0x14, 0x16, 0x1a),
                ocean: Color32::from_rgb(0x1b, 0x2a, 0x3a),
                land: Color32::from_rgb(0x2d, 0x31, 0x36),
                border: Color32::from_rgb(0x6b, 0x72, 0x80),
                city: Color32::from_rgb(0xe0, 0xa0, 0x60),
                label: Color32::from_rgb(0xdd, 0xdd, 0xdd),
            }
        } else {
            Self {
                off_world: Color32::from_rgb(0xd8, 0xdc, 0xe0),
                ocean: Color32::from_rgb(0xaa, 0xd3, 0xdf),
                land: Color32::from_rgb(0xf2, 0xef, 0xe9),
                border: Color32::from_rgb(0x9e, 0x9a, 0xa8),
                city: Color32::from_rgb(0x80, 0x30, 0x30),
                label: Color32::from_rgb(0x33, 0x33, 0x33),
            }
        }
    }
}

/// Places in the paint list reserved before the map widget paints its tiles, so that the
/// world, painted into them afterwards with the map's own projector, ends up under the tiles.
#[derive(Clone, Copy, Debug)]
pub(crate) struct WorldSlots {
    off_world: ShapeIdx,
    ocean: ShapeIdx,
    land: ShapeIdx,
    borders: ShapeIdx,
    cities: ShapeIdx,
}

impl WorldSlots {
    pub(crate) fn reserve(painter: &Painter) -> Self {
        Self {
            off_world: painter.add(Shape::Noop),
            ocean: painter.add(Shape::Noop),
            land: painter.add(Shape::Noop),
            borders: painter.add(Shape::Noop),
            cities: painter.add(Shape::Noop),
        }
    }
}

/// The buffers the world is drawn with, kept between frames. The meshes are shared with the
/// paint list only until the frame is tessellated, so by the next frame they are ours alone
/// again and `Arc::make_mut` refills them in place instead of allocating.
#[derive(Default)]
pub(crate) struct WorldPainter {
    land: Arc<Mesh>,
    borders: Arc<Mesh>,
    placed_labels: Vec<Rect>,
}

impl WorldPainter {
    /// Paints `world` into the `slots` reserved on `painter`'s layer, with the map's projector.
    pub(crate) fn paint(
        &mut self,
        world: &OfflineWorld,
        painter: &Painter,
        slots: WorldSlots,
        projector: &Projector,
        dark_mode: bool,
    ) {
        let rect = projector.clip_rect();
        let palette = Palette::new(dark_mode);
        let screen = ScreenTransform::new(projector);
        let world_rect = Rect::from_min_max(screen.screen_pos([0.0, 0.0]), screen.screen_pos([1.0, 1.0]));
        let map_painter = painter.with_clip_rect(rect);

        map_painter.set(slots.off_world, Shape::rect_filled(rect, 0.0, palette.off_world));
        let world_clip = rect.intersect(world_rect);
        if !world_clip.is_positive() {
            return;
        }
        map_painter.set(slots.ocean, Shape::rect_filled(world_clip, 0.0, palette.ocean));
        let world_painter = painter.with_clip_rect(world_clip);

        let visible = screen.visible(8.0);
        fill_land(Arc::make_mut(&mut self.land), world, &screen, &visible, palette.land);
        world_painter.set(slots.land, Shape::Mesh(Arc::clone(&self.land)));

        stroke_borders(
            Arc::make_mut(&mut self.borders),
            world,
            &screen,
            &visible,
            world_clip.expand(2.0),
            palette.border,
        );
        world_painter.set(slots.borders, Shape::Mesh(Arc::clone(&self.borders)));

        if projector.zoom() >= CITY_MIN_ZOOM {
            let cities = self.cities(world, &map_painter, &screen, world_clip, palette);
            map_painter.set(slots.cities, Shape::Vec(cities));
        }
    }

    /// City dots, and the names that do not overlap one placed before.
    fn cities(
        &mut self,
        world: &OfflineWorld,
        painter: &Painter,
        screen: &ScreenTransform,
        clip: Rect,
        palette: Palette,
    ) -> Vec<Shape> {
        let font = FontId::proportional(12.0);
        self.placed_labels.clear();
        let mut shapes = Vec::new();
        for city in &world.cities {
            let at = screen.screen_pos(city.at);
            if !clip.contains(at) {
                continue;
            }
            shapes.push(Shape::circle_filled(at, 2.5, palette.city));
            let galley = painter.layout_no_wrap(city.name.clone(), font.clone(), palette.label);
            let label = Rect::from_min_size(at + vec2(5.0, -galley.size().y / 2.0), galley.size());
            if self.placed_labels.iter().any(|placed| placed.intersects(label)) {
                continue;
            }
            self.placed_labels.push(label);
            shapes.push(Shape::galley(label.min, galley, palette.label));
        }
        shapes
    }
}

/// Refills `mesh` with the land triangles on screen.
fn fill_land(mesh: &mut Mesh, world: &OfflineWorld, screen: &ScreenTransform, visible: &NormBox, color: Color32) {
    // `Mesh::clear` would drop the vertex buffer; keep both.
    mesh.vertices.clear();
    mesh.indices.clear();
    for piece in world.land.iter().filter(|piece| piece.bounds.intersects(visible)) {
        let Ok(base) = u32::try_from(mesh.vertices.len()) else {
            break;
        };
        mesh.vertices.extend(
            world.land_vertices[piece.vertices.clone()]
                .iter()
                .map(|&at| Vertex::untextured(screen.screen_pos(at), color)),
        );
        mesh.indices.extend(world.land_indices[piece.indices.clone()].iter().map(|&index| base + index));
    }
}

/// Refills `mesh` with the borders on screen, as thin antialiased lines.
fn stroke_borders(
    mesh: &mut Mesh,
    world: &OfflineWorld,
    screen: &ScreenTransform,
    visible: &NormBox,
    clip: Rect,
    color: Color32,
) {
    mesh.vertices.clear();
    mesh.indices.clear();
    for run in world.borders.iter().filter(|run| run.bounds.intersects(visible)) {
        let points = &world.border_points[run.points.clone()];
        let Some((&first, rest)) = points.split_first() else {
            continue;
        };
        let mut last = screen.screen_pos(first);
        for (index, &at) in rest.iter().enumerate() {
            let next = screen.screen_pos(at);
            let is_end = index + 1 == rest.len();
            if !is_end && (next - last).length_sq() < MIN_SEGMENT * MIN_SEGMENT {
                continue;
            }
            if clip.intersects(Rect::from_two_pos(last, next)) {
                push_line_segment(mesh, last, next, 1.0, color);
            }
            last = next;
        }
    }
}

/// Adds a segment `width` points wide whose colour fades out over one more point on each side,
/// which is how egui antialiases its own lines.
fn push_line_segment(mesh: &mut Mesh, a: Pos2, b: Pos2, width: f32, color: Color32) {
    let along = b - a;
    let length = along.length();
    if length < 1e-3 {
        return;
    }
    let Ok(base) = u32::try_from(mesh.vertices.len()) else {
        return;
    };
    let normal: Vec2 = vec2(-along.y, along.x) / length * (width / 2.0 + 0.5);
    for end in [a, b] {
        mesh.vertices.push(Vertex::untextured(end + normal, Color32::TRANSPARENT));
        mesh.vertices.push(Vertex::untextured(end, color));
        mesh.vertices.push(Vertex::untextured(end - normal, Color32::TRANSPARENT));
    }
    // a: left 0, centre 1, right 2; b: left 3, centre 4, right 5.
    for [i, j, k] in [[0, 1, 3], [1, 4, 3], [1, 2, 4], [2, 5, 4]] {
        mesh.add_triangle(base + i, base + j, base + k);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn normalized_round_trips() {
        let at = mercator::lon_lat_to_normalized(37.6173, 55.7558);
        let (lon, lat) = mercator::normalized_to_lon_lat(at);
        assert!((lon - 37.6173).abs() < 1e-9);
        assert!((lat - 55.7558).abs() < 1e-9);
        assert_eq!(mercator::lon_lat_to_normalized(-180.0, MAX_LATITUDE)[0], 0.0);
        assert!(mercator::lon_lat_to_normalized(0.0, -90.0)[1] <= 1.0 + 1e-12);
    }

    #[test]
    fn no_border_segment_spans_half_the_world() {
        let world = OfflineWorld::shared();
        for run in &world.borders {
            for pair in world.border_points[run.points.clone()].windows(2) {
                assert!((pair[1][0] - pair[0][0]).abs() < 0.5, "streak in {run:?}");
            }
        }
    }

    #[test]
    fn jumping_polygon_is_drawn_on_both_sides() {
        let mut world = OfflineWorld::load();
        let before = world.land.len();
        let island = Polygon::new(
            LineString::from(vec![(179.0, 0.0), (-179.0, 0.0), (-179.0, 1.0), (179.0, 1.0), (179.0, 0.0)]),
            vec![],
        );
        world.add_polygon(&island);
        assert_eq!(world.land.len(), before + 2);
        for piece in &world.land[before..] {
            assert!(piece.bounds.max[0] - piece.bounds.min[0] < 0.01);
        }
    }
}
