//! `stats` keywords: the runtime API's `stats socket` (global) and the stats
//! page's `stats enable|uri|auth|realm|refresh|hide-version|admin` (proxies and
//! defaults), read as HAProxy 2.6 reads them.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::net::SocketAddr;
use serde::Serialize;

use super::lexer::Word;
use crate::diag::DiagnosticKind as K;
use crate::problem::Problem;

/// A runtime API access level (`level user|operator|admin`), lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Read-only `show` commands.
    User,
    /// `user` plus a few non-risky changes (HAProxy's default level).
    Operator,
    /// Everything, `set server` included.
    Admin,
}

impl Level {
    /// The name HAProxy prints for `show cli level`.
    pub fn name(self) -> &'static str {
        match self {
            Level::User => "user",
            Level::Operator => "operator",
            Level::Admin => "admin",
        }
    }
}

/// Where a `stats socket` listens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SocketTarget {
    /// A UNIX socket path.
    Unix(String),
    /// `ipv4@IP:PORT`, `ipv6@...` or a plain `IP:PORT`.
    Tcp(SocketAddr),
}

/// `stats socket ADDR [mode M] [level L] ...` in `global`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatsSocket {
    /// Where it listens.
    pub target: SocketTarget,
    /// `mode`: the UNIX socket's permissions (octal).
    pub mode: Option<u32>,
    /// `level`. Default: operator, as HAProxy.
    pub level: Level,
    /// Line of the keyword.
    pub line: u32,
}

/// Bind options of a `stats socket` that change nothing for wtedge but that
/// HAProxy accepts (with the number of arguments each takes).
const IGNORED_SOCKET_OPTIONS: &[(&str, usize)] = &[
    ("expose-fd", 1),
    ("user", 1),
    ("group", 1),
    ("uid", 1),
    ("gid", 1),
    ("process", 1),
    ("thread", 1),
    ("name", 1),
    ("maxconn", 1),
    ("backlog", 1),
    ("severity-output", 1),
    ("accept-netscaler-cip", 1),
    ("nice", 1),
    ("id", 1),
    ("defer-accept", 0),
    ("transparent", 0),
    ("v4v6", 0),
    ("v6only", 0),
];

/// Parses `stats socket ...`, `stats timeout T`, `stats maxconn N` in `global`
/// (the last two accepted and kept for display). `words[0]` is `stats`.
pub fn parse_global(words: &[Word], line: u32) -> Result<Option<StatsSocket>, Problem> {
    let sub = words.get(1).map(|w| w.text.as_str()).unwrap_or("");
    match sub {
        "socket" => parse_socket(words, line).map(Some),
        "timeout" | "maxconn" | "bind-process" => match words.get(2) {
            Some(w) if !w.text.is_empty() => Ok(None),
            _ => Err(Problem::new(
                K::MissingArgument,
                words[0].col,
                format!("'stats {sub}' expects a value"),
            )),
        },
        _ => Err(Problem::new(
            K::UnknownKeyword,
            words[0].col,
            format!("'stats' in 'global' expects 'socket', 'timeout' or 'maxconn', not '{sub}'"),
        )
        .hint("stats socket /run/wtedge.sock mode 600 level admin")),
    }
}

fn parse_socket(words: &[Word], line: u32) -> Result<StatsSocket, Problem> {
    let Some(addr) = words.get(2).filter(|w| !w.text.is_empty()) else {
        return Err(Problem::new(
            K::MissingArgument,
            words[0].col,
            "'stats socket' expects an address or a UNIX socket path",
        ));
    };
    let target = parse_target(&addr.text).ok_or_else(|| {
        Problem::new(
            K::InvalidValue,
            addr.col,
            format!("'stats socket': cannot read the address '{}'", addr.text),
        )
        .hint("a path (/run/wtedge.sock), ipv4@127.0.0.1:9999 or 127.0.0.1:9999")
    })?;
    let mut sock = StatsSocket {
        target,
        mode: None,
        level: Level::Operator,
        line,
    };
    let mut i = 3;
    while let Some(w) = words.get(i) {
        let arg = words.get(i + 1).map(|a| a.text.as_str());
        match w.text.as_str() {
            "mode" => {
                let m = arg
                    .and_then(|a| u32::from_str_radix(a, 8).ok())
                    .ok_or_else(|| {
                        Problem::new(
                            K::InvalidValue,
                            w.col,
                            "'mode' expects an octal permission (e.g. 600)",
                        )
                    })?;
                sock.mode = Some(m);
                i += 2;
            }
            "level" => {
                sock.level = match arg {
                    Some("user") => Level::User,
                    Some("operator") => Level::Operator,
                    Some("admin") => Level::Admin,
                    _ => {
                        return Err(Problem::new(
                            K::InvalidValue,
                            w.col,
                            "'level' only supports 'user', 'operator', and 'admin'",
                        ));
                    }
                };
                i += 2;
            }
            kw => match IGNORED_SOCKET_OPTIONS.iter().find(|(n, _)| *n == kw) {
                Some((_, n)) => i += 1 + n,
                None => {
                    return Err(Problem::new(
                        K::Unsupported,
                        w.col,
                        format!("'stats socket': option '{kw}' is not supported by Wt Edge"),
                    )
                    .hint("supported: mode, level (user, group, expose-fd... are accepted and ignored)"));
                }
            },
        }
    }
    Ok(sock)
}

