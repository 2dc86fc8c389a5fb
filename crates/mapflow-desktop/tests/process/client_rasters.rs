//! The Data API client (`/rasters`) against the sandbox over loopback: mosaics, streamed
//! uploads with progress and cancellation, the local pre-upload checks and the service's own
//! refusals of the same files, image rename/delete, previews and download links.

use testkit::sandbox_setup;
use testkit::test_geotiff;

use sandbox_setup::setup;

use mapflow_desktop::api::{
    Client, ErrorKind, ImageDownloadError, ImageId, Memory, Mosaic, MosaicId, RasterImage, UploadError,
};
use mapflow_desktop::app::messages::code_text;
use mapflow_desktop::imagery::check::{UploadProblem, check_upload};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use test_geotiff::write_test_geotiff;
use tokio_util::sync::CancellationToken;

/// A small georeferenced GeoTIFF in `dir`.
fn tiff(dir: &Path, name: &str, size: (u32, u32), bands: u16, epsg: u32, pixel: f64) -> PathBuf {
    let path = dir.join(name);
    let origin = if epsg == 4326 { [37.60, 55.75] } else { [410_000.0, 6_180_000.0] };
    write_test_geotiff(&path, size.0, size.1, bands, epsg, origin, [pixel, pixel], true).unwrap();
    path
}

/// A UTM zone 37N image, 3 bands, 0.5 m pixels: what the mosaics of these tests hold.
fn utm_tiff(dir: &Path, name: &str) -> PathBuf {
    tiff(dir, name, (320, 240), 3, 32637, 0.5)
}

