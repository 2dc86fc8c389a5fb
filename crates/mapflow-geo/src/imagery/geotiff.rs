//! GeoTIFF essentials: the raster properties and georeferencing of a file (read from its
//! tags only, so a 1 GiB file answers in milliseconds), its footprint in lon/lat, a
//! decimated RGBA preview. Writing GeoTIFFs is [`super::tiff_writer`]'s.
//!
//! Shared by the sandbox (which checks and describes uploads like the real service) and
//! the app (which checks a file locally before uploading it), so both judge a file the
//! same way. Supported coordinate systems: EPSG:4326, EPSG:3857 and WGS 84 / UTM
//! (EPSG:326xx north, 327xx south); others read fine but have no footprint.

use std::collections::HashMap;
use std::collections::hash_map::Entry as MapEntry;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use geo_types::{Coord, LineString, MultiPolygon, Polygon};
use serde::{Deserialize, Serialize};
use tiff::decoder::{ChunkType, Decoder, DecodingResult, Limits};
use tiff::tags::Tag;
use tiff::{TiffError, TiffFormatError};

/// What the service reports about a raster: size, bands, sample types and georeferencing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GeoTiffInfo {
    pub width: u32,
    pub height: u32,
    /// Band (sample) count.
    pub bands: u16,
    /// One data type per band, as numpy/rasterio name them: `"uint8"`, `"uint16"`, `"float32"`…
    pub dtypes: Vec<String>,
    /// The GDAL no-data value, when the file declares one.
    pub nodata: Option<f64>,
    /// The EPSG code of the file's CRS; `None` for a user-defined or missing CRS.
    pub epsg: Option<u32>,
    /// Pixel size `[x, y]` in CRS units, both positive.
    pub pixel_size: [f64; 2],
    /// The affine transform in GDAL order: `[x0, dx/dcol, dx/drow, y0, dy/dcol, dy/drow]`,
    /// mapping pixel corner coordinates (col, row) to CRS coordinates.
    pub geotransform: [f64; 6],
}

/// Why a file is not a usable GeoTIFF.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GeoTiffError {
    #[error("empty file")]
    Empty,
    #[error("not a TIFF")]
    NotTiff,
    #[error("no georeferencing")]
    NotGeoreferenced,
    #[error("no CRS")]
    NoCrs,
    #[error("unsupported CRS EPSG:{0}")]
    UnsupportedCrs(u32),
    #[error("{0}")]
    Io(String),
    #[error("{0}")]
    Decode(String),
}

impl From<std::io::Error> for GeoTiffError {
    fn from(e: std::io::Error) -> Self {
        Self::Io(e.to_string())
    }
}

impl From<TiffError> for GeoTiffError {
    fn from(e: TiffError) -> Self {
        match e {
            TiffError::FormatError(TiffFormatError::TiffSignatureNotFound | TiffFormatError::TiffSignatureInvalid) => {
                Self::NotTiff
            }
            TiffError::IoError(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                Self::Decode("the file is truncated".to_owned())
            }
            TiffError::IoError(e) => Self::Io(e.to_string()),
            other => Self::Decode(other.to_string()),
        }
    }
}

impl GeoTiffInfo {
    /// The CRS as the Data API names it, `"EPSG:32637"`.
    pub fn crs_name(&self) -> Option<String> {
        self.epsg.map(|code| format!("EPSG:{code}"))
    }

    /// The CRS coordinates of the pixel position (col, row), corners being integers.
    pub fn pixel_to_crs(&self, col: f64, row: f64) -> (f64, f64) {
        let g = &self.geotransform;
        (g[0] + col * g[1] + row * g[2], g[3] + col * g[4] + row * g[5])
    }

    /// The pixel position (col, row) of CRS coordinates; `None` for a degenerate transform.
    pub fn crs_to_pixel(&self, x: f64, y: f64) -> Option<(f64, f64)> {
        let g = &self.geotransform;
        let det = g[1] * g[5] - g[2] * g[4];
        if det == 0.0 || !det.is_finite() {
            return None;
        }
        let (dx, dy) = (x - g[0], y - g[3]);
        Some(((dx * g[5] - dy * g[2]) / det, (dy * g[1] - dx * g[4]) / det))
    }
}

/// Tags read with generous limits: large strip/tile offset arrays are fine, pixel data is
/// never read by [`read_info`].
fn limits() -> Limits {
    let mut limits = Limits::default();
    limits.ifd_value_size = 64 * 1024 * 1024;
    limits
}

/// Most samples (bands) per pixel a file may declare: imagery has a handful of bands, and
/// the count multiplies every buffer a reader needs.
pub const MAX_SAMPLES_PER_PIXEL: u16 = 16;
/// The sample sizes in bits a file may declare.
pub const SUPPORTED_BITS_PER_SAMPLE: [u16; 4] = [8, 16, 32, 64];
/// Most bytes one row of pixels (all samples) may take: a reader buffers a row at once.
pub const MAX_ROW_BYTES: u64 = 64 * 1024 * 1024;
/// Most bytes the whole image may take uncompressed.
pub const MAX_IMAGE_BYTES: u64 = 64 * 1024 * 1024 * 1024;
/// Most bytes of one decoded strip or tile, and of one row of them a preview keeps at once.
pub const MAX_CHUNK_BYTES: u64 = 256 * 1024 * 1024;

/// Checks the sizes a header declares before anything is allocated from them: positive
/// sides, at most [`MAX_SAMPLES_PER_PIXEL`] samples, bits per sample among
/// [`SUPPORTED_BITS_PER_SAMPLE`], a row within [`MAX_ROW_BYTES`] and the image within
/// [`MAX_IMAGE_BYTES`]. A crafted header of a few bytes may declare terabytes.
pub fn check_declared_size(width: u32, height: u32, samples: u16, bits: &[u16]) -> Result<(), GeoTiffError> {
    if width == 0 || height == 0 {
        return Err(GeoTiffError::Decode(format!("the image declares {width} × {height} pixels")));
    }
    if samples == 0 || samples > MAX_SAMPLES_PER_PIXEL {
        return Err(GeoTiffError::Decode(format!(
            "the image declares {samples} samples per pixel; at most {MAX_SAMPLES_PER_PIXEL} are supported"
        )));
    }
    if bits.is_empty() || (bits.len() != 1 && bits.len() != usize::from(samples)) {
        return Err(GeoTiffError::Decode(format!(
            "the image declares {} bits-per-sample values for {samples} samples",
            bits.len()
        )));
    }
    if let Some(bad) = bits.iter().find(|b| !SUPPORTED_BITS_PER_SAMPLE.contains(b)) {
        return Err(GeoTiffError::Decode(format!("{bad}-bit samples are not supported")));
    }
    let pixel_bits: u64 = if bits.len() == 1 {
        u64::from(bits[0]) * u64::from(samples)
    } else {
        bits.iter().map(|b| u64::from(*b)).sum()
    };
    let row = u64::from(width) * pixel_bits / 8;
    if row > MAX_ROW_BYTES {
        return Err(GeoTiffError::Decode(format!(
            "a row of the image declares {row} bytes; at most {MAX_ROW_BYTES} are supported"
        )));
    }
    let total = row * u64::from(height);
    if total > MAX_IMAGE_BYTES {
        return Err(GeoTiffError::Decode(format!(
            "the image declares {total} bytes of pixels; at most {MAX_IMAGE_BYTES} are supported"
        )));
    }
    Ok(())
}

