/*
 * search.c - query evaluation over facet bitmaps, FTS5 and number ranges;
 * facet counts; sorting and keyset pages; saved searches.
 */
#include "core/search.h"

#include <math.h>
#include <stdarg.h>
#include <strings.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <roaring/roaring.h>

#include "core/event.h"
#include "core/fielddef.h"
#include "media/media.h"
#include "core/query.h"
#include "core/search_index.h"
#include "core/search_names.h"
#include "core/search_ranges.h"
#include "core/search_text.h"
#include "core/vocab.h"
#include "util/id.h"
#include "util/timeutil.h"

#define FACET_TOP 50
#define SMALL_RESULT 5000

/* CRoaring 0.2 does not accept NULL. */
static void bm_free(roaring_bitmap_t *b)
{
	if (b)
		roaring_bitmap_free(b);
}

/* ---- the per-process facet cache ---- */

struct fval {
	char *facet, *value;
	roaring_bitmap_t *bm;
};

struct owned {
	uint32_t *ids; /* fval indexes the asset is in */
	uint32_t n, cap;
};

struct cache {
	pthread_mutex_t lock;
	char root[4096];
	int64_t seq;
	struct fval *v;
	uint32_t nv, capv;
	uint32_t *slots; /* open addressing: fval index + 1, 0 = empty */
	uint32_t nslots;
	struct owned *own; /* by asset rowid */
	uint32_t nown;
	uint32_t *order;   /* fval indexes grouped by facet (valid when norder == nv) */
	uint32_t norder;
	uint64_t *phash;   /* by asset rowid: current version's perceptual hash */
	uint8_t *has_phash;
	uint32_t nphash;
	/* by version rowid (the FTS5 rowid): asset rowid + 1, with VDOC_CURRENT
	 * when it is the asset's current version; 0 = not indexed. Maps FTS5
	 * matches to assets without joining search_docs for every match. */
	uint32_t *vdoc;
	uint32_t nvdoc;
	struct search_names names; /* sort=name, built on the first name sort */
};

#define VDOC_CURRENT 0x80000000u

static struct cache g_cache = { .lock = PTHREAD_MUTEX_INITIALIZER };

static uint32_t hash2(const char *a, const char *b)
{
	uint32_t h = 2166136261u;

	for (; *a; a++)
		h = (h ^ (unsigned char)*a) * 16777619u;
	h = (h ^ 0xff) * 16777619u;
	for (; *b; b++)
		h = (h ^ (unsigned char)*b) * 16777619u;
	return h;
}

static void cache_reset(struct cache *c)
{
	for (uint32_t i = 0; i < c->nv; i++) {
		free(c->v[i].facet);
		free(c->v[i].value);
		bm_free(c->v[i].bm);
	}
	for (uint32_t i = 0; i < c->nown; i++)
		free(c->own[i].ids);
	free(c->v);
	free(c->slots);
	free(c->own);
	free(c->phash);
	free(c->has_phash);
	free(c->vdoc);
	search_names_release(&c->names);
	c->vdoc = NULL;
	c->nvdoc = 0;
	free(c->order);
	c->order = NULL;
	c->norder = 0;
	c->v = NULL;
	c->slots = NULL;
	c->own = NULL;
	c->phash = NULL;
	c->has_phash = NULL;
	c->nv = c->capv = c->nslots = c->nown = c->nphash = 0;
	c->seq = 0;
}

static void rehash(struct cache *c)
{
	uint32_t n = c->nslots ? c->nslots * 2 : 1024;

	free(c->slots);
	c->slots = calloc(n, sizeof *c->slots);
	c->nslots = n;
	for (uint32_t i = 0; i < c->nv; i++) {
		uint32_t h = hash2(c->v[i].facet, c->v[i].value) & (n - 1);
		while (c->slots[h])
			h = (h + 1) & (n - 1);
		c->slots[h] = i + 1;
	}
}

/* The fval for (facet, value), created when create is set; -1 if none. */
static int64_t fval_find(struct cache *c, const char *facet, const char *value, bool create)
{
	uint32_t h;

	if (c->nslots) {
		for (h = hash2(facet, value) & (c->nslots - 1); c->slots[h]; h = (h + 1) & (c->nslots - 1)) {
			struct fval *f = &c->v[c->slots[h] - 1];
			if (!strcmp(f->facet, facet) && !strcmp(f->value, value))
				return c->slots[h] - 1;
		}
	}
	if (!create)
		return -1;
	if (c->nv == c->capv) {
		c->capv = c->capv ? c->capv * 2 : 256;
		c->v = realloc(c->v, c->capv * sizeof *c->v);
	}
	c->v[c->nv] = (struct fval){ strdup(facet), strdup(value), roaring_bitmap_create() };
	c->nv++;
	if (c->nv * 2 > c->nslots)
		rehash(c);
	else {
		for (h = hash2(facet, value) & (c->nslots - 1); c->slots[h]; h = (h + 1) & (c->nslots - 1))
			;
		c->slots[h] = c->nv;
	}
	return c->nv - 1;
}

static void own_add(struct cache *c, uint32_t row, uint32_t fv)
{
	struct owned *o;

	if (row >= c->nown) {
		uint32_t n = c->nown ? c->nown : 1024;
		while (n <= row)
			n *= 2;
		c->own = realloc(c->own, n * sizeof *c->own);
		memset(c->own + c->nown, 0, (n - c->nown) * sizeof *c->own);
		c->nown = n;
	}
	o = &c->own[row];
	if (o->n == o->cap) {
		o->cap = o->cap ? o->cap * 2 : 8;
		o->ids = realloc(o->ids, o->cap * sizeof *o->ids);
	}
	o->ids[o->n++] = fv;
}

static void cache_add(struct cache *c, uint32_t row, const char *facet, const char *value)
{
	int64_t fv = fval_find(c, facet, value, true);

	roaring_bitmap_add(c->v[fv].bm, row);
	own_add(c, row, (uint32_t)fv);
}

static void cache_drop_asset(struct cache *c, uint32_t row)
{
	if (row >= c->nown)
		return;
	for (uint32_t i = 0; i < c->own[row].n; i++)
		roaring_bitmap_remove(c->v[c->own[row].ids[i]].bm, row);
	c->own[row].n = 0;
}

static void phash_set(struct cache *c, uint32_t row, bool has, uint64_t ph)
{
	if (row >= c->nphash) {
		uint32_t n = c->nphash ? c->nphash : 1024;
		while (n <= row)
			n *= 2;
		c->phash = realloc(c->phash, n * sizeof *c->phash);
		c->has_phash = realloc(c->has_phash, n);
		memset(c->has_phash + c->nphash, 0, n - c->nphash);
		memset(c->phash + c->nphash, 0, (n - c->nphash) * sizeof *c->phash);
		c->nphash = n;
	}
	c->phash[row] = ph;
	c->has_phash[row] = has;
}

static void vdoc_set(struct cache *c, int64_t vrow, int64_t arow, bool current)
{
	if (vrow < 0 || vrow >= VDOC_CURRENT || arow < 0 || arow + 1 >= VDOC_CURRENT)
		return;
	if ((uint32_t)vrow >= c->nvdoc) {
		uint32_t n = c->nvdoc ? c->nvdoc : 1024;
		while (n <= (uint32_t)vrow)
			n *= 2;
		c->vdoc = realloc(c->vdoc, n * sizeof *c->vdoc);
		memset(c->vdoc + c->nvdoc, 0, (n - c->nvdoc) * sizeof *c->vdoc);
		c->nvdoc = n;
	}
	c->vdoc[vrow] = (uint32_t)(arow + 1) | (current ? VDOC_CURRENT : 0);
}

/* The versions search_docs has for one asset (row >= 0) or for all. */
static int load_vdocs(struct cache *c, struct dam *dam, int64_t row, struct dam_err *err)
{
	struct db_stmt *st;
	int rc;

	if (row >= 0)
		rc = db_query(dam->db, &st, err, "SELECT version_rowid, asset_rowid, is_current FROM search_docs WHERE asset_rowid=?",
			      "i", row);
	else
		rc = db_query(dam->db, &st, err, "SELECT version_rowid, asset_rowid, is_current FROM search_docs", "");
	if (rc < 0)
		return rc;
	while ((rc = db_step(st, err)) == DB_ROW)
		vdoc_set(c, db_col_int(st, 0), db_col_int(st, 1), db_col_int(st, 2) != 0);
	db_finalize(st);
	return rc < 0 ? rc : 0;
}

