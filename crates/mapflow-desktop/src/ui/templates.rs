//! The Planned searches pane: the open project's planned searches (search templates) with
//! their status, area and new images; a new one over the AOI with the catalog filters;
//! inside one, its AOIs (named, on the map) with the processings started over each and a
//! "no AOI" group, the images it found with their "new" marks, and a processing started
//! from picked images.

use crate::app::AppState;
use crate::app::templates::{aoi_label, status_text};
use crate::worker::{Command, TemplateCommand};
use egui::{Color32, RichText};
use rust_i18n::t;
use walkers::{MapMemory, Plugin, Projector};

/// The colour of a planned search's AOIs on the map.
pub const TEMPLATE_AOI_COLOR: Color32 = Color32::from_rgb(40, 120, 230);

/// What the pane holds that is not remote: half-typed names.
#[derive(Debug, Default)]
pub struct TemplatesUi {
    pub new_name: String,
    pub aoi_name: String,
    /// The AOI being renamed and the name typed so far.
    pub renaming: Option<(String, String)>,
}

/// Sends the poll when it is due, and asks for a frame then (no I/O here: a command).
pub fn poll(ctx: &egui::Context, state: &mut AppState, out: &mut Vec<Command>) {
    if let Some(cmd) = state.templates_poll(std::time::Instant::now()) {
        out.push(cmd);
    }
    if state.templates.inside.is_some()
        || state.templates.list.value().is_some_and(|l| l.iter().any(|t| t.is_searching()))
    {
        ctx.request_repaint_after(state.templates.poll_every);
    }
}

pub fn templates_ui(ui: &mut egui::Ui, state: &mut AppState, view: &mut TemplatesUi, out: &mut Vec<Command>) {
    if state.open_project_id().is_none() {
        ui.label(t!("templates.no_project"));
        return;
    }
    if state.templates.inside.is_some() {
        inside_ui(ui, state, view, out);
    } else {
        list_ui(ui, state, view, out);
    }
}

fn error_line(ui: &mut egui::Ui, state: &AppState) {
    if let Some(e) = &state.templates.error {
        ui.colored_label(ui.visuals().error_fg_color, e);
    }
}

fn list_ui(ui: &mut egui::Ui, state: &mut AppState, view: &mut TemplatesUi, out: &mut Vec<Command>) {
    if state.templates.offer_for_large_aoi {
        ui.label(RichText::new(t!("templates.offer")).strong());
    }
    let refusal = state.template_refusal();
    ui.horizontal_wrapped(|ui| {
        ui.add(
            egui::TextEdit::singleline(&mut view.new_name).hint_text(t!("templates.name_hint")).desired_width(180.0),
        );
        let creating = state.templates.creating;
        let button = ui
            .add_enabled(refusal.is_none() && !creating, egui::Button::new(t!("templates.create")))
            .on_hover_text(t!("templates.create_hint"));
        let button = match &refusal {
            Some(reason) => button.on_disabled_hover_text(reason),
            None => button,
        };
        if button.clicked()
            && let Some(cmd) = state.create_template(&view.new_name)
        {
            view.new_name.clear();
            out.push(cmd);
        }
        if creating {
            ui.spinner();
        }
        if ui.button(t!("templates.refresh")).clicked() {
            out.extend(state.refresh_templates());
        }
    });
    if let Some(reason) = &refusal {
        ui.weak(reason);
    }
    error_line(ui, state);
    ui.separator();
    if let Some(e) = state.templates.list.error() {
        ui.colored_label(
            ui.visuals().error_fg_color,
            t!("templates.list_failed", reason = crate::app::messages::error_text(e)),
        );
    }
    let Some(list) = state.templates.list.value().cloned() else {
        if state.templates.list.is_pending() {
            ui.spinner();
        }
        return;
    };
    if list.is_empty() {
        ui.label(t!("templates.none"));
        return;
    }
    egui::ScrollArea::vertical().id_salt("templates_list").show(ui, |ui| {
        egui::Grid::new("templates_grid").striped(true).num_columns(4).show(ui, |ui| {
            ui.strong(t!("templates.col_name"));
            ui.strong(t!("templates.col_status"));
            ui.strong(t!("templates.col_area"));
            ui.strong(t!("templates.col_new"));
            ui.end_row();
            for template in list.iter() {
                if ui.link(&template.name).on_hover_text(t!("templates.enter_hint")).clicked() {
                    out.extend(state.open_template(template.id.clone()));
                }
                ui.label(status_text(template));
                ui.label(super::area_text(template.area as f64));
                if template.new_images_count > 0 {
                    ui.label(RichText::new(t!("templates.new_count", n = template.new_images_count)).strong());
                } else {
                    ui.weak("—");
                }
                ui.end_row();
            }
        });
    });
}

