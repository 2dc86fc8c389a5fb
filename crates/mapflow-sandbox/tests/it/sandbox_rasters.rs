//! The sandbox's Data API (`/rasters`) over real HTTP: mosaics, multipart uploads and their
//! refusals, footprints, storage accounting, previews, download links, mosaic tiles drawn
//! from the uploaded imagery, deletion of files and persistence across a restart.

use sandbox_setup::StrictSandbox;
use testkit::sandbox_setup;
use testkit::test_geotiff;

use std::path::{Path, PathBuf};
use test_geotiff::write_test_geotiff;

use mapflow_geo::parse_wkt_polygons;
use mapflow_sandbox::{RasterLimits, Sandbox, SandboxConfig};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn start() -> StrictSandbox {
    StrictSandbox::start(SandboxConfig { record_requests: true, ..SandboxConfig::default() })
}

fn start_in(dir: &Path) -> StrictSandbox {
    StrictSandbox::start(SandboxConfig {
        data_dir: Some(dir.to_owned()),
        record_requests: true,
        ..SandboxConfig::default()
    })
}

/// A request to `path` (relative to the base URL) with the sandbox's token.
fn req(sb: &Sandbox, method: Method, path: &str) -> reqwest::RequestBuilder {
    reqwest::Client::new()
        .request(method, format!("{}{path}", sb.base_url()))
        .header("Authorization", format!("Basic {}", sb.token().expose()))
}

async fn answer(r: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let r = r.send().await.unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    let value = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() };
    (status, value)
}

async fn get_json(sb: &Sandbox, path: &str) -> (StatusCode, Value) {
    answer(req(sb, Method::GET, path)).await
}

async fn send_json(sb: &Sandbox, method: Method, path: &str, body: Value) -> (StatusCode, Value) {
    answer(req(sb, method, path).json(&body)).await
}

async fn create_mosaic(sb: &Sandbox, name: &str) -> String {
    let (status, body) = send_json(sb, Method::POST, "/rasters/mosaic", json!({"name": name, "tags": ["t"]})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["id"].as_str().unwrap().to_owned()
}

/// Uploads `file` as the multipart field `file` named `filename` to `path`.
async fn upload_to(sb: &Sandbox, path: &str, file: &Path, filename: &str) -> (StatusCode, Value) {
    let part = reqwest::multipart::Part::bytes(std::fs::read(file).unwrap()).file_name(filename.to_owned());
    let form = reqwest::multipart::Form::new().part("file", part);
    answer(req(sb, Method::POST, path).multipart(form)).await
}

async fn upload(sb: &Sandbox, mosaic: &str, file: &Path) -> (StatusCode, Value) {
    let name = file.file_name().unwrap().to_string_lossy().into_owned();
    upload_to(sb, &format!("/rasters/mosaic/{mosaic}/image"), file, &name).await
}

async fn upload_ok(sb: &Sandbox, mosaic: &str, file: &Path) {
    let (status, body) = upload(sb, mosaic, file).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["mosaic_id"], mosaic, "{body}");
    assert!(body["message"].is_string(), "{body}");
}

