//! Noticing that web tiles do not load, so the map can say "offline or blocked" instead of
//! staying silently blank.
//!
//! walkers' `HttpTiles` reports failures only to its log: a tile that fails stays missing, and
//! `stats().in_progress` drops back to zero. So the basemap's `Tiles` is wrapped for each frame
//! ([`Watched`]), which counts how many tiles the map asked for and how many it got (a tile, or a
//! part of a zoomed-out one), and [`TileHealth`] turns those counts into a verdict over time:
//! failing when the map has been asking for tiles and showing none for a while, as soon as no
//! download is running any more ([`SETTLED_SECONDS`]), or after [`STALLED_SECONDS`] even with
//! downloads hanging (a firewall that drops packets). One tile shown ends it.

use walkers::sources::Attribution;
use walkers::{Stats, TileId, TilePiece, Tiles};

/// Without tiles for this long, and no download running, the tiles are failing.
pub const SETTLED_SECONDS: f64 = 2.0;

/// Without tiles for this long the tiles are failing, downloads running or not.
pub const STALLED_SECONDS: f64 = 10.0;

/// What one frame saw of the basemap's tiles.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FrameTiles {
    /// Tiles the map asked for.
    pub requested: usize,
    /// Of those, how many could be drawn (loaded, or cut from a loaded zoomed-out tile).
    pub shown: usize,
    /// Downloads running.
    pub in_progress: usize,
}

/// Whether the basemap's tiles are failing, judged frame after frame.
#[derive(Clone, Debug, Default)]
pub struct TileHealth {
    /// Since when the map has asked for tiles and shown none; `None` while some are shown.
    blank_since: Option<f64>,
    failing: bool,
}

impl TileHealth {
    /// Takes in one frame at time `now` (seconds, any origin) and returns [`Self::failing`].
    pub fn observe(&mut self, now: f64, frame: FrameTiles) -> bool {
        if frame.requested == 0 || frame.shown > 0 {
            // Nothing asked for (the map is hidden or has no web tiles), or tiles are coming in.
            self.blank_since = None;
            self.failing = false;
            return false;
        }
        let since = *self.blank_since.get_or_insert(now);
        let blank_for = now - since;
        self.failing = blank_for >= STALLED_SECONDS || (blank_for >= SETTLED_SECONDS && frame.in_progress == 0);
        self.failing
    }

    /// Whether the tiles are failing: asked for and none shown for a while.
    pub fn failing(&self) -> bool {
        self.failing
    }

    /// Forgets what was seen, e.g. when the basemap changes.
    pub fn reset(&mut self) {
        *self = Self::default();
    }
}

/// A `Tiles` that counts what the map asks of the one it wraps, for [`TileHealth`].
pub struct Watched<'a> {
    pub inner: &'a mut dyn Tiles,
    pub frame: &'a mut FrameTiles,
}

impl Tiles for Watched<'_> {
    fn at(&mut self, tile_id: TileId) -> Option<TilePiece> {
        let piece = self.inner.at(tile_id);
        self.frame.requested += 1;
        if piece.is_some() {
            self.frame.shown += 1;
        }
        piece
    }

    fn attribution(&self) -> Attribution {
        self.inner.attribution()
    }

    fn tile_size(&self) -> u32 {
        self.inner.tile_size()
    }

    fn stats(&self) -> Stats {
        self.inner.stats()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blank(in_progress: usize) -> FrameTiles {
        FrameTiles { requested: 12, shown: 0, in_progress }
    }

    #[test]
    fn failing_once_downloads_have_ended_without_tiles() {
        let mut health = TileHealth::default();
        assert!(!health.observe(0.0, blank(6)));
        assert!(!health.observe(1.0, blank(0)));
        assert!(!health.observe(1.9, blank(0)));
        assert!(health.observe(2.0, blank(0)));
        assert!(health.failing());
    }

    #[test]
    fn slow_downloads_are_not_failures_until_they_stall() {
        let mut health = TileHealth::default();
        assert!(!health.observe(0.0, blank(6)));
        assert!(!health.observe(5.0, blank(6)));
        assert!(!health.observe(9.9, blank(6)));
        assert!(health.observe(10.0, blank(6)));
    }

    #[test]
    fn one_tile_shown_ends_it() {
        let mut health = TileHealth::default();
        health.observe(0.0, blank(0));
        assert!(health.observe(3.0, blank(0)));
        assert!(!health.observe(3.1, FrameTiles { requested: 12, shown: 1, in_progress: 0 }));
        assert!(!health.failing());
        // And the clock starts again from the next blank frame.
        assert!(!health.observe(4.0, blank(0)));
        assert!(!health.observe(5.9, blank(0)));
        assert!(health.observe(6.0, blank(0)));
    }

    #[test]
    fn no_verdict_without_requests() {
        let mut health = TileHealth::default();
        health.observe(0.0, blank(0));
        assert!(health.observe(2.5, blank(0)));
        assert!(!health.observe(3.0, FrameTiles::default()));
        health.observe(4.0, blank(0));
        health.reset();
        assert!(!health.failing());
        assert!(!health.observe(5.0, blank(0)));
    }

    /// Every tile missing, as with no network.
    struct Missing;

    impl Tiles for Missing {
        fn at(&mut self, _tile_id: TileId) -> Option<TilePiece> {
            None
        }
        fn attribution(&self) -> Attribution {
            Attribution { text: "", url: "", logo_light: None, logo_dark: None }
        }
        fn tile_size(&self) -> u32 {
            256
        }
    }

    #[test]
    fn watched_counts_requests() {
        let mut frame = FrameTiles::default();
        let mut inner = Missing;
        let mut watched = Watched { inner: &mut inner, frame: &mut frame };
        assert!(watched.at(TileId { x: 0, y: 0, zoom: 0 }).is_none());
        assert!(watched.at(TileId { x: 1, y: 0, zoom: 1 }).is_none());
        assert_eq!(frame, FrameTiles { requested: 2, shown: 0, in_progress: 0 });
    }
}
