//! The sandbox tests' prologue: a sandbox over loopback that records requests and is strict
//! (a request to a route it does not know fails the test when the sandbox is dropped), and the
//! app's client for it with the tests' one retry policy.

use mapflow_api::{Client, ClientConfig, RetryPolicy, Token};
use mapflow_sandbox::{Sandbox, SandboxConfig};
use std::time::Duration;

/// The retry policy of every client test: a few quick retries, so faults are retried and
/// tests stay fast.
pub fn retry() -> RetryPolicy {
    RetryPolicy { attempts: 3, base_delay: Duration::from_millis(5), max_delay: Duration::from_millis(20) }
}

/// A sandbox that fails the test on drop if any request matched no route; a test that sends
/// such requests on purpose says so with [`StrictSandbox::allow_unexpected_routes`].
pub struct StrictSandbox {
    sandbox: Sandbox,
    allow_unexpected: bool,
}

impl StrictSandbox {
    pub fn start(config: SandboxConfig) -> Self {
        let sandbox = Sandbox::start(SandboxConfig { record_requests: true, ..config }).unwrap();
        Self { sandbox, allow_unexpected: false }
    }

    /// This test hits unknown routes on purpose: they are not a failure.
    pub fn allow_unexpected_routes(&mut self) {
        self.allow_unexpected = true;
    }
}

impl std::ops::Deref for StrictSandbox {
    type Target = Sandbox;
    fn deref(&self) -> &Sandbox {
        &self.sandbox
    }
}

impl Drop for StrictSandbox {
    fn drop(&mut self) {
        if self.allow_unexpected || std::thread::panicking() {
            return;
        }
        let unexpected = self.sandbox.unexpected_requests();
        assert!(unexpected.is_empty(), "requests to routes the sandbox does not know: {unexpected:?}");
    }
}

/// The app's client for `sandbox`, with `token` and the tests' retry policy.
pub fn client_for(sandbox: &Sandbox, token: Token) -> Client {
    let mut config = ClientConfig::new(sandbox.base_url(), token);
    config.retry = retry();
    Client::new(config).unwrap()
}

/// A strict sandbox (processings finish in a second) and a client signed in to it.
pub fn setup() -> (StrictSandbox, Client) {
    let sandbox = StrictSandbox::start(SandboxConfig { processing_seconds: 1.0, ..SandboxConfig::default() });
    let client = client_for(&sandbox, sandbox.token().clone());
    (sandbox, client)
}
