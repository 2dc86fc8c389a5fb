//! One AOI polygon prepared for many containment queries.
//!
//! A result of 10 km² asks "is this inside?" a few hundred thousand times, and an imported
//! AOI may have thousands of vertices, so the polygon's edges are bucketed into a uniform
//! grid of cells, and each cell knows whether its centre is inside. A point is then
//! decided by the crossings of the short segment from its cell's centre to it with the
//! few edges in that cell, and a cell with no edge at all answers for everything in it.
//! Everything works in the metric grid frame of [`super::Frame`].

use mapflow_geo::point_in_ring;

/// A point in metres of the grid frame.
pub(super) type P = [f64; 2];

/// How a box lies relative to the region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Placement {
    /// Wholly inside and away from any edge: no further test needed.
    Inside,
    /// Wholly outside.
    Outside,
    /// Near or across the boundary: test each shape.
    Mixed,
}

/// Cells per side at most, and their smallest size in metres.
const MAX_CELLS: usize = 256;
const MIN_CELL: f64 = 20.0;

/// An AOI polygon (exterior and holes) with its edges bucketed by cell.
pub(super) struct Region {
    edges: Vec<(P, P)>,
    min: P,
    max: P,
    cell: f64,
    nx: usize,
    ny: usize,
    /// Per cell (row-major): its reference point (the centre, unless that lies on an
    /// edge) and whether that point is inside.
    refs: Vec<P>,
    inside: Vec<bool>,
    /// Per cell: its edges are `cell_edges[starts[c]..starts[c + 1]]`.
    starts: Vec<u32>,
    cell_edges: Vec<u32>,
}

impl Region {
    /// The region of a polygon given as rings (exterior first, closed or not), or `None`
    /// when it has no area to speak of.
    pub fn new(rings: &[Vec<P>]) -> Option<Region> {
        let mut edges = Vec::new();
        for ring in rings {
            let n = ring.len();
            for k in 0..n {
                let (a, b) = (ring[k], ring[(k + 1) % n]);
                if a != b {
                    edges.push((a, b));
                }
            }
        }
        let mut min = [f64::INFINITY; 2];
        let mut max = [f64::NEG_INFINITY; 2];
        for &(a, _) in &edges {
            for axis in 0..2 {
                min[axis] = min[axis].min(a[axis]);
                max[axis] = max[axis].max(a[axis]);
            }
        }
        let (w, h) = (max[0] - min[0], max[1] - min[1]);
        if edges.len() < 3 || !(w > 0.0 && h > 0.0 && w.is_finite() && h.is_finite()) {
            return None;
        }
        let cell = (w.max(h) / MAX_CELLS as f64).max(MIN_CELL);
        let nx = ((w / cell).ceil() as usize).clamp(1, MAX_CELLS);
        let ny = ((h / cell).ceil() as usize).clamp(1, MAX_CELLS);
        let mut region = Region {
            edges,
            min,
            max,
            cell,
            nx,
            ny,
            refs: Vec::new(),
            inside: vec![false; nx * ny],
            starts: Vec::new(),
            cell_edges: Vec::new(),
        };
        region.bucket_edges();
        region.mark_centres();
        region.move_refs_off_edges();
        Some(region)
    }

    /// The bounding box `[min, max]` of the region.
    pub fn bounds(&self) -> (P, P) {
        (self.min, self.max)
    }

    /// Fills `starts`/`cell_edges` (counting first, then placing) with every edge that
    /// touches each cell.
    fn bucket_edges(&mut self) {
        let mut counts = vec![0u32; self.nx * self.ny];
        for &(a, b) in &self.edges {
            self.for_cells_of_edge(a, b, |c| counts[c] += 1);
        }
        let mut starts = Vec::with_capacity(counts.len() + 1);
        let mut total = 0u32;
        starts.push(0);
        for &n in &counts {
            total += n;
            starts.push(total);
        }
        let mut fill = starts.clone();
        let mut cell_edges = vec![0u32; total as usize];
        for (e, &(a, b)) in self.edges.iter().enumerate() {
            self.for_cells_of_edge(a, b, |c| {
                cell_edges[fill[c] as usize] = e as u32;
                fill[c] += 1;
            });
        }
        self.starts = starts;
        self.cell_edges = cell_edges;
    }

