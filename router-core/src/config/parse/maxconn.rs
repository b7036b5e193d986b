//! `maxconn N` in a proxy section (the global one is in `global.rs`, the
//! server's in `server.rs`).

use super::args::{extra_words, int_arg};
use super::{Parser, Res};
use crate::config::lexer::Word;

impl Parser<'_> {
    pub(super) fn maxconn(&mut self, words: &[Word]) -> Res {
        self.settings().maxconn = Some(int_arg(words, 1)?);
        extra_words(words, 2)
    }
}
