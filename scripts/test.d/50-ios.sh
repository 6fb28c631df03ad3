#!/usr/bin/env bash
# The iOS app where no Swift compiler exists: generates the Swift bindings, parse-checks them and
# every .swift file under ios/ with tree-sitter-swift, checks that every name the hand-written
# Swift uses from the bindings exists in the generated Quietline.swift, that every function the
# app defines is reachable from an app entry point and every permission API has its usage string
# (ios/tools/wiring_check.py), that the relay client speaks docs/relay-protocol.md
# (ios/tools/relay_check.py), that no incoming call is answered differently for a registered
# survivor (ios/tools/offduty_check.py; self-tests of all three in ios/tools/selftest.py),
# validates the plists and entitlements, and checks that ios/build-xcframework.sh refuses clearly without Xcode.
# Works on a fresh machine (installs its Python tools under .tools/), with CI=true and no stdin.
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TERM_COLOR=never

# Pinned: the generated-bindings rewrites in ios/tools/swift_check.py are for this grammar.
py_tools=.tools/py-swift
if ! PYTHONPATH=$py_tools python3 -c 'import tree_sitter, tree_sitter_swift' 2>/dev/null; then
  echo "installing tree-sitter and tree-sitter-swift into $py_tools"
  python3 -m pip install --quiet --disable-pip-version-check --no-input \
    --target "$py_tools" "tree-sitter==0.26.1" "tree-sitter-swift==0.7.4" </dev/null
fi

out=target/ios-check
scripts/gen-bindings.sh "$out" >/dev/null </dev/null
bindings="$out/swift/Quietline.swift"

pass=0; fail=0
set +e
PYTHONPATH=$py_tools python3 ios/tools/swift_check.py "$bindings" ios | tee "$out/swift-check.log"
status=${PIPESTATUS[0]}
set -e
read -r p f < <(sed -n 's/^swift: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$out/swift-check.log")
pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0}))
if [ "$status" -ne 0 ] && [ "${f:-0}" -eq 0 ]; then fail=$((fail + 1)); echo "FAIL swift_check.py exited $status"; fi

# Wiring (reachability from the app's entry points, dead data, permissions and usage strings),
# the relay client against docs/relay-protocol.md (endpoints, methods, device authorization,
# the poll's order), then the self-tests showing each check fails on dead wiring and on mutated
# copies (synthetic apps, mutants of this tree, the app before issue 13 and before the relay).
for tool in wiring_check relay_check offduty_check selftest; do
  case $tool in
    wiring_check) args=("$bindings" ios) ;;
    relay_check) args=(ios docs/relay-protocol.md) ;;
    offduty_check) args=(ios) ;;
    *) args=("$bindings") ;;
  esac
  set +e
  PYTHONPATH=$py_tools python3 "ios/tools/$tool.py" "${args[@]}" | tee "$out/$tool.log"
  status=${PIPESTATUS[0]}
  set -e
  read -r p f < <(sed -n 's/^[a-z]*: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$out/$tool.log")
  pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0}))
  if [ "$status" -ne 0 ] && [ "${f:-0}" -eq 0 ]; then fail=$((fail + 1)); echo "FAIL $tool.py exited $status"; fi
done

check() {
  local what=$1; shift
  if "$@" >/dev/null 2>&1; then pass=$((pass + 1)); echo "ok   $what"; else fail=$((fail + 1)); echo "FAIL $what"; fi
}

for plist in ios/QuietlineApp/Info.plist ios/QuietlineApp/QuietlineApp.entitlements ios/QuietlineApp/QuietlineApp-Release.entitlements \
             ios/CallDirectoryExtension/Info.plist ios/CallDirectoryExtension/CallDirectoryExtension.entitlements; do
  check "plist $plist" python3 -c 'import plistlib, sys; plistlib.load(open(sys.argv[1], "rb"))' "$plist"
done

plist_has() { python3 - "$@" <<'PY'
import plistlib, sys
path, key, *values = sys.argv[1:]
v = plistlib.load(open(path, "rb")).get(key)
sys.exit(0 if v is not None and all(x in v for x in values) else 1)
PY
}
check "app background modes: remote-notification, fetch" \
  plist_has ios/QuietlineApp/Info.plist UIBackgroundModes remote-notification fetch
