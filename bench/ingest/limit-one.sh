#!/usr/bin/env bash
# limit-one.sh OUTDIR SPECFILE FILE - the "limit" for one file: the same outputs as a dam ingest,
# with the least work. Images: equal.c (SHA-256, the pyramidal TIFF master, the 1600/320 px WebP
# preview and thumbnail, and every distinct ahead preset of SPECFILE, rendered from the master).
# Videos: SHA-256, then ffmpeg's poster frame, a keyframe strip and a 320 px thumbnail, as dam's
# video job makes (dam renders no channel presets for videos).
set -u
out=$1 specs=$2 f=$3 b=${3##*/}
here=$(dirname "$0")
case "$f" in
*.mp4 | *.mov | *.mkv)
	sha256sum "$f" >/dev/null || exit 1
	ffmpeg -nostdin -loglevel error -y -ss 1 -i "$f" -frames:v 1 -c:v libwebp -quality 80 "$out/$b.poster.webp" &&
		ffmpeg -nostdin -loglevel error -y -skip_frame nokey -i "$f" -vf 'scale=-2:160,tile=16x1' \
			-frames:v 1 -fps_mode vfr -c:v libwebp -quality 80 "$out/$b.keyframes.webp" &&
		vipsthumbnail "$out/$b.poster.webp" -s 320 -o "$out/$b.thumbnail.webp[Q=80,strip]" ;;
*) "${EQUAL:-$here/equal}" "$out" "$specs" "$f" ;;
esac
