/*
 * search_eval.c - a parsed query into a bitmap of asset rowids (see
 * search_eval.h).
 */
#include "core/search_eval.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/fielddef.h"
#include "core/search_date.h"
#include "core/vocab.h"
#include "util/grow.h"

/* Filter-first when the non-text conjuncts keep less than this share of
 * the universe: bm25 per row costs about 20x the doclist walk (1M assets,
 * "café": 38 ms scored, 1.7 ms unscored), so one extra unscored pass pays
 * for itself as soon as it spares a few percent of the rows. */
#define FILTER_FIRST_SHARE 0.5

const char *const search__number_fields[] = { "width", "height", "size", "duration", "pages", "created", "updated", NULL };
const char *const search__builtin_facets[] = { "type", "format", "tag", "autotag", "color", "orientation", "aspect",
					       "resolution", "status", "transparency", NULL };

/* CRoaring 0.2 does not accept NULL. */
static void bm_free(roaring_bitmap_t *b)
{
	if (b)
		roaring_bitmap_free(b);
}

void search_ctx_release(struct search_ctx *x)
{
	bm_free(x->universe);
	free(x->scores);
	free(x->vm);
	free(x->nkeys);
	x->universe = NULL;
	x->scores = NULL;
	x->vm = NULL;
	x->nkeys = NULL;
	x->nscores = x->capscores = x->nvm = x->capvm = 0;
	x->rank_hits.n = 0;
}

bool search__in_list(const char *const *l, const char *s)
{
	for (int i = 0; l[i]; i++)
		if (!strcmp(l[i], s))
			return true;
	return false;
}

bool search__field_builtin(const char *name)
{
	return search__in_list(search__number_fields, name) || search__in_list(search__builtin_facets, name) ||
	       !strcmp(name, "versions");
}

int search__col_of(const char *q, int pos)
{
	int col = 1;

	for (int i = 0; i < pos && q[i]; i++)
		col += ((unsigned char)q[i] & 0xc0) != 0x80;
	return col;
}

static roaring_bitmap_t *oom(struct search_ctx *x, roaring_bitmap_t *bm)
{
	bm_free(bm);
	dam_err_set(x->err, DAM_ENOMEM, NULL, "out of memory");
	return NULL;
}

/* The asset rowids a query's first column returns, as a bitmap; NULL on a
 * database error (x->err filled). Parameters as db_bind(). */
static roaring_bitmap_t *from_sql(struct search_ctx *x, const char *sql, const char *types, ...)
{
	roaring_bitmap_t *bm = NULL;
	struct db_stmt *st = NULL;
	va_list ap;
	int rc;

	if ((rc = db_prepare(x->dam->db, sql, &st, x->err)) < 0)
		return NULL;
	va_start(ap, types);
	rc = db_vbind(st, x->err, types, ap);
	va_end(ap);
	if (rc == 0) {
		bm = roaring_bitmap_create();
		while ((rc = db_step(st, x->err)) == DB_ROW)
			roaring_bitmap_add(bm, (uint32_t)db_col_int(st, 0));
	}
	db_finalize(st);
	if (rc < 0) {
		bm_free(bm);
		return NULL;
	}
	return bm;
}

/* The number of characters (UTF-8 code points) of s. */
static size_t n_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* As you type, the last word is not finished yet: the last word of the
 * text - field filters (and -filters) after it do not count, as the UI writes the facet
 * sidebar's filters after the typed text - when it is a bare word (no
 * quotes, no '*', not negated) of at least 2 characters (a 1-character
 * prefix would match a good part of the index; FTS5 keeps prefix indexes
 * of 2 and 3 characters), gets prefix set and is returned; else NULL. */
const struct qnode *search__last_word(struct qnode *root)
{
	struct qnode *n = root;

	while (n && (n->kind == QNODE_AND || n->kind == QNODE_OR)) {
		int k = n->nkids - 1;
		while (k > 0 && (n->kids[k]->kind == QNODE_FIELD ||
				 (n->kids[k]->kind == QNODE_NOT && n->kids[k]->kids[0]->kind == QNODE_FIELD)))
			k--;
		n = n->kids[k];
	}
	if (!n || n->kind != QNODE_TEXT || n->phrase || n->prefix || n_chars(n->value) < 2)
		return NULL;
	n->prefix = true;
	return n;
}

/* A vocabulary term stands for itself, its synonyms and its descendants
 * (trainers = sneakers; Footwear matches Sneakers). NULL when the word is
 * in no vocabulary. Caller decrefs. */
