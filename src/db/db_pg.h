/* db_pg.h - the PostgreSQL backend (private to src/db; tests include it). */
#ifndef DAM_DB_PG_H
#define DAM_DB_PG_H

#include "db/db_backend.h" /* declares db_pg_backend */


/* 1 when path names a PostgreSQL database (postgres:// or postgresql://). */
int db_pg_is_url(const char *path);

/* sql with SQLite's placeholders (`?`, `?N`) rewritten to PostgreSQL's `$N`,
 * leaving quoted strings ('..', E'..', $tag$..$tag$), quoted identifiers
 * and comments alone; *nparams gets the highest parameter number. Caller
 * frees the result with free(); NULL when out of memory or a number is out
 * of range (1..32767). */
char *pg__rewrite(const char *sql, int *nparams);

#endif
