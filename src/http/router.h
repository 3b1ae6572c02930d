/*
 * router.h - the route table: method, path pattern, handler, limits.
 *
 * Patterns are literal segments and {name} parameters ("/api/v1/assets/{id}");
 * with ROUTE_REST the last parameter matches the rest of the path.
 * The table is also what the OpenAPI test compares with docs/openapi.yaml.
 */
#ifndef DAM_HTTP_ROUTER_H
#define DAM_HTTP_ROUTER_H

#include "http/http.h"

struct server_ctx;

/* Handler: fills res. dam is the worker thread's own library handle. */
typedef void (*http_handler_fn)(struct server_ctx *srv, struct dam *dam, struct http_req *req,
				struct http_res *res);

enum route_flags {
	ROUTE_PUBLIC = 1,      /* no authentication */
	ROUTE_INLINE = 2,      /* cheap, non-blocking: run on the event loop */
	ROUTE_NO_CSRF = 4,     /* state-changing but exempt from CSRF (login) */
	ROUTE_REST = 8,        /* the last {param} takes the rest of the path, slashes
				  included, and may be empty ("/ui/{path}": the web UI) */
	ROUTE_QUICK = 16,      /* a short read: served by the quick pool (server.c) */
	ROUTE_HOT = 32,        /* 200 answers may be repeated from the loop's hot cache
				  (http/hotcache.h) while the library is unchanged */
};

struct route {
	const char *method;
	const char *pattern;
	http_handler_fn handler;
	int flags;
	size_t max_body;       /* bytes; 0 = no body allowed */
	const char *name;      /* metrics label, e.g. "asset_get" */
};

/* The routes, NULL-terminated pattern ends the table. */
extern const struct route http_routes[];

/*
 * Finds the route for method and path. Returns the route and fills
 * req->params, or NULL with *status 404 (no such path) or 405 (path exists
 * for other methods; allow_out lists them, at least 64 bytes). A path
 * with one trailing slash that matches no route is matched without it
 * ("/api/v1/uploads/" is "/api/v1/uploads").
 */
const struct route *router_match(const char *method, const char *path, struct http_req *req,
				 int *status, char *allow_out, size_t allow_len);

#endif
