//! The HTTP client: auth, timeouts, retries and decoding, shared by every endpoint.

use super::error::{ApiError, ErrorKind};
use super::models::*;
use super::token::Token;
use reqwest::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::time::Duration;

/// The published service.
pub const DEFAULT_BASE_URL: &str = "https://api.mapflow.ai/rest";

/// Per-call timeouts the official clients use.
pub mod timeouts {
    use std::time::Duration;
    pub const DEFAULT: Duration = Duration::from_secs(10);
    pub const CREATE: Duration = Duration::from_secs(30);
    pub const CATALOG: Duration = Duration::from_secs(60);
    pub const DOWNLOAD: Duration = Duration::from_secs(300);
    pub const UPLOAD: Duration = Duration::from_secs(3600);
}

/// How idempotent calls are retried: exponential backoff with jitter (see
/// [`Client::with_retries`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { attempts: 4, base_delay: Duration::from_millis(300), max_delay: Duration::from_secs(5) }
    }
}

impl RetryPolicy {
    /// The backoff between attempts: doubling from `base_delay` up to `max_delay`, each pause
    /// lengthened by a random share so retries never bunch up.
    fn backoff(&self, attempts: u32) -> backon::ExponentialBuilder {
        backon::ExponentialBuilder::default()
            .with_min_delay(self.base_delay)
            .with_max_delay(self.max_delay)
            .with_max_times(attempts.saturating_sub(1) as usize)
            .with_jitter()
    }
}

/// Where and as whom the client talks.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub base_url: String,
    pub token: Token,
    pub retry: RetryPolicy,
    /// A multiplier for every timeout (tests shorten them).
    pub timeout_scale: f64,
}

impl ClientConfig {
    pub fn new(base_url: impl Into<String>, token: Token) -> Self {
        Self { base_url: base_url.into(), token, retry: RetryPolicy::default(), timeout_scale: 1.0 }
    }
}

/// The longest wait a `Retry-After` gets before a read is tried again.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

/// Whether a call may be repeated without a visible effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idempotency {
    /// Reads: retried on server errors, time-outs and connection failures.
    Safe,
    /// Writes: sent once; the caller decides.
    Once,
}

/// Whether the server answers: every request tells, and a change is reported once.
#[derive(Debug, Clone, PartialEq)]
pub enum Reach {
    /// The last request got an answer (any HTTP status but a gateway's 502/503/504).
    Answering,
    /// Requests get no answer (a timeout, a refused or lost connection, a gateway error)
    /// since `since`; `error` is the first of them.
    NotAnswering { since: chrono::DateTime<chrono::Utc>, error: ApiError },
}

type ReachObserver = Box<dyn Fn(Reach) + Send + Sync>;

/// The last [`Reach`] seen and who is told of changes; shared by a client's clones.
#[derive(Default)]
struct ReachWatch {
    last: std::sync::Mutex<Option<bool>>,
    observer: std::sync::OnceLock<ReachObserver>,
}

impl ReachWatch {
    /// Takes note of a request's outcome: `None` for an answer, else its error.
    fn saw(&self, error: Option<&ApiError>) {
        let answered = !error.is_some_and(ApiError::is_unreachable);
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        if *last == Some(answered) {
            return;
        }
        *last = Some(answered);
        drop(last);
        if let Some(observer) = self.observer.get() {
            observer(match error {
                Some(error) if !answered => Reach::NotAnswering { since: chrono::Utc::now(), error: error.clone() },
                _ => Reach::Answering,
            });
        }
    }
}

/// The proxy the environment names for `url`: `HTTPS_PROXY` (https) or `HTTP_PROXY` (http),
/// else `ALL_PROXY`, in either case, unless `NO_PROXY` lists the host (`*`, the host, or a
/// domain it is under), and never for this machine (`localhost`, `127.0.0.1`, `::1`). `env`
/// looks a variable up (the process environment in the app).
pub fn env_proxy(url: &reqwest::Url, env: impl Fn(&str) -> Option<String>) -> Option<String> {
    let var = |name: &str| env(name).or_else(|| env(&name.to_lowercase())).filter(|v| !v.trim().is_empty());
    let host = url.host_str()?.trim_matches(['[', ']']).to_lowercase();
    // This machine itself (the embedded sandbox) is never reached through a proxy.
    if ["localhost", "127.0.0.1", "::1"].contains(&host.as_str()) {
        return None;
    }
    if let Some(no) = var("NO_PROXY") {
        let listed = no.split(',').map(|e| e.trim().trim_start_matches('.').to_lowercase()).any(|e| {
            let e = e.split(':').next().unwrap_or_default().to_owned();
            e == "*" || (!e.is_empty() && (host == e || host.ends_with(&format!(".{e}"))))
        });
        if listed {
            return None;
        }
    }
    let scheme_var = if url.scheme() == "https" { "HTTPS_PROXY" } else { "HTTP_PROXY" };
    // `proxy.corp:3128` (no scheme) means an HTTP proxy, as curl and reqwest read it.
    var(scheme_var).or_else(|| var("ALL_PROXY")).map(|p| {
        let p = p.trim();
        if p.contains("://") { p.to_owned() } else { format!("http://{p}") }
    })
}

