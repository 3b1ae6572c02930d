/*
 * server_run.c - `dam serve` from start to stop: start-up (configuration,
 * first administrator, delivery, the listening socket), the main thread's
 * signal loop and job worker supervision, the background threads (CDN
 * purges, search-cache warm-up) and the graceful stop. The h2o side is
 * server.c's.
 */
#include "http/server_run.h"

#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/search.h"
#include "core/settings.h"
#include "deliver/deliver.h"
#include "deliver/preset.h"
#include "deliver/purge.h"
#include "http/conn_limit.h"
#include "http/server.h"
#include "util/timeutil.h"

extern char **environ;

/* ---- listening ---- */

static int parse_listen(const char *spec, struct sockaddr_storage *ss, socklen_t *len, struct dam_err *err)
{
	char host[256] = "", port[16] = "";
	const char *colon = strrchr(spec, ':');
	struct addrinfo hints, *res = NULL;
	int rc;

	if (!colon || strlen(colon + 1) >= sizeof port || (size_t)(colon - spec) >= sizeof host)
		return dam_err_set(err, DAM_EINVAL, "listen", "--listen wants HOST:PORT, got \"%s\"", spec);
	memcpy(host, spec, (size_t)(colon - spec));
	host[colon - spec] = '\0';
	snprintf(port, sizeof port, "%s", colon + 1);
	if (host[0] == '[') {
		memmove(host, host + 1, strlen(host));
		host[strcspn(host, "]")] = '\0';
	}
	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &res)) != 0)
		return dam_err_set(err, DAM_EINVAL, "listen", "cannot listen on \"%s\": %s", spec, gai_strerror(rc));
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static int open_listener(const char *spec, char *url, size_t urllen, bool tls, struct dam_err *err)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1, rc;
	char host[INET6_ADDRSTRLEN] = "";
	int port = 0;

	if ((rc = parse_listen(spec, &ss, &len, err)) < 0)
		return rc;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, SOMAXCONN) < 0) {
		rc = dam_err_errno(err, DAM_EIO, errno, "cannot listen on %s", spec);
		if (fd >= 0)
			close(fd);
		return rc;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	len = sizeof ss;
	getsockname(fd, (struct sockaddr *)&ss, &len);
	if (ss.ss_family == AF_INET) {
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, host, sizeof host);
		port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		snprintf(url, urllen, "%s://%s:%d", tls ? "https" : "http", host, port);
	} else {
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, host, sizeof host);
		port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
		snprintf(url, urllen, "%s://[%s]:%d", tls ? "https" : "http", host, port);
	}
	return fd;
}

/* ---- job worker supervision ---- */

struct worker_proc {
	pid_t pid;
	double restart_at;
	int crashes;
};

static pid_t spawn_worker(struct server_ctx *srv)
{
	char *argv[] = { "dam", "--library", srv->root, "worker", "--supervised", NULL };
	posix_spawnattr_t attr;
	sigset_t none;
	pid_t pid;
	int rc;

	/* The server blocks its signals for sigtimedwait; a worker must get
	 * SIGTERM to stop gracefully, so it starts with an empty mask. */
	sigemptyset(&none);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
	rc = posix_spawn(&pid, srv->exe, NULL, &attr, argv, environ);
	posix_spawnattr_destroy(&attr);
	return rc == 0 ? pid : -1;
}

static void supervise(struct server_ctx *srv, struct worker_proc *w, int n)
{
	double now = time_mono();
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		for (int i = 0; i < n; i++)
			if (w[i].pid == pid) {
				w[i].pid = 0;
				if (!atomic_load(&srv->stopping)) {
					/* Back off 1, 2, 4 ... 60 s so a crash loop does not spin. */
					double delay = (double)(1 << (w[i].crashes < 6 ? w[i].crashes : 6));
					w[i].crashes++;
					w[i].restart_at = now + (delay > 60 ? 60 : delay);
					fprintf(stderr, "dam serve: job worker %d exited (%s %d); restarting in %.0f s\n",
						(int)pid, WIFSIGNALED(status) ? "signal" : "status",
						WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status), w[i].restart_at - now);
				}
			}
	if (atomic_load(&srv->stopping))
		return;
	for (int i = 0; i < n; i++)
		if (!w[i].pid && now >= w[i].restart_at && (w[i].pid = spawn_worker(srv)) < 0) {
			fprintf(stderr, "dam serve: cannot start a job worker; retrying in 5 s\n");
			w[i].pid = 0;
			w[i].restart_at = now + 5;
		}
}

