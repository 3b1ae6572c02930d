/* db_sqlite.c - the SQLite backend: WAL, busy timeout, foreign keys. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "db/db_backend.h"

static int fail(sqlite3 *c, struct dam_err *err, const char *what)
{
	int code = sqlite3_extended_errcode(c);
	int ours = DAM_EDB;

	if ((code & 0xff) == SQLITE_CONSTRAINT)
		ours = DAM_ECONFLICT;
	else if ((code & 0xff) == SQLITE_FULL)
		ours = DAM_ENOSPC;
	else if ((code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED)
		ours = DAM_ECONFLICT;
	return dam_err_set(err, ours, NULL, "database: %s: %s", what, sqlite3_errmsg(c));
}

static pthread_once_t config_once = PTHREAD_ONCE_INIT;

/* Memory statistics take a global mutex on every allocation; with many
 * threads that mutex was a third of a request's time. */
static void config_global(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

/*
 * The database holds secrets (delivery keys, password hashes), so it is
 * created 0600 whatever the umask. SQLite's unix VFS creates -wal, -shm
 * and -journal with the database file's own mode (and fchmods them to it),
 * so making the main file ourselves is enough for all four. An existing
 * file keeps its mode: `dam fsck` reports a loose one.
 */
static int create_private(const char *path, struct dam_err *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (fd < 0)
		return errno == EEXIST ? 0
				       : dam_err_errno(err, DAM_EIO, errno, "cannot create database %s", path);
	close(fd);
	return 0;
}

static int s_open(const char *path, const char *password, void **conn, struct dam_err *err)
{
	(void)password; /* a file: the folder's mode guards it */
	sqlite3 *c = NULL;
	int rc;

	pthread_once(&config_once, config_global);
	if (strcmp(path, ":memory:") && (rc = create_private(path, err)) < 0)
		return rc;
	rc = sqlite3_open_v2(path, &c, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				 SQLITE_OPEN_NOMUTEX, NULL);

	if (rc != SQLITE_OK) {
		dam_err_set(err, DAM_EDB, NULL, "cannot open database %s: %s", path,
			    c ? sqlite3_errmsg(c) : sqlite3_errstr(rc));
		sqlite3_close(c);
		return DAM_EDB;
	}
	sqlite3_busy_timeout(c, 30000);
	/* WAL lets readers run beside the one writer; NORMAL sync is safe with
	 * WAL (a crash can lose the last commits, never corrupt). Blobs are
	 * fsynced before their rows commit, so a lost row only leaves an
	 * unreferenced blob that `dam gc` reclaims. */
	rc = sqlite3_exec(c, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
			     "PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;",
			  NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		fail(c, err, "set up");
		sqlite3_close(c);
		return DAM_EDB;
	}
	*conn = c;
	return 0;
}

static void s_close(void *conn) { sqlite3_close_v2(conn); }

static int s_exec(void *conn, const char *sql, struct dam_err *err)
{
	if (sqlite3_exec(conn, sql, NULL, NULL, NULL) != SQLITE_OK)
		return fail(conn, err, "exec");
	return 0;
}

static int s_prepare(void *conn, const char *sql, int persistent, void **st, struct dam_err *err)
{
	/* PERSISTENT: SQLite takes the memory from the heap rather than its
	 * lookaside slots, which are meant for short-lived statements. */
	if (sqlite3_prepare_v3(conn, sql, -1, persistent ? SQLITE_PREPARE_PERSISTENT : 0,
			       (sqlite3_stmt **)st, NULL) != SQLITE_OK)
		return fail(conn, err, "prepare");
	return 0;
}

static int ok(int rc) { return rc == SQLITE_OK ? 0 : -1; }
static int b_text(void *st, int i, const char *s) { return ok(sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT)); }
static int b_int(void *st, int i, int64_t v) { return ok(sqlite3_bind_int64(st, i, v)); }
static int b_double(void *st, int i, double v) { return ok(sqlite3_bind_double(st, i, v)); }
static int b_blob(void *st, int i, const void *p, size_t n) { return ok(sqlite3_bind_blob64(st, i, p, n, SQLITE_TRANSIENT)); }
static int b_null(void *st, int i) { return ok(sqlite3_bind_null(st, i)); }

static int s_step(void *conn, void *st, struct dam_err *err)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW)
		return DB_ROW;
	if (rc == SQLITE_DONE)
		return DB_DONE;
	return fail(conn, err, "step");
}

