//! Choosing files when the desktop has no file dialog: what the built-in chooser is open for,
//! the folder it shows, and the pure rules of its listing (filters, order).

use super::state::AppState;
use crate::worker::{Command, Event, UploadTarget};
use rust_i18n::t;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

/// The most recent folders kept in the settings.
pub const MAX_RECENT_FOLDERS: usize = 8;

/// What a file is being chosen for. Each purpose answers with the command that asked for a
/// path, now with the path filled in.
#[derive(Debug, Clone, PartialEq)]
pub enum FilePurpose {
    /// An AOI to import (`Command::ImportAoi`).
    ImportAoi,
    /// Where to save a processing's result (`Command::SaveResult`).
    SaveResult { id: crate::api::ProcessingId, name: String },
    /// GeoTIFFs to upload (`Command::Upload`).
    Upload { target: UploadTarget },
    /// Where to save an image's file (`Command::DownloadImage`).
    DownloadImage { id: crate::api::ImageId, filename: String },
    /// A local GIS file to open as a layer (`Command::OpenLayer`).
    OpenLayer,
    /// Where to save selected features of a layer (`Command::SaveSelection`).
    SaveSelection { id: crate::api::ProcessingId, name: String, features: crate::results::table::SelectedFeatures },
    /// Where to save GeoJSON features: the AOI, catalog footprints (`Command::SaveGeoJson`).
    SaveGeoJson { name: String, geojson: crate::export::GeoJsonText },
    /// Where to save the processing history as CSV (`Command::SaveHistory`).
    SaveHistory { filter: Option<String> },
    /// A file of polygons to start a batch from (`Command::ReadBatchFile`).
    BatchFile,
}

/// One entry of a file-type filter: a label and the extensions it lets through (none: all).
#[derive(Debug, Clone, PartialEq)]
pub struct FileFilter {
    pub label: String,
    pub extensions: Vec<String>,
}

impl FileFilter {
    /// A filter such as "GeoJSON (*.geojson, *.json)".
    pub fn new(name: &str, extensions: &[&str]) -> Self {
        let globs = extensions.iter().map(|e| format!("*.{e}")).collect::<Vec<_>>().join(", ");
        Self { label: format!("{name} ({globs})"), extensions: extensions.iter().map(|e| e.to_string()).collect() }
    }

    /// Every file.
    pub fn all() -> Self {
        Self { label: t!("files.all_files").into_owned(), extensions: Vec::new() }
    }

    /// Whether a file named `name` passes (extensions compare without case).
    pub fn matches(&self, name: &str) -> bool {
        if self.extensions.is_empty() {
            return true;
        }
        let Some((_, ext)) = name.rsplit_once('.') else { return false };
        self.extensions.iter().any(|e| e.eq_ignore_ascii_case(ext))
    }
}

impl FilePurpose {
    /// Whether the chooser asks for a new file name (and confirms overwriting).
    pub fn is_save(&self) -> bool {
        matches!(
            self,
            Self::SaveResult { .. }
                | Self::SaveSelection { .. }
                | Self::SaveGeoJson { .. }
                | Self::DownloadImage { .. }
                | Self::SaveHistory { .. }
        )
    }

    /// Whether several files can be picked at once.
    pub fn multiple(&self) -> bool {
        matches!(self, Self::Upload { .. })
    }

    /// The file types offered, the first one chosen at the start.
    pub fn filters(&self) -> Vec<FileFilter> {
        match self {
            Self::ImportAoi => vec![FileFilter::new("GeoJSON", &["geojson", "json"]), FileFilter::all()],
            Self::SaveResult { .. } | Self::SaveSelection { .. } | Self::SaveGeoJson { .. } => vec![
                FileFilter::new("GeoJSON", &["geojson", "json"]),
                FileFilter::new("GeoPackage", &["gpkg"]),
                FileFilter::new("FlatGeobuf", &["fgb"]),
                FileFilter::new("Shapefile", &["shp"]),
            ],
            Self::Upload { .. } => vec![FileFilter::new("GeoTIFF", &["tif", "tiff"]), FileFilter::all()],
            Self::SaveHistory { .. } => vec![FileFilter::new("CSV", &["csv"]), FileFilter::all()],
            Self::OpenLayer | Self::BatchFile => vec![
                FileFilter::new(&t!("files.gis_files"), &["geojson", "json", "gpkg", "fgb", "shp"]),
                FileFilter::all(),
            ],
            Self::DownloadImage { filename, .. } => match filename.rsplit_once('.') {
                Some((_, ext)) if !ext.is_empty() => {
                    vec![FileFilter::new(&ext.to_uppercase(), &[ext]), FileFilter::all()]
                }
                _ => vec![FileFilter::all()],
            },
        }
    }

