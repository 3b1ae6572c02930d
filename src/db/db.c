#include "db/db.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db/db_backend.h"

/*
 * Statement cache. Parsing SQL was the largest single cost of a small
 * request (the asset GET prepared 14 statements), so each connection keeps
 * up to STMT_CACHE prepared statements keyed by their SQL text.
 * db_prepare() hands out an idle one with the same text, or prepares a new
 * one; db_finalize() resets it (which also ends the read it held open and
 * clears its bindings) and makes it idle again. A statement is handed out
 * to one user at a time: a second prepare of the same SQL while the first
 * is still live (a nested query) gets its own handle, cached beside it.
 * When the cache is full the least recently used idle statement is
 * finalized; if none is idle the new one simply is not cached. Callers see
 * the same API and lifetimes as without the cache.
 */
#define STMT_CACHE 64
#define STMT_CACHE_SQL_MAX 4096 /* longer (generated) SQL is not kept */

struct db_stmt {
	struct db *db;
	void *st;
	char *sql;     /* cached: the key (owned); NULL: finalized on db_finalize */
	uint32_t hash;
	bool busy;     /* handed out, not yet given back */
	uint64_t used; /* when last handed out, for LRU */
};

struct db {
	const struct db_backend *be;
	void *conn;
	int in_tx;
	bool fk_off; /* inside db_migrate's run of a DB_MIGRATION_NO_FK step */
	bool watching;            /* db_wait_change was called: watch_version is set */
	struct db_version watch_version;
	struct db_stmt *cache[STMT_CACHE];
	int ncache;
	uint64_t tick;
	struct db_cache_stats stats;
};

static uint32_t sql_hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static void stmt_free(struct db_stmt *st)
{
	st->db->be->finalize(st->st);
	free(st->sql);
	free(st);
}

/* An idle cached statement for sql, or NULL. */
static struct db_stmt *cache_get(struct db *db, const char *sql, uint32_t h)
{
	for (int i = 0; i < db->ncache; i++) {
		struct db_stmt *st = db->cache[i];
		if (!st->busy && st->hash == h && !strcmp(st->sql, sql)) {
			st->busy = true;
			st->used = ++db->tick;
			db->stats.hits++;
			return st;
		}
	}
	return NULL;
}

/* Keeps st (fresh, busy) in the cache if there is room or an idle victim. */
static void cache_put(struct db *db, struct db_stmt *st, const char *sql, uint32_t h)
{
	int slot = -1;

	if (strlen(sql) > STMT_CACHE_SQL_MAX || !(st->sql = strdup(sql)))
		return;
	if (db->ncache < STMT_CACHE) {
		slot = db->ncache++;
	} else {
		for (int i = 0; i < db->ncache; i++)
			if (!db->cache[i]->busy && (slot < 0 || db->cache[i]->used < db->cache[slot]->used))
				slot = i;
		if (slot < 0) { /* every cached statement is live: do not keep this one */
			free(st->sql);
			st->sql = NULL;
			return;
		}
		stmt_free(db->cache[slot]);
		db->stats.evictions++;
	}
	st->hash = h;
	st->busy = true;
	st->used = ++db->tick;
	db->cache[slot] = st;
}

/*
 * Dialect pieces: "{{name(arg, ...)}}" in SQL text becomes the backend's
 * template for name with %1..%9 replaced by the arguments as written. Done
 * before the engine parses the text, and only then: a cached statement is
 * found by the text as written, so a hit costs nothing here.
 */
static const char *const piece_names[DB_PIECE_COUNT] = {
	[DB_PIECE_JSON_TEXT] = "json_text",
	[DB_PIECE_JSON_INT] = "json_int",
	[DB_PIECE_JSON_AGG] = "json_agg",
	[DB_PIECE_STR_AGG] = "str_agg",
	[DB_PIECE_SKIP_LOCKED] = "skip_locked",
	[DB_PIECE_CI_EQ] = "ci_eq",
};
/* A piece of no arguments is written bare: {{skip_locked}}. */
static const int piece_nargs[DB_PIECE_COUNT] = { 2, 2, 2, 3, 0, 2 };

#define PIECE_ARGS_MAX 9

