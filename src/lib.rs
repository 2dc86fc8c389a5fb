//! Mapflow Desktop: a native client for the Mapflow platform, with an offline sandbox.

rust_i18n::i18n!("locales", fallback = "en");

// The test helpers shared with tests/ (tests/common/) name the crate by its name.
#[cfg(test)]
extern crate self as mapflow_desktop;

pub mod api;
pub mod app;
pub mod cli;
pub mod export;
#[doc(hidden)]
pub mod fuzzing;
pub mod geo;
pub mod imagery;
pub mod map;
pub mod messages;
pub mod platform;
pub mod results;
pub mod sandbox;
pub mod ui;
pub mod worker;
