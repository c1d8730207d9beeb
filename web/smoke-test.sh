#!/usr/bin/env bash
# The browser build's smoke test: serves DIST_DIR on 127.0.0.1, opens it in headless Chromium
# with software WebGL, clicks through the app (lessons, a slider, a PNG and a run record
# downloaded, the record loaded back; the record replayed natively and a native record loaded in
# the page, both bit for bit), opens a shared link and lesson 2's seeds view; fails on a console error, a
# panic or a check that does not hold; the trainer must run in a Web Worker. Prints the time to
# the first frame, the training speed at full speed, the native CLI's bare rate on the same
# preset measured in the same run and the ratio of the two, and saves a screenshot of the canvas.
#
# Usage: web/smoke-test.sh [DIST_DIR] [SCREENSHOT.png]     (defaults: dist, web/smoke-test/screenshot.png)
# Needs Node 18+ and Chromium (Debian: apt-get install chromium; or set CHROMIUM=/path/to/it);
# playwright-core comes from npm into web/smoke-test/node_modules (no browser download).
# Exit code: 0 passed, 1 failed, 3 could not run here (no Chromium, no Node, or no npm registry).
set -euo pipefail
cd "$(dirname "$0")/.."

dist=${1:-dist}
screenshot=${2:-web/smoke-test/screenshot.png}
[ -f "$dist/index.html" ] || { echo "smoke-test.sh: no $dist/index.html; run web/build.sh first" >&2; exit 2; }
chromium=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
if [ -z "$chromium" ]; then
  echo "smoke-test.sh: Chromium is not installed (Debian: apt-get install chromium)" >&2
  exit 3
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "smoke-test.sh: Node.js and npm are not installed" >&2
  exit 3
fi
if [ ! -d web/smoke-test/node_modules/playwright-core ] \
  && ! (cd web/smoke-test && npm ci --no-audit --no-fund --loglevel=error); then
  echo "smoke-test.sh: playwright-core could not be installed from npm" >&2
  exit 3
fi
# The native binary, for the record round trip between browser and desktop.
relu_lab=${RELU_LAB:-target/debug/relu-lab}
if [ ! -x "$relu_lab" ] && ! cargo build -q --bin relu-lab; then
  echo "smoke-test.sh: could not build the native relu-lab; the record round trip is skipped" >&2
fi
native_args=()
[ -x "$relu_lab" ] && native_args=(--relu-lab "$relu_lab")
node web/smoke-test/smoke-test.mjs "$dist" "$screenshot" --chromium "$chromium" "${native_args[@]}"
