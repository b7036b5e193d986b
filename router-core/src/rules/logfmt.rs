//! Log-format strings (`X-Forwarded-Proto %[ssl_fc]`, `%[hdr(host),lower]`), as
//! far as `http-request` rules need them: literal text, `%%`, and `%[FETCH,CONV…]`
//! with the fetches and converters below. Anything else is refused at load time,
//! never sent literally.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt::Write;
use serde::Serialize;

use crate::acl::fetch::{path_of, split_values};
use crate::diag::DiagnosticKind as K;
use crate::problem::Problem;
use crate::request::RequestFacts;

/// A parsed log-format string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct LogFormat {
    /// Its pieces, in order.
    pub parts: Vec<Part>,
}

/// A piece of a log-format string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Part {
    /// Literal text.
    Text(String),
    /// `%[fetch,conv…]`.
    Sample {
        /// What is fetched.
        fetch: SampleFetch,
        /// Converters applied in order.
        convs: Vec<Conv>,
    },
}

/// The fetches a log-format value can use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SampleFetch {
    /// `src`: the client address.
    Src,
    /// `dst`: the local address.
    Dst,
    /// `src_port`.
    SrcPort,
    /// `dst_port`.
    DstPort,
    /// `hdr(NAME)` / `req.hdr(NAME)`: the last comma-separated value (HAProxy's
    /// default occurrence for a sample fetch is the last one).
    Hdr(String),
    /// `path`.
    Path,
    /// `url`.
    Url,
    /// `query`.
    Query,
    /// `method`.
    Method,
    /// `ssl_fc`: `1` when the client connection is TLS, else `0`.
    SslFc,
    /// `var(SCOPE.NAME)`: a variable set by `set-var`; nothing when unset.
    Var(String),
    /// `str(TEXT)`: a constant.
    Str(String),
    /// `int(N)`: a constant integer.
    Int(i64),
    /// `status` (response rules only): the response's status.
    Status,
    /// `res.hdr(NAME)`, or `hdr(NAME)` in a response rule: the last value.
    ResHdr(String),
    /// `res.hdr_cnt(NAME)`: how many comma-separated values.
    ResHdrCnt(String),
}

/// Which rules a log-format string serves: HAProxy refuses the request's
/// path, URL, query and headers in response rules, and the response's fetches
/// in request rules (at load time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// `http-request`.
    Request,
    /// `http-response`.
    Response,
}

/// What the response fetches read: the status and header lines the server
/// answered, as the response rules before left them.
#[derive(Debug, Clone, Copy)]
pub struct ResponseFacts<'a> {
    /// Status.
    pub status: u16,
    /// Header lines; names in any case.
    pub headers: &'a [(&'a str, &'a str)],
}

impl<'a> ResponseFacts<'a> {
    /// Values of every line named `name`.
    fn values(&self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .flat_map(|(_, v)| split_values(v))
    }
}

/// Converters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Conv {
    /// `lower`: ASCII lowercase.
    Lower,
    /// `upper`: ASCII uppercase.
    Upper,
}

const FETCHES: &str = "src, dst, src_port, dst_port, hdr(NAME), req.hdr(NAME), path, url, query, method, ssl_fc, var(SCOPE.NAME), str(TEXT), int(N); in http-response: status, res.hdr(NAME), res.hdr_cnt(NAME)";

/// Variable scopes HAProxy 2.6 knows; `proc` and `check` are refused by Wt Edge.
const SCOPES: [&str; 6] = ["proc", "sess", "txn", "req", "res", "check"];

/// Checks a variable name (`txn.x`) as HAProxy does; Wt Edge keeps variables
/// for one request, so it takes the `sess`, `txn` and `req` scopes only.
pub fn var_name(name: &str, col: u32) -> Result<String, Problem> {
    let scope = name.split_once('.').map(|(s, _)| s);
    let known = scope.filter(|s| SCOPES.contains(s));
    match (known, name.split_once('.')) {
        (Some("sess" | "txn" | "req"), Some((_, n))) if !n.is_empty() => Ok(name.to_string()),
        (Some(s), Some((_, n))) if !n.is_empty() => Err(Problem::new(
            K::Unsupported,
            col,
            format!("variables of scope '{s}' are not supported by Wt Edge yet"),
        )
        .hint("use a 'txn.' variable")),
        _ => Err(Problem::new(
            K::InvalidValue,
            col,
            format!(
                "invalid variable name '{name}'. A variable name must be start by its scope. The scope can be 'proc', 'sess', 'txn', 'req', 'res' or 'check'"
            ),
        )
        .hint(format!("write 'txn.{name}'"))),
    }
}

impl LogFormat {
    /// Parses `text` (a config word starting at column `col`).
    pub fn parse(text: &str, col: u32) -> Result<Self, Problem> {
        Self::parse_in(text, col, Phase::Request)
    }

