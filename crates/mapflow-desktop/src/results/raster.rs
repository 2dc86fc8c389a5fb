//! A small anti-aliased scanline rasterizer for the zoomed-out layer.
//!
//! When features are a few pixels or less, sending their triangles to egui costs a vertex per
//! corner per frame and most of them cover no pixel centre (so they flicker while panning).
//! Instead the layer is painted into 256-pixel tiles of the Web Mercator grid, once per zoom
//! level, with exact area coverage: a 5-metre building at 10 m/px is a faint quarter pixel,
//! not nothing. Coverage is accumulated as signed areas per pixel (the technique of font
//! rasterizers such as font-rs) and turned into coverage by a running sum along each row.

use egui::{Color32, ColorImage};

/// How overlapping rings combine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FillRule {
    /// Polygons: holes and multipolygon parts, whatever their orientation.
    EvenOdd,
    /// Strokes: overlapping segment quads are one union.
    NonZero,
}

/// Paints shapes one after the other into a premultiplied RGBA image.
pub(crate) struct Rasterizer {
    width: usize,
    height: usize,
    /// Signed area contributions, `width + 2` per row (edges may touch one past the last pixel).
    accumulator: Vec<f32>,
    /// Premultiplied RGBA in 0..1.
    pixels: Vec<[f32; 4]>,
    /// Rows and columns the current shape touched: `[first, last)`.
    rows: [usize; 2],
    columns: [usize; 2],
    painted: bool,
}

impl Rasterizer {
    pub(crate) fn new(width: usize, height: usize) -> Self {
        Self {
            width,
            height,
            accumulator: vec![0.0; (width + 2) * height],
            pixels: vec![[0.0; 4]; width * height],
            rows: [usize::MAX, 0],
            columns: [usize::MAX, 0],
            painted: false,
        }
    }

    /// Clears the image for the next tile.
    pub(crate) fn clear(&mut self) {
        if self.painted {
            self.pixels.fill([0.0; 4]);
        }
        self.painted = false;
    }

    /// Whether anything was painted since [`Self::clear`].
    pub(crate) fn is_blank(&self) -> bool {
        !self.painted
    }

    fn stride(&self) -> usize {
        self.width + 2
    }

    /// Adds one edge of the current shape, in pixels (may lie partly or wholly off the image).
    pub(crate) fn edge(&mut self, from: [f32; 2], to: [f32; 2]) {
        if from[1] == to[1] || !(from[0].is_finite() && to[0].is_finite()) {
            return;
        }
        let (direction, top, bottom) = if from[1] < to[1] { (1.0, from, to) } else { (-1.0, to, from) };
        let y_start = top[1].max(0.0);
        let y_end = bottom[1].min(self.height as f32);
        if y_start >= y_end {
            return;
        }
        let slope = (bottom[0] - top[0]) / (bottom[1] - top[1]);
        let first_row = y_start as usize;
        let last_row = (y_end.ceil() as usize).min(self.height);
        self.rows = [self.rows[0].min(first_row), self.rows[1].max(last_row)];
        for row in first_row..last_row {
            let y_a = (row as f32).max(y_start);
            let y_b = ((row + 1) as f32).min(y_end);
            if y_b <= y_a {
                continue;
            }
            let x_a = top[0] + (y_a - top[1]) * slope;
            let x_b = top[0] + (y_b - top[1]) * slope;
            let (left, right) = if x_a < x_b { (x_a, x_b) } else { (x_b, x_a) };
            self.row_span(row, left, right, (y_b - y_a) * direction);
        }
    }

