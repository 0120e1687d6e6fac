#!/usr/bin/env bash
# The benchmark: Strobe vs h5py + fsspec (HTTP) and h5py + hdf5plugin (local) on two 100 M-event
# DSEC files, side by side in one run. Writes BENCHMARKS.md and bench/results.json.
#
#   bench/run.sh [DATA_DIR]        (DATA_DIR default: bench/data, ignored by git)
#
# 1. ensures .venv (scripts/python-env.sh) plus the pinned peers of bench/requirements.txt
#    (pip runs only when they are missing), and builds target/release/strobe;
# 2. generates the big files in DATA_DIR (tests/fixtures/make_fixtures.py --big: ~5 min,
#    ~4.4 GB RAM, ~0.5 GB disk) or reuses them when the manifest already lists them;
# 3. serves DATA_DIR with `strobe serve --latency-ms 50` on a free loopback port (stopped on exit);
# 4. builds the viewer page (release wasm) and serves it with DATA, without latency, for the
#    browser part (bench/browser.mjs: wasm decode rate, frame time per mode, whole-file scrub);
# 5. runs bench/compare.py. Exit status 1 if any reader's window digest differs from h5py's.
# Env: STROBE_BENCH_PORT (default: a free port), STROBE_BENCH_LATENCY_MS (default 50).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
DATA="$(mkdir -p "${1:-$ROOT/bench/data}" && cd "${1:-$ROOT/bench/data}" && pwd)"
LATENCY="${STROBE_BENCH_LATENCY_MS:-50}"
PY="$ROOT/.venv/bin/python"
T0=$(date +%s)
stage() { echo "bench: [$(( $(date +%s) - T0 ))s] $*" >&2; }

stage "prerequisites (scripts/setup.sh: skips what is installed) and the python env"
bash scripts/setup.sh >&2
bash scripts/python-env.sh
if ! "$PY" - "$ROOT/bench/requirements.txt" >/dev/null 2>&1 <<'PYEOF'
import sys
from importlib.metadata import version
import fsspec, aiohttp  # noqa: F401
for line in open(sys.argv[1]):
    line = line.split("#", 1)[0].strip()
    if line:
        name, _, want = line.partition("==")
        if version(name.strip()) != want.strip():
            sys.exit(1)
PYEOF
then
    stage "installing bench/requirements.txt into .venv"
    "$PY" -m pip install --quiet --disable-pip-version-check --no-input -r bench/requirements.txt
fi

stage "cargo build --release"
cargo build --release --quiet
STROBE="$ROOT/target/release/strobe"

stage "big files in $DATA"
have_big() {
    "$PY" - "$DATA" >/dev/null 2>&1 <<'PYEOF'
import json, os, sys
d = sys.argv[1]
m = json.load(open(os.path.join(d, "manifest.json")))
big = [e for e in m["fixtures"] if e.get("big")]
ok = len(big) >= 2 and all(os.path.getsize(os.path.join(d, e["file"])) == e["bytes"] for e in big)
sys.exit(0 if ok else 1)
PYEOF
}
if ! have_big; then
    stage "generating them (tests/fixtures/make_fixtures.py --big, ~5 min)"
    "$PY" tests/fixtures/make_fixtures.py "$DATA" --big
    have_big || { echo "bench: $DATA still lacks the big files" >&2; exit 1; }
fi

PORT="${STROBE_BENCH_PORT:-$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
SERVE_LOG="$(mktemp -t strobe-bench-serve.XXXXXX.log)"
stage "strobe serve on 127.0.0.1:$PORT, --latency-ms $LATENCY (log $SERVE_LOG)"
"$STROBE" serve --data "$DATA" --port "$PORT" --bind 127.0.0.1 --latency-ms "$LATENCY" >"$SERVE_LOG" 2>&1 &
SERVER_PID=$!
SITE_PID=""
cleanup() {
    kill "$SERVER_PID" $SITE_PID 2>/dev/null || true
    wait "$SERVER_PID" $SITE_PID 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

stage "viewer page: scripts/build-site.sh (release wasm) and a second server without latency"
bash scripts/build-site.sh >&2
SITE_PORT="$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$STROBE" serve --site "$ROOT" --data "$DATA" --port "$SITE_PORT" --bind 127.0.0.1 >>"$SERVE_LOG" 2>&1 &
SITE_PID=$!

CMD="bench/run.sh"
[ $# -ge 1 ] && CMD="bench/run.sh $1"
stage "compare (≈ 3–4 min)"
status=0
"$PY" bench/compare.py --data "$DATA" --base-url "http://127.0.0.1:$PORT/data" \
    --strobe "$STROBE" --latency-ms "$LATENCY" --site-url "http://127.0.0.1:$SITE_PORT" \
    --json bench/results.json --md BENCHMARKS.md --command "$CMD" || status=$?
if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "bench: strobe serve died during the run; its log:" >&2
    cat "$SERVE_LOG" >&2
fi
stage "done (exit $status): BENCHMARKS.md, bench/results.json"
exit $status
