#!/usr/bin/env bash
# Tests of the Cloudflare Worker (edge-worker/) in the real workerd runtime, from a
# fresh machine: the offline build recipe (scripts/edge-setup.sh), a broken config
# failing the build, `wrangler deploy --dry-run` and its size, then `wrangler dev` on
# loopback in front of the mock Wt origins (tests/tests/edge_workerd.rs), the
# conformance corpus through the Worker (tests/tests/edge_conformance.rs), the same
# scenarios through the Worker and wtedge (tests/tests/hosts_agree.rs) and a short
# load run on bare workerd (scripts/edge-bench.sh). Processes it starts are stopped
# on exit. Ports: 28787-28788 (wrangler dev), 28081-28083 (mock origins), 28797
# (bare workerd), 28091-28092 (nginx for the load run).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

echo "== edge: setup (worker-build, wasm-bindgen-cli, npm ci)"
"$ROOT/scripts/edge-setup.sh"
. "$ROOT/scripts/edge-env.sh"

WORK=$(mktemp -d /tmp/wtedge-edge.XXXXXX)
OUT="$ROOT/target/edge"
mkdir -p "$OUT"
WRANGLER_PGID=""
cleanup() {
    if [ -n "$WRANGLER_PGID" ]; then
        kill -TERM -- "-$WRANGLER_PGID" 2>/dev/null || true
        sleep 1
        kill -KILL -- "-$WRANGLER_PGID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== edge: a broken config fails the build with router-core's messages"
cat > "$WORK/broken.cfg" <<'CFG'
frontend wt
    bind :443
    use_backend bck3 if { url_sub wtd=wt1 }
    default_backend bck1
backend bck1
    server srv1 wt1.example.com:443 check ssl
CFG
if WTEDGE_CONFIG="$WORK/broken.cfg" cargo check -q -p edge-worker --target wasm32-unknown-unknown 2>"$WORK/broken.err"; then
    echo "edge-test: the build accepted a broken config" >&2
    exit 1
fi
if ! grep -q "broken.cfg:3:.*error: 'use_backend': no such backend 'bck3'" "$WORK/broken.err"; then
    echo "edge-test: the build failed without router-core's message:" >&2
    cat "$WORK/broken.err" >&2
    exit 1
fi
grep "error: 'use_backend'" "$WORK/broken.err" | sed 's/^/   /'

echo "== edge: wrangler deploy --dry-run (the production config of wrangler.toml)"
(unset WTEDGE_CONFIG; wrangler deploy --dry-run --outdir "$WORK/dry" >"$WORK/dry.log" 2>&1) || {
    cat "$WORK/dry.log" >&2
    exit 1
}
SIZE_LINE=$(grep "Total Upload" "$WORK/dry.log")
echo "   $SIZE_LINE"
echo "$SIZE_LINE" > "$OUT/size.txt"
GZIP_KIB=$(echo "$SIZE_LINE" | sed -n 's/.*gzip: \([0-9.]*\) KiB.*/\1/p')
if ! awk -v k="$GZIP_KIB" 'BEGIN { exit !(k > 0 && k * 1024 <= 300 * 1000) }'; then
    echo "edge-test: the Worker is $GZIP_KIB KiB gzipped, over the 300 KB target" >&2
    exit 1
fi

echo "== edge: the deployed bundle has no test hooks"
# The hooks (edge-worker/src/edge/test_hooks.rs: their path, their headers, their var)
# are compiled only with the `test-hooks` feature; the dry run above is the production
# build. The test build below must contain every one of these strings.
HOOK_MARKERS=("/__wtedge/test/" "x-wtedge-dry-run" "x-wtedge-test-src" "WTEDGE_TEST_HOOKS")
for m in "${HOOK_MARKERS[@]}"; do
    if grep -rqa -- "$m" "$WORK/dry"; then
        echo "edge-test: the deployed bundle contains the test hooks' $m" >&2
        exit 1
    fi
done
echo "   none of ${HOOK_MARKERS[*]} in $(ls "$WORK/dry" | tr '\n' ' ')"

echo "== edge: wrangler dev (workerd) with edge-worker/config/local-test.cfg"
# The test build: wrangler.toml with a build command that compiles the test hooks in
# (scripts/edge-build.sh --test-hooks); the production build command never does.
sed -e "s|^main = \"|main = \"$ROOT/|" \
    -e "s|^command = .*|command = \"$ROOT/scripts/edge-build.sh --test-hooks edge-worker/config/local-test.cfg\"\ncwd = \"$ROOT\"|" \
    -e "s|^watch_dir = .*|watch_dir = [\"$WORK/nowatch\"]|" \
    wrangler.toml > "$WORK/wrangler.test.toml"
# (No rebuild while the tests run, whatever changes under edge-worker/.)
mkdir -p "$WORK/nowatch"
grep -q -- "--test-hooks" "$WORK/wrangler.test.toml" || { echo "edge-test: no test build command" >&2; exit 1; }
for port in 28787 28788 28081 28082 28083; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        echo "edge-test: port $port is in use" >&2
        exit 1
    fi
done
export WTEDGE_CONFIG=edge-worker/config/local-test.cfg
# The runtime API's token (a secret in production: `wrangler secret put`).
WTEDGE_ADMIN_TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
export WTEDGE_ADMIN_TOKEN
setsid wrangler dev --config "$WORK/wrangler.test.toml" --ip 127.0.0.1 --port 28787 --inspector-port 28788 \
    --show-interactive-dev-session=false --log-level=info --persist-to "$WORK/state" \
    --var WTEDGE_TEST_HOOKS:1 --var WTEDGE_STATUS_PATH:/__wtedge/health \
    --var WTEDGE_HEALTH_TTL_MS:200 --var WTEDGE_HEALTH_LOCATION:weur \
    --var "WTEDGE_ADMIN_TOKEN:$WTEDGE_ADMIN_TOKEN" >"$WORK/wrangler.log" 2>&1 &
WRANGLER_PGID=$!
ready=""
for _ in $(seq 1 600); do
    if ! kill -0 "$WRANGLER_PGID" 2>/dev/null; then break; fi
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 http://127.0.0.1:28787/app || true)
    if [ "$code" = 301 ]; then ready=1; break; fi
    sleep 1
done
if [ -z "$ready" ]; then
    echo "edge-test: wrangler dev did not come up" >&2
    tail -50 "$WORK/wrangler.log" >&2
    exit 1
fi
# The same check finds them in the test build (so that it would find them above).
for m in "${HOOK_MARKERS[@]}"; do
    if ! grep -rqa -- "$m" "$ROOT/edge-worker/build"; then
        echo "edge-test: the test build lacks the test hooks' $m" >&2
        exit 1
    fi
done
export WTEDGE_EDGE_URL=http://127.0.0.1:28787
cargo test -q -p wtedge-tests --features edge --test edge_workerd -- --nocapture
# The same check, retry and timeout scenarios through the Worker and wtedge.
cargo test -q -p wtedge-tests --features edge --test hosts_agree -- --nocapture
WTEDGE_CONFORMANCE_REPORT="$OUT/conformance.txt" \
    cargo test -q -p wtedge-tests --features edge --test edge_conformance -- --nocapture 2>&1 |
    grep -v '^  \(differs\|refused\)' || { echo "edge-test: conformance failed (report: $OUT/conformance.txt)" >&2; exit 1; }
cp "$WORK/wrangler.log" "$OUT/wrangler-dev.log"
if grep -En "panicked|RuntimeError|Reinitializing Wasm|Uncaught.*wasm" "$WORK/wrangler.log"; then
    echo "edge-test: the Worker panicked or trapped (log: $OUT/wrangler-dev.log)" >&2
    exit 1
fi
kill -TERM -- "-$WRANGLER_PGID" 2>/dev/null || true
wait "$WRANGLER_PGID" 2>/dev/null || true
WRANGLER_PGID=""

echo "== edge: load on bare workerd (short run; scripts/edge-bench.sh for docs/benchmarks.md)"
if ! command -v wrk >/dev/null 2>&1 || ! { command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; }; then
    as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk nginx-light >/dev/null
fi
DURATION=3 ROUNDS=1 "$ROOT/scripts/edge-bench.sh"
echo "== edge: all passed"
