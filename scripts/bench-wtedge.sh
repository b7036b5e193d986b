#!/usr/bin/env bash
# Load benchmark: nginx-light direct, through HAProxy 2.6 and through wtedge, all three
# interleaved in one run, with the seed's first config (tests/corpus/configs/seed1.cfg:
# `listen 0.0.0.0:8181` -> `server srv1 0.0.0.0:9090`, http-server-close, forwardfor,
# originalto, httplog). Two client variants: one request per connection
# (`Connection: close`) and keep-alive. Prints requests/s, p50 and p99 and each proxy's
# CPU time per request (median over the rounds), the ratio wtedge/HAProxy of the medians
# and, per round, of the paired runs. wtedge runs with its default engine (router-core
# as wasm in wasmtime); a second wtedge with `--engine native` (port 8183) gives the
# cost of the wasm engine in the same run (ratio wtedge/wtedge-native).
#
# Server side: seed1 closes the server connection after each response
# (`http-server-close`). HAProxy 2.6's default keeps it and reuses it (`http-reuse
# safe`): `haproxy-ka` (8282) and `wtedge-ka` (8281) run seed1 with `option
# http-keep-alive` instead, and `nginx-proxy` (8284) is nginx as a reverse proxy with
# upstream keepalive 64, the same work done by a third proxy.
#
#   scripts/bench-wtedge.sh                 # ROUNDS=3 DURATION=5 CONNECTIONS=32
#   ROUNDS=5 DURATION=10 scripts/bench-wtedge.sh
#   WTEDGE_BIN=/path/to/wtedge scripts/bench-wtedge.sh   # a prebuilt wtedge, no build
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

if [ -n "${WTEDGE_BIN:-}" ]; then
    # A wtedge built elsewhere (e.g. an older commit, to compare).
    WTEDGE=("$WTEDGE_BIN" run)
else
    echo "bench: building wtedge (release)..." >&2
    (cd "$ROOT" && cargo build --release -p local-host --bin wtedge -q)
    WTEDGE=("$ROOT/target/release/wtedge" run)
fi

# shellcheck source=scripts/lib/bench-origin.sh
. "$ROOT/scripts/lib/bench-origin.sh"
bench_workdir wtedge-bench

