//! The panes and dialogs. Each draws from `AppState` and pushes `Command`s; none does I/O.

mod account;
pub mod attributes;
pub mod catalog;
pub mod file_chooser;
pub mod history;
pub mod imagery;
mod layers;
pub use layers::IMAGE_FOOTPRINT_COLOR;
pub mod batch;
pub mod new_processing;
mod notices;
pub mod processings;
mod projects;
pub mod review;
mod share;
mod sign_in;
pub mod templates;
mod top_bar;
mod workbench;

use crate::app::AppState;
use crate::app::layout::Pane;
use crate::map::MapView;
use crate::worker::Command;
use std::time::Duration;

pub use projects::ProjectsUi;

/// UI-only state: the layout, open dialogs and half-typed fields, never remote data.
pub struct UiState {
    pub projects: ProjectsUi,
    pub settings_open: bool,
    pub about_open: bool,
    pub new_processing: new_processing::NewProcessingUi,
    pub processings: processings::ProcessingsUi,
    pub aoi_editor: crate::map::AoiEditorState,
    /// Whether the chosen provider's preview is shown on the map.
    pub show_provider_preview: bool,
    pub catalog: catalog::CatalogUi,
    pub imagery: imagery::ImageryUi,
    /// A footprint clicked on the map this frame, and whether Ctrl was held.
    pub footprint_click: Option<String>,
    /// The arrangement of the panes (persisted with the settings).
    pub layout: egui_tiles::Tree<Pane>,
    /// Panes to bring to the front on the next frame (e.g. the details of a selection).
    pub activate: Vec<Pane>,
    /// The pane the user last clicked in: keyboard shortcuts act on its selection.
    pub focus: Option<Pane>,
    /// The feature whose attributes are pinned: a result's processing and feature index.
    pub identified: Option<(crate::api::ProcessingId, usize)>,
    /// The selected features of one result layer (table rows, map clicks with Shift).
    pub selection: Option<(crate::api::ProcessingId, std::sync::Arc<crate::results::table::FeatureSet>)>,
    /// The notification history is open.
    pub notifications_open: bool,
    /// How long a success's toast stays.
    pub toast_duration: Duration,
    /// The panes on screen this frame (the tree is lent out while it is drawn).
    shown: Vec<Pane>,
    /// The built-in file chooser, where the desktop has no file dialog.
    pub file_chooser: file_chooser::FileChooserUi,
    /// The attribute table.
    pub attributes: attributes::AttributesUi,
    pub history: history::HistoryUi,
    pub templates: templates::TemplatesUi,
}

impl Default for UiState {
    fn default() -> Self {
        Self {
            projects: ProjectsUi::default(),
            settings_open: false,
            about_open: false,
            new_processing: Default::default(),
            processings: Default::default(),
            aoi_editor: Default::default(),
            show_provider_preview: false,
            catalog: Default::default(),
            imagery: Default::default(),
            footprint_click: None,
            layout: crate::app::layout::default_layout(),
            activate: Vec::new(),
            focus: None,
            identified: None,
            selection: None,
            notifications_open: false,
            toast_duration: Duration::from_secs(5),
            shown: Vec::new(),
            file_chooser: Default::default(),
            attributes: Default::default(),
            history: Default::default(),
            templates: Default::default(),
        }
    }
}

impl UiState {
    /// Brings `pane` to the front (and shows it if the user had closed it) on the next frame.
    pub fn show_pane(&mut self, pane: Pane) {
        self.activate.push(pane);
    }

    /// Whether `pane` is on screen now (visible and the active tab of its group).
    pub fn is_pane_shown(&self, pane: Pane) -> bool {
        self.shown.contains(&pane)
    }

    /// Notes which panes are on screen, before the tree is drawn.
    fn note_shown_panes(&mut self) {
        let tiles = &self.layout.tiles;
        self.shown = self
            .layout
            .active_tiles()
            .into_iter()
            .filter_map(|id| match tiles.get(id) {
                Some(egui_tiles::Tile::Pane(p)) => Some(*p),
                _ => None,
            })
            .collect();
    }
}

