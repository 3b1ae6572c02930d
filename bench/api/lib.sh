# bench/api/lib.sh - shared helpers for bench/api/*.sh (sourced, not run).
# shellcheck shell=bash

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DAM=${DAM:-$ROOT/build/dam}

log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Another benchmark on this machine (other work trees too) would spoil the
# numbers: wait (poll every 10 s, up to WAIT_MAX s) while a process whose
# command line matches QUIET_PATTERN runs (an extended regex, default
# bench/ingest; a script must not match itself). WAIT_MAX=0 skips the wait.
wait_quiet() {
	local pattern=${QUIET_PATTERN:-bench/ingest} waited=0 max=${WAIT_MAX:-1800}
	while [ "$max" -gt 0 ] && pgrep -f "$pattern" >/dev/null; do
		[ "$waited" -ge "$max" ] && die "another benchmark is still running after ${max}s; not measuring"
		[ "$waited" -eq 0 ] && log "another benchmark is running ($(pgrep -af "$pattern" | head -1 | cut -c1-80)); waiting"
		sleep 10
		waited=$((waited + 10))
	done
}

machine_info() {
	printf '%s cores, %s, %s GiB RAM, Linux %s' "$(nproc)" \
		"$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)" \
		"$(awk '/MemTotal/ {printf "%d", $2 / 1048576 + 0.5}' /proc/meminfo)" "$(uname -r)"
}

dam_rev() {
	local rev
	rev=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
	git -C "$ROOT" diff --quiet HEAD -- src 2>/dev/null || rev="$rev + uncommitted src changes"
	echo "$rev"
}

wait_port() { # PORT: until something accepts on 127.0.0.1:PORT (10 s)
	for _ in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# start_dam LIBRARY PORT LOGFILE: sets DAM_PID (the serve process itself) and
# TOKEN (a fresh admin API token). The first start creates the admin user.
start_dam() {
	local lib=$1 port=$2 logf=$3
	"$DAM" --library "$lib" serve --listen "127.0.0.1:$port" --workers -1 --quiet >"$logf" 2>&1 &
	DAM_PID=$!
	wait_port "$port" || { cat "$logf" >&2; die "dam serve did not start on port $port"; }
	TOKEN=$("$DAM" --library "$lib" token create --user admin 2>/dev/null | sed -n 's/^secret: //p')
	[ -n "$TOKEN" ] || die "no token"
}

stop_pid() { # PID: TERM, wait
	[ -n "${1:-}" ] || return 0
	kill "$1" 2>/dev/null || return 0
	wait "$1" 2>/dev/null || true
}

# rss_sampler PID OUT: "epoch_seconds rss_kB" lines every 0.2 s until PID
# exits or the sampler is killed. Builtins only, apart from sleep.
rss_sampler() {
	local pid=$1 out=$2 k v _
	: >"$out"
	while [ -r "/proc/$pid/status" ]; do
		while read -r k v _; do
			[ "$k" = "VmRSS:" ] && { printf '%s %s\n' "$EPOCHREALTIME" "$v" >>"$out"; break; }
		done <"/proc/$pid/status" 2>/dev/null || break
		sleep 0.2
	done
}

# cpu_ticks PID...: utime+stime of the processes (all threads), in clock ticks.
cpu_ticks() {
	local t=0 p f
	for p in "$@"; do
		f=$(cat "/proc/$p/stat" 2>/dev/null) || continue
		f=${f##*) }
		set -- $f
		t=$((t + ${12} + ${13}))
	done
	echo "$t"
}

# wait_idle: wait_quiet, then until the machine is >= 90% idle over 3 s (other sessions'
# builds and tests share it), up to IDLE_MAX s (default 600); then go anyway
# with a warning. Sets IDLE_PCT to the last reading.
wait_idle() {
	local waited=0 max=${IDLE_MAX:-600} i0 t0 i1 t1
	wait_quiet
	for (( ; ; )); do
		read -r i0 t0 <<<"$(awk '/^cpu / {print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9}' /proc/stat)"
		sleep 3
		read -r i1 t1 <<<"$(awk '/^cpu / {print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9}' /proc/stat)"
		IDLE_PCT=$(( (i1 - i0) * 100 / (t1 - t0 > 0 ? t1 - t0 : 1) ))
		[ "$IDLE_PCT" -ge 90 ] && return 0
		[ "$waited" -ge "$max" ] && { log "warning: machine only ${IDLE_PCT}% idle; measuring anyway"; return 0; }
		[ "$waited" -eq 0 ] && log "machine busy (${IDLE_PCT}% idle); waiting"
		sleep 7
		waited=$((waited + 10))
	done
}
