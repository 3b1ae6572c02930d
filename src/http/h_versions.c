/* h_versions.c - restoring an earlier version as the current one. */
#include <stdlib.h>
#include <string.h>

#include "core/asset.h"
#include "core/version.h"
#include "http/handlers.h"

HANDLER(h_version_restore)
{
	char id[DAM_ID_LEN + 1], *end;
	long number = strtol(req->params[1], &end, 10);
	struct version_restored out;
	struct dam_err err;
	json_t *a;

	if (*end || number < 1 || number > 1000000) {
		http_res_error(res, 404, "not_found", "this asset has no such version", "number");
		return;
	}
	/* A restore adds a version: the same rights as uploading one. */
	if (!http_allow_new_version(dam, req, res, id))
		return;
	if (version_restore(dam, id, (int)number, &out, &err) < 0) {
		http_res_dam_error(res, &err);
		return;
	}
	if (asset_get(dam, id, &a, &err) < 0) {
		http_res_dam_error(res, &err);
		return;
	}
	http_res_json(res, 201, json_pack("{s:s,s:s,s:i,s:i,s:o}", "asset_id", out.asset_id, "version_id", out.version_id,
					  "version", out.number, "restored_from", out.from, "asset", a));
}
