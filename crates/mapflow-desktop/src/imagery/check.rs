//! Local checks of a file before it is uploaded to the Data API.
//!
//! The service validates a file only after it has received all of it, which for a large
//! GeoTIFF can be many minutes wasted. These checks read the TIFF header alone and refuse
//! what the service would refuse: a file that is not a georeferenced GeoTIFF with an EPSG
//! coordinate system, a file over the account's size, side or storage limits, and a file
//! that does not match the images already in the target mosaic (CRS, band count, pixel size).

use crate::api::{Memory, RasterImage, parse_epsg};
use crate::imagery::geotiff::{GeoTiffError, GeoTiffInfo, read_info_path};
use rust_i18n::t;
use std::path::Path;

/// The upload size limit when the service reports none (what the QGIS plugin assumes).
pub const DEFAULT_MAX_FILE_SIZE: u64 = 2 * 1024 * 1024 * 1024;
/// The limit on each side in pixels when the service reports none.
pub const DEFAULT_MAX_PIXEL_COUNT: u64 = 30_000;
/// Pixel sizes closer than this share of the larger one count as equal (rounding in the
/// service's metadata and in the file's own scale).
pub const PIXEL_SIZE_TOLERANCE: f64 = 1e-3;

/// Why a file may not be uploaded. Every variant names the file (its name, not its whole
/// path) and the parameter that failed.
#[derive(Debug, Clone, PartialEq)]
pub enum UploadProblem {
    /// The file could not be opened or read.
    Unreadable { file: String, reason: String },
    /// The file has no bytes.
    Empty { file: String },
    /// The file is not a TIFF (a PNG renamed `.tif`, say).
    NotTiff { file: String },
    /// A TIFF whose structure could not be decoded.
    Corrupt { file: String, reason: String },
    /// A TIFF without georeferencing (no tie point with pixel scale, no transformation).
    NotGeoreferenced { file: String },
    /// Georeferenced, but the coordinate system is not named by an EPSG code.
    NoCrs { file: String },
    /// An EPSG code this app does not know.
    UnsupportedCrs { file: String, epsg: u32 },
    /// Larger than the account's upload limit.
    TooBig { file: String, size: u64, max: u64 },
    /// A side longer than the account's pixel limit.
    TooManyPixels { file: String, width: u32, height: u32, max: u64 },
    /// Larger than the storage left.
    NotEnoughStorage { file: String, size: u64, free: u64 },
    /// Another coordinate system than the mosaic's images.
    CrsMismatch { file: String, expected: String, got: String },
    /// Another band count than the mosaic's images.
    BandsMismatch { file: String, expected: u32, got: u32 },
    /// Another pixel size than the mosaic's images (`[x, y]` in CRS units).
    PixelSizeMismatch { file: String, expected: [f64; 2], got: [f64; 2] },
}

impl UploadProblem {
    /// The file's name as shown in the messages.
    pub fn file(&self) -> &str {
        match self {
            Self::Unreadable { file, .. }
            | Self::Empty { file }
            | Self::NotTiff { file }
            | Self::Corrupt { file, .. }
            | Self::NotGeoreferenced { file }
            | Self::NoCrs { file }
            | Self::UnsupportedCrs { file, .. }
            | Self::TooBig { file, .. }
            | Self::TooManyPixels { file, .. }
            | Self::NotEnoughStorage { file, .. }
            | Self::CrsMismatch { file, .. }
            | Self::BandsMismatch { file, .. }
            | Self::PixelSizeMismatch { file, .. } => file,
        }
    }

