#include "core/asset.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/audit.h"
#include "core/delivery.h"
#include "core/fielddef.h"
#include "util/timeutil.h"
#include "util/utf8.h"

#define FIELD_VALUE_MAX (64 * 1024)
int asset_resolve(struct dam *dam, const char *ref, char out[DAM_ID_LEN + 1], struct dam_err *err)
{
	struct db_stmt *st;
	char lo[DAM_ID_LEN + 1], hi[DAM_ID_LEN + 2];
	int rc, n = 0;
	size_t len = strlen(ref);

	if (len < 6 || len > DAM_ID_LEN || strspn(ref, "0123456789abcdef-") != len)
		return dam_err_set(err, DAM_EINVAL, "id",
				   "\"%.80s\" is not an asset id (a UUID, or a unique prefix of at least 6 characters)", ref);
	/* A range on the primary key, not LIKE: LIKE ignores case, so SQLite
	 * cannot use the (case-sensitive) index for it and scanned every
	 * asset. Ids are [0-9a-f-], all below '~', so the ids starting with
	 * ref are exactly those in [ref, ref + "~"). */
	snprintf(lo, sizeof lo, "%s", ref);
	snprintf(hi, sizeof hi, "%s~", ref);
	if ((rc = db_query(dam->db, &st, err, "SELECT id FROM assets WHERE id >= ? AND id < ? LIMIT 2", "ss", lo, hi)) < 0)
		return rc;
	while ((rc = db_step(st, err)) == DB_ROW)
		if (n++ == 0)
			snprintf(out, DAM_ID_LEN + 1, "%s", db_col_text(st, 0));
	db_finalize(st);
	if (rc < 0)
		return rc;
	if (n == 0)
		return dam_err_set(err, DAM_ENOTFOUND, "id", "no asset %s", ref);
	if (n > 1)
		return dam_err_set(err, DAM_EINVAL, "id", "asset id prefix %s is ambiguous; give more characters", ref);
	return 0;
}

static int load_renditions(struct dam *dam, const char *version_id, json_t *out, struct dam_err *err)
{
	struct db_stmt *st;
	int rc;

	rc = db_query(dam->db, &st, err,
		      "SELECT name, blob_hash, mime, size, width, height, spec, created_at, enlarged FROM renditions"
		      " WHERE version_id=? ORDER BY name", "s", version_id);
	if (rc < 0)
		return rc;
	while ((rc = db_step(st, err)) == DB_ROW) {
		json_t *r = json_pack("{s:s,s:s,s:s,s:I,s:I,s:I,s:o,s:o}", "name", db_col_text(st, 0),
				      "hash", db_col_text(st, 1), "mime", db_col_text(st, 2),
				      "size", (json_int_t)db_col_int(st, 3), "width", (json_int_t)db_col_int(st, 4),
				      "height", (json_int_t)db_col_int(st, 5),
				      "spec", json_loads(db_col_text(st, 6), 0, NULL) ?: json_null(),
				      "created_at", time_json(db_col_int(st, 7)));
		/* preset renditions: how much the master was enlarged (1 = not) */
		if (!db_col_is_null(st, 8))
			json_object_set_new(r, "enlarged", json_real(db_col_double(st, 8)));
		json_array_append_new(out, r);
	}
	db_finalize(st);
	return rc < 0 ? rc : 0;
}

