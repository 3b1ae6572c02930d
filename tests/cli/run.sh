#!/usr/bin/env bash
# CLI integration tests for dam. See tests/cli/README.md.
#
#   DAM=build/dam FIXTURES=build/fixtures tests/cli/run.sh [NAME...]
#
# Each test runs in a subshell, in its own folder (and fresh library) under
# a temp dir removed at exit. Output is TAP; the exit status is non-zero when
# any test failed. DAM_TEST_SLOW=N multiplies every timeout (use 5 under
# ASan/UBSan). Naming tests (function names without "test_", e.g. "crash")
# runs only those.
set -u

DAM=${DAM:-build/dam}
FIXTURES=${FIXTURES:-build/fixtures}
SLOW=${DAM_TEST_SLOW:-1}
case $DAM in /*) ;; *) DAM=$PWD/$DAM ;; esac
case $FIXTURES in /*) ;; *) FIXTURES=$PWD/$FIXTURES ;; esac
[ -x "$DAM" ] || { echo "Bail out! no dam binary at $DAM (set DAM=)"; exit 2; }
[ -f "$FIXTURES/photo.jpg" ] || { echo "Bail out! no fixtures in $FIXTURES (run tests/gen-fixtures.sh)"; exit 2; }
for tool in jq sqlite3 vipsheader cmp timeout; do
	command -v "$tool" >/dev/null || { echo "Bail out! $tool is not installed (scripts/deps.sh)"; exit 2; }
done

TMPROOT=$(mktemp -d "${TMPDIR:-/tmp}/dam-cli.XXXXXX")
BGPIDS=$TMPROOT/bgpids
: >"$BGPIDS"
unset DAM_LIBRARY
# GLib criticals and warnings abort (scripts/test.sh explains why).
export G_DEBUG=${G_DEBUG:-fatal-warnings}
export USER=${USER:-tester}

cleanup() {
	local p
	# Only processes this script started in the background (recorded by bg).
	while read -r p; do
		[ -n "$p" ] && kill -9 "$p" 2>/dev/null
	done <"$BGPIDS"
	rm -rf "$TMPROOT"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------------ helpers

# dam with a generous hang guard (exit 124 if it hangs).
dam() { timeout -k 5 $((120 * SLOW)) "$DAM" "$@"; }

fail() { printf '%s\n' "$*" >>"$FAILS"; }

# assert_exit CODE cmd... : runs cmd; sets RC, OUT (stdout), ERR (stderr).
assert_exit() {
	local want=$1
	shift
	"$@" >"$T/.out" 2>"$T/.err"
	RC=$?
	OUT=$(cat "$T/.out")
	ERR=$(cat "$T/.err")
	if [ "$RC" != "$want" ]; then
		fail "expected exit $want, got $RC: $*"
		fail "  stdout: $(head -c 1500 "$T/.out")"
		fail "  stderr: $(head -c 1500 "$T/.err")"
		return 1
	fi
	return 0
}

assert_eq() { # EXPECTED ACTUAL [WHAT]
	[ "$1" == "$2" ] && return 0
	fail "${3:-value}: expected [$1], got [$2]"
	return 1
}

assert_ne() { # UNEXPECTED ACTUAL [WHAT]
	[ "$1" != "$2" ] && return 0
	fail "${3:-value}: expected anything but [$1]"
	return 1
}

assert_contains() { # HAYSTACK NEEDLE [WHAT]
	case $1 in *"$2"*) return 0 ;; esac
	fail "${3:-output}: expected to contain [$2], got [$(head -c 1500 <<<"$1")]"
	return 1
}

assert_not_contains() { # HAYSTACK NEEDLE [WHAT]
	case $1 in *"$2"*) fail "${3:-output}: must not contain [$2], got [$(head -c 1500 <<<"$1")]"; return 1 ;; esac
	return 0
}

assert_true() { # WHAT cmd...
	local what=$1
	shift
	"$@" && return 0
	fail "$what (failed: $*)"
	return 1
}

# jq on $OUT: j FILTER [jq args]
j() { jq -r "$@" <<<"$OUT"; }

# Starts a background command and records its pid (for cleanup): sets BG.
bg() {
	"$@" &
	BG=$!
	echo "$BG" >>"$BGPIDS"
}

# Polls cmd every 0.1 s until it succeeds; returns 1 after SECONDS*SLOW.
wait_for() { # SECONDS cmd...
	local deadline=$(($(date +%s%N) + $1 * SLOW * 1000000000))
	shift
	until "$@"; do
		[ "$(date +%s%N)" -ge "$deadline" ] && return 1
		sleep 0.1
	done
	return 0
}

# DAM_TEST_PG_URL (a postgres:// URL naming a database, e.g. from
# scripts/pg.sh): new_lib makes each library on a fresh database of its own
# on that server; libsql reads and edits either engine.
PG_DBS=0
new_pg_db() { # prints the URL of a fresh database on DAM_TEST_PG_URL's server
	PG_DBS=$((PG_DBS + 1))
	local name=dam_cli_$$_${BASHPID}_$PG_DBS
	psql -X -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE $name" "$DAM_TEST_PG_URL" >/dev/null || return 1
	sed -E "s|^(postgres(ql)?://[^/?]*/)[^?]*|\1$name|" <<<"$DAM_TEST_PG_URL"
}

libsql() { # LIB SQL: runs SQL on the library's database (its [database] url, or dam.db)
	local url
	url=$(sed -n 's/^url = //p' "$1/dam.conf")
	if [ -n "$url" ]; then
		psql -X -q -A -t -v ON_ERROR_STOP=1 -c "$2" "$url"
	else
		sqlite3 "$1/dam.db" "$2"
	fi
}

new_lib() { # creates $T/lib and points DAM_LIBRARY at it
	LIB=$T/lib
	local db=()
	if [ -n "${DAM_TEST_PG_URL:-}" ]; then
		db=(--database "$(new_pg_db)") || fail "cannot create a database on $DAM_TEST_PG_URL"
	fi
	"$DAM" init "$LIB" "${db[@]}" >/dev/null || fail "dam init $LIB failed"
	export DAM_LIBRARY=$LIB
}

# Blobs in the store (temp objects excluded).
count_objects() { find "$1/objects" -type f ! -path '*/objects/tmp/*' -printf x | wc -c; }
# Live assets.
count_assets() { dam ls --json --limit 100000 | jq length; }
# Path-keyed id from an ingest --json result in $OUT.
id_of() { j --arg p "$1" '[.results[] | select(.path | endswith("/" + $p)) | .asset_id][0] // ""'; }
# Regular, non-hidden files under a folder (what ingest should see).
count_files() { find "$1" -type f ! -path '*/.*' -printf x | wc -c; }
# Pids of running processes whose command line holds "--parent PID" (workers' children).
children_of() { pgrep -f -- "--parent $1 " 2>/dev/null; }

# ------------------------------------------------------------------ tests

test_init_and_find() {
	assert_exit 0 dam init "$T/lib"
	assert_contains "$OUT" "created dam library"
	local f
	for f in dam.conf dam.db objects cache; do
		assert_true "init creates $f" test -e "$T/lib/$f"
	done
	assert_true "objects/ is a folder" test -d "$T/lib/objects"
	assert_true "cache/ is a folder" test -d "$T/lib/cache"

	assert_exit 4 dam init "$T/lib"
	assert_contains "$ERR" "already holds"

	"$DAM" --library "$T/lib" ingest --no-process "$FIXTURES/photo2.jpg" >/dev/null 2>&1
	assert_exit 0 dam --library "$T/lib" ls --json
	assert_eq 1 "$(j length)" "--library finds the library"
	assert_exit 0 dam -L "$T/lib" ls --json
	assert_eq 1 "$(j length)" "-L finds the library"
	assert_exit 0 env DAM_LIBRARY="$T/lib" "$DAM" ls --json
	assert_eq 1 "$(j length)" "DAM_LIBRARY finds the library"
	mkdir -p "$T/lib/subdir/deeper"
	assert_exit 0 sh -c 'cd "$1/lib/subdir/deeper" && exec "$2" ls --json' sh "$T" "$DAM"
	assert_eq 1 "$(j length)" "walking up from a subfolder finds the library"

	mkdir -p "$T/elsewhere"
	assert_exit 3 sh -c 'cd "$1/elsewhere" && exec "$2" ls' sh "$T" "$DAM"
	assert_contains "$ERR" "dam init"
	assert_contains "$ERR" "DAM_LIBRARY"
	assert_exit 3 env DAM_LIBRARY="$T/elsewhere" "$DAM" ls
	assert_contains "$ERR" "not a dam library"
	assert_exit 3 dam --library "$T/nope" show 0123456789
}

test_ingest_fixtures() {
	new_lib
	local n
	n=$(count_files "$FIXTURES")
	assert_exit 1 dam ingest --json "$FIXTURES" # empty.jpg fails
	local res=$OUT
	assert_eq $((n - 2)) "$(j .summary.added)" "added"
	assert_eq 1 "$(j .summary.duplicates)" "duplicates"
	assert_eq 1 "$(j .summary.failed)" "failed"
	assert_eq 0 "$(j .summary.versions)" "versions"
	assert_eq 3 "$(j .summary.processing_failed)" "processing_failed (bomb, huge-dims, corrupt)"
	assert_eq "bomb.png,corrupt.jpg,huge-dims.png" \
		"$(j '[.results[] | select(.status=="processing_failed") | .path | split("/")[-1]] | sort | join(",")')" \
		"processing failures ($(j '[.results[] | select(.status=="processing_failed") | "\(.path): \(.error)"] | join("; ")'))"
	assert_eq $((n - 2)) "$(j '[.results[] | select(.status=="added")] | length')" "added results"
	assert_eq 0 "$(j '[.results[] | select(.status=="added") | select((.kind // "") == "" or (.mime // "") == "" or (.asset_id // "") == "" or .version != 1)] | length')" \
		"added results without kind/mime/asset_id/version 1"

	local photo
	photo=$(id_of photo.jpg)
	assert_ne "" "$photo" "photo.jpg asset id"
	assert_eq "tree/a/b/c/photo-copy.jpg" \
		"$(j '.results[] | select(.status=="duplicate") | .path | split("/")[-5:] | join("/")')" "the duplicate"
	assert_eq "$photo" "$(j '.results[] | select(.status=="duplicate") | .duplicate_of')" "duplicate_of"
	assert_eq "empty.jpg|file is empty" \
		"$(j '.results[] | select(.status=="failed") | (.path | split("/")[-1]) + "|" + .error')" "the failure"
	assert_eq "image|image/png|png" \
		"$(j '.results[] | select(.path | endswith("/fake.jpg")) | [.kind, .mime, .extension_mismatch] | join("|")')" "fake.jpg"
	assert_eq "null" "$(j '.results[] | select(.path | endswith("/photo.jpg")) | .extension_mismatch')" "photo.jpg has no mismatch"
	local f kind
	for f in photo.jpg:image clip.mp4:video sound.wav:audio doc.pdf:document notes.txt:other drawing.svg:image; do
		kind=$(j --arg p "/${f%%:*}" '.results[] | select(.path | endswith($p)) | .kind')
		assert_eq "${f#*:}" "$kind" "kind of ${f%%:*}"
	done
	assert_eq "$(count_files "$FIXTURES")" "$(j '.results | map(select(.status != "processing_failed")) | length')" \
		"one result per file"

	assert_exit 0 dam show --json "$photo"
	assert_eq "$photo" "$(j .id)" "show id"
	assert_eq "photo.jpg" "$(j .name)" "name"
	assert_eq "image" "$(j .kind)" "kind"
	assert_eq "ready" "$(j .versions[0].status)" "version status"
	assert_eq "$(j .versions[0].id)" "$(j .current_version_id)" "current version"
	assert_eq "$(stat -c %s "$FIXTURES/photo.jpg")" "$(j .versions[0].size)" "size"
	assert_eq "$(sha256sum <"$FIXTURES/photo.jpg" | cut -c1-64)" "$(j .versions[0].hash)" "hash"
	assert_eq 1200 "$(j .versions[0].metadata.width)" "width"
	assert_eq 800 "$(j .versions[0].metadata.height)" "height"
	assert_eq Canon "$(j .versions[0].metadata.exif.make)" "exif make"
	assert_eq "Canon EOS R5" "$(j .versions[0].metadata.exif.model)" "exif model"
	# media.h: keywords come from IPTC and XMP, merged.
	assert_eq true "$(j '.versions[0].metadata.embedded.keywords | index("sneaker") != null')" "embedded keyword sneaker"
	assert_eq true "$(j '.versions[0].metadata.embedded.keywords | index("iptc-only-keyword") != null')" "IPTC keyword merged"
	assert_eq true "$(j '.versions[0].metadata.embedded.keywords | index("spring 2026") != null')" "multi-word keyword"
	assert_eq embedded "$(j '.tags[] | select(.tag=="sneaker") | .source')" "tag sneaker from embedded"
	assert_eq embedded "$(j '.tags[] | select(.tag=="iptc-only-keyword") | .source')" "tag from IPTC"
	assert_eq "Spring launch hero" "$(j .fields.title)" "title field"
	assert_eq "Blue sneaker on white" "$(j .fields.description)" "description field"
	assert_eq "Ada Photographer" "$(j .fields.creator)" "creator field"
	assert_eq "image/webp" "$(j '.versions[0].renditions[] | select(.name=="thumbnail") | .mime')" "thumbnail mime"
	assert_eq "320x213" "$(j '.versions[0].renditions[] | select(.name=="thumbnail") | "\(.width)x\(.height)"')" "thumbnail size"
	assert_eq "image/webp" "$(j '.versions[0].renditions[] | select(.name=="preview") | .mime')" "preview mime"
	assert_eq "1200x800" "$(j '.versions[0].renditions[] | select(.name=="preview") | "\(.width)x\(.height)"')" \
		"preview (never upscaled)"

	assert_exit 0 dam get "$photo" --rendition thumbnail -o "$T/thumb.webp"
	assert_eq RIFF "$(head -c 4 "$T/thumb.webp")" "thumbnail magic"
	assert_eq WEBP "$(dd if="$T/thumb.webp" bs=1 skip=8 count=4 2>/dev/null)" "thumbnail magic"
	assert_eq 320 "$(vipsheader -f width "$T/thumb.webp" 2>&1)" "thumbnail width (vipsheader)"
	assert_eq 213 "$(vipsheader -f height "$T/thumb.webp" 2>&1)" "thumbnail height (vipsheader)"
	assert_exit 0 dam get "$photo" --rendition preview -o "$T/preview.webp"
	assert_eq 1200 "$(vipsheader -f width "$T/preview.webp" 2>&1)" "preview width"
	assert_exit 0 dam get "$photo" -o "$T/orig.jpg"
	assert_true "get returns the original bytes" cmp -s "$FIXTURES/photo.jpg" "$T/orig.jpg"
	dam get "$photo" -o - >"$T/stdout.jpg" 2>/dev/null
	assert_true "get -o - returns the original bytes" cmp -s "$FIXTURES/photo.jpg" "$T/stdout.jpg"
	assert_eq 0 "$(find "$T" -maxdepth 1 -name "*dam-tmp*" -printf x | wc -c)" "temp files left by get"
	assert_exit 3 dam get "$photo" --rendition nosuch -o "$T/x"
	assert_contains "$ERR" "nosuch"
	assert_exit 3 dam get 01234567-89ab-cdef-0123-456789abcdef -o "$T/x"
	assert_exit 2 dam get "$photo"
}

