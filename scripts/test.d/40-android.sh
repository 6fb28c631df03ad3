#!/usr/bin/env bash
# Android, on a machine without the Android SDK, Gradle or an NDK:
#  1. fetches Robolectric 4.16, the API 35 android-all jars, JUnit and JNA from Maven Central
#     (android/robolectric/pom.xml, cached in .tools/), and kotlinc from npm;
#  2. builds libquietline_android.so (host) and the UniFFI Kotlin bindings of both namespaces it
#     carries, `quietline` and `quietline_android` (openAgent/enrollAgent), generated from that
#     library (compiled without -Werror: generated code is not ours);
#  3. compiles the whole app against the real API 35 framework jar with kotlinc -Werror, and proves
#     the check works: a misspelt, a wrong-signature and a deprecated call must each fail;
#  4. runs the Android key path on the desktop JVM under -Xcheck:jni against a software key store:
#     openAgent/enrollAgent/createAgent with Rust's JNI key protector, typed key store failures,
#     the generation record that refuses a copied-back older state directory;
#  5. runs the action-mapping tests (core action -> platform call -> ack) with a fake platform;
#  6. runs the Robolectric suite: every entry point of the app on the real framework classes with
#     the real Rust library and the real generated bindings, one scenario per finding of issue 12
#     and per rule of DESIGN.md on `work` and `byod`, and the relay client against the real
#     quietline-relay (built here, started per scenario on loopback with TLS and a throwaway
#     certificate) with IT driving the real quietline-admin --relay; then the whole suite once more
#     in reverse order in a fresh process, so an order dependence between scenarios fails here.
# Works with CI=true and no stdin.
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TERM_COLOR=never
root=$(pwd)
out=target/android
mkdir -p "$out"
step() { printf -- '-- %s\n' "$*"; }

# --- 1. tools --------------------------------------------------------------------------------------
kotlinc="$root/.tools/node_modules/kotlin-compiler/bin/kotlinc"
if [ ! -x "$kotlinc" ]; then
  step "installing kotlinc (npm kotlin-compiler@2.4.20 into .tools/)"
  mkdir -p .tools
  npm install --prefix .tools --no-audit --no-fund --loglevel=error kotlin-compiler@2.4.20 </dev/null
