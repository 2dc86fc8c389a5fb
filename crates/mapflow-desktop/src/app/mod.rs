//! The application's state: AppState (plain data) and `apply`, settings, and the halves of
//! the state by subject. The eframe `App` that shows it is `crate::shell`, above.

pub mod aoi;
pub mod batch;
pub mod catalog;
pub mod cost;
pub mod files;
pub mod form;
pub mod guards;
pub mod history;
pub mod imagery;
pub mod layers;
pub mod layout;
pub mod map_settings;
pub mod processings;
pub mod remote;
pub mod review;
pub mod settings;
pub mod state;
pub mod templates;

pub use remote::Remote;
pub use settings::{Language, Settings};
pub use state::AppState;

// Below the app, and used by the worker too; reachable here as before.
pub use crate::messages;
pub use crate::platform::{credentials, project_dirs};
