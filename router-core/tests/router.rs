//! HAProxy's evaluation order and the forward details (addresses, added headers).

use std::net::SocketAddr;

use router_core::{
    Config, Decision, HealthSnapshot, LocalTickets, RequestFacts, Trace, decide, parse,
};

fn cfg(text: &str) -> Config {
    parse("t.cfg", text)
        .unwrap_or_else(|e| panic!("{e}"))
        .config
}

fn run(
    c: &Config,
    fe: &str,
    target: &str,
    headers: &[(&str, &str)],
    down: &[(&str, &str)],
) -> Decision<'static> {
    let c: &'static Config = Box::leak(Box::new(c.clone()));
    let mut health = HealthSnapshot::all_up(c);
    for (b, s) in down {
        health.set_down(c.server_id(b, s).unwrap_or_else(|| panic!("{b}/{s}")));
    }
    let req = RequestFacts {
        method: "GET",
        target,
        version: "HTTP/1.1",
        headers,
        src: "10.9.8.7:4000"
            .parse::<SocketAddr>()
            .unwrap_or_else(|e| panic!("{e}")),
        dst: "192.168.1.10:8080"
            .parse::<SocketAddr>()
            .unwrap_or_else(|e| panic!("{e}")),
        tls: false,
    };
    let fe = c
        .proxy_ids()
        .find(|&p| c.proxy(p).name == fe && c.proxy(p).kind.is_frontend());
    decide(
        c,
        fe.unwrap_or_else(|| panic!("no {fe:?}")),
        &req,
        &health,
        &LocalTickets::new(c),
        None,
    )
}

fn server(c: &Config, d: &Decision<'_>) -> String {
    match d {
        Decision::Forward(f) => c.server_path(f.server),
        other => format!("{other:?}"),
    }
}

#[test]
fn redirects_run_before_use_backend_whatever_their_position() {
    let c = cfg(
        "frontend f\n bind :80\n use_backend b if TRUE\n redirect location /moved if { path /old }\nbackend b\n server s 10.0.0.1:80\n",
    );
    assert!(
        matches!(run(&c, "f", "/old", &[], &[]), Decision::Redirect { code: 302, ref location, backend: None } if location == "/moved")
    );
}

#[test]
fn first_matching_use_backend_wins_even_without_servers() {
    let c = cfg(
        "frontend f\n bind :80\n use_backend empty if TRUE\n use_backend b if TRUE\n default_backend b\nbackend empty\nbackend b\n server s 10.0.0.1:80\n",
    );
    assert_eq!(
        run(&c, "f", "/", &[], &[]),
        Decision::Respond {
            status: 503,
            backend: c.proxy_id("empty")
        }
    );
}

#[test]
fn no_rule_and_no_default_is_503() {
    let c =
        cfg("frontend f\n bind :80\n use_backend b if FALSE\nbackend b\n server s 10.0.0.1:80\n");
    assert_eq!(
        run(&c, "f", "/", &[], &[]),
        Decision::Respond {
            status: 503,
            backend: None
        }
    );
}

#[test]
fn backend_redirects_run_after_the_switch_and_listen_own_rules_once() {
    let c = cfg(
        "frontend f\n bind :80\n default_backend b\nbackend b\n redirect prefix /b code 307\n server s 10.0.0.1:80\n\
                 listen l\n bind :81\n redirect location /l if { path /x }\n server s 10.0.0.2:80\n",
    );
    assert!(
        matches!(run(&c, "f", "/p?q", &[], &[]), Decision::Redirect { code: 307, ref location, backend } if location == "/b/p?q" && backend == c.proxy_id("b"))
    );
    assert!(
        matches!(run(&c, "l", "/x", &[], &[]), Decision::Redirect { ref location, backend: None, .. } if location == "/l")
    );
    assert_eq!(server(&c, &run(&c, "l", "/y", &[], &[])), "l/s");
}

#[test]
fn frontend_routing_to_a_listen_runs_its_redirects_as_backend_rules() {
    let c = cfg(
        "frontend f\n bind :80\n default_backend l\nlisten l\n bind :81\n redirect location /from-l\n server s 10.0.0.2:80\n",
    );
    assert!(
        matches!(run(&c, "f", "/", &[], &[]), Decision::Redirect { ref location, backend, .. } if location == "/from-l" && backend == c.proxy_id("l"))
    );
}

#[test]
fn use_server_skips_servers_that_are_not_usable() {
    let c = cfg(
        "backend b\n use-server s2 if TRUE\n use-server s3 if TRUE\n server s1 10.0.0.1:80 check\n server s2 10.0.0.2:80 check\n server s3 10.0.0.3:80 disabled\n\
                 frontend f\n bind :80\n default_backend b\n",
    );
    assert_eq!(server(&c, &run(&c, "f", "/", &[], &[])), "b/s2");
    // s2 DOWN and s3 in maintenance: both rules skipped, round-robin picks s1.
    assert_eq!(server(&c, &run(&c, "f", "/", &[], &[("b", "s2")])), "b/s1");
}

#[test]
fn upstream_address_rules() {
    let c = cfg(
        "frontend f\n bind :80\n use_backend n if { path /n }\n default_backend b\nbackend b\n server any 0.0.0.0:9090\nbackend n\n server noport 10.0.0.5\n",
    );
    let Decision::Forward(f) = run(&c, "f", "/", &[], &[]) else {
        panic!()
    };
    assert_eq!(
        f.upstream.to_string(),
        "192.168.1.10:9090",
        "0.0.0.0 is the address the client reached"
    );
    let Decision::Forward(f) = run(&c, "f", "/n", &[], &[]) else {
        panic!()
    };
    assert_eq!(
        f.upstream.to_string(),
        "10.0.0.5:8080",
        "no port is the port the client reached"
    );
}

