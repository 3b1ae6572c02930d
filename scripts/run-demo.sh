#!/usr/bin/env bash
# `make run`: a demo library that looks like a brand's: real photographs with
# their authors and licences (scripts/demo-media.sh), named by a SKU
# convention that fills fields, a schema with required fields and
# vocabularies, templates by folder, videos, PDFs and audio. Ingests, shows
# what was stored, then serves the API and the web UI.
# Re-running is safe: known files are reported as duplicates, and the schema
# and credits are set only when the library is created.
# DEMO_NO_SERVE=1 stops before `dam serve` (tests/cli/test_demo.sh).
set -euo pipefail
build=${1:-build}
lib=${2:-demo-library}
dam="$build/dam"

./scripts/demo-media.sh "$build/demo"
media="$build/demo/media"

# schema: the fields, vocabularies, file-name convention and templates of a
# small brand library (docs/architecture.md, "Metadata schema").
schema() {
  local d=("$dam" --library "$lib")
  "${d[@]}" languages set en,nl,fr,zh
  "${d[@]}" vocab add views
  "${d[@]}" vocab term views main --label en=Main --label nl=Hoofdbeeld --synonym front --synonym hero
  "${d[@]}" vocab term views detail --label en=Detail --synonym closeup --synonym close-up
  "${d[@]}" vocab term views lifestyle --label en=Lifestyle --synonym mood
  "${d[@]}" vocab term views packshot --label en=Packshot
  "${d[@]}" vocab add licences
  for l in CC-BY-SA-4.0 LGPL-3.0-or-later GPL-2.0-or-later "All rights reserved"; do
    "${d[@]}" vocab term licences "$l"
  done
  "${d[@]}" vocab add collections
  "${d[@]}" vocab term collections Prints --label nl=Posters --label fr=Affiches --label zh=装饰画 --synonym posters
  "${d[@]}" vocab term collections Tableware --label nl=Servies --label fr="Arts de la table" --label zh=餐具 --synonym dishes
  "${d[@]}" vocab term collections Campaign --label nl=Campagne --label fr=Campagne --label zh=广告活动
  "${d[@]}" field add title --type text --multilang --required --searchable \
    --label en=Title --label nl=Titel --label fr=Titre --label zh=标题
  "${d[@]}" field add sku --type text --searchable --facetable --label en=SKU
  "${d[@]}" field add view --type choice --vocab views --facetable --label en=View --label nl=Aanzicht
  "${d[@]}" field add collection --type choice --vocab collections --facetable --label en=Collection
  "${d[@]}" field add creator --type person --required --searchable --facetable \
    --label en=Creator --label nl=Maker --label fr=Auteur --label zh=作者
  "${d[@]}" field add licence --type choice --vocab licences --required --facetable \
    --label en=Licence --label nl=Licentie --label fr=Licence --label zh=许可
  "${d[@]}" field add source --type longtext --label en=Source \
    --help-text "Where the original came from"
  "${d[@]}" pattern add '{sku}_{view}_{_n}.{ext}'
  "${d[@]}" template add prints --match '*/products/prints/*' --field collection=Prints --tag print
  "${d[@]}" template add tableware --match '*/products/tableware/*' --field collection=Tableware --tag tableware
  "${d[@]}" template add campaign --match '*/campaign/*' --field collection=Campaign --tag ss27
}

# credits FILE: each manifest line's title, creator, licence, source and tags
# set on the asset of that file name (empty columns stay unset).
credits() {
  local ids path title creator licence source tags id kv
  ids=$("$dam" --library "$lib" ls --json --limit 1000 | jq -r '.[] | "\(.name)\t\(.id)"')
  while IFS='|' read -r path title creator licence source tags; do
    id=$(awk -F'\t' -v n="${path##*/}" '$1 == n { print $2; exit }' <<<"$ids")
    [ -n "$id" ] || continue
    kv=()
    [ -n "$title" ] && kv+=("title=$title")
    [ -n "$creator" ] && kv+=("creator=$creator")
    [ -n "$licence" ] && kv+=("licence=$licence")
    [ -n "$source" ] && kv+=("source=$source")
    [ ${#kv[@]} -gt 0 ] && "$dam" --library "$lib" meta "$id" "${kv[@]}" >/dev/null
    [ -n "$tags" ] && "$dam" --library "$lib" tag "$id" $(sed 's/[^,]*/+&/g; s/,/ /g' <<<"$tags") >/dev/null
  done <"$1"
}

fresh=0
if [ ! -f "$lib/dam.conf" ]; then
  "$dam" init "$lib"
  schema >/dev/null
  fresh=1
fi
echo "== dam ingest $media"
"$dam" --library "$lib" ingest --tag demo "$media" || true
[ $fresh -eq 1 ] && credits "$build/demo/manifest.tsv"
echo
echo "== dam ls"
"$dam" --library "$lib" ls
echo
echo "== dam incomplete   (required fields still to fill: the UI's worklist)"
"$dam" --library "$lib" incomplete || true
echo
first=$("$dam" --library "$lib" ls --json --limit 1000 | jq -r '[.[] | select(.name == "NV-P101_main_1.jpg")][0].id // empty')
if [ -n "$first" ]; then
  echo "== dam show $first"
  "$dam" --library "$lib" show "$first"
fi
echo
echo "library: $lib   (CLI: $dam --library $lib ls | show ID | search 'lake' | fsck)"
[ "${DEMO_NO_SERVE:-0}" = 1 ] && exit 0
echo
echo "== dam serve"
echo "Open http://${DAM_LISTEN:-127.0.0.1:8080}/ in a browser and log in as admin."
echo "On the first start the administrator's password is printed once below;"
echo "reset it any time with:"
echo "  $dam --library $lib user passwd admin"
echo "The HTTP API is under /api/v1/ (docs/openapi.yaml). Stop with Ctrl-C."
exec "$dam" --library "$lib" serve --listen "${DAM_LISTEN:-127.0.0.1:8080}"
