//! The fixed data of the sandbox account: its models, imagery providers and limits.
//!
//! Ids are hard-coded so they stay the same across restarts and between the sandbox and
//! tests; names are spelled as the real service shows them.

use mapflow_api::{Block, Provider, ProviderPrice, WorkflowDef, WorkflowDefId};

/// Id of the "🏠 Buildings" model.
pub const BUILDINGS_ID: &str = "b9e1c7a2-5d4f-4a8e-9c31-0f6d2e8a7b11";
/// Id of the "🏠 Buildings (Aerial)" model.
pub const BUILDINGS_AERIAL_ID: &str = "3f8a2d6c-1b7e-4c9a-a5d2-7e4b9c0f1a22";
/// Id of the "🌲 Forest" model.
pub const FOREST_ID: &str = "6c2e9b4a-8f1d-4e7c-b3a6-2d5f8e1c9b33";
/// Id of the "🚗 Roads" model.
pub const ROADS_ID: &str = "d4a7f1e8-3c6b-4b2d-8e9f-5a1c7d3b6e44";
/// Id of the "🏗️ Construction" model.
pub const CONSTRUCTION_ID: &str = "8e5b3c1f-7a9d-4f6e-9b2c-4d8a6f2e1c55";

/// Name of the "🏠 Buildings" model.
pub const BUILDINGS: &str = "🏠 Buildings";
/// Name of the "🏠 Buildings (Aerial)" model.
pub const BUILDINGS_AERIAL: &str = "🏠 Buildings (Aerial)";
/// Name of the "🌲 Forest" model.
pub const FOREST: &str = "🌲 Forest";
/// Name of the "🚗 Roads" model.
pub const ROADS: &str = "🚗 Roads";
/// Name of the "🏗️ Construction" model.
pub const CONSTRUCTION: &str = "🏗️ Construction";

/// `name` of the Mapbox imagery provider (what a processing sends).
pub const MAPBOX: &str = "Mapbox";
/// `name` of the Esri World Imagery provider.
pub const ARCGIS: &str = "ArcGIS";
/// `name` of the Maxar Legion catalog provider.
pub const LEGION: &str = "Legion";
/// `name` of the Sentinel-2 catalog provider.
pub const SENTINEL_2: &str = "Sentinel-2";

/// Credits of a freshly seeded account.
pub const INITIAL_CREDITS: i64 = 5_000;
/// Total area the account may process, m² (1 000 km²).
pub const AREA_LIMIT: i64 = 1_000_000_000;
/// Largest area of one processing, m² (100 km²).
pub const AOI_AREA_LIMIT: i64 = 100_000_000;
/// Largest area of a planned processing (template), m² (500 km²).
pub const TEMPLATE_AREA_LIMIT: i64 = 500_000_000;
/// Largest area of a catalog search, m² (2 500 km²).
pub const SEARCH_AREA_LIMIT: i64 = 2_500_000_000;
/// Most polygons in one processing.
pub const MAX_AOIS_PER_PROCESSING: i64 = 10;
/// Storage for uploaded imagery, bytes (10 GiB).
pub const MEMORY_LIMIT: i64 = 10 * 1024 * 1024 * 1024;
/// Highest zoom of the providers' preview tiles.
pub const PREVIEW_MAX_ZOOM: i64 = 20;

/// Name of the seeded default project.
pub const DEFAULT_PROJECT_NAME: &str = "Default project";
/// Name of the seeded demo project, over Almaty, Kazakhstan.
pub const DEMO_PROJECT_NAME: &str = "Demo: Almaty";
/// Description of the seeded demo project: what to try in it.
pub const DEMO_PROJECT_DESCRIPTION: &str = "A tour of the sandbox over Almaty, Kazakhstan. Open a finished \
     processing to see its result on the map, and hover a building for its class and height; the forest result \
     is banded by tree height. One run failed: select it to read the validator's message (its credits were \
     refunded). Another is still running and finishes about a minute after the sandbox first started. Search \
     the imagery catalog over the city, look at the uploaded image of \"Demo mosaic\" in My imagery, then draw \
     an area of interest and run a model on it.";