static int load_versions(struct dam *dam, const char *id, json_t *asset, struct dam_err *err)
{
	struct db_stmt *st;
	json_t *versions = json_array();
	int rc;

	json_object_set_new(asset, "versions", versions);
	rc = db_query(dam->db, &st, err,
		      "SELECT id, number, blob_hash, size, filename, mime, kind, format, ext_mismatch,"
		      " expected_ext, metadata, status, error, created_at, created_by FROM versions"
		      " WHERE asset_id=? ORDER BY number", "s", id);
	if (rc < 0)
		return rc;
	while ((rc = db_step(st, err)) == DB_ROW) {
		json_t *v = json_pack("{s:s,s:I,s:s,s:I,s:s,s:s,s:s,s:s,s:b,s:s,s:o,s:o,s:s,s:o}",
			"id", db_col_text(st, 0), "number", (json_int_t)db_col_int(st, 1),
			"hash", db_col_text(st, 2), "size", (json_int_t)db_col_int(st, 3),
			"filename", db_col_text(st, 4), "mime", db_col_text(st, 5), "kind", db_col_text(st, 6),
			"format", db_col_text(st, 7), "extension_mismatch", (int)db_col_int(st, 8),
			"status", db_col_text(st, 11),
			"metadata", db_col_is_null(st, 10) ? json_object() : (json_loads(db_col_text(st, 10), 0, NULL) ?: json_object()),
			"error", db_col_is_null(st, 12) ? json_null() : json_string(db_col_text(st, 12)),
			"created_by", db_col_text(st, 14), "created_at", time_json(db_col_int(st, 13)));
		if (db_col_int(st, 8))
			json_object_set_new(v, "expected_extension", json_string(db_col_text(st, 9)));
		json_object_set_new(v, "renditions", json_array());
		json_array_append_new(versions, v);
	}
	db_finalize(st);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < json_array_size(versions); i++) {
		json_t *v = json_array_get(versions, i);
		if ((rc = load_renditions(dam, json_string_value(json_object_get(v, "id")),
					  json_object_get(v, "renditions"), err)) < 0)
			return rc;
	}
	return 0;
}

static int load_tags_fields(struct dam *dam, const char *id, json_t *asset, struct dam_err *err)
{
	struct db_stmt *st;
	json_t *tags = json_array(), *fields = json_object();
	int rc;

	json_object_set_new(asset, "tags", tags);
	json_object_set_new(asset, "fields", fields);
	if ((rc = db_query(dam->db, &st, err,
			   "SELECT tag, source, confidence FROM tags WHERE asset_id=? ORDER BY tag", "s", id)) < 0)
		return rc;
	while ((rc = db_step(st, err)) == DB_ROW) {
		json_t *t = json_pack("{s:s,s:s}", "tag", db_col_text(st, 0), "source", db_col_text(st, 1));
		if (!db_col_is_null(st, 2))
			json_object_set_new(t, "confidence", json_real(db_col_double(st, 2)));
		json_array_append_new(tags, t);
	}
	db_finalize(st);
	if (rc < 0)
		return rc;
	if ((rc = db_query(dam->db, &st, err,
			   "SELECT key, value FROM fields WHERE asset_id=? ORDER BY key", "s", id)) < 0)
		return rc;
	while ((rc = db_step(st, err)) == DB_ROW)
		json_object_set_new(fields, db_col_text(st, 0), json_string(db_col_text(st, 1)));
	db_finalize(st);
	return rc < 0 ? rc : 0;
}

int asset_get(struct dam *dam, const char *ref, json_t **out, struct dam_err *err)
{
	struct db_stmt *st;
	char id[DAM_ID_LEN + 1];
	json_t *a = NULL;
	int rc;

	*out = NULL;
	if ((rc = asset_resolve(dam, ref, id, err)) < 0)
		return rc;
	if ((rc = db_query(dam->db, &st, err,
			   "SELECT id, name, kind, coalesce(current_version_id,''), coalesce(source_path,''),"
			   " created_at, updated_at, deleted_at, coalesce(created_by,''), focal_x, focal_y"
			   " FROM assets WHERE id=?", "s", id)) < 0)
		return rc;
	if ((rc = db_step(st, err)) == DB_ROW) {
		a = json_pack("{s:s,s:s,s:s,s:s,s:o,s:o,s:b}", "id", db_col_text(st, 0),
			      "name", db_col_text(st, 1), "kind", db_col_text(st, 2),
			      "current_version_id", db_col_text(st, 3), "created_at", time_json(db_col_int(st, 5)),
			      "updated_at", time_json(db_col_int(st, 6)), "deleted", !db_col_is_null(st, 7));
		if (*db_col_text(st, 4))
			json_object_set_new(a, "source_path", json_string(db_col_text(st, 4)));
		json_object_set_new(a, "created_by", *db_col_text(st, 8) ? json_string(db_col_text(st, 8)) : json_null());
		json_object_set_new(a, "focal", db_col_is_null(st, 9) ? json_null()
					 : json_pack("{s:f,s:f}", "x", db_col_double(st, 9), "y", db_col_double(st, 10)));
	}
	db_finalize(st);
	if (rc < 0 || !a)
		return rc < 0 ? rc : dam_err_set(err, DAM_ENOTFOUND, "id", "no asset %s", ref);
	if ((rc = load_versions(dam, id, a, err)) < 0 || (rc = load_tags_fields(dam, id, a, err)) < 0) {
		json_decref(a);
		return rc;
	}
	*out = a;
	return 0;
}

