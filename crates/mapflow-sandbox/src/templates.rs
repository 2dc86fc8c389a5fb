//! Planned processings (search templates): a background catalog search over saved AOIs
//! that keeps finding new imagery, and the processings started from what it found.
//!
//! A template is stored with its AOIs, its catalog filters (`searchParams` without the
//! AOIs) and what its search found. What the search finds is decided when the search runs
//! (at creation, on resume, when an AOI is added or reshaped): every catalog scene over the
//! AOIs that passes the filters, each given the moment it is "found". Time does the rest,
//! as it does for processings (nothing runs in the background, every read computes it):
//! - for [`SandboxConfig::template_search_seconds`] after a search starts the template is
//!   `SEARCHING` and nothing new shows;
//! - then the scenes found by that search show, all but the newest few ([`HELD_BACK`]) of
//!   a template's first search, status `CREATED`;
//! - those held back are found one per check, every
//!   [`SandboxConfig::template_check_seconds`], as if just acquired: status `UPDATED`,
//!   `lastCheckedAt` the last check, `newImagesCount` and the AOIs' `hasNewImages` rising.
//!
//! A paused template (`INACTIVE`, `isActive: false`) finds nothing; on resume what it would
//! have found is moved on by the time it was paused. Past `activeUntil` it stops too. An
//! image counts as new until it is marked seen.
//!
//! [`SandboxConfig::template_search_seconds`]: crate::SandboxConfig::template_search_seconds
//! [`SandboxConfig::template_check_seconds`]: crate::SandboxConfig::template_check_seconds

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use geo::{BooleanOps, Intersects, MultiPolygon, Polygon};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::catalog::{self, Filters, Previews};
use super::error::{ApiError, ApiResult};
use super::processing::{self, ProcessingRecord, Rings};
use super::state::{PersistedState, iso};
use super::table::Row;

/// How many of the newest scenes a template's first search holds back, to be found by
/// the later checks one at a time.
pub(crate) const HELD_BACK: usize = 3;
/// Longest AOI name.
pub(crate) const MAX_AOI_NAME_CHARS: usize = 64;
/// Longest template name.
pub(crate) const MAX_NAME_CHARS: usize = 255;
/// The refusal of a `PUT` whose `searchParams` carry geometry.
pub(crate) const GEOMETRY_UPDATE_REFUSED: &str = "Geometry updates are not supported";

/// One AOI of a template.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TemplateAoi {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    /// Geodesic area, m².
    pub area: i64,
    /// The polygon's rings in lon/lat, exterior first, closed.
    pub rings: Rings,
}

impl TemplateAoi {
    pub fn geometry(&self) -> Value {
        json!({"type": "Polygon", "coordinates": self.rings})
    }

    fn polygon(&self) -> Polygon<f64> {
        rings_to_polygon(&self.rings)
    }
}

/// An image the template's search finds, from `found_at` on.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FoundImage {
    /// The catalog scene's id (the scene is rebuilt from it).
    pub id: String,
    pub found_at: DateTime<Utc>,
    /// Whether a later check found it (not the search itself): such a find is a check.
    #[serde(default)]
    pub by_check: bool,
    /// The AOIs it covers, with the share of each it covers (percent).
    pub aois: BTreeMap<String, f64>,
}

/// A template as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TemplateRecord {
    pub id: String,
    pub name: String,
    pub project_id: String,
    /// The creator's user id.
    pub user_id: String,
    pub created_at: DateTime<Utc>,
    #[serde(default)]
    pub active_until: Option<DateTime<Utc>>,
    /// The catalog filters, without the AOIs.
    #[serde(default)]
    pub search_params: Map<String, Value>,
    #[serde(default)]
    pub processing_params: Value,
    pub aois: Vec<TemplateAoi>,
    /// When the last search ends; `SEARCHING` until then.
    pub searching_until: DateTime<Utc>,
    /// When it was paused; `None` while active.
    #[serde(default)]
    pub paused_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub found: Vec<FoundImage>,
    #[serde(default)]
    pub seen: BTreeSet<String>,
    /// The processings started from it, oldest first.
    #[serde(default)]
    pub processings: Vec<String>,
}

