//! What persists across restarts (through eframe's storage).

use super::map_settings::MapSettings;
use crate::api::ProjectId;
use serde::{Deserialize, Serialize};

/// The UI languages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Language {
    #[default]
    English,
    Russian,
}

impl Language {
    pub const ALL: [Language; 2] = [Language::English, Language::Russian];

    /// The locale code of the translation files.
    pub fn code(self) -> &'static str {
        match self {
            Self::English => "en",
            Self::Russian => "ru",
        }
    }

    /// The language's own name, as shown in the chooser.
    pub fn native_name(self) -> &'static str {
        match self {
            Self::English => "English",
            Self::Russian => "Русский",
        }
    }

    /// Makes this the language of every string from now on.
    pub fn activate(self) {
        rust_i18n::set_locale(self.code());
    }
}

/// Settings kept between runs.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub language: Language,
    /// The server offered in the sign-in dialog.
    pub server_url: String,
    pub map: MapSettings,
    pub last_project: Option<ProjectId>,
    /// The AOI being drawn, so a restart loses nothing.
    pub aoi: crate::app::aoi::AoiDraft,
    /// The new-processing form as last filled in (never the custom source's password).
    pub form: crate::app::form::ProcessingForm,
    /// The catalog search filters.
    pub catalog: crate::app::catalog::CatalogFilters,
    /// The last catalog search and its results, shown again after a restart.
    pub catalog_last: Option<(crate::api::CatalogQuery, crate::api::CatalogPage)>,
    /// The workbench's arrangement of panes; the default one when absent or outdated.
    pub layout: Option<egui_tiles::Tree<crate::app::layout::Pane>>,
    /// Use the built-in file chooser even where the desktop has a file dialog.
    pub builtin_file_chooser: bool,
    /// The folders files were last picked in, newest first (at most
    /// [`crate::app::files::MAX_RECENT_FOLDERS`]).
    pub recent_folders: Vec<std::path::PathBuf>,
    /// The result cache's cap, in MB.
    pub cache_limit_mb: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            language: Language::default(),
            server_url: crate::api::client::DEFAULT_BASE_URL.to_owned(),
            map: MapSettings::default(),
            last_project: None,
            aoi: Default::default(),
            form: Default::default(),
            catalog: Default::default(),
            catalog_last: None,
            layout: None,
            builtin_file_chooser: false,
            recent_folders: Vec::new(),
            cache_limit_mb: 1024,
        }
    }
}
