#!/usr/bin/env bash
# bench/api/get.sh - GET /api/v1/assets/{id} from `dam serve` vs nginx serving
# the same JSON body as a static file, both loaded by wrk on this machine.
#
#   bench/api/get.sh                  # wrk -t2 -c64 -d15s --latency, 2 runs each
#   RUNS=3 DURATION=30s bench/api/get.sh
#   PROFILE=1 bench/api/get.sh        # also perf-record dam for 10 s under load
#
# Setup: a fresh library with one small image (build/fixtures/photo.jpg,
# ingested with its thumbnail and preview), dam serve --workers -1 --quiet
# (no job workers, no access log), an admin API token. The asset's JSON is
# fetched once and written to a file that nginx serves at the same URL path
# (a private nginx.conf: 2 worker processes, access_log off, keep-alive,
# sendfile). wrk sends the same Authorization header to both. Runs alternate
# dam, nginx, dam, nginx...; the better run of each counts.
# Note: wrk shares the 2 cores with the server under test.
# Goal (issue 3): dam >= 0.7x nginx req/s.
# Writes bench/out/api/get.md (a RESULTS.md fragment) and prints it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

RUNS=${RUNS:-2}
DURATION=${DURATION:-15s}
THREADS=${THREADS:-2}
CONNS=${CONNS:-64}
DAM_PORT=${DAM_PORT:-18241}
NGINX_PORT=${NGINX_PORT:-18242}
OUT=$ROOT/bench/out/api/get
PHOTO=${PHOTO:-$ROOT/build/fixtures/photo.jpg}

[ -x "$DAM" ] || die "build dam first: ninja -C build"
for t in wrk nginx jq curl; do command -v $t >/dev/null || die "$t is needed (scripts/deps.sh)"; done
[ -f "$PHOTO" ] || "$ROOT/tests/gen-fixtures.sh" "$ROOT/build/fixtures" >/dev/null
rm -rf "$OUT"
mkdir -p "$OUT/www" "$OUT/nginx"

wait_quiet

DAM_PID="" NGINX_PID=""
cleanup() {
	stop_pid "$DAM_PID"
	stop_pid "$NGINX_PID"
}
trap cleanup EXIT

lib=$OUT/library
"$DAM" init "$lib" >/dev/null
"$DAM" --library "$lib" ingest --json "$PHOTO" >"$OUT/ingest.json"
ID=$(jq -r '.results[0].asset_id' "$OUT/ingest.json")
start_dam "$lib" "$DAM_PORT" "$OUT/serve.log"
URLPATH=/api/v1/assets/$ID
AUTH="Authorization: Bearer $TOKEN"

# The exact body dam returns, as a static file at the same path for nginx.
mkdir -p "$OUT/www/api/v1/assets"
curl -fsS -H "$AUTH" "http://127.0.0.1:$DAM_PORT$URLPATH" >"$OUT/www$URLPATH"
BODY=$(stat -c %s "$OUT/www$URLPATH")

start_nginx "$OUT" "$NGINX_PORT" "default_type application/json;"

# Same body from both?
curl -fsS -H "$AUTH" "http://127.0.0.1:$NGINX_PORT$URLPATH" | cmp - "$OUT/www$URLPATH" || die "nginx body differs"
read -r DAM_HDR DAM_BODY < <(curl -fsS -o /dev/null -w '%{size_header} %{size_download}\n' -H "$AUTH" "http://127.0.0.1:$DAM_PORT$URLPATH")
read -r NGX_HDR NGX_BODY < <(curl -fsS -o /dev/null -w '%{size_header} %{size_download}\n' -H "$AUTH" "http://127.0.0.1:$NGINX_PORT$URLPATH")
[ "$DAM_BODY" = "$BODY" ] && [ "$NGX_BODY" = "$BODY" ] || die "body sizes differ: dam $DAM_BODY, nginx $NGX_BODY, file $BODY"

HZ=$(getconf CLK_TCK)
# bench NAME PORT PIDS...: one wrk run; appends a row, sets RPS and P99_MS.
bench() {
	local name=$1 port=$2 run=$3
	shift 3
	local f="$OUT/wrk-$name-$run.txt" c0 c1
	wait_idle
	local load
	load=$(cut -d' ' -f1-3 /proc/loadavg)
	c0=$(cpu_ticks "$@")
	/usr/bin/time -f '%U %S' -o "$f.time" \
		wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -H "$AUTH" "http://127.0.0.1:$port$URLPATH" >"$f"
	c1=$(cpu_ticks "$@")
	kill -0 "$DAM_PID" 2>/dev/null || { tail -5 "$OUT/serve.log" >&2; die "dam serve died during the $name run $run (see $OUT/serve.log)"; }
	RPS=$(awk '/^Requests\/sec:/ {print $2}' "$f")
	P99_MS=$(awk '$1 == "99%" { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
		print (u == "us" ? v / 1000 : u == "s" ? v * 1000 : v) }' "$f")
	P50_MS=$(awk '$1 == "50%" { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
		print (u == "us" ? v / 1000 : u == "s" ? v * 1000 : v) }' "$f")
	local non2xx errs srv_cpu wrk_cpu secs
	non2xx=$(awk '/Non-2xx/ {print $NF}' "$f")
	errs=$(awk '/Socket errors/ {sub(/.*errors: /, ""); print}' "$f")
	secs=$(awk '/requests in/ { s = $4; sub(/,$/, "", s); u = s; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", s);
		print (u == "m" ? s * 60 : u == "ms" ? s / 1000 : s) }' "$f")
	srv_cpu=$(awk -v t=$((c1 - c0)) -v hz="$HZ" -v s="$secs" 'BEGIN { printf "%.2f", t / hz / s }')
	wrk_cpu=$(awk -v s="$secs" '{ printf "%.2f", ($1 + $2) / s }' "$f.time")
	[ -z "$non2xx" ] || die "$name: $non2xx non-2xx responses"
	ROWS+="| $name | $run | $(printf '%.0f' "$RPS") | $P50_MS | $P99_MS | ${errs:-none} | $srv_cpu | $(awk -v c="$srv_cpu" -v r="$RPS" 'BEGIN { printf "%.1f", c * 1e6 / r }') | $wrk_cpu | $IDLE_PCT | $load |"$'\n'
	log "$name run $run: $RPS req/s, p99 $P99_MS ms, server ${srv_cpu} cores, wrk ${wrk_cpu} cores"
}

