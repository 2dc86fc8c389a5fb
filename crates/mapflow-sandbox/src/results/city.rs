//! The city under an AOI: a street grid, jittered so blocks measure 80–120 m, turned by
//! the frame's rotation, with streets of 9–14 m and some avenues of 20–28 m. Each block
//! between the streets is of one kind (terraces of residential lots, small houses,
//! commercial, industrial, a park, a construction site), and the building, road and
//! construction models read their features off the same city.

use super::region::{P, Placement, Region};
use super::{MARGIN, Prop, Rng, Spec, Writer};

/// Mean distance between street centrelines, metres.
const PITCH: f64 = 100.0;
/// How far a street may sit off its regular position, metres.
const JITTER: f64 = 10.0;
/// Largest building side, metres.
const MAX_SIDE: f64 = 40.0;
/// Smallest building side, metres.
const MIN_SIDE: f64 = 8.0;

/// What a block holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BlockKind {
    /// Rows of narrow lots with terraced houses and apartment buildings.
    Residential,
    /// Smaller lots of detached houses.
    Housing,
    /// A few large office and retail buildings.
    Commercial,
    /// Very large sheds and halls.
    Industrial,
    /// Nothing built.
    Park,
    /// A construction site.
    Site,
}

/// The space between four streets, in grid coordinates.
struct Block {
    lo: P,
    hi: P,
    kind: BlockKind,
    /// Seeded by the block's place, for everything inside it.
    rng: Rng,
}

/// The street grid of one result.
struct Grid {
    seed: u64,
    offset: [f64; 2],
}

impl Grid {
    fn new(seed: u64) -> Grid {
        let mut rng = Rng::for_place(seed, 0, 0, 0x6A1D);
        Grid { seed, offset: [rng.range(0.0, PITCH), rng.range(0.0, PITCH)] }
    }

    /// Street number `i` across `axis` (0: a street of constant u, 1: of constant v): its
    /// centreline position and width.
    fn street(&self, axis: usize, i: i64) -> (f64, f64) {
        let mut rng = Rng::for_place(self.seed, i, axis as i64, 0x5_7EE7);
        let pos = i as f64 * PITCH + self.offset[axis] + rng.range(-JITTER, JITTER);
        let width = if rng.chance(0.12) { rng.range(20.0, 28.0) } else { rng.range(9.0, 14.0) };
        (pos, width)
    }

    /// The numbers of the streets whose blocks may reach into [lo, hi] along `axis`.
    fn span(&self, axis: usize, lo: f64, hi: f64) -> std::ops::RangeInclusive<i64> {
        let first = ((lo - self.offset[axis]) / PITCH).floor() as i64 - 1;
        let last = ((hi - self.offset[axis]) / PITCH).ceil() as i64 + 1;
        first..=last
    }

    /// The block between streets i and i + 1 (of constant u) and k and k + 1.
    fn block(&self, i: i64, k: i64) -> Block {
        let (u0, wu0) = self.street(0, i);
        let (u1, wu1) = self.street(0, i + 1);
        let (v0, wv0) = self.street(1, k);
        let (v1, wv1) = self.street(1, k + 1);
        let mut rng = Rng::for_place(self.seed, i, k, 0xB10C);
        let roll = rng.unit();
        let kind = if roll < 0.03 {
            BlockKind::Park
        } else if roll < 0.07 {
            BlockKind::Site
        } else if roll < 0.13 {
            BlockKind::Industrial
        } else if roll < 0.23 {
            BlockKind::Commercial
        } else if roll < 0.43 {
            BlockKind::Housing
        } else {
            BlockKind::Residential
        };
        Block { lo: [u0 + wu0 / 2.0, v0 + wv0 / 2.0], hi: [u1 - wu1 / 2.0, v1 - wv1 / 2.0], kind, rng }
    }

