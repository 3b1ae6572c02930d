/* h_audit.c - the audit trail: the whole trail for administrators, one
 * asset's history for anyone who may read the asset. JSON pages with a
 * keyset cursor, or the whole selection as CSV (Accept: text/csv or
 * ?format=csv) streamed from a temporary file. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/asset.h"
#include "core/audit.h"
#include "http/handlers.h"
#include "util/timeutil.h"

struct audit_params {
	char *actor, *action, *since, *until, *cursor, *format, *limit;
};

static void params_release(struct audit_params *p)
{
	free(p->actor);
	free(p->action);
	free(p->since);
	free(p->until);
	free(p->cursor);
	free(p->format);
	free(p->limit);
}

static int bad(struct http_res *res, const char *field, const char *msg)
{
	http_res_error(res, 400, "invalid_parameter", msg, field);
	return -1;
}

static int parse_time(struct http_res *res, const char *name, const char *s, int64_t *out)
{
	uint64_t ms;

	if (!s)
		return 0;
	if (time_parse(s, &ms) < 0 || ms > INT64_MAX) {
		char m[160];
		snprintf(m, sizeof m, "%s must be a UTC date (2026-12-01), date and time (2026-12-01T08:30:00Z)"
				      " or an age (7d, 12h, 30m)", name);
		return bad(res, name, m);
	}
	*out = ms ? (int64_t)ms : 1;
	return 0;
}

/* Fills f from the query; the strings stay owned by p. -1 after a 400. */
static int parse_filter(const struct http_req *req, struct http_res *res, struct audit_params *p,
			struct audit_filter *f, bool *csv)
{
	const char *accept = http_req_header(req, "accept");
	long long limit;

	p->actor = http_req_query(req, "actor");
	p->action = http_req_query(req, "action");
	p->since = http_req_query(req, "since");
	p->until = http_req_query(req, "until");
	p->cursor = http_req_query(req, "cursor");
	p->format = http_req_query(req, "format");
	p->limit = http_req_query(req, "limit");
	if (p->format && strcmp(p->format, "csv") && strcmp(p->format, "json"))
		return bad(res, "format", "format is csv or json");
	*csv = p->format ? !strcmp(p->format, "csv") : (accept && strstr(accept, "text/csv"));
	f->actor = p->actor && *p->actor ? p->actor : NULL;
	f->action = p->action && *p->action ? p->action : NULL;
	if (parse_time(res, "since", p->since && *p->since ? p->since : NULL, &f->since_ms) < 0 ||
	    parse_time(res, "until", p->until && *p->until ? p->until : NULL, &f->until_ms) < 0)
		return -1;
	if (f->since_ms && f->until_ms && f->since_ms >= f->until_ms)
		return bad(res, "since", "since must be before until");
	if (p->cursor && *p->cursor) {
		char *end;
		errno = 0;
		f->before_seq = strtoll(p->cursor, &end, 10);
		if (errno || *end || f->before_seq <= 0)
			return bad(res, "cursor", "cursor is the \"next\" value of a previous page");
	}
	/* A CSV export is the whole selection unless a limit is given. */
	if (*csv && !p->limit)
		return 0;
	if ((limit = http_query_int(req, res, "limit", 100, 1, 1000)) < 0)
		return -1;
	f->limit = (int)limit;
	return 0;
}

static int add_item(void *ctx, const json_t *row)
{
	return json_array_append(ctx, (json_t *)row) < 0 ? DAM_ENOMEM : 0;
}

static void send_csv(struct dam *dam, struct http_res *res, const struct audit_filter *f, const char *name)
{
	struct dam_err err;
	uint64_t size;
	int fd;

	if (audit_export_csv(dam, f, &fd, &size, NULL, &err) < 0) {
		http_res_dam_error(res, &err);
		return;
	}
	res->fd = fd;
	res->fd_size = size;
	res->status = 200;
	res->content_type = strdup("text/csv; charset=utf-8");
	http_res_header(res, "content-type", "text/csv; charset=utf-8");
	http_res_headerf(res, "content-disposition", "attachment; filename=\"%s.csv\"", name);
	http_res_header(res, "cache-control", "private, no-store");
}

static void send_page(struct dam *dam, struct http_res *res, const struct audit_filter *f)
{
	json_t *items = json_array();
	struct dam_err err;
	int64_t next = 0;
	char cur[24];

	if (audit_query(dam, f, add_item, items, &next, &err) < 0) {
		json_decref(items);
		http_res_dam_error(res, &err);
		return;
	}
	snprintf(cur, sizeof cur, "%" PRId64, next);
	http_res_json(res, 200, json_pack("{s:o,s:o}", "items", items, "next", next ? json_string(cur) : json_null()));
	http_res_header(res, "cache-control", "private, no-store");
}

static void answer(struct dam *dam, const struct http_req *req, struct http_res *res, const char *asset_id,
		   const char *name)
{
	struct audit_params p = { 0 };
	struct audit_filter f = { .asset_id = asset_id };
	bool csv = false;

	if (parse_filter(req, res, &p, &f, &csv) == 0) {
		if (csv)
			send_csv(dam, res, &f, name);
		else
			send_page(dam, res, &f);
	}
	params_release(&p);
}

HANDLER(h_audit_list)
{
	char *asset = NULL;
	char id[DAM_ID_LEN + 1];
	struct dam_err err;

	if (!http_allow(req, res, AUTH_AUDIT_READ, NULL))
		return;
	asset = http_req_query(req, "asset");
	if (asset && *asset && asset_resolve(dam, asset, id, &err) < 0) {
		http_res_dam_error(res, &err);
		goto out;
	}
	answer(dam, req, res, asset && *asset ? id : NULL, "audit");
out:
	free(asset);
}

HANDLER(h_asset_audit)
{
	char id[DAM_ID_LEN + 1], name[DAM_ID_LEN + 16];
	struct dam_err err;

	if (asset_resolve(dam, req->params[0], id, &err) < 0) {
		http_res_dam_error(res, &err);
		return;
	}
	{
		struct auth_object obj = { "asset", id, NULL };
		if (!http_allow(req, res, AUTH_ASSET_READ, &obj))
			return;
	}
	snprintf(name, sizeof name, "audit-%s", id);
	answer(dam, req, res, id, name);
}
