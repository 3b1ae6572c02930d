#!/usr/bin/env bash
# The CLI suite on PostgreSQL: starts a throwaway cluster (scripts/pg.sh)
# and runs tests/cli/run.sh with DAM_TEST_PG_URL set, so every library its
# new_lib makes lives on a fresh database of that server (libsql reads
# either engine). The cluster is stopped and removed on exit.
#
#   BUILD=build tests/pg/cli.sh [NAME...]
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${BUILD:-build}
export DAM=${DAM:-$build/dam} FIXTURES=${FIXTURES:-$build/fixtures}

dir=$(mktemp -d /tmp/dam-pgcli.XXXXXX)
# shellcheck disable=SC2317 # run by the trap
cleanup() { scripts/pg.sh stop "$dir" || true; rm -rf "$dir"; }
trap cleanup EXIT INT TERM

url=$(scripts/pg.sh start "$dir") || { echo "FAIL: PostgreSQL did not start (scripts/pg.sh start)" >&2; exit 1; }
echo "# pg: cluster at $dir" >&2
DAM_TEST_PG_URL=$url tests/cli/run.sh "$@"
