/*
 * delivery_info.h - what delivery_load_with() (core/delivery.h) answers,
 * alone in a header of its own so that core/delivery_cache.h, which keeps
 * those answers, and core/delivery.c, which uses that cache, need not
 * include each other (scripts/check-include-cycles.py).
 */
#ifndef DAM_CORE_DELIVERY_INFO_H
#define DAM_CORE_DELIVERY_INFO_H

#include <stdbool.h>
#include <stdint.h>

#include "util/err.h"
#include "util/id.h"

struct delivery_info {
	char asset_id[DAM_ID_LEN + 1];
	char version_id[DAM_ID_LEN + 1];
	int version;                 /* its number */
	bool current;                /* it is the asset's current version */
	char kind[16];               /* "image", "video" ... */
	char mime[128];
	char filename[256];
	char original_key[65];
	uint64_t original_size;
	char master_key[65];         /* "" when the version has no delivery master */
	int width, height;           /* of the master */
	bool alpha;
	char master_error[DAM_ERR_MSG_MAX]; /* why there is no master, when known */
	bool has_focal;
	double focal_x, focal_y;
	char copyright[256], creator[256]; /* from the asset's fields, may be "" */
	int64_t modified_ms;         /* when these bytes came to be (version creation) */
};

/* A stored rendition of the version delivery_load_with() loaded. */
struct delivery_rendition {
	bool found;
	char key[65];                /* blob hash */
	char mime[64];
	uint64_t size;
	char spec[2048];             /* the JSON spec that made it ("" when NULL) */
};

#endif
