//! The result cache: downloaded results kept on disk, by server and processing, so opening
//! a result again is instant and works with no connection. Capped in size; the least
//! recently used results go first. Written atomically (a temporary file renamed), so a
//! crash never leaves half a result to be read as whole.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

/// The default cap: 1 GiB.
pub const DEFAULT_LIMIT: u64 = 1024 * 1024 * 1024;

#[derive(Debug)]
pub struct ResultCache {
    dir: PathBuf,
    limit: AtomicU64,
    /// Writes and evictions one at a time.
    lock: Mutex<()>,
}

/// A short stable name for a server URL (FNV-1a), so results of two servers never mix.
pub(super) fn server_key(server: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in server.trim_end_matches('/').bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// The cache key of a processing's result at `version` (its `updated` time): a result run
/// again has another key, so a stale copy is never found.
pub fn entry_key(id: &str, version: Option<&str>) -> String {
    match version {
        Some(v) => format!("{id}_{}", server_key(v)),
        None => id.to_owned(),
    }
}

/// A file name for a processing id: its safe characters, else its bytes in hex.
fn id_file(id: &str) -> String {
    format!("{}.geojson", file_stem(id))
}

/// An id as a file name without extension: its safe characters, else its bytes in hex.
pub(super) fn file_stem(id: &str) -> String {
    if !id.is_empty() && id.len() <= 100 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        id.to_owned()
    } else {
        // Marked, so it never equals a safe id; hashed when long, so two ids never share one.
        let hex: String = id.bytes().map(|b| format!("{b:02x}")).collect();
        if hex.len() <= 200 { format!("x-{hex}") } else { format!("h-{}", server_key(id)) }
    }
}

impl ResultCache {
    pub fn new(dir: PathBuf, limit: u64) -> Self {
        Self { dir, limit: AtomicU64::new(limit), lock: Mutex::new(()) }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, server: &str, id: &str) -> PathBuf {
        self.dir.join(server_key(server)).join(id_file(id))
    }

    /// The cached result's file, marked as just used.
    pub fn lookup(&self, server: &str, id: &str) -> Option<PathBuf> {
        let path = self.path(server, id);
        let file = std::fs::File::options().append(true).open(&path).ok()?;
        let _ = file.set_modified(SystemTime::now());
        Some(path)
    }

    /// Where a result downloaded straight into the cache goes (its folder made); written
    /// there atomically by the caller, then [`Self::trim`] keeps the cap.
    pub fn slot(&self, server: &str, id: &str) -> std::io::Result<PathBuf> {
        let path = self.path(server, id);
        std::fs::create_dir_all(path.parent().unwrap_or(&self.dir))?;
        Ok(path)
    }

    /// Evicts the least recently used results over the cap.
    pub fn trim(&self) {
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        self.evict_to(self.limit.load(Ordering::Relaxed));
    }

    /// Forgets one result (its processing was run again).
    pub fn remove(&self, server: &str, id: &str) {
        let _ = std::fs::remove_file(self.path(server, id));
    }

    /// Every cached file with its size and last use.
    fn files(&self) -> Vec<(PathBuf, u64, SystemTime)> {
        let mut out = Vec::new();
        for server in std::fs::read_dir(&self.dir).into_iter().flatten().flatten() {
            for file in std::fs::read_dir(server.path()).into_iter().flatten().flatten() {
                if let Ok(meta) = file.metadata()
                    && meta.is_file()
                {
                    out.push((file.path(), meta.len(), meta.modified().unwrap_or(SystemTime::UNIX_EPOCH)));
                }
            }
        }
        out
    }

    /// Bytes the cache holds.
    pub fn size(&self) -> u64 {
        self.files().iter().map(|f| f.1).sum()
    }

    /// Sets the cap and evicts down to it.
    pub fn set_limit(&self, limit: u64) {
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        self.limit.store(limit, Ordering::Relaxed);
        self.evict_to(limit);
    }

    /// Removes every cached result.
    pub fn clear(&self) {
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        for (path, _, _) in self.files() {
            let _ = std::fs::remove_file(path);
        }
    }

    fn evict_to(&self, limit: u64) {
        let mut files = self.files();
        let mut total: u64 = files.iter().map(|f| f.1).sum();
        files.sort_by_key(|f| f.2);
        for (path, size, _) in files {
            if total <= limit {
                break;
            }
            if std::fs::remove_file(&path).is_ok() {
                total -= size;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keeps a result as the worker does: written into its slot, then the cap kept.
    fn put(cache: &ResultCache, server: &str, id: &str, bytes: &[u8]) {
        std::fs::write(cache.slot(server, id).unwrap(), bytes).unwrap();
        cache.trim();
    }

    #[test]
    fn results_are_kept_by_server_and_the_oldest_go_over_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ResultCache::new(dir.path().to_owned(), 25);
        put(&cache, "http://a/rest", "p1", b"0123456789");
        let read = |server: &str, id: &str| cache.lookup(server, id).map(|p| std::fs::read(p).unwrap());
        assert_eq!(read("http://a/rest/", "p1").as_deref(), Some(&b"0123456789"[..]));
        assert_eq!(read("http://b/rest", "p1"), None, "another server's result is not this one");
        std::thread::sleep(std::time::Duration::from_millis(20));
        put(&cache, "http://a/rest", "p2", b"0123456789");
        std::thread::sleep(std::time::Duration::from_millis(20));
        // p1 used again: p2 is now the oldest.
        assert!(read("http://a/rest", "p1").is_some());
        std::thread::sleep(std::time::Duration::from_millis(20));
        put(&cache, "http://a/rest", "p3", b"0123456789");
        assert_eq!(cache.size(), 20);
        assert!(read("http://a/rest", "p2").is_none());
        assert!(read("http://a/rest", "p1").is_some() && read("http://a/rest", "p3").is_some());
        cache.set_limit(10);
        assert_eq!(cache.size(), 10);
        // Written into its slot, found by lookup; trimmed to the cap afterwards.
        let slot = cache.slot("http://a/rest", "p4").unwrap();
        std::fs::write(&slot, b"01234567890123456789").unwrap();
        assert_eq!(cache.lookup("http://a/rest", "p4"), Some(slot));
        assert_eq!(cache.lookup("http://b/rest", "p4"), None);
        cache.trim();
        assert_eq!(cache.size(), 0, "over the cap of 10, even the newest goes");
        put(&cache, "http://a/rest", "p1", b"0123456789");
        cache.clear();
        assert_eq!(cache.size(), 0);
        assert!(id_file("../etc/passwd").chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'));
        // A plain id never takes another's hex-encoded file.
        assert_ne!(id_file("2e"), id_file("."));
        assert!(!id_file("../etc/passwd").contains('/'));
    }
}
