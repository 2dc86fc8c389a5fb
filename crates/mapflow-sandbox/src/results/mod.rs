//! The results of the sandbox's models: deterministic, realistic GeoJSON.
//!
//! Nothing is stored: a result is regenerated from the processing's AOI, model, blocks
//! and id whenever it is asked for, identical on every call. The id seeds everything
//! (the city's street grid and its rotation, every building, tree and road), and every
//! random choice is drawn from a generator seeded by the seed and the place it is for
//! (a block, a lot, a forest cell), so one AOI of a processing gets the same features
//! whether it is downloaded alone (`?aoiId=`) or with the others.
//!
//! Geometry is made in a local metric frame (metres east and north of the AOI's centre,
//! turned by the city's rotation) and written as lon/lat with 7 decimals (about 1 cm).
//! The map between the two is affine, so "inside the AOI" means the same in both;
//! every feature is tested against the AOI ([`region`]) and kept only when it lies wholly
//! inside, a few centimetres from the boundary so rounding cannot push it out.
//!
//! - [`city`]: buildings (the two building models), roads and construction sites on a
//!   jittered street grid.
//! - [`nature`]: forest patches and tree crowns (the forest model).

mod city;
mod nature;
mod region;

use region::P;

use super::rng::{Rng, mix};

/// How far inside the AOI every vertex stays, metres: more than the rounding of 7
/// decimals (≤ 0.6 cm).
const MARGIN: f64 = 0.05;

/// Feature ids of the AOI number `n` (from 0) start at `n * ID_BLOCK + 1`, so a
/// feature keeps its id whether its AOI is downloaded alone or with the others.
const ID_BLOCK: u64 = 10_000_000;

/// What a model detects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Buildings,
    Forest,
    Roads,
    Construction,
}

impl Kind {
    /// The kind of result of the seeded model with this id (unknown ids: buildings).
    pub fn of_model(model_id: &str) -> Kind {
        use crate::seed;
        match model_id {
            seed::FOREST_ID => Kind::Forest,
            seed::ROADS_ID => Kind::Roads,
            seed::CONSTRUCTION_ID => Kind::Construction,
            _ => Kind::Buildings,
        }
    }
}

/// Everything a result depends on.
#[derive(Debug, Clone)]
pub(crate) struct Spec {
    /// From the processing's id (see [`seed_of`]).
    pub seed: u64,
    pub kind: Kind,
    /// The Classification block: buildings get a `class_id`.
    pub classification: bool,
    /// The Heights block: buildings get `building_height`, forest `class_id` height bands
    /// and `max_height`.
    pub heights: bool,
    /// The Simplification block: straight, regular outlines; without it they are a
    /// little ragged, as a raw segmentation mask traced into polygons is.
    pub simplification: bool,
    /// Each AOI polygon's rings in lon/lat, exterior first.
    pub aois: Vec<Vec<Vec<[f64; 2]>>>,
}

/// A 64-bit seed from a processing's id (FNV-1a, then mixed).
pub(crate) fn seed_of(id: &str) -> u64 {
    mix(id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)))
}

/// The GeoJSON FeatureCollection of every AOI, or of the AOI number `only`.
pub(crate) fn generate(spec: &Spec, only: Option<usize>) -> Vec<u8> {
    let Some(frame) = Frame::new(spec) else {
        return Writer::empty();
    };
    let mut out = Writer::new(frame);
    for (index, rings) in spec.aois.iter().enumerate() {
        if only.is_some_and(|only| only != index) {
            continue;
        }
        let local: Vec<Vec<P>> =
            rings.iter().map(|ring| ring.iter().map(|&c| out.frame.to_grid(c)).collect()).collect();
        let Some(region) = region::Region::new(&local) else { continue };
        out.next_id = index as u64 * ID_BLOCK + 1;
        match spec.kind {
            Kind::Buildings => city::buildings(spec, &region, &mut out),
            Kind::Roads => city::roads(spec, &region, &mut out),
            Kind::Construction => city::construction(spec, &region, &mut out),
            Kind::Forest => nature::forest(spec, &region, &mut out),
        }
    }
    out.finish()
}

