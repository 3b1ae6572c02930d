#!/usr/bin/env bash
# The HTTP API suite on PostgreSQL and S3 together, as a scale-out library
# runs (issue 12): starts a throwaway PostgreSQL cluster (scripts/pg.sh,
# through tests/pg/with-cluster.sh) and a throwaway Ceph RADOS Gateway
# (scripts/rgw.sh, through tests/s3/with-rgw.sh), and runs
# tests/api/run.sh with DAM_TEST_PG_URL and DAM_TEST_S3_ENV set, so every
# library a test makes gets a fresh database of its own on that server
# instead of dam.db, and a fresh bucket of its own instead of objects/
# (tests/api/lib/server.mjs, initLibrary). Both are stopped and removed on
# exit; one that cannot start fails the run (nothing is skipped).
#
#   BUILD=build tests/pg/api.sh                       # the whole API suite
#   BUILD=build tests/pg/api.sh tests/api/assets.test.mjs ...   # some files
#
# DAM and FIXTURES default to BUILD/dam and BUILD/fixtures, as in run.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec tests/pg/with-cluster.sh tests/s3/with-rgw.sh tests/api/run.sh "$@"
