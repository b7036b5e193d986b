//! Keyword tables: what Wt Edge accepts where, and the HAProxy keywords it
//! knows but refuses (so users get "not supported" rather than "unknown").

/// Kinds of sections a proxy keyword can appear in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Where {
    /// `defaults`
    Defaults,
    /// `frontend`
    Frontend,
    /// `backend`
    Backend,
    /// `listen`
    Listen,
}

use Where::*;

/// A proxy keyword and where it is allowed.
pub struct KeywordSpec {
    /// The keyword.
    pub name: &'static str,
    /// Sections that accept it.
    pub allowed: &'static [Where],
    /// Where to put it instead.
    pub where_hint: &'static str,
    /// HAProxy warns and ignores it elsewhere instead of refusing the config.
    pub ignored_elsewhere: bool,
}

const ALL: &[Where] = &[Defaults, Frontend, Backend, Listen];
const FE: &[Where] = &[Frontend, Listen];
const FE_D: &[Where] = &[Defaults, Frontend, Listen];
const BE: &[Where] = &[Backend, Listen];
const BE_D: &[Where] = &[Defaults, Backend, Listen];
const NOT_D: &[Where] = &[Frontend, Backend, Listen];

const fn kw(
    name: &'static str,
    allowed: &'static [Where],
    where_hint: &'static str,
    ignored: bool,
) -> KeywordSpec {
    KeywordSpec {
        name,
        allowed,
        where_hint,
        ignored_elsewhere: ignored,
    }
}

/// Every proxy keyword Wt Edge implements.
pub const PROXY: &[KeywordSpec] = &[
    kw("mode", ALL, "", false),
    kw(
        "bind",
        FE,
        "bind belongs in a frontend or listen section",
        true,
    ),
    kw("option", ALL, "", false),
    kw("no", ALL, "", false),
    kw("timeout", ALL, "", false),
    kw("errorfile", ALL, "", false),
    kw("contimeout", ALL, "", false),
    kw("clitimeout", ALL, "", false),
    kw("srvtimeout", ALL, "", false),
    kw(
        "redispatch",
        BE_D,
        "set it in defaults or in the backend",
        true,
    ),
    kw(
        "retries",
        BE_D,
        "set it in defaults or in the backend",
        true,
    ),
    kw(
        "maxconn",
        FE_D,
        "in a backend, limit servers with 'server ... maxconn N'",
        true,
    ),
    kw(
        "http-reuse",
        BE_D,
        "set it in defaults or in the backend",
        true,
    ),
    kw(
        "balance",
        BE_D,
        "set it in defaults or in the backend",
        true,
    ),
    kw(
        "hash-type",
        BE_D,
        "set it in defaults or in the backend",
        true,
    ),
    kw("log", ALL, "", false),
    kw(
        "default-server",
        BE_D,
        "default-server belongs in defaults, a backend or a listen section",
        false,
    ),
    kw(
        "default_backend",
        FE_D,
        "default_backend belongs in a frontend, listen or defaults section",
        false,
    ),
    kw(
        "acl",
        NOT_D,
        "declare ACLs in the frontend, backend or listen section that uses them",
        false,
    ),
    kw(
        "redirect",
        NOT_D,
        "redirect rules belong in a frontend, backend or listen section",
        false,
    ),
    kw(
        "http-request",
        NOT_D,
        "http-request rules belong in a frontend, backend or listen section",
        false,
    ),
    kw(
        "http-response",
        NOT_D,
        "http-response rules belong in a frontend, backend or listen section",
        false,
    ),
    kw(
        "use_backend",
        FE,
        "use_backend belongs in a frontend or listen section",
        false,
    ),
    kw(
        "use-server",
        BE,
        "use-server belongs in a backend or listen section",
        false,
    ),
    kw(
        "server",
        BE,
        "servers belong in a backend or listen section",
        false,
    ),
];

/// The spec of a proxy keyword.
pub fn proxy_keyword(name: &str) -> Option<&'static KeywordSpec> {
    PROXY.iter().find(|k| k.name == name)
}

/// Section header keywords.
pub fn section_kind(word: &str) -> Option<&'static str> {
    ["global", "defaults", "frontend", "backend", "listen"]
        .into_iter()
        .find(|s| *s == word)
}

/// HAProxy sections Wt Edge does not implement.
pub const UNSUPPORTED_SECTIONS: &[&str] = &[
    "peers",
    "resolvers",
    "userlist",
    "mailers",
    "program",
    "http-errors",
    "cache",
    "ring",
    "fcgi-app",
];

/// Global keywords Wt Edge accepts.
pub const GLOBAL: &[&str] = &[
    "log",
    "maxconn",
    "user",
    "uid",
    "group",
    "gid",
    "daemon",
    "nbthread",
    "noreuseport",
    "chroot",
    "pidfile",
    "quiet",
    "node",
    "description",
    // TLS defaults (config/parse/tls_defaults.rs): read, no effect without TLS binds.
    "ca-base",
    "crt-base",
    "ssl-default-bind-ciphers",
    "ssl-default-bind-ciphersuites",
    "ssl-default-bind-options",
];

/// HAProxy global keywords Wt Edge refuses.
pub const HAPROXY_GLOBAL: &[&str] = &[
    "ssl-default-server-ciphers",
    "ssl-default-server-ciphersuites",
    "ssl-default-server-options",
    "master-worker",
    "spread-checks",
    "ulimit-n",
    "lua-load",
    "setenv",
    "presetenv",
    "resetenv",
    "unsetenv",
    "cpu-map",
    "hard-stop-after",
    "h1-case-adjust",
    "log-send-hostname",
    "log-tag",
    "server-state-file",
    "server-state-base",
    "expose-experimental-directives",
    "localpeer",
    "maxsslconn",
    "maxconnrate",
    "maxsessrate",
    "noepoll",
    "nosplice",
    "insecure-fork-wanted",
];

