//! `http-request` and `http-response` lines (their actions are parsed in `rules/`).

use alloc::format;

use super::{Parser, Res};
use crate::config::lexer::Word;
use crate::diag::DiagnosticKind as K;
use crate::problem::Problem;

impl Parser<'_> {
    #[cfg(feature = "response")]
    pub(super) fn http_response(&mut self, words: &[Word]) -> Res {
        let i = self.current()?;
        let (action, k) = crate::rules::response_parse::action(words)?;
        let cond = self.condition(words, k)?;
        if let Some(c) = &cond {
            crate::rules::response_parse::check_condition(c, &self.proxies[i].acls, words[0].col)?;
        }
        self.proxies[i].http_responses.push(crate::rules::HttpRule {
            line: self.line,
            action,
            cond,
        });
        Ok(())
    }

    pub(super) fn http_request(&mut self, words: &[Word]) -> Res {
        let i = self.current()?;
        let (action, k) = crate::rules::parse::action(words)?;
        let cond = self.condition(words, k)?;
        let after = if self.saw_redirect {
            Some("redirect")
        } else {
            self.saw_switching_rule
        };
        if let Some(rule) = after {
            self.warn(
                Problem::new(
                    K::RedirectAfterUseBackend,
                    words[0].col,
                    format!("a 'http-request' rule placed after a '{rule}' rule will still be processed before"),
                )
                .hint(format!("move the http-request rules before the {rule} rules")),
            );
        }
        self.proxies[i].http_requests.push(crate::rules::HttpRule {
            line: self.line,
            action,
            cond,
        });
        Ok(())
    }
}

impl Parser<'_> {
    #[cfg(not(feature = "response"))]
    pub(super) fn http_response(&mut self, words: &[Word]) -> Res {
        Err(Problem::new(
            K::Unsupported,
            words[0].col,
            "'http-response' rules are not applied by the Worker yet (wtedge applies them)",
        )
        .hint("remove the http-response rules from the edge's config, or set the headers in the application"))
    }
}