    /// Calls `f` with every cell the segment a–b passes through.
    fn for_cells_of_edge(&self, a: P, b: P, mut f: impl FnMut(usize)) {
        let (i0, j0) = self.cell_of_clamped([a[0].min(b[0]), a[1].min(b[1])]);
        let (i1, j1) = self.cell_of_clamped([a[0].max(b[0]), a[1].max(b[1])]);
        for j in j0..=j1 {
            for i in i0..=i1 {
                if i0 == i1 || j0 == j1 || self.segment_touches_cell(a, b, i, j) {
                    f(j * self.nx + i);
                }
            }
        }
    }

    /// Whether the line through a–b passes through cell (i, j) (with a little slack):
    /// not all four corners strictly on one side.
    fn segment_touches_cell(&self, a: P, b: P, i: usize, j: usize) -> bool {
        let slack = self.cell * 1e-6;
        let x0 = self.min[0] + i as f64 * self.cell - slack;
        let y0 = self.min[1] + j as f64 * self.cell - slack;
        let (x1, y1) = (x0 + self.cell + 2.0 * slack, y0 + self.cell + 2.0 * slack);
        let sides = [[x0, y0], [x1, y0], [x1, y1], [x0, y1]].map(|c| orient(a, b, c));
        !(sides.iter().all(|&s| s > 0.0) || sides.iter().all(|&s| s < 0.0))
    }

    /// Marks each cell whose centre is inside, by a scanline through each row of centres
    /// with the same half-open crossing rule the point test uses.
    fn mark_centres(&mut self) {
        let mut xs = Vec::new();
        for j in 0..self.ny {
            let y = self.min[1] + (j as f64 + 0.5) * self.cell;
            xs.clear();
            for &(a, b) in &self.edges {
                if (a[1] > y) != (b[1] > y) {
                    xs.push(a[0] + (y - a[1]) * (b[0] - a[0]) / (b[1] - a[1]));
                }
            }
            xs.sort_by(f64::total_cmp);
            let mut crossed = 0;
            for i in 0..self.nx {
                let x = self.min[0] + (i as f64 + 0.5) * self.cell;
                while crossed < xs.len() && xs[crossed] < x {
                    crossed += 1;
                }
                self.inside[j * self.nx + i] = crossed % 2 == 1;
            }
        }
    }

    /// A centre on (or within a hair of) an edge would make the crossing test ambiguous:
    /// such cells get a reference point nudged off every edge, decided by a full
    /// even-odd test. Rare, except for AOIs with round coordinates.
    fn move_refs_off_edges(&mut self) {
        self.refs =
            (0..self.ny).flat_map(|j| (0..self.nx).map(move |i| (i, j))).map(|(i, j)| self.centre(i, j)).collect();
        let hair = self.cell * 1e-6;
        for c in 0..self.refs.len() {
            let centre = self.refs[c];
            let mut r = centre;
            let mut k = 0.0;
            while self.edges_of(c).any(|(a, b)| dist2_to_segment(r, a, b) < hair * hair) {
                k += 1.0;
                r = [centre[0] + self.cell * 0.0137 * k, centre[1] + self.cell * 0.0071 * k];
            }
            if k > 0.0 {
                self.refs[c] = r;
                self.inside[c] = self.even_odd(r);
            }
        }
    }

    /// Even-odd test of a point against every edge (the scanline's rule).
    fn even_odd(&self, p: P) -> bool {
        let mut inside = false;
        for &(a, b) in &self.edges {
            if (a[1] > p[1]) != (b[1] > p[1]) && a[0] + (p[1] - a[1]) * (b[0] - a[0]) / (b[1] - a[1]) < p[0] {
                inside = !inside;
            }
        }
        inside
    }

