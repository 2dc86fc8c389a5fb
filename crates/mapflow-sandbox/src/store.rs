//! The sandbox's database: `sandbox.sqlite3` in the data directory.
//!
//! One table per kind of record (`account`, `projects`, `processings`, `mosaics`,
//! `images`, `templates`), each row its record as JSON under its id, in the order the records were
//! added (rowid). The server keeps the whole state in memory as well, for reading; a
//! write saves only the records that changed ([`super::table::Table`]), in one
//! transaction, so its cost follows the size of the change and not of the account.
//!
//! Durability: WAL journal with `synchronous = FULL`, so a write that was answered
//! survives `kill -9` and a power loss. The schema is versioned (`PRAGMA user_version`)
//! and migrated forward at open; a database written by a newer version, or one that
//! cannot be read, is never replaced: the server refuses to start and says where the file
//! is and how to reset it (`--reset-state`, which sets it aside as `*.corrupt`).
//!
//! An account kept by an earlier version in `sandbox-state.json` is imported once, and the
//! file renamed to `sandbox-state.json.imported`.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension as _, Transaction, params};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::state::PersistedState;
use super::table::{Row, Table};

/// The database's file name inside the data directory.
pub const STORE_FILE: &str = "sandbox.sqlite3";
/// Where versions before the database kept the account (imported once).
pub const LEGACY_STATE_FILE: &str = "sandbox-state.json";

/// The schema, one step per version: step `i` takes a database from version `i` to
/// `i + 1`. Steps are only ever added, never changed.
const MIGRATIONS: &[&str] = &[
    "CREATE TABLE account (id INTEGER PRIMARY KEY CHECK (id = 1), body TEXT NOT NULL);
     CREATE TABLE projects (id TEXT PRIMARY KEY NOT NULL, body TEXT NOT NULL);
     CREATE TABLE processings (id TEXT PRIMARY KEY NOT NULL, body TEXT NOT NULL);
     CREATE TABLE mosaics (id TEXT PRIMARY KEY NOT NULL, body TEXT NOT NULL);
     CREATE TABLE images (id TEXT PRIMARY KEY NOT NULL, body TEXT NOT NULL);",
    "CREATE TABLE templates (id TEXT PRIMARY KEY NOT NULL, body TEXT NOT NULL);",
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// The open database of a data directory.
pub(crate) struct Store {
    conn: Connection,
    path: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish_non_exhaustive()
    }
}

/// Why a store could not be opened, worded for the person starting the server.
fn unreadable(path: &Path, reason: &str) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        format!(
            "the sandbox's account in {} cannot be read ({reason}); it was left as it is. Move it away \
             to start with a new demo account, or start the headless sandbox with --reset-state to set \
             it aside",
            path.display()
        ),
    )
}

impl Store {
    /// Opens (or creates) the database in `dir` and reads the account it holds: `None`
    /// for a new database (a fresh account). With `reset`, a database or legacy file that
    /// cannot be read is renamed aside to `*.corrupt` and a new one started.
    pub fn open(dir: &Path, reset: bool) -> std::io::Result<(Self, Option<PersistedState>)> {
        std::fs::create_dir_all(dir)?;
        remove_leftovers(dir);
        let path = dir.join(STORE_FILE);
        let opened = match Self::open_at(&path) {
            Ok(opened) => opened,
            Err(reason) if !reset => return Err(unreadable(&path, &reason)),
            Err(reason) => {
                set_aside(&path, &reason);
                Self::open_at(&path).map_err(|reason| unreadable(&path, &reason))?
            }
        };
        let (mut store, state) = opened;
        if state.is_some() {
            return Ok((store, state));
        }
        let legacy = dir.join(LEGACY_STATE_FILE);
        let Some(mut state) = read_legacy(&legacy, reset)? else { return Ok((store, None)) };
        state.mark_all_changed();
        store.save(&mut state).map_err(|e| std::io::Error::other(format!("{}: {e}", path.display())))?;
        let imported = dir.join(format!("{LEGACY_STATE_FILE}.imported"));
        if let Err(e) = std::fs::rename(&legacy, &imported) {
            tracing::warn!("sandbox: could not rename {} after importing it: {e}", legacy.display());
        }
        tracing::info!("sandbox: imported the account of {} into {}", legacy.display(), path.display());
        Ok((store, Some(state)))
    }

