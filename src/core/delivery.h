/*
 * delivery.h - what delivery needs to know about an asset's version, and
 * whether it may be delivered at this moment. Every delivery request asks
 * again (never only at signing time), so deleting an asset, or any later
 * rule that withdraws it, stops delivery at once.
 */
#ifndef DAM_CORE_DELIVERY_H
#define DAM_CORE_DELIVERY_H

#include <stdbool.h>
#include <stdint.h>

#include "core/library.h"
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

/*
 * Loads version `version` of asset id, or with 0 the newest processed one
 * (while a new upload is still being processed the previous version keeps
 * being delivered, and a purge follows when the new one is ready), and
 * checks it may be delivered: DAM_ENOTFOUND when the asset or version does not exist or the
 * asset is deleted (a deleted asset is indistinguishable from none to the
 * outside); DAM_ECONFLICT when the version is not processed yet or failed.
 */
int delivery_load(struct dam *dam, const char *id, int version, struct delivery_info *out,
		  struct dam_err *err);

/* A stored rendition of the version delivery_load_with() loaded. */
struct delivery_rendition {
	bool found;
	char key[65];                /* blob hash */
	char mime[64];
	uint64_t size;
	char spec[2048];             /* the JSON spec that made it ("" when NULL) */
};

/*
 * delivery_load(), and in the same query the version's rendition named
 * `rendition` (e.g. "preset:tmall"; NULL for none) into *r: the delivery
 * of a stored preset rendition then costs one statement.
 */
int delivery_load_with(struct dam *dam, const char *id, int version, const char *rendition,
		       struct delivery_info *out, struct delivery_rendition *r, struct dam_err *err);

/* Sets (x, y in 0..1) or clears (x < 0) the asset's focal point; audited.
 * Every smart crop and preset rendition then keeps this point. */
int delivery_set_focal(struct dam *dam, const char *id, double x, double y, struct dam_err *err);

/* Queues a "renditions" job for the asset's current version (when it has a
 * delivery master), inside the caller's transaction: something its preset
 * renditions depend on changed (focal point, copyright or creator). */
int delivery_queue_renditions(struct dam *dam, const char *id, struct dam_err *err);

#endif