fn xff(c: &Config, headers: &[(&str, &str)]) -> (Option<String>, Option<String>) {
    match run(c, "f", "/", headers, &[]) {
        Decision::Forward(f) => (
            f.forwarded_for.map(|h| format!("{}: {}", h.name, h.value)),
            f.original_to.map(|h| format!("{}: {}", h.name, h.value)),
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn forwardfor_and_originalto() {
    let base = |fe: &str, be: &str| {
        cfg(&format!(
            "frontend f\n bind :80\n {fe}\n default_backend b\nbackend b\n {be}\n server s 10.0.0.1:80\n"
        ))
    };
    let c = base("option forwardfor", "");
    assert_eq!(
        xff(&c, &[]),
        (Some("X-Forwarded-For: 10.9.8.7".into()), None)
    );
    assert_eq!(
        xff(&c, &[("X-Forwarded-For", "1.1.1.1")]).0.as_deref(),
        Some("X-Forwarded-For: 10.9.8.7"),
        "appended even if present"
    );
    let c = base("option forwardfor if-none", "");
    assert_eq!(xff(&c, &[("x-forwarded-for", "1.1.1.1")]).0, None);
    assert_eq!(xff(&c, &[]).0.as_deref(), Some("X-Forwarded-For: 10.9.8.7"));
    let c = base("option forwardfor except 10.0.0.0/8", "");
    assert_eq!(xff(&c, &[]).0, None);
    let c = base(
        "option forwardfor header X-Fe",
        "option forwardfor header X-Be",
    );
    assert_eq!(
        xff(&c, &[]).0.as_deref(),
        Some("X-Be: 10.9.8.7"),
        "the backend's name wins"
    );
    let c = base("option forwardfor if-none", "option forwardfor");
    assert!(
        xff(&c, &[("X-Forwarded-For", "x")]).0.is_some(),
        "one proxy without if-none means always"
    );
    let c = base("option originalto", "");
    assert_eq!(
        xff(&c, &[]).1.as_deref(),
        Some("X-Original-To: 192.168.1.10")
    );
    let c = base("option originalto except 192.168.0.0/16 header X-Dst", "");
    assert_eq!(xff(&c, &[]).1, None);
    let c = base("option originalto header X-Dst", "");
    assert_eq!(xff(&c, &[]).1.as_deref(), Some("X-Dst: 192.168.1.10"));
}

#[test]
fn trace_names_every_step() {
    let text = std::fs::read_to_string(format!(
        "{}/../tests/corpus/configs/seed2.cfg",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    let c = cfg(&text);
    let req = RequestFacts {
        method: "GET",
        target: "/?wtd=wt2AAAAAAAAAAAAAAAA",
        version: "HTTP/1.1",
        headers: &[],
        src: "10.0.0.1:1".parse().unwrap_or_else(|e| panic!("{e}")),
        dst: "10.0.0.2:80".parse().unwrap_or_else(|e| panic!("{e}")),
        tls: false,
    };
    let mut t = Trace::new();
    let d = decide(
        &c,
        router_core::ProxyId(0),
        &req,
        &HealthSnapshot::all_up(&c),
        &LocalTickets::new(&c),
        Some(&mut t),
    );
    assert_eq!(server(&c, &d), "bck2/srv2");
    assert_eq!(
        t.render(&c),
        [
            "wt: acl srv1_up (line 27): true",
            "wt: acl srv1 (line 25): false",
            "wt: use_backend bck1 (line 29): no match",
            "wt: acl srv2_up (line 28): true",
            "wt: acl srv2 (line 26): true",
            "wt: use_backend bck2 (line 30): matched",
            "bck2: balance roundrobin (ticket 0): bck2/srv2",
        ]
    );
}

/// `ssl_fc` in a condition and in a log-format value (the Wt recipe's
/// X-Forwarded-Proto and https redirect); what HAProxy 2.6 does without TLS was
/// probed (`x-forwarded-proto: http`, the redirect).
#[test]
fn ssl_fc_drives_rules() {
    let c = cfg("frontend f\n bind :80\n\
         http-request set-header X-Forwarded-Proto https if { ssl_fc }\n\
         http-request set-header X-Forwarded-Proto http unless { ssl_fc }\n\
         http-request set-header X-Tls %[ssl_fc]\n\
         http-request redirect scheme https code 301 unless { ssl_fc } { path_beg /secure }\n\
         default_backend b\nbackend b\n server s 10.0.0.1:80\n");
    let fe = c.default_frontend().unwrap_or_else(|| panic!());
    let health = HealthSnapshot::all_up(&c);
    let tickets = LocalTickets::new(&c);
    let headers = [("Host", "a.com")];
    for tls in [false, true] {
        let req = RequestFacts {
            method: "GET",
            target: "/secure/x",
            version: "HTTP/1.1",
            headers: &headers,
            src: "10.9.8.7:4000".parse().unwrap_or_else(|_| panic!()),
            dst: "10.0.0.9:80".parse().unwrap_or_else(|_| panic!()),
            tls,
        };
        let d = decide(&c, fe, &req, &health, &tickets, None);
        if tls {
            let Decision::Forward(f) = d else {
                panic!("{d:?}")
            };
            let got: Vec<(&str, &str)> = f
                .edits
                .iter()
                .map(|e| (e.name.as_str(), e.value.as_str()))
                .collect();
            assert_eq!(got, [("X-Forwarded-Proto", "https"), ("X-Tls", "1")]);
        } else {
            assert!(
                matches!(&d, Decision::Redirect { code: 301, location, .. } if location == "https://a.com/secure/x"),
                "{d:?}"
            );
        }
    }
}
