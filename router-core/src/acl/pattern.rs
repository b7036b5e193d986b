//! ACL patterns, parsed for the matcher they are used with.

use alloc::string::String;
use serde::Serialize;

use super::matcher::IntRange;
use crate::config::model::IpNet;

/// One pattern of an ACL line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Pattern {
    /// For string matchers.
    Str(String),
    /// For `int` and `len`.
    Int(IntRange),
    /// For `ip`.
    Ip(IpNet),
}