/// The variables that name proxies, in upper case (the lower-case ones count too).
const PROXY_VARS: [&str; 4] = ["HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY"];

/// A proxy URL as it may be shown: without the credentials it may carry.
fn shown_proxy(proxy: &str) -> String {
    match reqwest::Url::parse(proxy) {
        Ok(mut u) => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.to_string().trim_end_matches('/').to_owned()
        }
        Err(_) => "(unreadable proxy URL)".to_owned(),
    }
}

/// The Mapflow API client. Cheap to clone; all clones share one connection pool.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    config: ClientConfig,
    /// The proxy requests go through, as shown in errors (no credentials).
    proxy: Option<String>,
    reach: std::sync::Arc<ReachWatch>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("base_url", &self.config.base_url).field("token", &self.config.token).finish()
    }
}

/// The `User-Agent` the app sends.
pub fn user_agent() -> String {
    format!("MapflowDesktop/{}", env!("CARGO_PKG_VERSION"))
}

impl Client {
    pub fn new(config: ClientConfig) -> Result<Self, ApiError> {
        let base = config.base_url.trim_end_matches('/');
        let parsed = reqwest::Url::parse(base)
            .map_err(|e| ApiError::new(ErrorKind::InvalidArgument(format!("server URL `{base}`: {e}"))))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(ApiError::new(ErrorKind::InvalidArgument(format!("server URL `{base}` is not http(s)"))));
        }
        let mut builder = reqwest::Client::builder().user_agent(user_agent()).connect_timeout(Duration::from_secs(10));
        // The environment's proxies, read once and chosen per request (previews go to other
        // hosts, which NO_PROXY may list); the API's own is kept so that errors can name it.
        let vars: std::collections::HashMap<String, String> = PROXY_VARS
            .iter()
            .flat_map(|v| [v.to_string(), v.to_lowercase()])
            .filter_map(|v| std::env::var(&v).ok().map(|value| (v, value)))
            .collect();
        let proxy = env_proxy(&parsed, |name| vars.get(name).cloned());
        if let Some(p) = &proxy {
            reqwest::Url::parse(p)
                .map_err(|e| ApiError::new(ErrorKind::InvalidArgument(format!("proxy `{}`: {e}", shown_proxy(p)))))?;
        }
        builder = builder.no_proxy().proxy(reqwest::Proxy::custom(move |url| {
            env_proxy(url, |name| vars.get(name).cloned()).and_then(|p| reqwest::Url::parse(&p).ok())
        }));
        let http = builder.build().map_err(|e| ApiError::from_reqwest(&e))?;
        let config = ClientConfig { base_url: base.to_owned(), ..config };
        let proxy = proxy.as_deref().map(shown_proxy);
        if let Some(p) = &proxy {
            tracing::info!("requests to {base} go through the proxy {p}");
        }
        Ok(Self { http, config, proxy, reach: std::sync::Arc::default() })
    }

    /// Calls `observer` each time the server starts or stops answering (once per change;
    /// a first observer only, later ones are ignored).
    pub fn watch_reach(&self, observer: impl Fn(Reach) + Send + Sync + 'static) {
        if self.reach.observer.set(Box::new(observer)).is_err() {
            tracing::warn!("the client's reach already has an observer");
        }
    }

    /// The proxy requests go through, if the environment names one (shown without credentials).
    pub fn proxy(&self) -> Option<&str> {
        self.proxy.as_deref()
    }

    /// A transport error, naming the proxy when there is one: it is often the cause.
    pub(crate) fn transport_error(&self, e: &reqwest::Error) -> ApiError {
        let mut error = ApiError::from_reqwest(e);
        if let (ErrorKind::Network(detail), Some(p)) = (&mut error.kind, &self.proxy) {
            *detail = format!("{detail}; through the proxy {p}");
        }
        error
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    pub fn base_url(&self) -> &str {
        &self.config.base_url
    }

    pub fn token(&self) -> &Token {
        &self.config.token
    }

    /// Whether `url` is on the API's own host, the only place the credentials may go.
    pub fn is_own_host(&self, url: &str) -> bool {
        match (reqwest::Url::parse(url), reqwest::Url::parse(&self.config.base_url)) {
            (Ok(a), Ok(b)) => {
                a.scheme() == b.scheme()
                    && a.host_str() == b.host_str()
                    && a.port_or_known_default() == b.port_or_known_default()
            }
            _ => false,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.config.base_url, path)
    }

    /// The multiplier of this client's timeouts (1 but in tests).
    pub fn timeout_scale(&self) -> f64 {
        self.config.timeout_scale.max(0.001)
    }

    fn scaled(&self, d: Duration) -> Duration {
        d.mul_f64(self.config.timeout_scale.max(0.001))
    }

    /// Sends one request (with retries when `Safe`) and returns the status and body text.
    pub(crate) async fn send_raw(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
        timeout: Duration,
        idempotency: Idempotency,
    ) -> Result<(u16, String), ApiError> {
        let attempts = match idempotency {
            Idempotency::Safe => self.config.retry.attempts.max(1),
            Idempotency::Once => 1,
        };
        let what = format!("{method} {path}");
        self.with_retries(attempts, &what, ApiError::is_retryable, || async {
            let result = self.send_once(method.clone(), path, body, timeout).await;
            self.reach.saw(result.as_ref().err());
            result
        })
        .await
    }

    /// Runs `attempt` up to `attempts` times while it fails in a way `retry` accepts,
    /// pausing between tries by the policy's backoff, or for as long as a 429's
    /// `Retry-After` asks (up to [`MAX_RETRY_AFTER`]). The one retry loop of the client.
    pub(crate) async fn with_retries<T, Fut>(
        &self,
        attempts: u32,
        what: &str,
        retry: impl FnMut(&ApiError) -> bool,
        attempt: impl FnMut() -> Fut,
    ) -> Result<T, ApiError>
    where
        Fut: std::future::Future<Output = Result<T, ApiError>>,
    {
        use backon::Retryable as _;
        attempt
            .retry(self.config.retry.backoff(attempts))
            .sleep(tokio::time::sleep)
            .when(retry)
            .adjust(|error: &ApiError, pause| match error.kind {
                // A server that says how long to wait is waited for (within reason).
                ErrorKind::RateLimited { retry_after: Some(d) } => pause.map(|_| self.scaled(d.min(MAX_RETRY_AFTER))),
                _ => pause,
            })
            .notify(|error: &ApiError, pause| tracing::info!("{what} failed ({error}); retrying in {pause:?}"))
            .await
    }

    async fn send_once(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
        timeout: Duration,
    ) -> Result<(u16, String), ApiError> {
        let mut req = self
            .http
            .request(method, self.url(path))
            .header(reqwest::header::AUTHORIZATION, format!("Basic {}", self.config.token.expose()))
            .header(reqwest::header::ACCEPT, "application/json")
            .timeout(self.scaled(timeout));
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await.map_err(|e| self.transport_error(&e))?;
        let status = resp.status().as_u16();
        let retry_after =
            resp.headers().get(reqwest::header::RETRY_AFTER).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let text = resp.text().await.map_err(|e| self.transport_error(&e))?;
        if (200..300).contains(&status) {
            Ok((status, text))
        } else {
            Err(ApiError::from_status(status, &text).with_retry_after(retry_after.as_deref()))
        }
    }

    /// A GET whose body is read by the caller chunk by chunk (large downloads). The
    /// request is retried until the response starts; the body never is.
    pub(crate) async fn get_stream(&self, path: &str, timeout: Duration) -> Result<reqwest::Response, ApiError> {
        let what = format!("GET {path}");
        self.with_retries(self.config.retry.attempts.max(1), &what, ApiError::is_retryable, || async {
            let result = async {
                let resp = self
                    .http
                    .get(self.url(path))
                    .header(reqwest::header::AUTHORIZATION, format!("Basic {}", self.config.token.expose()))
                    .timeout(self.scaled(timeout))
                    .send()
                    .await
                    .map_err(|e| self.transport_error(&e))?;
                let status = resp.status().as_u16();
                if (200..300).contains(&status) {
                    Ok(resp)
                } else {
                    let retry_after = resp
                        .headers()
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned);
                    let text = resp.text().await.unwrap_or_default();
                    Err(ApiError::from_status(status, &text).with_retry_after(retry_after.as_deref()))
                }
            }
            .await;
            // A long download that times out says nothing about whether the server answers.
            if !matches!(&result, Err(e) if e.kind == ErrorKind::Timeout) {
                self.reach.saw(result.as_ref().err());
            }
            result
        })
        .await
    }

    /// A JSON call decoded into `T`; a decode error names the JSON path and keeps the body.
    pub(crate) async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
        timeout: Duration,
        idempotency: Idempotency,
    ) -> Result<T, ApiError> {
        let (status, text) = self.send_raw(method, path, body, timeout, idempotency).await?;
        decode(status, &text)
    }

    /// A call whose answer is not needed (deletes); any 2xx is success.
    pub(crate) async fn call_unit(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
        timeout: Duration,
        idempotency: Idempotency,
    ) -> Result<(), ApiError> {
        self.send_raw(method, path, body, timeout, idempotency).await.map(|_| ())
    }

    // ---- Account ----

    /// `GET /user/status`: the account, its models and providers. Also the sign-in check.
    pub async fn user_status(&self) -> Result<UserStatus, ApiError> {
        self.call(Method::GET, "/user/status", None, timeouts::DEFAULT, Idempotency::Safe).await
    }

    // ---- Projects ----

    /// `GET /projects/default`.
    pub async fn default_project(&self) -> Result<Project, ApiError> {
        self.call(Method::GET, "/projects/default", None, timeouts::DEFAULT, Idempotency::Safe).await
    }

    /// `GET /projects/{id}`.
    pub async fn project(&self, id: &ProjectId) -> Result<Project, ApiError> {
        let path = format!("/projects/{}", path_segment(&id.0)?);
        self.call(Method::GET, &path, None, timeouts::DEFAULT, Idempotency::Safe).await
    }

    /// `GET /projects`: every project as a plain list.
    pub async fn projects(&self) -> Result<Vec<Project>, ApiError> {
        self.call(Method::GET, "/projects", None, timeouts::DEFAULT, Idempotency::Safe).await
    }

    /// `POST /projects/page`. A read, so it is retried like a GET.
    pub async fn projects_page(&self, query: &ProjectPageQuery) -> Result<Page<Project>, ApiError> {
        if query.limit <= 0 || query.offset < 0 {
            return Err(ApiError::new(ErrorKind::InvalidArgument(
                "page limit must be positive and offset not negative".into(),
            )));
        }
        let body = to_body(query)?;
        self.call(Method::POST, "/projects/page", Some(&body), timeouts::DEFAULT, Idempotency::Safe).await
    }

    /// `POST /projects`. Never retried on its own.
    pub async fn create_project(&self, name: &str, description: Option<&str>) -> Result<Project, ApiError> {
        let name = check_name(name)?;
        let body = to_body(&ProjectEdit { name: Some(name), description: description.map(str::to_owned) })?;
        self.call(Method::POST, "/projects", Some(&body), timeouts::CREATE, Idempotency::Once).await
    }

    /// `PUT /projects/{id}`: rename and/or change the description.
    pub async fn update_project(&self, id: &ProjectId, edit: &ProjectEdit) -> Result<Project, ApiError> {
        if let Some(n) = &edit.name {
            check_name(n)?;
        }
        let path = format!("/projects/{}", path_segment(&id.0)?);
        let body = to_body(edit)?;
        self.call(Method::PUT, &path, Some(&body), timeouts::DEFAULT, Idempotency::Once).await
    }

    /// `DELETE /projects/{id}`.
    pub async fn delete_project(&self, id: &ProjectId) -> Result<(), ApiError> {
        let path = format!("/projects/{}", path_segment(&id.0)?);
        self.call_unit(Method::DELETE, &path, None, timeouts::DEFAULT, Idempotency::Once).await
    }
}

