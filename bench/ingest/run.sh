#!/usr/bin/env bash
# run.sh [N] - bench/ingest: N generated 12-24 MP JPEGs (distinct pixels) + 5 PNGs + 3 videos, on
# this machine's cores. Every contender makes the same outputs as a dam ingest: per image the
# pyramidal master, the 1600 px preview and 320 px thumbnail (WebP) and every distinct channel
# preset dam renders ahead (read from `dam preset list`); per video a poster, a keyframe strip
# and a thumbnail. Three contenders in one run:
#   limit  equal.c (one libvips process per file: hash, master, then every output from the
#          master), xargs -P$PAR
#   im     ImageMagick, one full-decode `convert` per output (ResourceSpace), xargs -P$PAR, on
#          IM_SAMPLE JPEGs + all PNGs/videos; the JPEG time is scaled to all N JPEGs
#   dam    dam init + dam ingest --json SETDIR (default workers), fresh library; reported twice:
#          ingest-to-searchable (every asset's row committed) and ingest-to-all-renditions
# Each contender starts with a dropped page cache (sync; echo 3 > /proc/sys/vm/drop_caches) when
# allowed, else with a warm cache (every input read once first). Prints a markdown table and
# appends it, with the machine and command, to bench/RESULTS.md.
#
# Environment: IM_SAMPLE (default 200; 0 skips ImageMagick), PAR (default nproc), WORKERS (dam
# --workers; default: dam's default), CACHE=cold|warm (default cold if permitted),
# BENCH_DATA (default bench/data), BENCH_OUT (default bench/out/ingest), NO_RESULTS=1 (don't append).
set -euo pipefail

N=${1:-2000}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
DAM=${DAM:-$ROOT/build/dam}
DATA=${BENCH_DATA:-$ROOT/bench/data}
OUT=${BENCH_OUT:-$ROOT/bench/out/ingest}
IM_SAMPLE=${IM_SAMPLE:-200}
PAR=${PAR:-$(nproc)}
CONVERT=/usr/bin/convert # /usr/local/bin/convert may be a stand-in script
TIME=/usr/bin/time
[ -x "$DAM" ] || { echo "run.sh: build dam first (ninja -C build)" >&2; exit 1; }
for t in vipsthumbnail "$CONVERT" ffmpeg sha256sum "$TIME" xargs jq sqlite3 cc; do
	command -v "$t" >/dev/null || { echo "run.sh: $t missing (scripts/deps.sh)" >&2; exit 1; }
done

"$HERE/gen.sh" "$N" "$DATA"

# ---- input set: first N JPEGs + PNGs + videos, hard-linked into one folder
SET="$OUT/set-$N"
rm -rf "$OUT"
mkdir -p "$SET"
# dam spawns its job children from /proc/self/exe: run a private copy, so a rebuild of build/dam
# during the run (others work in this tree) cannot break the spawns
cp "$DAM" "$OUT/dam"
DAM="$OUT/dam"
for i in $(seq 0 $((N - 1))); do
	f=$(printf 'img-%06d.jpg' "$i")
	ln "$DATA/jpeg-px/$f" "$SET/$f" 2>/dev/null || cp "$DATA/jpeg-px/$f" "$SET/$f"