check "app lists the relay-poll BGTask identifier" \
  plist_has ios/QuietlineApp/Info.plist BGTaskSchedulerPermittedIdentifiers org.quietline.relay-poll
check "app declares the quietline-enroll URL scheme and handles it" bash -c \
  'python3 -c "import plistlib,sys; t=plistlib.load(open(sys.argv[1],\"rb\")).get(\"CFBundleURLTypes\") or []; sys.exit(0 if any(\"quietline-enroll\" in d.get(\"CFBundleURLSchemes\",[]) for d in t) else 1)" ios/QuietlineApp/Info.plist && grep -q "onOpenURL" ios/QuietlineApp/QuietlineApp.swift'
check "the Call Directory extension has no entitlements (it loads and reads nothing)" \
  python3 -c 'import plistlib, sys; sys.exit(0 if plistlib.load(open(sys.argv[1], "rb")) == {} else 1)' \
  ios/CallDirectoryExtension/CallDirectoryExtension.entitlements
plist_is() { python3 - "$@" <<'PY'
import plistlib, sys
path, key, value = sys.argv[1:]
sys.exit(0 if plistlib.load(open(path, "rb")).get(key) == value else 1)
PY
}
check "development builds use APNs' sandbox (aps-environment development)" \
  plist_is ios/QuietlineApp/QuietlineApp.entitlements aps-environment development
check "release builds use APNs production" \
  plist_is ios/QuietlineApp/QuietlineApp-Release.entitlements aps-environment production
check "project.yml signs Debug with the development and Release with the production entitlements" bash -c \
  'grep -A1 "Debug:" ios/project.yml | grep -q "QuietlineApp/QuietlineApp.entitlements" && grep -A1 "Release:" ios/project.yml | grep -q "QuietlineApp-Release.entitlements"'
check "both app entitlements files list the same groups (only aps-environment differs)" bash -c \
  'diff <(grep -v -e production -e development ios/QuietlineApp/QuietlineApp.entitlements) <(grep -v -e production -e development ios/QuietlineApp/QuietlineApp-Release.entitlements)'
check "a push is only a hint to poll: its payload is never read" bash -c \
  '! grep -q "userInfo\[" ios/QuietlineKit/Sources/Quietline/CommandInbox.swift && grep -q "inbox.handlePush()" ios/QuietlineApp/AppDelegate.swift'
check "VoIP calls have a route: the calling app from the signed policy, else managed app configuration" bash -c \
  'grep -q "softphone: { SoftphoneHandoff.configured(agent: agent) }" ios/QuietlineApp/AppModel.swift &&
   python3 - ios/QuietlineKit/Sources/Quietline/SoftphoneHandoff.swift <<"PY"
import re, sys
src = open(sys.argv[1]).read()
body = src[src.index("static func configured(agent:"):]
body = body[:body.index("\n    }\n")]
policy, managed = body.find("agent.softphone()"), body.find("fromManagedConfiguration(")
sys.exit(0 if 0 <= policy < managed else 1)
PY' 
check "app entitlements list keychain-access-groups" \
  plist_has ios/QuietlineApp/QuietlineApp.entitlements keychain-access-groups
check "CallKit provider keeps calls out of Recents" \
  grep -q 'includesCallsInRecents = false' ios/QuietlineKit/Sources/Quietline/HelplineCallManager.swift
check "the app declares iOS's platform caps (no full wipe, no prefix dialing)" \
  grep -q 'setPlatformCaps(caps: Self.caps)' ios/QuietlineApp/AppModel.swift
check "the platform caps are fullWipe: false, prefixDialing: false" \
  grep -q 'PlatformCaps(fullWipe: false, prefixDialing: false)' ios/QuietlineApp/AppModel.swift
check "no stand-in for the bindings' trust surface is left" \
  bash -c '! grep -rqE "UnexportedTrustChannel|AgentTrustChannel" ios --include=*.swift'
check "Keychain items are this-device-only after first unlock" \
  grep -q 'kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly' ios/QuietlineKit/Sources/QuietlineShared/Keychain.swift

check "build-xcframework.sh is valid bash" bash -n ios/build-xcframework.sh
if [ "$(uname -s)" != "Darwin" ]; then
  msg=$(bash ios/build-xcframework.sh </dev/null 2>&1 || true)
  check "build-xcframework.sh says Xcode is required" grep -q "Xcode is required" <<<"$msg"
fi

echo "ios: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
