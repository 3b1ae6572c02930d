/* h_system.c - health, readiness, metrics, the OpenAPI document. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/job.h"
#include "http/handlers.h"
#include "util/fsutil.h"

HANDLER(h_healthz)
{
	http_res_json(res, 200, json_pack("{s:s}", "status", "ok"));
}

/* Ready when the database answers and the store can be listed. */
HANDLER(h_readyz)
{
	struct dam_err err;
	int64_t n = 0;

	if (db_query_int(dam->db, &n, &err, "SELECT count(*) FROM library", "") < 0) {
		http_res_error(res, 503, "not_ready", "the database does not answer", NULL);
		return;
	}
	if (blob_count_temp(dam->store, &err) < 0) {
		http_res_error(res, 503, "not_ready", "the blob store is not reachable", NULL);
		return;
	}
	http_res_json(res, 200, json_pack("{s:s,s:s,s:s}", "status", "ready", "database", "ok", "store", "ok"));
}

static void job_metrics(struct dam *dam, struct strbuf *out)
{
	struct db_stmt *st;

	strbuf_adds(out, "# HELP dam_jobs Jobs in the queue by kind and state.\n# TYPE dam_jobs gauge\n");
	if (db_query(dam->db, &st, NULL, "SELECT kind, state, count(*) FROM jobs GROUP BY kind, state", "") < 0)
		return;
	while (db_step(st, NULL) == DB_ROW)
		strbuf_addf(out, "dam_jobs{kind=\"%s\",state=\"%s\"} %lld\n", db_col_text(st, 0), db_col_text(st, 1),
			    (long long)db_col_int(st, 2));
	db_finalize(st);
}

HANDLER(h_metrics)
{
	int64_t bytes = 0, blobs = 0, assets = 0, versions = 0;

	if (!http_allow(req, res, AUTH_METRICS_READ, NULL))
		return;
	metrics_render(&srv->metrics, &res->body);
	job_metrics(dam, &res->body);
	db_query_int(dam->db, &bytes, NULL, "SELECT ifnull(sum(size),0) FROM blobs", "");
	db_query_int(dam->db, &blobs, NULL, "SELECT count(*) FROM blobs", "");
	db_query_int(dam->db, &assets, NULL, "SELECT count(*) FROM assets WHERE deleted_at IS NULL", "");
	db_query_int(dam->db, &versions, NULL, "SELECT count(*) FROM versions", "");
	strbuf_addf(&res->body,
		    "# HELP dam_stored_bytes Bytes held in the blob store.\n# TYPE dam_stored_bytes gauge\ndam_stored_bytes %lld\n"
		    "# HELP dam_blobs Blobs in the store.\n# TYPE dam_blobs gauge\ndam_blobs %lld\n"
		    "# HELP dam_assets Live assets.\n# TYPE dam_assets gauge\ndam_assets %lld\n"
		    "# HELP dam_versions_total Versions ever ingested.\n# TYPE dam_versions_total counter\ndam_versions_total %lld\n",
		    (long long)bytes, (long long)blobs, (long long)assets, (long long)versions);
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
