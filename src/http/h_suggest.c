/* h_suggest.c - autocompletion for the search box, tags and field values. */
#include <stdlib.h>
#include <string.h>

#include "core/suggest.h"
#include "http/handlers.h"

HANDLER(h_suggest)
{
	char *prefix = NULL, *field = NULL;
	struct suggest_request r = { 0 };
	struct dam_err err;
	long long limit;
	json_t *out;

	if (!http_allow(req, res, AUTH_ASSET_READ, NULL))
		goto out;
	if (http_query_str(req, res, "prefix", &prefix) < 0 || http_query_str(req, res, "field", &field) < 0)
		goto out;
	if ((limit = http_query_int(req, res, "limit", 10, 1, SUGGEST_MAX)) < 0)
		goto out;
	if (prefix && strlen(prefix) > 200) {
		http_res_error(res, 400, "invalid_parameter", "prefix is at most 200 bytes", "prefix");
		goto out;
	}
	r.prefix = prefix ? prefix : "";
	r.field = field && *field ? field : NULL;
	r.limit = (int)limit;
	if (suggest(dam, &r, &out, &err) < 0) {
		if (err.code == DAM_EINVAL)
			http_res_error(res, 400, "invalid_parameter", err.msg, err.field);
		else
			http_res_dam_error(res, &err);
		goto out;
	}
	http_res_json(res, 200, out);
out:
	free(prefix);
	free(field);
}
