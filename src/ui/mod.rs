//! The panels and dialogs. Each draws from `AppState` and pushes `Command`s; none does I/O.

mod account;
pub mod catalog;
pub mod file_chooser;
pub mod imagery;
mod layers;
pub mod new_processing;
pub mod processings;
mod projects;
mod sign_in;
mod top_bar;

use crate::app::AppState;
use crate::map::MapView;
use crate::worker::Command;

pub use projects::ProjectsUi;

/// UI-only state: open dialogs and half-typed fields, never remote data.
#[derive(Default)]
pub struct UiState {
    pub projects: ProjectsUi,
    pub settings_open: bool,
    pub new_processing: new_processing::NewProcessingUi,
    pub processings: processings::ProcessingsUi,
    pub aoi_editor: crate::map::AoiEditorState,
    /// Whether the chosen provider's preview is shown on the map.
    pub show_provider_preview: bool,
    pub catalog: catalog::CatalogUi,
    pub imagery: imagery::ImageryUi,
    /// A footprint clicked on the map this frame.
    pub footprint_click: Option<String>,
    pub right_tab: RightTab,
    pub bottom_tab: BottomTab,
    /// The built-in file chooser, where the desktop has no file dialog.
    pub file_chooser: file_chooser::FileChooserUi,
}

/// The tabs of the right panel.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RightTab {
    #[default]
    NewProcessing,
    Catalog,
    Imagery,
}

/// The tabs of the bottom panel.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum BottomTab {
    #[default]
    Processings,
    CatalogResults,
}

/// The whole window: top bar, side panel with account and projects, the map.
pub fn app_ui(
    ui: &mut egui::Ui,
    state: &mut AppState,
    ui_state: &mut UiState,
    map: &mut MapView,
    out: &mut Vec<Command>,
) {
    egui::Panel::top("top_bar").show(ui, |ui| top_bar::top_bar_ui(ui, state, ui_state, map, out));
    notices_ui(ui, state);
    egui::Panel::left("side_panel").resizable(true).default_size(320.0).show(ui, |ui| {
        egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| {
            account::account_ui(ui, state);
            ui.separator();
            projects::projects_ui(ui, state, &mut ui_state.projects, out);
        });
    });
    egui::Panel::right("new_processing").resizable(true).default_size(340.0).show(ui, |ui| {
        ui.horizontal(|ui| {
            ui.selectable_value(&mut ui_state.right_tab, RightTab::NewProcessing, rust_i18n::t!("form.title"));
            ui.selectable_value(&mut ui_state.right_tab, RightTab::Catalog, rust_i18n::t!("catalog.title"));
            ui.selectable_value(&mut ui_state.right_tab, RightTab::Imagery, rust_i18n::t!("imagery.title"));
        });
        ui.separator();
        egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| match ui_state.right_tab {
            RightTab::NewProcessing => new_processing::new_processing_ui(
                ui,
                state,
                &mut ui_state.new_processing,
                map,
                &mut ui_state.show_provider_preview,
                out,
            ),
            RightTab::Imagery => imagery::imagery_ui(ui, state, &mut ui_state.imagery, out),
            RightTab::Catalog => {
                let searching = state.catalog.results.is_pending();
                catalog::filters_ui(ui, state, &mut ui_state.catalog, out);
                if !searching && state.catalog.results.is_pending() {
                    ui_state.bottom_tab = BottomTab::CatalogResults;
                }
            }
        });
    });
    egui::Panel::bottom("processings").resizable(true).default_size(230.0).show(ui, |ui| {
        ui.horizontal(|ui| {
            ui.selectable_value(&mut ui_state.bottom_tab, BottomTab::Processings, rust_i18n::t!("processings.tab"));
            ui.selectable_value(
                &mut ui_state.bottom_tab,
                BottomTab::CatalogResults,
                rust_i18n::t!("catalog.results_tab"),
            );
        });
        match ui_state.bottom_tab {
            BottomTab::Processings => {
                ui.columns(2, |cols| {
                    processings::processings_ui(&mut cols[0], state, &mut ui_state.processings, out);
                    egui::ScrollArea::vertical().id_salt("details").show(&mut cols[1], |ui| {
                        processings::details_ui(ui, state, &mut ui_state.processings, out);
                    });
                });
            }
            BottomTab::CatalogResults => {
                // "Process selected…" fills the form: show it.
                if catalog::results_ui(ui, state, &mut ui_state.catalog, out) {
                    ui_state.right_tab = RightTab::NewProcessing;
                }
            }
        }
    });
    if let Some(bbox) = state.zoom_request.take() {
        map.zoom_to_bbox(bbox);
    }
    map.set_imagery(ui.ctx(), &imagery_layers(state, ui_state));
    map.double_click_zoom = !state.settings.aoi.is_drawing();
    let map_rect = egui::CentralPanel::default()
        .frame(egui::Frame::NONE)
        .show(ui, |ui| map_with_overlays(ui, state, ui_state, map).rect)
        .inner;
    if let Some(id) = ui_state.footprint_click.take() {
        state.catalog.selected.insert(id.clone());
        state.catalog.focused = Some(id);
        ui_state.bottom_tab = BottomTab::CatalogResults;
    }
    layers::layers_ui(ui.ctx(), state, map_rect);
    handle_dropped_files(ui.ctx(), state, out);
    if ui.input_mut(|i| i.consume_key(egui::Modifiers::COMMAND, egui::Key::Z)) {
        state.settings.aoi.undo();
    }
    sign_in::sign_in_ui(ui.ctx(), state, out);
    top_bar::settings_ui(ui.ctx(), state, ui_state, map);
    file_chooser::file_chooser_ui(ui.ctx(), state, &mut ui_state.file_chooser, out);
}

