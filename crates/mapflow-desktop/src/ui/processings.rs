//! The processings table of the open project, and the selected processing's details.

use crate::api::{Processing, ProcessingEdit, ProcessingId, ProcessingSortBy, ProcessingStatus, ProjectId, SortOrder};
use crate::app::AppState;
use crate::worker::Command;
use rust_i18n::t;

/// Dialog state of the table.
#[derive(Debug, Default)]
pub struct ProcessingsUi {
    pub filter: String,
    pub renaming: Option<(ProcessingId, String)>,
    pub moving: Option<(ProcessingId, Option<ProjectId>)>,
    pub deleting: Option<(ProcessingId, String)>,
    pub rating: Option<(ProcessingId, u8, String)>,
    /// The table's pane is the one the user works in: its keyboard shortcuts apply.
    pub has_focus: bool,
    /// The review decision being written.
    pub review: super::review::ReviewUi,
}

/// A status as the API spells it (`OK`, `IN_PROGRESS`…), in words.
pub fn status_word(status: &ProcessingStatus) -> String {
    match status {
        ProcessingStatus::Unprocessed => t!("status.unprocessed"),
        ProcessingStatus::InProgress => t!("status.in_progress"),
        ProcessingStatus::Awaiting => t!("status.awaiting"),
        ProcessingStatus::Ok => t!("status.ok"),
        ProcessingStatus::Failed => t!("status.failed"),
        ProcessingStatus::Cancelled => t!("status.cancelled"),
        ProcessingStatus::Refunded => t!("status.refunded"),
        ProcessingStatus::Other(other) => return other.clone(),
    }
    .into_owned()
}

/// The status the user cares about: the review status when there is one.
pub fn status_text(p: &Processing) -> String {
    if let Some(review) = p.review_status.as_ref().and_then(|r| r.review_status.as_deref()) {
        return match review {
            "IN_REVIEW" => t!("review.required"),
            "NOT_ACCEPTED" => t!("status.not_accepted"),
            "ACCEPTED" => t!("status.accepted"),
            "REFUNDED" => t!("status.refunded"),
            other => return other.to_owned(),
        }
        .into_owned();
    }
    status_word(&p.status)
}

pub fn processings_ui(ui: &mut egui::Ui, state: &mut AppState, pui: &mut ProcessingsUi, out: &mut Vec<Command>) {
    let Some(project) = state.open_project.value() else {
        ui.weak(t!("processings.no_project"));
        return;
    };
    let project_name = super::drawable(ui.ctx(), &project.name);
    let mut requery = false;
    ui.horizontal(|ui| {
        ui.strong(t!("processings.title", project = project_name));
        if state.processings.is_pending() {
            ui.spinner();
        }
        if ui.small_button(t!("common.refresh")).clicked() {
            requery = true;
        }
        let l = ui.label(t!("processings.filter"));
        let field = egui::TextEdit::singleline(&mut pui.filter).desired_width(140.0).id(egui::Id::unique(FILTER_ID));
        if ui.add(field).labelled_by(l.id).changed() {
            let f = pui.filter.trim();
            state.processing_query.terms = (!f.is_empty()).then(|| f.to_owned());
            state.processing_query.offset = 0;
            requery = true;
        }
    });
    if let Some(saved_at) = state.processings_saved_at {
        if super::offline_mark(ui, saved_at, state.processings.error(), state.processings.is_pending()) {
            requery = true;
        }
    } else if let Some(e) = state.processings.error().cloned()
        && super::error_box(ui, &e)
    {
        requery = true;
    }

    let Some(page) = state.processings.value().cloned() else {
        if requery && let Some(cmd) = state.watch_processings() {
            out.push(cmd);
        }
        return;
    };
    let q = &state.processing_query;
    if page.total > q.limit {
        let (offset, limit, total) = (q.offset, q.limit, page.total);
        ui.horizontal(|ui| {
            if ui.add_enabled(offset > 0, egui::Button::new(t!("common.previous"))).clicked() {
                state.processing_query.offset = (offset - limit).max(0);
                requery = true;
            }
            ui.label(t!("common.range", from = offset + 1, to = (offset + limit).min(total), total = total));
            if ui.add_enabled(offset + limit < total, egui::Button::new(t!("common.next"))).clicked() {
                state.processing_query.offset = offset + limit;
                requery = true;
            }
        });
    }
    if page.results.is_empty() {
        ui.weak(if state.processing_query.terms.is_some() {
            t!("processings.none_match")
        } else {
            t!("processings.none")
        });
    }
    if table_ui(ui, state, pui, &page, out) {
        requery = true;
    }
    if pui.has_focus {
        shortcuts(ui, state, pui, out);
    }
    if requery && let Some(cmd) = state.watch_processings() {
        out.push(cmd);
    }
}

