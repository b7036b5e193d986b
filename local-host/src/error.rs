//! `local_host::Error`: why wtedge could not start or reload. Each variant keeps what
//! caused it ([`std::error::Error::source`]) and prints the message the CLI shows.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::wasm_engine::WasmError;

/// Why wtedge could not start, load a configuration or bind its sockets.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration was refused: each error with its file:line:col and hint.
    #[error("{0}")]
    Config(#[from] router_core::Errors),
    /// The command line asks for something impossible (`--module` without
    /// `--engine wasm`).
    #[error("wtedge: {0}")]
    Usage(&'static str),
    /// A frontend's `bind` could not listen; `place` is the config's `file:line`.
    #[error(
        "{place}: error: 'bind': cannot listen on {addr} for '{frontend}': {source} (hint: {hint})"
    )]
    Bind {
        /// `file:line` of the `bind`.
        place: String,
        addr: SocketAddr,
        frontend: String,
        /// What to do about it (`run::listen::hint`).
        hint: &'static str,
        source: std::io::Error,
    },
    /// The admin endpoint's address could not be bound.
    #[error("wtedge: cannot bind the admin address {addr}: {source}")]
    AdminBind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    /// A `stats socket` could not be opened.
    #[error("wtedge: {0}")]
    StatsSocket(#[from] crate::stats_socket::SocketError),
    /// The routing module could not be compiled or refused the configuration;
    /// `module`: the `--module` file, `None` for the embedded one.
    #[error("wtedge: {}{source}", module_prefix(.module))]
    Wasm {
        module: Option<PathBuf>,
        source: WasmError,
    },
    /// Another system call failed: reading a file, starting a runtime or a thread;
    /// `what` says which.
    #[error("wtedge: {what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
}

impl Error {
    /// An I/O error while doing `what` ("cannot read x.cfg").
    pub fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
        let what = what.into();
        move |source| Error::Io { what, source }
    }
}

/// "path: " before a `--module` file's error.
fn module_prefix(module: &Option<PathBuf>) -> String {
    module
        .as_ref()
        .map(|p| format!("{}: ", p.display()))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    /// A bind error prints the line `wtedge` printed before the type existed (and
    /// local-host/tests/cli.rs reads) and keeps the system's error as its source.
    #[test]
    fn bind_prints_the_place_and_keeps_its_source() {
        let source = std::io::Error::from(std::io::ErrorKind::AddrInUse);
        let text = source.to_string();
        let e = Error::Bind {
            place: "a.cfg:7".into(),
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            frontend: "f".into(),
            hint: "stop it",
            source,
        };
        assert_eq!(
            e.to_string(),
            format!(
                "a.cfg:7: error: 'bind': cannot listen on 127.0.0.1:8080 for 'f': {text} (hint: stop it)"
            )
        );
        assert!(e.source().is_some_and(|s| s.to_string() == text));
    }

    /// A `--module` file's error names the file; the embedded module's does not.
    #[test]
    fn wasm_names_the_module_file() {
        let source = WasmError::Compile("bad magic".into());
        let e = Error::Wasm {
            module: Some(PathBuf::from("m.wasm")),
            source: source.clone(),
        };
        assert_eq!(
            e.to_string(),
            "wtedge: m.wasm: cannot compile the routing module: bad magic"
        );
        let e = Error::Wasm {
            module: None,
            source,
        };
        assert_eq!(
            e.to_string(),
            "wtedge: cannot compile the routing module: bad magic"
        );
    }
}
