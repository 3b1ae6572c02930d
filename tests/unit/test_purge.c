#include "testutil.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "core/library.h"
#include "deliver/purge.h"

/* ---- a tiny HTTP/1.1 server on 127.0.0.1, one connection at a time ---- */

#define MAXREQ 32

struct req {
	char method[16];
	char target[512];
	char head[4096]; /* header lines, "\r\n" separated */
	char body[2048];
};

struct httpd {
	int lfd, port;
	pthread_t th;
	atomic_bool stop;
	atomic_int status; /* answer to every request */
	pthread_mutex_t mu;
	int nreq;
	struct req reqs[MAXREQ];
	/* Called in the server thread before the answer; no cmocka asserts. */
	void (*hook)(struct httpd *h, void *ud);
	void *hook_ud;
};

static const char *reason(int status)
{
	return status == 200 ? "OK" : status == 204 ? "No Content" : status == 404 ? "Not Found"
	       : status == 500 ? "Internal Server Error" : "Whatever";
}

/* Reads the request head and a Content-Length body; records it. */
static void serve_one(struct httpd *h, int fd)
{
	char buf[8192], *end, *cl, reply[256];
	size_t got = 0, want;
	struct req r = { 0 };
	ssize_t n;
	int status = atomic_load(&h->status);

	while (got < sizeof buf - 1 && (n = recv(fd, buf + got, sizeof buf - 1 - got, 0)) > 0) {
		got += (size_t)n;
		buf[got] = '\0';
		if (strstr(buf, "\r\n\r\n"))
			break;
	}
	buf[got] = '\0';
	if (!(end = strstr(buf, "\r\n\r\n")))
		return;
	*end = '\0';
	want = (cl = strcasestr(buf, "\r\nContent-Length:")) ? strtoul(cl + 17, NULL, 10) : 0;
	size_t have = got - (size_t)(end + 4 - buf);
	while (have < want && got < sizeof buf - 1 && (n = recv(fd, buf + got, sizeof buf - 1 - got, 0)) > 0) {
		got += (size_t)n;
		have += (size_t)n;
	}
	buf[got] = '\0';
	sscanf(buf, "%15s %511s", r.method, r.target);
	snprintf(r.head, sizeof r.head, "%s", strstr(buf, "\r\n") ? strstr(buf, "\r\n") + 2 : "");
	snprintf(r.body, sizeof r.body, "%.*s", (int)have, end + 4);
	pthread_mutex_lock(&h->mu);
	if (h->nreq < MAXREQ)
		h->reqs[h->nreq++] = r;
	pthread_mutex_unlock(&h->mu);
	if (h->hook)
		h->hook(h, h->hook_ud);
	snprintf(reply, sizeof reply, "HTTP/1.1 %d %s\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
		 status, reason(status));
	send(fd, reply, strlen(reply), MSG_NOSIGNAL);
}

static void *httpd_run(void *arg)
{
	struct httpd *h = arg;
	struct pollfd p = { .fd = h->lfd, .events = POLLIN };

	while (!atomic_load(&h->stop)) {
		if (poll(&p, 1, 50) <= 0)
			continue;
		int fd = accept(h->lfd, NULL, NULL);
		if (fd < 0)
			continue;
		struct timeval tv = { 5, 0 };
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		serve_one(h, fd);
		close(fd);
	}
	return NULL;
}

