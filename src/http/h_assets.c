/* h_assets.c - list, read, change, delete and restore assets; versions and
 * renditions as JSON. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/asset.h"
#include "core/delivery.h"
#include "deliver/deliver.h"
#include "http/handlers.h"
#include "util/timeutil.h"

/* Loads the asset named by the first path parameter and checks the actor
 * may do `action` on it. NULL (res filled) when not. */
static json_t *load_asset(struct dam *dam, struct http_req *req, struct http_res *res, enum auth_action action)
{
	struct dam_err err;
	json_t *a;

	if (asset_get(dam, req->params[0], &a, &err) < 0) {
		http_res_dam_error(res, &err);
		return NULL;
	}
	{
		struct auth_object obj = { "asset", json_string_value(json_object_get(a, "id")),
					   json_string_value(json_object_get(a, "created_by")) };
		if (!http_allow(req, res, action, &obj)) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static int parse_time_param(struct http_req *req, struct http_res *res, const char *name, uint64_t *out)
{
	char *v = http_req_query(req, name);
	int rc = 0;

	if (v && time_parse(v, out) < 0) {
		char m[160];
		snprintf(m, sizeof m, "%s must be a date like 2026-01-31 or 2026-01-31T10:00:00Z", name);
		http_res_error(res, 400, "invalid_parameter", m, name);
		rc = -1;
	}
	free(v);
	return rc;
}

/* The cursor is the last id of the page, base64url-encoded so clients treat
 * it as opaque. */
static void encode_cursor(const char *id, char out[64])
{
	sodium_bin2base64(out, 64, (const unsigned char *)id, strlen(id), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static int decode_cursor(const char *c, char out[DAM_ID_LEN + 1])
{
	size_t n = 0;

	if (sodium_base642bin((unsigned char *)out, DAM_ID_LEN, c, strlen(c), NULL, &n, NULL,
			      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 || n != DAM_ID_LEN)
		return -1;
	out[DAM_ID_LEN] = '\0';
	return id_valid(out) ? 0 : -1;
}

HANDLER(h_assets_list)
{
	struct asset_filter f = { 0 };
	char *kind = http_req_query(req, "type"), *tag = http_req_query(req, "tag");
	char *field = http_req_query(req, "field"), *cursor = http_req_query(req, "cursor");
	char *deleted = http_req_query(req, "deleted"), after[DAM_ID_LEN + 1], next[64];
	struct dam_err err;
	json_t *items;
	long long limit;

	if (!http_allow(req, res, AUTH_ASSET_READ, NULL))
		goto out;
	if ((limit = http_query_int(req, res, "limit", 50, 1, 1000)) < 0)
		goto out;
	f.limit = (int)limit;
	f.kind = kind;
	f.tag = tag;
	f.deleted = deleted && !strcmp(deleted, "true");
	if (kind && strcmp(kind, "image") && strcmp(kind, "video") && strcmp(kind, "audio") &&
	    strcmp(kind, "document") && strcmp(kind, "other")) {
		http_res_error(res, 400, "invalid_parameter", "type is one of image, video, audio, document, other", "type");
		goto out;
	}
	if (field) {
		char *eq = strchr(field, '=');
		if (!eq) {
			http_res_error(res, 400, "invalid_parameter", "field wants KEY=VALUE", "field");
			goto out;
		}
		*eq = '\0';
		f.field_key = field;
		f.field_value = eq + 1;
	}
	if (parse_time_param(req, res, "created_after", &f.since_ms) < 0 ||
	    parse_time_param(req, res, "created_before", &f.before_ms) < 0 ||
	    parse_time_param(req, res, "updated_after", &f.updated_since_ms) < 0 ||
	    parse_time_param(req, res, "updated_before", &f.updated_before_ms) < 0)
		goto out;
	if (cursor) {
		if (decode_cursor(cursor, after) < 0) {
			http_res_error(res, 400, "invalid_parameter", "cursor is not one this server gave out", "cursor");
			goto out;
		}
		f.after_id = after;
	}
	if (asset_list(dam, &f, &items, &err) < 0) {
		http_res_dam_error(res, &err);
		goto out;
	}
	if (json_array_size(items) == (size_t)f.limit)
		encode_cursor(json_string_value(json_object_get(json_array_get(items, json_array_size(items) - 1), "id")), next);
	http_res_json(res, 200, json_pack("{s:o,s:o}", "items", items, "next_cursor",
					  json_array_size(items) == (size_t)f.limit ? json_string(next) : json_null()));
out:
	free(kind);
	free(tag);
	free(field);
	free(cursor);
	free(deleted);
}

static void etag_header(struct dam *dam, struct http_res *res, const char *id)
{
	char etag[ASSET_ETAG_LEN + 1];

	if (asset_etag(dam, id, etag, NULL) == 0)
		http_res_headerf(res, "etag", "\"%s\"", etag);
}

HANDLER(h_asset_get)
{
	char etag[ASSET_ETAG_LEN + 3];
	struct asset_doc d;
	struct dam_err err;

	if (asset_doc_get(dam, req->params[0], &d, &err) < 0) {
		http_res_dam_error(res, &err);
		return;
	}
	{
		struct auth_object obj = { "asset", d.id, d.created_by[0] ? d.created_by : NULL };
		if (!http_allow(req, res, AUTH_ASSET_READ, &obj))
			return;
	}
	snprintf(etag, sizeof etag, "\"%s\"", d.etag);
	http_res_header(res, "etag", etag);
	if (http_req_etag_matches(req, etag)) {
		res->status = 304;
		return;
	}
	http_res_json_text(res, 200, d.json, d.len);
	http_res_header(res, "cache-control", "private, no-cache");
}

/* Collects {"fields":{k:v|null}, "tags":{"add":[],"remove":[]}} into c. */
static int parse_change(json_t *body, struct asset_change *c, const char **keys, const char **vals,
			const char **add, const char **rm, struct http_res *res)
{
	json_t *fields = json_object_get(body, "fields"), *tags = json_object_get(body, "tags"), *v;
	const char *k;
	size_t i;

	if (fields && !json_is_object(fields))
		return http_res_error(res, 400, "invalid", "fields must be an object of strings (null removes)", "fields"), -1;
	json_object_foreach(fields, k, v) {
		if (c->nfields == 256)
			return http_res_error(res, 400, "invalid", "at most 256 fields per request", "fields"), -1;
		if (!json_is_string(v) && !json_is_null(v)) {
			char m[128];
			snprintf(m, sizeof m, "field %.60s must be a string or null", k);
			return http_res_error(res, 400, "invalid", m, k), -1;
		}
		keys[c->nfields] = k;
		vals[c->nfields++] = json_is_null(v) ? "" : json_string_value(v);
	}
	if (tags && !json_is_object(tags))
		return http_res_error(res, 400, "invalid", "tags must be {\"add\":[...],\"remove\":[...]}", "tags"), -1;
	for (int which = 0; which < 2 && tags; which++) {
		json_t *arr = json_object_get(tags, which ? "remove" : "add");
		const char *key;
		json_object_foreach(tags, key, v)
			if (strcmp(key, "add") && strcmp(key, "remove"))
				return http_res_error(res, 400, "unknown_field", "tags takes only add and remove", "tags"), -1;
		if (arr && !json_is_array(arr))
			return http_res_error(res, 400, "invalid", "tags.add and tags.remove must be arrays of strings", "tags"), -1;
		json_array_foreach(arr, i, v) {
			if (!json_is_string(v) || i >= 256)
				return http_res_error(res, 400, "invalid", "tags must be strings (at most 256)", "tags"), -1;
			if (which)
				rm[c->nremove++] = json_string_value(v);
			else
				add[c->nadd++] = json_string_value(v);
		}
	}
	c->keys = keys;
	c->values = vals;
	c->add = add;
	c->remove = rm;
	return 0;
}

/* "focal": {"x": 0..1, "y": 0..1} sets the point every crop keeps; null
 * clears it. Setting it is a publishing decision (AUTH_DELIVERY_LINK). */
static int parse_focal(const struct http_req *req, struct http_res *res, const json_t *f, double *x, double *y)
{
	const json_t *jx = json_object_get(f, "x"), *jy = json_object_get(f, "y");

	if (!f)
		return 0;
	if (!http_allow(req, res, AUTH_DELIVERY_LINK, NULL))
		return -1;
	if (json_is_null(f))
		return 0;
	if (!json_is_number(jx) || !json_is_number(jy) || json_object_size(f) != 2 || json_number_value(jx) < 0 ||
	    json_number_value(jx) > 1 || json_number_value(jy) < 0 || json_number_value(jy) > 1) {
		http_res_error(res, 400, "invalid", "focal must be {\"x\": 0..1, \"y\": 0..1} or null", "focal");
		return -1;
	}
	*x = json_number_value(jx);
	*y = json_number_value(jy);
	return 0;
}

HANDLER(h_asset_patch)
{
	static const char *const allowed[] = { "fields", "tags", "focal", NULL };
	const char *keys[256], *vals[256], *add[256], *rm[256];
	struct asset_change c = { 0 };
	double fx = -1, fy = -1;
	const char *if_match = http_req_header(req, "if-match");
	char match[ASSET_ETAG_LEN + 1] = "";
	struct dam_err err;
	json_t *a, *body = NULL;

	if (!(a = load_asset(dam, req, res, AUTH_ASSET_EDIT)))
		return;
	if (http_json_body(req, res, allowed, &body) < 0 || parse_change(body, &c, keys, vals, add, rm, res) < 0 ||
	    parse_focal(req, res, json_object_get(body, "focal"), &fx, &fy) < 0)
		goto out;
	if (if_match) {
		size_t n = strlen(if_match);
		if (!strcmp(if_match, "*"))
			snprintf(match, sizeof match, "*");
		else if (n == ASSET_ETAG_LEN + 2 && if_match[0] == '"' && if_match[n - 1] == '"')
			snprintf(match, sizeof match, "%.*s", ASSET_ETAG_LEN, if_match + 1);
		else
			snprintf(match, sizeof match, "stale");
	}
	if (asset_patch(dam, json_string_value(json_object_get(a, "id")), &c, if_match ? match : NULL, &err) < 0) {
		if (err.code == DAM_ECONFLICT && !strcmp(err.field, "If-Match"))
			http_res_error(res, 412, "precondition_failed", err.msg, "If-Match");
		else
			http_res_dam_error(res, &err);
		goto out;
	}
	if (json_object_get(body, "focal") &&
	    delivery_set_focal(dam, json_string_value(json_object_get(a, "id")), fx, fy, &err) < 0) {
		http_res_dam_error(res, &err);
		goto out;
	}
	json_decref(a);
	a = NULL;
	if (asset_get(dam, req->params[0], &a, &err) < 0) {
		http_res_dam_error(res, &err);
		goto out;
	}
	etag_header(dam, res, req->params[0]);
	http_res_json(res, 200, json_incref(a));
out:
	json_decref(a);
	json_decref(body);
}

static void set_deleted(struct dam *dam, struct http_req *req, struct http_res *res, bool del)
{
	struct dam_err err;
	json_t *a = load_asset(dam, req, res, AUTH_ASSET_DELETE);
	const char *id = a ? json_string_value(json_object_get(a, "id")) : NULL;

	if (!a)
		return;
	if ((del ? asset_delete : asset_restore)(dam, id, &err) < 0) {
		http_res_dam_error(res, &err);
	} else if (del) {
		res->status = 204;
	} else {
		json_decref(a);
		a = NULL;
		if (asset_get(dam, req->params[0], &a, &err) < 0)
			http_res_dam_error(res, &err);
		else
			http_res_json(res, 200, json_incref(a));
	}
	json_decref(a);
}

HANDLER(h_asset_delete)
{
	set_deleted(dam, req, res, true);
}

HANDLER(h_asset_restore)
{
	set_deleted(dam, req, res, false);
}

HANDLER(h_versions_list)
{
	json_t *a = load_asset(dam, req, res, AUTH_ASSET_READ);

	if (a)
		http_res_json(res, 200, json_pack("{s:O}", "items", json_object_get(a, "versions")));
	json_decref(a);
}

/* The version with the number in params[1], or NULL with 404. */
static json_t *find_version(json_t *a, struct http_req *req, struct http_res *res)
{
	char *end;
	long n = strtol(req->params[1], &end, 10);
	json_t *v;
	size_t i;

	json_array_foreach(json_object_get(a, "versions"), i, v)
		if (!*end && json_integer_value(json_object_get(v, "number")) == n)
			return v;
	http_res_error(res, 404, "not_found", "this asset has no such version", "number");
	return NULL;
}

HANDLER(h_version_get)
{
	json_t *a = load_asset(dam, req, res, AUTH_ASSET_READ), *v;

	if (a && (v = find_version(a, req, res)))
		http_res_json(res, 200, json_incref(v));
	json_decref(a);
}

/* The current version's renditions, and the delivery warnings of its
 * master (deliver_warnings: too small for a channel, enlarged, refused). */
HANDLER(h_renditions_list)
{
	json_t *a = load_asset(dam, req, res, AUTH_ASSET_READ), *v, *warn = NULL;
	struct dam_err err;
	const char *cur;
	size_t i;

	if (!a)
		return;
	if (deliver_warnings(dam, json_string_value(json_object_get(a, "id")), NULL, &warn, &err) < 0) {
		http_res_dam_error(res, &err);
		goto out;
	}
	cur = json_string_value(json_object_get(a, "current_version_id"));
	json_array_foreach(json_object_get(a, "versions"), i, v)
		if (cur && !strcmp(json_string_value(json_object_get(v, "id")), cur)) {
			http_res_json(res, 200, json_pack("{s:O,s:O}", "items", json_object_get(v, "renditions"),
							  "warnings", warn));
			break;
		}
	if (!res->body.len)
		http_res_json(res, 200, json_pack("{s:[],s:O}", "items", "warnings", warn));
out:
	json_decref(warn);
	json_decref(a);
}