/// The local metric frame of a result: metres from the centre of all AOIs, east and
/// north, turned by the city's rotation into the grid's axes u and v.
struct Frame {
    lon0: f64,
    lat0: f64,
    /// Metres per degree of longitude and of latitude at the centre.
    kx: f64,
    ky: f64,
    cos: f64,
    sin: f64,
}

impl Frame {
    fn new(spec: &Spec) -> Option<Frame> {
        let coords = spec.aois.iter().flatten().flatten().filter(|c| c[0].is_finite() && c[1].is_finite());
        let mut bbox: Option<[f64; 4]> = None;
        for c in coords {
            bbox = Some(match bbox {
                None => [c[0], c[1], c[0], c[1]],
                Some([w, s, e, n]) => [w.min(c[0]), s.min(c[1]), e.max(c[0]), n.max(c[1])],
            });
        }
        let [w, s, e, n] = bbox?;
        let (lon0, lat0) = ((w + e) / 2.0, (s + n) / 2.0);
        let phi = lat0.to_radians();
        // The lengths of a degree on the WGS 84 ellipsoid.
        let kx = (111_412.84 * phi.cos() - 93.5 * (3.0 * phi).cos()).max(1.0);
        let ky = 111_132.92 - 559.82 * (2.0 * phi).cos() + 1.175 * (4.0 * phi).cos();
        let angle = Rng::for_place(spec.seed, 0, 0, 0xA9).range(0.0, 90.0).to_radians();
        Some(Frame { lon0, lat0, kx, ky, cos: angle.cos(), sin: angle.sin() })
    }

    fn to_grid(&self, [lon, lat]: [f64; 2]) -> P {
        let (x, y) = ((lon - self.lon0) * self.kx, (lat - self.lat0) * self.ky);
        [x * self.cos + y * self.sin, -x * self.sin + y * self.cos]
    }

    fn to_lonlat(&self, [u, v]: P) -> [f64; 2] {
        let (x, y) = (u * self.cos - v * self.sin, u * self.sin + v * self.cos);
        [self.lon0 + x / self.kx, self.lat0 + y / self.ky]
    }
}

/// A property value of a feature.
enum Prop {
    Int(i64),
    /// Written with one decimal.
    Num(f64),
    /// A plain ASCII word (no escaping is done).
    Str(&'static str),
}

/// Writes a FeatureCollection straight into bytes: much faster than building
/// `serde_json` values for tens of thousands of features.
struct Writer {
    out: Vec<u8>,
    frame: Frame,
    next_id: u64,
    count: usize,
}

const HEAD: &[u8] = br#"{"type":"FeatureCollection","features":["#;
const TAIL: &[u8] = b"]}";

impl Writer {
    fn new(frame: Frame) -> Writer {
        let mut out = Vec::with_capacity(1 << 20);
        out.extend_from_slice(HEAD);
        Writer { out, frame, next_id: 1, count: 0 }
    }

    fn empty() -> Vec<u8> {
        [HEAD, TAIL].concat()
    }

    fn finish(mut self) -> Vec<u8> {
        self.out.extend_from_slice(TAIL);
        self.out
    }

