//! Processings: how one is stored, how a create or estimate request becomes one (with
//! every check the real service makes), how it progresses with time, and its API shape.
//!
//! Progress is a pure function of the run's start and the configured duration, computed
//! on every read, so a processing keeps running across a restart of the sandbox:
//! UNPROCESSED (queued) for the first tenth of the run, then IN_PROGRESS with
//! `percentCompleted` rising, then OK at the end. A run doomed by its source (a zoom
//! below the model's minimum) fails at a fifth of the run with the validator's message.
//!
//! Billing: a run is paid when it is created (or restarted): the credits are deducted and
//! the area added to `processedArea` at once. A run that fails is refunded in full when
//! it fails, as the real service refunds failed parts; restarting it pays again.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use mapflow_api::{
    BlockToggle, Page, Processing, ProcessingAoi, ProcessingBlock, ProcessingCounts, ProcessingId, ProcessingMessage,
    ProcessingRequest, ProcessingStatus, ProjectId, Provider, Rating, SourceParams, TileLayer, WorkflowDef,
};

use super::catalog;
use super::error::{ApiError, ApiResult};
use super::results;
use super::seed;
use super::state::{PersistedState, iso};

/// Share of a run spent queued (UNPROCESSED).
const QUEUED_SHARE: f64 = 0.1;
/// Share of a run after which a doomed run fails.
const FAIL_SHARE: f64 = 0.2;
/// Longest processing name accepted.
pub(crate) const MAX_NAME_CHARS: usize = 255;
/// The highest zoom a source may name.
const MAX_ZOOM: i64 = 24;

/// A polygon's rings in lon/lat, exterior first.
pub(crate) type Rings = Vec<Vec<[f64; 2]>>;

/// One AOI (polygon) of a processing.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AoiRecord {
    pub id: String,
    /// Geodesic area, m².
    pub area: i64,
    /// The polygon's rings in lon/lat, exterior first, closed.
    pub rings: Rings,
}

impl AoiRecord {
    /// The polygon as a GeoJSON geometry.
    pub fn geometry(&self) -> Value {
        json!({"type": "Polygon", "coordinates": self.rings})
    }
}

/// A processing as stored; the API shape is built by [`to_api`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ProcessingRecord {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub project_id: String,
    pub model_id: String,
    pub aois: Vec<AoiRecord>,
    /// Total area, m².
    pub area: i64,
    /// Credits one run costs.
    pub cost: i64,
    /// The request's `params`, echoed.
    #[serde(default)]
    pub params: Value,
    /// Every block of the model with its state.
    #[serde(default)]
    pub blocks: Vec<ProcessingBlock>,
    #[serde(default)]
    pub meta: Value,
    /// The tile set of the sandbox's tile route showing the imagery used, for a provider's
    /// imagery (and for sources whose pixels the sandbox does not have).
    pub imagery: String,
    /// The uploaded images or catalog scenes the run used, whose pixels its `rasterLayer`
    /// shows; `None` for a provider's imagery.
    #[serde(default)]
    pub raster_source: Option<RasterSource>,
    /// The id of `rasterLayer` (and of its TileJSON).
    pub raster_id: String,
    /// What each run fails with; empty when it succeeds.
    #[serde(default)]
    pub failure: Vec<ProcessingMessage>,
    /// When the current run started.
    pub started: DateTime<Utc>,
    /// How long a run takes, seconds (the sandbox's setting when it was created).
    pub duration_secs: f64,
    /// Whether the current run's cost is held; false once a failed run is refunded.
    #[serde(default)]
    pub charged: bool,
    #[serde(default)]
    pub rating: Option<Rating>,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
    /// Who pays for its runs (and gets a failed run's refund): the project owner's email,
    /// `None` for the main account.
    #[serde(default)]
    pub payer: Option<String>,
    /// Whether the owner's review workflow was on when it was created: a finished run then
    /// waits for acceptance (see [`super::members::review_status`]).
    #[serde(default)]
    pub review: bool,
    /// The reviewer's decision, once made.
    #[serde(default)]
    pub review_decision: Option<super::members::ReviewDecision>,
}

/// The imagery a run used that the sandbox holds the pixels of.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub(crate) enum RasterSource {
    /// Uploaded images (`myImagery`), by id, as they were when the run was created.
    Images { ids: Vec<String> },
    /// Catalog scenes (`imagerySearch`), by id.
    Scenes { ids: Vec<String> },
}

/// Where a processing is at a moment.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Progress {
    pub status: ProcessingStatus,
    pub percent: i64,
    /// When the status last changed.
    pub since: DateTime<Utc>,
}