struct piece_call {
	int piece;
	const char *arg[PIECE_ARGS_MAX];
	size_t len[PIECE_ARGS_MAX];
	int nargs;
	const char *end; /* just past the closing "}}" */
};

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* Adds the argument [a, b) to c, trimmed of spaces. */
static int arg_add(struct piece_call *c, const char *a, const char *b)
{
	while (a < b && is_space(*a))
		a++;
	while (b > a && is_space(b[-1]))
		b--;
	if (c->nargs == PIECE_ARGS_MAX)
		return -1;
	c->arg[c->nargs] = a;
	c->len[c->nargs++] = (size_t)(b - a);
	return 0;
}

/* Splits "(a, b, ...)}}" at p (just past the opening parenthesis) into
 * arguments: commas inside quotes or parentheses do not split. */
static int piece_args(const char *p, struct piece_call *c)
{
	const char *a = p;
	int depth = 0;
	char quote = 0;

	for (; *p; p++) {
		if (quote) {
			quote = *p == quote ? 0 : quote; /* '' re-enters at once */
		} else if (*p == '\'' || *p == '"') {
			quote = *p;
		} else if (*p == '(') {
			depth++;
		} else if (*p == ')' && depth) {
			depth--;
		} else if (*p == ',' && !depth) {
			if (arg_add(c, a, p) < 0)
				return -1;
			a = p + 1;
		} else if (*p == ')') {
			if (arg_add(c, a, p) < 0 || strncmp(p + 1, "}}", 2))
				return -1;
			c->end = p + 3;
			return 0;
		}
	}
	return -1;
}

/* A bare piece "{{name}}" (no arguments) at p. */
static int piece_parse_bare(const char *p, struct piece_call *c)
{
	const char *name = p + 2;

	for (int i = 0; i < DB_PIECE_COUNT; i++) {
		size_t n = strlen(piece_names[i]);
		if (piece_nargs[i] == 0 && !strncmp(name, piece_names[i], n) && !strncmp(name + n, "}}", 2)) {
			c->piece = i;
			c->end = name + n + 2;
			return 0;
		}
	}
	return -1;
}

/* Parses the piece starting at "{{" at p. */
static int piece_parse(const char *p, struct piece_call *c)
{
	const char *name = p + 2, *open = strchr(name, '(');

	memset(c, 0, sizeof *c);
	c->piece = -1;
	if (piece_parse_bare(p, c) == 0)
		return 0;
	if (!open)
		return -1;
	for (int i = 0; i < DB_PIECE_COUNT; i++)
		if (strlen(piece_names[i]) == (size_t)(open - name) && !strncmp(name, piece_names[i], (size_t)(open - name)))
			c->piece = i;
	if (c->piece < 0 || piece_args(open + 1, c) < 0 || c->nargs != piece_nargs[c->piece])
		return -1;
	return 0;
}

/* Appends n bytes of s to the growing *buf (length *len); -1 when out of memory. */
static int buf_add(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
	if (*len + n + 1 > *cap) {
		size_t ncap = (*len + n + 1) * 2;
		char *nb = realloc(*buf, ncap);
		if (!nb)
			return -1;
		*buf = nb;
		*cap = ncap;
	}
	memcpy(*buf + *len, s, n);
	*len += n;
	(*buf)[*len] = '\0';
	return 0;
}

