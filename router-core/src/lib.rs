//! # router-core
//!
//! The routing engine of Wt Edge: it parses HAProxy configuration files
//! (the haproxy.cfg dialect, legacy 1.4 keywords included), evaluates ACLs,
//! redirects and Wt session-prefix affinity with HAProxy's semantics, keeps the
//! health state machine and selects the server.
//!
//! It is sans-io: no sockets, no clock, no randomness. Hosts (the `wtedge`
//! proxy, the Cloudflare Worker) pass request facts, timestamps, each backend's
//! balancing state ([`Rotation`]: HAProxy's `lb_fwrr` and `lb_fwlc`
//! orders) and, through [`Tickets`], the streams each server serves and random
//! numbers in, and act on the [`Decision`].
//!
//! ```
//! use router_core::{parse, decide, HealthSnapshot, LocalTickets, RequestFacts, Decision};
//! let cfg = "frontend wt\n bind :80\n acl srv1 url_sub wtd=wt1\n use_backend b1 if srv1\n default_backend b1\nbackend b1\n server s1 10.0.0.1:9090\n";
//! let parsed = parse("wt.cfg", cfg).unwrap();
//! let config = &parsed.config;
//! let req = RequestFacts {
//!     method: "GET", target: "/?wtd=wt1AAAA", version: "HTTP/1.1", headers: &[],
//!     src: "10.1.1.1:5000".parse().unwrap(), dst: "10.0.0.9:80".parse().unwrap(), tls: false,
//! };
//! let health = HealthSnapshot::all_up(config);
//! let d = decide(config, config.default_frontend().unwrap(), &req, &health, &LocalTickets::new(config), None);
//! assert!(matches!(d, Decision::Forward(f) if config.server(f.server).name == "s1"));
//! ```
//!
//! # The public interface
//!
//! The public interface is:
//!
//! - loading a configuration: [`parse`], [`parse_with_files`], [`Parsed`], and
//!   its diagnostics: [`Errors`], [`Diagnostic`], [`DiagnosticKind`];
//! - the configuration model: [`Config`], [`Proxy`], [`Server`] and their ids
//!   at the root, every type they hold in [`model`];
//! - deciding: [`decide`], [`redispatch`], with [`RequestFacts`] in and a
//!   [`Decision`] ([`Forward`], [`Upstream`], [`HeaderAppend`]) and its [`Trace`]
//!   out; [`HeaderInterest`] says which request headers a config reads;
//! - the state a host keeps and passes in: [`HealthSnapshot`] ([`Health`],
//!   [`Observation`], [`Transition`]), [`Tickets`] ([`LocalTickets`]) and
//!   [`Rotation`].
//!
//! Everything else a host uses (the wasm wire format and ABI, the runtime API,
//! the stats page and exporter, the timeouts, retry, reuse and health-check
//! rules the two hosts apply) is in [`unstable`]: it follows the hosts in this
//! repository and is not covered by semver.
#![no_std]
// `abi.rs` alone allows it (the wasm exports read the host's memory).
#![deny(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;

#[cfg(all(target_arch = "wasm32", feature = "abi"))]
mod abi;
mod acl;
mod answer;
mod balance;
mod check;
mod cli;
mod config;
mod decision;
mod diag;
mod edge_origin;
mod encoding;
mod eval;
mod header_interest;
mod health;
mod normalize;
mod problem;
mod promex;
mod redirect;
mod request;
mod retry;
mod reuse;
mod router;
mod rules;
mod stats_page;
mod termination;
mod timeouts;
mod trace;
mod upgrade;
mod wire;

pub use balance::{LocalTickets, Rotation, Tickets};
pub use config::model::{Config, Proxy, ProxyId, ProxyKind, Server, ServerId};
pub use config::{Parsed, parse, parse_with_files};
pub use decision::{Decision, Forward, HeaderAppend, Upstream};
pub use diag::{Diagnostic, DiagnosticKind, Errors};
pub use header_interest::HeaderInterest;
pub use health::{Health, HealthSnapshot, Observation, Transition};
pub use request::RequestFacts;
pub use router::{decide, redispatch};
pub use termination::Termination;
pub use trace::{Trace, TraceStep};

/// The configuration model: what [`Config`] holds (sections, settings, servers,
/// rules), as the parser leaves it after validation.
pub mod model {
    pub use crate::config::model::*;
}

/// What only the two hosts' glue uses: not covered by semver, changed with the
/// hosts in this repository. The wasm ABI (the `wr_*` exports of the module
/// built with the `abi` feature, `abi.rs`) is unstable in the same way.
pub mod unstable {
    /// The byte format of requests and decisions across the wasm boundary.
    pub mod wire {
        pub use crate::wire::*;
    }
    /// HAProxy's canned answers and errorfile pages.
    pub mod answer {
        pub use crate::answer::*;
    }
    /// Balancing internals (the hash, the random source, server selection).
    pub mod balance {
        pub use crate::balance::*;
    }
    /// Health checks: what to send, how to read the result.
    pub mod check {
        pub use crate::check::*;
    }
    /// The runtime API (`stats socket` commands).
    pub mod cli {
        pub use crate::cli::*;
    }
    /// The parser's other outputs: the edge target's check, `stats socket`
    /// lines, suggestions.
    pub mod config {
        pub use crate::config::*;
    }
    /// Request-target parsing the fetches use, for the hosts' codecs.
    pub mod target {
        pub use crate::acl::fetch::{path_of, scheme_end, uri_of};
    }
    /// HAProxy's two-letter termination state and its parts.
    pub mod termination {
        pub use crate::termination::*;
    }
    /// Cloudflare's answers for an unreachable origin, read as failures.
    pub mod edge_origin {
        pub use crate::edge_origin::*;
    }
    /// `Accept-Encoding` and `Content-Encoding` rules.
    pub mod encoding {
        pub use crate::encoding::*;
    }
    /// Health administration (`set server ... state`).
    pub mod health {
        pub use crate::health::*;
    }
    /// Request normalization rules.
    pub mod normalize {
        pub use crate::normalize::*;
    }
    /// The Prometheus exporter.
    pub mod promex {
        pub use crate::promex::*;
    }
    /// Retries, redispatch and queues.
    pub mod retry {
        pub use crate::retry::*;
    }
    /// Server connection reuse (`http-reuse`, `pool-*`).
    pub mod reuse {
        pub use crate::reuse::*;
    }
    /// The routing entry points and their constants.
    pub mod router {
        pub use crate::router::*;
    }
    /// `http-request` and `http-response` rules.
    pub mod rules {
        pub use crate::rules::*;
    }
    /// The stats page.
    pub mod stats_page {
        pub use crate::stats_page::*;
    }
    /// Which timeout applies when.
    pub mod timeouts {
        pub use crate::timeouts::*;
    }
    /// WebSocket upgrade rules.
    pub mod upgrade {
        pub use crate::upgrade::*;
    }
}
