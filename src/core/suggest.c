/* suggest.c - autocompletion of field names, tags, terms and values. */
#include "core/suggest.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/fielddef.h"
#include "core/search.h"
#include "util/strbuf.h"

static bool in(const char *const *l, const char *s)
{
	for (int i = 0; l[i]; i++)
		if (!strcmp(l[i], s))
			return true;
	return false;
}

static bool starts(const char *s, const char *prefix)
{
	return !strncasecmp(s, prefix, strlen(prefix));
}

/* prefix as a LIKE pattern "prefix%" with \ escaping. */
static void like_prefix(const char *prefix, struct strbuf *out)
{
	for (const char *p = prefix; *p; p++) {
		if (*p == '%' || *p == '_' || *p == '\\')
			strbuf_addch(out, '\\');
		strbuf_addch(out, *p);
	}
	strbuf_addch(out, '%');
}

static void add_field(json_t *items, const char *name, const char *type)
{
	json_array_append_new(items, json_pack("{s:s,s:s,s:s}", "kind", "field", "value", name, "type", type));
}

static int field_names(struct dam *dam, const struct suggest_request *r, json_t *items, struct dam_err *err)
{
	const char *const *facets = search_builtin_facets(), *const *numbers = search_number_fields();
	json_t *defs, *d;
	size_t i;
	int n = 0, rc;

	for (i = 0; facets[i] && n < r->limit; i++)
		if (starts(facets[i], r->prefix))
			add_field(items, facets[i], "facet"), n++;
	for (i = 0; numbers[i] && n < r->limit; i++)
		if (starts(numbers[i], r->prefix))
			add_field(items, numbers[i], !strcmp(numbers[i], "created") || !strcmp(numbers[i], "updated") ? "date" : "number"), n++;
	if (n < r->limit && starts("versions", r->prefix))
		add_field(items, "versions", "option"), n++;
	if ((rc = fielddef_list(dam, &defs, err)) < 0)
		return rc;
	json_array_foreach(defs, i, d) {
		const char *key = json_string_value(json_object_get(d, "key"));
		if (n < r->limit && key && starts(key, r->prefix) && !in(facets, key) && !in(numbers, key))
			add_field(items, key, json_string_value(json_object_get(d, "type"))), n++;
	}
	json_decref(defs);
	return 0;
}

/* Facet values (tags, colours, facetable fields) as items of kind. */
static int facet_items(struct dam *dam, const char *facet, const char *kind, const struct suggest_request *r,
		       json_t *items, struct dam_err *err)
{
	json_t *vals, *v;
	size_t i;
	int rc;

	if ((rc = search_facet_values(dam, facet, r->prefix, r->limit, &vals, err)) < 0)
		return rc;
	json_array_foreach(vals, i, v)
		json_array_append_new(items, json_pack("{s:s,s:O,s:O}", "kind", kind, "value", json_object_get(v, "value"),
						       "count", json_object_get(v, "count")));
	json_decref(vals);
	return 0;
}

/* Terms and synonyms of one vocabulary (or all when vocab is NULL). */
static int terms(struct dam *dam, const char *vocab, const struct suggest_request *r, json_t *items,
		 struct dam_err *err)
{
	struct strbuf like = STRBUF_INIT;
	struct db_stmt *st;
	int rc;

	like_prefix(r->prefix, &like);
	/* lower() on both sides: SQLite's LIKE ignores ASCII case, PostgreSQL's
	 * does not; folded, both match what SQLite matched. */
	if (vocab)
		rc = db_query(dam->db, &st, err,
			      "SELECT vocab, term, NULL FROM vocab_terms WHERE lower(term) LIKE lower(?) ESCAPE '\\' AND vocab=?"
			      " UNION ALL SELECT vocab, term, synonym FROM vocab_synonyms WHERE lower(synonym) LIKE lower(?)"
			      " ESCAPE '\\' AND vocab=? ORDER BY 2 LIMIT ?",
			      "ssssi", like.buf, vocab, like.buf, vocab, (int64_t)r->limit);
	else
		rc = db_query(dam->db, &st, err,
			      "SELECT vocab, term, NULL FROM vocab_terms WHERE lower(term) LIKE lower(?) ESCAPE '\\'"
			      " UNION ALL SELECT vocab, term, synonym FROM vocab_synonyms WHERE lower(synonym) LIKE lower(?)"
			      " ESCAPE '\\' ORDER BY 2 LIMIT ?",
			      "ssi", like.buf, like.buf, (int64_t)r->limit);
	strbuf_release(&like);
	if (rc < 0)
		return rc;
	while ((rc = db_step(st, err)) == DB_ROW) {
		json_t *t = json_pack("{s:s,s:s,s:s}", "kind", "term", "value", db_col_text(st, 1), "vocab", db_col_text(st, 0));
		if (!db_col_is_null(st, 2))
			json_object_set_new(t, "synonym", json_string(db_col_text(st, 2)));
		json_array_append_new(items, t);
	}
	db_finalize(st);
	return rc < 0 ? rc : 0;
}

