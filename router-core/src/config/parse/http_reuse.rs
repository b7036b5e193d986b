//! `http-reuse never|safe|aggressive|always`.

use alloc::format;

use super::args::{extra_words, word_arg};
use super::{Parser, Res};
use crate::config::lexer::Word;
use crate::config::model::HttpReuse;
use crate::diag::DiagnosticKind as K;
use crate::problem::Problem;

impl Parser<'_> {
    pub(super) fn http_reuse(&mut self, words: &[Word]) -> Res {
        let w = word_arg(words, 1)?;
        extra_words(words, 2)?;
        self.settings().http_reuse = match w.text.as_str() {
            "never" => HttpReuse::Never,
            "safe" => HttpReuse::Safe,
            "aggressive" => HttpReuse::Aggressive,
            "always" => HttpReuse::Always,
            other => {
                return Err(Problem::new(
                    K::InvalidValue,
                    w.col,
                    format!("unknown 'http-reuse' mode '{other}'"),
                )
                .hint("use 'http-reuse never', 'safe', 'aggressive' or 'always'"));
            }
        };
        Ok(())
    }
}
