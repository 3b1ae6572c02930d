/* h_common.c - helpers shared by handlers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/asset.h"
#include "http/handlers.h"
#include "util/utf8.h"

int http_json_body(const struct http_req *req, struct http_res *res, const char *const *allowed, json_t **out)
{
	json_error_t je;
	json_t *j;
	const char *ct = http_req_header(req, "content-type");
	const char *key;
	json_t *v;

	*out = NULL;
	if (ct && strncasecmp(ct, "application/json", 16)) {
		http_res_error(res, 415, "unsupported_media_type", "send the body as application/json", "Content-Type");
		return -1;
	}
	if (!req->body || !req->body_len) {
		http_res_error(res, 400, "invalid_json", "a JSON object body is required", NULL);
		return -1;
	}
	if (!utf8_valid(req->body, req->body_len)) {
		http_res_error(res, 400, "invalid_json", "the body is not valid UTF-8", NULL);
		return -1;
	}
	j = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &je);
	if (!j) {
		char m[300];
		snprintf(m, sizeof m, "the body is not valid JSON: %s (line %d, column %d)", je.text, je.line, je.column);
		http_res_error(res, 400, "invalid_json", m, NULL);
		return -1;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		http_res_error(res, 400, "invalid_json", "the body must be a JSON object", NULL);
		return -1;
	}
	json_object_foreach(j, key, v) {
		bool ok = false;
		for (int i = 0; allowed && allowed[i]; i++)
			ok = ok || !strcmp(allowed[i], key);
		if (!ok) {
			char m[200];
			snprintf(m, sizeof m, "unknown field \"%.60s\"", key);
			http_res_error(res, 400, "unknown_field", m, key);
			json_decref(j);
			return -1;
		}
	}
	*out = j;
	return 0;
}

bool http_allow(const struct http_req *req, struct http_res *res, enum auth_action action,
		const struct auth_object *obj)
{
	if (auth_can(&req->actor, action, obj))
		return true;
	http_res_error(res, 403, "forbidden", "your role does not allow this", NULL);
	return false;
}

bool http_allow_new_version(struct dam *dam, const struct http_req *req, struct http_res *res,
			    char id[DAM_ID_LEN + 1])
{
	struct auth_object obj = { "asset", id, NULL };
	struct dam_err err;
	json_t *a;
	bool ok;

	if (asset_resolve(dam, req->params[0], id, &err) < 0 || asset_get(dam, id, &a, &err) < 0) {
		http_res_dam_error(res, &err);
		return false;
	}
	obj.created_by = json_string_value(json_object_get(a, "created_by"));
	ok = auth_can(&req->actor, AUTH_ASSET_CREATE, &obj) && auth_can(&req->actor, AUTH_ASSET_EDIT, &obj);
	json_decref(a);
	if (!ok)
		http_res_error(res, 403, "forbidden", "your role does not allow adding versions to this asset", NULL);
	return ok;
}

int http_parse_int(const char *s, size_t len, long long lo, long long hi, long long *out)
{
	long long n = 0;
	bool big = false;

	if (len == 0)
		return DAM_EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return DAM_EINVAL;
		if (!big && n > (hi - (s[i] - '0')) / 10)
			big = true; /* past hi: keep checking the rest are digits */
		else if (!big)
			n = n * 10 + (s[i] - '0');
	}
	if (big || n < lo || n > hi)
		return DAM_ELIMIT;
	*out = n;
	return 0;
}

int http_query_str(const struct http_req *req, struct http_res *res, const char *name, char **out)
{
	char m[160];
	int rc = http_req_query_get(req, name, out);

	if (rc >= 0)
		return 0;
	if (rc == HTTP_QUERY_NUL)
		snprintf(m, sizeof m, "%s contains a NUL byte (%%00), which no %s may hold", name, name);
	else
		snprintf(m, sizeof m, "%s has a malformed percent-escape (%% must be followed by two hex digits)", name);
	http_res_error(res, 400, !strcmp(name, "q") ? "invalid_query" : "invalid_parameter", m, name);
	return -1;
}

long long http_query_int(const struct http_req *req, struct http_res *res, const char *name, long long def,
			 long long lo, long long hi)
{
	char *v, *end;
	long long n;

	if (http_query_str(req, res, name, &v) < 0)
		return -1;
	if (!v)
		return def;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno || end == v || *end || n < lo || n > hi) {
		char m[160];
		snprintf(m, sizeof m, "%s must be a whole number from %lld to %lld", name, lo, hi);
		http_res_error(res, 400, "invalid_parameter", m, name);
		n = -1;
	}
	free(v);
	return n;
}
