//! The language switch. In its own test binary because the active language is process-wide.

use crate::support;

use egui_kittest::kittest::Queryable;
use support::{app, harness, signed_in_to_sandbox};

#[test]
fn switching_to_russian_translates_the_ui() {
    let _state = crate::exclusive();
    let mut h = harness();
    signed_in_to_sandbox(&mut h);
    h.get_by_label("Settings…").click();
    h.run_steps(2);
    h.get_by_label("Language").click();
    h.run_steps(2);
    h.get_by_label("Русский").click();
    h.run_steps(3);
    h.get_by_label("Песочница");
    h.get_by_label("Проекты");
    assert_eq!(app(&h).settings().language, mapflow_desktop::app::Language::Russian, "the choice persists");
}
