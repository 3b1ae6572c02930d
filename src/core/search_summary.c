/* search_summary.c - see search_summary.h. */
#include "core/search_summary.h"

#include "util/timeutil.h"

/* One hit as the result lists show it. The title is the "title" field (or
 * the first language's of a multi-language one; "title" sorts before
 * "title@.."), so tiles can show it instead of the file name; transparent
 * is the analysis's finding of real transparency (the "transparency"
 * facet), so only those thumbnails sit on a checkerboard. */
json_t *search__summary(struct dam *dam, uint32_t row)
{
	struct db_stmt *st;
	json_t *o = NULL;

	if (db_query(dam->db, &st, NULL,
		     "SELECT a.id, a.name, a.kind, v.size, v.status, a.created_at, a.updated_at, v.mime, v.number,"
		     " (SELECT blob_hash FROM renditions r WHERE r.version_id = v.id AND r.name='thumbnail'),"
		     " (SELECT f.value FROM fields f WHERE f.asset_id = a.id AND (f.key='title' OR f.key LIKE 'title@%')"
		     "  AND f.value <> '' ORDER BY f.key LIMIT 1),"
		     " EXISTS (SELECT 1 FROM facet_values fv WHERE fv.asset_rowid = a.num AND fv.facet='transparency')"
		     " FROM assets a JOIN versions v ON v.id = a.current_version_id WHERE a.num=?", "i", (int64_t)row) < 0)
		return NULL;
	if (db_step(st, NULL) == DB_ROW) {
		o = json_pack("{s:s,s:s,s:s,s:I,s:s,s:o,s:o,s:s,s:I,s:b,s:b}", "id", db_col_text(st, 0), "name", db_col_text(st, 1),
			      "kind", db_col_text(st, 2), "size", (json_int_t)db_col_int(st, 3), "status", db_col_text(st, 4),
			      "created_at", time_json(db_col_int(st, 5)), "updated_at", time_json(db_col_int(st, 6)), "mime", db_col_text(st, 7), "version",
			      (json_int_t)db_col_int(st, 8), "has_thumbnail", !db_col_is_null(st, 9),
			      "transparent", db_col_int(st, 11) != 0);
		if (o && !db_col_is_null(st, 10))
			json_object_set_new(o, "title", json_string(db_col_text(st, 10)));
	}
	db_finalize(st);
	return o;
}