/// Writes a response body to `dest` as it arrives, atomically: a temp file beside it,
/// renamed when complete, so a failed download never leaves a partial file.
pub(crate) async fn stream_to_file(
    mut resp: reqwest::Response,
    dest: &std::path::Path,
    progress: &mut (dyn FnMut(u64) + Send),
) -> Result<u64, ApiError> {
    use tokio::io::AsyncWriteExt as _;
    let io_err = |e: std::io::Error| ApiError::new(ErrorKind::InvalidArgument(format!("{}: {e}", dest.display())));
    let dir = dest.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    let (std_file, tmp_path) = tempfile::NamedTempFile::new_in(dir).map_err(io_err)?.into_parts();
    let mut file = tokio::fs::File::from_std(std_file);
    let mut received = 0u64;
    while let Some(chunk) = resp.chunk().await.map_err(|e| ApiError::from_reqwest(&e))? {
        file.write_all(&chunk).await.map_err(io_err)?;
        received += chunk.len() as u64;
        progress(received);
    }
    file.flush().await.map_err(io_err)?;
    file.sync_all().await.map_err(io_err)?;
    drop(file);
    tmp_path.persist(dest).map_err(|e| io_err(e.error))?;
    Ok(received)
}

impl Client {
    /// Downloads `url` (a presigned link, say) to `dest`; the credentials go only to the
    /// API's own host.
    pub async fn download_to(&self, url: &str, dest: &std::path::Path) -> Result<u64, ApiError> {
        let parsed =
            reqwest::Url::parse(url).map_err(|e| ApiError::new(ErrorKind::InvalidArgument(format!("`{url}`: {e}"))))?;
        let mut req = self.http.get(parsed).timeout(self.scaled(timeouts::DOWNLOAD));
        if self.is_own_host(url) {
            req = req.header(reqwest::header::AUTHORIZATION, format!("Basic {}", self.config.token.expose()));
        }
        let resp = req.send().await.map_err(|e| self.transport_error(&e))?;
        let status = resp.status().as_u16();
        if !(200..300).contains(&status) {
            let text = resp.text().await.unwrap_or_default();
            return Err(ApiError::from_status(status, &text));
        }
        stream_to_file(resp, dest, &mut |_| {}).await
    }
}

