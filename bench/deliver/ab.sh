#!/usr/bin/env bash
# bench/deliver/ab.sh - two or more dam builds (or settings) side by side on bench/deliver's
# library and URLs, alternating, to see what a change is worth:
#
#   bench/deliver/ab.sh a OLD_DAM NEW_DAM              # part a (cold transforms)
#   bench/deliver/ab.sh b OLD_DAM NEW_DAM              # part b (stored renditions)
#   bench/deliver/ab.sh a 'VIPS_CONCURRENCY=1 NEW_DAM' NEW_DAM    # an environment per contender
#
# Needs a library made by bench/deliver/run.sh (bench/out/deliver). Each contender is
# `[VAR=value ...] BINARY`; every one runs `dam serve` on its own port on that library (each
# from a private copy of its binary). Environment: RUNS (3), DURATION (20s), CONNS (8 for a,
# 64 for b), THREADS (2), IDLE_MAX (30). Prints one line per run and the best of each.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../api/lib.sh"
# wait while another bench script (not bench/deliver) runs, in any work tree
QUIET_PATTERN='bench/(ingest|api|search)/[a-z]+\.sh'

PART=${1:?usage: ab.sh a|b CONTENDER...}
shift
[ $# -ge 1 ] || die "usage: ab.sh a|b CONTENDER..."
OUT=${BENCH_OUT:-$ROOT/bench/out/deliver}
LIB=$OUT/library
RUNS=${RUNS:-3}
DURATION=${DURATION:-20s}
THREADS=${THREADS:-2}
IDLE_MAX=${IDLE_MAX:-30}
export IDLE_MAX
case $PART in
a) PATHS=$OUT/paths-a.txt CONNS=${CONNS:-8} ;;
b) PATHS=$OUT/paths-b.txt CONNS=${CONNS:-64} ;;
*) die "part is a or b" ;;
esac
[ -s "$PATHS" ] && [ -d "$LIB" ] || die "run bench/deliver/run.sh first (no library in $OUT)"

PIDS=() PORTS=() NAMES=()
cleanup() { for p in "${PIDS[@]}"; do stop_pid "$p"; done; }
trap cleanup EXIT
i=0
for c in "$@"; do
	read -r -a words <<<"$c"
	bin=${words[-1]}
	unset 'words[-1]'
	[ -x "$bin" ] || die "$bin is not executable"
	cp "$bin" "$OUT/ab-dam-$i"
	port=$((18270 + i))
	env "${words[@]}" "$OUT/ab-dam-$i" --library "$LIB" serve --listen "127.0.0.1:$port" --workers -1 --quiet \
		>"$OUT/ab-serve-$i.log" 2>&1 &
	PIDS+=($!)
	PORTS+=("$port")
	NAMES+=("$c")
	wait_port "$port" || die "contender $i did not start: $(tail -3 "$OUT/ab-serve-$i.log")"
	i=$((i + 1))
done


HZ=$(getconf CLK_TCK)
declare -A BEST
for run in $(seq "$RUNS"); do
	for k in "${!PIDS[@]}"; do
		wait_idle
		load=$(cut -d' ' -f1 /proc/loadavg)
		f="$OUT/ab-wrk-$k-$run.txt"
		c0=$(cpu_ticks "${PIDS[$k]}")
		wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --timeout 60s --latency -s "$HERE/paths.lua" \
			"http://127.0.0.1:${PORTS[$k]}" -- "$PATHS" "$THREADS" >"$f"
		c1=$(cpu_ticks "${PIDS[$k]}")
		rps=$(awk '/^Requests\/sec:/ {print $2}' "$f")
		p99=$(awk '$1 == "99%" {print $2}' "$f")
		non2xx=$(awk '/Non-2xx/ {print $NF}' "$f")
		secs=${DURATION%s}
		cpu=$(awk -v t=$((c1 - c0)) -v hz="$HZ" -v s="$secs" 'BEGIN { printf "%.2f", t / hz / s }')
		printf 'run %d  %-50s %10s req/s  p99 %-9s cpu %s  idle %s%%  load %s%s\n' "$run" "${NAMES[$k]//$ROOT\//}" "$rps" \
			"$p99" "$cpu" "$IDLE_PCT" "$load" "${non2xx:+  NON-2XX $non2xx}"
		awk -v a="$rps" -v b="${BEST[$k]:-0}" 'BEGIN { exit !(a > b) }' && BEST[$k]=$rps
	done
done
for k in "${!PIDS[@]}"; do
	printf 'best %-50s %10s req/s  peak RSS %s MB\n' "${NAMES[$k]//$ROOT\//}" "${BEST[$k]}" \
		"$(($(awk '/^VmHWM:/ {print $2}' "/proc/${PIDS[$k]}/status") / 1024))"
done
