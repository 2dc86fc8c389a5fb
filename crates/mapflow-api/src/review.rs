//! Enterprise calls: the review workflow (accept or reject a finished processing) and
//! shared projects (share with an email and a role; what each role may do).

use super::client::{Client, Idempotency, path_segment, timeouts, to_body};
use super::error::{ApiError, ErrorKind};
use super::models::*;
use reqwest::Method;
use serde::{Deserialize, Serialize};

/// Body of `PUT /processings/{id}/rejection`: what is wrong, in words and as the features
/// the reviewer marked (a GeoJSON FeatureCollection).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rejection {
    pub comment: String,
    pub features: serde_json::Value,
}

/// A role in a shared project, lowest first: each may do what the ones before it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProjectRole {
    /// Sees the project; cannot start processings.
    Readonly,
    /// Also starts processings.
    Contributor,
    /// Also renames, moves, deletes, rates and reviews processings.
    Maintainer,
    /// Also renames, deletes and shares the project.
    Owner,
}

impl ProjectRole {
    /// Every role, lowest first.
    pub const ALL: [ProjectRole; 4] = [Self::Readonly, Self::Contributor, Self::Maintainer, Self::Owner];

    /// The wire spelling in any case; `None` for a role this client does not know.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str().eq_ignore_ascii_case(text.trim()))
    }

    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Readonly => "readonly",
            Self::Contributor => "contributor",
            Self::Maintainer => "maintainer",
            Self::Owner => "owner",
        }
    }
}

/// What a user does in a project, by the role it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProjectAction {
    /// Start a processing (or restart a failed one).
    StartProcessing,
    /// Rename, move or delete a processing; rate, accept or reject it.
    EditProcessing,
    /// Rename, delete or share the project.
    ManageProject,
}

impl ProjectAction {
    /// The lowest role allowed to do it.
    pub fn needs(self) -> ProjectRole {
        match self {
            Self::StartProcessing => ProjectRole::Contributor,
            Self::EditProcessing => ProjectRole::Maintainer,
            Self::ManageProject => ProjectRole::Owner,
        }
    }
}

impl Project {
    /// The signed-in user's role in the project (`user.role`). A project that names no role,
    /// or one this client does not know, counts as the user's own: the server still refuses
    /// what is not allowed.
    pub fn my_role(&self) -> ProjectRole {
        self.user.as_ref().and_then(|u| u.role.as_deref()).and_then(ProjectRole::parse).unwrap_or(ProjectRole::Owner)
    }

    /// Whether the user's role allows `action`.
    pub fn allows(&self, action: ProjectAction) -> bool {
        self.my_role() >= action.needs()
    }

    /// Whether the project is shared with anyone (or with the user by someone else).
    pub fn is_shared(&self) -> bool {
        self.my_role() != ProjectRole::Owner
            || self.share_project.as_ref().is_some_and(|s| !s.users.is_empty() || s.owners.len() > 1)
    }
}

/// The review states of `reviewStatus.reviewStatus`.
pub mod review_state {
    pub const IN_REVIEW: &str = "IN_REVIEW";
    pub const ACCEPTED: &str = "ACCEPTED";
    pub const NOT_ACCEPTED: &str = "NOT_ACCEPTED";
    pub const REFUNDED: &str = "REFUNDED";
}

impl Processing {
    /// The review state, when the processing is under the review workflow.
    pub fn review_state(&self) -> Option<&str> {
        self.review_status.as_ref().and_then(|r| r.review_status.as_deref())
    }

    /// Whether it waits for the user's acceptance or rejection.
    pub fn in_review(&self) -> bool {
        self.review_state() == Some(review_state::IN_REVIEW)
    }

    /// The deadline of the review (UTC; a time without a zone is read as UTC).
    pub fn review_deadline(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        let text = self.review_status.as_ref()?.in_review_until.as_deref()?;
        chrono::DateTime::parse_from_rfc3339(text)
            .map(|t| t.to_utc())
            .ok()
            .or_else(|| chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").ok().map(|t| t.and_utc()))
    }
}

/// Body of `POST /projects/share`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShareRequest {
    pub project_id: ProjectId,
    pub email: String,
    pub role: ProjectRole,
}

impl Client {
    /// `PUT /processings/{id}/acceptation`: the results are accepted. Sent once.
    pub async fn accept_processing(&self, id: &ProcessingId) -> Result<(), ApiError> {
        let path = format!("/processings/{}/acceptation", path_segment(&id.0)?);
        self.call_unit(Method::PUT, &path, None, timeouts::DEFAULT, Idempotency::Once).await
    }

    /// `PUT /processings/{id}/rejection {comment, features}`: the results are rejected.
    pub async fn reject_processing(&self, id: &ProcessingId, rejection: &Rejection) -> Result<(), ApiError> {
        if rejection.features.get("type").and_then(|t| t.as_str()) != Some("FeatureCollection") {
            return Err(ApiError::new(ErrorKind::InvalidArgument("the features must be a FeatureCollection".into())));
        }
        let path = format!("/processings/{}/rejection", path_segment(&id.0)?);
        let body = to_body(rejection)?;
        self.call_unit(Method::PUT, &path, Some(&body), timeouts::DEFAULT, Idempotency::Once).await
    }

    /// `POST /projects/share {projectId, email, role}`. The answer's shape is not relied on:
    /// read the project again to see who it is shared with.
    pub async fn share_project(&self, request: &ShareRequest) -> Result<(), ApiError> {
        let email = request.email.trim();
        if email.is_empty() || !email.contains('@') || email.contains(char::is_whitespace) {
            return Err(ApiError::new(ErrorKind::InvalidArgument(format!("`{email}` is not an email address"))));
        }
        path_segment(&request.project_id.0)?;
        let body = to_body(&ShareRequest { email: email.to_owned(), ..request.clone() })?;
        self.call_unit(Method::POST, "/projects/share", Some(&body), timeouts::DEFAULT, Idempotency::Once).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project_as(role: Option<&str>) -> Project {
        Project {
            user: Some(ProjectUser { role: role.map(str::to_owned), ..ProjectUser::default() }),
            ..Project::default()
        }
    }

    #[test]
    fn each_role_allows_what_the_ones_below_it_do() {
        use ProjectAction::*;
        let allowed = |role: Option<&str>| {
            let p = project_as(role);
            [StartProcessing, EditProcessing, ManageProject].map(|a| p.allows(a))
        };
        assert_eq!(allowed(Some("readonly")), [false, false, false]);
        assert_eq!(allowed(Some("CONTRIBUTOR")), [true, false, false]);
        assert_eq!(allowed(Some("maintainer")), [true, true, false]);
        assert_eq!(allowed(Some("owner")), [true, true, true]);
        assert_eq!(allowed(None), [true, true, true], "no role: the user's own project");
        assert_eq!(allowed(Some("auditor")), [true, true, true], "an unknown role: the server decides");
    }

    #[test]
    fn a_review_deadline_without_a_zone_is_utc() {
        let p = Processing {
            review_status: Some(ReviewStatus {
                review_status: Some("IN_REVIEW".into()),
                in_review_until: Some("2024-05-03T10:00:00.123".into()),
            }),
            ..Processing::default()
        };
        assert!(p.in_review());
        assert_eq!(p.review_deadline().unwrap().to_rfc3339(), "2024-05-03T10:00:00.123+00:00");
    }
}