/* Values stored for a field that is neither a facet nor a vocabulary
 * field, in any language. */
static int stored_values(struct dam *dam, const char *key, const struct suggest_request *r, json_t *items,
			 struct dam_err *err)
{
	struct strbuf like = STRBUF_INIT, lang = STRBUF_INIT;
	struct db_stmt *st;
	int rc;

	like_prefix(r->prefix, &like);
	strbuf_addf(&lang, "%s@", key);
	rc = db_query(dam->db, &st, err,
		      "SELECT value, count(*) FROM fields WHERE (key=? OR (key > ? AND key < ? || 'A'))"
		      " AND lower(value) LIKE lower(?) ESCAPE '\\' GROUP BY value ORDER BY 2 DESC, 1 LIMIT ?",
		      "ssssi", key, lang.buf, lang.buf, like.buf, (int64_t)r->limit);
	strbuf_release(&like);
	strbuf_release(&lang);
	if (rc < 0)
		return rc;
	while ((rc = db_step(st, err)) == DB_ROW)
		json_array_append_new(items, json_pack("{s:s,s:s,s:I}", "kind", "value", "value", db_col_text(st, 0), "count",
						       (json_int_t)db_col_int(st, 1)));
	db_finalize(st);
	return rc < 0 ? rc : 0;
}

static int field_values(struct dam *dam, const struct suggest_request *r, json_t *items, struct dam_err *err)
{
	json_t *def = NULL;
	const char *type, *vocab;
	int rc;

	if (!strcmp(r->field, "tag"))
		return facet_items(dam, "tag", "tag", r, items, err);
	if (in(search_number_fields(), r->field) || !strcmp(r->field, "versions")) {
		if (!strcmp(r->field, "versions") && starts("all", r->prefix))
			json_array_append_new(items, json_pack("{s:s,s:s}", "kind", "value", "value", "all"));
		return 0;
	}
	if (in(search_builtin_facets(), r->field))
		return facet_items(dam, r->field, "value", r, items, err);
	if ((rc = fielddef_get(dam, r->field, &def, err)) < 0) {
		if (rc != DAM_ENOTFOUND)
			return rc;
		dam_err_clear(err);
		return stored_values(dam, r->field, r, items, err); /* a free field */
	}
	type = json_string_value(json_object_get(def, "type"));
	vocab = json_string_value(json_object_get(def, "vocab"));
	if (vocab)
		rc = terms(dam, vocab, r, items, err);
	else if (type && (!strcmp(type, "number") || !strcmp(type, "date")))
		rc = 0;
	else if (json_is_true(json_object_get(def, "facetable")))
		rc = facet_items(dam, r->field, "value", r, items, err);
	else
		rc = stored_values(dam, r->field, r, items, err);
	json_decref(def);
	return rc;
}

static bool field_name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64 || !((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

int suggest(struct dam *dam, const struct suggest_request *req, json_t **out, struct dam_err *err)
{
	struct suggest_request r = *req;
	json_t *items = json_array();
	char field[65];
	int rc;

	*out = NULL;
	if (!r.prefix)
		r.prefix = "";
	if (r.limit <= 0)
		r.limit = 10;
	if (r.limit > SUGGEST_MAX)
		r.limit = SUGGEST_MAX;
	if (r.field) {
		if (!field_name_valid(r.field)) {
			json_decref(items);
			return dam_err_set(err, DAM_EINVAL, "field", "\"%.64s\" is not a field name", r.field);
		}
		/* The query language folds field names to lower case. */
		for (size_t i = 0; r.field[i]; i++)
			field[i] = (char)(r.field[i] >= 'A' && r.field[i] <= 'Z' ? r.field[i] + 32 : r.field[i]);
		field[strlen(r.field)] = '\0';
		r.field = field;
		rc = field_values(dam, &r, items, err);
	} else if ((rc = field_names(dam, &r, items, err)) >= 0 && (rc = facet_items(dam, "tag", "tag", &r, items, err)) >= 0) {
		rc = terms(dam, NULL, &r, items, err);
	}
	if (rc < 0) {
		json_decref(items);
		return rc;
	}
	*out = json_pack("{s:o}", "items", items);
	return 0;
}
