//! Every Mapflow API error code of `error-codes.csv` has an English and a Russian sentence in
//! `locales/codes.yml` that uses exactly the code's parameters, and `code_text` fills them in.

use mapflow_desktop::app::messages::code_text;
use std::collections::{BTreeMap, BTreeSet};

/// The API's error codes: a copy of the team's shared list (`shared/mapflow-api/error-codes.csv`,
/// outside this repository), kept here so the test reads only files of the repository and
/// checks the same list on every machine. `tests/data/README.md` says how to refresh it.
const CODES_CSV: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/error-codes.csv");
/// The translations under test.
const CODES_YML: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../locales/codes.yml");

/// One API code and the names of its parameters.
struct Code {
    family: String,
    code: String,
    params: Vec<String>,
}

/// The codes of `error-codes.csv` (columns `family,code,parameters`, parameters separated by spaces).
fn codes() -> Vec<Code> {
    let path = CODES_CSV;
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines().map(|l| l.trim_end_matches('\r')).filter(|l| !l.trim().is_empty());
    assert_eq!(lines.next(), Some("family,code,parameters"), "header of {path}");
    let codes: Vec<Code> = lines
        .map(|line| {
            let mut cols = line.splitn(3, ',');
            let family = cols.next().unwrap().trim().to_owned();
            let code = cols.next().unwrap_or_else(|| panic!("no code in {line:?}")).trim().to_owned();
            let params = cols.next().unwrap_or("").split_whitespace().map(str::to_owned).collect();
            Code { family, code, params }
        })
        .collect();
    assert!(codes.len() > 50, "{path} lists the codes");
    codes
}

/// The body of a double-quoted YAML scalar.
fn unquote(value: &str, line: &str) -> String {
    let inner = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or_else(|| panic!("value not in double quotes: {line:?}"));
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('"') => out.push('"'),
                Some('\\') => out.push('\\'),
                other => panic!("unexpected escape \\{other:?} in {line:?}"),
            },
            '"' => panic!("unescaped double quote in {line:?}"),
            c => out.push(c),
        }
    }
    out
}

/// `codes.yml` by hand: unindented `key:` lines, then indented `en: "…"` / `ru: "…"` lines.
/// Returns key → language → template.
fn translations() -> BTreeMap<String, BTreeMap<String, String>> {
    let text = std::fs::read_to_string(CODES_YML).unwrap();
    let mut out: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if line.trim().is_empty() || line.starts_with('#') || line.starts_with("_version:") {
            continue;
        }
        if !line.starts_with(' ') {
            let key = line.strip_suffix(':').unwrap_or_else(|| panic!("key line without a colon: {line:?}"));
            assert!(out.insert(key.to_owned(), BTreeMap::new()).is_none(), "duplicate key {key}");
            current = Some(key.to_owned());
        } else {
            let key = current.as_ref().unwrap_or_else(|| panic!("language before any key: {line:?}"));
            let (lang, value) = line.trim().split_once(':').unwrap_or_else(|| panic!("bad line {line:?}"));
            let value = unquote(value.trim(), line);
            let langs = out.get_mut(key).unwrap();
            assert!(langs.insert(lang.to_owned(), value).is_none(), "{key} has {lang} twice");
        }
    }
    out
}

/// The names inside every `%{…}` of a template.
fn placeholders(template: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = template;
    while let Some(at) = rest.find("%{") {
        let after = &rest[at + 2..];
        let end = after.find('}').unwrap_or_else(|| panic!("unclosed %{{ in {template:?}"));
        names.insert(after[..end].to_owned());
        rest = &after[end + 1..];
    }
    names
}

/// Distinct values for a code's parameters, none a prefix of another.
fn values(code: &Code) -> BTreeMap<String, String> {
    code.params.iter().enumerate().map(|(i, p)| (p.clone(), format!("<{p}=V{}>", 100 + i))).collect()
}

#[test]
fn every_code_has_english_and_russian_with_its_parameters() {
    let _state = crate::exclusive();
    let translations = translations();
    let mut problems = Vec::new();
    for code in codes() {
        let key = format!("codes.{}", code.code);
        let Some(langs) = translations.get(&key) else {
            problems.push(format!("{} ({}): no key {key}", code.code, code.family));
            continue;
        };
        let wanted: BTreeSet<String> = code.params.iter().cloned().collect();
        for lang in ["en", "ru"] {
            let Some(template) = langs.get(lang).filter(|t| !t.trim().is_empty()) else {
                problems.push(format!("{key}: no {lang} text"));
                continue;
            };
            let found = placeholders(template);
            for missing in wanted.difference(&found) {
                problems.push(format!("{key} [{lang}]: parameter %{{{missing}}} not used"));
            }
            for unknown in found.difference(&wanted) {
                problems.push(format!("{key} [{lang}]: %{{{unknown}}} is not a parameter of the code"));
            }
        }
    }
    for (key, langs) in &translations {
        assert!(key.starts_with("codes."), "{key} outside the codes. namespace");
        let extra: Vec<_> = langs.keys().filter(|l| *l != "en" && *l != "ru").collect();
        assert!(extra.is_empty(), "{key} has unexpected languages {extra:?}");
    }
    for generic in ["NOT_FOUND", "UNAUTHORIZED", "NOT_ENOUGH_CREDITS", "METHOD_NOT_ALLOWED"] {
        let langs = translations.get(&format!("codes.{generic}"));
        assert!(langs.is_some_and(|l| l.len() == 2), "generic code {generic} lacks a translation");
    }
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
}

/// The locale is global, so both languages are checked in this one test, one after the other.
#[test]
fn code_text_fills_every_parameter_in_english_and_russian() {
    let _state = crate::exclusive();
    let codes = codes();
    let translations = translations();
    let check = |lang: &str| {
        for code in &codes {
            let params = values(code);
            let text = code_text(&code.code, &params, "");
            for value in params.values() {
                assert!(text.contains(value.as_str()), "[{lang}] {}: {value} missing from {text:?}", code.code);
            }
            assert!(!text.contains("%{"), "[{lang}] {}: placeholder left in {text:?}", code.code);
            // The compiled-in sentence is the one in codes.yml, filled in.
            let mut expected = translations[&format!("codes.{}", code.code)][lang].clone();
            for (name, value) in &params {
                expected = expected.replace(&format!("%{{{name}}}"), value);
            }
            assert_eq!(text, expected, "[{lang}] {}", code.code);
        }
    };
    rust_i18n::set_locale("en");
    check("en");
    rust_i18n::set_locale("ru");
    let russian = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check("ru")));
    rust_i18n::set_locale("en");
    if let Err(panic) = russian {
        std::panic::resume_unwind(panic);
    }
}

#[test]
fn an_unknown_code_shows_the_code_and_raw_parameters() {
    let _state = crate::exclusive();
    let params = BTreeMap::from([("a".to_owned(), "1".to_owned())]);
    let text = code_text("made.up.Code", &params, "");
    assert!(text.contains("made.up.Code"), "{text:?}");
    assert!(text.contains("a=1"), "{text:?}");
    let text = code_text("made.up.Code", &params, "the server's words");
    assert!(text.contains("made.up.Code") && text.contains("a=1") && text.contains("the server's words"), "{text:?}");
}
