//! OGC validity of a polygon, fast enough for detailed AOIs.
//!
//! geo's `Validation` gives the same answers, but tests every ring segment against every other
//! one: a 20,000-vertex field boundary takes about two minutes, on the UI's path to enabling
//! Start. This module checks the rings with a sweep over segments sorted by x (near
//! O(n log n) for real outlines) using geo's robust `line_intersection`, and the rings'
//! relations to each other with geo's indexed `Relate`, as geo's own validation does.
//! It is stricter than geo in one respect: a ring that doubles back on itself (a spike) or
//! passes twice through one vertex is invalid here, as OGC says, and gets repaired.

use ::geo::coordinate_position::CoordPos;
use ::geo::dimensions::Dimensions;
use ::geo::line_intersection::{LineIntersection, line_intersection};
use ::geo::{PreparedGeometry, Relate};
use geo_types::{Coord, Line, LineString, Polygon};

/// The reason code (see `AoiIssue::Invalid`) why `polygon` is not valid, `None` when it is.
///
/// Expects finite coordinates (the caller checks them first). Empty interior rings are
/// ignored, as geo does.
pub(crate) fn invalidity(polygon: &Polygon<f64>) -> Option<&'static str> {
    let exterior = distinct_points(polygon.exterior());
    if exterior.len() < 3 {
        return Some("too_few_points");
    }
    if !ring_is_simple(&exterior) {
        return Some("self_intersection");
    }
    let holes: Vec<&LineString<f64>> = polygon.interiors().iter().filter(|r| !r.0.is_empty()).collect();
    for hole in &holes {
        let points = distinct_points(hole);
        if points.len() < 3 {
            return Some("too_few_points");
        }
        if !ring_is_simple(&points) {
            return Some("self_intersection");
        }
    }
    if holes.is_empty() {
        return None;
    }

    // The rings are simple: now how they lie to each other, as geo's validation checks it.
    let shell = Polygon::new(polygon.exterior().clone(), vec![]);
    let shell = PreparedGeometry::from(&shell);
    let holes: Vec<Polygon<f64>> = holes.into_iter().map(|r| Polygon::new(r.clone(), vec![])).collect();
    let prepared: Vec<_> = holes.iter().map(PreparedGeometry::from).collect();
    for (i, hole) in prepared.iter().enumerate() {
        let matrix = shell.relate(hole);
        if !matrix.is_contains() {
            return Some("hole_outside");
        }
        if matrix.get(CoordPos::OnBoundary, CoordPos::OnBoundary) == Dimensions::OneDimensional {
            return Some("rings_cross");
        }
        for other in &prepared[i + 1..] {
            let matrix = hole.relate(other);
            if matrix.get(CoordPos::Inside, CoordPos::Inside) == Dimensions::TwoDimensional
                || matrix.get(CoordPos::OnBoundary, CoordPos::OnBoundary) == Dimensions::OneDimensional
            {
                return Some("rings_cross");
            }
        }
    }
    None
}

/// The ring's points without consecutive repeats and without the closing point.
pub(crate) fn distinct_points(ring: &LineString<f64>) -> Vec<Coord<f64>> {
    let mut points: Vec<Coord<f64>> = Vec::with_capacity(ring.0.len());
    for &c in &ring.0 {
        if points.last() != Some(&c) {
            points.push(c);
        }
    }
    if points.len() > 1 && points.first() == points.last() {
        points.pop();
    }
    points
}

