#include "http/serve_req.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/router.h"
#include "util/id.h"
#include "util/utf8.h"

static char *copy_iov(h2o_iovec_t v)
{
	char *s = malloc(v.len + 1);

	if (s) {
		memcpy(s, v.base, v.len);
		s[v.len] = '\0';
	}
	return s;
}

/* Percent-decodes the path; refuses NUL, control characters, invalid
 * UTF-8 and dot segments. */
static char *decode_path(const char *s, size_t n)
{
	char *raw = strndup(s, n), *out = raw ? http_percent_decode(raw) : NULL;
	size_t len = out ? strlen(out) : 0;

	free(raw);
	if (out && (out[0] != '/' || utf8_has_control(out, len) || !utf8_valid(out, len) || strstr(out, "/../") ||
		    strstr(out, "/./") || (len >= 3 && !strcmp(out + len - 3, "/..")))) {
		free(out);
		out = NULL;
	}
	return out;
}

static bool trusted(struct server_ctx *srv, const char *addr)
{
	for (int i = 0; i < srv->ntrusted; i++)
		if (!strcmp(srv->trusted[i], addr))
			return true;
	return false;
}

/* The client: the peer, or behind trusted proxies the right-most
 * X-Forwarded-For entry that is not itself a trusted proxy. */
static void client_addr(struct server_ctx *srv, h2o_req_t *req, struct http_req *h)
{
	struct sockaddr_storage ss;
	socklen_t len = req->conn->callbacks->get_peername(req->conn, (struct sockaddr *)&ss);
	const char *xff;

	snprintf(h->client, sizeof h->client, "unknown");
	if (len && ss.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, h->client, sizeof h->client);
	else if (len && ss.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, h->client, sizeof h->client);
	if (!trusted(srv, h->client) || !(xff = http_req_header(h, "x-forwarded-for")))
		return;
	for (const char *end = xff + strlen(xff); end > xff;) {
		const char *start = end;
		char addr[64];
		size_t n;
		while (start > xff && start[-1] != ',')
			start--;
		while (*start == ' ')
			start++;
		n = (size_t)(end - start);
		while (n && start[n - 1] == ' ')
			n--;
		if (n && n < sizeof addr) {
			memcpy(addr, start, n);
			addr[n] = '\0';
			snprintf(h->client, sizeof h->client, "%s", addr);
			if (!trusted(srv, addr))
				return;
		}
		end = start > xff ? start - 1 : xff;
	}
}

