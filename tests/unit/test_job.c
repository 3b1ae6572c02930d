#include "testutil.h"

#include "core/ingest.h"
#include "core/job.h"
#include "core/library.h"
#include "core/process.h"
#include "util/timeutil.h"

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

	time_test_freeze(0);

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
	assert_int_equal(job_fail(f->dam, j.id, j.claim, "crashed", true, NULL), 0);
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
	assert_int_equal(job_fail(f->dam, j.id, j.claim, "cannot decode image: garbage", false, NULL), 0);
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
	assert_int_equal(job_fail(f->dam, j.id, j.claim, "crashed", true, NULL), 0);
	assert_int_equal(count_state(f, "failed"), 1);
}

/* The same-node fast path: a job whose worker's process is gone from this
 * node returns to the queue (a crashed attempt, with back-off) before its
 * lease runs out. */
static void test_dead_worker_jobs_return(void **state)
{
	struct fx *f = *state;
	char me[160], dead[160];
	struct job j;

	time_test_freeze(time_now_ms());
	job_worker_name(me, sizeof me);
	for (int i = 0; i < 3; i++)
		assert_int_equal(job_claim(f->dam, me, &j, NULL), 1);
	/* This node, a pid that cannot exist. */
	snprintf(dead, sizeof dead, "%s", me);
	*strrchr(dead, ':') = '\0';
	snprintf(dead + strlen(dead), sizeof dead - strlen(dead), ":2147483646");
	assert_int_equal(db_run(f->dam->db, NULL, "UPDATE jobs SET worker=?", "s", dead), 3);
	assert_int_equal(job_claim(f->dam, "test:1", &j, NULL), 0); /* requeued, backing off */
	assert_int_equal(count_state(f, "queued"), 3);
	assert_int_equal(count_state(f, "running"), 0);
	time_test_shift_ms(2001);
	assert_int_equal(job_claim(f->dam, "test:1", &j, NULL), 1);
	assert_int_equal(j.attempts, 2);
	assert_int_equal(count_state(f, "queued"), 2);
	assert_int_equal(count_state(f, "running"), 1);
}

/* Alive here, or gone but named otherwise (another node, or a --name): the
 * jobs stay running until their lease runs out. */
static void test_live_worker_jobs_stay(void **state)
{
	struct fx *f = *state;
	char me[160];
	struct job j;

	job_worker_name(me, sizeof me);
	assert_int_equal(job_claim(f->dam, me, &j, NULL), 1);
	assert_int_equal(job_claim(f->dam, "other-node:2147483646", &j, NULL), 1);
	assert_int_equal(job_claim(f->dam, "test:2", &j, NULL), 1);
	/* This host's name and a dead pid, but not claimed as us (no node):
	 * a host name alone is not trusted. */
	*strrchr(me, ':') = '\0';
	assert_int_equal(db_run(f->dam->db, NULL, "UPDATE jobs SET worker=? || ':2147483646' WHERE worker='test:2'", "s",
				me), 1);
	assert_int_equal(job_claim(f->dam, "test:3", &j, NULL), 0);
	assert_int_equal(count_state(f, "running"), 3);
}

static int64_t job_int(struct fx *f, const char *sql, const char *id)
{
	int64_t n = -1;

	assert_int_equal(db_query_int(f->dam->db, &n, NULL, sql, "s", id), 0);
	return n;
}

/* Leases on the controllable clock: worker A's lease on one job is kept
 * alive by its heartbeat, its other jobs' leases run out and worker B
 * requeues them, claims one, and only B's claim may finish it. */