done
for f in "$DATA"/png/*.png "$DATA"/video/*.mp4; do ln "$f" "$SET/" 2>/dev/null || cp "$f" "$SET/"; done
find "$SET" -type f | sort >"$OUT/all.txt"

# ---- the outputs every contender makes: dam's ahead presets, identical specs merged (dam stores
# identical bytes once; the others encode them once)
cc -O2 -Wall -o "$OUT/equal" "$HERE/equal.c" $(pkg-config --cflags --libs vips libcrypto)
"$DAM" init "$OUT/presets-lib" >/dev/null
"$DAM" --library "$OUT/presets-lib" preset list --json | jq -r '
	.[] | select(.ahead) | . as $p
	| ($p.spec | split(",") | map(capture("^(?<key>[a-z]+)_(?<value>.*)$")) | from_entries) as $s
	| select(($s.f // "jpeg") != "auto")
	| "\([($s.w // "0"), ($s.h // "0"), ($s.fit // "contain"), ($s.bg // "-"), ($s.f // "jpeg"), ($s.q // "85")] | join(" "))\t\($p.name)"' |
	sort -t$'\t' -k1,1 | awk -F'\t' '!($1 in seen) { seen[$1] = 1; print $2, $1 }' >"$OUT/specs.txt"
rm -rf "$OUT/presets-lib"
NSPECS=$(wc -l <"$OUT/specs.txt")
echo "outputs per image: master, preview, thumbnail + $NSPECS distinct presets ($(cut -d' ' -f1 "$OUT/specs.txt" | tr '\n' ' '))" >&2
grep '\.jpg$' "$OUT/all.txt" >"$OUT/jpeg.txt"
grep -v '\.jpg$' "$OUT/all.txt" >"$OUT/other.txt"
NFILES=$(wc -l <"$OUT/all.txt")
NJPEG=$(wc -l <"$OUT/jpeg.txt")
bytes_of() { xargs -d '\n' stat -c %s <"$1" | awk '{s+=$1} END{printf "%.0f\n", s}'; }
BYTES=$(bytes_of "$OUT/all.txt")
echo "input: $NFILES files ($NJPEG JPEG), $((BYTES / 1000000)) MB in $SET" >&2

# ---- page cache
CACHE=${CACHE:-}
if [ -z "$CACHE" ]; then
	if sync && (echo 3 >/proc/sys/vm/drop_caches) 2>/dev/null; then CACHE=cold; else CACHE=warm; fi
fi
prepare_cache() {
	sync
	if [ "$CACHE" = cold ]; then
		echo 3 >/proc/sys/vm/drop_caches
	else
		xargs -d '\n' cat <"$OUT/all.txt" >/dev/null
	fi
}

now() { date +%s.%N; }
maxrss_kb() { awk -F': ' '/Maximum resident set size/ {print $2}' "$1"; }

# ---- (a) the limit
run_limit() {
	local o="$OUT/limit-out" t0 t1
	mkdir -p "$o"
	prepare_cache
	echo "limit: equal.c per file, -P$PAR ..." >&2
	t0=$(now)
	EQUAL="$OUT/equal" VIPS_CONCURRENCY=1 $TIME -v -o "$OUT/limit.time" \
		xargs -d '\n' -P "$PAR" -n 1 "$HERE/limit-one.sh" "$o" "$OUT/specs.txt" <"$OUT/all.txt" || echo "limit: some files failed" >&2
	t1=$(now)
	LIMIT_S=$(echo "$t1 - $t0" | bc -l)
	LIMIT_RSS=$(maxrss_kb "$OUT/limit.time")
	LIMIT_OUTPUTS=$(find "$o" -type f ! -name '*.png' | wc -l)
}

# ---- (b) ImageMagick (ResourceSpace)
run_im() {
	local o="$OUT/im-out" t0 t1 s a b
	mkdir -p "$o"
	s=$IM_SAMPLE
	[ "$s" -gt "$NJPEG" ] && s=$NJPEG
	# every (NJPEG/s)-th JPEG, so the sample covers all base sizes evenly
	awk -v n="$NJPEG" -v s="$s" 'BEGIN{srand(1)} {if (int((NR-1)*s/n) != int(NR*s/n)) print}' "$OUT/jpeg.txt" >"$OUT/im-sample.txt"
	IM_S=$(wc -l <"$OUT/im-sample.txt")
	prepare_cache
	echo "imagemagick: $IM_S sampled JPEGs + $((NFILES - NJPEG)) PNG/video, -P$PAR ..." >&2
	t0=$(now)
	MAGICK_THREAD_LIMIT=1 $TIME -v -o "$OUT/im-a.time" \
		xargs -d '\n' -P "$PAR" -n 1 "$HERE/im-one.sh" "$o" "$OUT/specs.txt" <"$OUT/im-sample.txt" 2>"$OUT/im-a.err" || echo "im: some JPEGs failed (see $OUT/im-a.err)" >&2
	t1=$(now)
	a=$(echo "$t1 - $t0" | bc -l)
	t0=$(now)
	MAGICK_THREAD_LIMIT=1 $TIME -v -o "$OUT/im-b.time" \
		xargs -d '\n' -P "$PAR" -n 1 "$HERE/im-one.sh" "$o" "$OUT/specs.txt" <"$OUT/other.txt" 2>"$OUT/im-b.err" || echo "im: some PNG/videos failed (see $OUT/im-b.err)" >&2
	t1=$(now)
	b=$(echo "$t1 - $t0" | bc -l)
	IM_JPEG_S=$a
	IM_OTHER_S=$b
	IM_S_EST=$(echo "$a * $NJPEG / $IM_S + $b" | bc -l)
	IM_RSS=$(( $(maxrss_kb "$OUT/im-a.time") > $(maxrss_kb "$OUT/im-b.time") ? $(maxrss_kb "$OUT/im-a.time") : $(maxrss_kb "$OUT/im-b.time") ))
	IM_OUTPUTS=$(find "$o" -type f ! -name '*.png' | wc -l)
	IM_POLICY=$(grep -ho 'cache resources exhausted\|width or height exceeds limit\|not authorized[^`]*\|resource limit[^`]*' "$OUT"/im-?.err | sort | uniq -c | tr '\n' ';' || true)
}

# Samples VmHWM (peak RSS, monotonic) of the ingest process and of every child it spawns.
# The ingest process's last sample is its peak; a child's last sample is its peak up to at most
# one interval before it exits.
rss_sampler() {
	local tpid=$1 outf=$2 dpid="" k v u c hwm=0 cmax=0 nchild=0
	declare -A seen=()
	while kill -0 "$tpid" 2>/dev/null; do
		# (the children files end without a newline, so read "fails" after reading)
		[ -n "$dpid" ] || { read -r dpid _ <"/proc/$tpid/task/$tpid/children" 2>/dev/null || true; }
		if [ -n "$dpid" ]; then
			while read -r k v u; do [ "$k" = VmHWM: ] && hwm=$v && break; done <"/proc/$dpid/status" 2>/dev/null || true
			for t in /proc/"$dpid"/task/*/children; do
				kids=()
				read -r -a kids <"$t" 2>/dev/null || true
				for c in "${kids[@]}"; do
					[ -n "${seen[$c]:-}" ] || { seen[$c]=1; nchild=$((nchild + 1)); }
					while read -r k v u; do
						[ "$k" = VmHWM: ] && { [ "$v" -gt "$cmax" ] && cmax=$v; break; }
					done <"/proc/$c/status" 2>/dev/null || true
				done
			done
		fi
		sleep 0.05
	done
	echo "$hwm $cmax $nchild" >"$outf"
}

