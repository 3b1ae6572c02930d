/*
 * server.c - h2o glue. Loops parse and route; pool threads authenticate and
 * run handlers; responses come back through per-loop multithread queues.
 */
#include "http/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <h2o.h>
#include <h2o/http1.h>
#include <h2o/http2.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "core/job.h"
#include "db/db.h"
#include "core/search.h"
#include "deliver/deliver.h"
#include "deliver/preset.h"
#include "deliver/purge.h"
#include "http/conn_limit.h"
#include "http/hotcache.h"
#include "http/router.h"
#include "http/serve_req.h"
#include "util/id.h"
#include "util/timeutil.h"

extern char **environ;

#define TASK_MAGIC 0x7a5c0de1u

/* File responses are read in chunks of FILE_BUF bytes into a buffer that
 * the loop keeps for the next response (up to LOOP_SPARE_BUFS of them, as
 * many as a loop has connections sending files at once under load):
 * a fresh 256 KB malloc per response came from the thread's arena and went
 * back to the kernel on free (heap trimming), so every response paid page
 * faults and zeroing for its buffer, about a sixth of the server's CPU
 * when serving stored renditions. */
#define FILE_BUF (256 * 1024)
#define LOOP_SPARE_BUFS 32

struct loop {
	struct server_ctx *srv;
	pthread_t thread;
	h2o_context_t ctx;
	h2o_accept_ctx_t accept;
	h2o_multithread_queue_t *queue;
	h2o_multithread_receiver_t done;
	h2o_socket_t *listener;
	int listen_fd;
	bool shutdown_requested;
	char *spare[LOOP_SPARE_BUFS]; /* FILE_BUF buffers for the next responses */
	int nspare;
	/* Delivery's hot cache (hotcache.h) and what keeps it exact: this
	 * loop's own read-only library handle, whose data_version moves the
	 * epoch on every commit anyone makes. */
	struct hotcache *hot;
	struct dam *hot_dam;
	int64_t data_version;
	uint64_t epoch;
	uint64_t epoch_ms;  /* time_mono_ms() when this epoch's data_version was first read */
};

/* What a request handed to the pool needs to keep its answer hot: the
 * epoch and configuration the loop saw before the handler ran. */
struct hot_ticket {
	bool ok;
	uint64_t epoch, epoch_ms;
	int cfg_gen;
};

/* A FILE_BUF buffer for a response of this loop (its thread only). */
static char *loop_buf_get(struct loop *lp)
{
	return lp->nspare ? lp->spare[--lp->nspare] : malloc(FILE_BUF);
}

static void loop_buf_put(struct loop *lp, char *buf)
{
	if (buf && lp->nspare < LOOP_SPARE_BUFS)
		lp->spare[lp->nspare++] = buf;
	else
		free(buf);
}

struct task {
	unsigned magic;
	h2o_multithread_message_t msg;   /* first use: link in the pool queue via next */
	struct task *next;
	struct loop *loop;
	h2o_req_t *req;                  /* NULL once h2o freed the request */
	struct req_link *link;           /* the request pool's pointer back to us */
	struct http_req *hreq;
	struct http_res res;
	double started;
	struct hot_ticket hot;
};

/* Lives in the h2o request's pool: tells the task the request is gone. */
struct req_link {
	struct task *task;
	struct server_ctx *srv;
	double started;
};

/*
 * Two queues, each with its own threads. Quick point reads (routes marked
 * ROUTE_QUICK: an asset's JSON, its versions and renditions) go to a pool
 * of one thread per core; everything else to the main pool (4 per core),
 * whose threads may block for long (fsync of an upload chunk, a busy
 * database, media work). Measured on 2 cores under wrk: eight threads
 * taking turns at a queue of short tasks cost 29-35 us of CPU per GET (each
 * one falls asleep and is woken again for nearly every task, and each
 * keeps its own cold caches); two cost 20-21 us. Quick routes still never
 * run on an event loop: their SQLite reads can wait for the disk.
 */
enum { POOL_MAIN, POOL_QUICK, NPOOLS };

struct pool_queue {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct task *head, *tail;
	bool quit;
};

#define POOL_QUEUE_INIT { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, NULL, false }
static struct pool_queue pool_q[NPOOLS] = { POOL_QUEUE_INIT, POOL_QUEUE_INIT };

static h2o_globalconf_t h2o_config;