    /// Opens the database at `path`, migrates it and reads it; the error is the reason it
    /// cannot be used.
    fn open_at(path: &Path) -> Result<(Self, Option<PersistedState>), String> {
        let mut conn = Connection::open(path).map_err(|e| e.to_string())?;
        // journal_mode answers the mode it set; an unreadable file fails here.
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)).map_err(|e| e.to_string())?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!("sandbox: the database runs in {mode} mode, not WAL");
        }
        conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;").map_err(|e| e.to_string())?;
        migrate(&mut conn)?;
        let state = read_state(&conn)?;
        let store = Self { conn, path: path.to_owned() };
        if state.is_some() {
            tracing::info!("sandbox: loaded the account from {}", path.display());
        }
        Ok((store, state))
    }

    /// The account as the database holds it now (after a save that failed, what is
    /// really stored).
    pub fn reload(&self) -> Result<Option<PersistedState>, String> {
        read_state(&self.conn)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Saves what changed in `state` since the last save, in one transaction; once it is
    /// committed the changes are forgotten. On an error nothing is forgotten, so the next
    /// save writes them again.
    pub fn save(&mut self, state: &mut PersistedState) -> rusqlite::Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO account (id, body) VALUES (1, ?1) ON CONFLICT (id) DO UPDATE SET body = excluded.body",
            params![to_json(&state.account)?],
        )?;
        save_table(&tx, "projects", &state.projects)?;
        save_table(&tx, "processings", &state.processings)?;
        save_table(&tx, "mosaics", &state.mosaics)?;
        save_table(&tx, "images", &state.images)?;
        save_table(&tx, "templates", &state.templates)?;
        tx.commit()?;
        state.mark_saved();
        Ok(())
    }
}

fn to_json<T: Serialize>(value: &T) -> rusqlite::Result<String> {
    serde_json::to_string(value).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
}

/// Writes the changed rows of one table: present ones upserted (an update keeps the
/// row's place), missing ones deleted.
fn save_table<T: Row + Serialize>(tx: &Transaction<'_>, table: &str, rows: &Table<T>) -> rusqlite::Result<()> {
    if rows.changed().is_empty() {
        return Ok(());
    }
    let mut upsert = tx.prepare_cached(&format!(
        "INSERT INTO {table} (id, body) VALUES (?1, ?2) ON CONFLICT (id) DO UPDATE SET body = excluded.body"
    ))?;
    let mut delete = tx.prepare_cached(&format!("DELETE FROM {table} WHERE id = ?1"))?;
    for id in rows.changed() {
        match rows.get(id) {
            Some(row) => upsert.execute(params![id, to_json(row)?])?,
            None => delete.execute(params![id])?,
        };
    }
    Ok(())
}

/// Brings the schema to [`SCHEMA_VERSION`], one transaction per step.
fn migrate(conn: &mut Connection) -> Result<(), String> {
    let version: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(|e| e.to_string())?;
    if version > SCHEMA_VERSION {
        return Err(format!(
            "it was written by a newer version of the app (schema {version}; this one knows up to {SCHEMA_VERSION})"
        ));
    }
    for (step, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let tx = conn.transaction().map_err(|e| e.to_string())?;
        tx.execute_batch(sql).map_err(|e| format!("migration to schema {}: {e}", step + 1))?;
        tx.pragma_update(None, "user_version", (step + 1) as i64).map_err(|e| e.to_string())?;
        tx.commit().map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// The account in the database, `None` when it holds none yet.
fn read_state(conn: &Connection) -> Result<Option<PersistedState>, String> {
    let account: Option<String> = conn
        .query_row("SELECT body FROM account WHERE id = 1", [], |r| r.get(0))
        .optional()
        .map_err(|e| e.to_string())?;
    let Some(account) = account else { return Ok(None) };
    let mut state = PersistedState {
        account: serde_json::from_str(&account).map_err(|e| format!("the account row: {e}"))?,
        projects: read_table(conn, "projects")?,
        processings: read_table(conn, "processings")?,
        mosaics: read_table(conn, "mosaics")?,
        images: read_table(conn, "images")?,
        templates: read_table(conn, "templates")?,
    };
    state.normalize();
    Ok(Some(state))
}

fn read_table<T: Row + DeserializeOwned>(conn: &Connection, table: &str) -> Result<Table<T>, String> {
    let mut statement =
        conn.prepare(&format!("SELECT id, body FROM {table} ORDER BY rowid")).map_err(|e| e.to_string())?;
    let rows =
        statement.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))).map_err(|e| e.to_string())?;
    let mut records = Vec::new();
    for row in rows {
        let (id, body) = row.map_err(|e| e.to_string())?;
        let record: T = serde_json::from_str(&body).map_err(|e| format!("{table} row {id}: {e}"))?;
        if record.id() != id {
            return Err(format!("{table} row {id} holds the record {}", record.id()));
        }
        records.push(record);
    }
    Ok(Table::loaded(records))
}

