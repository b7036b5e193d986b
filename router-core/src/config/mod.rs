//! The haproxy.cfg dialect: tokenizer, parser and validation into a typed model.

mod addr;
mod backlog;
mod drain_lint;
pub mod edge;
pub mod errorfile;
mod keywords;
#[cfg(test)]
mod keywords_doc;
pub mod lexer;
pub mod model;
mod parse;
pub mod stats;
pub mod suggest;
pub mod time;
mod validate;

use alloc::vec::Vec;

use crate::diag::{Diagnostic, Errors};
pub use model::Config;
pub(crate) use parse::redirect_rule;

/// A configuration that loaded, and what the user should know about it.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// The validated model.
    pub config: Config,
    /// Warnings: legacy keywords, colliding prefixes, ignored settings...
    pub warnings: Vec<Diagnostic>,
}

/// Parses and validates `text`, read from the file named `file` (used in messages).
pub fn parse(file: &str, text: &str) -> Result<Parsed, Errors> {
    let parser = parse::Parser::run(file, text);
    validate::finish(parser)
}

/// [`parse`], then reads the `errorfile` pages through `files` (the host's file
/// reader: router-core does no I/O) and checks them as HAProxy does at load.
pub fn parse_with_files(
    file: &str,
    text: &str,
    files: &dyn Fn(&str) -> Result<Vec<u8>, alloc::string::String>,
) -> Result<Parsed, Errors> {
    let mut parsed = parse(file, text)?;
    errorfile::load(&mut parsed, files)?;
    Ok(parsed)
}
