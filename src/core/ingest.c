#include "core/ingest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/asset.h"
#include "core/audit.h"
#include "core/fielddef.h"
#include "core/fsck.h"
#include "core/job.h"
#include "core/refs.h"
#include "core/template.h"
#include "util/fsutil.h"
#include "util/strbuf.h"
#include "util/timeutil.h"
#include "util/utf8.h"

const char *ingest_status_name(enum ingest_status s)
{
	switch (s) {
	case INGEST_ADDED: return "added";
	case INGEST_VERSION: return "version";
	case INGEST_DUPLICATE: return "duplicate";
	case INGEST_WOULD_ADD: return "would_add";
	case INGEST_FAILED: return "failed";
	}
	return "failed";
}

int ingest_opts_check(const struct ingest_opts *o, struct dam_err *err)
{
	for (int i = 0; i < o->ntags; i++)
		if (!asset_tag_valid(o->tags[i]))
			return dam_err_set(err, DAM_EINVAL, "tag", "invalid tag \"%.60s\"", o->tags[i]);
	for (int i = 0; i < o->nmeta; i++)
		if (!asset_field_key_valid(o->meta_keys[i]))
			return dam_err_set(err, DAM_EINVAL, o->meta_keys[i],
					   "invalid field name \"%.64s\": use 1-64 of a-z 0-9 _ . -", o->meta_keys[i]);
		else if (!utf8_valid(o->meta_values[i], strlen(o->meta_values[i])))
			return dam_err_set(err, DAM_EINVAL, o->meta_keys[i], "value of %s is not valid UTF-8",
					   o->meta_keys[i]);
	return 0;
}

/* Opens a regular, non-empty file for reading. */
static int open_source(const char *path, int *fd_out, uint64_t *size, struct dam_err *err)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	if (fd < 0) {
		if (errno == ELOOP)
			return dam_err_set(err, DAM_EINVAL, NULL, "symbolic link loop");
		return dam_err_errno(err, DAM_EIO, errno, "cannot open");
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return dam_err_set(err, DAM_EINVAL, NULL, "not a regular file");
	}
	if (st.st_size == 0) {
		close(fd);
		return dam_err_set(err, DAM_EINVAL, NULL, "file is empty");
	}
	/* O_NONBLOCK only kept open() from hanging on a FIFO swapped in. */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	*fd_out = fd;
	*size = (uint64_t)st.st_size;
	return 0;
}

/* The live or deleted asset whose version already holds these bytes. */
static int find_duplicate(struct dam *dam, const char *hash, char out[DAM_ID_LEN + 1], struct dam_err *err)
{
	struct db_stmt *st;
	int rc;

	if ((rc = db_query(dam->db, &st, err,
			   "SELECT v.asset_id FROM versions v JOIN assets a ON a.id = v.asset_id"
			   " WHERE v.blob_hash=? ORDER BY a.deleted_at IS NOT NULL, v.id LIMIT 1", "s", hash)) < 0)
		return rc;
	rc = db_step(st, err);
	if (rc == DB_ROW)
		snprintf(out, DAM_ID_LEN + 1, "%s", db_col_text(st, 0));
	db_finalize(st);
	return rc < 0 ? rc : rc == DB_ROW;
}

static int find_by_source(struct dam *dam, const char *source, char out[DAM_ID_LEN + 1], struct dam_err *err)
{
	struct db_stmt *st;
	int rc;

	if ((rc = db_query(dam->db, &st, err,
			   "SELECT id FROM assets WHERE source_path=? AND deleted_at IS NULL ORDER BY id DESC LIMIT 1",
			   "s", source)) < 0)
		return rc;
	rc = db_step(st, err);
	if (rc == DB_ROW)
		snprintf(out, DAM_ID_LEN + 1, "%s", db_col_text(st, 0));
	db_finalize(st);
	return rc < 0 ? rc : rc == DB_ROW;
}

struct names {
	struct strbuf name;   /* display name: base name, valid UTF-8 */
	struct strbuf source; /* absolute source path, valid UTF-8 */
};

/* Bytes from a disk become valid UTF-8 (legacy encodings are innocent);
 * what is left must pass the one name check, so a bidirectional override
 * is refused here whichever path brought the name. */
