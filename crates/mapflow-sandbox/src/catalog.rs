//! The sandbox's imagery catalog: a deterministic, made-up archive of satellite imagery
//! over the whole world, the search over it (`POST /catalog/meta`), and the pictures of
//! its previews, served from a second origin.
//!
//! The world is cut into grid cells per image family (0.25° for sub-metre scenes, 1° for
//! the rest). A cell's images are a pure function of the cell's index and the image's
//! slot in it, so the same search always finds the same images, an image can be rebuilt
//! from its id alone (`legion-<ix>-<iy>-<n>`) and nothing is stored. Acquisitions go back
//! four years from a fixed [`EPOCH`], not from today, so answers never drift between runs.
//!
//! Families, all from the seed's catalog providers:
//! - `legion-…`: WorldView-2/3, GeoEye-1, WorldView Legion, Pléiades and Pléiades Neo
//!   scenes of 10–26 km, tilted along a sun-synchronous ground track and sheared by the
//!   off-nadir look;
//! - `legion-tasked-…`: more sub-metre scenes over populated places, where imaging
//!   satellites are tasked most: short strips near the bundled gazetteer's cities of
//!   [`TASKED_MIN_POPULATION`] people or more, mostly clear (tasked collections are
//!   accepted only under a cloud ceiling), so that a search over a city with a date
//!   window of a few months still finds sub-metre imagery;
//! - `legion-spot-…`: SPOT 6/7 scenes of about 60 km;
//! - `legion-mosaic-…`: yearly cloud-free basemap mosaics, one cell each, with tiled (xyz)
//!   previews;
//! - `sentinel2-…`: Sentinel-2 granules that, as on the real MGRS grid, repeat the same
//!   footprint at every revisit (some only partly covered by the swath).
//!
//! Some scenes are "unavailable" (not orderable): only the server knows, and
//! `hideUnavailable` drops them, without a new key in the answer.
//!
//! Previews live on a second listener (another port, no auth), so the client can be
//! tested for not sending its credentials to a foreign host: [`Previews`] knows its base
//! URL and records whether each request carried an `Authorization` header.

use std::collections::{BTreeSet, HashMap};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, NaiveDate, Utc};
use geo::{BooleanOps as _, BoundingRect as _, GeodesicArea as _};
use geo_types::{Coord, LineString, MultiPolygon, Polygon, Rect};
use image::{Rgb, RgbImage, Rgba, RgbaImage};

use super::imagery;
use super::rng::Rng;
use super::seed;
use super::state::iso;
use mapflow_api::{CatalogImage, CatalogSortBy, SortOrder};
use mapflow_geo::{Aoi, mercator};

/// The catalog's "today", 2026-11-01T00:00:00Z (Unix seconds): acquisitions are dated
/// up to [`ARCHIVE_DAYS`] before it. Fixed, so a search answers the same on every run.
pub(crate) const EPOCH: i64 = 1_793_491_200;

/// How far back the archive goes: four years.
const ARCHIVE_DAYS: i64 = 4 * 365 + 1;

/// The most grid cells one family may visit for one search; beyond, the AOI's extent is
/// refused (an AOI within the area limit but spread over a continent, e.g. a thin ring).
const MAX_CELLS: usize = 20_000;

/// No image is generated beyond this latitude (the imaging satellites' practical limit,
/// and about Web Mercator's).
const MAX_LAT: f64 = 84.0;

/// Kilometres per degree of latitude, and of longitude at the equator.
const KM_PER_DEG_LAT: f64 = 110.574;
const KM_PER_DEG_LON: f64 = 111.320;

/// Size of a preview picture, pixels.
pub(crate) const PREVIEW_SIZE: u32 = 256;

/// A family of images: one provider, one grid, one way of making images.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Family {
    /// Sub-metre scenes of the Legion provider.
    Scene,
    /// Sub-metre scenes over populated places, of the Legion provider.
    Tasked,
    /// SPOT 6/7 scenes (1.5 m) of the Legion provider.
    Spot,
    /// Yearly basemap mosaics of the Legion provider.
    Mosaic,
    /// Sentinel-2 granules (10 m).
    Sentinel,
}

impl Family {
    const ALL: [Family; 5] = [Family::Scene, Family::Tasked, Family::Spot, Family::Mosaic, Family::Sentinel];

