/*
 * hotcache.h - delivered renditions kept in memory by an event loop, so a
 * repeated delivery request is answered on the loop: no pool thread, no SQL
 * beyond one PRAGMA, no file read.
 *
 * Why this stays exact: every delivery re-checks the asset (deleted,
 * withdrawn, a newer version, a retired key...), and all of that is rows in
 * the database. The loop reads its own connection's data_version before it
 * looks an entry up, and counts an epoch up whenever that changes (any
 * commit by anyone). An entry carries the epoch the loop had read *before*
 * it handed the request to the pool, so it describes a database at least as
 * new as that epoch; once anything is committed, the epoch moves and every
 * entry of the loop is stale, and goes at the loop's next lookup. The
 * same goes for the configuration generation (SIGHUP). Expiring links
 * (exp_) are checked against the clock on every use.
 *
 * One cache per event loop, touched only by that loop's thread: no locks.
 * Entries are reference counted, so a response still being sent keeps its
 * bytes after the entry is evicted or replaced.
 *
 * Ownership: hotcache_new() -> hotcache_free(). hotcache_find() returns a
 * borrowed entry; take hot_entry_ref() to keep it beyond the call and drop
 * it with hot_entry_unref(). hotcache_put() takes the offer's body.
 */
#ifndef DAM_HTTP_HOTCACHE_H
#define DAM_HTTP_HOTCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/http.h"
#include "util/lru.h"

/* Larger bodies are not worth a place in memory: the file path serves them
 * at the cost of the copy anyway, and they would push out many small ones. */
#define HOT_ENTRY_MAX (1u << 20)

/* struct hot_offer, what a handler offers the loop, is in http/http.h:
 * it travels in struct http_res, which frees it. */

struct hot_entry {
	char *key;                   /* the request path, plus "\n" Accept when it varies */
	unsigned char *body;
	size_t len;
	struct http_header *headers;  /* the response's headers, but not Cache-Control */
	size_t nheaders;
	const char *etag;            /* points into headers */
	long long max_age;
	bool immutable;
	int64_t expires;
	uint64_t epoch;
	int cfg_gen;
	/* private */
	int refs;
	struct lru_node lru;         /* in the cache's map; lru.key = key */
};

struct hotcache;

/* A cache of at most max_bytes (bodies, keys and headers); NULL on ENOMEM. */
struct hotcache *hotcache_new(size_t max_bytes);
void hotcache_free(struct hotcache *c);

/*
 * The entry for path (and accept, for entries that vary by it) made at this
 * epoch and configuration generation and not past its link's expiry at
 * `now`; NULL otherwise. Epochs and generations only move forward: the
 * first call with a newer one drops every entry (none can be used again),
 * and a call with an older one finds nothing. An expired entry found on
 * the way is dropped.
 */
struct hot_entry *hotcache_find(struct hotcache *c, const char *path, const char *accept, uint64_t epoch,
				int cfg_gen, int64_t now);

/*
 * Stores the response to path: its headers (copied, Cache-Control left out)
 * and the offer's body (taken: offer->body is NULL afterwards). Replaces an
 * entry for the same key and evicts the least recently used ones to stay
 * within the bound. Returns the new entry (borrowed, as from
 * hotcache_find()), or NULL (leaving the offer alone) when it cannot be
 * kept: larger than HOT_ENTRY_MAX, over the bound on its own, made at an
 * older epoch or generation than the cache has seen (stale already), or
 * out of memory.
 */
struct hot_entry *hotcache_put(struct hotcache *c, const char *path, const char *accept, uint64_t epoch,
			       int cfg_gen, const struct http_header *headers, size_t nheaders,
			       struct hot_offer *offer);

void hot_entry_ref(struct hot_entry *e);
void hot_entry_unref(struct hot_entry *e);

struct hotcache_stats {
	size_t bytes, entries;
};
void hotcache_stats(const struct hotcache *c, struct hotcache_stats *out);

#endif