int asset_list(struct dam *dam, const struct asset_filter *f, json_t **out, struct dam_err *err)
{
	struct db_stmt *st;
	json_t *arr = json_array();
	int rc;

	rc = db_query(dam->db, &st, err,
		      "SELECT a.id, a.name, a.kind, v.size, v.status, a.created_at, v.mime,"
		      " (SELECT {{str_agg(tag, tag, ', ')}} FROM (SELECT tag FROM tags WHERE asset_id=a.id ORDER BY tag) AS t),"
		      " a.updated_at"
		      " FROM assets a JOIN versions v ON v.id = a.current_version_id"
		      " WHERE (a.deleted_at IS NOT NULL) = ? AND (CAST(? AS TEXT) IS NULL OR a.kind = ?)"
		      " AND (CAST(? AS TEXT) IS NULL OR EXISTS (SELECT 1 FROM tags t WHERE t.asset_id=a.id AND t.tag=?))"
		      " AND (CAST(? AS TEXT) IS NULL OR EXISTS (SELECT 1 FROM fields f WHERE f.asset_id=a.id AND f.key=? AND f.value=?))"
		      " AND a.created_at >= ? AND (CAST(? AS BIGINT) = 0 OR a.created_at < ?)"
		      " AND a.updated_at >= ? AND (CAST(? AS BIGINT) = 0 OR a.updated_at < ?)"
		      " AND (CAST(? AS TEXT) IS NULL OR a.id < ?)"
		      " ORDER BY a.id DESC LIMIT ?",
		      "isssssssiiiiiissi", (int64_t)f->deleted, f->kind, f->kind, f->tag, f->tag,
		      f->field_key, f->field_key, f->field_value, (int64_t)f->since_ms, (int64_t)f->before_ms,
		      (int64_t)f->before_ms, (int64_t)f->updated_since_ms, (int64_t)f->updated_before_ms,
		      (int64_t)f->updated_before_ms, f->after_id, f->after_id,
		      (int64_t)(f->limit > 0 ? f->limit : 100));
	if (rc < 0) {
		json_decref(arr);
		return rc;
	}
	while ((rc = db_step(st, err)) == DB_ROW)
		json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:I,s:s,s:o,s:o,s:s,s:s}",
			"id", db_col_text(st, 0), "name", db_col_text(st, 1), "kind", db_col_text(st, 2),
			"size", (json_int_t)db_col_int(st, 3), "status", db_col_text(st, 4),
			"created_at", time_json(db_col_int(st, 5)), "updated_at", time_json(db_col_int(st, 8)),
			"mime", db_col_text(st, 6), "tags", db_col_text(st, 7)));
	db_finalize(st);
	if (rc < 0) {
		json_decref(arr);
		return rc;
	}
	*out = arr;
	return 0;
}

static int touch(struct dam *dam, const char *id, struct dam_err *err)
{
	return db_run(dam->db, err, "UPDATE assets SET updated_at=? WHERE id=?", "is",
		      (int64_t)time_now_ms(), id);
}