impl ProcessingRecord {
    /// The moment `share` of the current run has passed. The duration is clamped to
    /// [`super::MAX_PROCESSING_SECONDS`] (a NaN counts as 0) and the date saturates, so a
    /// nonsense duration in a saved state cannot overflow the date arithmetic.
    fn at(&self, share: f64) -> DateTime<Utc> {
        let secs = if self.duration_secs.is_nan() { 0.0 } else { self.duration_secs };
        let secs = secs.clamp(0.0, super::MAX_PROCESSING_SECONDS) * share.clamp(0.0, 1.0);
        let micros = (secs * 1e6).round() as i64;
        self.started.checked_add_signed(Duration::microseconds(micros)).unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    /// Where the processing is at `now`.
    pub fn progress(&self, now: DateTime<Utc>) -> Progress {
        let queued_until = self.at(QUEUED_SHARE);
        if now < queued_until {
            return Progress { status: ProcessingStatus::Unprocessed, percent: 0, since: self.started };
        }
        let end = if self.failure.is_empty() { self.at(1.0) } else { self.at(FAIL_SHARE) };
        if now >= end {
            let (status, percent) =
                if self.failure.is_empty() { (ProcessingStatus::Ok, 100) } else { (ProcessingStatus::Failed, 0) };
            return Progress { status, percent, since: end };
        }
        let run = (self.at(1.0) - queued_until).num_microseconds().unwrap_or(1).max(1) as f64;
        let done = (now - queued_until).num_microseconds().unwrap_or(0) as f64;
        let percent = ((done / run) * 100.0).floor().clamp(0.0, 99.0) as i64;
        Progress { status: ProcessingStatus::InProgress, percent, since: queued_until }
    }

    /// The spec its result is generated from.
    pub fn result_spec(&self) -> results::Spec {
        let enabled = |name: &str| self.blocks.iter().find(|b| b.name == name).is_none_or(|b| b.enabled);
        results::Spec {
            seed: results::seed_of(&self.id),
            kind: results::Kind::of_model(&self.model_id),
            classification: enabled("Classification"),
            heights: enabled("Heights"),
            simplification: enabled("Simplification"),
            aois: self.aois.iter().map(|a| a.rings.clone()).collect(),
        }
    }
}

/// Refunds every run that has failed by `now` and is still charged. Returns whether
/// anything changed (and so needs saving).
pub(crate) fn settle(state: &mut PersistedState, now: DateTime<Utc>) -> bool {
    let mut changed = false;
    let mut refunds: Vec<(Option<String>, i64, i64)> = Vec::new();
    state.processings.update_each(|p| {
        if p.charged && !p.failure.is_empty() && p.progress(now).status == ProcessingStatus::Failed {
            p.charged = false;
            refunds.push((p.payer.clone(), p.cost, p.area));
            changed = true;
            return true;
        }
        false
    });
    for (payer, credits, area) in refunds {
        let account = super::members::account_mut(state, payer.as_deref());
        account.remaining_credits += credits;
        account.processed_area = (account.processed_area - area).max(0);
    }
    changed
}

/// A project's processings by status: `succeeded`, `failed`, `inProgress`,
/// `unprocessed` and `total`.
pub(crate) fn counts(state: &PersistedState, project_id: &str, now: DateTime<Utc>) -> ProcessingCounts {
    let mut counts: ProcessingCounts =
        ["succeeded", "failed", "inProgress", "unprocessed", "total"].into_iter().map(|k| (k.to_owned(), 0)).collect();
    for p in state.processings.iter().filter(|p| p.project_id == project_id) {
        let key = match p.progress(now).status {
            ProcessingStatus::Ok => "succeeded",
            ProcessingStatus::Failed => "failed",
            ProcessingStatus::Unprocessed => "unprocessed",
            _ => "inProgress",
        };
        *counts.entry(key.to_owned()).or_default() += 1;
        *counts.entry("total".to_owned()).or_default() += 1;
    }
    counts
}

/// The API shape of a stored processing at `now`, with every documented key.
pub(crate) fn to_api(base_url: &str, p: &ProcessingRecord, now: DateTime<Utc>) -> Processing {
    let progress = p.progress(now);
    let imagery_ready = matches!(progress.status, ProcessingStatus::InProgress | ProcessingStatus::Ok);
    Processing {
        id: ProcessingId(p.id.clone()),
        name: p.name.clone(),
        description: p.description.clone(),
        project_id: ProjectId(p.project_id.clone()),
        percent_completed: progress.percent,
        aoi_count: p.aois.len() as i64,
        aoi_area: p.area,
        area: p.area,
        cost: p.cost,
        workflow_def: seed::model_by_id(&p.model_id),
        params: p.params.clone(),
        blocks: p.blocks.clone(),
        meta: p.meta.clone(),
        messages: if progress.status == ProcessingStatus::Failed { p.failure.clone() } else { Vec::new() },
        raster_layer: imagery_ready.then(|| raster_layer(base_url, p)),
        vector_layer: None,
        review_status: super::members::review_status(p, &progress, now),
        rating: p.rating.clone(),
        created: Some(iso(p.created)),
        updated: Some(iso(p.updated.max(progress.since))),
        status: progress.status,
    }
}

/// The imagery layer of a processing: tiles of the imagery it ran on.
fn raster_layer(base_url: &str, p: &ProcessingRecord) -> TileLayer {
    TileLayer {
        id: Some(p.raster_id.clone()),
        name: None,
        tile_url: tile_url(base_url, p),
        tile_json_url: Some(tile_json_url(base_url, &p.raster_id)),
    }
}

/// The tile template of a processing's imagery: the provider's synthetic tiles, or, for
/// uploaded images and catalog scenes, tiles drawn from their pixels.
pub(crate) fn tile_url(base_url: &str, p: &ProcessingRecord) -> String {
    match &p.raster_source {
        None => seed::preview_url(base_url, &p.imagery),
        Some(_) => format!("{base_url}/sandbox/raster-tiles/{}/{{z}}/{{x}}/{{y}}.png", p.raster_id),
    }
}

/// Where the TileJSON of a raster layer is served.
pub(crate) fn tile_json_url(base_url: &str, raster_id: &str) -> String {
    format!("{base_url}/sandbox/tilejson/{raster_id}.json")
}

/// The TileJSON of a processing's raster layer: its tiles, and the AOI's bounds to zoom to.
pub(crate) fn tile_json(base_url: &str, p: &ProcessingRecord) -> Value {
    let mut bounds: Option<[f64; 4]> = None;
    for c in p.aois.iter().flat_map(|a| a.rings.iter().flatten()) {
        bounds = Some(match bounds {
            None => [c[0], c[1], c[0], c[1]],
            Some([w, s, e, n]) => [w.min(c[0]), s.min(c[1]), e.max(c[0]), n.max(c[1])],
        });
    }
    let bounds = bounds.unwrap_or([-180.0, -85.051_128_78, 180.0, 85.051_128_78]);
    json!({
        "tilejson": "2.2.0",
        "name": p.name,
        "scheme": "xyz",
        "tiles": [tile_url(base_url, p)],
        "bounds": bounds,
        "center": [(bounds[0] + bounds[2]) / 2.0, (bounds[1] + bounds[3]) / 2.0, 16],
        "minzoom": 0,
        "maxzoom": 18,
    })
}

/// The AOIs of a processing as `GET /processings/{id}/aois` answers them.
pub(crate) fn aois_api(p: &ProcessingRecord, now: DateTime<Utc>) -> Vec<ProcessingAoi> {
    let progress = p.progress(now);
    let messages = if progress.status == ProcessingStatus::Failed { p.failure.clone() } else { Vec::new() };
    p.aois
        .iter()
        .map(|a| ProcessingAoi {
            id: a.id.clone(),
            status: progress.status.clone(),
            percent_completed: progress.percent,
            area: a.area,
            messages: messages.clone(),
            geometry: Some(a.geometry()),
        })
        .collect()
}

/// What a request is for: a create needs a name, a project and a source; an estimate
/// may give `areaSqKm` instead of a geometry and omit the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    Create,
    Estimate,
}