fn inside_ui(ui: &mut egui::Ui, state: &mut AppState, view: &mut TemplatesUi, out: &mut Vec<Command>) {
    if ui.button(t!("templates.back")).clicked() {
        state.leave_template();
        return;
    }
    if let Some(e) = state.templates.open.error() {
        ui.colored_label(
            ui.visuals().error_fg_color,
            t!("templates.open_failed", reason = crate::app::messages::error_text(e)),
        );
    }
    let Some(open) =
        state.templates.open.value().filter(|t| Some(&t.template.id) == state.templates.inside.as_ref()).cloned()
    else {
        ui.spinner();
        return;
    };
    let template = &open.template;
    let id = template.id.clone();
    let may_change = state.refusal(crate::api::ProjectAction::StartProcessing);
    let busy = state.templates.busy.is_some();
    ui.heading(&template.name);
    ui.label(t!(
        "templates.summary",
        status = status_text(template),
        area = super::area_text(template.area as f64),
        n = template.new_images_count
    ));
    ui.horizontal_wrapped(|ui| {
        let enabled = may_change.is_none() && !busy;
        let toggle = if template.is_active { t!("templates.pause") } else { t!("templates.resume") };
        let button = |ui: &mut egui::Ui, text: String| {
            let r = ui.add_enabled(enabled, egui::Button::new(text));
            match &may_change {
                Some(reason) => r.on_disabled_hover_text(reason),
                None => r,
            }
            .clicked()
        };
        if button(ui, toggle.into_owned()) {
            let cmd = if template.is_active {
                TemplateCommand::Pause { id: id.clone() }
            } else {
                TemplateCommand::Resume { id: id.clone() }
            };
            out.push(state.change_template(cmd));
        }
        if button(ui, t!("templates.seen_all").into_owned()) {
            out.push(state.change_template(TemplateCommand::SeenAll { id: id.clone() }));
        }
        if button(ui, t!("templates.delete").into_owned()) {
            out.push(state.change_template(TemplateCommand::Delete { id: id.clone() }));
        }
        if ui.button(t!("templates.refresh")).clicked() {
            out.extend(state.refresh_templates());
        }
        if busy {
            ui.spinner();
        }
    });
    if let Some(reason) = &may_change {
        ui.weak(reason);
    }
    error_line(ui, state);
    start_row(ui, state, may_change.is_none() && !busy, out);
    ui.separator();

    egui::ScrollArea::vertical().id_salt("template_inside").show(ui, |ui| {
        aois_ui(ui, state, view, template, may_change.is_none() && !busy, out);
        ui.separator();
        images_ui(ui, state, template, may_change.is_none() && !busy, out);
    });
}

