#!/usr/bin/env bash
# Strobe's test command: everything, native and in the browser.
#
#   bash scripts/test.sh
#
# Stages (each timed; the run goes on after a failing test stage and exits non-zero at the end):
#   setup     scripts/setup.sh: wasm32 target, wasm-bindgen CLI, wasm-pack, chromium, .venv, playwright-core
#   fixtures  HDF5 fixtures + h5py oracle (tests/fixtures/make_fixtures.py) and ranges.bin
#   native    cargo test --no-fail-fast (all unit and integration tests)
#   python    pip install ./python into .venv (dev profile), a 100 M-event DSEC file in
#             target/big-fixtures/ (tests/fixtures/make_big_dsec.py, cached), then pytest python/tests
#             (h5py oracle, its own `strobe serve` on a free port)
#   server    target/debug/strobe serve --faults: fixtures at http://127.0.0.1:$PORT/data/ with Range +
#             CORS, and broken views of them under /faults/<spec>/data/ (tests/wasm_faults.rs)
#   wasm      wasm-pack test --headless --chrome -- --test 'wasm_*' (the wasm32 tests in headless Chromium)
#   e2e       the viewer page: scripts/build-site.sh, then tests/e2e/*.test.mjs (node --test +
#             playwright-core, headless Chromium; the page on :$STROBE_E2E_PORT, data from :$PORT)
#   nginx     the page again, a selection of its tests, with the data served by Debian nginx
#             (the README's configuration) on :$STROBE_NGINX_PORT (default 8766)
#
# Env: STROBE_TEST_PORT (default 8765) — port of the fixture server.
#      STROBE_E2E_PORT (default 8770) — port of the viewer page's server in the e2e stage.
#      STROBE_TEST_SERVER — developers only: a command that serves $STROBE_FIXTURES under /data/
#        on $STROBE_TEST_PORT, used instead of `strobe serve` (for example nginx).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}"
case ":$PATH:" in *":$CARGO_HOME/bin:"*) ;; *) export PATH="$CARGO_HOME/bin:$PATH" ;; esac
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

PORT="${STROBE_TEST_PORT:-8765}"
FIXTURES="$ROOT/tests/fixtures/out"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
LOGS="$TARGET_DIR/test-logs"
mkdir -p "$LOGS"
: >"$LOGS/summary.log"

# ranges.bin: the browser tests' oracle file. Byte i = top byte of (i * 0x9E3779B1 mod 2^32).
# Keep RANGES_LEN and the formula in step with tests/wasm_*.rs.
RANGES_LEN=3000017

T0=$SECONDS
TIMINGS=()
FAILED=()
STAGE=""
STAGE_T0=0

stage() {
    STAGE="$1"
    STAGE_T0=$SECONDS
    echo
    echo "==> [$STAGE] $2"
}
stage_done() { # $1 = ok|FAILED
    local took=$((SECONDS - STAGE_T0))
    TIMINGS+=("$(printf '%-9s %-6s %4ds' "$STAGE" "$1" "$took")")
    echo "<== [$STAGE] $1 in ${took}s"
    if [ "$1" != ok ]; then FAILED+=("$STAGE"); fi
}

# Prints what ran, then the runners' own summary lines, then the total; exits 1 if anything failed.
finish() {
    echo
    echo "==> stage timings (total $((SECONDS - T0))s)"
    for t in "${TIMINGS[@]}"; do echo "    $t"; done
    local passed=0 failed=0 ignored=0 p f i
    echo
    echo "==> test summary"
    if [ -s "$LOGS/summary.log" ]; then
        cat "$LOGS/summary.log"
        while read -r p f i; do
            passed=$((passed + p)); failed=$((failed + f)); ignored=$((ignored + i))
        done < <(sed -nE 's/.*test result: [A-Za-z]+\. ([0-9]+) passed; ([0-9]+) failed; ([0-9]+) ignored.*/\1 \2 \3/p' "$LOGS/summary.log")
    fi
    if [ "${#FAILED[@]}" -gt 0 ]; then
        echo "FAILED stages: ${FAILED[*]} (logs in ${LOGS#"$ROOT"/}/)"
    fi
    echo "total: $passed passed, $failed failed, $ignored skipped"
    if [ "${#FAILED[@]}" -gt 0 ]; then exit 1; fi
    exit 0
}

