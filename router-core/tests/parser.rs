//! Parser tests: every keyword lands in the model, every error names file,
//! line, column and keyword, with a hint where one exists.

use router_core::model::{RedirectKind, ServerHost};
use router_core::{Config, Diagnostic, DiagnosticKind as K, parse};

/// Loads `text`; the warnings exclude "no `mode http`" (most configs here are
/// fragments without defaults; `mode_warning` tests it).
fn ok(text: &str) -> (Config, Vec<Diagnostic>) {
    match parse("t.cfg", text) {
        Ok(p) => (
            p.config,
            p.warnings
                .into_iter()
                .filter(|w| w.kind != K::NotHttpMode)
                .collect(),
        ),
        Err(e) => panic!("expected to load:\n{text}\n{e}"),
    }
}

fn err(text: &str) -> Diagnostic {
    match parse("t.cfg", text) {
        Ok(_) => panic!("expected an error:\n{text}"),
        Err(e) => e.errors[0].clone(),
    }
}

fn assert_err(
    text: &str,
    kind: K,
    line: u32,
    col: u32,
    keyword: &str,
    msg: &str,
    hint: Option<&str>,
) {
    let d = err(text);
    assert_eq!(
        (d.kind, d.line, d.column, d.keyword.as_str()),
        (kind, line, col, keyword),
        "{d:?}"
    );
    assert!(
        d.message.contains(msg),
        "message {:?} lacks {msg:?}",
        d.message
    );
    if let Some(h) = hint {
        assert!(
            d.hint.as_deref().is_some_and(|x| x.contains(h)),
            "hint {:?} lacks {h:?}",
            d.hint
        );
    }
    assert_eq!(d.file, "t.cfg");
    let shown = d.as_error().to_string();
    assert!(
        shown.starts_with(&format!("t.cfg:{line}:{col}: error: '{keyword}'")),
        "{shown}"
    );
}

const BE: &str = "backend b\n server s 10.0.0.1:80\n";

#[test]
fn global_keywords_are_kept() {
    let (c, w) = ok(
        "global\n log 127.0.0.1 local0\n log 127.0.0.1 local1 notice\n maxconn 4096\n user haproxy\n group haproxy\n daemon\n noreuseport\n nbthread 2\n chroot /var/empty\n pidfile /run/h.pid\n quiet\n node n-1.a_b\n description a b c\n",
    );
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(
        c.global.log,
        ["127.0.0.1 local0", "127.0.0.1 local1 notice"]
    );
    assert_eq!(c.global.maxconn, Some(4096));
    assert_eq!(c.global.user.as_deref(), Some("haproxy"));
    assert_eq!(c.global.group.as_deref(), Some("haproxy"));
    assert!(c.global.daemon);
    assert!(c.global.noreuseport);
    assert_eq!(c.global.nbthread, Some(2));
    assert_eq!(c.global.chroot.as_deref(), Some("/var/empty"));
    assert_eq!(c.global.pidfile.as_deref(), Some("/run/h.pid"));
}

#[test]
fn noreuseport_is_off_unless_set_and_takes_no_argument() {
    assert!(!ok("global\n daemon\n").0.global.noreuseport);
    assert!(ok("global\n noreuseport\n").0.global.noreuseport);
    assert_err(
        "global\n noreuseport x\n",
        K::InvalidValue,
        2,
        14,
        "noreuseport",
        "unexpected 'x'",
        Some("'noreuseport' takes no argument"),
    );
}

#[test]
fn global_arguments_are_checked_as_haproxy_2_6() {
    // One argument at most (none for daemon/quiet/noreuseport), as HAProxy's
    // "cannot handle unexpected argument".
    for (kw, line) in [
        ("maxconn", "1 2"),
        ("daemon", "extra"),
        ("quiet", "extra"),
        ("nbthread", "2 3"),
        ("pidfile", "a b"),
        ("chroot", "a b"),
        ("user", "a b"),
        ("gid", "1 2"),
        ("node", "a b"),
    ] {
        let extra = line.rsplit(' ').next().unwrap();
        assert_err(
            &format!("global\n {kw} {line}\n"),
            K::InvalidValue,
            2,
            (kw.len() + line.len() - extra.len() + 3) as u32,
            kw,
            &format!("unexpected '{extra}'"),
            Some(&format!("'{kw}' takes ")),
        );
    }
    // An empty argument is a missing one; only the word after the last argument counts.
    for (line, col, kw, hint) in [
        ("node", 2, "node", "write 'node NAME'"),
        ("description", 2, "description", "write 'description TEXT'"),
        ("pidfile ''", 10, "pidfile", "write 'pidfile FILE'"),
        ("maxconn ''", 10, "maxconn", "write 'maxconn N'"),
    ] {
        assert_err(
            &format!("global\n {line}\n"),
            K::MissingArgument,
            2,
            col,
            kw,
            &format!("'{kw}' is missing an argument"),
            Some(hint),
        );
    }
    ok("global\n daemon '' x\n maxconn 5 ''\n");
    assert_err(
        "global\n node a:b\n",
        K::InvalidValue,
        2,
        7,
        "node",
        "invalid character ':' in node name 'a:b'",
        Some("letters, digits, '-', '_' and '.'"),
    );
    assert_err(
        "global\n nbproc 1\n",
        K::UnknownKeyword,
        2,
        2,
        "nbproc",
        "removed in HAProxy 2.5",
        Some("nbthread"),
    );
}

