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
    /// The file could not be read (missing, unreadable, the disk failed).
    #[error("the result could not be read: {reason}")]
    Read { reason: String },
}

impl ResultError {
    /// The error as a sentence in the user's language.
    pub fn message(&self) -> String {
        match self {
            Self::Json { line, column, reason } => {
                t!("results.error_json", line = line, column = column, reason = reason).into_owned()
            }
            Self::NotFeatureCollection { found } => t!("results.error_not_collection", found = found).into_owned(),
            Self::Read { reason } => t!("results.error_read", reason = reason).into_owned(),
        }
    }

    /// Classifies a `serde_json` error found in a piece of the file (`at` is where that is in
    /// the file): syntax and truncation are broken JSON, anything else came from valid JSON of
    /// the wrong shape (see [`Self::NotFeatureCollection`]).
    pub(crate) fn from_json_at(err: &serde_json::Error, at: super::split::Pos) -> Self {
        match err.classify() {
            serde_json::error::Category::Data => Self::NotFeatureCollection { found: data_error_reason(err) },
            _ => Self::Json { line: at.line, column: at.column, reason: data_error_reason(err) },
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
