//! The last projects and processings lists each server gave each account, kept on disk beside
//! the result cache, so they can still be browsed when the server cannot be reached. One file
//! per list, written atomically (a temporary file renamed); never a token or a password.

use super::cache::{file_stem, server_key};
use super::{Event, Worker};
use crate::api::{ApiError, ProjectId, ProjectPageQuery};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// A list as it was last saved, given in place of one the server could not be asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct Saved<T> {
    pub value: T,
    /// When the server gave it.
    pub saved_at: SystemTime,
}

/// Whose lists: a server and the account signed in to it.
#[derive(Debug, Clone, PartialEq)]
pub struct Owner {
    pub server: String,
    /// The account's email.
    pub account: String,
}

impl Owner {
    pub fn new(server: &str, account: &str) -> Self {
        Self { server: server.to_owned(), account: account.to_owned() }
    }

    fn of(client: &crate::api::Client) -> Self {
        Self::new(client.base_url(), client.token().email())
    }
}

/// Which list of an owner.
#[derive(Debug, Clone, PartialEq)]
pub enum List {
    Projects,
    /// A project's processings.
    Processings(ProjectId),
}

/// The saved lists, one folder per server and account (both hashed).
#[derive(Debug)]
pub struct ListStore {
    dir: PathBuf,
}

/// A list on disk, with when it was saved.
#[derive(Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Stored<T> {
    /// Milliseconds since the Unix epoch.
    saved_at_ms: u64,
    list: T,
}

/// Object keys that may hold a secret; dropped from what is written, wherever they are.
const SECRET_KEYS: [&str; 3] = ["password", "secret", "token"];

/// Removes every entry whose key names a secret, at any depth.
pub(super) fn scrub(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            map.retain(|k, _| {
                let k = k.to_ascii_lowercase();
                !SECRET_KEYS.iter().any(|s| k.contains(s))
            });
            map.values_mut().for_each(scrub);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(scrub),
        _ => {}
    }
}

impl ListStore {
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    /// The store beside the result cache in `cache_dir`: its sibling folder `lists`.
    pub fn beside(cache_dir: &Path) -> Self {
        let parent = cache_dir.parent().filter(|p| !p.as_os_str().is_empty());
        Self::new(parent.map_or_else(|| cache_dir.join("lists"), |p| p.join("lists")))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, owner: &Owner, list: &List) -> PathBuf {
        let name = match list {
            List::Projects => "projects.json".to_owned(),
            List::Processings(id) => format!("processings-{}.json", file_stem(&id.0)),
        };
        self.dir.join(server_key(&owner.server)).join(server_key(&owner.account)).join(name)
    }

    /// The file's bytes for `value` saved now, secrets left out.
    fn encode<T: Serialize>(value: &T, now: SystemTime) -> serde_json::Result<Vec<u8>> {
        let saved_at_ms = now.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default().as_millis() as u64;
        let mut json = serde_json::to_value(Stored { saved_at_ms, list: value })?;
        scrub(&mut json);
        serde_json::to_vec(&json)
    }

    fn write(&self, owner: &Owner, list: &List, bytes: &[u8]) -> std::io::Result<()> {
        use std::io::Write as _;
        let path = self.path(owner, list);
        let dir = path.parent().unwrap_or(&self.dir);
        std::fs::create_dir_all(dir)?;
        // No sync: a file torn by a power cut does not parse, and is then treated as absent.
        let mut tmp = tempfile::Builder::new().prefix(".part-").tempfile_in(dir)?;
        tmp.write_all(bytes)?;
        tmp.persist(&path).map_err(|e| e.error)?;
        Ok(())
    }

    /// Keeps `value` as the list last given to `owner`.
    pub fn put<T: Serialize>(&self, owner: &Owner, list: &List, value: &T) -> std::io::Result<()> {
        let bytes = Self::encode(value, SystemTime::now()).map_err(std::io::Error::other)?;
        self.write(owner, list, &bytes)
    }

