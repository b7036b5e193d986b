//! Builds router-core as a WebAssembly module (feature `abi`, profile `wasm`) so
//! `wtedge` can embed it: the same engine the edge runs, with no file to ship.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let root = manifest.parent().map(PathBuf::from).unwrap_or_default();
    let out = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    // A target dir of its own: the outer cargo holds the lock on the main one.
    let target_dir = root.join("target").join("wasm-module");
    println!(
        "cargo:rerun-if-changed={}",
        root.join("router-core").join("src").display()
    );
    println!(
        "cargo:rerun-if-changed={}",
        root.join("router-core").join("Cargo.toml").display()
    );
    println!("cargo:rerun-if-env-changed=WTEDGE_WASM_MODULE");

    // A prebuilt module can be given instead (packaging, or machines without the target).
    if let Some(prebuilt) = std::env::var_os("WTEDGE_WASM_MODULE") {
        if let Err(e) = std::fs::copy(&prebuilt, out.join("router_core.wasm")) {
            panic!(
                "WTEDGE_WASM_MODULE={}: {e}",
                PathBuf::from(prebuilt).display()
            );
        }
        return;
    }

    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(&root)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .args([
            "rustc",
            "-p",
            "router-core",
            "--features",
            "abi",
            "--target",
            "wasm32-unknown-unknown",
            "--profile",
            "wasm",
            "--crate-type",
            "cdylib",
            "--target-dir",
        ])
        .arg(&target_dir)
        .args(["--", "-C", "link-arg=-zstack-size=65536"])
        .status();
    match status {
        Ok(s) if s.success() => {}
        other => panic!(
            "building the router-core wasm module failed ({other:?}); \
             run `rustup target add wasm32-unknown-unknown` (the README's test command does), \
             or set WTEDGE_WASM_MODULE to a prebuilt router_core.wasm"
        ),
    }
    let built = target_dir
        .join("wasm32-unknown-unknown")
        .join("wasm")
        .join("router_core.wasm");
    if let Err(e) = std::fs::copy(&built, out.join("router_core.wasm")) {
        panic!("copying {}: {e}", built.display());
    }
}
