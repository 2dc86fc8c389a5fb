//! The imagery catalog through the app's API client against the sandbox: every filter is
//! honoured by the server, sorting and paging are consistent, answers are deterministic,
//! oversized or invalid areas are refused, and previews (a second origin) are fetched
//! without the credentials while the API's own host gets them.

use testkit::sandbox_setup;

use sandbox_setup::setup;

use std::collections::HashSet;

use mapflow_api::{CatalogImage, CatalogPage, CatalogQuery, CatalogSortBy, Client, SortOrder};
use mapflow_geo::{Aoi, clip_to, parse_geojson};
use mapflow_sandbox::seed;
use serde_json::{Value, json};

/// A square of `side_km` km a side with its south-west corner at (lon, lat).
fn square(lon: f64, lat: f64, side_km: f64) -> Aoi {
    let dlat = side_km / 110.574;
    let dlon = side_km / (111.32 * lat.to_radians().cos());
    Aoi::from_bbox([lon, lat, lon + dlon, lat + dlat])
}

fn geometry(aoi: &Aoi) -> Value {
    serde_json::to_value(aoi.to_geometry()).unwrap()
}

fn query(aoi: &Aoi) -> CatalogQuery {
    CatalogQuery::new(geometry(aoi))
}

/// Every result of `q`, paging by 500.
async fn everything(client: &Client, q: &CatalogQuery) -> Vec<CatalogImage> {
    let mut q = q.clone();
    q.limit = 500;
    q.offset = 0;
    let mut out = Vec::new();
    loop {
        let page = client.catalog_search(&q).await.unwrap();
        let n = page.images.len() as i64;
        out.extend(page.images);
        if n == 0 || out.len() as i64 >= page.total {
            assert_eq!(out.len() as i64, page.total);
            return out;
        }
        q.offset += n;
    }
}

/// The share of `aoi` covered by an image's footprint, percent, computed here.
fn coverage(aoi: &Aoi, image: &CatalogImage) -> f64 {
    let footprint = parse_geojson(&image.footprint.as_ref().unwrap().to_string()).unwrap();
    100.0 * clip_to(aoi, &footprint.polygons).total_area_m2() / aoi.total_area_m2()
}

#[tokio::test]
async fn a_small_area_anywhere_finds_several_images() {
    let (sandbox, client) = setup();
    let places = [
        ("Moscow", 37.6, 55.75),
        ("Almaty", 76.9, 43.25),
        ("Nairobi", 36.82, -1.29),
        ("São Paulo", -46.63, -23.55),
        ("Sydney", 151.2, -33.87),
        ("Reykjavík", -21.9, 64.14),
        ("Tromsø", 18.95, 69.65),
        ("mid-Pacific", -150.0, 10.0),
    ];
    for (name, lon, lat) in places {
        let images = everything(&client, &query(&square(lon, lat, 5.0))).await;
        let sub_metre = images.iter().filter(|i| i.pixel_resolution.unwrap() < 1.0).count();
        let mosaics = images.iter().filter(|i| i.product_type.as_deref() == Some("Mosaic")).count();
        eprintln!("{name}: {} images, {sub_metre} sub-metre, {mosaics} mosaics", images.len());
        assert!(images.len() >= 8, "{name}: {}", images.len());
        assert!(sub_metre >= 3, "{name}: {sub_metre} sub-metre images");
    }
    // The reference's example area (Almaty) and a 10 km square over central Moscow.
    let reference = json!({"type": "Polygon", "coordinates": [[[76.6755, 43.2234], [76.6755, 43.4712],
        [77.0163, 43.4712], [77.0163, 43.2234], [76.6755, 43.2234]]]});
    let page = client.catalog_search(&CatalogQuery::new(reference)).await.unwrap();
    assert!(page.total >= 10, "{}", page.total);
    let moscow = client.catalog_search(&query(&square(37.55, 55.7, 10.0))).await.unwrap();
    assert!(moscow.total >= 10, "{}", moscow.total);
    assert!(sandbox.unexpected_requests().is_empty(), "{:?}", sandbox.unexpected_requests());
    assert!(sandbox.hits("POST", "/rest/catalog/meta") >= places.len());
}

