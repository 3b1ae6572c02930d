#!/usr/bin/env bash
# dam init --database and [database] in dam.conf, on a real PostgreSQL
# server (tests/pg/run.sh runs it with the cluster's URL):
#
#   tests/pg/test_init.sh URL DAM [CLUSTER_DIR]
#
# URL names a database on the server (its name is replaced by fresh ones);
# CLUSTER_DIR, the folder scripts/pg.sh made, adds the password checks (a
# line in its pg_hba.conf).
# Prints TAP; fails when any check fails.
set -u
url=${1:?usage: test_init.sh URL DAM}
DAM=${2:?usage: test_init.sh URL DAM}
cluster=${3:-}
T=$(mktemp -d /tmp/dam-pginit.XXXXXX)
trap 'rm -rf "$T"' EXIT
n=0 bad=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
no() { n=$((n + 1)); bad=1; echo "not ok $n - $1"; [ -n "${2:-}" ] && sed 's/^/#   /' <<<"$2"; }
db_url() { sed -E "s|^(postgres(ql)?://[^/?]*/)[^?]*|\\1$1|" <<<"$url"; }
mkdb() { psql -X -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE $1" "$url" >/dev/null; }

mkdb dam_init_a_$$ && mkdb dam_init_b_$$ || { echo "Bail out! cannot create databases on $url"; exit 2; }
A=$(db_url dam_init_a_$$)

# A library on PostgreSQL: dam.conf names the database, no dam.db is made,
# the CLI works on it, and the library id is in the database.
if out=$("$DAM" init "$T/a" --database "$A" 2>&1); then ok "init --database"; else no "init --database" "$out"; fi
if grep -qxF "url = $A" "$T/a/dam.conf"; then ok "dam.conf has [database] url"; else no "dam.conf has [database] url" "$(cat "$T/a/dam.conf")"; fi
if [ ! -e "$T/a/dam.db" ]; then ok "no dam.db"; else no "no dam.db"; fi
id=$(psql -X -A -t -c "SELECT value FROM library WHERE key = 'id'" "$A")
if [[ $id =~ ^[0-9a-f-]{36}$ ]]; then ok "library id in the database"; else no "library id in the database" "$id"; fi
if out=$("$DAM" -L "$T/a" user add alice --role admin --password-stdin <<<"pw-alice-12345678" 2>&1) &&
	[ "$(psql -X -A -t -c "SELECT username FROM users WHERE username = 'ALICE'" "$A")" = alice ]; then
	ok "a user made through the CLI is in the database (username case-insensitive)"
else
	no "a user made through the CLI is in the database" "$out"
fi

# Another folder on the same database is refused, naming the library.
if out=$("$DAM" init "$T/other" --database "$A" 2>&1); then
	no "a database holding a library is refused" "$out"
elif [[ $out == *"already holds a dam library (id $id"* ]] && [ ! -e "$T/other" ]; then
	ok "a database holding a library is refused, before anything is made"
else
	no "a database holding a library is refused with its id" "$out"
fi
# The same folder again, after an init that stopped before dam.conf: taken,
# with the same id.
mv "$T/a/dam.conf" "$T/a.conf"
if out=$("$DAM" init "$T/a" --database "$A" 2>&1) &&
	[ "$(psql -X -A -t -c "SELECT value FROM library WHERE key = 'id'" "$A")" = "$id" ]; then
	ok "an unfinished init of the same folder runs again, keeping the id"
else
	no "an unfinished init of the same folder runs again" "$out"
fi

# Passwords: never in the URL or in dam.conf; a password file must be private.
for u in "postgres://dam:secret@localhost/x" "postgresql:///x?host=/tmp&password=secret"; do
	if out=$("$DAM" init "$T/p" --database "$u" 2>&1); then
		no "a password in the URL is refused: $u"
	elif [[ $out == *"holds a password"* && $out != *secret* ]]; then
		ok "a password in the URL is refused without repeating it"
	else
		no "a password in the URL is refused with a clear message" "$out"
	fi
done
B=$(db_url dam_init_b_$$)
printf 'not-checked-by-trust-auth\n' >"$T/pw"
chmod 644 "$T/pw"
if out=$("$DAM" init "$T/b" --database "$B" --password-file "$T/pw" 2>&1); then
	no "a password file others can read is refused"
elif [[ $out == *"readable or writable by group or others"* ]]; then
	ok "a password file others can read is refused"
else
	no "a password file others can read is refused with a clear message" "$out"
fi
chmod 600 "$T/pw"
if out=$("$DAM" init "$T/b" --database "$B" --password-file "$T/pw" 2>&1) &&
	grep -qxF "password_file = $T/pw" "$T/b/dam.conf" && "$DAM" -L "$T/b" user list >/dev/null 2>&1; then
	ok "a private password file is taken and named in dam.conf"
else
	no "a private password file is taken" "$out"
fi
chmod 640 "$T/pw"
if out=$("$DAM" -L "$T/b" user list 2>&1); then
	no "opening a library whose password file became readable fails"
else
	ok "opening a library whose password file became readable fails"
fi
chmod 600 "$T/pw"
printf '\n[database]\npassword = secret\n' >>"$T/b/dam.conf"
if out=$("$DAM" -L "$T/b" user list 2>&1); then
	no "[database] password in dam.conf is refused"
elif [[ $out == *"[database] password is refused"* ]]; then
	ok "[database] password in dam.conf is refused"
else
	no "[database] password in dam.conf is refused with a clear message" "$out"
fi
# A database that orders text by a language's rules is refused (the code
# relies on byte order, as SQLite's BINARY): ICU's en-US here, the only
# non-C collation a minimal system certainly has.
if psql -X -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE dam_init_icu_$$ TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'" "$url" >/dev/null 2>&1; then
	if out=$("$DAM" init "$T/icu" --database "$(db_url dam_init_icu_$$)" 2>&1); then
		no "a database with a language collation is refused"
	elif [[ $out == *"needs byte order"*"LC_COLLATE 'C'"* ]]; then
		ok "a database with a language collation is refused, saying how to make one"
	else
		no "a database with a language collation is refused with a clear message" "$out"
	fi
else
	no "cannot create an ICU database to check the collation guard"
fi
# With the cluster's folder (tests/pg/run.sh gives it): a role whose
# connections must prove a password (scram-sha-256 on the socket), so the
# password dam sends is checked - a wrong one, none, the right one from a
# file and from a variable.
if [ -n "$cluster" ]; then
	PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
	as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u "${PG_USER:-dam-test}" -- "$@"; else "$@"; fi; }
	role=dam_pw_$$
	sed -i "1i local $role $role scram-sha-256" "$cluster/data/pg_hba.conf"
	as_pg "$PG_BIN/pg_ctl" -D "$cluster/data" -s reload
	psql -X -q -v ON_ERROR_STOP=1 -c "CREATE ROLE $role LOGIN PASSWORD 'pw-$role-right'" \
		-c "CREATE DATABASE $role OWNER $role TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C.UTF-8'" "$url" >/dev/null
	P=$(sed -E "s|^(postgres(ql)?://[^/?]*/)([^?]*)(.*)$|\\1$role\\4|; s|user=[^&]*|user=$role|" <<<"$url")
	printf 'pw-%s-wrong\n' "$role" >"$T/pw-wrong"
	printf 'pw-%s-right\n' "$role" >"$T/pw-right"
	chmod 600 "$T/pw-wrong" "$T/pw-right"
	if out=$("$DAM" init "$T/w" --database "$P" --password-file "$T/pw-wrong" 2>&1); then
		no "a wrong password is refused by the server"
	elif [[ $out == *"password authentication failed"* && $out != *"-wrong"* ]]; then
		ok "a wrong password is refused by the server (and not shown)"
	else
		no "a wrong password is refused by the server" "$out"
	fi
	if out=$("$DAM" init "$T/w" --database "$P" 2>&1); then no "no password is refused by the server"; else ok "no password is refused by the server"; fi
	if out=$("$DAM" init "$T/w" --database "$P" --password-file "$T/pw-right" 2>&1) &&
		"$DAM" -L "$T/w" user list >/dev/null 2>&1; then
		ok "the right password from password_file opens the library"
	else
		no "the right password from password_file opens the library" "$out"
	fi
	sed -i 's/^password_file = .*/password_env = DAM_TEST_DB_PW/' "$T/w/dam.conf"
	if out=$(DAM_TEST_DB_PW=pw-$role-right "$DAM" -L "$T/w" user list 2>&1) &&
		! DAM_TEST_DB_PW=nope "$DAM" -L "$T/w" user list >/dev/null 2>&1; then
		ok "password_env gives the password"
	else
		no "password_env gives the password" "$out"
	fi
fi
echo "1..$n"
exit $bad