static json_t *expansion(struct search_ctx *x, const struct qnode *n)
{
	json_t *words = NULL;

	if ((n->prefix && n != x->typed) || vocab_expand(x->dam, NULL, n->value, &words, NULL) < 0)
		return NULL;
	return words;
}

/* ---- text through the backend ---- */

/* What one text pass keeps besides its bitmap. */
struct text_pass {
	struct search_ctx *x;
	roaring_bitmap_t *bm;
	bool scores; /* each match's rank into x->scores */
	bool keep;   /* each matching version into x->vm */
};

static int push_score(struct search_ctx *x, uint32_t row, double rank)
{
	if (GROW(&x->scores, &x->capscores, x->nscores + 1, 1024) < 0)
		return dam_err_set(x->err, DAM_ENOMEM, NULL, "out of memory");
	x->scores[x->nscores++] = (struct search_score){ row, rank };
	return 0;
}

static int push_version(struct search_ctx *x, uint32_t version, uint32_t row)
{
	if (GROW(&x->vm, &x->capvm, x->nvm + 1, 1024) < 0)
		return dam_err_set(x->err, DAM_ENOMEM, NULL, "out of memory");
	x->vm[x->nvm++] = (struct search_vmatch){ version, row };
	return 0;
}

/* search_match_fn: a matching version to its asset, through the cache's
 * version map. Every matching version counts for ranking (old ones too:
 * the best version of an asset ranks it); only current ones match unless
 * versions:all. */
static int on_match(int64_t version, double rank, void *arg)
{
	struct text_pass *p = arg;
	uint32_t row;
	bool current;
	int rc = 0;

	if (!search_cache_version(p->x->c, version, &row, &current))
		return 0; /* indexed after the cache caught up: next search */
	if (p->x->all_versions || current)
		roaring_bitmap_add(p->bm, row);
	if (p->scores)
		rc = push_score(p->x, row, rank);
	if (rc == 0 && p->keep)
		rc = push_version(p->x, (uint32_t)version, row);
	return rc;
}

/* The assets matching expr (current versions, or any with versions:all).
 * scores: keep every matching version's rank (one ranked pass serves
 * ordering); keep: keep every matching version for deferred ranking (of
 * rank_expr: with what the engine counted for it). */
static roaring_bitmap_t *text_pass(struct search_ctx *x, const char *expr, bool scores, bool keep)
{
	struct text_pass p = { x, roaring_bitmap_create(), scores, keep };
	bool ranks_later = keep && x->rank_expr && !strcmp(expr, x->rank_expr);

	if (!p.bm)
		return oom(x, NULL);
	if (x->be->match(x->dam->db, expr, scores, on_match, &p, ranks_later ? &x->rank_hits : NULL, x->err) < 0) {
		bm_free(p.bm);
		return NULL;
	}
	if (scores)
		x->scored = true;
	x->deferred = x->deferred || keep;
	return p.bm;
}

/* The terms of a text node: its vocabulary expansion (and, for the word
 * being typed, itself as a prefix), or the word itself. */
static int text_terms(struct search_ctx *x, const struct qnode *n, const json_t *words, struct search_term **out,
		      size_t *nout)
{
	size_t n_words = words ? json_array_size(words) : 0, k = 0, cap = 0;
	struct search_term *t = NULL;
	const json_t *w;
	size_t i;

	if (GROW(&t, &cap, n_words + 1, 1) < 0)
		return dam_err_set(x->err, DAM_ENOMEM, NULL, "out of memory");
	json_array_foreach(words, i, w)
		t[k++] = (struct search_term){ json_string_value(w), false };
	if (!words || n->prefix) /* the word being typed: its vocabulary, or a longer word */
		t[k++] = (struct search_term){ n->value, n->prefix };
	*out = t;
	*nout = k;
	return 0;
}

static roaring_bitmap_t *eval_text(struct search_ctx *x, const struct qnode *n)
{
	struct strbuf m = STRBUF_INIT;
	struct search_term *terms = NULL;
	roaring_bitmap_t *bm = NULL;
	json_t *words = expansion(x, n);
	size_t nterms = 0;
	int rc;

	if ((rc = text_terms(x, n, words, &terms, &nterms)) < 0 || (rc = x->be->expr(terms, nterms, &m)) < 0) {
		if (rc == DAM_ENOMEM)
			dam_err_set(x->err, DAM_ENOMEM, NULL, "out of memory");
		goto out;
	}
	if (x->rank_expr && !x->scored && !x->deferred && !strcmp(m.buf, x->rank_expr))
		bm = x->filter_first ? text_pass(x, m.buf, false, true) : text_pass(x, m.buf, true, false);
	else
		bm = text_pass(x, m.buf, false, x->rank_expr != NULL);
out:
	free(terms);
	json_decref(words);
	strbuf_release(&m);
	return bm;
}

