#include "core/job.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/audit.h"
#include "util/timeutil.h"

void job_worker_name(char *out, size_t n)
{
	char host[128] = "localhost";

	gethostname(host, sizeof host - 1);
	snprintf(out, n, "%s:%d", host, (int)getpid());
}

int job_enqueue(struct dam *dam, const char *kind, const char *version_id, int priority,
		char id_out[DAM_ID_LEN + 1], struct dam_err *err)
{
	char id[DAM_ID_LEN + 1];
	int64_t now = (int64_t)time_now_ms();
	int rc;

	id_new(id);
	rc = db_run(dam->db, err,
		    "INSERT INTO jobs(id, kind, version_id, priority, max_attempts, created_at, updated_at)"
		    " VALUES (?,?,?,?,?,?,?)",
		    "sssiiii", id, kind, version_id, (int64_t)priority, (int64_t)dam->cfg.job_attempts, now, now);
	if (rc < 0)
		return rc;
	if (id_out)
		memcpy(id_out, id, sizeof id);
	return 0;
}

/*
 * Where pids mean what they mean to us: this boot of this kernel
 * (/proc/sys/kernel/random/boot_id) and our pid namespace. Host names do
 * not do: machines left at a default name ("debian", "localhost") share
 * one, and containers on one machine may share a name but not their pids;
 * a false match would requeue a live worker's jobs on every claim. "" when
 * unknown (the fast path is then off).
 */
static char node_id[80];
static pthread_once_t node_once = PTHREAD_ONCE_INIT;

static void node_find(void)
{
	char boot[64] = "";
	struct stat st;
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");

	if (f) {
		if (!fgets(boot, sizeof boot, f))
			boot[0] = '\0';
		fclose(f);
	}
	boot[strcspn(boot, "\n")] = '\0';
	if (*boot && stat("/proc/self/ns/pid", &st) == 0)
		snprintf(node_id, sizeof node_id, "%s/%llu", boot, (unsigned long long)st.st_ino);
}

static const char *this_node(void)
{
	pthread_once(&node_once, node_find);
	return node_id;
}

/* A worker of this node (see this_node) whose process, the pid after the
 * last ':' of its name, is gone. */
