//! The attribute table: the features of a result layer as rows, virtualised (only the rows
//! in view are laid out), sorted by any column and filtered by an expression, with a
//! summary of the rows shown. Picking a row pins the feature (highlighted on the map and in
//! the Feature pane); a feature picked on the map is scrolled to.
//!
//! Columns and rows are computed on a helper thread; an answer for a layer or query no
//! longer shown is dropped.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, sync_channel};

use rust_i18n::t;

use crate::api::ProcessingId;
use crate::app::AppState;
use crate::results::ResultLayer;
use crate::results::table::{self, FeatureSet, Query, Rows, SelectedFeatures, Summary};

/// The selection the table and the map share: a layer and some of its features.
pub type Selection = Option<(ProcessingId, Arc<FeatureSet>)>;

/// The most attribute columns shown (a result rarely has more than a dozen).
const MAX_COLUMNS: usize = 40;

/// What a computation was for: the layer (by processing and identity) and the query.
#[derive(Clone, Debug, PartialEq)]
struct Key {
    id: ProcessingId,
    layer: usize,
    query: Query,
}

type Answer = (Key, Vec<String>, Result<Arc<Rows>, String>);

/// The table's state in the UI.
#[derive(Default)]
pub struct AttributesUi {
    /// The layer shown: a loaded result's processing.
    pub layer: Option<ProcessingId>,
    pub query: Query,
    /// The filter as typed; applied with Enter or Apply.
    pub filter_text: String,
    /// Only the features in the map's view.
    pub in_view: bool,
    shown: Option<Answer>,
    /// The table row of the pinned feature, found once per pin and rows.
    pinned_row: Option<((ProcessingId, usize), usize, Option<usize>)>,
    pending: Option<(Key, Receiver<Answer>)>,
    /// The pinned feature last scrolled to.
    scrolled_to: Option<(ProcessingId, usize)>,
    /// The table row a Shift+click selects from.
    anchor: Option<usize>,
    /// The summary of the selection, for the set it was made of.
    selection_summary: Option<(Arc<FeatureSet>, Summary)>,
}

impl AttributesUi {
    /// The rows shown (for tests and the summary): feature indices in table order.
    pub fn rows(&self) -> Option<&[u32]> {
        self.shown.as_ref().and_then(|(_, _, r)| r.as_ref().ok()).map(|r| r.features.as_slice())
    }

    /// The columns shown.
    pub fn columns(&self) -> &[String] {
        self.shown.as_ref().map_or(&[], |(_, c, _)| c.as_slice())
    }

    /// The summary of `set` in `layer`, made once per selection.
    fn selection_summary(&mut self, layer: &ResultLayer, set: &Arc<FeatureSet>) -> Summary {
        match &self.selection_summary {
            Some((of, summary)) if Arc::ptr_eq(of, set) => *summary,
            _ => {
                let (summary, _) = table::summarize(layer, set.as_slice());
                self.selection_summary = Some((set.clone(), summary));
                summary
            }
        }
    }

    /// Whether a computation is under way.
    pub fn is_computing(&self) -> bool {
        self.pending.is_some()
    }

    /// Takes a finished computation, asks for a new one when the layer or query changed.
    fn refresh(&mut self, ctx: &egui::Context, id: &ProcessingId, layer: &Arc<ResultLayer>) {
        let key = Key { id: id.clone(), layer: Arc::as_ptr(layer) as usize, query: self.query.clone() };
        if let Some((wanted, rx)) = &self.pending
            && let Ok(answer) = rx.try_recv()
        {
            // Only the answer to the latest request is kept.
            if answer.0 == *wanted {
                self.shown = Some(answer);
            }
            self.pending = None;
        }
        let current = self.shown.as_ref().is_some_and(|(k, _, _)| *k == key);
        let asked = self.pending.as_ref().is_some_and(|(k, _)| *k == key);
        if current || asked {
            return;
        }
        let (tx, rx) = sync_channel(1);
        let (layer, job, repaint) = (layer.clone(), key.clone(), ctx.clone());
        let spawned = std::thread::Builder::new().name("attribute-table".into()).spawn(move || {
            let columns = table::columns(&layer);
            let rows = table::rows(&layer, &job.query).map(Arc::new);
            let _ = tx.send((job, columns, rows));
            repaint.request_repaint();
        });
        match spawned {
            Ok(_) => self.pending = Some((key, rx)),
            Err(e) => self.shown = Some((key, Vec::new(), Err(e.to_string()))),
        }
    }
}

