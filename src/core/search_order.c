/*
 * search_order.c - sort keys, keyset cursors and pages (see
 * search_order.h).
 */
#include "core/search_order.h"

#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/search_summary.h"

#define CURSOR_MAX 2048

struct hit {
	uint32_t row;
	double key;
	char *name; /* sort by name: the key itself, so cursors survive inserts */
	int dir;    /* name order: 1 = A to Z, -1 = Z to A */
};

bool search__sort_valid(const char *s)
{
	static const char *const sorts[] = { "relevance", "created", "updated", "name", "size", NULL };

	return search__in_list(sorts, s);
}

static int cmp_hit(const void *a, const void *b)
{
	const struct hit *x = a, *y = b;

	if (x->name && y->name) {
		int c = strcasecmp(x->name, y->name);
		if (!c)
			c = strcmp(x->name, y->name);
		if (c)
			return c * x->dir;
	} else if (x->key != y->key) {
		return x->key < y->key ? -1 : 1;
	}
	return x->row < y->row ? 1 : x->row > y->row ? -1 : 0;
}

/* The hit for row in h (sorted by row), or NULL. */
static struct hit *hit_find(struct hit *h, size_t n, uint32_t row)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (h[mid].row < row)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && h[lo].row == row ? &h[lo] : NULL;
}

static int vmatch_cmp(const void *a, const void *b)
{
	const struct search_vmatch *x = a, *y = b;

	return x->version < y->version ? -1 : x->version > y->version;
}

/* Several text terms each appended their versions in order: one sorted
 * list without repeats. */
static void vm_sort(struct search_ctx *x)
{
	size_t w = 0;

	for (size_t i = 1; i < x->nvm; i++)
		if (x->vm[i].version <= x->vm[i - 1].version) {
			qsort(x->vm, x->nvm, sizeof *x->vm, vmatch_cmp);
			break;
		}
	for (size_t i = 0; i < x->nvm; i++)
		if (!w || x->vm[i].version != x->vm[w - 1].version)
			x->vm[w++] = x->vm[i];
	x->nvm = w;
}

/* A ranked version's score onto its hit: the best version of an asset
 * ranks it. */
struct rank_pass {
	struct search_ctx *x;
	struct hit *h;
	size_t n;
	bool desc;
};

static int on_rank(int64_t version, double rank, void *arg)
{
	struct rank_pass *p = arg;
	struct search_vmatch key = { (uint32_t)version, 0 };
	const struct search_vmatch *m = bsearch(&key, p->x->vm, p->x->nvm, sizeof *p->x->vm, vmatch_cmp);
	struct hit *t = m ? hit_find(p->h, p->n, m->row) : NULL;
	double v = p->desc ? rank : -rank;

	if (t && v < t->key)
		t->key = v;
	return 0;
}

/* Deferred ranking (filter-first, or several terms): the backend ranks
 * the hits' matching versions only (see search_backend.h, rank). */
static int score_hits(struct search_ctx *x, struct hit *h, size_t n, const char *expr, bool desc)
{
	struct rank_pass p = { x, h, n, desc };
	uint32_t *ids = NULL;
	size_t nids = 0;
	int rc;

	vm_sort(x);
	if (!(ids = malloc((x->nvm ? x->nvm : 1) * sizeof *ids)))
		return dam_err_set(x->err, DAM_ENOMEM, NULL, "out of memory");
	for (size_t i = 0; i < x->nvm; i++)
		if (hit_find(h, n, x->vm[i].row))
			ids[nids++] = x->vm[i].version;
	rc = x->be->rank(x->dam->db, expr, x->rank_expr && !strcmp(expr, x->rank_expr) ? &x->rank_hits : NULL, ids, nids,
			 x->nvm, on_rank, &p, x->err);
	free(ids);
	return rc;
}

/* Relevance keys: captured while matching (no second pass), or ranked now
 * for the hits' versions. Lower is better, so "relevance" is ascending. */
