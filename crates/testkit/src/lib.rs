//! What the tests and benches of every crate share: a strict sandbox over loopback and the
//! client for it ([`sandbox_setup`]), the headless sandbox as a child process ([`headless`]),
//! crafted and patterned GeoTIFFs ([`crafted_tiff`], [`test_geotiff`]), detailed AOIs
//! ([`detailed_aoi`]). A dev-dependency only: nothing here ships.
#![allow(clippy::unwrap_used)]

pub mod crafted_tiff;
pub mod detailed_aoi;
pub mod headless;
pub mod sandbox_setup;
pub mod test_geotiff;
