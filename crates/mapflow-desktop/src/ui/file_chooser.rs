//! The built-in file chooser: a modal for opening and saving files where the desktop has no
//! file dialog (or the settings ask for this one). It never touches the disk itself: the
//! worker lists folders (`Command::ListFolder`), and a pick is answered with the command that
//! asked for it, its path filled in.

use crate::app::AppState;
use crate::app::files::{DirEntry, FileFilter, FilePurpose, FolderListing, human_size};
use crate::worker::Command;
use rust_i18n::t;
use std::path::{Path, PathBuf};

/// The chooser's half-made choice: UI-only, gone when it closes.
#[derive(Debug, Default)]
pub struct FileChooserUi {
    /// What the open chooser is for; `None` while it is closed.
    purpose: Option<FilePurpose>,
    /// The folder field, as typed or as last listed.
    path_text: String,
    /// The folder last copied into `path_text`, so a typed path is not overwritten every frame.
    shown: Option<PathBuf>,
    filters: Vec<FileFilter>,
    filter: usize,
    show_hidden: bool,
    /// The picked entries, in the order clicked.
    selected: Vec<PathBuf>,
    /// Where a Shift-click range starts.
    anchor: Option<PathBuf>,
    /// The name typed for a save.
    file_name: String,
    /// A save over this existing file waits for "Replace".
    confirm: Option<PathBuf>,
    /// Why the last Open or Save did not go ahead.
    problem: Option<String>,
}

/// What the user did in this frame.
enum Action {
    Navigate(PathBuf),
    Finish(Vec<PathBuf>),
    Cancel,
}

impl FileChooserUi {
    /// Whether the chooser is open.
    pub fn is_open(&self) -> bool {
        self.purpose.is_some()
    }

    /// Opens for `purpose` in the most recent folder (or home) and asks for its listing.
    fn open(&mut self, purpose: FilePurpose, state: &mut AppState, out: &mut Vec<Command>) {
        let start = state.settings.recent_folders.first().cloned().or_else(home).unwrap_or_else(|| "/".into());
        *self = Self {
            filters: purpose.filters(),
            file_name: purpose.suggested_name(),
            purpose: Some(purpose),
            show_hidden: self.show_hidden,
            ..Self::default()
        };
        self.navigate(start, state, out);
    }

    fn navigate(&mut self, path: PathBuf, state: &mut AppState, out: &mut Vec<Command>) {
        self.path_text = path.display().to_string();
        self.shown = None;
        self.selected.clear();
        self.anchor = None;
        self.confirm = None;
        self.problem = None;
        out.push(state.list_folder(path));
    }

    /// The folder now shown: the listed one, else the one asked for.
    fn current_folder(state: &AppState) -> Option<PathBuf> {
        match &state.files.listing {
            Some(Ok(listing)) => Some(listing.folder.clone()),
            _ => state.files.folder.clone(),
        }
    }
}

/// The user's home folder, if the environment names one.
fn home() -> Option<PathBuf> {
    std::env::home_dir().filter(|h| !h.as_os_str().is_empty())
}

/// A typed path made absolute: `~` is home, a relative path is under `current`.
pub fn resolve_typed(text: &str, current: Option<&Path>, home: Option<&Path>) -> PathBuf {
    let text = text.trim();
    let typed = match (text.strip_prefix('~'), home) {
        (Some(rest), Some(home)) if rest.is_empty() || rest.starts_with('/') => home.join(rest.trim_start_matches('/')),
        _ => PathBuf::from(text),
    };
    match current {
        Some(base) if typed.is_relative() => base.join(typed),
        _ => typed,
    }
}

/// Applies a click on `clicked` to the selection: a plain click selects it alone; with several
/// allowed, Ctrl (⌘) adds or removes it and Shift selects the range from the anchor in `order`.
pub fn click_selection(
    selected: &mut Vec<PathBuf>,
    anchor: &mut Option<PathBuf>,
    order: &[&Path],
    clicked: &Path,
    modifiers: egui::Modifiers,
    multiple: bool,
) {
    if multiple && modifiers.shift {
        let from = anchor.as_deref().and_then(|a| order.iter().position(|p| *p == a));
        if let (Some(from), Some(to)) = (from, order.iter().position(|p| *p == clicked)) {
            let (lo, hi) = if from <= to { (from, to) } else { (to, from) };
            *selected = order[lo..=hi].iter().map(|p| p.to_path_buf()).collect();
            return;
        }
    }
    if multiple && modifiers.command {
        if let Some(i) = selected.iter().position(|p| p == clicked) {
            selected.remove(i);
        } else {
            selected.push(clicked.to_owned());
        }
    } else {
        *selected = vec![clicked.to_owned()];
    }
    *anchor = Some(clicked.to_owned());
}

