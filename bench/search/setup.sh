#!/usr/bin/env bash
# Builds a search benchmark library of N generated assets and indexes it.
#
#   bench/search/setup.sh N [DIR]      (default DIR=/tmp/dam-sbench)
#
# Writes DIR/lib (the library), DIR/dam (a private copy of build/dam), and
# DIR/setup.log with the timings (generation, then `dam search ''` which runs
# search_sync over every dirty asset, measured with GNU time for peak RSS).
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
{
	echo "N=$N dam $(git rev-parse --short HEAD)$(git diff --quiet -- src || echo ' + uncommitted src changes') $(date -u +%FT%TZ)"
	s=$(date +%s.%N)
	"$DIR/gen" "$LIB/dam.db" "$N" 2>&1 | tail -1
	e=$(date +%s.%N)
	echo "generate_s=$(echo "$e - $s" | bc)"
	sqlite3 "$LIB/dam.db" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
	echo "dirty=$(sqlite3 "$LIB/dam.db" 'SELECT count(*) FROM search_dirty')"
	s=$(date +%s.%N)
	/usr/bin/time -f "index_maxrss_kb=%M index_user_s=%U index_sys_s=%S" $D --library "$LIB" search --limit 1 '' 2>&1 | tail -3
	e=$(date +%s.%N)
	echo "index_s=$(echo "$e - $s" | bc)"
	s=$(date +%s.%N)
	$D --library "$LIB" search --limit 1 '' | tail -1
	e=$(date +%s.%N)
	echo "second_search_s=$(echo "$e - $s" | bc)  (cold process: loads the facet cache)"
	echo "db_bytes=$(stat -c %s "$LIB/dam.db") wal_bytes=$(stat -c %s "$LIB/dam.db-wal" 2>/dev/null || echo 0)"
	sqlite3 "$LIB/dam.db" "SELECT 'rows: assets='||(SELECT count(*) FROM assets)||' versions='||(SELECT count(*) FROM versions)||' tags='||(SELECT count(*) FROM tags)||' fields='||(SELECT count(*) FROM fields)||' facet_values='||(SELECT count(*) FROM facet_values)||' search_numbers='||(SELECT count(*) FROM search_numbers)||' search_docs='||(SELECT count(*) FROM search_docs)"
} 2>&1 | tee "$DIR/setup.log"
