//! The review workflow in the processings table and details: "Review required" with its
//! deadline (warned of within a day), Accept, and Reject with a comment and the features
//! marked on the map or in the attribute table (or drawn).

use crate::api::{Processing, ProcessingId, ProjectAction};
use crate::app::AppState;
use crate::app::review::deadline_is_near;
use crate::worker::{Command, MarkedFeatures};
use rust_i18n::t;

/// The rejection being written.
#[derive(Debug, Default)]
pub struct ReviewUi {
    pub rejecting: Option<RejectDraft>,
}

/// A rejection in the dialog: the comment, whether the picked features and the drawn area go
/// with it, and whether it was sent (the dialog closes once it is answered without error).
#[derive(Debug)]
pub struct RejectDraft {
    pub id: ProcessingId,
    pub name: String,
    pub comment: String,
    pub with_picked: bool,
    pub with_drawn: bool,
    pub sent: bool,
}

/// The colour of a review state and of a deadline that is near.
fn warn_color(ui: &egui::Ui) -> egui::Color32 {
    ui.visuals().warn_fg_color
}

/// The deadline of a processing in review, as shown: "until 12 May 14:00", and whether it is
/// within a day.
pub fn deadline_text(p: &Processing) -> Option<(String, bool)> {
    let until = p.review_deadline()?;
    let near = deadline_is_near(until, chrono::Utc::now());
    let shown = super::local_time(&until.to_rfc3339());
    Some((if near { t!("review.due_soon", time = shown) } else { t!("review.due", time = shown) }.into_owned(), near))
}

/// The status cell of a processing under review: its state, and for one in review the
/// deadline, warned of in the error colour within a day. True when it drew the cell.
pub fn status_cell(ui: &mut egui::Ui, p: &Processing) -> bool {
    let Some(state) = p.review_state() else { return false };
    let text = super::processings::status_text(p);
    let color = match state {
        crate::api::review_state::ACCEPTED => egui::Color32::from_rgb(60, 160, 90),
        crate::api::review_state::NOT_ACCEPTED => ui.visuals().error_fg_color,
        crate::api::review_state::IN_REVIEW => warn_color(ui),
        _ => ui.visuals().text_color(),
    };
    let response = ui.colored_label(color, &text);
    match p.in_review().then(|| deadline_text(p)).flatten() {
        Some((deadline, near)) => {
            let deadline_color = if near { ui.visuals().error_fg_color } else { ui.visuals().weak_text_color() };
            ui.add(egui::Label::new(egui::RichText::new(&deadline).color(deadline_color)).truncate())
                .on_hover_text(format!("{text}\n{deadline}"));
            response.on_hover_text(format!("{text}\n{deadline}"));
        }
        None => {
            response.on_hover_text(&text);
        }
    }
    true
}

/// The review lines of the details: the state with its deadline, and the last decision's
/// failure.
pub fn details_lines(ui: &mut egui::Ui, state: &AppState, p: &Processing) {
    if p.in_review()
        && let Some((deadline, near)) = deadline_text(p)
    {
        let color = if near { ui.visuals().error_fg_color } else { ui.visuals().text_color() };
        ui.add(egui::Label::new(egui::RichText::new(t!("review.required_line", due = deadline)).color(color)).wrap());
    }
    if let Some((id, error)) = &state.review.decision_error
        && id == &p.id
    {
        ui.add(egui::Label::new(egui::RichText::new(error).color(ui.visuals().error_fg_color)).wrap());
    }
}

/// Accept and Reject… for a processing in review, disabled (with the reason on hover) when
/// the role does not allow a decision or one is on its way. True when one was clicked.
pub fn actions(
    ui: &mut egui::Ui,
    state: &mut AppState,
    rui: &mut ReviewUi,
    p: &Processing,
    out: &mut Vec<Command>,
) -> bool {
    if !p.in_review() {
        return false;
    }
    let refusal = state.refusal(ProjectAction::EditProcessing);
    let busy = state.review.deciding.is_some();
    let enabled = refusal.is_none() && !busy;
    let hint = refusal.clone().unwrap_or_else(|| t!("review.busy").into_owned());
    let mut clicked = false;
    let accept = ui.add_enabled(enabled, egui::Button::new(t!("review.accept"))).on_disabled_hover_text(&hint);
    if accept.clicked() {
        out.push(state.accept(p.id.clone()));
        clicked = true;
    }
    let reject = ui.add_enabled(enabled, egui::Button::new(t!("review.reject"))).on_disabled_hover_text(&hint);
    if reject.clicked() {
        rui.rejecting = Some(RejectDraft {
            id: p.id.clone(),
            name: p.name.clone(),
            comment: String::new(),
            with_picked: true,
            // The drawn area is often the last run's, left in the form: it goes with the
            // rejection only when the user ticks it.
            with_drawn: false,
            sent: false,
        });
        state.review.decision_error = None;
        clicked = true;
    }
    clicked
}

