//! `errorfile <code> <file>`: a raw HTTP response HAProxy 2.6 sends instead of its
//! own page for `code`. The parser records the path; the host reads the files and
//! hands their bytes to [`load`] (router-core does no I/O), which checks them as
//! HAProxy does at load time and keeps them as the bytes HAProxy writes.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde::Serialize;

use super::Parsed;
use super::lexer::Word;
use crate::answer::has_error_page;
use crate::diag::{Diagnostic, DiagnosticKind as K, Errors};
use crate::problem::Problem;

/// One `errorfile` line, and once loaded, the answer it makes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorFile {
    /// The status it replaces HAProxy's page for.
    pub status: u16,
    /// The file, as written.
    pub path: String,
    /// Where it was written (for load errors).
    pub line: u32,
    /// Column of the path.
    pub col: u32,
    /// The answer as HAProxy writes it on the wire; empty until [`load`] (and
    /// for an empty file, where HAProxy closes without a byte).
    #[serde(skip)]
    pub wire: Vec<u8>,
    /// The page as HAProxy holds it (what its `%B` counts).
    #[serde(skip)]
    pub held: Held,
}

/// A page as HAProxy holds it once parsed: every header of the file (`connection`
/// included, which only the wire loses).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Held {
    /// The reason phrase.
    pub reason: String,
    /// Each header's name and value lengths.
    pub headers: Vec<(usize, usize)>,
    /// The body's length.
    pub body: u64,
    /// The client connection stays open after it (an HTTP/1.1 page with a
    /// `content-length`, as HAProxy 2.6 does).
    pub keep_alive: bool,
}

/// A loaded page read back from its wire bytes, for a host that builds an answer
/// from parts instead of writing bytes (the Worker hands the runtime a status,
/// headers and a body; the runtime frames it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageParts<'a> {
    /// The status code of the file's status line (not necessarily the `errorfile`
    /// code: HAProxy sends whatever the file says).
    pub status: u16,
    /// The reason phrase.
    pub reason: &'a str,
    /// Header lines (lower-case names) as HAProxy sends them, without the framing
    /// ones (`content-length`, `connection`) the host's runtime writes itself.
    pub headers: Vec<(&'a str, &'a str)>,
    /// The body.
    pub body: &'a [u8],
}

impl ErrorFile {
    /// The page's parts; `None` for an empty file (HAProxy then closes the
    /// connection without a byte) or one not loaded.
    pub fn parts(&self) -> Option<PageParts<'_>> {
        let split = self.wire.windows(4).position(|w| w == b"\r\n\r\n")?;
        let head = core::str::from_utf8(&self.wire[..split]).ok()?;
        let mut lines = head.split("\r\n");
        let mut status_line = lines.next()?.splitn(3, ' ');
        let _version = status_line.next()?;
        let status = status_line.next()?.parse().ok()?;
        let reason = status_line.next().unwrap_or("");
        let headers = lines
            .filter_map(|l| l.split_once(": "))
            .filter(|(n, _)| !matches!(*n, "content-length" | "connection"))
            .collect();
        Some(PageParts {
            status,
            reason,
            headers,
            body: &self.wire[split + 4..],
        })
    }
}

/// Reads `errorfile <code> <file>` (HAProxy refuses a code it has no page for).
pub fn parse_keyword(words: &[Word], line: u32) -> Result<ErrorFile, Problem> {
    let (Some(code), Some(path)) = (words.get(1), words.get(2)) else {
        return Err(Problem::new(
            K::MissingArgument,
            words[0].col,
            "'errorfile' expects <status_code> and <file> as arguments",
        )
        .hint("write 'errorfile 503 /etc/haproxy/errors/503.http'"));
    };
    if let Some(extra) = words.get(3) {
        return Err(Problem::new(
            K::Syntax,
            extra.col,
            format!("unexpected '{}' after the file", extra.text),
        ));
    }
    let status = code.text.parse::<u16>().ok().filter(|s| has_error_page(*s));
    let Some(status) = status else {
        return Err(Problem::new(
            K::InvalidValue,
            code.col,
            format!("status code '{}' not handled", code.text),
        )
        .hint("HAProxy has pages for 200, 400, 401, 403, 404, 405, 407, 408, 410, 413, 425, 429, 500, 501, 502, 503 and 504"));
    };
    Ok(ErrorFile {
        status,
        path: path.text.clone(),
        line,
        col: path.col,
        wire: Vec::new(),
        held: Held::default(),
    })
}

