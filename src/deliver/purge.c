/*
 * purge.c - purge requests to CDN edges, and draining the purge outbox
 * (see purge.h).
 *
 * Why an outbox drained apart from the request that changed the asset:
 * the change commits in one transaction with its outbox row, so a crash
 * cannot lose a purge, while the network calls happen later, outside any
 * transaction and any request. A slow or unreachable edge then never holds
 * the database's write lock, never stalls an API request or an event loop,
 * and a failed purge is retried with back-off instead of failing (or
 * silently dropping from) the user's change. Draining in batches also
 * collapses bursts: a bulk edit of one asset sends one purge.
 */
#include "deliver/purge.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/timeutil.h"

#define KEY_MAX 128
#define BACKOFF_MAX_S 3600
#define DEFAULT_TIMEOUT_MS 5000

/* ---- one HTTP request ---- */

struct target {
	const char *name;   /* for error messages: the edge, or the CDN API's origin */
	const char *url;
	const char *method;
	const char *body;   /* NULL = no body */
	bool use_proxy;     /* edges are reached directly, never via $http_proxy */
	long timeout_ms;
	struct curl_slist *headers;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

/* curl_global_init is not guaranteed thread-safe on every build, so it runs
 * once, here, before the first handle. Its global state lives until exit. */
static void curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* Keeps the last status line ("HTTP/1.1 503 Service Unavailable") for the
 * error message. */
static size_t on_header(char *buf, size_t size, size_t n, void *ud)
{
	char *status = ud;
	size_t len = size * n, k = len;

	if (len > 5 && !memcmp(buf, "HTTP/", 5)) {
		while (k > 0 && (buf[k - 1] == '\r' || buf[k - 1] == '\n'))
			k--;
		if (k > 127)
			k = 127;
		memcpy(status, buf, k);
		status[k] = '\0';
	}
	return len;
}

/* Response bodies are not needed. */
static size_t on_body(char *buf, size_t size, size_t n, void *ud)
{
	(void)buf;
	(void)ud;
	return size * n;
}

static int perform(const struct target *t, const char *key, struct dam_err *err)
{
	char ebuf[CURL_ERROR_SIZE] = "", status[128] = "";
	long code = 0;
	CURLcode cc;
	CURL *h;
	int rc = 0;

	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK || !(h = curl_easy_init()))
		return dam_err_set(err, DAM_ENOMEM, NULL, "cannot start libcurl");
	curl_easy_setopt(h, CURLOPT_URL, t->url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, t->method);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, t->headers);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, t->timeout_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, t->timeout_ms);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, status);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	if (!t->use_proxy)
		curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
	if (t->body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, t->body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(t->body));
	}
	cc = curl_easy_perform(h);
	if (cc != CURLE_OK) {
		rc = dam_err_set(err, DAM_EIO, NULL, "purge of %s at %s failed: %s", key, t->name,
				 ebuf[0] ? ebuf : curl_easy_strerror(cc));
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	if (code < 200 || code > 299) {
		if (!status[0])
			snprintf(status, sizeof status, "HTTP status %ld", code);
		rc = dam_err_set(err, DAM_EIO, NULL, "purge of %s at %s refused: %s", key, t->name,
				 status);
	}
out:
	curl_easy_cleanup(h);
	return rc;
}

/* ---- validation and templating ---- */

/* Surrogate keys are "asset-<uuid>", "key-<uuid>", "preset-<name>";
 * allowing only URL-unreserved characters means a key can go into a
 * header, a URL, a JSON string and a Varnish ban regex without escaping. */
static bool key_ok(const char *key)
{
	size_t n = key ? strnlen(key, KEY_MAX + 1) : 0;

	if (n == 0 || n > KEY_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = key[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		      ch == '-' || ch == '_' || ch == '.'))
			return false;
	}
	return true;
}

static bool token_ok(const char *s, size_t max)
{
	size_t n = strnlen(s, max);

	if (n == 0 || n == max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < 'A' || s[i] > 'Z')
			return false;
	return true;
}

/* A string field of the config must be NUL-terminated within its array and
 * hold no line break (which would inject header lines). */
