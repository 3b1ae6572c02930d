/*
 * http.h - the request and response dam's handlers see.
 *
 * The h2o glue (server.c) copies what a handler needs out of h2o's request
 * into a struct http_req on the event loop, runs the handler on a worker
 * thread, and turns the struct http_res back into an h2o response on the
 * loop. Handlers never see h2o types, SQL or libvips: they parse, call
 * core/, and serialise (see ../shared/DESIGN.md).
 *
 * Ownership: everything in a request or response belongs to it and is freed
 * by http_req_free()/http_res_release(). Strings are NUL-terminated copies.
 */
#ifndef DAM_HTTP_HTTP_H
#define DAM_HTTP_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/auth.h"
#include "core/library.h"
#include "util/strbuf.h"

#define HTTP_MAX_PARAMS 4

struct http_header {
	char *name;  /* lower case */
	char *value;
};

struct http_req {
	char method[16];
	char *path;             /* decoded path, without query */
	char *query;            /* raw query string after '?', or "" */
	char *authority;        /* Host (HTTP/1) or :authority (HTTP/2), or "" */
	struct http_header *headers;
	size_t nheaders;
	char *body;             /* request entity (may contain NULs), or NULL */
	size_t body_len;
	char client[64];        /* client address (after trusted proxies) */
	char request_id[40];
	bool tls;
	/* filled by the router */
	const struct route *route;
	char *params[HTTP_MAX_PARAMS]; /* path parameters in pattern order */
	int nparams;
	/* filled by authentication */
	struct actor actor;
	bool via_cookie;
};

struct http_range {
	uint64_t start, end; /* inclusive */
};

/* What a handler offers the event loop's hot cache (http/hotcache.h) along
 * with its 200 response: a copy of the whole body and what decides how long
 * the answer holds. Declared here, not in hotcache.h, because it travels in
 * struct http_res and http_res_release() frees it. */
struct hot_offer {
	void *body;           /* malloc'd; owned by the offer until put */
	size_t len;
	bool vary_accept;     /* the bytes depend on the Accept header */
	long long max_age;    /* Cache-Control max-age before the exp_ cap */
	bool immutable;       /* a version-pinned URL: "immutable" */
	int64_t expires;      /* unix seconds of the link's exp_, 0 = none */
	uint64_t state_ms;    /* deliver_result.state_ms: the answer may rest on
				 state read this long ago (time_mono_ms) */
};

/* Frees the offer and its body; NULL is a no-op. */
void hot_offer_free(struct hot_offer *o);

/* A response: JSON/text in `body`, or a blob streamed from `fd`. */
struct http_res {
	int status;
	struct http_header *headers;
	size_t nheaders, capheaders;
	struct strbuf body;
	int fd;                 /* >= 0: stream this file (owned, closed on release) */
	uint64_t fd_size;       /* size of the file */
	struct http_range ranges[16];
	int nranges;            /* 0: whole file; 1: single range; >1: multipart/byteranges */
	char boundary[40];
	char *content_type;     /* of the file parts */
	bool head;              /* HEAD: headers only */
	/* Or bytes that live as long as the process (the embedded web UI):
	 * sent as they are, never copied; used when static_body is set. */
	const unsigned char *static_body;
	size_t static_len;
	/* A copy of the body the handler offers to the event loop's hot cache
	 * (http/hotcache.h); owned, freed on release. */
	struct hot_offer *hot;
};

/* Case-insensitive lookup of a request header; NULL when absent. Borrowed. */
const char *http_req_header(const struct http_req *req, const char *name);
/* If-None-Match names etag (a quoted validator) or is "*": answer 304. */
bool http_req_etag_matches(const struct http_req *req, const char *etag);
/* Number of times a header appears (for refusing duplicates). */
int http_req_header_count(const struct http_req *req, const char *name);
/* The value of a query parameter (decoded), or NULL - also when it cannot
 * be decoded (see http_req_query_get). Caller frees. */
char *http_req_query(const struct http_req *req, const char *name);
#define HTTP_QUERY_BAD (-1) /* a malformed percent-escape */
#define HTTP_QUERY_NUL (-2) /* %00: a NUL byte would cut the value short */
/* The value of the first query parameter called name: returns 1 and sets
 * *out (decoded, '+' as space; caller frees), 0 with *out NULL when absent,
 * or HTTP_QUERY_BAD / HTTP_QUERY_NUL with *out NULL when it cannot be
 * decoded into a C string. Thread-safe. */
int http_req_query_get(const struct http_req *req, const char *name, char **out);
void http_req_free(struct http_req *req);
/* Percent-decodes s ('+' stays '+'); NULL on a bad escape or %00. Caller frees. */
char *http_percent_decode(const char *s);

void http_res_init(struct http_res *res);
void http_res_release(struct http_res *res);
/* Adds a header (copied). */
void http_res_header(struct http_res *res, const char *name, const char *value);
void http_res_headerf(struct http_res *res, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
const char *http_res_get_header(const struct http_res *res, const char *name);

/* Sets a JSON body (takes ownership of j: it is decref'd). */
void http_res_json(struct http_res *res, int status, json_t *j);
/* The same with JSON already serialised (text copied; a newline is added). */
void http_res_json_text(struct http_res *res, int status, const char *text, size_t len);
/* The one error shape: {"error":{"code","message","field"}}. */
void http_res_error(struct http_res *res, int status, const char *code, const char *message,
		    const char *field);
/* Seconds a 503 for an unreachable database asks the client to wait. */
#define HTTP_RETRY_AFTER_S 5
/* Maps a dam error to a status and the error shape (DAM_EUNAVAIL: 503
 * database_unavailable with Retry-After). */
void http_res_dam_error(struct http_res *res, const struct dam_err *err);
int http_status_of(int dam_code);

#endif