#define CURRENT_PHASH_SQL                                                                         \
	"SELECT s.asset_rowid, s.phash FROM similarity s JOIN assets a ON a.rowid = s.asset_rowid" \
	" JOIN versions v ON v.rowid = s.version_rowid AND v.id = a.current_version_id"

static int load_phash(struct cache *c, struct dam *dam, int64_t row, struct dam_err *err)
{
	struct db_stmt *st;
	int rc;

	if (row >= 0)
		rc = db_query(dam->db, &st, err, CURRENT_PHASH_SQL " WHERE s.asset_rowid=?", "i", row);
	else /* search_docs knows the current versions (search_sync ran): integer
	      * keys instead of joining versions on their text ids, 2x faster */
		rc = db_query(dam->db, &st, err,
			      "SELECT s.asset_rowid, s.phash FROM similarity s"
			      " JOIN search_docs d ON d.version_rowid = s.version_rowid WHERE d.is_current", "");
	if (rc < 0)
		return rc;
	if (row >= 0)
		phash_set(c, (uint32_t)row, false, 0);
	while ((rc = db_step(st, err)) == DB_ROW)
		phash_set(c, (uint32_t)db_col_int(st, 0), true, (uint64_t)db_col_int(st, 1));
	db_finalize(st);
	return rc < 0 ? rc : 0;
}

static int load_asset(struct cache *c, struct dam *dam, int64_t row, struct dam_err *err)
{
	struct db_stmt *st;
	int rc;

	cache_drop_asset(c, (uint32_t)row);
	if ((rc = db_query(dam->db, &st, err, "SELECT facet, value FROM facet_values WHERE asset_rowid=?", "i", row)) < 0)
		return rc;
	while ((rc = db_step(st, err)) == DB_ROW)
		cache_add(c, (uint32_t)row, db_col_text(st, 0), db_col_text(st, 1));
	db_finalize(st);
	if (rc < 0 || (rc = load_vdocs(c, dam, row, err)) < 0)
		return rc;
	return load_phash(c, dam, row, err);
}

/* Brings the cache up to the library's search_log. Called with the lock. */
static int cache_catch_up(struct cache *c, struct dam *dam, struct dam_err *err)
{
	struct db_stmt *st;
	int64_t last = 0;
	int rc;

	if (strcmp(c->root, dam->root)) {
		cache_reset(c);
		snprintf(c->root, sizeof c->root, "%s", dam->root);
	}
	if ((rc = db_query_int(dam->db, &last, err, "SELECT ifnull(max(seq),0) FROM search_log", "")) < 0)
		return rc;
	if (last == c->seq)
		return 0;
	if (c->seq == 0 || last - c->seq > 100000) {
		cache_reset(c);
		snprintf(c->root, sizeof c->root, "%s", dam->root);
		if ((rc = db_query(dam->db, &st, err, "SELECT asset_rowid, facet, value FROM facet_values", "")) < 0)
			return rc;
		while ((rc = db_step(st, err)) == DB_ROW)
			cache_add(c, (uint32_t)db_col_int(st, 0), db_col_text(st, 1), db_col_text(st, 2));
		db_finalize(st);
		if (rc < 0 || (rc = load_phash(c, dam, -1, err)) < 0 || (rc = load_vdocs(c, dam, -1, err)) < 0)
			return rc;
	} else {
		int64_t *rows = NULL;
		size_t n = 0, cap = 0;
		if ((rc = db_query(dam->db, &st, err, "SELECT DISTINCT asset_rowid FROM search_log WHERE seq > ? AND seq <= ?",
				   "ii", c->seq, last)) < 0)
			return rc;
		while ((rc = db_step(st, err)) == DB_ROW) {
			if (n == cap)
				rows = realloc(rows, (cap = cap ? cap * 2 : 64) * sizeof *rows);
			rows[n++] = db_col_int(st, 0);
		}
		db_finalize(st);
		for (size_t i = 0; i < n && rc >= 0; i++)
			rc = load_asset(c, dam, rows[i], err);
		if (rc >= 0)
			rc = search_names_patch(&c->names, dam, rows, n, err);
		free(rows);
		if (rc < 0)
			return rc;
	}
	c->seq = last;
	return 0;
}

/* Union of a facet's bitmaps, optionally skipping one value. */
static roaring_bitmap_t *facet_union(struct cache *c, const char *facet, const char *except)
{
	roaring_bitmap_t *u = roaring_bitmap_create();

	for (uint32_t i = 0; i < c->nv; i++)
		if (!strcmp(c->v[i].facet, facet) && (!except || strcmp(c->v[i].value, except)))
			roaring_bitmap_or_inplace(u, c->v[i].bm);
	return u;
}

/* ---- evaluation ---- */

struct ctx {
	struct dam *dam;
	struct cache *c;
	roaring_bitmap_t *universe; /* live assets, or all with status: filters */
	bool all_versions;
	uint64_t now_ms; /* "now" of relative dates */
	/* prefix_last: the word being typed, matched as itself (with its
	 * vocabulary) and as a prefix; its node has prefix set. */
	const struct qnode *typed;
	struct dam_err *err;
	/* Relevance: the FTS expression ranked by (NULL when not sorting by
	 * relevance) and the bm25 of each of its matches, captured by the
	 * eval_text pass that runs the same expression, so FTS5 runs once. */
	const char *rank_fts;
	struct score *scores;
	size_t nscores;
	bool scored;
	/* Filter-first relevance: when the other conjuncts leave few candidates
	 * (filter_first), the ranking term is matched without bm25 - FTS5 then
	 * reads the doclist only, no docsize row or position list per match -
	 * and its matching versions are kept in vm (version order); keys_for
	 * scores only the versions of the hits (deferred). Every other text
	 * term keeps its versions in vm too when ranking is asked for, so a
	 * ranking expression of several terms (their OR) maps its matches to
	 * assets through vm instead of joining search_docs. */
	bool filter_first, deferred;
	struct vmatch *vm;
	size_t nvm, capvm;
	/* sort=name through the cache's name order: each hit's key, in the
	 * result's row order, and a name cursor's place in the order - copied
	 * under the cache lock, as page() runs without it. NULL: names are read
	 * from the assets table. */
	uint32_t *nkeys;
	double cursor_nkey;
};

struct score {
	uint32_t row;
	double bm25;
};

struct vmatch {
	uint32_t version, row;
};

/* Filter-first when the non-text conjuncts keep less than this share of
 * the universe: bm25 per row costs about 20x the doclist walk (1M assets,
 * "café": 38 ms scored, 1.7 ms unscored), so one extra unscored pass pays
 * for itself as soon as it spares a few percent of the rows. */
#define FILTER_FIRST_SHARE 0.5

#define RANK_SQL "bm25(search_fts, 10.0, 5.0, 3.0, 2.0, 1.0)"

static const char *const number_fields[] = { "width", "height", "size", "duration", "pages", "created", "updated", NULL };
static const char *const builtin_facets[] = { "type", "format", "tag", "autotag", "color", "orientation", "aspect",
					      "resolution", "status", "transparency", NULL };

static bool in_list(const char *const *l, const char *s)
{
	for (int i = 0; l[i]; i++)
		if (!strcmp(l[i], s))
			return true;
	return false;
}

static bool facet_exists(struct cache *c, const char *name)
{
	for (uint32_t i = 0; i < c->nv; i++)
		if (!strcmp(c->v[i].facet, name))
			return true;
	return false;
}

bool search_field_known(struct dam *dam, const char *name)
{
	(void)dam;
	return in_list(number_fields, name) || in_list(builtin_facets, name) || !strcmp(name, "versions");
}

const char *const *search_builtin_facets(void)
{
	return builtin_facets;
}

const char *const *search_number_fields(void)
{
	return number_fields;
}

static int col_of(const char *q, int pos)
{
	int col = 1;

	for (int i = 0; i < pos && q[i]; i++)
		col += ((unsigned char)q[i] & 0xc0) != 0x80;
	return col;
}

/* The asset rowids a query's first column returns, as a bitmap; NULL on a
 * database error (x->err filled). Parameters as db_bind(). */
static roaring_bitmap_t *from_sql(struct ctx *x, const char *sql, const char *types, ...)
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
static const struct qnode *last_word(struct qnode *root)
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
static json_t *expansion(struct ctx *x, const struct qnode *n)
{
	json_t *words = NULL;

	if ((n->prefix && n != x->typed) || vocab_expand(x->dam, NULL, n->value, &words, NULL) < 0)
		return NULL;
	return words;
}

