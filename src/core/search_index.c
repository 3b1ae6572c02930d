/*
 * search_index.c - rebuilding dirty assets' search rows: facet values and
 * numbers here (engine-neutral tables), each version's text through the
 * library's full-text backend (db/search_backend.h).
 */
#include "core/search_index.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fielddef.h"
#include "core/search_date.h"
#include "db/search_backend.h"
#include "util/grow.h"
#include "util/id.h"
#include "util/strbuf.h"

#define BATCH 256

/* Rows per statement for an asset's facet values and numbers: on
 * PostgreSQL every statement is a round trip, and an asset has 20-40. */
#define ROWS_PER_INSERT 64

/* A facet value or a number of the asset being indexed. */
struct index_row {
	char *name, *value; /* owned; value NULL for a number */
	double num;
};

/* The asset being indexed: its text as the backend builds it, and the
 * facet values and numbers written in a few statements once it is read. */
struct doc {
	const struct search_backend *be;
	struct search_doc *d;
	struct dam *dam;
	int64_t arow;
	struct index_row *rows;
	size_t nrows, caprows;
	struct dam_err *err;
};

static void add(struct doc *d, enum search_col col, const char *text)
{
	d->be->doc_add(d->d, col, text);
}

static int push_row(struct doc *d, const char *name, const char *value, double num)
{
	struct index_row r = { strdup(name), value ? strdup(value) : NULL, num };

	if (!r.name || (value && !r.value) || GROW(&d->rows, &d->caprows, d->nrows + 1, 32) < 0) {
		free(r.name);
		free(r.value);
		return dam_err_set(d->err, DAM_ENOMEM, NULL, "out of memory");
	}
	d->rows[d->nrows++] = r;
	return 0;
}

static void free_rows(struct doc *d)
{
	for (size_t i = 0; i < d->nrows; i++) {
		free(d->rows[i].name);
		free(d->rows[i].value);
	}
	free(d->rows);
	d->rows = NULL;
	d->nrows = d->caprows = 0;
}

/* A value twice (a multichoice "a, a", two colours' names alike) is one
 * row: the insert skips it. */
static int facet(struct doc *d, const char *f, const char *v)
{
	return !v || !*v ? 0 : push_row(d, f, v, 0);
}

/* The last value of a key wins (a field in two languages): one row per
 * key, as a statement may not update the same row twice. */
static int number(struct doc *d, const char *k, double v)
{
	for (size_t i = 0; i < d->nrows; i++)
		if (!d->rows[i].value && !strcmp(d->rows[i].name, k)) {
			d->rows[i].num = v;
			return 0;
		}
	return push_row(d, k, NULL, v);
}

/* INSERT of n rows of facet values (numbers: false) or numbers. */
static int insert_sql(bool numbers, size_t n, struct strbuf *sql)
{
	strbuf_adds(sql, numbers ? "INSERT INTO search_numbers(asset_rowid, key, num) VALUES "
				 : "INSERT INTO facet_values(asset_rowid, facet, value) VALUES ");
	for (size_t i = 0; i < n; i++)
		strbuf_adds(sql, i ? ", (?,?,?)" : "(?,?,?)");
	strbuf_adds(sql, numbers ? " ON CONFLICT (asset_rowid, key) DO UPDATE SET num = excluded.num"
				 : " ON CONFLICT (asset_rowid, facet, value) DO NOTHING");
	return sql->buf ? 0 : DAM_ENOMEM;
}

/* Writes the rows of one kind at from.. (up to ROWS_PER_INSERT of them);
 * *next: where the rest starts. */
static int write_some(struct doc *d, bool numbers, size_t from, size_t *next)
{
	struct strbuf sql = STRBUF_INIT;
	struct db_stmt *st = NULL;
	size_t n = 0, i;
	int rc;

	for (i = from; i < d->nrows && n < ROWS_PER_INSERT; i++)
		n += !d->rows[i].value == numbers;
	*next = i;
	if (!n)
		return 0;
	if ((rc = insert_sql(numbers, n, &sql)) < 0) {
		rc = dam_err_set(d->err, rc, NULL, "out of memory");
		goto out;
	}
	if ((rc = db_prepare(d->dam->db, sql.buf, &st, d->err)) < 0)
		goto out;
	n = 0;
	for (i = from; i < *next && rc >= 0; i++) {
		const struct index_row *r = &d->rows[i];

		if (!r->value != numbers)
			continue;
		rc = numbers ? db_bind_at(st, d->err, (int)(3 * n + 1), "isd", d->arow, r->name, r->num)
			     : db_bind_at(st, d->err, (int)(3 * n + 1), "iss", d->arow, r->name, r->value);
		n++;
	}
	if (rc >= 0)
		rc = db_step(st, d->err);
out:
	db_finalize(st);
	strbuf_release(&sql);
	return rc < 0 ? rc : 0;
}

