//! Planned processings (search templates) under `/processings/template`: create, list,
//! read, update, delete, pause and resume; their AOIs; the images found and their seen
//! marks; the processings started from them. The rules are in [`crate::templates`].
//!
//! Roles: a template lives in a project; reading it needs a role there, and changing it
//! (or starting a processing from it) the contributor role, as starting a processing does.

use std::sync::Arc;

use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::{Caller, JsonBody, blocking};
use crate::catalog::{Filters, Previews};
use crate::error::{ApiError, ApiResult};
use crate::members::{self, Action};
use crate::seed;
use crate::state::{PersistedState, Shared};
use crate::templates::{self, TemplateAoi, TemplateRecord};

/// Largest page of found images.
const MAX_IMAGES_PAGE: usize = 1000;

pub(super) fn routes(previews: Arc<Previews>) -> Router<Arc<Shared>> {
    Router::new()
        .route("/processings/template", get(list).post(create))
        .route("/processings/template/project/{project_id}", get(by_project))
        .route("/processings/template/user/{user_id}", get(by_user))
        .route("/processings/template/{id}", get(one).put(update).delete(remove).post(run_v1))
        .route("/processings/template/{id}/pause", post(pause))
        .route("/processings/template/{id}/resume", post(resume))
        .route("/processings/template/{id}/processings", get(processings))
        .route("/processings/template/{id}/v2", post(run_v2))
        .route("/processings/template/{id}/aoi", post(add_aois).delete(delete_aois))
        .route("/processings/template/{id}/aoi/{aoi_id}", post(update_aoi).put(aoi_put))
        .route("/processings/template/{id}/image/{image_id}/seen", post(seen))
        .route("/processings/template/{id}/image/seenAll", put(seen_all))
        .route("/processings/template/{id}/images", post(images))
        .layer(Extension(previews))
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Template {id} not found"))
}

/// The template `id` if the caller may do `action` in its project; one in a project they
/// cannot see is not found.
fn check<'a>(s: &'a PersistedState, caller: &Caller, id: &str, action: Action) -> ApiResult<&'a TemplateRecord> {
    let t = s.templates.get(id).ok_or_else(|| not_found(id))?;
    match members::check(s, caller, &t.project_id, action) {
        Ok(_) => Ok(t),
        Err(e) if e.status == StatusCode::NOT_FOUND => Err(not_found(id)),
        Err(e) => Err(e),
    }
}

/// Every template the caller can see, oldest first.
fn visible<'a>(s: &'a PersistedState, caller: &'a Caller) -> impl Iterator<Item = &'a TemplateRecord> {
    s.templates.iter().filter(|t| members::check(s, caller, &t.project_id, Action::View).is_ok())
}

fn object(body: Value) -> ApiResult<Map<String, Value>> {
    match body {
        Value::Object(map) => Ok(map),
        _ => Err(ApiError::bad_request("The request body must be a JSON object")),
    }
}

fn datetime(value: Option<&Value>, name: &str) -> ApiResult<Option<DateTime<Utc>>> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => crate::routes::catalog_instant(s, true)
            .map(Some)
            .ok_or_else(|| ApiError::bad_request(format!("{name} must be an ISO 8601 datetime, not `{s}`"))),
        Some(_) => Err(ApiError::bad_request(format!("{name} must be an ISO 8601 datetime"))),
    }
}

fn template_name(value: Option<&Value>) -> ApiResult<String> {
    match value {
        Some(Value::String(s)) if !s.trim().is_empty() => {
            if s.chars().count() > templates::MAX_NAME_CHARS {
                return Err(ApiError::bad_request(format!(
                    "name must be at most {} characters",
                    templates::MAX_NAME_CHARS
                )));
            }
            Ok(s.trim().to_owned())
        }
        _ => Err(ApiError::bad_request("name is required")),
    }
}

fn new_aois(parts: Vec<templates::NewAoi>) -> Vec<TemplateAoi> {
    parts
        .into_iter()
        .map(|p| TemplateAoi {
            id: uuid::Uuid::new_v4().to_string(),
            name: p.name,
            area: p.area,
            rings: templates::polygon_rings(&p.polygon),
        })
        .collect()
}

