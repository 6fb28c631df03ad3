#!/usr/bin/env bash
# Builds libquietline_ffi and generates its Kotlin, Swift and Python bindings in library mode
# with the workspace's own uniffi-bindgen (same UniFFI version as the library).
#
#   scripts/gen-bindings.sh [--release] [OUT_DIR]
#
# Output (not committed): OUT_DIR/{kotlin,swift,python}, default target/bindings; the library
# is copied beside the Python module so `PYTHONPATH=OUT_DIR/python python3 -c 'import quietline'`
# works. Prints the library's path on the last line.
set -euo pipefail
cd "$(dirname "$0")/.."

profile=debug
cargo_profile=()
if [ "${1:-}" = "--release" ]; then
  profile=release
  cargo_profile=(--release)
  shift
fi
out="${1:-target/bindings}"
export CARGO_TERM_COLOR=never

cargo build -q -p quietline-ffi --lib "${cargo_profile[@]}"
lib="target/$profile/libquietline_ffi.so"
case "$(uname -s)" in Darwin) lib="target/$profile/libquietline_ffi.dylib" ;; esac
[ -f "$lib" ] || { echo "gen-bindings: $lib was not built" >&2; exit 1; }

rm -rf "$out/kotlin" "$out/swift" "$out/python"
for lang in kotlin swift python; do
  cargo run -q -p quietline-ffi --bin uniffi-bindgen -- generate "$lib" --language "$lang" --out-dir "$out/$lang" --no-format
done
ln -sf "$(pwd)/$lib" "$out/python/"
echo "$lib"