# Aborts: for stages the rest cannot run without.
abort() {
    stage_done FAILED
    echo "test.sh: $*" >&2
    finish
}

# Runs a test command, showing its output and keeping the `test result:` lines for the summary.
run_tests() { # $1 = log name, rest = command
    local log="$LOGS/$1.log"
    shift
    local rc=0
    "$@" 2>&1 | tee "$log" || rc=$?
    grep -E '^test result:' "$log" | sed "s/^/[$STAGE] /" >>"$LOGS/summary.log" || true
    return "$rc"
}

# Runs node's test runner: its report on stdout, then its totals as a cargo-style
# `test result:` line (cancelled tests count as failed) so that the summary collects them.
node_tests() { # args = test files
    local tap="$LOGS/$STAGE.tap" rc=0
    node --test --test-concurrency=1 \
        --test-reporter=spec --test-reporter-destination=stdout \
        --test-reporter=tap --test-reporter-destination="$tap" "$@" || rc=$?
    local p f c s t
    tap_total() { sed -nE "s/^# $1 ([0-9]+)$/\\1/p" "$tap" | tail -n 1; }
    p="$(tap_total pass)"; f="$(tap_total fail)"; c="$(tap_total cancelled)"
    s="$(tap_total skipped)"; t="$(tap_total todo)"
    f=$(( ${f:-0} + ${c:-0} ))
    if [ -z "$p" ]; then
        echo "test result: FAILED. 0 passed; 1 failed; 0 ignored (node --test reported no totals)"
        return 1
    fi
    local verdict=ok
    if [ "$rc" != 0 ] || [ "$f" != 0 ]; then verdict=FAILED; fi
    echo "test result: $verdict. $p passed; $f failed; $(( ${s:-0} + ${t:-0} )) ignored"
    return "$rc"
}

SERVER_PID=""
stop_server() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    SERVER_PID=""
}
trap stop_server EXIT
trap 'stop_server; exit 130' INT TERM

# --- setup ------------------------------------------------------------------------------------
stage setup "scripts/setup.sh (skips whatever is already installed)"
bash scripts/setup.sh || abort "scripts/setup.sh failed — see its message above"
stage_done ok

# --- fixtures ---------------------------------------------------------------------------------
stage fixtures "test fixtures in ${FIXTURES#"$ROOT"/}/"
mkdir -p "$FIXTURES"
if [ -f tests/fixtures/make_fixtures.py ]; then
    [ -x .venv/bin/python ] || abort ".venv/bin/python is missing (scripts/python-env.sh should have made it)"
    .venv/bin/python tests/fixtures/make_fixtures.py "$FIXTURES" \
        || abort "tests/fixtures/make_fixtures.py failed"
else
    echo "(tests/fixtures/make_fixtures.py not present yet: no HDF5 fixtures)"
fi
if [ "$(stat -c %s "$FIXTURES/ranges.bin" 2>/dev/null || echo 0)" != "$RANGES_LEN" ]; then
    PY="$(command -v python3 || echo "$ROOT/.venv/bin/python")"
    "$PY" - "$FIXTURES/ranges.bin" "$RANGES_LEN" <<'PYEOF' || abort "could not write ranges.bin"
import os, sys
path, n = sys.argv[1], int(sys.argv[2])
data = bytes(((i * 0x9E3779B1) & 0xFFFFFFFF) >> 24 for i in range(n))
with open(path + ".tmp", "wb") as f:
    f.write(data)
os.replace(path + ".tmp", path)
PYEOF
    echo "wrote ranges.bin ($RANGES_LEN bytes)"
fi
stage_done ok

# --- native tests -----------------------------------------------------------------------------
stage native "cargo test (native)"
if run_tests native cargo test --no-fail-fast; then stage_done ok; else stage_done FAILED; fi

