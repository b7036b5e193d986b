//! Sample fetches: what an ACL looks at in a request. One file per fetch family.

mod hdr;
mod nbsrv;
mod target;
mod urlp;

use alloc::string::String;
use core::net::IpAddr;
use serde::Serialize;

use crate::config::model::{ProxyId, ServerId};
use crate::eval::EvalCtx;

pub use hdr::split_values;
pub use target::{path_of, query_of, scheme_end, uri_of};

/// A value produced by a fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sample<'a> {
    /// Text (url, path, header value...).
    Str(&'a str),
    /// Integer (nbsrv, ports).
    Int(i64),
    /// Address (src, dst).
    Ip(IpAddr),
    /// Boolean (always_true).
    Bool(bool),
}

/// A sample fetch with its argument.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "fetch", content = "arg", rename_all = "snake_case")]
pub enum Fetch {
    /// `url`: the request target exactly as received.
    Url,
    /// `path`: from the first `/` (after any scheme and authority) up to `?`.
    Path,
    /// `query`: after the first `?`.
    Query,
    /// `hdr(name)`: every comma-separated value of the header; every header when no name.
    Hdr(Option<String>),
    /// `hdr_cnt(name)`: how many values the header has.
    HdrCnt(Option<String>),
    /// `urlp(name)` / `url_param(name)`: every value of the query parameter.
    UrlParam(Option<String>),
    /// `method`.
    Method,
    /// `req.ver` / `req_ver`: `1.1`, `1.0`.
    ReqVer,
    /// `src`: client address.
    Src,
    /// `src_port`.
    SrcPort,
    /// `dst`: the local address the client connected to.
    Dst,
    /// `dst_port`.
    DstPort,
    /// `nbsrv(backend)`: usable servers in the backend (the current one without argument).
    Nbsrv(Option<NbsrvTarget>),
    /// `srv_is_up([backend/]server)`: the server is neither in maintenance nor
    /// DOWN (draining does not matter), itself or through what it tracks.
    SrvIsUp(SrvTarget),
    /// `be_conn([backend])`: streams the backend's servers serve now (the
    /// current backend without argument).
    BeConn(Option<NbsrvTarget>),
    /// `srv_conn([backend/]server)`: streams the server serves now.
    SrvConn(SrvTarget),
    /// `always_true`.
    AlwaysTrue,
    /// `always_false`.
    AlwaysFalse,
    /// `ssl_fc`: the client connection is TLS (at the edge, an https request;
    /// wtedge has no TLS binds yet).
    SslFc,
    /// `var(scope.name)`: a variable set by `http-request set-var`; nothing
    /// when unset.
    Var(String),
}

/// The backend `nbsrv` counts, resolved after parsing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NbsrvTarget {
    /// As written.
    pub name: String,
    /// Resolved id.
    pub id: ProxyId,
    /// Column of the fetch (for messages).
    #[serde(skip)]
    pub col: u32,
}

/// The server `srv_is_up` looks at, resolved after parsing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SrvTarget {
    /// The backend as written (`None`: the backend the ACL is in).
    pub backend: Option<String>,
    /// The server as written.
    pub server: String,
    /// Resolved id.
    pub id: ServerId,
    /// Column of the fetch (for messages).
    #[serde(skip)]
    pub col: u32,
}

impl Fetch {
    /// Calls `f` with each sample until it returns true; returns whether it did.
    /// A fetch that finds nothing (no such header, no query) calls `f` zero times.
    pub fn any<F: FnMut(Sample<'_>) -> bool>(&self, ctx: &EvalCtx<'_, '_>, mut f: F) -> bool {
        let req = ctx.req;
        match self {
            Fetch::Url => f(Sample::Str(req.target)),
            Fetch::Path => path_of(req.target).is_some_and(|p| f(Sample::Str(p))),
            Fetch::Query => query_of(req.target).is_some_and(|q| f(Sample::Str(q))),
            Fetch::Hdr(name) => hdr::any_value(req, name.as_deref(), &mut f),
            Fetch::HdrCnt(name) => f(Sample::Int(hdr::count(req, name.as_deref()))),
            Fetch::UrlParam(name) => urlp::any_value(req.target, name.as_deref(), &mut f),
            Fetch::Method => f(Sample::Str(req.method)),
            Fetch::ReqVer => req
                .version
                .strip_prefix("HTTP/")
                .is_some_and(|v| f(Sample::Str(v))),
            Fetch::Src => f(Sample::Ip(req.src.ip())),
            Fetch::SrcPort => f(Sample::Int(i64::from(req.src.port()))),
            Fetch::Dst => f(Sample::Ip(req.dst.ip())),
            Fetch::DstPort => f(Sample::Int(i64::from(req.dst.port()))),
            Fetch::Nbsrv(target) => {
                let backend = target.as_ref().map_or(ctx.proxy, |t| t.id);
                f(Sample::Int(nbsrv::count(ctx.cfg, ctx.health, backend)))
            }
            Fetch::SrvIsUp(t) => f(Sample::Bool(ctx.health.available(ctx.cfg, t.id))),
            Fetch::BeConn(target) => {
                let backend = target.as_ref().map_or(ctx.proxy, |t| t.id);
                let served = |s| ctx.tickets.map_or(0, |t| i64::from(t.served(s)));
                let n = ctx
                    .cfg
                    .proxy(backend)
                    .servers
                    .iter()
                    .map(|&s| served(s))
                    .sum();
                f(Sample::Int(n))
            }
            Fetch::SrvConn(t) => f(Sample::Int(
                ctx.tickets.map_or(0, |k| i64::from(k.served(t.id))),
            )),
            Fetch::AlwaysTrue => f(Sample::Bool(true)),
            Fetch::AlwaysFalse => f(Sample::Bool(false)),
            Fetch::SslFc => f(Sample::Bool(req.tls)),
            Fetch::Var(name) => ctx
                .vars
                .iter()
                .find(|(n, _)| n == name)
                .is_some_and(|(_, v)| f(Sample::Str(v))),
        }
    }
}

pub use nbsrv::count as nbsrv_count;