/* The matches of the ranking expression, as eval_text's bitmap, keeping
 * the bm25 of every matching version (old ones too: keys_for takes the best
 * version of an asset) in x->scores. */
static roaring_bitmap_t *text_scored(struct ctx *x, const char *fts)
{
	roaring_bitmap_t *bm = NULL;
	struct db_stmt *st;
	size_t cap = 0;
	int rc;

	if (db_query(x->dam->db, &st, x->err, "SELECT rowid, " RANK_SQL " FROM search_fts WHERE search_fts MATCH ?", "s",
		     fts) < 0)
		return NULL;
	bm = roaring_bitmap_create();
	while ((rc = db_step(st, x->err)) == DB_ROW) {
		int64_t v = db_col_int(st, 0);
		uint32_t d = v >= 0 && v < x->c->nvdoc ? x->c->vdoc[v] : 0, row;
		if (!d) /* indexed after the cache caught up: next search */
			continue;
		row = (d & ~VDOC_CURRENT) - 1;
		if (x->all_versions || (d & VDOC_CURRENT))
			roaring_bitmap_add(bm, row);
		if (x->nscores == cap) {
			struct score *ns = realloc(x->scores, (cap = cap ? cap * 2 : 1024) * sizeof *ns);
			if (!ns) {
				rc = dam_err_set(x->err, DAM_ENOMEM, NULL, "out of memory");
				break;
			}
			x->scores = ns;
		}
		x->scores[x->nscores++] = (struct score){ row, db_col_double(st, 1) };
	}
	db_finalize(st);
	if (rc < 0) {
		bm_free(bm);
		return NULL;
	}
	x->scored = true;
	return bm;
}

static int vm_push(struct ctx *x, uint32_t version, uint32_t row)
{
	if (x->nvm == x->capvm) {
		size_t n = x->capvm ? x->capvm * 2 : 1024;
		struct vmatch *nv = realloc(x->vm, n * sizeof *nv);
		if (!nv)
			return dam_err_set(x->err, DAM_ENOMEM, NULL, "out of memory");
		x->vm = nv;
		x->capvm = n;
	}
	x->vm[x->nvm++] = (struct vmatch){ version, row };
	return 0;
}

/* The assets whose current version (any version with versions:all)
 * matches fts, mapped through the cache's version map. With keep, every
 * matching version (old ones too: the best version of an asset ranks it)
 * goes to x->vm for filter-first scoring. */
static roaring_bitmap_t *text_rows(struct ctx *x, const char *fts, bool keep)
{
	roaring_bitmap_t *bm;
	struct db_stmt *st;
	int rc;

	if (db_query(x->dam->db, &st, x->err, "SELECT rowid FROM search_fts WHERE search_fts MATCH ?", "s", fts) < 0)
		return NULL;
	bm = roaring_bitmap_create();
	while ((rc = db_step(st, x->err)) == DB_ROW) {
		int64_t v = db_col_int(st, 0);
		uint32_t d = v >= 0 && v < x->c->nvdoc ? x->c->vdoc[v] : 0;
		if (!d)
			continue;
		if (x->all_versions || (d & VDOC_CURRENT))
			roaring_bitmap_add(bm, (d & ~VDOC_CURRENT) - 1);
		if (keep && (rc = vm_push(x, (uint32_t)v, (d & ~VDOC_CURRENT) - 1)) < 0)
			break;
	}
	db_finalize(st);
	if (rc < 0) {
		bm_free(bm);
		return NULL;
	}
	x->deferred = x->deferred || keep;
	return bm;
}

static roaring_bitmap_t *eval_text(struct ctx *x, const struct qnode *n)
{
	struct strbuf m = STRBUF_INIT;
	roaring_bitmap_t *bm;
	json_t *words = expansion(x, n), *w;
	size_t i;

	if (words) {
		json_array_foreach(words, i, w) {
			if (i)
				strbuf_adds(&m, " OR ");
			search_text_match(json_string_value(w), false, &m);
		}
		json_decref(words);
		if (n->prefix) { /* the word being typed: its vocabulary, or a longer word */
			strbuf_adds(&m, " OR ");
			search_text_match(n->value, true, &m);
		}
	} else {
		search_text_match(n->value, n->prefix, &m);
	}
	if (x->rank_fts && !x->scored && !x->deferred && !strcmp(m.buf, x->rank_fts)) {
		bm = x->filter_first ? text_rows(x, m.buf, true) : text_scored(x, m.buf);
		strbuf_release(&m);
		return bm;
	}
	bm = text_rows(x, m.buf, x->rank_fts != NULL);
	strbuf_release(&m);
	return bm;
}

uint64_t search_clock_ms(void)
{
	const char *env = getenv("DAM_SEARCH_NOW");
	uint64_t ms;

	if (env && *env && time_parse(env, &ms) == 0 && ms > 0)
		return ms;
	return time_now_ms();
}

/* Two decimal digits, or -1. */
static int atoi_2(const char *p)
{
	return p[0] >= '0' && p[0] <= '9' && p[1] >= '0' && p[1] <= '9' ? (p[0] - '0') * 10 + (p[1] - '0') : -1;
}

/* "30d", "12h", "90m", "45s", "2w" as milliseconds; -1 when s is not one. */
static int64_t span_ms(const char *s)
{
	char *end;
	unsigned long long n;
	int64_t unit;

	if (!(*s >= '0' && *s <= '9'))
		return -1;
	n = strtoull(s, &end, 10);
	if (end == s || !end[0] || end[1] || n > 100ull * 366 * 24 * 60)
		return -1;
	switch (*end) {
	case 'w': unit = 7 * 86400000ll; break;
	case 'd': unit = 86400000ll; break;
	case 'h': unit = 3600000ll; break;
	case 'm': unit = 60000ll; break;
	case 's': unit = 1000ll; break;
	default: return -1;
	}
	return (int64_t)n * unit;
}

int search_date_value(const char *s, uint64_t now_ms, uint64_t *out, bool *day)
{
	size_t len = strlen(s);
	int64_t span, t;
	char abs[40];

	*day = false;
	if (!strncmp(s, "now", 3)) {
		if (!s[3])
			span = 0;
		else if ((s[3] != '+' && s[3] != '-') || (span = span_ms(s + 4)) < 0)
			return DAM_EINVAL;
		t = (int64_t)now_ms + (s[3] == '-' ? -span : span);
		if (t < 0)
			return DAM_EINVAL;
		*out = (uint64_t)t;
		return 0;
	}
	if ((span = span_ms(s)) >= 0) { /* 7d: that long ago */
		*out = (uint64_t)span > now_ms ? 0 : now_ms - (uint64_t)span;
		return 0;
	}
	/* A stored value may carry an offset (2026-01-31T10:00:00+02:00). */
	if (len > 16 && len < sizeof abs && (s[len - 6] == '+' || s[len - 6] == '-') && s[len - 3] == ':' &&
	    s[10] == 'T') {
		int oh = atoi_2(s + len - 5), om = atoi_2(s + len - 2);
		uint64_t ms;
		if (oh < 0 || om < 0)
			return DAM_EINVAL;
		memcpy(abs, s, len - 6);
		abs[len - 6] = '\0';
		if (time_parse(abs, &ms) < 0)
			return DAM_EINVAL;
		t = (int64_t)ms - (s[len - 6] == '+' ? 1 : -1) * ((int64_t)oh * 3600000 + (int64_t)om * 60000);
		*out = t < 0 ? 0 : (uint64_t)t;
		return 0;
	}
	if (len < 10 || s[4] != '-' || time_parse(s, out) < 0)
		return DAM_EINVAL;
	*day = len == 10;
	return 0;
}

/* A number or a date (of a date field: created, updated or a defined
 * field of type date) of the query. */
static int number_value(struct ctx *x, bool date, const char *s, double *out, bool *day)
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
static char field_scalar(struct ctx *x, const char *name)
{
	char type[16] = "";
	struct db_stmt *st;

	if (!strcmp(name, "created") || !strcmp(name, "updated"))
		return 'd';
	if (in_list(number_fields, name))
		return 'n';
	if (in_list(builtin_facets, name) || !strcmp(name, "versions"))
		return 0;
	if (db_query(x->dam->db, &st, NULL, "SELECT type FROM field_defs WHERE key=?", "s", name) < 0)
		return 0;
	if (db_step(st, NULL) == DB_ROW)
		snprintf(type, sizeof type, "%s", db_col_text(st, 0));
	db_finalize(st);
	return !strcmp(type, field_type_name(FIELD_NUMBER)) ? 'n' : !strcmp(type, field_type_name(FIELD_DATE)) ? 'd' : 0;
}

