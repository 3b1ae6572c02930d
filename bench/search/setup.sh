#!/usr/bin/env bash
# Builds a search benchmark library of N generated assets and indexes it.
#
#   bench/search/setup.sh N [DIR]      (default DIR=/tmp/dam-sbench)
#
# Writes DIR/lib (the library), DIR/dam (a private copy of build/dam), and
# DIR/setup.log with the timings (generation, then `dam search ''` which runs
# search_sync over every dirty asset, measured with GNU time for peak RSS).
#
# PG=1 also makes DIR/libpg, the same library on PostgreSQL: a throwaway
# cluster in DIR/pg (scripts/pg.sh, memory settings of a database server
# rather than a test's: PG_CONF below), filled with `dam migrate
# --to-database` from a copy of the generated library taken before
# indexing (so both index at once), which rebuilds the search index on
# PostgreSQL. The cluster keeps running for run.sh; stop it with
# `scripts/pg.sh stop DIR/pg`.
set -eu
cd "$(dirname "$0")/../.."
N=${1:?N}
DIR=${2:-/tmp/dam-sbench}
mkdir -p "$DIR"
cp build/dam "$DIR/dam"
cc -O2 -Wall -o "$DIR/gen" bench/search/gen.c -lsqlite3
cc -O2 -Wall -o "$DIR/fts" bench/search/fts.c -lsqlite3
D="$DIR/dam"
LIB="$DIR/lib"
rm -rf "$LIB"
$D init "$LIB" >/dev/null
$D --library "$LIB" field add brand --type text --facetable >/dev/null
$D --library "$LIB" field add season --type text --facetable >/dev/null
$D --library "$LIB" field add category --type text --facetable --searchable >/dev/null
PG_CONF=${PG_CONF:-"shared_buffers = 2GB
work_mem = 64MB
maintenance_work_mem = 512MB
effective_cache_size = 8GB
random_page_cost = 1.1
max_wal_size = 8GB"}
export PG_CONF
# The PostgreSQL copy: migrate (rows, then search_sync on PostgreSQL),
# timed; runs beside the SQLite indexing. The generated rows name blobs
# that do not exist (the engine alone is measured), so the verification
# migrate runs after the copy would fail on them: stop it once the copy
# and the reindex are done (assets there, nothing dirty).
setup_pg() {
	local src=$DIR/lib-src url s mp a d rows_at=
	rm -rf "$src" "$DIR/libpg"
	cp -a "$LIB" "$src"
	url=$(scripts/pg.sh start "$DIR/pg")
	s=$(date +%s.%N)
	$D --library "$src" migrate --to "$DIR/libpg" --to-database "$url" >"$DIR/migrate.out" 2>"$DIR/migrate.err" &
	mp=$!
	while kill -0 $mp 2>/dev/null; do
		# (no tables yet while migrate creates the schema)
		a=$(psql -X -q -At "$url" -c "SELECT count(*) FROM assets" 2>/dev/null || echo 0)
		d=$(psql -X -q -At "$url" -c "SELECT count(*) FROM search_dirty" 2>/dev/null || echo 1)
		if [ -z "$rows_at" ] && [ "$a" -gt 0 ]; then
			rows_at=$(date +%s.%N)
			echo "pg_rows_s=$(echo "$rows_at - $s" | bc)  (dam migrate: every row copied)"
		fi
		[ "$a" -gt 0 ] && [ "$d" -eq 0 ] && break
		sleep 5
	done
	echo "pg_migrate_s=$(echo "$(date +%s.%N) - $s" | bc)  (rows copied, then the search index built on PostgreSQL)"
	kill $mp 2>/dev/null || true
	rm -rf "$src"
	psql -X -q -At "$url" -c "SELECT 'pg rows: facet_values=' || (SELECT count(*) FROM facet_values) || ' search_text=' || (SELECT count(*) FROM search_text) || ' db_bytes=' || pg_database_size('dam')"
}
{
	echo "N=$N dam $(git rev-parse --short HEAD)$(git diff --quiet -- src || echo ' + uncommitted src changes') $(date -u +%FT%TZ)"
	s=$(date +%s.%N)
	"$DIR/gen" "$LIB/dam.db" "$N" 2>&1 | tail -1
	e=$(date +%s.%N)
	echo "generate_s=$(echo "$e - $s" | bc)"
	sqlite3 "$LIB/dam.db" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
	echo "dirty=$(sqlite3 "$LIB/dam.db" 'SELECT count(*) FROM search_dirty')"
	[ -z "${PG:-}" ] || setup_pg &
	s=$(date +%s.%N)
	/usr/bin/time -f "index_maxrss_kb=%M index_user_s=%U index_sys_s=%S" $D --library "$LIB" search --limit 1 '' 2>&1 | tail -3
	e=$(date +%s.%N)
	echo "index_s=$(echo "$e - $s" | bc)"
	s=$(date +%s.%N)
	$D --library "$LIB" search --limit 1 '' | tail -1
	e=$(date +%s.%N)
	echo "second_search_s=$(echo "$e - $s" | bc)  (cold process: loads the facet cache)"
	echo "db_bytes=$(stat -c %s "$LIB/dam.db") wal_bytes=$(stat -c %s "$LIB/dam.db-wal" 2>/dev/null || echo 0)"
	wait
	sqlite3 "$LIB/dam.db" "SELECT 'rows: assets='||(SELECT count(*) FROM assets)||' versions='||(SELECT count(*) FROM versions)||' tags='||(SELECT count(*) FROM tags)||' fields='||(SELECT count(*) FROM fields)||' facet_values='||(SELECT count(*) FROM facet_values)||' search_numbers='||(SELECT count(*) FROM search_numbers)||' search_docs='||(SELECT count(*) FROM search_docs)"
} 2>&1 | tee "$DIR/setup.log"
