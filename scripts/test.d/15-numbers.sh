#!/usr/bin/env bash
# Differential number test: every way a number is written, in every region libphonenumber knows,
# normalised by the core (registration and lookup paths) and by Google's libphonenumber (the
# Python `phonenumbers` port, pinned to the metadata version of the Rust `phonenumber` crate).
# Fails on any disagreement not listed with its reason in tests/numbers/known_disagreements.tsv.
set -euo pipefail
cd "$(dirname "$0")/../.."

# The crate's version carries its metadata version as build metadata: 0.3.10+9.0.33.
pn_version=$(awk '/^name = "phonenumber"$/ { getline; split($0, v, "\""); split(v[2], m, "+"); print m[2] }' Cargo.lock)
if [ -z "$pn_version" ]; then
  echo "numbers: FAIL: cannot read the phonenumber crate's metadata version from Cargo.lock"
  exit 1
fi

target_dir=$(cargo metadata --format-version 1 --no-deps \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
venv="$target_dir/numbers-venv"
if ! "$venv/bin/python" -c "import sys, phonenumbers; sys.exit(phonenumbers.__version__ != '$pn_version')" 2>/dev/null; then
  echo "installing phonenumbers==$pn_version (PyPI) into $venv"
  if ! python3 -m venv "$venv" 2>/dev/null; then
    command -v apt-get >/dev/null && { apt-get update -q >/dev/null; apt-get install -y -q python3-venv >/dev/null; }
    python3 -m venv "$venv"
  fi
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "phonenumbers==$pn_version"
fi

cargo build --quiet -p quietline-core --example numbers_diff
"$venv/bin/python" tests/numbers/differential.py --helper "$target_dir/debug/examples/numbers_diff"
