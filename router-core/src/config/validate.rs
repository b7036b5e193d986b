//! Resolution of names (backends, servers, tracks) and whole-config checks.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::Parsed;
use super::model::*;
use super::parse::Parser;
use super::suggest::closest;
use crate::acl::{AclOrigin, Fetch, Matcher, Pattern};
use crate::diag::{Diagnostic, DiagnosticKind as K, Errors};

struct Out<'f> {
    file: &'f str,
    errors: Vec<Diagnostic>,
    warnings: Vec<Diagnostic>,
}

impl Out<'_> {
    /// Appends a diagnostic to the warnings (`warning`) or the errors.
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        warning: bool,
        kind: K,
        line: u32,
        col: u32,
        keyword: &str,
        message: String,
        hint: Option<String>,
    ) {
        let d = Diagnostic {
            kind,
            file: String::from(self.file),
            line,
            column: col.max(1),
            keyword: String::from(keyword),
            message,
            hint,
        };
        if warning {
            self.warnings.push(d);
        } else {
            self.errors.push(d);
        }
    }

    fn error(
        &mut self,
        kind: K,
        line: u32,
        col: u32,
        keyword: &str,
        message: String,
        hint: Option<String>,
    ) {
        self.push(false, kind, line, col, keyword, message, hint);
    }

    fn warn(
        &mut self,
        kind: K,
        line: u32,
        col: u32,
        keyword: &str,
        message: String,
        hint: Option<String>,
    ) {
        self.push(true, kind, line, col, keyword, message, hint);
    }
}

fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    closest(name, candidates).map(|s| format!("did you mean '{s}'?"))
}