# --- python package ---------------------------------------------------------------------------
# Builds and installs the `strobe` Python package into .venv (the same pip line as the README,
# with maturin's dev profile so it reuses the native stage's build), then runs pytest; its
# totals become a `test result:` line for the summary. No tests collected (exit 5) fails.
python_tests() {
    local log="$LOGS/python-pytest.log" rc=0
    if ! MATURIN_PEP517_ARGS="--profile dev" .venv/bin/python -m pip install --quiet \
        --disable-pip-version-check --no-input --force-reinstall --no-deps ./python >"$LOGS/python-build.log" 2>&1; then
        echo "test.sh: pip install ./python failed; its log:" >&2
        tail -n 30 "$LOGS/python-build.log" >&2
        echo "test result: FAILED. 0 passed; 1 failed; 0 ignored (pip install ./python failed)"
        return 1
    fi
    # The issue's memory test reads a 100 M-event DSEC file (~345 MB, ~1 min to write, reused
    # while its generator's parameters stay the same).
    local big big_t0=$SECONDS
    if ! big="$(.venv/bin/python tests/fixtures/make_big_dsec.py "$TARGET_DIR/big-fixtures" 2>"$LOGS/python-big.log")"; then
        echo "test.sh: tests/fixtures/make_big_dsec.py failed; its log:" >&2
        tail -n 30 "$LOGS/python-big.log" >&2
        echo "test result: FAILED. 0 passed; 1 failed; 0 ignored (make_big_dsec.py failed)"
        return 1
    fi
    echo "100 M-event file: ${big#"$ROOT"/} ($((SECONDS - big_t0)) s)"
    STROBE_BIN="$TARGET_DIR/debug/strobe" STROBE_FIXTURES="$FIXTURES" STROBE_BIG_DSEC="$big" \
        .venv/bin/python -m pytest python/tests -q -p no:cacheprovider --rootdir python \
        2>&1 | tee "$log" || rc=$?
    local line p f s e
    line="$(grep -E '^=*.* in [0-9.]+s' "$log" | tail -n 1)"
    count() { sed -nE "s/.*[^0-9]([0-9]+) $1.*/\\1/p" <<<" $line" | head -n 1; }
    p="$(count passed)"; f="$(count failed)"; s="$(count skipped)"; e="$(count error)"
    f=$(( ${f:-0} + ${e:-0} ))
    if [ "$rc" = 5 ] || [ -z "$line" ]; then
        echo "test result: FAILED. 0 passed; 1 failed; 0 ignored (pytest ran no tests, exit $rc)"
        return 1
    fi
    local verdict=ok
    if [ "$rc" != 0 ] || [ "$f" != 0 ]; then verdict=FAILED; fi
    echo "test result: $verdict. ${p:-0} passed; $f failed; ${s:-0} ignored"
    return "$rc"
}

stage python "Python package: pip install ./python, pytest python/tests"
if run_tests python python_tests; then stage_done ok; else stage_done FAILED; fi

# --- fixture server ---------------------------------------------------------------------------
stage server "fixture server on http://127.0.0.1:$PORT/data/ (Range + CORS)"
DATA_URL="http://127.0.0.1:$PORT/data/"
server_ok=1
if curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/" 2>/dev/null; then
    echo "test.sh: something already listens on 127.0.0.1:$PORT — stop it or set STROBE_TEST_PORT" >&2
    server_ok=0
elif [ -n "${STROBE_TEST_SERVER:-}" ]; then
    echo "using STROBE_TEST_SERVER: $STROBE_TEST_SERVER"
    STROBE_FIXTURES="$FIXTURES" STROBE_TEST_PORT="$PORT" \
        bash -c "exec $STROBE_TEST_SERVER" >"$LOGS/server.log" 2>&1 &
    SERVER_PID=$!
