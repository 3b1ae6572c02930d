/*
 * db.h - the only way dam talks to its database.
 *
 * SQL text uses `?` placeholders (numbered from 1). A backend table hides the
 * engine: SQLite (WAL) now, PostgreSQL later; no sqlite3_* call exists
 * outside db_sqlite.c.
 *
 * Ownership: db_open() returns a connection the caller frees with
 * db_close(); db_prepare() a statement freed with db_finalize() (NULL is a
 * no-op for both). Column pointers are borrowed until the next step, reset
 * or finalize of that statement. Finalized statements stay prepared in a
 * per-connection cache keyed by their SQL text (db.c) and are reused by the
 * next db_prepare() of the same text; finalize every statement before
 * db_close().
 * Thread-safety: one connection per thread; connections to one database may
 * be used from many threads and processes at once.
 *
 * Portable SQL. Code outside src/db writes SQL that SQLite 3.40 and
 * PostgreSQL 15 both run: coalesce (not ifnull), INSERT ... ON CONFLICT
 * (cols) DO NOTHING / DO UPDATE SET c = excluded.c (not INSERT OR ...),
 * RETURNING, lower(a) = lower(b) for a case-insensitive compare (both fold
 * ASCII alike; SQLite's NOCASE columns are the engine's own schema business,
 * e.g. citext on PostgreSQL), the explicit integer keys `assets.num`,
 * `versions.num`, `vocab_terms.num`, `vocab_synonyms.num` (never rowid), and
 * the time as a bound parameter from the C clock (never an SQL time
 * function), LIMIT with a count (no LIMIT -1: bind INT64_MAX), and a
 * parameter whose type no column gives cast to it: CAST(? AS TEXT) IS NULL,
 * CAST(? AS BIGINT) = 0 (PostgreSQL must tell every parameter's type, and
 * takes it from the parameter's first use: `? = 0` would be a 32-bit
 * integer, too small for a time in ms; compare a reused ?N with its
 * column first).
 * `?` placeholders may be numbered (`?3`) to use a value twice,
 * and a plain `?` after `?N` is number N+1 (SQLite's rule); a backend whose
 * engine spells them otherwise ($1 on PostgreSQL) rewrites them by that rule.
 *
 * Dialect pieces. What no portable spelling exists for is written as a named
 * piece `{{name(arg, ...)}}` inside the SQL text; db_prepare() and db_exec()
 * expand it with the backend's template before the engine sees the text
 * (once per prepared statement: the statement cache is keyed by the text as
 * written). Arguments are SQL as written (split at top-level commas, quotes
 * and parentheses respected), at most 9. The pieces:
 *   json_text(doc, key)  the text at top-level key of the JSON text doc, or
 *                        NULL (key: a bare name, not quoted)
 *   json_int(doc, key)   the same as an integer (true 1, false 0), or NULL
 *   json_agg(v, order)   aggregate: a JSON array of v ('[]' for no rows); on
 *                        SQLite in the order of the rows fed in (write a
 *                        subquery ordered by `order`), elsewhere by `order`
 *   str_agg(v, order, 'sep')  aggregate: the v joined by sep, NULL for no
 *                        rows; ordered as json_agg
 *   skip_locked          (bare, no parentheses) after the LIMIT of a
 *                        subquery that picks rows to change: the rows
 *                        other transactions hold locked are passed over
 *                        rather than waited for, so many workers claim
 *                        queue rows side by side (PostgreSQL: FOR UPDATE
 *                        SKIP LOCKED). "" on SQLite, where a write
 *                        statement holds the database's one write lock.
 *   ci_eq(column, value) column equals value ignoring case (as lower()
 *                        folds it: ASCII letters on SQLite), in the form
 *                        the engine's index for such lookups answers:
 *                        SQLite `column = value COLLATE NOCASE` (an index
 *                        on the column COLLATE NOCASE), PostgreSQL
 *                        `lower(column) = lower(value)` (an index on
 *                        lower(column)); SQLite cannot use its index for
 *                        lower() = lower() and reads every row of the key.
 * An unknown name, a wrong argument count or an unclosed piece is DAM_EINVAL.
 * The test tests/unit/dialect_guard.sh fails when an SQLite-only form
 * appears in a .c file outside src/db.
 */
