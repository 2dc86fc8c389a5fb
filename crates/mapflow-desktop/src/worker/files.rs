//! What a file is being chosen for, and folders as the worker reads them: the vocabulary the
//! system dialogs and the built-in chooser (`crate::app::files`) share.

use super::{Command, UploadTarget};
use rust_i18n::t;
use std::path::PathBuf;
use std::time::SystemTime;

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
