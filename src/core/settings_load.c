#include "core/settings_load.h"

#include <stdio.h>
#include <stdlib.h>


/* Applies every row of the settings table to cfg; *rows gets their count. */
static int apply_rows(struct db *db, struct dam_config *cfg, int *rows, struct dam_err *err)
{
	struct db_stmt *st = NULL;
	struct dam_err why;
	int rc;

	*rows = 0;
	if ((rc = db_query(db, &st, err, "SELECT section, key, value FROM settings ORDER BY section, key", "")) < 0)
		return rc;
	while ((rc = db_step(st, err)) == DB_ROW) {
		dam_err_clear(&why);
		(*rows)++;
		if (config_set(cfg, db_col_text(st, 0), db_col_text(st, 1), db_col_text(st, 2), &why) < 0) {
			rc = dam_err_set(err, DAM_EINVAL, why.field,
					 "the library's settings (database): %s; fix it with dam config push", why.msg);
			break;
		}
	}
	db_finalize(st);
	return rc < 0 ? rc : 0;
}

int settings_apply(struct db *db, const char *conf, struct dam_config *cfg, struct dam_err *err)
{
	struct dam_config *eff = malloc(sizeof *eff);
	int rows = 0, rc;

	if (!eff)
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	config_defaults(eff);
	if ((rc = apply_rows(db, eff, &rows, err)) < 0 || rows == 0)
		goto out;
	if ((rc = config_load_mode(conf, eff, CONFIG_LOAD_NODE, err)) < 0)
		goto out;
	eff->shared_from_db = true;
	*cfg = *eff;
out:
	free(eff);
	return rc;
}

int settings_stamp(struct db *db, int64_t *out, struct dam_err *err)
{
	return db_query_int(db, out, err, "SELECT coalesce(max(updated_at), 0) + count(*) FROM settings", "");
}

int settings_insert(struct db *db, const char *section, const char *key, const char *value, uint64_t now,
		    struct dam_err *err)
{
	return db_run(db, err, "INSERT INTO settings(section, key, value, updated_at) VALUES (?, ?, ?, ?)", "sssi",
		      section, key, value, (int64_t)now);
}

struct store_ctx {
	struct db *db;
	uint64_t now;
	struct dam_err *err;
};

static int store_one(void *ctx, const char *section, const char *key, const char *value)
{
	struct store_ctx *c = ctx;

	return settings_insert(c->db, section, key, value, c->now, c->err);
}

int settings_store_initial(struct db *db, const struct dam_config *cfg, uint64_t now, struct dam_err *err)
{
	struct store_ctx c = { db, now, err };
	int rc;

	if ((rc = db_run(db, err, "DELETE FROM settings", "")) < 0)
		return rc;
	return config_each_shared(cfg, store_one, &c);
}
