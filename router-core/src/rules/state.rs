//! What the `http-request` rules did so far to one request: header edits, a new
//! method or target, variables. Rules and ACLs after a rule see the request
//! through [`RuleState::facts`]; the hosts receive the edits and the new request
//! line in the decision.

use alloc::string::String;
use alloc::vec::Vec;

use super::logfmt::Part;
use super::{Action, EditOp, HeaderEdit, LinePart, Replace, target};
use crate::acl::fetch::split_values;
use crate::request::RequestFacts;

/// Variables by full name (`txn.x`), their values as text (an integer variable
/// holds its decimal form: log-format values are all the rules read them as).
pub type Vars = Vec<(String, String)>;

/// The effect of the rules applied so far.
#[derive(Debug, Clone, Default)]
pub struct RuleState {
    /// Header edits, in order.
    pub edits: Vec<HeaderEdit>,
    /// `set-method`.
    pub method: Option<String>,
    /// `set-path`, `set-query`, `set-uri`, `replace-path`, `replace-uri`.
    pub target: Option<String>,
    /// `set-var`.
    pub vars: Vars,
}

impl RuleState {
    /// `req`'s header lines with the edits applied.
    pub fn headers<'a>(&'a self, req: &RequestFacts<'a>) -> Vec<(&'a str, &'a str)> {
        super::header::edited(req.headers, &self.edits)
    }

    /// `req` as the rules left it, `headers` being [`Self::headers`]. The
    /// method is what HAProxy's `method` fetch gives: `set-method` does not
    /// update `txn->meth`, so a method HAProxy knows stays as received, and an
    /// unknown one compares by its id with the known ones (seen on HAProxy
    /// 2.6.12: `set-method POST` on `GET` or on `FOO` does not make `method POST`
    /// match); only an unknown method rewritten to another unknown one is read
    /// from the new request line.
    pub fn facts<'a>(
        &'a self,
        req: &RequestFacts<'a>,
        headers: &'a [(&'a str, &'a str)],
    ) -> RequestFacts<'a> {
        const KNOWN: [&str; 8] = [
            "OPTIONS", "GET", "HEAD", "POST", "PUT", "DELETE", "TRACE", "CONNECT",
        ];
        let method = match &self.method {
            Some(m) if !KNOWN.contains(&req.method) && !KNOWN.contains(&m.as_str()) => m.as_str(),
            _ => req.method,
        };
        RequestFacts {
            method,
            target: self.target.as_deref().unwrap_or(req.target),
            headers,
            ..*req
        }
    }

    /// Whether the rules changed anything the server receives.
    pub fn is_empty(&self) -> bool {
        self.edits.is_empty() && self.method.is_none() && self.target.is_none()
    }

    /// What a rule that edits the request changes (`req` is the request as it
    /// is now); `None` for the actions that end the rules (allow, deny, ...),
    /// which the router handles. Computed on `&self` so that `req` may borrow
    /// it; [`Self::commit`] applies it.
    pub fn change(&self, action: &Action, req: &RequestFacts<'_>) -> Option<Change> {
        let edit = |op, name: &str, value: String| HeaderEdit {
            op,
            name: name.into(),
            value,
        };
        let vars = &self.vars;
        let one = |e| Change::Edits(alloc::vec![e]);
        Some(match action {
            Action::SetHeader { name, value } => {
                one(edit(EditOp::Set, name, value.render_with(req, vars)))
            }
            Action::AddHeader { name, value } => {
                one(edit(EditOp::Add, name, value.render_with(req, vars)))
            }
            Action::DelHeader { name } => one(edit(EditOp::Del, name, String::new())),
            Action::ReplaceHeader(r) | Action::ReplaceValue(r) => {
                let each = matches!(action, Action::ReplaceValue(_));
                let with = r.with.render_with(req, vars);
                Change::Edits(
                    req.header_lines(&r.name)
                        .enumerate()
                        .filter_map(|(i, line)| {
                            let new = if each {
                                replace_values(r, line, &with)?
                            } else {
                                r.regex.replace(line, &with)?
                            };
                            let nth = u32::try_from(i).ok()?;
                            Some(edit(EditOp::Replace(nth), &r.name, new))
                        })
                        .collect(),
                )
            }
            Action::SetLine { part, value } => {
                line_change(*part, req, &value.render_with(req, vars))
            }
            Action::ReplaceLine { part, with } => {
                let subject = match part {
                    LinePart::Path => target::path(req.target),
                    _ => req.target,
                };
                let new = (!subject.is_empty())
                    .then(|| {
                        with.regex
                            .replace(subject, &with.with.render_with(req, vars))
                    })
                    .flatten();
                match new {
                    Some(new) => line_change(*part, req, &new),
                    None => Change::Nothing,
                }
            }
            Action::SetVar { var, expr } => match expr {
                Part::Sample { fetch, convs } => {
                    match super::logfmt::sample_value(fetch, convs, req, vars) {
                        Some(v) => Change::SetVar(var.clone(), v),
                        None => Change::Nothing,
                    }
                }
                Part::Text(_) => Change::Nothing,
            },
            Action::UnsetVar { var } => Change::UnsetVar(var.clone()),
            Action::Allow
            | Action::Deny { .. }
            | Action::Redirect { .. }
            | Action::Return(_)
            | Action::UsePrometheus
            | Action::SetStatus { .. } => {
                return None;
            }
        })
    }

    /// Applies what [`Self::change`] computed.
    pub fn commit(&mut self, c: Change) {
        match c {
            Change::Edits(e) => self.edits.extend(e),
            Change::Method(m) => self.method = Some(m),
            Change::Target(t, host) => {
                self.target = Some(t);
                self.edits.extend(host);
            }
            Change::SetVar(n, v) => match self.vars.iter_mut().find(|(k, _)| *k == n) {
                Some(slot) => slot.1 = v,
                None => self.vars.push((n, v)),
            },
            Change::UnsetVar(n) => self.vars.retain(|(k, _)| *k != n),
            Change::Nothing => {}
        }
    }
}

