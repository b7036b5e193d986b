//! The words configs and requests are built from: ACL patterns come from here, and
//! requests are built from the same words (then mutated), so that rules match often.

pub const PATHS: &[&str] = &[
    "/",
    "/app",
    "/app/",
    "/app/page",
    "/static/css/wt.css",
    "/static/img.png",
    "/api/v1/items",
    "/login",
    "/Admin/panel",
    "/a.b/c.d",
    "/resources/",
    "/ws",
];

/// Parts of paths used as `_beg`/`_sub`/`_end`/`_dir`/`_dom` patterns.
pub const PATH_PARTS: &[&str] = &[
    "/",
    "/app",
    "/static",
    "app",
    "static",
    ".png",
    ".css",
    "/api",
    "api",
    "v1",
    "page",
    "login",
    "/Admin",
    "admin",
    "b",
    "c.d",
    "/ws",
    "resources/",
];

pub const HOSTS: &[&str] = &[
    "example.com",
    "www.example.com",
    "sample.com",
    "sample.com:8080",
    "dev.example.com",
    "Example.COM",
    "10.0.0.5",
    "127.0.0.1:80",
];

pub const HOST_PARTS: &[&str] = &[
    "example.com",
    "www.example.com",
    "sample.com",
    "example",
    "dev.",
    "dev",
    ".com",
    "com",
    "sample.com:8080",
    "10.0.0.5",
];

/// Wt session ids (`wtd=`) of servers prefixed wt1, wt2, wt10.
pub const SESSIONS: &[&str] = &[
    "wt1AAAAAAAAAAAAAAAA",
    "wt2BBBBBBBBBBBBBBBB",
    "wt10CCCCCCCCCCCCCCC",
    "wt3",
];

pub const PARAMS: &[&str] = &["wtd", "request", "q", "n", "lang"];

pub const PARAM_VALUES: &[&str] = &[
    "ws", "resource", "5", "12", "-3", "en", "a.b.c", "x/y", "", "Wt1",
];

/// Extra request headers and values they take.
pub const HEADERS: &[(&str, &[&str])] = &[
    ("X-Env", &["dev", "prod", "Dev,test", "staging"]),
    ("User-Agent", &["Mozilla/5.0", "curl/8.0"]),
    ("X-N", &["3", "10", "-1", "abc", "7, 2"]),
    (
        "X-Real-IP",
        &["10.1.2.3", "127.0.0.1", "::1", "garbage", "10.0.0.300"],
    ),
    ("X-Forwarded-For", &["203.0.113.9", "10.0.0.1, 10.0.0.2"]),
    ("Accept", &["text/html", "*/*"]),
];

pub const HEADER_NAMES: &[&str] = &[
    "host",
    "Host",
    "x-env",
    "X-Env",
    "user-agent",
    "x-n",
    "x-real-ip",
    "x-forwarded-for",
    "accept",
];

pub const METHODS: &[&str] = &["GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH"];

/// HAProxy's predefined ACLs that Wt Edge supports, space-separated.
pub const PREDEFINED: &str = "TRUE FALSE HTTP HTTP_1.0 HTTP_1.1 HTTP_URL_SLASH HTTP_URL_STAR \
     LOCALHOST METH_GET METH_POST METH_HEAD METH_OPTIONS METH_PUT METH_DELETE";