static roaring_bitmap_t *eval_number(struct ctx *x, const struct qnode *n, const char *q, bool date)
{
	double lo = -INFINITY, hi = INFINITY, a, b = 0, span_a, span_b;
	bool day_a, day_b = false;

	if (number_value(x, date, n->value, &a, &day_a) < 0 ||
	    (n->value2 && number_value(x, date, n->value2, &b, &day_b) < 0)) {
		dam_err_set(x->err, DAM_EINVAL, "q", "%s wants %s at column %d", n->name,
			    date ? "a date like 2026-01-31, now+30d, now-7d or 7d (the last 7 days)" : "a number",
			    col_of(q, n->pos));
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

/* A facet filter: exact value (also case-folded), or every value with the
 * prefix. */
static bool value_matches(const struct fval *f, const struct qnode *n, const json_t *words)
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

static roaring_bitmap_t *eval_facet(struct ctx *x, const struct qnode *n)
{
	roaring_bitmap_t *bm = roaring_bitmap_create();
	json_t *words = expansion(x, n);

	for (uint32_t i = 0; i < x->c->nv; i++) {
		struct fval *f = &x->c->v[i];
		if (!strcmp(f->facet, n->name) && value_matches(f, n, words))
			roaring_bitmap_or_inplace(bm, f->bm);
	}
	json_decref(words);
	return bm;
}

/* A field that is not facetable: compared in the fields table (values of
 * every language, case-insensitively; prefix with *). */
static roaring_bitmap_t *eval_plain_field(struct ctx *x, const struct qnode *n)
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
	bm = from_sql(x, n->prefix ? "SELECT a.rowid FROM fields f JOIN assets a ON a.id = f.asset_id"
				      " WHERE (f.key = ? OR (f.key > ? AND f.key < ?)) AND f.value LIKE ? ESCAPE '\\'"
				    : "SELECT a.rowid FROM fields f JOIN assets a ON a.id = f.asset_id"
				      " WHERE (f.key = ? OR (f.key > ? AND f.key < ?)) AND f.value = ? COLLATE NOCASE",
		       "ssss", n->name, lo, hi, v.buf);
	strbuf_release(&v);
	return bm;
}

static roaring_bitmap_t *eval(struct ctx *x, const struct qnode *n, const char *q)
{
	roaring_bitmap_t *acc, *k;
	char scalar;

	switch (n->kind) {
	case QNODE_TEXT:
		return eval_text(x, n);
	case QNODE_FIELD:
		if (!strcmp(n->name, "versions"))
			return roaring_bitmap_copy(x->universe);
		if ((scalar = field_scalar(x, n->name))) {
			if (n->prefix) {
				dam_err_set(x->err, DAM_EINVAL, "q", "%s takes a number or date, not a prefix (column %d)", n->name,
					    col_of(q, n->pos));
				return NULL;
			}
			return eval_number(x, n, q, scalar == 'd');
		}
		if (n->op != QOP_EQ) {
			dam_err_set(x->err, DAM_EINVAL, "q", "%s is not a number or date field; use %s:value (column %d)", n->name,
				    n->name, col_of(q, n->pos));
			return NULL;
		}
		if (!in_list(builtin_facets, n->name) && !facet_exists(x->c, n->name))
			return eval_plain_field(x, n);
		return eval_facet(x, n);
	case QNODE_NOT:
		if (!(k = eval(x, n->kids[0], q)))
			return NULL;
		acc = roaring_bitmap_andnot(x->universe, k);
		bm_free(k);
		return acc;
	case QNODE_AND:
	case QNODE_OR:
		acc = NULL;
		for (int i = 0; i < n->nkids; i++) {
			if (!(k = eval(x, n->kids[i], q))) {
				bm_free(acc);
				return NULL;
			}
			if (!acc)
				acc = k;
			else {
				if (n->kind == QNODE_AND)
					roaring_bitmap_and_inplace(acc, k);
				else
					roaring_bitmap_or_inplace(acc, k);
				bm_free(k);
			}
		}
		return acc;
	}
	return NULL;
}

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
	struct ctx *x;
	const char *q;
	bool status, versions_all;
};

static int check_field(const struct qnode *f, void *arg)
{
	struct check *ck = arg;

	if (!strcmp(f->name, "versions")) {
		if (strcmp(f->value, "all") && strcmp(f->value, "current"))
			return dam_err_set(ck->x->err, DAM_EINVAL, "q", "versions is all or current (column %d)",
					   col_of(ck->q, f->pos));
		ck->versions_all = ck->versions_all || !strcmp(f->value, "all");
		return 0;
	}
	if (!strcmp(f->name, "status"))
		ck->status = true;
	if (search_field_known(ck->x->dam, f->name) || facet_exists(ck->x->c, f->name) || field_in_use(ck->x->dam, f->name))
		return 0;
	return dam_err_set(ck->x->err, DAM_EINVAL, "q",
			   "unknown field \"%s\" at column %d; known fields: type, format, tag, color, orientation, aspect,"
			   " resolution, status, width, height, size, duration, pages, created, updated, versions and"
			   " facetable fields", f->name, col_of(ck->q, f->pos));
}

/* ---- facets ---- */

/* The facet a top-level conjunct filters on, or NULL: a field filter, or an
 * OR of filters on one facet ("(type:image OR type:video)", as the UI's
 * facet sidebar writes a multiple choice). */
static const char *conjunct_facet(const struct qnode *n)
{
	const char *f = NULL;

	if (n->kind == QNODE_FIELD && n->op == QOP_EQ && !in_list(number_fields, n->name) && strcmp(n->name, "versions"))
		return n->name;
	if (n->kind != QNODE_OR)
		return NULL;
	for (int i = 0; i < n->nkids; i++) {
		const char *k = n->kids[i]->kind == QNODE_FIELD ? conjunct_facet(n->kids[i]) : NULL;
		if (!k || (f && strcmp(f, k)))
			return NULL;
		f = k;
	}
	return f;
}

/* Counts per facet value; a facet's own filters are left out of its base, so
 * its other values stay visible (disjunctive facets). */
static struct cache *g_sort_cache; /* for fval_cmp (called under the lock) */

static int fval_cmp(const void *a, const void *b)
{
	const struct fval *x = &g_sort_cache->v[*(const uint32_t *)a], *y = &g_sort_cache->v[*(const uint32_t *)b];

	return strcmp(x->facet, y->facet);
}

/* fval indexes grouped by facet, rebuilt when values were added (values
 * are only ever appended; a reset clears the order). Under the lock. */
static const uint32_t *by_facet(struct cache *c)
{
	if (c->norder != c->nv || !c->order) {
		c->order = realloc(c->order, (c->nv ? c->nv : 1) * sizeof *c->order);
		for (uint32_t i = 0; i < c->nv; i++)
			c->order[i] = i;
		g_sort_cache = c;
		qsort(c->order, c->nv, sizeof *c->order, fval_cmp);
		c->norder = c->nv;
	}
	return c->order;
}

struct vcount {
	const char *value;
	uint64_t n;
};

static int cmp_vcount(const void *a, const void *b)
{
	const struct vcount *x = a, *y = b;

	return x->n < y->n ? 1 : x->n > y->n ? -1 : strcmp(x->value, y->value);
}

/* The base of a facet: everything but that facet's own top-level filters.
 * NULL when the facet has none (the result itself applies). */
static roaring_bitmap_t *facet_base(struct ctx *x, const struct qnode *root, roaring_bitmap_t **kid_bm, int nkids,
				    const char *facet)
{
	roaring_bitmap_t *base;
	bool own = false;

	for (int k = 0; k < nkids && !own; k++) {
		const char *cf = conjunct_facet(root->kind == QNODE_AND ? root->kids[k] : root);
		own = cf && !strcmp(cf, facet);
	}
	if (!own)
		return NULL;
	base = roaring_bitmap_copy(x->universe);
	for (int k = 0; k < nkids; k++) {
		const char *cf = conjunct_facet(root->kind == QNODE_AND ? root->kids[k] : root);
		if (!cf || strcmp(cf, facet))
			roaring_bitmap_and_inplace(base, kid_bm[k]);
	}
	return base;
}

#define COUNT_BY_ROWS_MAX 200000

/* Counts per facet value; a facet's own filters are left out of its base, so
 * its other values stay visible (disjunctive facets). Small results are
 * counted by walking their assets' values; large ones, and facets with their
 * own filters, by bitmap intersections. */
