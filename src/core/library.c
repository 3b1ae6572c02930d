#include "core/library.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/search_cache.h"
#include "core/settings_load.h"
#include "db/search_backend.h"
#include "util/fsutil.h"
#include "util/id.h"
#include "util/secret.h"
#include "util/strbuf.h"
#include "util/timeutil.h"

static char *join(const char *dir, const char *name)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addf(&sb, "%s/%s", dir, name);
	return strbuf_detach(&sb, NULL);
}

char *library_path(const struct dam *dam, const char *name)
{
	return join(dam->root, name);
}

int library_temp_fd(struct dam *dam, const char *what, struct dam_err *err)
{
	char *dir = library_path(dam, "cache"), *tmpl = NULL;
	int fd = -1;

	if (!dir)
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	if (fs_mkdir_p(dir, err) < 0)
		goto out;
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0 && asprintf(&tmpl, "%s/tmp-XXXXXX", dir) > 0 && (fd = mkostemp(tmpl, O_CLOEXEC)) >= 0)
		unlink(tmpl);
	if (fd < 0)
		dam_err_errno(err, DAM_EIO, errno, "cannot create a temporary file for the %s", what);
out:
	free(tmpl);
	free(dir);
	return fd < 0 ? DAM_EIO : fd;
}

static int migrate(struct db *db, struct dam_err *err)
{
	return db_migrate_latest(db, err);
}

/* The password [database] names (password_env or password_file), or NULL
 * in *out when it names none (libpq's PGPASSFILE, service file or
 * PGPASSWORD, or no password at all). Caller frees with secret_free. */
static int db_password(const char *env, const char *file, char **out, struct dam_err *err)
{
	*out = NULL;
	if (env && *env && file && *file)
		return dam_err_set(err, DAM_EINVAL, "database",
				   "[database]: give the password in one way, password_env or password_file, not both");
	if (file && *file)
		return secret_from_file(file, "database", out, err);
	if (env && *env)
		return secret_from_env(env, "database", out, err);
	return 0;
}

/* Opens the library's database: [database] url when set, else dir/dam.db. */
static int db_open_config(const char *dir, const struct dam_config *cfg, struct db **out, struct dam_err *err)
{
	char *pw = NULL, *path = NULL;
	int rc;

	if (!cfg->db_url[0]) {
		if (!(path = join(dir, "dam.db")))
			return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
		rc = db_open(path, out, err);
		free(path);
		return rc;
	}
	if ((rc = db_password(cfg->db_password_env, cfg->db_password_file, &pw, err)) < 0)
		return rc;
	rc = db_open_auth(cfg->db_url, pw, out, err);
	secret_free(pw);
	return rc;
}

/* A shared database (PostgreSQL) may already hold another library: refuse
 * it, unless it is this folder's own unfinished init (the folder it was
 * made from is recorded beside the id). */
static int refuse_other_library(struct db *db, const char *dir, struct dam_err *err)
{
	struct db_stmt *st = NULL;
	char id[128] = "", from[4096] = "";
	int v = 0, rc;

	if ((rc = db_schema_version(db, &v, err)) < 0 || v == 0)
		return rc;
	if ((rc = db_query(db, &st, err, "SELECT key, value FROM library WHERE key IN ('id', 'init_dir')", "")) < 0)
		return rc;
	while ((rc = db_step(st, err)) == DB_ROW) {
		if (!strcmp(db_col_text(st, 0), "id"))
			snprintf(id, sizeof id, "%s", db_col_text(st, 1));
		else
			snprintf(from, sizeof from, "%s", db_col_text(st, 1));
	}
	db_finalize(st);
	if (rc < 0)
		return rc;
	if (id[0] && strcmp(from, dir))
		return dam_err_set(err, DAM_EEXIST, "database",
				   "the database already holds a dam library (id %s%s%s); give an empty database, "
				   "or point [database] url of an existing library folder at it",
				   id, from[0] ? ", made from " : "", from);
	return 0;
}

int library_init(const char *dir, struct dam_err *err)
{
	return library_init_with(dir, NULL, err);
}

