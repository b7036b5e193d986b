//! `stats admin if|unless COND` (the other `stats` keywords are in `config/stats.rs`).

use super::{Parser, Res, Section};
use crate::config::lexer::Word;
use crate::diag::DiagnosticKind as K;
use crate::problem::Problem;

impl Parser<'_> {
    /// `stats admin if|unless COND` (HAProxy refuses it in `defaults`).
    pub(super) fn stats_admin(&mut self, words: &[Word]) -> Res {
        if !matches!(self.section, Section::Proxy(_)) {
            return Err(Problem::new(
                K::NotAllowedHere,
                words[0].col,
                "'stats admin' not allowed in 'defaults' section",
            )
            .hint("write 'stats admin if COND' in the frontend or listen section"));
        }
        if !words
            .get(2)
            .is_some_and(|w| w.text == "if" || w.text == "unless")
            || words.len() < 4
        {
            return Err(Problem::new(
                K::MissingArgument,
                words[0].col,
                "'stats admin' requires either 'if <cond>' or 'unless <cond>'",
            )
            .hint("stats admin if { src 127.0.0.1 }"));
        }
        let cond = self.condition(words, 2)?;
        self.settings().stats.enabled = true;
        self.settings().stats.admin = cond;
        Ok(())
    }
}
