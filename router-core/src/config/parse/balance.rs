//! `balance ALGO [ARGS]` and `hash-type`.

use alloc::format;

use super::args::{extra_words, positive, word_arg};
use super::{Parser, Res};
use crate::config::lexer::Word;
use crate::config::model::*;
use crate::diag::DiagnosticKind as K;
use crate::problem::Problem;

/// `balance ALGO [ARGS]`, as HAProxy 2.6's `backend_parse_balance()` reads it.
pub(super) fn parse_balance(words: &[Word]) -> Result<Balance, Problem> {
    let w = word_arg(words, 1)?;
    let algo = w.text.as_str();
    let no_args = |b: Balance| extra_words(words, 2).map(|()| b);
    match algo {
        "roundrobin" => no_args(Balance::RoundRobin),
        "leastconn" => no_args(Balance::LeastConn),
        "first" => no_args(Balance::First),
        "source" => no_args(Balance::Source),
        "random" => no_args(Balance::Random { draws: 2 }),
        "uri" => {
            let (mut len, mut depth, mut whole, mut path_only) = (0, 0, false, false);
            let mut i = 2;
            while let Some(opt) = words.get(i) {
                match opt.text.as_str() {
                    "len" => {
                        len = positive(words, i + 1)?;
                        i += 2;
                    }
                    "depth" => {
                        depth = positive(words, i + 1)?;
                        i += 2;
                    }
                    "whole" => {
                        whole = true;
                        i += 1;
                    }
                    "path-only" => {
                        path_only = true;
                        i += 1;
                    }
                    other => {
                        return Err(Problem::new(
                            K::InvalidValue,
                            opt.col,
                            format!(
                                "'balance uri' only accepts 'len', 'depth', 'path-only' and 'whole' (got '{other}')"
                            ),
                        ));
                    }
                }
            }
            Ok(Balance::Uri {
                len,
                depth,
                whole,
                path_only,
            })
        }
        "url_param" => {
            let name = word_arg(words, 2)?;
            if let Some(m) = words.get(3) {
                return Err(if m.text == "check_post" {
                    Problem::new(
                        K::Unsupported,
                        m.col,
                        "'balance url_param ... check_post' is not supported by Wt Edge yet (request bodies are not inspected)",
                    )
                    .hint(format!("write 'balance url_param {}': the query string's parameter is hashed", name.text))
                } else {
                    Problem::new(
                        K::InvalidValue,
                        m.col,
                        format!(
                            "'balance url_param' only accepts the 'check_post' modifier (got '{}')",
                            m.text
                        ),
                    )
                });
            }
            Ok(Balance::UrlParam {
                name: name.text.clone(),
            })
        }
        _ if algo.starts_with("random(") => {
            let draws = algo
                .strip_prefix("random(")
                .and_then(|r| r.strip_suffix(')'))
                .and_then(|n| n.parse::<u32>().ok())
                .filter(|&n| n >= 1)
                .ok_or_else(|| {
                    Problem::new(
                        K::InvalidValue,
                        w.col,
                        format!("'{algo}': the number of draws must be an integer of at least 1"),
                    )
                    .hint("write 'random' (2 draws) or 'random(N)'")
                })?;
            no_args(Balance::Random { draws })
        }
        _ if algo.starts_with("hdr(") => {
            let name = algo
                .strip_prefix("hdr(")
                .and_then(|r| r.split_once(')'))
                .map(|(n, _)| n)
                .filter(|n| !n.is_empty())
                .ok_or_else(|| {
                    Problem::new(
                        K::InvalidValue,
                        w.col,
                        "hdr requires an http header field name",
                    )
                    .hint("write 'balance hdr(Host)'")
                })?;
            let use_domain_only = match words.get(2) {
                None => false,
                Some(m) if m.text == "use_domain_only" => true,
                Some(m) => {
                    return Err(Problem::new(
                        K::InvalidValue,
                        m.col,
                        format!(
                            "'balance hdr()' only accepts the 'use_domain_only' modifier (got '{}')",
                            m.text
                        ),
                    ));
                }
            };
            extra_words(words, 3)?;
            Ok(Balance::Hdr {
                name: name.into(),
                use_domain_only,
            })
        }
        _ => {
            let hint = match algo {
                "static-rr" => {
                    "use 'balance roundrobin' (the same order while weights do not change)"
                }
                "hash" => {
                    "use 'balance hdr(NAME)', 'balance url_param NAME', 'balance uri' or 'balance source'"
                }
                a if a.starts_with("rdp-cookie") => {
                    "use 'balance source' (RDP is not HTTP; Wt Edge proxies HTTP)"
                }
                _ => {
                    return Err(Problem::new(
                        K::InvalidValue,
                        w.col,
                        format!("unknown balance algorithm '{algo}'"),
                    )
                    .hint("roundrobin, leastconn, first, random, source, uri, url_param NAME or hdr(NAME)"));
                }
            };
            Err(Problem::new(
                K::Unsupported,
                w.col,
                format!("'balance {algo}' is not supported by Wt Edge yet"),
            )
            .hint(hint))
        }
    }
}

/// `hash-type map-based|consistent [sdbm|djb2|wt6|crc32 [avalanche]]`. HAProxy
/// applies avalanche by itself to a bare `consistent`.
pub(super) fn parse_hash_type(words: &[Word]) -> Result<HashType, Problem> {
    let kind = word_arg(words, 1)?;
    let consistent = match kind.text.as_str() {
        "consistent" => true,
        "map-based" => false,
        other => {
            return Err(Problem::new(
                K::InvalidValue,
                kind.col,
                format!("'hash-type' only supports 'consistent' and 'map-based' (got '{other}')"),
            ));
        }
    };
    let Some(f) = words.get(2) else {
        return Ok(HashType {
            consistent,
            function: HashFunction::Sdbm,
            avalanche: consistent,
        });
    };
    let function = match f.text.as_str() {
        "sdbm" => HashFunction::Sdbm,
        "djb2" => HashFunction::Djb2,
        "wt6" => HashFunction::Wt6,
        "crc32" => HashFunction::Crc32,
        other => {
            return Err(Problem::new(
                K::InvalidValue,
                f.col,
                format!(
                    "'hash-type' only supports the 'sdbm', 'djb2', 'crc32' and 'wt6' hash functions (got '{other}')"
                ),
            ));
        }
    };
    let avalanche = match words.get(3) {
        None => false,
        Some(m) if m.text == "avalanche" => true,
        Some(m) => {
            return Err(Problem::new(
                K::InvalidValue,
                m.col,
                format!(
                    "'hash-type' only supports 'avalanche' as a modifier (got '{}')",
                    m.text
                ),
            ));
        }
    };
    extra_words(words, 4)?;
    Ok(HashType {
        consistent,
        function,
        avalanche,
    })
}

impl Parser<'_> {
    pub(super) fn balance(&mut self, words: &[Word]) -> Res {
        self.settings().balance = parse_balance(words)?;
        Ok(())
    }

    pub(super) fn hash_type(&mut self, words: &[Word]) -> Res {
        self.settings().hash_type = parse_hash_type(words)?;
        Ok(())
    }
}
