/*
 * search_eval.h - evaluating a parsed query (core/query.h) into a bitmap
 * of asset rowids: facet filters from the search cache's bitmaps, numbers
 * and dates by range scans of search_numbers, free text through the
 * library's full-text backend (db/search_backend.h), whose matches (by
 * version) map to assets through the cache's version map. Engine-neutral:
 * no SQL of a particular database here.
 *
 * Internal to search (search.c, search_facets.c, search_order.c).
 * Thread-safety: a search_ctx belongs to one search; search_eval() and
 * search_eval_check() run under the search cache's lock.
 */
#ifndef DAM_CORE_SEARCH_EVAL_H
#define DAM_CORE_SEARCH_EVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <roaring/roaring.h>

#include "core/library.h"
#include "core/query.h"
#include "core/search_cache.h"
#include "db/search_backend.h"

/* A version's relevance, captured while matching. */
struct search_score {
	uint32_t row;
	double rank;
};

/* A matching version and its asset, kept for deferred ranking. */
struct search_vmatch {
	uint32_t version, row;
};

struct search_ctx {
	struct dam *dam;
	struct search_cache *c;
	const struct search_backend *be;
	roaring_bitmap_t *universe; /* live assets, or all with status: filters (owned) */
	bool all_versions;
	uint64_t now_ms; /* "now" of relative dates */
	/* prefix_last: the word being typed, matched as itself (with its
	 * vocabulary) and as a prefix; its node has prefix set. */
	const struct qnode *typed;
	struct dam_err *err;
	/* Relevance: the engine expression ranked by (NULL when not sorting by
	 * relevance) and the rank of each of its matches, captured by the
	 * text pass that runs the same expression, so the engine matches once. */
	const char *rank_expr;
	struct search_score *scores; /* owned */
	size_t nscores, capscores;
	bool scored;
	/* Filter-first relevance: when the other conjuncts leave few candidates
	 * (filter_first), the ranking term is matched unranked - FTS5 then
	 * reads the doclist only, no docsize row or position list per match -
	 * and its matching versions are kept in vm; search_order ranks only
	 * the versions of the hits (deferred). Every other text term keeps its
	 * versions in vm too when ranking is asked for, so a ranking
	 * expression of several terms (their OR) maps its matches to assets
	 * through vm instead of joining search_docs. */
	bool filter_first, deferred;
	/* What the unranked pass of rank_expr counted for its ranking (the
	 * engine's document frequencies, search_backend.h), so ranking the
	 * hits does not count them again. */
	struct search_hits rank_hits;
	struct search_vmatch *vm; /* owned */
	size_t nvm, capvm;
	/* sort=name through the cache's name order: each hit's key, in the
	 * result's row order, and a name cursor's place in the order - copied
	 * under the cache lock, as paging runs without it. NULL: names are
	 * read from the assets table. */
	uint32_t *nkeys; /* owned */
	double cursor_nkey;
};

/* Frees what the context owns (not dam, c, be, err). */
void search_ctx_release(struct search_ctx *x);

/* Built-in fields: facets compared by value, numbers and dates by range
 * (NULL-terminated, static). */
extern const char *const search__builtin_facets[];
extern const char *const search__number_fields[];
bool search__in_list(const char *const *l, const char *s);
/* A built-in field: a number, a facet or "versions" (search_field_known). */
bool search__field_builtin(const char *name);

/* The 1-based character column of byte pos of q, for messages. */
int search__col_of(const char *q, int pos);

/* As you type: marks the query's last bare word (field filters after it
 * skipped) as a prefix and returns it, or NULL (see search.c). */
const struct qnode *search__last_word(struct qnode *root);

/* Checks the fields the query names (known, versions:all|current) and
 * notes status: and versions:all filters. 0 or DAM_EINVAL (x->err). */
int search__check_fields(struct search_ctx *x, const struct qnode *root, const char *q, bool *status, bool *versions_all);

/* The engine expression of the query's positive text terms, for ranking
 * (appended to out; nothing when there are none). */
int search__rank_expr(const struct search_ctx *x, const struct qnode *root, struct strbuf *out);

/* True when the tree has a text term. */
bool search__has_text(const struct qnode *n);

/* Evaluates the top-level conjuncts (root itself when it is not an AND)
 * into kid_bm[k] and their intersection into result (which starts as the
 * universe): the filters first, so that the text conjuncts know how many
 * candidates the filters leave (filter-first relevance). Returns 0 or a
 * negative DAM_E* (x->err filled). kid_bm entries are the caller's. */
int search__eval_conjuncts(struct search_ctx *x, const struct qnode *root, roaring_bitmap_t **kid_bm, int nkids,
			   roaring_bitmap_t *result, const char *q);

#endif
