//! Toasts over the map's top-right corner (successes fade, errors stay until closed) and the
//! notification history behind the bell in the top bar.

use super::UiState;
use crate::app::AppState;
use rust_i18n::t;

/// At most this many toasts are stacked; older ones stay in the history.
const MAX_TOASTS: usize = 4;

/// The toasts of the notices still on screen, newest at the bottom.
pub fn toasts_ui(ctx: &egui::Context, state: &mut AppState, ui_state: &UiState, over: Option<egui::Rect>) {
    let lasts = ui_state.toast_duration;
    let shown: Vec<usize> =
        (0..state.notices.len()).rev().filter(|&i| state.notices[i].is_toast(lasts)).take(MAX_TOASTS).collect();
    if shown.is_empty() {
        return;
    }
    // A success's toast must go away without input: wake up when the next one expires.
    if let Some(left) = shown
        .iter()
        .filter(|&&i| !state.notices[i].is_error)
        .map(|&i| lasts.saturating_sub(state.notices[i].at.elapsed()))
        .min()
    {
        ctx.request_repaint_after(left + std::time::Duration::from_millis(20));
    }
    let mut close = None;
    // Over the map's top-right corner: the zoom buttons are top left, the scale, position and
    // credits at the bottom, and no pane's controls are covered.
    let corner = over.unwrap_or_else(|| ctx.content_rect()).right_top() + egui::vec2(-10.0, 10.0);
    egui::Area::new(egui::Id::unique("toasts"))
        .pivot(egui::Align2::RIGHT_TOP)
        .fixed_pos(corner)
        .order(egui::Order::Foreground)
        .show(ctx, |ui| {
            ui.set_max_width(over.map_or(380.0, |r| (r.width() - 80.0).clamp(200.0, 380.0)));
            for &i in shown.iter().rev() {
                let notice = &state.notices[i];
                let (fill, stroke) = if notice.is_error {
                    (ui.visuals().error_fg_color.gamma_multiply(0.18), ui.visuals().error_fg_color)
                } else {
                    (ui.visuals().window_fill, ui.visuals().window_stroke.color)
                };
                egui::Frame::popup(ui.style()).fill(ui.visuals().window_fill).show(ui, |ui| {
                    egui::Frame::new().fill(fill).stroke(egui::Stroke::new(1.0, stroke)).inner_margin(6).show(
                        ui,
                        |ui| {
                            ui.horizontal(|ui| {
                                let icon = if notice.is_error { "⚠" } else { "✔" };
                                ui.label(icon);
                                let text = if notice.repeats > 1 {
                                    format!("{} (×{})", notice.text, notice.repeats)
                                } else {
                                    notice.text.clone()
                                };
                                ui.add(egui::Label::new(text).wrap());
                                if ui.small_button("✖").on_hover_text(t!("common.dismiss")).clicked() {
                                    close = Some(i);
                                }
                            });
                        },
                    );
                });
            }
        });
    if let Some(i) = close {
        state.notices[i].dismissed = true;
    }
}

/// The bell in the top bar with the count of errors still up, opening the history.
pub fn bell_ui(ui: &mut egui::Ui, state: &mut AppState, ui_state: &mut UiState) {
    let errors = state.notices.iter().filter(|n| n.is_error && !n.dismissed).count();
    let title = t!("notices.history");
    let label = if errors > 0 { format!("{title} ({errors})") } else { title.to_string() };
    let bell = ui.button(label);
    if bell.clicked() {
        ui_state.notifications_open = !ui_state.notifications_open;
    }
    if !ui_state.notifications_open {
        return;
    }
    let mut open = true;
    super::dialog(ui.ctx(), t!("notices.history"))
        .open(&mut open)
        .resizable(true)
        .default_size([420.0, 300.0])
        .pivot(egui::Align2::RIGHT_TOP)
        .default_pos(bell.rect.right_bottom() + egui::vec2(0.0, 4.0))
        .show(ui.ctx(), |ui| {
            if state.notices.is_empty() {
                ui.weak(t!("notices.none"));
                return;
            }
            if ui.button(t!("notices.clear")).clicked() {
                state.notices.clear();
                return;
            }
            egui::ScrollArea::vertical().max_height(320.0).show(ui, |ui| {
                for notice in state.notices.iter().rev() {
                    let seconds = notice.at.elapsed().as_secs();
                    let ago = if seconds < 60 {
                        t!("notices.seconds_ago", n = seconds)
                    } else {
                        t!("notices.minutes_ago", n = seconds / 60)
                    };
                    ui.horizontal_wrapped(|ui| {
                        ui.weak(ago);
                        let color =
                            if notice.is_error { ui.visuals().error_fg_color } else { ui.visuals().text_color() };
                        ui.colored_label(color, &notice.text);
                    });
                }
            });
        });
    if !open {
        ui_state.notifications_open = false;
    }
}
