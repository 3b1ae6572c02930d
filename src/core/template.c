#include "core/template.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/asset.h"
#include "core/audit.h"
#include "core/fielddef.h"
#include "core/namepattern.h"
#include "util/timeutil.h"
#include "util/utf8.h"

#define GLOB_MAX 255

/* ---- owned field/tag lists ---- */

void template_meta_init(struct template_meta *m)
{
	memset(m, 0, sizeof *m);
}

void template_meta_release(struct template_meta *m)
{
	for (int i = 0; i < m->n; i++) {
		free(m->keys[i]);
		free(m->values[i]);
	}
	for (int i = 0; i < m->ntags; i++)
		free(m->tags[i]);
	free(m->keys);
	free(m->values);
	free(m->tags);
	template_meta_init(m);
}

/* Grows an array of char * to hold one more. */
static int grow(char ***arr, int n, int *alloc)
{
	char **p;

	if (n < *alloc)
		return 0;
	if (!(p = realloc(*arr, (size_t)(*alloc ? *alloc * 2 : 8) * sizeof *p)))
		return DAM_ENOMEM;
	*arr = p;
	*alloc = *alloc ? *alloc * 2 : 8;
	return 0;
}

int template_meta_field(struct template_meta *m, const char *key, const char *value)
{
	int a = m->alloc;

	for (int i = 0; i < m->n; i++)
		if (!strcmp(m->keys[i], key))
			return 0;
	if (grow(&m->keys, m->n, &a) < 0 || grow(&m->values, m->n, &m->alloc) < 0)
		return DAM_ENOMEM;
	m->alloc = a;
	if (!(m->keys[m->n] = strdup(key)))
		return DAM_ENOMEM;
	if (!(m->values[m->n] = strdup(value))) {
		free(m->keys[m->n]);
		return DAM_ENOMEM;
	}
	m->n++;
	return 0;
}

int template_meta_tag(struct template_meta *m, const char *tag)
{
	for (int i = 0; i < m->ntags; i++)
		if (!strcmp(m->tags[i], tag))
			return 0;
	if (grow(&m->tags, m->ntags, &m->tagalloc) < 0 || !(m->tags[m->ntags] = strdup(tag)))
		return DAM_ENOMEM;
	m->ntags++;
	return 0;
}

/* ---- definitions ---- */

static int def_check(const struct template_def *d, struct dam_err *err)
{
	size_t gl = d->match ? strlen(d->match) : 0;

	if (!asset_field_key_valid(d->name) || strchr(d->name, '@'))
		return dam_err_set(err, DAM_EINVAL, "name", "invalid template name \"%.64s\": use 1-64 of a-z 0-9 _ . -", d->name);
	if (gl > GLOB_MAX || (gl && (!utf8_valid(d->match, gl) || utf8_has_control(d->match, gl))))
		return dam_err_set(err, DAM_EINVAL, "match", "a match glob is at most %d bytes of UTF-8", GLOB_MAX);
	for (int i = 0; i < d->nfields; i++)
		if (!asset_field_key_valid(d->keys[i]))
			return dam_err_set(err, DAM_EINVAL, d->keys[i], "invalid field name \"%.64s\": use 1-64 of a-z 0-9 _ . -",
					   d->keys[i]);
	for (int i = 0; i < d->ntags; i++)
		if (!asset_tag_valid(d->tags[i]))
			return dam_err_set(err, DAM_EINVAL, "tag", "invalid tag \"%.60s\"", d->tags[i]);
	if (!d->nfields && !d->ntags)
		return dam_err_set(err, DAM_EINVAL, "fields", "a template needs at least one field or tag");
	return 0;
}

static json_t *def_json(const struct template_def *d)
{
	json_t *fields = json_object(), *tags = json_array();

	for (int i = 0; i < d->nfields; i++)
		json_object_set_new(fields, d->keys[i], json_string(d->values[i]));
	for (int i = 0; i < d->ntags; i++)
		json_array_append_new(tags, json_string(d->tags[i]));
	return json_pack("{s:s,s:s,s:o,s:o}", "name", d->name, "match", d->match ? d->match : "", "fields", fields,
			 "tags", tags);
}

static int templates_query(struct dam *dam, const char *name, json_t **out, struct dam_err *err)
{
	struct db_stmt *st;
	int rc;

	if ((rc = db_query(dam->db, &st, err,
			   "SELECT name, match, fields, tags FROM templates WHERE CAST(?1 AS TEXT) IS NULL OR name=?1 ORDER BY name",
			   "s", name)) < 0)
		return rc;
	*out = json_array();
	while ((rc = db_step(st, err)) == DB_ROW)
		json_array_append_new(*out, json_pack("{s:s,s:s,s:o,s:o}", "name", db_col_text(st, 0),
			"match", db_col_text(st, 1), "fields", json_loads(db_col_text(st, 2), 0, NULL) ?: json_object(),
			"tags", json_loads(db_col_text(st, 3), 0, NULL) ?: json_array()));
	db_finalize(st);
	if (rc < 0) {
		json_decref(*out);
		*out = NULL;
	}
	return rc < 0 ? rc : 0;
}