impl Row for TemplateRecord {
    fn id(&self) -> &str {
        &self.id
    }
}

/// The moment after which nothing more is found: a pause, `activeUntil`, or never.
fn stop(t: &TemplateRecord) -> Option<DateTime<Utc>> {
    match (t.paused_at, t.active_until) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

impl TemplateRecord {
    /// The images found by `now`.
    pub fn found_by(&self, now: DateTime<Utc>) -> impl Iterator<Item = &FoundImage> {
        let until = stop(self).map_or(now, |s| s.min(now));
        self.found.iter().filter(move |f| f.found_at <= until)
    }

    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        self.paused_at.is_none() && self.active_until.is_none_or(|u| u > now)
    }

    pub fn status(&self, now: DateTime<Utc>) -> &'static str {
        if !self.is_active(now) {
            "INACTIVE"
        } else if now < self.searching_until {
            "SEARCHING"
        } else if self.last_checked_at(now).is_some() {
            "UPDATED"
        } else {
            "CREATED"
        }
    }

    /// The last check that found something, by `now`.
    pub fn last_checked_at(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.found_by(now).filter(|f| f.by_check).map(|f| f.found_at).max()
    }

    pub fn area(&self) -> i64 {
        self.aois.iter().map(|a| a.area).sum()
    }

    pub fn new_images(&self, now: DateTime<Utc>) -> usize {
        self.found_by(now).filter(|f| !self.seen.contains(&f.id)).count()
    }

    fn aoi_has_new(&self, aoi: &str, now: DateTime<Utc>) -> bool {
        self.found_by(now).any(|f| f.aois.contains_key(aoi) && !self.seen.contains(&f.id))
    }
}

/// The polygon of closed rings.
pub(crate) fn rings_to_polygon(rings: &Rings) -> Polygon<f64> {
    let ring = |r: &Vec<[f64; 2]>| geo::LineString::from(r.iter().map(|&[x, y]| (x, y)).collect::<Vec<_>>());
    let mut iter = rings.iter();
    let exterior = iter.next().map(ring).unwrap_or_else(|| geo::LineString::new(Vec::new()));
    Polygon::new(exterior, iter.map(ring).collect())
}

/// The rings of a polygon.
pub(crate) fn polygon_rings(p: &Polygon<f64>) -> Rings {
    std::iter::once(p.exterior()).chain(p.interiors()).map(|r| r.coords().map(|c| [c.x, c.y]).collect()).collect()
}

/// An AOI as sent: one polygon part and its name.
#[derive(Debug, Clone)]
pub(crate) struct NewAoi {
    pub name: Option<String>,
    pub polygon: Polygon<f64>,
    pub area: i64,
}

/// Checks an AOI name: at most [`MAX_AOI_NAME_CHARS`] characters; blank reads as none.
pub(crate) fn aoi_name(value: Option<&Value>) -> ApiResult<Option<String>> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) if s.chars().count() > MAX_AOI_NAME_CHARS => Err(ApiError::bad_request(format!(
            "An AOI name must be at most {MAX_AOI_NAME_CHARS} characters; this one has {}",
            s.chars().count()
        ))
        .param("maxLength", MAX_AOI_NAME_CHARS)),
        Some(Value::String(s)) => Ok(Some(s.trim().to_owned())),
        Some(_) => Err(ApiError::bad_request("An AOI name must be a string")),
    }
}

