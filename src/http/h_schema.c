/* h_schema.c - the metadata schema over HTTP: field definitions,
 * vocabularies, templates, file-name patterns, languages, the incomplete
 * report and bulk edits. Reading is for everyone signed in; changing the
 * schema is for administrators; bulk edits need the edit right. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/asset.h"
#include "core/fielddef.h"
#include "core/namepattern.h"
#include "core/template.h"
#include "core/vocab.h"
#include "http/handlers.h"

#define LIST_MAX 256

static void send(struct http_res *res, int rc, const struct dam_err *err, int status, json_t *ok)
{
	if (rc < 0) {
		json_decref(ok);
		http_res_dam_error(res, err);
	} else if (status == 204) {
		json_decref(ok);
		res->status = 204;
	} else {
		http_res_json(res, status, ok);
	}
}

/* Strings of a JSON array into out (borrowed); -1 when not all strings. */
static int strings(const json_t *arr, const char **out, int max)
{
	const json_t *v;
	size_t i;
	int n = 0;

	if (!arr)
		return 0;
	if (!json_is_array(arr) || json_array_size(arr) > (size_t)max)
		return -1;
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v))
			return -1;
		out[n++] = json_string_value(v);
	}
	return n;
}

/* Keys and string values of a JSON object; -1 when a value is not a string. */
static int pairs(const json_t *obj, const char **keys, const char **vals, int max)
{
	const char *k;
	json_t *v;
	int n = 0;

	if (!obj)
		return 0;
	if (!json_is_object(obj) || json_object_size(obj) > (size_t)max)
		return -1;
	json_object_foreach((json_t *)obj, k, v) {
		if (!json_is_string(v))
			return -1;
		keys[n] = k;
		vals[n++] = json_string_value(v);
	}
	return n;
}

HANDLER(h_fields_list)
{
	struct dam_err err;
	json_t *out = NULL;
	int rc = fielddef_list(dam, &out, &err);

	send(res, rc, &err, 200, rc < 0 ? NULL : json_pack("{s:o}", "items", out));
}

/* A field definition from a JSON body into d (strings borrowed from body,
 * labels into lk/lv of 64); key: the path's, or NULL to read the body's.
 * Answers 400 and returns -1 when the body does not describe one. */
static int def_from_json(struct http_res *res, json_t *body, const char *key, struct fielddef *d,
			 const char **lk, const char **lv)
{
	const char *bkey = json_string_value(json_object_get(body, "key"));
	struct dam_err err;
	int n;

	d->key = key ? key : bkey;
	if (key && json_object_get(body, "key") && (!bkey || strcmp(bkey, key))) {
		http_res_error(res, 400, "invalid", "key is the one in the path; a field cannot be renamed", "key");
		return -1;
	}
	if (!d->key || !json_is_string(json_object_get(body, "type")) ||
	    field_type_parse(json_string_value(json_object_get(body, "type")), &d->type, &err) < 0 ||
	    (n = pairs(json_object_get(body, "labels"), lk, lv, 64)) < 0) {
		http_res_error(res, 400, "invalid",
			       "key and type are required; type is text, long_text, number, date, boolean, choice, multichoice,"
			       " url or person; labels is {lang: text}", d->key ? "type" : "key");
		return -1;
	}
	d->label_langs = lk;
	d->label_texts = lv;
	d->nlabels = n;
	d->help = json_string_value(json_object_get(body, "help"));
	d->default_value = json_string_value(json_object_get(body, "default"));
	d->vocab = json_string_value(json_object_get(body, "vocab"));
	d->required = json_is_true(json_object_get(body, "required"));
	d->searchable = !json_is_false(json_object_get(body, "searchable"));
	d->facetable = json_is_true(json_object_get(body, "facetable"));
	d->multilang = json_is_true(json_object_get(body, "multilang"));
	return 0;
}

static const char *const def_fields[] = { "key", "type", "labels", "help", "default", "vocab", "required",
					   "searchable", "facetable", "multilang", NULL };

/* POST /fields (key in the body, 201) and PUT /fields/{key} (200): the
 * definition as the server now holds it. */