int template_list(struct dam *dam, json_t **out, struct dam_err *err)
{
	return templates_query(dam, NULL, out, err);
}

int template_get(struct dam *dam, const char *name, json_t **out, struct dam_err *err)
{
	json_t *arr;
	int rc;

	*out = NULL;
	if ((rc = templates_query(dam, name, &arr, err)) < 0)
		return rc;
	if (json_array_size(arr))
		*out = json_incref(json_array_get(arr, 0));
	json_decref(arr);
	return *out ? 0 : dam_err_set(err, DAM_ENOTFOUND, "template", "no template %.64s", name);
}

/* audit_tx change of template_add: ctx is the definition. */
static int add_change(struct dam *dam, void *ctx, struct audit_rec *rec, struct dam_err *err)
{
	const struct template_def *d = ctx;
	char *fields = NULL, *tags = NULL;
	int rc;

	if ((rc = fielddef_validate_all(dam, d->keys, d->values, d->nfields, err)) < 0)
		return rc;
	rec->after = def_json(d);
	fields = json_dumps(json_object_get(rec->after, "fields"), JSON_COMPACT | JSON_SORT_KEYS);
	tags = json_dumps(json_object_get(rec->after, "tags"), JSON_COMPACT);
	if ((rc = template_get(dam, d->name, &rec->before, NULL)) < 0 && rc != DAM_ENOTFOUND)
		goto out;
	rc = db_run(dam->db, err,
		    "INSERT INTO templates(name, match, fields, tags, created_at, updated_at) VALUES (?,?,?,?,?,?5)"
		    " ON CONFLICT(name) DO UPDATE SET match=excluded.match, fields=excluded.fields,"
		    " tags=excluded.tags, updated_at=excluded.updated_at",
		    "ssssi", d->name, d->match ? d->match : "", fields ? fields : "{}", tags ? tags : "[]",
		    (int64_t)time_now_ms());
out:
	free(fields);
	free(tags);
	return rc < 0 ? rc : 0;
}

int template_add(struct dam *dam, const struct template_def *d, struct dam_err *err)
{
	int rc;

	if ((rc = def_check(d, err)) < 0)
		return rc;
	return audit_tx(dam, "template.add", "template", d->name, add_change, (void *)d, err);
}

static int remove_change(struct dam *dam, void *ctx, struct audit_rec *rec, struct dam_err *err)
{
	int rc;

	if ((rc = template_get(dam, ctx, &rec->before, err)) < 0)
		return rc;
	rc = db_run(dam->db, err, "DELETE FROM templates WHERE name=?", "s", (const char *)ctx);
	return rc < 0 ? rc : 0;
}

int template_remove(struct dam *dam, const char *name, struct dam_err *err)
{
	return audit_tx(dam, "template.remove", "template", name, remove_change, (void *)name, err);
}

bool template_glob_matches(const char *glob, const char *name, const char *source)
{
	if (!glob || !*glob)
		return false;
	if (strchr(glob, '/'))
		return source && *source && fnmatch(glob, source, 0) == 0;
	return fnmatch(glob, name, 0) == 0;
}

/* ---- application ---- */

/* Adds a template's (JSON) fields and tags, first value of a key winning. */
static int meta_merge(struct template_meta *m, const json_t *tpl)
{
	const char *k;
	json_t *v;
	size_t i;
	int rc = 0;

	json_object_foreach((json_t *)json_object_get(tpl, "fields"), k, v)
		if (json_is_string(v) && (rc = template_meta_field(m, k, json_string_value(v))) < 0)
			return rc;
	json_array_foreach(json_object_get(tpl, "tags"), i, v)
		if (json_is_string(v) && (rc = template_meta_tag(m, json_string_value(v))) < 0)
			return rc;
	return 0;
}

static int merge_matching(struct dam *dam, struct template_meta *m, const char *name, const char *source,
			  struct dam_err *err)
{
	json_t *all, *t;
	size_t i;
	int rc;

	if ((rc = template_list(dam, &all, err)) < 0)
		return rc;
	json_array_foreach(all, i, t)
		if (template_glob_matches(json_string_value(json_object_get(t, "match")), name, source) &&
		    (rc = meta_merge(m, t)) < 0)
			break;
	json_decref(all);
	return rc < 0 ? dam_err_set(err, rc, NULL, "out of memory") : 0;
}

