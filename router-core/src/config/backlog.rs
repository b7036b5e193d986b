//! The listen backlog of a frontend's sockets, as HAProxy 2.6's `listener_backlog()`
//! sizes it (src/listener.c): the connections the kernel queues beyond the ones the
//! proxy accepted, past which it drops SYNs. A flood over `maxconn` waits there, and
//! beyond it is refused, as in HAProxy.

use super::model::{Config, ProxyId};

/// HAProxy's last resort when no `maxconn` applies.
pub const DEFAULT_BACKLOG: u32 = 1024;

impl Config {
    /// The frontend's `maxconn`, else the global one (HAProxy gives every proxy
    /// without one the global `maxconn`), else 1024. (`backlog` is not a supported
    /// keyword; HAProxy's global `maxconn` without one is computed from the file
    /// descriptor limit, and the kernel caps it at `net.core.somaxconn`.)
    pub fn listen_backlog(&self, frontend: ProxyId) -> u32 {
        self.proxy(frontend)
            .settings
            .maxconn
            .filter(|&m| m > 0)
            .or(self.global.maxconn)
            .unwrap_or(DEFAULT_BACKLOG)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    fn backlog(text: &str) -> u32 {
        let cfg = crate::config::parse("t.cfg", text)
            .unwrap_or_else(|e| panic!("{e}"))
            .config;
        let fe = cfg
            .proxy_ids()
            .find(|&id| cfg.proxy(id).kind.is_frontend())
            .unwrap_or_else(|| panic!("no frontend"));
        cfg.listen_backlog(fe)
    }

    const FE: &str =
        "frontend fe\n bind :80\n default_backend b\nbackend b\n server s 10.0.0.1:80\n";

    #[test]
    fn frontend_maxconn_then_global_then_1024() {
        assert_eq!(backlog(FE), DEFAULT_BACKLOG);
        assert_eq!(backlog(&format!("global\n maxconn 20\n{FE}")), 20);
        assert_eq!(
            backlog(&format!(
                "global\n maxconn 20\n{}",
                FE.replace(" bind :80\n", " bind :80\n maxconn 7\n")
            )),
            7
        );
        assert_eq!(
            backlog(&format!("global\n maxconn 20\ndefaults\n maxconn 50\n{FE}")),
            50
        );
    }
}
