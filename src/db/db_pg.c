/*
 * db_pg.c - the PostgreSQL backend, on libpq.
 *
 * Choices (see also db.h, "On PostgreSQL"):
 * - SQL keeps SQLite's `?` / `?N` placeholders; pg__rewrite() turns them into
 *   `$N` outside quoted strings, quoted identifiers and comments.
 * - Every statement is a named prepared statement ("d<N>", N counting per
 *   connection), so db.c's cache of statements by SQL text keeps the server's
 *   parse and plan as well. A finalized statement is DEALLOCATEd.
 * - Reads (SELECT, VALUES, TABLE, WITH without a data-modifying part) come
 *   row by row: libpq's single-row mode, each step one PGresult of one row,
 *   so a result of any size costs one row of memory, on SQLite's terms (a
 *   whole PGresult of the facet cache's 22M rows held ~1.5 GB at 1M
 *   assets). Why not the alternatives: a cursor (DECLARE/FETCH) needs a
 *   transaction, or WITH HOLD, which runs the whole query at DECLARE into a
 *   server-side store, and it cannot be a prepared statement, so it would
 *   cost a parse, a plan and two more round trips on every small query;
 *   keyset paging in the callers would have to be written, and kept, in
 *   every caller that reads a table (facet cache, names, orders, search
 *   matches, migrate, fsck, gc), while this bounds them all in one place.
 *   PG 17's chunked mode would cut the per-row cost; bookworm has libpq 15.
 * - A row-by-row read ties the connection up until its last row is read,
 *   and dam nests queries on one connection (a statement run while another
 *   is mid-iteration, e.g. a lookup per row). So before anything else uses
 *   the connection, the read in progress is "parked": the rest of its rows
 *   are read into one PGresult (PQsetvalue; the current row stays valid),
 *   and its later steps read from there, as every result was read before.
 *   Nesting keeps working; only a nested loop's outer result is held
 *   whole, and db_result_stats() counts those (parked, parked_rows) so a
 *   large one shows in tests. A read reset or finalized mid-iteration reads
 *   and drops the rest of its rows.
 * - The price: libpq makes a PGresult per row (~0.3 us of client CPU a
 *   row, bench/RESULTS.md "PostgreSQL memory"), so a large read costs the
 *   dam process more CPU than one whole result did; memory was the
 *   binding limit (a node's RSS grew with the library).
 * - Writes (INSERT/UPDATE/DELETE, also with RETURNING) are fetched whole at
 *   their first step (PQexecPrepared): their command tag (rows changed, the
 *   change counter) must be known at once, and RETURNING lists are the
 *   caller's own rows, bounded by what it wrote.
 * - Parameters go as text, except blobs (bytea, binary: no escaping, NUL-safe);
 *   results come as text, so db_col_text() works on any column as it does on
 *   SQLite, and bytea is decoded (hex) on the first db_col_blob() of a row.
 * - Errors: SQLSTATE class 23 (unique, foreign key, check, not null) and
 *   40 (serialization failure, deadlock) are DAM_ECONFLICT, like SQLite's
 *   CONSTRAINT and BUSY; a connection that cannot be made or was lost is
 *   DAM_EUNAVAIL (the HTTP layer answers 503); everything else DAM_EDB with
 *   the server's message.
 * - Reconnecting: a handle lives as long as its thread (a server's pool
 *   thread, a worker), so a broken connection is re-made in place, before
 *   the next statement that finds it broken (after a failed attempt, the
 *   next one only PG_RETRY_MS later, so an outage costs a caller at most one
 *   refused connect a second, not one per statement, and the event loop's
 *   counter read stays quick). Statements
 *   prepared on the old session are prepared again on first use
 *   (pg_stmt.gen). Never inside a transaction: one whose connection broke
 *   fails until its ROLLBACK (or the next BEGIN), so no statement of it
 *   runs on a new session without the ones before it.
 */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db/db_backend.h"
#include "db/db_pg.h"

#define PG_CONN_MAGIC 0x70676330u /* "pgc0" */
#define PG_RETRY_MS 1000           /* between two attempts to reconnect */
#define PG_CONNECT_TIMEOUT_S "5"   /* libpq's connect_timeout unless the URL sets one */

#define PG_MAX_ACKS 64 /* nodes heard from between two db_heard_each */

struct pg_conn {
	uint32_t magic;
	PGconn *c;
	uint64_t next_name; /* prepared statement names: d1, d2, ... */
	int64_t changes;    /* rows changed by the last INSERT/UPDATE/DELETE */
	int64_t total;      /* ... by every one of them on this connection */
	bool tx_wrote;      /* the open transaction wrote: count it at commit */
	bool listening;     /* LISTEN dam_change was sent (db_wait_change) */
	int64_t heard;      /* largest counter a dam_change NOTIFY announced; -1: none */
	/* dam_heard acknowledgements since the last db_heard_each: the
	 * largest counter per node (a full table drops the newcomer: its
	 * next beat comes within a second). */
	struct pg_ack {
		char node[DB_NODE_LEN + 1];
		int64_t counter;
	} acks[PG_MAX_ACKS];
	int nacks;
	bool in_tx;         /* a transaction was open at the last statement */
	bool durable;       /* db_set_durable(1): set again on a new session */
	uint64_t gen;       /* session number: moves at each reconnect */
	int64_t retry_ms;   /* no reconnect attempt before this (monotonic) */
	struct pg_stmt *stream; /* the read whose rows are arriving; NULL: idle */
	struct db_result_stats stats;
};

struct pg_stmt {
	struct pg_conn *pc;
	char name[24];
	char *sql;           /* as prepared ($N), to prepare again after a reconnect */
	uint64_t gen;        /* the session it is prepared on */
	int nparams;
	char **vals;         /* [nparams], owned copies; NULL binds NULL */
	int *lens, *fmts;    /* [nparams]: lengths and formats (1 = binary) */
	bool read;           /* a read: its rows come one at a time */
	bool started;        /* executed since the last reset */
	bool streaming;      /* pc->stream == this: res is the current row */
	/* The whole result (a write, or a parked read); while streaming the
	 * current row alone; after the last row the final, empty result. */
	PGresult *res;
	PGresult *rest;      /* a parked read's rows after the current one */
	PGresult *pending;   /* a parked read's error, for the step after its rows */
	int pending_rc;      /* ... or a code (DAM_ENOMEM while parking) */
	PGresult *desc;      /* column description before the first step */
	int row;             /* current row of res */
	unsigned char **bin; /* [columns]: bytea decoded for the current row */
	size_t *binlen;      /* [columns]: their lengths */
	int nbin;
};

