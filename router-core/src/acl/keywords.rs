//! The ACL keywords HAProxy 2.6 defines over the fetches Wt Edge implements:
//! each names a fetch and the matcher it uses unless `-m` says otherwise.

use super::matcher::Matcher;

/// The fetch family a keyword reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchKind {
    /// `url`
    Url,
    /// `path`
    Path,
    /// `query`
    Query,
    /// `hdr(name)`
    Hdr,
    /// `hdr_cnt(name)`
    HdrCnt,
    /// `urlp(name)` / `url_param(name)`
    UrlParam,
    /// `method`
    Method,
    /// `req.ver`
    ReqVer,
    /// `src`
    Src,
    /// `src_port`
    SrcPort,
    /// `dst`
    Dst,
    /// `dst_port`
    DstPort,
    /// `nbsrv(backend)`
    Nbsrv,
    /// `srv_is_up([backend/]server)`
    SrvIsUp,
    /// `be_conn([backend])`
    BeConn,
    /// `srv_conn([backend/]server)`
    SrvConn,
    /// `always_true`
    AlwaysTrue,
    /// `always_false`
    AlwaysFalse,
    /// `ssl_fc`
    SslFc,
    /// `var(scope.name)`
    Var,
}

/// Keyword table: name, fetch, default matcher.
pub const KEYWORDS: &[(&str, FetchKind, Matcher)] = &[
    ("url", FetchKind::Url, Matcher::Str),
    ("url_beg", FetchKind::Url, Matcher::Beg),
    ("url_end", FetchKind::Url, Matcher::End),
    ("url_sub", FetchKind::Url, Matcher::Sub),
    ("url_dir", FetchKind::Url, Matcher::Dir),
    ("url_dom", FetchKind::Url, Matcher::Dom),
    ("url_len", FetchKind::Url, Matcher::Len),
    ("path", FetchKind::Path, Matcher::Str),
    ("path_beg", FetchKind::Path, Matcher::Beg),
    ("path_end", FetchKind::Path, Matcher::End),
    ("path_sub", FetchKind::Path, Matcher::Sub),
    ("path_dir", FetchKind::Path, Matcher::Dir),
    ("path_dom", FetchKind::Path, Matcher::Dom),
    ("path_len", FetchKind::Path, Matcher::Len),
    ("query", FetchKind::Query, Matcher::Str),
    ("hdr", FetchKind::Hdr, Matcher::Str),
    ("hdr_beg", FetchKind::Hdr, Matcher::Beg),
    ("hdr_end", FetchKind::Hdr, Matcher::End),
    ("hdr_sub", FetchKind::Hdr, Matcher::Sub),
    ("hdr_dir", FetchKind::Hdr, Matcher::Dir),
    ("hdr_dom", FetchKind::Hdr, Matcher::Dom),
    ("hdr_len", FetchKind::Hdr, Matcher::Len),
    ("hdr_val", FetchKind::Hdr, Matcher::Val),
    ("hdr_ip", FetchKind::Hdr, Matcher::Ip),
    ("hdr_cnt", FetchKind::HdrCnt, Matcher::Int),
    ("req.hdr", FetchKind::Hdr, Matcher::Str),
    ("req.hdr_cnt", FetchKind::HdrCnt, Matcher::Int),
    ("urlp", FetchKind::UrlParam, Matcher::Str),
    ("url_param", FetchKind::UrlParam, Matcher::Str),
    ("urlp_val", FetchKind::UrlParam, Matcher::Val),
    ("urlp_beg", FetchKind::UrlParam, Matcher::Beg),
    ("urlp_end", FetchKind::UrlParam, Matcher::End),
    ("urlp_sub", FetchKind::UrlParam, Matcher::Sub),
    ("urlp_dir", FetchKind::UrlParam, Matcher::Dir),
    ("urlp_dom", FetchKind::UrlParam, Matcher::Dom),
    ("urlp_len", FetchKind::UrlParam, Matcher::Len),
    ("method", FetchKind::Method, Matcher::Meth),
    ("req.ver", FetchKind::ReqVer, Matcher::Str),
    ("req_ver", FetchKind::ReqVer, Matcher::Str),
    ("src", FetchKind::Src, Matcher::Ip),
    ("src_port", FetchKind::SrcPort, Matcher::Int),
    ("dst", FetchKind::Dst, Matcher::Ip),
    ("dst_port", FetchKind::DstPort, Matcher::Int),
    ("nbsrv", FetchKind::Nbsrv, Matcher::Int),
    ("srv_is_up", FetchKind::SrvIsUp, Matcher::Bool),
    ("be_conn", FetchKind::BeConn, Matcher::Int),
    ("srv_conn", FetchKind::SrvConn, Matcher::Int),
    ("always_true", FetchKind::AlwaysTrue, Matcher::Bool),
    ("always_false", FetchKind::AlwaysFalse, Matcher::Bool),
    ("ssl_fc", FetchKind::SslFc, Matcher::Bool),
    // No default matcher in HAProxy: `-m` is required (see `needs_matcher`).
    ("var", FetchKind::Var, Matcher::Str),
];

/// Fetches whose type has no default matcher: HAProxy wants `-m`.
pub fn needs_matcher(kind: FetchKind) -> bool {
    matches!(kind, FetchKind::Var)
}

/// HAProxy keywords that Wt Edge refuses, with the reason shown to the user.
pub const REFUSED: &[(&str, &str)] = &[
    (
        "url_reg",
        "regular expressions are not supported; use url_beg/url_sub/url_end",
    ),
    (
        "path_reg",
        "regular expressions are not supported; use path_beg/path_sub/path_end",
    ),
    (
        "hdr_reg",
        "regular expressions are not supported; use hdr_beg/hdr_sub/hdr_end",
    ),
    (
        "urlp_reg",
        "regular expressions are not supported; use urlp(NAME) -m beg|sub|end",
    ),
];

/// Whether the keyword's fetch takes an argument in parentheses.
pub fn takes_arg(kind: FetchKind) -> bool {
    matches!(
        kind,
        FetchKind::Hdr
            | FetchKind::HdrCnt
            | FetchKind::UrlParam
            | FetchKind::Nbsrv
            | FetchKind::SrvIsUp
            | FetchKind::BeConn
            | FetchKind::SrvConn
            | FetchKind::Var
    )
}

/// Looks up a keyword.
pub fn lookup(name: &str) -> Option<(FetchKind, Matcher)> {
    KEYWORDS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|&(_, k, m)| (k, m))
}
