//! Error answers in the shapes of the real service.
//!
//! The Processing API (user, projects, processings, catalog) answers
//! `{"code", "message", "params"}` with string parameter values; the Data API
//! (`/rasters`) answers `{"detail": {"code", "parameters"}}` or `{"detail": "text"}`.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// The body style of an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorShape {
    /// `{"code", "message", "params"}`.
    Processing,
    /// `{"detail": {"code", "message", "parameters"}}`, or `{"detail": message}` without a code.
    Data,
}

/// An error answer of a route.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    pub params: BTreeMap<String, String>,
    pub shape: ErrorShape,
}

impl ApiError {
    /// A Processing-API error.
    pub fn new(status: StatusCode, code: &str, message: &str) -> Self {
        Self {
            status,
            code: code.to_owned(),
            message: message.to_owned(),
            params: BTreeMap::new(),
            shape: ErrorShape::Processing,
        }
    }

    /// 400 `BAD_REQUEST`: the message is the only discriminator, as on the real service.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BAD_REQUEST", &message.into())
    }

    /// 401 `UNAUTHORIZED`.
    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", "Full authentication is required to access this resource")
    }

    /// 404 `NOT_FOUND`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NOT_FOUND", &message.into())
    }

    /// 500 `INTERNAL_SERVER_ERROR`.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_SERVER_ERROR", &message.into())
    }

    /// Adds a parameter (values are always strings).
    #[allow(dead_code)] // for the routes of later resource groups
    pub fn param(mut self, name: &str, value: impl ToString) -> Self {
        self.params.insert(name.to_owned(), value.to_string());
        self
    }

    /// Switches to the Data-API body shape.
    #[allow(dead_code)] // for the `/rasters` routes of a later task
    pub fn data_api(mut self) -> Self {
        self.shape = ErrorShape::Data;
        self
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = match self.shape {
            ErrorShape::Processing => {
                json!({"code": self.code, "message": self.message, "params": self.params})
            }
            ErrorShape::Data if self.code.is_empty() => json!({"detail": self.message}),
            ErrorShape::Data => {
                json!({"detail": {"code": self.code, "message": self.message, "parameters": self.params}})
            }
        };
        (self.status, axum::Json(body)).into_response()
    }
}

/// What a route returns.
pub(crate) type ApiResult<T> = Result<T, ApiError>;
