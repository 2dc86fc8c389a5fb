//! The API client against the sandbox over loopback: account and project calls, and how
//! each failure surfaces.

use testkit::sandbox_setup;

use sandbox_setup::{client_for, retry, setup};

use mapflow_api::{
    BillingType, Client, ClientConfig, ErrorKind, ProjectEdit, ProjectId, ProjectPageQuery, ProjectSortBy, SortOrder,
    Token,
};
use mapflow_sandbox::{DEMO_EMAIL, Fault, FaultAction};
use std::time::Duration;

const STATUS: &str = "/rest/user/status";

#[tokio::test]
async fn user_status_happy_path() {
    let (sandbox, client) = setup();
    let status = client.user_status().await.unwrap();
    assert_eq!(status.email, DEMO_EMAIL);
    assert_eq!(status.billing_type, BillingType::Credits);
    assert!(status.remaining_credits > 0);
    assert_eq!(status.models.len(), 5);
    assert!(status.models.iter().any(|m| m.name.contains("Buildings")));
    assert!(status.aoi_area_limit.unwrap() > 0);
    assert!(status.max_aois_per_processing.unwrap() > 0);
    assert!(!status.data_providers.is_empty());
    assert!(sandbox.unexpected_requests().is_empty());
}

#[tokio::test]
async fn wrong_token_is_unauthorized_and_not_retried() {
    let (sandbox, _) = setup();
    let client = client_for(&sandbox, Token::from_parts(DEMO_EMAIL, "wrong-key"));
    let err = client.user_status().await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unauthorized);
    assert_eq!(err.status, Some(401));
    assert!(!err.is_retryable());
    assert_eq!(sandbox.hits("GET", STATUS), 1);
    let err = client.projects_page(&ProjectPageQuery::default()).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unauthorized);
    let err = client.create_project("x", None).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unauthorized);
}

#[tokio::test]
async fn get_retries_a_server_error_then_succeeds() {
    let (sandbox, client) = setup();
    sandbox.faults().inject(Fault::new("GET", STATUS, FaultAction::Status(500)).times(2));
    let status = client.user_status().await.unwrap();
    assert_eq!(status.email, DEMO_EMAIL);
    assert_eq!(sandbox.hits("GET", STATUS), 3, "two failures and the success");
}

#[tokio::test]
async fn get_gives_up_after_the_retry_budget() {
    let (sandbox, client) = setup();
    sandbox.faults().inject(Fault::new("GET", STATUS, FaultAction::Html(502)));
    let err = client.user_status().await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Server);
    assert_eq!(err.status, Some(502));
    assert!(err.body.as_deref().unwrap().to_lowercase().contains("<html"), "the raw page is kept for the log");
    assert!(err.is_retryable());
    assert_eq!(sandbox.hits("GET", STATUS), 3);
}

#[tokio::test]
async fn malformed_body_is_a_decode_error() {
    let (sandbox, client) = setup();
    sandbox.faults().inject(Fault::new("GET", STATUS, FaultAction::MalformedJson).times(1));
    let err = client.user_status().await.unwrap_err();
    assert!(matches!(err.kind, ErrorKind::Decode { .. }), "{err:?}");
    assert!(!err.is_retryable());
    assert!(err.body.is_some(), "the raw body is kept");
    assert_eq!(sandbox.hits("GET", STATUS), 1, "a decode error is not retried");
}

#[tokio::test]
async fn decode_error_names_the_field() {
    let (sandbox, client) = setup();
    sandbox.faults().inject(
        Fault::new(
            "GET",
            STATUS,
            FaultAction::Json(200, serde_json::json!({"email": "a@b", "models": {"not": "a list"}})),
        )
        .times(1),
    );
    let err = client.user_status().await.unwrap_err();
    match &err.kind {
        ErrorKind::Decode { path, .. } => assert_eq!(path, "models"),
        other => panic!("expected a decode error, got {other:?}"),
    }
    sandbox.faults().inject(
        Fault::new(
            "POST",
            "/rest/projects/page",
            FaultAction::Json(200, serde_json::json!({"results": [], "total": [1]})),
        )
        .times(1),
    );
    let err = client.projects_page(&ProjectPageQuery::default()).await.unwrap_err();
    match &err.kind {
        ErrorKind::Decode { path, .. } => assert_eq!(path, "total"),
        other => panic!("expected a decode error, got {other:?}"),
    }
}

#[tokio::test]
async fn timeout_is_reported_and_retried_for_reads() {
    let (sandbox, client) = setup();
    let mut config = client.config().clone();
    config.timeout_scale = 0.02; // 10 s → 200 ms
    let client = Client::new(config).unwrap();
    sandbox.faults().inject(Fault::new("GET", STATUS, FaultAction::Pass).delay(Duration::from_secs(2)).times(1));
    // The first attempt times out, the retry succeeds.
    client.user_status().await.unwrap();
    assert_eq!(sandbox.hits("GET", STATUS), 2);
    sandbox.faults().inject(Fault::new("GET", STATUS, FaultAction::Pass).delay(Duration::from_secs(2)));
    let err = client.user_status().await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Timeout);
}

