//! The command line for scripts: `mapflow-desktop results save <processing-id> <out>`.

use std::path::Path;

use crate::api::{Client, ClientConfig, ProcessingId, ProcessingStatus, Token};
use crate::platform::credentials::CredentialStore;

/// Where `results save` connects, and with which token.
#[derive(Debug)]
pub struct Target {
    pub server: String,
    pub token: Token,
}

/// The server and token `results save` uses: `--token` (with `--server`, or Mapflow's
/// API), else the saved sign-in when `--server` is not given or is its server, else the
/// sandbox at `--server` with the demo token. A saved token is never sent to another
/// server than the one it was saved for.
pub fn target(
    server: Option<&str>,
    token: Option<&str>,
    saved: impl FnOnce() -> Option<(String, Token)>,
) -> Result<Target, String> {
    let trim = |s: &str| s.trim_end_matches('/').to_owned();
    if let Some(token) = token {
        let token = Token::parse(token).map_err(|e| format!("--token: {e}"))?;
        let server = server.map_or_else(|| crate::api::client::DEFAULT_BASE_URL.to_owned(), trim);
        return Ok(Target { server, token });
    }
    if let Some((saved_server, saved_token)) = saved()
        && server.is_none_or(|s| trim(s) == trim(&saved_server))
    {
        return Ok(Target { server: trim(&saved_server), token: saved_token });
    }
    match server {
        Some(server) => Ok(Target { server: trim(server), token: crate::sandbox::demo_token() }),
        None => Err("no sign-in is saved: give --token (and --server), or --server for a sandbox".to_owned()),
    }
}

/// The saved sign-in of the app, if any.
pub fn saved_sign_in() -> Option<(String, Token)> {
    CredentialStore::user_default().load().ok().flatten().map(|c| (c.server, c.token))
}

/// Saves the result of processing `id` to `out` (its format from the extension), telling
/// progress on `log`. The error is the message to print.
pub async fn save_result(
    target: Target,
    id: &str,
    out: &Path,
    log: &mut (dyn FnMut(&str) + Send),
) -> Result<(), String> {
    let client =
        Client::new(ClientConfig::new(&target.server, target.token)).map_err(|e| crate::messages::error_text(&e))?;
    let id = ProcessingId(id.to_owned());
    let processing = client.processing(&id).await.map_err(|e| crate::messages::error_text(&e))?;
    if processing.status != ProcessingStatus::Ok {
        return Err(format!(
            "processing {} ({}) has no result yet: it is {:?} at {}%",
            id.0, processing.name, processing.status, processing.percent_completed
        ));
    }
    log(&format!("Downloading the result of {} ({})…", processing.name, id.0));
    let layer = crate::export::layer_name(&processing.name);
    let saved = crate::worker::save_as(&client, &id, &layer, out).await?;
    let count = saved.features.map_or_else(String::new, |n| format!(", {n} features"));
    log(&format!("Saved {} as {} ({:.1} MB{count})", out.display(), saved.format, saved.bytes as f64 / 1_048_576.0));
    if saved.left_out > 0 {
        log(&format!("{} features without geometry were left out: a Shapefile cannot hold them", saved.left_out));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn saved() -> Option<(String, Token)> {
        Some(("https://api.mapflow.ai/rest".into(), Token::from_parts("me@x.y", "k")))
    }

    #[test]
    fn a_saved_token_goes_only_to_its_own_server() {
        let t = target(None, None, saved).unwrap();
        assert_eq!((t.server.as_str(), t.token.email()), ("https://api.mapflow.ai/rest", "me@x.y"));
        let t = target(Some("https://api.mapflow.ai/rest/"), None, saved).unwrap();
        assert_eq!(t.token.email(), "me@x.y");
        // Another server: the sandbox's demo token, never the saved one.
        let t = target(Some("http://127.0.0.1:9/rest"), None, saved).unwrap();
        assert_eq!(t.token.email(), crate::sandbox::DEMO_EMAIL);
        assert!(target(None, None, || None).is_err());
        let given = Token::from_parts("a@b.c", "k");
        let t = target(Some("http://h/rest"), Some(given.expose()), saved).unwrap();
        assert_eq!((t.server.as_str(), t.token.email()), ("http://h/rest", "a@b.c"));
        assert!(target(None, Some("not a token"), saved).is_err());
    }
}
