/* h_zip.c - many assets as one zip download: GET with ?ids=a,b,c[&preset=p]
 * (a plain link the browser downloads itself) or POST with {"ids": [...],
 * "preset": "p"}. Without a preset the zip holds the originals; with one,
 * each asset's rendition for it (core/zip.h, deliver_zip_source). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/event.h"
#include "core/zip.h"
#include "deliver/deliver.h"
#include "deliver/preset.h"
#include "http/handlers.h"
#include "http/server_ctx.h"

static void send_zip(struct server_ctx *srv, struct dam *dam, struct http_req *req, struct http_res *res,
		     const char *const *ids, int n, const char *preset)
{
	struct deliver_zip dz = { srv->deliver, dam, preset };
	struct zip_item *items = NULL;
	struct preset p;
	struct dam_err err;
	char name[64];
	uint64_t size;
	time_t now = time(NULL);
	struct tm tm;
	int nitems, fd, skipped = 0;

	if (!http_allow(req, res, AUTH_ASSET_READ, NULL))
		return;
	if (preset && !srv->deliver) {
		http_res_error(res, 409, "unavailable", "this server has no delivery, so zips hold originals only", "preset");
		return;
	}
	if (preset && preset_get(dam, preset, &p, NULL) < 0) {
		char m[160];
		snprintf(m, sizeof m, "unknown preset \"%.60s\" (GET /api/v1/presets lists them)", preset);
		http_res_error(res, 400, "invalid_parameter", m, "preset");
		return;
	}
	if (zip_plan(dam, ids, n, !preset, &items, &nitems, &err) < 0) {
		http_res_dam_error(res, &err);
		return;
	}
	for (int i = 0; i < nitems; i++) {
		struct auth_object obj = { "asset", items[i].asset_id, items[i].created_by[0] ? items[i].created_by : NULL };
		if (!http_allow(req, res, AUTH_ASSET_DOWNLOAD, &obj))
			goto out;
	}
	if (zip_write(dam, items, nitems, preset ? deliver_zip_source : NULL, preset ? &dz : NULL, &fd, &size, &skipped,
		      &err) < 0) {
		http_res_dam_error(res, &err);
		goto out;
	}
	gmtime_r(&now, &tm);
	strftime(name, sizeof name, "dam-%Y%m%d-%H%M%S.zip", &tm);
	res->fd = fd;
	res->fd_size = size;
	res->status = 200;
	res->content_type = strdup("application/zip");
	http_res_header(res, "content-type", "application/zip");
	http_res_headerf(res, "content-disposition", "attachment; filename=\"%s\"", name);
	http_res_headerf(res, "dam-zip-skipped", "%d", skipped);
	for (int i = 0; i < nitems; i++) {
		json_t *ev;
		if (items[i].skipped)
			continue;
		ev = json_pack("{s:s,s:s}", "rendition", preset ? preset : "original", "via", "zip");
		event_record(dam, "download", items[i].asset_id, ev, NULL);
		json_decref(ev);
	}
out:
	free(items);
}

HANDLER(h_zip_get)
{
	char *list = http_req_query(req, "ids"), *preset = http_req_query(req, "preset"), *save = NULL;
	const char *ids[ZIP_MAX_ASSETS + 1];
	int n = 0;

	if (!list || !*list) {
		http_res_error(res, 400, "invalid_parameter", "ids is a comma-separated list of asset ids", "ids");
		goto out;
	}
	for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (n == ZIP_MAX_ASSETS) {
			http_res_error(res, 400, "invalid_parameter", "at most 1000 ids per zip", "ids");
			goto out;
		}
		ids[n++] = t;
	}
	send_zip(srv, dam, req, res, ids, n, preset && *preset && strcmp(preset, "original") ? preset : NULL);
out:
	free(preset);
	free(list);
}

HANDLER(h_zip_post)
{
	static const char *const keys[] = { "ids", "preset", NULL };
	const char **ids = NULL, *preset;
	json_t *body, *arr, *v;
	size_t i, n;

	if (http_json_body(req, res, keys, &body) < 0)
		return;
	arr = json_object_get(body, "ids");
	n = json_array_size(arr);
	v = json_object_get(body, "preset");
	preset = json_string_value(v);
	if (!json_is_array(arr) || n == 0 || n > ZIP_MAX_ASSETS) {
		http_res_error(res, 400, "invalid", "ids is an array of 1 to 1000 asset ids", "ids");
		goto out;
	}
	if (v && !json_is_null(v) && !json_is_string(v)) {
		http_res_error(res, 400, "invalid", "preset is a preset name (or \"original\")", "preset");
		goto out;
	}
	ids = calloc(n, sizeof *ids);
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v)) {
			http_res_error(res, 400, "invalid", "ids holds strings (asset ids)", "ids");
			goto out;
		}
		ids[i] = json_string_value(v);
	}
	send_zip(srv, dam, req, res, ids, (int)n, preset && *preset && strcmp(preset, "original") ? preset : NULL);
out:
	free(ids);
	json_decref(body);
}
