//! The test GeoTIFF of the tests and benches: a recognisable pattern in `bands` uint8
//! bands, written by the app's own writer (`imagery::tiff_writer`). Shared with
//! `#[path = "common/test_geotiff.rs"] mod test_geotiff;` (and by the library's unit tests).

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use mapflow_geo::imagery::tiff_writer::{Grid, write_geotiff};

/// The test pattern: band 0 a horizontal ramp, band 1 a vertical ramp, band 2 a
/// checkerboard of 32 px squares, further bands a diagonal ramp. Never 0 in band 2, so a
/// pixel is never black in all bands.
pub fn pattern(x: u32, y: u32, width: u32, height: u32, band: u16) -> u8 {
    match band {
        0 => (u64::from(x) * 255 / u64::from(width.max(2) - 1)) as u8,
        1 => (u64::from(y) * 255 / u64::from(height.max(2) - 1)) as u8,
        2 => {
            if ((x / 32) + (y / 32)).is_multiple_of(2) {
                220
            } else {
                60
            }
        }
        _ => ((x + y) % 256) as u8,
    }
}

/// Writes a georeferenced test/bench GeoTIFF: classic little-endian TIFF, uncompressed,
/// stripped, `bands` uint8 bands with a recognisable pattern (see the code), PixelIsArea.
/// Written strip by strip, so a 1 GiB file needs no more than a strip of memory.
///
/// `epsg` 4326, 3857 or a UTM code; `origin` the upper-left corner in CRS units;
/// `pixel_size` `[x, y]`, both > 0. `georef: false` writes a plain TIFF without GeoTIFF tags.
/// Fails with `InvalidInput` for a zero size, a bad pixel size or more than 4 GiB of data.
#[allow(clippy::too_many_arguments)] // one call site per test, each spelling out the grid
pub fn write_test_geotiff(
    path: &Path,
    width: u32,
    height: u32,
    bands: u16,
    epsg: u32,
    origin: [f64; 2],
    pixel_size: [f64; 2],
    georef: bool,
) -> std::io::Result<()> {
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path)?);
    let grid = Grid { width, height, bands, epsg, origin, pixel_size, georef };
    write_geotiff(&mut out, &grid, |x, y, band| pattern(x, y, width, height, band))?;
    out.into_inner().map_err(|e| e.into_error())?.sync_all()
}
