#!/usr/bin/env bash
# im-one.sh OUTDIR SPECFILE FILE - what ResourceSpace does for one file, asked for the same outputs
# as a dam ingest: one ImageMagick `convert` per output, each a full decode of the original (no
# jpeg:size hint): a pyramidal TIFF (PTIF, JPEG Q92 tiles) standing for dam's master, the 1600 and
# 320 px WebP Q80, and every distinct ahead preset of SPECFILE (contain: -resize then -extent on
# the background; cover: -resize WxH^ then a centre -extent, a cheaper crop than dam's attention
# crop). Videos: ffmpeg grabs a frame, then the poster, keyframe strip and thumbnail as the limit.
set -u
out=$1 specs=$2 f=$3 b=${3##*/}
convert=/usr/bin/convert
case "$f" in
*.mp4 | *.mov | *.mkv)
	ffmpeg -nostdin -loglevel error -y -ss 1 -i "$f" -frames:v 1 "$out/$b.png" || exit 1
	$convert "$out/$b.png" -quality 80 "$out/$b.poster.webp" &&
		ffmpeg -nostdin -loglevel error -y -skip_frame nokey -i "$f" -vf 'scale=-2:160,tile=16x1' \
			-frames:v 1 -fps_mode vfr "$out/$b.strip.png" &&
		$convert "$out/$b.strip.png" -quality 80 "$out/$b.keyframes.webp" &&
		$convert "$out/$b.png" -resize 320x320 -quality 80 "$out/$b.thumbnail.webp"
	exit ;;
esac
$convert "$f" -auto-orient -colorspace sRGB -strip -define tiff:tile-geometry=256x256 \
	-compress jpeg -quality 92 "PTIF:$out/$b.master.tif" || exit 1
$convert "$f" -auto-orient -resize '1600x1600>' -strip -quality 80 "$out/$b.preview.webp" || exit 1
$convert "$f" -auto-orient -resize '320x320>' -strip -quality 80 "$out/$b.thumbnail.webp" || exit 1
while read -r name w h fit bg fmt q; do
	[ -n "$name" ] || continue
	[ "$bg" = - ] && bg=ffffff
	if [ "$fit" = cover ]; then
		$convert "$f" -auto-orient -resize "${w}x${h}^" -gravity center -extent "${w}x${h}" \
			-strip -quality "$q" "$out/$b.$name.$fmt" || exit 1
	else
		$convert "$f" -auto-orient -resize "${w}x${h}" -background "#$bg" -flatten -gravity center \
			-extent "${w}x${h}" -strip -quality "$q" "$out/$b.$name.$fmt" || exit 1
	fi
done <"$specs"