/// A checked request: everything needed to create the processing or answer the estimate.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub request: ProcessingRequest,
    pub model: WorkflowDef,
    /// Each polygon's rings and geodesic area (m²).
    pub aois: Vec<(Rings, f64)>,
    /// Total area, m².
    pub area_m2: f64,
    /// The request's params as sent.
    pub params: Value,
    pub blocks: Vec<ProcessingBlock>,
    /// The tile set showing the imagery.
    pub imagery: Option<String>,
    /// The uploaded images or catalog scenes used.
    pub raster_source: Option<RasterSource>,
    pub cost: i64,
    pub failure: Vec<ProcessingMessage>,
}

/// A zoom as a source names it.
#[derive(Debug, Clone, PartialEq)]
enum Zoom {
    Absent,
    Level(i64),
    /// Not a whole number: what the validator reports (`ZoomMustBeInteger`).
    NotInteger(String),
    /// A whole number out of range (`InvalidZoomValue`).
    OutOfRange(String),
}

/// Checks a v2 request body against the account, in the order the real service does:
/// required fields, geometry, project, model, source, polygon count, area limit,
/// provider, provider minimum. Credits are checked by the caller (only a create needs
/// them).
pub(crate) fn plan(body: Value, purpose: Purpose, state: &PersistedState) -> ApiResult<Plan> {
    plan_draft(draft(body, purpose)?, state)
}

/// What [`draft`] checked of a request, for [`plan_draft`].
pub(crate) struct Draft {
    map: Map<String, Value>,
    project_id: Option<String>,
    params: Value,
    has_source: bool,
    aois: Vec<(Rings, f64)>,
}

/// The checks of [`plan`] that need no account state: required fields and the geometry
/// (the costly one). Routes run it before they take the state lock, so a detailed
/// geometry does not hold up other requests.
pub(crate) fn draft(body: Value, purpose: Purpose) -> ApiResult<Draft> {
    let Value::Object(mut map) = body else {
        return Err(ApiError::bad_request("The request body must be a JSON object"));
    };
    map.retain(|_, v| !v.is_null());
    let create = purpose == Purpose::Create;

    let text =
        |map: &Map<String, Value>, key: &str| map.get(key).and_then(Value::as_str).map(str::trim).map(str::to_owned);
    match text(&map, "name") {
        Some(name) if !name.is_empty() => {
            if let Some(why) = crate::text::refusal(&name, false, MAX_NAME_CHARS) {
                return Err(ApiError::bad_request(format!("Processing name {why}")));
            }
            let description = map.get("description").and_then(Value::as_str).map(str::to_owned);
            crate::text::checked_description("Processing", description).map_err(ApiError::bad_request)?;
            map.insert("name".to_owned(), Value::String(name));
        }
        _ if create => return Err(ApiError::bad_request("Processing name is required")),
        _ => {
            map.insert("name".to_owned(), Value::String(String::new()));
        }
    }
    let project_id = text(&map, "projectId").filter(|p| !p.is_empty());
    if create && project_id.is_none() {
        return Err(ApiError::bad_request("projectId is required"));
    }
    map.insert("projectId".to_owned(), Value::String(project_id.clone().unwrap_or_default()));
    if !map.contains_key("wdId") && !map.contains_key("wdName") {
        return Err(ApiError::bad_request("A model is required: wdId or wdName"));
    }
    if !map.contains_key("geometry") && (create || !map.contains_key("areaSqKm")) {
        let what = if create { "geometry is required" } else { "geometry or areaSqKm is required" };
        return Err(ApiError::bad_request(what));
    }
    let params = map.get("params").cloned().unwrap_or(Value::Null);
    let has_source = params.get("sourceParams").is_some_and(Value::is_object);
    if create && !has_source {
        return Err(ApiError::bad_request("params.sourceParams is required"));
    }

    let aois = match map.get("geometry") {
        Some(geometry) => parse_geometry(geometry)?,
        None => Vec::new(),
    };
    Ok(Draft { map, project_id, params, has_source, aois })
}

impl Draft {
    /// The project the request names, if any.
    pub(crate) fn project_id(&self) -> Option<&str> {
        self.project_id.as_deref()
    }
}

