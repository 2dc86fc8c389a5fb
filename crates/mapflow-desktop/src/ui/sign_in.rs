//! The sign-in dialog: server URL and token, checked before any request.

use crate::api::Token;
use crate::app::AppState;
use crate::worker::Command;
use rust_i18n::t;

pub fn sign_in_ui(ctx: &egui::Context, state: &mut AppState, out: &mut Vec<Command>) {
    if !state.sign_in.open {
        return;
    }
    let mut open = true;
    super::dialog(ctx, t!("signin.title")).open(&mut open).show(ctx, |ui| {
        let form = &mut state.sign_in;
        ui.label(t!("signin.explain"));
        egui::Grid::new("signin_grid").num_columns(2).show(ui, |ui| {
            let l = ui.label(t!("signin.server"));
            ui.add(egui::TextEdit::singleline(&mut form.server).desired_width(320.0)).labelled_by(l.id);
            ui.end_row();
            let l = ui.label(t!("signin.token"));
            ui.add(egui::TextEdit::singleline(&mut form.token).password(true).desired_width(320.0)).labelled_by(l.id);
            ui.end_row();
        });
        ui.checkbox(&mut form.remember, t!("signin.remember"));
        if let Some(e) = &form.error {
            ui.colored_label(ui.visuals().error_fg_color, e);
        }
        ui.horizontal(|ui| {
            let ready = !form.pending && !form.token.trim().is_empty() && !form.server.trim().is_empty();
            if ui.add_enabled(ready, egui::Button::new(t!("signin.submit"))).clicked() {
                match Token::parse(&form.token) {
                    Ok(token) => {
                        form.pending = true;
                        form.error = None;
                        state.settings.server_url = form.server.trim().to_owned();
                        out.push(Command::SignIn {
                            server: form.server.trim().to_owned(),
                            token,
                            remember: form.remember,
                        });
                    }
                    Err(e) => form.error = Some(t!("signin.malformed", reason = e.to_string()).into_owned()),
                }
            }
            if form.pending {
                ui.spinner();
                ui.label(t!("signin.checking"));
            }
        });
    });
    if !open {
        state.sign_in.open = false;
        state.sign_in.pending = false;
        state.sign_in.error = None;
    }
}
