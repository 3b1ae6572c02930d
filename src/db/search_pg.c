/*
 * search_pg.c - the PostgreSQL search backend (see search_backend.h): one
 * row per version in search_text (search_pg_ddl.h) holding a tsvector
 * made here from the words of search_pg_text.c, so the words are FTS5's:
 * case and Latin diacritics folded, CJK runs as pairs plus single
 * characters. Columns are weighted A title, B tags, C description, D file
 * name and other, and follow each other with a one-position gap so a
 * phrase never spans two of them. A query is a tsquery of quoted lexemes:
 * a term is the phrase of its words ('a' <-> 'b', the last one ':*' when a
 * prefix), terms are ORed ('|'). Relevance is FTS5's bm25 with the same
 * weights, computed in SQL (RANK_WITH below): the same scores as FTS5 for
 * the same documents (test_search_engine checks them to 1e-5).
 *
 * Matching uses the GIN index on doc:
 *   EXPLAIN SELECT version_num FROM search_text WHERE doc @@ $1::tsquery
 * is a Bitmap Heap Scan on search_text over a Bitmap Index Scan on
 * search_text_doc (test_search_engine checks the plan).
 *
 * Where the time goes (bench/RESULTS.md, 100k and 1M): the GIN index
 * finds the matches in a millisecond or two; the cost is the heap - every
 * matching row is read (~750-byte tuples, one page each: ~1.6 us a row on
 * a quiet core), for the version number alone, and count(*) reads them
 * too - and ts_rank_cd, a few us a row. Text + filters + facets (search
 * evaluates the filters first) needs every matching version for the
 * facet counts, so it reads all matching rows once (unranked), then ranks
 * the filtered hits' versions by primary key with the term's hits that
 * match counted (rank_one_list): no second pass over the matching rows.
 * A text-only search of one term ranks every match in one read, bm25 in C
 * from each row's ts_rank_cd and length (rank_one); of several terms,
 * RANK_WITH counts and RANK_SELECT ranks: two reads. ts_rank_cd for every
 * match is what keeps common words ~2x FTS5, which ranks from its
 * doclists.
 */
#include "db/search_backend.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "db/search_doc.h"
#include "util/grow.h"
#include "db/search_pg_ddl.h"
#include "db/search_pg_text.h"


/* tsvector positions stop at 16383 (later words keep that position: they
 * still match, but not as phrases); a tsvector must stay under 1 MB, so a
 * version's words are indexed up to this budget (lexeme + 6 bytes each,
 * an upper bound of what they take): ~150k words of a PDF's text. */
#define POS_MAX 16383
#define VEC_BUDGET 900000

/*
 * Relevance is FTS5's bm25, computed from what PostgreSQL offers: for each
 * term t of the OR (the expression's top-level " | " parts; a word holds
 * no space), only where t itself matches,
 *   idf(t) * f * (k1 + 1) / (f + k1 * (1 - b + b * len / avgdl))
 * with k1 = 1.2, b = 0.75, idf(t) = ln((N - hits(t) + 0.5) / (hits(t) +
 * 0.5)), at least 1e-6, and f the weighted count of t's occurrences
 * (title 10, tags 5, description 3, file name 2, other 1): ts_rank_cd
 * without normalisation sums, over the covers of a term, its weight when
 * the weights are {D, C, B, A} = {0.1, 0.3, 0.5, 1.0}, so f is 10 times
 * it; the file name counts 2 by being in the tsvector twice (pg_vec).
 * hits(t) is counted through the GIN index; N and avgdl come from the
 * one-row search_text_stats the engine keeps with its rows. (ts_rank has
 * neither document frequencies nor bm25's saturation: with it "sneaker OR
 * jacket" put the common word's short documents first.) Negated: lower
 * is more relevant.
 *
 * The plan matters: w is MATERIALIZED, else PostgreSQL inlines it into
 * the per-row subquery and counts every term's hits once per matching
 * row; the stats row is read by primary key, so the planner expects one
 * row, not a cross join of thousands that made its cost estimate call in
 * JIT (400 ms of compiling for a 3 ms query). Measured on 1M synthetic
 * versions of 30 words (2 shared cores, busy): a word in 364 versions
 * matches in 1-7 ms and ranks in 2-4 ms, one in 931 in 8-11 / 5-9 ms, two
 * ORed 13-16 / 14 ms, a phrase 65-75 / 100-120 ms, a prefix of 250k
 * versions 300-400 ms / 0.9-1.1 s, a word in a quarter of all versions
 * 350-600 ms / 1.6-2.8 s (bm25 reads every matching tsvector).
 */
