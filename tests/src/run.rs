//! Runs corpus cases against a real HAProxy.

use crate::client::{self, Response, Source};
use crate::corpus::{Case, Expect, Observed, Outcome};
use crate::haproxy::Haproxy;

/// Classifies an answer (`upstream_line` is `None` when the server's report body
/// could not be read, e.g. for `HEAD`): a loopback server's answer is a forward; a 3xx with a
/// `Location` that no server sent is a redirect; anything else HAProxy answered itself.
pub fn observe(resp: &Response) -> Observed {
    if let Some(r) = resp.report() {
        return Observed {
            outcome: Outcome::Forward {
                backend: r.backend,
                server: r.server,
            },
            // A HEAD answer has no body: only the server's name is known.
            upstream_line: (!r.line.is_empty()).then_some(r.line),
            xff: r.xff,
            original_to: r.original_to,
            connection: r.connection,
        };
    }
    let outcome = match resp.header("location") {
        Some(loc) if (300..400).contains(&resp.status) => Outcome::Redirect {
            status: resp.status,
            location: loc.to_string(),
        },
        _ => Outcome::Respond {
            status: resp.status,
        },
    };
    Observed {
        outcome,
        upstream_line: None,
        xff: Vec::new(),
        original_to: Vec::new(),
        connection: Vec::new(),
    }
}

/// Runs every request of `case`, in order, on one fresh HAProxy with the case's
/// servers forced DOWN first.
pub fn run_case(case: &Case) -> Result<Vec<Observed>, String> {
    let src = Source::for_case(case.src.as_deref())?;
    let text = case.config_text()?;
    let hap = Haproxy::start(&text, src.needs_accept_proxy())?;
    for (b, s) in case.down_servers()? {
        hap.force_down(&b, &s)?;
    }
    let dst = hap.frontend_addr(case.frontend.as_deref())?;
    let mut out = Vec::new();
    for (i, req) in case.request.iter().enumerate() {
        let resp = client::send(dst, src, req).map_err(|e| {
            format!(
                "request #{} {:?}: {e}\n--- haproxy log ---\n{}",
                i + 1,
                req.line,
                hap.log_text()
            )
        })?;
        out.push(observe(&resp));
    }
    Ok(out)
}

/// Differences between an observation and an expectation (empty: they agree).
pub fn compare(expect: &Expect, got: &Observed) -> Vec<String> {
    let mut diffs = Vec::new();
    match expect.outcome() {
        Ok(o) if o == got.outcome => {}
        Ok(o) => diffs.push(format!("expected {o}, HAProxy did {}", got.outcome)),
        Err(e) => diffs.push(e),
    }
    if matches!(got.outcome, Outcome::Forward { .. }) {
        if got.upstream_line.is_none()
            && (expect.upstream_line.is_some()
                || expect.xff.is_some()
                || expect.original_to.is_some()
                || expect.connection.is_some())
        {
            diffs.push("the server's report has no body (HEAD?): cannot check headers".into());
        }
        if let Some(l) = &expect.upstream_line
            && got.upstream_line.as_ref() != Some(l)
        {
            diffs.push(format!(
                "server saw request line {:?}, expected {l:?}",
                got.upstream_line
            ));
        }
        for (what, want, have) in [
            ("x-forwarded-for", &expect.xff, &got.xff),
            ("x-original-to", &expect.original_to, &got.original_to),
            ("connection", &expect.connection, &got.connection),
        ] {
            if let Some(w) = want
                && w != have
            {
                diffs.push(format!("server saw {what} {have:?}, expected {w:?}"));
            }
        }
    }
    diffs
}
