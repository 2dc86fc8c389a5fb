//! The eframe `App`, the top of the house: it owns the worker, the state, the map and the UI;
//! each frame it drains worker events into the state, draws the panels, persists settings.

use crate::app::settings::Settings;
use crate::app::state::AppState;
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
        let mut ui = UiState::default();
        ui.layout = crate::app::layout::restore(settings.layout.clone());
        Ok(Self { state: AppState::new(settings), map, ui, worker })
    }

    /// Applies every event that has arrived and sends the follow-up commands.
    pub fn pump(&mut self) {
        while let Some(stamped) = self.worker.try_recv() {
            self.state.receive(stamped);
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
        Settings { map: self.map.settings(), layout: Some(self.ui.layout.clone()), ..self.state.settings.clone() }
    }
}

impl eframe::App for MapflowApp {
    fn logic(&mut self, _ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.pump();
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        fit_window_to_monitor(ui.ctx());
        self.show(ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, SETTINGS_KEY, &self.settings());
    }
}

/// A window restored larger than the monitor it opens on (a size saved on a bigger screen)
/// is shrunk to fit, once, as soon as the monitor is known.
fn fit_window_to_monitor(ctx: &egui::Context) {
    let id = egui::Id::unique("window_fitted_to_monitor");
    if ctx.data(|d| d.get_temp::<bool>(id)).unwrap_or(false) {
        return;
    }
    let (monitor, inner) = ctx.input(|i| (i.viewport().monitor_size, i.viewport().inner_rect));
    let (Some(monitor), Some(inner)) = (monitor, inner) else { return };
    ctx.data_mut(|d| d.insert_temp(id, true));
    let fits = egui::vec2(monitor.x * 0.95, monitor.y * 0.9);
    if inner.width() > fits.x || inner.height() > fits.y {
        let size = inner.size().min(fits).max(MIN_WINDOW);
        ctx.send_viewport_cmd(egui::ViewportCommand::InnerSize(size));
        ctx.send_viewport_cmd(egui::ViewportCommand::OuterPosition(egui::pos2(
            ((monitor.x - size.x) / 2.0).max(0.0),
            ((monitor.y - size.y) / 2.0).max(0.0),
        )));
    }
}

/// The smallest window everything stays usable in.
pub const MIN_WINDOW: egui::Vec2 = egui::vec2(1024.0, 680.0);
