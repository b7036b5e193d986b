//! The differential test over sockets: every corpus case and a list of malformed
//! requests are sent, byte for byte, to a real HAProxy 2.6 and to wtedge running the
//! same (modernized) config in front of the same loopback servers; both must answer
//! the same way (same server, same redirect, same status; for forwards the same request
//! line and X-Forwarded-For / X-Original-To / Connection values at the server).
//!
//! Needs `haproxy` (`apt-get install -y haproxy`; the README's test command installs it).

use std::net::SocketAddr;
use std::time::Duration;

use local_host::access_log::Logger;
use local_host::run::Running;
use wtedge_tests::client::{self, Source};
use wtedge_tests::corpus::{self, Case, Outcome};
use wtedge_tests::haproxy::{self, Haproxy};
use wtedge_tests::{core, run};

mod common;

fn need_haproxy() {
    if let Err(e) = haproxy::binary() {
        panic!(
            "this test compares wtedge with HAProxy 2.6 and needs it: {e} (apt-get install -y haproxy)"
        );
    }
}

/// A runtime, wtedge running on it, and (frontend name, wtedge address) pairs.
type Edge = (tokio::runtime::Runtime, Running, Vec<(String, SocketAddr)>);

/// wtedge on HAProxy's modernized config: same servers, its own frontend ports.
/// `Err`: wtedge refuses the config.
fn wtedge_for(hap: &Haproxy) -> Result<Edge, String> {
    // The default engine: router-core as wasm in wasmtime.
    let e = common::wtedge_beside(
        hap,
        "modernized.cfg",
        Logger::none(),
        Default::default(),
        Duration::from_secs(2),
    )?;
    Ok((e.rt, e.running, e.addrs))
}

/// `Ok(None)`: wtedge refuses the config (router-core's choice, checked by its own
/// conformance tests), nothing to compare over sockets.
fn run_case(case: &Case) -> Result<Option<Vec<String>>, String> {
    let text = case.config_text()?;
    let hap = Haproxy::start(&text, false)?;
    let Ok((rt, edge, addrs)) = wtedge_for(&hap) else {
        return Ok(None);
    };
    let g = edge.generation();
    for (b, s) in case.down_servers()? {
        hap.force_down(&b, &s)?;
        let id = g
            .config()
            .server_id(&b, &s)
            .ok_or_else(|| format!("no server {b}/{s} in wtedge's config"))?;
        g.engine.force(id, false, local_host::state::now_ms());
    }
    let hap_addr = hap.frontend_addr(case.frontend.as_deref())?;
    let edge_addr = match &case.frontend {
        None => addrs.first().map(|a| a.1),
        Some(f) => addrs.iter().find(|a| &a.0 == f).map(|a| a.1),
    }
    .ok_or("no frontend")?;
    let src = Source::for_case(case.src.as_deref())?;
    let mut seen = Vec::new();
    for (i, req) in case.request.iter().enumerate() {
        let h = client::send(hap_addr, src, req).map_err(|e| format!("haproxy: {e}"))?;
        let w = client::send(edge_addr, src, req).map_err(|e| format!("wtedge #{}: {e}", i + 1))?;
        seen.push((run::observe(&h), run::observe(&w)));
    }
    rt.block_on(edge.stop());

    // router-core's own decisions for the same requests (natively, no sockets), with
    // the requests wtedge's parser refused left out as HAProxy leaves them out.
    let parse_refused = |i: usize| {
        seen.get(i)
            .is_some_and(|(_, w)| w.outcome == Outcome::Respond { status: 400 })
    };
    let core = core::decide_case(case, &parse_refused)?;

    let mut host_diffs = Vec::new();
    let mut core_diffs = 0;
    for (i, (req, (h, w))) in case.request.iter().zip(&seen).enumerate() {
        let same = h.outcome == w.outcome
            && h.upstream_line == w.upstream_line
            && h.xff == w.xff
            && h.original_to == w.original_to
            && h.connection == w.connection;
        if same {
            continue;
        }
        // Whose difference is it? wtedge must do exactly what router-core decided;
        // where router-core itself decides otherwise than HAProxy, the difference is
        // router-core's (its differential test reports it).
        let c = core.get(i).cloned().flatten();
        let core_owned = match &c {
            Some(c) => {
                let xff = c.forwarded_for.iter().cloned().collect::<Vec<_>>();
                let orig = c.original_to.iter().cloned().collect::<Vec<_>>();
                let core_vs_haproxy = c.outcome != h.outcome
                    || (matches!(h.outcome, Outcome::Forward { .. })
                        && (h.xff.last() != xff.last() || h.original_to.last() != orig.last()));
                let wtedge_follows_core = c.outcome == w.outcome
                    && (!matches!(w.outcome, Outcome::Forward { .. })
                        || (w.xff.last() == xff.last() && w.original_to.last() == orig.last()));
                core_vs_haproxy && wtedge_follows_core
            }
            None => false,
        };
        let text = format!(
            "{} request #{} {:?}:\n  haproxy: {} line {:?} xff {:?} orig {:?} conn {:?}\n  wtedge:  {} line {:?} xff {:?} orig {:?} conn {:?}\n  router-core: {:?}",
            case.name,
            i + 1,
            req.line,
            h.outcome,
            h.upstream_line,
            h.xff,
            h.original_to,
            h.connection,
            w.outcome,
            w.upstream_line,
            w.xff,
            w.original_to,
            w.connection,
            c.as_ref().map(|c| c.outcome.to_string()),
        );
        if core_owned {
            core_diffs += 1;
            eprintln!("router-core's difference (wtedge follows router-core): {text}");
        } else {
            host_diffs.push(text);
        }
    }
    let _ = core_diffs;
    Ok(Some(host_diffs))
}

