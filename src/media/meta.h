/*
 * meta.h - embedded metadata: EXIF, IPTC-IIM, XMP, ICC descriptions
 * (meta.c). Every parser takes (ptr, len) of untrusted bytes and never
 * reads outside them.
 *
 * Internal to src/media (names carry the media__ prefix): nothing outside
 * src/media includes this. One header per .c of media/ (see imgio.h).
 */
#ifndef DAM_MEDIA_META_H
#define DAM_MEDIA_META_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <vips/vips.h>

#include "media/media.h"

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

#endif