    /// The id prefix; ids are `<prefix>-<ix>-<iy>-<slot>`.
    fn prefix(self) -> &'static str {
        match self {
            Family::Scene => "legion",
            Family::Tasked => "legion-tasked",
            Family::Spot => "legion-spot",
            Family::Mosaic => "legion-mosaic",
            Family::Sentinel => "sentinel2",
        }
    }

    /// The catalog provider (`providerName`) of the family's images.
    fn provider(self) -> &'static str {
        match self {
            Family::Sentinel => seed::SENTINEL_2,
            _ => seed::LEGION,
        }
    }

    fn is_mosaic(self) -> bool {
        self == Family::Mosaic
    }

    /// The grid's cell size, degrees.
    fn cell_deg(self) -> f64 {
        match self {
            Family::Scene | Family::Tasked => 0.25,
            _ => 1.0,
        }
    }

    /// How far, km, a footprint may reach beyond its cell (its centre is inside the cell).
    fn reach_km(self) -> f64 {
        match self {
            Family::Scene => 24.0,
            // A strip's half diagonal beyond the farthest offset from its city.
            Family::Tasked => TASKED_MAX_OFFSET_KM + 14.0,
            Family::Spot => 50.0,
            Family::Mosaic => 0.0,
            Family::Sentinel => 85.0,
        }
    }

    /// A distinct seed per family.
    fn tag(self) -> u64 {
        match self {
            Family::Scene => 0x5CE4E,
            Family::Tasked => 0x7A5CED,
            Family::Spot => 0x5B07,
            Family::Mosaic => 0x4051C,
            Family::Sentinel => 0x5E47,
        }
    }

    /// Images per cell at the equator; scaled by cos(latitude) so that the images over a
    /// given point are about as many everywhere (cells narrow towards the poles).
    fn per_cell(self) -> f64 {
        match self {
            Family::Scene => 12.0,
            // Not by cell: by the cells' cities (see `slots`).
            Family::Tasked => 0.0,
            Family::Spot => 6.0,
            Family::Mosaic => 4.0,
            Family::Sentinel => 18.0,
        }
    }

    /// How many slots the cell (ix, iy) has; a slot may still hold no image.
    fn slots(self, ix: i64, iy: i64) -> u64 {
        let Some(cell) = Cell::new(self, ix, iy) else { return 0 };
        if cell.south < -MAX_LAT || cell.north > MAX_LAT {
            return 0;
        }
        if self.is_mosaic() {
            // One per year; a year may be missing (see `mosaic`).
            return self.per_cell() as u64;
        }
        if self == Family::Tasked {
            return tasked_cities(ix, iy).iter().map(|c| c.scenes).sum();
        }
        let mean = self.per_cell() * cell.centre().1.to_radians().cos();
        let mut rng = Rng::from_parts(&[self.tag(), ix as u64, iy as u64, u64::MAX]);
        (mean.floor() + f64::from(u8::from(rng.unit() < mean.fract()))) as u64
    }

    /// The image in slot `slot` of cell (ix, iy), if the slot holds one.
    fn image(self, ix: i64, iy: i64, slot: u64) -> Option<Scene> {
        let cell = Cell::new(self, ix, iy)?;
        let mut rng = Rng::from_parts(&[self.tag(), ix as u64, iy as u64, slot]);
        let id = format!("{}-{ix}-{iy}-{slot}", self.prefix());
        let scene = match self {
            Family::Scene => high_res(&cell, &mut rng, id),
            Family::Tasked => tasked(ix, iy, slot, &mut rng, id),
            Family::Spot => spot(&cell, &mut rng, id),
            Family::Mosaic => mosaic(&cell, &mut rng, id, slot),
            Family::Sentinel => sentinel(&cell, &mut rng, id),
        }?;
        let inside = scene.footprint.exterior().coords().all(|c| c.x.abs() <= 180.0 && c.y.abs() <= MAX_LAT + 1.0);
        inside.then_some(scene)
    }
}

/// One grid cell, in degrees.
struct Cell {
    west: f64,
    south: f64,
    east: f64,
    north: f64,
}

impl Cell {
    fn new(family: Family, ix: i64, iy: i64) -> Option<Self> {
        let d = family.cell_deg();
        let (cols, rows) = ((360.0 / d) as i64, (180.0 / d) as i64);
        if !(0..cols).contains(&ix) || !(0..rows).contains(&iy) {
            return None;
        }
        let (west, south) = (-180.0 + ix as f64 * d, -90.0 + iy as f64 * d);
        Some(Self { west, south, east: west + d, north: south + d })
    }

    fn centre(&self) -> (f64, f64) {
        ((self.west + self.east) / 2.0, (self.south + self.north) / 2.0)
    }

    /// A point drawn uniformly inside the cell.
    fn random_point(&self, rng: &mut Rng) -> (f64, f64) {
        (rng.range(self.west, self.east), rng.range(self.south, self.north))
    }
}

/// One catalog image as the server knows it.
#[derive(Clone, Debug)]
pub(crate) struct Scene {
    pub id: String,
    pub provider: &'static str,
    pub mosaic: bool,
    pub sensor: &'static str,
    pub sat_id: &'static str,
    pub bands: &'static str,
    /// Metres per pixel.
    pub resolution: f64,
    /// Percent, 0–100.
    pub cloud_cover: f64,
    /// Degrees, 0–35.
    pub off_nadir: f64,
    pub acquired: DateTime<Utc>,
    pub zoom: i64,
    /// Whether it can be ordered or processed; only `hideUnavailable` shows it.
    pub available: bool,
    /// Lon/lat, counter-clockwise, closed.
    pub footprint: Polygon<f64>,
}

impl Scene {
    /// The image as the API answers it, with the preview on `previews` and the share of
    /// the AOI it covers.
    pub fn to_image(&self, previews: &Previews, intersection_percent: f64) -> CatalogImage {
        let ring: Vec<[f64; 2]> = self.footprint.exterior().coords().map(|c| [c.x, c.y]).collect();
        let (preview_type, preview_url) =
            if self.mosaic { ("xyz", previews.xyz_url(&self.id)) } else { ("png", previews.png_url(&self.id)) };
        CatalogImage {
            id: self.id.clone(),
            footprint: Some(serde_json::json!({"type": "Polygon", "coordinates": [ring]})),
            pixel_resolution: Some(self.resolution),
            acquisition_date: Some(iso(self.acquired)),
            product_type: Some(if self.mosaic { "Mosaic" } else { "Image" }.to_owned()),
            sensor: Some(self.sensor.to_owned()),
            sat_id: Some(self.sat_id.to_owned()),
            color_band_order: Some(self.bands.to_owned()),
            cloud_cover: Some(self.cloud_cover),
            off_nadir_angle: Some(self.off_nadir),
            preview_type: Some(preview_type.to_owned()),
            preview_url: Some(preview_url),
            provider_name: Some(self.provider.to_owned()),
            zoom: Some(self.zoom),
            min_area_sqkm: seed::search_data_providers()
                .into_iter()
                .find(|p| p.name == self.provider)
                .and_then(|p| p.min_area_sq_km),
            aoi_intersection_percent: Some(intersection_percent),
        }
    }
}

/// The image with this id, rebuilt from the id alone.
pub(crate) fn find(id: &str) -> Option<Scene> {
    // Longer prefixes first: "legion-" also starts the spot and mosaic ids.
    let mut families = Family::ALL;
    families.sort_by_key(|f| std::cmp::Reverse(f.prefix().len()));
    let (family, rest) =
        families.iter().find_map(|f| id.strip_prefix(f.prefix())?.strip_prefix('-').map(|rest| (*f, rest)))?;
    let mut parts = rest.split('-').map(|p| p.parse::<u64>().ok());
    let (ix, iy, slot) = (parts.next()??, parts.next()??, parts.next()??);
    if parts.next().is_some() {
        return None;
    }
    let (ix, iy) = (i64::try_from(ix).ok()?, i64::try_from(iy).ok()?);
    if slot >= family.slots(ix, iy) {
        return None;
    }
    // The id must be the one the image gets (no "+1", no leading zeros).
    family.image(ix, iy, slot).filter(|s| s.id == id)
}