static int tag_apply(struct dam *dam, const char *id, const char *tag, bool add, struct dam_err *err)
{
	int64_t now = (int64_t)time_now_ms();
	int rc;

	if (add) {
		if ((rc = db_run(dam->db, err, "DELETE FROM tag_removals WHERE asset_id=? AND tag=?", "ss", id, tag)) < 0)
			return rc;
		return db_run(dam->db, err,
			      "INSERT INTO tags(asset_id, tag, source, created_at) VALUES (?,?,'user',?)"
			      " ON CONFLICT(asset_id, tag) DO UPDATE SET source='user', confidence=NULL",
			      "ssi", id, tag, now);
	}
	if ((rc = db_run(dam->db, err,
			 "INSERT INTO tag_removals(asset_id, tag)"
			 " SELECT asset_id, tag FROM tags WHERE asset_id=? AND tag=? AND source!='user'"
			 " ON CONFLICT (asset_id, tag) DO NOTHING",
			 "ss", id, tag)) < 0)
		return rc;
	return db_run(dam->db, err, "DELETE FROM tags WHERE asset_id=? AND tag=?", "ss", id, tag);
}

static int check_tags(const char *const *tags, int n, struct dam_err *err)
{
	for (int i = 0; i < n; i++)
		if (!asset_tag_valid(tags[i]))
			return dam_err_set(err, DAM_EINVAL, "tags",
					   "invalid tag \"%.60s\": tags are 1-200 bytes of UTF-8 without control characters or edge spaces",
					   tags[i]);
	return 0;
}

static int check_fields(const char *const *keys, const char *const *values, int n, struct dam_err *err)
{
	for (int i = 0; i < n; i++) {
		size_t vl = strlen(values[i]);
		if (!asset_field_key_valid(keys[i]))
			return dam_err_set(err, DAM_EINVAL, keys[i],
					   "invalid field name \"%.64s\": use 1-64 of a-z 0-9 _ . -", keys[i]);
		if (vl > FIELD_VALUE_MAX || !utf8_valid(values[i], vl))
			return dam_err_set(err, DAM_EINVAL, keys[i],
					   "value of field %s must be valid UTF-8 of at most 64 KB", keys[i]);
	}
	return 0;
}

/* Inside a transaction: tag changes, recorded into added/removed. */
static int tags_apply(struct dam *dam, const char *id, const char *const *add, int nadd,
		      const char *const *remove, int nremove, json_t *added, json_t *removed,
		      struct dam_err *err)
{
	int rc = 0;

	for (int i = 0; i < nadd + nremove && rc >= 0; i++) {
		bool is_add = i < nadd;
		const char *t = is_add ? add[i] : remove[i - nadd];
		rc = tag_apply(dam, id, t, is_add, err);
		json_array_append_new(is_add ? added : removed, json_string(t));
	}
	return rc < 0 ? rc : 0;
}

static int field_old(struct dam *dam, const char *id, const char *key, json_t *before, struct dam_err *err)
{
	struct db_stmt *st;
	int rc;

	if ((rc = db_query(dam->db, &st, err, "SELECT value FROM fields WHERE asset_id=? AND key=?", "ss", id, key)) < 0)
		return rc;
	rc = db_step(st, err);
	json_object_set_new(before, key, rc == DB_ROW ? json_string(db_col_text(st, 0)) : json_null());
	db_finalize(st);
	return rc < 0 ? rc : 0;
}

/* Inside a transaction: field changes, recorded into before/after. */
static int fields_apply(struct dam *dam, const char *id, const char *const *keys,
			const char *const *values, int n, json_t *before, json_t *after, struct dam_err *err)
{
	int64_t now = (int64_t)time_now_ms();
	bool requeue = false;
	int rc = 0;

	for (int i = 0; i < n && rc >= 0; i++) {
		if ((rc = field_old(dam, id, keys[i], before, err)) < 0)
			break;
		if (!*values[i]) {
			rc = db_run(dam->db, err, "DELETE FROM fields WHERE asset_id=? AND key=?", "ss", id, keys[i]);
			json_object_set_new(after, keys[i], json_null());
		} else {
			char *v = NULL; /* a vocabulary synonym is stored as its term */
			if ((rc = fielddef_canonical(dam, keys[i], values[i], &v, err)) == 0)
				rc = db_run(dam->db, err,
					    "INSERT INTO fields(asset_id, key, value, source, updated_at) VALUES (?,?,?,'user',?)"
					    " ON CONFLICT(asset_id, key) DO UPDATE SET value=excluded.value, source='user',"
					    " updated_at=excluded.updated_at", "sssi", id, keys[i], v, now);
			json_object_set_new(after, keys[i], json_string(v ? v : values[i]));
			free(v);
		}
		/* Renditions carry the copyright and creator: re-make them. */
		if (rc >= 0 && (!strcmp(keys[i], "copyright") || !strcmp(keys[i], "creator")))
			requeue = true;
	}
	if (rc >= 0 && requeue)
		rc = delivery_queue_renditions(dam, id, err);
	return rc < 0 ? rc : 0;
}