static int names_set(struct names *n, const char *name, const char *source, struct dam_err *err)
{
	strbuf_init(&n->name, 0);
	strbuf_init(&n->source, 0);
	utf8_sanitize(name, strlen(name), &n->name);
	if (!n->name.len)
		strbuf_adds(&n->name, "unnamed");
	if (source)
		utf8_sanitize(source, strlen(source), &n->source);
	return utf8_name_check(n->name.buf, n->name.len, DAM_NAME_MAX, "the file name", "filename", err);
}

static int names_init(struct names *n, const char *path, struct dam_err *err)
{
	char *abs = fs_abspath(path);
	const char *base = strrchr(path, '/');
	int rc = names_set(n, base ? base + 1 : path, abs, err);

	free(abs);
	return rc;
}

static void names_release(struct names *n)
{
	strbuf_release(&n->name);
	strbuf_release(&n->source);
}

static int add_user_tags_fields(struct dam *dam, const char *asset, const struct ingest_opts *o,
				struct dam_err *err)
{
	int64_t now = (int64_t)time_now_ms();
	int rc = 0;

	for (int i = 0; i < o->ntags && rc >= 0; i++)
		rc = db_run(dam->db, err,
			    "INSERT INTO tags(asset_id, tag, source, created_at) VALUES (?,?,'user',?)"
			    " ON CONFLICT DO NOTHING", "ssi", asset, o->tags[i], now);
	for (int i = 0; i < o->nmeta && rc >= 0; i++) {
		char *v = NULL; /* a vocabulary synonym is stored as its term */
		if ((rc = fielddef_canonical(dam, o->meta_keys[i], o->meta_values[i], &v, err)) == 0)
			rc = db_run(dam->db, err,
				    "INSERT INTO fields(asset_id, key, value, source, updated_at) VALUES (?,?,?,'user',?)"
				    " ON CONFLICT(asset_id, key) DO UPDATE SET value=excluded.value",
				    "sssi", asset, o->meta_keys[i], v, now);
		free(v);
	}
	return rc;
}

static json_t *version_json(const struct ingest_result *r, const char *name)
{
	return json_pack("{s:s,s:s,s:I,s:s,s:s,s:I}", "version_id", r->version_id, "name", name,
			 "number", (json_int_t)r->version_number, "hash", r->hash, "mime", r->sniff.mime,
			 "size", (json_int_t)r->size);
}

/* The fields and tags a new asset got, for its audit row. */
static void audit_meta(json_t *after, const struct template_meta *m)
{
	json_t *fields = json_object(), *tags = json_array();

	for (int i = 0; i < m->n; i++)
		json_object_set_new(fields, m->keys[i], json_string(m->values[i]));
	for (int i = 0; i < m->ntags; i++)
		json_array_append_new(tags, json_string(m->tags[i]));
	json_object_set_new(after, "fields", fields);
	json_object_set_new(after, "tags", tags);
}

/* Records the asset or version in one transaction. Returns 1 when the bytes
 * turned out to be a duplicate (res filled), 0 when recorded. */
