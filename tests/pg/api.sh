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
exec tests/pg/with-cluster.sh tests/api/run.sh "$@"
