#!/usr/bin/env bash
# test_user.sh - black-box tests of `dam user` and `dam token`.
# Usage: DAM=path/to/dam tests/cli/test_user.sh   (exits non-zero on failure)
set -u
# GLib criticals and warnings abort (scripts/test.sh explains why).
export G_DEBUG=${G_DEBUG:-fatal-warnings}

DAM=${DAM:-build/dam}
case $DAM in /*) ;; *) DAM=$PWD/$DAM ;; esac
[ -x "$DAM" ] || { echo "Bail out! DAM=$DAM is not executable"; exit 2; }

tmp=$(mktemp -d /tmp/dam-cli-user-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export DAM_LIBRARY=$tmp/lib
n=0
failed=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; [ -n "${2:-}" ] && sed 's/^/# /' <<<"$2"; }

# expect CODE DESCRIPTION CMD... : runs CMD, checks its exit code; output in $out
expect() {
	local want=$1 desc=$2 got
	shift 2
	out=$("$@" 2>&1)
	got=$?
	if [ "$got" -eq "$want" ]; then ok "$desc"; else not_ok "$desc (exit $got, want $want)" "$out"; fi
}

# check DESCRIPTION CONDITION-CMD...
check() {
	local desc=$1
	shift
	if "$@"; then ok "$desc"; else not_ok "$desc" "$out"; fi
}

"$DAM" init "$DAM_LIBRARY" >/dev/null || { echo "Bail out! dam init failed"; exit 2; }

# ---- users ----
expect 0 "user add with a generated password" "$DAM" user add alice --role editor
check "generated password printed once" grep -Eq '^password: [A-Za-z0-9]{20}$' <<<"$out"
expect 0 "user add with --password-stdin" bash -c "echo 'correct horse battery' | '$DAM' user add bob --password-stdin"
check "no password printed for stdin" bash -c '! grep -q "^password:" <<<"$0"' "$out"
expect 4 "duplicate user (any case) refused" "$DAM" user add ALICE
expect 4 "invalid user name refused" "$DAM" user add "bad name"
expect 4 "short password refused" bash -c "echo short | '$DAM' user add carol --password-stdin"
expect 2 "unknown role is a usage error" "$DAM" user add carol --role superuser
expect 2 "unknown subcommand is a usage error" "$DAM" user frobnicate
expect 0 "user --help" "$DAM" user --help
check "help shows usage" grep -q "dam user add NAME" <<<"$out"

expect 0 "user list" "$DAM" user list
check "list shows both users with roles" bash -c 'grep -Eq "^alice +editor +enabled" <<<"$0" && grep -Eq "^bob +viewer" <<<"$0"' "$out"
expect 0 "user list --json" "$DAM" user list --json
check "json list has no password hashes" bash -c '! grep -q argon2 <<<"$0" && grep -q "\"username\": \"alice\"" <<<"$0"' "$out"

expect 0 "user role" "$DAM" user role bob contributor
expect 0 "user list after role change" "$DAM" user list
check "role changed" grep -Eq '^bob +contributor' <<<"$out"
expect 3 "role of unknown user" "$DAM" user role nobody viewer
expect 2 "role needs a role" "$DAM" user role bob

expect 0 "user passwd generates" "$DAM" user passwd bob
check "new password printed" grep -Eq '^password: [A-Za-z0-9]{20}$' <<<"$out"
expect 0 "user passwd from stdin" bash -c "echo 'another good password' | '$DAM' user passwd bob --password-stdin"
expect 3 "passwd of unknown user" bash -c "echo 'another good password' | '$DAM' user passwd nobody --password-stdin"

# ---- tokens ----
expect 0 "token create" "$DAM" token create --user alice --expires 30d --label "ci bot"
secret=$(sed -n 's/^secret: //p' <<<"$out")
tid=$(sed -n 's/^token \([0-9a-f-]*\) .*/\1/p' <<<"$out")
check "secret looks like dam_ + 43 chars" grep -Eq '^dam_[A-Za-z0-9_-]{43}$' <<<"$secret"
check "note says it is shown once" grep -q "cannot be shown again" <<<"$out"
check "token id printed" test -n "$tid"
expect 0 "token list" "$DAM" token list
check "list shows the token" grep -q "$tid" <<<"$out"
check "list shows the label and state" bash -c 'grep -q "ci bot" <<<"$0" && grep -q active <<<"$0"' "$out"
check "list never shows the secret" bash -c '! grep -qF -- "${1#dam_}" <<<"$0"' "$out" "$secret"
expect 0 "token list --json" "$DAM" token list --user alice --json
check "json list never shows the secret" bash -c '! grep -qF -- "${1#dam_}" <<<"$0" && grep -q "\"revoked\": false" <<<"$0"' "$out" "$secret"
check "audit and database never hold the secret" bash -c '! grep -qaF -- "${1#dam_}" "$0"/dam.db "$0"/dam.db-wal 2>/dev/null' "$DAM_LIBRARY" "$secret"

expect 4 "token role above the user's refused" "$DAM" token create --user bob --role admin
expect 0 "token with a lower role and a date" "$DAM" token create --user alice --role viewer --expires 2099-12-31
check "expiry date shown" grep -q "expires 2099-12-31" <<<"$out"
expect 2 "bad --expires is a usage error" "$DAM" token create --user alice --expires soon
expect 4 "expiry in the past refused" "$DAM" token create --user alice --expires 2001-01-01
expect 2 "create needs --user" "$DAM" token create
expect 3 "token for unknown user" "$DAM" token create --user nobody

expect 0 "token revoke" "$DAM" token revoke "$tid"
expect 0 "token list after revoke" "$DAM" token list --user alice
check "revoked token listed as revoked" grep -q "$tid.*revoked" <<<"$out"
expect 4 "revoking twice is refused" "$DAM" token revoke "$tid"
expect 3 "revoke unknown token" "$DAM" token revoke 00000000-0000-7000-8000-000000000000

# ---- disable / enable ----
expect 0 "token for bob" "$DAM" token create --user bob
expect 0 "user disable" "$DAM" user disable bob
expect 0 "user list shows disabled" "$DAM" user list
check "bob disabled" grep -Eq '^bob +contributor +disabled' <<<"$out"
expect 0 "token list for a disabled user" "$DAM" token list --user bob
check "token shown as disabled" grep -q disabled <<<"$out"
expect 4 "no new token for a disabled user" "$DAM" token create --user bob
expect 0 "user enable" "$DAM" user enable bob
expect 0 "user list after enable" "$DAM" user list
check "bob enabled" grep -Eq '^bob +contributor +enabled' <<<"$out"
expect 0 "last admin protection setup" "$DAM" user add root --role admin
expect 4 "the last admin cannot be disabled" "$DAM" user disable root
expect 4 "the last admin cannot be demoted" "$DAM" user role root viewer

# ---- audit ----
expect 0 "audit verify" "$DAM" audit verify
expect 0 "audit log" "$DAM" audit log --limit 100
for a in user.add user.role user.password user.disable user.enable token.create token.revoke; do
	check "audit has $a" grep -q " $a " <<<"$out"
done

echo "1..$n"
[ "$failed" -eq 0 ]