static json_t *facet_counts(struct ctx *x, const struct qnode *root, roaring_bitmap_t **kid_bm, int nkids,
			    const roaring_bitmap_t *result)
{
	struct cache *c = x->c;
	const uint32_t *ord = by_facet(c);
	json_t *out = json_object();
	uint32_t *counts = NULL;
	struct vcount *vc = malloc((c->nv ? c->nv : 1) * sizeof *vc);

	if (roaring_bitmap_get_cardinality(result) <= COUNT_BY_ROWS_MAX) {
		roaring_uint32_iterator_t *it = roaring_create_iterator(result);
		counts = calloc(c->nv ? c->nv : 1, sizeof *counts);
		while (it->has_value) {
			uint32_t row = it->current_value;
			for (uint32_t k = 0; row < c->nown && k < c->own[row].n; k++)
				counts[c->own[row].ids[k]]++;
			roaring_advance_uint32_iterator(it);
		}
		roaring_free_uint32_iterator(it);
	}
	for (uint32_t i = 0; i < c->nv;) {
		const char *facet = c->v[ord[i]].facet;
		roaring_bitmap_t *base = root ? facet_base(x, root, kid_bm, nkids, facet) : NULL;
		json_t *obj = json_object();
		size_t n = 0;
		for (; i < c->nv && !strcmp(c->v[ord[i]].facet, facet); i++) {
			const struct fval *f = &c->v[ord[i]];
			uint64_t k = base || !counts ? roaring_bitmap_and_cardinality(base ? base : result, f->bm) : counts[ord[i]];
			if (k)
				vc[n++] = (struct vcount){ f->value, k };
		}
		bm_free(base);
		qsort(vc, n, sizeof *vc, cmp_vcount);
		for (size_t k = 0; k < n && k < FACET_TOP; k++)
			json_object_set_new(obj, vc[k].value, json_integer((json_int_t)vc[k].n));
		json_object_set_new(out, facet, obj);
	}
	free(counts);
	free(vc);
	return out;
}

/* ---- ordering and pages ---- */

struct hit {
	uint32_t row;
	double key;
	char *name; /* sort by name: the key itself, so cursors survive inserts */
	int dir;    /* name order: 1 = A to Z, -1 = Z to A */
};

static int cmp_hit(const void *a, const void *b)
{
	const struct hit *x = a, *y = b;

	if (x->name && y->name) {
		int c = strcasecmp(x->name, y->name);
		if (!c)
			c = strcmp(x->name, y->name);
		if (c)
			return c * x->dir;
	} else if (x->key != y->key) {
		return x->key < y->key ? -1 : 1;
	}
	return x->row < y->row ? 1 : x->row > y->row ? -1 : 0;
}

/* The hit for row in h (sorted by row), or NULL. */
static struct hit *hit_find(struct hit *h, size_t n, uint32_t row)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (h[mid].row < row)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && h[lo].row == row ? &h[lo] : NULL;
}

static int vmatch_cmp(const void *a, const void *b)
{
	const struct vmatch *x = a, *y = b;

	return x->version < y->version ? -1 : x->version > y->version;
}

/* Several text terms each appended their versions in order: one sorted
 * list without repeats. */
static void vm_sort(struct ctx *x)
{
	size_t w = 0;

	for (size_t i = 1; i < x->nvm; i++)
		if (x->vm[i].version <= x->vm[i - 1].version) {
			qsort(x->vm, x->nvm, sizeof *x->vm, vmatch_cmp);
			break;
		}
	for (size_t i = 0; i < x->nvm; i++)
		if (!w || x->vm[i].version != x->vm[w - 1].version)
			x->vm[w++] = x->vm[i];
	x->nvm = w;
}

/* Deferred ranking (filter-first, or several terms): bm25 of the hits' matching versions only. bm25's
 * inputs besides the row itself (each phrase's document frequency, the
 * average length) are the whole table's, whichever rows are asked for, so
 * the scores - and the order - are those of a full ranking pass. FTS5
 * still walks the doclist, but pays the docsize lookup and the position
 * lists only for the rows the IN list keeps. When most matches are hits,
 * the plain scored pass is cheaper than probing the list. */
static int score_hits(struct ctx *x, struct hit *h, size_t n, const char *fts, bool desc)
{
	struct strbuf ids = STRBUF_INIT;
	struct db_stmt *st = NULL;
	size_t nids = 0;
	int rc = 0;

	vm_sort(x);
	strbuf_addch(&ids, '[');
	for (size_t i = 0; i < x->nvm; i++)
		if (hit_find(h, n, x->vm[i].row))
			strbuf_addf(&ids, "%s%u", nids++ ? "," : "", x->vm[i].version);
	strbuf_addch(&ids, ']');
	if (!nids)
		goto out;
	if (nids * 2 > x->nvm)
		rc = db_query(x->dam->db, &st, x->err, "SELECT rowid, " RANK_SQL " FROM search_fts WHERE search_fts MATCH ?",
			      "s", fts);
	else
		rc = db_query(x->dam->db, &st, x->err,
			      "SELECT rowid, " RANK_SQL " FROM search_fts WHERE search_fts MATCH ?"
			      " AND +rowid IN (SELECT value FROM json_each(?))", "ss", fts, ids.buf);
	if (rc < 0)
		goto out;
	while ((rc = db_step(st, x->err)) == DB_ROW) {
		struct vmatch key = { (uint32_t)db_col_int(st, 0), 0 };
		const struct vmatch *m = bsearch(&key, x->vm, x->nvm, sizeof *x->vm, vmatch_cmp);
		struct hit *t = m ? hit_find(h, n, m->row) : NULL;
		double v = desc ? db_col_double(st, 1) : -db_col_double(st, 1);
		if (t && v < t->key)
			t->key = v;
	}
	rc = rc < 0 ? rc : 0;
out:
	db_finalize(st);
	strbuf_release(&ids);
	return rc;
}

/* Sort keys for hits: bm25 (lower is better), or a number column. */
static int keys_for(struct ctx *x, struct hit *h, size_t n, const char *sort, const char *fts, bool desc)
{
	struct db_stmt *st;
	int rc;

	for (size_t i = 0; i < n; i++)
		h[i].key = INFINITY;
	if (!strcmp(sort, "relevance")) {
		if (!fts)
			return 0;
		if (x->scored && !strcmp(fts, x->rank_fts)) {
			/* Captured while matching: no second FTS5 pass. */
			for (size_t j = 0; j < x->nscores; j++) {
				struct hit *t = hit_find(h, n, x->scores[j].row);
				double v = desc ? x->scores[j].bm25 : -x->scores[j].bm25;
				if (t && v < t->key)
					t->key = v;
			}
			return 0;
		}
		if (x->deferred && !strcmp(fts, x->rank_fts))
			return score_hits(x, h, n, fts, desc);
		/* Every evaluated text term fills x->vm while ranking, so this join
		 * only serves a ranking expression no term covered. */
		rc = db_query(x->dam->db, &st, x->err,
			      "SELECT d.asset_rowid, " RANK_SQL " FROM search_fts f"
			      " JOIN search_docs d ON d.version_rowid = f.rowid WHERE search_fts MATCH ?", "s", fts);
	} else if (!strcmp(sort, "name")) {
		if (x->nkeys) {
			for (size_t i = 0; i < n; i++)
				h[i].key = (desc ? -1.0 : 1.0) * x->nkeys[i];
			return 0;
		}
		rc = db_query(x->dam->db, &st, x->err, "SELECT rowid, name FROM assets", "");
	} else {
		rc = db_query(x->dam->db, &st, x->err, "SELECT asset_rowid, num FROM search_numbers WHERE key=?", "s", sort);
	}
	if (rc < 0)
		return rc;
	{
		/* rows of h are sorted by row: binary search each result. */
		while ((rc = db_step(st, x->err)) == DB_ROW) {
			uint32_t row = (uint32_t)db_col_int(st, 0);
			size_t lo = 0, hi = n;
			double k = !strcmp(sort, "name") ? 0 : db_col_double(st, 1);
			while (lo < hi) {
				size_t mid = (lo + hi) / 2;
				if (h[mid].row < row)
					lo = mid + 1;
				else
					hi = mid;
			}
			if (lo < n && h[lo].row == row) {
				/* bm25: lower is better, so "relevance" is ascending already */
				double v = !strcmp(sort, "relevance") ? (desc ? k : -k) : (desc ? -k : k);
				if (!strcmp(sort, "name")) {
					free(h[lo].name);
					h[lo].name = strdup(db_col_text(st, 1));
					h[lo].dir = desc ? -1 : 1;
					v = 0;
				}
				if (v < h[lo].key)
					h[lo].key = v;
			}
		}
	}
	db_finalize(st);
	return rc < 0 ? rc : 0;
}

