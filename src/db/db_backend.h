/* db_backend.h - the table each database engine fills (private to src/db). */
#ifndef DAM_DB_BACKEND_H
#define DAM_DB_BACKEND_H

#include "db/db.h"

struct db_backend {
	const char *name;
	int (*open)(const char *path, void **conn, struct dam_err *err);
	void (*close)(void *conn);
	int (*exec)(void *conn, const char *sql, struct dam_err *err);
	/* persistent: the statement will be kept and reused (a hint). */
	int (*prepare)(void *conn, const char *sql, int persistent, void **st, struct dam_err *err);
	int (*bind_text)(void *st, int i, const char *s);
	int (*bind_int)(void *st, int i, int64_t v);
	int (*bind_double)(void *st, int i, double v);
	int (*bind_blob)(void *st, int i, const void *p, size_t n);
	int (*bind_null)(void *st, int i);
	int (*step)(void *conn, void *st, struct dam_err *err);
	int (*reset)(void *st); /* also clears the bindings */
	void (*finalize)(void *st);
	int (*col_count)(void *st);
	int (*col_is_null)(void *st, int c);
	const char *(*col_text)(void *st, int c);
	int64_t (*col_int)(void *st, int c);
	double (*col_double)(void *st, int c);
	const void *(*col_blob)(void *st, int c, size_t *len);
	int (*get_version)(void *conn, int *v, struct dam_err *err);
	int (*set_version)(void *conn, int v, struct dam_err *err);
	int64_t (*changes)(void *conn);
	int64_t (*total_changes)(void *conn);   /* rows changed by this connection, ever */
	/* Commits the transaction db_begin opened; NULL: exec "COMMIT". */
	int (*commit)(void *conn, struct dam_err *err);
	/* db_wait_change; NULL: db.c polls db_data_version. */
	int (*wait_change)(void *conn, int timeout_ms, struct dam_err *err);
	const char *data_version_sql;           /* one integer: changes by others */
	const char *begin_sql;
	const char *durable_sql[2]; /* [0] off (the default), [1] on */
};

extern const struct db_backend db_sqlite_backend;

#endif
