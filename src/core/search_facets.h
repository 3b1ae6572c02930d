/*
 * search_facets.h - facet counts of a search: per facet value, how many
 * assets of the result hold it, from the search cache's bitmaps; and the
 * base the range facets (search_ranges.h) count over. Both leave out a
 * facet's (or field's) own top-level filters, so its other values stay
 * visible once one is chosen (disjunctive facets).
 *
 * Internal to search. Thread-safety: search__facet_counts() runs under the
 * search cache's lock; search__range_base() reads only the context.
 */
#ifndef DAM_CORE_SEARCH_FACETS_H
#define DAM_CORE_SEARCH_FACETS_H

#include <jansson.h>

#include "core/search_eval.h"

/* At most this many values per facet, most frequent first. */
#define SEARCH_FACET_TOP 50

/* {"type": {"image": 12, ...}, "tag": {...}, ...} over result; root and
 * kid_bm as search__eval_conjuncts() left them (root NULL: no query).
 * Caller decrefs; NULL when out of memory (x->err filled). */
json_t *search__facet_counts(struct search_ctx *x, const struct qnode *root, roaring_bitmap_t **kid_bm, int nkids,
			     const roaring_bitmap_t *result);

/* The conjuncts a range facet's base is made of. */
struct search_range_ctx {
	struct search_ctx *x;
	const struct qnode *root;
	roaring_bitmap_t **kid_bm;
	int nkids;
};

/* search_range_base_fn (arg: struct search_range_ctx): the result without
 * the field's own top-level filters, or NULL when it has none. */
roaring_bitmap_t *search__range_base(const char *field, void *arg);

#endif
