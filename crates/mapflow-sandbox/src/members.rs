//! The sandbox's users and what each may do.
//!
//! Two accounts sign in: the main (demo) account, and the team account, an enterprise
//! account with the review workflow on. The team account owns two projects shared with the
//! main account, one read-only and one as a contributor, so both sides of sharing can be
//! tried. Every route that reads or changes a project or a processing asks [`check`] first:
//! a project the caller has no role in is not found (404); an action its role does not
//! allow is refused with 403 `FORBIDDEN` in the Processing API's error body.
//!
//! Roles, each allowing what the one before it does:
//! - `readonly`: see the project, its processings and results;
//! - `contributor`: also start processings (and restart failed ones);
//! - `maintainer`: also rename, move, delete, rate, accept and reject processings;
//! - `owner`: also rename, delete and share the project.
//!
//! In a shared project the limits (the AOI limit above all) and the review workflow are the
//! owner's, and the owner pays for its runs.
//!
//! The review workflow: a processing created while its project owner's review workflow is
//! on finishes into `reviewStatus IN_REVIEW` with a deadline [`REVIEW_DAYS`] after it
//! finished; it is accepted or rejected (with a comment and the features found wrong) before
//! then, or accepted by itself once the deadline passes.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::SandboxConfig;
use super::error::{ApiError, ApiResult};
use super::processing::{self, ProcessingRecord, Progress, Purpose};
use super::seed;
use super::state::{Account, PersistedState, ProjectRecord, iso};
use mapflow_api::{ProcessingStatus, ReviewStatus};

/// How long a finished processing waits for its review, in days.
pub(crate) const REVIEW_DAYS: i64 = 3;
/// The team account's largest area of one processing, m² (25 km²): the limit of its shared
/// projects, smaller than the main account's own.
pub(crate) const TEAM_AOI_AREA_LIMIT: i64 = 25_000_000;

/// Name of the team's project shared with the main account read-only.
pub const SHARED_READONLY_PROJECT: &str = "Shared: Almaty survey";
/// Name of the team's project shared with the main account as a contributor.
pub const SHARED_CONTRIBUTOR_PROJECT: &str = "Shared: team work";

/// Who sent a request: the account its token names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Caller {
    pub email: String,
    /// The main account (the configured `token`), whose records carry no owner.
    pub main: bool,
}

impl Caller {
    /// The owner key of the caller's own records: `None` for the main account.
    pub fn key(&self) -> Option<&str> {
        if self.main { None } else { Some(&self.email) }
    }
}

/// A role in a shared project, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Role {
    Readonly,
    Contributor,
    Maintainer,
    Owner,
}

impl Role {
    /// The wire spelling, in any case.
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "readonly" => Some(Self::Readonly),
            "contributor" => Some(Self::Contributor),
            "maintainer" => Some(Self::Maintainer),
            "owner" => Some(Self::Owner),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Readonly => "readonly",
            Self::Contributor => "contributor",
            Self::Maintainer => "maintainer",
            Self::Owner => "owner",
        }
    }
}

/// What a request does to a project, by the role it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// Read the project, its processings, their AOIs and results; estimate a cost.
    View,
    /// Start a processing in it, or restart a failed one.
    Start,
    /// Rename, move, delete, rate, accept or reject a processing.
    Edit,
    /// Rename, delete or share the project.
    Manage,
}

impl Action {
    fn needs(self) -> Role {
        match self {
            Self::View => Role::Readonly,
            Self::Start => Role::Contributor,
            Self::Edit => Role::Maintainer,
            Self::Manage => Role::Owner,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Self::View => "viewing the project",
            Self::Start => "starting processings",
            Self::Edit => "changing or reviewing processings",
            Self::Manage => "renaming, deleting or sharing the project",
        }
    }
}

/// One member of a shared project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ShareRecord {
    pub email: String,
    pub role: Role,
}

/// The reviewer's decision on a processing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ReviewDecision {
    /// `ACCEPTED`, `NOT_ACCEPTED` or `REFUNDED`.
    pub status: String,
    pub at: DateTime<Utc>,
    #[serde(default)]
    pub comment: Option<String>,
    /// The features the reviewer marked as wrong: a GeoJSON FeatureCollection.
    #[serde(default)]
    pub features: Option<Value>,
}

/// The owner's email of a project (the main account's is the configured token's).
pub(crate) fn owner_email<'a>(config: &'a SandboxConfig, project: &'a ProjectRecord) -> &'a str {
    project.owner.as_deref().unwrap_or_else(|| config.token.email())
}

/// The caller's role in `project`, `None` when it is not shared with them.
pub(crate) fn role_in(project: &ProjectRecord, caller: &Caller) -> Option<Role> {
    if project.owner.as_deref() == caller.key() {
        return Some(Role::Owner);
    }
    project.shared.iter().find(|m| m.email.eq_ignore_ascii_case(&caller.email)).map(|m| m.role)
}

