#!/usr/bin/env bash
# Independent implementation check: Python (with only the `cryptography` package) signs lock and
# wipe commands from docs/wire-format.md alone, the real agent accepts them, and Python verifies
# the agent's signed receipts; Python also re-derives every test vector in tests/vectors/.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! python3 -c 'import cryptography' >/dev/null 2>&1; then
  echo "installing the python cryptography package"
  python3 -m pip install --quiet cryptography \
    || python3 -m pip install --quiet --break-system-packages cryptography \
    || { command -v apt-get >/dev/null && apt-get install -y -q python3-cryptography; }
  python3 -c 'import cryptography'
fi

cargo build --quiet -p quietline-admin --bin quietline-admin --example phone
target_dir=$(cargo metadata --format-version 1 --no-deps \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')

python3 tests/python/run_interop.py \
  --admin "$target_dir/debug/quietline-admin" \
  --phone "$target_dir/debug/examples/phone" \
  --vectors tests/vectors
