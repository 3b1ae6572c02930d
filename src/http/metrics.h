/*
 * metrics.h - Prometheus counters for /metrics: requests by route and
 * status, a latency histogram per route, upload counters. Lock-free
 * increments (atomics); the text exposition also reads job queue depth and
 * bytes stored from the library.
 */
#ifndef DAM_HTTP_METRICS_H
#define DAM_HTTP_METRICS_H

#include <stdatomic.h>
#include <stdint.h>

#include "util/strbuf.h"

#define METRICS_MAX_ROUTES 96
#define METRICS_BUCKETS 12
#define METRICS_STATUS_SLOTS 16

struct metrics_route {
	atomic_uint_fast64_t by_status[METRICS_STATUS_SLOTS];
	atomic_uint_fast64_t buckets[METRICS_BUCKETS + 1]; /* last = +Inf */
	atomic_uint_fast64_t count;
	atomic_uint_fast64_t sum_us;
};

struct metrics {
	struct metrics_route routes[METRICS_MAX_ROUTES];
	atomic_uint_fast64_t uploads, upload_bytes, duplicates;
	atomic_uint_fast64_t hot_hits, hot_misses; /* delivery answers from the loops' hot caches */
	/* hot lookups that read the database's change counter themselves (no
	 * live change watcher: SQLite, or PostgreSQL unheard for a while) */
	atomic_uint_fast64_t hot_counter_reads;
	atomic_int_fast64_t hot_bytes; /* held by the loops' hot caches now */
};

/* route_index: index in http_routes, or METRICS_MAX_ROUTES - 1 for
 * "unmatched". */
void metrics_observe(struct metrics *m, int route_index, int status, double seconds);
/* Appends the HTTP part of the exposition. */
void metrics_render(struct metrics *m, struct strbuf *out);

#endif
