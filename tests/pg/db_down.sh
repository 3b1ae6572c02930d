#!/usr/bin/env bash
# The database goes down under a running `dam serve` and comes back
# (issue 12, "failure behaviour"): on a throwaway PostgreSQL cluster
# (scripts/pg.sh), a library with one processed photo and a serve node;
# the cluster is stopped (fast shutdown: every connection is cut) keeping
# its data, then started again. While it is down an API GET and a delivery
# URL the node has not cached answer 503 with Retry-After and a JSON error
# saying the database is unreachable (and naming no socket or URL), and
# /readyz names the database; once it is back the same requests answer 200
# from the same dam process (its connections reconnect by themselves).
#
#   BUILD=build tests/pg/db_down.sh      DAM=BUILD/dam, FIXTURES=BUILD/fixtures
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${BUILD:-build}
export DAM=${DAM:-$build/dam} FIXTURES=${FIXTURES:-$build/fixtures}
export G_DEBUG=fatal-warnings
unset DAM_LIBRARY
[ -x "$DAM" ] || { echo "FAIL: $DAM is not built" >&2; exit 1; }
[ -f "$FIXTURES/photo.jpg" ] || { echo "FAIL: no fixtures in $FIXTURES" >&2; exit 1; }

T=$(mktemp -d /tmp/dam-dbdown-XXXXXX)
PGDIR=$(mktemp -d /tmp/dam-dbdown-pg.XXXXXX)
spid=
# shellcheck disable=SC2317 # run by the trap
cleanup() {
	[ -n "$spid" ] && { kill "$spid" 2>/dev/null || true; wait "$spid" 2>/dev/null || true; }
	scripts/pg.sh stop "$PGDIR" >/dev/null 2>&1 || true
	rm -rf "$T" "$PGDIR"
}
trap cleanup EXIT INT TERM

fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
ok() { echo "ok - $*"; }

url=$(scripts/pg.sh start "$PGDIR") || { echo "FAIL: PostgreSQL did not start" >&2; exit 1; }
"$DAM" init "$T/lib" --database "$url" >/dev/null
id=$("$DAM" --library "$T/lib" ingest --json "$FIXTURES/photo.jpg" | jq -r '.results[0].asset_id')
[ -n "$id" ] && [ "$id" != null ] || { echo "FAIL: ingest gave no asset id" >&2; exit 1; }
"$DAM" --library "$T/lib" serve --listen 127.0.0.1:0 --no-workers --stop-deadline 3 >"$T/serve.log" 2>"$T/serve.err" &
spid=$!
for _ in $(seq 1 300); do
	grep -q 'listening on' "$T/serve.log" 2>/dev/null && break
	kill -0 "$spid" 2>/dev/null || break
	sleep 0.1
done
BASE=$(sed -n 's/.*listening on \(http[^ ]*\).*/\1/p' "$T/serve.log" | head -1)
[ -n "$BASE" ] || { echo "FAIL: dam serve did not start: $(cat "$T/serve.err")" >&2; exit 1; }
# The first serve made the admin user.
TOKEN=$("$DAM" --library "$T/lib" token create --user admin | sed -n 's/^secret: //p')
# A delivery URL never requested before the outage: no node cache holds it.
deliver=$("$DAM" --library "$T/lib" url "$id" tmall --expires 1d | sed "s|^http://127.0.0.1:8080||")
api="/api/v1/assets/$id"

# get PATH [curl args]: status, then headers in $T/h, body in $T/b.
get() { curl -s -o "$T/b" -D "$T/h" -w '%{http_code}' --max-time 20 "$@"; }
header() { tr -d '\r' <"$T/h" | sed -n "s/^$1: //Ip" | head -1; }

[ "$(get -H "authorization: Bearer $TOKEN" "$BASE$api")" = 200 ] || fail "API GET before the outage"
[ "$(get "$BASE/readyz")" = 200 ] || fail "/readyz before the outage"

scripts/pg.sh pause "$PGDIR"
ok "database stopped"

check_503() { # what path
	local st
	st=$(get "${@:2}")
	[ "$st" = 503 ] || { fail "$1 while the database is down: $st $(cat "$T/b")"; return; }
	[ "$(header retry-after)" = 5 ] || fail "$1: no Retry-After: 5 ($(header retry-after))"
	[ "$(jq -r .error.code "$T/b")" = database_unavailable ] || fail "$1: error code $(cat "$T/b")"
	jq -r .error.message "$T/b" | grep -q 'database is unreachable' || fail "$1: message $(cat "$T/b")"
	! grep -q -e "$PGDIR" -e 'postgres' "$T/b" || fail "$1: the answer names the server: $(cat "$T/b")"
	ok "$1 answers 503, Retry-After 5, database_unavailable"
}
# Twice each: the first request finds the connection cut, the second one
# finds the server refusing (a reconnect attempt, or none within a second).
for _ in 1 2; do
	check_503 "API GET" -H "authorization: Bearer $TOKEN" "$BASE$api"
	check_503 "delivery URL (not cached)" "$BASE$deliver"
done
st=$(get "$BASE/readyz")
[ "$st" = 503 ] && [ "$(jq -r .database "$T/b")" != ok ] && [ "$(jq -r .store "$T/b")" = ok ] ||
	fail "/readyz while the database is down: $st $(cat "$T/b")"
ok "/readyz names the database"
kill -0 "$spid" 2>/dev/null || fail "dam serve died with the database"

scripts/pg.sh resume "$PGDIR"
ok "database started again"
t0=$(date +%s%N)
# Each pool thread reconnects at its next request, at most once a second.
wait_200() { # what path...
	local st
	for _ in $(seq 1 40); do
		st=$(get "${@:2}")
		[ "$st" = 200 ] && { ok "$1 answers 200 again ($((($(date +%s%N) - t0) / 1000000)) ms after the restart)"; return; }
		sleep 0.1
	done
	fail "$1 after the database came back: $st $(cat "$T/b")"
}
wait_200 "API GET" -H "authorization: Bearer $TOKEN" "$BASE$api"
wait_200 "delivery URL" "$BASE$deliver"
wait_200 "/readyz" "$BASE/readyz"
# And keeps answering, whichever pool thread takes the request (a thread
# whose last attempt failed tries again a second later).
sleep 1.1
for i in $(seq 1 20); do
	st=$(get -H "authorization: Bearer $TOKEN" "$BASE$api")
	[ "$st" = 200 ] || { fail "API GET $i after recovery: $st $(cat "$T/b")"; break; }
done
[ "$i" = 20 ] && ok "20 more API GETs answer 200"
[ "$(get "$BASE$deliver")" = 200 ] && [ "$(header content-type)" = image/jpeg ] || fail "delivery after recovery"
# Writes work again too (a transaction on a reconnected session).
st=$(get -X PATCH -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' \
	--data '{"tags":{"add":["back"]}}' "$BASE$api")
[ "$st" = 200 ] || fail "PATCH after recovery: $st $(cat "$T/b")"
[ "$(get -H "authorization: Bearer $TOKEN" "$BASE$api")" = 200 ] && jq -e '.tags | map(.tag) | index("back")' "$T/b" >/dev/null ||
	fail "the PATCH after recovery is not read back: $(cat "$T/b")"
ok "a write after recovery commits"
grep -q 'database unavailable' "$T/serve.err" || fail "the outage is not in the server's log"

kill -TERM "$spid"
rc=0
wait "$spid" || rc=$?
spid=
[ "$rc" = 0 ] || fail "dam serve exited $rc on SIGTERM"
[ $fails = 0 ] || { tail -20 "$T/serve.err" >&2; exit 1; }
echo "ok - database down and back"