fi
kotlin_stdlib="$root/.tools/node_modules/kotlin-compiler/lib/kotlin-stdlib.jar"
# kotlinc's default 512 MB heap thrashes on the android-all classpath.
export JAVA_OPTS="${JAVA_OPTS:--Xmx1536m}"
deps="$root/.tools/robolectric"
pom=android/robolectric/pom.xml
stamp="$deps/.pom-$(sha256sum "$pom" | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  step "fetching Robolectric, android-all (API 35), JUnit and JNA from Maven Central into .tools/"
  rm -rf "$deps"
  mvn -q -B -Dstyle.color=never -Dmaven.repo.local="$root/.tools/m2" -f "$pom" dependency:copy-dependencies \
    -DoutputDirectory="$deps" </dev/null
  # Robolectric needs androidx.test's monitor, published as an .aar: its classes.jar is the library.
  for aar in "$deps"/*.aar; do unzip -p "$aar" classes.jar >"${aar%.aar}-classes.jar"; done
  touch "$stamp"
fi
android_all="$deps/android-all-15-robolectric-13954326.jar"
jna="$deps/jna-5.17.0.jar"
# Robolectric and JUnit without the framework jars: Robolectric loads the instrumented one itself
# into its sandbox; the plain one goes last on the runtime class path (annotation defaults name
# framework classes).
robo_cp=$(find "$deps" -name '*.jar' ! -name 'android-all*' | sort | tr '\n' ':')

# --- 2. native library and bindings ---------------------------------------------------------------
step "building libquietline_android.so, quietline-admin, quietline-relay and the Kotlin bindings"
cargo build -q -p quietline-android -p quietline-admin -p quietline-relay
lib_dir="$root/target/debug"
scripts/gen-bindings.sh --android "$out/bindings" >/dev/null
bindings_kt=("$out/bindings/kotlin/org/quietline/quietline.kt" "$out/bindings/kotlin/org/quietline/android/ffi/quietline_android.kt")
sum=$(cat "${bindings_kt[@]}" | sha256sum | cut -c1-16)
if [ ! -f "$out/bindings-$sum.jar" ]; then
  step "compiling the generated bindings (-nowarn: generated code)"
  rm -f "$out"/bindings-*.jar
  "$kotlinc" -nowarn -cp "$jna" "${bindings_kt[@]}" -d "$out/bindings-$sum.jar"
fi
bindings_jar="$out/bindings-$sum.jar"

# --- 3. the app against the real framework ----------------------------------------------------------
step "compiling the whole app against android-all API 35 with kotlinc -Werror"
app_jar="$out/app.jar"
"$kotlinc" -Werror -cp "$android_all:$bindings_jar:$jna" android/app/src/main/java/org/quietline/android/*.kt -d "$app_jar"
echo "app: compiled against the framework, 0 warnings"
step "self-test: wrong API calls must fail that compile"
selftest_pass=0
expect_rejected() { # file, expected diagnostics...: the file must fail to compile with each of them
  local file=$1; shift
  local log="$out/apicheck-$(basename "$file" .kt).log"
  if "$kotlinc" -Werror -cp "$android_all" "$file" -d "$out/apicheck" >"$log" 2>&1; then
    echo "  FAIL $file compiled"; exit 1
  fi
  for want in "$@"; do
    if grep -qiF "$want" "$log"; then
      echo "  ok   rejected: $want"; selftest_pass=$((selftest_pass + 1))
    else
      echo "  FAIL not rejected: $want"; cat "$log"; exit 1
    fi
  done
}
expect_rejected android/apicheck/WrongApi.kt "unresolved reference 'lockNoww'" "argument type mismatch"
expect_rejected android/apicheck/DeprecatedApi.kt "'fun setPasswordQuality("

# Fails on any fatal JNI error (-Xcheck:jni makes a wrong type, signature, reference or thread
# fatal), on any warning raised in Quietline's one JNI native (NativeBridge.nativeInit), and on any
# warning other than JNA's own unchecked-exception warnings in a call that JNA dispatches into the
# library (the UniFFI entry points, whose Rust reaches the key store through jni). JNA's dispatch
# code makes Call*Method calls without an ExceptionCheck before and after every native call: the
# same warnings appear on `rustbuffer_alloc`, which runs no JNI code of ours, so they cannot be
# told from ours by the stack; the Rust side uses jni 0.22, which checks for an exception after
# every call that can throw.
check_jni_log() {
  awk '
    /^FATAL ERROR/ { fatal = 1 }
    /^WARNING/ { w = 1; msg = $0; next }
    w == 1 {
      w = 0
      if ($0 ~ /org\.quietline\.android\.NativeBridge/) { ours++; print "ours: " msg " " $0; next }
      if (msg ~ /without checking exceptions when required to from Call(Static)?(Void|Object|Boolean|Int|Long)Method$/) { jna++; next }
      if ($0 ~ /org\.quietline\.android\./) { ours++; print "ours: " msg " " $0 }
    }
    END { printf "jni check: %d unchecked-exception warnings from JNA dispatch (not ours)\n", jna; if (fatal || ours) exit 1 }
  ' "$1"
}

run_logged() { # name log cmd...: runs, prints the ok/FAIL lines, fails with the log's failures
  local name=$1 log=$2; shift 2
  set +e
  "$@" >"$log" 2>&1 </dev/null
  local rc=$?
  set -e
  grep -E '^  (ok|FAIL)|passed,' "$log" || true
  [ "$rc" -eq 0 ] || { echo "$name failed; log: $log"; sed -n '/FAIL/,+25p' "$log" | head -80; exit 1; }
}

# --- 4. The Android key path on the desktop JVM ------------------------------------------------------
step "Android key path (openAgent/enrollAgent, JNI key protector) under -Xcheck:jni"
ks="$out/keystore"
rm -rf "$ks" && mkdir -p "$ks/classes"
javac -Xlint:all,-serial -Werror -d "$ks/classes" $(find android/jvmtest/java -name '*.java')
"$kotlinc" -Werror -cp "$jna:$bindings_jar:$ks/classes" \
  android/app/src/main/java/org/quietline/android/NativeBridge.kt \
  android/jvmtest/kotlin/Harness.kt android/jvmtest/kotlin/KeyProtectorTest.kt \
  tests/bindings/kotlin/Org.kt tests/bindings/kotlin/Support.kt \
  -d "$ks/test.jar"
QL_ADMIN="$root/target/debug/quietline-admin" run_logged "key protector tests" "$ks/log.txt" \
  java -Xcheck:jni -Djava.library.path="$lib_dir" -Djna.library.path="$lib_dir" \
  -cp "$ks/test.jar:$bindings_jar:$ks/classes:$jna:$kotlin_stdlib" org.quietline.jvmtest.KeyProtectorTest
check_jni_log "$ks/log.txt" || { echo "-Xcheck:jni flagged Quietline's natives; log: $ks/log.txt"; exit 1; }
echo "jni check: 0 warnings in Quietline's JNI native, no fatal JNI error"

# --- 5. the app's action mapping with a fake platform --------------------------------------------------
step "action mapping (core action -> platform call -> ack) against the real library"
am="$out/actions"
rm -rf "$am" && mkdir -p "$am"
"$kotlinc" -Werror -cp "$jna:$bindings_jar" \
  android/app/src/main/java/org/quietline/android/Platform.kt \
  android/app/src/main/java/org/quietline/android/ActionExecutor.kt \
  android/jvmtest/kotlin/Harness.kt android/jvmtest/kotlin/ActionExecutorTest.kt \
  -d "$am/test.jar"
run_logged "action mapping tests" "$am/log.txt" \
  java -Djna.library.path="$lib_dir" -cp "$am/test.jar:$bindings_jar:$jna:$kotlin_stdlib" org.quietline.jvmtest.ActionExecutorTest

# --- 6. Robolectric: every entry point on the real framework ----------------------------------------
step "Robolectric suite (API 35, real Rust library, real bindings, offline)"
rb="$out/robolectric"
rm -rf "$rb" && mkdir -p "$rb/classes"
# The software key store, compiled against the real framework (KeyGenParameterSpec and the
# key-store exceptions are android-all's own, not the desktop stand-ins).
javac -nowarn -cp "$android_all" -d "$rb/classes" android/jvmtest/java/org/quietline/jvmtest/TestKeyStoreProvider.java
"$kotlinc" -nowarn -cp "$android_all:$robo_cp:$app_jar:$bindings_jar:$rb/classes" \
  android/robolectric/kotlin/*.kt tests/bindings/kotlin/Org.kt tests/bindings/kotlin/Support.kt -d "$rb/test.jar"
# The relay scenarios (RelayTest) start the real quietline-relay on loopback with TLS: a
# throwaway certificate for 127.0.0.1, trusted only by the test (the app's Relay.trustAnchors).
if ! command -v openssl >/dev/null 2>&1; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q openssl >/dev/null
fi
command -v python3 >/dev/null 2>&1 || { echo "python3 is needed (the relay scenarios edit the relay's SQLite file as a rogue operator would)"; exit 1; }
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "/CN=127.0.0.1" \
  -addext "subjectAltName=IP:127.0.0.1" -keyout "$rb/relay-tls.key" -out "$rb/relay-tls.crt" >/dev/null 2>&1
# The test organisation's relay (https://relay.example.org/q) must never be reached: HTTPS goes
# through a proxy on a closed loopback port, so every relay call fails at once with an IOException
# as with no network (a wipe receipt then stays queued on the phone, which the scenarios check),
# instead of depending on this machine's DNS and on TLS inside Robolectric's sandbox.
QL_ADMIN="$root/target/debug/quietline-admin" run_logged "Robolectric suite" "$rb/log.txt" \
  java -Djava.library.path="$lib_dir" -Djna.library.path="$lib_dir" -Dhttps.proxyHost=127.0.0.1 -Dhttps.proxyPort=9 \
  -Drobolectric.offline=true -Drobolectric.dependency.dir="$deps" -Drobolectric.logging.enabled=false \
  -Dquietline.manifest="$root/android/app/src/main/AndroidManifest.xml" \
  -Dquietline.relay="$lib_dir/quietline-relay" -Dquietline.tlsCert="$rb/relay-tls.crt" -Dquietline.tlsKey="$rb/relay-tls.key" \
  -cp "$rb/test.jar:$app_jar:$bindings_jar:$rb/classes:$robo_cp:$kotlin_stdlib:$android_all" org.quietline.robolectric.Main

# The suite must not depend on its order (each scenario sets up what it needs): the same suite
# once more in a fresh process, classes in the opposite order (RelayTest first) and each class's
# scenarios in reverse, so a scenario that relies on an earlier one fails CI here.
step "Robolectric suite again, in reverse order (no scenario may depend on an earlier one)"
QL_ADMIN="$root/target/debug/quietline-admin" run_logged "Robolectric suite (reverse order)" "$rb/log-reverse.txt" \
  java -Djava.library.path="$lib_dir" -Djna.library.path="$lib_dir" -Dhttps.proxyHost=127.0.0.1 -Dhttps.proxyPort=9 \
  -Drobolectric.offline=true -Drobolectric.dependency.dir="$deps" -Drobolectric.logging.enabled=false \
  -Dquietline.manifest="$root/android/app/src/main/AndroidManifest.xml" -Dquietline.order=reverse \
  -Dquietline.relay="$lib_dir/quietline-relay" -Dquietline.tlsCert="$rb/relay-tls.crt" -Dquietline.tlsKey="$rb/relay-tls.key" \
  -cp "$rb/test.jar:$app_jar:$bindings_jar:$rb/classes:$robo_cp:$kotlin_stdlib:$android_all" org.quietline.robolectric.Main
first=$(grep -m1 -E '^  (ok|FAIL) ' "$rb/log-reverse.txt" | awk '{print $2}')
case "$first" in relay_*) ;; *) echo "the reverse run did not start with RelayTest (first: $first)"; exit 1 ;; esac
echo "reverse order: started with $first"

total_pass=$selftest_pass
for log in "$ks/log.txt" "$am/log.txt" "$rb/log.txt"; do
  n=$(sed -n 's/.*\b\([0-9][0-9]*\) passed, 0 failed.*/\1/p' "$log" | tail -1)
  total_pass=$((total_pass + ${n:-0}))
done
echo "android: $total_pass passed, 0 failed"
