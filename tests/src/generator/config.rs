//! Random haproxy.cfg files over the keywords Wt Edge supports (README's table):
//! frontends and a listen section, 2-4 backends, tracked/backup/weighted servers,
//! ACLs of every supported fetch and matcher, `or`/`!`/anonymous conditions,
//! redirects of every form, `use-server`, `option forwardfor`/`originalto` variants,
//! the connection modes. Every config must load in both HAProxy 2.6 and Wt Edge:
//! a refusal is a generator bug (or a gap to write down), never a case.
//!
//! Not generated, on purpose: `log` lines (the harness adds HAProxy's), quoted
//! words (the harness's rewriter splits on spaces), ACL names shared between a
//! frontend and a backend (HAProxy 2.6 refuses them; Wt Edge's compatibility
//! with 1.4 is tested in the corpus), `rise 1` (a check that passes after a server
//! was forced DOWN would bring it back on one side only).

use super::rng::Rng;
use super::vocab::*;

/// A generated config and what requests need to know about it.
#[derive(Debug, Clone)]
pub struct GenConfig {
    pub text: String,
    /// Frontend and listen sections, in file order: where requests are sent.
    pub entries: Vec<String>,
    /// Servers to force DOWN before the first request, as `(proxy, server)`.
    pub down: Vec<(String, String)>,
    /// Servers whose state may be forced during a run (see `Srv::forceable`).
    pub forceable: Vec<(String, String)>,
}

/// A server line being built.
struct Srv {
    proxy: String,
    name: String,
    check: bool,
    /// Neither tracking nor `disabled`: its state may be forced (a tracker follows
    /// its target; forcing it, then the target, would leave the two at odds).
    forceable: bool,
}

/// State of one generation.
struct Gen<'r> {
    r: &'r mut Rng,
    out: String,
    backends: Vec<String>,
    servers: Vec<Srv>,
    /// Whether a `listen ls1` follows the frontends (a `use_backend` may name it).
    has_listen: bool,
}

fn line(out: &mut String, text: &str) {
    out.push_str("    ");
    out.push_str(text);
    out.push('\n');
}

/// Builds a config from `r`.
pub fn generate(r: &mut Rng) -> GenConfig {
    let n_backends = r.range(2, 4);
    let backends: Vec<String> = (1..=n_backends).map(|i| format!("bk{i}")).collect();
    let mut g = Gen {
        r,
        out: String::new(),
        backends,
        servers: Vec::new(),
        has_listen: false,
    };
    g.has_listen = g.r.chance(60);
    g.defaults();
    let n_frontends = g.r.range(1, 2);
    let mut entries = Vec::new();
    for i in 1..=n_frontends {
        let name = format!("fe{i}");
        g.frontend(&name);
        entries.push(name);
    }
    if g.has_listen {
        g.listen("ls1");
        entries.push("ls1".into());
    }
    for b in g.backends.clone() {
        g.backend(&b);
    }
    // Servers forced DOWN: none most of the time, else one or two.
    let mut down = Vec::new();
    let n_down = match g.r.below(10) {
        0..=5 => 0,
        6..=8 => 1,
        _ => 2,
    };
    let forceable: Vec<(String, String)> = g
        .servers
        .iter()
        .filter(|s| s.forceable)
        .map(|s| (s.proxy.clone(), s.name.clone()))
        .collect();
    if !forceable.is_empty() {
        for _ in 0..n_down {
            let pair = g.r.pick(&forceable).clone();
            if !down.contains(&pair) {
                down.push(pair);
            }
        }
    }
    // Forced in file order: several changes before a backend's first pick are
    // replayed by wtedge in file order (README, known differences).
    down.sort_by_key(|d| forceable.iter().position(|f| f == d));
    GenConfig {
        text: g.out,
        entries,
        down,
        forceable,
    }
}