/// `timeout` names.
pub const TIMEOUTS: &[&str] = &[
    "connect",
    "client",
    "server",
    "tunnel",
    "queue",
    "check",
    "http-request",
    "http-keep-alive",
    "client-fin",
    "server-fin",
];

/// Options Wt Edge implements.
pub const OPTIONS: &[&str] = &[
    "httplog",
    "dontlognull",
    "http-server-close",
    "httpclose",
    "http-pretend-keepalive",
    "forwardfor",
    "originalto",
    "redispatch",
    "httpchk",
    "allbackups",
    "http-keep-alive",
    "tcp-smart-accept",
    "tcp-smart-connect",
];

/// HAProxy options Wt Edge refuses.
pub const HAPROXY_OPTIONS: &[&str] = &[
    "forceclose",
    "tcplog",
    "tcpka",
    "clitcpka",
    "srvtcpka",
    "abortonclose",
    "accept-invalid-http-request",
    "accept-invalid-http-response",
    "checkcache",
    "log-separate-errors",
    "logasap",
    "persist",
    "prefer-last-server",
    "http-use-proxy-header",
    "http-no-delay",
    "http-buffer-request",
    "http-ignore-probes",
    "splice-auto",
    "splice-request",
    "splice-response",
    "ssl-hello-chk",
    "smtpchk",
    "mysql-check",
    "pgsql-check",
    "redis-check",
    "ldap-check",
    "tcp-check",
    "log-health-checks",
    "independent-streams",
    "nolinger",
    "socket-stats",
    "transparent",
    "http_proxy",
    "http-restrict-req-hdr-names",
    "h1-case-adjust-bogus-client",
    "h1-case-adjust-bogus-server",
    "disable-h2-upgrade",
    "contstats",
    "log-health-checks",
];

/// HAProxy proxy keywords Wt Edge refuses.
pub const HAPROXY_PROXY: &[&str] = &[
    "http-after-response",
    "tcp-request",
    "tcp-response",
    "errorfiles",
    "errorloc",
    "errorloc302",
    "errorloc303",
    "capture",
    "cookie",
    "stick",
    "stick-table",
    "fullconn",
    "hash-balance-factor",
    "compression",
    "http-check",
    "tcp-check",
    "monitor-uri",
    "monitor",
    "monitor-net",
    "description",
    "disabled",
    "enabled",
    "id",
    "grace",
    "rate-limit",
    "reqadd",
    "reqrep",
    "reqdel",
    "rspadd",
    "rsprep",
    "unique-id-format",
    "unique-id-header",
    "log-format",
    "log-tag",
    "email-alert",
    "server-template",
    "dispatch",
    "persist",
    "force-persist",
    "ignore-persist",
    "filter",
    "declare",
    "source",
    "use-fcgi-app",
    "http-error",
    "load-server-state-from-file",
    "server-state-file-name",
    "max-keep-alive-queue",
    "retry-on",
    "backlog",
    "bind-process",
    "external-check",
];

/// Server options Wt Edge implements.
pub const SERVER: &[&str] = &[
    "check",
    "no-check",
    "inter",
    "fastinter",
    "downinter",
    "rise",
    "fall",
    "weight",
    "backup",
    "no-backup",
    "disabled",
    "enabled",
    "track",
    "maxconn",
    "maxqueue",
    "ssl",
    "no-ssl",
    "verify",
    "port",
    "pool-max-conn",
    "pool-purge-delay",
    "pool-low-conn",
];

/// HAProxy server options Wt Edge refuses.
pub const HAPROXY_SERVER: &[&str] = &[
    "addr",
    "agent-check",
    "agent-port",
    "agent-inter",
    "alpn",
    "ca-file",
    "check-ssl",
    "check-send-proxy",
    "ciphers",
    "crt",
    "error-limit",
    "id",
    "init-addr",
    "minconn",
    "observe",
    "on-error",
    "on-marked-down",
    "on-marked-up",
    "proto",
    "redir",
    "resolvers",
    "send-proxy",
    "send-proxy-v2",
    "slowstart",
    "sni",
    "source",
    "tfo",
    "usesrc",
    "namespace",
    "proxy-v2-options",
    "resolve-prefer",
    "resolve-net",
    "check-sni",
    "non-stick",
    "max-reuse",
    "ws",
];

/// The nearest supported form of a refused proxy keyword, for its message.
pub fn nearest_supported(kw: &str) -> &'static str {
    match kw {
        "http-response" | "http-after-response" => {
            "set response headers in the application; 'http-request set-header' edits requests"
        }
        "tcp-request" | "tcp-response" => "use 'http-request deny' or 'http-request allow'",
        "reqadd" | "reqrep" | "reqirep" | "reqdel" | "reqidel" => {
            "use 'http-request set-header', 'add-header' or 'del-header'"
        }
        "reqdeny" | "reqideny" | "block" => "use 'http-request deny if COND'",
        "rspadd" | "rsprep" | "rspdel" | "rspirep" | "rspidel" => {
            "set response headers in the application"
        }
        "errorfiles" | "errorloc" | "errorloc302" | "errorloc303" | "http-error" => {
            "use 'http-request return status N content-type T string S' for a custom answer"
        }
        "stats" => "use 'wtedge --admin ADDR' for the stats page",
        "cookie" => "use 'use-server NAME if COND' on Wt's session-id prefix",
        "http-check" => "use 'option httpchk METHOD URI'",
        _ => "remove it, or see the README for the supported keywords",
    }
}
