//! The real app state and UI, driven through egui_kittest against the embedded sandbox.

use crate::support;

use egui_kittest::kittest::Queryable;
use mapflow_desktop::api::Token;
use mapflow_desktop::worker::SessionKind;
use support::{app, harness, project_names, signed_in_to_sandbox, wait_for};

#[test]
fn starts_signed_in_to_the_sandbox_without_a_token() {
    let mut h = harness();
    signed_in_to_sandbox(&mut h);
    h.get_by_label("Sandbox");
    h.get_by_label("Sign in to Mapflow…");
    h.get_by_label(mapflow_desktop::sandbox::DEMO_EMAIL);
    h.get_by_label("5000 credits");
    h.get_by_label("Default project");
    h.get_by_label_contains("Made with Natural Earth");
}

#[test]
fn malformed_token_is_refused_before_any_request() {
    let mut h = harness();
    signed_in_to_sandbox(&mut h);
    h.get_by_label("Sign in to Mapflow…").click();
    h.run_steps(2);
    h.get_by_label("API token").focus();
    h.run_steps(1);
    h.get_by_label("API token").type_text("definitely not a token");
    h.run_steps(1);
    h.get_by_label("Sign in").click();
    h.run_steps(2);
    h.get_by_label_contains("This is not a Mapflow API token");
    assert!(!app(&h).state.sign_in.pending, "nothing was sent");
}

#[test]
fn rejected_token_shows_the_error_and_keeps_the_session() {
    let mut h = harness();
    signed_in_to_sandbox(&mut h);
    let server = app(&h).state.session.as_ref().unwrap().server.clone();
    h.get_by_label("Sign in to Mapflow…").click();
    h.run_steps(2);
    // Point the dialog at the sandbox and use a well-formed token it does not accept.
    h.state_mut().app.as_mut().unwrap().state.sign_in.server = server;
    h.run_steps(1);
    let token = Token::from_parts("someone@example.com", "revoked-key");
    h.get_by_label("API token").focus();
    h.run_steps(1);
    h.get_by_label("API token").type_text(token.expose());
    h.run_steps(1);
    h.get_by_label("Sign in").click();
    wait_for(&mut h, "the sign-in error", |h| app(h).state.sign_in.error.is_some());
    h.get_by_label_contains("The server refused the token (401)");
    assert_eq!(app(&h).state.session.as_ref().unwrap().kind, SessionKind::Sandbox, "the sandbox session goes on");
}

#[test]
fn create_rename_and_delete_a_project() {
    let mut h = harness();
    signed_in_to_sandbox(&mut h);

    h.get_by_label("New project").focus();
    h.run_steps(1);
    h.get_by_label("New project").type_text("Harbour survey");
    h.run_steps(1);
    h.get_by_label("Create").click();
    wait_for(&mut h, "the new project in the list", |h| project_names(h).iter().any(|n| n == "Harbour survey"));

    h.get_by_label("Harbour survey").click();
    wait_for(&mut h, "the project to open", |h| {
        app(h).state.open_project.value().is_some_and(|p| p.name == "Harbour survey")
    });
    h.get_by_label_contains("Open project: Harbour survey");

    h.get_by_label("Rename…").click();
    h.run_steps(2);
    let field = h.get_by_label("Project name");
    field.focus();
    h.run_steps(1);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.run_steps(1);
    h.get_by_label("Project name").type_text("Harbour 2026");
    h.run_steps(1);
    h.get_by_label("Save").click();
    wait_for(&mut h, "the renamed project", |h| project_names(h).iter().any(|n| n == "Harbour 2026"));
    assert!(!project_names(&h).iter().any(|n| n == "Harbour survey"));

    h.get_by_label("Delete…").click();
    h.run_steps(2);
    h.get_by_label_contains("This cannot be undone");
    h.get_by_label("Delete").click();
    wait_for(&mut h, "the project to disappear", |h| {
        !project_names(h).iter().any(|n| n.starts_with("Harbour")) && !app(h).state.projects.is_pending()
    });
    // The deleted project is closed, and the default one opens in its place.
    wait_for(&mut h, "the default project to open", |h| {
        app(h).state.open_project.value().is_some_and(|p| p.is_default)
    });
}

#[test]
fn settings_survive_a_restart() {
    let mut h = harness();
    signed_in_to_sandbox(&mut h);
    support::open_project(&mut h, "Demo: Almaty");
    h.get_by_label("Zoom in").click();
    h.run_steps(2);
    let zoom = app(&h).map.memory.zoom();
    support::app_mut(&mut h)
        .state
        .settings
        .aoi
        .replace(mapflow_desktop::geo::Aoi::from_bbox([30.0, 50.0, 30.01, 50.01]));
    support::app_mut(&mut h).state.settings.aoi.add_point(1.0, 2.0);
    // What eframe writes on exit, through serde as it does.
    let saved = serde_json::to_string(&app(&h).settings()).unwrap();
    // The same data directory, as on the user's machine.
    let dir = std::mem::replace(&mut h.state_mut().dir, tempfile::tempdir().unwrap());
    drop(h);

    let restored: mapflow_desktop::app::Settings = serde_json::from_str(&saved).unwrap();
    let mut h = support::harness_in(dir, restored);
    signed_in_to_sandbox(&mut h);
    wait_for(&mut h, "the last project to reopen", |h| {
        app(h).state.open_project.value().is_some_and(|p| p.name == "Demo: Almaty")
    });
    assert!((app(&h).map.memory.zoom() - zoom).abs() < 1e-9, "the map view is restored");
    assert_eq!(app(&h).state.settings.aoi.aoi.polygons.len(), 1, "the AOI draft is restored");
    assert_eq!(app(&h).state.settings.aoi.drawing, Some(vec![[1.0, 2.0]]), "so is the ring being drawn");
}

#[test]
fn a_request_no_sandbox_route_matches_fails_the_test_on_drop() {
    use std::io::{Read as _, Write as _};
    let mut h = harness();
    signed_in_to_sandbox(&mut h);
    let server = app(&h).state.session.as_ref().unwrap().server.clone();
    // As a client with a wrong path would: the embedded sandbox has no such route.
    let (host, base) = server.trim_start_matches("http://").split_once('/').unwrap();
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    write!(stream, "GET /{base}/user/statuss HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
    let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(h)));
    let message = dropped.expect_err("dropping the app must fail the test");
    let text = message.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(text.contains("/user/statuss"), "{text}");
}
