//! The new-processing panel: the AOI tools and the form, the cost, and Start.

use crate::api::{BillingType, ProcessingRequest, UserSourceType, WorkflowDef};
use crate::app::AppState;
use crate::app::form::{FormProblem, SourceKind};
use crate::geo::{AoiIssue, AoiLimits};
use crate::map::MapView;
use crate::worker::Command;
use rust_i18n::t;
use std::time::{Duration, Instant};

/// How long the form must stay unchanged before the cost is estimated.
const COST_DEBOUNCE: Duration = Duration::from_millis(600);

/// UI-only state of the panel: the request built from the form (rebuilt only when the form
/// or the AOI changes), when it last changed, and the confirmation dialog.
#[derive(Default)]
pub struct NewProcessingUi {
    key: Option<(u64, crate::app::form::ProcessingForm, Option<crate::api::ProjectId>, AoiLimits)>,
    request: Option<Result<ProcessingRequest, FormProblem>>,
    /// The same request for the estimate, which needs no name.
    cost_request: Option<ProcessingRequest>,
    changed_at: Option<Instant>,
    /// The drawn area and the part of it the chosen imagery covers, m², when they differ.
    coverage: Option<(f64, f64)>,
    /// The area processed and charged, m²: the covered part, else the whole AOI.
    area_m2: f64,
    pub confirming: bool,
}

/// The models offered: the open project's, else the account's.
pub fn models(state: &AppState) -> Vec<WorkflowDef> {
    state.models()
}

pub fn new_processing_ui(
    ui: &mut egui::Ui,
    state: &mut AppState,
    pui: &mut NewProcessingUi,
    map: &MapView,
    show_preview: &mut bool,
    out: &mut Vec<Command>,
) {
    aoi_section(ui, state, pui, map, out);
    ui.separator();

    let models = models(state);
    state.correct_form();
    let form = &mut state.settings.form;

    egui::Grid::new("form_grid").num_columns(2).spacing([8.0, 6.0]).show(ui, |ui| {
        let l = ui.label(t!("form.name"));
        ui.add(egui::TextEdit::singleline(&mut form.name).desired_width(200.0)).labelled_by(l.id);
        ui.end_row();

        let l = ui.label(t!("form.model"));
        let current = form.model(&models).map(|m| super::drawable(ui.ctx(), &m.name)).unwrap_or_default();
        egui::ComboBox::from_id_salt("model")
            .selected_text(current)
            .show_ui(ui, |ui| {
                for m in &models {
                    let selected = form.model.as_ref() == Some(&m.id);
                    if ui.selectable_label(selected, super::drawable(ui.ctx(), &m.name)).clicked() && !selected {
                        form.model = Some(m.id.clone());
                        form.enabled_blocks = m.blocks.iter().filter(|b| b.optional).map(|b| b.name.clone()).collect();
                    }
                }
            })
            .response
            .labelled_by(l.id);
        ui.end_row();
    });
    if let Some(model) = form.model(&models).cloned() {
        for block in model.blocks.iter().filter(|b| b.optional) {
            let mut on = form.enabled_blocks.contains(&block.name);
            let label = if block.display_name.is_empty() { &block.name } else { &block.display_name };
            let text = format!("{} (+{})", super::drawable(ui.ctx(), label), price_text(block.price));
            if ui.checkbox(&mut on, text).changed() {
                if on {
                    form.enabled_blocks.insert(block.name.clone());
                } else {
                    form.enabled_blocks.remove(&block.name);
                }
            }
        }
        if let Some(price) = form.price_per_km2(&models) {
            ui.label(t!("form.price", credits = super::credits_text(price)));
        }
    }
    ui.separator();
    let lat = state.settings.aoi.aoi.bbox().or_else(|| map.visible_bbox()).map_or(0.0, |b| (b[1] + b[3]) / 2.0);
    source_ui(ui, state, lat, show_preview);
    breakdown_ui(ui, state, pui, &models);
}

