/*
 * media_int.h - helpers shared by the files of src/media only (not part of
 * the module's interface; nothing outside src/media includes this).
 *
 * Names carry the media__ prefix. Every parser here takes (ptr, len) of
 * untrusted bytes and never reads outside them.
 */
#ifndef DAM_MEDIA_MEDIA_INT_H
#define DAM_MEDIA_MEDIA_INT_H

#include <vips/vips.h>

#include "media/media.h"
#include "store/blob.h"

/* Upper bound of bytes of an SVG file we scan for its root element. */
#define MEDIA_SVG_SCAN_MAX (1024 * 1024)

/* ---- source.c ---- */

/* A libvips source reading r (borrowed: it must outlive the source and
 * every image loaded from it) with blob_reader_pread() only. Caller
 * unrefs. NULL when libvips cannot make one. */
VipsSource *media__reader_source(struct blob_reader *r);

/* ---- init.c ---- */

/* True when media_init() allowed libvips's magick loader. */
bool media__magick_allowed(void);

/* Sets err to `code` with `what` and libvips's error buffer (trimmed to one
 * line), then clears that buffer. Returns code. */
int media__vips_err(struct dam_err *err, int code, const char *what);

/* ---- text.c: strings from files ---- */

/* A new JSON string of (s, len) made valid UTF-8 (invalid bytes are read as
 * Latin-1), with surrounding white space trimmed. NULL when the result is
 * empty. Caller owns the result. */
json_t *media__json_text(const char *s, size_t len);

/* Sets obj[key] = media__json_text(s, len) unless that is empty. */
void media__set_text(json_t *obj, const char *key, const char *s, size_t len);

/* Decodes XML entities (&amp; &lt; &gt; &quot; &apos; &#NN; &#xNN;) of
 * (s, len) into dst (capacity cap, NUL-terminated, truncated if needed).
 * Returns the decoded length. */
size_t media__xml_unescape(const char *s, size_t len, char *dst, size_t cap);

/* Finds the root element of an XML document in (s, len): skips BOM, prolog,
 * comments, processing instructions and DOCTYPE. On success sets *tag to the
 * '<' of the root start tag, *taglen to the length up to and including its
 * '>' and returns true. */
bool media__xml_root(const char *s, size_t len, const char **tag, size_t *taglen);

/* True when (s, len) is an XML document whose root element is <svg>. */
bool media__is_svg(const char *s, size_t len);

/* Value of attribute `name` in a start tag (tag, taglen): sets *val, *vlen
 * (raw, not unescaped) and returns true when present. */
bool media__xml_attr(const char *tag, size_t taglen, const char *name, const char **val,
		     size_t *vlen);

/* ---- meta.c: embedded metadata ---- */

/* Adds "exif" (make, model, ... gps) read from the image's vips fields to
 * obj. */
void media__exif_to_json(VipsImage *im, json_t *obj);

/* Parses an IPTC-IIM block (raw, or wrapped in a Photoshop "8BIM" resource
 * block) and merges title, description, keywords, creator, copyright into
 * `emb` (keys already present are kept). */
void media__iptc_parse(const unsigned char *p, size_t len, json_t *emb);

/* Parses an XMP packet and sets title, description, keywords, creator,
 * copyright, usage_terms into `emb` (XMP wins: replaces what is there;
 * keywords are merged). */
void media__xmp_parse(const char *p, size_t len, json_t *emb);

/* The description of an ICC profile ('desc' of v2 textDescriptionType or v4
 * multiLocalizedUnicodeType) as a new JSON string, or NULL. */
json_t *media__icc_description(const unsigned char *p, size_t len);

/* ---- av.c: FFmpeg ---- */

/* Probes a video/audio file with libavformat into obj. */
int media__av_probe(int fd, const struct media_limits *lim, json_t *obj, struct dam_err *err);

/* Makes "poster", "thumbnail" and "keyframes" of a video file. */
int media__av_derive(int fd, const struct media_limits *lim, media_emit_fn emit, void *ctx,
		     struct dam_err *err);

/* ---- derive.c ---- */

/* Resizes `im` to fit max x max (never up; max 0 = as is), encodes it as
 * sRGB 8-bit WebP Q80 and hands it to emit() as derivative `name` with the
 * spec {"max":max,"format":"webp","q":80} plus the keys of `extra`
 * (borrowed, may be NULL). Does not take `im`. */
int media__emit_webp(VipsImage *im, const char *name, int max, json_t *extra,
		     media_emit_fn emit, void *ctx, struct dam_err *err);

/* True when libvips's error buffer text `buf` holds an error of a decode.
 * libheif probes past the end of the file through the source and
 * recovers, which leaves "source: bad seek to N" lines: those alone are no
 * failure. Meaningful only in a process that decodes one file at a time. */
bool media__decode_failed(const char *buf);

/* Resizes `in` so that its longest side is `max` px exactly (never up);
 * *out is a new reference. Returns 0 or DAM_EMEDIA. */
int media__fit(VipsImage *in, int max, VipsImage **out, struct dam_err *err);

/* ---- probe.c ---- */

/* Checks width x height against lim; DAM_ELIMIT with a message naming the
 * size when above. */
int media__check_size(int64_t w, int64_t h, const struct media_limits *lim, struct dam_err *err);

/* Opens the image of fd (header only, sequential) with the loaders allowed.
 * *out is a new reference. `opts` are loader options such as "page=2"
 * ("" for none); the magick fallback ignores them. */
int media__open_image(int fd, const char *opts, VipsImage **out, struct dam_err *err);

/* ---- analyze.c ---- */

/* Analyses a decoded picture (any size, sRGB or anything vips_colourspace
 * converts; typically derive's in-memory preview) into *out: colours,
 * pHash, histogram and transparency from its pixels, and the shape classes
 * of width x height, the original's display size. Sets out->kind to
 * MEDIA_IMAGE (callers change it). Does not take `im`. Returns 0,
 * DAM_EINVAL for a size below 1, DAM_EMEDIA. */
int media__analyze_image(VipsImage *im, int width, int height, struct media_analysis *out,
			 struct dam_err *err);

/* Sets out->width/height and recomputes orientation, aspect and
 * resolution from them (both >= 1). */
void media__analysis_set_size(struct media_analysis *out, int width, int height);

#endif