/* Writes the library's id (and, on a shared database, the folder it was
 * made from, and the shared settings of cfg, so every node pointed at it
 * agrees from the start: docs/scale-out.md), keeping the id of an
 * unfinished init of this folder. */
static int init_rows(struct db *db, const char *dir, const struct dam_config *cfg, bool shared, struct dam_err *err)
{
	char id[DAM_ID_LEN + 1];
	int rc;

	id_new(id);
	if ((rc = db_begin(db, err)) < 0)
		return rc;
	rc = db_run(db, err, "INSERT INTO library(key, value) VALUES ('id', ?) ON CONFLICT (key) DO NOTHING", "s", id);
	if (rc >= 0 && shared)
		rc = db_run(db, err, "INSERT INTO library(key, value) VALUES ('init_dir', ?) ON CONFLICT (key) DO NOTHING",
			    "s", dir);
	if (rc >= 0 && shared)
		rc = settings_store_initial(db, cfg, time_now_ms(), err);
	if (rc < 0) {
		db_rollback(db);
		return rc;
	}
	return db_commit(db, err);
}

int library_init_with(const char *dir, const struct library_init_opts *o, struct dam_err *err)
{
	char *abs = fs_abspath(dir), *conf = NULL, *cache = NULL, *text = NULL;
	struct dam_config cfg;
	struct db *db = NULL;
	struct blob_store *bs = NULL;
	const char *url = o && o->db_url && *o->db_url ? o->db_url : NULL;
	int rc;

	if (!abs)
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	config_defaults(&cfg);
	if (url && ((rc = config_check_db_url(url, err)) < 0))
		goto out;
	if (url) {
		snprintf(cfg.db_url, sizeof cfg.db_url, "%s", url);
		snprintf(cfg.db_password_env, sizeof cfg.db_password_env, "%s", o->password_env ? o->password_env : "");
		snprintf(cfg.db_password_file, sizeof cfg.db_password_file, "%s", o->password_file ? o->password_file : "");
	}
	conf = join(abs, "dam.conf");
	cache = join(abs, "cache");
	if (access(conf, F_OK) == 0) {
		rc = dam_err_set(err, DAM_EEXIST, NULL, "%s already holds a dam library", abs);
		goto out;
	}
	/* A shared database is checked before anything is made in dir. */
	if (url && ((rc = db_open_config(abs, &cfg, &db, err)) < 0 || (rc = refuse_other_library(db, abs, err)) < 0))
		goto out;
	if ((rc = fs_mkdir_p(cache, err)) < 0)
		goto out;
	/* The folder may have existed (made by the user with their umask):
	 * like PostgreSQL's data directory, a library is its owner's alone. */
	if (chmod(abs, 0700) < 0) {
		rc = dam_err_errno(err, DAM_EIO, errno, "cannot make %s private (chmod 0700)", abs);
		goto out;
	}
	if ((rc = blob_store_open(abs, "fs", &bs, err)) < 0)
		goto out;
	if (!db && (rc = db_open_config(abs, &cfg, &db, err)) < 0)
		goto out;
	if ((rc = migrate(db, err)) < 0 || (rc = init_rows(db, abs, &cfg, url != NULL, err)) < 0)
		goto out;
	if (!(text = config_text_with_database(url, cfg.db_password_env, cfg.db_password_file))) {
		rc = dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
		goto out;
	}
	/* dam.conf last: its presence is what marks a finished library. */
	rc = fs_write_atomic(conf, text, strlen(text), 1, err);
out:
	db_close(db);
	blob_store_free(bs);
	free(abs);
	free(conf);
	free(cache);
	free(text);
	return rc < 0 ? rc : 0;
}