#[test]
fn global_maxconn_reads_as_atol_and_uid_warns_as_haproxy_2_6() {
    // atol(): 0 or less sets no limit, as HAProxy; a non-number is warned about.
    for (v, want, warned) in [
        ("0", None, false),
        ("x", None, true),
        ("-1", None, true),
        ("12ab", Some(12), true),
        ("+7", Some(7), false),
    ] {
        let (c, w) = ok(&format!("global\n maxconn {v}\n"));
        assert_eq!(c.global.maxconn, want, "{v}");
        assert_eq!(
            w.iter().map(|w| (w.kind, w.line)).collect::<Vec<_>>(),
            if warned {
                vec![(K::InvalidValue, 2)]
            } else {
                vec![]
            },
            "{v}"
        );
    }
    // uid/gid must be numbers: HAProxy warns and ignores the line.
    let (c, w) = ok("global\n uid x\n gid 65534\n");
    assert_eq!(
        (c.global.user, c.global.group.as_deref()),
        (None, Some("65534"))
    );
    assert_eq!((w.len(), w[0].line, w[0].kind), (1, 2, K::InvalidValue));
    assert!(w[0].hint.as_deref().unwrap().contains("'user x'"), "{w:?}");
    // A value set twice: HAProxy alerts and keeps the first.
    let (c, w) = ok("global\n maxconn 100\n maxconn 200\n user a\n uid 5\n");
    assert_eq!(
        (c.global.maxconn, c.global.user.as_deref()),
        (Some(100), Some("a"))
    );
    assert_eq!(
        w.iter().map(|w| (w.kind, w.line)).collect::<Vec<_>>(),
        [(K::Duplicate, 3), (K::Duplicate, 5)]
    );
}

#[test]
fn nbthread_is_between_1_and_64_as_in_haproxy() {
    for n in [1, 64] {
        let (c, _) = ok(&format!("global\n nbthread {n}\n"));
        assert_eq!(c.global.nbthread, Some(n));
    }
    for n in [0, 65] {
        let d = err(&format!("global\n nbthread {n}\n"));
        assert_eq!(
            (d.kind, d.line, d.keyword.as_str()),
            (K::InvalidValue, 2, "nbthread")
        );
        assert!(
            d.message.contains(&format!(
                "'nbthread' value must be between 1 and 64 (was {n})"
            )),
            "{}",
            d.message
        );
    }
}

/// HAProxy 2.6 keeps one connection mode per proxy: `option http-keep-alive` after
/// `http-server-close` (here, in defaults) replaces it; the other order keeps it.
#[test]
fn http_keep_alive_replaces_server_close() {
    let (c, _) = ok(&format!(
        "defaults\n mode http\n option http-server-close\n\
         frontend f\n bind :80\n option http-keep-alive\n default_backend b\n\
         frontend g\n bind :81\n option http-keep-alive\n option http-server-close\n default_backend b\n\
         frontend h\n bind :82\n no option http-keep-alive\n default_backend b\n{BE}"
    ));
    let scl: Vec<bool> = c.proxies[..3]
        .iter()
        .map(|p| p.settings.options.http_mode == router_core::model::HttpMode::ServerClose)
        .collect();
    assert_eq!(scl, [false, true, true]);
}

#[test]
fn defaults_apply_to_later_proxies_and_proxy_lines_win() {
    let (c, _) = ok(&format!(
        "defaults\n mode http\n option httplog\n option dontlognull\n option http-server-close\n option http-pretend-keepalive\n\
         option forwardfor except 127.0.0.0/8 header X-Real if-none\n option originalto except 10.0.0.0/8 header X-O\n\
         option redispatch\n option allbackups\n option httpchk GET /health\n retries 5\n maxconn 2000\n\
         timeout connect 5s\n timeout client 1m\n timeout server 50000\n timeout tunnel 1h\n timeout queue 2s\n timeout check 3s\n\
         timeout http-request 10s\n timeout http-keep-alive 1s\n log global\n\
         frontend f\n bind :80\n no option dontlognull\n timeout client 7s\n default_backend b\n{BE}"
    ));
    let f = &c.proxies[0];
    let o = &f.settings.options;
    assert!(
        o.httplog
            && !o.dontlognull
            && o.http_mode == router_core::model::HttpMode::ServerClose
            && o.http_pretend_keepalive
            && o.redispatch
            && o.allbackups
    );
    let ff = o
        .forwardfor
        .as_ref()
        .unwrap_or_else(|| panic!("forwardfor"));
    assert_eq!(
        (ff.header.as_str(), ff.if_none, ff.except.map(|n| n.prefix)),
        ("X-Real", true, Some(8))
    );
    let ot = o
        .originalto
        .as_ref()
        .unwrap_or_else(|| panic!("originalto"));
    assert_eq!(ot.header, "X-O");
    let chk = c.proxies[1]
        .settings
        .options
        .httpchk
        .as_ref()
        .unwrap_or_else(|| panic!("httpchk"));
    assert_eq!(
        (chk.method.as_str(), chk.uri.as_str(), chk.version.as_str()),
        ("GET", "/health", "HTTP/1.0")
    );
    let t = &f.settings.timeouts;
    assert_eq!(t.client, Some(7000));
    assert_eq!(
        (t.connect, t.server, t.tunnel, t.queue),
        (Some(5000), Some(50000), Some(3_600_000), Some(2000))
    );
    assert_eq!(
        (t.check, t.http_request, t.http_keep_alive),
        (Some(3000), Some(10_000), Some(1000))
    );
    assert_eq!((f.settings.retries, f.settings.maxconn), (5, Some(2000)));
    assert_eq!(f.settings.log, ["global"]);
    // A second defaults section starts from scratch.
    let (c, _) = ok(&format!(
        "defaults\n retries 9\ndefaults\n timeout connect 1s\n{BE}"
    ));
    assert_eq!(c.proxies[0].settings.retries, 3);
}

