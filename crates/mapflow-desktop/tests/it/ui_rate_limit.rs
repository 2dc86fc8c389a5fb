//! A server that answers 429 with `Retry-After`: a write is not repeated, the app says how
//! long the server asks to wait and gives the typed name back; a read waits as asked and
//! then succeeds with no error shown.

use crate::support;
use testkit::sandbox_setup::StrictSandbox;

use egui_kittest::kittest::Queryable;
use mapflow_desktop::sandbox::{Fault, FaultAction, SandboxConfig};
use std::time::{Duration, Instant};
use support::{app, project_names, wait_for};

#[test]
fn a_rate_limited_create_says_how_long_to_wait_and_keeps_the_name() {
    let sandbox = StrictSandbox::start(SandboxConfig { record_requests: true, ..SandboxConfig::default() });
    let mut h = support::harness();
    support::sign_in_to(&mut h, &sandbox.base_url(), sandbox.token().expose());

    sandbox
        .faults()
        .inject(Fault::new("POST", "/rest/projects", FaultAction::RateLimited { retry_after_secs: 7 }).times(1));
    h.get_by_label("New project").focus();
    h.run_steps(1);
    h.get_by_label("New project").type_text("Busy hour");
    h.run_steps(1);
    h.get_by_label("Create").click();
    wait_for(&mut h, "the rate-limit message", |h| {
        app(h).state.notices.iter().any(|n| n.text.contains("429") && n.text.contains("7 s"))
    });
    h.run_steps(2);
    h.get_by_label_contains("asks to wait 7 s");
    assert_eq!(sandbox.hits("POST", "/rest/projects"), 1, "a write is not repeated on its own");
    assert!(!project_names(&h).iter().any(|n| n == "Busy hour"));

    // The name is back in the field: Create again, and it goes through.
    let field = h.get_by_label("New project");
    assert_eq!(field.value().as_deref(), Some("Busy hour"), "the typed name is kept");
    h.get_by_label("Create").click();
    wait_for(&mut h, "the project once the server takes it", |h| project_names(h).iter().any(|n| n == "Busy hour"));
    assert_eq!(sandbox.hits("POST", "/rest/projects"), 2);
}

#[test]
fn a_rate_limited_read_waits_as_asked_and_shows_no_error() {
    let sandbox = StrictSandbox::start(SandboxConfig { record_requests: true, ..SandboxConfig::default() });
    let mut h = support::harness();
    support::sign_in_to(&mut h, &sandbox.base_url(), sandbox.token().expose());
    let notices_before = app(&h).state.notices.len();
    let reads_before = sandbox.hits("POST", "/rest/projects/page");

    sandbox
        .faults()
        .inject(Fault::new("POST", "/rest/projects/page", FaultAction::RateLimited { retry_after_secs: 1 }).times(1));
    let started = Instant::now();
    // What the projects pane's Refresh does.
    let reload = support::app_mut(&mut h).state.reload_projects();
    support::app_mut(&mut h).state.follow_up.push(reload);
    h.run_steps(1);
    wait_for(&mut h, "the list asked again and answered", |h| {
        !app(h).state.projects.is_pending() && sandbox.hits("POST", "/rest/projects/page") >= reads_before + 2
    });
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(900), "asked again after {waited:?}, before the second Retry-After asked");
    assert!(app(&h).state.projects.value().is_some(), "the list is there");
    let errors: Vec<_> =
        app(&h).state.notices[notices_before..].iter().filter(|n| n.is_error).map(|n| n.text.clone()).collect();
    assert!(errors.is_empty(), "{errors:?}");
}
