/* h_zip.c - many assets as one zip download: GET with ?ids=a,b,c (a plain
 * link the browser downloads itself) or POST with {"ids": [...]}. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/event.h"
#include "core/zip.h"
#include "http/handlers.h"

static void send_zip(struct dam *dam, struct http_req *req, struct http_res *res, const char *const *ids, int n)
{
	struct zip_item *items = NULL;
	struct dam_err err;
	char name[64];
	uint64_t size;
	time_t now = time(NULL);
	struct tm tm;
	int nitems, fd;

	if (!http_allow(req, res, AUTH_ASSET_READ, NULL))
		return;
	if (zip_plan(dam, ids, n, &items, &nitems, &err) < 0) {
		http_res_dam_error(res, &err);
		return;
	}
	for (int i = 0; i < nitems; i++) {
		struct auth_object obj = { "asset", items[i].asset_id, items[i].created_by[0] ? items[i].created_by : NULL };
		if (!http_allow(req, res, AUTH_ASSET_DOWNLOAD, &obj))
			goto out;
	}
	if (zip_write(dam, items, nitems, &fd, &size, &err) < 0) {
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
	for (int i = 0; i < nitems; i++) {
		json_t *ev = json_pack("{s:s,s:s}", "rendition", "original", "via", "zip");
		event_record(dam, "download", items[i].asset_id, ev, NULL);
		json_decref(ev);
	}
out:
	free(items);
}

HANDLER(h_zip_get)
{
	char *list = http_req_query(req, "ids"), *save = NULL;
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
	send_zip(dam, req, res, ids, n);
out:
	free(list);
}

HANDLER(h_zip_post)
{
	static const char *const keys[] = { "ids", NULL };
	const char **ids = NULL;
	json_t *body, *arr, *v;
	size_t i, n;

	if (http_json_body(req, res, keys, &body) < 0)
		return;
	arr = json_object_get(body, "ids");
	n = json_array_size(arr);
	if (!json_is_array(arr) || n == 0 || n > ZIP_MAX_ASSETS) {
		http_res_error(res, 400, "invalid", "ids is an array of 1 to 1000 asset ids", "ids");
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
	send_zip(dam, req, res, ids, (int)n);
out:
	free(ids);
	json_decref(body);
}