# Writes the seconds from T0 until the library holds N assets (rows committed, so name, tag and
# field search find them) to OUTF, polling every 100 ms while PID lives.
searchable_poller() {
	local lib=$1 n=$2 t0=$3 pid=$4 outf=$5 c
	while kill -0 "$pid" 2>/dev/null; do
		c=$(sqlite3 -readonly "$lib/dam.db" "SELECT count(*) FROM assets" 2>/dev/null || echo 0)
		if [ "${c:-0}" -ge "$n" ]; then echo "$(now) - $t0" | bc -l >"$outf"; return; fi
		sleep 0.1
	done
	echo "$(now) - $t0" | bc -l >"$outf"
}

# ---- dam
run_dam() {
	local lib="$OUT/library" t0 t1 tpid
	rm -rf "$lib"
	"$DAM" init "$lib" >/dev/null
	prepare_cache
	echo "dam: ingest${WORKERS:+ --workers $WORKERS} ..." >&2
	t0=$(now)
	$TIME -v -o "$OUT/dam.time" "$DAM" --library "$lib" ingest --json ${WORKERS:+--workers "$WORKERS"} "$SET" \
		>"$OUT/dam.json" 2>"$OUT/dam.err" &
	tpid=$!
	rss_sampler "$tpid" "$OUT/dam.rss" &
	local spid=$!
	searchable_poller "$lib" "$NFILES" "$t0" "$tpid" "$OUT/dam.searchable" &
	local qpid=$!
	wait "$tpid" || echo "dam: ingest exited $? (see $OUT/dam.err)" >&2
	t1=$(now)
	wait "$spid" "$qpid" || true
	DAM_S=$(echo "$t1 - $t0" | bc -l)
	DAM_SEARCHABLE_S=$(cat "$OUT/dam.searchable")
	DAM_TREE_RSS=$(maxrss_kb "$OUT/dam.time")
	read -r DAM_OWN_RSS DAM_CHILD_RSS DAM_NCHILD <"$OUT/dam.rss"
	"$DAM" --library "$lib" jobs --json --limit 100000 >"$OUT/dam-jobs.json" 2>/dev/null ||
		"$DAM" --library "$lib" jobs --json >"$OUT/dam-jobs.json"
	DAM_JOBS=$(python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["counts"]; print(" ".join(f"{k}={v}" for k,v in c.items()))' "$OUT/dam-jobs.json")
	DAM_SUMMARY=$(python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["summary"]; print(" ".join(f"{k}={v}" for k,v in s.items()))' "$OUT/dam.json")
	DAM_RENDITIONS=$(sqlite3 "$lib/dam.db" "SELECT group_concat(name || '=' || n, ' ') FROM (SELECT name, count(*) n FROM renditions GROUP BY name ORDER BY name)")
	DAM_OUTPUTS=$(sqlite3 "$lib/dam.db" "SELECT count(DISTINCT blob_hash) FROM renditions")
}

T_START=$(date -u +%Y-%m-%dT%H:%M:%SZ)
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
run_limit
if [ "$IM_SAMPLE" -gt 0 ]; then run_im; fi
run_dam
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- report
fmt() { printf '%.*f' "$1" "$2"; }
rate() { echo "$1 / $2" | bc -l; }
mb() { echo "$1 * 1024 / 1000000" | bc -l; } # GNU time / VmHWM kB (KiB) -> MB
LIMIT_FPS=$(rate "$NFILES" "$LIMIT_S")
DAM_FPS=$(rate "$NFILES" "$DAM_S")
DAM_SEARCHABLE_FPS=$(rate "$NFILES" "$DAM_SEARCHABLE_S")
R_LIMIT=$(echo "$DAM_FPS / $LIMIT_FPS" | bc -l)
verdict() { if [ "$(echo "$1 >= $2" | bc -l)" = 1 ]; then echo "met"; else echo "NOT met"; fi; }

if [ "$IM_SAMPLE" -gt 0 ]; then
	IM_FPS=$(rate "$NFILES" "$IM_S_EST")
	R_IM=$(echo "$DAM_FPS / $IM_FPS" | bc -l)
fi
GOALS="Goals: dam ≥ 0.8× limit: $(verdict "$R_LIMIT" 0.8) ($(fmt 2 "$R_LIMIT")×)"
[ "$IM_SAMPLE" -gt 0 ] && GOALS+=" · dam ≥ 3× ImageMagick: $(verdict "$R_IM" 3) ($(fmt 2 "$R_IM")×)"
GOALS+=" · ingest process peak RSS < 300 MB: $(verdict "300" "$(mb "$DAM_OWN_RSS")") ($(fmt 0 "$(mb "$DAM_OWN_RSS")") MB)"
DONE="Completeness (outputs per image: master, preview, thumbnail + $NSPECS distinct presets; per video: poster, keyframes, thumbnail): limit wrote $LIMIT_OUTPUTS files for $NFILES inputs; "
[ "$IM_SAMPLE" -gt 0 ] && DONE+="ImageMagick wrote $IM_OUTPUTS for $((IM_S + NFILES - NJPEG)) inputs${IM_POLICY:+ (errors: $IM_POLICY)}; "
DONE+="dam stored $DAM_OUTPUTS distinct rendition blobs; ingest summary: $DAM_SUMMARY; jobs: $DAM_JOBS; renditions: $DAM_RENDITIONS; $DAM_NCHILD job processes seen by the sampler."
TABLE=$(
	echo "| contender | files | wall s | files/s | MB/s | dam speed-up | peak RSS |"
	echo "|---|---:|---:|---:|---:|---:|---|"
	echo "| limit: equal.c (libvips: hash, master, all outputs from the master), xargs -P$PAR | $NFILES | $(fmt 1 "$LIMIT_S") | $(fmt 2 "$LIMIT_FPS") | $(fmt 1 "$(rate "$BYTES/1000000" "$LIMIT_S")") | dam = $(fmt 2 "$R_LIMIT")× limit | $(fmt 0 "$(mb "$LIMIT_RSS")") MB (largest single process) |"
	if [ "$IM_SAMPLE" -gt 0 ]; then
		est=""
		[ "$IM_S" -lt "$NJPEG" ] && est=" (est.: $IM_S of $NJPEG JPEGs run in $(fmt 1 "$IM_JPEG_S") s, scaled; PNG/video $(fmt 1 "$IM_OTHER_S") s)"
		echo "| ImageMagick: one full-decode convert per output (ResourceSpace), xargs -P$PAR | $NFILES | $(fmt 1 "$IM_S_EST")$est | $(fmt 2 "$IM_FPS") | $(fmt 1 "$(rate "$BYTES/1000000" "$IM_S_EST")") | dam = $(fmt 2 "$R_IM")× IM | $(fmt 0 "$(mb "$IM_RSS")") MB (largest single process) |"
	fi
	echo "| dam ingest to searchable (every asset's row committed) | $NFILES | $(fmt 1 "$DAM_SEARCHABLE_S") | $(fmt 2 "$DAM_SEARCHABLE_FPS") | $(fmt 1 "$(rate "$BYTES/1000000" "$DAM_SEARCHABLE_S")") | | |"
	echo "| **dam ingest to all renditions** (${WORKERS:-default} workers) | $NFILES | $(fmt 1 "$DAM_S") | $(fmt 2 "$DAM_FPS") | $(fmt 1 "$(rate "$BYTES/1000000" "$DAM_S")") | | ingest process $(fmt 0 "$(mb "$DAM_OWN_RSS")") MB; largest job child $(fmt 0 "$(mb "$DAM_CHILD_RSS")") MB (sampled); tree max $(fmt 0 "$(mb "$DAM_TREE_RSS")") MB (GNU time) |"
	echo
	echo "$GOALS"
	echo
	echo "$DONE"
)
echo
echo "$TABLE"

if [ -z "${NO_RESULTS:-}" ]; then
	R="$ROOT/bench/RESULTS.md"
	[ -f "$R" ] || printf '# Benchmark results\n\nAppended by the bench scripts (see bench/README.md); newest last.\n' >"$R"
	{
		echo
		echo "## bench/ingest, N=$N — $T_START"
		echo
		echo "Command: \`${IM_SAMPLE:+IM_SAMPLE=$IM_SAMPLE }${WORKERS:+WORKERS=$WORKERS }bench/ingest/run.sh $N\`"
		echo
		echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/{print $2}') GiB RAM, $(uname -sr);" \
			"$(vips --version); $($CONVERT --version | head -1 | sed 's/ https.*//'); dam $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet -- src || echo ' + uncommitted src changes')." \
			"Load average before: $LOAD0; after: $LOAD1."
		echo
		echo "Input: $NFILES files, $(fmt 0 "$(echo "$BYTES/1000000" | bc -l)") MB: $NJPEG JPEGs 12–24 MP (20 bases, each file with its own colour gain and offset: distinct pixels), 5 RGBA PNGs 3000×2000, 3 H.264 1080p 5 s videos." \
			"Page cache: $CACHE before each contender. -P$PAR with VIPS_CONCURRENCY=1 / MAGICK_THREAD_LIMIT=1 (one thread per process, like dam's job children)."
		echo
		echo "$TABLE"
	} >>"$R"
	echo "appended to $R" >&2
fi
