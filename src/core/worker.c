#include "core/worker.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <spawn.h>
#include <stdatomic.h>
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
#include "core/settings.h"
#include "util/fsutil.h"
#include <sys/mman.h>
#include "media/media.h"
#include "util/timeutil.h"

extern char **environ;

/* How often an idle pool thread looks for work on its own. It is woken
 * at once by any commit to the database (the heartbeat waits for them:
 * db_wait_change, LISTEN/NOTIFY on PostgreSQL), so this only bounds the
 * delay of what no commit announces: a back-off's run_after coming due, a
 * crashed worker's lease running out, a notification lost. */
#define IDLE_POLL_MS 1000
#define MAX_THREADS 64
/* worker_child_main's status when the claim was lost before the results
 * committed: they were dropped, and the job is another attempt's now. */
#define EXIT_DROPPED 3

/* The job a pool thread runs, for the heartbeat (empty id: none). */
struct held {
	char id[DAM_ID_LEN + 1], claim[DAM_ID_LEN + 1];
};

struct pool {
	const char *root;
	const struct worker_opts *opts;
	char exe[4096];
	char parent[32];
	char worker[160];
	pthread_mutex_t mu; /* guards held, cfg, cfg_gen and wake_gen */
	pthread_cond_t wake; /* broadcast when the heartbeat heard a commit */
	uint64_t wake_gen;   /* counts those broadcasts */
	struct held held[MAX_THREADS];
	/* The library's effective settings, re-read by the heartbeat when a
	 * `dam config push` moved them; the pool threads copy them into their
	 * handles before their next claim (the job timeout and lease follow). */
	struct dam_config cfg;
	int cfg_gen;
	struct dam *hb_dam; /* the heartbeat thread's connection */
	atomic_bool threads_done; /* the pool threads have ended: the heartbeat ends */
};