/// Reads every `errorfile` of the config through `files` (the host's reader) and
/// keeps its wire bytes; a file that cannot be read or parsed is an error at its line.
pub fn load(
    parsed: &mut Parsed,
    files: &dyn Fn(&str) -> Result<Vec<u8>, String>,
) -> Result<(), Errors> {
    let file = parsed.config.file.clone();
    let mut errors = Vec::new();
    for proxy in &mut parsed.config.proxies {
        for ef in &mut proxy.settings.errorfiles {
            let loaded = files(&ef.path)
                .map_err(|e| {
                    (
                        format!("error opening file '{}': {e}", ef.path),
                        "check the path; HAProxy reads it when it starts",
                    )
                })
                .and_then(|bytes| {
                    to_wire(&bytes).map_err(|why| {
                        (
                            format!("'{}': {why}", ef.path),
                            "the file must be a whole HTTP response: 'HTTP/1.0 503 Service Unavailable', headers, an empty line, the body",
                        )
                    })
                });
            match loaded {
                Ok((wire, held)) => {
                    ef.wire = wire;
                    ef.held = held;
                }
                Err((message, hint)) => {
                    let d = Diagnostic {
                        kind: K::InvalidValue,
                        file: file.clone(),
                        line: ef.line,
                        column: ef.col,
                        keyword: "errorfile".to_string(),
                        message,
                        hint: Some(hint.to_string()),
                    };
                    if !errors.contains(&d) {
                        errors.push(d);
                    }
                }
            }
        }
    }
    if errors.is_empty() {
        return Ok(());
    }
    Err(Errors {
        errors,
        warnings: parsed.warnings.clone(),
    })
}

