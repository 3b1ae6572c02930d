/*
 * delivery_cache.h - the answers delivery_load_with() gave on one library
 * handle since the database last changed, so a delivery request that asks
 * the same again costs no query. On PostgreSQL that query is a round trip
 * per request, which made the rendition-cache path of a scale-out node
 * 0.13x the embedded one (issue 12, bench/RESULTS.md); on SQLite it saves
 * the statement's few microseconds.
 *
 * An answer is the whole outcome of one load: the struct delivery_info,
 * the stored rendition row asked for, and the result code with its error
 * for the outcomes that depend only on the data (0, DAM_ENOTFOUND,
 * DAM_ECONFLICT; a database failure is never kept). The key is what was
 * asked: (asset id as given, version asked, rendition name or none).
 *
 * Validity: every entry belongs to one database version (struct
 * db_version, read through library__data_version() before the query
 * whose answer is kept). A lookup or an insert under any other version
 * drops every entry first, so any commit anywhere (another node, another
 * thread, this handle) retires every answer at once: a delete, a new
 * version or rendition, a field change are seen exactly when a fresh
 * query would see them by that version's rules (library.h: within a
 * request, the version of the request's first read; with the change
 * watcher, its published counter).
 *
 * The answer depends on the data alone, not on the clock: a delivery rule
 * that will depend on time (embargo, expiry) must also end an answer's
 * life at its next boundary, or be checked outside this cache.
 *
 * Bounds: at most DELIVERY_CACHE_ENTRIES answers and DELIVERY_CACHE_BYTES
 * of them (strings are stored packed, a typical answer with its rendition
 * row is well under 1 KiB); the least recently used go first.
 *
 * Ownership: delivery_cache_of() gives the handle's cache, made on first
 * use and freed by library_close() (struct library_cache_kind). Answers
 * are copied in and out; nothing is borrowed from callers beyond a call.
 * Thread-safety: as the handle's (one thread at a time).
 */
#ifndef DAM_CORE_DELIVERY_CACHE_H
#define DAM_CORE_DELIVERY_CACHE_H

#include <stdbool.h>

#include "core/delivery_info.h"
#include "core/library.h"

#define DELIVERY_CACHE_ENTRIES 4096
#define DELIVERY_CACHE_BYTES (2u << 20)

struct delivery_cache;

/* What a load asked for; strings borrowed for the call. */
struct delivery_ask {
	const char *id;        /* the asset id as given */
	int version;           /* 0: the newest processed */
	const char *rendition; /* NULL: none */
};

/* The handle's cache, or NULL when it cannot have one (out of memory, or
 * no free cache slot): the caller then loads without. Borrowed. */
struct delivery_cache *delivery_cache_of(struct dam *dam);

/* true when the answer to `ask` made at database version v is kept: *rc,
 * *out, *r (may be NULL; filled when ask->rendition is set) and *err (may
 * be NULL; filled when *rc < 0) are then as the load filled them. false
 * (nothing written) otherwise. Entries of another version are dropped. */
bool delivery_cache_get(struct delivery_cache *c, const struct db_version *v, const struct delivery_ask *ask,
			int *rc, struct delivery_info *out, struct delivery_rendition *r, struct dam_err *err);

/* Keeps the answer to `ask` made at version v (read before the query):
 * rc, info, r (the row asked for; NULL when ask->rendition is NULL) and
 * err (the load's error when rc < 0). Answers with other codes, or asks
 * too long to be an asset id or a rendition name, are not kept. Never
 * fails: without memory the answer is just not kept. */
void delivery_cache_put(struct delivery_cache *c, const struct db_version *v, const struct delivery_ask *ask,
			int rc, const struct delivery_info *info, const struct delivery_rendition *r,
			const struct dam_err *err);

#endif