static void test_lease_expiry_and_reclaim(void **state)
{
	struct fx *f = *state;
	struct job a[3], b;

	assert_int_equal(f->dam->cfg.job_lease_s, 30);
	time_test_freeze(time_now_ms());
	for (int i = 0; i < 3; i++)
		assert_int_equal(job_claim(f->dam, "host-a:1", &a[i], NULL), 1);
	assert_string_not_equal(a[0].claim, a[1].claim);
	assert_int_equal(job_int(f, "SELECT lease_until FROM jobs WHERE id=?", a[0].id), (int64_t)time_now_ms() + 30000);

	/* 29 s on: no lease has run out, B finds nothing; A's heartbeat renews a[0]. */
	time_test_shift_ms(29000);
	assert_int_equal(job_claim(f->dam, "host-b:2", &b, NULL), 0);
	assert_int_equal(count_state(f, "running"), 3);
	assert_int_equal(job_renew(f->dam, a[0].id, a[0].claim, NULL), 0);
	assert_int_equal(job_int(f, "SELECT lease_until FROM jobs WHERE id=?", a[0].id), (int64_t)time_now_ms() + 30000);

	/* 31 s: a[1] and a[2] ran out; B's claim requeues them as crashed
	 * attempts (back-off 2 s), a[0] stays A's. */
	time_test_shift_ms(2000);
	assert_int_equal(job_claim(f->dam, "host-b:2", &b, NULL), 0);
	assert_int_equal(count_state(f, "running"), 1);
	assert_int_equal(count_state(f, "queued"), 2);
	assert_int_equal(job_int(f, "SELECT count(*) FROM jobs WHERE id=? AND state='queued' AND error LIKE '%lease%'",
				 a[1].id), 1);
	assert_int_equal(job_renew(f->dam, a[1].id, a[1].claim, NULL), DAM_ECONFLICT);

	time_test_shift_ms(2001);
	assert_int_equal(job_claim(f->dam, "host-b:2", &b, NULL), 1);
	assert_true(!strcmp(b.id, a[1].id) || !strcmp(b.id, a[2].id));
	assert_int_equal(b.attempts, 2);
	const struct job *old = !strcmp(b.id, a[1].id) ? &a[1] : &a[2];

	/* A wakes up late: none of its calls on the lost claim changes anything. */
	assert_int_equal(db_begin(f->dam->db, NULL), 0);
	assert_int_equal(job_done(f->dam, old->id, old->claim, NULL), DAM_ECONFLICT);
	db_rollback(f->dam->db);
	assert_int_equal(job_fail(f->dam, old->id, old->claim, "crashed", true, NULL), DAM_ECONFLICT);
	assert_int_equal(job_renew(f->dam, old->id, old->claim, NULL), DAM_ECONFLICT);
	assert_int_equal(job_int(f, "SELECT count(*) FROM jobs WHERE id=? AND state='running'", b.id), 1);

	/* B finishes it; A finishes a[0], whose lease it kept. */
	assert_int_equal(job_done(f->dam, b.id, b.claim, NULL), 0);
	assert_int_equal(job_done(f->dam, a[0].id, a[0].claim, NULL), 0);
	assert_int_equal(count_state(f, "done"), 2);
	/* done is final: a second job_done by the same claim is refused too */
	assert_int_equal(job_done(f->dam, b.id, b.claim, NULL), DAM_ECONFLICT);
}

/* A lease that runs out on the last attempt fails the job for good. */
static void test_lease_expiry_counts_attempts(void **state)
{
	struct fx *f = *state;
	struct job j;

	time_test_freeze(time_now_ms());
	assert_int_equal(db_run(f->dam->db, NULL, "UPDATE jobs SET max_attempts=1", ""), 3);
	assert_int_equal(job_claim(f->dam, "host-a:1", &j, NULL), 1);
	time_test_shift_ms(30001);
	assert_int_equal(job_claim(f->dam, "host-b:2", &j, NULL), 1); /* another job */
	assert_int_equal(count_state(f, "failed"), 1);
}

/* process_run under a lost claim does its work, then job_done refuses in
 * the results' transaction: nothing of it commits. Under the live claim the
 * same job commits. */
static void test_stale_results_dropped(void **state)
{
	struct fx *f = *state;
	struct dam_err err;
	struct job a, b;

	time_test_freeze(time_now_ms());
	assert_int_equal(job_claim(f->dam, "host-a:1", &a, NULL), 1);
	time_test_shift_ms(30001);
	assert_int_equal(job_claim(f->dam, "host-b:2", &b, NULL), 1); /* requeues a, claims another */
	time_test_shift_ms(2001);
	while (strcmp(b.id, a.id))
		assert_int_equal(job_claim(f->dam, "host-b:2", &b, NULL), 1);
	dam_err_clear(&err);
	assert_int_equal(process_run(f->dam, a.id, a.claim, &err), DAM_ECONFLICT);
	assert_non_null(strstr(err.msg, "lease"));
	assert_int_equal(job_int(f, "SELECT count(*) FROM versions WHERE id=? AND status='pending'", a.version_id), 1);
	assert_int_equal(job_int(f, "SELECT count(*) FROM renditions WHERE version_id=?", a.version_id), 0);
	assert_int_equal(process_run(f->dam, b.id, b.claim, &err), 0);
	assert_int_equal(job_int(f, "SELECT count(*) FROM versions WHERE id=? AND status='ready'", a.version_id), 1);
	assert_int_equal(job_int(f, "SELECT count(*) FROM jobs WHERE id=? AND state='done'", a.id), 1);
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
		cmocka_unit_test_setup_teardown(test_lease_expiry_and_reclaim, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lease_expiry_counts_attempts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_results_dropped, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
