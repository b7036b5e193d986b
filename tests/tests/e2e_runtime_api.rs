//! The runtime API against HAProxy 2.6: the wiki's session-affinity config (seed
//! config 2) with a second frontend written with `srv_is_up`, run by HAProxy and by
//! wtedge (wasm and native) side by side. The same CLI commands go to every side's
//! `stats socket`; their answers (texts and refusals), the `show servers state` and
//! `show stat` columns wtedge fills, and where the same requests land after each
//! state change (drain, maint, weight 0, stopping, ready) must be HAProxy's.
//!
//! Needs `haproxy` (`apt-get install -y haproxy`).

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use local_host::access_log::Logger;
use local_host::engine_choice::EngineChoice;
use wtedge_tests::client::{self, Source};
use wtedge_tests::corpus::{Outcome, Request};
use wtedge_tests::haproxy::{self, Haproxy};
use wtedge_tests::run;

mod common;

/// Seed config 2 (frontend `wiki`) and the same rules guarded by `srv_is_up`
/// (frontend `safe`). `use-server ... if TRUE` in bck1/bck2: without it a request
/// sent to a backend whose only server drains gets a 503 (HAProxy 2.6, seen), as
/// balancing skips a draining server; the wiki's frontend never gets there.
fn config() -> String {
    format!(
        "\
defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
frontend wiki
    bind 127.0.0.1:8080
    acl srv1 url_sub wtd=wt1
    acl srv2 url_sub wtd=wt2
    acl srv1_up nbsrv(bck1) gt 0
    acl srv2_up nbsrv(bck2) gt 0
    use_backend bck1 if srv1_up srv1
    use_backend bck2 if srv2_up srv2
    default_backend bck_lb
frontend safe
    bind 127.0.0.1:8081
{safe}backend bck_lb
    balance roundrobin
    server srv1 127.0.0.1:9090 track bck1/srv1
    server srv2 127.0.0.1:9091 track bck2/srv2
backend bck1
    balance roundrobin
    use-server srv1 if TRUE
    server srv1 127.0.0.1:9090 check inter 1s
backend bck2
    balance roundrobin
    use-server srv2 if TRUE
    server srv2 127.0.0.1:9091 check inter 1s
",
        safe = common::WT_SAFE_RULES
    )
}

/// An interactive (`prompt`) conversation: each line sent, then what came back
/// until the side stopped writing (a pause of 300 ms), then whether it closed
/// after `quit`.
fn conversation(socket: &Path, lines: &[&str]) -> Result<Vec<String>, String> {
    let mut s = UnixStream::connect(socket).map_err(|e| format!("{}: {e}", socket.display()))?;
    s.set_read_timeout(Some(Duration::from_millis(300)))
        .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for line in lines {
        s.write_all(format!("{line}\n").as_bytes())
            .map_err(|e| e.to_string())?;
        let mut got = Vec::new();
        let mut buf = [0u8; 65536];
        loop {
            match s.read(&mut buf) {
                Ok(0) => {
                    got.extend_from_slice(b"<closed>");
                    break;
                }
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(_) => break,
            }
        }
        out.push(format!("{line:?} -> {:?}", String::from_utf8_lossy(&got)));
    }
    Ok(out)
}

/// One side: where its frontends listen and its CLI socket.
struct Side {
    name: &'static str,
    wiki: std::net::SocketAddr,
    safe: std::net::SocketAddr,
    socket: PathBuf,
}

