/*
 * search_saved.c - saved searches: a named query and sort per user,
 * optionally shared with everyone (see search.h).
 */
#include "core/search.h"

#include <string.h>

#include "core/query.h"
#include "core/search_order.h"
#include "util/id.h"
#include "util/timeutil.h"

int search_save(struct dam *dam, const char *user_id, const char *name, const char *query, const char *sort,
		bool shared, char id_out[37], struct dam_err *err)
{
	struct qnode *root = NULL;
	struct query_error qe;
	int rc;

	if (!name || !*name || strlen(name) > 200)
		return dam_err_set(err, DAM_EINVAL, "name", "a saved search needs a name of 1-200 bytes");
	if (query && *query && (rc = query_parse(query, strlen(query), &root, &qe)) < 0)
		return query_error_to_dam(&qe, rc, err);
	query_free(root);
	if (sort && *sort && !search__sort_valid(sort[0] == '-' ? sort + 1 : sort))
		return dam_err_set(err, DAM_EINVAL, "sort", "sort is one of relevance, created, updated, name, size (prefix - for ascending)");
	id_new(id_out);
	rc = db_run(dam->db, err,
		    "INSERT INTO saved_searches(id, user_id, name, query, sort, shared, created_at) VALUES (?,?,?,?,?,?,?)",
		    "sssssii", id_out, user_id, name, query ? query : "", sort, (int64_t)shared, (int64_t)time_now_ms());
	if (rc == DAM_ECONFLICT)
		return dam_err_set(err, DAM_EEXIST, "name", "you already have a saved search named \"%.60s\"", name);
	return rc < 0 ? rc : 0;
}

int search_saved_list(struct dam *dam, const char *user_id, json_t **out, struct dam_err *err)
{
	struct db_stmt *st;
	json_t *a = json_array();
	int rc;

	rc = db_query(dam->db, &st, err,
		      "SELECT id, name, query, coalesce(sort,''), shared, user_id = ? FROM saved_searches"
		      " WHERE user_id = ? OR shared <> 0 ORDER BY name", "ss", user_id, user_id);
	if (rc < 0) {
		json_decref(a);
		return rc;
	}
	while ((rc = db_step(st, err)) == DB_ROW)
		json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:s,s:b,s:b}", "id", db_col_text(st, 0), "name",
						   db_col_text(st, 1), "query", db_col_text(st, 2), "sort", db_col_text(st, 3),
						   "shared", (int)db_col_int(st, 4), "mine", (int)db_col_int(st, 5)));
	db_finalize(st);
	if (rc < 0) {
		json_decref(a);
		return rc;
	}
	*out = a;
	return 0;
}

int search_saved_delete(struct dam *dam, const char *user_id, const char *id, struct dam_err *err)
{
	int n = db_run(dam->db, err, "DELETE FROM saved_searches WHERE id=? AND user_id=?", "ss", id, user_id);

	if (n == 0)
		return dam_err_set(err, DAM_ENOTFOUND, "id", "no saved search of yours with that id");
	return n < 0 ? n : 0;
}
