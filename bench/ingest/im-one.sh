#!/usr/bin/env bash
# im-one.sh OUTDIR FILE - what ResourceSpace does for one file: ImageMagick convert, full decode,
# -resize to 1600 and (a second, separate convert) to 320, WebP quality 80. Videos: ffmpeg grabs a
# frame first (ResourceSpace uses ffmpeg for video previews too).
set -u
out=$1 f=$2 b=${2##*/}
case "$f" in
*.mp4 | *.mov | *.mkv)
	ffmpeg -nostdin -loglevel error -y -ss 1 -i "$f" -frames:v 1 "$out/$b.png" || exit 1
	f="$out/$b.png" ;;
esac
/usr/bin/convert "$f" -resize 1600x1600 -quality 80 "$out/$b-1600.webp" &&
	/usr/bin/convert "$f" -resize 320x320 -quality 80 "$out/$b-320.webp"
