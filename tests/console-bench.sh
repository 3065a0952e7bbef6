#!/usr/bin/env bash
# Times the console's pages on the release server with the demo's history (one township: 3
# villages, 8 grids, 200 places, ~290 hazards) and, with GRIDPATROL_BENCH_GRIDS=N, N more grids
# (empty ones, as in the load tests) to see what a county's org tree costs. Each page is fetched
# GRIDPATROL_BENCH_RUNS times (default 20) by curl as the township officer; prints the median
# and the slowest, next to /healthz measured the same way as the reference for this machine.
# Usage: bash tests/console-bench.sh   (figures go to docs/benchmarks.md by hand)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${GRIDPATROL_BENCH_RUNS:-20}"
grids="${GRIDPATROL_BENCH_GRIDS:-0}"
cargo build --release --locked -p gridpatrol-sync-server >/dev/null
data=$(mktemp -d)
target/release/gridpatrol-sync-server --demo --demo-grids "$grids" --listen 127.0.0.1:0 \
  --data-dir "$data" >"$data/out" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$data"' EXIT
until grep -q listening "$data/out" 2>/dev/null; do sleep 0.2; done
url=$(sed -n 's/^listening on //p' "$data/out")
jar="$data/cookies"
curl -sf -c "$jar" -o /dev/null -d "user_id=o01&password=gridpatrol" "$url/console/login"
hazard=$(curl -sf -b "$jar" "$url/console/hazards" | grep -o '/console/hazards/[0-9a-f-]\{36\}' | sed -n 1p)
printf '%-48s %10s %10s\n' "page ($runs runs, grids +$grids)" "median ms" "max ms"
for page in /healthz /console/ "/console/?from=2026-09-01&to=2026-10-31" /console/escalations \
  /console/hazards "/console/hazards?overdue=1" "$hazard" /console/coverage /console/conflicts \
  "/console/export/ledger?format=xlsx" "/console/annual?year=2026"; do
  for _ in $(seq "$runs"); do
    curl -sf -b "$jar" -o /dev/null -w '%{time_total}\n' "$url$page"
  done | sort -n | awk -v p="$page" '{t[NR]=$1*1000} END {printf "%-48s %10.1f %10.1f\n", p, t[int((NR+1)/2)], t[NR]}'
done