/// The whole window: the top bar, the workbench of panes, toasts and dialogs.
pub fn app_ui(
    ui: &mut egui::Ui,
    state: &mut AppState,
    ui_state: &mut UiState,
    map: &mut MapView,
    out: &mut Vec<Command>,
) {
    egui::Panel::top("top_bar").show(ui, |ui| top_bar::top_bar_ui(ui, state, ui_state, map, out));
    templates::poll(ui.ctx(), state, out);
    if let Some(bbox) = state.zoom_request.take() {
        map.zoom_to_bbox(bbox);
    }
    let present = state.present_layers(ui_state.show_provider_preview);
    state.layers.sync(&present);
    map.set_imagery(ui.ctx(), &imagery_layers(state));
    map.double_click_zoom = !state.settings.aoi.is_drawing();
    egui::CentralPanel::default().frame(egui::Frame::NONE).show(ui, |ui| {
        workbench::workbench_ui(ui, state, ui_state, map, out);
    });
    if let Some(id) = ui_state.footprint_click.take() {
        let ctrl = ui.input(|i| i.modifiers.command);
        if ctrl && state.catalog.selected.contains(&id) {
            state.catalog.selected.remove(&id);
        } else {
            state.catalog.selected.insert(id.clone());
        }
        state.catalog.focused = Some(id.clone());
        ui_state.catalog.scroll_to = Some(id);
        ui_state.show_pane(Pane::CatalogResults);
    }
    handle_dropped_files(ui.ctx(), state, out);
    if !ui.ctx().text_edit_focused() && ui.input_mut(|i| i.consume_key(egui::Modifiers::COMMAND, egui::Key::Z)) {
        state.settings.aoi.undo();
    }
    processings::dialogs(ui.ctx(), state, &mut ui_state.processings, out);
    review::reject_dialog(ui.ctx(), state, &mut ui_state.processings.review, &ui_state.selection, out);
    batch::batch_window(ui.ctx(), state, out);
    projects::dialogs(ui.ctx(), &mut ui_state.projects, out);
    imagery::dialogs(ui.ctx(), &mut ui_state.imagery, out);
    notices::toasts_ui(ui.ctx(), state, ui_state, map.map_rect());
    sign_in::sign_in_ui(ui.ctx(), state, out);
    top_bar::settings_ui(ui.ctx(), state, ui_state, map);
    top_bar::about_ui(ui.ctx(), ui_state);
    file_chooser::file_chooser_ui(ui.ctx(), state, &mut ui_state.file_chooser, out);
}

/// A dialog centred over the window, as every dialog of the app opens.
pub(crate) fn dialog(ctx: &egui::Context, title: impl Into<egui::WidgetText>) -> egui::Window<'static> {
    egui::Window::new(title)
        .collapsible(false)
        .resizable(false)
        .pivot(egui::Align2::CENTER_CENTER)
        .default_pos(ctx.content_rect().center())
        .constrain(true)
}

/// A modal dialog (the rest of the window is dimmed and inert), for what deletes or charges.
pub(crate) fn modal(
    ctx: &egui::Context,
    id: &str,
    title: impl Into<egui::RichText>,
    content: impl FnOnce(&mut egui::Ui),
) {
    egui::Modal::new(egui::Id::unique(("modal", id))).show(ctx, |ui| {
        // A fixed width: a centred dialog that grew as its grid settled would move its buttons.
        ui.set_width(400.0);
        ui.heading(title);
        ui.add_space(4.0);
        content(ui);
    });
}

/// What the user answered a delete confirmation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Answer {
    Delete,
    Cancel,
}

/// A modal asking to confirm a deletion: `question`, then Delete and Cancel (Escape cancels).
pub(crate) fn confirm_delete(
    ctx: &egui::Context,
    id: &str,
    title: impl Into<egui::RichText>,
    question: &str,
) -> Option<Answer> {
    let mut answer = None;
    modal(ctx, id, title, |ui| {
        ui.label(question);
        ui.horizontal(|ui| {
            if ui.button(rust_i18n::t!("projects.delete_confirm_button")).clicked() {
                answer = Some(Answer::Delete);
            }
            if ui.button(rust_i18n::t!("common.cancel")).clicked() || ui.input(|i| i.key_pressed(egui::Key::Escape)) {
                answer = Some(Answer::Cancel);
            }
        });
    });
    answer
}