#[test]
fn corpus_through_wtedge_and_haproxy_agree() {
    need_haproxy();
    let cases = corpus::load_all().unwrap_or_else(|e| panic!("corpus: {e}"));
    let filter = std::env::var("WTEDGE_CASE").unwrap_or_default();
    let mut all = Vec::new();
    let (mut ran, mut skipped, mut requests, mut refused) = (0, 0, 0, 0);
    for case in cases.iter().filter(|c| c.name.contains(&filter)) {
        // wtedge does not speak the PROXY protocol the harness needs for
        // non-loopback client addresses.
        if Source::for_case(case.src.as_deref()).is_ok_and(|s| s.needs_accept_proxy()) {
            skipped += 1;
            continue;
        }
        ran += 1;
        requests += case.request.len();
        match run_case(case) {
            Ok(Some(d)) => all.extend(d),
            Ok(None) => {
                refused += 1;
                eprintln!(
                    "{}: wtedge refuses this config (router-core), not compared",
                    case.name
                );
            }
            Err(e) => all.push(format!("{}: {e}", case.name)),
        }
    }
    eprintln!(
        "{} cases ({requests} requests) compared, {skipped} skipped (non-loopback src), \
         {refused} refused by router-core",
        ran - refused
    );
    assert!(ran - refused > 40, "too few cases compared");
    assert!(
        all.is_empty(),
        "{} differences:\n{}",
        all.len(),
        all.join("\n")
    );
}

/// Sends raw bytes, returns what came back before close or 1.5 s of silence.
fn raw(addr: SocketAddr, bytes: &[u8]) -> Vec<u8> {
    wtedge_tests::raw::until_quiet(addr, bytes, Duration::from_millis(1500))
}

