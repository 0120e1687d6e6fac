#!/usr/bin/env bash
# Builds the viewer's wasm bundle into www/pkg/ (the page is index.html + www/*.js + www/pkg/).
#
#   bash scripts/build-site.sh          # then: target/debug/strobe serve --site . --data DIR
#
# Idempotent: cargo rebuilds only what changed, and www/pkg/ is rewritten only when the
# bundle's bytes change (so a running server keeps serving the same files).
# Needs the wasm32-unknown-unknown target and wasm-bindgen at Cargo.lock's version
# (scripts/setup.sh installs both).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}"
case ":$PATH:" in *":$CARGO_HOME/bin:"*) ;; *) export PATH="$CARGO_HOME/bin:$PATH" ;; esac
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"

die() { echo "build-site: ERROR: $*" >&2; exit 1; }

command -v wasm-bindgen >/dev/null 2>&1 \
    || die "wasm-bindgen not found — run scripts/setup.sh (it installs the CLI at Cargo.lock's version)"

cargo build --release --target wasm32-unknown-unknown --lib \
    || die "cargo build --release --target wasm32-unknown-unknown --lib failed"

WASM="$TARGET_DIR/wasm32-unknown-unknown/release/strobe.wasm"
[ -f "$WASM" ] || die "$WASM was not built"

OUT="$ROOT/www/pkg"
TMP="$(mktemp -d "$TARGET_DIR/site-pkg.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
wasm-bindgen --target web --out-dir "$TMP" "$WASM" \
    || die "wasm-bindgen failed (a 'schema version' error means the CLI and the crate differ: run scripts/setup.sh)"

mkdir -p "$OUT"
changed=0
for f in "$TMP"/*; do
    name="$(basename "$f")"
    if ! cmp -s "$f" "$OUT/$name"; then
        cp "$f" "$OUT/$name.tmp" && mv "$OUT/$name.tmp" "$OUT/$name"
        changed=1
    fi
done
# Files an older wasm-bindgen wrote that this one does not.
for f in "$OUT"/*; do
    [ -e "$TMP/$(basename "$f")" ] || { rm -f "$f"; changed=1; }
done
if [ "$changed" = 1 ]; then
    echo "build-site: wrote ${OUT#"$ROOT"/}/ ($(stat -c %s "$OUT/strobe_bg.wasm") bytes of wasm)"
else
    echo "build-site: ${OUT#"$ROOT"/}/ is up to date"
fi
