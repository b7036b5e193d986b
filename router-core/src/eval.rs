//! What a condition is evaluated against.

use crate::balance::Tickets;
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
    /// The host's counts of streams per server (`be_conn`, `srv_conn`); `None`
    /// where nothing is being served (the stats page's conditions).
    pub tickets: Option<&'r dyn Tickets>,
    /// Variables the `http-request` rules set so far (`txn.x`, value).
    pub vars: &'r [(alloc::string::String, alloc::string::String)],
}
