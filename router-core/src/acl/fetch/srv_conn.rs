//! `srv_conn([backend/]server)`: the streams the server serves now.

use super::keyword::{Family, Keyword};
use super::srv_is_up::{SrvTarget, server_arg};
use super::{Fetch, Sample};
use crate::acl::matcher::Matcher;
use crate::eval::EvalCtx;

/// The `srv_conn` keyword.
pub(super) const FAMILY: Family = Family {
    keywords: &[Keyword::with_arg("srv_conn", Matcher::Int, |arg, col| {
        Ok(Fetch::SrvConn(server_arg("srv_conn", arg, col)?))
    })],
    refused: &[],
};

/// `srv_conn`: what [`crate::Tickets`] says (0 without tickets).
pub(super) fn sample<F: FnMut(Sample<'_>) -> bool>(
    ctx: &EvalCtx<'_, '_>,
    t: &SrvTarget,
    f: &mut F,
) -> bool {
    f(Sample::Int(
        ctx.tickets.map_or(0, |k| i64::from(k.served(t.id))),
    ))
}