void server_auth_limits(struct server_ctx *srv, struct auth_limits *out)
{
	pthread_mutex_lock(&srv->cfg_lock);
	*out = srv->auth_limits;
	pthread_mutex_unlock(&srv->cfg_lock);
}

/* ---- pool ---- */

static void pool_push(struct pool_queue *q, struct task *t)
{
	pthread_mutex_lock(&q->lock);
	t->next = NULL;
	if (q->tail)
		q->tail->next = t;
	else
		q->head = t;
	q->tail = t;
	pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&q->lock);
}

static struct task *pool_pop(struct pool_queue *q)
{
	struct task *t;

	pthread_mutex_lock(&q->lock);
	while (!q->head && !q->quit)
		pthread_cond_wait(&q->cond, &q->lock);
	t = q->head;
	if (t) {
		q->head = t->next;
		if (!q->head)
			q->tail = NULL;
	}
	pthread_mutex_unlock(&q->lock);
	return t;
}

struct pool_thread {
	struct server_ctx *srv;
	struct pool_queue *queue;
	pthread_t thread;
};

static void refresh_config(struct server_ctx *srv, struct dam *dam, int *seen);

static void *pool_main(void *arg)
{
	struct pool_thread *pt = arg;
	struct dam *dam = NULL;
	struct dam_err err;
	struct task *t;
	int seen = -1;

	if (library_open_shared(pt->srv->search_lib, &dam, &err) < 0) {
		fprintf(stderr, "dam serve: pool thread cannot open the library: %s\n", err.msg);
		return NULL;
	}
	while ((t = pool_pop(pt->queue))) {
		if (t->magic != TASK_MAGIC)
			abort();
		refresh_config(pt->srv, dam, &seen);
		serve_request(pt->srv, dam, t->hreq, &t->res);
		h2o_multithread_send_message(&t->loop->done, &t->msg);
	}
	library_close(dam);
	return NULL;
}

/* ---- responses ---- */

struct file_gen {
	h2o_generator_t super;
	struct loop *loop;      /* whose spare buffers buf returns to */
	int fd;
	uint64_t off, remaining;
	/* multipart/byteranges */
	struct http_res *res;   /* owned copy of ranges etc. (heap) */
	int range_index;
	bool in_part;
	char *buf;
	size_t bufsize;
};

static void file_gen_dispose(void *p)
{
	struct file_gen *g = p;

	if (g->fd >= 0)
		close(g->fd);
	loop_buf_put(g->loop, g->buf);
	if (g->res) {
		http_res_release(g->res);
		free(g->res);
	}
}

static void file_gen_stop(h2o_generator_t *self, h2o_req_t *req)
{
	struct file_gen *g = (struct file_gen *)self;

	if (g->fd >= 0)
		close(g->fd);
	g->fd = -1;
}

static void file_gen_proceed(h2o_generator_t *self, h2o_req_t *req)
{
	struct file_gen *g = (struct file_gen *)self;
	h2o_iovec_t vec[2];
	size_t nvec = 0, used = 0;
	ssize_t n;

	if (g->res && g->res->nranges > 1 && !g->in_part) {
		/* Next part's headers, or the closing boundary. */
		if (g->range_index < g->res->nranges) {
			used = serve_part_header(g->res, g->range_index, g->buf, 512);
			g->off = g->res->ranges[g->range_index].start;
			g->remaining = g->res->ranges[g->range_index].end - g->off + 1;
			g->in_part = true;
		} else {
			used = serve_part_header(g->res, g->res->nranges, g->buf, 512);
			vec[0] = h2o_iovec_init(g->buf, used);
			h2o_send(req, vec, 1, H2O_SEND_STATE_FINAL);
			return;
		}
	}
	{
		size_t want = g->bufsize - used;
		if (want > g->remaining)
			want = (size_t)g->remaining;
		n = g->fd >= 0 ? pread(g->fd, g->buf + used, want, (off_t)g->off) : -1;
		if (n <= 0 && want > 0) {
			h2o_send(req, NULL, 0, H2O_SEND_STATE_ERROR);
			return;
		}
		if (n < 0)
			n = 0;
	}
	g->off += (uint64_t)n;
	g->remaining -= (uint64_t)n;
	vec[nvec++] = h2o_iovec_init(g->buf, used + (size_t)n);
	if (g->remaining == 0 && g->res && g->res->nranges > 1) {
		g->in_part = false;
		g->range_index++;
		h2o_send(req, vec, nvec, H2O_SEND_STATE_IN_PROGRESS);
		return;
	}
	h2o_send(req, vec, nvec, g->remaining ? H2O_SEND_STATE_IN_PROGRESS : H2O_SEND_STATE_FINAL);
}

