//! `mode http` (the only mode Wt Edge proxies).

use alloc::format;

use super::args::{extra_words, word_arg};
use super::{Parser, Res};
use crate::config::lexer::Word;
use crate::config::model::Mode;
use crate::diag::DiagnosticKind as K;
use crate::problem::Problem;

impl Parser<'_> {
    pub(super) fn mode(&mut self, words: &[Word]) -> Res {
        let w = word_arg(words, 1)?;
        extra_words(words, 2)?;
        match w.text.as_str() {
            "http" => {
                self.settings().mode = Mode::Http;
                self.settings().mode_set = true;
                Ok(())
            }
            "tcp" => Err(Problem::new(
                K::Unsupported,
                w.col,
                "'mode tcp' is not supported by Wt Edge",
            )
            .hint("Wt Edge routes HTTP: use 'mode http'")),
            other => Err(
                Problem::new(K::InvalidValue, w.col, format!("unknown mode '{other}'"))
                    .hint("use 'mode http'"),
            ),
        }
    }
}
