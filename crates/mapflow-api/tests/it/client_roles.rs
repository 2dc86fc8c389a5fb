//! Shared projects and the review workflow, the app's client against the sandbox over
//! loopback: the role matrix (each role × each action: allowed, or 403 with the API's error
//! body and nothing changed), sharing, the owner's AOI limit, and accept / reject.

use testkit::sandbox_setup;

use mapflow_api::{
    ApiError, Client, ErrorKind, ProcessingEdit, ProcessingId, ProcessingParams, ProcessingRequest, ProcessingStatus,
    Project, ProjectEdit, ProjectId, ProjectRole, Rejection, ShareRequest, SourceParams, app_meta,
};
use mapflow_geo::Aoi;
use mapflow_sandbox::SandboxConfig;
use sandbox_setup::{StrictSandbox, client_for};
use serde_json::json;
use std::time::{Duration, Instant};

/// A square of about `side_km` km a side near Almaty.
fn square(side_km: f64) -> Aoi {
    let dlat = side_km / 111.32;
    let dlon = dlat / (43.2f64).to_radians().cos();
    Aoi::from_bbox([76.9, 43.2, 76.9 + dlon, 43.2 + dlat])
}

fn request(project: &ProjectId, name: &str, side_km: f64, zoom: u8) -> ProcessingRequest {
    ProcessingRequest {
        name: name.into(),
        description: None,
        project_id: project.clone(),
        wd_id: None,
        wd_name: Some(mapflow_sandbox::seed::BUILDINGS.into()),
        geometry: Some(serde_json::to_value(square(side_km).to_geometry()).unwrap()),
        area_sq_km: None,
        params: ProcessingParams {
            source_params: SourceParams::DataProvider { provider_name: "Mapbox".into(), zoom: Some(zoom) },
            inference_params: None,
        },
        blocks: Vec::new(),
        meta: Some(app_meta()),
    }
}

