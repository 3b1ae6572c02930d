/*
 * search.c - running a search: parse (core/query.c), catch the library's
 * search cache up, evaluate (search_eval.c), count facets
 * (search_facets.c) and ranges (search_ranges.c), order and cut the page
 * (search_order.c). Saved searches, similar images and facet values for
 * autocompletion live in search_saved.c, search_similar.c and
 * search_values.c; the full-text engine behind db/search_backend.h.
 */
#include "core/search.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/event.h"
#include "core/query.h"
#include "core/search_cache.h"
#include "core/search_eval.h"
#include "core/search_facets.h"
#include "core/search_index.h"
#include "core/search_order.h"
#include "core/search_ranges.h"
#include "core/vocab.h"
#include "util/timeutil.h"

bool search_field_known(struct dam *dam, const char *name)
{
	(void)dam;
	return search__field_builtin(name);
}

const char *const *search_builtin_facets(void)
{
	return search__builtin_facets;
}

const char *const *search_number_fields(void)
{
	return search__number_fields;
}

/* Adds to out {"word", "term"} for each word or field value of the query
 * that is a vocabulary synonym: what the result shows under its canonical
 * term ("sneakers (matched: trainers)"). */
static void synonyms_of(struct dam *dam, const struct qnode *n, json_t *out)
{
	char term[VOCAB_TERM_MAX + 1];
	json_t *w;
	size_t i;

	if (!n)
		return;
	for (int k = 0; k < n->nkids; k++)
		synonyms_of(dam, n->kids[k], out);
	if ((n->kind != QNODE_TEXT && n->kind != QNODE_FIELD) || n->op != QOP_EQ || (n->prefix && n->kind == QNODE_FIELD))
		return;
	/* built-in facets other than tags and numbers hold no vocabulary words */
	if (n->kind == QNODE_FIELD && strcmp(n->name, "tag") &&
	    (search__in_list(search__builtin_facets, n->name) || search__in_list(search__number_fields, n->name) ||
	     !strcmp(n->name, "versions")))
		return;
	if (vocab_resolve(dam, NULL, n->value, term, NULL) < 0 || !strcasecmp(term, n->value))
		return;
	json_array_foreach(out, i, w)
		if (!strcasecmp(json_string_value(json_object_get(w, "word")), n->value))
			return;
	json_array_append_new(out, json_pack("{s:s,s:s}", "word", n->value, "term", term));
}

static json_t *matched_synonyms(struct dam *dam, const struct qnode *root)
{
	json_t *a = json_array();

	synonyms_of(dam, root, a);
	return a;
}

/* Sets x->rank_expr (from rank, which holds it) when the search is
 * ordered by relevance. */
static int rank_setup(struct search_ctx *x, const struct search_request *r, const struct qnode *root,
		      struct strbuf *rank)
{
	const char *sort = r->sort && *r->sort ? r->sort : search__has_text(root) ? "relevance" : "created";
	int rc;

	if (strcmp(sort + (sort[0] == '-'), "relevance") || !root)
		return 0;
	if ((rc = search__rank_expr(x, root, rank)) < 0)
		return rc;
	x->rank_expr = rank->len ? rank->buf : NULL;
	return 0;
}

/* The part of a search under the cache lock: catch up, check the fields,
 * evaluate, count facets, take the name order's keys. *o gets the total
 * (and facets). */
static int run_locked(struct search_ctx *x, const struct search_request *r, const struct qnode *root, const char *q,
		      struct strbuf *rank, roaring_bitmap_t ***kid_bm, int *nkids, roaring_bitmap_t **result, json_t **o)
{
	bool status = false, versions_all = false;
	json_t *facets;
	int rc;