/// The refusal of `action` to a caller whose role is `role`.
pub(crate) fn forbidden(role: Role, action: Action) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::FORBIDDEN,
        "FORBIDDEN",
        &format!(
            "Your role in this project, {}, does not allow {}; it needs {} or above",
            role.as_str(),
            action.describe(),
            action.needs().as_str()
        ),
    )
    .param("role", role.as_str())
    .param("requiredRole", action.needs().as_str())
}

fn project_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Project {id} not found"))
}

/// Checks that the caller may do `action` in the project `id`: 404 when they cannot see it,
/// 403 when their role does not allow it. Returns the project and the role.
pub(crate) fn check<'a>(
    state: &'a PersistedState,
    caller: &Caller,
    id: &str,
    action: Action,
) -> ApiResult<(&'a ProjectRecord, Role)> {
    let project = state.project(id).ok_or_else(|| project_not_found(id))?;
    let role = role_in(project, caller).ok_or_else(|| project_not_found(id))?;
    if role < action.needs() {
        return Err(forbidden(role, action));
    }
    Ok((project, role))
}

/// [`check`] for the project of the processing `id`; a processing in a project the caller
/// cannot see is not found.
pub(crate) fn check_processing<'a>(
    state: &'a PersistedState,
    caller: &Caller,
    id: &str,
    action: Action,
) -> ApiResult<&'a ProcessingRecord> {
    let not_found = || ApiError::not_found(format!("Processing {id} not found"));
    let p = state.processing(id).ok_or_else(not_found)?;
    let project = state.project(&p.project_id).ok_or_else(not_found)?;
    let role = role_in(project, caller).ok_or_else(not_found)?;
    if role < action.needs() {
        return Err(forbidden(role, action));
    }
    Ok(p)
}

/// Whether the project `id` is the caller's own: the account's processings (`GET
/// /processings/v2`, the history) are those of its own projects, not of those shared with it.
pub(crate) fn owns(state: &PersistedState, caller: &Caller, id: &str) -> bool {
    state.project(id).is_some_and(|p| p.owner.as_deref() == caller.key())
}

/// The limits and the review workflow of an account, by its owner key.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Limits {
    pub aoi_area_limit: i64,
    pub area_limit: i64,
    pub review: bool,
}

/// The main account has the seed's limits and no review; every other user is the team
/// account, an enterprise one: a smaller AOI limit and the review workflow on.
pub(crate) fn limits_of(owner: Option<&str>) -> Limits {
    match owner {
        None => Limits { aoi_area_limit: seed::AOI_AREA_LIMIT, area_limit: seed::AREA_LIMIT, review: false },
        Some(_) => Limits { aoi_area_limit: TEAM_AOI_AREA_LIMIT, area_limit: seed::AREA_LIMIT, review: true },
    }
}

/// The numbers of the account `owner` (`None`: the main account), made on first use.
pub(crate) fn account_mut<'a>(state: &'a mut PersistedState, owner: Option<&str>) -> &'a mut Account {
    match owner {
        None => &mut state.account,
        Some(email) => state
            .account
            .others
            .entry(email.to_owned())
            .or_insert_with(|| Account { others: Default::default(), ..Account::default() }),
    }
}

/// The numbers of the account `owner`, as a fresh one has them when it has none yet.
pub(crate) fn account_of(state: &PersistedState, owner: Option<&str>) -> Account {
    match owner {
        None => state.account.clone(),
        Some(email) => state.account.others.get(email).cloned().unwrap_or_else(|| Account {
            // A stable id until the account is first written.
            user_id: format!("user-{email}"),
            ..Account::default()
        }),
    }
}

/// The caller's default project, made when a user other than the main account first asks
/// for it (a database from before the team account has none).
pub(crate) fn default_project_of(state: &mut PersistedState, caller: &Caller) -> ProjectRecord {
    if let Some(p) = state.projects.iter().find(|p| p.is_default && p.owner.as_deref() == caller.key()) {
        return p.clone();
    }
    let mut project = ProjectRecord::new(seed::DEFAULT_PROJECT_NAME, None, true, Utc::now());
    project.owner = caller.key().map(str::to_owned);
    state.projects.push(project.clone());
    project
}

/// The caller's default project if there is one, without making it.
pub(crate) fn find_default<'a>(state: &'a PersistedState, caller: &Caller) -> Option<&'a ProjectRecord> {
    state.projects.iter().find(|p| p.is_default && p.owner.as_deref() == caller.key())
}

/// The review state of a processing at `now`: none unless it was made under the review
/// workflow and has finished; then the decision, or IN_REVIEW until the deadline and
/// ACCEPTED after it.
pub(crate) fn review_status(p: &ProcessingRecord, progress: &Progress, now: DateTime<Utc>) -> Option<ReviewStatus> {
    if !p.review || progress.status != ProcessingStatus::Ok {
        return None;
    }
    let until = progress.since + Duration::days(REVIEW_DAYS);
    let status = match &p.review_decision {
        Some(d) => d.status.clone(),
        None if now >= until => "ACCEPTED".to_owned(),
        None => "IN_REVIEW".to_owned(),
    };
    Some(ReviewStatus { review_status: Some(status), in_review_until: Some(iso(until)) })
}

