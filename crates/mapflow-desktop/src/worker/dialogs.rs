//! File dialogs: the system's (rfd) where the desktop has one, the UI's built-in chooser
//! where it has none, where the system dialog failed, or where the settings ask for it.
//!
//! rfd's Linux backend asks the xdg-desktop-portal FileChooser and falls back to zenity; with
//! neither, it logs an error and answers as if the user had cancelled. So the worker checks for
//! them first, and checks again after a dialog that came back empty.

use super::files::{DirEntry, FilePurpose, FolderListing};
use super::{Event, EventSink, Worker};
use rust_i18n::t;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long the session bus may take to say whether a portal file chooser exists.
const PORTAL_TIMEOUT: Duration = Duration::from_secs(2);

/// What came of asking for a file.
pub(crate) enum Picked<T> {
    /// The system dialog picked this.
    Chosen(T),
    /// The user dismissed the system dialog.
    Dismissed,
    /// The built-in chooser has the choice now; the UI answers with the original command.
    Builtin,
}

/// Which dialog opens, shared by the tasks that open them.
#[derive(Clone, Default)]
pub(crate) struct Dialogs {
    /// The settings ask for the built-in chooser.
    pub(crate) builtin_only: bool,
    /// Whether a system dialog can open, or why not; `None` until first checked.
    native: Arc<Mutex<Option<Result<(), String>>>>,
}

impl Dialogs {
    /// Runs the system dialog `native` when there is one. Otherwise, and when it failed, hands
    /// `purpose` to the built-in chooser with `Event::ChooseFile`.
    pub(crate) async fn pick<T, Fut>(
        &self,
        sink: &EventSink,
        purpose: FilePurpose,
        native: impl FnOnce() -> Fut,
    ) -> Picked<T>
    where
        Fut: std::future::Future<Output = Option<T>>,
    {
        if self.builtin_only {
            sink.send(Event::ChooseFile { purpose, reason: None });
            return Picked::Builtin;
        }
        if let Err(reason) = self.availability().await {
            sink.send(Event::ChooseFile { purpose, reason: Some(reason) });
            return Picked::Builtin;
        }
        if let Some(picked) = native().await {
            return Picked::Chosen(picked);
        }
        // A cancel, or a dialog that could not open: rfd answers both the same way.
        let now = detect().await;
        self.remember(now.clone());
        match now {
            Ok(()) => Picked::Dismissed,
            Err(reason) => {
                sink.send(Event::ChooseFile { purpose, reason: Some(reason) });
                Picked::Builtin
            }
        }
    }

    /// The path a command came with, else one asked for: the system dialog (or the built-in
    /// chooser, see [`Self::pick`]) with the title, file types and suggested name `purpose`
    /// gives. `None` when the dialog was dismissed or the built-in chooser took over (it
    /// answers with the command again, path filled in).
    pub(crate) async fn path(&self, sink: &EventSink, path: Option<PathBuf>, purpose: FilePurpose) -> Option<PathBuf> {
        if path.is_some() {
            return path;
        }
        let mut dialog = rfd::AsyncFileDialog::new().set_title(purpose.title());
        for filter in purpose.filters() {
            let extensions: Vec<&str> = if filter.extensions.is_empty() {
                vec!["*"]
            } else {
                filter.extensions.iter().map(String::as_str).collect()
            };
            dialog = dialog.add_filter(&filter.label, &extensions);
        }
        let save = purpose.is_save();
        if save {
            dialog = dialog.set_file_name(purpose.suggested_name());
        }
        let native = move || async move { if save { dialog.save_file().await } else { dialog.pick_file().await } };
        match self.pick(sink, purpose, native).await {
            Picked::Chosen(file) => Some(file.path().to_owned()),
            Picked::Dismissed | Picked::Builtin => None,
        }
    }

    /// Checks (once) whether a system dialog can open, and logs why not.
    pub(crate) async fn check(self) {
        if let Err(reason) = self.availability().await {
            tracing::info!(%reason, "no system file dialog; the built-in chooser will be used");
        }
    }

    /// Whether a system dialog can open, checked once and then remembered.
    async fn availability(&self) -> Result<(), String> {
        let known = self.native.lock().unwrap_or_else(|e| e.into_inner()).clone();
        match known {
            Some(known) => known,
            None => {
                let found = detect().await;
                self.remember(found.clone());
                found
            }
        }
    }

    fn remember(&self, found: Result<(), String>) {
        *self.native.lock().unwrap_or_else(|e| e.into_inner()) = Some(found);
    }
}

/// Whether rfd has a dialog to show here, or why not.
async fn detect() -> Result<(), String> {
    xdg::detect().await
}

/// Where rfd's dialogs come from the desktop portal or zenity.
#[cfg(any(
    target_os = "linux",
    target_os = "freebsd",
    target_os = "dragonfly",
    target_os = "netbsd",
    target_os = "openbsd"
))]
mod xdg {
    use super::{PORTAL_TIMEOUT, find_on_path};
    use rust_i18n::t;

    pub(super) async fn detect() -> Result<(), String> {
        detect_in(std::env::var_os("PATH").as_deref(), zbus::Connection::session()).await
    }

