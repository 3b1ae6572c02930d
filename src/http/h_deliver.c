/* h_deliver.c - signed delivery URLs (/t/...), channel presets, signed
 * link making, and Deep Zoom tiles for the UI's viewer. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/asset.h"
#include "core/delivery.h"
#include "deliver/deliver.h"
#include "deliver/preset.h"
#include "http/hotcache.h"
#include "http/handlers.h"
#include "util/fsutil.h"
#include "util/timeutil.h"

/* Refusals must not be cached by an edge for long: the next request may
 * be allowed (a version finished processing, a key rotated back). */
static void deliver_error(struct http_res *res, const struct dam_err *err)
{
	http_res_dam_error(res, err);
	http_res_header(res, "cache-control", "no-store");
}

/* A copy of a whole 200 answer for the event loop's hot cache, which then
 * answers the same URL itself until anything in the library changes. */
static void offer_hot(struct dam *dam, const struct http_req *req, struct http_res *res,
		      const struct deliver_result *r)
{
	struct hot_offer *o;

	if (!dam->cfg.hot_cache_mb || strcmp(req->method, "GET") || res->status != 200 || res->nranges ||
	    res->fd < 0 || r->size > HOT_ENTRY_MAX)
		return;
	if (!(o = calloc(1, sizeof *o)) || !(o->body = malloc(r->size ? r->size : 1)) ||
	    fs_pread_full(res->fd, o->body, r->size, 0) != (ssize_t)r->size)
		goto fail; /* the response still goes out from the file */
	o->len = r->size;
	o->vary_accept = r->vary_accept;
	o->max_age = r->max_age;
	o->immutable = r->immutable;
	o->expires = r->expires;
	o->state_ms = r->state_ms;
	res->hot = o;
	return;
fail:
	hot_offer_free(o);
}

HANDLER(h_deliver)
{
	struct deliver_result r;
	char tags[sizeof r.surrogate_key];
	struct dam_err err = { 0 };
	int64_t now = (int64_t)(time_now_ms() / 1000);

	if (!srv->deliver) {
		http_res_error(res, 503, "unavailable", "delivery is not available on this server", NULL);
		return;
	}
	if (deliver_resolve(srv->deliver, dam, req->params[0], req->params[1], req->params[2],
			    http_req_header(req, "accept"), now, &r, &err) < 0) {
		deliver_error(res, &err);
		return;
	}
	/* Varnish/Fastly read Surrogate-Key (space-separated), Cloudflare
	 * Cache-Tag (comma-separated): the same keys, so one purge of the
	 * asset, the signing key or the preset drops every answer made from
	 * it (deliver.h, purge.h). */
	snprintf(tags, sizeof tags, "%s", r.surrogate_key);
	for (char *p = tags; (p = strchr(p, ' ')); p++)
		*p = ',';
	http_res_header(res, "surrogate-key", r.surrogate_key);
	http_res_header(res, "cache-tag", tags);
	http_res_header(res, "x-dam-cache", r.cache_hit ? "hit" : "miss");
	if (r.vary_accept)
		http_res_header(res, "vary", "Accept");
	http_send_fd(req, res, r.fd, r.size, r.etag, r.mime, *r.filename ? r.filename : NULL,
		     (uint64_t)r.last_modified_ms, r.cache_control, true);
	offer_hot(dam, req, res, &r);
}

/* ---- presets ---- */

HANDLER(h_presets_list)
{
	struct dam_err err;
	json_t *list;

	if (!http_allow(req, res, AUTH_ASSET_READ, NULL))
		return;
	if (preset_list(dam, &list, &err) < 0)
		http_res_dam_error(res, &err);
	else
		http_res_json(res, 200, json_pack("{s:o}", "presets", list));
}

HANDLER(h_preset_get)
{
	struct preset p;
	struct dam_err err;

	if (!http_allow(req, res, AUTH_ASSET_READ, NULL))
		return;
	if (preset_get(dam, req->params[0], &p, &err) < 0)
		http_res_dam_error(res, &err);
	else
		http_res_json(res, 200, preset_json(&p));
}