#define RANK_WITH                                                                                                    \
	"WITH w AS MATERIALIZED (SELECT tq.q, greatest(ln((st.n - h.hits + 0.5) / (h.hits + 0.5)), 1e-6) AS idf"       \
	"  FROM (SELECT greatest(docs, 1) AS n FROM search_text_stats WHERE id = 1) AS st,"                               \
	"  (SELECT CAST(t AS tsquery) AS q FROM unnest(string_to_array(?1, ' | ')) AS t) AS tq,"                         \
	"  LATERAL (SELECT count(*) AS hits FROM search_text WHERE doc @@ tq.q) AS h) "
#define RANK_SELECT                                                                                                  \
	"SELECT s.version_num, -(SELECT sum(w.idf * f * 2.2 / (f + 1.2 * (0.25 + 0.75 * s.len / st.avgdl)))"           \
	"  FROM (SELECT w.idf, 10 * ts_rank_cd('{0.1,0.3,0.5,1.0}', s.doc, w.q, 0) AS f FROM w"                          \
	"   WHERE s.doc @@ w.q) AS w)"                                                                                  \
	" FROM search_text s,"                                                                                            \
	"  (SELECT greatest(words, 1)::float8 / greatest(docs, 1) AS avgdl FROM search_text_stats WHERE id = 1) AS st"   \
	" WHERE s.doc @@ CAST(?1 AS tsquery)"

/* Where the words of one text go. */
struct sink {
	struct strbuf *words, *uni;
};

static int sink_word(const char *word, size_t len, bool unigram, void *arg)
{
	struct sink *k = arg;
	struct strbuf *sb = unigram ? k->uni : k->words;
	int rc = strbuf_add(sb, word, len);

	return rc < 0 ? rc : strbuf_addch(sb, ' ');
}

static int pg_doc_add(struct search_doc *d, enum search_col col, const char *text)
{
	struct sink k;

	if ((int)col < 0 || col >= SEARCH_NCOLS)
		return DAM_EINVAL;
	k.words = &d->col[col];
	k.uni = &d->uni;
	return pg_text_words(text ? text : "", sink_word, &k);
}

/* A tsvector being written: 'word':12A 'other':13A ... */
struct vec {
	struct strbuf text;
	int pos;      /* the next word's position */
	size_t bytes; /* the budget spent */
	int64_t len;  /* words indexed (bm25's document length) */
};

/* Appends the space-separated words with weight w (counted in the
 * document's length unless a copy). */
static int vec_add(struct vec *v, const char *words, char w, bool copy)
{
	int rc = 0;

	for (const char *p = words; *p && rc >= 0;) {
		const char *e = strchr(p, ' ');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len && v->bytes + len + 6 <= VEC_BUDGET) {
			v->bytes += len + 6;
			v->len += !copy;
			if ((rc = pg_text_quote(p, len, &v->text)) >= 0)
				rc = strbuf_addf(&v->text, ":%d%c ", v->pos < POS_MAX ? v->pos : POS_MAX, w);
			v->pos++;
		}
		p += len + (e ? 1 : 0);
	}
	return rc;
}

/* The version's tsvector: its file name before the asset's name; in
 * "other", the fields, the version's own text (a PDF's pages), then the
 * single CJK characters of everything - as FTS5's columns. */
