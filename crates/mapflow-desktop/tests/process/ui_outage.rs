//! The app while its server goes away and comes back: the top bar says since when it has
//! not answered, Retry asks again, and once it answers the app recovers without a restart.
//! The server sits behind a loopback relay the test can cut (connections are accepted and
//! dropped, as a reset) or answer with a gateway's HTML error page.

use crate::support;
use testkit::sandbox_setup::StrictSandbox;

use egui_kittest::kittest::Queryable;
use mapflow_desktop::api::Reach;
use mapflow_desktop::sandbox::{Fault, FaultAction, SandboxConfig};
use mapflow_desktop::worker::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use support::{TestApp, app, app_mut, wait_for};

/// A TCP relay on loopback to `target`; while `cut` is set, connections are dropped at once.
struct Relay {
    addr: std::net::SocketAddr,
    cut: Arc<AtomicBool>,
    _runtime: tokio::runtime::Runtime,
}

impl Relay {
    fn start(target: std::net::SocketAddr) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let cut = Arc::new(AtomicBool::new(false));
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
        let addr = listener.local_addr().unwrap();
        let flag = cut.clone();
        runtime.spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else { continue };
                if flag.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let flag = flag.clone();
                tokio::spawn(async move {
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await else { return };
                    // A kept-alive connection is cut too, at its next request.
                    let copy = tokio::io::copy_bidirectional(&mut inbound, &mut outbound);
                    let watch = async {
                        while !flag.load(Ordering::SeqCst) {
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                    };
                    tokio::select! { _ = copy => {}, _ = watch => {} }
                });
            }
        });
        Self { addr, cut, _runtime: runtime }
    }

    /// Cuts (or restores) the link; open connections close within a few polls.
    fn set_cut(&self, cut: bool) {
        self.cut.store(cut, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(150));
    }
}

fn down(h: &egui_kittest::Harness<'_, TestApp>) -> bool {
    matches!(app(h).state.reach, Some(Reach::NotAnswering { .. }))
}

#[test]
fn the_server_goes_away_and_comes_back() {
    let _state = crate::exclusive();
    let sandbox = StrictSandbox::start(SandboxConfig::default());
    let target: std::net::SocketAddr =
        sandbox.base_url().trim_start_matches("http://").split('/').next().unwrap().parse().unwrap();
    let relay = Relay::start(target);
    let server = format!("http://{}/rest", relay.addr);
    assert!(sandbox.base_url().ends_with("/rest"), "{}", sandbox.base_url());

    let mut h = support::harness();
    support::sign_in_to(&mut h, &server, sandbox.token().expose());
    support::open_project(&mut h, "Default project");
    assert_eq!(app(&h).state.reach, Some(Reach::Answering));
    assert!(app(&h).state.results.is_empty(), "the other server's results left the map");
    let notices: Vec<&str> = app(&h).state.notices.iter().map(|n| n.text.as_str()).collect();
    assert!(notices.is_empty(), "no spurious error from the previous server's project: {notices:?}");

    // The server goes away: the next request fails and the top bar says so.
    relay.set_cut(true);
    // The account's periodic refresh is the next request.
    app_mut(&mut h).state.follow_up.push(Command::RefreshStatus);
    wait_for(&mut h, "the server marked as not answering", down);
    assert!(h.query_all_by_label_contains("Server not answering since").next().is_some());
    if std::env::var("DEBUG_SHOT").is_ok() {
        h.render().unwrap().save("/tmp/shots/outage-en-1280.png").unwrap();
        h.set_size(egui::vec2(1024.0, 680.0));
        mapflow_desktop::app::Language::Russian.activate();
        h.run_steps(4);
        h.render().unwrap().save("/tmp/shots/outage-ru-1024.png").unwrap();
        mapflow_desktop::app::Language::English.activate();
        h.set_size(egui::vec2(1280.0, 800.0));
        h.run_steps(4);
    }
    h.get_by_label("Retry").click();
    h.run_steps(5);
    assert!(down(&h), "still away");

    // It comes back: Retry finds it, and the app goes on without a restart.
    relay.set_cut(false);
    h.get_by_label("Retry").click();
    wait_for(&mut h, "the server answering again", |h| app(h).state.reach == Some(Reach::Answering));
    assert!(app(&h).state.notices.iter().any(|n| n.text == "The server answers again."));
    assert!(h.query_all_by_label_contains("Server not answering").next().is_none());
    h.get_by_label(mapflow_desktop::sandbox::DEMO_EMAIL);
    wait_for(&mut h, "the processings again", |h| app(h).state.processings.value().is_some());

    // A gateway's HTML error page counts as not answering too, and clears the same way.
    sandbox.faults().inject(Fault::new("*", "/rest/*", FaultAction::Html(502)));
    app_mut(&mut h).state.follow_up.push(Command::RefreshStatus);
    wait_for(&mut h, "the gateway error marked", down);
    sandbox.faults().clear();
    h.get_by_label("Retry").click();
    wait_for(&mut h, "the server answering again", |h| app(h).state.reach == Some(Reach::Answering));
}
