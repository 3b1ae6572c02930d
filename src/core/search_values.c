/*
 * search_values.c - a facet's values with live counts, for autocompletion
 * (see search.h: search_facet_values; core/suggest.c uses it).
 */
#include "core/search.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/search_cache.h"
#include "core/search_index.h"

struct fcount {
	const char *value;
	uint64_t n;
};

static int cmp_fcount(const void *a, const void *b)
{
	const struct fcount *x = a, *y = b;

	int c;

	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	c = strcasecmp(x->value, y->value);
	return c ? c : strcmp(x->value, y->value);
}

int search_facet_values(struct dam *dam, const char *facet, const char *prefix, int limit, json_t **out,
			struct dam_err *err)
{
	struct search_cache *c = dam->search_cache;
	roaring_bitmap_t *live = NULL;
	struct fcount *fc = NULL;
	size_t n = 0, plen = strlen(prefix);
	json_t *arr = json_array();
	int rc;

	*out = NULL;
	if ((rc = search_sync(dam, 0, err)) < 0) {
		json_decref(arr);
		return rc;
	}
	search_cache_lock(c);
	if ((rc = search_cache_catch_up(c, dam->db, err)) < 0)
		goto out;
	live = search_cache_union(c, "status", "deleted");
	fc = malloc((c->nv ? c->nv : 1) * sizeof *fc);
	if (!live || !fc) {
		rc = dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
		goto out;
	}
	for (uint32_t i = 0; i < c->nv; i++) {
		const struct search_fval *f = &c->v[i];
		uint64_t k;
		if (strcmp(f->facet, facet) || strncasecmp(f->value, prefix, plen))
			continue;
		if ((k = roaring_bitmap_and_cardinality(live, f->bm)))
			fc[n++] = (struct fcount){ f->value, k };
	}
	qsort(fc, n, sizeof *fc, cmp_fcount);
	for (size_t i = 0; i < n && (int)i < limit; i++)
		json_array_append_new(arr, json_pack("{s:s,s:I}", "value", fc[i].value, "count", (json_int_t)fc[i].n));
out:
	search_cache_unlock(c);
	if (live)
		roaring_bitmap_free(live);
	free(fc);
	if (rc < 0) {
		json_decref(arr);
		return rc;
	}
	*out = arr;
	return 0;
}
