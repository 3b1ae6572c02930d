/* h_download.c - originals and renditions: ETag, Last-Modified, Range
 * (single and multiple), If-Range, If-None-Match, HEAD and RFC 6266
 * Content-Disposition. Downloads are recorded as events. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/asset.h"
#include "core/event.h"
#include "deliver/deliver.h"
#include "http/handlers.h"
#include "util/id.h"

static void http_date(uint64_t ms, char out[40])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 40, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/* RFC 6266: an ASCII fallback and the UTF-8 name percent-encoded. */
static void disposition(struct http_res *res, const char *filename)
{
	struct strbuf v = STRBUF_INIT;

	strbuf_adds(&v, "attachment; filename=\"");
	for (const unsigned char *p = (const unsigned char *)filename; *p; p++)
		strbuf_addch(&v, *p < 0x20 || *p >= 0x7f || *p == '"' || *p == '\\' || *p == '/' ? '_' : (char)*p);
	strbuf_adds(&v, "\"; filename*=UTF-8''");
	for (const unsigned char *p = (const unsigned char *)filename; *p; p++) {
		if (isalnum(*p) || strchr("!#$&+-.^_`|~", *p))
			strbuf_addch(&v, (char)*p);
		else
			strbuf_addf(&v, "%%%02X", *p);
	}
	http_res_header(res, "content-disposition", v.buf);
	strbuf_release(&v);
}

/* Parses "bytes=a-b,c-,-n". Returns ranges found, 0 to ignore the header
 * (malformed: serve the whole file), -1 when none is satisfiable (416). */
static int parse_ranges(const char *h, uint64_t size, struct http_range *out, int max)
{
	int n = 0;
	const char *p;

	if (strncmp(h, "bytes=", 6))
		return 0;
	for (p = h + 6; *p;) {
		unsigned long long a = 0, b = 0;
		char *end;
		bool has_a = false, has_b = false;
		while (*p == ' ')
			p++;
		if (isdigit((unsigned char)*p)) {
			a = strtoull(p, &end, 10);
			p = end;
			has_a = true;
		}
		if (*p++ != '-')
			return 0;
		if (isdigit((unsigned char)*p)) {
			b = strtoull(p, &end, 10);
			p = end;
			has_b = true;
		}
		while (*p == ' ')
			p++;
		if (*p == ',')
			p++;
		else if (*p)
			return 0;
		if (!has_a && !has_b)
			return 0;
		if (n == max)
			return 0; /* too many ranges: the whole file is cheaper */
		if (!has_a) { /* suffix */
			if (b == 0)
				continue;
			out[n].start = b >= size ? 0 : size - b;
			out[n].end = size - 1;
		} else {
			if (has_b && b < a)
				return 0;
			if (a >= size)
				continue;
			out[n].start = a;
			out[n].end = !has_b || b >= size ? size - 1 : b;
		}
		n++;
	}
	return n ? n : -1;
}

void http_send_blob(struct dam *dam, const struct http_req *req, struct http_res *res, const char *key,
		    const char *mime, const char *filename, uint64_t last_modified_ms, const char *cache_control)
{
	char etag[72];
	struct dam_err err;
	uint64_t size;
	int fd;

	snprintf(etag, sizeof etag, "\"%s\"", key);
	/* A revalidation costs no file open. */
	if (http_req_etag_matches(req, etag)) {
		http_send_fd(req, res, -1, 0, etag, mime, filename, last_modified_ms, cache_control, true);
		return;
	}
	if (deliver_blob(dam, key, &fd, &size, &err) < 0) {
		http_res_dam_error(res, &err);
		return;
	}
	http_send_fd(req, res, fd, size, etag, mime, filename, last_modified_ms, cache_control, true);
}

