//! router-core compiled to WebAssembly and run in wasmtime: the same module the
//! edge runs, behind the proxy's [`Engine`] interface.
//!
//! The module is compiled once ([`WasmRuntime`]); each reload builds an
//! `InstancePre` from it. Every tokio worker thread gets its own Store + Instance
//! (thread-local, used only inside a synchronous call, never across an `.await`),
//! so the hot path takes no lock. The round-robin state of each backend (host
//! imports `rr_load` / `rr_store`: the module's [`router_core::Rotation`]
//! as bytes, stored back only if no other thread stored in between) and the health
//! snapshot live in the host and are shared by all threads. A trap answers 500 for that request and the thread's instance is
//! rebuilt for the next one.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use router_core::HeaderInterest;
use router_core::RequestFacts;
use router_core::Trace;
use router_core::model::{Config, ProxyId, ServerId};
use router_core::unstable::health::{
    AdminOp, AdminRefusal, HealthSnapshot, Observation, Transition,
};
use router_core::unstable::wire::{self, Mode};
use router_core::{Decision, Forward};
use wasmtime::{Caller, Instance, InstancePre, Linker, Memory, Module, Store, TypedFunc};

use crate::engine::{Engine, Served};

/// The router-core module built with the workspace (see build.rs).
pub static EMBEDDED_MODULE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/router_core.wasm"));

/// Status answered when the module traps on a request.
pub const TRAP_STATUS: u16 = 500;

/// Why the wasm engine could not start.
#[derive(Debug, Clone, thiserror::Error)]
pub enum WasmError {
    /// The module does not compile (wrong file, or not a router-core module).
    #[error("cannot compile the routing module: {0}")]
    Compile(String),
    /// The module lacks an export or import the host needs.
    #[error("the routing module does not have the router-core ABI: {0}")]
    Abi(String),
    /// Instantiation or a call failed.
    #[error("the routing module failed: {0}")]
    Call(String),
    /// The module refused the configuration the native parser accepted.
    #[error("the routing module refused the configuration:\n{0}")]
    Refused(String),
}

fn err<E: std::fmt::Display>(wrap: fn(String) -> WasmError) -> impl Fn(E) -> WasmError {
    move |e| wrap(format!("{e:#}"))
}

/// The compiled module, shared by every configuration loaded in this process.
pub struct WasmRuntime {
    engine: wasmtime::Engine,
    module: Module,
}

impl WasmRuntime {
    /// Compiles `bytes` (the embedded module or one given with `--module`).
    pub fn new(bytes: &[u8]) -> Result<Arc<Self>, WasmError> {
        let mut config = wasmtime::Config::new();
        // `WTEDGE_WASM_PERFMAP=1`: name the module's functions for `perf` (profiling).
        if std::env::var_os("WTEDGE_WASM_PERFMAP").is_some() {
            config.profiler(wasmtime::ProfilingStrategy::PerfMap);
        }
        let engine = wasmtime::Engine::new(&config).map_err(err(WasmError::Compile))?;
        let module = Module::new(&engine, bytes).map_err(err(WasmError::Compile))?;
        Ok(Arc::new(WasmRuntime { engine, module }))
    }

    /// Size of the module in bytes, for the start-up log.
    pub fn module_size(bytes: &[u8]) -> usize {
        bytes.len()
    }
}

/// Each backend's round-robin state as the module encodes it, with a version that
/// moves on at each store.
struct Rotations(Vec<Mutex<(u32, Vec<u8>)>>);

impl Rotations {
    fn new(cfg: &Config) -> Self {
        Rotations(
            (0..cfg.proxies.len())
                .map(|_| Mutex::new((0, Vec::new())))
                .collect(),
        )
    }

    fn get(&self, backend: i32) -> Option<&Mutex<(u32, Vec<u8>)>> {
        usize::try_from(backend).ok().and_then(|b| self.0.get(b))
    }
}

struct HostData {
    rotations: Arc<Rotations>,
    served: Arc<Served>,
}

fn memory(caller: &mut Caller<'_, HostData>) -> Option<Memory> {
    match caller.get_export("memory") {
        Some(wasmtime::Extern::Memory(m)) => Some(m),
        _ => None,
    }
}

