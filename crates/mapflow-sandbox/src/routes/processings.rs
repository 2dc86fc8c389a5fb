//! Processings: create (v2 and the SDK's v1), estimate, read, list and page, rename and
//! move, delete, restart, rate, AOIs, results and the history. The rules live in
//! [`crate::processing`], the results in [`crate::results`].

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Extension, Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use chrono::Utc;
use serde_json::{Value, json};

use super::{Caller, JsonBody, blocking};
use crate::error::{ApiError, ApiResult};
use crate::members::{self, Action};
use crate::processing::{self, ProcessingRecord, Purpose, StatsQuery, StatsRow};
use crate::state::{PersistedState, Shared};
use mapflow_api::{
    Processing, ProcessingAoi, ProcessingEdit, ProcessingPageQuery, ProcessingSortBy, ProcessingStatus, Rating,
    SortOrder,
};

/// Largest page of `POST /projects/{id}/processings/v2/page`.
const MAX_PAGE: i64 = 1000;

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/processings/v2", get(list_all).post(create_v2))
        .route("/processings", get(list_all).post(create_v1))
        .route("/processing/cost/v2", post(cost))
        .route("/processings/stats", post(stats))
        .route("/processings/{id}/v2", get(one).put(rename))
        .route("/processings/{id}", get(one).put(update).delete(remove))
        .route("/processings/{id}/restart/v2", post(restart))
        .route("/processings/{id}/restart", post(restart))
        .route("/processings/{id}/rate", put(rate))
        .route("/processings/{id}/aois", get(aois))
        .route("/processings/{id}/result", get(result))
        .route("/projects/{id}/processings/v2", get(project_list))
        .route("/projects/{id}/processings", get(project_list))
        .route("/projects/{id}/processings/v2/page", post(page))
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Processing {id} not found"))
}

/// The API shapes of some processings, newest first.
fn listing<'a>(shared: &Shared, records: impl Iterator<Item = &'a ProcessingRecord>) -> Vec<Processing> {
    let now = Utc::now();
    let mut records: Vec<&ProcessingRecord> = records.collect();
    records.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| a.id.cmp(&b.id)));
    records.into_iter().map(|p| processing::to_api(&shared.base_url, p, now)).collect()
}

/// Creates a processing from a v2 body: checks (the geometry off the runtime and before
/// the state lock), charges, starts.
pub(super) async fn create(shared: &Shared, caller: &Caller, body: Value) -> ApiResult<Json<Processing>> {
    let draft = blocking(move || processing::draft(body, Purpose::Create)).await?;
    let now = Utc::now();
    let record = shared.write(|s| {
        // A project the caller cannot see is not found; one they may only look at refuses.
        let owner = match draft.project_id() {
            Some(id) => members::check(s, caller, id, Action::Start)?.0.owner.clone(),
            None => None,
        };
        let plan = processing::plan_draft(draft, s)?;
        let project_id = plan.request.project_id.0.clone();
        // The project's owner pays, under the owner's review workflow.
        processing::charge_to(s, owner.as_deref(), plan.cost, plan.area_m2.round() as i64)?;
        let mut record = processing::record(plan, &project_id, now, shared.config.processing_seconds);
        record.review = members::limits_of(owner.as_deref()).review;
        record.payer = owner;
        s.processings.push(record.clone());
        Ok(record)
    })?;
    tracing::info!("sandbox: processing {} \"{}\" started, {} credits", record.id, record.name, record.cost);
    Ok(Json(processing::to_api(&shared.base_url, &record, now)))
}

