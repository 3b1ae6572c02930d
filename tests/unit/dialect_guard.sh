#!/bin/sh
# dialect_guard.sh SRC_ROOT - fails when SQLite-only SQL appears in a .c file
# outside src/db (db.h, "Portable SQL"): the domain must run on every
# database backend, so what SQL cannot say portably is a dialect piece of
# the db layer. Each pattern is an SQLite-only form; the portable spelling
# is in the message.
set -u
root=${1:?usage: dialect_guard.sh SRC_ROOT}
cd "$root" || exit 2

files=$(find src -name '*.c' ! -path 'src/db/*' | sort)
[ -n "$files" ] || { echo "dialect_guard: no sources under $root/src" >&2; exit 2; }

bad=0
check() { # PATTERN (grep -E, case-insensitive) and the portable way
	hits=$(grep -nEi -- "$1" $files)
	if [ -n "$hits" ]; then
		printf '%s\n' "$hits" | sed "s|\$|   <- SQLite-only; $2|"
		bad=1
	fi
}
check '\bifnull *\(' 'write coalesce('
check 'INSERT +OR +(IGNORE|REPLACE|ABORT|FAIL|ROLLBACK)|REPLACE +INTO' 'write INSERT ... ON CONFLICT (cols) DO NOTHING / DO UPDATE'
check 'COLLATE +NOCASE' 'write lower(a) = lower(b)'
check '\bjson_(extract|each|tree|group_array|group_object)\b' 'use a dialect piece ({{json_text(..)}}, {{json_agg(..)}})'
check '\bgroup_concat *\(' 'use {{str_agg(..)}}'
check '"[^"]*\browid\b' 'use the num key column'
check 'last_insert_rowid' 'use RETURNING'
check "strftime *\\( *'|julianday *\\(|unixepoch *\\(|datetime *\\( *'|date *\\( *'now" 'bind the time from the C clock'
check '"[^"]*\bPRAGMA\b|sqlite_(master|schema)' 'belongs in src/db'
check 'WITHOUT +ROWID' 'belongs in the backend migrations'
exit $bad