fn tags(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// Uploads without progress or cancellation.
async fn upload(client: &Client, mosaic: &MosaicId, path: &Path) -> Result<(), UploadError> {
    client.upload_image(mosaic, path, |_| {}, CancellationToken::new()).await.map(|_| ())
}

/// A mosaic holding one UTM image.
async fn mosaic_with_image(client: &Client, dir: &Path) -> (Mosaic, RasterImage) {
    let mosaic = client.create_mosaic("Base", &[]).await.unwrap();
    upload(client, &mosaic.id, &utm_tiff(dir, "base.tif")).await.unwrap();
    let images = client.mosaic_images(&mosaic.id).await.unwrap();
    assert_eq!(images.len(), 1);
    (mosaic, images.into_iter().next().unwrap())
}

#[tokio::test]
async fn mosaics_create_list_update_delete() {
    let _state = crate::shared();
    let (sandbox, client) = setup();
    let before = client.mosaics(None).await.unwrap().len();
    let a = client.create_mosaic("  Survey 2024 ", &tags(&["spring", "farm"])).await.unwrap();
    assert!(!a.id.0.is_empty());
    assert_eq!(a.name, "Survey 2024");
    assert_eq!(a.tags, tags(&["spring", "farm"]));
    let b = client.create_mosaic("Городской центр", &tags(&["city"])).await.unwrap();

    let all = client.mosaics(None).await.unwrap();
    assert_eq!(all.len(), before + 2);
    let farm = client.mosaics(Some(&tags(&["farm"]))).await.unwrap();
    assert!(farm.iter().any(|m| m.id == a.id) && !farm.iter().any(|m| m.id == b.id), "{farm:?}");
    assert_eq!(client.mosaic(&b.id).await.unwrap().name, "Городской центр");

    let renamed = client.update_mosaic(&a.id, Some("Survey 2024 (final)"), None).await.unwrap();
    assert_eq!(renamed.name, "Survey 2024 (final)");
    assert_eq!(renamed.tags, tags(&["spring", "farm"]), "tags are kept when not given");
    let retagged = client.update_mosaic(&a.id, None, Some(&tags(&["summer"]))).await.unwrap();
    assert_eq!(retagged.name, "Survey 2024 (final)");
    assert_eq!(client.mosaic(&a.id).await.unwrap().tags, tags(&["summer"]));

    // Refused before any request.
    let err = client.create_mosaic("  ", &[]).await.unwrap_err();
    assert!(matches!(err.kind, ErrorKind::InvalidArgument(_)));
    let err = client.update_mosaic(&a.id, None, None).await.unwrap_err();
    assert!(matches!(err.kind, ErrorKind::InvalidArgument(_)));
    let err = client.mosaic(&MosaicId("../user".into())).await.unwrap_err();
    assert!(matches!(err.kind, ErrorKind::InvalidArgument(_)));

    client.delete_mosaic(&a.id).await.unwrap();
    let err = client.mosaic(&a.id).await.unwrap_err();
    assert_eq!(err.status, Some(404), "{err:?}");
    assert!(!client.mosaics(None).await.unwrap().iter().any(|m| m.id == a.id));
    client.delete_mosaic(&b.id).await.unwrap();
    assert!(sandbox.unexpected_requests().is_empty(), "{:?}", sandbox.unexpected_requests());
}

#[tokio::test]
async fn upload_lists_the_image_with_footprint_and_metadata() {
    let _state = crate::shared();
    let (_sandbox, client) = setup();
    let dir = tempfile::tempdir().unwrap();
    let memory_before = client.memory().await.unwrap();

    // EPSG:4326 into an existing mosaic, with progress.
    let path = tiff(dir.path(), "moscow.tif", (300, 200), 3, 4326, 0.0001);
    let size = std::fs::metadata(&path).unwrap().len();
    let mosaic = client.create_mosaic("Geographic", &[]).await.unwrap();
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&events);
    let answer = client
        .upload_image(&mosaic.id, &path, move |n| sink.lock().unwrap().push(n), CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(answer.mosaic_id, mosaic.id);
    let events = events.lock().unwrap().clone();
    assert!(!events.is_empty());
    assert!(events.windows(2).all(|w| w[0] < w[1]), "progress rises: {events:?}");
    assert_eq!(*events.last().unwrap(), size, "progress ends at the file size");

    let images = client.mosaic_images(&mosaic.id).await.unwrap();
    assert_eq!(images.len(), 1);
    let img = &images[0];
    assert_eq!(img.filename, "moscow.tif");
    assert_eq!(img.mosaic_id, mosaic.id);
    assert_eq!(img.file_size as u64, size);
    assert!(img.uploaded_at_utc().is_some(), "{:?}", img.uploaded_at);
    let footprint = img.footprint.as_deref().unwrap();
    let polygons = mapflow_desktop::geo::parse_wkt_polygons(footprint).unwrap();
    assert_eq!(polygons.len(), 1, "{footprint}");
    let m = &img.meta_data;
    assert_eq!(m.epsg(), Some(4326));
    assert_eq!((m.width, m.height, m.count), (300, 200, 3));
    assert_eq!(m.dtypes.len(), 3);
    let px = m.pixel_size_xy().unwrap();
    assert!((px[0] - 0.0001).abs() < 1e-9 && (px[1] - 0.0001).abs() < 1e-9, "{px:?}");
    assert_eq!(&client.raster_image(&img.id).await.unwrap(), img);

    // A UTM zone, creating the mosaic in the same request.
    let utm = utm_tiff(dir.path(), "utm.tif");
    let answer = client
        .create_mosaic_and_upload("Quick survey", &tags(&["utm"]), &utm, |_| {}, CancellationToken::new())
        .await
        .unwrap();
    let created = client.mosaic(&answer.mosaic_id).await.unwrap();
    assert_eq!(created.name, "Quick survey");
    assert_eq!(created.tags, tags(&["utm"]));
    let images = client.mosaic_images(&answer.mosaic_id).await.unwrap();
    assert_eq!(images.len(), 1);
    let m = &images[0].meta_data;
    assert_eq!(m.crs.as_deref(), Some("EPSG:32637"));
    assert_eq!((m.width, m.height, m.count), (320, 240, 3));
    assert_eq!(m.pixel_size_xy(), Some([0.5, 0.5]));
    // The footprint is in lon/lat even for a UTM image: zone 37N, near 55.7° N.
    let ring = &mapflow_desktop::geo::parse_wkt_polygons(images[0].footprint.as_deref().unwrap()).unwrap()[0];
    assert!(ring.exterior().0.iter().all(|c| (35.0..41.0).contains(&c.x) && (55.0..56.5).contains(&c.y)), "{ring:?}");

    let memory_after = client.memory().await.unwrap();
    assert!(memory_after.memory_used > memory_before.memory_used, "{memory_before:?} → {memory_after:?}");
}

#[tokio::test]
async fn cancelled_upload_leaves_nothing_behind() {
    let _state = crate::shared();
    let (_sandbox, client) = setup();
    let dir = tempfile::tempdir().unwrap();
    // About 6 MB, so the body is still being sent when the first chunk is counted.
    let path = tiff(dir.path(), "large.tif", (1500, 1400), 3, 32637, 0.5);
    assert!(std::fs::metadata(&path).unwrap().len() > 4_000_000);
    let mosaic = client.create_mosaic("Cancelled", &[]).await.unwrap();
    let used_before = client.memory().await.unwrap().memory_used;

    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&events);
    let result = client
        .upload_image(
            &mosaic.id,
            &path,
            move |n| {
                sink.lock().unwrap().push(n);
                trigger.cancel();
            },
            cancel,
        )
        .await;
    assert!(matches!(result, Err(UploadError::Cancelled)), "{result:?}");
    assert_eq!(events.lock().unwrap().len(), 1, "no chunk is read after the cancellation");

    // Give the server a moment to see the connection drop.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(client.mosaic_images(&mosaic.id).await.unwrap().is_empty());
    assert_eq!(client.memory().await.unwrap().memory_used, used_before);

    // Cancelled before the start: nothing is sent at all.
    let cancel = CancellationToken::new();
    cancel.cancel();
    let result = client.upload_image(&mosaic.id, &path, |_| panic!("no progress"), cancel).await;
    assert!(matches!(result, Err(UploadError::Cancelled)));

    // The same file goes through when not cancelled.
    upload(&client, &mosaic.id, &path).await.unwrap();
    assert_eq!(client.mosaic_images(&mosaic.id).await.unwrap().len(), 1);
}

