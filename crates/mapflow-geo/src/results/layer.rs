//! [`ResultLayer`]: a parsed result, projected, triangulated and indexed, and [`load_result`]
//! which builds it.

use std::collections::{BTreeMap, HashMap};
use std::f64::consts::PI;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, mpsc};

use super::attributes::{Attributes, Row};
use super::error::ResultError;
use super::parse::{self, ParsedChunk, SkippedFeatures};
use super::split::{Batch, Pos, Splitter};
use super::style;
use geo::TriangulateEarcut as _;
use geo_types::{Coord, LineString, Polygon};
use rstar::{AABB, RTree, RTreeObject};

/// Length of the equator in Web Mercator metres: the size of the world square.
pub const WORLD_METERS: f64 = 40_075_016.685_578_49;

/// Web Mercator ends here.
pub const MAX_LATITUDE: f64 = 85.051_128_779_806_59;

/// Features per chunk handed from the parser to the preparing threads.
const CHUNK_FEATURES: usize = 2048;

/// A class of features in the legend.
#[derive(Clone, Debug, PartialEq)]
pub struct LegendEntry {
    /// The attribute and value that define the class, e.g. `class_id=101`; what
    /// [`super::ResultStyle::hidden_classes`] holds.
    pub key: String,
    /// The class name, translated when the result was loaded (see [`Self::current_label`]).
    pub label: String,
    /// The colour features of the class are drawn in.
    pub color: super::style::ClassColor,
    /// Number of features of the class.
    pub count: usize,
    /// Whether the class is drawn as lines (roads) rather than areas.
    pub is_line: bool,
    /// Total area of the class's polygons on the ground, in m² (0 for lines).
    pub area_m2: f64,
}

impl LegendEntry {
    /// The class name in the current language, for a UI whose language changed after loading.
    pub fn current_label(&self) -> String {
        style::class_label(&self.key)
    }
}

/// One feature's geometry as ranges of the layer's shared buffers.
#[derive(Clone, Copy, Debug)]
pub struct FeatureGeom {
    /// Range of `rings`: outer rings and holes of polygons, or the parts of a line.
    pub rings: [u32; 2],
    /// Range of `triangles` (three indices per triangle, into `points`); empty for lines.
    pub triangles: [u32; 2],
    /// `[min x, min y, max x, max y]` in local metres.
    pub bbox: [f32; 4],
    /// Index into the legend.
    pub class: u32,
    pub is_line: bool,
}

/// A feature's bbox in the R-tree.
#[derive(Clone, Debug, PartialEq)]
pub struct IndexedBox {
    envelope: AABB<[f32; 2]>,
    pub feature: u32,
}

impl RTreeObject for IndexedBox {
    type Envelope = AABB<[f32; 2]>;
    fn envelope(&self) -> Self::Envelope {
        self.envelope
    }
}

/// A result ready to draw: geometry projected to Web Mercator, triangulated, indexed.
///
/// Coordinates are Web Mercator metres (x east, y south) relative to an origin near the data,
/// kept in `f32`: a millimetre is still resolved tens of kilometres away from the origin,
/// and the buffers are half the size. Every feature's outline, triangles and bbox are ranges of
/// a few shared buffers, so drawing walks flat arrays. The bboxes are in an R-tree, for picking
/// and for finding what is in view.
pub struct ResultLayer {
    /// Distinguishes layers in a [`super::DrawCache`], which keeps what it drew per layer.
    pub id: u64,
    /// Normalized Web Mercator (the world is the unit square) of the local origin.
    pub origin: [f64; 2],
    pub points: Vec<[f32; 2]>,
    /// `[start, end)` ranges of `points`; polygon rings are stored open.
    pub rings: Vec<[u32; 2]>,
    pub triangles: Vec<u32>,
    pub features: Vec<FeatureGeom>,
    pub index: RTree<IndexedBox>,
    /// Median size (the longer bbox side) of the features, in local metres: how detailed the
    /// layer can be drawn at a zoom.
    pub typical_size: f32,
    /// Union of the feature bboxes in local metres.
    pub extent: Option<[f32; 4]>,
    /// Ground area of each feature, m² (0 for lines).
    areas: Vec<f64>,
    /// Rings (indices of `rings`, ascending) that begin a polygon other than their feature's
    /// first: the parts of multipolygons, so that a feature's geometry can be given back.
    pub part_starts: Vec<u32>,
    attributes: Attributes,
    legend: Vec<LegendEntry>,
    skipped: SkippedFeatures,
}

impl std::fmt::Debug for ResultLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResultLayer")
            .field("features", &self.features.len())
            .field("points", &self.points.len())
            .field("legend", &self.legend)
            .field("skipped", &self.skipped)
            .finish_non_exhaustive()
    }
}

impl ResultLayer {
    /// Number of features drawn (skipped ones excluded).
    pub fn feature_count(&self) -> usize {
        self.features.len()
    }