/// The sizes of the decoder's current image checked by [`check_declared_size`].
fn check_current_size<R: Read + Seek>(decoder: &mut Decoder<R>) -> Result<(u32, u32, u16, Vec<u16>), GeoTiffError> {
    let (width, height) = decoder.dimensions()?;
    let samples: u16 = decoder.find_tag_unsigned(Tag::SamplesPerPixel)?.unwrap_or(1);
    let bits: Vec<u16> = decoder.find_tag_unsigned_vec(Tag::BitsPerSample)?.unwrap_or_else(|| vec![1]);
    check_declared_size(width, height, samples, &bits)?;
    Ok((width, height, samples, bits))
}

/// Checks that the strips or tiles of the decoder's current image are all there and inside
/// the file of `file_len` bytes: as many offsets and byte counts as the sizes need, each
/// chunk within the file, an uncompressed chunk as long as its pixels, a decoded chunk
/// (and a row of them) within [`MAX_CHUNK_BYTES`]. Catches truncated and inconsistent
/// files when they arrive instead of when their pixels are first read.
fn check_chunks<R: Read + Seek>(
    decoder: &mut Decoder<R>,
    file_len: u64,
    (width, height, samples, bits): (u32, u32, u16, Vec<u16>),
) -> Result<(), GeoTiffError> {
    let broken = |why: String| Err(GeoTiffError::Decode(why));
    let bytes_per_sample = u64::from(bits[0] / 8);
    let planar = decoder.find_tag_unsigned::<u16>(Tag::PlanarConfiguration)?.unwrap_or(1) == 2;
    let compression = decoder.find_tag_unsigned::<u16>(Tag::Compression)?.unwrap_or(1);
    let (offsets_tag, counts_tag, chunk_w, chunk_h) = match decoder.get_chunk_type() {
        ChunkType::Tile => {
            let tw: u32 = decoder.find_tag_unsigned(Tag::TileWidth)?.unwrap_or(0);
            let th: u32 = decoder.find_tag_unsigned(Tag::TileLength)?.unwrap_or(0);
            (Tag::TileOffsets, Tag::TileByteCounts, tw, th)
        }
        ChunkType::Strip => {
            let rows: u32 = decoder.find_tag_unsigned(Tag::RowsPerStrip)?.unwrap_or(height);
            (Tag::StripOffsets, Tag::StripByteCounts, width, rows.clamp(1, height))
        }
    };
    if chunk_w == 0 || chunk_h == 0 {
        return broken(format!("the image declares {chunk_w} × {chunk_h} pixel tiles"));
    }
    let (across, down) = (u64::from(width.div_ceil(chunk_w)), u64::from(height.div_ceil(chunk_h)));
    let planes = if planar { u64::from(samples) } else { 1 };
    let samples_in_chunk = if planar { 1 } else { u64::from(samples) };
    let chunk_bytes = u64::from(chunk_w) * u64::from(chunk_h) * samples_in_chunk * bytes_per_sample;
    // A preview keeps a row of chunks of up to four planes (red, green, blue, alpha).
    if chunk_bytes * across * planes.min(4) > MAX_CHUNK_BYTES {
        return broken(format!("a row of strips or tiles declares more than {MAX_CHUNK_BYTES} bytes"));
    }
    let expected = across * down * planes;
    let offsets: Vec<u64> = decoder.find_tag_unsigned_vec(offsets_tag)?.unwrap_or_default();
    let counts: Vec<u64> = decoder.find_tag_unsigned_vec(counts_tag)?.unwrap_or_default();
    if (offsets.len() as u64) < expected || (counts.len() as u64) < expected {
        return broken(format!(
            "the image needs {expected} strips or tiles but lists {} offsets and {} byte counts",
            offsets.len(),
            counts.len()
        ));
    }
    for (i, (&offset, &count)) in offsets.iter().zip(&counts).take(expected as usize).enumerate() {
        if offset.checked_add(count).is_none_or(|end| end > file_len) {
            return broken(format!(
                "strip or tile {i} ({count} bytes at {offset}) lies beyond the end of the file ({file_len} bytes)"
            ));
        }
        if compression == 1 {
            // The last strip may hold fewer rows; tiles are always whole.
            let rows = match decoder.get_chunk_type() {
                ChunkType::Strip => {
                    let strip = i as u64 % down;
                    u64::from(chunk_h).min(u64::from(height) - strip * u64::from(chunk_h))
                }
                ChunkType::Tile => u64::from(chunk_h),
            };
            let needed = u64::from(chunk_w) * rows * samples_in_chunk * bytes_per_sample;
            if count < needed {
                return broken(format!("strip or tile {i} holds {count} bytes of the {needed} its pixels need"));
            }
        }
    }
    Ok(())
}

/// [`limits`] for reading pixels: a decoded strip or tile within [`MAX_CHUNK_BYTES`].
fn pixel_limits() -> Limits {
    let mut limits = limits();
    limits.decoding_buffer_size = MAX_CHUNK_BYTES as usize;
    limits
}

