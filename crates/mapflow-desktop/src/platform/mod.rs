//! What the app keeps on this machine, below every other layer: the per-user directories
//! and the saved sign-in (the OS keychain, or a private file where there is none).

pub mod credentials;

/// The app's per-user directories (config, data, cache), if the platform has them.
pub fn project_dirs() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("ai", "Mapflow", "mapflow-desktop")
}
