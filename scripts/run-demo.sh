#!/usr/bin/env bash
# `make run`: a demo library with generated media, ingested and listed.
# Ingests, shows what was stored, then serves the API and the web UI.
# Re-running is safe: known files are reported as duplicates.
set -euo pipefail
build=${1:-build}
lib=${2:-demo-library}
dam="$build/dam"

./tests/gen-fixtures.sh "$build/fixtures"
media="$build/demo-media"
mkdir -p "$media/products/sneakers" "$media/campaign" "$media/docs"
# A curated subset of the fixtures: real photos, video, audio, documents.
cp -p "$build/fixtures/photo.jpg" "$media/products/sneakers/SKU-1001_front_1.jpg"
cp -p "$build/fixtures/photo2.jpg" "$media/products/sneakers/SKU-1001_side_2.jpg"
cp -p "$build/fixtures/alpha.png" "$media/products/logo.png"
cp -p "$build/fixtures/image.webp" "$media/campaign/banner.webp"
cp -p "$build/fixtures/image.tif" "$media/campaign/print.tif"
cp -p "$build/fixtures/drawing.svg" "$media/campaign/icon.svg"
cp -p "$build/fixtures/clip.mp4" "$media/campaign/teaser.mp4"
cp -p "$build/fixtures/sound.wav" "$media/campaign/jingle.wav"
cp -p "$build/fixtures/doc.pdf" "$media/docs/lookbook.pdf"
for f in image.avif image.heic; do
  [ -f "$build/fixtures/$f" ] && cp -p "$build/fixtures/$f" "$media/campaign/$f"
done

if [ ! -f "$lib/dam.conf" ]; then
  "$dam" init "$lib"
fi
echo "== dam ingest $media"
"$dam" --library "$lib" ingest --tag demo "$media" || true
echo
echo "== dam ls"
"$dam" --library "$lib" ls
echo
echo "== dam jobs"
"$dam" --library "$lib" jobs --limit 0 | head -1
echo
first=$("$dam" --library "$lib" ls --json --limit 1000 | grep -o '"id": "[^"]*"' | tail -1 | cut -d'"' -f4)
if [ -n "$first" ]; then
  echo "== dam show $first"
  "$dam" --library "$lib" show "$first"
fi
echo
echo "library: $lib   (CLI: $dam --library $lib ls | show ID | get ID -o FILE | fsck)"
echo
echo "== dam serve"
echo "Open http://${DAM_LISTEN:-127.0.0.1:8080}/ in a browser and log in as admin."
echo "On the first start the administrator's password is printed once below;"
echo "reset it any time with:"
echo "  $dam --library $lib user passwd admin"
echo "The HTTP API is under /api/v1/ (docs/openapi.yaml). Stop with Ctrl-C."
exec "$dam" --library "$lib" serve --listen "${DAM_LISTEN:-127.0.0.1:8080}"
