//! What the router looked at, for `wtedge explain`.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use serde::Serialize;

use crate::acl::AclRef;
use crate::config::model::{Config, ProxyId, ServerId};

/// One step of a decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "step", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum TraceStep {
    /// An ACL was evaluated.
    Acl {
        /// Section that owns the ACL.
        proxy: ProxyId,
        /// Which ACL.
        acl: AclRef,
        /// Its value (before any `!`).
        matched: bool,
    },
    /// A `redirect` rule's condition was evaluated.
    Redirect {
        /// Section of the rule.
        proxy: ProxyId,
        /// Line of the rule.
        line: u32,
        /// Whether it applied.
        matched: bool,
    },
    /// A `use_backend` rule's condition was evaluated.
    UseBackend {
        /// Section of the rule.
        proxy: ProxyId,
        /// Line of the rule.
        line: u32,
        /// Its backend.
        backend: ProxyId,
        /// Whether it applied.
        matched: bool,
    },
    /// No `use_backend` applied; `default_backend` (or the listen itself) is used.
    DefaultBackend {
        /// The frontend.
        proxy: ProxyId,
        /// The backend.
        backend: ProxyId,
    },
    /// No rule picked a backend and there is no default.
    NoBackend {
        /// The frontend.
        proxy: ProxyId,
    },
    /// A `use-server` rule was evaluated.
    UseServer {
        /// The backend.
        proxy: ProxyId,
        /// Line of the rule.
        line: u32,
        /// Its server.
        server: ServerId,
        /// Whether its condition held.
        matched: bool,
        /// Whether the server could take the request (it is skipped when not).
        usable: bool,
    },
    /// The balance algorithm ran.
    Balance {
        /// The backend.
        proxy: ProxyId,
        /// Round-robin ticket used, if one was taken.
        ticket: Option<u64>,
        /// The pick; `None` when no server is usable.
        server: Option<ServerId>,
    },
}

/// The steps of one decision, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Trace {
    /// Steps in evaluation order.
    pub steps: Vec<TraceStep>,
}

impl Trace {
    /// An empty trace.
    pub fn new() -> Self {
        Trace::default()
    }

    /// Records a step.
    pub fn push(&mut self, step: TraceStep) {
        self.steps.push(step);
    }

    /// One human-readable line per step, with names instead of ids.
    pub fn render(&self, cfg: &Config) -> Vec<String> {
        let name = |p: ProxyId| cfg.proxy(p).name.as_str();
        let yes = |b: bool| if b { "matched" } else { "no match" };
        self.steps
            .iter()
            .map(|s| match *s {
                TraceStep::Acl {
                    proxy,
                    acl,
                    matched,
                } => {
                    let def = cfg.proxy(proxy).acls.get(usize::from(acl.0));
                    let (n, line) = def.map_or(("?", 0), |d| (d.name.as_str(), d.line));
                    format!(
                        "{}: acl {n} (line {line}): {}",
                        name(proxy),
                        if matched { "true" } else { "false" }
                    )
                }
                TraceStep::Redirect {
                    proxy,
                    line,
                    matched,
                } => {
                    format!("{}: redirect (line {line}): {}", name(proxy), yes(matched))
                }
                TraceStep::UseBackend {
                    proxy,
                    line,
                    backend,
                    matched,
                } => format!(
                    "{}: use_backend {} (line {line}): {}",
                    name(proxy),
                    name(backend),
                    yes(matched)
                ),
                TraceStep::DefaultBackend { proxy, backend } => {
                    format!("{}: default backend {}", name(proxy), name(backend))
                }
                TraceStep::NoBackend { proxy } => {
                    format!(
                        "{}: no use_backend matched and no default_backend",
                        name(proxy)
                    )
                }
                TraceStep::UseServer {
                    proxy,
                    line,
                    server,
                    matched,
                    usable,
                } => format!(
                    "{}: use-server {} (line {line}): {}{}",
                    name(proxy),
                    cfg.server(server).name,
                    yes(matched),
                    if matched && !usable {
                        ", server not usable: skipped"
                    } else {
                        ""
                    }
                ),
                TraceStep::Balance {
                    proxy,
                    ticket,
                    server,
                } => format!(
                    "{}: balance {}{}: {}",
                    name(proxy),
                    cfg.proxy(proxy).settings.balance.name(),
                    ticket.map(|t| format!(" (ticket {t})")).unwrap_or_default(),
                    server.map_or(String::from("no usable server"), |s| cfg.server_path(s))
                ),
            })
            .collect()
    }
}
