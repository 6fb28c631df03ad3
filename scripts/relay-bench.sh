#!/usr/bin/env bash
# Load benchmark of quietline-relay on loopback (a documented script, not a test): N simulated
# devices poll GET /queue (each request with its own nonce, all signed before the clock starts),
# over CONC keep-alive connections, REQUESTS in all, at most SECONDS per run.
# The steady state the phones see is measured (runs `sqlite`, `postgres`): each device's first
# poll, untimed, is signed with its device key (QL-Device) and gets a poll session; the timed
# polls are authenticated by that session (QL-Session, one HMAC-SHA256). The same runs with every
# poll device-signed (Ed25519; `sqlite-device`, `postgres-device`) are reported too: that is a
# phone's first poll, or every poll of a phone that lost its session.
# Then nginx serving one static file per device (the reference), same request pattern.
# Then, unless RELAY_BENCH_CALLGRIND=0, the relay on SQLite once more under valgrind's callgrind:
# instructions per poll, which unlike the timings do not depend on what else the machine runs.
# The session runs get every device's session in an untimed warm-up whose CPU is not counted.
# Results go to stdout as JSON lines and to target/relay-artifacts/bench.json; the last lines say
# which targets of issue 14 were met. Bounded: at most SECONDS per timed run, plus the build.
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
callgrind=${RELAY_BENCH_CALLGRIND:-1}
[ "$profile" = dev ] && callgrind=0
if [ "$callgrind" = 1 ] && ! command -v valgrind >/dev/null 2>&1; then
  echo "== installing valgrind"
  $SUDO apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q valgrind >/dev/null
fi
echo "== machine: $(nproc) cores; load before the runs:$(uptime | sed 's/.*load average://')"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
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

relay() { # db [wrapper…]
  local db=$1; shift
  "$@" "$bin" --db "$db" --listen 127.0.0.1:0 --org "bench=$root_pub" --rate-per-device 1000000 --rate-per-addr 100000000 >"$work/relay.out" 2>&1 &
  echo $! >>"$work/pids"
  for _ in $(seq 1 600); do grep -q listening "$work/relay.out" && break; sleep 0.1; done
  grep -o 'http://[0-9.:]*' "$work/relay.out" | head -n 1 || true
}
# Stops with the relay's own words when it did not start.
started() { # url
  [ -n "$1" ] && return 0
  echo "FAIL: the relay did not start:" >&2
  cat "$work/relay.out" >&2
  exit 1
}
results=()
# CPU time (user + system, in clock ticks) a process and its children (nginx's workers) have
# used so far.
cpu_ticks() {
  local t=0 p
  for p in "$1" $(cat "/proc/$1/task/"*/children 2>/dev/null); do
    t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
  done
  echo "$t"
}
bench() { # label url pid|- [static|session]
  local label=$1 url=$2 pid=$3 extra=${4:-}
  local out before=0 after=0
  if [ "$extra" = session ]; then
    # Each device's first, device-signed poll (which gets its session) is made before the CPU
    # count starts, and the sessions are kept for the timed run: the figures are the steady
    # state's alone (the device-signed poll is measured by the *-device run).
    export LOADGEN_SESSIONS="$work/sessions-$label"
    "$gen" run "$url" bench "$work/keys.txt" "$DEVICES" 8 "$SECONDS_MAX" session >/dev/null
  fi
  [ "$pid" != - ] && before=$(cpu_ticks "$pid")
  out=$("$gen" run "$url" bench "$work/keys.txt" "$REQUESTS" "$CONC" "$SECONDS_MAX" $extra)
  [ "$pid" != - ] && after=$(cpu_ticks "$pid")
  # The server's CPU time per answered request (µs), from /proc: less sensitive to the load
  # than the timings (PostgreSQL's own processes are not counted).
  local cpu
  cpu=$(python3 -c "import json,sys; r=json.loads(sys.argv[1]); t=int(sys.argv[2]); print(round(($after-$before)*1e6/t/max(r['ok'],1)) if $after>0 else 'null')" "$out" "$(getconf CLK_TCK)")
  unset LOADGEN_SESSIONS
  echo "$label: $out (server CPU per request: $cpu µs)"
  results+=("{\"run\":\"$label\",\"devices\":$DEVICES,\"concurrency\":$CONC,\"server_cpu_us_per_request\":$cpu,\"result\":$out}")
}

echo "== SQLite: $DEVICES devices, $REQUESTS polls, $CONC connections"
url=$(relay "sqlite:$work/bench.db")
started "$url"
"$gen" setup "sqlite:$work/bench.db" bench "$DEVICES" "$work/keys.txt"
bench sqlite-device "$url" "$(tail -n 1 "$work/pids")"
bench sqlite "$url" "$(tail -n 1 "$work/pids")" session
kill "$(tail -n 1 "$work/pids")" 2>/dev/null || true; sleep 0.5

