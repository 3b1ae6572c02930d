#include "core/delivery.h"

#include <stdio.h>
#include <string.h>

#include "core/audit.h"
#include "core/delivery_cache.h"
#include "core/job.h"
#include "core/process.h"

static void copy_text(char *dst, size_t n, struct db_stmt *st, int col)
{
	const char *t = db_col_is_null(st, col) ? "" : db_col_text(st, col);

	snprintf(dst, n, "%s", t ? t : "");
}

int delivery_load(struct dam *dam, const char *id, int version, struct delivery_info *out,
		  struct dam_err *err)
{
	return delivery_load_with(dam, id, version, NULL, out, NULL, err);
}

/* The query of delivery_load_with(); r non-NULL when rendition is. */
static int load(struct dam *dam, const char *id, int version, const char *rendition, struct delivery_info *out,
		struct delivery_rendition *r, struct dam_err *err)
{
	struct db_stmt *st;
	char status[16] = "";
	int rc;

	memset(out, 0, sizeof *out);
	if (r)
		memset(r, 0, sizeof *r);
	/* p: the rendition asked for; with NULL, p.name = NULL joins nothing */
	if ((rc = db_query(dam->db, &st, err,
			   "SELECT v.id, v.number, v.id = a.current_version_id, v.kind, v.mime, v.filename,"
			   " v.blob_hash, v.size, v.status, v.created_at, a.focal_x, a.focal_y,"
			   " r.blob_hash, r.width, r.height, coalesce({{json_int(v.metadata, alpha)}}, 0),"
			   " {{json_text(v.metadata, master_error)}},"
			   " (SELECT value FROM fields WHERE asset_id = a.id AND key = 'copyright'),"
			   " (SELECT value FROM fields WHERE asset_id = a.id AND key = 'creator'),"
			   " p.blob_hash, p.mime, p.size, p.spec"
			   " FROM assets a JOIN versions v ON v.asset_id = a.id"
			   " LEFT JOIN renditions r ON r.version_id = v.id AND r.name = 'master'"
			   " LEFT JOIN renditions p ON p.version_id = v.id AND p.name = ?"
			   " WHERE a.id = ? AND a.deleted_at IS NULL"
			   " AND (v.number = ? OR (CAST(? AS BIGINT) = 0 AND v.id = (SELECT nv.id FROM versions nv"
			   "   WHERE nv.asset_id = a.id AND (nv.status = 'ready' OR nv.id = a.current_version_id)"
			   "   ORDER BY nv.status = 'ready' DESC, nv.number DESC LIMIT 1)))",
			   "ssii", rendition, id, (int64_t)version, (int64_t)version)) < 0)
		return rc;
	if ((rc = db_step(st, err)) == DB_ROW) {
		snprintf(out->asset_id, sizeof out->asset_id, "%s", id);
		copy_text(out->version_id, sizeof out->version_id, st, 0);
		out->version = (int)db_col_int(st, 1);
		out->current = db_col_int(st, 2) != 0;
		copy_text(out->kind, sizeof out->kind, st, 3);
		copy_text(out->mime, sizeof out->mime, st, 4);
		copy_text(out->filename, sizeof out->filename, st, 5);
		copy_text(out->original_key, sizeof out->original_key, st, 6);
		out->original_size = (uint64_t)db_col_int(st, 7);
		copy_text(status, sizeof status, st, 8);
		out->modified_ms = db_col_int(st, 9);
		out->has_focal = !db_col_is_null(st, 10) && !db_col_is_null(st, 11);
		out->focal_x = out->has_focal ? db_col_double(st, 10) : -1;
		out->focal_y = out->has_focal ? db_col_double(st, 11) : -1;
		copy_text(out->master_key, sizeof out->master_key, st, 12);
		out->width = (int)db_col_int(st, 13);
		out->height = (int)db_col_int(st, 14);
		out->alpha = db_col_int(st, 15) != 0;
		copy_text(out->master_error, sizeof out->master_error, st, 16);
		copy_text(out->copyright, sizeof out->copyright, st, 17);
		copy_text(out->creator, sizeof out->creator, st, 18);
		if (r && !db_col_is_null(st, 19)) {
			r->found = true;
			copy_text(r->key, sizeof r->key, st, 19);
			copy_text(r->mime, sizeof r->mime, st, 20);
			r->size = (uint64_t)db_col_int(st, 21);
			copy_text(r->spec, sizeof r->spec, st, 22);
		}
	}
	db_finalize(st);
	if (rc < 0)
		return rc;
	if (rc == DB_DONE)
		return version ? dam_err_set(err, DAM_ENOTFOUND, "asset", "asset %s has no version %d", id, version)
			       : dam_err_set(err, DAM_ENOTFOUND, "asset", "no asset %s", id);
	if (strcmp(status, "ready"))
		return dam_err_set(err, DAM_ECONFLICT, "asset", "version %d of asset %s is %s, not ready for delivery",
				   out->version, id, !strcmp(status, "failed") ? "failed" : "still being processed");
	return 0;
}