#[tokio::test]
async fn every_image_returned_passes_every_filter() {
    let (_sandbox, client) = setup();
    let aoi = square(37.35, 55.6, 30.0);
    let unfiltered = everything(&client, &query(&aoi)).await;
    let mut q = query(&aoi);
    q.acquisition_date_from = Some("2023-06-01".into());
    q.acquisition_date_to = Some("2025-06-30T23:59:59Z".into());
    q.max_cloud_cover = Some(40.0);
    q.min_off_nadir_angle = Some(3.0);
    q.max_off_nadir_angle = Some(25.0);
    q.min_resolution = Some(0.3);
    q.max_resolution = Some(0.6);
    q.min_aoi_intersection_percent = Some(10.0);
    q.product_types = Some(vec!["image".into()]);
    q.data_providers = Some(vec![seed::LEGION.into()]);
    q.hide_unavailable = Some(true);
    let images = everything(&client, &q).await;
    eprintln!("{} of {} images pass every filter", images.len(), unfiltered.len());
    assert!(images.len() >= 3, "too few to mean anything: {}", images.len());
    assert!(images.len() < unfiltered.len());
    for img in &images {
        let date = img.acquisition_date.as_deref().unwrap();
        assert!(("2023-06-01".."2025-06-30T23:59:59Z").contains(&date), "{date}");
        assert!(img.cloud_cover.unwrap() <= 40.0);
        assert!((3.0..=25.0).contains(&img.off_nadir_angle.unwrap()));
        assert!((0.3..=0.6).contains(&img.pixel_resolution.unwrap()));
        assert_eq!(img.product_type.as_deref(), Some("Image"));
        assert_eq!(img.provider_name.as_deref(), Some(seed::LEGION));
        let reported = img.aoi_intersection_percent.unwrap();
        assert!(reported >= 10.0, "{reported}");
        let measured = coverage(&aoi, img);
        assert!((measured - reported).abs() < 0.1, "{}: reported {reported}, measured {measured}", img.id);
        assert_eq!(img.zoom, Some(18));
        assert_eq!(img.preview_type.as_deref(), Some("png"));
        assert_eq!(img.footprint.as_ref().unwrap()["type"], "Polygon");
    }

    // Each filter alone drops some images, and only those that fail it.
    type Set = fn(&mut CatalogQuery);
    type Check = fn(&CatalogImage) -> bool;
    let single: [(&str, Set, Check); 8] = [
        (
            "from",
            |q| q.acquisition_date_from = Some("2025-01-01T00:00:00Z".into()),
            |i| i.acquisition_date.as_deref().unwrap() >= "2025-01-01",
        ),
        (
            "to",
            |q| q.acquisition_date_to = Some("2024-12-31".into()),
            |i| i.acquisition_date.as_deref().unwrap() < "2025-01-01",
        ),
        ("cloud", |q| q.max_cloud_cover = Some(10.0), |i| i.cloud_cover.unwrap() <= 10.0),
        ("min off-nadir", |q| q.min_off_nadir_angle = Some(5.0), |i| i.off_nadir_angle.unwrap() >= 5.0),
        ("max off-nadir", |q| q.max_off_nadir_angle = Some(15.0), |i| i.off_nadir_angle.unwrap() <= 15.0),
        ("min resolution", |q| q.min_resolution = Some(1.0), |i| i.pixel_resolution.unwrap() >= 1.0),
        ("max resolution", |q| q.max_resolution = Some(0.5), |i| i.pixel_resolution.unwrap() <= 0.5),
        (
            "intersection",
            |q| q.min_aoi_intersection_percent = Some(50.0),
            |i| i.aoi_intersection_percent.unwrap() >= 50.0,
        ),
    ];
    for (name, set, check) in single {
        let mut q = query(&aoi);
        set(&mut q);
        let images = everything(&client, &q).await;
        let expected: Vec<&str> = unfiltered.iter().filter(|i| check(i)).map(|i| i.id.as_str()).collect();
        let got: Vec<&str> = images.iter().map(|i| i.id.as_str()).collect();
        assert!(!got.is_empty() && got.len() < unfiltered.len(), "{name}: {} of {}", got.len(), unfiltered.len());
        assert_eq!(got, expected, "{name}");
    }

    // Mosaics only, any case: tiled previews.
    let mut q = query(&aoi);
    q.product_types = Some(vec!["Mosaic".into()]);
    let mosaics = everything(&client, &q).await;
    assert!(!mosaics.is_empty());
    for m in &mosaics {
        assert_eq!(m.product_type.as_deref(), Some("Mosaic"));
        assert_eq!(m.preview_type.as_deref(), Some("xyz"));
        assert!(m.preview_url.as_deref().unwrap().ends_with("/{z}/{x}/{y}.png"), "{:?}", m.preview_url);
    }

    // One provider.
    let mut q = query(&aoi);
    q.data_providers = Some(vec![seed::SENTINEL_2.into()]);
    let sentinel = everything(&client, &q).await;
    assert!(!sentinel.is_empty());
    assert!(sentinel.iter().all(|i| i.provider_name.as_deref() == Some(seed::SENTINEL_2)
        && i.pixel_resolution == Some(10.0)
        && i.zoom == Some(14)));

    // Hiding the unavailable hides some, and only drops images.
    let mut q = query(&square(37.3, 55.5, 45.0));
    let all: HashSet<String> = everything(&client, &q).await.into_iter().map(|i| i.id).collect();
    q.hide_unavailable = Some(true);
    let available: HashSet<String> = everything(&client, &q).await.into_iter().map(|i| i.id).collect();
    assert!(available.len() < all.len(), "{} of {}", available.len(), all.len());
    assert!(available.is_subset(&all));
}

