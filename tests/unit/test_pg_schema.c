#include "testutil.h"

#include "db/db.h"
#include "db/search_backend.h"
#include "db/search_pg_ddl.h"

/*
 * The two engines' migrations make the same schema: migrating a fresh
 * SQLite file and a fresh PostgreSQL database (DAM_TEST_PG_URL, whose
 * public schema is emptied first; tests/pg/run.sh sets it) to their latest
 * versions gives the same version number, the same tables, the same
 * columns with the same kind of value (integer, real, text, blob: what the
 * C code reads with db_col_int, db_col_double, ...) and the same triggers.
 * A migration written for one engine only fails here. Left out: each
 * full-text engine's own tables (named in its DDL) and each backend's
 * bookkeeping. Without DAM_TEST_PG_URL the test is skipped.
 */
static const char *pg_url;

#define ROWS_MAX 512

struct rows {
	char *row[ROWS_MAX];
	int n;
};

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void rows_free(struct rows *r)
{
	for (int i = 0; i < r->n; i++)
		free(r->row[i]);
	r->n = 0;
}

/* Each row of sql, its text columns joined by " ", sorted. */
static void rows_read(struct db *db, const char *sql, struct rows *r)
{
	struct db_stmt *st;
	struct dam_err err = { 0 };
	int rc;

	assert_int_equal(db_query(db, &st, &err, sql, NULL), 0);
	while ((rc = db_step(st, &err)) == DB_ROW) {
		char line[512] = "";
		for (int c = 0; c < db_col_count(st); c++)
			snprintf(line + strlen(line), sizeof line - strlen(line), "%s%s", c ? " " : "",
				 db_col_text(st, c));
		assert_true(r->n < ROWS_MAX);
		r->row[r->n++] = strdup(line);
	}
	if (rc < 0)
		fail_msg("%s: %s", sql, err.msg);
	db_finalize(st);
	qsort(r->row, (size_t)r->n, sizeof *r->row, cmp_str);
}

/* True when table is one the engine's DDL creates (or, for an FTS5 table,
 * one of its shadow tables "NAME_data", ...). */
static bool engine_table(const char *ddl, const char *table)
{
	static const char *const verbs[] = { "CREATE TABLE ", "CREATE VIRTUAL TABLE " };

	for (size_t v = 0; v < 2; v++)
		for (const char *p = ddl; (p = strstr(p, verbs[v])); p++) {
			const char *name = p + strlen(verbs[v]);
			size_t n = strcspn(name, " (");
			if (!strncmp(name, table, n) && (table[n] == 0 || (v == 1 && table[n] == '_')))
				return true;
		}
	return false;
}

/* Drops the rows whose first word is an engine table. */
static void rows_drop_engine(struct rows *r, const char *ddl)
{
	int k = 0;

	for (int i = 0; i < r->n; i++) {
		char table[128];
		snprintf(table, sizeof table, "%.*s", (int)strcspn(r->row[i], " "), r->row[i]);
		if (engine_table(ddl, table))
			free(r->row[i]);
		else
			r->row[k++] = r->row[i];
	}
	r->n = k;
}

/* Prints each row only one side has; returns how many. */
static int rows_diff(const struct rows *a, const struct rows *b, const char *what)
{
	int i = 0, j = 0, bad = 0;

	while (i < a->n || j < b->n) {
		int c = i == a->n ? 1 : j == b->n ? -1 : strcmp(a->row[i], b->row[j]);
		if (c < 0)
			print_error("%s only on SQLite: %s\n", what, a->row[i++]), bad++;
		else if (c > 0)
			print_error("%s only on PostgreSQL: %s\n", what, b->row[j++]), bad++;
		else
			i++, j++;
	}
	return bad;
}

static void rows_assert_equal(const struct rows *a, const struct rows *b, const char *what)
{
	int bad = rows_diff(a, b, what);

	if (bad)
		fail_msg("%d %s differ between the engines' latest schemas", bad, what);
}

/* Column kinds: what SQLite declares and what PostgreSQL stores, mapped to
 * the value the C code reads. */
