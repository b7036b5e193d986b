//! Random requests for a generated config: built from the vocabulary the config's
//! patterns come from, then mutated the ways clients and attackers vary requests
//! (case, percent-encoding, separators, absolute form, duplicate and missing headers,
//! odd upgrades, HTTP/1.0, bodies).
//!
//! Never generated: a body shorter than its `Content-Length` (both sides would wait
//! for `timeout client`: slow, and a timing test rather than a routing one).

use std::net::Ipv4Addr;

use super::rng::Rng;
use super::vocab::*;
use crate::corpus::Request;

/// One request and where it goes.
#[derive(Debug, Clone)]
pub struct GenRequest {
    /// Index in [`super::config::GenConfig::entries`].
    pub entry: usize,
    /// Client address (a loopback address: used for real on both sides).
    pub src: Ipv4Addr,
    pub req: Request,
}

const WS_KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

fn query(r: &mut Rng) -> String {
    let n = match r.below(10) {
        0..=2 => 0,
        3..=7 => 1,
        _ => r.range(2, 3),
    };
    let mut parts = Vec::new();
    for _ in 0..n {
        let name = *r.pick(PARAMS);
        let value = if name == "wtd" {
            *r.pick(SESSIONS)
        } else {
            *r.pick(PARAM_VALUES)
        };
        parts.push(if r.chance(5) {
            name.to_string()
        } else {
            format!("{name}={value}")
        });
    }
    if parts.is_empty() {
        return String::new();
    }
    let sep = if r.chance(15) {
        *r.pick(&[";", "?", "&&"])
    } else {
        "&"
    };
    format!("?{}", parts.join(sep))
}

/// Upper-cases or lower-cases `s`, or flips the case of one letter.
fn recase(r: &mut Rng, s: &str) -> String {
    match r.below(3) {
        0 => s.to_ascii_uppercase(),
        1 => s.to_ascii_lowercase(),
        _ => {
            let letters: Vec<usize> = s
                .char_indices()
                .filter(|(_, c)| c.is_ascii_alphabetic())
                .map(|(i, _)| i)
                .collect();
            if letters.is_empty() {
                return s.to_string();
            }
            let i = letters[r.below(letters.len())];
            let mut b = s.as_bytes().to_vec();
            b[i] ^= 0x20;
            String::from_utf8(b).unwrap_or_else(|_| s.to_string())
        }
    }
}

/// Percent-encodes one character of `s` (a `/`, `=`, `&` or a letter).
fn percent(r: &mut Rng, s: &str) -> String {
    let spots: Vec<usize> = s
        .char_indices()
        .filter(|(i, c)| *i > 0 && (c.is_ascii_alphanumeric() || "/=&.".contains(*c)))
        .map(|(i, _)| i)
        .collect();
    if spots.is_empty() {
        return s.to_string();
    }
    let i = spots[r.below(spots.len())];
    let c = s.as_bytes()[i];
    let hex = if r.chance(50) {
        format!("%{c:02X}")
    } else {
        format!("%{c:02x}")
    };
    format!("{}{hex}{}", &s[..i], &s[i + 1..])
}

/// Path separators changed: `//`, `/./`, `/../`, a trailing `/` or `?`.
fn separators(r: &mut Rng, path: &str) -> String {
    match r.below(5) {
        0 => path.replacen('/', "//", 1),
        1 => format!("/.{path}"),
        2 => format!("/x/..{path}"),
        3 if !path.ends_with('/') => format!("{path}/"),
        _ => format!("{path}?"),
    }
}