    /// Parses `text` for a rule of `phase`.
    pub fn parse_in(text: &str, col: u32, phase: Phase) -> Result<Self, Problem> {
        let mut parts = Vec::new();
        let mut lit = String::new();
        let mut rest = text;
        while let Some(i) = rest.find('%') {
            lit.push_str(&rest[..i]);
            let after = &rest[i + 1..];
            if let Some(r) = after.strip_prefix('%') {
                lit.push('%');
                rest = r;
            } else if let Some(expr) = after.strip_prefix('[') {
                let Some(end) = expr.find(']') else {
                    return Err(Problem::new(
                        K::Syntax,
                        col,
                        format!("missing ']' in log-format expression '{text}'"),
                    ));
                };
                if !lit.is_empty() {
                    parts.push(Part::Text(core::mem::take(&mut lit)));
                }
                parts.push(sample_in(&expr[..end], col, phase)?);
                rest = &expr[end + 1..];
            } else if let Some((fetch, r)) = ["ci", "cp", "fi", "fp"]
                .iter()
                .find(|v| after.starts_with(**v))
                .map(|v| (*v, &after[v.len()..]))
            {
                // The log variables for the two addresses, as `%[src]`... do.
                if !lit.is_empty() {
                    parts.push(Part::Text(core::mem::take(&mut lit)));
                }
                let fetch = match fetch {
                    "ci" => SampleFetch::Src,
                    "cp" => SampleFetch::SrcPort,
                    "fi" => SampleFetch::Dst,
                    _ => SampleFetch::DstPort,
                };
                parts.push(Part::Sample {
                    fetch,
                    convs: Vec::new(),
                });
                rest = r;
            } else {
                let var: String = after
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '{' || *c == '+')
                    .collect();
                return Err(Problem::new(
                    K::Unsupported,
                    col,
                    format!("log-format variable '%{var}' is not supported by Wt Edge yet"),
                )
                .hint(format!(
                    "use %ci, %cp, %fi, %fp or a sample expression such as %[src] or %[hdr(host)] (fetches: {FETCHES}), or write %% for a literal '%'"
                )));
            }
        }
        lit.push_str(rest);
        if !lit.is_empty() {
            parts.push(Part::Text(lit));
        }
        Ok(LogFormat { parts })
    }

    /// A literal value (no expression).
    pub fn literal(text: &str) -> Self {
        LogFormat {
            parts: if text.is_empty() {
                Vec::new()
            } else {
                alloc::vec![Part::Text(text.to_string())]
            },
        }
    }

    /// The header names its fetches read.
    pub fn headers(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Sample {
                fetch: SampleFetch::Hdr(n),
                ..
            } => Some(n.as_str()),
            _ => None,
        })
    }

    /// The value for `req`, without variables.
    pub fn render(&self, req: &RequestFacts<'_>) -> String {
        self.render_with(req, &[])
    }

    /// The value for `req`, `vars` holding the variables set so far (a sample
    /// that has no value writes nothing, as HAProxy's header values show).
    pub fn render_with(&self, req: &RequestFacts<'_>, vars: &[(String, String)]) -> String {
        self.render_res(req, vars, None)
    }

    /// The value in a response rule, `res` being the response so far.
    pub fn render_res(
        &self,
        req: &RequestFacts<'_>,
        vars: &[(String, String)],
        res: Option<&ResponseFacts<'_>>,
    ) -> String {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Sample { fetch, convs } => {
                    let from = out.len();
                    fetch_into(&mut out, fetch, req, vars, res);
                    convert(&mut out[from..], convs);
                }
            }
        }
        out
    }
}

fn convert(tail: &mut str, convs: &[Conv]) {
    for c in convs {
        match c {
            Conv::Lower => tail.make_ascii_lowercase(),
            Conv::Upper => tail.make_ascii_uppercase(),
        }
    }
}

/// A sample expression's value (for `set-var`); `None` when the fetch finds
/// nothing (no such header, unset variable, no query), HAProxy's failed fetch.
pub fn sample_value(
    fetch: &SampleFetch,
    convs: &[Conv],
    req: &RequestFacts<'_>,
    vars: &[(String, String)],
) -> Option<String> {
    let found = match fetch {
        SampleFetch::Hdr(name) => req
            .header_lines(name)
            .flat_map(split_values)
            .next()
            .is_some(),
        SampleFetch::Var(name) => vars.iter().any(|(n, _)| n == name),
        SampleFetch::Query => req.target.contains('?'),
        SampleFetch::Path => path_of(req.target).is_some(),
        _ => true,
    };
    if !found {
        return None;
    }
    let mut out = String::new();
    fetch_into(&mut out, fetch, req, vars, None);
    convert(&mut out, convs);
    Some(out)
}