else
    STROBE_BIN="$TARGET_DIR/debug/strobe"
    # `cargo test` already built target/debug/strobe with the test build's feature set; a plain
    # `cargo build` would resolve dev-dependency features differently and recompile (and flip
    # back on the next run). Fall back to it only if the test build itself is broken.
    if ! cargo test --no-run >"$LOGS/server-build.log" 2>&1 \
        && ! cargo build --bin strobe >>"$LOGS/server-build.log" 2>&1; then
        echo "test.sh: could not build target/debug/strobe; the build log:" >&2
        tail -n 30 "$LOGS/server-build.log" >&2
        server_ok=0
    elif ! "$STROBE_BIN" serve --help >/dev/null 2>&1; then
        echo "test.sh: '$STROBE_BIN serve --help' fails: the range server (src/serve, wired into the" >&2
        echo "         CLI as 'strobe serve --data DIR --port N --bind ADDR') is not available, so the" >&2
        echo "         browser tests cannot run." >&2
        server_ok=0
    else
        "$STROBE_BIN" serve --data "$FIXTURES" --port "$PORT" --bind 127.0.0.1 --faults \
            >"$LOGS/server.log" 2>&1 &
        SERVER_PID=$!
    fi
fi
if [ "$server_ok" = 1 ]; then
    # Ready when a cross-origin range request for ranges.bin gets 206 with CORS headers.
    ready=0
    code=""
    for _ in $(seq 1 100); do
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            echo "test.sh: the fixture server exited; its log:" >&2
            sed 's/^/    /' "$LOGS/server.log" >&2 || true
            break
        fi
        code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 -H 'Origin: http://127.0.0.1:1' \
            -r 0-0 -D "$LOGS/server-probe.headers" "${DATA_URL}ranges.bin" 2>/dev/null || true)"
        if [ "$code" = 206 ]; then ready=1; break; fi
        sleep 0.1
    done
    if [ "$ready" = 1 ]; then
        h="$(tr -d '\r' <"$LOGS/server-probe.headers")"
        if ! grep -qi '^access-control-allow-origin:' <<<"$h" \
            || ! grep -i '^access-control-expose-headers:' <<<"$h" | grep -qi 'content-range'; then
            echo "test.sh: the fixture server answers ranges but without CORS (Access-Control-Allow-Origin," >&2
            echo "         Access-Control-Expose-Headers: Content-Range, ...); its headers were:" >&2
            sed 's/^/    /' <<<"$h" >&2
            server_ok=0
        else
            echo "serving ${FIXTURES#"$ROOT"/}/ at $DATA_URL (pid $SERVER_PID)"
        fi
    else
        [ -z "$code" ] || echo "test.sh: the fixture server did not answer a range request with 206 (last: HTTP $code)" >&2
        server_ok=0
    fi
fi
if [ "$server_ok" = 1 ]; then stage_done ok; else stage_done FAILED; fi

# --- browser tests ----------------------------------------------------------------------------
stage wasm "wasm-pack test --headless --chrome -- --test 'wasm_*' (headless Chromium)"
if [ "$server_ok" = 1 ]; then
    WASM_TMP="$TARGET_DIR/wasm-test-tmp"
    rm -rf "$WASM_TMP" # each browser session leaves a profile behind
    mkdir -p "$WASM_TMP"
    # How Rust/wasm projects run browser tests. No -q: cargo would pass --quiet on to the
    # runner, which rejects it. The same tests run with plain cargo as well:
    #   CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner cargo test --target wasm32-unknown-unknown --test 'wasm_*'
    if TMPDIR="$WASM_TMP" \
        CHROMEDRIVER=/usr/bin/chromedriver \
        WASM_BINDGEN_TEST_WEBDRIVER_JSON="$ROOT/tests/webdriver.json" \
        WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-120}" \
        STROBE_TEST_DATA_URL="$DATA_URL" \
        run_tests wasm wasm-pack test --headless --chrome -- --test 'wasm_*'; then
        stage_done ok
    else
        stage_done FAILED
    fi
else
    echo "skipped: no fixture server (see the server stage)"
    stage_done FAILED
fi

# --- viewer page tests ------------------------------------------------------------------------
stage e2e "viewer page: scripts/build-site.sh, then node --test tests/e2e (headless Chromium)"
if [ "$server_ok" != 1 ]; then
    echo "skipped: no fixture server (see the server stage)"
    stage_done FAILED