static void put_preset(struct dam *dam, struct http_req *req, struct http_res *res, const char *name,
		       json_t *body)
{
	json_t *spec = json_object_get(body, "spec"), *desc = json_object_get(body, "description");
	json_t *ahead = json_object_get(body, "ahead");
	struct preset p;
	struct dam_err err;
	bool created = false;

	if (!json_is_string(spec) || (desc && !json_is_string(desc)) || (ahead && !json_is_boolean(ahead))) {
		http_res_error(res, 400, "invalid",
			       "expected {\"spec\": string, \"description\": string, \"ahead\": boolean}",
			       !json_is_string(spec) ? "spec" : desc && !json_is_string(desc) ? "description" : "ahead");
		return;
	}
	if (preset_put(dam, name, json_string_value(spec), desc ? json_string_value(desc) : "",
		       ahead ? json_is_true(ahead) : true, &created, &err) < 0 ||
	    preset_get(dam, name, &p, &err) < 0) {
		http_res_dam_error(res, &err);
		return;
	}
	http_res_json(res, created ? 201 : 200, preset_json(&p));
}

HANDLER(h_presets_create)
{
	static const char *const allowed[] = { "name", "spec", "description", "ahead", NULL };
	json_t *body = NULL, *name;

	if (!http_allow(req, res, AUTH_DELIVERY_MANAGE, NULL) || http_json_body(req, res, allowed, &body) < 0)
		return;
	name = json_object_get(body, "name");
	if (!json_is_string(name))
		http_res_error(res, 400, "invalid", "name is required: 1-32 characters of a-z, 0-9 and -", "name");
	else
		put_preset(dam, req, res, json_string_value(name), body);
	json_decref(body);
}

HANDLER(h_preset_put)
{
	static const char *const allowed[] = { "spec", "description", "ahead", NULL };
	json_t *body = NULL;

	if (!http_allow(req, res, AUTH_DELIVERY_MANAGE, NULL) || http_json_body(req, res, allowed, &body) < 0)
		return;
	put_preset(dam, req, res, req->params[0], body);
	json_decref(body);
}

HANDLER(h_preset_delete)
{
	struct dam_err err;

	if (!http_allow(req, res, AUTH_DELIVERY_MANAGE, NULL))
		return;
	if (preset_delete(dam, req->params[0], &err) < 0)
		http_res_dam_error(res, &err);
	else
		res->status = 204;
}

/* ---- links ---- */

/* The origin for links: [delivery] base_url, else the one this client
 * called (so links work as they were reached, e.g. through a tunnel). */
static void link_origin(struct dam *dam, const struct http_req *req, char *out, size_t n)
{
	const char *host = req->authority;

	if (*dam->cfg.base_url || !host || !*host || strpbrk(host, "/\\ @?#"))
		snprintf(out, n, "%s", dam->cfg.base_url);
	else
		snprintf(out, n, "%s://%s", req->tls ? "https" : "http", host);
}

#define LINK_EXPIRES_MAX_S (10LL * 365 * 86400)

/* ?expires=: the same forms as `dam url --expires` (time_parse_future):
 * seconds from now, a duration or a UTC date/time, in the future and at
 * most 10 years ahead. *exp_at = unix seconds, 0 when absent; false after
 * answering 400. */
static bool link_expiry(const struct http_req *req, struct http_res *res, int64_t *exp_at)
{
	char *v = http_req_query(req, "expires");
	uint64_t now_ms = time_now_ms(), at_ms = 0;
	int64_t now = (int64_t)(now_ms / 1000);
	bool ok;

	*exp_at = 0;
	if (!v)
		return true;
	ok = time_parse_future(v, now_ms, &at_ms) == 0 && (int64_t)(at_ms / 1000) > now &&
	     (int64_t)(at_ms / 1000) <= now + LINK_EXPIRES_MAX_S;
	free(v);
	if (!ok) {
		http_res_error(res, 400, "invalid_parameter",
			       "expires must be seconds (3600), a duration (90s, 10m, 2h, 7d, 2w) or a UTC date/time "
			       "(2027-01-31T12:00:00Z), in the future and at most 10 years ahead", "expires");
		return false;
	}
	*exp_at = (int64_t)(at_ms / 1000);
	return true;
}