/// An error shown where a value would be, with a retry button; true when retry was clicked.
pub(crate) fn error_box(ui: &mut egui::Ui, error: &crate::api::ApiError) -> bool {
    let mut retry = false;
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.colored_label(ui.visuals().error_fg_color, crate::app::messages::error_text(error));
        retry = ui.button(rust_i18n::t!("common.retry")).clicked();
    });
    retry
}

/// The mark over a list shown as it was saved at `saved_at` because the server could not be
/// reached (`error` says why, when known), with a Retry button; true when it was clicked.
pub(crate) fn offline_mark(
    ui: &mut egui::Ui,
    saved_at: std::time::SystemTime,
    error: Option<&crate::api::ApiError>,
    pending: bool,
) -> bool {
    let mut retry = false;
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.horizontal_wrapped(|ui| {
            ui.colored_label(ui.visuals().warn_fg_color, offline_text(saved_at, std::time::SystemTime::now()));
            retry = ui.add_enabled(!pending, egui::Button::new(rust_i18n::t!("common.retry"))).clicked();
        });
        // Why, on one line (all of it on hover), so the list stays in view.
        if let Some(error) = error {
            let why = egui::RichText::new(crate::app::messages::error_text(error)).weak();
            ui.add(egui::Label::new(why).truncate());
        }
    });
    retry
}

/// "Offline: showing the list saved at 14:05", with the date when it was not today.
pub fn offline_text(saved_at: std::time::SystemTime, now: std::time::SystemTime) -> String {
    let (saved, now) =
        (chrono::DateTime::<chrono::Local>::from(saved_at), chrono::DateTime::<chrono::Local>::from(now));
    let time = saved.format("%H:%M").to_string();
    if saved.date_naive() == now.date_naive() {
        rust_i18n::t!("offline.list_saved_at", time = time).into_owned()
    } else {
        rust_i18n::t!("offline.list_saved_on", date = saved.format("%Y-%m-%d").to_string(), time = time).into_owned()
    }
}

/// An amount of credits with the noun in the right form: "1 credit", "5 credits";
/// "1 кредит", "3 кредита", "5 кредитов", "2.5 кредита".
pub fn credits_text(amount: f64) -> String {
    let n = if amount.fract() == 0.0 { format!("{amount:.0}") } else { format!("{amount:.2}") };
    rust_i18n::t!(credits_key(amount), n = n).into_owned()
}

/// The plural form of "credit" an amount takes (the Russian rules; English uses one of two).
fn credits_key(amount: f64) -> &'static str {
    if amount.fract() != 0.0 {
        return "credits.fraction";
    }
    let whole = amount.abs() as u64;
    match (whole % 10, whole % 100) {
        (1, r) if r != 11 => "credits.one",
        (2..=4, r) if !(12..=14).contains(&r) => "credits.few",
        _ => "credits.many",
    }
}

/// Formats an area in m² as km² for display.
pub fn km2(m2: i64) -> String {
    let km2 = m2 as f64 / 1e6;
    let n = if km2 >= 100.0 { format!("{km2:.0}") } else { format!("{km2:.2}") };
    rust_i18n::t!("common.km2", n = n).into_owned()
}

/// An area in m² in the unit that reads best: m² below a hectare, km² above.
pub fn area_text(m2: f64) -> String {
    if m2 < 10_000.0 {
        rust_i18n::t!("common.m2", n = format!("{m2:.0}")).into_owned()
    } else {
        rust_i18n::t!("common.km2", n = format!("{:.2}", m2 / 1e6)).into_owned()
    }
}

/// An API timestamp in the user's local time; one without a zone is UTC.
pub fn local_time(iso: &str) -> String {
    use chrono::{DateTime, Local, NaiveDateTime, Utc};
    let parsed = DateTime::parse_from_rfc3339(iso)
        .map(|d| d.with_timezone(&Utc))
        .or_else(|_| NaiveDateTime::parse_from_str(iso, "%Y-%m-%dT%H:%M:%S%.f").map(|n| n.and_utc()));
    match parsed {
        Ok(utc) => utc.with_timezone(&Local).format("%Y-%m-%d %H:%M").to_string(),
        Err(_) => iso.to_owned(),
    }
}

