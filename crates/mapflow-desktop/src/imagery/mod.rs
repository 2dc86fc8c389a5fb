//! Imagery files on disk: the GeoTIFF reading of [`mapflow_geo::imagery`] (re-exported here)
//! and the checks the app runs on a file before uploading it.

pub use mapflow_geo::imagery::*;

pub mod check;
