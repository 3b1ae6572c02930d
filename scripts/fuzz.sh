#!/usr/bin/env bash
# Builds the libFuzzer targets in tests/fuzz with clang (ASan+UBSan) and runs
# each for SECONDS (default 20) from a seed corpus. `make test` runs this as a
# smoke test; run longer by hand: scripts/fuzz.sh 600.
set -euo pipefail
seconds=${1:-20}
out=${FUZZ_OUT:-build-fuzz}
fixtures=${FIXTURES:-build/fixtures}
mkdir -p "$out"

pkgs="vips poppler-glib lcms2 libavformat libavcodec libswscale libavutil jansson sqlite3 libsodium libmagic inih libh2o-evloop openssl libcurl"
cflags="-g -O1 -std=c17 -D_GNU_SOURCE -DH2O_USE_LIBUV=0 -Isrc -include src/util/banned.h -fsanitize=fuzzer,address,undefined $(pkg-config --cflags $pkgs)"
libs="$(pkg-config --libs $pkgs) -lm -lpthread"
lib_src="src/util/*.c src/store/*.c src/media/*.c src/http/multipart.c src/http/http.c src/http/hotcache.c src/core/query.c src/deliver/tspec.c src/db/search_pg_text.c src/db/search_fts5_text.c"

for target in tests/fuzz/fuzz_*.c; do
  name=$(basename "$target" .c)
  # shellcheck disable=SC2086
  clang $cflags -o "$out/$name" "$target" $lib_src $libs
done

# Seeds: real metadata-bearing files and a sample config.
corpus_meta="$out/corpus-media"
corpus_conf="$out/corpus-config"
mkdir -p "$corpus_meta" "$corpus_conf"
for f in "$fixtures"/drawing.svg; do [ -f "$f" ] && { printf '\003'; cat "$f"; } > "$corpus_meta/svg"; done
printf '\001<x:xmpmeta><rdf:RDF><rdf:Description><dc:subject><rdf:Bag><rdf:li>a &amp; b</rdf:li></rdf:Bag></dc:subject></rdf:Description></rdf:RDF></x:xmpmeta>' > "$corpus_meta/xmp"
printf '\000\034\002\031\000\005hello\034\002\005\000\003abc' > "$corpus_meta/iptc"
{ printf '\000'; printf '[limits]\nmax_pixels = 100\n[worker]\ntimeout = 5\n'; } > "$corpus_conf/conf"
printf '\0012026-01-31T10:20:30.5Z' > "$corpus_conf/date"

corpus_http="$out/corpus-http"
mkdir -p "$corpus_http"
printf '\000--XyZboundary\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\nDATA\r\n--XyZboundary--\r\n' > "$corpus_http/multipart"
printf '\001multipart/form-data; boundary="b"\r\n--b\r\nContent-Disposition: form-data; name="tags"\r\n\r\na,b\r\n--b--' > "$corpus_http/boundary"
printf '\002{"fields":{"title":"x","sku":null},"tags":{"add":["a"],"remove":[]}}' > "$corpus_http/json"
printf '\003cursor=abc%%20def&x=%%E7%%99%%BD' > "$corpus_http/query"

# Search queries: the operators, fields, quotes and CJK text of docs/search.md.
corpus_query="$out/corpus-query"
mkdir -p "$corpus_query"
printf 'spring launch (type:image OR type:video) -tag:draft' > "$corpus_query/bool"
printf 'created:2026-01-01..2026-03-31 width:>=1000 tag:"spring 2026" sku:ABC*' > "$corpus_query/fields"
printf 'licence_expiry:<now+30d price:10..20 created:>=now-7d' > "$corpus_query/relative"
printf '"blue sneaker" sneak* NOT (a AND b) \xe8\xbf\x90\xe5\x8a\xa8\xe9\x9e\x8b' > "$corpus_query/cjk"
printf 'NEAR(a b) ^x {c} +d col:"e" "unclosed' > "$corpus_query/fts5"
printf '"AND"\n"OR"\n"NOT"\n"("\n")"\n"\\""\n":"\n".."\n">="\n"<="\n"*"\n"-"\n"\\xe3\\x80\\x80"\n' > "$out/query.dict"

