#!/usr/bin/env bash
# Fuzzes one target on one core for SECONDS (default 300) on stable Rust, seeded from
# fuzz/corpus/<target> (see README.md for making the seeds). Prints libFuzzer's summary.
set -euo pipefail
target=${1:?target}; seconds=${2:-300}
cd "$(dirname "$0")/.."
mkdir -p fuzz/corpus/"$target" fuzz/artifacts/"$target"
cargo fuzz run -s none -a "$target" fuzz/corpus/"$target" -- \
  -max_total_time="$seconds" -max_len=40000 -timeout=10 \
  -rss_limit_mb=640 -malloc_limit_mb=128 -print_final_stats=1 \
  -artifact_prefix=fuzz/artifacts/"$target"/ 2>&1
