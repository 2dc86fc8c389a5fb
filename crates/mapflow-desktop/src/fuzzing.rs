//! Entry points for the fuzz targets in `fuzz/` and for the replay of their regression
//! inputs (`tests/fuzz_regressions.rs`): each takes arbitrary bytes and must return
//! without a panic, an abort or unbounded work, whatever they hold. Not an API.

use std::io::Cursor;

/// The AOI importers as a dropped or opened file reaches them: GeoJSON (UTF-8, UTF-16,
/// with or without a byte order mark) and WKT, then the checks the form runs.
pub fn aoi_import(data: &[u8]) {
    let limits =
        crate::geo::AoiLimits { aoi_area_limit_m2: Some(5.0e9), max_aois: Some(10), provider_min_area_km2: Some(0.5) };
    if let Ok(aoi) = crate::geo::parse_geojson_bytes(data) {
        let _ = crate::geo::validate(&aoi, &limits);
    }
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(polygons) = crate::geo::parse_wkt_polygons(text)
    {
        let _ = crate::geo::validate(&crate::geo::Aoi { polygons }, &limits);
    }
}

/// A processing's result file, parsed and prepared for drawing.
pub fn result_parser(data: &[u8]) {
    let _ = crate::results::load_result(data);
}

/// An uploaded GeoTIFF: its tags (as the upload check reads them), its footprint, and
/// its preview (pixels, within the reader's memory budget).
pub fn geotiff(data: &[u8]) {
    use crate::imagery::geotiff;
    if let Ok(info) = geotiff::read_info(Cursor::new(data)) {
        let _ = geotiff::footprint_lonlat(&info);
    }
    let _ = geotiff::read_preview_from(Cursor::new(data), data.len() as u64, 64);
}

/// The client's decoders of every API answer, and of its error bodies.
pub fn api_models(data: &[u8]) {
    use crate::api::client::decode;
    use crate::api::*;
    let text = String::from_utf8_lossy(data);
    fn answer<T: serde::de::DeserializeOwned>(text: &str) {
        let _ = decode::<T>(200, text);
    }
    answer::<UserStatus>(&text);
    answer::<Project>(&text);
    answer::<Vec<Project>>(&text);
    answer::<Page<Project>>(&text);
    answer::<Processing>(&text);
    answer::<Vec<Processing>>(&text);
    answer::<Page<Processing>>(&text);
    answer::<Vec<ProcessingAoi>>(&text);
    answer::<CatalogPage>(&text);
    answer::<Mosaic>(&text);
    answer::<Vec<RasterImage>>(&text);
    answer::<Memory>(&text);
    answer::<UploadAnswer>(&text);
    for status in [400, 403, 404, 413, 422, 500] {
        let _ = ApiError::from_status(status, &text).to_string();
    }
}

/// The sandbox's decoding of request bodies: a processing's create and estimate (v2 and
/// v1), a geometry, and an upload's multipart body.
pub fn sandbox_requests(data: &[u8]) {
    crate::sandbox::fuzz_requests(data);
}
