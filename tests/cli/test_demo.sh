#!/usr/bin/env bash
# test_demo.sh - `make run`'s demo library (scripts/run-demo.sh with
# DEMO_NO_SERVE=1): real photographs with their credits, the SKU convention
# filling fields, templates by folder, every media family, and a worklist.
# Usage: DAM=build/dam tests/cli/test_demo.sh   (exits non-zero on failure)
set -u
DAM=${DAM:-build/dam}
case $DAM in /*) ;; *) DAM=$PWD/$DAM ;; esac
[ -x "$DAM" ] || { echo "Bail out! DAM=$DAM is not executable"; exit 2; }
cd "$(dirname "$0")/../.."
build=$(dirname "$DAM")
tmp=$(mktemp -d /tmp/dam-cli-demo-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export USER=${USER:-tester}
export G_DEBUG=${G_DEBUG:-fatal-warnings}   # a GLib critical or warning aborts (scripts/test.sh)
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; [ -n "${2:-}" ] && sed 's/^/# /' <<<"$2"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d" "${out:-}"; fi; }

lib=$tmp/lib
out=$(DEMO_NO_SERVE=1 ./scripts/run-demo.sh "$build" "$lib" 2>&1)
rc=$?
check "run-demo.sh succeeds (exit $rc)" test $rc -eq 0
check "no ingest failures" bash -c '! grep -q "^failed" <<<"$0"' "$out"

d() { "$DAM" --library "$lib" "$@"; }
ls=$(d ls --json --limit 1000)
count() { jq --arg k "$1" '[.[] | select(.kind == $k)] | length' <<<"$ls"; }
check "at least 23 photographs" test "$(count image)" -ge 23
check "two videos" test "$(count video)" -eq 2
check "two PDFs" test "$(count document)" -eq 2
check "two audio files" test "$(count audio)" -eq 2
check "everything processed" test "$(jq '[.[] | select(.status != "ready")] | length' <<<"$ls")" -eq 0

id_of() { jq -r --arg n "$1" '[.[] | select(.name == $n)][0].id' <<<"$ls"; }
boats=$(d show --json "$(id_of NV-P101_main_1.jpg)")
field() { jq -r --arg k "$1" '.fields[$k] // ""' <<<"$boats"; }
check "SKU from the file name" test "$(field sku)" = NV-P101
check "view from the file name" test "$(field view)" = main
check "sequence number is not stored" test -z "$(field _n)$(field n)"
check "collection from the folder's template" test "$(field collection)" = Prints
check "creator from KDE's metadata" test "$(field creator)" = "Ian Hex"
check "licence recorded" test "$(field licence)" = LGPL-3.0-or-later
check "source package recorded" bash -c 'grep -q "plasma-workspace-wallpapers" <<<"$0"' "$(field source)"
check "a real photograph's size" test "$(jq '.versions[-1].metadata.width' <<<"$boats")" -ge 2560

# Every photograph carries a creator and a licence from the vocabulary.
missing=$(for id in $(jq -r '.[] | select(.kind == "image" and (.name | startswith("NV-"))) | .id' <<<"$ls"); do
  d show --json "$id" | jq -r 'select((.fields.creator // "") == "" or
    ((.fields.licence // "") | IN("CC-BY-SA-4.0","LGPL-3.0-or-later","GPL-2.0-or-later") | not)) | .name'
done)
out=$missing
check "every product photograph has a creator and a known licence" test -z "$missing"

out=$(d search lake 2>&1)
check "search finds the lake photographs" test "$(grep -c 'NV-P1' <<<"$out")" -ge 3
out=$(d incomplete 2>&1)
check "the worklist has the untitled campaign files" bash -c 'grep -q "ss27-jingle.mp3.*missing:.*title" <<<"$0"' "$out"
out=$(DEMO_NO_SERVE=1 ./scripts/run-demo.sh "$build" "$lib" 2>&1)
check "running it again adds nothing" bash -c 'grep -q "0 added, 0 new versions, 31 duplicates skipped" <<<"$0"' "$out"

echo "1..$n"
[ "$failed" -eq 0 ]