/* GET /api/v1/assets/{id}/links?preset=&options=&expires=&version= */
HANDLER(h_asset_links)
{
	char id[DAM_ID_LEN + 1], *preset = http_req_query(req, "preset"), *options = http_req_query(req, "options");
	struct strbuf opts = STRBUF_INIT;
	struct dam_err err;
	char *url = NULL, origin[300];
	int64_t exp_at = 0;
	long long version = link_expiry(req, res, &exp_at) ? http_query_int(req, res, "version", 0, 1, 1000000) : -1;
	json_t *warn = NULL;

	if (version < 0)
		goto out;
	if (asset_resolve(dam, req->params[0], id, &err) < 0) {
		http_res_dam_error(res, &err);
		goto out;
	}
	{
		struct auth_object obj = { "asset", id, NULL };
		if (!http_allow(req, res, AUTH_DELIVERY_LINK, &obj))
			goto out;
	}
	if (preset && options) {
		http_res_error(res, 400, "invalid", "give preset or options, not both", "options");
		goto out;
	}
	if (preset)
		strbuf_addf(&opts, "p_%s", preset);
	else if (options)
		strbuf_adds(&opts, options);
	if (version > 0)
		strbuf_addf(&opts, "%sv_%lld", opts.len ? "," : "", version);
	link_origin(dam, req, origin, sizeof origin);
	if (deliver_url(dam, origin, id, opts.len ? opts.buf : "_", exp_at, &url, &err) < 0) {
		http_res_dam_error(res, &err);
		goto out;
	}
	/* a preset link says what the preset falls short of for this asset */
	if (deliver_warnings(dam, id, preset ? preset : "", &warn, &err) < 0) {
		http_res_dam_error(res, &err);
		goto out;
	}
	http_res_json(res, 200, json_pack("{s:s,s:o,s:o}", "url", url, "expires_at",
					  exp_at ? time_json((uint64_t)exp_at * 1000) : json_null(), "warnings",
					  warn));
out:
	free(url);
	free(preset);
	free(options);
	strbuf_release(&opts);
}

/* ---- Deep Zoom tiles ---- */

/* One tile coordinate, s[0..len): "0" to INT_MAX in decimal digits.
 * Fills res and returns false when it is not: 404 when it is not a number
 * at all (no such tile address), 400 when it is one too large to be a tile
 * (sscanf's %d used to wrap 4294967296 to 0 and serve tile 0). */
static bool tile_coord(const char *s, size_t len, const char *what, int *out, struct http_res *res)
{
	long long n;
	int rc = http_parse_int(s, len, 0, INT_MAX, &n);
	char m[128];

	if (rc == DAM_ELIMIT) {
		snprintf(m, sizeof m, "the tile %s must be a whole number from 0 to %d", what, INT_MAX);
		http_res_error(res, 400, "invalid_parameter", m, "tile");
		return false;
	}
	if (rc < 0) {
		http_res_error(res, 404, "not_found", "tiles are addressed as {level}/{col}_{row}.jpg", "tile");
		return false;
	}
	*out = (int)n;
	return true;
}

/* "{level}" and "{col}_{row}.jpg" into numbers; false after answering. */
static bool tile_address(const char *lv, const char *tile, int *level, int *col, int *row, struct http_res *res)
{
	size_t len = strlen(tile);
	const char *us = memchr(tile, '_', len);

	if (!us || len < 4 || strcmp(tile + len - 4, ".jpg")) {
		http_res_error(res, 404, "not_found", "tiles are addressed as {level}/{col}_{row}.jpg", "tile");
		return false;
	}
	return tile_coord(lv, strlen(lv), "level", level, res) &&
	       tile_coord(tile, (size_t)(us - tile), "column", col, res) &&
	       tile_coord(us + 1, (size_t)(tile + len - 4 - (us + 1)), "row", row, res);
}

/* GET /api/v1/assets/{id}/tiles/{level}/{col}_{row}.jpg */
HANDLER(h_asset_tile)
{
	struct delivery_info info;
	struct dam_err err;
	char id[DAM_ID_LEN + 1], etag[128];
	void *data = NULL;
	size_t len = 0;
	int level, col, row;

	if (!tile_address(req->params[1], req->params[2], &level, &col, &row, res))
		return;
	if (asset_resolve(dam, req->params[0], id, &err) < 0 || delivery_load(dam, id, 0, &info, &err) < 0) {
		http_res_dam_error(res, &err);
		return;
	}
	{
		struct auth_object obj = { "asset", id, NULL };
		if (!http_allow(req, res, AUTH_ASSET_READ, &obj))
			return;
	}
	if (!*info.master_key) {
		http_res_error(res, 404, "not_found", "this asset has no zoomable master", "asset");
		return;
	}
	snprintf(etag, sizeof etag, "\"%.16s-%d-%d-%d\"", info.master_key, level, col, row);
	http_res_header(res, "etag", etag);
	http_res_header(res, "cache-control", "private, max-age=86400");
	if (http_req_header(req, "if-none-match") && strstr(http_req_header(req, "if-none-match"), etag)) {
		res->status = 304;
		return;
	}
	if (deliver_tile(dam, info.master_key, level, col, row, &data, &len, &err) < 0) {
		http_res_dam_error(res, &err);
	} else {
		res->status = 200;
		strbuf_add(&res->body, data, len);
		http_res_header(res, "content-type", "image/jpeg");
	}
	free(data);
}
