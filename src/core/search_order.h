/*
 * search_order.h - ordering a search's result and cutting one page:
 * sort keys (relevance from the full-text backend, created from the row
 * order, updated and size from search_numbers, name from the search
 * cache's name order), keyset cursors carrying (sort key, rowid) - or the
 * name itself for sort=name, so pages stay exact across renames and
 * inserts - and offsets. Only the page is ordered: the hits after the
 * cursor (or the first offset + limit) are picked with a heap, O(n log k),
 * and only those are sorted.
 *
 * Internal to search. Thread-safety: search__name_prepare() runs under the
 * search cache's lock, search__page() without it.
 */
#ifndef DAM_CORE_SEARCH_ORDER_H
#define DAM_CORE_SEARCH_ORDER_H

#include <jansson.h>
#include <stdbool.h>

#include "core/search_eval.h"

/* True for relevance, created, updated, name, size (without the "-"). */
bool search__sort_valid(const char *sort);

/* For sort=name: copies into x the name-order keys of the result's assets
 * (and of a name cursor), building the order on the first name sort.
 * Under the cache lock. Leaves x->nkeys NULL when an asset is missing
 * from the order (names are then read from the database). */
int search__name_prepare(struct search_ctx *x, const roaring_bitmap_t *result, const char *cursor);

/* What a page asks for (as struct search_request has them). */
struct search_page {
	const char *sort;   /* NULL or "": relevance with text, else created */
	const char *cursor; /* NULL or "": from offset */
	uint64_t offset;
	int limit;          /* 0 = 50 */
};

/* Orders result as p asks and sets "items", "next_cursor" and "sort" in
 * out. root is the parsed query (NULL: none). DAM_EINVAL for a bad sort
 * or cursor (x->err names the parameter). */
int search__page(struct search_ctx *x, const roaring_bitmap_t *result, const struct search_page *r,
		 const struct qnode *root, json_t *out);

#endif