/* The bookkeeping tables this backend needs beside the domain's schema:
 * the schema version (SQLite keeps it in PRAGMA user_version) and the
 * change counter behind db_data_version(). Made once per database; the
 * advisory lock keeps two processes opening a fresh database at once from
 * racing on CREATE TABLE IF NOT EXISTS (which is not atomic in PG). */
#define PG_LOCK_BOOKKEEPING "7236876419387801" /* arbitrary, dam's own */
#define PG_LOCK_WRITER "7236876419387802"
#define PG_LOCK_GC "7236876419387803"
static const char bookkeeping_sql[] =
	"BEGIN;"
	"SELECT pg_advisory_xact_lock(" PG_LOCK_BOOKKEEPING ");"
	"CREATE TABLE IF NOT EXISTS dam_schema (version integer NOT NULL);"
	"INSERT INTO dam_schema SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM dam_schema);"
	"CREATE TABLE IF NOT EXISTS dam_change (id integer PRIMARY KEY CHECK (id = 1),"
	" n bigint NOT NULL);"
	"INSERT INTO dam_change VALUES (1, 0) ON CONFLICT DO NOTHING;"
	"COMMIT";

/* Bumps the change counter and tells listeners on other nodes (NOTIFY is
 * delivered at commit, with the new value as its payload). Runs inside the
 * transaction it counts, so the counter and the data become visible in the
 * same instant: a reader that sees the old number sees the old data. */
#define PG_BUMP_SQL                                                              \
	"WITH c AS (UPDATE dam_change SET n = n + 1 WHERE id = 1 RETURNING n)"  \
	" SELECT pg_notify('dam_change', n::text) FROM c"

/* db.c hands the connection back as a void *: check it is ours. */
static struct pg_conn *pgc(void *conn)
{
	struct pg_conn *pc = conn;

	assert(pc && pc->magic == PG_CONN_MAGIC);
	return pc;
}

static void trim(char *s)
{
	size_t n = strlen(s);

	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = 0;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Maps a failed result (or a connection failure when res is NULL) to a
 * DAM_E* code and message. Never includes the connection URL (it may hold
 * a password). */
static int fail(PGconn *c, const PGresult *res, struct dam_err *err, const char *what)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	char m[DAM_ERR_MSG_MAX];
	int ours = DAM_EDB;

	if (PQstatus(c) == CONNECTION_BAD) {
		snprintf(m, sizeof m, "%s", PQerrorMessage(c));
		trim(m);
		return dam_err_set(err, DAM_EUNAVAIL, NULL,
				   "database: %s: connection to PostgreSQL lost: %s", what, m);
	}
	snprintf(m, sizeof m, "%s", msg ? msg : PQerrorMessage(c));
	trim(m);
	if (state && (!strncmp(state, "23", 2) || !strcmp(state, "40001") || !strcmp(state, "40P01")))
		ours = DAM_ECONFLICT;
	else if (state && !strcmp(state, "53100"))
		ours = DAM_ENOSPC;
	return dam_err_set(err, ours, NULL, "database: %s: %s", what, m);
}

/* First word of a command tag: "INSERT 0 1" -> a write. DDL counts too (it
 * changes what the caches read). */
static bool is_write(const PGresult *res)
{
	static const char *const verbs[] = { "INSERT", "UPDATE", "DELETE", "MERGE", "COPY",
					     "CREATE", "ALTER", "DROP", "TRUNCATE" };
	const char *tag = PQcmdStatus((PGresult *)res);

	for (size_t i = 0; tag && i < sizeof verbs / sizeof *verbs; i++) {
		size_t n = strlen(verbs[i]);
		if (!strncmp(tag, verbs[i], n) && (tag[n] == ' ' || tag[n] == 0))
			return true;
	}
	return false;
}

static bool is_dml(const PGresult *res)
{
	const char *tag = PQcmdStatus((PGresult *)res);

	return tag && (!strncmp(tag, "INSERT ", 7) || !strncmp(tag, "UPDATE ", 7) ||
		       !strncmp(tag, "DELETE ", 7) || !strncmp(tag, "MERGE ", 6));
}

/* Whether a transaction is open, from the server's own report after each
 * statement; a lost connection (status unknown) keeps what was known. */
static void note_tx(struct pg_conn *pc)
{
	switch (PQtransactionStatus(pc->c)) {
	case PQTRANS_IDLE:
		pc->in_tx = false;
		break;
	case PQTRANS_INTRANS:
	case PQTRANS_INERROR:
		pc->in_tx = true;
		break;
	default:
		break;
	}
}

static int set_up(struct pg_conn *pc, struct dam_err *err);
static int run(struct pg_conn *pc, const char *sql, struct dam_err *err, const char *what);
static void park(struct pg_conn *pc);

/* An idle connection is readable only for a notification or the server's
 * goodbye (an error message, then end of file). One poll, which finds
 * nothing in the common case; reading the goodbye takes two reads (libpq
 * reports the end of file only at a read that returns nothing). */
static void notice_close(struct pg_conn *pc)
{
	struct pollfd p = { .fd = PQsocket(pc->c), .events = POLLIN };

	for (int i = 0; i < 2 && PQstatus(pc->c) == CONNECTION_OK && poll(&p, 1, 0) == 1; i++)
		PQconsumeInput(pc->c);
}

/* Before each statement: a working session, or DAM_EUNAVAIL. A connection
 * the server closed while idle (a restart, a fast shutdown) has its
 * goodbye waiting in the socket already, so a non-blocking read notices it
 * here rather than by failing the statement. */
