//! The History pane against the sandbox: its totals are the sandbox's own sums (asked
//! directly over HTTP, not through the client's types), a status filter asks the server
//! again, a date range narrows what is shown, and the CSV export is the server's CSV.

use crate::support;
use testkit::sandbox_setup::StrictSandbox;

use egui_kittest::kittest::Queryable;
use mapflow_desktop::app::layout::Pane;
use mapflow_desktop::sandbox::{Sandbox, SandboxConfig};
use mapflow_desktop::worker::Command;
use serde_json::{Value, json};
use support::{app, app_mut, wait_for};

/// `POST /processings/stats` as JSON, read as plain JSON.
fn stats(sandbox: &Sandbox, filter: Option<&str>) -> Vec<Value> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let mut body = json!({"page": 1, "perPage": 1000});
        if let Some(f) = filter {
            body["filter"] = json!(f);
        }
        let r = reqwest::Client::new()
            .post(format!("{}/processings/stats?type=JSON", sandbox.base_url()))
            .header("authorization", format!("Basic {}", sandbox.token().expose()))
            .json(&body)
            .send()
            .await
            .unwrap();
        let v: Value = r.json().await.unwrap();
        v["results"].as_array().unwrap().clone()
    })
}

#[test]
fn the_history_adds_up_to_the_servers_numbers() {
    let sandbox = StrictSandbox::start(SandboxConfig::default());
    let mut h = support::harness();
    support::sign_in_to(&mut h, &sandbox.base_url(), sandbox.token().expose());
    app_mut(&mut h).ui.show_pane(Pane::History);
    wait_for(&mut h, "the history", |h| app(h).state.history.rows.value().is_some());
    h.run_steps(2);

    let all = stats(&sandbox, None);
    assert!(all.len() >= 4, "the demo's runs: {}", all.len());
    let credits: i64 = all.iter().map(|r| r["cost"].as_i64().unwrap()).sum();
    let km2: f64 = all.iter().map(|r| r["area"].as_f64().unwrap() / 1e6).sum();
    let text = format!("{} processings · {km2:.2} km² · {credits} credits", all.len());
    h.get_by_label(&text);

    // A status filter goes to the server.
    let ok = stats(&sandbox, Some("status=OK"));
    assert!(!ok.is_empty() && ok.len() < all.len());
    h.get_by_label("Status").click();
    h.run_steps(2);
    h.get_by_label("Finished").click();
    wait_for(&mut h, "the OK runs", |h| {
        app(h).state.history.rows.value().is_some_and(|r| r.len() == ok.len())
            && !app(h).state.history.rows.is_pending()
    });
    h.run_steps(2);
    h.get_by_label_contains(&format!("{} processings", ok.len()));

    // A date range after every run shows none.
    h.get_by_label("From").focus();
    h.run_steps(1);
    h.get_by_label("From").type_text("2999-01-01");
    h.run_steps(2);
    h.get_by_label("0 processings · 0.00 km² · 0 credits");
    h.get_by_label("No processings in these dates.");
    h.get_by_label("From").focus();
    h.run_steps(1);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.get_by_label("From").type_text("01.01.2020");
    h.run_steps(2);
    h.get_by_label("Dates are written YYYY-MM-DD");

    // The export is the server's CSV: a header and one line per run.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.csv");
    app_mut(&mut h).state.follow_up.push(Command::SaveHistory { filter: None, path: Some(path.clone()) });
    wait_for(&mut h, "the CSV", |h| app(h).state.notices.iter().any(|n| n.text.contains("history.csv")));
    let csv = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("id,name,projectId"), "{}", lines[0]);
    assert_eq!(lines.len(), all.len() + 1, "{csv}");
}