#ifndef DAM_DB_DB_H
#define DAM_DB_DB_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

struct db;
struct db_stmt;

enum { DB_DONE = 0, DB_ROW = 1 };

/* Opens (creating if needed) the database at path: a file for SQLite, or
 * a postgres:// / postgresql:// URL for PostgreSQL. */
int db_open(const char *path, struct db **out, struct dam_err *err);
/* The same with the server's password (PostgreSQL; NULL: none, or libpq's
 * own PGPASSFILE, service file or PGPASSWORD). Borrowed for the call; it
 * appears in no message. SQLite ignores it. */
int db_open_auth(const char *path, const char *password, struct db **out, struct dam_err *err);
void db_close(struct db *db);
/* The engine behind db: "sqlite" or "postgresql" (static storage). For the
 * few engine-specific parts outside the backend table (the search engine). */
const char *db_engine(struct db *db);

/* Runs one or more statements without parameters. */
int db_exec(struct db *db, const char *sql, struct dam_err *err);

int db_prepare(struct db *db, const char *sql, struct db_stmt **out, struct dam_err *err);

/* The statement cache's counters, for tests and diagnostics. */
struct db_cache_stats {
	uint64_t prepares;  /* statements compiled */
	uint64_t hits;      /* prepares answered from the cache */
	uint64_t evictions; /* idle statements finalized to make room */
	int cached;         /* statements held now (idle or live) */
};
void db_cache_stats(struct db *db, struct db_cache_stats *out);

/* How the engine's client held result rows in memory, for tests and
 * diagnostics. SQLite steps row by row in its own pages: all zero.
 * PostgreSQL (db_pg.c) receives a read's rows one at a time (libpq's
 * single-row mode), so a result of any size costs one row of memory; the
 * one exception is a read left mid-iteration while another statement runs
 * on the same connection (a query nested inside a step loop): the rest of
 * its rows are moved into memory first ("parked"), as every result was
 * before, and counted here so a nested loop over a large result shows. */
struct db_result_stats {
	int64_t max_rows_held; /* most rows of one result held at once, ever */
	uint64_t parked;       /* reads parked by a nested statement */
	uint64_t parked_rows;  /* rows they held in memory, in all */
};
void db_result_stats(struct db *db, struct db_result_stats *out);
/* Binds by a type string: 's' text (NULL binds NULL), 'i' int64_t,
 * 'd' double, 'b' blob (const void *, size_t), 'n' NULL (no argument). */
int db_bind(struct db_stmt *st, struct dam_err *err, const char *types, ...);
int db_vbind(struct db_stmt *st, struct dam_err *err, const char *types, va_list ap);
/* As db_bind, from parameter first (from 1): the rows of a multi-row
 * statement, bound one after the other. */
int db_bind_at(struct db_stmt *st, struct dam_err *err, int first, const char *types, ...);
/* Returns DB_ROW, DB_DONE or a negative code (DAM_ECONFLICT on a unique or
 * constraint violation, DAM_EDB otherwise). Both engines hand over a read's
 * rows one step at a time, so reading a whole table costs one row of
 * memory; an error may come after some rows. Another statement may run on
 * the same handle while a read is mid-iteration (a lookup per row): it
 * works, and on PostgreSQL the rest of the outer read is then held in
 * memory (db_result_stats), so keep large loops free of nested queries. */
int db_step(struct db_stmt *st, struct dam_err *err);
int db_reset(struct db_stmt *st);
void db_finalize(struct db_stmt *st);

int db_col_count(struct db_stmt *st);
int db_col_is_null(struct db_stmt *st, int col);
const char *db_col_text(struct db_stmt *st, int col); /* "" for NULL */
int64_t db_col_int(struct db_stmt *st, int col);
double db_col_double(struct db_stmt *st, int col);
const void *db_col_blob(struct db_stmt *st, int col, size_t *len);
/* The name of result column col (borrowed, valid until finalize). */
const char *db_col_name(struct db_stmt *st, int col);
/* The type of the value in column col of the current row, for code that
 * copies rows it does not know (dam migrate): SQLite's type of the stored
 * value; PostgreSQL's column type (integers and booleans DB_INT, floats and
 * numeric DB_FLOAT, bytea DB_BLOB, everything else DB_TEXT). */