/// The table: a header that sorts on the server, one row per processing with its progress,
/// a context menu with every action; only the rows in view are laid out. True when the sort
/// changed and the page must be loaded again.
fn table_ui(
    ui: &mut egui::Ui,
    state: &mut AppState,
    pui: &mut ProcessingsUi,
    page: &crate::api::Page<Processing>,
    out: &mut Vec<Command>,
) -> bool {
    use egui_extras::{Column, TableBuilder};
    let mut requery = false;
    let mut clicked = None;
    let row_height = ui.spacing().interact_size.y + 4.0;
    // Column widths are remembered per table id: keyed by the pane's width (in 40 px steps),
    // the columns are laid out afresh when the pane narrows or widens, never left past its edge.
    let width_step = (ui.available_width() / 40.0).round() as i32;
    // Under review the status carries its deadline: a wider column, as wide as the pane
    // allows with the other columns at their least (a narrow pane clips the deadline, not
    // the columns after it).
    let reviewed = page.results.iter().any(|p| p.in_review());
    let others = 100.0 + 70.0 + 50.0 + 105.0 + 6.0 * ui.spacing().item_spacing.x;
    let status_width = if reviewed { (ui.available_width() - others).clamp(110.0, 210.0) } else { 110.0 };
    TableBuilder::new(ui)
        .id_salt(("processings_table", width_step, reviewed))
        .striped(true)
        .resizable(true)
        .sense(egui::Sense::click())
        .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
        // The name takes what the others leave, so the table never runs past its pane.
        .column(Column::remainder().at_least(100.0).clip(true))
        .column(Column::initial(status_width).at_least(70.0).clip(true))
        .column(Column::initial(70.0).at_least(50.0).clip(true))
        .column(Column::initial(50.0).at_least(40.0).clip(true))
        .column(Column::initial(105.0).at_least(60.0).clip(true))
        .header(row_height, |mut header| {
            let headers = [
                (t!("processings.col_name"), ProcessingSortBy::Name),
                (t!("processings.col_status"), ProcessingSortBy::Status),
                (t!("processings.col_area"), ProcessingSortBy::Area),
                (t!("processings.col_cost"), ProcessingSortBy::Cost),
                (t!("processings.col_created"), ProcessingSortBy::Created),
            ];
            for (label, sort) in headers {
                header.col(|ui| {
                    let q = &mut state.processing_query;
                    let active = q.sort_by == Some(sort);
                    let arrow = match (active, q.sort_order) {
                        (true, Some(SortOrder::Asc)) => " ⬆",
                        (true, _) => " ⬇",
                        _ => "",
                    };
                    let button =
                        egui::Button::new(egui::RichText::new(format!("{label}{arrow}")).strong()).frame(false);
                    if ui.add(button).on_hover_text(t!("processings.sort_hint")).clicked() {
                        if active {
                            q.sort_order = Some(if q.sort_order == Some(SortOrder::Asc) {
                                SortOrder::Desc
                            } else {
                                SortOrder::Asc
                            });
                        } else {
                            q.sort_by = Some(sort);
                            q.sort_order = Some(SortOrder::Desc);
                        }
                        q.offset = 0;
                        requery = true;
                    }
                });
            }
        })
        .body(|body| {
            body.rows(row_height, page.results.len(), |mut row| {
                let Some(p) = page.results.get(row.index()) else { return };
                let selected = state.selected_processing.as_ref() == Some(&p.id);
                row.set_selected(selected);
                row.col(|ui| {
                    let name = ui.selectable_label(selected, super::drawable(ui.ctx(), &p.name));
                    if name.clicked() {
                        clicked = Some(p.id.clone());
                    }
                    row_menu(&name, state, pui, p, out);
                });
                row.col(|ui| status_cell(ui, p));
                row.col(|ui| {
                    ui.label(crate::app::messages::km2_text(p.aoi_area as f64));
                });
                row.col(|ui| {
                    ui.label(p.cost.to_string());
                });
                row.col(|ui| {
                    ui.label(p.created.as_deref().map(super::local_time).unwrap_or_default());
                });
                let response = row.response();
                if response.clicked() {
                    clicked = Some(p.id.clone());
                }
                row_menu(&response, state, pui, p, out);
            });
        });
    if let Some(id) = clicked {
        let again = state.selected_processing.as_ref() == Some(&id);
        state.selected_processing = if again { None } else { Some(id) };
    }
    requery
}

