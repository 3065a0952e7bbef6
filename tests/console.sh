#!/usr/bin/env bash
# The township console in a real browser (tests/console/console.mjs): Debian's Chromium,
# headless, driven by Playwright's playwright-core with the system browser. Installs Chromium
# (apt) and playwright-core (npm, into GRIDPATROL_TOOLS, default ~/.cache/gridpatrol-tools)
# when missing; builds the server and the command line. Screenshots and the downloaded ledger
# land in target/artefacts/console/; one line per check in target/console-results.txt.
# Usage: bash tests/console.sh
set -euo pipefail
cd "$(dirname "$0")/.."

tools="${GRIDPATROL_TOOLS:-$HOME/.cache/gridpatrol-tools}"
playwright_version=1.65.1
playwright="$tools/playwright-$playwright_version"
step() { printf '\n=== %s ===\n' "$*"; }

if [[ ! -x /usr/bin/chromium ]]; then
  step "installing Chromium (apt)"
  apt-get install -y -qq chromium >/dev/null ||
    { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }
fi
if ! command -v pdftotext >/dev/null; then
  step "installing poppler-utils (apt; pdftotext reads the printed notice back)"
  apt-get install -y -qq poppler-utils >/dev/null ||
    { apt-get update -qq && apt-get install -y -qq poppler-utils >/dev/null; }
fi
if [[ ! -f "$playwright/node_modules/playwright-core/package.json" ]]; then
  step "installing playwright-core $playwright_version (npm; it uses the system Chromium)"
  mkdir -p "$playwright"
  npm install --silent --no-audit --no-fund --prefix "$playwright" \
    "playwright-core@$playwright_version" >/dev/null
fi

step "building the sync server and the command line"
cargo build --locked -p gridpatrol-sync-server -p gridpatrol-cli

step "console in headless Chromium"
PLAYWRIGHT_DIR="$playwright" node tests/console/console.mjs
