//! Every UI string exists in English and Russian.

use std::collections::BTreeSet;
use std::path::Path;

/// Literal keys of every `t!("…")` in the sources.
fn keys_used() -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    // Every crate's sources: `mapflow-geo` translates its AOI and file messages too.
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut stack: Vec<_> =
        std::fs::read_dir(&crates).unwrap().map(|entry| entry.unwrap().path().join("src")).collect();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                // `t!("key"` not preceded by an identifier character (so not `format!(`).
                for (at, _) in text.match_indices("t!(\"") {
                    let before = text[..at].chars().next_back();
                    if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                        continue;
                    }
                    let rest = &text[at + 4..];
                    if let Some(end) = rest.find('"') {
                        keys.insert(rest[..end].to_owned());
                    }
                }
            }
        }
    }
    keys
}

/// Keys defined in the `_version: 2` files, with the languages each has.
fn keys_defined() -> Vec<(String, BTreeSet<String>)> {
    let mut out: Vec<(String, BTreeSet<String>)> = Vec::new();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../locales");
    for entry in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for line in text.lines() {
            if line.starts_with('_') || line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            if !line.starts_with(' ') {
                out.push((line.trim_end_matches(':').trim_matches('"').to_owned(), BTreeSet::new()));
            } else if let Some((lang, value)) = line.trim().split_once(':') {
                assert!(!value.trim().is_empty(), "empty translation in {line:?}");
                out.last_mut().unwrap().1.insert(lang.to_owned());
            }
        }
    }
    out
}

#[test]
fn every_key_has_english_and_russian() {
    let defined = keys_defined();
    assert!(defined.len() > 50);
    for (key, langs) in &defined {
        assert!(langs.contains("en") && langs.contains("ru"), "{key} lacks a language: {langs:?}");
    }
}

#[test]
fn every_key_used_is_defined() {
    let used = keys_used();
    assert!(used.len() > 50, "the scan found the keys");
    let defined: BTreeSet<String> = keys_defined().into_iter().map(|(k, _)| k).collect();
    let missing: Vec<_> = used.difference(&defined).collect();
    assert!(missing.is_empty(), "keys used but not translated: {missing:?}");
}
