#!/usr/bin/env bash
# bench/api/upload.sh - a 1 GiB resumable (tus) upload through `dam serve`,
# side by side with dd writing the same bytes to the same filesystem.
#
#   bench/api/upload.sh                    # 8 MiB chunks, 2 runs
#   CHUNK_MB=16 RUNS=1 bench/api/upload.sh # dam's maximum chunk
# The chunk size is the client's choice (tus has no default; tus-js-client
# sends the whole file unless told). 8 MiB is the default here because it is
# what dam serves fastest (bench/RESULTS.md): h2o's receive buffer for it
# (12 MiB) and the copy handed to the pool stay in reused heap memory.
#
# Each run: a fresh library and server (--workers -1: no job workers), then
#   1. dd if=1g.bin of=bench/out/api/upload/dd.bin bs=16M conv=fsync  (the limit)
#   2. dd ... bs=16M oflag=dsync  (a sync per 16 MiB write, as dam's per-chunk
#      fdatasync; a diagnostic, not a goal)
#   3. node bench/api/tus-upload.mjs: POST + one PATCH per chunk, timed from
#      the POST to the final PATCH's response, while the server's VmRSS is
#      sampled every 0.2 s (from 1 s before the POST).
# The input is read warm (from the page cache) by every contender; each one
# starts after a sync, so no dirty pages carry over.
# Goals (issue 3): dam >= 0.7x dd conv=fsync; server RSS growth < 64 MB.
# Machine load (uptime) is recorded with each run: other work on the same
# 2 cores moves both figures.
# Writes bench/out/api/upload.md (a RESULTS.md fragment) and prints it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

CHUNK_MB=${CHUNK_MB:-8}
RUNS=${RUNS:-2}
PORT=${PORT:-18231}
SIZE=1073741824
DATA=$ROOT/bench/data/1g.bin
OUT=$ROOT/bench/out/api/upload
CHUNK=$((CHUNK_MB * 1048576))

[ -x "$DAM" ] || die "build dam first: ninja -C build"
command -v node >/dev/null || die "node is needed"
command -v jq >/dev/null || die "jq is needed"
mkdir -p "$OUT" "$ROOT/bench/data"

if [ ! -f "$DATA" ] || [ "$(stat -c %s "$DATA")" -ne "$SIZE" ]; then
	log "generating $DATA (1 GiB from /dev/urandom)"
	head -c "$SIZE" /dev/urandom >"$DATA.tmp"
	mv "$DATA.tmp" "$DATA"
	rm -f "$DATA.sha256"
fi
[ -s "$DATA.sha256" ] || sha256sum "$DATA" | cut -d' ' -f1 >"$DATA.sha256"
WANT_HASH=$(cat "$DATA.sha256")

cc -O2 -o "$OUT/sha256-speed" "$ROOT/bench/api/sha256-speed.c" -lsodium

wait_quiet

secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
mbps() { awk -v s="$1" -v n="$SIZE" 'BEGIN { printf "%.0f", n / 1e6 / s }'; }

dd_run() { # FLAGS... -> seconds
	rm -f "$OUT/dd.bin"
	sync
	local t0=$EPOCHREALTIME
	dd if="$DATA" of="$OUT/dd.bin" bs=16M "$@" status=none
	local t1=$EPOCHREALTIME
	rm -f "$OUT/dd.bin"
	sync
	secs "$t0" "$t1"
}

# Diagnostics, measured once: hashing cost. dam hashes every chunk with
# OpenSSL's SHA-256 (SHA-NI) inside the PATCH, as `openssl dgst` does;
# before, it used libsodium's portable SHA-256 (sha256-speed.c).
cat "$DATA" >/dev/null
read -r SODIUM_S _ SODIUM_HASH < <("$OUT/sha256-speed" "$DATA" "$CHUNK")
[ "$SODIUM_HASH" = "$WANT_HASH" ] || die "sha256-speed digest mismatch"
t0=$EPOCHREALTIME
sha256sum "$DATA" >/dev/null
SHASUM_S=$(secs "$t0" "$EPOCHREALTIME")
t0=$EPOCHREALTIME
openssl dgst -sha256 "$DATA" >/dev/null
OPENSSL_S=$(secs "$t0" "$EPOCHREALTIME")