/// The columns of `show servers state` wtedge claims: be_id, be_name, srv_id,
/// srv_name, srv_addr, srv_op_state, srv_admin_state, srv_uweight, srv_iweight,
/// srv_port.
fn servers_state(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            if f.len() < 19 || l.starts_with('#') {
                return l.to_string();
            }
            [0, 1, 2, 3, 4, 5, 6, 7, 8, 18]
                .iter()
                .map(|&i| f[i])
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

/// The `show stat` columns wtedge claims, by name, for every row (the check's
/// last status, code and health depend on when checks ran: not compared).
fn stat_columns(text: &str) -> Vec<String> {
    const CLAIMED: &[&str] = &[
        "pxname",
        "svname",
        "qcur",
        "scur",
        "status",
        "weight",
        "act",
        "bck",
        "pid",
        "iid",
        "sid",
        "tracked",
        "type",
        "check_rise",
        "check_fall",
        "addr",
        "mode",
        "algo",
        "uweight",
    ];
    let mut lines = text.lines();
    let header: Vec<&str> = lines
        .next()
        .unwrap_or("")
        .trim_start_matches("# ")
        .split(',')
        .collect();
    let mut out = vec![header.join(",")];
    for l in lines.filter(|l| !l.is_empty()) {
        let f: Vec<&str> = l.split(',').collect();
        out.push(
            CLAIMED
                .iter()
                .map(|c| {
                    let v = header.iter().position(|h| h == c).and_then(|i| f.get(i));
                    let v = v.copied().unwrap_or("?");
                    // The state, without the check counters of a state changing
                    // ("UP 1/3": when the next check runs is not compared).
                    let v = match v.rsplit_once(' ') {
                        Some((state, n)) if c == &"status" && n.contains('/') => state,
                        _ => v,
                    };
                    format!("{c}={v}")
                })
                .collect::<Vec<_>>()
                .join(" "),
        );
    }
    out
}

fn request(target: &str) -> Request {
    Request {
        line: format!("GET {target} HTTP/1.1"),
        headers: vec!["Host: sample.com".into()],
        body: None,
        expect: None,
    }
}

/// Where `target` lands on `addr`: `backend/server`, or the status.
fn lands(addr: std::net::SocketAddr, target: &str) -> Result<String, String> {
    let resp = client::send(addr, Source::for_case(None)?, &request(target))
        .map_err(|e| format!("{addr}: {e}"))?;
    Ok(match run::observe(&resp).outcome {
        Outcome::Forward { backend, server } => format!("{backend}/{server}"),
        other => format!("({other})"),
    })
}

/// What a side shows after a step: its answers and where requests land.
fn observe(side: &Side, commands: &[&str]) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for cmd in commands {
        out.push(format!("`{cmd}` -> {:?}", common::ask(&side.socket, cmd)?));
    }
    out.extend(servers_state(&common::ask(
        &side.socket,
        "show servers state",
    )?));
    out.extend(stat_columns(&common::ask(&side.socket, "show stat")?));
    for (fe, addr) in [("wiki", side.wiki), ("safe", side.safe)] {
        for target in [
            "/?wtd=wt1AAAAAAAAAAAAAAAA",
            "/?wtd=wt2AAAAAAAAAAAAAAAA",
            "/",
            "/",
            "/",
        ] {
            out.push(format!("{fe} {target} -> {}", lands(addr, target)?));
        }
    }
    Ok(out)
}

/// The steps: commands sent to every side, then what each shows.
const STEPS: &[&[&str]] = &[
    &[],
    &["set server bck1/srv1 state drain"],
    &["set server bck1/srv1 state maint"],
    &["set server bck1/srv1 state ready"],
    &["set server bck2/srv2 weight 0", "get weight bck2/srv2"],
    &["set server bck2/srv2 weight 100%", "get weight bck2/srv2"],
    &["set server bck2/srv2 health stopping"],
    &["set server bck2/srv2 health down"],
    &["set server bck2/srv2 health up", "disable server bck1/srv1"],
    &["enable server bck1/srv1", "set server bck1/srv1 weight 7"],
    &[
        "set server bck1/srv1 state drain",
        "set server bck1/srv1 state maint",
    ],
    &[
        "set server bck1/srv1 state ready",
        "set server bck1/srv1 weight 1",
    ],
    // Refusals and errors.
    &[
        "set server bck1/srv1 agent up",
        "set server bck9/srv1 state drain",
        "set server bck1/srv9 state drain",
        "set server bck1/srv1 state foo",
        "set server bck1/srv1 weight 300",
        "set server bck1/srv1 weight x",
        "set server bck1/srv1 weight 5x",
        "set server bck1/srv1 weight -5%",
        "set server bck_lb/srv1 health down",
        "set server bck1/srv1 health foo",
        "set server bck1",
        "set server bck1/srv1",
        "show servers state nope",
        "show stat nope -1 -1",
        "show backend",
        "show cli level",
        "user; set server bck1/srv1 state drain",
        "operator; set server bck1/srv1 state drain; show cli level",
        "user; disable server bck1/srv1",
        "operator; enable server bck1/srv1",
        "user; operator",
        "show backend; show cli level",
    ],
];

