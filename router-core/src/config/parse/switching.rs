//! `use_backend` and `use-server` rules.

use alloc::format;

use super::args::{extra_words, word_arg};
use super::{Parser, PendingUseServer, Res, Section};
use crate::config::lexer::Word;
use crate::config::model::*;
use crate::diag::DiagnosticKind as K;
use crate::problem::Problem;

impl Parser<'_> {
    pub(super) fn use_backend(&mut self, words: &[Word]) -> Res {
        let i = self.current()?;
        let w = word_arg(words, 1)?;
        if w.text.contains('%') {
            return Err(Problem::new(
                K::Unsupported,
                w.col,
                "dynamic backend names (log-format) are not supported by Wt Edge",
            )
            .hint("write one use_backend rule per backend"));
        }
        let cond = self.condition(words, 2)?;
        self.saw_switching_rule = Some("use_backend");
        self.proxies[i].use_backends.push(UseBackendRule {
            backend: BackendRef {
                name: w.text.clone(),
                id: ProxyId(u16::MAX),
                line: self.line,
                col: w.col,
            },
            cond,
        });
        Ok(())
    }

    pub(super) fn use_server(&mut self, words: &[Word]) -> Res {
        let i = self.current()?;
        let w = word_arg(words, 1)?;
        if words.get(2).is_none() {
            return Err(Problem::new(
                K::MissingArgument,
                w.col,
                "'use-server' requires either 'if' or 'unless' followed by a condition",
            )
            .hint(format!("write 'use-server {} if COND'", w.text)));
        }
        let cond = self.condition(words, 2)?;
        self.saw_switching_rule.get_or_insert("use-server");
        self.use_servers.push(PendingUseServer {
            proxy: i,
            rule: self.proxies[i].use_servers.len(),
            col: w.col,
        });
        self.proxies[i].use_servers.push(UseServerRule {
            line: self.line,
            name: w.text.clone(),
            server: ServerId(u32::MAX),
            cond,
        });
        Ok(())
    }
}

impl Parser<'_> {
    /// `default_backend NAME` (in `defaults`, kept for the frontends declared later).
    pub(super) fn default_backend(&mut self, words: &[Word]) -> Res {
        let w = word_arg(words, 1)?;
        extra_words(words, 2)?;
        match self.section {
            Section::Proxy(i) => {
                self.proxies[i].default_backend = Some(BackendRef {
                    name: w.text.clone(),
                    id: ProxyId(u16::MAX),
                    line: self.line,
                    col: w.col,
                });
            }
            _ => self.defaults_backend = Some((w.text.clone(), self.line, w.col)),
        }
        Ok(())
    }
}
