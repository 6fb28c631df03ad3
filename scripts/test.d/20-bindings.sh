#!/usr/bin/env bash
# The bindings: generate Kotlin/Swift/Python from the built library, run the Kotlin suite (desktop
# JVM, JNA) and the Python suite, run the conformance vectors in Rust, Kotlin and Python and check
# that the three transcripts are identical, and parse-check the Swift output. The trust tests
# (enrollment, signed policies and commands, receipts, wipes) use the admin CLI's real output. Installs
# kotlin-compiler (npm, into .tools/), libjna-java (apt) and tree-sitter-swift (pip) when missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TERM_COLOR=never RUST_BACKTRACE=0
out=target/bindings
work="$PWD/target/bindings-test"
mkdir -p "$work"
step() { printf '\n-- %s\n' "$*"; }
# Runs a suite, shows its failures and closing line; the tests that break the clock on purpose
# make Rust print a caught panic, which is expected and hidden here.
suite() {
  local log="$work/$1.log"; shift
  if "$@" >"$log" 2>&1; then grep -E 'passed, [0-9]+ failed$' "$log"; else cat "$log"; return 1; fi
}

step "generate bindings"
lib=$(scripts/gen-bindings.sh "$out" | tail -n 1)
libdir=$(dirname "$lib")

step "tools"
KOTLIN_HOME=.tools/node_modules/kotlin-compiler
if [ ! -x "$KOTLIN_HOME/bin/kotlinc" ]; then
  mkdir -p .tools
  (cd .tools && npm install --no-audit --no-fund --silent kotlin-compiler@2.4.20)
  chmod +x "$KOTLIN_HOME"/bin/*
fi
JNA=/usr/share/java/jna.jar
if [ ! -f "$JNA" ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo -n"
  $SUDO apt-get update -q </dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q libjna-java </dev/null
fi
if ! python3 -c 'import tree_sitter, tree_sitter_swift' 2>/dev/null; then
  python3 -m pip install -q --disable-pip-version-check tree-sitter tree-sitter-swift </dev/null
fi

step "admin CLI (the trust tests enroll from its bundles and verify receipts with it)"
cargo build -q -p quietline-admin
export QL_ADMIN="$PWD/target/debug/quietline-admin"

step "rust conformance"
rm -f "$work/rust.txt"
suite rust-conformance env QL_TRANSCRIPT="$work/rust.txt" cargo test -q -p quietline-ffi --test conformance -- --nocapture

step "python suite and conformance"
export PYTHONPATH="$out/python:tests/bindings/python"
suite python-suite python3 tests/bindings/python/test_bindings.py
python3 tests/bindings/python/conformance.py tests/conformance "$work/python.txt"

step "kotlin suite and conformance (kotlinc -Werror, desktop JVM, JNA)"
KOTLINC="$KOTLIN_HOME/bin/kotlinc"
"$KOTLINC" -Werror -cp "$JNA" "$out/kotlin/org/quietline/quietline.kt" -d "$work/quietline.jar" 2>&1 | grep -v '^$' || true
"$KOTLINC" -Werror -cp "$JNA:$work/quietline.jar" tests/bindings/kotlin/*.kt -d "$work/tests.jar"
CP="$work/quietline.jar:$work/tests.jar:$JNA:$KOTLIN_HOME/lib/kotlin-stdlib.jar"
suite kotlin-suite java -Djna.library.path="$libdir" -cp "$CP" org.quietline.test.BindingsTest
java -Djna.library.path="$libdir" -cp "$CP" org.quietline.test.Conformance tests/conformance "$work/kotlin.txt"

step "identical results across languages"
diff -u "$work/rust.txt" "$work/python.txt"
diff -u "$work/rust.txt" "$work/kotlin.txt"
echo "conformance transcripts: $(wc -l <"$work/rust.txt") steps identical in Rust, Python and Kotlin"

step "swift parse check (tree-sitter-swift)"
python3 - "$out/swift" <<'PY'
import pathlib, sys
import tree_sitter, tree_sitter_swift
parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_swift.language()))
passed = failed = 0
for f in sorted(pathlib.Path(sys.argv[1]).glob("*.swift")):
    # Two things valid Swift that the grammar does not know, neither changing the structure:
    # the attribute `@_documentation(visibility: private)`, and a closure whose body is the
    # empty tuple `{ () }` (UniFFI's writeReturn for methods returning nothing).
    src = f.read_text().replace("@_documentation(visibility: private)", "").replace("{ () }", "{ }")
    tree = parser.parse(src.encode())
    bad = []
    stack = [tree.root_node]
    while stack:
        n = stack.pop()
        if n.type == "ERROR" or n.is_missing:
            bad.append(n.start_point)
        stack.extend(n.children)
    if bad:
        failed += 1
        print(f"FAIL {f.name}: {len(bad)} parse errors, first at line {bad[0][0] + 1}")
    else:
        passed += 1
print(f"swift parse: {passed} passed, {failed} failed")
sys.exit(1 if failed or not passed else 0)
PY
