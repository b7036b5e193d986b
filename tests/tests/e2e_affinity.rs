//! End to end over real sockets: two mock Wt origins (prefixes wt1 / wt2) behind wtedge
//! running the seed's session-affinity config (tests/corpus/configs/seed2.cfg, with
//! loopback addresses and `inter 200` on the checks so that a failure is seen quickly);
//! sessions by a test client and by headless Chromium.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use local_host::access_log::Logger;
use local_host::run::{Options, Running};
use tokio::sync::Semaphore;
use wtedge_tests::mock_wt::client::{Browser, Conn, websocket_as};
use wtedge_tests::mock_wt::{Behaviour, FirstFrame, MockWt, pages, session_id_in_page};

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// seed2.cfg with its addresses moved to loopback test ports.
fn seed2(front: u16, wt1: SocketAddr, wt2: SocketAddr) -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/configs/seed2.cfg");
    let text = std::fs::read_to_string(path).expect("seed2.cfg");
    text.replace("bind 0.0.0.0:80", &format!("bind 127.0.0.1:{front}"))
        .replace("0.0.0.0:9090", &wt1.to_string())
        .replace("0.0.0.0:9091", &wt2.to_string())
        .replace(" check\n", " check inter 200\n")
}

struct Setup {
    wt1: Option<MockWt>,
    wt2: MockWt,
    edge: Running,
    front: SocketAddr,
}

/// wt1 writes its first WebSocket frame with the 101 head, wt2 right after it: both
/// of Wt's timings in every test.
async fn setup() -> Setup {
    let wt1 = MockWt::start_local_with("wt1", Behaviour::first_frame(FirstFrame::WithHead))
        .await
        .expect("wt1");
    let wt2 = MockWt::start_local_with("wt2", Behaviour::first_frame(FirstFrame::AfterHead))
        .await
        .expect("wt2");
    let port = free_port();
    let cfg = seed2(port, wt1.addr(), wt2.addr());
    let edge = Running::start(
        "seed2.cfg",
        &cfg,
        Options {
            admin: None,
            logger: Logger::none(),
            grace: Duration::from_secs(5),
            // The default engine: router-core as wasm in wasmtime.
            engine: Default::default(),
        },
    )
    .await
    .unwrap_or_else(|e| panic!("{e}\n{cfg}"));
    Setup {
        wt1: Some(wt1),
        wt2,
        edge,
        front: SocketAddr::from(([127, 0, 0, 1], port)),
    }
}

fn prefix(id: &str) -> &str {
    &id[..3]
}

/// One browser session: bootstrap, style, script, an event POST, a WebSocket with one
/// message. Every answer must come from the server that owns the id.
async fn session(front: SocketAddr) -> Result<String, String> {
    session_as(front, Browser::Plain).await
}