/* Opens dir with the given search cache (a new one when NULL). */
static int open_with(const char *dir, struct search_cache *cache, struct dam **out, struct dam_err *err)
{
	struct dam *dam = calloc(1, sizeof *dam);
	char *conf = NULL;
	int rc;

	*out = NULL;
	if (!dam || !(dam->root = fs_abspath(dir))) {
		free(dam);
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	}
	conf = join(dam->root, "dam.conf");
	config_defaults(&dam->cfg);
	if (access(conf, F_OK) < 0) {
		rc = dam_err_set(err, DAM_ENOTFOUND, NULL, "%s is not a dam library (no dam.conf); create one with: dam init %s",
				 dam->root, dam->root);
		goto out;
	}
	if ((rc = config_load(conf, &dam->cfg, err)) < 0)
		goto out;
	if ((rc = db_open_config(dam->root, &dam->cfg, &dam->db, err)) < 0 || (rc = migrate(dam->db, err)) < 0)
		goto out;
	/* The shared keys the nodes agree on, once pushed, are the database's. */
	if ((rc = settings_apply(dam->db, conf, &dam->cfg, err)) < 0)
		goto out;
	if ((rc = blob_store_open_config(dam->root, &dam->cfg, &dam->store, err)) < 0)
		goto out;
	dam->search_be = search_backend_for(dam->db);
	if (!(dam->search_cache = cache ? search_cache_ref(cache) : search_cache_new())) {
		rc = dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
		goto out;
	}
	library_set_actor(dam, "system");
out:
	free(conf);
	if (rc < 0) {
		library_close(dam);
		return rc;
	}
	*out = dam;
	return 0;
}

int library_open(const char *dir, struct dam **out, struct dam_err *err)
{
	return open_with(dir, NULL, out, err);
}

int library_open_shared(struct dam *with, struct dam **out, struct dam_err *err)
{
	int rc = open_with(with->root, with->search_cache, out, err);

	if (rc == 0)
		(*out)->feed = with->feed;
	return rc;
}

void library_close(struct dam *dam)
{
	if (!dam)
		return;
	search_cache_unref(dam->search_cache);
	for (int i = 0; i < LIBRARY_CACHES_MAX && dam->caches[i].kind; i++)
		dam->caches[i].kind->destroy(dam->caches[i].cache);
	db_close(dam->db);
	blob_store_free(dam->store);
	free(dam->root);
	free(dam);
}

void library_request_begin(struct dam *dam)
{
	dam->in_request = true;
	dam->have_version = false;
}

void library_request_end(struct dam *dam)
{
	dam->in_request = false;
	dam->have_version = false;
}

int library_change_counter(struct dam *dam, int64_t *out, struct dam_err *err)
{
	struct db_version v;
	int rc;

	if (library_change_feed_read(dam->feed, out))
		return 0;
	if ((rc = db_data_version(dam->db, &v, err)) < 0)
		return rc;
	*out = v.others;
	return 0;
}

void library_set_change_feed(struct dam *dam, const struct library_change_feed *f)
{
	dam->feed = f;
}

/* A commit another node already reported to its client may have its
 * notification in the watcher's socket, not yet published: then the feed
 * is not trusted for this read (the window left is the database server's
 * own delivery to this node's connection). */
static bool feed_pending(const struct library_change_feed *f)
{
	struct pollfd p = { .fd = f ? atomic_load(&f->fd) : -1, .events = POLLIN };

	return p.fd >= 0 && poll(&p, 1, 0) == 1;
}

bool library_change_feed_read(const struct library_change_feed *f, int64_t *out)
{
	uint64_t fresh;

	if (!f)
		return false;
	/* counter is stored before fresh_ms: a fresh time implies its number
	 * or a newer one. */
	fresh = atomic_load(&f->fresh_ms);
	if (!fresh || time_mono_ms() - fresh > LIBRARY_FEED_STALE_MS || feed_pending(f))
		return false;
	*out = atomic_load(&f->counter);
	return true;
}

int library__data_version(struct dam *dam, struct db_version *out, struct dam_err *err)
{
	int rc;

	if (dam->in_request && dam->have_version) {
		db_data_version_own(dam->db, &dam->version);
		*out = dam->version;
		return 0;
	}
	/* The watcher's number stands for others; own still moves at this
	 * connection's commits at once, so the handle sees its own writes. */
	if (library_change_feed_read(dam->feed, &out->others))
		db_data_version_own(dam->db, out);
	else if ((rc = db_data_version(dam->db, out, err)) < 0)
		return rc;
	dam->version = *out;
	dam->have_version = dam->in_request;
	return 0;
}

