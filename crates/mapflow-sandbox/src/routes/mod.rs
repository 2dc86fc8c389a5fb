//! The HTTP routes, one module per resource group, and what they share: auth, JSON
//! bodies and the answer to unknown routes.
//!
//! Layers, outermost first: fault injection and request counting (every request, even an
//! unknown one), then the API error shape for the framework's own refusals
//! ([`refusals`]), then auth (only on matched, non-public routes), then the handler.

mod catalog;
mod processings;
mod projects;
mod rasters;
mod refusals;
mod review;
mod share;
mod templates;
mod tiles;
mod user;

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, OriginalUri, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use super::error::{ApiError, ApiResult};
use super::faults;
use super::state::Shared;

pub(crate) use catalog::serve_previews;
pub(crate) use catalog::{filters as catalog_filters, instant as catalog_instant};
pub(crate) use refusals::{JsonErrorListener, status_code_name};

/// All API routes live under this prefix, as on the real service.
pub(crate) const PREFIX: &str = "/rest";

/// The whole sandbox app; `previews` is the preview origin the catalog's images point at.
pub(crate) fn router(shared: Arc<Shared>, previews: Arc<super::catalog::Previews>) -> Router {
    // Routes that need the token.
    let private = Router::new()
        .merge(user::routes())
        .merge(projects::routes())
        .merge(processings::routes())
        .merge(review::routes())
        .merge(share::routes())
        .merge(rasters::routes())
        .merge(templates::routes(previews.clone()))
        .merge(catalog::routes(previews))
        .method_not_allowed_fallback(method_not_allowed)
        .route_layer(middleware::from_fn_with_state(shared.clone(), auth));
    // Routes a map tile loader fetches without headers.
    let public = Router::new()
        .merge(tiles::routes())
        .merge(rasters::public_routes())
        .method_not_allowed_fallback(method_not_allowed);
    Router::new()
        .nest(PREFIX, private.merge(public))
        .fallback(no_route)
        .layer(middleware::from_fn(refusals::json_errors))
        .layer(middleware::from_fn_with_state(shared.clone(), faults::middleware))
        .with_state(shared)
}

/// Accepts only `Authorization: Basic <a configured token>`: the main account's or the team
/// account's. The handler learns which from the request's [`Caller`] extension.
async fn auth(State(shared): State<Arc<Shared>>, mut request: Request, next: Next) -> Response {
    let sent = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .map(|(_, token)| token.trim().to_owned());
    let caller = match sent {
        Some(t) if t == shared.config.token.expose() => {
            Caller { email: shared.config.token.email().to_owned(), main: true }
        }
        Some(t) if t == shared.config.team_token.expose() => {
            Caller { email: shared.config.team_token.email().to_owned(), main: false }
        }
        _ => return ApiError::unauthorized().into_response(),
    };
    request.extensions_mut().insert(caller);
    next.run(request).await
}

/// Who sent the request, as [`auth`] found it.
pub(crate) use super::members::Caller;

/// How many unexpected requests were logged; past the first [`LOGGED_FREELY`], one in
/// [`LOG_EVERY`] is, so a flood of junk paths cannot flood the log.
static UNEXPECTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
const LOGGED_FREELY: usize = 100;
const LOG_EVERY: usize = 1000;
/// The longest part of an unknown path echoed back or logged, in characters.
const ECHOED_CHARS: usize = 200;

/// `METHOD path` of a request, the path cut to [`ECHOED_CHARS`].
fn request_line(method: &Method, uri: &axum::http::Uri) -> String {
    let path = uri.path();
    match path.char_indices().nth(ECHOED_CHARS) {
        Some((at, _)) => format!("{method} {}… ({} characters)", &path[..at], path.chars().count()),
        None => format!("{method} {path}"),
    }
}

/// Logs an unexpected request at debug level, rate-limited (anyone can send any path).
fn log_unexpected(what: &str, request: &str) {
    let n = UNEXPECTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
    if n <= LOGGED_FREELY || n.is_multiple_of(LOG_EVERY) {
        tracing::debug!("sandbox: {what} {request} ({n} so far)");
    }
}

/// A request no route matched: logged (at debug level, rate-limited), recorded when a
/// test asks for it, and answered 404 in the API's error shape.
async fn no_route(State(shared): State<Arc<Shared>>, method: Method, OriginalUri(uri): OriginalUri) -> Response {
    let request = request_line(&method, &uri);
    log_unexpected("unexpected request", &request);
    shared.recorder.record_unexpected(request.clone());
    ApiError::not_found(format!("No such route: {request}")).into_response()
}

/// A known path with a method it does not answer: logged (at debug level), recorded when
/// a test asks for it, and answered 405.
async fn method_not_allowed(
    State(shared): State<Arc<Shared>>,
    method: Method,
    OriginalUri(uri): OriginalUri,
) -> Response {
    let request = request_line(&method, &uri);
    log_unexpected("unexpected method in", &request);
    shared.recorder.record_unexpected(request.clone());
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED", &format!("Method not allowed: {request}"))
        .into_response()
}

/// Runs costly request checks (geometry validation) on tokio's blocking pool, so that a
/// detailed geometry does not hold up the workers that answer other requests.
pub(crate) async fn blocking<T: Send + 'static>(f: impl FnOnce() -> ApiResult<T> + Send + 'static) -> ApiResult<T> {
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|e| Err(ApiError::internal(format!("A check failed: {e}"))))
}

/// A JSON request body, whatever its content type; an empty body reads as `{}`. A body
/// that does not parse is a 400 `BAD_REQUEST` in the API shape (axum's own rejection
/// would be plain text), one over the body limit a 413 `PAYLOAD_TOO_LARGE`.
pub(crate) struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        // A body over the limit stays a 413; other failures to read it are 400s.
        let bytes = Bytes::from_request(request, state).await.map_err(|e| {
            let status = e.status();
            if status == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(status, &refusals::status_code_name(status), &e.body_text())
            } else {
                ApiError::bad_request(e.body_text())
            }
        })?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// Parses a request body; an empty one reads as `{}`.
pub(crate) fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> ApiResult<T> {
    let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) { b"{}" } else { bytes };
    serde_json::from_slice(bytes).map_err(|e| ApiError::bad_request(format!("Malformed request body: {e}")))
}