/// The setting in the settings window: always use the built-in chooser.
pub fn settings_row(ui: &mut egui::Ui, state: &mut AppState) {
    ui.label(t!("files.setting"));
    let mut builtin = state.settings.builtin_file_chooser;
    if ui.checkbox(&mut builtin, t!("files.always_builtin")).changed() {
        state.set_builtin_file_chooser(builtin);
    }
    ui.end_row();
}

/// The chooser, when a choice was handed to it; sends the answering command on a pick.
pub fn file_chooser_ui(ctx: &egui::Context, state: &mut AppState, cui: &mut FileChooserUi, out: &mut Vec<Command>) {
    if let Some(purpose) = state.files.request.take() {
        if let Some(previous) = cui.purpose.take() {
            // A new request replaces an open one, which ends as if cancelled.
            out.extend(state.finish_choice(previous, Vec::new()));
        }
        cui.open(purpose, state, out);
    }
    let Some(purpose) = cui.purpose.clone() else { return };
    if let Some(Ok(listing)) = &state.files.listing
        && cui.shown.as_ref() != Some(&listing.folder)
    {
        cui.path_text = listing.folder.display().to_string();
        cui.shown = Some(listing.folder.clone());
    }
    let modal = egui::Modal::new(egui::Id::unique("file_chooser")).show(ctx, |ui| {
        ui.set_width((ctx.content_rect().width() - 80.0).clamp(360.0, 760.0));
        chooser_body(ui, state, cui, &purpose)
    });
    let escape = modal.is_top_modal && ctx.input_mut(|i| i.consume_key(egui::Modifiers::NONE, egui::Key::Escape));
    let action = if escape && cui.confirm.is_some() {
        cui.confirm = None;
        None
    } else if escape {
        Some(Action::Cancel)
    } else {
        modal.inner
    };
    match action {
        None => {}
        Some(Action::Navigate(path)) => cui.navigate(path, state, out),
        Some(Action::Finish(paths)) => {
            cui.purpose = None;
            out.extend(state.finish_choice(purpose, paths));
        }
        Some(Action::Cancel) => {
            cui.purpose = None;
            out.extend(state.finish_choice(purpose, Vec::new()));
        }
    }
}

fn chooser_body(
    ui: &mut egui::Ui,
    state: &mut AppState,
    cui: &mut FileChooserUi,
    purpose: &FilePurpose,
) -> Option<Action> {
    let mut action = None;
    ui.heading(purpose.title());
    let current = FileChooserUi::current_folder(state);
    ui.horizontal(|ui| {
        let parent = current.as_deref().and_then(Path::parent).map(Path::to_path_buf);
        if ui.add_enabled(parent.is_some(), egui::Button::new(t!("files.parent"))).clicked()
            && let Some(parent) = parent
        {
            action = Some(Action::Navigate(parent));
        }
        let home = home();
        if ui.add_enabled(home.is_some(), egui::Button::new(t!("files.home"))).clicked()
            && let Some(home) = home
        {
            action = Some(Action::Navigate(home));
        }
        let recent = &state.settings.recent_folders;
        ui.add_enabled_ui(!recent.is_empty(), |ui| {
            egui::ComboBox::from_id_salt("recent_folders").selected_text(t!("files.recent")).show_ui(ui, |ui| {
                for folder in recent {
                    if ui.selectable_label(false, folder.display().to_string()).clicked() {
                        action = Some(Action::Navigate(folder.clone()));
                    }
                }
            });
        });
    });
    ui.horizontal(|ui| {
        let l = ui.label(t!("files.folder"));
        let field =
            ui.add(egui::TextEdit::singleline(&mut cui.path_text).desired_width(f32::INFINITY)).labelled_by(l.id);
        if field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)) {
            action = Some(Action::Navigate(resolve_typed(&cui.path_text, current.as_deref(), home().as_deref())));
        }
    });
    ui.separator();
    let filter = cui.filters.get(cui.filter).cloned().unwrap_or_else(FileFilter::all);
    let listing = state.files.listing.clone();
    egui::ScrollArea::vertical().max_height(300.0).min_scrolled_height(300.0).auto_shrink([false, false]).show(
        ui,
        |ui| match &listing {
            None => {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label(t!("files.reading"));
                });
            }
            Some(Err(e)) => {
                ui.colored_label(ui.visuals().error_fg_color, e);
            }
            Some(Ok(listing)) => {
                if let Some(a) = entries_grid(ui, cui, listing, &filter, purpose) {
                    action = Some(a);
                }
            }
        },
    );
    ui.separator();
    egui::Grid::new("file_chooser_fields").num_columns(2).show(ui, |ui| {
        let l = ui.label(t!("files.file_type"));
        let selected_label = filter.label.clone();
        egui::ComboBox::from_id_salt("file_type")
            .selected_text(selected_label)
            .show_ui(ui, |ui| {
                for (i, f) in cui.filters.iter().enumerate() {
                    ui.selectable_value(&mut cui.filter, i, &f.label);
                }
            })
            .response
            .labelled_by(l.id);
        ui.end_row();
        if purpose.is_save() {
            let l = ui.label(t!("files.file_name"));
            let field =
                ui.add(egui::TextEdit::singleline(&mut cui.file_name).desired_width(f32::INFINITY)).labelled_by(l.id);
            if field.changed() {
                cui.confirm = None;
            }
            if field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)) && cui.confirm.is_none() {
                action = action.take().or_else(|| save_action(cui, listing.as_ref(), current.as_deref()));
            }
            ui.end_row();
        }
    });
    ui.checkbox(&mut cui.show_hidden, t!("files.show_hidden"));
    if let Some(problem) = &cui.problem {
        ui.colored_label(ui.visuals().error_fg_color, problem);
    }
    ui.separator();
    if let Some(target) = cui.confirm.clone() {
        let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        ui.colored_label(ui.visuals().warn_fg_color, t!("files.replace_question", name = name));
        ui.horizontal(|ui| {
            if ui.button(t!("files.replace")).clicked() {
                action = Some(Action::Finish(vec![target.clone()]));
            }
            if ui.button(t!("files.cancel")).clicked() {
                cui.confirm = None;
            }
        });
    } else {
        ui.horizontal(|ui| {
            if purpose.is_save() {
                let ok = !cui.file_name.trim().is_empty() && matches!(listing, Some(Ok(_)));
                if ui.add_enabled(ok, egui::Button::new(t!("files.save"))).clicked() {
                    action = save_action(cui, listing.as_ref(), current.as_deref());
                }
            } else {
                let ok = !cui.selected.is_empty();
                if ui.add_enabled(ok, egui::Button::new(t!("files.open"))).clicked() {
                    action = open_action(cui, listing.as_ref());
                }
                if purpose.multiple() && cui.selected.len() > 1 {
                    ui.label(t!("files.selected_count", count = cui.selected.len()));
                }
            }
            if ui.button(t!("files.cancel")).clicked() {
                action = Some(Action::Cancel);
            }
        });
    }
    let mut builtin = state.settings.builtin_file_chooser;
    if ui.checkbox(&mut builtin, t!("files.always_builtin")).changed() {
        state.set_builtin_file_chooser(builtin);
    }
    if let Some(reason) = &state.files.native_reason {
        ui.weak(t!("files.native_reason", reason = reason));
    }
    action
}