fn malformed_cases() -> Vec<(&'static str, Vec<u8>)> {
    let h = b"Host: x\r\n".as_slice();
    let hdrs = |n: usize| -> Vec<u8> {
        (0..n)
            .flat_map(|i| format!("X-{i}: a\r\n").into_bytes())
            .collect()
    };
    let big = |n: usize| "a".repeat(n);
    vec![
        (
            "valid",
            [b"GET /p HTTP/1.1\r\n".as_slice(), h, b"\r\n"].concat(),
        ),
        ("http10", b"GET /p HTTP/1.0\r\n\r\n".to_vec()),
        (
            "bad version",
            [b"GET / HTTP/1.x\r\n".as_slice(), h, b"\r\n"].concat(),
        ),
        (
            "lower-case version",
            [b"GET / http/1.1\r\n".as_slice(), h, b"\r\n"].concat(),
        ),
        ("no version", [b"GET /\r\n".as_slice(), h, b"\r\n"].concat()),
        (
            "four words",
            [b"GET /a b HTTP/1.1\r\n".as_slice(), h, b"\r\n"].concat(),
        ),
        (
            "no target",
            [b"GET HTTP/1.1\r\n".as_slice(), h, b"\r\n"].concat(),
        ),
        (
            "bad method",
            [b"G(T / HTTP/1.1\r\n".as_slice(), h, b"\r\n"].concat(),
        ),
        (
            "extra spaces",
            [b"GET  /  HTTP/1.1\r\n".as_slice(), h, b"\r\n"].concat(),
        ),
        (
            "http 2.0 line",
            [b"GET / HTTP/2.0\r\n".as_slice(), h, b"\r\n"].concat(),
        ),
        (
            "control char in target",
            [b"GET /\x01 HTTP/1.1\r\n".as_slice(), h, b"\r\n"].concat(),
        ),
        (
            "NUL in target",
            [b"GET /\x00 HTTP/1.1\r\n".as_slice(), h, b"\r\n"].concat(),
        ),
        (
            "DEL in target",
            [b"GET /\x7f HTTP/1.1\r\n".as_slice(), h, b"\r\n"].concat(),
        ),
        (
            "8-bit target",
            [b"GET /\xc3\xa9 HTTP/1.1\r\n".as_slice(), h, b"\r\n"].concat(),
        ),
        (
            "fragment in target",
            [b"GET /a#b HTTP/1.1\r\n".as_slice(), h, b"\r\n"].concat(),
        ),
        (
            "quotes in target",
            [b"GET /\"<> HTTP/1.1\r\n".as_slice(), h, b"\r\n"].concat(),
        ),
        (
            "control char in header value",
            [b"GET / HTTP/1.1\r\n".as_slice(), h, b"X-A: a\x01b\r\n\r\n"].concat(),
        ),
        (
            "NUL in header value",
            [b"GET / HTTP/1.1\r\n".as_slice(), h, b"X-A: a\x00b\r\n\r\n"].concat(),
        ),
        (
            "bare CR in header value",
            [b"GET / HTTP/1.1\r\n".as_slice(), h, b"X-A: a\rb\r\n\r\n"].concat(),
        ),
        (
            "space before colon",
            [b"GET / HTTP/1.1\r\n".as_slice(), h, b"X-A : a\r\n\r\n"].concat(),
        ),
        (
            "bad header name",
            [b"GET / HTTP/1.1\r\n".as_slice(), h, b"X(A: a\r\n\r\n"].concat(),
        ),
        (
            "header without colon",
            [b"GET / HTTP/1.1\r\n".as_slice(), h, b"XA\r\n\r\n"].concat(),
        ),
        (
            "empty header name",
            [b"GET / HTTP/1.1\r\n".as_slice(), h, b": a\r\n\r\n"].concat(),
        ),
        (
            "obs-fold",
            [b"GET / HTTP/1.1\r\n".as_slice(), h, b"X-A: a\r\n b\r\n\r\n"].concat(),
        ),
        (
            "conflicting content-length",
            [
                b"POST / HTTP/1.1\r\n".as_slice(),
                h,
                b"Content-Length: 1\r\nContent-Length: 2\r\n\r\nab",
            ]
            .concat(),
        ),
        (
            "content-length list",
            [
                b"POST / HTTP/1.1\r\n".as_slice(),
                h,
                b"Content-Length: 1, 2\r\n\r\nab",
            ]
            .concat(),
        ),
        (
            "same content-length twice",
            [
                b"POST / HTTP/1.1\r\n".as_slice(),
                h,
                b"Content-Length: 2\r\nContent-Length: 2\r\n\r\nab",
            ]
            .concat(),
        ),
        (
            "negative content-length",
            [
                b"POST / HTTP/1.1\r\n".as_slice(),
                h,
                b"Content-Length: -1\r\n\r\nab",
            ]
            .concat(),
        ),
        (
            "content-length +2",
            [
                b"POST / HTTP/1.1\r\n".as_slice(),
                h,
                b"Content-Length: +2\r\n\r\nab",
            ]
            .concat(),
        ),
        (
            "content-length and chunked",
            [
                b"POST / HTTP/1.1\r\n".as_slice(),
                h,
                b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n",
            ]
            .concat(),
        ),
        (
            "chunked not last",
            [
                b"POST / HTTP/1.1\r\n".as_slice(),
                h,
                b"Transfer-Encoding: chunked, gzip\r\n\r\n2\r\nab\r\n0\r\n\r\n",
            ]
            .concat(),
        ),
        (
            "gzip only",
            [
                b"POST / HTTP/1.1\r\n".as_slice(),
                h,
                b"Transfer-Encoding: gzip\r\n\r\n",
            ]
            .concat(),
        ),
        (
            "bad chunk size",
            [
                b"POST / HTTP/1.1\r\n".as_slice(),
                h,
                b"Transfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n",
            ]
            .concat(),
        ),
        (
            "URI of 15000",
            [
                format!("GET /{} HTTP/1.1\r\n", big(15000)).as_bytes(),
                h,
                b"\r\n",
            ]
            .concat(),
        ),
        (
            "URI of 16000",
            [
                format!("GET /{} HTTP/1.1\r\n", big(16000)).as_bytes(),
                h,
                b"\r\n",
            ]
            .concat(),
        ),
        (
            "header of 16000",
            [
                b"GET / HTTP/1.1\r\n".as_slice(),
                h,
                format!("X-A: {}\r\n\r\n", big(16000)).as_bytes(),
            ]
            .concat(),
        ),
        (
            "100 headers",
            [b"GET / HTTP/1.1\r\n".as_slice(), h, &hdrs(99), b"\r\n"].concat(),
        ),
        (
            "101 headers",
            [b"GET / HTTP/1.1\r\n".as_slice(), h, &hdrs(100), b"\r\n"].concat(),
        ),
        ("LF line ends", b"GET / HTTP/1.1\nHost: x\n\n".to_vec()),
        (
            "two different hosts",
            [b"GET / HTTP/1.1\r\n".as_slice(), h, b"Host: y\r\n\r\n"].concat(),
        ),
        (
            "absolute form, other host",
            [b"GET http://h/p HTTP/1.1\r\n".as_slice(), h, b"\r\n"].concat(),
        ),
        (
            "websocket without key",
            [
                b"GET / HTTP/1.1\r\n".as_slice(),
                h,
                b"Upgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
            ]
            .concat(),
        ),
        (
            "empty line first",
            [b"\r\nGET / HTTP/1.1\r\n".as_slice(), h, b"\r\n"].concat(),
        ),
    ]
}