/// One demo processing of the team account.
struct TeamRun {
    id: &'static str,
    name: &'static str,
    project: &'static str,
    model_id: &'static str,
    bbox: [f64; 4],
    /// How long before the seeding it finished, hours.
    finished_hours_ago: f64,
    decision: Option<&'static str>,
}

/// The team account of a fresh sandbox: its default project, the two projects it shares
/// with the main account, and processings in review (one due within a day), accepted and
/// refunded.
pub(crate) fn populate_team(state: &mut PersistedState, config: &SandboxConfig, now: DateTime<Utc>) {
    let team = config.team_token.email().to_owned();
    let main = config.token.email().to_owned();
    account_mut(state, Some(&team));
    let mut project = |name: &str, description: Option<&str>, default: bool, days: i64, role: Option<Role>| {
        let mut p = ProjectRecord::new(name, description.map(str::to_owned), default, now - Duration::days(days));
        p.owner = Some(team.clone());
        p.shared = role.map(|role| vec![ShareRecord { email: main.clone(), role }]).unwrap_or_default();
        let id = p.id.clone();
        state.projects.push(p);
        id
    };
    project(seed::DEFAULT_PROJECT_NAME, None, true, 10, None);
    let survey = project(
        SHARED_READONLY_PROJECT,
        Some("The team's survey of Almaty, shared with you to look at: your role is read-only."),
        false,
        8,
        Some(Role::Readonly),
    );
    let field = project(
        SHARED_CONTRIBUTOR_PROJECT,
        Some("The team's field work, shared with you as a contributor: you may start processings here."),
        false,
        6,
        Some(Role::Contributor),
    );
    let runs = [
        TeamRun {
            id: "5a7c1e3b-2d4f-4e6a-8b9c-1d2e3f4a5b01",
            name: "Buildings: airport district",
            project: "survey",
            model_id: seed::BUILDINGS_ID,
            bbox: [77.020, 43.340, 77.045, 43.355],
            finished_hours_ago: 62.0,
            decision: None,
        },
        TeamRun {
            id: "5a7c1e3b-2d4f-4e6a-8b9c-1d2e3f4a5b02",
            name: "Buildings: Esentai",
            project: "survey",
            model_id: seed::BUILDINGS_ID,
            bbox: [76.925, 43.215, 76.945, 43.228],
            finished_hours_ago: 20.0,
            decision: None,
        },
        TeamRun {
            id: "5a7c1e3b-2d4f-4e6a-8b9c-1d2e3f4a5b03",
            name: "Roads: the ring road",
            project: "survey",
            model_id: seed::ROADS_ID,
            bbox: [76.860, 43.200, 76.885, 43.215],
            finished_hours_ago: 100.0,
            decision: Some("ACCEPTED"),
        },
        TeamRun {
            id: "5a7c1e3b-2d4f-4e6a-8b9c-1d2e3f4a5b04",
            name: "Buildings: Orbita (rejected)",
            project: "survey",
            model_id: seed::BUILDINGS_ID,
            bbox: [76.880, 43.190, 76.900, 43.203],
            finished_hours_ago: 110.0,
            decision: Some("REFUNDED"),
        },
        TeamRun {
            id: "5a7c1e3b-2d4f-4e6a-8b9c-1d2e3f4a5b05",
            name: "Buildings: Tastak",
            project: "field",
            model_id: seed::BUILDINGS_ID,
            bbox: [76.870, 43.240, 76.890, 43.252],
            finished_hours_ago: 30.0,
            decision: None,
        },
    ];
    for run in runs {
        let project_id = if run.project == "survey" { &survey } else { &field };
        let [w, s, e, n] = run.bbox;
        let body = json!({
            "name": run.name,
            "projectId": project_id,
            "wdId": run.model_id,
            "geometry": {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]},
            "params": {"sourceParams": {"dataProvider": {"providerName": seed::MAPBOX, "zoom": 18}}},
            "meta": {"source-app": "mapflow-sandbox", "version": env!("CARGO_PKG_VERSION")},
        });
        let plan = match processing::plan(body, Purpose::Create, state) {
            Ok(plan) => plan,
            Err(e) => {
                tracing::error!("sandbox: team demo processing \"{}\" refused: {}", run.name, e.message);
                continue;
            }
        };
        let duration = 420.0;
        let started = now - Duration::seconds((run.finished_hours_ago * 3600.0) as i64 + duration as i64);
        let mut record = processing::record(plan, project_id, started, duration);
        record.id = run.id.to_owned();
        record.payer = Some(team.clone());
        record.review = true;
        record.review_decision = run.decision.map(|status| ReviewDecision {
            status: status.to_owned(),
            at: now - Duration::hours(run.finished_hours_ago as i64 - 4),
            comment: (status != "ACCEPTED").then(|| "Many roofs are merged across the courtyards.".to_owned()),
            features: None,
        });
        state.processings.push(record);
    }
}