/// A session whose WebSocket is opened with `browser`'s upgrade request.
async fn session_as(front: SocketAddr, browser: Browser) -> Result<String, String> {
    let mut c = Conn::open(front).await.map_err(|e| e.to_string())?;
    let boot = c.get("/").await.map_err(|e| format!("bootstrap: {e}"))?;
    if boot.status != 200 {
        return Err(format!("bootstrap status {}", boot.status));
    }
    let id = session_id_in_page(&boot.body).ok_or("no id in bootstrap page")?;
    let owner = prefix(&id).to_string();
    let check = |what: &str, a: &wtedge_tests::mock_wt::client::Answer, want: &str| {
        if a.status != 200 || a.header("x-mock-wt") != Some(owner.as_str()) || a.body != want {
            Err(format!(
                "{what} of {id}: status {} from {:?}: {:?}",
                a.status,
                a.header("x-mock-wt"),
                a.body
            ))
        } else {
            Ok(())
        }
    };
    let a = c
        .get(&format!("/?wtd={id}&request=style&page=1"))
        .await
        .map_err(|e| e.to_string())?;
    check("style", &a, &format!("/* style {id} */"))?;
    let a = c
        .get(&format!(
            "/?wtd={id}&sid=1&deployPath=%2F&request=script&rand=7"
        ))
        .await
        .map_err(|e| e.to_string())?;
    check("script", &a, &pages::script(&id))?;
    let form = "request=jsupdate&ackId=0&signal=none";
    let a = c
        .send(
            "POST",
            &format!("/?wtd={id}"),
            &[("content-type", "application/x-www-form-urlencoded")],
            form,
        )
        .await
        .map_err(|e| e.to_string())?;
    check("jsupdate", &a, &format!("/* update {id} {} */", form.len()))?;
    let mut ws = websocket_as(front, &format!("/?wtd={id}&request=ws"), browser)
        .await
        .map_err(|e| format!("websocket of {id}: {e}"))?;
    let connect = ws.text().await;
    if connect.as_deref() != Ok("connect") {
        return Err(format!("websocket of {id}: no connect frame: {connect:?}"));
    }
    if ws.deflate() != (browser == Browser::Chrome) {
        return Err(format!(
            "websocket of {id}: deflate {}: {}",
            ws.deflate(),
            ws.head
        ));
    }
    ws.send("&signal=none&connected=0").await;
    let echo = ws.text().await;
    if echo.as_deref() != Ok(&format!("{id}:&signal=none&connected=0")) {
        return Err(format!("websocket of {id}: echo {echo:?}"));
    }
    ws.close().await;
    Ok(id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_sessions_keep_full_affinity() {
    let s = setup().await;
    let limit = Arc::new(Semaphore::new(32));
    let mut set = tokio::task::JoinSet::new();
    let started = Instant::now();
    for n in 0..1000 {
        let limit = limit.clone();
        let front = s.front;
        // Every other session's WebSocket is opened as Chromium opens it (gzip in
        // Accept-Encoding, permessage-deflate offered and used).
        let browser = if n % 2 == 0 {
            Browser::Plain
        } else {
            Browser::Chrome
        };
        set.spawn(async move {
            let _p = limit.acquire_owned().await;
            tokio::time::timeout(Duration::from_secs(30), session_as(front, browser))
                .await
                .unwrap_or_else(|_| Err("session hung".into()))
        });
    }
    let mut ids = Vec::new();
    let mut errors = Vec::new();
    while let Some(r) = set.join_next().await {
        match r.expect("session task") {
            Ok(id) => ids.push(id),
            Err(e) => errors.push(e),
        }
    }
    assert!(
        errors.is_empty(),
        "{} failures, first: {:?}",
        errors.len(),
        &errors[..errors.len().min(5)]
    );
    assert_eq!(ids.len(), 1000);
    let (w1, w2) = (s.wt1.as_ref().expect("wt1").stats(), s.wt2.stats());
    // 100% affinity: no origin ever saw an id it did not issue.
    assert_eq!(
        (w1.unknown, w2.unknown, w1.ws_refused, w2.ws_refused),
        (0, 0, 0, 0)
    );
    assert_eq!(w1.ws_accepted + w2.ws_accepted, 1000);
    // Wt never saw gzip in an upgrade's Accept-Encoding; Chromium's deflate went through.
    assert_eq!((w1.ws_gzipped, w2.ws_gzipped), (0, 0));
    assert_eq!(w1.ws_deflate + w2.ws_deflate, 500);
    assert!(
        w1.ws_accepted >= 400 && w2.ws_accepted >= 400,
        "{w1:?} {w2:?}"
    );
    // Round-robin spread the bootstraps over both servers.
    assert_eq!(w1.bootstraps + w2.bootstraps, 1000);
    assert!(
        w1.bootstraps >= 400 && w2.bootstraps >= 400,
        "{w1:?} {w2:?}"
    );
    eprintln!(
        "1000 sessions (5000 requests + 1000 WebSockets) in {:?}",
        started.elapsed()
    );
    s.edge.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_upgrade_drops_accept_encoding() {
    let s = setup().await;
    let wt1 = s.wt1.as_ref().expect("wt1");
    let id = wt1.new_session();
    // Raw upgrade with Accept-Encoding (the Wt 4.14 compression bug's trigger).
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut c = tokio::net::TcpStream::connect(s.front)
        .await
        .expect("connect");
    let req = format!(
        "GET /?wtd={id}&request=ws HTTP/1.1\r\nHost: x\r\nOrigin: http://x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nAccept-Encoding: gzip, deflate\r\n\r\n"
    );
    c.write_all(req.as_bytes()).await.expect("write");
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), c.read(&mut buf))
        .await
        .expect("101 in time")
        .expect("read");
    let head = String::from_utf8_lossy(&buf[..n]).to_string();
    // Wt's own reason phrase, passed through.
    assert!(
        head.starts_with("HTTP/1.1 101 Switching Protocol\r\n"),
        "{head}"
    );
    assert!(
        !head.to_ascii_lowercase().contains("content-encoding"),
        "{head}"
    );
    assert!(
        head.to_ascii_lowercase()
            .contains("sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo="),
        "{head}"
    );
    let seen = wt1.recorded();
    let up = seen
        .iter()
        .find(|r| r.target.contains("request=ws"))
        .expect("upgrade seen");
    assert!(
        !up.headers.iter().any(|(k, _)| k == "accept-encoding"),
        "{:?}",
        up.headers
    );
    assert!(
        up.headers
            .iter()
            .any(|(k, v)| k == "connection" && v == "Upgrade")
    );
    assert!(
        up.headers
            .iter()
            .any(|(k, v)| k == "x-forwarded-for" && v == "127.0.0.1")
    );
    // Closing the client side closes the server side: the origin sees EOF and the
    // tunnel ends; a new session still works afterwards.
    drop(c);
    assert!(session(s.front).await.is_ok());
    s.edge.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failover_when_an_origin_dies_and_recovery_after_rise() {
    let mut s = setup().await;
    // Let the first checks pass.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut ids = Vec::new();
    for _ in 0..40 {
        ids.push(session(s.front).await.expect("healthy session"));
    }
    let (ids1, ids2): (Vec<_>, Vec<_>) = ids.iter().cloned().partition(|i| i.starts_with("wt1"));
    assert!(!ids1.is_empty() && !ids2.is_empty());

    // Kill wt1 while requests run.
    let wt1 = s.wt1.take().expect("wt1");
    let wt1_addr = wt1.kill().await;
    let killed_at = Instant::now();
    let generation = s.edge.generation();
    let cfg = generation.config();
    let srv1 = cfg.server_id("bck1", "srv1").expect("bck1/srv1");

    let slowest = Arc::new(AtomicU64::new(0));
    let mut failed_over = 0;
    let mut round = 0;
    // Keep sending the sessions' follow-ups until wt1's sessions have failed over.
    while failed_over < ids1.len() {
        round += 1;
        assert!(round < 200, "wt1's sessions never failed over");
        for id in &ids1 {
            let t = Instant::now();
            let mut c = Conn::open(s.front).await.expect("connect");
            let a = tokio::time::timeout(
                Duration::from_secs(15),
                c.get(&format!("/?wtd={id}&request=style&page=1")),
            )
            .await
            .expect("a request hung");
            slowest.fetch_max(t.elapsed().as_millis() as u64, Ordering::Relaxed);
            let Ok(a) = a else { continue };
            if a.status == 200 && a.header("x-mock-wt") == Some("wt2") {
                // Wt's answer to an unknown id: a new session on the other server.
                assert_eq!(a.body, pages::EMPTY_PAGE);
                failed_over += 1;
            } else {
                assert!(matches!(a.status, 502 | 503), "{} {:?}", a.status, a.body);
            }
        }
        if failed_over < ids1.len() {
            failed_over = 0;
        }
    }
    assert!(
        !generation.engine.is_up(srv1),
        "failover happens once bck1/srv1 is DOWN"
    );
    eprintln!(
        "wt1 DOWN and its sessions failed over {:?} after the kill; slowest request {} ms",
        killed_at.elapsed(),
        slowest.load(Ordering::Relaxed)
    );
    // The browser reloads: a new session, now on wt2, and it works fully.
    let id = session(s.front).await.expect("new session after failover");
    assert!(id.starts_with("wt2"));
    // wt2's own sessions were untouched.
    for id in &ids2 {
        let mut c = Conn::open(s.front).await.expect("connect");
        let a = c
            .get(&format!("/?wtd={id}&request=style&page=1"))
            .await
            .expect("wt2 session");
        assert_eq!(
            (a.status, a.body.clone()),
            (200, format!("/* style {id} */"))
        );
    }
    assert!(s.wt2.stats().unknown as usize >= ids1.len());

    // Restart wt1 on the same port: UP again after `rise` (2) checks of `inter` 200 ms.
    let wt1 = MockWt::start("wt1", wt1_addr).await.expect("restart wt1");
    let restarted = Instant::now();
    while !generation.engine.is_up(srv1) {
        assert!(
            restarted.elapsed() < Duration::from_secs(3),
            "bck1/srv1 not UP after rise checks"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let up_after = restarted.elapsed();
    assert!(
        up_after >= Duration::from_millis(150),
        "UP needs 2 checks, took {up_after:?}"
    );
    eprintln!("wt1 UP again {up_after:?} after restart");
    let mut prefixes = std::collections::HashSet::new();
    for _ in 0..6 {
        let id = session(s.front).await.expect("session after recovery");
        prefixes.insert(prefix(&id).to_string());
    }
    assert_eq!(prefixes.len(), 2, "round-robin uses both servers again");
    assert_eq!(wt1.stats().unknown, 0);
    s.edge.stop().await;
}

/// wtedge forwards every byte of a WebSocket in order under load: 200 sockets at once
/// (wt1 writes its first frame in the 101's segment, wt2 right after it; half of them
/// deflated as Chromium's), 40 pipelined messages of 0-3,000 bytes each way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websockets_under_load_keep_every_byte_in_order() {
    let s = setup().await;
    let wt1 = s.wt1.as_ref().expect("wt1");
    let mut set = tokio::task::JoinSet::new();
    for n in 0..200 {
        let id = if n % 2 == 0 {
            wt1.new_session()
        } else {
            s.wt2.new_session()
        };
        let front = s.front;
        let browser = if n % 4 < 2 {
            Browser::Plain
        } else {
            Browser::Chrome
        };
        set.spawn(async move {
            let t = format!("/?wtd={id}&request=ws");
            let mut ws = websocket_as(front, &t, browser)
                .await
                .map_err(|e| format!("{id}: {e}"))?;
            let first = ws.text().await;
            if first.as_deref() != Ok("connect") {
                return Err(format!("{id}: first message {first:?} after {:?}", ws.head));
            }
            let msgs: Vec<String> = (0..40)
                .map(|i| format!("m{i}:{}", "x".repeat((i * 377 + n) % 3000)))
                .collect();
            for m in &msgs {
                if !ws.send(m).await {
                    return Err(format!("{id}: send failed"));
                }
            }
            for m in &msgs {
                let got = ws.text().await.map_err(|e| format!("{id}: {e}"))?;
                if got != format!("{id}:{m}") {
                    return Err(format!("{id}: out of order: {:.40} for {:.40}", got, m));
                }
            }
            ws.close().await;
            Ok::<_, String>(())
        });
    }
    let mut errors = Vec::new();
    while let Some(r) = set.join_next().await {
        if let Err(e) = r.expect("task") {
            errors.push(e);
        }
    }
    assert!(
        errors.is_empty(),
        "{} failed: {:?}",
        errors.len(),
        &errors[..errors.len().min(5)]
    );
    let (w1, w2) = (wt1.stats(), s.wt2.stats());
    assert_eq!(w1.ws_messages + w2.ws_messages, 200 * 40);
    s.edge.stop().await;
}

/// A real browser through wtedge: headless Chromium (Debian's `chromium`) loads the mock
/// Wt's page; the page opens its session's WebSocket as Wt's script does (Chromium's own
/// upgrade request: `Accept-Encoding: gzip, deflate, br, zstd`, a `permessage-deflate`
/// offer) and reports whether `connect` arrived and an event went through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_sessions_keep_a_working_websocket() {
    use wtedge_tests::browser::{Outcome, session_through};
    let s = setup().await;
    let wt1 = s.wt1.as_ref().expect("wt1");
    let url = format!("http://{}/", s.front);
    let mut owners = Vec::new();
    for n in 0..4 {
        if n % 2 == 1 {
            // Each page load is two round-robin picks (the page, /favicon.ico): one
            // more request moves the next session to the other server.
            let a = wtedge_tests::mock_wt::client::get(s.front, "/resources/x.css").await;
            assert_eq!(a.map(|a| a.status).ok(), Some(200));
        }
        let got = tokio::task::block_in_place(|| {
            session_through(&url, &[wt1, &s.wt2], Duration::from_secs(30))
        });
        let (id, outcome) = got.unwrap_or_else(|e| panic!("session {n}: {e}"));
        assert_eq!(outcome, Outcome::WebSocketWorks, "session {n} ({id})");
        owners.push(prefix(&id).to_string());
    }
    assert!(
        owners.iter().any(|o| o == "wt1") && owners.iter().any(|o| o == "wt2"),
        "{owners:?}"
    );
    let (s1, s2) = (wt1.stats(), s.wt2.stats());
    // Every socket spoke permessage-deflate with Chromium, none was gzipped, no session
    // reached the wrong server.
    assert_eq!(s1.ws_accepted + s2.ws_accepted, 4, "{s1:?} {s2:?}");
    assert_eq!(s1.ws_deflate + s2.ws_deflate, 4);
    assert_eq!((s1.ws_gzipped, s2.ws_gzipped), (0, 0));
    assert_eq!((s1.unknown, s2.unknown), (0, 0));
    let upgrades: Vec<_> = wt1
        .recorded()
        .into_iter()
        .chain(s.wt2.recorded())
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
    s.edge.stop().await;
}