/// The rest of [`plan`] for a request [`draft`] checked: the checks against the account.
pub(crate) fn plan_draft(draft: Draft, state: &PersistedState) -> ApiResult<Plan> {
    let Draft { mut map, project_id, params, has_source, aois } = draft;
    let text =
        |map: &Map<String, Value>, key: &str| map.get(key).and_then(Value::as_str).map(str::trim).map(str::to_owned);

    if let Some(id) = &project_id
        && state.project(id).is_none()
    {
        return Err(ApiError::not_found(format!("Project {id} not found")));
    }

    let model = match (text(&map, "wdId"), text(&map, "wdName")) {
        (Some(id), _) => {
            seed::model_by_id(&id).ok_or_else(|| ApiError::bad_request(format!("Unknown model: wdId {id}")))?
        }
        (None, Some(name)) => {
            seed::model_by_name(&name).ok_or_else(|| ApiError::bad_request(format!("Unknown model: wdName {name}")))?
        }
        (None, None) => return Err(ApiError::bad_request("wdId and wdName must be strings")),
    };

    // The typed request: the zoom is taken out first (it may be a string, or invalid,
    // which fails the run rather than the request), and an estimate without a source
    // gets an empty one.
    let mut normalized = params.clone();
    let zoom =
        if has_source { normalized.get_mut("sourceParams").map_or(Zoom::Absent, take_zoom) } else { Zoom::Absent };
    if !has_source {
        normalized = json!({"sourceParams": {"myImagery": {}}});
    }
    map.insert("params".to_owned(), normalized);
    let request: ProcessingRequest = serde_json::from_value(Value::Object(map))
        .map_err(|e| ApiError::bad_request(format!("Invalid processing request: {e}")))?;

    let max_aois = seed::MAX_AOIS_PER_PROCESSING as usize;
    if aois.len() > max_aois {
        return Err(ApiError::bad_request(format!(
            "The AOI has {} polygons; at most {max_aois} are allowed in one processing",
            aois.len()
        ))
        .param("aoiCount", aois.len())
        .param("maxAoisPerProcessing", max_aois));
    }
    let area_m2 = if request.geometry.is_some() {
        aois.iter().map(|a| a.1).sum()
    } else {
        match request.area_sq_km {
            Some(km2) if km2.is_finite() && km2 >= 0.0 => km2 * 1e6,
            _ => return Err(ApiError::bad_request("areaSqKm must be a number of square kilometres, not negative")),
        }
    };
    // In a shared project the limit is the owner's.
    let aoi_limit = project_id
        .as_deref()
        .and_then(|id| state.project(id))
        .map_or(seed::AOI_AREA_LIMIT, |p| super::members::limits_of(p.owner.as_deref()).aoi_area_limit);
    if area_m2 > aoi_limit as f64 {
        return Err(ApiError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "TOO_LARGE_PROCESSING",
            &format!(
                "The area of the processing, {:.2} km², is larger than the limit of {:.2} km²",
                area_m2 / 1e6,
                aoi_limit as f64 / 1e6
            ),
        )
        .param("aoiAreaLimit", aoi_limit)
        .param("area", area_m2.round() as i64));
    }

    let source = if has_source { Some(check_source(&request.params.source_params, state)?) } else { None };
    let provider = source.as_ref().and_then(|s| s.provider.clone());
    if let Some(provider) = &provider
        && let Some(min_km2) = provider.min_area_sq_km
        && area_m2 / 1e6 < min_km2
    {
        return Err(ApiError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "ProviderMinAreaError",
            &format!(
                "Geometry area is {:.2} sq km, which is smaller than the minimum required area for {} data provider ({min_km2:.2} sq km)",
                area_m2 / 1e6,
                provider.name
            ),
        )
        .param("aoiArea", format!("{:.2}", area_m2 / 1e6))
        .param("providerMinArea", format!("{min_km2:.2}"))
        .param("providerName", &provider.name));
    }

    let blocks = blocks_of(&model, &request.blocks);
    let enabled: Vec<&str> = blocks.iter().filter(|b| b.enabled).map(|b| b.name.as_str()).collect();
    // A zoom the source does not name is the provider's best one.
    let default_zoom = provider.as_ref().and_then(|p| p.price.iter().map(|s| s.zoom).max());
    let effective_zoom = match &zoom {
        Zoom::Level(z) => Some(*z),
        Zoom::Absent => source.as_ref().filter(|s| s.zoom_defaults).and(default_zoom),
        Zoom::NotInteger(_) | Zoom::OutOfRange(_) => None,
    };
    let provider_price = match (&provider, effective_zoom.or(default_zoom)) {
        (Some(p), Some(z)) => price_at(p, z),
        _ => 0.0,
    };
    let price = model.price_with(&enabled) + provider_price;

    let coarsest = source.as_ref().and_then(|s| s.scenes.iter().map(|c| c.resolution).max_by(f64::total_cmp));
    Ok(Plan {
        failure: failure_of(&model, &zoom, effective_zoom, coarsest),
        cost: credits(area_m2 / 1e6 * price),
        raster_source: source.as_ref().and_then(|s| s.raster_source.clone()),
        imagery: source.and_then(|s| s.imagery),
        aois,
        area_m2,
        params: if has_source { without_password(params) } else { Value::Object(Map::new()) },
        blocks,
        model,
        request,
    })
}

/// The params as kept and echoed: the service never sends a raster password back, and
/// answers every documented key (`inferenceParams` is null when none were sent).
fn without_password(mut params: Value) -> Value {
    if let Some(user) = params.pointer_mut("/sourceParams/userDefined").and_then(Value::as_object_mut) {
        user.remove("rasterPassword");
    }
    if let Some(map) = params.as_object_mut() {
        map.entry("inferenceParams").or_insert(Value::Null);
    }
    params
}

/// Credits for a fractional amount: rounded up, after dropping float noise below 10⁻⁶
/// (so 10 km² at 1.1 credits a km² costs 11, not 12).
fn credits(amount: f64) -> i64 {
    ((amount * 1e6).round() / 1e6).ceil().max(0.0) as i64
}

/// A provider's price per km² at a zoom: its step for that zoom, else the highest step
/// below it, else nothing.
fn price_at(provider: &Provider, zoom: i64) -> f64 {
    provider.price.iter().filter(|s| s.zoom <= zoom).max_by_key(|s| s.zoom).map_or(0.0, |s| s.price_sq_km)
}

/// What a run of `model` at this zoom fails with, if anything, in the order the
/// service's validator checks: the zoom's form, the pixel size of the catalog scenes
/// (`coarsest`, m), then the zoom's level.
fn failure_of(
    model: &WorkflowDef,
    zoom: &Zoom,
    effective: Option<i64>,
    coarsest: Option<f64>,
) -> Vec<ProcessingMessage> {
    let message = |code: &str, params: &[(&str, String)]| {
        let mut parameters: BTreeMap<String, String> =
            params.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
        parameters.insert("level".to_owned(), "error".to_owned());
        vec![ProcessingMessage { code: code.to_owned(), parameters }]
    };
    match zoom {
        Zoom::NotInteger(actual) => {
            return message("source-validator.ZoomMustBeInteger", &[("actual_zoom", actual.clone())]);
        }
        Zoom::OutOfRange(actual) => {
            return message("source-validator.InvalidZoomValue", &[("actual_zoom", actual.clone())]);
        }
        Zoom::Absent | Zoom::Level(_) => {}
    }
    if let Some(actual) = coarsest {
        let max = seed::max_resolution(&model.id.0);
        if actual > max + 1e-9 {
            return message(
                "source-validator.PixelSizeTooHigh",
                &[("max_res", format!("{max:.1}")), ("actual_res", metres(actual))],
            );
        }
    }
    let min_zoom = seed::min_zoom(&model.id.0);
    match effective {
        Some(z) if z < min_zoom => message(
            "source-validator.TooLowZoom",
            &[("actual_zoom", z.to_string()), ("min_zoom", min_zoom.to_string())],
        ),
        _ => Vec::new(),
    }
}