static const char sqlite_columns[] =
	"SELECT m.name, p.name, CASE upper(p.type) WHEN 'INTEGER' THEN 'int' WHEN 'REAL' THEN 'real'"
	" WHEN 'TEXT' THEN 'text' WHEN 'BLOB' THEN 'blob' ELSE '?' || p.type END"
	" FROM sqlite_master m JOIN pragma_table_info(m.name) p"
	" WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'";
static const char pg_columns[] =
	"SELECT table_name::text, column_name::text, CASE udt_name WHEN 'int8' THEN 'int' WHEN 'int4' THEN 'int'"
	" WHEN 'float8' THEN 'real' WHEN 'text' THEN 'text' WHEN 'citext' THEN 'text' WHEN 'bytea' THEN 'blob'"
	" ELSE '?' || udt_name END"
	" FROM information_schema.columns WHERE table_schema = 'public'"
	" AND table_name NOT IN ('dam_schema', 'dam_change')";
static const char sqlite_triggers[] = "SELECT name FROM sqlite_master WHERE type = 'trigger'";
static const char pg_triggers[] =
	"SELECT DISTINCT trigger_name::text FROM information_schema.triggers WHERE trigger_schema = 'public'";

static void test_same_schema(void **state)
{
	struct rows sc = { 0 }, pc = { 0 }, st = { 0 }, pt = { 0 };
	struct dam_err err = { 0 };
	struct db *sq = NULL, *pg = NULL;
	char *dir, path[512];
	int sv = 0, pv = 0;

	(void)state;
	if (!pg_url)
		skip(); /* tests/pg/run.sh runs it with a server */
	dir = tu_tempdir();
	snprintf(path, sizeof path, "%s/dam.db", dir);
	assert_int_equal(db_open(path, &sq, &err), 0);
	if (db_migrate_latest(sq, &err) < 0)
		fail_msg("sqlite: %s", err.msg);
	assert_int_equal(db_open(pg_url, &pg, &err), 0);
	assert_int_equal(db_exec(pg, "DROP SCHEMA public CASCADE; CREATE SCHEMA public", &err), 0);
	db_close(pg);
	assert_int_equal(db_open(pg_url, &pg, &err), 0); /* makes the bookkeeping tables again */
	if (db_migrate_latest(pg, &err) < 0)
		fail_msg("postgresql: %s", err.msg);

	assert_int_equal(db_schema_version(sq, &sv, NULL), 0);
	assert_int_equal(db_schema_version(pg, &pv, NULL), 0);
	assert_int_equal(sv, pv);

	rows_read(sq, sqlite_columns, &sc);
	rows_read(pg, pg_columns, &pc);
	rows_drop_engine(&sc, search_fts5_backend.ddl);
	rows_drop_engine(&pc, SEARCH_PG_DDL);
	assert_true(sc.n > 100); /* the schema is there, not an empty read */
	rows_assert_equal(&sc, &pc, "columns");

	rows_read(sq, sqlite_triggers, &st);
	rows_read(pg, pg_triggers, &pt);
	assert_true(st.n > 10);
	rows_assert_equal(&st, &pt, "triggers");

	rows_free(&sc);
	rows_free(&pc);
	rows_free(&st);
	rows_free(&pt);
	db_close(sq);
	db_close(pg);
	tu_rmrf(dir);
	free(dir);
}

/* The test's own comparison can fail: a column one engine lacks is found. */
static void test_difference_is_found(void **state)
{
	struct rows a = { 0 }, b = { 0 };

	(void)state;
	a.row[a.n++] = strdup("assets id text");
	a.row[a.n++] = strdup("assets num int");
	b.row[b.n++] = strdup("assets id text");
	assert_int_equal(rows_diff(&a, &b, "columns (expected)"), 1);
	rows_free(&a);
	rows_free(&b);
	assert_true(engine_table("CREATE VIRTUAL TABLE search_fts USING fts5(x);", "search_fts_data"));
	assert_false(engine_table("CREATE TABLE search_text (x int);", "search_text_x"));
	assert_false(engine_table("CREATE TABLE search_text (x int);", "search_docs"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_difference_is_found),
		cmocka_unit_test(test_same_schema),
	};

	pg_url = tu_pg_url();
	return cmocka_run_group_tests_name("pg_schema", tests, NULL, NULL);
}
