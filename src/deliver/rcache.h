/*
 * rcache.h - the rendition cache: transformed images kept as files under
 * one folder, named by a content key (SHA-256 hex of what made them), with
 * a size bound enforced by least-recently-used eviction.
 *
 * Request coalescing: when several threads ask for the same missing key at
 * once, one runs make() and the others wait for its result, so a burst of
 * first requests encodes a rendition once. A failed make() is not cached:
 * the waiters get the same error, the next request tries again.
 *
 * Files are written to a temporary name and renamed, so a crash never
 * leaves a partial entry. On open the folder is scanned and the LRU order
 * rebuilt from file modification times (a hit touches the file's mtime,
 * at most once a minute per entry, to keep that order across restarts).
 * Eviction unlinks files; a reader holding an fd keeps reading safely.
 *
 * Ownership: rcache_open() gives a cache freed by rcache_close() (no
 * rcache_get may be running). Data returned by make() is malloc'd and taken
 * over (freed) by the cache. Thread-safe: one mutex over the index; make()
 * runs without it.
 */
#ifndef DAM_DELIVER_RCACHE_H
#define DAM_DELIVER_RCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

struct rcache;

/* Makes the bytes for a missing key: *data malloc'd (the cache frees it),
 * *len its size. Returns 0 or a negative DAM_E* with err filled. */
typedef int (*rcache_make_fn)(void *ctx, void **data, size_t *len, struct dam_err *err);

/* Opens (creating) dir with a bound of max_bytes (0 = caching off: every
 * rcache_get makes and returns the bytes through a temporary unlinked file,
 * still coalesced). Entries over the bound after the scan are evicted. */
int rcache_open(const char *dir, uint64_t max_bytes, struct rcache **out, struct dam_err *err);
void rcache_close(struct rcache *c);
/* A new bound (a reload of dam.conf): entries over it are evicted at once,
 * least recently used first. Thread-safe. */
void rcache_set_max(struct rcache *c, uint64_t max_bytes);

/*
 * Gives an open read-only fd (caller closes) and size of the entry for key
 * (64 lowercase hex chars), making it with make(ctx) when absent. *hit is
 * set to true when it was already cached (may be NULL). An entry larger
 * than the whole bound is returned but not kept. DAM_EINVAL for a bad key.
 */
int rcache_get(struct rcache *c, const char *key, rcache_make_fn make, void *ctx, int *fd,
	       uint64_t *size, bool *hit, struct dam_err *err);

struct rcache_stats {
	uint64_t entries, bytes, max_bytes;
	uint64_t hits, misses, makes, coalesced, evictions;
};

void rcache_stats(struct rcache *c, struct rcache_stats *out);

#endif
