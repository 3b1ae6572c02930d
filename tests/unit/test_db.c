#include "testutil.h"

#include "db/db.h"

struct fx {
	char *dir;
	struct db *db;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	char path[4200];

	f->dir = tu_tempdir();
	snprintf(path, sizeof path, "%s/t.db", f->dir);
	assert_int_equal(db_open(path, &f->db, NULL), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	db_close(f->db);
	tu_rmrf(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

static const struct db_migration migs[] = {
	{ "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE, score REAL, data BLOB);", 0 },
	{ "ALTER TABLE t ADD COLUMN extra TEXT;", 0 },
};

static void test_migrate_and_version(void **state)
{
	struct fx *f = *state;
	int v;

	assert_int_equal(db_migrate(f->db, migs, 1, NULL), 0);
	assert_int_equal(db_schema_version(f->db, &v, NULL), 0);
	assert_int_equal(v, 1);
	assert_int_equal(db_migrate(f->db, migs, 2, NULL), 0);
	assert_int_equal(db_schema_version(f->db, &v, NULL), 0);
	assert_int_equal(v, 2);
	/* Re-applying is a no-op. */
	assert_int_equal(db_migrate(f->db, migs, 2, NULL), 0);
}

static void test_newer_schema_refused(void **state)
{
	struct fx *f = *state;
	struct dam_err err;

	assert_int_equal(db_migrate(f->db, migs, 2, NULL), 0);
	assert_int_equal(db_migrate(f->db, migs, 1, &err), DAM_EVERSION);
	assert_non_null(strstr(err.msg, "newer dam"));
}

static void test_failed_migration_rolls_back(void **state)
{
	struct fx *f = *state;
	const struct db_migration bad[] = { migs[0], { "CREATE TABLE u (x); THIS IS NOT SQL;", 0 } };
	struct dam_err err;
	int64_t n;
	int v;

	assert_int_equal(db_migrate(f->db, bad, 2, &err), DAM_EDB);
	assert_non_null(strstr(err.msg, "migration"));
	assert_int_equal(db_schema_version(f->db, &v, NULL), 0);
	assert_int_equal(v, 0);
	/* Neither table exists: the whole step was one transaction. */
	assert_int_equal(db_query_int(f->db, &n, NULL,
				      "SELECT count(*) FROM sqlite_master WHERE name IN ('t','u')", ""), 0);
	assert_int_equal(n, 0);
}

static void test_bind_types_and_columns(void **state)
{
	struct fx *f = *state;
	struct db_stmt *st;
	const void *blob;
	size_t len;

	assert_int_equal(db_migrate(f->db, migs, 2, NULL), 0);
	assert_int_equal(db_run(f->db, NULL, "INSERT INTO t(id, name, score, data, extra) VALUES (?,?,?,?,?)",
				"isdbn", (int64_t)7, "seven", 7.5, "\0\1\2", (size_t)3), 1);
	assert_int_equal(db_query(f->db, &st, NULL, "SELECT id, name, score, data, extra FROM t WHERE name=?",
				  "s", "seven"), 0);
	assert_int_equal(db_step(st, NULL), DB_ROW);
	assert_int_equal(db_col_int(st, 0), 7);
	assert_string_equal(db_col_text(st, 1), "seven");
	assert_true(db_col_double(st, 2) == 7.5);
	blob = db_col_blob(st, 3, &len);
	assert_int_equal(len, 3);
	assert_memory_equal(blob, "\0\1\2", 3);
	assert_true(db_col_is_null(st, 4));
	assert_string_equal(db_col_text(st, 4), "");
	assert_int_equal(db_step(st, NULL), DB_DONE);
	db_finalize(st);
}

static void test_constraint_is_conflict(void **state)
{
	struct fx *f = *state;
	struct dam_err err;

	assert_int_equal(db_migrate(f->db, migs, 1, NULL), 0);
	assert_int_equal(db_run(f->db, NULL, "INSERT INTO t(name) VALUES (?)", "s", "x"), 1);
	assert_int_equal(db_run(f->db, &err, "INSERT INTO t(name) VALUES (?)", "s", "x"), DAM_ECONFLICT);
	assert_non_null(strstr(err.msg, "UNIQUE"));
}

static void test_transaction_rollback(void **state)
{
	struct fx *f = *state;
	int64_t n = -1;

	assert_int_equal(db_migrate(f->db, migs, 1, NULL), 0);
	assert_int_equal(db_begin(f->db, NULL), 0);
	assert_int_equal(db_run(f->db, NULL, "INSERT INTO t(name) VALUES ('a')", ""), 1);
	db_rollback(f->db);
	assert_int_equal(db_query_int(f->db, &n, NULL, "SELECT count(*) FROM t", ""), 0);
	assert_int_equal(n, 0);
	db_rollback(f->db); /* no transaction: harmless */
	assert_int_equal(db_begin(f->db, NULL), 0);
	assert_int_equal(db_run(f->db, NULL, "INSERT INTO t(name) VALUES ('b')", ""), 1);
	assert_int_equal(db_commit(f->db, NULL), 0);
	assert_int_equal(db_query_int(f->db, &n, NULL, "SELECT count(*) FROM t", ""), 0);
	assert_int_equal(n, 1);
}

static void test_errors_not_crashes(void **state)
{
	struct fx *f = *state;
	struct db_stmt *st = NULL;
	struct dam_err err;
	int64_t n;

	assert_int_equal(db_prepare(f->db, "SELEC nonsense", &st, &err), DAM_EDB);
	assert_null(st);
	assert_int_equal(db_query_int(f->db, &n, &err, "SELECT 1 WHERE 0", ""), DAM_ENOTFOUND);
	db_finalize(NULL);
	db_close(NULL);
}

static void fill(struct fx *f)
{
	assert_int_equal(db_migrate(f->db, migs, 1, NULL), 0);
	for (int i = 1; i <= 5; i++)
		assert_int_equal(db_run(f->db, NULL, "INSERT INTO t(id, name) VALUES (?, ?)", "is", (int64_t)i,
					i == 1 ? "one" : i == 2 ? "two" : i == 3 ? "three" : i == 4 ? "four" : "five"), 1);
}

/* A finalized statement is reused by the next prepare of the same SQL,
 * with its bindings cleared and its read ended. */
static void test_stmt_cache_reuse(void **state)
{
	struct fx *f = *state;
	struct db_cache_stats a, b;
	struct db_stmt *st;
	int64_t n = 0;

	fill(f);
	db_cache_stats(f->db, &a);
	for (int i = 1; i <= 5; i++) {
		assert_int_equal(db_query_int(f->db, &n, NULL, "SELECT count(*) FROM t WHERE id <= ?", "i", (int64_t)i), 0);
		assert_int_equal(n, i);
	}
	db_cache_stats(f->db, &b);
	assert_int_equal(b.prepares - a.prepares, 1);
	assert_int_equal(b.hits - a.hits, 4);
	/* Reused without binding: the old value is gone (NULL matches nothing). */
	assert_int_equal(db_prepare(f->db, "SELECT count(*) FROM t WHERE id <= ?", &st, NULL), 0);
	assert_int_equal(db_step(st, NULL), DB_ROW);
	assert_int_equal(db_col_int(st, 0), 0);
	db_finalize(st);
	/* A statement given back mid-iteration holds no read: a write from
	 * another connection goes through at once. */
	assert_int_equal(db_query(f->db, &st, NULL, "SELECT name FROM t ORDER BY id", NULL), 0);
	assert_int_equal(db_step(st, NULL), DB_ROW);
	db_finalize(st);
	{
		struct db *other;
		char path[4200];
		snprintf(path, sizeof path, "%s/t.db", f->dir);
		assert_int_equal(db_open(path, &other, NULL), 0);
		struct db_stmt *ck;
		/* A full checkpoint waits for (then gives up on) open readers. */
		assert_int_equal(db_query(other, &ck, NULL, "PRAGMA wal_checkpoint(TRUNCATE)", NULL), 0);
		assert_int_equal(db_step(ck, NULL), DB_ROW);
		assert_int_equal(db_col_int(ck, 0), 0); /* not busy */
		db_finalize(ck);
		assert_int_equal(db_run(other, NULL, "DELETE FROM t WHERE id=5", NULL), 1);
		db_close(other);
	}
	assert_int_equal(db_query_int(f->db, &n, NULL, "SELECT count(*) FROM t", NULL), 0);
	assert_int_equal(n, 4);
}

/* Two live statements of the same SQL (a nested query) never share a
 * handle: each keeps its own bindings and position. */
static void test_stmt_cache_nested_same_sql(void **state)
{
	static const char sql[] = "SELECT id, name FROM t WHERE id >= ? ORDER BY id";
	struct fx *f = *state;
	struct db_stmt *outer, *inner, *again;
	struct db_cache_stats a, b;
	int rows = 0;

	fill(f);
	assert_int_equal(db_query(f->db, &outer, NULL, sql, "i", (int64_t)1), 0);
	while (db_step(outer, NULL) == DB_ROW) {
		int64_t id = db_col_int(outer, 0);
		char name[16];
		snprintf(name, sizeof name, "%s", db_col_text(outer, 1));
		assert_int_equal(db_query(f->db, &inner, NULL, sql, "i", id + 1), 0);
		assert_ptr_not_equal(inner, outer);
		for (int64_t want = id + 1; want <= 5; want++) {
			assert_int_equal(db_step(inner, NULL), DB_ROW);
			assert_int_equal(db_col_int(inner, 0), want);
		}
		assert_int_equal(db_step(inner, NULL), DB_DONE);
		db_finalize(inner);
		/* The outer statement's row is untouched by the inner one. */
		assert_int_equal(db_col_int(outer, 0), id);
		assert_string_equal(db_col_text(outer, 1), name);
		rows++;
	}
	assert_int_equal(rows, 5);
	db_finalize(outer);
	/* Both handles are now idle and reused, and two can be live at once
	 * again without preparing. */
	db_cache_stats(f->db, &a);
	assert_int_equal(db_query(f->db, &outer, NULL, sql, "i", (int64_t)4), 0);
	assert_int_equal(db_query(f->db, &again, NULL, sql, "i", (int64_t)5), 0);
	assert_ptr_not_equal(outer, again);
	assert_int_equal(db_step(outer, NULL), DB_ROW);
	assert_int_equal(db_step(again, NULL), DB_ROW);
	assert_int_equal(db_col_int(outer, 0), 4);
	assert_int_equal(db_col_int(again, 0), 5);
	db_finalize(again);
	db_finalize(outer);
	db_cache_stats(f->db, &b);
	assert_int_equal(b.prepares, a.prepares);
	assert_int_equal(b.hits - a.hits, 2);
}

/* More distinct statements than the cache holds: the least recently used
 * idle ones are finalized, live ones never. */
static void test_stmt_cache_eviction(void **state)
{
	struct fx *f = *state;
	struct db_cache_stats s;
	struct db_stmt *live;
	char sql[128];
	int64_t n;

	fill(f);
	assert_int_equal(db_query(f->db, &live, NULL, "SELECT name FROM t WHERE id=?", "i", (int64_t)3), 0);
	for (int i = 0; i < 300; i++) {
		snprintf(sql, sizeof sql, "SELECT count(*) + %d FROM t", i);
		assert_int_equal(db_query_int(f->db, &n, NULL, sql, NULL), 0);
		assert_int_equal(n, 5 + i);
	}
	db_cache_stats(f->db, &s);
	assert_true(s.evictions > 0);
	assert_true(s.cached <= 64);
	assert_int_equal(db_step(live, NULL), DB_ROW);
	assert_string_equal(db_col_text(live, 0), "three");
	db_finalize(live);
}

/* Pieces expand per backend; on SQLite to json_extract, json_group_array
 * and group_concat, with arguments holding commas and parentheses. */
static void test_dialect_pieces(void **state)
{
	struct fx *f = *state;
	struct db_stmt *st;
	struct dam_err err;

	assert_int_equal(db_exec(f->db, "CREATE TABLE j (k INTEGER, doc TEXT);"
				 "INSERT INTO j VALUES (2, '{\"a\":\"x,y\",\"b\":true,\"n\":7}'), (1, '{\"a\":\"z\"}')", NULL), 0);
	assert_int_equal(db_query(f->db, &st, &err,
				  "SELECT {{json_text(doc, a)}}, coalesce({{json_int(doc, b)}}, -1), {{json_int(doc, n)}}"
				  " FROM j ORDER BY k DESC", ""), 0);
	assert_int_equal(db_step(st, &err), DB_ROW);
	assert_string_equal(db_col_text(st, 0), "x,y");
	assert_int_equal(db_col_int(st, 1), 1);
	assert_int_equal(db_col_int(st, 2), 7);
	assert_int_equal(db_step(st, &err), DB_ROW);
	assert_string_equal(db_col_text(st, 0), "z");
	assert_int_equal(db_col_int(st, 1), -1);
	assert_true(db_col_is_null(st, 2));
	db_finalize(st);
	assert_int_equal(db_query(f->db, &st, &err,
				  "SELECT (SELECT {{json_agg({{json_text(doc, a)}}, k)}} FROM (SELECT doc, k FROM j ORDER BY k)),"
				  " (SELECT {{str_agg(coalesce(substr(doc, 1, 2), ''), k, ', ')}} FROM (SELECT doc, k FROM j ORDER BY k)),"
				  " (SELECT {{json_agg(k, k)}} FROM j WHERE k > 5)", ""), 0);
	assert_int_equal(db_step(st, &err), DB_ROW);
	assert_string_equal(db_col_text(st, 0), "[\"z\",\"x,y\"]");
	assert_string_equal(db_col_text(st, 1), "{\", {\"");
	assert_string_equal(db_col_text(st, 2), "[]");
	db_finalize(st);
	/* unknown piece, wrong count, unclosed */
	assert_int_equal(db_prepare(f->db, "SELECT {{nope(1)}}", &st, &err), DAM_EINVAL);
	assert_int_equal(db_prepare(f->db, "SELECT {{json_text(doc)}} FROM j", &st, &err), DAM_EINVAL);
	assert_int_equal(db_prepare(f->db, "SELECT {{json_text(doc, a) FROM j", &st, &err), DAM_EINVAL);
	assert_non_null(strstr(err.msg, "dialect piece"));
}

/* A DB_MIGRATION_NO_FK step can drop and rebuild a referenced table; the
 * steps around it keep foreign keys on, and a step that leaves a dangling
 * reference is refused. */
static void test_migration_without_foreign_keys(void **state)
{
	struct fx *f = *state;
	static const struct db_migration m[] = {
		{ "CREATE TABLE p (id TEXT PRIMARY KEY); CREATE TABLE c (p TEXT REFERENCES p(id));"
		  "INSERT INTO p VALUES ('a'); INSERT INTO c VALUES ('a');", 0 },
		{ "CREATE TABLE p2 (num INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE);"
		  "INSERT INTO p2(num, id) SELECT rowid, id FROM p; DROP TABLE p; ALTER TABLE p2 RENAME TO p;",
		  DB_MIGRATION_NO_FK },
		{ "CREATE TABLE after (x);", 0 },
		{ "DELETE FROM p;", DB_MIGRATION_NO_FK },
	};
	struct dam_err err;
	int64_t n = 0;
	int v;

	assert_int_equal(db_migrate(f->db, m, 3, &err), 0);
	assert_int_equal(db_schema_version(f->db, &v, NULL), 0);
	assert_int_equal(v, 3);
	assert_int_equal(db_query_int(f->db, &n, NULL, "SELECT num FROM p WHERE id='a'", ""), 0);
	assert_int_equal(n, 1);
	/* foreign keys are on again */
	assert_int_equal(db_run(f->db, &err, "INSERT INTO c VALUES ('nobody')", ""), DAM_ECONFLICT);
	assert_int_equal(db_migrate(f->db, m, 4, &err), DAM_EDB);
	assert_non_null(strstr(err.msg, "foreign key"));
	assert_int_equal(db_schema_version(f->db, &v, NULL), 0);
	assert_int_equal(v, 3);
	assert_int_equal(db_query_int(f->db, &n, NULL, "SELECT count(*) FROM p", ""), 0);
	assert_int_equal(n, 1);
	assert_int_equal(db_run(f->db, &err, "INSERT INTO c VALUES ('nobody')", ""), DAM_ECONFLICT);
}

static void expect_rows(struct db *db, const char *sql, const char *want)
{
	char got[512] = "";
	struct db_stmt *st;
	struct dam_err err;
	int rc;

	assert_int_equal(db_query(db, &st, &err, sql, ""), 0);
	while ((rc = db_step(st, &err)) == DB_ROW)
		snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s|%s", *got ? " " : "",
			 db_col_text(st, 0), db_col_text(st, 1));
	db_finalize(st);
	assert_int_equal(rc, DB_DONE);
	assert_string_equal(got, want);
}

/* A library at the schema before the stable keys (12) keeps its rows, and
 * every rowid stored elsewhere still names the same asset, version, term
 * and synonym as its num; new rows number on from there. */
static void test_migration_13_keeps_rows_as_nums(void **state)
{
	struct fx *f = *state;
	const struct db_migration *m;
	struct dam_err err;
	int n, v;

	m = db_migrations(f->db, &n);
	assert_true(n >= 13);
	assert_int_equal(db_migrate(f->db, m, 12, &err), 0);
	assert_int_equal(db_exec(f->db,
		"INSERT INTO blobs VALUES ('h1', 3, 2, 1);"
		"INSERT INTO assets(rowid, id, name, kind, current_version_id, created_at, updated_at, created_by)"
		"  VALUES (5, 'A5', 'five', 'image', 'V9', 1, 2, 'u'), (9, 'A9', 'nine', 'image', 'V4', 3, 4, NULL);"
		"INSERT INTO versions(rowid, id, asset_id, number, blob_hash, size, filename, mime, kind, created_at, created_by)"
		"  VALUES (9, 'V9', 'A5', 1, 'h1', 3, 'a.jpg', 'image/jpeg', 'image', 1, 'u'),"
		"         (4, 'V4', 'A9', 1, 'h1', 3, 'b.jpg', 'image/jpeg', 'image', 3, 'u');"
		"INSERT INTO search_docs VALUES (9, 5, 1), (4, 9, 1);"
		"INSERT INTO vocabs VALUES ('c', 1);"
		"INSERT INTO vocab_terms(rowid, vocab, term, created_at) VALUES (7, 'c', 'red', 1), (3, 'c', 'blue', 1);"
		"INSERT INTO vocab_synonyms(rowid, vocab, synonym, term) VALUES (8, 'c', 'rot', 'red'), (2, 'c', 'blau', 'blue');",
		&err), 0);
	assert_int_equal(db_migrate_latest(f->db, &err), 0);
	assert_int_equal(db_schema_version(f->db, &v, NULL), 0);
	assert_int_equal(v, n);
	expect_rows(f->db, "SELECT a.num, a.id || '/' || a.name || '/' || coalesce(a.created_by, '-') FROM assets a ORDER BY num",
		    "5|A5/five/u 9|A9/nine/-");
	expect_rows(f->db, "SELECT v.num, v.id || '/' || a.id FROM versions v JOIN assets a ON a.id = v.asset_id ORDER BY v.num",
		    "4|V4/A9 9|V9/A5");
	expect_rows(f->db, "SELECT d.version_rowid, a.id || '/' || v.id FROM search_docs d JOIN assets a ON a.num = d.asset_rowid"
			   " JOIN versions v ON v.num = d.version_rowid ORDER BY 1", "4|A9/V4 9|A5/V9");
	expect_rows(f->db, "SELECT num, term FROM vocab_terms ORDER BY num", "3|blue 7|red");
	expect_rows(f->db, "SELECT num, synonym || '=' || term FROM vocab_synonyms ORDER BY num", "2|blau=blue 8|rot=red");
	/* new rows number on; the old keys stay unique and referenced */
	assert_int_equal(db_run(f->db, &err, "INSERT INTO assets(id, name, kind, created_at, updated_at) VALUES ('A10', 't', 'image', 5, 5)", ""), 1);
	expect_rows(f->db, "SELECT num, id FROM assets WHERE id = 'A10'", "10|A10");
	assert_int_equal(db_run(f->db, &err, "INSERT INTO assets(id, name, kind, created_at, updated_at) VALUES ('A5', 'x', 'image', 5, 5)", ""), DAM_ECONFLICT);
	assert_int_equal(db_run(f->db, &err, "INSERT INTO vocab_synonyms(vocab, synonym, term) VALUES ('c', 'x', 'green')", ""), DAM_ECONFLICT);
	assert_int_equal(db_run(f->db, &err, "INSERT INTO vocab_terms(vocab, term, created_at) VALUES ('c', 'RED', 1)", ""), DAM_ECONFLICT);
	/* the triggers came back: an update marks the asset dirty and purges */
	assert_true(db_run(f->db, &err, "DELETE FROM search_dirty", "") >= 0);
	assert_int_equal(db_run(f->db, &err, "UPDATE assets SET deleted_at = 7 WHERE id = 'A9'", ""), 1);
	expect_rows(f->db, "SELECT asset_id, count(*) FROM search_dirty GROUP BY asset_id", "A9|1");
	expect_rows(f->db, "SELECT surrogate_key, reason FROM purge_outbox", "asset-A9|deleted");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_migrate_and_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dialect_pieces, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migration_without_foreign_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migration_13_keeps_rows_as_nums, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_migration_rolls_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bind_types_and_columns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_constraint_is_conflict, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transaction_rollback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors_not_crashes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stmt_cache_reuse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stmt_cache_nested_same_sql, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stmt_cache_eviction, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