#[test]
fn tcp_smart_accept_is_on_in_http_mode_and_smart_connect_off_as_in_haproxy() {
    let (c, w) = ok(&format!("frontend f\n bind :80\n default_backend b\n{BE}"));
    let (fe, be) = (
        &c.proxies[0].settings.options,
        &c.proxies[1].settings.options,
    );
    assert!(fe.tcp_smart_accept && !be.tcp_smart_connect, "{w:?}");
    let (c, w) = ok(&format!(
        "defaults\n no option tcp-smart-accept\n option tcp-smart-connect\n\
         frontend f\n bind :80\n default_backend b\nfrontend g\n bind :81\n option tcp-smart-accept\n default_backend b\n{BE}"
    ));
    assert!(w.is_empty(), "{w:?}");
    let o = |i: usize| &c.proxies[i].settings.options;
    assert!(!o(0).tcp_smart_accept && o(1).tcp_smart_accept && o(2).tcp_smart_connect);
    // In the section without the capability HAProxy warns and ignores the line.
    let (c, w) = ok(
        "frontend f\n bind :80\n option tcp-smart-connect\n default_backend b\nbackend b\n no option tcp-smart-accept\n",
    );
    let lines: Vec<(K, u32)> = w.iter().map(|d| (d.kind, d.line)).collect();
    assert_eq!(lines, [(K::NotAllowedHere, 3), (K::NotAllowedHere, 6)]);
    assert!(!c.proxies[0].settings.options.tcp_smart_connect);
    assert_err(
        &format!("frontend f\n bind :80\n option tcp-smart-accept x\n default_backend b\n{BE}"),
        K::InvalidValue,
        3,
        26,
        "option tcp-smart-accept",
        "unexpected 'x'",
        Some("remove the extra words"),
    );
}

#[test]
fn httpchk_forms() {
    let chk = |line: &str| {
        let (c, _) = ok(&format!(
            "backend b\n {line}\n server s 10.0.0.1:80 check\n"
        ));
        let h = c.proxies[0]
            .settings
            .options
            .httpchk
            .clone()
            .unwrap_or_else(|| panic!("{line}"));
        (h.method, h.uri, h.version)
    };
    assert_eq!(
        chk("option httpchk"),
        ("OPTIONS".into(), "/".into(), "HTTP/1.0".into())
    );
    assert_eq!(
        chk("option httpchk /ping"),
        ("OPTIONS".into(), "/ping".into(), "HTTP/1.0".into())
    );
    assert_eq!(
        chk("option httpchk HEAD /ping HTTP/1.1"),
        ("HEAD".into(), "/ping".into(), "HTTP/1.1".into())
    );
}

#[test]
fn legacy_keywords_map_with_warnings() {
    let (c, w) = ok(
        "defaults\n contimeout 5000\n clitimeout 50000\n srvtimeout 50000\n redispatch\nlisten 0.0.0.0:8181\n server srv1 0.0.0.0:9090 check\n",
    );
    let t = &c.proxies[0].settings.timeouts;
    assert_eq!(
        (t.connect, t.client, t.server),
        (Some(5000), Some(50000), Some(50000))
    );
    assert!(c.proxies[0].settings.options.redispatch);
    assert_eq!(c.proxies[0].binds[0].port, 8181);
    let hints: Vec<(u32, String)> = w
        .iter()
        .filter(|d| d.kind == K::Legacy)
        .map(|d| (d.line, d.hint.clone().unwrap_or_default()))
        .collect();
    assert_eq!(hints[0], (2, "write 'timeout connect 5000'".into()));
    assert_eq!(hints[1], (3, "write 'timeout client 50000'".into()));
    assert_eq!(hints[2], (4, "write 'timeout server 50000'".into()));
    assert_eq!(hints[3], (5, "write 'option redispatch'".into()));
    assert_eq!(hints[4].0, 6);
    assert!(hints[4].1.contains("bind 0.0.0.0:8181"));
    // `listen NAME ADDR` (1.4) is accepted too.
    let (c, w) = ok("listen app 127.0.0.1:8080\n server s 10.0.0.1:80\n");
    assert_eq!(
        (c.proxies[0].name.as_str(), c.proxies[0].binds[0].port),
        ("app", 8080)
    );
    assert_eq!(w[0].kind, K::Legacy);
}

#[test]
fn binds() {
    let (c, _) = ok(
        "frontend f\n bind *:80,127.0.0.1:81\n bind :82 name x\n bind [::1]:83\n bind :::84 v4v6\n default_backend b\nbackend b\n",
    );
    let b: Vec<(Option<String>, u16)> = c.proxies[0]
        .binds
        .iter()
        .map(|b| (b.host.map(|h| h.to_string()), b.port))
        .collect();
    assert_eq!(
        b,
        [
            (None, 80),
            (Some("127.0.0.1".into()), 81),
            (None, 82),
            (Some("::1".into()), 83),
            (Some("::".into()), 84)
        ]
    );
}

#[test]
fn servers() {
    let (c, _) = ok(
        "backend b\n default-server inter 1s rise 4\n server a 0.0.0.0:9090 check fall 5 weight 10 maxconn 7 maxqueue 8\n\
         server b wt1.example.com:443 ssl verify none check port 8443 fastinter 100 downinter 5s\n server c 10.0.0.1 backup disabled\n\
         server d 10.0.0.2:80 track a\n",
    );
    let s = &c.servers;
    assert_eq!(
        s[0].host,
        ServerHost::Ip("0.0.0.0".parse().unwrap_or_else(|_| panic!()))
    );
    assert_eq!(
        (
            s[0].port,
            s[0].params.check,
            s[0].params.inter,
            s[0].params.rise,
            s[0].params.fall
        ),
        (Some(9090), true, 1000, 4, 5)
    );
    assert_eq!(
        (
            s[0].params.weight,
            s[0].params.maxconn,
            s[0].params.maxqueue
        ),
        (10, Some(7), Some(8))
    );
    assert_eq!(s[1].host, ServerHost::Name("wt1.example.com".into()));
    assert!(s[1].params.ssl && !s[1].params.verify);
    assert_eq!(
        (
            s[1].params.check_port,
            s[1].params.fastinter,
            s[1].params.downinter
        ),
        (Some(8443), Some(100), Some(5000))
    );
    assert_eq!(s[2].port, None);
    assert!(s[2].params.backup && s[2].params.disabled);
    assert_eq!(s[3].track.as_ref().map(|t| t.id), Some(s[0].health_source));
    assert_eq!(s[3].health_source, router_core::ServerId(0));
}