/// `POST /processings/v2` → the new processing, UNPROCESSED.
async fn create_v2(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Json<Processing>> {
    create(&shared, &caller, body).await
}

/// `POST /processings` (v1, the Python SDK): flat `params`, converted to v2.
async fn create_v1(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    JsonBody(mut body): JsonBody<Value>,
) -> ApiResult<Json<Processing>> {
    // Without a project it goes to the caller's default one.
    if let Some(map) = body.as_object_mut()
        && map.get("projectId").is_none_or(Value::is_null)
    {
        let default = shared.write(|s| Ok(members::default_project_of(s, &caller)))?;
        map.insert("projectId".to_owned(), Value::String(default.id));
    }
    let body = shared.read(|s| processing::v1_to_v2(body, s))?;
    create(&shared, &caller, body).await
}

/// `POST /processing/cost/v2` → the cost in credits as a bare number. The same checks as
/// a create, but a name and a project are optional, `areaSqKm` may stand for the
/// geometry, and a cost above the balance is still answered (the client compares).
async fn cost(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Json<Value>> {
    let draft = blocking(move || processing::draft(body, Purpose::Estimate)).await?;
    let plan = shared.read(|s| {
        if let Some(id) = draft.project_id() {
            members::check(s, &caller, id, Action::View)?;
        }
        processing::plan_draft(draft, s)
    })?;
    Ok(Json(json!(plan.cost)))
}

/// `GET /processings/{id}/v2` and `GET /processings/{id}`.
async fn one(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Json<Processing>> {
    shared.read(|s| {
        let p = members::check_processing(s, &caller, &id, Action::View)?;
        Ok(Json(processing::to_api(&shared.base_url, p, Utc::now())))
    })
}

/// `GET /processings/v2` and `GET /processings`: every processing of the caller's own
/// projects, newest first.
async fn list_all(State(shared): State<Arc<Shared>>, Extension(caller): Extension<Caller>) -> Json<Vec<Processing>> {
    Json(shared.read(|s| listing(&shared, s.processings.iter().filter(|p| members::owns(s, &caller, &p.project_id)))))
}

/// `GET /projects/{id}/processings/v2` and `GET /projects/{id}/processings`.
async fn project_list(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<Processing>>> {
    shared.read(|s| {
        members::check(s, &caller, &id, Action::View)?;
        Ok(Json(listing(&shared, s.processings.iter().filter(|p| p.project_id == id))))
    })
}

/// Reads a page request leniently (as the projects page does): defaults for a missing
/// `limit`/`offset`, `null` keys dropped, sort keys in any case; then the client's own
/// `ProcessingPageQuery`.
fn page_query(body: Value) -> ApiResult<ProcessingPageQuery> {
    let Value::Object(mut map) = body else {
        return Err(ApiError::bad_request("The request body must be a JSON object"));
    };
    map.retain(|_, v| !v.is_null());
    let defaults = ProcessingPageQuery::default();
    map.entry("limit").or_insert(defaults.limit.into());
    map.entry("offset").or_insert(defaults.offset.into());
    for key in ["sortBy", "sortOrder"] {
        if let Some(Value::String(s)) = map.get_mut(key) {
            *s = s.to_ascii_uppercase();
        }
    }
    let query: ProcessingPageQuery = serde_json::from_value(Value::Object(map))
        .map_err(|e| ApiError::bad_request(format!("Invalid page request: {e}")))?;
    if query.limit < 0 || query.offset < 0 {
        return Err(ApiError::bad_request("limit and offset must not be negative"));
    }
    if query.limit > MAX_PAGE {
        return Err(ApiError::bad_request(format!("limit must not exceed {MAX_PAGE}")));
    }
    Ok(query)
}

/// `POST /projects/{id}/processings/v2/page {limit, offset, terms?, sortBy?, sortOrder?}`:
/// filtered by a case-insensitive part of the name, sorted (CREATED, DESC by default),
/// paged.
async fn page(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Json<mapflow_api::Page<Processing>>> {
    let query = page_query(body)?;
    let needle = query.terms.as_deref().map(str::trim).unwrap_or_default().to_lowercase();
    let sort_by = query.sort_by.unwrap_or(ProcessingSortBy::Created);
    let desc = query.sort_order.unwrap_or(SortOrder::Desc) == SortOrder::Desc;
    shared.read(|s| {
        members::check(s, &caller, &id, Action::View)?;
        let now = Utc::now();
        let mut matching: Vec<(Processing, &ProcessingRecord)> = s
            .processings
            .iter()
            .filter(|p| p.project_id == id && (needle.is_empty() || p.name.to_lowercase().contains(&needle)))
            .map(|p| (processing::to_api(&shared.base_url, p, now), p))
            .collect();
        matching.sort_by(|(a, ra), (b, rb)| {
            let by = match sort_by {
                ProcessingSortBy::Name => a.name.to_lowercase().cmp(&b.name.to_lowercase()).then(a.name.cmp(&b.name)),
                ProcessingSortBy::Created => ra.created.cmp(&rb.created),
                ProcessingSortBy::Updated => a.updated.cmp(&b.updated),
                ProcessingSortBy::Status => a.status.as_str().cmp(b.status.as_str()),
                ProcessingSortBy::Area => a.area.cmp(&b.area),
                ProcessingSortBy::Cost => a.cost.cmp(&b.cost),
            };
            let by = if desc { by.reverse() } else { by };
            by.then_with(|| ra.created.cmp(&rb.created)).then_with(|| ra.id.cmp(&rb.id))
        });
        let total = matching.len();
        let results = matching
            .into_iter()
            .skip(usize::try_from(query.offset).unwrap_or(usize::MAX))
            .take(usize::try_from(query.limit).unwrap_or(0))
            .map(|(p, _)| p)
            .collect();
        Ok(Json(processing::page_of(results, total)))
    })
}

/// A processing name as given, trimmed; blank ones are refused.
fn checked_name(name: &str) -> ApiResult<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(ApiError::bad_request("Processing name must not be blank"));
    }
    if let Some(why) = crate::text::refusal(name, false, crate::processing::MAX_NAME_CHARS) {
        return Err(ApiError::bad_request(format!("Processing name {why}")));
    }
    Ok(name.to_owned())
}

/// Applies a rename and/or move, checking everything first.
fn edit(shared: &Shared, caller: &Caller, id: &str, edit: ProcessingEdit) -> ApiResult<Json<Processing>> {
    let name = edit.name.as_deref().map(checked_name).transpose()?;
    crate::text::checked_description("Processing", edit.description.clone()).map_err(ApiError::bad_request)?;
    let now = Utc::now();
    shared.write(|s| {
        members::check_processing(s, caller, id, Action::Edit)?;
        // A move also needs the right to start processings in the target project.
        if let Some(project) = &edit.project_id {
            members::check(s, caller, &project.0, Action::Start)?;
        }
        let p = s.processing_mut(id).ok_or_else(|| not_found(id))?;
        if let Some(name) = name {
            p.name = name;
        }
        if let Some(description) = edit.description {
            p.description = Some(description);
        }
        if let Some(project) = edit.project_id {
            p.project_id = project.0;
        }
        p.updated = now;
        Ok(Json(processing::to_api(&shared.base_url, p, now)))
    })
}

/// `PUT /processings/{id}/v2 {name, description}`: renames.
async fn rename(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ProcessingEdit>,
) -> ApiResult<Json<Processing>> {
    if body.name.is_none() {
        return Err(ApiError::bad_request("Processing name is required"));
    }
    edit(&shared, &caller, &id, ProcessingEdit { project_id: None, ..body })
}

/// `PUT /processings/{id} {name?, description?, projectId?}`: renames and/or moves.
async fn update(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ProcessingEdit>,
) -> ApiResult<Json<Processing>> {
    edit(&shared, &caller, &id, body)
}

/// `DELETE /processings/{id}`: 200 with an empty body. A run in progress is not refunded.
async fn remove(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<()> {
    shared.write(|s| {
        members::check_processing(s, &caller, &id, Action::Edit)?;
        s.processings.remove(&id).ok_or_else(|| not_found(&id))?;
        Ok(())
    })
}

/// `POST /processings/{id}/restart/v2` (and the older `/restart`): runs a FAILED
/// processing again, paying again (the failed run was refunded). Anything else is 400.
async fn restart(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Json<Processing>> {
    let now = Utc::now();
    shared.write(|s| {
        let p = members::check_processing(s, &caller, &id, Action::Start)?;
        let status = p.progress(now).status;
        if status != ProcessingStatus::Failed {
            return Err(ApiError::bad_request(format!(
                "Only a failed processing can be restarted; this one is {}",
                status.as_str()
            )));
        }
        let (cost, area, payer) = (p.cost, p.area, p.payer.clone());
        processing::charge_to(s, payer.as_deref(), cost, area)?;
        let p = s.processing_mut(&id).ok_or_else(|| not_found(&id))?;
        p.started = now;
        p.charged = true;
        p.updated = now;
        Ok(Json(processing::to_api(&shared.base_url, p, now)))
    })
}

/// `PUT /processings/{id}/rate {rating: 1..5, feedback}`: only for OK processings.
async fn rate(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Rating>,
) -> ApiResult<Json<Processing>> {
    let rating = body.rating.filter(|r| (1..=5).contains(r)).ok_or_else(|| {
        ApiError::bad_request("rating must be a whole number from 1 to 5").param("rating", body.rating.unwrap_or(0))
    })?;
    let now = Utc::now();
    shared.write(|s| {
        members::check_processing(s, &caller, &id, Action::Edit)?;
        let p = s.processing_mut(&id).ok_or_else(|| not_found(&id))?;
        let status = p.progress(now).status;
        if status != ProcessingStatus::Ok {
            return Err(ApiError::bad_request(format!(
                "Only a finished (OK) processing can be rated; this one is {}",
                status.as_str()
            )));
        }
        p.rating = Some(Rating { rating: Some(rating), feedback: body.feedback });
        p.updated = now;
        Ok(Json(processing::to_api(&shared.base_url, p, now)))
    })
}

/// `GET /processings/{id}/aois`: one entry per polygon.
async fn aois(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<ProcessingAoi>>> {
    shared.read(|s| {
        let p = members::check_processing(s, &caller, &id, Action::View)?;
        Ok(Json(processing::aois_api(p, Utc::now())))
    })
}

/// The value of `key` in a raw query string (no percent-decoding: the values used here
/// are ids and words).
fn query_value(query: Option<&str>, key: &str) -> Option<String> {
    query?.split('&').filter_map(|pair| pair.split_once('=')).find(|(k, _)| *k == key).map(|(_, v)| v.to_owned())
}

/// `GET /processings/{id}/result[?aoiId=]`: the GeoJSON FeatureCollection of an OK
/// processing, generated afresh (and identically) on every call, off the async workers.
async fn result(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult<Response> {
    let aoi_id = query_value(query.as_deref(), "aoiId").filter(|a| !a.is_empty());
    let (spec, only) = shared.read(|s| {
        let p = members::check_processing(s, &caller, &id, Action::View)?;
        let status = p.progress(Utc::now()).status;
        if status != ProcessingStatus::Ok {
            return Err(ApiError::bad_request(format!(
                "The processing has no result: it is {}, results exist only for OK",
                status.as_str()
            )));
        }
        let only = match &aoi_id {
            Some(aoi) => Some(
                p.aois
                    .iter()
                    .position(|a| &a.id == aoi)
                    .ok_or_else(|| ApiError::not_found(format!("AOI {aoi} of processing {id} not found")))?,
            ),
            None => None,
        };
        Ok((p.result_spec(), only))
    })?;
    let bytes = tokio::task::spawn_blocking(move || crate::results::generate(&spec, only))
        .await
        .map_err(|e| ApiError::internal(format!("Result generation failed: {e}")))?;
    Ok(([(header::CONTENT_TYPE, "application/geo+json")], Body::from(bytes)).into_response())
}

/// `POST /processings/stats[?type=JSON|CSV] {page, perPage, sort, filter}`: the history
/// as `{results, total}`, or as CSV with a header row.
async fn stats(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    RawQuery(query): RawQuery,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Response> {
    let kind = query_value(query.as_deref(), "type").unwrap_or_else(|| "JSON".to_owned()).to_ascii_uppercase();
    if kind != "JSON" && kind != "CSV" {
        return Err(ApiError::bad_request(format!("type must be JSON or CSV, not {kind}")));
    }
    let body = match body {
        Value::Object(mut map) => {
            map.retain(|_, v| !v.is_null());
            Value::Object(map)
        }
        _ => return Err(ApiError::bad_request("The request body must be a JSON object")),
    };
    let query: StatsQuery =
        serde_json::from_value(body).map_err(|e| ApiError::bad_request(format!("Invalid stats request: {e}")))?;
    let (rows, total) = shared.read(|s: &PersistedState| {
        processing::stats_of(s, &query, Utc::now(), &|project| members::owns(s, &caller, project))
    })?;
    if kind == "CSV" {
        let csv = StatsRow::csv(&rows).map_err(|e| ApiError::internal(format!("Cannot write the CSV: {e}")))?;
        return Ok((StatusCode::OK, [(header::CONTENT_TYPE, "text/csv; charset=utf-8")], csv).into_response());
    }
    Ok(Json(json!({"results": rows, "total": total})).into_response())
}
