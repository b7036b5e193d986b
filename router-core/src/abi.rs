//! The WebAssembly ABI of router-core (feature `abi`, `wasm32` only), so the same
//! engine runs in plain wasmtime (no wasm-bindgen). Build the module with:
//!
//! ```text
//! cargo rustc -p router-core --features abi --target wasm32-unknown-unknown \
//!     --profile wasm --crate-type cdylib -- -C link-arg=-zstack-size=65536
//! ```
//!
//! Memory protocol: the host asks for an input buffer with `wr_input(len)`,
//! writes `len` bytes at the returned pointer, then calls an entry point with
//! `len`. Results are written to the module's output buffer: `wr_output()` gives
//! its address, the entry point returns its length (negative: an error code);
//! `wr_route` returns address and length at once. Buffers are reused from call
//! to call, so the per-request path is two calls (`wr_route` and, only when a
//! request is larger than any before, `wr_input`).
//!
//! Exports:
//!
//! | export | input | result |
//! | --- | --- | --- |
//! | `wr_input(len) -> ptr` | | a buffer of at least `len` bytes to write inputs into (it moves only when a later call asks for more) |
//! | `wr_output() -> ptr` | | the output buffer |
//! | `wr_load(len) -> i32` | `u32 name length, name, config text` | 0 loaded (output: warnings, one per line), 1 refused (output: errors) |
//! | `wr_route(len) -> i64` | a request ([`crate::wire`]) | the decision ([`crate::wire`]): output address << 32 \| length |
//! | `wr_observe(server, at_ms, flags) -> i32` | flags: 1 = ok, 2 = passive | -1 no change, 0 now DOWN, 1 now UP |
//! | `wr_force(server, up, at_ms) -> i32` | up: 0 or 1 | 0 (-1: unknown server) |
//! | `wr_admin(server, op, at_ms) -> i32` | op: `AdminOp::to_code` | 0, 1 refused, -1 unknown |
//! | `wr_health() -> i32` | | output: one flag byte per server (`health::bits`), then a `u16` weight each |
//! | `wr_next_check(server) -> i64` | | ms until the server's next check |
//!
//! Imports: the round-robin state of each backend ([`crate::balance::Rotation`]
//! as bytes) lives in the host, shared by every instance so that threads follow
//! one rotation, as HAProxy's one process does. A pick loads it, advances it and
//! stores it back if nobody stored in between (else it runs again on the fresher
//! state):
//!
//! | import | result |
//! | --- | --- |
//! | `wtedge.rr_load(backend, ptr, cap) -> i64` | the state's version << 32 \| its length; the bytes are written at `ptr` when they fit in `cap` (empty: a fresh rotation) |
//! | `wtedge.rr_store(backend, version, ptr, len) -> i32` | 1: stored (the version moves on); 0: the state changed since that version |
//! | `wtedge.served(server) -> i32` | streams the server serves now (leastconn, first, random) |
//! | `wtedge.served_changed(server) -> i64` | when that count last changed, on a counter of the host's (leastconn's ties) |
//! | `wtedge.random() -> i32` | a random number (`balance random`'s draws) |
//!
//! Error codes: -1 no configuration loaded, -2 undecodable input.
#![allow(unsafe_code)]

use alloc::string::String;
use alloc::vec::Vec;
use core::cell::UnsafeCell;
use core::fmt::Write;

use crate::balance::Rotation;
use crate::config::model::{Config, ProxyId, ServerId};
use crate::health::{AdminOp, AdminRefusal, Health, HealthSnapshot, Observation};
use crate::wire;

#[global_allocator]
static ALLOC: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    // A trap: the host answers 500 for this request and uses a fresh instance.
    core::arch::wasm32::unreachable()
}

#[link(wasm_import_module = "wtedge")]
unsafe extern "C" {
    fn rr_load(backend: i32, ptr: *mut u8, cap: i32) -> i64;
    fn rr_store(backend: i32, version: i32, ptr: *const u8, len: i32) -> i32;
    fn served(server: i32) -> i32;
    fn served_changed(server: i32) -> i64;
    fn random() -> i32;
}

