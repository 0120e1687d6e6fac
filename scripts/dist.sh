#!/usr/bin/env bash
# Builds the viewer for any static host into dist/:
#
#   bash scripts/dist.sh            # then upload dist/ (or: strobe serve --site dist --data DIR)
#
#   dist/index.html
#   dist/www/*.js, *.css
#   dist/www/pkg/strobe.js, strobe_bg.wasm   (wasm optimised by wasm-opt -O3)
#
# It runs scripts/build-site.sh (cargo + wasm-bindgen into www/pkg/), then optimises the wasm
# with wasm-opt from npm binaryen@132, installed into .tools/ on first use. (Not Debian's
# binaryen: its wasm-opt 108 writes modules Chromium refuses to load.) dist/ is replaced
# whole; nothing outside it and .tools/ is written besides what build-site.sh writes.
#
# The recordings are not part of dist/: host them anywhere that answers Range requests with
# CORS (see the README), and open  index.html?url=<recording URL>.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

BINARYEN_VERSION="132"
WASM_OPT="$ROOT/.tools/node_modules/binaryen/bin/wasm-opt"
DIST="$ROOT/dist"

say() { echo "dist: $*" >&2; }
die() { echo "dist: ERROR: $*" >&2; exit 1; }

[ -f scripts/build-site.sh ] \
    || die "scripts/build-site.sh is missing — it builds the viewer's wasm bundle into www/pkg/; without it there is nothing to ship"
[ -f index.html ] || die "index.html is missing — the viewer page is not in this checkout"

# --- 1. the wasm bundle ---------------------------------------------------------------------
bash scripts/build-site.sh >&2 || die "scripts/build-site.sh failed"
[ -f www/pkg/strobe_bg.wasm ] || die "www/pkg/strobe_bg.wasm missing after scripts/build-site.sh"

# --- 2. wasm-opt from npm binaryen@132, under .tools/ -----------------------------------------
have_wasm_opt() {
    [ -x "$WASM_OPT" ] && "$WASM_OPT" --version 2>/dev/null | grep -q "version $BINARYEN_VERSION"
}
if ! have_wasm_opt; then
    command -v npm >/dev/null 2>&1 || die "npm not found; install Node.js and npm (wasm-opt comes from npm binaryen@$BINARYEN_VERSION)"
    say "installing binaryen@$BINARYEN_VERSION (wasm-opt) into .tools/"
    npm install --prefix .tools --no-audit --no-fund --loglevel=error \
        "binaryen@$BINARYEN_VERSION" >&2 \
        || die "npm install binaryen@$BINARYEN_VERSION failed"
    have_wasm_opt || die "$WASM_OPT does not report version $BINARYEN_VERSION"
fi

# --- 3. assemble dist/ in a temporary directory, then swap it in -----------------------------
STAGE="$(mktemp -d "$ROOT/.dist.XXXXXX")"
trap 'rm -rf "$STAGE"' EXIT
cp index.html "$STAGE/"
# www/ as it is (the page's scripts and styles); pkg/ again below, with the wasm optimised.
cp -R www "$STAGE/www"
rm -rf "$STAGE/www/pkg"
mkdir -p "$STAGE/www/pkg"
for f in www/pkg/*; do
    case "$f" in
        *.wasm) ;;
        *) cp "$f" "$STAGE/www/pkg/" ;;
    esac
done
# Features are read from the module's target_features section (what rustc enabled).
"$WASM_OPT" -O3 --strip-debug --strip-producers \
    www/pkg/strobe_bg.wasm -o "$STAGE/www/pkg/strobe_bg.wasm" \
    || die "wasm-opt failed on www/pkg/strobe_bg.wasm"

before=$(stat -c %s www/pkg/strobe_bg.wasm)
after=$(stat -c %s "$STAGE/www/pkg/strobe_bg.wasm")
rm -rf "$DIST"
mv "$STAGE" "$DIST"
chmod 755 "$DIST"
trap - EXIT
say "wrote dist/ ($(find "$DIST" -type f | wc -l) files; wasm $before → $after bytes)"
echo "$DIST"