/// Builds one request for a config with `entries` frontends.
pub fn generate(r: &mut Rng, entries: usize) -> GenRequest {
    let entry = r.below(entries);
    let src = Ipv4Addr::new(127, 0, 0, *r.pick(&[1, 1, 1, 2, 3, 4]));
    let mut method = if r.chance(65) {
        "GET".to_string()
    } else {
        r.pick(METHODS).to_string()
    };
    let mut path = r.pick(PATHS).to_string();
    let mut q = query(r);
    let mut version = match r.below(20) {
        0..=15 => "HTTP/1.1",
        16..=18 => "HTTP/1.0",
        _ => *r.pick(&["HTTP/1.2", "HTTP/2.0", "http/1.1", "HTTP/1"]),
    }
    .to_string();
    let host = r.pick(HOSTS).to_string();
    let mut headers: Vec<String> = Vec::new();
    let with_host = if version == "HTTP/1.0" {
        r.chance(50)
    } else {
        r.chance(92)
    };
    let host_name = if r.chance(15) {
        recase(r, "Host")
    } else {
        "Host".to_string()
    };
    if with_host {
        headers.push(format!("{host_name}: {host}"));
    }
    for _ in 0..r.range(0, 3) {
        let (name, values) = *r.pick(HEADERS);
        let name = if r.chance(20) {
            recase(r, name)
        } else {
            name.to_string()
        };
        headers.push(format!("{name}: {}", r.pick(values)));
    }
    let mut body = None;
    let mut target_override = None;
    // Mutations: each independent, most requests get none or one.
    if r.chance(10) {
        path = recase(r, &path);
    }
    if r.chance(8) {
        if r.chance(50) || q.is_empty() {
            path = percent(r, &path);
        } else {
            q = percent(r, &q);
        }
    }
    if r.chance(8) {
        path = separators(r, &path);
    }
    if r.chance(5) {
        method = method.to_ascii_lowercase();
    }
    if r.chance(10) {
        // Absolute form, its authority agreeing with Host or not.
        let scheme = *r.pick(&["http", "https", "HTTP", "Http"]);
        let authority = match r.below(6) {
            0 => format!("{host}:80"),
            1 => format!("{host}:443"),
            2 => String::new(),
            3 => r.pick(HOSTS).to_string(),
            _ => host.clone(),
        };
        target_override = Some(format!("{scheme}://{authority}{path}{q}"));
    }
    if r.chance(3) {
        target_override = Some(
            r.pick(&[
                "*",
                "/app#frag",
                "/a b",
                "app",
                "/%",
                "/%zz",
                "/?wtd=wt1\"x\"",
            ])
            .to_string(),
        );
        if target_override.as_deref() == Some("*") {
            method = "OPTIONS".into();
        }
    }
    if r.chance(5) {
        // A duplicate header (two Host lines is a 400 in HAProxy).
        if let Some(h) = headers.get(r.below(headers.len().max(1))).cloned() {
            headers.push(h);
        }
    }
    if r.chance(4) {
        headers.push(format!("host: {}", r.pick(HOSTS)));
    }
    if r.chance(8) {
        upgrade(r, &mut headers, &mut body);
    }
    if body.is_none() && (method == "POST" || method == "PUT" || r.chance(3)) {
        body = Some(if r.chance(80) {
            headers.push("Content-Length: 5".into());
            "hello".to_string()
        } else {
            headers.push("Transfer-Encoding: chunked".into());
            "5\r\nhello\r\n0\r\n\r\n".to_string()
        });
    }
    if r.chance(4) {
        version = "HTTP/1.0".into();
        if r.chance(50) {
            headers.push("Connection: keep-alive".into());
        }
    }
    if r.chance(3) {
        headers.push(format!(
            "Connection: {}",
            r.pick(&["close", "keep-alive", "Close"])
        ));
    }
    let target = target_override.unwrap_or_else(|| format!("{path}{q}"));
    GenRequest {
        entry,
        src,
        req: Request {
            line: format!("{method} {target} {version}"),
            headers,
            body,
            expect: None,
        },
    }
}

/// `Connection: upgrade` variants: WebSocket with a valid key, a bad key or none,
/// another protocol, an upgrade with a body, `Upgrade` without `Connection`.
fn upgrade(r: &mut Rng, headers: &mut Vec<String>, body: &mut Option<String>) {
    let conn = *r.pick(&[
        "Connection: Upgrade",
        "Connection: keep-alive, Upgrade",
        "connection: upgrade",
        "",
    ]);
    if !conn.is_empty() {
        headers.push(conn.to_string());
    }
    headers.push(format!(
        "Upgrade: {}",
        r.pick(&["websocket", "WebSocket", "h2c", "websocket, foo"])
    ));
    match r.below(4) {
        0 | 1 => headers.push(format!("Sec-WebSocket-Key: {WS_KEY}")),
        2 => headers.push("Sec-WebSocket-Key: short".into()),
        _ => {}
    }
    if r.chance(50) {
        headers.push("Sec-WebSocket-Version: 13".into());
    }
    if r.chance(25) {
        headers.push("Content-Length: 7".into());
        *body = Some("payload".into());
    }
}
