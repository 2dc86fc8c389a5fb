//! The processing calls of the API client against the sandbox over loopback: the whole
//! lifecycle, each contract failure, and a create that fails is never repeated.
#![allow(clippy::unwrap_used)]

#[path = "common/sandbox_setup.rs"]
mod sandbox_setup;

use sandbox_setup::setup;

use mapflow_desktop::api::{
    BlockToggle, Client, ErrorKind, ProcessingEdit, ProcessingPageQuery, ProcessingParams, ProcessingRequest,
    ProcessingSortBy, ProcessingStatus, ProjectId, SortOrder, SourceParams, UserSourceType, app_meta,
};
use mapflow_desktop::geo::Aoi;
use mapflow_desktop::sandbox::{Fault, FaultAction};
use std::time::{Duration, Instant};

/// A square of about `side_km` km a side near Moscow.
fn square(side_km: f64) -> Aoi {
    let dlat = side_km / 111.32;
    let dlon = dlat / (55.75f64).to_radians().cos();
    Aoi::from_bbox([37.6, 55.75, 37.6 + dlon, 55.75 + dlat])
}

async fn request(client: &Client, name: &str, aoi: &Aoi, model: &str, zoom: u8) -> ProcessingRequest {
    let status = client.user_status().await.unwrap();
    let project = client.default_project().await.unwrap();
    let model = status.models.iter().find(|m| m.name.contains(model)).unwrap();
    ProcessingRequest {
        name: name.into(),
        description: None,
        project_id: project.id,
        wd_id: Some(model.id.clone()),
        wd_name: None,
        geometry: Some(serde_json::to_value(aoi.to_geometry()).unwrap()),
        area_sq_km: None,
        params: ProcessingParams {
            source_params: SourceParams::DataProvider { provider_name: "Mapbox".into(), zoom: Some(zoom) },
            inference_params: None,
        },
        blocks: model
            .blocks
            .iter()
            .filter(|b| b.optional)
            .map(|b| BlockToggle { name: b.name.clone(), enabled: b.name != "Heights" })
            .collect(),
        meta: Some(app_meta()),
    }
}

