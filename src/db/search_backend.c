/* search_backend.c - which full-text engine a database uses (search_backend.h). */
#include "db/search_backend.h"

#include <string.h>

const struct search_backend *search_backend_for(struct db *db)
{
	return strcmp(db_engine(db), "postgresql") ? &search_fts5_backend : &search_pg_backend;
}
