//! The headless sandbox killed with `kill -9` while writers keep writing: every write it
//! answered is there after a restart, and nothing is left behind but the database and the
//! images it owns.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

use testkit::headless;

use mapflow_desktop::sandbox::{STORE_FILE, demo_token};
use serde_json::{Value, json};

const ROUNDS: usize = 20;
const WRITERS: usize = 8;

/// The headless sandbox over `dir`.
fn start(dir: &Path) -> (Child, String) {
    headless::start(std::path::Path::new(env!("CARGO_BIN_EXE_mapflow-desktop")), dir, "warn")
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(10)).build().unwrap()
}

fn auth() -> String {
    format!("Basic {}", demo_token().expose())
}

/// What writer `w` had answered before the server died: for each project it created, the
/// names it may have now (its new name once a rename was answered; either name while the
/// rename was unanswered, since it may or may not have been saved).
async fn writer(url: String, round: usize, w: usize) -> Vec<Vec<String>> {
    let http = client();
    let mut acknowledged = Vec::new();
    for n in 0.. {
        let name = format!("r{round}-w{w}-{n}");
        let created = http.post(format!("{url}/projects")).json(&json!({"name": name}));
        let Some(body) = answered(created).await else { break };
        acknowledged.push(vec![name.clone()]);
        if n % 3 == 0 {
            let id = body["id"].as_str().unwrap().to_owned();
            let renamed = format!("{name}-renamed");
            acknowledged.last_mut().unwrap().push(renamed.clone());
            let rename = http.put(format!("{url}/projects/{id}")).json(&json!({"name": renamed}));
            if answered(rename).await.is_none() {
                break;
            }
            *acknowledged.last_mut().unwrap() = vec![renamed];
        }
    }
    acknowledged
}

/// The body of a request the server answered with success; `None` once it is gone.
async fn answered(request: reqwest::RequestBuilder) -> Option<Value> {
    let response = request.header("authorization", auth()).send().await.ok()?;
    if !response.status().is_success() {
        return None;
    }
    response.json().await.ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_acknowledged_write_is_lost_to_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let mut acknowledged = Vec::new();
    let started = Instant::now();
    for round in 0..ROUNDS {
        let (mut child, url) = start(dir.path());
        let writers: Vec<_> = (0..WRITERS).map(|w| tokio::spawn(writer(url.clone(), round, w))).collect();
        // Kill at a different point of the writes each round.
        tokio::time::sleep(Duration::from_millis(60 + (round as u64 * 37) % 240)).await;
        child.kill().unwrap();
        child.wait().unwrap();
        for w in writers {
            acknowledged.extend(w.await.unwrap());
        }
    }
    assert!(acknowledged.len() > ROUNDS * WRITERS, "writers wrote: {}", acknowledged.len());

    let (mut child, url) = start(dir.path());
    let response = client().get(format!("{url}/projects")).header("authorization", auth()).send().await.unwrap();
    assert!(response.status().is_success());
    let projects: Vec<Value> = response.json().await.unwrap();
    let names: BTreeSet<String> = projects.iter().map(|p| p["name"].as_str().unwrap().to_owned()).collect();
    let lost: Vec<&Vec<String>> = acknowledged.iter().filter(|any| !any.iter().any(|n| names.contains(n))).collect();
    eprintln!(
        "{ROUNDS} kills under {WRITERS} writers: {} acknowledged writes, {} lost, {} projects, {:.1} s",
        acknowledged.len(),
        lost.len(),
        names.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(lost.is_empty(), "lost after kill -9: {lost:?}");

    // Nothing left behind: the database (with its journal while open) and the demo image.
    let mut stray: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with(STORE_FILE) && n != "rasters")
        .collect();
    stray.extend(
        std::fs::read_dir(dir.path().join("rasters"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with('.') || !n.ends_with(".tif")),
    );
    assert!(stray.is_empty(), "{stray:?}");
    // Storage as the Data API reports it is what the image files take on disk.
    let on_disk: u64 =
        std::fs::read_dir(dir.path().join("rasters")).unwrap().map(|e| e.unwrap().metadata().unwrap().len()).sum();
    let memory: Value = client()
        .get(format!("{url}/rasters/memory"))
        .header("authorization", auth())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(memory["memoryUsed"].as_u64(), Some(on_disk), "{memory}");
    child.kill().unwrap();
    child.wait().unwrap();
}