static int listen_any(int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(fd, 16), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

static struct httpd *httpd_start(int status)
{
	struct httpd *h = calloc(1, sizeof *h);

	h->lfd = listen_any(&h->port);
	atomic_store(&h->status, status);
	pthread_mutex_init(&h->mu, NULL);
	assert_int_equal(pthread_create(&h->th, NULL, httpd_run, h), 0);
	return h;
}

static void httpd_stop(struct httpd *h)
{
	if (!h)
		return;
	atomic_store(&h->stop, true);
	pthread_join(h->th, NULL);
	close(h->lfd);
	pthread_mutex_destroy(&h->mu);
	free(h);
}

static int httpd_count(struct httpd *h)
{
	int n;

	pthread_mutex_lock(&h->mu);
	n = h->nreq;
	pthread_mutex_unlock(&h->mu);
	return n;
}

/* Value of header name in r ("" when absent); names compare case-blind. */
static const char *header(const struct req *r, const char *name, char *out, size_t size)
{
	size_t n = strlen(name);

	out[0] = '\0';
	for (const char *line = r->head; *line;) {
		const char *eol = strstr(line, "\r\n");
		size_t len = eol ? (size_t)(eol - line) : strlen(line);
		if (len > n && !strncasecmp(line, name, n) && line[n] == ':') {
			const char *v = line + n + 1;
			while (*v == ' ')
				v++;
			snprintf(out, size, "%.*s", (int)(len - (size_t)(v - line)), v);
			return out;
		}
		line += len + (eol ? 2 : 0);
	}
	return out;
}

/* A port nothing listens on: bound, then closed. */
static int closed_port(void)
{
	int port, fd = listen_any(&port);

	close(fd);
	return port;
}

#define A_ID "0190f3a2-6d1e-7c3b-8000-00000000000a"
#define B_ID "0190f3a2-6d1e-7c3b-8000-00000000000b"
#define C_ID "0190f3a2-6d1e-7c3b-8000-00000000000c"

struct fx {
	char *dir;
	struct dam *dam;
	struct httpd *h;
	struct purge_config cfg;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);

	/* Requests to 127.0.0.1 must not go through a proxy of the machine. */
	unsetenv("http_proxy");
	unsetenv("HTTP_PROXY");
	unsetenv("https_proxy");
	unsetenv("all_proxy");
	unsetenv("ALL_PROXY");
	f->dir = tu_tempdir();
	f->h = httpd_start(200);
	f->cfg.timeout_ms = 5000;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	httpd_stop(f->h);
	library_close(f->dam);
	tu_rmrf(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

/* Adds "http://127.0.0.1:<port>", with a trailing slash when asked. */
static void add_edge(struct fx *f, int port, bool slash)
{
	snprintf(f->cfg.edges[f->cfg.nedges++], sizeof f->cfg.edges[0], "http://127.0.0.1:%d%s", port,
		 slash ? "/" : "");
}

/* ---- purge_send ---- */

static void test_ban_carries_surrogate_key(void **state)
{
	struct fx *f = *state;
	char v[256];

	add_edge(f, f->h->port, false);
	add_edge(f, f->h->port, true);
	assert_int_equal(purge_send(&f->cfg, A_ID, NULL), 0);
	assert_int_equal(httpd_count(f->h), 2);
	for (int i = 0; i < 2; i++) {
		assert_string_equal(f->h->reqs[i].method, "BAN");
		assert_string_equal(f->h->reqs[i].target, "/");
		assert_string_equal(header(&f->h->reqs[i], "X-Surrogate-Key", v, sizeof v), A_ID);
		assert_string_equal(f->h->reqs[i].body, "");
	}
}

static void test_purge_method(void **state)
{
	struct fx *f = *state;
	char v[256];

	add_edge(f, f->h->port, false);
	snprintf(f->cfg.method, sizeof f->cfg.method, "PURGE");
	assert_int_equal(purge_send(&f->cfg, B_ID, NULL), 0);
	assert_int_equal(httpd_count(f->h), 1);
	assert_string_equal(f->h->reqs[0].method, "PURGE");
	assert_string_equal(f->h->reqs[0].target, "/");
	assert_string_equal(header(&f->h->reqs[0], "X-Surrogate-Key", v, sizeof v), B_ID);
}

static void test_commercial_call_is_templated(void **state)
{
	struct fx *f = *state;
	struct req *r = &f->h->reqs[0];
	char v[256];

	snprintf(f->cfg.http_url, sizeof f->cfg.http_url, "http://127.0.0.1:%d/zones/z1/purge/{key}?tag={key}",
		 f->h->port);
	snprintf(f->cfg.http_body, sizeof f->cfg.http_body, "{\"tags\":[\"{key}\"],\"n\":1}");
	snprintf(f->cfg.http_header, sizeof f->cfg.http_header, "Authorization: Bearer s3cret");
	assert_int_equal(purge_send(&f->cfg, C_ID, NULL), 0);
	assert_int_equal(httpd_count(f->h), 1);
	assert_string_equal(r->method, "POST");
	assert_string_equal(r->target, "/zones/z1/purge/" C_ID "?tag=" C_ID);
	assert_string_equal(r->body, "{\"tags\":[\"" C_ID "\"],\"n\":1}");
	assert_string_equal(header(r, "Content-Type", v, sizeof v), "application/json");
	assert_string_equal(header(r, "Authorization", v, sizeof v), "Bearer s3cret");
	assert_string_equal(header(r, "X-Surrogate-Key", v, sizeof v), "");

	/* Another method, no body: no JSON content type, nothing sent after the head. */
	f->cfg.http_body[0] = '\0';
	snprintf(f->cfg.http_method, sizeof f->cfg.http_method, "DELETE");
	assert_int_equal(purge_send(&f->cfg, A_ID, NULL), 0);
	assert_int_equal(httpd_count(f->h), 2);
	r = &f->h->reqs[1];
	assert_string_equal(r->method, "DELETE");
	assert_string_equal(r->target, "/zones/z1/purge/" A_ID "?tag=" A_ID);
	assert_string_equal(r->body, "");
	assert_string_equal(header(r, "Content-Type", v, sizeof v), "");
}

static void test_refusal_names_the_edge(void **state)
{
	struct fx *f = *state;
	struct dam_err err;
	char edge[64];

	atomic_store(&f->h->status, 500);
	add_edge(f, f->h->port, false);
	snprintf(edge, sizeof edge, "edge http://127.0.0.1:%d", f->h->port);
	assert_int_equal(purge_send(&f->cfg, A_ID, &err), DAM_EIO);
	assert_int_equal(err.code, DAM_EIO);
	assert_non_null(strstr(err.msg, edge));
	assert_non_null(strstr(err.msg, "500 Internal Server Error"));

	/* 404 is not accepted either; a 204 is. */
	atomic_store(&f->h->status, 404);
	assert_int_equal(purge_send(&f->cfg, A_ID, &err), DAM_EIO);
	assert_non_null(strstr(err.msg, "404"));
	atomic_store(&f->h->status, 204);
	assert_int_equal(purge_send(&f->cfg, A_ID, &err), 0);
}

static void test_closed_port_fails_but_others_still_purged(void **state)
{
	struct fx *f = *state;
	struct dam_err err;
	char edge[64];
	int port = closed_port();

	add_edge(f, port, false);
	add_edge(f, f->h->port, false);
	snprintf(edge, sizeof edge, "edge http://127.0.0.1:%d", port);
	assert_int_equal(purge_send(&f->cfg, A_ID, &err), DAM_EIO);
	assert_non_null(strstr(err.msg, edge));
	assert_int_equal(httpd_count(f->h), 1); /* the live edge was purged anyway */

	/* A commercial API that is down is named by its origin only. */
	f->cfg.nedges = 0;
	snprintf(f->cfg.http_url, sizeof f->cfg.http_url, "http://127.0.0.1:%d/purge?token=s3cret", port);
	assert_int_equal(purge_send(&f->cfg, A_ID, &err), DAM_EIO);
	snprintf(edge, sizeof edge, "CDN API http://127.0.0.1:%d", port);
	assert_non_null(strstr(err.msg, edge));
	assert_null(strstr(err.msg, "s3cret"));
}

static void test_bad_input(void **state)
{
	struct fx *f = *state;
	struct dam_err err;

	add_edge(f, f->h->port, false);
	assert_int_equal(purge_send(&f->cfg, "", &err), DAM_EINVAL);
	assert_int_equal(purge_send(&f->cfg, "a\r\nX-Evil: 1", &err), DAM_EINVAL);
	assert_int_equal(purge_send(&f->cfg, "a b", &err), DAM_EINVAL);
	snprintf(f->cfg.method, sizeof f->cfg.method, "GET");
	assert_int_equal(purge_send(&f->cfg, A_ID, &err), DAM_EINVAL);
	assert_string_equal(err.field, "method");
	f->cfg.method[0] = '\0';
	snprintf(f->cfg.http_header, sizeof f->cfg.http_header, "X-A: 1\r\nX-B: 2");
	assert_int_equal(purge_send(&f->cfg, A_ID, &err), DAM_EINVAL);
	assert_int_equal(httpd_count(f->h), 0);
}

/* ---- purge_drain with a real library and the migration-7 triggers ---- */

static void open_library(struct fx *f)
{
	char lib[4200];
	static const char *ids[] = { A_ID, B_ID, C_ID };

	snprintf(lib, sizeof lib, "%s/lib", f->dir);
	assert_int_equal(library_init(lib, NULL), 0);
	assert_int_equal(library_open(lib, &f->dam, NULL), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(db_run(f->dam->db, NULL,
					"INSERT INTO assets(id, name, kind, current_version_id, created_at, updated_at)"
					" VALUES (?, 'x.jpg', 'image', 'v1', 1, 1)",
					"s", ids[i]),
				 1);
}

static int64_t outbox_count(struct fx *f)
{
	int64_t n = -1;

	assert_int_equal(db_query_int(f->dam->db, &n, NULL, "SELECT count(*) FROM purge_outbox", ""), 0);
	return n;
}

static void run_sql(struct fx *f, const char *sql, const char *id)
{
	assert_int_equal(db_run(f->dam->db, NULL, sql, "s", id), 1);
}

static void test_drain_sends_once_per_asset(void **state)
{
	struct fx *f = *state;
	char v[256];
	int sent = -1;

	open_library(f);
	assert_int_equal(outbox_count(f), 0);
	run_sql(f, "UPDATE assets SET focal_x = 0.25, focal_y = 0.5 WHERE id = ?", A_ID);
	run_sql(f, "UPDATE assets SET deleted_at = 5 WHERE id = ?", A_ID);
	run_sql(f, "UPDATE assets SET current_version_id = 'v2' WHERE id = ?", B_ID);
	run_sql(f, "UPDATE assets SET name = 'renamed.jpg' WHERE id = ?", C_ID); /* no purge */
	assert_int_equal(outbox_count(f), 3);

	add_edge(f, f->h->port, false);
	assert_int_equal(purge_drain(f->dam->db, &f->cfg, 100, &sent, NULL), 0);
	assert_int_equal(sent, 3);
	assert_int_equal(httpd_count(f->h), 2);
	assert_string_equal(header(&f->h->reqs[0], "X-Surrogate-Key", v, sizeof v), "asset-" A_ID);
	assert_string_equal(header(&f->h->reqs[1], "X-Surrogate-Key", v, sizeof v), "asset-" B_ID);
	assert_int_equal(outbox_count(f), 0);

	assert_int_equal(purge_drain(f->dam->db, &f->cfg, 100, &sent, NULL), 0);
	assert_int_equal(sent, 0);
	assert_int_equal(httpd_count(f->h), 2);
}

static void test_drain_failure_backs_off(void **state)
{
	struct fx *f = *state;
	struct dam_err err;
	int64_t attempts = 0, next_at = 0, now = (int64_t)time(NULL), n = 0;
	char edge[64];
	int sent = -1;

	open_library(f);
	run_sql(f, "UPDATE assets SET deleted_at = 5 WHERE id = ?", A_ID);
	run_sql(f, "UPDATE assets SET focal_x = 0.1 WHERE id = ?", A_ID);
	atomic_store(&f->h->status, 500);
	add_edge(f, f->h->port, false);
	snprintf(edge, sizeof edge, "edge http://127.0.0.1:%d", f->h->port);

	assert_int_equal(purge_drain(f->dam->db, &f->cfg, 100, &sent, &err), DAM_EIO);
	assert_non_null(strstr(err.msg, edge));
	assert_int_equal(sent, 0);
	assert_int_equal(httpd_count(f->h), 1); /* both rows, one request */
	assert_int_equal(outbox_count(f), 2);
	assert_int_equal(db_query_int(f->dam->db, &attempts, NULL, "SELECT min(attempts) FROM purge_outbox", ""), 0);
	assert_int_equal(attempts, 1);
	assert_int_equal(db_query_int(f->dam->db, &attempts, NULL, "SELECT max(attempts) FROM purge_outbox", ""), 0);
	assert_int_equal(attempts, 1);
	assert_int_equal(db_query_int(f->dam->db, &next_at, NULL, "SELECT min(next_at) FROM purge_outbox", ""), 0);
	assert_true(next_at > now);
	assert_true(next_at <= now + 2 + 2);
	assert_int_equal(db_query_int(f->dam->db, &n, NULL,
				      "SELECT count(*) FROM purge_outbox WHERE error LIKE '%500%'", ""), 0);
	assert_int_equal(n, 2);

	/* Not due yet: nothing is sent. */
	assert_int_equal(purge_drain(f->dam->db, &f->cfg, 100, &sent, NULL), 0);
	assert_int_equal(sent, 0);
	assert_int_equal(httpd_count(f->h), 1);

	/* Due again and failing again: the back-off doubles. */
	assert_true(db_run(f->dam->db, NULL, "UPDATE purge_outbox SET next_at = 0", "") == 2);
	now = (int64_t)time(NULL);
	assert_int_equal(purge_drain(f->dam->db, &f->cfg, 100, &sent, NULL), DAM_EIO);
	assert_int_equal(db_query_int(f->dam->db, &attempts, NULL, "SELECT max(attempts) FROM purge_outbox", ""), 0);
	assert_int_equal(attempts, 2);
	assert_int_equal(db_query_int(f->dam->db, &next_at, NULL, "SELECT min(next_at) FROM purge_outbox", ""), 0);
	assert_true(next_at >= now + 4 && next_at <= now + 4 + 2);

	/* Long failures wait at most an hour. */
	assert_true(db_run(f->dam->db, NULL, "UPDATE purge_outbox SET next_at = 0, attempts = 30", "") == 2);
	now = (int64_t)time(NULL);
	assert_int_equal(purge_drain(f->dam->db, &f->cfg, 100, &sent, NULL), DAM_EIO);
	assert_int_equal(db_query_int(f->dam->db, &next_at, NULL, "SELECT max(next_at) FROM purge_outbox", ""), 0);
	assert_true(next_at >= now + 3600 && next_at <= now + 3600 + 2);

	/* The edge is back. */
	atomic_store(&f->h->status, 200);
	assert_true(db_run(f->dam->db, NULL, "UPDATE purge_outbox SET next_at = 0", "") == 2);
	assert_int_equal(purge_drain(f->dam->db, &f->cfg, 100, &sent, NULL), 0);
	assert_int_equal(sent, 2);
	assert_int_equal(outbox_count(f), 0);
}

static void test_drain_without_targets_deletes(void **state)
{
	struct fx *f = *state;
	int sent = -1;

	open_library(f);
	run_sql(f, "UPDATE assets SET deleted_at = 5 WHERE id = ?", A_ID);
	run_sql(f, "UPDATE assets SET deleted_at = 5 WHERE id = ?", B_ID);
	assert_int_equal(purge_drain(f->dam->db, &f->cfg, 100, &sent, NULL), 0);
	assert_int_equal(sent, 2);
	assert_int_equal(outbox_count(f), 0);
	assert_int_equal(httpd_count(f->h), 0);
}

static void test_drain_respects_max_and_order(void **state)
{
	struct fx *f = *state;
	char v[256];
	int sent = -1;

	open_library(f);
	run_sql(f, "UPDATE assets SET deleted_at = 5 WHERE id = ?", C_ID);
	run_sql(f, "UPDATE assets SET deleted_at = 5 WHERE id = ?", A_ID);
	run_sql(f, "UPDATE assets SET deleted_at = 5 WHERE id = ?", B_ID);
	add_edge(f, f->h->port, false);
	assert_int_equal(purge_drain(f->dam->db, &f->cfg, 2, &sent, NULL), 0);
	assert_int_equal(sent, 2);
	assert_int_equal(outbox_count(f), 1);
	assert_string_equal(header(&f->h->reqs[0], "X-Surrogate-Key", v, sizeof v), "asset-" C_ID);
	assert_string_equal(header(&f->h->reqs[1], "X-Surrogate-Key", v, sizeof v), "asset-" A_ID);
	assert_int_equal(purge_drain(f->dam->db, &f->cfg, 2, &sent, NULL), 0);
	assert_int_equal(sent, 1);
	assert_string_equal(header(&f->h->reqs[2], "X-Surrogate-Key", v, sizeof v), "asset-" B_ID);
	assert_int_equal(purge_drain(f->dam->db, &f->cfg, 0, &sent, NULL), DAM_EINVAL);
}

/* A change committed while its asset's purge is in flight may not have been
 * seen by the edge: its row must survive the drain. */
struct inflight {
	char dbpath[4200];
	int rc;
};

static void change_during_purge(struct httpd *h, void *ud)
{
	struct inflight *in = ud;
	struct db *db = NULL;

	if (h->nreq != 1)
		return;
	in->rc = db_open(in->dbpath, &db, NULL);
	if (in->rc == 0)
		in->rc = db_run(db, NULL, "UPDATE assets SET focal_x = 0.9 WHERE id = ?", "s", A_ID);
	db_close(db);
}

static void test_drain_keeps_rows_added_in_flight(void **state)
{
	struct fx *f = *state;
	struct inflight in = { .rc = -100 };
	char *p;
	int sent = -1;
	int64_t n = 0;

	open_library(f);
	p = library_path(f->dam, "dam.db");
	snprintf(in.dbpath, sizeof in.dbpath, "%s", p);
	free(p);
	run_sql(f, "UPDATE assets SET deleted_at = 5 WHERE id = ?", A_ID);
	f->h->hook = change_during_purge;
	f->h->hook_ud = &in;
	add_edge(f, f->h->port, false);
	assert_int_equal(purge_drain(f->dam->db, &f->cfg, 100, &sent, NULL), 0);
	assert_int_equal(in.rc, 1);
	assert_int_equal(sent, 1);
	assert_int_equal(outbox_count(f), 1);
	assert_int_equal(db_query_int(f->dam->db, &n, NULL,
				      "SELECT count(*) FROM purge_outbox WHERE reason = 'focal' AND attempts = 0", ""), 0);
	assert_int_equal(n, 1);
	assert_int_equal(purge_drain(f->dam->db, &f->cfg, 100, &sent, NULL), 0);
	assert_int_equal(sent, 1);
	assert_int_equal(outbox_count(f), 0);
}

/* Issue 11, point 3: retiring a signing key and storing, changing or
 * removing a preset queue purges of the keys every answer they made
 * carries; an unchanged preset spec and an unrelated key edit queue none. */
static void test_keys_and_presets_queue_purges(void **state)
{
	struct fx *f = *state;
	char v[256];
	int sent = -1;
	int64_t n = -1;

	open_library(f);
	assert_int_equal(db_run(f->dam->db, NULL,
				"INSERT INTO delivery_keys(id, secret, created_at) VALUES (?, x'00', 1), (?, x'01', 2)",
				"ss", A_ID, B_ID),
			 2);
	assert_int_equal(outbox_count(f), 0);
	run_sql(f, "UPDATE delivery_keys SET retired_at = 10 WHERE id = ?", A_ID);
	run_sql(f, "UPDATE delivery_keys SET retired_at = 11 WHERE id = ?", A_ID); /* already retired */
	assert_int_equal(outbox_count(f), 1);
	run_sql(f, "INSERT INTO presets(name, spec, updated_at) VALUES (?, 'w_100', 1)", "hero");
	run_sql(f, "UPDATE presets SET description = 'x', updated_at = 2 WHERE name = ?", "hero"); /* same bytes */
	run_sql(f, "UPDATE presets SET spec = 'w_200' WHERE name = ?", "hero");
	run_sql(f, "DELETE FROM presets WHERE name = ?", "hero");
	assert_int_equal(outbox_count(f), 4);
	assert_int_equal(db_query_int(f->dam->db, &n, NULL,
				      "SELECT count(*) FROM purge_outbox WHERE surrogate_key = 'preset-hero'", ""), 0);
	assert_int_equal(n, 3);

	add_edge(f, f->h->port, false);
	assert_int_equal(purge_drain(f->dam->db, &f->cfg, 100, &sent, NULL), 0);
	assert_int_equal(sent, 4);
	assert_int_equal(httpd_count(f->h), 2); /* one request per key */
	assert_string_equal(header(&f->h->reqs[0], "X-Surrogate-Key", v, sizeof v), "key-" A_ID);
	assert_string_equal(header(&f->h->reqs[1], "X-Surrogate-Key", v, sizeof v), "preset-hero");
	assert_int_equal(outbox_count(f), 0);
}

/* Rows younger than settle_s wait (the servers' key and preset caches
 * catch up first); older ones go. */
static void test_drain_waits_settle(void **state)
{
	struct fx *f = *state;
	int sent = -1;
	int64_t now = (int64_t)time(NULL);

	open_library(f);
	run_sql(f, "UPDATE assets SET deleted_at = 5 WHERE id = ?", A_ID);
	add_edge(f, f->h->port, false);
	f->cfg.settle_s = 3600;
	assert_int_equal(purge_drain(f->dam->db, &f->cfg, 100, &sent, NULL), 0);
	assert_int_equal(sent, 0);
	assert_int_equal(httpd_count(f->h), 0);
	assert_true(db_run(f->dam->db, NULL, "UPDATE purge_outbox SET created_at = ?", "i", now - 3600) == 1);
	assert_int_equal(purge_drain(f->dam->db, &f->cfg, 100, &sent, NULL), 0);
	assert_int_equal(sent, 1);
	assert_int_equal(httpd_count(f->h), 1);
}

/* With resend_s an accepted row is sent once more later, for answers that
 * were being made when the change happened; then it is gone. */
static void test_drain_resends_once(void **state)
{
	struct fx *f = *state;
	char v[256];
	int sent = -1;
	int64_t n = -1, next_at = 0, now, after;

	open_library(f);
	run_sql(f, "UPDATE assets SET deleted_at = 5 WHERE id = ?", A_ID);
	add_edge(f, f->h->port, false);
	f->cfg.resend_s = 20;
	now = (int64_t)time(NULL);
	assert_int_equal(purge_drain(f->dam->db, &f->cfg, 100, &sent, NULL), 0);
	after = (int64_t)time(NULL);
	assert_int_equal(sent, 1);
	assert_int_equal(httpd_count(f->h), 1);
	assert_int_equal(outbox_count(f), 1);
	assert_int_equal(db_query_int(f->dam->db, &next_at, NULL, "SELECT next_at FROM purge_outbox WHERE sent_at IS NOT NULL", ""), 0);
	assert_true(next_at >= now + 20 && next_at <= after + 20);
	/* Not due yet. */
	assert_int_equal(purge_drain(f->dam->db, &f->cfg, 100, &sent, NULL), 0);
	assert_int_equal(httpd_count(f->h), 1);
	/* Due: the second send, then the row is gone. */
	assert_true(db_run(f->dam->db, NULL, "UPDATE purge_outbox SET next_at = 0", "") == 1);
	assert_int_equal(purge_drain(f->dam->db, &f->cfg, 100, &sent, NULL), 0);
	assert_int_equal(sent, 1);
	assert_int_equal(httpd_count(f->h), 2);
	assert_string_equal(header(&f->h->reqs[1], "X-Surrogate-Key", v, sizeof v), "asset-" A_ID);
	assert_int_equal(outbox_count(f), 0);
	/* Without a target nothing waits for a second send. */
	f->cfg.nedges = 0;
	run_sql(f, "UPDATE assets SET deleted_at = 6 WHERE id = ?", B_ID);
	assert_int_equal(purge_drain(f->dam->db, &f->cfg, 100, &sent, NULL), 0);
	assert_int_equal(db_query_int(f->dam->db, &n, NULL, "SELECT count(*) FROM purge_outbox", ""), 0);
	assert_int_equal(n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ban_carries_surrogate_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keys_and_presets_queue_purges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drain_waits_settle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drain_resends_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_purge_method, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commercial_call_is_templated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusal_names_the_edge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_closed_port_fails_but_others_still_purged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drain_sends_once_per_asset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drain_failure_backs_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drain_without_targets_deletes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drain_respects_max_and_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drain_keeps_rows_added_in_flight, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