    /// The parameter that failed, in the service's terms (`crs`, `count`, `pixel_size`, …).
    pub fn parameter(&self) -> &'static str {
        match self {
            Self::Unreadable { .. } | Self::Empty { .. } | Self::NotTiff { .. } | Self::Corrupt { .. } => "format",
            Self::NotGeoreferenced { .. } => "transform",
            Self::NoCrs { .. } | Self::UnsupportedCrs { .. } | Self::CrsMismatch { .. } => "crs",
            Self::TooBig { .. } => "file_size",
            Self::TooManyPixels { .. } => "pixel_count",
            Self::NotEnoughStorage { .. } => "memory",
            Self::BandsMismatch { .. } => "count",
            Self::PixelSizeMismatch { .. } => "pixel_size",
        }
    }

    /// One or two sentences in the user's language: what is wrong with which file, and what
    /// to do about it.
    pub fn message(&self) -> String {
        match self {
            Self::Unreadable { file, reason } => t!("imagery.check.unreadable", file = file, reason = reason),
            Self::Empty { file } => t!("imagery.check.empty", file = file),
            Self::NotTiff { file } => t!("imagery.check.not_tiff", file = file),
            Self::Corrupt { file, reason } => t!("imagery.check.corrupt", file = file, reason = reason),
            Self::NotGeoreferenced { file } => t!("imagery.check.not_georeferenced", file = file),
            Self::NoCrs { file } => t!("imagery.check.no_crs", file = file),
            Self::UnsupportedCrs { file, epsg } => {
                t!("imagery.check.unsupported_crs", file = file, crs = format!("EPSG:{epsg}"))
            }
            Self::TooBig { file, size, max } => {
                t!("imagery.check.too_big", file = file, size = megabytes(*size), max = megabytes(*max))
            }
            Self::TooManyPixels { file, width, height, max } => {
                t!("imagery.check.too_many_pixels", file = file, width = width, height = height, max = max)
            }
            Self::NotEnoughStorage { file, size, free } => {
                t!("imagery.check.no_storage", file = file, size = megabytes(*size), free = megabytes(*free))
            }
            Self::CrsMismatch { file, expected, got } => {
                t!("imagery.check.crs_mismatch", file = file, expected = expected, got = got)
            }
            Self::BandsMismatch { file, expected, got } => {
                t!("imagery.check.bands_mismatch", file = file, expected = expected, got = got)
            }
            Self::PixelSizeMismatch { file, expected, got } => t!(
                "imagery.check.pixel_size_mismatch",
                file = file,
                expected = pixel_size_text(*expected),
                got = pixel_size_text(*got)
            ),
        }
        .into_owned()
    }
}

impl std::fmt::Display for UploadProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for UploadProblem {}

/// Bytes as megabytes with one decimal (the unit is in the sentence).
fn megabytes(bytes: u64) -> String {
    format!("{:.1}", bytes as f64 / (1024.0 * 1024.0))
}