/// The estimate's parts under the form, summing to the server's number.
fn breakdown_ui(ui: &mut egui::Ui, state: &AppState, pui: &NewProcessingUi, models: &[WorkflowDef]) {
    let current = pui.cost_request.is_some() && state.cost_request == pui.cost_request;
    let (Some(total), true) = (state.cost.value(), current && !state.cost.is_pending()) else { return };
    let Some(status) = state.status.value() else { return };
    let area = pui.area_m2;
    let lines = crate::app::cost::breakdown(
        &state.settings.form,
        models,
        &status.data_providers,
        &status.search_data_providers,
        area / 1e6,
        *total,
    );
    ui.separator();
    ui.strong(t!("cost.breakdown"));
    egui::Grid::new("cost_breakdown").num_columns(3).spacing([8.0, 2.0]).show(ui, |ui| {
        for line in &lines {
            ui.add(egui::Label::new(super::drawable(ui.ctx(), &line.label)).wrap());
            ui.weak(&line.detail);
            ui.label(format!("{:.2}", line.credits));
            ui.end_row();
        }
        ui.strong(t!("cost.total"));
        ui.label("");
        ui.strong(super::credits_text(*total));
        ui.end_row();
    });
}

/// The footer of the form, always in view: the checks, the cost and Start.
pub fn start_ui(ui: &mut egui::Ui, state: &mut AppState, pui: &mut NewProcessingUi, out: &mut Vec<Command>) {
    let models = models(state);
    cost_and_start(ui, state, pui, &models, out);
}

fn price_text(price: f64) -> String {
    crate::app::cost::price_text(price)
}

fn aoi_section(ui: &mut egui::Ui, state: &mut AppState, pui: &NewProcessingUi, map: &MapView, out: &mut Vec<Command>) {
    ui.strong(t!("aoi.title"));
    let drawing = state.settings.aoi.is_drawing();
    ui.horizontal_wrapped(|ui| {
        if drawing {
            let points = state.settings.aoi.drawing.as_ref().map_or(0, Vec::len);
            if ui.add_enabled(points >= 3, egui::Button::new(t!("aoi.finish"))).clicked() {
                state.settings.aoi.finish_ring();
            }
            if ui.button(t!("aoi.cancel_drawing")).clicked() {
                state.settings.aoi.cancel_drawing();
            }
        } else if ui.button(t!("aoi.draw")).clicked() {
            state.settings.aoi.start_drawing();
        }
        if ui.add_enabled(state.settings.aoi.can_undo(), egui::Button::new(t!("aoi.undo"))).clicked() {
            state.settings.aoi.undo();
        }
        if ui.add_enabled(!state.settings.aoi.aoi.is_empty() || drawing, egui::Button::new(t!("aoi.clear"))).clicked() {
            state.settings.aoi.clear();
        }
        if ui.button(t!("aoi.import")).clicked() {
            out.push(Command::ImportAoi { path: None });
        }
        if ui.add_enabled(map.visible_bbox().is_some(), egui::Button::new(t!("aoi.use_extent"))).clicked()
            && let Some(bbox) = map.visible_bbox()
        {
            state.settings.aoi.replace(crate::geo::Aoi::from_bbox(bbox));
        }
    });
    if drawing {
        ui.weak(t!("aoi.drawing_hint"));
    }
    if let Some(e) = &state.aoi_import_error {
        ui.colored_label(ui.visuals().error_fg_color, e);
    }
    let limits = state.aoi_limits();
    let (aoi, issues) = state.settings.aoi.checked(&limits);
    if !aoi.is_empty() {
        let areas = aoi.areas_m2();
        let total: f64 = areas.iter().sum();
        let text = if areas.len() == 1 {
            t!("aoi.area_one", area = crate::app::messages::km2_text(total))
        } else {
            t!("aoi.area_many", area = crate::app::messages::km2_text(total), n = areas.len())
        };
        ui.label(text);
    }
    for issue in issues {
        if matches!(issue, AoiIssue::Empty) && drawing {
            continue;
        }
        // An empty AOI is where everyone starts: a hint, not an error.
        let is_error = issue.blocks_start() && !matches!(issue, AoiIssue::Empty);
        let color = if is_error { ui.visuals().error_fg_color } else { ui.visuals().weak_text_color() };
        ui.colored_label(color, issue.message());
    }
    if let Some((total, covered)) = pui.coverage
        && covered > 0.0
    {
        ui.horizontal_wrapped(|ui| {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                t!(
                    "guards.covered",
                    covered = crate::app::messages::km2_text(covered),
                    total = crate::app::messages::km2_text(total)
                ),
            );
            if ui.button(t!("guards.trim")).clicked() {
                let covered = state.settings.form.covered(&state.settings.aoi.aoi);
                state.settings.aoi.replace(covered);
            }
        });
    }
    if state.settings.form.source == SourceKind::MyImagery
        && state.settings.form.coverage().is_none()
        && (state.settings.form.my_imagery.mosaic_id.is_some() || !state.settings.form.my_imagery.image_ids.is_empty())
    {
        ui.weak(t!("guards.no_coverage_known"));
    }
}

