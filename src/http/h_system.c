/* h_system.c - health, readiness, metrics, the OpenAPI document. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/job.h"
#include "deliver/deliver.h"
#include "http/handlers.h"
#include "util/fsutil.h"

HANDLER(h_healthz)
{
	http_res_json(res, 200, json_pack("{s:s}", "status", "ok"));
}

/* Ready when the database and the store answer this node: 200, else 503,
 * each part "ok" or what is wrong with it, for a load balancer to act on
 * and a person to read. */
HANDLER(h_readyz)
{
	struct dam_err db_err, store_err;
	int rc = library_ready(dam, &db_err, &store_err);

	http_res_json(res, rc < 0 ? 503 : 200,
		      json_pack("{s:s,s:s,s:s}", "status", rc < 0 ? "not_ready" : "ready", "database",
				db_err.code ? db_err.msg : "ok", "store", store_err.code ? store_err.msg : "ok"));
}

/* What malloc holds: in use by the server, and free but still mapped (kept
 * for reuse; the main thread trims it every 30 s). Beside RSS this tells a
 * leak (in use climbing) from a heap kept at its high-water mark. */
static void heap_render(struct strbuf *out)
{
	struct mallinfo2 mi = mallinfo2();

	strbuf_addf(out,
		    "# HELP dam_heap_bytes The server's malloc heap: in use, and free but still mapped.\n"
		    "# TYPE dam_heap_bytes gauge\ndam_heap_bytes{state=\"in_use\"} %zu\ndam_heap_bytes{state=\"free\"} %zu\n",
		    mi.uordblks + mi.hblkhd, mi.fordblks);
}

HANDLER(h_metrics)
{
	struct dam_err err;
	json_t *stats, *j;
	size_t i;

	if (!http_allow(req, res, AUTH_METRICS_READ, NULL))
		return;
	if (library_stats(dam, &stats, &err) < 0) {
		http_res_dam_error(res, &err);
		return;
	}
	metrics_render(&srv->metrics, &res->body);
	strbuf_adds(&res->body, "# HELP dam_jobs Jobs in the queue by kind and state.\n# TYPE dam_jobs gauge\n");
	json_array_foreach(json_object_get(stats, "jobs"), i, j)
		strbuf_addf(&res->body, "dam_jobs{kind=\"%s\",state=\"%s\"} %lld\n",
			    json_string_value(json_object_get(j, "kind")), json_string_value(json_object_get(j, "state")),
			    (long long)json_integer_value(json_object_get(j, "count")));
	strbuf_addf(&res->body,
		    "# HELP dam_stored_bytes Bytes held in the blob store.\n# TYPE dam_stored_bytes gauge\ndam_stored_bytes %lld\n"
		    "# HELP dam_blobs Blobs in the store.\n# TYPE dam_blobs gauge\ndam_blobs %lld\n"
		    "# HELP dam_assets Live assets.\n# TYPE dam_assets gauge\ndam_assets %lld\n"
		    "# HELP dam_versions_total Versions ever ingested.\n# TYPE dam_versions_total counter\ndam_versions_total %lld\n",
		    (long long)json_integer_value(json_object_get(stats, "stored_bytes")),
		    (long long)json_integer_value(json_object_get(stats, "blobs")),
		    (long long)json_integer_value(json_object_get(stats, "assets")),
		    (long long)json_integer_value(json_object_get(stats, "versions")));
	json_decref(stats);
	if (srv->deliver) {
		struct rcache_stats c;
		deliver_cache_stats(srv->deliver, &c);
		strbuf_addf(&res->body,
			    "# HELP dam_rendition_cache_bytes Bytes in the rendition cache.\n# TYPE dam_rendition_cache_bytes gauge\n"
			    "dam_rendition_cache_bytes %llu\n"
			    "# HELP dam_rendition_cache_entries Renditions in the cache.\n# TYPE dam_rendition_cache_entries gauge\n"
			    "dam_rendition_cache_entries %llu\n"
			    "# HELP dam_rendition_cache_requests_total Cache lookups by outcome (coalesced: waited for another request's encode).\n"
			    "# TYPE dam_rendition_cache_requests_total counter\n"
			    "dam_rendition_cache_requests_total{outcome=\"hit\"} %llu\n"
			    "dam_rendition_cache_requests_total{outcome=\"miss\"} %llu\n"
			    "dam_rendition_cache_requests_total{outcome=\"coalesced\"} %llu\n"
			    "# HELP dam_rendition_encodes_total Renditions encoded.\n# TYPE dam_rendition_encodes_total counter\n"
			    "dam_rendition_encodes_total %llu\n"
			    "# HELP dam_rendition_cache_evictions_total Entries evicted (least recently used).\n"
			    "# TYPE dam_rendition_cache_evictions_total counter\ndam_rendition_cache_evictions_total %llu\n",
			    (unsigned long long)c.bytes, (unsigned long long)c.entries, (unsigned long long)c.hits,
			    (unsigned long long)c.misses, (unsigned long long)c.coalesced, (unsigned long long)c.makes,
			    (unsigned long long)c.evictions);
	}
	heap_render(&res->body);
	res->status = 200;
	http_res_header(res, "content-type", "text/plain; version=0.0.4; charset=utf-8");
}

extern const char dam_openapi_yaml[];
extern const unsigned long dam_openapi_yaml_len;

HANDLER(h_openapi)
{
	res->status = 200;
	strbuf_add(&res->body, dam_openapi_yaml, dam_openapi_yaml_len);
	http_res_header(res, "content-type", "application/yaml; charset=utf-8");
	http_res_header(res, "cache-control", "no-cache");
}
