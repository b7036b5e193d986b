//! The `global` section's keywords (`maxconn`, `user`, `nbthread`, `log`...).

use alloc::format;
use alloc::vec::Vec;

use super::args::{bad_char, extra_words, int_arg};
use super::log::check_log;
use super::{Parser, Res};
use crate::config::keywords::{self};
use crate::config::lexer::Word;
use crate::config::suggest::closest;
use crate::diag::DiagnosticKind as K;
use crate::problem::Problem;

impl Parser<'_> {
    pub(super) fn global_keyword(&mut self, words: &[Word]) -> Res {
        let kw = words[0].text.as_str();
        if kw == "nbproc" {
            return Err(Problem::new(
                K::UnknownKeyword,
                words[0].col,
                "'nbproc' was removed in HAProxy 2.5 (one process, several threads): HAProxy 2.6 refuses it",
            )
            .hint("remove it; 'nbthread N' runs N threads"));
        }
        if kw == "stats" {
            let line = self.line;
            if let Some(s) = crate::config::stats::parse_global(words, line)? {
                self.global.stats_sockets.push(s);
            }
            return Ok(());
        }
        if let Some(res) = self.tls_default(words) {
            return res;
        }
        if !keywords::GLOBAL.contains(&kw) {
            if keywords::HAPROXY_GLOBAL.contains(&kw)
                || kw.starts_with("tune.")
                || kw.starts_with("ssl-")
            {
                return Err(Problem::new(
                    K::Unsupported,
                    words[0].col,
                    format!("global keyword '{kw}' is not supported by Wt Edge"),
                )
                .hint("remove it; see the README for the supported keywords"));
            }
            return Err(Problem::new(
                K::UnknownKeyword,
                words[0].col,
                format!("unknown keyword '{kw}' in 'global' section"),
            )
            .maybe_hint(
                closest(kw, keywords::GLOBAL.iter().copied())
                    .map(|s| format!("did you mean '{s}'?")),
            ));
        }
        // As HAProxy 2.6: every keyword but `log` and `description` takes at most one
        // argument (only the word after it is looked at, and an empty one is none),
        // and one that sets a value already set keeps the first (an alert that does
        // not refuse the config).
        let (max, takes) = match kw {
            "daemon" | "quiet" | "noreuseport" => (0, "no argument"),
            "log" | "description" => (words.len(), ""),
            _ => (1, "one argument"),
        };
        if words.get(max + 1).is_some_and(|w| !w.text.is_empty()) {
            extra_words(words, max + 1)
                .map_err(|p| p.hint(format!("'{kw}' takes {takes}: remove the extra words")))?;
        }
        let g = &self.global;
        let set = match kw {
            "maxconn" => g.maxconn.is_some(),
            "user" | "uid" => g.user.is_some(),
            "group" | "gid" => g.group.is_some(),
            "chroot" => g.chroot.is_some(),
            "pidfile" => g.pidfile.is_some(),
            _ => false,
        };
        if set {
            self.warn(
                Problem::new(
                    K::Duplicate,
                    words[0].col,
                    format!("'{kw}' is already set above: HAProxy 2.6 keeps the first value and ignores this line"),
                )
                .hint("remove one of the two lines"),
            );
            return Ok(());
        }
        let rest: Vec<&str> = words[1..].iter().map(|w| w.text.as_str()).collect();
        match kw {
            "log" => {
                check_log(words, true)?;
                self.global.log.push(rest.join(" "));
            }
            "maxconn" => {
                let w = global_arg(words)?;
                // HAProxy reads it with atol(); 0 (or less) sets no limit.
                let n = atol(&w.text);
                if w.text.parse::<u32>().is_err() {
                    self.warn(
                        Problem::new(
                            K::InvalidValue,
                            w.col,
                            format!(
                                "'{}' is not a number: HAProxy 2.6 reads it as {n}{}",
                                w.text,
                                if n > 0 { "" } else { " (no limit)" }
                            ),
                        )
                        .hint("write the connection limit, e.g. 'maxconn 4096'"),
                    );
                }
                self.global.maxconn = u32::try_from(n.max(0)).ok().filter(|&m| m > 0);
            }
            "user" => self.global.user = Some(global_arg(words)?.text.clone()),
            "group" => self.global.group = Some(global_arg(words)?.text.clone()),
            "uid" | "gid" => {
                let w = global_arg(words)?;
                if w.text.starts_with('+') || w.text.parse::<i32>().is_err() {
                    let named = if kw == "uid" { "user" } else { "group" };
                    self.warn(
                        Problem::new(
                            K::InvalidValue,
                            w.col,
                            format!(
                                "'{}' is not a number: HAProxy 2.6 ignores this line",
                                w.text
                            ),
                        )
                        .hint(format!(
                            "write '{named} {}' for a system {named} name",
                            w.text
                        )),
                    );
                } else if kw == "uid" {
                    self.global.user = Some(w.text.clone());
                } else {
                    self.global.group = Some(w.text.clone());
                }
            }
            "daemon" => self.global.daemon = true,
            "noreuseport" => self.global.noreuseport = true,
            "nbthread" => {
                let n: u32 = int_arg(words, 1)?;
                if !(1..=MAX_THREADS).contains(&n) {
                    return Err(Problem::new(
                        K::InvalidValue,
                        words[1].col,
                        format!("'nbthread' value must be between 1 and {MAX_THREADS} (was {n})"),
                    )
                    .hint("write the number of threads to run, e.g. the number of cores"));
                }
                self.global.nbthread = Some(n);
            }
            "chroot" => self.global.chroot = Some(global_arg(words)?.text.clone()),
            "pidfile" => self.global.pidfile = Some(global_arg(words)?.text.clone()),
            "node" => {
                let w = global_arg(words)?;
                if let Some(bad) = bad_char(&w.text, "-_.") {
                    return Err(Problem::new(
                        K::InvalidValue,
                        w.col,
                        format!("invalid character '{bad}' in node name '{}'", w.text),
                    )
                    .hint("node names use letters, digits, '-', '_' and '.'"));
                }
            }
            "description" => {
                global_arg(words)?;
            }
            _ => {} // quiet: nothing to keep
        }
        Ok(())
    }
}

