//! Errors and API codes as sentences in the user's language.

use crate::api::{ApiError, ErrorKind};
use rust_i18n::t;
use std::collections::BTreeMap;

/// One sentence (or two) telling the user what went wrong and what to do.
pub fn error_text(error: &ApiError) -> String {
    match &error.kind {
        ErrorKind::InvalidToken(reason) => t!("errors.invalid_token", reason = reason).into_owned(),
        ErrorKind::InvalidArgument(reason) => t!("errors.invalid_argument", reason = reason).into_owned(),
        ErrorKind::Unauthorized => t!("errors.unauthorized").into_owned(),
        ErrorKind::Forbidden => t!("errors.forbidden").into_owned(),
        ErrorKind::NotFound => t!("errors.not_found").into_owned(),
        ErrorKind::Api { code, message, params } => code_text(code, params, message),
        ErrorKind::Detail { code: Some(code), message, params } => code_text(code, params, message),
        ErrorKind::Detail { code: None, message, .. } => t!("errors.server_said", message = message).into_owned(),
        ErrorKind::RateLimited { retry_after: Some(d) } => {
            t!("errors.rate_limited_for", seconds = d.as_secs().max(1)).into_owned()
        }
        ErrorKind::RateLimited { retry_after: None } => t!("errors.rate_limited").into_owned(),
        ErrorKind::Server => match error.status {
            Some(s) => t!("errors.server_status", status = s).into_owned(),
            None => t!("errors.server").into_owned(),
        },
        ErrorKind::Timeout => t!("errors.timeout").into_owned(),
        ErrorKind::Network(detail) => t!("errors.network", detail = detail).into_owned(),
        ErrorKind::Decode { path, .. } => {
            let path = if path.is_empty() || path == "." { "(root)".to_owned() } else { path.clone() };
            t!("errors.decode", path = path).into_owned()
        }
    }
}

/// Codes that name a kind of failure, not the failure: their message text is shown too.
const GENERIC_CODES: [&str; 5] = ["BAD_REQUEST", "API_ERROR", "NOT_FOUND", "METHOD_NOT_ALLOWED", "FORBIDDEN"];

/// The sentence for an API code with its parameters filled in; an unknown code shows the
/// code, the server's message and the raw parameters.
pub fn code_text(code: &str, params: &BTreeMap<String, String>, message: &str) -> String {
    let key = format!("codes.{code}");
    let template = t!(&key);
    if template != key {
        let mut text = template.into_owned();
        for (name, value) in params {
            text = text.replace(&format!("%{{{name}}}"), value);
        }
        // A generic code says little; the server's message is what tells one case from another.
        if GENERIC_CODES.contains(&code) && !message.trim().is_empty() {
            text = format!("{text} ({})", message.trim());
        }
        return text;
    }
    let raw = params.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ");
    let mut text = code.to_owned();
    if !message.is_empty() {
        text = format!("{text}: {message}");
    }
    if !raw.is_empty() {
        text = format!("{text} ({raw})");
    }
    text
}

/// An area in m² as km², as the forms and tables show it.
pub fn km2_text(m2: f64) -> String {
    t!("common.km2", n = format!("{:.2}", m2 / 1e6)).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generic_codes_keep_the_server_message() {
        let text = code_text("BAD_REQUEST", &BTreeMap::new(), "Processing is not finished yet");
        assert!(text.contains("Processing is not finished yet"), "{text}");
        let params =
            BTreeMap::from([("aoiAreaLimit".to_owned(), "100".to_owned()), ("area".to_owned(), "200".to_owned())]);
        let text = code_text("TOO_LARGE_PROCESSING", &params, "ignored english text");
        assert!(text.contains("100") && text.contains("200") && !text.contains("ignored"), "{text}");
    }
}
