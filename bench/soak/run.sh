#!/usr/bin/env bash
# bench/soak/run.sh - ten minutes of mixed traffic against one `dam serve`
# (with its job workers running), to show it stays correct and flat:
#
#   bench/soak/run.sh                       # 600 s, 8 concurrent clients
#   DURATION_S=120 USERS=4 bench/soak/run.sh  # a quick check
#   UPLOADS=0 bench/soak/run.sh             # no uploads: the library keeps its size
#
# Library: `make run`'s demo library (scripts/run-demo.sh, real photographs),
# built fresh in bench/out/soak. Traffic (bench/soak/soak.mjs, weights in
# brackets): asset reads (25), searches (18), field edits (10), multipart
# (2) and tus (2) uploads of distinct JPEGs (each queues a processing job
# that the server's workers run during the soak), signed links then stored
# preset renditions (25), cold transforms of random width and quality (6),
# and three-asset zip downloads (2).
# Reports: requests, errors (goal 0) and p50/p99 per kind; the server's RSS
# and open file descriptors every SAMPLE_S s (goal: flat after the WARMUP_S
# warm-up, growth < 5 %), with the heap in use and the caches' sizes from
# /metrics, so a rise can be told apart from caches filling to their
# bounds. Appends the table, the command and the load average to
# bench/RESULTS.md (NO_RESULTS=1 to skip).
set -euo pipefail
. "$(dirname "$0")/../api/lib.sh"

DURATION_S=${DURATION_S:-600}
USERS=${USERS:-8}
SAMPLE_S=${SAMPLE_S:-10}
WARMUP_S=${WARMUP_S:-60}
PORT=${PORT:-18251}
OUT=$ROOT/bench/out/soak
[ -x "$DAM" ] || die "build dam first: make build"
for t in node jq vips; do command -v $t >/dev/null || die "$t is needed (scripts/deps.sh)"; done

rm -rf "$OUT"
mkdir -p "$OUT"
cp "$DAM" "$OUT/dam" # job children start from /proc/self/exe; a rebuild must not break them
DAM=$OUT/dam
lib=$OUT/library
log "building the demo library"
(cd "$ROOT" && DEMO_NO_SERVE=1 ./scripts/run-demo.sh "$OUT" "$lib" >"$OUT/demo.log" 2>&1) ||
	{ tail "$OUT/demo.log" >&2; die "run-demo.sh failed"; }
"$DAM" --library "$lib" ls --type image --json --limit 10000 | jq -r '.[].id' >"$OUT/ids.txt"
vips thumbnail "$OUT/demo/media/products/prints/NV-P109_main_1.jpg" "$OUT/seed.jpg[Q=85]" 1600

wait_quiet
DAM_PID=""
trap 'stop_pid "$DAM_PID"' EXIT
"$DAM" --library "$lib" serve --listen "127.0.0.1:$PORT" --quiet >"$OUT/serve.log" 2>&1 &
DAM_PID=$!
wait_port "$PORT" || { cat "$OUT/serve.log" >&2; die "dam serve did not start"; }
TOKEN=$("$DAM" --library "$lib" token create --user admin 2>/dev/null | sed -n 's/^secret: //p')
[ -n "$TOKEN" ] || die "no token"

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
T_START=$(date -u +%Y-%m-%dT%H:%M:%SZ)
log "soak: ${DURATION_S}s, $USERS clients, $(wc -l <"$OUT/ids.txt") images"
BASE="http://127.0.0.1:$PORT" TOKEN=$TOKEN PID=$DAM_PID IDS=$OUT/ids.txt SEED=$OUT/seed.jpg \
	DURATION_S=$DURATION_S USERS=$USERS SAMPLE_S=$SAMPLE_S UPLOADS=${UPLOADS:-1} OUT=$OUT/soak.json \
	node "$ROOT/bench/soak/soak.mjs"
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)
kill -0 "$DAM_PID" 2>/dev/null || die "dam serve died during the soak (see $OUT/serve.log)"
JOBS=$("$DAM" --library "$lib" jobs --json --limit 1 | jq -c '.counts')
CRIT=$(grep -c -E 'CRITICAL|WARNING|AddressSanitizer' "$OUT/serve.log" || true)