enum db_type { DB_NULL, DB_INT, DB_FLOAT, DB_TEXT, DB_BLOB };
enum db_type db_col_type(struct db_stmt *st, int col);
/* Binds parameter param (from 1) of to with the value in column col of
 * from's current row, as its type (from and to may be on different
 * engines). */
int db_bind_col(struct db_stmt *to, int param, struct db_stmt *from, int col, struct dam_err *err);

/* Prepare, bind, step to the end, finalize. Returns rows changed or < 0. */
int db_run(struct db *db, struct dam_err *err, const char *sql, const char *types, ...);
/* Prepare and bind; the caller steps and finalizes. */
int db_query(struct db *db, struct db_stmt **out, struct dam_err *err, const char *sql,
	     const char *types, ...);
/* First column of the first row as an integer; DAM_ENOTFOUND when no row. */
int db_query_int(struct db *db, int64_t *out, struct dam_err *err, const char *sql,
		 const char *types, ...);

/* Durability of this connection's commits. Off (the default), a commit
 * survives a crash of the process but may be lost when the machine itself
 * stops (SQLite: WAL with synchronous=NORMAL). On, every commit is on disk
 * before it returns (synchronous=FULL: the WAL is synced at each commit).
 * Turn it on around a commit that a client is told has happened and that
 * cannot be redone from elsewhere (a tus upload's offset). */
int db_set_durable(struct db *db, int on, struct dam_err *err);

/* A version of the whole database as this connection sees it: out differs
 * from an earlier reading whenever anything was committed in between, by
 * this connection or by any other (in any process). Cheap: no page of the
 * database is read. For caches of rows that must never be stale. */
struct db_version {
	int64_t others, own;
};
int db_data_version(struct db *db, struct db_version *out, struct dam_err *err);
/* On PostgreSQL (db_pg.c) the version is a one-row counter, dam_change.n,
 * that every write transaction increments just before its COMMIT, inside
 * the transaction: the new number and the data it counts become visible in
 * the same instant, so a reader that sees the old number never builds a
 * cache entry from data newer than that entry's version would admit missing
 * (a sequence would not do: nextval is visible before the commit). Writes
 * outside db_begin/db_commit bump it right after. The same statement sends
 * NOTIFY dam_change with the new value, delivered at commit to every
 * connection that LISTENs, so a node can retire caches without polling;
 * db_data_version() itself reads the row (one round trip, exact). others
 * also moves with this connection's own commits; callers only compare. */
/* Refreshes only v->own (this connection's commits): a counter, no I/O. */
void db_data_version_own(struct db *db, struct db_version *v);

/* After rows were inserted with their keys given (dam migrate copies
 * assets.num, audit.seq ...), makes the engine's key generators continue
 * above the highest key of every table, so the next insert without a key
 * does not collide. SQLite's rowid keys follow by themselves; PostgreSQL's
 * identity and serial sequences are set. Inside or outside a transaction. */
int db_keys_follow_rows(struct db *db, struct dam_err *err);

/* Rows changed by the last INSERT/UPDATE/DELETE on this connection. */
int64_t db_changes(struct db *db);

/* Write transactions take the write lock at BEGIN, so two writers never
 * deadlock upgrading a read lock. (PostgreSQL: READ COMMITTED plus one
 * advisory lock, so writers are serialised as on SQLite and need no retry;
 * an error inside a transaction aborts it there, and db_commit then fails.) */
int db_begin(struct db *db, struct dam_err *err);
int db_commit(struct db *db, struct dam_err *err);
/* Safe to call when no transaction is open. */
void db_rollback(struct db *db);

