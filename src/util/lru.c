#include "util/lru.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

#define LRU_BUCKETS_MIN 16

static size_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return (size_t)h;
}

static struct lru_node **bucket_of(struct lru_node **buckets, size_t nbuckets, const char *key)
{
	return &buckets[hash_str(key) & (nbuckets - 1)];
}

int lru_init(struct lru *l, size_t nbuckets)
{
	size_t n = LRU_BUCKETS_MIN;

	memset(l, 0, sizeof *l);
	while (n < nbuckets && n < SIZE_MAX / 2 / sizeof *l->buckets)
		n *= 2;
	if (!(l->buckets = calloc(n, sizeof *l->buckets)))
		return DAM_ENOMEM;
	l->nbuckets = n;
	return 0;
}

void lru_release(struct lru *l)
{
	free(l->buckets);
	memset(l, 0, sizeof *l);
}

struct lru_node *lru_find(const struct lru *l, const char *key)
{
	struct lru_node *n = *bucket_of(l->buckets, l->nbuckets, key);

	while (n && strcmp(n->key, key))
		n = n->hnext;
	return n;
}

static void list_unlink(struct lru *l, struct lru_node *n)
{
	if (n->newer)
		n->newer->older = n->older;
	else
		l->newest = n->older;
	if (n->older)
		n->older->newer = n->newer;
	else
		l->oldest = n->newer;
	n->newer = n->older = NULL;
}

static void list_push_newest(struct lru *l, struct lru_node *n)
{
	n->newer = NULL;
	n->older = l->newest;
	if (l->newest)
		l->newest->newer = n;
	l->newest = n;
	if (!l->oldest)
		l->oldest = n;
}

/* Doubles the table. A failed allocation keeps the old one. */
static void grow(struct lru *l)
{
	size_t n = l->nbuckets * 2;
	struct lru_node **b;

	if (n > SIZE_MAX / sizeof *b || !(b = calloc(n, sizeof *b)))
		return;
	for (size_t i = 0; i < l->nbuckets; i++)
		for (struct lru_node *e = l->buckets[i], *next; e; e = next) {
			struct lru_node **slot = bucket_of(b, n, e->key);
			next = e->hnext;
			e->hnext = *slot;
			*slot = e;
		}
	free(l->buckets);
	l->buckets = b;
	l->nbuckets = n;
}

void lru_add(struct lru *l, struct lru_node *n)
{
	struct lru_node **slot = bucket_of(l->buckets, l->nbuckets, n->key);

	n->hnext = *slot;
	*slot = n;
	list_push_newest(l, n);
	if (++l->count > l->nbuckets)
		grow(l);
}

void lru_remove(struct lru *l, struct lru_node *n)
{
	struct lru_node **p = bucket_of(l->buckets, l->nbuckets, n->key);

	while (*p && *p != n)
		p = &(*p)->hnext;
	if (*p) {
		*p = n->hnext;
		list_unlink(l, n);
		l->count--;
	}
	n->hnext = NULL;
}

void lru_use(struct lru *l, struct lru_node *n)
{
	if (l->newest == n)
		return;
	list_unlink(l, n);
	list_push_newest(l, n);
}
