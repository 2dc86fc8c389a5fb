//! Refusals in the API's error shape where the framework would answer otherwise.
//!
//! axum's extractors refuse a body over the limit (413), a path that is not UTF-8 (400)
//! and the like with plain text; [`json_errors`] turns such answers into the API's error
//! body with the same status. The HTTP parser itself answers a request line it cannot
//! take (a URI over 64 KiB: 414, headers too large: 431, a malformed request: 400) with an
//! empty body before any route or layer sees the request; [`JsonErrorListener`] gives
//! those answers the API's error body too.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::error::ApiError;

/// The longest plain-text refusal turned into JSON; longer bodies are left alone.
const MAX_TEXT_BODY: usize = 64 * 1024;

/// The API's error code for a status: `PAYLOAD_TOO_LARGE` for 413.
pub(crate) fn status_code_name(status: StatusCode) -> String {
    status
        .canonical_reason()
        .map(|r| r.to_ascii_uppercase().replace([' ', '-'], "_").replace('\'', ""))
        .unwrap_or_else(|| format!("HTTP_{}", status.as_u16()))
}

/// Turns an error answer with a plain-text or empty body (axum's rejections) into the
/// API's error body, keeping its status: the Data-API shape under `/rest/rasters`, the
/// Processing-API shape elsewhere. JSON, HTML (injected gateway pages) and image answers
/// pass unchanged.
pub(crate) async fn json_errors(request: Request, next: Next) -> Response {
    let data_api = request.uri().path().starts_with(&format!("{}/rasters", super::PREFIX));
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let content_type = response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !(content_type.is_empty() || content_type.starts_with("text/plain")) {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = match axum::body::to_bytes(body, MAX_TEXT_BODY).await {
        Ok(bytes) => String::from_utf8_lossy(&bytes).trim().to_owned(),
        Err(_) => String::new(),
    };
    let message = if text.is_empty() { status.canonical_reason().unwrap_or("Error").to_owned() } else { text };
    let error = ApiError::new(status, &status_code_name(status), &message);
    let mut answer = if data_api { error.data_api() } else { error }.into_response();
    // Keep what the refusal said besides its body (Allow, Retry-After, …).
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            answer.headers_mut().insert(name.clone(), value.clone());
        }
    }
    answer
}

/// The API's error body for an answer the HTTP parser sends itself, as a whole
/// `Connection: close` response; `None` when `head` is not such an answer (a status
/// line of 400, 414 or 431 with an empty body).
fn parser_refusal(head: &[u8]) -> Option<Vec<u8>> {
    if head.len() > 1024 || !head.ends_with(b"\r\n\r\n") {
        return None;
    }
    let text = std::str::from_utf8(head).ok()?;
    let code: u16 = text.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()?;
    let status = StatusCode::from_u16(code).ok()?;
    if !matches!(code, 400 | 414 | 431) || !text.to_ascii_lowercase().contains("\r\ncontent-length: 0\r\n") {
        return None;
    }
    let message = match code {
        414 => "The request URI is longer than the server accepts",
        431 => "The request headers are larger than the server accepts",
        _ => "The request is not valid HTTP",
    };
    let body = serde_json::json!({"code": status_code_name(status), "message": message, "params": {}}).to_string();
    let reason = status.canonical_reason().unwrap_or("Error");
    let mut out = format!(
        "HTTP/1.1 {code} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body.as_bytes());
    Some(out)
}

/// A connection whose parser-made refusals ([`parser_refusal`]) are rewritten into the
/// API's error body on their way out.
pub(crate) struct JsonErrorStream<S> {
    inner: S,
    /// A rewritten refusal not yet fully written, and how much of it was.
    pending: Vec<u8>,
    written: usize,
}

impl<S: AsyncWrite + Unpin> JsonErrorStream<S> {
    fn new(inner: S) -> Self {
        Self { inner, pending: Vec::new(), written: 0 }
    }

    /// Writes what is left of a rewritten refusal.
    fn drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.pending.len() {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &self.pending[self.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.written += n;
        }
        self.pending.clear();
        self.written = 0;
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for JsonErrorStream<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for JsonErrorStream<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        ready!(self.drain(cx))?;
        if let Some(answer) = parser_refusal(buf) {
            self.pending = answer;
            if let Poll::Ready(Err(e)) = self.drain(cx) {
                return Poll::Ready(Err(e));
            }
            // The rest is written by the flush or shutdown that follows.
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.drain(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.drain(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    /// Not vectored, so that a response head reaches [`Self::poll_write`] in one piece.
    fn is_write_vectored(&self) -> bool {
        false
    }
}

/// The API's listener: its connections are [`JsonErrorStream`]s.
pub(crate) struct JsonErrorListener(pub tokio::net::TcpListener);

impl axum::serve::Listener for JsonErrorListener {
    type Io = JsonErrorStream<tokio::net::TcpStream>;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (stream, addr) = axum::serve::Listener::accept(&mut self.0).await;
        (JsonErrorStream::new(stream), addr)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.0.local_addr()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_empty_parser_refusals_are_rewritten() {
        let head = b"HTTP/1.1 414 URI Too Long\r\ncontent-length: 0\r\ndate: Tue, 01 Dec 2026 13:00:00 GMT\r\n\r\n";
        let answer = String::from_utf8(parser_refusal(head).expect("rewritten")).expect("utf-8");
        assert!(answer.starts_with("HTTP/1.1 414 URI Too Long\r\n"), "{answer}");
        assert!(answer.contains("content-type: application/json\r\n"), "{answer}");
        let body: serde_json::Value =
            serde_json::from_str(answer.split("\r\n\r\n").nth(1).expect("body")).expect("json");
        assert_eq!(body["code"], "URI_TOO_LONG");
        // Answers with a body, other statuses and partial heads pass unchanged.
        assert!(parser_refusal(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 57\r\n\r\n").is_none());
        assert!(parser_refusal(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n").is_none());
        assert!(parser_refusal(b"HTTP/1.1 414 URI Too Long\r\ncontent-length: 0\r\n").is_none());
        assert_eq!(status_code_name(StatusCode::PAYLOAD_TOO_LARGE), "PAYLOAD_TOO_LARGE");
    }
}
