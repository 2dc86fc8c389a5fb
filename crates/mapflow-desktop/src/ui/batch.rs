//! The batch window: a file of polygons, the attribute that names each processing (and the
//! one that groups them), the plan with each item's checks and estimate, the confirmation of
//! the total, then the progress with Pause and Resume, and the summary.

use crate::api::BillingType;
use crate::app::AppState;
use crate::app::batch::PlanRow;
use crate::worker::Command;
use crate::worker::batch::{BatchRecord, BatchStop, ItemState};
use rust_i18n::t;

/// The button of the New processing form that opens the window.
pub fn open_button(ui: &mut egui::Ui, state: &mut AppState) {
    let under_way = state.batch.under_way();
    let text = if under_way { t!("batch.show_button") } else { t!("batch.open_button") };
    if ui.button(text).on_hover_text(t!("batch.open_hint")).clicked() {
        state.open_batch();
    }
}

/// The window, when open.
pub fn batch_window(ctx: &egui::Context, state: &mut AppState, out: &mut Vec<Command>) {
    if !state.batch.open {
        return;
    }
    let mut open = true;
    egui::Window::new(t!("batch.title"))
        .id(egui::Id::unique("batch_window"))
        .open(&mut open)
        .collapsible(false)
        .resizable(true)
        .default_size([640.0, 520.0])
        .min_width(560.0)
        .pivot(egui::Align2::CENTER_CENTER)
        .default_pos(ctx.content_rect().center())
        .constrain(true)
        .show(ctx, |ui| {
            found_ui(ui, state, out);
            if state.batch.record.is_some() {
                progress_ui(ui, state, out);
            } else {
                plan_ui(ui, state, out);
            }
        });
    if !open {
        state.batch.open = false;
        state.batch.confirming = false;
    }
    if state.batch.confirming {
        confirm_ui(ctx, state, out);
    }
}

/// Unfinished batches found at sign-in, each with Resume and Discard.
fn found_ui(ui: &mut egui::Ui, state: &mut AppState, out: &mut Vec<Command>) {
    // Read in place; the record asked for is copied once, on the click.
    let (mut resume, mut discard) = (None, None);
    for (at, record) in state.batch.found.iter().enumerate() {
        egui::Frame::group(ui.style()).show(ui, |ui| {
            let c = record.counts();
            ui.add(
                egui::Label::new(t!(
                    "batch.found",
                    file = record.file_name,
                    project = record.project_name,
                    when = record.created_at.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M"),
                    created = c.created,
                    total = record.items.len(),
                    open = c.open
                ))
                .wrap(),
            );
            let blocked = state.resume_blocked(record);
            if let Some(why) = &blocked {
                ui.colored_label(ui.visuals().warn_fg_color, why);
            }
            ui.horizontal(|ui| {
                let busy = state.batch.running;
                let button = ui.add_enabled(blocked.is_none() && !busy, egui::Button::new(t!("batch.resume")));
                if button.clicked() {
                    resume = Some(at);
                }
                if ui.button(t!("batch.discard")).on_hover_text(t!("batch.discard_hint")).clicked() {
                    discard = Some(record.id.clone());
                }
            });
        });
        ui.add_space(4.0);
    }
    if let Some(record) = resume.and_then(|at: usize| state.batch.found.get(at).cloned())
        && let Some(cmd) = state.resume_batch(record)
    {
        out.push(cmd);
    }
    if let Some(id) = discard {
        out.push(state.discard_batch(&id));
    }
}

fn plan_ui(ui: &mut egui::Ui, state: &mut AppState, out: &mut Vec<Command>) {
    ui.horizontal_wrapped(|ui| {
        // Busy only once a file is chosen: a dialog closed without one leaves the button on.
        if ui.add_enabled(!state.batch.reading, egui::Button::new(t!("batch.choose_file"))).clicked() {
            out.push(state.choose_batch_file());
        }
        match &state.batch.file {
            Some(path) => {
                let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                let n = state.batch.features.as_ref().map_or(0, |f| f.len());
                ui.label(t!("batch.file_features", file = name, n = n));
            }
            None => {
                ui.weak(t!("batch.no_file"));
            }
        }
    });
    if let Some(e) = &state.batch.read_error {
        ui.add(egui::Label::new(egui::RichText::new(e).color(ui.visuals().error_fg_color)).wrap());
    }
    let project = state.open_project.value().map(|p| p.name.clone());
    ui.add(
        egui::Label::new(
            egui::RichText::new(match &project {
                Some(p) => t!("batch.uses_form", project = p),
                None => t!("batch.no_project"),
            })
            .weak(),
        )
        .wrap(),
    );
    if state.batch.features.is_none() {
        return;
    }
    attributes_ui(ui, state);
    if let Some(cmd) = state.refresh_batch_plan() {
        out.push(cmd);
    }
    if let Some(wait) = state.batch_estimate_wait() {
        ui.ctx().request_repaint_after(wait);
    }
    ui.separator();
    let billed = state.status.value().map(|s| s.billing_type).unwrap_or_default() == BillingType::Credits;
    let footer_height = 110.0;
    egui::ScrollArea::vertical()
        .id_salt("batch_plan")
        .max_height((ui.available_height() - footer_height).max(80.0))
        .auto_shrink([false, true])
        .show(ui, |ui| plan_table(ui, state, billed));
    ui.separator();
    totals_ui(ui, state, billed);
}

