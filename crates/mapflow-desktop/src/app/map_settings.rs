//! What the map keeps across restarts: the basemap chosen and the view. Plain data, drawn by
//! `crate::map`.

use rust_i18n::t;
use std::borrow::Cow;

/// Which web tiles are drawn over the offline world.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize, Default)]
pub enum Basemap {
    #[default]
    OpenStreetMap,
    EsriWorldImagery,
    /// An XYZ/TMS/quadkey URL template given by the user (see [`crate::map::TemplateSource`]).
    Custom,
    /// No web tiles: only the bundled Natural Earth world.
    OfflineOnly,
    /// The local sandbox's synthetic imagery, so that the demo's city-scale views are never an
    /// empty plane. Offered (and the default) only while the session is the sandbox; see
    /// [`crate::map::MapView::set_sandbox_imagery`].
    SandboxImagery,
}

impl Basemap {
    /// Every basemap, in the order the chooser lists them ([`Self::SandboxImagery`] only while
    /// the session is the sandbox).
    pub const ALL: [Self; 5] =
        [Self::SandboxImagery, Self::OpenStreetMap, Self::EsriWorldImagery, Self::Custom, Self::OfflineOnly];

    /// The name shown in the basemap chooser.
    pub fn label(&self) -> Cow<'static, str> {
        match self {
            Self::OpenStreetMap => t!("map.basemap_osm"),
            Self::EsriWorldImagery => t!("map.basemap_esri"),
            Self::Custom => t!("map.basemap_custom"),
            Self::OfflineOnly => t!("map.basemap_offline"),
            Self::SandboxImagery => t!("navigation.basemap_sandbox"),
        }
    }

    /// The credit the tile provider requires, and where it links to; `None` without web tiles.
    pub fn attribution(&self) -> Option<(Cow<'static, str>, &'static str)> {
        match self {
            Self::OpenStreetMap => Some((t!("map.attribution_osm"), "https://www.openstreetmap.org/copyright")),
            Self::EsriWorldImagery => Some((
                t!("map.attribution_esri"),
                "https://www.arcgis.com/home/item.html?id=10df2279f9684e4a9f6a7f08febac2a9",
            )),
            Self::Custom => Some((t!("map.attribution_custom"), "")),
            Self::SandboxImagery => Some((t!("navigation.attribution_sandbox"), "")),
            Self::OfflineOnly => None,
        }
    }
}

/// What persists across restarts.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct MapSettings {
    pub basemap: Basemap,
    /// The custom template, kept while another basemap is chosen so it is not typed again.
    pub custom_url: String,
    pub center_lon: f64,
    pub center_lat: f64,
    pub zoom: f64,
}

impl Default for MapSettings {
    /// Europe, whole, at zoom 4.
    fn default() -> Self {
        Self { basemap: Basemap::default(), custom_url: String::new(), center_lon: 15.0, center_lat: 50.0, zoom: 4.0 }
    }
}