static bool field_ok(const char *s, size_t size)
{
	size_t n = strnlen(s, size);

	return n < size && !memchr(s, '\r', n) && !memchr(s, '\n', n);
}

static int check_config(const struct purge_config *cfg, struct dam_err *err)
{
	if (cfg->nedges < 0 || cfg->nedges > PURGE_EDGES_MAX)
		return dam_err_set(err, DAM_EINVAL, "edges", "between 0 and %d purge edges", PURGE_EDGES_MAX);
	for (int i = 0; i < cfg->nedges; i++)
		if (!field_ok(cfg->edges[i], sizeof cfg->edges[i]) || !cfg->edges[i][0])
			return dam_err_set(err, DAM_EINVAL, "edges", "purge edge %d is not a URL", i + 1);
	if (cfg->method[0] && strcmp(cfg->method, "BAN") && strcmp(cfg->method, "PURGE"))
		return dam_err_set(err, DAM_EINVAL, "method", "purge method is BAN or PURGE");
	if (cfg->http_method[0] && !token_ok(cfg->http_method, sizeof cfg->http_method))
		return dam_err_set(err, DAM_EINVAL, "http_method", "bad purge HTTP method");
	if (!field_ok(cfg->http_url, sizeof cfg->http_url) || !field_ok(cfg->http_body, sizeof cfg->http_body))
		return dam_err_set(err, DAM_EINVAL, "http_url", "bad purge URL or body");
	if (!field_ok(cfg->http_header, sizeof cfg->http_header) ||
	    (cfg->http_header[0] && !strchr(cfg->http_header, ':')))
		return dam_err_set(err, DAM_EINVAL, "http_header", "purge header is one \"Name: value\" line");
	return 0;
}

/* Copies tmpl into out replacing every "{key}" with key. DAM_ELIMIT when it
 * does not fit. */
static int expand(const char *tmpl, const char *key, char *out, size_t size, struct dam_err *err)
{
	size_t klen = strlen(key), o = 0;

	for (const char *s = tmpl; *s;) {
		const char *add = s;
		size_t n = 1;
		if (!strncmp(s, "{key}", 5)) {
			add = key;
			n = klen;
			s += 5;
		} else {
			s++;
		}
		if (o + n >= size)
			return dam_err_set(err, DAM_ELIMIT, "http_url", "purge URL or body too long");
		memcpy(out + o, add, n);
		o += n;
	}
	out[o] = '\0';
	return 0;
}

/* "https://api.cdn.example/v1/purge?token=..." -> "https://api.cdn.example":
 * names the target in messages without its path or query. */
static void origin_of(const char *url, char *out, size_t size)
{
	const char *p = strstr(url, "://");
	size_t n;

	p = p ? p + 3 : url;
	n = (size_t)(p - url) + strcspn(p, "/?#");
	snprintf(out, size, "CDN API %.*s", (int)n, url);
}

/* ---- purge_send ---- */

static int send_edge(const struct purge_config *cfg, int i, const char *key, long timeout_ms,
		     struct curl_slist *headers, struct dam_err *err)
{
	const char *edge = cfg->edges[i];
	size_t n = strlen(edge);
	char url[sizeof cfg->edges[0] + 1], name[sizeof cfg->edges[0] + 8];

	while (n > 0 && edge[n - 1] == '/')
		n--;
	snprintf(url, sizeof url, "%.*s/", (int)n, edge);
	snprintf(name, sizeof name, "edge %.*s", (int)n, edge);
	struct target t = {
		.name = name,
		.url = url,
		.method = cfg->method[0] ? cfg->method : "BAN",
		.timeout_ms = timeout_ms,
		.headers = headers,
	};
	return perform(&t, key, err);
}

/* The commercial CDN's purge API: a body (JSON) is sent when configured,
 * and an empty one for methods that expect a body, so that the request
 * carries Content-Length: 0 rather than none. */
