//! A detailed AOI of as many vertices as asked, for the geometry-limit probes. Shared by
//! `tests/sandbox_hardening.rs` and `benches/hardening.rs`.

use serde_json::{Value, json};

/// A circle of `n` vertices, about 1 km² in Moscow, coordinates to 7 decimals (so that
/// 50,000 vertices stay well under the 2 MB body limit).
pub fn circle(n: usize) -> Value {
    let (lon, lat, r) = (37.62f64, 55.75f64, 0.0051f64);
    let round = |v: f64| (v * 1e7).round() / 1e7;
    let mut ring: Vec<Value> = (0..n)
        .map(|i| {
            let a = i as f64 / n as f64 * std::f64::consts::TAU;
            json!([round(lon + r * a.cos() / lat.to_radians().cos()), round(lat + r * a.sin())])
        })
        .collect();
    ring.push(ring[0].clone());
    json!({"type": "Polygon", "coordinates": [ring]})
}
