//! The AOI being drawn or edited: polygons, the ring in progress, and undo.

use crate::geo::{Aoi, AoiIssue, AoiLimits};
use geo_types::{Coord, LineString, Polygon};
use serde::{Deserialize, Serialize};

/// One step back.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Snapshot {
    aoi: Aoi,
    drawing: Option<Vec<[f64; 2]>>,
}

/// The AOI draft: finished polygons (exterior rings editable, holes kept), the ring being
/// drawn, and the undo history. It persists across restarts.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct AoiDraft {
    pub aoi: Aoi,
    /// The ring being drawn (open, lon/lat), when drawing.
    pub drawing: Option<Vec<[f64; 2]>>,
    #[serde(skip)]
    undo: Vec<Snapshot>,
    /// Bumped on every change, so derived values (validation, area) are recomputed only then.
    #[serde(skip)]
    pub generation: u64,
    #[serde(skip)]
    checked: Option<(u64, AoiLimits, Aoi, Vec<AoiIssue>)>,
}

const UNDO_DEPTH: usize = 100;

impl AoiDraft {
    fn remember(&mut self) {
        self.undo.push(Snapshot { aoi: self.aoi.clone(), drawing: self.drawing.clone() });
        if self.undo.len() > UNDO_DEPTH {
            self.undo.remove(0);
        }
        self.generation += 1;
    }

    pub fn is_drawing(&self) -> bool {
        self.drawing.is_some()
    }

    pub fn can_undo(&self) -> bool {
        !self.undo.is_empty()
    }

    /// Starts a new ring; the finished polygons stay.
    pub fn start_drawing(&mut self) {
        if self.drawing.is_none() {
            self.remember();
            self.drawing = Some(Vec::new());
        }
    }

    /// Adds a vertex to the ring in progress (starting one if needed).
    pub fn add_point(&mut self, lon: f64, lat: f64) {
        self.remember();
        self.drawing.get_or_insert_with(Vec::new).push([lon, lat]);
    }

    /// Closes the ring in progress into a polygon. Fewer than 3 points: nothing happens.
    pub fn finish_ring(&mut self) -> bool {
        let Some(ring) = &self.drawing else { return false };
        if ring.len() < 3 {
            return false;
        }
        self.remember();
        if let Some(ring) = self.drawing.take() {
            self.aoi.polygons.push(polygon_from(&ring));
        }
        true
    }

    /// Drops the ring in progress.
    pub fn cancel_drawing(&mut self) {
        if self.drawing.is_some() {
            self.remember();
            self.drawing = None;
        }
    }

    /// Exterior ring vertices of a polygon, without the closing repeat.
    pub fn vertices(&self, polygon: usize) -> Vec<[f64; 2]> {
        self.aoi.polygons.get(polygon).map(|p| open_ring(p.exterior())).unwrap_or_default()
    }

    /// Call once when a vertex drag begins, so the whole drag undoes in one step.
    pub fn begin_edit(&mut self) {
        self.remember();
    }

    /// Moves a vertex of a finished polygon (during a drag: no undo step of its own).
    pub fn move_vertex(&mut self, polygon: usize, vertex: usize, lon: f64, lat: f64) {
        let mut ring = self.vertices(polygon);
        if let Some(v) = ring.get_mut(vertex) {
            *v = [lon, lat];
            self.set_exterior(polygon, &ring);
            self.generation += 1;
        }
    }

    /// Inserts a vertex after `after` (on an edge's midpoint handle).
    pub fn insert_vertex(&mut self, polygon: usize, after: usize, lon: f64, lat: f64) {
        let mut ring = self.vertices(polygon);
        if after < ring.len() {
            self.remember();
            ring.insert(after + 1, [lon, lat]);
            self.set_exterior(polygon, &ring);
        }
    }

    /// Deletes a vertex; a polygon left with fewer than 3 vertices is deleted whole.
    pub fn delete_vertex(&mut self, polygon: usize, vertex: usize) {
        let mut ring = self.vertices(polygon);
        if vertex >= ring.len() {
            return;
        }
        self.remember();
        ring.remove(vertex);
        if ring.len() < 3 {
            self.aoi.polygons.remove(polygon);
        } else {
            self.set_exterior(polygon, &ring);
        }
    }

    pub fn delete_polygon(&mut self, polygon: usize) {
        if polygon < self.aoi.polygons.len() {
            self.remember();
            self.aoi.polygons.remove(polygon);
        }
    }

    /// Removes everything (undoable).
    pub fn clear(&mut self) {
        if !self.aoi.is_empty() || self.drawing.is_some() {
            self.remember();
            self.aoi = Aoi::default();
            self.drawing = None;
        }
    }

    /// Replaces the AOI (an import, the map extent, a duplicate), undoable.
    pub fn replace(&mut self, aoi: Aoi) {
        self.remember();
        self.aoi = aoi;
        self.drawing = None;
    }