static int write_rows(struct doc *d)
{
	int rc = 0;

	for (int numbers = 0; numbers < 2; numbers++)
		for (size_t at = 0; at < d->nrows && rc >= 0;)
			rc = write_some(d, numbers, at, &at);
	return rc;
}

static bool key_is(const char *key, const char *base)
{
	size_t n = strlen(base);

	return !strncmp(key, base, n) && (key[n] == '\0' || key[n] == '@');
}

/* A defined number or date field's value into search_numbers (dates as
 * unix ms), so the query language compares it by range: price:10..20,
 * licence_expiry:<now+30d. Values that do not read (typed before the
 * field was defined) are left out of the ranges. */
static int scalar_of(struct doc *d, const char *key, const json_t *def, const char *v)
{
	const char *type = json_string_value(json_object_get(def, "type"));
	uint64_t ms;
	double x;
	char *end;
	bool day;

	if (!type)
		return 0;
	if (!strcmp(type, field_type_name(FIELD_NUMBER))) {
		x = strtod(v, &end);
		return end == v || *end || !isfinite(x) ? 0 : number(d, key, x);
	}
	/* only absolute dates (2026-01-31...): "7d" means nothing stored */
	if (!strcmp(type, field_type_name(FIELD_DATE)) && strlen(v) >= 10 && v[4] == '-' &&
	    search_date_value(v, 0, &ms, &day) == 0)
		return number(d, key, (double)ms);
	return 0;
}

/* Two text columns of one of an asset's rows (owned). */
struct pair {
	char *a, *b;
};

static int pair_cmp(const void *x, const void *y)
{
	const struct pair *p = x, *q = y;
	int c = strcmp(p->a, q->a);

	return c ? c : strcmp(p->b, q->b);
}

static void pairs_free(struct pair *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(p[i].a);
		free(p[i].b);
	}
	free(p);
}

/* The rows of sql (two text columns, one parameter: the asset's id) sorted
 * by their bytes. An asset's tags and fields follow each other in one
 * column of its document, and a phrase matches across two neighbours
 * ("running" ending one tag, "shoe" the next), so their order must be the
 * same on every engine and every plan: without ORDER BY it is the plan's
 * (PostgreSQL's heap order after a bitmap scan), and ORDER BY would follow
 * the database's collation. Caller frees *out with pairs_free. */
static int sorted_pairs(struct dam *dam, const char *sql, const char *id, struct pair **out, size_t *n,
			struct dam_err *err)
{
	struct pair *p = NULL;
	struct db_stmt *st;
	size_t cap = 0;
	int rc;

	*n = 0;
	if ((rc = db_query(dam->db, &st, err, sql, "s", id)) < 0)
		return rc;
	while ((rc = db_step(st, err)) == DB_ROW) {
		struct pair r = { strdup(db_col_text(st, 0)), strdup(db_col_text(st, 1)) };
		if (!r.a || !r.b || GROW(&p, &cap, *n + 1, 32) < 0) {
			free(r.a);
			free(r.b);
			rc = dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
			break;
		}
		p[(*n)++] = r;
	}
	db_finalize(st);
	if (rc < 0) {
		pairs_free(p, *n);
		return rc;
	}
	if (*n)
		qsort(p, *n, sizeof *p, pair_cmp);
	*out = p;
	return 0;
}

/* A multiple-choice value's choices, each a facet value. */
static int facet_choices(struct doc *d, const char *base, const char *v, struct dam_err *err)
{
	char *copy = strdup(v);
	int rc = 0;

	if (!copy)
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	for (char *save = NULL, *t = strtok_r(copy, ",", &save); t && rc >= 0; t = strtok_r(NULL, ",", &save)) {
		while (*t == ' ')
			t++;
		rc = facet(d, base, t);
	}
	free(copy);
	return rc;
}

