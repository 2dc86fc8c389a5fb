//! Tests that change what the whole process shares: the language of every string, environment
//! variables (a proxy, the renderer), the global log subscriber. They run in their own binary
//! so that the many tests of `it` never see a language or a proxy they did not ask for; here,
//! a test that changes such state holds [`exclusive`] and every other holds [`shared`].
#![allow(clippy::unwrap_used)]
// A test holds its guard for the whole test, awaits included: each test is its own runtime,
// and no task of it takes the lock again.
#![allow(clippy::await_holding_lock)]

#[path = "../support/mod.rs"]
mod support;

mod client_proxy;
mod client_rasters;
mod error_codes;
mod keychain;
mod secrets_in_logs;
mod ui_language;
mod ui_offline;
mod ui_outage;
mod ui_snapshots;
mod ui_workbench;

static PROCESS_STATE: std::sync::RwLock<()> = std::sync::RwLock::new(());

/// Held by a test that only reads the process's shared state.
fn shared() -> std::sync::RwLockReadGuard<'static, ()> {
    PROCESS_STATE.read().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Held by a test that changes the language, the environment or the log subscriber.
fn exclusive() -> std::sync::RwLockWriteGuard<'static, ()> {
    PROCESS_STATE.write().unwrap_or_else(std::sync::PoisonError::into_inner)
}
