//! Bundles the haproxy.cfg the Worker runs and checks it with router-core, so that a
//! broken config fails the build (and `wrangler deploy`) with router-core's messages,
//! never a request.
//!
//! `WTEDGE_CONFIG` names the file: absolute, or relative to the repository root
//! (the parent of this crate). Default: `edge-worker/config/wtedge.cfg`.

use std::path::{Path, PathBuf};
use std::{env, fs, process};

#[allow(dead_code)]
#[path = "src/reach.rs"]
mod reach;

#[allow(dead_code)]
#[path = "src/placement.rs"]
mod placement;

fn main() {
    println!("cargo:rerun-if-env-changed=WTEDGE_CONFIG");
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let root = manifest.parent().unwrap_or(&manifest).to_path_buf();
    let path = match env::var_os("WTEDGE_CONFIG").filter(|v| !v.is_empty()) {
        Some(p) if Path::new(&p).is_absolute() => PathBuf::from(p),
        Some(p) => root.join(p),
        None => manifest.join("config").join("wtedge.cfg"),
    };
    println!("cargo:rerun-if-changed={}", path.display());
    let name = path
        .strip_prefix(&root)
        .unwrap_or(&path)
        .display()
        .to_string();
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: WTEDGE_CONFIG: cannot read {}: {e}", path.display());
            process::exit(1);
        }
    };
    // `errorfile` pages are read and checked as HAProxy does at load (a missing or
    // bad one fails the build) and bundled: the Worker sends them. A relative path is
    // relative to the repository root, as WTEDGE_CONFIG is.
    let pages: std::cell::RefCell<Vec<(String, Vec<u8>)>> = Default::default();
    let read = |f: &str| {
        let p = Path::new(f);
        let p = if p.is_absolute() {
            p.to_path_buf()
        } else {
            root.join(p)
        };
        println!("cargo:rerun-if-changed={}", p.display());
        let bytes = fs::read(&p).map_err(|e| e.to_string())?;
        pages.borrow_mut().push((f.to_string(), bytes.clone()));
        Ok(bytes)
    };
    let parsed = match router_core::parse_with_files(&name, &text, &read) {
        Ok(p) => p,
        Err(errors) => {
            for w in &errors.warnings {
                eprintln!("{}", w.as_warning());
            }
            eprintln!("{errors}");
            eprintln!(
                "error: the Worker's config {name} does not load: fix it (or set WTEDGE_CONFIG)"
            );
            process::exit(1);
        }
    };
    for w in &parsed.warnings {
        println!("cargo:warning={}", w.as_warning());
    }
    let mut pages = pages.into_inner();
    pages.sort();
    pages.dedup();
    let table: String = pages
        .iter()
        .map(|(path, bytes)| format!("    ({path:?}, &{bytes:?}),\n"))
        .collect();
    let out_pages = PathBuf::from(env::var_os("OUT_DIR").unwrap_or_default()).join("errorfiles.rs");
    if let Err(e) = fs::write(&out_pages, format!("&[\n{table}]\n")) {
        eprintln!("error: cannot write {}: {e}", out_pages.display());
        process::exit(1);
    }
    // Addresses a deployed Worker cannot reach: warnings here (`wrangler dev` reaches
    // localhost); `wtedge check --target edge` reports them as errors.
    if env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        for f in reach::check(&parsed.config) {
            println!("cargo:warning=edge: {}", f.diagnostic.as_warning());
        }
    }
    // The health object's location hint in wrangler.toml's [vars]: a bad one fails
    // the build (and so `wrangler deploy`); a `--var` or dashboard value is checked by
    // the Worker at run time.
    let wrangler = root.join("wrangler.toml");
    println!("cargo:rerun-if-changed={}", wrangler.display());
    if let Ok(toml) = fs::read_to_string(&wrangler)
        && let Err(e) = placement::health_object(
            placement::wrangler_var(&toml, "WTEDGE_HEALTH_LOCATION").as_deref(),
        )
    {
        eprintln!("error: {}: {e}", wrangler.display());
        process::exit(1);
    }
    let out = PathBuf::from(env::var_os("OUT_DIR").unwrap_or_default()).join("wtedge.cfg");
    if let Err(e) = fs::write(&out, &text) {
        eprintln!("error: cannot write {}: {e}", out.display());
        process::exit(1);
    }
    println!("cargo:rustc-env=WTEDGE_CONFIG_NAME={name}");
}
