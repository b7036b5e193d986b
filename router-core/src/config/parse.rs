//! Section and keyword dispatch for the haproxy.cfg dialect.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::addr::{parse_port, parse_server_host, split_host_port};
use super::keywords::{self, Where};
use super::lexer::{LexError, Word, split_words};
use super::model::*;
use super::suggest::closest;
use super::time::parse_ms;
use crate::acl::matcher::parse_net;
use crate::acl::{AclDef, AclOrigin, AclScope, Condition, parse_acl_term, parse_condition};
use crate::diag::{Diagnostic, DiagnosticKind as K};
use crate::problem::Problem;

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

    fn section_header(&mut self, kind: &str, words: &[Word]) -> Res {
        self.saw_switching_rule = None;
        self.saw_redirect = false;
        match kind {
            "global" => {
                self.section = Section::Global;
                Ok(())
            }
            "defaults" => {
                if words.len() > 1 {
                    self.section = Section::Skipped;
                    return Err(Problem::new(
                        K::Unsupported,
                        words[1].col,
                        "named defaults sections are not supported by Wt Edge",
                    )
                    .hint("write 'defaults' without a name"));
                }
                self.section = Section::Defaults;
                self.defaults = Settings::default();
                self.defaults_backend = None;
                Ok(())
            }
            _ => {
                let kind = match kind {
                    "frontend" => ProxyKind::Frontend,
                    "backend" => ProxyKind::Backend,
                    _ => ProxyKind::Listen,
                };
                self.section = Section::Skipped;
                let Some(name_word) = words.get(1) else {
                    return Err(Problem::new(
                        K::MissingArgument,
                        words[0].col,
                        format!("'{}' needs a name", words[0].text),
                    )
                    .hint(format!("write '{} NAME'", words[0].text)));
                };
                let mut binds = Vec::new();
                let mut name = name_word.text.clone();
                let mut legacy_addr = None;
                if kind == ProxyKind::Listen && name.contains(':') {
                    // HAProxy 1.4: `listen 0.0.0.0:8181` (an address where the name goes).
                    legacy_addr = Some(name_word);
                } else if let Some(bad) = bad_char(&name, "-_.:") {
                    return Err(Problem::new(
                        K::InvalidValue,
                        name_word.col,
                        format!("invalid character '{bad}' in section name '{name}'"),
                    )
                    .hint("names use letters, digits, '-', '_', '.' and ':'"));
                }
                if let Some(addr_word) = words.get(2) {
                    if kind == ProxyKind::Listen && legacy_addr.is_none() {
                        legacy_addr = Some(addr_word);
                    } else if addr_word.text == "from" {
                        return Err(Problem::new(
                            K::Unsupported,
                            addr_word.col,
                            "'from' (named defaults) is not supported by Wt Edge",
                        ));
                    } else {
                        return Err(Problem::new(
                            K::InvalidValue,
                            addr_word.col,
                            format!("unexpected '{}' after the section name", addr_word.text),
                        ));
                    }
                }
                if let Some(addr) = legacy_addr {
                    let (parsed, _) = parse_bind_list(&addr.text, addr.col, self.line)?;
                    binds = parsed;
                    let modern_name = if addr.text == name {
                        "NAME"
                    } else {
                        name.as_str()
                    };
                    self.warn(
                        Problem::new(
                            K::Legacy,
                            addr.col,
                            format!("'listen' with an address is HAProxy 1.4 syntax (refused since 1.6); read as a listen section bound to {}", addr.text),
                        )
                        .hint(format!("write 'listen {modern_name}' and on the next line 'bind {}'", addr.text)),
                    );
                    if addr.text == name {
                        name = addr.text.clone();
                    }
                }
                let dup = self.proxies.iter().find(|p| {
                    p.name == name
                        && ((p.kind.is_frontend() && kind.is_frontend())
                            || (p.kind.is_backend() && kind.is_backend()))
                });
                if let Some(prev) = dup {
                    return Err(Problem::new(
                        K::Duplicate,
                        name_word.col,
                        format!("'{name}' is already declared at line {}", prev.line),
                    )
                    .hint("give each frontend and each backend a unique name"));
                }
                let default_backend = if kind.is_frontend() {
                    self.defaults_backend.as_ref().map(|(n, l, c)| BackendRef {
                        name: n.clone(),
                        id: ProxyId(u16::MAX),
                        line: *l,
                        col: *c,
                    })
                } else {
                    None
                };
                if u16::try_from(self.proxies.len() + 1).is_err() {
                    return Err(Problem::new(
                        K::InvalidValue,
                        name_word.col,
                        "too many sections",
                    ));
                }
                self.proxies.push(Proxy {
                    name,
                    kind,
                    line: self.line,
                    binds,
                    settings: self.defaults.clone(),
                    acls: Vec::new(),
                    redirects: Vec::new(),
                    http_requests: Vec::new(),
                    http_responses: Vec::new(),
                    use_backends: Vec::new(),
                    default_backend,
                    use_servers: Vec::new(),
                    servers: Vec::new(),
                });
                self.section = Section::Proxy(self.proxies.len() - 1);
                Ok(())
            }
        }
    }

    fn global_keyword(&mut self, words: &[Word]) -> Res {
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
            if let Some(s) = super::stats::parse_global(words, line)? {
                self.global.stats_sockets.push(s);
            }
            return Ok(());
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
            return super::stats::parse_proxy(words, &mut self.settings().stats);
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
            "mode" => {
                let w = word_arg(words, 1)?;
                extra_words(words, 2)?;
                match w.text.as_str() {
                    "http" => {
                        self.settings().mode = Mode::Http;
                        self.settings().mode_set = true;
                    }
                    "tcp" => {
                        return Err(Problem::new(
                            K::Unsupported,
                            w.col,
                            "'mode tcp' is not supported by Wt Edge",
                        )
                        .hint("Wt Edge routes HTTP: use 'mode http'"));
                    }
                    other => {
                        return Err(Problem::new(
                            K::InvalidValue,
                            w.col,
                            format!("unknown mode '{other}'"),
                        )
                        .hint("use 'mode http'"));
                    }
                }
            }
            "bind" => self.bind(words)?,
            "option" => self.option(words, 1, true)?,
            "no" if words.get(1).is_some_and(|w| w.text == "log") => {
                extra_words(words, 2)?;
                self.settings().log.clear();
            }
            "no" => {
                let w = word_arg(words, 1)?;
                if w.text != "option" {
                    return Err(Problem::new(
                        K::InvalidValue,
                        w.col,
                        "'no' must be followed by 'option'",
                    ));
                }
                self.option(words, 2, false)?;
            }
            "timeout" => self.timeout(words)?,
            "errorfile" => {
                let ef = super::errorfile::parse_keyword(words, self.line)?;
                let pages = &mut self.settings().errorfiles;
                pages.retain(|p| p.status != ef.status);
                pages.push(ef);
            }
            "contimeout" | "clitimeout" | "srvtimeout" => {
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
            }
            "redispatch" => {
                self.settings().options.redispatch = true;
                self.warn(
                    Problem::new(
                        K::Legacy,
                        words[0].col,
                        "'redispatch' is HAProxy 1.4 syntax; read as 'option redispatch'",
                    )
                    .hint("write 'option redispatch'"),
                );
            }
            "http-reuse" => {
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
            }
            "retries" => {
                self.settings().retries = int_arg(words, 1)?;
                extra_words(words, 2)?;
            }
            "maxconn" => {
                self.settings().maxconn = Some(int_arg(words, 1)?);
                extra_words(words, 2)?;
            }
            "balance" => {
                self.settings().balance = parse_balance(words)?;
            }
            "hash-type" => {
                self.settings().hash_type = parse_hash_type(words)?;
            }
            "log" => {
                check_log(words, false)?;
                let rest: Vec<&str> = words[1..].iter().map(|w| w.text.as_str()).collect();
                self.settings().log.push(rest.join(" "));
            }
            "default-server" => {
                let mut params = self.settings().default_server.clone();
                if let Some(w) = words.iter().skip(1).find(|w| w.text == "track") {
                    return Err(Problem::new(
                        K::NotAllowedHere,
                        w.col,
                        "'track' is not allowed on 'default-server'",
                    ));
                }
                let mut track = None;
                server_params(words, 1, &mut params, &mut track)?;
                self.settings().default_server = params;
            }
            "default_backend" => {
                let w = word_arg(words, 1)?;
                extra_words(words, 2)?;
                match self.section {
                    Section::Proxy(i) => {
                        self.proxies[i].default_backend = Some(BackendRef {
                            name: w.text.clone(),
                            id: ProxyId(u16::MAX),
                            line: self.line,
                            col: w.col,
                        });
                    }
                    _ => self.defaults_backend = Some((w.text.clone(), self.line, w.col)),
                }
            }
            "acl" => self.acl(words)?,
            "redirect" => self.redirect(words)?,
            "http-request" => self.http_request(words)?,
            #[cfg(feature = "response")]
            "http-response" => self.http_response(words)?,
            #[cfg(not(feature = "response"))]
            "http-response" => {
                return Err(Problem::new(
                    K::Unsupported,
                    words[0].col,
                    "'http-response' rules are not applied by the Worker yet (wtedge applies them)",
                )
                .hint("remove the http-response rules from the edge's config, or set the headers in the application"));
            }
            "use_backend" => self.use_backend(words)?,
            "use-server" => self.use_server(words)?,
            "server" => self.server(words)?,
            _ => {
                return Err(Problem::new(
                    K::UnknownKeyword,
                    words[0].col,
                    format!("unknown keyword '{kw}'"),
                ));
            }
        }
        Ok(())
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

    fn bind(&mut self, words: &[Word]) -> Res {
        let i = self.current()?;
        let w = word_arg(words, 1)?;
        let (binds, _) = parse_bind_list(&w.text, w.col, self.line)?;
        let mut k = 2;
        while let Some(opt) = words.get(k) {
            match opt.text.as_str() {
                "name" | "id" => {
                    word_arg(words, k + 1)?;
                    k += 2;
                    continue;
                }
                "v4v6" | "v6only" => {}
                "ssl" | "crt" | "ca-file" | "alpn" | "npn" | "verify" | "crt-list" => {
                    return Err(Problem::new(K::Unsupported, opt.col, format!("bind option '{}' (TLS) is not supported by wtedge", opt.text))
                        .hint("terminate TLS in front of wtedge, or deploy to the edge where Cloudflare terminates it"));
                }
                other => {
                    return Err(Problem::new(
                        K::Unsupported,
                        opt.col,
                        format!("bind option '{other}' is not supported by Wt Edge"),
                    )
                    .hint("supported bind options: name, id, v4v6, v6only"));
                }
            }
            k += 1;
        }
        self.proxies[i].binds.extend(binds);
        Ok(())
    }

    fn option(&mut self, words: &[Word], at: usize, on: bool) -> Res {
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

    fn set_timeout(&mut self, which: &str, ms: u64) {
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

    fn timeout(&mut self, words: &[Word]) -> Res {
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

    fn acl(&mut self, words: &[Word]) -> Res {
        let i = self.current()?;
        let name_word = word_arg(words, 1)?;
        let name = name_word.text.as_str();
        if let Some(bad) = bad_char(name, "-_.:") {
            return Err(Problem::new(
                K::InvalidValue,
                name_word.col,
                format!("invalid character '{bad}' in ACL name '{name}'"),
            )
            .hint("ACL names use letters, digits, '-', '_', '.' and ':'"));
        }
        if name.eq_ignore_ascii_case("or") {
            return Err(Problem::new(
                K::InvalidValue,
                name_word.col,
                "an ACL named 'or' would never match: 'or' separates the terms of a condition",
            )
            .hint("choose another name"));
        }
        if words.len() < 3 {
            return Err(Problem::new(
                K::MissingArgument,
                name_word.col,
                format!("'acl {name}' needs a fetch and patterns"),
            )
            .hint("write e.g. 'acl srv1 url_sub wtd=wt1'"));
        }
        let term = parse_acl_term(&words[2..], self.line)?;
        if term.patterns.is_empty()
            && !term.matcher.takes_none()
            && !words.iter().any(|w| w.text == "--" && !w.quoted)
        {
            self.warn(Problem::new(K::InvalidValue, words[2].col, format!("ACL '{name}' has no pattern and will never match"))
                .hint("add a pattern, use '-m found' to test existence, or add '--' if this is intended"));
        }
        let acls = &mut self.proxies[i].acls;
        match acls
            .iter_mut()
            .find(|a| a.name == name && a.origin == AclOrigin::Declared)
        {
            Some(def) => def.terms.push(term),
            None => acls.push(AclDef {
                name: name.to_string(),
                origin: AclOrigin::Declared,
                line: self.line,
                terms: alloc::vec![term],
            }),
        }
        Ok(())
    }

    /// `stats admin if|unless COND` (HAProxy refuses it in `defaults`).
    fn stats_admin(&mut self, words: &[Word]) -> Res {
        if !matches!(self.section, Section::Proxy(_)) {
            return Err(Problem::new(
                K::NotAllowedHere,
                words[0].col,
                "'stats admin' not allowed in 'defaults' section",
            )
            .hint("write 'stats admin if COND' in the frontend or listen section"));
        }
        if !words
            .get(2)
            .is_some_and(|w| w.text == "if" || w.text == "unless")
            || words.len() < 4
        {
            return Err(Problem::new(
                K::MissingArgument,
                words[0].col,
                "'stats admin' requires either 'if <cond>' or 'unless <cond>'",
            )
            .hint("stats admin if { src 127.0.0.1 }"));
        }
        let cond = self.condition(words, 2)?;
        self.settings().stats.enabled = true;
        self.settings().stats.admin = cond;
        Ok(())
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

    fn redirect(&mut self, words: &[Word]) -> Res {
        let i = self.current()?;
        let (mut rule, k) = redirect_rule(words, 1)?;
        let cond = self.condition(words, k)?;
        if let Some(rule) = self.saw_switching_rule {
            self.warn(
                Problem::new(
                    K::RedirectAfterUseBackend,
                    words[0].col,
                    format!("a 'redirect' rule placed after a '{rule}' rule will still be processed before"),
                )
                .hint(format!("move the redirect before the {rule} rules")),
            );
        }
        rule.line = self.line;
        rule.cond = cond;
        self.saw_redirect = true;
        self.proxies[i].redirects.push(rule);
        Ok(())
    }

    #[cfg(feature = "response")]
    fn http_response(&mut self, words: &[Word]) -> Res {
        let i = self.current()?;
        let (action, k) = crate::rules::response_parse::action(words)?;
        let cond = self.condition(words, k)?;
        if let Some(c) = &cond {
            crate::rules::response_parse::check_condition(c, &self.proxies[i].acls, words[0].col)?;
        }
        self.proxies[i].http_responses.push(crate::rules::HttpRule {
            line: self.line,
            action,
            cond,
        });
        Ok(())
    }

    fn http_request(&mut self, words: &[Word]) -> Res {
        let i = self.current()?;
        let (action, k) = crate::rules::parse::action(words)?;
        let cond = self.condition(words, k)?;
        let after = if self.saw_redirect {
            Some("redirect")
        } else {
            self.saw_switching_rule
        };
        if let Some(rule) = after {
            self.warn(
                Problem::new(
                    K::RedirectAfterUseBackend,
                    words[0].col,
                    format!("a 'http-request' rule placed after a '{rule}' rule will still be processed before"),
                )
                .hint(format!("move the http-request rules before the {rule} rules")),
            );
        }
        self.proxies[i].http_requests.push(crate::rules::HttpRule {
            line: self.line,
            action,
            cond,
        });
        Ok(())
    }

    fn use_backend(&mut self, words: &[Word]) -> Res {
        let i = self.current()?;
        let w = word_arg(words, 1)?;
        if w.text.contains('%') {
            return Err(Problem::new(
                K::Unsupported,
                w.col,
                "dynamic backend names (log-format) are not supported by Wt Edge",
            )
            .hint("write one use_backend rule per backend"));
        }
        let cond = self.condition(words, 2)?;
        self.saw_switching_rule = Some("use_backend");
        self.proxies[i].use_backends.push(UseBackendRule {
            backend: BackendRef {
                name: w.text.clone(),
                id: ProxyId(u16::MAX),
                line: self.line,
                col: w.col,
            },
            cond,
        });
        Ok(())
    }

    fn use_server(&mut self, words: &[Word]) -> Res {
        let i = self.current()?;
        let w = word_arg(words, 1)?;
        if words.get(2).is_none() {
            return Err(Problem::new(
                K::MissingArgument,
                w.col,
                "'use-server' requires either 'if' or 'unless' followed by a condition",
            )
            .hint(format!("write 'use-server {} if COND'", w.text)));
        }
        let cond = self.condition(words, 2)?;
        self.saw_switching_rule.get_or_insert("use-server");
        self.use_servers.push(PendingUseServer {
            proxy: i,
            rule: self.proxies[i].use_servers.len(),
            col: w.col,
        });
        self.proxies[i].use_servers.push(UseServerRule {
            line: self.line,
            name: w.text.clone(),
            server: ServerId(u32::MAX),
            cond,
        });
        Ok(())
    }

    fn server(&mut self, words: &[Word]) -> Res {
        let i = self.current()?;
        let name_word = word_arg(words, 1)?;
        let addr_word = words.get(2).ok_or_else(|| {
            Problem::new(
                K::MissingArgument,
                name_word.col,
                format!("server '{}' needs an address", name_word.text),
            )
            .hint("write 'server NAME ADDRESS:PORT [check]'")
        })?;
        if self.proxies[i]
            .servers
            .iter()
            .any(|s| self.servers[s.0 as usize].name == name_word.text)
        {
            return Err(Problem::new(
                K::Duplicate,
                name_word.col,
                format!(
                    "server '{}' is already declared in this backend",
                    name_word.text
                ),
            ));
        }
        let (host_text, port_text) = split_host_port(&addr_word.text);
        let host = parse_server_host(host_text).ok_or_else(|| {
            Problem::new(
                K::InvalidValue,
                addr_word.col,
                format!("invalid server address '{}'", addr_word.text),
            )
            .hint("write an IP address or a DNS name, then ':PORT'")
        })?;
        let port = match port_text {
            // `:0`, like no port, means the port the client connected to (HAProxy).
            None | Some("") | Some("0") => None,
            Some(p) => Some(parse_port(p).ok_or_else(|| {
                Problem::new(
                    K::InvalidValue,
                    addr_word.col,
                    format!("invalid port '{p}' in '{}'", addr_word.text),
                )
                .hint("ports are 1-65535; port offsets (+N) and ranges are not supported")
            })?),
        };
        let mut params = self.proxies[i].settings.default_server.clone();
        let mut track = None;
        server_params(words, 3, &mut params, &mut track)?;
        let id = ServerId(
            u32::try_from(self.servers.len())
                .map_err(|_| Problem::new(K::InvalidValue, 1, "too many servers"))?,
        );
        if let Some((spec, col)) = track {
            self.tracks.push(PendingTrack {
                server: self.servers.len(),
                spec,
                col,
            });
        }
        self.servers.push(Server {
            name: name_word.text.clone(),
            proxy: ProxyId(u16::try_from(i).unwrap_or(u16::MAX)),
            line: self.line,
            host,
            addr_col: addr_word.col,
            port,
            params,
            track: None,
            health_source: id,
        });
        self.proxies[i].servers.push(id);
        Ok(())
    }
}

fn server_params(
    words: &[Word],
    from: usize,
    p: &mut ServerParams,
    track: &mut Option<(String, u32)>,
) -> Res {
    let mut k = from;
    while let Some(w) = words.get(k) {
        let mut takes = 1;
        match w.text.as_str() {
            "check" => p.check = true,
            "no-check" => p.check = false,
            "backup" => p.backup = true,
            "no-backup" => p.backup = false,
            "disabled" => p.disabled = true,
            "enabled" => p.disabled = false,
            "ssl" => p.ssl = true,
            "no-ssl" => p.ssl = false,
            "inter" => {
                p.inter = time_arg(words, k + 1)?;
                if p.inter == 0 {
                    return Err(Problem::new(
                        K::InvalidValue,
                        words[k + 1].col,
                        "'inter' must be greater than 0",
                    )
                    .hint("write e.g. 'inter 2s'"));
                }
                takes = 2;
            }
            "fastinter" | "downinter" => {
                let v = time_arg(words, k + 1)?;
                if v == 0 {
                    return Err(Problem::new(
                        K::InvalidValue,
                        words[k + 1].col,
                        format!("'{}' must be greater than 0", w.text),
                    )
                    .hint("write e.g. '500ms'"));
                }
                if w.text == "fastinter" {
                    p.fastinter = Some(v);
                } else {
                    p.downinter = Some(v);
                }
                takes = 2;
            }
            "rise" => {
                p.rise = positive(words, k + 1)?;
                takes = 2;
            }
            "fall" => {
                p.fall = positive(words, k + 1)?;
                takes = 2;
            }
            "weight" => {
                let v: u32 = int_arg(words, k + 1)?;
                if v > 256 {
                    return Err(Problem::new(
                        K::InvalidValue,
                        words[k + 1].col,
                        format!("weight {v} is out of range"),
                    )
                    .hint("weights are 0 to 256"));
                }
                p.weight = v;
                takes = 2;
            }
            "maxconn" => {
                p.maxconn = Some(int_arg(words, k + 1)?);
                takes = 2;
            }
            "maxqueue" => {
                p.maxqueue = Some(int_arg(words, k + 1)?);
                takes = 2;
            }
            "pool-max-conn" => {
                let v = word_arg(words, k + 1)?;
                // -1: no limit, as HAProxy.
                p.pool_max_conn = match v.text.parse::<i64>() {
                    Ok(-1) => None,
                    Ok(n) if (0..=i64::from(u32::MAX)).contains(&n) => Some(n as u32),
                    _ => {
                        return Err(Problem::new(
                            K::InvalidValue,
                            v.col,
                            format!("invalid 'pool-max-conn' value '{}'", v.text),
                        )
                        .hint("write a number of connections, or -1 for no limit"));
                    }
                };
                takes = 2;
            }
            "pool-purge-delay" => {
                p.pool_purge_delay = time_arg(words, k + 1)?;
                takes = 2;
            }
            "pool-low-conn" => {
                p.pool_low_conn = int_arg(words, k + 1)?;
                takes = 2;
            }
            "port" => {
                let v = word_arg(words, k + 1)?;
                p.check_port = Some(parse_port(&v.text).ok_or_else(|| {
                    Problem::new(
                        K::InvalidValue,
                        v.col,
                        format!("invalid check port '{}'", v.text),
                    )
                })?);
                takes = 2;
            }
            "verify" => {
                let v = word_arg(words, k + 1)?;
                p.verify = match v.text.as_str() {
                    "none" => false,
                    "required" => true,
                    other => {
                        return Err(Problem::new(
                            K::InvalidValue,
                            v.col,
                            format!("invalid verify mode '{other}'"),
                        )
                        .hint("use 'verify none' or 'verify required'"));
                    }
                };
                takes = 2;
            }
            "track" => {
                let v = word_arg(words, k + 1)?;
                *track = Some((v.text.clone(), v.col));
                takes = 2;
            }
            "cookie" => {
                return Err(Problem::new(K::Unsupported, w.col, "cookie persistence is not supported by Wt Edge")
                    .hint("Wt session affinity comes from the session-id prefix: acl srv1 url_sub wtd=wt1"));
            }
            other => {
                if keywords::HAPROXY_SERVER.contains(&other) {
                    return Err(Problem::new(
                        K::Unsupported,
                        w.col,
                        format!("server option '{other}' is not supported by Wt Edge"),
                    ));
                }
                return Err(Problem::new(
                    K::UnknownKeyword,
                    w.col,
                    format!("unknown server option '{other}'"),
                )
                .maybe_hint(
                    closest(other, keywords::SERVER.iter().copied())
                        .map(|s| format!("did you mean '{s}'?")),
                ));
            }
        }
        k += takes;
    }
    Ok(())
}

/// Parses `a:1,b:2` bind lists.
fn parse_bind_list(text: &str, col: u32, line: u32) -> Result<(Vec<Bind>, ()), Problem> {
    let mut out = Vec::new();
    for part in text.split(',') {
        let (host, port) = split_host_port(part);
        let Some(port) = port else {
            return Err(Problem::new(
                K::InvalidValue,
                col,
                format!("bind address '{part}' has no port"),
            )
            .hint("write e.g. 'bind :80' or 'bind 127.0.0.1:8080'"));
        };
        if port.contains('-') {
            return Err(Problem::new(
                K::Unsupported,
                col,
                format!("port ranges ('{port}') are not supported by Wt Edge"),
            )
            .hint("write one port per address"));
        }
        let port = parse_port(port).ok_or_else(|| {
            Problem::new(K::InvalidValue, col, format!("invalid port '{port}'"))
                .hint("ports are 1-65535")
        })?;
        let host = match host {
            "" | "*" => None,
            h => Some(h.parse().map_err(|_| {
                Problem::new(K::InvalidValue, col, format!("invalid bind address '{h}'"))
                    .hint("bind takes an IP address (or '*'), not a name")
            })?),
        };
        out.push(Bind { host, port, line });
    }
    Ok((out, ()))
}

/// Syslog facilities HAProxy knows.
const FACILITIES: &[&str] = &[
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "auth2",
    "ftp", "ntp", "audit", "alert", "cron2", "local0", "local1", "local2", "local3", "local4",
    "local5", "local6", "local7",
];

/// `log global` | `log [len N] [format F] [sample R:S] ADDRESS FACILITY [LEVEL [MINLEVEL]]`,
/// checked as HAProxy does (the target is kept, never contacted).
fn check_log(words: &[Word], in_global: bool) -> Res {
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

fn word_arg(words: &[Word], i: usize) -> Result<&Word, Problem> {
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

/// A global keyword's argument: HAProxy 2.6 reads an empty one (`''`) as missing.
fn global_arg(words: &[Word]) -> Result<&Word, Problem> {
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
fn atol(text: &str) -> i64 {
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

/// The first character of `name` that is neither a letter, a digit nor in `extra`.
fn bad_char(name: &str, extra: &str) -> Option<char> {
    name.chars()
        .find(|c| !(c.is_ascii_alphanumeric() || extra.contains(*c)))
}

/// HAProxy 2.6's limit for `nbthread` (MAX_THREADS on 64-bit builds).
const MAX_THREADS: u32 = 64;

fn int_arg<T: core::str::FromStr>(words: &[Word], i: usize) -> Result<T, Problem> {
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

fn positive(words: &[Word], i: usize) -> Result<u32, Problem> {
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

fn time_arg(words: &[Word], i: usize) -> Result<u64, Problem> {
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

fn net_arg(w: &Word) -> Result<IpNet, Problem> {
    parse_net(&w.text).ok_or_else(|| {
        Problem::new(
            K::InvalidValue,
            w.col,
            format!("'{}' is not an address or network", w.text),
        )
        .hint("write e.g. 127.0.0.0/8")
    })
}

/// `balance ALGO [ARGS]`, as HAProxy 2.6's `backend_parse_balance()` reads it.
fn parse_balance(words: &[Word]) -> Result<Balance, Problem> {
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
fn parse_hash_type(words: &[Word]) -> Result<HashType, Problem> {
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

/// A `redirect` rule's words from `words[at]` (its kind) up to its condition;
/// returns the rule (line 0, no condition) and where the condition may start.
/// Shared by `redirect` and `http-request redirect`.
pub(crate) fn redirect_rule(words: &[Word], at: usize) -> Result<(RedirectRule, usize), Problem> {
    let kind_word = word_arg(words, at)?;
    let kind = match kind_word.text.as_str() {
        "location" => RedirectKind::Location,
        "prefix" => RedirectKind::Prefix,
        "scheme" => RedirectKind::Scheme,
        other => {
            return Err(Problem::new(
                K::InvalidValue,
                kind_word.col,
                format!("unknown redirect type '{other}'"),
            )
            .hint("use 'redirect location <url>', 'redirect prefix <prefix>' or 'redirect scheme <scheme>'"));
        }
    };
    let to_word = word_arg(words, at + 1)?;
    // HAProxy 2.6 sends a plain redirect string as written (no log-format).
    let to = to_word.text.clone();
    let mut code = 302;
    let (mut drop_query, mut append_slash) = (false, false);
    let mut k = at + 2;
    while let Some(w) = words.get(k) {
        match w.text.as_str() {
            "code" => {
                let c = word_arg(words, k + 1)?;
                code = match c.text.parse::<u16>() {
                    Ok(n @ (301 | 302 | 303 | 307 | 308)) => n,
                    _ => {
                        return Err(Problem::new(
                            K::InvalidValue,
                            c.col,
                            format!("invalid redirect code '{}'", c.text),
                        )
                        .hint("use 301, 302, 303, 307 or 308"));
                    }
                };
                k += 2;
            }
            "drop-query" => {
                drop_query = true;
                k += 1;
            }
            "append-slash" => {
                append_slash = true;
                k += 1;
            }
            "if" | "unless" => break,
            "set-cookie" | "clear-cookie" | "ignore-empty" => {
                return Err(Problem::new(
                    K::Unsupported,
                    w.col,
                    format!(
                        "redirect option '{}' is not supported by Wt Edge yet",
                        w.text
                    ),
                )
                .hint("remove it; set cookies in the application"));
            }
            other => {
                return Err(Problem::new(
                    K::InvalidValue,
                    w.col,
                    format!("unexpected '{other}' in redirect"),
                )
                .hint("options are: code N, drop-query, append-slash, then if/unless COND"));
            }
        }
    }
    Ok((
        RedirectRule {
            line: 0,
            kind,
            to,
            code,
            drop_query,
            append_slash,
            cond: None,
        },
        k,
    ))
}

fn extra_words(words: &[Word], from: usize) -> Res {
    match words.get(from) {
        Some(w) => Err(
            Problem::new(K::InvalidValue, w.col, format!("unexpected '{}'", w.text))
                .hint("remove the extra words"),
        ),
        None => Ok(()),
    }
}