static int live(struct pg_conn *pc, struct dam_err *err)
{
	char m[DAM_ERR_MSG_MAX];
	int64_t now;
	int rc;

	park(pc);
	if (!pc->in_tx)
		notice_close(pc);
	if (PQstatus(pc->c) == CONNECTION_OK)
		return 0;
	if (pc->in_tx)
		return dam_err_set(err, DAM_EUNAVAIL, NULL,
				   "database: the connection to PostgreSQL was lost inside a transaction"
				   " (the server rolled it back)");
	now = mono_ms();
	if (now < pc->retry_ms)
		return dam_err_set(err, DAM_EUNAVAIL, NULL,
				   "database: PostgreSQL does not answer (reconnecting at most once a second)");
	PQreset(pc->c);
	if (PQstatus(pc->c) != CONNECTION_OK) {
		pc->retry_ms = now + PG_RETRY_MS;
		snprintf(m, sizeof m, "%s", PQerrorMessage(pc->c));
		trim(m);
		return dam_err_set(err, DAM_EUNAVAIL, NULL, "cannot reconnect to PostgreSQL: %s", m);
	}
	pc->gen++;
	pc->listening = false;
	pc->tx_wrote = false;
	if ((rc = set_up(pc, err)) < 0 || !pc->durable)
		return rc;
	return run(pc, db_pg_backend.durable_sql[1], err, "set durability");
}

/* Runs sql (one or more statements), clearing the result; 0 or < 0. */
static int run(struct pg_conn *pc, const char *sql, struct dam_err *err, const char *what)
{
	PGresult *res;
	ExecStatusType s;
	int rc;

	if ((rc = live(pc, err)) < 0)
		return rc;
	res = PQexec(pc->c, sql);
	s = PQresultStatus(res);
	if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK && s != PGRES_EMPTY_QUERY)
		rc = fail(pc->c, res, err, what);
	PQclear(res);
	note_tx(pc);
	return rc;
}

/* After a write that committed on its own (no db_begin), the counter is
 * bumped in a transaction of its own: a crash between the two leaves other
 * nodes' caches stale until the next write. Writes that matter go through
 * db_begin/db_commit, where the bump is atomic with the change. */
static void after_write(struct pg_conn *pc, const PGresult *res)
{
	bool idle = PQtransactionStatus(pc->c) == PQTRANS_IDLE;

	if (is_dml(res)) {
		const char *n = PQcmdTuples((PGresult *)res);
		pc->changes = n && *n ? strtoll(n, NULL, 10) : 0;
		pc->total += pc->changes;
	}
	if (!is_write(res) || (is_dml(res) && pc->changes == 0))
		return;
	if (idle)
		run(pc, PG_BUMP_SQL, NULL, "count change");
	else
		pc->tx_wrote = true;
}

static void held(struct pg_conn *pc, int64_t rows)
{
	if (rows > pc->stats.max_rows_held)
		pc->stats.max_rows_held = rows;
}

/* The read in progress has ended (its last row, an error or a lost
 * connection): reads what is left of its replies (the final result, if
 * not given) and frees the connection for the next statement. Returns the
 * final result (caller clears), or NULL when the connection is gone. */
static PGresult *stream_end(struct pg_conn *pc, PGresult *last)
{
	PGresult *r;

	while ((r = PQgetResult(pc->c))) {
		if (!last && PQresultStatus(r) != PGRES_SINGLE_TUPLE)
			last = r;
		else
			PQclear(r);
	}
	pc->stream->streaming = false;
	pc->stream = NULL;
	return last;
}

/* Appends the one row of r to buf as row n; false when out of memory. */
static bool copy_row(PGresult *buf, int n, const PGresult *r)
{
	for (int f = 0; f < PQnfields(r); f++) {
		bool null = PQgetisnull(r, 0, f);
		if (!PQsetvalue(buf, n, f, null ? NULL : PQgetvalue(r, 0, f),
				null ? -1 : PQgetlength(r, 0, f)))
			return false;
	}
	return true;
}

/* Before another statement uses the connection: the read in progress
 * gets the rest of its rows in one result of its own (out of memory: they
 * are dropped, and its next step says so), so the caller iterating it goes
 * on where it was. Its current row stays where it is: the caller may hold
 * db_col_text() pointers into it across the nested statement (db.h: valid
 * until the next step), even bind them to it. */
static void park(struct pg_conn *pc)
{
	struct pg_stmt *st = pc->stream;
	PGresult *buf, *r, *last = NULL;
	int n = 0;

	if (!st)
		return;
	buf = PQcopyResult(st->res, PG_COPYRES_ATTRS);
	while ((r = PQgetResult(pc->c))) {
		if (PQresultStatus(r) == PGRES_SINGLE_TUPLE) {
			if (buf && !copy_row(buf, n++, r)) {
				PQclear(buf);
				buf = NULL;
			}
			PQclear(r);
		} else if (!last) {
			last = r;
		} else {
			PQclear(r);
		}
	}
	stream_end(pc, last);
	st->rest = buf;
	if (!buf)
		st->pending_rc = DAM_ENOMEM;
	else if (!last)
		st->pending_rc = DAM_EUNAVAIL;
	else if (PQresultStatus(last) != PGRES_TUPLES_OK)
		st->pending = last, last = NULL;
	if (buf) {
		pc->stats.parked++;
		pc->stats.parked_rows += (uint64_t)PQntuples(buf);
		held(pc, PQntuples(buf));
	}
	PQclear(last);
	note_tx(pc);
}

/* A read reset or finalized before its last row: its remaining rows are
 * read and dropped (bounded memory; they were on their way). */
static void discard(struct pg_stmt *st)
{
	if (st->pc->stream != st)
		return;
	PQclear(stream_end(st->pc, NULL));
	note_tx(st->pc);
}

static void ignore_notice(void *arg, const char *msg) {}

/* One round trip when the bookkeeping tables exist (every open but the
 * first on a database). Durability is off by default, as db.h describes:
 * a commit survives a crash of dam (always, on PG) and may be lost only if
 * the server itself stops within ~0.6 s; db_set_durable(1) turns it on.
 * JIT is off: dam's queries are short, and a misestimated one (a ranked
 * search of a very common word) paid ~400 ms of compiling for a few ms of
 * work. */
static int set_up(struct pg_conn *pc, struct dam_err *err)
{
	PGresult *res = PQexec(pc->c, "SET synchronous_commit = off; SET jit = off;"
				      "SELECT to_regclass('dam_schema') IS NOT NULL"
				      " AND to_regclass('dam_change') IS NOT NULL");
	int rc = 0;

	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
		rc = fail(pc->c, res, err, "set up");
	else if (strcmp(PQgetvalue(res, 0, 0), "t"))
		rc = run(pc, bookkeeping_sql, err, "set up");
	PQclear(res);
	return rc;
}

