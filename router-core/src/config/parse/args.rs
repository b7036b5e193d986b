//! Keyword arguments: words, numbers, times, networks, and the check for extra words.

use alloc::format;
use alloc::vec::Vec;

use super::Res;
use crate::acl::matcher::parse_net;
use crate::config::lexer::Word;
use crate::config::model::*;
use crate::config::time::parse_ms;
use crate::diag::DiagnosticKind as K;
use crate::problem::Problem;

pub(super) fn word_arg(words: &[Word], i: usize) -> Result<&Word, Problem> {
    words.get(i).ok_or_else(|| {
        let col = words.last().map_or(1, |w| w.col);
        Problem::new(
            K::MissingArgument,
            col,
            format!(
                "'{}' is missing an argument",
                words[..i]
                    .iter()
                    .map(|w| w.text.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
        )
    })
}

/// The first character of `name` that is neither a letter, a digit nor in `extra`.
pub(super) fn bad_char(name: &str, extra: &str) -> Option<char> {
    name.chars()
        .find(|c| !(c.is_ascii_alphanumeric() || extra.contains(*c)))
}

pub(super) fn int_arg<T: core::str::FromStr>(words: &[Word], i: usize) -> Result<T, Problem> {
    let w = word_arg(words, i)?;
    w.text.parse().map_err(|_| {
        Problem::new(
            K::InvalidValue,
            w.col,
            format!("'{}' is not a valid number", w.text),
        )
        .hint("write a non-negative integer")
    })
}

pub(super) fn positive(words: &[Word], i: usize) -> Result<u32, Problem> {
    let v: u32 = int_arg(words, i)?;
    if v == 0 {
        return Err(Problem::new(
            K::InvalidValue,
            words[i].col,
            "must be at least 1",
        ));
    }
    Ok(v)
}

pub(super) fn time_arg(words: &[Word], i: usize) -> Result<u64, Problem> {
    let w = word_arg(words, i)?;
    parse_ms(&w.text).ok_or_else(|| {
        Problem::new(
            K::InvalidValue,
            w.col,
            format!("'{}' is not a valid time", w.text),
        )
        .hint("write milliseconds or a number with a unit: us, ms, s, m, h, d (e.g. 5s)")
    })
}

pub(super) fn net_arg(w: &Word) -> Result<IpNet, Problem> {
    parse_net(&w.text).ok_or_else(|| {
        Problem::new(
            K::InvalidValue,
            w.col,
            format!("'{}' is not an address or network", w.text),
        )
        .hint("write e.g. 127.0.0.0/8")
    })
}

pub(super) fn extra_words(words: &[Word], from: usize) -> Res {
    match words.get(from) {
        Some(w) => Err(
            Problem::new(K::InvalidValue, w.col, format!("unexpected '{}'", w.text))
                .hint("remove the extra words"),
        ),
        None => Ok(()),
    }
}