/// A satellite of the high-resolution family.
struct Satellite {
    sensor: &'static str,
    sat_ids: &'static [&'static str],
    /// Ground sample distance at nadir, m.
    gsd: f64,
    /// Whether the resolution coarsens off nadir (native products); resampled products
    /// (Airbus) are delivered at a fixed one.
    coarsens: bool,
    swath_km: f64,
    length_km: (f64, f64),
    max_off_nadir: f64,
    /// The first day it images, as days before the epoch (`None`: the whole archive).
    since_days_ago: Option<i64>,
    weight: u32,
}

/// Sub-metre satellites, with their real swaths and resolutions.
const HIGH_RES: [Satellite; 6] = [
    Satellite {
        sensor: "WorldView-3",
        sat_ids: &["WV03"],
        gsd: 0.31,
        coarsens: true,
        swath_km: 13.1,
        length_km: (12.0, 24.0),
        max_off_nadir: 35.0,
        since_days_ago: None,
        weight: 20,
    },
    Satellite {
        sensor: "WorldView-2",
        sat_ids: &["WV02"],
        gsd: 0.46,
        coarsens: true,
        swath_km: 16.4,
        length_km: (14.0, 26.0),
        max_off_nadir: 35.0,
        since_days_ago: None,
        weight: 16,
    },
    Satellite {
        sensor: "GeoEye-1",
        sat_ids: &["GE01"],
        gsd: 0.41,
        coarsens: true,
        swath_km: 15.2,
        length_km: (12.0, 22.0),
        max_off_nadir: 35.0,
        since_days_ago: None,
        weight: 8,
    },
    Satellite {
        sensor: "WorldView Legion",
        sat_ids: &["LG01", "LG02", "LG03", "LG04", "LG05", "LG06"],
        gsd: 0.29,
        coarsens: true,
        swath_km: 9.3,
        length_km: (10.0, 18.0),
        max_off_nadir: 35.0,
        // From 2024-09-01 on.
        since_days_ago: Some(791),
        weight: 16,
    },
    Satellite {
        sensor: "Pléiades",
        sat_ids: &["PHR1A", "PHR1B"],
        gsd: 0.5,
        coarsens: false,
        swath_km: 20.0,
        length_km: (18.0, 22.0),
        max_off_nadir: 30.0,
        since_days_ago: None,
        weight: 14,
    },
    Satellite {
        sensor: "Pléiades Neo",
        sat_ids: &["PNEO3", "PNEO4"],
        gsd: 0.3,
        coarsens: false,
        swath_km: 14.0,
        length_km: (12.0, 20.0),
        max_off_nadir: 30.0,
        since_days_ago: None,
        weight: 12,
    },
];

/// A sub-metre scene: a strip along a sun-synchronous track, sheared by the off-nadir look.
fn high_res(cell: &Cell, rng: &mut Rng, id: String) -> Option<Scene> {
    let point = cell.random_point(rng);
    sub_metre(rng, id, point, Acquisition::Archive)
}

/// How a sub-metre scene was taken: from the archive, or tasked over a city (closer to
/// nadir, shorter, mostly clear, more often available).
#[derive(Clone, Copy, PartialEq)]
enum Acquisition {
    Archive,
    Tasked,
}

/// A sub-metre scene at `(lon, lat)` from one of the satellites flying on its day.
fn sub_metre(rng: &mut Rng, id: String, (lon, lat): (f64, f64), how: Acquisition) -> Option<Scene> {
    let tasked = how == Acquisition::Tasked;
    let days_ago = rng.int(1, ARCHIVE_DAYS);
    let flying: Vec<&Satellite> = HIGH_RES.iter().filter(|s| s.since_days_ago.is_none_or(|d| days_ago <= d)).collect();
    let total: u32 = flying.iter().map(|s| s.weight).sum();
    let mut pick = rng.int(0, i64::from(total) - 1);
    let sat = flying.iter().find(|s| {
        pick -= i64::from(s.weight);
        pick < 0
    })?;
    // Tasked looks are steered closer to nadir than archive ones.
    let off_nadir = if tasked {
        round2(0.8 * sat.max_off_nadir * rng.unit().powf(1.8))
    } else {
        round2(sat.max_off_nadir * rng.unit().powf(1.6))
    };
    let look = off_nadir / 35.0;
    let resolution = if sat.coarsens { round2(sat.gsd * (1.0 + 0.08 * look * look)) } else { sat.gsd };
    let width = sat.swath_km * (1.0 + 0.3 * look * look);
    let length = if tasked { rng.range(6.0, 12.0) } else { rng.range(sat.length_km.0, sat.length_km.1) };
    let heading = track_azimuth(lat) + rng.range(-4.0, 4.0);
    let shear = 0.15 * look * if rng.chance(0.5) { 1.0 } else { -1.0 };
    let footprint = quad(rng, (lon, lat), width, length, heading, shear);
    Some(Scene {
        id,
        provider: seed::LEGION,
        mosaic: false,
        sensor: sat.sensor,
        sat_id: sat.sat_ids[rng.int(0, sat.sat_ids.len() as i64 - 1) as usize],
        bands: if rng.chance(0.7) { "RGBN" } else { "RGB" },
        resolution,
        // Tasked scenes are accepted under a cloud ceiling of 12 %.
        cloud_cover: if tasked { round2(12.0 * rng.unit().powi(2)) } else { round2(100.0 * rng.unit().powi(3)) },
        off_nadir,
        acquired: morning(days_ago, lon, rng),
        zoom: 18,
        available: rng.chance(if tasked { 0.92 } else { 0.88 }),
        footprint,
    })
}