struct pool_slot {
	struct pool *p;
	int i;
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

/*
 * The zygote: a single-threaded `dam job-zygote` started once per pool
 * thread, with libvips already initialised (vips_init starts no thread),
 * that fork()s a fresh child per job. Each job still runs in its own
 * process that sets its own rlimits, but skips exec, dynamic linking of
 * ~180 libraries and libvips start-up (~100 ms a job). Protocol on two
 * pipes: "JOBID\n" in; "P pid\n" when forked and "X pid status\n" when
 * reaped, out. If the zygote cannot start, jobs fall back to posix_spawn.
 */
struct zygote {
	pid_t pid;
	int to, from;
	char buf[256];
	size_t len;
};

static void zygote_stop(struct zygote *z)
{
	if (z->pid <= 0)
		return;
	close(z->to);
	close(z->from);
	kill(z->pid, SIGKILL);
	waitpid(z->pid, NULL, 0);
	z->pid = 0;
}

static int zygote_start(struct pool *p, struct zygote *z)
{
	char *argv[] = { "dam", "job-zygote", "--library", (char *)p->root, NULL };
	posix_spawn_file_actions_t fa;
	int in[2], out[2], rc;

	memset(z, 0, sizeof *z);
	if (pipe2(in, O_CLOEXEC) < 0)
		return -1;
	if (pipe2(out, O_CLOEXEC) < 0) {
		close(in[0]);
		close(in[1]);
		return -1;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], STDIN_FILENO);
	posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
	rc = posix_spawn(&z->pid, p->exe, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(in[0]);
	close(out[1]);
	if (rc != 0) {
		close(in[1]);
		close(out[0]);
		z->pid = 0;
		return -1;
	}
	z->to = in[1];
	z->from = out[0];
	return 0;
}

/* Reads one line within timeout_ms; 1 line, 0 timeout, -1 zygote gone. */
static int zygote_line(struct zygote *z, char *line, size_t n, int timeout_ms)
{
	double until = time_mono() + timeout_ms / 1000.0;

	for (;;) {
		char *nl = memchr(z->buf, '\n', z->len);
		if (nl) {
			size_t ll = (size_t)(nl - z->buf);
			snprintf(line, n, "%.*s", (int)ll, z->buf);
			memmove(z->buf, nl + 1, z->len - ll - 1);
			z->len -= ll + 1;
			return 1;
		}
		struct pollfd pf = { z->from, POLLIN, 0 };
		int left = (int)((until - time_mono()) * 1000);
		if (left <= 0)
			return 0;
		if (poll(&pf, 1, left > 1000 ? 1000 : left) <= 0)
			continue;
		ssize_t r = read(z->from, z->buf + z->len, sizeof z->buf - z->len - 1);
		if (r <= 0 || z->len + (size_t)r >= sizeof z->buf - 1)
			return -1;
		z->len += (size_t)r;
	}
}

/* Runs job in a zygote child. Returns 0 with *status, or -1 when the
 * zygote failed (the caller restarts it and falls back to spawning). */
static int zygote_run(struct zygote *z, const struct job *job, int timeout_s, int *status, bool *timed_out)
{
	char line[128];
	long pid = 0, xpid;
	int st, r;

	*timed_out = false;
	dprintf(z->to, "%s %s\n", job->id, job->claim);
	if (zygote_line(z, line, sizeof line, 10000) != 1 || sscanf(line, "P %ld", &pid) != 1 || pid <= 0)
		return -1;
	r = zygote_line(z, line, sizeof line, timeout_s * 1000);
	if (r == 0) {
		kill((pid_t)pid, SIGKILL);
		*timed_out = true;
		r = zygote_line(z, line, sizeof line, 10000);
	}
	if (r != 1 || sscanf(line, "X %ld %d", &xpid, &st) != 2 || xpid != pid)
		return -1;
	*status = st;
	return 0;
}

static int run_one(struct pool *p, struct dam *dam, const struct job *job, struct zygote *z, char *error,
		   size_t n)
{
	char *argv[] = { "dam", "job-run", "--library", (char *)p->root, "--parent", p->parent,
			 "--claim", (char *)job->claim, (char *)job->id, NULL };
	bool timed_out;
	pid_t pid;
	int status, rc;

	if (z->pid <= 0)
		zygote_start(p, z);
	int timeout_s = dam->cfg.job_timeout_s;

	if (z->pid > 0 && zygote_run(z, job, timeout_s, &status, &timed_out) == 0)
		goto done;
	zygote_stop(z);
	rc = posix_spawn(&pid, p->exe, NULL, NULL, argv, environ);
	if (rc != 0) {
		snprintf(error, n, "cannot start a worker process: %s", strerror(rc));
		job_fail(dam, job->id, job->claim, error, true, NULL);
		return -1;
	}
	status = wait_child(pid, timeout_s, &timed_out);
done:
	if (!timed_out && WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (!timed_out && WIFEXITED(status) && WEXITSTATUS(status) == 2) {
		snprintf(error, n, "processing failed (recorded on the job)");
		return -1;
	}
	if (!timed_out && WIFEXITED(status) && WEXITSTATUS(status) == EXIT_DROPPED) {
		snprintf(error, n, "the job's lease ran out before its results were saved and the job was queued"
				   " again; this worker's results were dropped");
		return -1;
	}
	describe_exit(status, timed_out, timeout_s, error, n);
	/* A crash may be chance (memory pressure); a timeout will recur. A
	 * claim lost meanwhile makes this a no-op (DAM_ECONFLICT). */
	job_fail(dam, job->id, job->claim, error, !timed_out, NULL);
	return -1;
}

static int queued_count(struct dam *dam, int64_t *n)
{
	return db_query_int(dam->db, n, NULL, "SELECT count(*) FROM jobs WHERE state='queued'", "");
}

/* Shows the heartbeat which job slot i runs (job NULL: none). */
static void hold(struct pool *p, int i, const struct job *job)
{
	pthread_mutex_lock(&p->mu);
	snprintf(p->held[i].id, sizeof p->held[i].id, "%s", job ? job->id : "");
	snprintf(p->held[i].claim, sizeof p->held[i].claim, "%s", job ? job->claim : "");
	pthread_mutex_unlock(&p->mu);
}

static uint64_t wake_seen(struct pool *p)
{
	uint64_t g;

	pthread_mutex_lock(&p->mu);
	g = p->wake_gen;
	pthread_mutex_unlock(&p->mu);
	return g;
}

/* An idle pool thread's wait: up to ms, or until the heartbeat hears a
 * commit after the thread read seen (before its claim found nothing), so a
 * job queued meanwhile, on any node, is not left waiting for the poll. */
static void idle_wait(struct pool *p, uint64_t seen, int ms)
{
	struct timespec until = time_mono_ts(time_mono_ms() + (uint64_t)ms);

	pthread_mutex_lock(&p->mu);
	while (p->wake_gen == seen && pthread_cond_timedwait(&p->wake, &p->mu, &until) == 0)
		;
	pthread_mutex_unlock(&p->mu);
}

static void wake_all(struct pool *p)
{
	pthread_mutex_lock(&p->mu);
	p->wake_gen++;
	pthread_cond_broadcast(&p->wake);
	pthread_mutex_unlock(&p->mu);
}

/* Takes the settings the heartbeat re-read since *seen, if any. */
static void settings_follow(struct pool *p, struct dam *dam, int *seen)
{
	pthread_mutex_lock(&p->mu);
	if (p->cfg_gen != *seen) {
		dam->cfg = p->cfg;
		*seen = p->cfg_gen;
	}
	pthread_mutex_unlock(&p->mu);
}

static void *pool_thread(void *arg)
{
	struct pool_slot *slot = arg;
	struct pool *p = slot->p;
	const struct worker_opts *o = p->opts;
	struct dam *dam = NULL;
	struct dam_err err;
	struct job job;
	struct zygote z = { 0 };
	char error[512];
	int seen = 0;

	if (library_open(p->root, &dam, &err) < 0)
		return NULL;
	while (!stopping(o)) {
		settings_follow(p, dam, &seen);
		uint64_t woken = wake_seen(p);
		int rc = job_claim(dam, p->worker, &job, &err);
		int64_t queued = 0;
		if (rc < 0) {
			sleep_ms(IDLE_POLL_MS);
			continue;
		}
		if (rc == 1) {
			error[0] = '\0';
			hold(p, slot->i, &job);
			bool ok = run_one(p, dam, &job, &z, error, sizeof error) == 0;
			hold(p, slot->i, NULL);
			if (o->on_job)
				o->on_job(o->ctx, &job, ok, error);
			continue;
		}
		if (o->producer_done && *o->producer_done && queued_count(dam, &queued) == 0 && queued == 0)
			break;
		idle_wait(p, woken, o->producer_done && !*o->producer_done ? 20 : IDLE_POLL_MS);
	}
	zygote_stop(&z);
	library_close(dam);
	return NULL;
}

/* Renews the lease of every job this process's threads run. */
static void renew_all(struct pool *p, struct dam *dam)
{
	for (int i = 0; i < MAX_THREADS; i++) {
		struct held h;
		pthread_mutex_lock(&p->mu);
		h = p->held[i];
		pthread_mutex_unlock(&p->mu);
		/* A lost claim needs nothing here: its child's job_done will be
		 * refused and its results dropped. */
		if (*h.id)
			job_renew(dam, h.id, h.claim, NULL);
	}
}

/* About once a second: when the library's stored settings moved (a `dam
 * config push` on any node), re-reads the effective settings for the pool
 * threads and the heartbeat itself. One cheap query (settings_version). */
static void settings_check(struct pool *p, struct dam *dam, int64_t *stamp)
{
	struct dam_config cfg;
	int64_t now;

	if (settings_version(dam, &now, NULL) < 0 || now == *stamp)
		return;
	if (settings_load_root(p->root, &cfg, NULL) < 0)
		return; /* a bad row: keep what runs; the next push fixes it */
	*stamp = now;
	dam->cfg = cfg;
	pthread_mutex_lock(&p->mu);
	p->cfg = cfg;
	p->cfg_gen++;
	pthread_mutex_unlock(&p->mu);
}

/* The heartbeat: every lease/3, so that two renewals may fail (a busy
 * database) before a lease runs out. A thread of its own, since the pool
 * threads block waiting for their children. Also follows the library's
 * settings (settings_check), and between beats waits for commits on its
 * connection (db_wait_change) to wake idle pool threads: a job queued on
 * any node is claimed at once rather than at the next poll. Closes dam. */
static void *heartbeat_thread(void *arg)
{
	struct pool *p = arg;
	struct dam *dam = p->hb_dam;
	double next = time_mono() + dam->cfg.job_lease_s / 3.0, check = time_mono() + 1;
	int64_t stamp = 0;

	settings_version(dam, &stamp, NULL);
	while (!atomic_load(&p->threads_done)) {
		if (time_mono() >= check) {
			settings_check(p, dam, &stamp);
			check = time_mono() + 1;
		}
		if (time_mono() < next) {
			int heard = db_wait_change(dam->db, 50, NULL);
			if (heard > 0)
				wake_all(p);
			else if (heard < 0)
				sleep_ms(50); /* the idle threads poll meanwhile */
			continue;
		}
		next = time_mono() + dam->cfg.job_lease_s / 3.0;
		renew_all(p, dam);
	}
	library_close(dam);
	return NULL;
}

int worker_run(const char *root, const struct worker_opts *opts, struct dam_err *err)
{
	struct pool p;
	struct pool_slot slots[MAX_THREADS];
	pthread_t threads[MAX_THREADS], hb;
	int n = opts->processes > 0 ? opts->processes : (int)sysconf(_SC_NPROCESSORS_ONLN);
	int started = 0;
	struct dam *dam;

	if (n < 1)
		n = 1;
	if (n > MAX_THREADS)
		n = MAX_THREADS;
	memset(&p, 0, sizeof p);
	atomic_init(&p.threads_done, false);
	pthread_mutex_init(&p.mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p.wake, &ca);
	pthread_condattr_destroy(&ca);
	p.root = root;
	p.opts = opts;
	/* /proc/self/exe runs this very binary even if the file was replaced
	 * (an upgrade or rebuild) while we run. */
	snprintf(p.exe, sizeof p.exe, "%s", opts->exe ? opts->exe : "/proc/self/exe");
	snprintf(p.parent, sizeof p.parent, "%ld", (long)getpid());
	if (opts->name)
		snprintf(p.worker, sizeof p.worker, "%s", opts->name);
	else
		job_worker_name(p.worker, sizeof p.worker);
	if (library_open(root, &dam, err) < 0)
		return err ? err->code : DAM_EIO;
	/* Parallel jobs already fill the cores; libvips threads inside each
	 * child would only contend. (Before any thread starts: setenv.) */
	setenv("VIPS_CONCURRENCY", "1", 0);
	/* Decoder warnings about odd files would only clutter the terminal;
	 * failures are recorded on the job with their reason. */
	setenv("VIPS_WARNING", "0", 0);
	/* dam becomes the heartbeat's own connection. */
	p.hb_dam = dam;
	if (pthread_create(&hb, NULL, heartbeat_thread, &p) != 0) {
		library_close(dam);
		pthread_cond_destroy(&p.wake);
		pthread_mutex_destroy(&p.mu);
		return dam_err_set(err, DAM_EIO, NULL, "cannot start the worker's heartbeat thread");
	}
	for (int i = 0; i < n; i++) {
		slots[started] = (struct pool_slot){ &p, started };
		if (pthread_create(&threads[started], NULL, pool_thread, &slots[started]) == 0)
			started++;
	}
	for (int i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	atomic_store(&p.threads_done, true);
	pthread_join(hb, NULL);
	pthread_cond_destroy(&p.wake);
	pthread_mutex_destroy(&p.mu);
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

int worker_child_main(const char *root, const char *job_id, const char *claim, long parent_pid)
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
	rc = process_run(dam, job_id, claim, &err);
	if (rc < 0) {
		status = 2;
		/* job_fail refuses (DAM_ECONFLICT) when the claim is gone, as
		 * job_done did if that was the failure: nothing of ours commits. */
		rc = job_fail(dam, job_id, claim, err.msg[0] ? err.msg : dam_err_name(rc),
			      !process_error_is_permanent(rc), NULL);
		if (rc == DAM_ECONFLICT)
			status = EXIT_DROPPED;
		else if (rc < 0)
			status = 1;
	}
	library_close(dam);
	return status;
}

int worker_zygote_main(const char *root)
{
	struct media_limits lim;
	struct dam_config cfg;
	char line[128];
	pid_t me = getpid();

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (settings_load_root(root, &cfg, NULL) < 0)
		return 1;
	media_limits_default(&lim);
	lim.allow_magick = cfg.allow_magick;
	/* Initialise libvips before forking: it starts no thread until an
	 * operation runs, so every child inherits a clean, ready copy. */
	if (media_init(NULL, &lim, NULL) < 0)
		return 1;
	while (fgets(line, sizeof line, stdin)) {
		pid_t pid;
		int status = 0;
		char *claim;
		line[strcspn(line, "\n")] = '\0';
		/* "JOBID CLAIM" */
		claim = strchr(line, ' ');
		if (claim)
			*claim++ = '\0';
		fflush(stdout);
		pid = fork();
		if (pid == 0) {
			/* stdout is the protocol pipe: nothing of the job may reach it. */
			int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
			if (null >= 0)
				dup2(null, STDOUT_FILENO);
			fclose(stdin);
			_exit(worker_child_main(root, line, claim ? claim : "", (long)me));
		}
		printf("P %ld\n", (long)pid);
		fflush(stdout);
		if (pid > 0)
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
		printf("X %ld %d\n", (long)pid, status);
		fflush(stdout);
	}
	return 0;
}

/* ---- analysing an uploaded image for search by image ---- */

static int discard(void *ctx, const struct media_derivative *d, struct dam_err *err)
{
	(void)ctx;
	(void)d;
	(void)err;
	return 0;
}

int worker_analyze_child_main(const char *root, int fd)
{
	struct media_limits lim;
	struct media_analysis an;
	struct media_sniff sn;
	struct dam_config cfg;
	struct dam_err err;
	json_t *out, *hist;
	int rc;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (settings_load_root(root, &cfg, &err) < 0)
		return 1;
	apply_limits(&cfg);
	media_limits_default(&lim);
	lim.max_pixels = cfg.max_pixels;
	lim.max_dimension = cfg.max_dimension;
	lim.allow_magick = cfg.allow_magick;
	dam_err_clear(&err);
	if ((rc = media_init(NULL, &lim, &err)) == 0 && (rc = media_sniff_fd(fd, NULL, &sn, &err)) == 0) {
		if (sn.kind != MEDIA_IMAGE)
			rc = dam_err_set(&err, DAM_EINVAL, "file", "search by image needs an image (this is %s)", sn.mime);
		else
			rc = media_derive_analyze_fd(fd, &sn, &lim, discard, NULL, &an, &err);
	}
	if (rc == 0 && !an.valid)
		rc = dam_err_set(&err, DAM_EMEDIA, "file", "the image has no pixels to compare");
	if (rc < 0) {
		out = json_pack("{s:s,s:i}", "error", err.msg, "code", rc);
	} else {
		char ph[17];
		hist = json_array();
		for (int i = 0; i < MEDIA_HIST_BINS; i++)
			json_array_append_new(hist, json_real(an.hist[i]));
		snprintf(ph, sizeof ph, "%016llx", (unsigned long long)an.phash);
		out = json_pack("{s:s,s:o}", "phash", ph, "hist", hist);
	}
	if (out) {
		char *s = json_dumps(out, JSON_COMPACT);
		if (s)
			fs_write_full(STDOUT_FILENO, s, strlen(s));
		free(s);
	}
	json_decref(out);
	return rc < 0 ? 2 : 0;
}

static int parse_analysis(const char *text, uint64_t *phash, float hist[MEDIA_HIST_BINS], struct dam_err *err)
{
	json_t *j = json_loads(text, 0, NULL), *h;
	const char *ph;
	int rc = 0;

	if (!j)
		return dam_err_set(err, DAM_EMEDIA, "file", "the image could not be analysed");
	if (json_is_string(json_object_get(j, "error"))) {
		int code = (int)json_integer_value(json_object_get(j, "code"));
		rc = dam_err_set(err, code < 0 ? code : DAM_EMEDIA, "file", "%s", json_string_value(json_object_get(j, "error")));
	} else if (!(ph = json_string_value(json_object_get(j, "phash"))) ||
		   json_array_size(h = json_object_get(j, "hist")) != MEDIA_HIST_BINS) {
		rc = dam_err_set(err, DAM_EMEDIA, "file", "the image could not be analysed");
	} else {
		*phash = strtoull(ph, NULL, 16);
		for (int i = 0; i < MEDIA_HIST_BINS; i++)
			hist[i] = (float)json_number_value(json_array_get(h, (size_t)i));
	}
	json_decref(j);
	return rc;
}

int worker_analyze_bytes(const char *root, const void *data, size_t len, uint64_t *phash,
			 float hist[MEDIA_HIST_BINS], struct dam_err *err)
{
	char *argv[] = { "dam", "analyze-fd", "--library", (char *)root, NULL };
	posix_spawn_file_actions_t fa;
	char out[4096];
	size_t got = 0;
	int mfd = memfd_create("dam-query-image", MFD_CLOEXEC), pfd[2] = { -1, -1 }, status, rc = 0;
	bool timed_out;
	pid_t pid;

	if (mfd < 0 || fs_write_full(mfd, data, len) < 0 || lseek(mfd, 0, SEEK_SET) < 0 || pipe2(pfd, O_CLOEXEC) < 0) {
		rc = dam_err_errno(err, DAM_EIO, errno, "cannot hold the image to analyse");
		goto out;
	}
	/* The image comes from a client: decoded only in a child with limits. */
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, mfd, 3);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], STDOUT_FILENO);
	rc = posix_spawn(&pid, "/proc/self/exe", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	pfd[1] = -1;
	if (rc != 0) {
		rc = dam_err_set(err, DAM_EIO, NULL, "cannot start the image analyser: %s", strerror(rc));
		goto out;
	}
	for (;;) {
		ssize_t n = read(pfd[0], out + got, sizeof out - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || (got += (size_t)n) == sizeof out - 1)
			break;
	}
	out[got] = '\0';
	status = wait_child(pid, 60, &timed_out);
	if (timed_out || (!WIFEXITED(status) && got == 0))
		rc = dam_err_set(err, DAM_EMEDIA, "file", "the image could not be analysed (the decoder %s)",
				 timed_out ? "took too long" : "crashed");
	else
		rc = parse_analysis(out, phash, hist, err);
out:
	if (mfd >= 0)
		close(mfd);
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	return rc;
}