static int pg_vec(struct vec *v, const struct search_doc *d, const char *filename, const char *body)
{
	static const char weight[SEARCH_NCOLS] = { 'A', 'B', 'C', 'D', 'D' };
	struct strbuf fname = STRBUF_INIT, other = STRBUF_INIT, uni = STRBUF_INIT;
	struct sink k = { &fname, &uni };
	int rc;

	if ((rc = pg_text_words(filename ? filename : "", sink_word, &k)) < 0 ||
	    (rc = strbuf_add(&fname, d->col[SEARCH_COL_FILENAME].buf, d->col[SEARCH_COL_FILENAME].len)) < 0 ||
	    (rc = strbuf_add(&other, d->col[SEARCH_COL_OTHER].buf, d->col[SEARCH_COL_OTHER].len)) < 0)
		goto out;
	k.words = &other;
	if ((body && (rc = pg_text_words(body, sink_word, &k)) < 0) || (rc = strbuf_add(&other, uni.buf, uni.len)) < 0 ||
	    (rc = strbuf_add(&other, d->uni.buf, d->uni.len)) < 0)
		goto out;
	for (int c = 0; c < SEARCH_NCOLS && rc >= 0; c++) {
		const struct strbuf *words = c == SEARCH_COL_FILENAME ? &fname : c == SEARCH_COL_OTHER ? &other : &d->col[c];
		rc = vec_add(v, words->buf, weight[c], false);
		v->pos++; /* the gap between columns */
		if (c == SEARCH_COL_FILENAME && rc >= 0) { /* twice: weight 2 (RANK_WITH) */
			rc = vec_add(v, words->buf, weight[c], true);
			v->pos++;
		}
	}
out:
	strbuf_release(&uni);
	strbuf_release(&other);
	strbuf_release(&fname);
	return rc;
}

static int pg_index(struct db *db, int64_t version, const struct search_doc *d, const char *filename, const char *body,
		    struct dam_err *err)
{
	struct vec v = { .text = STRBUF_INIT, .pos = 1 };
	int rc;

	if ((rc = pg_vec(&v, d, filename, body)) < 0)
		rc = dam_err_set(err, rc, NULL, "out of memory");
	else
		rc = db_run(db, err,
			    "WITH i AS (INSERT INTO search_text(version_num, len, doc) VALUES (?, ?, CAST(? AS tsvector))"
			    " RETURNING len) UPDATE search_text_stats SET docs = docs + 1, words = words + (SELECT len FROM i)",
			    "iis", version, v.len, v.text.buf);
	strbuf_release(&v.text);
	return rc < 0 ? rc : 0;
}

static int pg_unindex(struct db *db, int64_t version, struct dam_err *err)
{
	int rc = db_run(db, err,
			"WITH d AS (DELETE FROM search_text WHERE version_num = ? RETURNING len)"
			" UPDATE search_text_stats SET docs = docs - (SELECT count(*) FROM d),"
			" words = words - (SELECT coalesce(sum(len), 0) FROM d) WHERE EXISTS (SELECT 1 FROM d)",
			"i", version);

	return rc < 0 ? rc : 0;
}

/* One term as a phrase: ('a' <-> 'b':*). */
struct phrase {
	struct strbuf *out;
	int nwords;
};

static int phrase_word(const char *word, size_t len, bool unigram, void *arg)
{
	struct phrase *p = arg;
	int rc;

	if (unigram) /* the pairs of the run stand for it */
		return 0;
	rc = strbuf_adds(p->out, p->nwords++ ? " <-> " : "(");
	return rc < 0 ? rc : pg_text_quote(word, len, p->out);
}

/* 'word' | ('a' <-> 'b':*) ... ; a term without words (only punctuation)
 * matches nothing, as FTS5's empty phrase, so it is left out; when every
 * term is, the expression is empty and matches nothing. */
static int pg_expr(const struct search_term *terms, size_t n, struct strbuf *out)
{
	size_t start = out->len;
	int rc = 0;

	for (size_t i = 0; i < n && rc >= 0; i++) {
		size_t at = out->len;
		struct phrase p = { out, 0 };
		if (out->len > start)
			rc = strbuf_adds(out, " | ");
		if (rc >= 0)
			rc = pg_text_words(terms[i].value, phrase_word, &p);
		if (rc >= 0 && !p.nwords) {
			out->buf[out->len = at] = '\0';
			continue;
		}
		if (rc >= 0 && terms[i].prefix)
			rc = strbuf_adds(out, ":*");
		if (rc >= 0)
			rc = strbuf_addch(out, ')');
	}
	return rc < 0 ? rc : 0;
}

