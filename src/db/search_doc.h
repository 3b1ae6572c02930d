/*
 * search_doc.h - the asset's part of its versions' documents, as both
 * full-text engines of src/db keep it (private to src/db): each column's
 * words as the engine made them, and the single CJK characters of every
 * column apart (indexed under "other" after the rest, so phrases within
 * a column keep their order). The engines differ in how they make the
 * words (search_fts5_text.h, search_pg_text.h), not in what they keep.
 *
 * Ownership: search_doc_new() gives a document the caller frees with
 * search_doc_free() (NULL is fine).
 */
#ifndef DAM_DB_SEARCH_DOC_H
#define DAM_DB_SEARCH_DOC_H

#include "db/search_backend.h"
#include "util/strbuf.h"

#define SEARCH_NCOLS (SEARCH_COL_OTHER + 1)

struct search_doc {
	struct strbuf col[SEARCH_NCOLS]; /* by enum search_col; FILENAME holds the asset's name */
	struct strbuf uni;               /* single CJK characters of every column */
};

/* NULL when out of memory. */
struct search_doc *search_doc_new(void);
void search_doc_free(struct search_doc *d);

#endif