int asset_etag_of_json(const json_t *a, char out[ASSET_ETAG_LEN + 1])
{
	unsigned char d[crypto_hash_sha256_BYTES];
	char *s = json_dumps(a, JSON_COMPACT | JSON_SORT_KEYS);

	if (!s)
		return DAM_ENOMEM;
	crypto_hash_sha256(d, (unsigned char *)s, strlen(s));
	free(s);
	sodium_bin2hex(out, ASSET_ETAG_LEN + 1, d, ASSET_ETAG_LEN / 2);
	return 0;
}

static int etag_of(struct dam *dam, const char *id, char out[ASSET_ETAG_LEN + 1], struct dam_err *err)
{
	json_t *a;
	int rc;

	if ((rc = asset_get(dam, id, &a, err)) < 0)
		return rc;
	rc = asset_etag_of_json(a, out);
	json_decref(a);
	return rc < 0 ? dam_err_set(err, rc, NULL, "out of memory") : 0;
}

int asset_etag(struct dam *dam, const char *ref, char out[ASSET_ETAG_LEN + 1], struct dam_err *err)
{
	char id[DAM_ID_LEN + 1];
	int rc;

	if ((rc = asset_resolve(dam, ref, id, err)) < 0)
		return rc;
	return etag_of(dam, id, out, err);
}

#define ASSET_DOC_CACHE 32
#define ASSET_DOC_MAX (64 * 1024) /* larger documents are made each time: at most 2 MiB a handle */

struct doc_cache {
	struct doc_entry {
		char ref[DAM_ID_LEN + 1]; /* as asked: an id or a prefix ("" = free) */
		struct asset_doc doc;     /* doc.json points at text */
		char *text;
		struct db_version version;
		uint64_t used;
	} e[ASSET_DOC_CACHE];
	uint64_t tick;
	char *uncached; /* the last document too large to keep */
};

static void *doc_cache_create(void)
{
	return calloc(1, sizeof(struct doc_cache));
}

static void doc_cache_destroy(void *cache)
{
	struct doc_cache *c = cache;

	for (int i = 0; i < ASSET_DOC_CACHE; i++)
		free(c->e[i].text);
	free(c->uncached);
	free(c);
}

/* The handle frees it (library_close); see struct library_cache_kind. */
static const struct library_cache_kind doc_cache_kind = {
	"asset documents", doc_cache_create, doc_cache_destroy,
};

static struct doc_entry *doc_find(struct doc_cache *c, const char *ref, const struct db_version *v)
{
	for (int i = 0; i < ASSET_DOC_CACHE; i++) {
		struct doc_entry *e = &c->e[i];
		if (e->text && !strcmp(e->ref, ref)) {
			if (e->version.others != v->others || e->version.own != v->own)
				return NULL;
			e->used = ++c->tick;
			return e;
		}
	}
	return NULL;
}

static struct doc_entry *doc_slot(struct doc_cache *c, const char *ref)
{
	struct doc_entry *lru = &c->e[0];

	for (int i = 0; i < ASSET_DOC_CACHE; i++) {
		struct doc_entry *e = &c->e[i];
		if (!e->text || !strcmp(e->ref, ref))
			return e;
		if (e->used < lru->used)
			lru = e;
	}
	return lru;
}

