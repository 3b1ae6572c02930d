#include "testutil.h"

#include "core/audit.h"
#include "core/library.h"

struct fx {
	char *dir;
	struct dam *dam;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);

	f->dir = tu_tempdir();
	assert_int_equal(library_init(f->dir, NULL), 0);
	assert_int_equal(library_open(f->dir, &f->dam, NULL), 0);
	library_set_actor(f->dam, "test:unit");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	library_close(f->dam);
	tu_rmrf(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

static void append_rows(struct fx *f, int n)
{
	for (int i = 0; i < n; i++) {
		char id[16];
		json_t *after = json_pack("{s:i}", "n", i);
		snprintf(id, sizeof id, "obj%d", i);
		assert_int_equal(db_begin(f->dam->db, NULL), 0);
		assert_int_equal(audit_append(f->dam, "test.change", "thing", id, NULL, after, NULL), 0);
		assert_int_equal(db_commit(f->dam->db, NULL), 0);
		json_decref(after);
	}
}

static void test_empty_chain_ok(void **state)
{
	struct fx *f = *state;

	assert_int_equal(audit_verify(f->dam, NULL, NULL), 0);
}

static void test_intact_chain(void **state)
{
	struct fx *f = *state;

	append_rows(f, 5);
	assert_int_equal(audit_verify(f->dam, NULL, NULL), 5);
}

static void test_rollback_leaves_no_row(void **state)
{
	struct fx *f = *state;

	append_rows(f, 2);
	assert_int_equal(db_begin(f->dam->db, NULL), 0);
	assert_int_equal(audit_append(f->dam, "test.lost", "thing", "x", NULL, NULL, NULL), 0);
	db_rollback(f->dam->db);
	assert_int_equal(audit_verify(f->dam, NULL, NULL), 2);
}

static void test_edit_detected(void **state)
{
	struct fx *f = *state;
	struct audit_problem p;

	append_rows(f, 5);
	assert_int_equal(db_run(f->dam->db, NULL, "UPDATE audit SET actor='someone else' WHERE seq=3", ""), 1);
	assert_int_equal(audit_verify(f->dam, &p, NULL), DAM_EDAMAGED);
	assert_int_equal(p.seq, 3);
	assert_non_null(strstr(p.what, "edited"));
}

static void test_removed_middle_detected(void **state)
{
	struct fx *f = *state;
	struct audit_problem p;

	append_rows(f, 5);
	assert_int_equal(db_run(f->dam->db, NULL, "DELETE FROM audit WHERE seq=2", ""), 1);
	assert_int_equal(audit_verify(f->dam, &p, NULL), DAM_EDAMAGED);
	assert_int_equal(p.seq, 2);
	assert_non_null(strstr(p.what, "removed"));
}

static void test_removed_last_detected(void **state)
{
	struct fx *f = *state;
	struct audit_problem p;

	append_rows(f, 4);
	assert_int_equal(db_run(f->dam->db, NULL, "DELETE FROM audit WHERE seq=4", ""), 1);
	assert_int_equal(audit_verify(f->dam, &p, NULL), DAM_EDAMAGED);
	assert_int_equal(p.seq, 3);
	assert_non_null(strstr(p.what, "head"));
}

static void test_inserted_row_detected(void **state)
{
	struct fx *f = *state;
	struct audit_problem p;

	append_rows(f, 3);
	/* Renumber to make room and forge a row in the middle. */
	assert_true(db_run(f->dam->db, NULL, "UPDATE audit SET seq = seq + 10 WHERE seq >= 2", "") > 0);
	assert_true(db_run(f->dam->db, NULL, "UPDATE audit SET seq = seq - 9 WHERE seq >= 12", "") > 0);
	assert_int_equal(db_run(f->dam->db, NULL,
				"INSERT INTO audit SELECT 2, at, actor, 'forged', object_type, object_id, before, after,"
				" hash, hash FROM audit WHERE seq=1", ""), 1);
	assert_int_equal(audit_verify(f->dam, &p, NULL), DAM_EDAMAGED);
	assert_true(p.seq == 2 || p.seq == 3);
}

static int count_rows(void *ctx, const json_t *row)
{
	(*(int *)ctx)++;
	assert_string_equal(json_string_value(json_object_get(row, "actor")), "test:unit");
	return 0;
}

static void test_list(void **state)
{
	struct fx *f = *state;
	int n = 0;

	append_rows(f, 3);
	assert_int_equal(audit_list(f->dam, "obj1", 0, count_rows, &n, NULL), 0);
	assert_int_equal(n, 1);
	n = 0;
	assert_int_equal(audit_list(f->dam, NULL, 2, count_rows, &n, NULL), 0);
	assert_int_equal(n, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_empty_chain_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_intact_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollback_leaves_no_row, setup, teardown),
		cmocka_unit_test_setup_teardown(test_edit_detected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_removed_middle_detected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_removed_last_detected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inserted_row_detected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