/// Reads one geometry (Polygon or MultiPolygon, checked as a processing's is) into its
/// parts, each named `name`.
pub(crate) fn parts(geometry: &Value, name: Option<String>) -> ApiResult<Vec<NewAoi>> {
    let aoi = processing::parse_aoi(geometry, "AOI")?;
    Ok(aoi
        .polygons
        .iter()
        .zip(aoi.areas_m2())
        .map(|(p, area)| NewAoi { name: name.clone(), polygon: p.clone(), area: area.round() as i64 })
        .collect())
}

/// The AOIs of a create request's `searchParams`: `aoiDetails` (a FeatureCollection of
/// Polygon features; MultiPolygon features are ignored, as the service does), or the
/// legacy `aoi` (split into its parts).
pub(crate) fn aois_of_search_params(params: &Map<String, Value>) -> ApiResult<Vec<NewAoi>> {
    let mut out = Vec::new();
    if let Some(details) = params.get("aoiDetails").filter(|v| !v.is_null()) {
        if details.get("type").and_then(Value::as_str) != Some("FeatureCollection") {
            return Err(ApiError::bad_request("searchParams.aoiDetails must be a GeoJSON FeatureCollection"));
        }
        let features = details.get("features").and_then(Value::as_array).cloned().unwrap_or_default();
        for feature in features {
            let geometry = feature.get("geometry").cloned().unwrap_or(Value::Null);
            if geometry.get("type").and_then(Value::as_str) != Some("Polygon") {
                continue;
            }
            let name = aoi_name(feature.get("properties").and_then(|p| p.get("name")))?;
            out.extend(parts(&geometry, name)?);
        }
    } else if let Some(aoi) = params.get("aoi").filter(|v| !v.is_null()) {
        out.extend(parts(aoi, None)?);
    }
    if out.is_empty() {
        return Err(ApiError::bad_request(
            "searchParams.aoiDetails must hold at least one Polygon feature: the area to search",
        ));
    }
    Ok(out)
}

/// Refuses a total area over `limit` (m², the account's `templateAreaLimit`).
pub(crate) fn check_area(area: i64, limit: i64) -> ApiResult<()> {
    if area > limit {
        return Err(ApiError::bad_request(format!(
            "The planned search's area is {:.1} km², more than the account's template area limit of {:.1} km²",
            area as f64 / 1e6,
            limit as f64 / 1e6
        ))
        .param("templateAreaLimit", limit)
        .param("area", area));
    }
    Ok(())
}

/// The catalog filters of `searchParams` (the keys of `POST /catalog/meta`), checked.
pub(crate) fn filters_of(params: &Map<String, Value>) -> ApiResult<Filters> {
    let mut query = params.clone();
    query.remove("aoiDetails");
    query.retain(|_, v| !v.is_null());
    query.insert("aoi".to_owned(), json!({"type": "Polygon", "coordinates": []}));
    query.insert("limit".to_owned(), json!(1));
    query.insert("offset".to_owned(), json!(0));
    let query: mapflow_api::CatalogQuery = serde_json::from_value(Value::Object(query))
        .map_err(|e| ApiError::bad_request(format!("Invalid searchParams: {e}")))?;
    super::routes::catalog_filters(&query)
}

/// What a search found: scene id → (when it was acquired, AOI id → percent covered).
pub(crate) type Finds = BTreeMap<String, (DateTime<Utc>, BTreeMap<String, f64>)>;

/// What a search over `aois` finds: scene id → (AOI id → percent covered), and when each
/// was acquired. CPU-bound: run it off the async workers.
pub(crate) fn search(aois: &[TemplateAoi], filters: &Filters) -> ApiResult<Finds> {
    let mut out = Finds::new();
    for aoi in aois {
        let one = mapflow_geo::Aoi { polygons: vec![aoi.polygon()] };
        for found in catalog::search(&one, filters).map_err(ApiError::bad_request)? {
            let entry = out.entry(found.scene.id.clone()).or_insert((found.scene.acquired, BTreeMap::new()));
            entry.1.insert(aoi.id.clone(), found.intersection_percent);
        }
    }
    Ok(out)
}