void *library__cache(struct dam *dam, const struct library_cache_kind *kind)
{
	struct library_cache *slot;

	/* Slots fill from the front and are never freed before close, so the
	 * first free slot ends the search. */
	for (int i = 0; i < LIBRARY_CACHES_MAX; i++) {
		slot = &dam->caches[i];
		if (slot->kind == kind)
			return slot->cache;
		if (!slot->kind) {
			if (!(slot->cache = kind->create()))
				return NULL;
			slot->kind = kind;
			return slot->cache;
		}
	}
	return NULL;
}

void library_set_actor(struct dam *dam, const char *actor)
{
	snprintf(dam->actor, sizeof dam->actor, "%s", actor);
}

static int has_conf(const char *dir)
{
	char *p = join(dir, "dam.conf");
	int ok = access(p, F_OK) == 0;

	free(p);
	return ok;
}

int library_find(const char *explicit_dir, char **out, struct dam_err *err)
{
	const char *env = getenv("DAM_LIBRARY");
	char *dir;

	*out = NULL;
	if (explicit_dir || (env && *env)) {
		*out = fs_abspath(explicit_dir ? explicit_dir : env);
		return *out ? 0 : dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	}
	if (!(dir = fs_abspath(".")))
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	for (;;) {
		char *slash;
		if (has_conf(dir)) {
			*out = dir;
			return 0;
		}
		slash = strrchr(dir, '/');
		if (!slash || slash == dir)
			break;
		*slash = '\0';
	}
	free(dir);
	return dam_err_set(err, DAM_ENOTFOUND, NULL,
			   "no dam library here or in any parent folder; use --library DIR, set DAM_LIBRARY, or create one with: dam init DIR");
}

int library_ready(struct dam *dam, struct dam_err *db_err, struct dam_err *store_err)
{
	int64_t n = 0;
	int rc_db, rc_store;

	dam_err_clear(db_err);
	dam_err_clear(store_err);
	/* The engine's message may name the server or the file: the probe is
	 * public, so it says only that the database does not answer. */
	if ((rc_db = db_query_int(dam->db, &n, NULL, "SELECT count(*) FROM library", "")) < 0)
		rc_db = dam_err_set(db_err, DAM_EDB, "database", "the database does not answer");
	if ((rc_store = blob_store_check(dam->store, store_err)) < 0)
		snprintf(store_err->field, sizeof store_err->field, "store");
	return rc_db < 0 ? rc_db : rc_store;
}

int library_stats(struct dam *dam, json_t **out, struct dam_err *err)
{
	int64_t bytes = 0, blobs = 0, assets = 0, versions = 0;
	struct db_stmt *st;
	json_t *jobs = json_array();
	int rc;

	*out = NULL;
	if ((rc = db_query_int(dam->db, &bytes, err, "SELECT coalesce(sum(size),0) FROM blobs", "")) < 0 ||
	    (rc = db_query_int(dam->db, &blobs, err, "SELECT count(*) FROM blobs", "")) < 0 ||
	    (rc = db_query_int(dam->db, &assets, err, "SELECT count(*) FROM assets WHERE deleted_at IS NULL", "")) < 0 ||
	    (rc = db_query_int(dam->db, &versions, err, "SELECT count(*) FROM versions", "")) < 0 ||
	    (rc = db_query(dam->db, &st, err, "SELECT kind, state, count(*) FROM jobs GROUP BY kind, state", "")) < 0) {
		json_decref(jobs);
		return rc;
	}
	while ((rc = db_step(st, err)) == DB_ROW)
		json_array_append_new(jobs, json_pack("{s:s,s:s,s:I}", "kind", db_col_text(st, 0), "state", db_col_text(st, 1),
						      "count", (json_int_t)db_col_int(st, 2)));
	db_finalize(st);
	if (rc < 0) {
		json_decref(jobs);
		return rc;
	}
	*out = json_pack("{s:I,s:I,s:I,s:I,s:o}", "stored_bytes", (json_int_t)bytes, "blobs", (json_int_t)blobs,
			 "assets", (json_int_t)assets, "versions", (json_int_t)versions, "jobs", jobs);
	return 0;
}