    /// Calls `f` with every block that reaches into the region, and where it lies.
    fn each_block(&self, region: &Region, mut f: impl FnMut(Block, Placement)) {
        let (lo, hi) = region.bounds();
        for k in self.span(1, lo[1], hi[1]) {
            for i in self.span(0, lo[0], hi[0]) {
                let block = self.block(i, k);
                // A little slack: buildings are turned slightly and may lean out.
                let placement = region.place(add(block.lo, -2.0), add(block.hi, 2.0));
                if placement != Placement::Outside {
                    f(block, placement);
                }
            }
        }
    }
}

fn add(p: P, d: f64) -> P {
    [p[0] + d, p[1] + d]
}

/// Writes the buildings of one block, testing each against the AOI when the block is
/// not wholly inside it.
struct Builder<'a> {
    spec: &'a Spec,
    region: &'a Region,
    out: &'a mut Writer,
    placement: Placement,
}

impl Builder<'_> {
    /// One building: its outline (ragged without the Simplification block) and class;
    /// its height is drawn from the class.
    fn building(&mut self, ring: Vec<P>, class: i64, rng: &mut Rng) {
        let height = height_of(class, rng);
        let ring = if self.spec.simplification { ring } else { ragged(&ring, rng) };
        if self.placement == Placement::Mixed && !self.region.contains_ring(&ring, MARGIN) {
            return;
        }
        let mut props = Vec::with_capacity(2);
        if self.spec.classification {
            props.push(("class_id", Prop::Int(class)));
        }
        if self.spec.heights {
            props.push(("building_height", Prop::Num(height)));
        }
        self.out.polygon(&ring, &props);
    }
}

/// Building footprints: about 3 500 a km², as in a dense, built-up city.
pub(super) fn buildings(spec: &Spec, region: &Region, out: &mut Writer) {
    let grid = Grid::new(spec.seed);
    grid.each_block(region, |mut block, placement| {
        let mut b = Builder { spec, region, out: &mut *out, placement };
        let rng = &mut block.rng;
        match block.kind {
            BlockKind::Residential => {
                const CLASSES: [(i64, f64); 4] = [(101, 0.8), (102, 0.06), (104, 0.06), (105, 0.08)];
                rows_of_lots(block.lo, block.hi, rng, (9.5, 13.5), (10.5, 15.0), 0.15, |lo, hi, rng| {
                    if rng.chance(0.03) {
                        return;
                    }
                    let class = pick(rng, &CLASSES);
                    if let Some(ring) = lot_building(lo, hi, rng, (0.35, 0.7), (0.8, 1.6), 0.25) {
                        b.building(ring, class, rng);
                    }
                });
            }
            BlockKind::Housing => {
                const CLASSES: [(i64, f64); 3] = [(102, 0.85), (101, 0.05), (105, 0.1)];
                rows_of_lots(block.lo, block.hi, rng, (9.5, 12.0), (10.5, 14.0), 0.03, |lo, hi, rng| {
                    if rng.chance(0.07) {
                        return;
                    }
                    let class = pick(rng, &CLASSES);
                    if let Some(ring) = lot_building(lo, hi, rng, (0.35, 0.7), (0.8, 1.8), 0.3) {
                        b.building(ring, class, rng);
                    }
                });
            }
            BlockKind::Commercial => {
                const CLASSES: [(i64, f64); 3] = [(104, 0.75), (101, 0.15), (105, 0.1)];
                sub_cells(block.lo, block.hi, 24.0, |lo, hi| {
                    if rng.chance(0.1) {
                        return;
                    }
                    let class = pick(rng, &CLASSES);
                    if let Some(ring) = lot_building(lo, hi, rng, (1.0, 3.0), (1.0, 3.0), 0.3) {
                        b.building(ring, class, rng);
                    }
                });
            }
            BlockKind::Industrial => {
                const CLASSES: [(i64, f64); 2] = [(103, 0.85), (105, 0.15)];
                sub_cells(block.lo, block.hi, 36.0, |lo, hi| {
                    if rng.chance(0.15) {
                        return;
                    }
                    let class = pick(rng, &CLASSES);
                    if let Some(ring) = lot_building(lo, hi, rng, (1.5, 4.0), (1.5, 4.0), 0.0) {
                        b.building(ring, class, rng);
                    }
                });
            }
            BlockKind::Park | BlockKind::Site => {}
        }
    });
}

