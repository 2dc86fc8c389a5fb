//! Where the API token is kept: the OS keychain, or a file only the user can read.
//!
//! Only the worker calls this (it is I/O).

use crate::api::Token;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

const SERVICE: &str = "Mapflow Desktop";

/// Where a token was found or stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreLocation {
    Keychain,
    /// The fallback file (mode 0600) where no keychain is available.
    File(PathBuf),
}

/// What is remembered between runs.
#[derive(Debug, Clone, PartialEq)]
pub struct SavedCredentials {
    pub server: String,
    pub token: Token,
    pub location: StoreLocation,
}

#[derive(Serialize, Deserialize)]
struct FileRecord {
    server: String,
    token: String,
}

/// The token store: the keychain first, a private file when there is none.
#[derive(Debug, Clone)]
pub struct CredentialStore {
    use_keychain: bool,
    /// Holds the server URL always, and the token too when the keychain is not used.
    file: PathBuf,
}

impl CredentialStore {
    /// The user's store: keychain entries under the app's name, the file in the config dir.
    pub fn user_default() -> Self {
        let file = crate::platform::project_dirs()
            .map(|d| d.config_dir().join("credentials.json"))
            .unwrap_or_else(|| PathBuf::from("mapflow-credentials.json"));
        Self { use_keychain: true, file }
    }

    /// The keychain, with the server URL kept in `file` (the keychain test's own file).
    pub fn keychain(file: impl Into<PathBuf>) -> Self {
        Self { use_keychain: true, file: file.into() }
    }

    /// A store that never touches the keychain, kept in `file` (tests, portable use).
    pub fn file_only(file: impl Into<PathBuf>) -> Self {
        Self { use_keychain: false, file: file.into() }
    }

    pub fn file_path(&self) -> &Path {
        &self.file
    }

    /// The saved server and token, if any. A token that no longer parses is ignored.
    pub fn load(&self) -> Result<Option<SavedCredentials>, String> {
        let record: FileRecord = match std::fs::read_to_string(&self.file) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| format!("{}: {e}", self.file.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("{}: {e}", self.file.display())),
        };
        let (raw, location) = if record.token.is_empty() && self.use_keychain {
            match keychain_entry(&record.server).and_then(|e| e.get_password()) {
                Ok(t) => (t, StoreLocation::Keychain),
                Err(keyring::Error::NoEntry) => return Ok(None),
                Err(e) => return Err(format!("keychain: {e}")),
            }
        } else {
            (record.token, StoreLocation::File(self.file.clone()))
        };
        Ok(Token::parse(&raw).ok().map(|token| SavedCredentials { server: record.server, token, location }))
    }

    /// Saves the token: in the keychain when one answers, else in the private file.
    pub fn save(&self, server: &str, token: &Token) -> Result<StoreLocation, String> {
        let in_keychain = self.use_keychain
            && keychain_entry(server)
                .and_then(|e| e.set_password(token.expose()))
                .map_err(|e| {
                    tracing::info!("no keychain ({e}); keeping the token in {}", self.file.display());
                })
                .is_ok();
        let record = FileRecord {
            server: server.to_owned(),
            token: if in_keychain { String::new() } else { token.expose().to_owned() },
        };
        let text = serde_json::to_string_pretty(&record).map_err(|e| e.to_string())?;
        write_private(&self.file, text.as_bytes()).map_err(|e| format!("{}: {e}", self.file.display()))?;
        Ok(if in_keychain { StoreLocation::Keychain } else { StoreLocation::File(self.file.clone()) })
    }

    /// Forgets the token everywhere it may be.
    pub fn clear(&self) -> Result<(), String> {
        if let Ok(Some(saved)) = self.load()
            && saved.location == StoreLocation::Keychain
        {
            match keychain_entry(&saved.server).and_then(|e| e.delete_credential()) {
                Ok(()) | Err(keyring::Error::NoEntry) => {}
                Err(e) => return Err(format!("keychain: {e}")),
            }
        }
        match std::fs::remove_file(&self.file) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(format!("{}: {e}", self.file.display())),
        }
    }
}

fn keychain_entry(server: &str) -> keyring::Result<keyring::Entry> {
    keyring::Entry::new(SERVICE, server)
}

/// Writes `bytes` to `path` atomically, readable by the user only.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        tmp.as_file().set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_store_round_trip_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let store = CredentialStore::file_only(dir.path().join("c.json"));
        assert_eq!(store.load().unwrap(), None);
        let token = Token::from_parts("a@b.c", "key");
        let loc = store.save("https://x/rest", &token).unwrap();
        assert_eq!(loc, StoreLocation::File(store.file_path().to_owned()));
        let saved = store.load().unwrap().unwrap();
        assert_eq!(saved.token, token);
        assert_eq!(saved.server, "https://x/rest");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(store.file_path()).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        store.clear().unwrap();
        assert_eq!(store.load().unwrap(), None);
    }
}
