//! The actions of `http-response ACTION ... [if|unless COND]` Wt Edge runs,
//! with HAProxy 2.6's argument checks (`parse_http_set_status()` for
//! `set-status`; the header actions as for `http-request`, their log-format
//! strings parsed for the response phase).

use alloc::format;
use alloc::string::ToString;

use super::logfmt::{LogFormat, Phase};
use super::parse::{deny, expects, no_condition, replace};
use super::{Action, Replace};
use crate::acl::fetch::Fetch;
use crate::acl::{AclDef, Condition};
use crate::config::lexer::Word;
use crate::diag::DiagnosticKind as K;
use crate::problem::Problem;

/// Actions Wt Edge implements (for messages).
pub const SUPPORTED: &str = "set-header, add-header, del-header, replace-header, replace-value, \
     set-status, allow, deny";

/// Parses the action at `words[1]` (`words[0]` is `http-response`); returns it
/// and the index where a condition may start.
pub fn action(words: &[Word]) -> Result<(Action, usize), Problem> {
    let (a, args, end) = super::parse::split_action(words, "http-response", SUPPORTED)?;
    let name = a.text.as_str();
    let action = match name {
        "set-header" | "add-header" => {
            let [n, v] = args else {
                return Err(expects(a, args, "exactly 2 arguments"));
            };
            if n.text.is_empty() || v.text.is_empty() {
                return Err(expects(a, args, "exactly 2 arguments"));
            }
            let value = LogFormat::parse_in(&v.text, v.col, Phase::Response)?;
            let name = n.text.clone();
            if name_is(a, "set-header") {
                Action::SetHeader { name, value }
            } else {
                Action::AddHeader { name, value }
            }
        }
        "del-header" | "allow" => return super::parse::action(words),
        "replace-header" | "replace-value" => {
            let [n, r, w] = args else {
                return Err(expects(a, args, "exactly 3 arguments"));
            };
            let rep = Replace {
                with: LogFormat::parse_in(&w.text, w.col, Phase::Response)?,
                ..replace(Some(n), r, w)?
            };
            if name_is(a, "replace-header") {
                Action::ReplaceHeader(rep)
            } else {
                Action::ReplaceValue(rep)
            }
        }
        "deny" => deny(a, args, 502)?,
        "set-status" => set_status(a, args)?,
        other => {
            return Err(Problem::new(
                K::Unsupported,
                a.col,
                format!("'http-response {other}' is not supported by Wt Edge yet"),
            )
            .hint(format!("supported actions: {SUPPORTED}")));
        }
    };
    Ok((action, end))
}

fn name_is(a: &Word, n: &str) -> bool {
    a.text == n
}

/// `set-status N [reason R]`: N from 100 to 999; the reason is a plain string.
fn set_status(a: &Word, args: &[Word]) -> Result<Action, Problem> {
    let Some(n) = args.first() else {
        return Err(expects(
            a,
            args,
            "1 argument: <status>; or 3 arguments: <status> reason <fmt>",
        ));
    };
    let status = match n.text.parse::<u16>() {
        Ok(s) if (100..=999).contains(&s) => s,
        _ => {
            return Err(Problem::new(
                K::InvalidValue,
                n.col,
                "'http-response set-status' expects an integer status code between 100 and 999",
            ));
        }
    };
    let reason = match args.get(1..) {
        Some([r, text]) if r.text == "reason" => Some(text.text.to_string()),
        Some([]) | None => None,
        Some([extra, ..]) => return Err(no_condition(a, extra)),
    };
    Ok(Action::SetStatus { status, reason })
}

/// Refuses the ACLs a response condition cannot read as HAProxy 2.6 does:
/// the request line's fetches never match there (HAProxy warns "acl will never
/// match"), `hdr` reads the response's headers, which Wt Edge's ACLs do not
/// yet. Refused rather than evaluated on the request, which would differ.
pub fn check_condition(c: &Condition, acls: &[AclDef], col: u32) -> Result<(), Problem> {
    for term in c.groups.iter().flatten() {
        let Some(acl) = acls.get(usize::from(term.acl.0)) else {
            continue;
        };
        for t in &acl.terms {
            let what = match t.fetch {
                Fetch::Url | Fetch::Path | Fetch::Query | Fetch::UrlParam(_) | Fetch::ReqVer => {
                    "reads the request line, which HAProxy 2.6 does not have in response rules (the ACL never matches there)"
                }
                Fetch::Hdr(_) | Fetch::HdrCnt(_) => {
                    "reads the response's headers in a response rule, which Wt Edge's ACLs do not support yet"
                }
                _ => continue,
            };
            return Err(Problem::new(
                K::Unsupported,
                col,
                format!("'http-response' condition: ACL '{}' {what}", acl.name),
            )
            .hint("select on method, src, var(txn.X) set by an http-request rule, or a %[status] / %[res.hdr(NAME)] value"));
        }
    }
    Ok(())
}