#[tokio::test]
async fn refused_connection_is_a_network_error() {
    let (sandbox, client) = setup();
    let url = sandbox.base_url();
    drop(sandbox);
    let mut config = ClientConfig::new(url, client.token().clone());
    config.retry = retry();
    let err = Client::new(config).unwrap().user_status().await.unwrap_err();
    assert!(matches!(err.kind, ErrorKind::Network(_)), "{err:?}");
    assert!(err.is_retryable());
}

#[tokio::test]
async fn project_lifecycle() {
    let (sandbox, client) = setup();
    let default = client.default_project().await.unwrap();
    assert!(default.is_default);
    assert_eq!(default.workflow_defs.len(), 5);

    let created = client.create_project("  Riverside survey ", Some("north bank")).await.unwrap();
    assert_eq!(created.name, "Riverside survey");
    assert_eq!(created.description.as_deref(), Some("north bank"));
    assert!(!created.is_default);
    assert_eq!(client.project(&created.id).await.unwrap().name, "Riverside survey");

    let renamed = client
        .update_project(&created.id, &ProjectEdit { name: Some("Riverside 2026".into()), description: None })
        .await
        .unwrap();
    assert_eq!(renamed.name, "Riverside 2026");
    assert_eq!(renamed.description.as_deref(), Some("north bank"), "an omitted field is kept");

    let all = client.projects().await.unwrap();
    assert!(all.iter().any(|p| p.id == created.id));

    client.delete_project(&created.id).await.unwrap();
    let err = client.project(&created.id).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    assert_eq!(err.status, Some(404));
    let err = client.delete_project(&created.id).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);

    let err = client.delete_project(&default.id).await.unwrap_err();
    assert_eq!(err.status, Some(400));
    assert!(err.code().is_some(), "the error body's code is kept: {err:?}");
    assert!(sandbox.unexpected_requests().is_empty());
}

#[tokio::test]
async fn projects_page_filters_sorts_and_pages() {
    let (_sandbox, client) = setup();
    for name in ["Alpha field", "beta FIELD", "Gamma", "delta field"] {
        client.create_project(name, None).await.unwrap();
    }
    let q = |filter: Option<&str>, sort_by, sort_order, limit, offset| ProjectPageQuery {
        limit,
        offset,
        filter: filter.map(str::to_owned),
        sort_by,
        sort_order,
    };
    let page = client.projects_page(&q(Some("field"), ProjectSortBy::Name, SortOrder::Asc, 10, 0)).await.unwrap();
    let names: Vec<_> = page.results.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["Alpha field", "beta FIELD", "delta field"]);
    assert_eq!(page.total, 3);
    assert_eq!(page.count, 3);

    let first = client.projects_page(&q(Some("field"), ProjectSortBy::Name, SortOrder::Desc, 2, 0)).await.unwrap();
    let second = client.projects_page(&q(Some("field"), ProjectSortBy::Name, SortOrder::Desc, 2, 2)).await.unwrap();
    assert_eq!(first.total, 3);
    assert_eq!(first.results.len(), 2);
    assert_eq!(second.results.len(), 1);
    assert_eq!(first.results[0].name, "delta field");
    assert_eq!(second.results[0].name, "Alpha field");

    let err = client.projects_page(&q(None, ProjectSortBy::Name, SortOrder::Asc, 0, 0)).await.unwrap_err();
    assert!(matches!(err.kind, ErrorKind::InvalidArgument(_)));
}

#[tokio::test]
async fn page_query_is_retried_but_create_is_not() {
    let (sandbox, client) = setup();
    sandbox.faults().inject(Fault::new("POST", "/rest/projects/page", FaultAction::Status(500)).times(1));
    client.projects_page(&ProjectPageQuery::default()).await.unwrap();
    assert_eq!(sandbox.hits("POST", "/rest/projects/page"), 2);

    let before = client.projects().await.unwrap().len();
    sandbox.faults().inject(Fault::new("POST", "/rest/projects", FaultAction::Status(500)).times(1));
    let err = client.create_project("Once only", None).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Server);
    assert_eq!(sandbox.hits("POST", "/rest/projects"), 1, "a create is never repeated on its own");
    assert_eq!(client.projects().await.unwrap().len(), before, "no project was created");
}

#[tokio::test]
async fn not_found_and_bad_ids() {
    let (_sandbox, client) = setup();
    let err = client.project(&ProjectId("00000000-0000-0000-0000-000000000000".into())).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    let err = client.project(&ProjectId("../user/status".into())).await.unwrap_err();
    assert!(matches!(err.kind, ErrorKind::InvalidArgument(_)), "refused before any request");
    let err = client.create_project("   ", None).await.unwrap_err();
    assert!(matches!(err.kind, ErrorKind::InvalidArgument(_)));
    let err = client
        .update_project(
            &ProjectId("00000000-0000-0000-0000-000000000000".into()),
            &ProjectEdit { name: Some("x".into()), description: None },
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
}
