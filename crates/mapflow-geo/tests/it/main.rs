//! AOIs imported and validated; the GIS files the app writes, read back with GDAL.
#![allow(clippy::unwrap_used)]

mod export_gdal;
mod geo_aoi;