static void def_save(struct dam *dam, struct http_req *req, struct http_res *res, const char *key)
{
	const char *lk[64], *lv[64];
	struct fielddef d = { 0 };
	struct dam_err err;
	json_t *body, *out = NULL;
	int rc;

	if (!http_allow(req, res, AUTH_SCHEMA_MANAGE, NULL) || http_json_body(req, res, def_fields, &body) < 0)
		return;
	if (def_from_json(res, body, key, &d, lk, lv) == 0) {
		rc = key ? fielddef_set(dam, &d, &err) : fielddef_add(dam, &d, &err);
		if (rc == 0)
			rc = fielddef_get(dam, d.key, &out, &err);
		send(res, rc, &err, key ? 200 : 201, out);
	}
	json_decref(body);
}

HANDLER(h_fields_create)
{
	def_save(dam, req, res, NULL);
}

HANDLER(h_field_put)
{
	def_save(dam, req, res, req->params[0]);
}

HANDLER(h_field_delete)
{
	struct dam_err err;

	if (http_allow(req, res, AUTH_SCHEMA_MANAGE, NULL))
		send(res, fielddef_remove(dam, req->params[0], &err), &err, 204, NULL);
}

HANDLER(h_vocabs_list)
{
	struct dam_err err;
	json_t *out = NULL;
	int rc = vocab_list(dam, &out, &err);

	send(res, rc, &err, 200, rc < 0 ? NULL : json_pack("{s:o}", "items", out));
}

HANDLER(h_vocabs_create)
{
	static const char *const allowed[] = { "name", NULL };
	struct dam_err err;
	json_t *body;
	const char *name;

	if (!http_allow(req, res, AUTH_SCHEMA_MANAGE, NULL) || http_json_body(req, res, allowed, &body) < 0)
		return;
	if (!(name = json_string_value(json_object_get(body, "name"))))
		http_res_error(res, 400, "invalid", "name (a string) is required", "name");
	else
		send(res, vocab_add(dam, name, &err), &err, 201, json_pack("{s:s}", "name", name));
	json_decref(body);
}

HANDLER(h_vocab_get)
{
	struct dam_err err;
	json_t *out = NULL;
	int rc = vocab_get(dam, req->params[0], &out, &err);

	send(res, rc, &err, 200, out);
}

HANDLER(h_vocab_term_put)
{
	static const char *const allowed[] = { "parent", "synonyms", "labels", NULL };
	const char *syn[LIST_MAX], *lk[64], *lv[64];
	struct dam_err err;
	json_t *body, *out = NULL;
	int nsyn, nl, rc;

	if (!http_allow(req, res, AUTH_SCHEMA_MANAGE, NULL) || http_json_body(req, res, allowed, &body) < 0)
		return;
	if ((nsyn = strings(json_object_get(body, "synonyms"), syn, LIST_MAX)) < 0 ||
	    (nl = pairs(json_object_get(body, "labels"), lk, lv, 64)) < 0 ||
	    (json_object_get(body, "parent") && !json_is_string(json_object_get(body, "parent")) &&
	     !json_is_null(json_object_get(body, "parent")))) {
		http_res_error(res, 400, "invalid", "parent is a term or null, synonyms an array of strings, labels {lang: text}", NULL);
		json_decref(body);
		return;
	}
	rc = vocab_term_set(dam, req->params[0], req->params[1], json_string_value(json_object_get(body, "parent")), syn,
			    nsyn, lk, lv, nl, &err);
	if (rc == 0)
		rc = vocab_get(dam, req->params[0], &out, &err);
	send(res, rc, &err, 200, out);
	json_decref(body);
}

HANDLER(h_vocab_term_patch)
{
	static const char *const allowed[] = { "term", "parent", "synonyms", "labels", NULL };
	const char *syn[LIST_MAX], *lk[64], *lv[64];
	struct vocab_term t = { .nsyn = -1, .nlabels = -1 };
	struct dam_err err;
	json_t *body, *out = NULL, *parent, *text;
	int rc;

	if (!http_allow(req, res, AUTH_SCHEMA_MANAGE, NULL) || http_json_body(req, res, allowed, &body) < 0)
		return;
	parent = json_object_get(body, "parent");
	text = json_object_get(body, "term");
	if ((json_object_get(body, "synonyms") && (t.nsyn = strings(json_object_get(body, "synonyms"), syn, LIST_MAX)) < 0) ||
	    (json_object_get(body, "labels") && (t.nlabels = pairs(json_object_get(body, "labels"), lk, lv, 64)) < 0) ||
	    (parent && !json_is_string(parent) && !json_is_null(parent)) || (text && !json_is_string(text))) {
		http_res_error(res, 400, "invalid",
			       "term is the new text, parent a term or null, synonyms an array of strings, labels {lang: text}", NULL);
		json_decref(body);
		return;
	}
	t.term = json_string_value(text);
	t.parent = json_string_value(parent);
	t.keep_parent = !parent;
	t.synonyms = syn;
	t.label_langs = lk;
	t.label_texts = lv;
	rc = vocab_term_edit(dam, req->params[0], req->params[1], &t, &err);
	if (rc == 0)
		rc = vocab_get(dam, req->params[0], &out, &err);
	send(res, rc, &err, 200, out);
	json_decref(body);
}

