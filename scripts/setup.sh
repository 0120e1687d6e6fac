#!/usr/bin/env bash
# Install everything Strobe's build and tests need on a fresh machine (Debian, root or sudo).
#
# Idempotent: on a machine where it already ran, every step is a quick check and nothing is
# printed. On a fresh one it installs, in order:
#   0. Debian libhdf5-dev + pkg-config                   (apt-get; the demo writer links libhdf5)
#   1. the Rust target wasm32-unknown-unknown            (rustup)
#   2. wasm-bindgen CLI at exactly Cargo.lock's version   (cargo install, ~90 s)
#   2b. wasm-pack, which runs the browser tests           (cargo install, ~90 s)
#   3. Debian chromium + chromium-driver                  (apt-get, ~15 s)
#   3b. Debian nginx                                      (apt-get; the page is checked behind it)
#   4. the Python venv for HDF5 fixtures                  (scripts/python-env.sh, if present)
#   5. playwright-core for page tests                     (npm, into .tools/)
#
# Env: STROBE_SKIP_BROWSER=1 skips 3 and 5 (native-only work).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PLAYWRIGHT_CORE_VERSION="1.65.1"

CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}"
case ":$PATH:" in *":$CARGO_HOME/bin:"*) ;; *) export PATH="$CARGO_HOME/bin:$PATH" ;; esac

say() { echo "setup: $*" >&2; }
die() { echo "setup: ERROR: $*" >&2; exit 1; }

