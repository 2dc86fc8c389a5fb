//! The area of interest (AOI): importing it from GeoJSON or WKT, checking it against the
//! account's limits before a processing is started, measuring it and triangulating it for
//! drawing; GeoTIFF reading ([`imagery`]), the gazetteer, results parsed and prepared for
//! drawing ([`results`]) and the GIS file formats ([`export`]).
//!
//! Everything here is plain data and pure functions: no egui and no file or network access.
//! Callers pass in the text or bytes they read, and get back values they can show or send.
//! Coordinates are lon/lat degrees in EPSG:4326 with `x` = longitude, the same convention as
//! `walkers::Position` and the Mapflow API's `geometry`.

// The test GeoTIFF writer of `testkit`, shared with the unit tests, names the crate by its name.
#[cfg(test)]
extern crate self as mapflow_geo;

rust_i18n::i18n!("../../locales", fallback = "en");

pub mod batch;
pub mod export;
pub mod gazetteer;
pub mod imagery;
mod import;
pub mod mercator;
pub mod results;
mod validate;
mod validity;
mod wkt;

use ::geo::{BoundingRect, GeodesicArea, TriangulateEarcut};
use geo_types::{Coord, LineString, Polygon};

pub use import::{AoiError, parse_geojson, parse_geojson_bytes};
pub use validate::{AoiIssue, AoiLimits, validate};
pub use wkt::parse_wkt_polygons;

/// The area of interest: one or more polygons in lon/lat (EPSG:4326), x = lon.
///
/// Each polygon is one AOI as the service counts them (`maxAoisPerProcessing`), so a
/// MultiPolygon read from a file becomes several entries here.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Aoi {
    /// The polygons, in the order they were read or drawn.
    pub polygons: Vec<Polygon<f64>>,
}

impl Aoi {
    /// True when there is no polygon at all.
    pub fn is_empty(&self) -> bool {
        self.polygons.is_empty()
    }

    /// Geodesic area of each polygon in m² on the WGS 84 ellipsoid, holes subtracted.
    ///
    /// Computed with [`GeodesicArea`] and made non-negative whatever the rings' winding:
    /// GeoJSON files often wind exteriors clockwise, and geo's "unsigned" area would then
    /// measure the rest of the Earth. An AOI is always far smaller than half the Earth, so the
    /// magnitude of the signed area is the area meant.
    pub fn areas_m2(&self) -> Vec<f64> {
        self.polygons.iter().map(polygon_area_m2).collect()
    }

    /// Sum of [`Aoi::areas_m2`], in m².
    pub fn total_area_m2(&self) -> f64 {
        self.areas_m2().iter().sum()
    }

    /// `[west, south, east, north]` of all exterior rings in degrees, `None` when empty.
    ///
    /// Non-finite coordinates are ignored; an AOI crossing the antimeridian is not unwrapped.
    pub fn bbox(&self) -> Option<[f64; 4]> {
        let mut bbox: Option<[f64; 4]> = None;
        let coords = self.polygons.iter().flat_map(|p| p.exterior().coords());
        for c in coords.filter(|c| c.x.is_finite() && c.y.is_finite()) {
            bbox = Some(match bbox {
                None => [c.x, c.y, c.x, c.y],
                Some([w, s, e, n]) => [w.min(c.x), s.min(c.y), e.max(c.x), n.max(c.y)],
            });
        }
        bbox
    }

    /// The AOI as the `geometry` of `POST /processings/v2`: a Polygon when there is one, a
    /// MultiPolygon when there are several (or none: an empty MultiPolygon).
    pub fn to_geometry(&self) -> geojson::Geometry {
        let value = match self.polygons.as_slice() {
            [one] => geojson::GeometryValue::from(one),
            many => geojson::GeometryValue::from(&geo_types::MultiPolygon::new(many.to_vec())),
        };
        geojson::Geometry::new(value)
    }

    /// The AOI as a GeoJSON FeatureCollection text, one Feature per polygon, for saving.
    ///
    /// Each feature carries its geodesic area as `area_km2`, so a GIS shows it in the attribute
    /// table; [`parse_geojson`] reads the file back into the same polygons.
    pub fn to_geojson_string(&self) -> String {
        let features = self.polygons.iter().map(|polygon| {
            let mut properties = serde_json::Map::new();
            // Whole square metres, in km²: precise enough, and no float noise in the file.
            let km2 = polygon_area_m2(polygon).round() / 1e6;
            properties.insert("area_km2".to_owned(), serde_json::json!(km2));
            geojson::Feature {
                geometry: Some(geojson::Geometry::new(geojson::GeometryValue::from(polygon))),
                properties: Some(properties),
                ..Default::default()
            }
        });
        let collection = geojson::FeatureCollection::new(features);
        // Serializing plain numbers and strings cannot fail; fall back to the compact form of
        // the same value rather than panic if it ever did.
        serde_json::to_string_pretty(&collection).unwrap_or_else(|_| collection.to_string())
    }

