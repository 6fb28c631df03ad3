#!/usr/bin/env bash
# `quietline-admin profile apple|android` against the platforms' published schemas.
#
# Android: the rendered Policy JSON is checked field by field against the TypeScript declarations
# of the npm package @googleapis/androidmanagement and, for enum values and int64 encoding, the
# API's discovery document as shipped in the PyPI package google-api-python-client (the d.ts does
# not list enum values). Apple: each .mobileconfig is parsed with Python's plistlib and every key
# held to tests/schemas/apple-payload-keys.json (facts from Apple's published profile schema).
# Both packages go to the gitignored .tools/ and are installed only when missing.
set -euo pipefail
cd "$(dirname "$0")/../.."

AMAPI_VERSION=5.1.1
GAPI_VERSION=2.202.0
tools=.tools
dts="$tools/amapi/node_modules/@googleapis/androidmanagement/build/v1.d.ts"
wheel="$tools/gapi/google_api_python_client-$GAPI_VERSION-py3-none-any.whl"

if ! command -v npm >/dev/null 2>&1; then
  echo "installing node and npm"
  if command -v apt-get >/dev/null 2>&1; then
    { apt-get update -q && apt-get install -y -q nodejs npm; } >/dev/null
  fi
  command -v npm >/dev/null 2>&1 || { echo "npm is required" >&2; exit 1; }
fi
if [ ! -f "$dts" ]; then
  echo "installing @googleapis/androidmanagement@$AMAPI_VERSION into $tools/amapi"
  mkdir -p "$tools/amapi"
  npm install --prefix "$tools/amapi" --no-audit --no-fund --loglevel=error \
    "@googleapis/androidmanagement@$AMAPI_VERSION" </dev/null >/dev/null
fi
if [ ! -f "$wheel" ]; then
  echo "fetching google-api-python-client $GAPI_VERSION (for its discovery document) into $tools/gapi"
  mkdir -p "$tools/gapi"
  python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$tools/gapi" \
    "google-api-python-client==$GAPI_VERSION" </dev/null
fi

cargo build --quiet -p quietline-admin --bin quietline-admin
target_dir=$(cargo metadata --format-version 1 --no-deps \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
admin="$target_dir/debug/quietline-admin"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
policies=(
  'work:{"schema":1,"mode":"work"}'
  'byod:{"schema":1,"mode":"byod"}'
  'work-strict:{"schema":1,"mode":"work","auto_lock":{"max_timeout_secs":900},"offline":{"max_failed_unlocks":20}}'
  'work-nofull:{"schema":1,"mode":"work","wipe":{"allow_full":false},"offline":{"max_failed_unlocks":null}}'
  'work-nolock:{"schema":1,"mode":"work","auto_lock":{"require_secure_lock":false}}'
)
android=()
apple=()
for entry in "${policies[@]}"; do
  name=${entry%%:*}
  printf '%s\n' "${entry#*:}" >"$work/$name.json"
  "$admin" profile android "$work/$name.json" --out "$work/$name.android.json" >/dev/null
  "$admin" profile apple "$work/$name.json" --org "Quietline test & <co>" --out "$work/$name.mobileconfig" >/dev/null
  android+=("$work/$name.android.json")
  apple+=("$work/$name.mobileconfig")
done

python3 tests/schemas/check_profiles.py --dts "$dts" --discovery-wheel "$wheel" --facts tests/schemas \
  --android "${android[@]}" --apple "${apple[@]}"