# Words for the PostgreSQL search index: accents, CJK runs, tsquery syntax.
corpus_words="$out/corpus-words"
mkdir -p "$corpus_words"
printf 'Cr\xc3\xa8me Br\xc3\xbbl\xc3\xa9e SKU-001 39.99 sneaker-blue.jpg' > "$corpus_words/latin"
printf '\xe7\x99\xbd\xe8\x89\xb2\xe8\xbf\x90\xe5\x8a\xa8\xe9\x9e\x8b Nike\xe8\xbf\x90\xe5\x8a\xa8 \xe9\x9e\x8b' > "$corpus_words/cjk"
printf "it's 'x':* a & b | !(c) <-> d\\\\e \xff\xfe" > "$corpus_words/syntax"

# Transform options: the examples of docs/delivery.md, one of each option.
corpus_tspec="$out/corpus-tspec"
mkdir -p "$corpus_tspec"
printf 'w_800,h_800,fit_cover,crop_smart,f_auto,q_80' > "$corpus_tspec/cover"
printf 'p_tmall,exp_1800000000' > "$corpus_tspec/preset"
printf 'wm_0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b:se:0.2:0.5,dpr_1.5,blur_0.3' > "$corpus_tspec/wm"
printf 'rot_90,flip_hv,trim_10,pad_1:2:3:4,bg_ffffff80,sharpen_0,budget_500k,meta_none' > "$corpus_tspec/misc"
printf 'p_jd,w_1200,v_7,dl_1,f_jpg,rot_0' > "$corpus_tspec/override"
printf 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8' > "$corpus_tspec/accept"
printf '_' > "$corpus_tspec/none"
printf '"w_"\n"h_"\n"fit_"\n"crop_"\n"dpr_"\n"rot_"\n"flip_"\n"trim_"\n"pad_"\n"bg_"\n"blur_"\n"sharpen_"\n"wm_"\n"f_"\n"q_"\n"budget_"\n"meta_"\n"p_"\n"v_"\n"exp_"\n"dl_1"\n","\n":"\n"."\n"cover"\n"contain"\n"inside"\n"fill"\n"smart"\n"focal"\n"0.000000000000001"\n"9.99999999999999"\n";q=0"\n' > "$out/tspec.dict"

export ASAN_OPTIONS="detect_leaks=0"
"$out/fuzz_media_meta" -max_total_time="$seconds" -max_len=65536 -print_final_stats=0 "$corpus_meta" 2>&1 | tail -2
"$out/fuzz_config" -max_total_time="$seconds" -max_len=4096 -print_final_stats=0 "$corpus_conf" 2>&1 | tail -2
"$out/fuzz_http_body" -max_total_time="$seconds" -max_len=65536 -print_final_stats=0 "$corpus_http" 2>&1 | tail -2
# The query parser keeps no state: leaks are bugs here.
ASAN_OPTIONS="detect_leaks=1" "$out/fuzz_query" -max_total_time="$seconds" -max_len=4200 -dict="$out/query.dict" -print_final_stats=0 "$corpus_query" 2>&1 | tail -2
ASAN_OPTIONS="detect_leaks=1" "$out/fuzz_tspec" -max_total_time="$seconds" -max_len=1100 -dict="$out/tspec.dict" -print_final_stats=0 "$corpus_tspec" 2>&1 | tail -2
ASAN_OPTIONS="detect_leaks=1" "$out/fuzz_search_words" -max_total_time="$seconds" -max_len=8192 -print_final_stats=0 "$corpus_words" 2>&1 | tail -2
rm -f /tmp/dam-fuzz-conf-*