/// A global keyword's argument: HAProxy 2.6 reads an empty one (`''`) as missing.
pub(super) fn global_arg(words: &[Word]) -> Result<&Word, Problem> {
    let kw = words[0].text.as_str();
    match words.get(1) {
        Some(w) if !w.text.is_empty() => Ok(w),
        w => {
            let what = match kw {
                "maxconn" | "uid" | "gid" => "N",
                "user" => "USER",
                "group" => "GROUP",
                "chroot" => "DIR",
                "pidfile" => "FILE",
                "node" => "NAME",
                _ => "TEXT",
            };
            Err(Problem::new(
                K::MissingArgument,
                w.map_or(words[0].col, |w| w.col),
                format!("'{kw}' is missing an argument"),
            )
            .hint(format!("write '{kw} {what}'")))
        }
    }
}

/// C's `atol()`, as HAProxy reads some numbers: blanks, a sign, then the digits up
/// to the first other character (`x` is 0, `12ab` is 12).
pub(super) fn atol(text: &str) -> i64 {
    let t = text.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, t) = match t.strip_prefix('-') {
        Some(t) => (true, t),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let n = t.bytes().take_while(u8::is_ascii_digit).fold(0i64, |n, d| {
        n.saturating_mul(10).saturating_add(i64::from(d - b'0'))
    });
    if neg { -n } else { n }
}

/// HAProxy 2.6's limit for `nbthread` (MAX_THREADS on 64-bit builds).
pub(super) const MAX_THREADS: u32 = 64;