/* Builds the document for ref into doc; *text (caller frees) holds the JSON. */
static int doc_build(struct dam *dam, const char *ref, struct asset_doc *doc, char **text, struct dam_err *err)
{
	json_t *a;
	int rc;

	memset(doc, 0, sizeof *doc);
	if ((rc = asset_get(dam, ref, &a, err)) < 0)
		return rc;
	snprintf(doc->id, sizeof doc->id, "%s", json_string_value(json_object_get(a, "id")));
	snprintf(doc->created_by, sizeof doc->created_by, "%s",
		 json_string_value(json_object_get(a, "created_by")) ?: "");
	if (asset_etag_of_json(a, doc->etag) < 0 || !(*text = json_dumps(a, JSON_COMPACT | JSON_REAL_PRECISION(6))))
		rc = dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	json_decref(a);
	if (rc == 0) {
		doc->json = *text;
		doc->len = strlen(*text);
	}
	return rc;
}

int asset_doc_get(struct dam *dam, const char *ref, struct asset_doc *out, struct dam_err *err)
{
	struct doc_cache *c;
	struct db_version v;
	struct doc_entry *e;
	char *text = NULL;
	int rc;

	if (strlen(ref) > DAM_ID_LEN)
		return dam_err_set(err, DAM_EINVAL, "id", "\"%.80s\" is not an asset id", ref);
	if (!(c = library__cache(dam, &doc_cache_kind)))
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	/* Read before building, so a commit racing with the build changes
	 * the version the entry is checked against. */
	if ((rc = library__data_version(dam, &v, err)) < 0)
		return rc;
	if ((e = doc_find(c, ref, &v))) {
		*out = e->doc;
		return 0;
	}
	if ((rc = doc_build(dam, ref, out, &text, err)) < 0)
		return rc;
	if (out->len > ASSET_DOC_MAX) {
		free(c->uncached);
		c->uncached = text;
		return 0;
	}
	e = doc_slot(c, ref);
	free(e->text);
	snprintf(e->ref, sizeof e->ref, "%s", ref);
	e->text = text;
	e->doc = *out;
	e->version = v;
	e->used = ++c->tick;
	return 0;
}

struct patch {
	const struct asset_change *c;
	const char *if_match;
};

/* audit_tx change of asset_patch; the record holds the fields before and
 * the fields and tags changed. */
static int patch_rows(struct dam *dam, void *ctx, struct audit_rec *rec, struct dam_err *err)
{
	const struct patch *p = ctx;
	const struct asset_change *c = p->c;
	const char *id = rec->object_id;
	char etag[ASSET_ETAG_LEN + 1];
	json_t *before = json_object(), *after = json_object(), *added = json_array(), *removed = json_array();
	int rc;

	/* The precondition is read inside the write transaction, so no other
	 * change can slip in between the check and the write. */
	if (p->if_match && ((rc = etag_of(dam, id, etag, err)) < 0 ||
			    (strcmp(p->if_match, "*") && strcmp(p->if_match, etag) &&
			     (rc = dam_err_set(err, DAM_ECONFLICT, "If-Match",
					       "the asset changed since you read it (ETag is now \"%s\"); reload and retry", etag)) < 0)))
		goto out;
	if ((rc = fielddef_validate_all(dam, c->keys, c->values, c->nfields, err)) < 0 ||
	    (rc = fields_apply(dam, id, c->keys, c->values, c->nfields, before, after, err)) < 0 ||
	    (rc = tags_apply(dam, id, c->add, c->nadd, c->remove, c->nremove, added, removed, err)) < 0 ||
	    (rc = touch(dam, id, err)) < 0)
		goto out;
	rec->after = json_pack("{s:O,s:O,s:O}", "fields", after, "tags_added", added, "tags_removed", removed);
	rec->before = json_pack("{s:O}", "fields", before);
out:
	json_decref(before);
	json_decref(after);
	json_decref(added);
	json_decref(removed);
	return rc < 0 ? rc : 0;
}

int asset_patch(struct dam *dam, const char *ref, const struct asset_change *c, const char *if_match,
		struct dam_err *err)
{
	char id[DAM_ID_LEN + 1];
	struct patch p = { c, if_match };
	int rc;

	if ((rc = check_tags(c->add, c->nadd, err)) < 0 || (rc = check_tags(c->remove, c->nremove, err)) < 0 ||
	    (rc = check_fields(c->keys, c->values, c->nfields, err)) < 0 ||
	    (rc = asset_resolve(dam, ref, id, err)) < 0)
		return rc;
	return audit_tx(dam, "asset.update", "asset", id, patch_rows, &p, err);
}

