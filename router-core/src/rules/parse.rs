//! The actions of `http-request ACTION ... [if|unless COND]`, with HAProxy 2.6's
//! argument checks. The condition is parsed by the config parser (it knows the
//! section's ACLs); the action's words end where `if`/`unless` starts.

use alloc::format;
use alloc::string::ToString;
use alloc::vec::Vec;

use super::logfmt::LogFormat;
use super::regex::{Regex, RegexError};
use super::{Action, LinePart, Replace, ReturnSpec};
use crate::answer::has_error_page;
use crate::config::lexer::Word;
use crate::diag::DiagnosticKind as K;
use crate::problem::Problem;

/// Actions Wt Edge implements (for messages).
pub const SUPPORTED: &str = "set-header, add-header, del-header, replace-header, replace-value, \
     set-method, set-path, set-query, set-uri, replace-path, replace-uri, set-var(SCOPE.NAME), \
     unset-var(SCOPE.NAME), allow, deny, redirect, return";

/// HAProxy 2.6 `http-request` actions Wt Edge refuses, with the nearest supported form.
const REFUSED: &[(&str, &str)] = &[
    ("set-pathq", "route on the path with ACLs instead"),
    ("tarpit", "use 'http-request deny'"),
    (
        "auth",
        "use 'http-request deny deny_status 401' or authenticate in the application",
    ),
    ("reject", "use 'http-request deny'"),
    ("silent-drop", "use 'http-request deny'"),
    (
        "capture",
        "remove it (captures are not logged by Wt Edge yet)",
    ),
    ("track-sc0", "remove it (stick tables are not supported)"),
    ("track-sc1", "remove it (stick tables are not supported)"),
    ("track-sc2", "remove it (stick tables are not supported)"),
    ("set-log-level", "remove it"),
    ("set-nice", "remove it"),
    ("set-src", "use 'option forwardfor' for the client address"),
    ("set-dst", "remove it"),
    ("set-timeout", "use 'timeout server' in the backend"),
    ("wait-for-body", "remove it"),
    ("wait-for-handshake", "remove it"),
    ("early-hint", "remove it"),
    ("normalize-uri", "remove it"),
    ("cache-use", "remove it (caching is not supported)"),
    ("do-resolve", "remove it"),
    ("set-mark", "remove it"),
    ("set-tos", "remove it"),
    ("strict-mode", "remove it"),
    ("sc-inc-gpc0", "remove it (stick tables are not supported)"),
    ("add-acl", "remove it (ACL files are not supported)"),
    ("del-acl", "remove it (ACL files are not supported)"),
    ("set-map", "remove it (maps are not supported)"),
    ("del-map", "remove it (maps are not supported)"),
];

/// The action word of an `http-request` / `http-response` line, its arguments
/// (the words before `if`/`unless`) and the index where a condition may start.
pub(crate) fn split_action<'w>(
    words: &'w [Word],
    directive: &str,
    supported: &str,
) -> Result<(&'w Word, &'w [Word], usize), Problem> {
    let Some(a) = words.get(1) else {
        return Err(Problem::new(
            K::MissingArgument,
            words.first().map_or(1, |w| w.col),
            format!("'{directive}' expects an action"),
        )
        .hint(format!("supported actions: {supported}")));
    };
    let end = words
        .iter()
        .position(|w| w.text == "if" || w.text == "unless")
        .unwrap_or(words.len());
    Ok((a, &words[2..end.max(2)], end))
}