#[tokio::test]
async fn missing_file_is_refused_locally() {
    let _state = crate::shared();
    let (sandbox, client) = setup();
    let mosaic = client.create_mosaic("Nothing", &[]).await.unwrap();
    let err = upload(&client, &mosaic.id, Path::new("/nonexistent/dir/file.tif")).await.unwrap_err();
    match err {
        UploadError::Api(e) => match e.kind {
            ErrorKind::InvalidArgument(m) => assert!(m.contains("file.tif"), "{m}"),
            other => panic!("{other:?}"),
        },
        UploadError::Cancelled => panic!("not cancelled"),
    }
    assert_eq!(sandbox.hits("POST", &format!("/rest/rasters/mosaic/{}/image", mosaic.id)), 0);
}

/// The files the checks refuse, by what is wrong with them.
struct BadFiles {
    other_crs: PathBuf,
    other_bands: PathBuf,
    other_pixel: PathBuf,
    png: PathBuf,
    empty: PathBuf,
    no_georef: PathBuf,
}

fn bad_files(dir: &Path) -> BadFiles {
    let png = dir.join("picture.tif");
    let img = image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([x as u8, y as u8, 100]));
    let mut bytes = std::io::Cursor::new(Vec::new());
    img.write_to(&mut bytes, image::ImageFormat::Png).unwrap();
    std::fs::write(&png, bytes.into_inner()).unwrap();
    let empty = dir.join("empty.tif");
    std::fs::write(&empty, b"").unwrap();
    let no_georef = dir.join("plain.tif");
    write_test_geotiff(&no_georef, 320, 240, 3, 32637, [410_000.0, 6_180_000.0], [0.5, 0.5], false).unwrap();
    BadFiles {
        other_crs: tiff(dir, "geographic.tif", (320, 240), 3, 4326, 0.00001),
        other_bands: tiff(dir, "four_bands.tif", (320, 240), 4, 32637, 0.5),
        other_pixel: tiff(dir, "coarse.tif", (320, 240), 3, 32637, 1.0),
        png,
        empty,
        no_georef,
    }
}