ROWS=""
best_dam=0 best_ngx=0 best_dam_p99="" best_ngx_p99=""
curl -fsS -o /dev/null -H "$AUTH" "http://127.0.0.1:$DAM_PORT$URLPATH" # warm
for run in $(seq "$RUNS"); do
	bench dam "$DAM_PORT" "$run" "$DAM_PID"
	if awk -v a="$RPS" -v b="$best_dam" 'BEGIN { exit !(a > b) }'; then best_dam=$RPS best_dam_p99=$P99_MS; fi
	# shellcheck disable=SC2086
	bench nginx "$NGINX_PORT" "$run" $NGINX_WORKERS
	if awk -v a="$RPS" -v b="$best_ngx" 'BEGIN { exit !(a > b) }'; then best_ngx=$RPS best_ngx_p99=$P99_MS; fi
done

PROF=""
if [ -n "${PROFILE:-}" ] && command -v perf >/dev/null; then
	log "profiling dam for 10 s under the same load"
	wrk -t"$THREADS" -c"$CONNS" -d14s -H "$AUTH" "http://127.0.0.1:$DAM_PORT$URLPATH" >"$OUT/wrk-profile.txt" &
	WRK=$!
	sleep 2
	perf record -q -F 499 --call-graph dwarf,16384 -p "$DAM_PID" -o "$OUT/perf.data" -- sleep 6 2>/dev/null
	wait "$WRK"
	# Inclusive (children) CPU share per function, and self share per library.
	perf report -i "$OUT/perf.data" --children --sort sym --stdio -g none 2>/dev/null | grep -E '^ +[0-9]' >"$OUT/perf.txt" || true
	perf report -i "$OUT/perf.data" --no-children --sort dso --stdio -g none 2>/dev/null | grep -E '^ +[0-9]' | head -12 >"$OUT/perf-dso.txt" || true
	PROF="Profile: bench/out/api/get/perf.txt and perf-dso.txt (perf record -F 499 --call-graph dwarf -p DAM_PID, 6 s under the same wrk load)."
fi

RATIO=$(awk -v a="$best_dam" -v b="$best_ngx" 'BEGIN { printf "%.2f", a / b }')
GOAL=$(awk -v r="$RATIO" 'BEGIN { print (r >= 0.7 ? "met" : "NOT met") }')
{
	echo "### GET /api/v1/assets/{id}: dam vs nginx static file"
	echo
	echo "Command: \`RUNS=$RUNS bench/api/get.sh\` — $(date -u +%FT%TZ); each run is \`wrk -t$THREADS -c$CONNS -d$DURATION --latency -H 'Authorization: Bearer …' URL\`."
	echo
	echo "Machine: $(machine_info); dam $(dam_rev); $(nginx -v 2>&1 | sed 's/.*: //'); wrk $(wrk --version 2>&1 | head -1 | awk '{print $2}'). **wrk runs on the same 2 cores as the server under test**, so both servers get what wrk leaves over."
	echo
	echo "Response: the same ${BODY}-byte JSON body from both (dam headers ${DAM_HDR} B, nginx headers ${NGX_HDR} B; dam adds an ETag, a request id and security headers)."
	echo
	echo "| server | run | req/s | p50 ms | p99 ms | socket errors | server CPU (cores) | server CPU µs per request | wrk CPU (cores) | machine idle % before | load avg (1/5/15 min) before |"
	echo "|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---|"
	printf '%s' "$ROWS"
	echo
	echo "Better run of $RUNS: dam $(printf '%.0f' "$best_dam") req/s (p99 $best_dam_p99 ms), nginx $(printf '%.0f' "$best_ngx") req/s (p99 $best_ngx_p99 ms) → **dam = ${RATIO}× nginx**."
	echo
	echo "Goal: dam ≥ 0.7× nginx: **$GOAL** (${RATIO}×)"
	[ -z "$PROF" ] || { echo; echo "$PROF"; }
} | tee "$OUT/../get.md"
