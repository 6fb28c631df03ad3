#!/usr/bin/env bash
# Runs quietline-core's criterion benchmarks (core/benches/decisions.rs); results are recorded
# by hand in docs/performance.md.
#   scripts/bench.sh                      every benchmark, with the shipped release profile
#   scripts/bench.sh 'survivors_100000'   only benchmarks whose name matches the filter
#   BENCH_OPT_LEVEL=3 scripts/bench.sh    override the profile's opt-level ("z", size) for comparison
# The state fixtures are written under $TMPDIR (default /tmp): commits there pay a real fsync.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${BENCH_OPT_LEVEL:-}" ]; then
  export CARGO_PROFILE_BENCH_OPT_LEVEL="$BENCH_OPT_LEVEL"
fi
cargo bench -p quietline-core --bench decisions --bench trust -- "$@" 2>&1 |
  grep -E --line-buffered '^(fixture|Benchmarking .*: Analyzing|[[:space:]]+time:|Found|thread)' |
  sed -u 's/^Benchmarking \(.*\): Analyzing$/\1/'