/* Appends the backend's template for c with its arguments filled in. */
static int piece_emit(const struct db_backend *be, const struct piece_call *c, char **buf, size_t *len, size_t *cap)
{
	for (const char *t = be->pieces[c->piece]; *t; t++) {
		int rc;
		if (t[0] == '%' && t[1] >= '1' && t[1] <= '9' && t[1] - '1' < c->nargs) {
			t++;
			rc = buf_add(buf, len, cap, c->arg[*t - '1'], c->len[*t - '1']);
		} else {
			rc = buf_add(buf, len, cap, t, 1);
		}
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* One pass of dialect_expand: the pieces of sql, not those in arguments. */
static int expand_once(const struct db_backend *be, const char *sql, char **out, struct dam_err *err)
{
	const char *p = strstr(sql, "{{"), *from = sql;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	struct piece_call c;

	*out = NULL;
	if (!p)
		return 0;
	for (; p; from = c.end, p = strstr(from, "{{")) {
		if (piece_parse(p, &c) < 0) {
			free(buf);
			return dam_err_set(err, DAM_EINVAL, NULL, "database: bad dialect piece at \"%.40s\"", p);
		}
		if (buf_add(&buf, &len, &cap, from, (size_t)(p - from)) < 0 || piece_emit(be, &c, &buf, &len, &cap) < 0)
			goto nomem;
	}
	if (buf_add(&buf, &len, &cap, from, strlen(from)) < 0)
		goto nomem;
	*out = buf;
	return 0;
nomem:
	free(buf);
	return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
}

#define PIECE_NESTING_MAX 4

/* *out: sql with its pieces expanded (caller frees), or NULL when sql has
 * none (use it as it is). A piece in another's argument is expanded by the
 * next pass. */
static int dialect_expand(const struct db_backend *be, const char *sql, char **out, struct dam_err *err)
{
	char *cur = NULL, *next;
	int rc = 0;

	for (int pass = 0; pass < PIECE_NESTING_MAX; pass++) {
		if ((rc = expand_once(be, cur ? cur : sql, &next, err)) < 0 || !next)
			break;
		free(cur);
		cur = next;
	}
	if (rc == 0 && cur && strstr(cur, "{{"))
		rc = dam_err_set(err, DAM_EINVAL, NULL, "database: dialect pieces nested too deep");
	if (rc < 0) {
		free(cur);
		cur = NULL;
	}
	*out = cur;
	return rc;
}

/* The engine of path: the first backend that claims it, SQLite last. */
static const struct db_backend *backend_for(const char *path)
{
	static const struct db_backend *const backends[] = { &db_pg_backend, &db_sqlite_backend };

	for (size_t i = 0; i < sizeof backends / sizeof *backends; i++)
		if (!backends[i]->claims || backends[i]->claims(path))
			return backends[i];
	return &db_sqlite_backend;
}

int db_open(const char *path, struct db **out, struct dam_err *err)
{
	return db_open_auth(path, NULL, out, err);
}

int db_open_auth(const char *path, const char *password, struct db **out, struct dam_err *err)
{
	struct db *db = calloc(1, sizeof *db);
	int rc;

	*out = NULL;
	if (!db)
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	db->be = backend_for(path);
	if ((rc = db->be->open(path, password, &db->conn, err)) < 0) {
		free(db);
		return rc;
	}
	*out = db;
	return 0;
}

void db_close(struct db *db)
{
	if (!db)
		return;
	for (int i = 0; i < db->ncache; i++)
		stmt_free(db->cache[i]);
	db->be->close(db->conn);
	free(db);
}

const char *db_engine(struct db *db)
{
	return db->be->name;
}

int db_exec(struct db *db, const char *sql, struct dam_err *err)
{
	char *expanded;
	int rc;

	if ((rc = dialect_expand(db->be, sql, &expanded, err)) < 0)
		return rc;
	rc = db->be->exec(db->conn, expanded ? expanded : sql, err);
	free(expanded);
	return rc;
}

int db_prepare(struct db *db, const char *sql, struct db_stmt **out, struct dam_err *err)
{
	uint32_t h = sql_hash(sql);
	struct db_stmt *st;
	char *expanded = NULL;
	int rc;

	if ((*out = cache_get(db, sql, h)))
		return 0;
	if ((rc = dialect_expand(db->be, sql, &expanded, err)) < 0)
		return rc;
	if (!(st = calloc(1, sizeof *st))) {
		free(expanded);
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	}
	st->db = db;
	rc = db->be->prepare(db->conn, expanded ? expanded : sql, 1, &st->st, err);
	free(expanded);
	if (rc < 0) {
		free(st);
		return rc;
	}
	db->stats.prepares++;
	cache_put(db, st, sql, h);
	*out = st;
	return 0;
}

void db_cache_stats(struct db *db, struct db_cache_stats *out)
{
	*out = db->stats;
	out->cached = db->ncache;
}

static int vbind_at(struct db_stmt *st, struct dam_err *err, int first, const char *types, va_list ap)
{
	const struct db_backend *be = st->db->be;
	int rc = 0;

	for (int i = first; types && *types && rc == 0; types++, i++) {
		switch (*types) {
		case 's': {
			const char *s = va_arg(ap, const char *);
			rc = s ? be->bind_text(st->st, i, s) : be->bind_null(st->st, i);
			break;
		}
		case 'i': rc = be->bind_int(st->st, i, va_arg(ap, int64_t)); break;
		case 'd': rc = be->bind_double(st->st, i, va_arg(ap, double)); break;
		case 'b': {
			const void *p = va_arg(ap, const void *);
			size_t n = va_arg(ap, size_t);
			rc = be->bind_blob(st->st, i, p, n);
			break;
		}
		case 'n': rc = be->bind_null(st->st, i); break;
		default:
			return dam_err_set(err, DAM_EINVAL, NULL, "db_bind: bad type '%c'", *types);
		}
	}
	if (rc < 0)
		return dam_err_set(err, DAM_EDB, NULL, "cannot bind parameter");
	return 0;
}

int db_vbind(struct db_stmt *st, struct dam_err *err, const char *types, va_list ap)
{
	return vbind_at(st, err, 1, types, ap);
}

int db_bind_at(struct db_stmt *st, struct dam_err *err, int first, const char *types, ...)
{
	va_list ap;
	int rc;

	va_start(ap, types);
	rc = vbind_at(st, err, first, types, ap);
	va_end(ap);
	return rc;
}

int db_bind(struct db_stmt *st, struct dam_err *err, const char *types, ...)
{
	va_list ap;
	int rc;

	va_start(ap, types);
	rc = db_vbind(st, err, types, ap);
	va_end(ap);
	return rc;
}

int db_step(struct db_stmt *st, struct dam_err *err)
{
	return st->db->be->step(st->db->conn, st->st, err);
}

int db_reset(struct db_stmt *st)
{
	return st->db->be->reset(st->st);
}

void db_finalize(struct db_stmt *st)
{
	if (!st)
		return;
	if (st->sql) {
		/* Back to the cache: reset ends its read and drops the bindings. */
		st->db->be->reset(st->st);
		st->busy = false;
		return;
	}
	stmt_free(st);
}

void db_result_stats(struct db *db, struct db_result_stats *out)
{
	memset(out, 0, sizeof *out);
	if (db->be->result_stats)
		db->be->result_stats(db->conn, out);
}

int64_t db_changes(struct db *db) { return db->be->changes(db->conn); }
int db_col_count(struct db_stmt *st) { return st->db->be->col_count(st->st); }
int db_col_is_null(struct db_stmt *st, int c) { return st->db->be->col_is_null(st->st, c); }
const char *db_col_text(struct db_stmt *st, int c) { return st->db->be->col_text(st->st, c); }
int64_t db_col_int(struct db_stmt *st, int c) { return st->db->be->col_int(st->st, c); }
double db_col_double(struct db_stmt *st, int c) { return st->db->be->col_double(st->st, c); }
const char *db_col_name(struct db_stmt *st, int c) { return st->db->be->col_name(st->st, c); }
enum db_type db_col_type(struct db_stmt *st, int c) { return st->db->be->col_type(st->st, c); }
int db_keys_follow_rows(struct db *db, struct dam_err *err)
{
	return db->be->keys_follow_rows ? db->be->keys_follow_rows(db->conn, err) : 0;
}

int db_bind_col(struct db_stmt *to, int param, struct db_stmt *from, int col, struct dam_err *err)
{
	const struct db_backend *be = to->db->be;
	const void *p;
	size_t n;
	int rc;

	switch (db_col_type(from, col)) {
	case DB_INT: rc = be->bind_int(to->st, param, db_col_int(from, col)); break;
	case DB_FLOAT: rc = be->bind_double(to->st, param, db_col_double(from, col)); break;
	case DB_TEXT: rc = be->bind_text(to->st, param, db_col_text(from, col)); break;
	case DB_BLOB:
		p = db_col_blob(from, col, &n);
		rc = be->bind_blob(to->st, param, p ? p : "", n);
		break;
	default: rc = be->bind_null(to->st, param); break;
	}
	if (rc < 0)
		return dam_err_set(err, DAM_EDB, NULL, "cannot bind parameter %d (column %s)", param,
				   db_col_name(from, col));
	return 0;
}

const void *db_col_blob(struct db_stmt *st, int c, size_t *len)
{
	return st->db->be->col_blob(st->st, c, len);
}

static int vquery(struct db *db, struct db_stmt **out, struct dam_err *err, const char *sql,
		  const char *types, va_list ap)
{
	int rc;

	if ((rc = db_prepare(db, sql, out, err)) < 0)
		return rc;
	if ((rc = db_vbind(*out, err, types, ap)) < 0) {
		db_finalize(*out);
		*out = NULL;
	}
	return rc;
}

int db_query(struct db *db, struct db_stmt **out, struct dam_err *err, const char *sql,
	     const char *types, ...)
{
	va_list ap;
	int rc;

	va_start(ap, types);
	rc = vquery(db, out, err, sql, types, ap);
	va_end(ap);
	return rc;
}

int db_run(struct db *db, struct dam_err *err, const char *sql, const char *types, ...)
{
	struct db_stmt *st = NULL;
	va_list ap;
	int rc;

	va_start(ap, types);
	rc = vquery(db, &st, err, sql, types, ap);
	va_end(ap);
	if (rc < 0)
		return rc;
	while ((rc = db_step(st, err)) == DB_ROW)
		;
	db_finalize(st);
	if (rc < 0)
		return rc;
	return (int)db->be->changes(db->conn);
}

int db_query_int(struct db *db, int64_t *out, struct dam_err *err, const char *sql,
		 const char *types, ...)
{
	struct db_stmt *st = NULL;
	va_list ap;
	int rc;

	va_start(ap, types);
	rc = vquery(db, &st, err, sql, types, ap);
	va_end(ap);
	if (rc < 0)
		return rc;
	rc = db_step(st, err);
	if (rc == DB_ROW)
		*out = db_col_int(st, 0), rc = 0;
	else if (rc == DB_DONE)
		rc = dam_err_set(err, DAM_ENOTFOUND, NULL, "no row");
	db_finalize(st);
	return rc;
}

int db_data_version(struct db *db, struct db_version *out, struct dam_err *err)
{
	int64_t v;
	int rc;

	if ((rc = db_query_int(db, &v, err, db->be->data_version_sql, NULL)) < 0)
		return rc;
	out->others = v;
	out->own = db->be->total_changes(db->conn);
	return 0;
}

void db_data_version_own(struct db *db, struct db_version *v)
{
	v->own = db->be->total_changes(db->conn);
}

int db_set_durable(struct db *db, int on, struct dam_err *err)
{
	return db_exec(db, db->be->durable_sql[on != 0], err);
}

int db_begin(struct db *db, struct dam_err *err)
{
	int rc = db_exec(db, db->be->begin_sql, err);

	if (rc == 0)
		db->in_tx = 1;
	return rc;
}

int db_commit(struct db *db, struct dam_err *err)
{
	int rc = db->be->commit ? db->be->commit(db->conn, err) : db_exec(db, "COMMIT", err);

	if (rc == 0)
		db->in_tx = 0;
	else
		db_rollback(db);
	return rc;
}

void db_rollback(struct db *db)
{
	if (!db->in_tx)
		return;
	db->be->exec(db->conn, "ROLLBACK", NULL);
	db->in_tx = 0;
}

int db_schema_version(struct db *db, int *out, struct dam_err *err)
{
	return db->be->get_version(db->conn, out, err);
}

/* Switches foreign keys for a DB_MIGRATION_NO_FK step (no transaction
 * may be open). */
static int fk_switch(struct db *db, bool off, struct dam_err *err)
{
	const char *sql = db->be->fk_sql[off ? 0 : 1];
	int rc = sql ? db->be->exec(db->conn, sql, err) : 0;

	if (rc == 0)
		db->fk_off = off;
	return rc;
}

/* A row from the backend's foreign-key check is a reference the step broke. */
static int fk_verify(struct db *db, int step, struct dam_err *err)
{
	struct db_stmt *st;
	int rc;

	if (!db->be->check_fk_sql)
		return 0;
	if ((rc = db_prepare(db, db->be->check_fk_sql, &st, err)) < 0)
		return rc;
	rc = db_step(st, err);
	db_finalize(st);
	if (rc == DB_ROW)
		return dam_err_set(err, DAM_EDB, NULL, "migration %d broke a foreign key", step);
	return rc;
}

static int step_apply(struct db *db, const struct db_migration *m, int v, struct dam_err *err)
{
	int rc;

	if ((rc = db_exec(db, m[v].sql, err)) < 0) {
		char msg[DAM_ERR_MSG_MAX];
		snprintf(msg, sizeof msg, "%s", err ? err->msg : "");
		return dam_err_set(err, DAM_EDB, NULL, "migration %d failed: %s", v + 1, msg);
	}
	return (m[v].flags & DB_MIGRATION_NO_FK) ? fk_verify(db, v + 1, err) : 0;
}

/* One transaction of db_migrate: the steps from the current version up to
 * the next change of foreign-key need. *done when nothing is left; *again
 * when foreign keys had to be switched first. */
static int migrate_run(struct db *db, const struct db_migration *m, int n, bool *done, struct dam_err *err)
{
	int v, rc;
	bool nofk;

	if ((rc = db_begin(db, err)) < 0)
		return rc;
	if ((rc = db_schema_version(db, &v, err)) < 0)
		goto fail;
	if (v > n) {
		rc = dam_err_set(err, DAM_EVERSION, NULL,
				 "this library was made by a newer dam (schema %d; this dam knows up to %d): upgrade dam",
				 v, n);
		goto fail;
	}
	if ((*done = v == n))
		return db_commit(db, err);
	nofk = (m[v].flags & DB_MIGRATION_NO_FK) != 0;
	if (nofk != db->fk_off) { /* switch first, then come back */
		db_rollback(db);
		return fk_switch(db, nofk, err);
	}
	do {
		if ((rc = step_apply(db, m, v, err)) < 0)
			goto fail;
	} while (++v < n && !nofk && !(m[v].flags & DB_MIGRATION_NO_FK));
	if ((rc = db->be->set_version(db->conn, v, err)) < 0)
		goto fail;
	return db_commit(db, err);
fail:
	db_rollback(db);
	return rc;
}

int db_migrate(struct db *db, const struct db_migration *migrations, int n, struct dam_err *err)
{
	bool done = false;
	int rc;

	while ((rc = migrate_run(db, migrations, n, &done, err)) == 0 && !done)
		;
	if (db->fk_off) {
		int rc2 = fk_switch(db, false, rc < 0 ? NULL : err);
		if (rc == 0)
			rc = rc2;
	}
	return rc;
}

const struct db_migration *db_migrations(struct db *db, int *n)
{
	*n = *db->be->nmigrations;
	return db->be->migrations;
}

int db_migrate_latest(struct db *db, struct dam_err *err)
{
	return db_migrate(db, db->be->migrations, *db->be->nmigrations, err);
}

int db_gc_lock(struct db *db, bool exclusive, struct dam_err *err)
{
	const char *sql = db->be->gc_lock_sql[exclusive][0];
	int rc;

	if (!sql)
		return 0;
	return (rc = db_exec(db, sql, err)) < 0 ? rc : 1;
}

void db_gc_unlock(struct db *db, bool exclusive)
{
	const char *sql = db->be->gc_lock_sql[exclusive][1];

	/* A failure (a broken connection) releases the lock anyway: the
	 * server drops a session's advisory locks when it ends. */
	if (sql)
		db_exec(db, sql, NULL);
}

int64_t db_change_heard(struct db *db)
{
	return db->be->change_heard ? db->be->change_heard(db->conn) : -1;
}

int db_wait_fd(struct db *db)
{
	return db->be->wait_fd ? db->be->wait_fd(db->conn) : -1;
}

int db_announce_heard(struct db *db, const char *node, int64_t counter, struct dam_err *err)
{
	size_t n = strlen(node);

	if (!n || n > DB_NODE_LEN || strspn(node, "0123456789abcdefghijklmnopqrstuvwxyz-") != n)
		return dam_err_set(err, DAM_EINVAL, NULL, "a node name is 1 to %d of [0-9a-z-]", DB_NODE_LEN);
	return db->be->announce_heard ? db->be->announce_heard(db->conn, node, counter, err) : 0;
}

void db_heard_each(struct db *db, db_heard_fn fn, void *arg)
{
	if (db->be->heard_each)
		db->be->heard_each(db->conn, fn, arg);
}

/* The fallback for backends without notifications: a data_version read
 * costs no page of the database, so 20 reads a second are cheap. */
int db_wait_change(struct db *db, int timeout_ms, struct dam_err *err)
{
	struct db_version v;
	int rc, waited = 0;

	if (db->be->wait_change)
		return db->be->wait_change(db->conn, timeout_ms, err);
	for (;;) {
		if ((rc = db_data_version(db, &v, err)) < 0)
			return rc;
		if (!db->watching || v.others != db->watch_version.others || v.own != db->watch_version.own) {
			db->watching = true;
			db->watch_version = v;
			return 1;
		}
		if (waited >= timeout_ms)
			return 0;
		int step = timeout_ms - waited < 50 ? timeout_ms - waited : 50;
		usleep((useconds_t)step * 1000);
		waited += step;
	}
}