fn attributes_ui(ui: &mut egui::Ui, state: &mut AppState) {
    let attributes = state.batch.attributes.clone();
    let none = t!("batch.attribute_none").into_owned();
    egui::Grid::new("batch_attributes").num_columns(2).spacing([8.0, 4.0]).show(ui, |ui| {
        let l = ui.label(t!("batch.name_attribute"));
        let shown = state.batch.name_attribute.clone().unwrap_or_else(|| none.clone());
        egui::ComboBox::from_id_salt("batch_name_attribute")
            .selected_text(super::drawable(ui.ctx(), &shown))
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut state.batch.name_attribute, None, &none);
                for a in &attributes {
                    ui.selectable_value(&mut state.batch.name_attribute, Some(a.clone()), super::drawable(ui.ctx(), a));
                }
            })
            .response
            .labelled_by(l.id);
        ui.end_row();
        let l = ui.label(t!("batch.group_by"));
        let shown = state.batch.group_by.clone().unwrap_or_else(|| none.clone());
        egui::ComboBox::from_id_salt("batch_group_by")
            .selected_text(super::drawable(ui.ctx(), &shown))
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut state.batch.group_by, None, &none);
                for a in &attributes {
                    ui.selectable_value(&mut state.batch.group_by, Some(a.clone()), super::drawable(ui.ctx(), a));
                }
            })
            .response
            .labelled_by(l.id);
        ui.end_row();
    });
    if state.batch.group_by.is_some() {
        ui.weak(t!("batch.group_hint"));
    }
}

fn plan_table(ui: &mut egui::Ui, state: &mut AppState, billed: bool) {
    // Taken out for the frame and put back, not copied: each row holds its whole request.
    let rows: Vec<PlanRow> = std::mem::take(&mut state.batch.rows);
    egui::Grid::new("batch_plan_grid").num_columns(5).striped(true).spacing([10.0, 3.0]).show(ui, |ui| {
        ui.label("");
        ui.strong(t!("batch.col_name"));
        ui.strong(t!("batch.col_area"));
        ui.strong(t!("batch.col_cost"));
        ui.strong(t!("batch.col_check"));
        ui.end_row();
        for row in &rows {
            let refused = row.check.is_err();
            let mut included = !state.batch.excluded.contains(&row.key) && !refused;
            let toggle = ui
                .add_enabled(!refused, egui::Checkbox::without_text(&mut included))
                .on_hover_text(t!("batch.include_hint"));
            if toggle.changed() {
                if included {
                    state.batch.excluded.remove(&row.key);
                } else {
                    state.batch.excluded.insert(row.key.clone());
                }
            }
            ui.label(super::drawable(ui.ctx(), &row.name));
            ui.label(if row.area_m2 > 0.0 { crate::app::messages::km2_text(row.area_m2) } else { "—".into() });
            match (&row.check, state.batch.cost(&row.key)) {
                (Err(_), _) => ui.weak("—"),
                (Ok(_), _) if !billed => ui.weak("—"),
                (Ok(_), None) => ui.spinner(),
                (Ok(_), Some(Ok(c))) => ui.label(super::credits_text(*c)),
                (Ok(_), Some(Err(_))) => ui.colored_label(ui.visuals().error_fg_color, t!("batch.no_cost")),
            };
            let error = ui.visuals().error_fg_color;
            match (&row.check, state.batch.cost(&row.key)) {
                _ if state.batch.excluded.contains(&row.key) && !refused => ui.weak(t!("batch.skipped")),
                (Err(why), _) => ui.colored_label(error, t!("batch.refused")).on_hover_text(why),
                (Ok(_), Some(Err(why))) if billed => ui.colored_label(error, t!("batch.refused")).on_hover_text(why),
                (Ok(_), _) => ui.label(t!("batch.ok")),
            };
            ui.end_row();
        }
    });
    // Why each refused item is refused, in full.
    let reasons: Vec<(String, String)> = rows
        .iter()
        .filter(|r| !state.batch.excluded.contains(&r.key))
        .filter_map(|r| match (&r.check, state.batch.cost(&r.key)) {
            (Err(why), _) => Some((r.name.clone(), why.clone())),
            (Ok(_), Some(Err(why))) if billed => Some((r.name.clone(), t!("batch.no_estimate", reason = why).into())),
            _ => None,
        })
        .collect();
    if !reasons.is_empty() {
        ui.add_space(6.0);
        ui.strong(t!("batch.refused_title"));
        for (name, why) in reasons {
            let text = format!("{}: {why}", super::drawable(ui.ctx(), &name));
            ui.add(egui::Label::new(egui::RichText::new(text).color(ui.visuals().error_fg_color)).wrap());
        }
    }
    state.batch.rows = rows;
}

