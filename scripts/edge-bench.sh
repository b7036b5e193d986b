#!/usr/bin/env bash
# Load figure of the Worker on bare workerd (node_modules/.bin/workerd, no wrangler in
# the path) against the origin direct: nginx-light serves a Wt-bootstrap-sized page on
# 127.0.0.1:28081 and :28082 (the two origins of edge-worker/config/local-test.cfg,
# round-robin for `GET /`); wrk drives keep-alive load. A minimal JavaScript proxy
# Worker (one fetch to the origin, nothing else) runs in the same workerd as the
# baseline of the platform's own cost. Prints requests/s, p50, p99 and the workerd
# process's CPU time per request (utime+stime from /proc: workerd's HTTP work and the
# outgoing fetch included; the difference to the JS proxy is Wt Edge's own cost).
#
#   scripts/edge-bench.sh                     # ROUNDS=3 DURATION=10 CONNECTIONS=32
#   DURATION=3 ROUNDS=1 scripts/edge-bench.sh # the smoke run of scripts/edge-test.sh
#
# Needs: scripts/edge-setup.sh done, wrk and nginx-light (apt-get install -y wrk nginx-light).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-32}
PORT=28797
JS_PORT=28798
. "$ROOT/scripts/edge-env.sh"

NGINX=$(command -v nginx || echo /usr/sbin/nginx)
for tool in wrk "$NGINX"; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "edge-bench: '$tool' is missing: apt-get install -y wrk nginx-light" >&2
        exit 2
    fi
done

echo "edge-bench: building the Worker with edge-worker/config/local-test.cfg" >&2
WTEDGE_CONFIG=edge-worker/config/local-test.cfg "$ROOT/scripts/edge-build.sh" >/dev/null 2>&1 ||
    { echo "edge-bench: build failed (run scripts/edge-build.sh)" >&2; exit 1; }

# shellcheck source=scripts/lib/bench-origin.sh
. "$ROOT/scripts/lib/bench-origin.sh"
bench_workdir wtedge-edge-bench
# The two origins of the test config, one nginx.
bench_start_origin "$NGINX" 28081 28082

cp "$ROOT/edge-worker/build/index.js" "$ROOT/edge-worker/build/index_bg.wasm" "$WORK/"
cat > "$WORK/proxy.js" <<'JS'
export default {
  async fetch(req) {
    const url = new URL(req.url);
    url.protocol = "http:";
    url.host = "localhost:28081";
    return fetch(url, { method: req.method, headers: req.headers, body: req.body, redirect: "manual" });
  },
};
JS
cat > "$WORK/config.capnp" <<CAPNP
using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .edge),
    (name = "jsproxy", worker = .jsproxy),
    # The default outbound network refuses loopback; the origins are on 127.0.0.1.
    (name = "internet", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [
    (name = "http", address = "127.0.0.1:$PORT", http = (), service = "main"),
    (name = "js", address = "127.0.0.1:$JS_PORT", http = (), service = "jsproxy"),
  ],
);
const jsproxy :Workerd.Worker = (
  modules = [ (name = "proxy.js", esModule = embed "proxy.js") ],
  compatibilityDate = "2025-06-01",
  globalOutbound = "internet",
);
const edge :Workerd.Worker = (
  modules = [
    (name = "index.js", esModule = embed "index.js"),
    (name = "index_bg.wasm", wasm = embed "index_bg.wasm"),
  ],
  compatibilityDate = "2025-06-01",
  bindings = [
    (name = "HEALTH", durableObjectNamespace = "HealthObject"),
    (name = "WTEDGE_HEALTH_TTL_MS", text = "1000"),
    (name = "WTEDGE_STATUS_PATH", text = "/__wtedge/health"),
  ],
  durableObjectNamespaces = [ (className = "HealthObject", uniqueKey = "wtedge-bench-health", enableSql = true) ],
  durableObjectStorage = (inMemory = void),
  globalOutbound = "internet",
);
CAPNP
workerd serve "$WORK/config.capnp" >"$WORK/workerd.log" 2>&1 & WORKERD=$!; PIDS+=($WORKERD)