#[test]
fn rules_land_in_order() {
    let (c, w) = ok(
        "frontend f\n bind :80\n acl a path_beg /a\n acl a path_beg /b\n redirect prefix https://x.com code 301 drop-query append-slash if a\n\
         redirect location /y unless a\n redirect scheme https code 308\n use_backend b if a\n use_backend b\n default_backend b\n\
         backend b\n acl d hdr_beg(host) dev.\n use-server s unless d\n server s 10.0.0.1:80\n",
    );
    assert!(w.is_empty(), "{w:?}");
    let f = &c.proxies[0];
    assert_eq!(f.acls[0].terms.len(), 2);
    let r = &f.redirects[0];
    assert_eq!(
        (r.kind, r.to.as_str(), r.code, r.drop_query, r.append_slash),
        (RedirectKind::Prefix, "https://x.com", 301, true, true)
    );
    assert_eq!(
        (f.redirects[1].kind, f.redirects[1].code),
        (RedirectKind::Location, 302)
    );
    assert!(f.redirects[1].cond.as_ref().is_some_and(|c| c.unless));
    assert_eq!(
        (
            f.redirects[2].kind,
            f.redirects[2].to.as_str(),
            f.redirects[2].code
        ),
        (RedirectKind::Scheme, "https", 308)
    );
    assert_eq!(f.use_backends.len(), 2);
    assert!(f.use_backends[1].cond.is_none());
    assert_eq!(c.proxies[1].use_servers[0].server, router_core::ServerId(0));
}

#[test]
fn quoting_and_comments() {
    let (c, _) = ok(
        "frontend f # the frontend\n bind :80\n redirect location \"/a b#c\" if { path '/x y' }\n redirect location /p\\ q\n default_backend b\nbackend b\n",
    );
    assert_eq!(c.proxies[0].redirects[0].to, "/a b#c");
    assert_eq!(c.proxies[0].redirects[1].to, "/p q");
    // HAProxy 2.6 sends a plain redirect string as written, percent signs included.
    let (c, _) = ok(
        "frontend f\n bind :80\n redirect location /a%20b%%25%[path]\n default_backend b\nbackend b\n",
    );
    assert_eq!(c.proxies[0].redirects[0].to, "/a%20b%%25%[path]");
}

#[test]
fn warnings() {
    let (_, w) = ok(
        "frontend f\n bind :80\n acl a path /a\n use_backend b if a\n redirect location /x if a\n default_backend b\nbackend b\n",
    );
    assert_eq!((w[0].kind, w[0].line), (K::RedirectAfterUseBackend, 5));
    let (_, w) = ok(
        "frontend f\n bind :80\n acl s1 url_sub wtd=wt1\n acl s10 url_sub wtd=wt10\n default_backend b\nbackend b\n",
    );
    assert_eq!((w[0].kind, w[0].line), (K::CollidingPrefix, 3));
    assert!(w[0].message.contains("wt10"));
    let (_, w) = ok(
        "frontend f\n bind :80\n acl s1 urlp(wtd) -m beg wt1\n acl s2 urlp(wtd) -m beg wt2\n default_backend b\nbackend b\n",
    );
    assert!(w.is_empty(), "{w:?}");
    let (_, w) = ok(
        "frontend f\n bind :80\n default_backend b\nfrontend g\n default_backend b\nbackend b\n",
    );
    assert_eq!((w[0].kind, w[0].line), (K::Unreachable, 4));
    // No bind anywhere: nothing would listen, HAProxy refuses it.
    assert_eq!(
        err("frontend f\n default_backend b\nbackend b\n").kind,
        K::Unreachable
    );
    let (_, w) = ok(
        "frontend f\n bind :80\n balance roundrobin\n timeout server 1s\n default_backend b\nbackend b\n timeout client 1s\n",
    );
    assert_eq!(w.iter().filter(|d| d.kind == K::NotAllowedHere).count(), 3);
    let (_, w) = ok("frontend f\n bind :80\n acl a path_beg\n default_backend b\nbackend b\n");
    assert!(w[0].message.contains("never match"));
}

