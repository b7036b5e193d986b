#!/usr/bin/env bash
# Coverage-guided fuzzing (cargo-fuzz, libFuzzer) of every target in fuzz/: the config
# parser, the request and response head parsers, the chunked decoder, router-core's
# wire decoding, the wasm module's wr_route and decide (native vs wasm).
#
#   scripts/fuzz.sh                    # FUZZ_SECONDS=60 per target (the test command's smoke run)
#   FUZZ_SECONDS=3600 scripts/fuzz.sh config_parse   # one target, an hour
#
# Needs the nightly toolchain (`rustup toolchain install nightly`); without it, says so
# and exits 0. Installs cargo-fuzz from crates.io when missing. Exits non-zero when a
# target finds a crash (the input is left in fuzz/artifacts/TARGET/).
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER=${FUZZ_SECONDS:-60}
if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "fuzz: no nightly toolchain: skipped (rustup toolchain install nightly)" >&2
    exit 0
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "== installing cargo-fuzz (crates.io)"
    cargo install cargo-fuzz --locked -q
fi
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(config_parse request_head response_head chunked wire_decode wasm_route decide)
fi
# Rust is memory-safe: panics, hangs and runaway memory are what is looked for, so
# no sanitizer (a faster build and more executions per second).
# local-host embeds router-core as a wasm module, which its build script makes with the
# active toolchain: build it with stable (which has the wasm32 target) and hand it over.
echo "== wasm module (stable)"
cargo rustc -q -p router-core --features abi --target wasm32-unknown-unknown --profile wasm \
    --crate-type cdylib --target-dir target/wasm-module -- -C link-arg=-zstack-size=65536
export WTEDGE_WASM_MODULE="$PWD/target/wasm-module/wasm32-unknown-unknown/wasm/router_core.wasm"
echo "== fuzz build"
(cd fuzz && cargo +nightly fuzz build -s none -O)
WORK=$(mktemp -d /tmp/wtedge-fuzz.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
status=0
for t in "${targets[@]}"; do
    corpus="$WORK/$t"
    mkdir -p "$corpus"
    seeds=()
    [ -d "fuzz/seeds/$t" ] && seeds+=("fuzz/seeds/$t")
    dict=fuzz/dicts/http.dict
    if [ "$t" = config_parse ]; then
        dict=fuzz/dicts/haproxy.dict
        cp tests/corpus/configs/*.cfg "$corpus/"
    fi
    echo "== fuzz $t for ${SECONDS_PER}s"
    if ! (cd fuzz && cargo +nightly fuzz run -s none -O "$t" "$corpus" "${seeds[@]/#/../}" -- \
        -max_total_time="$SECONDS_PER" -dict="../$dict" -rss_limit_mb=2048 -timeout=10 \
        -print_final_stats=1 2>"$WORK/$t.log"); then
        echo "fuzz: $t FAILED:" >&2
        grep -E "panicked|ERROR|SUMMARY|Test unit written" "$WORK/$t.log" | head -20 >&2
        status=1
    fi
    grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb|cov: [0-9]+" "$WORK/$t.log" | tail -3 || true
done
exit $status
