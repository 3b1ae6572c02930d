/*
 * search_similar.c - visually similar images (see search.h): one pass
 * over the search cache's perceptual hashes, then the nearest re-ranked by
 * their colour histograms.
 */
#include "core/search.h"

#include <stdlib.h>
#include <string.h>

#include "core/search_cache.h"
#include "core/search_index.h"
#include "core/search_summary.h"
#include "media/media.h"
#include "util/grow.h"
#include "util/timeutil.h"

struct cand {
	uint32_t row;
	int dist;
	double score;
};

static int cmp_cand(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->score != y->score)
		return x->score < y->score ? -1 : 1;
	return x->row < y->row ? -1 : 1;
}

/* From *row on, the rows whose hash is within maxd of q, up to max of them;
 * *row is left where the scan stopped. The hot loop of similarity: built
 * for CPUs with POPCNT too (picked at load time) where the compiler
 * targets plain x86-64. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__POPCNT__)
__attribute__((target_clones("popcnt", "default")))
#endif
static int scan_hashes(const uint64_t *ph, uint32_t n, uint32_t *row, uint64_t q, int maxd, uint32_t *out, int max)
{
	int got = 0;
	uint32_t r = *row;

	for (; r < n && got < max; r++)
		if (__builtin_popcountll(q ^ ph[r]) <= maxd)
			out[got++] = r;
	*row = r;
	return got;
}

static int hist_of(struct dam *dam, uint32_t row, float hist[MEDIA_HIST_BINS])
{
	struct db_stmt *st;
	size_t n = 0;
	int rc;

	/* search_docs knows the current version (search_sync ran) */
	if (db_query(dam->db, &st, NULL,
		     "SELECT s.hist FROM search_docs d JOIN similarity s ON s.version_rowid = d.version_rowid"
		     " WHERE d.asset_rowid=? AND d.is_current <> 0",
		     "i", (int64_t)row) < 0)
		return -1;
	rc = db_step(st, NULL) == DB_ROW ? 0 : -1;
	if (rc == 0) {
		const void *p = db_col_blob(st, 0, &n);
		if (n == sizeof(float) * MEDIA_HIST_BINS)
			memcpy(hist, p, n);
		else
			rc = -1;
	}
	db_finalize(st);
	return rc;
}

/* The live assets whose current version's hash is within max_distance of
 * phash, with distance as their first score. Under the cache lock. */
static int near_hashes(struct search_cache *c, uint64_t phash, uint32_t exclude_row, int max_distance,
		       struct cand **out, size_t *nout, struct dam_err *err)
{
	roaring_bitmap_t *live = search_cache_union(c, "status", "deleted");
	struct cand *cands = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	if (!live)
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	/* One pass over every hash (8 bytes an asset), keeping those within
	 * max_distance; the colour histograms then refine the order. The
	 * popcount comes first: it rejects almost every row, and is far cheaper
	 * than the bitmap lookup. */
	for (uint32_t row = 0; row < c->nphash && rc == 0;) {
		uint32_t near[256];
		int got = scan_hashes(c->phash, c->nphash, &row, phash, max_distance, near, 256);
		for (int i = 0; i < got; i++) {
			uint32_t r = near[i];
			if (!c->has_phash[r] || r == exclude_row || !roaring_bitmap_contains(live, r))
				continue;
			if (GROW(&cands, &cap, n + 1, 256) < 0) {
				rc = dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
				break;
			}
			cands[n].row = r;
			cands[n].dist = media_phash_distance(phash, c->phash[r]);
			cands[n].score = cands[n].dist;
			n++;
		}
	}
	roaring_bitmap_free(live);
	if (rc < 0) {
		free(cands);
		return rc;
	}
	*out = cands;
	*nout = n;
	return 0;
}

int search_similar(struct dam *dam, uint64_t phash, const float *hist, uint32_t exclude_row, int limit,
		   int max_distance, json_t **out, struct dam_err *err)
{
	struct search_cache *c = dam->search_cache;
	struct cand *cands = NULL;
	size_t n = 0;
	json_t *items = json_array();
	double t0 = time_mono();
	int rc;

	*out = NULL;
	if ((rc = search_sync(dam, 0, err)) < 0)
		goto fail;
	search_cache_lock(c);
	if ((rc = search_cache_catch_up(c, dam->db, err)) >= 0)
		rc = near_hashes(c, phash, exclude_row, max_distance, &cands, &n, err);
	search_cache_unlock(c);
	if (rc < 0)
		goto fail;
	if (n)
		qsort(cands, n, sizeof *cands, cmp_cand);
	if (n > (size_t)limit * 4)
		n = (size_t)limit * 4;
	for (size_t i = 0; i < n && hist; i++) {
		float h[MEDIA_HIST_BINS];
		if (hist_of(dam, cands[i].row, h) == 0)
			cands[i].score = cands[i].dist + 16.0 * (1.0 - media_hist_similarity(hist, h));
	}
	if (n)
		qsort(cands, n, sizeof *cands, cmp_cand);
	for (size_t i = 0; i < n && (int)json_array_size(items) < limit; i++) {
		json_t *sm = search__summary(dam, cands[i].row);
		if (!sm)
			continue;
		json_object_set_new(sm, "distance", json_integer(cands[i].dist));
		json_object_set_new(sm, "score", json_real(cands[i].score));
		json_array_append_new(items, sm);
	}
	free(cands);
	*out = json_pack("{s:o,s:i,s:b,s:f}", "items", items, "max_distance", max_distance, "analysed", 1, "took_ms",
			 (time_mono() - t0) * 1000.0);
	return 0;
fail:
	json_decref(items);
	return rc;
}

int search_similar_to_asset(struct dam *dam, const char *asset_id, int limit, int max_distance, json_t **out,
			    struct dam_err *err)
{
	struct db_stmt *st;
	float hist[MEDIA_HIST_BINS];
	uint64_t ph = 0;
	int64_t row = -1;
	int rc;

	rc = db_query(dam->db, &st, err,
		      "SELECT s.asset_rowid, s.phash, s.hist FROM similarity s JOIN assets a ON a.num = s.asset_rowid"
		      " JOIN versions v ON v.num = s.version_rowid AND v.id = a.current_version_id WHERE a.id=?",
		      "s", asset_id);
	if (rc < 0)
		return rc;
	if ((rc = db_step(st, err)) == DB_ROW) {
		size_t n = 0;
		const void *p = db_col_blob(st, 2, &n);
		row = db_col_int(st, 0);
		ph = (uint64_t)db_col_int(st, 1);
		if (n == sizeof hist)
			memcpy(hist, p, n);
		else
			memset(hist, 0, sizeof hist);
	}
	db_finalize(st);
	if (rc < 0)
		return rc;
	if (row < 0) {
		/* Not an image or video, or still processing: nothing to compare. */
		*out = json_pack("{s:[],s:i,s:b}", "items", "max_distance", max_distance, "analysed", 0);
		return *out ? 0 : DAM_ENOMEM;
	}
	return search_similar(dam, ph, hist, (uint32_t)row, limit, max_distance, out, err);
}