/// Starts a search at `now` with what `search` found: images the template already has
/// get the new AOIs they cover; the others are found when the search ends, but for a
/// first search, whose newest [`HELD_BACK`] are found by the checks after it.
pub(crate) fn start_search(
    t: &mut TemplateRecord,
    found: Finds,
    now: DateTime<Utc>,
    search_secs: f64,
    check_secs: f64,
) {
    let first = t.found.is_empty();
    let done = now + secs(search_secs);
    t.searching_until = done;
    let mut fresh: Vec<(String, DateTime<Utc>, BTreeMap<String, f64>)> = Vec::new();
    for (id, (acquired, aois)) in found {
        match t.found.iter_mut().find(|f| f.id == id) {
            Some(known) => known.aois.extend(aois),
            None => fresh.push((id, acquired, aois)),
        }
    }
    // Oldest first; the newest are held back on a first search.
    fresh.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
    let held = if first { HELD_BACK.min(fresh.len() / 2) } else { 0 };
    let at_once = fresh.len() - held;
    for (n, (id, _, aois)) in fresh.into_iter().enumerate() {
        let (found_at, by_check) =
            if n < at_once { (done, false) } else { (done + secs(check_secs * (n - at_once + 1) as f64), true) };
        t.found.push(FoundImage { id, found_at, by_check, aois });
    }
}

fn secs(s: f64) -> Duration {
    Duration::milliseconds((s * 1000.0).round() as i64)
}

/// Removes AOIs (by id) and what only they found. Returns how many went.
pub(crate) fn remove_aois(t: &mut TemplateRecord, ids: &[String]) -> usize {
    let before = t.aois.len();
    t.aois.retain(|a| !ids.contains(&a.id));
    for f in &mut t.found {
        f.aois.retain(|aoi, _| !ids.contains(aoi));
    }
    t.found.retain(|f| !f.aois.is_empty());
    before - t.aois.len()
}

/// Pauses at `now`.
pub(crate) fn pause(t: &mut TemplateRecord, now: DateTime<Utc>) {
    if t.paused_at.is_none() {
        t.paused_at = Some(now);
    }
}

/// Resumes at `now`: what was still to be found moves on by the time it was paused.
pub(crate) fn resume(t: &mut TemplateRecord, now: DateTime<Utc>) {
    let Some(paused) = t.paused_at.take() else { return };
    let gap = now - paused;
    for f in &mut t.found {
        if f.found_at > paused {
            f.found_at += gap;
        }
    }
    if t.searching_until > paused {
        t.searching_until += gap;
    }
}

/// Subtracts `footprint` from every AOI (the processing now covers it); AOIs left empty
/// are removed. `updateTemplateGeometry` of a run from the template.
pub(crate) fn subtract(t: &mut TemplateRecord, footprint: &MultiPolygon<f64>) {
    let mut emptied = Vec::new();
    for aoi in &mut t.aois {
        let polygon = aoi.polygon();
        if !polygon.intersects(footprint) {
            continue;
        }
        let left = MultiPolygon::new(vec![polygon]).difference(footprint);
        let Some(biggest) = left.0.into_iter().max_by(|a, b| {
            let area = |p: &Polygon<f64>| mapflow_geo::Aoi { polygons: vec![p.clone()] }.total_area_m2();
            area(a).total_cmp(&area(b))
        }) else {
            emptied.push(aoi.id.clone());
            continue;
        };
        let area = mapflow_geo::Aoi { polygons: vec![biggest.clone()] }.total_area_m2().round() as i64;
        if area <= 0 {
            emptied.push(aoi.id.clone());
            continue;
        }
        aoi.rings = polygon_rings(&biggest);
        aoi.area = area;
    }
    remove_aois(t, &emptied);
}

/// The footprint of a processing: its AOIs.
pub(crate) fn footprint(p: &ProcessingRecord) -> MultiPolygon<f64> {
    MultiPolygon::new(p.aois.iter().map(|a| rings_to_polygon(&a.rings)).collect())
}

