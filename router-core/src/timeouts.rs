//! The timeouts that apply to one exchange, from a frontend and a backend, with
//! HAProxy 2.6's fallbacks: `timeout http-request` falls back to `timeout client`,
//! `timeout http-keep-alive` to `http-request`, `timeout queue` to `timeout connect`,
//! and a tunnel without `timeout tunnel` waits as long as the longer of `timeout
//! client` and `timeout server`. `None` means no timeout. Both hosts read them here.

use crate::config::model::{Proxy, Timeouts};

/// A frontend's client-side timeouts, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientSide {
    /// `timeout client`: the client sends nothing, or takes nothing, for that long.
    pub client: Option<u64>,
    /// `timeout http-request`: a whole request head, else `timeout client`.
    pub http_request: Option<u64>,
    /// `timeout http-keep-alive`: the wait for the next request, else `http-request`.
    pub http_keep_alive: Option<u64>,
}

/// The client-side timeouts of `frontend`.
pub fn client_side(frontend: &Proxy) -> ClientSide {
    let t = &frontend.settings.timeouts;
    let http_request = t.http_request.or(t.client);
    ClientSide {
        client: t.client,
        http_request,
        http_keep_alive: t.http_keep_alive.or(http_request),
    }
}

/// The server-side timeouts of an exchange, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerSide {
    /// `timeout connect`.
    pub connect: Option<u64>,
    /// `timeout server`.
    pub server: Option<u64>,
    /// `timeout queue`, else `timeout connect`.
    pub queue: Option<u64>,
    /// `timeout tunnel`, else the longer of `timeout client` and `timeout server`.
    pub tunnel: Option<u64>,
}

impl ServerSide {
    /// One bound from sending the request to the answer's head, for a host that cannot
    /// tell the connection from the wait for the answer (the Worker's `fetch`): the
    /// sum of `timeout connect` and `timeout server`, none when neither is set.
    pub fn fetch_ms(&self) -> Option<u64> {
        match (self.connect, self.server) {
            (None, None) => None,
            (c, s) => Some(c.unwrap_or(0).saturating_add(s.unwrap_or(0))),
        }
    }
}

/// The server-side timeouts of an exchange that `frontend` sent to `backend`.
pub fn server_side(frontend: &Proxy, backend: &Proxy) -> ServerSide {
    let (f, b): (&Timeouts, &Timeouts) = (&frontend.settings.timeouts, &backend.settings.timeouts);
    ServerSide {
        connect: b.connect,
        server: b.server,
        queue: b.queue.or(b.connect),
        tunnel: b.tunnel.or(f.tunnel).or(f.client.max(b.server)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse;

    #[test]
    fn fallbacks_are_haproxys() {
        let cfg = parse(
            "t.cfg",
            "frontend f\n bind :80\n timeout client 30s\n default_backend b\n\
             backend b\n timeout connect 2s\n timeout server 5s\n server s 10.0.0.1:80\n\
             backend c\n timeout server 1m\n timeout tunnel 1h\n timeout queue 7s\n server s 10.0.0.1:80\n",
        )
        .unwrap_or_else(|e| panic!("{e}"))
        .config;
        let (f, b, c) = (&cfg.proxies[0], &cfg.proxies[1], &cfg.proxies[2]);
        assert_eq!(
            client_side(f),
            ClientSide {
                client: Some(30_000),
                http_request: Some(30_000),
                http_keep_alive: Some(30_000)
            }
        );
        let sb = server_side(f, b);
        assert_eq!(
            (sb.queue, sb.tunnel, sb.fetch_ms()),
            (Some(2_000), Some(30_000), Some(7_000))
        );
        let sc = server_side(f, c);
        assert_eq!(
            (sc.queue, sc.tunnel, sc.connect),
            (Some(7_000), Some(3_600_000), None)
        );
        assert_eq!(sc.fetch_ms(), Some(60_000));
    }
}
