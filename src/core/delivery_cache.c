#include "core/delivery_cache.h"

#include <assert.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/lru.h"

/* A text field of a struct: a NUL-terminated string in a fixed array. */
struct text_field {
	size_t off, size;
};
#define TEXT(type, f) { offsetof(type, f), sizeof(((type *)0)->f) }

/* In the order of their offsets (pack() walks the struct front to back). */
static const struct text_field info_text[] = {
	TEXT(struct delivery_info, asset_id),     TEXT(struct delivery_info, version_id),
	TEXT(struct delivery_info, kind),         TEXT(struct delivery_info, mime),
	TEXT(struct delivery_info, filename),     TEXT(struct delivery_info, original_key),
	TEXT(struct delivery_info, master_key),   TEXT(struct delivery_info, master_error),
	TEXT(struct delivery_info, copyright),    TEXT(struct delivery_info, creator),
};
static const struct text_field rendition_text[] = {
	TEXT(struct delivery_rendition, key),
	TEXT(struct delivery_rendition, mime),
	TEXT(struct delivery_rendition, spec),
};
static const struct text_field err_text[] = {
	TEXT(struct dam_err, msg),
	TEXT(struct dam_err, field),
};
#define NTEXT(a) (sizeof(a) / sizeof((a)[0]))

#define KEY_MAX 128 /* ask_key(): 2 + 1 + 36 + 11 + 1 + 64 + NUL fit */

struct entry {
	struct lru_node node;
	int rc;
	bool has_r;      /* a rendition row is packed after the info */
	size_t bytes;    /* of this allocation */
	char data[];     /* the key, then info, r and (rc < 0) err, packed */
};

struct delivery_cache {
	struct lru map;
	struct db_version version; /* of every entry */
	size_t bytes;
};

/*
 * Packs struct s (size bytes): the bytes between its text fields as they
 * are (numbers, flags, padding: a field added to the struct later is kept
 * without a change here), each text field only up to its NUL. Entries are
 * so about a quarter of the structs' size. dst NULL: only counts.
 */
static size_t pack(char *dst, const void *s, size_t size, const struct text_field *t, size_t nt)
{
	const char *src = s;
	size_t at = 0, n = 0;

	for (size_t i = 0;; i++) {
		size_t end = i < nt ? t[i].off : size, len;

		assert(end >= at);
		if (dst)
			memcpy(dst + n, src + at, end - at);
		n += end - at;
		if (i == nt)
			return n;
		len = strnlen(src + end, t[i].size - 1);
		if (dst) {
			memcpy(dst + n, src + end, len);
			dst[n + len] = '\0';
		}
		n += len + 1;
		at = end + t[i].size;
	}
}

/* The inverse of pack(): fills all of s from src; returns the bytes read. */
static size_t unpack(void *s, size_t size, const char *src, const struct text_field *t, size_t nt)
{
	char *dst = s;
	size_t at = 0, n = 0;

	for (size_t i = 0;; i++) {
		size_t end = i < nt ? t[i].off : size, len;

		memcpy(dst + at, src + n, end - at);
		n += end - at;
		if (i == nt)
			return n;
		len = strlen(src + n); /* < t[i].size: pack() cut it so */
		memcpy(dst + end, src + n, len + 1);
		memset(dst + end + len + 1, 0, t[i].size - len - 1);
		n += len + 1;
		at = end + t[i].size;
	}
}

static void entry_drop(struct delivery_cache *c, struct entry *e)
{
	lru_remove(&c->map, &e->node);
	c->bytes -= e->bytes;
	free(e);
}

static void drop_all(struct delivery_cache *c)
{
	struct lru_node *n;

	while ((n = lru_oldest(&c->map)))
		entry_drop(c, LRU_ENTRY(n, struct entry, node));
}

/* Entries are of one version: another one retires them all. */
static void set_version(struct delivery_cache *c, const struct db_version *v)
{
	if (c->version.others == v->others && c->version.own == v->own)
		return;
	drop_all(c);
	c->version = *v;
}

static void *cache_create(void)
{
	struct delivery_cache *c = calloc(1, sizeof *c);

	if (c && lru_init(&c->map, DELIVERY_CACHE_ENTRIES) < 0) {
		free(c);
		return NULL;
	}
	return c;
}

