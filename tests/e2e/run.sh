#!/usr/bin/env bash
# Browser tests of the web UI: playwright-core (web/node_modules) drives
# Debian's Chromium, headless, against real `dam serve` processes.
#
#   DAM=build/dam FIXTURES=build/fixtures tests/e2e/run.sh [FILE...]
#
# Screenshots of the main screens land in tests/e2e/screenshots (ignored by git).
set -eu
cd "$(dirname "$0")/../.."
command -v node >/dev/null || { echo "Bail out! node is not installed"; exit 2; }
export DAM=${DAM:-build/dam} FIXTURES=${FIXTURES:-build/fixtures}
# GLib criticals and warnings abort (scripts/test.sh explains why).
export G_DEBUG=${G_DEBUG:-fatal-warnings}
[ -x "$DAM" ] || { echo "Bail out! no dam binary at $DAM (set DAM=)"; exit 2; }
[ -f "$FIXTURES/photo.jpg" ] || { echo "Bail out! no fixtures in $FIXTURES"; exit 2; }
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || { echo "Bail out! no Chromium at ${CHROMIUM:-/usr/bin/chromium} (apt-get install chromium)"; exit 2; }
[ -d web/node_modules/playwright-core ] || { echo "Bail out! web/node_modules has no playwright-core (run make, or npm ci in web/)"; exit 2; }
# Requests the tests send through tests/api/lib/server.mjs are checked
# against docs/openapi.yaml, with ajv and yaml from tests/openapi.
tests/openapi/deps.sh
if [ $# -gt 0 ]; then
	exec node --test --test-concurrency=1 "$@"
fi
exec node --test --test-concurrency=1 tests/e2e/