test_dedup_and_dry_run() {
	new_lib
	local n objs assets
	n=$(count_files "$FIXTURES")
	# No processing: this is about storage and identity (and it is faster).
	assert_exit 1 dam ingest --no-process --json "$FIXTURES"
	local photo first=$OUT
	photo=$(id_of photo.jpg)
	objs=$(count_objects "$LIB")
	assets=$(count_assets)
	assert_eq $((n - 2)) "$assets" "assets after the first ingest"

	assert_exit 1 dam ingest --no-process --json "$FIXTURES" # empty.jpg still fails
	assert_eq 0 "$(j .summary.added)" "added on re-ingest"
	assert_eq 0 "$(j .summary.versions)" "versions on re-ingest"
	assert_eq $((n - 1)) "$(j .summary.duplicates)" "duplicates on re-ingest (all but empty.jpg)"
	assert_eq 1 "$(j .summary.failed)" "failed on re-ingest"
	assert_eq 0 "$(j '[.results[] | select(.status=="duplicate") | select((.duplicate_of // "") == "")] | length')" \
		"duplicates without duplicate_of"
	assert_eq "$photo" "$(j '.results[] | select(.path | endswith("/photo.jpg")) | .duplicate_of')" "photo.jpg duplicates itself"
	assert_eq "$photo" "$(j '.results[] | select(.path | endswith("/photo-copy.jpg")) | .duplicate_of')" "photo-copy.jpg"
	# Every duplicate_of names the asset the first run made from that file.
	local mism
	mism=$(jq -n --argjson a "$first" --argjson b "$OUT" '
		($a.results | map(select(.status=="added") | {(.path): .asset_id}) | add) as $m
		| [$b.results[] | select(.status=="duplicate" and ($m[.path] // .duplicate_of) != .duplicate_of) | .path]')
	assert_eq "[]" "$(jq -c . <<<"$mism")" "duplicate_of matches the first run's asset"
	assert_eq "$objs" "$(count_objects "$LIB")" "objects/ file count after re-ingest"
	assert_eq "$assets" "$(count_assets)" "asset count after re-ingest"
	assert_exit 1 dam ingest --no-process "$FIXTURES"
	assert_contains "$OUT" "0 added, 0 new versions, $((n - 1)) duplicates skipped, 1 failed"

	cp "$FIXTURES/photo.jpg" "$T/new.jpg"
	printf 'x' >>"$T/new.jpg"
	assert_exit 0 dam ingest --dry-run --json "$T/new.jpg"
	assert_eq 1 "$(j .summary.would_add)" "would_add"
	assert_eq 0 "$(j .summary.added)" "added in dry run"
	assert_eq would_add "$(j .results[0].status)" "dry-run status"
	assert_eq "$(sha256sum <"$T/new.jpg" | cut -c1-64)" "$(j .results[0].hash)" "dry-run hash"
	assert_exit 0 dam ingest --dry-run "$T/new.jpg" "$FIXTURES/photo.jpg"
	assert_contains "$OUT" "dry run: 1 would be added, 1 duplicates, 0 failed"
	assert_eq "$assets" "$(count_assets)" "asset count after dry run"
	assert_eq "$objs" "$(count_objects "$LIB")" "objects after dry run"
	assert_eq 0 "$(find "$LIB/objects" -type f -path '*/objects/tmp/*' | wc -l)" "temp objects after dry run"
}

test_ingest_tags_meta() {
	new_lib
	assert_exit 0 dam ingest --json --tag red --tag "summer sale" --meta client=acme --meta project.code=X-1 \
		"$FIXTURES/photo2.jpg"
	local id
	id=$(id_of photo2.jpg)
	assert_exit 0 dam show --json "$id"
	assert_eq "red:user,summer sale:user" "$(j '[.tags[] | select(.source != "automatic") | "\(.tag):\(.source)"] | sort | join(",")')" "tags"
	assert_eq "landscape" "$(j '.tags[] | select(.source == "automatic" and .tag == "landscape") | .tag')" "automatic orientation tag"
	assert_eq acme "$(j .fields.client)" "field client"
	assert_eq X-1 "$(j '.fields["project.code"]')" "field project.code"
	assert_exit 0 dam ls --tag "summer sale" --json
	assert_eq "$id" "$(j '.[0].id')" "ls --tag finds the ingest tag"

	local objs
	objs=$(count_objects "$LIB")
	assert_exit 4 dam ingest --meta "Bad Key=1" "$FIXTURES/photo.jpg"
	assert_contains "$ERR" "Bad Key"
	assert_exit 2 dam ingest --meta novalue "$FIXTURES/photo.jpg"
	assert_contains "$ERR" "KEY=VALUE"
	assert_exit 4 dam ingest --tag "" "$FIXTURES/photo.jpg"
	assert_eq 1 "$(count_assets)" "nothing ingested by invalid options"
	assert_eq "$objs" "$(count_objects "$LIB")" "no objects written by invalid options"
}

test_new_version() {
	new_lib
	assert_exit 0 dam ingest --json "$FIXTURES/photo.jpg"
	local id v1
	id=$(id_of photo.jpg)
	v1=$(j .results[0].version_id)
	assert_exit 0 dam ingest --json --new-version-of "$id" "$FIXTURES/photo2.jpg"
	assert_eq version "$(j .results[0].status)" "status"
	assert_eq 2 "$(j .results[0].version)" "version number"
	assert_eq "$id" "$(j .results[0].asset_id)" "asset id"
	assert_eq 1 "$(j .summary.versions)" "summary.versions"
	local v2
	v2=$(j .results[0].version_id)
	assert_exit 0 dam show --json "$id"
	assert_eq "$v2" "$(j .current_version_id)" "current version after the new version"
	assert_ne "$v1" "$v2" "version ids"
	assert_eq "1,2" "$(j '[.versions[].number] | sort | join(",")')" "version numbers"
	assert_eq "640" "$(j --arg v "$v2" '.versions[] | select(.id==$v) | .metadata.width')" "v2 metadata"
	assert_eq 1 "$(count_assets)" "still one asset"
	assert_exit 0 dam get "$id" --version 1 -o "$T/v1"
	assert_true "get --version 1 returns photo.jpg" cmp -s "$FIXTURES/photo.jpg" "$T/v1"
	assert_exit 0 dam get "$id" -o "$T/cur"
	assert_true "get returns the current version (photo2.jpg)" cmp -s "$FIXTURES/photo2.jpg" "$T/cur"
	assert_exit 0 dam get "$id" --version 2 -o "$T/v2"
	assert_true "get --version 2 returns photo2.jpg" cmp -s "$FIXTURES/photo2.jpg" "$T/v2"
	assert_exit 3 dam get "$id" --version 3 -o "$T/v3"
	assert_exit 2 dam ingest --new-version-of "$id" "$FIXTURES/photo.jpg" "$FIXTURES/alpha.png"
	assert_exit 1 dam ingest --new-version-of 01234567-0000-0000-0000-000000000000 "$FIXTURES/alpha.png"
	assert_eq 1 "$(count_assets)" "no asset from a bad --new-version-of"
}

test_globs() {
	new_lib
	assert_exit 0 dam ingest --json "$FIXTURES/names/*.jpg"
	assert_eq 4 "$(j .summary.added)" "added by the glob"
	assert_eq 0 "$(j .summary.failed)" "failed"
	assert_eq 4 "$(count_assets)" "assets"
	local p
	for p in "-dash.jpg" "with space.jpg" "白色运动鞋.jpg" $'new\nline.jpg'; do
		assert_eq added "$(j --arg p "/names/$p" '.results[] | select(.path | endswith($p)) | .status')" "glob result for $p"
	done
	assert_exit 0 dam ls --json
	assert_eq true "$(j 'map(.name) | index("白色运动鞋.jpg") != null')" "unicode name kept"
	assert_eq true "$(j 'map(.name) | index("-dash.jpg") != null')" "dash name kept"
	assert_exit 1 dam ingest "$FIXTURES/names/*.png"
	assert_contains "$ERR" "no files match" "a glob matching nothing"
	assert_exit 0 dam ingest "$FIXTURES/names/w*.jpg"
	assert_contains "$OUT" "0 added, 0 new versions, 1 duplicates skipped"
}

test_tag_meta_rm_restore() {
	new_lib
	assert_exit 0 dam ingest --json "$FIXTURES/photo.jpg" "$FIXTURES/alpha.png"
	local id other
	id=$(id_of photo.jpg)
	other=$(id_of alpha.png)
	assert_exit 0 dam tag "$id" +red -sneaker
	assert_exit 0 dam show --json "$id"
	assert_eq user "$(j '.tags[] | select(.tag=="red") | .source')" "+red"
	assert_eq "" "$(j '.tags[] | select(.tag=="sneaker") | .tag')" "-sneaker removed"
	assert_eq embedded "$(j '.tags[] | select(.tag=="blue") | .source')" "other embedded tags stay"
	# Reprocessing (a new version whose embedded keywords include sneaker)
	# must not bring the removed tag back.
	cp "$FIXTURES/photo.jpg" "$T/photo-v2.jpg"
	printf 'v2' >>"$T/photo-v2.jpg"
	assert_exit 0 dam ingest --new-version-of "$id" "$T/photo-v2.jpg"
	assert_exit 0 dam show --json "$id"
	assert_eq ready "$(j '.versions[] | select(.number==2) | .status')" "v2 processed"
	assert_eq true "$(j '.versions[] | select(.number==2) | .metadata.embedded.keywords | index("sneaker") != null')" \
		"v2 still carries the keyword"
	assert_eq "" "$(j '.tags[] | select(.tag=="sneaker") | .tag')" "removed tag stays removed after reprocessing"
	assert_eq user "$(j '.tags[] | select(.tag=="red") | .source')" "user tag kept"
	# Adding it back by hand works.
	assert_exit 0 dam tag "$id" sneaker
	assert_exit 0 dam show --json "$id"
	assert_eq user "$(j '.tags[] | select(.tag=="sneaker") | .source')" "re-added tag"
	assert_exit 2 dam tag "$id"

	assert_exit 0 dam meta "$id" client=acme note="two words"
	assert_exit 0 dam show --json "$id"
	assert_eq acme "$(j .fields.client)" "meta set"
	assert_eq "two words" "$(j .fields.note)" "meta set with space"
	assert_exit 0 dam meta "$id" client=
	assert_exit 0 dam show --json "$id"
	assert_eq null "$(j .fields.client)" "key= removes the field"
	assert_eq "two words" "$(j .fields.note)" "other field kept"
	assert_exit 4 dam meta "$id" "Bad Key=1"
	assert_exit 2 dam meta "$id" novalue

	assert_exit 0 dam rm "$id"
	assert_contains "$OUT" "deleted"
	assert_exit 0 dam ls --json
	assert_eq "$other" "$(j 'map(.id) | join(",")')" "ls hides the deleted asset"
	assert_exit 0 dam ls --deleted --json
	assert_eq "$id" "$(j 'map(.id) | join(",")')" "ls --deleted shows it"
	assert_exit 0 dam show --json "$id"
	assert_eq true "$(j .deleted)" "show says deleted"
	assert_exit 4 dam rm "$id"
	assert_contains "$ERR" "already deleted"
	assert_exit 0 dam restore "$id"
	assert_exit 0 dam ls --json
	assert_eq 2 "$(j length)" "restore brings it back"
	assert_exit 0 dam ls --deleted --json
	assert_eq 0 "$(j length)" "nothing deleted after restore"
	assert_exit 4 dam restore "$id"
	assert_exit 3 dam rm 01234567-0000-0000-0000-000000000000
}

test_corrupt_retry() {
	new_lib
	assert_exit 1 dam ingest --json "$FIXTURES/corrupt.jpg"
	local id
	id=$(j '.results[] | select(.status=="added") | .asset_id')
	assert_eq 1 "$(j .summary.processing_failed)" "processing_failed"
	assert_exit 0 dam show --json "$id"
	assert_eq failed "$(j .versions[0].status)" "version status"
	local e
	e=$(j .versions[0].error)
	assert_contains "$e" "decode" "version error"
	assert_contains "$(tr A-Z a-z <<<"$e")" "jpeg" "version error names the decoder"
	assert_eq 0 "$(j '.versions[0].renditions | length')" "no renditions"
	assert_exit 0 dam jobs --state failed --json
	assert_eq 1 "$(j '.jobs | length')" "failed jobs"
	assert_eq "corrupt.jpg|failed" "$(j '.jobs[0] | "\(.filename)|\(.state)"')" "the failed job"
	assert_contains "$(j .jobs[0].error)" "decode" "job error"
	assert_eq 1 "$(j .counts.failed)" "counts.failed"
	assert_exit 0 dam jobs
	assert_contains "$OUT" "failed 1"
	assert_contains "$OUT" "corrupt.jpg"

	assert_exit 0 dam jobs retry
	assert_contains "$OUT" "1 job(s) queued again"
	assert_exit 0 dam jobs --json
	assert_eq "1,0" "$(j '"\(.counts.queued),\(.counts.failed)"')" "queued,failed after retry"
	assert_exit 0 dam show --json "$id"
	assert_eq pending "$(j .versions[0].status)" "version pending after retry"
	assert_exit 0 dam worker --until-idle
	assert_exit 0 dam jobs --json
	assert_eq "0,0,1" "$(j '"\(.counts.queued),\(.counts.running),\(.counts.failed)"')" "queued,running,failed after the worker"
	assert_exit 0 dam show --json "$id"
	assert_eq failed "$(j .versions[0].status)" "still failed"
	assert_contains "$(j .versions[0].error)" "decode" "error recorded again"
	assert_exit 0 dam jobs retry
	assert_contains "$OUT" "1 job(s)"
	assert_exit 0 dam jobs retry
	assert_contains "$OUT" "0 job(s)" "nothing left to retry"
	assert_exit 3 dam jobs retry 01234567-0000-0000-0000-000000000000
}

test_decompression_bomb() {
	new_lib
	local t0 t1 id f
	t0=$(date +%s%N)
	assert_exit 1 dam ingest --json "$FIXTURES/bomb.png" "$FIXTURES/huge-dims.png"
	t1=$(date +%s%N)
	local ms=$(((t1 - t0) / 1000000))
	assert_true "ingest+processing of the bombs took ${ms} ms (limit $((10 * SLOW)) s)" test "$ms" -lt $((10000 * SLOW))
	assert_eq 2 "$(j .summary.added)" "added"
	assert_eq 2 "$(j .summary.processing_failed)" "processing_failed"
	local res=$OUT
	for f in bomb.png huge-dims.png; do
		OUT=$res
		id=$(id_of "$f")
		assert_exit 0 dam show --json "$id"
		assert_eq failed "$(j .versions[0].status)" "$f status"
		assert_contains "$(j .versions[0].error)" "megapixels" "$f error"
		assert_contains "$(j .versions[0].error)" "limit" "$f error"
		assert_eq 0 "$(j '.versions[0].renditions | length')" "$f renditions"
		assert_exit 3 dam get "$id" --rendition thumbnail -o "$T/t.webp"
	done
	OUT=$res
	assert_contains "$(j '.results[] | select(.path=="huge-dims.png" or (.path|endswith("/huge-dims.png"))) | select(.status=="processing_failed") | .error')" \
		"60000x60000" "huge-dims error names the size"
}

# Starts an ingest of $1, kills it with SIGKILL after $2 seconds, then waits
# for the worker children it left behind.
kill_ingest_after() {
	local src=$1 delay=$2 p kids k
	bg "$DAM" ingest "$src" >"$T/killed.out" 2>&1
	p=$BG
	sleep "$delay"
	kids=$(children_of "$p")
	kill -9 "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	for k in $kids $(children_of "$p"); do
		wait_for 30 sh -c "! kill -0 $k 2>/dev/null" || fail "worker child $k of killed ingest $p still runs"
	done
	echo "# killed ingest after ${delay}s: $(grep -c '^added' "$T/killed.out") files added in that run"
}

test_crash_kill9() {
	new_lib
	local src=$T/src i n
	mkdir -p "$src"
	# A small JPEG followed by 1 MB of random bytes: distinct, still decodable
	# (decoders stop at the end-of-image marker) and quick to process, while
	# the ingest phase (copy, hash, fsync) lasts long enough to be hit.
	for i in $(seq 1 60); do
		{
			cat "$FIXTURES/names/with space.jpg"
			head -c 1000000 /dev/urandom
		} >"$src/img$i.jpg"
	done
	n=60
	for delay in 0.2 0.5 1; do
		delay=$(awk -v d="$delay" -v r="$RANDOM" 'BEGIN { printf "%.2f", d + (r % 100) / 1000 }')
		kill_ingest_after "$src" "$delay"
		assert_exit 0 dam fsck
		assert_contains "$OUT" "library is clean" "fsck after kill -9 at ${delay}s"
	done

	# Once more, killed in the worker phase: every file was reported, jobs remain.
	bg "$DAM" ingest "$src" >"$T/killed.out" 2>&1
	local p=$BG kids
	if wait_for 60 sh -c "[ \$(grep -c -e '^added' -e '^duplicate' '$T/killed.out') -ge $n ]"; then
		kids=$(children_of "$p")
		local pending
		pending=$(dam jobs --json | jq '.counts.queued + .counts.running')
		kill -9 "$p" 2>/dev/null
		echo "# killed ingest in the worker phase with $pending jobs pending"
		[ "$pending" -gt 0 ] || echo "# (nothing was pending: the worker phase kill did not hit work)"
	else
		fail "ingest did not finish its ingest phase in time"
		kill -9 "$p" 2>/dev/null
	fi
	wait "$p" 2>/dev/null
	for k in $kids $(children_of "$p"); do
		wait_for 30 sh -c "! kill -0 $k 2>/dev/null" || fail "worker child $k still runs"
	done
	assert_exit 0 dam fsck
	assert_contains "$OUT" "library is clean" "fsck after kill -9 in the worker phase"
	assert_exit 0 dam audit verify

	assert_exit 0 dam ingest --json "$src"
	assert_eq 0 "$(j .summary.failed)" "failed on the re-run"
	assert_eq "$n" "$(j '.summary.added + .summary.duplicates')" "added+duplicates on the re-run"
	assert_exit 0 dam ls --json --limit 100000
	assert_eq "$n" "$(j length)" "asset count == file count"
	assert_eq "$n" "$(j 'map(.name) | unique | length')" "every file exactly once"
	assert_eq "ready" "$(j 'map(.status) | unique | join(",")')" "all current versions ready"
	assert_exit 0 dam jobs --json
	assert_eq "0,0,0" "$(j '"\(.counts.queued),\(.counts.running),\(.counts.failed)"')" "queued,running,failed jobs"
	# Every blob in the store holds what its name says and nothing is missing.
	assert_exit 0 dam fsck --json
	assert_eq "true,0,0,0" "$(j '"\(.ok),\(.damaged),\(.missing),\(.bad_refcounts)"')" "fsck after the re-run"
	for i in 1 30 60; do
		local aid
		aid=$(dam ls --json --limit 100000 | jq -r --arg n "img$i.jpg" '.[] | select(.name==$n) | .id')
		dam get "$aid" -o "$T/back$i" >/dev/null 2>&1
		assert_true "img$i.jpg comes back byte-identical" cmp -s "$src/img$i.jpg" "$T/back$i"
	done
	assert_exit 0 dam gc
	assert_exit 0 dam fsck --json
	assert_eq "true,0,0" "$(j '"\(.ok),\(.temp_objects),\(.unreferenced)"')" "fsck after gc: ok,temp_objects,unreferenced"
	assert_eq 0 "$(find "$LIB/objects" -path '*/objects/tmp/*' -type f | wc -l)" "temp files on disk after gc"
}

test_fsck_damage_gc() {
	new_lib
	assert_exit 0 dam ingest --json "$FIXTURES/photo.jpg" "$FIXTURES/photo2.jpg"
	local a b ha hb oa ob
	a=$(id_of photo.jpg)
	b=$(id_of photo2.jpg)
	ha=$(j '.results[] | select(.path | endswith("/photo.jpg")) | .hash')
	hb=$(j '.results[] | select(.path | endswith("/photo2.jpg")) | .hash')
	oa=$LIB/objects/${ha:0:2}/${ha:2:2}/$ha
	ob=$LIB/objects/${hb:0:2}/${hb:2:2}/$hb
	assert_true "blob of photo.jpg at $oa" test -f "$oa"
	assert_exit 0 dam fsck
	assert_contains "$OUT" "library is clean"

	cp "$oa" "$T/a.bak"
	chmod u+w "$oa"
	printf 'BITROT' | dd of="$oa" bs=1 seek=1000 conv=notrunc 2>/dev/null
	assert_exit 1 dam fsck
	assert_contains "$OUT" "damaged: $ha" "fsck names the damaged blob"
	assert_contains "$OUT" "1 damaged"
	assert_contains "$OUT" "library is DAMAGED"
	assert_exit 1 dam fsck --json
	assert_eq "false,1" "$(j '"\(.ok),\(.damaged)"')" "fsck --json ok,damaged"
	assert_eq "$ha" "$(j '.problems[] | select(.kind=="damaged") | .object')" "problem names the blob"
	cp "$T/a.bak" "$oa"

	mv "$ob" "$T/b.bak"
	assert_exit 1 dam fsck
	assert_contains "$OUT" "missing: $hb" "fsck names the missing blob"
	assert_contains "$OUT" "1 missing"
	dam get "$b" -o "$T/x" >/dev/null 2>&1
	assert_ne 0 "$?" "get of an asset whose blob is missing fails"
	mv "$T/b.bak" "$ob"
	assert_exit 0 dam fsck
	assert_contains "$OUT" "library is clean" "clean again once restored"

	local orphan
	orphan=abcd$(printf 'orphan %s' "$RANDOM" | sha256sum | cut -c5-64)
	(umask 077 && mkdir -p "$LIB/objects/ab/cd" && printf 'not referenced by anything' >"$LIB/objects/ab/cd/$orphan")
	local before
	before=$(count_objects "$LIB")
	assert_exit 0 dam fsck
	assert_contains "$OUT" "reclaimable: 1 unreferenced blobs" "fsck reports the orphan as reclaimable"
	assert_contains "$OUT" "library is clean" "an orphan is not damage"
	assert_exit 0 dam gc --dry-run
	assert_contains "$OUT" "would remove 1 unreferenced blobs (26 bytes)"
	assert_true "dry run keeps the orphan" test -f "$LIB/objects/ab/cd/$orphan"
	assert_exit 0 dam gc
	assert_contains "$OUT" "removed 1 unreferenced blobs (26 bytes)"
	assert_true "gc removed the orphan" test ! -e "$LIB/objects/ab/cd/$orphan"
	assert_eq $((before - 1)) "$(count_objects "$LIB")" "objects after gc"
	assert_exit 0 dam gc
	assert_contains "$OUT" "removed 0 unreferenced blobs"
	assert_exit 0 dam get "$a" -o "$T/a.out"
	assert_true "referenced blobs survive gc" cmp -s "$FIXTURES/photo.jpg" "$T/a.out"
	assert_exit 0 dam fsck --json
	assert_eq "true,0,0" "$(j '"\(.ok),\(.unreferenced),\(.temp_objects)"')" "fsck after gc"
}

test_audit_chain() {
	new_lib
	assert_exit 0 dam ingest --no-process --json "$FIXTURES/photo2.jpg" "$FIXTURES/alpha.png" "$FIXTURES/notes.txt"
	local id
	id=$(id_of photo2.jpg)
	dam tag "$id" +red >/dev/null 2>&1
	dam meta "$id" client=acme >/dev/null 2>&1
	dam rm "$id" >/dev/null 2>&1
	dam restore "$id" >/dev/null 2>&1
	assert_exit 0 dam audit verify
	assert_contains "$OUT" "intact"
	local rows
	rows=$(grep -o '[0-9]* rows' <<<"$OUT" | cut -d' ' -f1)
	assert_true "audit has rows for 3 ingests and 4 changes (got ${rows:-none})" test "${rows:-0}" -ge 7
	assert_exit 0 dam audit log --limit 0 --json
	assert_eq "$rows" "$(grep -c '^{' <<<"$OUT")" "audit log rows == verified rows"
	assert_exit 0 dam audit log "$id"
	assert_contains "$OUT" "$id"
	assert_exit 0 dam audit log --limit 2
	assert_eq 2 "$(grep -c . <<<"$OUT")" "audit log --limit 2"

	libsql "$LIB" "UPDATE audit SET action='asset.delete' WHERE seq=2" || fail "SQL edit failed"
	assert_exit 1 dam audit verify
	assert_contains "$OUT" "row 2" "verify names the edited row"
	assert_exit 1 dam fsck
	assert_contains "$OUT" "BROKEN" "fsck reports the broken chain"

	# Fresh library: remove a middle row.
	T2=$T/gap
	mkdir -p "$T2"
	"$DAM" init "$T2/lib" >/dev/null
	DAM_LIBRARY=$T2/lib "$DAM" ingest --no-process "$FIXTURES/photo2.jpg" "$FIXTURES/alpha.png" "$FIXTURES/notes.txt" >/dev/null 2>&1
	assert_exit 0 env DAM_LIBRARY="$T2/lib" "$DAM" audit verify
	libsql "$T2/lib" "DELETE FROM audit WHERE seq=2" || fail "SQL delete failed"
	assert_exit 1 env DAM_LIBRARY="$T2/lib" "$DAM" audit verify
	assert_contains "$OUT" "gap" "verify names the gap"
	assert_contains "$OUT" "row 2" "verify names the removed row"

	# Fresh library: remove the newest row.
	T2=$T/head
	mkdir -p "$T2"
	"$DAM" init "$T2/lib" >/dev/null
	DAM_LIBRARY=$T2/lib "$DAM" ingest --no-process "$FIXTURES/photo2.jpg" "$FIXTURES/alpha.png" "$FIXTURES/notes.txt" >/dev/null 2>&1
	libsql "$T2/lib" "DELETE FROM audit WHERE seq=(SELECT max(seq) FROM audit)" || fail "SQL delete failed"
	assert_exit 1 env DAM_LIBRARY="$T2/lib" "$DAM" audit verify
	assert_contains "$OUT" "head" "verify detects the removed last row"
	assert_exit 2 dam audit frobnicate
}

test_bad_input() {
	new_lib
	local in=$T/in
	mkdir -p "$in/dir"
	cp "$FIXTURES/photo2.jpg" "$FIXTURES/alpha.png" "$in/"
	cp "$FIXTURES/names/new"*".jpg" "$in/"
	ln -s nowhere "$in/dangling.jpg"
	ln -s loop "$in/loop"
	ln -s .. "$in/dir/up"
	cp "$FIXTURES/notes.txt" "$in/dir/"
	assert_exit 1 dam ingest "$in"
	assert_contains "$ERR" "dangling.jpg" "error line for the dangling symlink"
	assert_contains "$ERR" "in/loop" "error line for the symlink loop"
	assert_contains "$ERR" "dir/up" "error line for the folder loop"
	assert_contains "$OUT" "4 added" "the rest of the batch is ingested"
	assert_contains "$OUT" "3 failed"
	assert_contains "$OUT" "new?line.jpg" "control characters shown as ?"
	assert_eq "" "$(grep '^line.jpg' <<<"$OUT")" "no raw newline in a file name"
	assert_eq 4 "$(count_assets)" "assets"
	assert_exit 1 dam ingest --json "$in"
	assert_eq 3 "$(j '[.results[] | select(.status=="failed")] | length')" "failed results"
	assert_eq 4 "$(j .summary.duplicates)" "duplicates"
	assert_exit 1 dam ingest "$T/does-not-exist.jpg"
	assert_contains "$ERR" "does-not-exist.jpg"
	assert_exit 2 dam ingest
}

test_names_and_types() {
	new_lib
	local in=$T/in rlo=$'\u202e' lri=$'\u2066'
	mkdir -p "$in/sub"
	cp "$FIXTURES/photo2.jpg" "$in/invoice${rlo}gpj.exe"
	cp "$FIXTURES/alpha.png" "$in/sub/a${lri}b.png"
	cp "$FIXTURES/notes.txt" "$in/notes-as.jpg"
	cp "$FIXTURES/photo.jpg" "$in/ok.jpg"
	# a file given by name and files found by the folder walk get the same check
	assert_exit 1 dam ingest "$in/invoice${rlo}gpj.exe"
	assert_contains "$ERR" "bidirectional control character (U+202E at character 8)" "a named file"
	assert_exit 1 dam ingest "$in"
	assert_contains "$ERR" "bidirectional control character (U+202E at character 8)" "the walk: override"
	assert_contains "$ERR" "bidirectional control character (U+2066 at character 2)" "the walk: isolate"
	assert_contains "$OUT" "2 added" "the rest is ingested"
	assert_contains "$OUT" "2 failed"
	assert_eq 2 "$(count_assets)" "refused names store no asset"
	# text saved as .jpg: the output names the detected type
	assert_contains "$OUT" "notes-as.jpg -> " "added"
	assert_contains "$(grep notes-as.jpg <<<"$OUT")" "[the content is text/plain, but the name ends in .jpg]" "mismatch line"
	assert_eq "" "$(grep 'ok.jpg' <<<"$OUT" | grep '\[')" "no warning for a real JPEG"
	"$DAM" init "$T/lib2" >/dev/null || fail "dam init lib2"
	DAM_LIBRARY=$T/lib2 assert_exit 1 dam ingest --json "$in"
	assert_eq "text/plain" "$(j '.results[] | select(.path | endswith("/notes-as.jpg")) | .detected_type')" "json detected_type"
	assert_eq "the content is text/plain, but the name ends in .jpg" \
		"$(j '.results[] | select(.path | endswith("/notes-as.jpg")) | .warning')" "json warning"
	assert_eq "null" "$(j '.results[] | select(.path | endswith("/ok.jpg")) | .warning')" "no warning for ok.jpg"
	assert_eq 2 "$(j '[.results[] | select(.status=="failed") | select(.error | test("bidirectional"))] | length')" "json failures"
}

test_watch() {
	new_lib
	local in=$T/in out=$T/outside p
	mkdir -p "$in" "$out"
	bg "$DAM" ingest --watch --versions-by-name "$in" >"$T/watch.out" 2>"$T/watch.err"
	p=$BG
	sleep 0.5
	cp "$FIXTURES/photo.jpg" "$in/photo.jpg"
	# Written in two parts with a pause (shorter than the settle time) while open.
	{
		head -c 5000 "$FIXTURES/photo2.jpg"
		sleep 0.6
		tail -c +5001 "$FIXTURES/photo2.jpg"
	} >"$in/slow.jpg"
	cp "$FIXTURES/rotated.jpg" "$out/moved.jpg"
	mv "$out/moved.jpg" "$in/moved.jpg"
	cp "$FIXTURES/alpha.png" "$in/.hidden.png"
	cp "$FIXTURES/alpha.png" "$in/partial.png.part"
	wait_for 20 sh -c '[ "$(grep -c "^added" "$1")" -ge 3 ]' sh "$T/watch.out" || fail "watch did not ingest 3 files"
	sleep 1.5 # anything more (a second version of slow.jpg, hidden files) would show up now
	assert_exit 0 dam ls --json
	assert_eq "moved.jpg,photo.jpg,slow.jpg" "$(j 'map(.name) | sort | join(",")')" "ingested once each"
	local f id
	for f in photo.jpg:photo.jpg slow.jpg:photo2.jpg moved.jpg:rotated.jpg; do
		id=$(j --arg n "${f%%:*}" '.[] | select(.name==$n) | .id')
		dam get "$id" -o "$T/got" >/dev/null 2>&1
		assert_true "${f%%:*} ingested complete" cmp -s "$FIXTURES/${f#*:}" "$T/got"
		assert_eq 1 "$(dam show --json "$id" | jq '.versions | length')" "${f%%:*} has one version"
	done

	id=$(j '.[] | select(.name=="photo.jpg") | .id')
	cp "$FIXTURES/photo2.jpg" "$T/photo-new.jpg"
	printf 'new' >>"$T/photo-new.jpg"
	cp "$T/photo-new.jpg" "$in/photo.jpg"
	wait_for 20 sh -c 'grep -q "^version .*version 2" "$1"' sh "$T/watch.out" || fail "overwrite did not become version 2"
	assert_exit 0 dam show --json "$id"
	assert_eq "1,2" "$(j '[.versions[].number] | join(",")')" "--versions-by-name made version 2"
	dam get "$id" -o "$T/got" >/dev/null 2>&1
	assert_true "version 2 holds the new bytes" cmp -s "$T/photo-new.jpg" "$T/got"
	assert_eq 3 "$(count_assets)" "no new asset for an overwrite"
	wait_for 20 sh -c '[ "$("$1" jobs --json | jq ".counts.queued + .counts.running")" = 0 ]' sh "$DAM" || fail "jobs still pending"

	local t0 rc
	t0=$(date +%s%N)
	kill -TERM "$p"
	wait "$p"
	rc=$?
	local ms=$((($(date +%s%N) - t0) / 1000000))
	assert_eq 0 "$rc" "exit status of ingest --watch after SIGTERM ($(tail -c 300 "$T/watch.err"))"
	assert_true "ingest --watch stopped in ${ms} ms after SIGTERM" test "$ms" -lt $((5000 * SLOW))
	assert_contains "$(cat "$T/watch.out")" "3 added, 1 new versions"
}

test_watch_burst() {
	new_lib
	local in=$T/in stage=$T/stage p i
	mkdir -p "$in" "$stage"
	for i in $(seq 1 300); do printf 'burst file %d\n' "$i" >"$stage/f$i.txt"; done
	bg "$DAM" ingest --watch --no-process "$in" >"$T/watch.out" 2>"$T/watch.err"
	p=$BG
	sleep 0.5
	cp "$stage"/* "$in/"
	# Wait while the watcher makes progress (its output), then check the library.
	local seen=-1 now stall=0
	while :; do
		now=$(grep -c '^added' "$T/watch.out")
		[ "$now" -ge 300 ] && break
		if [ "$now" -eq "$seen" ]; then
			stall=$((stall + 1))
			[ "$stall" -ge $((150 * SLOW)) ] && { fail "burst: watcher stalled at $now of 300 files"; break; }
		else
			stall=0
			seen=$now
		fi
		sleep 0.1
	done
	sleep 1
	assert_exit 0 dam ls --json --limit 100000
	assert_eq 300 "$(j length)" "burst: assets"
	assert_eq 300 "$(j 'map(.name) | unique | length')" "burst: distinct names"
	kill -TERM "$p"
	wait "$p"
	assert_eq 0 "$?" "exit status after SIGTERM"
	assert_eq 300 "$(grep -c '^added' "$T/watch.out")" "burst: added lines"
}

test_ls_filters() {
	new_lib
	assert_exit 0 dam ingest --no-process --json --tag red "$FIXTURES/photo2.jpg" "$FIXTURES/alpha.png"
	assert_exit 0 dam ingest --no-process --json "$FIXTURES/clip.mp4" "$FIXTURES/sound.wav" "$FIXTURES/doc.pdf" \
		"$FIXTURES/notes.txt" "$FIXTURES/rotated.jpg"
	assert_exit 0 dam ls --json
	assert_eq 7 "$(j length)" "all"
	local all=$OUT
	assert_exit 0 dam ls --type image --json
	assert_eq "alpha.png,photo2.jpg,rotated.jpg" "$(j 'map(.name) | sort | join(",")')" "--type image"
	assert_eq image "$(j 'map(.kind) | unique | join(",")')" "--type image kinds"
	assert_exit 0 dam ls --type video --json
	assert_eq "clip.mp4" "$(j 'map(.name) | join(",")')" "--type video"
	assert_exit 0 dam ls --type document --json
	assert_eq "doc.pdf" "$(j 'map(.name) | join(",")')" "--type document"
	assert_exit 2 dam ls --type pictures
	assert_exit 0 dam ls --tag red --json
	assert_eq "alpha.png,photo2.jpg" "$(j 'map(.name) | sort | join(",")')" "--tag red"
	assert_exit 0 dam ls --tag nosuchtag --json
	assert_eq 0 "$(j length)" "--tag nosuchtag"
	assert_exit 0 dam ls --since 1d --json
	assert_eq 7 "$(j length)" "--since 1d"
	assert_exit 0 dam ls --since 2000-01-01 --json
	assert_eq 7 "$(j length)" "--since 2000-01-01"
	assert_exit 0 dam ls --since 9999-01-01 --json
	assert_eq 0 "$(j length)" "--since in the future"
	assert_exit 2 dam ls --since yesterday

	assert_exit 0 dam ls --limit 2 --json
	assert_eq 2 "$(j length)" "--limit 2"
	local p1 last p2 p3 p4
	p1=$(j -c 'map(.id)')
	last=$(j '.[-1].id')
	assert_exit 0 dam ls --limit 2 --after "$last" --json
	p2=$(j -c 'map(.id)')
	assert_eq 2 "$(j length)" "second page"
	assert_exit 0 dam ls --limit 2 --after "$(j '.[-1].id')" --json
	p3=$(j -c 'map(.id)')
	assert_exit 0 dam ls --limit 2 --after "$(j '.[-1].id')" --json
	p4=$(j -c 'map(.id)')
	assert_eq 1 "$(jq length <<<"$p4")" "last page"
	assert_eq "$(jq -c 'map(.id)' <<<"$all")" "$(jq -cs 'add' <<<"$p1 $p2 $p3 $p4")" "pages concatenate to the full list, no overlap"
	assert_eq 7 "$(jq -s 'add | unique | length' <<<"$p1 $p2 $p3 $p4")" "no id twice"
	assert_exit 0 dam ls
	assert_eq 7 "$(grep -c . <<<"$OUT")" "text ls lines"
	assert_contains "$OUT" "[red]"
	assert_exit 2 dam ls --limit 0
}

test_help_usage() {
	local c
	for c in init ingest ls show get tag meta rm restore jobs worker fsck gc audit; do
		assert_exit 0 dam "$c" --help
		assert_contains "$OUT" "dam $c" "$c --help"
	done
	assert_exit 0 dam --help
	assert_contains "$OUT" "commands:"
	assert_exit 0 dam help ingest
	assert_contains "$OUT" "--new-version-of"
	assert_exit 0 dam --version
	assert_contains "$OUT" "dam "
	assert_exit 2 dam frobnicate
	assert_contains "$ERR" "unknown command"
	assert_exit 2 dam
	assert_exit 2 dam --bogus ls
	new_lib
	assert_exit 2 dam show
	assert_exit 2 dam ls --bogus
	assert_exit 2 dam fsck --bogus
	assert_exit 2 dam gc --bogus
	assert_exit 2 dam worker --bogus
	assert_exit 2 dam get --version 0 x -o y
}

test_delivery() {
	new_lib
	assert_exit 0 dam ingest --json "$FIXTURES/photo.jpg" "$FIXTURES/sound.wav"
	local id wav
	id=$(id_of photo.jpg)
	wav=$(id_of sound.wav)
	# ingest ran the processing and the ahead-of-time preset renditions
	assert_exit 0 dam show --json "$id"
	assert_eq "1" "$(j '[.versions[0].renditions[] | select(.name=="master")] | length')" "master rendition"
	assert_eq "1" "$(j '[.versions[0].renditions[] | select(.name=="preset:tmall")] | length')" "tmall rendition"
	assert_exit 0 dam render "$id" tmall -o "$T/tmall.jpg"
	assert_eq "800 800" "$(vipsheader -f width "$T/tmall.jpg") $(vipsheader -f height "$T/tmall.jpg")" "tmall size"
	assert_exit 0 dam render "$id" 'w_300,h_200,fit_cover,f_webp' -o "$T/x.webp"
	assert_eq "300x200" "$(vipsheader -f width "$T/x.webp")x$(vipsheader -f height "$T/x.webp")" "options size"
	assert_eq "RIFF" "$(head -c 4 "$T/x.webp")" "webp magic"
	assert_exit 4 dam render "$id" nope -o "$T/n"
	assert_contains "$ERR" 'unknown preset'
	assert_exit 4 dam render "$id" 'w_abc' -o "$T/n"
	assert_contains "$ERR" 'at 1'
	assert_exit 4 dam render "$wav" 'w_100' -o "$T/n"
	assert_contains "$ERR" 'apply to images'
	assert_true "nothing written on error" test ! -e "$T/n"
	assert_exit 2 dam render "$id" tmall
	assert_exit 0 dam url "$id" tmall --expires 7d
	[[ $OUT =~ ^http://127\.0\.0\.1:8080/t/[A-Za-z0-9_-]{22}/p_tmall,exp_[0-9]+/$id$ ]] || fail "dam url printed: $OUT"
	assert_exit 2 dam url "$id" tmall --expires soon
	assert_exit 3 dam url 01234567-0000-7000-8000-000000000000 tmall
	assert_exit 0 dam preset list
	assert_contains "$OUT" "tmall"
	assert_exit 0 dam preset set hero 'w_1600,h_900,fit_cover,crop_smart,f_webp' --description 'Hero banner'
	assert_exit 0 dam preset list --json
	assert_eq "api" "$(j '.[] | select(.name=="hero") | .source')" "hero source"
	assert_exit 4 dam preset set bad 'w_1600,fit_cover'
	assert_contains "$ERR" 'at '
	assert_exit 0 dam preset rm hero
	assert_exit 4 dam preset rm tmall
	assert_exit 3 dam preset rm hero
	assert_exit 0 dam key list
	assert_eq "1" "$(j length)" "one key"
	local k1
	k1=$(j '.[0].id')
	assert_exit 0 dam key rotate
	assert_exit 0 dam key list
	assert_eq "2" "$(j length)" "two keys"
	assert_exit 0 dam key retire "$k1"
	assert_exit 0 dam key list
	local k2
	k2=$(j '.[] | select(.retired_at == null) | .id')
	assert_exit 4 dam key retire "$k2"
	assert_contains "$ERR" 'last active'
	assert_exit 0 dam audit log
	assert_contains "$OUT" 'delivery_key.retired'
	assert_contains "$OUT" 'preset.created'
}

test_audit_log_filters() {
	new_lib
	USER=alice dam ingest --no-process --json "$FIXTURES/photo2.jpg" "$FIXTURES/alpha.png" >"$T/ing.json" 2>/dev/null
	OUT=$(cat "$T/ing.json")
	local a b
	a=$(id_of photo2.jpg)
	b=$(id_of alpha.png)
	USER=bob dam tag "$a" +red >/dev/null 2>&1
	USER=bob dam meta "$a" 'note=say "hi", then' >/dev/null 2>&1
	USER=alice dam rm "$b" >/dev/null 2>&1
	# row n happened on 2026-01-(n+1) (a clock we set)
	libsql "$LIB" "UPDATE audit SET at = 1767225600000 + seq * 86400000" || fail "SQL failed"
	assert_exit 0 dam audit log --json --limit 0
	assert_eq 5 "$(grep -c '^{' <<<"$OUT")" "five rows"
	assert_exit 0 dam audit log --actor cli:bob --json
	assert_eq "4 asset.update cli:bob,3 asset.update cli:bob" "$(jq -r '"\(.seq) \(.action) \(.actor)"' <<<"$OUT" | paste -sd,)" "--actor"
	assert_exit 0 dam audit log --action asset.create --json
	assert_eq "2,1" "$(jq -r .seq <<<"$OUT" | paste -sd,)" "--action prefix"
	assert_exit 0 dam audit log --action asset. --actor cli:alice --json
	assert_eq "5,2,1" "$(jq -r .seq <<<"$OUT" | paste -sd,)" "--action and --actor"
	assert_exit 0 dam audit log --asset "${a:0:30}" --json
	assert_eq "4,3,1" "$(jq -r .seq <<<"$OUT" | paste -sd,)" "--asset by prefix"
	assert_exit 0 dam audit log --since 2026-01-03 --until 2026-01-05 --json
	assert_eq "3,2" "$(jq -r .seq <<<"$OUT" | paste -sd,)" "--since inclusive, --until exclusive"
	# pages: --limit and --before, with the cursor on stderr
	assert_exit 0 dam audit log --limit 2
	assert_eq 2 "$(grep -c . <<<"$OUT")" "a page of 2"
	assert_contains "$ERR" "more rows: add --before 4"
	assert_exit 0 dam audit log --limit 2 --before 4 --json
	assert_eq "3,2" "$(jq -r .seq <<<"$OUT" | paste -sd,)" "--before"
	assert_exit 0 dam audit log --limit 2 --before 2
	assert_not_contains "$ERR" "more rows" "last page"
	# CSV: the whole selection, quoted as RFC 4180
	assert_exit 0 dam audit log --csv --actor cli:bob
	assert_eq "seq,at,actor,action,object_type,object_id,before,after,hash" "$(head -1 <<<"$OUT" | tr -d '\r')" "CSV header"
	assert_eq 3 "$(grep -c $'\r$' <<<"$OUT")" "header and two CRLF rows"
	assert_contains "$OUT" '"{""fields"":{""note"":null}}","{""fields"":{""note"":""say \""hi\"", then""},' "quotes doubled, comma quoted"
	assert_contains "$OUT" "4,2026-01-05T00:00:00.000Z,cli:bob,asset.update,asset,$a," "CSV row"
	# bad input is named
	assert_exit 2 dam audit log --since yesterday
	assert_contains "$ERR" "--since"
	assert_exit 2 dam audit log --limit many
	assert_contains "$ERR" "--limit"
	assert_exit 2 dam audit log --before 0
	assert_exit 2 dam audit log --json --csv
	assert_exit 2 dam audit log "$a" --asset "$a"
	assert_exit 3 dam audit log --asset 0190aaaa-0000-7000-8000-000000000000
}

# Issue 11, point 16: with $USER unset the audit trail names the operating
# system user (getpwuid(geteuid())), never "cli:unknown".
test_cli_actor() {
	new_lib
	local me id
	me=$(id -un)
	assert_exit 0 dam ingest --no-process --json "$FIXTURES/photo2.jpg"
	id=$(id_of photo2.jpg)
	assert_exit 0 env -u USER -u LOGNAME "$DAM" tag "$id" +nouser
	assert_eq "cli:$me" "$(libsql "$LIB" "SELECT actor FROM audit ORDER BY seq DESC LIMIT 1")" "actor without \$USER"
	assert_eq "0" "$(libsql "$LIB" "SELECT count(*) FROM audit WHERE actor = 'cli:unknown'")" "no cli:unknown rows"
	assert_exit 0 env USER=alice "$DAM" tag "$id" +withuser
	assert_eq "cli:alice" "$(libsql "$LIB" "SELECT actor FROM audit ORDER BY seq DESC LIMIT 1")" "actor from \$USER"
	assert_exit 0 env -u USER -u LOGNAME "$DAM" key rotate
	assert_eq "cli:$me" "$(libsql "$LIB" "SELECT actor FROM audit WHERE action = 'delivery_key.created' ORDER BY seq DESC LIMIT 1")" "key rotation actor"
}

# Issue 11, point 17: dam url --expires takes 90s, 10m, 2h, 7d, 2w, seconds
# and a UTC date/time (the parser the API's links?expires= uses), and says
# what is wrong with anything else.
url_exp() { sed -n 's|.*[/,]exp_\([0-9]*\)/.*|\1|p' <<<"$OUT"; }
test_url_expires() {
	new_lib
	assert_exit 0 dam ingest --no-process --json "$FIXTURES/photo2.jpg"
	local id form secs t0 t1 exp
	id=$(id_of photo2.jpg)
	for form in 90s:90 10m:600 2h:7200 7d:604800 2w:1209600 3600:3600; do
		secs=${form#*:}
		t0=$(date +%s)
		assert_exit 0 dam url "$id" tmall --expires "${form%%:*}" || continue
		t1=$(date +%s)
		exp=$(url_exp)
		[[ $exp =~ ^[0-9]+$ ]] || { fail "--expires ${form%%:*}: no exp_ in $OUT"; continue; }
		assert_true "--expires ${form%%:*}: exp_$exp is now+$secs (now $t0..$t1)" \
			test "$exp" -ge $((t0 + secs)) -a "$exp" -le $((t1 + secs))
	done
	assert_exit 0 dam url "$id" tmall --expires 2099-12-31T12:30:15Z
	assert_eq "4102403415" "$(url_exp)" "ISO date-time"
	assert_exit 0 dam url "$id" tmall --expires 2099-12-31
	assert_eq "4102358400" "$(url_exp)" "ISO date"
	assert_exit 0 dam url "$id" 'w_100' --expires 2099-12-31T12:30
	[[ $OUT =~ /w_100,exp_4102403400/$id$ ]] || fail "options and expiry: $OUT"
	for bad in soon 0s 10x 1.5h -5m 5m3 '' ' 5m' 2099-13-01 2099-02-30T10:00Z 99999999999999999999s 2001-01-01; do
		assert_exit 2 dam url "$id" tmall --expires "$bad" || continue
		assert_contains "$ERR" "--expires" "error for [$bad]"
		assert_eq "" "$OUT" "nothing printed for [$bad]"
	done
	assert_exit 2 dam url "$id" tmall --expires nonsense
	assert_contains "$ERR" '90s, 10m, 2h, 7d'
	assert_exit 2 dam url "$id" tmall --expires 2001-01-01
	assert_contains "$ERR" 'not in the future'
}

# Paths in the library that group or others may access (should be none).
loose_paths() { find "$1" -perm /077 -printf '%m %p\n'; }

# The library holds the delivery keys: with the usual umask 022, init,
# ingest (with its job children), serve (threads, workers, the rendition
# cache, tus uploads) leave nothing open to group or others, and fsck
# reports and repairs a loosened file.
test_private_library() {
	umask 022
	new_lib
	assert_eq "700" "$(stat -c %a "$LIB")" "library folder mode"
	assert_exit 0 dam ingest --json "$FIXTURES/photo.jpg" "$FIXTURES/sound.wav"
	local id url log port loose
	id=$(id_of photo.jpg)
	assert_eq "" "$(loose_paths "$LIB")" "after init + ingest"
	log=$T/serve.log
	bg "$DAM" serve --listen 127.0.0.1:0 --workers 1 --stop-deadline 3 >"$log" 2>&1
	wait_for 30 grep -q 'listening on' "$log" || { fail "serve did not start: $(cat "$log")"; return; }
	url=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$log")
	# a signed transform nobody asked for before: made now, kept in cache/
	assert_exit 0 dam url "$id" 'w_123,h_77' --base "$url"
	for _ in 1 2; do
		assert_eq "200" "$(curl -s -o "$T/d.jpg" -w '%{http_code}' "$OUT")" "delivery"
	done
	assert_true "the rendition cache holds a file" test -n "$(find "$LIB/cache" -type f | head -1)"
	# an upload through the server (a job child processes it) and a tus upload
	local tok
	tok=$("$DAM" token create --user admin | sed -n 's/^secret: //p')
	assert_eq "201" "$(curl -s -o /dev/null -w '%{http_code}' -H "authorization: Bearer $tok" \
		-H 'x-filename: up.png' --data-binary @"$FIXTURES/alpha.png" -H 'content-type: application/octet-stream' \
		-X POST "$url/api/v1/assets")" "upload"
	port=$(curl -s -i -H "authorization: Bearer $tok" -H 'tus-resumable: 1.0.0' -H 'upload-length: 10' \
		-H "upload-metadata: filename $(printf t.txt | base64)" -X POST "$url/api/v1/uploads" |
		tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
	assert_ne "" "$port" "tus upload created"
	jobs_idle() { [ "$("$DAM" jobs list --json | jq '.counts.queued + .counts.running')" = 0 ]; }
	wait_for 60 jobs_idle || fail "jobs did not finish"
	[ -n "${DAM_TEST_PG_URL:-}" ] || assert_true "the server's database has its -wal" test -e "$LIB/dam.db-wal"
	loose=$(loose_paths "$LIB")
	assert_eq "" "$loose" "while serving"
	kill -TERM "$BG"
	wait "$BG"
	assert_eq "" "$(loose_paths "$LIB")" "after serve"
	# fsck reports a loosened file and --repair tightens it
	chmod 644 "$LIB/dam.conf"
	chmod 755 "$LIB/cache"
	assert_exit 1 dam fsck
	assert_contains "$OUT" "permissions: dam.conf: mode 0644 is open to group or others, should be 0600"
	assert_contains "$OUT" "permissions: cache: mode 0755 is open to group or others, should be 0700"
	assert_exit 0 dam fsck --repair --json
	assert_eq "2 2" "$(j '"\(.loose_permissions) \(.permissions_repaired)"')" "repaired count"
	assert_eq "600 700" "$(stat -c %a "$LIB/dam.conf") $(stat -c %a "$LIB/cache")" "modes after repair"
	assert_exit 0 dam fsck
	assert_contains "$OUT" "library is clean"
	assert_eq "" "$(loose_paths "$LIB")" "after repair"
}

# Issue #11: ranges on defined number/date fields (relative dates against
# DAM_SEARCH_NOW), --prefix-last, camera and PDF text in the index, a query
# the engine cannot read.
test_search_ranges() {
	new_lib
	export DAM_SEARCH_NOW=2026-06-01T00:00:00Z
	printf 'a\n' >blue-galosh.txt
	printf 'b\n' >red-galosh.txt
	assert_exit 0 dam ingest --json "$PWD/blue-galosh.txt" "$PWD/red-galosh.txt" "$FIXTURES/photo.jpg" "$FIXTURES/text3.pdf"
	local blue red
	blue=$(id_of blue-galosh.txt)
	red=$(id_of red-galosh.txt)
	assert_exit 0 dam field add price --type number
	assert_exit 0 dam field add licence_expiry --type date
	assert_exit 0 dam meta "$blue" price=5 licence_expiry=2026-06-20
	assert_exit 0 dam meta "$red" price=15 licence_expiry=2027-02-01
	assert_exit 0 dam search --json 'price:10..20'
	assert_eq "$red" "$(j '[.items[].id] | join(",")')" "price:10..20"
	assert_exit 0 dam search --json 'licence_expiry:<2027-01-01'
	assert_eq "$blue" "$(j '[.items[].id] | join(",")')" "licence_expiry:<2027-01-01"
	assert_exit 0 dam search --json 'licence_expiry:<now+30d'
	assert_eq "$blue" "$(j '[.items[].id] | join(",")')" "licence_expiry:<now+30d at 2026-06-01"
	DAM_SEARCH_NOW=2027-01-15 assert_exit 0 dam search --json 'licence_expiry:>now-7d'
	assert_eq "$red" "$(j '[.items[].id] | join(",")')" "licence_expiry:>now-7d at 2027-01-15"
	assert_exit 0 dam search 'gal'
	assert_contains "$OUT" "0 result(s)"
	assert_exit 0 dam search --prefix-last 'blue' 'gal'
	assert_contains "$OUT" "blue-galosh.txt"
	assert_contains "$OUT" "1 result(s)"
	assert_exit 0 dam search 'Canon'
	assert_contains "$OUT" "photo.jpg"
	assert_exit 0 dam search 'quetzal'
	assert_contains "$OUT" "text3.pdf"
	assert_exit 4 dam search 'licence_expiry:<soon'
	assert_contains "$ERR" "licence_expiry wants a date like 2026-01-31, now+30d"
}

# Images with alpha (8-bit RGBA, 16-bit RGBA, a transparent SVG) through
# ingest and a smart crop: no GLib critical (G_DEBUG makes one abort the job
# child), every job done, the crop's pixels right.
test_ingest_alpha() {
	new_lib
	assert_exit 0 dam ingest --json "$FIXTURES/alpha.png" "$FIXTURES/deep16.png" "$FIXTURES/clear.svg"
	assert_not_contains "$ERR" "CRITICAL" "ingest stderr"
	local ids
	ids=$(j '[.results[].asset_id] | join(" ")')
	assert_exit 0 dam jobs --json
	assert_eq "6 0" "$(j '"\(.counts.done) \(.counts.failed)"')" "jobs done, failed ($(j '[.jobs[] | select(.state != "done") | "\(.filename): \(.error)"] | join("; ")'))"
	local id
	for id in $ids; do
		assert_exit 0 dam show --json "$id"
		assert_eq "1 1" "$(j '[.versions[0].renditions[] | .name] | "\(map(select(.=="preset:tmall")) | length) \(map(select(.=="preset:amazon")) | length)"')" \
			"$(j .name): tmall and amazon renditions"
		assert_exit 0 dam render "$id" 'w_60,h_120,fit_cover,crop_smart,f_png' -o "$T/$id.png"
		assert_not_contains "$ERR" "CRITICAL" "render stderr"
		assert_eq "60x120x4" "$(vipsheader -f width "$T/$id.png")x$(vipsheader -f height "$T/$id.png")x$(vipsheader -f bands "$T/$id.png")" "smart crop size and alpha"
	done
	# alpha.png: transparent corners, an opaque disc (220,80,40) in the middle
	id=${ids%% *}
	assert_eq "0" "$(vips getpoint "$T/$id.png" 30 2 | awk '{print $4}')" "alpha.png top stays transparent"
	local px
	px=$(vips getpoint "$T/$id.png" 30 60)
	assert_eq 1 "$(awk '{ d = ($1-220)^2 + ($2-80)^2 + ($3-40)^2; print (d <= 27 && $4 == 255) }' <<<"$px")" \
		"alpha.png disc colour (220 80 40 255 +-3): $px"
}

# dam show says what the channel presets fall short of, and how much a
# preset rendition was enlarged.
test_show_warnings() {
	new_lib
	assert_exit 0 dam ingest --json "$FIXTURES/image.tif" "$FIXTURES/photo.jpg"
	local small photo
	small=$(id_of image.tif)
	photo=$(id_of photo.jpg)
	assert_exit 0 dam show "$small"
	assert_contains "$OUT" "warning  amazon: Amazon enables zoom only for images of at least 1000 px on the longest side"
	assert_contains "$OUT" "warning  tiktok: the image is 300x200, too small for fit cover 1080x1920: it would have to be enlarged 9.60x"
	assert_exit 0 dam show --json "$small"
	assert_eq "too_small 1000" "$(j '.delivery_warnings[] | select(.preset=="amazon") | "\(.kind) \(.min_long)"')" "amazon warning in JSON"
	assert_eq 0 "$(j '[.versions[0].renditions[] | select(.name=="preset:tiktok")] | length')" "no refused rendition"
	assert_exit 0 dam show "$photo"
	assert_contains "$OUT" "1080x1080"
	assert_contains "$(grep 'preset:instagram-square' <<<"$OUT")" "enlarged 1.35x"
	assert_not_contains "$OUT" "warning  amazon:" "1200 px meets Amazon's rule"
	assert_exit 0 dam show --json "$photo"
	assert_eq "1" "$(j '.versions[0].renditions[] | select(.name=="preset:amazon") | .enlarged')" "amazon not enlarged"
}

# $TMPROOT/slow.png, made once: 5000x5000 noise, which does not compress,
# so its processing job takes seconds (~3 s on one core).
slow_image() {
	[ -s "$TMPROOT/slow.png" ] && return 0
	vips gaussnoise "$TMPROOT/noise.v" 5000 5000 --mean 128 --sigma 60 &&
		vips cast "$TMPROOT/noise.v" "$TMPROOT/slow.tmp.png" uchar && mv "$TMPROOT/slow.tmp.png" "$TMPROOT/slow.png"
	local rc=$?
	rm -f "$TMPROOT/noise.v"
	return $rc
}

# version.processed audit rows of asset $1 (on any database engine).
processed_rows() { "$DAM" audit log --json --action version.processed "$1" | jq -s length; }

# Job state of the one process job, for wait_for: job_state STATE [ERROR-WORD]
job_state() {
	local out
	out=$("$DAM" jobs --json --state "$1" 2>/dev/null) || return 1
	jq -e --arg w "${2:-}" '[.jobs[] | select(.kind=="process" and (.error | contains($w)))] | length == 1' \
		<<<"$out" >/dev/null
}

# Leases (issue 12): a dam worker killed with SIGKILL mid-job holds its job
# until the lease (2 s here) runs out; then a second worker queues it again
# as a crashed attempt and runs it. The first worker is named as if on
# another machine, so the same-host fast path (its pid is gone) cannot
# shortcut the lease. The job's results commit once.
test_worker_lease() {
	new_lib
	printf '\n[worker]\nlease = 2\n' >>"$LIB/dam.conf"
	# lease is a shared key: the database's applies once pushed (on
	# PostgreSQL dam init pushed), so push it.
	"$DAM" config push >/dev/null || fail "dam config push"
	slow_image || { fail "vips could not make the test image"; return; }
	assert_exit 0 dam ingest --no-process --json "$TMPROOT/slow.png" || return
	local id w1 w2 kids k t0 waited
	id=$(j '.results[0].asset_id')

	bg "$DAM" worker --processes 1 --name "other-node:1" 2>"$T/w1.err"
	w1=$BG
	wait_for 30 job_state running || { fail "the first worker did not claim the job"; return; }
	sleep 0.5
	# Its zygote (or a spawned job-run) and the zygote's job child.
	kids=$(pgrep -P "$w1")
	for k in $kids; do kids="$kids $(pgrep -P "$k")"; done
	[ -n "$kids" ] || fail "the first worker has no child running the job"
	kill -9 "$w1"
	wait "$w1" 2>/dev/null
	t0=$(date +%s%N)
	# They die with it (PR_SET_PDEATHSIG).
	for k in $kids; do
		wait_for 30 sh -c "! kill -0 $k 2>/dev/null" || fail "child $k of the killed worker still runs"
	done
	assert_true "the killed worker's job is still running (leased) at once" job_state running

	bg "$DAM" worker --processes 1 2>"$T/w2.err"
	w2=$BG
	# Requeued by the second worker once the lease ran out, with the reason.
	wait_for 30 job_state queued lease || fail "the job was not requeued for its lease"
	waited=$((($(date +%s%N) - t0) / 1000000))
	[ "$waited" -ge 1000 ] || fail "requeued ${waited} ms after the kill: before the 2 s lease could run out"
	wait_for 60 job_state done || fail "the second worker did not finish the job"
	wait_for 60 sh -c "[ \$('$DAM' jobs --json | jq '.counts.queued + .counts.running') = 0 ]" ||
		fail "jobs left after the second worker"
	kill "$w2"
	wait "$w2" 2>/dev/null
	echo "# requeued ${waited} ms after SIGKILL (lease 2 s)"

	assert_exit 0 dam jobs --json --state done
	assert_eq 2 "$(j '.jobs[] | select(.kind=="process") | .attempts')" "attempts of the process job"
	assert_eq 1 "$(j '[.jobs[] | select(.kind=="renditions")] | length')" "renditions jobs queued (once per completion)"
	assert_exit 0 dam show --json "$id"
	assert_eq ready "$(j '.versions[0].status')" "version status"
	assert_true "the version has its thumbnail" test "$(j '[.versions[0].renditions[] | select(.name=="thumbnail")] | length')" = 1
	assert_eq 0 "$(j '[.versions[0].renditions[].name] | length - (unique | length)')" "renditions listed twice"
	# One completion: one processing audit row.
	assert_eq 1 "$(processed_rows "$id")" "version.processed audit rows"
	assert_exit 0 dam fsck
	assert_contains "$OUT" "library is clean" "fsck after the lease takeover"
}

# No job completes twice: a worker frozen (SIGSTOP) mid-job stops renewing
# its lease (1 s); a second worker requeues the job and runs it while the
# frozen worker's child goes on decoding. When that child tries to commit,
# its claim is gone: its transaction rolls back, and the first worker, once
# thawed, says on stderr that it dropped the results.
test_worker_lease_late() {
	new_lib
	printf '\n[worker]\nlease = 1\n' >>"$LIB/dam.conf"
	# lease is a shared key: the database's applies once pushed (on
	# PostgreSQL dam init pushed), so push it.
	"$DAM" config push >/dev/null || fail "dam config push"
	slow_image || { fail "vips could not make the test image"; return; }
	assert_exit 0 dam ingest --no-process --json "$TMPROOT/slow.png" || return
	local id w1 w2
	id=$(j '.results[0].asset_id')

	bg "$DAM" worker --processes 1 --name "other-node:1" 2>"$T/w1.err"
	w1=$BG
	wait_for 30 job_state running || { fail "the first worker did not claim the job"; return; }
	kill -STOP "$w1"
	bg "$DAM" worker --processes 1 2>"$T/w2.err"
	w2=$BG
	wait_for 60 job_state done || fail "the second worker did not finish the job"
	kill -CONT "$w1"
	wait_for 30 grep -q "results were dropped" "$T/w1.err" ||
		fail "the thawed worker did not drop its results: $(cat "$T/w1.err")"
	wait_for 60 sh -c "[ \$('$DAM' jobs --json | jq '.counts.queued + .counts.running') = 0 ]" ||
		fail "jobs left after the second worker"
	kill "$w1" "$w2"
	wait "$w1" "$w2" 2>/dev/null
	echo "# $(cat "$T/w1.err")"

	assert_exit 0 dam jobs --json --state done
	assert_eq 2 "$(j '.jobs[] | select(.kind=="process") | .attempts')" "attempts of the process job"
	assert_eq 1 "$(j '[.jobs[] | select(.kind=="renditions")] | length')" "renditions jobs queued (once per completion)"
	assert_eq 1 "$(processed_rows "$id")" "version.processed audit rows"
	assert_exit 0 dam show --json "$id"
	assert_eq ready "$(j '.versions[0].status')" "version status"
	assert_exit 0 dam fsck
	assert_contains "$OUT" "library is clean" "fsck after the late worker"
}

# Many workers on one queue: three dam worker processes started at once
# claim side by side (on PostgreSQL with FOR UPDATE SKIP LOCKED); every job
# runs exactly once.
test_many_workers() {
	new_lib
	local src=$T/src i p pids=() n=24
	mkdir -p "$src"
	for i in $(seq 1 $n); do
		{ cat "$FIXTURES/photo2.jpg"; printf 'distinct %d' "$i"; } >"$src/p$i.jpg"
	done
	assert_exit 0 dam ingest --no-process "$src" || return
	for i in 1 2 3; do
		bg "$DAM" worker --until-idle --processes 2 --name "node-$i:1"
		pids+=("$BG")
	done
	for p in "${pids[@]}"; do
		wait "$p" || fail "worker $p exited with $?"
	done
	# --until-idle stops when nothing is queued: a job another worker still
	# runs may remain; a last worker waits for them.
	wait_for 60 sh -c "[ \$('$DAM' jobs --json | jq '.counts.running') = 0 ]" || fail "jobs still running"
	assert_exit 0 dam worker --until-idle
	assert_exit 0 dam jobs --json --limit 1000
	assert_eq "$n" "$(j '[.jobs[] | select(.kind=="process" and .state=="done")] | length')" "process jobs done"
	assert_eq "" "$(j '.jobs[] | select(.attempts != 1) | .id')" "jobs run more than once"
	assert_eq "$n" "$("$DAM" audit log --json --action version.processed --limit 1000 | jq -s length)" \
		"version.processed audit rows (one per job)"
}

# dam migrate to a new library: a damaged source blob stops the run (after
# some blobs were copied), the repaired source resumes with those blobs
# already there; the copy verifies row by row and blob by blob, serves the
# same bytes and search results, and a changed row in the target is found.
test_migrate() {
	new_lib
	assert_exit 0 dam ingest --json "$FIXTURES/photo.jpg" "$FIXTURES/photo2.jpg" "$FIXTURES/deep16.png"
	local a ha oa
	a=$(id_of photo.jpg)
	ha=$(j '.results[] | select(.path | endswith("/photo.jpg")) | .hash')
	assert_exit 0 dam worker --until-idle
	assert_exit 0 dam tag "$a" +migrated-tag
	assert_exit 0 dam meta "$a" title="Red shoe"
	oa=$LIB/objects/${ha:0:2}/${ha:2:2}/$ha
	cp "$oa" "$T/a.bak"
	chmod u+w "$oa"
	printf 'BITROT' | dd of="$oa" bs=1 seek=1000 conv=notrunc 2>/dev/null
	assert_exit 1 dam migrate --to "$T/copy"
	assert_contains "$ERR" "blob $ha in the source is damaged"
	cp "$T/a.bak" "$oa"

	assert_exit 0 dam migrate --to "$T/copy"
	assert_contains "$OUT" "were there already"
	assert_ne "0" "$(sed -n 's/.*; \([0-9]*\) were there already.*/\1/p' <<<"$OUT")" "the first attempt's blobs are kept"
	assert_contains "$OUT" "verified: every row and blob"
	local n_src n_dst
	n_src=$(libsql "$LIB" "select count(*) from renditions")
	n_dst=$(libsql "$T/copy" "select count(*) from renditions")
	assert_eq "$n_src" "$n_dst" "renditions copied"
	assert_ne "0" "$n_dst" "there are renditions"
	assert_exit 0 dam -L "$T/copy" fsck
	assert_contains "$OUT" "library is clean"
	assert_exit 0 dam -L "$T/copy" audit verify
	assert_exit 0 dam -L "$T/copy" search --json 'tag:migrated-tag'
	assert_eq "$a" "$(j '.items[0].id')" "search on the copy"
	assert_exit 0 dam -L "$T/copy" get "$a" -o "$T/a.out"
	assert_true "same original bytes" cmp "$T/a.out" "$T/a.bak"
	assert_exit 0 dam -L "$T/copy" show --json "$a"
	assert_eq "Red shoe" "$(j '.fields.title')" "fields copied"
	assert_eq "$(libsql "$LIB" "select value from library where key='id'")" \
		"$(libsql "$T/copy" "select value from library where key='id'")" "same library id"

	# Again over the finished copy: nothing new to store, still verified.
	assert_exit 0 dam migrate --to "$T/copy"
	assert_contains "$OUT" "copied 0 blobs"
	# A row changed behind dam's back is found.
	libsql "$T/copy" "update tags set tag = 'changed' where tag = 'migrated-tag'"
	assert_exit 1 dam migrate --to "$T/copy" --verify-only
	assert_contains "$ERR" "table tags differs"
	# A library with assets of its own is never overwritten.
	"$DAM" init "$T/other" >/dev/null
	assert_exit 0 dam -L "$T/other" ingest "$FIXTURES/photo2.jpg"
	assert_exit 4 dam migrate --to "$T/other"
	assert_contains "$ERR" "holds another library"
	# The defaults by name; targets that cannot be, refused before anything is made.
	assert_exit 0 dam migrate --to "$T/named" --to-database sqlite: --to-store file:
	assert_contains "$OUT" "verified: every row and blob"
	assert_contains "$(sed -n '/^\[store\]/,$p' "$T/named/dam.conf")" "backend = fs"
	assert_exit 2 dam migrate --to "$T/bad" --to-database sqlite:/tmp/x.db
	assert_contains "$ERR" "sqlite: takes no path"
	assert_exit 4 dam migrate --to "$T/bad" --to-store ftp://bucket
	assert_contains "$ERR" "--to-store takes file: or s3://BUCKET"
	assert_exit 4 dam migrate --to "$T/bad" --to-store 's3://b?endpoint=http://x&colour=red'
	assert_contains "$ERR" 'unknown key "colour"'
	assert_exit 4 dam migrate --to "$T/bad" --to-store 's3://b?endpoint=http://x%0Abackend%3Dfs'
	assert_contains "$ERR" "not a valid URL part"
	assert_exit 2 dam migrate --to "$T/bad" --to-store file: --to-store-conf "$T/x.conf"
	assert_contains "$ERR" "give the target's store once"
	assert_false "no library made by a refused target" test -e "$T/bad"
	# On PostgreSQL (DAM_TEST_PG_URL) the source above was a PostgreSQL
	# library and the copy SQLite: now the SQLite copy (its tags row
	# restored) back into a fresh PostgreSQL database.
	[ -n "${DAM_TEST_PG_URL:-}" ] || return 0
	libsql "$T/copy" "update tags set tag = 'migrated-tag' where tag = 'changed'"
	local url
	url=$(new_pg_db) || fail "cannot create a database"
	assert_exit 0 dam -L "$T/copy" migrate --to "$T/back" --to-database "$url"
	assert_contains "$OUT" "verified: every row and blob"
	assert_contains "$(cat "$T/back/dam.conf")" "url = $url"
	assert_exit 0 dam -L "$T/back" fsck
	assert_exit 0 dam -L "$T/back" search --json 'tag:migrated-tag'
	assert_eq "$a" "$(j '.items[0].id')" "search on the PostgreSQL copy"
	assert_exit 0 dam -L "$T/back" get "$a" -o "$T/b.out"
	assert_true "same original bytes on PostgreSQL" cmp "$T/b.out" "$T/a.bak"
}

# The settings the nodes agree on live in the database (docs/scale-out.md):
# pushed from one node's dam.conf, they override every node's own shared
# keys, [preset] sections included; serve and worker warn about a dam.conf
# that differs, and a running server re-reads them after a push.
test_config_settings() {
	new_lib
	local origin=dam.conf
	# dam init --database pushed already; an SQLite library has nothing stored until a push
	[ -n "${DAM_TEST_PG_URL:-}" ] && origin=database
	assert_exit 0 dam config show --json
	assert_eq "250000000 $origin" "$(j -r '.[] | select(.section=="limits" and .key=="max_pixels") | "\(.value) \(.origin)"')" \
		"max_pixels before the push"
	assert_eq "" "$(j -r '.[] | select(.key=="cache_mb" or .section=="database" or .section=="store") | .key')" \
		"node keys are not shared settings"
	assert_eq "$(libsql "$LIB" "select count(*) from settings" | tr -d ' ')" \
		"$([ "$origin" = database ] && libsql "$LIB" "select count(*) from settings" | tr -d ' ' || echo 0)" "rows before the push"

	# this node's dam.conf: a lower pixel limit and a preset, pushed
	printf '\n[limits]\nmax_pixels = 500000\n\n[preset promo]\nspec = w_123,f_png\ndescription = Promo tile\n' >>"$LIB/dam.conf"
	assert_exit 0 dam config push
	assert_contains "$OUT" "changed"
	assert_exit 0 dam config show --json
	assert_eq "500000 database" "$(j -r '.[] | select(.section=="limits" and .key=="max_pixels") | "\(.value) \(.origin)"')" \
		"max_pixels after the push"
	assert_eq "w_123,f_png database" "$(j -r '.[] | select(.section=="preset promo" and .key=="spec") | "\(.value) \(.origin)"')" \
		"preset promo after the push"
	assert_eq "500000" "$(libsql "$LIB" "select value from settings where section='limits' and key='max_pixels'")" "stored row"
	assert_exit 0 dam config show
	assert_contains "$OUT" "[limits] max_pixels = 500000   (database)"
	assert_exit 0 dam audit log --json --action settings.push --limit 1
	assert_contains "$OUT" '[limits] max_pixels' "audit row names the changed key"
	assert_not_contains "$OUT" '500000' "audit row holds no values"

	# Now a node whose dam.conf says otherwise and lacks the preset: the
	# database's limit refuses a 960000-pixel photo, the preset is listed.
	sed -i -e 's/^max_pixels = 500000$/max_pixels = 250000000/' -e '/^\[preset promo\]/,$d' "$LIB/dam.conf"
	assert_exit 1 dam ingest --json "$FIXTURES/photo.jpg"
	assert_eq 1 "$(j .summary.processing_failed)" "the database's max_pixels refused the photo"
	assert_contains "$(j -r '.results[] | select(.status=="processing_failed") | .error')" "1200x800" "the refusal"
	assert_exit 0 dam preset list --json
	assert_eq "w_123,f_png" "$(j -r '.[] | select(.name=="promo") | .spec')" "promo from the database"
	assert_eq "settings" "$(j -r '.[] | select(.name=="promo") | .source')" "promo's source: the library's settings"
	assert_exit 0 dam worker --until-idle
	assert_contains "$ERR" "dam worker: warning: dam.conf [limits] max_pixels = 250000000 differs from the library's 500000 (database); the database's applies — run dam config push to change it"
	assert_eq 1 "$(grep -c 'differs' <<<"$ERR")" "one warning line per differing key"

	# A running server warns at start and re-reads the settings after a push.
	local log=$T/serve.log
	bg "$DAM" serve --listen 127.0.0.1:0 --no-workers --stop-deadline 3 >"$log" 2>&1
	wait_for 30 grep -q 'listening on' "$log" || { fail "serve did not start: $(cat "$log")"; return; }
	assert_contains "$(cat "$log")" "dam serve: warning: dam.conf [limits] max_pixels = 250000000 differs"
	assert_exit 0 dam config push
	wait_for 10 grep -q "shared settings changed" "$log" || fail "serve did not re-read the pushed settings: $(cat "$log")"
	kill "$BG"

	# pushed back: the node's value is the library's, the photo goes in
	assert_exit 0 dam config show --json
	assert_eq "250000000 database" "$(j -r '.[] | select(.section=="limits" and .key=="max_pixels") | "\(.value) \(.origin)"')"
	assert_eq "" "$(j -r '.[] | select(.section=="preset promo") | .key')" "the push replaced the preset away"
	assert_exit 0 dam ingest --json "$FIXTURES/photo.jpg"
	assert_exit 0 dam worker --until-idle
	assert_not_contains "$ERR" "differs"

	# a bad row in the database is refused with its name, not skipped
	libsql "$LIB" "update settings set value = 'lots' where section='limits' and key='max_pixels'"
	assert_exit 4 dam ls
	assert_contains "$ERR" "the library's settings (database): bad value for [limits] max_pixels"
}

# A running dam worker follows a dam config push (issue 12): its job
# timeout was read at its start before; now the worker re-reads the
# library's settings about once a second. Pushed down to 1 s while it runs,
# the slow image's job (seconds of decoding) is stopped at 1 s.
test_worker_follows_push() {
	new_lib
	"$DAM" config push >/dev/null || fail "dam config push"
	slow_image || { fail "vips could not make the test image"; return; }
	bg "$DAM" worker --processes 1 2>"$T/w.err"
	local w=$BG
	sleep 1
	printf '\n[worker]\ntimeout = 1\n' >>"$LIB/dam.conf"
	assert_exit 0 dam config push
	assert_not_contains "$OUT" "restart" "no restart asked for a worker key"
	sleep 2 # the worker notices within about a second
	assert_exit 0 dam ingest --no-process --json "$TMPROOT/slow.png" || return
	wait_for 60 job_state failed "longer than 1 s" ||
		fail "the running worker kept its old timeout: $("$DAM" jobs --json 2>&1 | head -c 600)"
	kill "$w"
	wait "$w" 2>/dev/null
}

# ------------------------------------------------------------------ runner

TESTS=(
	init_and_find ingest_fixtures dedup_and_dry_run ingest_tags_meta new_version globs
	tag_meta_rm_restore corrupt_retry decompression_bomb crash_kill9 fsck_damage_gc audit_chain audit_log_filters
	bad_input names_and_types watch watch_burst ls_filters help_usage delivery cli_actor url_expires private_library search_ranges ingest_alpha show_warnings
	worker_lease worker_lease_late many_workers migrate config_settings worker_follows_push
)
if [ $# -gt 0 ]; then
	sel=()
	for a in "$@"; do
		for t in "${TESTS[@]}"; do [[ $t == *"$a"* ]] && sel+=("$t"); done
	done
	TESTS=("${sel[@]}")
fi

echo "1..${#TESTS[@]}"
N=0
FAILED=0
START=$(date +%s)
for name in "${TESTS[@]}"; do
	N=$((N + 1))
	T=$TMPROOT/$N-$name
	mkdir -p "$T"
	FAILS=$T/.fails
	: >"$FAILS"
	t0=$(date +%s%N)
	(
		cd "$T" || exit 1
		"test_$name"
		exit 0
	) >"$T/.log" 2>&1
	rc=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	[ "$rc" -ne 0 ] && echo "test body exited with status $rc" >>"$FAILS"
	if [ -s "$FAILS" ]; then
		FAILED=$((FAILED + 1))
		echo "not ok $N - $name (${ms} ms)"
		sed 's/^/#   /' "$FAILS"
		grep '^# ' "$T/.log"
	else
		echo "ok $N - $name (${ms} ms)"
		grep '^# ' "$T/.log"
	fi
	# Background processes a test left behind.
	while read -r p; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null; done <"$BGPIDS"
	: >"$BGPIDS"
done
echo "# $((N - FAILED))/$N passed in $(($(date +%s) - START)) s (DAM_TEST_SLOW=$SLOW)"
[ "$FAILED" -eq 0 ]