/// Road centrelines along the streets, one LineString per street between two crossings,
/// clipped to the AOI.
pub(super) fn roads(spec: &Spec, region: &Region, out: &mut Writer) {
    let grid = Grid::new(spec.seed);
    let (lo, hi) = region.bounds();
    for axis in 0..2 {
        let other = 1 - axis;
        for i in grid.span(axis, lo[axis], hi[axis]) {
            let (pos, width) = grid.street(axis, i);
            if pos < lo[axis] || pos > hi[axis] {
                continue;
            }
            for k in grid.span(other, lo[other], hi[other]) {
                let (s0, _) = grid.street(other, k);
                let (s1, _) = grid.street(other, k + 1);
                let (mut a, mut b) = ([0.0; 2], [0.0; 2]);
                a[axis] = pos;
                b[axis] = pos;
                a[other] = s0;
                b[other] = s1;
                let length = s1 - s0;
                for (t0, t1) in region.clip_segment(a, b, MARGIN) {
                    if (t1 - t0) * length < 1.0 {
                        continue;
                    }
                    let at = |t: f64| [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t];
                    let props = [("object_type", Prop::Str("roads")), ("width", Prop::Num(width))];
                    out.line(&[at(t0), at(t1)], &props);
                }
            }
        }
    }
}

/// Construction sites: the few blocks that are one, and part of a block here and there;
/// a site that does not fit the AOI is cut into the quarters that do.
pub(super) fn construction(spec: &Spec, region: &Region, out: &mut Writer) {
    let grid = Grid::new(spec.seed);
    grid.each_block(region, |mut block, _| {
        let rng = &mut block.rng;
        let (lo, hi) = (block.lo, block.hi);
        let site = match block.kind {
            BlockKind::Site => Some((add(lo, rng.range(2.0, 6.0)), add(hi, -rng.range(2.0, 6.0)))),
            BlockKind::Residential | BlockKind::Commercial | BlockKind::Housing if rng.chance(0.05) => {
                // One half of the block, along either axis.
                let axis = usize::from(rng.chance(0.5));
                let mid = (lo[axis] + hi[axis]) / 2.0;
                let (mut a, mut b) = (add(lo, 2.0), add(hi, -2.0));
                if rng.chance(0.5) {
                    a[axis] = mid + 1.5;
                } else {
                    b[axis] = mid - 1.5;
                }
                Some((a, b))
            }
            _ => None,
        };
        if let Some((a, b)) = site {
            site_fitting(a, b, 0, rng, region, out);
        }
    });
}

/// A site over [lo, hi] with chamfered corners, or its quarters (twice at most) where
/// the whole does not fit inside the AOI.
fn site_fitting(lo: P, hi: P, depth: u32, rng: &mut Rng, region: &Region, out: &mut Writer) {
    let (w, h) = (hi[0] - lo[0], hi[1] - lo[1]);
    if w < 15.0 || h < 15.0 {
        return;
    }
    let mut ring = Vec::with_capacity(8);
    let corners = [[lo[0], lo[1]], [hi[0], lo[1]], [hi[0], hi[1]], [lo[0], hi[1]]];
    for (k, c) in corners.iter().enumerate() {
        let (prev, next) = (corners[(k + 3) % 4], corners[(k + 1) % 4]);
        if rng.chance(0.5) {
            let cut = rng.range(2.0, 6.0).min(w / 4.0).min(h / 4.0);
            ring.push(toward(*c, prev, cut));
            ring.push(toward(*c, next, cut));
        } else {
            ring.push(*c);
        }
    }
    let ring = turned(&ring, centre(lo, hi), rng.range(-1.0, 1.0));
    if region.contains_ring(&ring, MARGIN) {
        out.polygon(&ring, &[("object_type", Prop::Str("construction"))]);
    } else if depth < 2 {
        let mid = centre(lo, hi);
        let gap = 1.5;
        for (a, b) in [
            (lo, [mid[0] - gap, mid[1] - gap]),
            ([mid[0] + gap, lo[1]], [hi[0], mid[1] - gap]),
            ([lo[0], mid[1] + gap], [mid[0] - gap, hi[1]]),
            ([mid[0] + gap, mid[1] + gap], hi),
        ] {
            site_fitting(a, b, depth + 1, rng, region, out);
        }
    }
}