fn source_ui(ui: &mut egui::Ui, state: &mut AppState, lat: f64, show_preview: &mut bool) {
    ui.strong(t!("form.source"));
    let providers = state.providers();
    let models = state.models();
    let range = state.settings.form.zoom_range(&models, &providers);
    let note = state.form_note.clone();
    let mut dismissed = false;
    let form = &mut state.settings.form;
    ui.horizontal_wrapped(|ui| {
        ui.radio_value(&mut form.source, SourceKind::Provider, t!("form.source_provider"));
        ui.radio_value(&mut form.source, SourceKind::MyImagery, t!("form.source_my"));
        ui.radio_value(&mut form.source, SourceKind::Catalog, t!("form.source_catalog"));
        ui.radio_value(&mut form.source, SourceKind::Custom, t!("form.source_custom"));
    });
    match form.source {
        SourceKind::Provider => {
            egui::Grid::new("provider_grid").num_columns(2).show(ui, |ui| {
                let l = ui.label(t!("form.provider"));
                let current = providers.iter().find(|p| p.name == form.provider).map(|p| p.label().to_owned());
                egui::ComboBox::from_id_salt("provider")
                    .selected_text(current.unwrap_or_default())
                    .show_ui(ui, |ui| {
                        for p in &providers {
                            ui.selectable_value(
                                &mut form.provider,
                                p.name.clone(),
                                super::drawable(ui.ctx(), p.label()),
                            );
                        }
                    })
                    .response
                    .labelled_by(l.id);
                ui.end_row();
                zoom_row(ui, &mut form.provider_zoom, &range, lat);
            });
            dismissed = note_ui(ui, note.as_deref());
            if let Some(p) = providers.iter().find(|p| p.name == form.provider) {
                let price = crate::app::guards::provider_price(p, Some(form.provider_zoom));
                ui.weak(t!("form.imagery_price", credits = super::credits_text(price), zoom = form.provider_zoom));
            }
            let has_preview = providers.iter().any(|p| p.name == form.provider && p.preview_url.is_some());
            ui.add_enabled(has_preview, egui::Checkbox::new(show_preview, t!("form.show_preview")));
        }
        SourceKind::MyImagery => {
            if form.my_imagery.mosaic_id.is_none() && form.my_imagery.image_ids.is_empty() {
                ui.weak(t!("form.my_imagery_hint"));
            } else {
                ui.label(&form.my_imagery.label);
            }
        }
        SourceKind::Catalog => {
            if form.catalog.image_ids.is_empty() {
                ui.weak(t!("form.catalog_hint"));
            } else {
                ui.label(t!("form.catalog_chosen", n = form.catalog.image_ids.len(), provider = form.catalog.provider));
            }
        }
        SourceKind::Custom => {
            custom_source_ui(ui, &mut form.custom, &range, lat);
            dismissed = note_ui(ui, note.as_deref());
        }
    }
    if dismissed {
        state.form_note = None;
    }
}

