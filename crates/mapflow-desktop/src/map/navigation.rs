//! Moving about the map as in QGIS and web maps: the wheel zooms about the pointer, Shift+wheel
//! (or a sideways wheel) pans, the keyboard zooms and pans, Home shows the home extent, and
//! programmatic jumps ("Go to…") fly there in a short eased animation. Also the scale bar's
//! arithmetic.
//!
//! The wheel is handled here rather than by walkers: walkers' `zoom_with_ctrl(false)` zooms by
//! the scroll delta times the frame time, so a wheel notch zooms three times as far at 20 fps as
//! at 60 fps (and five levels in a test harness stepping 0.25 s). Here a notch is a fixed share
//! of a zoom level whatever the frame rate. Ctrl+wheel and pinch still reach walkers.

use egui::{Key, Modifiers, Pos2, Rect, Response, Ui, Vec2};
use walkers::{Position, lon_lat};

use super::world::WORLD_SIZE_AT_ZOOM_0;
use super::{MAX_ZOOM, MIN_ZOOM, MapView};
use crate::geo::mercator;

/// Zoom levels per point of vertical scroll. A native wheel notch scrolls 40 points (egui's
/// `line_scroll_speed`), so a notch zooms half a level, and two notches double the scale.
const ZOOM_PER_SCROLL_POINT: f64 = 1.0 / 80.0;

/// Share of the view's width or height an arrow key pans by.
const KEY_PAN_SHARE: f32 = 0.25;

/// How long a flight ("Go to…", Home) takes, in seconds.
pub const FLIGHT_SECONDS: f64 = 0.4;

/// The whole Web Mercator world, for Home without a home extent.
pub const WORLD_BBOX: [f64; 4] = [-180.0, -mercator::MAX_LATITUDE, 180.0, mercator::MAX_LATITUDE];

/// An animated move of the view: from one centre and zoom to another, eased.
#[derive(Clone, Debug)]
pub(super) struct Flight {
    from: mercator::Norm,
    to: mercator::Norm,
    from_zoom: f64,
    to_zoom: f64,
    start: f64,
}

impl Flight {
    /// The centre (normalized Web Mercator) and zoom at time `now`, and whether it has landed.
    fn at(&self, now: f64) -> (mercator::Norm, f64, bool) {
        let t = ((now - self.start) / FLIGHT_SECONDS).clamp(0.0, 1.0);
        let eased = ease_in_out(t);
        let lerp = |a: f64, b: f64| a + (b - a) * eased;
        let center = [lerp(self.from[0], self.to[0]).rem_euclid(1.0), lerp(self.from[1], self.to[1])];
        (center, lerp(self.from_zoom, self.to_zoom), t >= 1.0)
    }
}

/// Cubic ease-in-out on `0..=1`.
fn ease_in_out(t: f64) -> f64 {
    if t < 0.5 { 4.0 * t * t * t } else { 1.0 - (-2.0 * t + 2.0).powi(3) / 2.0 }
}

impl MapView {
    /// The extent Home (the key) shows: a lon/lat bbox `[w, s, e, n]`, or the whole world when
    /// `None`.
    pub fn set_home_bbox(&mut self, bbox: Option<[f64; 4]>) {
        self.home_bbox = bbox;
    }

    /// The extent Home shows.
    pub fn home_bbox(&self) -> [f64; 4] {
        self.home_bbox.unwrap_or(WORLD_BBOX)
    }

    /// Flies to `center` at `zoom` in [`FLIGHT_SECONDS`], starting on the next frame drawn.
    pub fn fly_to(&mut self, center: Position, zoom: f64) {
        let from_center = self.center();
        let from = mercator::lon_lat_to_normalized_unclamped(from_center.x(), from_center.y());
        let mut to = mercator::lon_lat_to_normalized(center.x(), center.y());
        // The short way round, across the antimeridian if that is shorter.
        if to[0] - from[0] > 0.5 {
            to[0] -= 1.0;
        } else if from[0] - to[0] > 0.5 {
            to[0] += 1.0;
        }
        self.flight = Some(Flight {
            from,
            to,
            from_zoom: self.memory.zoom(),
            to_zoom: zoom.clamp(MIN_ZOOM, MAX_ZOOM),
            start: f64::NAN,
        });
    }

    /// Flies so that the lon/lat bbox `[w, s, e, n]` fits the map (see [`Self::zoom_to_bbox`]).
    pub fn fly_to_bbox(&mut self, bbox: [f64; 4]) {
        if let Some((center, zoom)) = self.fit(bbox) {
            self.fly_to(center, zoom);
        }
    }

    /// Whether a flight is under way.
    pub fn flying(&self) -> bool {
        self.flight.is_some()
    }