    /// Features left out because their geometry was null, broken or not drawable.
    pub fn skipped_count(&self) -> usize {
        self.skipped.total()
    }

    /// Features left out, by reason.
    pub fn skipped(&self) -> SkippedFeatures {
        self.skipped
    }

    /// Lon/lat bounds `[west, south, east, north]` of all features; `None` without features.
    pub fn bbox(&self) -> Option<[f64; 4]> {
        let [min_x, min_y, max_x, max_y] = self.extent?;
        let (west, north) = self.lon_lat_of_local(f64::from(min_x), f64::from(min_y));
        let (east, south) = self.lon_lat_of_local(f64::from(max_x), f64::from(max_y));
        Some([west, south, east, north])
    }

    /// Lon/lat bounds `[west, south, east, north]` of one feature.
    pub fn feature_bbox(&self, feature: usize) -> Option<[f64; 4]> {
        let [min_x, min_y, max_x, max_y] = self.features.get(feature)?.bbox;
        let (west, north) = self.lon_lat_of_local(f64::from(min_x), f64::from(min_y));
        let (east, south) = self.lon_lat_of_local(f64::from(max_x), f64::from(max_y));
        Some([west, south, east, north])
    }

    /// A feature's geometry in lon/lat, as drawn: polygons with closed rings (holes after
    /// their outer ring), lines as their parts; `None` for an unknown index.
    pub fn feature_geometry(&self, feature: usize) -> Option<geo_types::Geometry<f64>> {
        use geo_types::{Geometry, MultiLineString, MultiPolygon};
        let geom = self.features.get(feature)?;
        let [first, last] = geom.rings.map(|r| r as usize);
        let ring = |r: usize, close: bool| {
            let [start, end] = self.rings[r].map(|p| p as usize);
            let mut coords: Vec<Coord<f64>> = self.points[start..end]
                .iter()
                .map(|p| {
                    let (x, y) = self.lon_lat_of_local(f64::from(p[0]), f64::from(p[1]));
                    Coord { x, y }
                })
                .collect();
            if close && let Some(&first) = coords.first() {
                coords.push(first);
            }
            LineString::new(coords)
        };
        if geom.is_line {
            let mut lines: Vec<LineString<f64>> = (first..last).map(|r| ring(r, false)).collect();
            return Some(if lines.len() == 1 {
                Geometry::LineString(lines.remove(0))
            } else {
                Geometry::MultiLineString(MultiLineString::new(lines))
            });
        }
        // Parts begin at the feature's first ring and at each part start within it.
        let from = self.part_starts.partition_point(|&r| (r as usize) <= first);
        let to = self.part_starts.partition_point(|&r| (r as usize) < last);
        let mut bounds: Vec<usize> = std::iter::once(first)
            .chain(self.part_starts[from..to].iter().map(|&r| r as usize))
            .chain(std::iter::once(last))
            .collect();
        bounds.dedup();
        let mut polygons: Vec<Polygon<f64>> = bounds
            .windows(2)
            .map(|w| Polygon::new(ring(w[0], true), (w[0] + 1..w[1]).map(|r| ring(r, true)).collect()))
            .collect();
        Some(if polygons.len() == 1 {
            Geometry::Polygon(polygons.remove(0))
        } else {
            Geometry::MultiPolygon(MultiPolygon::new(polygons))
        })
    }

    /// The classes, known model classes first, then the others by key.
    pub fn legend(&self) -> &[LegendEntry] {
        &self.legend
    }

    /// The legend index of a feature's class.
    pub fn class_index(&self, feature: usize) -> Option<usize> {
        self.features.get(feature).map(|geom| geom.class as usize)
    }

    /// The legend entry of a feature's class.
    pub fn class_of(&self, feature: usize) -> Option<&LegendEntry> {
        let geom = self.features.get(feature)?;
        self.legend.get(geom.class as usize)
    }

    /// A feature's area on the ground in m², from its triangles (0 for lines and unknown
    /// indices). Web Mercator metres are scaled by cos² of the feature's latitude, which is
    /// exact to well under a percent at building and field scale.
    pub fn feature_area_m2(&self, feature: usize) -> f64 {
        self.areas.get(feature).copied().unwrap_or(0.0)
    }

