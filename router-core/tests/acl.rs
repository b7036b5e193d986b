//! Every fetch, matcher, flag and operator, through the public API: a config
//! with one ACL decides between backend `yes` and backend `no`.

use std::net::SocketAddr;

use router_core::{Decision, HealthSnapshot, LocalTickets, RequestFacts, decide, parse};

struct Req<'a> {
    method: &'a str,
    target: &'a str,
    version: &'a str,
    headers: Vec<(&'a str, &'a str)>,
    src: &'a str,
    dst: &'a str,
    down: Vec<(&'a str, &'a str)>,
}

fn get(target: &str) -> Req<'_> {
    Req {
        method: "GET",
        target,
        version: "HTTP/1.1",
        headers: vec![],
        src: "10.1.2.3:40000",
        dst: "192.168.0.1:80",
        down: vec![],
    }
}

impl<'a> Req<'a> {
    fn header(mut self, name: &'a str, value: &'a str) -> Self {
        self.headers.push((name, value));
        self
    }
}

/// Whether `acl a <term>` matches the request.
fn acl(term: &str, req: &Req<'_>) -> bool {
    let cfg = format!(
        "frontend f\n bind :80\n acl a {term}\n use_backend yes if a\n default_backend no\n\
         backend yes\n server s1 10.0.0.1:80 check\n server s2 10.0.0.2:80 check\n\
         backend no\n server s 10.0.0.9:80\n"
    );
    let parsed = parse("t.cfg", &cfg).unwrap_or_else(|e| panic!("{term}: {e}"));
    let c = &parsed.config;
    let mut health = HealthSnapshot::all_up(c);
    for (b, s) in &req.down {
        health.set_down(c.server_id(b, s).unwrap_or_else(|| panic!("no {b}/{s}")));
    }
    let facts = RequestFacts {
        method: req.method,
        target: req.target,
        version: req.version,
        headers: &req.headers,
        src: req
            .src
            .parse::<SocketAddr>()
            .unwrap_or_else(|e| panic!("{e}")),
        dst: req
            .dst
            .parse::<SocketAddr>()
            .unwrap_or_else(|e| panic!("{e}")),
        tls: false,
    };
    let fe = c
        .default_frontend()
        .unwrap_or_else(|| panic!("no frontend"));
    match decide(c, fe, &facts, &health, &LocalTickets::new(c), None) {
        Decision::Forward(f) => c.proxy(f.backend).name == "yes",
        // Backend `no` always has a server: a 503 means `yes` was chosen with none usable.
        Decision::Respond {
            status: 503,
            backend: Some(b),
        } => c.proxy(b).name == "yes",
        other => panic!("{term}: {other:?}"),
    }
}

#[test]
fn url_is_the_raw_target() {
    assert!(acl("url /a?b=1", &get("/a?b=1")));
    assert!(!acl("url /a", &get("/a?b=1")));
    assert!(acl("url_beg http://", &get("http://h/x")));
    assert!(acl("url_end =1", &get("/a?b=1")));
    assert!(acl("url_sub wtd=wt1", &get("/?wtd=wt1abc")));
    assert!(acl("url_sub wtd=wt1", &get("/?wtd=wt10abc")));
    assert!(acl("url_sub wtd=wt1", &get("/app;wtd=wt1")));
    assert!(acl("url_sub wtd=wt1", &get("/?q=wtd=wt1")));
    assert!(!acl("url_sub wtd=wt1", &get("/?wtd%3Dwt1")));
    assert!(!acl("url_sub wtd=wt1", &get("/?WTD=WT1")));
    assert!(acl("url_dir app", &get("/x/app/y")));
    assert!(acl("url_dom sample", &get("http://www.sample.com/")));
    assert!(acl("url_len 6", &get("/a?b=1")));
}

#[test]
fn path_skips_query_scheme_and_authority() {
    assert!(acl("path /wt1", &get("/wt1?x")));
    assert!(acl("path /wt1", &get("http://sample.com/wt1?x")));
    assert!(!acl("path /wt1", &get("/wt1/")));
    assert!(acl("path_beg /wt1", &get("/wt10/x")));
    assert!(acl("path_end .css", &get("/resources/a.css?v=1")));
    assert!(acl("path_sub res", &get("/x/resources/a")));
    assert!(acl("path_dir resources", &get("/resources/a.css")));
    assert!(!acl("path_dir resources", &get("/resourcesX/a.css")));
    assert!(acl("path_dom css", &get("/a.css")));
    assert!(acl("path_len 4", &get("/abc?zzzz")));
    // No path at all: the fetch fails, so the ACL is false and `!` makes it true.
    assert!(!acl("path_beg /", &get("*")));
}