    /// Moves the view along the flight, if one is under way; called before the map is drawn.
    pub(super) fn advance_flight(&mut self, ui: &Ui) {
        let Some(flight) = &mut self.flight else {
            return;
        };
        let now = ui.input(|input| input.time);
        if flight.start.is_nan() {
            flight.start = now;
        }
        let (center, zoom, landed) = flight.at(now);
        let (lon, lat) = mercator::normalized_to_lon_lat(center);
        self.memory.center_at(lon_lat(lon, lat));
        if let Err(err) = self.memory.set_zoom(zoom) {
            tracing::warn!("zoom {zoom} rejected during a flight: {err}");
        }
        if landed {
            self.flight = None;
        } else {
            ui.ctx().request_repaint();
        }
    }

    /// The wheel over the map (not over a window on top of it): vertical scroll zooms about the
    /// pointer, horizontal scroll (and Shift+wheel, which egui turns sideways) pans.
    pub(super) fn handle_wheel(&mut self, ui: &Ui, response: &Response) {
        if !response.contains_pointer() {
            return;
        }
        let Some(pointer) = ui.input(|input| input.pointer.hover_pos()) else {
            return;
        };
        let scroll = ui.input(|input| input.smooth_scroll_delta);
        if scroll == Vec2::ZERO {
            return;
        }
        self.flight = None;
        let rect = response.rect;
        if scroll.x != 0.0 {
            self.pan_by(Vec2::new(scroll.x, 0.0));
        }
        if scroll.y != 0.0 {
            let zoom = (self.memory.zoom() + f64::from(scroll.y) * ZOOM_PER_SCROLL_POINT).clamp(MIN_ZOOM, MAX_ZOOM);
            self.zoom_about(rect, pointer, zoom);
        }
        // Used: not for a scroll area the map may sit in.
        ui.ctx().input_mut(|input| input.smooth_scroll_delta = Vec2::ZERO);
        ui.ctx().request_repaint();
    }

    /// `+`/`=` and `-` zoom, arrows pan, Home shows the home extent: while the map has keyboard
    /// focus or the pointer is over it, and no text field has focus.
    pub(super) fn handle_keys(&mut self, ui: &Ui, response: &Response) {
        let ctx = ui.ctx();
        if response.clicked() || response.drag_started() {
            response.request_focus();
        }
        if response.has_focus() {
            // Arrows pan the map rather than move the focus to the next widget.
            ctx.memory_mut(|memory| {
                memory.set_focus_lock_filter(
                    response.id,
                    egui::EventFilter { horizontal_arrows: true, vertical_arrows: true, ..Default::default() },
                );
            });
        }
        if ctx.text_edit_focused() || !(response.has_focus() || response.contains_pointer()) {
            return;
        }

        let rect = response.rect;
        let (zoom_in, zoom_out, left, right, up, down, home) = ctx.input_mut(|input| {
            let mut pressed = |key| input.consume_key(Modifiers::NONE, key);
            (
                pressed(Key::Plus) | pressed(Key::Equals),
                pressed(Key::Minus),
                pressed(Key::ArrowLeft),
                pressed(Key::ArrowRight),
                pressed(Key::ArrowUp),
                pressed(Key::ArrowDown),
                pressed(Key::Home),
            )
        });
        if zoom_in || zoom_out || left || right || up || down || home {
            self.flight = None;
            ctx.request_repaint();
        }
        if zoom_in {
            self.zoom_by(1.0);
        }
        if zoom_out {
            self.zoom_by(-1.0);
        }
        // The content moves opposite to the view: "right" shows what is east.
        let step = rect.size() * KEY_PAN_SHARE;
        let pan = Vec2::new(
            if left { step.x } else { 0.0 } - if right { step.x } else { 0.0 },
            if up { step.y } else { 0.0 } - if down { step.y } else { 0.0 },
        );
        if pan != Vec2::ZERO {
            self.pan_by(pan);
        }
        if home {
            self.fly_to_bbox(self.home_bbox());
        }
    }

    /// Moves the map's content by `delta` points (positive x: the content moves right).
    fn pan_by(&mut self, delta: Vec2) {
        let center = self.center();
        let world_size = WORLD_SIZE_AT_ZOOM_0 * 2f64.powf(self.memory.zoom());
        let norm = mercator::lon_lat_to_normalized_unclamped(center.x(), center.y());
        let moved = [
            (norm[0] - f64::from(delta.x) / world_size).rem_euclid(1.0),
            (norm[1] - f64::from(delta.y) / world_size).clamp(0.0, 1.0),
        ];
        let (lon, lat) = mercator::normalized_to_lon_lat(moved);
        self.memory.center_at(lon_lat(lon, lat));
    }