static int s_reset(void *st)
{
	int rc = sqlite3_reset(st);

	sqlite3_clear_bindings(st);
	return ok(rc);
}
static void s_finalize(void *st) { sqlite3_finalize(st); }
static int c_count(void *st) { return sqlite3_column_count(st); }
static int c_null(void *st, int c) { return sqlite3_column_type(st, c) == SQLITE_NULL; }
static const char *c_text(void *st, int c)
{
	const unsigned char *t = sqlite3_column_text(st, c);
	return t ? (const char *)t : "";
}
static int64_t c_int(void *st, int c) { return sqlite3_column_int64(st, c); }
static double c_double(void *st, int c) { return sqlite3_column_double(st, c); }
static const void *c_blob(void *st, int c, size_t *len)
{
	const void *p = sqlite3_column_blob(st, c);
	*len = (size_t)sqlite3_column_bytes(st, c);
	return p;
}

static int get_version(void *conn, int *v, struct dam_err *err)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(conn, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return fail(conn, err, "read schema version");
	rc = sqlite3_step(st);
	*v = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : fail(conn, err, "read schema version");
}

static int set_version(void *conn, int v, struct dam_err *err)
{
	char sql[64];

	snprintf(sql, sizeof sql, "PRAGMA user_version=%d", v);
	return s_exec(conn, sql, err);
}

static const char *c_name(void *st, int c) { return sqlite3_column_name(st, c); }

static enum db_type c_type(void *st, int c)
{
	switch (sqlite3_column_type(st, c)) {
	case SQLITE_INTEGER: return DB_INT;
	case SQLITE_FLOAT: return DB_FLOAT;
	case SQLITE_TEXT: return DB_TEXT;
	case SQLITE_BLOB: return DB_BLOB;
	default: return DB_NULL;
	}
}

static int64_t s_changes(void *conn) { return sqlite3_changes64(conn); }
static int64_t s_total_changes(void *conn) { return sqlite3_total_changes64(conn); }

const struct db_backend db_sqlite_backend = {
	.name = "sqlite",
	.open = s_open,
	.close = s_close,
	.exec = s_exec,
	.prepare = s_prepare,
	.bind_text = b_text,
	.bind_int = b_int,
	.bind_double = b_double,
	.bind_blob = b_blob,
	.bind_null = b_null,
	.step = s_step,
	.reset = s_reset,
	.finalize = s_finalize,
	.col_count = c_count,
	.col_is_null = c_null,
	.col_text = c_text,
	.col_int = c_int,
	.col_double = c_double,
	.col_blob = c_blob,
	.col_name = c_name,
	.col_type = c_type,
	.get_version = get_version,
	.set_version = set_version,
	.changes = s_changes,
	.total_changes = s_total_changes,
	/* Differs between two reads when another connection (any process)
	 * committed in between; reading it opens a read of the WAL index
	 * only, no page of the database. */
	.data_version_sql = "PRAGMA data_version",
	.begin_sql = "BEGIN IMMEDIATE",
	.durable_sql = { "PRAGMA synchronous=NORMAL", "PRAGMA synchronous=FULL" },
	/* SQLite's 12-step table rebuild (sqlite.org/lang_altertable.html):
	 * foreign keys off outside the transaction, foreign_key_check inside
	 * it before the commit. */
	.fk_sql = { "PRAGMA foreign_keys=OFF", "PRAGMA foreign_keys=ON" },
	.check_fk_sql = "PRAGMA foreign_key_check",
	.pieces = {
		/* JSON true/false come back as 1/0, numbers as numbers */
		[DB_PIECE_JSON_TEXT] = "json_extract(%1, '$.%2')",
		[DB_PIECE_JSON_INT] = "json_extract(%1, '$.%2')",
		/* SQLite 3.40 has no ORDER BY inside an aggregate: the rows come
		 * in the order the caller's subquery gives them */
		[DB_PIECE_JSON_AGG] = "json_group_array(%1)",
		[DB_PIECE_STR_AGG] = "group_concat(%1, %3)",
		/* a write statement holds the whole database's write lock from
		 * its start: no row lock to skip */
		[DB_PIECE_SKIP_LOCKED] = "",
		/* NOCASE folds ASCII letters, as SQLite's lower() does */
		[DB_PIECE_CI_EQ] = "%1 = %2 COLLATE NOCASE",
	},
	.migrations = db_sqlite_migrations,
	.nmigrations = &db_sqlite_nmigrations,
};
