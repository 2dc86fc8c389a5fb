//! What the benches share: a deterministic generator of building results.
#![allow(clippy::unwrap_used, dead_code)]

use std::fmt::Write as _;

const CITY_METERS: f64 = 10_000.0;

/// A small deterministic generator, so every run measures the same file.
pub struct Lcg(u64);

impl Lcg {
    pub fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A result of `features` buildings on a 10 km city grid around `center` (cells of ~32 m
/// for 100,000), each a rotated quad or L-shape with the attributes Mapflow's building
/// model writes.
pub fn buildings(features: usize, center: (f64, f64)) -> Vec<u8> {
    let mut rng = Lcg(7);
    let per_side = (features as f64).sqrt().ceil() as usize;
    let cell = CITY_METERS / per_side as f64;
    let meters_per_lat = 111_320.0;
    let meters_per_lon = meters_per_lat * center.1.to_radians().cos();
    let mut out = String::with_capacity(features * 520);
    out.push_str(r#"{"type":"FeatureCollection","name":"buildings","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:OGC:1.3:CRS84"}},"features":["#);
    for n in 0..features {
        let (row, col) = (n / per_side, n % per_side);
        let cx = (col as f64 + 0.5) * cell - CITY_METERS / 2.0;
        let cy = (row as f64 + 0.5) * cell - CITY_METERS / 2.0;
        let (w, h) = (10.0 + rng.next() * 20.0, 10.0 + rng.next() * 20.0);
        let (w, h) = (w.min(cell - 2.0), h.min(cell - 2.0));
        let angle = (rng.next() - 0.5) * 0.6;
        let shape: Vec<(f64, f64)> = if rng.next() < 0.3 {
            let (a, b) = (w * 0.5, h * 0.5);
            vec![(0.0, 0.0), (w, 0.0), (w, b), (a, b), (a, h), (0.0, h)]
        } else {
            vec![(0.0, 0.0), (w, 0.0), (w, h), (0.0, h)]
        };
        let (sin, cos) = angle.sin_cos();
        if n > 0 {
            out.push(',');
        }
        let class_id = 101 + (rng.next() * 5.0) as u32;
        let height = 3.0 + rng.next() * 40.0;
        write!(
            out,
            r#"{{"type":"Feature","properties":{{"id":{n},"class_id":{class_id},"building_height":{height:.1},"area":{:.2},"score":{:.3}}},"geometry":{{"type":"Polygon","coordinates":[["#,
            w * h,
            rng.next()
        )
        .unwrap();
        for (i, &(x, y)) in shape.iter().chain(shape.first()).enumerate() {
            let (x, y) = (x - w / 2.0, y - h / 2.0);
            let (rx, ry) = (x * cos - y * sin + cx, x * sin + y * cos + cy);
            let lon = center.0 + rx / meters_per_lon;
            let lat = center.1 + ry / meters_per_lat;
            if i > 0 {
                out.push(',');
            }
            write!(out, "[{lon:.8},{lat:.8}]").unwrap();
        }
        out.push_str("]]}}");
    }
    out.push_str("]}");
    out.into_bytes()
}
