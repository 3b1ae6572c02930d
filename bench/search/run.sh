#!/usr/bin/env bash
# Query benchmark on a library built by setup.sh: starts `dam serve
# --workers -1 --quiet` with a token, runs query.mjs (API vs bare FTS5, RSS),
# optionally wrk for throughput, stops the server. With DIR/libpg (setup.sh
# with PG=1; its cluster in DIR/pg still running) a second server on the
# PostgreSQL copy answers every query right after the first (query.mjs
# SECOND), side by side in one table.
#
#   [DAM_BIN=build/dam] [ONLY=regexp] [SIMILAR=id,id] [SIM_IMAGE=file] [NOWRK=1] \
#     bench/search/run.sh [DIR=/tmp/dam-sbench] [RUNS=50]
set -eu
cd "$(dirname "$0")/../.."
DIR=${1:-/tmp/dam-sbench}
RUNS=${2:-50}
LIB="$DIR/lib"
# The server under test: a private copy of the current build (the index
# written by setup.sh is kept; rebuild it with setup.sh after schema or
# tokenizer changes).
cp "${DAM_BIN:-build/dam}" "$DIR/dam-serve"
D="$DIR/dam-serve"
echo "dam $(git rev-parse --short HEAD)$(git diff --quiet -- src || echo ' + uncommitted src changes') $(date -u +%FT%TZ)"
token() { # a viewer token for library $1
	if ! $D --library "$1" user list 2>/dev/null | grep -q '^bench'; then
		echo "bench-password-123456" | $D --library "$1" user add bench --role viewer --password-stdin >/dev/null
	fi
	$D --library "$1" token create --user bench | sed -n 's/^secret: //p'
}
serve() { # library, port, log: starts a server, waits for it (a cold 1M library: tens of seconds), prints its pid
	$D --library "$1" serve --listen 127.0.0.1:$2 --workers -1 --quiet >"$3" 2>&1 &
	local pid=$! i
	for i in $(seq 600); do curl -sf "http://127.0.0.1:$2/healthz" >/dev/null && { echo $pid; return; }; sleep 0.2; done
	echo "run.sh: the server on $1 did not answer within 120 s (see $3)" >&2
	kill $pid
	return 1
}
TOKEN=$(token "$LIB")
PORT=${PORT:-18391}
SPID=$(serve "$LIB" $PORT "$DIR/serve.log")
PGPID=
trap 'kill $SPID $PGPID 2>/dev/null; wait $SPID $PGPID 2>/dev/null' EXIT
echo "server pid $SPID; RSS before the first search: $(grep VmRSS /proc/$SPID/status)"
if [ -d "$DIR/libpg" ]; then
	[ -S "$DIR/pg/.s.PGSQL.5432" ] || { echo "run.sh: $DIR/libpg needs its cluster in $DIR/pg running (setup.sh PG=1)" >&2; exit 1; }
	PGTOKEN=$(token "$DIR/libpg")
	PGPID=$(serve "$DIR/libpg" $((PORT + 1)) "$DIR/serve-pg.log")
	export SECOND="http://127.0.0.1:$((PORT + 1)) $PGTOKEN $PGPID"
	echo "PostgreSQL server pid $PGPID; RSS before the first search: $(grep VmRSS /proc/$PGPID/status)"
fi
node bench/search/query.mjs "http://127.0.0.1:$PORT" "$TOKEN" "$LIB/dam.db" "$DIR/fts" "$SPID" "$RUNS" | tee "$DIR/query.md"
if [ -z "${NOWRK:-}" ] && command -v wrk >/dev/null; then
	for q in 'sneaker%20type:image%20tag:blue%20brand:Acme' '%E8%BF%90%E5%8A%A8%E9%9E%8B'; do
		echo "wrk -t2 -c4 -d10s /api/v1/search?q=$q&facets=false"
		wrk -t2 -c4 -d10s -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/v1/search?q=$q&facets=false" | grep -E "Requests/sec|Latency|requests in|Non-2xx" 
	done
fi
echo "server RSS at end: $(grep -E 'VmRSS|VmHWM' /proc/$SPID/status | tr -s ' \n' ' ')"