/// Parses the action at `words[1]` (`words[0]` is `http-request`); returns it and
/// the index where a condition may start.
pub fn action(words: &[Word]) -> Result<(Action, usize), Problem> {
    let (a, args, end) = split_action(words, "http-request", SUPPORTED)?;
    let name = a.text.as_str();
    let action = match name {
        "set-header" | "add-header" => {
            let [n, v] = args else {
                return Err(expects(a, args, "exactly 2 arguments"));
            };
            if n.text.is_empty() || v.text.is_empty() {
                return Err(expects(a, args, "exactly 2 arguments"));
            }
            let value = LogFormat::parse(&v.text, v.col)?;
            let name = n.text.clone();
            if a.text == "set-header" {
                Action::SetHeader { name, value }
            } else {
                Action::AddHeader { name, value }
            }
        }
        "del-header" => match args {
            [n] if !n.text.is_empty() => Action::DelHeader {
                name: n.text.clone(),
            },
            [_, m, ..] if m.text == "-m" => {
                return Err(Problem::new(
                    K::Unsupported,
                    m.col,
                    "'http-request del-header NAME -m METH' is not supported by Wt Edge yet",
                )
                .hint("write 'http-request del-header NAME' (exact name)"));
            }
            [] => return Err(expects(a, args, "exactly 1 argument")),
            [_, extra, ..] => return Err(no_condition(a, extra)),
            [_] => return Err(expects(a, args, "exactly 1 argument")),
        },
        "replace-header" | "replace-value" => {
            let [n, r, w] = args else {
                return Err(expects(a, args, "exactly 3 arguments"));
            };
            let rep = replace(Some(n), r, w)?;
            if name == "replace-header" {
                Action::ReplaceHeader(rep)
            } else {
                Action::ReplaceValue(rep)
            }
        }
        "replace-path" | "replace-uri" => {
            let [r, w] = args else {
                return Err(expects(a, args, "exactly 2 arguments"));
            };
            let part = if name == "replace-path" {
                LinePart::Path
            } else {
                LinePart::Uri
            };
            Action::ReplaceLine {
                part,
                with: replace(None, r, w)?,
            }
        }
        "set-method" | "set-path" | "set-query" | "set-uri" => {
            let [v] = args else {
                return Err(expects(a, args, "exactly 1 argument <format>"));
            };
            if v.text.is_empty() {
                return Err(expects(a, args, "exactly 1 argument <format>"));
            }
            let part = match name {
                "set-method" => LinePart::Method,
                "set-path" => LinePart::Path,
                "set-query" => LinePart::Query,
                _ => LinePart::Uri,
            };
            Action::SetLine {
                part,
                value: LogFormat::parse(&v.text, v.col)?,
            }
        }
        _ if name.starts_with("set-var(") || name.starts_with("unset-var(") => {
            let var = var_arg(a)?;
            if name.starts_with("unset-var(") {
                if let Some(extra) = args.first() {
                    return Err(no_condition(a, extra));
                }
                Action::UnsetVar { var }
            } else {
                let Some(e) = args.first() else {
                    return Err(Problem::new(
                        K::MissingArgument,
                        a.col,
                        format!("'http-request {name}': missing fetch method"),
                    )
                    .hint(format!("write 'http-request {name} req.hdr(host)'")));
                };
                if let Some(extra) = args.get(1) {
                    return Err(no_condition(a, extra));
                }
                Action::SetVar {
                    var,
                    expr: super::logfmt::sample(&e.text, e.col)?,
                }
            }
        }
        "allow" => {
            if let Some(extra) = args.first() {
                return Err(no_condition(a, extra));
            }
            Action::Allow
        }
        "deny" => deny(a, args, 403)?,
        "return" => Action::Return(return_spec(a, args)?),
        "use-service" => match args {
            [svc] if svc.text == "prometheus-exporter" => Action::UsePrometheus,
            [svc, extra, ..] if svc.text == "prometheus-exporter" => {
                return Err(no_condition(a, extra));
            }
            [svc, ..] => {
                return Err(Problem::new(
                    K::Unsupported,
                    svc.col,
                    format!("'http-request use-service {}': Wt Edge's only service is HAProxy's Prometheus exporter", svc.text),
                )
                .hint("write 'http-request use-service prometheus-exporter if { path /metrics }'"));
            }
            [] => return Err(expects(a, args, "a service name")),
        },
        "redirect" => {
            let (rule, k) = crate::config::redirect_rule(words, 2)?;
            if k < end {
                return Err(no_condition(a, &words[k]));
            }
            let to = match words.get(3) {
                Some(w) => LogFormat::parse(&w.text, w.col)?,
                None => LogFormat::default(),
            };
            Action::Redirect { rule, to }
        }
        other => {
            let hint = REFUSED
                .iter()
                .find(|(n, _)| *n == other)
                .map(|(_, h)| h.to_string());
            let known = hint.is_some();
            let p = Problem::new(
                if known {
                    K::Unsupported
                } else {
                    K::UnknownKeyword
                },
                a.col,
                if known {
                    format!("'http-request {other}' is not supported by Wt Edge yet")
                } else {
                    format!("unknown 'http-request' action '{other}'")
                },
            );
            return Err(p.hint(hint.unwrap_or_else(|| format!("supported actions: {SUPPORTED}"))));
        }
    };
    Ok((action, end))
}

/// `REGEX FMT` (after a header name for `replace-header` / `replace-value`).
pub(super) fn replace(name: Option<&Word>, r: &Word, w: &Word) -> Result<Replace, Problem> {
    let regex = Regex::new(&r.text).map_err(|e| match e {
        RegexError::NotInThisBuild => Problem::new(
            K::Unsupported,
            r.col,
            "regexes are not available in the Worker (its size limit)",
        )
        .hint("rewrite with set-header, set-path or set-query, or in the application"),
        RegexError::Invalid(e) => Problem::new(
            K::InvalidValue,
            r.col,
            format!("regex '{}' is invalid or not supported by Wt Edge: {e}", r.text),
        )
        .hint("Wt Edge's regexes have no look-around and no back-reference (README, known differences)"),
    })?;
    Ok(Replace {
        name: name.map(|n| n.text.clone()).unwrap_or_default(),
        regex,
        with: LogFormat::parse(&w.text, w.col)?,
    })
}