/// Cities of at least this many people get tasked sub-metre scenes.
pub(crate) const TASKED_MIN_POPULATION: u64 = 300_000;
/// Tasked scenes of a city of a million people over the four years of the archive; a
/// city gets this many times the square root of its millions, at most
/// [`TASKED_MAX_FACTOR`] times.
const TASKED_PER_MILLION: f64 = 110.0;
/// The most a city's size multiplies its tasked scenes (and their spread).
const TASKED_MAX_FACTOR: f64 = 1.5;
/// The farthest a tasked scene's centre lies from its city, km.
const TASKED_MAX_OFFSET_KM: f64 = 36.0;
/// A city this close to a larger one, km, is part of the larger one's metropolitan area
/// and gets no tasked scenes of its own (else a conurbation such as Tokyo–Yokohama would
/// stack them several times over).
const TASKED_METRO_KM: f64 = 35.0;

/// A city as the tasked family sees it.
#[derive(Clone, Copy, Debug)]
struct TaskedCity {
    lon: f64,
    lat: f64,
    /// √(millions of people), capped at [`TASKED_MAX_FACTOR`].
    factor: f64,
    /// How many tasked scenes it has.
    scenes: u64,
}

/// The cities of the gazetteer in the 0.25° cell (ix, iy), largest first, none within
/// [`TASKED_METRO_KM`] of a larger one; read from the bundled gazetteer once.
fn tasked_cities(ix: i64, iy: i64) -> &'static [TaskedCity] {
    static CELLS: std::sync::OnceLock<HashMap<(i64, i64), Vec<TaskedCity>>> = std::sync::OnceLock::new();
    let cells = CELLS.get_or_init(|| {
        let d = Family::Tasked.cell_deg();
        let mut cells: HashMap<(i64, i64), Vec<TaskedCity>> = HashMap::new();
        let mut kept: Vec<(f64, f64)> = Vec::new();
        for place in mapflow_geo::gazetteer::Gazetteer::largest(TASKED_MIN_POPULATION) {
            if place.lat.abs() > MAX_LAT - 1.0 {
                continue;
            }
            let near = |&(lon, lat): &(f64, f64)| {
                let dx = (place.lon - lon) * KM_PER_DEG_LON * place.lat.to_radians().cos();
                let dy = (place.lat - lat) * KM_PER_DEG_LAT;
                dx.hypot(dy) < TASKED_METRO_KM
            };
            if kept.iter().any(near) {
                continue;
            }
            kept.push((place.lon, place.lat));
            let factor = (place.population as f64 / 1e6).sqrt().min(TASKED_MAX_FACTOR);
            let scenes = (TASKED_PER_MILLION * factor).round() as u64;
            let key = (((place.lon + 180.0) / d).floor() as i64, ((place.lat + 90.0) / d).floor() as i64);
            cells.entry(key).or_default().push(TaskedCity { lon: place.lon, lat: place.lat, factor, scenes });
        }
        cells
    });
    cells.get(&(ix, iy)).map_or(&[], Vec::as_slice)
}

/// A tasked sub-metre scene: a short strip near one of the cell's cities (the city that
/// slot `slot` falls to), spread over its metropolitan area, mostly clear.
fn tasked(ix: i64, iy: i64, slot: u64, rng: &mut Rng, id: String) -> Option<Scene> {
    let mut rest = slot;
    let city = tasked_cities(ix, iy).iter().find(|c| {
        let here = rest < c.scenes;
        rest = rest.saturating_sub(c.scenes);
        here
    })?;
    // A Gaussian offset (Box-Muller), as wide as the city is large, cut at the maximum.
    let spread = 5.0 + 7.0 * city.factor;
    let (u1, u2) = (rng.unit().max(1e-12), rng.unit());
    let r = (spread * (-2.0 * u1.ln()).sqrt()).min(TASKED_MAX_OFFSET_KM);
    let (east, north) = (r * (std::f64::consts::TAU * u2).cos(), r * (std::f64::consts::TAU * u2).sin());
    let lat = city.lat + north / KM_PER_DEG_LAT;
    let lon = city.lon + east / (KM_PER_DEG_LON * city.lat.to_radians().cos().max(1e-6));
    sub_metre(rng, id, (lon, lat), Acquisition::Tasked)
}

/// A SPOT 6/7 scene of about 60 km.
fn spot(cell: &Cell, rng: &mut Rng, id: String) -> Option<Scene> {
    let (lon, lat) = cell.random_point(rng);
    let days_ago = rng.int(1, ARCHIVE_DAYS);
    let off_nadir = round2(30.0 * rng.unit().powf(1.4));
    let length = rng.range(40.0, 60.0);
    let heading = track_azimuth(lat) + rng.range(-3.0, 3.0);
    let shear = 0.1 * off_nadir / 30.0 * if rng.chance(0.5) { 1.0 } else { -1.0 };
    let footprint = quad(rng, (lon, lat), 60.0, length, heading, shear);
    Some(Scene {
        id,
        provider: seed::LEGION,
        mosaic: false,
        sensor: "SPOT",
        sat_id: if rng.chance(0.5) { "SPOT6" } else { "SPOT7" },
        bands: "RGBN",
        resolution: 1.5,
        cloud_cover: round2(100.0 * rng.unit().powi(3)),
        off_nadir,
        acquired: morning(days_ago, lon, rng),
        zoom: 16,
        available: rng.chance(0.9),
        footprint,
    })
}

/// The basemap mosaic of year 2023 + `slot` over the whole cell, if that year has one.
fn mosaic(cell: &Cell, rng: &mut Rng, id: String, slot: u64) -> Option<Scene> {
    if !rng.chance(0.65) {
        return None;
    }
    let year = 2023 + i32::try_from(slot).ok()?;
    let date = NaiveDate::from_ymd_opt(year, rng.int(4, 9) as u32, rng.int(1, 28) as u32)?;
    let acquired = date.and_hms_opt(0, 0, 0)?.and_utc();
    if acquired.timestamp() >= EPOCH {
        return None;
    }
    let fine = rng.chance(0.6);
    let ring = vec![
        Coord { x: cell.west, y: cell.south },
        Coord { x: cell.east, y: cell.south },
        Coord { x: cell.east, y: cell.north },
        Coord { x: cell.west, y: cell.north },
        Coord { x: cell.west, y: cell.south },
    ];
    Some(Scene {
        id,
        provider: seed::LEGION,
        mosaic: true,
        sensor: if fine { "WorldView-3" } else { "WorldView-2" },
        sat_id: if fine { "WV03" } else { "WV02" },
        bands: "RGB",
        resolution: if fine { 0.3 } else { 0.5 },
        cloud_cover: round2(2.0 * rng.unit()),
        off_nadir: round2(rng.range(5.0, 25.0)),
        acquired,
        zoom: 18,
        available: true,
        footprint: Polygon::new(LineString::new(ring), vec![]),
    })
}

