//! `always_true` and `always_false`.

use super::keyword::{Family, Keyword};
use super::{Fetch, Sample};
use crate::acl::matcher::Matcher;

/// The `always_*` keywords.
pub(super) const FAMILY: Family = Family {
    keywords: &[
        Keyword::plain("always_true", Matcher::Bool, |_, _| Ok(Fetch::AlwaysTrue)),
        Keyword::plain("always_false", Matcher::Bool, |_, _| Ok(Fetch::AlwaysFalse)),
    ],
    refused: &[],
};

/// The constant `value`.
pub(super) fn sample<F: FnMut(Sample<'_>) -> bool>(value: bool, f: &mut F) -> bool {
    f(Sample::Bool(value))
}
