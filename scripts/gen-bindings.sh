#!/usr/bin/env bash
# Builds libquietline_ffi and generates its Kotlin, Swift and Python bindings in library mode
# with the workspace's own uniffi-bindgen (same UniFFI version as the library).
#
#   scripts/gen-bindings.sh [--release] [OUT_DIR]
#   scripts/gen-bindings.sh --android [OUT_DIR]
#
# Output (not committed): OUT_DIR/{kotlin,swift,python}, default target/bindings; the library
# is copied beside the Python module so `PYTHONPATH=OUT_DIR/python python3 -c 'import quietline'`
# works. Prints the library's path on the last line. With --release the bindings are still
# generated from the debug library (the release one is stripped of UniFFI's metadata); they are
# the same bindings, and they load the release library.
#
# With --android: builds libquietline_android.so (debug) and generates the Kotlin of both UniFFI
# namespaces it carries into OUT_DIR/kotlin: `quietline` (org/quietline/quietline.kt, the same
# file as from libquietline_ffi) and `quietline_android` (org/quietline/android/ffi/
# quietline_android.kt: openAgent, enrollAgent, createAgent, which return the first one's
# `Agent` and `ApiException`). Library mode reads both crates' uniffi.toml.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "--android" ]; then
  shift
  out="${1:-target/bindings}"
  export CARGO_TERM_COLOR=never
  ext=so
  case "$(uname -s)" in Darwin) ext=dylib ;; esac
  cargo build -q -p quietline-android --lib
  lib="target/debug/libquietline_android.$ext"
  [ -f "$lib" ] || { echo "gen-bindings: $lib was not built" >&2; exit 1; }
  rm -rf "$out/kotlin"
  cargo run -q -p quietline-ffi --bin uniffi-bindgen -- generate "$lib" --language kotlin --out-dir "$out/kotlin" --no-format
  for f in org/quietline/quietline.kt org/quietline/android/ffi/quietline_android.kt; do
    [ -f "$out/kotlin/$f" ] || { echo "gen-bindings: $f was not generated from $lib" >&2; exit 1; }
  done
  echo "$lib"
  exit 0
fi

profile=debug
cargo_profile=()
if [ "${1:-}" = "--release" ]; then
  profile=release
  cargo_profile=(--release)
  shift
fi
out="${1:-target/bindings}"
export CARGO_TERM_COLOR=never

ext=so
case "$(uname -s)" in Darwin) ext=dylib ;; esac
cargo build -q -p quietline-ffi --lib "${cargo_profile[@]}"
lib="target/$profile/libquietline_ffi.$ext"
[ -f "$lib" ] || { echo "gen-bindings: $lib was not built" >&2; exit 1; }
# The generator reads UniFFI's metadata from the library's symbol table, which the release
# profile strips (`strip = true`), so the bindings always come from the debug build of the same
# source: the interface does not depend on the profile.
meta="target/debug/libquietline_ffi.$ext"
if [ "$profile" = release ]; then
  cargo build -q -p quietline-ffi --lib
fi

rm -rf "$out/kotlin" "$out/swift" "$out/python"
for lang in kotlin swift python; do
  cargo run -q -p quietline-ffi --bin uniffi-bindgen -- generate "$meta" --language "$lang" --out-dir "$out/$lang" --no-format
done
ln -sf "$(pwd)/$lib" "$out/python/"
echo "$lib"