    /// The list last given to `owner`, if one was saved. A file that cannot be read as one
    /// is logged and treated as absent.
    pub fn get<T: DeserializeOwned>(&self, owner: &Owner, list: &List) -> Option<Saved<T>> {
        let path = self.path(owner, list);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(e) => {
                tracing::warn!("the saved list {} cannot be read: {e}", path.display());
                return None;
            }
        };
        match serde_json::from_slice::<Stored<T>>(&bytes) {
            Ok(stored) => Some(Saved {
                value: stored.list,
                saved_at: SystemTime::UNIX_EPOCH + Duration::from_millis(stored.saved_at_ms),
            }),
            Err(e) => {
                tracing::warn!("the saved list {} is damaged and not used: {e}", path.display());
                None
            }
        }
    }
}

/// Saves a list the server gave; for one it could not be asked for (no connection), the copy
/// saved last, if any. The files are read and written off the worker's loop.
pub(super) async fn keep_or_recall<T>(
    store: Option<Arc<ListStore>>,
    client: &crate::api::Client,
    list: List,
    result: &Result<T, ApiError>,
) -> Option<Saved<T>>
where
    T: Serialize + DeserializeOwned + Send + 'static,
{
    let store = store?;
    let owner = Owner::of(client);
    match result {
        Ok(value) => {
            let bytes = match ListStore::encode(value, SystemTime::now()) {
                Ok(bytes) => bytes,
                Err(e) => {
                    tracing::warn!("a list could not be saved: {e}");
                    return None;
                }
            };
            let written = tokio::task::spawn_blocking(move || {
                store.write(&owner, &list, &bytes).map_err(|e| format!("{}: {e}", store.dir().display()))
            })
            .await
            .map_err(|e| e.to_string())
            .and_then(|r| r);
            if let Err(e) = written {
                tracing::warn!("a list could not be saved for offline use in {e}");
            }
            None
        }
        Err(e) if e.is_unreachable() => {
            tokio::task::spawn_blocking(move || store.get(&owner, &list)).await.ok().flatten()
        }
        Err(_) => None,
    }
}

