/*
 * server.c - h2o glue. Loops parse and route; pool threads authenticate and
 * run handlers; responses come back through per-loop multithread queues.
 * Start-up, signals, job workers and background threads: server_run.c.
 */
#include "http/server.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <h2o.h>
#include <h2o/http1.h>
#include <h2o/http2.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "deliver/deliver.h"
#include "http/conn_limit.h"
#include "http/hotcache.h"
#include "http/router.h"
#include "http/serve_req.h"
#include "util/id.h"
#include "util/timeutil.h"

#define TASK_MAGIC 0x7a5c0de1u

/* File responses are read in chunks of FILE_BUF bytes into a buffer that
 * the loop keeps for the next response (up to LOOP_SPARE_BUFS of them, as
 * many as a loop has connections sending files at once under load):
 * a fresh 256 KB malloc per response came from the thread's arena and went
 * back to the kernel on free (heap trimming), so every response paid page
 * faults and zeroing for its buffer, about a sixth of the server's CPU
 * when serving stored renditions. */
#define FILE_BUF (256 * 1024)
/* Longest a write's answer waits for this node's change watcher to hear
 * its commit (normally a millisecond or two; a watcher that is
 * reconnecting makes every write wait this long, so it stays short). */
#define SERVER_SETTLE_MS 200
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
	size_t hot_bytes;   /* the cache's size last added to the metrics' gauge */
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
		server_config_refresh(pt->srv, dam, &seen);
		int64_t mark = change_watch_mark(dam);
		serve_request(pt->srv, dam, t->hreq, &t->res);
		/* A write is answered once this node's watcher heard its commit,
		 * so a client that deletes here finds the delete on every node's
		 * hot cache at its next request (change_watch.h). */
		change_watch_settle(pt->srv->watch, dam, mark, SERVER_SETTLE_MS);
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

/* Reads the loop's data_version (on PostgreSQL the change watcher's
 * number; on SQLite PRAGMA data_version, which reads no page); a change (a
 * commit by anyone, on any node) moves the epoch and so retires every
 * entry made before. false when it cannot be read: then nothing is
 * answered from the cache or kept in it, and the pool answers. A watcher
 * whose number went stale (its database unreachable) makes it false too:
 * an event loop never waits on a database connection (a reconnect to a
 * host that drops packets waits out the connect timeout). */
static bool hot_epoch(struct loop *lp)
{
	int64_t v;

	/* A watcher's number is refused too while a notification waits
	 * unread on its socket (a commit on some node, maybe one its client
	 * was already told of, not published yet): the pool answers. */
	if (!change_watch_counter(lp->srv->watch, &v)) {
		if (lp->srv->watch)
			return false;
		atomic_fetch_add(&lp->srv->metrics.hot_counter_reads, 1);
		if (library_change_counter(lp->hot_dam, &v, NULL) < 0)
			return false;
	}
	if (v != lp->data_version || lp->epoch == 0) {
		lp->data_version = v;
		lp->epoch++;
		lp->epoch_ms = time_mono_ms();
	}
	return true;
}

/* Keeps the process's gauge of hot cache bytes (all loops) current. */
static void hot_publish(struct loop *lp)
{
	struct hotcache_stats st;

	hotcache_stats(lp->hot, &st);
	if (st.bytes != lp->hot_bytes)
		atomic_fetch_add(&lp->srv->metrics.hot_bytes, (int64_t)st.bytes - (int64_t)lp->hot_bytes);
	lp->hot_bytes = st.bytes;
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
	e = hotcache_find(lp->hot, hreq->path, accept, ticket->epoch, ticket->cfg_gen, now);
	hot_publish(lp);
	if (!e) {
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
	struct hot_entry *e;
	size_t n = 0;

	if (res->hot->state_ms < ticket->epoch_ms)
		return NULL;
	for (size_t i = 0; i < res->nheaders && n < 32; i++)
		if (strcmp(res->headers[i].name, "cache-control") && strcmp(res->headers[i].name, "x-dam-cache"))
			keep[n++] = res->headers[i];
	if (n == 32)
		return NULL;
	e = hotcache_put(lp->hot, hreq->path, http_req_header(hreq, "accept"), ticket->epoch, ticket->cfg_gen, keep,
			 n, res->hot);
	hot_publish(lp);
	return e;
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
	lp->hot = NULL;
	hot_publish(lp); /* back to 0 */
	library_close(lp->hot_dam);
	return NULL;
}

/* ---- start and stop ---- */

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

/* What server_run() holds of the h2o side between start and stop. */
struct server_h2o {
	struct server_ctx *srv;
	SSL_CTX *ssl;              /* NULL without TLS */
	struct loop *loops;
	int nloops;
	struct pool_thread *pool;
	int npool;
};

int server_h2o_new(struct server_ctx *srv, struct server_h2o **out, struct dam_err *err)
{
	struct server_h2o *h = calloc(1, sizeof *h);

	*out = NULL;
	if (!h)
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	h->srv = srv;
	if (srv->opts.tls_cert && !(h->ssl = tls_context(srv->opts.tls_cert, srv->opts.tls_key, err))) {
		free(h);
		return DAM_EINVAL;
	}
	*out = h;
	return 0;
}

bool server_h2o_tls(const struct server_h2o *h)
{
	return h->ssl != NULL;
}

int server_h2o_start(struct server_h2o *h, int fd, int nloops, int nquick, int nmain, struct dam_err *err)
{
	struct server_ctx *srv = h->srv;
	int npool = nquick + nmain;

	h->loops = calloc((size_t)nloops, sizeof *h->loops);
	h->pool = calloc((size_t)npool, sizeof *h->pool);
	if (!h->loops || !h->pool) {
		free(h->loops);
		free(h->pool);
		h->loops = NULL;
		h->pool = NULL;
		close(fd);
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	}
	h->nloops = srv->nloops = nloops;
	h->npool = npool;
	init_h2o(srv, h->loops, nloops, h->ssl, fd);
	conn_limit_init(srv->opts.max_conns_per_client);
	for (int i = 0; i < npool; i++) {
		h->pool[i].srv = srv;
		h->pool[i].queue = &pool_q[i < nquick ? POOL_QUICK : POOL_MAIN];
		pthread_create(&h->pool[i].thread, NULL, pool_main, &h->pool[i]);
	}
	for (int i = 0; i < nloops; i++)
		pthread_create(&h->loops[i].thread, NULL, loop_main, &h->loops[i]);
	return 0;
}

void server_h2o_stop(struct server_h2o *h)
{
	for (int i = 0; i < h->nloops; i++)
		pthread_join(h->loops[i].thread, NULL);
	for (int i = 0; i < NPOOLS; i++) {
		pthread_mutex_lock(&pool_q[i].lock);
		pool_q[i].quit = true;
		pthread_cond_broadcast(&pool_q[i].cond);
		pthread_mutex_unlock(&pool_q[i].lock);
	}
	for (int i = 0; i < h->npool; i++)
		pthread_join(h->pool[i].thread, NULL);
}

void server_h2o_free(struct server_h2o *h)
{
	if (!h)
		return;
	for (int i = 0; i < h->nloops; i++)
		while (h->loops[i].nspare)
			free(h->loops[i].spare[--h->loops[i].nspare]);
	free(h->loops);
	free(h->pool);
	if (h->ssl)
		SSL_CTX_free(h->ssl);
	free(h);
}
