#!/usr/bin/env bash
# bench/scaleout/run.sh - issue 12's scale-out benchmark: the same work on the embedded
# library (SQLite + objects/ folder) and on a scale-out library (PostgreSQL + a bucket on
# Ceph's RADOS Gateway), side by side in one run, on this machine (both servers are
# throwaway: scripts/pg.sh, scripts/rgw.sh).
#
#  a) ingest: N generated 12-24 MP JPEGs (bench/ingest/gen.sh) through `dam ingest` to all
#     renditions, ROUNDS rounds alternating embedded / scale-out (a fresh library each), so
#     both see the same machine load. Ratio = embedded seconds / scale-out seconds (goal:
#     scale-out >= 0.8x).
#  b) delivery of cached renditions: `dam serve --no-workers` on each library of the last
#     round, every asset's ahead-of-time preset URL (p_bench800) warmed, then wrk over the
#     list, alternating the two servers. Twice: with the hot cache (renditions answered from
#     memory by the event loops) and with hot_cache_mb = 0 (every request through the
#     rendition cache on local disk, filled from the store). Ratio = scale-out req/s /
#     embedded req/s (goal >= 0.9x once warm).
#
#   bench/scaleout/run.sh            # N=24, ROUNDS=2, DURATION=10s
#   NO_RESULTS=1 bench/scaleout/run.sh
#
# Environment: N, ROUNDS, DURATION (wrk), CONNS (32), DAM (build/dam), BENCH_DATA
# (bench/data), NO_RESULTS=1 (print only). Appends a section to bench/RESULTS.md with the
# command, the commit and the load average before and after.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
N=${N:-24}
ROUNDS=${ROUNDS:-2}
DURATION=${DURATION:-10s}
CONNS=${CONNS:-32}
DATA=${BENCH_DATA:-$ROOT/bench/data}
OUT=$(mktemp -d /tmp/dam-bench-scaleout.XXXXXX)
PGDIR=$(mktemp -d /tmp/dam-bench-pg.XXXXXX) # its own: the server's user cannot enter OUT (0700)
for t in wrk jq curl bc; do command -v $t >/dev/null || { echo "run.sh: $t missing" >&2; exit 1; }; done
cp "${DAM:-$ROOT/build/dam}" "$OUT/dam" # a private copy: a rebuild cannot break the job spawns
DAM=$OUT/dam
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	"$ROOT/scripts/pg.sh" stop "$PGDIR" >/dev/null 2>&1 || true
	"$ROOT/scripts/rgw.sh" stop "$OUT/rgw" >/dev/null 2>&1 || true
	rm -rf "$OUT" "$PGDIR"
}
trap cleanup EXIT

"$ROOT/bench/ingest/gen.sh" "$N" "$DATA" >/dev/null
mkdir -p "$OUT/set"
for i in $(seq 0 $((N - 1))); do
	f=$(printf 'img-%06d.jpg' "$i")
	ln "$DATA/jpeg-px/$f" "$OUT/set/$f" 2>/dev/null || cp "$DATA/jpeg-px/$f" "$OUT/set/$f"
done

PG_URL=$("$ROOT/scripts/pg.sh" start "$PGDIR" 2>"$OUT/pg.log") || { cat "$OUT/pg.log" >&2; exit 1; }
"$ROOT/scripts/rgw.sh" start "$OUT/rgw" >/dev/null
# shellcheck disable=SC1091
. "$OUT/rgw/s3.env"
(umask 077 && printf '%s\n' "$S3_SECRET" >"$OUT/secret")
pg_db() { # a fresh database on the cluster (which collates bytewise, as dam needs); prints its URL
	psql -X -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE $1" "$PG_URL" >/dev/null
	echo "${PG_URL/\/dam\?//$1?}"
}

preset_conf='[preset bench800]
spec = w_800,h_800,fit_cover,f_webp,q_80'
new_lib() { # new_lib KIND DIR: an embedded (fs) or scale-out (pg) library
	local kind=$1 dir=$2
	if [ "$kind" = fs ]; then
		"$DAM" init "$dir" >/dev/null
	else
		"$DAM" init "$dir" --database "$(pg_db "b$RANDOM$RANDOM")" >/dev/null
		awk -v store="backend = s3
endpoint = $S3_ENDPOINT
bucket = $S3_BUCKET
region = $S3_REGION
key_id = $S3_KEY_ID
secret_file = $OUT/secret
addressing = path" '$0 == "backend = fs" { print store; next } { print }' "$dir/dam.conf" >"$dir/dam.conf.new"
		mv "$dir/dam.conf.new" "$dir/dam.conf"
		chmod 600 "$dir/dam.conf"
	fi
	printf '\n%s\n' "$preset_conf" >>"$dir/dam.conf"
	# the preset is a shared setting: in the database for every node
	"$DAM" --library "$dir" config push >/dev/null
}