async fn images(sb: &Sandbox, mosaic: &str) -> Vec<Value> {
    let (status, body) = get_json(sb, &format!("/rasters/mosaic/{mosaic}/image")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body.as_array().unwrap().clone()
}

/// The bytes a fresh sandbox stores: the image of its demo mosaic, which is listed with
/// its size like any upload.
async fn seeded_bytes(sb: &Sandbox) -> u64 {
    let (_, mosaics) = get_json(sb, "/rasters/mosaic").await;
    let demo =
        mosaics.as_array().unwrap().iter().find(|m| m["name"] == "Demo mosaic").expect("the demo mosaic").clone();
    let images = images(sb, demo["id"].as_str().unwrap()).await;
    assert_eq!(images.len(), 1);
    let size = images[0]["file_size"].as_u64().unwrap();
    assert_eq!(demo["sizeInBytes"].as_u64(), Some(size));
    size
}

/// A 3-band UTM 37N test image, 0.5 m pixels.
fn utm_file(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    write_test_geotiff(&path, 400, 300, 3, 32637, [410_000.0, 6_180_000.0], [0.5, 0.5], true).unwrap();
    path
}

/// Asserts a Data-API error `{"detail": {"code", "parameters"}}`; returns the parameters.
fn assert_data_error(status: StatusCode, body: &Value, want_status: StatusCode, code: &str) -> Value {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(body["detail"]["code"], code, "{body}");
    assert!(body["detail"]["parameters"].is_object(), "{body}");
    body["detail"]["parameters"].clone()
}

/// Asserts that `obj` has every key in `keys` (a `null` value counts as present).
fn assert_keys(obj: &Value, keys: &[&str]) {
    let map = obj.as_object().unwrap_or_else(|| panic!("not an object: {obj}"));
    for key in keys {
        assert!(map.contains_key(*key), "lacks the key `{key}`: {obj}");
    }
}

/// The footprint's vertices, from its WKT.
fn vertices(wkt: &str) -> Vec<(f64, f64)> {
    let polygons = parse_wkt_polygons(wkt).unwrap();
    polygons.iter().flat_map(|p| p.exterior().0.iter().map(|c| (c.x, c.y))).collect()
}

/// Asserts that every expected corner is a vertex of the footprint, within 1e-6°.
fn assert_corners(wkt: &str, corners: &[(f64, f64)]) {
    let vs = vertices(wkt);
    for &(lon, lat) in corners {
        let best = vs.iter().map(|&(x, y)| (x - lon).abs().max((y - lat).abs())).fold(f64::INFINITY, f64::min);
        assert!(best < 1e-6, "corner ({lon}, {lat}) is {best}° from the footprint {wkt}");
    }
}

/// UTM zone 37N → lon/lat degrees, with proj4rs, independently of the sandbox.
fn utm37_to_lonlat(x: f64, y: f64) -> (f64, f64) {
    let utm = proj4rs::Proj::from_proj_string("+proj=utm +zone=37 +datum=WGS84 +units=m +no_defs").unwrap();
    let ll = proj4rs::Proj::from_proj_string("+proj=longlat +datum=WGS84 +no_defs").unwrap();
    let mut p = (x, y, 0.0);
    proj4rs::transform::transform(&utm, &ll, &mut p).unwrap();
    (p.0.to_degrees(), p.1.to_degrees())
}

/// The XYZ tile containing (lon, lat) at zoom `z`.
fn tile_of(lon: f64, lat: f64, z: u8) -> (u32, u32) {
    let n = f64::from(1u32 << z);
    let x = (lon + 180.0) / 360.0 * n;
    let lat = lat.to_radians();
    let y = (1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0 * n;
    (x as u32, y as u32)
}

async fn fetch_png(url: &str) -> (StatusCode, Option<image::RgbaImage>) {
    let r = reqwest::get(url).await.unwrap();
    let status = r.status();
    let bytes = r.bytes().await.unwrap();
    (status, image::load_from_memory_with_format(&bytes, image::ImageFormat::Png).ok().map(|i| i.to_rgba8()))
}

#[tokio::test]
async fn footprints_match_the_corners_in_4326_and_utm() {
    let sb = start();
    let dir = tempfile::tempdir().unwrap();

    let geographic = dir.path().join("geographic.tif");
    write_test_geotiff(&geographic, 300, 200, 3, 4326, [37.5, 55.8], [0.00001, 0.00001], true).unwrap();
    let m1 = create_mosaic(&sb, "Geographic").await;
    upload_ok(&sb, &m1, &geographic).await;
    let list = images(&sb, &m1).await;
    assert_eq!(list.len(), 1);
    let image = &list[0];
    assert_keys(
        image,
        &[
            "id",
            "mosaic_id",
            "filename",
            "file_size",
            "uploaded_at",
            "footprint",
            "checksum",
            "image_url",
            "cog_link",
            "preview_url_s",
            "preview_url_l",
            "available_for_download",
            "meta_data",
        ],
    );
    assert_keys(&image["meta_data"], &["crs", "count", "width", "height", "dtypes", "nodata", "pixel_size"]);
    let wkt = image["footprint"].as_str().unwrap();
    assert!(wkt.starts_with("MULTIPOLYGON"), "{wkt}");
    assert_corners(wkt, &[(37.5, 55.8), (37.503, 55.8), (37.503, 55.798), (37.5, 55.798)]);
    assert_eq!(image["meta_data"]["crs"], "EPSG:4326");

    let utm = utm_file(dir.path(), "utm.tif");
    let m2 = create_mosaic(&sb, "UTM").await;
    upload_ok(&sb, &m2, &utm).await;
    let image = images(&sb, &m2).await.remove(0);
    let (x0, y0, x1, y1) = (410_000.0, 6_180_000.0, 410_000.0 + 400.0 * 0.5, 6_180_000.0 - 300.0 * 0.5);
    let corners: Vec<(f64, f64)> =
        [(x0, y0), (x1, y0), (x1, y1), (x0, y1)].into_iter().map(|(x, y)| utm37_to_lonlat(x, y)).collect();
    assert_corners(image["footprint"].as_str().unwrap(), &corners);

    let meta = &image["meta_data"];
    assert_eq!(meta["crs"], "EPSG:32637");
    assert_eq!(
        (meta["count"].as_i64(), meta["width"].as_i64(), meta["height"].as_i64()),
        (Some(3), Some(400), Some(300))
    );
    assert_eq!(meta["dtypes"], json!(["uint8", "uint8", "uint8"]));
    assert_eq!(meta["nodata"], Value::Null);
    assert_eq!(meta["pixel_size"], json!([0.5, 0.5]));
    assert_eq!(image["filename"], "utm.tif");
    assert_eq!(image["file_size"].as_u64(), Some(std::fs::metadata(&utm).unwrap().len()));
    assert_eq!(image["available_for_download"], true);
    let checksum = image["checksum"].as_str().unwrap();
    assert!(checksum.len() == 32 && checksum.chars().all(|c| c.is_ascii_hexdigit()), "{checksum}");
    // No time zone, microseconds: 2023-01-26T13:58:32.122099.
    let uploaded = image["uploaded_at"].as_str().unwrap();
    assert!(chrono::NaiveDateTime::parse_from_str(uploaded, "%Y-%m-%dT%H:%M:%S%.6f").is_ok(), "{uploaded}");
    assert_eq!(uploaded.len(), 26, "{uploaded}");
    let id = image["id"].as_str().unwrap();
    assert_eq!(image["preview_url_s"], format!("{}/rasters/image/{id}/preview/s", sb.base_url()));
    assert_eq!(image["preview_url_l"], format!("{}/rasters/image/{id}/preview/l", sb.base_url()));

    // The same file again: the same checksum; the mosaic's footprint is the union.
    upload_ok(&sb, &m2, &utm).await;
    let list = images(&sb, &m2).await;
    assert_eq!(list[0]["checksum"], list[1]["checksum"]);
    let (status, mosaic) = get_json(&sb, &format!("/rasters/mosaic/{m2}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_keys(&mosaic, &["id", "name", "tags", "created_at", "footprint", "sizeInBytes", "rasterLayer"]);
    assert_corners(mosaic["footprint"].as_str().unwrap(), &corners);
    assert_eq!(mosaic["sizeInBytes"].as_u64(), Some(2 * std::fs::metadata(&utm).unwrap().len()));
    let created = mosaic["created_at"].as_str().unwrap();
    assert!(chrono::NaiveDateTime::parse_from_str(created, "%Y-%m-%dT%H:%M:%S%.6f").is_ok(), "{created}");
}

#[tokio::test]
async fn another_crs_band_count_or_pixel_size_is_refused() {
    let sb = start();
    let dir = tempfile::tempdir().unwrap();
    let mosaic = create_mosaic(&sb, "Survey").await;
    upload_ok(&sb, &mosaic, &utm_file(dir.path(), "first.tif")).await;
    let (_, before) = get_json(&sb, "/rasters/memory").await;

    let cases = [
        ("crs.tif", 3, 4326, [37.5, 55.8], [0.00001, 0.00001], "crs", "EPSG:32637", "EPSG:4326"),
        ("count.tif", 4, 32637, [410_000.0, 6_180_000.0], [0.5, 0.5], "count", "3", "4"),
        ("pixel.tif", 3, 32637, [410_000.0, 6_180_000.0], [1.0, 1.0], "pixel_size", "[0.5, 0.5]", "[1, 1]"),
    ];
    for (name, bands, epsg, origin, pixel, param, expected, got) in cases {
        let path = dir.path().join(name);
        write_test_geotiff(&path, 100, 100, bands, epsg, origin, pixel, true).unwrap();
        let (status, body) = upload(&sb, &mosaic, &path).await;
        let params = assert_data_error(status, &body, StatusCode::BAD_REQUEST, "FileValidationFailed");
        assert_eq!(params["param_name"], param, "{body}");
        assert_eq!(params["expected_param"], expected, "{body}");
        assert_eq!(params["got_param"], got, "{body}");
        assert_eq!(params["filename"], name, "{body}");
        assert_eq!(params["mosaic_id"], mosaic.as_str(), "{body}");
    }
    assert_eq!(images(&sb, &mosaic).await.len(), 1);
    let (_, after) = get_json(&sb, "/rasters/memory").await;
    assert_eq!(before, after);
}

#[tokio::test]
async fn unusable_files_are_refused_with_their_codes() {
    let dir = tempfile::tempdir().unwrap();
    let sb = start_in(dir.path());
    let mosaic = create_mosaic(&sb, "Refusals").await;

    // A PNG renamed .tif.
    let png = dir.path().join("picture.tif");
    image::RgbImage::from_pixel(8, 8, image::Rgb([1, 2, 3])).save_with_format(&png, image::ImageFormat::Png).unwrap();
    let (status, body) = upload(&sb, &mosaic, &png).await;
    assert_data_error(status, &body, StatusCode::BAD_REQUEST, "FileOpenError");

    let empty = dir.path().join("empty.tif");
    std::fs::write(&empty, b"").unwrap();
    let (status, body) = upload(&sb, &mosaic, &empty).await;
    assert_data_error(status, &body, StatusCode::BAD_REQUEST, "FileOpenError");

    let plain = dir.path().join("plain.tif");
    write_test_geotiff(&plain, 50, 50, 3, 4326, [0.0, 0.0], [1.0, 1.0], false).unwrap();
    let (status, body) = upload(&sb, &mosaic, &plain).await;
    let params = assert_data_error(status, &body, StatusCode::BAD_REQUEST, "FileCheckFailed");
    assert_eq!(params["filename"], "plain.tif");
    assert!(params["bad_parameters"].as_str().unwrap().contains("crs"), "{body}");

    // Outside the valid coordinate range.
    let outside = dir.path().join("outside.tif");
    write_test_geotiff(&outside, 50, 50, 3, 4326, [179.99, 10.0], [0.001, 0.001], true).unwrap();
    let (status, body) = upload(&sb, &mosaic, &outside).await;
    assert_data_error(status, &body, StatusCode::BAD_REQUEST, "ImageOutOfBounds");

    // The limits, made small.
    let good = utm_file(dir.path(), "good.tif");
    let size = std::fs::metadata(&good).unwrap().len();
    sb.set_raster_limits(RasterLimits { max_upload_file_size: Some(size - 1), ..RasterLimits::default() });
    let (status, body) = upload(&sb, &mosaic, &good).await;
    let params = assert_data_error(status, &body, StatusCode::BAD_REQUEST, "FileTooBig");
    assert_eq!(params["actual_file_size"], size.to_string());
    assert_eq!(params["max_file_size"], (size - 1).to_string());
    sb.set_raster_limits(RasterLimits { max_pixel_count: Some(350), ..RasterLimits::default() });
    let (status, body) = upload(&sb, &mosaic, &good).await;
    let params = assert_data_error(status, &body, StatusCode::BAD_REQUEST, "FileCheckFailed");
    assert_eq!(params["bad_parameters"], "width", "{body}");
    let seeded = seeded_bytes(&sb).await;
    sb.set_raster_limits(RasterLimits { memory_limit: Some(seeded + size + 10), ..RasterLimits::default() });
    upload_ok(&sb, &mosaic, &good).await;
    let (status, body) = upload(&sb, &mosaic, &good).await;
    let params = assert_data_error(status, &body, StatusCode::BAD_REQUEST, "MemoryLimitExceeded");
    assert_eq!(params["available_memory"], "10");
    assert_eq!(params["memory_requested"], size.to_string());
    sb.set_raster_limits(RasterLimits::default());

    // No `file` field; an unknown mosaic.
    let form = reqwest::multipart::Form::new().text("other", "x");
    let (status, body) =
        answer(req(&sb, Method::POST, &format!("/rasters/mosaic/{mosaic}/image")).multipart(form)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["detail"].is_string(), "{body}");
    let (status, body) = upload(&sb, "no-such-mosaic", &good).await;
    let params = assert_data_error(status, &body, StatusCode::NOT_FOUND, "ItemNotFound");
    assert_eq!(params, json!({"instance_type": "mosaic", "uid": "no-such-mosaic"}));

    // Only the accepted file is kept (beside the demo mosaic's); no leftovers of the
    // refused ones.
    assert_eq!(images(&sb, &mosaic).await.len(), 1);
    let kept: Vec<_> = std::fs::read_dir(dir.path().join("rasters")).unwrap().flatten().collect();
    assert_eq!(kept.len(), 2, "{kept:?}");
    assert!(kept.iter().all(|f| !f.file_name().to_string_lossy().starts_with('.')), "{kept:?}");
}

#[tokio::test]
async fn memory_follows_uploads_and_deletes() {
    let sb = start();
    let dir = tempfile::tempdir().unwrap();
    let (status, memory) = get_json(&sb, "/rasters/memory").await;
    assert_eq!(status, StatusCode::OK);
    let limit = 10u64 * 1024 * 1024 * 1024;
    let seeded = seeded_bytes(&sb).await;
    assert!(seeded > 512 * 512 * 3, "the demo image is 512 × 512 RGB: {seeded}");
    assert_eq!(
        memory,
        json!({
            "memoryLimit": limit,
            "memoryUsed": seeded,
            "memoryFree": limit - seeded,
            "maxUploadFileSize": 2u64 * 1024 * 1024 * 1024,
            "maxPixelCount": 30000,
        })
    );

    let file = utm_file(dir.path(), "a.tif");
    let size = std::fs::metadata(&file).unwrap().len();
    let m1 = create_mosaic(&sb, "One").await;
    let m2 = create_mosaic(&sb, "Two").await;
    upload_ok(&sb, &m1, &file).await;
    upload_ok(&sb, &m1, &file).await;
    upload_ok(&sb, &m2, &file).await;
    let (_, memory) = get_json(&sb, "/rasters/memory").await;
    assert_eq!(memory["memoryUsed"].as_u64(), Some(seeded + 3 * size));
    assert_eq!(memory["memoryFree"].as_u64(), Some(limit - seeded - 3 * size));

    let id = images(&sb, &m1).await[0]["id"].as_str().unwrap().to_owned();
    let (status, _) = answer(req(&sb, Method::DELETE, &format!("/rasters/image/{id}"))).await;
    assert_eq!(status, StatusCode::OK);
    let (_, memory) = get_json(&sb, "/rasters/memory").await;
    assert_eq!(memory["memoryUsed"].as_u64(), Some(seeded + 2 * size));
    let (status, _) = answer(req(&sb, Method::DELETE, &format!("/rasters/mosaic/{m1}"))).await;
    assert_eq!(status, StatusCode::OK);
    let (_, memory) = get_json(&sb, "/rasters/memory").await;
    assert_eq!(memory["memoryUsed"].as_u64(), Some(seeded + size));
    assert_eq!(memory["memoryFree"].as_u64(), Some(limit - seeded - size));
}

#[tokio::test]
async fn previews_tiles_and_downloads_come_from_the_uploaded_pixels() {
    let sb = start();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.tif");
    write_test_geotiff(&file, 1200, 600, 3, 32637, [410_000.0, 6_180_000.0], [0.5, 0.5], true).unwrap();
    let mosaic = create_mosaic(&sb, "Pixels").await;
    upload_ok(&sb, &mosaic, &file).await;
    let image = images(&sb, &mosaic).await.remove(0);
    let id = image["id"].as_str().unwrap().to_owned();

    for (url, side) in [(&image["preview_url_s"], 256), (&image["preview_url_l"], 1024)] {
        let url = url.as_str().unwrap();
        // On the API's own host: the credentials are needed.
        assert_eq!(reqwest::get(url).await.unwrap().status(), StatusCode::UNAUTHORIZED);
        let r = req(&sb, Method::GET, url.strip_prefix(&sb.base_url()).unwrap()).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["content-type"], "image/png");
        let png = image::load_from_memory_with_format(&r.bytes().await.unwrap(), image::ImageFormat::Png).unwrap();
        assert_eq!((png.width(), png.height()), (side, side / 2));
        // The test pattern: red ramps left to right.
        let png = png.to_rgba8();
        assert!(png.get_pixel(0, 0)[0] < 10 && png.get_pixel(side - 1, 0)[0] > 245);
    }
    let (status, body) = get_json(&sb, &format!("/rasters/image/{id}/preview/x")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    // Mosaic tiles: public, drawn over the image, transparent elsewhere.
    let (_, mosaic_json) = get_json(&sb, &format!("/rasters/mosaic/{mosaic}")).await;
    let template = mosaic_json["rasterLayer"]["tileUrl"].as_str().unwrap();
    assert_eq!(template, format!("{}/sandbox/mosaic-tiles/{mosaic}/{{z}}/{{x}}/{{y}}.png", sb.base_url()));
    let (lon, lat) = utm37_to_lonlat(410_300.0, 6_179_850.0);
    let z = 17;
    let (x, y) = tile_of(lon, lat, z);
    let url = |z: u8, x: u32, y: u32| {
        template.replace("{z}", &z.to_string()).replace("{x}", &x.to_string()).replace("{y}", &y.to_string())
    };
    let (status, tile) = fetch_png(&url(z, x, y)).await;
    assert_eq!(status, StatusCode::OK);
    let tile = tile.unwrap();
    assert_eq!((tile.width(), tile.height()), (256, 256));
    let opaque = tile.pixels().filter(|p| p[3] == 255).count();
    assert!(opaque > 256 * 256 / 2, "only {opaque} opaque pixels in the tile over the image");
    let distinct: std::collections::HashSet<[u8; 4]> = tile.pixels().map(|p| p.0).collect();
    assert!(distinct.len() > 10, "the tile is flat: {distinct:?}");
    let (status, far) = fetch_png(&url(z, x + 50, y)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(far.unwrap().pixels().all(|p| p[3] == 0));
    let (_, tile_json) =
        answer(reqwest::Client::new().get(mosaic_json["rasterLayer"]["tileJsonUrl"].as_str().unwrap())).await;
    let b = &tile_json["bounds"];
    assert!(b[0].as_f64().unwrap() < lon && lon < b[2].as_f64().unwrap(), "{tile_json}");
    assert!(b[1].as_f64().unwrap() < lat && lat < b[3].as_f64().unwrap(), "{tile_json}");

    // Rename, then a download link that works without credentials.
    let (status, renamed) =
        answer(req(&sb, Method::PUT, &format!("/rasters/image/{id}?name=renamed%20scene.tif"))).await;
    assert_eq!(status, StatusCode::OK, "{renamed}");
    assert_eq!(renamed["filename"], "renamed scene.tif");
    let (status, link) = get_json(&sb, &format!("/rasters/image/{id}/download")).await;
    assert_eq!(status, StatusCode::OK, "{link}");
    assert_eq!(link["filename"], "renamed scene.tif");
    assert_eq!(link["expires_in"], 3600);
    let r = reqwest::get(link["download_url"].as_str().unwrap()).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.bytes().await.unwrap().as_ref(), std::fs::read(&file).unwrap().as_slice());
    let (status, body) = get_json(&sb, "/rasters/image/nope/download").await;
    let params = assert_data_error(status, &body, StatusCode::NOT_FOUND, "ItemNotFound");
    assert_eq!(params, json!({"instance_type": "image", "uid": "nope"}));
}

#[tokio::test]
async fn mosaics_crud_and_create_with_upload() {
    let sb = start();
    let dir = tempfile::tempdir().unwrap();
    let (status, body) = send_json(&sb, Method::POST, "/rasters/mosaic", json!({"tags": ["x"]})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    let (status, created) =
        send_json(&sb, Method::POST, "/rasters/mosaic", json!({"name": " Field ", "tags": ["a"]})).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    assert_eq!(created["name"], "Field");
    assert_eq!(created["footprint"], Value::Null);
    assert_eq!(created["sizeInBytes"], 0);
    let id = created["id"].as_str().unwrap();
    let (status, updated) =
        send_json(&sb, Method::PUT, &format!("/rasters/mosaic/{id}"), json!({"tags": ["b", "c"]})).await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!((updated["name"].clone(), updated["tags"].clone()), (json!("Field"), json!(["b", "c"])));

    // One call: a mosaic named by the query, with the file in it.
    let file = utm_file(dir.path(), "quick.tif");
    let (status, body) = upload_to(&sb, "/rasters/mosaic/image?name=Quick&tags=a&tags=q", &file, "quick.tif").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let quick = body["mosaic_id"].as_str().unwrap().to_owned();
    let (_, mosaic) = get_json(&sb, &format!("/rasters/mosaic/{quick}")).await;
    assert_eq!((mosaic["name"].clone(), mosaic["tags"].clone()), (json!("Quick"), json!(["a", "q"])));
    assert_eq!(images(&sb, &quick).await.len(), 1);
    // A refused file creates no mosaic.
    let empty = dir.path().join("empty.tif");
    std::fs::write(&empty, b"").unwrap();
    let (status, body) = upload_to(&sb, "/rasters/mosaic/image?name=Broken", &empty, "empty.tif").await;
    assert_data_error(status, &body, StatusCode::BAD_REQUEST, "FileOpenError");

    let names = |list: &Value| -> Vec<String> {
        list.as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap().to_owned()).collect()
    };
    let (_, all) = get_json(&sb, "/rasters/mosaic").await;
    assert_eq!(names(&all), ["Demo mosaic", "Field", "Quick"], "oldest first, the seeded one too");
    let (_, tagged) = get_json(&sb, "/rasters/mosaic?tags=c,q").await;
    assert_eq!(names(&tagged), ["Field", "Quick"]);
    let (_, tagged) = get_json(&sb, "/rasters/mosaic?tags=q").await;
    assert_eq!(names(&tagged), ["Quick"]);

    let (status, body) = answer(req(&sb, Method::DELETE, &format!("/rasters/mosaic/{id}"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = get_json(&sb, &format!("/rasters/mosaic/{id}")).await;
    assert_data_error(status, &body, StatusCode::NOT_FOUND, "ItemNotFound");
    // Without the token: 401.
    assert_eq!(
        reqwest::get(format!("{}/rasters/mosaic", sb.base_url())).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    assert!(sb.unexpected_requests().is_empty(), "{:?}", sb.unexpected_requests());
}

#[tokio::test]
async fn deletes_remove_files_and_state_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    let a = utm_file(files.path(), "a.tif");
    let rasters = dir.path().join("rasters");
    let count_files = || std::fs::read_dir(&rasters).unwrap().count();

    let (keep, drop_mosaic, image_id, seeded) = {
        let sb = start_in(dir.path());
        // The demo mosaic's image is a file like the uploads.
        let seeded = seeded_bytes(&sb).await;
        assert_eq!(count_files(), 1);
        let keep = create_mosaic(&sb, "Keep").await;
        let gone = create_mosaic(&sb, "Gone").await;
        upload_ok(&sb, &keep, &a).await;
        upload_ok(&sb, &keep, &a).await;
        upload_ok(&sb, &gone, &a).await;
        upload_ok(&sb, &gone, &a).await;
        assert_eq!(count_files(), 5);

        let first = images(&sb, &keep).await[0]["id"].as_str().unwrap().to_owned();
        let (status, _) = answer(req(&sb, Method::DELETE, &format!("/rasters/image/{first}"))).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(count_files(), 4);
        let (status, body) = get_json(&sb, &format!("/rasters/image/{first}")).await;
        let params = assert_data_error(status, &body, StatusCode::NOT_FOUND, "ItemNotFound");
        assert_eq!(params["instance_type"], "image");
        let (status, _) = answer(req(&sb, Method::DELETE, &format!("/rasters/mosaic/{gone}"))).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(count_files(), 2);
        let id = images(&sb, &keep).await[0]["id"].as_str().unwrap().to_owned();
        (keep, gone, id, seeded)
    };

    let sb = start_in(dir.path());
    let (status, list) = get_json(&sb, "/rasters/mosaic").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list.as_array().unwrap().len(), 2, "the demo mosaic and the kept one");
    assert_eq!(list[1]["id"], keep.as_str());
    let (status, _) = get_json(&sb, &format!("/rasters/mosaic/{drop_mosaic}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, image) = get_json(&sb, &format!("/rasters/image/{image_id}")).await;
    assert_eq!(status, StatusCode::OK, "{image}");
    assert_eq!(image["meta_data"]["crs"], "EPSG:32637");
    let (_, memory) = get_json(&sb, "/rasters/memory").await;
    assert_eq!(memory["memoryUsed"].as_u64(), Some(seeded + std::fs::metadata(&a).unwrap().len()));
    // The file is still there and its pixels still draw.
    let r = req(&sb, Method::GET, &format!("/rasters/image/{image_id}/preview/s")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(image::load_from_memory(&r.bytes().await.unwrap()).is_ok());
}

/// Peak resident memory of this process, KiB: `VmHWM` of `/proc/self/status`. On Linux it
/// must be readable (a test that cannot measure fails); elsewhere there is nothing to read and
/// `None` says so.
fn peak_rss_kib() -> Option<u64> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status is readable on Linux");
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).expect("/proc/self/status has VmHWM");
    Some(line.split_whitespace().nth(1).and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("unreadable {line:?}")))
}

/// A large upload is streamed to disk: the process's peak memory barely grows. Slow in a
/// debug build (hashing), hence ignored; `MAPFLOW_BIG_UPLOAD_MIB` sets the size (default 1024).
#[tokio::test]
#[ignore = "writes and uploads a large file"]
async fn large_upload_is_streamed() {
    let mib: u64 = std::env::var("MAPFLOW_BIG_UPLOAD_MIB").ok().and_then(|v| v.parse().ok()).unwrap_or(1024);
    let sb = start();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.tif");
    // 3 bands of uint8: width × height × 3 ≈ the wanted size.
    let side = ((mib * 1024 * 1024 / 3) as f64).sqrt() as u32;
    write_test_geotiff(&path, side, side, 3, 32637, [410_000.0, 6_180_000.0], [0.5, 0.5], true).unwrap();
    let len = std::fs::metadata(&path).unwrap().len();
    let mosaic = create_mosaic(&sb, "Big").await;
    let Some(before) = peak_rss_kib() else {
        eprintln!(
            "SKIPPED large_upload_is_streamed: peak memory is measured on Linux only (VmHWM); nothing was checked"
        );
        return;
    };
    let file = tokio::fs::File::open(&path).await.unwrap();
    let body = reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::with_capacity(file, 256 * 1024));
    let part = reqwest::multipart::Part::stream_with_length(body, len).file_name("big.tif");
    let form = reqwest::multipart::Form::new().part("file", part);
    let started = std::time::Instant::now();
    let (status, body) =
        answer(req(&sb, Method::POST, &format!("/rasters/mosaic/{mosaic}/image")).multipart(form)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let grown = peak_rss_kib().unwrap().saturating_sub(before);
    eprintln!("uploaded {len} bytes in {:?}; peak memory grew by {grown} KiB", started.elapsed());
    assert!(grown < 64 * 1024, "peak memory grew by {grown} KiB for a {len}-byte upload");
    let image = images(&sb, &mosaic).await.remove(0);
    assert_eq!(image["file_size"].as_u64(), Some(len));
    assert_eq!(image["meta_data"]["width"].as_u64(), Some(u64::from(side)));
}

#[tokio::test]
async fn a_processing_on_uploaded_images_shows_their_pixels() {
    let sb = StrictSandbox::start(SandboxConfig { processing_seconds: 1.0, ..SandboxConfig::default() });
    let dir = tempfile::tempdir().unwrap();
    let mosaic = create_mosaic(&sb, "Field").await;
    upload_ok(&sb, &mosaic, &utm_file(dir.path(), "field.tif")).await;
    let image = images(&sb, &mosaic).await[0]["id"].as_str().unwrap().to_owned();
    let (_, project) = get_json(&sb, "/projects/default").await;
    // An AOI around the image (200 × 150 m from 410000 E, 6180000 N).
    let (w, n) = utm37_to_lonlat(409_900.0, 6_180_100.0);
    let (e, s) = utm37_to_lonlat(410_300.0, 6_179_750.0);
    let geometry = json!({"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]});
    let (lon, lat) = utm37_to_lonlat(410_100.0, 6_179_925.0);
    let z = 18;
    let (x, y) = tile_of(lon, lat, z);
    let at = |template: &str| {
        template.replace("{z}", &z.to_string()).replace("{x}", &x.to_string()).replace("{y}", &y.to_string())
    };
    let (_, mosaic_json) = get_json(&sb, &format!("/rasters/mosaic/{mosaic}")).await;
    let (_, uploaded) = fetch_png(&at(mosaic_json["rasterLayer"]["tileUrl"].as_str().unwrap())).await;
    let uploaded = uploaded.unwrap();
    let (_, synthetic) = fetch_png(&at(&format!("{}/sandbox/tiles/Mapbox/{{z}}/{{x}}/{{y}}.png", sb.base_url()))).await;

    for source in [json!({"myImagery": {"imageIds": [image]}}), json!({"myImagery": {"mosaicId": mosaic}})] {
        let body = json!({
            "name": "On my imagery",
            "projectId": project["id"],
            "wdName": "Buildings",
            "geometry": geometry,
            "params": {"sourceParams": source},
        });
        let (status, created) = send_json(&sb, Method::POST, "/processings/v2", body).await;
        assert_eq!(status, StatusCode::OK, "{created}");
        let id = created["id"].as_str().unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let done = loop {
            let (_, p) = get_json(&sb, &format!("/processings/{id}/v2")).await;
            if p["status"] == "OK" {
                break p;
            }
            assert!(std::time::Instant::now() < deadline, "{p}");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        };
        let template = done["rasterLayer"]["tileUrl"].as_str().unwrap();
        let (status, tile) = fetch_png(&at(template)).await;
        assert_eq!(status, StatusCode::OK);
        let tile = tile.unwrap();
        assert_eq!(tile, uploaded, "the layer draws the uploaded pixels as the mosaic's tiles do");
        assert_ne!(Some(&tile), synthetic.as_ref(), "not the provider's synthetic imagery");
        // The test pattern: red rises from west to east across the image.
        let opaque: Vec<(u32, u8)> = tile.enumerate_pixels().filter(|p| p.2[3] == 255).map(|p| (p.0, p.2[0])).collect();
        assert!(opaque.len() > 256 * 256 / 4, "{} opaque pixels", opaque.len());
        let mean = |f: &dyn Fn(u32) -> bool| {
            let v: Vec<f64> = opaque.iter().filter(|p| f(p.0)).map(|p| f64::from(p.1)).collect();
            v.iter().sum::<f64>() / v.len().max(1) as f64
        };
        assert!(mean(&|px| px < 96) + 20.0 < mean(&|px| px > 160), "no west-east red ramp");
        // The TileJSON names the same tiles and the AOI's extent.
        let (_, tile_json) =
            answer(reqwest::Client::new().get(done["rasterLayer"]["tileJsonUrl"].as_str().unwrap())).await;
        assert_eq!(tile_json["tiles"][0], template);
        let bounds: Vec<f64> = tile_json["bounds"].as_array().unwrap().iter().map(|b| b.as_f64().unwrap()).collect();
        for (b, want) in bounds.iter().zip([w, s, e, n]) {
            assert!((b - want).abs() < 1e-9, "{bounds:?}");
        }
    }
}
