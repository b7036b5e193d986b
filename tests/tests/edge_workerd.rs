//! The Worker under `wrangler dev` (the real workerd runtime), in front of two mock Wt
//! origins: redirects, default round-robin, affinity by session prefix, the
//! X-Forwarded-* headers, request bodies, retries and redispatch, odd requests,
//! WebSockets (a test client as Chromium's and headless Chromium itself), and failover when an origin is killed (the health Durable
//! Object marks it DOWN after `fall` checks, traffic moves) and comes back (`rise`).
//!
//! `scripts/edge-test.sh` builds the Worker with `edge-worker/config/local-test.cfg`,
//! starts `wrangler dev` and runs this test with `WTEDGE_EDGE_URL` set:
//!
//! ```sh
//! WTEDGE_EDGE_URL=http://127.0.0.1:28787 cargo test -p wtedge-tests --test edge_workerd --features edge --
//! ```
//!
//! The origins listen where the config says: wt1 on 127.0.0.1:28081, wt2 on :28082.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use serde_json::Value;
use wtedge_tests::client::{self, Response, Source};
use wtedge_tests::corpus::Request;
use wtedge_tests::mock_wt::{self, Behaviour, FirstFrame, MockWt};

const WT1: &str = "127.0.0.1:28081";
const WT2: &str = "127.0.0.1:28082";
/// The origin answering Cloudflare's error pages (`wtedge_tests::cf_origin`).
const CF: &str = "127.0.0.1:28083";
const HOST: &str = "app.example.com";

fn edge() -> SocketAddr {
    let url = std::env::var("WTEDGE_EDGE_URL")
        .unwrap_or_else(|_| panic!("WTEDGE_EDGE_URL is not set: run scripts/edge-test.sh"));
    url.trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .unwrap_or_else(|e| panic!("WTEDGE_EDGE_URL {url:?}: {e}"))
}

fn send(method: &str, target: &str, headers: &[&str], body: Option<String>) -> Response {
    let mut h: Vec<String> = headers.iter().map(|s| s.to_string()).collect();
    if !h
        .iter()
        .any(|l| l.to_ascii_lowercase().starts_with("host:"))
    {
        h.push(format!("Host: {HOST}"));
    }
    h.push("Connection: close".into());
    let req = Request {
        line: format!("{method} {target} HTTP/1.1"),
        headers: h,
        body,
        expect: None,
    };
    client::send(edge(), Source::Loopback(Ipv4Addr::LOCALHOST), &req)
        .unwrap_or_else(|e| panic!("{method} {target}: {e}"))
}

fn get(target: &str) -> Response {
    send("GET", target, &[], None)
}

fn body(r: &Response) -> String {
    String::from_utf8_lossy(&r.body).into_owned()
}

fn origin(r: &Response) -> String {
    r.header("x-mock-wt").unwrap_or("-").to_string()
}

fn health() -> Value {
    let r = get("/__wtedge/health");
    assert_eq!(r.status, 200, "health status: {}", body(&r));
    serde_json::from_slice(&r.body).unwrap_or_else(|e| panic!("health JSON: {e}: {}", body(&r)))
}

fn server<'a>(h: &'a Value, path: &str) -> &'a Value {
    h["servers"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["server"] == path))
        .unwrap_or_else(|| panic!("no server {path} in {h}"))
}

fn wait_for(what: &str, timeout: Duration, mut ok: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !ok() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
    start.elapsed()
}

/// The runtime API's token (`WTEDGE_ADMIN_TOKEN`, set by scripts/edge-test.sh).
fn admin_token() -> String {
    std::env::var("WTEDGE_ADMIN_TOKEN")
        .unwrap_or_else(|_| panic!("WTEDGE_ADMIN_TOKEN is not set: run scripts/edge-test.sh"))
}

/// POSTs runtime API commands with `authorization` (a whole header line, if any).
fn admin(authorization: Option<&str>, commands: &str) -> Response {
    let length = format!("Content-Length: {}", commands.len());
    let mut h = vec![length.as_str(), "Content-Type: text/plain"];
    h.extend(authorization);
    send("POST", "/__wtedge/admin", &h, Some(commands.to_string()))
}

/// Runs commands with the token; their answers.
fn admin_ok(commands: &str) -> String {
    let auth = format!("Authorization: Bearer {}", admin_token());
    let r = admin(Some(&auth), commands);
    assert_eq!(r.status, 200, "{commands}: {}", body(&r));
    body(&r)
}