/// The bytes HAProxy 2.6 writes for an errorfile's content: its status line and
/// body as written, header names in lower case (its HTX keeps no case),
/// `connection` headers dropped, and `connection: close` added to an HTTP/1.1
/// answer without a length; and the page as HAProxy holds it. Err: HAProxy's reason
/// to refuse the file.
pub fn to_wire(file: &[u8]) -> Result<(Vec<u8>, Held), String> {
    let bad = |offset: usize| format!("unable to parse headers (error offset: {offset})");
    if file.is_empty() {
        return Ok((Vec::new(), Held::default()));
    }
    let (head_end, body_start) = head_end(file).ok_or_else(|| bad(0))?;
    let head = core::str::from_utf8(&file[..head_end]).map_err(|e| bad(e.valid_up_to()))?;
    let mut lines = head.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let status_line = lines.next().ok_or_else(|| bad(0))?;
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or("");
    let code = parts.next().unwrap_or("");
    if !matches!(version, "HTTP/1.0" | "HTTP/1.1")
        || code.len() != 3
        || !code.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad(0));
    }
    let mut held = Held {
        reason: parts.next().unwrap_or("").to_string(),
        headers: Vec::new(),
        body: (file.len() - body_start) as u64,
        keep_alive: false,
    };
    let mut length = None;
    let mut out = Vec::with_capacity(file.len() + 19);
    out.extend_from_slice(status_line.as_bytes());
    out.extend_from_slice(b"\r\n");
    let mut offset = status_line.len() + 1;
    let mut has_length = false;
    for line in lines {
        let (name, value) = line.split_once(':').ok_or_else(|| bad(offset))?;
        let name = name.to_ascii_lowercase();
        if name.is_empty() || name.bytes().any(|b| !is_token(b)) {
            return Err(bad(offset));
        }
        offset += line.len() + 1;
        let value = value.trim_matches([' ', '\t']);
        held.headers.push((name.len(), value.len()));
        if name == "transfer-encoding" {
            return Err("chunk-encoded payload not supported".to_string());
        }
        if name == "content-length" {
            length = Some(value.parse::<u64>().map_err(|_| bad(offset))?);
            has_length = true;
        }
        if name == "connection" {
            continue;
        }
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if let Some(n) = length.filter(|n| *n != held.body) {
        return Err(format!(
            "payload size does not match the announced content-length ({} != {n})",
            held.body
        ));
    }
    held.keep_alive = version == "HTTP/1.1" && length.is_some();
    if version == "HTTP/1.1" && !has_length {
        out.extend_from_slice(b"connection: close\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&file[body_start..]);
    Ok((out, held))
}

/// Where the head ends (before its empty line) and the body starts.
fn head_end(file: &[u8]) -> Option<(usize, usize)> {
    let mut i = 0;
    while i < file.len() {
        if file[i] == b'\n' {
            match (file.get(i + 1), file.get(i + 2)) {
                (Some(b'\n'), _) => return Some((i, i + 2)),
                (Some(b'\r'), Some(b'\n')) => {
                    let end = if i > 0 && file[i - 1] == b'\r' {
                        i - 1
                    } else {
                        i
                    };
                    return Some((end, i + 3));
                }
                _ => {}
            }
        }
        i += 1;
    }
    None
}

/// An RFC 7230 token character (a header name's).
fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected bytes: what HAProxy 2.6.12 wrote for these files (raw socket, `nc`).
    #[test]
    fn http10_page_drops_connection_and_lowercases_names() {
        let file = b"HTTP/1.0 503 Service Unavailable\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<html><body><h1>503 Custom</h1></body></html>\n";
        let want = b"HTTP/1.0 503 Service Unavailable\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>503 Custom</h1></body></html>\n";
        assert_eq!(to_wire(file).map(|w| w.0), Ok(want.to_vec()));
    }

    #[test]
    fn http11_without_length_gets_connection_close() {
        let file = b"HTTP/1.1 503 Nope\r\nX-Mixed-Case: V\r\n\r\nabcde";
        let want = b"HTTP/1.1 503 Nope\r\nx-mixed-case: V\r\nconnection: close\r\n\r\nabcde";
        assert_eq!(to_wire(file).map(|w| w.0), Ok(want.to_vec()));
        let file = b"HTTP/1.1 503 Nope\r\nX-Mixed-Case: V\r\nContent-Length: 5\r\n\r\nabcde";
        let want = b"HTTP/1.1 503 Nope\r\nx-mixed-case: V\r\ncontent-length: 5\r\n\r\nabcde";
        assert_eq!(to_wire(file).map(|w| w.0), Ok(want.to_vec()));
    }

    #[test]
    fn bare_lf_lines_become_crlf() {
        let file = b"HTTP/1.0 503 Nope\nX-LF: only\n\nbody\n";
        let want = b"HTTP/1.0 503 Nope\r\nx-lf: only\r\n\r\nbody\n";
        assert_eq!(to_wire(file).map(|w| w.0), Ok(want.to_vec()));
    }

    #[test]
    fn garbage_and_empty() {
        // HAProxy: "unable to parse headers (error offset: 0)"; an empty file loads.
        assert_eq!(
            to_wire(b"garbage\n").map(|w| w.0),
            Err("unable to parse headers (error offset: 0)".to_string())
        );
        assert_eq!(to_wire(b"").map(|w| w.0), Ok(Vec::new()));
    }

    #[test]
    fn a_wrong_content_length_is_refused() {
        // HAProxy's message for this file: "(2 != 5)".
        assert_eq!(
            to_wire(b"HTTP/1.0 503 X\r\nContent-Length: 5\r\n\r\nab").map(|w| w.0),
            Err("payload size does not match the announced content-length (2 != 5)".to_string())
        );
    }

    #[test]
    fn parts_read_back_what_haproxy_sends() {
        let mut ef = parse_keyword(
            &crate::config::lexer::split_words("errorfile 503 /x.http")
                .unwrap_or_else(|e| panic!("{e:?}")),
            1,
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(ef.parts(), None, "not loaded: nothing to send");
        let file = b"HTTP/1.1 200 Fine\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
        ef.wire = to_wire(file).unwrap_or_else(|e| panic!("{e}")).0;
        assert_eq!(
            ef.parts(),
            Some(PageParts {
                status: 200,
                reason: "Fine",
                headers: alloc::vec![("content-type", "text/plain")],
                body: b"ok",
            })
        );
    }
}
