#!/usr/bin/env bash
# gen-fixtures.sh OUTDIR — deterministically generate dam's test fixtures.
#
# Needs only what scripts/deps.sh installs: vips (libvips-tools), ImageMagick
# (convert), exiftool, ffmpeg, plus coreutils/gzip. No python.
# Skips work if OUTDIR/.complete is newer than this script; .complete is
# written last, so an interrupted run is redone. Prints nothing on success.
# See tests/README.md ("Fixtures") for what each file is for.
set -euo pipefail
export LC_ALL=C # byte-wise ${#var} for the hand-written PDF/PNG

if [ $# -ne 1 ] || [ -z "$1" ]; then
  echo "usage: $0 OUTDIR" >&2
  exit 2
fi
OUT=$1
SELF=$(readlink -f "${BASH_SOURCE[0]}")

if [ -f "$OUT/.complete" ] && [ "$OUT/.complete" -nt "$SELF" ]; then
  exit 0
fi

for tool in vips convert exiftool ffmpeg gzip; do
  command -v "$tool" >/dev/null || { echo "gen-fixtures: missing tool: $tool" >&2; exit 1; }
done

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
rm -f "$OUT/.complete"
# Remove only what we generate (never rm -rf an arbitrary OUTDIR).
rm -rf "$OUT/names" "$OUT/tree"
rm -f "$OUT"/{photo.jpg,photo2.jpg,rotated.jpg,alpha.png,deep16.png,image.webp,image.tif,image.avif,image.heic} \
      "$OUT"/{drawing.svg,clear.svg,doc.pdf,pages.pdf,text3.pdf,clip.mp4,rotated.mp4,sound.wav,bomb.png,huge-dims.png} \
      "$OUT"/{corrupt.jpg,fake.jpg,empty.jpg,notes.txt}

TMP=$(mktemp -d "${TMPDIR:-/tmp}/dam-fixtures.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

# ImageMagick draws to 8-bit PPM (no metadata, no timestamps); vips saves.
im() { convert "$@"; }

# ---------------------------------------------------------------- helpers
# be32 N: 4 raw bytes, big-endian
be32() { printf "$(printf '%08x' "$1" | sed 's/../\\x&/g')"; }

# crc32 of stdin as 4 big-endian raw bytes (gzip's trailer holds the CRC-32, LE)
crc32_be() {
  local h
  h=$(gzip -1 -c | tail -c 8 | od -An -tx1 | tr -d ' \n')
  printf "\\x${h:6:2}\\x${h:4:2}\\x${h:2:2}\\x${h:0:2}"
}

# png_chunk TYPE DATAFILE
png_chunk() {
  be32 "$(stat -c %s "$2")"
  printf '%s' "$1"
  cat "$2"
  { printf '%s' "$1"; cat "$2"; } | crc32_be
}

# zlib_zeros N OUTFILE: a complete zlib stream inflating to N zero bytes
zlib_zeros() {
  { printf '\x78\xda'
    head -c "$1" /dev/zero | gzip -9 -n -c | tail -c +11 | head -c -8
    be32 $(( (($1 % 65521) << 16) | 1 )); } >"$2"
}

# make_png OUT W H BITDEPTH COLORTYPE ROWS_OF_DATA ROWBYTES
# Header claims WxH; IDAT holds a valid zlib stream of only ROWS_OF_DATA
# all-zero rows (filter 0), so the file is tiny whatever W,H claim.
make_png() {
  local out=$1 w=$2 h=$3 bd=$4 ct=$5 rows=$6 rowbytes=$7
  { be32 "$w"; be32 "$h"; printf "$(printf '\\x%02x\\x%02x' "$bd" "$ct")\\x00\\x00\\x00"; } >"$TMP/ihdr"
  zlib_zeros $(( rows * (rowbytes + 1) )) "$TMP/idat"
  : >"$TMP/iend"
  { printf '\x89PNG\r\n\x1a\n'
    png_chunk IHDR "$TMP/ihdr"
    png_chunk IDAT "$TMP/idat"
    png_chunk IEND "$TMP/iend"; } >"$out"
}

# small_jpeg OUT W H COLOUR1 COLOUR2 SHAPE: distinct small JPEG without metadata
small_jpeg() {
  im -size "${2}x${3}" "gradient:$4-$5" -fill "$5" -draw "$6" -depth 8 "ppm:$TMP/s.ppm"
  vips copy "$TMP/s.ppm" "$1[Q=85,strip]"
}

# ---------------------------------------------------------------- photo.jpg
im -size 1200x800 gradient:'#1e3c72-#f5f5f5' \
   -fill '#1565c0' -draw 'ellipse 600,470 330,130 0,360' \
   -fill white -draw 'rectangle 330,560 870,600' \
   -fill '#0d47a1' -draw 'polygon 300,470 430,330 520,420' \
   -fill '#ffb300' -draw 'circle 1020,160 1080,160' \
   -stroke '#263238' -strokewidth 6 -draw 'line 0,700 1200,640' \
   -depth 8 "ppm:$TMP/photo.ppm"
# profile=srgb embeds libvips' built-in sRGB ICC profile.
vips copy "$TMP/photo.ppm" "$OUT/photo.jpg[Q=90,profile=srgb]"
exiftool -q -q -overwrite_original -m \
  -EXIF:Make=Canon -EXIF:Model='Canon EOS R5' -EXIF:LensModel='RF24-70mm F2.8 L IS USM' \
  -EXIF:ExposureTime=1/125 -EXIF:FNumber=2.8 -EXIF:ISO=200 -EXIF:FocalLength=50 \
  -EXIF:DateTimeOriginal='2026:03:14 10:20:30' -EXIF:Orientation#=1 \
  -EXIF:GPSLatitude=52.3676 -EXIF:GPSLatitudeRef=N \
  -EXIF:GPSLongitude=4.9041 -EXIF:GPSLongitudeRef=E \
  -XMP-dc:Title='Spring launch hero' -XMP-dc:Description='Blue sneaker on white' \
  -XMP-dc:Subject='spring 2026' -XMP-dc:Subject=sneaker -XMP-dc:Subject=blue \
  -XMP-dc:Creator='Ada Photographer' -XMP-dc:Rights='(c) 2026 Brand BV' \
  -XMP-xmpRights:UsageTerms='Web and social only' \
  -IPTC:Keywords=iptc-only-keyword \
  "$OUT/photo.jpg"

# ---------------------------------------------------------------- photo2.jpg
im -size 640x480 radial-gradient:'#fff176-#2e7d32' \
   -fill '#b71c1c' -draw 'rectangle 80,60 300,260' \
   -fill '#4a148c' -draw 'circle 460,320 540,320' \
   -depth 8 "ppm:$TMP/photo2.ppm"
vips copy "$TMP/photo2.ppm" "$OUT/photo2.jpg[Q=85,strip]"

# ---------------------------------------------------------------- rotated.jpg
# Stored 400x300 landscape with a marker top-left; Orientation=6 means the
# viewer rotates it 90° clockwise (displayed 300x400).
im -size 400x300 xc:'#eceff1' \
   -fill '#d32f2f' -draw 'rectangle 0,0 120,80' \
   -fill '#1976d2' -draw 'polygon 200,40 260,140 140,140' \
   -fill '#388e3c' -draw 'rectangle 300,220 400,300' \
   -depth 8 "ppm:$TMP/rot.ppm"
vips copy "$TMP/rot.ppm" "$OUT/rotated.jpg[Q=85,strip]"
exiftool -q -q -overwrite_original -EXIF:Orientation#=6 "$OUT/rotated.jpg"

# ---------------------------------------------------------------- alpha.png
# RGBA: opaque disc on a fully transparent background, half-transparent bar.
vips black "$TMP/a0.v" 256 256 --bands 4
vips draw_circle "$TMP/a0.v" '220 80 40 255' 128 128 90 --fill
vips draw_rect "$TMP/a0.v" '30 60 200 128' 0 200 256 40 --fill
vips copy "$TMP/a0.v" "$OUT/alpha.png[compression=9]"

# ---------------------------------------------------------------- deep16.png
# 16-bit RGBA (a scanner's or a retoucher's export): a gradient under a
# translucent disc, 300x200, so masters and renditions must scale 16-bit
# colour and alpha down to 8 bits.
im -size 300x200 gradient:'#0d47a1-#ffcc80' -depth 16 "ppm:$TMP/d16.ppm"
vips black "$TMP/d16a.v" 300 200
vips draw_circle "$TMP/d16a.v" 1 150 100 80 --fill
# alpha: 65535 outside the disc, 25700 (about 40 %) inside
vips linear "$TMP/d16a.v" "$TMP/d16b.v" -- -39835 65535
vips cast "$TMP/d16b.v" "$TMP/d16c.v" ushort
vips bandjoin "$TMP/d16.ppm $TMP/d16c.v" "$TMP/d16.v"
vips copy "$TMP/d16.v" "$OUT/deep16.png[compression=9]"

# ---------------------------------------------------------------- webp / tif / heif
im -size 500x300 gradient:'#ff6f00-#004d40' -fill '#e1f5fe' -draw 'circle 250,150 250,60' -depth 8 "ppm:$TMP/w.ppm"
vips copy "$TMP/w.ppm" "$OUT/image.webp[Q=80,strip]"

im -size 300x200 gradient:'#880e4f-#f8bbd0' -fill '#1a237e' -draw 'rectangle 50,50 250,150' -depth 8 "ppm:$TMP/t.ppm"
vips copy "$TMP/t.ppm" "$OUT/image.tif[compression=lzw,strip]"

im -size 320x240 gradient:'#00695c-#fff9c4' -fill '#bf360c' -draw 'circle 160,120 160,40' -depth 8 "ppm:$TMP/h.ppm"
heif_ok=0
if vips heifsave "$TMP/h.ppm" "$TMP/image.avif" --compression av1 --Q 50 --effort 2 --strip 2>"$TMP/avif.err" \
   && [ -s "$TMP/image.avif" ]; then
  mv "$TMP/image.avif" "$OUT/image.avif"; heif_ok=1
fi
if vips heifsave "$TMP/h.ppm" "$TMP/image.heic" --compression hevc --Q 50 --strip 2>"$TMP/heic.err" \
   && [ -s "$TMP/image.heic" ]; then
  mv "$TMP/image.heic" "$OUT/image.heic"; heif_ok=1
fi
if [ "$heif_ok" -ne 1 ]; then
  echo "gen-fixtures: neither AVIF nor HEIC could be encoded:" >&2
  cat "$TMP/avif.err" "$TMP/heic.err" >&2
  exit 1
fi

# ---------------------------------------------------------------- drawing.svg
cat >"$OUT/drawing.svg" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 100" width="400" height="200">
  <title>dam fixture drawing</title>
  <rect x="0" y="0" width="200" height="100" fill="#f5f5f5"/>
  <circle cx="60" cy="50" r="35" fill="#1565c0"/>
  <polygon points="110,85 150,15 190,85" fill="#ffb300" stroke="#263238" stroke-width="2"/>
</svg>
EOF

# clear.svg: no background, so everything outside the shapes is transparent.
cat >"$OUT/clear.svg" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 300 200" width="300" height="200">
  <title>dam fixture drawing with transparency</title>
  <circle cx="210" cy="100" r="70" fill="#2e7d32"/>
  <rect x="20" y="60" width="100" height="80" fill="#c62828" fill-opacity="0.5"/>
</svg>
EOF

# ---------------------------------------------------------------- doc.pdf, pages.pdf
# Hand-written A4 PDFs (ImageMagick's Debian policy forbids PDF writing).
pdf_stream_obj() { # N CONTENT
  printf '%s 0 obj\n<< /Length %d >>\nstream\n%s\nendstream\nendobj\n' "$1" "${#2}" "$2"
}
# make_pdf OUT INFO CONTENT...: one A4 page per CONTENT (a content stream),
# Helvetica as /F1, INFO the document information dictionary's entries.
make_pdf() {
  local out=$1 info=$2; shift 2
  local n=$# kids="" p pobj font=$(( 3 + 2 * $# )) pdf xref off o
  local -a objs=() offsets=()
  for (( p = 1; p <= n; p++ )); do kids+="$(( 1 + 2 * p )) 0 R "; done
  objs+=("$(printf '1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n')")
  objs+=("$(printf '2 0 obj\n<< /Type /Pages /Kids [%s] /Count %d >>\nendobj\n' "${kids% }" "$n")")
  p=0
  for content in "$@"; do
    p=$(( p + 1 )); pobj=$(( 1 + 2 * p ))
    objs+=("$(printf '%d 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>\nendobj\n' "$pobj" "$font" $(( pobj + 1 )))")
    objs+=("$(pdf_stream_obj $(( pobj + 1 )) "$content")")
  done
  objs+=("$(printf '%d 0 obj\n<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>\nendobj\n' "$font")")
  objs+=("$(printf '%d 0 obj\n<< %s >>\nendobj\n' $(( font + 1 )) "$info")")
  pdf=$'%PDF-1.4\n%\xe2\xe3\xcf\xd3\n'
  for o in "${objs[@]}"; do
    offsets+=("${#pdf}")
    pdf+="$o"$'\n'
  done
  xref=${#pdf}
  n=$(( ${#objs[@]} + 1 ))
  pdf+=$(printf 'xref\n0 %d\n0000000000 65535 f \n' "$n")$'\n'
  for off in "${offsets[@]}"; do pdf+=$(printf '%010d 00000 n ' "$off")$'\n'; done
  pdf+=$(printf 'trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF' "$n" $(( font + 1 )) "$xref")$'\n'
  printf '%s' "$pdf" >"$out"
}
make_pdf "$OUT/doc.pdf" \
  '/Title (Lookbook 2026) /Author (Brand Studio) /Creator (dam gen-fixtures.sh) /CreationDate (D:20260314102030Z)' \
  $'0.08 0.40 0.75 rg 72 380 451 320 re f\nBT /F1 36 Tf 72 740 Td (Lookbook 2026) Tj ET\nBT /F1 14 Tf 72 340 Td (Page 1: Spring collection) Tj ET' \
  $'1 0.70 0 rg 297 500 m 447 250 l 147 250 l f\nBT /F1 24 Tf 72 740 Td (Brand Studio) Tj ET\nBT /F1 14 Tf 72 200 Td (Page 2: Details) Tj ET'
# pages.pdf: each page filled with its own colour (red, green, blue) and its
# number in white, so a page's rendition is told apart by its pixels.
pages=()
for c in '0.85 0.10 0.10:1' '0.10 0.65 0.20:2' '0.10 0.25 0.85:3'; do
  pages+=("${c%:*} rg 0 0 595 842 re f"$'\n'"1 1 1 rg BT /F1 200 Tf 240 360 Td (${c#*:}) Tj ET")
done
make_pdf "$OUT/pages.pdf" '/Title (Three colours) /Author (dam gen-fixtures.sh)' "${pages[@]}"
# text3.pdf: three pages of text; each page's words are its own (the search
# index must hold every page: "quetzal" is only on page 3).
make_pdf "$OUT/text3.pdf" '/Title (Field guide) /Author (dam gen-fixtures.sh)' \
  'BT /F1 18 Tf 72 740 Td (Page one: heron and kestrel) Tj ET' \
  'BT /F1 18 Tf 72 740 Td (Page two: osprey and plover) Tj ET' \
  'BT /F1 18 Tf 72 740 Td (Page three: quetzal and hoopoe) Tj ET'

# ---------------------------------------------------------------- audio / video
ff() { ffmpeg -nostdin -hide_banner -v error -y "$@"; }
vcodec=(-c:v libx264 -preset ultrafast -threads 1)
encoders=$(ffmpeg -hide_banner -encoders 2>/dev/null)
[[ $encoders == *" libx264 "* ]] || vcodec=(-c:v mpeg4 -q:v 5)
ff -f lavfi -i testsrc=size=320x240:rate=25:duration=2 \
   -f lavfi -i sine=frequency=440:sample_rate=44100:duration=2 \
   -map 0:v -map 1:a "${vcodec[@]}" -pix_fmt yuv420p \
   -c:a aac -ac 2 -ar 44100 -b:a 96k -shortest -movflags +faststart \
   -map_metadata -1 -fflags +bitexact -flags:v +bitexact -flags:a +bitexact \
   "$OUT/clip.mp4"
# rotated.mp4: 320x240 coded, display matrix = 90 degrees clockwise, like a portrait
# phone video (exiftool Rotation=90, ffprobe "rotation of -90.00 degrees",
# displayed 240x320). ffmpeg 5.1 only turns the "rotate" tag into a display
# matrix when stream-copying (and takes the angle counter-clockwise), so
# encode first, then remux with rotate=270.
ff -f lavfi -i testsrc2=size=320x240:rate=25:duration=1 \
   "${vcodec[@]}" -pix_fmt yuv420p -map_metadata -1 \
   -fflags +bitexact -flags:v +bitexact "$TMP/rot-src.mp4"
ff -i "$TMP/rot-src.mp4" -c copy -metadata:s:v:0 rotate=270 -map_metadata -1 \
   -fflags +bitexact -movflags +faststart "$OUT/rotated.mp4"

ff -f lavfi -i sine=frequency=660:sample_rate=22050:duration=1 -ac 1 -c:a pcm_s16le \
   -map_metadata -1 -fflags +bitexact -flags:a +bitexact "$OUT/sound.wav"

# ---------------------------------------------------------------- hostile images
# bomb.png: IHDR claims 32768x32768 (1.07 gigapixel) 1-bit greyscale. A complete
# zlib stream for all rows cannot be under ~130 KB (deflate tops out near
# 1032:1), so IDAT carries a valid stream of the first 10000 all-black rows
# (41 MB inflated from ~40 KB); the remaining rows are missing.
make_png "$OUT/bomb.png" 32768 32768 1 0 10000 4096
# huge-dims.png: IHDR claims 60000x60000 8-bit RGB (10.8 GB decoded); IDAT
# holds one row.
make_png "$OUT/huge-dims.png" 60000 60000 8 2 1 180000

# corrupt.jpg: photo2.jpg's complete headers (through SOS) and the first 256
# bytes of scan data, then garbage and no EOI: the header parses (640x480),
# decoding fails/warns.
sos=$(grep -m1 -obUaP '\xff\xda' "$OUT/photo2.jpg")
sos=${sos%%:*}
read -r l1 l2 < <(od -An -tu1 -j $(( sos + 2 )) -N2 "$OUT/photo2.jpg")
{ head -c $(( sos + 2 + l1 * 256 + l2 + 256 )) "$OUT/photo2.jpg"
  printf 'dam-corrupt-fixture\n%.0s' {1..200}; } >"$OUT/corrupt.jpg"

# fake.jpg: PNG bytes behind a .jpg name
vips black "$TMP/f.v" 64 64 --bands 3
vips linear "$TMP/f.v" "$OUT/fake.jpg.tmp.png" '1 1 1' '200 30 30' --uchar
mv "$OUT/fake.jpg.tmp.png" "$OUT/fake.jpg"

: >"$OUT/empty.jpg"

cat >"$OUT/notes.txt" <<'EOF'
dam fixture notes — UTF-8 text.
Spring 2026 lookbook: blue sneaker (白色运动鞋), café shoot, “quotes”, emoji 👟.
This is not an image and must be stored as a generic document.
EOF

# ---------------------------------------------------------------- names/
mkdir -p "$OUT/names"
small_jpeg "$OUT/names/with space.jpg" 120 90 '#e53935' '#ffffff' 'circle 60,45 60,15'
small_jpeg "$OUT/names/白色运动鞋.jpg" 120 90 '#fafafa' '#1e88e5' 'rectangle 20,20 100,70'
small_jpeg "$OUT/names/new"$'\n'"line.jpg" 120 90 '#43a047' '#000000' 'line 0,0 120,90'
small_jpeg "$OUT/names/-dash.jpg" 120 90 '#8e24aa' '#fdd835' 'polygon 60,10 110,80 10,80'

# ---------------------------------------------------------------- tree/
mkdir -p "$OUT/tree/a/b/c"
vips xyz "$TMP/x.v" 96 64
vips extract_band "$TMP/x.v" "$TMP/x0.v" 0
vips linear "$TMP/x0.v" "$OUT/tree/a/one.png" 2 10 --uchar
vips extract_band "$TMP/x.v" "$TMP/x1.v" 1
vips linear "$TMP/x1.v" "$OUT/tree/a/b/two.png" 3 40 --uchar
vips zone "$TMP/z.v" 96 64 --uchar
vips copy "$TMP/z.v" "$OUT/tree/a/b/c/three.png"
cp "$OUT/photo.jpg" "$OUT/tree/a/b/c/photo-copy.jpg"

touch "$OUT/.complete"