static void cache_destroy(void *cache)
{
	struct delivery_cache *c = cache;

	drop_all(c);
	lru_release(&c->map);
	free(c);
}

/* The handle frees it (library_close); see struct library_cache_kind. */
static const struct library_cache_kind delivery_cache_kind = {
	"delivery answers", cache_create, cache_destroy,
};

struct delivery_cache *delivery_cache_of(struct dam *dam)
{
	return library__cache(dam, &delivery_cache_kind);
}

/* The key of an ask: the id's length first, so no id, version and
 * rendition name run together into another's key. false when the ask is
 * too long to be a real one (an id from a URL is the client's). */
static bool ask_key(const struct delivery_ask *ask, char *key, size_t size)
{
	size_t idlen = strlen(ask->id);
	int n;

	if (idlen > DAM_ID_LEN || (ask->rendition && strlen(ask->rendition) > 64))
		return false;
	n = snprintf(key, size, "%zu:%s%d%c%s", idlen, ask->id, ask->version, ask->rendition ? '=' : '-',
		     ask->rendition ? ask->rendition : "");
	return n > 0 && (size_t)n < size;
}

bool delivery_cache_get(struct delivery_cache *c, const struct db_version *v, const struct delivery_ask *ask,
			int *rc, struct delivery_info *out, struct delivery_rendition *r, struct dam_err *err)
{
	char key[KEY_MAX];
	struct lru_node *n;
	struct entry *e;
	const char *p;
	struct delivery_rendition row;

	set_version(c, v);
	if (!ask_key(ask, key, sizeof key) || !(n = lru_find(&c->map, key)))
		return false;
	e = LRU_ENTRY(n, struct entry, node);
	lru_use(&c->map, n);
	p = e->data + strlen(e->data) + 1;
	p += unpack(out, sizeof *out, p, info_text, NTEXT(info_text));
	if (e->has_r)
		p += unpack(r ? r : &row, sizeof row, p, rendition_text, NTEXT(rendition_text));
	if (e->rc < 0 && err)
		unpack(err, sizeof *err, p, err_text, NTEXT(err_text));
	*rc = e->rc;
	return true;
}

void delivery_cache_put(struct delivery_cache *c, const struct db_version *v, const struct delivery_ask *ask,
			int rc, const struct delivery_info *info, const struct delivery_rendition *r,
			const struct dam_err *err)
{
	char key[KEY_MAX], *p;
	struct lru_node *old;
	struct entry *e;
	size_t klen, len;

	if ((rc != 0 && rc != DAM_ENOTFOUND && rc != DAM_ECONFLICT) || (rc < 0 && !err) ||
	    !ask_key(ask, key, sizeof key))
		return;
	set_version(c, v);
	klen = strlen(key) + 1;
	len = klen + pack(NULL, info, sizeof *info, info_text, NTEXT(info_text));
	if (r)
		len += pack(NULL, r, sizeof *r, rendition_text, NTEXT(rendition_text));
	if (rc < 0)
		len += pack(NULL, err, sizeof *err, err_text, NTEXT(err_text));
	if (!(e = malloc(sizeof *e + len)))
		return;
	e->rc = rc;
	e->has_r = r != NULL;
	e->bytes = sizeof *e + len;
	memcpy(e->data, key, klen);
	p = e->data + klen;
	p += pack(p, info, sizeof *info, info_text, NTEXT(info_text));
	if (r)
		p += pack(p, r, sizeof *r, rendition_text, NTEXT(rendition_text));
	if (rc < 0)
		pack(p, err, sizeof *err, err_text, NTEXT(err_text));
	if ((old = lru_find(&c->map, key)))
		entry_drop(c, LRU_ENTRY(old, struct entry, node));
	e->node.key = e->data;
	lru_add(&c->map, &e->node);
	c->bytes += e->bytes;
	while (c->map.count > DELIVERY_CACHE_ENTRIES || c->bytes > DELIVERY_CACHE_BYTES)
		entry_drop(c, LRU_ENTRY(lru_oldest(&c->map), struct entry, node));
}
