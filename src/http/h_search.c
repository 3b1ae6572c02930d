/* h_search.c - search with facets, and saved searches. */
#include <stdlib.h>
#include <string.h>

#include "core/asset.h"
#include "core/search.h"
#include "core/worker.h"
#include "http/handlers.h"

HANDLER(h_search)
{
	char *q = NULL, *sort = NULL, *cursor = NULL, *facets = NULL, *prefix = NULL;
	struct search_request sr = { 0 };
	struct dam_err err;
	json_t *out;
	long long limit, offset;

	if (!http_allow(req, res, AUTH_ASSET_READ, NULL))
		goto out;
	/* Every parameter is read whole or refused: a %00 would otherwise cut
	 * the query short (q=a%00b searched for "a") or drop it. */
	if (http_query_str(req, res, "q", &q) < 0 || http_query_str(req, res, "sort", &sort) < 0 ||
	    http_query_str(req, res, "cursor", &cursor) < 0 || http_query_str(req, res, "facets", &facets) < 0 ||
	    http_query_str(req, res, "prefix", &prefix) < 0)
		goto out;
	if ((limit = http_query_int(req, res, "limit", 50, 1, 1000)) < 0 ||
	    (offset = http_query_int(req, res, "offset", 0, 0, 1000000000)) < 0)
		goto out;
	if (offset && cursor) {
		http_res_error(res, 400, "invalid_parameter", "give either cursor or offset, not both", "offset");
		goto out;
	}
	if (q && strlen(q) > 4096) {
		http_res_error(res, 400, "invalid_query", "the query is longer than 4096 bytes", "q");
		goto out;
	}
	if (prefix && strcmp(prefix, "last") && strcmp(prefix, "none")) {
		http_res_error(res, 400, "invalid_parameter", "prefix is last (the query's last word is a prefix) or none",
			       "prefix");
		goto out;
	}
	sr.prefix_last = prefix && !strcmp(prefix, "last");
	sr.q = q ? q : "";
	sr.sort = sort;
	sr.cursor = cursor;
	sr.offset = (uint64_t)offset;
	sr.limit = (int)limit;
	sr.facets = !facets || strcmp(facets, "false");
	sr.user_id = req->actor.user_id;
	dam_err_clear(&err);
	if (search_run(dam, &sr, &out, &err) < 0) {
		if (err.code == DAM_EINVAL)
			http_res_error(res, 400, !strcmp(err.field, "q") ? "invalid_query" : "invalid_parameter", err.msg,
				       err.field);
		else
			http_res_dam_error(res, &err);
		goto out;
	}
	http_res_json(res, 200, out);
out:
	free(q);
	free(sort);
	free(cursor);
	free(facets);
	free(prefix);
}

HANDLER(h_searches_list)
{
	struct dam_err err;
	json_t *list;

	if (!http_allow(req, res, AUTH_ASSET_READ, NULL))
		return;
	if (search_saved_list(dam, req->actor.user_id, &list, &err) < 0)
		http_res_dam_error(res, &err);
	else
		http_res_json(res, 200, json_pack("{s:o}", "items", list));
}

HANDLER(h_searches_create)
{
	static const char *const keys[] = { "name", "query", "sort", "shared", NULL };
	struct dam_err err;
	json_t *body;
	char id[37];
	json_t *shared;

	if (!http_allow(req, res, AUTH_ASSET_READ, NULL) || http_json_body(req, res, keys, &body) < 0)
		return;
	shared = json_object_get(body, "shared");
	if (!json_is_string(json_object_get(body, "name")) ||
	    (json_object_get(body, "query") && !json_is_string(json_object_get(body, "query"))) ||
	    (json_object_get(body, "sort") && !json_is_string(json_object_get(body, "sort"))) ||
	    (shared && !json_is_boolean(shared))) {
		http_res_error(res, 400, "invalid", "name and query are strings, shared a boolean", NULL);
	} else if (search_save(dam, req->actor.user_id, json_string_value(json_object_get(body, "name")),
			       json_string_value(json_object_get(body, "query")), json_string_value(json_object_get(body, "sort")),
			       json_is_true(shared), id, &err) < 0) {
		if (err.code == DAM_EINVAL && !strcmp(err.field, "q"))
			http_res_error(res, 400, "invalid_query", err.msg, "query");
		else
			http_res_dam_error(res, &err);
	} else {
		http_res_json(res, 201, json_pack("{s:s,s:O,s:O?,s:O?,s:b}", "id", id, "name", json_object_get(body, "name"),
						  "query", json_object_get(body, "query"), "sort", json_object_get(body, "sort"),
						  "shared", json_is_true(shared)));
	}
	json_decref(body);
}

HANDLER(h_searches_delete)
{
	struct dam_err err;

	if (search_saved_delete(dam, req->actor.user_id, req->params[0], &err) < 0)
		http_res_dam_error(res, &err);
	else
		res->status = 204;
}

HANDLER(h_asset_similar)
{
	char id[DAM_ID_LEN + 1];
	struct dam_err err;
	long long limit, maxd;
	json_t *out;

	if (!http_allow(req, res, AUTH_ASSET_READ, NULL))
		return;
	if ((limit = http_query_int(req, res, "limit", 20, 1, 200)) < 0 ||
	    (maxd = http_query_int(req, res, "max_distance", 20, 0, 64)) < 0)
		return;
	if (asset_resolve(dam, req->params[0], id, &err) < 0 ||
	    search_similar_to_asset(dam, id, (int)limit, (int)maxd, &out, &err) < 0) {
		http_res_dam_error(res, &err);
		return;
	}
	http_res_json(res, 200, out);
}

/* Search by image: the uploaded bytes are analysed in a sandboxed child,
 * then compared like GET /assets/{id}/similar. */
HANDLER(h_search_image)
{
	float hist[64];
	uint64_t ph = 0;
	struct dam_err err;
	long long limit, maxd;
	json_t *out;

	if (!http_allow(req, res, AUTH_ASSET_READ, NULL))
		return;
	if ((limit = http_query_int(req, res, "limit", 20, 1, 200)) < 0 ||
	    (maxd = http_query_int(req, res, "max_distance", 20, 0, 64)) < 0)
		return;
	if (!req->body_len) {
		http_res_error(res, 400, "empty", "send the image as the request body", "body");
		return;
	}
	dam_err_clear(&err);
	if (worker_analyze_bytes(dam->root, req->body, req->body_len, &ph, hist, &err) < 0 ||
	    search_similar(dam, ph, hist, UINT32_MAX, (int)limit, (int)maxd, &out, &err) < 0) {
		if (err.code == DAM_EMEDIA || err.code == DAM_ELIMIT)
			http_res_error(res, 422, "not_an_image", err.msg, "body");
		else
			http_res_dam_error(res, &err);
		return;
	}
	http_res_json(res, 200, out);
}