fn check_name(name: &str) -> Result<String, ApiError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(ApiError::new(ErrorKind::InvalidArgument("a name is required".into())));
    }
    Ok(name.to_owned())
}

/// An id as one URL path segment; ids with `/`, `?` or `#` are refused.
pub(crate) fn path_segment(id: &str) -> Result<&str, ApiError> {
    if id.is_empty() || id.contains(['/', '?', '#', '%']) || id.chars().any(char::is_whitespace) {
        return Err(ApiError::new(ErrorKind::InvalidArgument(format!("`{id}` is not a valid id"))));
    }
    Ok(id)
}

pub(crate) fn to_body<T: Serialize>(value: &T) -> Result<serde_json::Value, ApiError> {
    serde_json::to_value(value).map_err(|e| ApiError::new(ErrorKind::InvalidArgument(e.to_string())))
}

/// Decodes a JSON body into `T`, naming the path of the first field that did not fit.
pub fn decode<T: DeserializeOwned>(status: u16, text: &str) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        ApiError::decode(status, path, e.into_inner().to_string(), text)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_names_the_path() {
        let err = decode::<Page<Project>>(200, r#"{"results": [], "total": 1, "count": {"x": 1}"#).unwrap_err();
        assert!(matches!(err.kind, ErrorKind::Decode { .. }), "{err:?}");
        let err = decode::<UserStatus>(200, r#"{"email": "a", "models": 5}"#).unwrap_err();
        match err.kind {
            ErrorKind::Decode { path, .. } => assert_eq!(path, "models"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn lenient_models() {
        let s: UserStatus = decode(
            200,
            r#"{"email":"a@b","billingType":"credits","remainingCredits":"12.0","extra":1,
                "models":[{"id":"m","name":"B","blocks":[{"name":"S","price":2,"optional":false},{"name":"C","price":1,"optional":true}]}, 7],
                "dataProviders":[{"name":"p","minAreaSqkm":0.5}]}"#,
        )
        .unwrap();
        assert_eq!(s.billing_type, BillingType::Credits);
        assert_eq!(s.remaining_credits, 12);
        assert_eq!(s.models.len(), 1, "the odd item is dropped, not the list");
        assert_eq!(s.models[0].price_with(&[]), 2.0);
        assert_eq!(s.models[0].price_with(&["C"]), 3.0);
        assert_eq!(s.data_providers[0].min_area_sq_km, Some(0.5));
        assert_eq!(s.data_providers[0].label(), "p");
        let old: UserStatus = decode(200, r#"{"billingType": 2}"#).unwrap();
        assert_eq!(old.billing_type, BillingType::Credits);
    }
}

#[cfg(test)]
mod retry_tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn client(attempts: u32) -> Client {
        let mut config = ClientConfig::new("http://127.0.0.1:9/rest", Token::from_parts("a@b.c", "k"));
        config.retry =
            RetryPolicy { attempts, base_delay: Duration::from_millis(1), max_delay: Duration::from_millis(4) };
        Client::new(config).unwrap()
    }

    #[tokio::test]
    async fn retryable_failures_are_tried_again_up_to_the_attempts_and_others_never() {
        let c = client(3);
        let tries = AtomicU32::new(0);
        let result: Result<(), ApiError> = c
            .with_retries(3, "test", ApiError::is_retryable, || async {
                tries.fetch_add(1, Ordering::Relaxed);
                Err(ApiError::new(ErrorKind::Timeout))
            })
            .await;
        assert_eq!(result.unwrap_err().kind, ErrorKind::Timeout);
        assert_eq!(tries.load(Ordering::Relaxed), 3, "three attempts in all");

        let tries = AtomicU32::new(0);
        let result: Result<(), ApiError> = c
            .with_retries(3, "test", ApiError::is_retryable, || async {
                tries.fetch_add(1, Ordering::Relaxed);
                Err(ApiError::new(ErrorKind::Unauthorized))
            })
            .await;
        assert!(result.is_err());
        assert_eq!(tries.load(Ordering::Relaxed), 1, "a refusal is an answer: not tried again");

        let tries = AtomicU32::new(0);
        let result = c
            .with_retries(3, "test", ApiError::is_retryable, || async {
                let n = tries.fetch_add(1, Ordering::Relaxed);
                if n == 0 { Err(ApiError::new(ErrorKind::Server)) } else { Ok(n) }
            })
            .await;
        assert_eq!(result.unwrap(), 1, "the second attempt's answer");
    }

    #[tokio::test]
    async fn a_rate_limit_waits_as_long_as_the_server_asks() {
        let c = client(2);
        let start = std::time::Instant::now();
        let tries = AtomicU32::new(0);
        let _: Result<(), ApiError> = c
            .with_retries(2, "test", ApiError::is_retryable, || async {
                tries.fetch_add(1, Ordering::Relaxed);
                Err(ApiError::new(ErrorKind::RateLimited { retry_after: Some(Duration::from_millis(300)) }))
            })
            .await;
        assert_eq!(tries.load(Ordering::Relaxed), 2);
        assert!(start.elapsed() >= Duration::from_millis(300), "waited {:?}, not the 4 ms backoff", start.elapsed());
    }
}

#[cfg(test)]
mod proxy_tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned())
    }

    #[test]
    fn the_environment_names_the_proxy_unless_no_proxy_lists_the_host() {
        let api = reqwest::Url::parse("https://api.mapflow.ai/rest").unwrap();
        let local = reqwest::Url::parse("http://10.1.2.3:8080/rest").unwrap();
        let own = reqwest::Url::parse("http://127.0.0.1:8080/rest").unwrap();
        assert_eq!(env_proxy(&own, env(&[("HTTP_PROXY", "http://plain:8080")])), None, "never for this machine");
        let vars = [("HTTPS_PROXY", "http://user:pw@proxy.corp:3128"), ("http_proxy", "http://plain:8080")];
        assert_eq!(env_proxy(&api, env(&vars)).as_deref(), Some("http://user:pw@proxy.corp:3128"));
        assert_eq!(env_proxy(&local, env(&vars)).as_deref(), Some("http://plain:8080"), "lower case too");
        assert_eq!(env_proxy(&api, env(&[("ALL_PROXY", "socks5://s:1080")])).as_deref(), Some("socks5://s:1080"));
        for no in ["*", "mapflow.ai", ".mapflow.ai", "other.org, api.mapflow.ai"] {
            let vars = [("HTTPS_PROXY", "http://proxy.corp:3128"), ("NO_PROXY", no)];
            assert_eq!(env_proxy(&api, env(&vars)), None, "NO_PROXY={no}");
        }
        let vars = [("HTTPS_PROXY", "http://proxy.corp:3128"), ("NO_PROXY", "flow.ai")];
        assert!(env_proxy(&api, env(&vars)).is_some(), "not a domain it is under");
        assert_eq!(env_proxy(&api, env(&[])), None);
        let bare = env_proxy(&api, env(&[("HTTPS_PROXY", "user:pw@10.0.0.1:3128")])).unwrap();
        assert_eq!(bare, "http://user:pw@10.0.0.1:3128", "no scheme means http");
        assert_eq!(shown_proxy(&bare), "http://10.0.0.1:3128");
        assert_eq!(shown_proxy("http://user:pw@proxy.corp:3128"), "http://proxy.corp:3128", "no credentials shown");
    }
}
