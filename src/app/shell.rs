//! The eframe `App`: drains worker events, draws the panels, persists settings.

use super::settings::Settings;
use super::state::AppState;
use crate::map::MapView;
use crate::ui::UiState;
use crate::worker::{Command, WorkerConfig, WorkerHandle};

/// The key under which settings live in eframe's storage.
pub const SETTINGS_KEY: &str = "mapflow-desktop-settings";

/// How the app is put together; tests swap in a file-only credential store and offline tiles.
#[derive(Debug, Clone)]
pub struct AppOptions {
    pub worker: WorkerConfig,
    /// Whether web tiles may be fetched (tests draw only the offline world).
    pub online_tiles: bool,
}

impl AppOptions {
    pub fn user_default() -> Self {
        Self { worker: WorkerConfig::user_default(), online_tiles: true }
    }
}

/// The whole application.
pub struct MapflowApp {
    pub state: AppState,
    pub map: MapView,
    pub ui: UiState,
    worker: WorkerHandle,
}

impl MapflowApp {
    /// Starts the worker and asks it to sign in (or start the sandbox).
    pub fn new(ctx: &egui::Context, settings: Settings, options: AppOptions) -> std::io::Result<Self> {
        settings.language.activate();
        let repaint_ctx = ctx.clone();
        let worker = WorkerHandle::spawn(options.worker, move || repaint_ctx.request_repaint())?;
        worker.send(Command::Startup);
        let map = MapView::new(ctx, &settings.map, options.online_tiles);
        Ok(Self { state: AppState::new(settings), map, ui: UiState::default(), worker })
    }

    /// Applies every event that has arrived and sends the follow-up commands.
    pub fn pump(&mut self) {
        while let Some(event) = self.worker.try_recv() {
            self.state.apply(event);
        }
        for command in self.state.follow_up.drain(..) {
            self.worker.send(command);
        }
    }

    /// Draws one frame into `ui` and sends what the user asked for.
    pub fn show(&mut self, ui: &mut egui::Ui) {
        if let Some(template) = crate::map::sandbox_imagery_template(&self.state) {
            self.map.set_sandbox_imagery(ui.ctx(), template);
        }
        let mut commands = Vec::new();
        crate::ui::app_ui(ui, &mut self.state, &mut self.ui, &mut self.map, &mut commands);
        for command in commands {
            self.worker.send(command);
        }
    }

    /// The settings as they are now, map view included.
    pub fn settings(&self) -> Settings {
        Settings { map: self.map.settings(), ..self.state.settings.clone() }
    }
}

impl eframe::App for MapflowApp {
    fn logic(&mut self, _ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.pump();
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.show(ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, SETTINGS_KEY, &self.settings());
    }
}
