//! Signing in and out, and the embedded sandbox.

use super::{Event, Worker};
use crate::api::{Client, ClientConfig, Token};
use crate::platform::credentials::StoreLocation;

/// Which kind of server the session talks to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionKind {
    /// The embedded local server with demo data.
    Sandbox,
    /// A Mapflow server signed in with the user's token.
    Remote,
}

/// The signed-in session as the UI shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub kind: SessionKind,
    pub server: String,
    /// Decoded from the token.
    pub email: String,
    /// Where the token is kept, for a remembered remote session.
    pub stored: Option<StoreLocation>,
}

impl Worker {
    /// Signs in with the saved token, else starts the sandbox.
    pub(super) async fn startup(&mut self) {
        let store = self.config.credentials.clone();
        let saved = tokio::task::spawn_blocking(move || store.load()).await.unwrap_or_else(|e| Err(e.to_string()));
        match saved {
            Ok(Some(saved)) => {
                let location = saved.location.clone();
                if self.connect(saved.server, saved.token, SessionKind::Remote, Some(location)).await {
                    return;
                }
            }
            Ok(None) => {}
            Err(e) => self.sink.send(Event::CredentialsStored(Err(e))),
        }
        self.use_sandbox().await;
    }

    pub(super) async fn sign_in(&mut self, server: String, token: Token, remember: bool) {
        let is_sandbox = self.sandbox.as_ref().is_some_and(|s| s.base_url() == server.trim_end_matches('/'));
        let kind = if is_sandbox { SessionKind::Sandbox } else { SessionKind::Remote };
        if !self.connect(server.clone(), token.clone(), kind.clone(), None).await {
            return;
        }
        if remember && kind == SessionKind::Remote {
            let store = self.config.credentials.clone();
            let result = tokio::task::spawn_blocking(move || store.save(&server, &token))
                .await
                .unwrap_or_else(|e| Err(e.to_string()));
            self.sink.send(Event::CredentialsStored(result));
        }
    }

    pub(super) async fn sign_out(&mut self) {
        let store = self.config.credentials.clone();
        if let Err(e) = tokio::task::spawn_blocking(move || store.clear()).await.unwrap_or_else(|e| Err(e.to_string()))
        {
            self.sink.send(Event::CredentialsStored(Err(e)));
        }
        self.use_sandbox().await;
    }

    /// Starts the embedded sandbox (once) and signs in to it with its demo token.
    async fn use_sandbox(&mut self) {
        if self.sandbox.is_none() {
            let config = self.config.sandbox.clone();
            match tokio::task::spawn_blocking(move || crate::sandbox::Sandbox::start(config)).await {
                Ok(Ok(s)) => self.sandbox = Some(s),
                Ok(Err(e)) => return self.sink.send(Event::SandboxFailed(e.to_string())),
                Err(e) => return self.sink.send(Event::SandboxFailed(e.to_string())),
            }
        }
        let Some(sandbox) = &self.sandbox else { return };
        let (url, token) = (sandbox.base_url(), sandbox.token().clone());
        self.connect(url, token, SessionKind::Sandbox, None).await;
    }

    /// Checks the token with `/user/status`; on success it becomes the session.
    async fn connect(
        &mut self,
        server: String,
        token: Token,
        kind: SessionKind,
        stored: Option<StoreLocation>,
    ) -> bool {
        let mut config = ClientConfig::new(server.trim().trim_end_matches('/'), token.clone());
        config.retry = self.config.retry;
        config.timeout_scale = self.config.timeout_scale;
        let client = match Client::new(config) {
            Ok(c) => c,
            Err(error) => {
                self.sink.send(Event::SignInFailed { server, error });
                return false;
            }
        };
        let session = Session { kind, server: client.base_url().to_owned(), email: token.email().to_owned(), stored };
        match client.user_status().await {
            Ok(status) => {
                match session.kind {
                    SessionKind::Sandbox => {
                        tracing::info!("signed in to the sandbox at {} as {}", session.server, session.email);
                    }
                    SessionKind::Remote => tracing::info!("signed in to {} as {}", session.server, session.email),
                }
                self.begin(client, &session);
                self.sink.send(Event::SignedIn { session, status });
                // A batch left unfinished (the app was closed, an answer was lost) is offered again.
                self.load_batches();
                true
            }
            // The saved server not answering at start: stay on it (its saved lists are
            // shown), rather than put the user on the sandbox.
            Err(error) if session.stored.is_some() && error.is_unreachable() => {
                tracing::warn!("{} does not answer; starting on it offline: {error}", session.server);
                self.begin(client, &session);
                self.sink.send(Event::SignedInOffline { session, error });
                self.load_batches();
                true
            }
            Err(error) => {
                self.sink.send(Event::SignInFailed { server, error });
                false
            }
        }
    }

    /// Makes `client` the session's: a new session begins (every answer still coming for the
    /// last one is stamped with it), its reach is watched and the account refreshed.
    fn begin(&mut self, client: Client, session: &Session) {
        self.sink = self.sink.next_session();
        // A batch runs for the account it was started on, never on into another session.
        self.pause_batch();
        let (sink, server) = (self.sink.clone(), session.server.clone());
        client.watch_reach(move |reach| sink.send(Event::Reach { server: server.clone(), reach }));
        self.client = Some(client);
        self.start_status_timer();
    }

    /// Refreshes the account every `status_interval` while this session lasts.
    fn start_status_timer(&mut self) {
        if let Some(t) = self.status_timer.take() {
            t.abort();
        }
        let (Some(client), sink, every) = (self.client.clone(), self.sink.clone(), self.config.status_interval) else {
            return;
        };
        self.status_timer = Some(tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tick.tick().await;
                sink.send(Event::Status(client.user_status().await));
            }
        }));
    }
}
