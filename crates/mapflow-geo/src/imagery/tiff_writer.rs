//! Writing GeoTIFFs: classic little-endian TIFF, uncompressed, stripped, uint8 bands,
//! georeferenced by ModelPixelScale, ModelTiepoint and three GeoKeys. In production for
//! imagery the sandbox draws itself (the demo mosaic); tests and benches write their test
//! images with it too (`tests/common/test_geotiff.rs`).

use std::io::Write;

/// One IFD entry: tag, type, count and the value's bytes (little-endian).
pub(crate) struct Entry {
    pub(crate) tag: u16,
    pub(crate) kind: u16,
    pub(crate) count: u32,
    pub(crate) bytes: Vec<u8>,
}

impl Entry {
    pub(crate) fn shorts(tag: u16, values: &[u16]) -> Self {
        Self { tag, kind: 3, count: values.len() as u32, bytes: values.iter().flat_map(|v| v.to_le_bytes()).collect() }
    }
    pub(crate) fn longs(tag: u16, values: &[u32]) -> Self {
        Self { tag, kind: 4, count: values.len() as u32, bytes: values.iter().flat_map(|v| v.to_le_bytes()).collect() }
    }
    pub(crate) fn doubles(tag: u16, values: &[f64]) -> Self {
        Self { tag, kind: 12, count: values.len() as u32, bytes: values.iter().flat_map(|v| v.to_le_bytes()).collect() }
    }
}

fn invalid_input(message: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidInput, message.to_owned())
}

/// An RGB picture as a georeferenced GeoTIFF in memory, for imagery the sandbox draws
/// itself, such as its demo mosaic. `origin` is the upper-left corner in units of `epsg`.
pub fn encode_rgb_geotiff(
    picture: &image::RgbImage,
    epsg: u32,
    origin: [f64; 2],
    pixel_size: [f64; 2],
) -> std::io::Result<Vec<u8>> {
    let (width, height) = picture.dimensions();
    let grid = Grid { width, height, bands: 3, epsg, origin, pixel_size, georef: true };
    let mut out = std::io::Cursor::new(Vec::new());
    write_geotiff(&mut out, &grid, |x, y, band| picture.get_pixel(x, y)[usize::from(band)])?;
    Ok(out.into_inner())
}

/// The raster grid of a GeoTIFF to write.
#[derive(Debug, Clone, Copy)]
pub struct Grid {
    pub width: u32,
    pub height: u32,
    /// uint8 bands (samples per pixel).
    pub bands: u16,
    /// 4326, 3857 or a UTM code.
    pub epsg: u32,
    /// The upper-left corner in CRS units.
    pub origin: [f64; 2],
    /// `[x, y]`, both > 0.
    pub pixel_size: [f64; 2],
    /// `false` writes a plain TIFF without GeoTIFF tags.
    pub georef: bool,
}