/// Splits [lo, hi] into rows across one axis (of a depth drawn from `depth`) and each row
/// into lots along the other (of a width drawn from `width`, or with probability `long`
/// two to three times that, for terraces and apartment buildings), calling `f` per lot.
fn rows_of_lots(
    lo: P,
    hi: P,
    rng: &mut Rng,
    width: (f64, f64),
    depth: (f64, f64),
    long: f64,
    mut f: impl FnMut(P, P, &mut Rng),
) {
    let along = usize::from(rng.chance(0.5));
    let across = 1 - along;
    let span = hi[across] - lo[across];
    if span < MIN_SIDE || hi[along] - lo[along] < MIN_SIDE {
        return;
    }
    let rows = (span / rng.range(depth.0, depth.1)).round().max(1.0) as usize;
    let row_depth = span / rows as f64;
    for r in 0..rows {
        let b0 = lo[across] + r as f64 * row_depth;
        let mut a = lo[along];
        while hi[along] - a >= width.0 {
            let mut w = rng.range(width.0, width.1);
            if rng.chance(long) {
                w = (w * rng.range(2.0, 3.2)).min(MAX_SIDE - 2.0);
            }
            if hi[along] - a - w < width.0 {
                // The last lot takes the rest, or half of it when that is too wide.
                w = hi[along] - a;
                if w > 2.0 * width.1 {
                    w /= 2.0;
                }
            }
            let (mut lot_lo, mut lot_hi) = ([0.0; 2], [0.0; 2]);
            lot_lo[along] = a;
            lot_hi[along] = a + w;
            lot_lo[across] = b0;
            lot_hi[across] = b0 + row_depth;
            f(lot_lo, lot_hi, rng);
            a += w;
        }
    }
}

/// Splits [lo, hi] into a grid of cells of about `size` metres, calling `f` per cell.
fn sub_cells(lo: P, hi: P, size: f64, mut f: impl FnMut(P, P)) {
    let nu = ((hi[0] - lo[0]) / size).round().max(1.0) as usize;
    let nv = ((hi[1] - lo[1]) / size).round().max(1.0) as usize;
    let (cu, cv) = ((hi[0] - lo[0]) / nu as f64, (hi[1] - lo[1]) / nv as f64);
    for j in 0..nv {
        for i in 0..nu {
            let a = [lo[0] + i as f64 * cu, lo[1] + j as f64 * cv];
            f(a, [a[0] + cu, a[1] + cv]);
        }
    }
}

/// A building in the lot [lo, hi]: set back by `narrow` on the lot's narrow sides and by
/// `wide` front and back, 8–40 m a side, an L-shape with probability `l_shape`, turned by
/// up to 1°. `None` when the lot is too small.
fn lot_building(lo: P, hi: P, rng: &mut Rng, narrow: (f64, f64), wide: (f64, f64), l_shape: f64) -> Option<Vec<P>> {
    let (w, h) = (hi[0] - lo[0], hi[1] - lo[1]);
    let (inset_u, inset_v) = if w <= h { (narrow, wide) } else { (wide, narrow) };
    let (u0, u1) = (rng.range(inset_u.0, inset_u.1), rng.range(inset_u.0, inset_u.1));
    let (v0, v1) = (rng.range(inset_v.0, inset_v.1), rng.range(inset_v.0, inset_v.1));
    let bw = (w - u0 - u1).min(MAX_SIDE);
    let bh = (h - v0 - v1).min(MAX_SIDE);
    if bw < MIN_SIDE || bh < MIN_SIDE {
        return None;
    }
    // Centred in the space left by the set-backs.
    let c = [lo[0] + u0 + (w - u0 - u1) / 2.0, lo[1] + v0 + (h - v0 - v1) / 2.0];
    let (hw, hh) = (bw / 2.0, bh / 2.0);
    let mut ring: Vec<P> = if bw >= 12.0 && bh >= 12.0 && rng.chance(l_shape) {
        // An L: the rectangle without one corner, counter-clockwise.
        let (cw, ch) = (bw * rng.range(0.3, 0.5), bh * rng.range(0.3, 0.5));
        vec![[-hw, -hh], [hw, -hh], [hw, hh - ch], [hw - cw, hh - ch], [hw - cw, hh], [-hw, hh]]
    } else {
        vec![[-hw, -hh], [hw, -hh], [hw, hh], [-hw, hh]]
    };
    // The cut corner anywhere: mirror (and restore the winding) at random.
    if rng.chance(0.5) {
        ring.iter_mut().for_each(|p| p[0] = -p[0]);
        ring.reverse();
    }
    if rng.chance(0.5) {
        ring.iter_mut().for_each(|p| p[1] = -p[1]);
        ring.reverse();
    }
    let ring: Vec<P> = ring.into_iter().map(|p| [c[0] + p[0], c[1] + p[1]]).collect();
    Some(turned(&ring, c, rng.range(-1.0, 1.0)))
}

