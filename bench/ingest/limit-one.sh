#!/usr/bin/env bash
# limit-one.sh OUTDIR FILE - the "limit" for one file: SHA-256 plus vipsthumbnail at 1600 and 320 px
# (WebP Q80, metadata stripped). Videos: ffmpeg grabs one frame first (as any thumbnailer must).
set -u
out=$1 f=$2 b=${2##*/}
sha256sum "$f" >/dev/null || exit 1
case "$f" in
*.mp4 | *.mov | *.mkv)
	ffmpeg -nostdin -loglevel error -y -ss 1 -i "$f" -frames:v 1 "$out/$b.png" || exit 1
	f="$out/$b.png" ;;
esac
vipsthumbnail "$f" -s 1600 -o "$out/%s-1600.webp[Q=80,strip]" &&
	vipsthumbnail "$f" -s 320 -o "$out/%s-320.webp[Q=80,strip]"
