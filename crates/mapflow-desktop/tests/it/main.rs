//! The desktop crate's tests in one binary: the app in a kittest harness on its own sandbox,
//! the map, the results layer, the command line, the client's rate limits and retries.
#![allow(clippy::unwrap_used)]

#[path = "../support/mod.rs"]
mod support;

mod cli_results;
mod client_processings;
mod client_rate_limit;
mod fuzz_regressions;
mod layers;
mod map_navigation;
mod map_view;
mod results_layer;
mod sandbox_durability;
mod sandbox_hardening;
mod translations;
mod ui_app;
mod ui_attributes;
mod ui_batch;
mod ui_catalog;
mod ui_create_unanswered;
mod ui_files;
mod ui_first_run;
mod ui_guards;
mod ui_history;
mod ui_imagery;
mod ui_local_layers;
mod ui_processings;
mod ui_rate_limit;
mod ui_review;
mod ui_templates;
