#include "core/worker.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/process.h"
#include "util/timeutil.h"

extern char **environ;

#define IDLE_POLL_MS 200

struct pool {
	const char *root;
	const struct worker_opts *opts;
	char exe[4096];
	char parent[32];
	char worker[160];
	int timeout_s;
};

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static bool stopping(const struct worker_opts *o)
{
	return o->stop && *o->stop;
}

/* Waits for pid up to timeout_s, killing it when the time is up.
 * Returns the wait status, or -1 with *timed_out set. */
static int wait_child(pid_t pid, int timeout_s, bool *timed_out)
{
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0), status = 0;
	double deadline = time_mono() + timeout_s;

	*timed_out = false;
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR)
			break;
		if (time_mono() >= deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			*timed_out = true;
			break;
		}
		if (pfd >= 0) {
			struct pollfd p = { pfd, POLLIN, 0 };
			poll(&p, 1, 1000);
		} else {
			sleep_ms(20);
		}
	}
	if (pfd >= 0)
		close(pfd);
	return *timed_out ? -1 : status;
}

static void describe_exit(int status, bool timed_out, int timeout_s, char *out, size_t n)
{
	if (timed_out)
		snprintf(out, n, "processing took longer than %d s and was stopped", timeout_s);
	else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGXCPU)
		snprintf(out, n, "processing used more CPU time than allowed and was stopped");
	else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGXFSZ)
		snprintf(out, n, "processing wrote a file larger than allowed and was stopped");
	else if (WIFSIGNALED(status))
		snprintf(out, n, "the decoder crashed (signal %d, %s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		snprintf(out, n, "the worker process exited with status %d", WEXITSTATUS(status));
}

static int run_one(struct pool *p, struct dam *dam, const struct job *job, char *error, size_t n)
{
	char *argv[] = { "dam", "job-run", "--library", (char *)p->root, "--parent", p->parent,
			 (char *)job->id, NULL };
	bool timed_out;
	pid_t pid;
	int status, rc;

	rc = posix_spawn(&pid, p->exe, NULL, NULL, argv, environ);
	if (rc != 0) {
		snprintf(error, n, "cannot start a worker process: %s", strerror(rc));
		job_fail(dam, job->id, error, true, NULL);
		return -1;
	}
	status = wait_child(pid, p->timeout_s, &timed_out);
	if (!timed_out && WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (!timed_out && WIFEXITED(status) && WEXITSTATUS(status) == 2) {
		snprintf(error, n, "processing failed (recorded on the job)");
		return -1;
	}
	describe_exit(status, timed_out, p->timeout_s, error, n);
	/* A crash may be chance (memory pressure); a timeout will recur. */
	job_fail(dam, job->id, error, !timed_out, NULL);
	return -1;
}

static int queued_count(struct dam *dam, int64_t *n)
{
	return db_query_int(dam->db, n, NULL, "SELECT count(*) FROM jobs WHERE state='queued'", "");
}

static void *pool_thread(void *arg)
{
	struct pool *p = arg;
	const struct worker_opts *o = p->opts;
	struct dam *dam = NULL;
	struct dam_err err;
	struct job job;
	char error[512];

	if (library_open(p->root, &dam, &err) < 0)
		return NULL;
	while (!stopping(o)) {
		int rc = job_claim(dam, p->worker, &job, &err);
		int64_t queued = 0;
		if (rc < 0) {
			sleep_ms(IDLE_POLL_MS);
			continue;
		}
		if (rc == 1) {
			error[0] = '\0';
			bool ok = run_one(p, dam, &job, error, sizeof error) == 0;
			if (o->on_job)
				o->on_job(o->ctx, &job, ok, error);
			continue;
		}
		if (o->producer_done && *o->producer_done && queued_count(dam, &queued) == 0 && queued == 0)
			break;
		sleep_ms(o->producer_done && !*o->producer_done ? 20 : IDLE_POLL_MS);
	}
	library_close(dam);
	return NULL;
}

int worker_run(const char *root, const struct worker_opts *opts, struct dam_err *err)
{
	struct pool p;
	pthread_t threads[64];
	int n = opts->processes > 0 ? opts->processes : (int)sysconf(_SC_NPROCESSORS_ONLN);
	int started = 0;
	struct dam *dam;
	ssize_t len;

	if (n < 1)
		n = 1;
	if (n > 64)
		n = 64;
	memset(&p, 0, sizeof p);
	p.root = root;
	p.opts = opts;
	if (opts->exe) {
		snprintf(p.exe, sizeof p.exe, "%s", opts->exe);
	} else if ((len = readlink("/proc/self/exe", p.exe, sizeof p.exe - 1)) > 0) {
		p.exe[len] = '\0';
	} else {
		return dam_err_errno(err, DAM_EIO, errno, "cannot find the dam binary");
	}
	snprintf(p.parent, sizeof p.parent, "%ld", (long)getpid());
	job_worker_name(p.worker, sizeof p.worker);
	if (library_open(root, &dam, err) < 0)
		return err ? err->code : DAM_EIO;
	p.timeout_s = dam->cfg.job_timeout_s;
	library_close(dam);
	/* Parallel jobs already fill the cores; libvips threads inside each
	 * child would only contend. */
	setenv("VIPS_CONCURRENCY", "1", 0);
	/* Decoder warnings about odd files would only clutter the terminal;
	 * failures are recorded on the job with their reason. */
	setenv("VIPS_WARNING", "0", 0);
	for (int i = 0; i < n; i++)
		if (pthread_create(&threads[started], NULL, pool_thread, &p) == 0)
			started++;
	for (int i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	if (!started)
		return dam_err_set(err, DAM_EIO, NULL, "cannot start worker threads");
	return 0;
}

static void limit(int resource, rlim_t value)
{
	struct rlimit rl = { value, value };

	setrlimit(resource, &rl);
}

static void apply_limits(const struct dam_config *cfg)
{
	limit(RLIMIT_CORE, 0);
	limit(RLIMIT_CPU, (rlim_t)cfg->job_cpu_s);
	limit(RLIMIT_FSIZE, (rlim_t)cfg->job_file_mb << 20);
#if !defined(__SANITIZE_ADDRESS__)
	/* ASan reserves terabytes of shadow address space, so the address
	 * space cap is left off in sanitizer builds. */
	limit(RLIMIT_AS, (rlim_t)cfg->job_memory_mb << 20);
#endif
}

int worker_child_main(const char *root, const char *job_id, long parent_pid)
{
	struct dam *dam = NULL;
	struct dam_err err;
	int rc, status = 0;

	/* Die with the worker that supervises us, so a killed ingest leaves no
	 * orphan decoding on. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (parent_pid > 0 && getppid() != (pid_t)parent_pid)
		return 1;
	dam_err_clear(&err);
	if (library_open(root, &dam, &err) < 0)
		return 1;
	apply_limits(&dam->cfg);
	library_set_actor(dam, "worker");
	rc = process_run(dam, job_id, &err);
	if (rc < 0) {
		status = 2;
		if (job_fail(dam, job_id, err.msg[0] ? err.msg : dam_err_name(rc),
			     !process_error_is_permanent(rc), NULL) < 0)
			status = 1;
	}
	library_close(dam);
	return status;
}