static int p_open(const char *url, const char *password, void **conn, struct dam_err *err)
{
	/* expand_dbname: the URL fills every keyword; the ones before it are
	 * defaults it may override (connect_timeout: a server that does not
	 * answer at all, e.g. behind a dropped route, costs a caller seconds,
	 * not the system's two-minute TCP timeout, also at each reconnect),
	 * the ones after it override (application_name, password) or default
	 * (encoding) the rest. The password never goes into a string that
	 * could be shown. */
	const char *const keys[] = { "connect_timeout", "dbname", "application_name", "client_encoding",
				     "password", NULL };
	const char *const vals[] = { PG_CONNECT_TIMEOUT_S, url, "dam", "UTF8", password, NULL };
	struct pg_conn *pc = calloc(1, sizeof *pc);
	char m[DAM_ERR_MSG_MAX];
	int rc;

	if (!pc)
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	pc->magic = PG_CONN_MAGIC;
	pc->heard = -1;
	pc->c = PQconnectdbParams(keys, vals, 1);
	if (!pc->c || PQstatus(pc->c) != CONNECTION_OK) {
		snprintf(m, sizeof m, "%s", pc->c ? PQerrorMessage(pc->c) : "out of memory");
		trim(m);
		rc = dam_err_set(err, DAM_EDB, NULL, "cannot connect to PostgreSQL: %s", m);
		goto fail;
	}
	/* Library code never prints: the server's notices (NOTICE: relation
	 * already exists ...) would go to stderr otherwise. */
	PQsetNoticeProcessor(pc->c, ignore_notice, NULL);
	if ((rc = set_up(pc, err)) < 0)
		goto fail;
	*conn = pc;
	return 0;
fail:
	PQfinish(pc->c);
	free(pc);
	return rc;
}

static void p_close(void *conn)
{
	struct pg_conn *pc = conn;

	if (!pc)
		return;
	pgc(pc);
	PQfinish(pc->c);
	free(pc);
}

static int p_exec(void *conn, const char *sql, struct dam_err *err)
{
	struct pg_conn *pc = pgc(conn);
	PGresult *res;
	ExecStatusType s;
	int rc;

	park(pc);
	/* A transaction whose connection broke is over on the server: its
	 * ROLLBACK has nothing to do, and a BEGIN starts afresh. */
	if (pc->in_tx && !strncmp(sql, "BEGIN", 5))
		notice_close(pc);
	if (PQstatus(pc->c) != CONNECTION_OK &&
	    (!strcmp(sql, "ROLLBACK") || !strncmp(sql, "BEGIN", 5)))
		pc->in_tx = pc->tx_wrote = false;
	if (PQstatus(pc->c) != CONNECTION_OK && !strcmp(sql, "ROLLBACK"))
		return 0;
	if ((rc = live(pc, err)) < 0)
		return rc;
	if (!strcmp(sql, db_pg_backend.durable_sql[0]) || !strcmp(sql, db_pg_backend.durable_sql[1]))
		pc->durable = !strcmp(sql, db_pg_backend.durable_sql[1]);
	res = PQexec(pc->c, sql);
	s = PQresultStatus(res);
	if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK)
		after_write(pc, res);
	else if (s != PGRES_EMPTY_QUERY)
		rc = fail(pc->c, res, err, "exec");
	PQclear(res);
	if (PQtransactionStatus(pc->c) == PQTRANS_IDLE) /* ROLLBACK, or none open */
		pc->tx_wrote = false;
	note_tx(pc);
	return rc;
}

/* Every identity or serial column of the schema: its sequence restarts
 * above the column's highest value (setval with is_called false: the next
 * nextval returns exactly that). */
static int p_keys_follow_rows(void *conn, struct dam_err *err)
{
	return p_exec(conn,
		      "DO $$DECLARE r record; BEGIN"
		      " FOR r IN SELECT table_name AS t, column_name AS c FROM information_schema.columns"
		      "  WHERE table_schema = current_schema()"
		      "  AND (is_identity = 'YES' OR column_default LIKE 'nextval(%')"
		      " LOOP EXECUTE format('SELECT setval(pg_get_serial_sequence(%L, %L),"
		      "  coalesce(max(%I), 0) + 1, false) FROM %I', r.t, r.c, r.c, r.t);"
		      " END LOOP; END$$",
		      err);
}

static bool ident_char(char c) { return isalnum((unsigned char)c) || c == '_' || c == '$'; }

static const char *skip_line_comment(const char *p)
{
	const char *e = strchr(p, '\n');
	return e ? e : p + strlen(p);
}

/* PostgreSQL nests block comments. */
static const char *skip_block_comment(const char *p)
{
	int depth = 0;

	while (*p) {
		if (p[0] == '/' && p[1] == '*')
			depth++, p += 2;
		else if (p[0] == '*' && p[1] == '/' && --depth == 0)
			return p + 2;
		else
			p += p[0] == '*' && p[1] == '/' ? 2 : 1;
	}
	return p;
}

/* '..' and ".." (a doubled quote stays inside); E'..' also takes \' . */
static const char *skip_quote(const char *p, bool backslash)
{
	char q = *p;

	for (p++; *p; p++) {
		if (backslash && *p == '\\' && p[1])
			p++;
		else if (*p == q && p[1] == q)
			p++;
		else if (*p == q)
			return p + 1;
	}
	return p;
}

/* $tag$ .. $tag$ (tag empty or an identifier); p itself when p starts
 * none ($1 is a parameter). */
static const char *skip_dollar(const char *p)
{
	size_t n = 1;

	if (isdigit((unsigned char)p[1]))
		return p;
	while (isalnum((unsigned char)p[n]) || p[n] == '_')
		n++;
	if (p[n] != '$')
		return p;
	n++;
	for (const char *e = p + n; (e = strchr(e, '$')); e++)
		if (!strncmp(e, p, n))
			return e + n;
	return p + strlen(p);
}

/* The end of the comment, quoted string or quoted identifier starting at p
 * (where a '?' is text, not a placeholder), or p itself when p starts none.
 * start: the beginning of the SQL, to look at the character before p. */
static const char *skip_quoted(const char *start, const char *p)
{
	char prev = p > start ? p[-1] : ' ';

	if (p[0] == '-' && p[1] == '-')
		return skip_line_comment(p);
	if (p[0] == '/' && p[1] == '*')
		return skip_block_comment(p);
	if (*p == '"')
		return skip_quote(p, false);
	if (*p == '\'') {
		bool e = (prev == 'E' || prev == 'e') && (p - start < 2 || !ident_char(p[-2]));
		return skip_quote(p, e);
	}
	if (*p == '$' && !ident_char(prev)) /* foo$bar is one identifier */
		return skip_dollar(p);
	return p;
}

