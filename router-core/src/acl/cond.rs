//! `if`/`unless` conditions: OR of AND groups of (possibly negated) ACLs,
//! evaluated left to right with HAProxy's short-circuits.

use alloc::vec::Vec;
use serde::Serialize;

use super::AclDef;
use crate::eval::EvalCtx;
use crate::trace::{Trace, TraceStep};

/// Index of an ACL in its section's [`crate::config::model::Proxy::acls`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct AclRef(pub u16);

/// One ACL in a condition, maybe negated with `!`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CondTerm {
    /// `!` in front.
    pub negate: bool,
    /// The ACL.
    pub acl: AclRef,
}

/// A parsed `if ...` / `unless ...`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Condition {
    /// `unless`: the result is inverted.
    pub unless: bool,
    /// Groups separated by `or`/`||`; terms in a group are AND'ed.
    pub groups: Vec<Vec<CondTerm>>,
}

impl Condition {
    /// Evaluates the condition against the section's ACLs.
    pub fn eval(
        &self,
        ctx: &EvalCtx<'_, '_>,
        acls: &[AclDef],
        trace: &mut Option<&mut Trace>,
    ) -> bool {
        let any = self.groups.iter().any(|group| {
            group.iter().all(|term| {
                let Some(acl) = acls.get(usize::from(term.acl.0)) else {
                    return false;
                };
                let matched = acl.eval(ctx);
                if let Some(t) = trace.as_deref_mut() {
                    t.push(TraceStep::Acl {
                        proxy: ctx.proxy,
                        acl: term.acl,
                        matched,
                    });
                }
                matched != term.negate
            })
        });
        any != self.unless
    }
}
