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

static const char *const migs[] = {
	"CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE, score REAL, data BLOB);",
	"ALTER TABLE t ADD COLUMN extra TEXT;",
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
	const char *const bad[] = { migs[0], "CREATE TABLE u (x); THIS IS NOT SQL;" };
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_migrate_and_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_migration_rolls_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bind_types_and_columns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_constraint_is_conflict, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transaction_rollback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors_not_crashes, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
