//! The open project's sharing: the user's role, who the project is shared with, and (for an
//! owner) a form to share it with an email and a role.

use crate::api::{ProjectAction, ProjectRole};
use crate::app::AppState;
use crate::app::review::role_word;
use crate::worker::Command;
use rust_i18n::t;

/// The share form's fields.
#[derive(Debug)]
pub struct ShareUi {
    pub email: String,
    pub role: ProjectRole,
    /// The address last sent: the field is emptied once the server has shared with it, and
    /// kept as typed when it refused.
    sent: Option<String>,
}

impl Default for ShareUi {
    fn default() -> Self {
        Self { email: String::new(), role: ProjectRole::Readonly, sent: None }
    }
}

/// Whether `email` looks like an address: one `@` with text on both sides, no spaces.
fn email_ok(email: &str) -> bool {
    let email = email.trim();
    !email.contains(char::is_whitespace)
        && email
            .split_once('@')
            .is_some_and(|(user, host)| !user.is_empty() && host.contains('.') && !host.contains('@'))
}

/// The role line, the members and the share form of the open project.
pub fn share_ui(ui: &mut egui::Ui, state: &mut AppState, sui: &mut ShareUi, out: &mut Vec<Command>) {
    let Some(project) = state.open_project.value() else { return };
    let (project_id, role, shared) = (project.id.clone(), project.my_role(), project.is_shared());
    let members = project.share_project.clone().unwrap_or_default();
    if shared {
        ui.label(t!("share.your_role", role = role_word(role)));
    }
    if !members.users.is_empty() || members.owners.len() > 1 || role != ProjectRole::Owner {
        ui.label(t!("share.shared_with"));
        for m in members.owners.iter().chain(&members.users) {
            let member_role = ProjectRole::parse(&m.role).map(role_word).unwrap_or_else(|| m.role.clone());
            ui.add(egui::Label::new(format!("• {} — {}", m.email, member_role)).truncate());
        }
    }
    let refusal = state.refusal(ProjectAction::ManageProject);
    ui.collapsing(t!("share.title"), |ui| {
        if let Some(why) = &refusal {
            ui.add(egui::Label::new(egui::RichText::new(why).weak()).wrap());
        }
        ui.add_enabled_ui(refusal.is_none(), |ui| {
            let l = ui.label(t!("share.email"));
            ui.add(egui::TextEdit::singleline(&mut sui.email).desired_width(ui.available_width().min(260.0)))
                .labelled_by(l.id);
            ui.horizontal_wrapped(|ui| {
                egui::ComboBox::from_label(t!("share.role")).selected_text(role_word(sui.role)).show_ui(ui, |ui| {
                    for r in ProjectRole::ALL {
                        ui.selectable_value(&mut sui.role, r, role_word(r));
                    }
                });
            });
            let pending = state.review.sharing.is_some();
            let ok = email_ok(&sui.email);
            ui.horizontal(|ui| {
                let button = ui
                    .add_enabled(ok && !pending, egui::Button::new(t!("share.send")))
                    .on_disabled_hover_text(if ok { t!("share.pending") } else { t!("share.need_email") });
                if button.clicked() {
                    out.push(state.share(project_id.clone(), sui.email.trim().to_owned(), sui.role));
                    sui.sent = Some(sui.email.clone());
                }
                if pending {
                    ui.spinner();
                }
            });
        });
        if state.review.sharing.is_none() && sui.sent.is_some() {
            if matches!(state.review.share_outcome, Some(Ok(_))) && sui.sent.as_deref() == Some(sui.email.as_str()) {
                sui.email.clear();
            }
            sui.sent = None;
        }
        match &state.review.share_outcome {
            Some(Ok(done)) => {
                ui.add(egui::Label::new(done).wrap());
            }
            Some(Err(e)) => {
                ui.add(egui::Label::new(egui::RichText::new(e).color(ui.visuals().error_fg_color)).wrap());
            }
            None => {}
        }
    });
}