rows=""
best_dd=999999 best_dsync=999999 best_dam=999999 worst_growth=0
for run in $(seq "$RUNS"); do
	lib=$OUT/library
	rm -rf "$lib"
	"$DAM" init "$lib" >/dev/null
	start_dam "$lib" "$PORT" "$OUT/serve.log"
	cat "$DATA" >/dev/null

	wait_idle
	IDLE_DD=$IDLE_PCT
	log "run $run: dd conv=fsync"
	DD_S=$(dd_run conv=fsync)
	log "run $run: dd oflag=dsync"
	DSYNC_S=$(dd_run oflag=dsync)

	sync
	wait_idle
	IDLE_TUS=$IDLE_PCT
	LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
	log "run $run: tus upload, ${CHUNK_MB} MiB chunks"
	rss_sampler "$DAM_PID" "$OUT/rss-$run.txt" &
	SAMPLER=$!
	sleep 1.2
	c0=$(cpu_ticks "$DAM_PID")
	T_START=$EPOCHREALTIME
	/usr/bin/time -f '%e %U %S %M' -o "$OUT/node-$run.time" \
		node "$ROOT/bench/api/tus-upload.mjs" "http://127.0.0.1:$PORT" "$TOKEN" "$DATA" "$CHUNK" >"$OUT/tus-$run.json"
	T_END=$EPOCHREALTIME
	c1=$(cpu_ticks "$DAM_PID")
	sleep 1
	kill "$SAMPLER" 2>/dev/null || true
	wait "$SAMPLER" 2>/dev/null || true
	HWM=$(awk '/VmHWM/ {print $2}' "/proc/$DAM_PID/status")

	TUS_S=$(jq -r '.seconds' "$OUT/tus-$run.json")
	STATUS=$(jq -r '.upload_status' "$OUT/tus-$run.json")
	ASSET=$(jq -r '.asset_id' "$OUT/tus-$run.json")
	read -r P_MIN P_MED P_MAX < <(jq -r '.patch_seconds | "\(.min) \(.median) \(.max)"' "$OUT/tus-$run.json")
	READ_S=$(jq -r '.read_seconds' "$OUT/tus-$run.json")
	read -r _ NODE_U NODE_S NODE_MAX < <(cat "$OUT/node-$run.time")
	SERVER_CPU=$(awk -v t=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }')

	# RSS: baseline = largest sample before the POST; peak = largest sample
	# from the POST until 1 s after the last PATCH returned.
	read -r BASE PEAK < <(awk -v s="$T_START" '
		$1 < s { if ($2 > b) b = $2; next } { if ($2 > p) p = $2 }
		END { print b + 0, p + 0 }' "$OUT/rss-$run.txt")
	GROWTH=$((PEAK - BASE))
	[ "$GROWTH" -gt "$worst_growth" ] && worst_growth=$GROWTH
	NSAMPLES=$(wc -l <"$OUT/rss-$run.txt")

	# Verify: the final PATCH said "added", and the asset's current version
	# has the full size and the file's SHA-256.
	curl -fsS -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/v1/assets/$ASSET" >"$OUT/asset-$run.json"
	GOT_SIZE=$(jq -r '.current_version_id as $c | .versions[] | select(.id == $c) | .size' "$OUT/asset-$run.json")
	GOT_HASH=$(jq -r '.current_version_id as $c | .versions[] | select(.id == $c) | .hash' "$OUT/asset-$run.json")
	[ "$STATUS" = added ] || die "final PATCH: Dam-Upload-Status: $STATUS"
	[ "$GOT_SIZE" = "$SIZE" ] || die "asset $ASSET has size $GOT_SIZE"
	[ "$GOT_HASH" = "$WANT_HASH" ] || die "asset $ASSET has hash $GOT_HASH"
	stop_pid "$DAM_PID"
	[ -n "${KEEP:-}" ] || rm -rf "$lib"

	log "run $run: dd ${DD_S}s, dd dsync ${DSYNC_S}s, tus ${TUS_S}s, RSS +$((GROWTH / 1024)) MB"
	rows+="| $run | $(mbps "$DD_S") ($DD_S s) | $(mbps "$DSYNC_S") ($DSYNC_S s) | $(mbps "$TUS_S") ($(printf %.3f "$TUS_S") s) | $(awk -v a="$DD_S" -v b="$TUS_S" 'BEGIN { printf "%.2f", a / b }')× | $(printf '%.0f / %.0f / %.0f' "$(awk -v x="$P_MIN" 'BEGIN{print x*1000}')" "$(awk -v x="$P_MED" 'BEGIN{print x*1000}')" "$(awk -v x="$P_MAX" 'BEGIN{print x*1000}')") | $SERVER_CPU | $NODE_U + $NODE_S | $((BASE / 1024)) → $((PEAK / 1024)) MB (+$((GROWTH / 1024)) MB; $NSAMPLES samples), VmHWM $((HWM / 1024)) MB | $IDLE_DD / $IDLE_TUS | $LOAD |"$'\n'
	best_dd=$(awk -v a="$best_dd" -v b="$DD_S" 'BEGIN { print (b < a ? b : a) }')
	best_dsync=$(awk -v a="$best_dsync" -v b="$DSYNC_S" 'BEGIN { print (b < a ? b : a) }')
	best_dam=$(awk -v a="$best_dam" -v b="$TUS_S" 'BEGIN { print (b < a ? b : a) }')
done

RATIO=$(awk -v a="$best_dd" -v b="$best_dam" 'BEGIN { printf "%.2f", a / b }')
GOAL1=$(awk -v r="$RATIO" 'BEGIN { print (r >= 0.7 ? "met" : "NOT met") }')
GOAL2=$([ "$worst_growth" -lt $((64 * 1024)) ] && echo met || echo "NOT met")

{
	echo "### Upload: 1 GiB through tus, ${CHUNK_MB} MiB chunks"
	echo
	echo "Command: \`CHUNK_MB=$CHUNK_MB RUNS=$RUNS bench/api/upload.sh\` — $(date -u +%FT%TZ)"
	echo
	echo "Machine: $(machine_info); filesystem of bench/out: $(df -PT "$OUT" | awk 'NR == 2 {print $2 " on " $1}'); dam $(dam_rev); node $(node --version)."
	echo
	echo "| run | dd bs=16M conv=fsync MB/s (the limit) | dd bs=16M oflag=dsync MB/s (sync per 16 MiB) | **dam tus** MB/s | dam / dd | PATCH ms min / median / max | server CPU s during upload | node CPU s (user + sys) | server VmRSS before → peak | machine idle % before dd / tus | load avg (1/5/15 min) before tus |"
	echo "|---:|---:|---:|---:|---:|---|---:|---:|---|---|---|"
	printf '%s' "$rows"
	echo
	echo "Best of $RUNS: dd conv=fsync $(mbps "$best_dd") MB/s, dd oflag=dsync $(mbps "$best_dsync") MB/s, dam $(mbps "$best_dam") MB/s → **dam = ${RATIO}× dd**."
	echo
	echo "Goals: dam ≥ 0.7× dd: **$GOAL1** (${RATIO}×) · server RSS growth < 64 MB: **$GOAL2** (largest growth $((worst_growth / 1024)) MB)"
	echo
	echo "Hashing, same file warm: OpenSSL SHA-256 (what each PATCH runs; \`openssl dgst -sha256\`, including its reads) $(mbps "$OPENSSL_S") MB/s ($OPENSSL_S s per GiB); libsodium crypto_hash_sha256 (what dam ran before), ${CHUNK_MB} MiB reads, $(mbps "$SODIUM_S") MB/s ($SODIUM_S s); coreutils sha256sum $(mbps "$SHASUM_S") MB/s ($SHASUM_S s, including its reads)."
	echo
	echo "Checks: every run's final PATCH returned Dam-Upload-Status: added; GET /api/v1/assets/{id} shows the current version with size $SIZE and SHA-256 = sha256sum of the input. MB = 10⁶ B."
} | tee "$OUT/../upload.md"