#[test]
fn query_fetch() {
    assert!(acl("query wtd=1", &get("/x?wtd=1")));
    assert!(!acl("query -m found", &get("/x")));
    assert!(acl("query -m found", &get("/x?")));
}

#[test]
fn headers_split_on_commas_and_keep_ports() {
    let host = |v| get("/").header("Host", v);
    assert!(acl("hdr(host) sample.com", &host("sample.com")));
    assert!(acl("hdr(HOST) sample.com", &host("sample.com")));
    assert!(!acl("hdr_end(host) sample.com", &host("sample.com:80")));
    assert!(!acl("hdr_end(host) sample.com", &host("SAMPLE.COM")));
    assert!(acl("hdr_end(host) -i sample.com", &host("SAMPLE.COM")));
    assert!(acl("hdr_beg(host) -i dev.", &host("Dev.sample.com")));
    assert!(acl("hdr_sub(host) ampl", &host("sample.com")));
    assert!(acl("hdr_dom(host) sample", &host("www.sample.com:8080")));
    assert!(acl(
        "hdr_dir(referer) app",
        &get("/").header("Referer", "http://x/app/y")
    ));
    assert!(acl("hdr(x-a) b", &get("/").header("X-A", "a, b ,c")));
    assert!(acl(
        "hdr(x-a) c",
        &get("/").header("X-A", "a").header("x-a", "c")
    ));
    assert!(acl("hdr_len(x-a) 3", &get("/").header("X-A", "abc")));
    assert!(acl("hdr_val(x-n) gt 10", &get("/").header("X-N", "11")));
    assert!(acl(
        "hdr_ip(x-forwarded-for) 10.0.0.0/8",
        &get("/").header("X-Forwarded-For", "1.1.1.1, 10.2.3.4")
    ));
    assert!(acl(
        "hdr_cnt(x-a) eq 3",
        &get("/").header("X-A", "a, b").header("X-A", "c")
    ));
    assert!(acl("hdr_cnt(x-a) eq 0", &get("/")));
    assert!(!acl("hdr(host) -m found", &get("/")));
    assert!(acl("hdr(host) -m found", &host("")));
    assert!(acl("hdr x", &get("/").header("Y", "x")));
}

#[test]
fn url_params() {
    assert!(acl(
        "urlp(wtd) -m beg wt1",
        &get("/?wtd=wt1AAAA&request=ws")
    ));
    assert!(acl("url_param(wtd) -m beg wt1", &get("/?a=b&wtd=wt1AAAA")));
    assert!(!acl("urlp(wtd) -m beg wt1", &get("/?xwtd=wt1AAAA")));
    assert!(!acl("urlp(wtd) -m beg wt1", &get("/wtd=wt1AAAA")));
    assert!(acl("urlp(wtd) wt1AAAA", &get("/?wtd=wt1AAAA")));
    assert!(!acl("urlp(wtd) wt1", &get("/?wtd=wt1AAAA")));
    assert!(acl("urlp(wtd) -m end AAAA", &get("/?wtd=wt1AAAA")));
    assert!(acl("urlp(wtd) -m sub 1A", &get("/?wtd=wt1AAAA")));
    assert!(acl("urlp_val(n) ge 5", &get("/?n=7")));
    assert!(acl("urlp(wtd) -m len 7", &get("/?wtd=wt1AAAA")));
}

#[test]
fn method_and_version() {
    let mut r = get("/");
    r.method = "POST";
    assert!(acl("method POST", &r));
    assert!(!acl("method post", &r));
    // HAProxy compares well-known methods by identity: `-i post` is not POST.
    assert!(!acl("method -i post", &r));
    r.method = "Post";
    assert!(acl("method -i post", &r));
    r.method = "POST";
    assert!(acl("method GET POST", &r));
    r.version = "HTTP/1.0";
    assert!(acl("req.ver 1.0", &r));
    assert!(acl("req_ver 1.0", &r));
}

