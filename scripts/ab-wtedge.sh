#!/usr/bin/env bash
# Paired comparison of two wtedge binaries against HAProxy 2.6, for tuning: nginx-light
# as the origin, HAProxy and both wtedges on seed1 (tests/corpus/configs/seed1.cfg),
# wrk against each in turn, the order turning every round. Prints each run with the
# machine's idle share during it (from /proc/stat) and the ratios of the medians.
#
#   scripts/ab-wtedge.sh OLD_WTEDGE NEW_WTEDGE [ROUNDS] [close|keepalive]
#   DURATION=4 scripts/ab-wtedge.sh /tmp/wtedge-before target/release/wtedge 6 close
#
# Needs: wrk, nginx-light, haproxy (apt-get install -y wrk nginx-light haproxy).
set -euo pipefail

if [ $# -lt 2 ]; then
    sed -n '2,9p' "$0" >&2
    exit 2
fi
A=$1
B=$2
ROUNDS=${3:-4}
VARIANT=${4:-close}
DURATION=${DURATION:-4}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
HAPROXY=$(command -v haproxy || echo /usr/sbin/haproxy)

# shellcheck source=scripts/lib/bench-origin.sh
. "$ROOT/scripts/lib/bench-origin.sh"
bench_workdir wtedge-ab
bench_start_origin "$NGINX"
bench_haproxy_seed1 "$ROOT" > "$WORK/haproxy.cfg"
sleep 0.5
"$HAPROXY" -db -f "$WORK/haproxy.cfg" >"$WORK/haproxy.out" 2>&1 & PIDS+=($!)
"$A" run "$ROOT/tests/corpus/configs/seed1.cfg" >"$WORK/a.log" 2>"$WORK/a.err" & PIDS+=($!)
sed -e 's/^listen 0.0.0.0:8181$/listen 0.0.0.0:8183/' "$ROOT/tests/corpus/configs/seed1.cfg" > "$WORK/b.cfg"
"$B" run "$WORK/b.cfg" >"$WORK/b.log" 2>"$WORK/b.err" & PIDS+=($!)
sleep 3
for port in 8182 8181 8183; do
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/" || true)
    if [ "$code" != 200 ]; then
        echo "ab: 127.0.0.1:$port answered $code, not 200 (a port already in use?)" >&2
        cat "$WORK"/*.err "$WORK/haproxy.out" >&2 || true
        exit 1
    fi
done

declare -A URL=([haproxy]=http://127.0.0.1:8182/ [old]=http://127.0.0.1:8181/ [new]=http://127.0.0.1:8183/)
hdr=()
[ "$VARIANT" = close ] && hdr=(-H "Connection: close")
idle() { awk '/^cpu /{print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8}' /proc/stat; }
order=(haproxy old new)
: > "$WORK/results"
for round in $(seq 1 "$ROUNDS"); do
    for i in 0 1 2; do
        target=${order[$(( (i + round - 1) % 3 ))]}
        read -r i0 t0 < <(idle)
        out=$(wrk -t1 -c32 -d"${DURATION}s" --latency "${hdr[@]}" "${URL[$target]}" 2>&1)
        read -r i1 t1 < <(idle)
        rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
        p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
        echo "$round $target $rps $p99 idle=$(( 100 * (i1 - i0) / (t1 - t0) ))%" | tee -a "$WORK/results"
    done
done
python3 - "$WORK/results" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    _, target, rps, _, _ = line.split()
    runs.setdefault(target, []).append(float(rps))
med = {t: statistics.median(v) for t, v in runs.items()}
for t, v in runs.items():
    print(f"{t:8} median {med[t]:.0f} req/s  {[round(x) for x in v]}")
print(f"old/haproxy {med['old'] / med['haproxy']:.3f}  new/haproxy {med['new'] / med['haproxy']:.3f}  new/old {med['new'] / med['old']:.3f}")
PY
