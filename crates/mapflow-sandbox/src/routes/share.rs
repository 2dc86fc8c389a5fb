//! Sharing a project: `POST /projects/share {projectId, email, role}`. Only an owner may
//! share; sharing again with the same email changes the member's role. The answer is the
//! project as the caller now sees it.

use std::sync::Arc;

use axum::extract::{Extension, State};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::Value;

use super::{Caller, JsonBody};
use crate::error::{ApiError, ApiResult};
use crate::members::{self, Action, Role, ShareRecord};
use crate::state::Shared;
use mapflow_api::Project;

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new().route("/projects/share", post(share))
}

/// The longest email accepted.
const MAX_EMAIL_CHARS: usize = 254;

/// An email as given, trimmed: one `@` with something on both sides, no spaces.
fn checked_email(email: &str) -> ApiResult<String> {
    let email = email.trim();
    let ok = email.chars().count() <= MAX_EMAIL_CHARS
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && email
            .split_once('@')
            .is_some_and(|(user, host)| !user.is_empty() && host.contains('.') && !host.contains('@'));
    if !ok {
        return Err(ApiError::bad_request(format!("`{email}` is not an email address")));
    }
    Ok(email.to_owned())
}

/// `POST /projects/share {projectId, email, role}` → the project, now shared.
async fn share(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Json<Project>> {
    let text = |key: &str| body.get(key).and_then(Value::as_str).map(str::to_owned);
    let project_id =
        text("projectId").filter(|p| !p.is_empty()).ok_or_else(|| ApiError::bad_request("projectId is required"))?;
    let email = checked_email(&text("email").ok_or_else(|| ApiError::bad_request("email is required"))?)?;
    let role_text = text("role").ok_or_else(|| ApiError::bad_request("role is required"))?;
    let role = Role::parse(&role_text).ok_or_else(|| {
        ApiError::bad_request(format!(
            "Unknown role {role_text}: it is one of readonly, contributor, maintainer and owner"
        ))
        .param("role", &role_text)
    })?;
    shared.write(|s| {
        let (project, _) = members::check(s, &caller, &project_id, Action::Manage)?;
        if members::owner_email(&shared.config, project).eq_ignore_ascii_case(&email) {
            return Err(ApiError::bad_request("The project's owner cannot be given another role"));
        }
        let record = s.project_mut(&project_id).ok_or_else(|| ApiError::not_found("Project not found"))?;
        match record.shared.iter_mut().find(|m| m.email.eq_ignore_ascii_case(&email)) {
            Some(member) => member.role = role,
            None => record.shared.push(ShareRecord { email, role }),
        }
        record.updated = chrono::Utc::now();
        let record = record.clone();
        Ok(Json(super::projects::to_api(&shared, s, &record, &caller)))
    })
}
