//! `log` lines, checked as HAProxy does.

use alloc::format;
use alloc::vec::Vec;

use super::args::extra_words;
use super::{Parser, Res};
use crate::config::lexer::Word;
use crate::config::suggest::closest;
use crate::diag::DiagnosticKind as K;
use crate::problem::Problem;

/// Syslog facilities HAProxy knows.
pub(super) const FACILITIES: &[&str] = &[
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "auth2",
    "ftp", "ntp", "audit", "alert", "cron2", "local0", "local1", "local2", "local3", "local4",
    "local5", "local6", "local7",
];

/// `log global` | `log [len N] [format F] [sample R:S] ADDRESS FACILITY [LEVEL [MINLEVEL]]`,
/// checked as HAProxy does (the target is kept, never contacted).
pub(super) fn check_log(words: &[Word], in_global: bool) -> Res {
    let args = &words[1..];
    let Some(first) = args.first() else {
        return Err(Problem::new(
            K::MissingArgument,
            words[0].col,
            "'log' needs 'global' or an address and a facility",
        )
        .hint("write 'log global' or e.g. 'log 127.0.0.1 local0'"));
    };
    if first.text == "global" {
        if in_global {
            return Err(Problem::new(
                K::InvalidValue,
                first.col,
                "'log global' is not allowed in the global section",
            )
            .hint("give an address and a facility, e.g. 'log 127.0.0.1 local0'"));
        }
        return extra_words(words, 2);
    }
    let mut i = 1;
    while matches!(
        words.get(i).map(|w| w.text.as_str()),
        Some("len" | "format" | "sample")
    ) {
        i += 2;
    }
    // The address, then options may also follow it.
    i += 1;
    while matches!(
        words.get(i).map(|w| w.text.as_str()),
        Some("len" | "format" | "sample")
    ) {
        i += 2;
    }
    let Some(facility) = words.get(i) else {
        return Err(Problem::new(
            K::MissingArgument,
            words[words.len() - 1].col,
            "'log' expects an address and a facility",
        )
        .hint("write e.g. 'log 127.0.0.1 local0'"));
    };
    if !FACILITIES.contains(&facility.text.as_str()) {
        return Err(Problem::new(
            K::InvalidValue,
            facility.col,
            format!("unknown log facility '{}'", facility.text),
        )
        .maybe_hint(
            closest(&facility.text, FACILITIES.iter().copied())
                .map(|s| format!("did you mean '{s}'?")),
        ));
    }
    Ok(())
}

impl Parser<'_> {
    /// `log` in a proxy section (the global one is in `global.rs`).
    pub(super) fn log(&mut self, words: &[Word]) -> Res {
        check_log(words, false)?;
        let rest: Vec<&str> = words[1..].iter().map(|w| w.text.as_str()).collect();
        self.settings().log.push(rest.join(" "));
        Ok(())
    }

    /// `no log`: forget the inherited log targets.
    pub(super) fn no_log(&mut self, words: &[Word]) -> Res {
        extra_words(words, 2)?;
        self.settings().log.clear();
        Ok(())
    }
}