char *pg__rewrite(const char *sql, int *nparams)
{
	size_t len = strlen(sql);
	/* Each '?' becomes at most "$32767" (6 bytes). */
	char *out = malloc(len * 6 + 1), *o = out;
	int next = 0, max = 0;

	if (!out)
		return NULL;
	for (const char *p = sql; *p;) {
		const char *e = skip_quoted(sql, p);
		if (e != p) {
			memcpy(o, p, (size_t)(e - p));
			o += e - p, p = e;
			continue;
		}
		if (*p != '?') {
			*o++ = *p++;
			continue;
		}
		/* SQLite's rule: ?N is parameter N; a bare ? is one more than
		 * the largest number used so far. */
		int n;
		if (isdigit((unsigned char)p[1])) {
			char *end;
			n = (int)strtol(p + 1, &end, 10);
			p = end;
		} else {
			n = next + 1;
			p++;
		}
		if (n < 1 || n > 32767) {
			free(out);
			return NULL;
		}
		next = n > next ? n : next;
		max = n > max ? n : max;
		o += snprintf(o, 8, "$%d", n); /* n <= 32767: at most 6 bytes + NUL */
	}
	*o = 0;
	*nparams = max;
	return out;
}

static void clear_bin(struct pg_stmt *st)
{
	for (int i = 0; i < st->nbin; i++)
		PQfreemem(st->bin[i]);
	free(st->bin);
	free(st->binlen);
	st->bin = NULL;
	st->binlen = NULL;
	st->nbin = 0;
}

static void clear_binds(struct pg_stmt *st)
{
	for (int i = 0; i < st->nparams; i++) {
		free(st->vals[i]);
		st->vals[i] = NULL;
		st->lens[i] = 0;
		st->fmts[i] = 0;
	}
}

static void stmt_free(struct pg_stmt *st)
{
	if (!st)
		return;
	clear_bin(st);
	if (st->vals)
		clear_binds(st);
	PQclear(st->res);
	PQclear(st->rest);
	PQclear(st->pending);
	PQclear(st->desc);
	free(st->sql);
	free(st->vals);
	free(st->lens);
	free(st->fmts);
	free(st);
}

/* Whether sql keeps to the first word w (case-insensitive, whole word). */
static bool word_at(const char *p, const char *w)
{
	size_t n = strlen(w);

	return !strncasecmp(p, w, n) && !isalnum((unsigned char)p[n]) && p[n] != '_';
}

/* A read: a statement that only returns rows (what DECLARE CURSOR would
 * take too). WITH counts unless it writes anywhere: a data-modifying WITH
 * must give its command tag at once, like any write. Erring toward "not a
 * read" only costs memory, as before. */
static bool is_read(const char *sql)
{
	static const char *const writes[] = { "INSERT", "UPDATE", "DELETE", "MERGE" };
	const char *p = sql;

	while (isspace((unsigned char)*p) || *p == '(')
		p++;
	if (word_at(p, "SELECT") || word_at(p, "VALUES") || word_at(p, "TABLE"))
		return true;
	if (!word_at(p, "WITH"))
		return false;
	for (const char *q = p; *q; q++) {
		if (q > sql && (isalnum((unsigned char)q[-1]) || q[-1] == '_'))
			continue;
		for (size_t i = 0; i < sizeof writes / sizeof *writes; i++)
			if (word_at(q, writes[i]))
				return false;
	}
	return true;
}

static int p_prepare(void *conn, const char *sql, int persistent, void **out,
		     struct dam_err *err)
{
	struct pg_conn *pc = conn;
	struct pg_stmt *st = calloc(1, sizeof *st);
	char *q = NULL;
	PGresult *res = NULL;
	int rc = 0, n = 0;

	*out = NULL;
	if ((rc = live(pc, err)) < 0)
		goto out;
	if (!st || !(q = pg__rewrite(sql, &n))) {
		rc = dam_err_set(err, st ? DAM_EINVAL : DAM_ENOMEM, NULL,
				 st ? "database: prepare: bad parameter number" : "out of memory");
		goto out;
	}
	st->pc = pc;
	st->nparams = n;
	st->row = -1;
	if (n && (!(st->vals = calloc((size_t)n, sizeof *st->vals)) ||
		  !(st->lens = calloc((size_t)n, sizeof *st->lens)) ||
		  !(st->fmts = calloc((size_t)n, sizeof *st->fmts)))) {
		rc = dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
		goto out;
	}
	snprintf(st->name, sizeof st->name, "d%" PRIu64, ++pc->next_name);
	res = PQprepare(pc->c, st->name, q, n, NULL);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		rc = fail(pc->c, res, err, "prepare");
		goto out;
	}
	st->read = is_read(q);
	st->sql = q, q = NULL;
	st->gen = pc->gen;
	*out = st, st = NULL;
out:
	PQclear(res);
	free(q);
	stmt_free(st);
	return rc;
}

/* Copies v (SQLite's TRANSIENT: the caller's buffer may go right after). */
static int bind(void *stp, int i, const void *v, size_t n, int binary)
{
	struct pg_stmt *st = stp;
	char *copy;

	if (i < 1 || i > st->nparams || n > INT32_MAX)
		return -1;
	if (!(copy = malloc(n + 1)))
		return -1;
	if (n)
		memcpy(copy, v, n);
	copy[n] = 0;
	free(st->vals[i - 1]);
	st->vals[i - 1] = copy;
	st->lens[i - 1] = (int)n;
	st->fmts[i - 1] = binary;
	return 0;
}

static int b_text(void *st, int i, const char *s) { return bind(st, i, s, strlen(s), 0); }

static int b_int(void *st, int i, int64_t v)
{
	char b[24];
	int n = snprintf(b, sizeof b, "%" PRId64, v);
	return bind(st, i, b, (size_t)n, 0);
}

static int b_double(void *st, int i, double v)
{
	char b[40];
	int n = snprintf(b, sizeof b, "%.17g", v); /* 17 digits: exact round trip */
	return bind(st, i, b, (size_t)n, 0);
}

static int b_blob(void *st, int i, const void *p, size_t n) { return bind(st, i, p, n, 1); }