/// Takes the zoom out of `sourceParams.<kind>.zoom` (a number or a string), putting a
/// valid one back as a number.
fn take_zoom(source: &mut Value) -> Zoom {
    let Some(inner) = source.as_object_mut().and_then(|m| m.values_mut().next()).and_then(Value::as_object_mut) else {
        return Zoom::Absent;
    };
    let Some(raw) = inner.remove("zoom") else { return Zoom::Absent };
    let (text, number) = match &raw {
        Value::Null => return Zoom::Absent,
        Value::String(s) if s.trim().is_empty() => return Zoom::Absent,
        Value::String(s) => (s.trim().to_owned(), s.trim().parse::<f64>().ok()),
        Value::Number(n) => (n.to_string(), n.as_f64()),
        other => (other.to_string(), None),
    };
    match number {
        Some(z) if z.fract() == 0.0 && (0.0..=MAX_ZOOM as f64).contains(&z) => {
            inner.insert("zoom".to_owned(), json!(z as i64));
            Zoom::Level(z as i64)
        }
        Some(z) if z.fract() == 0.0 => Zoom::OutOfRange(text),
        _ => Zoom::NotInteger(text),
    }
}

/// A resolution as the validator writes it: `10.0`, `0.46`.
fn metres(v: f64) -> String {
    if v.fract() == 0.0 { format!("{v:.1}") } else { format!("{}", (v * 100.0).round() / 100.0) }
}

/// What the source of a request is, once checked.
struct Source {
    provider: Option<Provider>,
    /// Whether a missing zoom means the provider's best (providers and catalog images).
    zoom_defaults: bool,
    imagery: Option<String>,
    /// The catalog scenes picked (`imagerySearch`).
    scenes: Vec<catalog::Scene>,
    raster_source: Option<RasterSource>,
}

impl Source {
    fn plain(provider: Option<Provider>, zoom_defaults: bool, imagery: Option<String>) -> Self {
        Self { provider, zoom_defaults, imagery, scenes: Vec::new(), raster_source: None }
    }
}

/// Checks a source: a known provider; catalog images the catalog has for that provider;
/// uploaded images and mosaics the account has; a URL. An id that names nothing is a 400
/// `BAD_REQUEST` naming it, as for an unknown provider.
fn check_source(source: &SourceParams, state: &PersistedState) -> ApiResult<Source> {
    // By `name` as sent; leniently also by any case, or by the display name.
    let find = |providers: Vec<Provider>, name: &str| {
        let name = name.trim();
        let wanted = name.to_lowercase();
        let exact = providers.iter().position(|p| p.name == name);
        let lenient = || {
            providers.iter().position(|p| p.name.to_lowercase() == wanted || p.display_name.to_lowercase() == wanted)
        };
        exact.or_else(lenient).map(|i| providers[i].clone())
    };
    match source {
        SourceParams::DataProvider { provider_name, .. } => {
            let provider = find(seed::data_providers(""), provider_name).ok_or_else(|| {
                ApiError::bad_request(format!("Unknown data provider: {provider_name}"))
                    .param("providerName", provider_name)
            })?;
            Ok(Source::plain(Some(provider.clone()), true, Some(provider.name)))
        }
        SourceParams::ImagerySearch { data_provider, image_ids, .. } => {
            let provider = find(seed::search_data_providers(), data_provider).ok_or_else(|| {
                ApiError::bad_request(format!("Unknown data provider: {data_provider}"))
                    .param("providerName", data_provider)
            })?;
            if image_ids.is_empty() {
                return Err(ApiError::bad_request("imagerySearch.imageIds must name at least one image"));
            }
            let mut scenes = Vec::with_capacity(image_ids.len());
            for id in image_ids {
                let scene = catalog::find(id.trim()).filter(|s| s.provider == provider.name).ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "Unknown image {id}: the catalog of data provider {} has no such image",
                        provider.name
                    ))
                    .param("imageId", id)
                    .param("providerName", &provider.name)
                })?;
                scenes.push(scene);
            }
            let ids = scenes.iter().map(|s| s.id.clone()).collect();
            Ok(Source {
                imagery: Some(provider.name.clone()),
                provider: Some(provider),
                zoom_defaults: true,
                scenes,
                raster_source: Some(RasterSource::Scenes { ids }),
            })
        }
        SourceParams::MyImagery { image_ids, mosaic_id } => {
            let image_ids: Vec<&str> = image_ids.iter().flatten().map(|i| i.trim()).filter(|i| !i.is_empty()).collect();
            let mosaic_id = mosaic_id.as_deref().map(str::trim).filter(|m| !m.is_empty());
            if image_ids.is_empty() && mosaic_id.is_none() {
                return Err(ApiError::bad_request("myImagery needs imageIds or a mosaicId"));
            }
            if let Some(mosaic) = mosaic_id
                && !state.mosaics.iter().any(|m| m.id == mosaic)
            {
                return Err(ApiError::bad_request(format!("Unknown mosaic {mosaic}: the account has no such mosaic"))
                    .param("mosaicId", mosaic));
            }
            for id in &image_ids {
                if !state.images.iter().any(|i| i.id == *id) {
                    return Err(ApiError::bad_request(format!(
                        "Unknown image {id}: the account has no such uploaded image"
                    ))
                    .param("imageId", *id));
                }
            }
            let ids: Vec<String> = if image_ids.is_empty() {
                let mosaic = mosaic_id.unwrap_or_default();
                super::rasters::images_of(state, mosaic).map(|i| i.id.clone()).collect()
            } else {
                image_ids.iter().map(|i| (*i).to_owned()).collect()
            };
            if ids.is_empty() {
                return Err(ApiError::bad_request("The mosaic has no images to process")
                    .param("mosaicId", mosaic_id.unwrap_or_default()));
            }
            Ok(Source {
                provider: None,
                zoom_defaults: false,
                imagery: None,
                scenes: Vec::new(),
                raster_source: Some(RasterSource::Images { ids }),
            })
        }
        SourceParams::UserDefined { url, .. } => {
            if url.trim().is_empty() {
                return Err(ApiError::bad_request("userDefined.url is required"));
            }
            Ok(Source::plain(None, false, None))
        }
    }
}