static void request_id(struct http_req *h)
{
	const char *given = http_req_header(h, "x-request-id");
	size_t n = given ? strlen(given) : 0;

	if (n && n < sizeof h->request_id && strspn(given, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:") == n)
		snprintf(h->request_id, sizeof h->request_id, "%s", given);
	else
		id_new(h->request_id);
}

static int copy_headers(h2o_req_t *req, struct http_req *h)
{
	h->headers = calloc(req->headers.size ? req->headers.size : 1, sizeof *h->headers);
	if (!h->headers)
		return -1;
	for (size_t i = 0; i < req->headers.size; i++) {
		h2o_header_t *hd = &req->headers.entries[i];
		char *name = copy_iov(*hd->name);
		if (!name)
			return -1;
		for (char *p = name; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		h->headers[h->nheaders].name = name;
		h->headers[h->nheaders].value = copy_iov(hd->value);
		h->nheaders++;
	}
	return 0;
}

struct http_req *serve_dummy_req(h2o_req_t *req)
{
	struct http_req *h = calloc(1, sizeof *h);

	if (!h)
		abort();
	snprintf(h->method, sizeof h->method, "%.*s", (int)(req->method.len < 15 ? req->method.len : 15), req->method.base);
	h->path = strdup("-");
	h->query = strdup("");
	id_new(h->request_id);
	return h;
}

static const char *const single_headers[] = { "authorization", "content-length", "content-type", "host",
					      "if-match", "if-none-match", "range", "x-csrf-token", NULL };

int serve_prepare(struct server_ctx *srv, h2o_req_t *req, struct http_req **out, struct http_res *res)
{
	struct http_req *h = calloc(1, sizeof *h);
	size_t plen = req->query_at != SIZE_MAX ? req->query_at : req->path.len;
	char allow[128];
	int status;

	*out = h;
	if (!h)
		return -1;
	snprintf(h->method, sizeof h->method, "%.*s", (int)(req->method.len < 15 ? req->method.len : 15), req->method.base);
	h->tls = req->scheme == &H2O_URL_SCHEME_HTTPS;
	h->query = req->query_at != SIZE_MAX ? strndup(req->path.base + req->query_at + 1, req->path.len - req->query_at - 1)
					     : strdup("");
	h->authority = copy_iov(req->authority);
	if (copy_headers(req, h) < 0 || !h->query || !h->authority)
		return http_res_error(res, 503, "busy", "out of memory", NULL), -1;
	request_id(h);
	client_addr(srv, req, h);
	if (!(h->path = decode_path(req->path.base, plen))) {
		h->path = strdup("-");
		http_res_error(res, 400, "bad_path", "the request path is malformed (bad escape, control character, invalid UTF-8 or dot segment)", NULL);
		return -1;
	}
	for (int i = 0; single_headers[i]; i++)
		if (http_req_header_count(h, single_headers[i]) > 1) {
			char m[128];
			snprintf(m, sizeof m, "the %s header appears more than once", single_headers[i]);
			http_res_error(res, 400, "duplicate_header", m, single_headers[i]);
			return -1;
		}
	if (!(h->route = router_match(h->method, h->path, h, &status, allow, sizeof allow))) {
		if (status == 405) {
			http_res_error(res, 405, "method_not_allowed", "this path does not accept that method", NULL);
			http_res_header(res, "allow", allow);
		} else {
			http_res_error(res, 404, "not_found", "no such route", NULL);
		}
		return -1;
	}
	if (req->entity.base && req->entity.len > h->route->max_body) {
		char m[160];
		if (h->route->max_body == 0)
			snprintf(m, sizeof m, "this route takes no request body");
		else
			snprintf(m, sizeof m, "the request body is larger than this route accepts (%zu bytes)", h->route->max_body);
		http_res_error(res, 413, "too_large", m, NULL);
		return -1;
	}
	if (req->entity.base && req->entity.len) {
		if (!(h->body = malloc(req->entity.len + 1)))
			return http_res_error(res, 413, "too_large", "the request body cannot be held", NULL), -1;
		memcpy(h->body, req->entity.base, req->entity.len);
		h->body[req->entity.len] = '\0';
		h->body_len = req->entity.len;
	}
	return 0;
}

static bool safe_method(const char *m)
{
	return !strcmp(m, "GET") || !strcmp(m, "HEAD") || !strcmp(m, "OPTIONS");
}

/* The value of cookie `name`, copied into out; false when absent. */
static bool cookie(const struct http_req *req, const char *name, char *out, size_t n)
{
	size_t nl = strlen(name);

	for (size_t i = 0; i < req->nheaders; i++) {
		const char *p;
		if (strcmp(req->headers[i].name, "cookie"))
			continue;
		for (p = req->headers[i].value; p && *p;) {
			p += strspn(p, " ;");
			if (!strncmp(p, name, nl) && p[nl] == '=') {
				size_t vl = strcspn(p + nl + 1, ";");
				if (vl >= n)
					return false;
				memcpy(out, p + nl + 1, vl);
				out[vl] = '\0';
				return true;
			}
			p = strchr(p, ';');
		}
	}
	return false;
}

static int authenticate(struct server_ctx *srv, struct dam *dam, struct http_req *req, struct http_res *res)
{
	const char *authz = http_req_header(req, "authorization");
	struct auth_limits lim;
	struct dam_err err;
	char sess[96];

	if (authz) {
		if (strncasecmp(authz, "Bearer ", 7) || !authz[7]) {
			http_res_error(res, 401, "unauthenticated", "use Authorization: Bearer <token>", NULL);
			goto challenge;
		}
		if (auth_token_check(dam, authz + 7, &req->actor, &err) < 0) {
			if (err.code == DAM_EUNAVAIL) /* not the token's fault: retry */
				return http_res_dam_error(res, &err), -1;
			http_res_error(res, 401, "unauthenticated", "the token is not valid (unknown, revoked or expired)", NULL);
			goto challenge;
		}
		return 0;
	}
	if (cookie(req, "dam_session", sess, sizeof sess)) {
		server_auth_limits(srv, &lim);
		if (auth_session_check(dam, &lim, sess, &req->actor, &err) < 0) {
			if (err.code == DAM_EUNAVAIL)
				return http_res_dam_error(res, &err), -1;
			http_res_error(res, 401, "session_expired", "your session has expired; log in again", NULL);
			return -1;
		}
		req->via_cookie = true;
		if (!safe_method(req->method) && !(req->route->flags & ROUTE_NO_CSRF)) {
			const char *tok = http_req_header(req, "x-csrf-token");
			if (!tok || !auth_csrf_equal(tok, req->actor.csrf)) {
				http_res_error(res, 403, "csrf", "missing or wrong X-CSRF-Token header for a cookie session", "X-CSRF-Token");
				return -1;
			}
		}
		return 0;
	}
	http_res_error(res, 401, "unauthenticated", "log in or send Authorization: Bearer <token>", NULL);
challenge:
	http_res_header(res, "www-authenticate", "Bearer realm=\"dam\"");
	return -1;
}

void serve_request(struct server_ctx *srv, struct dam *dam, struct http_req *req, struct http_res *res)
{
	const struct route *r = req->route;

	res->head = !strcmp(req->method, "HEAD");
	if (dam)
		library_request_begin(dam);
	if (dam && !(r->flags & ROUTE_PUBLIC)) {
		char actor[160];
		if (authenticate(srv, dam, req, res) < 0) {
			library_request_end(dam);
			return;
		}
		snprintf(actor, sizeof actor, "user:%s", req->actor.username);
		library_set_actor(dam, actor);
	} else if (dam) {
		library_set_actor(dam, "anonymous");
	}
	r->handler(srv, dam, req, res);
	if (dam)
		library_request_end(dam);
}

/* A header whose name and value are string literals: h2o keeps the
 * pointers, nothing is copied or allocated. */
#define STATIC_HEADER(req, name, value) \
	h2o_add_header_by_str(&(req)->pool, &(req)->res.headers, H2O_STRLIT(name), 1, NULL, H2O_STRLIT(value))

void serve_common_headers(struct server_ctx *srv, const struct http_req *req, const struct http_res *res,
			  h2o_req_t *out)
{
	size_t n = strlen(req->request_id);
	char *id = h2o_mem_alloc_pool(&out->pool, n + 1);

	(void)srv;
	memcpy(id, req->request_id, n + 1);
	h2o_add_header_by_str(&out->pool, &out->res.headers, H2O_STRLIT("x-request-id"), 1, NULL, id, n);
	STATIC_HEADER(out, "x-content-type-options", "nosniff");
	STATIC_HEADER(out, "referrer-policy", "no-referrer");
	STATIC_HEADER(out, "x-frame-options", "DENY");
	/* The web UI runs under this too: scripts and styles from its own files
	 * only. The one hash allows an empty <style>, the marker that stops
	 * OpenSeadragon injecting CSS (see web/src/components/Viewer.jsx). */
	STATIC_HEADER(out, "content-security-policy",
		      "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
		      "style-src 'self' 'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='; script-src 'self'; "
		      "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'");
	if (req->tls)
		STATIC_HEADER(out, "strict-transport-security", "max-age=31536000");
	if (!http_res_get_header(res, "cache-control"))
		STATIC_HEADER(out, "cache-control", "no-store");
}

size_t serve_part_header(const struct http_res *r, int i, char *out, size_t n)
{
	if (i == r->nranges)
		return (size_t)snprintf(out, n, "\r\n--%s--\r\n", r->boundary);
	return (size_t)snprintf(out, n, "%s--%s\r\nContent-Type: %s\r\nContent-Range: bytes %llu-%llu/%llu\r\n\r\n",
				i ? "\r\n" : "", r->boundary, r->content_type ? r->content_type : "application/octet-stream",
				(unsigned long long)r->ranges[i].start, (unsigned long long)r->ranges[i].end,
				(unsigned long long)r->fd_size);
}

uint64_t serve_file_length(const struct http_res *res)
{
	uint64_t total = 0;
	char buf[512];

	if (res->nranges == 0)
		return res->fd_size;
	if (res->nranges == 1)
		return res->ranges[0].end - res->ranges[0].start + 1;
	for (int i = 0; i <= res->nranges; i++) {
		total += serve_part_header(res, i, buf, sizeof buf);
		if (i < res->nranges)
			total += res->ranges[i].end - res->ranges[i].start + 1;
	}
	return total;
}
