#!/usr/bin/env bash
# quietline-relay: every test against SQLite and against a real PostgreSQL (Debian's package,
# a throwaway cluster on loopback run as a non-root user), TLS with rustls, the fleet page in
# headless Chromium (Debian's chromium driven by playwright-core from npm; screenshot kept in
# target/relay-artifacts/), and schemathesis (PyPI) against the running relay's OpenAPI.
# Installs what it needs on a fresh machine; each step says what it does; fails on any failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)

PLAYWRIGHT_VERSION=1.49.1
SCHEMATHESIS_VERSION=3.39.16
HYPOTHESIS_VERSION=6.122.3
tools="$root/.tools"
step() { printf '\n== 70-relay: %s\n' "$*"; }
fail() { printf 'FAIL 70-relay: %s\n' "$*" >&2; exit 1; }
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

need_pkgs=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_pkgs+=(postgresql)
command -v chromium >/dev/null 2>&1 || need_pkgs+=(chromium)
[ -x /usr/sbin/nginx ] || need_pkgs+=(nginx)
command -v openssl >/dev/null 2>&1 || need_pkgs+=(openssl)
command -v curl >/dev/null 2>&1 || need_pkgs+=(curl)
command -v npm >/dev/null 2>&1 || need_pkgs+=(nodejs npm)
python3 -m venv --help >/dev/null 2>&1 || need_pkgs+=(python3-venv)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  step "installing ${need_pkgs[*]} (apt-get)"
  $SUDO apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${need_pkgs[@]}" >/dev/null
fi