/// Every block of the model with its state: required blocks on, optional ones as the
/// request says (on when it does not name them); unknown names are ignored.
fn blocks_of(model: &WorkflowDef, toggles: &[BlockToggle]) -> Vec<ProcessingBlock> {
    model
        .blocks
        .iter()
        .map(|b| ProcessingBlock {
            name: b.name.clone(),
            enabled: !b.optional
                || toggles.iter().find(|t| t.name.eq_ignore_ascii_case(&b.name)).is_none_or(|t| t.enabled),
            display_name: Some(b.display_name.clone()),
        })
        .collect()
}

/// Reads a `geometry`: a Polygon or MultiPolygon in lon/lat, every polygon valid and with
/// an area, at most [`MAX_AOI_VERTICES`] vertices in all. Gives each polygon's rings and
/// geodesic area (m²); anything else is `geometry.Invalid` (too many vertices is
/// `BAD_REQUEST` naming the limit).
fn parse_geometry(geometry: &Value) -> ApiResult<Vec<(Rings, f64)>> {
    let aoi = parse_aoi(geometry, "geometry")?;
    let areas = aoi.areas_m2();
    Ok(aoi
        .polygons
        .iter()
        .zip(areas)
        .map(|(polygon, area)| {
            let rings: Rings = std::iter::once(polygon.exterior())
                .chain(polygon.interiors())
                .map(|ring| ring.coords().map(|c| [c.x, c.y]).collect())
                .collect();
            (rings, area)
        })
        .collect())
}

/// The most vertices (of all rings of all polygons) a geometry may have: checking a
/// geometry costs time with every vertex, and field or city outlines need far fewer.
pub(crate) const MAX_AOI_VERTICES: usize = 20_000;

/// Reads a Polygon or MultiPolygon in lon/lat (`what` names it in messages: "geometry",
/// "search area"): at most [`MAX_AOI_VERTICES`] vertices, every polygon within lon/lat
/// range, valid (the fast check the app uses before Start, so detailed outlines are
/// checked in about n log n) and with an area. Shared by processings and catalog searches.
pub(crate) fn parse_aoi(geometry: &Value, what: &str) -> ApiResult<mapflow_geo::Aoi> {
    let invalid = |message: String| ApiError::new(axum::http::StatusCode::BAD_REQUEST, "geometry.Invalid", &message);
    let named = {
        let mut chars = what.chars();
        chars.next().map(|c| c.to_uppercase().chain(chars).collect::<String>()).unwrap_or_default()
    };
    match geometry.get("type").and_then(Value::as_str) {
        Some("Polygon" | "MultiPolygon") => {}
        Some(other) => return Err(invalid(format!("The {what} must be a Polygon or MultiPolygon, not {other}"))),
        None => return Err(invalid(format!("The {what} must be a GeoJSON Polygon or MultiPolygon"))),
    }
    let vertices = count_vertices(geometry.get("coordinates"));
    if vertices > MAX_AOI_VERTICES {
        return Err(ApiError::bad_request(format!(
            "{named} has {vertices} vertices; at most {MAX_AOI_VERTICES} are accepted. Simplify the outline"
        ))
        .param("vertices", vertices)
        .param("maxVertices", MAX_AOI_VERTICES));
    }
    let aoi = mapflow_geo::parse_geojson(&geometry.to_string())
        .map_err(|e| invalid(format!("The {what} is not valid GeoJSON: {e}")))?;
    if aoi.is_empty() {
        return Err(invalid(format!("The {what} has no polygon")));
    }
    for (n, polygon) in aoi.polygons.iter().enumerate() {
        let coords = std::iter::once(polygon.exterior()).chain(polygon.interiors()).flat_map(|r| r.coords());
        if coords.into_iter().any(|c| !(-180.0..=180.0).contains(&c.x) || !(-90.0..=90.0).contains(&c.y)) {
            return Err(invalid(format!(
                "Polygon {} is outside longitude -180..180 and latitude -90..90 (is it in EPSG:4326?)",
                n + 1
            )));
        }
    }
    for (n, polygon) in aoi.polygons.iter().enumerate() {
        let one = mapflow_geo::Aoi { polygons: vec![polygon.clone()] };
        let (_, issues) = mapflow_geo::validate(&one, &mapflow_geo::AoiLimits::default());
        for issue in issues {
            match issue {
                mapflow_geo::AoiIssue::Invalid { reason, .. } => {
                    return Err(invalid(format!("Polygon {} is invalid: {}", n + 1, reason.replace('_', " "))));
                }
                mapflow_geo::AoiIssue::Repaired { .. } => {
                    return Err(invalid(format!("Polygon {} is invalid: its outline crosses itself", n + 1)));
                }
                _ => {}
            }
        }
    }
    for (n, area) in aoi.areas_m2().into_iter().enumerate() {
        if area.is_nan() || area <= 0.0 {
            return Err(invalid(format!("Polygon {} has no area", n + 1)));
        }
    }
    Ok(aoi)
}

/// The number of positions in GeoJSON `coordinates` (nested arrays of any depth), counted
/// without building geometry.
fn count_vertices(coordinates: Option<&Value>) -> usize {
    let mut count = 0;
    let mut stack: Vec<&Value> = coordinates.into_iter().collect();
    while let Some(value) = stack.pop() {
        if let Value::Array(items) = value {
            if items.first().is_some_and(Value::is_number) {
                count += 1;
            } else {
                stack.extend(items);
            }
        }
    }
    count
}

