//! `ssl_fc`: the client connection is TLS (at the edge, an https request;
//! wtedge has no TLS binds yet).

use super::keyword::{Family, Keyword};
use super::{Fetch, Sample};
use crate::acl::matcher::Matcher;
use crate::request::RequestFacts;

/// The `ssl_fc` keyword.
pub(super) const FAMILY: Family = Family {
    keywords: &[Keyword::plain("ssl_fc", Matcher::Bool, |_, _| {
        Ok(Fetch::SslFc)
    })],
    refused: &[],
};

/// `ssl_fc`: what the host says of the connection.
pub(super) fn sample<F: FnMut(Sample<'_>) -> bool>(req: &RequestFacts<'_>, f: &mut F) -> bool {
    f(Sample::Bool(req.tls))
}
