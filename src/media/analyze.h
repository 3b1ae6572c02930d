/*
 * analyze.h - colours, perceptual hash, histogram and shape classes of a
 * decoded picture (analyze.c).
 *
 * Internal to src/media (names carry the media__ prefix): nothing outside
 * src/media includes this. One header per .c of media/ (see imgio.h).
 */
#ifndef DAM_MEDIA_ANALYZE_H
#define DAM_MEDIA_ANALYZE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vips/vips.h>

#include "media/media.h"

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
