//! Planned searches, the app's client against the sandbox over loopback: every call of
//! `/processings/template`, the search finding new images as time passes, and a processing
//! started from a found image listed under its AOI.

use testkit::sandbox_setup;

use mapflow_api::{
    AoiDetails, Client, ErrorKind, ProcessingParams, ProjectId, SourceParams, TemplateAoiInput, TemplateAoiUpdate,
    TemplateCreate, TemplateId, TemplateImagesQuery, TemplateRun, TemplateSearchParams, TemplateStatus, TemplateUpdate,
    TemplateWithResults, app_meta,
};
use mapflow_sandbox::{SandboxConfig, seed};
use sandbox_setup::{StrictSandbox, client_for};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

fn polygon(lon: f64, lat: f64, side: f64) -> Value {
    json!({"type": "Polygon", "coordinates": [[[lon, lat], [lon + side, lat], [lon + side, lat + side], [lon, lat + side], [lon, lat]]]})
}

fn setup() -> (StrictSandbox, Client) {
    let sandbox = StrictSandbox::start(SandboxConfig {
        processing_seconds: 1.0,
        template_search_seconds: 0.3,
        template_check_seconds: 0.4,
        ..SandboxConfig::default()
    });
    let client = client_for(&sandbox, sandbox.token().clone());
    (sandbox, client)
}

fn create(project: &ProjectId) -> TemplateCreate {
    let multi = json!({"type": "MultiPolygon", "coordinates": [
        polygon(76.90, 43.22, 0.03)["coordinates"], polygon(76.95, 43.25, 0.03)["coordinates"]
    ]});
    TemplateCreate {
        name: "Almaty watch".into(),
        search_params: TemplateSearchParams {
            max_cloud_cover: Some(60.0),
            product_types: Some(vec!["IMAGE".into()]),
            aoi_details: Some(AoiDetails::from_aois([(multi, Some("City".into()))])),
            ..TemplateSearchParams::default()
        },
        processing_params: None,
        project_id: project.clone(),
        active_until: None,
    }
}