    /// Sets `zoom` keeping the ground under `pointer` (a screen position in `rect`) where it is.
    pub(super) fn zoom_about(&mut self, rect: Rect, pointer: Pos2, zoom: f64) {
        let center = self.center();
        let offset = pointer - rect.center();
        let old_size = WORLD_SIZE_AT_ZOOM_0 * 2f64.powf(self.memory.zoom());
        let new_size = WORLD_SIZE_AT_ZOOM_0 * 2f64.powf(zoom);
        let norm = mercator::lon_lat_to_normalized_unclamped(center.x(), center.y());
        let under = [norm[0] + f64::from(offset.x) / old_size, norm[1] + f64::from(offset.y) / old_size];
        let moved =
            [(under[0] - f64::from(offset.x) / new_size).rem_euclid(1.0), under[1] - f64::from(offset.y) / new_size];
        let (lon, lat) = mercator::normalized_to_lon_lat(moved);
        self.memory.center_at(lon_lat(lon, lat));
        if let Err(err) = self.memory.set_zoom(zoom) {
            tracing::warn!("zoom {zoom} rejected: {err}");
        }
    }
}

/// Ground metres per screen point at latitude `lat` and `zoom`, in Web Mercator.
pub fn meters_per_point(lat: f64, zoom: f64) -> f64 {
    // A screen point is a tile pixel: walkers lays the world out WORLD_SIZE_AT_ZOOM_0 wide.
    mercator::metres_per_pixel(lat, zoom)
}

/// The scale bar: the longest round length (1, 2 or 5 × 10ⁿ metres) at most `max_points` long,
/// and its length on screen, for `meters_per_point`.
pub fn scale_bar(meters_per_point: f64, max_points: f32) -> (f64, f32) {
    let max_meters = meters_per_point * f64::from(max_points);
    if !(max_meters.is_finite() && max_meters > 0.0) {
        return (0.0, 0.0);
    }
    let magnitude = 10f64.powf(max_meters.log10().floor());
    let meters = [5.0, 2.0, 1.0].into_iter().map(|m| m * magnitude).find(|m| *m <= max_meters).unwrap_or(magnitude);
    (meters, (meters / meters_per_point) as f32)
}

/// A round length as `500 m` or `20 km` (units translated), for the scale bar.
pub fn format_length(meters: f64) -> String {
    if meters >= 1000.0 {
        let km = meters / 1000.0;
        rust_i18n::t!("navigation.length_km", value = trim_number(km)).into_owned()
    } else {
        rust_i18n::t!("navigation.length_m", value = trim_number(meters)).into_owned()
    }
}

/// `2`, not `2.0`; `0.5` stays.
fn trim_number(value: f64) -> String {
    let text = format!("{value:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_bar_lengths_are_round_and_fit() {
        for (mpp, meters) in [(1.0, 100.0), (1.2, 100.0), (2.5, 200.0), (6.0, 500.0), (9.0, 500.0), (11.0, 1000.0)] {
            let (got, points) = scale_bar(mpp, 100.0);
            assert_eq!(got, meters, "{mpp} m/pt");
            assert!(points <= 100.0 && points > 40.0, "{mpp} m/pt: {points} pt");
        }
        // Very small and very large scales.
        assert_eq!(scale_bar(0.004, 100.0).0, 0.2);
        assert_eq!(scale_bar(60_000.0, 100.0).0, 5_000_000.0);
        assert_eq!(scale_bar(0.0, 100.0), (0.0, 0.0));
        assert_eq!(scale_bar(f64::NAN, 100.0), (0.0, 0.0));
    }

    #[test]
    fn meters_per_point_shrinks_towards_the_poles_and_with_zoom() {
        // Zoom 0 at the equator: the equator (40,075 km) in 256 points.
        assert!((meters_per_point(0.0, 0.0) - 156_543.03).abs() < 0.1);
        assert!((meters_per_point(60.0, 0.0) - 156_543.03 / 2.0).abs() < 0.1);
        assert!((meters_per_point(0.0, 1.0) * 2.0 - meters_per_point(0.0, 0.0)).abs() < 1e-6);
        assert!(meters_per_point(89.9, 3.0) > 0.0);
    }

    #[test]
    fn lengths_read_well() {
        assert_eq!(format_length(500.0), "500 m");
        assert_eq!(format_length(2000.0), "2 km");
        assert_eq!(format_length(0.5), "0.5 m");
        assert_eq!(format_length(5_000_000.0), "5000 km");
    }

    #[test]
    fn flights_ease_and_land() {
        let flight = Flight { from: [0.2, 0.3], to: [0.4, 0.5], from_zoom: 4.0, to_zoom: 10.0, start: 1.0 };
        let (center, zoom, landed) = flight.at(1.0);
        assert_eq!((center, zoom, landed), ([0.2, 0.3], 4.0, false));
        let (center, zoom, landed) = flight.at(1.0 + FLIGHT_SECONDS / 2.0);
        assert!((center[0] - 0.3).abs() < 1e-9 && (zoom - 7.0).abs() < 1e-9 && !landed);
        // Slow at the start.
        let (_, early, _) = flight.at(1.0 + FLIGHT_SECONDS / 10.0);
        assert!(early - 4.0 < 0.1 * 6.0);
        let (center, zoom, landed) = flight.at(5.0);
        assert_eq!((center, zoom, landed), ([0.4, 0.5], 10.0, true));
    }
}