/// Why the form changed the zoom by itself, right under the field; true when dismissed.
fn note_ui(ui: &mut egui::Ui, note: Option<&str>) -> bool {
    let Some(note) = note else { return false };
    ui.horizontal_wrapped(|ui| {
        ui.colored_label(ui.visuals().warn_fg_color, note);
        ui.small_button("×").on_hover_text(t!("common.dismiss")).clicked()
    })
    .inner
}

/// The zoom field, kept to the range the model and imagery support, with the ground
/// resolution it gives at the AOI's latitude.
fn zoom_row(
    ui: &mut egui::Ui,
    zoom: &mut u8,
    range: &Result<Option<std::ops::RangeInclusive<u8>>, FormProblem>,
    lat: f64,
) {
    let l = ui.label(t!("form.zoom"));
    let bounds = match range {
        Ok(Some(r)) => r.clone(),
        _ => 10..=crate::app::guards::MAX_ZOOM,
    };
    ui.horizontal(|ui| {
        let m = crate::app::guards::ground_resolution(*zoom, lat);
        let hint = match range {
            Ok(Some(r)) => t!("guards.zoom_hint", min = r.start(), max = r.end()),
            _ => t!("guards.resolution_hint"),
        };
        ui.add(egui::DragValue::new(zoom).range(bounds.clone())).labelled_by(l.id).on_hover_text(hint.as_ref());
        let text = match range {
            Ok(Some(r)) => t!("guards.resolution_range", m = format!("{m:.2}"), min = r.start(), max = r.end()),
            _ => t!("guards.resolution", m = format!("{m:.2}")),
        };
        ui.weak(text).on_hover_text(hint.as_ref());
    });
    ui.end_row();
}

fn custom_source_ui(
    ui: &mut egui::Ui,
    c: &mut crate::app::form::CustomSource,
    range: &Result<Option<std::ops::RangeInclusive<u8>>, FormProblem>,
    lat: f64,
) {
    egui::Grid::new("custom_grid").num_columns(2).show(ui, |ui| {
        let l = ui.label(t!("form.custom_type"));
        let name = |k: UserSourceType| match k {
            UserSourceType::Xyz => "XYZ",
            UserSourceType::Tms => "TMS",
            UserSourceType::Quadkey => "Quadkey",
            UserSourceType::SentinelL2a => "Sentinel-2 L2A",
            UserSourceType::Local => "Local",
        };
        egui::ComboBox::from_id_salt("custom_type")
            .selected_text(name(c.source_type))
            .show_ui(ui, |ui| {
                for k in
                    [UserSourceType::Xyz, UserSourceType::Tms, UserSourceType::Quadkey, UserSourceType::SentinelL2a]
                {
                    ui.selectable_value(&mut c.source_type, k, name(k));
                }
            })
            .response
            .labelled_by(l.id);
        ui.end_row();
        let l = ui.label(t!("form.custom_url"));
        ui.add(egui::TextEdit::singleline(&mut c.url).desired_width(220.0).hint_text("https://…/{z}/{x}/{y}.png"))
            .labelled_by(l.id);
        ui.end_row();
        zoom_row(ui, &mut c.zoom, range, lat);
        let l = ui.label(t!("form.crs"));
        egui::ComboBox::from_id_salt("custom_crs")
            .selected_text(c.crs.to_uppercase())
            .show_ui(ui, |ui| {
                for crs in ["epsg:3857", "epsg:3395"] {
                    ui.selectable_value(&mut c.crs, crs.to_owned(), crs.to_uppercase());
                }
            })
            .response
            .labelled_by(l.id);
        ui.end_row();
        let l = ui.label(t!("form.login"));
        ui.add(egui::TextEdit::singleline(&mut c.login).desired_width(160.0)).labelled_by(l.id);
        ui.end_row();
        let l = ui.label(t!("form.password"));
        ui.add(egui::TextEdit::singleline(&mut c.password).password(true).desired_width(160.0)).labelled_by(l.id);
        ui.end_row();
    });
    if !c.url.is_empty() && !crate::app::form::custom_url_ok(c.source_type, &c.url) {
        ui.colored_label(ui.visuals().error_fg_color, t!("form.problem.bad_url"));
    }
    ui.weak(t!("form.password_note"));
}