#[tokio::test]
async fn check_upload_refuses_what_the_mosaic_or_the_format_does_not_allow() {
    let _state = crate::exclusive();
    let (_sandbox, client) = setup();
    let dir = tempfile::tempdir().unwrap();
    let (_mosaic, existing) = mosaic_with_image(&client, dir.path()).await;
    let memory = client.memory().await.unwrap();
    let existing = [existing];
    let files = bad_files(dir.path());

    // A matching file passes and tells what it is.
    let good = utm_tiff(dir.path(), "good.tif");
    let info = check_upload(&good, &memory, &existing).unwrap();
    assert_eq!((info.width, info.height, info.bands, info.epsg), (320, 240, 3, Some(32637)));
    // Anything passes into a new, empty mosaic if it is a georeferenced GeoTIFF.
    check_upload(&files.other_crs, &memory, &[]).unwrap();

    let problem = |p: &Path| check_upload(p, &memory, &existing).unwrap_err();
    let named = |problem: &UploadProblem, file: &str, also: &[&str]| {
        let text = problem.message();
        assert_eq!(problem.file(), file);
        assert!(text.contains(file), "{text}");
        for a in also {
            assert!(text.contains(a), "{text} lacks {a}");
        }
        assert!(!text.contains("%{"), "{text}");
    };
    let p = problem(&files.other_crs);
    assert!(
        matches!(&p, UploadProblem::CrsMismatch { expected, got, .. } if expected == "EPSG:32637" && got == "EPSG:4326")
    );
    assert_eq!(p.parameter(), "crs");
    named(&p, "geographic.tif", &["EPSG:32637", "EPSG:4326"]);
    let p = problem(&files.other_bands);
    assert!(matches!(p, UploadProblem::BandsMismatch { expected: 3, got: 4, .. }), "{p:?}");
    named(&p, "four_bands.tif", &["3", "4"]);
    let p = problem(&files.other_pixel);
    assert!(matches!(p, UploadProblem::PixelSizeMismatch { .. }), "{p:?}");
    assert_eq!(p.parameter(), "pixel_size");
    named(&p, "coarse.tif", &["0.5 × 0.5", "1 × 1"]);
    let p = problem(&files.png);
    assert!(matches!(p, UploadProblem::NotTiff { .. }), "{p:?}");
    named(&p, "picture.tif", &["GeoTIFF"]);
    let p = problem(&files.empty);
    assert!(matches!(p, UploadProblem::Empty { .. }), "{p:?}");
    named(&p, "empty.tif", &[]);
    let p = problem(&files.no_georef);
    assert!(matches!(p, UploadProblem::NotGeoreferenced { .. }), "{p:?}");
    named(&p, "plain.tif", &[]);

    // The account's limits.
    let size = std::fs::metadata(&good).unwrap().len();
    let limited = |m: Memory| check_upload(&good, &m, &existing).unwrap_err();
    let p = limited(Memory { max_upload_file_size: Some(1000), ..memory.clone() });
    assert!(matches!(p, UploadProblem::TooBig { size: s, max: 1000, .. } if s == size), "{p:?}");
    named(&p, "good.tif", &[]);
    let p = limited(Memory { max_pixel_count: Some(300), ..memory.clone() });
    assert!(matches!(p, UploadProblem::TooManyPixels { width: 320, height: 240, max: 300, .. }), "{p:?}");
    named(&p, "good.tif", &["320", "300"]);
    let p = limited(Memory { memory_free: Some(10), ..memory.clone() });
    assert!(matches!(p, UploadProblem::NotEnoughStorage { free: 10, .. }), "{p:?}");
    named(&p, "good.tif", &[]);
    // No limits reported: the defaults (2 GiB, 30000 px) apply and this file is within them.
    let unlimited =
        Memory { memory_limit: None, memory_free: None, max_upload_file_size: None, max_pixel_count: None, ..memory };
    check_upload(&good, &unlimited, &existing).unwrap();

    // Translated. (The other tests' checks hold in either language, so switching the global
    // locale for a moment does not disturb them.)
    rust_i18n::set_locale("ru");
    let text = problem(&files.other_crs).message();
    assert!(text.contains("geographic.tif") && text.contains("мозаик"), "{text}");
    rust_i18n::set_locale("en");
}