async fn wait(
    client: &Client,
    id: &TemplateId,
    what: &str,
    until: impl Fn(&TemplateWithResults) -> bool,
) -> TemplateWithResults {
    let start = Instant::now();
    loop {
        let t = client.template(id).await.unwrap();
        if until(&t) {
            return t;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "{what}: {:?}", t.template.status);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn every_planned_search_call_round_trips() {
    let (_sandbox, client) = setup();
    let project = client.default_project().await.unwrap().id;
    let created = client.create_template(&create(&project)).await.unwrap();
    let id = created.template.id.clone();
    assert_eq!(created.template.status, TemplateStatus::Searching);
    assert_eq!(created.template.aois().len(), 2, "one Polygon feature per part");
    assert!(created.template.aois().iter().all(|a| a.properties.name.as_deref() == Some("City") && a.id().is_some()));
    assert!(created.template.area > 0);

    // Found, then more found by a check.
    let first = wait(&client, &id, "the search ends", |t| t.template.status == TemplateStatus::Created).await;
    assert!(!first.search_results.is_empty());
    assert_eq!(first.template.new_images_count, first.search_results.len() as i64);
    let later = wait(&client, &id, "a check", |t| t.template.status == TemplateStatus::Updated).await;
    assert!(later.template.new_images_count > first.template.new_images_count);
    assert!(later.template.last_checked_at.is_some());
    assert!(later.template.aois().iter().any(|a| a.properties.has_new_images == Some(true)));

    // Lists: short by project, full otherwise.
    let short = client.project_templates(&project).await.unwrap();
    assert_eq!(short.len(), 1);
    assert!(short[0].search_params.is_none() && short[0].aois().is_empty());
    assert_eq!(short[0].new_images_count, later.template.new_images_count.max(short[0].new_images_count));
    let all = client.templates().await.unwrap();
    assert_eq!(all[0].aois().len(), 2);
    let user = all[0].user_id.clone().unwrap();
    assert_eq!(client.user_templates(&user).await.unwrap().len(), 1);

    // Update: merged filters; the client refuses AOIs in an update before sending.
    let update = TemplateUpdate {
        name: Some("Renamed".into()),
        search_params: Some(TemplateSearchParams { max_cloud_cover: Some(40.0), ..TemplateSearchParams::default() }),
        ..TemplateUpdate::default()
    };
    let updated = client.update_template(&id, &update).await.unwrap();
    assert_eq!(updated.name, "Renamed");
    let params = updated.search_params.unwrap();
    assert_eq!(params.max_cloud_cover, Some(40.0));
    assert_eq!(params.product_types, Some(vec!["IMAGE".into()]));
    let with_aoi = TemplateUpdate {
        search_params: Some(TemplateSearchParams {
            aoi_details: Some(AoiDetails::from_aois([])),
            ..Default::default()
        }),
        ..TemplateUpdate::default()
    };
    let refused = client.update_template(&id, &with_aoi).await.unwrap_err();
    assert!(matches!(refused.kind, ErrorKind::InvalidArgument(_)), "{refused:?}");

    // AOIs: one, several, rename, delete.
    let added = client
        .add_template_aois(&id, &[TemplateAoiInput { geometry: polygon(77.0, 43.3, 0.02), name: Some("East".into()) }])
        .await
        .unwrap();
    assert_eq!((added.added_count, added.partitioning_triggered), (1, false));
    let added = client
        .add_template_aois(
            &id,
            &[
                TemplateAoiInput { geometry: polygon(76.80, 43.20, 0.01), name: None },
                TemplateAoiInput { geometry: polygon(76.83, 43.20, 0.01), name: Some("Field".into()) },
            ],
        )
        .await
        .unwrap();
    assert_eq!(added.added_count, 2);
    let long = TemplateAoiInput { geometry: polygon(76.83, 43.20, 0.01), name: Some("x".repeat(65)) };
    assert!(matches!(client.add_template_aois(&id, &[long]).await.unwrap_err().kind, ErrorKind::InvalidArgument(_)));
    let t = client.template(&id).await.unwrap();
    assert_eq!(t.template.aois().len(), 5);
    let east = t
        .template
        .aois()
        .iter()
        .find(|a| a.properties.name.as_deref() == Some("East"))
        .unwrap()
        .id()
        .unwrap()
        .to_owned();
    let renamed = client
        .update_template_aoi(&id, &east, &TemplateAoiUpdate { name: Some("East side".into()), geometry: None })
        .await
        .unwrap();
    assert_eq!(renamed.properties.name.as_deref(), Some("East side"));
    let deleted = client.delete_template_aois(&id, &[east]).await.unwrap();
    assert_eq!(deleted.deleted_count, 1);

    // Images: a page, seen marks.
    let t = wait(&client, &id, "the searches end", |t| !t.template.is_searching()).await;
    let page = client.template_images(&id, &TemplateImagesQuery::page(2, 0)).await.unwrap();
    assert_eq!(page.results.len(), 2);
    assert!(page.total >= 2 && page.limit == 2 && page.offset == 0);
    assert!(page.results[0].metadata.footprint.is_some());
    let aoi = t.template.aois()[0].id().unwrap().to_owned();
    let query = TemplateImagesQuery { aoi_ids: Some(vec![aoi.clone()]), ..TemplateImagesQuery::page(500, 0) };
    let over = client.template_images(&id, &query).await.unwrap();
    assert!(over.results.iter().all(|r| r.aoi_ids.as_ref().unwrap().contains(&aoi)));
    client.pause_template(&id).await.unwrap();
    let before = client.template(&id).await.unwrap().template.new_images_count;
    client.mark_template_image_seen(&id, &page.results[0].id).await.unwrap();
    assert_eq!(client.template(&id).await.unwrap().template.new_images_count, before - 1);
    client.mark_all_template_images_seen(&id).await.unwrap();
    assert_eq!(client.template(&id).await.unwrap().template.new_images_count, 0);

    // Pause and resume.
    let paused = client.pause_template(&id).await.unwrap();
    assert_eq!(paused.template.status, TemplateStatus::Inactive);
    assert!(!paused.template.is_active);
    let resumed = client.resume_template(&id).await.unwrap();
    assert!(resumed.template.is_active);

    // A processing from a found image: under its AOI, and in the v1 list.
    let image = &page.results[0].metadata;
    let aoi_geometry = t.template.aois()[0].geometry.clone();
    let run = TemplateRun {
        name: "From the plan".into(),
        description: None,
        wd_name: Some(seed::BUILDINGS.into()),
        wd_id: None,
        geometry: aoi_geometry,
        params: ProcessingParams {
            source_params: SourceParams::ImagerySearch {
                data_provider: image.provider_name.clone().unwrap(),
                image_ids: vec![image.id.clone()],
                zoom: Some(18),
            },
            inference_params: None,
        },
        meta: Some(app_meta()),
        blocks: Vec::new(),
        update_template_geometry: false,
    };
    let processing = client.run_template(&id, &run).await.unwrap();
    assert_eq!(processing.project_id, project);
    let t = client.template(&id).await.unwrap();
    let under: Vec<_> = t.template.aois()[0].processings().iter().map(|p| p.processing_id.clone()).collect();
    assert_eq!(under, vec![processing.id.clone()]);
    let v1 = client.template_processings(&id).await.unwrap();
    assert_eq!(v1.len(), 1);
    assert_eq!(v1[0].flat_params().get("zoom").map(String::as_str), Some("18"));
    assert_eq!(v1[0].flat_params().get("data_provider"), image.provider_name.as_ref());

    client.delete_template(&id).await.unwrap();
    assert_eq!(client.template(&id).await.unwrap_err().status, Some(404));
    assert!(client.project_templates(&project).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_readonly_project_refuses_a_planned_search_and_the_area_limit_is_the_servers() {
    let (_sandbox, client) = setup();
    let projects = client.projects().await.unwrap();
    let readonly = projects.iter().find(|p| p.name == mapflow_sandbox::SHARED_READONLY_PROJECT).unwrap();
    let error = client.create_template(&create(&readonly.id)).await.unwrap_err();
    assert_eq!(error.status, Some(403), "{error:?}");
    assert_eq!(error.code(), Some("FORBIDDEN"));

    let project = client.default_project().await.unwrap().id;
    let mut big = create(&project);
    big.search_params.aoi_details = Some(AoiDetails::from_aois([(polygon(76.0, 43.0, 0.6), None)]));
    let error = client.create_template(&big).await.unwrap_err();
    assert_eq!(error.status, Some(400));
    assert!(error.body.as_deref().unwrap().contains("templateAreaLimit"), "{error:?}");
}