#[test]
fn errors_name_line_column_keyword_and_hint() {
    assert_err(
        "frontend f\n bind :80\n use_bakend b\n",
        K::UnknownKeyword,
        3,
        2,
        "use_bakend",
        "unknown keyword",
        Some("did you mean 'use_backend'"),
    );
    assert_err(
        "frontend f\n bind :80\n use_backend bck3\nbackend bck1\n",
        K::UnknownBackend,
        3,
        14,
        "use_backend",
        "no such backend 'bck3'",
        Some("did you mean 'bck1'"),
    );
    assert_err(
        "frontend f\n bind :80\n default_backend nope\n",
        K::UnknownBackend,
        3,
        18,
        "default_backend",
        "no such backend",
        None,
    );
    assert_err(
        "frontend f\n bind :80\n acl srv1_up path /\n use_backend b if srv1_upp\nbackend b\n",
        K::UnknownAcl,
        4,
        19,
        "use_backend",
        "no such ACL 'srv1_upp'",
        Some("did you mean 'srv1_up'"),
    );
    assert_err(
        "frontend f\n bind :80\n use_backend b if later\n acl later path /\nbackend b\n",
        K::UnknownAcl,
        3,
        19,
        "use_backend",
        "no such ACL",
        Some("before the rule"),
    );
    assert_err(
        "backend b\n use-server t if TRUE\n server s 10.0.0.1:80\n",
        K::UnknownServer,
        2,
        13,
        "use-server",
        "no such server 't'",
        None,
    );
    assert_err(
        "backend b\n use-server s\n server s 10.0.0.1:80\n",
        K::MissingArgument,
        2,
        13,
        "use-server",
        "requires either 'if' or 'unless'",
        None,
    );
    assert_err(
        "backend b\n server s 10.0.0.1:80 track c/s\n",
        K::UnknownBackend,
        2,
        29,
        "track",
        "no such backend 'c'",
        None,
    );
    assert_err(
        "backend b\n server s 10.0.0.1:80 track b/t\n server u 10.0.0.1:81\n",
        K::UnknownServer,
        2,
        29,
        "track",
        "no such server 't'",
        None,
    );
    assert_err(
        "backend b\n server s 10.0.0.1:80 track b/t\n server t 10.0.0.1:81 track b/s\n",
        K::TrackCycle,
        2,
        1,
        "track",
        "track loop",
        Some("check"),
    );
    assert_err(
        "backend b\n server s 10.0.0.1:80 track t\n server t 10.0.0.1:81\n",
        K::TrackWithoutCheck,
        2,
        1,
        "track",
        "has no health check",
        Some("add 'check' to server t"),
    );
    assert_err(
        "defaults\n timeout conect 5s\n",
        K::UnknownKeyword,
        2,
        10,
        "timeout conect",
        "unknown timeout",
        Some("did you mean 'timeout connect'"),
    );
    assert_err(
        "defaults\n timeout connect 5x\n",
        K::InvalidValue,
        2,
        18,
        "timeout connect",
        "not a valid time",
        Some("us, ms, s"),
    );
    assert_err(
        "defaults\n option forwardfro\n",
        K::UnknownKeyword,
        2,
        9,
        "option forwardfro",
        "unknown option",
        Some("did you mean 'option forwardfor'"),
    );
    assert_err(
        "defaults\n option abortonclose\n",
        K::Unsupported,
        2,
        9,
        "option abortonclose",
        "not supported",
        None,
    );
    assert_err(
        "defaults\n mode tcp\n",
        K::Unsupported,
        2,
        7,
        "mode",
        "mode tcp",
        Some("mode http"),
    );
    assert_err(
        "defaults\n balance rdp-cookie\n",
        K::Unsupported,
        2,
        10,
        "balance",
        "'balance rdp-cookie' is not supported by Wt Edge yet",
        Some("balance source"),
    );
    assert_err(
        "backend b\n hash-type consistent fnv\n",
        K::InvalidValue,
        2,
        23,
        "hash-type",
        "only supports the 'sdbm', 'djb2', 'crc32' and 'wt6'",
        None,
    );
    assert_err(
        "frontend f\n bind :80\n http-after-response set-header X 1\n",
        K::Unsupported,
        3,
        2,
        "http-after-response",
        "not supported by Wt Edge yet",
        None,
    );
    assert_err(
        "frontend f\n bind :80\n server s 10.0.0.1:80\n",
        K::NotAllowedHere,
        3,
        2,
        "server",
        "not allowed in a 'frontend'",
        Some("backend or listen"),
    );
    assert_err(
        "backend b\n use_backend x\n",
        K::NotAllowedHere,
        2,
        2,
        "use_backend",
        "not allowed in a 'backend'",
        None,
    );
    assert_err(
        "defaults\n acl a path /\n",
        K::NotAllowedHere,
        2,
        2,
        "acl",
        "not allowed in a 'defaults'",
        None,
    );
    assert_err(
        "frontend f\n bind :80\n acl a url_reg ^/x\n",
        K::Unsupported,
        3,
        8,
        "acl",
        "'url_reg' is not supported",
        Some("url_beg"),
    );
    assert_err(
        "frontend f\n bind :80\n acl a pathbeg /x\n",
        K::UnknownKeyword,
        3,
        8,
        "acl",
        "unknown fetch 'pathbeg'",
        Some("did you mean 'path_beg'"),
    );
    assert_err(
        "frontend f\n bind :80\n acl a path -m regex /x\n",
        K::InvalidValue,
        3,
        16,
        "acl",
        "unknown matcher",
        None,
    );
    assert_err(
        "frontend f\n bind :80\n acl a path -m reg /x\n",
        K::Unsupported,
        3,
        16,
        "acl",
        "-m reg",
        None,
    );
    assert_err(
        "frontend f\n bind :80\n acl a path -f /etc/list\n",
        K::Unsupported,
        3,
        13,
        "acl",
        "'-f'",
        None,
    );
    assert_err(
        "frontend f\n bind :80\n acl a path -x /a\n",
        K::InvalidValue,
        3,
        13,
        "acl",
        "unknown flag",
        Some("--"),
    );
    assert_err(
        "frontend f\n bind :80\n acl a nbsrv(b) gt zero\nbackend b\n",
        K::InvalidValue,
        3,
        20,
        "acl",
        "not an integer pattern",
        None,
    );
    assert_err(
        "frontend f\n bind :80\n acl a src 10.0.0.0/33\n",
        K::InvalidValue,
        3,
        12,
        "acl",
        "not an address or network",
        None,
    );
    assert_err(
        "frontend f\n bind :80\n acl a nbsrv(nope) gt 0\n",
        K::UnknownBackend,
        3,
        8,
        "acl",
        "nbsrv: no such backend 'nope'",
        None,
    );
    assert_err(
        "frontend f\n bind :80\n acl a always_true x\n",
        K::InvalidValue,
        3,
        20,
        "acl",
        "takes no pattern",
        None,
    );
    assert_err(
        "frontend f\n bind :80\n acl a hdr(host,1) x\n",
        K::Unsupported,
        3,
        8,
        "acl",
        "fetch arguments",
        None,
    );
    assert_err(
        "frontend f\n bind :80\n acl a hdr(host x\n",
        K::Syntax,
        3,
        8,
        "acl",
        "missing ')'",
        None,
    );
    assert_err(
        "frontend f\n bind :80\n acl a path(x) /\n",
        K::InvalidValue,
        3,
        8,
        "acl",
        "takes no argument",
        None,
    );
    assert_err(
        "frontend f\n bind :80\n acl a! path /\n",
        K::InvalidValue,
        3,
        6,
        "acl",
        "invalid character",
        None,
    );
    assert_err(
        "frontend f\n bind :80\n acl a\n",
        K::MissingArgument,
        3,
        6,
        "acl",
        "needs a fetch",
        None,
    );
    assert_err(
        "frontend f\n bind :80\n use_backend b if { path /a\nbackend b\n",
        K::Syntax,
        3,
        19,
        "use_backend",
        "'{' without a matching '}'",
        None,
    );
    assert_err(
        "frontend f\n bind :80\n use_backend b when TRUE\nbackend b\n",
        K::InvalidValue,
        3,
        16,
        "use_backend",
        "unexpected 'when'",
        Some("if' or 'unless"),
    );
    assert_err(
        "frontend f\n bind :80\n use_backend %[req.hdr(x)]\n",
        K::Unsupported,
        3,
        14,
        "use_backend",
        "dynamic backend",
        None,
    );
    assert_err(
        "frontend f\n bind :80\n redirect location /x code 304\n",
        K::InvalidValue,
        3,
        28,
        "redirect",
        "invalid redirect code",
        Some("301, 302, 303, 307 or 308"),
    );
    assert_err(
        "frontend f\n bind :80\n redirect to /x\n",
        K::InvalidValue,
        3,
        11,
        "redirect",
        "unknown redirect type",
        None,
    );
    assert_err(
        "frontend f\n bind :80\n redirect location /x drop\n",
        K::InvalidValue,
        3,
        23,
        "redirect",
        "unexpected 'drop'",
        None,
    );
    assert_err(
        "frontend f\n bind :80 ssl crt /x.pem\n",
        K::Unsupported,
        2,
        11,
        "bind",
        "TLS",
        None,
    );
    assert_err(
        "frontend f\n bind 80\n",
        K::InvalidValue,
        2,
        7,
        "bind",
        "has no port",
        None,
    );
    assert_err(
        "frontend f\n bind :80-90\n",
        K::Unsupported,
        2,
        7,
        "bind",
        "port ranges",
        None,
    );
    assert_err(
        "frontend f\n bind :99999\n",
        K::InvalidValue,
        2,
        7,
        "bind",
        "invalid port",
        None,
    );
    assert_err(
        "frontend f\n bind host.name:80\n",
        K::InvalidValue,
        2,
        7,
        "bind",
        "invalid bind address",
        None,
    );
    assert_err(
        "backend b\n server s\n",
        K::MissingArgument,
        2,
        9,
        "server",
        "needs an address",
        None,
    );
    assert_err(
        "backend b\n server s bad/addr:80\n",
        K::InvalidValue,
        2,
        11,
        "server",
        "invalid server address",
        None,
    );
    assert_err(
        "backend b\n server s 10.0.0.1:+10\n",
        K::InvalidValue,
        2,
        11,
        "server",
        "invalid port",
        None,
    );
    assert_err(
        "backend b\n server s 10.0.0.1:80 chek\n",
        K::UnknownKeyword,
        2,
        23,
        "server",
        "unknown server option",
        Some("did you mean 'check'"),
    );
    assert_err(
        "backend b\n server s 10.0.0.1:80 cookie s1\n",
        K::Unsupported,
        2,
        23,
        "server",
        "cookie",
        Some("wtd"),
    );
    assert_err(
        "backend b\n server s 10.0.0.1:80 weight 300\n",
        K::InvalidValue,
        2,
        30,
        "server",
        "out of range",
        Some("0 to 256"),
    );
    assert_err(
        "backend b\n server s 10.0.0.1:80 rise 0\n",
        K::InvalidValue,
        2,
        28,
        "server",
        "at least 1",
        None,
    );
    assert_err(
        "backend b\n server s 10.0.0.1:80 inter\n",
        K::MissingArgument,
        2,
        23,
        "server",
        "missing an argument",
        None,
    );
    assert_err(
        "backend b\n server s 10.0.0.1:80\n server s 10.0.0.2:80\n",
        K::Duplicate,
        3,
        9,
        "server",
        "already declared",
        None,
    );
    assert_err(
        "backend b\nbackend b\n",
        K::Duplicate,
        2,
        9,
        "backend",
        "already declared at line 1",
        None,
    );
    assert_err(
        "frontend\n",
        K::MissingArgument,
        1,
        1,
        "frontend",
        "needs a name",
        None,
    );
    assert_err(
        "frontend f/x\n",
        K::InvalidValue,
        1,
        10,
        "frontend",
        "invalid character",
        None,
    );
    assert_err(
        "defaults web\n",
        K::Unsupported,
        1,
        10,
        "defaults",
        "named defaults",
        None,
    );
    assert_err(
        "peers p\n peer a 1.2.3.4:1\n",
        K::Unsupported,
        1,
        1,
        "peers",
        "not supported",
        None,
    );
    assert_err(
        " bind :80\n",
        K::UnknownKeyword,
        1,
        2,
        "bind",
        "outside of any section",
        Some("start a section"),
    );
    assert_err(
        "global\n nbthread lots\n",
        K::InvalidValue,
        2,
        11,
        "nbthread",
        "not a valid number",
        None,
    );
    assert_err(
        "global\n stats socket /x level root\n",
        K::InvalidValue,
        2,
        18,
        "stats",
        "'level' only supports 'user', 'operator', and 'admin'",
        None,
    );
    assert_err(
        "global\n daemom\n",
        K::UnknownKeyword,
        2,
        2,
        "daemom",
        "unknown keyword",
        Some("did you mean 'daemon'"),
    );
    assert_err(
        "frontend f\n bind :80\n redirect location \"/x\n",
        K::Syntax,
        3,
        20,
        "",
        "unterminated quote",
        None,
    );
    assert_err(
        "defaults\n option forwardfor except nope\n",
        K::InvalidValue,
        2,
        27,
        "option forwardfor",
        "not an address",
        None,
    );
    assert_err(
        "defaults\n option forwardfor bogus\n",
        K::InvalidValue,
        2,
        20,
        "option forwardfor",
        "unknown 'option forwardfor' argument",
        None,
    );
    assert_err(
        "defaults\n no redispatch\n",
        K::InvalidValue,
        2,
        5,
        "no",
        "must be followed by 'option'",
        None,
    );
    assert_err(
        "defaults\n retries 3 4\n",
        K::InvalidValue,
        2,
        12,
        "retries",
        "unexpected '4'",
        Some("remove"),
    );
    assert_err(
        "defaults\n mode http x\n",
        K::InvalidValue,
        2,
        12,
        "mode",
        "unexpected 'x'",
        None,
    );
}