/// Whether the closed ring through `points` (distinct consecutive points, not repeated at the
/// end) neither crosses nor touches itself: neighbouring segments may only share their common
/// vertex, other segments nothing at all.
///
/// Segments are swept in order of their west end; only those still overlapping in x are
/// compared, after a cheap y-overlap test.
fn ring_is_simple(points: &[Coord<f64>]) -> bool {
    let n = points.len();
    if n < 3 {
        return false;
    }
    let segment = |i: usize| Line::new(points[i], points[(i + 1) % n]);
    let bounds = |i: usize| {
        let Line { start: a, end: b } = segment(i);
        [a.x.min(b.x), a.y.min(b.y), a.x.max(b.x), a.y.max(b.y)]
    };
    let boxes: Vec<[f64; 4]> = (0..n).map(bounds).collect();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| boxes[a][0].total_cmp(&boxes[b][0]));

    let mut active: Vec<usize> = Vec::new();
    for &i in &order {
        let [min_x, min_y, _, max_y] = boxes[i];
        active.retain(|&j| boxes[j][2] >= min_x);
        for &j in &active {
            if boxes[j][3] < min_y || boxes[j][1] > max_y {
                continue;
            }
            let neighbours = (i + 1) % n == j || (j + 1) % n == i;
            match line_intersection(segment(i), segment(j)) {
                None => {}
                // Neighbours meet at their shared vertex; anything more is a spike or a fold.
                Some(LineIntersection::SinglePoint { .. }) if neighbours => {}
                Some(_) => return false,
            }
        }
        active.push(i);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use ::geo::Validation;

    fn polygon(exterior: &[(f64, f64)], holes: &[&[(f64, f64)]]) -> Polygon<f64> {
        Polygon::new(LineString::from(exterior.to_vec()), holes.iter().map(|h| LineString::from(h.to_vec())).collect())
    }

    const SQUARE: &[(f64, f64)] = &[(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0)];

    #[test]
    fn agrees_with_geo_on_typical_cases() {
        let cases = [
            polygon(SQUARE, &[]),
            polygon(&[(0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0)], &[]),
            polygon(SQUARE, &[&[(2.0, 2.0), (4.0, 2.0), (4.0, 4.0)]]),
            // A hole touching the shell at one point is valid.
            polygon(SQUARE, &[&[(0.0, 5.0), (3.0, 4.0), (3.0, 6.0)]]),
            // A hole outside, a hole crossing the shell, a hole sharing an edge with it.
            polygon(SQUARE, &[&[(20.0, 2.0), (24.0, 2.0), (24.0, 4.0)]]),
            polygon(SQUARE, &[&[(8.0, 2.0), (14.0, 2.0), (14.0, 4.0)]]),
            polygon(SQUARE, &[&[(0.0, 2.0), (0.0, 4.0), (3.0, 3.0)]]),
            // Overlapping holes, and holes touching at a point.
            polygon(SQUARE, &[&[(2.0, 2.0), (5.0, 2.0), (5.0, 5.0)], &[(3.0, 2.5), (6.0, 2.5), (6.0, 6.0)]]),
            polygon(SQUARE, &[&[(2.0, 2.0), (4.0, 2.0), (4.0, 4.0)], &[(4.0, 4.0), (6.0, 4.0), (6.0, 6.0)]]),
        ];
        for case in &cases {
            assert_eq!(invalidity(case).is_none(), case.is_valid(), "{case:?}: {:?}", invalidity(case));
        }
    }

    #[test]
    fn agrees_with_geo_on_random_rings() {
        // xorshift: deterministic, no dependency.
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let (mut valid, mut invalid) = (0, 0);
        for round in 0..3000 {
            let n = 3 + round % 9;
            let ring: Vec<(f64, f64)> = (0..n).map(|_| (next() * 10.0, next() * 10.0)).collect();
            let case = polygon(&ring, &[]);
            let ours = invalidity(&case).is_none();
            assert_eq!(ours, case.is_valid(), "{case:?}");
            if ours { valid += 1 } else { invalid += 1 }
        }
        assert!(valid > 300 && invalid > 300, "{valid} valid, {invalid} invalid");
    }

    #[test]
    fn spikes_and_self_touching_rings_are_invalid() {
        let spike = polygon(&[(0.0, 0.0), (10.0, 0.0), (15.0, 5.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0)], &[]);
        assert_eq!(invalidity(&spike), Some("self_intersection"));
        let touching = polygon(&[(0.0, 0.0), (10.0, 0.0), (5.0, 5.0), (8.0, 8.0), (2.0, 8.0), (5.0, 5.0)], &[]);
        assert_eq!(invalidity(&touching), Some("self_intersection"));
        // geo calls this zero-area "triangle" valid; it folds back on itself.
        let flat = polygon(&[(0.0, 0.0), (1.0, 0.0), (2.0, 0.0)], &[]);
        assert_eq!(invalidity(&flat), Some("self_intersection"));
    }

    #[test]
    fn a_straight_run_of_points_is_fine() {
        let run = polygon(&[(0.0, 0.0), (5.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0)], &[]);
        assert_eq!(invalidity(&run), None);
    }
}