    fn cell_of_clamped(&self, p: P) -> (usize, usize) {
        let i = ((p[0] - self.min[0]) / self.cell).floor().clamp(0.0, (self.nx - 1) as f64) as usize;
        let j = ((p[1] - self.min[1]) / self.cell).floor().clamp(0.0, (self.ny - 1) as f64) as usize;
        (i, j)
    }

    fn centre(&self, i: usize, j: usize) -> P {
        [self.min[0] + (i as f64 + 0.5) * self.cell, self.min[1] + (j as f64 + 0.5) * self.cell]
    }

    fn edges_of(&self, c: usize) -> impl Iterator<Item = (P, P)> + '_ {
        self.cell_edges[self.starts[c] as usize..self.starts[c + 1] as usize].iter().map(|&e| self.edges[e as usize])
    }

    fn in_bounds(&self, p: P) -> bool {
        p[0] >= self.min[0] && p[0] <= self.max[0] && p[1] >= self.min[1] && p[1] <= self.max[1]
    }

    /// Whether `p` is inside and at least `margin` metres from every edge.
    pub fn contains_point(&self, p: P, margin: f64) -> bool {
        if !self.in_bounds(p) {
            return false;
        }
        let (i, j) = self.cell_of_clamped(p);
        let c = j * self.nx + i;
        let reference = self.refs[c];
        let mut inside = self.inside[c];
        for (a, b) in self.edges_of(c) {
            if margin > 0.0 && dist2_to_segment(p, a, b) < margin * margin {
                return false;
            }
            if crosses(reference, p, a, b) {
                inside = !inside;
            }
        }
        inside
    }

    /// Where a box `[lo, hi]` lies: inside (every cell it covers is edge-free and inside),
    /// outside (edge-free and outside, or beyond the bounds), or mixed.
    pub fn place(&self, lo: P, hi: P) -> Placement {
        if hi[0] < self.min[0] || hi[1] < self.min[1] || lo[0] > self.max[0] || lo[1] > self.max[1] {
            return Placement::Outside;
        }
        let within = self.in_bounds(lo) && self.in_bounds(hi);
        let (i0, j0) = self.cell_of_clamped(lo);
        let (i1, j1) = self.cell_of_clamped(hi);
        let (mut any_in, mut any_out) = (false, false);
        for j in j0..=j1 {
            for i in i0..=i1 {
                let c = j * self.nx + i;
                if self.starts[c] != self.starts[c + 1] {
                    return Placement::Mixed;
                }
                if self.inside[c] {
                    any_in = true;
                } else {
                    any_out = true;
                }
            }
        }
        match (any_in, any_out) {
            (true, false) if within => Placement::Inside,
            (false, true) => Placement::Outside,
            _ => Placement::Mixed,
        }
    }

    /// Whether the simple polygon `ring` (not closed) lies wholly inside, at least
    /// `margin` metres from the boundary at its vertices: every vertex inside, no edge of
    /// it crossing an edge of the region, and no vertex of the region (a hole) inside it.
    pub fn contains_ring(&self, ring: &[P], margin: f64) -> bool {
        let Some((lo, hi)) = bbox(ring) else { return false };
        match self.place(lo, hi) {
            Placement::Inside => return true,
            Placement::Outside => return false,
            Placement::Mixed => {}
        }
        if !ring.iter().all(|&p| self.contains_point(p, margin)) {
            return false;
        }
        let (i0, j0) = self.cell_of_clamped(lo);
        let (i1, j1) = self.cell_of_clamped(hi);
        let n = ring.len();
        for j in j0..=j1 {
            for i in i0..=i1 {
                for (a, b) in self.edges_of(j * self.nx + i) {
                    if point_in_ring(a, ring) {
                        return false;
                    }
                    if (0..n).any(|k| segments_meet(ring[k], ring[(k + 1) % n], a, b)) {
                        return false;
                    }
                }
            }
        }
        true
    }

    /// The parts of the segment a–b inside the region, as parameter intervals along it
    /// (0 at a, 1 at b), each end at least `margin` metres inside.
    pub fn clip_segment(&self, a: P, b: P, margin: f64) -> Vec<(f64, f64)> {
        let lo = [a[0].min(b[0]), a[1].min(b[1])];
        let hi = [a[0].max(b[0]), a[1].max(b[1])];
        match self.place(lo, hi) {
            Placement::Inside => return vec![(0.0, 1.0)],
            Placement::Outside => return Vec::new(),
            Placement::Mixed => {}
        }
        let mut ts = vec![0.0, 1.0];
        let (i0, j0) = self.cell_of_clamped(lo);
        let (i1, j1) = self.cell_of_clamped(hi);
        for j in j0..=j1 {
            for i in i0..=i1 {
                for (p, q) in self.edges_of(j * self.nx + i) {
                    if let Some(t) = intersection_param(a, b, p, q) {
                        ts.push(t);
                    }
                }
            }
        }
        ts.sort_by(f64::total_cmp);
        ts.dedup_by(|x, y| (*x - *y).abs() < 1e-12);
        let at = |t: f64| [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t];
        let length = dist2(a, b).sqrt();
        let mut out: Vec<(f64, f64)> = Vec::new();
        for pair in ts.windows(2) {
            let (t0, t1) = (pair[0], pair[1]);
            if t1 - t0 < 1e-9 || !self.contains_point(at((t0 + t1) / 2.0), 0.0) {
                continue;
            }
            match out.last_mut() {
                Some(last) if (last.1 - t0).abs() < 1e-12 => last.1 = t1,
                _ => out.push((t0, t1)),
            }
        }
        // Pull each end inward until it keeps the margin (ends on the boundary do not).
        let step = if length > 0.0 { margin.max(0.01) / length } else { 1.0 };
        out.into_iter()
            .filter_map(|(mut t0, mut t1)| {
                let mut nudge = step;
                while t0 < t1 && !self.contains_point(at(t0), margin) {
                    t0 += nudge;
                    nudge *= 2.0;
                }
                let mut nudge = step;
                while t1 > t0 && !self.contains_point(at(t1), margin) {
                    t1 -= nudge;
                    nudge *= 2.0;
                }
                (t1 > t0).then_some((t0, t1))
            })
            .collect()
    }
}

