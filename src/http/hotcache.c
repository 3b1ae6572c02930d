#include "http/hotcache.h"

#include <stdlib.h>
#include <string.h>

/* What an entry costs beyond its body, key and header strings. */
#define ENTRY_OVERHEAD (sizeof(struct hot_entry) + 64)

struct hotcache {
	struct lru map;              /* entries by key, in order of use */
	size_t entries, bytes, max_bytes;
	/* The newest epoch and configuration generation the loop asked
	 * with: every entry carries exactly these (see advance()). */
	uint64_t epoch;
	int cfg_gen;
};

static struct hot_entry *entry_of(struct lru_node *n)
{
	return n ? LRU_ENTRY(n, struct hot_entry, lru) : NULL;
}

static size_t entry_cost(const struct hot_entry *e)
{
	size_t n = ENTRY_OVERHEAD + e->len + strlen(e->key);

	for (size_t i = 0; i < e->nheaders; i++)
		n += strlen(e->headers[i].name) + strlen(e->headers[i].value) + 2 + sizeof e->headers[i];
	return n;
}

static void entry_free(struct hot_entry *e)
{
	for (size_t i = 0; i < e->nheaders; i++) {
		free(e->headers[i].name);
		free(e->headers[i].value);
	}
	free(e->headers);
	free(e->body);
	free(e->key);
	free(e);
}

void hot_entry_ref(struct hot_entry *e)
{
	e->refs++;
}

void hot_entry_unref(struct hot_entry *e)
{
	if (e && --e->refs == 0)
		entry_free(e);
}

struct hotcache *hotcache_new(size_t max_bytes)
{
	struct hotcache *c = calloc(1, sizeof *c);

	if (!c)
		return NULL;
	c->max_bytes = max_bytes;
	if (lru_init(&c->map, 256) < 0) {
		free(c);
		return NULL;
	}
	return c;
}

/* Takes e out of the map and the LRU list; its bytes go when the last
 * response sending them is done. */
static void drop(struct hotcache *c, struct hot_entry *e)
{
	lru_remove(&c->map, &e->lru);
	c->entries--;
	c->bytes -= entry_cost(e);
	hot_entry_unref(e);
}

void hotcache_free(struct hotcache *c)
{
	if (!c)
		return;
	while (lru_newest(&c->map))
		drop(c, entry_of(lru_newest(&c->map)));
	lru_release(&c->map);
	free(c);
}

static struct hot_entry *lookup(struct hotcache *c, const char *key)
{
	return entry_of(lru_find(&c->map, key));
}

/* Brings the cache to the loop's (epoch, cfg_gen); false when the caller
 * asks with an older one (a pool answer that started before the change:
 * stale on arrival). Both only move forward, so once the loop has seen a
 * newer one no entry made before can ever be used again: they all go now,
 * not one by one when looked up. Under steady edits most delivered URLs
 * are never asked for twice in an epoch, and left in place their bytes
 * would fill the cache to its bound with entries nothing can use. */
static bool advance(struct hotcache *c, uint64_t epoch, int cfg_gen)
{
	if (epoch < c->epoch || cfg_gen < c->cfg_gen)
		return false;
	if (epoch == c->epoch && cfg_gen == c->cfg_gen)
		return true;
	while (lru_oldest(&c->map))
		drop(c, entry_of(lru_oldest(&c->map)));
	c->epoch = epoch;
	c->cfg_gen = cfg_gen;
	return true;
}

static bool usable(const struct hot_entry *e, uint64_t epoch, int cfg_gen, int64_t now)
{
	return e->epoch == epoch && e->cfg_gen == cfg_gen && (!e->expires || now <= e->expires);
}

/* The key of a response that varies by Accept. NULL on ENOMEM. */
static char *vary_key(const char *path, const char *accept)
{
	size_t pl = strlen(path), al = accept ? strlen(accept) : 0;
	char *k = malloc(pl + al + 2);

	if (k) {
		memcpy(k, path, pl);
		k[pl] = '\n';
		memcpy(k + pl + 1, accept ? accept : "", al);
		k[pl + 1 + al] = '\0';
	}
	return k;
}

static struct hot_entry *find_key(struct hotcache *c, const char *key, uint64_t epoch, int cfg_gen, int64_t now)
{
	struct hot_entry *e = lookup(c, key);

	if (!e)
		return NULL;
	if (!usable(e, epoch, cfg_gen, now)) {
		drop(c, e);
		return NULL;
	}
	lru_use(&c->map, &e->lru);
	return e;
}

struct hot_entry *hotcache_find(struct hotcache *c, const char *path, const char *accept, uint64_t epoch,
				int cfg_gen, int64_t now)
{
	struct hot_entry *e;
	char *k;

	if (!advance(c, epoch, cfg_gen))
		return NULL;
	if ((e = find_key(c, path, epoch, cfg_gen, now)))
		return e;
	if (!(k = vary_key(path, accept)))
		return NULL;
	e = find_key(c, k, epoch, cfg_gen, now);
	free(k);
	return e;
}

static bool copy_headers(struct hot_entry *e, const struct http_header *headers, size_t n)
{
	if (!(e->headers = calloc(n ? n : 1, sizeof *e->headers)))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(headers[i].name, "cache-control"))
			continue;
		e->headers[e->nheaders].name = strdup(headers[i].name);
		e->headers[e->nheaders].value = strdup(headers[i].value);
		if (!e->headers[e->nheaders].name || !e->headers[e->nheaders].value) {
			e->nheaders++;
			return false;
		}
		if (!strcmp(headers[i].name, "etag"))
			e->etag = e->headers[e->nheaders].value;
		e->nheaders++;
	}
	return true;
}

static struct hot_entry *entry_new(const char *path, const char *accept, uint64_t epoch, int cfg_gen,
				   const struct http_header *headers, size_t nheaders, const struct hot_offer *o)
{
	struct hot_entry *e = calloc(1, sizeof *e);

	if (!e)
		return NULL;
	e->refs = 1; /* the cache's own */
	e->key = o->vary_accept ? vary_key(path, accept) : strdup(path);
	if (!e->key || !copy_headers(e, headers, nheaders)) {
		entry_free(e);
		return NULL;
	}
	e->len = o->len;
	e->max_age = o->max_age;
	e->immutable = o->immutable;
	e->expires = o->expires;
	e->epoch = epoch;
	e->cfg_gen = cfg_gen;
	return e;
}

struct hot_entry *hotcache_put(struct hotcache *c, const char *path, const char *accept, uint64_t epoch,
			       int cfg_gen, const struct http_header *headers, size_t nheaders,
			       struct hot_offer *offer)
{
	struct hot_entry *e, *old;
	size_t cost;

	if (!offer->body || offer->len > HOT_ENTRY_MAX || !advance(c, epoch, cfg_gen))
		return NULL;
	if (!(e = entry_new(path, accept, epoch, cfg_gen, headers, nheaders, offer)))
		return NULL;
	cost = entry_cost(e);
	if (cost > c->max_bytes) {
		entry_free(e);
		return NULL;
	}
	e->body = offer->body;
	offer->body = NULL;
	if ((old = lookup(c, e->key)))
		drop(c, old);
	while (c->bytes + cost > c->max_bytes && lru_oldest(&c->map))
		drop(c, entry_of(lru_oldest(&c->map)));
	e->lru.key = e->key;
	lru_add(&c->map, &e->lru);
	c->entries++;
	c->bytes += cost;
	return e;
}

void hotcache_stats(const struct hotcache *c, struct hotcache_stats *out)
{
	out->bytes = c ? c->bytes : 0;
	out->entries = c ? c->entries : 0;
}
