//! Why a result could not be loaded.

use rust_i18n::t;

/// A result file that cannot be shown at all. Features with missing or broken geometry are not
/// errors: they are skipped and counted (see [`super::ResultLayer::skipped_count`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResultError {
    /// The bytes are not valid JSON (truncated download, wrong file, server error page).
    #[error("the result is not valid JSON at line {line}, column {column}: {reason}")]
    Json { line: usize, column: usize, reason: String },
    /// Valid JSON, but not a GeoJSON FeatureCollection; `found` says what it is instead.
    #[error("the result is not a GeoJSON FeatureCollection ({found})")]
    NotFeatureCollection { found: String },
}

impl ResultError {
    /// The error as a sentence in the user's language.
    pub fn message(&self) -> String {
        match self {
            Self::Json { line, column, reason } => {
                t!("results.error_json", line = line, column = column, reason = reason).into_owned()
            }
            Self::NotFeatureCollection { found } => t!("results.error_not_collection", found = found).into_owned(),
        }
    }

    /// Classifies a `serde_json` error: syntax and truncation are broken JSON, anything else
    /// came from valid JSON of the wrong shape (see [`Self::NotFeatureCollection`]).
    pub(crate) fn from_json(err: &serde_json::Error) -> Self {
        match err.classify() {
            serde_json::error::Category::Data => Self::NotFeatureCollection { found: data_error_reason(err) },
            _ => Self::Json { line: err.line(), column: err.column(), reason: err.to_string() },
        }
    }
}

/// The part of a data error that names what was found, without the position suffix.
fn data_error_reason(err: &serde_json::Error) -> String {
    let text = err.to_string();
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}
