//! The validated configuration model. Every value documents its default.

use alloc::string::String;
use alloc::vec::Vec;
use core::net::IpAddr;
use serde::Serialize;

use crate::acl::{AclDef, Condition};

/// Index of a proxy (frontend, backend or listen section) in [`Config::proxies`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ProxyId(pub u16);

/// Index of a server line in [`Config::servers`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ServerId(pub u32);

/// A whole haproxy.cfg, parsed and validated.
#[derive(Debug, Clone, Serialize)]
pub struct Config {
    /// The file name the config was parsed from (used in messages).
    pub file: String,
    /// The `global` section.
    pub global: Global,
    /// Frontends, backends and listens in file order.
    pub proxies: Vec<Proxy>,
    /// Every `server` line of every backend, in file order.
    pub servers: Vec<Server>,
}

/// The `global` section. Process-level keywords are kept for display; only
/// `maxconn` changes what a host does.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Global {
    /// Process-wide connection limit. Default: none set (hosts pick their own).
    pub maxconn: Option<u32>,
    /// `log` lines, kept verbatim.
    pub log: Vec<String>,
    /// `user`; kept, a host does not switch users.
    pub user: Option<String>,
    /// `group`; kept.
    pub group: Option<String>,
    /// `daemon`; kept, hosts stay in the foreground.
    pub daemon: bool,
    /// `nbthread`: wtedge's worker threads (1 to 64; default: one per core, as HAProxy).
    pub nbthread: Option<u32>,
    /// `noreuseport`: one listening socket per address shared by every thread instead
    /// of one per thread with SO_REUSEPORT (HAProxy's default). Default: false.
    pub noreuseport: bool,
    /// `chroot`; kept.
    pub chroot: Option<String>,
    /// `pidfile`; kept.
    pub pidfile: Option<String>,
    /// `stats socket` lines: where the runtime API listens.
    pub stats_sockets: Vec<super::stats::StatsSocket>,
    /// The TLS defaults for `bind ... ssl` lines (`ca-base`, `crt-base`,
    /// `ssl-default-bind-*`): read and checked; no effect, since Wt Edge has no TLS binds.
    pub tls: TlsDefaults,
}

/// The global TLS defaults of HAProxy's `bind ... ssl` lines, as written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TlsDefaults {
    /// `ca-base`: the directory of relative `ca-file` paths.
    pub ca_base: Option<String>,
    /// `crt-base`: the directory of relative `crt` paths.
    pub crt_base: Option<String>,
    /// `ssl-default-bind-ciphers` (TLS 1.2 and below, OpenSSL's syntax).
    pub bind_ciphers: Option<String>,
    /// `ssl-default-bind-ciphersuites` (TLS 1.3).
    pub bind_ciphersuites: Option<String>,
    /// `ssl-default-bind-options`, one entry per option (`ssl-min-ver TLSv1.2`).
    pub bind_options: Vec<String>,
}

/// What a section is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProxyKind {
    /// Accepts connections and picks a backend.
    Frontend,
    /// Holds servers.
    Backend,
    /// Both at once: its own backend when no rule picks another.
    Listen,
}

impl ProxyKind {
    /// True for sections that accept client connections.
    pub fn is_frontend(self) -> bool {
        matches!(self, ProxyKind::Frontend | ProxyKind::Listen)
    }

    /// True for sections that hold servers.
    pub fn is_backend(self) -> bool {
        matches!(self, ProxyKind::Backend | ProxyKind::Listen)
    }
}

/// A frontend, backend or listen section.
#[derive(Debug, Clone, Serialize)]
pub struct Proxy {
    /// Section name.
    pub name: String,
    /// Section kind.
    pub kind: ProxyKind,
    /// Line of the section header.
    pub line: u32,
    /// `bind` addresses (frontends and listens).
    pub binds: Vec<Bind>,
    /// Settings inherited from the `defaults` before it, then overridden.
    pub settings: Settings,
    /// Named ACLs (several lines of one name are OR'ed), anonymous `{ }` ACLs and
    /// the predefined ACLs the section uses, in declaration order.
    pub acls: Vec<AclDef>,
    /// `redirect` rules in file order.
    pub redirects: Vec<RedirectRule>,
    /// `http-request` rules, in file order.
    pub http_requests: Vec<crate::rules::HttpRule>,
    /// `http-response` rules, in file order.
    pub http_responses: Vec<crate::rules::HttpRule>,
    /// `use_backend` rules in file order.
    pub use_backends: Vec<UseBackendRule>,
    /// `default_backend`, if any.
    pub default_backend: Option<BackendRef>,
    /// `use-server` rules in file order.
    pub use_servers: Vec<UseServerRule>,
    /// The section's servers, in file order.
    pub servers: Vec<ServerId>,
}

