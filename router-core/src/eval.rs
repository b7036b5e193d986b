//! What a condition is evaluated against.

use crate::config::model::{Config, ProxyId};
use crate::health::HealthSnapshot;
use crate::request::RequestFacts;

/// The request, the config, the health snapshot and the section whose rules
/// are being evaluated (for `nbsrv` without argument).
#[derive(Clone, Copy)]
pub struct EvalCtx<'r, 'c> {
    /// The configuration.
    pub cfg: &'c Config,
    /// The request.
    pub req: &'r RequestFacts<'r>,
    /// Server states.
    pub health: &'r HealthSnapshot,
    /// The section whose rule is being evaluated.
    pub proxy: ProxyId,
    /// Variables the `http-request` rules set so far (`txn.x`, value).
    pub vars: &'r [(alloc::string::String, alloc::string::String)],
}