    /// Starts a feature: its id and properties, up to the geometry's coordinates.
    fn begin(&mut self, props: &[(&str, Prop)], geometry_type: &str) {
        if self.count > 0 {
            self.out.push(b',');
        }
        self.count += 1;
        self.out.extend_from_slice(br#"{"type":"Feature","id":"#);
        push_uint(&mut self.out, self.next_id);
        self.next_id += 1;
        self.out.extend_from_slice(br#","properties":{"#);
        for (k, (name, value)) in props.iter().enumerate() {
            if k > 0 {
                self.out.push(b',');
            }
            self.out.push(b'"');
            self.out.extend_from_slice(name.as_bytes());
            self.out.extend_from_slice(b"\":");
            match value {
                Prop::Int(n) => {
                    if *n < 0 {
                        self.out.push(b'-');
                    }
                    push_uint(&mut self.out, n.unsigned_abs());
                }
                Prop::Num(x) => push_fixed(&mut self.out, *x, 1),
                Prop::Str(s) => {
                    self.out.push(b'"');
                    self.out.extend_from_slice(s.as_bytes());
                    self.out.push(b'"');
                }
            }
        }
        self.out.extend_from_slice(br#"},"geometry":{"type":""#);
        self.out.extend_from_slice(geometry_type.as_bytes());
        self.out.extend_from_slice(br#"","coordinates":"#);
    }

    fn point(&mut self, p: P) {
        let [lon, lat] = self.frame.to_lonlat(p);
        self.out.push(b'[');
        push_fixed(&mut self.out, lon, 7);
        self.out.push(b',');
        push_fixed(&mut self.out, lat, 7);
        self.out.push(b']');
    }

    /// A Polygon feature with one ring (given open; it is closed here).
    fn polygon(&mut self, ring: &[P], props: &[(&str, Prop)]) {
        self.begin(props, "Polygon");
        self.out.extend_from_slice(b"[[");
        for (k, &p) in ring.iter().chain(ring.first()).enumerate() {
            if k > 0 {
                self.out.push(b',');
            }
            self.point(p);
        }
        self.out.extend_from_slice(b"]]}}");
    }

    /// A LineString feature.
    fn line(&mut self, points: &[P], props: &[(&str, Prop)]) {
        self.begin(props, "LineString");
        self.out.push(b'[');
        for (k, &p) in points.iter().enumerate() {
            if k > 0 {
                self.out.push(b',');
            }
            self.point(p);
        }
        self.out.extend_from_slice(b"]}}");
    }
}

fn push_uint(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut k = digits.len();
    loop {
        k -= 1;
        digits[k] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[k..]);
}

/// `x` with exactly `decimals` decimals (at most 9), rounded half away from zero.
fn push_fixed(out: &mut Vec<u8>, x: f64, decimals: u32) {
    let scale = 10u64.pow(decimals);
    let scaled = (x * scale as f64).round();
    if !scaled.is_finite() {
        out.push(b'0');
        return;
    }
    if scaled < 0.0 {
        out.push(b'-');
    }
    let n = scaled.abs() as u64;
    push_uint(out, n / scale);
    if decimals > 0 {
        out.push(b'.');
        let frac = n % scale;
        let mut digits = [b'0'; 9];
        let mut rest = frac;
        for k in (0..decimals as usize).rev() {
            digits[k] = b'0' + (rest % 10) as u8;
            rest /= 10;
        }
        out.extend_from_slice(&digits[..decimals as usize]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed(x: f64, d: u32) -> String {
        let mut out = Vec::new();
        push_fixed(&mut out, x, d);
        String::from_utf8(out).expect("ascii")
    }

    #[test]
    fn numbers_are_written_exactly() {
        assert_eq!(fixed(37.6, 7), "37.6000000");
        assert_eq!(fixed(-0.00000004, 7), "0.0000000");
        assert_eq!(fixed(-122.41941555, 7), "-122.4194156");
        assert_eq!(fixed(12.34, 1), "12.3");
        assert_eq!(fixed(0.0, 1), "0.0");
    }

    /// A square AOI of `side_m` metres around Moscow, in lon/lat.
    fn square(side_m: f64) -> Vec<Vec<[f64; 2]>> {
        let (lon, lat) = (37.62f64, 55.75f64);
        let dlat = side_m / 2.0 / 111_400.0;
        let dlon = side_m / 2.0 / (111_400.0 * lat.to_radians().cos());
        vec![vec![
            [lon - dlon, lat - dlat],
            [lon + dlon, lat - dlat],
            [lon + dlon, lat + dlat],
            [lon - dlon, lat + dlat],
            [lon - dlon, lat - dlat],
        ]]
    }

    fn spec(kind: Kind, aoi: Vec<Vec<[f64; 2]>>) -> Spec {
        Spec {
            seed: seed_of("0b7e5c1a-7f1e-4c55-9d0b-2a1c3e4f5a6b"),
            kind,
            classification: true,
            heights: true,
            simplification: true,
            aois: vec![aoi],
        }
    }

    /// Every vertex of every feature, as lon/lat.
    fn vertices(fc: &serde_json::Value) -> Vec<[f64; 2]> {
        let mut out = Vec::new();
        fn walk(v: &serde_json::Value, out: &mut Vec<[f64; 2]>) {
            match v.as_array() {
                Some(a) if a.len() == 2 && a[0].is_f64() => {
                    out.push([a[0].as_f64().unwrap_or_default(), a[1].as_f64().unwrap_or_default()]);
                }
                Some(a) => a.iter().for_each(|x| walk(x, out)),
                None => {}
            }
        }
        for f in fc["features"].as_array().into_iter().flatten() {
            walk(&f["geometry"]["coordinates"], &mut out);
        }
        out
    }

    #[test]
    fn every_kind_is_deterministic_and_inside() {
        let aoi = square(1000.0);
        let ring: Vec<P> = aoi[0][..4].to_vec();
        for kind in [Kind::Buildings, Kind::Forest, Kind::Roads, Kind::Construction] {
            let s = spec(kind, aoi.clone());
            let bytes = generate(&s, None);
            assert_eq!(bytes, generate(&s, None), "{kind:?} differs between calls");
            let fc: serde_json::Value = serde_json::from_slice(&bytes).expect("valid JSON");
            let n = fc["features"].as_array().map_or(0, Vec::len);
            assert!(n > 0, "{kind:?} found nothing");
            for v in vertices(&fc) {
                assert!(mapflow_geo::point_in_ring(v, &ring), "{kind:?}: {v:?} is outside");
            }
        }
    }

    #[test]
    fn blocks_shape_the_properties() {
        let mut s = spec(Kind::Buildings, square(400.0));
        let with: serde_json::Value = serde_json::from_slice(&generate(&s, None)).expect("json");
        let first = &with["features"][0];
        assert!(first["properties"]["class_id"].is_i64(), "{first}");
        assert!(first["properties"]["building_height"].is_f64(), "{first}");
        s.classification = false;
        s.heights = false;
        s.simplification = false;
        let without: serde_json::Value = serde_json::from_slice(&generate(&s, None)).expect("json");
        let first = &without["features"][0];
        assert_eq!(first["properties"], serde_json::json!({}), "{first}");
        // Unsimplified outlines have a kink in every side.
        assert!(vertices(&without).len() > vertices(&with).len() * 3 / 2);
    }

    /// Measures densities and generation times: run with
    /// `cargo test --release --lib sandbox::results::tests::measure -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn measure() {
        for kind in [Kind::Buildings, Kind::Forest, Kind::Roads, Kind::Construction] {
            for side in [1000.0, 3162.3] {
                let s = spec(kind, square(side));
                let started = std::time::Instant::now();
                let bytes = generate(&s, None);
                let took = started.elapsed();
                let fc: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
                let n = fc["features"].as_array().map_or(0, Vec::len);
                let km2 = side * side / 1e6;
                println!(
                    "{kind:?} {km2:.1} km²: {n} features ({:.0}/km²), {:.1} MB in {took:?}",
                    n as f64 / km2,
                    bytes.len() as f64 / 1e6
                );
            }
        }
    }

    #[test]
    fn the_frame_round_trips() {
        let spec = Spec {
            seed: 42,
            kind: Kind::Buildings,
            classification: true,
            heights: true,
            simplification: true,
            aois: vec![vec![vec![[37.6, 55.7], [37.7, 55.7], [37.7, 55.8], [37.6, 55.7]]]],
        };
        let frame = Frame::new(&spec).expect("frame");
        let p = [37.61234567, 55.76543210];
        let back = frame.to_lonlat(frame.to_grid(p));
        assert!((back[0] - p[0]).abs() < 1e-12 && (back[1] - p[1]).abs() < 1e-12);
        // A degree of latitude is about 111.3 km there.
        let g0 = frame.to_grid([37.65, 55.75]);
        let g1 = frame.to_grid([37.65, 55.76]);
        let d = ((g1[0] - g0[0]).powi(2) + (g1[1] - g0[1]).powi(2)).sqrt();
        assert!((d - 1113.0).abs() < 5.0, "{d}");
    }
}
