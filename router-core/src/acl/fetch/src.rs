//! `src` and `src_port`: the client's address and port.

use super::keyword::{Family, Keyword};
use super::{Fetch, Sample};
use crate::acl::matcher::Matcher;
use crate::request::RequestFacts;

/// The `src` keywords.
pub(super) const FAMILY: Family = Family {
    keywords: &[
        Keyword::plain("src", Matcher::Ip, |_, _| Ok(Fetch::Src)),
        Keyword::plain("src_port", Matcher::Int, |_, _| Ok(Fetch::SrcPort)),
    ],
    refused: &[],
};

/// `src`.
pub(super) fn addr<F: FnMut(Sample<'_>) -> bool>(req: &RequestFacts<'_>, f: &mut F) -> bool {
    f(Sample::Ip(req.src.ip()))
}

/// `src_port`.
pub(super) fn port<F: FnMut(Sample<'_>) -> bool>(req: &RequestFacts<'_>, f: &mut F) -> bool {
    f(Sample::Int(i64::from(req.src.port())))
}
