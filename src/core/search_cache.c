/*
 * search_cache.c - the per-library facet bitmaps, version map and
 * perceptual hashes (see search_cache.h).
 */
#include "core/search_cache.h"

#include <stdlib.h>
#include <string.h>

#include "util/grow.h"

/* A catch-up this far behind reloads everything: cheaper than replaying. */
#define REPLAY_MAX 100000

/* CRoaring 0.2 does not accept NULL. */
static void bm_free(roaring_bitmap_t *b)
{
	if (b)
		roaring_bitmap_free(b);
}

static uint32_t hash2(const char *a, const char *b)
{
	uint32_t h = 2166136261u;

	for (; *a; a++)
		h = (h ^ (unsigned char)*a) * 16777619u;
	h = (h ^ 0xff) * 16777619u;
	for (; *b; b++)
		h = (h ^ (unsigned char)*b) * 16777619u;
	return h;
}

/* Frees every loaded thing; the cache is empty and unloaded (seq 0). */
static void cache_reset(struct search_cache *c)
{
	for (uint32_t i = 0; i < c->nv; i++) {
		free(c->v[i].facet);
		free(c->v[i].value);
		bm_free(c->v[i].bm);
	}
	for (size_t i = 0; i < c->nown; i++)
		free(c->own[i].ids);
	free(c->v);
	free(c->slots);
	free(c->own);
	free(c->phash);
	free(c->has_phash);
	free(c->vdoc);
	free(c->order);
	search_names_release(&c->names);
	c->v = NULL;
	c->slots = NULL;
	c->own = NULL;
	c->phash = NULL;
	c->has_phash = NULL;
	c->vdoc = NULL;
	c->order = NULL;
	c->nv = c->nslots = c->norder = c->nphash = 0;
	c->capv = c->nown = c->capphash = c->caphas = c->nvdoc = 0;
	c->seq = 0;
}

struct search_cache *search_cache_new(void)
{
	struct search_cache *c = calloc(1, sizeof *c);

	if (!c)
		return NULL;
	if (pthread_mutex_init(&c->lock, NULL) != 0) {
		free(c);
		return NULL;
	}
	c->refs = 1;
	return c;
}

struct search_cache *search_cache_ref(struct search_cache *c)
{
	pthread_mutex_lock(&c->lock);
	c->refs++;
	pthread_mutex_unlock(&c->lock);
	return c;
}