struct HostTickets;

/// Attempts at storing a pick before giving up storing it (the pick stands).
const MAX_TURNS: usize = 64;

impl crate::Tickets for HostTickets {
    fn turn(&self, backend: ProxyId, turn: &mut dyn FnMut(&mut Rotation)) {
        let b = i32::from(backend.0);
        let mut buf: Vec<u8> = alloc::vec![0; 256];
        for _ in 0..MAX_TURNS {
            let cap = i32::try_from(buf.len()).unwrap_or(i32::MAX);
            // SAFETY: the host writes at most `cap` bytes at `buf`'s address.
            let packed = unsafe { rr_load(b, buf.as_mut_ptr(), cap) } as u64;
            let (version, len) = ((packed >> 32) as u32, (packed & 0xffff_ffff) as usize);
            if len > buf.len() {
                buf.resize(len, 0);
                continue;
            }
            let mut rot = Rotation::from_bytes(buf.get(..len).unwrap_or(&[]));
            turn(&mut rot);
            let out = rot.to_bytes();
            let out_len = i32::try_from(out.len()).unwrap_or(i32::MAX);
            // SAFETY: the host reads `out_len` bytes at `out`'s address.
            if unsafe { rr_store(b, version as i32, out.as_ptr(), out_len) } == 1 {
                return;
            }
        }
    }

    fn served(&self, server: ServerId) -> u32 {
        // SAFETY: a plain call with an integer argument.
        let n = unsafe { served(server.0 as i32) };
        u32::try_from(n).unwrap_or(0)
    }

    fn served_changed(&self, server: ServerId) -> u64 {
        // SAFETY: a plain call with an integer argument.
        let n = unsafe { served_changed(server.0 as i32) };
        u64::try_from(n).unwrap_or(0)
    }

    fn random(&self) -> u32 {
        // SAFETY: a plain call.
        unsafe { random() as u32 }
    }
}

struct State {
    config: Option<Config>,
    snapshot: Option<HealthSnapshot>,
    health: Option<Health>,
    input: Vec<u8>,
    output: Vec<u8>,
}

struct Global(UnsafeCell<State>);

// SAFETY: wasm32-unknown-unknown instances are single-threaded and the module
// never calls back into itself, so there is never more than one borrow.
unsafe impl Sync for Global {}

static STATE: Global = Global(UnsafeCell::new(State {
    config: None,
    snapshot: None,
    health: None,
    input: Vec::new(),
    output: Vec::new(),
}));

fn state() -> &'static mut State {
    // SAFETY: see `Global`; each export takes this borrow once and drops it on return.
    unsafe { &mut *STATE.0.get() }
}

fn out_len(s: &State) -> i32 {
    i32::try_from(s.output.len()).unwrap_or(i32::MAX)
}

/// A buffer of at least `len` bytes for the next inputs. It only moves when a
/// later `wr_input` asks for more, so a host may keep writing at the same
/// address for inputs up to `len` bytes without calling this again.
#[unsafe(no_mangle)]
pub extern "C" fn wr_input(len: u32) -> *mut u8 {
    let s = state();
    if s.input.len() < len as usize {
        s.input.resize(len as usize, 0);
    }
    s.input.as_mut_ptr()
}

/// The output buffer.
#[unsafe(no_mangle)]
pub extern "C" fn wr_output() -> *const u8 {
    state().output.as_ptr()
}

/// Loads a configuration.
#[unsafe(no_mangle)]
pub extern "C" fn wr_load(len: u32) -> i32 {
    let s = state();
    let input = s.input.get(..len as usize).unwrap_or(&[]);
    let Some((head, rest)) = input.split_at_checked(4) else {
        return -2;
    };
    let name_len = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize;
    let Some((name, text)) = rest.split_at_checked(name_len) else {
        return -2;
    };
    let (Ok(name), Ok(text)) = (core::str::from_utf8(name), core::str::from_utf8(text)) else {
        return -2;
    };
    let mut out = String::new();
    let code = match crate::parse(name, text) {
        Ok(parsed) => {
            for w in &parsed.warnings {
                let _ = writeln!(out, "{}", w.as_warning());
            }
            s.health = Some(Health::new(&parsed.config));
            s.snapshot = Some(HealthSnapshot::all_up(&parsed.config));
            s.config = Some(parsed.config);
            0
        }
        Err(e) => {
            let _ = write!(out, "{e}");
            1
        }
    };
    s.output.clear();
    s.output.extend_from_slice(out.as_bytes());
    if code == 0 { 0 } else { 1 }
}