static void add_header(h2o_req_t *req, const char *name, const char *value)
{
	size_t nl = strlen(name), vl = strlen(value);
	char *n = h2o_mem_alloc_pool(&req->pool, nl + 1), *v = h2o_mem_alloc_pool(&req->pool, vl + 1);

	memcpy(n, name, nl + 1);
	memcpy(v, value, vl + 1);
	h2o_add_header_by_str(&req->pool, &req->res.headers, n, nl, 1, NULL, v, vl);
}

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 206: return "Partial Content";
	case 302: return "Found";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 412: return "Precondition Failed";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 416: return "Range Not Satisfiable";
	case 422: return "Unprocessable Entity";
	case 429: return "Too Many Requests";
	case 503: return "Service Unavailable";
	case 507: return "Insufficient Storage";
	}
	return status >= 500 ? "Internal Server Error" : "OK";
}

static void access_log(struct server_ctx *srv, const struct http_req *hreq, const struct http_res *res,
		       uint64_t bytes, double seconds)
{
	char at[32];
	json_t *line;
	char *s;

	if (srv->opts.quiet)
		return;
	time_iso8601(time_now_ms(), at);
	line = json_pack("{s:s,s:s,s:s,s:i,s:I,s:f,s:s,s:s,s:s}", "time", at, "method", hreq->method,
			 "path", hreq->path ? hreq->path : "", "status", res->status, "bytes", (json_int_t)bytes,
			 "duration_ms", seconds * 1000.0, "user",
			 hreq->actor.kind == ACTOR_USER ? hreq->actor.username : "-", "request_id", hreq->request_id,
			 "client", hreq->client);
	if (!line)
		return;
	s = json_dumps(line, JSON_COMPACT);
	if (s)
		fprintf(stdout, "%s\n", s);
	free(s);
	json_decref(line);
}

/* Turns our response into h2o's; consumes res (fd ownership moves to the
 * generator). */
static void emit(struct server_ctx *srv, h2o_req_t *req, struct http_req *hreq, struct http_res *res,
		 double started)
{
	static h2o_generator_t plain = { NULL, NULL };
	uint64_t bytes;

	req->res.status = res->status;
	req->res.reason = reason(res->status);
	serve_common_headers(srv, hreq, res, req);
	for (size_t i = 0; i < res->nheaders; i++)
		add_header(req, res->headers[i].name, res->headers[i].value);
	if (res->fd < 0 && res->static_body) {
		h2o_iovec_t v = h2o_iovec_init(res->static_body, res->head ? 0 : res->static_len);
		bytes = res->static_len;
		req->res.content_length = res->static_len;
		h2o_start_response(req, &plain);
		h2o_send(req, &v, 1, H2O_SEND_STATE_FINAL);
	} else if (res->fd < 0) {
		char *body = h2o_mem_alloc_pool(&req->pool, res->body.len + 1);
		h2o_iovec_t v;
		memcpy(body, res->body.buf, res->body.len);
		bytes = res->body.len;
		req->res.content_length = res->body.len;
		v = h2o_iovec_init(body, res->head ? 0 : res->body.len);
		h2o_start_response(req, &plain);
		h2o_send(req, &v, 1, H2O_SEND_STATE_FINAL);
	} else {
		struct file_gen *g = h2o_mem_alloc_shared(&req->pool, sizeof *g, file_gen_dispose);
		memset(g, 0, sizeof *g);
		g->super.proceed = file_gen_proceed;
		g->super.stop = file_gen_stop;
		g->loop = H2O_STRUCT_FROM_MEMBER(struct loop, ctx, req->conn->ctx);
		g->fd = res->fd;
		res->fd = -1;
		g->bufsize = FILE_BUF;
		g->buf = loop_buf_get(g->loop);
		bytes = serve_file_length(res);
		req->res.content_length = bytes;
		if (res->nranges > 1) {
			g->res = malloc(sizeof *g->res);
			*g->res = *res;
			http_res_init(res); /* moved */
			g->res->headers = NULL;
			g->res->nheaders = g->res->capheaders = 0;
			strbuf_init(&g->res->body, 0);
		} else {
			g->off = res->nranges ? res->ranges[0].start : 0;
			g->remaining = bytes;
		}
		h2o_start_response(req, &g->super);
		if (res->head || bytes == 0 || !g->buf)
			h2o_send(req, NULL, 0, g->buf ? H2O_SEND_STATE_FINAL : H2O_SEND_STATE_ERROR);
		else
			file_gen_proceed(&g->super, req);
	}
	metrics_observe(&srv->metrics, hreq->route ? (int)(hreq->route - http_routes) : -1, res->status,
			time_mono() - started);
	access_log(srv, hreq, res, res->head ? 0 : bytes, time_mono() - started);
}

