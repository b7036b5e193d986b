//! Section and keyword dispatch for the haproxy.cfg dialect: a line goes to the
//! file named for its keyword (`bind.rs`, `server.rs`, `balance.rs`...).

mod acl;
mod args;
mod balance;
mod bind;
mod global;
mod http_reuse;
mod http_rules;
mod log;
mod maxconn;
mod mode;
mod option;
mod redirect;
mod retries;
mod section;
mod server;
mod stats_admin;
mod switching;
mod timeout;
mod tls_defaults;

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::acl::{AclScope, Condition, parse_condition};
use crate::config::keywords::{self, Where};
use crate::config::lexer::{LexError, Word, split_words};
use crate::config::model::*;
use crate::config::suggest::closest;
use crate::diag::{Diagnostic, DiagnosticKind as K};
use crate::problem::Problem;

pub(crate) use redirect::redirect_rule;

/// A `track` as written, resolved by validation.
pub struct PendingTrack {
    pub server: usize,
    pub spec: String,
    pub col: u32,
}

/// A `use-server` target, resolved by validation.
pub struct PendingUseServer {
    pub proxy: usize,
    pub rule: usize,
    pub col: u32,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    None,
    Global,
    Defaults,
    Proxy(usize),
    /// An unsupported section; its lines are skipped (the header was an error).
    Skipped,
}

/// The parser's output before validation.
pub struct Parser<'f> {
    pub file: &'f str,
    pub global: Global,
    pub proxies: Vec<Proxy>,
    pub servers: Vec<Server>,
    pub tracks: Vec<PendingTrack>,
    pub use_servers: Vec<PendingUseServer>,
    pub errors: Vec<Diagnostic>,
    pub warnings: Vec<Diagnostic>,
    defaults: Settings,
    defaults_backend: Option<(String, u32, u32)>,
    section: Section,
    line: u32,
    keyword: String,
    saw_switching_rule: Option<&'static str>,
    /// A `redirect` rule was seen in this section (HAProxy warns about a later
    /// `http-request`).
    saw_redirect: bool,
    /// The config was told that its TLS defaults have no effect (once).
    tls_warned: bool,
}

type Res = Result<(), Problem>;

impl<'f> Parser<'f> {
    /// Parses every line of `text`.
    pub fn run(file: &'f str, text: &str) -> Self {
        let mut p = Parser {
            file,
            global: Global::default(),
            proxies: Vec::new(),
            servers: Vec::new(),
            tracks: Vec::new(),
            use_servers: Vec::new(),
            errors: Vec::new(),
            warnings: Vec::new(),
            defaults: Settings::default(),
            defaults_backend: None,
            section: Section::None,
            line: 0,
            keyword: String::new(),
            saw_switching_rule: None,
            saw_redirect: false,
            tls_warned: false,
        };
        for (i, raw) in text.lines().enumerate() {
            p.line = u32::try_from(i + 1).unwrap_or(u32::MAX);
            let words = match split_words(raw) {
                Ok(w) => w,
                Err(e) => {
                    let (col, msg) = match e {
                        LexError::UnterminatedQuote(c) => (c, "unterminated quote"),
                        LexError::BadHexEscape(c) => {
                            (c, "'\\x' must be followed by two hex digits")
                        }
                        LexError::TrailingBackslash(c) => (c, "a backslash ends the line"),
                    };
                    p.keyword = String::new();
                    p.error(Problem::new(K::Syntax, col, msg));
                    continue;
                }
            };
            let Some(first) = words.first() else { continue };
            p.keyword = first.text.clone();
            if let Err(problem) = p.line_words(&words) {
                p.error(problem);
            }
        }
        p
    }

    fn diag(&self, problem: Problem) -> Diagnostic {
        Diagnostic {
            kind: problem.kind,
            file: String::from(self.file),
            line: self.line,
            column: problem.col.max(1),
            keyword: self.keyword.clone(),
            message: problem.message,
            hint: problem.hint,
        }
    }

    fn error(&mut self, problem: Problem) {
        let d = self.diag(problem);
        self.errors.push(d);
    }

    fn warn(&mut self, problem: Problem) {
        let d = self.diag(problem);
        self.warnings.push(d);
    }

    fn line_words(&mut self, words: &[Word]) -> Res {
        let kw = words[0].text.as_str();
        if let Some(kind) = keywords::section_kind(kw) {
            return self.section_header(kind, words);
        }
        if keywords::UNSUPPORTED_SECTIONS.contains(&kw) {
            self.section = Section::Skipped;
            return Err(Problem::new(
                K::Unsupported,
                words[0].col,
                format!("'{kw}' sections are not supported by Wt Edge"),
            )
            .hint("remove the section; its lines are skipped"));
        }
        match self.section {
            Section::Skipped => Ok(()),
            Section::None => Err(Problem::new(
                K::UnknownKeyword,
                words[0].col,
                format!("'{kw}' outside of any section"),
            )
            .hint("start a section first: global, defaults, frontend NAME, backend NAME or listen NAME")),
            Section::Global => self.global_keyword(words),
            Section::Defaults | Section::Proxy(_) => self.proxy_keyword(words),
        }
    }

    fn here(&self) -> Where {
        match self.section {
            Section::Proxy(i) => match self.proxies[i].kind {
                ProxyKind::Frontend => Where::Frontend,
                ProxyKind::Backend => Where::Backend,
                ProxyKind::Listen => Where::Listen,
            },
            _ => Where::Defaults,
        }
    }