/// Makes the health object forget its in-memory state and load the stored one, as
/// after an eviction (a test hook): `restored` or `fresh`.
fn health_reload() -> String {
    let r = send(
        "POST",
        "/__wtedge/test/health-reload",
        &["Content-Length: 0"],
        Some(String::new()),
    );
    body(&r)
}

/// A new session through the edge: the bootstrap page's id and the origin that made it.
fn new_session() -> (String, String) {
    let r = get("/");
    assert_eq!(r.status, 200);
    let id = mock_wt::session_id_in_page(&body(&r))
        .unwrap_or_else(|| panic!("no session id in {}", body(&r)));
    (id, origin(&r))
}

#[test]
fn worker_in_workerd() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("runtime: {e}"));
    let start = |prefix: &str, addr: &str, first_frame| {
        let addr: SocketAddr = addr.parse().unwrap_or_else(|e| panic!("{e}"));
        rt.block_on(MockWt::start_with(
            prefix,
            addr,
            Behaviour::first_frame(first_frame),
        ))
        .unwrap_or_else(|e| panic!("mock {prefix} on {addr}: {e}"))
    };
    let wt1 = start("wt1", WT1, FirstFrame::WithHead);
    let mut wt2 = start("wt2", WT2, FirstFrame::AfterHead);

    // The Durable Object's checks see both origins UP.
    let up = |h: &Value, s: &str| {
        server(h, s)["up"] == true && server(h, s)["checks"].as_u64() >= Some(2)
    };
    wait_for("both origins checked UP", Duration::from_secs(60), || {
        let h = health();
        up(&h, "bck1/srv1") && up(&h, "bck2/srv2")
    });
    eprintln!("edge: health checks running");

    // Redirects are answered by the edge itself.
    let r = get("/app");
    assert_eq!((r.status, r.header("location")), (301, Some("/app/")));
    let r = send("GET", "/some/page?x=1", &["Host: old.example.org"], None);
    assert_eq!(
        (r.status, r.header("location")),
        (302, Some("https://www.example.org/some/page?x=1"))
    );
    // Only the health checks (OPTIONS /) reached the origins so far.
    let checks_only = |s: &MockWt| s.recorded().iter().all(|r| r.method == "OPTIONS");
    assert!(checks_only(&wt1) && checks_only(&wt2));
    eprintln!("edge: redirects ok");

    // Default round-robin: new sessions alternate between the two origins.
    let sessions: Vec<(String, String)> = (0..10).map(|_| new_session()).collect();
    for pair in sessions.windows(2) {
        assert_ne!(pair[0].1, pair[1].1, "round-robin alternates: {sessions:?}");
    }
    for (id, by) in &sessions {
        assert!(id.starts_with(by.as_str()), "{id} made by {by}");
    }
    eprintln!("edge: round-robin ok");

    // Affinity: every follow-up request of a session reaches the origin that made it.
    for (id, by) in &sessions {
        for t in [
            format!("/?wtd={id}&request=style&page=1"),
            format!("/?wtd={id}&sid=1&deployPath=%2F&request=script&rand=1"),
            format!("/?wtd={id}"),
        ] {
            let r = get(&t);
            assert_eq!((r.status, origin(&r)), (200, by.clone()), "{t}");
            assert!(body(&r).contains(id.as_str()), "{t}: {}", body(&r));
        }
    }
    assert_eq!(wt1.stats().unknown + wt2.stats().unknown, 0);
    eprintln!("edge: affinity ok");

    // The header edits: X-Forwarded-For from CF-Connecting-IP, X-Forwarded-Host and
    // X-Forwarded-Proto for Wt (the origin sees its own name as Host). A header the
    // config never reads (left out of router-core's facts) still reaches the origin.
    let (id1, _) = sessions
        .iter()
        .find(|(_, by)| by == "wt1")
        .cloned()
        .unwrap_or_else(|| panic!("no wt1 session"));
    let target = format!("/?wtd={id1}&xff=1");
    let r = send(
        "GET",
        &target,
        &["CF-Connecting-IP: 203.0.113.7", "X-Wt-Note: not routed on"],
        None,
    );
    assert_eq!(r.status, 200);
    let seen = wt1
        .recorded()
        .into_iter()
        .rev()
        .find(|r| r.target == target)
        .unwrap_or_else(|| panic!("wt1 did not receive {target}"));
    let hdr = |name: &str| -> Vec<&str> {
        seen.headers
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    };
    assert_eq!(
        hdr("x-forwarded-for"),
        ["203.0.113.7"],
        "{:?}",
        seen.headers
    );
    assert_eq!(hdr("x-forwarded-host"), [HOST]);
    assert_eq!(hdr("x-forwarded-proto"), ["http"]);
    assert_eq!(hdr("x-wt-note"), ["not routed on"], "{:?}", seen.headers);
    assert_eq!(hdr("host"), ["localhost:28081"]);
    assert_eq!(seen.method, "GET");
    eprintln!("edge: forwarded headers ok");

    // Bodies: a small form (buffered, retryable), 3 MiB with a length and a chunked one
    // (both streamed), with the method kept.
    let post = |t: &str, headers: &[&str], b: String| send("POST", t, headers, Some(b));
    let t = format!("/?wtd={id1}&request=jsupdate");
    let form = "request=jsupdate&ackId=1&signal=none".to_string();
    let r = post(
        &t,
        &[
            "Content-Type: application/x-www-form-urlencoded",
            &format!("Content-Length: {}", form.len()),
        ],
        form.clone(),
    );
    assert_eq!(body(&r), format!("/* update {id1} {} */", form.len()));
    let big = "a".repeat(3 << 20);
    let r = post(&t, &[&format!("Content-Length: {}", big.len())], big);
    assert_eq!(body(&r), format!("/* update {id1} {} */", 3 << 20));
    let r = post(
        &t,
        &["Transfer-Encoding: chunked"],
        "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n".to_string(),
    );
    assert_eq!(body(&r), format!("/* update {id1} 11 */"));
    eprintln!("edge: request bodies ok");

    // Retries then redispatch: /retry's first server never answers; every request
    // still ends on srv1 (after `retries`, the last attempt redispatched).
    let started = Instant::now();
    for i in 0..4 {
        let r = get(&format!("/retry/{i}"));
        assert_eq!(
            (r.status, origin(&r)),
            (200, "wt1".to_string()),
            "/retry/{i}"
        );
    }
    eprintln!(
        "edge: retries + redispatch ok ({} ms for 4 requests)",
        started.elapsed().as_millis()
    );

    // Cloudflare's answers for an origin it cannot reach (52x, 530, a 1xxx page under
    // a 403) are failed connection attempts: retried (`retries 2`: the first attempt
    // and one retry on `cf`, `use-server` keeps it until the last retry), redispatched
    // to srv1 on the last one, and reported as passive failures. The origin's own
    // errors, and Cloudflare pages about the request (1020), are answers.
    let cf = wtedge_tests::cf_origin::CfOrigin::start(CF.parse().unwrap_or_else(|e| panic!("{e}")))
        .unwrap_or_else(|e| panic!("cf origin on {CF}: {e}"));
    for t in [
        "/cf/522",
        "/cf/520",
        "/cf/526",
        "/cf/530-1016",
        "/cf/403-1003",
    ] {
        let r = get(t);
        assert_eq!((r.status, origin(&r)), (200, "wt1".to_string()), "{t}");
        assert_eq!(cf.count(t), 2, "{t}: {:?}", cf.targets());
    }
    let passive = "passive failure: Cloudflare answered 403 (error 1003)";
    wait_for(
        "the passive report of bck_cf/cf",
        Duration::from_secs(10),
        || server(&health(), "bck_cf/cf")["last"] == passive,
    );
    for (t, status) in [("/own/500", 500), ("/own/503", 503), ("/cf/403-1020", 403)] {
        let r = get(t);
        assert_eq!((r.status, origin(&r)), (status, "-".to_string()), "{t}");
        assert_eq!(cf.count(t), 1, "{t}: {:?}", cf.targets());
    }
    assert!(body(&get("/own/502")).contains("Wt says 502"));
    drop(cf);
    eprintln!("edge: Cloudflare's unreachable-origin answers retried and redispatched ok");

    // The runtime API: HAProxy's CLI verbs behind a bearer token, applied by the
    // health object and by every isolate within its snapshot TTL (200 ms here).
    let r = admin(None, "set server bck_lb/srv2 state drain");
    assert_eq!(r.status, 401, "{}", body(&r));
    assert!(
        r.header("www-authenticate")
            .is_some_and(|v| v.starts_with("Bearer"))
    );
    let wrong = format!("Authorization: Bearer {}x", admin_token());
    assert_eq!(
        admin(Some(&wrong), "set server bck_lb/srv2 state drain").status,
        403
    );
    assert_eq!(
        admin(Some("Authorization: Basic YTpi"), "show servers state").status,
        401
    );
    let r = send(
        "GET",
        "/__wtedge/admin",
        &[&format!("Authorization: Bearer {}", admin_token())],
        None,
    );
    assert_eq!(r.status, 405);
    assert!(
        server(&health(), "bck_lb/srv2")["drain"] == false,
        "refused requests changed nothing"
    );
    // Drain wt2 in the balanced backend: no new session goes to it, its sessions stay.
    assert_eq!(admin_ok("set server bck_lb/srv2 state drain").trim(), "");
    assert!(server(&health(), "bck_lb/srv2")["drain"] == true);
    // `show servers state`, as HAProxy 2.6 prints it: srv_admin_state 8 is
    // SRV_ADMF_FDRAIN; the time since the last change counts from the object's start.
    let state = admin_ok("show servers state bck_lb");
    let srv2: Vec<&str> = state
        .lines()
        .find(|l| l.split(' ').nth(3) == Some("srv2"))
        .unwrap_or_else(|| panic!("no srv2 in {state:?}"))
        .split(' ')
        .collect();
    assert_eq!((srv2[1], srv2[6]), ("bck_lb", "8"), "{state:?}");
    assert!(srv2[9].parse::<u64>().is_ok_and(|s| s < 3600), "{state:?}");
    std::thread::sleep(Duration::from_millis(600));
    for _ in 0..6 {
        assert_eq!(
            new_session().1,
            "wt1",
            "a drained server gets no new session"
        );
    }
    let (id2, _) = sessions
        .iter()
        .find(|(_, by)| by == "wt2")
        .cloned()
        .unwrap_or_else(|| panic!("no wt2 session"));
    let r = get(&format!("/?wtd={id2}&request=style"));
    assert_eq!(
        (r.status, origin(&r)),
        (200, "wt2".to_string()),
        "its sessions stay"
    );
    // The state is in the object's storage: it comes back after an eviction.
    assert_eq!(health_reload(), "restored");
    let h = health();
    assert!(
        h["restored"] == true && server(&h, "bck_lb/srv2")["drain"] == true,
        "{h}"
    );
    // Maintenance of bck2/srv2: its sessions move to wt1 (bck_lb/srv2 tracks it).
    admin_ok("set server bck_lb/srv2 state ready; set server bck2/srv2 state maint");
    std::thread::sleep(Duration::from_millis(600));
    let r = get(&format!("/?wtd={id2}&request=style"));
    assert_eq!(origin(&r), "wt1", "maint: no traffic at all");
    // Weight 0 for bck_lb/srv1: new sessions go to srv2 only.
    let out = admin_ok(
        "set server bck2/srv2 state ready\nset server bck_lb/srv1 weight 0\nget weight bck_lb/srv1",
    );
    assert_eq!(out.trim(), "0 (initial 1)", "{out:?}");
    wait_for(
        "bck2/srv2 UP after maintenance",
        Duration::from_secs(30),
        || server(&health(), "bck2/srv2")["up"] == true,
    );
    std::thread::sleep(Duration::from_millis(600));
    for _ in 0..4 {
        assert_eq!(new_session().1, "wt2", "weight 0: no new session on srv1");
    }
    admin_ok("set server bck_lb/srv1 weight 1");
    let out = admin_ok("set server bck_lb/nope state drain");
    assert!(out.contains("No such server."), "{out:?}");
    std::thread::sleep(Duration::from_millis(600));
    let by: Vec<String> = (0..4).map(|_| new_session().1).collect();
    assert!(
        by.contains(&"wt1".to_string()) && by.contains(&"wt2".to_string()),
        "{by:?}"
    );
    eprintln!("edge: runtime API (drain, maint, weight) ok, state restored from storage");

    // Odd requests end in an HTTP answer, and the isolate survives them.
    let long_query = format!("/?q={}", "x".repeat(6000));
    let huge_header = format!("X-Huge: {}", "h".repeat(12_000));
    let odd: Vec<(String, Vec<String>)> = vec![
        ("GET /%ZZ%?wtd=%%%".into(), vec![]),
        ("GET /?wtd=wt9AAAA&wtd=wt1BBBB".into(), vec![]),
        (format!("GET {long_query}"), vec![]),
        ("GET /".into(), vec![huge_header]),
        ("FOO /".into(), vec![]),
        ("GET /".into(), vec!["Cookie: \u{1}bad".into()]),
        ("GET /".into(), vec!["CF-Connecting-IP: not-an-ip".into()]),
        ("GET /../../etc/passwd".into(), vec![]),
    ];
    for (line, headers) in &odd {
        let (m, t) = line.split_once(' ').unwrap_or(("GET", "/"));
        let h: Vec<&str> = headers.iter().map(String::as_str).collect();
        let r = send(m, t, &h, None);
        assert!(
            r.status != 500 || !body(&r).contains("internal server error occurred"),
            "{line}: {} {}",
            r.status,
            body(&r)
        );
        eprintln!("edge: odd request {:.60} -> {}", line, r.status);
    }
    assert_eq!(get("/app").status, 301, "the worker still answers");

    // WebSocket: the upgrade goes to the origin on a connection of its own, messages
    // both ways, with both of Wt's
    // timings (wt1 writes `connect` with the 101, wt2 right after it), opened as a plain
    // client and as Chromium opens it (gzip in Accept-Encoding, permessage-deflate). The
    // upgrade reaches Wt without gzip in Accept-Encoding (Wt 4.14 would gzip the 101 and
    // its frames, which no browser reads), though workerd adds `br, gzip` on its own.
    use mock_wt::client::{Browser, websocket_to};
    for (id, by) in sessions.iter().take(4) {
        for browser in [Browser::Plain, Browser::Chrome] {
            rt.block_on(async {
                let t = format!("/?wtd={id}&request=ws");
                // The page's host: Wt checks the socket's Origin against it.
                let mut ws = websocket_to(edge(), HOST, &t, browser)
                    .await
                    .unwrap_or_else(|e| panic!("websocket {by} {browser:?}: {e}"));
                assert_eq!(
                    ws.text().await.as_deref(),
                    Ok("connect"),
                    "{by} {browser:?}: {}",
                    ws.head
                );
                assert_eq!(ws.deflate(), browser == Browser::Chrome, "{}", ws.head);
                for m in ["hello", "&signal=none&connected=0"] {
                    assert!(ws.send(m).await);
                    assert_eq!(ws.text().await, Ok(format!("{id}:{m}")));
                }
                ws.ping(b"keepalive")
                    .await
                    .unwrap_or_else(|e| panic!("ping: {e}"));
                ws.close().await;
            });
        }
    }
    rt.block_on(async {
        let refused = websocket_to(
            edge(),
            HOST,
            "/?wtd=wt2XXXXXXXXXXXXXXXX&request=ws",
            Browser::Plain,
        )
        .await;
        assert!(
            refused.as_ref().is_err_and(|e| e.contains("403")),
            "unknown id: {:?}",
            refused.err()
        );
    });
    let (s1, s2) = (wt1.stats(), wt2.stats());
    assert_eq!(s1.ws_accepted + s2.ws_accepted, 8, "{s1:?} {s2:?}");
    assert_eq!(
        (s1.ws_gzipped, s2.ws_gzipped),
        (0, 0),
        "Wt was asked to gzip a 101"
    );
    // Each upgrade came on a connection of its own (Wt 4.14 fails one on a reused
    // connection), with no extension offered to the server: the client's deflate is
    // the runtime's business.
    assert_eq!((s1.ws_reused_connection, s2.ws_reused_connection), (0, 0));
    assert_eq!(s1.ws_deflate + s2.ws_deflate, 0);
    for upgrade in wt1
        .recorded()
        .into_iter()
        .chain(wt2.recorded())
        .filter(|r| r.target.contains("request=ws"))
    {
        assert!(
            !upgrade
                .header("accept-encoding")
                .unwrap_or("")
                .contains("gzip"),
            "{:?}",
            upgrade.headers
        );
    }
    eprintln!("edge: websocket ok");

    // A real browser: headless Chromium loads the mock Wt's page through the Worker;
    // the page's script opens the session's WebSocket as Wt's does and reports.
    let url = format!("http://{}/", edge());
    let mut owners = Vec::new();
    for n in 0..4 {
        if n % 2 == 1 {
            // A page load is two round-robin picks (page, favicon): shift by one.
            assert_eq!(get("/resources/x.css").status, 200);
        }
        let (id, outcome) =
            wtedge_tests::browser::session_through(&url, &[&wt1, &wt2], Duration::from_secs(30))
                .unwrap_or_else(|e| panic!("browser session {n}: {e}"));
        assert_eq!(
            outcome,
            wtedge_tests::browser::Outcome::WebSocketWorks,
            "browser session {n} ({id})"
        );
        owners.push(id[..3].to_string());
    }
    assert!(
        owners.iter().any(|o| o == "wt1") && owners.iter().any(|o| o == "wt2"),
        "{owners:?}"
    );
    let (s1, s2) = (wt1.stats(), wt2.stats());
    assert_eq!((s1.ws_gzipped, s2.ws_gzipped), (0, 0));
    assert_eq!((s1.ws_reused_connection, s2.ws_reused_connection), (0, 0));
    eprintln!("edge: 4 Chromium sessions, WebSocket working in each ({owners:?})");

    // Failover: kill wt2. The Durable Object marks bck2/srv2 DOWN after `fall` (3)
    // failed checks; traffic moves to wt1 (wt2's sessions are lost, as with HAProxy).
    rt.block_on(wt2.kill());
    let took = wait_for("bck2/srv2 DOWN", Duration::from_secs(30), || {
        server(&health(), "bck2/srv2")["up"] == false
    });
    let h = health();
    let t = h["transitions"]
        .as_array()
        .and_then(|t| t.iter().rev().find(|t| t["server"] == "bck2/srv2"))
        .unwrap_or_else(|| panic!("no transition in {h}"))
        .clone();
    assert_eq!(
        (t["up"].as_bool(), t["consecutive"].as_u64()),
        (Some(false), Some(3)),
        "{t}"
    );
    assert!(
        t["line"]
            .as_str()
            .is_some_and(|l| l.contains("tracking it: bck_lb/srv2")),
        "{t}"
    );
    assert!(server(&h, "bck_lb/srv2")["up"] == false);
    eprintln!(
        "edge: wt2 DOWN {} ms after the kill: {}",
        took.as_millis(),
        t["line"]
    );
    // Give isolates their snapshot refresh (WTEDGE_HEALTH_TTL_MS), then: new sessions
    // and wt2's ids all go to wt1.
    std::thread::sleep(Duration::from_millis(1500));
    for _ in 0..6 {
        let (id, by) = new_session();
        assert_eq!(by, "wt1", "{id}");
    }
    let (id2, _) = sessions
        .iter()
        .find(|(_, by)| by == "wt2")
        .cloned()
        .unwrap_or_else(|| panic!("no wt2 session"));
    let r = get(&format!("/?wtd={id2}"));
    assert_eq!((r.status, origin(&r)), (200, "wt1".to_string()));
    eprintln!("edge: failover ok");

    // Recovery: wt2 comes back and is UP after `rise` (2) passing checks.
    wt2 = start("wt2", WT2, FirstFrame::AfterHead);
    wait_for("bck2/srv2 UP again", Duration::from_secs(30), || {
        server(&health(), "bck2/srv2")["up"] == true
    });
    let h = health();
    let t = h["transitions"]
        .as_array()
        .and_then(|t| t.iter().rev().find(|t| t["server"] == "bck2/srv2"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        (t["up"].as_bool(), t["consecutive"].as_u64()),
        (Some(true), Some(2)),
        "{t}"
    );
    std::thread::sleep(Duration::from_millis(1500));
    let by: Vec<String> = (0..4).map(|_| new_session().1).collect();
    assert!(by.contains(&"wt2".to_string()), "{by:?}");
    eprintln!("edge: recovery ok");

    // The transitions log is stored with the states.
    let before = health()["transitions"].clone();
    assert!(before.as_array().is_some_and(|t| t.len() >= 2), "{before}");
    assert_eq!(health_reload(), "restored");
    assert_eq!(health()["transitions"], before);
    eprintln!("edge: transitions log restored from storage");
    drop((wt1, wt2));
}