/// Checks the TIFF signature (and whether there is anything at all), then rewinds.
fn check_signature<R: Read + Seek>(reader: &mut R) -> Result<(), GeoTiffError> {
    let mut head = [0u8; 4];
    let mut n = 0;
    while n < head.len() {
        match reader.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    if n == 0 {
        return Err(GeoTiffError::Empty);
    }
    let magic_ok = matches!(&head[..n.min(4)], [b'I', b'I', 42 | 43, 0] | [b'M', b'M', 0, 42 | 43]);
    if !magic_ok {
        return Err(GeoTiffError::NotTiff);
    }
    reader.seek(SeekFrom::Start(0))?;
    Ok(())
}

/// Reads the raster properties and georeferencing of the first image from its tags only;
/// no pixel data is read, so it is fast on any file size.
///
/// Errors: [`GeoTiffError::Empty`], [`GeoTiffError::NotTiff`], [`GeoTiffError::Decode`] for
/// a broken TIFF (also one declaring sizes beyond [`check_declared_size`], or whose strips
/// or tiles are missing or lie beyond the end of the file), [`GeoTiffError::NotGeoreferenced`]
/// for a TIFF without a geotransform. A
/// geotransform without an EPSG code reads fine, with `epsg: None`.
pub fn read_info<R: Read + Seek>(mut reader: R) -> Result<GeoTiffInfo, GeoTiffError> {
    check_signature(&mut reader)?;
    let file_len = reader.seek(SeekFrom::End(0))?;
    reader.seek(SeekFrom::Start(0))?;
    let mut decoder = Decoder::new(reader)?.with_limits(limits());
    let sizes = check_current_size(&mut decoder)?;
    let (width, height, bands, bits) = sizes.clone();
    check_chunks(&mut decoder, file_len, sizes)?;
    let formats: Vec<u16> = decoder.find_tag_unsigned_vec(Tag::SampleFormat)?.unwrap_or_else(|| vec![1]);
    let dtypes = (0..usize::from(bands))
        .map(|b| {
            let bits = bits.get(b).or(bits.first()).copied().unwrap_or(1);
            let format = formats.get(b).or(formats.first()).copied().unwrap_or(1);
            dtype_name(format, bits)
        })
        .collect();
    let nodata = match decoder.find_tag(Tag::GdalNodata) {
        Ok(Some(value)) => value.into_string().ok().and_then(|s| parse_nodata(&s)),
        _ => None,
    };

    let f64s = |decoder: &mut Decoder<R>, tag: Tag| -> Result<Option<Vec<f64>>, GeoTiffError> {
        Ok(decoder.find_tag(tag)?.map(|v| v.into_f64_vec()).transpose()?)
    };
    let scale = f64s(&mut decoder, Tag::ModelPixelScaleTag)?;
    let tiepoints = f64s(&mut decoder, Tag::ModelTiepointTag)?;
    let transformation = f64s(&mut decoder, Tag::ModelTransformationTag)?;
    let keys: Vec<u16> = decoder.find_tag_unsigned_vec(Tag::GeoKeyDirectoryTag)?.unwrap_or_default();
    let keys = GeoKeys::parse(&keys);

    let mut geotransform = match (&transformation, &scale, &tiepoints) {
        (Some(m), _, _) if m.len() >= 8 => [m[3], m[0], m[1], m[7], m[4], m[5]],
        (_, Some(s), Some(t)) if s.len() >= 2 && t.len() >= 6 => {
            let (sx, sy) = (s[0], s[1]);
            [t[3] - t[0] * sx, sx, 0.0, t[4] + t[1] * sy, 0.0, -sy]
        }
        _ => return Err(GeoTiffError::NotGeoreferenced),
    };
    if !geotransform.iter().all(|v| v.is_finite())
        || geotransform[1] * geotransform[5] - geotransform[2] * geotransform[4] == 0.0
    {
        return Err(GeoTiffError::NotGeoreferenced);
    }
    // PixelIsPoint: the tie point names a pixel's centre; GDAL moves it to the corner.
    if keys.raster_type == Some(2) {
        geotransform[0] -= 0.5 * (geotransform[1] + geotransform[2]);
        geotransform[3] -= 0.5 * (geotransform[4] + geotransform[5]);
    }
    let pixel_size = [geotransform[1].hypot(geotransform[4]), geotransform[2].hypot(geotransform[5])];
    Ok(GeoTiffInfo { width, height, bands, dtypes, nodata, epsg: keys.epsg(), pixel_size, geotransform })
}

/// [`read_info`] of the file at `path`.
pub fn read_info_path(path: &Path) -> Result<GeoTiffInfo, GeoTiffError> {
    read_info(BufReader::new(File::open(path)?))
}

/// The numpy name of a sample type (TIFF SampleFormat and BitsPerSample).
fn dtype_name(format: u16, bits: u16) -> String {
    let bits = if bits <= 8 { 8 } else { bits };
    match format {
        2 => format!("int{bits}"),
        3 => format!("float{bits}"),
        5 | 6 => format!("complex{}", bits * 2),
        _ => format!("uint{bits}"),
    }
}

/// GDAL writes the no-data value as text, sometimes NUL-terminated or `nan`.
fn parse_nodata(text: &str) -> Option<f64> {
    let t = text.trim_matches(|c: char| c == '\0' || c.is_whitespace());
    if t.eq_ignore_ascii_case("nan") { Some(f64::NAN) } else { t.parse().ok() }
}

/// The GeoKeys that matter here.
#[derive(Debug, Default)]
struct GeoKeys {
    model_type: Option<u16>,
    raster_type: Option<u16>,
    geographic: Option<u16>,
    projected: Option<u16>,
}

impl GeoKeys {
    /// Reads a GeoKeyDirectory: a header of four shorts (the last one the key count), then
    /// four shorts per key (id, location, count, value); only keys stored inline are used.
    fn parse(dir: &[u16]) -> Self {
        let mut keys = Self::default();
        let Some(&count) = dir.get(3) else { return keys };
        for entry in dir[4..].chunks_exact(4).take(usize::from(count)) {
            let (id, location, value) = (entry[0], entry[1], entry[3]);
            if location != 0 {
                continue;
            }
            match id {
                1024 => keys.model_type = Some(value),
                1025 => keys.raster_type = Some(value),
                2048 => keys.geographic = Some(value),
                3072 => keys.projected = Some(value),
                _ => {}
            }
        }
        keys
    }

    /// The EPSG code: the projected CRS, else the geographic one (32767 is user-defined).
    fn epsg(&self) -> Option<u32> {
        let valid = |v: Option<u16>| v.filter(|&c| c != 0 && c != 32767).map(u32::from);
        match self.model_type {
            Some(2) => valid(self.geographic),
            Some(1) => valid(self.projected),
            _ => valid(self.projected).or(valid(self.geographic)),
        }
    }
}

/// Converts between a supported CRS and lon/lat degrees (WGS 84).
pub struct CrsTransform {
    kind: CrsKind,
}

enum CrsKind {
    LonLat,
    WebMercator,
    Proj { crs: Box<proj4rs::Proj>, lonlat: Box<proj4rs::Proj> },
}

impl CrsTransform {
    /// The transform of EPSG `epsg`: 4326, 3857 (and its old aliases 900913, 3785) and
    /// WGS 84 / UTM (32601–32660, 32701–32760).
    pub fn from_epsg(epsg: u32) -> Result<Self, GeoTiffError> {
        let kind = match epsg {
            4326 => CrsKind::LonLat,
            3857 | 3785 | 900_913 => CrsKind::WebMercator,
            32601..=32660 | 32701..=32760 => {
                let zone = epsg % 100;
                let south = if epsg >= 32701 { " +south" } else { "" };
                let def = format!("+proj=utm +zone={zone} +datum=WGS84{south} +units=m +no_defs");
                let proj =
                    |s: &str| proj4rs::Proj::from_proj_string(s).map_err(|e| GeoTiffError::Decode(e.to_string()));
                CrsKind::Proj {
                    crs: Box::new(proj(&def)?),
                    lonlat: Box::new(proj("+proj=longlat +datum=WGS84 +no_defs")?),
                }
            }
            other => return Err(GeoTiffError::UnsupportedCrs(other)),
        };
        Ok(Self { kind })
    }

    /// CRS coordinates to (lon, lat) degrees.
    pub fn to_lonlat(&self, x: f64, y: f64) -> Result<(f64, f64), GeoTiffError> {
        match &self.kind {
            CrsKind::LonLat => Ok((x, y)),
            CrsKind::WebMercator => Ok(crate::mercator::metres_to_lon_lat(x, y)),
            CrsKind::Proj { crs, lonlat } => {
                let mut p = (x, y, 0.0);
                proj4rs::transform::transform(crs, lonlat, &mut p).map_err(|e| GeoTiffError::Decode(e.to_string()))?;
                Ok((p.0.to_degrees(), p.1.to_degrees()))
            }
        }
    }

    /// (lon, lat) degrees to CRS coordinates.
    pub fn from_lonlat(&self, lon: f64, lat: f64) -> Result<(f64, f64), GeoTiffError> {
        match &self.kind {
            CrsKind::LonLat => Ok((lon, lat)),
            CrsKind::WebMercator => Ok(crate::mercator::lon_lat_to_metres(lon, lat)),
            CrsKind::Proj { crs, lonlat } => {
                let mut p = (lon.to_radians(), lat.to_radians(), 0.0);
                proj4rs::transform::transform(lonlat, crs, &mut p).map_err(|e| GeoTiffError::Decode(e.to_string()))?;
                Ok((p.0, p.1))
            }
        }
    }
}

/// Points per image edge in a footprint (corners included), so that a footprint
/// reprojected from a projected CRS follows the edges' curvature in lon/lat.
const EDGE_POINTS: u32 = 16;

/// The footprint in lon/lat: the corners and points along the edges (16 per edge),
/// reprojected from the file's CRS; counter-clockwise, starting at the upper-left corner.
pub fn footprint_lonlat(info: &GeoTiffInfo) -> Result<Polygon<f64>, GeoTiffError> {
    let epsg = info.epsg.ok_or(GeoTiffError::NoCrs)?;
    let crs = CrsTransform::from_epsg(epsg)?;
    let (w, h) = (f64::from(info.width), f64::from(info.height));
    // Upper-left → lower-left → lower-right → upper-right: counter-clockwise with north up.
    let corners = [(0.0, 0.0), (0.0, h), (w, h), (w, 0.0)];
    let mut ring = Vec::with_capacity(4 * EDGE_POINTS as usize + 1);
    for (k, &(c0, r0)) in corners.iter().enumerate() {
        let (c1, r1) = corners[(k + 1) % 4];
        for i in 0..EDGE_POINTS {
            let t = f64::from(i) / f64::from(EDGE_POINTS);
            let (x, y) = info.pixel_to_crs(c0 + (c1 - c0) * t, r0 + (r1 - r0) * t);
            let (lon, lat) = crs.to_lonlat(x, y)?;
            if !(lon.is_finite() && lat.is_finite()) {
                return Err(GeoTiffError::Decode(format!("cannot reproject ({x}, {y}) from EPSG:{epsg}")));
            }
            ring.push(Coord { x: lon, y: lat });
        }
    }
    ring.push(ring[0]);
    Ok(Polygon::new(LineString::new(ring), Vec::new()))
}

/// The footprint as WKT, `MULTIPOLYGON (((lon lat, …)))`, with full precision.
pub fn footprint_wkt(info: &GeoTiffInfo) -> Result<String, GeoTiffError> {
    Ok(multipolygon_wkt(&MultiPolygon::new(vec![footprint_lonlat(info)?])))
}

/// A multipolygon as WKT with full (round-trip) precision; `MULTIPOLYGON EMPTY` when empty.
pub fn multipolygon_wkt(mp: &MultiPolygon<f64>) -> String {
    if mp.0.is_empty() {
        return "MULTIPOLYGON EMPTY".to_owned();
    }
    let ring = |ls: &LineString<f64>| {
        let points: Vec<String> = ls.0.iter().map(|c| format!("{} {}", c.x, c.y)).collect();
        format!("({})", points.join(", "))
    };
    let polygons: Vec<String> =
        mp.0.iter()
            .map(|p| {
                let rings: Vec<String> = std::iter::once(p.exterior()).chain(p.interiors()).map(ring).collect();
                format!("({})", rings.join(", "))
            })
            .collect();
    format!("MULTIPOLYGON ({})", polygons.join(", "))
}

// ---- Previews ----

/// The numeric kind of the samples.
#[derive(Debug, Clone, Copy, PartialEq)]
enum SampleKind {
    Uint,
    Int,
    Float,
}

/// How the pixels of the first image are laid out.
struct Layout {
    width: u32,
    height: u32,
    samples: usize,
    bytes_per_sample: usize,
    kind: SampleKind,
    little_endian: bool,
    planar: bool,
    tiled: bool,
    uncompressed: bool,
    /// Sample indices shown as red, green, blue (all 0 for one band).
    rgb: [usize; 3],
    alpha: Option<usize>,
    nodata: Option<f64>,
}

/// Reads an RGBA thumbnail of at most `max_side` pixels per side (never upscaled) by
/// decimation: only the rows (and, for tiled or compressed files, the chunks) needed are
/// read. Three or more bands show as RGB (a declared alpha band as alpha), one or two as
/// grey; no-data pixels are transparent. 8-bit samples are shown as they are; other types
/// are stretched per band between the 2nd and 98th percentiles of the sampled values.
pub fn read_preview(path: &Path, max_side: u32) -> Result<image::RgbaImage, GeoTiffError> {
    let file = File::open(path)?;
    let file_len = file.metadata()?.len();
    read_preview_from(BufReader::new(file), file_len, max_side)
}

/// [`read_preview`] of a file already open (or in memory), `file_len` bytes long.
pub fn read_preview_from<R: Read + Seek>(
    mut file: R,
    file_len: u64,
    max_side: u32,
) -> Result<image::RgbaImage, GeoTiffError> {
    check_signature(&mut file)?;
    let mut order = [0u8; 2];
    file.read_exact(&mut order)?;
    file.seek(SeekFrom::Start(0))?;
    let info = read_info(&mut file).ok();
    file.seek(SeekFrom::Start(0))?;
    let mut decoder = Decoder::new(file)?.with_limits(pixel_limits());
    let (full_w, full_h) = decoder.dimensions()?;
    let max_side = max_side.max(1);
    let longest = full_w.max(full_h);
    let (out_w, out_h) = if longest <= max_side {
        (full_w, full_h)
    } else {
        let scale = f64::from(longest) / f64::from(max_side);
        (
            ((f64::from(full_w) / scale).round() as u32).clamp(1, max_side),
            ((f64::from(full_h) / scale).round() as u32).clamp(1, max_side),
        )
    };
    seek_to_overview(&mut decoder, out_w.max(out_h))?;
    // Every size that sizes a buffer below comes from the header: check them all first.
    let sizes = check_current_size(&mut decoder)?;
    check_chunks(&mut decoder, file_len, sizes)?;
    let layout = layout(&mut decoder, order == *b"II", info.as_ref().and_then(|i| i.nodata))?;
    let cols: Vec<u32> = (0..out_w)
        .map(|ox| ((u64::from(ox) * 2 + 1) * u64::from(layout.width) / (2 * u64::from(out_w))) as u32)
        .collect();

    // The wanted samples (r, g, b, alpha) of every output pixel, as f64.
    let wanted: Vec<usize> = layout.rgb.iter().copied().chain(layout.alpha).collect();
    let per_pixel = wanted.len();
    let mut values = vec![0f64; out_w as usize * out_h as usize * per_pixel];
    let mut reader = RowReader::new();
    for oy in 0..out_h {
        let sy = ((u64::from(oy) * 2 + 1) * u64::from(layout.height) / (2 * u64::from(out_h))) as u32;
        let start = oy as usize * out_w as usize * per_pixel;
        reader.read_row(
            &mut decoder,
            &layout,
            sy,
            &cols,
            &wanted,
            &mut values[start..start + out_w as usize * per_pixel],
        )?;
    }
    Ok(to_rgba(&layout, out_w, out_h, &values, per_pixel))
}

/// Moves the decoder to the smallest reduced-resolution image (a COG overview) whose
/// longest side is still at least `side`, so a preview of a large file reads little; stays
/// on the full image when there is none.
fn seek_to_overview<R: Read + Seek>(decoder: &mut Decoder<R>, side: u32) -> Result<(), GeoTiffError> {
    let samples = decoder.find_tag_unsigned::<u16>(Tag::SamplesPerPixel)?.unwrap_or(1);
    let (mut best, mut best_side) = (0usize, decoder.dimensions().map(|(w, h)| w.max(h))?);
    let mut index = 0usize;
    // A damaged later IFD only means no overview.
    while decoder.more_images() && index < 32 {
        if decoder.next_image().is_err() {
            break;
        }
        index += 1;
        let subfile = decoder.find_tag_unsigned::<u32>(Tag::NewSubfileType).ok().flatten().unwrap_or(0);
        let same_samples =
            decoder.find_tag_unsigned::<u16>(Tag::SamplesPerPixel).ok().flatten().unwrap_or(1) == samples;
        let longest = decoder.dimensions().map(|(w, h)| w.max(h)).unwrap_or(0);
        // Reduced resolution (bit 0), not a transparency mask (bit 2).
        if subfile & 1 == 1 && subfile & 4 == 0 && same_samples && longest >= side && longest < best_side {
            (best, best_side) = (index, longest);
        }
    }
    decoder.seek_to_image(best)?;
    Ok(())
}

/// The layout of the decoder's current image.
fn layout<R: Read + Seek>(
    decoder: &mut Decoder<R>,
    little_endian: bool,
    nodata: Option<f64>,
) -> Result<Layout, GeoTiffError> {
    let (width, height) = decoder.dimensions()?;
    let samples = usize::from(decoder.find_tag_unsigned::<u16>(Tag::SamplesPerPixel)?.unwrap_or(1).max(1));
    let bits: Vec<u16> = decoder.find_tag_unsigned_vec(Tag::BitsPerSample)?.unwrap_or_else(|| vec![1]);
    let bits = bits.first().copied().unwrap_or(1);
    if bits % 8 != 0 || bits == 0 || bits > 64 {
        return Err(GeoTiffError::Decode(format!("{bits}-bit samples are not supported for previews")));
    }
    let format: Vec<u16> = decoder.find_tag_unsigned_vec(Tag::SampleFormat)?.unwrap_or_else(|| vec![1]);
    let kind = match format.first().copied().unwrap_or(1) {
        2 => SampleKind::Int,
        3 => SampleKind::Float,
        1 | 4 => SampleKind::Uint,
        other => return Err(GeoTiffError::Decode(format!("sample format {other} is not supported for previews"))),
    };
    let extra: Vec<u16> = decoder.find_tag_unsigned_vec(Tag::ExtraSamples)?.unwrap_or_default();
    let photometric_samples = samples.saturating_sub(extra.len()).max(1);
    let alpha = extra.iter().position(|&e| e == 1 || e == 2).map(|i| photometric_samples + i).filter(|&i| i < samples);
    let rgb = if samples >= 3 { [0, 1, 2] } else { [0, 0, 0] };
    let planar = decoder.find_tag_unsigned::<u16>(Tag::PlanarConfiguration)?.unwrap_or(1) == 2;
    let compression = decoder.find_tag_unsigned::<u16>(Tag::Compression)?.unwrap_or(1);
    Ok(Layout {
        width,
        height,
        samples,
        bytes_per_sample: usize::from(bits / 8),
        kind,
        little_endian,
        planar,
        tiled: decoder.get_chunk_type() == ChunkType::Tile,
        uncompressed: compression == 1,
        rgb,
        alpha,
        nodata,
    })
}

/// Reads chosen samples of chosen pixels of a row: straight from the file for uncompressed
/// chunky strips, else through decoded chunks (the current row of chunks is cached).
struct RowReader {
    /// Uncompressed chunky strips: (strip offsets, rows per strip).
    direct: Option<(Vec<u64>, u32)>,
    row_buf: Vec<u8>,
    chunk_row: Option<u32>,
    chunks: HashMap<u32, (DecodingResult, u32)>,
}

impl RowReader {
    fn new() -> Self {
        Self { direct: None, row_buf: Vec::new(), chunk_row: None, chunks: HashMap::new() }
    }

    #[allow(clippy::too_many_arguments)]
    fn read_row<R: Read + Seek>(
        &mut self,
        decoder: &mut Decoder<R>,
        layout: &Layout,
        row: u32,
        cols: &[u32],
        wanted: &[usize],
        out: &mut [f64],
    ) -> Result<(), GeoTiffError> {
        if layout.uncompressed && !layout.tiled && !layout.planar {
            if self.direct.is_none() {
                let offsets: Vec<u64> = decoder.find_tag_unsigned_vec(Tag::StripOffsets)?.unwrap_or_default();
                let rows_per_strip = decoder
                    .find_tag_unsigned::<u32>(Tag::RowsPerStrip)?
                    .unwrap_or(layout.height)
                    .clamp(1, layout.height.max(1));
                self.direct = Some((offsets, rows_per_strip));
            }
            if let Some((offsets, rows_per_strip)) = &self.direct {
                let strip = (row / rows_per_strip) as usize;
                let offset =
                    *offsets.get(strip).ok_or_else(|| GeoTiffError::Decode("missing strip offset".to_owned()))?;
                let row_len = layout.width as usize * layout.samples * layout.bytes_per_sample;
                let at = offset + u64::from(row % rows_per_strip) * row_len as u64;
                self.row_buf.resize(row_len, 0);
                let inner = decoder.inner();
                inner.seek(SeekFrom::Start(at))?;
                inner.read_exact(&mut self.row_buf)?;
                for (pixel, &col) in out.chunks_exact_mut(wanted.len()).zip(cols) {
                    for (value, &band) in pixel.iter_mut().zip(wanted) {
                        let i = (col as usize * layout.samples + band) * layout.bytes_per_sample;
                        *value = decode_sample(
                            &self.row_buf[i..i + layout.bytes_per_sample],
                            layout.kind,
                            layout.little_endian,
                        );
                    }
                }
                return Ok(());
            }
        }

        let (chunk_w, chunk_h) = decoder.chunk_dimensions();
        let (chunk_w, chunk_h) = (chunk_w.max(1), chunk_h.max(1));
        let across = layout.width.div_ceil(chunk_w);
        let down = layout.height.div_ceil(chunk_h);
        let chunk_row = row / chunk_h;
        if self.chunk_row != Some(chunk_row) {
            self.chunks.clear();
            self.chunk_row = Some(chunk_row);
        }
        let in_chunk_row = (row % chunk_h) as usize;
        for (pixel, &col) in out.chunks_exact_mut(wanted.len()).zip(cols) {
            let chunk_col = col / chunk_w;
            let in_chunk_col = (col % chunk_w) as usize;
            for (value, &band) in pixel.iter_mut().zip(wanted) {
                let (plane, sample, samples_in_chunk) =
                    if layout.planar { (band as u32, 0, 1) } else { (0, band, layout.samples) };
                let index = plane * across * down + chunk_row * across + chunk_col;
                let (chunk, data_width) = match self.chunks.entry(index) {
                    MapEntry::Occupied(e) => e.into_mut(),
                    MapEntry::Vacant(e) => {
                        let data_width = decoder.chunk_data_dimensions(index).0;
                        e.insert((decoder.read_chunk(index)?, data_width))
                    }
                };
                let i = (in_chunk_row * *data_width as usize + in_chunk_col) * samples_in_chunk + sample;
                *value = sample_at(chunk, i);
            }
        }
        Ok(())
    }
}

/// One sample from raw bytes.
fn decode_sample(bytes: &[u8], kind: SampleKind, little_endian: bool) -> f64 {
    let mut b = [0u8; 8];
    let n = bytes.len().min(8);
    b[..n].copy_from_slice(&bytes[..n]);
    if !little_endian {
        b[..n].reverse();
    }
    let u = u64::from_le_bytes(b);
    match (kind, n) {
        (SampleKind::Uint, _) => u as f64,
        (SampleKind::Int, 1) => f64::from(u as u8 as i8),
        (SampleKind::Int, 2) => f64::from(u as u16 as i16),
        (SampleKind::Int, 4) => f64::from(u as u32 as i32),
        (SampleKind::Int, _) => u as i64 as f64,
        (SampleKind::Float, 4) => f64::from(f32::from_bits(u as u32)),
        (SampleKind::Float, 8) => f64::from_bits(u),
        (SampleKind::Float, _) => f64::NAN,
    }
}

/// Sample `i` of a decoded chunk (NaN when out of range).
fn sample_at(chunk: &DecodingResult, i: usize) -> f64 {
    fn get<T: Copy>(v: &[T], i: usize, f: impl Fn(T) -> f64) -> f64 {
        v.get(i).map_or(f64::NAN, |&x| f(x))
    }
    match chunk {
        DecodingResult::U8(v) => get(v, i, f64::from),
        DecodingResult::U16(v) => get(v, i, f64::from),
        DecodingResult::U32(v) => get(v, i, f64::from),
        DecodingResult::U64(v) => get(v, i, |x| x as f64),
        DecodingResult::F16(v) => get(v, i, |x| f64::from(x.to_f32())),
        DecodingResult::F32(v) => get(v, i, f64::from),
        DecodingResult::F64(v) => get(v, i, |x| x),
        DecodingResult::I8(v) => get(v, i, f64::from),
        DecodingResult::I16(v) => get(v, i, f64::from),
        DecodingResult::I32(v) => get(v, i, f64::from),
        DecodingResult::I64(v) => get(v, i, |x| x as f64),
    }
}

/// Turns the sampled values into RGBA: 8-bit as is, others stretched per band.
fn to_rgba(layout: &Layout, w: u32, h: u32, values: &[f64], per_pixel: usize) -> image::RgbaImage {
    let is_nodata = |v: f64| v.is_nan() || layout.nodata.is_some_and(|n| v == n || (n.is_nan() && v.is_nan()));
    let eight_bit = layout.bytes_per_sample == 1 && layout.kind == SampleKind::Uint;
    // Per wanted band: (low, high) for the stretch.
    let ranges: Vec<(f64, f64)> = (0..per_pixel)
        .map(|b| {
            if eight_bit {
                return (0.0, 255.0);
            }
            let mut band: Vec<f64> =
                values.chunks_exact(per_pixel).map(|p| p[b]).filter(|v| !is_nodata(*v) && v.is_finite()).collect();
            if band.is_empty() {
                return (0.0, 1.0);
            }
            band.sort_by(|a, b| a.total_cmp(b));
            let at = |q: f64| band[((band.len() - 1) as f64 * q).round() as usize];
            let (lo, hi) = (at(0.02), at(0.98));
            if hi > lo { (lo, hi) } else { (lo, lo + 1.0) }
        })
        .collect();
    let scale = |v: f64, (lo, hi): (f64, f64)| ((v - lo) / (hi - lo) * 255.0).round().clamp(0.0, 255.0) as u8;
    let mut img = image::RgbaImage::new(w, h);
    for (pixel, p) in img.pixels_mut().zip(values.chunks_exact(per_pixel)) {
        let colour = &p[..3];
        let transparent = colour.iter().all(|v| is_nodata(*v));
        let alpha = if transparent {
            0
        } else if layout.alpha.is_some() {
            // An alpha band is 0..max of its type: 8-bit as is, others stretched.
            scale(p[3], ranges[3])
        } else {
            255
        };
        *pixel =
            image::Rgba([scale(colour[0], ranges[0]), scale(colour[1], ranges[1]), scale(colour[2], ranges[2]), alpha]);
    }
    img
}

#[cfg(test)]
#[path = "../../../testkit/src/test_geotiff.rs"]
mod test_geotiff;

#[cfg(test)]
mod tests {
    use super::test_geotiff::{pattern, write_test_geotiff};
    use super::*;
    use crate::imagery::tiff_writer::Entry;

    fn tmp() -> tempfile::TempDir {
        tempfile::tempdir().expect("tempdir")
    }

    #[test]
    fn writes_and_reads_back_utm() {
        let dir = tmp();
        let path = dir.path().join("utm.tif");
        write_test_geotiff(&path, 300, 200, 3, 32637, [500_000.0, 6_200_000.0], [0.5, 0.5], true).expect("write");
        let info = read_info_path(&path).expect("info");
        assert_eq!((info.width, info.height, info.bands), (300, 200, 3));
        assert_eq!(info.dtypes, vec!["uint8"; 3]);
        assert_eq!(info.epsg, Some(32637));
        assert_eq!(info.pixel_size, [0.5, 0.5]);
        assert_eq!(info.geotransform, [500_000.0, 0.5, 0.0, 6_200_000.0, 0.0, -0.5]);
        assert_eq!(info.nodata, None);
        // Zone 37's central meridian is 39°E; x 500000 lies on it.
        let fp = footprint_lonlat(&info).expect("footprint");
        let first = fp.exterior().0[0];
        assert!((first.x - 39.0).abs() < 1e-9, "{first:?}");
        assert_eq!(fp.exterior().0.len(), 4 * EDGE_POINTS as usize + 1);
        let wkt = footprint_wkt(&info).expect("wkt");
        assert!(
            wkt.starts_with("MULTIPOLYGON (((") && wkt.ends_with(")))") && wkt.matches(", ").count() == 64,
            "{wkt}"
        );
    }

    #[test]
    fn geographic_footprint_is_exact() {
        let dir = tmp();
        let path = dir.path().join("ll.tif");
        write_test_geotiff(&path, 100, 50, 1, 4326, [37.5, 55.75], [0.0001, 0.0001], true).expect("write");
        let info = read_info_path(&path).expect("info");
        assert_eq!(info.epsg, Some(4326));
        let fp = footprint_lonlat(&info).expect("footprint");
        let ring = &fp.exterior().0;
        assert_eq!((ring[0].x, ring[0].y), (37.5, 55.75));
        let lower_right = ring[2 * EDGE_POINTS as usize];
        assert!((lower_right.x - 37.51).abs() < 1e-12 && (lower_right.y - 55.745).abs() < 1e-12, "{lower_right:?}");
    }

    #[test]
    fn refusals() {
        let dir = tmp();
        let empty = dir.path().join("empty.tif");
        std::fs::write(&empty, b"").expect("write");
        assert_eq!(read_info_path(&empty), Err(GeoTiffError::Empty));
        let text = dir.path().join("text.tif");
        std::fs::write(&text, b"hello, not a tiff").expect("write");
        assert_eq!(read_info_path(&text), Err(GeoTiffError::NotTiff));
        let plain = dir.path().join("plain.tif");
        write_test_geotiff(&plain, 10, 10, 3, 4326, [0.0, 0.0], [1.0, 1.0], false).expect("write");
        assert_eq!(read_info_path(&plain), Err(GeoTiffError::NotGeoreferenced));
        let truncated = dir.path().join("truncated.tif");
        std::fs::write(&truncated, b"II*\0\xff\xff\0\0").expect("write");
        assert!(matches!(read_info_path(&truncated), Err(GeoTiffError::Decode(_) | GeoTiffError::Io(_))));
        assert!(matches!(read_info_path(&dir.path().join("missing.tif")), Err(GeoTiffError::Io(_))));
        let info = GeoTiffInfo {
            width: 1,
            height: 1,
            bands: 1,
            dtypes: vec!["uint8".to_owned()],
            nodata: None,
            epsg: Some(2154),
            pixel_size: [1.0, 1.0],
            geotransform: [0.0, 1.0, 0.0, 0.0, 0.0, -1.0],
        };
        assert_eq!(footprint_lonlat(&info), Err(GeoTiffError::UnsupportedCrs(2154)));
        assert_eq!(footprint_lonlat(&GeoTiffInfo { epsg: None, ..info }), Err(GeoTiffError::NoCrs));
    }

    #[test]
    fn preview_is_decimated_pattern() {
        let dir = tmp();
        let path = dir.path().join("p.tif");
        write_test_geotiff(&path, 600, 300, 3, 32637, [500_000.0, 6_200_000.0], [1.0, 1.0], true).expect("write");
        let img = read_preview(&path, 256).expect("preview");
        assert_eq!((img.width(), img.height()), (256, 128));
        // Red ramps left to right, green top to bottom, all opaque.
        assert!(img.get_pixel(0, 0)[0] < 5 && img.get_pixel(255, 0)[0] > 250);
        assert!(img.get_pixel(0, 0)[1] < 5 && img.get_pixel(0, 127)[1] > 250);
        assert!(img.pixels().all(|p| p[3] == 255));
        // Small images are not upscaled; grey images are grey.
        let grey = dir.path().join("g.tif");
        write_test_geotiff(&grey, 40, 30, 1, 4326, [0.0, 0.0], [1.0, 1.0], true).expect("write");
        let img = read_preview(&grey, 1024).expect("preview");
        assert_eq!((img.width(), img.height()), (40, 30));
        let p = img.get_pixel(39, 0);
        assert_eq!((p[0], p[1], p[2]), (255, 255, 255));
    }

    /// A little-endian TIFF of `entries` (sorted by tag) whose pixel data `data` starts at
    /// byte 8, with a UTM georeferencing.
    fn crafted(mut entries: Vec<Entry>, data: &[u8]) -> Vec<u8> {
        entries.push(Entry::doubles(33550, &[1.0, 1.0, 0.0]));
        entries.push(Entry::doubles(33922, &[0.0, 0.0, 0.0, 500_000.0, 6_200_000.0, 0.0]));
        entries.push(Entry::shorts(34735, &[1, 1, 0, 2, 1024, 0, 1, 1, 3072, 0, 1, 32637]));
        entries.sort_by_key(|e| e.tag);
        let ifd = (8 + data.len() + data.len() % 2) as u32;
        let mut out = b"II".to_vec();
        out.extend_from_slice(&42u16.to_le_bytes());
        out.extend_from_slice(&ifd.to_le_bytes());
        out.extend_from_slice(data);
        if data.len() % 2 == 1 {
            out.push(0);
        }
        let mut tail = Vec::new();
        let tail_start = ifd + 2 + 12 * entries.len() as u32 + 4;
        out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        for e in &entries {
            out.extend_from_slice(&e.tag.to_le_bytes());
            out.extend_from_slice(&e.kind.to_le_bytes());
            out.extend_from_slice(&e.count.to_le_bytes());
            if e.bytes.len() <= 4 {
                let mut inline = [0u8; 4];
                inline[..e.bytes.len()].copy_from_slice(&e.bytes);
                out.extend_from_slice(&inline);
            } else {
                out.extend_from_slice(&(tail_start + tail.len() as u32).to_le_bytes());
                tail.extend_from_slice(&e.bytes);
                if tail.len() % 2 == 1 {
                    tail.push(0);
                }
            }
        }
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&tail);
        out
    }

    /// A stripped uncompressed float64 image of `width` × 1 pixels and `samples` samples
    /// whose one strip of `count` bytes starts at `offset`, with 12 KB of pixel data.
    fn crafted_strip(width: u32, samples: u16, offset: u32, count: u32) -> Vec<u8> {
        crafted(
            vec![
                Entry::longs(256, &[width]),
                Entry::longs(257, &[1]),
                Entry::shorts(258, &[64]),
                Entry::shorts(259, &[1]),
                Entry::shorts(262, &[1]),
                Entry::longs(273, &[offset]),
                Entry::shorts(277, &[samples]),
                Entry::longs(278, &[1]),
                Entry::longs(279, &[count]),
                Entry::shorts(284, &[1]),
                Entry::shorts(339, &[3]),
            ],
            &[0u8; 12_000],
        )
    }

    #[test]
    fn oversized_declarations_are_refused_before_reading_pixels() {
        let dir = tmp();
        let path = dir.path().join("huge.tif");
        // 30000 px × 65535 float64 samples: a 15.7 GB row declared by a 12 KB file.
        std::fs::write(&path, crafted_strip(30_000, 65_535, 8, 12_000)).expect("write");
        let started = std::time::Instant::now();
        let err = read_preview(&path, 256).expect_err("refused");
        assert!(started.elapsed() < std::time::Duration::from_secs(1), "{:?}", started.elapsed());
        assert!(err.to_string().contains("samples per pixel"), "{err}");
        let err = read_info_path(&path).expect_err("refused");
        assert!(err.to_string().contains("samples per pixel"), "{err}");

        // 16 samples fit, but a row of 2 million of them does not.
        let wide = dir.path().join("wide.tif");
        std::fs::write(&wide, crafted_strip(2_000_000, 16, 8, 12_000)).expect("write");
        let err = read_preview(&wide, 256).expect_err("refused");
        assert!(err.to_string().contains("a row of the image"), "{err}");

        assert!(check_declared_size(100, 100, 3, &[8]).is_ok());
        assert!(check_declared_size(100, 100, 3, &[8, 8, 8]).is_ok());
        assert!(check_declared_size(100, 100, 3, &[8, 8]).is_err());
        assert!(check_declared_size(100, 100, 1, &[12]).is_err());
        assert!(check_declared_size(0, 100, 1, &[8]).is_err());
        assert!(check_declared_size(u32::MAX, u32::MAX, 1, &[8]).is_err());
    }

    #[test]
    fn truncated_and_inconsistent_strips_are_refused() {
        let dir = tmp();
        let path = dir.path().join("t.tif");
        // 1000 px × 1 sample × 8 bytes: the strip needs 8000 bytes, 12000 are there.
        std::fs::write(&path, crafted_strip(1000, 1, 8, 8000)).expect("write");
        read_info_path(&path).expect("a consistent file reads");
        read_preview(&path, 64).expect("a consistent file previews");
        // The strip lies beyond the end of the file.
        std::fs::write(&path, crafted_strip(1000, 1, 1_000_000, 8000)).expect("write");
        let err = read_info_path(&path).expect_err("refused");
        assert!(err.to_string().contains("beyond the end of the file"), "{err}");
        // The strip is shorter than its pixels.
        std::fs::write(&path, crafted_strip(1000, 1, 8, 100)).expect("write");
        let err = read_info_path(&path).expect_err("refused");
        assert!(err.to_string().contains("holds 100 bytes"), "{err}");
    }

    /// Writes a tiled, uncompressed RGB TIFF (16×16 tiles) of the test pattern by hand.
    fn write_tiled(path: &Path, width: u32, height: u32) {
        let (tw, th) = (16u32, 16u32);
        let (across, down) = (width.div_ceil(tw), height.div_ceil(th));
        let tile_bytes = (tw * th * 3) as usize;
        let mut data = Vec::new();
        for ty in 0..down {
            for tx in 0..across {
                for y in 0..th {
                    for x in 0..tw {
                        let (gx, gy) = (tx * tw + x, ty * th + y);
                        for b in 0..3 {
                            data.push(if gx < width && gy < height { pattern(gx, gy, width, height, b) } else { 0 });
                        }
                    }
                }
            }
        }
        let n = across * down;
        let offsets: Vec<u32> = (0..n).map(|i| 8 + i * tile_bytes as u32).collect();
        let counts = vec![tile_bytes as u32; n as usize];
        let entries = [
            Entry::longs(256, &[width]),
            Entry::longs(257, &[height]),
            Entry::shorts(258, &[8, 8, 8]),
            Entry::shorts(259, &[1]),
            Entry::shorts(262, &[2]),
            Entry::shorts(277, &[3]),
            Entry::shorts(284, &[1]),
            Entry::longs(322, &[tw]),
            Entry::longs(323, &[th]),
            Entry::longs(324, &offsets),
            Entry::longs(325, &counts),
        ];
        let ifd = 8 + data.len() as u32;
        let mut out = b"II*\0".to_vec();
        out.extend_from_slice(&ifd.to_le_bytes());
        out.extend_from_slice(&data);
        let mut tail = Vec::new();
        let values_at = ifd + 2 + 12 * entries.len() as u32 + 4;
        out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        for e in &entries {
            out.extend_from_slice(&e.tag.to_le_bytes());
            out.extend_from_slice(&e.kind.to_le_bytes());
            out.extend_from_slice(&e.count.to_le_bytes());
            if e.bytes.len() <= 4 {
                let mut inline = [0u8; 4];
                inline[..e.bytes.len()].copy_from_slice(&e.bytes);
                out.extend_from_slice(&inline);
            } else {
                out.extend_from_slice(&(values_at + tail.len() as u32).to_le_bytes());
                tail.extend_from_slice(&e.bytes);
            }
        }
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&tail);
        std::fs::write(path, out).expect("write");
    }

    #[test]
    fn preview_of_tiled_and_compressed_files() {
        let dir = tmp();
        let tiled = dir.path().join("tiled.tif");
        write_tiled(&tiled, 40, 30);
        let img = read_preview(&tiled, 100).expect("preview");
        assert_eq!((img.width(), img.height()), (40, 30));
        for (x, y) in [(0, 0), (17, 5), (39, 29), (33, 20)] {
            let p = img.get_pixel(x, y);
            let want: Vec<u8> = (0..3).map(|b| pattern(x, y, 40, 30, b)).collect();
            assert_eq!(&p.0[..3], want.as_slice(), "pixel {x},{y}");
        }
        assert_eq!(read_info_path(&tiled), Err(GeoTiffError::NotGeoreferenced));

        // 16-bit grey, LZW: decoded through chunks and stretched.
        let lzw = dir.path().join("lzw.tif");
        let data: Vec<u16> = (0..64u32 * 48).map(|i| (1000 + (i % 64) * 10) as u16).collect();
        {
            let file = File::create(&lzw).expect("create");
            let mut enc = tiff::encoder::TiffEncoder::new(file)
                .expect("encoder")
                .with_compression(tiff::encoder::Compression::Lzw);
            enc.write_image::<tiff::encoder::colortype::Gray16>(64, 48, &data).expect("encode");
        }
        let img = read_preview(&lzw, 32).expect("preview");
        assert_eq!((img.width(), img.height()), (32, 24));
        assert!(img.get_pixel(0, 0)[0] < 10 && img.get_pixel(31, 0)[0] > 245, "stretched");
    }

    #[test]
    fn preview_uses_an_overview_when_there_is_one() {
        let dir = tmp();
        let path = dir.path().join("cog.tif");
        {
            let file = File::create(&path).expect("create");
            let mut enc = tiff::encoder::TiffEncoder::new(file).expect("encoder");
            enc.write_image::<tiff::encoder::colortype::Gray8>(64, 48, &[10u8; 64 * 48]).expect("full");
            let mut overview = enc.new_image::<tiff::encoder::colortype::Gray8>(32, 24).expect("overview");
            overview.encoder().write_tag(Tag::NewSubfileType, 1u32).expect("tag");
            overview.write_data(&[200u8; 32 * 24]).expect("data");
        }
        // Small previews come from the overview, large ones from the full image.
        let small = read_preview(&path, 16).expect("small");
        assert_eq!((small.width(), small.height(), small.get_pixel(3, 3)[0]), (16, 12, 200));
        let large = read_preview(&path, 40).expect("large");
        assert_eq!((large.width(), large.height(), large.get_pixel(3, 3)[0]), (40, 30, 10));
    }

    #[test]
    fn mercator_round_trip() {
        let t = CrsTransform::from_epsg(3857).expect("crs");
        let (x, y) = t.from_lonlat(37.6, 55.7).expect("fwd");
        let (lon, lat) = t.to_lonlat(x, y).expect("inv");
        assert!((lon - 37.6).abs() < 1e-12 && (lat - 55.7).abs() < 1e-12);
        let utm = CrsTransform::from_epsg(32737).expect("crs");
        let (x, y) = utm.from_lonlat(39.0, -10.0).expect("fwd");
        assert!((x - 500_000.0).abs() < 1e-6 && y > 8_000_000.0, "{x} {y}");
    }
}