now() { date +%s.%N; }
declare -A ING
for r in $(seq 1 "$ROUNDS"); do
	for kind in fs pg; do
		lib=$OUT/lib-$kind-$r
		new_lib "$kind" "$lib"
		sync
		t0=$(now)
		"$DAM" --library "$lib" ingest --json "$OUT/set" >"$OUT/ingest-$kind-$r.json" 2>"$OUT/ingest-$kind-$r.err"
		t=$(echo "$(now) - $t0" | bc -l)
		ING[$kind]="${ING[$kind]:-} $t"
		echo "ingest $kind round $r: $t s ($(jq -c .summary "$OUT/ingest-$kind-$r.json"))" >&2
	done
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
ING_FS=$(median <<<"${ING[fs]}")
ING_PG=$(median <<<"${ING[pg]}")

# ---- delivery
serve() { # serve LIB HOTMB: sets URL and SERVE_PID
	local lib=$1 hot=$2 log=$OUT/serve-$RANDOM.log
	sed -i '/^hot_cache_mb = /d' "$lib/dam.conf"
	sed -i "s/^\[delivery\]$/[delivery]\nhot_cache_mb = $hot/" "$lib/dam.conf"
	"$DAM" --library "$lib" serve --listen 127.0.0.1:0 --no-workers >"$log" 2>&1 &
	SERVE_PID=$!
	pids+=("$SERVE_PID")
	for _ in $(seq 1 100); do
		URL=$(grep -o 'http://127.0.0.1:[0-9]*' "$log" | head -1) && [ -n "$URL" ] && return 0
		sleep 0.1
	done
	echo "serve $lib did not start: $(cat "$log")" >&2
	return 1
}
declare -A RPS
for hot in 64 0; do
	for kind in fs pg; do
		lib=$OUT/lib-$kind-$ROUNDS
		"$DAM" --library "$lib" ls --json --limit 1000 | jq -r '.[].id' >"$OUT/ids-$kind"
		: >"$OUT/paths-$kind"
		while read -r id; do
			"$DAM" --library "$lib" url "$id" bench800 | sed 's|^https\?://[^/]*||' >>"$OUT/paths-$kind"
		done <"$OUT/ids-$kind"
	done
	for kind in fs pg pg fs; do
		lib=$OUT/lib-$kind-$ROUNDS
		serve "$lib" "$hot"
		url=$URL
		while read -r p; do # warm: the stored rendition into the local caches
			curl -s -o /dev/null "$url$p"
			code=$(curl -s -o /dev/null -w '%{http_code}' "$url$p")
			[ "$code" = 200 ] || { echo "GET $p on $kind: $code" >&2; exit 1; }
		done <"$OUT/paths-$kind"
		rps=$(wrk -t2 -c"$CONNS" -d"$DURATION" -s "$ROOT/bench/deliver/paths.lua" "$url" -- "$OUT/paths-$kind" 2 |
			awk '/Requests\/sec/ {print $2}')
		RPS[$kind-$hot]="${RPS[$kind-$hot]:-} $rps"
		echo "delivery $kind hot_cache_mb=$hot: $rps req/s" >&2
		kill "$SERVE_PID"
		wait "$SERVE_PID" 2>/dev/null || true
	done
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

fmt() { printf '%.2f' "$1"; }
h_fs=$(median <<<"${RPS[fs-64]}"); h_pg=$(median <<<"${RPS[pg-64]}")
c_fs=$(median <<<"${RPS[fs-0]}"); c_pg=$(median <<<"${RPS[pg-0]}")
section="
## bench/scaleout: embedded (SQLite + folder) vs scale-out (PostgreSQL 15 + Ceph RGW) — $(date -u +%Y-%m-%dT%H:%MZ)

Command: \`N=$N ROUNDS=$ROUNDS DURATION=$DURATION CONNS=$CONNS bench/scaleout/run.sh\` at $(git -C "$ROOT" rev-parse --short HEAD);
$(nproc) cores; load average before $LOAD_BEFORE, after $LOAD_AFTER. Both servers on this machine
(PostgreSQL on a Unix socket, RGW with a memstore OSD on loopback).

| | embedded | scale-out | ratio (goal) |
|---|---|---|---|
| ingest of $N 12-24 MP JPEGs to all renditions, s (median of $ROUNDS; each:${ING[fs]} /${ING[pg]}) | $(fmt "$ING_FS") | $(fmt "$ING_PG") | $(fmt "$(echo "$ING_FS / $ING_PG" | bc -l)")x (>= 0.8x) |
| delivery, cached preset renditions, hot cache on, req/s (each:${RPS[fs-64]} /${RPS[pg-64]}) | $(fmt "$h_fs") | $(fmt "$h_pg") | $(fmt "$(echo "$h_pg / $h_fs" | bc -l)")x (>= 0.9x) |
| delivery, hot cache off (rendition cache on local disk), req/s (each:${RPS[fs-0]} /${RPS[pg-0]}) | $(fmt "$c_fs") | $(fmt "$c_pg") | $(fmt "$(echo "$c_pg / $c_fs" | bc -l)")x (>= 0.9x) |
"
echo "$section"
[ -n "${NO_RESULTS:-}" ] || echo "$section" >>"$ROOT/bench/RESULTS.md"
