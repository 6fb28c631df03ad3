#!/usr/bin/env bash
# Android, on a machine without the Android SDK, Gradle or an NDK:
#  1. builds libquietline_android.so (host) and the UniFFI Kotlin bindings;
#  2. runs the JNI key protector on the desktop JVM under -Xcheck:jni against a software key store
#     (open/commit/reopen/wipe of a real agent, a destroyed key, a key store that throws);
#  3. generates Java stubs of every android.* class the app uses from PyPI's chaquopy-stubs-android
#     (API 36) and compiles the app's Kotlin against them with kotlinc -Werror;
#  4. runs the app's action-mapping tests (core action -> platform calls -> ack) on the JVM against
#     the real Rust library, with the platform faked.
# Installs what it needs (kotlinc from npm into .tools/, JNA from Debian, the stubs from PyPI).
# Works with CI=true and no stdin.
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TERM_COLOR=never
root=$(pwd)
out=target/android
mkdir -p "$out"
step() { printf -- '-- %s\n' "$*"; }

# --- tools -------------------------------------------------------------------------------------
kotlinc="$root/.tools/node_modules/kotlin-compiler/bin/kotlinc"
if [ ! -x "$kotlinc" ]; then
  step "installing kotlinc (npm kotlin-compiler@2.4.20 into .tools/)"
  mkdir -p .tools
  npm install --prefix .tools --no-audit --no-fund --loglevel=error kotlin-compiler@2.4.20 </dev/null
fi
kotlin_stdlib="$root/.tools/node_modules/kotlin-compiler/lib/kotlin-stdlib.jar"
jna=/usr/share/java/jna.jar
if [ ! -f "$jna" ]; then
  step "installing libjna-java"
  sudo_=""; [ "$(id -u)" -ne 0 ] && sudo_=sudo
  DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -q libjna-java </dev/null >/dev/null \
    || { DEBIAN_FRONTEND=noninteractive $sudo_ apt-get update -q </dev/null >/dev/null &&
         DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -q libjna-java </dev/null >/dev/null; }
fi

# --- native library and bindings ---------------------------------------------------------------
step "building libquietline_android.so and the Kotlin bindings"
cargo build -q -p quietline-android
lib_dir="$root/target/debug"
scripts/gen-bindings.sh "$out/bindings" >/dev/null
bindings_kt="$out/bindings/kotlin/org/quietline/quietline.kt"
# The generated Kotlin is compiled once per content (it is not ours: no -Werror).
sum=$(sha256sum "$bindings_kt" | cut -c1-16)
if [ ! -f "$out/bindings-$sum.jar" ]; then
  step "compiling the generated bindings"
  rm -f "$out"/bindings-*.jar
  "$kotlinc" -nowarn -cp "$jna" "$bindings_kt" -d "$out/bindings-$sum.jar"
fi
bindings_jar="$out/bindings-$sum.jar"

# Fails on a -Xcheck:jni warning raised inside Quietline's own natives (JNA's dispatch code, which
# the UniFFI bindings go through, raises its own that are not ours), and on any fatal JNI error.
check_jni_log() {
  awk '
    /^FATAL ERROR/ { fatal = 1 }
    /^WARNING/ { w = 1; next }
    w == 1 { if ($0 ~ /org\.quietline\.android\./) { ours++; print "ours: " prev " " $0 } w = 0 }
    { prev = $0 }
    END { if (fatal || ours) exit 1 }
  ' "$1"
}

# --- 2. JNI key protector on the desktop JVM ---------------------------------------------------
step "JNI key protector under -Xcheck:jni"
ks="$out/keystore"
rm -rf "$ks" && mkdir -p "$ks/classes"
javac -Xlint:all,-serial -Werror -d "$ks/classes" $(find android/jvmtest/java -name '*.java')
"$kotlinc" -Werror -cp "$jna:$bindings_jar:$ks/classes" \
  android/app/src/main/java/org/quietline/android/NativeBridge.kt \
  android/app/src/main/java/org/quietline/android/AndroidKeyProtector.kt \
  android/jvmtest/kotlin/Harness.kt android/jvmtest/kotlin/KeyProtectorTest.kt \
  -d "$ks/test.jar"
set +e
java -Xcheck:jni -Djava.library.path="$lib_dir" -Djna.library.path="$lib_dir" \
  -cp "$ks/test.jar:$bindings_jar:$ks/classes:$jna:$kotlin_stdlib" \
  org.quietline.jvmtest.KeyProtectorTest >"$ks/log.txt" 2>&1 </dev/null
rc=$?
set -e
grep -E '^  (ok|FAIL)|passed,' "$ks/log.txt" || true
[ "$rc" -eq 0 ] || { echo "key protector tests failed; log: $ks/log.txt"; sed -n '/FAIL/,+20p' "$ks/log.txt" | head -60; exit 1; }
check_jni_log "$ks/log.txt" || { echo "-Xcheck:jni flagged Quietline's natives; log: $ks/log.txt"; exit 1; }
echo "jni check: 0 warnings in Quietline natives"

# --- 3. the app's Kotlin against API 36 stubs -----------------------------------------------------
step "compiling the whole app against API 36 stubs (chaquopy-stubs-android) with kotlinc -Werror"
python3 scripts/android-stubs.py --kotlinc "$kotlinc" --classpath "$bindings_jar:$jna" \
  --out "$out/stubs" </dev/null | tee "$out/stubs.log"

# --- 4. the app's action mapping on the JVM, real agent, fake platform ---------------------------
step "action mapping (core action -> platform call -> ack) against the real library"
am="$out/actions"
rm -rf "$am" && mkdir -p "$am"
"$kotlinc" -Werror -cp "$jna:$bindings_jar" \
  android/app/src/main/java/org/quietline/android/Platform.kt \
  android/app/src/main/java/org/quietline/android/ActionExecutor.kt \
  android/jvmtest/kotlin/Harness.kt android/jvmtest/kotlin/ActionExecutorTest.kt \
  -d "$am/test.jar"
set +e
java -Djna.library.path="$lib_dir" -cp "$am/test.jar:$bindings_jar:$jna:$kotlin_stdlib" \
  org.quietline.jvmtest.ActionExecutorTest >"$am/log.txt" 2>&1 </dev/null
rc=$?
set -e
grep -E '^  (ok|FAIL)|passed,' "$am/log.txt" || true
[ "$rc" -eq 0 ] || { echo "action mapping tests failed; log: $am/log.txt"; sed -n '/FAIL/,+20p' "$am/log.txt" | head -60; exit 1; }

total_pass=0
for log in "$ks/log.txt" "$am/log.txt" "$out/stubs.log"; do
  n=$(sed -n 's/.*\b\([0-9][0-9]*\) passed, 0 failed.*/\1/p' "$log" | tail -1)
  total_pass=$((total_pass + ${n:-0}))
done
echo "android: $total_pass passed, 0 failed"
