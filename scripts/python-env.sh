#!/usr/bin/env bash
# Ensure ./.venv exists with the pinned test deps from requirements-test.txt (h5py, hdf5plugin, numpy).
# Idempotent: when .venv already imports the pinned versions, pip is not run and nothing is printed.
# Usage: scripts/python-env.sh && .venv/bin/python tests/fixtures/make_fixtures.py tests/fixtures/out
# Env: PYTHON=interpreter used to create the venv (default python3).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
REQ="$ROOT/requirements-test.txt"
BASE_PY="${PYTHON:-python3}"

# Exit 0 iff the venv's python imports every pinned package at exactly the pinned version.
venv_ok() {
    [ -x "$VENV/bin/python" ] || return 1
    "$VENV/bin/python" - "$REQ" >/dev/null 2>&1 <<'PYEOF'
import sys
from importlib.metadata import version
import h5py, hdf5plugin, numpy  # noqa: F401  (must actually import, not just be listed)
for line in open(sys.argv[1]):
    line = line.split("#", 1)[0].strip()
    if not line:
        continue
    name, _, want = line.partition("==")
    name = name.split("[", 1)[0]  # moto[server]: the extra is not part of the name
    if version(name.strip()) != want.strip():
        sys.exit(1)
PYEOF
}

venv_ok && exit 0

# Slow path: serialise concurrent callers (parallel test jobs) on a lock outside the work tree.
LOCK="${TMPDIR:-/tmp}/strobe-python-env-$(printf '%s' "$ROOT" | cksum | cut -d' ' -f1).lock"
exec 9>"$LOCK"
if command -v flock >/dev/null 2>&1; then flock 9; fi
venv_ok && exit 0   # another caller finished it while we waited

echo "python-env: setting up $VENV (h5py, hdf5plugin, numpy pinned in requirements-test.txt)" >&2
if [ -d "$VENV" ] && ! "$VENV/bin/python" -c "import sys" >/dev/null 2>&1; then
    rm -rf "$VENV"   # broken or half-created venv (interrupted earlier run): start over
fi
if [ ! -x "$VENV/bin/python" ]; then
    if ! "$BASE_PY" -m venv "$VENV" >/dev/null 2>&1; then
        # Debian's system python ships venv/ensurepip separately.
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
            echo "python-env: '$BASE_PY -m venv' failed; installing python3-venv" >&2
            rm -rf "$VENV"
            apt-get install -y -qq python3-venv >/dev/null 2>&1 \
                || { apt-get update -qq >/dev/null && apt-get install -y -qq python3-venv >/dev/null; }
            "$BASE_PY" -m venv "$VENV"
        else
            echo "python-env: cannot create a venv with '$BASE_PY -m venv'" >&2
            exit 1
        fi
    fi
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$REQ"
if ! venv_ok; then
    echo "python-env: $VENV still does not import the pinned h5py/hdf5plugin/numpy" >&2
    exit 1
fi
echo "python-env: ready" >&2
