# Environment for building and running the Worker offline (shared/docs/toolchain.md).
# Source it: `. scripts/edge-env.sh` (from the repository root or anywhere).
# - worker-build finds its helpers through these *_BIN variables (otherwise it would
#   download them from GitHub, which this machine cannot reach);
# - node_modules/.bin comes first in PATH: Node 22 for wrangler, wasm-opt, esbuild;
# - wrangler makes no off-machine connection with these settings.
WTEDGE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export WTEDGE_ROOT
CARGO_BIN_DIR="${CARGO_HOME:-$HOME/.cargo}/bin"
export PATH="$WTEDGE_ROOT/node_modules/.bin:$CARGO_BIN_DIR:$PATH"
export WASM_BINDGEN_BIN="${WASM_BINDGEN_BIN:-$CARGO_BIN_DIR/wasm-bindgen}"
export WASM_OPT_BIN="${WASM_OPT_BIN:-$WTEDGE_ROOT/node_modules/.bin/wasm-opt}"
export ESBUILD_BIN="${ESBUILD_BIN:-$WTEDGE_ROOT/node_modules/.bin/esbuild}"
export WRANGLER_SEND_METRICS=false
export WRANGLER_SEND_ERROR_REPORTS=false
export WRANGLER_HIDE_BANNER=true
export CLOUDFLARE_CF_FETCH_ENABLED=false
export X_LOCAL_OBSERVABILITY=false
export X_LOCAL_EXPLORER=false
export CI=true
