//! Mapflow Desktop: a native client for the Mapflow platform, with an offline sandbox.
//!
//! This crate is the top layer: the worker, the app state, the UI and the map. The layers
//! below are crates of their own, re-exported here under the names the app uses:
//! [`api`] (`mapflow-api`), [`geo`], [`export`] and the pure halves of [`imagery`] and
//! [`results`] (`mapflow-geo`), and [`sandbox`] (`mapflow-sandbox`).

rust_i18n::i18n!("../../locales", fallback = "en");

pub use mapflow_api as api;
pub use mapflow_geo as geo;
pub use mapflow_geo::export;
pub use mapflow_sandbox as sandbox;

pub mod app;
pub mod cli;
#[doc(hidden)]
pub mod fuzzing;
pub mod imagery;
pub mod map;
pub mod messages;
pub mod platform;
pub mod results;
mod shell;
pub mod ui;
pub mod worker;

pub use shell::{AppOptions, MIN_WINDOW, MapflowApp, SETTINGS_KEY};