/// A Sentinel-2 granule: the cell's fixed tile (about 115 km, turned by the UTM grid's
/// convergence), fully or, at a swath edge, partly covered.
fn sentinel(cell: &Cell, rng: &mut Rng, id: String) -> Option<Scene> {
    let (lon, lat) = cell.centre();
    let days_ago = rng.int(1, ARCHIVE_DAYS);
    let central_meridian = ((lon + 180.0) / 6.0).floor() * 6.0 - 177.0;
    let convergence = (lon - central_meridian) * lat.to_radians().sin();
    let half = 57.5;
    let (mut x0, mut x1) = (-half, half);
    if rng.chance(0.25) {
        let keep = rng.range(0.35, 0.8) * 2.0 * half;
        if rng.chance(0.5) {
            x1 = x0 + keep;
        } else {
            x0 = x1 - keep;
        }
    }
    let local = [(x0, -half), (x1, -half), (x1, half), (x0, half)];
    let footprint = ring_from_local((lon, lat), &local, convergence);
    let sat_id = if days_ago <= 649 && rng.chance(0.33) {
        // Sentinel-2C, operational since 2025-01-21.
        "S2C"
    } else if rng.chance(0.5) {
        "S2A"
    } else {
        "S2B"
    };
    Some(Scene {
        id,
        provider: seed::SENTINEL_2,
        mosaic: false,
        sensor: "MSI",
        sat_id,
        bands: "RGBN",
        resolution: 10.0,
        cloud_cover: round2(100.0 * rng.unit().powi(2)),
        off_nadir: round2(10.0 * rng.unit()),
        acquired: morning(days_ago, lon, rng),
        zoom: 14,
        available: rng.chance(0.97),
        footprint,
    })
}

/// The azimuth, degrees clockwise from north, of a sun-synchronous ground track (98°
/// inclination) at `lat`: about 8° at the equator, steeper towards the poles.
fn track_azimuth(lat: f64) -> f64 {
    (0.139 / lat.to_radians().cos().max(1e-6)).clamp(-1.0, 1.0).asin().to_degrees()
}

/// The acquisition time of a morning pass `days_ago` days before the epoch: local solar
/// time about 10:30, as for sun-synchronous imaging satellites.
fn morning(days_ago: i64, lon: f64, rng: &mut Rng) -> DateTime<Utc> {
    let local_hours = 10.5 + rng.range(-0.6, 0.6);
    let seconds = ((local_hours - lon / 15.0) * 3600.0).round() as i64;
    DateTime::from_timestamp(EPOCH - days_ago * 86_400 + seconds, 0).unwrap_or_default()
}

/// A strip `width` × `length` km around `centre`, its long side at `azimuth` degrees,
/// sheared by `shear` (an off-nadir look makes it a parallelogram) and with its corners
/// nudged a little, so that no two are alike.
fn quad(rng: &mut Rng, centre: (f64, f64), width: f64, length: f64, azimuth: f64, shear: f64) -> Polygon<f64> {
    let (w, l) = (width / 2.0, length / 2.0);
    let mut nudge = |x: f64, y: f64| (x + rng.range(-0.02, 0.02) * width, y + rng.range(-0.02, 0.02) * length);
    let local = [(-w, -l), (w, -l), (w, l), (-w, l)].map(|(x, y)| nudge(x + shear * y, y));
    ring_from_local(centre, &local, azimuth)
}