static void stop_workers(struct worker_proc *w, int n, int deadline_s)
{
	double until = time_mono() + deadline_s;
	int status, alive;

	for (int i = 0; i < n; i++)
		if (w[i].pid > 0)
			kill(w[i].pid, SIGTERM);
	do {
		alive = 0;
		for (int i = 0; i < n; i++) {
			if (w[i].pid > 0 && waitpid(w[i].pid, &status, WNOHANG) == w[i].pid)
				w[i].pid = 0;
			alive += w[i].pid > 0;
		}
		if (alive)
			usleep(20000);
	} while (alive && time_mono() < until);
	for (int i = 0; i < n; i++)
		if (w[i].pid > 0) {
			kill(w[i].pid, SIGKILL);
			waitpid(w[i].pid, &status, 0);
		}
}

/* ---- delivery: keys and cache, presets, CDN purges ---- */

static int start_delivery(struct server_ctx *srv, struct dam_err *err)
{
	struct dam *dam;
	int queued = 0, rc;

	if ((rc = library_open(srv->root, &dam, err)) < 0)
		return rc;
	library_set_actor(dam, "system:serve");
	rc = deliver_open(dam, &srv->deliver, err);
	/* Presets changed in dam.conf since the last run re-render now. */
	if (rc == 0 && (rc = preset_sync(dam, &queued, err)) == 0 && queued)
		fprintf(stderr, "dam serve: presets changed, re-rendering %d versions\n", queued);
	library_close(dam);
	return rc;
}

static void purge_config_of(const struct dam_config *cfg, struct purge_config *pc)
{
	char list[sizeof cfg->purge_edges], *save = NULL;

	memset(pc, 0, sizeof *pc);
	snprintf(list, sizeof list, "%s", cfg->purge_edges);
	for (char *t = strtok_r(list, ", ", &save); t && pc->nedges < PURGE_EDGES_MAX; t = strtok_r(NULL, ", ", &save))
		snprintf(pc->edges[pc->nedges++], sizeof pc->edges[0], "%s", t);
	snprintf(pc->method, sizeof pc->method, "%s", cfg->purge_method);
	snprintf(pc->http_url, sizeof pc->http_url, "%s", cfg->purge_http_url);
	snprintf(pc->http_method, sizeof pc->http_method, "%s", cfg->purge_http_method);
	snprintf(pc->http_body, sizeof pc->http_body, "%s", cfg->purge_http_body);
	snprintf(pc->http_header, sizeof pc->http_header, "%s", cfg->purge_http_header);
	pc->timeout_ms = 5000;
	/* Every server re-reads keys and presets within a second of a change
	 * (deliver.c, preset.c): purging before that could let the edge
	 * re-cache an answer made from the old ones. */
	pc->settle_s = 2;
	/* An answer being made when the change happened ends within the
	 * transform timeout: the second send drops it if the edge cached it. */
	pc->resend_s = cfg->transform_timeout_ms / 1000 + 2;
}

/* Drains the purge outbox that core fills in the same transactions as
 * the changes; a slow or dead edge delays only this thread. */
static void *purge_main(void *arg)
{
	struct server_ctx *srv = arg;
	struct purge_config pc;
	struct dam *dam = NULL;
	struct dam_err err;
	int sent;

	if (library_open(srv->root, &dam, &err) < 0) {
		fprintf(stderr, "dam serve: purge thread cannot open the library: %s\n", err.msg);
		return NULL;
	}
	while (atomic_load(&srv->stopping) == 0) {
		pthread_mutex_lock(&srv->cfg_lock);
		purge_config_of(&srv->cfg, &pc);
		pthread_mutex_unlock(&srv->cfg_lock);
		if (purge_drain(dam->db, &pc, 100, &sent, &err) < 0)
			fprintf(stderr, "dam serve: purge: %s\n", err.msg);
		for (int i = 0; i < 5 && atomic_load(&srv->stopping) == 0; i++)
			usleep(100 * 1000);
	}
	library_close(dam);
	return NULL;
}

/* Loads the search cache (facet bitmaps, perceptual hashes) in the
 * background at start: at 1M assets that takes seconds, which the first
 * search would otherwise pay. */
