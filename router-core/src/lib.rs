//! # router-core
//!
//! The routing engine of Wt Edge: it parses HAProxy configuration files
//! (the haproxy.cfg dialect, legacy 1.4 keywords included), evaluates ACLs,
//! redirects and Wt session-prefix affinity with HAProxy's semantics, keeps the
//! health state machine and selects the server.
//!
//! It is sans-io: no sockets, no clock, no randomness. Hosts (the `wtedge`
//! proxy, the Cloudflare Worker) pass request facts, timestamps, each backend's
//! balancing state ([`balance::Rotation`]: HAProxy's `lb_fwrr` and `lb_fwlc`
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
#![no_std]
#![deny(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

#[cfg(all(target_arch = "wasm32", feature = "abi"))]
pub mod abi;
pub mod acl;
pub mod answer;
pub mod balance;
pub mod check;
pub mod cli;
pub mod config;
pub mod decision;
pub mod diag;
pub mod edge_origin;
pub mod encoding;
pub mod eval;
pub mod header_interest;
pub mod health;
pub mod normalize;
pub mod problem;
pub mod promex;
pub mod redirect;
pub mod request;
pub mod retry;
pub mod reuse;
pub mod router;
pub mod rules;
pub mod stats_page;
pub mod termination;
pub mod timeouts;
pub mod trace;
pub mod upgrade;
pub mod wire;

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