/*
 * One term is ranked in C, from each row's f (ts_rank_cd as RANK_SELECT
 * has it) and length, with the term's hits counted where the rows are
 * read anyway: a ranked pass has them all (hits = its rows), and a list
 * of versions takes what an unranked match of the term counted
 * (search_hits). RANK_WITH's own count is a bitmap heap scan over every
 * matching row (PostgreSQL reads the heap for count(*) over a GIN match
 * too), as long as the match itself - the second read this spares; it is
 * left only for a list whose hits nobody counted. (count(*) OVER () in
 * the ranked statement was slower: the WindowAgg buffers every row.)
 */
#define ONE_ROWS                                                                                                     \
	"SELECT s.version_num, 10 * ts_rank_cd('{0.1,0.3,0.5,1.0}', s.doc, CAST(?1 AS tsquery), 0), s.len"              \
	" FROM search_text s WHERE s.doc @@ CAST(?1 AS tsquery)"

/* bm25's N and average length (the stats row). */
struct bm25 {
	double n, avgdl;
};

static int bm25_read(struct db *db, struct bm25 *b, struct dam_err *err)
{
	struct db_stmt *st;
	int rc;

	if ((rc = db_query(db, &st, err,
			   "SELECT greatest(docs, 1), greatest(words, 1)::float8 / greatest(docs, 1) FROM search_text_stats"
			   " WHERE id = 1", "")) < 0)
		return rc;
	if ((rc = db_step(st, err)) == DB_ROW) {
		b->n = db_col_double(st, 0);
		b->avgdl = db_col_double(st, 1);
	}
	db_finalize(st);
	return rc < 0 ? rc : rc == DB_ROW ? 0 : dam_err_set(err, DAM_EDB, NULL, "search_text_stats has no row");
}

/* RANK_SELECT's formula for one term (lower is more relevant). */
static double bm25_score(const struct bm25 *b, int64_t hits, double f, double len)
{
	double idf = log((b->n - (double)hits + 0.5) / ((double)hits + 0.5));

	return -((idf > 1e-6 ? idf : 1e-6) * f * 2.2 / (f + 1.2 * (0.25 + 0.75 * len / b->avgdl)));
}

/* A row of ONE_ROWS. */
struct one_row {
	int64_t version;
	double f, len;
};

/* Reads the rows of st (ONE_ROWS), then calls fn with each one's score;
 * hits < 0: the rows are every match (hits = their number). *rows gets
 * their number. */
static int rank_one(struct db_stmt *st, const struct bm25 *b, int64_t hits, search_match_fn fn, void *arg,
		    int64_t *rows, struct dam_err *err)
{
	struct one_row *r = NULL;
	size_t n = 0, cap = 0;
	int rc;

	while ((rc = db_step(st, err)) == DB_ROW) {
		if (GROW(&r, &cap, n + 1, 1024) < 0) {
			rc = dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
			break;
		}
		r[n++] = (struct one_row){ db_col_int(st, 0), db_col_double(st, 1), db_col_double(st, 2) };
	}
	db_finalize(st);
	if (hits < 0)
		hits = (int64_t)n;
	for (size_t i = 0; i < n && rc >= 0; i++)
		rc = fn(r[i].version, bm25_score(b, hits, r[i].f, r[i].len), arg);
	free(r);
	*rows = (int64_t)n;
	return rc < 0 ? rc : 0;
}

/* An expression of one term (pg_expr joins terms with " | "; a word
 * holds no space). */
static bool one_term(const char *expr)
{
	return !strstr(expr, " | ");
}

/* Steps a (version, [rank]) query to its end through fn; *rows (may be
 * NULL) gets the number of rows. */
static int each_row(struct db_stmt *st, bool ranked, search_match_fn fn, void *arg, int64_t *rows,
		    struct dam_err *err)
{
	int64_t n = 0;
	int rc;

	while ((rc = db_step(st, err)) == DB_ROW) {
		n++;
		if ((rc = fn(db_col_int(st, 0), ranked ? db_col_double(st, 1) : 0, arg)) < 0)
			break;
	}
	db_finalize(st);
	if (rows)
		*rows = n;
	return rc < 0 ? rc : 0;
}

/* Every row of a match of one term is a hit of that term: counted for a
 * later pg_rank (several terms are not: RANK_WITH counts each). */