static int send_http(const struct purge_config *cfg, const char *key, long timeout_ms,
		     struct dam_err *err)
{
	char url[sizeof cfg->http_url + 8 * KEY_MAX];
	char body[sizeof cfg->http_body + 16 * KEY_MAX];
	char name[sizeof cfg->http_url + 16];
	const char *method = cfg->http_method[0] ? cfg->http_method : "POST";
	struct curl_slist *h = NULL, *h2;
	bool wants_body = !strcmp(method, "POST") || !strcmp(method, "PUT") || !strcmp(method, "PATCH");
	int rc;

	if ((rc = expand(cfg->http_url, key, url, sizeof url, err)) < 0 ||
	    (rc = expand(cfg->http_body, key, body, sizeof body, err)) < 0)
		return rc;
	origin_of(cfg->http_url, name, sizeof name);
	/* "Content-Type:" with no value removes curl's form content type. */
	if (!(h = curl_slist_append(NULL, body[0] ? "Content-Type: application/json" : "Content-Type:")))
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	if (cfg->http_header[0]) {
		if (!(h2 = curl_slist_append(h, cfg->http_header))) {
			curl_slist_free_all(h);
			return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
		}
		h = h2;
	}
	struct target t = {
		.name = name,
		.url = url,
		.method = method,
		.body = body[0] || wants_body ? body : NULL,
		.use_proxy = true,
		.timeout_ms = timeout_ms,
		.headers = h,
	};
	rc = perform(&t, key, err);
	curl_slist_free_all(h);
	return rc;
}

/* Every target is tried even after one failed: the edges that are up drop
 * the stale copy now, and a retry re-sends to all (purges are idempotent). */
int purge_send(const struct purge_config *cfg, const char *key, struct dam_err *err)
{
	char hdr[32 + KEY_MAX];
	struct curl_slist *headers = NULL;
	struct dam_err e1;
	long timeout_ms;
	int rc, first = 0;

	if ((rc = check_config(cfg, err)) < 0)
		return rc;
	if (!key_ok(key))
		return dam_err_set(err, DAM_EINVAL, "key", "a surrogate key is 1 to %d characters of A-Z a-z 0-9 - _ .", KEY_MAX);
	timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : DEFAULT_TIMEOUT_MS;
	snprintf(hdr, sizeof hdr, "X-Surrogate-Key: %s", key);
	if (cfg->nedges > 0 && !(headers = curl_slist_append(NULL, hdr)))
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	for (int i = 0; i < cfg->nedges; i++)
		if ((rc = send_edge(cfg, i, key, timeout_ms, headers, first ? &e1 : err)) < 0 && !first)
			first = rc;
	curl_slist_free_all(headers);
	if (cfg->http_url[0] && (rc = send_http(cfg, key, timeout_ms, first ? &e1 : err)) < 0 && !first)
		first = rc;
	return first;
}

/* ---- purge_drain ---- */

struct row {
	int64_t id, attempts;
	bool resent; /* this is the row's second send */
	char *key; /* surrogate key */
	bool handled;
};

static void rows_free(struct row *rows, int n)
{
	for (int i = 0; i < n; i++)
		free(rows[i].key);
	free(rows);
}

/* Reads up to max due rows made at or before `made_by`, oldest first. The
 * statement is finished before any network call, so no read snapshot
 * stays open while purges run. */
static int load_due(struct db *db, int64_t now, int64_t made_by, int max, struct row **out, int *n,
		    struct dam_err *err)
{
	struct db_stmt *st = NULL;
	struct row *rows = NULL, *grown;
	int rc, alloc = 0;

	*n = 0;
	rc = db_query(db, &st, err,
		      "SELECT id, surrogate_key, attempts, sent_at IS NOT NULL FROM purge_outbox"
		      " WHERE next_at <= ? AND created_at <= ?"
		      " ORDER BY id LIMIT ?",
		      "iii", now, made_by, (int64_t)max);
	while (rc >= 0 && (rc = db_step(st, err)) == DB_ROW) {
		if (*n == alloc) {
			alloc = alloc ? alloc * 2 : 64;
			if (!(grown = realloc(rows, (size_t)alloc * sizeof *rows))) {
				rc = dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
				break;
			}
			rows = grown;
		}
		struct row *r = &rows[*n];
		r->id = db_col_int(st, 0);
		r->attempts = db_col_int(st, 2);
		r->resent = db_col_int(st, 3) != 0;
		r->handled = false;
		if (!(r->key = strdup(db_col_text(st, 1)))) {
			rc = dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
			break;
		}
		(*n)++;
	}
	db_finalize(st);
	if (rc < 0) {
		rows_free(rows, *n);
		*n = 0;
		return rc;
	}
	*out = rows;
	return 0;
}

