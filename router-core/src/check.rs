//! The health-check plan, as HAProxy 2.6 runs checks: which servers are checked,
//! what a check sends, how long it may take and what counts as a pass. Both hosts ask
//! here and only perform the check; [`crate::Health`] turns results into states.

use alloc::format;
use alloc::string::String;

use crate::config::model::{Config, ServerId};

/// Whether a server runs checks: `check`, not `track` (a tracker takes its target's
/// state) and not `disabled` (HAProxy runs no check in maintenance).
pub fn is_checked(cfg: &Config, id: ServerId) -> bool {
    let s = cfg.server(id);
    s.params.check && s.track.is_none() && !s.params.disabled
}

/// How long a check may take (HAProxy 2.6's `timeout check`): with it, the connection
/// must be up within min(`timeout connect`, `inter`) and the answer read within
/// `timeout check` after that; without it, `inter` covers the whole check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckTimeouts {
    /// Milliseconds to connect.
    pub connect_ms: u64,
    /// Milliseconds to read the answer once connected; `None`: what is left of
    /// `connect_ms`, which then covers the whole check.
    pub read_ms: Option<u64>,
}

impl CheckTimeouts {
    /// One bound for the whole check, for a host that cannot tell the connection from
    /// the answer (the Worker's `fetch`): the sum.
    pub fn total_ms(&self) -> u64 {
        self.connect_ms.saturating_add(self.read_ms.unwrap_or(0))
    }
}

/// The check timeouts of server `id`.
pub fn timeouts(cfg: &Config, id: ServerId) -> CheckTimeouts {
    let s = cfg.server(id);
    let inter = s.params.inter.max(1);
    let t = &cfg.proxy(s.proxy).settings.timeouts;
    match t.check {
        Some(check) => CheckTimeouts {
            connect_ms: t.connect.unwrap_or(inter).min(inter).max(1),
            read_ms: Some(check.max(1)),
        },
        None => CheckTimeouts {
            connect_ms: inter,
            read_ms: None,
        },
    }
}

/// The request of an HTTP check (`option httpchk [METHOD] [URI] [VERSION]`); `None`:
/// a connection check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckRequest {
    /// `OPTIONS` by default.
    pub method: String,
    /// `/` by default.
    pub uri: String,
    /// `HTTP/1.0` by default.
    pub version: String,
}

impl CheckRequest {
    /// The bytes HAProxy 2.6 sends: the request line and an empty line.
    pub fn head(&self) -> String {
        format!("{} {} {}\r\n\r\n", self.method, self.uri, self.version)
    }
}

/// What server `id`'s checks send.
pub fn request(cfg: &Config, id: ServerId) -> Option<CheckRequest> {
    let s = cfg.server(id);
    cfg.proxy(s.proxy)
        .settings
        .options
        .httpchk
        .as_ref()
        .map(|h| CheckRequest {
            method: h.method.clone(),
            uri: h.uri.clone(),
            version: h.version.clone(),
        })
}

/// How a host checks: a connection (wtedge, as HAProxy's layer-4 check) or only an
/// HTTP request (the Worker cannot open a bare TCP connection to an origin).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prober {
    /// TCP connections: without `option httpchk` a connection that opens passes.
    Socket,
    /// HTTP requests through the Workers runtime: without `option httpchk` an answer
    /// passes unless it is a 5xx, which is how Cloudflare reports an origin it could
    /// not reach (520-526, 530) or one that fails.
    Workers,
}

/// What a check saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckResult {
    /// No connection, or no answer in time.
    Failed,
    /// Connected; the answer's status when the check read one.
    Answered(Option<u16>),
}

/// Whether a check of a server of `cfg`'s `id` passed: with `option httpchk`, a 2xx or
/// 3xx status (HAProxy 2.6's default `http-check expect`); without, see [`Prober`].
pub fn passes(cfg: &Config, id: ServerId, prober: Prober, result: CheckResult) -> bool {
    judge(request(cfg, id).is_some(), prober, result)
}

/// [`passes`] for a host that kept only whether the check is an HTTP one (`http`:
/// `option httpchk`).
pub fn judge(http: bool, prober: Prober, result: CheckResult) -> bool {
    match (result, http, prober) {
        (CheckResult::Failed, _, _) => false,
        (CheckResult::Answered(status), true, _) => status.is_some_and(|s| (200..400).contains(&s)),
        (CheckResult::Answered(_), false, Prober::Socket) => true,
        (CheckResult::Answered(status), false, Prober::Workers) => status.is_some_and(|s| s < 500),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse;

    fn cfg(text: &str) -> Config {
        parse("t.cfg", text)
            .unwrap_or_else(|e| panic!("{e}"))
            .config
    }

    const TEXT: &str = "defaults\n timeout connect 300\nbackend a\n server s1 10.0.0.1:80 check inter 500\n\
         server s2 10.0.0.2:80 check disabled\n server s3 10.0.0.3:80 track s1\n server s4 10.0.0.4:80\n\
         backend b\n option httpchk GET /health\n timeout check 200\n server t1 10.0.0.5:80 check inter 100\n\
         server t2 10.0.0.6:80 check inter 5s\n";

    #[test]
    fn disabled_trackers_and_unchecked_servers_are_not_checked() {
        let c = cfg(TEXT);
        let checked: alloc::vec::Vec<_> = c
            .server_ids()
            .filter(|&id| is_checked(&c, id))
            .map(|id| c.server(id).name.as_str())
            .collect();
        assert_eq!(checked, ["s1", "t1", "t2"]);
    }

    #[test]
    fn timeout_check_bounds_the_read_and_min_connect_inter_the_connect() {
        let c = cfg(TEXT);
        let id = |n: &str| {
            c.server_ids()
                .find(|&i| c.server(i).name == n)
                .unwrap_or_else(|| panic!())
        };
        assert_eq!(
            timeouts(&c, id("s1")),
            CheckTimeouts {
                connect_ms: 500,
                read_ms: None
            }
        );
        // min(timeout connect 300, inter 100) + timeout check 200.
        assert_eq!(
            timeouts(&c, id("t1")),
            CheckTimeouts {
                connect_ms: 100,
                read_ms: Some(200)
            }
        );
        assert_eq!(timeouts(&c, id("t2")).total_ms(), 500);
    }

    #[test]
    fn what_passes_depends_on_httpchk_and_the_prober() {
        let c = cfg(TEXT);
        let s1 = ServerId(0);
        let t1 = c
            .server_ids()
            .find(|&i| c.server(i).name == "t1")
            .unwrap_or_else(|| panic!());
        use CheckResult::*;
        assert!(passes(&c, s1, Prober::Socket, Answered(None)));
        assert!(passes(&c, s1, Prober::Workers, Answered(Some(404))));
        assert!(!passes(&c, s1, Prober::Workers, Answered(Some(522))));
        assert!(!passes(&c, s1, Prober::Socket, Failed));
        assert!(passes(&c, t1, Prober::Socket, Answered(Some(301))));
        assert!(!passes(&c, t1, Prober::Socket, Answered(Some(404))));
        assert!(!passes(&c, t1, Prober::Socket, Answered(None)));
        assert_eq!(
            request(&c, t1).map(|r| r.head()),
            Some(String::from("GET /health HTTP/1.0\r\n\r\n"))
        );
    }
}
