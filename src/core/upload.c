#include "core/upload.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/asset.h"
#include "core/job.h"
#include "util/timeutil.h"
#include "util/utf8.h"

/* Appends to one upload are serialised in this process by a striped lock
 * (the offset check in the database catches anything else). */
static pthread_mutex_t stripes[32] = {
#define M PTHREAD_MUTEX_INITIALIZER
	M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
#undef M
};

static pthread_mutex_t *stripe(const char *id)
{
	unsigned h = 0;

	for (const char *p = id; *p; p++)
		h = h * 31 + (unsigned char)*p;
	return &stripes[h % 32];
}

void upload_info_release(struct upload_info *u)
{
	json_decref(u->result);
	u->result = NULL;
}

json_t *ingest_result_json(const struct ingest_result *r, const char *name)
{
	json_t *o = json_pack("{s:s}", "status", ingest_status_name(r->status));

	if (name)
		json_object_set_new(o, "name", json_string(name));
	if (r->status == INGEST_FAILED) {
		json_object_set_new(o, "error", json_string(r->err.msg));
		return o;
	}
	json_object_set_new(o, "hash", json_string(r->hash));
	json_object_set_new(o, "size", json_integer((json_int_t)r->size));
	json_object_set_new(o, "mime", json_string(r->sniff.mime));
	json_object_set_new(o, "kind", json_string(media_kind_name(r->sniff.kind)));
	if (r->sniff.ext_mismatch) {
		char w[300];
		json_object_set_new(o, "extension_mismatch", json_string(r->sniff.ext_expected));
		json_object_set_new(o, "detected_type", json_string(r->sniff.mime));
		if (media_sniff_warning(&r->sniff, w, sizeof w))
			json_object_set_new(o, "warning", json_string(w));
	}
	if (r->status == INGEST_ADDED || r->status == INGEST_VERSION) {
		json_object_set_new(o, "asset_id", json_string(r->asset_id));
		json_object_set_new(o, "version_id", json_string(r->version_id));
		json_object_set_new(o, "version", json_integer(r->version_number));
	}
	if (r->status == INGEST_DUPLICATE)
		json_object_set_new(o, "duplicate_of", json_string(r->duplicate_of));
	return o;
}

static int load(struct dam *dam, const char *id, const char *user_id, struct upload_info *u,
		unsigned char state[BLOB_HASH_STATE_SIZE], json_t **options, struct dam_err *err)
{
	struct db_stmt *st;
	int rc;

	memset(u, 0, sizeof *u);
	if (!id_valid(id))
		return dam_err_set(err, DAM_ENOTFOUND, "upload", "no such upload");
	rc = db_query(dam->db, &st, err,
		      "SELECT id, coalesce(user_id,''), filename, length, \"offset\", hash_state, options, expires_at,"
		      " result FROM uploads WHERE id=? AND (CAST(? AS TEXT) IS NULL OR user_id=?) AND (expires_at>? OR result IS NOT NULL)",
		      "sssi", id, user_id, user_id, (int64_t)time_now_ms());
	if (rc < 0)
		return rc;
	if ((rc = db_step(st, err)) == DB_ROW) {
		size_t n;
		const void *hs = db_col_blob(st, 5, &n);
		snprintf(u->id, sizeof u->id, "%s", db_col_text(st, 0));
		snprintf(u->user_id, sizeof u->user_id, "%s", db_col_text(st, 1));
		snprintf(u->filename, sizeof u->filename, "%s", db_col_text(st, 2));
		u->length = (uint64_t)db_col_int(st, 3);
		u->offset = (uint64_t)db_col_int(st, 4);
		u->expires_at = (uint64_t)db_col_int(st, 7);
		int e = state ? blob_hash_state_load(hs, n, state, err) : 0;
		if (e < 0) {
			db_finalize(st);
			return e;
		}
		if (options)
			*options = json_loads(db_col_text(st, 6), 0, NULL);
		if (!db_col_is_null(st, 8))
			u->result = json_loads(db_col_text(st, 8), 0, NULL);
	}
	db_finalize(st);
	if (rc == DB_DONE)
		return dam_err_set(err, DAM_ENOTFOUND, "upload", "no such upload (unknown, expired or not yours)");
	return rc < 0 ? rc : 0;
}