/* ---- numbers and dates ---- */

/* A number or a date (of a date field: created, updated or a defined
 * field of type date) of the query. */
static int number_value(struct search_ctx *x, bool date, const char *s, double *out, bool *day)
{
	uint64_t ms;
	char *end;

	*day = false;
	if (date) {
		if (search_date_value(s, x->now_ms, &ms, day) < 0)
			return -1;
		*out = (double)ms;
		return 0;
	}
	*out = strtod(s, &end);
	return *end || end == s || !isfinite(*out) ? -1 : 0;
}

/* What a field compares by: 'n' number, 'd' date, 0 neither (a facet or
 * a text field). Built-in ones, or a defined field of type number/date. */
static char field_scalar(struct search_ctx *x, const char *name)
{
	char type[16] = "";
	struct db_stmt *st;

	if (!strcmp(name, "created") || !strcmp(name, "updated"))
		return 'd';
	if (search__in_list(search__number_fields, name))
		return 'n';
	if (search__in_list(search__builtin_facets, name) || !strcmp(name, "versions"))
		return 0;
	if (db_query(x->dam->db, &st, NULL, "SELECT type FROM field_defs WHERE key=?", "s", name) < 0)
		return 0;
	if (db_step(st, NULL) == DB_ROW)
		snprintf(type, sizeof type, "%s", db_col_text(st, 0));
	db_finalize(st);
	return !strcmp(type, field_type_name(FIELD_NUMBER)) ? 'n' : !strcmp(type, field_type_name(FIELD_DATE)) ? 'd' : 0;
}

static roaring_bitmap_t *eval_number(struct search_ctx *x, const struct qnode *n, const char *q, bool date)
{
	double lo = -INFINITY, hi = INFINITY, a, b = 0, span_a, span_b;
	bool day_a, day_b = false;

	if (number_value(x, date, n->value, &a, &day_a) < 0 ||
	    (n->value2 && number_value(x, date, n->value2, &b, &day_b) < 0)) {
		dam_err_set(x->err, DAM_EINVAL, "q", "%s wants %s at column %d", n->name,
			    date ? "a date like 2026-01-31, now+30d, now-7d or 7d (the last 7 days)" : "a number",
			    search__col_of(q, n->pos));
		return NULL;
	}
	/* A bare day (2026-01-31) means the whole day; a timestamp means that
	 * instant. */
	span_a = day_a ? 86400000.0 - 1 : 0;
	span_b = day_b ? 86400000.0 - 1 : 0;
	switch (n->op) {
	case QOP_EQ:
		lo = a;
		hi = a + span_a;
		break;
	case QOP_GT: lo = nextafter(a + span_a, INFINITY); break;
	case QOP_GE: lo = a; break;
	case QOP_LT: hi = nextafter(a, -INFINITY); break;
	case QOP_LE: hi = a + span_a; break;
	case QOP_RANGE:
		lo = a;
		hi = b + span_b;
		break;
	}
	return from_sql(x, "SELECT asset_rowid FROM search_numbers WHERE key=? AND num BETWEEN ? AND ?", "sdd", n->name,
			lo, hi);
}

/* ---- facets and fields ---- */

/* A facet filter: exact value (also case-folded), or every value with the
 * prefix. */
static bool value_matches(const struct search_fval *f, const struct qnode *n, const json_t *words)
{
	const json_t *w;
	size_t i;

	if (n->prefix)
		return !strncasecmp(f->value, n->value, strlen(n->value));
	if (!words)
		return !strcasecmp(f->value, n->value);
	json_array_foreach(words, i, w)
		if (!strcasecmp(f->value, json_string_value(w)))
			return true;
	return false;
}

static roaring_bitmap_t *eval_facet(struct search_ctx *x, const struct qnode *n)
{
	roaring_bitmap_t *bm = roaring_bitmap_create();
	json_t *words = expansion(x, n);

	for (uint32_t i = 0; bm && i < x->c->nv; i++) {
		const struct search_fval *f = &x->c->v[i];
		if (!strcmp(f->facet, n->name) && value_matches(f, n, words))
			roaring_bitmap_or_inplace(bm, f->bm);
	}
	json_decref(words);
	return bm ? bm : oom(x, NULL);
}

