#!/usr/bin/env bash
# pg.sh - a throwaway PostgreSQL 15 cluster for tests and benches.
#
#   scripts/pg.sh start DIR   initdb under DIR (made if missing), start the
#                             server on a Unix socket in DIR only, create the
#                             database "dam" and print its URL on stdout.
#   scripts/pg.sh stop DIR    stop that server (idempotent; a missing or
#                             stale DIR is fine).
#   scripts/pg.sh pause DIR   stop that server (fast shutdown: clients are
#                             disconnected) keeping its data, so that
#   scripts/pg.sh resume DIR  starts it again with the same databases, for
#                             tests of a database that goes down and comes
#                             back.
#
# The server runs as an unprivileged system user (PG refuses to run as root;
# tests run as root): $PG_USER, default dam-test, created if missing. DIR is
# chowned to it and kept 0700. Nothing listens on TCP (listen_addresses=''),
# and authentication is "trust" on that socket only: whoever can enter DIR
# can connect, which is the owner and root. fsync is off: a crash of the
# machine loses the cluster, which is what a throwaway cluster is for.
# PG_CONF: more postgresql.conf lines (a bench's memory settings).
set -euo pipefail

PG_USER=${PG_USER:-dam-test}
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}

die() { echo "pg.sh: $*" >&2; exit 1; }

as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u "$PG_USER" -- "$@"; else "$@"; fi; }

ensure_user() {
  [ "$(id -u)" -ne 0 ] && return 0   # not root: run as ourselves
  id -u "$PG_USER" >/dev/null 2>&1 && return 0
  # Another script may create it at the same moment: only fail if it still is missing.
  useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_USER" 2>/dev/null ||
    id -u "$PG_USER" >/dev/null 2>&1 || die "cannot create user $PG_USER"
}

# The server from a killed run may still hold DIR (postmaster.pid names it):
# stop it if it is alive, then remove the leftovers.
stop() {
  local dir=$1
  [ -d "$dir/data" ] || return 0
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
    local pid
    pid=$(head -1 "$dir/data/postmaster.pid" 2>/dev/null || true)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null &&
       grep -q postgres "/proc/$pid/comm" 2>/dev/null; then
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -rf "$dir/data" "$dir"/.s.PGSQL.* "$dir/log"
}

wait_ready() {
  local dir=$1 i
  for i in $(seq 1 300); do
    as_pg "$PG_BIN/pg_isready" -q -h "$dir" -U dam -d postgres && return 0
    [ "$i" -eq 300 ] && { tail -20 "$dir/log" >&2; die "server not ready after 30 s"; }
    sleep 0.1
  done
}

pause() {
  local dir=$1
  [ -f "$dir/data/postmaster.pid" ] || die "no server running in $dir"
  as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 ||
    die "the server in $dir did not stop"
}

resume() {
  local dir=$1
  [ -d "$dir/data" ] || die "no cluster in $dir (pg.sh start makes one)"
  as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/log" -s start >/dev/null 2>&1 ||
    { tail -20 "$dir/log" >&2; die "server did not start"; }
  wait_ready "$dir"
}

start() {
  local dir=$1
  [ -x "$PG_BIN/initdb" ] || die "PostgreSQL not installed (scripts/deps.sh installs it)"
  ensure_user
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  stop "$dir"
  # Unix socket paths are limited to 107 bytes.
  [ ${#dir} -le 90 ] || die "DIR too long for a Unix socket path: $dir"
  [ "$(id -u)" -eq 0 ] && chown "$PG_USER" "$dir"
  chmod 0700 "$dir"
  : >"$dir/log"; chmod 0600 "$dir/log"
  [ "$(id -u)" -eq 0 ] && chown "$PG_USER" "$dir/log"
  as_pg "$PG_BIN/initdb" -D "$dir/data" -U dam -A trust -E UTF8 --locale=C.UTF-8 \
    --no-sync >>"$dir/log" 2>&1 || { cat "$dir/log" >&2; die "initdb failed"; }
  cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$dir'
unix_socket_permissions = 0700
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 32MB
max_connections = 200
${PG_CONF:-}
CONF
  as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/log" -s start >/dev/null 2>&1 ||
    { tail -20 "$dir/log" >&2; die "server did not start"; }
  wait_ready "$dir"
  as_pg "$PG_BIN/psql" -X -q -h "$dir" -U dam -d postgres -v ON_ERROR_STOP=1 \
    -c "CREATE DATABASE dam" >/dev/null || die "cannot create database dam"
  echo "postgresql:///dam?host=$dir&user=dam"
}

usage="usage: pg.sh start|stop|pause|resume DIR"
[ $# -eq 2 ] || die "$usage"
case $1 in
  start) start "$2" ;;
  stop) stop "$2" ;;
  pause) pause "$2" ;;
  resume) resume "$2" ;;
  *) die "$usage" ;;
esac