#[test]
fn log_lines_are_checked_as_haproxy_does() {
    let (c, _) = ok(
        "defaults\n log global\n no log\n log stdout format raw local0 info\n log 10.0.0.1:514 len 2048 local7 notice err\n",
    );
    assert_eq!(c.global.log.len(), 0);
    assert_err(
        "global\n log 127.0.0.1\n",
        K::MissingArgument,
        2,
        6,
        "log",
        "address and a facility",
        None,
    );
    assert_err(
        "global\n log 127.0.0.1 locl0\n",
        K::InvalidValue,
        2,
        16,
        "log",
        "unknown log facility",
        Some("did you mean 'local0'"),
    );
    assert_err(
        "global\n log global\n",
        K::InvalidValue,
        2,
        6,
        "log",
        "not allowed in the global section",
        None,
    );
    assert_err(
        "defaults\n log global extra\n",
        K::InvalidValue,
        2,
        13,
        "log",
        "unexpected 'extra'",
        None,
    );
}

#[test]
fn listen_switching_to_itself_is_a_loop() {
    assert_err(
        "listen l\n bind :80\n default_backend l\n server s 10.0.0.1:80\n",
        K::InvalidValue,
        3,
        18,
        "use_backend",
        "loop detected",
        None,
    );
}

#[test]
fn odd_server_forms() {
    let (c, _) = ok("backend b\n server s 10.0.0.1:0\n");
    assert_eq!(
        c.servers[0].port, None,
        ":0 is the client's port, as no port"
    );
    assert_err(
        "backend b\n server s 300.0.0.1:80\n",
        K::InvalidValue,
        2,
        11,
        "server",
        "invalid server address",
        None,
    );
    assert_err(
        "backend b\n server s 10.0.0.1:80 check fastinter 0\n",
        K::InvalidValue,
        2,
        39,
        "server",
        "greater than 0",
        None,
    );
    assert_err(
        "frontend f\n bind :80\n acl a path_len 5:3\n",
        K::InvalidValue,
        3,
        17,
        "acl",
        "not an integer pattern",
        None,
    );
}

