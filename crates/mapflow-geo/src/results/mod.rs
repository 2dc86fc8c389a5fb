//! Processing results: a finished processing's GeoJSON FeatureCollection made ready to draw.
//!
//! A result can hold 100 000+ features (hundreds of MB). The worker downloads it and calls
//! [`load_result`], which parses, projects, triangulates and indexes it off the UI thread; the
//! UI keeps the [`ResultLayer`] behind an `Arc` and draws it every frame (the desktop crate's
//! `results::ResultPlugin`). Nothing here knows egui: the layer is plain data.

mod attributes;
mod error;
pub mod layer;
mod parse;
mod split;
pub mod style;
pub mod table;

pub use attributes::{AttrValue, Attributes, Kind as ColumnKind, Row};
pub use error::ResultError;
pub use layer::{LegendEntry, ResultLayer, load_result, load_result_file, load_result_reader};
pub use parse::SkippedFeatures;
pub use style::ClassColor;