static int b_null(void *stp, int i)
{
	struct pg_stmt *st = stp;

	if (i < 1 || i > st->nparams)
		return -1;
	free(st->vals[i - 1]);
	st->vals[i - 1] = NULL;
	return 0;
}

/* A working session with st prepared on it (again, after a reconnect). */
static int prepared(struct pg_stmt *st, struct dam_err *err)
{
	struct pg_conn *pc = st->pc;
	PGresult *res;
	int rc;

	if ((rc = live(pc, err)) < 0 || st->gen == pc->gen)
		return rc;
	res = PQprepare(pc->c, st->name, st->sql, st->nparams, NULL);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		rc = fail(pc->c, res, err, "prepare");
	else
		st->gen = pc->gen;
	PQclear(res);
	return rc;
}

/* A write: the whole result at once (its command tag counts the change). */
static int execute(struct pg_conn *pc, struct pg_stmt *st, struct dam_err *err)
{
	PGresult *res;
	ExecStatusType s;
	int rc;

	if ((rc = prepared(st, err)) < 0)
		return rc;
	res = PQexecPrepared(pc->c, st->name, st->nparams, (const char *const *)st->vals, st->lens,
			     st->fmts, 0);
	s = PQresultStatus(res);
	if (s != PGRES_TUPLES_OK && s != PGRES_COMMAND_OK) {
		rc = fail(pc->c, res, err, "step");
		PQclear(res);
		note_tx(pc);
		return rc;
	}
	st->res = res;
	held(pc, PQntuples(res));
	after_write(pc, res);
	note_tx(pc);
	return 0;
}

/* The next row of a read in progress: DB_ROW (st->res holds it alone),
 * DB_DONE (st->res: the final, empty result) or < 0. */
static int pull(struct pg_stmt *st, struct dam_err *err)
{
	struct pg_conn *pc = st->pc;
	PGresult *r = PQgetResult(pc->c);
	ExecStatusType s = PQresultStatus(r);
	int rc = DB_DONE;

	PQclear(st->res);
	st->res = NULL;
	st->row = 0;
	if (s == PGRES_SINGLE_TUPLE) {
		st->res = r;
		held(pc, 1);
		return DB_ROW;
	}
	r = stream_end(pc, r);
	if (PQresultStatus(r) == PGRES_TUPLES_OK) {
		st->res = r;
		after_write(pc, r);
	} else {
		rc = fail(pc->c, r, err, "step");
		PQclear(r);
		st->started = false; /* a step after an error runs it again */
	}
	note_tx(pc);
	return rc;
}

/* A read: sent, then its rows taken one at a time (single-row mode). */
static int start_read(struct pg_conn *pc, struct pg_stmt *st, struct dam_err *err)
{
	int rc;

	if ((rc = prepared(st, err)) < 0)
		return rc;
	if (!PQsendQueryPrepared(pc->c, st->name, st->nparams, (const char *const *)st->vals,
				 st->lens, st->fmts, 0))
		return fail(pc->c, NULL, err, "step");
	/* Fails only if the query was not sent, which we just checked. */
	PQsetSingleRowMode(pc->c);
	pc->stream = st;
	st->streaming = true;
	return pull(st, err);
}

/* After a parked read's rows: what ended it, if not its last row. */
static int pending_error(struct pg_stmt *st, struct dam_err *err)
{
	int rc = st->pending_rc;

	st->pending_rc = 0;
	if (rc == DAM_ENOMEM)
		return dam_err_set(err, rc, NULL, "database: step: out of memory holding a result");
	if (rc)
		return dam_err_set(err, rc, NULL,
				   "database: step: the connection to PostgreSQL was lost while reading a result");
	rc = fail(st->pc->c, st->pending, err, "step");
	PQclear(st->pending);
	st->pending = NULL;
	return rc;
}

static int p_step(void *conn, void *stp, struct dam_err *err)
{
	struct pg_stmt *st = stp;
	struct pg_conn *pc = pgc(conn);
	int rc;

	clear_bin(st);
	if (!st->started) {
		st->started = true;
		rc = st->read ? start_read(pc, st, err) : execute(pc, st, err);
		if (rc < 0)
			st->started = false;
		if (rc < 0 || st->read)
			return rc;
	} else if (st->streaming) {
		return pull(st, err);
	} else if (st->rest) { /* parked: its current row done, on to the rest */
		PQclear(st->res);
		st->res = st->rest;
		st->rest = NULL;
		st->row = -1;
	}
	if (st->res && st->row < PQntuples(st->res))
		st->row++;
	if (st->res && st->row < PQntuples(st->res))
		return DB_ROW;
	if (st->pending || st->pending_rc)
		return pending_error(st, err);
	return DB_DONE;
}

static int p_reset(void *stp)
{
	struct pg_stmt *st = stp;

	discard(st);
	clear_bin(st);
	PQclear(st->res);
	PQclear(st->rest);
	PQclear(st->pending);
	st->res = st->rest = st->pending = NULL;
	st->pending_rc = 0;
	st->started = false;
	st->row = -1;
	clear_binds(st);
	return 0;
}

static void p_finalize(void *stp)
{
	struct pg_stmt *st = stp;
	char sql[48];

	if (!st)
		return;
	discard(st);
	park(st->pc);
	/* Fails harmlessly inside an aborted transaction or on a lost
	 * connection: the name is never reused on this connection. */
	snprintf(sql, sizeof sql, "DEALLOCATE %s", st->name);
	if (st->gen == st->pc->gen && PQstatus(st->pc->c) == CONNECTION_OK)
		PQclear(PQexec(st->pc->c, sql));
	stmt_free(st);
}

/* The result to read column facts from: the rows, or before the first step
 * the statement's description (one round trip, then kept). */
static const PGresult *shape(struct pg_stmt *st)
{
	if (st->res)
		return st->res;
	if (!st->desc && prepared(st, NULL) == 0)
		st->desc = PQdescribePrepared(st->pc->c, st->name);
	return st->desc;
}

static int c_count(void *st) { return PQnfields(shape(st)); }

/* The current row's column c, or false when there is none. */
static bool cell(const struct pg_stmt *st, int c)
{
	return st->res && st->row >= 0 && st->row < PQntuples(st->res) && c >= 0 &&
	       c < PQnfields(st->res);
}

static int c_null(void *stp, int c)
{
	struct pg_stmt *st = stp;
	return !cell(st, c) || PQgetisnull(st->res, st->row, c);
}