/// A new processing from a checked plan, its run starting `now`.
pub(crate) fn record(plan: Plan, project_id: &str, now: DateTime<Utc>, duration_secs: f64) -> ProcessingRecord {
    let id = uuid::Uuid::new_v4().to_string();
    let raster_id = uuid::Uuid::new_v4().to_string();
    let meta = match plan.request.meta {
        Some(meta @ Value::Object(_)) => meta,
        _ => Value::Object(Map::new()),
    };
    ProcessingRecord {
        imagery: plan.imagery.unwrap_or_else(|| format!("raster-{raster_id}")),
        raster_source: plan.raster_source,
        raster_id,
        name: plan.request.name,
        description: plan.request.description,
        project_id: project_id.to_owned(),
        model_id: plan.model.id.0.clone(),
        aois: plan
            .aois
            .into_iter()
            .map(|(rings, area)| AoiRecord { id: uuid::Uuid::new_v4().to_string(), area: area.round() as i64, rings })
            .collect(),
        area: plan.area_m2.round() as i64,
        cost: plan.cost,
        params: plan.params,
        blocks: plan.blocks,
        meta,
        failure: plan.failure,
        started: now,
        duration_secs,
        charged: true,
        rating: None,
        created: now,
        updated: now,
        payer: None,
        review: false,
        review_decision: None,
        id,
    }
}

/// Charges a run: the credits and the area, or a 400 when the credits do not cover it.
pub(crate) fn charge(state: &mut PersistedState, cost: i64, area: i64) -> ApiResult<()> {
    charge_to(state, None, cost, area)
}

/// [`charge`] to the account of `payer` (an email; `None` is the main account).
pub(crate) fn charge_to(state: &mut PersistedState, payer: Option<&str>, cost: i64, area: i64) -> ApiResult<()> {
    let account = super::members::account_mut(state, payer);
    let remaining = account.remaining_credits;
    if cost > remaining {
        return Err(ApiError::bad_request(format!(
            "Not enough credits: the processing costs {cost} credits and {remaining} remain"
        ))
        .param("cost", cost)
        .param("remainingCredits", remaining));
    }
    account.remaining_credits -= cost;
    account.processed_area += area;
    Ok(())
}

/// Converts a v1 body (flat `params`: `{data_provider, zoom}` or `{url, source_type,
/// crs, zoom}`) into the v2 shape. A v1 body without a project goes to the default one.
pub(crate) fn v1_to_v2(body: Value, state: &PersistedState) -> ApiResult<Value> {
    let Value::Object(mut map) = body else {
        return Err(ApiError::bad_request("The request body must be a JSON object"));
    };
    if map.get("projectId").is_none_or(Value::is_null)
        && let Some(default) = state.default_project()
    {
        map.insert("projectId".to_owned(), Value::String(default.id.clone()));
    }
    let params = match map.remove("params") {
        Some(Value::Object(params)) => params,
        None | Some(Value::Null) => return Err(ApiError::bad_request("params is required")),
        Some(_) => return Err(ApiError::bad_request("params must be an object")),
    };
    if params.contains_key("sourceParams") {
        // Already the v2 shape.
        map.insert("params".to_owned(), Value::Object(params));
        return Ok(Value::Object(map));
    }
    let get = |key: &str| params.get(key).filter(|v| !v.is_null()).cloned();
    let mut inner = Map::new();
    let kind = if let Some(provider) = get("data_provider").or_else(|| get("dataProvider")) {
        inner.insert("providerName".to_owned(), provider);
        "dataProvider"
    } else if let Some(url) = get("url") {
        let source_type = get("source_type").and_then(|v| v.as_str().map(str::to_ascii_uppercase));
        inner.insert("sourceType".to_owned(), Value::String(source_type.unwrap_or_else(|| "XYZ".to_owned())));
        inner.insert("url".to_owned(), url);
        let crs = get("crs").and_then(|v| v.as_str().map(str::to_ascii_lowercase));
        inner.insert("crs".to_owned(), Value::String(crs.unwrap_or_else(|| "epsg:3857".to_owned())));
        for (from, to) in [("raster_login", "rasterLogin"), ("raster_password", "rasterPassword")] {
            if let Some(v) = get(from) {
                inner.insert(to.to_owned(), v);
            }
        }
        "userDefined"
    } else {
        return Err(ApiError::bad_request("params must name a data_provider or a url"));
    };
    if let Some(zoom) = get("zoom") {
        inner.insert("zoom".to_owned(), zoom);
    }
    map.insert("params".to_owned(), json!({"sourceParams": {kind: Value::Object(inner)}}));
    Ok(Value::Object(map))
}

/// Sorting of `POST /processings/stats`: `field:asc|desc`.
fn stats_order(sort: &str) -> ApiResult<(String, bool)> {
    let (field, dir) = sort.split_once(':').unwrap_or((sort, "desc"));
    let field = field.trim().to_ascii_lowercase();
    if !["created", "updated", "name", "status", "area", "cost"].contains(&field.as_str()) {
        return Err(ApiError::bad_request(format!("Cannot sort by {field}")));
    }
    match dir.trim().to_ascii_lowercase().as_str() {
        "asc" => Ok((field, false)),
        "desc" => Ok((field, true)),
        other => Err(ApiError::bad_request(format!("Unknown sort direction: {other}"))),
    }
}

/// One row of the processing history.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StatsRow {
    pub id: String,
    pub name: String,
    pub project_id: String,
    pub project_name: String,
    pub status: String,
    pub model: String,
    pub source: String,
    pub aoi_count: i64,
    pub area: i64,
    pub cost: i64,
    pub created: String,
    pub updated: String,
}

impl StatsRow {
    /// The CSV header: the JSON keys, in the struct's order.
    const HEADER: [&'static str; 12] = [
        "id",
        "name",
        "projectId",
        "projectName",
        "status",
        "model",
        "source",
        "aoiCount",
        "area",
        "cost",
        "created",
        "updated",
    ];

    /// The rows as CSV (RFC 4180: CRLF, quoted where needed), the header first even when
    /// there are no rows.
    pub fn csv(rows: &[StatsRow]) -> Result<Vec<u8>, csv::Error> {
        let mut out =
            csv::WriterBuilder::new().has_headers(false).terminator(csv::Terminator::CRLF).from_writer(Vec::new());
        out.write_record(Self::HEADER)?;
        for row in rows {
            out.serialize(row)?;
        }
        out.into_inner().map_err(|e| e.into_error().into())
    }
}

