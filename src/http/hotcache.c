#include "http/hotcache.h"

#include <stdlib.h>
#include <string.h>

/* What an entry costs beyond its body, key and header strings. */
#define ENTRY_OVERHEAD (sizeof(struct hot_entry) + 64)

struct hotcache {
	struct hot_entry **buckets;
	size_t nbuckets;             /* a power of two */
	size_t entries, bytes, max_bytes;
	struct hot_entry *lru_head;  /* most recently used */
	struct hot_entry *lru_tail;
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
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
	c->nbuckets = 256;
	c->max_bytes = max_bytes;
	if (!(c->buckets = calloc(c->nbuckets, sizeof *c->buckets))) {
		free(c);
		return NULL;
	}
	return c;
}

static void lru_unlink(struct hotcache *c, struct hot_entry *e)
{
	if (e->lru_prev)
		e->lru_prev->lru_next = e->lru_next;
	else
		c->lru_head = e->lru_next;
	if (e->lru_next)
		e->lru_next->lru_prev = e->lru_prev;
	else
		c->lru_tail = e->lru_prev;
	e->lru_prev = e->lru_next = NULL;
}

static void lru_push_front(struct hotcache *c, struct hot_entry *e)
{
	e->lru_prev = NULL;
	e->lru_next = c->lru_head;
	if (c->lru_head)
		c->lru_head->lru_prev = e;
	c->lru_head = e;
	if (!c->lru_tail)
		c->lru_tail = e;
}

static struct hot_entry **bucket_of(struct hotcache *c, const char *key)
{
	return &c->buckets[hash_str(key) & (c->nbuckets - 1)];
}

/* Takes e out of the map and the LRU list; its bytes go when the last
 * response sending them is done. */
static void drop(struct hotcache *c, struct hot_entry *e)
{
	struct hot_entry **p = bucket_of(c, e->key);

	while (*p && *p != e)
		p = &(*p)->next_in_bucket;
	if (*p)
		*p = e->next_in_bucket;
	lru_unlink(c, e);
	c->entries--;
	c->bytes -= entry_cost(e);
	hot_entry_unref(e);
}

void hotcache_free(struct hotcache *c)
{
	if (!c)
		return;
	while (c->lru_head)
		drop(c, c->lru_head);
	free(c->buckets);
	free(c);
}

static struct hot_entry *lookup(struct hotcache *c, const char *key)
{
	for (struct hot_entry *e = *bucket_of(c, key); e; e = e->next_in_bucket)
		if (!strcmp(e->key, key))
			return e;
	return NULL;
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
	lru_unlink(c, e);
	lru_push_front(c, e);
	return e;
}

struct hot_entry *hotcache_find(struct hotcache *c, const char *path, const char *accept, uint64_t epoch,
				int cfg_gen, int64_t now)
{
	struct hot_entry *e = find_key(c, path, epoch, cfg_gen, now);
	char *k;

	if (e)
		return e;
	if (!(k = vary_key(path, accept)))
		return NULL;
	e = find_key(c, k, epoch, cfg_gen, now);
	free(k);
	return e;
}

static void grow(struct hotcache *c)
{
	size_t n = c->nbuckets * 2;
	struct hot_entry **b = calloc(n, sizeof *b);

	if (!b)
		return; /* longer chains, still correct */
	for (size_t i = 0; i < c->nbuckets; i++)
		for (struct hot_entry *e = c->buckets[i], *next; e; e = next) {
			struct hot_entry **slot = &b[hash_str(e->key) & (n - 1)];
			next = e->next_in_bucket;
			e->next_in_bucket = *slot;
			*slot = e;
		}
	free(c->buckets);
	c->buckets = b;
	c->nbuckets = n;
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

	if (!offer->body || offer->len > HOT_ENTRY_MAX)
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
	while (c->bytes + cost > c->max_bytes && c->lru_tail)
		drop(c, c->lru_tail);
	if (c->entries >= c->nbuckets)
		grow(c);
	{
		struct hot_entry **slot = bucket_of(c, e->key);
		e->next_in_bucket = *slot;
		*slot = e;
	}
	lru_push_front(c, e);
	c->entries++;
	c->bytes += cost;
	return e;
}

void hotcache_stats(const struct hotcache *c, struct hotcache_stats *out)
{
	out->bytes = c ? c->bytes : 0;
	out->entries = c ? c->entries : 0;
}