/* ---- delivery's hot cache ---- */

/* Reads the loop's data_version; a change (a commit by anyone) moves the
 * epoch and so retires every entry made before. false when it cannot be
 * read: then nothing is answered from the cache or kept in it. */
static bool hot_epoch(struct loop *lp)
{
	struct db_version v;

	if (db_data_version(lp->hot_dam->db, &v, NULL) < 0)
		return false;
	if (v.others != lp->data_version || lp->epoch == 0) {
		lp->data_version = v.others;
		lp->epoch++;
		lp->epoch_ms = time_mono_ms();
	}
	return true;
}

static void hot_release(void *p)
{
	hot_entry_unref(*(struct hot_entry **)p);
}

/* The response from entry e: its headers and body by reference (the
 * request's pool holds the entry until h2o is done with them), and
 * Cache-Control as of now. */
static void hot_response(h2o_req_t *req, const struct http_req *hreq, struct hot_entry *e,
			 const char *cache_state, int64_t now, struct http_res *res)
{
	bool not_modified = http_req_etag_matches(hreq, e->etag);
	struct hot_entry **hold = h2o_mem_alloc_shared(&req->pool, sizeof *hold, hot_release);
	char cc[96];

	*hold = e;
	hot_entry_ref(e);
	res->head = !strcmp(hreq->method, "HEAD");
	for (size_t i = 0; i < e->nheaders; i++)
		if (!not_modified || strcmp(e->headers[i].name, "content-type"))
			h2o_add_header_by_str(&req->pool, &req->res.headers, e->headers[i].name,
					      strlen(e->headers[i].name), 1, NULL, e->headers[i].value,
					      strlen(e->headers[i].value));
	deliver_cache_control(cc, sizeof cc, e->max_age, e->immutable, e->expires, now);
	http_res_header(res, "cache-control", cc);
	if (cache_state)
		http_res_header(res, "x-dam-cache", cache_state);
	if (not_modified) {
		res->status = 304;
		return;
	}
	res->static_body = e->body;
	res->static_len = e->len;
}

/* Sends entry e as the answer to req. */
static void hot_emit(struct server_ctx *srv, h2o_req_t *req, struct http_req *hreq, struct hot_entry *e,
		     const char *cache_state, double started)
{
	struct http_res res;

	http_res_init(&res);
	hot_response(req, hreq, e, cache_state, (int64_t)(time_now_ms() / 1000), &res);
	emit(srv, req, hreq, &res, started);
	http_res_release(&res);
}

/* Answers a delivery request from the loop's hot cache; true when done.
 * Otherwise *ticket says whether the pool's answer may be kept. */
static bool hot_answer(struct loop *lp, h2o_req_t *req, struct http_req *hreq, double started,
		       struct hot_ticket *ticket)
{
	struct server_ctx *srv = lp->srv;
	const char *accept = http_req_header(hreq, "accept");
	int64_t now = (int64_t)(time_now_ms() / 1000);
	struct hot_entry *e;

	/* Ranges and long Accept values (a key each) take the full path. */
	if ((strcmp(hreq->method, "GET") && strcmp(hreq->method, "HEAD")) || http_req_header(hreq, "range") ||
	    (accept && strlen(accept) > 512) || !hot_epoch(lp))
		return false;
	ticket->ok = true;
	ticket->epoch = lp->epoch;
	ticket->epoch_ms = lp->epoch_ms;
	ticket->cfg_gen = atomic_load(&srv->cfg_generation);
	if (!(e = hotcache_find(lp->hot, hreq->path, accept, ticket->epoch, ticket->cfg_gen, now))) {
		atomic_fetch_add(&srv->metrics.hot_misses, 1);
		return false;
	}
	atomic_fetch_add(&srv->metrics.hot_hits, 1);
	hot_emit(srv, req, hreq, e, "hit", started);
	http_req_free(hreq);
	return true;
}

/* Keeps a pool's 200 answer (on the loop's thread); the entry, or NULL
 * when it is not kept. The per-answer headers are made again on each use.
 * An answer that rested on state the
 * pool remembered from before this epoch began (keys or presets, re-read
 * once a second) could miss the very change that started the epoch, and
 * nothing would retire it: it is not kept; a later one will be. */
