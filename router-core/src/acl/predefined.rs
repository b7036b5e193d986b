//! HAProxy's predefined ACLs (manual 7.4), usable in conditions without an
//! `acl` line.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use super::matcher::Matcher;
use super::pattern::Pattern;
use super::{AclTerm, Fetch};

/// Names of the predefined ACLs Wt Edge knows.
pub const NAMES: &[&str] = &[
    "TRUE",
    "FALSE",
    "HTTP",
    "HTTP_1.0",
    "HTTP_1.1",
    "HTTP_2.0",
    "HTTP_URL_SLASH",
    "HTTP_URL_STAR",
    "LOCALHOST",
    "METH_CONNECT",
    "METH_DELETE",
    "METH_GET",
    "METH_HEAD",
    "METH_OPTIONS",
    "METH_POST",
    "METH_PUT",
    "METH_TRACE",
];

fn strs(list: &[&str]) -> Vec<Pattern> {
    list.iter()
        .map(|s| Pattern::Str(String::from(*s)))
        .collect()
}

/// The term a predefined ACL stands for.
pub fn term(name: &str, line: u32) -> Option<AclTerm> {
    let (fetch, matcher, patterns) = match name {
        "TRUE" | "HTTP" => (Fetch::AlwaysTrue, Matcher::Bool, vec![]),
        "FALSE" => (Fetch::AlwaysFalse, Matcher::Bool, vec![]),
        "HTTP_1.0" => (Fetch::ReqVer, Matcher::Str, strs(&["1.0"])),
        "HTTP_1.1" => (Fetch::ReqVer, Matcher::Str, strs(&["1.1"])),
        "HTTP_2.0" => (Fetch::ReqVer, Matcher::Str, strs(&["2.0"])),
        "HTTP_URL_SLASH" => (Fetch::Url, Matcher::Beg, strs(&["/"])),
        "HTTP_URL_STAR" => (Fetch::Url, Matcher::Str, strs(&["*"])),
        "LOCALHOST" => (
            Fetch::Src,
            Matcher::Ip,
            ["127.0.0.1/8", "::1"]
                .iter()
                .filter_map(|n| super::matcher::parse_net(n))
                .map(Pattern::Ip)
                .collect(),
        ),
        "METH_CONNECT" => (Fetch::Method, Matcher::Meth, strs(&["CONNECT"])),
        "METH_DELETE" => (Fetch::Method, Matcher::Meth, strs(&["DELETE"])),
        "METH_GET" => (Fetch::Method, Matcher::Meth, strs(&["GET", "HEAD"])),
        "METH_HEAD" => (Fetch::Method, Matcher::Meth, strs(&["HEAD"])),
        "METH_OPTIONS" => (Fetch::Method, Matcher::Meth, strs(&["OPTIONS"])),
        "METH_POST" => (Fetch::Method, Matcher::Meth, strs(&["POST"])),
        "METH_PUT" => (Fetch::Method, Matcher::Meth, strs(&["PUT"])),
        "METH_TRACE" => (Fetch::Method, Matcher::Meth, strs(&["TRACE"])),
        _ => return None,
    };
    Some(AclTerm {
        line,
        fetch,
        matcher,
        icase: false,
        patterns,
    })
}