async fn wait_terminal(client: &Client, id: &ProcessingId) -> mapflow_api::Processing {
    let start = Instant::now();
    loop {
        let p = client.processing(id).await.unwrap();
        if p.status.is_terminal() {
            return p;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "still {:?}", p.status);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A refusal by role: 403 with the Processing API's error body `{code: FORBIDDEN, message,
/// params}`.
fn assert_forbidden(result: Result<impl std::fmt::Debug, ApiError>, what: &str) {
    let error = result.expect_err(what);
    assert_eq!(error.status, Some(403), "{what}: {error:?}");
    assert_eq!(error.code(), Some("FORBIDDEN"), "{what}: {error:?}");
    let body: serde_json::Value = serde_json::from_str(error.body.as_deref().unwrap()).unwrap();
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{what}: {body}");
    assert!(body["params"]["role"].is_string() && body["params"]["requiredRole"].is_string(), "{what}: {body}");
}

/// One action of the matrix, and the lowest role allowed to do it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Action {
    View,
    Start,
    Restart,
    RenameProcessing,
    Rate,
    Reject,
    Accept,
    DeleteProcessing,
    RenameProject,
    Share,
    DeleteProject,
}

impl Action {
    fn needs(self) -> ProjectRole {
        match self {
            Self::View => ProjectRole::Readonly,
            Self::Start | Self::Restart => ProjectRole::Contributor,
            Self::RenameProcessing | Self::Rate | Self::Reject | Self::Accept | Self::DeleteProcessing => {
                ProjectRole::Maintainer
            }
            Self::RenameProject | Self::Share | Self::DeleteProject => ProjectRole::Owner,
        }
    }
}

/// What the team account made for one role: a project shared with the demo account as
/// `role`, with two processings in review, one to delete and one failed.
struct Fixture {
    project: ProjectId,
    reject: ProcessingId,
    accept: ProcessingId,
    delete: ProcessingId,
    failed: ProcessingId,
}

async fn fixture(team: &Client, role: ProjectRole, demo_email: &str) -> Fixture {
    let project = team.create_project(&format!("Matrix: {}", role.as_str()), None).await.unwrap().id;
    team.share_project(&ShareRequest { project_id: project.clone(), email: demo_email.into(), role }).await.unwrap();
    let mut ids = Vec::new();
    for (name, zoom) in [("reject", 18), ("accept", 18), ("delete", 18), ("failed", 15)] {
        ids.push(team.create_processing(&request(&project, name, 0.5, zoom)).await.unwrap().id);
    }
    for id in &ids {
        wait_terminal(team, id).await;
    }
    let [reject, accept, delete, failed] = ids.try_into().unwrap();
    Fixture { project, reject, accept, delete, failed }
}

/// Does `action` as the demo account in the fixture's project.
async fn attempt(demo: &Client, f: &Fixture, action: Action) -> Result<(), ApiError> {
    let features = json!({"type": "FeatureCollection", "features": []});
    match action {
        Action::View => demo.project(&f.project).await.map(drop),
        Action::Start => demo.create_processing(&request(&f.project, "by the demo account", 0.5, 18)).await.map(drop),
        Action::Restart => demo.restart_processing(&f.failed).await,
        Action::RenameProcessing => {
            let edit = ProcessingEdit { name: Some("renamed".into()), ..ProcessingEdit::default() };
            demo.update_processing(&f.accept, &edit).await.map(drop)
        }
        Action::Rate => demo.rate_processing(&f.accept, 4, "good").await,
        Action::Reject => demo.reject_processing(&f.reject, &Rejection { comment: "wrong".into(), features }).await,
        Action::Accept => demo.accept_processing(&f.accept).await,
        Action::DeleteProcessing => demo.delete_processing(&f.delete).await,
        Action::RenameProject => demo
            .update_project(&f.project, &ProjectEdit { name: Some("Renamed".into()), description: None })
            .await
            .map(drop),
        Action::Share => {
            let share = ShareRequest {
                project_id: f.project.clone(),
                email: "guest@example.com".into(),
                role: ProjectRole::Readonly,
            };
            demo.share_project(&share).await
        }
        Action::DeleteProject => demo.delete_project(&f.project).await,
    }
}

#[tokio::test]
async fn each_role_may_do_what_it_allows_and_is_refused_the_rest() {
    let sandbox = StrictSandbox::start(SandboxConfig { processing_seconds: 0.3, ..SandboxConfig::default() });
    let demo = client_for(&sandbox, sandbox.token().clone());
    let team = client_for(&sandbox, sandbox.team_token().clone());
    let actions = [
        Action::View,
        Action::Start,
        Action::Restart,
        Action::RenameProcessing,
        Action::Rate,
        Action::Reject,
        Action::Accept,
        Action::DeleteProcessing,
        Action::RenameProject,
        Action::Share,
        Action::DeleteProject,
    ];
    let mut matrix = Vec::new();
    for role in ProjectRole::ALL {
        let f = fixture(&team, role, sandbox.token().email()).await;
        let seen: Project = demo.project(&f.project).await.unwrap();
        assert_eq!(seen.my_role(), role, "the project says the role it was shared as");
        for action in actions {
            let allowed = role >= action.needs();
            let result = attempt(&demo, &f, action).await;
            if allowed {
                result.unwrap_or_else(|e| panic!("{role:?} may {action:?}: {e:?}"));
            } else {
                assert_forbidden(result, &format!("{role:?} {action:?}"));
            }
            matrix.push(format!("{:<11} {action:?}: {}", role.as_str(), if allowed { "allowed" } else { "403" }));
        }
        // What was refused did not happen.
        let project = team.project(&f.project).await;
        if role < ProjectRole::Owner {
            let project = project.unwrap();
            assert_eq!(project.name, format!("Matrix: {}", role.as_str()));
            let members = project.share_project.unwrap().users;
            assert!(members.iter().all(|m| m.email != "guest@example.com"), "{role:?}: {members:?}");
        } else {
            assert_eq!(project.unwrap_err().kind, ErrorKind::NotFound, "the owner deleted it");
        }
        if role < ProjectRole::Maintainer {
            let kept = team.processing(&f.delete).await.unwrap();
            assert_eq!(kept.status, ProcessingStatus::Ok);
            let reviewed = team.processing(&f.reject).await.unwrap();
            assert_eq!(reviewed.review_state(), Some("IN_REVIEW"), "{role:?}: not rejected");
            assert_eq!(team.processing(&f.accept).await.unwrap().name, "accept", "{role:?}: not renamed");
        }
        if role < ProjectRole::Contributor {
            let failed = team.processing(&f.failed).await.unwrap();
            assert_eq!(failed.status, ProcessingStatus::Failed, "{role:?}: not restarted");
        }
    }
    eprintln!("{}", matrix.join("\n"));
    assert_eq!(matrix.len(), 4 * actions.len());
}

#[tokio::test]
async fn a_project_without_a_role_is_not_found_and_the_owners_aoi_limit_applies() {
    let sandbox = StrictSandbox::start(SandboxConfig { processing_seconds: 0.3, ..SandboxConfig::default() });
    let demo = client_for(&sandbox, sandbox.token().clone());
    let team = client_for(&sandbox, sandbox.team_token().clone());
    let private = team.create_project("Team only", None).await.unwrap().id;
    assert_eq!(demo.project(&private).await.unwrap_err().kind, ErrorKind::NotFound);
    assert!(demo.projects().await.unwrap().iter().all(|p| p.id != private), "not listed");
    let err = demo.create_processing(&request(&private, "x", 0.5, 18)).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);

    // The contributor project: 6 km a side (about 36 km²) is within the demo account's own
    // 100 km², over the owner's 25 km².
    let shared = demo
        .projects()
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.name == mapflow_sandbox::SHARED_CONTRIBUTOR_PROJECT)
        .unwrap();
    assert_eq!(shared.my_role(), ProjectRole::Contributor);
    assert_eq!(shared.user.as_ref().unwrap().aoi_area_limit, Some(25_000_000));
    let err = demo.create_processing(&request(&shared.id, "too big here", 6.0, 18)).await.unwrap_err();
    assert_eq!(err.code(), Some("TOO_LARGE_PROCESSING"), "{err:?}");
    assert_eq!(err.params().unwrap()["aoiAreaLimit"], "25000000");
    let own = demo.default_project().await.unwrap().id;
    demo.create_processing(&request(&own, "fine at home", 6.0, 18)).await.unwrap();

    // A processing started by a contributor is paid by the owner and reviewed under the
    // owner's workflow.
    let (demo_before, team_before) =
        (demo.user_status().await.unwrap().remaining_credits, team.user_status().await.unwrap().remaining_credits);
    let p = demo.create_processing(&request(&shared.id, "contributed", 0.5, 18)).await.unwrap();
    assert_eq!(demo.user_status().await.unwrap().remaining_credits, demo_before);
    assert_eq!(team.user_status().await.unwrap().remaining_credits, team_before - p.cost);
    let done = wait_terminal(&demo, &p.id).await;
    assert_eq!(done.review_state(), Some("IN_REVIEW"));
}

