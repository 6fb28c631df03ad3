#!/usr/bin/env bash
# Load benchmark of quietline-relay on loopback (a documented script, not a test): N simulated
# devices poll GET /queue with device-signed requests (each with its own nonce, all signed before
# the clock starts), over CONC keep-alive connections, REQUESTS in all, at most SECONDS per run.
# Three runs with the same request pattern: the relay on SQLite, the relay on PostgreSQL
# (a throwaway cluster), and nginx serving one static file per device (the reference).
# Results go to stdout as JSON lines and to target/relay-artifacts/bench.json.
# Usage: bash scripts/relay-bench.sh [DEVICES=2000] [REQUESTS=30000] [CONC=32] [SECONDS=60]
set -euo pipefail
cd "$(dirname "$0")/.."
DEVICES=${1:-2000}
REQUESTS=${2:-30000}
CONC=${3:-32}
SECONDS_MAX=${4:-60}
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

need=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
[ -x /usr/sbin/nginx ] || need+=(nginx)
if [ ${#need[@]} -gt 0 ]; then
  echo "== installing ${need[*]}"
  $SUDO apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${need[@]}" >/dev/null
fi

# RELAY_BENCH_PROFILE=dev reuses the debug build (the test script's smoke run; not for figures).
profile=${RELAY_BENCH_PROFILE:-relay-bench}
echo "== building (profile $profile)"
cargo build --quiet --profile "$profile" -p quietline-relay --bin quietline-relay --example loadgen
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
outdir=$profile
[ "$profile" = dev ] && outdir=debug
bin="$target_dir/$outdir/quietline-relay"
gen="$target_dir/$outdir/examples/loadgen"
work=$(mktemp -d)
pgdata="$work/pg"
pgbin=$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)")
if [ "$(id -u)" -eq 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  as_pg() { runuser -u postgres -- "$@"; }
else
  as_pg() { "$@"; }
fi
cleanup() {
  # Relays are started inside $(…) subshells: their pids are collected in a file.
  if [ -f "$work/pids" ]; then while read -r p; do kill "$p" 2>/dev/null || true; done <"$work/pids"; fi
  [ -f "$pgdata/postmaster.pid" ] && as_pg "$pgbin/pg_ctl" -D "$pgdata" -m fast stop >/dev/null 2>&1 || true
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
root_pub=$(python3 -c 'import os; print(os.urandom(32).hex())')

relay() { # db
  "$bin" --db "$1" --listen 127.0.0.1:0 --org "bench=$root_pub" --rate-per-device 1000000 --rate-per-addr 100000000 >"$work/relay.out" 2>&1 &
  echo $! >>"$work/pids"
  for _ in $(seq 1 100); do grep -q listening "$work/relay.out" && break; sleep 0.1; done
  grep -o 'http://[0-9.:]*' "$work/relay.out" | head -n 1
}
results=()
bench() { # label url db|static
  local label=$1 url=$2 extra=${3:-}
  local out
  out=$("$gen" run "$url" bench "$work/keys.txt" "$REQUESTS" "$CONC" "$SECONDS_MAX" $extra)
  echo "$label: $out"
  results+=("{\"run\":\"$label\",\"devices\":$DEVICES,\"concurrency\":$CONC,\"result\":$out}")
}

echo "== SQLite: $DEVICES devices, $REQUESTS polls, $CONC connections"
url=$(relay "sqlite:$work/bench.db")
"$gen" setup "sqlite:$work/bench.db" bench "$DEVICES" "$work/keys.txt"
bench sqlite "$url"
kill "$(tail -n 1 "$work/pids")" 2>/dev/null || true; sleep 0.5

echo "== PostgreSQL"
mkdir -p "$pgdata"
[ "$(id -u)" -eq 0 ] && chown postgres "$work" "$pgdata" && chmod 755 "$work"
port=$(free_port)
as_pg "$pgbin/initdb" -D "$pgdata" -A trust -U ql --no-sync >/dev/null
as_pg "$pgbin/pg_ctl" -D "$pgdata" -l "$pgdata/log" -w -o "-c listen_addresses=127.0.0.1 -p $port -k $pgdata" start >/dev/null
pg="postgres://ql@127.0.0.1:$port/postgres"
url=$(relay "$pg")
"$gen" setup "$pg" bench "$DEVICES" "$work/keys.txt"
bench postgres "$url"
kill "$(tail -n 1 "$work/pids")" 2>/dev/null || true; sleep 0.5

echo "== nginx static files (the same requests, one empty file per device, as an empty queue)"
mkdir -p "$work/www/static"
cut -d' ' -f1 "$work/keys.txt" | while read -r d; do : >"$work/www/static/$d.txt"; done
nport=$(free_port)
cat >"$work/nginx.conf" <<CONF
worker_processes 2;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 1000000;
  server { listen 127.0.0.1:$nport; root $work/www; default_type text/plain; }
}
CONF
/usr/sbin/nginx -c "$work/nginx.conf" -p "$work"
sleep 0.5
bench nginx "http://127.0.0.1:$nport" static

mkdir -p "$target_dir/relay-artifacts"
printf '%s\n' "${results[@]}" >"$target_dir/relay-artifacts/bench.json"
python3 - "$target_dir/relay-artifacts/bench.json" <<'PY'
import json, sys
runs = {r["run"]: r["result"] for r in map(json.loads, open(sys.argv[1]))}
n = runs["nginx"]["per_second"]
for k in ("sqlite", "postgres"):
    r = runs[k]
    print(f"{k}: {r['per_second']:.0f}/s, p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms; nginx/{k} = {n / r['per_second']:.2f}x")
print(f"nginx: {n:.0f}/s, p50 {runs['nginx']['p50_ms']} ms, p99 {runs['nginx']['p99_ms']} ms")
PY