# growth after warm-up: the last sample against the first one at or after WARMUP_S
read -r RSS_W FDS_W RSS_L FDS_L RSS_MAX < <(jq -r --argjson w "$WARMUP_S" '
	.samples as $s | ([$s[] | select(.t >= $w)][0]) as $a | $s[-1] as $b
	| "\($a.rss_kb) \($a.fds) \($b.rss_kb) \($b.fds) \([$s[].rss_kb] | max)"' "$OUT/soak.json")
pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%+.1f", (b - a) * 100 / (a > 0 ? a : 1) }'; }
# The server hands free heap pages back every 30 s (malloc_trim), so RSS is
# a saw-tooth and one sample against another measures mostly where each
# fell on a tooth. Steadier: the peak of the first minute after warm-up
# against the peak of the last minute, and the least-squares trend of all
# samples after warm-up (MB per 10 min); the same for the heap in use.
read -r PEAK_A PEAK_B SLOPE HEAP_A HEAP_B < <(jq -r --argjson w "$WARMUP_S" '
	[.samples[] | select(.t >= $w)] as $s | ($s[-1].t) as $tend
	| def peak(f; lo; hi): [$s[] | select(.t >= lo and .t <= hi) | f] | max;
	def slope: (length) as $n | (map(.t) | add / $n) as $mt | (map(.rss_kb) | add / $n) as $mr
		| ((map((.t - $mt) * (.rss_kb - $mr)) | add) / ((map((.t - $mt) * (.t - $mt)) | add) + 1e-9));
	"\(peak(.rss_kb; $w; $w + 60)) \(peak(.rss_kb; $tend - 60; $tend)) \($s | slope * 600 / 1024)"
	+ " \(peak(.heap_in_use_kb // 0; $w; $w + 60)) \(peak(.heap_in_use_kb // 0; $tend - 60; $tend))"' "$OUT/soak.json")
TABLE=$(
	echo "| kind | requests | errors | p50 ms | p99 ms | max ms | statuses |"
	echo "|---|---:|---:|---:|---:|---:|---|"
	jq -r '.kinds | to_entries[] | "| \(.key) | \(.value.requests) | \(.value.errors) | \(.value.p50_ms) | \(.value.p99_ms) | \(.value.max_ms) | \(.value.statuses | to_entries | map("\(.key)×\(.value)") | join(" ")) |"' "$OUT/soak.json"
	echo
	ERR=$(jq '[.kinds[].errors] | add' "$OUT/soak.json")
	echo "Errors: $ERR (goal 0: $([ "$ERR" -eq 0 ] && echo met || echo NOT met))." \
		"RSS after ${WARMUP_S} s warm-up $((RSS_W / 1024)) MB → end $((RSS_L / 1024)) MB ($(pct "$RSS_W" "$RSS_L") %, peak $((RSS_MAX / 1024)) MB);" \
		"Peak RSS of the first minute after warm-up $((PEAK_A / 1024)) MB → of the last minute $((PEAK_B / 1024)) MB ($(pct "$PEAK_A" "$PEAK_B") %);" \
		"trend after warm-up $(printf '%+.1f' "$SLOPE") MB per 10 min; heap in use (peaks) $((HEAP_A / 1024)) → $((HEAP_B / 1024)) MB ($(pct "$HEAP_A" "$HEAP_B") %);" \
		"open fds $FDS_W → $FDS_L ($(pct "$FDS_W" "$FDS_L") %) (goal: growth < 5 %)." \
		"Jobs at the end: $JOBS. GLib criticals/warnings in the server log: $CRIT."
	echo
	echo "Samples (s: RSS MB (anonymous + file-backed) / fds / heap in use + free MB / hot cache MB / rendition cache entries): $(jq -r '[.samples[] | "\(.t): \(.rss_kb / 1024 | floor) (\((.anon_kb // 0) / 1024 | floor)+\((.file_kb // 0) / 1024 | floor))/\(.fds)/\((.heap_in_use_kb // 0) / 1024 | floor)+\((.heap_free_kb // 0) / 1024 | floor)/\((.hot_kb // 0) / 1024 | floor)/\(.rcache_entries // 0)"] | join(", ")' "$OUT/soak.json")"
)
echo
echo "$TABLE"
if [ -z "${NO_RESULTS:-}" ]; then
	{
		echo
		echo "## bench/soak — $T_START"
		echo
		echo "Command: \`${UPLOADS:+UPLOADS=$UPLOADS }DURATION_S=$DURATION_S USERS=$USERS bench/soak/run.sh\`"
		echo
		echo "Machine: $(machine_info); dam $(dam_rev). Load average before: $LOAD0; after: $LOAD1."
		echo
		echo "$TABLE"
	} >>"$ROOT/bench/RESULTS.md"
	log "appended to bench/RESULTS.md"
fi
