//! Fault injection and request recording.
//!
//! Both run in one middleware wrapped around everything else (before auth and
//! routing), so any route, even an unknown one, can be faulted and every request is
//! counted by method and path.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::routes::status_code_name;
use super::state::Shared;

/// What a faulted request gets instead of (or before) the normal answer.
#[derive(Clone, Debug)]
pub enum FaultAction {
    /// The route behaves normally (with [`Fault::delay`], it is only delayed).
    Pass,
    /// This status with a JSON error body in the API shape.
    Status(u16),
    /// This status with an nginx-like HTML error page, as a proxy in front would send.
    Html(u16),
    /// 200 with a truncated, invalid JSON body.
    MalformedJson,
    /// This status with exactly this JSON body.
    Json(u16, serde_json::Value),
    /// 429 `TOO_MANY_REQUESTS` in the API's error shape with `Retry-After` in seconds, as a
    /// rate limiter in front of the service answers.
    RateLimited { retry_after_secs: u64 },
    /// The route does its work (a create commits), then the answer waits this long, as
    /// from a server that is slow to reply: a client may give up on a done request.
    AnswerLate(Duration),
}

/// A fault for the requests matching a method and a path.
#[derive(Clone, Debug)]
pub struct Fault {
    /// `"GET"`, `"POST"`, … or `"*"` for any method.
    pub method: String,
    /// An exact path like `"/rest/user/status"`, or a prefix ending with `*`
    /// (`"/rest/projects/*"`).
    pub path: String,
    /// What to answer.
    pub action: FaultAction,
    /// `None`: every matching request; `Some(n)`: the next `n`, then the route behaves
    /// normally again.
    pub times: Option<usize>,
    /// Applied before the action.
    pub delay: Option<Duration>,
}

impl Fault {
    /// A fault applied to every matching request, without delay.
    pub fn new(method: &str, path: &str, action: FaultAction) -> Self {
        Self { method: method.to_owned(), path: path.to_owned(), action, times: None, delay: None }
    }

    /// Applies only to the next `n` matching requests.
    pub fn times(self, n: usize) -> Self {
        Self { times: Some(n), ..self }
    }

    /// Waits `d` before the action.
    pub fn delay(self, d: Duration) -> Self {
        Self { delay: Some(d), ..self }
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        let method_ok = self.method == "*" || self.method.eq_ignore_ascii_case(method);
        let path_ok = match self.path.strip_suffix('*') {
            Some(prefix) => path.starts_with(prefix),
            None => self.path == path,
        };
        method_ok && path_ok
    }
}

/// The faults injected into one sandbox; cheap to clone (shared inside).
#[derive(Clone, Default)]
pub struct Faults {
    inner: Arc<Mutex<Vec<Fault>>>,
}

impl Faults {
    /// Adds a fault. Faults are tried in the order they were injected; the first one
    /// that matches a request (and has uses left) applies.
    pub fn inject(&self, fault: Fault) {
        self.lock().push(fault);
    }

    /// Removes every fault.
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// The fault that applies to this request, using up one of its `times`.
    fn take(&self, method: &str, path: &str) -> Option<Fault> {
        let mut faults = self.lock();
        let index = faults.iter().position(|f| f.matches(method, path) && f.times != Some(0))?;
        let fault = &mut faults[index];
        let taken = fault.clone();
        if let Some(n) = fault.times.as_mut() {
            *n -= 1;
            if *n == 0 {
                faults.remove(index);
            }
        }
        Some(taken)
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Fault>> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl std::fmt::Debug for Faults {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.lock().iter()).finish()
    }
}

/// At most this many distinct (method, path) pairs are counted, and this many unmatched
/// requests kept; later ones are only counted in [`Recorder::dropped`].
pub(crate) const MAX_RECORDED: usize = 1024;

/// The requests no route matched, as `"METHOD PATH"`, kept where a test can read them even
/// when the sandbox is inside the app (the UI tests' harness holds one and fails on drop if
/// it is not empty). Bounded by [`MAX_RECORDED`].
#[derive(Clone, Debug, Default)]
pub struct UnexpectedRoutes(std::sync::Arc<Mutex<Vec<String>>>);

impl UnexpectedRoutes {
    /// The requests recorded so far, oldest first.
    pub fn list(&self) -> Vec<String> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// Test bookkeeping: counts of requests by method and path, and the requests no route
/// matched. Off unless [`crate::SandboxConfig::record_requests`] asks for it
/// (a server for users must not grow with every distinct path anyone sends), and bounded
/// by [`MAX_RECORDED`] when on.
#[derive(Default)]
pub(crate) struct Recorder {
    enabled: bool,
    hits: Mutex<HashMap<(String, String), usize>>,
    unexpected: UnexpectedRoutes,
    dropped: AtomicUsize,
}

impl Recorder {
    /// A recorder that keeps records only when `enabled`; unmatched requests go into
    /// `unexpected` when one is given (which turns recording on).
    pub(crate) fn new(enabled: bool, unexpected: Option<UnexpectedRoutes>) -> Self {
        let enabled = enabled || unexpected.is_some();
        Self { enabled, unexpected: unexpected.unwrap_or_default(), ..Self::default() }
    }