fn aois_ui(
    ui: &mut egui::Ui,
    state: &mut AppState,
    view: &mut TemplatesUi,
    template: &crate::api::Template,
    enabled: bool,
    out: &mut Vec<Command>,
) {
    let id = template.id.clone();
    ui.strong(t!("templates.aois"));
    let mut listed = std::collections::BTreeSet::new();
    for (n, aoi) in template.aois().iter().enumerate() {
        let Some(aoi_id) = aoi.id().map(str::to_owned) else { continue };
        let label = aoi_label(aoi, n);
        ui.horizontal_wrapped(|ui| {
            let chosen = state.templates.selected_aoi.as_deref() == Some(aoi_id.as_str());
            if ui.radio(chosen, "").on_hover_text(t!("templates.aoi_pick_hint")).clicked() {
                state.templates.selected_aoi = Some(aoi_id.clone());
                if let Some(bbox) = state.templates.map_aois.get(n).and_then(|(a, _)| a.bbox()) {
                    state.zoom_request = Some(bbox);
                }
            }
            match &mut view.renaming {
                Some((renaming, text)) if *renaming == aoi_id => {
                    ui.add(egui::TextEdit::singleline(text).desired_width(140.0));
                    if ui.add_enabled(enabled, egui::Button::new(t!("templates.save"))).clicked() {
                        let name = text.trim().to_owned();
                        view.renaming = None;
                        out.push(state.change_template(TemplateCommand::RenameAoi {
                            id: id.clone(),
                            aoi: aoi_id.clone(),
                            name,
                        }));
                    }
                    if ui.button(t!("templates.cancel")).clicked() {
                        view.renaming = None;
                    }
                }
                _ => {
                    ui.label(RichText::new(&label).strong());
                    if aoi.properties.has_new_images == Some(true) {
                        ui.label(RichText::new(t!("templates.new_mark")).color(ui.visuals().warn_fg_color));
                    }
                    if ui.add_enabled(enabled, egui::Button::new(t!("templates.rename"))).clicked() {
                        view.renaming = Some((aoi_id.clone(), aoi.properties.name.clone().unwrap_or_default()));
                    }
                    if ui.add_enabled(enabled, egui::Button::new(t!("templates.delete_aoi"))).clicked() {
                        out.push(
                            state.change_template(TemplateCommand::DeleteAoi { id: id.clone(), aoi: aoi_id.clone() }),
                        );
                    }
                }
            }
        });
        let runs = aoi.processings();
        if runs.is_empty() {
            ui.indent(("aoi_runs", n), |ui| ui.weak(t!("templates.no_processings")));
        }
        for p in runs {
            listed.insert(p.processing_id.clone());
            ui.indent(("aoi_run", n, p.processing_id.0.as_str()), |ui| {
                ui.label(format!("{} · {}", p.processing_name, super::processings::status_word(&p.processing_status)));
            });
        }
    }
    let orphans: Vec<&crate::api::Processing> =
        state.templates.processings.iter().filter(|p| !listed.contains(&p.id)).collect();
    if !orphans.is_empty() {
        ui.strong(t!("templates.no_aoi_group"));
        for p in orphans {
            ui.indent(("orphan", p.id.0.as_str()), |ui| {
                ui.label(format!("{} · {}", p.name, super::processings::status_word(&p.status)));
            });
        }
    }
    ui.horizontal_wrapped(|ui| {
        ui.add(
            egui::TextEdit::singleline(&mut view.aoi_name)
                .hint_text(t!("templates.aoi_name_hint"))
                .desired_width(140.0),
        );
        let has_aoi = !state.settings.aoi.aoi.is_empty();
        let r = ui.add_enabled(enabled && has_aoi, egui::Button::new(t!("templates.add_aoi")));
        let r = if has_aoi { r } else { r.on_disabled_hover_text(t!("templates.no_aoi")) };
        if r.clicked()
            && let Some(cmd) = state.add_aoi_to_template(&view.aoi_name)
        {
            view.aoi_name.clear();
            out.push(cmd);
        }
    });
}