int upload_get(struct dam *dam, const char *id, const char *user_id, struct upload_info *out,
	       struct dam_err *err)
{
	return load(dam, id, user_id, out, NULL, NULL, err);
}

int upload_create(struct dam *dam, const char *user_id, const char *filename, uint64_t length,
		  const json_t *options, struct upload_info *out, struct dam_err *err)
{
	unsigned char state[BLOB_HASH_STATE_SIZE];
	uint64_t now = time_now_ms();
	char *opts = NULL;
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = utf8_name_check(filename ? filename : "", filename ? strlen(filename) : 0, DAM_NAME_MAX,
				  "the file name", "filename", err)) < 0)
		return rc;
	if (strchr(filename, '/'))
		return dam_err_set(err, DAM_EINVAL, "filename", "the file name may not contain '/'");
	if (length == 0)
		return dam_err_set(err, DAM_EINVAL, "Upload-Length", "empty files cannot be uploaded");
	id_new(out->id);
	blob_hash_state_init(state);
	opts = options ? json_dumps(options, JSON_COMPACT) : strdup("{}");
	if ((rc = blob_partial_create(dam->store, out->id, err)) < 0)
		goto out;
	rc = db_run(dam->db, err,
		    "INSERT INTO uploads(id, user_id, filename, length, hash_state, options, created_at, expires_at)"
		    " VALUES (?,?,?,?,?,?,?,?)",
		    "sssibsii", out->id, user_id, filename, (int64_t)length, state, (size_t)sizeof state, opts,
		    (int64_t)now, (int64_t)(now + UPLOAD_TTL_MS));
	if (rc < 0) {
		blob_partial_delete(dam->store, out->id, NULL);
		goto out;
	}
	snprintf(out->user_id, sizeof out->user_id, "%s", user_id ? user_id : "");
	snprintf(out->filename, sizeof out->filename, "%s", filename);
	out->length = length;
	out->expires_at = now + UPLOAD_TTL_MS;
	rc = 0;
out:
	free(opts);
	return rc;
}

/* Options saved at creation become ingest options. */
static int complete(struct dam *dam, struct upload_info *u, const unsigned char state[BLOB_HASH_STATE_SIZE],
		    const json_t *options, struct dam_err *err)
{
	struct ingest_opts o = { .priority = JOB_PRIO_INTERACTIVE, .user_id = u->user_id[0] ? u->user_id : NULL };
	const char *tags[64], *keys[64], *vals[64];
	struct ingest_result r;
	char hash[BLOB_KEY_LEN + 1], *res = NULL;
	const char *k;
	json_t *v;
	size_t i;
	int rc;

	json_array_foreach(json_object_get(options, "tags"), i, v)
		if (json_is_string(v) && o.ntags < 64)
			tags[o.ntags++] = json_string_value(v);
	json_object_foreach((json_t *)json_object_get(options, "fields"), k, v)
		if (json_is_string(v) && o.nmeta < 64) {
			keys[o.nmeta] = k;
			vals[o.nmeta++] = json_string_value(v);
		}
	o.tags = tags;
	o.meta_keys = keys;
	o.meta_values = vals;
	o.new_version_of = json_string_value(json_object_get(options, "new_version_of"));
	o.template_name = json_string_value(json_object_get(options, "template"));
	blob_hash_state_final(state, hash);
	if ((rc = ingest_partial(dam, u->id, hash, u->filename, &o, &r)) < 0)
		return rc;
	u->result = ingest_result_json(&r, u->filename);
	res = json_dumps(u->result, JSON_COMPACT);
	rc = db_run(dam->db, err, "UPDATE uploads SET result=? WHERE id=?", "ss", res, u->id);
	free(res);
	if (r.status == INGEST_FAILED)
		blob_partial_delete(dam->store, u->id, NULL);
	return rc < 0 ? rc : 0;
}

/*
 * Durability: the offset a PATCH reports must survive a crash of the
 * process or of the machine, because a tus client resumes from it and never
 * sends those bytes again. So before answering, both halves of the upload's
 * state are on disk: the bytes (blob_partial_append_at fdatasyncs them) and
 * the row with the new offset and hash state (committed with
 * db_set_durable on, i.e. the WAL is synced; the connection's default,
 * synchronous=NORMAL, could lose the commit at a power cut while the bytes
 * stayed). The bytes are synced first: a crash between the two leaves
 * bytes past the recorded offset that no client was told about, and the
 * next append cuts them off (the row is the record, the bytes beyond it are
 * not). Each chunk therefore costs one fdatasync of the data, most of it
 * overlapped with the copy (writeback starts piece by piece), and one sync
 * of a small WAL append.
 */
