//! `redirect location|prefix|scheme ...` (its rule words are shared with `http-request redirect`).

use alloc::format;

use super::args::word_arg;
use super::{Parser, Res};
use crate::config::lexer::Word;
use crate::config::model::*;
use crate::diag::DiagnosticKind as K;
use crate::problem::Problem;

impl Parser<'_> {
    pub(super) fn redirect(&mut self, words: &[Word]) -> Res {
        let i = self.current()?;
        let (mut rule, k) = redirect_rule(words, 1)?;
        let cond = self.condition(words, k)?;
        if let Some(rule) = self.saw_switching_rule {
            self.warn(
                Problem::new(
                    K::RedirectAfterUseBackend,
                    words[0].col,
                    format!("a 'redirect' rule placed after a '{rule}' rule will still be processed before"),
                )
                .hint(format!("move the redirect before the {rule} rules")),
            );
        }
        rule.line = self.line;
        rule.cond = cond;
        self.saw_redirect = true;
        self.proxies[i].redirects.push(rule);
        Ok(())
    }
}

/// A `redirect` rule's words from `words[at]` (its kind) up to its condition;
/// returns the rule (line 0, no condition) and where the condition may start.
/// Shared by `redirect` and `http-request redirect`.
pub(crate) fn redirect_rule(words: &[Word], at: usize) -> Result<(RedirectRule, usize), Problem> {
    let kind_word = word_arg(words, at)?;
    let kind = match kind_word.text.as_str() {
        "location" => RedirectKind::Location,
        "prefix" => RedirectKind::Prefix,
        "scheme" => RedirectKind::Scheme,
        other => {
            return Err(Problem::new(
                K::InvalidValue,
                kind_word.col,
                format!("unknown redirect type '{other}'"),
            )
            .hint("use 'redirect location <url>', 'redirect prefix <prefix>' or 'redirect scheme <scheme>'"));
        }
    };
    let to_word = word_arg(words, at + 1)?;
    // HAProxy 2.6 sends a plain redirect string as written (no log-format).
    let to = to_word.text.clone();
    let mut code = 302;
    let (mut drop_query, mut append_slash) = (false, false);
    let mut k = at + 2;
    while let Some(w) = words.get(k) {
        match w.text.as_str() {
            "code" => {
                let c = word_arg(words, k + 1)?;
                code = match c.text.parse::<u16>() {
                    Ok(n @ (301 | 302 | 303 | 307 | 308)) => n,
                    _ => {
                        return Err(Problem::new(
                            K::InvalidValue,
                            c.col,
                            format!("invalid redirect code '{}'", c.text),
                        )
                        .hint("use 301, 302, 303, 307 or 308"));
                    }
                };
                k += 2;
            }
            "drop-query" => {
                drop_query = true;
                k += 1;
            }
            "append-slash" => {
                append_slash = true;
                k += 1;
            }
            "if" | "unless" => break,
            "set-cookie" | "clear-cookie" | "ignore-empty" => {
                return Err(Problem::new(
                    K::Unsupported,
                    w.col,
                    format!(
                        "redirect option '{}' is not supported by Wt Edge yet",
                        w.text
                    ),
                )
                .hint("remove it; set cookies in the application"));
            }
            other => {
                return Err(Problem::new(
                    K::InvalidValue,
                    w.col,
                    format!("unexpected '{other}' in redirect"),
                )
                .hint("options are: code N, drop-query, append-slash, then if/unless COND"));
            }
        }
    }
    Ok((
        RedirectRule {
            line: 0,
            kind,
            to,
            code,
            drop_query,
            append_slash,
            cond: None,
        },
        k,
    ))
}
