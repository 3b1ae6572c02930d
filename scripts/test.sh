#!/usr/bin/env bash
# `make test`: unit, CLI, HTTP API and browser tests, then the first three
# again under ASan+UBSan.
set -euo pipefail
build=${1:-build}
asan=${2:-build-asan}
fixtures="$build/fixtures"
status=0
# A GLib critical or warning (a double unref, a loader's complaint) aborts
# the process that logs it, so such a bug fails the test that caused it
# instead of scrolling by. Every runner below sets this too when run alone.
export G_DEBUG=fatal-warnings

step() { printf '\n=== %s\n' "$*"; }

step "OpenAPI document (strict YAML 1.2 parse, redocly lint)"
./tests/openapi/run.sh || status=1

step "unit tests"
meson test -C "$build" --suite unit --print-errorlogs || status=1

step "CLI tests"
DAM="$build/dam" FIXTURES="$fixtures" ./tests/cli/run.sh || status=1
DAM="$build/dam" ./tests/cli/test_user.sh || status=1
DAM="$build/dam" ./tests/cli/test_schema.sh || status=1
DAM="$build/dam" ./tests/cli/test_demo.sh || status=1

step "HTTP API tests"
DAM="$build/dam" FIXTURES="$fixtures" ./tests/api/run.sh || status=1

step "S3 client against a real RADOS Gateway (throwaway Ceph cluster)"
BUILD="$build" ./tests/s3/run.sh || status=1

step "database layer on a real PostgreSQL (throwaway cluster)"
BUILD="$build" ./tests/pg/run.sh || status=1
VALGRIND=1 BUILD="$build" ./tests/pg/run.sh >/dev/null || { echo "valgrind: test_db on PostgreSQL has memory errors"; status=1; }

step "browser tests (web UI, Chromium)"
DAM="$build/dam" FIXTURES="$fixtures" ./tests/e2e/run.sh || status=1

step "valgrind (core unit tests)"
for t in store db id audit job version rcache purge hotcache; do
  valgrind -q --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite \
    "$build/tests/unit/test_$t" >/dev/null || { echo "valgrind: test_$t has memory errors"; status=1; }
done

step "ASan+UBSan build"
if [ ! -f "$asan/build.ninja" ]; then
  meson setup "$asan" --werror -Db_sanitize=address,undefined -Db_lundef=false \
    --buildtype=debug >/dev/null
fi
ninja -C "$asan"

# Leaks inside glib/libvips's global caches are not ours; everything else
# (heap overflows, use after free, UB) fails the run.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1"
export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"

step "unit tests (ASan+UBSan)"
meson test -C "$asan" --suite unit --print-errorlogs --timeout-multiplier 4 || status=1

step "CLI tests (ASan+UBSan)"
DAM="$asan/dam" FIXTURES="$fixtures" DAM_TEST_SLOW=4 ./tests/cli/run.sh || status=1
DAM="$asan/dam" ./tests/cli/test_user.sh || status=1
DAM="$asan/dam" ./tests/cli/test_schema.sh || status=1

step "HTTP API tests (ASan+UBSan)"
# The server keeps h2o's per-loop state until exit; leaks are checked in the
# unit and CLI runs, memory errors and UB here.
ASAN_OPTIONS="detect_leaks=0:abort_on_error=1" DAM="$asan/dam" FIXTURES="$fixtures" DAM_TEST_SLOW=4 \
  ./tests/api/run.sh || status=1

step "fuzz targets (smoke run)"
FIXTURES="$fixtures" ./scripts/fuzz.sh "${FUZZ_SECONDS:-15}" || status=1

if [ $status -ne 0 ]; then
  printf '\nSOME TESTS FAILED\n'
else
  printf '\nall tests passed\n'
fi
exit $status