/// The row's context menu: every action on the processing, which it also selects.
fn row_menu(
    response: &egui::Response,
    state: &mut AppState,
    pui: &mut ProcessingsUi,
    p: &Processing,
    out: &mut Vec<Command>,
) {
    response.context_menu(|ui| {
        state.selected_processing = Some(p.id.clone());
        if actions_ui(ui, state, pui, p, out) {
            ui.close();
        }
    });
}

/// A terminal status in its colour, or a progress bar.
fn status_cell(ui: &mut egui::Ui, p: &Processing) {
    if super::review::status_cell(ui, p) {
        return;
    }
    if p.status.is_terminal() {
        let color = match p.status {
            ProcessingStatus::Failed => ui.visuals().error_fg_color,
            ProcessingStatus::Ok => egui::Color32::from_rgb(60, 160, 90),
            _ => ui.visuals().text_color(),
        };
        ui.colored_label(color, status_text(p));
    } else {
        // The percentage always fits; the status word goes with it only where there is room.
        let full = format!("{} {}%", status_text(p), p.percent_completed);
        let room = ui.available_width();
        let fits = ui.fonts_mut(|f| {
            f.layout_no_wrap(full.clone(), egui::TextStyle::Body.resolve(ui.style()), egui::Color32::WHITE).size().x
        }) + 2.0 * ui.spacing().button_padding.x
            <= room.min(140.0);
        let text = if fits { full.clone() } else { format!("{}%", p.percent_completed) };
        ui.add(
            egui::ProgressBar::new(p.percent_completed.clamp(0, 100) as f32 / 100.0)
                .desired_width(room.min(140.0))
                .text(text),
        )
        .on_hover_text(full);
    }
}

/// Delete, F2 (rename), Enter (show the result) act on the selected processing; Ctrl+F
/// goes to the filter.
fn shortcuts(ui: &mut egui::Ui, state: &mut AppState, pui: &mut ProcessingsUi, out: &mut Vec<Command>) {
    if ui.memory(|m| m.focused().is_some()) {
        if ui.input_mut(|i| i.consume_key(egui::Modifiers::COMMAND, egui::Key::F)) {
            ui.memory_mut(|m| m.request_focus(egui::Id::unique(FILTER_ID)));
        }
        return;
    }
    if ui.input_mut(|i| i.consume_key(egui::Modifiers::COMMAND, egui::Key::F)) {
        ui.memory_mut(|m| m.request_focus(egui::Id::unique(FILTER_ID)));
    }
    let Some(p) = state.selected_processing.as_ref().and_then(|id| state.processing(id)).cloned() else { return };
    let (delete, rename, enter) = ui.input_mut(|i| {
        (
            i.consume_key(egui::Modifiers::NONE, egui::Key::Delete),
            i.consume_key(egui::Modifiers::NONE, egui::Key::F2),
            i.consume_key(egui::Modifiers::NONE, egui::Key::Enter),
        )
    });
    // What the role forbids, the keys do not do either.
    let may_edit = state.refusal(crate::api::ProjectAction::EditProcessing).is_none();
    if delete && may_edit {
        pui.deleting = Some((p.id.clone(), p.name.clone()));
    }
    if rename && may_edit {
        pui.renaming = Some((p.id.clone(), p.name.clone()));
    }
    if enter
        && p.status == ProcessingStatus::Ok
        && let Some(cmd) = state.show_result(&p.id)
    {
        out.push(cmd);
    }
}

/// The id of the table's filter field, for Ctrl+F.
const FILTER_ID: &str = "processings_filter";