    /// Spreads the signed height `height` of an edge piece crossing one row from x `left` to
    /// `right` over the pixels it crosses.
    #[inline]
    fn row_span(&mut self, row: usize, left: f32, right: f32, height: f32) {
        let width = self.width as f32;
        if left >= width {
            // Right of the image: it only bounds what is right of it, off the image. The
            // shape's coverage runs up to the image's edge.
            self.columns[1] = self.width;
            return;
        }
        if right > width {
            self.columns[1] = self.width;
        }
        let line = row * self.stride();
        if right - left < 1e-4 {
            let x = (0.5 * (left + right)).max(0.0);
            let column = x as usize;
            let fraction = x - column as f32;
            self.accumulator[line + column] += height * (1.0 - fraction);
            self.accumulator[line + column + 1] += height * fraction;
            self.columns = [self.columns[0].min(column), self.columns[1].max(column + 2)];
            return;
        }
        let per_x = height / (right - left);
        let mut left = left;
        if left < 0.0 {
            // Left of the image: covers everything right of it, like an edge along x = 0.
            self.accumulator[line] += per_x * (right.min(0.0) - left);
            self.columns[0] = 0;
            self.columns[1] = self.columns[1].max(1);
            left = 0.0;
            if right <= 0.0 {
                return;
            }
        }
        let right = right.min(width);
        let first = left as usize;
        let last = (right.ceil() as usize).min(self.width);
        for column in first..last {
            let a = left.max(column as f32);
            let b = right.min((column + 1) as f32);
            if b <= a {
                continue;
            }
            let piece = per_x * (b - a);
            let fraction = 0.5 * (a + b) - column as f32;
            self.accumulator[line + column] += piece * (1.0 - fraction);
            self.accumulator[line + column + 1] += piece * fraction;
        }
        self.columns = [self.columns[0].min(first), self.columns[1].max(last + 1)];
    }

    /// Adds a segment `from`–`to` of a stroke `half_width` pixels either side, with square caps
    /// so that consecutive segments join. Use [`FillRule::NonZero`].
    pub(crate) fn segment(&mut self, from: [f32; 2], to: [f32; 2], half_width: f32) {
        let (dx, dy) = (to[0] - from[0], to[1] - from[1]);
        let length = (dx * dx + dy * dy).sqrt();
        let (ux, uy) =
            if length > 1e-6 { (dx / length * half_width, dy / length * half_width) } else { (half_width, 0.0) };
        let (nx, ny) = (-uy, ux);
        let a = [from[0] - ux, from[1] - uy];
        let b = [to[0] + ux, to[1] + uy];
        let corners = [[a[0] + nx, a[1] + ny], [b[0] + nx, b[1] + ny], [b[0] - nx, b[1] - ny], [a[0] - nx, a[1] - ny]];
        for i in 0..4 {
            self.edge(corners[i], corners[(i + 1) % 4]);
        }
    }

    /// Paints the shape accumulated since the last fill in `color` (premultiplied RGBA, 0..1)
    /// and starts a new shape.
    pub(crate) fn fill(&mut self, color: [f32; 4], rule: FillRule) {
        let [first_row, last_row] = self.rows;
        let [first_column, last_column] = self.columns;
        self.rows = [usize::MAX, 0];
        self.columns = [usize::MAX, 0];
        if first_row >= last_row || first_column >= last_column {
            return;
        }
        let stride = self.stride();
        let last_column = last_column.min(stride);
        let mut painted = false;
        for row in first_row..last_row {
            let line = row * stride;
            let mut sum = 0.0f32;
            for column in first_column..last_column {
                let cell = &mut self.accumulator[line + column];
                sum += *cell;
                *cell = 0.0;
                if column >= self.width {
                    continue;
                }
                let coverage = match rule {
                    FillRule::NonZero => sum.abs().min(1.0),
                    FillRule::EvenOdd => {
                        let depth = sum.abs();
                        if depth <= 1.0 {
                            depth
                        } else if depth <= 2.0 {
                            2.0 - depth
                        } else {
                            let folded = depth % 2.0;
                            if folded > 1.0 { 2.0 - folded } else { folded }
                        }
                    }
                };
                if coverage < 1.0 / 256.0 {
                    continue;
                }
                let pixel = &mut self.pixels[row * self.width + column];
                let keep = 1.0 - color[3] * coverage;
                for channel in 0..4 {
                    pixel[channel] = color[channel] * coverage + pixel[channel] * keep;
                }
                painted = true;
            }
        }
        self.painted |= painted;
    }

    /// The painted image.
    pub(crate) fn image(&self) -> ColorImage {
        let to_byte = |value: f32| (value * 255.0 + 0.5).clamp(0.0, 255.0) as u8;
        let pixels = self
            .pixels
            .iter()
            .map(|[r, g, b, a]| Color32::from_rgba_premultiplied(to_byte(*r), to_byte(*g), to_byte(*b), to_byte(*a)))
            .collect();
        ColorImage::new([self.width, self.height], pixels)
    }

    #[cfg(test)]
    fn alpha(&self, x: usize, y: usize) -> f32 {
        self.pixels[y * self.width + x][3]
    }
}