fn cost_and_start(
    ui: &mut egui::Ui,
    state: &mut AppState,
    pui: &mut NewProcessingUi,
    models: &[WorkflowDef],
    out: &mut Vec<Command>,
) {
    let limits = state.aoi_limits();
    let generation = state.settings.aoi.generation;
    let key = (generation, state.settings.form.clone(), state.open_project_id().cloned(), limits.clone());
    if pui.key.as_ref() != Some(&key) {
        let project = state.open_project_id().cloned();
        let providers = state.providers();
        let (aoi, issues) = state.settings.aoi.checked(&limits);
        let blocked = issues.iter().any(AoiIssue::blocks_start);
        let form = &state.settings.form;
        pui.request = Some(if blocked {
            Err(FormProblem::NoAoi)
        } else {
            form.request(project.as_ref(), models, &providers, aoi, false)
        });
        pui.cost_request =
            if blocked { None } else { form.request(project.as_ref(), models, &providers, aoi, true).ok() };
        let drawn = aoi.total_area_m2();
        pui.coverage = form
            .coverage()
            .map(|_| (drawn, form.covered(aoi).total_area_m2()))
            .filter(|(total, covered)| (total - covered).abs() > total * 0.001);
        pui.area_m2 = pui.coverage.map_or(drawn, |(_, covered)| covered);
        pui.key = Some(key);
        pui.changed_at = Some(Instant::now());
    }
    let aoi_blocked = state.settings.aoi.checked(&limits).1.iter().any(AoiIssue::blocks_start);
    let billing = state.status.value().map(|s| s.billing_type).unwrap_or_default();

    // The estimate, once the form has settled.
    if billing == BillingType::Credits
        && let Some(request) = &pui.cost_request
        && let Some(at) = pui.changed_at
    {
        let waited = at.elapsed();
        if waited >= COST_DEBOUNCE {
            if let Some(cmd) = state.estimate(request.clone()) {
                out.push(cmd);
            }
        } else {
            ui.ctx().request_repaint_after(COST_DEBOUNCE - waited);
        }
    }
    let current_estimate = pui.cost_request.is_some() && state.cost_request == pui.cost_request;

    let mut balance_ok = true;
    match billing {
        BillingType::Credits => {
            let balance = state.status.value().map_or(0, |s| s.remaining_credits);
            ui.horizontal(|ui| {
                ui.label(t!("form.cost"));
                if !current_estimate {
                    ui.weak("—");
                } else if state.cost.is_pending() {
                    ui.spinner();
                } else if let Some(e) = state.cost.error() {
                    ui.colored_label(ui.visuals().error_fg_color, crate::app::messages::error_text(e));
                } else if let Some(cost) = state.cost.value() {
                    ui.strong(super::credits_text(*cost));
                }
            });
            if current_estimate && let Some(cost) = state.cost.value() {
                balance_ok = *cost <= balance as f64;
                if !balance_ok {
                    ui.colored_label(
                        ui.visuals().error_fg_color,
                        t!("form.not_enough_credits", cost = price_text(*cost), balance = balance),
                    );
                }
            }
        }
        BillingType::Area => {
            let total = state.settings.aoi.aoi.total_area_m2();
            if let Some(remaining) = state.status.value().and_then(|s| s.remaining_area) {
                balance_ok = total <= remaining as f64;
                if !balance_ok {
                    ui.colored_label(
                        ui.visuals().error_fg_color,
                        t!(
                            "form.not_enough_area",
                            area = crate::app::messages::km2_text(total),
                            left = crate::app::messages::km2_text(remaining as f64)
                        ),
                    );
                }
            }
        }
        BillingType::None => {}
    }

    let problem = match &pui.request {
        Some(Err(p)) if !(aoi_blocked && *p == FormProblem::NoAoi) => Some(p.message()),
        _ => None,
    };
    if let Some(p) = &problem {
        ui.weak(p);
    }
    let cost_known = billing != BillingType::Credits
        || (current_estimate && state.cost.value().is_some() && !state.cost.is_pending());
    // A role that may not start processings says so, in view, above the greyed Start.
    let refusal = state.refusal(crate::api::ProjectAction::StartProcessing);
    if let Some(why) = &refusal {
        ui.add(egui::Label::new(egui::RichText::new(why).color(ui.visuals().warn_fg_color)).wrap());
    }
    let ready = matches!(pui.request, Some(Ok(_)))
        && refusal.is_none()
        && balance_ok
        && cost_known
        && !state.creating
        && state.create_unsure.is_none();
    // Start and the batch share a row where the pane is wide enough: the footer stays short
    // and the form above keeps its room.
    let start = ui
        .horizontal_wrapped(|ui| {
            let start = ui.add_enabled(ready, egui::Button::new(t!("form.start")));
            super::batch::open_button(ui, state);
            start
        })
        .inner;
    let start = match &refusal {
        Some(why) => start.on_disabled_hover_text(why),
        None => start,
    };
    if start.clicked() {
        pui.confirming = true;
        state.create_error = None;
    }
    if state.creating {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label(t!("form.starting"));
        });
    }
    if let Some(e) = &state.create_error {
        ui.add(egui::Label::new(egui::RichText::new(e).color(ui.visuals().error_fg_color)).wrap());
    }
    if let Some((request, since)) = state.create_unsure.clone() {
        ui.horizontal_wrapped(|ui| {
            if ui.add_enabled(!state.creating, egui::Button::new(t!("create.check_again"))).clicked() {
                state.creating = true;
                out.push(Command::FindCreated { request, since });
            }
            // The user has looked at the table and knows it is not there.
            if ui.button(t!("create.send_anyway")).clicked() {
                state.create_unsure = None;
                state.create_error = None;
            }
        });
    }
    if pui.confirming {
        confirm_dialog(ui.ctx(), state, pui, models, out);
    }
}