void http_send_fd(const struct http_req *req, struct http_res *res, int fd, uint64_t size, const char *etag,
		  const char *mime, const char *filename, uint64_t last_modified_ms, const char *cache_control,
		  bool ranges)
{
	const char *range = http_req_header(req, "range");
	const char *if_range = http_req_header(req, "if-range");
	char date[40];
	int n;

	http_date(last_modified_ms, date);
	http_res_header(res, "etag", etag);
	http_res_header(res, "last-modified", date);
	if (ranges)
		http_res_header(res, "accept-ranges", "bytes");
	http_res_header(res, "cache-control", cache_control);
	if (http_req_etag_matches(req, etag)) {
		if (fd >= 0)
			close(fd);
		res->status = 304;
		return;
	}
	res->fd = fd;
	res->fd_size = size;
	res->status = 200;
	res->content_type = strdup(mime);
	if (filename)
		disposition(res, filename);
	/* If-Range: ranges only when the validator still matches. */
	if (ranges && range && size && (!if_range || !strcmp(if_range, etag) || !strcmp(if_range, date))) {
		n = parse_ranges(range, size, res->ranges, (int)(sizeof res->ranges / sizeof res->ranges[0]));
		if (n < 0) {
			close(res->fd);
			res->fd = -1;
			http_res_error(res, 416, "range_not_satisfiable", "the requested range is beyond the end of the file", "Range");
			http_res_headerf(res, "content-range", "bytes */%llu", (unsigned long long)size);
			return;
		}
		res->nranges = n;
	}
	if (res->nranges == 1) {
		res->status = 206;
		http_res_headerf(res, "content-range", "bytes %llu-%llu/%llu", (unsigned long long)res->ranges[0].start,
				 (unsigned long long)res->ranges[0].end, (unsigned long long)size);
	} else if (res->nranges > 1) {
		res->status = 206;
		id_new(res->boundary);
		http_res_headerf(res, "content-type", "multipart/byteranges; boundary=%s", res->boundary);
		return;
	}
	http_res_header(res, "content-type", mime);
}

/* The blob of an asset's original or rendition, with download event. */
static void send_asset_blob(struct dam *dam, struct http_req *req, struct http_res *res, int version,
			    const char *rendition)
{
	char key[65], mime[128], filename[256], id[DAM_ID_LEN + 1];
	struct dam_err err;
	json_t *a, *ev;
	struct auth_object obj = { "asset", NULL, NULL };

	if (asset_resolve(dam, req->params[0], id, &err) < 0 || asset_get(dam, id, &a, &err) < 0) {
		http_res_dam_error(res, &err);
		return;
	}
	obj.id = id;
	obj.created_by = json_string_value(json_object_get(a, "created_by"));
	if (!http_allow(req, res, AUTH_ASSET_DOWNLOAD, &obj)) {
		json_decref(a);
		return;
	}
	json_decref(a);
	if (asset_blob_of(dam, id, version, rendition, key, mime, filename, &err) < 0) {
		http_res_dam_error(res, &err);
		return;
	}
	http_send_blob(dam, req, res, key, mime, rendition ? NULL : filename, id_time_ms(id),
		       "private, no-cache");
	if (res->status == 200 || res->status == 206) {
		ev = json_pack("{s:i,s:s,s:s}", "version", version, "rendition", rendition ? rendition : "original",
			       "hash", key);
		event_record(dam, "download", id, ev, NULL);
		json_decref(ev);
	}
}

HANDLER(h_asset_original)
{
	long long v = http_query_int(req, res, "version", 0, 1, 1000000);

	if (v >= 0)
		send_asset_blob(dam, req, res, (int)v, NULL);
}

HANDLER(h_version_original)
{
	char *end;
	long v = strtol(req->params[1], &end, 10);

	if (*end || v < 1 || v > 1000000) {
		http_res_error(res, 404, "not_found", "this asset has no such version", "number");
		return;
	}
	send_asset_blob(dam, req, res, (int)v, NULL);
}

HANDLER(h_rendition_get)
{
	long long v = http_query_int(req, res, "version", 0, 1, 1000000);

	if (v >= 0)
		send_asset_blob(dam, req, res, (int)v, req->params[1]);
}
