//! Projects: list, page, get, create, rename, delete (with their processings).

use std::cmp::Ordering;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;

use super::JsonBody;
use crate::error::{ApiError, ApiResult};
use crate::processing;
use crate::seed;
use crate::state::{PersistedState, ProjectRecord, Shared, iso};
use mapflow_api::{
    Page, ProcessingCounts, Project, ProjectEdit, ProjectId, ProjectPageQuery, ProjectSortBy, ProjectUser, ShareMember,
    ShareProject, SortOrder,
};

/// Longest project name accepted.
const MAX_NAME_CHARS: usize = 255;
/// Largest page of `POST /projects/page`.
const MAX_PAGE: i64 = 1000;

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/projects", get(list).post(create))
        .route("/projects/default", get(default_project))
        .route("/projects/page", post(page))
        .route("/projects/{id}", get(one).put(update).delete(remove))
}

/// `GET /projects`: every project, oldest first (the default project leads).
async fn list(State(shared): State<Arc<Shared>>) -> Json<Vec<Project>> {
    Json(shared.read(|s| {
        let mut records: Vec<&ProjectRecord> = s.projects.iter().collect();
        records.sort_by(|a, b| listing_order(a, b));
        records.into_iter().map(|p| to_api(&shared, s, p)).collect()
    }))
}

/// `GET /projects/default`.
async fn default_project(State(shared): State<Arc<Shared>>) -> ApiResult<Json<Project>> {
    shared.read(|s| {
        let p = s.default_project().ok_or_else(|| ApiError::not_found("Default project not found"))?;
        Ok(Json(to_api(&shared, s, p)))
    })
}

/// `GET /projects/{id}`.
async fn one(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> ApiResult<Json<Project>> {
    shared.read(|s| {
        let p = s.project(&id).ok_or_else(|| not_found(&id))?;
        Ok(Json(to_api(&shared, s, p)))
    })
}

/// Reads a page request leniently: a missing `limit`/`offset` gets the default, `null`
/// keys are dropped and sort keys may come in any case; then the body is read as the
/// client's own `ProjectPageQuery`.
fn page_query(body: serde_json::Value) -> ApiResult<ProjectPageQuery> {
    let serde_json::Value::Object(mut map) = body else {
        return Err(ApiError::bad_request("The request body must be a JSON object"));
    };
    let defaults = ProjectPageQuery::default();
    map.entry("limit").or_insert(defaults.limit.into());
    map.entry("offset").or_insert(defaults.offset.into());
    for key in ["filter", "sortBy", "sortOrder"] {
        if map.get(key).is_some_and(serde_json::Value::is_null) {
            map.remove(key);
        }
    }
    // Sort keys in any case, as lenient servers accept them.
    for key in ["sortBy", "sortOrder"] {
        if let Some(serde_json::Value::String(s)) = map.get_mut(key) {
            *s = s.to_ascii_uppercase();
        }
    }
    let query: ProjectPageQuery = serde_json::from_value(serde_json::Value::Object(map))
        .map_err(|e| ApiError::bad_request(format!("Invalid page request: {e}")))?;
    if query.limit < 0 || query.offset < 0 {
        return Err(ApiError::bad_request("limit and offset must not be negative"));
    }
    if query.limit > MAX_PAGE {
        return Err(ApiError::bad_request(format!("limit must not exceed {MAX_PAGE}")));
    }
    Ok(query)
}

/// `POST /projects/page`: filtered by a case-insensitive part of the name, sorted, paged.
async fn page(
    State(shared): State<Arc<Shared>>,
    JsonBody(body): JsonBody<serde_json::Value>,
) -> ApiResult<Json<Page<Project>>> {
    let query = page_query(body)?;
    let needle = query.filter.as_deref().map(str::trim).unwrap_or_default().to_lowercase();
    Ok(Json(shared.read(|s| {
        let mut matching: Vec<&ProjectRecord> =
            s.projects.iter().filter(|p| needle.is_empty() || p.name.to_lowercase().contains(&needle)).collect();
        matching.sort_by(|a, b| {
            let by = match query.sort_by {
                ProjectSortBy::Name => a.name.to_lowercase().cmp(&b.name.to_lowercase()).then(a.name.cmp(&b.name)),
                ProjectSortBy::Created => a.created.cmp(&b.created),
                ProjectSortBy::Updated => a.updated.cmp(&b.updated),
            };
            let by = if query.sort_order == SortOrder::Desc { by.reverse() } else { by };
            // Ties in a stable, request-independent order.
            by.then_with(|| a.created.cmp(&b.created)).then_with(|| a.id.cmp(&b.id))
        });
        let total = matching.len() as i64;
        let results: Vec<Project> = matching
            .into_iter()
            .skip(usize::try_from(query.offset).unwrap_or(usize::MAX))
            .take(usize::try_from(query.limit).unwrap_or(0))
            .map(|p| to_api(&shared, s, p))
            .collect();
        Page { count: results.len() as i64, total, results }
    })))
}

/// A project name as given, trimmed; blank or overlong ones are refused.
fn checked_name(name: &str) -> ApiResult<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(ApiError::bad_request("Project name must not be blank"));
    }
    if let Some(why) = crate::text::refusal(name, false, MAX_NAME_CHARS) {
        return Err(ApiError::bad_request(format!("Project name {why}")));
    }
    Ok(name.to_owned())
}