static void hit_swap(struct hit *a, struct hit *b)
{
	struct hit t = *a;

	*a = *b;
	*b = t;
}

static void sift_down(struct hit *h, size_t k, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, big = i;
		if (l < k && cmp_hit(&h[l], &h[big]) > 0)
			big = l;
		if (l + 1 < k && cmp_hit(&h[l + 1], &h[big]) > 0)
			big = l + 1;
		if (big == i)
			return;
		hit_swap(&h[i], &h[big]);
		i = big;
	}
}

/* Moves the k first hits in cmp_hit order (of m) to h[0..k), unordered:
 * a max-heap of the best k so far, O(m log k). Swaps, so every name
 * pointer stays in h to be freed. */
static void select_first(struct hit *h, size_t m, size_t k)
{
	if (!k)
		return;
	for (size_t i = k / 2; i-- > 0;)
		sift_down(h, k, i);
	for (size_t i = k; i < m; i++)
		if (cmp_hit(&h[i], &h[0]) < 0) {
			hit_swap(&h[i], &h[0]);
			sift_down(h, k, 0);
		}
}

#define CURSOR_MAX 2048

static void cursor_encode(const struct hit *h, char out[CURSOR_MAX])
{
	char raw[1400];

	if (h->name)
		snprintf(raw, sizeof raw, "n%d/%u/%.1024s", h->dir, h->row, h->name);
	else
		snprintf(raw, sizeof raw, "%.17g/%u", h->key, h->row);
	sodium_bin2base64(out, CURSOR_MAX, (unsigned char *)raw, strlen(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static int cursor_decode(const char *c, struct hit *h)
{
	char raw[1400];
	size_t n = 0;
	int off = 0;

	if (strlen(c) >= CURSOR_MAX ||
	    sodium_base642bin((unsigned char *)raw, sizeof raw - 1, c, strlen(c), NULL, &n, NULL,
			      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
		return -1;
	raw[n] = '\0';
	if (raw[0] == 'n') {
		if (sscanf(raw, "n%d/%u/%n", &h->dir, &h->row, &off) != 2 || !off || (h->dir != 1 && h->dir != -1))
			return -1;
		h->name = strdup(raw + off);
		h->key = 0;
		return h->name ? 0 : -1;
	}
	if (!strcmp(raw, "inf") || sscanf(raw, "%lf/%u", &h->key, &h->row) != 2) {
		if (sscanf(raw, "inf/%u", &h->row) == 1 || sscanf(raw, "+inf/%u", &h->row) == 1) {
			h->key = INFINITY;
			return 0;
		}
		return -1;
	}
	return 0;
}

/* Takes the name-order keys of the hits (and of a name cursor) for
 * page(), building the order on the first name sort. Called with the
 * cache lock. Leaves x->nkeys NULL when a hit is missing from the order. */
static int name_prepare(struct ctx *x, const roaring_bitmap_t *result, const char *cursor)
{
	struct search_names *sn = &x->c->names;
	uint64_t n = roaring_bitmap_get_cardinality(result);
	roaring_uint32_iterator_t *it;
	struct hit after = { 0, 0, NULL, 1 };
	size_t i = 0;
	int rc = 0;

	if (!sn->built && (rc = search_names_build(sn, x->dam, x->err)) < 0)
		return rc;
	if (!(x->nkeys = malloc((n ? n : 1) * sizeof *x->nkeys)))
		return dam_err_set(x->err, DAM_ENOMEM, NULL, "out of memory");
	it = roaring_create_iterator(result);
	for (; it->has_value; roaring_advance_uint32_iterator(it)) {
		int64_t k = search_names_key(sn, it->current_value);
		if (k < 0)
			break;
		x->nkeys[i++] = (uint32_t)k;
	}
	roaring_free_uint32_iterator(it);
	if (i < n) {
		free(x->nkeys);
		x->nkeys = NULL;
		return 0;
	}
	if (cursor && *cursor && cursor_decode(cursor, &after) == 0 && after.name)
		rc = search_names_locate(sn, x->dam, after.name, &x->cursor_nkey, x->err);
	free(after.name);
	return rc;
}

/* Hits sorted through the name order carry no name; their cursor does, so
 * the next page stays exact when assets are added or renamed meanwhile. */
static void cursor_of(struct ctx *x, struct hit *h, int name_dir, char out[CURSOR_MAX])
{
	struct db_stmt *st;

	if (x->nkeys && !h->name &&
	    db_query(x->dam->db, &st, NULL, "SELECT name FROM assets WHERE rowid=?", "i", (int64_t)h->row) == 0) {
		if (db_step(st, NULL) == DB_ROW) {
			h->name = strdup(db_col_text(st, 0));
			h->dir = name_dir;
		}
		db_finalize(st);
	}
	cursor_encode(h, out);
}

/* One hit as the result lists show it. The title is the "title" field (or
 * the first language's of a multi-language one; "title" sorts before
 * "title@.."), so tiles can show it instead of the file name; transparent
 * is the analysis's finding of real transparency (the "transparency"
 * facet), so only those thumbnails sit on a checkerboard. */
static json_t *summary(struct dam *dam, uint32_t row)
{
	struct db_stmt *st;
	json_t *o = NULL;

	if (db_query(dam->db, &st, NULL,
		     "SELECT a.id, a.name, a.kind, v.size, v.status, a.created_at, a.updated_at, v.mime, v.number,"
		     " (SELECT blob_hash FROM renditions r WHERE r.version_id = v.id AND r.name='thumbnail'),"
		     " (SELECT f.value FROM fields f WHERE f.asset_id = a.id AND (f.key='title' OR f.key LIKE 'title@%')"
		     "  AND f.value <> '' ORDER BY f.key LIMIT 1),"
		     " EXISTS (SELECT 1 FROM facet_values fv WHERE fv.asset_rowid = a.rowid AND fv.facet='transparency')"
		     " FROM assets a JOIN versions v ON v.id = a.current_version_id WHERE a.rowid=?", "i", (int64_t)row) < 0)
		return NULL;
	if (db_step(st, NULL) == DB_ROW) {
		o = json_pack("{s:s,s:s,s:s,s:I,s:s,s:o,s:o,s:s,s:I,s:b,s:b}", "id", db_col_text(st, 0), "name", db_col_text(st, 1),
			      "kind", db_col_text(st, 2), "size", (json_int_t)db_col_int(st, 3), "status", db_col_text(st, 4),
			      "created_at", time_json(db_col_int(st, 5)), "updated_at", time_json(db_col_int(st, 6)), "mime", db_col_text(st, 7), "version",
			      (json_int_t)db_col_int(st, 8), "has_thumbnail", !db_col_is_null(st, 9),
			      "transparent", db_col_int(st, 11) != 0);
		if (o && !db_col_is_null(st, 10))
			json_object_set_new(o, "title", json_string(db_col_text(st, 10)));
	}
	db_finalize(st);
	return o;
}

/* The FTS expression of the query's positive text terms, for ranking. */
static void rank_expr(const struct qnode *n, bool neg, struct strbuf *out)
{
	if (n->kind == QNODE_NOT) {
		rank_expr(n->kids[0], !neg, out);
	} else if (n->kind == QNODE_TEXT && !neg) {
		if (out->len)
			strbuf_adds(out, " OR ");
		search_text_match(n->value, n->prefix, out);
	} else if (n->kind == QNODE_AND || n->kind == QNODE_OR) {
		for (int i = 0; i < n->nkids; i++)
			rank_expr(n->kids[i], neg, out);
	}
}

static bool has_text(const struct qnode *n)
{
	if (!n)
		return false;
	if (n->kind == QNODE_TEXT)
		return true;
	for (int i = 0; i < n->nkids; i++)
		if (has_text(n->kids[i]))
			return true;
	return false;
}

static bool sort_valid(const char *s)
{
	static const char *const sorts[] = { "relevance", "created", "updated", "name", "size", NULL };

	return in_list(sorts, s);
}

static bool sort_is_name(const char *s)
{
	return s && (!strcmp(s, "name") || !strcmp(s, "-name"));
}

static int page(struct ctx *x, const roaring_bitmap_t *result, const struct search_request *r, const struct qnode *root,
		json_t *out)
{
	const char *sort = r->sort && *r->sort ? r->sort : has_text(root) ? "relevance" : "created";
	bool asc = sort[0] == '-';
	uint64_t n = roaring_bitmap_get_cardinality(result);
	struct strbuf fts = STRBUF_INIT;
	struct hit *h, after = { 0, 0, NULL, 1 };
	bool has_after = false;
	json_t *items = json_array();
	int limit = r->limit > 0 ? r->limit : 50, got = 0, rc = 0;
	size_t start = 0;

	if (asc)
		sort++;
	if (!sort_valid(sort)) {
		json_decref(items);
		return dam_err_set(x->err, DAM_EINVAL, "sort", "sort is one of relevance, created, updated, name, size (prefix - for ascending)");
	}
	if (r->cursor && *r->cursor) {
		if (cursor_decode(r->cursor, &after) < 0) {
			json_decref(items);
			return dam_err_set(x->err, DAM_EINVAL, "cursor", "cursor is not one this server gave out");
		}
		has_after = true;
		if (x->nkeys && after.name) {
			/* the cursor's place in the name order */
			after.key = (asc ? -1.0 : 1.0) * x->cursor_nkey;
			free(after.name);
			after.name = NULL;
		}
	}
	h = calloc(n ? n : 1, sizeof *h);
	{
		roaring_uint32_iterator_t *it = roaring_create_iterator(result);
		size_t i = 0;
		while (it->has_value) {
			h[i++].row = it->current_value;
			roaring_advance_uint32_iterator(it);
		}
		roaring_free_uint32_iterator(it);
	}
	if (!strcmp(sort, "created")) {
		/* Row ids grow with creation: no lookup needed. */
		for (size_t i = 0; i < n; i++)
			h[i].key = asc ? (double)h[i].row : -(double)h[i].row;
	} else {
		if (!strcmp(sort, "relevance"))
			rank_expr(root, false, &fts); /* same as x->rank_fts */
		/* Newest and largest first by default; names A to Z. "-" inverts. */
		rc = keys_for(x, h, n, sort, fts.len ? fts.buf : NULL, !strcmp(sort, "name") ? asc : !asc);
	}
	if (rc >= 0) {
		/* Only the page is ordered: the hits after the cursor move to the
		 * front (m of them), the first offset + limit of those are
		 * selected with a heap and sorted. */
		size_t m = n, k;
		if (has_after) {
			m = 0;
			for (size_t i = 0; i < n; i++)
				if (cmp_hit(&h[i], &after) > 0)
					hit_swap(&h[m++], &h[i]);
		} else {
			start = r->offset < n ? (size_t)r->offset : n;
		}
		k = start + (size_t)limit;
		if (k < m / 2)
			select_first(h, m, k);
		else
			k = m;
		qsort(h, k, sizeof *h, cmp_hit);
		for (size_t i = start; i < m && got < limit; i++) {
			json_t *s = summary(x->dam, h[i].row);
			if (s)
				json_array_append_new(items, s), got++;
			if (got == limit && i + 1 < m) {
				char cur[CURSOR_MAX];
				cursor_of(x, &h[i], asc ? -1 : 1, cur);
				json_object_set_new(out, "next_cursor", json_string(cur));
			}
		}
	}
	if (!json_object_get(out, "next_cursor"))
		json_object_set_new(out, "next_cursor", json_null());
	json_object_set_new(out, "items", items);
	json_object_set_new(out, "sort", json_string(r->sort && *r->sort ? r->sort : sort));
	for (size_t i = 0; i < n; i++)
		free(h[i].name);
	free(after.name);
	free(h);
	strbuf_release(&fts);
	return rc;
}

/* A top-level conjunct filtering on field alone: field:..., -field:...,
 * or an AND of them (a bucket's "price:>=10 price:<20" is two conjuncts). */
static bool conjunct_on(const struct qnode *n, const char *field)
{
	if (n->kind == QNODE_NOT)
		return conjunct_on(n->kids[0], field);
	return n->kind == QNODE_FIELD && !strcmp(n->name, field);
}

struct range_ctx {
	struct ctx *x;
	const struct qnode *root;
	roaring_bitmap_t **kid_bm;
	int nkids;
};

/* search_range_base_fn: the result without the field's own filters. */
static roaring_bitmap_t *range_base(const char *field, void *arg)
{
	struct range_ctx *rx = arg;
	roaring_bitmap_t *base;
	bool own = false;

	for (int k = 0; k < rx->nkids && !own; k++)
		own = conjunct_on(rx->root->kind == QNODE_AND ? rx->root->kids[k] : rx->root, field);
	if (!own)
		return NULL;
	base = roaring_bitmap_copy(rx->x->universe);
	for (int k = 0; k < rx->nkids; k++)
		if (!conjunct_on(rx->root->kind == QNODE_AND ? rx->root->kids[k] : rx->root, field))
			roaring_bitmap_and_inplace(base, rx->kid_bm[k]);
	return base;
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
	    (in_list(builtin_facets, n->name) || in_list(number_fields, n->name) || !strcmp(n->name, "versions")))
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

/* Evaluates the top-level conjuncts into kid_bm and their intersection
 * into result: the filters first, so that the text conjuncts know how many
 * candidates the filters leave (filter-first relevance). */
static int eval_conjuncts(struct ctx *x, const struct qnode *root, roaring_bitmap_t **kid_bm, int nkids,
			  roaring_bitmap_t *result, const char *q)
{
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1 && x->rank_fts)
			x->filter_first = (double)roaring_bitmap_get_cardinality(result) <
					  FILTER_FIRST_SHARE * (double)roaring_bitmap_get_cardinality(x->universe);
		for (int k = 0; k < nkids; k++) {
			const struct qnode *kid = root->kind == QNODE_AND ? root->kids[k] : root;
			if (has_text(kid) != (pass == 1))
				continue;
			if (!(kid_bm[k] = eval(x, kid, q)))
				return x->err && x->err->code ? x->err->code : DAM_EDB;
			roaring_bitmap_and_inplace(result, kid_bm[k]);
		}
	}
	return 0;
}

int search_run(struct dam *dam, const struct search_request *r, json_t **out, struct dam_err *err)
{
	struct cache *c = &g_cache;
	struct qnode *root = NULL;
	struct query_error qe;
	struct ctx x = { .dam = dam, .c = c, .err = err, .now_ms = r->now_ms ? r->now_ms : search_clock_ms() };
	struct strbuf rank = STRBUF_INIT;
	struct check ck = { &x, r->q ? r->q : "", false, false };
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
		x.typed = last_word(root);
	if ((rc = search_sync(dam, 0, err)) < 0)
		goto out_unlocked;
	pthread_mutex_lock(&c->lock);
	if ((rc = cache_catch_up(c, dam, err)) < 0)
		goto out;
	if (root && (rc = query_fields(root, check_field, &ck)) != 0)
		goto out;
	x.all_versions = ck.versions_all;
	{
		const char *sort = r->sort && *r->sort ? r->sort : has_text(root) ? "relevance" : "created";
		if (!strcmp(sort + (sort[0] == '-'), "relevance") && root) {
			rank_expr(root, false, &rank);
			x.rank_fts = rank.len ? rank.buf : NULL;
		}
	}
	x.universe = facet_union(c, "status", ck.status ? NULL : "deleted");
	if (!root) {
		result = roaring_bitmap_copy(x.universe);
	} else {
		nkids = root->kind == QNODE_AND ? root->nkids : 1;
		kid_bm = calloc((size_t)nkids, sizeof *kid_bm);
		result = roaring_bitmap_copy(x.universe);
		if ((rc = eval_conjuncts(&x, root, kid_bm, nkids, result, q)) < 0)
			goto out;
	}
	o = json_pack("{s:I}", "total", (json_int_t)roaring_bitmap_get_cardinality(result));
	if (r->facets)
		json_object_set_new(o, "facets", facet_counts(&x, root, kid_bm, nkids, result));
	if (sort_is_name(r->sort) && (rc = name_prepare(&x, result, r->cursor)) < 0)
		goto out;
	pthread_mutex_unlock(&c->lock);
	rc = page(&x, result, r, root, o);
	if (rc >= 0 && r->facets) {
		json_t *ranges = NULL;
		struct range_ctx rx = { &x, root, kid_bm, nkids };
		if ((rc = search_ranges(dam, result, range_base, &rx, &ranges, err)) >= 0)
			json_object_set_new(o, "ranges", ranges);
	}
	if (rc >= 0)
		json_object_set_new(o, "synonyms", matched_synonyms(dam, root));
	pthread_mutex_lock(&c->lock);
	if (rc < 0)
		goto out;
	json_object_set_new(o, "took_ms", json_real((time_mono() - t0) * 1000.0));
	*out = o;
	o = NULL;
out:
	pthread_mutex_unlock(&c->lock);
out_unlocked:
	for (int k = 0; k < nkids && kid_bm; k++)
		bm_free(kid_bm[k]);
	free(kid_bm);
	bm_free(result);
	bm_free(x.universe);
	free(x.scores);
	free(x.vm);
	free(x.nkeys);
	strbuf_release(&rank);
	json_decref(o);
	if (rc >= 0 && *out) {
		json_t *ev = json_pack("{s:s,s:I}", "query", q, "results", json_integer_value(json_object_get(*out, "total")));
		event_record(dam, "search", NULL, ev, NULL);
		json_decref(ev);
	}
	query_free(root);
	return rc < 0 ? rc : 0;
}

int search_warm(struct dam *dam, struct dam_err *err)
{
	int rc;

	if ((rc = search_sync(dam, 0, err)) < 0)
		return rc;
	pthread_mutex_lock(&g_cache.lock);
	rc = cache_catch_up(&g_cache, dam, err);
	pthread_mutex_unlock(&g_cache.lock);
	return rc;
}

/* ---- saved searches ---- */

int search_save(struct dam *dam, const char *user_id, const char *name, const char *query, const char *sort,
		bool shared, char id_out[37], struct dam_err *err)
{
	struct qnode *root = NULL;
	struct query_error qe;
	int rc;

	if (!name || !*name || strlen(name) > 200)
		return dam_err_set(err, DAM_EINVAL, "name", "a saved search needs a name of 1-200 bytes");
	if (query && *query && (rc = query_parse(query, strlen(query), &root, &qe)) < 0)
		return query_error_to_dam(&qe, rc, err);
	query_free(root);
	if (sort && *sort && !sort_valid(sort[0] == '-' ? sort + 1 : sort))
		return dam_err_set(err, DAM_EINVAL, "sort", "sort is one of relevance, created, updated, name, size (prefix - for ascending)");
	id_new(id_out);
	rc = db_run(dam->db, err,
		    "INSERT INTO saved_searches(id, user_id, name, query, sort, shared, created_at) VALUES (?,?,?,?,?,?,?)",
		    "sssssii", id_out, user_id, name, query ? query : "", sort, (int64_t)shared, (int64_t)time_now_ms());
	if (rc == DAM_ECONFLICT)
		return dam_err_set(err, DAM_EEXIST, "name", "you already have a saved search named \"%.60s\"", name);
	return rc < 0 ? rc : 0;
}

int search_saved_list(struct dam *dam, const char *user_id, json_t **out, struct dam_err *err)
{
	struct db_stmt *st;
	json_t *a = json_array();
	int rc;

	rc = db_query(dam->db, &st, err,
		      "SELECT id, name, query, ifnull(sort,''), shared, user_id = ? FROM saved_searches"
		      " WHERE user_id = ? OR shared ORDER BY name", "ss", user_id, user_id);
	if (rc < 0) {
		json_decref(a);
		return rc;
	}
	while ((rc = db_step(st, err)) == DB_ROW)
		json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:s,s:b,s:b}", "id", db_col_text(st, 0), "name",
						   db_col_text(st, 1), "query", db_col_text(st, 2), "sort", db_col_text(st, 3),
						   "shared", (int)db_col_int(st, 4), "mine", (int)db_col_int(st, 5)));
	db_finalize(st);
	if (rc < 0) {
		json_decref(a);
		return rc;
	}
	*out = a;
	return 0;
}

