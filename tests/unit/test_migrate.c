/* test_migrate.c - core/migrate.h: every table of the schema is either
 * copied by dam migrate or left out on purpose, so a table added by a
 * later migration cannot be forgotten silently (a library moved to
 * PostgreSQL would lose it), and rows go over whole in batches. */
#include "testutil.h"

#include <string.h>

#include "core/library.h"
#include "core/migrate.h"

static bool listed(const char *name)
{
	for (size_t i = 0; migrate_table(i); i++)
		if (!strcmp(migrate_table(i), name))
			return true;
	for (size_t i = 0; migrate_tables_skipped[i]; i++)
		if (!strcmp(migrate_tables_skipped[i], name))
			return true;
	return false;
}

static void test_every_table_is_copied_or_skipped(void **state)
{
	char *dir = tu_tempdir(), lib[4200];
	struct db_stmt *st;
	struct dam *dam;
	int rc, n = 0;

	(void)state;
	snprintf(lib, sizeof lib, "%s/lib", dir);
	assert_int_equal(library_init(lib, NULL), 0);
	assert_int_equal(library_open(lib, &dam, NULL), 0);
	/* The schema as SQLite holds it; the engine's own tables (FTS5's
	 * search_fts and its shadows, sqlite_*) are the search engine's. */
	assert_int_equal(db_query(dam->db, &st, NULL,
				  "SELECT name FROM sqlite_master WHERE type = 'table'"
				  " AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'search_fts%'",
				  ""),
			 0);
	while ((rc = db_step(st, NULL)) == DB_ROW) {
		const char *name = db_col_text(st, 0);

		if (!listed(name))
			fail_msg("table %s is neither copied nor skipped by dam migrate (core/migrate.c)", name);
		n++;
	}
	assert_int_equal(rc, DB_DONE);
	assert_true(n > 20);
	db_finalize(st);
	/* And nothing listed that the schema lacks (a renamed table). */
	for (size_t i = 0; migrate_table(i); i++) {
		int64_t have = 0;

		assert_int_equal(db_query_int(dam->db, &have, NULL,
					      "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?", "s",
					      migrate_table(i)),
				 0);
		if (have != 1)
			fail_msg("dam migrate copies table %s, which the schema does not have", migrate_table(i));
	}
	library_close(dam);
	tu_rmrf(dir);
	free(dir);
}

/* Rows go over in batches (500 rows a statement): a table of 1,234 rows
 * takes two full batches and a shorter last one, and every row arrives
 * with its values, NULLs included. */
static void test_rows_in_batches(void **state)
{
	char *dir = tu_tempdir(), from_dir[4200], to_dir[4200];
	struct dam *from, *to;
	struct migrate_report r;
	struct dam_err err = { 0 };
	int64_t n = 0, nulls = 0, sum = 0;

	(void)state;
	snprintf(from_dir, sizeof from_dir, "%s/from", dir);
	snprintf(to_dir, sizeof to_dir, "%s/to", dir);
	assert_int_equal(library_init(from_dir, NULL), 0);
	assert_int_equal(library_init(to_dir, NULL), 0);
	assert_int_equal(library_open(from_dir, &from, NULL), 0);
	assert_int_equal(library_open(to_dir, &to, NULL), 0);
	assert_int_equal(db_run(from->db, NULL,
				"WITH RECURSIVE i(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM i WHERE n < 1234)"
				" INSERT INTO events (id, at, actor, kind, object_id, data)"
				" SELECT 'e' || n, n, 'test', 'batch', CASE WHEN n % 7 = 0 THEN NULL ELSE 'o' || n END, NULL"
				" FROM i",
				""),
			 1234); /* rows changed */
	if (library_migrate(from, to, NULL, NULL, &r, &err) < 0)
		fail_msg("migrate: %s", err.msg);
	assert_int_equal(db_query_int(to->db, &n, NULL, "SELECT count(*) FROM events WHERE kind = 'batch'", ""), 0);
	assert_int_equal(n, 1234);
	assert_int_equal(db_query_int(to->db, &nulls, NULL, "SELECT count(*) FROM events WHERE object_id IS NULL", ""),
			 0);
	assert_int_equal(nulls, 1234 / 7);
	assert_int_equal(db_query_int(to->db, &sum, NULL, "SELECT sum(at) FROM events WHERE kind = 'batch'", ""), 0);
	assert_int_equal(sum, 1234 * 1235 / 2);
	if (library_migrate_verify(from, to, NULL, NULL, &err) < 0)
		fail_msg("verify: %s", err.msg);
	library_close(to);
	library_close(from);
	tu_rmrf(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_table_is_copied_or_skipped),
		cmocka_unit_test(test_rows_in_batches),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