#[test]
fn mode_warning() {
    let warned = |text: &str| match parse("t.cfg", text) {
        Ok(p) => p
            .warnings
            .iter()
            .filter(|w| w.kind == K::NotHttpMode)
            .map(|w| w.line)
            .collect::<Vec<_>>(),
        Err(e) => panic!("{e}"),
    };
    assert_eq!(
        warned("frontend f\n bind :80\n default_backend b\nbackend b\n mode http\n"),
        [1]
    );
    assert!(
        warned("defaults\n mode http\nfrontend f\n bind :80\n default_backend b\nbackend b\n")
            .is_empty()
    );
}

#[test]
fn empty_conditions_are_accepted_as_haproxy_does() {
    for cond in [
        "if",
        "unless",
        "if TRUE or",
        "if or TRUE",
        "if TRUE or or FALSE",
        "if !",
    ] {
        let (c, _) = ok(&format!(
            "frontend f\n bind :80\n use_backend b {cond}\n default_backend b\nbackend b\n"
        ));
        assert_eq!(c.proxies[0].use_backends.len(), 1, "{cond}");
    }
}

#[test]
fn haproxy_quirks_of_acceptance() {
    // Accepted by HAProxy 2.6, so by Wt Edge.
    let (c, w) = ok(
        "defaults\n option httplog clf\n option redispatch 3\n timeout client-fin 1s\n timeout server-fin 2s\n\
                     frontend f\n bind :80\n acl a urlp_beg(wtd) wt1\n use_backend b if a HTTP_2.0 or a\n default_backend b\nbackend b\n\
                     use-server s if TRUE\n redirect location /x\n server s 10.0.0.1:80\n",
    );
    let t = &c.proxies[0].settings.timeouts;
    assert_eq!((t.client_fin, t.server_fin), (Some(1000), Some(2000)));
    assert!(c.proxies[0].settings.options.httplog && c.proxies[0].settings.options.redispatch);
    assert_eq!(
        w.iter()
            .filter(|d| d.kind == K::RedirectAfterUseBackend)
            .count(),
        1,
        "{w:?}"
    );
    // Refused by HAProxy 2.6, so by Wt Edge.
    assert_err(
        "defaults\n no option forwardfor\n",
        K::InvalidValue,
        2,
        12,
        "no option forwardfor",
        "cannot be negated",
        Some("remove"),
    );
    assert_err(
        "defaults\n no option httplog\n",
        K::InvalidValue,
        2,
        12,
        "no option httplog",
        "cannot be negated",
        None,
    );
    assert_err(
        "backend b\n server s 10.0.0.1:80 check track t\n server t 10.0.0.2:80 check\n",
        K::InvalidValue,
        2,
        35,
        "track",
        "cannot both run checks and track",
        None,
    );
    assert_err(
        "backend b\n server s 10.0.0.1:80 check inter 0\n",
        K::InvalidValue,
        2,
        35,
        "server",
        "greater than 0",
        None,
    );
}