int search_saved_delete(struct dam *dam, const char *user_id, const char *id, struct dam_err *err)
{
	int n = db_run(dam->db, err, "DELETE FROM saved_searches WHERE id=? AND user_id=?", "ss", id, user_id);

	if (n == 0)
		return dam_err_set(err, DAM_ENOTFOUND, "id", "no saved search of yours with that id");
	return n < 0 ? n : 0;
}

/* ---- similar images ---- */

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
		     " WHERE d.asset_rowid=? AND d.is_current",
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

int search_similar(struct dam *dam, uint64_t phash, const float *hist, uint32_t exclude_row, int limit,
		   int max_distance, json_t **out, struct dam_err *err)
{
	struct cache *c = &g_cache;
	struct cand *cands = NULL;
	roaring_bitmap_t *live = NULL;
	size_t n = 0, cap = 0;
	json_t *items = json_array();
	double t0 = time_mono();
	int rc;

	*out = NULL;
	if ((rc = search_sync(dam, 0, err)) < 0)
		goto fail;
	pthread_mutex_lock(&c->lock);
	if ((rc = cache_catch_up(c, dam, err)) < 0) {
		pthread_mutex_unlock(&c->lock);
		goto fail;
	}
	live = facet_union(c, "status", "deleted");
	/* One pass over every hash (8 bytes an asset), keeping those within
	 * max_distance; the colour histograms then refine the order. The
	 * popcount comes first: it rejects almost every row, and is far cheaper
	 * than the bitmap lookup. */
	for (uint32_t row = 0; row < c->nphash;) {
		uint32_t near[256];
		int got = scan_hashes(c->phash, c->nphash, &row, phash, max_distance, near, 256);
		for (int i = 0; i < got; i++) {
			uint32_t r = near[i];
			if (!c->has_phash[r] || r == exclude_row || !roaring_bitmap_contains(live, r))
				continue;
			if (n == cap)
				cands = realloc(cands, (cap = cap ? cap * 2 : 256) * sizeof *cands);
			cands[n].row = r;
			cands[n].dist = media_phash_distance(phash, c->phash[r]);
			cands[n].score = cands[n].dist;
			n++;
		}
	}
	pthread_mutex_unlock(&c->lock);
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
		json_t *sm = summary(dam, cands[i].row);
		if (!sm)
			continue;
		json_object_set_new(sm, "distance", json_integer(cands[i].dist));
		json_object_set_new(sm, "score", json_real(cands[i].score));
		json_array_append_new(items, sm);
	}
	bm_free(live);
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
		      "SELECT s.asset_rowid, s.phash, s.hist FROM similarity s JOIN assets a ON a.rowid = s.asset_rowid"
		      " JOIN versions v ON v.rowid = s.version_rowid AND v.id = a.current_version_id WHERE a.id=?",
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