/// A found image as `{id, metadata}` (the catalog image), with `isNew` and `aoiIds`.
fn image_json(t: &TemplateRecord, f: &FoundImage, previews: &Previews) -> Option<Value> {
    let scene = catalog::find(&f.id)?;
    let percent = f.aois.values().copied().fold(0.0, f64::max);
    Some(json!({
        "id": f.id,
        "metadata": scene.to_image(previews, percent),
        "isNew": !t.seen.contains(&f.id),
        "aoiIds": f.aois.keys().collect::<Vec<_>>(),
    }))
}

/// The images found by `now`, newest acquisition first.
pub(crate) fn search_results(t: &TemplateRecord, previews: &Previews, now: DateTime<Utc>) -> Vec<Value> {
    let mut found: Vec<&FoundImage> = t.found_by(now).collect();
    found.sort_by(|a, b| b.found_at.cmp(&a.found_at).then_with(|| b.id.cmp(&a.id)));
    found.into_iter().filter_map(|f| image_json(t, f, previews)).collect()
}

/// One page of the images found by `now`: those over any of `aoi_ids` (all when empty)
/// that pass `filters`, newest find first.
pub(crate) fn images_page(
    t: &TemplateRecord,
    previews: &Previews,
    now: DateTime<Utc>,
    aoi_ids: &[String],
    filters: &Filters,
    limit: usize,
    offset: usize,
) -> Value {
    let mut found: Vec<(&FoundImage, catalog::Scene)> = t
        .found_by(now)
        .filter(|f| aoi_ids.is_empty() || f.aois.keys().any(|a| aoi_ids.contains(a)))
        .filter_map(|f| Some((f, catalog::find(&f.id)?)))
        .filter(|(_, scene)| filters.passes(scene))
        .collect();
    found.sort_by(|a, b| b.0.found_at.cmp(&a.0.found_at).then_with(|| b.1.acquired.cmp(&a.1.acquired)));
    let total = found.len();
    let results: Vec<Value> =
        found.into_iter().skip(offset).take(limit).filter_map(|(f, _)| image_json(t, f, previews)).collect();
    json!({"results": results, "total": total, "limit": limit, "offset": offset})
}

/// The AOIs as `aoiDetails`: a FeatureCollection of Polygon features whose properties are
/// `{id, name, processings, hasNewImages}`; a processing is listed under every AOI it
/// intersects.
pub(crate) fn aoi_details(t: &TemplateRecord, state: &PersistedState, now: DateTime<Utc>) -> Value {
    let processings: Vec<(&ProcessingRecord, MultiPolygon<f64>)> =
        t.processings.iter().filter_map(|id| state.processing(id)).map(|p| (p, footprint(p))).collect();
    let features: Vec<Value> = t
        .aois
        .iter()
        .map(|aoi| {
            let polygon = aoi.polygon();
            let runs: Vec<Value> = processings
                .iter()
                .filter(|(_, fp)| fp.intersects(&polygon))
                .map(|(p, _)| processing_link(p, now))
                .collect();
            aoi_feature(t, aoi, runs, now)
        })
        .collect();
    json!({"type": "FeatureCollection", "features": features})
}

/// One AOI as a Feature.
pub(crate) fn aoi_feature(t: &TemplateRecord, aoi: &TemplateAoi, processings: Vec<Value>, now: DateTime<Utc>) -> Value {
    json!({
        "type": "Feature",
        "geometry": aoi.geometry(),
        "properties": {
            "id": aoi.id,
            "name": aoi.name,
            "processings": processings,
            "hasNewImages": t.aoi_has_new(&aoi.id, now),
        }
    })
}

