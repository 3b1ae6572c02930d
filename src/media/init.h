/*
 * init.h - libvips set-up shared by the files of src/media (init.c).
 *
 * Internal to src/media (names carry the media__ prefix): nothing outside
 * src/media includes this. One header per .c of media/ (see imgio.h).
 */
#ifndef DAM_MEDIA_INIT_H
#define DAM_MEDIA_INIT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vips/vips.h>

#include "media/media.h"

/* True when media_init() allowed libvips's magick loader. */
bool media__magick_allowed(void);

/* Sets err to `code` with `what` and libvips's error buffer (trimmed to one
 * line), then clears that buffer. Returns code. */
int media__vips_err(struct dam_err *err, int code, const char *what);

#endif
