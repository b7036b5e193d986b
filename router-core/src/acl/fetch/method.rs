//! `method`: the request method, matched by `-m meth` by default.

use super::keyword::{Family, Keyword};
use super::{Fetch, Sample};
use crate::acl::matcher::Matcher;
use crate::request::RequestFacts;

/// The `method` keyword.
pub(super) const FAMILY: Family = Family {
    keywords: &[Keyword::plain("method", Matcher::Meth, |_, _| {
        Ok(Fetch::Method)
    })],
    refused: &[],
};

/// `method`: as received.
pub(super) fn sample<F: FnMut(Sample<'_>) -> bool>(req: &RequestFacts<'_>, f: &mut F) -> bool {
    f(Sample::Str(req.method))
}
