/*
 * serve_req.h - from an h2o request to a handler and back: copying the
 * request, routing, limits, authentication, CSRF and common headers.
 */
#ifndef DAM_HTTP_SERVE_REQ_H
#define DAM_HTTP_SERVE_REQ_H

#include <h2o.h>

#include "http/http.h"
#include "http/server_ctx.h"

/* On the loop: copies req into *out (caller frees with http_req_free) and
 * routes it. Returns 0 when the request should run, < 0 when res already
 * holds the refusal (bad path, 404, 405, 413 ...); *out may be NULL then. */
int serve_prepare(struct server_ctx *srv, h2o_req_t *req, struct http_req **out, struct http_res *res);

/* On a pool thread (or the loop for inline routes, dam NULL):
 * authenticates, checks CSRF, runs the handler. */
void serve_request(struct server_ctx *srv, struct dam *dam, struct http_req *req, struct http_res *res);

/* Adds the request id and the security headers that every response gets
 * (and cache-control: no-store unless res has its own) to out's response. */
void serve_common_headers(struct server_ctx *srv, const struct http_req *req, const struct http_res *res,
			  h2o_req_t *out);

/* The framing before part i of a multipart/byteranges body (i == nranges:
 * the closing delimiter); returns its length. */
size_t serve_part_header(const struct http_res *r, int i, char *out, size_t n);

/* Bytes of the body of a file response (ranges and multipart framing included). */
uint64_t serve_file_length(const struct http_res *res);

/* A minimal request for logging refusals that happened before copying. */
struct http_req *serve_dummy_req(h2o_req_t *req);

#endif
