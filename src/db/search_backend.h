/*
 * search_backend.h - the full-text engine behind search, as a table of
 * functions: FTS5 on SQLite (search_fts5.c), PostgreSQL full text
 * (tsvector of FTS5's words, search_pg.c). Everything engine-specific lives
 * behind it - the index's DDL and tokenizer, how a document is laid out,
 * the match syntax, the ranking function - so the evaluation in core/
 * never knows which engine it talks to.
 *
 * The engine indexes versions, by their version id (today the version's
 * rowid); mapping versions to assets is the caller's (search_docs and the
 * search cache). Relevance is a number where lower is more relevant
 * (FTS5's bm25() with the weights title 10, tags 5, description 3, file
 * name 2, other 1).
 *
 * A text query reaches the engine as terms (literal words or phrases,
 * each possibly a prefix); expr() turns an OR of terms into the engine's
 * expression, an opaque string the caller only compares (two equal
 * expressions match the same versions) and hands back to match() and
 * rank(). No syntax of the engine can come through a term's value.
 *
 * Ownership: doc_new() returns a document freed with doc_free(); strings
 * passed in are borrowed for the call. Thread-safety: the functions keep
 * no state; each call uses the given connection (one thread at a time).
 */
#ifndef DAM_DB_SEARCH_BACKEND_H
#define DAM_DB_SEARCH_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db/db.h"
#include "util/err.h"
#include "util/strbuf.h"

/* Where a text of an asset goes; the order is the weight order. */
enum search_col {
	SEARCH_COL_TITLE,
	SEARCH_COL_TAGS,
	SEARCH_COL_DESCRIPTION,
	SEARCH_COL_FILENAME,
	SEARCH_COL_OTHER,
};

/* The asset's part of its versions' documents (the backend's own). */
struct search_doc;

/* One term of a text query: a literal word or phrase (valid UTF-8) and
 * whether it is also a prefix of longer words. */
struct search_term {
	const char *value;
	bool prefix;
};

/* Ranking's document frequencies, as a match counted them: for each term
 * of an expression (the engine's terms, in its order), the versions of the
 * whole index it matches. An engine that ranks by reading the matching
 * rows again counts them while it reads them once for the match, so a
 * rank() of the same expression right after does not read them twice.
 * n = 0: not counted. */
#define SEARCH_HITS_MAX 16
struct search_hits {
	size_t n;
	int64_t hits[SEARCH_HITS_MAX];
};

/* Called for each matching version with its relevance (0 when unranked).
 * Returns 0 to go on, or a negative DAM_E* to stop the match with it. */
typedef int (*search_match_fn)(int64_t version, double rank, void *arg);

struct search_backend {
	const char *name;
	/* The engine's own tables, as the library's migrations create them
	 * (SQLite: migration 5 holds this text; a test keeps the two equal). */
	const char *ddl;

	/* An asset's texts, added column by column in the order they come
	 * (phrases span the texts of one column in that order). */
	struct search_doc *(*doc_new)(void);
	int (*doc_add)(struct search_doc *d, enum search_col col, const char *text);
	void (*doc_free)(struct search_doc *d);

	/* Indexes one version: the asset's document plus the version's own
	 * file name and extracted text (body may be NULL). Inside the caller's
	 * transaction. */
	int (*index)(struct db *db, int64_t version, const struct search_doc *d, const char *filename, const char *body,
		     struct dam_err *err);
	/* Removes a version from the index (no error when it is not there). */
	int (*unindex)(struct db *db, int64_t version, struct dam_err *err);

	/* Appends to out the expression matching any of the n terms (n = 0:
	 * nothing is appended). 0 or DAM_ENOMEM. */
	int (*expr)(const struct search_term *terms, size_t n, struct strbuf *out);
	/* Calls fn for every version matching expr, with its relevance when
	 * ranked (ranking costs: FTS5's bm25 is ~20x the match itself). hits
	 * (may be NULL): the engine may count them for a later rank() of
	 * expr (n = 0 when it does not; FTS5 keeps its own). */
	int (*match)(struct db *db, const char *expr, bool ranked, search_match_fn fn, void *arg, struct search_hits *hits,
		     struct dam_err *err);
	/* Calls fn with the relevance of each of the n versions (ascending,
	 * no repeats) that matches expr - scores equal to a full ranked match()
	 * of expr, whichever versions are asked for. nmatched is how many
	 * versions the caller knows to match in all: the engine may then rank
	 * every match instead (cheaper when most are asked for), so fn may
	 * also see versions not in the list, which the caller ignores. hits
	 * (may be NULL): what a match() of expr counted during this search,
	 * used instead of counting again. */
	int (*rank)(struct db *db, const char *expr, const struct search_hits *hits, const uint32_t *versions, size_t n,
		    size_t nmatched, search_match_fn fn, void *arg, struct dam_err *err);
};

/* The engine a database's search uses (SQLite: FTS5; PostgreSQL: its
 * full-text search, search_pg.c). Static; never NULL. */
const struct search_backend *search_backend_for(struct db *db);

extern const struct search_backend search_fts5_backend;
extern const struct search_backend search_pg_backend;

#endif