echo "== PostgreSQL"
mkdir -p "$pgdata"
[ "$(id -u)" -eq 0 ] && chown postgres "$work" "$pgdata" && chmod 755 "$work"
port=$(free_port)
as_pg "$pgbin/initdb" -D "$pgdata" -A trust -U ql --no-sync >/dev/null
if ! as_pg "$pgbin/pg_ctl" -D "$pgdata" -l "$pgdata/log" -w -t 180 -o "-c listen_addresses=127.0.0.1 -p $port -k $pgdata" start >"$work/pg_ctl.out" 2>&1; then
  echo "FAIL: PostgreSQL did not start:" >&2
  cat "$work/pg_ctl.out" "$pgdata/log" >&2
  exit 1
fi
pg="postgres://ql@127.0.0.1:$port/postgres"
url=$(relay "$pg")
started "$url"
"$gen" setup "$pg" bench "$DEVICES" "$work/keys.txt"
bench postgres-device "$url" "$(tail -n 1 "$work/pids")"
bench postgres "$url" "$(tail -n 1 "$work/pids")" session
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
bench nginx "http://127.0.0.1:$nport" "$(cat "$work/nginx.pid")" static

if [ "$callgrind" = 1 ]; then
  n_cg=2000
  echo "== callgrind: the relay on SQLite, instructions for $n_cg session-authenticated polls, after one poll per device to warm up"
  rm -f "$work/cg.db"*
  url=$(relay "sqlite:$work/cg.db" valgrind --tool=callgrind --callgrind-out-file="$work/cg.out")
  started "$url"
  "$gen" setup "sqlite:$work/cg.db" bench "$DEVICES" "$work/keys.txt"
  cgpid=$(tail -n 1 "$work/pids")
  # The warm-up gets every device's session (device-signed polls) and keeps them in a file; the
  # counted run reuses them, so it counts session-authenticated polls only.
  LOADGEN_SESSIONS="$work/cg-sessions" "$gen" run "$url" bench "$work/keys.txt" "$DEVICES" 4 300 session >/dev/null
  callgrind_control -z "$cgpid" >/dev/null
  cgres=$(LOADGEN_SESSIONS="$work/cg-sessions" "$gen" run "$url" bench "$work/keys.txt" "$n_cg" 4 300 session)
  callgrind_control -d "$cgpid" >/dev/null
  sleep 1
  ir=$(grep -h '^totals:' "$work"/cg.out.* | awk '{print $2}' | tail -n 1)
  kill "$cgpid" 2>/dev/null || true
  ok=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["ok"])' "$cgres")
  echo "callgrind: $ir instructions for $ok polls"
  results+=("{\"run\":\"callgrind\",\"devices\":$DEVICES,\"polls\":$ok,\"instructions\":$ir}")
fi

mkdir -p "$target_dir/relay-artifacts"
printf '%s\n' "${results[@]}" >"$target_dir/relay-artifacts/bench.json"
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
python3 - "$target_dir/relay-artifacts/bench.json" "$load_start" "$load_end" "$profile" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
runs = {r["run"]: r.get("result") for r in lines}
cpu = {r["run"]: r.get("server_cpu_us_per_request") for r in lines}
n = runs["nginx"]["per_second"]
print(f"\n== summary (load average before: {sys.argv[2]}, after: {sys.argv[3]})")
if sys.argv[4] == "dev":
    print("(debug build: a smoke run, the figures say nothing about the targets)")
print("sqlite / postgres: the steady state (polls authenticated by a poll session, QL-Session);")
print("*-device: every poll signed with the device key (QL-Device, Ed25519)")
for k in ("sqlite", "sqlite-device", "postgres", "postgres-device"):
    r = runs[k]
    print(f"{k}: {r['per_second']:.0f}/s, p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, relay CPU {cpu[k]} µs/poll; "
          f"nginx/{k} = {n / r['per_second']:.2f}x")
print(f"nginx: {n:.0f}/s, p50 {runs['nginx']['p50_ms']} ms, p99 {runs['nginx']['p99_ms']} ms, CPU {cpu['nginx']} µs/request")
cg = [r for r in lines if r["run"] == "callgrind"]
if cg:
    print(f"callgrind: {cg[0]['instructions'] / max(cg[0]['polls'], 1):,.0f} instructions per session-authenticated poll (relay, SQLite)")
s = runs["sqlite"]
sd = runs["sqlite-device"]
print(f"QL-Device only (not the target's steady state): nginx/sqlite-device = {n / sd['per_second']:.2f}x")
for name, ok, got in [
    ("SQLite: at least 1,000 authenticated polls/s", s["per_second"] >= 1000, f"{s['per_second']:.0f}/s"),
    ("SQLite: p99 under 50 ms", s["p99_ms"] < 50, f"{s['p99_ms']} ms"),
    ("SQLite: within 5x of nginx's throughput", n / s["per_second"] <= 5, f"{n / s['per_second']:.2f}x"),
    ("every poll answered 200", all(r is None or (r["errors"] == 0 and r["non_200"] == 0) for r in runs.values()), ""),
]:
    print(f"target {'met   ' if ok else 'MISSED'}  {name}: {got}")
PY