/// `rr_load(backend, ptr, cap) -> version << 32 | len`: writes the state at `ptr`
/// when it fits in `cap` bytes.
fn rr_load(mut caller: Caller<'_, HostData>, backend: i32, ptr: i32, cap: i32) -> i64 {
    let rotations = caller.data().rotations.clone();
    let Some(slot) = rotations.get(backend) else {
        return 0;
    };
    let guard = lock(slot);
    let (version, bytes) = (&guard.0, &guard.1);
    let fits = usize::try_from(cap).is_ok_and(|cap| bytes.len() <= cap);
    if fits && !bytes.is_empty() {
        let written = match (memory(&mut caller), usize::try_from(ptr)) {
            (Some(m), Ok(at)) => m.write(&mut caller, at, bytes).is_ok(),
            _ => false,
        };
        if !written {
            // Nothing readable: the module starts from a fresh rotation.
            return i64::from(*version) << 32;
        }
    }
    (i64::from(*version) << 32) | i64::try_from(bytes.len()).unwrap_or(0)
}

/// `served(server)`: the streams the server serves now.
fn served(caller: Caller<'_, HostData>, server: i32) -> i32 {
    let n = u32::try_from(server).map_or(0, |s| caller.data().served.get(ServerId(s)));
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// `served_changed(server)`: when its count last changed.
fn served_changed(caller: Caller<'_, HostData>, server: i32) -> i64 {
    let n = u32::try_from(server).map_or(0, |s| caller.data().served.changed(ServerId(s)));
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// `random()`: a random number for `balance random`.
fn random(_: Caller<'_, HostData>) -> i32 {
    crate::engine::random() as i32
}

/// `rr_store(backend, version, ptr, len) -> 1 stored | 0 stale`.
fn rr_store(
    mut caller: Caller<'_, HostData>,
    backend: i32,
    version: i32,
    ptr: i32,
    len: i32,
) -> i32 {
    let rotations = caller.data().rotations.clone();
    let Some(slot) = rotations.get(backend) else {
        return 1;
    };
    let (Ok(at), Ok(n)) = (usize::try_from(ptr), usize::try_from(len)) else {
        return 1;
    };
    let Some(mem) = memory(&mut caller) else {
        return 1;
    };
    let Some(bytes) = mem.data(&caller).get(at..at.saturating_add(n)) else {
        return 1;
    };
    let mut guard = lock(slot);
    if guard.0 != version as u32 {
        return 0;
    }
    guard.0 = guard.0.wrapping_add(1);
    guard.1.clear();
    guard.1.extend_from_slice(bytes);
    1
}

/// One instance with its exports, owned by one thread.
struct Inst {
    store: Store<HostData>,
    memory: Memory,
    input: TypedFunc<u32, u32>,
    output: TypedFunc<(), u32>,
    route: TypedFunc<u32, i64>,
    /// The module's input buffer (address, size): written directly while requests fit.
    input_buf: (usize, usize),
    /// The health generation this instance last received (`u64::MAX`: none yet).
    health_gen: u64,
    observe: TypedFunc<(u32, i64, u32), i32>,
    force: TypedFunc<(u32, i32, i64), i32>,
    health: TypedFunc<(), i32>,
    next_check: TypedFunc<u32, i64>,
    /// `wr_admin` (a module built before the runtime API has none).
    admin: Option<TypedFunc<(u32, u32, i64), i32>>,
}

impl Inst {
    fn new(
        pre: &InstancePre<HostData>,
        shared: &(Arc<Rotations>, Arc<Served>),
        load: &[u8],
    ) -> Result<Self, WasmError> {
        let mut store = Store::new(
            pre.module().engine(),
            HostData {
                rotations: shared.0.clone(),
                served: shared.1.clone(),
            },
        );
        let instance: Instance = pre.instantiate(&mut store).map_err(err(WasmError::Call))?;
        let memory = instance
            .get_memory(&mut store, "memory")
            .ok_or_else(|| WasmError::Abi(String::from("no exported memory")))?;
        macro_rules! f {
            ($name:literal) => {
                instance
                    .get_typed_func(&mut store, $name)
                    .map_err(err(WasmError::Abi))?
            };
        }
        let mut inst = Inst {
            input: f!("wr_input"),
            output: f!("wr_output"),
            route: f!("wr_route"),
            observe: f!("wr_observe"),
            force: f!("wr_force"),
            health: f!("wr_health"),
            next_check: f!("wr_next_check"),
            admin: instance.get_typed_func(&mut store, "wr_admin").ok(),
            input_buf: (0, 0),
            health_gen: u64::MAX,
            store,
            memory,
        };
        let load_fn: TypedFunc<u32, i32> = instance
            .get_typed_func(&mut inst.store, "wr_load")
            .map_err(err(WasmError::Abi))?;
        inst.write_input(load)?;
        let len = u32::try_from(load.len()).map_err(err(WasmError::Call))?;
        let code = load_fn
            .call(&mut inst.store, len)
            .map_err(err(WasmError::Call))?;
        if code != 0 {
            let msg = String::from_utf8_lossy(
                &inst.read_output(usize::try_from(inst.output_len_hint()).unwrap_or(0))?,
            )
            .into_owned();
            return Err(WasmError::Refused(msg));
        }
        Ok(inst)
    }

    fn output_len_hint(&self) -> i32 {
        // wr_load leaves its messages in the output buffer; read up to 64 KiB of them.
        65536
    }

    /// Makes the module's input buffer at least `len` bytes.
    fn reserve_input(&mut self, len: usize) -> Result<(), WasmError> {
        if len > self.input_buf.1 {
            // Grow with headroom so that slightly larger requests do not call again.
            let want = len.max(1024).next_power_of_two();
            let n = u32::try_from(want).map_err(err(WasmError::Call))?;
            let ptr = self
                .input
                .call(&mut self.store, n)
                .map_err(err(WasmError::Call))? as usize;
            self.input_buf = (ptr, want);
        }
        Ok(())
    }

    fn write_input(&mut self, bytes: &[u8]) -> Result<(), WasmError> {
        self.reserve_input(bytes.len())?;
        self.memory
            .write(&mut self.store, self.input_buf.0, bytes)
            .map_err(err(WasmError::Call))
    }

    fn read_output(&mut self, len: usize) -> Result<Vec<u8>, WasmError> {
        let ptr = self
            .output
            .call(&mut self.store, ())
            .map_err(err(WasmError::Call))? as usize;
        let data = self.memory.data(&self.store);
        let end = ptr.saturating_add(len).min(data.len());
        Ok(data.get(ptr..end).map(<[u8]>::to_vec).unwrap_or_default())
    }

    /// Runs one request, encoded straight into the module's input buffer;
    /// returns the decision's bytes in the module's memory.
    fn route(
        &mut self,
        mode: Mode,
        frontend: ProxyId,
        req: &RequestFacts<'_>,
        health: Option<&[u8]>,
        interest: &HeaderInterest,
    ) -> Result<&[u8], WasmError> {
        let len = wire::request_len(req, health);
        self.reserve_input(len)?;
        let at = self.input_buf.0;
        let dst = self
            .memory
            .data_mut(&mut self.store)
            .get_mut(at..at.saturating_add(len))
            .ok_or_else(|| WasmError::Call(String::from("input buffer outside memory")))?;
        let written = wire::write_request(dst, mode, frontend, req, health, interest);
        let n = u32::try_from(written).map_err(err(WasmError::Call))?;
        if n == 0 {
            return Err(WasmError::Call(String::from(
                "request larger than its encoding",
            )));
        }
        let packed = self
            .route
            .call(&mut self.store, n)
            .map_err(err(WasmError::Call))?;
        if packed < 0 {
            return Err(WasmError::Call(format!("wr_route returned {packed}")));
        }
        let ptr = (packed >> 32) as usize;
        let n = (packed & 0xffff_ffff) as usize;
        self.memory
            .data(&self.store)
            .get(ptr..ptr.saturating_add(n))
            .ok_or_else(|| WasmError::Call(String::from("output outside memory")))
    }

    fn snapshot(&mut self) -> Result<Vec<u8>, WasmError> {
        let n = self
            .health
            .call(&mut self.store, ())
            .map_err(err(WasmError::Call))?;
        let n = usize::try_from(n).map_err(|_| WasmError::Call(String::from("no health state")))?;
        self.read_output(n)
    }
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// This thread's instances, by engine id (a reload makes a new engine; the
    /// old one keeps serving its in-flight requests for a while).
    static INSTANCES: RefCell<Vec<(u64, Inst)>> = const { RefCell::new(Vec::new()) };
}

/// router-core in wasmtime, implementing the proxy's engine interface.
pub struct WasmEngine {
    id: u64,
    cfg: Config,
    load: Vec<u8>,
    pre: InstancePre<HostData>,
    /// Round-robin states and stream counts, shared by every instance.
    shared: (Arc<Rotations>, Arc<Served>),
    /// The single writer of health state: one instance, off the request path.
    health: Mutex<Inst>,
    /// One byte per server, what requests read.
    snapshot: RwLock<Arc<Vec<u8>>>,
    /// Bumped after each change of `snapshot`: a request carries the health
    /// bytes only to an instance that has not seen the current generation.
    generation: AtomicU64,
    /// The headers the config can look at: only those are sent to the module.
    interest: HeaderInterest,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl WasmEngine {
    /// Loads `text` (already validated natively as `cfg`) into the module.
    pub fn new(runtime: &WasmRuntime, cfg: Config, text: &str) -> Result<Self, WasmError> {
        let mut linker: Linker<HostData> = Linker::new(&runtime.engine);
        let abi =
            |r: wasmtime::Result<&mut Linker<HostData>>| r.map(|_| ()).map_err(err(WasmError::Abi));
        abi(linker.func_wrap("wtedge", "rr_load", rr_load))?;
        abi(linker.func_wrap("wtedge", "rr_store", rr_store))?;
        abi(linker.func_wrap("wtedge", "served", served))?;
        abi(linker.func_wrap("wtedge", "served_changed", served_changed))?;
        abi(linker.func_wrap("wtedge", "random", random))?;
        let pre = linker
            .instantiate_pre(&runtime.module)
            .map_err(err(WasmError::Abi))?;
        let mut load = Vec::with_capacity(text.len() + cfg.file.len() + 4);
        load.extend_from_slice(&u32::try_from(cfg.file.len()).unwrap_or(0).to_le_bytes());
        load.extend_from_slice(cfg.file.as_bytes());
        load.extend_from_slice(text.as_bytes());
        let shared = (Arc::new(Rotations::new(&cfg)), Served::new(&cfg));
        let interest = HeaderInterest::of(&cfg);
        let mut health = Inst::new(&pre, &shared, &load)?;
        let snapshot = RwLock::new(Arc::new(health.snapshot()?));
        Ok(WasmEngine {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            cfg,
            load,
            pre,
            shared,
            health: Mutex::new(health),
            snapshot,
            generation: AtomicU64::new(0),
            interest,
        })
    }

    /// Runs the module's `wr_route` on arbitrary bytes, as a peer that does not speak
    /// the wire format would: `Ok` with the decision's bytes, empty when the module
    /// refused the input; `Err` only when the module trapped (a panic inside it), which
    /// the fuzz target `wasm_route` looks for.
    pub fn route_bytes(&self, input: &[u8]) -> Result<Vec<u8>, WasmError> {
        let mut guard = lock(&self.health);
        let inst = &mut *guard;
        inst.write_input(input)?;
        let n = u32::try_from(input.len()).map_err(err(WasmError::Call))?;
        let packed = inst
            .route
            .call(&mut inst.store, n)
            .map_err(err(WasmError::Call))?;
        if packed < 0 {
            return Ok(Vec::new());
        }
        let ptr = (packed >> 32) as usize;
        let len = (packed & 0xffff_ffff) as usize;
        Ok(inst
            .memory
            .data(&inst.store)
            .get(ptr..ptr.saturating_add(len))
            .map(<[u8]>::to_vec)
            .unwrap_or_default())
    }

    /// A new engine that keeps the UP/DOWN state of the servers `previous` also has.
    pub fn reloaded(
        runtime: &WasmRuntime,
        cfg: Config,
        text: &str,
        previous: &dyn Engine,
        now_ms: u64,
    ) -> Result<Self, WasmError> {
        let e = WasmEngine::new(runtime, cfg, text)?;
        let old = previous.config();
        for id in e.cfg.server_ids() {
            let s = e.cfg.server(id);
            if let Some(old_id) = old.server_id(&e.cfg.proxy(s.proxy).name, &s.name) {
                e.force(id, previous.is_up(old_id), now_ms);
            }
        }
        crate::engine::carry_admin(&e, previous, now_ms);
        Ok(e)
    }

    fn snapshot_bytes(&self) -> Arc<Vec<u8>> {
        self.snapshot
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn publish(&self, inst: &mut Inst) {
        if let Ok(bytes) = inst.snapshot() {
            *self.snapshot.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(bytes);
            // After the bytes: a reader that sees the new generation reads them
            // (or newer ones, which the next generation sends again).
            self.generation.fetch_add(1, Ordering::Release);
        }
    }

    /// The decision for `req` with the trace of the rules and ACLs evaluated,
    /// computed by the module (for `explain` and the native/wasm parity test).
    pub fn decide_traced<'c>(
        &'c self,
        frontend: ProxyId,
        req: &RequestFacts<'_>,
    ) -> Result<(Decision<'c>, Trace), WasmError> {
        let (d, trace) = self.call(Mode::Route { trace: true }, frontend, req)?;
        let d = d.unwrap_or(Decision::Respond {
            status: router_core::unstable::router::NO_SERVER,
            backend: None,
        });
        Ok((d, trace))
    }

    /// Runs `mode` for `req` on this thread's instance.
    fn call<'c>(
        &'c self,
        mode: Mode,
        frontend: ProxyId,
        req: &RequestFacts<'_>,
    ) -> Result<(Option<Decision<'c>>, Trace), WasmError> {
        INSTANCES.with_borrow_mut(|instances| {
            let pos = match instances.iter().position(|(id, _)| *id == self.id) {
                Some(p) => p,
                None => {
                    if instances.len() >= 4 {
                        instances.remove(0);
                    }
                    instances.push((self.id, Inst::new(&self.pre, &self.shared, &self.load)?));
                    instances.len() - 1
                }
            };
            let inst = &mut instances[pos].1;
            let generation = self.generation.load(Ordering::Acquire);
            let health = (inst.health_gen != generation).then(|| self.snapshot_bytes());
            let result = inst
                .route(
                    mode,
                    frontend,
                    req,
                    health.as_deref().map(|h| &h[..]),
                    &self.interest,
                )
                .and_then(|out| {
                    wire::decode_decision(&self.cfg, out)
                        .map_err(|e| WasmError::Call(format!("undecodable decision: {e:?}")))
                });
            if result.is_ok() {
                inst.health_gen = generation;
            } else {
                // A trap leaves the instance in an unknown state: the next request gets a fresh one.
                instances.remove(pos);
            }
            result
        })
    }
}

impl Engine for WasmEngine {
    fn config(&self) -> &Config {
        &self.cfg
    }

    fn decide<'c>(&'c self, frontend: ProxyId, req: &RequestFacts<'_>) -> Decision<'c> {
        match self.call(Mode::Route { trace: false }, frontend, req) {
            Ok((Some(d), _)) => d,
            Ok((None, _)) => Decision::Respond {
                status: router_core::unstable::router::NO_SERVER,
                backend: None,
            },
            Err(e) => {
                tracing::error!("routing module failed, answering {TRAP_STATUS}: {e}");
                Decision::Respond {
                    status: TRAP_STATUS,
                    backend: None,
                }
            }
        }
    }

    fn redispatch<'c>(
        &'c self,
        failed: &Forward<'_>,
        req: &RequestFacts<'_>,
    ) -> Option<Forward<'c>> {
        let mode = Mode::Redispatch {
            backend: failed.backend,
            server: failed.server,
        };
        match self.call(mode, failed.frontend, req) {
            // The module does not know the edits of the first decision: they stay.
            Ok((Some(Decision::Forward(f)), _)) => Some(Forward {
                edits: failed.edits.clone(),
                method: failed.method.clone(),
                target: failed.target.clone(),
                vars: failed.vars.clone(),
                ..f
            }),
            Ok(_) => None,
            Err(e) => {
                tracing::error!("routing module failed during redispatch: {e}");
                None
            }
        }
    }

    fn observe(&self, server: ServerId, obs: Observation) -> Option<Transition> {
        let mut guard = lock(&self.health);
        let inst: &mut Inst = &mut guard;
        let flags = u32::from(obs.ok) | (u32::from(obs.passive) << 1);
        let at = i64::try_from(obs.at_ms).unwrap_or(i64::MAX);
        let code = inst.observe.call(&mut inst.store, (server.0, at, flags));
        match code {
            Ok(up @ (0 | 1)) => {
                self.publish(inst);
                Some(Transition {
                    server,
                    up: up == 1,
                    at_ms: obs.at_ms,
                    consecutive: 0,
                })
            }
            Ok(_) => None,
            Err(e) => {
                tracing::error!("routing module failed on a health observation: {e:#}");
                None
            }
        }
    }

    fn is_up(&self, server: ServerId) -> bool {
        HealthSnapshot::from_bytes(&self.cfg, &self.snapshot_bytes()).is_up(&self.cfg, server)
    }

    fn next_check_in(&self, server: ServerId) -> u64 {
        let mut guard = lock(&self.health);
        let inst: &mut Inst = &mut guard;
        let v = inst
            .next_check
            .call(&mut inst.store, server.0)
            .unwrap_or(-1);
        u64::try_from(v).unwrap_or_else(|_| self.cfg.server(server).params.inter)
    }

    fn force(&self, server: ServerId, up: bool, now_ms: u64) {
        let mut guard = lock(&self.health);
        let inst: &mut Inst = &mut guard;
        let at = i64::try_from(now_ms).unwrap_or(i64::MAX);
        if let Err(e) = inst
            .force
            .call(&mut inst.store, (server.0, i32::from(up), at))
        {
            tracing::error!("routing module failed forcing a server state: {e:#}");
        }
        self.publish(inst);
    }

    fn admin(&self, server: ServerId, op: AdminOp, now_ms: u64) -> Result<(), AdminRefusal> {
        let mut guard = lock(&self.health);
        let inst: &mut Inst = &mut guard;
        let at = i64::try_from(now_ms).unwrap_or(i64::MAX);
        let code = match &inst.admin {
            Some(f) => f.call(&mut inst.store, (server.0, op.to_code(), at)),
            None => {
                tracing::error!("the routing module has no wr_admin: server states cannot change");
                return Err(AdminRefusal::NoServer);
            }
        };
        self.publish(inst);
        match code {
            Ok(0) => Ok(()),
            Ok(1) => Err(AdminRefusal::Tracking),
            Ok(_) => Err(AdminRefusal::NoServer),
            Err(e) => {
                tracing::error!("routing module failed on an operator's change: {e:#}");
                Err(AdminRefusal::NoServer)
            }
        }
    }

    fn health_snapshot(&self) -> HealthSnapshot {
        HealthSnapshot::from_bytes(&self.cfg, &self.snapshot_bytes())
    }

    fn served(&self) -> &Arc<Served> {
        &self.shared.1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CFG: &str = "frontend f\n bind :80\n default_backend b\n\
        backend b\n balance roundrobin\n server s1 10.0.0.1:80 check\n server s2 10.0.0.2:80 check\n";

    fn servers_chosen(engine: &WasmEngine, n: usize) -> Vec<String> {
        let req = RequestFacts {
            method: "GET",
            target: "/",
            version: "HTTP/1.1",
            headers: &[("Host", "a")],
            src: "10.9.9.9:1000".parse().unwrap_or_else(|e| panic!("{e}")),
            dst: "10.0.0.9:80".parse().unwrap_or_else(|e| panic!("{e}")),
            tls: false,
        };
        let fe = engine.cfg.default_frontend().unwrap_or_else(|| panic!());
        (0..n)
            .map(|_| match engine.decide(fe, &req) {
                Decision::Forward(f) => engine.cfg.server(f.server).name.clone(),
                d => panic!("{d:?}"),
            })
            .collect()
    }

    /// Health bytes travel only when they changed: an instance that already
    /// routed must still see every later change, on this thread and on others.
    #[test]
    fn instances_follow_health_changes() {
        let runtime = WasmRuntime::new(EMBEDDED_MODULE).unwrap_or_else(|e| panic!("{e}"));
        let cfg = router_core::parse("t.cfg", CFG)
            .unwrap_or_else(|e| panic!("{e}"))
            .config;
        let s1 = cfg.server_id("b", "s1").unwrap_or_else(|| panic!());
        let engine = WasmEngine::new(&runtime, cfg, CFG).unwrap_or_else(|e| panic!("{e}"));
        let both = servers_chosen(&engine, 4);
        assert!(both.contains(&String::from("s1")) && both.contains(&String::from("s2")));
        std::thread::scope(|scope| {
            // Another thread whose instance routed before the change, and after it.
            let (ask, asked) = std::sync::mpsc::channel::<usize>();
            let (tell, told) = std::sync::mpsc::channel();
            let engine = &engine;
            scope.spawn(move || {
                for n in asked {
                    if tell.send(servers_chosen(engine, n)).is_err() {
                        break;
                    }
                }
            });
            let other = |n| {
                ask.send(n).unwrap_or_else(|e| panic!("{e}"));
                told.recv().unwrap_or_else(|e| panic!("{e}"))
            };
            assert!(other(4).contains(&String::from("s1")));
            engine.force(s1, false, 0);
            assert_eq!(servers_chosen(engine, 4), ["s2"; 4]);
            assert_eq!(other(4), ["s2"; 4]);
            engine.force(s1, true, 0);
            assert!(other(4).contains(&String::from("s1")));
        });
        engine.force(s1, true, 0);
        assert!(servers_chosen(&engine, 4).contains(&String::from("s1")));
    }

    /// Every instance takes its turn in one shared rotation: the picks of two
    /// threads, in the order they were made, are HAProxy 2.6's sequence for
    /// weights 1:2 (`bbabba...`, from a fresh HAProxy), and a server set DOWN and
    /// UP is repositioned as HAProxy does.
    #[test]
    fn threads_share_haproxys_weighted_rotation() {
        let text = CFG.replace("s2 10.0.0.2:80 check", "s2 10.0.0.2:80 check weight 2");
        let runtime = WasmRuntime::new(EMBEDDED_MODULE).unwrap_or_else(|e| panic!("{e}"));
        let cfg = router_core::parse("t.cfg", &text)
            .unwrap_or_else(|e| panic!("{e}"))
            .config;
        let s2 = cfg.server_id("b", "s2").unwrap_or_else(|| panic!());
        let engine = WasmEngine::new(&runtime, cfg, &text).unwrap_or_else(|e| panic!("{e}"));
        let mut seq = Vec::new();
        for i in 0..6 {
            let picks = if i % 2 == 0 {
                servers_chosen(&engine, 2)
            } else {
                std::thread::scope(|s| {
                    s.spawn(|| servers_chosen(&engine, 2))
                        .join()
                        .unwrap_or_else(|_| panic!())
                })
            };
            seq.extend(picks);
        }
        let short = |v: &[String]| v.iter().map(|n| &n[1..]).collect::<String>();
        assert_eq!(short(&seq), "221221221221");
        // HAProxy 2.6, same config: 3 picks, s2 DOWN, 4, s2 UP, 6: 221 1111 212212.
        let engine =
            WasmEngine::new(&runtime, engine.cfg.clone(), &text).unwrap_or_else(|e| panic!("{e}"));
        let a = servers_chosen(&engine, 3);
        engine.force(s2, false, 0);
        let b = servers_chosen(&engine, 4);
        engine.force(s2, true, 0);
        let c = servers_chosen(&engine, 6);
        assert_eq!(
            (short(&a), short(&b), short(&c)),
            ("221".into(), "1111".into(), "212212".into())
        );
    }
}