/// What one rule changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Header edits to append.
    Edits(Vec<HeaderEdit>),
    /// A new method.
    Method(String),
    /// A new request target, and the Host lines `set-uri` rewrites with it.
    Target(String, Vec<HeaderEdit>),
    /// A variable's new value.
    SetVar(String, String),
    /// A variable removed.
    UnsetVar(String),
    /// Nothing (no match, no value).
    Nothing,
}

fn line_change(part: LinePart, req: &RequestFacts<'_>, v: &str) -> Change {
    match part {
        LinePart::Method => Change::Method(v.into()),
        LinePart::Path => Change::Target(target::with_path(req.target, v), Vec::new()),
        LinePart::Query => Change::Target(target::with_query(req.target, v), Vec::new()),
        LinePart::Uri => {
            // HAProxy's http_update_host(): a URI with an authority gives every
            // Host line its value.
            let host = target::authority(v, req.method == "CONNECT")
                .map(|a| {
                    (0..req.header_lines("host").count())
                        .filter_map(|i| {
                            Some(HeaderEdit {
                                op: EditOp::Replace(u32::try_from(i).ok()?),
                                name: "host".into(),
                                value: a.into(),
                            })
                        })
                        .collect()
                })
                .unwrap_or_default();
            Change::Target(v.into(), host)
        }
    }
}

/// `replace-value`: each comma-separated value of `line` that holds a match
/// becomes `with`, the blanks around it dropped (HAProxy replaces the value
/// with its surrounding whitespace); `None` when no value matched.
pub(super) fn replace_values(r: &Replace, line: &str, with: &str) -> Option<String> {
    let base = line.as_ptr() as usize;
    let mut out = String::with_capacity(line.len());
    let mut cursor = 0;
    let mut changed = false;
    for v in split_values(line) {
        // `v` lies in `line` (split_values returns its slices).
        let end = (v.as_ptr() as usize).checked_sub(base)? + v.len();
        let seg_end = line.get(end..)?.find(',').map_or(line.len(), |i| end + i);
        match r.regex.replace(v, with) {
            Some(new) => {
                out.push_str(&new);
                changed = true;
            }
            None => out.push_str(line.get(cursor..seg_end)?),
        }
        if seg_end < line.len() {
            out.push(',');
        }
        cursor = (seg_end + 1).min(line.len());
    }
    changed.then_some(out)
}

#[cfg(all(test, feature = "regex"))]
mod tests {
    use super::*;
    use crate::rules::LogFormat;
    use crate::rules::regex::Regex;

    fn rv(re: &str, with: &str, line: &str) -> Option<String> {
        let r = Replace {
            name: "x-a".into(),
            regex: Regex::new(re).unwrap_or_else(|e| panic!("{e:?}")),
            with: LogFormat::literal(with),
        };
        replace_values(&r, line, with)
    }

    /// Seen on HAProxy 2.6.12: `replace-value X-A b Z` on `abc,  b , d` and
    /// `c, b,b`; `replace-value X-A ^(.)(.*)$ <\2\1>` on `abc,  b , d`.
    #[test]
    fn replace_value_as_haproxy() {
        assert_eq!(rv("b", "Z", "abc,  b , d").as_deref(), Some("Z,Z, d"));
        assert_eq!(rv("b", "Z", "c, b,b").as_deref(), Some("c,Z,Z"));
        assert_eq!(
            rv("^(.)(.*)$", r"<\2\1>", "abc,  b , d").as_deref(),
            Some("<bca>,<b>,<d>")
        );
        assert_eq!(rv("q", "Z", "a, b"), None);
        // Empty values are values (seen: `replace-value X-A ^$ E`, `^b$ B`).
        assert_eq!(rv("^$", "E", "a,,b, ,c").as_deref(), Some("a,E,b,E,c"));
        assert_eq!(rv("^b$", "B", "a,,b, ,c").as_deref(), Some("a,,B, ,c"));
        assert_eq!(rv("^$", "E", "").as_deref(), Some("E"));
        // A quoted comma does not split.
        assert_eq!(rv("^b$", "Z", r#""x,y", b"#).as_deref(), Some(r#""x,y",Z"#));
    }
}