#[test]
fn addresses_and_ports() {
    let r = get("/");
    assert!(acl("src 10.0.0.0/8", &r));
    assert!(!acl("src 127.0.0.0/8", &r));
    assert!(acl("src 127.0.0.1 10.1.2.3", &r));
    assert!(acl("src 10.0.0.0/255.0.0.0", &r));
    assert!(acl("src_port 40000", &r));
    assert!(acl("src_port 30000:50000", &r));
    assert!(acl("dst 192.168.0.0/16", &r));
    assert!(acl("dst_port 80", &r));
    let mut v6 = get("/");
    v6.src = "[::ffff:10.1.2.3]:5000";
    assert!(acl("src 10.0.0.0/8", &v6));
    v6.src = "[2001:db8::5]:5000";
    assert!(acl("src 2001:db8::/32", &v6));
    assert!(!acl("src 10.0.0.0/8", &v6));
}

#[test]
fn nbsrv_counts_usable_servers() {
    let mut r = get("/");
    assert!(acl("nbsrv(yes) eq 2", &r));
    assert!(acl("nbsrv(yes) gt 1", &r));
    assert!(acl("nbsrv(yes) ge 2", &r));
    assert!(acl("nbsrv(yes) lt 3", &r));
    assert!(acl("nbsrv(yes) le 2", &r));
    r.down = vec![("yes", "s1")];
    assert!(acl("nbsrv(yes) eq 1", &r));
    r.down = vec![("yes", "s1"), ("yes", "s2")];
    assert!(acl("nbsrv(yes) eq 0", &r));
    assert!(!acl("nbsrv(yes) gt 0", &r));
    assert!(acl("nbsrv(no) gt 0", &r));
}

#[test]
fn booleans_and_predefined() {
    let r = get("/");
    assert!(acl("always_true", &r));
    assert!(!acl("always_false", &r));
    assert!(acl("nbsrv(yes) -m bool", &r));
}

#[test]
fn flags() {
    let r = get("/-x");
    assert!(acl("path -- /-x", &r));
    assert!(acl("path -n /-x", &r));
    assert!(acl("path -i -m beg /-X", &r));
    assert!(acl("path_beg -m str /-x", &r));
    assert!(!acl("path_beg -m str /-", &r));
    assert!(acl("url -m sub x", &r));
}

/// The header a condition reads, for conditions over several ACLs.
fn cond(cond: &str, target: &str) -> bool {
    let cfg = format!(
        "frontend f\n bind :80\n acl a path_beg /a\n acl b path_end b\n acl c url_sub c\n\
         use_backend yes {cond}\n default_backend no\nbackend yes\n server s 10.0.0.1:80\n\
         backend no\n server s 10.0.0.9:80\n"
    );
    let parsed = parse("t.cfg", &cfg).unwrap_or_else(|e| panic!("{cond}: {e}"));
    let c = &parsed.config;
    let facts = RequestFacts {
        method: "GET",
        target,
        version: "HTTP/1.1",
        headers: &[],
        src: "10.0.0.5:1000".parse().unwrap_or_else(|e| panic!("{e}")),
        dst: "10.0.0.6:80".parse().unwrap_or_else(|e| panic!("{e}")),
        tls: false,
    };
    let fe = c
        .default_frontend()
        .unwrap_or_else(|| panic!("no frontend"));
    match decide(
        c,
        fe,
        &facts,
        &HealthSnapshot::all_up(c),
        &LocalTickets::new(c),
        None,
    ) {
        Decision::Forward(f) => c.proxy(f.backend).name == "yes",
        other => panic!("{other:?}"),
    }
}

#[test]
fn conditions() {
    assert!(cond("if a b", "/ab"));
    assert!(!cond("if a b", "/a"));
    assert!(cond("if a or c", "/c"));
    assert!(cond("if a || c", "/a"));
    assert!(cond("if a OR c", "/c"));
    assert!(cond("if !a", "/x"));
    assert!(cond("if ! a", "/x"));
    assert!(!cond("if !!a", "/x"));
    assert!(cond("unless a", "/x"));
    assert!(!cond("unless a", "/a"));
    assert!(cond("if a !b or c", "/a"));
    assert!(!cond("if a !b", "/ab"));
    assert!(cond("if { path_beg /z }", "/zz"));
    assert!(cond("if !{ path_beg /z }", "/a"));
    assert!(cond("if a { url_sub q } or c", "/a?q"));
    assert!(cond("if TRUE", "/"));
    assert!(!cond("if FALSE", "/"));
    // The client is 10.0.0.5: not LOCALHOST.
    assert!(!cond("if METH_GET HTTP_1.1 HTTP_URL_SLASH LOCALHOST", "/"));
    assert!(cond("if METH_GET HTTP_1.1 HTTP_URL_SLASH", "/"));
    assert!(cond("", "/"));
}
