//! Projects: list, page, get, create, rename, delete (with their processings).

use std::cmp::Ordering;
use std::sync::Arc;

use axum::extract::{Extension, Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;

use super::{Caller, JsonBody};
use crate::error::{ApiError, ApiResult};
use crate::members::{self, Action, Role};
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
async fn list(State(shared): State<Arc<Shared>>, Extension(caller): Extension<Caller>) -> Json<Vec<Project>> {
    Json(shared.read(|s| {
        let mut records: Vec<&ProjectRecord> =
            s.projects.iter().filter(|p| members::role_in(p, &caller).is_some()).collect();
        records.sort_by(|a, b| listing_order(a, b, &caller));
        records.into_iter().map(|p| to_api(&shared, s, p, &caller)).collect()
    }))
}

/// `GET /projects/default`.
async fn default_project(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Json<Project>> {
    if let Some(found) = shared.read(|s| members::find_default(s, &caller).map(|p| to_api(&shared, s, p, &caller))) {
        return Ok(Json(found));
    }
    shared.write(|s| {
        let p = members::default_project_of(s, &caller);
        Ok(Json(to_api(&shared, s, &p, &caller)))
    })
}

/// `GET /projects/{id}`.
async fn one(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Json<Project>> {
    shared.read(|s| {
        let (p, _) = members::check(s, &caller, &id, Action::View)?;
        Ok(Json(to_api(&shared, s, p, &caller)))
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
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody<serde_json::Value>,
) -> ApiResult<Json<Page<Project>>> {
    let query = page_query(body)?;
    let needle = query.filter.as_deref().map(str::trim).unwrap_or_default().to_lowercase();
    Ok(Json(shared.read(|s| {
        let mut matching: Vec<&ProjectRecord> = s
            .projects
            .iter()
            .filter(|p| members::role_in(p, &caller).is_some())
            .filter(|p| needle.is_empty() || p.name.to_lowercase().contains(&needle))
            .collect();
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
            .map(|p| to_api(&shared, s, p, &caller))
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
async fn create(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    JsonBody(edit): JsonBody<ProjectEdit>,
) -> ApiResult<Json<Project>> {
    let name = checked_name(edit.name.as_deref().unwrap_or_default())?;
    let description =
        crate::text::checked_description("Project", edit.description.clone()).map_err(ApiError::bad_request)?;
    shared.write(|s| {
        let mut record = ProjectRecord::new(&name, description, false, Utc::now());
        record.owner = caller.key().map(str::to_owned);
        let project = to_api(&shared, s, &record, &caller);
        s.projects.push(record);
        Ok(Json(project))
    })
}

/// `PUT /projects/{id} {name?, description?}` → the changed project.
async fn update(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    JsonBody(edit): JsonBody<ProjectEdit>,
) -> ApiResult<Json<Project>> {
    let name = edit.name.as_deref().map(checked_name).transpose()?;
    crate::text::checked_description("Project", edit.description.clone()).map_err(ApiError::bad_request)?;
    shared.write(|s| {
        members::check(s, &caller, &id, Action::Manage)?;
        let record = s.project_mut(&id).ok_or_else(|| not_found(&id))?;
        if let Some(name) = name {
            record.name = name;
        }
        if let Some(description) = edit.description {
            record.description = Some(description);
        }
        record.updated = Utc::now();
        let record = record.clone();
        Ok(Json(to_api(&shared, s, &record, &caller)))
    })
}

/// `DELETE /projects/{id}`: 200 with an empty body; the default project cannot go. Its
/// processings go with it.
async fn remove(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<()> {
    shared.write(|s| {
        if members::check(s, &caller, &id, Action::Manage)?.0.is_default {
            return Err(ApiError::bad_request("The default project cannot be deleted"));
        }
        s.projects.remove(&id);
        s.processings.retain(|p| p.project_id != id);
        s.templates.retain(|t| t.project_id != id);
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

/// The API shape of a stored project as `caller` sees it, with every documented key: who
/// it is shared with, and the caller's role with the owner's limits (in a shared project
/// they are the owner's).
pub(crate) fn to_api(shared: &Shared, state: &PersistedState, record: &ProjectRecord, caller: &Caller) -> Project {
    let owner = members::owner_email(&shared.config, record).to_owned();
    let member = |email: &str, role: Role| ShareMember { email: email.to_owned(), role: role.as_str().to_owned() };
    let mut owners = vec![member(&owner, Role::Owner)];
    owners.extend(record.shared.iter().filter(|m| m.role == Role::Owner).map(|m| member(&m.email, m.role)));
    let users = record.shared.iter().filter(|m| m.role != Role::Owner).map(|m| member(&m.email, m.role)).collect();
    let role = members::role_in(record, caller).unwrap_or(Role::Readonly);
    let limits = members::limits_of(record.owner.as_deref());
    let account = members::account_of(state, record.owner.as_deref());
    Project {
        id: ProjectId(record.id.clone()),
        name: record.name.clone(),
        description: record.description.clone(),
        is_default: record.is_default,
        created: Some(iso(record.created)),
        updated: Some(iso(record.updated)),
        workflow_defs: seed::models(),
        share_project: Some(ShareProject { owners, users }),
        user: Some(ProjectUser {
            id: Some(members::account_of(state, caller.key()).user_id),
            email: Some(caller.email.clone()),
            role: Some(role.as_str().to_owned()),
            area_limit: Some(limits.area_limit),
            aoi_area_limit: Some(limits.aoi_area_limit),
            processed_area: Some(account.processed_area),
            review_workflow_enabled: limits.review,
        }),
        processing_counts: processing_counts(state, record),
        templates_count: state.templates.iter().filter(|t| t.project_id == record.id).count() as i64,
    }
}

/// Orders projects as `GET /projects` lists them: the caller's default first, then their
/// own, then those shared with them, each oldest first.
fn listing_order(a: &ProjectRecord, b: &ProjectRecord, caller: &Caller) -> Ordering {
    let own = |p: &ProjectRecord| p.owner.as_deref() == caller.key();
    (b.is_default && own(b)).cmp(&(a.is_default && own(a))).then(own(b).cmp(&own(a))).then(a.created.cmp(&b.created))
}
