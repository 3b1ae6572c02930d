/*
 * search_facets.c - facet counts and range facet bases (see
 * search_facets.h).
 */
#include "core/search_facets.h"

#include <stdlib.h>
#include <string.h>

/* Results up to this size are counted by walking their assets' values;
 * larger ones by one bitmap intersection per value. */
#define COUNT_BY_ROWS_MAX 200000

/* The facet a top-level conjunct filters on, or NULL: a field filter, or an
 * OR of filters on one facet ("(type:image OR type:video)", as the UI's
 * facet sidebar writes a multiple choice). */
static const char *conjunct_facet(const struct qnode *n)
{
	const char *f = NULL;

	if (n->kind == QNODE_FIELD && n->op == QOP_EQ && !search__in_list(search__number_fields, n->name) &&
	    strcmp(n->name, "versions"))
		return n->name;
	if (n->kind != QNODE_OR)
		return NULL;
	for (int i = 0; i < n->nkids; i++) {
		const char *k = n->kids[i]->kind == QNODE_FIELD ? conjunct_facet(n->kids[i]) : NULL;
		if (!k || (f && strcmp(f, k)))
			return NULL;
		f = k;
	}
	return f;
}

struct vcount {
	const char *value;
	uint64_t n;
};

static int cmp_vcount(const void *a, const void *b)
{
	const struct vcount *x = a, *y = b;

	return x->n < y->n ? 1 : x->n > y->n ? -1 : strcmp(x->value, y->value);
}

/* The base of a facet: everything but that facet's own top-level filters.
 * NULL when the facet has none (the result itself applies). */
static roaring_bitmap_t *facet_base(struct search_ctx *x, const struct qnode *root, roaring_bitmap_t **kid_bm,
				    int nkids, const char *facet)
{
	roaring_bitmap_t *base;
	bool own = false;

	for (int k = 0; k < nkids && !own; k++) {
		const char *cf = conjunct_facet(root->kind == QNODE_AND ? root->kids[k] : root);
		own = cf && !strcmp(cf, facet);
	}
	if (!own)
		return NULL;
	base = roaring_bitmap_copy(x->universe);
	for (int k = 0; base && k < nkids; k++) {
		const char *cf = conjunct_facet(root->kind == QNODE_AND ? root->kids[k] : root);
		if (!cf || strcmp(cf, facet))
			roaring_bitmap_and_inplace(base, kid_bm[k]);
	}
	return base;
}

/* counts[fval] over the result's assets, walking each asset's values. */
static void count_by_rows(const struct search_cache *c, const roaring_bitmap_t *result, uint32_t *counts)
{
	roaring_uint32_iterator_t *it = roaring_create_iterator(result);

	for (; it->has_value; roaring_advance_uint32_iterator(it)) {
		uint32_t row = it->current_value;
		for (size_t k = 0; row < c->nown && k < c->own[row].n; k++)
			counts[c->own[row].ids[k]]++;
	}
	roaring_free_uint32_iterator(it);
}

/* One facet's values, from ord[*i] while they are that facet's; *i moves
 * past them. Counts from counts (NULL: by intersection with base or
 * result). */
static json_t *one_facet(const struct search_cache *c, const uint32_t *ord, uint32_t *i, const roaring_bitmap_t *base,
			 const roaring_bitmap_t *result, const uint32_t *counts, struct vcount *vc)
{
	const char *facet = c->v[ord[*i]].facet;
	json_t *obj = json_object();
	size_t n = 0;

	for (; *i < c->nv && !strcmp(c->v[ord[*i]].facet, facet); (*i)++) {
		const struct search_fval *f = &c->v[ord[*i]];
		uint64_t k = base || !counts ? roaring_bitmap_and_cardinality(base ? base : result, f->bm) : counts[ord[*i]];
		if (k)
			vc[n++] = (struct vcount){ f->value, k };
	}
	qsort(vc, n, sizeof *vc, cmp_vcount);
	for (size_t k = 0; obj && k < n && k < SEARCH_FACET_TOP; k++)
		json_object_set_new(obj, vc[k].value, json_integer((json_int_t)vc[k].n));
	return obj;
}

/* Small results are counted by walking their assets' values; large ones,
 * and facets with their own filters, by bitmap intersections. */
json_t *search__facet_counts(struct search_ctx *x, const struct qnode *root, roaring_bitmap_t **kid_bm, int nkids,
			     const roaring_bitmap_t *result)
{
	struct search_cache *c = x->c;
	const uint32_t *ord = search_cache_by_facet(c);
	json_t *out = json_object();
	uint32_t *counts = NULL;
	struct vcount *vc = malloc((c->nv ? c->nv : 1) * sizeof *vc);
	bool ok = ord && out && vc;

	if (ok && roaring_bitmap_get_cardinality(result) <= COUNT_BY_ROWS_MAX) {
		ok = (counts = calloc(c->nv ? c->nv : 1, sizeof *counts)) != NULL;
		if (ok)
			count_by_rows(c, result, counts);
	}
	for (uint32_t i = 0; ok && i < c->nv;) {
		const char *facet = c->v[ord[i]].facet;
		roaring_bitmap_t *base = root ? facet_base(x, root, kid_bm, nkids, facet) : NULL;
		json_t *obj = one_facet(c, ord, &i, base, result, counts, vc);
		if (base)
			roaring_bitmap_free(base);
		ok = obj && json_object_set_new(out, facet, obj) == 0;
	}
	free(counts);
	free(vc);
	if (!ok) {
		json_decref(out);
		dam_err_set(x->err, DAM_ENOMEM, NULL, "out of memory");
		return NULL;
	}
	return out;
}

/* A top-level conjunct filtering on field alone: field:..., -field:...,
 * or an AND of them (a bucket's "price:>=10 price:<20" is two conjuncts). */
static bool conjunct_on(const struct qnode *n, const char *field)
{
	if (n->kind == QNODE_NOT)
		return conjunct_on(n->kids[0], field);
	return n->kind == QNODE_FIELD && !strcmp(n->name, field);
}

roaring_bitmap_t *search__range_base(const char *field, void *arg)
{
	struct search_range_ctx *rx = arg;
	roaring_bitmap_t *base;
	bool own = false;

	for (int k = 0; k < rx->nkids && !own; k++)
		own = conjunct_on(rx->root->kind == QNODE_AND ? rx->root->kids[k] : rx->root, field);
	if (!own)
		return NULL;
	base = roaring_bitmap_copy(rx->x->universe);
	for (int k = 0; base && k < rx->nkids; k++)
		if (!conjunct_on(rx->root->kind == QNODE_AND ? rx->root->kids[k] : rx->root, field))
			roaring_bitmap_and_inplace(base, rx->kid_bm[k]);
	return base;
}