static int pg_match(struct db *db, const char *expr, bool ranked, search_match_fn fn, void *arg,
		    struct search_hits *hits, struct dam_err *err)
{
	bool one = one_term(expr);
	struct db_stmt *st;
	int64_t rows = 0;
	int rc;

	if (hits)
		hits->n = 0;
	if (!*expr)
		return 0;
	if (ranked && one) {
		struct bm25 b;
		if ((rc = bm25_read(db, &b, err)) < 0 || (rc = db_query(db, &st, err, ONE_ROWS, "s", expr)) < 0 ||
		    (rc = rank_one(st, &b, -1, fn, arg, &rows, err)) < 0)
			return rc;
	} else {
		rc = ranked ? db_query(db, &st, err, RANK_WITH RANK_SELECT, "s", expr)
			    : db_query(db, &st, err, "SELECT version_num FROM search_text WHERE doc @@ CAST(? AS tsquery)",
				       "s", expr);
		if (rc < 0 || (rc = each_row(st, ranked, fn, arg, &rows, err)) < 0)
			return rc;
	}
	if (hits && one) {
		hits->n = 1;
		hits->hits[0] = rows;
	}
	return 0;
}

/* One term's versions in the list ids (a bigint[] literal), ranked with
 * the hits a match counted, else counted now. */
static int rank_one_list(struct db *db, const char *expr, const char *ids, const struct search_hits *hits,
			 search_match_fn fn, void *arg, struct dam_err *err)
{
	struct db_stmt *st;
	struct bm25 b;
	int64_t h = 0, rows;
	int rc;

	if (hits && hits->n == 1)
		h = hits->hits[0];
	else if ((rc = db_query_int(db, &h, err, "SELECT count(*) FROM search_text WHERE doc @@ CAST(? AS tsquery)", "s",
				    expr)) < 0)
		return rc;
	if ((rc = bm25_read(db, &b, err)) < 0 ||
	    (rc = db_query(db, &st, err, ONE_ROWS " AND s.version_num = ANY(CAST(?2 AS bigint[]))", "ss", expr, ids)) < 0)
		return rc;
	return rank_one(st, &b, h, fn, arg, &rows, err);
}

/* The statistics (N, avgdl, each term's hits) are the table's whatever
 * versions are asked for, so the scores are those of a full pass; the
 * versions are found by primary key. When most matches are asked for, the
 * plain ranked pass does as well with one statement fewer to plan. */
static int pg_rank(struct db *db, const char *expr, const struct search_hits *hits, const uint32_t *versions, size_t n,
		   size_t nmatched, search_match_fn fn, void *arg, struct dam_err *err)
{
	struct strbuf ids = STRBUF_INIT;
	struct db_stmt *st;
	int rc = 0;

	if (!n || !*expr)
		return 0;
	if (n * 2 > nmatched)
		return pg_match(db, expr, true, fn, arg, NULL, err);
	strbuf_addch(&ids, '{');
	for (size_t i = 0; i < n && rc >= 0; i++)
		rc = strbuf_addf(&ids, "%s%u", i ? "," : "", versions[i]);
	if (rc < 0 || (rc = strbuf_addch(&ids, '}')) < 0) {
		strbuf_release(&ids);
		return dam_err_set(err, rc, NULL, "out of memory");
	}
	if (one_term(expr))
		rc = rank_one_list(db, expr, ids.buf, hits, fn, arg, err);
	else if ((rc = db_query(db, &st, err, RANK_WITH RANK_SELECT " AND s.version_num = ANY(CAST(?2 AS bigint[]))",
				"ss", expr, ids.buf)) >= 0)
		rc = each_row(st, true, fn, arg, NULL, err);
	strbuf_release(&ids);
	return rc < 0 ? rc : 0;
}

const struct search_backend search_pg_backend = {
	.name = "pg",
	.ddl = SEARCH_PG_DDL,
	.doc_new = search_doc_new,
	.doc_add = pg_doc_add,
	.doc_free = search_doc_free,
	.index = pg_index,
	.unindex = pg_unindex,
	.expr = pg_expr,
	.match = pg_match,
	.rank = pg_rank,
};
