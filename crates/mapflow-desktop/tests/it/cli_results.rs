//! `mapflow-desktop results save` against the sandbox over loopback: a finished result in
//! each format, a wrong token (401), an unknown processing (404) and one still running,
//! each failure with the API's message and a non-zero exit, and nothing written.

use std::path::Path;
use std::process::{Command, Output};
use testkit::sandbox_setup::StrictSandbox;

use mapflow_desktop::api::{Client, ClientConfig, Processing, ProcessingPageQuery, ProcessingStatus, Token};
use mapflow_desktop::sandbox::{Sandbox, SandboxConfig, seed};

/// The demo project's processings.
fn demo_runs(sandbox: &Sandbox) -> Vec<Processing> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let client = Client::new(ClientConfig::new(sandbox.base_url(), sandbox.token().clone())).unwrap();
        let projects = client.projects().await.unwrap();
        let demo = projects.iter().find(|p| p.name == seed::DEMO_PROJECT_NAME).unwrap();
        client.processings_page(&demo.id, &ProcessingPageQuery::default()).await.unwrap().results
    })
}

/// Runs `results save` with a private home (no saved sign-in).
fn save(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mapflow-desktop"))
        .args(["results", "save"])
        .args(args)
        .env("HOME", home)
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("RUST_LOG", "warn")
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .output()
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn results_save_writes_every_format_and_fails_plainly() {
    let sandbox = StrictSandbox::start(SandboxConfig::default());
    let server = sandbox.base_url();
    let token = sandbox.token().expose().to_owned();
    let runs = demo_runs(&sandbox);
    let done = runs.iter().find(|p| p.status == ProcessingStatus::Ok).unwrap();
    let running = runs.iter().find(|p| p.status == ProcessingStatus::InProgress).unwrap();
    let home = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();

    for ext in ["geojson", "gpkg", "fgb", "shp"] {
        let file = out.path().join(format!("result.{ext}"));
        let o = save(home.path(), &[&done.id.0, file.to_str().unwrap(), "--server", &server, "--token", &token]);
        assert!(o.status.success(), "{ext}: {}", stderr(&o));
        assert!(stderr(&o).contains("Saved"), "{ext}: {}", stderr(&o));
        let main = if ext == "shp" && !file.exists() {
            std::fs::read_dir(out.path())
                .unwrap()
                .map(|e| e.unwrap().path())
                .find(|p| p.extension().is_some_and(|e| e == "shp"))
                .unwrap()
        } else {
            file
        };
        assert!(std::fs::metadata(&main).unwrap().len() > 100, "{ext}");
        let gdal = Command::new("ogrinfo").arg("--version").output().is_ok_and(|o| o.status.success());
        assert!(
            gdal || std::env::var("MAPFLOW_REQUIRE_GDAL").is_err(),
            "MAPFLOW_REQUIRE_GDAL is set but ogrinfo cannot run"
        );
        if gdal {
            let info = Command::new("ogrinfo").args(["-al", "-so"]).arg(&main).output().unwrap();
            let info = String::from_utf8_lossy(&info.stdout);
            assert!(info.contains("Feature Count:") && !info.contains("Feature Count: 0"), "{ext}: {info}");
        }
    }
    // With no token and no saved sign-in, a sandbox's URL is reached with the demo token.
    let file = out.path().join("demo-token.gpkg");
    let o = save(home.path(), &[&done.id.0, file.to_str().unwrap(), "--server", &server]);
    assert!(o.status.success(), "{}", stderr(&o));

    let before: Vec<_> = std::fs::read_dir(out.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    let fails = |args: &[&str], needle: &str| {
        let o = save(home.path(), args);
        assert!(!o.status.success(), "{args:?} should fail");
        assert!(stderr(&o).contains(needle), "{args:?}: {}", stderr(&o));
    };
    let file = out.path().join("never.gpkg");
    let file = file.to_str().unwrap();
    let wrong = Token::from_parts("demo@sandbox.mapflow.local", "wrong-key");
    fails(&[&done.id.0, file, "--server", &server, "--token", wrong.expose()], "401");
    fails(&["00000000-0000-0000-0000-000000000000", file, "--server", &server, "--token", &token], "404");
    fails(&[&running.id.0, file, "--server", &server, "--token", &token], "has no result yet");
    fails(&[&done.id.0, "result.kml", "--server", &server, "--token", &token], ".gpkg");
    let after: Vec<_> = std::fs::read_dir(out.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(before, after, "a failure writes nothing");
}
