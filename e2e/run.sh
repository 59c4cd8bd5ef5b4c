#!/usr/bin/env bash
# The dashboard's browser tests: installs what they need (Debian's chromium,
# redis-server, the pinned playwright-core), then runs them with node's test
# runner, one file after the other (each starts its own redis-server and
# stockd): dashboard.test.js in a market of eight stocks, many.test.js in
# one of 10,000 (STOCKS_FILE). Arguments name the files to run instead of
# both (e2e/run.sh many.test.js). STOCKD_BIN may name a built stockd;
# otherwise the tests build one.
set -euo pipefail
cd "$(dirname "$0")"

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v redis-server >/dev/null || missing+=(redis-server)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -q && apt-get install -yq "${missing[@]}"
fi
node_major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
if [ "$node_major" -lt 20 ]; then
  echo "e2e: node >= 20 is needed (playwright-core 1.65 requires it); found: $(node --version 2>/dev/null || echo none)" >&2
  exit 1
fi

npm ci --no-audit --no-fund --loglevel=error
if [ $# -eq 0 ]; then set -- dashboard.test.js many.test.js; fi
node --test --test-reporter=spec --test-timeout=180000 --test-concurrency=1 "$@"
