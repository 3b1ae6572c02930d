/*
 * delivery.h - what delivery needs to know about an asset's version, and
 * whether it may be delivered at this moment. Every delivery request asks
 * again (never only at signing time; an answer is reused only while nothing
 * in the library changed), so deleting an asset, or any later rule that
 * withdraws it, stops delivery at once.
 */
#ifndef DAM_CORE_DELIVERY_H
#define DAM_CORE_DELIVERY_H

#include "core/delivery_info.h"
#include "core/library.h"

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


/*
 * delivery_load(), and in the same query the version's rendition named
 * `rendition` (e.g. "preset:tmall"; NULL for none) into *r: the delivery
 * of a stored preset rendition then costs one statement. Inside a request
 * (library_request_begin) the handle remembers its answers until the
 * database changes (core/delivery_cache.h), so asking again costs none.
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