const MODELS_CREATED: &str = "2023-02-14T09:30:00.000000Z";
const MODELS_UPDATED: &str = "2025-06-02T12:00:00.000000Z";

fn block(name: &str, display_name: &str, description: &str, price: f64, optional: bool) -> Block {
    Block {
        name: name.to_owned(),
        display_name: display_name.to_owned(),
        description: Some(description.to_owned()),
        price,
        optional,
    }
}

fn segmentation(price: f64, what: &str) -> Block {
    block("Segmentation", "Segmentation", &format!("Detects {what} in the imagery."), price, false)
}

fn model(id: &str, name: &str, description: &str, style: &str, blocks: Vec<Block>) -> WorkflowDef {
    WorkflowDef {
        id: WorkflowDefId(id.to_owned()),
        name: name.to_owned(),
        description: Some(description.to_owned()),
        // The price of a run with no optional block enabled.
        price_per_sq_km: blocks.iter().filter(|b| !b.optional).map(|b| b.price).sum(),
        created: Some(MODELS_CREATED.to_owned()),
        updated: Some(MODELS_UPDATED.to_owned()),
        style_name: Some(style.to_owned()),
        blocks,
    }
}

/// The five models every account and project of the sandbox offers.
pub fn models() -> Vec<WorkflowDef> {
    vec![
        model(
            BUILDINGS_ID,
            BUILDINGS,
            "Detects building footprints in satellite imagery of 0.5 m per pixel or finer. \
             Optional blocks simplify the outlines, classify buildings by use, merge them with \
             OpenStreetMap and estimate their heights.",
            "buildings",
            vec![
                segmentation(5.0, "building footprints"),
                block("Simplification", "Simplification", "Straightens the outlines into regular polygons.", 0.0, true),
                block(
                    "Classification",
                    "Classification",
                    "Sorts buildings into residential, housing, industrial, commercial and other.",
                    2.0,
                    true,
                ),
                block("OSM", "Merge with OSM", "Uses OpenStreetMap outlines where they exist.", 0.0, true),
                block("Heights", "Heights", "Estimates the height of each building in metres.", 3.0, true),
            ],
        ),
        model(
            BUILDINGS_AERIAL_ID,
            BUILDINGS_AERIAL,
            "Detects building footprints in aerial and drone imagery of 0.1 to 0.3 m per pixel.",
            "buildings",
            vec![
                segmentation(10.0, "building footprints"),
                block("Simplification", "Simplification", "Straightens the outlines into regular polygons.", 0.0, true),
            ],
        ),
        model(
            FOREST_ID,
            FOREST,
            "Detects forest and tree crowns. The optional Heights block sorts them into height bands.",
            "forest",
            vec![
                segmentation(3.0, "forest and tree crowns"),
                block(
                    "Heights",
                    "Heights",
                    "Sorts the forest into height bands of 0-4 m, 4-10 m and above.",
                    2.0,
                    true,
                ),
            ],
        ),
        model(
            ROADS_ID,
            ROADS,
            "Detects the road network as polygons, from highways to dirt tracks.",
            "roads",
            vec![segmentation(4.0, "roads")],
        ),
        model(
            CONSTRUCTION_ID,
            CONSTRUCTION,
            "Detects construction sites and buildings under construction.",
            "construction",
            vec![segmentation(4.0, "construction sites")],
        ),
    ]
}

/// The lowest imagery zoom a model accepts: zoom 17 (about 1 m per pixel at the equator,
/// 0.5 m at mid latitudes) for the satellite models, zoom 19 for the aerial one. A
/// processing with less is accepted and then fails with `source-validator.TooLowZoom`.
pub fn min_zoom(model_id: &str) -> i64 {
    if model_id == BUILDINGS_AERIAL_ID { 19 } else { 17 }
}

