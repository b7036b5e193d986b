//! `be_conn([backend])`: the streams the backend's servers serve now (the
//! current backend without argument).

use super::keyword::{Family, Keyword};
use super::nbsrv::backend_arg;
use super::{Fetch, Sample};
use crate::acl::matcher::Matcher;
use crate::config::model::ProxyId;
use crate::eval::EvalCtx;

/// The `be_conn` keyword.
pub(super) const FAMILY: Family = Family {
    keywords: &[Keyword::with_arg("be_conn", Matcher::Int, |arg, col| {
        Ok(Fetch::BeConn(backend_arg(arg, col)?))
    })],
    refused: &[],
};

/// `be_conn`: the sum of what [`crate::Tickets`] says each server serves.
pub(super) fn sample<F: FnMut(Sample<'_>) -> bool>(
    ctx: &EvalCtx<'_, '_>,
    backend: ProxyId,
    f: &mut F,
) -> bool {
    let served = |s| ctx.tickets.map_or(0, |t| i64::from(t.served(s)));
    let n = ctx
        .cfg
        .proxy(backend)
        .servers
        .iter()
        .map(|&s| served(s))
        .sum();
    f(Sample::Int(n))
}