/// A closed counter-clockwise ring from corners in km east/north of `centre` (given
/// counter-clockwise), turned clockwise by `azimuth` degrees, rounded to 1e-6°.
fn ring_from_local(centre: (f64, f64), local: &[(f64, f64)], azimuth: f64) -> Polygon<f64> {
    let (sin, cos) = azimuth.to_radians().sin_cos();
    let km_per_lon = KM_PER_DEG_LON * centre.1.to_radians().cos().max(1e-6);
    let mut coords: Vec<Coord<f64>> = local
        .iter()
        .map(|&(x, y)| {
            let (east, north) = (x * cos + y * sin, -x * sin + y * cos);
            Coord { x: round6(centre.0 + east / km_per_lon), y: round6(centre.1 + north / KM_PER_DEG_LAT) }
        })
        .collect();
    coords.push(coords[0]);
    Polygon::new(LineString::new(coords), vec![])
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

fn round6(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}

/// The filters of a search, checked and parsed by the route.
#[derive(Clone, Debug, Default)]
pub(crate) struct Filters {
    pub date_from: Option<DateTime<Utc>>,
    pub date_to: Option<DateTime<Utc>>,
    pub min_resolution: Option<f64>,
    pub max_resolution: Option<f64>,
    pub max_cloud_cover: Option<f64>,
    pub min_off_nadir: Option<f64>,
    pub max_off_nadir: Option<f64>,
    pub min_intersection_percent: Option<f64>,
    pub images: bool,
    pub mosaics: bool,
    /// Provider names (any case); `None` for every provider.
    pub providers: Option<Vec<String>>,
    pub hide_unavailable: bool,
}

impl Filters {
    fn wants(&self, family: Family) -> bool {
        let kind = if family.is_mosaic() { self.mosaics } else { self.images };
        let provider =
            self.providers.as_ref().is_none_or(|ps| ps.iter().any(|p| p.eq_ignore_ascii_case(family.provider())));
        kind && provider
    }

    /// Every filter but the AOI's.
    pub(crate) fn passes(&self, s: &Scene) -> bool {
        let at_least = |v: f64, bound: Option<f64>| bound.is_none_or(|b| v >= b);
        let at_most = |v: f64, bound: Option<f64>| bound.is_none_or(|b| v <= b);
        self.date_from.is_none_or(|d| s.acquired >= d)
            && self.date_to.is_none_or(|d| s.acquired <= d)
            && at_least(s.resolution, self.min_resolution)
            && at_most(s.resolution, self.max_resolution)
            && at_most(s.cloud_cover, self.max_cloud_cover)
            && at_least(s.off_nadir.abs(), self.min_off_nadir)
            && at_most(s.off_nadir.abs(), self.max_off_nadir)
            && (s.available || !self.hide_unavailable)
    }
}

/// An image found by a search, with the share of the AOI it covers (percent, 2 decimals).
#[derive(Clone, Debug)]
pub(crate) struct Found {
    pub scene: Scene,
    pub intersection_percent: f64,
}

/// Every image intersecting `aoi` that passes `filters`, in no particular order. Errs
/// (with a message) when the AOI is spread so wide that the search would visit too many
/// cells. CPU-bound (milliseconds to tens of): run it off the async workers.
pub(crate) fn search(aoi: &Aoi, filters: &Filters) -> Result<Vec<Found>, String> {
    let aoi_area: f64 = aoi.areas_m2().iter().sum();
    if aoi.is_empty() || aoi_area <= 0.0 {
        return Ok(Vec::new());
    }
    let area = MultiPolygon::new(aoi.polygons.clone());
    let boxes: Vec<Rect<f64>> = aoi.polygons.iter().filter_map(|p| p.bounding_rect()).collect();
    let mut found = Vec::new();
    for family in Family::ALL.into_iter().filter(|f| filters.wants(*f)) {
        for (ix, iy) in cells(family, &boxes)? {
            for slot in 0..family.slots(ix, iy) {
                let Some(scene) = family.image(ix, iy, slot) else { continue };
                if !filters.passes(&scene) {
                    continue;
                }
                let Some(bounds) = scene.footprint.bounding_rect() else { continue };
                if !boxes.iter().any(|b| overlaps(b, &bounds)) {
                    continue;
                }
                let inside: f64 = area.intersection(&scene.footprint).0.iter().map(polygon_area_m2).sum();
                let percent = round2((100.0 * inside / aoi_area).min(100.0));
                if percent <= 0.0 || filters.min_intersection_percent.is_some_and(|min| percent < min) {
                    continue;
                }
                found.push(Found { scene, intersection_percent: percent });
            }
        }
    }
    Ok(found)
}

/// The cells of `family` whose images may reach into any of `boxes`.
fn cells(family: Family, boxes: &[Rect<f64>]) -> Result<BTreeSet<(i64, i64)>, String> {
    let d = family.cell_deg();
    let reach_lat = family.reach_km() / KM_PER_DEG_LAT;
    let mut out = BTreeSet::new();
    for b in boxes {
        let (south, north) = ((b.min().y - reach_lat).max(-90.0), (b.max().y + reach_lat).min(90.0));
        let widest = south.abs().max(north.abs()).min(MAX_LAT + 1.0);
        let reach_lon = family.reach_km() / (KM_PER_DEG_LON * widest.to_radians().cos());
        let (west, east) = ((b.min().x - reach_lon).max(-180.0), (b.max().x + reach_lon).min(180.0));
        let index = |v: f64, origin: f64| ((v - origin) / d).floor() as i64;
        let (x0, x1) = (index(west, -180.0), index(east, -180.0).min((360.0 / d) as i64 - 1));
        let (y0, y1) = (index(south, -90.0), index(north, -90.0).min((180.0 / d) as i64 - 1));
        let count = (x1 - x0 + 1).max(0) as usize * (y1 - y0 + 1).max(0) as usize;
        if out.len() + count > MAX_CELLS {
            return Err("The search area is spread too wide; search smaller parts of it one at a time".to_owned());
        }
        out.extend((x0..=x1).flat_map(|x| (y0..=y1).map(move |y| (x, y))));
    }
    Ok(out)
}

fn overlaps(a: &Rect<f64>, b: &Rect<f64>) -> bool {
    a.min().x <= b.max().x && b.min().x <= a.max().x && a.min().y <= b.max().y && b.min().y <= a.max().y
}

/// Geodesic area, m², whatever the winding (as [`Aoi::areas_m2`] measures the AOI).
fn polygon_area_m2(p: &Polygon<f64>) -> f64 {
    p.geodesic_area_signed().abs()
}

/// Sorts the results by `by` in `order`, ties by id (always ascending), so pages of the
/// same search never overlap or skip.
pub(crate) fn sort(found: &mut [Found], by: CatalogSortBy, order: SortOrder) {
    use std::cmp::Ordering;
    let key = |a: &Found, b: &Found| -> Ordering {
        let (a, b) = (&a.scene, &b.scene);
        match by {
            CatalogSortBy::ProviderName => a.provider.cmp(b.provider),
            CatalogSortBy::SatId => a.sat_id.cmp(b.sat_id),
            CatalogSortBy::CloudCover => a.cloud_cover.total_cmp(&b.cloud_cover),
            CatalogSortBy::OffNadirAngle => a.off_nadir.total_cmp(&b.off_nadir),
            CatalogSortBy::AcquisitionDate => a.acquired.cmp(&b.acquired),
            CatalogSortBy::Zoom => a.zoom.cmp(&b.zoom),
            CatalogSortBy::PixelResolution => a.resolution.total_cmp(&b.resolution),
        }
    };
    found.sort_by(|a, b| {
        let primary = key(a, b);
        let primary = if order == SortOrder::Desc { primary.reverse() } else { primary };
        primary.then_with(|| a.scene.id.cmp(&b.scene.id))
    });
}

/// The second origin of the sandbox, where previews live: its base URL and the requests
/// it got, each with whether it carried an `Authorization` header (it must not: the
/// client sends its credentials only to the API's own host).
pub(crate) struct Previews {
    base_url: String,
    /// Whether requests are noted (tests only), at most [`super::faults::MAX_RECORDED`].
    record: bool,
    log: Mutex<Vec<(String, bool)>>,
}

impl Previews {
    /// Binds the preview listener on another port of the API's address and returns it
    /// (non-blocking, for tokio) with the origin's state; `record` notes its requests.
    pub fn bind(api_addr: SocketAddr, record: bool) -> std::io::Result<(std::net::TcpListener, Arc<Previews>)> {
        let listener = std::net::TcpListener::bind(SocketAddr::new(api_addr.ip(), 0))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let ip = match addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        let base_url = format!("http://{}", SocketAddr::new(ip, addr.port()));
        Ok((listener, Arc::new(Previews { base_url, record, log: Mutex::new(Vec::new()) })))
    }

    /// `http://HOST:PORT` of the preview origin.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The picture preview of an image.
    pub fn png_url(&self, id: &str) -> String {
        format!("{}/preview/{id}.png", self.base_url)
    }

    /// The tile template of an image.
    pub fn xyz_url(&self, id: &str) -> String {
        format!("{}/xyz/{id}/{{z}}/{{x}}/{{y}}.png", self.base_url)
    }

    /// Notes a request to the preview origin, when asked to and within the bound.
    pub fn record(&self, path: String, had_authorization: bool) {
        if !self.record {
            return;
        }
        let mut log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        if log.len() < super::faults::MAX_RECORDED {
            log.push((path, had_authorization));
        }
    }

    /// How many requests are noted.
    pub fn kept(&self) -> usize {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Every request so far, oldest first: (path, had an `Authorization` header).
    pub fn requests(&self) -> Vec<(String, bool)> {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// The footprint's corners as a map lays a picture over them: the ring points nearest to
/// the bounding box's NW, NE, SE and SW corners (the same rule as the app's).
fn picture_corners(footprint: &Polygon<f64>) -> Option<[Coord<f64>; 4]> {
    let ring: Vec<Coord<f64>> = footprint.exterior().coords().copied().collect();
    let b = footprint.bounding_rect()?;
    let nearest = |t: Coord<f64>| {
        ring.iter().copied().min_by(|a, c| {
            let da = (a.x - t.x).powi(2) + (a.y - t.y).powi(2);
            let dc = (c.x - t.x).powi(2) + (c.y - t.y).powi(2);
            da.total_cmp(&dc)
        })
    };
    let (w, s, e, n) = (b.min().x, b.min().y, b.max().x, b.max().y);
    Some([
        nearest(Coord { x: w, y: n })?,
        nearest(Coord { x: e, y: n })?,
        nearest(Coord { x: e, y: s })?,
        nearest(Coord { x: w, y: s })?,
    ])
}

/// The picture preview of a scene, [`PREVIEW_SIZE`] square: the synthetic imagery of its
/// footprint, stretched so that the picture's corners are the footprint's (as a map lays
/// it), colour-graded per image and with clouds as many as its cloud cover says. Renders
/// at most 2×2 tiles: a few milliseconds in release.
pub(crate) fn render_preview(scene: &Scene) -> RgbImage {
    let n = PREVIEW_SIZE;
    let Some(corners) = picture_corners(&scene.footprint) else { return RgbImage::new(n, n) };
    // The deepest zoom at which one tile still spans the footprint's bounding box.
    let (px, py): (Vec<f64>, Vec<f64>) = corners.iter().map(|c| mercator::lon_lat_to_pixels(c.x, c.y, 0)).unzip();
    let span = |v: &[f64]| v.iter().copied().fold(f64::MIN, f64::max) - v.iter().copied().fold(f64::MAX, f64::min);
    let extent = span(&px).max(span(&py)).max(1e-9);
    let z = (f64::from(imagery::TILE_SIZE) / extent).log2().floor().clamp(0.0, 18.0) as u8;
    let mut tiles = TileSampler::new(&scene.id, z);
    let corners = corners.map(|c| mercator::lon_lat_to_pixels(c.x, c.y, z));
    let lerp = |a: (f64, f64), b: (f64, f64), t: f64| (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t);
    let clouds = (scene.cloud_cover / 100.0).clamp(0.0, 1.0) as f32;
    let seed = scene.id.bytes().fold(0x811c_9dc5u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193));
    RgbImage::from_fn(n, n, |i, j| {
        let (u, v) = ((f64::from(i) + 0.5) / f64::from(n), (f64::from(j) + 0.5) / f64::from(n));
        let top = lerp(corners[0], corners[1], u);
        let bottom = lerp(corners[3], corners[2], u);
        let (x, y) = lerp(top, bottom, v);
        let ground = tiles.sample(x, y);
        if clouds <= 0.0 {
            return ground;
        }
        let noise = cloud_noise(u as f32, v as f32, seed);
        let threshold = 0.78 - 0.6 * clouds;
        let alpha = 0.93 * smooth(threshold, threshold + 0.1, noise);
        let mix = |c: u8, white: f32| (f32::from(c) + (white - f32::from(c)) * alpha) as u8;
        Rgb([mix(ground[0], 236.0), mix(ground[1], 238.0), mix(ground[2], 242.0)])
    })
}

/// A tile (z, x, y) of an image's tiled preview: the synthetic imagery graded for the
/// image, transparent outside its footprint (blank when the tile misses it).
pub(crate) fn render_xyz(scene: &Scene, z: u8, x: u32, y: u32) -> RgbaImage {
    let n = imagery::TILE_SIZE;
    let (x0, y0) = (f64::from(x) * f64::from(n), f64::from(y) * f64::from(n));
    let ring: Vec<(f64, f64)> = scene
        .footprint
        .exterior()
        .coords()
        .map(|c| {
            let (px, py) = mercator::lon_lat_to_pixels(c.x, c.y, z);
            (px - x0, py - y0)
        })
        .collect();
    let (lo_x, hi_x) = ring.iter().fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.0), b.max(p.0)));
    let (lo_y, hi_y) = ring.iter().fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.1), b.max(p.1)));
    let size = f64::from(n);
    if hi_x <= 0.0 || hi_y <= 0.0 || lo_x >= size || lo_y >= size {
        return RgbaImage::new(n, n);
    }
    let ground = imagery::render_tile(&scene.id, z, x, y);
    RgbaImage::from_fn(n, n, |i, j| {
        let p = ground.get_pixel(i, j);
        let inside = mapflow_geo::point_in_ring([f64::from(i) + 0.5, f64::from(j) + 0.5], &ring);
        Rgba([p[0], p[1], p[2], if inside { 255 } else { 0 }])
    })
}

