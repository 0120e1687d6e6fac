#!/usr/bin/env bash
# Strobe's demo: set up a fresh machine, build, write the demo recording, serve it with the
# viewer and print the link that opens it.
#
#   bash scripts/demo.sh            # then open the printed link in a browser
#
# Env: STROBE_DEMO_PORT (default 8080), STROBE_DEMO_DATA (default demo/ in the repo).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}"
case ":$PATH:" in *":$CARGO_HOME/bin:"*) ;; *) export PATH="$CARGO_HOME/bin:$PATH" ;; esac

echo "==> setting up (skips what is installed)"
bash scripts/setup.sh
echo "==> building strobe (release)"
cargo build --release --bin strobe
if [ -f scripts/build-site.sh ]; then
    echo "==> building the viewer (wasm)"
    bash scripts/build-site.sh
fi
echo "==> strobe demo"
exec target/release/strobe demo --port "${STROBE_DEMO_PORT:-8080}" --data "${STROBE_DEMO_DATA:-$ROOT/demo}"
