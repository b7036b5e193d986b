//! `req.ver` / `req_ver`: the request's HTTP version without `HTTP/` (`1.1`).

use super::keyword::{Build, Family, Keyword};
use super::{Fetch, Sample};
use crate::acl::matcher::Matcher;
use crate::request::RequestFacts;

const REQ_VER: Build = |_, _| Ok(Fetch::ReqVer);

/// The `req.ver` keywords.
pub(super) const FAMILY: Family = Family {
    keywords: &[
        Keyword::plain("req.ver", Matcher::Str, REQ_VER),
        Keyword::plain("req_ver", Matcher::Str, REQ_VER),
    ],
    refused: &[],
};

/// `req.ver`: nothing when the version does not start with `HTTP/`.
pub(super) fn sample<F: FnMut(Sample<'_>) -> bool>(req: &RequestFacts<'_>, f: &mut F) -> bool {
    req.version
        .strip_prefix("HTTP/")
        .is_some_and(|v| f(Sample::Str(v)))
}