/// The selected processing: source, model, blocks, messages, and what can be done with it.
pub fn details_ui(ui: &mut egui::Ui, state: &mut AppState, pui: &mut ProcessingsUi, out: &mut Vec<Command>) {
    let Some(p) = state.selected_processing.as_ref().and_then(|id| state.processing(id)).cloned() else {
        ui.weak(t!("details.none"));
        return;
    };
    ui.strong(super::drawable(ui.ctx(), &p.name));
    // The toolbar first, so every action is in view however short the pane.
    ui.horizontal_wrapped(|ui| {
        actions_ui(ui, state, pui, &p, out);
    });
    super::review::details_lines(ui, state, &p);
    ui.separator();
    egui::Grid::new("details_grid").num_columns(2).spacing([8.0, 2.0]).show(ui, |ui| {
        ui.label(t!("details.status"));
        ui.label(format!("{} ({}%)", status_text(&p), p.percent_completed));
        ui.end_row();
        ui.label(t!("form.model"));
        ui.label(p.workflow_def.as_ref().map(|w| super::drawable(ui.ctx(), &w.name)).unwrap_or_default());
        ui.end_row();
        ui.label(t!("form.source"));
        ui.add(egui::Label::new(source_text(&p.params)).wrap());
        ui.end_row();
        if let Some(zoom) = source_zoom(&p.params) {
            ui.label(t!("form.zoom"));
            ui.label(zoom);
            ui.end_row();
        }
        let blocks: Vec<String> = p
            .blocks
            .iter()
            .map(|b| {
                format!(
                    "{} {}",
                    if b.enabled { "☑" } else { "☐" },
                    b.display_name.clone().unwrap_or_else(|| b.name.clone())
                )
            })
            .collect();
        if !blocks.is_empty() {
            ui.label(t!("details.blocks"));
            ui.add(egui::Label::new(blocks.join(", ")).wrap());
            ui.end_row();
        }
        ui.label(t!("processings.col_area"));
        ui.label(crate::app::messages::km2_text(p.aoi_area as f64));
        ui.end_row();
        ui.label(t!("processings.col_cost"));
        ui.label(p.cost.to_string());
        ui.end_row();
        if let Some(r) = p.rating.as_ref().and_then(|r| r.rating) {
            ui.label(t!("details.rating"));
            ui.label("★".repeat(r.clamp(0, 5) as usize));
            ui.end_row();
        }
    });
    for m in &p.messages {
        let text = crate::app::messages::code_text(&m.code, &m.parameters, "");
        ui.colored_label(ui.visuals().error_fg_color, text).on_hover_text(&m.code);
    }
    if p.status == ProcessingStatus::Failed
        && let Some(fix) = crate::app::guards::parameter_failure(&p.messages)
    {
        ui.add(egui::Label::new(t!("guards.param_failure", what = fix.what())).wrap());
    }
    if let Some(view) = state.results.get(&p.id) {
        match (view.state.value(), view.state.error()) {
            (_, Some(e)) => {
                ui.colored_label(ui.visuals().error_fg_color, t!("details.result_failed", reason = e));
            }
            (None, None) => {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label(t!("details.result_loading"));
                });
            }
            (Some(layer), None) => {
                ui.label(t!("details.features", n = layer.feature_count()));
            }
        }
    }
}

/// Every action on a processing, as buttons (the details' toolbar, the row's context menu);
/// true when one was clicked.
fn actions_ui(
    ui: &mut egui::Ui,
    state: &mut AppState,
    pui: &mut ProcessingsUi,
    p: &Processing,
    out: &mut Vec<Command>,
) -> bool {
    let mut any = super::review::actions(ui, state, &mut pui.review, p, out);
    // What the role in the project forbids is greyed, the reason on hover.
    let may_edit = state.refusal(crate::api::ProjectAction::EditProcessing);
    let may_start = state.refusal(crate::api::ProjectAction::StartProcessing);
    let mut guarded = |ui: &mut egui::Ui, label: std::borrow::Cow<'_, str>, refusal: &Option<String>| {
        let button = ui.add_enabled(refusal.is_none(), egui::Button::new(label.as_ref()));
        let clicked = button.on_disabled_hover_text(refusal.clone().unwrap_or_default()).clicked();
        any |= clicked;
        clicked
    };
    let open = None;
    if p.status == ProcessingStatus::Ok {
        if guarded(ui, t!("processings.show_result"), &open)
            && let Some(cmd) = state.show_result(&p.id)
        {
            out.push(cmd);
        }
        if guarded(ui, t!("details.save_result"), &open) {
            out.push(Command::SaveResult { id: p.id.clone(), name: p.name.clone(), path: None });
        }
        if guarded(ui, t!("details.rate"), &may_edit) {
            let current = p.rating.as_ref().and_then(|r| r.rating).unwrap_or(5).clamp(1, 5) as u8;
            pui.rating = Some((p.id.clone(), current, String::new()));
        }
    }
    if guarded(ui, t!("details.show_aois"), &open) {
        out.push(Command::LoadProcessingAois { id: p.id.clone() });
    }
    if p.status == ProcessingStatus::Failed {
        // A run that failed for a parameter would fail again: offer the copy to fix instead.
        match crate::app::guards::parameter_failure(&p.messages) {
            Some(fix) => {
                if guarded(ui, t!("guards.duplicate_to_fix", what = fix.what()), &open) {
                    duplicate(state, p);
                }
            }
            None => {
                if guarded(ui, t!("details.restart"), &may_start) {
                    out.push(Command::RestartProcessing { id: p.id.clone() });
                }
            }
        }
    }
    if guarded(ui, t!("details.duplicate"), &open) {
        duplicate(state, p);
    }
    if guarded(ui, t!("projects.rename"), &may_edit) {
        pui.renaming = Some((p.id.clone(), p.name.clone()));
    }
    if guarded(ui, t!("details.move"), &may_edit) {
        pui.moving = Some((p.id.clone(), None));
    }
    if guarded(ui, t!("projects.delete"), &may_edit) {
        pui.deleting = Some((p.id.clone(), p.name.clone()));
    }
    any
}