int upload_append(struct dam *dam, const char *id, const char *user_id, uint64_t offset,
		  const void *data, size_t len, struct upload_info *u, struct dam_err *err)
{
	unsigned char state[BLOB_HASH_STATE_SIZE];
	pthread_mutex_t *m = stripe(id);
	struct blob_partial *part = NULL;
	json_t *options = NULL;
	bool done;
	int rc;

	pthread_mutex_lock(m);
	/* The partial object's lock serialises appenders across processes (the
	 * stripe does it within this one); the row is read under it. */
	if ((rc = load(dam, id, user_id, u, NULL, NULL, err)) < 0)
		goto out;
	done = u->result != NULL;
	upload_info_release(u);
	if ((rc = blob_partial_open_append(dam->store, id, &part, err)) < 0) {
		/* A complete upload's bytes were published under their hash. */
		if (rc == DAM_ENOTFOUND && done)
			rc = dam_err_set(err, DAM_ECONFLICT, "Upload-Offset", "this upload is already complete");
		goto out;
	}
	if ((rc = load(dam, id, user_id, u, state, &options, err)) < 0)
		goto out;
	if (u->result) {
		rc = dam_err_set(err, DAM_ECONFLICT, "Upload-Offset", "this upload is already complete");
		goto out;
	}
	if (offset != u->offset) {
		rc = dam_err_set(err, DAM_ECONFLICT, "Upload-Offset", "the upload is at offset %llu, not %llu",
				 (unsigned long long)u->offset, (unsigned long long)offset);
		goto out;
	}
	if (offset + len > u->length) {
		rc = dam_err_set(err, DAM_ELIMIT, "Upload-Length", "the chunk would pass the declared length of %llu bytes",
				 (unsigned long long)u->length);
		goto out;
	}
	if ((rc = blob_partial_append_at(part, offset, data, len, state, err)) < 0)
		goto out;
	if ((rc = db_set_durable(dam->db, 1, err)) < 0)
		goto out;
	rc = db_run(dam->db, err, "UPDATE uploads SET \"offset\"=?, hash_state=? WHERE id=? AND \"offset\"=?", "ibsi",
		    (int64_t)(offset + len), state, (size_t)sizeof state, id, (int64_t)offset);
	db_set_durable(dam->db, 0, NULL);
	if (rc == 0)
		rc = dam_err_set(err, DAM_ECONFLICT, "Upload-Offset", "the upload moved on meanwhile");
	if (rc < 0)
		goto out;
	u->offset = offset + len;
	/* Still under the lock, so no other process completes it too. */
	rc = u->offset == u->length ? complete(dam, u, state, options, err) : 0;
out:
	blob_partial_close(part);
	pthread_mutex_unlock(m);
	json_decref(options);
	return rc;
}

int upload_delete(struct dam *dam, const char *id, const char *user_id, struct dam_err *err)
{
	struct upload_info u;
	int rc;

	if ((rc = load(dam, id, user_id, &u, NULL, NULL, err)) < 0)
		return rc;
	upload_info_release(&u);
	if ((rc = db_run(dam->db, err, "DELETE FROM uploads WHERE id=?", "s", id)) < 0)
		return rc;
	blob_partial_delete(dam->store, id, NULL);
	return 0;
}

int upload_expire(struct dam *dam, struct dam_err *err)
{
	struct db_stmt *st;
	char ids[128][DAM_ID_LEN + 1];
	int n = 0, rc;

	rc = db_query(dam->db, &st, err, "SELECT id FROM uploads WHERE expires_at<=? LIMIT 128", "i",
		      (int64_t)time_now_ms());
	if (rc < 0)
		return rc;
	while (n < 128 && (rc = db_step(st, err)) == DB_ROW)
		snprintf(ids[n++], DAM_ID_LEN + 1, "%s", db_col_text(st, 0));
	db_finalize(st);
	for (int i = 0; i < n; i++) {
		blob_partial_delete(dam->store, ids[i], NULL);
		db_run(dam->db, NULL, "DELETE FROM uploads WHERE id=?", "s", ids[i]);
	}
	return rc < 0 ? rc : n;
}