wait_port() {
    for _ in $(seq 1 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    echo "bench: nothing listens on 127.0.0.1:$1" >&2
    cat "$WORK"/*.err "$WORK/haproxy.out" >&2 || true
    exit 1
}
# The origin: nginx-light serving a Wt-bootstrap-sized static page on 127.0.0.1:9090.
bench_start_origin "$NGINX"
# The proxies start once the origin listens: a server whose first check fails is DOWN
# (HAProxy starts it at health = rise) until `rise` checks pass.
wait_port 9090

bench_haproxy_seed1 "$ROOT" > "$WORK/haproxy.cfg"
"$HAPROXY" -db -f "$WORK/haproxy.cfg" >"$WORK/haproxy.out" 2>&1 & PIDS+=($!)
declare -A PID=([haproxy]=$!)
# Server-side keep-alive: the same configs with `option http-keep-alive`.
sed -e 's/^option http-server-close$/option http-keep-alive/' -e 's/:8182$/:8282/' \
    "$WORK/haproxy.cfg" > "$WORK/haproxy-ka.cfg"
"$HAPROXY" -db -f "$WORK/haproxy-ka.cfg" >"$WORK/haproxy-ka.out" 2>&1 & PIDS+=($!)
PID[haproxy-ka]=$!
sed -e 's/^option http-server-close$/option http-keep-alive/' -e 's/^listen 0.0.0.0:8181$/listen 0.0.0.0:8281/' \
    "$ROOT/tests/corpus/configs/seed1.cfg" > "$WORK/wtedge-ka.cfg"
"${WTEDGE[@]}" "$WORK/wtedge-ka.cfg" >"$WORK/wtedge-ka.log" 2>"$WORK/wtedge-ka.err" & PIDS+=($!)
PID[wtedge-ka]=$!
cat > "$WORK/nginx-proxy.conf" <<NGINX
worker_processes 1;
daemon off;
pid $WORK/nginx-proxy.pid;
error_log $WORK/nginx-proxy.err;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 1000000;
    upstream wt { server 127.0.0.1:9090; keepalive 64; }
    server {
        listen 127.0.0.1:8284;
        location / {
            proxy_pass http://wt;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header X-Forwarded-For \$remote_addr;
        }
    }
}
NGINX
"$NGINX" -c "$WORK/nginx-proxy.conf" -p "$WORK" & PIDS+=($!)

# wtedge runs seed1.cfg as it is (listen 0.0.0.0:8181); its access log goes to a file.
"${WTEDGE[@]}" "$ROOT/tests/corpus/configs/seed1.cfg" >"$WORK/wtedge.log" 2>"$WORK/wtedge.err" & PIDS+=($!)
PID[wtedge]=$!
sed -e 's/^listen 0.0.0.0:8181$/listen 0.0.0.0:8183/' "$ROOT/tests/corpus/configs/seed1.cfg" > "$WORK/native.cfg"
"${WTEDGE[@]}" --engine native "$WORK/native.cfg" >"$WORK/native.log" 2>"$WORK/native.err" & PIDS+=($!)
PID[wtedge-native]=$!

wait_port 8182; wait_port 8181; wait_port 8183; wait_port 8282; wait_port 8281; wait_port 8284
sleep 2 # first health checks
# nginx-proxy's worker is the child process that serves.
PID[nginx-proxy]=$(pgrep -P "$(cat "$WORK/nginx-proxy.pid")" | head -1)
for url in http://127.0.0.1:9090/ http://127.0.0.1:8182/ http://127.0.0.1:8181/ http://127.0.0.1:8183/ \
    http://127.0.0.1:8282/ http://127.0.0.1:8281/ http://127.0.0.1:8284/; do
    code=$(curl -s -o /dev/null -w '%{http_code}' "$url" || true)
    if [ "$code" != 200 ]; then
        echo "bench: $url answered $code, not 200" >&2
        cat "$WORK"/*.err "$WORK/haproxy.out" >&2 || true
        exit 1
    fi
done

declare -A URL=([nginx]=http://127.0.0.1:9090/ [haproxy]=http://127.0.0.1:8182/ [wtedge]=http://127.0.0.1:8181/ [wtedge-native]=http://127.0.0.1:8183/
    [haproxy-ka]=http://127.0.0.1:8282/ [wtedge-ka]=http://127.0.0.1:8281/ [nginx-proxy]=http://127.0.0.1:8284/)
RESULTS="$WORK/results.tsv"
# CPU time (user + system, all threads) of a proxy process, in clock ticks: divided by
# the requests of a run, what one request cost it (nginx's is not measured).
HZ=$(getconf CLK_TCK)
cpu_ticks() {
    local pid=${PID[$1]:-}
    if [ -n "$pid" ] && [ -r "/proc/$pid/stat" ]; then
        awk '{print $14 + $15}' "/proc/$pid/stat"
    fi
}
: > "$RESULTS"
for round in $(seq 1 "$ROUNDS"); do
    for variant in keepalive close; do
        # The order turns by one each round: a close-mode run leaves thousands of
        # TIME_WAIT sockets behind for the next one, so no target always goes first.
        order=(nginx haproxy wtedge wtedge-native haproxy-ka wtedge-ka nginx-proxy)
        for i in 0 1 2 3 4 5 6; do
            target=${order[$(( (i + round - 1) % 7 ))]}
            hdr=()
            [ "$variant" = close ] && hdr=(-H "Connection: close")
            cpu0=$(cpu_ticks "$target")
            out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency "${hdr[@]}" "${URL[$target]}" 2>&1)
            cpu1=$(cpu_ticks "$target")
            requests=$(awk '/ requests in / {print $1}' <<<"$out")
            cpu_us=$(awk -v a="$cpu0" -v b="$cpu1" -v n="${requests:-0}" -v hz="$HZ" \
                'BEGIN { if (a == "" || n == 0) print ""; else printf "%.1f", (b - a) / hz / n * 1e6 }')
            rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
            p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
            p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
            errs=$(awk '/Non-2xx or 3xx responses:/ {print "non-2xx:" $5} /Socket errors:/ {$1=$1; print}' <<<"$out" | tr '\n' ' ')
            printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$variant" "$target" "$rps" "$p50" "$p99" "$errs" "$cpu_us" >> "$RESULTS"
            echo "round $round $variant $target: $rps req/s p50 $p50 p99 $p99 cpu/req ${cpu_us:--} us $errs" >&2
        done
    done
done

python3 - "$RESULTS" "$ROUNDS" "$DURATION" "$CONNECTIONS" "$THREADS" <<'PY'
import math, statistics, sys
path, rounds, dur, conns, threads = sys.argv[1:]
def ms(v):
    for unit, f in (("us", 1e-3), ("ms", 1.0), ("s", 1000.0)):
        if v.endswith(unit):
            return float(v[: -len(unit)]) * f
    return float("nan")
def num(v):
    try:
        return float(v)
    except ValueError:
        return float("nan")
rows = [l.rstrip("\n").split("\t") for l in open(path) if l.strip()]
# (req/s, p50 ms, p99 ms, proxy CPU us per request) per (round, variant, target)
by_round = {
    (r[0], r[1], r[2]): (num(r[3]), ms(r[4] or "nan"), ms(r[5] or "nan"), num(r[7] if len(r) > 7 else ""))
    for r in rows
}
TARGETS = ("nginx", "haproxy", "wtedge", "wtedge-native", "haproxy-ka", "wtedge-ka", "nginx-proxy")
def median(xs):
    xs = [x for x in xs if not math.isnan(x)]
    return statistics.median(xs) if xs else float("nan")
print(f"wrk -t{threads} -c{conns} -d{dur}s, {rounds} interleaved rounds, medians")
print(f"{'variant':<10} {'target':<14} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'cpu us/req':>10}")
med = {}
for variant in ("keepalive", "close"):
    for target in TARGETS:
        v = [x for (_, var, t), x in by_round.items() if (var, t) == (variant, target)]
        if not v:
            continue
        m = tuple(median(x[i] for x in v) for i in range(4))
        med[(variant, target)] = m
        cpu = "-" if math.isnan(m[3]) else f"{m[3]:.1f}"
        print(f"{variant:<10} {target:<14} {m[0]:>10.0f} {m[1]:>8.2f} {m[2]:>8.2f} {cpu:>10}")
# Paired ratios: the targets of one round ran seconds apart, so their ratio is less
# exposed to the machine's load drifting between rounds than the ratio of medians.
def paired(variant, a, b, i):
    out = []
    for rnd in sorted({r[0] for r in rows}, key=int):
        x, y = by_round.get((rnd, variant, a)), by_round.get((rnd, variant, b))
        if x and y and y[i] and not math.isnan(x[i] / y[i]):
            out.append(x[i] / y[i])
    return out
def per_round(xs, digits=2):
    return f"{' '.join(f'{x:.{digits}f}' for x in xs)} (median {statistics.median(xs):.{digits}f})" if xs else "-"
for variant in ("keepalive", "close"):
    for server_side, wt, hp in (("server keep-alive", "wtedge-ka", "haproxy-ka"), ("server close", "wtedge", "haproxy")):
        w, h = med.get((variant, wt)), med.get((variant, hp))
        if w and h:
            print(f"{variant}, {server_side}: wtedge/HAProxy req/s {w[0] / h[0]:.2f}, p50 {w[1] / h[1]:.2f}, p99 {w[2] / h[2]:.2f}, cpu/req {w[3] / h[3]:.2f}")
            print(f"{variant}, {server_side}: per round wtedge/HAProxy req/s {per_round(paired(variant, wt, hp, 0))},"
                  f" p99 {per_round(paired(variant, wt, hp, 2))},"
                  f" cpu/req {per_round(paired(variant, wt, hp, 3))}")
    w = med.get((variant, "wtedge"))
    n = med.get((variant, "wtedge-native"))
    if w and n:
        print(f"{variant}: wtedge (wasm engine)/wtedge-native req/s {w[0] / n[0]:.3f}, p99 {w[2] / n[2]:.2f}, cpu/req {w[3] / n[3]:.2f}")
        print(f"{variant}: per round wtedge/wtedge-native req/s {per_round(paired(variant, 'wtedge', 'wtedge-native', 0), 3)},"
              f" cpu/req {per_round(paired(variant, 'wtedge', 'wtedge-native', 3), 3)}")
PY

# What each proxy did with its access log (the same work is asked of both: one httplog
# line per request). HAProxy sends each line as a UDP syslog datagram (`log 127.0.0.1
# local0`); wtedge writes its lines to stdout, here a file, in batches.
syslog=no
if command -v ss >/dev/null 2>&1 && ss -lun 2>/dev/null | grep -q ':514 '; then syslog=yes; fi
echo "access log: wtedge wrote $(wc -l < "$WORK/wtedge.log") lines, wtedge-native $(wc -l < "$WORK/native.log") lines (files);" \
    "HAProxy sent one UDP datagram per request to 127.0.0.1:514 (a listener there: $syslog)"
