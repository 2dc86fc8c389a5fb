//! Forest: patches of closed canopy where a smooth density field is high, single tree
//! crowns where it is middling, and a few shrubs elsewhere. The area is cut into 60 m
//! cells; each cell holds one patch or a handful of crowns kept clear of its edges, so
//! nothing overlaps.

use std::f64::consts::TAU;

use super::region::{P, Placement, Region};
use super::{MARGIN, Prop, Rng, Spec, Writer};

/// Side of a forest cell, metres.
const CELL: f64 = 60.0;
/// Crowns keep this far from their cell's edges (more than the largest crown radius).
const CELL_MARGIN: f64 = 6.0;

/// Forest patches (`object_type: "forest"`) and tree crowns (`"crown"`), with height
/// bands in `class_id` and `max_height` when the Heights block is on.
pub(super) fn forest(spec: &Spec, region: &Region, out: &mut Writer) {
    let mut origin = Rng::for_place(spec.seed, 0, 0, 0xF0_2E57);
    let offset = [origin.range(0.0, CELL), origin.range(0.0, CELL)];
    let (lo, hi) = region.bounds();
    let first = |axis: usize| ((lo[axis] - offset[axis]) / CELL).floor() as i64;
    let last = |axis: usize| ((hi[axis] - offset[axis]) / CELL).floor() as i64;
    for j in first(1)..=last(1) {
        for i in first(0)..=last(0) {
            let cell_lo = [offset[0] + i as f64 * CELL, offset[1] + j as f64 * CELL];
            let cell_hi = [cell_lo[0] + CELL, cell_lo[1] + CELL];
            let placement = region.place(cell_lo, cell_hi);
            if placement == Placement::Outside {
                continue;
            }
            let mut rng = Rng::for_place(spec.seed, i, j, 0xF02E);
            let centre = [cell_lo[0] + CELL / 2.0, cell_lo[1] + CELL / 2.0];
            let mut emit = |ring: Vec<P>, object_type: &'static str, height: f64| {
                if placement == Placement::Mixed && !region.contains_ring(&ring, MARGIN) {
                    return;
                }
                let mut props = vec![("object_type", Prop::Str(object_type))];
                if spec.heights {
                    props.push(("class_id", Prop::Str(band(height))));
                    props.push(("max_height", Prop::Num(height)));
                }
                out.polygon(&ring, &props);
            };
            let density = density(spec.seed, centre);
            if density > 0.58 {
                let c = [centre[0] + rng.range(-2.0, 2.0), centre[1] + rng.range(-2.0, 2.0)];
                // At most 21 × 1.3 + 2 = 29.3 m from the cell's centre: inside the cell.
                let ring = blob(c, rng.range(14.0, 21.0), 24, 0.3, &mut rng);
                let height = rng.range(8.0, 30.0);
                emit(ring, "forest", height);
            } else {
                let (count, radius, height) = if density > 0.42 {
                    (rng.int_by_remainder(3, 9), (2.0, 5.5), (2.5, 22.0))
                } else {
                    (rng.int_by_remainder(0, 2), (1.5, 3.5), (1.0, 7.0))
                };
                let mut placed: Vec<(P, f64)> = Vec::new();
                for _ in 0..count * 3 {
                    if placed.len() as i64 >= count {
                        break;
                    }
                    let r = rng.range(radius.0, radius.1);
                    let c = [
                        rng.range(cell_lo[0] + CELL_MARGIN, cell_hi[0] - CELL_MARGIN),
                        rng.range(cell_lo[1] + CELL_MARGIN, cell_hi[1] - CELL_MARGIN),
                    ];
                    let clear = placed.iter().all(|(q, rq)| (c[0] - q[0]).hypot(c[1] - q[1]) > r + rq + 0.5);
                    if clear {
                        placed.push((c, r));
                        let ring = blob(c, r / 1.15, 10, 0.15, &mut rng);
                        let h = rng.range(height.0, height.1);
                        emit(ring, "crown", h);
                    }
                }
            }
        }
    }
}

/// The height band of the forest model's `class_id`.
fn band(height: f64) -> &'static str {
    if height < 4.0 {
        "00m-04m"
    } else if height < 10.0 {
        "04m-10m"
    } else {
        "10m-99m"
    }
}

/// An organic outline of `n` vertices around `c`: the radius wobbles by up to `wobble`
/// (a share, below 1) with a few smooth harmonics, so the shape stays star-shaped (and so
/// a simple polygon), counter-clockwise, and within (1 + `wobble`) × `radius`.
fn blob(c: P, radius: f64, n: usize, wobble: f64, rng: &mut Rng) -> Vec<P> {
    let harmonics: Vec<(f64, f64, f64)> =
        [2.0, 3.0, 5.0].iter().map(|&k| (k, rng.range(0.0, wobble / 3.0), rng.range(0.0, TAU))).collect();
    let turn = rng.range(0.0, TAU);
    (0..n)
        .map(|k| {
            let t = turn + TAU * k as f64 / n as f64;
            let wobble: f64 = harmonics.iter().map(|&(f, a, phase)| a * (f * t + phase).sin()).sum();
            let r = radius * (1.0 + wobble);
            [c[0] + r * t.cos(), c[1] + r * t.sin()]
        })
        .collect()
}

/// The forest density at `p`, 0..1: two octaves of smooth value noise (420 m and 140 m).
fn density(seed: u64, p: P) -> f64 {
    0.65 * value_noise(seed, p, 420.0, 1) + 0.35 * value_noise(seed, p, 140.0, 2)
}

/// Value noise: random values on a lattice of `wavelength` metres, smoothly interpolated.
fn value_noise(seed: u64, p: P, wavelength: f64, salt: u64) -> f64 {
    let (x, y) = (p[0] / wavelength, p[1] / wavelength);
    let (ix, iy) = (x.floor(), y.floor());
    let smooth = |t: f64| t * t * (3.0 - 2.0 * t);
    let (fx, fy) = (smooth(x - ix), smooth(y - iy));
    let (ix, iy) = (ix as i64, iy as i64);
    let v = |dx: i64, dy: i64| Rng::for_place(seed, ix + dx, iy + dy, 0x4_01CE + salt).unit();
    let bottom = v(0, 0) + (v(1, 0) - v(0, 0)) * fx;
    let top = v(0, 1) + (v(1, 1) - v(0, 1)) * fx;
    bottom + (top - bottom) * fy
}
