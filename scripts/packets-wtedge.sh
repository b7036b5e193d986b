#!/usr/bin/env bash
# TCP packets per request through HAProxy 2.6 and through wtedge, one request per
# connection (`Connection: close`), seed1 in front of nginx-light: what each proxy
# puts on the wire, counted by tcpdump on the loopback during a short wrk run. Prints,
# for the client side and the server side of each proxy, packets per connection and
# the pure ACKs (no data, no SYN/FIN/RST) the proxy sent per connection.
#
#   scripts/packets-wtedge.sh [WTEDGE_BIN]      # default target/release/wtedge
#
# Needs: wrk, nginx-light, haproxy, tcpdump (apt-get install -y wrk nginx-light haproxy
# tcpdump) and the right to capture on lo (root).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
WTEDGE=${1:-$ROOT/target/release/wtedge}
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
HAPROXY=$(command -v haproxy || echo /usr/sbin/haproxy)
TCPDUMP=$(command -v tcpdump || echo /usr/bin/tcpdump)

# shellcheck source=scripts/lib/bench-origin.sh
. "$ROOT/scripts/lib/bench-origin.sh"
bench_workdir wtedge-packets
bench_start_origin "$NGINX"
bench_haproxy_seed1 "$ROOT" > "$WORK/haproxy.cfg"
sleep 0.5
"$HAPROXY" -db -f "$WORK/haproxy.cfg" >"$WORK/haproxy.out" 2>&1 & PIDS+=($!)
"$WTEDGE" run "$ROOT/tests/corpus/configs/seed1.cfg" >/dev/null 2>"$WORK/wtedge.err" & PIDS+=($!)
sleep 3

count() { "$TCPDUMP" -nn -r "$1" "$2" 2>/dev/null | wc -l; }
for target in haproxy:8182 wtedge:8181; do
    name=${target%:*}
    port=${target#*:}
    # The proxy's server-side ports are ephemeral: capture all of port 9090 and keep
    # the connections whose SYN came during the run (health checks are few).
    "$TCPDUMP" -i lo -nn -w "$WORK/$name.pcap" "tcp port $port or tcp port 9090" 2>/dev/null &
    dump=$!
    sleep 1
    wrk -t1 -c32 -d2s -H "Connection: close" "http://127.0.0.1:$port/" >"$WORK/$name.wrk"
    sleep 0.5
    kill "$dump"
    wait "$dump" 2>/dev/null || true
    pure_ack='tcp[tcpflags] & (tcp-syn|tcp-fin|tcp-rst) == 0 and (ip[2:2] - ((ip[0]&0xf)<<2) - ((tcp[12]&0xf0)>>2)) == 0'
    c_conns=$(count "$WORK/$name.pcap" "dst port $port and tcp[tcpflags] == tcp-syn")
    c_all=$(count "$WORK/$name.pcap" "tcp port $port")
    c_ack=$(count "$WORK/$name.pcap" "src port $port and $pure_ack")
    s_conns=$(count "$WORK/$name.pcap" "dst port 9090 and tcp[tcpflags] == tcp-syn")
    s_all=$(count "$WORK/$name.pcap" "tcp port 9090")
    s_ack=$(count "$WORK/$name.pcap" "dst port 9090 and $pure_ack")
    awk -v n="$name" -v cc="$c_conns" -v ca="$c_all" -v ck="$c_ack" \
        -v sc="$s_conns" -v sa="$s_all" -v sk="$s_ack" 'BEGIN {
        printf "%-8s client side: %d connections, %.2f packets each, %.2f pure ACKs from the proxy\n", n, cc, ca / cc, ck / cc
        printf "%-8s server side: %d connections, %.2f packets each, %.2f pure ACKs from the proxy\n", n, sc, sa / sc, sk / sc
    }'
done