/* One field's value into the document and the facets. */
static int field_of(const char *k, const char *v, const json_t *defs, struct doc *d, struct dam_err *err)
{
	char base[80];
	const json_t *def, *type;
	int rc;

	snprintf(base, sizeof base, "%.*s", (int)strcspn(k, "@"), k);
	def = json_object_get(defs, base);
	if (def && json_is_false(json_object_get(def, "searchable")))
		;
	else if (key_is(k, "title"))
		add(d, SEARCH_COL_TITLE, v);
	else if (key_is(k, "description"))
		add(d, SEARCH_COL_DESCRIPTION, v);
	else
		add(d, SEARCH_COL_OTHER, v);
	if (!def)
		return 0;
	if ((rc = scalar_of(d, base, def, v)) < 0)
		return rc;
	if (!json_is_true(json_object_get(def, "facetable")) || strlen(v) > 200)
		return 0;
	type = json_object_get(def, "type");
	if (json_is_string(type) && !strcmp(json_string_value(type), field_type_name(FIELD_MULTICHOICE)))
		return facet_choices(d, base, v, err);
	return facet(d, base, v);
}

/* Field values into the document and the facets, in key order. */
static int fields_of(struct dam *dam, const char *id, const json_t *defs, struct doc *d,
		     struct dam_err *err)
{
	struct pair *f = NULL;
	size_t n = 0;
	int rc;

	if ((rc = sorted_pairs(dam, "SELECT key, value FROM fields WHERE asset_id=?", id, &f, &n, err)) < 0)
		return rc;
	for (size_t i = 0; i < n && rc >= 0; i++)
		rc = field_of(f[i].a, f[i].b, defs, d, err);
	pairs_free(f, n);
	return rc < 0 ? rc : 0;
}

/* Tags into the document and the facets, in tag order. */
static int tags_of(struct dam *dam, const char *id, struct doc *d, struct dam_err *err)
{
	struct pair *t = NULL;
	size_t n = 0;
	int rc;

	if ((rc = sorted_pairs(dam, "SELECT tag, source FROM tags WHERE asset_id=?", id, &t, &n, err)) < 0)
		return rc;
	for (size_t i = 0; i < n && rc >= 0; i++) {
		add(d, SEARCH_COL_TAGS, t[i].a);
		/* "tag" holds every tag (tag:x matches whoever set it); "autotag"
		 * the automatic ones too, so facets can show them apart */
		if ((rc = facet(d, "tag", t[i].a)) >= 0 && !strcmp(t[i].b, "automatic"))
			rc = facet(d, "autotag", t[i].a);
	}
	pairs_free(t, n);
	return rc < 0 ? rc : 0;
}

/* Technical metadata people search for, as words of the "other" column:
 * the camera, the lens, the embedded creator and copyright (also fields
 * unless a user changed them; the file's own words stay findable). */
static void meta_words(const json_t *m, struct doc *d)
{
	static const char *const exif[] = { "make", "model", "lens" };
	static const char *const emb[] = { "creator", "copyright" };
	const json_t *e = json_object_get(m, "exif"), *b = json_object_get(m, "embedded");
	const char *v;

	for (size_t i = 0; i < sizeof exif / sizeof exif[0]; i++)
		if ((v = json_string_value(json_object_get(e, exif[i]))))
			add(d, SEARCH_COL_OTHER, v);
	for (size_t i = 0; i < sizeof emb / sizeof emb[0]; i++)
		if ((v = json_string_value(json_object_get(b, emb[i]))))
			add(d, SEARCH_COL_OTHER, v);
}