    /// A feature's attributes (its GeoJSON `properties`); empty for an unknown index.
    pub fn attributes(&self, feature: usize) -> Row<'_> {
        self.attributes.row(feature)
    }

    /// All features' attributes, by column.
    pub fn attribute_table(&self) -> &Attributes {
        &self.attributes
    }

    /// Bytes the layer holds, roughly: geometry, index and attributes.
    pub fn heap_bytes(&self) -> usize {
        self.points.capacity() * 8
            + self.rings.capacity() * 8
            + self.triangles.capacity() * 4
            + self.features.capacity() * std::mem::size_of::<FeatureGeom>()
            + self.areas.capacity() * 8
            + self.index.size() * (std::mem::size_of::<IndexedBox>() + 8)
            + self.attributes.heap_bytes()
    }

    /// The feature under a lon/lat point, topmost (last drawn) first: a polygon containing the
    /// point, or a line within `tolerance_m` metres of it.
    pub fn pick(&self, lon: f64, lat: f64, tolerance_m: f64) -> Option<usize> {
        self.pick_where(lon, lat, tolerance_m, |_| true)
    }

    /// Like [`Self::pick`], among the features `keep` accepts.
    pub fn pick_where(
        &self,
        lon: f64,
        lat: f64,
        tolerance_m: f64,
        mut keep: impl FnMut(usize) -> bool,
    ) -> Option<usize> {
        if !lon.is_finite() || !lat.is_finite() {
            return None;
        }
        let [x, y] = self.local_of(lon, lat);
        // Mercator metres are longer than ground metres by 1 / cos(latitude).
        let stretch = 1.0 / lat.clamp(-MAX_LATITUDE, MAX_LATITUDE).to_radians().cos();
        let tolerance = (tolerance_m.max(0.0) * stretch) as f32;
        let point = [x as f32, y as f32];
        let envelope = AABB::from_corners(
            [point[0] - tolerance, point[1] - tolerance],
            [point[0] + tolerance, point[1] + tolerance],
        );
        let mut best: Option<usize> = None;
        for candidate in self.index.locate_in_envelope_intersecting(&envelope) {
            let feature = candidate.feature as usize;
            if best.is_some_and(|best| best > feature) || !keep(feature) {
                continue;
            }
            if self.hits(feature, point, tolerance) {
                best = Some(feature);
            }
        }
        best
    }

    fn hits(&self, feature: usize, point: [f32; 2], tolerance: f32) -> bool {
        let geom = &self.features[feature];
        let rings = &self.rings[geom.rings[0] as usize..geom.rings[1] as usize];
        if geom.is_line {
            let limit = tolerance * tolerance;
            rings.iter().any(|ring| {
                self.points[ring[0] as usize..ring[1] as usize]
                    .windows(2)
                    .any(|pair| distance_squared(point, pair[0], pair[1]) <= limit)
            })
        } else {
            // Even-odd over all rings: holes and the parts of a multipolygon come out right.
            let mut inside = false;
            for ring in rings {
                let ring = &self.points[ring[0] as usize..ring[1] as usize];
                let mut previous = ring[ring.len() - 1];
                for &current in ring {
                    if (current[1] > point[1]) != (previous[1] > point[1]) {
                        let t = (point[1] - current[1]) / (previous[1] - current[1]);
                        if point[0] < current[0] + t * (previous[0] - current[0]) {
                            inside = !inside;
                        }
                    }
                    previous = current;
                }
            }
            inside
        }
    }

    /// Local metres of a lon/lat.
    pub fn local_of(&self, lon: f64, lat: f64) -> [f64; 2] {
        let norm = normalized(lon, lat);
        [(norm[0] - self.origin[0]) * WORLD_METERS, (norm[1] - self.origin[1]) * WORLD_METERS]
    }

    /// Lon/lat of a point in local metres.
    pub fn lon_lat_of_local(&self, x: f64, y: f64) -> (f64, f64) {
        let norm = [self.origin[0] + x / WORLD_METERS, self.origin[1] + y / WORLD_METERS];
        let lon = norm[0] * 360.0 - 180.0;
        let lat = (PI * (1.0 - 2.0 * norm[1])).sinh().atan().to_degrees();
        (lon, lat)
    }
}

/// A feature's area on the ground in m², from its triangles in local metres around `origin`.
fn ground_area(points: &[[f32; 2]], triangles: &[u32], geom: &FeatureGeom, origin: [f64; 2]) -> f64 {
    let [start, end] = geom.triangles.map(|i| i as usize);
    let Some(triangles) = triangles.get(start..end) else { return 0.0 };
    let point = |i: u32| points.get(i as usize).map_or([0.0, 0.0], |p| [f64::from(p[0]), f64::from(p[1])]);
    let mercator: f64 = triangles
        .chunks_exact(3)
        .map(|t| {
            let (a, b, c) = (point(t[0]), point(t[1]), point(t[2]));
            ((b[0] - a[0]) * (c[1] - a[1]) - (c[0] - a[0]) * (b[1] - a[1])).abs() / 2.0
        })
        .sum();
    let centre_y = origin[1] + f64::from(geom.bbox[1] + geom.bbox[3]) / 2.0 / WORLD_METERS;
    let lat = (PI * (1.0 - 2.0 * centre_y)).sinh().atan();
    mercator * lat.cos().powi(2)
}