/// "Imagery: provider Mapbox" and the like, from the processing's `params`.
fn source_text(params: &serde_json::Value) -> String {
    let sp = &params["sourceParams"];
    if let Some(p) = sp.get("dataProvider") {
        return t!("details.src_provider", name = p["providerName"].as_str().unwrap_or("?")).into_owned();
    }
    if let Some(m) = sp.get("myImagery") {
        return match m.get("mosaicId").and_then(|v| v.as_str()) {
            Some(id) => t!("details.src_mosaic", id = id).into_owned(),
            None => t!("details.src_images", n = m["imageIds"].as_array().map_or(0, Vec::len)).into_owned(),
        };
    }
    if let Some(s) = sp.get("imagerySearch") {
        return t!(
            "details.src_search",
            provider = s["dataProvider"].as_str().unwrap_or("?"),
            n = s["imageIds"].as_array().map_or(0, Vec::len)
        )
        .into_owned();
    }
    if let Some(u) = sp.get("userDefined") {
        return format!("{} {}", u["sourceType"].as_str().unwrap_or(""), u["url"].as_str().unwrap_or(""));
    }
    "—".into()
}

fn source_zoom(params: &serde_json::Value) -> Option<String> {
    let sp = params.get("sourceParams")?.as_object()?;
    let inner = sp.values().next()?;
    match inner.get("zoom")? {
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

/// Refills the form and the AOI from a processing, to run it again with changes.
fn duplicate(state: &mut AppState, p: &Processing) {
    let form = &mut state.settings.form;
    form.name = format!("{} (2)", p.name);
    if let Some(w) = &p.workflow_def {
        form.model = Some(w.id.clone());
        form.enabled_blocks = p.blocks.iter().filter(|b| b.enabled).map(|b| b.name.clone()).collect();
    }
    if let Ok(params) = serde_json::from_value::<crate::api::ProcessingParams>(p.params.clone()) {
        use crate::api::SourceParams as S;
        use crate::app::form::SourceKind as K;
        match params.source_params {
            S::DataProvider { provider_name, zoom } => {
                form.source = K::Provider;
                form.provider = provider_name;
                if let Some(z) = zoom {
                    form.provider_zoom = z;
                }
            }
            S::MyImagery { image_ids, mosaic_id } => {
                form.source = K::MyImagery;
                form.my_imagery.image_ids = image_ids.unwrap_or_default();
                form.my_imagery.mosaic_id = mosaic_id;
                form.my_imagery.label = p.name.clone();
            }
            S::ImagerySearch { data_provider, image_ids, zoom } => {
                form.source = K::Catalog;
                form.catalog = crate::app::form::CatalogSource {
                    provider: data_provider,
                    image_ids,
                    zoom,
                    ..crate::app::form::CatalogSource::default()
                };
            }
            S::UserDefined { source_type, url, zoom, crs, raster_login, .. } => {
                form.source = K::Custom;
                form.custom.source_type = source_type;
                form.custom.url = url;
                form.custom.zoom = zoom.unwrap_or(18);
                form.custom.crs = crs;
                form.custom.login = raster_login.unwrap_or_default();
            }
        }
    }
    // The AOIs come from the processing's own geometry, once loaded.
    if let Some(aoi) = state.processing_aois.get(&p.id).cloned() {
        state.settings.aoi.replace(aoi);
    } else {
        state.follow_up.push(Command::LoadProcessingAois { id: p.id.clone() });
        state.duplicate_aoi_of = Some(p.id.clone());
    }
}

/// The rename, move, delete and rate dialogs, drawn whichever pane opened them.
pub fn dialogs(ctx: &egui::Context, state: &mut AppState, pui: &mut ProcessingsUi, out: &mut Vec<Command>) {
    if let Some((id, name)) = &mut pui.renaming {
        let mut close = false;
        super::dialog(ctx, t!("details.rename_title")).show(ctx, |ui| {
            let l = ui.label(t!("details.name"));
            ui.add(egui::TextEdit::singleline(name)).labelled_by(l.id);
            ui.horizontal(|ui| {
                if ui.add_enabled(!name.trim().is_empty(), egui::Button::new(t!("common.save"))).clicked() {
                    out.push(Command::UpdateProcessing {
                        id: id.clone(),
                        edit: ProcessingEdit { name: Some(name.trim().to_owned()), ..ProcessingEdit::default() },
                    });
                    close = true;
                }
                if ui.button(t!("common.cancel")).clicked() {
                    close = true;
                }
            });
        });
        if close {
            pui.renaming = None;
        }
    }
    if let Some((id, target)) = &mut pui.moving {
        let mut close = false;
        // A project where the user may not start processings cannot take one either: it is
        // listed greyed, with the reason.
        let projects: Vec<(ProjectId, String, bool)> = state
            .projects
            .value()
            .map(|p| {
                p.results
                    .iter()
                    .filter(|x| Some(&x.id) != state.open_project_id())
                    .map(|x| (x.id.clone(), x.name.clone(), x.allows(crate::api::ProjectAction::StartProcessing)))
                    .collect()
            })
            .unwrap_or_default();
        super::dialog(ctx, t!("details.move_title")).show(ctx, |ui| {
            for (pid, name, allowed) in &projects {
                let radio = egui::RadioButton::new(target.as_ref() == Some(pid), super::drawable(ui.ctx(), name));
                let response = ui.add_enabled(*allowed, radio);
                if response.clicked() {
                    *target = Some(pid.clone());
                }
                if !allowed {
                    response.on_disabled_hover_text(t!("roles.cannot_start_here"));
                }
            }
            ui.horizontal(|ui| {
                if ui.add_enabled(target.is_some(), egui::Button::new(t!("details.move_confirm"))).clicked() {
                    out.push(Command::UpdateProcessing {
                        id: id.clone(),
                        edit: ProcessingEdit { project_id: target.clone(), ..ProcessingEdit::default() },
                    });
                    close = true;
                }
                if ui.button(t!("common.cancel")).clicked() {
                    close = true;
                }
            });
        });
        if close {
            pui.moving = None;
        }
    }
    if let Some((id, name)) = &pui.deleting {
        let question = t!("details.delete_confirm", name = name);
        if let Some(answer) = super::confirm_delete(ctx, "details.delete", t!("details.delete_title"), &question) {
            if answer == super::Answer::Delete {
                out.push(Command::DeleteProcessing { id: id.clone() });
            }
            pui.deleting = None;
        }
    }
    if let Some((id, stars, feedback)) = &mut pui.rating {
        let mut close = false;
        super::dialog(ctx, t!("details.rate_title")).show(ctx, |ui| {
            ui.horizontal(|ui| {
                for n in 1..=5u8 {
                    let label = if n <= *stars { "★" } else { "☆" };
                    if ui.button(label).on_hover_text(n.to_string()).clicked() {
                        *stars = n;
                    }
                }
            });
            let l = ui.label(t!("details.feedback"));
            ui.add(egui::TextEdit::multiline(feedback).desired_rows(3)).labelled_by(l.id);
            ui.horizontal(|ui| {
                if ui.button(t!("details.send_rating")).clicked() {
                    out.push(Command::RateProcessing { id: id.clone(), rating: *stars, feedback: feedback.clone() });
                    close = true;
                }
                if ui.button(t!("common.cancel")).clicked() {
                    close = true;
                }
            });
        });
        if close {
            pui.rating = None;
        }
    }
}