/* Facets, numbers and words read from the current version's metadata. */
static int metadata_of(const char *meta_text, struct doc *d)
{
	json_t *m = json_loads(meta_text, 0, NULL), *an, *c;
	size_t i;
	int rc = 0;

	if (!m)
		return 0;
	meta_words(m, d);
	an = json_object_get(m, "analysis");
	json_array_foreach(json_object_get(an, "colors"), i, c) {
		/* As for automatic tags: a colour counts from a 10% share. */
		if (json_number_value(json_object_get(c, "share")) < 0.1)
			continue;
		if ((rc = facet(d, "color", json_string_value(json_object_get(c, "name")))) < 0 ||
		    (rc = facet(d, "color", json_string_value(json_object_get(c, "name_zh")))) < 0)
			goto out;
	}
	if ((rc = facet(d, "orientation", json_string_value(json_object_get(an, "orientation")))) < 0 ||
	    (rc = facet(d, "aspect", json_string_value(json_object_get(an, "aspect")))) < 0 ||
	    (rc = facet(d, "resolution", json_string_value(json_object_get(an, "resolution")))) < 0)
		goto out;
	if (json_is_true(json_object_get(an, "transparent")) && (rc = facet(d, "transparency", "transparent")) < 0)
		goto out;
	if (json_is_integer(json_object_get(m, "width")))
		rc = number(d, "width", (double)json_integer_value(json_object_get(m, "width")));
	if (rc >= 0 && json_is_integer(json_object_get(m, "height")))
		rc = number(d, "height", (double)json_integer_value(json_object_get(m, "height")));
	if (rc >= 0 && json_is_number(json_object_get(m, "duration")))
		rc = number(d, "duration", json_number_value(json_object_get(m, "duration")));
	if (rc >= 0 && json_is_integer(json_object_get(m, "pages")))
		rc = number(d, "pages", (double)json_integer_value(json_object_get(m, "pages")));
out:
	json_decref(m);
	return rc < 0 ? rc : 0;
}

/* Every version into the full-text index (with its file name and its own
 * text, a PDF's pages) and into search_docs, the version -> asset map. */
static int put_docs(struct dam *dam, const char *id, int64_t arow, const char *current, struct doc *d,
		    struct dam_err *err)
{
	struct db_stmt *st;
	int rc;

	if ((rc = db_query(dam->db, &st, err,
			   "SELECT v.num, v.id, v.filename, t.text FROM versions v"
			   " LEFT JOIN version_text t ON t.version_rowid = v.num WHERE v.asset_id=?", "s", id)) < 0)
		return rc;
	while ((rc = db_step(st, err)) == DB_ROW) {
		int64_t vrow = db_col_int(st, 0);
		bool cur = !strcmp(db_col_text(st, 1), current);
		const char *body = db_col_is_null(st, 3) ? NULL : db_col_text(st, 3);
		if ((rc = d->be->index(dam->db, vrow, d->d, db_col_text(st, 2), body, err)) < 0 ||
		    (rc = db_run(dam->db, err, "INSERT INTO search_docs(version_rowid, asset_rowid, is_current) VALUES (?,?,?)",
				 "iii", vrow, arow, (int64_t)cur)) < 0)
			break;
	}
	db_finalize(st);
	return rc < 0 ? rc : 0;
}

/* The versions search_docs lists for an asset, out of the full-text index. */
static int unindex_versions(struct dam *dam, int64_t arow, struct dam_err *err)
{
	struct db_stmt *st;
	int64_t *v = NULL;
	size_t n = 0, cap = 0;
	int rc;

	if ((rc = db_query(dam->db, &st, err, "SELECT version_rowid FROM search_docs WHERE asset_rowid=?", "i", arow)) < 0)
		return rc;
	while ((rc = db_step(st, err)) == DB_ROW) {
		if (GROW(&v, &cap, n + 1, 8) < 0) {
			rc = dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
			break;
		}
		v[n++] = db_col_int(st, 0);
	}
	db_finalize(st);
	for (size_t i = 0; i < n && rc >= 0; i++)
		rc = dam->search_be->unindex(dam->db, v[i], err);
	free(v);
	return rc < 0 ? rc : 0;
}

static int clear_asset(struct dam *dam, int64_t arow, struct dam_err *err)
{
	int rc;

	if ((rc = unindex_versions(dam, arow, err)) < 0 ||
	    (rc = db_run(dam->db, err, "DELETE FROM search_docs WHERE asset_rowid=?", "i", arow)) < 0 ||
	    (rc = db_run(dam->db, err, "DELETE FROM facet_values WHERE asset_rowid=?", "i", arow)) < 0 ||
	    (rc = db_run(dam->db, err, "DELETE FROM search_numbers WHERE asset_rowid=?", "i", arow)) < 0)
		return rc;
	return 0;
}