/// The folder's entries under the filter, each a selectable row; a double-click opens.
fn entries_grid(
    ui: &mut egui::Ui,
    cui: &mut FileChooserUi,
    listing: &FolderListing,
    filter: &FileFilter,
    purpose: &FilePurpose,
) -> Option<Action> {
    let visible: Vec<&DirEntry> = listing.visible(filter, cui.show_hidden).collect();
    if visible.is_empty() {
        ui.weak(t!("files.empty"));
        return None;
    }
    let order: Vec<&Path> = visible.iter().map(|e| e.path.as_path()).collect();
    let mut action = None;
    egui::Grid::new("file_chooser_entries").num_columns(3).striped(true).min_col_width(80.0).show(ui, |ui| {
        ui.strong(t!("files.name"));
        ui.strong(t!("files.size"));
        ui.strong(t!("files.modified"));
        ui.end_row();
        for entry in &visible {
            let label = if entry.is_dir { format!("📁 {}", entry.name) } else { entry.name.clone() };
            let row = ui.selectable_label(cui.selected.contains(&entry.path), label);
            if row.double_clicked() {
                if entry.is_dir {
                    action = Some(Action::Navigate(entry.path.clone()));
                } else if purpose.is_save() {
                    // Saving over it: ask first, as Save would.
                    cui.file_name = entry.name.clone();
                    cui.confirm = Some(entry.path.clone());
                } else {
                    action = Some(Action::Finish(vec![entry.path.clone()]));
                }
            } else if row.clicked() {
                let modifiers = ui.input(|i| i.modifiers);
                let multiple = purpose.multiple() && !entry.is_dir;
                click_selection(&mut cui.selected, &mut cui.anchor, &order, &entry.path, modifiers, multiple);
                cui.problem = None;
                if purpose.is_save() && !entry.is_dir {
                    cui.file_name = entry.name.clone();
                    cui.confirm = None;
                }
            }
            continue_row(ui, entry);
        }
    });
    action
}