static const char *c_text(void *stp, int c)
{
	struct pg_stmt *st = stp;
	return cell(st, c) ? PQgetvalue(st->res, st->row, c) : "";
}

/* Text results: booleans arrive as t/f (SQLite has none, so 1/0); a
 * fraction or an exponent ("7.9", "1e+20" from a float column) converts as
 * SQLite converts a REAL: toward zero, clamped to int64 (strtoll clamps
 * too). */
static int64_t c_int(void *stp, int c)
{
	const char *v = c_text(stp, c);
	char *end;
	int64_t i;
	double d;

	if (v[0] == 't' && !v[1])
		return 1;
	i = strtoll(v, &end, 10);
	if (*end != '.' && *end != 'e' && *end != 'E' && *end != 'I' && *end != 'N')
		return i;
	d = strtod(v, NULL);
	if (d != d)
		return 0; /* NaN */
	if (d >= 9223372036854775807.0)
		return INT64_MAX;
	if (d <= -9223372036854775808.0)
		return INT64_MIN;
	return (int64_t)d;
}

static double c_double(void *stp, int c)
{
	const char *v = c_text(stp, c);

	if (v[0] == 't' && !v[1])
		return 1;
	return strtod(v, NULL);
}

static const char *c_name(void *stp, int c)
{
	const char *n = PQfname(shape(stp), c);
	return n ? n : "";
}

/* By the column's type OID (pg_type.h's fixed numbers). */
static enum db_type c_type(void *stp, int c)
{
	struct pg_stmt *st = stp;

	if (!cell(st, c) || PQgetisnull(st->res, st->row, c))
		return DB_NULL;
	switch (PQftype(st->res, c)) {
	case 16: /* bool */
	case 20: /* int8 */
	case 21: /* int2 */
	case 23: /* int4 */
		return DB_INT;
	case 700: /* float4 */
	case 701: /* float8 */
	case 1700: /* numeric */
		return DB_FLOAT;
	case 17: /* bytea */
		return DB_BLOB;
	default:
		return DB_TEXT;
	}
}

/* bytea arrives hex-encoded ("\x0102"); decoded once per row and column,
 * kept until the next step, reset or finalize (db.h's lifetime). Other
 * types give their text bytes, as SQLite's blob of a text value does. */
static const void *c_blob(void *stp, int c, size_t *len)
{
	struct pg_stmt *st = stp;
	int n = st->res ? PQnfields(st->res) : 0;

	*len = 0;
	if (!cell(st, c) || PQgetisnull(st->res, st->row, c))
		return NULL;
	if (PQftype(st->res, c) != 17 /* BYTEAOID */) {
		*len = (size_t)PQgetlength(st->res, st->row, c);
		return PQgetvalue(st->res, st->row, c);
	}
	if (!st->bin) {
		if (!(st->bin = calloc((size_t)n, sizeof *st->bin)) ||
		    !(st->binlen = calloc((size_t)n, sizeof *st->binlen))) {
			clear_bin(st);
			return NULL;
		}
		st->nbin = n;
	}
	if (!st->bin[c])
		st->bin[c] = PQunescapeBytea((const unsigned char *)PQgetvalue(st->res, st->row, c),
					     &st->binlen[c]);
	*len = st->bin[c] ? st->binlen[c] : 0;
	return st->bin[c];
}

static int query_int(struct pg_conn *pc, const char *sql, int *v, struct dam_err *err)
{
	PGresult *res;
	int rc;

	if ((rc = live(pc, err)) < 0)
		return rc;
	res = PQexec(pc->c, sql);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
		rc = fail(pc->c, res, err, "read schema version");
	else
		*v = (int)strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return rc;
}

static int get_version(void *conn, int *v, struct dam_err *err)
{
	return query_int(conn, "SELECT version FROM dam_schema", v, err);
}

static int set_version(void *conn, int v, struct dam_err *err)
{
	char sql[64];

	snprintf(sql, sizeof sql, "UPDATE dam_schema SET version = %d", v);
	return run(conn, sql, err, "set schema version");
}

/* db_begin() opened the transaction; counting it (if it wrote: a read-only
 * transaction must not retire every cache) and committing go in one round
 * trip. If an earlier statement failed, PG has aborted the transaction and
 * COMMIT would silently roll back: say so instead. */
static int p_commit(void *conn, struct dam_err *err)
{
	struct pg_conn *pc = pgc(conn);
	bool wrote;

	park(pc); /* a read left open in the transaction: its rows first */
	wrote = pc->tx_wrote;
	if (PQtransactionStatus(pc->c) == PQTRANS_INERROR)
		return dam_err_set(err, DAM_EDB, NULL,
				   "database: commit: the transaction was aborted by an earlier error");
	pc->tx_wrote = false;
	return run(pc, wrote ? PG_BUMP_SQL "; COMMIT" : "COMMIT", err, "commit");
}

/* Keeps a dam_heard payload "node counter". */
static void note_ack(struct pg_conn *pc, const char *payload)
{
	const char *sp = strchr(payload, ' ');
	size_t len = sp ? (size_t)(sp - payload) : 0;
	char *end;
	long long v;
	int i;

	if (!len || len > DB_NODE_LEN || (v = strtoll(sp + 1, &end, 10)) < 0 || end == sp + 1 || *end)
		return;
	for (i = 0; i < pc->nacks; i++)
		if (strlen(pc->acks[i].node) == len && !memcmp(pc->acks[i].node, payload, len))
			break;
	if (i == pc->nacks) {
		if (i == PG_MAX_ACKS)
			return;
		memcpy(pc->acks[i].node, payload, len);
		pc->acks[i].node[len] = '\0';
		pc->acks[i].counter = -1;
		pc->nacks++;
	}
	if (v > pc->acks[i].counter)
		pc->acks[i].counter = v;
}

/* Reads every queued notification: a dam_change keeps the largest counter
 * the payloads announce, a dam_heard the node's acknowledgement; true if
 * there was one. */
static bool drain_notifies(struct pg_conn *pc)
{
	PGnotify *n;
	bool any = false;

	while ((n = PQnotifies(pc->c))) {
		const char *extra = n->extra ? n->extra : "";
		char *end;
		long long v;
		if (!strcmp(n->relname, "dam_heard"))
			note_ack(pc, extra);
		else if ((v = strtoll(extra, &end, 10)) > pc->heard && end != extra && !*end)
			pc->heard = v;
		PQfreemem(n);
		any = true;
	}
	return any;
}