/// A tile (z, x, y) of several images' tiled previews, later ones drawn over earlier
/// ones: what a processing on these catalog images shows as its imagery.
pub(crate) fn render_scenes_xyz(scenes: &[Scene], z: u8, x: u32, y: u32) -> RgbaImage {
    let mut out: Option<RgbaImage> = None;
    for scene in scenes {
        let tile = render_xyz(scene, z, x, y);
        match &mut out {
            None => out = Some(tile),
            Some(out) => {
                for (dst, src) in out.pixels_mut().zip(tile.pixels()) {
                    if src[3] > 0 {
                        *dst = *src;
                    }
                }
            }
        }
    }
    out.unwrap_or_else(|| RgbaImage::new(imagery::TILE_SIZE, imagery::TILE_SIZE))
}

/// Bilinear samples of the synthetic imagery at global pixel positions of one zoom,
/// rendering each tile the first time it is needed.
struct TileSampler<'a> {
    grade: &'a str,
    z: u8,
    tiles: HashMap<(u32, u32), RgbImage>,
}

impl<'a> TileSampler<'a> {
    fn new(grade: &'a str, z: u8) -> Self {
        Self { grade, z, tiles: HashMap::new() }
    }

    fn pixel(&mut self, gx: i64, gy: i64) -> [f32; 3] {
        let n = i64::from(imagery::TILE_SIZE);
        let max = n * (1i64 << self.z) - 1;
        let (gx, gy) = (gx.clamp(0, max), gy.clamp(0, max));
        let key = ((gx / n) as u32, (gy / n) as u32);
        let (grade, z) = (self.grade, self.z);
        let tile = self.tiles.entry(key).or_insert_with(|| imagery::render_tile(grade, z, key.0, key.1));
        let p = tile.get_pixel((gx % n) as u32, (gy % n) as u32);
        [f32::from(p[0]), f32::from(p[1]), f32::from(p[2])]
    }

