#!/usr/bin/env bash
# Builds the Worker (edge-worker/build/index.js + index_bg.wasm): wrangler.toml's
# build command, so `wrangler deploy` and `wrangler dev` run it too.
#
#   scripts/edge-build.sh [--test-hooks] [CONFIG]
#
# --test-hooks compiles the test hooks in (the `test-hooks` feature: a config swap,
# dry runs); only scripts/edge-test.sh passes it, wrangler.toml's build command never
# does.
#
# The haproxy.cfg bundled into the Worker is $WTEDGE_CONFIG if set, else CONFIG (the
# path wrangler.toml gives), else edge-worker/config/wtedge.cfg; relative paths are
# relative to the repository root. edge-worker/build.rs checks it with router-core: a
# broken config fails the build with router-core's messages.
# Needs the tools of scripts/edge-setup.sh (run it once).
set -euo pipefail
. "$(dirname "$0")/edge-env.sh"
FEATURES=()
if [ "${1:-}" = "--test-hooks" ]; then
    FEATURES=(--features test-hooks)
    shift
fi
export WTEDGE_CONFIG="${WTEDGE_CONFIG:-${1:-edge-worker/config/wtedge.cfg}}"
cd "$WTEDGE_ROOT/edge-worker"
# The workspace's `worker` profile: opt-level "s" (router-core too), fat LTO, one
# codegen unit, stripped.
exec worker-build --profile worker . "${FEATURES[@]}"