/// `/path`, `unix@/path`, `ipv4@IP:PORT`, `ipv6@[IP]:PORT`, `IP:PORT`.
fn parse_target(text: &str) -> Option<SocketTarget> {
    if let Some(path) = text.strip_prefix("unix@") {
        return Some(SocketTarget::Unix(String::from(path)));
    }
    if text.starts_with('/') || text.starts_with('.') {
        return Some(SocketTarget::Unix(String::from(text)));
    }
    let rest = text
        .strip_prefix("ipv4@")
        .or_else(|| text.strip_prefix("ipv6@"))
        .or_else(|| text.strip_prefix("tcp@"))
        .or_else(|| text.strip_prefix("tcp4@"))
        .or_else(|| text.strip_prefix("tcp6@"))
        .unwrap_or(text);
    rest.parse().ok().map(SocketTarget::Tcp)
}

/// The stats page of a proxy (`stats ...` lines; defaults apply to the proxies after).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StatsPage {
    /// `stats enable` (or any other `stats` line, which enables it in HAProxy).
    pub enabled: bool,
    /// `stats uri`. Default: `/haproxy?stats`.
    pub uri: Option<String>,
    /// `stats auth USER:PASSWORD` lines.
    pub auth: Vec<String>,
    /// `stats realm`.
    pub realm: Option<String>,
    /// `stats refresh` in milliseconds.
    pub refresh_ms: Option<u64>,
    /// `stats hide-version`.
    pub hide_version: bool,
    /// `stats show-legends`: the page shows server addresses (as the CLI does).
    pub show_legends: bool,
    /// `stats admin if|unless COND`: who may change server states from the page.
    pub admin: Option<crate::acl::Condition>,
}

impl StatsPage {
    /// The URI prefix the page answers on.
    pub fn uri(&self) -> &str {
        self.uri.as_deref().unwrap_or("/haproxy?stats")
    }
}

/// Parses one `stats ...` line of a proxy or defaults section into `page`.
pub fn parse_proxy(words: &[Word], page: &mut StatsPage) -> Result<(), Problem> {
    let sub = words.get(1).map(|w| w.text.as_str()).unwrap_or("");
    let arg = || {
        words
            .get(2)
            .filter(|w| !w.text.is_empty())
            .map(|w| w.text.clone())
            .ok_or_else(|| {
                Problem::new(
                    K::MissingArgument,
                    words[0].col,
                    format!("'stats {sub}' expects an argument"),
                )
            })
    };
    match sub {
        "enable" => {}
        "uri" => page.uri = Some(arg()?),
        "realm" => page.realm = Some(arg()?),
        "auth" => {
            let a = arg()?;
            if !a.contains(':') {
                return Err(Problem::new(
                    K::InvalidValue,
                    words[0].col,
                    "'stats auth' expects USER:PASSWORD",
                ));
            }
            page.auth.push(a);
        }
        "refresh" => {
            let a = arg()?;
            let ms = super::time::parse_ms(&a).ok_or_else(|| {
                Problem::new(
                    K::InvalidValue,
                    words[0].col,
                    format!("'stats refresh': invalid time '{a}'"),
                )
            })?;
            page.refresh_ms = Some(ms);
        }
        "hide-version" => page.hide_version = true,
        // Its condition needs the proxy's ACLs: parsed by the config parser.
        "admin" => {}
        "show-legends" => page.show_legends = true,
        "show-node" | "show-desc" | "show-modules" | "scope" => {}
        _ => {
            return Err(Problem::new(
                K::UnknownKeyword,
                words[0].col,
                format!("unknown 'stats {sub}'"),
            )
            .hint("stats enable|uri|auth|realm|refresh|hide-version|admin"));
        }
    }
    page.enabled = true;
    Ok(())
}
