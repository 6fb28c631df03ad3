#!/usr/bin/env bash
# A short run of every cargo-fuzz target of quietline-core (see docs/fuzzing.md).
#   FUZZ_SECONDS=20   seconds per target
#   FUZZ_TARGETS="policy_json number_input state_file"   which targets
# Needs cargo-fuzz (installed if missing) and the nightly toolchain, or a stable one with
# RUSTC_BOOTSTRAP=1 (which this script sets). Exits non-zero if any target finds a crash.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
export RUSTC_BOOTSTRAP=1
secs="${FUZZ_SECONDS:-20}"
targets="${FUZZ_TARGETS:-policy_json number_input state_file wire_command wire_receipt signed_policy enrollment}"

if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install --locked cargo-fuzz
fi

cargo fuzz build -O -a
for t in $targets; do
  printf '\n== fuzz %s for %ss\n' "$t" "$secs"
  mkdir -p "corpus/$t"
  # corpus/<t> is the growing (ignored) corpus; seeds/<t> holds the committed seed inputs.
  log="artifacts/$t.log"
  mkdir -p artifacts
  if ! cargo fuzz run -O -a "$t" "corpus/$t" "seeds/$t" -- \
    -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1; then
    grep -v -E '^ +[0-9]+: |^ +at ' "$log" | tail -n 60
    echo "fuzz target $t failed; full log in fuzz/$log" >&2
    rm -rf /dev/shm/ql-fuzz-state-* "${TMPDIR:-/tmp}"/ql-fuzz-state-*
    exit 1
  fi
  grep -E '^(Done|stat::)' "$log"
  # libFuzzer exits without running destructors: remove the state_file target's scratch dirs.
  rm -rf /dev/shm/ql-fuzz-state-* "${TMPDIR:-/tmp}"/ql-fuzz-state-*
done
printf '\nfuzz smoke run passed: %s (%ss each)\n' "$targets" "$secs"