/// Writes a classic little-endian, uncompressed, stripped uint8 GeoTIFF of `grid`
/// (PixelIsArea) whose samples are `sample(x, y, band)`, row by row, so a 1 GiB file needs
/// no more than a row of memory. Fails with `InvalidInput` for a zero size, a bad pixel
/// size or more than 4 GiB of data.
pub fn write_geotiff<W: Write>(out: &mut W, grid: &Grid, sample: impl Fn(u32, u32, u16) -> u8) -> std::io::Result<()> {
    let Grid { width, height, bands, epsg, origin, pixel_size, georef } = *grid;
    if width == 0 || height == 0 || bands == 0 {
        return Err(invalid_input("width, height and bands must be positive"));
    }
    if !(pixel_size[0] > 0.0 && pixel_size[1] > 0.0 && pixel_size.iter().all(|v| v.is_finite())) {
        return Err(invalid_input("the pixel size must be positive"));
    }
    let row_bytes = u64::from(width) * u64::from(bands);
    let data_bytes = row_bytes * u64::from(height);
    // Strips of at least 8 KiB (one row when rows are larger).
    let rows_per_strip = u32::try_from((8192 / row_bytes).clamp(1, u64::from(height))).unwrap_or(1);
    let strips = height.div_ceil(rows_per_strip);
    // Header, pixels, then the IFD and its values: all must fit 32-bit offsets.
    if data_bytes + u64::from(strips) * 8 + 4096 > u64::from(u32::MAX) {
        return Err(invalid_input("more than 4 GiB of pixels; classic TIFF cannot hold it"));
    }

    let data_start = 8u32;
    let ifd_offset = {
        let end = u64::from(data_start) + data_bytes;
        (end + end % 2) as u32
    };
    out.write_all(b"II")?;
    out.write_all(&42u16.to_le_bytes())?;
    out.write_all(&ifd_offset.to_le_bytes())?;

    let mut row = vec![0u8; row_bytes as usize];
    for y in 0..height {
        for (x, pixel) in row.chunks_exact_mut(usize::from(bands)).enumerate() {
            for (b, value) in pixel.iter_mut().enumerate() {
                *value = sample(x as u32, y, b as u16);
            }
        }
        out.write_all(&row)?;
    }
    if data_bytes % 2 == 1 {
        out.write_all(&[0])?;
    }

    let strip_offsets: Vec<u32> =
        (0..strips).map(|s| data_start + (u64::from(s) * u64::from(rows_per_strip) * row_bytes) as u32).collect();
    let strip_counts: Vec<u32> = (0..strips)
        .map(|s| {
            let rows = rows_per_strip.min(height - s * rows_per_strip);
            (u64::from(rows) * row_bytes) as u32
        })
        .collect();
    let colour = bands >= 3;
    let photometric_samples = if colour { 3 } else { 1 };
    let mut entries = vec![
        Entry::longs(256, &[width]),
        Entry::longs(257, &[height]),
        Entry::shorts(258, &vec![8; usize::from(bands)]),
        Entry::shorts(259, &[1]),
        Entry::shorts(262, &[if colour { 2 } else { 1 }]),
        Entry::longs(273, &strip_offsets),
        Entry::shorts(277, &[bands]),
        Entry::longs(278, &[rows_per_strip]),
        Entry::longs(279, &strip_counts),
        Entry::shorts(284, &[1]),
    ];
    if bands > photometric_samples {
        entries.push(Entry::shorts(338, &vec![0; usize::from(bands - photometric_samples)]));
    }
    entries.push(Entry::shorts(339, &vec![1; usize::from(bands)]));
    if georef {
        let geographic = epsg == 4326 || (4000..5000).contains(&epsg);
        // Version 1.1.0, 3 keys: model type, raster type (PixelIsArea), the CRS.
        let crs_key = if geographic { 2048 } else { 3072 };
        let model = if geographic { 2 } else { 1 };
        let epsg16 = u16::try_from(epsg).map_err(|_| invalid_input("the EPSG code does not fit a GeoKey"))?;
        entries.push(Entry::doubles(33550, &[pixel_size[0], pixel_size[1], 0.0]));
        entries.push(Entry::doubles(33922, &[0.0, 0.0, 0.0, origin[0], origin[1], 0.0]));
        entries.push(Entry::shorts(34735, &[1, 1, 0, 3, 1024, 0, 1, model, 1025, 0, 1, 1, crs_key, 0, 1, epsg16]));
    }

    // The IFD: count, 12-byte entries, next-IFD 0; values over 4 bytes follow it.
    let ifd_len = 2 + 12 * entries.len() as u32 + 4;
    let mut value_offset = ifd_offset + ifd_len;
    let mut tail = Vec::new();
    out.write_all(&(entries.len() as u16).to_le_bytes())?;
    for e in &entries {
        out.write_all(&e.tag.to_le_bytes())?;
        out.write_all(&e.kind.to_le_bytes())?;
        out.write_all(&e.count.to_le_bytes())?;
        if e.bytes.len() <= 4 {
            let mut inline = [0u8; 4];
            inline[..e.bytes.len()].copy_from_slice(&e.bytes);
            out.write_all(&inline)?;
        } else {
            out.write_all(&value_offset.to_le_bytes())?;
            tail.extend_from_slice(&e.bytes);
            if tail.len() % 2 == 1 {
                tail.push(0);
            }
            value_offset = ifd_offset + ifd_len + tail.len() as u32;
        }
    }
    out.write_all(&0u32.to_le_bytes())?;
    out.write_all(&tail)?;
    out.flush()
}
