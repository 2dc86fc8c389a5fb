//! Processing results: a finished processing's GeoJSON FeatureCollection made ready to draw.
//!
//! A result can hold 100 000+ features (hundreds of MB). The worker downloads it and calls
//! [`load_result`], which parses, projects, triangulates and indexes it off the UI thread; the
//! UI keeps the [`ResultLayer`] behind an `Arc` and draws it every frame with a
//! [`ResultPlugin`] on the walkers map, which keeps its per-frame work small through the
//! caller's [`DrawCache`].
//!
//! ```no_run
//! # fn demo(bytes: &[u8], ui: &mut egui::Ui, memory: &mut walkers::MapMemory) {
//! use mapflow_desktop::results::{DrawCache, ResultPlugin, ResultStyle, load_result};
//! let layer = load_result(bytes).unwrap_or_else(|err| panic!("{}", err.message()));
//! let (style, mut cache, mut hovered) = (ResultStyle::default(), DrawCache::default(), None);
//! let position = walkers::lon_lat(37.6, 55.7);
//! ui.add(
//!     walkers::Map::new(None, memory, position)
//!         .with_plugin(ResultPlugin::new(&layer, &style, &mut cache, &mut hovered)),
//! );
//! # }
//! ```

mod attributes;
mod draw;
mod error;
mod layer;
mod parse;
mod raster;
mod split;
mod style;
pub mod table;

pub use attributes::{AttrValue, Attributes, Kind as ColumnKind, Row};
pub use draw::{DrawCache, DrawMode, DrawStats, ResultPlugin, ResultStyle};
pub use error::ResultError;
pub use layer::{LegendEntry, ResultLayer, load_result, load_result_file, load_result_reader};
pub use parse::SkippedFeatures;