/// A reference to a backend by name, resolved after parsing.
#[derive(Debug, Clone, Serialize)]
pub struct BackendRef {
    /// The name as written.
    pub name: String,
    /// The backend it names.
    pub id: ProxyId,
    /// Line where it was written.
    pub line: u32,
    /// Column of the name (for messages).
    #[serde(skip)]
    pub col: u32,
}

/// One `bind` address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Bind {
    /// Address to listen on; `None` for `*` or an empty host (every address).
    pub host: Option<IpAddr>,
    /// Port.
    pub port: u16,
    /// Line of the `bind` (or of the legacy `listen ADDR:PORT`).
    pub line: u32,
}

/// Settings a proxy takes from the last `defaults` section before it.
#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    /// `mode http` (Wt Edge only speaks HTTP). Default: http.
    pub mode: Mode,
    /// Whether `mode http` was written (HAProxy's own default is TCP).
    #[serde(skip)]
    pub mode_set: bool,
    /// `option ...` flags.
    pub options: Options,
    /// `timeout ...` values in milliseconds.
    pub timeouts: Timeouts,
    /// `retries`: connection attempts after the first failure. Default: 3.
    pub retries: u32,
    /// `maxconn` of the proxy. Default: none (the global limit applies).
    pub maxconn: Option<u32>,
    /// `balance`. Default: roundrobin.
    pub balance: Balance,
    /// `hash-type`. Default: map-based sdbm.
    pub hash_type: HashType,
    /// `log` lines (`log global` included), kept verbatim.
    pub log: Vec<String>,
    /// `default-server` parameters applied to the servers that follow.
    pub default_server: ServerParams,
    /// `http-reuse` (backend). Default: safe.
    pub http_reuse: HttpReuse,
    /// `stats ...`: the stats page.
    pub stats: super::stats::StatsPage,
    /// `errorfile` lines, one per status (a later line for a status replaces
    /// an earlier or inherited one).
    pub errorfiles: Vec<super::errorfile::ErrorFile>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            mode: Mode::Http,
            mode_set: false,
            options: Options::default(),
            timeouts: Timeouts::default(),
            retries: 3,
            maxconn: None,
            balance: Balance::RoundRobin,
            hash_type: HashType::default(),
            log: Vec::new(),
            default_server: ServerParams::default(),
            http_reuse: HttpReuse::Safe,
            stats: super::stats::StatsPage::default(),
            errorfiles: Vec::new(),
        }
    }
}

/// Proxy mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// HTTP, the only mode Wt Edge implements.
    Http,
}

/// Load-balancing algorithm (`balance`), as HAProxy 2.6 reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Balance {
    /// Weighted round-robin over usable servers (HAProxy's default).
    RoundRobin,
    /// `leastconn`: the server serving the fewest streams, by weight.
    LeastConn,
    /// `first`: the first server (by id) with a free connection slot.
    First,
    /// `random[(draws)]`: the least loaded of `draws` random picks on the consistent tree.
    Random {
        /// Number of draws (HAProxy's default: 2).
        draws: u32,
    },
    /// `source`: a hash of the client's address.
    Source,
    /// `uri [len N] [depth N] [whole] [path-only]`: a hash of the request target.
    Uri {
        /// `len`: hash at most this many characters (0: no limit).
        len: u32,
        /// `depth`: hash at most this many directories (0: no limit).
        depth: u32,
        /// `whole`: hash the query string too.
        whole: bool,
        /// `path-only`: hash the path of an absolute-form target, not its scheme and authority.
        path_only: bool,
    },
    /// `url_param NAME`: a hash of a query parameter's value.
    UrlParam {
        /// The parameter name.
        name: String,
    },
    /// `hdr(NAME) [use_domain_only]`: a hash of a header's first value.
    Hdr {
        /// The header name.
        name: String,
        /// `use_domain_only`: hash only the domain part before the last dot.
        use_domain_only: bool,
    },
}

impl Balance {
    /// Whether the algorithm hashes a request key (what `hash-type` applies to).
    pub fn is_hash(&self) -> bool {
        matches!(
            self,
            Balance::Source | Balance::Uri { .. } | Balance::UrlParam { .. } | Balance::Hdr { .. }
        )
    }

