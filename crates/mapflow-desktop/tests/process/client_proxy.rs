//! The client honours `HTTP_PROXY` and `NO_PROXY`: with a forwarding proxy on loopback named
//! in the environment, requests to the sandbox go through it; listed in `NO_PROXY`, the host
//! is reached directly; with the proxy down, the error names the proxy.

use mapflow_desktop::api::{Client, ClientConfig, ErrorKind, RetryPolicy};
use mapflow_desktop::sandbox::SandboxConfig;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use testkit::sandbox_setup::StrictSandbox;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A plain-HTTP forwarding proxy: reads an absolute-form request line, connects to its host
/// and relays the rest. Counts the requests it forwarded.
async fn forwarding_proxy() -> (std::net::SocketAddr, Arc<AtomicUsize>, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    let task = tokio::spawn(async move {
        loop {
            let Ok((mut inbound, _)) = listener.accept().await else { return };
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                let Ok(n) = inbound.read(&mut buf).await else { return };
                let head = String::from_utf8_lossy(&buf[..n]).into_owned();
                let line = head.lines().next().unwrap_or_default().to_owned();
                let mut parts = line.split(' ');
                let (method, target) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
                let Ok(url) = reqwest::Url::parse(target) else { return };
                let host =
                    format!("{}:{}", url.host_str().unwrap_or_default(), url.port_or_known_default().unwrap_or(80));
                let Ok(mut outbound) = tokio::net::TcpStream::connect(host).await else { return };
                seen.fetch_add(1, Ordering::SeqCst);
                let path = match url.query() {
                    Some(q) => format!("{}?{q}", url.path()),
                    None => url.path().to_owned(),
                };
                let rewritten = head.replacen(&line, &format!("{method} {path} HTTP/1.1"), 1);
                if outbound.write_all(rewritten.as_bytes()).await.is_err() {
                    return;
                }
                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
            });
        }
    });
    (addr, count, task)
}

fn client(base: &str) -> Client {
    let mut config = ClientConfig::new(base, mapflow_desktop::sandbox::demo_token());
    config.retry =
        RetryPolicy { attempts: 1, base_delay: Duration::from_millis(5), max_delay: Duration::from_millis(5) };
    Client::new(config).unwrap()
}

#[tokio::test]
async fn requests_go_through_the_environments_proxy() {
    let _state = crate::exclusive();
    // On 127.0.0.2: 127.0.0.1 itself is never proxied, and the test is about the proxy.
    let addr = std::net::SocketAddr::from(([127, 0, 0, 2], 0));
    let sandbox = StrictSandbox::start(SandboxConfig { addr, ..SandboxConfig::default() });
    let (proxy, forwarded, task) = forwarding_proxy().await;
    // SAFETY: the only test of this binary; the variables are set before any client reads them.
    unsafe {
        std::env::set_var("HTTP_PROXY", format!("http://user:secret@{proxy}"));
        std::env::remove_var("NO_PROXY");
        std::env::remove_var("no_proxy");
    }
    let c = client(&sandbox.base_url());
    assert_eq!(c.proxy(), Some(format!("http://{proxy}").as_str()), "named without its credentials");
    let status = c.user_status().await.unwrap();
    assert_eq!(status.email, mapflow_desktop::sandbox::DEMO_EMAIL);
    assert!(forwarded.load(Ordering::SeqCst) >= 1, "the request went through the proxy");

    // Listed in NO_PROXY, the sandbox is reached directly.
    unsafe { std::env::set_var("NO_PROXY", "localhost,127.0.0.2") };
    let before = forwarded.load(Ordering::SeqCst);
    let direct = client(&sandbox.base_url());
    assert_eq!(direct.proxy(), None);
    direct.user_status().await.unwrap();
    assert_eq!(forwarded.load(Ordering::SeqCst), before, "not through the proxy");

    // With the proxy gone, the error says which proxy was used, and never its password.
    unsafe { std::env::remove_var("NO_PROXY") };
    task.abort();
    let _ = task.await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let err = client(&sandbox.base_url()).user_status().await.unwrap_err();
    let ErrorKind::Network(detail) = &err.kind else { panic!("{err:?}") };
    assert!(detail.contains(&format!("through the proxy http://{proxy}")), "{detail}");
    assert!(!format!("{err:?}").contains("secret"));
    let text = mapflow_desktop::app::messages::error_text(&err);
    assert!(text.contains("proxy"), "{text}");
}
