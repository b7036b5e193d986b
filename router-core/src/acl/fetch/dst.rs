//! `dst` and `dst_port`: the local address and port the client connected to.

use super::keyword::{Family, Keyword};
use super::{Fetch, Sample};
use crate::acl::matcher::Matcher;
use crate::request::RequestFacts;

/// The `dst` keywords.
pub(super) const FAMILY: Family = Family {
    keywords: &[
        Keyword::plain("dst", Matcher::Ip, |_, _| Ok(Fetch::Dst)),
        Keyword::plain("dst_port", Matcher::Int, |_, _| Ok(Fetch::DstPort)),
    ],
    refused: &[],
};

/// `dst`.
pub(super) fn addr<F: FnMut(Sample<'_>) -> bool>(req: &RequestFacts<'_>, f: &mut F) -> bool {
    f(Sample::Ip(req.dst.ip()))
}

/// `dst_port`.
pub(super) fn port<F: FnMut(Sample<'_>) -> bool>(req: &RequestFacts<'_>, f: &mut F) -> bool {
    f(Sample::Int(i64::from(req.dst.port())))
}
