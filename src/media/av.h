/*
 * av.h - video and audio through FFmpeg (av.c): probing and the
 * poster/thumbnail/keyframes derivatives. probe.c and derive.c dispatch
 * here by kind; av.c itself uses only imgio.h and init.h.
 *
 * Internal to src/media (names carry the media__ prefix): nothing outside
 * src/media includes this. One header per .c of media/ (see imgio.h).
 */
#ifndef DAM_MEDIA_AV_H
#define DAM_MEDIA_AV_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "media/media.h"

/* Probes a video/audio file with libavformat into obj. */
int media__av_probe(int fd, const struct media_limits *lim, json_t *obj, struct dam_err *err);

/* Makes "poster", "thumbnail" and "keyframes" of a video file. */
int media__av_derive(int fd, const struct media_limits *lim, media_emit_fn emit, void *ctx,
		     struct dam_err *err);

#endif