/// The bounding box of some points.
pub(super) fn bbox(points: &[P]) -> Option<(P, P)> {
    let first = *points.first()?;
    let mut lo = first;
    let mut hi = first;
    for p in points {
        lo = [lo[0].min(p[0]), lo[1].min(p[1])];
        hi = [hi[0].max(p[0]), hi[1].max(p[1])];
    }
    Some((lo, hi))
}

/// Twice the signed area of a–b–c: > 0 when c is left of a→b.
fn orient(a: P, b: P, c: P) -> f64 {
    (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
}

/// Whether segment q–p crosses edge a–b, counting a vertex on q–p on one side only
/// (half-open), so a path through a shared vertex of two edges counts once or twice as
/// it should.
fn crosses(q: P, p: P, a: P, b: P) -> bool {
    ((orient(a, b, q) > 0.0) != (orient(a, b, p) > 0.0)) && ((orient(q, p, a) > 0.0) != (orient(q, p, b) > 0.0))
}

/// Whether two segments share any point (touching counts).
fn segments_meet(a: P, b: P, c: P, d: P) -> bool {
    let (d1, d2) = (orient(a, b, c), orient(a, b, d));
    let (d3, d4) = (orient(c, d, a), orient(c, d, b));
    if ((d1 > 0.0 && d2 < 0.0) || (d1 < 0.0 && d2 > 0.0)) && ((d3 > 0.0 && d4 < 0.0) || (d3 < 0.0 && d4 > 0.0)) {
        return true;
    }
    let on = |p: P, q: P, r: P, o: f64| {
        o == 0.0 && r[0] >= p[0].min(q[0]) && r[0] <= p[0].max(q[0]) && r[1] >= p[1].min(q[1]) && r[1] <= p[1].max(q[1])
    };
    on(a, b, c, d1) || on(a, b, d, d2) || on(c, d, a, d3) || on(c, d, b, d4)
}

/// Where along a–b (0..1) it properly crosses p–q, if it does.
fn intersection_param(a: P, b: P, p: P, q: P) -> Option<f64> {
    let r = [b[0] - a[0], b[1] - a[1]];
    let s = [q[0] - p[0], q[1] - p[1]];
    let denom = r[0] * s[1] - r[1] * s[0];
    if denom == 0.0 {
        return None;
    }
    let ap = [p[0] - a[0], p[1] - a[1]];
    let t = (ap[0] * s[1] - ap[1] * s[0]) / denom;
    let u = (ap[0] * r[1] - ap[1] * r[0]) / denom;
    ((0.0..=1.0).contains(&t) && (0.0..=1.0).contains(&u)).then_some(t)
}

fn dist2(a: P, b: P) -> f64 {
    (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)
}

fn dist2_to_segment(p: P, a: P, b: P) -> f64 {
    let ab = [b[0] - a[0], b[1] - a[1]];
    let len2 = ab[0] * ab[0] + ab[1] * ab[1];
    let t = if len2 > 0.0 { (((p[0] - a[0]) * ab[0] + (p[1] - a[1]) * ab[1]) / len2).clamp(0.0, 1.0) } else { 0.0 };
    dist2(p, [a[0] + ab[0] * t, a[1] + ab[1] * t])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 1 km square with a notch cut into its top edge, and a 200 m square hole.
    fn rings() -> [Vec<P>; 2] {
        [
            vec![
                [0.0, 0.0],
                [1000.0, 0.0],
                [1000.0, 1000.0],
                [520.0, 1000.0],
                [500.0, 300.0],
                [480.0, 1000.0],
                [0.0, 1000.0],
            ],
            vec![[100.0, 100.0], [100.0, 300.0], [300.0, 300.0], [300.0, 100.0]],
        ]
    }

    fn region() -> Region {
        Region::new(&rings()).expect("region")
    }

    #[test]
    fn points_match_a_plain_test() {
        let r = region();
        let rings = rings();
        let mut state = 12345u64;
        for _ in 0..20_000 {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let x = (state >> 33) as f64 / (1u64 << 31) as f64 * 1100.0 - 50.0;
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let y = (state >> 33) as f64 / (1u64 << 31) as f64 * 1100.0 - 50.0;
            let expected = point_in_ring([x, y], &rings[0]) && !point_in_ring([x, y], &rings[1]);
            assert_eq!(r.contains_point([x, y], 0.0), expected, "at {x}, {y}");
        }
    }

    #[test]
    fn rings_across_edges_or_around_holes_are_refused() {
        let r = region();
        let square = |x: f64, y: f64, s: f64| vec![[x, y], [x + s, y], [x + s, y + s], [x, y + s]];
        assert!(r.contains_ring(&square(600.0, 600.0, 20.0), 0.05));
        assert!(!r.contains_ring(&square(990.0, 500.0, 20.0), 0.05));
        assert!(!r.contains_ring(&square(290.0, 200.0, 20.0), 0.05));
        // All four corners inside, but the notch between 480 and 520 cuts through it.
        assert!(!r.contains_ring(&square(470.0, 900.0, 60.0), 0.05));
        // Around the whole hole.
        assert!(!r.contains_ring(&square(90.0, 90.0, 220.0), 0.05));
    }

    #[test]
    fn segments_are_clipped_to_the_inside() {
        let r = region();
        let parts = r.clip_segment([-100.0, 50.0], [1100.0, 50.0], 0.05);
        assert_eq!(parts.len(), 1);
        // Across the notch, and across the hole.
        for y in [900.0, 200.0] {
            let parts = r.clip_segment([-100.0, y], [1100.0, y], 0.05);
            assert_eq!(parts.len(), 2, "{parts:?}");
            for (t0, t1) in parts {
                for t in [t0, t1, (t0 + t1) / 2.0] {
                    assert!(r.contains_point([-100.0 + 1200.0 * t, y], 0.04));
                }
            }
        }
        assert!(r.clip_segment([-100.0, 1100.0], [1100.0, 1100.0], 0.05).is_empty());
    }
}
