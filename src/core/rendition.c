#include "core/rendition.h"

#include <stdio.h>
#include <string.h>

#include "core/refs.h"
#include "util/id.h"
#include "util/timeutil.h"

int rendition_save(struct dam *dam, const char *version_id, const struct rendition_row *r,
		   struct dam_err *err)
{
	struct rendition_row old;
	char id[DAM_ID_LEN + 1];
	int rc;

	if ((rc = rendition_find(dam, version_id, r->name, &old, NULL, 0, err)) < 0)
		return rc;
	if (rc == 1 && (rc = refs_drop(dam, old.key, err)) < 0)
		return rc;
	if ((rc = refs_add(dam, r->key, r->size, err)) < 0)
		return rc;
	id_new(id);
	return db_run(dam->db, err,
		      "INSERT INTO renditions(id, version_id, name, blob_hash, mime, size, width, height, spec, created_at,"
		      " enlarged) VALUES (?,?,?,?,?,?,?,?,?,?,nullif(?, 0.0)) ON CONFLICT(version_id, name) DO UPDATE SET"
		      " blob_hash=excluded.blob_hash, mime=excluded.mime, size=excluded.size,"
		      " width=excluded.width, height=excluded.height, spec=excluded.spec, created_at=excluded.created_at,"
		      " enlarged=excluded.enlarged",
		      "sssssiiisid", id, version_id, r->name, r->key, r->mime, (int64_t)r->size,
		      (int64_t)r->width, (int64_t)r->height, r->spec ? r->spec : "{}", (int64_t)time_now_ms(),
		      r->enlarged > 0 ? r->enlarged : 0.0);
}

int rendition_drop(struct dam *dam, const char *version_id, const char *name, struct dam_err *err)
{
	struct rendition_row old;
	int rc;

	if ((rc = rendition_find(dam, version_id, name, &old, NULL, 0, err)) <= 0)
		return rc;
	if ((rc = refs_drop(dam, old.key, err)) < 0)
		return rc;
	return db_run(dam->db, err, "DELETE FROM renditions WHERE version_id=? AND name=?", "ss",
		      version_id, name);
}

int rendition_find(struct dam *dam, const char *version_id, const char *name,
		   struct rendition_row *out, char *spec_out, size_t spec_len, struct dam_err *err)
{
	struct db_stmt *st;
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = db_query(dam->db, &st, err,
			   "SELECT blob_hash, mime, size, width, height, spec FROM renditions"
			   " WHERE version_id=? AND name=?", "ss", version_id, name)) < 0)
		return rc;
	if ((rc = db_step(st, err)) == DB_ROW) {
		snprintf(out->name, sizeof out->name, "%s", name);
		snprintf(out->key, sizeof out->key, "%s", db_col_text(st, 0));
		snprintf(out->mime, sizeof out->mime, "%s", db_col_text(st, 1));
		out->size = (uint64_t)db_col_int(st, 2);
		out->width = (int)db_col_int(st, 3);
		out->height = (int)db_col_int(st, 4);
		if (spec_len)
			snprintf(spec_out, spec_len, "%s", db_col_text(st, 5));
	}
	db_finalize(st);
	return rc < 0 ? rc : rc == DB_ROW;
}
