//! What a name or a description may hold: no control characters (a name not even a line
//! break) and no bidirectional overrides, which make a name read differently than it is
//! stored; and a length limit, so that the state cannot grow without bound.

/// Longest description accepted, in characters.
pub(crate) const MAX_DESCRIPTION_CHARS: usize = 4_000;

/// Why `text` cannot be a name (`multiline: false`) or a description (`multiline: true`).
pub(crate) fn refusal(text: &str, multiline: bool, max_chars: usize) -> Option<String> {
    if text.chars().count() > max_chars {
        return Some(format!("must not be longer than {max_chars} characters"));
    }
    let bad = text.chars().find(|&c| {
        let allowed_control = multiline && matches!(c, '\n' | '\r' | '\t');
        (c.is_control() && !allowed_control) || is_bidi_control(c)
    })?;
    Some(format!("must not contain the character U+{:04X}", u32::from(bad)))
}

/// The bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// A description checked with [`refusal`]: an error message naming `what`, or the text.
pub(crate) fn checked_description(what: &str, description: Option<String>) -> Result<Option<String>, String> {
    match description {
        Some(d) => match refusal(&d, true, MAX_DESCRIPTION_CHARS) {
            Some(why) => Err(format!("{what} description {why}")),
            None => Ok(Some(d)),
        },
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_descriptions_hold_only_printable_text() {
        assert_eq!(refusal("Харбор 2026 🏠", false, 100), None);
        assert!(refusal("a\u{0}b", false, 100).unwrap().contains("U+0000"));
        assert!(refusal("invoice\u{202E}fdp.exe", false, 100).unwrap().contains("U+202E"));
        assert!(refusal("two\nlines", false, 100).is_some(), "a name is one line");
        assert_eq!(refusal("two\nlines\tand a tab", true, 100), None, "a description may have several");
        assert!(refusal(&"x".repeat(101), false, 100).unwrap().contains("100"));
        assert!(checked_description("Project", Some("y".repeat(MAX_DESCRIPTION_CHARS + 1))).is_err());
    }
}
