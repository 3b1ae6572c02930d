#include "http/metrics.h"

#include "http/router.h"

static const int status_slots[METRICS_STATUS_SLOTS] = {
	200, 201, 204, 206, 304, 400, 401, 403, 404, 405, 409, 412, 413, 416, 429, 500,
};

static const double bucket_le[METRICS_BUCKETS] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5,
};

static int slot_of(int status)
{
	for (int i = 0; i < METRICS_STATUS_SLOTS - 1; i++)
		if (status_slots[i] == status)
			return i;
	return METRICS_STATUS_SLOTS - 1; /* everything else counts as 500 */
}

void metrics_observe(struct metrics *m, int route, int status, double seconds)
{
	struct metrics_route *r;
	int b = 0;

	if (route < 0 || route >= METRICS_MAX_ROUTES)
		route = METRICS_MAX_ROUTES - 1;
	r = &m->routes[route];
	atomic_fetch_add(&r->by_status[slot_of(status)], 1);
	while (b < METRICS_BUCKETS && seconds > bucket_le[b])
		b++;
	atomic_fetch_add(&r->buckets[b], 1);
	atomic_fetch_add(&r->count, 1);
	atomic_fetch_add(&r->sum_us, (uint_fast64_t)(seconds * 1e6));
}

static const char *route_name(int i)
{
	for (int k = 0; http_routes[k].pattern; k++)
		if (k == i)
			return http_routes[k].name;
	return "unmatched";
}

void metrics_render(struct metrics *m, struct strbuf *out)
{
	strbuf_adds(out, "# HELP dam_http_requests_total HTTP requests by route and status.\n"
			 "# TYPE dam_http_requests_total counter\n");
	for (int i = 0; i < METRICS_MAX_ROUTES; i++)
		for (int s = 0; s < METRICS_STATUS_SLOTS; s++) {
			uint64_t n = atomic_load(&m->routes[i].by_status[s]);
			if (n)
				strbuf_addf(out, "dam_http_requests_total{route=\"%s\",status=\"%d\"} %llu\n",
					    route_name(i), status_slots[s], (unsigned long long)n);
		}
	strbuf_adds(out, "# HELP dam_http_request_duration_seconds Request latency by route.\n"
			 "# TYPE dam_http_request_duration_seconds histogram\n");
	for (int i = 0; i < METRICS_MAX_ROUTES; i++) {
		struct metrics_route *r = &m->routes[i];
		uint64_t cum = 0, count = atomic_load(&r->count);
		if (!count)
			continue;
		for (int b = 0; b <= METRICS_BUCKETS; b++) {
			cum += atomic_load(&r->buckets[b]);
			if (b < METRICS_BUCKETS)
				strbuf_addf(out, "dam_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
					    route_name(i), bucket_le[b], (unsigned long long)cum);
			else
				strbuf_addf(out, "dam_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n",
					    route_name(i), (unsigned long long)cum);
		}
		strbuf_addf(out, "dam_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n", route_name(i),
			    atomic_load(&r->sum_us) / 1e6);
		strbuf_addf(out, "dam_http_request_duration_seconds_count{route=\"%s\"} %llu\n", route_name(i),
			    (unsigned long long)count);
	}
	strbuf_addf(out, "# HELP dam_uploads_total Files received through the API.\n"
			 "# TYPE dam_uploads_total counter\ndam_uploads_total %llu\n"
			 "# HELP dam_upload_bytes_total Bytes received through the API.\n"
			 "# TYPE dam_upload_bytes_total counter\ndam_upload_bytes_total %llu\n"
			 "# HELP dam_upload_duplicates_total Uploads that duplicated stored bytes.\n"
			 "# TYPE dam_upload_duplicates_total counter\ndam_upload_duplicates_total %llu\n",
		    (unsigned long long)atomic_load(&m->uploads), (unsigned long long)atomic_load(&m->upload_bytes),
		    (unsigned long long)atomic_load(&m->duplicates));
	strbuf_addf(out, "# HELP dam_delivery_hot_requests_total Delivery requests looked up in the event loops' "
			 "in-memory cache, by outcome.\n"
			 "# TYPE dam_delivery_hot_requests_total counter\n"
			 "dam_delivery_hot_requests_total{outcome=\"hit\"} %llu\n"
			 "dam_delivery_hot_requests_total{outcome=\"miss\"} %llu\n",
		    (unsigned long long)atomic_load(&m->hot_hits), (unsigned long long)atomic_load(&m->hot_misses));
	strbuf_addf(out, "# HELP dam_delivery_hot_counter_reads_total Hot cache lookups that read the database's "
			 "change counter themselves, for want of a live change watcher (PostgreSQL).\n"
			 "# TYPE dam_delivery_hot_counter_reads_total counter\n"
			 "dam_delivery_hot_counter_reads_total %llu\n",
		    (unsigned long long)atomic_load(&m->hot_counter_reads));
	strbuf_addf(out, "# HELP dam_delivery_hot_bytes Bytes the event loops' in-memory caches hold (bodies, keys, "
			 "headers).\n# TYPE dam_delivery_hot_bytes gauge\ndam_delivery_hot_bytes %lld\n",
		    (long long)atomic_load(&m->hot_bytes));
}