/// The size and time columns of one row, each with why it is missing if it is.
fn continue_row(ui: &mut egui::Ui, entry: &DirEntry) {
    match (&entry.error, entry.size) {
        (Some(e), _) => {
            ui.weak("?").on_hover_text(e);
        }
        (None, Some(size)) => {
            ui.label(human_size(size));
        }
        (None, None) => {
            ui.label("");
        }
    }
    match entry.modified {
        Some(time) => ui.label(chrono::DateTime::<chrono::Local>::from(time).format("%Y-%m-%d %H:%M").to_string()),
        None => ui.label(""),
    };
    ui.end_row();
}

/// Open: the picked files; a single picked folder is entered instead.
fn open_action(
    cui: &mut FileChooserUi,
    listing: Option<&Result<std::sync::Arc<FolderListing>, String>>,
) -> Option<Action> {
    let Some(Ok(listing)) = listing else { return None };
    let is_dir = |p: &PathBuf| listing.entries.iter().any(|e| &e.path == p && e.is_dir);
    match cui.selected.as_slice() {
        [] => None,
        [one] if is_dir(one) => Some(Action::Navigate(one.clone())),
        picked => {
            let files: Vec<PathBuf> = picked.iter().filter(|p| !is_dir(p)).cloned().collect();
            if files.is_empty() {
                cui.problem = Some(t!("files.pick_a_file").into_owned());
                None
            } else {
                Some(Action::Finish(files))
            }
        }
    }
}

/// Save: a new name saves; an existing file asks first; a name with folders in it goes there.
fn save_action(
    cui: &mut FileChooserUi,
    listing: Option<&Result<std::sync::Arc<FolderListing>, String>>,
    current: Option<&Path>,
) -> Option<Action> {
    let name = cui.file_name.trim().to_owned();
    if name.is_empty() {
        return None;
    }
    let typed = Path::new(&name);
    if typed.components().count() > 1 || typed.is_absolute() || name.starts_with('~') {
        // "data/out.geojson": open the folder, keep the name, and save from there.
        let full = resolve_typed(&name, current, home().as_deref());
        let (Some(parent), Some(file)) = (full.parent(), full.file_name()) else { return None };
        cui.file_name = file.to_string_lossy().into_owned();
        return Some(Action::Navigate(parent.to_owned()));
    }
    let Some(Ok(listing)) = listing else { return None };
    let target = listing.folder.join(&name);
    match listing.entry(&name) {
        Some(e) if e.is_dir => Some(Action::Navigate(e.path.clone())),
        Some(_) => {
            cui.confirm = Some(target);
            None
        }
        None => Some(Action::Finish(vec![target])),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn typed_paths_resolve_against_the_folder_and_home() {
        let cur = Path::new("/data/maps");
        let home = Path::new("/home/ann");
        assert_eq!(resolve_typed("/tmp", Some(cur), Some(home)), Path::new("/tmp"));
        assert_eq!(resolve_typed("aoi", Some(cur), Some(home)), Path::new("/data/maps/aoi"));
        assert_eq!(resolve_typed(" ~/x ", Some(cur), Some(home)), Path::new("/home/ann/x"));
        assert_eq!(resolve_typed("~", Some(cur), Some(home)), Path::new("/home/ann"));
        assert_eq!(resolve_typed("~bob", Some(cur), Some(home)), Path::new("/data/maps/~bob"));
    }

    #[test]
    fn clicks_select_one_and_modifiers_select_many() {
        let paths: Vec<PathBuf> = ["/a", "/b", "/c", "/d"].iter().map(PathBuf::from).collect();
        let order: Vec<&Path> = paths.iter().map(|p| p.as_path()).collect();
        let (mut sel, mut anchor) = (Vec::new(), None);
        let none = egui::Modifiers::NONE;
        click_selection(&mut sel, &mut anchor, &order, &paths[1], none, true);
        assert_eq!(sel, [paths[1].clone()]);
        click_selection(&mut sel, &mut anchor, &order, &paths[3], egui::Modifiers::COMMAND, true);
        assert_eq!(sel, [paths[1].clone(), paths[3].clone()]);
        click_selection(&mut sel, &mut anchor, &order, &paths[3], egui::Modifiers::COMMAND, true);
        assert_eq!(sel, [paths[1].clone()], "a second Ctrl-click unselects");
        click_selection(&mut sel, &mut anchor, &order, &paths[0], egui::Modifiers::SHIFT, true);
        assert_eq!(sel, paths, "Shift selects from the anchor (the last Ctrl-click) back to here");
        click_selection(&mut sel, &mut anchor, &order, &paths[1], egui::Modifiers::NONE, true);
        click_selection(&mut sel, &mut anchor, &order, &paths[2], egui::Modifiers::SHIFT, true);
        assert_eq!(sel, paths[1..3].to_vec());
        click_selection(&mut sel, &mut anchor, &order, &paths[2], egui::Modifiers::COMMAND, false);
        assert_eq!(sel, [paths[2].clone()], "one at a time where only one is wanted");
    }
}
