#!/usr/bin/env bash
# Load benchmark: nginx-light direct, through HAProxy 2.6 and through wtedge, all three
# interleaved in one run, with the seed's first config (tests/corpus/configs/seed1.cfg:
# `listen 0.0.0.0:8181` -> `server srv1 0.0.0.0:9090`, http-server-close, forwardfor,
# originalto, httplog). Two client variants: one request per connection
# (`Connection: close`) and keep-alive. Prints requests/s, p50 and p99 (median over the
# rounds) and the ratio wtedge/HAProxy. wtedge runs with its default engine (router-core
# as wasm in wasmtime); a second wtedge with `--engine native` (port 8183) gives the
# cost of the wasm engine in the same run (ratio wtedge/wtedge-native).
#
#   scripts/bench-wtedge.sh                 # ROUNDS=3 DURATION=5 CONNECTIONS=32
#   ROUNDS=5 DURATION=10 scripts/bench-wtedge.sh
#
# Needs: wrk, nginx-light, haproxy, curl (apt-get install -y wrk nginx-light haproxy curl).
# Only loopback addresses are used.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-1}

for tool in wrk nginx haproxy curl; do
    if ! command -v "$tool" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$tool" ]; then
        echo "bench: '$tool' is missing: apt-get install -y wrk nginx-light haproxy" >&2
        exit 2
    fi
done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
HAPROXY=$(command -v haproxy || echo /usr/sbin/haproxy)

echo "bench: building wtedge (release)..." >&2
(cd "$ROOT" && cargo build --release -p local-host --bin wtedge -q)
WTEDGE=("$ROOT/target/release/wtedge" run)

WORK=$(mktemp -d /tmp/wtedge-bench.XXXXXX)
chmod 755 "$WORK" # nginx's workers run as nobody
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

# The origin: nginx-light serving a Wt-bootstrap-sized static page on 127.0.0.1:9090.
mkdir -p "$WORK/www"
python3 -c "print('<!DOCTYPE html><html><head><title>Wt</title></head><body>' + 'x' * 1800 + '</body></html>')" > "$WORK/www/index.html"
cat > "$WORK/nginx.conf" <<NGINX
worker_processes 1;
daemon off;
pid $WORK/nginx.pid;
error_log $WORK/nginx.err;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 1000000;
    server { listen 127.0.0.1:9090; root $WORK/www; }
}
NGINX
"$NGINX" -c "$WORK/nginx.conf" -p "$WORK" & PIDS+=($!)

# HAProxy 2.6 refuses the 1.4 keywords of seed1: the same config in modern syntax
# (timeouts renamed, the listen address as a bind), on port 8182.
sed -e 's/^contimeout /timeout connect /; s/^clitimeout /timeout client /; s/^srvtimeout /timeout server /' \
    -e 's/^listen 0.0.0.0:8181$/listen seed1\nbind 127.0.0.1:8182/' \
    "$ROOT/tests/corpus/configs/seed1.cfg" > "$WORK/haproxy.cfg"
"$HAPROXY" -db -f "$WORK/haproxy.cfg" >"$WORK/haproxy.out" 2>&1 & PIDS+=($!)

# wtedge runs seed1.cfg as it is (listen 0.0.0.0:8181); its access log goes to a file.
"${WTEDGE[@]}" "$ROOT/tests/corpus/configs/seed1.cfg" >"$WORK/wtedge.log" 2>"$WORK/wtedge.err" & PIDS+=($!)
sed -e 's/^listen 0.0.0.0:8181$/listen 0.0.0.0:8183/' "$ROOT/tests/corpus/configs/seed1.cfg" > "$WORK/native.cfg"
"${WTEDGE[@]}" --engine native "$WORK/native.cfg" >"$WORK/native.log" 2>"$WORK/native.err" & PIDS+=($!)

wait_port() {
    for _ in $(seq 1 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    echo "bench: nothing listens on 127.0.0.1:$1" >&2
    cat "$WORK"/*.err "$WORK/haproxy.out" >&2 || true
    exit 1
}
wait_port 9090; wait_port 8182; wait_port 8181; wait_port 8183
sleep 2 # first health checks
for url in http://127.0.0.1:9090/ http://127.0.0.1:8182/ http://127.0.0.1:8181/ http://127.0.0.1:8183/; do
    code=$(curl -s -o /dev/null -w '%{http_code}' "$url" || true)
    if [ "$code" != 200 ]; then
        echo "bench: $url answered $code, not 200" >&2
        cat "$WORK"/*.err "$WORK/haproxy.out" >&2 || true
        exit 1
    fi
done

declare -A URL=([nginx]=http://127.0.0.1:9090/ [haproxy]=http://127.0.0.1:8182/ [wtedge]=http://127.0.0.1:8181/ [wtedge-native]=http://127.0.0.1:8183/)
RESULTS="$WORK/results.tsv"
: > "$RESULTS"
for round in $(seq 1 "$ROUNDS"); do
    for variant in keepalive close; do
        for target in nginx haproxy wtedge wtedge-native; do
            hdr=()
            [ "$variant" = close ] && hdr=(-H "Connection: close")
            out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency "${hdr[@]}" "${URL[$target]}" 2>&1)
            rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
            p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
            p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
            errs=$(awk '/Non-2xx or 3xx responses:/ {print "non-2xx:" $5} /Socket errors:/ {$1=$1; print}' <<<"$out" | tr '\n' ' ')
            printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$variant" "$target" "$rps" "$p50" "$p99" "$errs" >> "$RESULTS"
            echo "round $round $variant $target: $rps req/s p50 $p50 p99 $p99 $errs" >&2
        done
    done
done

python3 - "$RESULTS" "$ROUNDS" "$DURATION" "$CONNECTIONS" "$THREADS" <<'PY'
import sys, statistics
path, rounds, dur, conns, threads = sys.argv[1:]
def ms(v):
    for unit, f in (("us", 1e-3), ("ms", 1.0), ("s", 1000.0)):
        if v.endswith(unit):
            return float(v[: -len(unit)]) * f
    return float("nan")
rows = [l.rstrip("\n").split("\t") for l in open(path) if l.strip()]
data = {}
for r in rows:
    key = (r[1], r[2])
    data.setdefault(key, []).append((float(r[3] or "nan"), ms(r[4] or "nan"), ms(r[5] or "nan")))
print(f"wrk -t{threads} -c{conns} -d{dur}s, {rounds} interleaved rounds, medians")
print(f"{'variant':<10} {'target':<14} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8}")
med = {}
for variant in ("keepalive", "close"):
    for target in ("nginx", "haproxy", "wtedge", "wtedge-native"):
        v = data.get((variant, target), [])
        if not v:
            continue
        m = tuple(statistics.median(x[i] for x in v) for i in range(3))
        med[(variant, target)] = m
        print(f"{variant:<10} {target:<14} {m[0]:>10.0f} {m[1]:>8.2f} {m[2]:>8.2f}")
for variant in ("keepalive", "close"):
    w, h = med.get((variant, "wtedge")), med.get((variant, "haproxy"))
    if w and h:
        print(f"{variant}: wtedge/HAProxy req/s {w[0] / h[0]:.2f}, p50 {w[1] / h[1]:.2f}, p99 {w[2] / h[2]:.2f}")
    n = med.get((variant, "wtedge-native"))
    if w and n:
        print(f"{variant}: wtedge (wasm engine)/wtedge-native req/s {w[0] / n[0]:.3f}, p99 {w[2] / n[2]:.2f}")
PY