static void *search_warm_main(void *arg)
{
	struct server_ctx *srv = arg;
	struct dam *dam = NULL;
	struct dam_err err;

	if (library_open_shared(srv->search_lib, &dam, &err) < 0 || search_warm(dam, &err) < 0)
		fprintf(stderr, "dam serve: loading the search cache: %s\n", err.msg);
	library_close(dam);
	return NULL;
}

static void resync_presets(struct server_ctx *srv)
{
	struct dam *dam;
	struct dam_err err;
	int queued = 0;

	if (library_open(srv->root, &dam, &err) == 0) {
		if (preset_sync(dam, &queued, &err) < 0)
			fprintf(stderr, "dam serve: presets: %s\n", err.msg);
		else if (queued)
			fprintf(stderr, "dam serve: presets changed, re-rendering %d versions\n", queued);
		library_close(dam);
	}
}

/* ---- signals and stopping ---- */

/* Signals go to the main thread only (sigtimedwait in wait_for_stop); the
 * threads started after this inherit the mask. */
static void block_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGCHLD);
	pthread_sigmask(SIG_BLOCK, set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* The main thread's life: reload on SIGHUP, keep the job workers running,
 * return on SIGTERM/SIGINT. */
static void reload(struct server_ctx *srv, const char *why)
{
	struct dam_err e;

	if (server_config_load(srv, &e) < 0)
		fprintf(stderr, "dam serve: reload failed, keeping the old configuration: %s\n", e.msg);
	else {
		fprintf(stderr, "dam serve: configuration reloaded%s\n", why);
		if (srv->deliver) /* the main thread's own copy: no lock needed to read it */
			deliver_set_cache_mb(srv->deliver, srv->cfg.cache_mb);
	}
	resync_presets(srv);
}

/* True when the library's stored settings moved since *stamp (then
 * updated): another node ran `dam config push`. One cheap query, made by
 * the main thread about once a second with a handle of its own. */
static bool settings_moved(struct dam *watch, int64_t *stamp)
{
	int64_t now;

	if (!watch || settings_version(watch, &now, NULL) < 0 || now == *stamp)
		return false;
	*stamp = now;
	return true;
}

/* The main thread's life: reload on SIGHUP or when the library's shared
 * settings change, keep the job workers running, return on SIGTERM/SIGINT. */
static void wait_for_stop(struct server_ctx *srv, const sigset_t *set, struct worker_proc *workers, int nworkers)
{
	struct dam *watch = NULL;
	int64_t stamp = 0;
	unsigned tick = 0;

	if (library_open(srv->root, &watch, NULL) == 0)
		settings_moved(watch, &stamp);
	for (;;) {
		struct timespec ts = { 0, 250 * 1000000L };
		int sig = sigtimedwait(set, NULL, &ts);
		if (sig == SIGTERM || sig == SIGINT)
			break;
		if (sig == SIGHUP)
			reload(srv, "");
		else if (++tick % 4 == 0 && settings_moved(watch, &stamp))
			reload(srv, " (the library's shared settings changed: dam config push)");
		/* What the trim threshold lets each arena keep (see server_run)
		 * is handed back every 30 s, free pages inside the heaps too:
		 * the hot path keeps its pages between requests, and a burst of
		 * cold transforms does not leave the server at its high-water
		 * mark for good (the soak's RSS crept up by that). */
		if (tick % 120 == 0)
			malloc_trim(0);
		supervise(srv, workers, nworkers);
	}
	library_close(watch);
}

/* Graceful stop: no new connections, in-flight requests and jobs finish
 * within the deadline; then the loops are told to exit. */
static void stop_gracefully(struct server_ctx *srv, struct worker_proc *workers, int nworkers)
{
	double until;

	fprintf(stderr, "dam serve: stopping\n");
	atomic_store(&srv->stopping, 1);
	until = time_mono() + srv->opts.stop_deadline_s;
	stop_workers(workers, nworkers, srv->opts.stop_deadline_s);
	/* Requests still receiving their body have not reached a handler
	 * yet, so open connections count too. */
	while ((atomic_load(&srv->in_flight) > 0 || conn_limit_open() > 0) && time_mono() < until)
		usleep(10000);
	atomic_store(&srv->stopping, 2);
}

/* ---- main ---- */

static int bootstrap(struct server_ctx *srv, struct dam_err *err)
{
	struct dam *dam;
	char user[64], pass[64];
	bool created = false;
	int rc;

	if ((rc = library_open(srv->root, &dam, err)) < 0)
		return rc;
	library_set_actor(dam, "system:serve");
	rc = auth_bootstrap_admin(dam, user, pass, &created, err);
	library_close(dam);
	if (rc == 0 && created) {
		printf("first start: created administrator \"%s\" with password %s\n"
		       "(shown once; change it with: dam user passwd %s)\n", user, pass, user);
		fflush(stdout);
	}
	return rc;
}

int server_run(const struct server_opts *opts, struct dam_err *err)
{
	static struct server_ctx srv_storage;
	struct server_ctx *srv = &srv_storage;
	int ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN), nloops, nworkers, fd, rc = 0;
	struct server_h2o *h2o = NULL;
	struct worker_proc workers[64];
	pthread_t purger, warm;
	bool warming = false;
	char url[128];
	sigset_t set;

	memset(srv, 0, sizeof *srv);
	/* Keep freed memory mapped: each answer's buffers (the JSON text, the
	 * response) were fresh pages every time, because glibc gave the top of
	 * the thread's heap back to the kernel on free; page faults and zeroing
	 * were 13 % of the server's CPU on GET /api/v1/assets/{id} under wrk
	 * (bench/RESULTS.md). RSS stays at its high-water mark instead, per
	 * arena: glibc gives each thread that contends an arena of its own (up
	 * to 8 per core), and with libvips's pipeline threads each kept up to
	 * the threshold: with 16 arenas and 64 MB the soak (bench/soak) ended
	 * at 230 MB, with 2 per core and 16 MB at 143 MB. The top of a thread
	 * arena's heap is given back only past the threshold (malloc_trim()
	 * trims the main arena's top, and free pages inside every arena, but
	 * not a thread arena's top), so each of them crept up to 16 MB of free
	 * top over a soak's minutes; 4 MB bounds that to 16 MB in all, still
	 * far above a request's own buffers. */
	mallopt(M_ARENA_MAX, ncpu > 1 ? 2 * ncpu : 2);
	mallopt(M_TRIM_THRESHOLD, 4 << 20);
	mallopt(M_TOP_PAD, 1 << 20);
	mallopt(M_MMAP_THRESHOLD, 4 << 20);
	/* One access-log line per request, even when stdout is a file. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	server_ctx_init(srv, opts);
	if ((rc = server_config_load(srv, err)) < 0 || (rc = bootstrap(srv, err)) < 0 ||
	    (rc = library_open(srv->root, &srv->search_lib, err)) < 0 || (rc = start_delivery(srv, err)) < 0)
		goto out;
	if ((rc = server_h2o_new(srv, &h2o, err)) < 0)
		goto out;
	if ((fd = open_listener(opts->listen ? opts->listen : "127.0.0.1:8080", url, sizeof url,
				server_h2o_tls(h2o), err)) < 0) {
		rc = fd;
		goto out;
	}
	block_signals(&set);
	/* After block_signals: a thread made before would take SIGTERM's
	 * default action (the whole process dies, no graceful stop). Before
	 * the pool threads, whose handles inherit the feed from search_lib. */
	if ((rc = change_watch_start(srv->root, &srv->watch, err)) < 0)
		goto out;
	library_set_change_feed(srv->search_lib, change_watch_feed(srv->watch));
	nloops = opts->loops > 0 ? opts->loops : ncpu;
	nworkers = opts->workers < 0 ? 0 : opts->workers > 0 ? opts->workers : ncpu;
	if (nworkers > 64)
		nworkers = 64;
	/* Quick pool: one thread per core; main pool: 4 per core (server.c). */
	if ((rc = server_h2o_start(h2o, fd, nloops, ncpu, opts->pool > 0 ? opts->pool : 4 * ncpu, err)) < 0)
		goto out;
	pthread_create(&purger, NULL, purge_main, srv);
	warming = pthread_create(&warm, NULL, search_warm_main, srv) == 0;
	memset(workers, 0, sizeof workers);
	printf("dam serve: listening on %s (library %s)\n", url, srv->root);
	fflush(stdout);

	wait_for_stop(srv, &set, workers, nworkers);
	stop_gracefully(srv, workers, nworkers);
	server_h2o_stop(h2o);
	pthread_join(purger, NULL);
	if (warming)
		pthread_join(warm, NULL);
	fprintf(stderr, "dam serve: stopped\n");
out:
	deliver_close(srv->deliver);
	library_close(srv->search_lib);
	change_watch_stop(srv->watch);
	server_h2o_free(h2o);
	return rc;
}