#[test]
fn check_upload_compares_with_the_metadata_the_service_reports() {
    let _state = crate::shared();
    let dir = tempfile::tempdir().unwrap();
    let files = bad_files(dir.path());
    let good = utm_tiff(dir.path(), "good.tif");
    // As the service describes an image: CRS as "EPSG:…", pixel size [x, y] rounded.
    let existing = [RasterImage {
        meta_data: mapflow_desktop::api::RasterMeta {
            crs: Some("EPSG:32637".into()),
            count: 3,
            width: 100,
            height: 100,
            dtypes: vec!["uint8".into(); 3],
            nodata: None,
            pixel_size: vec![0.5000001, 0.4999999],
        },
        ..RasterImage::default()
    }];
    let memory = Memory::default();
    check_upload(&good, &memory, &existing).unwrap();
    let p = check_upload(&files.other_crs, &memory, &existing).unwrap_err();
    assert!(matches!(p, UploadProblem::CrsMismatch { .. }), "{p:?}");
    let p = check_upload(&files.other_bands, &memory, &existing).unwrap_err();
    assert!(matches!(p, UploadProblem::BandsMismatch { .. }), "{p:?}");
    let p = check_upload(&files.other_pixel, &memory, &existing).unwrap_err();
    assert!(matches!(p, UploadProblem::PixelSizeMismatch { .. }), "{p:?}");
    for (path, file) in [(&files.png, "picture.tif"), (&files.empty, "empty.tif"), (&files.no_georef, "plain.tif")] {
        let p = check_upload(path, &memory, &[]).unwrap_err();
        assert_eq!(p.file(), file);
        assert!(p.message().contains(file), "{}", p.message());
    }
    let p = check_upload(&dir.path().join("missing.tif"), &memory, &[]).unwrap_err();
    assert!(matches!(p, UploadProblem::Unreadable { .. }) && p.message().contains("missing.tif"), "{p:?}");
}