/// The coarsest imagery a model accepts, m per pixel: the ground resolution of its
/// [`min_zoom`] at the equator, 156543.03 / 2^z rounded to 0.1 (1.2 for the satellite
/// models, 0.3 for the aerial one). A catalog image coarser than that is accepted and
/// then fails with `source-validator.PixelSizeTooHigh`.
pub fn max_resolution(model_id: &str) -> f64 {
    let metres = 156_543.03 / 2f64.powi(min_zoom(model_id) as i32);
    (metres * 10.0).round() / 10.0
}

/// The model with this id.
pub fn model_by_id(id: &str) -> Option<WorkflowDef> {
    models().into_iter().find(|m| m.id.0 == id)
}

/// The model with this name: exactly, else ignoring case, else ignoring the leading
/// emoji (`"Buildings"` finds "🏠 Buildings"), as scripts often spell it.
pub fn model_by_name(name: &str) -> Option<WorkflowDef> {
    let name = name.trim();
    let bare = |n: &str| n.split_once(' ').filter(|(head, _)| !head.is_ascii()).map_or(n, |(_, rest)| rest).to_owned();
    let models = models();
    let exact = models.iter().position(|m| m.name == name);
    let folded = || models.iter().position(|m| m.name.to_lowercase() == name.to_lowercase());
    let bared = || models.iter().position(|m| bare(&m.name).to_lowercase() == bare(name).to_lowercase());
    exact.or_else(folded).or_else(bared).map(|i| models[i].clone())
}

/// The preview tile template of a provider served by this sandbox, without auth.
pub fn preview_url(base_url: &str, provider: &str) -> String {
    format!("{base_url}/sandbox/tiles/{provider}/{{z}}/{{x}}/{{y}}.png")
}

fn prices(steps: &[(i64, f64)]) -> Vec<ProviderPrice> {
    steps.iter().map(|&(zoom, price_sq_km)| ProviderPrice { zoom, price_sq_km }).collect()
}

/// The imagery providers a processing can use (`dataProviders`); their previews are
/// tiles of this sandbox under `base_url`.
pub fn data_providers(base_url: &str) -> Vec<Provider> {
    vec![
        Provider {
            id: "1a7c4e9b-2f5d-4c8a-b6e3-9d1f7a4c2e61".to_owned(),
            name: MAPBOX.to_owned(),
            display_name: "Mapbox Satellite".to_owned(),
            price: prices(&[(17, 0.5), (18, 1.0)]),
            preview_url: Some(preview_url(base_url, MAPBOX)),
            preview_url_max_zoom: Some(PREVIEW_MAX_ZOOM),
            min_area_sq_km: Some(0.1),
        },
        Provider {
            id: "5e2b8d4f-9a3c-4e1b-8d7f-3c6a9e2b5d72".to_owned(),
            name: ARCGIS.to_owned(),
            display_name: "Esri World Imagery".to_owned(),
            price: prices(&[(17, 0.5), (18, 1.0), (19, 2.0)]),
            preview_url: Some(preview_url(base_url, ARCGIS)),
            preview_url_max_zoom: Some(PREVIEW_MAX_ZOOM),
            min_area_sq_km: Some(1.0),
        },
    ]
}

/// The catalog providers an imagery search can use (`searchDataProviders`).
pub fn search_data_providers() -> Vec<Provider> {
    vec![
        Provider {
            id: "9c4f1a7e-6b2d-4a5c-9e8b-1f3d7c5a9e83".to_owned(),
            name: LEGION.to_owned(),
            display_name: "Legion (Maxar)".to_owned(),
            price: prices(&[(18, 10.0)]),
            preview_url: None,
            preview_url_max_zoom: None,
            min_area_sq_km: Some(3.0),
        },
        Provider {
            id: "2d8e6b3a-4c1f-4d9e-a7b5-8e2c4f6a1d94".to_owned(),
            name: SENTINEL_2.to_owned(),
            display_name: "Sentinel-2 (ESA)".to_owned(),
            price: prices(&[(14, 0.0)]),
            preview_url: None,
            preview_url_max_zoom: None,
            min_area_sq_km: Some(1.0),
        },
    ]
}