/* A field that is not facetable: compared in the fields table (values of
 * every language, ASCII case ignored as before on SQLite - lower() and
 * LIKE fold ASCII only there; prefix with *). */
static roaring_bitmap_t *eval_plain_field(struct search_ctx *x, const struct qnode *n)
{
	char lo[80], hi[80];
	struct strbuf v = STRBUF_INIT;
	roaring_bitmap_t *bm;

	/* key or key@LANG, as ranges the (key, value) index can serve */
	snprintf(lo, sizeof lo, "%s@", n->name);
	snprintf(hi, sizeof hi, "%s@\x7f", n->name);
	if (n->prefix) {
		for (const char *p = n->value; *p; p++) {
			if (*p == '%' || *p == '_' || *p == '\\')
				strbuf_addch(&v, '\\');
			strbuf_addch(&v, *p);
		}
		strbuf_addch(&v, '%');
	} else {
		strbuf_adds(&v, n->value);
	}
	bm = from_sql(x, n->prefix ? "SELECT a.num FROM fields f JOIN assets a ON a.id = f.asset_id"
				      " WHERE (f.key = ? OR (f.key > ? AND f.key < ?)) AND lower(f.value) LIKE lower(?) ESCAPE '\\'"
				    : "SELECT a.num FROM fields f JOIN assets a ON a.id = f.asset_id"
				      " WHERE (f.key = ? OR (f.key > ? AND f.key < ?)) AND {{ci_eq(f.value, ?)}}",
		       "ssss", n->name, lo, hi, v.buf);
	strbuf_release(&v);
	return bm;
}

static roaring_bitmap_t *eval(struct search_ctx *x, const struct qnode *n, const char *q);

static roaring_bitmap_t *eval_field(struct search_ctx *x, const struct qnode *n, const char *q)
{
	char scalar;

	if (!strcmp(n->name, "versions"))
		return roaring_bitmap_copy(x->universe);
	if ((scalar = field_scalar(x, n->name))) {
		if (n->prefix) {
			dam_err_set(x->err, DAM_EINVAL, "q", "%s takes a number or date, not a prefix (column %d)", n->name,
				    search__col_of(q, n->pos));
			return NULL;
		}
		return eval_number(x, n, q, scalar == 'd');
	}
	if (n->op != QOP_EQ) {
		dam_err_set(x->err, DAM_EINVAL, "q", "%s is not a number or date field; use %s:value (column %d)", n->name,
			    n->name, search__col_of(q, n->pos));
		return NULL;
	}
	if (!search__in_list(search__builtin_facets, n->name) && !search_cache_facet_exists(x->c, n->name))
		return eval_plain_field(x, n);
	return eval_facet(x, n);
}

/* AND / OR of the kids. */
static roaring_bitmap_t *eval_kids(struct search_ctx *x, const struct qnode *n, const char *q)
{
	roaring_bitmap_t *acc = NULL, *k;

	for (int i = 0; i < n->nkids; i++) {
		if (!(k = eval(x, n->kids[i], q))) {
			bm_free(acc);
			return NULL;
		}
		if (!acc) {
			acc = k;
			continue;
		}
		if (n->kind == QNODE_AND)
			roaring_bitmap_and_inplace(acc, k);
		else
			roaring_bitmap_or_inplace(acc, k);
		bm_free(k);
	}
	return acc;
}

static roaring_bitmap_t *eval(struct search_ctx *x, const struct qnode *n, const char *q)
{
	roaring_bitmap_t *acc, *k;

	switch (n->kind) {
	case QNODE_TEXT:
		return eval_text(x, n);
	case QNODE_FIELD:
		return eval_field(x, n, q);
	case QNODE_NOT:
		if (!(k = eval(x, n->kids[0], q)))
			return NULL;
		acc = roaring_bitmap_andnot(x->universe, k);
		bm_free(k);
		return acc;
	case QNODE_AND:
	case QNODE_OR:
		return eval_kids(x, n, q);
	}
	return NULL;
}

bool search__has_text(const struct qnode *n)
{
	if (!n)
		return false;
	if (n->kind == QNODE_TEXT)
		return true;
	for (int i = 0; i < n->nkids; i++)
		if (search__has_text(n->kids[i]))
			return true;
	return false;
}

