/* version.c - restoring an earlier version as a new current version. */
#include "core/version.h"

#include <stdio.h>
#include <string.h>

#include "core/asset.h"
#include "core/audit.h"
#include "core/job.h"
#include "core/refs.h"
#include "util/timeutil.h"

struct source {
	char version_id[DAM_ID_LEN + 1];
	char current_id[DAM_ID_LEN + 1];
	char hash[65];
	int64_t size;
	bool deleted;
};

static int load_source(struct dam *dam, const char *asset_id, int number, struct source *s, struct dam_err *err)
{
	struct db_stmt *st;
	int rc;

	if ((rc = db_query(dam->db, &st, err,
			   "SELECT v.id, v.blob_hash, v.size, coalesce(a.current_version_id,''), a.deleted_at IS NOT NULL"
			   " FROM versions v JOIN assets a ON a.id = v.asset_id WHERE v.asset_id=? AND v.number=?",
			   "si", asset_id, (int64_t)number)) < 0)
		return rc;
	if ((rc = db_step(st, err)) == DB_ROW) {
		snprintf(s->version_id, sizeof s->version_id, "%s", db_col_text(st, 0));
		snprintf(s->hash, sizeof s->hash, "%s", db_col_text(st, 1));
		s->size = db_col_int(st, 2);
		snprintf(s->current_id, sizeof s->current_id, "%s", db_col_text(st, 3));
		s->deleted = db_col_int(st, 4) != 0;
	}
	db_finalize(st);
	if (rc < 0)
		return rc;
	if (rc != DB_ROW)
		return dam_err_set(err, DAM_ENOTFOUND, "number", "asset %s has no version %d", asset_id, number);
	if (s->deleted)
		return dam_err_set(err, DAM_ECONFLICT, "id", "asset %s is deleted; restore the asset first", asset_id);
	if (!strcmp(s->version_id, s->current_id))
		return dam_err_set(err, DAM_ECONFLICT, "number", "version %d is already the current version", number);
	return 0;
}

/* The new version row: a copy of the source's, with a new id, number,
 * time and author. */
static int copy_version(struct dam *dam, const struct source *s, const struct version_restored *r, int64_t now,
			struct dam_err *err)
{
	return db_run(dam->db, err,
		      "INSERT INTO versions(id, asset_id, number, blob_hash, size, filename, mime, kind, format,"
		      " ext_mismatch, expected_ext, metadata, status, error, created_at, created_by)"
		      " SELECT ?, asset_id, ?, blob_hash, size, filename, mime, kind, format, ext_mismatch,"
		      " expected_ext, metadata, status, error, ?, ? FROM versions WHERE id=?",
		      "siiss", r->version_id, (int64_t)r->number, now, dam->actor, s->version_id);
}

/* Renditions point at the same blobs, one more reference each. */
static int copy_renditions(struct dam *dam, const struct source *s, const struct version_restored *r, int64_t now,
			   struct dam_err *err)
{
	struct db_stmt *st;
	int rc;

	if ((rc = db_query(dam->db, &st, err,
			   "SELECT name, blob_hash, mime, size, width, height, spec, enlarged FROM renditions WHERE version_id=?",
			   "s", s->version_id)) < 0)
		return rc;
	while ((rc = db_step(st, err)) == DB_ROW) {
		char id[DAM_ID_LEN + 1];
		id_new(id);
		if ((rc = refs_add(dam, db_col_text(st, 1), (uint64_t)db_col_int(st, 3), err)) < 0 ||
		    (rc = db_run(dam->db, err,
				 "INSERT INTO renditions(id, version_id, name, blob_hash, mime, size, width, height, spec,"
				 " created_at, enlarged) VALUES (?,?,?,?,?,?,?,?,?,?,nullif(?, 0.0))",
				 "sssssiiisid", id, r->version_id, db_col_text(st, 0), db_col_text(st, 1), db_col_text(st, 2),
				 db_col_int(st, 3), db_col_int(st, 4), db_col_int(st, 5), db_col_text(st, 6), now,
				 db_col_is_null(st, 7) ? 0.0 : db_col_double(st, 7))) < 0)
			break;
	}
	db_finalize(st);
	if (rc < 0)
		return rc;
	return db_run(dam->db, err,
		      "INSERT INTO similarity(version_rowid, asset_rowid, phash, hist)"
		      " SELECT (SELECT num FROM versions WHERE id=?), asset_rowid, phash, hist FROM similarity"
		      " WHERE version_rowid = (SELECT num FROM versions WHERE id=?)",
		      "ss", r->version_id, s->version_id);
}

struct restore {
	int number;
	struct version_restored *out;
};

/* audit_tx change of version_restore: a new version with the old one's
 * blob and renditions becomes current, and is processed again. */
static int restore_rows(struct dam *dam, void *ctx, struct audit_rec *rec, struct dam_err *err)
{
	const struct restore *c = ctx;
	struct version_restored *out = c->out;
	int64_t now = (int64_t)time_now_ms(), next = 0;
	struct source src;
	int rc;

	memset(&src, 0, sizeof src);
	if ((rc = load_source(dam, out->asset_id, c->number, &src, err)) < 0 ||
	    (rc = db_query_int(dam->db, &next, err, "SELECT max(number)+1 FROM versions WHERE asset_id=?", "s",
			       out->asset_id)) < 0)
		return rc;
	id_new(out->version_id);
	out->number = (int)next;
	out->from = c->number;
	if ((rc = refs_add(dam, src.hash, (uint64_t)src.size, err)) < 0 ||
	    (rc = copy_version(dam, &src, out, now, err)) < 0 || (rc = copy_renditions(dam, &src, out, now, err)) < 0 ||
	    (rc = db_run(dam->db, err, "UPDATE assets SET current_version_id=?, updated_at=? WHERE id=?", "sis",
			 out->version_id, now, out->asset_id)) < 0 ||
	    (rc = job_enqueue(dam, "process", out->version_id, JOB_PRIO_INTERACTIVE, NULL, err)) < 0)
		return rc;
	rec->after = json_pack("{s:s,s:i,s:i,s:s}", "version_id", out->version_id, "number", out->number,
			       "restored_from", c->number, "hash", src.hash);
	return 0;
}

int version_restore(struct dam *dam, const char *ref, int number, struct version_restored *out,
		    struct dam_err *err)
{
	struct restore c = { number, out };
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = asset_resolve(dam, ref, out->asset_id, err)) < 0)
		return rc;
	return audit_tx(dam, "version.restore", "asset", out->asset_id, restore_rows, &c, err);
}