void search_cache_unref(struct search_cache *c)
{
	bool last;

	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	last = --c->refs == 0;
	pthread_mutex_unlock(&c->lock);
	if (!last)
		return;
	cache_reset(c);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

void search_cache_lock(struct search_cache *c)
{
	pthread_mutex_lock(&c->lock);
}

void search_cache_unlock(struct search_cache *c)
{
	pthread_mutex_unlock(&c->lock);
}

/* Rebuilds the slots at twice the size (1024 at first) from the values. */
static int rehash(struct search_cache *c)
{
	uint32_t n = c->nslots ? c->nslots * 2 : 1024;
	uint32_t *s = calloc(n, sizeof *s);

	if (!s)
		return DAM_ENOMEM;
	for (uint32_t i = 0; i < c->nv; i++) {
		uint32_t h = hash2(c->v[i].facet, c->v[i].value) & (n - 1);
		while (s[h])
			h = (h + 1) & (n - 1);
		s[h] = i + 1;
	}
	free(c->slots);
	c->slots = s;
	c->nslots = n;
	return 0;
}

static int64_t fval_lookup(const struct search_cache *c, const char *facet, const char *value)
{
	if (!c->nslots)
		return -1;
	for (uint32_t h = hash2(facet, value) & (c->nslots - 1); c->slots[h]; h = (h + 1) & (c->nslots - 1)) {
		const struct search_fval *f = &c->v[c->slots[h] - 1];
		if (!strcmp(f->facet, facet) && !strcmp(f->value, value))
			return c->slots[h] - 1;
	}
	return -1;
}

/* The fval for (facet, value), made if missing; DAM_ENOMEM. The slots
 * grow first (kept at most half full), so a failure leaves the table as
 * it was. */
static int64_t fval_get(struct search_cache *c, const char *facet, const char *value)
{
	int64_t i = fval_lookup(c, facet, value);
	struct search_fval f = { 0 };
	uint32_t h;

	if (i >= 0)
		return i;
	if (((c->nv + 1) * 2 > c->nslots && rehash(c) < 0) || GROW(&c->v, &c->capv, (size_t)c->nv + 1, 256) < 0)
		return DAM_ENOMEM;
	if (!(f.facet = strdup(facet)) || !(f.value = strdup(value)) || !(f.bm = roaring_bitmap_create())) {
		free(f.facet);
		free(f.value);
		return DAM_ENOMEM;
	}
	c->v[c->nv++] = f;
	for (h = hash2(facet, value) & (c->nslots - 1); c->slots[h]; h = (h + 1) & (c->nslots - 1))
		;
	c->slots[h] = c->nv;
	return c->nv - 1;
}

static int own_add(struct search_cache *c, uint32_t row, uint32_t fv)
{
	struct search_owned *o;

	if (GROW(&c->own, &c->nown, (size_t)row + 1, 1024) < 0)
		return DAM_ENOMEM;
	o = &c->own[row];
	if (GROW(&o->ids, &o->cap, o->n + 1, 8) < 0)
		return DAM_ENOMEM;
	o->ids[o->n++] = fv;
	return 0;
}

static int cache_add(struct search_cache *c, uint32_t row, const char *facet, const char *value)
{
	int64_t fv = fval_get(c, facet, value);

	if (fv < 0)
		return (int)fv;
	roaring_bitmap_add(c->v[fv].bm, row);
	return own_add(c, row, (uint32_t)fv);
}

static void cache_drop_asset(struct search_cache *c, uint32_t row)
{
	if (row >= c->nown)
		return;
	for (size_t i = 0; i < c->own[row].n; i++)
		roaring_bitmap_remove(c->v[c->own[row].ids[i]].bm, row);
	c->own[row].n = 0;
}

static int phash_set(struct search_cache *c, uint32_t row, bool has, uint64_t ph)
{
	if (GROW(&c->phash, &c->capphash, (size_t)row + 1, 1024) < 0 ||
	    GROW(&c->has_phash, &c->caphas, (size_t)row + 1, 1024) < 0)
		return DAM_ENOMEM;
	c->nphash = (uint32_t)(c->capphash < c->caphas ? c->capphash : c->caphas);
	c->phash[row] = ph;
	c->has_phash[row] = has;
	return 0;
}

static int vdoc_set(struct search_cache *c, int64_t vrow, int64_t arow, bool current)
{
	if (vrow < 0 || vrow >= SEARCH_VDOC_CURRENT || arow < 0 || arow + 1 >= SEARCH_VDOC_CURRENT)
		return 0;
	if (GROW(&c->vdoc, &c->nvdoc, (size_t)vrow + 1, 1024) < 0)
		return DAM_ENOMEM;
	c->vdoc[vrow] = (uint32_t)(arow + 1) | (current ? SEARCH_VDOC_CURRENT : 0);
	return 0;
}

static int oom(struct dam_err *err)
{
	return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory loading the search cache");
}

/* The versions search_docs has for one asset (row >= 0) or for all. */
static int load_vdocs(struct search_cache *c, struct db *db, int64_t row, struct dam_err *err)
{
	struct db_stmt *st;
	int rc;

	if (row >= 0)
		rc = db_query(db, &st, err, "SELECT version_rowid, asset_rowid, is_current FROM search_docs WHERE asset_rowid=?",
			      "i", row);
	else
		rc = db_query(db, &st, err, "SELECT version_rowid, asset_rowid, is_current FROM search_docs", "");
	if (rc < 0)
		return rc;
	while ((rc = db_step(st, err)) == DB_ROW)
		if (vdoc_set(c, db_col_int(st, 0), db_col_int(st, 1), db_col_int(st, 2) != 0) < 0) {
			rc = oom(err);
			break;
		}
	db_finalize(st);
	return rc < 0 ? rc : 0;
}

#define CURRENT_PHASH_SQL                                                                         \
	"SELECT s.asset_rowid, s.phash FROM similarity s JOIN assets a ON a.num = s.asset_rowid" \
	" JOIN versions v ON v.num = s.version_rowid AND v.id = a.current_version_id"

static int load_phash(struct search_cache *c, struct db *db, int64_t row, struct dam_err *err)
{
	struct db_stmt *st;
	int rc;

	if (row >= 0)
		rc = db_query(db, &st, err, CURRENT_PHASH_SQL " WHERE s.asset_rowid=?", "i", row);
	else /* search_docs knows the current versions (search_sync ran): integer
	      * keys instead of joining versions on their text ids, 2x faster */
		rc = db_query(db, &st, err,
			      "SELECT s.asset_rowid, s.phash FROM similarity s"
			      " JOIN search_docs d ON d.version_rowid = s.version_rowid WHERE d.is_current <> 0", "");
	if (rc < 0)
		return rc;
	if (row >= 0 && phash_set(c, (uint32_t)row, false, 0) < 0)
		rc = oom(err);
	while (rc >= 0 && (rc = db_step(st, err)) == DB_ROW)
		if (phash_set(c, (uint32_t)db_col_int(st, 0), true, (uint64_t)db_col_int(st, 1)) < 0)
			rc = oom(err);
	db_finalize(st);
	return rc < 0 ? rc : 0;
}

/* Facet values of one asset (row >= 0) or of all. */
static int load_facets(struct search_cache *c, struct db *db, int64_t row, struct dam_err *err)
{
	struct db_stmt *st;
	int rc;

	if (row >= 0)
		rc = db_query(db, &st, err, "SELECT asset_rowid, facet, value FROM facet_values WHERE asset_rowid=?", "i", row);
	else
		rc = db_query(db, &st, err, "SELECT asset_rowid, facet, value FROM facet_values", "");
	if (rc < 0)
		return rc;
	while ((rc = db_step(st, err)) == DB_ROW)
		if (cache_add(c, (uint32_t)db_col_int(st, 0), db_col_text(st, 1), db_col_text(st, 2)) < 0) {
			rc = oom(err);
			break;
		}
	db_finalize(st);
	return rc < 0 ? rc : 0;
}

static int load_asset(struct search_cache *c, struct db *db, int64_t row, struct dam_err *err)
{
	int rc;

	cache_drop_asset(c, (uint32_t)row);
	if ((rc = load_facets(c, db, row, err)) < 0 || (rc = load_vdocs(c, db, row, err)) < 0)
		return rc;
	return load_phash(c, db, row, err);
}

static int load_all(struct search_cache *c, struct db *db, struct dam_err *err)
{
	int rc;

	cache_reset(c);
	if ((rc = load_facets(c, db, -1, err)) < 0 || (rc = load_phash(c, db, -1, err)) < 0)
		return rc;
	return load_vdocs(c, db, -1, err);
}

/* Reloads the assets search_log lists after seq, up to last. */
static int replay(struct search_cache *c, struct db *db, int64_t last, struct dam_err *err)
{
	struct db_stmt *st;
	int64_t *rows = NULL;
	size_t n = 0, cap = 0;
	int rc;

	if ((rc = db_query(db, &st, err, "SELECT DISTINCT asset_rowid FROM search_log WHERE seq > ? AND seq <= ?", "ii",
			   c->seq, last)) < 0)
		return rc;
	while ((rc = db_step(st, err)) == DB_ROW) {
		if (GROW(&rows, &cap, n + 1, 64) < 0) {
			rc = oom(err);
			break;
		}
		rows[n++] = db_col_int(st, 0);
	}
	db_finalize(st);
	for (size_t i = 0; i < n && rc >= 0; i++)
		rc = load_asset(c, db, rows[i], err);
	if (rc >= 0)
		rc = search_names_patch(&c->names, db, rows, n, err);
	free(rows);
	return rc < 0 ? rc : 0;
}

int search_cache_catch_up(struct search_cache *c, struct db *db, struct dam_err *err)
{
	int64_t last = 0;
	int rc;

	if ((rc = db_query_int(db, &last, err, "SELECT coalesce(max(seq), 0) FROM search_log", "")) < 0)
		return rc;
	if (last == c->seq)
		return 0;
	if (c->seq == 0 || last - c->seq > REPLAY_MAX)
		rc = load_all(c, db, err);
	else
		rc = replay(c, db, last, err);
	if (rc < 0) /* seq stays: the next search loads (or replays) again */
		return rc;
	c->seq = last;
	return 0;
}

roaring_bitmap_t *search_cache_union(struct search_cache *c, const char *facet, const char *except)
{
	roaring_bitmap_t *u = roaring_bitmap_create();

	for (uint32_t i = 0; u && i < c->nv; i++)
		if (!strcmp(c->v[i].facet, facet) && (!except || strcmp(c->v[i].value, except)))
			roaring_bitmap_or_inplace(u, c->v[i].bm);
	return u;
}

bool search_cache_facet_exists(const struct search_cache *c, const char *facet)
{
	for (uint32_t i = 0; i < c->nv; i++)
		if (!strcmp(c->v[i].facet, facet))
			return true;
	return false;
}

struct by_name {
	const char *facet;
	uint32_t i;
};

static int by_name_cmp(const void *a, const void *b)
{
	return strcmp(((const struct by_name *)a)->facet, ((const struct by_name *)b)->facet);
}

/* Sorts (facet, index) pairs rather than indexes with a comparison that
 * reads the cache: qsort has no argument for it, and a global would be
 * shared by two libraries' caches under two different locks. */
const uint32_t *search_cache_by_facet(struct search_cache *c)
{
	struct by_name *v;
	uint32_t *order;

	if (c->order && c->norder == c->nv)
		return c->order;
	v = malloc((c->nv ? c->nv : 1) * sizeof *v);
	order = malloc((c->nv ? c->nv : 1) * sizeof *order);
	if (!v || !order) {
		free(v);
		free(order);
		return NULL;
	}
	for (uint32_t i = 0; i < c->nv; i++)
		v[i] = (struct by_name){ c->v[i].facet, i };
	qsort(v, c->nv, sizeof *v, by_name_cmp);
	for (uint32_t i = 0; i < c->nv; i++)
		order[i] = v[i].i;
	free(v);
	free(c->order);
	c->order = order;
	c->norder = c->nv;
	return order;
}
