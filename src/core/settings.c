#include "core/settings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/audit.h"
#include "core/settings_load.h"
#include "util/timeutil.h"

/* "section\nkey": one key of a JSON object for a (section, key) pair. */
static void pair_name(char *buf, size_t size, const char *section, const char *key)
{
	snprintf(buf, size, "%s\n%s", section, key);
}

/* The settings table as {"section\nkey": value}; *out NULL on error. */
static int stored(struct db *db, json_t **out, struct dam_err *err)
{
	struct db_stmt *st = NULL;
	char name[160];
	json_t *o = json_object();
	int rc;

	*out = NULL;
	if (!o)
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	if ((rc = db_query(db, &st, err, "SELECT section, key, value FROM settings", "")) < 0) {
		json_decref(o);
		return rc;
	}
	while ((rc = db_step(st, err)) == DB_ROW) {
		pair_name(name, sizeof name, db_col_text(st, 0), db_col_text(st, 1));
		json_object_set_new(o, name, json_string(db_col_text(st, 2)));
	}
	db_finalize(st);
	if (rc < 0) {
		json_decref(o);
		return rc;
	}
	*out = o;
	return 0;
}

/* dam.conf read whole over the defaults; caller frees. */
static int file_config(struct dam *dam, struct dam_config **out, struct dam_err *err)
{
	char *conf = library_path(dam, "dam.conf");
	struct dam_config *cfg = malloc(sizeof *cfg);
	int rc = 0;

	*out = NULL;
	if (!conf || !cfg)
		rc = dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	if (rc == 0) {
		config_defaults(cfg);
		rc = config_load(conf, cfg, err);
	}
	free(conf);
	if (rc < 0) {
		free(cfg);
		return rc;
	}
	*out = cfg;
	return 0;
}

struct push {
	struct dam *dam;
	const struct dam_config *cfg;
	json_t *old;     /* the rows before, {"section\nkey": value}; entries left are removed keys */
	json_t *changed; /* names of the keys that changed, "[section] key" */
	uint64_t now;
	struct dam_err *err;
};

/* config_each_shared callback: stores one key, noting whether it changed. */
static int push_one(void *ctx, const char *section, const char *key, const char *value)
{
	struct push *p = ctx;
	char name[160], label[160];
	json_t *was;

	pair_name(name, sizeof name, section, key);
	was = json_object_get(p->old, name);
	if (!was || strcmp(json_string_value(was), value)) {
		snprintf(label, sizeof label, "[%s] %s", section, key);
		json_array_append_new(p->changed, json_string(label));
	}
	json_object_del(p->old, name);
	return settings_insert(p->dam->db, section, key, value, p->now, p->err);
}

/* audit_tx change of settings_push. */
static int push_rows(struct dam *dam, void *ctx, struct audit_rec *rec, struct dam_err *err)
{
	struct push *p = ctx;
	const char *name;
	json_t *v;
	int rc;

	if ((rc = stored(dam->db, &p->old, err)) < 0)
		return rc;
	if ((rc = db_run(dam->db, err, "DELETE FROM settings", "")) < 0)
		return rc;
	p->err = err;
	if ((rc = config_each_shared(p->cfg, push_one, p)) < 0)
		return rc;
	json_object_foreach(p->old, name, v) {
		char label[160];
		const char *nl = strchr(name, '\n');
		snprintf(label, sizeof label, "[%.*s] %s", (int)(nl ? nl - name : 0), name, nl ? nl + 1 : name);
		json_array_append_new(p->changed, json_string(label));
	}
	rec->after = json_pack("{s:O}", "changed", p->changed);
	return (int)json_array_size(p->changed);
}

int settings_push(struct dam *dam, struct dam_err *err)
{
	struct push p = { .dam = dam, .now = time_now_ms() };
	struct dam_config *cfg = NULL;
	int rc;

	if ((rc = file_config(dam, &cfg, err)) < 0)
		return rc;
	p.cfg = cfg;
	if (!(p.changed = json_array()))
		rc = dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	else
		rc = audit_tx(dam, "settings.push", "library", "settings", push_rows, &p, err);
	json_decref(p.old);
	json_decref(p.changed);
	free(cfg);
	return rc;
}

/* config_each_file_entry callback: notes the pair in a JSON object. */
static int note_entry(void *ctx, const char *section, const char *key, const char *value)
{
	char name[160];

	(void)value;
	pair_name(name, sizeof name, section, key);
	json_object_set_new(ctx, name, json_true());
	return 0;
}