/// "Start processing from picked", above the scrolled lists so it stays in view.
fn start_row(ui: &mut egui::Ui, state: &mut AppState, enabled: bool, out: &mut Vec<Command>) {
    let picked = state.templates.selected.len();
    let models = state.models();
    let model = state.settings.form.model(&models).or_else(|| models.first()).map(|m| m.name.clone());
    ui.horizontal_wrapped(|ui| {
        let r = ui.add_enabled(enabled && picked > 0, egui::Button::new(t!("templates.start", n = picked)));
        let r = if picked == 0 { r.on_disabled_hover_text(t!("templates.select_images")) } else { r };
        if r.clicked() {
            match state.start_from_template() {
                Ok(cmd) => out.push(cmd),
                Err(reason) => state.templates.error = Some(reason),
            }
        }
        if let Some(model) = model {
            ui.weak(t!("templates.model", model = model));
        }
    });
}

fn images_ui(
    ui: &mut egui::Ui,
    state: &mut AppState,
    template: &crate::api::Template,
    enabled: bool,
    out: &mut Vec<Command>,
) {
    let id = template.id.clone();
    ui.strong(t!("templates.images"));
    if let Some(e) = state.templates.images.error() {
        ui.colored_label(
            ui.visuals().error_fg_color,
            t!("templates.images_failed", reason = crate::app::messages::error_text(e)),
        );
    }
    let Some(page) = state.templates.images.value().cloned() else {
        ui.spinner();
        return;
    };
    if page.results.is_empty() {
        ui.label(if template.is_searching() { t!("templates.still_searching") } else { t!("templates.no_images") });
        return;
    }
    ui.label(t!("templates.images_count", shown = page.results.len(), total = page.total));
    egui::Grid::new("template_images").striped(true).num_columns(6).show(ui, |ui| {
        for image in &page.results {
            let mut on = state.templates.selected.contains(&image.id);
            if ui.checkbox(&mut on, "").on_hover_text(t!("templates.pick_hint")).changed() {
                if on {
                    state.templates.selected.insert(image.id.clone());
                } else {
                    state.templates.selected.remove(&image.id);
                }
            }
            let new = image.is_new == Some(true);
            if new {
                ui.label(RichText::new(t!("templates.new_mark")).color(ui.visuals().warn_fg_color));
            } else {
                ui.weak(t!("templates.seen_mark"));
            }
            let m = &image.metadata;
            ui.label(m.acquisition_date.as_deref().map(|d| d.get(..10).unwrap_or(d)).unwrap_or("—"));
            ui.label(m.provider_name.as_deref().unwrap_or("—"));
            ui.label(
                m.cloud_cover.map(|c| t!("templates.cloud", c = format!("{c:.0}")).into_owned()).unwrap_or_default(),
            );
            if new {
                if ui.add_enabled(enabled, egui::Button::new(t!("templates.mark_seen"))).clicked() {
                    out.push(state.change_template(TemplateCommand::Seen { id: id.clone(), image: image.id.clone() }));
                }
            } else {
                ui.label("");
            }
            ui.end_row();
        }
    });
}

/// The AOIs of the planned search the user is inside, outlined and named on the map.
pub struct TemplateAoisPlugin<'a> {
    pub aois: &'a [(crate::geo::Aoi, String)],
}

impl Plugin for TemplateAoisPlugin<'_> {
    fn run(self: Box<Self>, ui: &mut egui::Ui, _: &egui::Response, projector: &Projector, _: &MapMemory) {
        let stroke = egui::Stroke::new(2.0, TEMPLATE_AOI_COLOR);
        let to_pos = |x: f64, y: f64| projector.project(walkers::lon_lat(x, y)).to_pos2();
        for (aoi, name) in self.aois {
            for polygon in &aoi.polygons {
                let pts: Vec<egui::Pos2> = polygon.exterior().0.iter().map(|c| to_pos(c.x, c.y)).collect();
                ui.painter().add(egui::Shape::closed_line(pts, stroke));
            }
            if let Some([w, s, e, n]) = aoi.bbox() {
                let at = to_pos((w + e) / 2.0, (s + n) / 2.0);
                ui.painter().text(
                    at,
                    egui::Align2::CENTER_CENTER,
                    name,
                    egui::FontId::proportional(13.0),
                    TEMPLATE_AOI_COLOR,
                );
            }
        }
    }
}
