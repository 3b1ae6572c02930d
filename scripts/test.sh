#!/usr/bin/env bash
# `make test`: unit, CLI, HTTP API and browser tests, the first three again
# under ASan+UBSan, fuzz smoke, and the suites on real S3 (RGW) and
# PostgreSQL servers.
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

# Two lanes run side by side, since much of each suite waits (on servers,
# timeouts, a browser) rather than computes: this shell runs the suites
# that share the plain and ASan builds' tests one after the other; a second
# lane compiles the ASan build, then runs the suites on the scale-out
# servers (a throwaway Ceph cluster, a throwaway PostgreSQL cluster), which
# share nothing with the first lane but the built binaries. Its output is
# kept in a log and printed when it ends; the first lane waits for the ASan
# build before it runs the ASan suites.
logs=$(mktemp -d /tmp/dam-test-logs.XXXXXX)
asan_built="$logs/asan.built"

asan_env() {
  # Leaks inside glib/libvips's global caches are not ours; everything else
  # (heap overflows, use after free, UB) fails the run.
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1"
  export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0"
  export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
}

second_lane() {
  local st=0
  step "ASan+UBSan build"
  if [ ! -f "$asan/build.ninja" ]; then
    meson setup "$asan" --werror -Db_sanitize=address,undefined -Db_lundef=false \
      --buildtype=debug >/dev/null || st=1
  fi
  if nice ninja -C "$asan"; then touch "$asan_built"; else st=1; touch "$logs/asan.failed"; fi

  step "S3 client against a real RADOS Gateway (throwaway Ceph cluster)"
  BUILD="$build" ./tests/s3/run.sh || st=1

  step "database layer on a real PostgreSQL (throwaway cluster)"
  BUILD="$build" ./tests/pg/run.sh || st=1
  VALGRIND=1 BUILD="$build" ./tests/pg/run.sh >/dev/null || { echo "valgrind: test_db on PostgreSQL has memory errors"; st=1; }

  step "the database down under dam serve and back (throwaway cluster)"
  BUILD="$build" FIXTURES="$fixtures" ./tests/pg/db_down.sh || st=1

  step "CLI suite with every library on PostgreSQL (throwaway cluster)"
  BUILD="$build" FIXTURES="$fixtures" ./tests/pg/cli.sh || st=1

  step "HTTP API suite with every library on PostgreSQL and a bucket of its own on RGW (throwaway servers)"
  BUILD="$build" FIXTURES="$fixtures" ./tests/pg/api.sh || st=1

  step "two serve nodes and two workers on one PostgreSQL and one RGW bucket"
  BUILD="$build" FIXTURES="$fixtures" ./tests/nodes/run.sh || st=1
  return $st
}

second_lane >"$logs/second.log" 2>&1 &
second_pid=$!
# An interrupt stops both lanes (the scale-out scripts' own traps then stop
# their servers).
trap 'trap - INT TERM; rm -rf "$logs"; kill 0' INT TERM

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

step "browser tests (web UI, Chromium)"
DAM="$build/dam" FIXTURES="$fixtures" ./tests/e2e/run.sh || status=1

step "valgrind (core unit tests)"
for t in store db id audit job version rcache purge hotcache; do
  valgrind -q --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite \
    "$build/tests/unit/test_$t" >/dev/null || { echo "valgrind: test_$t has memory errors"; status=1; }
done

step "waiting for the ASan+UBSan build (second lane)"
while [ ! -e "$asan_built" ] && [ ! -e "$logs/asan.failed" ] && kill -0 $second_pid 2>/dev/null; do sleep 2; done
if [ -e "$asan_built" ]; then
  asan_env

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
else
  echo "the ASan+UBSan build failed: see the second lane's log below"
  status=1
fi

step "fuzz targets (smoke run)"
FIXTURES="$fixtures" ./scripts/fuzz.sh "${FUZZ_SECONDS:-15}" || status=1

step "second lane (ASan build, S3 on RGW, PostgreSQL) — its log"
wait $second_pid || status=1
cat "$logs/second.log"
rm -rf "$logs"

if [ $status -ne 0 ]; then
  printf '\nSOME TESTS FAILED\n'
else
  printf '\nall tests passed\n'
fi
exit $status
