//! The projects panel: filter, sort, page, create, open, rename, delete.

use crate::api::{Project, ProjectId, ProjectSortBy, SortOrder};
use crate::app::AppState;
use crate::worker::Command;
use rust_i18n::t;

/// Half-typed fields and open dialogs of the projects panel.
#[derive(Debug, Default)]
pub struct ProjectsUi {
    pub new_name: String,
    pub filter: String,
    /// The project being renamed and the name typed so far.
    pub renaming: Option<(ProjectId, String)>,
    /// The project waiting for a delete confirmation, with its name.
    pub deleting: Option<(ProjectId, String)>,
    /// The projects pane is the one the user works in: its keyboard shortcuts apply.
    pub has_focus: bool,
    /// The open project's share form.
    pub share: super::share::ShareUi,
}

pub fn projects_ui(ui: &mut egui::Ui, state: &mut AppState, pui: &mut ProjectsUi, out: &mut Vec<Command>) {
    ui.horizontal(|ui| {
        if state.projects.is_pending() {
            ui.spinner();
        } else if ui.small_button(t!("common.refresh")).clicked() {
            out.push(state.reload_projects());
        }
    });
    if state.session.is_none() {
        ui.label(t!("projects.not_signed_in"));
        return;
    }

    // A create that failed gives its name back, unless something else was typed since.
    if let Some(name) = state.unsent_project_name.take()
        && pui.new_name.trim().is_empty()
    {
        pui.new_name = name;
    }
    let l = ui.label(t!("projects.new_name"));
    // The button on the right, the field taking the rest: nothing is cut off in any language.
    let row = egui::vec2(ui.available_width(), ui.spacing().interact_size.y);
    ui.allocate_ui_with_layout(row, egui::Layout::right_to_left(egui::Align::Center), |ui| {
        let can = !pui.new_name.trim().is_empty();
        let create = ui.add_enabled(can, egui::Button::new(t!("projects.create"))).clicked();
        let field = egui::TextEdit::singleline(&mut pui.new_name).desired_width(ui.available_width());
        let edit = ui.add(field).labelled_by(l.id);
        let enter = edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        if (create || enter) && can {
            out.push(Command::CreateProject { name: pui.new_name.trim().to_owned(), description: None });
            pui.new_name.clear();
        }
    });

    let mut requery = false;
    ui.horizontal(|ui| {
        let l = ui.label(t!("projects.filter"));
        let width = ui.available_width().max(60.0);
        if ui.add(egui::TextEdit::singleline(&mut pui.filter).desired_width(width)).labelled_by(l.id).changed() {
            let f = pui.filter.trim();
            state.project_query.filter = (!f.is_empty()).then(|| f.to_owned());
            requery = true;
        }
    });
    ui.horizontal_wrapped(|ui| {
        let q = &mut state.project_query;
        let sort_label = |s: ProjectSortBy| match s {
            ProjectSortBy::Name => t!("projects.sort_name"),
            ProjectSortBy::Created => t!("projects.sort_created"),
            ProjectSortBy::Updated => t!("projects.sort_updated"),
        };
        egui::ComboBox::from_label(t!("projects.sort_by")).selected_text(sort_label(q.sort_by)).show_ui(ui, |ui| {
            for s in [ProjectSortBy::Name, ProjectSortBy::Created, ProjectSortBy::Updated] {
                if ui.selectable_value(&mut q.sort_by, s, sort_label(s)).changed() {
                    requery = true;
                }
            }
        });
        let (arrow, hint) = match q.sort_order {
            SortOrder::Asc => ("⬆", t!("projects.ascending")),
            SortOrder::Desc => ("⬇", t!("projects.descending")),
        };
        if ui.small_button(arrow).on_hover_text(hint).clicked() {
            q.sort_order = if q.sort_order == SortOrder::Asc { SortOrder::Desc } else { SortOrder::Asc };
            requery = true;
        }
    });
    if requery {
        state.project_query.offset = 0;
        out.push(state.reload_projects());
    }

    // The last good list stays below the error, marked as possibly stale; one saved from an
    // earlier answer says when it was saved.
    if let Some(saved_at) = state.projects_saved_at {
        if super::offline_mark(ui, saved_at, state.projects.error(), state.projects.is_pending()) {
            out.push(state.reload_projects());
        }
    } else if let Some(error) = state.projects.error().cloned()
        && super::error_box(ui, &error)
    {
        out.push(state.reload_projects());
    }
    let Some(page) = state.projects.value() else {
        if !state.projects.is_pending() && state.projects.error().is_none() {
            out.push(state.reload_projects());
        }
        return;
    };
    if page.results.is_empty() {
        ui.label(if state.project_query.filter.is_some() { t!("projects.none_match") } else { t!("projects.none") });
    }
    let open_id = state.open_project_id().cloned();
    let mut open = None;
    for p in &page.results {
        ui.horizontal(|ui| {
            let selected = open_id.as_ref() == Some(&p.id);
            let mut text = egui::RichText::new(super::drawable(ui.ctx(), &p.name));
            if selected {
                text = text.strong();
            }
            let row = ui.selectable_label(selected, text).on_hover_text(project_tooltip(p));
            if row.clicked() && !selected {
                open = Some(p.id.clone());
            }
            row.context_menu(|ui| {
                if ui.add_enabled(!selected, egui::Button::new(t!("projects.open_action"))).clicked() {
                    open = Some(p.id.clone());
                    ui.close();
                }
                let manage = p.allows(crate::api::ProjectAction::ManageProject);
                let not_owner = || t!("roles.cannot_manage", role = crate::app::review::role_word(p.my_role()));
                let rename = ui.add_enabled(manage, egui::Button::new(t!("projects.rename")));
                if rename.on_disabled_hover_text(not_owner()).clicked() {
                    pui.renaming = Some((p.id.clone(), p.name.clone()));
                    ui.close();
                }
                let delete = ui.add_enabled(!p.is_default && manage, egui::Button::new(t!("projects.delete")));
                let why = if manage { t!("projects.default_kept") } else { not_owner() };
                if delete.on_disabled_hover_text(why).clicked() {
                    pui.deleting = Some((p.id.clone(), p.name.clone()));
                    ui.close();
                }
            });
            if p.is_default {
                ui.weak(t!("projects.default"));
            }
        });
    }
    let (offset, limit, total) = (state.project_query.offset, state.project_query.limit, page.total);
    if total > limit {
        ui.horizontal(|ui| {
            if ui.add_enabled(offset > 0, egui::Button::new(t!("common.previous"))).clicked() {
                state.project_query.offset = (offset - limit).max(0);
                out.push(state.reload_projects());
            }
            ui.label(t!("common.range", from = offset + 1, to = (offset + limit).min(total), total = total));
            if ui.add_enabled(offset + limit < total, egui::Button::new(t!("common.next"))).clicked() {
                state.project_query.offset = offset + limit;
                out.push(state.reload_projects());
            }
        });
    }
    if let Some(id) = open {
        out.push(state.open_project_command(id));
    }

    open_project_ui(ui, state, pui);
    super::share::share_ui(ui, state, &mut pui.share, out);
    if pui.has_focus {
        shortcuts(ui, state, pui);
    }
}