#[tokio::test]
async fn a_review_account_accepts_and_rejects_finished_processings() {
    let sandbox = StrictSandbox::start(SandboxConfig { processing_seconds: 0.3, ..SandboxConfig::default() });
    let team = client_for(&sandbox, sandbox.team_token().clone());
    let demo = client_for(&sandbox, sandbox.token().clone());
    assert!(team.user_status().await.unwrap().review_workflow_enabled);
    assert!(!demo.user_status().await.unwrap().review_workflow_enabled);

    let project = team.default_project().await.unwrap().id;
    let a = team.create_processing(&request(&project, "a", 0.5, 18)).await.unwrap();
    assert_eq!(a.review_status, None, "no review before it finishes");
    let b = team.create_processing(&request(&project, "b", 0.5, 18)).await.unwrap();
    let a = wait_terminal(&team, &a.id).await;
    wait_terminal(&team, &b.id).await;
    assert!(a.in_review());
    let until = a.review_deadline().unwrap();
    let left = until - chrono::Utc::now();
    assert!(left > chrono::Duration::days(2) && left <= chrono::Duration::days(3), "{left}");

    team.accept_processing(&a.id).await.unwrap();
    assert_eq!(team.processing(&a.id).await.unwrap().review_state(), Some("ACCEPTED"));
    // Decided once: a second decision is refused.
    let again = team.accept_processing(&a.id).await.unwrap_err();
    assert_eq!(again.status, Some(400));

    let features = json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"class_id": 101},
         "geometry": {"type": "Point", "coordinates": [76.901, 43.201]}}]});
    team.reject_processing(&b.id, &Rejection { comment: "merged roofs".into(), features: features.clone() })
        .await
        .unwrap();
    assert_eq!(team.processing(&b.id).await.unwrap().review_state(), Some("NOT_ACCEPTED"));
    let (_, comment, kept) = sandbox.review_decision(&b.id.0).unwrap();
    assert_eq!(comment.as_deref(), Some("merged roofs"));
    assert_eq!(kept.unwrap(), features);

    // Not a FeatureCollection: refused by the client before sending, by the sandbox if sent.
    let bad = Rejection { comment: "x".into(), features: json!({"type": "Feature"}) };
    assert!(matches!(team.reject_processing(&b.id, &bad).await.unwrap_err().kind, ErrorKind::InvalidArgument(_)));

    // The demo account's own processings are never under review.
    let own = demo.default_project().await.unwrap().id;
    let c = demo.create_processing(&request(&own, "c", 0.5, 18)).await.unwrap();
    let c = wait_terminal(&demo, &c.id).await;
    assert_eq!(c.review_status, None);
    assert_eq!(demo.accept_processing(&c.id).await.unwrap_err().status, Some(400));
}