HANDLER(h_templates_list)
{
	struct dam_err err;
	json_t *out = NULL;
	int rc = template_list(dam, &out, &err);

	send(res, rc, &err, 200, rc < 0 ? NULL : json_pack("{s:o}", "items", out));
}

HANDLER(h_templates_create)
{
	static const char *const allowed[] = { "name", "match", "fields", "tags", NULL };
	const char *keys[LIST_MAX], *vals[LIST_MAX], *tags[LIST_MAX];
	struct template_def d = { 0 };
	struct dam_err err;
	json_t *body, *out = NULL;
	int rc;

	if (!http_allow(req, res, AUTH_SCHEMA_MANAGE, NULL) || http_json_body(req, res, allowed, &body) < 0)
		return;
	d.name = json_string_value(json_object_get(body, "name"));
	d.match = json_string_value(json_object_get(body, "match"));
	if (!d.name || (d.nfields = pairs(json_object_get(body, "fields"), keys, vals, LIST_MAX)) < 0 ||
	    (d.ntags = strings(json_object_get(body, "tags"), tags, LIST_MAX)) < 0) {
		http_res_error(res, 400, "invalid", "name is required; fields is {key: value}, tags an array of strings", NULL);
		json_decref(body);
		return;
	}
	d.keys = keys;
	d.values = vals;
	d.tags = tags;
	rc = template_add(dam, &d, &err);
	if (rc == 0)
		rc = template_get(dam, d.name, &out, &err);
	send(res, rc, &err, 201, out);
	json_decref(body);
}

HANDLER(h_template_delete)
{
	struct dam_err err;

	if (http_allow(req, res, AUTH_SCHEMA_MANAGE, NULL))
		send(res, template_remove(dam, req->params[0], &err), &err, 204, NULL);
}

/* Resolves the ids of a bulk request and checks the edit right on each. */
static int bulk_ids(struct dam *dam, struct http_req *req, struct http_res *res, const json_t *arr,
		    char (*ids)[DAM_ID_LEN + 1], const char **ptrs)
{
	struct dam_err err;
	const json_t *v;
	size_t i;
	int n = 0;

	if (!json_is_array(arr) || !json_array_size(arr) || json_array_size(arr) > 1000) {
		http_res_error(res, 400, "invalid", "ids must be an array of 1-1000 asset ids", "ids");
		return -1;
	}
	json_array_foreach(arr, i, v) {
		json_t *a;
		if (!json_is_string(v) || asset_resolve(dam, json_string_value(v), ids[n], &err) < 0 ||
		    asset_get(dam, ids[n], &a, &err) < 0) {
			char m[160];
			snprintf(m, sizeof m, "ids[%zu] is not an asset", i);
			http_res_error(res, json_is_string(v) ? 404 : 400, "not_found", m, "ids");
			return -1;
		}
		struct auth_object obj = { "asset", ids[n], json_string_value(json_object_get(a, "created_by")) };
		bool ok = auth_can(&req->actor, AUTH_ASSET_EDIT, &obj);
		json_decref(a);
		if (!ok) {
			http_res_error(res, 403, "forbidden", "your role does not allow editing one of these assets", "ids");
			return -1;
		}
		ptrs[n] = ids[n];
		n++;
	}
	return n;
}

HANDLER(h_templates_apply)
{
	static const char *const allowed[] = { "ids", NULL };
	static __thread char ids[1000][DAM_ID_LEN + 1];
	const char *ptrs[1000];
	struct dam_err err;
	json_t *body;
	int n, rc;

	if (http_json_body(req, res, allowed, &body) < 0)
		return;
	if ((n = bulk_ids(dam, req, res, json_object_get(body, "ids"), ids, ptrs)) >= 0) {
		rc = template_apply_bulk(dam, req->params[0], ptrs, n, &err);
		send(res, rc, &err, 200, json_pack("{s:i}", "changed", rc < 0 ? 0 : rc));
	}
	json_decref(body);
}

