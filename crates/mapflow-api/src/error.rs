//! One error type for every API call, with a kind the UI can act on.

use std::collections::BTreeMap;

/// What went wrong, in the terms the user and the retry logic care about.
#[derive(Debug, Clone, PartialEq)]
pub enum ErrorKind {
    /// The token was refused before any request (malformed).
    InvalidToken(String),
    /// An argument was refused before any request.
    InvalidArgument(String),
    /// 401: the token is wrong or revoked.
    Unauthorized,
    /// 403: not allowed (a project role, or a provider not on the plan).
    Forbidden,
    /// 404: the object does not exist (or is not visible to this account).
    NotFound,
    /// A Processing-API error body: `{code, message, params}`.
    Api { code: String, message: String, params: BTreeMap<String, String> },
    /// A Data-API error body: `{"detail": {code, parameters}}` or `{"detail": "text"}`.
    Detail { code: Option<String>, message: String, params: BTreeMap<String, String> },
    /// 429: too many requests; the server may say how long to wait (`Retry-After`).
    RateLimited { retry_after: Option<std::time::Duration> },
    /// 5xx, or another status without a recognisable body.
    Server,
    /// The request took longer than its timeout.
    Timeout,
    /// The server could not be reached (refused, reset, DNS, TLS, proxy).
    Network(String),
    /// The body did not have the expected shape.
    Decode { path: String, message: String },
}

/// An API error: the kind, the HTTP status when there was one, and the raw body for decode
/// and server errors (trimmed to a readable length).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}", self.describe())]
pub struct ApiError {
    pub kind: ErrorKind,
    pub status: Option<u16>,
    pub body: Option<String>,
}

const BODY_KEEP: usize = 4096;

impl ApiError {
    pub fn new(kind: ErrorKind) -> Self {
        Self { kind, status: None, body: None }
    }

    /// Whether repeating the same request may succeed: server errors, time-outs and
    /// connection failures. Never for 4xx or decode errors.
    pub fn is_retryable(&self) -> bool {
        match self.kind {
            ErrorKind::Server | ErrorKind::Timeout | ErrorKind::Network(_) | ErrorKind::RateLimited { .. } => true,
            ErrorKind::Api { .. } | ErrorKind::Detail { .. } => {
                matches!(self.status, Some(s) if s >= 500 || s == 429)
            }
            _ => false,
        }
    }

    /// Whether the server gave no answer: a timeout, a refused or lost connection, or a
    /// gateway's 502/503/504 (the server behind it is away). A 4xx is an answer.
    pub fn is_unreachable(&self) -> bool {
        matches!(self.kind, ErrorKind::Timeout | ErrorKind::Network(_)) || matches!(self.status, Some(502..=504))
    }

    /// Whether the token should be forgotten and asked for again.
    pub fn is_unauthorized(&self) -> bool {
        matches!(self.kind, ErrorKind::Unauthorized)
    }

    /// The API error code, when the body carried one.
    pub fn code(&self) -> Option<&str> {
        match &self.kind {
            ErrorKind::Api { code, .. } => Some(code),
            ErrorKind::Detail { code, .. } => code.as_deref(),
            _ => None,
        }
    }

    /// The error's parameters, when the body carried them.
    pub fn params(&self) -> Option<&BTreeMap<String, String>> {
        match &self.kind {
            ErrorKind::Api { params, .. } | ErrorKind::Detail { params, .. } => Some(params),
            _ => None,
        }
    }

    /// An English one-line description for logs; the UI translates by kind instead.
    pub fn describe(&self) -> String {
        let status = self.status.map(|s| format!(" (HTTP {s})")).unwrap_or_default();
        match &self.kind {
            ErrorKind::InvalidToken(m) => format!("malformed token: {m}"),
            ErrorKind::InvalidArgument(m) => format!("invalid argument: {m}"),
            ErrorKind::Unauthorized => format!("the token was refused{status}"),
            ErrorKind::Forbidden => format!("not allowed{status}"),
            ErrorKind::NotFound => format!("not found{status}"),
            ErrorKind::Api { code, message, .. } => format!("{code}: {message}{status}"),
            ErrorKind::Detail { code, message, .. } => match code {
                Some(c) => format!("{c}: {message}{status}"),
                None => format!("{message}{status}"),
            },
            ErrorKind::RateLimited { retry_after: Some(d) } => {
                format!("too many requests, wait {}s{status}", d.as_secs())
            }
            ErrorKind::RateLimited { retry_after: None } => format!("too many requests{status}"),
            ErrorKind::Server => format!("the server is not answering properly{status}"),
            ErrorKind::Timeout => "the request timed out".to_owned(),
            ErrorKind::Network(m) => format!("could not reach the server: {m}"),
            ErrorKind::Decode { path, message } => format!("unexpected response at `{path}`: {message}{status}"),
        }
    }

    /// The same error with the wait a 429's `Retry-After` header asks for (in seconds; an
    /// HTTP date is not used by the service and is ignored).
    pub(crate) fn with_retry_after(mut self, header: Option<&str>) -> Self {
        if let ErrorKind::RateLimited { retry_after } = &mut self.kind {
            *retry_after = header.and_then(|h| h.trim().parse::<u64>().ok()).map(std::time::Duration::from_secs);
        }
        self
    }