    /// HAProxy's name of the algorithm.
    pub fn name(&self) -> &'static str {
        match self {
            Balance::RoundRobin => "roundrobin",
            Balance::LeastConn => "leastconn",
            Balance::First => "first",
            Balance::Random { .. } => "random",
            Balance::Source => "source",
            Balance::Uri { .. } => "uri",
            Balance::UrlParam { .. } => "url_param",
            Balance::Hdr { .. } => "hdr",
        }
    }
}

/// `hash-type`: how hash-based algorithms map a key to a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct HashType {
    /// `consistent` (a tree of points per server) rather than `map-based` (a modulo).
    pub consistent: bool,
    /// The hash function applied to the key.
    pub function: HashFunction,
    /// `avalanche`: the hash goes through HAProxy's `full_hash` too.
    pub avalanche: bool,
}

impl Default for HashType {
    /// HAProxy's default: `map-based sdbm`, no avalanche.
    fn default() -> Self {
        HashType {
            consistent: false,
            function: HashFunction::Sdbm,
            avalanche: false,
        }
    }
}

/// Hash functions of `hash-type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HashFunction {
    /// sdbm (HAProxy's default).
    Sdbm,
    /// djb2.
    Djb2,
    /// wt6.
    Wt6,
    /// crc32 (IEEE).
    Crc32,
}

/// `option` flags. Every flag defaults to off but `tcp-smart-accept`, which HAProxy
/// turns on in HTTP mode (the only mode Wt Edge serves).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Options {
    /// `option httplog`: HTTP log format.
    pub httplog: bool,
    /// `option dontlognull`: no log line for connections that sent nothing.
    pub dontlognull: bool,
    /// `option http-keep-alive | http-server-close | httpclose`: one mode per section,
    /// the last written wins (HAProxy's `PR_O_HTTP_MODE`).
    pub http_mode: HttpMode,
    /// `option http-pretend-keepalive`: do not announce the close to the server.
    pub http_pretend_keepalive: bool,
    /// `option forwardfor`.
    pub forwardfor: Option<ForwardFor>,
    /// `option originalto`.
    pub originalto: Option<OriginalTo>,
    /// `option redispatch`: the last retry goes to another server.
    pub redispatch: bool,
    /// `option httpchk`: health checks speak HTTP instead of a TCP connect.
    pub httpchk: Option<HttpCheck>,
    /// `option allbackups`: use every backup server at once, not only the first.
    pub allbackups: bool,
    /// `option tcp-smart-accept` (frontend): the ACK of a request that arrives whole
    /// is delayed so that the response carries it, one packet less per request.
    /// Default: on, as HAProxy has it in HTTP mode; `no option tcp-smart-accept`
    /// turns it off.
    pub tcp_smart_accept: bool,
    /// `option tcp-smart-connect` (backend): the ACK that ends the handshake with a
    /// server is delayed so that the request carries it. Default: off.
    pub tcp_smart_connect: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            httplog: false,
            dontlognull: false,
            http_mode: HttpMode::KeepAlive,
            http_pretend_keepalive: false,
            forwardfor: None,
            originalto: None,
            redispatch: false,
            httpchk: None,
            allbackups: false,
            tcp_smart_accept: true,
            tcp_smart_connect: false,
        }
    }
}

/// How HTTP connections are kept, per section (`option http-keep-alive`,
/// `http-server-close`, `httpclose`). A frontend and a backend combine: the server
/// side closes when either says `http-server-close` or `httpclose`; the client side
/// closes after each response only with the frontend's `httpclose`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HttpMode {
    /// Both sides kept alive (HAProxy 2.6's default).
    #[default]
    KeepAlive,
    /// `option http-server-close`: the server side closes after each response.
    ServerClose,
    /// `option httpclose`: both sides close after each response.
    Close,
}

impl HttpMode {
    /// Whether this mode closes the server connection after each response.
    pub fn closes_server(self) -> bool {
        !matches!(self, HttpMode::KeepAlive)
    }
}

/// `http-reuse`: which requests may use an idle server connection (HAProxy 2.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HttpReuse {
    /// A server connection serves only the client connection that opened it.
    Never,
    /// A client connection's first request never uses an idle connection; the
    /// following ones may use any (the default).
    #[default]
    Safe,
    /// As `safe`, but a first request may use a connection that has already served
    /// more than one request.
    Aggressive,
    /// Any request may use any idle connection.
    Always,
}

/// `option forwardfor [except NET] [header NAME] [if-none]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ForwardFor {
    /// Clients in this network get no header.
    pub except: Option<IpNet>,
    /// Header name. Default: `X-Forwarded-For`.
    pub header: String,
    /// Add the header only when the request has none.
    pub if_none: bool,
}

/// `option originalto [except NET] [header NAME]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OriginalTo {
    /// Local addresses in this network get no header.
    pub except: Option<IpNet>,
    /// Header name. Default: `X-Original-To`.
    pub header: String,
}