    fn sample(&mut self, x: f64, y: f64) -> Rgb<u8> {
        let (x, y) = (x - 0.5, y - 0.5);
        let (fx, fy) = (x.floor(), y.floor());
        let (tx, ty) = ((x - fx) as f32, (y - fy) as f32);
        let (gx, gy) = (fx as i64, fy as i64);
        let (a, b) = (self.pixel(gx, gy), self.pixel(gx + 1, gy));
        let (c, d) = (self.pixel(gx, gy + 1), self.pixel(gx + 1, gy + 1));
        let ch = |k: usize| {
            let top = a[k] + (b[k] - a[k]) * tx;
            let bottom = c[k] + (d[k] - c[k]) * tx;
            (top + (bottom - top) * ty).round().clamp(0.0, 255.0) as u8
        };
        Rgb([ch(0), ch(1), ch(2)])
    }
}

/// Cloud density at (u, v) of a preview, 0..1: three octaves of value noise.
fn cloud_noise(u: f32, v: f32, seed: u32) -> f32 {
    let octave = |freq: f32, salt: u32| {
        let (x, y) = (u * freq, v * freq);
        let (ix, iy) = (x.floor(), y.floor());
        let (sx, sy) = (smooth(0.0, 1.0, x - ix), smooth(0.0, 1.0, y - iy));
        let at = |dx: f32, dy: f32| {
            let h =
                Rng::from_parts(&[u64::from(seed ^ salt), (ix + dx) as i64 as u64, (iy + dy) as i64 as u64]).next_u64();
            (h >> 40) as f32 / (1u64 << 24) as f32
        };
        let top = at(0.0, 0.0) + (at(1.0, 0.0) - at(0.0, 0.0)) * sx;
        let bottom = at(0.0, 1.0) + (at(1.0, 1.0) - at(0.0, 1.0)) * sx;
        top + (bottom - top) * sy
    };
    (octave(3.0, 1) * 0.55 + octave(7.0, 2) * 0.3 + octave(16.0, 3) * 0.15).clamp(0.0, 1.0)
}

fn smooth(e0: f32, e1: f32, v: f32) -> f32 {
    let t = ((v - e0) / (e1 - e0)).clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(lon: f64, lat: f64, side_km: f64) -> Aoi {
        let dlat = side_km / KM_PER_DEG_LAT;
        let dlon = side_km / (KM_PER_DEG_LON * lat.to_radians().cos());
        Aoi::from_bbox([lon, lat, lon + dlon, lat + dlat])
    }

    fn all() -> Filters {
        Filters { images: true, mosaics: true, ..Filters::default() }
    }

    #[test]
    fn ids_rebuild_their_images() {
        let found = search(&square(37.6, 55.75, 5.0), &all()).expect("search");
        assert!(found.len() >= 10, "{}", found.len());
        for f in &found {
            let again = find(&f.scene.id).expect("found by id");
            assert_eq!(again.footprint, f.scene.footprint);
            assert_eq!(again.acquired, f.scene.acquired);
        }
        for bad in ["legion", "legion-1-2", "legion-1-2-3-4", "legion-99999-2-0", "nope-1-1-1", "legion-+1-2-0"] {
            assert!(find(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn footprints_are_valid_and_dated_within_the_archive() {
        use geo::Validation as _;
        for lat in [-60.0, -10.0, 0.1, 40.0, 70.0, 83.5] {
            let found = search(&square(100.3, lat, 5.0), &all()).expect("search");
            assert!(found.len() >= 5, "{lat}: {}", found.len());
            for f in found {
                assert!(f.scene.footprint.is_valid(), "{}", f.scene.id);
                let t = f.scene.acquired.timestamp();
                assert!(t < EPOCH && t > EPOCH - (ARCHIVE_DAYS + 1) * 86_400, "{}", f.scene.id);
                assert!((0.0..=35.0).contains(&f.scene.off_nadir));
                assert!((0.0..=100.0).contains(&f.scene.cloud_cover));
            }
        }
    }

    #[test]
    fn previews_render() {
        let found = search(&square(2.35, 48.85, 5.0), &all()).expect("search");
        let scene = found.iter().find(|f| !f.scene.mosaic).expect("a scene");
        let img = render_preview(&scene.scene);
        assert_eq!(img.dimensions(), (PREVIEW_SIZE, PREVIEW_SIZE));
        assert_eq!(img, render_preview(&scene.scene));
    }
}
