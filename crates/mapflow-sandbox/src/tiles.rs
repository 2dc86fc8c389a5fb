//! Encoded imagery tiles, rendered on demand and kept in a small bounded cache, since a
//! map view asks for the same tiles again and again while panning.

use std::num::NonZeroUsize;
use std::sync::Mutex;

use axum::body::Bytes;
use lru::LruCache;

use super::imagery;

/// How many encoded tiles are kept (about 100 KB each).
const CACHE_TILES: NonZeroUsize = NonZeroUsize::new(256).expect("not zero");

/// A tile's address: provider, z, x, y.
type TileKey = (String, u8, u32, u32);

/// Encoded PNG tiles by address, the oldest evicted first (reading one does not renew it).
pub(crate) struct TileCache {
    tiles: Mutex<LruCache<TileKey, Bytes>>,
}

impl Default for TileCache {
    fn default() -> Self {
        Self { tiles: Mutex::new(LruCache::new(CACHE_TILES)) }
    }
}

impl TileCache {
    /// The PNG of tile (z, x, y) of `provider`, from the cache or freshly rendered.
    /// Blocking (a few milliseconds): call it off the async workers.
    pub fn png(&self, provider: &str, z: u8, x: u32, y: u32) -> Result<Bytes, image::ImageError> {
        let key = (provider.to_owned(), z, x, y);
        if let Some(png) = self.lock().peek(&key) {
            return Ok(png.clone());
        }
        let png = Bytes::from(imagery::encode_png(&imagery::render_tile(provider, z, x, y))?);
        let mut tiles = self.lock();
        if !tiles.contains(&key) {
            tiles.put(key, png.clone());
        }
        Ok(png)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LruCache<TileKey, Bytes>> {
        self.tiles.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Parses the `{z}/{x}/{y}.png` part of a tile path; `None` when it names no tile.
pub(crate) fn parse_tile(z: &str, x: &str, y: &str) -> Option<(u8, u32, u32)> {
    let y = y.strip_suffix(".png").unwrap_or(y);
    let z: u8 = z.parse().ok()?;
    if z > imagery::MAX_ZOOM {
        return None;
    }
    let (x, y): (u32, u32) = (x.parse().ok()?, y.parse().ok()?);
    let n = 1u64 << z;
    (u64::from(x) < n && u64::from(y) < n).then_some((z, x, y))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tile_paths() {
        assert_eq!(parse_tile("3", "7", "0.png"), Some((3, 7, 0)));
        assert_eq!(parse_tile("3", "8", "0.png"), None);
        assert_eq!(parse_tile("0", "0", "0"), Some((0, 0, 0)));
        assert_eq!(parse_tile("25", "0", "0.png"), None);
        assert_eq!(parse_tile("a", "0", "0.png"), None);
    }
}
