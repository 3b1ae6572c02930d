#include "testutil.h"

#include "core/ingest.h"
#include "core/job.h"
#include "core/library.h"

struct fx {
	char *dir;
	struct dam *dam;
	char versions[3][DAM_ID_LEN + 1];
};

/* Three ingested files, with jobs of priority bulk, interactive, bulk. */
static int setup(void **state)
{
	static const int prio[3] = { JOB_PRIO_BULK, JOB_PRIO_INTERACTIVE, JOB_PRIO_BULK };
	struct fx *f = calloc(1, sizeof *f);
	char lib[4200], file[4200];

	f->dir = tu_tempdir();
	snprintf(lib, sizeof lib, "%s/lib", f->dir);
	assert_int_equal(library_init(lib, NULL), 0);
	assert_int_equal(library_open(lib, &f->dam, NULL), 0);
	for (int i = 0; i < 3; i++) {
		struct ingest_opts o = { .priority = prio[i] };
		struct ingest_result r;
		FILE *fp;
		snprintf(file, sizeof file, "%s/f%d.txt", f->dir, i);
		fp = fopen(file, "w");
		fprintf(fp, "file number %d\n", i);
		fclose(fp);
		assert_int_equal(ingest_file(f->dam, file, &o, &r), 0);
		assert_int_equal(r.status, INGEST_ADDED);
		memcpy(f->versions[i], r.version_id, sizeof r.version_id);
	}
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

static void test_claim_order_priority_then_age(void **state)
{
	struct fx *f = *state;
	struct job j;

	assert_int_equal(job_claim(f->dam, "test:1", &j, NULL), 1);
	assert_string_equal(j.version_id, f->versions[1]); /* interactive first */
	assert_int_equal(j.attempts, 1);
	assert_string_equal(j.kind, "process");
	assert_int_equal(job_claim(f->dam, "test:1", &j, NULL), 1);
	assert_string_equal(j.version_id, f->versions[0]); /* then oldest */
	assert_int_equal(job_claim(f->dam, "test:1", &j, NULL), 1);
	assert_string_equal(j.version_id, f->versions[2]);
	assert_int_equal(job_claim(f->dam, "test:1", &j, NULL), 0); /* empty */
}

static int64_t count_state(struct fx *f, const char *state)
{
	int64_t n = -1;

	assert_int_equal(db_query_int(f->dam->db, &n, NULL, "SELECT count(*) FROM jobs WHERE state=?", "s", state), 0);
	return n;
}

static void test_retryable_failure_backs_off(void **state)
{
	struct fx *f = *state;
	struct job j, k;

	assert_int_equal(job_claim(f->dam, "test:1", &j, NULL), 1);
	assert_int_equal(job_fail(f->dam, j.id, "crashed", true, NULL), 0);
	assert_int_equal(count_state(f, "queued"), 3);
	/* Backing off: the other two are claimable, the failed one not yet. */
	assert_int_equal(job_claim(f->dam, "test:1", &k, NULL), 1);
	assert_string_not_equal(k.id, j.id);
	assert_int_equal(job_claim(f->dam, "test:1", &k, NULL), 1);
	assert_string_not_equal(k.id, j.id);
	assert_int_equal(job_claim(f->dam, "test:1", &k, NULL), 0);
}

static void test_permanent_failure_marks_version(void **state)
{
	struct fx *f = *state;
	struct db_stmt *st;
	struct job j;

	assert_int_equal(job_claim(f->dam, "test:1", &j, NULL), 1);
	assert_int_equal(job_fail(f->dam, j.id, "cannot decode image: garbage", false, NULL), 0);
	assert_int_equal(count_state(f, "failed"), 1);
	assert_int_equal(db_query(f->dam->db, &st, NULL, "SELECT status, error FROM versions WHERE id=?", "s",
				  j.version_id), 0);
	assert_int_equal(db_step(st, NULL), DB_ROW);
	assert_string_equal(db_col_text(st, 0), "failed");
	assert_string_equal(db_col_text(st, 1), "cannot decode image: garbage");
	db_finalize(st);
	/* retry brings it back, with its version pending again */
	assert_int_equal(job_retry(f->dam, NULL, NULL), 1);
	assert_int_equal(count_state(f, "failed"), 0);
	assert_int_equal(count_state(f, "queued"), 3);
	assert_int_equal(job_retry(f->dam, j.id, NULL), DAM_ENOTFOUND);
}

static void test_attempts_exhausted(void **state)
{
	struct fx *f = *state;
	struct job j;

	assert_int_equal(db_run(f->dam->db, NULL, "UPDATE jobs SET max_attempts=1", ""), 3);
	assert_int_equal(job_claim(f->dam, "test:1", &j, NULL), 1);
	assert_int_equal(job_fail(f->dam, j.id, "crashed", true, NULL), 0);
	assert_int_equal(count_state(f, "failed"), 1);
}

static void test_dead_worker_jobs_return(void **state)
{
	struct fx *f = *state;
	char dead[160];
	struct job j;

	job_worker_name(dead, sizeof dead);
	/* Same host, a pid that cannot exist. */
	*strrchr(dead, ':') = '\0';
	snprintf(dead + strlen(dead), sizeof dead - strlen(dead), ":2147483646");
	assert_int_equal(db_run(f->dam->db, NULL, "UPDATE jobs SET state='running', worker=?", "s", dead), 3);
	assert_int_equal(job_claim(f->dam, "test:1", &j, NULL), 1);
	assert_int_equal(count_state(f, "queued"), 2);
	assert_int_equal(count_state(f, "running"), 1);
}

static void test_live_worker_jobs_stay(void **state)
{
	struct fx *f = *state;
	char me[160];
	struct job j;

	job_worker_name(me, sizeof me);
	assert_int_equal(db_run(f->dam->db, NULL, "UPDATE jobs SET state='running', worker=?", "s", me), 3);
	assert_int_equal(job_claim(f->dam, "test:2", &j, NULL), 0);
	assert_int_equal(count_state(f, "running"), 3);
}

static void test_cancel_and_counts(void **state)
{
	struct fx *f = *state;
	json_t *counts, *list;
	struct job j;

	assert_int_equal(job_claim(f->dam, "test:1", &j, NULL), 1);
	assert_int_equal(job_cancel(f->dam, j.id, NULL), DAM_ENOTFOUND); /* running, not queued */
	assert_int_equal(job_list(f->dam, "queued", 0, &list, NULL), 0);
	assert_int_equal(json_array_size(list), 2);
	assert_int_equal(job_cancel(f->dam, json_string_value(json_object_get(json_array_get(list, 0), "id")), NULL), 0);
	json_decref(list);
	assert_int_equal(job_counts(f->dam, &counts, NULL), 0);
	assert_int_equal(json_integer_value(json_object_get(counts, "queued")), 1);
	assert_int_equal(json_integer_value(json_object_get(counts, "running")), 1);
	assert_int_equal(json_integer_value(json_object_get(counts, "cancelled")), 1);
	json_decref(counts);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_claim_order_priority_then_age, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retryable_failure_backs_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_permanent_failure_marks_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attempts_exhausted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dead_worker_jobs_return, setup, teardown),
		cmocka_unit_test_setup_teardown(test_live_worker_jobs_stay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_and_counts, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