/// `POST /projects {name, description?}` → the new project.
async fn create(State(shared): State<Arc<Shared>>, JsonBody(edit): JsonBody<ProjectEdit>) -> ApiResult<Json<Project>> {
    let name = checked_name(edit.name.as_deref().unwrap_or_default())?;
    let description =
        crate::text::checked_description("Project", edit.description.clone()).map_err(ApiError::bad_request)?;
    shared.write(|s| {
        let record = ProjectRecord::new(&name, description, false, Utc::now());
        let project = to_api(&shared, s, &record);
        s.projects.push(record);
        Ok(Json(project))
    })
}

/// `PUT /projects/{id} {name?, description?}` → the changed project.
async fn update(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    JsonBody(edit): JsonBody<ProjectEdit>,
) -> ApiResult<Json<Project>> {
    let name = edit.name.as_deref().map(checked_name).transpose()?;
    crate::text::checked_description("Project", edit.description.clone()).map_err(ApiError::bad_request)?;
    shared.write(|s| {
        let record = s.project_mut(&id).ok_or_else(|| not_found(&id))?;
        if let Some(name) = name {
            record.name = name;
        }
        if let Some(description) = edit.description {
            record.description = Some(description);
        }
        record.updated = Utc::now();
        let record = record.clone();
        Ok(Json(to_api(&shared, s, &record)))
    })
}

/// `DELETE /projects/{id}`: 200 with an empty body; the default project cannot go. Its
/// processings go with it.
async fn remove(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> ApiResult<()> {
    shared.write(|s| {
        if s.projects.get(&id).ok_or_else(|| not_found(&id))?.is_default {
            return Err(ApiError::bad_request("The default project cannot be deleted"));
        }
        s.projects.remove(&id);
        s.processings.retain(|p| p.project_id != id);
        Ok(())
    })
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Project {id} not found"))
}

/// A project's processings by status, as they are now.
fn processing_counts(state: &PersistedState, project: &ProjectRecord) -> ProcessingCounts {
    processing::counts(state, &project.id, Utc::now())
}

/// The API shape of a stored project, with every documented key.
pub(crate) fn to_api(shared: &Shared, state: &PersistedState, record: &ProjectRecord) -> Project {
    let email = shared.email().to_owned();
    Project {
        id: ProjectId(record.id.clone()),
        name: record.name.clone(),
        description: record.description.clone(),
        is_default: record.is_default,
        created: Some(iso(record.created)),
        updated: Some(iso(record.updated)),
        workflow_defs: seed::models(),
        share_project: Some(ShareProject {
            owners: vec![ShareMember { email: email.clone(), role: "owner".to_owned() }],
            users: Vec::new(),
        }),
        user: Some(ProjectUser {
            id: Some(state.account.user_id.clone()),
            email: Some(email),
            role: Some("owner".to_owned()),
            area_limit: Some(seed::AREA_LIMIT),
            aoi_area_limit: Some(seed::AOI_AREA_LIMIT),
            processed_area: Some(state.account.processed_area),
            review_workflow_enabled: false,
        }),
        processing_counts: processing_counts(state, record),
        templates_count: 0,
    }
}

/// Orders projects as `GET /projects` lists them: the default first, then oldest first.
fn listing_order(a: &ProjectRecord, b: &ProjectRecord) -> Ordering {
    b.is_default.cmp(&a.is_default).then(a.created.cmp(&b.created))
}
