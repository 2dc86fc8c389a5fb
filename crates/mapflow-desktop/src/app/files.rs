//! Choosing files when the desktop has no file dialog: what the built-in chooser is open for,
//! the folder it shows, and the pure rules of its listing (filters, order).

use super::state::AppState;
use crate::worker::{Command, Event};

// What a file is chosen for and the folder listing are the worker's (it opens the system
// dialogs and reads folders); the chooser's state and rules of display are here.
pub use crate::worker::files::{DirEntry, FileFilter, FilePurpose, FolderListing, sanitize_file_name, sort_entries};
use rust_i18n::t;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The most recent folders kept in the settings.
pub const MAX_RECENT_FOLDERS: usize = 8;

/// `folder` first in `recent`, without duplicates, at most [`MAX_RECENT_FOLDERS`].
pub fn remember_folder(recent: &mut Vec<PathBuf>, folder: &Path) {
    recent.retain(|f| f != folder);
    recent.insert(0, folder.to_owned());
    recent.truncate(MAX_RECENT_FOLDERS);
}

/// A size for people: bytes, KB, MB, GB.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// The folder shown by the built-in chooser and its listing.
#[derive(Debug, Default)]
pub struct FilesState {
    /// A choice the worker handed to the built-in chooser, taken by the chooser when it opens.
    pub request: Option<FilePurpose>,
    /// Why the system dialog is not used, when it is not for want of the setting.
    pub native_reason: Option<String>,
    /// The folder asked for last; a listing of any other folder is stale.
    pub folder: Option<PathBuf>,
    /// The listing of `folder`: `None` while it is being read.
    pub listing: Option<Result<Arc<FolderListing>, String>>,
    /// The "no system file dialog" notice was shown this session.
    pub notice_shown: bool,
}

impl AppState {
    /// Asks for `path`'s listing; what was shown stays until it arrives.
    pub fn list_folder(&mut self, path: PathBuf) -> Command {
        self.files.folder = Some(path.clone());
        self.files.listing = None;
        Command::ListFolder { path }
    }

    /// Makes the built-in chooser the one always used (or not), now and after a restart.
    pub fn set_builtin_file_chooser(&mut self, builtin: bool) {
        self.settings.builtin_file_chooser = builtin;
        self.follow_up.push(Command::SetFileChooser { builtin });
    }

    /// The built-in chooser closed: with the paths picked, the command that asked for them
    /// (and the folder becomes a recent one); with none, whatever waited for a pick stops.
    pub fn finish_choice(&mut self, purpose: FilePurpose, paths: Vec<PathBuf>) -> Option<Command> {
        if let Some(folder) = paths.first().and_then(|p| p.parent()) {
            remember_folder(&mut self.settings.recent_folders, folder);
        }
        if paths.is_empty() && matches!(purpose, FilePurpose::Upload { .. }) {
            self.imagery.uploading = false;
        }
        self.files.folder = None;
        self.files.listing = None;
        purpose.command(paths)
    }

    pub(super) fn apply_files_event(&mut self, event: Event) {
        match event {
            Event::ChooseFile { purpose, reason } => {
                if let Some(reason) = &reason {
                    tracing::warn!(%reason, "no system file dialog; using the built-in chooser");
                    if !self.files.notice_shown {
                        self.files.notice_shown = true;
                        self.notify(t!("files.no_native"));
                    }
                }
                self.files.native_reason = reason;
                self.files.request = Some(purpose);
            }
            Event::FolderListing { path, result } => {
                if self.files.folder.as_ref() == Some(&path) {
                    self.files.listing = Some(result);
                } else {
                    tracing::debug!(path = %path.display(), "a listing of a folder no longer shown was dropped");
                }
            }
            other => tracing::error!("event not handled here: {other:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::worker::UploadTarget;

    fn entry(name: &str, is_dir: bool) -> DirEntry {
        DirEntry {
            name: name.into(),
            path: PathBuf::from("/x").join(name),
            is_dir,
            size: (!is_dir).then_some(1),
            modified: None,
            error: None,
        }
    }

    #[test]
    fn filters_match_extensions_without_case() {
        let geojson = FileFilter::new("GeoJSON", &["geojson", "json"]);
        assert_eq!(geojson.label, "GeoJSON (*.geojson, *.json)");
        assert!(geojson.matches("field.geojson"));
        assert!(geojson.matches("FIELD.JSON"));
        assert!(!geojson.matches("field.geojson.bak"));
        assert!(!geojson.matches("geojson"));
        assert!(!geojson.matches("scene.tif"));
        assert!(FileFilter::all().matches("anything"));
        assert!(FileFilter::all().matches("no_extension"));
    }

    #[test]
    fn folders_come_first_then_names_ignoring_case() {
        let mut entries =
            vec![entry("b.geojson", false), entry("Zeta", true), entry("A.geojson", false), entry("alpha", true)];
        sort_entries(&mut entries);
        let names: Vec<_> = entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["alpha", "Zeta", "A.geojson", "b.geojson"]);
    }

    #[test]
    fn visible_keeps_folders_and_matching_files_and_hides_dot_files() {
        let listing = FolderListing {
            folder: "/x".into(),
            entries: vec![
                entry("data", true),
                entry(".hidden.geojson", false),
                entry("a.geojson", false),
                entry("b.tif", false),
            ],
        };
        let filter = FileFilter::new("GeoJSON", &["geojson"]);
        let names: Vec<_> = listing.visible(&filter, false).map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["data", "a.geojson"]);
        let names: Vec<_> = listing.visible(&filter, true).map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["data", ".hidden.geojson", "a.geojson"]);
        assert_eq!(listing.visible(&FileFilter::all(), false).count(), 3);
    }

    #[test]
    fn recent_folders_are_unique_newest_first_and_bounded() {
        let mut recent = Vec::new();
        for i in 0..12 {
            remember_folder(&mut recent, Path::new(&format!("/f{i}")));
        }
        remember_folder(&mut recent, Path::new("/f5"));
        assert_eq!(recent.len(), MAX_RECENT_FOLDERS);
        assert_eq!(recent[0], Path::new("/f5"));
        assert_eq!(recent[1], Path::new("/f11"));
        assert_eq!(recent.iter().filter(|f| *f == Path::new("/f5")).count(), 1);
    }

    #[test]
    fn sizes_read_like_people_write_them() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(1023), "1023 B");
        assert_eq!(human_size(1536), "1.5 KB");
        assert_eq!(human_size(5 * 1024 * 1024), "5.0 MB");
    }

    #[test]
    fn a_pick_answers_with_the_command_that_asked() {
        let cmd = FilePurpose::ImportAoi.command(vec!["/a.geojson".into()]);
        assert!(matches!(cmd, Some(Command::ImportAoi { path: Some(p) }) if p == Path::new("/a.geojson")));
        let target = UploadTarget::Mosaic(crate::api::MosaicId("m".into()));
        let cmd = FilePurpose::Upload { target }.command(vec!["/a.tif".into(), "/b.tif".into()]);
        assert!(matches!(cmd, Some(Command::Upload { paths: Some(p), .. }) if p.len() == 2));
        assert!(FilePurpose::ImportAoi.command(Vec::new()).is_none());
        let save = FilePurpose::SaveResult { id: Default::default(), name: "Roads: v2".into() };
        assert_eq!(save.suggested_name(), "Roads_ v2.geojson");
        assert!(save.is_save() && !save.multiple());
    }
}