/// Server text as the fonts can draw it: emoji variation selectors and characters no
/// bundled font has are dropped, so a model named "🏗️ Construction" never shows boxes.
pub fn drawable(ctx: &egui::Context, s: &str) -> String {
    if s.is_ascii() {
        return s.to_owned();
    }
    let font = egui::FontId::proportional(14.0);
    ctx.fonts_mut(|f| {
        s.chars()
            .filter(|c| !matches!(c, '\u{FE0E}' | '\u{FE0F}' | '\u{200D}'))
            .filter(|c| c.is_ascii() || c.is_whitespace() || f.has_glyph(&font, *c))
            .collect::<String>()
            .trim()
            .to_owned()
    })
}

/// Dropped files: GeoTIFFs are uploaded into the selected mosaic, GeoPackage, FlatGeobuf
/// and Shapefile files open as layers, anything else is read as an AOI (by the worker,
/// which reads and checks it).
fn handle_dropped_files(ctx: &egui::Context, state: &mut AppState, out: &mut Vec<Command>) {
    let dropped = ctx.input(|i| i.raw.dropped_files.clone());
    let mut tiffs = Vec::new();
    for file in dropped {
        let path = file.path().to_owned();
        let ext = path.extension().map(|e| e.to_string_lossy().to_lowercase()).unwrap_or_default();
        if ext == "tif" || ext == "tiff" {
            tiffs.push(path);
        } else if ["gpkg", "fgb", "shp"].contains(&ext.as_str()) {
            // Formats that are layers first; a GeoJSON dropped is read as the AOI.
            out.push(Command::OpenLayer { path: Some(path) });
        } else {
            out.push(Command::ImportAoi { path: Some(path) });
        }
    }
    if tiffs.is_empty() {
        return;
    }
    match state.imagery.selected.clone() {
        Some(id) if !state.imagery.uploading => {
            state.imagery.uploads.clear();
            state.imagery.uploading = true;
            out.push(Command::Upload { target: crate::worker::UploadTarget::Mosaic(id), paths: Some(tiffs) });
        }
        Some(_) => state.notify_error(rust_i18n::t!("imagery.busy")),
        None => state.notify_error(rust_i18n::t!("imagery.drop_needs_mosaic")),
    }
}

/// The imagery under the vectors, bottom first, in the order of the layer list.
fn imagery_layers(state: &AppState) -> Vec<(String, f32)> {
    use crate::app::layers::LayerKey;
    let mut layers = Vec::new();
    for key in state.layers.imagery_bottom_up() {
        let props = state.layers.props(key);
        if !props.visible {
            continue;
        }
        let url = match key {
            LayerKey::ProviderPreview => state
                .status
                .value()
                .and_then(|s| s.data_providers.iter().find(|p| p.name == state.settings.form.provider))
                .and_then(|p| p.preview_url.clone()),
            LayerKey::ResultImagery(id) => state.results.get(id).and_then(|v| v.raster_url.clone()),
            LayerKey::CatalogPreview => {
                state.catalog.on_map.as_deref().and_then(|id| state.catalog.image(id)).and_then(catalog::tile_template)
            }
            _ => None,
        };
        let opacity =
            if *key == LayerKey::CatalogPreview { props.opacity * state.catalog.on_map_opacity } else { props.opacity };
        if let Some(url) = url {
            layers.push((url, opacity));
        }
    }
    layers
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_offline_mark_gives_the_date_only_when_not_today() {
        let local =
            |t: std::time::SystemTime, f: &str| chrono::DateTime::<chrono::Local>::from(t).format(f).to_string();
        let now = std::time::SystemTime::now();
        let today = super::offline_text(now, now);
        assert!(today.contains(&local(now, "%H:%M")) && !today.contains(&local(now, "%Y-%m-%d")), "{today}");
        let days_ago = now - std::time::Duration::from_secs(3 * 24 * 3600);
        let earlier = super::offline_text(days_ago, now);
        assert!(earlier.contains(&local(days_ago, "%Y-%m-%d")) && earlier.contains(&local(days_ago, "%H:%M")));
    }

    #[test]
    fn credits_take_the_plural_their_number_asks_for() {
        let key = super::credits_key;
        assert_eq!(key(1.0), "credits.one");
        assert_eq!(key(21.0), "credits.one");
        assert_eq!(key(11.0), "credits.many");
        assert_eq!(key(3.0), "credits.few");
        assert_eq!(key(13.0), "credits.many");
        assert_eq!(key(5000.0), "credits.many");
        assert_eq!(key(2.5), "credits.fraction");
    }
}
