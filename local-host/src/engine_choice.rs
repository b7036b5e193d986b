//! Which routing engine `wtedge` runs: router-core compiled to WebAssembly in
//! wasmtime (the default: the decisions the edge makes) or linked natively.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use router_core::Config;

use crate::Error;
use crate::engine::{Engine, NativeEngine};
use crate::wasm_engine::{EMBEDDED_MODULE, WasmEngine, WasmError, WasmRuntime};

/// `--engine`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EngineKind {
    /// router-core as WebAssembly in wasmtime, as at the edge.
    #[default]
    Wasm,
    /// router-core linked into wtedge.
    Native,
}

/// The engine to build for each configuration (start-up and every reload).
#[derive(Clone, Default)]
pub enum EngineChoice {
    /// The wasm module: `None` is the embedded one (compiled once per process).
    #[default]
    EmbeddedWasm,
    /// A module given with `--module`, compiled at start-up.
    Wasm(Arc<WasmRuntime>),
    /// Native router-core.
    Native,
}

static EMBEDDED: OnceLock<Result<Arc<WasmRuntime>, WasmError>> = OnceLock::new();

fn embedded() -> Result<Arc<WasmRuntime>, Error> {
    EMBEDDED
        .get_or_init(|| WasmRuntime::new(EMBEDDED_MODULE))
        .clone()
        .map_err(|source| Error::Wasm {
            module: None,
            source,
        })
}

impl EngineChoice {
    /// From the command line: compiles the module now, so a bad one fails at start-up.
    pub fn from_args(kind: EngineKind, module: Option<&PathBuf>) -> Result<Self, Error> {
        match (kind, module) {
            (EngineKind::Native, Some(_)) => Err(Error::Usage("--module needs --engine wasm")),
            (EngineKind::Native, None) => Ok(EngineChoice::Native),
            (EngineKind::Wasm, None) => embedded().map(|_| EngineChoice::EmbeddedWasm),
            (EngineKind::Wasm, Some(path)) => {
                let bytes = std::fs::read(path)
                    .map_err(Error::io(format!("cannot read {}", path.display())))?;
                WasmRuntime::new(&bytes)
                    .map(EngineChoice::Wasm)
                    .map_err(|source| Error::Wasm {
                        module: Some(path.clone()),
                        source,
                    })
            }
        }
    }

    /// A short name for logs.
    pub fn describe(&self) -> String {
        match self {
            EngineChoice::EmbeddedWasm => {
                format!("wasm (embedded module, {} bytes)", EMBEDDED_MODULE.len())
            }
            EngineChoice::Wasm(_) => String::from("wasm (--module)"),
            EngineChoice::Native => String::from("native"),
        }
    }

    /// Builds the engine for `cfg` (parsed from `text`), keeping the UP/DOWN
    /// state of the servers `previous` also has.
    pub fn build(
        &self,
        cfg: Config,
        text: &str,
        previous: Option<(&dyn Engine, u64)>,
    ) -> Result<Arc<dyn Engine>, Error> {
        let runtime = match self {
            EngineChoice::Native => {
                return Ok(match previous {
                    Some((old, now)) => Arc::new(NativeEngine::reloaded(cfg, old, now)),
                    None => Arc::new(NativeEngine::new(cfg)),
                });
            }
            EngineChoice::EmbeddedWasm => embedded()?,
            EngineChoice::Wasm(rt) => rt.clone(),
        };
        let engine = match previous {
            Some((old, now)) => WasmEngine::reloaded(&runtime, cfg, text, old, now),
            None => WasmEngine::new(&runtime, cfg, text),
        };
        engine
            .map(|e| Arc::new(e) as Arc<dyn Engine>)
            .map_err(|source| Error::Wasm {
                module: None,
                source,
            })
    }
}