#[test]
fn runtime_api_and_admin_states_match_haproxy() {
    if let Err(e) = haproxy::binary() {
        panic!("this test compares wtedge with HAProxy 2.6 and needs it: {e}");
    }
    let hap = Haproxy::start(&config(), false).unwrap_or_else(|e| panic!("{e}"));
    let hap_side = Side {
        name: "haproxy",
        wiki: hap
            .frontend_addr(Some("wiki"))
            .unwrap_or_else(|e| panic!("{e}")),
        safe: hap
            .frontend_addr(Some("safe"))
            .unwrap_or_else(|e| panic!("{e}")),
        socket: hap.dir().join("admin.sock"),
    };
    let dir = haproxy::TempDir::new("runtime-api").unwrap_or_else(|e| panic!("{e}"));
    let mut edges = Vec::new();
    for (name, engine) in [
        ("wtedge (wasm)", EngineChoice::EmbeddedWasm),
        ("wtedge (native)", EngineChoice::Native),
    ] {
        let (text, addrs) = hap.config_for_wtedge().unwrap_or_else(|e| panic!("{e}"));
        let socket = dir.path().join(format!("{}.sock", edges.len()));
        let text = text.replacen(
            "global\n",
            &format!(
                "global\n    stats socket {} level admin\n",
                socket.display()
            ),
            1,
        );
        assert!(
            text.contains("stats socket"),
            "no global section in\n{text}"
        );
        let addr = |fe: &str| {
            addrs
                .iter()
                .find(|(n, _)| n == fe)
                .map(|(_, a)| *a)
                .unwrap_or_else(|| panic!("no frontend {fe}"))
        };
        let side = Side {
            name,
            wiki: addr("wiki"),
            safe: addr("safe"),
            socket,
        };
        let edge = common::wtedge_on(
            &text,
            addrs.clone(),
            "runtime.cfg",
            Logger::none(),
            engine,
            Duration::from_secs(1),
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        edges.push((side, edge));
    }
    // Let every side's first checks pass (HAProxy starts checked servers "UP 1/3").
    std::thread::sleep(Duration::from_millis(2500));
    let mut diffs = Vec::new();
    for (i, step) in STEPS.iter().enumerate() {
        let want = observe(&hap_side, step).unwrap_or_else(|e| panic!("haproxy: {e}"));
        // The trap this is about, as HAProxy shows it: draining srv1 (step 1) sends
        // its sessions elsewhere under the wiki's nbsrv() guard, not under
        // srv_is_up(); maint (step 2) moves them under both.
        let wt1 = "/?wtd=wt1AAAAAAAAAAAAAAAA";
        let expected: &[String] = match i {
            1 => &[
                format!("wiki {wt1} -> bck_lb/srv2"),
                format!("safe {wt1} -> bck1/srv1"),
            ],
            2 => &[
                format!("wiki {wt1} -> bck_lb/srv2"),
                format!("safe {wt1} -> bck_lb/srv2"),
            ],
            _ => &[],
        };
        for line in expected {
            assert!(want.contains(line), "haproxy: no `{line}` in\n{want:#?}");
        }
        for (side, _) in &edges {
            let got = observe(side, step).unwrap_or_else(|e| panic!("{}: {e}", side.name));
            for (k, (w, g)) in want.iter().zip(&got).enumerate() {
                if w != g {
                    diffs.push(format!(
                        "step {i} {step:?}, line {k}:\n  haproxy: {w}\n  {}: {g}",
                        side.name
                    ));
                }
            }
            if want.len() != got.len() {
                diffs.push(format!(
                    "step {i}: {} lines from haproxy, {} from {}",
                    want.len(),
                    got.len(),
                    side.name
                ));
            }
        }
    }
    // Interactive mode: prompts after each command (each of a `;` line), quit closes.
    let talk = [
        "prompt",
        "show backend",
        "set server bck1/srv1 weight 1; show cli level",
        "user",
        "set server bck1/srv1 state drain",
        "quit",
    ];
    let want = conversation(&hap_side.socket, &talk).unwrap_or_else(|e| panic!("haproxy: {e}"));
    assert!(want[0].ends_with("> \""), "haproxy's prompt: {want:?}");
    for (side, _) in &edges {
        let got = conversation(&side.socket, &talk).unwrap_or_else(|e| panic!("{e}"));
        if got != want {
            diffs.push(format!(
                "prompt mode:\n  haproxy: {want:?}\n  {}: {got:?}",
                side.name
            ));
        }
    }
    for (_, e) in edges {
        e.rt.block_on(e.running.stop());
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}

/// The stats page on a proxy's own port: `stats uri`, `stats auth` (401 with the
/// realm, then the page with the credentials), `;csv` (HAProxy's header and rows).
#[test]
fn stats_page_csv_and_auth_match_haproxy() {
    if let Err(e) = haproxy::binary() {
        panic!("this test compares wtedge with HAProxy 2.6 and needs it: {e}");
    }
    let text = "defaults\n    mode http\n    timeout connect 2s\n    timeout client 10s\n    \
        timeout server 10s\nlisten st\n    bind 127.0.0.1:8082\n    stats enable\n    \
        stats uri /st\n    stats auth admin:secret\n    stats realm Wt\\ stats\n    \
        server s1 127.0.0.1:9092 check inter 1s\n    server s2 127.0.0.1:9093\n";
    let hap = Haproxy::start(text, false).unwrap_or_else(|e| panic!("{e}"));
    let hap_addr = hap
        .frontend_addr(Some("st"))
        .unwrap_or_else(|e| panic!("{e}"));
    let edge = common::wtedge_beside(
        &hap,
        "stats.cfg",
        Logger::none(),
        EngineChoice::EmbeddedWasm,
        Duration::from_secs(1),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    std::thread::sleep(Duration::from_millis(1500));
    let ask = |addr, target: &str, auth: bool| {
        let mut req = request(target);
        if auth {
            req.headers
                .push("Authorization: Basic YWRtaW46c2VjcmV0".into());
        }
        let r = client::send(addr, Source::for_case(None)?, &req).map_err(|e| e.to_string())?;
        let body = String::from_utf8_lossy(&r.body).into_owned();
        let shown = if r.status == 200 {
            stat_columns(&body).join("\n")
        } else {
            body
        };
        Ok::<_, String>(format!(
            "{} {:?} {:?}\n{shown}",
            r.status,
            r.header("content-type"),
            r.header("www-authenticate"),
        ))
    };
    let mut diffs = Vec::new();
    for (target, auth) in [("/st;csv", false), ("/st;csv", true), ("/st;csv;up", true)] {
        // Each side's first check runs at start; on a loaded machine wtedge's may
        // finish later than the sleep above: the two agree within 10 s or differ.
        let mut tries = 0;
        let (want, got) = loop {
            let want = ask(hap_addr, target, auth).unwrap_or_else(|e| panic!("haproxy: {e}"));
            let got = ask(edge.addrs[0].1, target, auth).unwrap_or_else(|e| panic!("wtedge: {e}"));
            tries += 1;
            if want == got || tries == 20 {
                break (want, got);
            }
            std::thread::sleep(Duration::from_millis(500));
        };
        if want != got {
            diffs.push(format!(
                "{target} (auth {auth}):\n  haproxy: {want}\n  wtedge: {got}"
            ));
        }
    }
    edge.rt.block_on(edge.running.stop());
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}

/// Runtime weights in round-robin's proportions: HAProxy's
/// `fwrr_update_server_weight()` repositions a server when `set server B/S weight`
/// changes it (up, down, to 0 and back, in percent, on a backup); the same
/// requests, one at a time, must land on the same servers on every side.
#[test]
fn runtime_weights_move_round_robin_as_haproxy() {
    if let Err(e) = haproxy::binary() {
        panic!("this test compares wtedge with HAProxy 2.6 and needs it: {e}");
    }
    let text = "defaults\n    mode http\n    timeout connect 2s\n    timeout client 10s\n    \
        timeout server 10s\nfrontend fe\n    bind 127.0.0.1:8080\n    default_backend b\n\
        backend b\n    balance roundrobin\n    server s1 127.0.0.1:9090 weight 1\n    \
        server s2 127.0.0.1:9091 weight 2\n    server s3 127.0.0.1:9092 weight 3\n    \
        server s4 127.0.0.1:9093 weight 5\n    server s5 127.0.0.1:9094 weight 5 backup\n";
    let hap = Haproxy::start(text, false).unwrap_or_else(|e| panic!("{e}"));
    let mut sides = vec![(
        "haproxy".to_string(),
        hap.frontend_addr(Some("fe"))
            .unwrap_or_else(|e| panic!("{e}")),
        hap.dir().join("admin.sock"),
    )];
    let dir = haproxy::TempDir::new("weights").unwrap_or_else(|e| panic!("{e}"));
    let mut edges = Vec::new();
    for (name, engine) in [
        ("wtedge (wasm)", EngineChoice::EmbeddedWasm),
        ("wtedge (native)", EngineChoice::Native),
    ] {
        let (cfg, addrs) = hap.config_for_wtedge().unwrap_or_else(|e| panic!("{e}"));
        let socket = dir.path().join(format!("{}.sock", edges.len()));
        let cfg = cfg.replacen(
            "global\n",
            &format!(
                "global\n    stats socket {} level admin\n",
                socket.display()
            ),
            1,
        );
        let edge = common::wtedge_on(
            &cfg,
            addrs.clone(),
            "weights.cfg",
            Logger::none(),
            engine,
            Duration::from_secs(1),
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        sides.push((name.to_string(), addrs[0].1, socket));
        edges.push(edge);
    }
    let steps: &[(&[&str], usize)] = &[
        (&[], 7),
        (&["set server b/s1 weight 4"], 13),
        (&["set server b/s3 weight 1"], 9),
        (&["set server b/s2 weight 0"], 5),
        (&["set server b/s2 weight 10"], 11),
        (
            &["set server b/s1 weight 50%", "set server b/s4 weight 7"],
            17,
        ),
        (
            &[
                "set server b/s1 weight 0",
                "set server b/s2 weight 0",
                "set server b/s3 weight 0",
                "set server b/s4 weight 0",
            ],
            3,
        ),
        (&["set server b/s5 weight 2", "set server b/s3 weight 3"], 8),
    ];
    let mut seen = Vec::new();
    for (name, addr, socket) in &sides {
        let mut out = Vec::new();
        for (commands, n) in steps {
            for cmd in *commands {
                let said = common::ask(socket, cmd).unwrap_or_else(|e| panic!("{name}: {e}"));
                out.push(format!("`{cmd}` -> {said:?}"));
            }
            let lands: Vec<String> = (0..*n)
                .map(|_| lands(*addr, "/").unwrap_or_else(|e| panic!("{name}: {e}")))
                .collect();
            out.push(lands.join(" "));
        }
        seen.push((name.clone(), out));
    }
    for e in edges {
        e.rt.block_on(e.running.stop());
    }
    let (_, want) = &seen[0];
    // The weights matter on HAProxy's side: s1 at weight 4 takes more than at 1.
    assert!(
        want[2].matches("b/s1").count() > want[0].matches("b/s1").count(),
        "{want:#?}"
    );
    let mut diffs = Vec::new();
    for (name, got) in &seen[1..] {
        for (w, g) in want.iter().zip(got) {
            if w != g {
                diffs.push(format!("  haproxy: {w}\n  {name}: {g}"));
            }
        }
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}

/// The stats page's admin forms (`stats admin if COND`) against HAProxy 2.6: the
/// form wtedge's own HTML page offers (its action, field names and backend value)
/// is posted to both sides; every answer's 303 `Location` (`;st=DONE|PART|NONE|
/// ERRP|DENY`) and the server states that follow must be HAProxy's. Headless
/// Chromium then loads wtedge's page: the rows carry the state classes and the
/// form is there once Chromium has parsed it.
#[test]
fn stats_page_admin_forms_match_haproxy() {
    if let Err(e) = haproxy::binary() {
        panic!("this test compares wtedge with HAProxy 2.6 and needs it: {e}");
    }
    let text = "defaults\n    mode http\n    timeout connect 2s\n    timeout client 10s\n    \
        timeout server 10s\nlisten st\n    bind 127.0.0.1:8082\n    stats enable\n    \
        stats uri /st\n    stats admin if { path_beg /st }\n    \
        server s1 127.0.0.1:9092\n    server s2 127.0.0.1:9093\n    server s3 127.0.0.1:9094 backup\n\
        listen ro\n    bind 127.0.0.1:8083\n    stats enable\n    stats uri /ro\n    \
        server r1 127.0.0.1:9095\n";
    let hap = Haproxy::start(text, false).unwrap_or_else(|e| panic!("{e}"));
    let edge = common::wtedge_beside(
        &hap,
        "admin.cfg",
        Logger::none(),
        EngineChoice::EmbeddedWasm,
        Duration::from_secs(1),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let addr = |list: &[(String, std::net::SocketAddr)], n: &str| {
        list.iter()
            .find(|(x, _)| x == n)
            .map(|(_, a)| *a)
            .unwrap_or_else(|| panic!("no {n}"))
    };
    let hap_addrs: Vec<(String, std::net::SocketAddr)> = ["st", "ro"]
        .iter()
        .map(|n| {
            let a = hap.frontend_addr(Some(n)).unwrap_or_else(|e| panic!("{e}"));
            (n.to_string(), a)
        })
        .collect();

    // wtedge's page: the form a browser would post.
    let page = client::send(
        addr(&edge.addrs, "st"),
        Source::for_case(None).unwrap(),
        &request("/st"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let html = String::from_utf8_lossy(&page.body).into_owned();
    assert!(
        html.contains("<form method=\"post\" action=\"/st\">"),
        "{html}"
    );
    let b = html
        .split("name=\"b\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap_or_else(|| panic!("no backend field in\n{html}"))
        .replace('#', "%23");
    for s in ["s1", "s2", "s3"] {
        assert!(
            html.contains(&format!("name=\"s\" value=\"{s}\"")),
            "no checkbox for {s}"
        );
    }

    let post = |a: std::net::SocketAddr, target: &str, body: &str| -> String {
        let req = Request {
            line: format!("POST {target} HTTP/1.1"),
            headers: vec![
                "Host: sample.com".into(),
                "Content-Type: application/x-www-form-urlencoded".into(),
                format!("Content-Length: {}", body.len()),
            ],
            body: Some(body.to_string()),
            expect: None,
        };
        let r = client::send(a, Source::for_case(None).unwrap(), &req)
            .unwrap_or_else(|e| panic!("{a}: {e}"));
        format!("{} {:?}", r.status, r.header("location"))
    };
    let forms: &[(&str, &str, String)] = &[
        ("st", "/st", format!("s=s2&action=drain&b={b}")),
        ("st", "/st;up", format!("s=s1&s=s3&action=maint&b={b}")),
        ("st", "/st", format!("s=s1&s=nope&action=ready&b={b}")),
        ("st", "/st", format!("action=ready&b={b}")),
        ("st", "/st", format!("s=s1&action=explode&b={b}")),
        ("st", "/st", "s=s1&action=ready&b=nosuch".to_string()),
        ("st", "/st", "s=s1&action=ready&b=st".to_string()),
        ("st", "/st", format!("s=s2&action=stop&b={b}")),
        ("st", "/st", format!("s=s3&action=enable&b={b}")),
        ("ro", "/ro", "s=r1&action=maint&b=ro".to_string()),
    ];
    let mut diffs = Vec::new();
    for (fe, target, body) in forms {
        let want = post(addr(&hap_addrs, fe), target, body);
        let got = post(addr(&edge.addrs, fe), target, body);
        let states = |list: &[(String, std::net::SocketAddr)], uri: &str| {
            let r = client::send(
                addr(list, fe),
                Source::for_case(None).unwrap(),
                &request(&format!("{uri};csv")),
            )
            .unwrap_or_else(|e| panic!("{e}"));
            String::from_utf8_lossy(&r.body)
                .lines()
                .skip(1)
                .map(|l| {
                    l.split(',')
                        .take(2)
                        .chain(l.split(',').nth(17))
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .collect::<Vec<_>>()
                .join("; ")
        };
        let (ws, gs) = (states(&hap_addrs, target), states(&edge.addrs, target));
        if want != got || ws != gs {
            diffs.push(format!(
                "POST {target} {body}:\n  haproxy: {want} | {ws}\n  wtedge:  {got} | {gs}"
            ));
        }
    }
    // The page after an action shows HAProxy's notice.
    let done = client::send(
        addr(&edge.addrs, "st"),
        Source::for_case(None).unwrap(),
        &request("/st;st=DONE"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        String::from_utf8_lossy(&done.body).contains("Action processed successfully."),
        "no notice"
    );

    // Chromium's DOM of wtedge's page: the state classes and the form survive parsing.
    let dir = haproxy::TempDir::new("stats-dom").unwrap_or_else(|e| panic!("{e}"));
    let url = format!("http://{}/st", addr(&edge.addrs, "st"));
    let out = std::process::Command::new(wtedge_tests::browser::CHROMIUM)
        .args(wtedge_tests::browser::HEADLESS)
        .arg(format!("--user-data-dir={}", dir.path().display()))
        .args(["--dump-dom", &url])
        .output()
        .unwrap_or_else(|e| panic!("chromium: {e}"));
    let dom = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "<tr class=\"backup_no_check\">",
        "<tr class=\"active_draining\">",
        "<tr class=\"frontend\">",
        "<select name=\"action\">",
        "<input type=\"submit\" value=\"Apply\">",
    ] {
        assert!(
            dom.contains(needle),
            "chromium's DOM lacks {needle}:\n{dom}"
        );
    }
    edge.rt.block_on(edge.running.stop());
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}

/// `be_conn(B)` and `srv_conn(B/S)` count the streams in flight as HAProxy 2.6
/// does: two slow requests (`/hold/`) occupy a backend's two servers, and the
/// requests sent meanwhile are routed on those counts; once the slow ones are
/// answered the counts are 0 again. The same steps, in the same order, on every side.
#[test]
fn be_conn_and_srv_conn_count_streams_in_flight_as_haproxy() {
    if let Err(e) = haproxy::binary() {
        panic!("this test compares wtedge with HAProxy 2.6 and needs it: {e}");
    }
    let text = "defaults\n    mode http\n    timeout connect 2s\n    timeout client 10s\n    \
        timeout server 10s\nfrontend fe\n    bind 127.0.0.1:8080\n    \
        acl busy be_conn(bck) ge 2\n    acl s1_busy srv_conn(bck/s1) ge 1\n    \
        http-request return status 200 content-type text/plain string s1-busy if s1_busy { path /probe1 }\n    \
        use_backend spill if busy\n    default_backend bck\nbackend bck\n    \
        server s1 127.0.0.1:9090\n    server s2 127.0.0.1:9091\nbackend spill\n    \
        server s3 127.0.0.1:9092\n";
    let hap = Haproxy::start(text, false).unwrap_or_else(|e| panic!("{e}"));
    let mut sides = vec![(
        "haproxy".to_string(),
        hap.frontend_addr(Some("fe"))
            .unwrap_or_else(|e| panic!("{e}")),
    )];
    let mut edges = Vec::new();
    for (name, engine) in [
        ("wtedge (wasm)", EngineChoice::EmbeddedWasm),
        ("wtedge (native)", EngineChoice::Native),
    ] {
        let edge = common::wtedge_beside(
            &hap,
            "conns.cfg",
            Logger::none(),
            engine,
            Duration::from_secs(1),
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        sides.push((name.to_string(), edge.addrs[0].1));
        edges.push(edge);
    }
    let body = |addr, target: &str| -> String {
        let r = client::send(addr, Source::for_case(None).unwrap(), &request(target))
            .unwrap_or_else(|e| panic!("{addr}: {e}"));
        match r.header("x-wtedge-server") {
            Some(s) => s.to_string(),
            None => format!("{} {}", r.status, String::from_utf8_lossy(&r.body)),
        }
    };
    let mut seen = Vec::new();
    for (name, addr) in &sides {
        let addr = *addr;
        let mut out = vec![body(addr, "/probe"), body(addr, "/probe1")];
        let held: Vec<_> = ["/hold/a", "/hold/b"]
            .iter()
            .map(|t| {
                let t = t.to_string();
                std::thread::spawn(move || body(addr, &t))
            })
            .collect();
        std::thread::sleep(Duration::from_millis(500));
        out.push(body(addr, "/probe"));
        out.push(body(addr, "/probe1"));
        let mut holds: Vec<String> = held
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| panic!("{name}: hold")))
            .collect();
        holds.sort();
        out.extend(holds);
        out.push(body(addr, "/probe"));
        out.push(body(addr, "/probe1"));
        seen.push((name.clone(), out));
    }
    for e in edges {
        e.rt.block_on(e.running.stop());
    }
    let (_, want) = &seen[0];
    // HAProxy's side shows the counts at work: the third request spills over.
    assert_eq!(want[2], "spill/s3", "{want:?}");
    for (name, got) in &seen[1..] {
        assert_eq!(got, want, "{name} differs from haproxy");
    }
}
