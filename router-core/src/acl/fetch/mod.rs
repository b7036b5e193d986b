//! Sample fetches: what an ACL looks at in a request. One file per fetch
//! family owns its keyword rows (name, default matcher, argument parsing), its
//! evaluation and its tests; [`FAMILIES`] lists the files.

mod always;
mod be_conn;
mod dst;
mod hdr;
pub mod keyword;
mod method;
mod nbsrv;
mod req_ver;
mod src;
mod srv_conn;
mod srv_is_up;
mod ssl_fc;
mod target;
mod urlp;
mod var;

use alloc::string::String;
use core::net::IpAddr;
use serde::Serialize;

use crate::eval::EvalCtx;

pub use hdr::split_values;

pub use nbsrv::NbsrvTarget;
pub use srv_is_up::SrvTarget;
pub use target::{path_of, scheme_end, uri_of};

/// Every fetch file's keyword rows, in the order "did you mean" suggestions
/// prefer on a tie.
const FAMILIES: &[keyword::Family] = &[
    target::FAMILY,
    hdr::FAMILY,
    urlp::FAMILY,
    method::FAMILY,
    req_ver::FAMILY,
    src::FAMILY,
    dst::FAMILY,
    nbsrv::FAMILY,
    srv_is_up::FAMILY,
    be_conn::FAMILY,
    srv_conn::FAMILY,
    always::FAMILY,
    ssl_fc::FAMILY,
    var::FAMILY,
];

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

impl Fetch {
    /// Calls `f` with each sample until it returns true; returns whether it did.
    /// A fetch that finds nothing (no such header, no query) calls `f` zero times.
    pub fn any<F: FnMut(Sample<'_>) -> bool>(&self, ctx: &EvalCtx<'_, '_>, mut f: F) -> bool {
        let req = ctx.req;
        let f = &mut f;
        match self {
            Fetch::Url => target::url(req.target, f),
            Fetch::Path => target::path(req.target, f),
            Fetch::Query => target::query(req.target, f),
            Fetch::Hdr(name) => hdr::any_value(req, name.as_deref(), f),
            Fetch::HdrCnt(name) => f(Sample::Int(hdr::count(req, name.as_deref()))),
            Fetch::UrlParam(name) => urlp::any_value(req.target, name.as_deref(), f),
            Fetch::Method => method::sample(req, f),
            Fetch::ReqVer => req_ver::sample(req, f),
            Fetch::Src => src::addr(req, f),
            Fetch::SrcPort => src::port(req, f),
            Fetch::Dst => dst::addr(req, f),
            Fetch::DstPort => dst::port(req, f),
            Fetch::Nbsrv(t) => nbsrv::sample(ctx, nbsrv::backend(ctx, t.as_ref()), f),
            Fetch::SrvIsUp(t) => srv_is_up::sample(ctx, t, f),
            Fetch::BeConn(t) => be_conn::sample(ctx, nbsrv::backend(ctx, t.as_ref()), f),
            Fetch::SrvConn(t) => srv_conn::sample(ctx, t, f),
            Fetch::AlwaysTrue => always::sample(true, f),
            Fetch::AlwaysFalse => always::sample(false, f),
            Fetch::SslFc => ssl_fc::sample(req, f),
            Fetch::Var(name) => var::sample(ctx, name, f),
        }
    }
}

#[cfg(test)]
pub use nbsrv::count as nbsrv_count;