#[tokio::test]
async fn every_key_is_in_the_answer() {
    let (sandbox, _client) = setup();
    let body = json!({"aoi": geometry(&square(2.3, 48.8, 5.0))});
    let response = reqwest::Client::new()
        .post(format!("{}/catalog/meta", sandbox.base_url()))
        .header("Authorization", format!("Basic {}", sandbox.token().expose()))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let page: Value = response.json().await.unwrap();
    assert_eq!(page["limit"], 100, "the default page size");
    assert_eq!(page["offset"], 0);
    let keys = [
        "id",
        "footprint",
        "pixelResolution",
        "acquisitionDate",
        "productType",
        "sensor",
        "satId",
        "colorBandOrder",
        "cloudCover",
        "offNadirAngle",
        "previewType",
        "previewUrl",
        "providerName",
        "zoom",
        "minAreaSqkm",
        "aoiIntersectionPercent",
    ];
    let images = page["images"].as_array().unwrap();
    assert!(!images.is_empty());
    for img in images {
        for key in keys {
            assert!(img.get(key).is_some(), "{key} missing in {img}");
        }
    }
    // Without a token, no search.
    let refused =
        reqwest::Client::new().post(format!("{}/catalog/meta", sandbox.base_url())).json(&body).send().await.unwrap();
    assert_eq!(refused.status(), 401);
}

#[tokio::test]
async fn sorting_orders_the_results() {
    let (_sandbox, client) = setup();
    let aoi = square(-0.2, 51.45, 15.0);
    let fields = [
        (CatalogSortBy::CloudCover, SortOrder::Asc),
        (CatalogSortBy::AcquisitionDate, SortOrder::Desc),
        (CatalogSortBy::AcquisitionDate, SortOrder::Asc),
        (CatalogSortBy::OffNadirAngle, SortOrder::Desc),
        (CatalogSortBy::PixelResolution, SortOrder::Asc),
        (CatalogSortBy::Zoom, SortOrder::Desc),
        (CatalogSortBy::ProviderName, SortOrder::Asc),
        (CatalogSortBy::SatId, SortOrder::Asc),
    ];
    for (by, order) in fields {
        let mut q = query(&aoi);
        q.sort_by = Some(by);
        q.sort_order = Some(order);
        let images = everything(&client, &q).await;
        assert!(images.len() > 20, "{}", images.len());
        let key = |i: &CatalogImage| -> (f64, String) {
            match by {
                CatalogSortBy::CloudCover => (i.cloud_cover.unwrap(), String::new()),
                CatalogSortBy::OffNadirAngle => (i.off_nadir_angle.unwrap(), String::new()),
                CatalogSortBy::PixelResolution => (i.pixel_resolution.unwrap(), String::new()),
                CatalogSortBy::Zoom => (i.zoom.unwrap() as f64, String::new()),
                CatalogSortBy::AcquisitionDate => (0.0, i.acquisition_date.clone().unwrap()),
                CatalogSortBy::ProviderName => (0.0, i.provider_name.clone().unwrap()),
                CatalogSortBy::SatId => (0.0, i.sat_id.clone().unwrap()),
            }
        };
        for pair in images.windows(2) {
            let (a, b) = (key(&pair[0]), key(&pair[1]));
            let ordering = a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1));
            let ordering = if order == SortOrder::Desc { ordering.reverse() } else { ordering };
            assert!(ordering.is_le(), "{by:?} {order:?}: {a:?} before {b:?}");
            if ordering.is_eq() {
                assert!(pair[0].id < pair[1].id, "ties by id: {} before {}", pair[0].id, pair[1].id);
            }
        }
        let distinct: HashSet<(u64, String)> = images.iter().map(|i| (key(i).0.to_bits(), key(i).1)).collect();
        assert!(distinct.len() > 1, "{by:?}: every value alike, the order says nothing");
    }
}

