//! `wtedge check` and `wtedge explain`: thin command-line views of router-core.

pub mod check;
pub mod explain;

use std::path::Path;
use std::process::ExitCode;

use router_core::{Errors, Parsed};

/// Exit code for a config with errors.
pub const EXIT_CONFIG: u8 = 1;
/// Exit code for bad command-line input (unreadable file, unknown server...).
pub const EXIT_USAGE: u8 = 2;

/// Reads and parses a config file; prints errors and returns the exit code on failure.
pub fn load(path: &Path) -> Result<Parsed, ExitCode> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("wtedge: cannot read {}: {e}", path.display());
            return Err(ExitCode::from(EXIT_USAGE));
        }
    };
    let name = path.display().to_string();
    let read = |f: &str| std::fs::read(f).map_err(|e| e.to_string());
    router_core::parse_with_files(&name, &text, &read).map_err(|e| {
        print_errors(&e);
        ExitCode::from(EXIT_CONFIG)
    })
}

/// Prints errors and the warnings that came with them to stderr.
pub fn print_errors(e: &Errors) {
    for w in &e.warnings {
        eprintln!("{}", w.as_warning());
    }
    for err in &e.errors {
        eprintln!("{}", err.as_error());
    }
    eprintln!(
        "{} error(s), {} warning(s): configuration refused",
        e.errors.len(),
        e.warnings.len()
    );
}
