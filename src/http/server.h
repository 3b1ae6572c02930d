/*
 * server.h - the h2o glue of `dam serve`: event loops, the blocking-work
 * thread pools, responses, delivery's hot cache on the loops.
 *
 * Threads: one h2o event loop per core accepts and parses; every handler
 * that touches the database or blobs runs on a pool thread (each with its
 * own library handle) and hands its response back to the loop that owns the
 * request through an h2o multithread queue. Nothing blocks a loop except
 * reading file chunks of a download, which come from the page cache.
 *
 * Start-up, signals, job worker processes and background threads are
 * server_run.c's, which drives this module: server_h2o_new(), then
 * server_h2o_start(); to stop, set srv->stopping to 1 (loops stop
 * accepting and ask their connections to close), wait, set it to 2 (loops
 * exit), then server_h2o_stop() and server_h2o_free(). Called from the
 * main thread only.
 */
#ifndef DAM_HTTP_SERVER_H
#define DAM_HTTP_SERVER_H

#include <stdbool.h>

#include "http/server_ctx.h"
#include "util/err.h"

struct server_h2o;

/* Prepares the h2o side for srv (borrowed; must outlive the handle): the
 * TLS context when srv->opts.tls_cert is set. Starts no thread. *out is
 * freed with server_h2o_free(). DAM_EINVAL when the certificate or key
 * cannot be loaded, DAM_ENOMEM. */
int server_h2o_new(struct server_ctx *srv, struct server_h2o **out, struct dam_err *err);

/* True when it serves TLS (for the URL the server prints). */
bool server_h2o_tls(const struct server_h2o *h);

/* Starts nquick + nmain pool threads (quick and main queues, see server.c)
 * and nloops event loops accepting on the listening socket fd (taken: each
 * loop holds its own dup). Sets srv->nloops. DAM_ENOMEM (fd closed). */
int server_h2o_start(struct server_h2o *h, int fd, int nloops, int nquick, int nmain, struct dam_err *err);

/* After srv->stopping was set to 2: joins the loops, then stops and joins
 * the pool threads. Only after a successful server_h2o_start(). */
void server_h2o_stop(struct server_h2o *h);

/* Frees h (NULL is a no-op): loops' spare buffers, TLS context. */
void server_h2o_free(struct server_h2o *h);

#endif