fn fetch_into(
    out: &mut String,
    fetch: &SampleFetch,
    req: &RequestFacts<'_>,
    vars: &[(String, String)],
    res: Option<&ResponseFacts<'_>>,
) {
    // Writing to a String cannot fail.
    let _ = match fetch {
        SampleFetch::Var(name) => {
            if let Some((_, v)) = vars.iter().find(|(n, _)| n == name) {
                out.push_str(v);
            }
            Ok(())
        }
        SampleFetch::Str(s) => {
            out.push_str(s);
            Ok(())
        }
        SampleFetch::Int(n) => write!(out, "{n}"),
        SampleFetch::Src => write!(out, "{}", req.src.ip()),
        SampleFetch::Dst => write!(out, "{}", req.dst.ip()),
        SampleFetch::SrcPort => write!(out, "{}", req.src.port()),
        SampleFetch::DstPort => write!(out, "{}", req.dst.port()),
        SampleFetch::Hdr(name) => {
            if let Some(v) = req.header_lines(name).flat_map(split_values).last() {
                out.push_str(v);
            }
            Ok(())
        }
        SampleFetch::Path => {
            out.push_str(path_of(req.target).unwrap_or(""));
            Ok(())
        }
        SampleFetch::Url => {
            out.push_str(req.target);
            Ok(())
        }
        SampleFetch::Query => {
            out.push_str(req.target.split_once('?').map_or("", |(_, q)| q));
            Ok(())
        }
        SampleFetch::Method => {
            out.push_str(req.method);
            Ok(())
        }
        SampleFetch::SslFc => {
            out.push(if req.tls { '1' } else { '0' });
            Ok(())
        }
        SampleFetch::Status => match res {
            Some(r) => write!(out, "{}", r.status),
            None => Ok(()),
        },
        SampleFetch::ResHdr(name) => {
            if let Some(v) = res.and_then(|r| r.values(name).last()) {
                out.push_str(v);
            }
            Ok(())
        }
        SampleFetch::ResHdrCnt(name) => match res {
            Some(r) => write!(out, "{}", r.values(name).count()),
            None => Ok(()),
        },
    };
}

/// `fetch[(arg)][,conv…]`: a sample expression (`%[...]`'s inside, `set-var`'s
/// argument).
pub fn sample(expr: &str, col: u32) -> Result<Part, Problem> {
    sample_in(expr, col, Phase::Request)
}

/// HAProxy's message for a fetch a phase does not have.
fn not_here(name: &str, col: u32, needs: &str) -> Problem {
    Problem::new(
        K::InvalidValue,
        col,
        format!(
            "sample fetch <{name}> may not be reliably used here because it needs '{needs}' which is not available here"
        ),
    )
}

