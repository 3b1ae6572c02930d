/*
 * lru.h - a map from string keys to the caller's entries that also keeps
 * them in order of use: find, add, remove and "use" in O(1), the least
 * recently used at one end. The delivery hot cache (http/hotcache.c) and the
 * rendition cache (deliver/rcache.c) each carried a copy of this; both use
 * this one.
 *
 * Intrusive: each entry embeds a struct lru_node and sets its key; the map
 * never allocates or frees entries, only its bucket table. Get the entry
 * back with LRU_ENTRY(). Keys are compared as NUL-terminated strings and
 * hashed with FNV-1a over the whole key (callers choose keys, so no part of
 * a key is trusted to be well distributed).
 *
 * Ownership: lru_init() fills a caller's struct lru; lru_release() frees its
 * table (not the entries: walk and free them first if the caller owns
 * them). A node's key is borrowed and must stay unchanged while the node
 * is in the map.
 *
 * Not thread-safe: the caller serialises (rcache under its mutex, the hot
 * cache on its event loop's thread).
 */
#ifndef DAM_UTIL_LRU_H
#define DAM_UTIL_LRU_H

#include <stddef.h>

struct lru_node {
	const char *key;               /* set before lru_add(); borrowed */
	struct lru_node *hnext;        /* hash chain */
	struct lru_node *newer, *older; /* use order */
};

struct lru {
	struct lru_node **buckets;
	size_t nbuckets;               /* a power of two */
	size_t count;
	struct lru_node *newest, *oldest;
};

/* The entry of type `type` whose member `member` is node n. */
#define LRU_ENTRY(n, type, member) ((type *)(void *)((char *)(n) - offsetof(type, member)))

/* An empty map with room for about `nbuckets` entries before its table
 * grows (rounded up to a power of two, at least 16). 0 or DAM_ENOMEM. */
int lru_init(struct lru *l, size_t nbuckets);

/* Frees the table; the entries are the caller's. l is empty afterwards
 * (lru_init again to reuse). */
void lru_release(struct lru *l);

/* The node with this key, or NULL. Does not change the order of use. */
struct lru_node *lru_find(const struct lru *l, const char *key);

/* Adds n (n->key set, no node with that key in the map) as the most
 * recently used. Grows the table when it holds more entries than buckets;
 * if that allocation fails the old table stays (longer chains, still
 * correct), so adding never fails. */
void lru_add(struct lru *l, struct lru_node *n);

/* Takes n (in the map) out of it; the entry stays the caller's. */
void lru_remove(struct lru *l, struct lru_node *n);

/* Marks n (in the map) as the most recently used. */
void lru_use(struct lru *l, struct lru_node *n);

/* The least / most recently used node (NULL when empty), and the next one
 * towards the most recently used (NULL at the end): walking from
 * lru_oldest() with lru_newer() visits eviction candidates in order. */
static inline struct lru_node *lru_oldest(const struct lru *l)
{
	return l->oldest;
}

static inline struct lru_node *lru_newest(const struct lru *l)
{
	return l->newest;
}

static inline struct lru_node *lru_newer(const struct lru_node *n)
{
	return n->newer;
}

static inline struct lru_node *lru_older(const struct lru_node *n)
{
	return n->older;
}

#endif
