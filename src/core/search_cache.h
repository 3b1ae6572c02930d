/*
 * search_cache.h - a library's in-memory search state: facet value ->
 * roaring bitmap of asset rowids (type, format, tag, color, orientation,
 * aspect, resolution, status, facetable fields), and per asset the facet
 * values it holds (for small facet counts), the version map (version rowid
 * -> asset rowid + "is current", to map full-text matches to assets), the
 * current versions' perceptual hashes, and the name order (sort=name).
 *
 * Loaded from facet_values, search_docs and similarity on first use, then
 * caught up from search_log (the assets search_sync reindexed since) on
 * every search. Owned by the library handle (struct dam, library.c):
 * created and freed with it, so two libraries in one process never share
 * one; handles that library_open_shared() opens on the same library share
 * their first handle's cache (refcounted), so a server's threads load it
 * once. Engine-neutral: only the search tables common to every database.
 *
 * Thread-safety: search_cache_ref/unref are thread-safe; everything else -
 * catch-up and every read of the fields below - happens between
 * search_cache_lock() and search_cache_unlock(). Pointers into the cache
 * are borrowed until the unlock.
 */
#ifndef DAM_CORE_SEARCH_CACHE_H
#define DAM_CORE_SEARCH_CACHE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <roaring/roaring.h>

#include "core/search_names.h"
#include "db/db.h"
#include "util/err.h"

/* One facet value and the assets holding it. */
struct search_fval {
	char *facet, *value;
	roaring_bitmap_t *bm;
};

/* The fval indexes one asset is in. */
struct search_owned {
	uint32_t *ids;
	size_t n, cap;
};

#define SEARCH_VDOC_CURRENT 0x80000000u

struct search_cache {
	pthread_mutex_t lock;
	int refs;                /* under lock */
	int64_t seq;             /* search_log seq caught up to; 0 = not loaded */
	struct search_fval *v;   /* values, only ever appended (until a reload) */
	uint32_t nv;
	size_t capv;
	uint32_t *slots;         /* open addressing: fval index + 1, 0 = empty */
	uint32_t nslots;
	struct search_owned *own; /* by asset rowid */
	size_t nown;
	uint32_t *order;         /* fval indexes grouped by facet (valid when norder == nv) */
	uint32_t norder;
	uint64_t *phash;         /* by asset rowid: current version's perceptual hash */
	uint8_t *has_phash;
	size_t capphash, caphas;
	uint32_t nphash;         /* rows both arrays hold */
	/* by version rowid (the full-text engine's version id): asset rowid + 1,
	 * with SEARCH_VDOC_CURRENT when it is the asset's current version; 0 =
	 * not indexed. Maps matches to assets without joining search_docs. */
	uint32_t *vdoc;
	size_t nvdoc;
	struct search_names names; /* sort=name, built on the first name sort */
};

/* A new, empty cache with one reference; NULL when out of memory. */
struct search_cache *search_cache_new(void);
/* Another reference to c (returned). */
struct search_cache *search_cache_ref(struct search_cache *c);
/* Drops a reference; the last frees the cache. NULL is a no-op. */
void search_cache_unref(struct search_cache *c);

void search_cache_lock(struct search_cache *c);
void search_cache_unlock(struct search_cache *c);

/* Brings the cache up to the database's search_log, loading it whole the
 * first time (or after a long absence). Under the lock. After an error the
 * next call loads or replays the same changes again. */
int search_cache_catch_up(struct search_cache *c, struct db *db, struct dam_err *err);

/* The union of a facet's bitmaps, leaving out the value except (NULL:
 * none). Caller frees with roaring_bitmap_free(); NULL when out of memory.
 * Under the lock. */
roaring_bitmap_t *search_cache_union(struct search_cache *c, const char *facet, const char *except);

/* True when some asset has a value of the facet. Under the lock. */
bool search_cache_facet_exists(const struct search_cache *c, const char *facet);

/* The asset of an indexed version, and whether it is the asset's current
 * one; false when the version is unknown (indexed after the last
 * catch-up). Under the lock. */
static inline bool search_cache_version(const struct search_cache *c, int64_t version, uint32_t *row, bool *current)
{
	uint32_t d = version >= 0 && (uint64_t)version < c->nvdoc ? c->vdoc[version] : 0;

	if (!d)
		return false;
	*row = (d & ~SEARCH_VDOC_CURRENT) - 1;
	*current = (d & SEARCH_VDOC_CURRENT) != 0;
	return true;
}

/* fval indexes grouped by facet name (borrowed; rebuilt when values were
 * added); NULL when out of memory. Under the lock. */
const uint32_t *search_cache_by_facet(struct search_cache *c);

#endif
