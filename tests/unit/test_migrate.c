/* test_migrate.c - core/migrate.h: every table of the schema is either
 * copied by dam migrate or left out on purpose, so a table added by a
 * later migration cannot be forgotten silently (a library moved to
 * PostgreSQL would lose it). */
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_table_is_copied_or_skipped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