static struct hot_entry *hot_keep(struct loop *lp, const struct http_req *hreq, struct http_res *res,
				  const struct hot_ticket *ticket)
{
	struct http_header keep[32];
	size_t n = 0;

	if (res->hot->state_ms < ticket->epoch_ms)
		return NULL;
	for (size_t i = 0; i < res->nheaders && n < 32; i++)
		if (strcmp(res->headers[i].name, "cache-control") && strcmp(res->headers[i].name, "x-dam-cache"))
			keep[n++] = res->headers[i];
	if (n == 32)
		return NULL;
	return hotcache_put(lp->hot, hreq->path, http_req_header(hreq, "accept"), ticket->epoch, ticket->cfg_gen,
			    keep, n, res->hot);
}

/* ---- requests ---- */

static void link_dispose(void *p)
{
	struct req_link *l = p;

	if (l->task)
		l->task->req = NULL;
	atomic_fetch_sub(&l->srv->in_flight, 1);
}

static void on_done(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
	while (!h2o_linklist_is_empty(messages)) {
		h2o_multithread_message_t *m = H2O_STRUCT_FROM_MEMBER(h2o_multithread_message_t, link, messages->next);
		struct task *t = H2O_STRUCT_FROM_MEMBER(struct task, msg, m);
		h2o_linklist_unlink(&m->link);
		if (t->magic != TASK_MAGIC)
			abort();
		if (t->req) {
			/* The request outlives the task: its dispose hook must not
			 * touch the task once it is freed below. */
			struct hot_entry *e = NULL;

			t->link->task = NULL;
			if (t->hot.ok && t->res.hot && t->res.status == 200)
				e = hot_keep(t->loop, t->hreq, &t->res, &t->hot);
			/* A kept answer goes out from its entry: the file is not
			 * read a second time. */
			if (e)
				hot_emit(t->loop->srv, t->req, t->hreq, e, http_res_get_header(&t->res, "x-dam-cache"),
					 t->started);
			else
				emit(t->loop->srv, t->req, t->hreq, &t->res, t->started);
		}
		t->magic = 0;
		http_res_release(&t->res);
		http_req_free(t->hreq);
		free(t);
	}
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
	struct loop *lp = H2O_STRUCT_FROM_MEMBER(struct loop, ctx, req->conn->ctx);
	struct server_ctx *srv = lp->srv;
	struct req_link *link = h2o_mem_alloc_shared(&req->pool, sizeof *link, link_dispose);
	struct http_req *hreq = NULL;
	struct http_res res;
	struct task *t;
	struct hot_ticket ticket = { 0 };
	double started = time_mono();

	link->task = NULL;
	link->srv = srv;
	link->started = started;
	atomic_fetch_add(&srv->in_flight, 1);
	http_res_init(&res);
	if (serve_prepare(srv, req, &hreq, &res) < 0 || (hreq->route->flags & ROUTE_INLINE)) {
		/* Refused while parsing (4xx), or cheap enough for the loop. */
		if (hreq && res.status == 200 && !res.body.len)
			serve_request(srv, NULL, hreq, &res);
		if (!hreq)
			hreq = serve_dummy_req(req);
		emit(srv, req, hreq, &res, started);
		http_res_release(&res);
		http_req_free(hreq);
		return 0;
	}
	if ((hreq->route->flags & ROUTE_HOT) && lp->hot && hot_answer(lp, req, hreq, started, &ticket))
		return 0;
	t = calloc(1, sizeof *t);
	if (!t) {
		http_res_error(&res, 503, "busy", "the server is out of memory; try again", NULL);
		emit(srv, req, hreq, &res, started);
		http_res_release(&res);
		http_req_free(hreq);
		return 0;
	}
	t->magic = TASK_MAGIC;
	t->loop = lp;
	t->req = req;
	t->hreq = hreq;
	t->started = started;
	t->hot = ticket;
	http_res_init(&t->res);
	link->task = t;
	t->link = link;
	pool_push(&pool_q[(hreq->route->flags & ROUTE_QUICK) ? POOL_QUICK : POOL_MAIN], t);
	return 0;
}

/* ---- event loops ---- */

