#!/usr/bin/env bash
# The FFI benchmark of issue 4 (not part of the test command; results are recorded by hand in
# docs/performance.md, section "FFI"):
#   1. builds the release library (the shipped profile: opt-level "z", fat LTO, one codegen unit,
#      stripped) and reports its size;
#   2. times one decision call (an outgoing-SMS check to a registered survivor) in Rust, on the
#      core's agent directly and through quietline-ffi's Rust API (bindings/examples/ffi_bench.rs);
#   3. times the same call and the trivial getter `generation()` from Kotlin on the desktop JVM
#      through JNA (scripts/ffi-bench/FfiBench.kt), against the same release library;
#   4. prints the per-call times and the ratios, and the FFI overhead against the target
#      (the round trip adds under 20 µs on the desktop JVM).
#
#   scripts/ffi-bench.sh [SURVIVORS [CALLS_PER_BATCH]]     defaults: 100 survivors, 200000 calls
#
# Needs what scripts/test.d/20-bindings.sh installs: kotlinc in .tools/ and Debian's libjna-java.
# The first run builds the release profile (several minutes on two cores).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
survivors="${1:-100}"
calls="${2:-200000}"
work=target/ffi-bench
mkdir -p "$work"
KOTLINC=.tools/node_modules/kotlin-compiler/bin/kotlinc
KOTLIN_STDLIB=.tools/node_modules/kotlin-compiler/lib/kotlin-stdlib.jar
JNA=/usr/share/java/jna.jar
for f in "$KOTLINC" "$JNA"; do
  [ -e "$f" ] || { echo "ffi-bench: $f is missing; run scripts/test.d/20-bindings.sh once to install it" >&2; exit 1; }
done

echo "-- release library"
lib=$(scripts/gen-bindings.sh --release "$work/bindings" | tail -n 1)
size=$(stat -c %s "$lib")
cp "$lib" "$work/stripped.so" && strip "$work/stripped.so"
awk -v lib="$lib" -v size="$size" -v again="$(stat -c %s "$work/stripped.so")" \
  'BEGIN { printf "%s: %d bytes (%.2f MiB); after a further strip: %d bytes\n", lib, size, size / 1048576, again }'
file -b "$lib" | tr ',' '\n' | grep -E 'stripped|x86-64|aarch64' | sed 's/^ */  /'

echo "-- rust (release profile)"
cargo run -q --release -p quietline-ffi --example ffi_bench -- "$survivors" "$calls" | tee "$work/rust.txt"

echo "-- kotlin (desktop JVM, JNA)"
"$KOTLINC" -cp "$JNA" "$work/bindings/kotlin/org/quietline/quietline.kt" scripts/ffi-bench/FfiBench.kt \
  -d "$work/bench.jar" 2>&1 | grep -v '^warning:' | grep -v '^$' || true
java -version 2>&1 | head -n 1
java -Djna.library.path="$(dirname "$lib")" -cp "$work/bench.jar:$JNA:$KOTLIN_STDLIB" \
  org.quietline.bench.FfiBench "$survivors" "$calls" | tee "$work/kotlin.txt"

echo "-- report"
cat "$work/rust.txt" "$work/kotlin.txt" | awk '
  { v[$1] = $2 }
  END {
    printf "SMS check, %d survivors (ns/call): core %.0f | ffi Rust API %.0f | Kotlin via JNA %.0f\n",
      v["survivors"], v["rust_core_sms"], v["rust_ffi_sms"], v["kotlin_jna_sms"]
    printf "generation() (ns/call): ffi Rust API %.0f | Kotlin via JNA %.0f; libc getpid() via JNA %.0f\n",
      v["rust_ffi_generation"], v["kotlin_jna_generation"], v["kotlin_jna_getpid"]
    printf "ratio Kotlin/JNA SMS : core SMS            = %.1fx\n", v["kotlin_jna_sms"] / v["rust_core_sms"]
    printf "ratio Kotlin/JNA SMS : ffi Rust API SMS    = %.1fx\n", v["kotlin_jna_sms"] / v["rust_ffi_sms"]
    printf "ratio Kotlin/JNA SMS : Kotlin generation() = %.1fx\n", v["kotlin_jna_sms"] / v["kotlin_jna_generation"]
    over = (v["kotlin_jna_sms"] - v["rust_core_sms"]) / 1000
    printf "FFI round trip adds %.2f us to the SMS check (target: under 20 us): %s\n", over, (over < 20 ? "met" : "NOT met")
  }'
