//! `http-request` rules: the model, and their evaluation in HAProxy 2.6's order
//! (a proxy's rules in file order; the first `allow`, `deny`, `redirect` or
//! `return` that applies ends that proxy's list). Header edits are values
//! computed here and applied by [`header::apply`], in router-core for the ACLs
//! that follow and in the hosts for what the server receives.

pub mod header;
pub mod logfmt;
pub mod parse;
pub mod regex;
#[cfg(feature = "response")]
pub mod response;
#[cfg(feature = "response")]
pub mod response_parse;
pub mod state;
pub mod target;

use alloc::string::String;
use alloc::vec::Vec;
use serde::Serialize;

use crate::acl::Condition;
use crate::config::model::RedirectRule;
pub use header::{EditOp, HeaderEdit};
pub use logfmt::LogFormat;
pub use state::RuleState;

/// One `http-request` line.
#[derive(Debug, Clone, Serialize)]
pub struct HttpRule {
    /// Line in the file.
    pub line: u32,
    /// What it does.
    pub action: Action,
    /// `if` / `unless` condition.
    pub cond: Option<Condition>,
}

/// An `http-request` action.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum Action {
    /// `set-header NAME FMT`: every line of NAME removed, one appended.
    SetHeader {
        /// Header name.
        name: String,
        /// Value.
        value: LogFormat,
    },
    /// `add-header NAME FMT`: one line appended.
    AddHeader {
        /// Header name.
        name: String,
        /// Value.
        value: LogFormat,
    },
    /// `del-header NAME`: every line of NAME removed.
    DelHeader {
        /// Header name.
        name: String,
    },
    /// `allow`: ends this proxy's rules, the request goes on.
    Allow,
    /// `deny [deny_status N]`: HAProxy's error page for N (403 by default).
    Deny {
        /// Status.
        status: u16,
    },
    /// `redirect ...`: as the `redirect` keyword, with a log-format target.
    Redirect {
        /// The rule (its `to` is unused: see `to`).
        rule: RedirectRule,
        /// The target.
        to: LogFormat,
    },
    /// `return [status N] [content-type T] [string S] [hdr N V]*`.
    Return(ReturnSpec),
    /// `use-service prometheus-exporter`: HAProxy's Prometheus exporter answers
    /// (`crate::promex`).
    UsePrometheus,
    /// `replace-header NAME REGEX FMT`: each line of NAME whose whole value holds a
    /// match becomes FMT (references filled in).
    ReplaceHeader(Replace),
    /// `replace-value NAME REGEX FMT`: the same for each comma-separated value.
    ReplaceValue(Replace),
    /// `set-method FMT`, `set-path FMT`, `set-query FMT`, `set-uri FMT`.
    SetLine {
        /// Which part of the request line.
        part: LinePart,
        /// The new value.
        value: LogFormat,
    },
    /// `replace-path REGEX FMT` (`name` unused) / `replace-uri REGEX FMT`.
    ReplaceLine {
        /// [`LinePart::Path`] or [`LinePart::Uri`].
        part: LinePart,
        /// The regex and its replacement.
        with: Replace,
    },
    /// `set-var(SCOPE.NAME) EXPR`: unchanged when the expression has no value.
    SetVar {
        /// `txn.x`, `req.x`, `sess.x`.
        var: String,
        /// The sample expression.
        expr: logfmt::Part,
    },
    /// `unset-var(SCOPE.NAME)`.
    UnsetVar {
        /// The variable.
        var: String,
    },
    /// `http-response set-status N [reason R]`.
    SetStatus {
        /// The new status.
        status: u16,
        /// The reason phrase; HAProxy's for the status when absent.
        reason: Option<String>,
    },
}

/// A regex and its replacement (`\N` references, a log-format string).
#[derive(Debug, Clone, Serialize)]
pub struct Replace {
    /// The header name (`replace-header` / `replace-value` only).
    pub name: String,
    /// The pattern.
    pub regex: regex::Regex,
    /// The replacement.
    pub with: LogFormat,
}

/// The part of the request line a `set-*` / `replace-*` rule rewrites.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LinePart {
    /// The method.
    Method,
    /// The path (the query is kept).
    Path,
    /// The query string (without its `?`).
    Query,
    /// The whole request target.
    Uri,
}

/// What `http-request return` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReturnSpec {
    /// Status (200 by default).
    pub status: u16,
    /// `content-type`.
    pub content_type: Option<String>,
    /// `string` / `lf-string`: the body.
    pub body: LogFormat,
    /// `hdr NAME FMT`, in order.
    pub headers: Vec<(String, LogFormat)>,
}

/// HAProxy's answer to an `http-request deny` or `return` rule, computed for
/// one request (header values rendered).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Answer {
    /// Status.
    pub status: u16,
    /// `deny` (HAProxy's error page for the status, logged `PR--`) or `return`
    /// (the fields below, logged `LR--`).
    pub kind: AnswerKind,
    /// `return`'s content type.
    pub content_type: Option<String>,
    /// `return`'s body.
    pub body: String,
    /// `return`'s header lines, in order (written before content-length).
    pub headers: Vec<(String, String)>,
}

/// Which rule answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AnswerKind {
    /// `http-request deny`.
    Deny,
    /// `http-request return`.
    Return,
    /// `http-request use-service prometheus-exporter`: the host answers
    /// `crate::promex::families` for the request's query (logged `LR--` with the
    /// server `<PROMEX>`).
    Prometheus,
}

impl Answer {
    /// HAProxy's termination state for the log: `PR` for a deny, `LR` for a return.
    pub fn termination(&self) -> crate::Termination {
        use crate::termination::{Cause, Phase, Termination};
        match self.kind {
            AnswerKind::Deny => Termination::new(Cause::Proxy, Phase::Request),
            AnswerKind::Return | AnswerKind::Prometheus => {
                Termination::new(Cause::Local, Phase::Request)
            }
        }
    }

    /// Whether the answer carries a `content-length` (HAProxy writes none on 1xx
    /// and 204, a `content-length: 0` on an empty answer otherwise).
    pub fn has_length(&self) -> bool {
        !(self.status < 200 || self.status == 204)
    }
}
