#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL cluster (scripts/pg.sh): the
# command gets its URL in DAM_TEST_PG_URL; the cluster is stopped and
# removed on exit. One that cannot start fails the run (nothing is
# skipped). The suites' wrappers (tests/pg/cli.sh, api.sh) use it.
#
#   BUILD=build tests/pg/with-cluster.sh COMMAND [ARG...]
#
# DAM and FIXTURES default to BUILD/dam and BUILD/fixtures.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${BUILD:-build}
export DAM=${DAM:-$build/dam} FIXTURES=${FIXTURES:-$build/fixtures}

dir=$(mktemp -d /tmp/dam-pgsuite.XXXXXX)
# shellcheck disable=SC2317 # run by the trap
cleanup() { scripts/pg.sh stop "$dir" || true; rm -rf "$dir"; }
trap cleanup EXIT INT TERM

url=$(scripts/pg.sh start "$dir") || { echo "FAIL: PostgreSQL did not start (scripts/pg.sh start)" >&2; exit 1; }
echo "# pg: cluster at $dir" >&2
DAM_TEST_PG_URL=$url "$@"