/// Body of `POST /processings/stats`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct StatsQuery {
    pub page: i64,
    pub per_page: i64,
    pub sort: Option<String>,
    pub filter: Option<String>,
}

impl Default for StatsQuery {
    fn default() -> Self {
        Self { page: 1, per_page: 50, sort: None, filter: None }
    }
}

/// The processing history: rows filtered (`status=OK`, `projectId=…`, `model=…`,
/// `name=…` as a part of the name; several joined by `&`, `;` or `,`; a value may list
/// alternatives with `|`), sorted (`created:desc` by default) and paged from page 1.
/// Only the processings whose project `visible` accepts (the caller's own) are counted.
pub(crate) fn stats_of(
    state: &PersistedState,
    query: &StatsQuery,
    now: DateTime<Utc>,
    visible: &dyn Fn(&str) -> bool,
) -> ApiResult<(Vec<StatsRow>, i64)> {
    if query.page < 0 || query.per_page < 1 || query.per_page > 1000 {
        return Err(ApiError::bad_request("page must not be negative and perPage must be 1 to 1000"));
    }
    let (field, desc) = stats_order(query.sort.as_deref().unwrap_or("created:desc"))?;
    let mut conditions: Vec<(String, Vec<String>)> = Vec::new();
    for part in query.filter.as_deref().unwrap_or("").split(['&', ';', ',']).map(str::trim).filter(|p| !p.is_empty()) {
        let (key, value) =
            part.split_once('=').ok_or_else(|| ApiError::bad_request(format!("Filter `{part}` is not key=value")))?;
        let key = key.trim().to_ascii_lowercase();
        if !["status", "projectid", "model", "name"].contains(&key.as_str()) {
            return Err(ApiError::bad_request(format!("Cannot filter by {key}")));
        }
        conditions.push((key, value.split('|').map(|v| v.trim().to_lowercase()).collect()));
    }
    let mut rows: Vec<(StatsRow, &ProcessingRecord)> = state
        .processings
        .iter()
        .filter(|p| visible(&p.project_id))
        .map(|p| {
            let api = to_api("", p, now);
            let row = StatsRow {
                id: p.id.clone(),
                name: p.name.clone(),
                project_id: p.project_id.clone(),
                project_name: state.project(&p.project_id).map(|r| r.name.clone()).unwrap_or_default(),
                status: api.status.as_str().to_owned(),
                model: api.workflow_def.map(|m| m.name).unwrap_or_default(),
                source: source_label(&p.params),
                aoi_count: api.aoi_count,
                area: p.area,
                cost: p.cost,
                created: api.created.unwrap_or_default(),
                updated: api.updated.unwrap_or_default(),
            };
            (row, p)
        })
        .filter(|(row, _)| {
            conditions.iter().all(|(key, values)| {
                let have = match key.as_str() {
                    "status" => row.status.to_lowercase(),
                    "projectid" => row.project_id.to_lowercase(),
                    "model" => row.model.to_lowercase(),
                    _ => row.name.to_lowercase(),
                };
                if key == "name" { values.iter().any(|v| have.contains(v)) } else { values.contains(&have) }
            })
        })
        .collect();
    rows.sort_by(|(a, pa), (b, pb)| {
        let by = match field.as_str() {
            "updated" => a.updated.cmp(&b.updated),
            "name" => a.name.to_lowercase().cmp(&b.name.to_lowercase()),
            "status" => a.status.cmp(&b.status),
            "area" => a.area.cmp(&b.area),
            "cost" => a.cost.cmp(&b.cost),
            _ => pa.created.cmp(&pb.created),
        };
        let by = if desc { by.reverse() } else { by };
        by.then_with(|| pa.created.cmp(&pb.created)).then_with(|| a.id.cmp(&b.id))
    });
    let total = rows.len() as i64;
    let skip = (query.page.max(1) - 1).saturating_mul(query.per_page);
    let page = rows
        .into_iter()
        .skip(usize::try_from(skip).unwrap_or(usize::MAX))
        .take(usize::try_from(query.per_page).unwrap_or(0))
        .map(|(row, _)| row)
        .collect();
    Ok((page, total))
}

/// A short name of a processing's source: the provider, or the kind of source.
fn source_label(params: &Value) -> String {
    let Some(source) = params.get("sourceParams").and_then(Value::as_object) else { return String::new() };
    match source.iter().next() {
        Some((kind, inner)) => inner
            .get("providerName")
            .or_else(|| inner.get("dataProvider"))
            .and_then(Value::as_str)
            .map_or_else(|| kind.clone(), str::to_owned),
        None => String::new(),
    }
}

/// A page of processings as the page route answers it.
pub(crate) fn page_of(results: Vec<Processing>, total: usize) -> Page<Processing> {
    Page { count: results.len() as i64, total: total as i64, results }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_csv_is_rfc_4180() {
        let row = |name: &str| StatsRow {
            id: "p1".to_owned(),
            name: name.to_owned(),
            project_id: "d".to_owned(),
            project_name: "Default".to_owned(),
            status: "OK".to_owned(),
            model: "Buildings".to_owned(),
            source: "Mapbox".to_owned(),
            aoi_count: 1,
            area: 2,
            cost: 3,
            created: "2024-01-01T00:00:00Z".to_owned(),
            updated: String::new(),
        };
        let csv = String::from_utf8(StatsRow::csv(&[row("a, \"b\"\nc")]).expect("csv")).expect("utf-8");
        assert_eq!(
            csv,
            "id,name,projectId,projectName,status,model,source,aoiCount,area,cost,created,updated\r\n\
             p1,\"a, \"\"b\"\"\nc\",d,Default,OK,Buildings,Mapbox,1,2,3,2024-01-01T00:00:00Z,\r\n"
        );
        assert_eq!(StatsRow::csv(&[]).expect("csv").len(), csv.find('\n').expect("a header") + 1);
    }
}
