/*
 * search_fts5.c - the FTS5 search backend (see search_backend.h): one
 * FTS5 row per version in search_fts (rowid = the version's rowid),
 * unicode61 with diacritics removed, prefix indexes of 2 and 3
 * characters, CJK runs as overlapping pairs (search_fts5_text.c), bm25
 * with weights title 10 > tags 5 > description 3 > file name 2 > other 1.
 */
#include "db/search_backend.h"

#include <stdlib.h>

#include "db/search_doc.h"
#include "db/search_fts5_text.h"

#define RANK_SQL "bm25(search_fts, 10.0, 5.0, 3.0, 2.0, 1.0)"

static int fts5_doc_add(struct search_doc *d, enum search_col col, const char *text)
{
	if ((int)col < 0 || col >= SEARCH_NCOLS)
		return DAM_EINVAL;
	return fts5_text_index(text, &d->col[col], &d->uni);
}

/* The version's columns: its file name before the asset's name; in
 * "other", the fields, the version's own text (a PDF's pages), then the
 * single CJK characters of everything - after, so phrases within the
 * fields keep their order. */
static int fts5_index(struct db *db, int64_t version, const struct search_doc *d, const char *filename,
		      const char *body, struct dam_err *err)
{
	struct strbuf fname = STRBUF_INIT, other = STRBUF_INIT, uni = STRBUF_INIT;
	int rc;

	fts5_text_index(filename ? filename : "", &fname, &uni);
	strbuf_add(&fname, d->col[SEARCH_COL_FILENAME].buf, d->col[SEARCH_COL_FILENAME].len);
	strbuf_add(&other, d->col[SEARCH_COL_OTHER].buf, d->col[SEARCH_COL_OTHER].len);
	if (body)
		fts5_text_index(body, &other, &uni);
	strbuf_addch(&other, ' ');
	strbuf_add(&other, uni.buf, uni.len);
	strbuf_addch(&other, ' ');
	if ((rc = strbuf_add(&other, d->uni.buf, d->uni.len)) < 0)
		rc = dam_err_set(err, rc, NULL, "out of memory");
	else
		rc = db_run(db, err, "INSERT INTO search_fts(rowid, title, tags, description, filename, other) VALUES (?,?,?,?,?,?)",
			    "isssss", version, d->col[SEARCH_COL_TITLE].buf, d->col[SEARCH_COL_TAGS].buf,
			    d->col[SEARCH_COL_DESCRIPTION].buf, fname.buf, other.buf);
	strbuf_release(&uni);
	strbuf_release(&other);
	strbuf_release(&fname);
	return rc < 0 ? rc : 0;
}

static int fts5_unindex(struct db *db, int64_t version, struct dam_err *err)
{
	int rc = db_run(db, err, "DELETE FROM search_fts WHERE rowid=?", "i", version);

	return rc < 0 ? rc : 0;
}

/* "word" OR "other"* OR "a phrase" ... */
static int fts5_expr(const struct search_term *terms, size_t n, struct strbuf *out)
{
	int rc = 0;

	for (size_t i = 0; i < n && rc >= 0; i++) {
		if (i)
			strbuf_adds(out, " OR ");
		rc = fts5_text_match(terms[i].value, terms[i].prefix, out);
	}
	return rc < 0 ? rc : 0;
}

/* Steps a (version, [rank]) query to its end through fn. */
static int each_row(struct db_stmt *st, bool ranked, search_match_fn fn, void *arg, struct dam_err *err)
{
	int rc;

	while ((rc = db_step(st, err)) == DB_ROW)
		if ((rc = fn(db_col_int(st, 0), ranked ? db_col_double(st, 1) : 0, arg)) < 0)
			break;
	db_finalize(st);
	return rc < 0 ? rc : 0;
}

static int fts5_match(struct db *db, const char *expr, bool ranked, search_match_fn fn, void *arg,
		      struct search_hits *hits, struct dam_err *err)
{
	struct db_stmt *st;
	int rc;

	if (hits) /* FTS5's bm25 has its own */
		hits->n = 0;
	rc = ranked ? db_query(db, &st, err, "SELECT rowid, " RANK_SQL " FROM search_fts WHERE search_fts MATCH ?", "s", expr)
		    : db_query(db, &st, err, "SELECT rowid FROM search_fts WHERE search_fts MATCH ?", "s", expr);
	return rc < 0 ? rc : each_row(st, ranked, fn, arg, err);
}

/* bm25's inputs besides the row itself (each phrase's document frequency,
 * the average length) are the whole table's, whichever rows are asked
 * for, so the scores are those of a full ranked pass. FTS5 still walks the
 * doclist, but pays the docsize lookup and the position lists only for
 * the rows the IN list keeps; the `+` keeps SQLite from handing the IN to
 * FTS5 as one rowid lookup (one FTS5 query, IDF included) per value. When
 * most matches are asked for, the plain ranked pass is cheaper. */
static int fts5_rank(struct db *db, const char *expr, const struct search_hits *hits, const uint32_t *versions,
		     size_t n, size_t nmatched, search_match_fn fn, void *arg, struct dam_err *err)
{
	struct strbuf ids = STRBUF_INIT;
	struct db_stmt *st;
	int rc = 0;

	(void)hits;
	if (!n)
		return 0;
	if (n * 2 > nmatched)
		return fts5_match(db, expr, true, fn, arg, NULL, err);
	strbuf_addch(&ids, '[');
	for (size_t i = 0; i < n && rc >= 0; i++)
		rc = strbuf_addf(&ids, "%s%u", i ? "," : "", versions[i]);
	if (rc < 0 || (rc = strbuf_addch(&ids, ']')) < 0) {
		strbuf_release(&ids);
		return dam_err_set(err, rc, NULL, "out of memory");
	}
	rc = db_query(db, &st, err,
		      "SELECT rowid, " RANK_SQL " FROM search_fts WHERE search_fts MATCH ?"
		      " AND +rowid IN (SELECT value FROM json_each(?))", "ss", expr, ids.buf);
	strbuf_release(&ids);
	return rc < 0 ? rc : each_row(st, true, fn, arg, err);
}

const struct search_backend search_fts5_backend = {
	.name = "fts5",
	.ddl = "CREATE VIRTUAL TABLE search_fts USING fts5(title, tags, description, filename, other,"
	       "  tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3')",
	.doc_new = search_doc_new,
	.doc_add = fts5_doc_add,
	.doc_free = search_doc_free,
	.index = fts5_index,
	.unindex = fts5_unindex,
	.expr = fts5_expr,
	.match = fts5_match,
	.rank = fts5_rank,
};