fn confirm_dialog(
    ctx: &egui::Context,
    state: &mut AppState,
    pui: &mut NewProcessingUi,
    models: &[WorkflowDef],
    out: &mut Vec<Command>,
) {
    let Some(Ok(request)) = pui.request.clone() else {
        pui.confirming = false;
        return;
    };
    let mut close = false;
    super::modal(ctx, "form.confirm_title", t!("form.confirm_title"), |ui| {
        let form = &state.settings.form;
        egui::Grid::new("confirm_grid").num_columns(2).show(ui, |ui| {
            ui.label(t!("form.name"));
            ui.label(&form.name);
            ui.end_row();
            ui.label(t!("form.model"));
            ui.label(form.model(models).map(|m| super::drawable(ui.ctx(), &m.name)).unwrap_or_default());
            ui.end_row();
            ui.label(t!("aoi.title"));
            let area = pui.area_m2;
            ui.label(crate::app::messages::km2_text(area));
            ui.end_row();
            if let Some(cost) = state.cost.value() {
                ui.label(t!("form.cost"));
                ui.label(super::credits_text(*cost));
                ui.end_row();
            }
        });
        ui.horizontal(|ui| {
            if ui.button(t!("form.confirm_start")).clicked() {
                state.creating = true;
                state.create_error = None;
                out.push(Command::CreateProcessing { request: request.clone() });
                close = true;
            }
            if ui.button(t!("common.cancel")).clicked() {
                close = true;
            }
        });
    });
    if close {
        pui.confirming = false;
    }
}
