//! Robustness: random inputs never panic router-core, and what it returns keeps its
//! documented shape.
//!
//! - (a) the Wt wiki's seed configs, mutated thousands of times (byte flips, lines
//!   deleted, duplicated, swapped, keywords and condition syntax inserted): `parse`
//!   never panics, and every diagnostic names the file and a line/column >= 1 and says
//!   something. Mutants that still load are routed too.
//! - (b) random requests (bytes in method, target, version and headers, absolute forms,
//!   huge and many headers, IPv6 addresses) through `decide` on each seed with random
//!   DOWN sets: a forward names a usable server of the chosen backend, a redirect has
//!   a redirect code, a respond is a 503.
//! - (c) the same requests through the wire encoding: requests round-trip, decisions
//!   round-trip, and decoding random or corrupted bytes never panics.
//!
//! Deterministic: a tiny xorshift generator with fixed seeds (`ROBUSTNESS_SEED`
//! overrides the base seed to explore further).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use router_core::HeaderInterest;
use router_core::unstable::wire::{self, Mode};
use router_core::{
    Config, Decision, HealthSnapshot, LocalTickets, ProxyId, RequestFacts, ServerId, Trace, decide,
    parse,
};

/// xorshift64*: small, fast, good enough to shake a parser.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn byte(&mut self) -> u8 {
        self.next() as u8
    }
}