/// `POST /processings/template {name, searchParams, processingParams, projectId,
/// activeUntil}` → `{template, searchResults}`; the search starts at once.
async fn create(
    State(shared): State<Arc<Shared>>,
    Extension(previews): Extension<Arc<Previews>>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Json<Value>> {
    let mut body = object(body)?;
    let name = template_name(body.get("name"))?;
    let mut search_params = match body.remove("searchParams") {
        Some(Value::Object(map)) => map,
        _ => return Err(ApiError::bad_request("searchParams is required: the catalog filters and aoiDetails")),
    };
    let active_until = datetime(body.get("activeUntil"), "activeUntil")?;
    let processing_params = body.remove("processingParams").unwrap_or(Value::Null);
    let params = search_params.clone();
    let (aois, found) = blocking(move || {
        let aois = new_aois(templates::aois_of_search_params(&params)?);
        templates::check_area(aois.iter().map(|a| a.area).sum(), seed::TEMPLATE_AREA_LIMIT)?;
        let filters = templates::filters_of(&params)?;
        let found = templates::search(&aois, &filters)?;
        Ok((aois, found))
    })
    .await?;
    search_params.remove("aoiDetails");
    search_params.remove("aoi");
    let now = Utc::now();
    let config = &shared.config;
    shared.write(|s| {
        let project_id = match body.get("projectId").and_then(Value::as_str) {
            Some(id) => members::check(s, &caller, id, Action::Start)?.0.id.clone(),
            None => members::default_project_of(s, &caller).id,
        };
        let user_id = members::account_of(s, caller.key()).user_id;
        let mut t = TemplateRecord {
            id: uuid::Uuid::new_v4().to_string(),
            name,
            project_id,
            user_id,
            created_at: now,
            active_until,
            search_params,
            processing_params,
            aois,
            searching_until: now,
            paused_at: None,
            found: Vec::new(),
            seen: Default::default(),
            processings: Vec::new(),
        };
        templates::start_search(&mut t, found, now, config.template_search_seconds, config.template_check_seconds);
        let answer = templates::with_results(&t, s, &previews, now);
        tracing::info!("sandbox: planned search {} \"{}\" created", t.id, t.name);
        s.templates.push(t);
        Ok(Json(answer))
    })
}

/// `GET /processings/template`: every template the caller can see, with `searchParams`.
async fn list(
    State(shared): State<Arc<Shared>>,
    Extension(previews): Extension<Arc<Previews>>,
    Extension(caller): Extension<Caller>,
) -> Json<Value> {
    let now = Utc::now();
    shared.read(|s| {
        Json(Value::Array(visible(s, &caller).map(|t| templates::to_api(t, s, &previews, now, true)).collect()))
    })
}

/// `GET /processings/template/user/{userId}`: the templates that user made, of those the
/// caller can see.
async fn by_user(
    State(shared): State<Arc<Shared>>,
    Extension(previews): Extension<Arc<Previews>>,
    Extension(caller): Extension<Caller>,
    Path(user_id): Path<String>,
) -> Json<Value> {
    let now = Utc::now();
    shared.read(|s| {
        Json(Value::Array(
            visible(s, &caller)
                .filter(|t| t.user_id == user_id)
                .map(|t| templates::to_api(t, s, &previews, now, true))
                .collect(),
        ))
    })
}

/// `GET /processings/template/project/{projectId}`: the project's templates, short (no
/// `searchParams`, no `searchResults`): what a poll reads.
async fn by_project(
    State(shared): State<Arc<Shared>>,
    Extension(previews): Extension<Arc<Previews>>,
    Extension(caller): Extension<Caller>,
    Path(project_id): Path<String>,
) -> ApiResult<Json<Value>> {
    let now = Utc::now();
    shared.read(|s| {
        members::check(s, &caller, &project_id, Action::View)?;
        Ok(Json(Value::Array(
            s.templates
                .iter()
                .filter(|t| t.project_id == project_id)
                .map(|t| templates::to_api(t, s, &previews, now, false))
                .collect(),
        )))
    })
}

/// `GET /processings/template/{id}` → `{template, searchResults}`.
async fn one(
    State(shared): State<Arc<Shared>>,
    Extension(previews): Extension<Arc<Previews>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    shared.read(|s| {
        let t = check(s, &caller, &id, Action::View)?;
        Ok(Json(templates::with_results(t, s, &previews, Utc::now())))
    })
}

/// `PUT /processings/template/{id}`: a partial update of `name`, `searchParams` (merged;
/// no geometry), `processingParams`, `activeUntil` → the template. New filters search
/// again.
async fn update(
    State(shared): State<Arc<Shared>>,
    Extension(previews): Extension<Arc<Previews>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Json<Value>> {
    let mut body = object(body)?;
    let name = body.get("name").filter(|v| !v.is_null()).map(|v| template_name(Some(v))).transpose()?;
    let new_params = match body.remove("searchParams") {
        None | Some(Value::Null) => None,
        Some(Value::Object(map)) => {
            if map.contains_key("aoi") || map.contains_key("aoiDetails") {
                return Err(ApiError::bad_request(templates::GEOMETRY_UPDATE_REFUSED));
            }
            Some(map)
        }
        Some(_) => return Err(ApiError::bad_request("searchParams must be an object")),
    };
    let active_until = datetime(body.get("activeUntil"), "activeUntil")?;
    // The merged filters and a new search, off the workers.
    let (current, aois) = shared.read(|s| {
        let t = check(s, &caller, &id, Action::Start)?;
        Ok::<_, ApiError>((t.search_params.clone(), t.aois.clone()))
    })?;
    let research = match new_params {
        Some(new) => {
            let mut merged = current;
            merged.extend(new);
            let params = merged.clone();
            let found = blocking(move || templates::search(&aois, &templates::filters_of(&params)?)).await?;
            Some((merged, found))
        }
        None => None,
    };
    let now = Utc::now();
    let config = &shared.config;
    shared.write(|s| {
        check(s, &caller, &id, Action::Start)?;
        let t = s.templates.get_mut(&id).ok_or_else(|| not_found(&id))?;
        if let Some(name) = name {
            t.name = name;
        }
        if let Some(p) = body.remove("processingParams").filter(|v| !v.is_null()) {
            t.processing_params = p;
        }
        if body.contains_key("activeUntil") {
            t.active_until = active_until;
        }
        if let Some((merged, found)) = research {
            t.search_params = merged;
            // What the new filters no longer pass goes; the rest stays found.
            t.found.retain(|f| found.contains_key(&f.id));
            templates::start_search(t, found, now, config.template_search_seconds, config.template_check_seconds);
        }
        let t = s.templates.get(&id).ok_or_else(|| not_found(&id))?;
        Ok(Json(templates::to_api(t, s, &previews, now, true)))
    })
}

/// `DELETE /processings/template/{id}`: the template goes; its processings stay.
async fn remove(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    shared.write(|s| {
        check(s, &caller, &id, Action::Start)?;
        s.templates.remove(&id);
        Ok(StatusCode::NO_CONTENT)
    })
}

/// Pause or resume → `{template, searchResults}`.
fn set_active(shared: &Shared, previews: &Previews, caller: &Caller, id: &str, active: bool) -> ApiResult<Json<Value>> {
    let now = Utc::now();
    shared.write(|s| {
        check(s, caller, id, Action::Start)?;
        let t = s.templates.get_mut(id).ok_or_else(|| not_found(id))?;
        if active {
            templates::resume(t, now);
        } else {
            templates::pause(t, now);
        }
        let t = s.templates.get(id).ok_or_else(|| not_found(id))?;
        Ok(Json(templates::with_results(t, s, previews, now)))
    })
}

/// `POST /processings/template/{id}/pause`: INACTIVE; nothing more is found.
async fn pause(
    State(shared): State<Arc<Shared>>,
    Extension(previews): Extension<Arc<Previews>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    set_active(&shared, &previews, &caller, &id, false)
}

/// `POST /processings/template/{id}/resume`.
async fn resume(
    State(shared): State<Arc<Shared>>,
    Extension(previews): Extension<Arc<Previews>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    set_active(&shared, &previews, &caller, &id, true)
}

/// `GET /processings/template/{id}/processings`: the processings started from it, in the
/// v1 shape (flat string `params`), oldest first.
async fn processings(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let now = Utc::now();
    shared.read(|s| {
        let t = check(s, &caller, &id, Action::View)?;
        Ok(Json(Value::Array(
            t.processings
                .iter()
                .filter_map(|p| s.processing(p))
                .map(|p| templates::v1_processing(&shared.base_url, p, now))
                .collect(),
        )))
    })
}

/// Starts a processing from the template: the body over the template's
/// `processingParams`, in the template's project; with `updateTemplateGeometry` its
/// footprint leaves the template's AOIs.
async fn run(shared: &Shared, caller: &Caller, id: &str, body: Value, v1: bool) -> ApiResult<Json<Value>> {
    let mut body = object(body)?;
    let update_geometry = body.remove("updateTemplateGeometry").and_then(|v| v.as_bool()).unwrap_or(false);
    let (project_id, defaults) = shared.read(|s| {
        let t = check(s, caller, id, Action::Start)?;
        Ok::<_, ApiError>((t.project_id.clone(), t.processing_params.clone()))
    })?;
    let mut merged = match defaults {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    merged.remove("projectId");
    merged.extend(body.into_iter().filter(|(_, v)| !v.is_null()));
    merged.insert("projectId".to_owned(), Value::String(project_id));
    let mut request = Value::Object(merged);
    if v1 {
        request = shared.read(|s| crate::processing::v1_to_v2(request, s))?;
    }
    let Json(processing) = super::processings::create(shared, caller, request).await?;
    let pid = processing.id.0.clone();
    shared.write(|s| {
        let footprint = s.processing(&pid).map(templates::footprint);
        let Some(t) = s.templates.get_mut(id) else { return Ok(()) };
        t.processings.push(pid.clone());
        if update_geometry && let Some(footprint) = footprint {
            templates::subtract(t, &footprint);
        }
        Ok(())
    })?;
    Ok(Json(serde_json::to_value(processing).unwrap_or(Value::Null)))
}

/// `POST /processings/template/{id}/v2 {name, description, wdName|wdId, geometry, params,
/// meta, blocks, updateTemplateGeometry}` → the new processing.
async fn run_v2(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Json<Value>> {
    run(&shared, &caller, &id, body, false).await
}

/// `POST /processings/template/{id}`: the older form, v1 flat `params`.
async fn run_v1(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Json<Value>> {
    run(&shared, &caller, &id, body, true).await
}

/// `POST /processings/template/{id}/aoi` with `{geometry, name}` or `{aois: [{geometry,
/// name}]}` → `{addedCount, partitioningTriggered}`: a MultiPolygon is kept as one AOI per
/// part (the partitioning); the new AOIs are searched.
async fn add_aois(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Json<Value>> {
    let body = object(body)?;
    let items: Vec<Value> = match (body.get("geometry").filter(|v| !v.is_null()), body.get("aois")) {
        (Some(_), None | Some(Value::Null)) => vec![Value::Object(body.clone())],
        (None, Some(Value::Array(items))) if !items.is_empty() => items.clone(),
        (None, Some(Value::Array(_))) => return Err(ApiError::bad_request("aois must not be empty")),
        _ => return Err(ApiError::bad_request("Give exactly one of geometry or aois")),
    };
    let (params, area) = shared.read(|s| {
        let t = check(s, &caller, &id, Action::Start)?;
        Ok::<_, ApiError>((t.search_params.clone(), t.area()))
    })?;
    let (added, partitioned, found) = blocking(move || {
        let mut added = Vec::new();
        let mut partitioned = false;
        for item in &items {
            let geometry = item.get("geometry").ok_or_else(|| ApiError::bad_request("Each AOI needs a geometry"))?;
            let name = templates::aoi_name(item.get("name"))?;
            let parts = templates::parts(geometry, name)?;
            partitioned |= parts.len() > 1;
            added.extend(new_aois(parts));
        }
        templates::check_area(area + added.iter().map(|a| a.area).sum::<i64>(), seed::TEMPLATE_AREA_LIMIT)?;
        let found = templates::search(&added, &templates::filters_of(&params)?)?;
        Ok((added, partitioned, found))
    })
    .await?;
    let now = Utc::now();
    let config = &shared.config;
    shared.write(|s| {
        check(s, &caller, &id, Action::Start)?;
        let t = s.templates.get_mut(&id).ok_or_else(|| not_found(&id))?;
        let count = added.len();
        t.aois.extend(added);
        templates::start_search(t, found, now, config.template_search_seconds, config.template_check_seconds);
        Ok(Json(json!({"addedCount": count, "partitioningTriggered": partitioned})))
    })
}

/// `POST /processings/template/{id}/aoi/{aoiId} {name?, geometry?}` → the AOI as a
/// Feature. A new geometry is searched again (one Polygon; a MultiPolygon is refused).
async fn update_aoi(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    Path((id, aoi_id)): Path<(String, String)>,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Json<Value>> {
    let body = object(body)?;
    let name = body.contains_key("name").then(|| templates::aoi_name(body.get("name"))).transpose()?;
    let geometry = body.get("geometry").filter(|v| !v.is_null()).cloned();
    let (params, others) = shared.read(|s| {
        let t = check(s, &caller, &id, Action::Start)?;
        if !t.aois.iter().any(|a| a.id == aoi_id) {
            return Err(ApiError::not_found(format!("AOI {aoi_id} not found in template {id}")));
        }
        Ok((t.search_params.clone(), t.aois.iter().filter(|a| a.id != aoi_id).map(|a| a.area).sum::<i64>()))
    })?;
    let reshaped = match geometry {
        Some(geometry) => {
            let aoi_id = aoi_id.clone();
            Some(
                blocking(move || {
                    let mut parts = templates::parts(&geometry, None)?;
                    if parts.len() != 1 {
                        return Err(ApiError::bad_request("An AOI's geometry must be one Polygon"));
                    }
                    let part = parts.remove(0);
                    templates::check_area(others + part.area, seed::TEMPLATE_AREA_LIMIT)?;
                    let aoi = TemplateAoi {
                        id: aoi_id,
                        name: None,
                        area: part.area,
                        rings: templates::polygon_rings(&part.polygon),
                    };
                    let found = templates::search(std::slice::from_ref(&aoi), &templates::filters_of(&params)?)?;
                    Ok((aoi, found))
                })
                .await?,
            )
        }
        None => None,
    };
    let now = Utc::now();
    let config = &shared.config;
    shared.write(|s| {
        check(s, &caller, &id, Action::Start)?;
        let t = s.templates.get_mut(&id).ok_or_else(|| not_found(&id))?;
        let at = t
            .aois
            .iter()
            .position(|a| a.id == aoi_id)
            .ok_or_else(|| ApiError::not_found(format!("AOI {aoi_id} not found in template {id}")))?;
        if let Some(name) = name {
            t.aois[at].name = name;
        }
        if let Some((aoi, found)) = reshaped {
            t.aois[at].rings = aoi.rings;
            t.aois[at].area = aoi.area;
            for f in &mut t.found {
                f.aois.remove(&aoi_id);
            }
            t.found.retain(|f| !f.aois.is_empty());
            templates::start_search(t, found, now, config.template_search_seconds, config.template_check_seconds);
        }
        let t = s.templates.get(&id).ok_or_else(|| not_found(&id))?;
        let details = templates::aoi_details(t, s, now);
        let feature = details["features"]
            .as_array()
            .and_then(|f| f.iter().find(|f| f["properties"]["id"] == aoi_id.as_str()).cloned())
            .unwrap_or(Value::Null);
        Ok(Json(feature))
    })
}

/// `PUT …/aoi/{aoiId}`: not a route of the service (an AOI is updated with POST), 404.
async fn aoi_put() -> ApiError {
    ApiError::not_found("No such route: an AOI is updated with POST /processings/template/{id}/aoi/{aoiId}")
}

/// `DELETE /processings/template/{id}/aoi {aoiIds: […]}` → `{deletedCount}`.
async fn delete_aois(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Json<Value>> {
    let ids: Vec<String> = match body.get("aoiIds") {
        Some(Value::Array(ids)) => ids.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
        _ => return Err(ApiError::bad_request("aoiIds is required: a list of AOI ids")),
    };
    shared.write(|s| {
        check(s, &caller, &id, Action::Start)?;
        let t = s.templates.get_mut(&id).ok_or_else(|| not_found(&id))?;
        let deleted = templates::remove_aois(t, &ids);
        Ok(Json(json!({"deletedCount": deleted})))
    })
}

/// `POST /processings/template/{id}/image/{imageId}/seen`.
async fn seen(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    Path((id, image_id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let now = Utc::now();
    shared.write(|s| {
        check(s, &caller, &id, Action::Start)?;
        let t = s.templates.get_mut(&id).ok_or_else(|| not_found(&id))?;
        if !t.found_by(now).any(|f| f.id == image_id) {
            return Err(ApiError::not_found(format!("Image {image_id} was not found by template {id}")));
        }
        t.seen.insert(image_id.clone());
        Ok(Json(json!({"id": image_id, "seen": true, "newImagesCount": t.new_images(now)})))
    })
}

/// `PUT /processings/template/{id}/image/seenAll`: `newImagesCount` back to 0.
async fn seen_all(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let now = Utc::now();
    shared.write(|s| {
        check(s, &caller, &id, Action::Start)?;
        let t = s.templates.get_mut(&id).ok_or_else(|| not_found(&id))?;
        let found: Vec<String> = t.found_by(now).map(|f| f.id.clone()).collect();
        t.seen.extend(found);
        Ok(Json(json!({"newImagesCount": 0})))
    })
}

/// `POST /processings/template/{id}/images {limit, offset, aoiIds?, acquisitionDateFrom?,
/// acquisitionDateTo?, minResolution?, maxResolution?, maxCloudCover?, minOffNadirAngle?,
/// maxOffNadirAngle?}` → `{results[{id, metadata, isNew, aoiIds}], total, limit, offset}`.
async fn images(
    State(shared): State<Arc<Shared>>,
    Extension(previews): Extension<Arc<Previews>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Json<Value>> {
    let mut body = object(body)?;
    let number = |v: Option<&Value>, default: usize, name: &str| -> ApiResult<usize> {
        match v {
            None | Some(Value::Null) => Ok(default),
            Some(v) => v
                .as_u64()
                .map(|n| n as usize)
                .ok_or_else(|| ApiError::bad_request(format!("{name} must be a whole number, not negative"))),
        }
    };
    let limit = number(body.get("limit"), 100, "limit")?.min(MAX_IMAGES_PAGE);
    let offset = number(body.get("offset"), 0, "offset")?;
    let aoi_ids: Vec<String> = match body.remove("aoiIds") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(ids)) => ids.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
        Some(_) => return Err(ApiError::bad_request("aoiIds must be a list of AOI ids")),
    };
    for key in ["limit", "offset", "sortBy", "sortOrder"] {
        body.remove(key);
    }
    let filters = if body.values().all(Value::is_null) {
        Filters { images: true, mosaics: true, ..Filters::default() }
    } else {
        templates::filters_of(&body)?
    };
    let now = Utc::now();
    shared.read(|s| {
        let t = check(s, &caller, &id, Action::View)?;
        Ok(Json(templates::images_page(t, &previews, now, &aoi_ids, &filters, limit, offset)))
    })
}