target_dir=$(cargo metadata --format-version 1 --no-deps \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
relay_bin="$target_dir/debug/quietline-relay"
work=$(mktemp -d)
pgdata=""
cleanup() {
  # Relays are started inside $(…) subshells: their pids are collected in a file.
  if [ -f "$work/pids" ]; then while read -r p; do kill "$p" 2>/dev/null || true; done <"$work/pids"; fi
  if [ -n "$pgdata" ] && [ -f "$pgdata/postmaster.pid" ]; then
    as_pg "$pgbin/pg_ctl" -D "$pgdata" -m immediate stop >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

step "build the relay, its tests and examples"
cargo build --quiet -p quietline-relay --bins --tests --examples

step "tests against SQLite"
if ! cargo test --quiet -p quietline-relay >"$work/sqlite.log" 2>&1; then tail -n 60 "$work/sqlite.log"; fail "tests against SQLite"; fi
grep "test result" "$work/sqlite.log"

step "start a throwaway PostgreSQL cluster on loopback"
pgbin=$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)")
pgdata="$work/pg"
pgport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
if [ "$(id -u)" -eq 0 ]; then
  # initdb refuses root: the cluster runs as the package's `postgres` user.
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  mkdir -p "$pgdata" && chown postgres "$work" "$pgdata" && chmod 755 "$work"
  as_pg() { runuser -u postgres -- "$@"; }
else
  mkdir -p "$pgdata"
  as_pg() { "$@"; }
fi
as_pg "$pgbin/initdb" -D "$pgdata" -A trust -U ql --no-sync >/dev/null
as_pg "$pgbin/pg_ctl" -D "$pgdata" -l "$pgdata/log" -w -o "-c listen_addresses=127.0.0.1 -p $pgport -k $pgdata -c fsync=on" start >/dev/null
pg_url="postgres://ql@127.0.0.1:$pgport/postgres"
echo "PostgreSQL $("$pgbin/postgres" --version | awk '{print $3}') on 127.0.0.1:$pgport"

step "tests against PostgreSQL"
if ! QL_RELAY_TEST_PG="$pg_url" cargo test --quiet -p quietline-relay >"$work/pg.log" 2>&1; then
  tail -n 60 "$work/pg.log"; fail "tests against PostgreSQL"
fi
grep "test result" "$work/pg.log"

step "two relay processes on one PostgreSQL (stateless relays)"
root_pub=$("$target_dir/debug/examples/fleet_fixture" keys "$work/fx")
start_relay() { # db listen extra...
  local db=$1 listen=$2; shift 2
  "$relay_bin" --db "$db" --listen "$listen" --org "demo=$root_pub" "$@" >"$work/relay-$listen.out" 2>&1 &
  echo $! >>"$work/pids"
  for _ in $(seq 1 100); do
    grep -q listening "$work/relay-$listen.out" 2>/dev/null && break
    sleep 0.1
  done
  grep -o 'http[s]*://[0-9.:]*' "$work/relay-$listen.out" | head -n 1
}
url_a=$(start_relay "$pg_url" 127.0.0.1:0)
url_b=$(start_relay "$pg_url" 127.0.0.1:0)
[ -n "$url_a" ] && [ -n "$url_b" ] || fail "relays did not start"
# Enrolled through A; the fleet read through B shows the same phones.
link_b=$("$target_dir/debug/examples/fleet_fixture" populate "$work/fx" "$url_a" "$pg_url" | tail -n 1 | sed "s#$url_a#$url_b#")
grant=${link_b#*#}
n=$(curl -sf -H "Authorization: QL-View $grant" "${link_b%%#*}" -o /dev/null -w '%{http_code}')
[ "$n" = 200 ] || fail "fleet page through relay B"
devices=$(curl -sf -H "Authorization: QL-View $grant" "$url_b/o/demo/admin/fleet" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["devices"]))')
[ "$devices" = 5 ] || fail "relay B sees $devices devices, expected 5"
echo "relay A $url_a and relay B $url_b share one PostgreSQL: 5 devices seen through B"

step "TLS (rustls) and plain HTTP only on loopback"
openssl req -x509 -newkey ed25519 -nodes -days 2 -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost" \
  -keyout "$work/tls.key" -out "$work/tls.crt" >/dev/null 2>&1
url_tls=$(start_relay "sqlite:$work/tls.db" 127.0.0.1:0 --tls-cert "$work/tls.crt" --tls-key "$work/tls.key")
port_tls=${url_tls##*:}
[ "$(curl -sf --cacert "$work/tls.crt" "https://localhost:$port_tls/healthz")" = ok ] || fail "TLS healthz"
if curl -sf "http://127.0.0.1:$port_tls/healthz" >/dev/null 2>&1; then fail "plain HTTP answered on the TLS port"; fi
if "$relay_bin" --db "sqlite:$work/x.db" --listen 0.0.0.0:0 --org "demo=$root_pub" >"$work/plain.out" 2>&1; then
  fail "plain HTTP on a public address was allowed"
fi
grep -q "only allowed on a loopback" "$work/plain.out" || fail "no reason given for refusing plain HTTP"
echo "https with rustls works; plain HTTP off loopback is refused"

step "fleet page in headless Chromium (playwright-core $PLAYWRIGHT_VERSION)"
if [ ! -d "$tools/playwright/node_modules/playwright-core" ]; then
  mkdir -p "$tools/playwright"
  npm install --prefix "$tools/playwright" --no-audit --no-fund --loglevel=error "playwright-core@$PLAYWRIGHT_VERSION" </dev/null >/dev/null
fi
root_pub=$("$target_dir/debug/examples/fleet_fixture" keys "$work/fx2")
url_s=$(start_relay "sqlite:$work/page.db" 127.0.0.1:0)
link=$("$target_dir/debug/examples/fleet_fixture" populate "$work/fx2" "$url_s" "sqlite:$work/page.db" | tail -n 1)
artifacts="$target_dir/relay-artifacts"
mkdir -p "$artifacts"
cp relay/web/test/fleet-page.mjs "$tools/playwright/"
node "$tools/playwright/fleet-page.mjs" "$link" "$artifacts/fleet-page.png" >"$work/page.log" 2>&1 || { cat "$work/page.log"; fail "fleet page"; }
tail -n 1 "$work/page.log"

step "schemathesis $SCHEMATHESIS_VERSION against the running relay's OpenAPI"
if [ ! -x "$tools/schemathesis/bin/schemathesis" ]; then
  python3 -m venv "$tools/schemathesis"
  # hypothesis pinned: schemathesis 3.39 uses an API that later hypothesis releases removed.
  "$tools/schemathesis/bin/pip" install --quiet "schemathesis==$SCHEMATHESIS_VERSION" "hypothesis==$HYPOTHESIS_VERSION" </dev/null
fi
url_st=$(start_relay "sqlite:$work/st.db" 127.0.0.1:0 --rate-per-addr 1000000 --rate-per-device 1000000)
run_st() { # spec label
  if ! "$tools/schemathesis/bin/schemathesis" run "$1" --base-url "$url_st" \
    --checks all --hypothesis-max-examples 40 --hypothesis-deadline 5000 --hypothesis-derandomize \
    --hypothesis-suppress-health-check=all --no-color >"$work/st.log" 2>&1; then
    tail -n 80 "$work/st.log"; fail "schemathesis ($2)"
  fi
  echo "schemathesis ($2): $(grep -E '=+ .*(passed|failed).* =+' "$work/st.log" | tail -n 1)"
}
# As served (any org name), then with the org pinned to the one served, so every request
# reaches the handlers (authentication, size and type checks) instead of stopping at 404.
run_st "$url_st/openapi.yaml" "served spec"
curl -sf "$url_st/openapi.yaml" | sed 's|pattern: "^\[A-Za-z0-9._-\]{1,64}\$"|enum: [demo]|' >"$work/openapi-demo.yaml"
grep -q "enum: \[demo\]" "$work/openapi-demo.yaml" || fail "could not pin the org in the spec"
run_st "$work/openapi-demo.yaml" "org demo"

step "load benchmark smoke run (bounded: 200 devices, 2,000 polls, 20 s a run; nothing timed is asserted)"
RELAY_BENCH_PROFILE=dev bash scripts/relay-bench.sh 200 2000 8 20 >"$work/bench.log" 2>&1 || { cat "$work/bench.log"; fail "benchmark script"; }
python3 - "$target_dir/relay-artifacts/bench.json" <<'PY' || fail "benchmark smoke run: requests failed"
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    res = r["result"]
    # Bounded in time, so a slow debug build may answer fewer: every answer must be a 200.
    assert res["errors"] == 0 and res["non_200"] == 0 and res["ok"] > 0, r
    print(f'{r["run"]}: {res["ok"]} polls, all answered 200')
PY

printf '\nPASS 70-relay: SQLite and PostgreSQL suites, two relays on one PostgreSQL, TLS, fleet page (%s), schemathesis\n' "$artifacts/fleet-page.png"
