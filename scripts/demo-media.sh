#!/usr/bin/env bash
# demo-media.sh OUT: the media of `make run`'s demo library, as a brand would
# keep it: real photographs from Debian's wallpaper packages (KDE Plasma's and
# MATE's, each with its author and licence), named by a SKU convention, plus
# detail and channel crops, two videos, two PDFs and two audio files made from
# them. Writes OUT/media/... and OUT/manifest.tsv, one line per file:
#   path|title|creator|licence|source|tags (comma list)
# Empty columns are left unset (so the demo has incomplete assets to show).
# Needs: mate-backgrounds plasma-workspace-wallpapers librsvg2-bin espeak-ng
# poppler-utils (pdfunite) libvips-tools ffmpeg exiftool (scripts/deps.sh).
set -euo pipefail
# The tools below only make the demo's input: libvips's warning about the
# wallpapers' odd EXIF resolution unit is harmless, and must not abort them
# when a test run makes GLib warnings fatal for dam (scripts/test.sh).
unset G_DEBUG
export VIPS_WARNING=0
out=${1:?usage: demo-media.sh OUT}
stamp="$out/.complete-v2"
[ -f "$stamp" ] && exit 0

plasma=/usr/share/wallpapers
mate=/usr/share/backgrounds/mate/nature
for need in "$plasma/EveningGlow" "$mate/Aqua.jpg"; do
  [ -e "$need" ] || { echo "demo-media: $need is missing (run scripts/deps.sh)" >&2; exit 1; }
done
for tool in vips ffmpeg rsvg-convert pdfunite espeak-ng exiftool; do
  command -v "$tool" >/dev/null || { echo "demo-media: $tool is missing (run scripts/deps.sh)" >&2; exit 1; }
done

rm -rf "$out"
media="$out/media"
tmp="$out/tmp"
mkdir -p "$media/products/prints" "$media/products/tableware" "$media/campaign" \
         "$media/documents" "$media/audio" "$tmp"
manifest="$out/manifest.tsv"
: >"$manifest"

# add PATH TITLE CREATOR LICENCE SOURCE TAGS: one manifest line.
add() { printf '%s|%s|%s|%s|%s|%s\n' "$@" >>"$manifest"; }

# The photographer's own credit travels inside the file, as it does from a
# real shoot: XMP dc:creator and dc:rights, which ingest reads.
credit() { # FILE CREATOR LICENCE
  exiftool -q -q -m -overwrite_original -XMP-dc:Creator="$2" \
    -XMP-dc:Rights="© $2, $3" -Artist="$2" -Copyright="© $2, $3" "$1"
}