/// `option httpchk [METHOD] [URI] [VERSION]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HttpCheck {
    /// Default: `OPTIONS`.
    pub method: String,
    /// Default: `/`.
    pub uri: String,
    /// Default: `HTTP/1.0`.
    pub version: String,
}

/// An address and prefix length (`10.0.0.0/8`, `::1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct IpNet {
    /// Network address.
    pub addr: IpAddr,
    /// Prefix length in bits (32 or 128 for a single address).
    pub prefix: u8,
}

/// `timeout` values in milliseconds; `None` means not set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Timeouts {
    /// `timeout connect` (legacy `contimeout`).
    pub connect: Option<u64>,
    /// `timeout client` (legacy `clitimeout`).
    pub client: Option<u64>,
    /// `timeout server` (legacy `srvtimeout`).
    pub server: Option<u64>,
    /// `timeout tunnel`; defaults to client/server when not set.
    pub tunnel: Option<u64>,
    /// `timeout queue`; falls back to `timeout connect`.
    pub queue: Option<u64>,
    /// `timeout check`; falls back to `inter`.
    pub check: Option<u64>,
    /// `timeout http-request`; falls back to `timeout client`.
    pub http_request: Option<u64>,
    /// `timeout http-keep-alive`; falls back to `timeout http-request`.
    pub http_keep_alive: Option<u64>,
    /// `timeout client-fin`: half-closed client side; falls back to `timeout client`.
    pub client_fin: Option<u64>,
    /// `timeout server-fin`: half-closed server side; falls back to `timeout server`.
    pub server_fin: Option<u64>,
}

/// Where a server lives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ServerHost {
    /// An IP address; `0.0.0.0` means the address the client connected to.
    Ip(IpAddr),
    /// A DNS name (resolved by the host).
    Name(String),
}

/// Server parameters, shared by `server` and `default-server`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServerParams {
    /// `check`: run health checks. Default: off.
    pub check: bool,
    /// `inter`: ms between checks. Default: 2000.
    pub inter: u64,
    /// `fastinter`: ms between checks while changing state. Default: `inter`.
    pub fastinter: Option<u64>,
    /// `downinter`: ms between checks while DOWN. Default: `inter`.
    pub downinter: Option<u64>,
    /// `rise`: consecutive successes to go UP. Default: 2.
    pub rise: u32,
    /// `fall`: consecutive failures to go DOWN. Default: 3.
    pub fall: u32,
    /// `weight` (0-256). Default: 1.
    pub weight: u32,
    /// `backup`: used only when no active server is usable. Default: off.
    pub backup: bool,
    /// `disabled`: starts in maintenance, never used. Default: off.
    pub disabled: bool,
    /// `maxconn`: concurrent requests before queueing. Default: none.
    pub maxconn: Option<u32>,
    /// `maxqueue`: queued requests before the queue overflows. Default: none.
    pub maxqueue: Option<u32>,
    /// `ssl`: speak TLS to the server. Default: off.
    pub ssl: bool,
    /// `verify none|required`. Default: required.
    pub verify: bool,
    /// `port`: port for health checks. Default: the server's port.
    pub check_port: Option<u16>,
    /// `pool-max-conn`: idle connections kept to the server; `None`: no limit (-1).
    pub pool_max_conn: Option<u32>,
    /// `pool-purge-delay`: ms between two purges of idle connections. Default: 5 s;
    /// 0 keeps none.
    pub pool_purge_delay: u64,
    /// `pool-low-conn`: idle connections kept beyond the estimated need. Default: 0.
    pub pool_low_conn: u32,
}

impl Default for ServerParams {
    fn default() -> Self {
        ServerParams {
            check: false,
            inter: 2000,
            fastinter: None,
            downinter: None,
            rise: 2,
            fall: 3,
            weight: 1,
            backup: false,
            disabled: false,
            maxconn: None,
            maxqueue: None,
            ssl: false,
            verify: true,
            check_port: None,
            pool_max_conn: None,
            pool_purge_delay: 5000,
            pool_low_conn: 0,
        }
    }
}

/// One `server` line.
#[derive(Debug, Clone, Serialize)]
pub struct Server {
    /// Server name, unique in its backend.
    pub name: String,
    /// The backend (or listen) it belongs to.
    pub proxy: ProxyId,
    /// Line of the `server` keyword.
    pub line: u32,
    /// Address.
    pub host: ServerHost,
    /// Column of the address (for messages).
    #[serde(skip)]
    pub addr_col: u32,
    /// Port; `None` means the port the client connected to.
    pub port: Option<u16>,
    /// Parameters.
    pub params: ServerParams,
    /// `track [BACKEND/]SERVER` as written and resolved.
    pub track: Option<TrackRef>,
    /// The server whose health checks decide this one's state: itself unless it
    /// tracks, else the end of its track chain.
    pub health_source: ServerId,
}

