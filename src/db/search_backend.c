/* search_backend.c - which full-text engine a database uses (search_backend.h),
 * and the document both engines keep (search_doc.h). */
#include "db/search_backend.h"

#include <stdlib.h>
#include <string.h>

#include "db/search_doc.h"

const struct search_backend *search_backend_for(struct db *db)
{
	return strcmp(db_engine(db), "postgresql") ? &search_fts5_backend : &search_pg_backend;
}

struct search_doc *search_doc_new(void)
{
	struct search_doc *d = calloc(1, sizeof *d);

	if (!d)
		return NULL;
	for (int i = 0; i < SEARCH_NCOLS; i++)
		strbuf_init(&d->col[i], 0);
	strbuf_init(&d->uni, 0);
	return d;
}

void search_doc_free(struct search_doc *d)
{
	if (!d)
		return;
	for (int i = 0; i < SEARCH_NCOLS; i++)
		strbuf_release(&d->col[i]);
	strbuf_release(&d->uni);
	free(d);
}
