/*
 * search.h - the search engine: the query language (core/query.h) over the
 * full-text index and compressed facet bitmaps (CRoaring).
 *
 * Every asset has a bitmap id (its rowid). Each library handle holds a
 * search cache (core/search_cache.h; shared by the handles
 * library_open_shared() opens from it): facet value -> bitmap of assets
 * (type, format, tag, color, orientation, aspect, resolution, status,
 * facetable fields), loaded once and caught up from search_log on every
 * search; so filters and facet counts are bitmap intersections, fast on
 * millions of assets. Free text goes to the library's full-text backend
 * (db/search_backend.h; FTS5 on SQLite: bm25 with weights title 10 > tags
 * 5 > description 3 > file name 2 > other 1). Numbers and dates (width,
 * height, size, duration, pages, created, updated) are range scans on an
 * index.
 *
 * The modules: search.c runs a search; search_eval.c evaluates the query,
 * search_facets.c counts facets, search_ranges.c range facets,
 * search_order.c sorts and pages, search_saved.c, search_similar.c and
 * search_values.c hold saved searches, similar images and facet values
 * for autocompletion; search_index.c keeps the index in step.
 *
 * Thread-safety: search_run() may be called from many threads (the cache
 * has its own lock); each thread passes its own struct dam.
 */
#ifndef DAM_CORE_SEARCH_H
#define DAM_CORE_SEARCH_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/library.h"
#include "core/search_date.h"

struct search_request {
	const char *q;          /* the query text ("" = everything) */
	const char *sort;       /* relevance (default with text), created (default), updated, name, size; "-x" = ascending */
	int limit;              /* page size, 1..1000 (0 = 50) */
	const char *cursor;     /* from the previous page's next_cursor, or NULL */
	uint64_t offset;        /* without a cursor: skip this many results (random
				   access for a scrolled list; cursors stay exact
				   when assets are added meanwhile, offsets do not) */
	bool facets;            /* compute facet counts */
	const char *user_id;    /* for the search event; may be NULL */
	bool prefix_last;       /* as you type: the query's last word is also a
				   prefix (see docs/search.md) */
	uint64_t now_ms;        /* "now" of relative dates (now-7d, 30d); 0 =
				   search_clock_ms() */
};

/*
 * Runs a search. *out (caller owns) is
 *   {"total": n, "items": [asset summary...], "next_cursor": "..."|null,
 *    "facets": {"type": {"image": 12, ...}, "tag": {...}, ...}, "took_ms": x}
 * Bad queries give DAM_EINVAL with a message naming the position and
 * err->field "q". Each search is recorded as an event (query, result count).
 */
int search_run(struct dam *dam, const struct search_request *r, json_t **out, struct dam_err *err);

/* Fields the query language knows besides facetable fields. */
bool search_field_known(struct dam *dam, const char *name);
/* Those fields as NULL-terminated lists (static): facets compared by value
 * (type, format, tag, color ...), and numbers and dates compared by range. */
const char *const *search_builtin_facets(void);
const char *const *search_number_fields(void);

/*
 * Values of one facet ("tag", "color", a facetable field ...) that start
 * with prefix (ASCII case ignored; "" = all), with the number of live assets
 * holding each, most used first, at most limit. *out (caller owns) is
 * [{"value","count"}]; an unknown facet gives [].
 */
int search_facet_values(struct dam *dam, const char *facet, const char *prefix, int limit, json_t **out,
			struct dam_err *err);

/*
 * Visually similar assets: every current image's 64-bit perceptual hash is
 * compared (Hamming distance, kept in memory: 8 bytes an asset); those
 * within max_distance are re-ranked with their colour histograms
 * (score = distance + 16 x (1 - histogram similarity), lower is closer).
 * *out = {"items":[summary + "distance" + "score"], "max_distance": n,
 * "analysed": bool, "took_ms": n} ("analysed" false, no items: the asset has no image
 * analysis - not an image or video, or still processing).
 * hist may be NULL (hash only); exclude_row is the asked asset's own id.
 */
int search_similar(struct dam *dam, uint64_t phash, const float *hist, uint32_t exclude_row, int limit,
		   int max_distance, json_t **out, struct dam_err *err);
/* Same, for an asset's current version. */
int search_similar_to_asset(struct dam *dam, const char *asset_id, int limit, int max_distance, json_t **out,
			    struct dam_err *err);

/* Brings the library's search cache (facet bitmaps, perceptual hashes) up
 * to date, loading it if this is the first time: `dam serve` calls it from
 * a thread at start, on a handle sharing the cache of its request threads
 * (library_open_shared), so the first search does not pay the load
 * (searches meanwhile wait for it rather than load a second copy). */
int search_warm(struct dam *dam, struct dam_err *err);

/* Saved searches: per user, optionally shared with everyone. */
int search_save(struct dam *dam, const char *user_id, const char *name, const char *query, const char *sort,
		bool shared, char id_out[37], struct dam_err *err);
int search_saved_list(struct dam *dam, const char *user_id, json_t **out, struct dam_err *err);
int search_saved_delete(struct dam *dam, const char *user_id, const char *id, struct dam_err *err);

#endif
