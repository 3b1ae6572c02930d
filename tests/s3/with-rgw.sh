#!/usr/bin/env bash
# Runs a command with a throwaway Ceph RADOS Gateway (scripts/rgw.sh): the
# command gets its s3.env's path in DAM_TEST_S3_ENV (the API harness then
# gives every library a bucket of its own: tests/api/lib/s3.mjs). The
# gateway is stopped and removed on exit; one that cannot start fails the
# run (nothing is skipped). After the command, the secret must appear in
# no Ceph log. tests/pg/api.sh runs the API suite through it.
#
#   tests/s3/with-rgw.sh COMMAND [ARG...]
set -euo pipefail
cd "$(dirname "$0")/../.."

dir=$(mktemp -d /tmp/dam-rgwsuite.XXXXXX)
# shellcheck disable=SC2317 # run by the trap
cleanup() { scripts/rgw.sh stop "$dir" >/dev/null 2>&1 || true; rm -rf "$dir"; }
trap cleanup EXIT INT TERM

scripts/rgw.sh start "$dir" || { echo "FAIL: the RADOS Gateway did not start (scripts/rgw.sh start)" >&2; exit 1; }
status=0
DAM_TEST_S3_ENV="$dir/s3.env" "$@" || status=$?

# Read here without ever being printed; rgw.sh stop removes s3.env.
secret=$(sed -n 's/^S3_SECRET=//p' "$dir/s3.env")
[ -n "$secret" ] || { echo "FAIL: no secret in $dir/s3.env" >&2; exit 1; }
if grep -rlF -- "$secret" "$dir/log" >"$dir/leaks"; then
	echo "FAIL: the S3 secret appears in: $(tr '\n' ' ' <"$dir/leaks")" >&2
	status=1
fi
exit $status
