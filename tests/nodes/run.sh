#!/usr/bin/env bash
# Many nodes on one PostgreSQL and one bucket (issue 12): two `dam serve
# --no-workers` nodes and two `dam worker` processes on one throwaway
# PostgreSQL cluster (scripts/pg.sh) and one Ceph RADOS Gateway
# (scripts/rgw.sh), all on this machine; tests/nodes/nodes.test.mjs then
# speaks to both nodes.
#
#   BUILD=build tests/nodes/run.sh       DAM=BUILD/dam, FIXTURES=BUILD/fixtures
#
# The setup is the walkthrough of docs/scale-out.md, command for command:
# one library made once (dam init --database URL, [store] backend = s3 with
# a secret_file), and a second node's folder that is a copy of dam.conf in
# an empty private folder (its cache/ is made at open). Servers and
# clusters are stopped and removed on exit; one that cannot start fails
# the run (nothing is skipped).
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${BUILD:-build}
export DAM=${DAM:-$build/dam} FIXTURES=${FIXTURES:-$build/fixtures}
export G_DEBUG=fatal-warnings
unset DAM_LIBRARY
[ -x "$DAM" ] || { echo "FAIL: $DAM is not built" >&2; exit 1; }
[ -f "$FIXTURES/photo.jpg" ] || { echo "FAIL: no fixtures in $FIXTURES" >&2; exit 1; }

T=$(mktemp -d /tmp/dam-nodes-XXXXXX)
# The cluster's folder is the database user's (pg.sh chowns it): not under T (0700).
PGDIR=$(mktemp -d /tmp/dam-nodes-pg.XXXXXX)
pids=()
# shellcheck disable=SC2317 # run by the trap
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	scripts/rgw.sh stop "$T/rgw" >/dev/null 2>&1 || true
	scripts/pg.sh stop "$PGDIR" >/dev/null 2>&1 || true
	[ "${NODES_KEEP:-0}" = 1 ] && { echo "# kept $T" >&2; return; }
	rm -rf "$T" "$PGDIR"
}
trap cleanup EXIT INT TERM

url=$(scripts/pg.sh start "$PGDIR") || { echo "FAIL: PostgreSQL did not start" >&2; exit 1; }
scripts/rgw.sh start "$T/rgw" >/dev/null || { echo "FAIL: the RADOS Gateway did not start" >&2; exit 1; }

# --- one library: database and bucket ---
"$DAM" init "$T/a" --database "$url" >/dev/null
(
	umask 077
	# shellcheck disable=SC1091
	. "$T/rgw/s3.env"
	printf '%s\n' "$S3_SECRET" >"$T/s3.secret"
	cat >>"$T/a/dam.conf" <<CONF

[store]
backend = s3
endpoint = $S3_ENDPOINT
bucket = $S3_BUCKET
region = $S3_REGION
key_id = $S3_KEY_ID
secret_file = $T/s3.secret

[worker]
lease = 2
CONF
)
# [worker] lease is a shared key: it lives in the database once pushed.
"$DAM" --library "$T/a" config push >/dev/null
# --- the second node: the same dam.conf in a folder of its own ---
mkdir -m 700 "$T/b"
install -m 600 "$T/a/dam.conf" "$T/b/dam.conf"

# serve DIR LOG: a serve node on a free port; echoes its pid, waits for its URL.
serve() {
	"$DAM" --library "$1" serve --listen 127.0.0.1:0 --no-workers --stop-deadline 3 >"$2" 2>"$2.err" &
	pids+=($!)
	for _ in $(seq 1 300); do
		grep -q 'listening on' "$2" 2>/dev/null && return 0
		kill -0 "${pids[-1]}" 2>/dev/null || break
		sleep 0.1
	done
	echo "FAIL: dam serve on $1 did not start: $(cat "$2.err")" >&2
	exit 1
}
serve "$T/a" "$T/a.log"
SA=${pids[-1]}
serve "$T/b" "$T/b.log"
SB=${pids[-1]}
NODE_A=$(sed -n 's/.*listening on \(http[^ ]*\).*/\1/p' "$T/a.log" | head -1)
NODE_B=$(sed -n 's/.*listening on \(http[^ ]*\).*/\1/p' "$T/b.log" | head -1)
TOKEN=$("$DAM" --library "$T/a" token create --user admin | sed -n 's/^secret: //p')
[ -n "$TOKEN" ] || { echo "FAIL: no admin token" >&2; exit 1; }
# Workers are named, as if on other machines: a killed one's job then waits
# for its lease (the same-host pid check cannot shortcut it).
"$DAM" --library "$T/a" worker --processes 1 --name w1:1 2>"$T/w1.err" &
W1=$!
pids+=("$W1")
"$DAM" --library "$T/b" worker --processes 1 --name w2:1 2>"$T/w2.err" &
W2=$!
pids+=("$W2")

# A slow job for the worker kill: 25 megapixels of noise (seconds to decode).
vips gaussnoise "$T/noise.v" 5000 5000 --mean 128 --sigma 60
vips cast "$T/noise.v" "$T/slow.png" uchar
rm -f "$T/noise.v"
for i in 1 2 3 4; do # distinct bytes, a job long enough to be seen running
	vips gaussnoise "$T/noise.v" 2500 2500 --mean 128 --sigma 60
	vips cast "$T/noise.v" "$T/wake-$i.png" uchar
	rm -f "$T/noise.v"
done

status=0
NODE_A=$NODE_A NODE_B=$NODE_B TOKEN=$TOKEN W1=$W1 W2=$W2 LIB_A=$T/a LIB_B=$T/b DB_URL=$url WORK=$T \
	timeout -k 5 170 node --test --test-reporter=spec tests/nodes/nodes.test.mjs || status=1
# Both nodes stop gracefully on SIGTERM (exit 0: every thread, the change
# watcher's too, leaves the signal to the server's own handling).
for p in "$SA" "$SB"; do
	kill -TERM "$p"
	rc=0
	wait "$p" || rc=$?
	[ "$rc" = 0 ] || { echo "FAIL: dam serve (pid $p) exited $rc on SIGTERM" >&2; status=1; }
done
if [ $status != 0 ]; then
	for f in a.log.err b.log.err w1.err w2.err; do
		echo "--- $f" >&2
		tail -20 "$T/$f" >&2 || true
	done
fi
exit $status
