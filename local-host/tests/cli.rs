//! `wtedge check` and `wtedge explain` as a user runs them: exit codes, messages, JSON.

use std::process::{Command, Output};

fn wtedge(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wtedge"))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run wtedge: {e}"))
}

fn seed(n: u8) -> String {
    format!(
        "{}/../tests/corpus/configs/seed{n}.cfg",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn the_three_seed_configs_pass_check_with_legacy_warnings() {
    for n in 1..=3 {
        let out = wtedge(&["check", &seed(n)]);
        assert!(out.status.success(), "seed{n}: {}", text(&out.stderr));
        assert!(text(&out.stdout).contains("configuration valid"));
    }
    let err = text(&wtedge(&["check", &seed(2)]).stderr);
    assert!(
        err.contains("seed2.cfg:20:1: warning: 'contimeout'"),
        "{err}"
    );
    assert!(err.contains("write 'timeout connect 5000'"), "{err}");
    let err = text(&wtedge(&["check", &seed(3)]).stderr);
    assert!(
        err.contains("is_dev_URL") && err.contains("HAProxy 2.6 refuses"),
        "{err}"
    );
}

#[test]
fn check_refuses_a_broken_config_with_file_line_and_hint() {
    let dir = std::env::temp_dir().join(format!("wtedge-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let path = dir.join("broken.cfg");
    std::fs::write(
        &path,
        "frontend f\n bind :80\n use_backend bck3\nbackend bck1\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let p = path.display().to_string();
    let out = wtedge(&["check", &p]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!(
            "{p}:3:14: error: 'use_backend': no such backend 'bck3' (hint: did you mean 'bck1'?)"
        )),
        "{err}"
    );
    let out = wtedge(&["check", "/nonexistent/x.cfg"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn check_json_dumps_the_model() {
    let out = wtedge(&["check", "--json", &seed(2)]);
    assert!(out.status.success());
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v["proxies"][0]["name"], "wt");
    assert_eq!(v["servers"].as_array().map(Vec::len), Some(4));
}

#[test]
fn check_for_the_edge_refuses_bare_ips() {
    let out = wtedge(&["check", "--target", "edge", &seed(2)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("no meaning at the edge"));
}

fn explain(args: &[&str]) -> serde_json::Value {
    let mut all = vec!["explain", "--json"];
    all.extend_from_slice(args);
    let out = wtedge(&all);
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out.stdout)))
}

#[test]
fn explain_affinity_failover_and_redirects() {
    let s2 = seed(2);
    let v = explain(&[&s2, "GET /?wtd=wt1AAAAAAAAAAAAAAAA"]);
    assert_eq!(
        (
            v["action"].as_str(),
            v["backend"].as_str(),
            v["server"].as_str()
        ),
        (Some("forward"), Some("bck1"), Some("srv1"))
    );
    assert_eq!(v["address"], "127.0.0.1:9090");
    assert!(v["trace"].as_array().is_some_and(|t| !t.is_empty()));
    let v = explain(&[&s2, "--down", "bck1/srv1", "GET /?wtd=wt1AAAAAAAAAAAAAAAA"]);
    assert_eq!(
        (v["backend"].as_str(), v["server"].as_str()),
        (Some("bck_lb"), Some("srv2"))
    );
    let v = explain(&[&s2, "--down", "bck1/srv1", "--down", "bck2/srv2", "GET /"]);
    // The default backend is chosen, and its servers (tracking the two) are down.
    assert_eq!(
        (
            v["action"].as_str(),
            v["status"].as_u64(),
            v["backend"].as_str()
        ),
        (Some("respond"), Some(503), Some("bck_lb"))
    );
    let s3 = seed(3);
    let v = explain(&[&s3, "-H", "Host: www.sample.com", "GET / HTTP/1.1"]);
    assert_eq!(
        (
            v["action"].as_str(),
            v["status"].as_u64(),
            v["location"].as_str()
        ),
        (Some("redirect"), Some(302), Some("/wt1"))
    );
    let v = explain(&[&s3, "-H", "Host: sample.com:80", "GET /"]);
    assert_eq!(
        v["action"], "forward",
        "hdr_end(host) does not match a Host with a port"
    );
}

/// `--state` as HAProxy 2.6 routes it after `set server bck1/srv1 state ...`
/// (e2e_runtime_api compares the same requests with a running HAProxy): drain
/// empties nbsrv(bck1), so the wiki's rule sends srv1's sessions to srv2 and
/// new ones skip the draining trackers; maint too; ready restores affinity.
#[test]
fn explain_with_admin_states() {
    let s2 = seed(2);
    let wt1 = "GET /?wtd=wt1AAAAAAAAAAAAAAAA";
    let to = |v: serde_json::Value| {
        (
            v["backend"].as_str().map(String::from),
            v["server"].as_str().map(String::from),
        )
    };
    let pair = |b: &str, s: &str| (Some(b.to_string()), Some(s.to_string()));
    for state in ["drain", "maint"] {
        let arg = format!("bck1/srv1={state}");
        assert_eq!(
            to(explain(&[&s2, "--state", &arg, wt1])),
            pair("bck_lb", "srv2")
        );
        assert_eq!(
            to(explain(&[&s2, "--state", &arg, "GET /"])),
            pair("bck_lb", "srv2")
        );
    }
    let v = explain(&[&s2, "--state", "bck1/srv1=ready", wt1]);
    assert_eq!(to(v), pair("bck1", "srv1"));
    let out = wtedge(&["explain", &s2, "--state", "bck1/srv1=gone", "GET /"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("not drain, maint or ready"));
}

#[test]
fn explain_rejects_unknown_servers_with_a_suggestion() {
    let out = wtedge(&["explain", &seed(2), "--down", "bck1/srv3", "GET /"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("did you mean 'bck1/srv1'"));
}

#[test]
fn a_port_in_use_names_the_bind_line_and_exits_non_zero() {
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    let port = held.local_addr().unwrap_or_else(|e| panic!("{e}")).port();
    let dir = std::env::temp_dir().join(format!("wtedge-cli-bind-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let path = dir.join("held.cfg");
    std::fs::write(
        &path,
        format!(
            "defaults\n mode http\n timeout connect 1s\n timeout client 1s\n timeout server 1s\n\
             frontend f\n bind 127.0.0.1:{port}\n default_backend b\nbackend b\n server s 127.0.0.1:9\n"
        ),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let p = path.display().to_string();
    let out = wtedge(&["run", &p]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!(
            "{p}:7: error: 'bind': cannot listen on 127.0.0.1:{port} for 'f': "
        )) && err.contains("another process listens on this port"),
        "{err}"
    );
}
