#!/usr/bin/env bash
# Runs the database unit tests on a throwaway PostgreSQL cluster:
# starts it with scripts/pg.sh, runs each test binary with DAM_TEST_PG_URL
# and test_init.sh (dam init --database, [database] in dam.conf),
# stops the cluster (also on failure or interrupt). Fails when the server
# cannot start: there is no silent skip.
#
#   BUILD=build tests/pg/run.sh            # the tests below
#   VALGRIND=1 tests/pg/run.sh             # the same under valgrind
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
TESTS=(test_db test_pg_schema test_search_engine test_delivery)

dir=$(mktemp -d /tmp/dam-pg.XXXXXX)
cleanup() { "$ROOT/scripts/pg.sh" stop "$dir" || true; rm -rf "$dir"; }
trap cleanup EXIT INT TERM

url=$("$ROOT/scripts/pg.sh" start "$dir")
echo "pg: cluster at $dir" >&2

export DAM_TEST_PG_URL=$url G_DEBUG=fatal-warnings
run=()
[ -n "${VALGRIND:-}" ] && run=(valgrind -q --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite)
rc=0
for t in "${TESTS[@]}"; do
  echo "pg: $t" >&2
  "${run[@]}" "$BUILD/tests/unit/$t" || rc=1
done
# The shared table of search queries, on a library in PostgreSQL: the same
# assets in the same order as on SQLite.
echo "pg: test_search_cases (DAM_SEARCH_CASES_BACKEND=pg)" >&2
DAM_SEARCH_CASES_BACKEND=pg DAM_SEARCH_CASES="$ROOT/tests/unit/search_cases.txt" \
  "${run[@]}" "$BUILD/tests/unit/test_search_cases" || rc=1
echo "pg: test_init.sh" >&2
"$ROOT/tests/pg/test_init.sh" "$url" "$BUILD/dam" "$dir" || rc=1
exit $rc