#[test]
fn malformed_requests_get_haproxys_status() {
    need_haproxy();
    let cfg = "defaults\n mode http\n timeout connect 1s\n timeout client 3s\n timeout server 3s\nfrontend fe\n bind 127.0.0.1:1\n default_backend b\nbackend b\n server s1 127.0.0.1:9\n";
    let hap = Haproxy::start(cfg, false).unwrap_or_else(|e| panic!("{e}"));
    let (rt, edge, addrs) = wtedge_for(&hap).unwrap_or_else(|e| panic!("{e}"));
    let hap_addr = hap.frontend_addr(None).unwrap_or_else(|e| panic!("{e}"));
    let edge_addr = addrs[0].1;
    let mut diffs = Vec::new();
    let (mut n400, mut n) = (0, 0);
    for (name, bytes) in malformed_cases() {
        let h = raw(hap_addr, &bytes);
        let w = raw(edge_addr, &bytes);
        let (hs, ws) = (&h[..h.len().min(12)], &w[..w.len().min(12)]);
        n += 1;
        if hs != ws {
            diffs.push(format!(
                "{name}: haproxy {:?}, wtedge {:?}",
                String::from_utf8_lossy(hs),
                String::from_utf8_lossy(ws)
            ));
        } else if hs == b"HTTP/1.1 400" {
            n400 += 1;
            // The whole 400 answer is HAProxy's, byte for byte.
            if h != w {
                diffs.push(format!("{name}: 400 bodies differ"));
            }
        }
    }
    rt.block_on(edge.stop());
    eprintln!("{n} raw requests, {n400} refused with 400 by both");
    assert!(n400 >= 20, "the list must exercise the refusals");
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}
