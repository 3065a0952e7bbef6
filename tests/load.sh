#!/usr/bin/env bash
# The load benchmark: gridpatrol-load's simulated devices against one instance on SQLite, one
# instance on PostgreSQL, and two instances over one PostgreSQL, each on fresh data seeded with
# the demo township grown by GRIDPATROL_LOAD_GRIDS grids (one worker each). Prints each run's
# throughput, latency percentiles and errors (docs/benchmarks.md holds the figures).
# Usage: bash tests/load.sh   (GRIDPATROL_LOAD_DEVICES, _SECONDS, _INTERVAL, _GRIDS to resize;
# uses the cluster in GRIDPATROL_TEST_PG when set, else starts a throwaway one)
set -euo pipefail
cd "$(dirname "$0")/.."
devices=${GRIDPATROL_LOAD_DEVICES:-1000}
seconds=${GRIDPATROL_LOAD_SECONDS:-60}
interval=${GRIDPATROL_LOAD_INTERVAL:-60}
grids=${GRIDPATROL_LOAD_GRIDS:-1000}

cargo build --release --locked -p gridpatrol-sync-server --bins
server=target/release/gridpatrol-sync-server
load=target/release/gridpatrol-load
[[ -n "${GRIDPATROL_TEST_PG:-}" ]] || source tests/postgres.sh
work=$(mktemp -d /tmp/gridpatrol-load.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap 'cleanup; declare -F stop_postgres >/dev/null && stop_postgres || true' EXIT

# Starts an instance with `$@` and waits for its listening line; sets $url.
start() {
  local log="$work/server-${#pids[@]}.log"
  "$server" --demo --demo-history false --demo-grids "$grids" --listen 127.0.0.1:0 "$@" >"$log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 600); do
    url=$(sed -n 's/^listening on //p' "$log")
    [[ -n "$url" ]] && return 0
    kill -0 "${pids[-1]}" 2>/dev/null || { cat "$log"; return 1; }
    sleep 0.2
  done
  echo "the server did not start"; return 1
}
stop_all() { for p in "${pids[@]}"; do kill "$p"; wait "$p" 2>/dev/null || true; done; pids=(); }
new_database() {
  local name="gp_load_$(date +%s%N)"
  psql -q "$GRIDPATROL_TEST_PG" -c "CREATE DATABASE $name"
  echo "${GRIDPATROL_TEST_PG%/*}/$name"
}
run_load() { "$load" --devices "$devices" --seconds "$seconds" --interval "$interval" "$@"; }

echo "== one instance, SQLite"
start --data-dir "$work/sqlite"
run_load --server "$url"
stop_all

echo "== one instance, PostgreSQL"
db=$(new_database)
start --data-dir "$work/pg1" --database-url "$db"
run_load --server "$url"
stop_all

echo "== two instances, one PostgreSQL"
db=$(new_database)
start --data-dir "$work/pg2" --database-url "$db"
first=$url
start --data-dir "$work/pg2" --database-url "$db"
run_load --server "$first" --server "$url"
stop_all