static bool worker_dead(const char *worker, const char *node)
{
	const char *colon = strrchr(worker, ':');
	long pid;

	if (!*node || strcmp(node, this_node()) || !colon)
		return false;
	pid = strtol(colon + 1, NULL, 10);
	return pid > 0 && kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

static int64_t lease_ms(const struct dam *dam)
{
	return (int64_t)dam->cfg.job_lease_s * 1000;
}

static int claim_lost(struct dam_err *err, const char *job_id)
{
	return dam_err_set(err, DAM_ECONFLICT, NULL,
			   "job %s is no longer this worker's: its lease ran out and it was queued again"
			   " (or taken by another worker)", job_id);
}

#define REAP_MAX 64

struct stale_job {
	char id[DAM_ID_LEN + 1], claim[DAM_ID_LEN + 1];
	bool dead; /* the same-host fast path, rather than an expired lease */
};

/* Treats as crashed attempts the running jobs whose lease ran out or whose
 * worker is gone from this host. Another claimer may requeue one first:
 * then its claim no longer matches and job_fail leaves it be. */
static int reap_stale(struct dam *dam, int64_t now, struct dam_err *err)
{
	struct stale_job s[REAP_MAX];
	struct db_stmt *st;
	int n = 0, rc;

	if ((rc = db_query(dam->db, &st, err,
			   "SELECT id, coalesce(claim,''), coalesce(worker,''), lease_until, coalesce(node,'') FROM jobs"
			   " WHERE state='running'",
			   "")) < 0)
		return rc;
	while (n < REAP_MAX && (rc = db_step(st, err)) == DB_ROW) {
		bool expired = db_col_int(st, 3) < now;
		bool dead = !expired && worker_dead(db_col_text(st, 2), db_col_text(st, 4));
		if (!expired && !dead)
			continue;
		snprintf(s[n].id, sizeof s[n].id, "%s", db_col_text(st, 0));
		snprintf(s[n].claim, sizeof s[n].claim, "%s", db_col_text(st, 1));
		s[n++].dead = dead;
	}
	db_finalize(st);
	if (rc < 0)
		return rc;
	for (int i = 0; i < n; i++) {
		rc = job_fail(dam, s[i].id, s[i].claim,
			      s[i].dead ? "its worker process ended before finishing"
					: "its worker stopped renewing the lease (stopped, killed or cut off) before finishing",
			      true, err);
		if (rc < 0 && rc != DAM_ECONFLICT)
			return rc;
	}
	return 0;
}

int job_claim(struct dam *dam, const char *worker, struct job *job, struct dam_err *err)
{
	struct db_stmt *st = NULL;
	int64_t now = (int64_t)time_now_ms();
	char claim[DAM_ID_LEN + 1], me[160];
	const char *node = NULL;
	int rc;

	if ((rc = reap_stale(dam, now, err)) < 0)
		return rc;
	id_new(claim);
	/* Only a worker named by its pid can be found dead by it. */
	job_worker_name(me, sizeof me);
	if (!strcmp(worker, me) && *this_node())
		node = this_node();
	/* One statement, atomic on its own: SQLite holds the write lock from
	 * its start; PostgreSQL locks the row the subquery picks and other
	 * claimers pass over it rather than wait. */
	rc = db_query(dam->db, &st, err,
		      "UPDATE jobs SET state='running', worker=?, node=?, claim=?, lease_until=?, attempts=attempts+1,"
		      " updated_at=?"
		      " WHERE state='queued' AND id = (SELECT id FROM jobs WHERE state='queued' AND run_after <= ?"
		      "             ORDER BY priority DESC, id LIMIT 1{{skip_locked}})"
		      " RETURNING id, kind, coalesce(version_id,''), attempts, max_attempts",
		      "sssiii", worker, node, claim, now + lease_ms(dam), now, now);
	if (rc < 0)
		return rc;
	rc = db_step(st, err);
	if (rc == DB_ROW) {
		snprintf(job->id, sizeof job->id, "%s", db_col_text(st, 0));
		snprintf(job->kind, sizeof job->kind, "%s", db_col_text(st, 1));
		snprintf(job->version_id, sizeof job->version_id, "%s", db_col_text(st, 2));
		job->attempts = (int)db_col_int(st, 3);
		job->max_attempts = (int)db_col_int(st, 4);
		memcpy(job->claim, claim, sizeof claim);
		while (db_step(st, err) == DB_ROW)
			;
	}
	db_finalize(st);
	if (rc < 0)
		return rc;
	return rc == DB_ROW ? 1 : 0;
}

int job_renew(struct dam *dam, const char *job_id, const char *claim, struct dam_err *err)
{
	int64_t now = (int64_t)time_now_ms();
	int n = db_run(dam->db, err, "UPDATE jobs SET lease_until=? WHERE id=? AND state='running' AND claim=?", "iss",
		       now + lease_ms(dam), job_id, claim);

	if (n == 0)
		return claim_lost(err, job_id);
	return n < 0 ? n : 0;
}

int job_done(struct dam *dam, const char *job_id, const char *claim, struct dam_err *err)
{
	int n = db_run(dam->db, err,
		       "UPDATE jobs SET state='done', error=NULL, lease_until=0, updated_at=?"
		       " WHERE id=? AND state='running' AND claim=?",
		       "iss", (int64_t)time_now_ms(), job_id, claim);

	if (n == 0)
		return claim_lost(err, job_id);
	return n < 0 ? n : 0;
}

struct job_failure {
	const char *job_id, *claim, *error;
	bool retryable;
	char version[DAM_ID_LEN + 1];
};

/* audit_tx change of job_fail: queued again (no audit row), or failed for
 * good with its version (a process job's) and a job.failed row. */
static int fail_rows(struct dam *dam, void *ctx, struct audit_rec *rec, struct dam_err *err)
{
	struct job_failure *c = ctx;
	struct db_stmt *st = NULL;
	int64_t now = (int64_t)time_now_ms(), attempts = 0, max = 0;
	bool process_job = false;
	int rc;

	/* A claim from before leases existed is NULL: reap_stale passes "". */
	if ((rc = db_query(dam->db, &st, err,
			   "SELECT attempts, max_attempts, coalesce(version_id,''), kind FROM jobs"
			   " WHERE id=? AND state='running' AND coalesce(claim,'')=?",
			   "ss", c->job_id, c->claim)) < 0)
		return rc;
	if ((rc = db_step(st, err)) != DB_ROW) {
		db_finalize(st);
		return rc < 0 ? rc : claim_lost(err, c->job_id);
	}
	attempts = db_col_int(st, 0);
	max = db_col_int(st, 1);
	snprintf(c->version, sizeof c->version, "%s", db_col_text(st, 2));
	/* Only processing decides whether a version is usable; a failed
	 * side job (channel renditions) leaves the version ready. */
	process_job = !strcmp(db_col_text(st, 3), "process");
	db_finalize(st);
	if (c->retryable && attempts < max) {
		rec->action = NULL;
		/* Back off 2^attempts seconds, so a flapping job does not spin. */
		rc = db_run(dam->db, err,
			    "UPDATE jobs SET state='queued', worker=NULL, node=NULL, claim=NULL, lease_until=0, error=?,"
			    " run_after=?, updated_at=? WHERE id=?",
			    "siis", c->error, now + (1000LL << (attempts < 10 ? attempts : 10)), now, c->job_id);
		return rc < 0 ? rc : 0;
	}
	rc = db_run(dam->db, err,
		    "UPDATE jobs SET state='failed', worker=NULL, node=NULL, claim=NULL, lease_until=0, error=?, updated_at=?"
		    " WHERE id=?",
		    "sis", c->error, now, c->job_id);
	if (rc >= 0 && *c->version && process_job)
		rc = db_run(dam->db, err, "UPDATE versions SET status='failed', error=? WHERE id=?", "ss", c->error,
			    c->version);
	if (*c->version)
		rec->object_id = c->version;
	rec->after = json_pack("{s:s,s:s}", "job", c->job_id, "error", c->error);
	return rc < 0 ? rc : 0;
}

int job_fail(struct dam *dam, const char *job_id, const char *claim, const char *error, bool retryable,
	     struct dam_err *err)
{
	struct job_failure c = { .job_id = job_id, .claim = claim ? claim : "", .error = error,
				 .retryable = retryable };

	return audit_tx(dam, "job.failed", "version", job_id, fail_rows, &c, err);
}

int job_retry(struct dam *dam, const char *job_id, struct dam_err *err)
{
	int rc, n;

	if ((rc = db_begin(dam->db, err)) < 0)
		return rc;
	n = db_run(dam->db, err,
		   "UPDATE jobs SET state='queued', attempts=0, run_after=0, updated_at=?"
		   " WHERE state='failed' AND (CAST(? AS TEXT) IS NULL OR id=?)",
		   "iss", (int64_t)time_now_ms(), job_id, job_id);
	if (n < 0 || (rc = db_run(dam->db, err,
				  "UPDATE versions SET status='pending', error=NULL WHERE status='failed' AND id IN"
				  " (SELECT version_id FROM jobs WHERE state='queued')", "")) < 0) {
		db_rollback(dam->db);
		return n < 0 ? n : rc;
	}
	if (job_id && n == 0) {
		db_rollback(dam->db);
		return dam_err_set(err, DAM_ENOTFOUND, "id", "no failed job %s", job_id);
	}
	if ((rc = db_commit(dam->db, err)) < 0)
		return rc;
	return n;
}

int job_cancel(struct dam *dam, const char *job_id, struct dam_err *err)
{
	int n = db_run(dam->db, err,
		       "UPDATE jobs SET state='cancelled', updated_at=? WHERE id=? AND state='queued'",
		       "is", (int64_t)time_now_ms(), job_id);

	if (n == 0)
		return dam_err_set(err, DAM_ENOTFOUND, "id", "no queued job %s", job_id);
	return n < 0 ? n : 0;
}

int job_counts(struct dam *dam, json_t **out, struct dam_err *err)
{
	static const char *const states[] = { "queued", "running", "done", "failed", "cancelled" };
	struct db_stmt *st;
	json_t *o = json_object();
	int rc;

	for (size_t i = 0; i < sizeof states / sizeof states[0]; i++)
		json_object_set_new(o, states[i], json_integer(0));
	if ((rc = db_query(dam->db, &st, err, "SELECT state, count(*) FROM jobs GROUP BY state", "")) < 0) {
		json_decref(o);
		return rc;
	}
	while ((rc = db_step(st, err)) == DB_ROW)
		json_object_set_new(o, db_col_text(st, 0), json_integer(db_col_int(st, 1)));
	db_finalize(st);
	if (rc < 0) {
		json_decref(o);
		return rc;
	}
	*out = o;
	return 0;
}

int job_list(struct dam *dam, const char *state, int limit, json_t **out, struct dam_err *err)
{
	struct db_stmt *st;
	json_t *a = json_array();
	int rc;

	rc = db_query(dam->db, &st, err,
		      "SELECT j.id, j.kind, coalesce(j.version_id,''), j.state, j.priority, j.attempts,"
		      " j.max_attempts, coalesce(j.error,''), j.updated_at, coalesce(v.asset_id,''), coalesce(v.filename,'')"
		      " FROM jobs j LEFT JOIN versions v ON v.id = j.version_id"
		      " WHERE (CAST(? AS TEXT) IS NULL OR j.state = ?) ORDER BY j.id DESC LIMIT ?",
		      "ssi", state, state, (int64_t)(limit > 0 ? limit : INT64_MAX)); /* no LIMIT -1 on PostgreSQL */
	if (rc < 0) {
		json_decref(a);
		return rc;
	}
	while ((rc = db_step(st, err)) == DB_ROW) {
		char at[32];
		time_iso8601((uint64_t)db_col_int(st, 8), at);
		json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:s,s:s,s:s,s:s}",
			"id", db_col_text(st, 0), "kind", db_col_text(st, 1),
			"version_id", db_col_text(st, 2), "state", db_col_text(st, 3),
			"priority", (json_int_t)db_col_int(st, 4), "attempts", (json_int_t)db_col_int(st, 5),
			"max_attempts", (json_int_t)db_col_int(st, 6), "error", db_col_text(st, 7),
			"updated_at", at, "asset_id", db_col_text(st, 9), "filename", db_col_text(st, 10)));
	}
	db_finalize(st);
	if (rc < 0) {
		json_decref(a);
		return rc;
	}
	*out = a;
	return 0;
}

int job_pending(struct dam *dam, int64_t *n, struct dam_err *err)
{
	return db_query_int(dam->db, n, err,
			    "SELECT count(*) FROM jobs WHERE state IN ('queued','running')", "");
}