static int record(struct dam *dam, const struct ingest_opts *o, const struct names *n,
		  const char *target, struct ingest_result *r, struct dam_err *err)
{
	const char *kind = media_kind_name(r->sniff.kind);
	int64_t now = (int64_t)time_now_ms(), number = 1;
	struct template_meta meta;
	struct ingest_opts eff;
	json_t *after = NULL;
	int rc;

	template_meta_init(&meta);

	if ((rc = db_begin(dam->db, err)) < 0)
		return rc;
	if ((rc = find_duplicate(dam, r->hash, r->duplicate_of, err)) != 0)
		goto fail; /* 1 = duplicate: nothing to record */
	id_new(r->version_id);
	if (target) {
		snprintf(r->asset_id, sizeof r->asset_id, "%s", target);
		if ((rc = db_query_int(dam->db, &number, err,
				       "SELECT coalesce(max(number),0)+1 FROM versions WHERE asset_id=?", "s", target)) < 0)
			goto fail;
	} else {
		id_new(r->asset_id);
		rc = db_run(dam->db, err,
			    "INSERT INTO assets(id, name, kind, source_path, created_at, updated_at, created_by)"
			    " VALUES (?,?,?,?,?,?,?)",
			    "ssssiis", r->asset_id, n->name.buf, kind, n->source.len ? n->source.buf : NULL, now, now,
			    o->user_id);
		/* Templates, file-name patterns and defaults join the user's
		 * fields and tags, all validated (core/template.h). */
		if (rc < 0 ||
		    (rc = template_apply_to_opts(dam, o, n->name.buf, n->source.len ? n->source.buf : NULL, &eff,
						 &meta, err)) < 0 ||
		    (rc = add_user_tags_fields(dam, r->asset_id, &eff, err)) < 0)
			goto fail;
	}
	r->version_number = (int)number;
	if ((rc = refs_add(dam, r->hash, r->size, err)) < 0)
		goto fail;
	rc = db_run(dam->db, err,
		    "INSERT INTO versions(id, asset_id, number, blob_hash, size, filename, mime, kind, format,"
		    " ext_mismatch, expected_ext, created_at, created_by) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
		    "ssisissssisis", r->version_id, r->asset_id, number, r->hash, (int64_t)r->size, n->name.buf,
		    r->sniff.mime, kind, r->sniff.format, (int64_t)r->sniff.ext_mismatch, r->sniff.ext_expected,
		    now, dam->actor);
	if (rc < 0)
		goto fail;
	rc = db_run(dam->db, err,
		    "UPDATE assets SET current_version_id=?, kind=?, updated_at=?,"
		    " source_path=coalesce(?, source_path) WHERE id=?",
		    "ssiss", r->version_id, kind, now, n->source.len ? n->source.buf : NULL, r->asset_id);
	if (rc < 0 || (rc = job_enqueue(dam, "process", r->version_id, o->priority, NULL, err)) < 0)
		goto fail;
	after = version_json(r, n->name.buf);
	if (!target)
		audit_meta(after, &meta);
	rc = audit_append(dam, target ? "version.create" : "asset.create", "asset", r->asset_id, NULL, after, err);
	json_decref(after);
	if (rc < 0)
		goto fail;
	template_meta_release(&meta);
	return db_commit(dam->db, err);
fail:
	db_rollback(dam->db);
	template_meta_release(&meta);
	return rc;
}

/* Decides where the file goes: a new asset (NULL), or a version of target. */
static int choose_target(struct dam *dam, const struct ingest_opts *o, const struct names *n,
			 char target[DAM_ID_LEN + 1], struct dam_err *err)
{
	int rc;

	if (o->new_version_of)
		return asset_resolve(dam, o->new_version_of, target, err) < 0 ? DAM_ENOTFOUND : 1;
	if (!o->versions_by_name)
		return 0;
	rc = find_by_source(dam, n->source.buf, target, err);
	return rc;
}

static int ingest_open_fd(struct dam *dam, int fd, const struct ingest_opts *o, const struct names *n,
			  struct ingest_result *r)
{
	char target[DAM_ID_LEN + 1];
	bool existed = false;
	struct library_lock lock;
	int rc, has_target;

	if ((rc = media_sniff_fd(fd, n->name.buf, &r->sniff, &r->err)) < 0)
		return rc;
	if ((has_target = choose_target(dam, o, n, target, &r->err)) < 0)
		return has_target;
	if (lseek(fd, 0, SEEK_SET) < 0)
		return dam_err_errno(&r->err, DAM_EIO, errno, "cannot read");
	if (o->dry_run) {
		if ((rc = blob_hash_fd(fd, r->hash, &r->size, &r->err)) < 0 ||
		    (rc = find_duplicate(dam, r->hash, r->duplicate_of, &r->err)) < 0)
			return rc;
		r->status = rc ? INGEST_DUPLICATE : INGEST_WOULD_ADD;
		return 0;
	}
	if ((rc = library_lock(dam, false, &lock, &r->err)) < 0)
		return rc;
	rc = blob_put_fd(dam->store, fd, r->hash, &r->size, &existed, &r->err);
	if (rc == 0)
		rc = record(dam, o, n, has_target ? target : NULL, r, &r->err);
	library_unlock(dam, &lock);
	if (rc < 0)
		return rc;
	r->status = rc == 1 ? INGEST_DUPLICATE : has_target ? INGEST_VERSION : INGEST_ADDED;
	return 0;
}