/// A resolved `track` target.
#[derive(Debug, Clone, Serialize)]
pub struct TrackRef {
    /// As written (`bck1/srv1` or `srv1`).
    pub spec: String,
    /// The tracked server.
    pub id: ServerId,
}

/// `redirect location|prefix|scheme <to> ...`.
#[derive(Debug, Clone, Serialize)]
pub struct RedirectRule {
    /// Line of the rule.
    pub line: u32,
    /// `location` (exact), `prefix` (prepended to the request URI) or `scheme`.
    pub kind: RedirectKind,
    /// The location, prefix or scheme.
    pub to: String,
    /// Status code. Default: 302.
    pub code: u16,
    /// `drop-query`: the query string is not carried over (prefix only).
    pub drop_query: bool,
    /// `append-slash`: add `/` to a location that does not end with one (with drop-query).
    pub append_slash: bool,
    /// `if`/`unless` condition; `None` always applies.
    pub cond: Option<Condition>,
}

/// Redirect kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RedirectKind {
    /// `redirect location`: the Location is exactly the string.
    Location,
    /// `redirect prefix`: the Location is the prefix followed by the request URI.
    Prefix,
    /// `redirect scheme`: the Location is `SCHEME://HOST` followed by the request URI.
    Scheme,
}

/// `use_backend <name> [if|unless cond]`.
#[derive(Debug, Clone, Serialize)]
pub struct UseBackendRule {
    /// Target backend.
    pub backend: BackendRef,
    /// Condition; `None` always applies.
    pub cond: Option<Condition>,
}

/// `use-server <name> [if|unless cond]`.
#[derive(Debug, Clone, Serialize)]
pub struct UseServerRule {
    /// Line of the rule.
    pub line: u32,
    /// Server name as written.
    pub name: String,
    /// The server, resolved in the same backend.
    pub server: ServerId,
    /// Condition; `None` always applies.
    pub cond: Option<Condition>,
}

impl Config {
    /// The proxy with this id. Ids come from this config, so the index is valid.
    pub fn proxy(&self, id: ProxyId) -> &Proxy {
        &self.proxies[usize::from(id.0)]
    }

    /// The server with this id.
    pub fn server(&self, id: ServerId) -> &Server {
        &self.servers[id.0 as usize]
    }

    /// Looks a proxy up by name (names are case-sensitive).
    pub fn proxy_id(&self, name: &str) -> Option<ProxyId> {
        self.proxies
            .iter()
            .position(|p| p.name == name)
            .and_then(|i| u16::try_from(i).ok())
            .map(ProxyId)
    }

    /// Looks a server up by backend and server name.
    pub fn server_id(&self, backend: &str, server: &str) -> Option<ServerId> {
        let p = self.proxy(self.proxy_id(backend)?);
        p.servers
            .iter()
            .copied()
            .find(|&s| self.server(s).name == server)
    }

    /// The first frontend or listen section: where a request lands when the
    /// caller does not say.
    pub fn default_frontend(&self) -> Option<ProxyId> {
        self.proxies
            .iter()
            .position(|p| p.kind.is_frontend())
            .and_then(|i| u16::try_from(i).ok())
            .map(ProxyId)
    }

    /// Ids of all proxies, in file order.
    pub fn proxy_ids(&self) -> impl Iterator<Item = ProxyId> + '_ {
        (0..self.proxies.len()).filter_map(|i| u16::try_from(i).ok().map(ProxyId))
    }

    /// Ids of all servers, in file order.
    pub fn server_ids(&self) -> impl Iterator<Item = ServerId> + '_ {
        (0..self.servers.len()).filter_map(|i| u32::try_from(i).ok().map(ServerId))
    }

    /// Servers whose state follows `id` through `track` (not `id` itself).
    pub fn followers(&self, id: ServerId) -> impl Iterator<Item = ServerId> + '_ {
        self.server_ids()
            .filter(move |&s| s != id && self.server(s).health_source == id)
    }

    /// `backend/server`, as HAProxy names servers in logs.
    pub fn server_path(&self, id: ServerId) -> String {
        let s = self.server(id);
        let mut out = String::from(self.proxy(s.proxy).name.as_str());
        out.push('/');
        out.push_str(&s.name);
        out
    }
}