    /// A rectangle AOI from a bbox `[west, south, east, north]`, e.g. the map's current extent.
    ///
    /// The corners are put in order and clamped to lon [-180, 180] and lat [-90, 90]: a zoomed
    /// out map shows more than the world, and only the world can be processed. The ring is
    /// counter-clockwise, as RFC 7946 recommends.
    pub fn from_bbox(bbox: [f64; 4]) -> Aoi {
        let [a, b, c, d] = bbox;
        let west = a.min(c).clamp(-180.0, 180.0);
        let east = a.max(c).clamp(-180.0, 180.0);
        let south = b.min(d).clamp(-90.0, 90.0);
        let north = b.max(d).clamp(-90.0, 90.0);
        let ring = LineString::new(vec![
            Coord { x: west, y: south },
            Coord { x: east, y: south },
            Coord { x: east, y: north },
            Coord { x: west, y: north },
            Coord { x: west, y: south },
        ]);
        Aoi { polygons: vec![Polygon::new(ring, vec![])] }
    }
}

/// Geodesic area of one polygon in m², whatever the winding of its rings (see
/// [`Aoi::areas_m2`]).
fn polygon_area_m2(polygon: &Polygon<f64>) -> f64 {
    polygon.geodesic_area_signed().abs()
}

/// Triangulates a polygon (with holes) for filling it on the map: the vertices as `[lon, lat]`
/// and three indices into them per triangle, computed with geo's [`TriangulateEarcut`].
///
/// egui fills only convex shapes, so the UI builds a mesh from this (and caches it). Rings are
/// closed if needed; a polygon whose exterior has fewer than three points, or with a non-finite
/// coordinate, yields nothing, and holes with fewer than three points are left out, so that no
/// input makes earcut panic or loop.
pub fn triangulate(polygon: &Polygon<f64>) -> (Vec<[f64; 2]>, Vec<u32>) {
    let finite = polygon.exterior().coords().chain(polygon.interiors().iter().flat_map(|r| r.coords()));
    if !finite.into_iter().all(|c| c.x.is_finite() && c.y.is_finite()) {
        return (Vec::new(), Vec::new());
    }
    let Some(exterior) = usable_ring(polygon.exterior()) else {
        return (Vec::new(), Vec::new());
    };
    let interiors = polygon.interiors().iter().filter_map(usable_ring).collect();
    let clean = Polygon::new(exterior, interiors);
    // A zero-size polygon has nothing to fill (and earcut gains nothing from trying).
    if clean.bounding_rect().is_none_or(|r| r.width() == 0.0 || r.height() == 0.0) {
        return (Vec::new(), Vec::new());
    }
    let raw = clean.earcut_triangles_raw();
    let indices: Result<Vec<u32>, _> = raw.triangle_indices.into_iter().map(u32::try_from).collect();
    match indices {
        Ok(indices) => (raw.vertices, indices),
        Err(_) => (Vec::new(), Vec::new()),
    }
}

/// The ring closed, with consecutive repeated points removed, or `None` when fewer than three
/// distinct points remain.
fn usable_ring(ring: &LineString<f64>) -> Option<LineString<f64>> {
    let mut coords: Vec<Coord<f64>> = Vec::with_capacity(ring.0.len() + 1);
    for &c in &ring.0 {
        if coords.last() != Some(&c) {
            coords.push(c);
        }
    }
    if coords.len() > 1 && coords.first() == coords.last() {
        coords.pop();
    }
    if coords.len() < 3 {
        return None;
    }
    let first = coords[0];
    coords.push(first);
    Some(LineString::new(coords))
}

