#!/usr/bin/env bash
# gen.sh N OUTDIR - generate the bench/ingest input set (cached: reruns only fill gaps).
#
#   OUTDIR/base/base-KK.jpg   20 photo-like base JPEGs, 4000x3000 (12 MP) .. 6000x4000 (24 MP),
#                             every 5th one portrait; content is multi-scale colour noise + a
#                             gradient + fine grain, so it compresses like a photo (~3-7 MB at Q90)
#   OUTDIR/jpeg-px/img-NNNNNN.jpg  N JPEGs: base (i mod 20) with its own colour gain and offset per
#                             band (from i), re-encoded at Q90: every file has distinct pixels,
#                             so its master and renditions are distinct too and the store writes
#                             as much as a real shoot's (an earlier set differed only by a comment
#                             segment, and dam's store deduplicated every rendition)
#   OUTDIR/png/png-K.png      5 RGBA PNGs, 3000x2000
#   OUTDIR/video/vid-K.mp4    3 H.264 videos, 1920x1080, 5 s
set -euo pipefail

N=${1:?usage: gen.sh N OUTDIR}
OUT=${2:?usage: gen.sh N OUTDIR}
NBASE=20
mkdir -p "$OUT/base" "$OUT/png" "$OUT/video"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# base K -> "W H" (sizes spread evenly from 4000x3000 to 6000x4000)
dims() {
	local k=$1 w h
	w=$((4000 + k * 2000 / (NBASE - 1)))
	h=$((3000 + k * 1000 / (NBASE - 1)))
	if [ $((k % 5)) -eq 4 ]; then echo "$h $w"; else echo "$w $h"; fi
}

make_base() {
	local k=$1 out=$2 d t w h
	read -r w h < <(dims "$k")
	d="$TMP/b$k"
	mkdir -p "$d"
	t="$d/"
	# coarse colour fields (1/200 scale), mid detail (1/16 scale), vertical gradient, grain
	for c in r g b; do
		vips gaussnoise "${t}c$c.v" $((w / 200 + 2)) $((h / 200 + 2)) --mean 90 --sigma 55
		vips gaussnoise "${t}m$c.v" $((w / 16 + 1)) $((h / 16 + 1)) --mean 0 --sigma 25
	done
	vips bandjoin "${t}cr.v ${t}cg.v ${t}cb.v" "${t}c.v"
	vips bandjoin "${t}mr.v ${t}mg.v ${t}mb.v" "${t}m.v"
	vips resize "${t}c.v" "${t}cb2.v" 200 --kernel cubic
	vips resize "${t}m.v" "${t}mb2.v" 16 --kernel cubic
	vips extract_area "${t}cb2.v" "${t}cc.v" 0 0 "$w" "$h"
	vips extract_area "${t}mb2.v" "${t}mc.v" 0 0 "$w" "$h"
	vips xyz "${t}xy.v" "$w" "$h"
	vips extract_band "${t}xy.v" "${t}y.v" 1
	# 0..80 top to bottom, or bottom to top on odd bases (vips' CLI takes no negative numbers)
	vips linear "${t}y.v" "${t}g0.v" "$(awk -v h="$h" 'BEGIN{print 80/h}')" 0
	if [ $((k % 2)) -eq 1 ]; then vips flip "${t}g0.v" "${t}g.v" vertical; else mv "${t}g0.v" "${t}g.v"; fi
	vips gaussnoise "${t}n.v" "$w" "$h" --mean 0 --sigma 5
	vips add "${t}cc.v" "${t}mc.v" "${t}s1.v"
	vips add "${t}s1.v" "${t}g.v" "${t}s2.v"
	vips add "${t}s2.v" "${t}n.v" "${t}s3.v"
	vips cast "${t}s3.v" "${t}u.v" uchar
	vips copy "${t}u.v" "${t}srgb.v" --interpretation srgb
	vips jpegsave "${t}srgb.v" "$out.tmp.jpg" --Q 90
	mv "$out.tmp.jpg" "$out"
	rm -rf "$d"
}

# 1. base images, two at a time
pids=()
for k in $(seq 0 $((NBASE - 1))); do
	f=$(printf '%s/base/base-%02d.jpg' "$OUT" "$k")
	[ -s "$f" ] && continue
	make_base "$k" "$f" &
	pids+=($!)
	if [ ${#pids[@]} -ge 2 ]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
done
for p in "${pids[@]}"; do wait "$p"; done

# 2. N JPEGs with distinct pixels: base (i mod 20) times a per-file gain and plus a per-file
#    offset in each band (both from i's digits), so no two files share a rendition. Two at a time.
made=0
tint() { # I OUT
	local i=$1 out=$2 b k=$(($1 / NBASE))
	b=$(printf '%s/base/base-%02d.jpg' "$OUT" $((i % NBASE)))
	vips linear "$b" "$out.tmp.v" \
		"$(awk -v k="$k" 'BEGIN{printf "%.3f %.3f %.3f", 0.9 + (k % 7) * 0.03, 0.9 + (k % 11) * 0.02, 0.9 + (k % 13) * 0.015}')" \
		"$((k % 5)) $((k / 5 % 5)) $((k / 25 % 5))" --uchar
	vips copy "$out.tmp.v" "$out.tmp.jpg[Q=90]" --interpretation srgb
	rm -f "$out.tmp.v"
	mv "$out.tmp.jpg" "$out"
}
mkdir -p "$OUT/jpeg-px"
pids=()
for i in $(seq 0 $((N - 1))); do
	f=$(printf '%s/jpeg-px/img-%06d.jpg' "$OUT" "$i")
	[ -s "$f" ] && continue
	tint "$i" "$f" &
	pids+=($!)
	made=$((made + 1))
	if [ ${#pids[@]} -ge 2 ]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
done
for p in "${pids[@]}"; do wait "$p"; done

# 3. five RGBA PNGs, 3000x2000, cut from different bases with a gradient alpha
for k in 0 1 2 3 4; do
	f="$OUT/png/png-$k.png"
	[ -s "$f" ] && continue
	b=$(printf '%s/base/base-%02d.jpg' "$OUT" $((k * 3)))
	vips extract_area "$b" "$TMP/p.v" $((k * 100)) $((k * 50)) 3000 2000
	vips xyz "$TMP/xy.v" 3000 2000
	vips extract_band "$TMP/xy.v" "$TMP/x.v" 0
	vips linear "$TMP/x.v" "$TMP/a.v" 0.085 0 --uchar
	vips bandjoin "$TMP/p.v $TMP/a.v" "$TMP/pa.v"
	vips copy "$TMP/pa.v" "$TMP/pa2.v" --interpretation srgb
	vips pngsave "$TMP/pa2.v" "$f.tmp.png"
	mv "$f.tmp.png" "$f"
done

# 4. three 5 s 1080p H.264 videos
srcs=("testsrc2=size=1920x1080:rate=30" "mandelbrot=size=1920x1080:rate=30" "life=size=1920x1080:rate=30:mold=10:ratio=0.2")
for k in 0 1 2; do
	f="$OUT/video/vid-$k.mp4"
	[ -s "$f" ] && continue
	ffmpeg -nostdin -loglevel error -y -f lavfi -i "${srcs[$k]}" -t 5 -c:v libx264 -preset veryfast \
		-pix_fmt yuv420p "$f.tmp.mp4"
	mv "$f.tmp.mp4" "$f"
done

echo "gen: $OUT ready: $N JPEGs ($made new), 5 PNGs, 3 videos" >&2
