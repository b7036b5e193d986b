//! ACLs: fetches, matchers, patterns and the conditions that combine them.

mod cond;
pub mod fetch;
pub mod matcher;
mod parse;
pub mod pattern;
mod predefined;

use alloc::string::String;
use alloc::vec::Vec;
use serde::Serialize;

pub use cond::{AclRef, CondTerm, Condition};
pub use fetch::Fetch;
pub use matcher::Matcher;
pub use parse::{AclScope, parse_acl_term, parse_condition};
pub use pattern::Pattern;

use crate::eval::EvalCtx;

/// A named ACL (all its lines), an anonymous `{ ... }` ACL or a predefined one.
#[derive(Debug, Clone, Serialize)]
pub struct AclDef {
    /// The name (`srv1`), the text of an anonymous ACL, or the predefined name.
    pub name: String,
    /// Where it comes from.
    pub origin: AclOrigin,
    /// Line of its first declaration (or first use, for anonymous/predefined).
    pub line: u32,
    /// One term per `acl` line; the ACL is true when any term is.
    pub terms: Vec<AclTerm>,
}

/// Where an ACL was declared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AclOrigin {
    /// `acl NAME ...` lines in this section.
    Declared,
    /// `{ ... }` inside a condition.
    Anonymous,
    /// HAProxy's predefined ACLs (`TRUE`, `METH_GET`, `HTTP_1.1`...).
    Predefined,
    /// Declared in the named frontend and used here (HAProxy 1.4 visibility).
    Borrowed(String),
}

/// One `acl` line: a fetch, a matcher and patterns (OR'ed).
#[derive(Debug, Clone, Serialize)]
pub struct AclTerm {
    /// Line it was written on.
    pub line: u32,
    /// What to look at.
    #[serde(flatten)]
    pub fetch: Fetch,
    /// How to compare.
    pub matcher: Matcher,
    /// `-i`: compare ASCII case-insensitively.
    pub icase: bool,
    /// Patterns; any one matching makes the term true.
    pub patterns: Vec<Pattern>,
}

impl AclTerm {
    /// Evaluates the term: any sample matching any pattern.
    pub fn eval(&self, ctx: &EvalCtx<'_, '_>) -> bool {
        let (matcher, patterns, icase) = (self.matcher, &self.patterns[..], self.icase);
        self.fetch
            .any(ctx, |sample| matcher.matches(sample, patterns, icase))
    }
}

impl AclDef {
    /// True when any of its lines matches.
    pub fn eval(&self, ctx: &EvalCtx<'_, '_>) -> bool {
        self.terms.iter().any(|t| t.eval(ctx))
    }
}