/// The attribute table pane.
/// The map's view rounded to a fiftieth of its size, so panning does not ask for new rows
/// at every pixel.
fn rounded(view: [f64; 4]) -> [f64; 4] {
    let step = ((view[2] - view[0]).abs().max((view[3] - view[1]).abs()) / 50.0).max(1e-9);
    let down = |v: f64| (v / step).floor() * step;
    let up = |v: f64| (v / step).ceil() * step;
    [down(view[0]), down(view[1]), up(view[2]), up(view[3])]
}

pub fn attributes_ui(
    ui: &mut egui::Ui,
    state: &mut AppState,
    aui: &mut AttributesUi,
    pinned: &mut Option<(ProcessingId, usize)>,
    selection: &mut Selection,
    view: Option<[f64; 4]>,
) {
    aui.query.within = if aui.in_view { view.map(rounded) } else { None };
    let ready: Vec<(ProcessingId, String, Arc<ResultLayer>)> =
        state.results.iter().filter_map(|(id, v)| Some((id.clone(), v.name.clone(), v.layer()?.clone()))).collect();
    if ready.is_empty() {
        ui.weak(t!("attributes.no_layer"));
        return;
    }
    // The pinned feature's layer, else the one chosen, else the first.
    if let Some((id, _)) = pinned.as_ref()
        && aui.layer.as_ref() != Some(id)
        && aui.scrolled_to.as_ref().is_none_or(|(s, _)| s != id)
    {
        aui.layer = Some(id.clone());
    }
    if aui.layer.as_ref().is_none_or(|id| !ready.iter().any(|(r, _, _)| r == id)) {
        aui.layer = Some(ready[0].0.clone());
    }
    let Some((id, name, layer)) = ready.iter().find(|(r, _, _)| Some(r) == aui.layer.as_ref()).cloned() else { return };
    aui.refresh(ui.ctx(), &id, &layer);

    // The layer and the filter: on one line where the pane is wide enough for both.
    let filter_ui = |ui: &mut egui::Ui, aui: &mut AttributesUi| {
        let l = ui.label(t!("attributes.filter"));
        let apply = ui.button(t!("attributes.apply"));
        let field = egui::TextEdit::singleline(&mut aui.filter_text)
            .hint_text("class_id = 101 and building_height > 20")
            .desired_width(ui.available_width());
        let edit = ui.add(field).labelled_by(l.id);
        let enter = edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        if apply.clicked() || enter {
            aui.query.filter = aui.filter_text.trim().to_owned();
        }
    };
    let one_line = ui.available_width() >= 600.0;
    ui.horizontal(|ui| {
        let l = ui.label(t!("attributes.layer"));
        egui::ComboBox::from_id_salt("attributes_layer")
            .width(160.0)
            .truncate()
            .selected_text(super::drawable(ui.ctx(), &name))
            .show_ui(ui, |ui| {
                for (rid, rname, _) in &ready {
                    if ui.selectable_label(*rid == id, super::drawable(ui.ctx(), rname)).clicked() {
                        aui.layer = Some(rid.clone());
                    }
                }
            })
            .response
            .labelled_by(l.id);
        if one_line {
            filter_ui(ui, aui);
        } else {
            ui.checkbox(&mut aui.in_view, t!("attributes.in_view"));
        }
    });
    if !one_line {
        ui.horizontal(|ui| filter_ui(ui, aui));
    }

    // Rows of this very layer (a file opened again under the same id is another layer).
    let layer_key = Arc::as_ptr(&layer) as usize;
    let Some((key, columns, result)) = aui.shown.as_ref().filter(|(k, _, _)| k.id == id && k.layer == layer_key) else {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label(t!("attributes.computing"));
        });
        return;
    };
    let rows = match result {
        Ok(rows) => rows.clone(),
        Err(e) => {
            ui.colored_label(ui.visuals().error_fg_color, t!("attributes.bad_filter", reason = e));
            return;
        }
    };
    let columns: Vec<String> = columns.iter().take(MAX_COLUMNS).cloned().collect();
    let key_query = key.query.clone();
    let (count, total) = (rows.features.len(), layer.feature_count());
    let selected = selection.as_ref().filter(|(s, _)| *s == id).map(|(_, s)| s.clone()).filter(|s| !s.is_empty());
    let single = pinned.as_ref().filter(|(p, _)| *p == id).map(|(_, f)| *f);
    // One wrapped line: the rows' summary, the breakdown by class, and the selection.
    ui.horizontal_wrapped(|ui| {
        let mut text =
            t!("attributes.summary", shown = count, total = total, area = super::area_text(rows.total.area_m2))
                .into_owned();
        if let Some(mean) = rows.total.mean_area_m2() {
            text.push_str(" · ");
            text.push_str(&t!("attributes.mean_area", area = super::area_text(mean)));
        }
        if let Some(h) = rows.total.mean_height {
            text.push_str(" · ");
            text.push_str(&t!("attributes.mean_height", height = format!("{h:.1}")));
        }
        ui.add(egui::Label::new(text).extend());
        if aui.is_computing() || key_query != aui.query {
            ui.spinner();
        }
        by_class_ui(ui, &layer, &rows);
        if one_line {
            ui.checkbox(&mut aui.in_view, t!("attributes.in_view"));
        }
        // The selection is always shown (its buttons greyed without one), so a first click
        // does not move the rows under the pointer.
        ui.separator();
        let summary = selected.as_ref().map(|set| aui.selection_summary(&layer, set)).unwrap_or_default();
        let mut text =
            t!("attributes.selected", n = summary.count, area = super::area_text(summary.area_m2)).into_owned();
        if let Some(h) = summary.mean_height {
            text.push_str(" · ");
            text.push_str(&t!("attributes.mean_height", height = format!("{h:.1}")));
        }
        // Whole, never broken across lines: it moves to the next line when it does not fit.
        let text =
            if selected.is_some() { egui::RichText::new(text).strong() } else { egui::RichText::new(text).weak() };
        let label = ui.add(egui::Label::new(text).extend());
        label.on_hover_text(t!("attributes.select_hint"));
        let any = selected.is_some();
        if ui.add_enabled(any || single.is_some(), egui::Button::new(t!("attributes.zoom")).small()).clicked() {
            state.zoom_request = selected
                .as_ref()
                .and_then(|set| set.bbox(&layer))
                .or_else(|| single.and_then(|f| layer.feature_bbox(f)));
        }
        if ui.add_enabled(any, egui::Button::new(t!("attributes.save_selection")).small()).clicked()
            && let Some(set) = &selected
        {
            let features = SelectedFeatures { layer: layer.clone(), features: set.clone() };
            state.follow_up.push(crate::worker::Command::SaveSelection {
                id: id.clone(),
                name: format!("{name} ({})", set.len()),
                features,
                path: None,
            });
        }
        if ui.add_enabled(any, egui::Button::new(t!("attributes.clear_selection")).small()).clicked() {
            *selection = None;
        }
    });

    // Found once per pin and rows, not every frame (a million rows take a while to scan).
    let rows_key = Arc::as_ptr(&rows) as usize;
    let pinned_row = match pinned.as_ref().filter(|(p, _)| *p == id) {
        None => None,
        Some(p) => match &aui.pinned_row {
            Some((q, r, row)) if q == p && *r == rows_key => *row,
            _ => {
                let row = rows.features.iter().position(|&r| r as usize == p.1);
                aui.pinned_row = Some((p.clone(), rows_key, row));
                row
            }
        },
    };
    let scroll_to = match (pinned.as_ref(), pinned_row) {
        (Some(p), Some(row)) if aui.scrolled_to.as_ref() != Some(p) => {
            aui.scrolled_to = Some(p.clone());
            Some(row)
        }
        _ => None,
    };
    let picked = table_ui(ui, aui, &layer, &columns, &rows.features, selected.as_deref(), pinned_row, scroll_to);
    if let Some(pick) = picked {
        let row_feature = |row: usize| rows.features.get(row).copied();
        let (set, feature) = match pick {
            Pick::One(row) => (row_feature(row).map(|f| FeatureSet::new([f])), row_feature(row)),
            Pick::Toggle(row) => {
                let f = row_feature(row);
                let set = f.map(|f| selected.as_deref().map_or_else(|| FeatureSet::new([f]), |s| s.toggled(f)));
                (set, f)
            }
            Pick::Range(from, to) => {
                let (lo, hi) = (from.min(to), from.max(to).min(rows.features.len().saturating_sub(1)));
                let set = rows.features.get(lo..=hi).map(|r| FeatureSet::new(r.iter().copied()));
                (set, row_feature(to))
            }
        };
        if let Some(set) = set {
            *selection = Some((id.clone(), Arc::new(set)));
        }
        if let Some(f) = feature {
            *pinned = Some((id.clone(), f as usize));
            // Picked here: no need to scroll to it.
            aui.scrolled_to = pinned.clone();
        }
    }
}

