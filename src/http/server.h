/*
 * server.h - `dam serve`: h2o event loops, the blocking-work thread pool,
 * supervision of job worker processes, graceful stop and reload.
 *
 * Threads: one h2o event loop per core accepts and parses; every handler
 * that touches the database or blobs runs on a pool thread (each with its
 * own library handle) and hands its response back to the loop that owns the
 * request through an h2o multithread queue. Nothing blocks a loop except
 * reading file chunks of a download, which come from the page cache.
 */
#ifndef DAM_HTTP_SERVER_H
#define DAM_HTTP_SERVER_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/auth.h"
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
	int nloops;
};

/* Runs the server until SIGTERM/SIGINT; returns the exit status. */
int server_run(const struct server_opts *opts, struct dam_err *err);

/* Reads the current auth limits under the lock. */
void server_auth_limits(struct server_ctx *srv, struct auth_limits *out);

#endif
