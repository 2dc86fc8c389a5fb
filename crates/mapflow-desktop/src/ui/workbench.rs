//! The workbench: every pane a tile of an `egui_tiles` tree the user can resize, rearrange,
//! close and restore (View menu), with the map always the largest by default.

use super::UiState;
use crate::app::AppState;
use crate::app::layout::Pane;
use crate::map::MapView;
use crate::worker::Command;
use egui_tiles::{Behavior, SimplificationOptions, Tile, TileId, Tiles, UiResponse};
use rust_i18n::t;

/// Draws the tree into `ui`, after bringing requested panes to the front.
pub fn workbench_ui(
    ui: &mut egui::Ui,
    state: &mut AppState,
    ui_state: &mut UiState,
    map: &mut MapView,
    out: &mut Vec<Command>,
) {
    for pane in std::mem::take(&mut ui_state.activate) {
        if let Some(id) = ui_state.layout.tiles.find_pane(&pane) {
            ui_state.layout.set_visible(id, true);
            ui_state.layout.make_active(|tile_id, _| tile_id == id);
        }
    }
    ui_state.note_shown_panes();
    let mut tree = std::mem::replace(&mut ui_state.layout, egui_tiles::Tree::empty(egui::Id::unique("workbench_swap")));
    let mut behavior = Workbench { state, ui_state, map, out };
    tree.ui(&mut behavior, ui);
    ui_state.layout = tree;
}

struct Workbench<'a> {
    state: &'a mut AppState,
    ui_state: &'a mut UiState,
    map: &'a mut MapView,
    out: &'a mut Vec<Command>,
}

impl Behavior<Pane> for Workbench<'_> {
    fn tab_title_for_pane(&mut self, pane: &Pane) -> egui::WidgetText {
        t!(pane.title_key()).into_owned().into()
    }

    fn pane_ui(&mut self, ui: &mut egui::Ui, _tile_id: TileId, pane: &mut Pane) -> UiResponse {
        let pane = *pane;
        // A press anywhere in the pane makes it the one keyboard shortcuts act on.
        if ui.rect_contains_pointer(ui.max_rect()) && ui.input(|i| i.pointer.any_pressed()) {
            self.ui_state.focus = Some(pane);
        }
        let Self { state, ui_state, map, out } = self;
        if pane == Pane::Map {
            super::layers::map_pane_ui(ui, state, ui_state, map);
            return UiResponse::None;
        }
        let margin = egui::Frame::new().inner_margin(egui::Margin::symmetric(8, 6));
        margin.show(ui, |ui| match pane {
            Pane::Map => {}
            Pane::Projects => scrolled(ui, "projects", |ui| {
                ui_state.projects.has_focus = ui_state.focus == Some(Pane::Projects);
                super::projects::projects_ui(ui, state, &mut ui_state.projects, out);
                ui.separator();
                super::account::account_ui(ui, state);
            }),
            Pane::Layers => scrolled(ui, "layers", |ui| super::layers::layers_ui(ui, state, ui_state, map)),
            Pane::NewProcessing => {
                egui::Panel::bottom("form_footer").show(ui, |ui| {
                    ui.add_space(4.0);
                    super::new_processing::start_ui(ui, state, &mut ui_state.new_processing, out);
                });
                scrolled(ui, "new_processing", |ui| {
                    super::new_processing::new_processing_ui(
                        ui,
                        state,
                        &mut ui_state.new_processing,
                        map,
                        &mut ui_state.show_provider_preview,
                        out,
                    );
                });
            }
            Pane::Catalog => scrolled(ui, "catalog", |ui| {
                let searching = state.catalog.results.is_pending();
                let offered = state.templates.offer_for_large_aoi;
                super::catalog::filters_ui(ui, state, &mut ui_state.catalog, out);
                if state.templates.offer_for_large_aoi && !offered {
                    ui_state.show_pane(Pane::Templates);
                }
                if !searching && state.catalog.results.is_pending() {
                    ui_state.show_pane(Pane::CatalogResults);
                }
            }),
            Pane::Imagery => scrolled(ui, "imagery", |ui| {
                super::imagery::imagery_ui(ui, state, &mut ui_state.imagery, out);
            }),
            Pane::Processings => {
                let before = state.selected_processing.clone();
                ui_state.processings.has_focus = ui_state.focus == Some(Pane::Processings);
                super::processings::processings_ui(ui, state, &mut ui_state.processings, out);
                if state.selected_processing.is_some() && state.selected_processing != before {
                    ui_state.show_pane(Pane::Details);
                }
            }
            Pane::CatalogResults => {
                // "Process selected…" fills the form: show it.
                if super::catalog::results_ui(ui, state, &mut ui_state.catalog, out) {
                    ui_state.show_pane(Pane::NewProcessing);
                }
            }
            Pane::Details => scrolled(ui, "details", |ui| {
                super::processings::details_ui(ui, state, &mut ui_state.processings, out);
            }),
            Pane::Identify => scrolled(ui, "identify", |ui| super::layers::identify_ui(ui, state, ui_state)),
            Pane::Templates => {
                super::templates::templates_ui(ui, state, &mut ui_state.templates, out);
            }
            Pane::History => {
                scrolled(ui, "history", |ui| super::history::history_ui(ui, state, &mut ui_state.history, out));
            }
            Pane::Attributes => {
                let view = map.visible_bbox();
                let UiState { attributes, identified, selection, .. } = ui_state;
                super::attributes::attributes_ui(ui, state, attributes, identified, selection, view);
            }
        });
        UiResponse::None
    }

    /// Only the active tab shows its close button, so narrow columns keep every title.
    fn is_tab_closable(&self, tiles: &Tiles<Pane>, tile_id: TileId) -> bool {
        let active = tiles.parent_of(tile_id).and_then(|parent| tiles.get_container(parent)).is_none_or(|c| match c {
            egui_tiles::Container::Tabs(tabs) => tabs.is_active(tile_id),
            _ => true,
        });
        active && !matches!(tiles.get(tile_id), Some(Tile::Pane(Pane::Map)))
    }

    /// A closed pane is hidden, not removed, so the View menu can bring it back.
    fn on_tab_close(&mut self, tiles: &mut Tiles<Pane>, tile_id: TileId) -> bool {
        tiles.set_visible(tile_id, false);
        false
    }

    fn simplification_options(&self) -> SimplificationOptions {
        SimplificationOptions { all_panes_must_have_tabs: true, ..SimplificationOptions::default() }
    }

    fn gap_width(&self, _style: &egui::Style) -> f32 {
        2.0
    }

    fn min_size(&self) -> f32 {
        120.0
    }

    fn tab_bar_height(&self, _style: &egui::Style) -> f32 {
        26.0
    }
}

/// A pane's content in its own vertical scroll area, filling the pane.
fn scrolled(ui: &mut egui::Ui, id: &str, content: impl FnOnce(&mut egui::Ui)) {
    egui::ScrollArea::vertical().id_salt(("pane", id)).auto_shrink([false, false]).show(ui, content);
}
