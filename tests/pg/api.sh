#!/usr/bin/env bash
# The HTTP API suite on PostgreSQL: starts a throwaway cluster
# (scripts/pg.sh) and runs tests/api/run.sh with DAM_TEST_PG_URL set, so
# every library a test makes gets a fresh database of its own on that
# server (tests/api/lib/server.mjs, initLibrary) instead of dam.db. The
# cluster is stopped and removed on exit; one that cannot start fails the
# run (nothing is skipped).
#
#   BUILD=build tests/pg/api.sh                       # the whole API suite
#   BUILD=build tests/pg/api.sh tests/api/assets.test.mjs ...   # some files
#
# DAM and FIXTURES default to BUILD/dam and BUILD/fixtures, as in run.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${BUILD:-build}
export DAM=${DAM:-$build/dam} FIXTURES=${FIXTURES:-$build/fixtures}

dir=$(mktemp -d /tmp/dam-pgapi.XXXXXX)
# shellcheck disable=SC2317 # run by the trap
cleanup() { scripts/pg.sh stop "$dir" || true; rm -rf "$dir"; }
trap cleanup EXIT INT TERM

url=$(scripts/pg.sh start "$dir") || { echo "FAIL: PostgreSQL did not start (scripts/pg.sh start)" >&2; exit 1; }
echo "# pg: cluster at $dir" >&2
DAM_TEST_PG_URL=$url tests/api/run.sh "$@"
