#include "http/http.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>


const char *http_req_header(const struct http_req *req, const char *name)
{
	for (size_t i = 0; i < req->nheaders; i++)
		if (!strcasecmp(req->headers[i].name, name))
			return req->headers[i].value;
	return NULL;
}

bool http_req_etag_matches(const struct http_req *req, const char *etag)
{
	const char *inm = http_req_header(req, "if-none-match");

	return inm && (!strcmp(inm, "*") || (etag && strstr(inm, etag)));
}

int http_req_header_count(const struct http_req *req, const char *name)
{
	int n = 0;

	for (size_t i = 0; i < req->nheaders; i++)
		n += !strcasecmp(req->headers[i].name, name);
	return n;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decodes (and '+' to space) into a new string; NULL on a bad
 * escape or an embedded NUL, telling which in *why (when not NULL):
 * HTTP_QUERY_BAD or HTTP_QUERY_NUL. */
static char *decode_n(const char *s, size_t n, bool plus, int *why)
{
	char *out = malloc(n + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (plus && s[i] == '+') {
			*o++ = ' ';
		} else if (s[i] == '%') {
			int h, l;
			if (i + 2 >= n) {
				free(out);
				if (why)
					*why = HTTP_QUERY_BAD;
				return NULL;
			}
			h = hexval(s[i + 1]);
			l = hexval(s[i + 2]);
			if (h < 0 || l < 0 || (h == 0 && l == 0)) {
				free(out);
				if (why)
					*why = h == 0 && l == 0 ? HTTP_QUERY_NUL : HTTP_QUERY_BAD;
				return NULL;
			}
			*o++ = (char)(h * 16 + l);
			i += 2;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

char *http_percent_decode(const char *s)
{
	return decode_n(s, strlen(s), false, NULL);
}

int http_req_query_get(const struct http_req *req, const char *name, char **out)
{
	size_t nl = strlen(name);
	const char *p = req->query;

	*out = NULL;
	while (p && *p) {
		const char *amp = strchr(p, '&'), *end = amp ? amp : p + strlen(p);
		const char *eq = memchr(p, '=', (size_t)(end - p));
		size_t kl = (size_t)((eq ? eq : end) - p);
		if (kl == nl && !memcmp(p, name, nl)) {
			int why = HTTP_QUERY_BAD;
			*out = eq ? decode_n(eq + 1, (size_t)(end - eq - 1), true, &why) : strdup("");
			return *out ? 1 : why;
		}
		p = amp ? amp + 1 : NULL;
	}
	return 0;
}

char *http_req_query(const struct http_req *req, const char *name)
{
	char *v;

	http_req_query_get(req, name, &v);
	return v;
}

void http_req_free(struct http_req *req)
{
	if (!req)
		return;
	for (size_t i = 0; i < req->nheaders; i++) {
		free(req->headers[i].name);
		free(req->headers[i].value);
	}
	for (int i = 0; i < req->nparams; i++)
		free(req->params[i]);
	free(req->headers);
	free(req->path);
	free(req->query);
	free(req->authority);
	free(req->body);
	free(req);
}

void http_res_init(struct http_res *res)
{
	memset(res, 0, sizeof *res);
	res->status = 200;
	res->fd = -1;
	strbuf_init(&res->body, 0);
}

void hot_offer_free(struct hot_offer *o)
{
	if (o) {
		free(o->body);
		free(o);
	}
}

void http_res_release(struct http_res *res)
{
	for (size_t i = 0; i < res->nheaders; i++) {
		free(res->headers[i].name);
		free(res->headers[i].value);
	}
	free(res->headers);
	free(res->content_type);
	strbuf_release(&res->body);
	if (res->fd >= 0)
		close(res->fd);
	hot_offer_free(res->hot);
	http_res_init(res);
}

void http_res_header(struct http_res *res, const char *name, const char *value)
{
	if (res->nheaders == res->capheaders) {
		size_t cap = res->capheaders ? res->capheaders * 2 : 8;
		struct http_header *h = realloc(res->headers, cap * sizeof *h);
		if (!h)
			return;
		res->headers = h;
		res->capheaders = cap;
	}
	res->headers[res->nheaders].name = strdup(name);
	res->headers[res->nheaders].value = strdup(value);
	res->nheaders++;
}

void http_res_headerf(struct http_res *res, const char *name, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	http_res_header(res, name, sb.buf);
	strbuf_release(&sb);
}

const char *http_res_get_header(const struct http_res *res, const char *name)
{
	for (size_t i = 0; i < res->nheaders; i++)
		if (!strcasecmp(res->headers[i].name, name))
			return res->headers[i].value;
	return NULL;
}

void http_res_json_text(struct http_res *res, int status, const char *text, size_t len)
{
	res->status = status;
	strbuf_reset(&res->body);
	strbuf_add(&res->body, text, len);
	strbuf_addch(&res->body, '\n');
	http_res_header(res, "content-type", "application/json; charset=utf-8");
}

void http_res_json(struct http_res *res, int status, json_t *j)
{
	/* core/asset.c's asset_doc_get() writes the same form. */
	char *s = j ? json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(6)) : NULL;

	if (s)
		http_res_json_text(res, status, s, strlen(s));
	else
		http_res_json_text(res, status, "null", 4);
	free(s);
	json_decref(j);
}

void http_res_error(struct http_res *res, int status, const char *code, const char *message,
		    const char *field)
{
	json_t *e = json_pack("{s:s,s:s}", "code", code, "message", message);

	if (!e) /* message not valid UTF-8: never echo it raw */
		e = json_pack("{s:s,s:s}", "code", code, "message", "invalid request");
	if (field && *field)
		json_object_set_new(e, "field", json_string(field));
	http_res_json(res, status, json_pack("{s:o}", "error", e));
}

int http_status_of(int code)
{
	switch (code) {
	case DAM_EINVAL: return 400;
	case DAM_ENOTFOUND: return 404;
	case DAM_EEXIST: case DAM_ECONFLICT: return 409;
	case DAM_ELIMIT: return 413;
	case DAM_EMEDIA: return 422;
	case DAM_EPERM: return 403;
	case DAM_ENOSPC: return 507;
	case DAM_EUNAVAIL: return 503;
	case DAM_EVERSION: case DAM_EDAMAGED: case DAM_EIO: case DAM_EDB: case DAM_ENOMEM:
	default: return 500;
	}
}

/* The database is down or the connection was lost: the client may retry
 * (the node reconnects by itself once the database answers). The answer
 * names no server, socket or URL; the operator's log gets the engine's
 * reason, at most once a second so an outage does not flood it. */
static void unavailable(struct http_res *res, const struct dam_err *err)
{
	static _Atomic int64_t last_log_s;
	int64_t now = (int64_t)time(NULL), last = atomic_load(&last_log_s);

	if (now != last && atomic_compare_exchange_strong(&last_log_s, &last, now))
		fprintf(stderr, "dam serve: database unavailable: %s\n", err->msg);
	http_res_headerf(res, "retry-after", "%d", HTTP_RETRY_AFTER_S);
	http_res_error(res, 503, "database_unavailable",
		       "the database is unreachable; the request was not carried out, retry shortly", NULL);
}

void http_res_dam_error(struct http_res *res, const struct dam_err *err)
{
	int status = http_status_of(err->code);

	/* Internal failures never show their internals (SQL, paths) to the
	 * client; the operator's log gets them, as the answer promises. */
	if (status == 500) {
		fprintf(stderr, "dam serve: internal error: %s\n", err->msg);
		http_res_error(res, 500, "internal", "the server could not complete the request; it has been logged", NULL);
	}
	else if (status == 507)
		http_res_error(res, 507, "no_space", "the library's storage is full", NULL);
	else if (status == 503)
		unavailable(res, err);
	else
		http_res_error(res, status, dam_err_name(err->code), err->msg, err->field);
}