    pub fn undo(&mut self) -> bool {
        match self.undo.pop() {
            Some(s) => {
                self.aoi = s.aoi;
                self.drawing = s.drawing;
                self.generation += 1;
                true
            }
            None => false,
        }
    }

    /// The repaired AOI and its issues under `limits`, recomputed only when either changed.
    pub fn checked(&mut self, limits: &AoiLimits) -> (&Aoi, &[AoiIssue]) {
        let fresh = matches!(&self.checked, Some((g, l, _, _)) if *g == self.generation && l == limits);
        if !fresh {
            let (aoi, issues) = crate::geo::validate(&self.aoi, limits);
            self.checked = Some((self.generation, limits.clone(), aoi, issues));
        }
        match &self.checked {
            Some((_, _, aoi, issues)) => (aoi, issues),
            None => unreachable!("set just above"),
        }
    }

    fn set_exterior(&mut self, polygon: usize, ring: &[[f64; 2]]) {
        if let Some(p) = self.aoi.polygons.get_mut(polygon) {
            let holes = p.interiors().to_vec();
            *p = Polygon::new(closed_line(ring), holes);
        }
    }
}

fn open_ring(line: &LineString<f64>) -> Vec<[f64; 2]> {
    let mut pts: Vec<[f64; 2]> = line.0.iter().map(|c| [c.x, c.y]).collect();
    if pts.len() > 1 && pts.first() == pts.last() {
        pts.pop();
    }
    pts
}

fn closed_line(ring: &[[f64; 2]]) -> LineString<f64> {
    let mut coords: Vec<Coord<f64>> = ring.iter().map(|p| Coord { x: p[0], y: p[1] }).collect();
    if let Some(first) = coords.first().copied() {
        coords.push(first);
    }
    LineString::new(coords)
}

fn polygon_from(ring: &[[f64; 2]]) -> Polygon<f64> {
    Polygon::new(closed_line(ring), Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(d: &mut AoiDraft) {
        d.start_drawing();
        for p in [[0.0, 0.0], [0.01, 0.0], [0.01, 0.01], [0.0, 0.01]] {
            d.add_point(p[0], p[1]);
        }
        assert!(d.finish_ring());
    }

    #[test]
    fn draw_edit_undo() {
        let mut d = AoiDraft::default();
        square(&mut d);
        assert_eq!(d.aoi.polygons.len(), 1);
        assert_eq!(d.vertices(0).len(), 4);
        let area = d.aoi.total_area_m2();
        assert!((area - 1.23e6).abs() < 0.02e6, "{area}");

        d.begin_edit();
        d.move_vertex(0, 2, 0.02, 0.02);
        d.move_vertex(0, 2, 0.03, 0.03);
        assert_eq!(d.vertices(0)[2], [0.03, 0.03]);
        assert!(d.aoi.total_area_m2() > area);
        assert!(d.undo());
        assert_eq!(d.vertices(0)[2], [0.01, 0.01], "a whole drag undoes in one step");

        d.insert_vertex(0, 0, 0.005, -0.005);
        assert_eq!(d.vertices(0).len(), 5);
        d.delete_vertex(0, 1);
        assert_eq!(d.vertices(0).len(), 4);
        d.delete_vertex(0, 0);
        d.delete_vertex(0, 0);
        assert!(d.aoi.polygons.is_empty(), "under three vertices the polygon goes");
        d.undo();
        d.undo();
        assert_eq!(d.vertices(0).len(), 4);

        square(&mut d);
        assert_eq!(d.aoi.polygons.len(), 2, "several polygons in one AOI");
        d.clear();
        assert!(d.aoi.is_empty());
        d.undo();
        assert_eq!(d.aoi.polygons.len(), 2);
    }

    #[test]
    fn a_ring_needs_three_points() {
        let mut d = AoiDraft::default();
        d.add_point(0.0, 0.0);
        d.add_point(1.0, 0.0);
        assert!(!d.finish_ring());
        assert!(d.is_drawing());
        d.cancel_drawing();
        assert!(!d.is_drawing());
        assert!(d.aoi.is_empty());
    }

    #[test]
    fn validation_is_cached_by_generation() {
        let mut d = AoiDraft::default();
        square(&mut d);
        let limits = AoiLimits { aoi_area_limit_m2: Some(1.0e6), ..AoiLimits::default() };
        let (_, issues) = d.checked(&limits);
        assert!(issues.iter().any(|i| i.blocks_start()), "1.23 km² over a 1 km² limit");
        d.move_vertex(0, 2, 0.005, 0.005);
        let (_, issues) = d.checked(&limits);
        assert!(!issues.iter().any(|i| i.blocks_start()), "recomputed after the edit: {issues:?}");
    }

    #[test]
    fn survives_serialization() {
        let mut d = AoiDraft::default();
        square(&mut d);
        d.add_point(5.0, 5.0);
        let text = serde_json::to_string(&d).unwrap();
        let back: AoiDraft = serde_json::from_str(&text).unwrap();
        assert_eq!(back.aoi, d.aoi);
        assert_eq!(back.drawing, d.drawing);
    }
}
