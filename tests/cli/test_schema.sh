#!/usr/bin/env bash
# test_schema.sh - black-box tests of the metadata schema commands:
# `dam field|vocab|template|pattern|languages|incomplete` and their effect
# on `dam ingest` and `dam meta`.
# Usage: DAM=path/to/dam tests/cli/test_schema.sh   (exits non-zero on failure)
set -u
# GLib criticals and warnings abort (scripts/test.sh explains why).
export G_DEBUG=${G_DEBUG:-fatal-warnings}

DAM=${DAM:-build/dam}
case $DAM in /*) ;; *) DAM=$PWD/$DAM ;; esac
[ -x "$DAM" ] || { echo "Bail out! DAM=$DAM is not executable"; exit 2; }
command -v jq >/dev/null || { echo "Bail out! jq is not installed"; exit 2; }

tmp=$(mktemp -d /tmp/dam-cli-schema-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export DAM_LIBRARY=$tmp/lib
export USER=${USER:-tester}
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

# A small distinct image (or, without vips, a tiny distinct file) at $1.
make_image() {
	mkdir -p "$(dirname "$1")"
	if command -v vips >/dev/null; then
		vips black "$1" $((10 + RANDOM % 50)) $((10 + RANDOM % 50)) 2>/dev/null && return
	fi
	printf '\x89PNG\r\n\x1a\n%s' "$1 $RANDOM" >"$1"
}

# Asset id of the only asset whose name is $1.
id_of() { "$DAM" ls --json --limit 1000 | jq -r --arg n "$1" '[.[] | select(.name == $n)][0].id'; }
# Field $2 of asset $1 ("null" when unset).
field_of() { "$DAM" show --json "$1" | jq -r --arg k "$2" '.fields[$k]'; }

"$DAM" init "$DAM_LIBRARY" >/dev/null || { echo "Bail out! dam init failed"; exit 2; }

# ---- languages ----
expect 0 "default languages" "$DAM" languages
check "default is en" grep -qx en <<<"$out"
expect 0 "languages set" "$DAM" languages set en,zh,nl,fr
check "languages stored" grep -qx "en,zh,nl,fr" <<<"$out"
expect 4 "invalid language refused" "$DAM" languages set en,ZZ-top

# ---- vocabularies ----
expect 0 "vocab add colors" "$DAM" vocab add colors
expect 4 "vocab add twice refused" "$DAM" vocab add colors
for c in blue red green; do "$DAM" vocab term colors "$c" >/dev/null; done
expect 0 "vocab add products" "$DAM" vocab add products
expect 0 "top term" "$DAM" vocab term products Footwear --label en=Footwear --label zh=鞋
expect 0 "child term with synonyms" "$DAM" vocab term products sneakers --parent Footwear --synonym trainers --synonym 运动鞋
expect 3 "unknown parent" "$DAM" vocab term products boots --parent Nowhere
expect 4 "cycle refused" "$DAM" vocab term products Footwear --parent sneakers
expect 0 "vocab show" "$DAM" vocab show products
check "tree shows child indented with synonyms" grep -q "^  sneakers (= trainers, 运动鞋)" <<<"$out"
expect 0 "vocab show --json" "$DAM" vocab show products --json
check "json has parent and labels" bash -c 'jq -e ".terms[1].parent == \"Footwear\" and .terms[0].labels.zh == \"鞋\"" <<<"$0" >/dev/null' "$out"

# ---- fields ----
expect 0 "field add choice" "$DAM" field add color --type "single choice" --vocab colors --facetable --label en=Colour --label fr=Couleur
expect 0 "field add number" "$DAM" field add width --type number
expect 0 "field add required multilang" "$DAM" field add title --type text --multilang --required --searchable --label en=Title --label zh=标题
expect 0 "field add with default" "$DAM" field add approved --type boolean --default false --help-text "Approved for use"
expect 4 "bad default refused" "$DAM" field add rating --type number --default high
expect 4 "choice without vocab refused" "$DAM" field add size --type choice
expect 2 "unknown type is a usage error" "$DAM" field add x --type blob
expect 4 "field defined twice refused" "$DAM" field add width --type text
expect 0 "field list" "$DAM" field list
check "list shows flags" grep -Eq "^title +text +required searchable multilang" <<<"$out"
expect 0 "field list --json" "$DAM" field list --json
check "json has labels and vocab" bash -c 'jq -e "map(select(.key==\"color\"))[0] | .vocab == \"colors\" and .labels.fr == \"Couleur\" and .facetable" <<<"$0" >/dev/null' "$out"
expect 0 "field set replaces a definition" "$DAM" field set width --type number --facetable --label en="Width (mm)"
expect 0 "field list --json after set" "$DAM" field list --json
check "set took: label, facetable" bash -c 'jq -e "map(select(.key==\"width\"))[0] | .labels.en == \"Width (mm)\" and .facetable and .type == \"number\"" <<<"$0" >/dev/null' "$out"
expect 3 "field set of an undefined key: not found" "$DAM" field set nosuch --type text
expect 4 "field set with a bad default refused" "$DAM" field set width --type number --default wide
expect 0 "field list --json after refusals" "$DAM" field list --json
check "refusals changed nothing" bash -c 'jq -e "map(select(.key==\"width\"))[0] | .labels.en == \"Width (mm)\" and .default == null" <<<"$0" >/dev/null' "$out"

# ---- patterns and templates ----
expect 0 "pattern add" "$DAM" pattern add '{sku}_{view}_{n}.{ext}'
expect 4 "pattern without placeholder refused" "$DAM" pattern add 'plain.jpg'
expect 4 "pattern added twice refused" "$DAM" pattern add '{sku}_{view}_{n}.{ext}'
expect 0 "pattern list" "$DAM" pattern list
check "pattern listed" grep -q '{sku}_{view}_{n}.{ext}' <<<"$out"
expect 0 "pattern test" "$DAM" pattern test ABC123_front_1.jpg
check "pattern test shows fields" bash -c 'grep -q "sku=ABC123" <<<"$0" && grep -q "view=front" <<<"$0"' "$out"
expect 0 "template add by folder" "$DAM" template add shoes --match '*/shoes/*' --field color=blue --tag catalog
expect 4 "template with a value outside the vocabulary refused" "$DAM" template add bad --field color=bleu
expect 0 "template add for bulk" "$DAM" template add titled --field title@en=Untitled --tag fixed
expect 0 "template list" "$DAM" template list
check "templates listed" bash -c 'grep -q "^shoes match=\*/shoes/\* color=blue +catalog" <<<"$0" && grep -q "^titled" <<<"$0"' "$out"

