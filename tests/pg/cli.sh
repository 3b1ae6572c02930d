#!/usr/bin/env bash
# The CLI suite on PostgreSQL: starts a throwaway cluster (scripts/pg.sh)
# and runs tests/cli/run.sh with DAM_TEST_PG_URL set, so every library its
# new_lib makes lives on a fresh database of that server (libsql reads
# either engine). The cluster is stopped and removed on exit.
#
#   BUILD=build tests/pg/cli.sh [NAME...]
set -euo pipefail
cd "$(dirname "$0")/../.."
exec tests/pg/with-cluster.sh tests/cli/run.sh "$@"
