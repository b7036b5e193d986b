//! `retries N`.

use super::args::{extra_words, int_arg};
use super::{Parser, Res};
use crate::config::lexer::Word;

impl Parser<'_> {
    pub(super) fn retries(&mut self, words: &[Word]) -> Res {
        self.settings().retries = int_arg(words, 1)?;
        extra_words(words, 2)
    }
}
