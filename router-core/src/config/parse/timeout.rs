//! `timeout X TIME`.

use alloc::format;

use super::args::{extra_words, time_arg, word_arg};
use super::{Parser, Res};
use crate::config::keywords::{self, Where};
use crate::config::lexer::Word;
use crate::config::suggest::closest;
use crate::diag::DiagnosticKind as K;
use crate::problem::Problem;

impl Parser<'_> {
    pub(super) fn set_timeout(&mut self, which: &str, ms: u64) {
        let t = &mut self.settings().timeouts;
        let slot = match which {
            "connect" => &mut t.connect,
            "client" => &mut t.client,
            "server" => &mut t.server,
            "tunnel" => &mut t.tunnel,
            "queue" => &mut t.queue,
            "check" => &mut t.check,
            "http-request" => &mut t.http_request,
            "client-fin" => &mut t.client_fin,
            "server-fin" => &mut t.server_fin,
            _ => &mut t.http_keep_alive,
        };
        *slot = Some(ms);
    }

    pub(super) fn timeout(&mut self, words: &[Word]) -> Res {
        let w = word_arg(words, 1)?;
        let which = w.text.as_str();
        if !keywords::TIMEOUTS.contains(&which) {
            return Err(Problem::new(
                K::UnknownKeyword,
                w.col,
                format!("unknown timeout '{which}'"),
            )
            .maybe_hint(
                closest(which, keywords::TIMEOUTS.iter().copied())
                    .map(|s| format!("did you mean 'timeout {s}'?")),
            ));
        }
        let ms = time_arg(words, 2)?;
        extra_words(words, 3)?;
        let here = self.here();
        let backend_side = ["connect", "server", "tunnel", "queue", "check"];
        let frontend_side = ["client", "http-request", "http-keep-alive"];
        if (here == Where::Frontend && backend_side.contains(&which) && which != "tunnel")
            || (here == Where::Backend && frontend_side.contains(&which))
        {
            self.warn(
                Problem::new(
                    K::NotAllowedHere,
                    w.col,
                    format!(
                        "'timeout {which}' has no effect in a {} section; ignored",
                        self.section_name()
                    ),
                )
                .hint("set it in defaults or in the section that uses it"),
            );
            return Ok(());
        }
        self.set_timeout(which, ms);
        Ok(())
    }
}

impl Parser<'_> {
    /// HAProxy 1.4's `contimeout`, `clitimeout` and `srvtimeout`.
    pub(super) fn legacy_timeout(&mut self, words: &[Word]) -> Res {
        let kw = words[0].text.as_str();
        let modern = match kw {
            "contimeout" => "connect",
            "clitimeout" => "client",
            _ => "server",
        };
        let ms = time_arg(words, 1)?;
        self.set_timeout(modern, ms);
        let value = &words[1].text;
        self.warn(
            Problem::new(
                K::Legacy,
                words[0].col,
                format!("'{kw}' is HAProxy 1.4 syntax (a fatal error since HAProxy 2.1); read as 'timeout {modern} {value}'"),
            )
            .hint(format!("write 'timeout {modern} {value}'")),
        );
        Ok(())
    }
}