/// Whether `p` is inside `ring` by the even-odd rule; the ring may be closed (its last
/// point repeating the first) or not. A point on an edge may fall either way.
pub fn point_in_ring<T: Copy + Into<[f64; 2]>>(p: [f64; 2], ring: &[T]) -> bool {
    let mut inside = false;
    let n = ring.len();
    for k in 0..n {
        let (a, b): ([f64; 2], [f64; 2]) = (ring[k].into(), ring[(k + 1) % n].into());
        if (a[1] > p[1]) != (b[1] > p[1]) && p[0] < a[0] + (p[1] - a[1]) * (b[0] - a[0]) / (b[1] - a[1]) {
            inside = !inside;
        }
    }
    inside
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usable_ring_closes_and_dedups() {
        let ring = LineString::from(vec![(0.0, 0.0), (1.0, 0.0), (1.0, 0.0), (1.0, 1.0)]);
        let fixed = usable_ring(&ring).map(|r| r.0.len());
        assert_eq!(fixed, Some(4));
        let short = LineString::from(vec![(0.0, 0.0), (1.0, 0.0), (0.0, 0.0)]);
        assert!(usable_ring(&short).is_none());
    }

    #[test]
    fn triangulate_refuses_degenerate_input() {
        let line = Polygon::new(LineString::from(vec![(0.0, 0.0), (1.0, 0.0), (2.0, 0.0)]), vec![]);
        assert_eq!(triangulate(&line).1.len(), 0);
        let nan = Polygon::new(LineString::from(vec![(0.0, 0.0), (f64::NAN, 0.0), (1.0, 1.0)]), vec![]);
        assert_eq!(triangulate(&nan).1.len(), 0);
        let empty = Polygon::new(LineString::new(vec![]), vec![]);
        assert_eq!(triangulate(&empty), (Vec::new(), Vec::new()));
    }

    #[test]
    fn point_in_ring_open_or_closed() {
        let open = [[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0]];
        let closed = [(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0), (0.0, 0.0)];
        for p in [[5.0, 5.0], [15.0, 5.0], [-1.0, 5.0], [5.0, 10.5], [9.99, 0.01]] {
            assert_eq!(point_in_ring(p, &open), point_in_ring(p, &closed), "{p:?}");
        }
        assert!(point_in_ring([5.0, 5.0], &open));
        assert!(!point_in_ring([15.0, 5.0], &closed));
        let hole_free: [[f64; 2]; 0] = [];
        assert!(!point_in_ring([0.0, 0.0], &hole_free));
    }

    #[test]
    fn from_bbox_orders_and_clamps() {
        let aoi = Aoi::from_bbox([200.0, 10.0, -250.0, -100.0]);
        assert_eq!(aoi.bbox(), Some([-180.0, -90.0, 180.0, 10.0]));
    }

    #[test]
    fn area_ignores_winding() {
        let ccw = Aoi::from_bbox([0.0, 0.0, 0.1, 0.1]);
        let mut cw = ccw.clone();
        cw.polygons[0].exterior_mut(|r| r.0.reverse());
        let (a, b) = (ccw.total_area_m2(), cw.total_area_m2());
        assert!(a > 1e8 && (a - b).abs() < 1.0, "{a} vs {b}");
    }
}

/// The part of `aoi` inside the union of `footprints` (e.g. the catalog images picked):
/// empty when they do not overlap. Pieces under 1 m² are dropped.
pub fn clip_to(aoi: &Aoi, footprints: &[Polygon<f64>]) -> Aoi {
    use ::geo::BooleanOps as _;
    if aoi.is_empty() || footprints.is_empty() {
        return Aoi::default();
    }
    let area = ::geo_types::MultiPolygon::new(aoi.polygons.clone());
    let cover = footprints.iter().fold(::geo_types::MultiPolygon::new(Vec::new()), |acc, f| {
        acc.union(&::geo_types::MultiPolygon::new(vec![f.clone()]))
    });
    let clipped = area.intersection(&cover);
    let polygons: Vec<Polygon<f64>> = clipped.0.into_iter().collect();
    let aoi = Aoi { polygons };
    let keep: Vec<Polygon<f64>> =
        aoi.polygons.iter().zip(aoi.areas_m2()).filter(|(_, a)| *a >= 1.0).map(|(p, _)| p.clone()).collect();
    Aoi { polygons: keep }
}

#[cfg(test)]
mod clip_tests {
    use super::*;

    #[test]
    fn clips_to_the_footprints_or_to_nothing() {
        let aoi = Aoi::from_bbox([0.0, 0.0, 0.02, 0.02]);
        let half = Aoi::from_bbox([0.01, -1.0, 1.0, 1.0]).polygons;
        let clipped = clip_to(&aoi, &half);
        let ratio = clipped.total_area_m2() / aoi.total_area_m2();
        assert!((ratio - 0.5).abs() < 0.01, "{ratio}");
        let far = Aoi::from_bbox([10.0, 10.0, 11.0, 11.0]).polygons;
        assert!(clip_to(&aoi, &far).is_empty());
    }
}
