//! The layers over the map: results with legend, opacity and visibility; the hovered feature.

use crate::app::AppState;
use crate::app::processings::ResultState;
use rust_i18n::t;

/// A small window listing result layers; nothing when there are none.
pub fn layers_ui(ctx: &egui::Context, state: &mut AppState, map_rect: egui::Rect) {
    if state.results.is_empty() {
        return;
    }
    let mut remove = None;
    let mut zoom = None;
    egui::Window::new(t!("layers.title"))
        .id(egui::Id::unique("layers_window"))
        .default_pos(map_rect.right_top() + egui::vec2(-300.0, 40.0))
        .default_width(260.0)
        .resizable(false)
        .show(ctx, |ui| {
            for (id, view) in state.results.iter_mut() {
                ui.horizontal(|ui| {
                    ui.checkbox(&mut view.style.visible, super::drawable(ui.ctx(), &view.name));
                    if ui.small_button(t!("layers.zoom")).clicked()
                        && let Some(layer) = view.layer()
                    {
                        zoom = layer.bbox();
                    }
                    if ui.small_button(t!("layers.remove")).clicked() {
                        remove = Some(id.clone());
                    }
                });
                match &view.state {
                    ResultState::Loading => {
                        ui.horizontal(|ui| {
                            ui.spinner();
                            ui.label(t!("details.result_loading"));
                        });
                    }
                    ResultState::Failed(e) => {
                        ui.colored_label(ui.visuals().error_fg_color, e);
                    }
                    ResultState::Ready(layer) => {
                        ui.label(t!("details.features", n = layer.feature_count()));
                        let l = ui.label(t!("layers.opacity"));
                        ui.add(egui::Slider::new(&mut view.style.opacity, 0.0..=1.0)).labelled_by(l.id);
                        for entry in layer.legend() {
                            ui.horizontal(|ui| {
                                let mut shown = !view.style.hidden_classes.contains(&entry.key);
                                let (rect, _) = ui.allocate_exact_size(egui::vec2(14.0, 14.0), egui::Sense::hover());
                                ui.painter().rect_filled(rect, 2.0, entry.color);
                                if ui
                                    .checkbox(&mut shown, format!("{} ({})", entry.current_label(), entry.count))
                                    .changed()
                                {
                                    if shown {
                                        view.style.hidden_classes.remove(&entry.key);
                                    } else {
                                        view.style.hidden_classes.insert(entry.key.clone());
                                    }
                                }
                            });
                        }
                        if let Some(f) = view.hovered {
                            ui.separator();
                            ui.strong(t!("layers.feature", n = f));
                            egui::Grid::new(("attrs", id.0.as_str())).num_columns(2).show(ui, |ui| {
                                for (k, v) in layer.attributes(f) {
                                    ui.label(k);
                                    ui.label(match v {
                                        serde_json::Value::String(s) => s.clone(),
                                        other => other.to_string(),
                                    });
                                    ui.end_row();
                                }
                            });
                        }
                    }
                }
                ui.separator();
            }
        });
    if let Some(id) = remove {
        state.results.remove(&id);
    }
    if zoom.is_some() {
        state.zoom_request = zoom;
    }
}