impl Worker {
    /// Loads a page of projects, saved for offline use; with no connection, the one saved last.
    pub(super) fn load_projects(&self, query: ProjectPageQuery) {
        let (sink, client, lists) = (self.sink.clone(), self.client.clone(), self.lists.clone());
        tokio::spawn(async move {
            let Some(client) = client else {
                let result = Err(super::processings::not_signed_in());
                return sink.send(Event::Projects { query, result, saved: None });
            };
            let result = client.projects_page(&query).await;
            let saved = keep_or_recall(lists, &client, List::Projects, &result).await;
            sink.send(Event::Projects { query, result, saved });
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{Page, Processing, Project};

    fn projects(names: &[&str]) -> Page<Project> {
        let results: Vec<Project> = names
            .iter()
            .map(|n| Project { id: ProjectId(format!("id-{n}")), name: (*n).to_owned(), ..Project::default() })
            .collect();
        Page { total: results.len() as i64, count: results.len() as i64, results }
    }

    /// Everything logged at `warn` while `f` runs.
    fn warnings(f: impl FnOnce()) -> String {
        #[derive(Clone, Default)]
        struct Buf(Arc<std::sync::Mutex<Vec<u8>>>);
        impl std::io::Write for Buf {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buf = Buf::default();
        let writer = buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::WARN)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, f);
        String::from_utf8(buf.0.lock().unwrap().clone()).unwrap()
    }

    fn at(server: &str) -> Owner {
        Owner::new(server, "me@example.com")
    }

    #[test]
    fn lists_are_kept_by_server_account_and_list_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = ListStore::beside(&dir.path().join("results"));
        assert_eq!(store.dir(), dir.path().join("lists"), "beside the result cache");
        let before = SystemTime::now() - Duration::from_secs(1);
        store.put(&at("http://a/rest"), &List::Projects, &projects(&["One", "Two"])).unwrap();
        store.put(&at("http://b/rest"), &List::Projects, &projects(&["Other"])).unwrap();

        let a: Saved<Page<Project>> = store.get(&at("http://a/rest/"), &List::Projects).unwrap();
        assert_eq!(a.value, projects(&["One", "Two"]));
        assert!(a.saved_at >= before && a.saved_at <= SystemTime::now() + Duration::from_secs(1));
        let b: Saved<Page<Project>> = store.get(&at("http://b/rest"), &List::Projects).unwrap();
        assert_eq!(b.value, projects(&["Other"]), "another server's list is its own");
        assert!(store.get::<Page<Project>>(&at("http://c/rest"), &List::Projects).is_none());
        let someone_else = Owner::new("http://a/rest", "other@example.com");
        assert!(store.get::<Page<Project>>(&someone_else, &List::Projects).is_none(), "so is another account's");

        // A project's processings, by project; odd ids make safe file names.
        let odd = List::Processings(ProjectId("../x/y".into()));
        let run = Processing { name: "Run".into(), ..Processing::default() };
        let page = Page { results: vec![run], total: 1, count: 1 };
        store.put(&at("http://a/rest"), &odd, &page).unwrap();
        let got: Saved<Page<Processing>> = store.get(&at("http://a/rest"), &odd).unwrap();
        assert_eq!(got.value, page);
        let another = List::Processings(ProjectId("p".into()));
        assert!(store.get::<Page<Processing>>(&at("http://a/rest"), &another).is_none());
        assert!(store.get::<Page<Processing>>(&at("http://b/rest"), &odd).is_none());

        // Every file is inside the store, none left half-written.
        let mut files = 0;
        let mut stack = vec![store.dir().to_owned()];
        while let Some(folder) = stack.pop() {
            for entry in std::fs::read_dir(folder).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    files += 1;
                    let name = path.file_name().unwrap().to_str().unwrap();
                    assert!(name.ends_with(".json") && !name.starts_with(".part-"), "{name}");
                }
            }
        }
        assert_eq!(files, 3);
        assert!(!dir.path().join("x").exists());
    }

    #[test]
    fn a_damaged_file_is_treated_as_absent_with_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        let store = ListStore::new(dir.path().to_owned());
        let owner = at("http://a/rest");
        store.put(&owner, &List::Projects, &projects(&["One"])).unwrap();
        let path = store.path(&owner, &List::Projects);
        std::fs::write(&path, b"{\"savedAtMs\": 1, \"list\": {\"results\": [").unwrap();
        let mut got = None;
        let logged = warnings(|| got = store.get::<Page<Project>>(&owner, &List::Projects));
        assert!(got.is_none());
        assert!(logged.contains("damaged") && logged.contains("projects.json"), "{logged}");
        // Saved again, it is read again.
        store.put(&owner, &List::Projects, &projects(&["Two"])).unwrap();
        assert_eq!(store.get::<Page<Project>>(&owner, &List::Projects).unwrap().value, projects(&["Two"]));
    }

    #[test]
    fn no_secret_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let store = ListStore::new(dir.path().to_owned());
        let params = serde_json::json!({"sourceParams": {"userDefined": {
            "url": "https://tiles.example/{z}/{x}/{y}.png", "rasterLogin": "me", "rasterPassword": "pa55word-kept-out"
        }}, "accessToken": "t0ken-kept-out"});
        let page = Page { results: vec![Processing { params, ..Processing::default() }], total: 1, count: 1 };
        let (owner, list) = (at("http://a/rest"), List::Processings(ProjectId("p".into())));
        store.put(&owner, &list, &page).unwrap();
        let text = std::fs::read_to_string(store.path(&owner, &list)).unwrap();
        assert!(!text.contains("pa55word") && !text.contains("t0ken"), "{text}");
        let got: Saved<Page<Processing>> = store.get(&owner, &list).unwrap();
        assert_eq!(got.value.results[0].params["sourceParams"]["userDefined"]["rasterLogin"], "me");
    }
}
