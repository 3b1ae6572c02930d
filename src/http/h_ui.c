/* h_ui.c - the web UI: its files are embedded in the binary (ui_files.h),
 * so one binary is all there is to deploy. Runs on the event loop: no
 * database, no file system, just static bytes.
 *
 *   GET /             -> 302 to /ui/
 *   GET /ui/static/X  -> an embedded file (hashed names: cached for a year)
 *   GET /ui/anything  -> index.html: the page routes on the client
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/handlers.h"
#include "http/ui_files.h"

#define UI_STATIC "static/"

static const struct ui_file *ui_find(const char *path)
{
	for (const struct ui_file *f = ui_files; f->path; f++)
		if (!strcmp(f->path, path))
			return f;
	return NULL;
}

/* True when Accept-Encoding accepts gzip: "gzip" listed with q > 0. */
static bool accepts_gzip(const struct http_req *req)
{
	const char *p = http_req_header(req, "accept-encoding");

	while (p && *p) {
		size_t n, name;
		const char *q;
		p += strspn(p, " \t");
		n = strcspn(p, ",");
		name = strcspn(p, " \t;,");
		if (name == 4 && !strncasecmp(p, "gzip", 4)) {
			q = memchr(p, ';', n);
			if (!q)
				return true;
			q = strstr(q, "q=");
			return !q || q >= p + n || strtod(q + 2, NULL) > 0;
		}
		p += n;
		if (*p == ',')
			p++;
	}
	return false;
}

static void send_file(const struct http_req *req, struct http_res *res, const struct ui_file *f)
{
	bool gz = f->gzip && accepts_gzip(req);
	char etag[96];

	/* The gzip variant is other bytes, so it has its own strong ETag. */
	if (gz)
		snprintf(etag, sizeof etag, "%.*s-gz\"", (int)strlen(f->etag) - 1, f->etag);
	else
		snprintf(etag, sizeof etag, "%s", f->etag);
	http_res_header(res, "etag", etag);
	http_res_header(res, "cache-control", f->immutable ? "public, max-age=31536000, immutable" : "no-cache");
	if (f->gzip)
		http_res_header(res, "vary", "accept-encoding");
	if (http_req_etag_matches(req, etag)) {
		res->status = 304;
		return;
	}
	res->status = 200;
	http_res_header(res, "content-type", f->content_type);
	if (gz)
		http_res_header(res, "content-encoding", "gzip");
	res->static_body = gz ? f->gzip : f->data;
	res->static_len = gz ? f->gzip_len : f->len;
}

HANDLER(h_ui_root)
{
	res->status = 302;
	http_res_header(res, "location", "/ui/");
	http_res_header(res, "cache-control", "no-cache");
}

HANDLER(h_ui)
{
	const char *rest = req->params[0];
	const struct ui_file *f;
	char path[512];

	if (!strncmp(rest, UI_STATIC, strlen(UI_STATIC))) {
		snprintf(path, sizeof path, "/ui/%s", rest);
		if (strlen(rest) + 4 >= sizeof path || !(f = ui_find(path))) {
			http_res_error(res, 404, "not_found", "no such file in the web UI", NULL);
			return;
		}
	} else if (!(f = ui_find("index.html"))) {
		http_res_error(res, 404, "not_found", "this build has no web UI", NULL);
		return;
	}
	send_file(req, res, f);
}