HANDLER(h_assets_bulk)
{
	static const char *const allowed[] = { "ids", "fields", "tags", NULL };
	static __thread char ids[1000][DAM_ID_LEN + 1];
	const char *ptrs[1000], *keys[LIST_MAX], *vals[LIST_MAX], *add[LIST_MAX], *rm[LIST_MAX];
	struct asset_change c = { 0 };
	struct dam_err err;
	json_t *body, *tags;
	int n, changed = 0, rc = 0;

	if (http_json_body(req, res, allowed, &body) < 0)
		return;
	tags = json_object_get(body, "tags");
	if ((c.nfields = pairs(json_object_get(body, "fields"), keys, vals, LIST_MAX)) < 0 ||
	    (tags && !json_is_object(tags)) || (c.nadd = strings(json_object_get(tags, "add"), add, LIST_MAX)) < 0 ||
	    (c.nremove = strings(json_object_get(tags, "remove"), rm, LIST_MAX)) < 0) {
		http_res_error(res, 400, "invalid", "fields is {key: value} (\"\" removes), tags {add: [], remove: []}", NULL);
		goto out;
	}
	c.keys = keys;
	c.values = vals;
	c.add = add;
	c.remove = rm;
	if ((n = bulk_ids(dam, req, res, json_object_get(body, "ids"), ids, ptrs)) < 0)
		goto out;
	/* Validate once on the first asset, so a bad value refuses the whole
	 * request before anything changes. */
	if (c.nfields && (rc = fielddef_validate_all(dam, keys, vals, c.nfields, &err)) < 0) {
		http_res_dam_error(res, &err);
		goto out;
	}
	for (int i = 0; i < n && rc >= 0; i++)
		if ((rc = asset_patch(dam, ptrs[i], &c, NULL, &err)) == 0)
			changed++;
	send(res, rc, &err, 200, json_pack("{s:i}", "changed", changed));
out:
	json_decref(body);
}

HANDLER(h_patterns_list)
{
	struct dam_err err;
	json_t *out = NULL;
	int rc = namepattern_list(dam, &out, &err);

	send(res, rc, &err, 200, rc < 0 ? NULL : json_pack("{s:o}", "items", out));
}

HANDLER(h_patterns_create)
{
	static const char *const allowed[] = { "pattern", NULL };
	struct dam_err err;
	json_t *body;
	const char *p;

	if (!http_allow(req, res, AUTH_SCHEMA_MANAGE, NULL) || http_json_body(req, res, allowed, &body) < 0)
		return;
	if (!(p = json_string_value(json_object_get(body, "pattern"))))
		http_res_error(res, 400, "invalid", "pattern (a string such as {sku}_{view}_{n}.{ext}) is required", "pattern");
	else
		send(res, namepattern_add(dam, p, &err), &err, 201, json_pack("{s:s}", "pattern", p));
	json_decref(body);
}

HANDLER(h_languages_get)
{
	struct dam_err err;
	json_t *out = NULL;
	int rc = fielddef_languages(dam, &out, &err);

	send(res, rc, &err, 200, rc < 0 ? NULL : json_pack("{s:o}", "languages", out));
}

HANDLER(h_languages_put)
{
	static const char *const allowed[] = { "languages", NULL };
	const char *langs[32];
	struct strbuf csv = STRBUF_INIT;
	struct dam_err err;
	json_t *body, *out = NULL;
	int n, rc;

	if (!http_allow(req, res, AUTH_SCHEMA_MANAGE, NULL) || http_json_body(req, res, allowed, &body) < 0)
		return;
	if ((n = strings(json_object_get(body, "languages"), langs, 32)) <= 0) {
		http_res_error(res, 400, "invalid", "languages is a non-empty array of language codes such as [\"en\",\"zh\"]",
			       "languages");
		json_decref(body);
		return;
	}
	for (int i = 0; i < n; i++)
		strbuf_addf(&csv, "%s%s", i ? "," : "", langs[i]);
	rc = fielddef_languages_set(dam, csv.buf, &err);
	if (rc == 0)
		rc = fielddef_languages(dam, &out, &err);
	send(res, rc, &err, 200, rc < 0 ? NULL : json_pack("{s:o}", "languages", out));
	strbuf_release(&csv);
	json_decref(body);
}

HANDLER(h_incomplete)
{
	struct dam_err err;
	json_t *out = NULL;
	int rc;

	if (!http_allow(req, res, AUTH_ASSET_READ, NULL))
		return;
	rc = fielddef_incomplete(dam, &out, &err);
	send(res, rc, &err, 200, out);
}
