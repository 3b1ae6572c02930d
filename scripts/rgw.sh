#!/usr/bin/env bash
# A throwaway Ceph cluster with the RADOS Gateway, for the S3 tests.
#
#   scripts/rgw.sh start DIR   one monitor, one memstore OSD (data in RAM), no
#                              mgr, radosgw (beast) on 127.0.0.1:PORT; writes
#                              DIR/s3.env (mode 0600) with S3_ENDPOINT,
#                              S3_REGION, S3_BUCKET (already created),
#                              S3_KEY_ID and S3_SECRET, and prints nothing of
#                              the secret. Ready in seconds.
#   scripts/rgw.sh stop DIR    kills every daemon start left running under DIR
#                              and removes the cluster's data (logs stay in
#                              DIR/log); safe to run twice or on a stale DIR.
#
# Everything lives under DIR with its own ceph.conf (CEPH_CONF is exported,
# so no tool reads /etc/ceph). PORT comes from the environment (RGW_PORT) or
# is picked free. The ceph CLI is slow Python: it runs once (`ceph osd new`);
# readiness is polled on the HTTP port. Needs the packages scripts/deps.sh
# lists under "S3 tests".
set -euo pipefail

usage() { echo "usage: $0 start|stop DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
cmd=$1
# stop on a folder that is not there has nothing to do.
[ "$cmd" = stop ] && [ ! -d "$2" ] && exit 0
mkdir -p "$2"
DIR=$(cd "$2" && pwd)
export CEPH_CONF="$DIR/ceph.conf"
BUCKET=${S3_BUCKET:-dam-test}
REGION=${S3_REGION:-us-east-1}

die() { echo "rgw.sh: $*" >&2; exit 1; }

# A port nobody listens on (bash's /dev/tcp connect fails). A race with
# another process taking it in between is possible but harmless: the daemon
# then fails to bind and start reports it.
free_port() {
	local p
	for _ in $(seq 1 50); do
		p=$((20000 + RANDOM % 20000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return
		fi
	done
	die "no free port found"
}

# Our daemons run in the foreground of a background job, so the pid recorded
# is the daemon's own. A pid is killed only while its command line still
# names this DIR's ceph.conf: a stale pid file never hits a reused pid.
ours() { tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF -- "$CEPH_CONF"; }
# (A killed daemon's zombie has an empty command line: no longer ours.)
alive() { [ -e "/proc/$1" ] && ours "$1"; }

stop() {
	local f pid pids=()
	for f in "$DIR"/run/*.pid; do
		[ -e "$f" ] || continue
		pid=$(cat "$f")
		if [[ $pid =~ ^[0-9]+$ ]] && alive "$pid"; then
			# The data is thrown away, so there is nothing to flush:
			# SIGKILL also spares memstore dumping its RAM to disk.
			kill -KILL "$pid" 2>/dev/null || true
			pids+=("$pid")
		fi
		rm -f "$f"
	done
	for pid in "${pids[@]}"; do
		for _ in $(seq 1 50); do
			alive "$pid" || break
			sleep 0.1
		done
		! alive "$pid" || die "process $pid did not stop"
	done
	rm -rf "$DIR/mon" "$DIR/osd" "$DIR/run" "$DIR/keyring" "$DIR/monmap" "$DIR/s3.env" \
		"$DIR/ceph.conf"
}

write_conf() {
	local fsid=$1 monport=$2 port=$3
	cat >"$CEPH_CONF" <<EOF
[global]
fsid = $fsid
mon host = [v2:127.0.0.1:$monport]
ms bind msgr1 = false
ms bind msgr2 = true
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
keyring = $DIR/keyring
run dir = $DIR/run
admin socket = $DIR/run/\$name.asok
log file = $DIR/log/\$name.log
mon data = $DIR/mon
osd data = $DIR/osd
# One OSD holding everything, in RAM.
osd objectstore = memstore
memstore device bytes = 2147483648
mon allow pool size one = true
osd pool default size = 1
osd pool default min size = 1
# radosgw creates 7+ pools: keep each small and allow them all on one OSD.
osd pool default pg num = 8
osd pool default pgp num = 8
mon max pg per osd = 1000
osd crush chooseleaf type = 0
# Pool creation waits for paxos rounds: make them fast.
paxos propose interval = 0.1
mon warn on pool no redundancy = false
mon data avail warn = 2
mon data avail crit = 1

[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:$port
# Virtual-host-style requests (BUCKET.localhost:PORT) name the bucket in Host.
rgw dns name = localhost
rgw thread pool size = 32
EOF
}

# cephx keys for every daemon and the admin client, one keyring; the
# monitor's mkfs imports them all, so no `ceph auth add` is needed.
make_keys() {
	local k="$DIR/keyring"
	ceph-authtool --create-keyring "$k" --gen-key -n mon. --cap mon 'allow *' >/dev/null
	ceph-authtool "$k" --gen-key -n client.admin --cap mon 'allow *' --cap osd 'allow *' \
		--cap mgr 'allow *' >/dev/null
	ceph-authtool "$k" --gen-key -n osd.0 --cap mon 'allow profile osd' \
		--cap osd 'allow *' >/dev/null
	ceph-authtool "$k" --gen-key -n client.rgw --cap mon 'allow rw' --cap osd 'allow rwx' \
		>/dev/null
}

# Runs a daemon in the foreground of a background job; its output goes to
# DIR/log/NAME.out and its pid to DIR/run/NAME.pid.
spawn() {
	local name=$1
	shift
	"$@" -f -c "$CEPH_CONF" >"$DIR/log/$name.out" 2>&1 </dev/null &
	echo $! >"$DIR/run/$name.pid"
}

# Waits up to $3 seconds for a TCP port to accept connections.
wait_port() {
	local what=$1 port=$2 secs=$3
	for _ in $(seq 1 $((secs * 10))); do
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
		sleep 0.1
	done
	echo "rgw.sh: $what did not listen on port $port within ${secs}s; log tail:" >&2
	tail -n 20 "$DIR/log/"*.out "$DIR/log/"*.log >&2 2>/dev/null || true
	return 1
}

# The S3 user: radosgw-admin generates the key pair and prints it as JSON,
# which goes only into a private file (never a command line, never stdout).
make_user() {
	local json="$DIR/run/user.json"
	(umask 077 && radosgw-admin -n client.admin user create --uid=dam --display-name=dam \
		>"$json" 2>"$DIR/log/radosgw-admin.out") || die "radosgw-admin user create failed"
	(
		umask 077
		{
			echo "S3_ENDPOINT=http://127.0.0.1:$1"
			echo "S3_REGION=$REGION"
			echo "S3_BUCKET=$BUCKET"
			jq -r '"S3_KEY_ID=" + .keys[0].access_key, "S3_SECRET=" + .keys[0].secret_key' "$json"
		} >"$DIR/s3.env"
	)
	rm -f "$json"
	chmod 600 "$DIR/s3.env"
}

# Creates the bucket with curl's own SigV4; the credentials reach curl on
# stdin (-K -), so they never show in a process listing.
make_bucket() {
	local port=$1 code
	# shellcheck disable=SC1091
	code=$(. "$DIR/s3.env" && printf 'user = "%s:%s"\n' "$S3_KEY_ID" "$S3_SECRET" |
		curl -s -o "$DIR/log/bucket.out" -w '%{http_code}' -K - -X PUT \
			--aws-sigv4 "aws:amz:$REGION:s3" \
			-H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" \
			"http://127.0.0.1:$port/$BUCKET")
	[ "$code" = 200 ] || die "creating bucket $BUCKET: HTTP $code ($(cat "$DIR/log/bucket.out"))"
}

start() {
	local fsid monport port t0=$SECONDS
	stop # a stale DIR: daemons of an earlier run die, their data goes
	mkdir -p "$DIR/run" "$DIR/log" "$DIR/mon" "$DIR/osd"
	chmod 700 "$DIR" "$DIR/run"
	rm -f "$DIR"/log/*
	fsid=$(cat /proc/sys/kernel/random/uuid)
	monport=$(free_port)
	port=${RGW_PORT:-$(free_port)}
	(umask 077 && write_conf "$fsid" "$monport" "$port")
	(umask 077 && make_keys)

	monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$monport]" "$DIR/monmap" >/dev/null
	ceph-mon --mkfs -i a --monmap "$DIR/monmap" --keyring "$DIR/keyring" -c "$CEPH_CONF" \
		>"$DIR/log/mkfs.out" 2>&1 || die "ceph-mon --mkfs failed: $(cat "$DIR/log/mkfs.out")"
	spawn mon.a ceph-mon -i a
	wait_port ceph-mon "$monport" 20 || { stop; exit 1; }

	local osd_uuid
	osd_uuid=$(cat /proc/sys/kernel/random/uuid)
	ceph --connect-timeout 20 osd new "$osd_uuid" 0 >/dev/null 2>"$DIR/log/osd-new.out" ||
		{ stop; die "ceph osd new failed: $(cat "$DIR/log/osd-new.out")"; }
	ceph-osd -i 0 --mkfs --osd-uuid "$osd_uuid" -c "$CEPH_CONF" >"$DIR/log/osd-mkfs.out" 2>&1 ||
		{ stop; die "ceph-osd --mkfs failed: $(tail -5 "$DIR/log/osd-mkfs.out")"; }
	spawn osd.0 ceph-osd -i 0
	spawn client.rgw radosgw -n client.rgw
	make_user "$port" || { stop; exit 1; }
	wait_port radosgw "$port" 60 || { stop; exit 1; }
	make_bucket "$port" || { stop; exit 1; }
	echo "rgw.sh: RADOS Gateway on http://127.0.0.1:$port ready in $((SECONDS - t0))s; credentials in $DIR/s3.env" >&2
}

case $cmd in
start) start ;;
stop) stop ;;
*) usage ;;
esac