wait_http() {
    for _ in $(seq 1 100); do
        if curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$1/"; then return 0; fi
        sleep 0.2
    done
    echo "edge-bench: nothing answers on 127.0.0.1:$1" >&2
    cat "$WORK/workerd.log" "$WORK/nginx.err" >&2 || true
    exit 1
}
wait_http 28081
wait_http $PORT
wait_http $JS_PORT
# Through the Worker, the page must come from an origin.
curl -s "http://127.0.0.1:$PORT/" | grep -q "<title>Wt</title>" ||
    { echo "edge-bench: the Worker does not proxy:" >&2; curl -s -i "http://127.0.0.1:$PORT/" >&2; sleep 1; cat "$WORK/workerd.log" >&2; exit 1; }

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)

run() { # name port -> "rps p50 p99 requests"
    wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency "http://127.0.0.1:$2/" >"$WORK/wrk.out" 2>&1
    local rps p50 p99 n
    rps=$(awk '/Requests\/sec/ { print $2 }' "$WORK/wrk.out")
    p50=$(awk '$1 == "50%" { print $2 }' "$WORK/wrk.out")
    p99=$(awk '$1 == "99%" { print $2 }' "$WORK/wrk.out")
    n=$(awk '/requests in/ { print $1 }' "$WORK/wrk.out")
    if grep -q "Non-2xx" "$WORK/wrk.out"; then
        echo "edge-bench: $1 answered errors:" >&2; cat "$WORK/wrk.out" >&2; exit 1
    fi
    echo "$rps $p50 $p99 $n"
}

echo "edge-bench: $ROUNDS round(s) of ${DURATION}s, $CONNECTIONS connections, wrk -t1" >&2
printf '%-28s %10s %9s %9s %16s\n' "target" "req/s" "p50" "p99" "workerd CPU/req"
for r in $(seq 1 "$ROUNDS"); do
    read -r rps p50 p99 _ < <(run direct 28081)
    printf '%-28s %10s %9s %9s %16s\n' "origin direct (nginx)" "$rps" "$p50" "$p99" "-"
    before=$(cpu_ticks "$WORKERD")
    read -r rps p50 p99 n < <(run edge $PORT)
    after=$(cpu_ticks "$WORKERD")
    cpu_us=$(awk -v a="$before" -v b="$after" -v hz="$HZ" -v n="$n" 'BEGIN { printf "%.0f us", (b - a) / hz * 1e6 / n }')
    printf '%-28s %10s %9s %9s %16s\n' "Wt Edge Worker (workerd)" "$rps" "$p50" "$p99" "$cpu_us"
    before=$(cpu_ticks "$WORKERD")
    read -r rps p50 p99 n < <(run jsproxy $JS_PORT)
    after=$(cpu_ticks "$WORKERD")
    cpu_us=$(awk -v a="$before" -v b="$after" -v hz="$HZ" -v n="$n" 'BEGIN { printf "%.0f us", (b - a) / hz * 1e6 / n }')
    printf '%-28s %10s %9s %9s %16s\n' "minimal JS proxy (workerd)" "$rps" "$p50" "$p99" "$cpu_us"
done
# The health Durable Object ran its checks meanwhile (alarms on bare workerd).
curl -s "http://127.0.0.1:$PORT/__wtedge/health" | python3 -c '
import json, sys
h = json.load(sys.stdin)
s = ", ".join("%s %s after %d checks" % (x["server"], "UP" if x["up"] else "DOWN", x["checks"])
              for x in h["servers"] if x["checked"])
print("edge-bench: health Durable Object: " + s)
' || echo "edge-bench: the health Durable Object did not answer" >&2
if grep -En "panicked|RuntimeError|Reinitializing Wasm" "$WORK/workerd.log"; then
    echo "edge-bench: the Worker panicked or trapped" >&2
    exit 1
fi