/// A processing as an AOI lists it.
fn processing_link(p: &ProcessingRecord, now: DateTime<Utc>) -> Value {
    let geometry = if p.aois.len() == 1 {
        p.aois[0].geometry()
    } else {
        json!({"type": "MultiPolygon", "coordinates": p.aois.iter().map(|a| a.rings.clone()).collect::<Vec<_>>()})
    };
    json!({
        "processingId": p.id,
        "processingName": p.name,
        "processingStatus": p.progress(now).status,
        "area": p.area,
        "geometry": geometry,
        "projectId": p.project_id,
    })
}

/// The template's API shape. `full` carries `searchParams` (with `aoiDetails`) and
/// `searchResults`; the short form (by project, what a poll reads) has neither.
pub(crate) fn to_api(
    t: &TemplateRecord,
    state: &PersistedState,
    previews: &Previews,
    now: DateTime<Utc>,
    full: bool,
) -> Value {
    let mut out = json!({
        "id": t.id,
        "name": t.name,
        "status": t.status(now),
        "isActive": t.is_active(now),
        "isArchived": false,
        "createdAt": iso(t.created_at),
        "userId": t.user_id,
        "projectId": t.project_id,
        "activeUntil": t.active_until.map(iso),
        "lastCheckedAt": t.last_checked_at(now).map(iso),
        "processingParams": t.processing_params,
        "area": t.area(),
        "newImagesCount": t.new_images(now),
        "aoiCount": t.aois.len(),
    });
    if full && let Value::Object(map) = &mut out {
        let mut params = t.search_params.clone();
        params.insert("aoiDetails".to_owned(), aoi_details(t, state, now));
        map.insert("searchParams".to_owned(), Value::Object(params));
        map.insert("searchResults".to_owned(), Value::Array(search_results(t, previews, now)));
    }
    out
}

/// `{template, searchResults}`.
pub(crate) fn with_results(
    t: &TemplateRecord,
    state: &PersistedState,
    previews: &Previews,
    now: DateTime<Utc>,
) -> Value {
    let template = to_api(t, state, previews, now, true);
    let results = template["searchResults"].clone();
    json!({"template": template, "searchResults": results})
}

/// A processing in the v1 shape: `params` a flat map of strings
/// (`{data_provider, zoom}`, `{url, source_type, crs, zoom}`, …).
pub(crate) fn v1_processing(base_url: &str, p: &ProcessingRecord, now: DateTime<Utc>) -> Value {
    let mut out = serde_json::to_value(processing::to_api(base_url, p, now)).unwrap_or(Value::Null);
    let source = p.params.get("sourceParams").and_then(Value::as_object);
    let mut flat = Map::new();
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if let Some((kind, inner)) = source.and_then(|s| s.iter().next()) {
        let get = |k: &str| inner.get(k).filter(|v| !v.is_null());
        let mut put = |k: &str, v: Option<&Value>| {
            if let Some(v) = v {
                flat.insert(k.to_owned(), Value::String(text(v)));
            }
        };
        match kind.as_str() {
            "dataProvider" => put("data_provider", get("providerName")),
            "imagerySearch" => {
                put("data_provider", get("dataProvider"));
                let ids = get("imageIds")
                    .and_then(Value::as_array)
                    .map(|ids| Value::String(ids.iter().map(text).collect::<Vec<_>>().join(",")));
                put("image_ids", ids.as_ref());
            }
            "userDefined" => {
                put("url", get("url"));
                put("source_type", get("sourceType"));
                put("crs", get("crs"));
            }
            "myImagery" => {
                put("mosaic_id", get("mosaicId"));
                let ids = get("imageIds")
                    .and_then(Value::as_array)
                    .map(|ids| Value::String(ids.iter().map(text).collect::<Vec<_>>().join(",")));
                put("image_ids", ids.as_ref());
            }
            _ => {}
        }
        put("zoom", get("zoom"));
    }
    if let Value::Object(map) = &mut out {
        map.insert("params".to_owned(), Value::Object(flat));
    }
    out
}