static void on_accept(h2o_socket_t *listener, const char *err)
{
	struct loop *lp = listener->data;
	h2o_socket_t *sock;

	if (err)
		return;
	/* One connection per wake-up: every loop polls the shared listening
	 * socket (level-triggered), so one still waiting takes the next. A loop
	 * draining the whole backlog took all of a burst of connections (all 64
	 * of wrk's on one loop), which mattered once hot deliveries were
	 * answered on the loops themselves. */
	if (!(sock = h2o_evloop_socket_accept(listener)))
		return;
	if (conn_limit_admit(lp->srv, sock) < 0)
		h2o_socket_close(sock);
	else
		h2o_accept(&lp->accept, sock);
}

/* On the loop's own thread: everything that creates h2o sockets. A socket's
 * buffers take memory from the creating thread's buffer prototype and its
 * recycle list (h2o's are __thread, without locks). The context's and our
 * multithread queues' sockets used to be made on the main thread, so both
 * loops shared the main thread's recycle list unlocked: under load that
 * corrupted the heap (a use after free in h2o_mem_alloc_recycle, found with
 * ASan under wrk). */
static void loop_init(struct loop *lp)
{
	h2o_context_init(&lp->ctx, h2o_evloop_create(), &h2o_config);
	lp->queue = h2o_multithread_create_queue(lp->ctx.loop);
	h2o_multithread_register_receiver(lp->queue, &lp->done, on_done);
	lp->accept.ctx = &lp->ctx;
}

/* The loop's hot cache, when [delivery] hot_cache_mb asks for one (read at
 * start: its share of memory per loop is fixed). Without its own library
 * handle the loop could not tell a changed library, so it has none then. */
static void hot_open(struct loop *lp)
{
	struct dam_err err;
	size_t bytes;

	pthread_mutex_lock(&lp->srv->cfg_lock);
	bytes = ((size_t)lp->srv->cfg.hot_cache_mb << 20) / (size_t)lp->srv->nloops;
	pthread_mutex_unlock(&lp->srv->cfg_lock);
	if (!bytes)
		return;
	if (library_open(lp->srv->root, &lp->hot_dam, &err) < 0) {
		fprintf(stderr, "dam serve: no hot delivery cache: %s\n", err.msg);
		return;
	}
	if (!(lp->hot = hotcache_new(bytes))) {
		library_close(lp->hot_dam);
		lp->hot_dam = NULL;
	}
}

static void *loop_main(void *arg)
{
	struct loop *lp = arg;

	/* h2o receives a request body into one buffer per connection that
	 * doubles from this size, and moves it to a temp file (mmap) once it
	 * reaches 32 MiB. From h2o's 8 KiB, a 16 MiB tus chunk (plus headers)
	 * needed 32 MiB: every chunk went through a file in /tmp, and page
	 * faults reading, zeroing and truncating it were a third of the
	 * server's CPU during an upload. From 12 KiB the sizes are 3 * 2^k:
	 * such a chunk fits 24 MiB of plain memory (which malloc reuses from one
	 * chunk to the next), and bodies past 24 MiB still spill to a file.
	 * Per thread (h2o's prototype is __thread); set before any socket. */
	h2o_socket_buffer_prototype._initial_buf.capacity = 3 * H2O_SOCKET_INITIAL_INPUT_BUFFER_SIZE;
	loop_init(lp);
	hot_open(lp);
	lp->listener = h2o_evloop_socket_create(lp->ctx.loop, lp->listen_fd, H2O_SOCKET_FLAG_DONT_READ);
	lp->listener->data = lp;
	h2o_socket_read_start(lp->listener, on_accept);
	for (;;) {
		h2o_evloop_run(lp->ctx.loop, 50);
		if (atomic_load(&lp->srv->stopping) && !lp->shutdown_requested) {
			/* Stop accepting; let open connections finish. */
			h2o_socket_read_stop(lp->listener);
			h2o_socket_close(lp->listener);
			lp->listener = NULL;
			h2o_context_request_shutdown(&lp->ctx);
			lp->shutdown_requested = true;
		}
		if (atomic_load(&lp->srv->stopping) == 2)
			break;
	}
	hotcache_free(lp->hot);
	library_close(lp->hot_dam);
	return NULL;
}

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

static SSL_CTX *tls_context(const char *cert, const char *key, struct dam_err *err)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (!ctx)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		dam_err_set(err, DAM_EINVAL, "tls", "cannot load the TLS certificate %s or key %s", cert, key);
		SSL_CTX_free(ctx);
		return NULL;
	}
	h2o_ssl_register_alpn_protocols(ctx, h2o_http2_alpn_protocols);
	return ctx;
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