    fn hit(&self, method: &str, path: &str) {
        if !self.enabled {
            return;
        }
        let mut hits = self.hits.lock().unwrap_or_else(|e| e.into_inner());
        let key = (method.to_ascii_uppercase(), path.to_owned());
        if let Some(count) = hits.get_mut(&key) {
            *count += 1;
        } else if hits.len() < MAX_RECORDED {
            hits.insert(key, 1);
        } else {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// How many requests reached (method, path).
    pub(crate) fn hits(&self, method: &str, path: &str) -> usize {
        let hits = self.hits.lock().unwrap_or_else(|e| e.into_inner());
        hits.get(&(method.to_ascii_uppercase(), path.to_owned())).copied().unwrap_or(0)
    }

    /// Records a request that matched no route.
    pub(crate) fn record_unexpected(&self, request: String) {
        if !self.enabled {
            return;
        }
        let mut unexpected = self.unexpected.0.lock().unwrap_or_else(|e| e.into_inner());
        if unexpected.len() < MAX_RECORDED {
            unexpected.push(request);
        } else {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The requests that matched no route, oldest first.
    pub(crate) fn unexpected(&self) -> Vec<String> {
        self.unexpected.list()
    }

    /// How many entries are kept: distinct counted paths plus unmatched requests.
    pub(crate) fn kept(&self) -> usize {
        let hits = self.hits.lock().unwrap_or_else(|e| e.into_inner()).len();
        hits + self.unexpected.0.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// How many records were not kept because the bound was reached.
    pub(crate) fn dropped(&self) -> usize {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// The outermost middleware: counts the request, then applies the first matching fault.
pub(crate) async fn middleware(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let method = request.method().as_str().to_owned();
    let path = request.uri().path().to_owned();
    shared.recorder.hit(&method, &path);
    let Some(fault) = shared.faults.take(&method, &path) else {
        return next.run(request).await;
    };
    tracing::debug!("sandbox: fault {:?} on {method} {path}", fault.action);
    if let Some(delay) = fault.delay {
        tokio::time::sleep(delay).await;
    }
    match fault.action {
        FaultAction::Pass => next.run(request).await,
        FaultAction::Status(code) => {
            let status = status_or_500(code);
            ApiError::new(status, &status_code_name(status), &format!("Injected fault: HTTP {code}")).into_response()
        }
        FaultAction::Html(code) => html_error(status_or_500(code)),
        FaultAction::MalformedJson => {
            let mut response =
                Response::new(Body::from(r#"{"id": "0b7e5c1a-7f1e-4c55-9d0b-2a1c3e4f5a6b", "name": "Trunc"#));
            response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            response
        }
        FaultAction::Json(code, body) => (status_or_500(code), axum::Json(body)).into_response(),
        FaultAction::RateLimited { retry_after_secs } => {
            let mut response =
                ApiError::new(StatusCode::TOO_MANY_REQUESTS, "TOO_MANY_REQUESTS", "Too many requests").into_response();
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            response
        }
        FaultAction::AnswerLate(wait) => {
            let response = next.run(request).await;
            tokio::time::sleep(wait).await;
            response
        }
    }
}

fn status_or_500(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// The error page nginx sends when the service behind it is down.
fn html_error(status: StatusCode) -> Response {
    let title = format!("{} {}", status.as_u16(), status.canonical_reason().unwrap_or("Error"));
    let body = format!(
        "<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    );
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
    response.headers_mut().insert(header::SERVER, HeaderValue::from_static("nginx"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching_and_times() {
        let faults = Faults::default();
        faults.inject(Fault::new("GET", "/rest/projects/*", FaultAction::Status(500)).times(2));
        assert!(faults.take("POST", "/rest/projects/1").is_none());
        assert!(faults.take("GET", "/rest/projects").is_none());
        assert!(faults.take("get", "/rest/projects/1").is_some());
        assert!(faults.take("GET", "/rest/projects/2").is_some());
        assert!(faults.take("GET", "/rest/projects/3").is_none());
        faults.inject(Fault::new("*", "/rest/user/status", FaultAction::Pass));
        assert!(faults.take("DELETE", "/rest/user/status").is_some());
        assert!(faults.take("DELETE", "/rest/user/status").is_some());
        faults.clear();
        assert!(faults.take("DELETE", "/rest/user/status").is_none());
    }

    #[test]
    fn code_names() {
        assert_eq!(status_code_name(StatusCode::BAD_GATEWAY), "BAD_GATEWAY");
        assert_eq!(status_code_name(StatusCode::INTERNAL_SERVER_ERROR), "INTERNAL_SERVER_ERROR");
    }
}