/* min(2^attempts, 3600) seconds; 2^12 is the first power over the cap. */
static int64_t backoff_s(int64_t attempts)
{
	if (attempts < 1)
		return 1;
	return attempts >= 12 ? BACKOFF_MAX_S : (int64_t)1 << attempts;
}

/* Records the outcome for every batch row of rows[i].key: deleted when
 * accepted (kept for its second send first, with resend_s and a target),
 * else attempts+1, the error and the next try. Only rows of this
 * batch are touched: a row added while the purge was in flight may describe
 * a change the edges had not seen yet, so it stays for the next drain. */
static int settle(struct db *db, const struct purge_config *cfg, struct row *rows, int n, int i,
		  const struct dam_err *sent_err, int *sent, struct dam_err *err)
{
	int64_t now = (int64_t)(time_now_ms() / 1000);
	bool resend = cfg->resend_s > 0 && (cfg->nedges > 0 || cfg->http_url[0]);
	int rc;

	if ((rc = db_begin(db, err)) < 0)
		return rc;
	for (int j = i; j < n && rc >= 0; j++) {
		if (rows[j].handled || strcmp(rows[j].key, rows[i].key))
			continue;
		rows[j].handled = true;
		if (!sent_err && resend && !rows[j].resent) {
			rc = db_run(db, err,
				    "UPDATE purge_outbox SET sent_at = ?, next_at = ?, attempts = 0, error = NULL WHERE id = ?",
				    "iii", now, now + cfg->resend_s, rows[j].id);
			if (rc >= 0)
				(*sent)++;
		} else if (!sent_err) {
			rc = db_run(db, err, "DELETE FROM purge_outbox WHERE id = ? AND surrogate_key = ?", "is",
				    rows[j].id, rows[j].key);
			if (rc >= 0)
				(*sent)++;
		} else {
			int64_t attempts = rows[j].attempts + 1;
			rc = db_run(db, err,
				    "UPDATE purge_outbox SET attempts = ?, error = ?, next_at = ? WHERE id = ?",
				    "isii", attempts, sent_err->msg, now + backoff_s(attempts), rows[j].id);
		}
	}
	if (rc < 0) {
		db_rollback(db);
		return rc;
	}
	return db_commit(db, err);
}

int purge_drain(struct db *db, const struct purge_config *cfg, int max, int *sent,
		struct dam_err *err)
{
	struct row *rows = NULL;
	struct dam_err send_err, first_err = { 0 };
	bool any_target = cfg->nedges > 0 || cfg->http_url[0];
	int n = 0, nsent = 0, rc, first = 0;
	int64_t now;

	if (sent)
		*sent = 0;
	if (max <= 0)
		return dam_err_set(err, DAM_EINVAL, "max", "purge batch size must be positive");
	if ((rc = check_config(cfg, err)) < 0)
		return rc;
	now = (int64_t)(time_now_ms() / 1000);
	if ((rc = load_due(db, now, now - (cfg->settle_s > 0 ? cfg->settle_s : 0), max, &rows, &n, err)) < 0)
		return rc;
	for (int i = 0; i < n && rc >= 0; i++) {
		if (rows[i].handled)
			continue;
		dam_err_clear(&send_err);
		int src = any_target ? purge_send(cfg, rows[i].key, &send_err) : 0;
		if (src < 0 && !first) {
			first = src;
			first_err = send_err;
		}
		rc = settle(db, cfg, rows, n, i, src < 0 ? &send_err : NULL, &nsent, err);
	}
	rows_free(rows, n);
	if (sent)
		*sent = nsent;
	if (rc < 0)
		return rc;
	if (first < 0 && err)
		*err = first_err;
	return first;
}
