//! The demo content of a fresh account: the demo project over Almaty, Kazakhstan, with
//! finished, failed and running processings, and a mosaic holding one uploaded image.
//!
//! Everything goes through the code a client's requests reach: each processing is
//! planned from a request body by [`processing::plan`] (so its cost, blocks and failure
//! are what a create would give) and paid with [`processing::charge`]; the image is a
//! GeoTIFF drawn here and passed through an upload's checks and commit
//! ([`rasters::check_file`], [`rasters::commit`]), so its footprint, metadata, preview and
//! tiles come from its pixels. The runs are backdated so most are finished at once; one
//! is still running and finishes [`crate::SandboxConfig::demo_finish_seconds`]
//! after the seeding. Ids are fixed, so the results are the same on every machine.
//!
//! The demo runs are paid from a grant of the same amount, so a fresh account keeps
//! [`seed::INITIAL_CREDITS`]; the failed one is charged and refunded like any failed run.

use chrono::{DateTime, Duration, Utc};
use image::{Rgb, RgbImage};
use serde_json::{Value, json};

use super::processing::{self, Purpose};
use super::rasters::{self, MosaicRecord, RasterStore};
use super::rng::Rng;
use super::seed;
use super::state::PersistedState;
use mapflow_geo::imagery::geotiff::CrsTransform;
use mapflow_geo::imagery::tiff_writer;

/// Name of the demo's mosaic.
pub(crate) const DEMO_MOSAIC_NAME: &str = "Demo mosaic";
/// File name of the demo's uploaded image.
const DEMO_IMAGE_FILE: &str = "almaty-block.tif";
/// Id of the demo's mosaic.
const DEMO_MOSAIC_ID: &str = "7d0c2a5e-1f3b-4c6d-9e8a-4b2f6d1c3a01";
/// Side of the demo image, pixels.
const IMAGE_SIDE: u32 = 512;
/// Pixel size of the demo image, EPSG:3857 metres (about 0.58 m on the ground in Almaty).
const IMAGE_PIXEL: f64 = 0.8;
/// Upper-left corner of the demo image, lon/lat: a block in the centre of Almaty.
const IMAGE_ORIGIN: (f64, f64) = (76.9275, 43.2515);

/// How long each backdated demo run took, seconds.
const RUN_SECONDS: f64 = 420.0;

/// One demo processing: a request body and when its run started.
struct Run {
    id: &'static str,
    name: &'static str,
    description: &'static str,
    model_id: &'static str,
    /// West, south, east, north.
    bbox: [f64; 4],
    source: Value,
    blocks: Value,
    /// How long before the seeding the run started, seconds.
    started_ago: f64,
    /// How long the run takes, seconds.
    duration: f64,
}