elif ! bash scripts/build-site.sh >"$LOGS/build-site.log" 2>&1; then
    echo "test.sh: scripts/build-site.sh failed; its log:" >&2
    tail -n 30 "$LOGS/build-site.log" >&2
    stage_done FAILED
elif [ ! -x "$TARGET_DIR/debug/strobe" ] && ! cargo build --bin strobe >>"$LOGS/build-site.log" 2>&1; then
    echo "test.sh: could not build target/debug/strobe (the page's server)" >&2
    stage_done FAILED
else
    tail -n 1 "$LOGS/build-site.log"
    if STROBE_TEST_DATA_URL="$DATA_URL" STROBE_E2E_PORT="${STROBE_E2E_PORT:-8770}" \
        run_tests e2e node_tests tests/e2e/*.test.mjs; then
        stage_done ok
    else
        stage_done FAILED
    fi
fi
stop_server

# --- the page behind nginx ---------------------------------------------------------------------
# The same page against a stock static server (Debian nginx with the README's configuration):
# the first picture of each DSEC fixture (≤ 4 rounds, h5py's digest) and stepping.
stage nginx "viewer page with the data served cross-origin by nginx (README's configuration)"
NGINX_PORT="${STROBE_NGINX_PORT:-8766}"
NGINX_DIR="$TARGET_DIR/nginx"
NGINX_PID=""
if [ ! -x /usr/sbin/nginx ]; then
    echo "test.sh: /usr/sbin/nginx is missing (scripts/setup.sh installs it)" >&2
    stage_done FAILED
elif curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$NGINX_PORT/" 2>/dev/null; then
    echo "test.sh: something already listens on 127.0.0.1:$NGINX_PORT — stop it or set STROBE_NGINX_PORT" >&2
    stage_done FAILED
else
    mkdir -p "$NGINX_DIR/tmp"
    cat >"$NGINX_DIR/nginx.conf" <<NGINXEOF
worker_processes 1;
pid $NGINX_DIR/nginx.pid;
error_log $NGINX_DIR/error.log;
events { worker_connections 256; }
http {
    access_log $NGINX_DIR/access.log;
    client_body_temp_path $NGINX_DIR/tmp; proxy_temp_path $NGINX_DIR/tmp;
    fastcgi_temp_path $NGINX_DIR/tmp; uwsgi_temp_path $NGINX_DIR/tmp; scgi_temp_path $NGINX_DIR/tmp;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        root $FIXTURES;
        location ~* \.h5\$ {
            gzip off;
            types { }
            default_type application/x-hdf5;
            add_header Access-Control-Allow-Origin "*" always;
            add_header Access-Control-Allow-Methods "GET, HEAD, OPTIONS" always;
            add_header Access-Control-Allow-Headers "Range, If-Range" always;
            add_header Access-Control-Expose-Headers "Content-Range, Content-Length, ETag, Accept-Ranges" always;
            if (\$request_method = OPTIONS) { return 204; }
        }
    }
}
NGINXEOF
    /usr/sbin/nginx -c "$NGINX_DIR/nginx.conf" -g 'daemon off;' >"$LOGS/nginx.log" 2>&1 &
    NGINX_PID=$!
    ready=0
    for _ in $(seq 1 100); do
        code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 -r 0-0 \
            "http://127.0.0.1:$NGINX_PORT/dsec_full_bitshuffle.h5" 2>/dev/null || true)"
        if [ "$code" = 206 ]; then ready=1; break; fi
        sleep 0.1
    done
    if [ "$ready" != 1 ]; then
        echo "test.sh: nginx did not answer a range request with 206; its log:" >&2
        cat "$LOGS/nginx.log" "$NGINX_DIR/error.log" >&2 2>/dev/null || true
        stage_done FAILED
    elif STROBE_TEST_DATA_URL="http://127.0.0.1:$NGINX_PORT/" STROBE_E2E_PORT="${STROBE_E2E_PORT:-8770}" \
        run_tests nginx node_tests tests/e2e/nginx/*.test.mjs; then
        stage_done ok
    else
        stage_done FAILED
    fi
    kill "$NGINX_PID" 2>/dev/null || true
    wait "$NGINX_PID" 2>/dev/null || true
fi

finish
