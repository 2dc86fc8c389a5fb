//! Imagery files on disk: reading and checking GeoTIFFs the way the Data API does, shared
//! by the sandbox (which describes uploads) and the app (which checks files before
//! uploading them).

pub mod geotiff;
pub mod tiff_writer;
