//! Turns a wiki/legacy config into one that HAProxy 2.6 accepts, for tests only.
//!
//! - `contimeout|clitimeout|srvtimeout X` -> `timeout connect|client|server X`.
//! - `listen 0.0.0.0:8181` (1.4: an address where the name goes) keeps that word as the
//!   proxy's name (HAProxy 2.6 accepts `.` and `:` in names) and gets a `bind`;
//!   `listen|frontend NAME ADDR` loses ADDR and gets a `bind`.
//! - `global`: `user group uid gid daemon log chroot nbproc pidfile stats` lines are
//!   dropped and `stats socket <path> level admin` is added (a `global` section is
//!   created when there is none), with `noreuseport` so that two processes never
//!   share a port. `log` lines are dropped everywhere.
//! - Every frontend/listen listens on one loopback port chosen by the caller (the first
//!   `bind` is rewritten, the others dropped), optionally with `accept-proxy`.
//! - Every `server` line gets its own loopback port chosen by the caller, so that the
//!   test knows which server line answered. `check` stays (tracking needs it) but the
//!   check is made harmless: `inter 1h` replaces `inter/fastinter/downinter`, and
//!   `port`/`addr` are dropped, so that after the start-up check no check runs during a
//!   test and a server forced DOWN from the CLI stays DOWN.
//! - ACLs that a backend's conditions use but that are only declared in a frontend
//!   (seed3's `is_dev_URL`, refused by HAProxy >= 1.6) are copied into the backend.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// What the caller is asked a port for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint<'a> {
    /// A frontend or listen section (its bind).
    Frontend(&'a str),
    /// A server line of a backend or listen section.
    Server { proxy: &'a str, server: &'a str },
}

/// Options of one rewrite.
#[derive(Debug, Clone)]
pub struct Options<'a> {
    /// Path of the admin stats socket to declare in `global`.
    pub stats_socket: &'a Path,
    /// Add `accept-proxy` to every bind (the client then sends a PROXY v1 header).
    pub accept_proxy: bool,
    /// Keep the checks' `inter`/`fastinter`/`downinter` (the fault drills watch a
    /// killed server go DOWN) instead of making checks harmless.
    pub live_checks: bool,
}

/// One server line of the config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerLine {
    pub proxy: String,
    pub name: String,
    pub port: u16,
    pub check: bool,
    /// `track [BACKEND/]SERVER`, the backend filled in.
    pub track: Option<(String, String)>,
}

/// The rewritten config and the ports the caller chose.
#[derive(Debug, Clone)]
pub struct Modernized {
    pub text: String,
    /// Frontend/listen names with their port, in file order.
    pub frontends: Vec<(String, u16)>,
    pub servers: Vec<ServerLine>,
}

impl Modernized {
    /// The port of a frontend/listen (`None`: the first one).
    pub fn frontend_port(&self, name: Option<&str>) -> Option<u16> {
        match name {
            None => self.frontends.first().map(|f| f.1),
            Some(n) => self.frontends.iter().find(|f| f.0 == n).map(|f| f.1),
        }
    }

    /// Servers whose state is that of `(proxy, server)`: itself and every server
    /// tracking it, directly or not.
    pub fn followers(&self, proxy: &str, server: &str) -> Vec<(String, String)> {
        let mut out = vec![(proxy.to_string(), server.to_string())];
        let mut i = 0;
        while i < out.len() {
            let cur = out[i].clone();
            for s in &self.servers {
                let me = (s.proxy.clone(), s.name.clone());
                if s.track.as_ref() == Some(&cur) && !out.contains(&me) {
                    out.push(me);
                }
            }
            i += 1;
        }
        out
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Global,
    Defaults,
    Frontend,
    Backend,
    Listen,
    Other,
}

struct Section {
    kind: Kind,
    name: String,
    /// Index of the header line (`None` for lines before any section).
    header: Option<usize>,
    lines: Vec<usize>,
}

/// Splits a config line into words, stopping at a `#` that starts a word.
pub fn words(line: &str) -> Vec<&str> {
    line.split_whitespace()
        .take_while(|w| !w.starts_with('#'))
        .collect()
}

fn section_kind(word: &str) -> Option<Kind> {
    Some(match word {
        "global" => Kind::Global,
        "defaults" => Kind::Defaults,
        "frontend" => Kind::Frontend,
        "backend" => Kind::Backend,
        "listen" => Kind::Listen,
        "userlist" | "peers" | "resolvers" | "cache" | "program" | "http-errors" | "ring"
        | "mailers" => Kind::Other,
        _ => return None,
    })
}

fn split_sections(lines: &[&str]) -> Vec<Section> {
    let mut out = vec![Section {
        kind: Kind::Other,
        name: String::new(),
        header: None,
        lines: Vec::new(),
    }];
    for (i, line) in lines.iter().enumerate() {
        let w = words(line);
        if let Some(kind) = w.first().and_then(|w| section_kind(w)) {
            out.push(Section {
                kind,
                name: w.get(1).map(|s| s.to_string()).unwrap_or_default(),
                header: Some(i),
                lines: Vec::new(),
            });
        } else if let Some(last) = out.last_mut() {
            last.lines.push(i);
        }
    }
    out
}

/// ACL names a condition (`if ...` / `unless ...` at the end of a rule) refers to.
pub fn condition_acls<'a>(w: &[&'a str]) -> Vec<&'a str> {
    let Some(pos) = w.iter().skip(1).position(|x| *x == "if" || *x == "unless") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut depth = 0usize;
    for word in &w[pos + 2..] {
        match *word {
            "{" => depth += 1,
            "}" => depth = depth.saturating_sub(1),
            "or" | "||" | "!" => {}
            _ if depth > 0 => {}
            other => {
                let name = other.trim_start_matches('!');
                if !name.is_empty() {
                    out.push(name);
                }
            }
        }
    }
    out
}

