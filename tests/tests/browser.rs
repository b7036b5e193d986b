//! A real browser through wtedge: headless Chromium (Debian's `chromium`) loads the
//! mock Wt's page through wtedge running the seed's session-affinity config; the
//! page opens its session's WebSocket as Wt's script does (Chromium's own upgrade
//! request: `Accept-Encoding: gzip, deflate, br, zstd`, a `permessage-deflate`
//! offer) and reports whether `connect` arrived and an event went through. wt1 writes
//! its first frame with the 101, wt2 right after it.

use std::net::SocketAddr;
use std::time::Duration;

use local_host::access_log::Logger;
use local_host::run::{Options, Running};
use wtedge_tests::browser::{Outcome, session_through};
use wtedge_tests::mock_wt::{Behaviour, FirstFrame, MockWt};

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_sessions_keep_a_working_websocket_through_wtedge() {
    let wt1 = MockWt::start_local_with("wt1", Behaviour::first_frame(FirstFrame::WithHead))
        .await
        .expect("wt1");
    let wt2 = MockWt::start_local_with("wt2", Behaviour::first_frame(FirstFrame::AfterHead))
        .await
        .expect("wt2");
    let port = free_port();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/configs/seed2.cfg");
    let cfg = std::fs::read_to_string(path)
        .expect("seed2.cfg")
        .replace("bind 0.0.0.0:80", &format!("bind 127.0.0.1:{port}"))
        .replace("0.0.0.0:9090", &wt1.addr().to_string())
        .replace("0.0.0.0:9091", &wt2.addr().to_string());
    let edge = Running::start(
        "seed2.cfg",
        &cfg,
        Options {
            admin: None,
            logger: Logger::none(),
            grace: Duration::from_secs(5),
            engine: Default::default(),
        },
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let front = SocketAddr::from(([127, 0, 0, 1], port));
    let url = format!("http://{front}/");
    let mut owners = Vec::new();
    for n in 0..4 {
        if n % 2 == 1 {
            // Each page load is two round-robin picks (the page, /favicon.ico): one
            // more request moves the next session to the other server.
            let a = wtedge_tests::mock_wt::client::get(front, "/resources/x.css").await;
            assert_eq!(a.map(|a| a.status).ok(), Some(200));
        }
        let got = tokio::task::block_in_place(|| {
            session_through(&url, &[&wt1, &wt2], Duration::from_secs(30))
        });
        let (id, outcome) = got.unwrap_or_else(|e| panic!("session {n}: {e}"));
        assert_eq!(outcome, Outcome::WebSocketWorks, "session {n} ({id})");
        owners.push(id[..3].to_string());
    }
    assert!(
        owners.iter().any(|o| o == "wt1") && owners.iter().any(|o| o == "wt2"),
        "{owners:?}"
    );
    let (s1, s2) = (wt1.stats(), wt2.stats());
    // Every socket spoke permessage-deflate with Chromium, none was gzipped, no session
    // reached the wrong server.
    assert_eq!(s1.ws_accepted + s2.ws_accepted, 4, "{s1:?} {s2:?}");
    assert_eq!(s1.ws_deflate + s2.ws_deflate, 4);
    assert_eq!((s1.ws_gzipped, s2.ws_gzipped), (0, 0));
    assert_eq!((s1.unknown, s2.unknown), (0, 0));
    let upgrades: Vec<_> = wt1
        .recorded()
        .into_iter()
        .chain(wt2.recorded())
        .filter(|r| r.target.contains("request=ws"))
        .collect();
    assert_eq!(upgrades.len(), 4);
    for u in &upgrades {
        assert!(
            u.header("user-agent").is_some_and(|v| v.contains("Chrome")),
            "{u:?}"
        );
        assert!(u.header("accept-encoding").is_none(), "{u:?}");
    }
    eprintln!("4 Chromium sessions through wtedge, WebSocket working in each; owners {owners:?}");
    edge.stop().await;
}
