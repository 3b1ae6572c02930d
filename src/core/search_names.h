/*
 * search_names.h - the name order of a library's assets, for sort=name
 * without reading every name.
 *
 * Asset rowids are kept in the order a name sort uses (names compared
 * case-insensitively, then byte by byte; equal names newest - highest
 * rowid - first), with, per asset, the position of the first asset of its
 * equal-name group. That position is the asset's sort key: two assets
 * compare as their names do, and equal names tie, which the caller breaks
 * by rowid as before. A name sort over n hits then costs n array reads
 * instead of a scan of every asset's name.
 *
 * Memory: 9 bytes an asset. Built from the assets table on first use;
 * patched for changed assets (a binary search of the current name, reading
 * about log2(n) names by rowid), so a rename costs ~20 point lookups plus
 * one pass over the arrays.
 *
 * Thread-safety: none; the search cache's lock guards it.
 */
#ifndef DAM_CORE_SEARCH_NAMES_H
#define DAM_CORE_SEARCH_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db/db.h"
#include "util/err.h"

struct search_names {
	bool built;
	uint32_t *rows; /* asset rowids in name order */
	uint8_t *same;  /* by position: the same name as the position before */
	uint32_t n, cap;
	uint32_t *key;  /* by asset rowid: 1 + first position of its name; 0 = absent */
	uint32_t nkey;
};

/* Frees the arrays and marks the order unbuilt (zeroed struct ok). */
void search_names_release(struct search_names *sn);

/* Builds the order from every asset's name. 0 or a negative DAM_E*. */
int search_names_build(struct search_names *sn, struct db *db, struct dam_err *err);

/* Moves the given assets (changed, added or deleted) to where their
 * current names belong. Does nothing when the order is not built. */
int search_names_patch(struct search_names *sn, struct db *db, const int64_t *rows, size_t n, struct dam_err *err);

/* The sort key of an asset (first position of its name), or -1 when the
 * asset is not in the order. */
static inline int64_t search_names_key(const struct search_names *sn, uint32_t row)
{
	return row < sn->nkey && sn->key[row] ? (int64_t)sn->key[row] - 1 : -1;
}

/*
 * Where a name stands in the order, as a key comparable with
 * search_names_key(): the first position of that name when an asset has
 * it, else the position it would take minus one half (between its
 * neighbours). For keyset cursors, which carry the name. *out set on 0.
 */
int search_names_locate(const struct search_names *sn, struct db *db, const char *name, double *out,
			struct dam_err *err);

#endif