/// The demo's processings, oldest first, with the running one's timing from
/// `finish_secs` (it is 40 % through its run at the seeding).
fn runs(finish_secs: f64) -> Vec<Run> {
    let day = 86_400.0;
    let running = (finish_secs.max(0.5)) / 0.6;
    let mapbox = |zoom: i64| json!({"dataProvider": {"providerName": seed::MAPBOX, "zoom": zoom}});
    let arcgis = |zoom: i64| json!({"dataProvider": {"providerName": seed::ARCGIS, "zoom": zoom}});
    vec![
        Run {
            id: "0d3e8f2a-6b1c-4d7e-a9f0-5c2b8e4d1a01",
            name: "Buildings: city centre",
            description: "Classified buildings with heights: hover one to see its class and height.",
            model_id: seed::BUILDINGS_ID,
            bbox: [76.915, 43.238, 76.945, 43.258],
            source: mapbox(18),
            blocks: json!([
                {"name": "Simplification", "enabled": true},
                {"name": "Classification", "enabled": true},
                {"name": "OSM", "enabled": false},
                {"name": "Heights", "enabled": true}
            ]),
            started_ago: 2.0 * day,
            duration: RUN_SECONDS,
        },
        Run {
            id: "0d3e8f2a-6b1c-4d7e-a9f0-5c2b8e4d1a02",
            name: "Roads: west of the centre",
            description: "The road network as polygons.",
            model_id: seed::ROADS_ID,
            bbox: [76.885, 43.245, 76.912, 43.265],
            source: mapbox(17),
            blocks: json!([]),
            started_ago: 2.0 * day - 3_600.0,
            duration: RUN_SECONDS,
        },
        Run {
            id: "0d3e8f2a-6b1c-4d7e-a9f0-5c2b8e4d1a03",
            name: "Forest: Kok Tobe foothills",
            description: "Forest and tree crowns in height bands of 0-4 m, 4-10 m and above.",
            model_id: seed::FOREST_ID,
            bbox: [76.955, 43.185, 76.985, 43.205],
            source: arcgis(17),
            blocks: json!([{"name": "Heights", "enabled": true}]),
            started_ago: day,
            duration: RUN_SECONDS,
        },
        Run {
            id: "0d3e8f2a-6b1c-4d7e-a9f0-5c2b8e4d1a04",
            name: "Buildings: Medeu district at zoom 15",
            description: "Zoom 15 is too coarse for the model: the run failed and was refunded.",
            model_id: seed::BUILDINGS_ID,
            bbox: [76.945, 43.225, 76.970, 43.245],
            source: mapbox(15),
            blocks: json!([]),
            started_ago: 3.0 * 3_600.0,
            duration: RUN_SECONDS,
        },
        Run {
            id: "0d3e8f2a-6b1c-4d7e-a9f0-5c2b8e4d1a05",
            name: "Construction: Bostandyk district",
            description: "Still running: it finishes about a minute after the sandbox first started.",
            model_id: seed::CONSTRUCTION_ID,
            bbox: [76.890, 43.215, 76.915, 43.235],
            source: arcgis(18),
            blocks: json!([]),
            started_ago: 0.4 * running,
            duration: running,
        },
    ]
}

