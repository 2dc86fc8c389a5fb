//! The token in the real OS keychain (the Secret Service on Linux): stored, read back and
//! deleted, with nothing but the server URL in the file beside it. It needs a running,
//! unlocked Secret Service, so it runs where `MAPFLOW_KEYCHAIN_TEST=1` says there is one
//! (`.ci/run` starts gnome-keyring under `dbus-run-session` for it); elsewhere it says it was
//! skipped.

use mapflow_desktop::api::Token;
use mapflow_desktop::app::credentials::{CredentialStore, StoreLocation};

#[test]
fn the_token_is_stored_read_and_deleted_in_the_secret_service() {
    let _state = crate::shared();
    if std::env::var("MAPFLOW_KEYCHAIN_TEST").as_deref() != Ok("1") {
        eprintln!("skipped: set MAPFLOW_KEYCHAIN_TEST=1 with an unlocked Secret Service to run it");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("credentials.json");
    let store = CredentialStore::keychain(&file);
    let server = format!("https://keychain-test-{}.example/rest", std::process::id());
    let token = Token::from_parts("analyst@example.com", "k3y-in-the-keychain");

    let location = store.save(&server, &token).unwrap();
    assert_eq!(location, StoreLocation::Keychain, "the keychain answered: {:?}", keyring::Entry::store_status());
    let on_disk = std::fs::read_to_string(&file).unwrap();
    assert!(!on_disk.contains(token.expose()) && on_disk.contains(&server), "only the server is in the file");

    let saved = CredentialStore::keychain(&file).load().unwrap().unwrap();
    assert_eq!((saved.server.as_str(), saved.location), (server.as_str(), StoreLocation::Keychain));
    assert_eq!(saved.token.expose(), token.expose());

    store.clear().unwrap();
    assert!(store.load().unwrap().is_none());
    // The entry itself is gone: saving the server's record again without a token finds nothing.
    std::fs::write(&file, format!(r#"{{"server": "{server}", "token": ""}}"#)).unwrap();
    assert!(store.load().unwrap().is_none(), "the keychain entry was deleted");
}