/// `color` with alpha `alpha`, premultiplied, in 0..1.
pub(crate) fn premultiplied(color: Color32, alpha: f32) -> [f32; 4] {
    let [r, g, b, _] = color.to_array();
    let scale = alpha / 255.0;
    [f32::from(r) * scale, f32::from(g) * scale, f32::from(b) * scale, alpha]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn polygon(r: &mut Rasterizer, points: &[[f32; 2]]) {
        for i in 0..points.len() {
            r.edge(points[i], points[(i + 1) % points.len()]);
        }
    }

    #[test]
    fn covers_exact_areas() {
        let mut r = Rasterizer::new(8, 8);
        // A 2×2 square on pixel boundaries, then one offset by half a pixel.
        polygon(&mut r, &[[1.0, 1.0], [3.0, 1.0], [3.0, 3.0], [1.0, 3.0]]);
        r.fill([1.0; 4], FillRule::EvenOdd);
        assert_eq!(r.alpha(1, 1), 1.0);
        assert_eq!(r.alpha(2, 2), 1.0);
        assert_eq!(r.alpha(3, 2), 0.0);
        assert_eq!(r.alpha(0, 1), 0.0);
        polygon(&mut r, &[[4.5, 4.0], [6.5, 4.0], [6.5, 5.0], [4.5, 5.0]]);
        r.fill([1.0; 4], FillRule::EvenOdd);
        assert!((r.alpha(4, 4) - 0.5).abs() < 1e-5);
        assert!((r.alpha(5, 4) - 1.0).abs() < 1e-5);
        assert!((r.alpha(6, 4) - 0.5).abs() < 1e-5);
        assert_eq!(r.alpha(7, 4), 0.0);
        // The accumulator is clean again: nothing leaks into the next shape.
        assert!(r.accumulator.iter().all(|value| *value == 0.0));
    }

    #[test]
    fn a_triangle_covers_half_its_box() {
        let mut r = Rasterizer::new(4, 4);
        polygon(&mut r, &[[0.0, 0.0], [4.0, 0.0], [0.0, 4.0]]);
        r.fill([1.0; 4], FillRule::EvenOdd);
        let total: f32 = r.pixels.iter().map(|p| p[3]).sum();
        assert!((total - 8.0).abs() < 1e-4, "{total}");
    }

    #[test]
    fn shapes_beyond_the_edges_are_clipped() {
        let mut r = Rasterizer::new(4, 4);
        // Covers the whole image and more on every side.
        polygon(&mut r, &[[-10.0, -3.0], [20.0, -3.0], [20.0, 9.0], [-10.0, 9.0]]);
        r.fill([1.0; 4], FillRule::EvenOdd);
        assert!(r.pixels.iter().all(|p| (p[3] - 1.0).abs() < 1e-5));
        r.clear();
        // A slanted edge entering from the left.
        polygon(&mut r, &[[-4.0, 0.0], [4.0, 4.0], [-4.0, 4.0]]);
        r.fill([1.0; 4], FillRule::EvenOdd);
        let total: f32 = r.pixels.iter().map(|p| p[3]).sum();
        assert!((total - 4.0).abs() < 1e-4, "{total}");
        assert!(r.accumulator.iter().all(|value| *value == 0.0));
    }

    #[test]
    fn holes_stay_empty_and_strokes_unite() {
        let mut r = Rasterizer::new(8, 8);
        polygon(&mut r, &[[0.0, 0.0], [8.0, 0.0], [8.0, 8.0], [0.0, 8.0]]);
        // Same orientation as the outer ring: even-odd still makes it a hole.
        polygon(&mut r, &[[2.0, 2.0], [6.0, 2.0], [6.0, 6.0], [2.0, 6.0]]);
        r.fill([1.0; 4], FillRule::EvenOdd);
        assert_eq!(r.alpha(4, 4), 0.0);
        assert_eq!(r.alpha(1, 4), 1.0);
        r.clear();
        r.segment([1.0, 4.0], [5.0, 4.0], 1.0);
        r.segment([5.0, 4.0], [5.0, 7.0], 1.0);
        r.fill([1.0; 4], FillRule::NonZero);
        assert!((r.alpha(4, 3) - 1.0).abs() < 1e-5);
        assert!((r.alpha(4, 4) - 1.0).abs() < 1e-5);
        assert_eq!(r.alpha(2, 6), 0.0);
    }
}