/// The rename and delete dialogs, drawn whether or not the projects pane is on screen.
pub fn dialogs(ctx: &egui::Context, pui: &mut ProjectsUi, out: &mut Vec<Command>) {
    rename_dialog(ctx, pui, out);
    delete_dialog(ctx, pui, out);
}

/// F2 renames and Delete deletes the open project, while no text field has focus.
fn shortcuts(ui: &mut egui::Ui, state: &AppState, pui: &mut ProjectsUi) {
    if ui.memory(|m| m.focused().is_some()) {
        return;
    }
    let Some(project) = state.open_project.value() else { return };
    let (delete, rename) = ui.input_mut(|i| {
        (i.consume_key(egui::Modifiers::NONE, egui::Key::Delete), i.consume_key(egui::Modifiers::NONE, egui::Key::F2))
    });
    let manage = project.allows(crate::api::ProjectAction::ManageProject);
    if rename && manage {
        pui.renaming = Some((project.id.clone(), project.name.clone()));
    }
    if delete && !project.is_default && manage {
        pui.deleting = Some((project.id.clone(), project.name.clone()));
    }
}

fn project_tooltip(p: &Project) -> String {
    let mut s = p.description.clone().unwrap_or_default();
    if let Some(created) = &p.created {
        s = format!("{s}\n{} {}", t!("projects.created_at"), crate::ui::local_time(created));
    }
    s.trim().to_owned()
}

/// The open project and its actions.
fn open_project_ui(ui: &mut egui::Ui, state: &AppState, pui: &mut ProjectsUi) {
    ui.separator();
    if state.open_project.is_pending() {
        ui.spinner();
    }
    let Some(project) = state.open_project.value() else {
        ui.weak(t!("projects.pick_one"));
        return;
    };
    ui.label(t!("projects.open", name = super::drawable(ui.ctx(), &project.name)));
    let succeeded = project.processing_counts.get("succeeded").copied().unwrap_or(0);
    let failed = project.processing_counts.get("failed").copied().unwrap_or(0);
    ui.weak(t!("projects.counts", ok = succeeded, failed = failed));
    let refusal = state.refusal(crate::api::ProjectAction::ManageProject);
    ui.horizontal_wrapped(|ui| {
        let rename = ui.add_enabled(refusal.is_none(), egui::Button::new(t!("projects.rename")));
        if rename.on_disabled_hover_text(refusal.clone().unwrap_or_default()).clicked() {
            pui.renaming = Some((project.id.clone(), project.name.clone()));
        }
        let delete = ui.add_enabled(!project.is_default && refusal.is_none(), egui::Button::new(t!("projects.delete")));
        let delete = match &refusal {
            Some(why) => delete.on_disabled_hover_text(why),
            None if project.is_default => delete.on_disabled_hover_text(t!("projects.default_kept")),
            None => delete,
        };
        if delete.clicked() {
            pui.deleting = Some((project.id.clone(), project.name.clone()));
        }
    });
}

fn rename_dialog(ctx: &egui::Context, pui: &mut ProjectsUi, out: &mut Vec<Command>) {
    let Some((id, name)) = &mut pui.renaming else { return };
    let mut keep = true;
    let mut done = false;
    super::dialog(ctx, t!("projects.rename_title")).show(ctx, |ui| {
        let l = ui.label(t!("projects.name"));
        ui.add(egui::TextEdit::singleline(name)).labelled_by(l.id);
        ui.horizontal(|ui| {
            if ui.add_enabled(!name.trim().is_empty(), egui::Button::new(t!("common.save"))).clicked() {
                out.push(Command::RenameProject { id: id.clone(), name: name.trim().to_owned() });
                done = true;
            }
            if ui.button(t!("common.cancel")).clicked() {
                keep = false;
            }
        });
    });
    if done || !keep {
        pui.renaming = None;
    }
}

fn delete_dialog(ctx: &egui::Context, pui: &mut ProjectsUi, out: &mut Vec<Command>) {
    let Some((id, name)) = &pui.deleting else { return };
    let question = t!("projects.delete_confirm", name = name);
    if let Some(answer) = super::confirm_delete(ctx, "projects.delete", t!("projects.delete_title"), &question) {
        if answer == super::Answer::Delete {
            out.push(Command::DeleteProject { id: id.clone() });
        }
        pui.deleting = None;
    }
}
