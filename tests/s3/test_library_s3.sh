#!/usr/bin/env bash
# A library on the S3 backend, end to end through the dam binary, against a
# real RADOS Gateway (tests/s3/run.sh starts it and passes its s3.env).
#
#   tests/s3/test_library_s3.sh S3_ENV DAM FIXTURES
#
# Ingests a photo into a library whose dam.conf says [store] backend = s3,
# downloads the original and a rendition and compares their bytes (with the
# fixture, with the same rendition made by an fs library, and with the
# object in the bucket), checks that no object file is in the library
# folder, and that a wrong secret or a plain `secret =` stops the library
# from opening with a message that says why. Prints one line per check;
# exits non-zero on the first failure.
set -euo pipefail
env_file=$1
DAM=$2
FIXTURES=$3
export G_DEBUG=fatal-warnings
unset DAM_LIBRARY

T=$(mktemp -d /tmp/dam-s3lib-XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok - $*"; }
dam() { timeout -k 5 300 "$DAM" "$@"; }

# shellcheck disable=SC1090
. "$env_file"
# The secret goes into a private file named by dam.conf (secret_file), never
# into dam.conf or a command line.
(umask 077 && printf '%s\n' "$S3_SECRET" >"$T/secret")
# Each run its own bucket prefix is not possible (keys are the layout), so
# this test owns the bucket: it is the only client while it runs.

# s3_conf LIB: [store] backend = s3 for the gateway.
s3_conf() {
	local lib=$1 store
	store="backend = s3
endpoint = $S3_ENDPOINT
bucket = $S3_BUCKET
region = $S3_REGION
key_id = $S3_KEY_ID
secret_file = $T/secret
addressing = path
part_mb = 5"
	awk -v store="$store" '$0 == "backend = fs" { print store; next } { print }' \
		"$lib/dam.conf" >"$lib/dam.conf.new"
	mv "$lib/dam.conf.new" "$lib/dam.conf"
	chmod 600 "$lib/dam.conf"
}

# Signed GET of one bucket key with curl's own SigV4 (credentials on stdin).
bucket_get() {
	printf 'user = "%s:%s"\n' "$S3_KEY_ID" "$S3_SECRET" |
		curl -s -K - --aws-sigv4 "aws:amz:$S3_REGION:s3" \
			-H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" \
			-o "$2" -w '%{http_code}' "$S3_ENDPOINT/$S3_BUCKET/$1"
}
obj() { echo "objects/${1:0:2}/${1:2:2}/$1"; }

dam init "$T/lib" >/dev/null
s3_conf "$T/lib"
export DAM_LIBRARY=$T/lib
dam ingest "$FIXTURES/photo.jpg" >"$T/ingest.out" 2>&1 || fail "ingest: $(cat "$T/ingest.out")"
grep -q '1 added.*processing: 0 failed' "$T/ingest.out" || fail "ingest: $(cat "$T/ingest.out")"
id=$(dam ls --json | jq -r '.[0].id')
[ -n "$id" ] && [ "$id" != null ] || fail "no asset listed"
ok "ingest into an S3 library"

dam get "$id" -o "$T/orig.jpg"
cmp -s "$FIXTURES/photo.jpg" "$T/orig.jpg" || fail "the original's bytes differ"
ok "the original downloads with its bytes"

dam show --json "$id" >"$T/show.json"
thumb_hash=$(jq -r '.versions[0].renditions[] | select(.name=="thumbnail") | .hash' "$T/show.json")
orig_hash=$(jq -r '.versions[0].hash' "$T/show.json")
dam get "$id" --rendition thumbnail -o "$T/thumb.webp"
[ "$(sha256sum <"$T/thumb.webp" | cut -c1-64)" = "$thumb_hash" ] || fail "thumbnail bytes differ from its recorded hash"
[ "$(vipsheader -f width "$T/thumb.webp")" = 320 ] || fail "thumbnail width"
ok "the thumbnail downloads with the bytes its hash names"

# The same photo in an fs library gives the same thumbnail bytes.
dam init "$T/fslib" >/dev/null
DAM_LIBRARY=$T/fslib dam ingest "$FIXTURES/photo.jpg" >/dev/null
fsid=$(DAM_LIBRARY=$T/fslib dam ls --json | jq -r '.[0].id')
DAM_LIBRARY=$T/fslib dam get "$fsid" --rendition thumbnail -o "$T/fs-thumb.webp"
cmp -s "$T/thumb.webp" "$T/fs-thumb.webp" || fail "the S3 library's thumbnail differs from the fs library's"
ok "the thumbnail is byte for byte the fs library's"

# The bytes live in the bucket, under the fs layout's keys...
code=$(bucket_get "$(obj "$orig_hash")" "$T/bucket-orig")
[ "$code" = 200 ] && cmp -s "$FIXTURES/photo.jpg" "$T/bucket-orig" || fail "original not in the bucket (HTTP $code)"
code=$(bucket_get "$(obj "$thumb_hash")" "$T/bucket-thumb")
[ "$code" = 200 ] && cmp -s "$T/thumb.webp" "$T/bucket-thumb" || fail "thumbnail not in the bucket (HTTP $code)"
ok "original and thumbnail are objects in the bucket"
# ...and not in the library folder (only dam.conf, the database, locks,
# caches; no file named by a blob key, nothing under objects/).
blobs=$(find "$T/lib" -type f -regextype posix-extended -regex '.*/[0-9a-f]{64}' | wc -l)
under_objects=$(find "$T/lib" -path '*/objects/*' -type f | wc -l)
[ "$blobs" = 0 ] && [ "$under_objects" = 0 ] ||
	fail "object files in the library folder: $(find "$T/lib" -type f | tr '\n' ' ')"
ok "no object file in the library folder"

dam fsck >"$T/fsck.out" 2>&1 || fail "fsck: $(cat "$T/fsck.out")"
ok "fsck is clean on S3"

# A wrong secret: the library refuses to open, naming S3's reason, and the
# message does not carry the secret.
cp "$T/secret" "$T/secret.good"
(umask 077 && echo wrong-secret-value >"$T/secret")
if dam ls >"$T/wrong.out" 2>&1; then fail "a wrong secret opened the library"; fi
grep -q SignatureDoesNotMatch "$T/wrong.out" || fail "wrong secret: $(cat "$T/wrong.out")"
! grep -q wrong-secret-value "$T/wrong.out" || fail "the secret shows in the error"
cp "$T/secret.good" "$T/secret"
ok "a wrong secret is refused: $(head -1 "$T/wrong.out" | cut -c1-120)"

# A secret file others can read is refused too.
chmod 644 "$T/secret"
if dam ls >"$T/mode.out" 2>&1; then fail "a world-readable secret file was accepted"; fi
chmod 600 "$T/secret"
ok "a world-readable secret file is refused"

# The secret in dam.conf itself is refused with the way out.
echo "secret = $S3_SECRET" >"$T/secret-line"
sed -i "/^secret_file = /r $T/secret-line" "$T/lib/dam.conf"
rm -f "$T/secret-line"
if dam ls >"$T/plain.out" 2>&1; then fail "a plain secret in dam.conf was accepted"; fi
grep -q 'secret_env' "$T/plain.out" || fail "plain secret: $(cat "$T/plain.out")"
! grep -qF "$S3_SECRET" "$T/plain.out" || fail "the secret shows in the error"
sed -i '/^secret = /d' "$T/lib/dam.conf"
dam ls >/dev/null || fail "the library does not open again"
ok "a plain secret in dam.conf is refused"

# dam migrate: the fs library to a new library on S3 and back to a folder;
# each copy verifies, is clean, and serves the original's bytes.
printf '[store]\nbackend = s3\nendpoint = %s\nbucket = %s\nregion = %s\nkey_id = %s\nsecret_file = %s\naddressing = path\n' \
	"$S3_ENDPOINT" "$S3_BUCKET" "$S3_REGION" "$S3_KEY_ID" "$T/secret" >"$T/store.conf"
DAM_LIBRARY=$T/fslib dam migrate --to "$T/tos3" --to-store-conf "$T/store.conf" >"$T/mig.out" 2>&1 ||
	fail "migrate to S3: $(cat "$T/mig.out")"
grep -q 'verified: every row and blob' "$T/mig.out" || fail "migrate to S3: $(cat "$T/mig.out")"
grep -q '^backend = s3' "$T/tos3/dam.conf" || fail "the copy's dam.conf does not name the S3 store"
[ "$(find "$T/tos3" -path '*/objects/*' -type f | wc -l)" = 0 ] || fail "the S3 copy has object files in its folder"
DAM_LIBRARY=$T/tos3 dam fsck >"$T/fsck2.out" 2>&1 || fail "fsck of the S3 copy: $(cat "$T/fsck2.out")"
DAM_LIBRARY=$T/tos3 dam get "$fsid" -o "$T/mig-orig.jpg"
cmp -s "$FIXTURES/photo.jpg" "$T/mig-orig.jpg" || fail "the S3 copy's original differs"
ok "migrate an fs library to S3: verified, fsck clean, same bytes"
# The same target named by one URL (the endpoint %-encoded, as a shell
# user may write it): the same [store] section, verified; no secret on
# the command line.
enc_endpoint=$(printf '%s' "$S3_ENDPOINT" | sed -e 's/:/%3A/g' -e 's|/|%2F|g')
url="s3://$S3_BUCKET?endpoint=$enc_endpoint&region=$S3_REGION&key_id=$S3_KEY_ID&secret_file=$T/secret&addressing=path"
DAM_LIBRARY=$T/fslib dam migrate --to "$T/tos3url" --to-store "$url" >"$T/mig3.out" 2>&1 ||
	fail "migrate to S3 by URL: $(cat "$T/mig3.out")"
grep -q 'verified: every row and blob' "$T/mig3.out" || fail "migrate to S3 by URL: $(cat "$T/mig3.out")"
store_keys() { sed -n '/^\[store\]/,/^\[/p' "$1" | grep ' = ' | sort; }
[ "$(store_keys "$T/tos3/dam.conf")" = "$(store_keys "$T/tos3url/dam.conf")" ] ||
	fail "--to-store URL and --to-store-conf made different [store] sections: $(diff <(store_keys "$T/tos3/dam.conf") <(store_keys "$T/tos3url/dam.conf"))"
if DAM_LIBRARY=$T/fslib dam migrate --to "$T/tos3bad" --to-store "s3://$S3_BUCKET?endpoint=$enc_endpoint&secret=x" >"$T/mig4.out" 2>&1; then
	fail "a secret in --to-store was accepted"
fi
grep -q 'visible to every local user' "$T/mig4.out" || fail "secret in --to-store: $(cat "$T/mig4.out")"
[ ! -e "$T/tos3bad" ] || fail "a refused --to-store left a library behind"
ok "migrate to S3 named by --to-store s3://…: the same [store], verified; a secret in the URL refused"
DAM_LIBRARY=$T/tos3 dam migrate --to "$T/back" --to-database sqlite: --to-store file: >"$T/mig2.out" 2>&1 ||
	fail "migrate back: $(cat "$T/mig2.out")"
grep -q '^backend = fs' "$T/back/dam.conf" || fail "the copy back names no folder store"
DAM_LIBRARY=$T/back dam fsck >/dev/null 2>&1 || fail "fsck of the copy back"
DAM_LIBRARY=$T/back dam get "$fsid" --rendition thumbnail -o "$T/back-thumb.webp"
cmp -s "$T/fs-thumb.webp" "$T/back-thumb.webp" || fail "the copy back's thumbnail differs"
ok "and back from S3 to a folder: verified, fsck clean, same bytes"
echo "library on S3: passed"