/// How a row was clicked: alone, with Ctrl (added or taken out), with Shift (the rows from
/// the last click).
#[derive(Clone, Copy, Debug)]
pub enum Pick {
    One(usize),
    Toggle(usize),
    Range(usize, usize),
}

/// Count, area and height of the rows by class, folded away by default.
fn by_class_ui(ui: &mut egui::Ui, layer: &ResultLayer, rows: &Rows) {
    if rows.by_class.len() < 2 {
        return;
    }
    ui.menu_button(t!("attributes.by_class", n = rows.by_class.len()), |ui| {
        egui::Grid::new("attributes_classes").striped(true).spacing([16.0, 2.0]).show(ui, |ui| {
            ui.strong(t!("identify.class"));
            ui.strong(t!("attributes.count"));
            ui.strong(t!("attributes.area"));
            ui.strong(t!("attributes.mean_area_header"));
            ui.strong(t!("attributes.mean_height_header"));
            ui.end_row();
            for (class, summary) in &rows.by_class {
                let Some(entry) = layer.legend().get(*class) else { continue };
                ui.horizontal(|ui| {
                    let (rect, _) = ui.allocate_exact_size(egui::vec2(10.0, 10.0), egui::Sense::hover());
                    ui.painter().rect_filled(rect, 2.0, crate::results::color32(entry.color));
                    ui.label(entry.current_label());
                });
                ui.label(summary.count.to_string());
                ui.label(super::area_text(summary.area_m2));
                ui.label(summary.mean_area_m2().map(super::area_text).unwrap_or_default());
                ui.label(
                    summary
                        .mean_height
                        .map(|h| t!("attributes.height_value", height = format!("{h:.1}")).into_owned())
                        .unwrap_or_default(),
                );
                ui.end_row();
            }
        });
    });
}

