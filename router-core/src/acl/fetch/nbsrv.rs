//! `nbsrv(backend)`: how many servers of a backend are usable, counted as
//! HAProxy's `be_usable_srv()`: usable active servers; if none, the backup
//! servers (only one when `option allbackups` is off).

use alloc::string::String;
use serde::Serialize;

use super::keyword::{Family, Keyword, name_arg};
use super::{Fetch, Sample};
use crate::acl::matcher::Matcher;
use crate::config::model::{Config, ProxyId};
use crate::eval::EvalCtx;
use crate::health::HealthSnapshot;
use crate::problem::Problem;

/// The `nbsrv` keyword.
pub(super) const FAMILY: Family = Family {
    keywords: &[Keyword::with_arg("nbsrv", Matcher::Int, |arg, col| {
        Ok(Fetch::Nbsrv(backend_arg(arg, col)?))
    })],
    refused: &[],
};

/// The backend `nbsrv` (or `be_conn`) looks at, resolved after parsing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NbsrvTarget {
    /// As written.
    pub name: String,
    /// Resolved id.
    pub id: ProxyId,
    /// Column of the fetch (for messages).
    #[serde(skip)]
    pub col: u32,
}

/// The optional backend argument of `nbsrv` and `be_conn` (unresolved).
pub(super) fn backend_arg(arg: Option<&str>, col: u32) -> Result<Option<NbsrvTarget>, Problem> {
    Ok(name_arg(arg, col)?.map(|name| NbsrvTarget {
        name,
        id: ProxyId(u16::MAX),
        col,
    }))
}

/// The backend `nbsrv` or `be_conn` looks at: the named one, or the current
/// one without argument.
pub(super) fn backend(ctx: &EvalCtx<'_, '_>, target: Option<&NbsrvTarget>) -> ProxyId {
    target.map_or(ctx.proxy, |t| t.id)
}

/// `nbsrv`.
pub(super) fn sample<F: FnMut(Sample<'_>) -> bool>(
    ctx: &EvalCtx<'_, '_>,
    backend: ProxyId,
    f: &mut F,
) -> bool {
    f(Sample::Int(count(ctx.cfg, ctx.health, backend)))
}

/// Usable servers in `backend`.
pub fn count(cfg: &Config, health: &HealthSnapshot, backend: ProxyId) -> i64 {
    let proxy = cfg.proxy(backend);
    let mut active = 0i64;
    let mut backups = 0i64;
    for &s in &proxy.servers {
        if health.usable(cfg, s) {
            if cfg.server(s).params.backup {
                backups += 1;
            } else {
                active += 1;
            }
        }
    }
    if active > 0 {
        active
    } else if backups > 0 && !proxy.settings.options.allbackups {
        1
    } else {
        backups
    }
}
