#!/usr/bin/env bash
# The dam server's own CPU per search, and its memory, on one library:
# starts `dam serve` with BIN on LIB, times the first search (start + the
# facet cache load), then N requests of each of a few queries, reading the
# server's utime+stime from /proc (less moved by a busy machine than wall
# time). Needs the `bench` user that run.sh makes.
#
#   [N=30] bench/search/cpu.sh BIN LIB PORT
#   e.g. bench/search/cpu.sh /tmp/dam-sbench/dam /tmp/dam-sbench/libpg 18395
set -eu
BIN=$1 LIB=$2 PORT=$3 N=${N:-30}
TOKEN=$($BIN --library "$LIB" token create --user bench | sed -n 's/^secret: //p')
$BIN --library "$LIB" serve --listen 127.0.0.1:$PORT --workers -1 --quiet >/dev/null 2>&1 &
PID=$!
trap 'kill $PID; wait $PID 2>/dev/null' EXIT
for _ in $(seq 300); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done
cpu() { awk '{print $14 + $15}' /proc/$PID/stat; } # clock ticks (10 ms)
q() { curl -sf -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/v1/search?q=$1&$2" >/dev/null; }
c0=$(cpu); q '' 'facets=true'; c1=$(cpu)
echo "start + first search (facet cache load): cpu_ms=$(( (c1 - c0) * 10 )) $(grep VmRSS /proc/$PID/status | tr -s ' \t' ' ')"
for spec in "|facets=true" "sneaker|facets=false" "tag:blue|sort=size" "%28sneaker%20OR%20boot*%29%20-category:footwear|"; do
	qq=${spec%%|*} p=${spec#*|}
	q "$qq" "$p"; q "$qq" "$p"
	c0=$(cpu); for _ in $(seq "$N"); do q "$qq" "$p"; done; c1=$(cpu)
	echo "q=$qq $p: cpu_ms_per_request=$(echo "scale=1; ($c1 - $c0) * 10 / $N" | bc)"
done
echo "at end: $(grep -E 'VmRSS|VmHWM' /proc/$PID/status | tr -s ' \t\n' ' ')"
