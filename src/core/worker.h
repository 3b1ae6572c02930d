/*
 * worker.h - running the job queue safely.
 *
 * A pool of threads claims jobs; each job runs in a fresh child process
 * (posix_spawn of the dam binary, never fork() of this threaded process)
 * that limits itself with rlimits (address space, CPU seconds, file size)
 * before touching the file, and that the parent kills after a wall-clock
 * timeout. A crash, hang or limit hit fails that job only, with the reason
 * recorded on the job and, when final, on its version.
 *
 * A heartbeat thread renews the lease of every job the pool runs every
 * [worker] lease / 3 seconds (job.h, "Leases"); a worker that stops (killed,
 * frozen, cut off from the database) lets its leases run out, and any
 * worker on any node then queues its jobs again.
 */
#ifndef DAM_CORE_WORKER_H
#define DAM_CORE_WORKER_H

#include <signal.h>
#include <stdbool.h>

#include "core/job.h"

/* Called from pool threads after each job (keep it thread-safe). ok is
 * false when the attempt failed; error is borrowed. */
typedef void (*worker_job_fn)(void *ctx, const struct job *job, bool ok, const char *error);

struct worker_opts {
	const char *exe;              /* the dam binary; NULL = this one (/proc/self/exe) */
	int processes;                /* parallel jobs; 0 = one per core */
	/* Stop when this becomes true and nothing runnable remains; NULL = keep
	 * polling until *stop. */
	volatile sig_atomic_t *producer_done;
	volatile sig_atomic_t *stop;  /* stop claiming (in-flight jobs finish) */
	worker_job_fn on_job;
	void *ctx;
	/* How jobs name their worker (`dam jobs`); NULL = "host:pid"
	 * (job_worker_name). Only with that name may another worker on this
	 * node requeue this one's jobs as soon as its process is gone (job.h,
	 * "Leases"); otherwise they wait out their lease. */
	const char *name;
};

/* Runs the pool on the library at root until told to stop (see opts).
 * Each thread opens its own library handle. */
int worker_run(const char *root, const struct worker_opts *opts, struct dam_err *err);

/* Body of the child process ("dam job-run"): applies rlimits from the
 * library's config, checks the parent is still alive, runs the job under
 * claim (its parent's token) and records its outcome. Returns the process
 * exit status: 0 done, 2 failed (recorded), 3 the claim was lost before the
 * results committed (nothing recorded, results dropped), 1 could not even
 * record. */
int worker_child_main(const char *root, const char *job_id, const char *claim, long parent_pid);

/* Body of "dam job-zygote": forks one child per "JOBID CLAIM" line read on
 * stdin (see worker.c). Returns the process exit status. */
int worker_zygote_main(const char *root);

/* Search by image: analyses an image a client sent (perceptual hash and
 * colour histogram) in a sandboxed child ("dam analyze-fd"), never in this
 * process. DAM_EINVAL when it is not an image, DAM_EMEDIA when it does not
 * decode (with the reason). */
int worker_analyze_bytes(const char *root, const void *data, size_t len, uint64_t *phash,
			 float hist[64], struct dam_err *err);

/* Body of "dam analyze-fd": analyses fd 3, prints JSON on stdout. */
int worker_analyze_child_main(const char *root, int fd);

#endif
