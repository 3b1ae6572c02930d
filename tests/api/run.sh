#!/usr/bin/env bash
# HTTP API tests: starts real `dam serve` processes and talks HTTP to them.
#
#   DAM=build/dam FIXTURES=build/fixtures [DAM_TEST_SLOW=3] tests/api/run.sh [FILE...]
#
# Needs Node 20+ and tests/openapi's npm packages (installed here). Test files run
# one at a time (--test-concurrency=1); each starts its own server(s).
set -eu
cd "$(dirname "$0")/../.."
command -v node >/dev/null || { echo "Bail out! node is not installed"; exit 2; }
major=$(node -p 'process.versions.node.split(".")[0]')
[ "$major" -ge 20 ] || { echo "Bail out! node $major is too old (need 20+)"; exit 2; }
export DAM=${DAM:-build/dam} FIXTURES=${FIXTURES:-build/fixtures}
# GLib criticals and warnings abort (scripts/test.sh explains why).
export G_DEBUG=${G_DEBUG:-fatal-warnings}
[ -x "$DAM" ] || { echo "Bail out! no dam binary at $DAM (set DAM=)"; exit 2; }
[ -f "$FIXTURES/photo.jpg" ] || { echo "Bail out! no fixtures in $FIXTURES (run tests/gen-fixtures.sh $FIXTURES)"; exit 2; }
# Every response is validated against docs/openapi.yaml (lib/openapi.mjs),
# with ajv and yaml from tests/openapi (npm ci from its lock file, once).
tests/openapi/deps.sh
if [ $# -gt 0 ]; then
	exec node --test --test-concurrency=1 "$@"
fi
# A whole run also checks that every route answered a validated success.
cov=$(mktemp "${TMPDIR:-/tmp}/dam-openapi-cov.XXXXXX")
trap 'rm -f "$cov"' EXIT
status=0
DAM_OPENAPI_COVERAGE=$cov node --test --test-concurrency=1 tests/api/ || status=$?
node tests/api/coverage.mjs "$cov" || status=1
exit $status
