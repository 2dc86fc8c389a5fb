//! The headless sandbox (`mapflow-desktop sandbox`) as a child process on a free loopback
//! port, for what must run in its own process: kill -9, memory read from `/proc`. Shared by
//! `tests/sandbox_durability.rs` and `benches/hardening.rs`.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// Starts the sandbox of the app binary `exe` (`env!("CARGO_BIN_EXE_mapflow-desktop")` in the
/// desktop crate's tests and benches) over `dir` with `RUST_LOG=rust_log`; the child and its base URL
/// (`http://127.0.0.1:PORT/rest`), read from the line it prints when it listens.
pub fn start(exe: &Path, dir: &Path, rust_log: &str) -> (Child, String) {
    let mut child = Command::new(exe)
        .args(["sandbox", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .env("RUST_LOG", rust_log)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the sandbox starts");
    let stdout = child.stdout.take().expect("its stdout is piped");
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next().expect("the sandbox says where it listens").expect("a line of text");
    let url = first.rsplit(' ').next().unwrap_or_default().to_owned();
    assert!(url.starts_with("http://127.0.0.1:") && url.ends_with("/rest"), "{first}");
    // Keep reading so the pipe never fills.
    std::thread::Builder::new()
        .name("sandbox-stdout".into())
        .spawn(move || lines.for_each(drop))
        .expect("a thread to read the sandbox's output");
    (child, url)
}