/// `ring` turned by `degrees` about `c`.
fn turned(ring: &[P], c: P, degrees: f64) -> Vec<P> {
    let (sin, cos) = degrees.to_radians().sin_cos();
    ring.iter()
        .map(|p| {
            let (x, y) = (p[0] - c[0], p[1] - c[1]);
            [c[0] + x * cos - y * sin, c[1] + x * sin + y * cos]
        })
        .collect()
}

fn centre(lo: P, hi: P) -> P {
    [(lo[0] + hi[0]) / 2.0, (lo[1] + hi[1]) / 2.0]
}

/// The point `d` metres from `a` toward `b`.
fn toward(a: P, b: P, d: f64) -> P {
    let len = ((b[0] - a[0]).powi(2) + (b[1] - a[1]).powi(2)).sqrt();
    if len == 0.0 {
        return a;
    }
    [a[0] + (b[0] - a[0]) * d / len, a[1] + (b[1] - a[1]) * d / len]
}

/// An outline as an unsimplified segmentation traces it: corners off by up to 0.2 m and
/// a kink in the middle of every side.
fn ragged(ring: &[P], rng: &mut Rng) -> Vec<P> {
    let n = ring.len();
    let mut out = Vec::with_capacity(2 * n);
    for k in 0..n {
        let (a, b) = (ring[k], ring[(k + 1) % n]);
        out.push([a[0] + rng.range(-0.2, 0.2), a[1] + rng.range(-0.2, 0.2)]);
        let len = ((b[0] - a[0]).powi(2) + (b[1] - a[1]).powi(2)).sqrt().max(1e-9);
        let normal = [-(b[1] - a[1]) / len, (b[0] - a[0]) / len];
        let off = rng.range(-0.3, 0.3);
        out.push([(a[0] + b[0]) / 2.0 + normal[0] * off, (a[1] + b[1]) / 2.0 + normal[1] * off]);
    }
    out
}

/// A class drawn by weight.
fn pick(rng: &mut Rng, weights: &[(i64, f64)]) -> i64 {
    let total: f64 = weights.iter().map(|w| w.1).sum();
    let mut roll = rng.range(0.0, total);
    for &(class, weight) in weights {
        if roll < weight {
            return class;
        }
        roll -= weight;
    }
    weights.last().map_or(105, |w| w.0)
}

/// A building's height in metres, by class: apartment floors of 3 m, low houses, tall
/// sheds, offices up to about 46 m.
fn height_of(class: i64, rng: &mut Rng) -> f64 {
    match class {
        101 => rng.int_by_remainder(2, 9) as f64 * 3.0 + rng.range(0.5, 2.5),
        102 => rng.range(3.0, 9.0),
        103 => rng.range(5.0, 18.0),
        104 => {
            let f = rng.unit();
            6.0 + 40.0 * f * f
        }
        _ => rng.range(2.5, 10.0),
    }
}