int search__eval_conjuncts(struct search_ctx *x, const struct qnode *root, roaring_bitmap_t **kid_bm, int nkids,
			   roaring_bitmap_t *result, const char *q)
{
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1 && x->rank_expr)
			x->filter_first = (double)roaring_bitmap_get_cardinality(result) <
					  FILTER_FIRST_SHARE * (double)roaring_bitmap_get_cardinality(x->universe);
		for (int k = 0; k < nkids; k++) {
			const struct qnode *kid = root->kind == QNODE_AND ? root->kids[k] : root;
			if (search__has_text(kid) != (pass == 1))
				continue;
			if (!(kid_bm[k] = eval(x, kid, q)))
				return x->err && x->err->code ? x->err->code : DAM_EDB;
			roaring_bitmap_and_inplace(result, kid_bm[k]);
		}
	}
	return 0;
}

/* ---- ranking expression ---- */

struct terms {
	struct search_term *t;
	size_t n, cap;
};

/* The positive text terms of the tree, in order. */
static int positive_terms(const struct qnode *n, bool neg, struct terms *out)
{
	int rc = 0;

	if (n->kind == QNODE_NOT)
		return positive_terms(n->kids[0], !neg, out);
	if (n->kind == QNODE_TEXT && !neg) {
		if (GROW(&out->t, &out->cap, out->n + 1, 8) < 0)
			return DAM_ENOMEM;
		out->t[out->n++] = (struct search_term){ n->value, n->prefix };
	} else if (n->kind == QNODE_AND || n->kind == QNODE_OR) {
		for (int i = 0; i < n->nkids && rc == 0; i++)
			rc = positive_terms(n->kids[i], neg, out);
	}
	return rc;
}

int search__rank_expr(const struct search_ctx *x, const struct qnode *root, struct strbuf *out)
{
	struct terms t = { 0 };
	int rc = 0;

	if (root && (rc = positive_terms(root, false, &t)) == 0 && t.n)
		rc = x->be->expr(t.t, t.n, out);
	free(t.t);
	return rc < 0 ? dam_err_set(x->err, rc, NULL, "out of memory") : 0;
}

/* ---- checking the fields ---- */

/* A defined field, or a free field some asset has. */
static bool field_in_use(struct dam *dam, const char *name)
{
	int64_t n = 0;
	char lo[80], hi[80];

	snprintf(lo, sizeof lo, "%s@", name);
	snprintf(hi, sizeof hi, "%s@\x7f", name);
	if (db_query_int(dam->db, &n, NULL, "SELECT count(*) FROM field_defs WHERE key=?", "s", name) == 0 && n)
		return true;
	return db_query_int(dam->db, &n, NULL,
			    "SELECT EXISTS (SELECT 1 FROM fields WHERE key=?) OR EXISTS (SELECT 1 FROM fields WHERE key > ? AND key < ?)",
			    "sss", name, lo, hi) == 0 && n;
}

struct check {
	struct search_ctx *x;
	const char *q;
	bool status, versions_all;
};

static int check_field(const struct qnode *f, void *arg)
{
	struct check *ck = arg;

	if (!strcmp(f->name, "versions")) {
		if (strcmp(f->value, "all") && strcmp(f->value, "current"))
			return dam_err_set(ck->x->err, DAM_EINVAL, "q", "versions is all or current (column %d)",
					   search__col_of(ck->q, f->pos));
		ck->versions_all = ck->versions_all || !strcmp(f->value, "all");
		return 0;
	}
	if (!strcmp(f->name, "status"))
		ck->status = true;
	if (search__field_builtin(f->name) || search_cache_facet_exists(ck->x->c, f->name) ||
	    field_in_use(ck->x->dam, f->name))
		return 0;
	return dam_err_set(ck->x->err, DAM_EINVAL, "q",
			   "unknown field \"%s\" at column %d; known fields: type, format, tag, color, orientation, aspect,"
			   " resolution, status, width, height, size, duration, pages, created, updated, versions and"
			   " facetable fields", f->name, search__col_of(ck->q, f->pos));
}

int search__check_fields(struct search_ctx *x, const struct qnode *root, const char *q, bool *status, bool *versions_all)
{
	struct check ck = { x, q, false, false };
	int rc = root ? query_fields(root, check_field, &ck) : 0;

	*status = ck.status;
	*versions_all = ck.versions_all;
	return rc;
}
