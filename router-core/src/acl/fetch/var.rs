//! `var(scope.name)`: a variable set by `http-request set-var`; nothing when
//! unset. HAProxy gives its type no default matcher: `-m` is required.

use super::keyword::{Family, Keyword};
use super::{Fetch, Sample};
use crate::eval::EvalCtx;

/// The `var` keyword.
pub(super) const FAMILY: Family = Family {
    keywords: &[Keyword {
        name: "var",
        matcher: None,
        takes_arg: true,
        build: |arg, col| {
            Ok(Fetch::Var(crate::rules::logfmt::var_name(
                arg.unwrap_or(""),
                col,
            )?))
        },
    }],
    refused: &[],
};

/// `var`: the variable's value, if set.
pub(super) fn sample<F: FnMut(Sample<'_>) -> bool>(
    ctx: &EvalCtx<'_, '_>,
    name: &str,
    f: &mut F,
) -> bool {
    ctx.vars
        .iter()
        .find(|(n, _)| n == name)
        .is_some_and(|(_, v)| f(Sample::Str(v)))
}