/// [`sample`] for a rule of `phase`.
pub fn sample_in(expr: &str, col: u32, phase: Phase) -> Result<Part, Problem> {
    let mut pieces = expr.split(',');
    let head = pieces.next().unwrap_or("").trim();
    let (name, arg) = match head.split_once('(') {
        Some((n, a)) => match a.strip_suffix(')') {
            Some(a) => (n, Some(a)),
            None => {
                return Err(Problem::new(
                    K::Syntax,
                    col,
                    format!("missing ')' in '%[{expr}]'"),
                ));
            }
        },
        None => (head, None),
    };
    let no_arg = |f: SampleFetch| match arg {
        None | Some("") => Ok(f),
        Some(_) => Err(Problem::new(
            K::InvalidValue,
            col,
            format!("fetch '{name}' takes no argument"),
        )),
    };
    let response = phase == Phase::Response;
    match name {
        "path" | "url" | "query" | "req.hdr" if response => {
            return Err(not_here(name, col, "HTTP request headers"));
        }
        "status" | "res.hdr" | "res.hdr_cnt" if !response => {
            return Err(not_here(name, col, "HTTP response headers"));
        }
        _ => {}
    }
    let header = |f: fn(String) -> SampleFetch| match arg {
        Some(n) if !n.is_empty() && !n.contains(',') => Ok(f(n.to_string())),
        _ => Err(Problem::new(
            K::Unsupported,
            col,
            format!("'%[{name}]' needs exactly one header name in Wt Edge"),
        )
        .hint(format!("write %[{name}(host)]"))),
    };
    let fetch = match name {
        "status" => no_arg(SampleFetch::Status)?,
        "res.hdr" => header(SampleFetch::ResHdr)?,
        "hdr" if response => header(SampleFetch::ResHdr)?,
        "res.hdr_cnt" => header(SampleFetch::ResHdrCnt)?,
        "src" => no_arg(SampleFetch::Src)?,
        "dst" => no_arg(SampleFetch::Dst)?,
        "src_port" => no_arg(SampleFetch::SrcPort)?,
        "dst_port" => no_arg(SampleFetch::DstPort)?,
        "path" => no_arg(SampleFetch::Path)?,
        "url" => no_arg(SampleFetch::Url)?,
        "query" => no_arg(SampleFetch::Query)?,
        "method" => no_arg(SampleFetch::Method)?,
        "ssl_fc" => no_arg(SampleFetch::SslFc)?,
        "var" => SampleFetch::Var(var_name(arg.unwrap_or(""), col)?),
        "str" => SampleFetch::Str(arg.unwrap_or("").to_string()),
        "int" => match arg.map(str::parse::<i64>) {
            Some(Ok(n)) => SampleFetch::Int(n),
            _ => {
                return Err(Problem::new(
                    K::InvalidValue,
                    col,
                    format!(
                        "'int' expects an integer argument, found '{}'",
                        arg.unwrap_or("")
                    ),
                ));
            }
        },
        "hdr" | "req.hdr" => header(SampleFetch::Hdr)?,
        other => {
            return Err(Problem::new(
                K::Unsupported,
                col,
                format!("fetch '{other}' in a log-format string is not supported by Wt Edge yet"),
            )
            .hint(format!("supported fetches: {FETCHES}")));
        }
    };
    let mut convs = Vec::new();
    for c in pieces {
        convs.push(match c.trim() {
            "lower" => Conv::Lower,
            "upper" => Conv::Upper,
            other => {
                return Err(Problem::new(
                    K::Unsupported,
                    col,
                    format!("converter '{other}' is not supported by Wt Edge yet"),
                )
                .hint("supported converters: lower, upper"));
            }
        });
    }
    Ok(Part::Sample { fetch, convs })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(headers: &[(&str, &str)], f: impl FnOnce(&RequestFacts<'_>)) {
        let r = RequestFacts {
            method: "GET",
            target: "/a/b?q=1",
            version: "HTTP/1.1",
            headers,
            src: "10.0.0.7:5000".parse().unwrap_or_else(|_| panic!()),
            dst: "127.0.0.1:80".parse().unwrap_or_else(|_| panic!()),
            tls: false,
        };
        f(&r)
    }

    /// Seen on HAProxy 2.6.12: `X-In: a, b` + `X-in: c,D`, Host `Ab.C`.
    #[test]
    fn renders_as_haproxy() {
        let f = LogFormat::parse(
            "p=%[path] u=%[url] m=%[method] s=%[ssl_fc] d=%[dst] 100%% %[req.hdr(x-in),upper] %[hdr(host),lower]",
            1,
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
        req(
            &[("X-In", "a, b"), ("X-in", "c,D"), ("Host", "Ab.C")],
            |r| {
                assert_eq!(
                    f.render(r),
                    "p=/a/b u=/a/b?q=1 m=GET s=0 d=127.0.0.1 100% D ab.c"
                );
            },
        );
        let missing = LogFormat::parse("%[hdr(x-none)]", 1).unwrap_or_else(|e| panic!("{e:?}"));
        req(&[], |r| assert_eq!(missing.render(r), ""));
        let src = LogFormat::parse("%[src]:%[ssl_fc]", 1).unwrap_or_else(|e| panic!("{e:?}"));
        req(&[], |r| {
            let tls = RequestFacts { tls: true, ..*r };
            assert_eq!(src.render(&tls), "10.0.0.7:1");
            assert_eq!(src.render(r), "10.0.0.7:0");
        });
    }

    /// Seen on HAProxy 2.6.12 from 127.0.0.1:40123 to 127.0.0.1:27180 for
    /// `/a?b=1&c`: `127.0.0.1|40123|127.0.0.1|27180|40123|b=1&c`.
    #[test]
    fn address_variables() {
        let f = LogFormat::parse("%ci|%cp|%fi|%fp|%[src_port]|%[query]", 1)
            .unwrap_or_else(|e| panic!("{e:?}"));
        let r = RequestFacts {
            method: "GET",
            target: "/a?b=1&c",
            version: "HTTP/1.1",
            headers: &[],
            src: "127.0.0.1:40123".parse().unwrap_or_else(|_| panic!()),
            dst: "127.0.0.1:27180".parse().unwrap_or_else(|_| panic!()),
            tls: false,
        };
        assert_eq!(f.render(&r), "127.0.0.1|40123|127.0.0.1|27180|40123|b=1&c");
    }

    #[test]
    fn refuses_what_it_cannot_render() {
        for bad in [
            "%ID",
            "%[base64]",
            "%[hdr(host),base64]",
            "%[hdr(a",
            "%[hdr]",
        ] {
            let e = LogFormat::parse(bad, 3).err();
            assert!(e.is_some(), "{bad}");
        }
        let e = LogFormat::parse("%Tr", 3).err().unwrap_or_else(|| panic!());
        assert!(e.message.contains("not supported by Wt Edge yet"));
    }
}