/// The variable of `set-var(NAME)` / `unset-var(NAME)`.
fn var_arg(a: &Word) -> Result<alloc::string::String, Problem> {
    let inner = a
        .text
        .split_once('(')
        .and_then(|(_, r)| r.strip_suffix(')'))
        .ok_or_else(|| {
            Problem::new(
                K::Syntax,
                a.col,
                format!("missing ')' in 'http-request {}'", a.text),
            )
        })?;
    super::logfmt::var_name(inner, a.col)
}

pub(super) fn expects(a: &Word, args: &[Word], what: &str) -> Problem {
    Problem::new(
        K::MissingArgument,
        args.first().map_or(a.col, |w| w.col),
        format!("'http-request {}' expects {what}", a.text),
    )
}

pub(super) fn no_condition(a: &Word, found: &Word) -> Problem {
    Problem::new(
        K::InvalidValue,
        found.col,
        format!(
            "'http-request {}' expects either 'if' or 'unless' followed by a condition but found '{}'",
            a.text, found.text
        ),
    )
}

fn status_arg(a: &Word, args: &[Word], i: usize) -> Result<(u16, u32), Problem> {
    let Some(w) = args.get(i + 1) else {
        return Err(expects(a, args, "a status code after 'status'"));
    };
    match w.text.parse::<u16>() {
        Ok(n) => Ok((n, w.col)),
        Err(_) => Err(Problem::new(
            K::InvalidValue,
            w.col,
            format!("invalid status code '{}'", w.text),
        )),
    }
}

/// `deny [deny_status N]`; `default` is 403 for requests, 502 for responses.
pub(super) fn deny(a: &Word, args: &[Word], default: u16) -> Result<Action, Problem> {
    let mut status = default;
    let mut i = 0;
    while let Some(w) = args.get(i) {
        match w.text.as_str() {
            "deny_status" | "status" => {
                let (n, col) = status_arg(a, args, i)?;
                if !has_error_page(n) {
                    return Err(Problem::new(
                        K::InvalidValue,
                        col,
                        format!("status code '{n}' not handled by default with 'default-errorfiles' argument"),
                    )
                    .hint("use 200, 400, 401, 403, 404, 405, 407, 408, 410, 413, 425, 429, 500, 501, 502, 503 or 504"));
                }
                status = n;
                i += 2;
            }
            "content-type" | "string" | "lf-string" | "file" | "lf-file" | "errorfile"
            | "errorfiles" | "default-errorfiles" | "hdr" => {
                return Err(Problem::new(
                    K::Unsupported,
                    w.col,
                    format!("'http-request deny ... {}' is not supported by Wt Edge yet", w.text),
                )
                .hint("write 'http-request return status N content-type T string S' for a custom answer"));
            }
            _ => return Err(no_condition(a, w)),
        }
    }
    Ok(Action::Deny { status })
}

fn return_spec(a: &Word, args: &[Word]) -> Result<ReturnSpec, Problem> {
    let mut spec = ReturnSpec {
        status: 200,
        content_type: None,
        body: LogFormat::default(),
        headers: Vec::new(),
    };
    let mut i = 0;
    while let Some(w) = args.get(i) {
        let val = |i: usize| {
            args.get(i + 1)
                .ok_or_else(|| expects(a, args, &format!("a value after '{}'", w.text)))
        };
        match w.text.as_str() {
            "status" => {
                let (n, col) = status_arg(a, args, i)?;
                if !(200..=599).contains(&n) {
                    return Err(Problem::new(
                        K::InvalidValue,
                        col,
                        format!("Unexpected status code '{n}'"),
                    )
                    .hint("use a status from 200 to 599"));
                }
                spec.status = n;
                i += 2;
            }
            "content-type" => {
                let v = val(i)?;
                spec.content_type = Some(v.text.clone());
                i += 2;
            }
            "string" => {
                spec.body = LogFormat::literal(&val(i)?.text);
                i += 2;
            }
            "lf-string" => {
                let v = val(i)?;
                spec.body = LogFormat::parse(&v.text, v.col)?;
                i += 2;
            }
            "hdr" => {
                let n = val(i)?;
                let v = args
                    .get(i + 2)
                    .ok_or_else(|| expects(a, args, "a name and a value after 'hdr'"))?;
                spec.headers
                    .push((n.text.clone(), LogFormat::parse(&v.text, v.col)?));
                i += 3;
            }
            "file" | "lf-file" | "errorfile" | "errorfiles" | "default-errorfiles" => {
                return Err(Problem::new(
                    K::Unsupported,
                    w.col,
                    format!(
                        "'http-request return ... {}' is not supported by Wt Edge yet",
                        w.text
                    ),
                )
                .hint("write the body inline with 'content-type T string S'"));
            }
            _ => return Err(no_condition(a, w)),
        }
    }
    if !spec.body.parts.is_empty() && spec.content_type.is_none() {
        return Err(Problem::new(
            K::MissingArgument,
            a.col,
            "a content type must be defined when non-empty payload is configured",
        )
        .hint("add 'content-type text/plain'"));
    }
    if spec.body.parts.is_empty() {
        // HAProxy ignores it (with a warning) when there is no payload.
        spec.content_type = None;
    }
    Ok(spec)
}