/// `[x, y]` as `x × y`, with as many digits as a pixel size in degrees needs.
fn pixel_size_text([x, y]: [f64; 2]) -> String {
    let fmt = |v: f64| {
        let s = format!("{v:.9}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        s.to_owned()
    };
    format!("{} × {}", fmt(x), fmt(y))
}

/// Whether two pixel sizes agree within [`PIXEL_SIZE_TOLERANCE`], side by side.
fn same_pixel_size(a: [f64; 2], b: [f64; 2]) -> bool {
    a.iter().zip(b.iter()).all(|(a, b)| {
        let (a, b) = (a.abs(), b.abs());
        (a - b).abs() <= PIXEL_SIZE_TOLERANCE * a.max(b)
    })
}

/// A limit from the service: `None` (unlimited or unknown) and nonsense (≤ 0) give `default`.
fn limit(value: Option<i64>, default: u64) -> u64 {
    value.and_then(|v| u64::try_from(v).ok()).filter(|v| *v > 0).unwrap_or(default)
}

/// Checks `path` before a byte of it is sent: it must be a georeferenced GeoTIFF with an
/// EPSG coordinate system, within the upload size, side and storage limits of `memory`,
/// and match the CRS, band count and pixel size of `existing` (the target mosaic's images;
/// empty for a new mosaic). Reads only the file's header. Returns what was read, for
/// showing before the upload starts.
pub fn check_upload(path: &Path, memory: &Memory, existing: &[RasterImage]) -> Result<GeoTiffInfo, UploadProblem> {
    let file = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string());
    let size = match std::fs::metadata(path) {
        Ok(m) if m.is_file() => m.len(),
        Ok(_) => return Err(UploadProblem::Unreadable { file, reason: "not a file".to_owned() }),
        Err(e) => return Err(UploadProblem::Unreadable { file, reason: e.to_string() }),
    };
    if size == 0 {
        return Err(UploadProblem::Empty { file });
    }
    let info = read_info_path(path).map_err(|e| match e {
        GeoTiffError::Empty => UploadProblem::Empty { file: file.clone() },
        GeoTiffError::NotTiff => UploadProblem::NotTiff { file: file.clone() },
        GeoTiffError::NotGeoreferenced => UploadProblem::NotGeoreferenced { file: file.clone() },
        GeoTiffError::NoCrs => UploadProblem::NoCrs { file: file.clone() },
        GeoTiffError::UnsupportedCrs(epsg) => UploadProblem::UnsupportedCrs { file: file.clone(), epsg },
        GeoTiffError::Io(reason) => UploadProblem::Unreadable { file: file.clone(), reason },
        GeoTiffError::Decode(reason) => UploadProblem::Corrupt { file: file.clone(), reason },
    })?;
    let Some(epsg) = info.epsg else { return Err(UploadProblem::NoCrs { file }) };

    let max_size = limit(memory.max_upload_file_size, DEFAULT_MAX_FILE_SIZE);
    if size > max_size {
        return Err(UploadProblem::TooBig { file, size, max: max_size });
    }
    let max_side = limit(memory.max_pixel_count, DEFAULT_MAX_PIXEL_COUNT);
    if u64::from(info.width) > max_side || u64::from(info.height) > max_side {
        return Err(UploadProblem::TooManyPixels { file, width: info.width, height: info.height, max: max_side });
    }
    if let Some(free) = memory.memory_free {
        let free = u64::try_from(free).unwrap_or(0);
        if size > free {
            return Err(UploadProblem::NotEnoughStorage { file, size, free });
        }
    }

    // The mosaic's images should agree with each other; the first one with metadata speaks for them.
    let meta = existing.iter().map(|i| &i.meta_data).find(|m| m.crs.is_some() || m.count > 0);
    if let Some(meta) = meta {
        let got = format!("EPSG:{epsg}");
        if let Some(crs) = meta.crs.as_deref().filter(|c| !c.trim().is_empty()) {
            let same = match parse_epsg(crs) {
                Some(code) => code == epsg,
                None => crs.trim().eq_ignore_ascii_case(&got),
            };
            if !same {
                return Err(UploadProblem::CrsMismatch { file, expected: crs.trim().to_owned(), got });
            }
        }
        if meta.count > 0 && meta.count != i64::from(info.bands) {
            let expected = u32::try_from(meta.count).unwrap_or(u32::MAX);
            return Err(UploadProblem::BandsMismatch { file, expected, got: u32::from(info.bands) });
        }
        let got_px = [info.pixel_size[0].abs(), info.pixel_size[1].abs()];
        if let Some(expected) = meta.pixel_size_xy().filter(|p| p[0] > 0.0 && p[1] > 0.0)
            && !same_pixel_size(expected, got_px)
        {
            return Err(UploadProblem::PixelSizeMismatch { file, expected, got: got_px });
        }
    }
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pixel_sizes_compare_relatively() {
        assert!(same_pixel_size([0.5, 0.5], [0.5000001, -0.5]));
        assert!(same_pixel_size([1e-5, 1e-5], [1.00001e-5, 1e-5]));
        assert!(!same_pixel_size([0.5, 0.5], [0.6, 0.5]));
        assert!(!same_pixel_size([1e-5, 1e-5], [2e-5, 1e-5]));
    }

    #[test]
    fn limits_default() {
        assert_eq!(limit(None, 7), 7);
        assert_eq!(limit(Some(-1), 7), 7);
        assert_eq!(limit(Some(0), 7), 7);
        assert_eq!(limit(Some(5), 7), 5);
    }

    #[test]
    fn texts() {
        assert_eq!(pixel_size_text([0.5, 0.5]), "0.5 × 0.5");
        assert_eq!(pixel_size_text([0.000089831, 2.0]), "0.000089831 × 2");
        assert_eq!(megabytes(3 * 1024 * 1024 / 2), "1.5");
        let p =
            UploadProblem::CrsMismatch { file: "a.tif".into(), expected: "EPSG:32637".into(), got: "EPSG:4326".into() };
        let m = p.message();
        assert!(m.contains("a.tif") && m.contains("EPSG:32637") && m.contains("EPSG:4326"), "{m}");
        assert_eq!(p.parameter(), "crs");
    }
}