#[tokio::test]
async fn the_service_refuses_the_same_files_with_filled_in_codes() {
    let _state = crate::shared();
    let (_sandbox, client) = setup();
    let dir = tempfile::tempdir().unwrap();
    let (mosaic, _) = mosaic_with_image(&client, dir.path()).await;
    let files = bad_files(dir.path());

    let refused = |e: UploadError| match e {
        UploadError::Api(e) => e,
        UploadError::Cancelled => panic!("not cancelled"),
    };
    let text_of = |e: &mapflow_desktop::api::ApiError| {
        let (code, params, message) = match &e.kind {
            ErrorKind::Detail { code: Some(code), params, message } => (code.clone(), params.clone(), message.clone()),
            other => panic!("a Data-API error with a code, got {other:?} ({:?})", e.body),
        };
        let text = code_text(&code, &params, &message);
        assert!(!text.contains("%{"), "every parameter is filled: {text}");
        (code, params, text)
    };

    for (path, name, param) in [
        (&files.other_crs, "geographic.tif", "crs"),
        (&files.other_bands, "four_bands.tif", "count"),
        (&files.other_pixel, "coarse.tif", "pixel_size"),
    ] {
        let e = refused(upload(&client, &mosaic.id, path).await.unwrap_err());
        assert!(e.status.is_some_and(|s| (400..500).contains(&s)), "{e:?}");
        let (code, params, text) = text_of(&e);
        assert_eq!(code, "FileValidationFailed", "{e:?}");
        assert_eq!(params.get("param_name").map(String::as_str), Some(param), "{params:?}");
        assert_eq!(params.get("filename").map(String::as_str), Some(name), "{params:?}");
        assert_eq!(params.get("mosaic_id"), Some(&mosaic.id.0), "{params:?}");
        assert!(text.contains(name) && text.contains(&mosaic.id.0), "{text}");
    }

    for path in [&files.png, &files.empty, &files.no_georef] {
        let e = refused(upload(&client, &mosaic.id, path).await.unwrap_err());
        assert!(e.status.is_some_and(|s| (400..500).contains(&s)), "{e:?}");
        let (code, params, text) = text_of(&e);
        assert!(["FileOpenError", "FileCheckFailed"].contains(&code.as_str()), "{code}: {text}");
        if code == "FileCheckFailed" {
            let name = path.file_name().unwrap().to_str().unwrap();
            assert_eq!(params.get("filename").map(String::as_str), Some(name), "{params:?}");
            assert!(text.contains(name), "{text}");
        }
    }
    // Nothing refused was stored.
    assert_eq!(client.mosaic_images(&mosaic.id).await.unwrap().len(), 1);
}

#[tokio::test]
async fn rename_preview_download_and_delete_an_image() {
    let _state = crate::shared();
    let (_sandbox, client) = setup();
    let dir = tempfile::tempdir().unwrap();
    let (mosaic, image) = mosaic_with_image(&client, dir.path()).await;

    let renamed = client.rename_image(&image.id, "Ortho north.tif").await.unwrap();
    assert_eq!(renamed.id, image.id);
    assert_eq!(renamed.filename, "Ortho north.tif");
    assert_eq!(client.raster_image(&image.id).await.unwrap().filename, "Ortho north.tif");
    assert!(matches!(client.rename_image(&image.id, " ").await.unwrap_err().kind, ErrorKind::InvalidArgument(_)));

    for large in [false, true] {
        let bytes = client.image_preview(&image.id, large).await.unwrap();
        let picture = image::load_from_memory(&bytes).unwrap();
        assert!(picture.width() > 0 && picture.width() <= if large { 1024 } else { 256 });
    }

    let link = client.image_download(&image.id).await.unwrap();
    assert!(link.download_url.starts_with("http"), "{link:?}");
    assert!(!link.filename.is_empty(), "{link:?}");
    let missing = client.image_download(&ImageId("00000000-0000-0000-0000-000000000000".into())).await;
    assert!(matches!(missing, Err(ImageDownloadError::NoAccess(_))), "{missing:?}");

    client.delete_image(&image.id).await.unwrap();
    assert!(client.mosaic_images(&mosaic.id).await.unwrap().is_empty());
    let err = client.raster_image(&image.id).await.unwrap_err();
    assert_eq!(err.status, Some(404), "{err:?}");
}

#[tokio::test]
async fn deleting_a_mosaic_deletes_its_images() {
    let _state = crate::shared();
    let (_sandbox, client) = setup();
    let dir = tempfile::tempdir().unwrap();
    let (mosaic, image) = mosaic_with_image(&client, dir.path()).await;
    let used = client.memory().await.unwrap().memory_used;
    client.delete_mosaic(&mosaic.id).await.unwrap();
    assert_eq!(client.raster_image(&image.id).await.unwrap_err().status, Some(404));
    assert!(client.memory().await.unwrap().memory_used < used);
}
