/*
 * imgio.h - opening, checking, resizing and encoding images with libvips
 * (imgio.c): the helpers that probe.c, derive.c, av.c and transform.c
 * share. They lived in probe.c and derive.c, so av.c (which encodes its
 * frames with media__emit_webp and checks sizes) and those two files,
 * which dispatch video to av.c, depended on each other.
 *
 * Internal to src/media (names carry the media__ prefix): nothing outside
 * src/media includes this. One header per .c, so that which file of
 * media/ uses which is written in its includes (scripts/check-include-cycles.py
 * reads them): media_int.h used to declare the helpers of every file at
 * once, which hid the av.c <-> derive.c <-> probe.c circle.
 */
#ifndef DAM_MEDIA_IMGIO_H
#define DAM_MEDIA_IMGIO_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vips/vips.h>

#include "media/media.h"

/* Checks width x height against lim; DAM_ELIMIT with a message naming the
 * size when above. */
int media__check_size(int64_t w, int64_t h, const struct media_limits *lim, struct dam_err *err);

/* Opens the image of fd (header only, sequential) with the loaders allowed.
 * *out is a new reference. `opts` are loader options such as "page=2"
 * ("" for none); the magick fallback ignores them. */
int media__open_image(int fd, const char *opts, VipsImage **out, struct dam_err *err);

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

#endif