/// Routes one request (or redispatches it). Returns the output's address in
/// the high 32 bits and its length in the low 32 bits (one call, no `wr_output`).
#[unsafe(no_mangle)]
pub extern "C" fn wr_route(len: u32) -> i64 {
    let s = state();
    let (Some(cfg), Some(snapshot)) = (s.config.as_ref(), s.snapshot.as_mut()) else {
        return -1;
    };
    let Ok(req) = wire::decode_request(s.input.get(..len as usize).unwrap_or(&[])) else {
        return -2;
    };
    let (decision, trace) = wire::run(cfg, &req, snapshot, &HostTickets);
    wire::encode_decision(&mut s.output, decision.as_ref(), trace.as_ref());
    ((s.output.as_ptr() as i64) << 32) | i64::from(out_len(s))
}

/// Feeds a health observation to the module's health state.
#[unsafe(no_mangle)]
pub extern "C" fn wr_observe(server: u32, at_ms: i64, flags: u32) -> i32 {
    let s = state();
    let (Some(cfg), Some(health)) = (s.config.as_ref(), s.health.as_mut()) else {
        return -1;
    };
    if server as usize >= cfg.servers.len() {
        return -1;
    }
    let obs = Observation {
        at_ms: at_ms as u64,
        ok: flags & 1 != 0,
        passive: flags & 2 != 0,
    };
    match health.observe(cfg, ServerId(server), obs) {
        None => -1,
        Some(t) => i32::from(t.up),
    }
}

/// Forces a server's state (an operator action, or state kept across a reload).
#[unsafe(no_mangle)]
pub extern "C" fn wr_force(server: u32, up: i32, at_ms: i64) -> i32 {
    let s = state();
    let (Some(cfg), Some(health)) = (s.config.as_ref(), s.health.as_mut()) else {
        return -1;
    };
    if server as usize >= cfg.servers.len() {
        return -1;
    }
    health.force(cfg, ServerId(server), up != 0, at_ms as u64);
    0
}

/// Applies an operator's change ([`AdminOp::to_code`]): 0 done, 1 refused
/// (health of a tracking server), -1 unknown server or operation.
#[unsafe(no_mangle)]
pub extern "C" fn wr_admin(server: u32, op: u32, at_ms: i64) -> i32 {
    let s = state();
    let (Some(cfg), Some(health), Some(op)) =
        (s.config.as_ref(), s.health.as_mut(), AdminOp::from_code(op))
    else {
        return -1;
    };
    match health.admin(cfg, ServerId(server), op, at_ms as u64) {
        Ok(()) => 0,
        Err(AdminRefusal::Tracking) => 1,
        Err(AdminRefusal::NoServer) => -1,
    }
}

/// Writes the health snapshot ([`HealthSnapshot::to_bytes`]) to the output.
#[unsafe(no_mangle)]
pub extern "C" fn wr_health() -> i32 {
    let s = state();
    let Some(health) = s.health.as_ref() else {
        return -1;
    };
    let bytes = health.snapshot().to_bytes();
    s.output.clear();
    s.output.extend_from_slice(&bytes);
    out_len(s)
}

/// Milliseconds until `server`'s next check.
#[unsafe(no_mangle)]
pub extern "C" fn wr_next_check(server: u32) -> i64 {
    let s = state();
    match (s.config.as_ref(), s.health.as_ref()) {
        (Some(cfg), Some(h)) if (server as usize) < cfg.servers.len() => {
            i64::try_from(h.next_check_in(cfg, ServerId(server))).unwrap_or(i64::MAX)
        }
        _ => -1,
    }
}