static int finish(int rc, struct ingest_result *r)
{
	if (rc < 0) {
		r->status = INGEST_FAILED;
		/* A database that cannot be written stops the batch; anything
		 * about this one file does not. */
		if (rc == DAM_EDB || rc == DAM_EUNAVAIL)
			return rc;
	}
	return 0;
}

int ingest_fd(struct dam *dam, int fd, const char *name, const char *source,
	      const struct ingest_opts *o, struct ingest_result *r)
{
	struct names n;
	int rc;

	memset(r, 0, sizeof *r);
	if ((rc = names_set(&n, name, source, &r->err)) == 0 && lseek(fd, 0, SEEK_SET) < 0)
		rc = dam_err_errno(&r->err, DAM_EIO, errno, "cannot read");
	else if (rc == 0)
		rc = ingest_open_fd(dam, fd, o, &n, r);
	names_release(&n);
	return finish(rc, r);
}

int ingest_partial(struct dam *dam, const char *partial, const char *hash, const char *name,
		   const struct ingest_opts *o, struct ingest_result *r)
{
	char target[DAM_ID_LEN + 1];
	struct names n;
	struct blob_reader *bytes = NULL;
	bool existed;
	struct library_lock lock = LIBRARY_LOCK_NONE;
	int rc, has_target = 0;

	memset(r, 0, sizeof *r);
	snprintf(r->hash, sizeof r->hash, "%s", hash);
	if ((rc = names_set(&n, name, NULL, &r->err)) < 0 ||
	    (rc = blob_partial_reader_open(dam->store, partial, &bytes, &r->err)) < 0)
		goto out;
	r->size = blob_reader_size(bytes);
	if ((rc = media_sniff_reader(bytes, n.name.buf, &r->sniff, &r->err)) < 0)
		goto out;
	if ((has_target = rc = choose_target(dam, o, &n, target, &r->err)) < 0)
		goto out;
	if ((rc = library_lock(dam, false, &lock, &r->err)) < 0)
		goto out;
	if ((rc = blob_partial_commit(dam->store, partial, hash, &existed, &r->err)) < 0)
		goto out;
	rc = record(dam, o, &n, has_target ? target : NULL, r, &r->err);
	if (rc >= 0)
		r->status = rc == 1 ? INGEST_DUPLICATE : has_target ? INGEST_VERSION : INGEST_ADDED;
out:
	library_unlock(dam, &lock);
	blob_reader_free(bytes);
	names_release(&n);
	return finish(rc < 0 ? rc : 0, r);
}

int ingest_file(struct dam *dam, const char *path, const struct ingest_opts *o, struct ingest_result *r)
{
	struct names n;
	uint64_t size;
	int fd = -1, rc;

	memset(r, 0, sizeof *r);
	if ((rc = names_init(&n, path, &r->err)) == 0 && (rc = open_source(path, &fd, &size, &r->err)) == 0)
		rc = ingest_open_fd(dam, fd, o, &n, r);
	if (fd >= 0)
		close(fd);
	names_release(&n);
	return finish(rc, r);
}

int ingest_unfinished(struct dam *dam, const char *const *ids, int n, json_t **out, struct dam_err *err)
{
	json_t *a = json_array();
	int rc = 0;

	for (int i = 0; i < n && rc >= 0; i++) {
		struct db_stmt *st;
		if ((rc = db_query(dam->db, &st, err,
				   "SELECT filename, asset_id, status, coalesce(error,'') FROM versions WHERE id=? AND status != 'ready'",
				   "s", ids[i])) < 0)
			break;
		if ((rc = db_step(st, err)) == DB_ROW)
			json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:s,s:s}", "version_id", ids[i], "filename",
							   db_col_text(st, 0), "asset_id", db_col_text(st, 1), "status",
							   db_col_text(st, 2), "error", db_col_text(st, 3)));
		db_finalize(st);
	}
	if (rc < 0) {
		json_decref(a);
		return rc;
	}
	*out = a;
	return 0;
}
