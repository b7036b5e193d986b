//! The platform side of the worker's request path, as pure functions so that they
//! are tested natively: turning workerd's request into router-core's facts (which
//! headers to copy), the origin URL of a decision, the turn-around delay, error pages.
//! No routing rule lives here: decisions come from `router_core::decide` and
//! `router_core::redispatch` only.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use router_core::{Config, HeaderInterest, Upstream};

/// How the worker copies the request's headers into router-core's facts, decided
/// once per loaded config from [`HeaderInterest::of`]: only the headers its
/// decisions can depend on (the request forwarded to the origin keeps them all).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderCopy {
    /// Walk every header workerd gives (sorted by name, repeats joined with `, `,
    /// each `set-cookie` line apart) and keep those `interest` wants: the config
    /// reads every header, or `set-cookie`, whose lines only the walk gives apart.
    Walk(HeaderInterest),
    /// Look these names up one by one (`Headers.get`: the walk's joined value):
    /// lower-case, sorted as the walk is, so the facts are the walk's, filtered.
    Lookup(Vec<String>),
}

impl HeaderCopy {
    /// The copy for `cfg`.
    pub fn of(cfg: &Config) -> Self {
        match HeaderInterest::of(cfg) {
            HeaderInterest::Names(names) if !names.iter().any(|n| n == "set-cookie") => {
                let mut names: Vec<String> = names.iter().map(|n| n.to_ascii_lowercase()).collect();
                names.sort();
                names.dedup();
                HeaderCopy::Lookup(names)
            }
            interest => HeaderCopy::Walk(interest),
        }
    }
}

/// A request URL as workerd gives it (`https://host:port/path?query`), split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UrlParts<'a> {
    /// `http` or `https`.
    pub scheme: &'a str,
    /// `host[:port]`.
    pub authority: &'a str,
    /// The origin-form request target: path and query (`/` when empty).
    pub target: &'a str,
}

/// Splits an absolute URL. Never fails: odd input gives an empty scheme or
/// authority and the target `/`.
pub fn split_url(url: &str) -> UrlParts<'_> {
    let (scheme, rest) = match router_core::unstable::target::scheme_end(url) {
        Some(end) => (&url[..end - 3], &url[end..]),
        None => ("", url),
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let mut target = &rest[end..];
    // A fragment never reaches a server.
    if let Some(i) = target.find('#') {
        target = &target[..i];
    }
    if !target.starts_with('/') {
        // `http://host?q` has the empty path: the request line says `/?q`.
        target = if target.is_empty() { "/" } else { target };
    }
    UrlParts {
        scheme,
        authority,
        target,
    }
}

/// The target the router sees: `/` prefixed when the URL's path is empty (`?q`).
pub fn router_target(parts: &UrlParts<'_>) -> String {
    if parts.target.starts_with('/') {
        parts.target.to_string()
    } else {
        format!("/{}", parts.target)
    }
}

/// The port of an authority (`host:port`, `[v6]:port`), else the scheme's default.
pub fn port_of(scheme: &str, authority: &str) -> u16 {
    let after_host = match authority.rfind(']') {
        Some(i) => &authority[i + 1..],
        None => authority,
    };
    after_host
        .rsplit_once(':')
        .and_then(|(_, p)| p.parse().ok())
        .unwrap_or(if scheme.eq_ignore_ascii_case("http") {
            80
        } else {
            443
        })
}

/// The client's address: `CF-Connecting-IP` (set by Cloudflare, never by the client),
/// port 0 (the edge does not know the client's port). Unspecified when absent or
/// malformed: then no `src` ACL matches a real network.
pub fn client_addr(cf_connecting_ip: Option<&str>) -> SocketAddr {
    let ip = cf_connecting_ip
        .and_then(|v| v.trim().parse::<IpAddr>().ok())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    SocketAddr::new(ip, 0)
}

/// The address the client connected to, as far as the edge knows it: the
/// unspecified IP (Cloudflare's anycast address is not visible to a Worker) and the
/// request's port.
pub fn edge_dst(scheme: &str, authority: &str) -> SocketAddr {
    SocketAddr::new(
        IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        port_of(scheme, authority),
    )
}

/// The URL to fetch for a decision: `http[s]://host:port` + the request target.
pub fn origin_url(upstream: &Upstream<'_>, ssl: bool, target: &str) -> String {
    let scheme = if ssl { "https" } else { "http" };
    let target = if target.starts_with('/') { target } else { "/" };
    match upstream {
        Upstream::Name { host, port } => format!("{scheme}://{host}:{port}{target}"),
        Upstream::Socket(SocketAddr::V4(a)) => format!("{scheme}://{a}{target}"),
        Upstream::Socket(SocketAddr::V6(a)) => {
            format!("{scheme}://[{}]:{}{target}", a.ip(), a.port())
        }
    }
}

