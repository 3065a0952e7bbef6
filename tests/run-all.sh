#!/usr/bin/env bash
# The one test command: formatting, lints, every Rust test (unit, property, integration,
# end-to-end through the gridpatrol binary and the sync server), the bindings from Python and
# Kotlin (tests/bindings.sh), the township console in headless Chromium (tests/console.sh), the
# sync benchmark at a small size, and the demo. Installs what it needs when missing (rustfmt,
# clippy, a CJK font, PostgreSQL; kotlinc, JNA and tree-sitter through bindings.sh; Chromium
# and playwright-core through console.sh). The PostgreSQL suites run on a throwaway cluster
# (tests/postgres.sh) stopped when this script exits, however it exits.
# Usage: bash tests/run-all.sh
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n=== %s ===\n' "$*"; }

need_rust_component() {
  if ! cargo "$1" --version >/dev/null 2>&1; then
    step "installing $2"
    rustup component add "$2"
  fi
}
need_rust_component fmt rustfmt
need_rust_component clippy clippy
# A CJK font for the photo watermark test (the apps pass the phone's own font).
if [[ ! -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ]]; then
  step "installing fonts-wqy-microhei"
  apt-get install -y -qq fonts-wqy-microhei >/dev/null ||
    { apt-get update -qq && apt-get install -y -qq fonts-wqy-microhei >/dev/null; }
fi

step "PostgreSQL for the PostgreSQL backend's suites"
source tests/postgres.sh

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo test (unit, property, integration, end-to-end)"
# 10,000+ proptest cases in CI runs are set inside the tests themselves.
cargo test --workspace --locked 2>&1 | tee target/test-output.txt

step "bindings: Python and Kotlin scenarios against the real library and server; Swift checks"
bash tests/bindings.sh

step "township console in headless Chromium (Playwright)"
bash tests/console.sh

step "convergence property test, 10,000 cases (release build)"
GRIDPATROL_PROPTEST_CASES=10000 cargo test --release --locked -p gridpatrol-core --test convergence \
  2>&1 | tee target/convergence-output.txt
grep -q "test result: ok" target/convergence-output.txt

step "benchmarks compile; the sync benchmark runs end to end at a small size"
cargo bench -p gridpatrol-core --no-run --locked
# Checks that W1-W3 still run and converge; the figures in docs/benchmarks.md come from the
# full size (50,000), run by hand.
GRIDPATROL_ONE_CASE_EVENTS=300 cargo bench -p gridpatrol-core --features server --bench one_case --locked
GRIDPATROL_SYNC_BENCH_N=2000 cargo bench -p gridpatrol-sync-server --bench sync --locked
GRIDPATROL_PHOTO_BENCH_BYTES=40000 cargo bench -p gridpatrol-sync-server --bench photos --locked
GRIDPATROL_GROWTH_SMALL=2000 GRIDPATROL_GROWTH_LARGE=20000 \
  cargo bench -p gridpatrol-sync-server --bench growth --locked

step "load generator against SQLite, PostgreSQL and two PostgreSQL instances (small size)"
# docs/benchmarks.md has the full size (1,000 devices), run by hand with tests/load.sh.
GRIDPATROL_LOAD_DEVICES=50 GRIDPATROL_LOAD_SECONDS=10 GRIDPATROL_LOAD_INTERVAL=5 \
  GRIDPATROL_LOAD_GRIDS=100 bash tests/load.sh

step "demo (the debug build the tests made; README's release run prints the same)"
target/debug/gridpatrol demo > target/demo-output.txt
grep -q "网格内闭环率 in-grid closure rate" target/demo-output.txt
tail -n 5 target/demo-output.txt

passed=$(cat target/test-output.txt target/convergence-output.txt | grep -Eo 'test result: ok\. [0-9]+ passed' | awk '{s+=$4} END {print s+0}')
passed=$((passed + $(cat target/bindings-results.txt target/console-results.txt | grep -c '^PASS')))
failed=$(cat target/test-output.txt target/convergence-output.txt | grep -Eo '[0-9]+ failed' | awk '{s+=$1} END {print s+0}')
echo
echo "${passed} passed, ${failed} failed"
