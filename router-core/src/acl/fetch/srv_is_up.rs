//! `srv_is_up([backend/]server)`: the server is neither in maintenance nor
//! DOWN (draining does not matter), itself or through what it tracks.

use alloc::format;
use alloc::string::String;
use serde::Serialize;

use super::keyword::{Family, Keyword, name_arg};
use super::{Fetch, Sample};
use crate::acl::matcher::Matcher;
use crate::config::model::ServerId;
use crate::diag::DiagnosticKind as K;
use crate::eval::EvalCtx;
use crate::problem::Problem;

/// The `srv_is_up` keyword.
pub(super) const FAMILY: Family = Family {
    keywords: &[Keyword::with_arg("srv_is_up", Matcher::Bool, |arg, col| {
        Ok(Fetch::SrvIsUp(server_arg("srv_is_up", arg, col)?))
    })],
    refused: &[],
};

/// The server `srv_is_up` (or `srv_conn`) looks at, resolved after parsing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SrvTarget {
    /// The backend as written (`None`: the backend the ACL is in).
    pub backend: Option<String>,
    /// The server as written.
    pub server: String,
    /// Resolved id.
    pub id: ServerId,
    /// Column of the fetch (for messages).
    #[serde(skip)]
    pub col: u32,
}

/// The required `[backend/]server` argument of `fetch` (unresolved).
pub(super) fn server_arg(fetch: &str, arg: Option<&str>, col: u32) -> Result<SrvTarget, Problem> {
    let Some(arg) = name_arg(arg, col)? else {
        return Err(
            Problem::new(K::MissingArgument, col, format!("{fetch} needs a server"))
                .hint(format!("write {fetch}(BACKEND/SERVER)")),
        );
    };
    let (backend, server) = match arg.split_once('/') {
        Some((b, s)) => (Some(String::from(b)), String::from(s)),
        None => (None, arg),
    };
    Ok(SrvTarget {
        backend,
        server,
        id: ServerId(u32::MAX),
        col,
    })
}

/// `srv_is_up`: what the health snapshot says.
pub(super) fn sample<F: FnMut(Sample<'_>) -> bool>(
    ctx: &EvalCtx<'_, '_>,
    t: &SrvTarget,
    f: &mut F,
) -> bool {
    f(Sample::Bool(ctx.health.available(ctx.cfg, t.id)))
}