/// FNV-1a of the bundled config: isolates and the health Durable Object only share
/// health bytes when they run the same config (server ids are indexes).
pub fn fingerprint(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn copy_of(text: &str) -> HeaderCopy {
        HeaderCopy::of(
            &router_core::parse("t.cfg", text)
                .unwrap_or_else(|e| panic!("{e}"))
                .config,
        )
    }

    #[test]
    fn headers_are_looked_up_by_name_in_the_walk_order() {
        let c = copy_of(
            "frontend f\n bind :80\n option forwardfor\n acl a hdr_beg(X-Wt) v\n\
             use_backend b if a { hdr_cnt(Cookie) gt 1 }\n default_backend b\n\
             backend b\n server s 10.0.0.1:80\n",
        );
        let names = ["cookie", "host", "x-forwarded-for", "x-wt"].map(String::from);
        assert_eq!(c, HeaderCopy::Lookup(names.to_vec()));
    }

    #[test]
    fn every_header_or_set_cookie_is_walked() {
        let all = copy_of(
            "frontend f\n bind :80\n acl a hdr_sub -i x\n use_backend b if a\n\
             default_backend b\nbackend b\n server s 10.0.0.1:80\n",
        );
        assert_eq!(all, HeaderCopy::Walk(HeaderInterest::All));
        let cookie = copy_of(
            "frontend f\n bind :80\n use_backend b if { hdr_cnt(Set-Cookie) gt 1 }\n\
             default_backend b\nbackend b\n server s 10.0.0.1:80\n",
        );
        let HeaderCopy::Walk(interest) = cookie else {
            panic!("{cookie:?}")
        };
        assert!(interest.wants("set-cookie") && interest.wants("host"));
        assert!(!interest.wants("user-agent"));
    }

    #[test]
    fn urls_split_into_scheme_authority_and_target() {
        let p = split_url("https://sample.com/app/x?wtd=wt1AAAA&a=b");
        assert_eq!(
            (p.scheme, p.authority, p.target),
            ("https", "sample.com", "/app/x?wtd=wt1AAAA&a=b")
        );
        let p = split_url("http://127.0.0.1:8787?q=1");
        assert_eq!(
            (p.authority, router_target(&p).as_str()),
            ("127.0.0.1:8787", "/?q=1")
        );
        assert_eq!(split_url("http://h").target, "/");
        assert_eq!(split_url("http://h/p#frag").target, "/p");
        assert_eq!(split_url("garbage").target, "/");
        assert_eq!(split_url("").target, "/");
    }

    #[test]
    fn ports_come_from_the_authority_or_the_scheme() {
        assert_eq!(port_of("https", "a.example"), 443);
        assert_eq!(port_of("http", "a.example"), 80);
        assert_eq!(port_of("http", "a.example:8787"), 8787);
        assert_eq!(port_of("https", "[::1]"), 443);
        assert_eq!(port_of("https", "[::1]:9443"), 9443);
        assert_eq!(port_of("https", "a:notaport"), 443);
        assert_eq!(edge_dst("http", "x:81").port(), 81);
    }

    #[test]
    fn client_address_from_cf_connecting_ip() {
        assert_eq!(
            client_addr(Some("203.0.113.9")),
            "203.0.113.9:0".parse().unwrap()
        );
        assert_eq!(
            client_addr(Some(" 2001:db8::1 ")),
            "[2001:db8::1]:0".parse().unwrap()
        );
        assert!(client_addr(Some("nonsense")).ip().is_unspecified());
        assert!(client_addr(None).ip().is_unspecified());
    }

    #[test]
    fn origin_urls() {
        let n = Upstream::Name {
            host: "wt1.example.com",
            port: 443,
        };
        assert_eq!(
            origin_url(&n, true, "/?wtd=wt1A"),
            "https://wt1.example.com:443/?wtd=wt1A"
        );
        let s = Upstream::Socket("127.0.0.1:9090".parse().unwrap());
        assert_eq!(origin_url(&s, false, "/x"), "http://127.0.0.1:9090/x");
        let s6 = Upstream::Socket("[::1]:9090".parse().unwrap());
        assert_eq!(origin_url(&s6, false, "weird"), "http://[::1]:9090/");
    }

    #[test]
    fn tickets_rotate_per_backend_from_their_start() {
        use router_core::unstable::balance::select;
        use router_core::{HealthSnapshot, ProxyId};
        let parsed = router_core::parse(
            "t.cfg",
            "backend a\n server s1 a.example:1\n server s2 a.example:2\n\
             backend b\n server s1 b.example:1\n server s2 b.example:2\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let cfg = &parsed.config;
        let health = HealthSnapshot::all_up(cfg);
        // Per isolate, each backend's rotation starts at an offset (random in the Worker).
        let t = router_core::LocalTickets::starting_at(cfg, |i| i as u64);
        let req = router_core::RequestFacts {
            method: "GET",
            target: "/",
            version: "HTTP/1.1",
            headers: &[],
            src: "10.0.0.1:1000".parse().unwrap(),
            dst: "10.0.0.2:80".parse().unwrap(),
            tls: false,
        };
        let pick = |b: u16| {
            let (_, s) = select(cfg, ProxyId(b), &req, &health, None, &t);
            s.map(|s| cfg.server(s).name.clone())
        };
        assert_eq!(pick(0).as_deref(), Some("s1"));
        assert_eq!(pick(0).as_deref(), Some("s2"));
        assert_eq!(pick(1).as_deref(), Some("s2"));
        assert_eq!(pick(1).as_deref(), Some("s1"));
    }

    #[test]
    fn fingerprints_differ() {
        assert_ne!(fingerprint("a"), fingerprint("b"));
    }
}
