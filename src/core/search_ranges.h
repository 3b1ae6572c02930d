/*
 * search_ranges.h - range facets: for each facetable field of type number
 * or date, how the values of a search's results spread, in a few buckets
 * the UI shows as a histogram; each bucket carries the query filter that
 * selects it (price:>=10 price:<20, expiry:2026-03-01..2026-03-31).
 *
 * Thread-safety: as struct dam (one per thread).
 */
#ifndef DAM_CORE_SEARCH_RANGES_H
#define DAM_CORE_SEARCH_RANGES_H

#include <jansson.h>
#include <roaring/roaring.h>

#include "core/library.h"

/* Buckets of a number field's range (equal widths). */
#define SEARCH_RANGE_BUCKETS 5

/*
 * The range facets of result (asset rowids; see search_range_base_fn):
 *   {"price": {"type": "number", "min": 10, "max": 99, "count": 7,
 *              "buckets": [{"from": 10, "to": 27.8, "count": 3,
 *                           "q": "price:>=10 price:<27.8"}, ...]},
 *    "expiry": {"type": "date", "min": "2026-01-03", "max": "2026-05-20", ...,
 *               "buckets": [{"from": "2026-01-01", "to": "2026-01-31", "count": 2,
 *                            "q": "expiry:2026-01-01..2026-01-31"}, ...]}}
 * Dates are bucketed by day (span up to 31 days), month (up to 36 months)
 * or year, in UTC. Fields no result has are left out. Returns 0 and *out
 * (caller decrefs), or a database error.
 */
/* The assets to count a field's buckets over: a new bitmap (the callee
 * frees it), or NULL for the result itself. The engine leaves out the
 * field's own top-level filters, so the other buckets stay visible once
 * one is chosen. */
typedef roaring_bitmap_t *(*search_range_base_fn)(const char *field, void *arg);
int search_ranges(struct dam *dam, const roaring_bitmap_t *result, search_range_base_fn base_of, void *arg,
		  json_t **out, struct dam_err *err);

#endif