    /// [`detect`] with `path` as `PATH` and `bus` as the session bus.
    pub(super) async fn detect_in(
        path: Option<&std::ffi::OsStr>,
        bus: impl std::future::Future<Output = zbus::Result<zbus::Connection>>,
    ) -> Result<(), String> {
        if find_on_path("zenity", path).is_some() {
            return Ok(());
        }
        let silent = || t!("files.bus_silent").into_owned();
        let portal = match tokio::time::timeout(PORTAL_TIMEOUT, bus).await {
            Ok(Ok(conn)) => {
                tokio::time::timeout(PORTAL_TIMEOUT, portal_file_chooser(&conn)).await.unwrap_or_else(|_| Err(silent()))
            }
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(silent()),
        };
        portal.map(|_| ()).map_err(|detail| t!("files.no_portal_no_zenity", detail = detail).into_owned())
    }

    /// The version of the desktop portal's FileChooser interface, which rfd asks first.
    async fn portal_file_chooser(conn: &zbus::Connection) -> Result<u32, String> {
        let reply = conn
            .call_method(
                Some("org.freedesktop.portal.Desktop"),
                "/org/freedesktop/portal/desktop",
                Some("org.freedesktop.DBus.Properties"),
                "Get",
                &("org.freedesktop.portal.FileChooser", "version"),
            )
            .await
            .map_err(|e| e.to_string())?;
        let value: zbus::zvariant::OwnedValue = reply.body().deserialize().map_err(|e| e.to_string())?;
        u32::try_from(value).map_err(|e| e.to_string())
    }
}

/// Elsewhere the system always has a dialog.
#[cfg(not(any(
    target_os = "linux",
    target_os = "freebsd",
    target_os = "dragonfly",
    target_os = "netbsd",
    target_os = "openbsd"
)))]
mod xdg {
    pub(super) async fn detect() -> Result<(), String> {
        Ok(())
    }
}

/// The first executable file named `name` in the `PATH`-style list `path`.
pub(crate) fn find_on_path(name: &str, path: Option<&std::ffi::OsStr>) -> Option<PathBuf> {
    std::env::split_paths(path?).map(|dir| dir.join(name)).find(|candidate| is_executable(candidate))
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

/// Reads a folder for the built-in chooser: resolved, folders first, each entry with its
/// size and time (or why they could not be read).
pub(crate) fn read_folder(path: &Path) -> Result<FolderListing, String> {
    let cannot =
        |e: std::io::Error| t!("files.cannot_open", path = path.display().to_string(), reason = e).into_owned();
    let folder = std::fs::canonicalize(path).map_err(cannot)?;
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(&folder).map_err(cannot)? {
        let entry = entry.map_err(cannot)?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        // `fs::metadata` follows links, so a link to a folder opens like one.
        entries.push(match std::fs::metadata(&path) {
            Ok(m) => DirEntry {
                name,
                path,
                is_dir: m.is_dir(),
                size: m.is_file().then_some(m.len()),
                modified: m.modified().ok(),
                error: None,
            },
            Err(e) => DirEntry { name, path, is_dir: false, size: None, modified: None, error: Some(e.to_string()) },
        });
    }
    super::files::sort_entries(&mut entries);
    Ok(FolderListing { folder, entries })
}

impl Worker {
    /// Lists a folder off the async threads and answers with `Event::FolderListing`.
    pub(super) fn list_folder(&self, path: PathBuf) {
        let sink = self.sink.clone();
        tokio::spawn(async move {
            let p = path.clone();
            let result = tokio::task::spawn_blocking(move || read_folder(&p))
                .await
                .map_err(|e| e.to_string())
                .and_then(|r| r.map(Arc::new));
            sink.send(Event::FolderListing { path, result });
        });
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn finds_only_executables_on_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let other = tempfile::tempdir().unwrap();
        let path = std::env::join_paths([other.path(), dir.path()]).unwrap();
        assert_eq!(find_on_path("zenity", Some(&path)), None);
        let zenity = dir.path().join("zenity");
        std::fs::write(&zenity, "#!/bin/sh\n").unwrap();
        #[cfg(unix)]
        {
            assert_eq!(find_on_path("zenity", Some(&path)), None, "not executable yet");
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&zenity, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        assert_eq!(find_on_path("zenity", Some(&path)), Some(zenity));
        assert_eq!(find_on_path("zenity", None), None);
    }

    #[test]
    fn a_folder_lists_folders_first_and_a_missing_one_says_why() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("b.geojson"), "{}").unwrap();
        std::fs::create_dir(dir.path().join("z")).unwrap();
        let listing = read_folder(dir.path()).unwrap();
        let names: Vec<_> = listing.entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["z", "b.geojson"]);
        assert_eq!(listing.entries[1].size, Some(2));
        let missing = dir.path().join("nowhere");
        let err = read_folder(&missing).unwrap_err();
        assert!(err.contains("nowhere"), "{err}");
        let err = read_folder(&dir.path().join("b.geojson")).unwrap_err();
        assert!(err.contains("b.geojson"), "a file is not a folder: {err}");
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn without_zenity_or_a_bus_there_is_no_system_dialog() {
        let empty = tempfile::tempdir().unwrap();
        let no_bus = || zbus::connection::Builder::address("unix:path=/nonexistent/mapflow-test-bus").unwrap().build();
        let err = xdg::detect_in(Some(empty.path().as_os_str()), no_bus()).await.unwrap_err();
        assert!(err.contains("zenity"), "{err}");
        let with_zenity = tempfile::tempdir().unwrap();
        let zenity = with_zenity.path().join("zenity");
        std::fs::write(&zenity, "#!/bin/sh\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&zenity, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(xdg::detect_in(Some(with_zenity.path().as_os_str()), no_bus()).await, Ok(()));
    }
}