#[tokio::test]
async fn sharing_lists_the_member_with_its_role_and_refuses_bad_requests() {
    let sandbox = StrictSandbox::start(SandboxConfig::default());
    let team = client_for(&sandbox, sandbox.team_token().clone());
    let demo = client_for(&sandbox, sandbox.token().clone());
    let project = team.create_project("To share", None).await.unwrap().id;
    let share = |email: &str, role| ShareRequest { project_id: project.clone(), email: email.into(), role };
    team.share_project(&share(sandbox.token().email(), ProjectRole::Maintainer)).await.unwrap();
    team.share_project(&share("guest@example.com", ProjectRole::Readonly)).await.unwrap();
    // Again with another role: the role changes, the member is not listed twice.
    team.share_project(&share("guest@example.com", ProjectRole::Contributor)).await.unwrap();
    let members = team.project(&project).await.unwrap().share_project.unwrap();
    let listed: Vec<(String, String)> = members.users.iter().map(|m| (m.email.clone(), m.role.clone())).collect();
    assert_eq!(
        listed,
        [
            (sandbox.token().email().to_owned(), "maintainer".to_owned()),
            ("guest@example.com".into(), "contributor".into())
        ]
    );
    assert_eq!(members.owners.len(), 1);
    assert_eq!(members.owners[0].email, sandbox.team_token().email());
    assert_eq!(demo.project(&project).await.unwrap().my_role(), ProjectRole::Maintainer);

    // The owner cannot be given a role, a role must be known, an email must be one.
    let err = team.share_project(&share(sandbox.team_token().email(), ProjectRole::Readonly)).await.unwrap_err();
    assert_eq!(err.status, Some(400));
    assert!(matches!(
        team.share_project(&share("not an email", ProjectRole::Readonly)).await.unwrap_err().kind,
        ErrorKind::InvalidArgument(_)
    ));
    let http = reqwest::Client::new();
    let raw = http
        .post(format!("{}/projects/share", sandbox.base_url()))
        .header("Authorization", format!("Basic {}", sandbox.team_token().expose()))
        .json(&json!({"projectId": project.0, "email": "x@example.com", "role": "admin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 400);
    let body: serde_json::Value = raw.json().await.unwrap();
    assert_eq!(body["code"], "BAD_REQUEST");
    assert_eq!(body["params"]["role"], "admin");
}
