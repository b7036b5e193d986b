//! A real browser for the tests: Debian's Chromium, headless, loading a page of the
//! mock Wt through a proxy. The page's script (the mock's `pages::script`) opens the
//! session's WebSocket the way Wt's does and reports back to the mock with a
//! `jsupdate` POST, so the test reads the outcome from the mock
//! ([`crate::mock_wt::MockWt::signals`]): `wsok` once `connect` arrived and an event
//! went through the socket, `wsclosed` with the close code otherwise. Chromium's own
//! upgrade request (its `Accept-Encoding`, its `permessage-deflate` offer) is real.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::mock_wt::MockWt;

/// Where Debian installs Chromium (`apt-get install chromium`; `scripts/test.sh`
/// installs it).
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// Headless, and no network of its own (no updates, no sync, no QUIC: this
/// machine has no way out); a `--user-data-dir` is added per run.
pub const HEADLESS: [&str; 10] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-dev-shm-usage",
];

/// A headless Chromium showing one page; killed when dropped.
pub struct Browser {
    child: Child,
    profile: PathBuf,
}

impl Browser {
    /// Opens `url` in a new headless Chromium with an empty profile and no network
    /// of its own (no updates, no sync, no QUIC: this machine has no way out).
    pub fn open(url: &str) -> Result<Browser, String> {
        if !std::path::Path::new(CHROMIUM).exists() {
            return Err(format!(
                "{CHROMIUM} is missing: install Debian's chromium (scripts/test.sh does)"
            ));
        }
        let profile = std::env::temp_dir().join(format!(
            "wtedge-chromium-{}-{}",
            std::process::id(),
            Instant::now().elapsed().as_nanos() ^ (url.len() as u128) ^ rand_suffix()
        ));
        let child = Command::new(CHROMIUM)
            .args(HEADLESS)
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg(url)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("{CHROMIUM}: {e}"))?;
        Ok(Browser { child, profile })
    }
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// The outcome of one browser session, read from the mocks' signals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// `connect` arrived and an event went through the WebSocket.
    WebSocketWorks,
    /// The WebSocket closed first (the page's report, with its close code).
    WebSocketClosed(String),
}

/// Loads `url` in Chromium and waits (at most `within`) until one of `mocks` hears
/// the page's report about a session it had not reported before: `(session id,
/// outcome)`.
pub fn session_through(
    url: &str,
    mocks: &[&MockWt],
    within: Duration,
) -> Result<(String, Outcome), String> {
    let seen = |m: &MockWt| {
        m.signals()
            .into_iter()
            .filter(|(_, s)| s == "wsok" || s.starts_with("wsclosed"))
            .count()
    };
    let before: Vec<usize> = mocks.iter().map(|m| seen(m)).collect();
    let _browser = Browser::open(url)?;
    let start = Instant::now();
    while start.elapsed() < within {
        for (m, b) in mocks.iter().zip(&before) {
            let reports: Vec<(String, String)> = m
                .signals()
                .into_iter()
                .filter(|(_, s)| s == "wsok" || s.starts_with("wsclosed"))
                .collect();
            if let Some((id, s)) = reports.get(*b) {
                let outcome = if s == "wsok" {
                    Outcome::WebSocketWorks
                } else {
                    Outcome::WebSocketClosed(s.clone())
                };
                return Ok((id.clone(), outcome));
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(format!("no report from the page {url} within {within:?}"))
}
