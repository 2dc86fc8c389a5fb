//! A server that answers 429 with `Retry-After`: a read waits as long as it asks and then
//! succeeds; a write is not repeated and says how long to wait. The server is a scripted
//! responder on loopback that answers each request with the next canned response.

use mapflow_desktop::api::{Client, ClientConfig, ErrorKind, RetryPolicy, Token};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Serves `responses` in order, one per request (each on its own connection), and records
/// the request lines.
async fn scripted(responses: Vec<String>) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/rest", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        for response in responses {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 64 * 1024];
            let n = socket.read(&mut buf).await.unwrap();
            let head = String::from_utf8_lossy(&buf[..n]).lines().next().unwrap_or_default().to_owned();
            log.lock().unwrap().push(head);
            socket.write_all(response.as_bytes()).await.unwrap();
            socket.shutdown().await.ok();
        }
    });
    (base, seen)
}

fn response(status: &str, extra: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n{extra}\r\n{body}",
        body.len()
    )
}

fn client(base: &str) -> Client {
    let mut config = ClientConfig::new(base, Token::from_parts("a@b.c", "k"));
    config.retry =
        RetryPolicy { attempts: 3, base_delay: Duration::from_millis(5), max_delay: Duration::from_millis(10) };
    Client::new(config).unwrap()
}

const BUSY: &str = r#"{"code":"TOO_MANY_REQUESTS","message":"Slow down","params":{}}"#;

#[tokio::test]
async fn a_read_waits_as_long_as_retry_after_asks() {
    let (base, seen) =
        scripted(vec![response("429 Too Many Requests", "Retry-After: 1\r\n", BUSY), response("200 OK", "", "[]")])
            .await;
    let started = Instant::now();
    let projects = client(&base).projects().await.unwrap();
    let waited = started.elapsed();
    assert!(projects.is_empty());
    assert_eq!(seen.lock().unwrap().len(), 2, "asked again once");
    assert!(waited >= Duration::from_millis(950), "waited {waited:?}, not the 5 ms backoff");
    assert!(waited < Duration::from_secs(5), "{waited:?}");
}

#[tokio::test]
async fn a_write_is_not_repeated_and_says_how_long_to_wait() {
    let (base, seen) = scripted(vec![response("429 Too Many Requests", "Retry-After: 7\r\n", BUSY)]).await;
    let err = client(&base).create_project("Survey", None).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::RateLimited { retry_after: Some(Duration::from_secs(7)) });
    assert_eq!(seen.lock().unwrap().len(), 1, "sent once");
    assert!(err.is_retryable());
    let text = mapflow_desktop::app::messages::error_text(&err);
    assert!(text.contains("429") && text.contains("7 s"), "{text}");
}
