/*
 * source.h - libvips reading through a blob_reader (source.c).
 * Internal to src/media (media__ names): nothing outside src/media
 * includes this.
 */
#ifndef DAM_MEDIA_SOURCE_H
#define DAM_MEDIA_SOURCE_H

#include <vips/vips.h>

#include "store/blob.h"

/* A libvips source reading r (borrowed: it must outlive the source and
 * every image loaded from it) with blob_reader_pread() only. Caller
 * unrefs. NULL when libvips cannot make one. */
VipsSource *media__reader_source(struct blob_reader *r);

#endif