# KDE Plasma's photographs: author and licence from each wallpaper's
# metadata.json (the package's copyright file says GPL-2+ for the set; the
# per-image licence is the more precise record).
plasma_photo() { # WALLPAPER SKU TITLE TAGS
  local dir="$plasma/$1" img creator licence
  img=$(ls "$dir"/contents/images/*.jpg | sort -t x -k1,1n | tail -1)
  creator=$(jq -r '.KPlugin.Authors[0].Name' "$dir/metadata.json")
  licence=$(jq -r '.KPlugin.License' "$dir/metadata.json" | sed 's/^LGPLv3$/LGPL-3.0-or-later/')
  local dst="$media/products/prints/${2}_main_1.jpg"
  cp "$img" "$dst"
  credit "$dst" "$creator" "$licence"
  add "products/prints/${2}_main_1.jpg" "$3" "$creator" "$licence" \
      "Debian package plasma-workspace-wallpapers, wallpaper $1" "$4"
}

# MATE's nature photographs: authors from the package's copyright file.
mate_photo() { # FILE SKU TITLE CREATOR TAGS
  local dst="$media/products/prints/${2}_main_1.jpg"
  cp "$mate/$1.jpg" "$dst"
  credit "$dst" "$4" "GPL-2.0-or-later"
  add "products/prints/${2}_main_1.jpg" "$3" "$4" "GPL-2.0-or-later" \
      "Debian package mate-backgrounds, nature/$1.jpg" "$5"
}

plasma_photo EveningGlow  NV-P101 "Rowing boats at dusk"      "boats,lake,sunset,landscape"
plasma_photo BytheWater   NV-P102 "By the water"              "pier,lake,wood,landscape"
plasma_photo ColdRipple   NV-P103 "Misty jetty"               "pier,fog,monochrome,landscape"
plasma_photo DarkestHour  NV-P104 "Blue hour on the lake"     "lake,night,blue,landscape"
plasma_photo FallenLeaf   NV-P105 "Fallen maple leaf"         "autumn,leaf,macro"
plasma_photo Grey         NV-P106 "Facade in waves"           "architecture,monochrome,abstract"
plasma_photo Kite         NV-P107 "Kite in a summer sky"      "sky,kite,summer,blue"
plasma_photo OneStandsOut NV-P108 "One stands out"            "moss,macro,green"
plasma_photo Path         NV-P109 "Forest path"               "forest,path,green,landscape"
plasma_photo summer_1am   NV-P110 "Summer night, 1 am"        "lake,night,summer,landscape"
mate_photo Aqua        NV-P111 "Water crown"          "Charles Barbin"     "water,drop,macro"
mate_photo Blinds      NV-P112 "Leaf blinds"          "Lennart Poettering, Andrea Cimitan" "leaf,green,macro"
mate_photo Dune        NV-P113 "Dune grass"           "Marco Cogoni, Hylke Bons" "beach,grass,summer"
mate_photo FreshFlower NV-P114 "Orange gerbera"       "Jens Ansorg"        "flower,orange,macro"
mate_photo Garden      NV-P115 "Garden marigold"      "Charles Barbin"     "flower,red,garden"
mate_photo GreenMeadow NV-P116 "Green meadow"         "Timothy Schellhase, Lapo Calamandrei" "grass,green,spring"
mate_photo LadyBird    NV-P117 "Ladybird on forget-me-nots" "Charles Barbin" "insect,flower,macro,spring"
mate_photo RainDrops   NV-P118 "Raindrops on a leaf"  "blackcombwhistler07" "water,drop,leaf,green"
mate_photo Storm       NV-P119 "Storm over the road"  "Sergey Nazarov"     "storm,sky,road,landscape"
mate_photo TwoWings    NV-P120 "Two wings"            "Charles Barbin, Hylke Bons" "dandelion,macro,orange"
mate_photo Wood        NV-P121 "Weathered wood"       "Lapo Calamandrei"   "wood,texture"
mate_photo YellowFlower NV-P122 "Yellow daisy"        "Charles Barbin"     "flower,yellow,macro,summer"

# Tableware: the cups photograph as a product with a packshot and a detail crop
# (crops are new pixels, so new assets, not duplicates).
cups=$(ls "$plasma"/ColorfulCups/contents/images/*.jpg | tail -1)
cups_by=$(jq -r '.KPlugin.Authors[0].Name' "$plasma/ColorfulCups/metadata.json")
cp "$cups" "$media/products/tableware/NV-T201_main_1.jpg"
vips crop "$cups" "$tmp/detail.v" 900 500 1000 1000
vips copy "$tmp/detail.v" "$media/products/tableware/NV-T201_detail_2.jpg[Q=90,strip]"
for f in NV-T201_main_1 NV-T201_detail_2; do
  credit "$media/products/tableware/$f.jpg" "$cups_by" LGPL-3.0-or-later
done
add products/tableware/NV-T201_main_1.jpg "Party cups, mixed colours" "$cups_by" \
    LGPL-3.0-or-later "Debian package plasma-workspace-wallpapers, wallpaper ColorfulCups" "cups,tableware,colour"
add products/tableware/NV-T201_detail_2.jpg "Party cups, detail" "$cups_by" \
    LGPL-3.0-or-later "Crop of ColorfulCups (plasma-workspace-wallpapers)" "cups,tableware,detail"

# Campaign: a 9:16 crop for TikTok, a 16:9 teaser video and a 9:16 video made
# from the photographs, left without a title (the worklist shows them).
kite=$(ls "$plasma"/Kite/contents/images/*.jpg | sort -t x -k1,1n | tail -1)
kite_by=$(jq -r '.KPlugin.Authors[0].Name' "$plasma/Kite/metadata.json")
vips crop "$kite" "$tmp/kite.v" 1100 0 900 1600
vips copy "$tmp/kite.v" "$media/campaign/ss27-tiktok-kite.jpg[Q=90,strip]"
credit "$media/campaign/ss27-tiktok-kite.jpg" "$kite_by" LGPL-3.0-or-later
add campaign/ss27-tiktok-kite.jpg "" "$kite_by" LGPL-3.0-or-later "Crop of Kite (plasma-workspace-wallpapers)" "campaign,tiktok,sky"

ff() { ffmpeg -nostdin -hide_banner -v error -y "$@"; }
boats=$(ls "$plasma"/EveningGlow/contents/images/*.jpg | sort -t x -k1,1n | tail -1)
ff -loop 1 -i "$boats" -t 6 -r 25 \
   -vf "scale=2560:1600,zoompan=z='min(zoom+0.0008,1.15)':d=150:x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)':s=1280x720:fps=25,format=yuv420p" \
   -c:v libx264 -preset veryfast -crf 23 -movflags +faststart "$media/campaign/ss27-teaser.mp4"
add campaign/ss27-teaser.mp4 "" "Nordvik Studio" "" "Made from EveningGlow (plasma-workspace-wallpapers)" "campaign,video,lake"
ff -loop 1 -i "$kite" -t 5 -r 25 \
   -vf "crop=900:1600:1100:0,scale=720:1280,format=yuv420p" \
   -c:v libx264 -preset veryfast -crf 23 -movflags +faststart "$media/campaign/ss27-tiktok-kite.mp4"
add campaign/ss27-tiktok-kite.mp4 "Kite, vertical video" "Nordvik Studio" "" "Made from Kite (plasma-workspace-wallpapers)" "campaign,video,tiktok"

# Documents: a three-page lookbook (photographs and searchable text) and a care
# guide, drawn as SVG pages and turned into PDF by librsvg.
page() { # OUT.svg HEADING BODY [IMAGE]
  local img=""
  [ -n "${4:-}" ] && img="<image x=\"48\" y=\"160\" width=\"499\" height=\"312\" preserveAspectRatio=\"xMidYMid slice\" href=\"file://$4\"/>"
  cat >"$1" <<SVG
<svg xmlns="http://www.w3.org/2000/svg" width="595" height="842" viewBox="0 0 595 842">
  <rect width="595" height="842" fill="#fbfaf7"/>
  <text x="48" y="96" font-family="DejaVu Sans" font-size="30" fill="#1d2a36">$2</text>
  $img
  <text x="48" y="540" font-family="DejaVu Sans" font-size="14" fill="#3c4a57">$3</text>
  <text x="48" y="800" font-family="DejaVu Sans" font-size="10" fill="#8a96a3">Nordvik · Spring/Summer 2027</text>
</svg>
SVG
}
small() { vips thumbnail "$1" "$2[Q=82,strip]" 1000; }
small "$boats" "$tmp/boats.jpg"; small "$kite" "$tmp/kite.jpg"; small "$cups" "$tmp/cups.jpg"
page "$tmp/p1.svg" "Nordvik lookbook SS27" "Prints for quiet rooms: lakes, forests and summer skies." "$tmp/boats.jpg"
page "$tmp/p2.svg" "Summer skies" "NV-P107 Kite in a summer sky, printed on matte cotton paper." "$tmp/kite.jpg"
page "$tmp/p3.svg" "Tableware" "NV-T201 party cups in twelve colours, dishwasher safe." "$tmp/cups.jpg"
for p in 1 2 3; do rsvg-convert -f pdf -o "$tmp/p$p.pdf" "$tmp/p$p.svg"; done
pdfunite "$tmp/p1.pdf" "$tmp/p2.pdf" "$tmp/p3.pdf" "$media/documents/NV-lookbook-ss27.pdf"
add documents/NV-lookbook-ss27.pdf "Lookbook spring/summer 2027" "Nordvik Studio" "" "Made from the photographs above" "lookbook,print,campaign"
page "$tmp/care.svg" "Care guide" "Keep prints out of direct sunlight. Wash cups at 60 degrees."
rsvg-convert -f pdf -o "$media/documents/NV-care-guide.pdf" "$tmp/care.svg"
add documents/NV-care-guide.pdf "Care guide" "Nordvik Studio" "" "Made for the demo" "guide,document"

# Audio: a voice-over (espeak-ng) and a short jingle (ffmpeg's synthesiser).
espeak-ng -v en -s 150 -w "$tmp/vo.wav" "Nordvik. Prints for quiet rooms. Spring and summer, twenty twenty-seven."
ff -i "$tmp/vo.wav" -ar 44100 -ac 1 -c:a pcm_s16le "$media/audio/ss27-voiceover.wav"
add audio/ss27-voiceover.wav "Voice-over, spring/summer 2027" "Nordvik Studio" "" "espeak-ng" "audio,voice,campaign"
ff -f lavfi -i "aevalsrc='0.3*sin(2*PI*(523.25*lt(t,0.4)+659.25*between(t,0.4,0.8)+783.99*gt(t,0.8))*t)*exp(-1.5*mod(t,0.4))':s=44100:d=2.4" \
   -c:a libmp3lame -b:a 128k "$media/audio/ss27-jingle.mp3"
add audio/ss27-jingle.mp3 "" "" "" "ffmpeg aevalsrc" "audio,jingle"

rm -rf "$tmp"
touch "$stamp"