/* ---- facet values for autocompletion ---- */

struct fcount {
	const char *value;
	uint64_t n;
};

static int cmp_fcount(const void *a, const void *b)
{
	const struct fcount *x = a, *y = b;

	int c;

	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	c = strcasecmp(x->value, y->value);
	return c ? c : strcmp(x->value, y->value);
}

int search_facet_values(struct dam *dam, const char *facet, const char *prefix, int limit, json_t **out,
			struct dam_err *err)
{
	struct cache *c = &g_cache;
	roaring_bitmap_t *live = NULL;
	struct fcount *fc = NULL;
	size_t n = 0, plen = strlen(prefix);
	json_t *arr = json_array();
	int rc;

	*out = NULL;
	if ((rc = search_sync(dam, 0, err)) < 0) {
		json_decref(arr);
		return rc;
	}
	pthread_mutex_lock(&c->lock);
	if ((rc = cache_catch_up(c, dam, err)) < 0)
		goto out;
	live = facet_union(c, "status", "deleted");
	fc = malloc((c->nv ? c->nv : 1) * sizeof *fc);
	for (uint32_t i = 0; fc && i < c->nv; i++) {
		const struct fval *f = &c->v[i];
		uint64_t k;
		if (strcmp(f->facet, facet) || strncasecmp(f->value, prefix, plen))
			continue;
		if ((k = roaring_bitmap_and_cardinality(live, f->bm)))
			fc[n++] = (struct fcount){ f->value, k };
	}
	if (fc)
		qsort(fc, n, sizeof *fc, cmp_fcount);
	for (size_t i = 0; i < n && (int)i < limit; i++)
		json_array_append_new(arr, json_pack("{s:s,s:I}", "value", fc[i].value, "count", (json_int_t)fc[i].n));
out:
	pthread_mutex_unlock(&c->lock);
	bm_free(live);
	free(fc);
	if (rc < 0) {
		json_decref(arr);
		return rc;
	}
	*out = arr;
	return 0;
}