#[tokio::test]
async fn pages_join_into_the_whole_answer() {
    let (_sandbox, client) = setup();
    let mut q = query(&square(139.65, 35.6, 12.0));
    q.sort_by = Some(CatalogSortBy::CloudCover);
    q.sort_order = Some(SortOrder::Asc);
    q.limit = 500;
    let whole = client.catalog_search(&q).await.unwrap();
    assert!(whole.total > 20 && whole.total <= 500, "{}", whole.total);
    assert_eq!(whole.images.len() as i64, whole.total);

    q.limit = 7;
    let mut joined: Vec<CatalogImage> = Vec::new();
    let mut pages = 0;
    while (joined.len() as i64) < whole.total {
        q.offset = joined.len() as i64;
        let page: CatalogPage = client.catalog_search(&q).await.unwrap();
        assert_eq!(page.total, whole.total);
        assert_eq!((page.limit, page.offset), (7, q.offset));
        assert!(!page.images.is_empty() && page.images.len() <= 7);
        joined.extend(page.images);
        pages += 1;
    }
    assert_eq!(pages, (whole.total + 6) / 7);
    assert_eq!(joined, whole.images);
    let ids: HashSet<&str> = joined.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids.len(), joined.len(), "no image twice");

    q.offset = whole.total + 3;
    let past = client.catalog_search(&q).await.unwrap();
    assert!(past.images.is_empty());
    assert_eq!(past.total, whole.total);

    q.offset = 0;
    q.limit = 10_000;
    assert_eq!(client.catalog_search(&q).await.unwrap().limit, 500, "pages are cut to 500");
}

#[tokio::test]
async fn the_same_search_gives_the_same_answer_on_every_run() {
    let (_sandbox, client) = setup();
    let mut q = query(&square(-74.05, 40.68, 8.0));
    q.max_cloud_cover = Some(60.0);
    let first = client.catalog_search(&q).await.unwrap();
    assert_eq!(first, client.catalog_search(&q).await.unwrap());

    // Another sandbox (another run): the same images, only the previews' port differs.
    let (other_sandbox, other) = setup();
    let second = other.catalog_search(&q).await.unwrap();
    let strip = |page: &CatalogPage| -> Vec<CatalogImage> {
        page.images.iter().map(|i| CatalogImage { preview_url: None, ..i.clone() }).collect()
    };
    assert_eq!(strip(&first), strip(&second));
    assert_eq!(first.total, second.total);
    assert!(
        second.images.iter().all(|i| i.preview_url.as_deref().unwrap().starts_with(&other_sandbox.preview_base_url()))
    );
}

#[tokio::test]
async fn oversized_and_invalid_areas_are_refused() {
    let (_sandbox, client) = setup();
    let big = square(10.0, 50.0, 60.0);
    let err = client.catalog_search(&query(&big)).await.unwrap_err();
    assert_eq!(err.code(), Some("BAD_REQUEST"), "{err:?}");
    let params = err.params().unwrap();
    assert_eq!(params.get("searchAreaLimit").map(String::as_str), Some("2500000000"));
    let area: f64 = params.get("area").unwrap().parse().unwrap();
    assert!((area - big.total_area_m2()).abs() < 1e4, "{area}");

    let bow_tie =
        json!({"type": "Polygon", "coordinates": [[[0.0, 0.0], [0.1, 0.1], [0.1, 0.0], [0.0, 0.1], [0.0, 0.0]]]});
    let err = client.catalog_search(&CatalogQuery::new(bow_tie)).await.unwrap_err();
    assert_eq!(err.code(), Some("geometry.Invalid"), "{err:?}");
    let point = json!({"type": "Point", "coordinates": [0.0, 0.0]});
    let err = client.catalog_search(&CatalogQuery::new(point)).await.unwrap_err();
    assert_eq!(err.code(), Some("geometry.Invalid"), "{err:?}");

    let mut q = query(&square(10.0, 50.0, 5.0));
    q.product_types = Some(vec!["PHOTO".into()]);
    assert_eq!(client.catalog_search(&q).await.unwrap_err().code(), Some("BAD_REQUEST"));
    let mut q = query(&square(10.0, 50.0, 5.0));
    q.acquisition_date_from = Some("last Tuesday".into());
    assert_eq!(client.catalog_search(&q).await.unwrap_err().code(), Some("BAD_REQUEST"));
}