async fn wait_terminal(client: &Client, id: &mapflow_desktop::api::ProcessingId) -> Vec<i64> {
    let start = Instant::now();
    let mut seen = Vec::new();
    loop {
        let p = client.processing(id).await.unwrap();
        seen.push(p.percent_completed);
        if p.status.is_terminal() {
            return seen;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "still {:?}", p.status);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn lifecycle_estimate_create_watch_result_edit_delete() {
    let (sandbox, client) = setup();
    let aoi = square(0.5);
    let req = request(&client, "Blocks", &aoi, "Buildings", 18).await;
    let cost = client.processing_cost(&req).await.unwrap();
    assert!(cost > 0.0);
    let before = client.user_status().await.unwrap().remaining_credits;

    let created = client.create_processing(&req).await.unwrap();
    assert_eq!(created.name, "Blocks");
    assert!(!created.status.is_terminal());
    assert_eq!(created.cost as f64, cost.round());
    let after = client.user_status().await.unwrap().remaining_credits;
    assert_eq!(before - after, created.cost, "charged exactly the estimate");

    let progress = wait_terminal(&client, &created.id).await;
    assert!(progress.windows(2).all(|w| w[0] <= w[1]), "percent only rises: {progress:?}");
    let done = client.processing(&created.id).await.unwrap();
    assert_eq!(done.status, ProcessingStatus::Ok);
    assert_eq!(done.percent_completed, 100);
    assert!(done.raster_layer.as_ref().is_some_and(|r| r.tile_url.contains("{z}")));

    // The result, in memory and streamed to disk.
    let bytes = client.result_bytes(&created.id).await.unwrap();
    let layer = mapflow_desktop::results::load_result(&bytes).unwrap();
    assert!(layer.feature_count() > 100, "{}", layer.feature_count());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("result.geojson");
    let mut last = 0;
    let written = client.download_result(&created.id, &path, |n| last = n).await.unwrap();
    assert_eq!(written, bytes.len() as u64);
    assert_eq!(last, written);
    assert_eq!(std::fs::read(&path).unwrap(), bytes, "the same result, written whole");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary file left behind");

    let aois = client.processing_aois(&created.id).await.unwrap();
    assert_eq!(aois.len(), 1);

    client.rate_processing(&created.id, 4, "good").await.unwrap();
    let rated = client.processing(&created.id).await.unwrap();
    assert_eq!(rated.rating.unwrap().rating, Some(4));

    let renamed = client
        .update_processing(&created.id, &ProcessingEdit { name: Some("Blocks v2".into()), ..ProcessingEdit::default() })
        .await
        .unwrap();
    assert_eq!(renamed.name, "Blocks v2");
    let other = client.create_project("Elsewhere", None).await.unwrap();
    client
        .update_processing(
            &created.id,
            &ProcessingEdit { project_id: Some(other.id.clone()), ..ProcessingEdit::default() },
        )
        .await
        .unwrap();
    let moved = client.project_processings(&other.id).await.unwrap();
    assert_eq!(moved.len(), 1);

    client.delete_processing(&created.id).await.unwrap();
    assert_eq!(client.processing(&created.id).await.unwrap_err().kind, ErrorKind::NotFound);
    assert!(sandbox.unexpected_requests().is_empty(), "{:?}", sandbox.unexpected_requests());
}

#[tokio::test]
async fn a_failed_create_is_not_retried_and_not_charged() {
    let (sandbox, client) = setup();
    let req = request(&client, "Once", &square(0.5), "Buildings", 18).await;
    let before = client.user_status().await.unwrap().remaining_credits;
    let project = req.project_id.clone();
    let count = client.project_processings(&project).await.unwrap().len();
    sandbox.faults().inject(Fault::new("POST", "/rest/processings/v2", FaultAction::Status(500)).times(1));
    let err = client.create_processing(&req).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Server);
    assert_eq!(sandbox.hits("POST", "/rest/processings/v2"), 1, "sent once");
    assert_eq!(client.project_processings(&project).await.unwrap().len(), count, "no duplicate processing");
    assert_eq!(client.user_status().await.unwrap().remaining_credits, before, "no charge");
}

#[tokio::test]
async fn an_aoi_over_the_limit_is_too_large_processing() {
    let (_sandbox, client) = setup();
    let req = request(&client, "Huge", &square(12.0), "Buildings", 18).await;
    let err = client.create_processing(&req).await.unwrap_err();
    assert_eq!(err.code(), Some("TOO_LARGE_PROCESSING"), "{err:?}");
    let params = err.params().unwrap();
    assert!(params.contains_key("aoiAreaLimit") && params.contains_key("area"), "{params:?}");
    let err = client.processing_cost(&req).await.unwrap_err();
    assert_eq!(err.code(), Some("TOO_LARGE_PROCESSING"));
}

#[tokio::test]
async fn an_aoi_below_the_provider_minimum_is_refused() {
    let (_sandbox, client) = setup();
    // Mapbox in the sandbox sells at least 0.1 km².
    let req = request(&client, "Tiny", &square(0.1), "Buildings", 18).await;
    let err = client.create_processing(&req).await.unwrap_err();
    assert_eq!(err.code(), Some("ProviderMinAreaError"), "{err:?}");
    assert_eq!(err.params().unwrap().get("providerName").map(String::as_str), Some("Mapbox"));
}

#[tokio::test]
async fn too_low_zoom_fails_with_a_message_and_restarts() {
    let (_sandbox, client) = setup();
    let req = request(&client, "Low zoom", &square(0.5), "Buildings", 15).await;
    let created = client.create_processing(&req).await.unwrap();
    wait_terminal(&client, &created.id).await;
    let failed = client.processing(&created.id).await.unwrap();
    assert_eq!(failed.status, ProcessingStatus::Failed);
    let m = failed.messages.iter().find(|m| m.code == "source-validator.TooLowZoom").unwrap();
    assert_eq!(m.parameters.get("actual_zoom").map(String::as_str), Some("15"));
    // The message reads as a sentence with its parameters filled in.
    let text = mapflow_desktop::app::messages::code_text(&m.code, &m.parameters, "");
    assert!(text.contains("15") && !text.contains("%{"), "{text}");
    // Rating is for finished ones only; restart is for failed ones.
    assert!(client.rate_processing(&created.id, 5, "").await.is_err());
    client.restart_processing(&created.id).await.unwrap();
    let again = client.processing(&created.id).await.unwrap();
    assert!(!again.status.is_terminal() || again.status == ProcessingStatus::Failed);
}

#[tokio::test]
async fn pages_filter_and_sort_processings() {
    let (_sandbox, client) = setup();
    for name in ["alpha", "Beta", "gamma"] {
        let req = request(&client, name, &square(0.4), "Forest", 18).await;
        client.create_processing(&req).await.unwrap();
    }
    let project = client.default_project().await.unwrap().id;
    let q = ProcessingPageQuery {
        limit: 2,
        offset: 0,
        terms: None,
        sort_by: Some(ProcessingSortBy::Name),
        sort_order: Some(SortOrder::Asc),
    };
    let first = client.processings_page(&project, &q).await.unwrap();
    assert_eq!(first.total, 3);
    assert_eq!(first.results.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["alpha", "Beta"]);
    let second = client.processings_page(&project, &ProcessingPageQuery { offset: 2, ..q.clone() }).await.unwrap();
    assert_eq!(second.results[0].name, "gamma");
    let filtered =
        client.processings_page(&project, &ProcessingPageQuery { terms: Some("ET".into()), ..q }).await.unwrap();
    assert_eq!(filtered.total, 1);
    // Every processing of the account: these three and the demo project's five.
    let all = client.all_processings().await.unwrap();
    assert_eq!(all.len(), 3 + 5);
    assert_eq!(all.iter().filter(|p| p.project_id == project).count(), 3);
    let err = client.processings_page(&ProjectId("nope".into()), &ProcessingPageQuery::default()).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
}

#[tokio::test]
async fn a_custom_xyz_source_is_accepted() {
    let (_sandbox, client) = setup();
    let mut req = request(&client, "Custom", &square(0.5), "Buildings", 18).await;
    req.params.source_params = SourceParams::UserDefined {
        source_type: UserSourceType::Xyz,
        url: "https://tiles.example.com/{z}/{x}/{y}.png".into(),
        zoom: Some(18),
        crs: "epsg:3857".into(),
        raster_login: None,
        raster_password: None,
    };
    let created = client.create_processing(&req).await.unwrap();
    assert_eq!(created.params["sourceParams"]["userDefined"]["sourceType"], "XYZ");
}