int asset_tag(struct dam *dam, const char *ref, const char *const *add, int nadd,
	      const char *const *remove, int nremove, struct dam_err *err)
{
	struct asset_change c = { .add = add, .nadd = nadd, .remove = remove, .nremove = nremove };

	return asset_patch(dam, ref, &c, NULL, err);
}

int asset_set_fields(struct dam *dam, const char *ref, const char *const *keys,
		     const char *const *values, int n, struct dam_err *err)
{
	struct asset_change c = { .keys = keys, .values = values, .nfields = n };

	return asset_patch(dam, ref, &c, NULL, err);
}

static int deleted_rows(struct dam *dam, void *ctx, struct audit_rec *rec, struct dam_err *err)
{
	bool del = *(const bool *)ctx;
	int rc = db_run(dam->db, err,
			del ? "UPDATE assets SET deleted_at=?, updated_at=?1 WHERE id=? AND deleted_at IS NULL"
			    : "UPDATE assets SET deleted_at=NULL, updated_at=? WHERE id=? AND deleted_at IS NOT NULL",
			"is", (int64_t)time_now_ms(), rec->object_id);

	if (rc == 0)
		return dam_err_set(err, DAM_ECONFLICT, "id", "asset %s is %s", rec->object_id,
				   del ? "already deleted" : "not deleted");
	return rc < 0 ? rc : 0;
}

static int set_deleted(struct dam *dam, const char *ref, bool del, struct dam_err *err)
{
	char id[DAM_ID_LEN + 1];
	int rc;

	if ((rc = asset_resolve(dam, ref, id, err)) < 0)
		return rc;
	return audit_tx(dam, del ? "asset.delete" : "asset.restore", "asset", id, deleted_rows, &del, err);
}

int asset_delete(struct dam *dam, const char *id, struct dam_err *err)
{
	return set_deleted(dam, id, true, err);
}

int asset_restore(struct dam *dam, const char *id, struct dam_err *err)
{
	return set_deleted(dam, id, false, err);
}

int asset_blob_of(struct dam *dam, const char *ref, int version, const char *rendition,
		  char key[65], char mime[128], char filename[256], struct dam_err *err)
{
	struct db_stmt *st;
	char id[DAM_ID_LEN + 1];
	int rc;

	if ((rc = asset_resolve(dam, ref, id, err)) < 0)
		return rc;
	if (rendition)
		rc = db_query(dam->db, &st, err,
			      "SELECT r.blob_hash, r.mime, v.filename FROM versions v"
			      " JOIN assets a ON a.id = v.asset_id"
			      " JOIN renditions r ON r.version_id = v.id AND r.name = ?"
			      " WHERE v.asset_id = ? AND (v.number = ? OR (CAST(? AS BIGINT) = 0 AND v.id = a.current_version_id))",
			      "ssii", rendition, id, (int64_t)version, (int64_t)version);
	else
		rc = db_query(dam->db, &st, err,
			      "SELECT v.blob_hash, v.mime, v.filename FROM versions v JOIN assets a ON a.id = v.asset_id"
			      " WHERE v.asset_id = ? AND (v.number = ? OR (CAST(? AS BIGINT) = 0 AND v.id = a.current_version_id))",
			      "sii", id, (int64_t)version, (int64_t)version);
	if (rc < 0)
		return rc;
	if ((rc = db_step(st, err)) == DB_ROW) {
		snprintf(key, 65, "%s", db_col_text(st, 0));
		if (mime)
			snprintf(mime, 128, "%s", db_col_text(st, 1));
		if (filename)
			snprintf(filename, 256, "%s", db_col_text(st, 2));
	}
	db_finalize(st);
	if (rc == DB_DONE) {
		if (rendition)
			return dam_err_set(err, DAM_ENOTFOUND, "rendition", "asset %s has no rendition \"%s\"%s", id,
					   rendition, version ? " in that version" : "");
		return dam_err_set(err, DAM_ENOTFOUND, "version", "asset %s has no version %d", id, version);
	}
	return rc < 0 ? rc : 0;
}
