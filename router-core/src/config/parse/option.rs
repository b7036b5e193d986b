//! `option X` and `no option X`.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::args::{extra_words, net_arg, word_arg};
use super::{Parser, Res};
use crate::config::keywords::{self, Where};
use crate::config::lexer::Word;
use crate::config::model::*;
use crate::config::suggest::closest;
use crate::diag::DiagnosticKind as K;
use crate::problem::Problem;

impl Parser<'_> {
    pub(super) fn option(&mut self, words: &[Word], at: usize, on: bool) -> Res {
        let w = word_arg(words, at)?;
        let name = w.text.as_str();
        let here = self.here();
        let backend_only = ["redispatch", "httpchk", "allbackups", "tcp-smart-connect"];
        if name == "tcp-smart-accept" && here == Where::Backend {
            self.warn(
                Problem::new(
                    K::NotAllowedHere,
                    w.col,
                    "'option tcp-smart-accept' has no effect in a backend; ignored",
                )
                .hint("set it in the frontend or in defaults"),
            );
            return Ok(());
        }
        if backend_only.contains(&name) && here == Where::Frontend {
            self.warn(
                Problem::new(
                    K::NotAllowedHere,
                    w.col,
                    format!("'option {name}' has no effect in a frontend; ignored"),
                )
                .hint("set it in the backend or in defaults"),
            );
            return Ok(());
        }
        if !on && matches!(name, "httplog" | "forwardfor" | "originalto" | "httpchk") {
            return Err(Problem::new(
                K::InvalidValue,
                w.col,
                format!("'option {name}' cannot be negated (HAProxy refuses 'no option {name}')"),
            )
            .hint(format!("remove 'option {name}' from the defaults section instead, or move it to the sections that need it")));
        }
        // `option httplog clf` and `option redispatch <interval>` take an argument.
        let optional_arg = match name {
            "httplog" => words.get(at + 1).is_some_and(|a| a.text == "clf"),
            "redispatch" => words.get(at + 1).is_some_and(|a| {
                a.text
                    .trim_start_matches('-')
                    .bytes()
                    .all(|b| b.is_ascii_digit())
                    && !a.text.is_empty()
            }),
            _ => false,
        };
        let at = if optional_arg { at + 1 } else { at };
        let o = &mut self.settings().options;
        let flag = match name {
            "httplog" => Some(&mut o.httplog),
            "dontlognull" => Some(&mut o.dontlognull),
            "http-pretend-keepalive" => Some(&mut o.http_pretend_keepalive),
            "redispatch" => Some(&mut o.redispatch),
            "allbackups" => Some(&mut o.allbackups),
            "tcp-smart-accept" => Some(&mut o.tcp_smart_accept),
            "tcp-smart-connect" => Some(&mut o.tcp_smart_connect),
            _ => None,
        };
        if let Some(flag) = flag {
            *flag = on;
            return extra_words(words, at + 1);
        }
        // One HTTP mode per section: setting one replaces the others; `no option X`
        // goes back to keep-alive only when X is the current mode (cfgparse-listen.c).
        let mode = match name {
            "http-keep-alive" => Some(HttpMode::KeepAlive),
            "http-server-close" => Some(HttpMode::ServerClose),
            "httpclose" => Some(HttpMode::Close),
            _ => None,
        };
        if let Some(mode) = mode {
            if on {
                o.http_mode = mode;
            } else if o.http_mode == mode {
                o.http_mode = HttpMode::KeepAlive;
            }
            return extra_words(words, at + 1);
        }
        match name {
            "forwardfor" => {
                o.forwardfor = if on {
                    let mut ff = ForwardFor {
                        except: None,
                        header: String::from("X-Forwarded-For"),
                        if_none: false,
                    };
                    let mut k = at + 1;
                    while let Some(arg) = words.get(k) {
                        match arg.text.as_str() {
                            "except" => {
                                let n = word_arg(words, k + 1)?;
                                ff.except = Some(net_arg(n)?);
                                k += 2;
                            }
                            "header" => {
                                ff.header = word_arg(words, k + 1)?.text.clone();
                                k += 2;
                            }
                            "if-none" => {
                                ff.if_none = true;
                                k += 1;
                            }
                            other => {
                                return Err(Problem::new(
                                    K::InvalidValue,
                                    arg.col,
                                    format!("unknown 'option forwardfor' argument '{other}'"),
                                )
                                .hint("use: except NET, header NAME, if-none"));
                            }
                        }
                    }
                    Some(ff)
                } else {
                    None
                };
                Ok(())
            }
            "originalto" => {
                o.originalto = if on {
                    let mut ot = OriginalTo {
                        except: None,
                        header: String::from("X-Original-To"),
                    };
                    let mut k = at + 1;
                    while let Some(arg) = words.get(k) {
                        match arg.text.as_str() {
                            "except" => {
                                let n = word_arg(words, k + 1)?;
                                ot.except = Some(net_arg(n)?);
                            }
                            "header" => ot.header = word_arg(words, k + 1)?.text.clone(),
                            other => {
                                return Err(Problem::new(
                                    K::InvalidValue,
                                    arg.col,
                                    format!("unknown 'option originalto' argument '{other}'"),
                                )
                                .hint("use: except NET, header NAME"));
                            }
                        }
                        k += 2;
                    }
                    Some(ot)
                } else {
                    None
                };
                Ok(())
            }
            "httpchk" => {
                o.httpchk = if on {
                    let args: Vec<&str> = words[at + 1..].iter().map(|w| w.text.as_str()).collect();
                    // HAProxy: one argument is the URI; two or more are METHOD URI [VERSION].
                    let (method, uri, version) = match args.as_slice() {
                        [] => ("OPTIONS", "/", "HTTP/1.0"),
                        [uri] => ("OPTIONS", *uri, "HTTP/1.0"),
                        [m, uri] => (*m, *uri, "HTTP/1.0"),
                        [m, uri, v, ..] => (*m, *uri, *v),
                    };
                    Some(HttpCheck {
                        method: method.to_string(),
                        uri: uri.to_string(),
                        version: version.to_string(),
                    })
                } else {
                    None
                };
                Ok(())
            }
            _ => {
                if keywords::HAPROXY_OPTIONS.contains(&name) {
                    return Err(Problem::new(
                        K::Unsupported,
                        w.col,
                        format!("'option {name}' is not supported by Wt Edge"),
                    )
                    .hint("remove it; see the README for the supported options"));
                }
                Err(
                    Problem::new(K::UnknownKeyword, w.col, format!("unknown option '{name}'"))
                        .maybe_hint(
                            closest(name, keywords::OPTIONS.iter().copied())
                                .map(|s| format!("did you mean 'option {s}'?")),
                        ),
                )
            }
        }
    }
}

impl Parser<'_> {
    /// `no option X`.
    pub(super) fn no_option(&mut self, words: &[Word]) -> Res {
        let w = word_arg(words, 1)?;
        if w.text != "option" {
            return Err(Problem::new(
                K::InvalidValue,
                w.col,
                "'no' must be followed by 'option'",
            ));
        }
        self.option(words, 2, false)
    }

    /// HAProxy 1.4's `redispatch`, read as `option redispatch`.
    pub(super) fn legacy_redispatch(&mut self, words: &[Word]) -> Res {
        self.settings().options.redispatch = true;
        self.warn(
            Problem::new(
                K::Legacy,
                words[0].col,
                "'redispatch' is HAProxy 1.4 syntax; read as 'option redispatch'",
            )
            .hint("write 'option redispatch'"),
        );
        Ok(())
    }
}
