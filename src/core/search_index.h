/*
 * search_index.h - keeping the search index in step with the library.
 *
 * Triggers on assets, versions, tags and fields mark an asset dirty (table
 * search_dirty) in the same transaction as any change, whoever makes it (CLI,
 * API, worker). search_sync() rebuilds the dirty assets' rows: the FTS5
 * document of each version (title, tags, description, file name, other
 * fields), the asset's facet values (type, format, tag, color, orientation,
 * aspect, resolution, status, facetable fields) and numbers (width, height,
 * size, created, updated), and appends the asset to search_log, from which
 * each process's in-memory facet bitmaps catch up.
 */
#ifndef DAM_CORE_SEARCH_INDEX_H
#define DAM_CORE_SEARCH_INDEX_H

#include "core/library.h"

/* Reindexes up to max dirty assets (0 = all). Returns how many. */
int search_sync(struct dam *dam, int max, struct dam_err *err);

#endif