/* Stages 3 and 5 of the precedence: name pattern fields, field defaults. */
static int merge_pattern(struct dam *dam, struct template_meta *m, const char *name, struct dam_err *err)
{
	struct namepattern_match pm;
	int rc;

	if ((rc = namepattern_apply(dam, name, &pm, err)) < 0)
		return rc;
	for (int i = 0; i < pm.n; i++)
		if (template_meta_field(m, pm.keys[i], pm.values[i]) < 0)
			return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	return 0;
}

static int merge_defaults(struct dam *dam, struct template_meta *m, struct dam_err *err)
{
	json_t *defs, *v;
	const char *k;
	int rc;

	if ((rc = fielddef_defaults(dam, &defs, err)) < 0)
		return rc;
	json_object_foreach(defs, k, v)
		if ((rc = template_meta_field(m, k, json_string_value(v))) < 0)
			break;
	json_decref(defs);
	return rc < 0 ? dam_err_set(err, DAM_ENOMEM, NULL, "out of memory") : 0;
}

int template_apply_to_opts(struct dam *dam, const struct ingest_opts *in, const char *name, const char *source,
			   struct ingest_opts *out, struct template_meta *m, struct dam_err *err)
{
	json_t *chosen = NULL;
	int rc = 0;

	*out = *in;
	for (int i = 0; i < in->nmeta && rc >= 0; i++)
		rc = template_meta_field(m, in->meta_keys[i], in->meta_values[i]);
	for (int i = 0; i < in->ntags && rc >= 0; i++)
		rc = template_meta_tag(m, in->tags[i]);
	if (rc < 0)
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	if (in->template_name && *in->template_name) {
		if ((rc = template_get(dam, in->template_name, &chosen, err)) < 0)
			return rc;
		rc = meta_merge(m, chosen);
		json_decref(chosen);
		if (rc < 0)
			return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	}
	if ((rc = merge_pattern(dam, m, name, err)) < 0 || (rc = merge_matching(dam, m, name, source, err)) < 0 ||
	    (rc = merge_defaults(dam, m, err)) < 0 ||
	    (rc = fielddef_validate_all(dam, (const char *const *)m->keys, (const char *const *)m->values, m->n, err)) < 0)
		return rc;
	out->meta_keys = (const char *const *)m->keys;
	out->meta_values = (const char *const *)m->values;
	out->nmeta = m->n;
	out->tags = (const char *const *)m->tags;
	out->ntags = m->ntags;
	return 0;
}

/* Resolves every id first, then patches each asset. */
static int bulk_patch(struct dam *dam, const struct asset_change *c, const char *const *refs, int n,
		      struct dam_err *err)
{
	char (*ids)[DAM_ID_LEN + 1] = NULL;
	int rc = 0, done = 0;

	if (n <= 0)
		return 0;
	if (!(ids = calloc((size_t)n, sizeof *ids)))
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	for (int i = 0; i < n && rc >= 0; i++)
		rc = asset_resolve(dam, refs[i], ids[i], err);
	for (int i = 0; i < n && rc >= 0; i++)
		if ((rc = asset_patch(dam, ids[i], c, NULL, err)) >= 0)
			done++;
	free(ids);
	return rc < 0 ? rc : done;
}

int template_apply_bulk(struct dam *dam, const char *name, const char *const *asset_ids, int n,
			struct dam_err *err)
{
	struct template_meta m;
	struct asset_change c = { 0 };
	json_t *tpl = NULL;
	int rc;

	template_meta_init(&m);
	if ((rc = template_get(dam, name, &tpl, err)) < 0)
		goto out;
	if ((rc = meta_merge(&m, tpl)) < 0) {
		rc = dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
		goto out;
	}
	if ((rc = fielddef_validate_all(dam, (const char *const *)m.keys, (const char *const *)m.values, m.n, err)) < 0)
		goto out;
	c.keys = (const char *const *)m.keys;
	c.values = (const char *const *)m.values;
	c.nfields = m.n;
	c.add = (const char *const *)m.tags;
	c.nadd = m.ntags;
	rc = bulk_patch(dam, &c, asset_ids, n, err);
out:
	json_decref(tpl);
	template_meta_release(&m);
	return rc;
}

int template_set_field_bulk(struct dam *dam, const char *key, const char *value, const char *const *asset_ids,
			    int n, struct dam_err *err)
{
	struct asset_change c = { .keys = &key, .values = &value, .nfields = 1 };
	int rc;

	if (!asset_field_key_valid(key))
		return dam_err_set(err, DAM_EINVAL, key, "invalid field name \"%.64s\": use 1-64 of a-z 0-9 _ . -", key);
	if ((rc = fielddef_validate(dam, key, value, err)) < 0)
		return rc;
	return bulk_patch(dam, &c, asset_ids, n, err);
}