/* The lock that keeps `dam gc` and the writers of blobs apart, held by
 * every node of the database: writers take it shared from writing a blob
 * until its row commits, gc exclusive, so gc never removes a blob about to
 * be referenced. Blocks until granted. Returns 1 when taken, 0 when the
 * engine has no such lock (SQLite, one machine: the caller locks a file in
 * the library folder instead), < 0 on error.
 * PostgreSQL: a session advisory lock on this connection, so commit and
 * rollback keep it; db_gc_unlock() (with the same exclusive) or the end of
 * the connection releases it. Take it outside a transaction: a writer that
 * waited for it while holding the write lock would deadlock with gc. */
int db_gc_lock(struct db *db, bool exclusive, struct dam_err *err);
/* Releases what db_gc_lock(db, exclusive) took (nothing on SQLite). */
void db_gc_unlock(struct db *db, bool exclusive);

/* One numbered schema migration (SQL for db_exec, pieces allowed). */
enum {
	/* Run with foreign keys off (SQLite's 12-step table rebuild: a DROP
	 * of a referenced table would otherwise fail or cascade); the
	 * backend's foreign-key check must find no violation before it
	 * commits. */
	DB_MIGRATION_NO_FK = 1,
};
struct db_migration {
	const char *sql;
	unsigned flags;
};

/* Applies migrations[version .. n-1] and sets the schema version, in one
 * write transaction, except that a DB_MIGRATION_NO_FK migration gets a
 * transaction of its own (foreign keys cannot be switched inside one): the
 * steps before it commit first. The version is read inside each
 * transaction, so two processes opening a fresh database never both apply
 * a step. A failure rolls back the transaction it happened in.
 * DAM_EVERSION when the database is newer than n. */
int db_migrate(struct db *db, const struct db_migration *migrations, int n, struct dam_err *err);
/* This backend's own migration list (static storage, never freed). */
const struct db_migration *db_migrations(struct db *db, int *n);
/* db_migrate() with the backend's whole list. */
int db_migrate_latest(struct db *db, struct dam_err *err);
int db_schema_version(struct db *db, int *out, struct dam_err *err);

/* Waits up to timeout_ms for a commit by any connection to this database,
 * in any process, on any node. Returns 1 when there may have been one since
 * the previous call (always on the first call: read db_data_version then),
 * 0 when timeout_ms passed without one, or < 0. For a thread that retires
 * caches as soon as another node writes, rather than at its next request.
 * PostgreSQL: the first call LISTENs on dam_change, the later ones wait on
 * the connection's socket for the NOTIFY each counted commit sends; give it
 * a connection of its own (notifications queue up on it until the next
 * call). SQLite: compares db_data_version every 50 ms. */
int db_wait_change(struct db *db, int timeout_ms, struct dam_err *err);
/* The largest change counter announced by the notifications that
 * db_wait_change() has heard on this connection (PostgreSQL: the NOTIFY
 * payload; every commit it counts is visible once it is delivered), or -1
 * when none announced one (SQLite, or nothing heard yet). No I/O: lets a
 * watcher publish a commit the moment it hears it, without reading the
 * counter row first. */
int64_t db_change_heard(struct db *db);
/* The socket db_wait_change() waits on (PostgreSQL, once it listens), or
 * -1. For another thread that only polls it, never reads it: readable
 * means a notification (or a reply) waits for the watcher to read it. */
int db_wait_fd(struct db *db);

/* Acknowledgements between nodes' change watchers (core/change_watch.c):
 * tells every connection that waits in db_wait_change() that `node` (up
 * to DB_NODE_LEN characters of [0-9a-z-]) has heard the change counter up
 * to `counter`. PostgreSQL: a NOTIFY on dam_heard (no row written, the
 * change counter does not move); SQLite: nothing (one process family
 * shares the file), 0. DAM_EINVAL for a malformed node. */
#define DB_NODE_LEN 36
int db_announce_heard(struct db *db, const char *node, int64_t counter, struct dam_err *err);
/* Calls fn for each node whose acknowledgement db_wait_change() received
 * on this connection since the previous call (the largest counter each
 * announced), then forgets them. Its own included. */
typedef void (*db_heard_fn)(const char *node, int64_t counter, void *arg);
void db_heard_each(struct db *db, db_heard_fn fn, void *arg);

#endif