static int relevance_keys(struct search_ctx *x, struct hit *h, size_t n, const char *expr, bool desc)
{
	if (!expr)
		return 0;
	if (x->scored && x->rank_expr && !strcmp(expr, x->rank_expr)) {
		for (size_t j = 0; j < x->nscores; j++) {
			struct hit *t = hit_find(h, n, x->scores[j].row);
			double v = desc ? x->scores[j].rank : -x->scores[j].rank;
			if (t && v < t->key)
				t->key = v;
		}
		return 0;
	}
	/* Every evaluated text term filled x->vm while ranking was asked for,
	 * and the ranking expression is the OR of the positive ones. */
	return score_hits(x, h, n, expr, desc);
}

/* Name keys: through the cache's name order when search__name_prepare
 * copied it, else each hit's name from the assets table. */
static int name_keys(struct search_ctx *x, struct hit *h, size_t n, bool desc)
{
	struct db_stmt *st;
	int rc;

	if (x->nkeys) {
		for (size_t i = 0; i < n; i++)
			h[i].key = (desc ? -1.0 : 1.0) * x->nkeys[i];
		return 0;
	}
	if ((rc = db_query(x->dam->db, &st, x->err, "SELECT num, name FROM assets", "")) < 0)
		return rc;
	while ((rc = db_step(st, x->err)) == DB_ROW) {
		struct hit *t = hit_find(h, n, (uint32_t)db_col_int(st, 0));
		if (!t)
			continue;
		free(t->name);
		if (!(t->name = strdup(db_col_text(st, 1)))) {
			rc = dam_err_set(x->err, DAM_ENOMEM, NULL, "out of memory");
			break;
		}
		t->dir = desc ? -1 : 1;
		t->key = 0;
	}
	db_finalize(st);
	return rc < 0 ? rc : 0;
}

/* Number keys (updated, size) from search_numbers; newest and largest
 * first unless asc. Assets without the number keep +inf (last). */
static int number_keys(struct search_ctx *x, struct hit *h, size_t n, const char *sort, bool desc)
{
	struct db_stmt *st;
	int rc;

	if ((rc = db_query(x->dam->db, &st, x->err, "SELECT asset_rowid, num FROM search_numbers WHERE key=?", "s", sort)) < 0)
		return rc;
	while ((rc = db_step(st, x->err)) == DB_ROW) {
		struct hit *t = hit_find(h, n, (uint32_t)db_col_int(st, 0));
		double k = db_col_double(st, 1), v = desc ? -k : k;
		if (t && v < t->key)
			t->key = v;
	}
	db_finalize(st);
	return rc < 0 ? rc : 0;
}

/* Sort keys for hits (sorted by row): relevance, name or a number. */
static int keys_for(struct search_ctx *x, struct hit *h, size_t n, const char *sort, const char *expr, bool desc)
{
	for (size_t i = 0; i < n; i++)
		h[i].key = INFINITY;
	if (!strcmp(sort, "relevance"))
		return relevance_keys(x, h, n, expr, desc);
	if (!strcmp(sort, "name"))
		return name_keys(x, h, n, desc);
	return number_keys(x, h, n, sort, desc);
}

static void hit_swap(struct hit *a, struct hit *b)
{
	struct hit t = *a;

	*a = *b;
	*b = t;
}

static void sift_down(struct hit *h, size_t k, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, big = i;
		if (l < k && cmp_hit(&h[l], &h[big]) > 0)
			big = l;
		if (l + 1 < k && cmp_hit(&h[l + 1], &h[big]) > 0)
			big = l + 1;
		if (big == i)
			return;
		hit_swap(&h[i], &h[big]);
		i = big;
	}
}

/* Moves the k first hits in cmp_hit order (of m) to h[0..k), unordered:
 * a max-heap of the best k so far, O(m log k). Swaps, so every name
 * pointer stays in h to be freed. */
static void select_first(struct hit *h, size_t m, size_t k)
{
	if (!k)
		return;
	for (size_t i = k / 2; i-- > 0;)
		sift_down(h, k, i);
	for (size_t i = k; i < m; i++)
		if (cmp_hit(&h[i], &h[0]) < 0) {
			hit_swap(&h[i], &h[0]);
			sift_down(h, k, 0);
		}
}