/// Reads the account an earlier version kept as JSON; `None` when there is no such file.
fn read_legacy(path: &Path, reset: bool) -> std::io::Result<Option<PersistedState>> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    match serde_json::from_slice::<PersistedState>(&bytes) {
        Ok(mut state) => {
            state.normalize();
            Ok(Some(state))
        }
        Err(e) if !reset => Err(unreadable(path, &e.to_string())),
        Err(e) => {
            set_aside(path, &e.to_string());
            Ok(None)
        }
    }
}

/// Renames an unreadable file (and a database's journal files) to `*.corrupt`.
fn set_aside(path: &Path, reason: &str) {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    tracing::warn!("sandbox: {} cannot be read ({reason}); setting it aside and starting afresh", path.display());
    for suffix in ["", "-wal", "-shm"] {
        let from = path.with_file_name(format!("{name}{suffix}"));
        if !from.exists() {
            continue;
        }
        let to = path.with_file_name(format!("{name}{suffix}.corrupt"));
        if let Err(e) = std::fs::rename(&from, &to) {
            tracing::warn!("sandbox: could not move {} aside: {e}", from.display());
        }
    }
}

/// Removes the temporary files of writes a crash interrupted in earlier versions
/// (`.sandbox-state.*.tmp`).
fn remove_leftovers(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(".sandbox-state.") && name.ends_with(".tmp") {
            match std::fs::remove_file(entry.path()) {
                Ok(()) => tracing::info!("sandbox: removed {name}, left by an interrupted write"),
                Err(e) => tracing::warn!("sandbox: could not remove {name}: {e}"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::ProjectRecord;

    fn count(store: &Store, table: &str) -> i64 {
        store.conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0)).unwrap()
    }

    #[test]
    fn a_save_writes_what_changed_and_a_reopen_reads_it_back_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let (mut store, state) = Store::open(dir.path(), false).unwrap();
        assert!(state.is_none(), "a new database holds no account");
        let mut state = PersistedState::seed();
        state.mark_all_changed();
        store.save(&mut state).unwrap();
        assert_eq!(count(&store, "projects"), 2);
        for i in 0..5 {
            state.projects.push(ProjectRecord::new(&format!("p{i}"), None, false, chrono::Utc::now()));
        }
        let gone = state.projects[3].id.clone();
        store.save(&mut state).unwrap();
        // A rename and a delete touch two rows; the others keep their bodies and places.
        state.projects.get_mut(&state.projects[2].id.clone()).unwrap().name = "renamed".into();
        state.projects.remove(&gone);
        assert_eq!(state.projects.changed().len(), 2);
        store.save(&mut state).unwrap();
        assert!(state.projects.changed().is_empty());
        drop(store);

        let (_store, loaded) = Store::open(dir.path(), false).unwrap();
        let loaded = loaded.unwrap();
        let names: Vec<&str> = loaded.projects.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, [crate::seed::DEFAULT_PROJECT_NAME, "Demo: Almaty", "renamed", "p2", "p3", "p4"]);
        assert_eq!(loaded.account.user_id, state.account.user_id);
    }

    #[test]
    fn a_newer_schema_is_refused_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(STORE_FILE);
        {
            let conn = Connection::open(&path).unwrap();
            conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1).unwrap();
        }
        let err = Store::open(dir.path(), false).unwrap_err().to_string();
        assert!(err.contains("newer version") && err.contains("--reset-state"), "{err}");
        assert!(path.exists());
    }

    #[test]
    fn a_row_that_cannot_be_decoded_is_refused_with_its_id() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (mut store, _) = Store::open(dir.path(), false).unwrap();
            let mut state = PersistedState::seed();
            state.mark_all_changed();
            store.save(&mut state).unwrap();
            store.conn.execute("INSERT INTO projects (id, body) VALUES ('broken', '{\"id\": 5}')", []).unwrap();
        }
        let err = Store::open(dir.path(), false).unwrap_err().to_string();
        assert!(err.contains("projects row broken"), "{err}");
        // Told to, it sets the database aside and starts a new one.
        let (_store, state) = Store::open(dir.path(), true).unwrap();
        assert!(state.is_none());
        assert!(dir.path().join(format!("{STORE_FILE}.corrupt")).exists());
    }
}
