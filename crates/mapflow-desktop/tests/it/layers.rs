//! The layers hold by Cargo: the crates under the app never link the UI, and the pure-data
//! crate never links a network stack or a server.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

/// Every package in the normal (not dev, not build) dependency tree of `package`.
fn dependencies(package: &str) -> BTreeSet<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let output = Command::new(env!("CARGO"))
        .current_dir(&root)
        .args(["tree", "--locked", "--offline", "-e", "normal", "--prefix", "none", "--format", "{p}", "-p", package])
        .output()
        .unwrap();
    assert!(output.status.success(), "cargo tree -p {package}: {}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8(output.stdout).unwrap();
    let names: BTreeSet<String> =
        text.lines().filter_map(|line| line.split_whitespace().next()).map(str::to_owned).collect();
    assert!(names.contains(package), "cargo tree -p {package} does not list the package itself: {text}");
    names
}

fn assert_none_of(package: &str, names: &BTreeSet<String>, forbidden: &[&str]) {
    let found: Vec<&String> = names
        .iter()
        .filter(|name| {
            forbidden
                .iter()
                .any(|f| name.strip_prefix(f).is_some_and(|rest| rest.is_empty() || rest.starts_with(['-', '_'])))
        })
        .collect();
    assert!(found.is_empty(), "{package} depends on {found:?}, which its layer must not");
}

const UI: &[&str] = &["egui", "eframe", "walkers", "rfd", "winit", "epaint", "mapflow-desktop"];

#[test]
fn the_client_and_the_sandbox_never_link_the_ui() {
    for package in ["mapflow-api", "mapflow-geo", "mapflow-sandbox"] {
        assert_none_of(package, &dependencies(package), UI);
    }
}

#[test]
fn each_lower_crate_links_only_what_its_layer_needs() {
    // The client: HTTP, no server, no database, no GIS formats.
    assert_none_of(
        "mapflow-api",
        &dependencies("mapflow-api"),
        &["axum", "rusqlite", "mapflow-geo", "mapflow-sandbox"],
    );
    // Pure data: no network, no runtime, no server.
    assert_none_of("mapflow-geo", &dependencies("mapflow-geo"), &["reqwest", "tokio", "axum", "hyper", "mapflow-api"]);
    // The sandbox answers the API: it knows its models, not the app.
    let sandbox = dependencies("mapflow-sandbox");
    assert!(sandbox.contains("mapflow-api") && sandbox.contains("axum"), "{sandbox:?}");
}

/// The code lines (comments left out) of `dir` (a file, or every `.rs` file under a folder) that name one of `forbidden`.
fn lines_naming(dir: &Path, forbidden: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(dir) = stack.pop() {
        let entries: Vec<std::path::PathBuf> = if dir.is_file() {
            vec![dir.clone()]
        } else {
            std::fs::read_dir(&dir).unwrap().map(|entry| entry.unwrap().path()).collect()
        };
        for path in entries {
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for (n, line) in text.lines().enumerate() {
                    let code = line.split("//").next().unwrap_or_default();
                    if forbidden.iter().any(|f| code.contains(f)) {
                        found.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
                    }
                }
            }
        }
    }
    found
}

#[test]
fn inside_the_app_each_module_uses_only_those_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    // Top to bottom: shell · ui, map · app · worker · messages, platform, results, imagery.
    let rules: [(&str, &[&str]); 5] = [
        ("app", &["crate::ui", "crate::map", "crate::shell"]),
        ("worker", &["crate::app", "crate::ui", "crate::map", "crate::shell"]),
        ("platform", &["crate::app", "crate::worker", "crate::ui", "crate::map"]),
        ("results", &["crate::app", "crate::worker", "crate::ui", "crate::map"]),
        ("imagery", &["crate::app", "crate::worker", "crate::ui", "crate::map"]),
    ];
    for (module, forbidden) in rules {
        let found = lines_naming(&src.join(module), forbidden);
        assert!(found.is_empty(), "{module}/ reaches a module above it:\n{}", found.join("\n"));
    }
    let messages = lines_naming(&src.join("messages.rs"), &["crate::app", "crate::worker", "crate::ui", "crate::map"]);
    assert!(messages.is_empty(), "{messages:?}");
}