/// The features a rejection of `id` would carry now: the selection of its result (map or
/// table) and the drawn AOI, each when asked for.
fn marked(
    state: &AppState,
    selection: &Option<(ProcessingId, std::sync::Arc<crate::results::table::FeatureSet>)>,
    draft: &RejectDraft,
) -> MarkedFeatures {
    let picked = selection
        .as_ref()
        .filter(|(id, set)| id == &draft.id && !set.is_empty() && draft.with_picked)
        .and_then(|(id, set)| {
            let layer = state.results.get(id)?.layer()?.clone();
            Some(crate::results::table::SelectedFeatures { layer, features: set.clone() })
        });
    let drawn = if draft.with_drawn { state.settings.aoi.aoi.polygons.clone() } else { Vec::new() };
    MarkedFeatures { picked, drawn }
}

/// The rejection dialog: what is wrong in words, and the features that go with it.
pub fn reject_dialog(
    ctx: &egui::Context,
    state: &mut AppState,
    rui: &mut ReviewUi,
    selection: &Option<(ProcessingId, std::sync::Arc<crate::results::table::FeatureSet>)>,
    out: &mut Vec<Command>,
) {
    let Some(draft) = &mut rui.rejecting else { return };
    // Sent and answered: closed when it worked, open with the error when it did not.
    if draft.sent && state.review.deciding.as_ref() != Some(&draft.id) {
        if state.review.decision_error.as_ref().is_some_and(|(id, _)| id == &draft.id) {
            draft.sent = false;
        } else {
            rui.rejecting = None;
            return;
        }
    }
    let picked_count = selection
        .as_ref()
        .filter(|(id, _)| id == &draft.id && state.results.get(id).and_then(|v| v.layer()).is_some())
        .map_or(0, |(_, set)| set.len());
    let drawn_count = state.settings.aoi.aoi.polygons.len();
    let mut close = false;
    super::dialog(ctx, t!("review.reject_title")).show(ctx, |ui| {
        ui.set_max_width(420.0);
        ui.add(egui::Label::new(t!("review.reject_intro", name = super::drawable(ui.ctx(), &draft.name))).wrap());
        let l = ui.label(t!("review.comment"));
        ui.add(egui::TextEdit::multiline(&mut draft.comment).desired_rows(3).desired_width(400.0)).labelled_by(l.id);
        ui.checkbox(&mut draft.with_picked, t!("review.with_picked", n = picked_count));
        ui.checkbox(&mut draft.with_drawn, t!("review.with_drawn", n = drawn_count));
        let count = if draft.with_picked { picked_count } else { 0 } + if draft.with_drawn { drawn_count } else { 0 };
        if count == 0 {
            ui.add(egui::Label::new(egui::RichText::new(t!("review.mark_hint")).weak()).wrap());
        }
        if let Some((id, error)) = &state.review.decision_error
            && id == &draft.id
        {
            ui.add(egui::Label::new(egui::RichText::new(error).color(ui.visuals().error_fg_color)).wrap());
        }
        let missing = if draft.comment.trim().is_empty() {
            Some(t!("review.need_comment"))
        } else if count == 0 {
            Some(t!("review.need_features"))
        } else {
            None
        };
        ui.horizontal(|ui| {
            let can = missing.is_none() && !draft.sent;
            let send = ui
                .add_enabled(can, egui::Button::new(t!("review.send_rejection", n = count)))
                .on_disabled_hover_text(missing.clone().unwrap_or_default());
            if send.clicked() {
                let marked = marked(state, selection, draft);
                out.push(state.reject(draft.id.clone(), draft.comment.trim().to_owned(), marked));
                draft.sent = true;
            }
            if draft.sent {
                ui.spinner();
            }
            if ui.button(t!("common.cancel")).clicked() {
                close = true;
            }
        });
        if let Some(why) = missing {
            ui.weak(why);
        }
    });
    if close {
        rui.rejecting = None;
    }
}
