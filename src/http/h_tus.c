/* h_tus.c - resumable uploads, tus 1.0 core + creation + termination, as
 * Uppy's @uppy/tus speaks it. Each PATCH appends one bounded chunk. */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/upload.h"
#include "http/handlers.h"
#include "util/utf8.h"

#define TUS_VERSION "1.0.0"
#define TUS_MAX_SIZE (1ull << 40)

static void tus_headers(struct http_res *res)
{
	http_res_header(res, "tus-resumable", TUS_VERSION);
}

static int check_version(const struct http_req *req, struct http_res *res)
{
	const char *v = http_req_header(req, "tus-resumable");

	if (v && !strcmp(v, TUS_VERSION))
		return 0;
	http_res_error(res, 412, "tus_version", "send Tus-Resumable: 1.0.0", "Tus-Resumable");
	http_res_header(res, "tus-version", TUS_VERSION);
	return -1;
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

/* Upload-Metadata: "key base64,key base64". Known keys: filename (or name),
 * tags (comma separated), new_version_of; field.KEY become fields. Values
 * are decoded at their full length so the file name is judged by
 * utf8_name_check() like on every upload path (a NUL, a long name, a
 * bidirectional override each get their own message). */
static int metadata(const char *h, char filename[DAM_NAME_MAX + 1], json_t *options, struct http_res *res)
{
	json_t *tags = json_array(), *fields = json_object();
	const char *p = h;
	struct dam_err err;
	char *val = NULL;
	int rc = 0;

	filename[0] = '\0';
	dam_err_clear(&err);
	while (p && *p && rc == 0) {
		size_t n = strcspn(p, ","), kl = strcspn(p, " ,"), b64 = kl < n ? n - kl - 1 : 0, vl = 0;
		char key[64];
		if (kl >= sizeof key) {
			rc = -1;
			break;
		}
		memcpy(key, p, kl);
		key[kl] = '\0';
		free(val);
		if (!(val = malloc(b64 / 4 * 3 + 4)) ||
		    (b64 && sodium_base642bin((unsigned char *)val, b64 / 4 * 3 + 3, p + kl + 1, b64, NULL, &vl, NULL,
					      sodium_base64_VARIANT_ORIGINAL) != 0)) {
			rc = -1;
			break;
		}
		val[vl] = '\0';
		if (!strcmp(key, "filename") || (!strcmp(key, "name") && !filename[0])) {
			if (utf8_name_check(val, vl, DAM_NAME_MAX, "the file name", "Upload-Metadata", &err) < 0) {
				rc = -1;
				break;
			}
			memcpy(filename, val, vl + 1);
		} else if (memchr(val, '\0', vl)) {
			dam_err_set(&err, DAM_EINVAL, "Upload-Metadata", "the value of %s contains a NUL byte", key);
			rc = -1;
			break;
		} else if (!strcmp(key, "tags")) {
			for (char *save = NULL, *t = strtok_r(val, ",", &save); t; t = strtok_r(NULL, ",", &save))
				json_array_append_new(tags, json_string(t));
		} else if (!strcmp(key, "new_version_of") || !strcmp(key, "template")) {
			json_object_set_new(options, key, json_string(val));
		} else if (!strncmp(key, "field.", 6)) {
			json_object_set_new(fields, key + 6, json_string(val));
		}
		p += n;
		if (*p == ',')
			p++;
	}
	free(val);
	json_object_set_new(options, "tags", tags);
	json_object_set_new(options, "fields", fields);
	if (rc < 0 && err.code)
		http_res_error(res, 400, "invalid_metadata", err.msg, "Upload-Metadata");
	else if (rc < 0)
		http_res_error(res, 400, "invalid_metadata", "Upload-Metadata must be comma-separated \"key base64value\" pairs",
			       "Upload-Metadata");
	else if (!filename[0])
		rc = -1, http_res_error(res, 400, "invalid_metadata", "Upload-Metadata needs a filename", "Upload-Metadata");
	return rc;
}

HANDLER(h_tus_options)
{
	tus_headers(res);
	http_res_header(res, "tus-version", TUS_VERSION);
	http_res_header(res, "tus-extension", "creation,termination");
	http_res_headerf(res, "tus-max-size", "%llu", (unsigned long long)TUS_MAX_SIZE);
	res->status = 204;
}

HANDLER(h_tus_create)
{
	const char *len_h = http_req_header(req, "upload-length"), *meta = http_req_header(req, "upload-metadata");
	json_t *options = json_object();
	struct upload_info u = { 0 };
	struct dam_err err;
	char filename[DAM_NAME_MAX + 1];
	uint64_t length;

	tus_headers(res);
	if (check_version(req, res) < 0 || !http_allow(req, res, AUTH_ASSET_CREATE, NULL))
		goto out;
	if (http_req_header(req, "upload-defer-length")) {
		http_res_error(res, 400, "unsupported", "Upload-Defer-Length is not supported; send Upload-Length", "Upload-Defer-Length");
		goto out;
	}
	if (parse_u64(len_h, &length) < 0) {
		http_res_error(res, 400, "invalid", "Upload-Length must be the file size in bytes", "Upload-Length");
		goto out;
	}
	if (length > TUS_MAX_SIZE) {
		http_res_error(res, 413, "too_large", "the file is larger than Tus-Max-Size", "Upload-Length");
		goto out;
	}
	if (metadata(meta ? meta : "", filename, options, res) < 0)
		goto out;
	if (upload_create(dam, req->actor.user_id, filename, length, options, &u, &err) < 0) {
		http_res_dam_error(res, &err);
		goto out;
	}
	res->status = 201;
	http_res_headerf(res, "location", "/api/v1/uploads/%s", u.id);
	http_res_header(res, "upload-offset", "0");
out:
	upload_info_release(&u);
	json_decref(options);
}

static void result_headers(struct http_res *res, const json_t *result)
{
	const char *s;

	if (!result)
		return;
	http_res_header(res, "dam-upload-status", json_string_value(json_object_get(result, "status")));
	if ((s = json_string_value(json_object_get(result, "asset_id"))))
		http_res_header(res, "dam-asset-id", s);
	if ((s = json_string_value(json_object_get(result, "duplicate_of"))))
		http_res_header(res, "dam-duplicate-of", s);
}

HANDLER(h_tus_head)
{
	struct upload_info u = { 0 };
	struct dam_err err;

	tus_headers(res);
	if (upload_get(dam, req->params[0], req->actor.user_id, &u, &err) < 0) {
		http_res_dam_error(res, &err);
		return;
	}
	http_res_headerf(res, "upload-offset", "%llu", (unsigned long long)u.offset);
	http_res_headerf(res, "upload-length", "%llu", (unsigned long long)u.length);
	result_headers(res, u.result);
	if (!strcmp(req->method, "GET"))
		http_res_json(res, 200, json_pack("{s:s,s:s,s:I,s:I,s:O?}", "id", u.id, "filename", u.filename, "length",
						  (json_int_t)u.length, "offset", (json_int_t)u.offset, "result", u.result));
	else
		res->status = 200;
	upload_info_release(&u);
}

HANDLER(h_tus_patch)
{
	const char *ct = http_req_header(req, "content-type");
	struct upload_info u = { 0 };
	struct dam_err err;
	uint64_t offset;

	tus_headers(res);
	if (check_version(req, res) < 0)
		return;
	if (!ct || strcmp(ct, "application/offset+octet-stream")) {
		http_res_error(res, 415, "unsupported_media_type", "PATCH bodies must be application/offset+octet-stream", "Content-Type");
		return;
	}
	if (parse_u64(http_req_header(req, "upload-offset"), &offset) < 0) {
		http_res_error(res, 400, "invalid", "Upload-Offset must be a byte offset", "Upload-Offset");
		return;
	}
	if (req->body_len > srv->opts.tus_chunk_max) {
		char m[128];
		snprintf(m, sizeof m, "chunks are limited to %zu bytes", srv->opts.tus_chunk_max);
		http_res_error(res, 413, "too_large", m, NULL);
		return;
	}
	if (upload_append(dam, req->params[0], req->actor.user_id, offset, req->body, req->body_len, &u, &err) < 0) {
		if (err.code == DAM_ECONFLICT)
			http_res_error(res, 409, "offset_mismatch", err.msg, "Upload-Offset");
		else
			http_res_dam_error(res, &err);
		upload_info_release(&u);
		return;
	}
	if (u.result) {
		const char *st = json_string_value(json_object_get(u.result, "status"));
		atomic_fetch_add(&srv->metrics.uploads, 1);
		atomic_fetch_add(&srv->metrics.upload_bytes, u.length);
		if (st && !strcmp(st, "duplicate"))
			atomic_fetch_add(&srv->metrics.duplicates, 1);
	}
	http_res_headerf(res, "upload-offset", "%llu", (unsigned long long)u.offset);
	result_headers(res, u.result);
	res->status = 204;
	upload_info_release(&u);
}

HANDLER(h_tus_delete)
{
	struct dam_err err;

	tus_headers(res);
	if (check_version(req, res) < 0)
		return;
	if (upload_delete(dam, req->params[0], req->actor.user_id, &err) < 0) {
		http_res_dam_error(res, &err);
		return;
	}
	res->status = 204;
}
