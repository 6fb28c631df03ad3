#!/usr/bin/env bash
# Runs every test of the project. Installs what it needs on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

step() { printf '\n== %s\n' "$*"; }

if ! command -v cargo-nextest >/dev/null 2>&1; then
  step "installing cargo-nextest"
  cargo install --locked cargo-nextest
fi

step "format"
cargo fmt --all -- --check

step "clippy"
cargo clippy --workspace --all-targets -- -D warnings

step "rust tests (nextest)"
cargo nextest run --workspace --no-fail-fast

step "doc tests"
cargo test --workspace --doc

# Every platform suite runs even when an earlier one fails, so one run reports every failure.
failed_suites=()
for extra in scripts/test.d/*.sh; do
  [ -e "$extra" ] || continue
  step "$extra"
  if ! bash "$extra"; then
    failed_suites+=("$extra")
    echo "FAILED: $extra"
  fi
done
echo
if [ ${#failed_suites[@]} -gt 0 ]; then
  echo "failed suites: ${failed_suites[*]}"
  exit 1
fi
echo "all test steps passed"
