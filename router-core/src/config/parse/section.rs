//! Section headers: `global`, `defaults`, `frontend`, `backend`, `listen` (and 1.4's `listen ADDR`).

use alloc::format;
use alloc::vec::Vec;

use super::args::bad_char;
use super::bind::parse_bind_list;
use super::{Parser, Res, Section};
use crate::config::lexer::Word;
use crate::config::model::*;
use crate::diag::DiagnosticKind as K;
use crate::problem::Problem;

impl Parser<'_> {
    pub(super) fn section_header(&mut self, kind: &str, words: &[Word]) -> Res {
        self.saw_switching_rule = None;
        self.saw_redirect = false;
        match kind {
            "global" => {
                self.section = Section::Global;
                Ok(())
            }
            "defaults" => {
                if words.len() > 1 {
                    self.section = Section::Skipped;
                    return Err(Problem::new(
                        K::Unsupported,
                        words[1].col,
                        "named defaults sections are not supported by Wt Edge",
                    )
                    .hint("write 'defaults' without a name"));
                }
                self.section = Section::Defaults;
                self.defaults = Settings::default();
                self.defaults_backend = None;
                Ok(())
            }
            _ => {
                let kind = match kind {
                    "frontend" => ProxyKind::Frontend,
                    "backend" => ProxyKind::Backend,
                    _ => ProxyKind::Listen,
                };
                self.section = Section::Skipped;
                let Some(name_word) = words.get(1) else {
                    return Err(Problem::new(
                        K::MissingArgument,
                        words[0].col,
                        format!("'{}' needs a name", words[0].text),
                    )
                    .hint(format!("write '{} NAME'", words[0].text)));
                };
                let mut binds = Vec::new();
                let mut name = name_word.text.clone();
                let mut legacy_addr = None;
                if kind == ProxyKind::Listen && name.contains(':') {
                    // HAProxy 1.4: `listen 0.0.0.0:8181` (an address where the name goes).
                    legacy_addr = Some(name_word);
                } else if let Some(bad) = bad_char(&name, "-_.:") {
                    return Err(Problem::new(
                        K::InvalidValue,
                        name_word.col,
                        format!("invalid character '{bad}' in section name '{name}'"),
                    )
                    .hint("names use letters, digits, '-', '_', '.' and ':'"));
                }
                if let Some(addr_word) = words.get(2) {
                    if kind == ProxyKind::Listen && legacy_addr.is_none() {
                        legacy_addr = Some(addr_word);
                    } else if addr_word.text == "from" {
                        return Err(Problem::new(
                            K::Unsupported,
                            addr_word.col,
                            "'from' (named defaults) is not supported by Wt Edge",
                        ));
                    } else {
                        return Err(Problem::new(
                            K::InvalidValue,
                            addr_word.col,
                            format!("unexpected '{}' after the section name", addr_word.text),
                        ));
                    }
                }
                if let Some(addr) = legacy_addr {
                    let (parsed, _) = parse_bind_list(&addr.text, addr.col, self.line)?;
                    binds = parsed;
                    let modern_name = if addr.text == name {
                        "NAME"
                    } else {
                        name.as_str()
                    };
                    self.warn(
                        Problem::new(
                            K::Legacy,
                            addr.col,
                            format!("'listen' with an address is HAProxy 1.4 syntax (refused since 1.6); read as a listen section bound to {}", addr.text),
                        )
                        .hint(format!("write 'listen {modern_name}' and on the next line 'bind {}'", addr.text)),
                    );
                    if addr.text == name {
                        name = addr.text.clone();
                    }
                }
                let dup = self.proxies.iter().find(|p| {
                    p.name == name
                        && ((p.kind.is_frontend() && kind.is_frontend())
                            || (p.kind.is_backend() && kind.is_backend()))
                });
                if let Some(prev) = dup {
                    return Err(Problem::new(
                        K::Duplicate,
                        name_word.col,
                        format!("'{name}' is already declared at line {}", prev.line),
                    )
                    .hint("give each frontend and each backend a unique name"));
                }
                let default_backend = if kind.is_frontend() {
                    self.defaults_backend.as_ref().map(|(n, l, c)| BackendRef {
                        name: n.clone(),
                        id: ProxyId(u16::MAX),
                        line: *l,
                        col: *c,
                    })
                } else {
                    None
                };
                if u16::try_from(self.proxies.len() + 1).is_err() {
                    return Err(Problem::new(
                        K::InvalidValue,
                        name_word.col,
                        "too many sections",
                    ));
                }
                self.proxies.push(Proxy {
                    name,
                    kind,
                    line: self.line,
                    binds,
                    settings: self.defaults.clone(),
                    acls: Vec::new(),
                    redirects: Vec::new(),
                    http_requests: Vec::new(),
                    http_responses: Vec::new(),
                    use_backends: Vec::new(),
                    default_backend,
                    use_servers: Vec::new(),
                    servers: Vec::new(),
                });
                self.section = Section::Proxy(self.proxies.len() - 1);
                Ok(())
            }
        }
    }
}