#[tokio::test]
async fn previews_come_from_another_origin_without_credentials() {
    let (sandbox, client) = setup();
    let images = everything(&client, &query(&square(30.3, 59.9, 5.0))).await;
    let picture = images.iter().find(|i| i.preview_type.as_deref() == Some("png")).unwrap();
    let url = picture.preview_url.clone().unwrap();
    assert!(url.starts_with(&sandbox.preview_base_url()), "{url}");
    assert!(!client.is_own_host(&url));

    let png = client.fetch_preview(&url).await.unwrap();
    let decoded = image::load_from_memory(&png).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (256, 256));

    // A mosaic's tiles, both row conventions, where its footprint is.
    let mosaic = images.iter().find(|i| i.preview_type.as_deref() == Some("xyz")).unwrap();
    let ring = mosaic.footprint.as_ref().unwrap()["coordinates"][0].as_array().unwrap().clone();
    let (lon, lat) = (ring[0][0].as_f64().unwrap() + 0.5, ring[0][1].as_f64().unwrap() + 0.5);
    let z = 10u32;
    let n = f64::from(1u32 << z);
    let x = ((lon + 180.0) / 360.0 * n) as u32;
    let y = ((1.0 - lat.to_radians().tan().asinh() / std::f64::consts::PI) / 2.0 * n) as u32;
    let template = mosaic.preview_url.clone().unwrap();
    let tile_url =
        template.replace("{z}", &z.to_string()).replace("{x}", &x.to_string()).replace("{y}", &y.to_string());
    let tile = image::load_from_memory(&client.fetch_preview(&tile_url).await.unwrap()).unwrap().to_rgba8();
    assert_eq!(tile.dimensions(), (256, 256));
    assert!(tile.pixels().all(|p| p[3] == 255), "a tile inside the mosaic is opaque");
    let tms_url = format!("{}/tms/{}/{z}/{x}/{}.png", sandbox.preview_base_url(), mosaic.id, (1u32 << z) - 1 - y);
    let flipped = image::load_from_memory(&client.fetch_preview(&tms_url).await.unwrap()).unwrap().to_rgba8();
    assert_eq!(flipped, tile, "a {{-y}} row names the same tile");

    let missing = client.fetch_preview(&format!("{}/preview/legion-1-2-999.png", sandbox.preview_base_url())).await;
    assert!(missing.is_err());

    let requests = sandbox.preview_requests();
    assert_eq!(requests.len(), 4, "{requests:?}");
    assert!(requests.iter().all(|(_, had_auth)| !had_auth), "credentials sent to a foreign host: {requests:?}");
    assert!(requests.iter().any(|(path, _)| url.ends_with(path.as_str())));

    // The API's own host gets the credentials: a provider tile, and an address that
    // answers only with them (and refuses a bare request).
    let own_tile = format!("{}/sandbox/tiles/Mapbox/3/4/2.png", sandbox.base_url());
    assert!(client.is_own_host(&own_tile));
    image::load_from_memory(&client.fetch_preview(&own_tile).await.unwrap()).unwrap();
    assert_eq!(sandbox.hits("GET", "/rest/sandbox/tiles/Mapbox/3/4/2.png"), 1);
    let guarded = format!("{}/user/status", sandbox.base_url());
    let status: Value = serde_json::from_slice(&client.fetch_preview(&guarded).await.unwrap()).unwrap();
    assert_eq!(status["email"], sandbox.token().email());
    assert_eq!(reqwest::get(&guarded).await.unwrap().status(), 401);
    assert_eq!(sandbox.preview_requests().len(), 4, "own-host fetches never reach the preview origin");
}

#[tokio::test]
async fn an_empty_provider_list_is_left_out() {
    let (sandbox, client) = setup();
    let aoi = square(-43.25, -22.95, 5.0);
    let all = client.catalog_search(&query(&aoi)).await.unwrap();
    let mut q = query(&aoi);
    q.data_providers = Some(Vec::new());
    let page = client.catalog_search(&q).await.unwrap();
    assert!(page.total > 0);
    assert_eq!(page, all);

    // Sent as is, an empty list means "no provider" to the server.
    let response = reqwest::Client::new()
        .post(format!("{}/catalog/meta", sandbox.base_url()))
        .header("Authorization", format!("Basic {}", sandbox.token().expose()))
        .json(&json!({"aoi": geometry(&aoi), "limit": 10, "offset": 0, "dataProviders": []}))
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["total"], 0, "{body}");
}