fn base_seed() -> u64 {
    std::env::var("ROBUSTNESS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5EED_2026)
}

const SEEDS: [&str; 3] = ["seed1.cfg", "seed2.cfg", "seed3.cfg"];

fn seed_text(name: &str) -> String {
    let path = format!(
        "{}/../tests/corpus/configs/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Words of the README's keyword table and condition syntax, to splice into configs.
const WORDS: &[&str] = &[
    "global",
    "defaults",
    "frontend",
    "backend",
    "listen",
    "log",
    "maxconn",
    "user",
    "group",
    "uid",
    "gid",
    "daemon",
    "nbproc",
    "nbthread",
    "noreuseport",
    "chroot",
    "pidfile",
    "quiet",
    "node",
    "description",
    "mode",
    "http",
    "tcp",
    "bind",
    "name",
    "id",
    "v4v6",
    "v6only",
    "option",
    "no",
    "httplog",
    "dontlognull",
    "http-server-close",
    "http-pretend-keepalive",
    "http-keep-alive",
    "redispatch",
    "allbackups",
    "forwardfor",
    "except",
    "header",
    "if-none",
    "originalto",
    "httpchk",
    "timeout",
    "connect",
    "client",
    "server",
    "tunnel",
    "queue",
    "check",
    "http-request",
    "http-keep-alive",
    "contimeout",
    "clitimeout",
    "srvtimeout",
    "retries",
    "balance",
    "roundrobin",
    "source",
    "acl",
    "-i",
    "-m",
    "-n",
    "--",
    "eq",
    "ge",
    "gt",
    "le",
    "lt",
    "url",
    "path",
    "query",
    "hdr(host)",
    "hdr_cnt(host)",
    "urlp(wtd)",
    "url_param(wtd)",
    "method",
    "req.ver",
    "src",
    "src_port",
    "dst",
    "dst_port",
    "nbsrv(bck1)",
    "nbsrv(nosuch)",
    "nbsrv",
    "always_true",
    "always_false",
    "url_beg",
    "url_end",
    "url_sub",
    "url_dir",
    "url_dom",
    "url_len",
    "path_beg",
    "path_end",
    "path_sub",
    "path_dir",
    "path_dom",
    "path_len",
    "hdr_beg(host)",
    "hdr_end(host)",
    "hdr_sub(host)",
    "hdr_dir(host)",
    "hdr_dom(host)",
    "hdr_len(host)",
    "hdr_val(x)",
    "hdr_ip(x)",
    "urlp_val(page)",
    "url_reg",
    "str",
    "beg",
    "end",
    "sub",
    "dir",
    "dom",
    "len",
    "int",
    "ip",
    "found",
    "bool",
    "reg",
    "if",
    "unless",
    "or",
    "||",
    "!",
    "{",
    "}",
    "TRUE",
    "FALSE",
    "HTTP",
    "HTTP_1.0",
    "HTTP_1.1",
    "HTTP_URL_SLASH",
    "HTTP_URL_STAR",
    "LOCALHOST",
    "METH_GET",
    "METH_POST",
    "redirect",
    "location",
    "prefix",
    "scheme",
    "code",
    "301",
    "302",
    "303",
    "307",
    "308",
    "300",
    "drop-query",
    "append-slash",
    "use_backend",
    "default_backend",
    "use-server",
    "default-server",
    "inter",
    "fastinter",
    "downinter",
    "rise",
    "fall",
    "weight",
    "backup",
    "disabled",
    "track",
    "maxqueue",
    "ssl",
    "verify",
    "none",
    "required",
    "port",
    "0.0.0.0:9090",
    "[::1]:80",
    ":::8080",
    "*:80",
    "127.0.0.1",
    "10.0.0.0/8",
    "::ffff:10.0.0.0/104",
    "wtd=wt1",
    "/wt1",
    "dev.",
    "sample.com",
    "bck1",
    "bck2",
    "bck_lb",
    "srv1",
    "srv2",
    "wt",
    "Wt_Live",
    "bck1/srv1",
    "0",
    "1",
    "-1",
    "1:3",
    "65536",
    "4294967296",
    "99999999999999999999",
    "5s",
    "1m",
    "2h",
    "3d",
    "10us",
    "1x",
    "https",
    "%",
    "%%",
    "%[path]",
    "\\",
    "\"",
    "'",
    "#",
    "\t",
    " ",
    "\u{e9}",
    "\u{1F600}",
    "\0",
];

/// Characters that trip tokenizers.
const TRICKY: &[&str] = &[
    "\"", "'", "\\", "{", "}", "!", " or ", " || ", "#", "\\ ", "\"\"", "''", "{ }", "!!", "\r",
    "\t", "\0", "\u{a0}", "\u{feff}", "\\x41", "\\\"", "(", ")", ",", ":", "/",
];

fn mutate(rng: &mut Rng, text: &str) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let rounds = 1 + rng.below(6);
    for _ in 0..rounds {
        if lines.is_empty() {
            lines.push(String::new());
        }
        let i = rng.below(lines.len());
        match rng.below(11) {
            // Flip bytes of one line (any byte value; invalid UTF-8 is repaired).
            0 => {
                let mut b = lines[i].clone().into_bytes();
                for _ in 0..1 + rng.below(3) {
                    if b.is_empty() {
                        b.push(rng.byte());
                    } else {
                        let k = rng.below(b.len());
                        b[k] = rng.byte();
                    }
                }
                lines[i] = String::from_utf8_lossy(&b).into_owned();
            }
            1 => {
                lines.remove(i);
            }
            2 => {
                let l = lines[i].clone();
                lines.insert(i, l);
            }
            3 => {
                let j = rng.below(lines.len());
                lines.swap(i, j);
            }
            // A line of random keywords.
            4 => {
                let n = 1 + rng.below(8);
                let words: Vec<&str> = (0..n).map(|_| *rng.pick(WORDS)).collect();
                let indent = if rng.chance(70) { "    " } else { "" };
                lines.insert(i, format!("{indent}{}", words.join(" ")));
            }
            // A keyword or tricky characters spliced into a line at a char boundary.
            5 | 6 => {
                let piece = if rng.chance(50) {
                    format!(" {} ", rng.pick(WORDS))
                } else {
                    rng.pick(TRICKY).to_string()
                };
                let l = &lines[i];
                let bounds: Vec<usize> = (0..=l.len()).filter(|&k| l.is_char_boundary(k)).collect();
                let at = *rng.pick(&bounds);
                lines[i] = format!("{}{piece}{}", &l[..at], &l[at..]);
            }
            // Drop one word of a line.
            7 => {
                let mut w: Vec<&str> = lines[i].split(' ').collect();
                if !w.is_empty() {
                    let k = rng.below(w.len());
                    w.remove(k);
                }
                lines[i] = w.join(" ");
            }
            // Truncate the file.
            8 => {
                lines.truncate(i);
            }
            // Replace a word by a random keyword.
            9 => {
                let mut w: Vec<String> = lines[i].split(' ').map(str::to_string).collect();
                if !w.is_empty() {
                    let k = rng.below(w.len());
                    w[k] = rng.pick(WORDS).to_string();
                }
                lines[i] = w.join(" ");
            }
            // A very long line.
            _ => {
                let word = *rng.pick(WORDS);
                lines.insert(
                    i,
                    format!("    acl big path {}", word.repeat(1 + rng.below(2000))),
                );
            }
        }
    }
    let sep = if rng.chance(10) { "\r\n" } else { "\n" };
    let mut out = lines.join(sep);
    if rng.chance(50) {
        out.push_str(sep);
    }
    out
}

fn check_diagnostics(file: &str, text: &str, diags: &[router_core::Diagnostic], what: &str) {
    for d in diags {
        let ctx = || format!("{what} {d:?}\n--- config ---\n{text}");
        assert_eq!(d.file, file, "{}", ctx());
        assert!(d.line >= 1, "line 0: {}", ctx());
        assert!(d.column >= 1, "column 0: {}", ctx());
        assert!(
            !d.keyword.is_empty() || !d.message.is_empty(),
            "diagnostic says nothing: {}",
            ctx()
        );
        assert!(!d.message.is_empty(), "empty message: {}", ctx());
        // The position is inside the file: a line of it, a column of that line (or
        // just past its end, for "missing argument").
        let lines: Vec<&str> = text.split('\n').collect();
        assert!(
            d.line as usize <= lines.len(),
            "line past the end: {}",
            ctx()
        );
        let l = lines[d.line as usize - 1];
        assert!(
            d.column as usize <= l.len() + 1,
            "column past the line: {}",
            ctx()
        );
        // Display must not panic either.
        let _ = d.as_error().to_string();
    }
}

#[test]
fn mutated_seed_configs_never_panic_and_errors_point_somewhere() {
    let mut rng = Rng::new(base_seed());
    let mut loaded = 0;
    let mut refused = 0;
    for round in 0..3000 {
        let seed = SEEDS[round % SEEDS.len()];
        let text = mutate(&mut rng, &seed_text(seed));
        let file = format!("mutant-{round}.cfg");
        match parse(&file, &text) {
            Ok(p) => {
                loaded += 1;
                check_diagnostics(&file, &text, &p.warnings, "warning");
                // Route a few requests on what loaded.
                for _ in 0..3 {
                    route_and_check(&mut rng, &p.config, false);
                }
            }
            Err(e) => {
                refused += 1;
                assert!(!e.errors.is_empty(), "Err without errors\n{text}");
                check_diagnostics(&file, &text, &e.errors, "error");
                check_diagnostics(&file, &text, &e.warnings, "warning");
                let _ = e.to_string();
            }
        }
    }
    assert!(
        loaded > 100 && refused > 100,
        "loaded {loaded}, refused {refused}"
    );
}

/// A random string of `len` chars drawn from ASCII, controls and a few multi-byte chars.
fn junk(rng: &mut Rng, len: usize) -> String {
    const EXTRA: &[char] = &[
        '\u{e9}',
        '\u{20ac}',
        '\u{1F600}',
        '\u{0}',
        '\u{7f}',
        '\u{a0}',
    ];
    (0..len)
        .map(|_| match rng.below(10) {
            0 => *rng.pick(EXTRA),
            1 => (rng.below(32) as u8) as char,
            _ => (32 + rng.below(95) as u8) as char,
        })
        .collect()
}

fn junk_upto(rng: &mut Rng, max: usize) -> String {
    let len = rng.below(max);
    junk(rng, len)
}

fn random_ip(rng: &mut Rng) -> IpAddr {
    match rng.below(6) {
        0 => IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1 + rng.below(200) as u8)),
        1 => IpAddr::V4(Ipv4Addr::from(rng.next() as u32)),
        2 => IpAddr::V6(Ipv6Addr::from(
            u128::from(rng.next()) << 64 | u128::from(rng.next()),
        )),
        3 => IpAddr::V6(Ipv4Addr::from(rng.next() as u32).to_ipv6_mapped()),
        4 => IpAddr::V6(Ipv6Addr::LOCALHOST),
        _ => IpAddr::V6(Ipv6Addr::new(
            0x2002,
            rng.next() as u16,
            rng.next() as u16,
            0,
            0,
            0,
            0,
            1,
        )),
    }
}

