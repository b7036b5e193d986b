#!/usr/bin/env bash
# The offline build recipe of the Worker (shared/docs/toolchain.md), scripted:
# installs what is missing, at pinned versions, from crates.io and the npm registry
# only (no other network use):
#   - the wasm32-unknown-unknown Rust target;
#   - worker-build 0.8.7 (cargo install --locked, ~10 min once);
#   - wasm-bindgen-cli at exactly the wasm-bindgen version of Cargo.lock, which
#     edge-worker/Cargo.toml pins with `=` (~7 min once; no --locked, see toolchain.md);
#   - `npm ci`: wrangler, binaryen (wasm-opt) and Node 22 pinned in package-lock.json.
# Then checks the three *_BIN variables of scripts/edge-env.sh point at real tools.
# Run it directly, or source it to keep the environment.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/edge-env.sh"
cd "$WTEDGE_ROOT"

WORKER_BUILD_VERSION=0.8.7
WASM_BINDGEN_VERSION=$(awk '$0 == "name = \"wasm-bindgen\"" { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
PINNED=$(sed -n 's/^wasm-bindgen = "=\(.*\)"$/\1/p' edge-worker/Cargo.toml)
if [ -z "$WASM_BINDGEN_VERSION" ] || [ "$WASM_BINDGEN_VERSION" != "$PINNED" ]; then
    echo "edge-setup: wasm-bindgen is $WASM_BINDGEN_VERSION in Cargo.lock but edge-worker pins '=$PINNED'" >&2
    exit 1
fi

rustup target add wasm32-unknown-unknown >/dev/null

if [ "$(worker-build --version 2>/dev/null || true)" != "$WORKER_BUILD_VERSION" ]; then
    echo "== edge-setup: cargo install worker-build $WORKER_BUILD_VERSION (about 10 minutes)"
    cargo install worker-build --version "$WORKER_BUILD_VERSION" --locked --quiet
fi
if [ "$("$WASM_BINDGEN_BIN" --version 2>/dev/null || true)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
    echo "== edge-setup: cargo install wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 7 minutes)"
    cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --quiet
    WASM_BINDGEN_BIN="${CARGO_HOME:-$HOME/.cargo}/bin/wasm-bindgen"
fi

# npm ci when node_modules does not match package-lock.json.
LOCK_SUM=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat node_modules/.wtedge-lock 2>/dev/null || true)" != "$LOCK_SUM" ]; then
    echo "== edge-setup: npm ci (wrangler, binaryen, node 22)"
    npm ci --no-audit --no-fund --loglevel=error
    echo "$LOCK_SUM" > node_modules/.wtedge-lock
fi

for v in WASM_BINDGEN_BIN WASM_OPT_BIN ESBUILD_BIN; do
    if [ ! -x "${!v}" ]; then
        echo "edge-setup: $v=${!v} is not an executable" >&2
        exit 1
    fi
done
echo "edge-setup: worker-build $(worker-build --version), $("$WASM_BINDGEN_BIN" --version)," \
    "$("$WASM_OPT_BIN" --version | cut -d' ' -f1-3), esbuild $("$ESBUILD_BIN" --version)," \
    "wrangler $(wrangler --version 2>/dev/null | tail -1), node $(node --version)"
