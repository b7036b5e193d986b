#!/usr/bin/env bash
# Runs every test of Wt Edge on a fresh machine: installs what the tests need
# (Rust targets, HAProxy 2.6 and Chromium from Debian), then lints, builds and tests.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# HAProxy 2.6 (the oracle of the differential tests), iproute2 and Chromium (the browser of
# the WebSocket tests: tests/tests/e2e_affinity.rs, tests/tests/edge_workerd.rs).
missing=""
command -v haproxy >/dev/null 2>&1 || missing="$missing haproxy"
[ -x /usr/bin/chromium ] || missing="$missing chromium"
# `ss` (the fault drills read the listen backlog from it).
command -v ss >/dev/null 2>&1 || missing="$missing iproute2"
if [ -n "$missing" ]; then
  echo "== installing$missing (Debian)"
  as_root apt-get update -qq
  # shellcheck disable=SC2086
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
fi
haproxy -v | head -1
/usr/bin/chromium --version

echo "== rust targets"
rustup target add wasm32-unknown-unknown wasm32v1-none >/dev/null

echo "== format and lints"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo clippy -p wtedge-tests --features edge --all-targets -- -D warnings

echo "== router-core without std"
# wasm32v1-none has no std at all: this fails if router-core or a dependency links std.
cargo build -p router-core --target wasm32v1-none
cargo build -p router-core --target wasm32-unknown-unknown

echo "== tests"
cargo test --workspace
echo "== config acceptance: wtedge check vs haproxy -c (tests/acceptance)"
cargo build -q -p local-host --bin wtedge
python3 tests/acceptance/run.py --strict
./scripts/edge-test.sh
echo "== fuzzing smoke run (60 s per target; nightly toolchain, cargo-fuzz)"
./scripts/fuzz.sh