/// An owned random request; `facts()` borrows it.
struct Req {
    method: String,
    target: String,
    version: String,
    headers: Vec<(String, String)>,
    src: SocketAddr,
    dst: SocketAddr,
}

impl Req {
    fn random(rng: &mut Rng) -> Req {
        const METHODS: &[&str] = &[
            "GET", "POST", "HEAD", "OPTIONS", "CONNECT", "get", "PATCH", "",
        ];
        const HOSTS: &[&str] = &[
            "sample.com",
            "example.com",
            "dev.sample.com",
            "DEV.example.com",
            "sample.com:80",
            "[::1]:8080",
            "",
            "sample.com.",
            "dev.",
            "x, dev.y",
            "\"dev.a,b\"",
        ];
        let method = if rng.chance(70) {
            rng.pick(METHODS).to_string()
        } else {
            junk_upto(rng, 12)
        };
        let wtd = format!("wt{}{}", rng.below(30), junk_upto(rng, 20));
        let target = match rng.below(12) {
            0 => format!("/?wtd={wtd}&request=style&page=1"),
            1 => format!("/app?a=1&wtd={wtd};x?y&wtd=wt2"),
            2 => format!("http://{}/?wtd={wtd}", rng.pick(HOSTS)),
            3 => format!(
                "https://{}:{}{}",
                rng.pick(HOSTS),
                rng.below(70000),
                junk(rng, 10)
            ),
            4 => "*".to_string(),
            5 => format!("{}:443", rng.pick(HOSTS)),
            6 => String::new(),
            7 => format!("/{}", "a".repeat(rng.below(100_000))),
            8 => format!("/wt1/../html/%2e%2e/{}", junk(rng, 30)),
            9 => format!("?{}", junk(rng, 40)),
            10 => format!("{}://{}", junk(rng, 5), junk(rng, 20)),
            _ => junk_upto(rng, 300),
        };
        let version = match rng.below(5) {
            0 => "HTTP/1.0".to_string(),
            1 | 2 => "HTTP/1.1".to_string(),
            3 => "HTTP/".to_string(),
            _ => junk_upto(rng, 12),
        };
        const NAMES: &[&str] = &[
            "Host",
            "host",
            "HOST",
            "X-Forwarded-For",
            "X-Original-To",
            "Upgrade",
            "Connection",
            "Content-Length",
            "Cookie",
            "x-n",
            "X-Real-IP",
            "",
        ];
        let count = match rng.below(10) {
            0 => 200 + rng.below(300),
            1 => 0,
            _ => rng.below(8),
        };
        let headers = (0..count)
            .map(|_| {
                let name = if rng.chance(80) {
                    rng.pick(NAMES).to_string()
                } else {
                    junk_upto(rng, 20)
                };
                let value = match rng.below(6) {
                    0 => rng.pick(HOSTS).to_string(),
                    1 => random_ip(rng).to_string(),
                    2 => "c".repeat(rng.below(70_000)),
                    3 => format!("{}, {}", rng.below(100), junk(rng, 5)),
                    _ => junk_upto(rng, 60),
                };
                (name, value)
            })
            .collect();
        Req {
            method,
            target,
            version,
            headers,
            src: SocketAddr::new(random_ip(rng), rng.next() as u16),
            dst: SocketAddr::new(random_ip(rng), rng.next() as u16),
        }
    }
}

