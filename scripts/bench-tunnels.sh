#!/usr/bin/env bash
# Memory of idle WebSocket tunnels: N upgraded connections held idle through HAProxy
# 2.6, nginx (reverse proxy) and wtedge, in one run. Each proxy's resident memory
# (VmRSS) is read before the connections open and once all N have their 101; the
# difference divided by N is the cost of one idle tunnel (the kernel's socket buffers
# are not in it, for any of them).
#
#   scripts/bench-tunnels.sh            # N=4000
#   N=10000 scripts/bench-tunnels.sh
#
# Needs: haproxy, nginx-light, python3 (apt-get install -y haproxy nginx-light).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=${N:-4000}
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
HAPROXY=$(command -v haproxy || echo /usr/sbin/haproxy)
if [ -n "${WTEDGE_BIN:-}" ]; then
    WTEDGE=("$WTEDGE_BIN" run)
else
    (cd "$ROOT" && cargo build --release -p local-host --bin wtedge -q)
    WTEDGE=("$ROOT/target/release/wtedge" run)
fi
WORK=$(mktemp -d /tmp/wtedge-tunnels.XXXXXX)
chmod 755 "$WORK"
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$WORK"' EXIT

python3 "$ROOT/scripts/lib/ws_idle.py" origin 9391 & PIDS+=($!)
CFG="global
    maxconn 9000
defaults
    mode http
    timeout connect 5s
    timeout client 1m
    timeout server 1m
    timeout tunnel 1h
frontend wt
    bind 127.0.0.1:PORT
    acl srv1 url_sub wtd=wt1
    use_backend b1 if srv1
    default_backend b1
backend b1
    server srv1 127.0.0.1:9391
"
echo "${CFG//PORT/9392}" > "$WORK/haproxy.cfg"
echo "${CFG//PORT/9393}" > "$WORK/wtedge.cfg"
"$HAPROXY" -db -f "$WORK/haproxy.cfg" >"$WORK/haproxy.out" 2>&1 & PIDS+=($!)
declare -A PID=([haproxy]=$!)
"${WTEDGE[@]}" "$WORK/wtedge.cfg" >/dev/null 2>"$WORK/wtedge.err" & PIDS+=($!)
PID[wtedge]=$!
cat > "$WORK/nginx.conf" <<NGINX
worker_processes 1;
worker_rlimit_nofile 65536;
daemon off;
pid $WORK/nginx.pid;
error_log $WORK/nginx.err;
events { worker_connections 30000; }
http {
    access_log off;
    proxy_read_timeout 1h;
    server {
        listen 127.0.0.1:9394;
        location / {
            proxy_pass http://127.0.0.1:9391;
            proxy_http_version 1.1;
            proxy_set_header Upgrade \$http_upgrade;
            proxy_set_header Connection "upgrade";
        }
    }
}
NGINX
"$NGINX" -c "$WORK/nginx.conf" -p "$WORK" & PIDS+=($!)
sleep 2
# nginx's worker is the child that serves: its memory is the proxy's.
PID[nginx]=$(pgrep -P "$(cat "$WORK/nginx.pid")" | head -1)
declare -A PORT=([haproxy]=9392 [wtedge]=9393 [nginx]=9394)
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
printf '%-8s %10s %12s %12s %14s\n' proxy tunnels "rss before" "rss after" "per tunnel"
for target in haproxy nginx wtedge; do
    pid=${PID[$target]}
    before=$(rss_kb "$pid")
    coproc CLIENTS { python3 "$ROOT/scripts/lib/ws_idle.py" clients "${PORT[$target]}" "$N"; }
    read -r line <&"${CLIENTS[0]}"
    sleep 2
    after=$(rss_kb "$pid")
    printf '%-8s %10s %9s kB %9s kB %11.2f kB\n' "$target" "${line#ready }" "$before" "$after" \
        "$(awk -v a="$after" -v b="$before" -v n="$N" 'BEGIN {print (a - b) / n}')"
    exec {CLIENTS[1]}>&-
    wait "$CLIENTS_PID" 2>/dev/null || true
    sleep 2
done
