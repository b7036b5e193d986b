//! The router's answer for one request.

use alloc::borrow::Cow;
use core::net::{IpAddr, SocketAddr};
use serde::Serialize;

use crate::config::model::{ProxyId, ServerId};

/// What to do with a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "lowercase")]
pub enum Decision<'c> {
    /// Answer with a redirect (no body, `Location` exactly as given).
    Redirect {
        /// 301, 302, 303, 307 or 308.
        code: u16,
        /// The `Location` header value (borrowed from the config for `redirect location`).
        #[serde(borrow)]
        location: Cow<'c, str>,
        /// The backend whose `redirect` rule answered; `None` for a frontend's (or a
        /// listen section's) own rule. HAProxy logs it as `backend/<NOSRV>`.
        #[serde(skip_serializing_if = "Option::is_none")]
        backend: Option<ProxyId>,
    },
    /// Send the request to a server.
    Forward(#[serde(borrow)] Forward<'c>),
    /// Answer with an `http-request deny` or `return` rule's response.
    Answer {
        /// What to answer.
        answer: alloc::boxed::Box<crate::rules::Answer>,
        /// The backend whose rule answered; `None` for a frontend's (logged
        /// `frontend/<NOSRV>`, else `backend/<NOSRV>`).
        backend: Option<ProxyId>,
    },
    /// Answer with an error status (503: no backend or no usable server).
    Respond {
        /// HTTP status.
        status: u16,
        /// The backend that was chosen, `None` when no backend was.
        backend: Option<ProxyId>,
    },
}

/// Where to send a request and which headers to add.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Forward<'c> {
    /// The frontend that received it.
    pub frontend: ProxyId,
    /// The backend that serves it.
    pub backend: ProxyId,
    /// The chosen server.
    pub server: ServerId,
    /// Chosen by the balance algorithm (not a `use-server` rule): HAProxy
    /// redispatches such requests at once after a failed connection.
    pub balanced: bool,
    /// Where to connect.
    #[serde(borrow)]
    pub upstream: Upstream<'c>,
    /// `option forwardfor`: a header line to append (after any the client sent).
    #[serde(borrow)]
    pub forwarded_for: Option<HeaderAppend<'c>>,
    /// `option originalto`: a header line to append.
    #[serde(borrow)]
    pub original_to: Option<HeaderAppend<'c>>,
    /// `http-request` header edits, in order, applied to the request's headers
    /// (as normalized) before the two lines above are appended.
    #[serde(skip_serializing_if = "alloc::vec::Vec::is_empty")]
    pub edits: alloc::vec::Vec<crate::rules::HeaderEdit>,
    /// The method to send, when a `set-method` rule changed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<alloc::string::String>,
    /// The request target to send, when a `set-path`, `set-query`, `set-uri`,
    /// `replace-path` or `replace-uri` rule changed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<alloc::string::String>,
    /// The variables the `http-request` rules left (`txn.x`, value), which the
    /// `http-response` rules read.
    #[serde(skip_serializing_if = "alloc::vec::Vec::is_empty")]
    pub vars: crate::rules::state::Vars,
}

/// A server's address, with `0.0.0.0` and a missing port already replaced by
/// the address and port the client connected to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Upstream<'c> {
    /// An IP address and port.
    Socket(SocketAddr),
    /// A DNS name (for the host to resolve) and port.
    Name {
        /// Host name.
        host: &'c str,
        /// Port.
        port: u16,
    },
}

impl core::fmt::Display for Upstream<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Upstream::Socket(addr) => write!(f, "{addr}"),
            Upstream::Name { host, port } => write!(f, "{host}:{port}"),
        }
    }
}

/// A header line to append: `name: value`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct HeaderAppend<'c> {
    /// Header name as configured.
    pub name: &'c str,
    /// The address to write.
    pub value: IpAddr,
}

impl Decision<'_> {
    /// The HTTP status the client gets from Wt Edge itself (redirects and errors);
    /// `None` when the server answers.
    pub fn status(&self) -> Option<u16> {
        match self {
            Decision::Redirect { code, .. } => Some(*code),
            Decision::Respond { status, .. } => Some(*status),
            Decision::Answer { answer, .. } => Some(answer.status),
            Decision::Forward(_) => None,
        }
    }

    /// The backend the request was given to, if any (HAProxy counts the request
    /// in that backend's `stot` and `req_tot` from then on, whatever the answer).
    pub fn backend(&self) -> Option<crate::ProxyId> {
        match self {
            Decision::Redirect { backend, .. }
            | Decision::Respond { backend, .. }
            | Decision::Answer { backend, .. } => *backend,
            Decision::Forward(f) => Some(f.backend),
        }
    }
}
