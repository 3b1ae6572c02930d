/*
 * server_ctx.h - what every part of `dam serve` shares: its options, the
 * configuration (reloaded on SIGHUP), the auth limits, metrics, the count
 * of requests in flight and the stop state.
 *
 * The h2o glue (server.c), request handling (serve_req.c), the handlers
 * and start-up/supervision (server_run.c) all take a struct server_ctx *;
 * keeping it in a module of its own, below them all, is what lets
 * serve_req.c be used by server.c without the two including each other.
 *
 * Threads: opts, root, exe, trusted and started_ms are written once by
 * server_ctx_init() before any thread starts and only read afterwards;
 * cfg and auth_limits are read and written under cfg_lock; the atomics are
 * what they say. One struct server_ctx per process (server_run owns it).
 */
#ifndef DAM_HTTP_SERVER_CTX_H
#define DAM_HTTP_SERVER_CTX_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/auth.h"
#include "core/change_watch.h"
#include "core/library.h"
#include "http/metrics.h"
#include "util/config.h"
#include "util/err.h"

struct deliver;

struct server_opts {
	const char *root;          /* library folder */
	const char *listen;        /* "127.0.0.1:8080", "[::1]:0", ":8080" */
	int loops;                 /* event loop threads; 0 = one per core */
	int pool;                  /* blocking-work threads; 0 = 4 per core */
	int workers;               /* job worker processes; -1 = none, 0 = one per core */
	const char *tls_cert, *tls_key;
	const char *trusted_proxies; /* comma-separated addresses whose X-Forwarded-For is believed */
	const char *exe;           /* the dam binary (for workers); NULL = /proc/self/exe */
	int stop_deadline_s;       /* graceful stop deadline; 0 = 20 s */
	size_t max_upload;         /* single-request upload cap; 0 = 256 MiB */
	size_t tus_chunk_max;      /* largest tus PATCH body; 0 = 16 MiB */
	int max_conns_per_client;  /* 0 = 256 */
	bool quiet;                /* no access log */
};

struct server_ctx {
	struct server_opts opts;
	char root[4096];
	char exe[4096];
	pthread_mutex_t cfg_lock;  /* guards cfg and auth_limits (SIGHUP reload) */
	struct dam_config cfg;
	atomic_int cfg_generation; /* bumped by every (re)load of cfg */
	struct auth_limits auth_limits;
	struct metrics metrics;
	atomic_int in_flight;
	atomic_int stopping;
	char trusted[16][64];
	int ntrusted;
	uint64_t started_ms;
	struct deliver *deliver;   /* signed delivery: keys and rendition cache (shared) */
	/* The handle whose search cache (facet bitmaps) the request threads
	 * and the warm-up thread share (library_open_shared): opened before
	 * they start, closed after they stop, used by no thread itself. */
	struct dam *search_lib;
	/* The process's change watcher (core/change_watch.h), NULL on SQLite:
	 * started before the loops and pool threads, whose handles borrow it,
	 * and stopped after they end. */
	struct change_watch *watch;
	int nloops;
};

/* Fills srv from opts (copied; the strings stay the caller's): defaults
 * for the zero options, root and exe, the trusted proxies, the lock and
 * the start time. srv must be zeroed. No thread may run yet. */
void server_ctx_init(struct server_ctx *srv, const struct server_opts *opts);

/* (Re)reads dam.conf into srv->cfg (and resets the auth limits) under the
 * lock and bumps cfg_generation. On error srv is unchanged. */
int server_config_load(struct server_ctx *srv, struct dam_err *err);

/* A pool thread's library handle takes a reloaded dam.conf before its
 * next request: copies srv->cfg into dam->cfg when cfg_generation moved
 * since *seen (updated; start with -1). */
void server_config_refresh(struct server_ctx *srv, struct dam *dam, int *seen);

/* Reads the current auth limits under the lock. */
void server_auth_limits(struct server_ctx *srv, struct auth_limits *out);

#endif
