# Shared by scripts/bench-wtedge.sh and scripts/ab-wtedge.sh (sourced, not run):
# a work directory cleaned at exit, nginx-light as the origin on 127.0.0.1:9090
# serving a Wt-bootstrap-sized page, and seed1 in the syntax HAProxy 2.6 accepts.

# Makes $WORK (removed at exit with every process in PIDS).
bench_workdir() {
    WORK=$(mktemp -d "/tmp/$1.XXXXXX")
    chmod 755 "$WORK" # nginx's workers run as nobody
    PIDS=()
    trap bench_cleanup EXIT
}

bench_cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}

# Starts nginx-light (binary $1) on 127.0.0.1 at the ports given after it (default 9090).
bench_start_origin() {
    local nginx=$1 listen="" port
    shift
    for port in "${@:-9090}"; do listen+="listen 127.0.0.1:$port; "; done
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
    server { ${listen}root $WORK/www; }
}
NGINX
    "$nginx" -c "$WORK/nginx.conf" -p "$WORK" & PIDS+=($!)
}

# HAProxy 2.6 refuses the 1.4 keywords of seed1: the same config in modern syntax
# (timeouts renamed, the listen address as a bind on 127.0.0.1:8182), to stdout.
bench_haproxy_seed1() {
    sed -e 's/^contimeout /timeout connect /; s/^clitimeout /timeout client /; s/^srvtimeout /timeout server /' \
        -e 's/^listen 0.0.0.0:8181$/listen seed1\nbind 127.0.0.1:8182/' \
        "$1/tests/corpus/configs/seed1.cfg"
}
