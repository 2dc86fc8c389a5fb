//! The application: state, settings, credentials and the eframe `App`.

pub mod aoi;
pub mod catalog;
pub mod cost;
pub mod files;
pub mod form;
pub mod guards;
pub mod history;
pub mod imagery;
pub mod layers;
pub mod layout;
pub mod processings;
pub mod remote;
pub mod review;
pub mod settings;
mod shell;
pub mod state;
pub mod templates;

pub use remote::Remote;
pub use settings::{Language, Settings};
pub use shell::{AppOptions, MIN_WINDOW, MapflowApp, SETTINGS_KEY};
pub use state::AppState;

// Below the app, and used by the worker too; reachable here as before.
pub use crate::messages;
pub use crate::platform::{credentials, project_dirs};