fn totals_ui(ui: &mut egui::Ui, state: &mut AppState, billed: bool) {
    let totals = state.batch.totals(billed);
    let cost = if billed { super::credits_text(totals.cost) } else { "—".to_owned() };
    ui.add(
        egui::Label::new(t!(
            "batch.totals",
            n = totals.to_start,
            refused = totals.refused,
            skipped = totals.skipped,
            cost = cost
        ))
        .wrap(),
    );
    let mut blockers: Vec<String> = Vec::new();
    if let Some(p) = &state.batch.form_problem {
        blockers.push(p.clone());
    }
    if let Some(why) = state.refusal(crate::api::ProjectAction::StartProcessing) {
        blockers.push(why);
    }
    match state.status.value() {
        // Without the account nothing can be checked or charged knowingly: wait for it.
        None => blockers.push(t!("batch.account_unknown").into_owned()),
        Some(status) if billed => {
            let balance = status.remaining_credits;
            if totals.estimating == 0 && totals.cost > balance as f64 {
                blockers.push(
                    t!("form.not_enough_credits", cost = super::credits_text(totals.cost), balance = balance).into(),
                );
            }
        }
        Some(status) if status.billing_type == BillingType::Area => {
            let area: f64 = state
                .batch
                .rows
                .iter()
                .filter(|r| r.check.is_ok() && !state.batch.excluded.contains(&r.key))
                .map(|r| r.area_m2)
                .sum();
            if let Some(left) = status.remaining_area
                && area > left as f64
            {
                blockers.push(
                    t!(
                        "form.not_enough_area",
                        area = crate::app::messages::km2_text(area),
                        left = crate::app::messages::km2_text(left as f64)
                    )
                    .into_owned(),
                );
            }
        }
        Some(_) => {}
    }
    for b in &blockers {
        ui.add(egui::Label::new(egui::RichText::new(b).color(ui.visuals().warn_fg_color)).wrap());
    }
    ui.horizontal(|ui| {
        let ready = blockers.is_empty() && totals.to_start > 0 && totals.estimating == 0 && !state.batch.running;
        let start = ui.add_enabled(ready, egui::Button::new(t!("batch.start")));
        if start.clicked() {
            state.batch.confirming = true;
        }
        if totals.estimating > 0 {
            ui.spinner();
            ui.weak(t!("batch.estimating", n = totals.estimating));
        }
    });
}

fn confirm_ui(ctx: &egui::Context, state: &mut AppState, out: &mut Vec<Command>) {
    let billed = state.status.value().map(|s| s.billing_type).unwrap_or_default() == BillingType::Credits;
    let totals = state.batch.totals(billed);
    let project = state.open_project.value().map(|p| p.name.clone()).unwrap_or_default();
    let mut answer = None;
    super::modal(ctx, "batch.confirm", t!("batch.confirm_title"), |ui| {
        let text = if billed {
            t!("batch.confirm", n = totals.to_start, project = project, cost = super::credits_text(totals.cost))
        } else {
            t!("batch.confirm_unbilled", n = totals.to_start, project = project)
        };
        ui.add(egui::Label::new(text).wrap());
        if totals.refused + totals.skipped > 0 {
            ui.weak(t!("batch.confirm_left_out", refused = totals.refused, skipped = totals.skipped));
        }
        ui.horizontal(|ui| {
            if ui.button(t!("batch.confirm_start")).clicked() {
                answer = Some(true);
            }
            if ui.button(t!("common.cancel")).clicked() || ui.input(|i| i.key_pressed(egui::Key::Escape)) {
                answer = Some(false);
            }
        });
    });
    match answer {
        Some(true) => {
            if let Some(cmd) = state.start_batch() {
                out.push(cmd);
            }
        }
        Some(false) => state.batch.confirming = false,
        None => {}
    }
}