	if ((rc = search_cache_catch_up(x->c, x->dam->db, x->err)) < 0 ||
	    (rc = search__check_fields(x, root, q, &status, &versions_all)) != 0 || (rc = rank_setup(x, r, root, rank)) < 0)
		return rc;
	x->all_versions = versions_all;
	if (!(x->universe = search_cache_union(x->c, "status", status ? NULL : "deleted")) ||
	    !(*result = roaring_bitmap_copy(x->universe)))
		return dam_err_set(x->err, DAM_ENOMEM, NULL, "out of memory");
	if (root) {
		*nkids = root->kind == QNODE_AND ? root->nkids : 1;
		if (!(*kid_bm = calloc((size_t)*nkids, sizeof **kid_bm)))
			return dam_err_set(x->err, DAM_ENOMEM, NULL, "out of memory");
		if ((rc = search__eval_conjuncts(x, root, *kid_bm, *nkids, *result, q)) < 0)
			return rc;
	}
	*o = json_pack("{s:I}", "total", (json_int_t)roaring_bitmap_get_cardinality(*result));
	if (r->facets) {
		if (!(facets = search__facet_counts(x, root, *kid_bm, *nkids, *result)))
			return DAM_ENOMEM;
		json_object_set_new(*o, "facets", facets);
	}
	if (r->sort && (!strcmp(r->sort, "name") || !strcmp(r->sort, "-name")))
		return search__name_prepare(x, *result, r->cursor);
	return 0;
}

/* The part without the lock: the page, range facets, synonyms. */
static int run_unlocked(struct search_ctx *x, const struct search_request *r, const struct qnode *root,
			roaring_bitmap_t **kid_bm, int nkids, const roaring_bitmap_t *result, json_t *o)
{
	struct search_range_ctx rx = { x, root, kid_bm, nkids };
	json_t *ranges = NULL;
	int rc;

	struct search_page pg = { r->sort, r->cursor, r->offset, r->limit };

	if ((rc = search__page(x, result, &pg, root, o)) < 0)
		return rc;
	if (r->facets) {
		if ((rc = search_ranges(x->dam, result, search__range_base, &rx, &ranges, x->err)) < 0)
			return rc;
		json_object_set_new(o, "ranges", ranges);
	}
	json_object_set_new(o, "synonyms", matched_synonyms(x->dam, root));
	return 0;
}

static void record_event(struct dam *dam, const char *q, const json_t *out)
{
	json_t *ev = json_pack("{s:s,s:I}", "query", q, "results", json_integer_value(json_object_get(out, "total")));

	event_record(dam, "search", NULL, ev, NULL);
	json_decref(ev);
}

int search_run(struct dam *dam, const struct search_request *r, json_t **out, struct dam_err *err)
{
	struct search_ctx x = { .dam = dam, .c = dam->search_cache, .be = dam->search_be, .err = err,
				.now_ms = r->now_ms ? r->now_ms : search_clock_ms() };
	struct strbuf rank = STRBUF_INIT;
	struct qnode *root = NULL;
	struct query_error qe;
	roaring_bitmap_t *result = NULL, **kid_bm = NULL;
	double t0 = time_mono();
	const char *q = r->q ? r->q : "";
	size_t qlen = strlen(q);
	int rc, nkids = 0;
	json_t *o = NULL;

	*out = NULL;
	while (qlen && (q[qlen - 1] == ' ' || q[qlen - 1] == '\t'))
		qlen--;
	if (qlen && (rc = query_parse(q, qlen, &root, &qe)) < 0)
		return query_error_to_dam(&qe, rc, err);
	if (r->prefix_last)
		x.typed = search__last_word(root);
	if ((rc = search_sync(dam, 0, err)) < 0)
		goto out;
	search_cache_lock(x.c);
	rc = run_locked(&x, r, root, q, &rank, &kid_bm, &nkids, &result, &o);
	search_cache_unlock(x.c);
	if (rc < 0 || (rc = run_unlocked(&x, r, root, kid_bm, nkids, result, o)) < 0)
		goto out;
	json_object_set_new(o, "took_ms", json_real((time_mono() - t0) * 1000.0));
	*out = o;
	o = NULL;
	record_event(dam, q, *out);
out:
	for (int k = 0; k < nkids && kid_bm; k++)
		if (kid_bm[k])
			roaring_bitmap_free(kid_bm[k]);
	free(kid_bm);
	if (result)
		roaring_bitmap_free(result);
	search_ctx_release(&x);
	strbuf_release(&rank);
	json_decref(o);
	query_free(root);
	return rc < 0 ? rc : 0;
}

int search_warm(struct dam *dam, struct dam_err *err)
{
	int rc;

	if ((rc = search_sync(dam, 0, err)) < 0)
		return rc;
	search_cache_lock(dam->search_cache);
	rc = search_cache_catch_up(dam->search_cache, dam->db, err);
	search_cache_unlock(dam->search_cache);
	return rc;
}