#[test]
fn errors_are_all_reported_with_warnings() {
    let e = match parse(
        "t.cfg",
        "defaults\n contimeout 5s\n bogus\nfrontend f\n bind :80\n use_backend nope\n",
    ) {
        Ok(_) => panic!("must fail"),
        Err(e) => e,
    };
    assert_eq!(e.errors.len(), 2);
    assert_eq!((e.errors[0].line, e.errors[1].line), (3, 6));
    let kinds: Vec<K> = e.warnings.iter().map(|w| w.kind).collect();
    assert_eq!(kinds, [K::Legacy, K::NotHttpMode]);
}

#[test]
fn frontend_and_backend_may_share_a_name() {
    let (c, _) =
        ok("frontend www\n bind :80\n default_backend www\nbackend www\n server s 10.0.0.1:80\n");
    assert_eq!(
        c.proxies[0].default_backend.as_ref().map(|d| d.id),
        Some(router_core::ProxyId(1))
    );
}

#[test]
fn acl_from_another_frontend_is_refused_in_a_frontend() {
    let d = err(
        "frontend a\n bind :80\n acl x path /\n default_backend b\nfrontend c\n bind :81\n use_backend b if x\nbackend b\n",
    );
    assert_eq!((d.kind, d.line), (K::UnknownAcl, 7));
}

#[test]
fn http_modes_replace_each_other_and_reuse_keywords_parse() {
    use router_core::model::{HttpMode, HttpReuse};
    let (c, _) = ok(
        "defaults\n mode http\n option http-server-close\n http-reuse always\n\
         frontend f\n bind :80\n option http-keep-alive\n default_backend b\n\
         backend b\n no option http-keep-alive\n option httpclose\n no option http-server-close\n\
         server s 10.0.0.1:80 pool-max-conn 4 pool-purge-delay 2s pool-low-conn 1\n\
         backend c\n no option http-server-close\n http-reuse never\n\
         server s 10.0.0.1:80 pool-max-conn -1\n",
    );
    let mode = |i: usize| c.proxies[i].settings.options.http_mode;
    // `option http-keep-alive` replaces the defaults' server-close.
    assert_eq!(mode(0), HttpMode::KeepAlive);
    // `no option http-server-close` leaves httpclose alone (it is not the current mode).
    assert_eq!(mode(1), HttpMode::Close);
    assert_eq!(mode(2), HttpMode::KeepAlive);
    assert_eq!(c.proxies[1].settings.http_reuse, HttpReuse::Always);
    assert_eq!(c.proxies[2].settings.http_reuse, HttpReuse::Never);
    let p = &c.servers[0].params;
    assert_eq!(
        (p.pool_max_conn, p.pool_purge_delay, p.pool_low_conn),
        (Some(4), 2000, 1)
    );
    assert_eq!(c.servers[1].params.pool_max_conn, None);
    let e = err("backend b\n http-reuse sometimes\n server s 10.0.0.1:80\n");
    assert!(e.message.contains("sometimes"), "{e:?}");
}

/// Every `balance` and `hash-type` form HAProxy 2.6 accepts and Wt Edge
/// implements lands in the model with HAProxy's defaults.
#[test]
fn balance_algorithms_and_hash_types() {
    use router_core::model::{Balance, HashFunction};
    let cases: &[(&str, Balance)] = &[
        ("leastconn", Balance::LeastConn),
        ("first", Balance::First),
        ("source", Balance::Source),
        ("random", Balance::Random { draws: 2 }),
        ("random(3)", Balance::Random { draws: 3 }),
        (
            "uri len 12 depth 2 whole",
            Balance::Uri {
                len: 12,
                depth: 2,
                whole: true,
                path_only: false,
            },
        ),
        ("url_param wtd", Balance::UrlParam { name: "wtd".into() }),
        (
            "hdr(Host) use_domain_only",
            Balance::Hdr {
                name: "Host".into(),
                use_domain_only: true,
            },
        ),
    ];
    for (text, want) in cases {
        let (c, _) = ok(&format!("defaults\n balance {text}\nbackend b\n"));
        assert_eq!(&c.proxies[0].settings.balance, want, "{text}");
    }
    let ht = |t: &str| {
        ok(&format!("backend b\n balance source\n hash-type {t}\n"))
            .0
            .proxies[0]
            .settings
            .hash_type
    };
    let (c, _) = ok("backend b\n balance source\n");
    assert!(!c.proxies[0].settings.hash_type.consistent);
    let d = ht("consistent");
    assert!(d.consistent && d.avalanche && d.function == HashFunction::Sdbm);
    let d = ht("consistent djb2");
    assert!(d.consistent && !d.avalanche && d.function == HashFunction::Djb2);
    let d = ht("map-based crc32 avalanche");
    assert!(!d.consistent && d.avalanche && d.function == HashFunction::Crc32);
    for bad in [
        "balance uri depth 0",
        "balance random(0)",
        "balance hdr()",
        "balance url_param",
        "hash-type avalanche",
    ] {
        assert!(
            parse("t.cfg", &format!("backend b\n {bad}\n")).is_err(),
            "{bad}"
        );
    }
}

#[test]
fn use_service_knows_only_the_prometheus_exporter() {
    let (cfg, _) = ok(&format!(
        "frontend f\n mode http\n bind :80\n http-request use-service prometheus-exporter if {{ path /metrics }}\n default_backend b\n{BE}"
    ));
    let f = cfg.proxy_ids().next().map(|id| cfg.proxy(id)).unwrap();
    assert!(matches!(
        f.http_requests[0].action,
        router_core::unstable::rules::Action::UsePrometheus
    ));
    assert_err(
        &format!("frontend f\n mode http\n bind :80\n http-request use-service lua.hello\n{BE}"),
        K::Unsupported,
        4,
        27,
        "http-request",
        "only service is HAProxy's Prometheus exporter",
        Some("use-service prometheus-exporter if { path /metrics }"),
    );
}