    fn section_name(&self) -> &'static str {
        match self.here() {
            Where::Frontend => "frontend",
            Where::Backend => "backend",
            Where::Listen => "listen",
            Where::Defaults => "defaults",
        }
    }

    fn settings(&mut self) -> &mut Settings {
        match self.section {
            Section::Proxy(i) => &mut self.proxies[i].settings,
            _ => &mut self.defaults,
        }
    }

    fn proxy_keyword(&mut self, words: &[Word]) -> Res {
        let kw = words[0].text.as_str();
        let here = self.here();
        // `option X` / `no option X` / `timeout X` name the keyword with their argument.
        let full_kw = match (kw, words.get(1), words.get(2)) {
            ("option" | "timeout", Some(w), _) => format!("{kw} {}", w.text),
            ("no", Some(o), Some(w)) if o.text == "option" => format!("no option {}", w.text),
            _ => kw.to_string(),
        };
        self.keyword = full_kw;
        if kw == "stats" && words.get(1).is_some_and(|w| w.text == "admin") {
            return self.stats_admin(words);
        }
        if kw == "stats" {
            return crate::config::stats::parse_proxy(words, &mut self.settings().stats);
        }
        let Some(spec) = keywords::proxy_keyword(kw) else {
            if keywords::HAPROXY_PROXY.contains(&kw) {
                return Err(Problem::new(
                    K::Unsupported,
                    words[0].col,
                    format!("'{kw}' is not supported by Wt Edge yet"),
                )
                .hint(keywords::nearest_supported(kw)));
            }
            let names = keywords::PROXY.iter().map(|k| k.name);
            return Err(Problem::new(
                K::UnknownKeyword,
                words[0].col,
                format!(
                    "unknown keyword '{kw}' in '{}' section",
                    self.section_name()
                ),
            )
            .maybe_hint(closest(kw, names).map(|s| format!("did you mean '{s}'?"))));
        };
        if !spec.allowed.contains(&here) {
            let problem = Problem::new(
                K::NotAllowedHere,
                words[0].col,
                format!(
                    "'{kw}' is not allowed in a '{}' section",
                    self.section_name()
                ),
            )
            .hint(spec.where_hint);
            if spec.ignored_elsewhere && here != Where::Defaults {
                // HAProxy warns and ignores settings a proxy cannot use.
                let mut p = problem;
                p.message.push_str("; ignored");
                self.warn(p);
                return Ok(());
            }
            return Err(problem);
        }
        match kw {
            "mode" => self.mode(words),
            "bind" => self.bind(words),
            "option" => self.option(words, 1, true),
            "no" if words.get(1).is_some_and(|w| w.text == "log") => self.no_log(words),
            "no" => self.no_option(words),
            "timeout" => self.timeout(words),
            "contimeout" | "clitimeout" | "srvtimeout" => self.legacy_timeout(words),
            "errorfile" => {
                // The page itself is read and checked in `config/errorfile.rs`.
                let ef = crate::config::errorfile::parse_keyword(words, self.line)?;
                let pages = &mut self.settings().errorfiles;
                pages.retain(|p| p.status != ef.status);
                pages.push(ef);
                Ok(())
            }
            "redispatch" => self.legacy_redispatch(words),
            "http-reuse" => self.http_reuse(words),
            "retries" => self.retries(words),
            "maxconn" => self.maxconn(words),
            "balance" => self.balance(words),
            "hash-type" => self.hash_type(words),
            "log" => self.log(words),
            "default-server" => self.default_server(words),
            "default_backend" => self.default_backend(words),
            "acl" => self.acl(words),
            "redirect" => self.redirect(words),
            "http-request" => self.http_request(words),
            "http-response" => self.http_response(words),
            "use_backend" => self.use_backend(words),
            "use-server" => self.use_server(words),
            "server" => self.server(words),
            _ => Err(Problem::new(
                K::UnknownKeyword,
                words[0].col,
                format!("unknown keyword '{kw}'"),
            )),
        }
    }

    fn current(&mut self) -> Result<usize, Problem> {
        match self.section {
            Section::Proxy(i) => Ok(i),
            _ => Err(Problem::new(
                K::NotAllowedHere,
                1,
                "not allowed in 'defaults'",
            )),
        }
    }

    /// Parses the condition starting at `words[at]` (`if`/`unless`), if any.
    fn condition(&mut self, words: &[Word], at: usize) -> Result<Option<Condition>, Problem> {
        let Some(w) = words.get(at) else {
            return Ok(None);
        };
        if w.text != "if" && w.text != "unless" {
            return Err(
                Problem::new(K::InvalidValue, w.col, format!("unexpected '{}'", w.text))
                    .hint("a condition starts with 'if' or 'unless'"),
            );
        }
        let i = self.current()?;
        let (earlier, rest) = self.proxies.split_at_mut(i);
        let proxy = &mut rest[0];
        let mut warnings = Vec::new();
        let mut scope = AclScope {
            acls: &mut proxy.acls,
            earlier,
            borrow: proxy.kind == ProxyKind::Backend,
            warnings: &mut warnings,
            line: self.line,
        };
        let cond = parse_condition(&words[at..], &mut scope);
        for p in warnings {
            self.warn(p);
        }
        cond.map(Some)
    }
}
