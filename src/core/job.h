/*
 * job.h - the job queue: media work recorded in the database and claimed by
 * worker processes, here or on other machines.
 *
 * States: queued -> running -> done | failed | cancelled; a failed attempt
 * that may succeed later (crash, timeout) goes back to queued with a
 * back-off until max_attempts. Higher priority runs first (interactive
 * uploads before bulk backfills), then oldest first.
 *
 * Leases. Any number of worker processes, on any machines, share the
 * queue. A claim gives the job a token of its own (job.claim) and a lease
 * of [worker] lease seconds, which the worker renews (job_renew) while the
 * job runs. A job whose lease ran out, or whose worker's process is gone
 * from this node (the fast path, no need to wait out the lease: a worker
 * claiming under its job_worker_name() on the same boot of the same kernel,
 * in the same pid namespace; host names are not trusted for it), counts as
 * a crashed attempt: queued again with back-off, or failed after
 * max_attempts, by the next job_claim on any node. Only the holder of the
 * current claim may finish a job: job_done, job_fail and job_renew return
 * DAM_ECONFLICT and change nothing once the claim is gone (the lease ran
 * out and the job was requeued or taken by another worker), so a job's
 * results commit at most once even when a paused worker wakes up late.
 */
#ifndef DAM_CORE_JOB_H
#define DAM_CORE_JOB_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/library.h"
#include "util/id.h"

enum job_priority { JOB_PRIO_BACKFILL = 0, JOB_PRIO_BULK = 10, JOB_PRIO_INTERACTIVE = 20 };

struct job {
	char id[DAM_ID_LEN + 1];
	char kind[32];
	char version_id[DAM_ID_LEN + 1];
	int attempts, max_attempts;
	char claim[DAM_ID_LEN + 1]; /* this attempt's token (see Leases) */
};

/* Queues a job; call inside the transaction that makes its subject. */
int job_enqueue(struct dam *dam, const char *kind, const char *version_id, int priority,
		char id_out[DAM_ID_LEN + 1], struct dam_err *err);

/* Claims the next runnable job for `worker` (a name for people: "host:pid"),
 * leased until now + the library's [worker] lease. Returns 1 with *job
 * filled (job->claim is the token to finish it with), 0 when the queue has
 * nothing runnable, < 0 on error. First treats as crashed attempts
 * (job_fail, retryable) the running jobs whose lease ran out and those of
 * workers on this node that no longer run. A worker named other than by
 * job_worker_name() is never found dead that way: its jobs wait out their
 * lease. The claim itself is one
 * statement, no transaction: on PostgreSQL claimers skip each other's
 * locked rows rather than queue behind one lock. */
int job_claim(struct dam *dam, const char *worker, struct job *job, struct dam_err *err);

/* The heartbeat: extends the lease of a job this claim holds to now + the
 * library's [worker] lease. DAM_ECONFLICT when the claim is no longer held. */
int job_renew(struct dam *dam, const char *job_id, const char *claim, struct dam_err *err);

/* Marks a running job done, if claim still holds it; else DAM_ECONFLICT
 * (nothing changed; the caller rolls back its results and drops them).
 * Call inside the transaction that stores its results, so results and
 * state commit together. */
int job_done(struct dam *dam, const char *job_id, const char *claim, struct dam_err *err);

/* Records a failed attempt of the claim's holder. retryable: a crash or
 * timeout that may pass; otherwise (undecodable file, limit) the job fails
 * at once. When the job fails for good, its version is marked failed with
 * the error text. Runs its own transaction. DAM_ECONFLICT (nothing
 * recorded) when claim no longer holds the job. */
int job_fail(struct dam *dam, const char *job_id, const char *claim, const char *error, bool retryable,
	     struct dam_err *err);

/* Re-queues failed jobs (all when job_id is NULL). Returns how many. */
int job_retry(struct dam *dam, const char *job_id, struct dam_err *err);
/* Cancels a queued job. */
int job_cancel(struct dam *dam, const char *job_id, struct dam_err *err);

/* Counts of jobs by state: {"queued":n,"running":n,...}. Caller decrefs. */
int job_counts(struct dam *dam, json_t **out, struct dam_err *err);
/* Jobs as a JSON array, newest first, optionally of one state. Caller decrefs. */
int job_list(struct dam *dam, const char *state, int limit, json_t **out, struct dam_err *err);
/* Jobs that are queued or running (work still to do). */
int job_pending(struct dam *dam, int64_t *n, struct dam_err *err);

/* This process's worker name, "host:pid". */
void job_worker_name(char *out, size_t n);

#endif