/// A closed lon/lat box as a GeoJSON Polygon.
fn box_polygon([w, s, e, n]: [f64; 4]) -> Value {
    json!({"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]})
}

/// Fills the demo project of `state` (which must hold it) with its processings and the
/// account with the demo mosaic. A part that cannot be made is logged and left out: a
/// fresh sandbox always starts.
pub(crate) fn populate(state: &mut PersistedState, store: &RasterStore, finish_secs: f64, now: DateTime<Utc>) {
    let Some(project_id) = state.projects.iter().find(|p| p.name == seed::DEMO_PROJECT_NAME).map(|p| p.id.clone())
    else {
        tracing::error!("sandbox: no demo project to fill");
        return;
    };
    for run in runs(finish_secs) {
        let body = json!({
            "name": run.name,
            "description": run.description,
            "projectId": project_id,
            "wdId": run.model_id,
            "geometry": box_polygon(run.bbox),
            "params": {"sourceParams": run.source},
            "blocks": run.blocks,
            "meta": {"source-app": "mapflow-sandbox", "version": env!("CARGO_PKG_VERSION")},
        });
        let plan = match processing::plan(body, Purpose::Create, state) {
            Ok(plan) => plan,
            Err(e) => {
                tracing::error!("sandbox: demo processing \"{}\" refused: {}", run.name, e.message);
                continue;
            }
        };
        if plan.failure.is_empty() {
            state.account.remaining_credits += plan.cost;
        }
        if let Err(e) = processing::charge(state, plan.cost, plan.area_m2.round() as i64) {
            tracing::error!("sandbox: demo processing \"{}\" not paid: {}", run.name, e.message);
            continue;
        }
        let started = now - Duration::milliseconds((run.started_ago * 1000.0).round() as i64);
        let mut record = processing::record(plan, &project_id, started, run.duration);
        record.id = run.id.to_owned();
        state.processings.push(record);
    }
    // Refunds the failed run, as the first read after its failure does for any run.
    processing::settle(state, now);
    if let Err(e) = add_mosaic(state, store, now) {
        tracing::error!("sandbox: the demo mosaic could not be made: {e}");
    }
}

/// Adds the demo mosaic with its image, through an upload's checks and commit.
fn add_mosaic(state: &mut PersistedState, store: &RasterStore, now: DateTime<Utc>) -> Result<(), String> {
    let crs = CrsTransform::from_epsg(3857).map_err(|e| e.to_string())?;
    let origin = crs.from_lonlat(IMAGE_ORIGIN.0, IMAGE_ORIGIN.1).map_err(|e| e.to_string())?;
    let bytes = tiff_writer::encode_rgb_geotiff(&picture(), 3857, [origin.0, origin.1], [IMAGE_PIXEL, IMAGE_PIXEL])
        .map_err(|e| e.to_string())?;
    let received = rasters::receive_bytes(store, DEMO_IMAGE_FILE, &bytes).map_err(|e| e.to_string())?;
    let accepted = rasters::check_file(store.limits(), rasters::memory_used(state), received).map_err(|e| e.message)?;
    let record = MosaicRecord {
        id: DEMO_MOSAIC_ID.to_owned(),
        name: DEMO_MOSAIC_NAME.to_owned(),
        tags: vec!["demo".to_owned()],
        created_at: now - Duration::days(1),
    };
    rasters::commit(store, state, DEMO_MOSAIC_ID, Some(record), accepted).map_err(|e| e.message)?;
    Ok(())
}

/// The grain of a surface at a pixel: a little per-pixel noise, so flat colours look
/// photographed.
fn grain(x: u32, y: u32) -> i16 {
    let mut h = (u64::from(x) << 32 | u64::from(y)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    h ^= h >> 29;
    (h % 13) as i16 - 6
}

fn shade(c: [u8; 3], by: i16) -> Rgb<u8> {
    Rgb(c.map(|v| (i16::from(v) + by).clamp(0, 255) as u8))
}

/// The demo image: four city blocks seen from above, drawn procedurally — asphalt streets
/// with markings, pavements, roofs of several colours casting shadows, courtyards, lawns
/// and tree crowns, and one block a park.
pub(crate) fn picture() -> RgbImage {
    const ASPHALT: [u8; 3] = [78, 80, 84];
    const PAVEMENT: [u8; 3] = [168, 164, 156];
    const YARD: [u8; 3] = [150, 140, 118];
    const GRASS: [u8; 3] = [96, 132, 64];
    const ROOFS: [[u8; 3]; 5] = [[152, 72, 58], [176, 176, 180], [214, 212, 204], [110, 112, 120], [128, 96, 76]];
    let side = IMAGE_SIDE as i64;
    let block = side / 2;
    let street = 18;
    let mut img = RgbImage::from_fn(IMAGE_SIDE, IMAGE_SIDE, |x, y| shade(YARD, grain(x, y)));
    let fill = |img: &mut RgbImage, x0: i64, y0: i64, x1: i64, y1: i64, colour: [u8; 3], dim: i16| {
        for y in y0.max(0)..y1.min(side) {
            for x in x0.max(0)..x1.min(side) {
                img.put_pixel(x as u32, y as u32, shade(colour, dim + grain(x as u32, y as u32)));
            }
        }
    };
    let crown = |img: &mut RgbImage, cx: i64, cy: i64, r: i64| {
        for y in (cy - r)..=(cy + r) {
            for x in (cx - r)..=(cx + r) {
                let d2 = (x - cx).pow(2) + (y - cy).pow(2);
                if d2 <= r * r && (0..side).contains(&x) && (0..side).contains(&y) {
                    // Lit from the north-west: lighter towards it.
                    let light = (((cx - x) + (cy - y)) * 12 / r.max(1)) as i16;
                    img.put_pixel(x as u32, y as u32, shade([46, 92, 40], light + grain(x as u32, y as u32)));
                }
            }
        }
    };
    // Streets along the image's middle and edges, with pavements and a dashed centre line.
    for at in [0, block, side] {
        fill(&mut img, at - street / 2 - 3, 0, at + street / 2 + 3, side, PAVEMENT, 0);
        fill(&mut img, 0, at - street / 2 - 3, side, at + street / 2 + 3, PAVEMENT, 0);
    }
    for at in [0, block, side] {
        fill(&mut img, at - street / 2, 0, at + street / 2, side, ASPHALT, 0);
        fill(&mut img, 0, at - street / 2, side, at + street / 2, ASPHALT, 0);
    }
    for at in [0, block, side] {
        for d in (0..side).step_by(24) {
            fill(&mut img, at - 1, d, at + 1, d + 12, [222, 222, 214], 0);
            fill(&mut img, d, at - 1, d + 12, at + 1, [222, 222, 214], 0);
        }
    }
    let mut rng = Rng::seeded(0xA1_4A7F);
    for (bx, by) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
        let (x0, y0) = (bx * block + street / 2 + 4, by * block + street / 2 + 4);
        let (x1, y1) = ((bx + 1) * block - street / 2 - 4, (by + 1) * block - street / 2 - 4);
        if (bx, by) == (1, 1) {
            // A park: lawn, a path and many trees.
            fill(&mut img, x0, y0, x1, y1, GRASS, 0);
            fill(&mut img, x0, (y0 + y1) / 2 - 3, x1, (y0 + y1) / 2 + 3, PAVEMENT, -10);
            for _ in 0..40 {
                let (cx, cy) = (rng.int_by_remainder(x0 + 6, x1 - 7), rng.int_by_remainder(y0 + 6, y1 - 7));
                crown(&mut img, cx, cy, rng.int_by_remainder(5, 10));
            }
            continue;
        }
        // A perimeter block: buildings along the streets around a courtyard with a lawn.
        let depth = rng.int_by_remainder(34, 47);
        let inner = (x0 + depth, y0 + depth, x1 - depth, y1 - depth);
        fill(&mut img, inner.0 + 8, inner.1 + 8, inner.2 - 8, inner.3 - 8, GRASS, -6);
        let mut buildings = Vec::new();
        let mut x = x0;
        while x < x1 - 20 {
            let w = rng.int_by_remainder(40, 89).min(x1 - x);
            buildings.push((x, y0, x + w - 3, y0 + depth));
            buildings.push((x, y1 - depth, x + w - 3, y1));
            x += w;
        }
        let mut y = y0 + depth;
        while y < y1 - depth - 10 {
            let h = rng.int_by_remainder(30, 69).min(y1 - depth - y);
            buildings.push((x0, y, x0 + depth, y + h - 3));
            buildings.push((x1 - depth, y, x1, y + h - 3));
            y += h;
        }
        for &(a, b, c, d) in &buildings {
            // The shadow falls to the south-east, over whatever is there.
            let cast = rng.int_by_remainder(4, 9);
            fill(&mut img, a + cast, b + cast, c + cast, d + cast, [40, 40, 44], 0);
        }
        for &(a, b, c, d) in &buildings {
            let roof = ROOFS[rng.int_by_remainder(0, ROOFS.len() as i64 - 1) as usize];
            fill(&mut img, a, b, c, d, roof, 0);
            // A ridge or parapet line along the roof's long side.
            if c - a > d - b {
                fill(&mut img, a + 2, (b + d) / 2, c - 2, (b + d) / 2 + 1, roof, -24);
            } else {
                fill(&mut img, (a + c) / 2, b + 2, (a + c) / 2 + 1, d - 2, roof, -24);
            }
        }
        for _ in 0..8 {
            let (cx, cy) =
                (rng.int_by_remainder(inner.0 + 10, inner.2 - 11), rng.int_by_remainder(inner.1 + 10, inner.3 - 11));
            crown(&mut img, cx, cy, rng.int_by_remainder(5, 8));
        }
    }
    img
}

#[cfg(test)]
mod tests {
    use super::*;
    use mapflow_api::ProcessingStatus;

    fn fresh() -> (PersistedState, RasterStore, DateTime<Utc>) {
        let store = RasterStore::new(None).expect("store");
        let now = Utc::now();
        let mut state = PersistedState::seed();
        populate(&mut state, &store, 75.0, now);
        (state, store, now)
    }

    #[test]
    fn nonsense_durations_in_a_saved_state_do_not_overflow_dates() {
        let (state, _store, now) = fresh();
        let mut run = state.processings[0].clone();
        for secs in [f64::INFINITY, f64::NAN, 1e300, -5.0] {
            run.duration_secs = secs;
            let progress = run.progress(now);
            assert!(progress.percent <= 100, "{secs}: {progress:?}");
        }
        run.started = DateTime::<Utc>::MAX_UTC - Duration::seconds(1);
        run.duration_secs = crate::MAX_PROCESSING_SECONDS;
        assert_eq!(run.progress(now).status, ProcessingStatus::Unprocessed);
    }

    #[test]
    fn the_demo_project_is_filled() {
        let (state, store, now) = fresh();
        let demo = state.projects.iter().find(|p| p.name == seed::DEMO_PROJECT_NAME).expect("demo project");
        let runs: Vec<_> = state.processings.iter().filter(|p| p.project_id == demo.id).collect();
        assert_eq!(runs.len(), 5);
        let status = |p: &processing::ProcessingRecord| p.progress(now).status;
        let ok: Vec<_> = runs.iter().filter(|p| status(p) == ProcessingStatus::Ok).collect();
        assert_eq!(ok.len(), 3);
        let mut kinds: Vec<_> = ok.iter().map(|p| p.model_id.as_str()).collect();
        kinds.sort_unstable();
        let mut want = vec![seed::BUILDINGS_ID, seed::FOREST_ID, seed::ROADS_ID];
        want.sort_unstable();
        assert_eq!(kinds, want);
        let failed: Vec<_> = runs.iter().filter(|p| status(p) == ProcessingStatus::Failed).collect();
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].failure[0].code, "source-validator.TooLowZoom");
        assert!(!failed[0].charged, "the failed run is refunded");
        let running: Vec<_> = runs.iter().filter(|p| status(p) == ProcessingStatus::InProgress).collect();
        assert_eq!(running.len(), 1);
        assert_eq!(running[0].progress(now + Duration::seconds(76)).status, ProcessingStatus::Ok);
        assert_eq!(running[0].progress(now + Duration::seconds(74)).status, ProcessingStatus::InProgress);
        assert_eq!(state.account.remaining_credits, seed::INITIAL_CREDITS);

        // The same results on every machine: fixed ids seed them.
        let buildings = ok.iter().find(|p| p.model_id == seed::BUILDINGS_ID).expect("buildings");
        let result: Value =
            serde_json::from_slice(&crate::results::generate(&buildings.result_spec(), None)).expect("json");
        let features = result["features"].as_array().expect("features");
        assert!(features.len() > 50, "{}", features.len());
        assert!(features.iter().all(|f| f["properties"]["building_height"].is_number()));
        assert!(features.iter().all(|f| {
            f["properties"]["class_id"]
                .as_i64()
                .or_else(|| f["properties"]["class_id"].as_str()?.parse().ok())
                .is_some_and(|c| (101..=105).contains(&c))
        }));

        // The mosaic's image went through an upload's checks and lies in the demo area.
        let mosaic = state.mosaics.iter().find(|m| m.name == DEMO_MOSAIC_NAME).expect("mosaic");
        let images: Vec<_> = rasters::images_of(&state, &mosaic.id).collect();
        assert_eq!(images.len(), 1);
        let info = &images[0].info;
        assert_eq!((info.width, info.height, info.bands, info.epsg), (IMAGE_SIDE, IMAGE_SIDE, 3, Some(3857)));
        assert!(store.file_path(&images[0].id).exists());
        let footprint = mapflow_geo::imagery::geotiff::footprint_lonlat(info).expect("footprint");
        assert!(footprint.exterior().coords().all(|c| (76.92..76.94).contains(&c.x) && (43.24..43.26).contains(&c.y)));
    }

    #[test]
    fn the_demo_image_is_drawn_the_same_every_time() {
        let a = picture();
        assert_eq!(a, picture());
        let distinct: std::collections::HashSet<[u8; 3]> = a.pixels().map(|p| p.0).collect();
        assert!(distinct.len() > 100, "{}", distinct.len());
        // Greenery, asphalt and roofs are all there.
        let green = a.pixels().filter(|p| p[1] > p[0] + 20 && p[1] > p[2] + 20).count();
        assert!(green > 5_000, "{green}");
    }
}
