//! The review workflow and project roles through the UI: a read-only project greys Start with
//! the reason in view; the team account accepts a processing in review, and rejects one with
//! features picked in the attribute table, which reach the server.

use crate::support;
use testkit::sandbox_setup::StrictSandbox;

use egui_kittest::kittest::{NodeT, Queryable};
use mapflow_desktop::app::layout::Pane;
use mapflow_desktop::sandbox::{SHARED_READONLY_PROJECT, SandboxConfig};
use support::{app, app_mut, harness, open_project, sign_in_to, signed_in_to_sandbox, wait_for};

/// Whether every widget labelled `label` is greyed (and there is one).
fn disabled(h: &egui_kittest::Harness<'_, support::TestApp>, label: &str) -> bool {
    let nodes: Vec<_> = h.query_all_by_label(label).collect();
    assert!(!nodes.is_empty(), "no {label}");
    nodes.iter().all(|n| n.accesskit_node().is_disabled())
}

/// Selects the processing named `name` in the table.
fn select(h: &mut egui_kittest::Harness<'_, support::TestApp>, name: &str) {
    h.get_all_by_label(name).next().unwrap().click();
    let wanted = name.to_owned();
    wait_for(h, "the processing selected", |h| {
        let s = &app(h).state;
        s.selected_processing.as_ref().and_then(|id| s.processing(id)).is_some_and(|p| p.name == wanted)
    });
}

#[test]
fn a_readonly_project_greys_start_and_the_processing_actions_with_the_reason() {
    let mut h = harness();
    signed_in_to_sandbox(&mut h);
    open_project(&mut h, SHARED_READONLY_PROJECT);
    // A valid form: only the role stands in the way.
    app_mut(&mut h).state.settings.aoi.replace(mapflow_desktop::geo::Aoi::from_bbox([76.90, 43.20, 76.91, 43.21]));
    app_mut(&mut h).state.settings.form.name = "Not allowed here".into();
    h.run_steps(4);
    let reason = "Your role in this project is read-only: you cannot start processings here.";
    h.get_by_label(reason);
    assert!(disabled(&h, "Start processing…"), "Start is greyed");
    h.get_by_label("Your role: read-only");
    h.get_by_label_contains("demo@sandbox.mapflow.local — read-only");

    // A processing in review: Accept and Reject are there but greyed, and so are rename and delete.
    select(&mut h, "Buildings: Esentai");
    h.get_all_by_label_contains("Review required").next().unwrap();
    for label in ["Accept", "Reject…", "Rename…", "Delete…", "Move…"] {
        assert!(disabled(&h, label), "{label} is greyed");
    }
    // An owner's project (the user's own): Start is not refused for a role.
    open_project(&mut h, "Default project");
    h.run_steps(3);
    assert!(h.query_by_label(reason).is_none());
}

#[test]
fn the_reviewer_accepts_one_and_rejects_another_with_features_picked_in_the_table() {
    let sandbox = StrictSandbox::start(SandboxConfig { record_requests: true, ..SandboxConfig::default() });
    let mut h = harness();
    sign_in_to(&mut h, &sandbox.base_url(), sandbox.team_token().expose());
    assert!(app(&h).state.status.value().unwrap().review_workflow_enabled);
    open_project(&mut h, SHARED_READONLY_PROJECT);
    h.get_by_label("Your role: owner");

    // Accept: the one whose deadline is more than a day away.
    select(&mut h, "Buildings: Esentai");
    let accepted = app(&h).state.selected_processing.clone().unwrap();
    assert!(!disabled(&h, "Accept"));
    h.get_all_by_label("Accept").next().unwrap().click();
    wait_for(&mut h, "the acceptance", |h| {
        app(h).state.processing(&accepted).is_some_and(|p| p.review_state() == Some("ACCEPTED"))
    });
    h.get_by_label_contains("are accepted");
    assert_eq!(sandbox.review_decision(&accepted.0).unwrap().0, "ACCEPTED");

    // Reject the other: its result on the map, two features picked in the attribute table.
    select(&mut h, "Buildings: airport district");
    let rejected = app(&h).state.selected_processing.clone().unwrap();
    h.get_all_by_label("Show on map").next().unwrap().click();
    wait_for(&mut h, "the result layer", |h| app(h).state.results.get(&rejected).and_then(|v| v.layer()).is_some());
    let total = app(&h).state.results[&rejected].layer().unwrap().feature_count();
    app_mut(&mut h).ui.show_pane(Pane::Attributes);
    wait_for(&mut h, "the table", |h| app(h).ui.attributes.rows().is_some_and(|r| r.len() == total));
    let rows = app(&h).ui.attributes.rows().unwrap().to_vec();
    let cell = |h: &egui_kittest::Harness<'_, support::TestApp>, text: String| {
        h.query_all(
            egui_kittest::kittest::by()
                .include_labels()
                .role(egui::accesskit::Role::Label)
                .predicate(move |n| n.value().as_deref() == Some(text.as_str())),
        )
        .next()
        .unwrap()
        .click_modifiers(egui::Modifiers::COMMAND);
    };
    cell(&h, rows[0].to_string());
    h.run_steps(2);
    cell(&h, rows[1].to_string());
    h.run_steps(2);
    let picked: Vec<u32> = app(&h).ui.selection.as_ref().map(|(_, s)| s.as_slice().to_vec()).unwrap();
    assert_eq!(picked.len(), 2, "two rows picked");

    app_mut(&mut h).ui.show_pane(Pane::Details);
    h.run_steps(2);
    app_mut(&mut h).state.settings.aoi.replace(mapflow_desktop::geo::Aoi::default());
    h.get_all_by_label("Reject…").next().unwrap().click();
    h.run_steps(2);
    h.get_by_label("Selected result features (2)");
    assert!(disabled(&h, "Reject with 2 features"), "no comment yet");
    h.get_by_label("Comment").focus();
    h.run_steps(1);
    h.get_by_label("Comment").type_text("Two roofs are merged");
    h.run_steps(2);
    h.get_by_label("Reject with 2 features").click();
    wait_for(&mut h, "the rejection", |h| {
        app(h).state.processing(&rejected).is_some_and(|p| p.review_state() == Some("NOT_ACCEPTED"))
    });
    assert!(h.query_by_label("Reject the results").is_none(), "the dialog closed");
    let (status, comment, features) = sandbox.review_decision(&rejected.0).unwrap();
    assert_eq!(status, "NOT_ACCEPTED");
    assert_eq!(comment.as_deref(), Some("Two roofs are merged"));
    let features = features.unwrap();
    assert_eq!(features["type"], "FeatureCollection");
    let sent = features["features"].as_array().unwrap();
    assert_eq!(sent.len(), 2, "the two picked features: {features}");
    let layer = app(&h).state.results[&rejected].layer().unwrap().clone();
    for (feature, &index) in sent.iter().zip(&picked) {
        let want = layer.feature_bbox(index as usize).unwrap();
        let ring = feature["geometry"]["coordinates"][0].as_array().unwrap();
        let xs: Vec<f64> = ring.iter().map(|p| p[0].as_f64().unwrap()).collect();
        assert!((xs.iter().cloned().fold(f64::MAX, f64::min) - want[0]).abs() < 1e-6, "{feature}");
    }
}