const DROP_IN_GLOBAL: &[&str] = &[
    "user", "group", "uid", "gid", "daemon", "log", "chroot", "nbproc", "pidfile", "stats",
];

/// Rewrites `text`; `port` is asked once per frontend/listen and once per server line.
pub fn modernize(
    text: &str,
    opts: &Options<'_>,
    port: &mut dyn FnMut(Endpoint<'_>) -> Result<u16, String>,
) -> Result<Modernized, String> {
    let lines: Vec<&str> = text.lines().collect();
    let sections = split_sections(&lines);

    // ACLs declared per frontend, in file order: name -> declaration lines.
    let mut frontend_acls: Vec<(String, BTreeMap<String, Vec<usize>>)> = Vec::new();
    for s in &sections {
        if s.kind == Kind::Frontend {
            let mut m: BTreeMap<String, Vec<usize>> = BTreeMap::new();
            for &i in &s.lines {
                let w = words(lines[i]);
                if w.first() == Some(&"acl")
                    && let Some(n) = w.get(1)
                {
                    m.entry(n.to_string()).or_default().push(i);
                }
            }
            frontend_acls.push((s.name.clone(), m));
        }
    }

    let mut out = Vec::<String>::new();
    let mut frontends = Vec::new();
    let mut servers = Vec::new();
    // `noreuseport`: a port clash is then a bind error (retried by the harness), never
    // two processes silently sharing one port.
    let global_lines = [
        format!(
            "    stats socket {} level admin",
            opts.stats_socket.display()
        ),
        "    noreuseport".to_string(),
    ];
    if !sections.iter().any(|s| s.kind == Kind::Global) {
        out.push("global".into());
        out.extend(global_lines.iter().cloned());
    }
    let bind_line = |p: u16| {
        let mut l = format!("    bind 127.0.0.1:{p}");
        if opts.accept_proxy {
            l.push_str(" accept-proxy");
        }
        l
    };

    for s in &sections {
        if let Some(h) = s.header {
            let w = words(lines[h]);
            match s.kind {
                Kind::Frontend | Kind::Listen | Kind::Backend if w.len() > 2 => {
                    // `listen NAME ADDR` (1.4): the address becomes the bind below.
                    out.push(format!("{} {}", w[0], w[1]));
                }
                _ => out.push(lines[h].to_string()),
            }
        }
        if s.kind == Kind::Global {
            out.extend(global_lines.iter().cloned());
        }
        // Frontend side: one bind.
        let mut bind_done = true;
        let mut fe_port = 0;
        if matches!(s.kind, Kind::Frontend | Kind::Listen) {
            fe_port = port(Endpoint::Frontend(&s.name))?;
            frontends.push((s.name.clone(), fe_port));
            bind_done = false;
            let has_bind = s
                .lines
                .iter()
                .any(|&i| words(lines[i]).first() == Some(&"bind"));
            if !has_bind {
                out.push(bind_line(fe_port));
                bind_done = true;
            }
        }
        // Backend side: copy frontend-only ACLs that conditions here use.
        if s.kind == Kind::Backend {
            let declared: BTreeSet<&str> = s
                .lines
                .iter()
                .filter_map(|&i| {
                    let w = words(lines[i]);
                    (w.first() == Some(&"acl"))
                        .then(|| w.get(1).copied())
                        .flatten()
                })
                .collect();
            let mut wanted = BTreeSet::new();
            let mut order = Vec::new();
            for &i in &s.lines {
                for n in condition_acls(&words(lines[i])) {
                    if !declared.contains(n) && wanted.insert(n) {
                        order.push(n);
                    }
                }
            }
            for n in order {
                if let Some((fe, decl)) = frontend_acls
                    .iter()
                    .find_map(|(fe, m)| m.get(n).map(|d| (fe, d)))
                {
                    out.push(format!(
                        "    # acl {n} copied from frontend {fe} by the test harness"
                    ));
                    for &i in decl {
                        out.push(format!("    {}", lines[i].trim()));
                    }
                }
            }
        }
        for &i in &s.lines {
            let line = lines[i];
            let w = words(line);
            let Some(&first) = w.first() else {
                out.push(line.to_string());
                continue;
            };
            if first == "log" || (s.kind == Kind::Global && DROP_IN_GLOBAL.contains(&first)) {
                continue;
            }
            let legacy = match first {
                "contimeout" => Some("connect"),
                "clitimeout" => Some("client"),
                "srvtimeout" => Some("server"),
                _ => None,
            };
            if let Some(which) = legacy {
                out.push(format!("    timeout {which} {}", w[1..].join(" ")));
                continue;
            }
            if first == "bind" && matches!(s.kind, Kind::Frontend | Kind::Listen) {
                if !bind_done {
                    out.push(bind_line(fe_port));
                    bind_done = true;
                }
                continue;
            }
            if first == "server" && matches!(s.kind, Kind::Backend | Kind::Listen) {
                let name = w
                    .get(1)
                    .ok_or_else(|| format!("line {}: server without a name", i + 1))?;
                let p = port(Endpoint::Server {
                    proxy: &s.name,
                    server: name,
                })?;
                let mut params = Vec::new();
                let mut check = false;
                let mut track = None;
                let mut k = 3;
                while k < w.len() {
                    match w[k] {
                        "inter" | "fastinter" | "downinter" if opts.live_checks => {
                            params.extend(w.get(k..k + 2).unwrap_or_default().iter().copied());
                            k += 2;
                        }
                        "inter" | "fastinter" | "downinter" | "port" | "addr" => k += 2,
                        "track" => {
                            if let Some(t) = w.get(k + 1) {
                                track = Some(match t.split_once('/') {
                                    Some((b, sv)) => (b.to_string(), sv.to_string()),
                                    None => (s.name.clone(), t.to_string()),
                                });
                                params.push(w[k]);
                                params.push(t);
                            }
                            k += 2;
                        }
                        other => {
                            if other == "check" {
                                check = true;
                            }
                            params.push(other);
                            k += 1;
                        }
                    }
                }
                let mut l = format!("    server {name} 127.0.0.1:{p}");
                for x in &params {
                    l.push(' ');
                    l.push_str(x);
                }
                if check && !opts.live_checks {
                    l.push_str(" inter 1h");
                }
                out.push(l);
                servers.push(ServerLine {
                    proxy: s.name.clone(),
                    name: name.to_string(),
                    port: p,
                    check,
                    track,
                });
                continue;
            }
            out.push(line.to_string());
        }
    }
    let mut text = out.join("\n");
    text.push('\n');
    Ok(Modernized {
        text,
        frontends,
        servers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_like_config_is_rewritten() {
        let src = "global\nlog 127.0.0.1 local0\ndaemon\nmaxconn 10\ndefaults\nlog global\n\
                   contimeout 5000\nlisten 0.0.0.0:8181\nserver srv1 0.0.0.0:9090 check inter 3s\n\
                   frontend fe\nbind *:80\nbind :81\nacl dev hdr_beg(host) -i dev.\n\
                   default_backend be\nbackend be\nuse-server a if dev\n\
                   server a 0.0.0.0:1 track x/a\n";
        let mut next = 40000;
        let sock = Path::new("/tmp/x.sock");
        let m = modernize(
            src,
            &Options {
                stats_socket: sock,
                accept_proxy: false,
                live_checks: false,
            },
            &mut |_| {
                next += 1;
                Ok(next)
            },
        )
        .expect("modernize");
        let t = &m.text;
        assert!(!t.contains("log "), "{t}");
        assert!(!t.contains("daemon"), "{t}");
        assert!(t.contains("maxconn 10"), "{t}");
        assert!(t.contains("stats socket /tmp/x.sock level admin"), "{t}");
        assert!(t.contains("    noreuseport\n"), "{t}");
        assert!(t.contains("timeout connect 5000"), "{t}");
        assert!(
            t.contains("listen 0.0.0.0:8181\n    bind 127.0.0.1:40001\n"),
            "{t}"
        );
        assert!(
            t.contains("server srv1 127.0.0.1:40002 check inter 1h"),
            "{t}"
        );
        assert_eq!(t.matches("bind ").count(), 2, "{t}");
        assert!(t.contains("bind 127.0.0.1:40003"), "{t}");
        assert!(
            t.contains("    acl dev hdr_beg(host) -i dev.\nuse-server a if dev"),
            "{t}"
        );
        assert_eq!(m.frontend_port(None), Some(40001));
        assert_eq!(m.frontend_port(Some("fe")), Some(40003));
        assert_eq!(m.servers[1].track, Some(("x".to_string(), "a".to_string())));
    }

    #[test]
    fn live_checks_keep_their_intervals() {
        let src = "backend be\nserver a 0.0.0.0:1 check inter 300 fall 2 rise 1\n";
        let m = modernize(
            src,
            &Options {
                stats_socket: Path::new("/tmp/x.sock"),
                accept_proxy: false,
                live_checks: true,
            },
            &mut |_| Ok(40001),
        )
        .expect("modernize");
        assert!(
            m.text
                .contains("server a 127.0.0.1:40001 check inter 300 fall 2 rise 1\n"),
            "{}",
            m.text
        );
    }

    #[test]
    fn condition_acl_names() {
        let w = words("use_backend b if a !b or { path / } || ! c # d");
        assert_eq!(condition_acls(&w), vec!["a", "b", "c"]);
        assert!(condition_acls(&words("default_backend x")).is_empty());
    }
}