static void cursor_encode(const struct hit *h, char out[CURSOR_MAX])
{
	char raw[1400];

	if (h->name)
		snprintf(raw, sizeof raw, "n%d/%u/%.1024s", h->dir, h->row, h->name);
	else
		snprintf(raw, sizeof raw, "%.17g/%u", h->key, h->row);
	sodium_bin2base64(out, CURSOR_MAX, (unsigned char *)raw, strlen(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static int cursor_decode(const char *c, struct hit *h)
{
	char raw[1400];
	size_t n = 0;
	int off = 0;

	if (strlen(c) >= CURSOR_MAX ||
	    sodium_base642bin((unsigned char *)raw, sizeof raw - 1, c, strlen(c), NULL, &n, NULL,
			      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
		return -1;
	raw[n] = '\0';
	if (raw[0] == 'n') {
		if (sscanf(raw, "n%d/%u/%n", &h->dir, &h->row, &off) != 2 || !off || (h->dir != 1 && h->dir != -1))
			return -1;
		h->name = strdup(raw + off);
		h->key = 0;
		return h->name ? 0 : -1;
	}
	if (!strcmp(raw, "inf") || sscanf(raw, "%lf/%u", &h->key, &h->row) != 2) {
		if (sscanf(raw, "inf/%u", &h->row) == 1 || sscanf(raw, "+inf/%u", &h->row) == 1) {
			h->key = INFINITY;
			return 0;
		}
		return -1;
	}
	return 0;
}

int search__name_prepare(struct search_ctx *x, const roaring_bitmap_t *result, const char *cursor)
{
	struct search_names *sn = &x->c->names;
	uint64_t n = roaring_bitmap_get_cardinality(result);
	roaring_uint32_iterator_t *it;
	struct hit after = { 0, 0, NULL, 1 };
	size_t i = 0;
	int rc = 0;

	if (!sn->built && (rc = search_names_build(sn, x->dam->db, x->err)) < 0)
		return rc;
	if (!(x->nkeys = malloc((n ? n : 1) * sizeof *x->nkeys)))
		return dam_err_set(x->err, DAM_ENOMEM, NULL, "out of memory");
	it = roaring_create_iterator(result);
	for (; it->has_value; roaring_advance_uint32_iterator(it)) {
		int64_t k = search_names_key(sn, it->current_value);
		if (k < 0)
			break;
		x->nkeys[i++] = (uint32_t)k;
	}
	roaring_free_uint32_iterator(it);
	if (i < n) {
		free(x->nkeys);
		x->nkeys = NULL;
		return 0;
	}
	if (cursor && *cursor && cursor_decode(cursor, &after) == 0 && after.name)
		rc = search_names_locate(sn, x->dam->db, after.name, &x->cursor_nkey, x->err);
	free(after.name);
	return rc;
}

/* Hits sorted through the name order carry no name; their cursor does, so
 * the next page stays exact when assets are added or renamed meanwhile. */
static void cursor_of(struct search_ctx *x, struct hit *h, int name_dir, char out[CURSOR_MAX])
{
	struct db_stmt *st;

	if (x->nkeys && !h->name &&
	    db_query(x->dam->db, &st, NULL, "SELECT name FROM assets WHERE num=?", "i", (int64_t)h->row) == 0) {
		if (db_step(st, NULL) == DB_ROW) {
			h->name = strdup(db_col_text(st, 0));
			h->dir = name_dir;
		}
		db_finalize(st);
	}
	cursor_encode(h, out);
}

/* The hits of result, by row, keys unset; NULL when out of memory. */
static struct hit *hits_of(const roaring_bitmap_t *result, size_t n)
{
	struct hit *h = calloc(n ? n : 1, sizeof *h);
	roaring_uint32_iterator_t *it;
	size_t i = 0;

	if (!h)
		return NULL;
	it = roaring_create_iterator(result);
	for (; it->has_value; roaring_advance_uint32_iterator(it))
		h[i++].row = it->current_value;
	roaring_free_uint32_iterator(it);
	return h;
}

/* The page: the hits after the cursor move to the front (m of them), the
 * first offset + limit of those are selected with a heap and sorted; the
 * page's summaries go to items, and the cursor of its last hit to out when
 * more follow. */
static void cut_page(struct search_ctx *x, struct hit *h, size_t n, const struct hit *after, uint64_t offset,
		     int limit, bool asc, json_t *items, json_t *out)
{
	size_t m = n, k, start = 0;
	int got = 0;

	if (after) {
		m = 0;
		for (size_t i = 0; i < n; i++)
			if (cmp_hit(&h[i], after) > 0)
				hit_swap(&h[m++], &h[i]);
	} else {
		start = offset < n ? (size_t)offset : n;
	}
	k = start + (size_t)limit;
	if (k < m / 2)
		select_first(h, m, k);
	else
		k = m;
	qsort(h, k, sizeof *h, cmp_hit);
	for (size_t i = start; i < m && got < limit; i++) {
		json_t *s = search__summary(x->dam, h[i].row);
		if (s)
			json_array_append_new(items, s), got++;
		if (got == limit && i + 1 < m) {
			char cur[CURSOR_MAX];
			cursor_of(x, &h[i], asc ? -1 : 1, cur);
			json_object_set_new(out, "next_cursor", json_string(cur));
		}
	}
}

/* The request's cursor into after (*has set); DAM_EINVAL when it is not
 * one this server gave out. A name cursor located in the name order
 * becomes that place's key. */
static int read_cursor(struct search_ctx *x, const char *cursor, bool asc, struct hit *after, bool *has)
{
	*has = false;
	if (!cursor || !*cursor)
		return 0;
	if (cursor_decode(cursor, after) < 0)
		return dam_err_set(x->err, DAM_EINVAL, "cursor", "cursor is not one this server gave out");
	*has = true;
	if (x->nkeys && after->name) {
		after->key = (asc ? -1.0 : 1.0) * x->cursor_nkey;
		free(after->name);
		after->name = NULL;
	}
	return 0;
}

int search__page(struct search_ctx *x, const roaring_bitmap_t *result, const struct search_page *r,
		 const struct qnode *root, json_t *out)
{
	const char *sort = r->sort && *r->sort ? r->sort : search__has_text(root) ? "relevance" : "created";
	bool asc = sort[0] == '-', has_after = false;
	size_t n = (size_t)roaring_bitmap_get_cardinality(result);
	struct strbuf expr = STRBUF_INIT;
	struct hit *h = NULL, after = { 0, 0, NULL, 1 };
	json_t *items = json_array();
	int rc;

	if (asc)
		sort++;
	if (!search__sort_valid(sort)) {
		rc = dam_err_set(x->err, DAM_EINVAL, "sort", "sort is one of relevance, created, updated, name, size (prefix - for ascending)");
		goto out;
	}
	if ((rc = read_cursor(x, r->cursor, asc, &after, &has_after)) < 0)
		goto out;
	if (!(h = hits_of(result, n))) {
		rc = dam_err_set(x->err, DAM_ENOMEM, NULL, "out of memory");
		goto out;
	}
	if (!strcmp(sort, "created")) {
		/* Row ids grow with creation: no lookup needed. */
		for (size_t i = 0; i < n; i++)
			h[i].key = asc ? (double)h[i].row : -(double)h[i].row;
	} else {
		if (!strcmp(sort, "relevance") && (rc = search__rank_expr(x, root, &expr)) < 0)
			goto out;
		/* Newest and largest first by default; names A to Z. "-" inverts. */
		if ((rc = keys_for(x, h, n, sort, expr.len ? expr.buf : NULL, !strcmp(sort, "name") ? asc : !asc)) < 0)
			goto out;
	}
	cut_page(x, h, n, has_after ? &after : NULL, r->offset, r->limit > 0 ? r->limit : 50, asc, items, out);
out:
	if (!json_object_get(out, "next_cursor"))
		json_object_set_new(out, "next_cursor", json_null());
	json_object_set_new(out, "items", items);
	json_object_set_new(out, "sort", json_string(r->sort && *r->sort ? r->sort : sort));
	for (size_t i = 0; h && i < n; i++)
		free(h[i].name);
	free(after.name);
	free(h);
	strbuf_release(&expr);
	return rc < 0 ? rc : 0;
}