static int p_announce_heard(void *conn, const char *node, int64_t counter, struct dam_err *err)
{
	char sql[DB_NODE_LEN + 64];

	/* node is checked by db.c ([0-9a-z-]): nothing to quote */
	snprintf(sql, sizeof sql, "NOTIFY dam_heard, '%s %lld'", node, (long long)counter);
	return run(pgc(conn), sql, err, "announce");
}

static void p_heard_each(void *conn, void (*fn)(const char *node, int64_t counter, void *arg), void *arg)
{
	struct pg_conn *pc = pgc(conn);

	for (int i = 0; i < pc->nacks; i++)
		fn(pc->acks[i].node, pc->acks[i].counter, arg);
	pc->nacks = 0;
}

static int64_t p_change_heard(void *conn) { return pgc(conn)->heard; }

static int p_wait_fd(void *conn)
{
	struct pg_conn *pc = pgc(conn);

	return pc->listening && PQstatus(pc->c) == CONNECTION_OK ? PQsocket(pc->c) : -1;
}

static int p_wait_change(void *conn, int timeout_ms, struct dam_err *err)
{
	struct pg_conn *pc = pgc(conn);
	int64_t end = mono_ms() + timeout_ms;
	int rc;

	park(pc);
	if (!pc->listening) {
		if ((rc = run(pc, "LISTEN dam_change; LISTEN dam_heard", err, "listen")) < 0)
			return rc;
		pc->listening = true;
		drain_notifies(pc);
		return 1; /* what happened before LISTEN was not heard */
	}
	for (;;) {
		if (!PQconsumeInput(pc->c))
			return fail(pc->c, NULL, err, "wait for changes");
		if (drain_notifies(pc))
			return 1;
		int64_t left = end - mono_ms();
		if (left <= 0)
			return 0;
		struct pollfd p = { .fd = PQsocket(pc->c), .events = POLLIN };
		if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
			return dam_err_errno(err, DAM_EDB, errno, "database: wait for changes");
	}
}

static void p_result_stats(void *conn, struct db_result_stats *out)
{
	*out = pgc(conn)->stats;
}

static int64_t p_changes(void *conn) { return ((struct pg_conn *)conn)->changes; }
static int64_t p_total_changes(void *conn) { return ((struct pg_conn *)conn)->total; }

int db_pg_is_url(const char *path)
{
	return !strncmp(path, "postgres://", 11) || !strncmp(path, "postgresql://", 13);
}

const struct db_backend db_pg_backend = {
	.name = "postgresql",
	.claims = db_pg_is_url,
	.open = p_open,
	.close = p_close,
	.exec = p_exec,
	.prepare = p_prepare,
	.bind_text = b_text,
	.bind_int = b_int,
	.bind_double = b_double,
	.bind_blob = b_blob,
	.bind_null = b_null,
	.step = p_step,
	.reset = p_reset,
	.finalize = p_finalize,
	.col_count = c_count,
	.col_is_null = c_null,
	.col_text = c_text,
	.col_int = c_int,
	.col_double = c_double,
	.col_blob = c_blob,
	.col_name = c_name,
	.keys_follow_rows = p_keys_follow_rows,
	.col_type = c_type,
	.get_version = get_version,
	.set_version = set_version,
	.changes = p_changes,
	.total_changes = p_total_changes,
	.commit = p_commit,
	.wait_change = p_wait_change,
	.change_heard = p_change_heard,
	.announce_heard = p_announce_heard,
	.heard_each = p_heard_each,
	.wait_fd = p_wait_fd,
	.result_stats = p_result_stats,
	/* Moves at every commit of a write transaction, by any connection on
	 * any node (own ones included: the caches only compare). */
	.data_version_sql = "SELECT n FROM dam_change WHERE id = 1",
	/* gc.lock of a folder library, for every node at once: session
	 * locks, since a writer holds it across its blob write and commit. */
	.gc_lock_sql = {
		{ "SELECT pg_advisory_lock_shared(" PG_LOCK_GC ")",
		  "SELECT pg_advisory_unlock_shared(" PG_LOCK_GC ")" },
		{ "SELECT pg_advisory_lock(" PG_LOCK_GC ")", "SELECT pg_advisory_unlock(" PG_LOCK_GC ")" },
	},
	/* READ COMMITTED plus one advisory lock taken by every write
	 * transaction: writers are serialised exactly as SQLite's BEGIN
	 * IMMEDIATE serialises them, so code written against SQLite (read,
	 * decide, write in one transaction) keeps its meaning and no caller
	 * needs a retry loop. SERIALIZABLE would let writers run side by side
	 * but fails some with 40001 (DAM_ECONFLICT here), so it needs a retry
	 * around each transaction first (the begin -> audit -> commit helper is
	 * the place). Readers outside transactions never wait for the lock. */
	.begin_sql = "BEGIN ISOLATION LEVEL READ COMMITTED;"
		     "SELECT pg_advisory_xact_lock(" PG_LOCK_WRITER ")",
	.durable_sql = { "SET synchronous_commit = off", "SET synchronous_commit = on" },
	/* Foreign keys stay on: a PostgreSQL migration changes tables with
	 * ALTER TABLE, never by SQLite's rebuild. */
	.fk_sql = { NULL, NULL },
	.check_fk_sql = NULL,
	.pieces = {
		[DB_PIECE_JSON_TEXT] = "(%1::jsonb ->> '%2')",
		[DB_PIECE_JSON_INT] = "(CASE jsonb_typeof(%1::jsonb -> '%2')"
				      " WHEN 'boolean' THEN ((%1::jsonb ->> '%2')::boolean)::int"
				      " WHEN 'number' THEN (%1::jsonb ->> '%2')::numeric::bigint END)",
		[DB_PIECE_JSON_AGG] = "coalesce(json_agg(%1 ORDER BY %2), '[]')",
		[DB_PIECE_STR_AGG] = "string_agg(%1, %3 ORDER BY %2)",
		[DB_PIECE_SKIP_LOCKED] = " FOR UPDATE SKIP LOCKED",
		[DB_PIECE_CI_EQ] = "lower(%1) = lower(%2)",
	},
	.migrations = db_pg_migrations,
	.nmigrations = &db_pg_nmigrations,
};
