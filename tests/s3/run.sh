#!/usr/bin/env bash
# S3 tests against a real RADOS Gateway: the client (tests/s3/test_s3.c),
# the store's unit tests on the S3 backend (tests/unit/test_store.c with
# DAM_TEST_S3_ENV), a library on S3 through the dam binary
# (tests/s3/test_library_s3.sh) and the API files that store and read blobs
# on libraries configured for S3 (on SQLite; tests/pg/api.sh runs the whole
# API suite on PostgreSQL and S3).
#
#   tests/s3/run.sh            BUILD=build by default; S3_VALGRIND=0 skips
#                              the valgrind passes, S3_API=0 the API files;
#                              FIXTURES=BUILD/fixtures
#
# Starts a throwaway Ceph cluster (scripts/rgw.sh) under a temporary folder,
# runs test_s3 with every client's header trace on, runs it and test_store
# again under valgrind, then proves the secret appears in no output: the
# tests', the trace's, nor any Ceph daemon's log. A cluster that cannot start fails the
# run; nothing is skipped. The cluster is stopped and removed on exit.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${BUILD:-build}
bin="$build/tests/s3/test_s3"
export G_DEBUG=fatal-warnings

store="$build/tests/unit/test_store"
fixtures=${FIXTURES:-$build/fixtures}
for b in "$bin" "$store" "$build/dam"; do
	[ -x "$b" ] || { echo "FAIL: $b is not built (ninja -C $build)" >&2; exit 1; }
done
[ -f "$fixtures/photo.jpg" ] || { echo "FAIL: no fixtures in $fixtures (make fixtures)" >&2; exit 1; }
dir=$(mktemp -d /tmp/dam-rgw-XXXXXX)
# shellcheck disable=SC2317 # run by the trap
cleanup() {
	scripts/rgw.sh stop "$dir" || true
	rm -rf "$dir"
}
trap cleanup EXIT

if ! scripts/rgw.sh start "$dir"; then
	echo "FAIL: the RADOS Gateway did not start (scripts/rgw.sh start)" >&2
	exit 1
fi
out="$dir/log/test_s3.out"
status=0
DAM_S3_ENV="$dir/s3.env" DAM_S3_TRACE=1 "$bin" >"$out" 2>&1 || status=1
if [ "${S3_VALGRIND:-1}" != 0 ]; then
	DAM_S3_ENV="$dir/s3.env" DAM_TEST_VALGRIND=1 valgrind -q --error-exitcode=9 \
		--leak-check=full --errors-for-leak-kinds=definite "$bin" >>"$out" 2>&1 ||
		{ status=1; echo "FAIL: test_s3 under valgrind" >>"$out"; }
fi
# The store's unit tests, on the S3 backend (they empty the bucket between
# tests, so they run after test_s3 and before the library test).
DAM_TEST_S3_ENV="$dir/s3.env" "$store" >>"$out" 2>&1 ||
	{ status=1; echo "FAIL: test_store on S3" >>"$out"; }
if [ "${S3_VALGRIND:-1}" != 0 ]; then
	DAM_TEST_S3_ENV="$dir/s3.env" valgrind -q --error-exitcode=9 --leak-check=full \
		--errors-for-leak-kinds=definite "$store" >>"$out" 2>&1 ||
		{ status=1; echo "FAIL: test_store on S3 under valgrind" >>"$out"; }
fi
tests/s3/test_library_s3.sh "$dir/s3.env" "$build/dam" "$fixtures" >>"$out" 2>&1 ||
	{ status=1; echo "FAIL: test_library_s3.sh" >>"$out"; }
# API tests that store and read blobs (tus and multipart uploads, downloads,
# delivery), each library on a bucket of its own on the gateway
# (tests/api/lib/s3.mjs reads DAM_TEST_S3_ENV); with a database in dam.db,
# as tests/pg/api.sh runs the whole suite on PostgreSQL. S3_API=0 skips.
if [ "${S3_API:-1}" != 0 ]; then
	DAM_TEST_S3_ENV="$dir/s3.env" DAM="$build/dam" FIXTURES="$fixtures" tests/api/run.sh \
		tests/api/tus.test.mjs tests/api/uploads.test.mjs tests/api/downloads.test.mjs \
		tests/api/delivery.test.mjs tests/api/store_nofd.test.mjs >>"$out" 2>&1 ||
		{ status=1; echo "FAIL: API tests on S3" >>"$out"; }
fi

# The secret, read here without ever being printed, must be in no log.
secret=$(sed -n 's/^S3_SECRET=//p' "$dir/s3.env")
[ -n "$secret" ] || { echo "FAIL: no secret in s3.env" >&2; exit 1; }
if grep -rlF -- "$secret" "$dir/log" >"$dir/leaks"; then
	echo "FAIL: the secret appears in: $(tr '\n' ' ' <"$dir/leaks")" >&2
	exit 1
fi
grep -q '> Authorization: \[redacted\]' "$out" ||
	{ echo "FAIL: no trace in the test output (DAM_S3_TRACE)" >&2; status=1; }

# The trace is long; show the test lines, or everything on failure.
if [ $status -eq 0 ]; then
	grep -vE '^[*<>] ' "$out"
	echo "s3 tests: passed (secret in no log: checked $(find "$dir/log" -type f | wc -l) files)"
else
	cat "$out"
	echo "s3 tests: FAILED" >&2
fi
exit $status