int delivery_load_with(struct dam *dam, const char *id, int version, const char *rendition,
		       struct delivery_info *out, struct delivery_rendition *r, struct dam_err *err)
{
	const struct delivery_ask ask = { id, version, rendition };
	struct delivery_rendition row;
	struct delivery_cache *c = NULL;
	struct db_version v;
	struct dam_err e;
	int rc;

	memset(out, 0, sizeof *out);
	if (r)
		memset(r, 0, sizeof *r);
	/* Only inside a request: there the version is read once for the
	 * request (and with the change watcher costs nothing). Outside, each
	 * read of it could be a statement of its own (on PostgreSQL without
	 * the watcher, a round trip), so a cache could only add one. */
	if (dam->in_request && (c = delivery_cache_of(dam)) && (rc = library__data_version(dam, &v, err)) < 0)
		return rc;
	if (c && delivery_cache_get(c, &v, &ask, &rc, out, r, err))
		return rc;
	rc = load(dam, id, version, rendition, out, rendition ? &row : NULL, &e);
	if (c)
		delivery_cache_put(c, &v, &ask, rc, out, rendition ? &row : NULL, &e);
	if (r && rendition)
		*r = row;
	if (rc < 0 && err)
		*err = e;
	return rc;
}

int delivery_queue_renditions(struct dam *dam, const char *id, struct dam_err *err)
{
	struct db_stmt *st;
	char version[DAM_ID_LEN + 1] = "";
	int rc;

	if ((rc = db_query(dam->db, &st, err,
			   "SELECT a.current_version_id FROM assets a"
			   " JOIN renditions r ON r.version_id = a.current_version_id AND r.name = 'master'"
			   " WHERE a.id = ?", "s", id)) < 0)
		return rc;
	if ((rc = db_step(st, err)) == DB_ROW)
		snprintf(version, sizeof version, "%s", db_col_text(st, 0));
	db_finalize(st);
	if (rc < 0 || !*version)
		return rc < 0 ? rc : 0;
	return job_enqueue(dam, "renditions", version, RENDITIONS_PRIORITY, NULL, err);
}

struct focal {
	double x, y; /* x < 0: none */
};

static int focal_rows(struct dam *dam, void *ctx, struct audit_rec *rec, struct dam_err *err)
{
	const struct focal *f = ctx;
	const char *id = rec->object_id;
	int rc;

	if (f->x >= 0)
		rc = db_run(dam->db, err, "UPDATE assets SET focal_x=?, focal_y=? WHERE id=? AND deleted_at IS NULL",
			    "dds", f->x, f->y, id);
	else
		rc = db_run(dam->db, err, "UPDATE assets SET focal_x=NULL, focal_y=NULL WHERE id=? AND deleted_at IS NULL",
			    "s", id);
	if (rc >= 0 && db_changes(dam->db) == 0)
		rc = dam_err_set(err, DAM_ENOTFOUND, "asset", "no asset %s", id);
	rec->after = f->x >= 0 ? json_pack("{s:{s:f,s:f}}", "focal", "x", f->x, "y", f->y) : json_pack("{s:n}", "focal");
	/* Preset renditions that crop must follow the new point. */
	if (rc >= 0)
		rc = delivery_queue_renditions(dam, id, err);
	return rc < 0 ? rc : 0;
}

int delivery_set_focal(struct dam *dam, const char *id, double x, double y, struct dam_err *err)
{
	struct focal f = { x, y };

	if (x >= 0 && (x > 1 || y < 0 || y > 1))
		return dam_err_set(err, DAM_EINVAL, "focal", "focal point x and y must be between 0 and 1");
	return audit_tx(dam, "asset.focal", "asset", id, focal_rows, &f, err);
}