/* The pairs dam.conf writes, {"section\nkey": true}. */
static int file_entries(struct dam *dam, json_t **out, struct dam_err *err)
{
	char *conf = library_path(dam, "dam.conf");
	int rc;

	if (!conf || !(*out = json_object())) {
		free(conf);
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	}
	rc = config_each_file_entry(conf, note_entry, *out, err);
	free(conf);
	if (rc < 0) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

struct show {
	json_t *rows, *db, *file;
};

static int show_one(void *ctx, const char *section, const char *key, const char *value)
{
	struct show *s = ctx;
	char name[160];
	const char *origin;

	pair_name(name, sizeof name, section, key);
	if (json_object_size(s->db))
		origin = json_object_get(s->db, name) ? "database" : "default";
	else
		origin = json_object_get(s->file, name) ? "dam.conf" : "default";
	json_array_append_new(s->rows, json_pack("{s:s,s:s,s:s,s:s}", "section", section, "key", key, "value", value,
						 "origin", origin));
	return 0;
}

int settings_show(struct dam *dam, json_t **out, struct dam_err *err)
{
	struct show s = { json_array(), NULL, NULL };
	int rc;

	*out = NULL;
	if ((rc = stored(dam->db, &s.db, err)) < 0 || (rc = file_entries(dam, &s.file, err)) < 0)
		goto out;
	config_each_shared(&dam->cfg, show_one, &s);
	*out = s.rows;
	s.rows = NULL;
out:
	json_decref(s.rows);
	json_decref(s.db);
	json_decref(s.file);
	return rc;
}

struct diff {
	struct dam *dam;
	const struct dam_config *file;
	json_t *db;
	json_t *warned; /* pairs warned about: dam.conf may set a key twice */
	settings_warn_fn fn;
	void *ctx;
	int n;
};

/* config_each_file_entry callback: one warning when the entry is shared
 * and its value is not the one that applies. */
static int diff_one(void *ctx, const char *section, const char *key, const char *value)
{
	struct diff *d = ctx;
	char mine[1100], theirs[1100], name[160], line[2600];

	(void)value;
	if (config_key_scope(section, key) != CONFIG_SHARED || config_get(d->file, section, key, mine, sizeof mine) < 0)
		return 0;
	if (config_get(&d->dam->cfg, section, key, theirs, sizeof theirs) == 0 && !strcmp(mine, theirs))
		return 0;
	pair_name(name, sizeof name, section, key);
	if (json_object_get(d->warned, name))
		return 0;
	json_object_set_new(d->warned, name, json_true());
	/* A preset the database lacks: the database's set of presets is
	 * the library's, so it is the database that has none. */
	if (config_get(&d->dam->cfg, section, key, theirs, sizeof theirs) < 0)
		snprintf(theirs, sizeof theirs, "(none)");
	snprintf(line, sizeof line,
		 "dam.conf [%s] %s = %s differs from the library's %s (%s); the database's applies — run dam "
		 "config push to change it",
		 section, key, mine, theirs,
		 json_object_get(d->db, name) || !strncmp(section, "preset ", 7) ? "database" : "default");
	d->fn(d->ctx, line);
	d->n++;
	return 0;
}

int settings_differences(struct dam *dam, settings_warn_fn fn, void *ctx, struct dam_err *err)
{
	struct diff d = { .dam = dam, .fn = fn, .ctx = ctx, .warned = json_object() };
	struct dam_config *file = NULL;
	char *conf = NULL;
	int rc;

	if ((rc = stored(dam->db, &d.db, err)) < 0 || json_object_size(d.db) == 0)
		goto out;
	if ((rc = file_config(dam, &file, err)) < 0)
		goto out;
	d.file = file;
	if (!(conf = library_path(dam, "dam.conf"))) {
		rc = dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
		goto out;
	}
	rc = config_each_file_entry(conf, diff_one, &d, err);
out:
	json_decref(d.db);
	json_decref(d.warned);
	free(file);
	free(conf);
	return rc < 0 ? rc : d.n;
}

int settings_load_root(const char *root, struct dam_config *cfg, struct dam_err *err)
{
	struct dam *dam = NULL;
	int rc;

	/* library_open applies settings_apply; the handle is short-lived. */
	if ((rc = library_open(root, &dam, err)) < 0)
		return rc;
	*cfg = dam->cfg;
	library_close(dam);
	return 0;
}

int settings_version(struct dam *dam, int64_t *out, struct dam_err *err)
{
	return settings_stamp(dam->db, out, err);
}
