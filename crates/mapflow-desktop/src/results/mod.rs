//! Processing results on the map: the parsed layers of [`mapflow_geo::results`] (re-exported
//! here) drawn by a [`ResultPlugin`] on the walkers map, which keeps its per-frame work small
//! through the caller's [`DrawCache`].
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

pub use mapflow_geo::results::*;

mod draw;
mod raster;

pub use draw::{DrawCache, DrawMode, DrawStats, ResultPlugin, ResultStyle};

/// A class's colour as egui draws it.
pub fn color32(color: ClassColor) -> egui::Color32 {
    egui::Color32::from_rgb(color.r, color.g, color.b)
}