fn with_facts<R>(req: &Req, f: impl FnOnce(&RequestFacts<'_>) -> R) -> R {
    let headers: Vec<(&str, &str)> = req
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let facts = RequestFacts {
        method: &req.method,
        target: &req.target,
        version: &req.version,
        headers: &headers,
        src: req.src,
        dst: req.dst,
        tls: false,
    };
    f(&facts)
}

fn frontends(cfg: &Config) -> Vec<ProxyId> {
    cfg.proxy_ids()
        .filter(|&p| cfg.proxy(p).kind.is_frontend())
        .collect()
}

fn random_health(rng: &mut Rng, cfg: &Config) -> HealthSnapshot {
    let mut h = HealthSnapshot::all_up(cfg);
    let down_percent = rng.below(60) as u64;
    let ids: Vec<ServerId> = cfg.server_ids().collect();
    for id in ids {
        if rng.chance(down_percent) {
            h.set_down(id);
        }
    }
    h
}

/// Checks the documented shape of a decision. `strict`: the server must be usable
/// (UP, not disabled, weight > 0); otherwise UP and not disabled (a mutated config
/// may `use-server` a weight-0 server, which HAProxy does use).
fn check_decision(
    cfg: &Config,
    fe: ProxyId,
    health: &HealthSnapshot,
    d: &Decision<'_>,
    strict: bool,
    ctx: &dyn Fn() -> String,
) {
    match d {
        Decision::Forward(f) => {
            assert_eq!(f.frontend, fe, "{}", ctx());
            assert!(
                cfg.proxy(f.backend).kind.is_backend(),
                "forward to a proxy without servers: {}",
                ctx()
            );
            assert!(
                cfg.proxy(f.backend).servers.contains(&f.server),
                "server {} is not in backend {}: {}",
                cfg.server_path(f.server),
                cfg.proxy(f.backend).name,
                ctx()
            );
            let ok = if strict {
                health.usable(cfg, f.server)
            } else {
                health.is_up(cfg, f.server) && !cfg.server(f.server).params.disabled
            };
            assert!(
                ok,
                "server {} is not usable: {}",
                cfg.server_path(f.server),
                ctx()
            );
        }
        Decision::Redirect { code, .. } => {
            assert!(
                [301, 302, 303, 307, 308].contains(code),
                "redirect code {code}: {}",
                ctx()
            );
        }
        Decision::Respond { status, backend } => {
            assert_eq!(*status, 503, "{}", ctx());
            if let Some(b) = backend {
                assert!(
                    cfg.proxy(*b).kind.is_backend(),
                    "503 naming a proxy without servers: {}",
                    ctx()
                );
            }
        }
        Decision::Answer { answer, backend } => {
            assert!((200..=599).contains(&answer.status), "{}", ctx());
            if let Some(b) = backend {
                assert!(cfg.proxy(*b).kind.is_backend(), "{}", ctx());
            }
        }
    }
}

/// One random request on a random frontend of `cfg` with a random health state.
fn route_and_check(rng: &mut Rng, cfg: &Config, strict: bool) {
    let fes = frontends(cfg);
    if fes.is_empty() {
        return;
    }
    let fe = *rng.pick(&fes);
    let health = random_health(rng, cfg);
    let tickets = LocalTickets::new(cfg);
    let req = Req::random(rng);
    with_facts(&req, |facts| {
        let ctx = || format!("frontend {} request {:?}", cfg.proxy(fe).name, facts);
        let d = decide(cfg, fe, facts, &health, &tickets, None);
        check_decision(cfg, fe, &health, &d, strict, &ctx);
        let mut trace = Trace::new();
        let d2 = decide(cfg, fe, facts, &health, &tickets, Some(&mut trace));
        check_decision(cfg, fe, &health, &d2, strict, &ctx);
        same_with_wanted_headers_only(cfg, fe, facts, &health);
    });
}

/// Only the headers [`HeaderInterest::of`] the config wants (what the wasm engine
/// sends) give the same decision and trace as all of them.
fn same_with_wanted_headers_only(
    cfg: &Config,
    fe: ProxyId,
    facts: &RequestFacts<'_>,
    health: &HealthSnapshot,
) {
    let interest = HeaderInterest::of(cfg);
    let wanted: Vec<(&str, &str)> = facts
        .headers
        .iter()
        .copied()
        .filter(|(n, _)| interest.wants(n))
        .collect();
    let fewer = RequestFacts {
        headers: &wanted,
        ..*facts
    };
    let (mut t_all, mut t_fewer) = (Trace::new(), Trace::new());
    let all = decide(
        cfg,
        fe,
        facts,
        health,
        &LocalTickets::new(cfg),
        Some(&mut t_all),
    );
    let some = decide(
        cfg,
        fe,
        &fewer,
        health,
        &LocalTickets::new(cfg),
        Some(&mut t_fewer),
    );
    assert_eq!(all, some, "{interest:?} {facts:?}");
    assert_eq!(t_all, t_fewer, "{interest:?} {facts:?}");
}

#[test]
fn random_requests_on_the_seeds_get_well_formed_decisions() {
    let mut rng = Rng::new(base_seed() ^ 0xB);
    let (mut forwards, mut redirects, mut responds) = (0, 0, 0);
    for name in SEEDS {
        let parsed = parse(name, &seed_text(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        let cfg = &parsed.config;
        let fes = frontends(cfg);
        assert!(!fes.is_empty(), "{name} has no frontend");
        for _ in 0..60 {
            // One health state and one rotation for a burst of requests.
            let health = random_health(&mut rng, cfg);
            let tickets = LocalTickets::new(cfg);
            for _ in 0..20 {
                let fe = *rng.pick(&fes);
                let req = Req::random(&mut rng);
                with_facts(&req, |facts| {
                    let ctx =
                        || format!("{name} frontend {} request {:?}", cfg.proxy(fe).name, facts);
                    let d = decide(cfg, fe, facts, &health, &tickets, None);
                    check_decision(cfg, fe, &health, &d, true, &ctx);
                    same_with_wanted_headers_only(cfg, fe, facts, &health);
                    match d {
                        Decision::Forward(_) => forwards += 1,
                        Decision::Redirect { .. } => redirects += 1,
                        Decision::Respond { .. } | Decision::Answer { .. } => responds += 1,
                    }
                });
            }
        }
    }
    // The random requests reach every kind of answer (seed3 redirects, DOWN sets 503).
    assert!(
        forwards > 100 && redirects > 10 && responds > 10,
        "forwards {forwards}, redirects {redirects}, responds {responds}"
    );
}

#[test]
fn wire_round_trips_and_survives_garbage() {
    let mut rng = Rng::new(base_seed() ^ 0xC);
    let configs: Vec<Config> = SEEDS
        .iter()
        .map(|n| {
            parse(n, &seed_text(n))
                .unwrap_or_else(|e| panic!("{n}: {e}"))
                .config
        })
        .collect();
    let mut buf = Vec::new();
    let mut out = Vec::new();
    for round in 0..600 {
        let cfg = &configs[round % configs.len()];
        let fes = frontends(cfg);
        let fe = *rng.pick(&fes);
        let health = random_health(&mut rng, cfg);
        let health_bytes = health.to_bytes();
        let req = Req::random(&mut rng);
        let mode = if rng.chance(20) {
            let backend = ProxyId(rng.below(cfg.proxies.len() + 2) as u16);
            let server = ServerId(rng.below(cfg.servers.len() + 2) as u32);
            Mode::Redispatch { backend, server }
        } else {
            Mode::Route {
                trace: rng.chance(50),
            }
        };
        // Health bytes are sent only when they changed: without them, the
        // module decides on the snapshot it kept from the previous request.
        let send_health = rng.chance(50);
        with_facts(&req, |facts| {
            let sent = send_health.then_some(&health_bytes[..]);
            wire::encode_request(&mut buf, mode, fe, facts, sent);
            let back = wire::decode_request(&buf)
                .unwrap_or_else(|e| panic!("decode of an encoded request: {e:?} {facts:?}"));
            assert_eq!(back.mode, mode);
            assert_eq!(back.frontend, fe);
            assert_eq!(back.method, facts.method);
            assert_eq!(back.target, facts.target);
            assert_eq!(back.version, facts.version);
            assert_eq!(back.src, facts.src);
            assert_eq!(back.dst, facts.dst);
            assert_eq!(back.health, sent);
            let n = facts.headers.len().min(usize::from(u16::MAX));
            assert_eq!(back.headers().len(), n);
            for ((bn, bv), (n, v)) in back.headers().iter().zip(facts.headers) {
                assert_eq!((*bn, *bv), (*n, *v));
            }

            // The module's path gives the same decision as a direct call, and the
            // decision (with its trace) survives the return trip.
            let mut kept = if send_health {
                HealthSnapshot::all_up(cfg)
            } else {
                health.clone()
            };
            let (d, trace) = wire::run(cfg, &back, &mut kept, &LocalTickets::new(cfg));
            if let Mode::Route { trace: want_trace } = mode {
                let mut t = want_trace.then(Trace::new);
                let dd = decide(cfg, fe, facts, &health, &LocalTickets::new(cfg), t.as_mut());
                assert_eq!(d.as_ref(), Some(&dd), "{facts:?}");
                assert_eq!(trace, t, "{facts:?}");
            }
            wire::encode_decision(&mut out, d.as_ref(), trace.as_ref());
            let (d2, t2) = wire::decode_decision(cfg, &out)
                .unwrap_or_else(|e| panic!("decode of an encoded decision: {e:?} {d:?}"));
            assert_eq!(d2, d);
            assert_eq!(t2, trace.unwrap_or_default());

            // Corrupted encodings: decoding (and running) must not panic.
            for _ in 0..4 {
                let mut bad = buf.clone();
                corrupt(&mut rng, &mut bad);
                if let Ok(r) = wire::decode_request(&bad) {
                    let _ = wire::run(
                        cfg,
                        &r,
                        &mut HealthSnapshot::all_up(cfg),
                        &LocalTickets::new(cfg),
                    );
                }
                let mut bad = out.clone();
                corrupt(&mut rng, &mut bad);
                let _ = wire::decode_decision(cfg, &bad);
            }
        });
    }
    // Pure garbage.
    for _ in 0..3000 {
        let len = rng.below(80);
        let bytes: Vec<u8> = (0..len).map(|_| rng.byte()).collect();
        let cfg = &configs[rng.below(configs.len())];
        if let Ok(r) = wire::decode_request(&bytes) {
            let _ = wire::run(
                cfg,
                &r,
                &mut HealthSnapshot::all_up(cfg),
                &LocalTickets::new(cfg),
            );
        }
        let _ = wire::decode_decision(cfg, &bytes);
    }
}

fn corrupt(rng: &mut Rng, bytes: &mut Vec<u8>) {
    match rng.below(4) {
        0 if !bytes.is_empty() => {
            let k = rng.below(bytes.len());
            bytes[k] = rng.byte();
        }
        1 if !bytes.is_empty() => {
            let k = rng.below(bytes.len());
            bytes.truncate(k);
        }
        2 => {
            let k = rng.below(bytes.len() + 1);
            bytes.insert(k, rng.byte());
        }
        _ => {
            // Large length fields.
            let k = rng.below(bytes.len() + 1);
            for _ in 0..4 {
                bytes.insert(k, 0xff);
            }
        }
    }
}
