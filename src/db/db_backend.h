/* db_backend.h - the table each database engine fills (private to src/db). */
#ifndef DAM_DB_BACKEND_H
#define DAM_DB_BACKEND_H

#include "db/db.h"

/*
 * The dialect pieces (db.h, "Dialect pieces"), by number; db.c maps the
 * names to these. Each backend gives a template per piece in which %1..%9
 * stand for the piece's arguments as the caller wrote them. SQLite's are in
 * db_sqlite.c. PostgreSQL's (db_pg.c) must be:
 *   DB_PIECE_JSON_TEXT  "(%1::jsonb ->> '%2')"
 *   DB_PIECE_JSON_INT   "(CASE jsonb_typeof(%1::jsonb -> '%2')"
 *                       " WHEN 'boolean' THEN ((%1::jsonb ->> '%2')::boolean)::int"
 *                       " WHEN 'number' THEN (%1::jsonb ->> '%2')::numeric::bigint END)"
 *   DB_PIECE_JSON_AGG   "coalesce(json_agg(%1 ORDER BY %2), '[]')"
 *   DB_PIECE_STR_AGG    "string_agg(%1, %3 ORDER BY %2)"
 *   DB_PIECE_SKIP_LOCKED " FOR UPDATE SKIP LOCKED"
 *   DB_PIECE_CI_EQ      "lower(%1) = lower(%2)"
 */
enum db_piece {
	DB_PIECE_JSON_TEXT, /* {{json_text(doc, key)}} */
	DB_PIECE_JSON_INT,  /* {{json_int(doc, key)}} */
	DB_PIECE_JSON_AGG,  /* {{json_agg(value, order)}} */
	DB_PIECE_STR_AGG,   /* {{str_agg(value, order, 'separator')}} */
	DB_PIECE_SKIP_LOCKED, /* {{skip_locked}} */
	DB_PIECE_CI_EQ,     /* {{ci_eq(column, value)}} */
	DB_PIECE_COUNT
};

struct db_backend {
	const char *name;
	/* True when path names a database of this engine (db_open asks each
	 * backend in turn); NULL: any path, the last resort (SQLite's files). */
	int (*claims)(const char *path);
	/* password: for the server (NULL: none given); an engine without
	 * one ignores it. */
	int (*open)(const char *path, const char *password, void **conn, struct dam_err *err);
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
	const char *(*col_name)(void *st, int c);
	enum db_type (*col_type)(void *st, int c); /* DB_NULL for a NULL value */
	int (*get_version)(void *conn, int *v, struct dam_err *err);
	int (*set_version)(void *conn, int v, struct dam_err *err);
	int64_t (*changes)(void *conn);
	int64_t (*total_changes)(void *conn);   /* rows changed by this connection, ever */
	/* Commits the transaction db_begin opened; NULL: exec "COMMIT". */
	int (*commit)(void *conn, struct dam_err *err);
	/* db_keys_follow_rows; NULL: the engine's keys follow by themselves. */
	int (*keys_follow_rows)(void *conn, struct dam_err *err);
	/* db_wait_change; NULL: db.c polls db_data_version. */
	int (*wait_change)(void *conn, int timeout_ms, struct dam_err *err);
	/* db_change_heard; NULL: -1. */
	int64_t (*change_heard)(void *conn);
	/* db_wait_fd; NULL: -1. */
	int (*wait_fd)(void *conn);
	/* db_announce_heard and db_heard_each; NULL: nothing to tell or hear. */
	int (*announce_heard)(void *conn, const char *node, int64_t counter, struct dam_err *err);
	void (*heard_each)(void *conn, void (*fn)(const char *node, int64_t counter, void *arg), void *arg);
	/* db_result_stats; NULL: all zero. */
	void (*result_stats)(void *conn, struct db_result_stats *out);
	const char *data_version_sql;           /* one integer: changes by others */
	/* db_gc_lock: [exclusive][0] takes, [exclusive][1] releases; NULL:
	 * none in the database (the caller locks a file). */
	const char *gc_lock_sql[2][2];
	const char *begin_sql;
	const char *durable_sql[2]; /* [0] off (the default), [1] on */
	/* Around a migration flagged DB_MIGRATION_NO_FK, outside any
	 * transaction: [0] turns foreign-key enforcement off, [1] back on.
	 * check_fk_sql returns a row per violation (none: the rebuild kept
	 * every reference) and runs inside the migration's transaction. NULL
	 * entries: nothing to do (an engine that rebuilds with them on). */
	const char *fk_sql[2];
	const char *check_fk_sql;
	/* One template per enum db_piece; every entry must be set. */
	const char *pieces[DB_PIECE_COUNT];
	/* This engine's numbered schema migrations: migration N makes the
	 * same tables on every backend, each in its engine's SQL. */
	const struct db_migration *migrations;
	const int *nmigrations;
};

extern const struct db_backend db_sqlite_backend;
extern const struct db_backend db_pg_backend;

/* SQLite's migration list (migrations_sqlite.c). Static storage. */
extern const struct db_migration db_sqlite_migrations[];
extern const int db_sqlite_nmigrations;
/* PostgreSQL's (migrations_pg.c), under the same numbers. */
extern const struct db_migration db_pg_migrations[];
extern const int db_pg_nmigrations;

#endif