/// The rows, virtualised; returns how a row was clicked.
#[allow(clippy::too_many_arguments)]
pub fn table_ui(
    ui: &mut egui::Ui,
    aui: &mut AttributesUi,
    layer: &ResultLayer,
    columns: &[String],
    features: &[u32],
    selected: Option<&FeatureSet>,
    pinned_row: Option<usize>,
    scroll_to: Option<usize>,
) -> Option<Pick> {
    use egui_extras::{Column, TableBuilder};
    let row_height = ui.spacing().interact_size.y;
    // The body takes exactly the height left in the pane: the builder's default minimum
    // (200 px) would run past a short pane's bottom.
    let height = ui.available_height();
    let mut builder = TableBuilder::new(ui)
        .id_salt(("attributes_table", columns.len()))
        .min_scrolled_height(0.0)
        .max_scroll_height(height)
        .striped(true)
        .resizable(true)
        .sense(egui::Sense::click())
        .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
        .column(Column::initial(56.0).at_least(40.0).clip(true))
        .column(Column::initial(110.0).at_least(60.0).clip(true));
    for _ in columns {
        builder = builder.column(Column::initial(96.0).at_least(48.0).clip(true));
    }
    if let Some(row) = scroll_to {
        builder = builder.scroll_to_row(row, Some(egui::Align::Center));
    }
    let mut clicked = None;
    let table = layer.attribute_table();
    let indices: Vec<Option<usize>> = columns.iter().map(|c| table.column_index(c)).collect();
    builder
        .header(row_height + 4.0, |mut header| {
            header.col(|ui| {
                ui.strong("#");
            });
            header.col(|ui| {
                ui.strong(t!("identify.class"));
            });
            for c in columns {
                header.col(|ui| {
                    let arrow = match &aui.query.sort {
                        Some((s, false)) if s == c => " ⬆",
                        Some((s, true)) if s == c => " ⬇",
                        _ => "",
                    };
                    let button = egui::Button::new(egui::RichText::new(format!("{c}{arrow}")).strong()).frame(false);
                    if ui.add(button).on_hover_text(t!("attributes.sort_hint")).clicked() {
                        aui.query.sort = match &aui.query.sort {
                            Some((s, false)) if s == c => Some((c.clone(), true)),
                            Some((s, true)) if s == c => None,
                            _ => Some((c.clone(), false)),
                        };
                    }
                });
            }
        })
        .body(|body| {
            body.rows(row_height, features.len(), |mut row| {
                let index = row.index();
                let feature = features[index] as usize;
                row.set_selected(pinned_row == Some(index) || selected.is_some_and(|s| s.contains(feature)));
                // Cells do not take clicks (nor select text): a click anywhere picks the row.
                let cell = |ui: &mut egui::Ui, text: String| {
                    ui.add(egui::Label::new(text).selectable(false).truncate());
                };
                row.col(|ui| cell(ui, feature.to_string()));
                row.col(|ui| cell(ui, layer.class_of(feature).map(|c| c.current_label()).unwrap_or_default()));
                for &c in &indices {
                    row.col(|ui| cell(ui, c.map(|c| table.value(c, feature).to_string()).unwrap_or_default()));
                }
                if row.response().clicked() {
                    clicked = Some(index);
                }
            });
        });
    let row = clicked?;
    let modifiers = ui.input(|i| i.modifiers);
    let pick = match aui.anchor {
        Some(anchor) if modifiers.shift => Pick::Range(anchor, row),
        _ if modifiers.command => Pick::Toggle(row),
        _ => Pick::One(row),
    };
    if !modifiers.shift {
        aui.anchor = Some(row);
    }
    Some(pick)
}