/* ---- configuration ---- */

static int load_config(struct server_ctx *srv, struct dam_err *err)
{
	struct dam_config cfg;
	char path[4200];
	int rc;

	config_defaults(&cfg);
	snprintf(path, sizeof path, "%s/dam.conf", srv->root);
	if ((rc = config_load(path, &cfg, err)) < 0)
		return rc;
	pthread_mutex_lock(&srv->cfg_lock);
	srv->cfg = cfg;
	auth_limits_default(&srv->auth_limits);
	pthread_mutex_unlock(&srv->cfg_lock);
	atomic_fetch_add(&srv->cfg_generation, 1);
	return 0;
}

/* A pool thread's library handle takes a reloaded dam.conf before its next
 * request (presets, delivery limits and the rest of the configuration). */
static void refresh_config(struct server_ctx *srv, struct dam *dam, int *seen)
{
	int gen = atomic_load(&srv->cfg_generation);

	if (gen == *seen)
		return;
	pthread_mutex_lock(&srv->cfg_lock);
	dam->cfg = srv->cfg;
	pthread_mutex_unlock(&srv->cfg_lock);
	*seen = gen;
}

static void parse_trusted(struct server_ctx *srv, const char *list)
{
	const char *p = list;

	while (p && *p && srv->ntrusted < 16) {
		size_t n = strcspn(p, ", ");
		if (n && n < sizeof srv->trusted[0]) {
			memcpy(srv->trusted[srv->ntrusted], p, n);
			srv->trusted[srv->ntrusted++][n] = '\0';
		}
		p += n;
		p += strspn(p, ", ");
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

static void init_h2o(struct server_ctx *srv, struct loop *loops, int nloops, SSL_CTX *ssl, int fd)
{
	h2o_hostconf_t *host;
	h2o_pathconf_t *path;
	h2o_handler_t *h;

	h2o_config_init(&h2o_config);
	h2o_config.server_name = h2o_iovec_init(H2O_STRLIT("dam"));
	h2o_config.max_request_entity_size = srv->opts.max_upload + 1024 * 1024;
	h2o_config.http1.req_timeout = 30 * 1000;      /* slowloris: whole request within 30 s */
	h2o_config.http2.idle_timeout = 60 * 1000;
	h2o_config.http1.upgrade_to_http2 = 1;
	host = h2o_config_register_host(&h2o_config, h2o_iovec_init(H2O_STRLIT("default")), 65535);
	path = h2o_config_register_path(host, "/", 0);
	h = h2o_create_handler(path, sizeof *h);
	h->on_req = on_req;
	for (int i = 0; i < nloops; i++) {
		struct loop *lp = &loops[i];
		lp->srv = srv;
		lp->accept.hosts = h2o_config.hosts;
		lp->accept.ssl_ctx = ssl;
		lp->listen_fd = i == 0 ? fd : dup(fd);
	}
}


int server_run(const struct server_opts *opts, struct dam_err *err)
{
	static struct server_ctx srv_storage;
	struct server_ctx *srv = &srv_storage;
	int ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN), nloops, npool, nworkers, fd, rc = 0;
	struct loop *loops = NULL;
	struct pool_thread *pool = NULL;
	struct worker_proc workers[64];
	SSL_CTX *ssl = NULL;
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
	 * at 230 MB, with 2 per core and 16 MB at 143 MB. */
	mallopt(M_ARENA_MAX, ncpu > 1 ? 2 * ncpu : 2);
	mallopt(M_TRIM_THRESHOLD, 16 << 20);
	mallopt(M_TOP_PAD, 1 << 20);
	mallopt(M_MMAP_THRESHOLD, 4 << 20);
	/* One access-log line per request, even when stdout is a file. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	srv->opts = *opts;
	if (!srv->opts.max_upload)
		srv->opts.max_upload = 256u << 20;
	if (!srv->opts.tus_chunk_max)
		srv->opts.tus_chunk_max = 16u << 20;
	if (!srv->opts.max_conns_per_client)
		srv->opts.max_conns_per_client = 256;
	if (!srv->opts.stop_deadline_s)
		srv->opts.stop_deadline_s = 20;
	snprintf(srv->root, sizeof srv->root, "%s", opts->root);
	snprintf(srv->exe, sizeof srv->exe, "%s", opts->exe ? opts->exe : "/proc/self/exe");
	pthread_mutex_init(&srv->cfg_lock, NULL);
	parse_trusted(srv, opts->trusted_proxies);
	srv->started_ms = time_now_ms();
	if ((rc = load_config(srv, err)) < 0 || (rc = bootstrap(srv, err)) < 0 ||
	    (rc = library_open(srv->root, &srv->search_lib, err)) < 0 || (rc = start_delivery(srv, err)) < 0) {
		library_close(srv->search_lib);
		return rc;
	}
	if (opts->tls_cert && !(ssl = tls_context(opts->tls_cert, opts->tls_key, err))) {
		deliver_close(srv->deliver);
		library_close(srv->search_lib);
		return DAM_EINVAL;
	}
	if ((fd = open_listener(opts->listen ? opts->listen : "127.0.0.1:8080", url, sizeof url, ssl, err)) < 0) {
		deliver_close(srv->deliver);
		library_close(srv->search_lib);
		if (ssl)
			SSL_CTX_free(ssl);
		return fd;
	}

	/* Signals go to the main thread only (sigtimedwait below). */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	nloops = opts->loops > 0 ? opts->loops : ncpu;
	npool = (opts->pool > 0 ? opts->pool : 4 * ncpu) + ncpu; /* main + quick */
	nworkers = opts->workers < 0 ? 0 : opts->workers > 0 ? opts->workers : ncpu;
	if (nworkers > 64)
		nworkers = 64;
	loops = calloc((size_t)nloops, sizeof *loops);
	pool = calloc((size_t)npool, sizeof *pool);
	srv->nloops = nloops;
	init_h2o(srv, loops, nloops, ssl, fd);
	conn_limit_init(srv->opts.max_conns_per_client);
	for (int i = 0; i < npool; i++) {
		pool[i].srv = srv;
		pool[i].queue = &pool_q[i < ncpu ? POOL_QUICK : POOL_MAIN];
		pthread_create(&pool[i].thread, NULL, pool_main, &pool[i]);
	}
	for (int i = 0; i < nloops; i++)
		pthread_create(&loops[i].thread, NULL, loop_main, &loops[i]);
	pthread_create(&purger, NULL, purge_main, srv);
	warming = pthread_create(&warm, NULL, search_warm_main, srv) == 0;
	memset(workers, 0, sizeof workers);
	printf("dam serve: listening on %s (library %s)\n", url, srv->root);
	fflush(stdout);

	for (;;) {
		struct timespec ts = { 0, 250 * 1000000L };
		int sig = sigtimedwait(&set, NULL, &ts);
		if (sig == SIGTERM || sig == SIGINT)
			break;
		if (sig == SIGHUP) {
			struct dam_err e;
			if (load_config(srv, &e) < 0)
				fprintf(stderr, "dam serve: reload failed, keeping the old configuration: %s\n", e.msg);
			else
				fprintf(stderr, "dam serve: configuration reloaded\n");
			resync_presets(srv);
		}
		supervise(srv, workers, nworkers);
	}

	/* Graceful stop: no new connections, in-flight requests and jobs finish
	 * within the deadline. */
	fprintf(stderr, "dam serve: stopping\n");
	atomic_store(&srv->stopping, 1);
	{
		double until = time_mono() + srv->opts.stop_deadline_s;
		stop_workers(workers, nworkers, srv->opts.stop_deadline_s);
		/* Requests still receiving their body have not reached a handler
		 * yet, so open connections count too. */
		while ((atomic_load(&srv->in_flight) > 0 || conn_limit_open() > 0) && time_mono() < until)
			usleep(10000);
	}
	atomic_store(&srv->stopping, 2);
	for (int i = 0; i < nloops; i++)
		pthread_join(loops[i].thread, NULL);
	for (int i = 0; i < NPOOLS; i++) {
		pthread_mutex_lock(&pool_q[i].lock);
		pool_q[i].quit = true;
		pthread_cond_broadcast(&pool_q[i].cond);
		pthread_mutex_unlock(&pool_q[i].lock);
	}
	for (int i = 0; i < npool; i++)
		pthread_join(pool[i].thread, NULL);
	pthread_join(purger, NULL);
	if (warming)
		pthread_join(warm, NULL);
	library_close(srv->search_lib);
	deliver_close(srv->deliver);
	for (int i = 0; i < nloops; i++)
		while (loops[i].nspare)
			free(loops[i].spare[--loops[i].nspare]);
	free(loops);
	free(pool);
	if (ssl)
		SSL_CTX_free(ssl);
	fprintf(stderr, "dam serve: stopped\n");
	return 0;
}