fn progress_ui(ui: &mut egui::Ui, state: &mut AppState, out: &mut Vec<Command>) {
    let Some(record) = state.batch.record.clone() else { return };
    let c = record.counts();
    let total = record.items.len();
    ui.add(egui::Label::new(t!("batch.heading", file = record.file_name, project = record.project_name)).wrap());
    let done = total - c.open;
    let fraction = if total == 0 { 1.0 } else { done as f32 / total as f32 };
    ui.add(egui::ProgressBar::new(fraction).text(t!("batch.progress", done = done, total = total)));
    ui.label(t!("batch.summary", created = c.created, refused = c.refused, skipped = c.skipped, open = c.open));
    match &state.batch.stop {
        Some(BatchStop::Failed(why)) => {
            ui.add(egui::Label::new(egui::RichText::new(why).color(ui.visuals().error_fg_color)).wrap());
        }
        Some(BatchStop::Paused) if c.open > 0 => {
            ui.weak(t!("batch.paused"));
        }
        _ => {}
    }
    ui.horizontal(|ui| {
        if state.batch.running {
            ui.spinner();
            if ui.button(t!("batch.pause")).on_hover_text(t!("batch.pause_hint")).clicked() {
                out.push(Command::PauseBatch);
            }
        } else if c.open > 0 {
            let blocked = state.resume_blocked(&record);
            let resume = ui.add_enabled(blocked.is_none(), egui::Button::new(t!("batch.resume")));
            if resume.clicked()
                && let Some(cmd) = state.resume_batch((*record).clone())
            {
                out.push(cmd);
            }
            if let Some(why) = blocked {
                ui.colored_label(ui.visuals().warn_fg_color, why);
            }
        } else if ui.button(t!("batch.new")).clicked() {
            state.batch.record = None;
            state.batch.stop = None;
        }
    });
    ui.separator();
    egui::ScrollArea::vertical()
        .id_salt("batch_items")
        .auto_shrink([false, true])
        .show(ui, |ui| items_table(ui, &record));
}

fn items_table(ui: &mut egui::Ui, record: &BatchRecord) {
    egui::Grid::new("batch_items_grid").num_columns(4).striped(true).spacing([10.0, 3.0]).show(ui, |ui| {
        ui.strong(t!("batch.col_name"));
        ui.strong(t!("batch.col_area"));
        ui.strong(t!("batch.col_cost"));
        ui.strong(t!("batch.col_state"));
        ui.end_row();
        for item in &record.items {
            ui.label(super::drawable(ui.ctx(), &item.name));
            ui.label(if item.area_m2 > 0.0 { crate::app::messages::km2_text(item.area_m2) } else { "—".into() });
            match item.cost {
                Some(c) => ui.label(super::credits_text(c)),
                None => ui.weak("—"),
            };
            let error = ui.visuals().error_fg_color;
            match &item.state {
                ItemState::Waiting => ui.weak(t!("batch.waiting")),
                ItemState::Sending { .. } => ui.label(t!("batch.sending")),
                ItemState::Created { adopted: false, .. } => ui.label(t!("batch.created")),
                ItemState::Created { adopted: true, .. } => {
                    ui.label(t!("batch.created")).on_hover_text(t!("batch.adopted_hint"))
                }
                ItemState::Refused { reason } => ui.colored_label(error, t!("batch.refused")).on_hover_text(reason),
                ItemState::Skipped => ui.weak(t!("batch.skipped")),
            };
            ui.end_row();
        }
    });
    let refused: Vec<(&str, &str)> = record
        .items
        .iter()
        .filter_map(|i| match &i.state {
            ItemState::Refused { reason } => Some((i.name.as_str(), reason.as_str())),
            _ => None,
        })
        .collect();
    if !refused.is_empty() {
        ui.add_space(6.0);
        ui.strong(t!("batch.refused_title"));
        for (name, why) in refused {
            let text = format!("{}: {why}", super::drawable(ui.ctx(), name));
            ui.add(egui::Label::new(egui::RichText::new(text).color(ui.visuals().error_fg_color)).wrap());
        }
    }
}