/// Messages for the user, newest last, each dismissable.
fn notices_ui(ui: &mut egui::Ui, state: &mut AppState) {
    if state.notices.is_empty() {
        return;
    }
    egui::Panel::top("notices").show(ui, |ui| {
        let mut dismiss = None;
        for (i, notice) in state.notices.iter().enumerate().rev().take(3) {
            ui.horizontal(|ui| {
                let color = if notice.is_error { ui.visuals().error_fg_color } else { ui.visuals().text_color() };
                ui.colored_label(color, &notice.text);
                if ui.small_button(rust_i18n::t!("common.dismiss")).clicked() {
                    dismiss = Some(i);
                }
            });
        }
        if let Some(i) = dismiss {
            state.notices.remove(i);
        }
    });
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

/// Formats an area in m² as km² for display.
pub fn km2(m2: i64) -> String {
    let km2 = m2 as f64 / 1e6;
    if km2 >= 100.0 { format!("{km2:.0} km²") } else { format!("{km2:.2} km²") }
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

/// The map with every overlay: results under the processings' AOIs under the AOI draft.
fn map_with_overlays(
    ui: &mut egui::Ui,
    state: &mut AppState,
    ui_state: &mut UiState,
    map: &mut MapView,
) -> egui::Response {
    let preview = ui_state.catalog.map_preview(ui.ctx(), state);
    let drawing = state.settings.aoi.is_drawing();
    ui_state.catalog.update_rings(state);
    let image_footprints = imagery::footprints(state);
    let UiState { aoi_editor: editor, footprint_click, catalog: catalog_ui, .. } = ui_state;
    let rings = catalog_ui.rings();
    let AppState { results, processing_aois, settings, catalog, .. } = state;
    let mut overlays: Vec<Box<dyn walkers::Plugin + '_>> = Vec::new();
    if !rings.is_empty() {
        overlays.push(Box::new(catalog::FootprintsPlugin {
            rings,
            selected: &catalog.selected,
            focused: catalog.focused.as_deref(),
            preview,
            clicked: footprint_click,
            clickable: !drawing,
        }));
    }
    for view in results.values_mut() {
        let crate::app::processings::ResultView { state, style, cache, hovered, .. } = view;
        if let crate::app::processings::ResultState::Ready(layer) = state
            && style.visible
        {
            overlays.push(Box::new(crate::results::ResultPlugin::new(layer, style, cache, hovered)));
        }
    }
    if !image_footprints.is_empty() {
        overlays.push(Box::new(crate::map::OutlinePlugin {
            aoi: &image_footprints,
            color: egui::Color32::from_rgb(80, 220, 120),
        }));
    }
    for aoi in processing_aois.values() {
        overlays.push(Box::new(crate::map::OutlinePlugin { aoi, color: egui::Color32::from_rgb(250, 200, 40) }));
    }
    overlays.push(Box::new(crate::map::AoiEditor {
        draft: &mut settings.aoi,
        state: editor,
        editable: true,
        color: egui::Color32::from_rgb(40, 170, 250),
    }));
    map.show(ui, overlays)
}

/// Dropped files: GeoTIFFs are uploaded into the selected mosaic, anything else is read as
/// an AOI (by the worker, which reads and checks it).
fn handle_dropped_files(ctx: &egui::Context, state: &mut AppState, out: &mut Vec<Command>) {
    let dropped = ctx.input(|i| i.raw.dropped_files.clone());
    let mut tiffs = Vec::new();
    for file in dropped {
        let path = file.path().to_owned();
        let ext = path.extension().map(|e| e.to_string_lossy().to_lowercase()).unwrap_or_default();
        if ext == "tif" || ext == "tiff" {
            tiffs.push(path);
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

/// The imagery under the vectors: the provider preview when asked for, then each visible
/// result's own imagery.
fn imagery_layers(state: &AppState, ui_state: &UiState) -> Vec<(String, f32)> {
    let mut layers = Vec::new();
    if ui_state.show_provider_preview && state.settings.form.source == crate::app::form::SourceKind::Provider {
        let preview = state
            .status
            .value()
            .and_then(|s| s.data_providers.iter().find(|p| p.name == state.settings.form.provider))
            .and_then(|p| p.preview_url.clone());
        if let Some(url) = preview {
            layers.push((url, 1.0));
        }
    }
    for view in state.results.values().filter(|v| v.style.visible) {
        if let Some(url) = &view.raster_url {
            layers.push((url.clone(), 1.0));
        }
    }
    if let Some(url) =
        state.catalog.on_map.as_deref().and_then(|id| state.catalog.image(id)).and_then(catalog::tile_template)
    {
        layers.push((url, state.catalog.on_map_opacity));
    }
    layers
}