# Runs a command as root: directly when we are root, else through sudo when there is one.
as_root() {
    if [ "$(id -u)" = 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo -n "$@"
    else
        die "need root (or sudo) to run: $*"
    fi
}

command -v cargo >/dev/null 2>&1 || die "cargo not found (looked on PATH and in $CARGO_HOME/bin) — install Rust with rustup first"

# --- 0. system libraries for the native build ------------------------------------------------
# `strobe demo` writes its recording with hdf5-metno, which links the system libhdf5.
if ! dpkg -s libhdf5-dev >/dev/null 2>&1 || ! command -v pkg-config >/dev/null 2>&1; then
    command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install libhdf5-dev and pkg-config by hand"
    say "installing Debian libhdf5-dev + pkg-config (for the demo recording writer)"
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get update -qq >&2 || die "apt-get update failed"
    as_root apt-get install -y -qq --no-install-recommends libhdf5-dev pkg-config >/dev/null \
        || die "apt-get install libhdf5-dev pkg-config failed"
fi

# --- 1. wasm32 target -------------------------------------------------------------------------
if ! rustup target list --installed 2>/dev/null | grep -qx 'wasm32-unknown-unknown'; then
    command -v rustup >/dev/null 2>&1 || die "rustup not found; cannot add the wasm32-unknown-unknown target"
    say "adding Rust target wasm32-unknown-unknown"
    rustup target add wasm32-unknown-unknown >&2 || die "rustup target add wasm32-unknown-unknown failed"
fi

# --- 2. wasm-bindgen CLI, same version as the crate ------------------------------------------
if [ ! -f Cargo.lock ]; then
    say "no Cargo.lock; generating it"
    cargo generate-lockfile >&2 || die "cargo generate-lockfile failed"
fi
# The lock file lists packages as  [[package]] / name = "..." / version = "...".
WB_VERSION="$(awk '
    $0 == "name = \"wasm-bindgen\"" { hit = 1; next }
    hit && /^version = / { gsub(/"/, "", $3); print $3; exit }
    /^\[\[package\]\]/ { hit = 0 }
' Cargo.lock)"
[ -n "$WB_VERSION" ] || die "could not read the wasm-bindgen version from Cargo.lock"

wb_ok() {
    command -v wasm-bindgen >/dev/null 2>&1 \
        && command -v wasm-bindgen-test-runner >/dev/null 2>&1 \
        && [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" = "$WB_VERSION" ] \
        && [ "$(wasm-bindgen-test-runner --version 2>/dev/null | awk '{print $2}')" = "$WB_VERSION" ]
}
if ! wb_ok; then
    say "installing wasm-bindgen-cli $WB_VERSION (takes ~90 s)"
    # No --locked: the CLI's own lockfile pins a crate version the registry does not serve.
    cargo install --no-default-features --force wasm-bindgen-cli --version "$WB_VERSION" >&2 \
        || die "cargo install wasm-bindgen-cli $WB_VERSION failed"
    wb_ok || die "wasm-bindgen $WB_VERSION installed but 'wasm-bindgen --version' does not report it (PATH has $(command -v wasm-bindgen || echo none))"
fi

# --- 2b. wasm-pack: the browser tests run as `wasm-pack test --headless --chrome` ------------
# It finds the wasm-bindgen CLI above on PATH (same version as Cargo.lock), so it downloads
# nothing; chromedriver and chromium are pointed at by scripts/test.sh (CHROMEDRIVER,
# WASM_BINDGEN_TEST_WEBDRIVER_JSON).
WASM_PACK_VERSION=0.15.1
if [ "$(wasm-pack --version 2>/dev/null | awk '{print $2}')" != "$WASM_PACK_VERSION" ]; then
    say "installing wasm-pack $WASM_PACK_VERSION (takes ~90 s)"
    cargo install --force wasm-pack --version "$WASM_PACK_VERSION" >&2 \
        || die "cargo install wasm-pack $WASM_PACK_VERSION failed"
    [ "$(wasm-pack --version 2>/dev/null | awk '{print $2}')" = "$WASM_PACK_VERSION" ] \
        || die "wasm-pack $WASM_PACK_VERSION installed but 'wasm-pack --version' does not report it"
fi

# --- 3. headless browser ----------------------------------------------------------------------
if [ "${STROBE_SKIP_BROWSER:-0}" != 1 ]; then
    if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
        command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install chromium and chromedriver (/usr/bin/chromium, /usr/bin/chromedriver) by hand"
        say "installing Debian chromium + chromium-driver"
        export DEBIAN_FRONTEND=noninteractive
        as_root apt-get update -qq >&2 || die "apt-get update failed"
        as_root apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null \
            || die "apt-get install chromium chromium-driver failed"
        if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
            die "chromium/chromium-driver installed but /usr/bin/chromium or /usr/bin/chromedriver is missing"
        fi
    fi
fi

# --- 3b. nginx: the page is also tested against a stock static server ---------------------------
if [ "${STROBE_SKIP_BROWSER:-0}" != 1 ] && [ ! -x /usr/sbin/nginx ]; then
    command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install nginx (/usr/sbin/nginx) by hand"
    say "installing Debian nginx (the e2e stage also serves the fixtures with it)"
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get update -qq >&2 || die "apt-get update failed"
    as_root apt-get install -y -qq --no-install-recommends nginx >/dev/null \
        || die "apt-get install nginx failed"
    [ -x /usr/sbin/nginx ] || die "nginx installed but /usr/sbin/nginx is missing"
fi

# --- 4. Python fixtures environment -----------------------------------------------------------
if [ -f scripts/python-env.sh ]; then
    bash scripts/python-env.sh || die "scripts/python-env.sh failed"
fi

# --- 5. Node packages for page tests ----------------------------------------------------------
if [ "${STROBE_SKIP_BROWSER:-0}" != 1 ]; then
    PW_PKG=".tools/node_modules/playwright-core/package.json"
    pw_version() { node -p "require('./$PW_PKG').version" 2>/dev/null || true; }
    if [ ! -f "$PW_PKG" ] || [ "$(pw_version)" != "$PLAYWRIGHT_CORE_VERSION" ]; then
        command -v npm >/dev/null 2>&1 || die "npm not found; install Node.js and npm"
        say "installing playwright-core@$PLAYWRIGHT_CORE_VERSION into .tools/"
        # The package has no postinstall download; browsers come from Debian (never `playwright install`).
        npm install --prefix .tools --no-audit --no-fund --loglevel=error \
            "playwright-core@$PLAYWRIGHT_CORE_VERSION" >&2 \
            || die "npm install playwright-core@$PLAYWRIGHT_CORE_VERSION failed"
    fi
fi