/// Path parts as patterns of `kw`; without `/` for `_dir` and `_dom`: a pattern of
/// delimiters only makes HAProxy 2.6 read past the sample (README, known differences).
fn word_parts(kw: &str) -> Vec<&'static str> {
    let word = kw.ends_with("_dir") || kw.ends_with("_dom");
    PATH_PARTS
        .iter()
        .copied()
        .filter(|p| !(word && p.bytes().all(|b| b == b'/' || b == b'.')))
        .collect()
}

impl Gen<'_> {
    fn defaults(&mut self) {
        let mut d = String::from("defaults\n");
        line(&mut d, "mode http");
        line(&mut d, "option httplog");
        line(&mut d, "timeout connect 2s");
        line(&mut d, "timeout client 5s");
        line(&mut d, "timeout server 5s");
        match self.r.below(4) {
            0 => line(&mut d, "option http-server-close"),
            1 => line(&mut d, "option http-keep-alive"),
            2 => {
                line(&mut d, "option http-server-close");
                line(&mut d, "option http-pretend-keepalive");
            }
            _ => {}
        }
        if self.r.chance(30) {
            let ff = self.forwardfor();
            line(&mut d, &ff);
        }
        if self.r.chance(15) {
            let ot = self.originalto();
            line(&mut d, &ot);
        }
        if self.r.chance(30) {
            line(&mut d, "balance roundrobin");
        }
        self.out.push_str(&d);
    }

    fn forwardfor(&mut self) -> String {
        let mut s = String::from("option forwardfor");
        if self.r.chance(30) {
            let net = *self
                .r
                .pick(&["127.0.0.2", "127.0.0.0/8", "127.0.0.0/31", "10.0.0.0/8"]);
            s.push_str(&format!(" except {net}"));
        }
        if self.r.chance(30) {
            s.push_str(" header X-Client");
        }
        if self.r.chance(30) {
            s.push_str(" if-none");
        }
        s
    }

    fn originalto(&mut self) -> String {
        let mut s = String::from("option originalto");
        if self.r.chance(30) {
            let net = *self.r.pick(&["127.0.0.1", "127.0.0.0/8", "10.0.0.0/8"]);
            s.push_str(&format!(" except {net}"));
        }
        if self.r.chance(30) {
            s.push_str(" header X-Dst");
        }
        s
    }

    /// Header options of a frontend, backend or listen (on or unset: HAProxy 2.6
    /// refuses `no option forwardfor|originalto`), and sometimes a connection mode.
    fn header_options(&mut self, out: &mut String) {
        if self.r.below(10) < 3 {
            let ff = self.forwardfor();
            line(out, &ff);
        }
        if self.r.below(10) < 2 {
            let ot = self.originalto();
            line(out, &ot);
        }
        if self.r.chance(10) {
            let o = *self.r.pick(&[
                "option http-server-close",
                "no option http-server-close",
                "option http-keep-alive",
            ]);
            line(out, o);
        }
    }

    /// `n` ACL names declared in `out` (some declared on two lines, OR'ed).
    fn acls(&mut self, out: &mut String, n: usize) -> Vec<String> {
        let mut names = Vec::new();
        for i in 1..=n {
            let name = if self.r.chance(20) {
                format!("Is_{i}")
            } else {
                format!("a{i}")
            };
            let expr = self.acl_expr();
            line(out, &format!("acl {name} {expr}"));
            if self.r.chance(15) {
                let expr = self.acl_expr();
                line(out, &format!("acl {name} {expr}"));
            }
            names.push(name);
        }
        names
    }

    /// `-i` before the patterns, sometimes.
    fn maybe_i(&mut self) -> &'static str {
        if self.r.chance(30) { "-i " } else { "" }
    }

    /// One to three patterns from `pool`, space-separated, after `--` when one
    /// starts with `-` (HAProxy refuses it as an unknown flag otherwise).
    fn patterns(&mut self, pool: &[&str]) -> String {
        let n = if self.r.chance(75) {
            1
        } else {
            self.r.range(2, 3)
        };
        let list: Vec<&str> = (0..n).map(|_| *self.r.pick(pool)).collect();
        let dashes = if list.iter().any(|p| p.starts_with('-')) {
            "-- "
        } else {
            ""
        };
        format!("{dashes}{}", list.join(" "))
    }

    /// An integer test over `values`, sometimes negated (`-1`: HAProxy reads a
    /// pattern that starts with `-` as a range and ignores the operator).
    fn int_test(&mut self, values: &[&str]) -> String {
        let v = if self.r.chance(10) {
            *self.r.pick(&["-1", "-3"])
        } else {
            *self.r.pick(values)
        };
        // Without an operator, a pattern starting with `-` needs `--` first; a
        // range cannot start with `-` (both refuse `-1:2`).
        let dashes = if v.starts_with('-') { "-- " } else { "" };
        let n = v.parse::<i64>().unwrap_or(0);
        match self.r.below(8) {
            0 => format!("eq {v}"),
            1 => format!("ge {v}"),
            2 => format!("gt {v}"),
            3 => format!("le {v}"),
            4 => format!("lt {v}"),
            5 if n >= 0 => format!("{v}:{}", n + 3),
            6 if n >= 0 => format!("{v}-{}", n + 3),
            _ => format!("{dashes}{v}"),
        }
    }

    fn header_name(&mut self) -> &'static str {
        let name: &&'static str = self.r.pick(HEADER_NAMES);
        name
    }

    /// A header value pattern that suits `name`.
    fn header_pattern(&mut self, name: &str) -> String {
        let lower = name.to_ascii_lowercase();
        if lower == "host" {
            return self.patterns(HOST_PARTS);
        }
        let pool: Vec<&str> = HEADERS
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(&lower))
            .map(|(_, v)| v.to_vec())
            .unwrap_or_else(|| vec!["dev", "x"]);
        let mut parts: Vec<&str> = pool.iter().flat_map(|v| v.split(", ")).collect();
        parts.push("Dev");
        self.patterns(&parts)
    }

    /// `FETCH [flags] PATTERN...` of one ACL.
    fn acl_expr(&mut self) -> String {
        match self.r.below(16) {
            0 | 1 => {
                let kw = *self.r.pick(&[
                    "path", "path_beg", "path_end", "path_sub", "path_dir", "path_dom",
                ]);
                let i = self.maybe_i();
                let pool = if kw == "path" {
                    PATHS
                } else {
                    &word_parts(kw)[..]
                };
                format!("{kw} {i}{}", self.patterns(pool))
            }
            2 | 3 => {
                let kw = *self
                    .r
                    .pick(&["url", "url_beg", "url_end", "url_sub", "url_dir", "url_dom"]);
                let i = self.maybe_i();
                let pool: Vec<&str> = match kw {
                    "url_sub" => vec!["wtd=wt1", "wtd=wt2", "wtd=wt10", "request=ws", "app"],
                    "url" => vec!["/", "/app", "/?wtd=wt1AAAAAAAAAAAAAAAA", "*"],
                    _ => word_parts(kw),
                };
                format!("{kw} {i}{}", self.patterns(&pool))
            }
            4 => {
                let kw = *self.r.pick(&["path_len", "url_len"]);
                let t = self.int_test(&["1", "4", "8", "12", "30"]);
                format!("{kw} {t}")
            }
            5 => {
                let q = *self.r.pick(&[
                    "query wtd=wt1AAAAAAAAAAAAAAAA",
                    "query -m found",
                    "query -m sub wtd=wt",
                    "query -m beg request=",
                    "query -i -m end =ws",
                    "query -m len 0",
                ]);
                q.to_string()
            }
            6 | 7 => {
                let kw = *self.r.pick(&[
                    "hdr", "hdr_beg", "hdr_end", "hdr_sub", "hdr_dir", "hdr_dom", "req.hdr",
                ]);
                let name = self.header_name();
                let i = self.maybe_i();
                let p = self.header_pattern(name);
                format!("{kw}({name}) {i}{p}")
            }
            8 => match self.r.below(5) {
                0 => format!("hdr_len(host) {}", self.int_test(&["7", "11", "15"])),
                1 => format!("hdr_val(x-n) {}", self.int_test(&["2", "5", "10"])),
                2 => format!(
                    "hdr_ip(x-real-ip) {}",
                    self.r
                        .pick(&["10.0.0.0/8", "127.0.0.1", "::1", "10.1.2.3 127.0.0.0/8"])
                ),
                3 => {
                    let name = *self.r.pick(&["host", "x-env", "x-forwarded-for", "X-N"]);
                    let kw = *self.r.pick(&["hdr_cnt", "req.hdr_cnt"]);
                    format!("{kw}({name}) {}", self.int_test(&["0", "1", "2"]))
                }
                _ => format!("hdr_len(x-env) {}", self.int_test(&["0", "3", "4"])),
            },
            9 | 10 => {
                let name = *self.r.pick(PARAMS);
                let form = self.r.below(10);
                let pool: Vec<&str> = if name == "wtd" {
                    vec!["wt1", "wt2", "wt10", "wt1AAAAAAAAAAAAAAAA"]
                } else {
                    PARAM_VALUES
                        .iter()
                        .copied()
                        .filter(|v| !v.is_empty())
                        .collect()
                };
                let i = self.maybe_i();
                match form {
                    0 => format!("urlp({name}) -m beg {i}{}", self.patterns(&pool)),
                    1 => format!("url_param({name}) {i}{}", self.patterns(&pool)),
                    2 => format!("urlp_val({name}) {}", self.int_test(&["0", "5", "12"])),
                    3 => format!("urlp_beg({name}) {i}{}", self.patterns(&pool)),
                    4 => format!("urlp_end({name}) {i}{}", self.patterns(&pool)),
                    5 => format!("urlp_sub({name}) {i}{}", self.patterns(&pool)),
                    6 => format!("urlp_dir({name}) {}", self.patterns(&["x", "y", "a.b.c"])),
                    7 => format!(
                        "urlp_dom({name}) {}",
                        self.patterns(&["a", "b", "c", "x/y"])
                    ),
                    8 => format!("urlp_len({name}) {}", self.int_test(&["0", "2", "5"])),
                    _ => format!("urlp({name}) -m found"),
                }
            }
            11 => {
                let m = *self.r.pick(&[
                    "method GET",
                    "method GET POST",
                    "method -i get",
                    "method get",
                    "method HEAD",
                    "method PURGE OPTIONS",
                    "method -i Post",
                ]);
                m.to_string()
            }
            12 => {
                let v = *self.r.pick(&[
                    "req.ver 1.0",
                    "req_ver 1.1",
                    "req.ver 1.0 1.1",
                    "src 127.0.0.2",
                    "src 127.0.0.0/30",
                    "src 10.0.0.0/8",
                    "src -n 127.0.0.3 127.0.0.4",
                    "src 127.0.0.1",
                    "src_port gt 1023",
                    "src_port lt 1024",
                    "dst 127.0.0.1",
                    "dst 10.0.0.0/8",
                    "dst_port 1024:65535",
                    "dst_port lt 1024",
                    "always_true",
                    "always_false",
                ]);
                v.to_string()
            }
            13 => {
                let b = self.r.pick(&self.backends).clone();
                format!("nbsrv({b}) {}", self.int_test(&["0", "1", "2"]))
            }
            _ => {
                let m = *self.r.pick(&[
                    "path -m beg /app",
                    "path -m end /",
                    "path -m sub .",
                    "path -m len 1:6",
                    "path -m dir app",
                    "path -m dom b",
                    "url -m sub wtd=wt",
                    "url -m beg /",
                    "hdr(host) -m dom example",
                    "hdr(host) -i -m end .com",
                    "hdr(host) -m str example.com",
                    "hdr(x-env) -m found",
                    "hdr(host) -m len 11",
                    "hdr(x-n) -m int gt 5",
                    "hdr(x-real-ip) -m ip 10.0.0.0/8",
                    "hdr_cnt(host) -m bool",
                    "hdr_cnt(x-env) -m int 2",
                    "urlp(wtd) -m str wt1AAAAAAAAAAAAAAAA",
                    "urlp(n) -m int le 5",
                    "urlp(q) -m len 0",
                    "path -- /app",
                    "hdr(host) -i -- EXAMPLE.COM",
                    "hdr_beg(host) -i dev.",
                    "hdr_end(host) sample.com",
                ]);
                m.to_string()
            }
        }
    }

    /// A condition over `names` (and predefined and anonymous ACLs).
    fn cond(&mut self, names: &[String]) -> String {
        let groups = if self.r.chance(75) { 1 } else { 2 };
        let mut out = Vec::new();
        for g in 0..groups {
            if g > 0 {
                out.push(self.r.pick(&["or", "||"]).to_string());
            }
            let terms = if self.r.chance(70) { 1 } else { 2 };
            for _ in 0..terms {
                let neg = if self.r.chance(20) { "!" } else { "" };
                let term = match self.r.below(10) {
                    0..=5 if !names.is_empty() => self.r.pick(names).clone(),
                    6 | 7 => format!("{{ {} }}", self.acl_expr()),
                    _ => {
                        let predefined: Vec<&str> = PREDEFINED.split(' ').collect();
                        self.r.pick(&predefined).to_string()
                    }
                };
                // `! a` and `!a` are both HAProxy's.
                if neg.is_empty() || self.r.chance(50) {
                    out.push(format!("{neg}{term}"));
                } else {
                    out.push("!".into());
                    out.push(term);
                }
            }
        }
        out.join(" ")
    }

    fn if_unless(&mut self, names: &[String]) -> String {
        let kw = if self.r.chance(80) { "if" } else { "unless" };
        format!("{kw} {}", self.cond(names))
    }

    fn redirect(&mut self, names: &[String]) -> String {
        let (kind, to) = match self.r.below(3) {
            0 => (
                "location",
                *self.r.pick(&[
                    "/login",
                    "/moved?x=1",
                    "http://other.example.com/",
                    "/%41b",
                    "https://example.com/wt",
                    "/",
                ]),
            ),
            1 => (
                "prefix",
                *self.r.pick(&[
                    "/new",
                    "http://example.com",
                    "/",
                    "https://sec.example.com/base",
                    "/p/",
                ]),
            ),
            _ => ("scheme", *self.r.pick(&["https", "http"])),
        };
        let mut s = format!("redirect {kind} {to}");
        if self.r.chance(50) {
            let c = self.r.pick(&[301, 302, 303, 307, 308]);
            s.push_str(&format!(" code {c}"));
        }
        if self.r.chance(25) {
            s.push_str(" drop-query");
        }
        if self.r.chance(25) {
            s.push_str(" append-slash");
        }
        if self.r.chance(95) {
            s.push(' ');
            s.push_str(&self.if_unless(names));
        }
        s
    }

    /// The proxies a `use_backend` may name: backends, rarely the listen section.
    fn backend_target(&mut self, from_listen: bool) -> String {
        // A listen naming itself is a loop both refuse.
        if self.has_listen && !from_listen && self.r.chance(5) {
            "ls1".into()
        } else {
            self.r.pick(&self.backends).clone()
        }
    }

    /// `use_backend` and `default_backend` lines of a frontend or listen.
    fn routing(&mut self, out: &mut String, names: &[String], from_listen: bool) {
        for _ in 0..self.r.range(0, 3) {
            let b = self.backend_target(from_listen);
            let c = self.if_unless(names);
            line(out, &format!("use_backend {b} {c}"));
        }
    }

    /// The start of a frontend or listen section: header, bind, header options and
    /// up to `max_acls` ACLs (their names returned).
    fn entry_head(&mut self, kind: &str, name: &str, max_acls: usize) -> (String, Vec<String>) {
        let mut out = format!("{kind} {name}\n");
        line(&mut out, "bind 127.0.0.1:80");
        self.header_options(&mut out);
        let n = self.r.range(0, max_acls);
        let names = self.acls(&mut out, n);
        (out, names)
    }

    fn frontend(&mut self, name: &str) {
        let (mut out, names) = self.entry_head("frontend", name, 4);
        for _ in 0..self.r.range(0, 2) {
            let rd = self.redirect(&names);
            line(&mut out, &rd);
        }
        self.routing(&mut out, &names, false);
        if self.r.chance(85) {
            let b = self.r.pick(&self.backends).clone();
            line(&mut out, &format!("default_backend {b}"));
        }
        self.out.push_str(&out);
    }

    fn listen(&mut self, name: &str) {
        let (mut out, names) = self.entry_head("listen", name, 3);
        if self.r.chance(40) {
            let rd = self.redirect(&names);
            line(&mut out, &rd);
        }
        if self.r.chance(30) {
            self.routing(&mut out, &names, true);
        }
        self.servers_and_rules(&mut out, name, &names);
        self.out.push_str(&out);
    }

    fn backend(&mut self, name: &str) {
        let mut out = format!("backend {name}\n");
        if self.r.chance(50) {
            line(&mut out, "balance roundrobin");
        }
        self.header_options(&mut out);
        if self.r.chance(15) {
            line(&mut out, "option allbackups");
        }
        let n = self.r.range(0, 3);
        let names = self.acls(&mut out, n);
        if self.r.chance(30) {
            let rd = self.redirect(&names);
            line(&mut out, &rd);
        }
        self.servers_and_rules(&mut out, name, &names);
        self.out.push_str(&out);
    }

    /// `use-server` rules and 1-4 server lines of a backend or listen.
    fn servers_and_rules(&mut self, out: &mut String, proxy: &str, names: &[String]) {
        let n = self.r.range(1, 4);
        let server_names: Vec<String> = (1..=n).map(|i| format!("s{i}")).collect();
        for _ in 0..self.r.range(0, 2) {
            let s = self.r.pick(&server_names).clone();
            let c = self.if_unless(names);
            line(out, &format!("use-server {s} {c}"));
        }
        for s in &server_names {
            let mut l = format!("server {s} 127.0.0.1:9000");
            // A tracker follows a checked server seen before it.
            let trackable: Vec<&Srv> = self.servers.iter().filter(|x| x.check).collect();
            let mut check = false;
            let mut forceable = true;
            if !trackable.is_empty() && self.r.chance(15) {
                forceable = false;
                let t = trackable[self.r.below(trackable.len())];
                if t.proxy == proxy && self.r.chance(50) {
                    l.push_str(&format!(" track {}", t.name));
                } else {
                    l.push_str(&format!(" track {}/{}", t.proxy, t.name));
                }
            } else if self.r.chance(40) {
                check = true;
                l.push_str(" check");
                if self.r.chance(30) {
                    l.push_str(" inter 3s rise 2 fall 3");
                }
            }
            if self.r.chance(35) {
                let w = self.r.pick(&[0, 1, 2, 3, 5, 10, 256]);
                l.push_str(&format!(" weight {w}"));
            }
            if self.r.chance(15) {
                l.push_str(" backup");
            }
            if self.r.chance(4) {
                l.push_str(" disabled");
                forceable = false;
            }
            line(out, &l);
            self.servers.push(Srv {
                proxy: proxy.to_string(),
                name: s.clone(),
                check,
                forceable,
            });
        }
    }
}
