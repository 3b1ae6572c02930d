#include "http/router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Matches one pattern; fills params on success. rest: the last parameter
 * takes the rest of the path (ROUTE_REST). */
static bool match(const char *pattern, const char *path, bool rest, struct http_req *req)
{
	const char *p = pattern, *s = path;
	int n = 0;
	char *params[HTTP_MAX_PARAMS];

	while (*p && (*s || (rest && *p == '{'))) {
		if (*p == '{') {
			const char *close = strchr(p, '}'), *end = strchr(s, '/');
			bool last = close && !close[1];
			size_t len = end && !(rest && last) ? (size_t)(end - s) : strlen(s);
			if (!close || (len == 0 && !(rest && last)) || n == HTTP_MAX_PARAMS)
				goto fail;
			params[n++] = strndup(s, len);
			p = close + 1;
			s += len;
			continue;
		}
		if (*p != *s)
			goto fail;
		p++;
		s++;
	}
	if (*p || *s)
		goto fail;
	if (req) {
		for (int i = 0; i < n; i++)
			req->params[i] = params[i];
		req->nparams = n;
	} else {
		for (int i = 0; i < n; i++)
			free(params[i]);
	}
	return true;
fail:
	for (int i = 0; i < n; i++)
		free(params[i]);
	return false;
}

static const struct route *match_table(const char *method, const char *path, struct http_req *req, int *status,
				       char *allow, size_t allow_len)
{
	bool path_found = false;
	const char *m = !strcmp(method, "HEAD") ? "GET" : method;

	if (allow && allow_len)
		allow[0] = '\0';
	for (int i = 0; http_routes[i].pattern; i++) {
		const struct route *r = &http_routes[i];
		bool rest = r->flags & ROUTE_REST;
		if (!match(r->pattern, path, rest, NULL))
			continue;
		path_found = true;
		if (!strcmp(r->method, m) || (!strcmp(r->method, method))) {
			match(r->pattern, path, rest, req);
			return r;
		}
		if (allow && strlen(allow) + strlen(r->method) + 3 < allow_len) {
			size_t used = strlen(allow);
			snprintf(allow + used, allow_len - used, "%s%s", used ? ", " : "", r->method);
		}
	}
	*status = path_found ? 405 : 404;
	return NULL;
}

/* One trailing slash is ignored when the path without it is a route and the
 * path with it is not ("/api/v1/uploads/", as tus clients' examples write
 * the creation URL). Only one: "//" stays a 404. Routes whose own pattern
 * ends in a parameter that may be empty (ROUTE_REST, "/ui/") match first,
 * so this never changes what an existing path means. */
const struct route *router_match(const char *method, const char *path, struct http_req *req,
				 int *status, char *allow, size_t allow_len)
{
	const struct route *r = match_table(method, path, req, status, allow, allow_len);
	size_t len = strlen(path);
	char *trimmed;

	if (r || *status != 404 || len < 2 || path[len - 1] != '/' || path[len - 2] == '/')
		return r;
	if (!(trimmed = strndup(path, len - 1)))
		return NULL;
	r = match_table(method, trimmed, req, status, allow, allow_len);
	free(trimmed);
	return r;
}