    /// The file name a save starts with.
    pub fn suggested_name(&self) -> String {
        match self {
            Self::SaveResult { name, .. } | Self::SaveSelection { name, .. } | Self::SaveGeoJson { name, .. } => {
                format!("{}.geojson", sanitize_file_name(name))
            }
            Self::DownloadImage { filename, .. } => sanitize_file_name(filename),
            Self::SaveHistory { .. } => "mapflow-history.csv".to_owned(),
            Self::ImportAoi | Self::Upload { .. } | Self::OpenLayer | Self::BatchFile => String::new(),
        }
    }

    /// The window title.
    pub fn title(&self) -> String {
        match self {
            Self::ImportAoi => t!("files.title_import_aoi"),
            Self::SaveResult { .. } => t!("files.title_save_result"),
            Self::SaveSelection { .. } => t!("files.title_save_selection"),
            Self::SaveGeoJson { .. } => t!("files.title_save_features"),
            Self::Upload { .. } => t!("files.title_upload"),
            Self::DownloadImage { .. } => t!("files.title_download"),
            Self::SaveHistory { .. } => t!("files.title_save_history"),
            Self::OpenLayer => t!("files.title_open_layer"),
            Self::BatchFile => t!("batch.file_title"),
        }
        .into_owned()
    }

    /// The command that asked for a path, with `paths` filled in (`None` for an empty pick).
    pub fn command(self, mut paths: Vec<PathBuf>) -> Option<Command> {
        if paths.is_empty() {
            return None;
        }
        Some(match self {
            Self::ImportAoi => Command::ImportAoi { path: Some(paths.swap_remove(0)) },
            Self::SaveResult { id, name } => Command::SaveResult { id, name, path: Some(paths.swap_remove(0)) },
            Self::SaveSelection { id, name, features } => {
                Command::SaveSelection { id, name, features, path: Some(paths.swap_remove(0)) }
            }
            Self::SaveGeoJson { name, geojson } => {
                Command::SaveGeoJson { name, geojson, path: Some(paths.swap_remove(0)) }
            }
            Self::Upload { target } => Command::Upload { target, paths: Some(paths) },
            Self::DownloadImage { id, filename } => {
                Command::DownloadImage { id, filename, path: Some(paths.swap_remove(0)) }
            }
            Self::SaveHistory { filter } => Command::SaveHistory { filter, path: Some(paths.swap_remove(0)) },
            Self::OpenLayer => Command::OpenLayer { path: Some(paths.swap_remove(0)) },
            Self::BatchFile => Command::ReadBatchFile { path: Some(paths.swap_remove(0)) },
        })
    }
}

/// A file name made of safe characters, never empty.
pub fn sanitize_file_name(name: &str) -> String {
    let s: String = name.chars().map(|c| if c.is_alphanumeric() || " -_.".contains(c) { c } else { '_' }).collect();
    if s.trim().is_empty() { "result".into() } else { s.trim().to_owned() }
}

/// One entry of a folder.
#[derive(Debug, Clone, PartialEq)]
pub struct DirEntry {
    /// The name as shown (lossy for names that are not UTF-8).
    pub name: String,
    pub path: PathBuf,
    pub is_dir: bool,
    /// Bytes, for files.
    pub size: Option<u64>,
    pub modified: Option<SystemTime>,
    /// Why the entry's details could not be read, if they could not.
    pub error: Option<String>,
}

impl DirEntry {
    /// Hidden by convention (a dot file).
    pub fn is_hidden(&self) -> bool {
        self.name.starts_with('.')
    }
}

/// A folder as the worker read it.
#[derive(Debug, Clone, PartialEq)]
pub struct FolderListing {
    /// The folder, resolved (no `..`, no symlinks).
    pub folder: PathBuf,
    /// Folders first, then files, each by name.
    pub entries: Vec<DirEntry>,
}

impl FolderListing {
    /// The entries shown under `filter`: every folder, the files it lets through.
    pub fn visible<'a>(&'a self, filter: &'a FileFilter, show_hidden: bool) -> impl Iterator<Item = &'a DirEntry> {
        self.entries
            .iter()
            .filter(move |e| show_hidden || !e.is_hidden())
            .filter(move |e| e.is_dir || filter.matches(&e.name))
    }

    /// The entry named `name`, if the folder has one.
    pub fn entry(&self, name: &str) -> Option<&DirEntry> {
        self.entries.iter().find(|e| e.name == name)
    }
}

/// Folders first, then files; within each, by name ignoring case (then exactly, so the
/// order is total).
pub fn sort_entries(entries: &mut [DirEntry]) {
    entries.sort_by(|a, b| {
        b.is_dir
            .cmp(&a.is_dir)
            .then_with(|| a.name.to_lowercase().cmp(&b.name.to_lowercase()))
            .then_with(|| a.name.cmp(&b.name))
    });
}

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