/// Resolves every reference and runs the whole-config checks.
pub fn finish(p: Parser<'_>) -> Result<Parsed, Errors> {
    let Parser {
        file,
        global,
        mut proxies,
        mut servers,
        tracks,
        use_servers,
        errors,
        warnings,
        ..
    } = p;
    let mut out = Out {
        file,
        errors,
        warnings,
    };

    let backends: Vec<(String, ProxyId)> = proxies
        .iter()
        .enumerate()
        .filter(|(_, px)| px.kind.is_backend())
        .filter_map(|(i, px)| Some((px.name.clone(), ProxyId(u16::try_from(i).ok()?))))
        .collect();
    let resolve = |r: &mut BackendRef, keyword: &str, out: &mut Out<'_>| match backends
        .iter()
        .find(|(n, _)| *n == r.name)
    {
        Some((_, id)) => r.id = *id,
        None => out.error(
            K::UnknownBackend,
            r.line,
            r.col,
            keyword,
            format!("no such backend '{}'", r.name),
            did_you_mean(&r.name, backends.iter().map(|(n, _)| n.as_str())),
        ),
    };

    let server_names: Vec<(String, String, ServerId)> = servers
        .iter()
        .enumerate()
        .filter_map(|(i, s)| {
            let px = proxies.get(usize::from(s.proxy.0))?;
            Some((
                px.name.clone(),
                s.name.clone(),
                ServerId(u32::try_from(i).ok()?),
            ))
        })
        .collect();
    for px in &mut proxies {
        for rule in &mut px.use_backends {
            resolve(&mut rule.backend, "use_backend", &mut out);
        }
        if let Some(d) = &mut px.default_backend {
            resolve(d, "default_backend", &mut out);
        }
        let is_backend = px.kind.is_backend();
        for acl in &mut px.acls {
            for term in &mut acl.terms {
                let keyword = match &term.fetch {
                    Fetch::BeConn(_) => "be_conn",
                    Fetch::SrvConn(_) => "srv_conn",
                    Fetch::SrvIsUp(_) => "srv_is_up",
                    _ => "nbsrv",
                };
                match &mut term.fetch {
                    Fetch::Nbsrv(Some(t)) | Fetch::BeConn(Some(t)) => {
                        match backends.iter().find(|(n, _)| *n == t.name) {
                            Some((_, id)) => t.id = *id,
                            None => out.error(
                                K::UnknownBackend,
                                term.line,
                                t.col,
                                "acl",
                                format!("{}: no such backend '{}'", keyword, t.name),
                                did_you_mean(&t.name, backends.iter().map(|(n, _)| n.as_str())),
                            ),
                        }
                    }
                    Fetch::Nbsrv(None) if !is_backend && acl.origin != AclOrigin::Predefined => out
                        .error(
                            K::MissingArgument,
                            term.line,
                            1,
                            "acl",
                            String::from("'nbsrv' without a backend name in a frontend"),
                            Some(String::from("write nbsrv(BACKEND)")),
                        ),
                    Fetch::SrvIsUp(t) | Fetch::SrvConn(t) => {
                        let backend = match &t.backend {
                            Some(b) => Some(b.as_str()),
                            None if is_backend => Some(px.name.as_str()),
                            None => None,
                        };
                        match server_names
                            .iter()
                            .find(|(b, s, _)| Some(b.as_str()) == backend && *s == t.server)
                        {
                            Some((_, _, id)) => t.id = *id,
                            None => out.error(
                                K::UnknownServer,
                                term.line,
                                t.col,
                                "acl",
                                format!(
                                    "{}: no such server '{}{}'",
                                    keyword,
                                    t.backend
                                        .as_deref()
                                        .map_or(String::new(), |b| format!("{b}/")),
                                    t.server
                                ),
                                Some(format!("write {}(BACKEND/SERVER)", keyword)),
                            ),
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    for u in &use_servers {
        let px = &mut proxies[u.proxy];
        let rule = &mut px.use_servers[u.rule];
        match px
            .servers
            .iter()
            .find(|s| servers[s.0 as usize].name == rule.name)
        {
            Some(id) => rule.server = *id,
            None => {
                let names: Vec<&str> = px
                    .servers
                    .iter()
                    .map(|s| servers[s.0 as usize].name.as_str())
                    .collect();
                out.error(
                    K::UnknownServer,
                    rule.line,
                    u.col,
                    "use-server",
                    format!("no such server '{}' in backend '{}'", rule.name, px.name),
                    did_you_mean(&rule.name, names),
                );
            }
        }
    }

    for t in &tracks {
        let server = &servers[t.server];
        if server.params.check {
            out.error(
                K::InvalidValue,
                server.line,
                t.col,
                "track",
                format!(
                    "server '{}' cannot both run checks and track another server",
                    server.name
                ),
                Some(String::from(
                    "remove 'check' (its state comes from the tracked server) or remove 'track'",
                )),
            );
            continue;
        }
        let (bname, sname) = match t.spec.split_once('/') {
            Some((b, s)) => (b, s),
            None => (
                proxies[usize::from(server.proxy.0)].name.as_str(),
                t.spec.as_str(),
            ),
        };
        let line = server.line;
        let Some((_, bid)) = backends.iter().find(|(n, _)| n == bname) else {
            out.error(
                K::UnknownBackend,
                line,
                t.col,
                "track",
                format!("track '{}': no such backend '{bname}'", t.spec),
                did_you_mean(bname, backends.iter().map(|(n, _)| n.as_str())),
            );
            continue;
        };
        let bpx = &proxies[usize::from(bid.0)];
        match bpx
            .servers
            .iter()
            .find(|s| servers[s.0 as usize].name == sname)
        {
            Some(&sid) => {
                servers[t.server].track = Some(TrackRef {
                    spec: t.spec.clone(),
                    id: sid,
                });
            }
            None => {
                let names: Vec<&str> = bpx
                    .servers
                    .iter()
                    .map(|s| servers[s.0 as usize].name.as_str())
                    .collect();
                out.error(
                    K::UnknownServer,
                    line,
                    t.col,
                    "track",
                    format!(
                        "track '{}': no such server '{sname}' in backend '{bname}'",
                        t.spec
                    ),
                    did_you_mean(sname, names),
                );
            }
        }
    }

    // Follow track chains: cycles and targets without checks are errors.
    for i in 0..servers.len() {
        let Some(first) = servers[i].track.as_ref().map(|t| t.id) else {
            continue;
        };
        let mut seen = alloc::vec![i];
        let mut cur = first.0 as usize;
        let mut cycle = false;
        while let Some(next) = servers[cur].track.as_ref().map(|t| t.id.0 as usize) {
            if seen.contains(&cur) {
                cycle = true;
                break;
            }
            seen.push(cur);
            cur = next;
        }
        if cycle || cur == i {
            let path = seen
                .iter()
                .map(|&s| server_path(&proxies, &servers[s]))
                .collect::<Vec<_>>()
                .join(" -> ");
            out.error(
                K::TrackCycle,
                servers[i].line,
                1,
                "track",
                format!(
                    "track loop: {path} -> {}",
                    server_path(&proxies, &servers[cur])
                ),
                Some(String::from(
                    "one server of the chain must have 'check' and track nothing",
                )),
            );
            continue;
        }
        if !servers[cur].params.check {
            let target = server_path(&proxies, &servers[cur]);
            out.error(
                K::TrackWithoutCheck,
                servers[i].line,
                1,
                "track",
                format!(
                    "server '{}' tracks {target}, which has no health check",
                    servers[i].name
                ),
                Some(format!(
                    "add 'check' to server {} (line {})",
                    servers[cur].name, servers[cur].line
                )),
            );
            continue;
        }
        if let Ok(id) = u32::try_from(cur) {
            servers[i].health_source = ServerId(id);
        }
    }

    for (line, col, message, hint) in super::drain_lint::nbsrv_guards(&proxies, &servers) {
        out.warn(
            K::DrainBreaksAffinity,
            line,
            col,
            "use_backend",
            message,
            Some(hint),
        );
    }

    for (i, px) in proxies.iter().enumerate() {
        let keyword = px_keyword(px);
        if px.kind.is_frontend() && px.binds.is_empty() {
            out.warn(
                K::Unreachable,
                px.line,
                1,
                keyword,
                format!("{keyword} '{}' has no 'bind' directive", px.name),
                Some(String::from(
                    "add 'bind ADDRESS:PORT', or declare it as a backend if this was intended",
                )),
            );
        }
        if !px.settings.mode_set {
            out.warn(
                K::NotHttpMode,
                px.line,
                1,
                keyword,
                format!(
                    "'{}' has no 'mode http': HAProxy runs it in TCP mode (and refuses an HTTP frontend with a TCP backend); Wt Edge runs HTTP",
                    px.name
                ),
                Some(String::from("add 'mode http' to the defaults section")),
            );
        }
        // HAProxy: "loop detected for default_backend" (a listen naming itself).
        let me = u16::try_from(i).ok().map(ProxyId);
        let looped = px
            .default_backend
            .iter()
            .chain(px.use_backends.iter().map(|r| &r.backend))
            .find(|r| Some(r.id) == me);
        if let Some(r) = looped {
            out.error(
                K::InvalidValue,
                r.line,
                r.col,
                "use_backend",
                format!("loop detected: '{}' switches to itself", px.name),
                Some(String::from(
                    "a listen section is already its own backend: remove the rule",
                )),
            );
        }
        prefix_collisions(px, &mut out);
    }
    // Only when nothing else is wrong: a refused `bind` line would cascade into this.
    if out.errors.is_empty()
        && proxies.iter().any(|p| p.kind.is_frontend())
        && proxies.iter().all(|p| p.binds.is_empty())
    {
        let first = proxies.iter().find(|p| p.kind.is_frontend());
        out.error(
            K::Unreachable,
            first.map_or(1, |p| p.line),
            1,
            first.map_or("frontend", px_keyword),
            String::from(
                "no frontend or listen section has a 'bind': nothing would listen (HAProxy refuses such a config)",
            ),
            Some(String::from("add 'bind ADDRESS:PORT' to the frontend")),
        );
    }

    if !out.errors.is_empty() {
        out.errors.sort_by_key(|d| (d.line, d.column));
        out.warnings.sort_by_key(|d| (d.line, d.column));
        return Err(Errors {
            errors: out.errors,
            warnings: out.warnings,
        });
    }
    out.warnings.sort_by_key(|d| (d.line, d.column));
    Ok(Parsed {
        config: Config {
            file: String::from(file),
            global,
            proxies,
            servers,
        },
        warnings: out.warnings,
    })
}

fn px_keyword(px: &Proxy) -> &'static str {
    match px.kind {
        ProxyKind::Frontend => "frontend",
        ProxyKind::Backend => "backend",
        ProxyKind::Listen => "listen",
    }
}

fn server_path(proxies: &[Proxy], s: &Server) -> String {
    format!("{}/{}", proxies[usize::from(s.proxy.0)].name, s.name)
}

/// Session-prefix ACLs where one prefix starts another (`wtd=wt1` also matches
/// `wtd=wt10...`): HAProxy's semantics are kept, but the user is told.
fn prefix_collisions(px: &Proxy, out: &mut Out<'_>) {
    let mut prefixes: Vec<(String, &str, u32)> = Vec::new();
    for acl in px.acls.iter().filter(|a| a.origin == AclOrigin::Declared) {
        for term in &acl.terms {
            let found = match (&term.fetch, term.matcher) {
                (Fetch::Url, Matcher::Sub | Matcher::Beg) => true,
                (Fetch::UrlParam(Some(n)), Matcher::Beg | Matcher::Sub) => n == "wtd",
                _ => false,
            };
            if !found {
                continue;
            }
            for p in &term.patterns {
                let Pattern::Str(s) = p else { continue };
                let prefix = match &term.fetch {
                    Fetch::Url => match s.find("wtd=") {
                        Some(i) => &s[i + 4..],
                        None => continue,
                    },
                    _ => s.as_str(),
                };
                if prefix.is_empty() {
                    continue;
                }
                let prefix = if term.icase {
                    prefix.to_ascii_lowercase()
                } else {
                    String::from(prefix)
                };
                prefixes.push((prefix, acl.name.as_str(), term.line));
            }
        }
    }
    for (short, name, line) in &prefixes {
        for (long, other, other_line) in &prefixes {
            if long.len() > short.len() && long.starts_with(short.as_str()) {
                out.warn(
                    K::CollidingPrefix,
                    *line,
                    1,
                    "acl",
                    format!(
                        "ACL '{name}' matches session prefix '{short}', which also matches the ids of prefix '{long}' (ACL '{other}', line {other_line})"
                    ),
                    Some(format!(
                        "give session prefixes one fixed width (e.g. wt01..wt10), or test '{long}' before '{short}'"
                    )),
                );
            }
        }
    }
}