static int index_asset(struct dam *dam, const char *id, const json_t *defs, struct dam_err *err)
{
	struct db_stmt *st;
	struct doc d = { .be = dam->search_be, .dam = dam, .err = err };
	int64_t arow = 0, created = 0, updated = 0, size = 0;
	char kind[32] = "", format[32] = "", status[16] = "", current[DAM_ID_LEN + 1] = "";
	char *meta = NULL;
	bool deleted = false, found = false;
	int rc;

	rc = db_query(dam->db, &st, err,
		      "SELECT a.num, a.kind, coalesce(v.format,''), coalesce(v.status,''), a.deleted_at IS NOT NULL,"
		      " a.created_at, a.updated_at, coalesce(v.size,0), coalesce(v.metadata,'{}'), a.name,"
		      " coalesce(a.current_version_id,'') FROM assets a LEFT JOIN versions v ON v.id = a.current_version_id"
		      " WHERE a.id=?", "s", id);
	if (rc < 0)
		return rc;
	if (!(d.d = d.be->doc_new())) {
		db_finalize(st);
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	}
	if ((rc = db_step(st, err)) == DB_ROW) {
		found = true;
		arow = d.arow = db_col_int(st, 0);
		snprintf(kind, sizeof kind, "%s", db_col_text(st, 1));
		snprintf(format, sizeof format, "%s", db_col_text(st, 2));
		snprintf(status, sizeof status, "%s", db_col_text(st, 3));
		deleted = db_col_int(st, 4);
		created = db_col_int(st, 5);
		updated = db_col_int(st, 6);
		size = db_col_int(st, 7);
		if (!(meta = strdup(db_col_text(st, 8))))
			rc = dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
		add(&d, SEARCH_COL_FILENAME, db_col_text(st, 9));
		snprintf(current, sizeof current, "%s", db_col_text(st, 10));
	}
	db_finalize(st);
	if (rc < 0 || !found)
		goto out;
	if ((rc = clear_asset(dam, arow, err)) < 0 || (rc = facet(&d, "type", kind)) < 0 ||
	    (rc = facet(&d, "format", format)) < 0 ||
	    (rc = facet(&d, "status", deleted ? "deleted" : status)) < 0 ||
	    (rc = number(&d, "created", (double)created)) < 0 ||
	    (rc = number(&d, "updated", (double)updated)) < 0 ||
	    (rc = number(&d, "size", (double)size)) < 0 ||
	    (rc = tags_of(dam, id, &d, err)) < 0 || (rc = fields_of(dam, id, defs, &d, err)) < 0 ||
	    (rc = metadata_of(meta, &d)) < 0 || (rc = put_docs(dam, id, arow, current, &d, err)) < 0 ||
	    (rc = write_rows(&d)) < 0)
		goto out;
	rc = db_run(dam->db, err, "INSERT INTO search_log(asset_rowid) VALUES (?)", "i", arow);
out:
	free(meta);
	free_rows(&d);
	d.be->doc_free(d.d);
	return rc < 0 ? rc : 0;
}

/* Field definitions keyed by field key. */
static json_t *load_defs(struct dam *dam)
{
	json_t *list = NULL, *byk = json_object(), *def;
	size_t i;

	if (fielddef_list(dam, &list, NULL) == 0)
		json_array_foreach(list, i, def)
			json_object_set(byk, json_string_value(json_object_get(def, "key")), def);
	json_decref(list);
	return byk;
}

int search_sync(struct dam *dam, int max, struct dam_err *err)
{
	char ids[BATCH][DAM_ID_LEN + 1];
	json_t *defs = NULL;
	int total = 0, n, rc = 0;

	do {
		struct db_stmt *st;
		n = 0;
		if ((rc = db_query(dam->db, &st, err, "SELECT DISTINCT asset_id FROM search_dirty LIMIT ?", "i", (int64_t)BATCH)) < 0)
			break;
		while (n < BATCH && (rc = db_step(st, err)) == DB_ROW)
			snprintf(ids[n++], DAM_ID_LEN + 1, "%s", db_col_text(st, 0));
		db_finalize(st);
		if (rc < 0 || n == 0)
			break;
		if (!defs)
			defs = load_defs(dam);
		if ((rc = db_begin(dam->db, err)) < 0)
			break;
		for (int i = 0; i < n && rc >= 0; i++)
			if ((rc = index_asset(dam, ids[i], defs, err)) >= 0)
				rc = db_run(dam->db, err, "DELETE FROM search_dirty WHERE asset_id=?", "s", ids[i]);
		if (rc < 0) {
			db_rollback(dam->db);
			break;
		}
		if ((rc = db_commit(dam->db, err)) < 0)
			break;
		total += n;
	} while (n == BATCH && (max == 0 || total < max));
	json_decref(defs);
	return rc < 0 ? rc : total;
}