# ---- ingest with pattern and template ----
make_image "$tmp/in/shoes/ABC123_front_1.jpg"
make_image "$tmp/in/other/holiday.jpg"
expect 0 "ingest named by convention" "$DAM" ingest --no-process "$tmp/in/shoes/ABC123_front_1.jpg" "$tmp/in/other/holiday.jpg"
sku=$(id_of ABC123_front_1.jpg)
hol=$(id_of holiday.jpg)
check "sku parsed from file name" test "$(field_of "$sku" sku)" = ABC123
check "view parsed" test "$(field_of "$sku" view)" = front
check "n parsed" test "$(field_of "$sku" n)" = 1
check "ext not stored" test "$(field_of "$sku" ext)" = null
check "folder template applied" test "$(field_of "$sku" color)" = blue
check "template tag applied" bash -c '"$0" show --json "$1" | jq -e "[.tags[].tag] | index(\"catalog\")" >/dev/null' "$DAM" "$sku"
check "default applied" test "$(field_of "$sku" approved)" = false
check "non-matching name untouched" test "$(field_of "$hol" sku)" = null
check "other folder gets no template" test "$(field_of "$hol" color)" = null
make_image "$tmp/in/w.jpg"
expect 1 "ingest --meta with wrong type fails the file" "$DAM" ingest --no-process --meta width=wide "$tmp/in/w.jpg"
check "refusal names field" grep -q 'width: "wide" is not a number' <<<"$out"

# ---- validation on meta ----
expect 4 "value outside vocabulary refused" "$DAM" meta "$hol" color=bleu
check "refusal lists allowed values" grep -q 'color: "bleu" is not in vocabulary colors; allowed: blue, red, green' <<<"$out"
expect 0 "value in vocabulary accepted" "$DAM" meta "$hol" color=red
expect 4 "number refused" "$DAM" meta "$hol" width=abc
expect 0 "number accepted" "$DAM" meta "$hol" width=640
expect 0 "multilang value" "$DAM" meta "$hol" title@zh=假期
expect 4 "language not in library refused" "$DAM" meta "$hol" title@de=Urlaub
expect 0 "free fields still allowed" "$DAM" meta "$hol" anything=goes

# ---- incomplete report and bulk fix ----
expect 1 "incomplete exits 1" "$DAM" incomplete
check "report names asset and field" grep -Eq "^$sku  ABC123_front_1.jpg  missing: title$" <<<"$out"
expect 1 "incomplete --json" "$DAM" incomplete --json
check "json report" bash -c 'jq -e ".count == 1 and .assets[0].missing == [\"title\"]" <<<"$0" >/dev/null' "$out"
expect 0 "template apply" "$DAM" template apply titled "$sku"
check "apply reports count" grep -q "applied template titled to 1 asset" <<<"$out"
check "template value set" test "$(field_of "$sku" title@en)" = Untitled
expect 0 "complete now" "$DAM" incomplete
expect 3 "template apply to unknown asset" "$DAM" template apply titled ffffffff-ffff
expect 0 "field rm" "$DAM" field rm title
"$DAM" meta "$sku" title@en= >/dev/null
expect 0 "removed definition is not required" "$DAM" incomplete
expect 0 "field add required again" "$DAM" field add rights --type text --required
expect 0 "bulk fix with --set" "$DAM" incomplete --set rights=internal
check "fixed both" grep -q "fixed 2 assets" <<<"$out"
expect 0 "nothing incomplete" "$DAM" incomplete

# ---- audit ----
expect 0 "audit verify" "$DAM" audit verify
expect 0 "audit log has schema actions" "$DAM" audit log --limit 200
check "schema changes audited" bash -c 'for a in field.add field.remove vocab.add vocab.term template.add pattern.add library.languages; do grep -q "$a" <<<"$0" || exit 1; done' "$out"

echo "1..$n"
[ "$failed" -eq 0 ]