    pub(crate) fn from_reqwest(e: &reqwest::Error) -> Self {
        let kind = if e.is_timeout() {
            ErrorKind::Timeout
        } else {
            // The chain of sources says more than the top-level message.
            let mut msg = e.to_string();
            let mut src = std::error::Error::source(e);
            while let Some(s) = src {
                msg = format!("{msg}: {s}");
                src = s.source();
            }
            ErrorKind::Network(msg)
        };
        Self::new(kind)
    }

    pub(crate) fn decode(status: u16, path: String, message: String, body: &str) -> Self {
        Self { kind: ErrorKind::Decode { path, message }, status: Some(status), body: Some(trim_body(body)) }
    }

    /// Turns a non-success response into an error by its status and body.
    pub fn from_status(status: u16, body: &str) -> Self {
        let parsed = parse_error_body(body);
        let kind = match (status, parsed) {
            (401, _) => ErrorKind::Unauthorized,
            (429, _) => ErrorKind::RateLimited { retry_after: None },
            (403, Some(k @ (ErrorKind::Api { .. } | ErrorKind::Detail { code: Some(_), .. }))) => k,
            (403, _) => ErrorKind::Forbidden,
            (404, Some(k @ ErrorKind::Detail { code: Some(_), .. })) => k,
            (404, _) => ErrorKind::NotFound,
            (s, _) if s >= 500 => ErrorKind::Server,
            (_, Some(k)) => k,
            (_, None) => ErrorKind::Server,
        };
        Self { kind, status: Some(status), body: Some(trim_body(body)) }
    }
}

fn trim_body(body: &str) -> String {
    if body.len() <= BODY_KEEP {
        return body.to_owned();
    }
    let mut end = BODY_KEEP;
    while !body.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &body[..end])
}

fn string_map(v: Option<&serde_json::Value>) -> BTreeMap<String, String> {
    v.and_then(|v| v.as_object())
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    let s = match v {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    (k.clone(), s)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Recognises the error bodies of the Processing API and the Data API.
fn parse_error_body(body: &str) -> Option<ErrorKind> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    let obj = v.as_object()?;
    if let Some(code) = obj.get("code").and_then(|c| c.as_str()) {
        return Some(ErrorKind::Api {
            code: code.to_owned(),
            message: obj.get("message").and_then(|m| m.as_str()).unwrap_or_default().to_owned(),
            params: string_map(obj.get("params").or_else(|| obj.get("parameters"))),
        });
    }
    match obj.get("detail") {
        Some(serde_json::Value::Object(d)) => Some(ErrorKind::Detail {
            code: d.get("code").and_then(|c| c.as_str()).map(str::to_owned),
            message: d.get("message").and_then(|m| m.as_str()).unwrap_or_default().to_owned(),
            params: string_map(d.get("parameters").or_else(|| d.get("params"))),
        }),
        Some(serde_json::Value::String(s)) => {
            Some(ErrorKind::Detail { code: None, message: s.clone(), params: BTreeMap::new() })
        }
        // FastAPI validation errors: a list of {loc, msg}.
        Some(serde_json::Value::Array(items)) => Some(ErrorKind::Detail {
            code: None,
            message: items.iter().filter_map(|i| i.get("msg").and_then(|m| m.as_str())).collect::<Vec<_>>().join("; "),
            params: BTreeMap::new(),
        }),
        _ => obj.get("message").and_then(|m| m.as_str()).map(|m| ErrorKind::Detail {
            code: None,
            message: m.to_owned(),
            params: BTreeMap::new(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_error_shapes() {
        let e = ApiError::from_status(400, r#"{"code":"TOO_LARGE_PROCESSING","message":"big","params":{"area":5}}"#);
        assert_eq!(e.code(), Some("TOO_LARGE_PROCESSING"));
        assert_eq!(e.params().unwrap()["area"], "5");
        assert!(!e.is_retryable());

        let e = ApiError::from_status(400, r#"{"detail":{"code":"FileTooBig","parameters":{"max_file_size":"10"}}}"#);
        assert_eq!(e.code(), Some("FileTooBig"));

        let e = ApiError::from_status(422, r#"{"detail":"bad tags"}"#);
        assert!(matches!(e.kind, ErrorKind::Detail { code: None, ref message, .. } if message == "bad tags"));

        let e = ApiError::from_status(502, "<html><body>Bad gateway</body></html>");
        assert_eq!(e.kind, ErrorKind::Server);
        assert!(e.is_retryable());
        assert!(e.body.as_deref().unwrap().contains("Bad gateway"));

        assert!(e.is_unreachable(), "a gateway's 502 means the server behind it is away");
        assert!(ApiError::new(ErrorKind::Timeout).is_unreachable());
        assert!(ApiError::new(ErrorKind::Network("refused".into())).is_unreachable());
        for status in [401, 403, 404, 422, 500] {
            assert!(!ApiError::from_status(status, "").is_unreachable(), "{status} is an answer");
        }

        assert_eq!(ApiError::from_status(401, "").kind, ErrorKind::Unauthorized);
        assert_eq!(ApiError::from_status(404, "{}").kind, ErrorKind::NotFound);
    }
}