/// Squared distance from `p` to the segment `a`–`b`.
fn distance_squared(p: [f32; 2], a: [f32; 2], b: [f32; 2]) -> f32 {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let length = dx * dx + dy * dy;
    let t = if length > 0.0 { (((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / length).clamp(0.0, 1.0) } else { 0.0 };
    let (ex, ey) = (a[0] + t * dx - p[0], a[1] + t * dy - p[1]);
    ex * ex + ey * ey
}

/// Normalized Web Mercator (x east, y south, the world the unit square) of a lon/lat.
pub fn normalized(lon: f64, lat: f64) -> [f64; 2] {
    let lat = lat.clamp(-MAX_LATITUDE, MAX_LATITUDE);
    [(lon + 180.0) / 360.0, (1.0 - lat.to_radians().tan().asinh() / PI) / 2.0]
}

/// Parses and prepares a result off the UI thread: the returned layer is ready to draw.
///
/// The bytes are cut into batches of whole features (see [`super::split`]) that other
/// threads parse, project and triangulate while the cutting goes on. Features with null,
/// broken or unsupported geometry are skipped and counted; only broken JSON, or JSON that is
/// not a FeatureCollection, is an error.
pub fn load_result(bytes: &[u8]) -> Result<ResultLayer, ResultError> {
    load(|feed| {
        for block in bytes.chunks(READ_BLOCK) {
            if !feed(block) {
                break;
            }
        }
        Ok(())
    })
}

/// Like [`load_result`], reading a file as it goes: the file is never held whole, so a
/// result of hundreds of MB costs memory only for what is drawn.
pub fn load_result_file(path: &std::path::Path) -> Result<ResultLayer, ResultError> {
    let read_error = |e: std::io::Error| ResultError::Read { reason: format!("{}: {e}", path.display()) };
    let file = std::fs::File::open(path).map_err(read_error)?;
    load_result_reader(file).map_err(|e| match e {
        ResultError::Read { reason } => ResultError::Read { reason: format!("{}: {reason}", path.display()) },
        other => other,
    })
}

/// Like [`load_result`], from any reader (a file, a download).
pub fn load_result_reader(mut reader: impl std::io::Read) -> Result<ResultLayer, ResultError> {
    load(move |feed| {
        let mut block = vec![0u8; READ_BLOCK];
        loop {
            let read = match reader.read(&mut block) {
                Ok(0) => return Ok(()),
                Ok(read) => read,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(ResultError::Read { reason: e.to_string() }),
            };
            if !feed(&block[..read]) {
                return Ok(());
            }
        }
    })
}

/// Bytes read at a time.
const READ_BLOCK: usize = 1 << 20;

/// What a preparing thread hands back.
type Prepared = Result<PreparedChunk, (Pos, ResultError)>;

/// The pipeline: `source` feeds blocks (and stops when told `false`); batches go to
/// preparing threads; prepared chunks are put together in file order as they come.
fn load(
    source: impl FnOnce(&mut dyn FnMut(&[u8]) -> bool) -> Result<(), ResultError>,
) -> Result<ResultLayer, ResultError> {
    let helpers = std::thread::available_parallelism().map_or(1, |cores| cores.get()).clamp(1, 4);
    let (batches, batch_inbox) = mpsc::sync_channel::<Batch>(helpers * 2);
    let batch_inbox = Mutex::new(batch_inbox);
    let (prepared, prepared_inbox) = mpsc::sync_channel::<Prepared>(helpers * 4);
    let failed = AtomicBool::new(false);
    let mut splitter = Splitter::new(CHUNK_FEATURES);
    let (read, skeleton, merged) = std::thread::scope(|scope| {
        let mut workers = 0;
        for number in 0..helpers {
            let (inbox, prepared, failed) = (&batch_inbox, prepared.clone(), &failed);
            let spawned =
                std::thread::Builder::new().name(format!("result-prepare-{number}")).spawn_scoped(scope, move || {
                    loop {
                        let next = match inbox.lock() {
                            Ok(inbox) => inbox.recv(),
                            Err(_) => break,
                        };
                        let Ok(batch) = next else { break };
                        let done = prepare_batch(batch);
                        if done.is_err() {
                            failed.store(true, Ordering::Relaxed);
                        }
                        if prepared.send(done).is_err() {
                            break;
                        }
                    }
                });
            match spawned {
                Ok(_) => workers += 1,
                Err(err) => tracing::warn!("preparing the result on one thread fewer: {err}"),
            }
        }
        drop(prepared);
        let merger = std::thread::Builder::new()
            .name("result-merge".to_owned())
            .spawn_scoped(scope, move || merge_in_order(prepared_inbox));
        // With no thread to prepare them, batches are prepared here, as they come.
        let mut here: Vec<Prepared> = Vec::new();
        let mut send = |batch: Batch| {
            if workers == 0 {
                here.push(prepare_batch(batch));
            } else if let Err(mpsc::SendError(batch)) = batches.send(batch) {
                here.push(prepare_batch(batch));
            }
        };
        let read = source(&mut |block| {
            splitter.feed(block, &mut send);
            splitter.mismatch().is_none() && !failed.load(Ordering::Relaxed)
        });
        let skeleton = splitter.finish(&mut send);
        drop(batches);
        // Batches prepared here go in after the rest; the merger puts them in file order.
        let merged = merger
            .map(|merger| merger.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
            .map_err(|err| ResultError::Read { reason: err.to_string() })
            .map(|mut merger| {
                for chunk in here {
                    merger.add_prepared(chunk);
                }
                merger
            });
        (read, skeleton, merged)
    });
    read?;
    if let Some(mismatch) = splitter.mismatch() {
        return Err(ResultError::Json {
            line: mismatch.at.line,
            column: mismatch.at.column,
            reason: format!("“{}” does not close what is open", char::from(mismatch.found)),
        });
    }
    let mut merger = merged?;
    if let Some((_, err)) = merger.error.take() {
        return Err(err);
    }
    // The skeleton: the collection's type, and any features the splitter did not see.
    let mut skeleton_chunk = None;
    let collection = parse::parse(&skeleton, usize::MAX, &mut |chunk| skeleton_chunk = Some(chunk)).map_err(|err| {
        let at = splitter.skeleton_position(&skeleton, Pos { line: err.line(), column: err.column() });
        ResultError::from_json_at(&err, at)
    })?;
    match collection.kind.as_deref() {
        Some("FeatureCollection") => {}
        Some("") => {
            return Err(ResultError::NotFeatureCollection { found: "type is not a string".to_owned() });
        }
        Some(other) => {
            return Err(ResultError::NotFeatureCollection { found: format!("type {other}") });
        }
        None => {
            return Err(ResultError::NotFeatureCollection { found: "no type".to_owned() });
        }
    }
    if let Some(mut chunk) = skeleton_chunk {
        chunk.index = usize::MAX;
        merger.add(prepare(chunk));
    }
    merger.skipped.null_geometry += collection.skipped.null_geometry;
    merger.skipped.broken_geometry += collection.skipped.broken_geometry;
    merger.skipped.unsupported_geometry += collection.skipped.unsupported_geometry;
    merger.features_read += collection.feature_count;
    let features_read = merger.features_read;
    let layer = merger.finish();
    tracing::debug!(
        features = features_read,
        batches = splitter.batches(),
        drawn = layer.feature_count(),
        skipped = ?layer.skipped(),
        "result loaded"
    );
    Ok(layer)
}

/// Parses and prepares one batch; a parse error carries its file position.
fn prepare_batch(batch: Batch) -> Prepared {
    match parse::parse_features(&batch.bytes, batch.index) {
        Ok((chunk, counts)) => {
            drop(batch.bytes);
            let mut prepared = prepare(chunk);
            prepared.counts = counts;
            Ok(prepared)
        }
        Err(err) => {
            let at = Splitter::batch_position(batch.start, Pos { line: err.line(), column: err.column() });
            Err((at, ResultError::from_json_at(&err, at)))
        }
    }
}

/// Receives prepared chunks in any order and adds them in file order; the first error (by
/// file position) is kept.
fn merge_in_order(inbox: mpsc::Receiver<Prepared>) -> Merger {
    let mut merger = Merger::default();
    for prepared in inbox {
        merger.add_prepared(prepared);
    }
    merger
}

/// A chunk projected to local metres and triangulated; classes are numbered per chunk.
struct PreparedChunk {
    index: usize,
    origin: [f64; 2],
    points: Vec<[f32; 2]>,
    rings: Vec<[u32; 2]>,
    triangles: Vec<u32>,
    features: Vec<FeatureGeom>,
    /// See [`ResultLayer::part_starts`], as indices of this chunk's `rings`.
    part_starts: Vec<u32>,
    /// Ground area of each feature, m².
    areas: Vec<f64>,
    attributes: Attributes,
    /// Class keys, with how many polygon and line features each has, and their area.
    classes: Vec<(String, [usize; 2], f64)>,
    broken: usize,
    /// What the parser read and left out.
    counts: parse::Counts,
}

fn prepare(mut chunk: ParsedChunk) -> PreparedChunk {
    let origin = chunk.origin.map_or([0.5, 0.5], |[lon, lat]| normalized(lon, lat));
    let mut out = PreparedChunk {
        index: chunk.index,
        origin,
        points: Vec::with_capacity(chunk.points.len()),
        rings: Vec::with_capacity(chunk.ends[0].len()),
        triangles: Vec::with_capacity(chunk.points.len() * 2),
        features: Vec::with_capacity(chunk.features.len()),
        part_starts: Vec::new(),
        areas: Vec::with_capacity(chunk.features.len()),
        attributes: std::mem::take(&mut chunk.attributes),
        classes: Vec::new(),
        broken: 0,
        counts: parse::Counts::default(),
    };
    let mut class_ids: HashMap<String, u32> = HashMap::new();
    let mut key = String::new();
    let mut scratch = Scratch::default();
    let mut keep = Vec::with_capacity(chunk.features.len());
    for (row, feature) in std::mem::take(&mut chunk.features).into_iter().enumerate() {
        let marks = (out.points.len(), out.rings.len(), out.triangles.len());
        let is_line = feature.kind.is_line();
        let ok = if is_line {
            add_lines(&chunk, &feature, &mut out)
        } else {
            add_polygons(&chunk, &feature, &mut out, &mut scratch)
        };
        if !ok {
            out.points.truncate(marks.0);
            out.rings.truncate(marks.1);
            while out.part_starts.last().is_some_and(|&r| r as usize >= marks.1) {
                out.part_starts.pop();
            }
            out.triangles.truncate(marks.2);
            out.broken += 1;
            keep.push(false);
            continue;
        }
        keep.push(true);
        let mut bbox = [f32::MAX, f32::MAX, f32::MIN, f32::MIN];
        for point in &out.points[marks.0..] {
            bbox = [bbox[0].min(point[0]), bbox[1].min(point[1]), bbox[2].max(point[0]), bbox[3].max(point[1])];
        }
        style::class_key(out.attributes.row(row), is_line, &mut key);
        let class = match class_ids.get(key.as_str()) {
            Some(&class) => class,
            None => {
                let class = len32(out.classes.len());
                class_ids.insert(key.clone(), class);
                out.classes.push((key.clone(), [0, 0], 0.0));
                class
            }
        };
        let geom = FeatureGeom {
            rings: [len32(marks.1), len32(out.rings.len())],
            triangles: [len32(marks.2), len32(out.triangles.len())],
            bbox,
            class,
            is_line,
        };
        let area = ground_area(&out.points, &out.triangles, &geom, out.origin);
        let entry = &mut out.classes[class as usize];
        entry.1[usize::from(is_line)] += 1;
        entry.2 += area;
        out.areas.push(area);
        out.features.push(geom);
    }
    if out.broken > 0 {
        out.attributes.retain_rows(&keep);
    }
    out
}

fn len32(len: usize) -> u32 {
    u32::try_from(len).unwrap_or(u32::MAX)
}

/// Local metres of a lon/lat, relative to `origin` (normalized Mercator).
#[inline]
fn project(point: [f64; 2], origin: [f64; 2]) -> [f32; 2] {
    let norm = normalized(point[0], point[1]);
    [((norm[0] - origin[0]) * WORLD_METERS) as f32, ((norm[1] - origin[1]) * WORLD_METERS) as f32]
}

/// The `ends[level]` entries of a feature, each with where it starts in the level below.
fn spans(chunk: &ParsedChunk, feature: &parse::ParsedFeature, level: usize) -> impl Iterator<Item = (usize, usize)> {
    let ends = &chunk.ends[level][feature.start[level + 1] as usize..feature.end[level + 1] as usize];
    let mut start = feature.start[level] as usize;
    ends.iter().map(move |&end| {
        let span = (start, end as usize);
        start = end as usize;
        span
    })
}

fn add_lines(chunk: &ParsedChunk, feature: &parse::ParsedFeature, out: &mut PreparedChunk) -> bool {
    let before = out.rings.len();
    for (start, end) in spans(chunk, feature, 0) {
        if end - start < 2 {
            continue;
        }
        let first = out.points.len();
        out.points.extend(chunk.points[start..end].iter().map(|&point| project(point, out.origin)));
        out.rings.push([len32(first), len32(out.points.len())]);
    }
    out.rings.len() > before
}

/// Buffers reused from polygon to polygon.
#[derive(Default)]
struct Scratch {
    rings: Vec<[u32; 2]>,
}

fn add_polygons(
    chunk: &ParsedChunk,
    feature: &parse::ParsedFeature,
    out: &mut PreparedChunk,
    scratch: &mut Scratch,
) -> bool {
    let before = out.rings.len();
    let ring_spans: Vec<(usize, usize)> = spans(chunk, feature, 0).collect();
    let first_ring = feature.start[1] as usize;
    for (polygon_start, polygon_end) in spans(chunk, feature, 1) {
        scratch.rings.clear();
        for (number, &(start, end)) in
            ring_spans[polygon_start - first_ring..polygon_end - first_ring].iter().enumerate()
        {
            let mut ring = &chunk.points[start..end];
            if ring.len() > 1 && ring[0] == ring[ring.len() - 1] {
                ring = &ring[..ring.len() - 1];
            }
            if ring.len() < 3 {
                if number == 0 {
                    break; // no outer ring: the whole polygon is left out
                }
                continue;
            }
            let first = out.points.len();
            out.points.extend(ring.iter().map(|&point| project(point, out.origin)));
            scratch.rings.push([len32(first), len32(out.points.len())]);
        }
        if scratch.rings.is_empty() {
            continue;
        }
        if out.rings.len() > before {
            out.part_starts.push(len32(out.rings.len()));
        }
        triangulate(&out.points, &scratch.rings, &mut out.triangles);
        out.rings.extend_from_slice(&scratch.rings);
    }
    out.rings.len() > before
}

/// Appends the triangles of one polygon (outer ring first, then holes) to `triangles`.
fn triangulate(points: &[[f32; 2]], rings: &[[u32; 2]], triangles: &mut Vec<u32>) {
    let outer = rings[0];
    let base = outer[0];
    let count = outer[1] - outer[0];
    if rings.len() == 1 && is_convex(&points[outer[0] as usize..outer[1] as usize]) {
        for i in 1..count - 1 {
            triangles.extend_from_slice(&[base, base + i, base + i + 1]);
        }
        return;
    }
    let ring_of = |ring: &[u32; 2]| {
        LineString::new(
            points[ring[0] as usize..ring[1] as usize]
                .iter()
                .map(|point| Coord { x: f64::from(point[0]), y: f64::from(point[1]) })
                .collect(),
        )
    };
    let polygon = Polygon::new(ring_of(&outer), rings[1..].iter().map(ring_of).collect());
    let total: u32 = rings.iter().map(|ring| ring[1] - ring[0]).sum();
    // earcut can panic on a degenerate ring (found by fuzzing): that polygon is drawn as
    // its outline only, and the rest of the result still loads.
    let Ok(raw) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| polygon.earcut_triangles_raw())) else {
        return;
    };
    if raw.vertices.len() != total as usize {
        return; // a ring that repeats its first point: outline only
    }
    triangles.extend(raw.triangle_indices.iter().map(|&index| base + len32(index)));
}

/// Whether a ring (stored open) turns the same way at every vertex.
fn is_convex(ring: &[[f32; 2]]) -> bool {
    let count = ring.len();
    if count == 3 {
        return true;
    }
    let mut sign = 0.0f32;
    for i in 0..count {
        let a = ring[i];
        let b = ring[(i + 1) % count];
        let c = ring[(i + 2) % count];
        let cross = (b[0] - a[0]) * (c[1] - b[1]) - (b[1] - a[1]) * (c[0] - b[0]);
        if cross != 0.0 {
            if sign == 0.0 {
                sign = cross.signum();
            } else if cross.signum() != sign {
                return false;
            }
        }
    }
    true
}

/// Puts prepared chunks together in file order as they come: each is appended and dropped
/// at once, so memory holds the layer and only the few chunks that came early.
struct Merger {
    layer: ResultLayer,
    /// The next chunk index to append, and those that came before their turn.
    next: usize,
    waiting: BTreeMap<usize, PreparedChunk>,
    origin_set: bool,
    /// Class keys in the order first met, with their polygon and line counts and area.
    classes: Vec<(String, [usize; 2], f64)>,
    class_ids: HashMap<String, u32>,
    skipped: SkippedFeatures,
    features_read: usize,
    /// The first parse error by file position.
    error: Option<(Pos, ResultError)>,
}

impl Default for Merger {
    fn default() -> Self {
        Self {
            layer: ResultLayer {
                id: next_layer_id(),
                origin: [0.5, 0.5],
                points: Vec::new(),
                rings: Vec::new(),
                triangles: Vec::new(),
                features: Vec::new(),
                index: RTree::new(),
                typical_size: 0.0,
                extent: None,
                areas: Vec::new(),
                part_starts: Vec::new(),
                attributes: Attributes::default(),
                legend: Vec::new(),
                skipped: SkippedFeatures::default(),
            },
            next: 0,
            waiting: BTreeMap::new(),
            origin_set: false,
            classes: Vec::new(),
            class_ids: HashMap::new(),
            skipped: SkippedFeatures::default(),
            features_read: 0,
            error: None,
        }
    }
}

impl Merger {
    fn add_prepared(&mut self, prepared: Prepared) {
        match prepared {
            Ok(chunk) if chunk.index == self.next => {
                self.add(chunk);
                self.next += 1;
                while let Some(chunk) = self.waiting.remove(&self.next) {
                    self.add(chunk);
                    self.next += 1;
                }
            }
            Ok(chunk) => {
                self.waiting.insert(chunk.index, chunk);
            }
            Err((at, err)) => {
                if self.error.as_ref().is_none_or(|(first, _)| at < *first) {
                    self.error = Some((at, err));
                }
            }
        }
    }

    fn add(&mut self, chunk: PreparedChunk) {
        self.skipped.broken_geometry += chunk.broken + chunk.counts.skipped.broken_geometry;
        self.skipped.null_geometry += chunk.counts.skipped.null_geometry;
        self.skipped.unsupported_geometry += chunk.counts.skipped.unsupported_geometry;
        self.features_read += chunk.counts.features;
        if self.error.is_some() || chunk.features.is_empty() {
            return;
        }
        let layer = &mut self.layer;
        if !self.origin_set {
            layer.origin = chunk.origin;
            self.origin_set = true;
        }
        let origin = layer.origin;
        let point_base = len32(layer.points.len());
        let ring_base = len32(layer.rings.len());
        let triangle_base = len32(layer.triangles.len());
        // Chunks carry the same origin unless the first features had no usable position.
        let shift = [
            ((chunk.origin[0] - origin[0]) * WORLD_METERS) as f32,
            ((chunk.origin[1] - origin[1]) * WORLD_METERS) as f32,
        ];
        let shifted = shift != [0.0, 0.0];
        if shifted {
            layer.points.extend(chunk.points.iter().map(|point| [point[0] + shift[0], point[1] + shift[1]]));
        } else {
            layer.points.extend_from_slice(&chunk.points);
        }
        layer.rings.extend(chunk.rings.iter().map(|ring| [ring[0] + point_base, ring[1] + point_base]));
        layer.part_starts.extend(chunk.part_starts.iter().map(|ring| ring + ring_base));
        layer.triangles.extend(chunk.triangles.iter().map(|index| index + point_base));
        let remap: Vec<u32> = chunk
            .classes
            .iter()
            .map(|(key, counts, area)| {
                let id = match self.class_ids.get(key.as_str()) {
                    Some(&id) => id,
                    None => {
                        let id = len32(self.classes.len());
                        self.class_ids.insert(key.clone(), id);
                        self.classes.push((key.clone(), [0, 0], 0.0));
                        id
                    }
                };
                let total = &mut self.classes[id as usize];
                total.1[0] += counts[0];
                total.1[1] += counts[1];
                total.2 += area;
                id
            })
            .collect();
        layer.features.extend(chunk.features.iter().map(|feature| {
            let mut bbox = feature.bbox;
            if shifted {
                bbox = [bbox[0] + shift[0], bbox[1] + shift[1], bbox[2] + shift[0], bbox[3] + shift[1]];
            }
            FeatureGeom {
                rings: [feature.rings[0] + ring_base, feature.rings[1] + ring_base],
                triangles: [feature.triangles[0] + triangle_base, feature.triangles[1] + triangle_base],
                bbox,
                class: remap.get(feature.class as usize).copied().unwrap_or(0),
                is_line: feature.is_line,
            }
        }));
        layer.areas.extend_from_slice(&chunk.areas);
        layer.attributes.append(chunk.attributes);
    }

    /// Numbers the classes in legend order, builds the R-tree and the class areas.
    fn finish(mut self) -> ResultLayer {
        // Chunks that never met their turn (a batch lost to a failed thread) still count.
        for chunk in std::mem::take(&mut self.waiting).into_values() {
            self.add(chunk);
        }
        let mut layer = self.layer;
        layer.skipped = self.skipped;
        layer.attributes.finish();
        let mut order: Vec<usize> = (0..self.classes.len()).collect();
        order.sort_by(|&a, &b| style::legend_rank(&self.classes[a].0).cmp(&style::legend_rank(&self.classes[b].0)));
        let mut rank = vec![0u32; self.classes.len()];
        for (position, &class) in order.iter().enumerate() {
            rank[class] = len32(position);
        }
        layer.legend = order
            .iter()
            .map(|&class| {
                let (key, [polygons, lines], area) = &self.classes[class];
                LegendEntry {
                    key: key.clone(),
                    label: style::class_label(key),
                    color: style::class_color(key),
                    count: polygons + lines,
                    is_line: lines > polygons,
                    area_m2: *area,
                }
            })
            .collect();
        for feature in &mut layer.features {
            feature.class = rank.get(feature.class as usize).copied().unwrap_or(0);
        }
        layer.points.shrink_to_fit();
        layer.rings.shrink_to_fit();
        layer.triangles.shrink_to_fit();
        layer.features.shrink_to_fit();

        let mut sizes = Vec::with_capacity(layer.features.len());
        let mut extent: Option<[f32; 4]> = None;
        let boxes: Vec<IndexedBox> = layer
            .features
            .iter()
            .enumerate()
            .map(|(number, feature)| {
                let [min_x, min_y, max_x, max_y] = feature.bbox;
                sizes.push((max_x - min_x).max(max_y - min_y));
                extent = Some(match extent {
                    None => feature.bbox,
                    Some(e) => [e[0].min(min_x), e[1].min(min_y), e[2].max(max_x), e[3].max(max_y)],
                });
                IndexedBox { envelope: AABB::from_corners([min_x, min_y], [max_x, max_y]), feature: len32(number) }
            })
            .collect();
        layer.extent = extent;
        if !sizes.is_empty() {
            let middle = sizes.len() / 2;
            let (_, median, _) = sizes.select_nth_unstable_by(middle, f32::total_cmp);
            layer.typical_size = *median;
        }
        drop(sizes);
        layer.index = RTree::bulk_load(boxes);
        layer.areas.shrink_to_fit();
        layer
    }
}

fn next_layer_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}
